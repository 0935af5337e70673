"""``xlcredit statements``: statements of account for a period, what the workbook's Statements button does."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xlcredit.cli.app import app
from xlcredit.cli.common import Column, base_policy, console, open_book, print_problems, show_table, user_errors
from xlcredit.core.coerce import to_date
from xlcredit.core.errors import XlcError

StatementsSource = Annotated[Path | None, typer.Argument(
    help="The CreditControl.xlsm workbook or a folder of CSV tables (customers.csv, invoices.csv, payments.csv, "
         "…); default: the bundled sample.", show_default=False)]


@app.command()
def statements(ctx: typer.Context, source: StatementsSource = None,
               date_from: Annotated[str, typer.Option("--from", help="First day of the period, YYYY-MM-DD.",
                                                      show_default=False)] = "",
               date_to: Annotated[str, typer.Option("--to", help="Last day of the period, YYYY-MM-DD.",
                                                    show_default=False)] = "",
               customer: Annotated[str | None, typer.Option(
                   "--customer", help="Only this customer (its id); default: every customer with a balance or "
                                      "activity in the period.")] = None,
               out: Annotated[Path, typer.Option("--out", help="Folder for the statements (.docx and .pdf).")]
               = Path("out") / "letters",
               dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be written.")] = False,
               templates: Annotated[Path | None, typer.Option(
                   "--templates", help="Folder of your own templates (<lang>/statement.txt); missing files fall "
                                       "back to the shipped ones.")] = None,
               db: Annotated[str | None, typer.Option(
                   "--db", help="Credit database (file or URL); default: beside the workbook, or "
                                "xlcredit.credit.db in --out for a folder of tables.")] = None) -> None:
    """Statements of account (.docx + .pdf, in each customer's language) for a period.

    Each statement shows the opening balance, the invoices, payments and credit notes of the period, the
    closing balance, the open items with their age and an ageing summary. Statements are recorded in the
    collection register, so xlcredit send can e-mail them; running again for the same period writes nothing
    new unless the figures changed.
    """
    from xlcredit.jobs.letters import FOLDER_REGISTER_DB
    from xlcredit.jobs.statements import run_statements

    with user_errors():
        if not date_from.strip():
            raise XlcError("--from", "is required: the first day of the period, e.g. --from 2026-10-01", None)
        if not date_to.strip():
            raise XlcError("--to", "is required: the last day of the period, e.g. --to 2026-10-31", None)
        start, end = to_date(date_from, "--from"), to_date(date_to, "--to")
        if start > end:
            raise XlcError("--from", f"is after --to ({start} > {end})", date_from)
        book = open_book(source, field="workbook", register=Path(out) / FOLDER_REGISTER_DB)
        if templates is not None and not templates.is_dir():
            raise XlcError("--templates", f"folder not found: {templates}", str(templates))
        outcome = run_statements(book, start, end, out, customer=customer, store=db, templates=templates,
                                 dry_run=dry_run, base_policy=base_policy(ctx), who="command line")
        for line in outcome.recovered:
            console().print(f"recovered: {line}")
        rows = [{"customer_id": r.customer_id, "name": r.name, "language": r.language, "closing": r.closing,
                 "status": r.status, "file": Path(r.pdf).name if r.pdf else ""} for r in outcome.results]
        show_table(f"Statements of account {start} to {end} — {book.label}", rows, [
            Column("customer_id", "Id"), Column("name", "Name", flexible=True), Column("language", "Lang", "center"),
            Column("closing", "Closing balance", "right"), Column("status", "Status"),
            Column("file", "File", flexible=True)])
        print_problems(outcome.problems)
        if dry_run:
            console().print("dry run: nothing was written")
        else:
            console().print(f"Statements in {out} · register: {outcome.store_url}")
        written = outcome.count("would write" if dry_run else "written")
        console().print(f"{written} statement{'s' if written != 1 else ''} "
                        f"{'would be written' if dry_run else 'written'}, "
                        f"{outcome.count('already written')} already written, {outcome.count('failed')} failed")
