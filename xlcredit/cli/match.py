"""``xlcredit match``: bank statements matched to open items (cash application), applied with ``--apply``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from xlcredit.cli.app import app
from xlcredit.cli.common import (
    Column,
    check_out,
    console,
    open_book,
    parse_as_of,
    print_notes,
    print_problems,
    show_table,
    user_errors,
    write_out,
)
from xlcredit.core.errors import XlcError

_BOOK_SUFFIXES = (".xlsm", ".xlsx")


@app.command()
def match(paths: Annotated[list[Path], typer.Argument(
              help="Statement files (CAMT.053/054 .xml, MT940, bank CSV), then optionally the CreditControl.xlsm "
                   "workbook or a folder of CSV tables (default: the bundled sample).", show_default=False)],
          as_of: Annotated[str | None, typer.Option("--as-of", help="Open items as of this date (YYYY-MM-DD); "
                                                    "default: the newest document date of the book.")] = None,
          out: Annotated[Path | None, typer.Option("--out", help="Write the proposals to .csv or .xlsx.")] = None,
          accounts: Annotated[Path | None, typer.Option(
              "--accounts", help="CSV of the customers' bank accounts (customer_id, iban, name); default: "
                                 "bank_accounts.csv in the folder.")] = None,
          threshold: Annotated[float, typer.Option("--threshold", help="Confidence at or above which a match is "
                                                   "applied without review (0.9 = the table's 90 %).")] = 0.9,
          tolerance: Annotated[str, typer.Option("--charges", help="A payment this much short of the invoices "
                                                 "is taken as paid less bank charges.")] = "25.00",
          charges_as: Annotated[str, typer.Option(
              "--charges-as", help="What a bank-charge shortfall becomes: residual (stays open on the invoice) "
                                   "or write-off (a credit note in credit_notes.csv).")] = "residual",
          apply: Annotated[bool, typer.Option("--apply", help="Append the confident matches to the folder's "
                                              "payments.csv or the workbook's Payments table (never twice).")]
          = False,
          db: Annotated[str | None, typer.Option(
              "--db", help="Credit database whose register holds the letters' payment references (file or URL); "
                           "default: beside the workbook, or out/letters/xlcredit.credit.db (where xlcredit "
                           "letters writes by default) for a folder of tables.")] = None) -> None:
    """Match incoming bank transactions to open items: RF reference, invoice numbers in the text, payer, amount.

    A payment quoting a letter's own RF reference is matched to exactly that letter's invoices (the register says
    which); a statement's reference is the customer's, for everything open.
    Each transaction gets a proposal (customer, invoices, confidence, reason). Those at or above --threshold are
    'auto'; the rest are for review and never applied. Duplicates across overlapping statements are recognised by
    bank reference. With --apply the automatic ones are appended to payments.csv (a folder) or the Payments table
    (a workbook, as its Apply Matches button does) with invoice ref. and bank reference, atomically; running again on
    the same statement adds nothing.
    """
    from xlcredit.cli.letters import DEFAULT_OUT
    from xlcredit.core.cashapp import CashSettings
    from xlcredit.core.money import to_decimal
    from xlcredit.jobs.book import FolderBook, WorkbookFile
    from xlcredit.jobs.cashapp import (
        apply_matches,
        apply_to_workbook,
        load_accounts,
        proposal_rows,
        run_match,
        unreferenced,
        unreferenced_line,
    )
    from xlcredit.jobs.letters import FOLDER_REGISTER_DB

    with user_errors():
        check_out(out)
        when = parse_as_of(as_of)
        statements, target = list(paths), None
        if len(statements) > 1 and (statements[-1].is_dir() or statements[-1].suffix.lower() in _BOOK_SUFFIXES):
            target = statements.pop()
        book = open_book(target, field="workbook", register=DEFAULT_OUT / FOLDER_REGISTER_DB)
        if target is None:
            from xlcredit.data.sample import SAMPLE_AS_OF

            when = when or SAMPLE_AS_OF   # the sample's own date, as elsewhere
        if apply and not ((isinstance(book, FolderBook) and book.folder is not None) or isinstance(book, WorkbookFile)):
            raise XlcError("--apply", "writes the payments.csv of a folder of tables or the Payments table of a "
                                      "workbook; give one (the bundled sample is not written)", str(target or ""))
        if apply and isinstance(book, WorkbookFile) and charges_as.strip().lower().replace("-", "_") == "write_off":
            raise XlcError("--charges-as", "write-off writes credit_notes.csv of a folder; with a workbook the "
                                           "charges stay open on the invoice (enter a write-off in its Credit Notes "
                                           "table)", charges_as)
        charge = to_decimal(tolerance, "--charges", allow_negative=False)
        assert isinstance(charge, Decimal)
        settings = CashSettings(auto_threshold=threshold, charge_tolerance=charge,
                                charges=charges_as.strip().lower().replace("-", "_"))
        outcome = run_match(statements, book, as_of=when, accounts=load_accounts(accounts), settings=settings, store=db)
        print_notes(outcome.notes)
        for read in outcome.reads:   # what was read, and from which columns (as inspect shows a ledger's mapping)
            columns = ", ".join(f"{k} ← {v}" for k, v in (read.columns or {}).items())
            print_notes([f"{read.source}: {read.format}, {len(read.transactions)} transactions"
                         + (f"; columns: {columns}" if columns else "")])
        rows = proposal_rows(outcome.proposals)
        show_table(f"Bank matches as of {outcome.as_of} — {book.label}", rows, [
            Column("bank_reference", "Bank ref"), Column("date", "Date"), Column("amount", "Amount", "right"),
            Column("currency", "Cur"), Column("customer_id", "Customer"), Column("status", "Status"),
            Column("confidence", "Conf", "right", percent=True), Column("invoices", "Invoices", flexible=True),
            Column("reason", "Reason", flexible=True)])  # status before the invoices: it still shows at 80 columns
        print_problems(outcome.problems)
        write_out(rows, out, sheet="Matches")
        summary = (f"{len(rows)} transactions: {outcome.count('auto')} matched, {outcome.count('review')} for "
                   f"review, {outcome.count('unmatched')} unmatched, {outcome.count('duplicate')} duplicates, "
                   f"{outcome.count('not a credit')} not credits")
        console().print(summary)
        if apply:
            if isinstance(book, WorkbookFile):
                added, where = apply_to_workbook(book.path, outcome.proposals), f"the Payments table of {book.path}"
            else:
                assert isinstance(book, FolderBook) and book.folder is not None
                added, where = apply_matches(book.folder, outcome.proposals), str(book.folder / "payments.csv")
            console().print(f"{added} payment row{'s' if added != 1 else ''} appended to {where}" if added
                            else "nothing new to apply")
            print_notes([f"not applied: {unreferenced_line(p)}" for p in unreferenced(outcome.proposals)])
