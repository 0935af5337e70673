"""``xlcredit inspect FILE…``: how each file and sheet would be read — before anything is computed.

Per file (per sheet of a workbook): the table recognised (invoices, payments, credit notes, FX rates,
customers), which column feeds which field, the columns ignored, the date order and number format found,
the rows read, loaded and skipped (title, blank, total rows, customer headings, cleared items) and the
first problems. Nothing is aged or written. Exit 1 when no file holds a table that can be used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from xlcredit.cli.app import app
from xlcredit.cli.common import EXIT_NOTHING_DONE, console, get_policy, user_errors
from xlcredit.core.errors import XlcError, describe
from xlcredit.io.ledger import TableInfo, inspect_files, parse_date_order, skipped_text

FIRST_PROBLEMS = 5   # problems shown per table (the count says how many there are)

Files = Annotated[list[Path], typer.Argument(help="Table files (.csv, .xlsx, .xlsm, .parquet) to look at.",
                                             show_default=False)]
Dates = Annotated[str | None, typer.Option(
    "--dates", help="How dd/mm/yyyy dates are written: day-first, month-first or iso (default: read from the "
                    "whole column).")]


@app.command()
def inspect(ctx: typer.Context, files: Files, dates: Dates = None) -> None:
    """Show how each file and sheet is read (table, columns, dates, numbers, rows skipped) without computing."""
    with user_errors():
        order = None if dates is None else parse_date_order(dates)
        for path in files:
            if not path.exists():
                raise XlcError("file", f"not found: {path}", str(path))
        tables = inspect_files(files, policy=get_policy(ctx), dates=order)
    for info in tables:
        show(info)
    usable = [t for t in tables if t.table != "unknown" and t.rows_loaded]
    console().print(f"{len(usable)} usable table{'s' if len(usable) != 1 else ''} in {len(files)} "
                    f"file{'s' if len(files) != 1 else ''}")
    if not usable:
        raise typer.Exit(EXIT_NOTHING_DONE)


def show(info: TableInfo) -> None:
    """Print one table's reading, a block of plain lines."""
    out = console()
    kind = "not recognised" if info.table == "unknown" else info.table.replace("_", " ")
    out.print(Text(f"{info.label}: {kind}", style="bold"))
    if info.columns:
        out.print("  columns: " + ", ".join(f"{header!r} → {field}" for field, header in info.columns.items()),
                  soft_wrap=True)
    if info.ignored:
        out.print("  ignored: " + ", ".join(repr(h) for h in info.ignored), soft_wrap=True)
    for header, how in info.date_order.items():
        out.print(f"  dates in {header!r}: {how}", soft_wrap=True)
    for header, how in info.number_format.items():
        out.print(f"  amounts in {header!r}: {how}", soft_wrap=True)
    if info.table != "unknown" or info.rows_read:
        skipped = f", skipped {skipped_text(info.skipped)}" if info.skipped else ""
        out.print(f"  rows: {info.rows_read} read, {info.rows_loaded} usable{skipped}, "
                  f"{len({p.row for p in info.problems})} with problems", soft_wrap=True)
    for note in info.notes:
        if not note.startswith("dates: "):   # the date order is shown above
            out.print(Text(f"  note: {note}", style="yellow"), soft_wrap=True)
    for p in info.problems[:FIRST_PROBLEMS]:
        value = "(blank)" if p.value is None else describe(p.value)
        out.print(Text(f"  problem: row {p.row}, {p.column}: {value}: {p.problem}", style="red"), soft_wrap=True)
    if len(info.problems) > FIRST_PROBLEMS:
        out.print(f"  … and {len(info.problems) - FIRST_PROBLEMS} more problems")
