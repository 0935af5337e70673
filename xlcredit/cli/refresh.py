"""``xlcredit refresh``: what the workbook's Refresh Ageing button does, without Excel."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xlcredit.cli.app import app
from xlcredit.cli.common import (
    Column,
    LedgerAsOf,
    Out,
    base_policy,
    check_out,
    console,
    finish,
    parse_as_of,
    print_findings,
    print_notes,
    print_problems,
    show_table,
    user_errors,
    write_out,
)
from xlcredit.core.errors import XlcError

Workbook = Annotated[Path, typer.Argument(help="The CreditControl.xlsm workbook to refresh (updated in place).",
                                          show_default=False)]


@app.command()
def refresh(ctx: typer.Context, workbook: Workbook, as_of: LedgerAsOf = None, out: Out = None,
            db: Annotated[str | None, typer.Option(
                "--db", help="Credit database (file or URL); default: the workbook's xlwings.conf XLCREDIT_DB, "
                             "else the .credit.db beside the workbook.")] = None) -> None:
    """What the Refresh Ageing button does, without Excel: age, score, limit and dun; update the workbook.

    Reads the workbook's Customers, Invoices, Payments (Credit Notes, FX Rates) and Policy sheets,
    loads the credit database the Excel functions read, and rewrites only the Ageing sheet and the
    Dashboard figures — atomically, keeping the VBA project, buttons, inputs and formulas.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from xlcredit.core.portfolio import credit_rows
    from xlcredit.jobs.book import WorkbookFile
    from xlcredit.jobs.refresh import refresh as run_refresh

    with user_errors():
        day = parse_as_of(as_of)
        check_out(out)
        if not workbook.is_file():
            raise XlcError("workbook", f"file not found: {workbook}", str(workbook))
        base = base_policy(ctx)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console(), transient=True) as bar:
            task = bar.add_task("refreshing", total=None)
            outcome = run_refresh(WorkbookFile(workbook), day, store=db, base_policy=base,
                                  progress=lambda msg: bar.update(task, description=msg))
        print_notes(outcome.notes)
        print_findings(outcome.findings)
        portfolio = outcome.portfolio
        rows = credit_rows(portfolio)
        k = portfolio.kpis
        currency = k.currency
        show_table(f"Credit position ({currency}) as of {portfolio.as_of} — {workbook.name}", rows, [
            Column("customer_id", "Id"), Column("name", "Name", flexible=True), Column("grade", "Grade", "center"),
            # what a controller acts on first; on a narrow terminal the columns on the right give way (named on stderr)
            Column("limit", "Limit", "right", money=currency),
            Column("available", "Available", "right", money=currency),
            Column("overdue", "Overdue", "right", money=currency),
            Column("dunning_stage", "Dunning stage", flexible=True),
            Column("order_status", "Next order", flexible=True),
            Column("exposure", "Exposure", "right", money=currency)])
        console().print(
            f"Total AR {k.total_ar:,.2f} {currency} · overdue {_pct(k.overdue_share)} · DSO {_num(k.dso)} · "
            f"best DSO {_num(k.best_dso)} · ADD {_num(k.add)} · CEI {_num(k.cei)} %")
        console().print(f"Workbook updated: {workbook} · credit database: {outcome.store_url}")
        print_problems(outcome.problems)
        write_out(rows, out, sheet="Credit", formats={"deposit_share": "0%", "utilisation": "0%"})
        finish(len(rows), "customer", "refreshed", outcome.problems)


def _pct(share: object) -> str:
    return "n/a" if share is None else f"{float(share) * 100:.1f} %"  # display only


def _num(value: object) -> str:
    return "n/a" if value is None else str(value)
