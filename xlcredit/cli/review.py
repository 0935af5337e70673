"""``xlcredit review``: what the workbook's Review Portfolio button does."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from xlcredit.cli.app import app
from xlcredit.cli.common import (
    Column,
    LedgerAsOf,
    Out,
    base_policy,
    check_out,
    console,
    err_console,
    finish,
    fmt_amount,
    open_book,
    parse_as_of,
    print_notes,
    print_problems,
    show_table,
    user_errors,
    write_out,
)
from xlcredit.core.money import minor_units

WorkbookOrLedger = Annotated[Path | None, typer.Argument(
    help="The CreditControl.xlsm workbook (its Review sheet is updated), or a folder of ledger files "
         "(customers, invoices, payments, credit_notes, fx_rates as .csv/.parquet/.xlsx); "
         "default: the bundled sample.", show_default=False)]


@app.command()
def review(ctx: typer.Context, source: WorkbookOrLedger = None, as_of: LedgerAsOf = None, out: Out = None,
           db: Annotated[str | None, typer.Option(
               "--db", help="Credit database holding the review history (file or URL); default: the workbook's "
                            "(none for a folder or the sample).")] = None,
           dry_run: Annotated[bool, typer.Option(
               "--dry-run", help="Show the review only: write nothing to the workbook or the database.")] = False,
           show_all: Annotated[bool, typer.Option("--all", help="List every customer, not only those due.")] = False,
           actions: Annotated[Path | None, typer.Option(
               "--actions", help="Also write the action list (reviews to hold, insurer deadlines) to this .csv or "
                                 ".xlsx file.")] = None,
           ) -> None:
    """What the Review Portfolio button does: reviews due, early warnings, insurance, provision, cash forecast.

    Lists the customers due for a periodic or special review with the evidence, trade-credit insurance
    deadlines (missed ones loudly), the IFRS 9 provision matrix from the ledger's roll rates and the
    weekly collection forecast. With a workbook, also writes its Review sheet and records the reviews
    in the credit database (so the next run knows what changed since).
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    from xlcredit.data.sample import SAMPLE_AS_OF
    from xlcredit.jobs.review import review as run_review

    with user_errors():
        day = parse_as_of(as_of) or (SAMPLE_AS_OF if source is None else None)   # None: the file's newest date
        check_out(out)
        check_out(actions)
        book = open_book(source)
        base = base_policy(ctx)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console(), transient=True) as bar:
            task = bar.add_task("reviewing", total=None)
            outcome = run_review(book, day, store=db, base_policy=base, record=not dry_run, write=not dry_run,
                                 progress=lambda msg: bar.update(task, description=msg))
        print_notes(outcome.notes)
        result = outcome.review
        day = result.as_of
        cur = result.currency
        rows = result.rows()
        listed = rows if show_all else [r for r in rows if r["review"]]
        show_table(f"Portfolio review as of {day} — {book.label} ({len(result.due)} of {len(rows)} due)", listed, [
            Column("customer_id", "Id"), Column("name", "Name", flexible=True), Column("grade", "Grade", "center"),
            Column("review", "Review"), Column("warnings", "Warnings", flexible=True),
            Column("last_review", "Last review"), Column("next_review", "Next review")])
        insured = [{"customer_id": cid, "insurer": s.insurer, "insured_limit": s.insured_limit,
                    "above_cover": s.above_cover, "expected_indemnity": s.expected_indemnity,
                    "note": "; ".join(_deadline_words(s, cur))} for cid, s in result.insurance.items()]
        if insured:
            show_table(f"Credit insurance ({cur})", insured, [
                Column("customer_id", "Id"), Column("insurer", "Insurer", flexible=True),
                Column("insured_limit", "Insured limit", "right", money=cur),
                Column("above_cover", "Above cover", "right", money=cur),
                Column("expected_indemnity", "Indemnity on claim", "right", money=cur),
                Column("note", "Deadlines", flexible=True)])
        missed = sum(len(s.missed) for s in result.insurance.values())
        if missed:
            err_console().print(Text(f"{missed} insurer deadline{'s' if missed != 1 else ''} MISSED — cover at risk "
                                     "(see Deadlines)", style="bold red"))
        lines = [{"bucket": ln.label, "gross": ln.gross, "rate": f"{ln.loss_rate * 100:.4f} %", "ecl": ln.ecl}
                 for ln in result.provision.by_bucket.lines]
        lines.append({"bucket": "Total", "gross": result.provision.total_gross, "rate": "",
                      "ecl": result.provision.total_ecl})
        show_table(f"IFRS 9 provision matrix ({cur}; {result.matrix.source}, forward factor "
                   f"{result.matrix.forward_factor})", lines, [
            Column("bucket", "Days past due"), Column("gross", "Gross amount", "right", money=cur),
            Column("rate", "Loss rate", "right"), Column("ecl", "Lifetime ECL", "right", money=cur)])
        weeks = [{"week": r["week"], "start": r["start"], "end": r["end"], "amount": r["amount"], "items": r["items"]}
                 for r in result.forecast.rows()]
        show_table(f"Expected collections per week ({cur})", weeks, [
            Column("week", "Week", "right"), Column("start", "From"), Column("end", "To"),
            Column("amount", "Amount", "right", money=cur), Column("items", "Invoices", "right")])
        if not dry_run and outcome.store_url:
            console().print(f"{outcome.recorded} reviews recorded in {outcome.store_url}")
        print_problems(outcome.problems)
        write_out(rows, out, sheet="Review", formats={"utilisation": "0%"})
        write_out(result.action_rows(), actions, sheet="Actions")
        finish(len(rows), "customer", "reviewed", outcome.problems)


def _deadline_words(status: Any, currency: str) -> list[str]:
    """The insurer deadlines of one customer (the words of ``InsuranceStatus.alerts``), amounts with thousands
    separators in the company currency's decimals."""
    places = minor_units(currency)
    out = [f"MISSED: {d.action} by {d.date.isoformat()} — invoice {d.invoice_no} ({fmt_amount(d.amount, places)}); "
           "cover at risk" for d in status.missed]
    out += [f"due {d.date.isoformat()}: {d.action} — invoice {d.invoice_no} ({fmt_amount(d.amount, places)})"
            for d in status.coming_due]
    return out
