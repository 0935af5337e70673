"""``xlcredit audit``: the annual policy audit — replay the ledger month end by month end under the policy, and
against a second policy (the stricter example ``strict`` or a TOML file), and show what each would have done."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from xlcredit.cli.app import app
from xlcredit.cli.common import (
    Column,
    base_policy,
    console,
    err_console,
    open_book,
    print_notes,
    print_problems,
    show_table,
    user_errors,
)
from xlcredit.core.coerce import to_date
from xlcredit.core.errors import XlcError

Source = Annotated[Path | None, typer.Argument(
    help="The CreditControl.xlsm workbook or a folder of tables (customers.csv, invoices.csv, payments.csv, "
         "credit_notes.csv, fx_rates.csv); default: the bundled sample.", show_default=False)]


@app.command()
def audit(ctx: typer.Context, source: Source = None,
          start: Annotated[str, typer.Option("--from", help="First day of the period audited (e.g. 2025-11-01).")]
          = "",
          end: Annotated[str, typer.Option("--to", help="Last day of the period audited (e.g. 2026-10-31).")] = "",
          against: Annotated[str | None, typer.Option(
              "--against", help="Policy B: 'strict' (the stricter example shipped with xlcredit) or a policy .toml "
                                "file; its settings apply over policy A (--policy, or the workbook's Policy sheet).")]
          = None,
          out: Annotated[Path | None, typer.Option(
              "--out", help="Also write the audit report (comparison, months, calibration, orders held, defaults, "
                            "with charts) to this file: .xlsx (every row) or .pdf (to read and print).")]
          = None) -> None:
    """The annual policy audit: what the policy — and a second one — would have decided at every month end of
    the period, from what was known then, against what happened afterwards.

    At each month end: grade, limit, terms, dunning step, and the order check on every invoice of the following
    month. Afterwards: invoices written off or unpaid 180 days after due (defaults), paid over 90 days late. For
    each policy: exposure at default it would have stopped by holding those orders, sales it would have held that
    were then paid on time (the cost of caution), early-warning lead time, default rate by grade, DSO, insured
    share of the bad debt it carries; then B − A.
    """
    from xlcredit.jobs.audit import comparison_rows, run_audit, shown_change, shown_value, write_report

    with user_errors():
        if not start.strip():
            raise XlcError("--from", "is required (the first day of the period, e.g. 2025-11-01)", start)
        if not end.strip():
            raise XlcError("--to", "is required (the last day of the period, e.g. 2026-10-31)", end)
        first, last = to_date(start, "--from"), to_date(end, "--to")
        if out is not None and out.suffix.lower() not in (".xlsx", ".pdf"):
            raise XlcError("--out", f"must end in .xlsx or .pdf (got {out.name})", str(out))
        if out is not None and not out.parent.exists():
            raise XlcError("--out", f"folder does not exist: {out.parent}", str(out))
        book = open_book(source, field="workbook")
        outcome = run_audit(book, first, last, base_policy=base_policy(ctx), against=against)
        result = outcome.audit
        print_notes(outcome.notes)
        cur = result.currency
        rows = comparison_rows(result)
        shown = [{"measure": r["measure"], "a": shown_value(r["a"], r["unit"]), "b": shown_value(r["b"], r["unit"]),
                  "change": shown_change(r["change"], r["unit"])} for r in rows]
        columns = [Column("measure", "Measure", flexible=True), Column("a", f"A: {result.a.name}", "right")]
        if result.b is not None:
            columns += [Column("b", f"B: {result.b.name}", "right"), Column("change", "B − A", "right")]
        show_table(f"Policy audit {result.month_ends[0]} to {result.month_ends[-1]} — {book.label} (money in {cur})",
                   shown, columns)
        if result.b is not None:
            console().print("What the differences mean:", style="bold")
            for r in rows:
                if r["meaning"]:
                    console().print(f"  {r['measure']}: {r['meaning']}", soft_wrap=True)
        cal = [{"grade": r.grade, "a": _rate(r.observations, r.defaults, r.rate)}
               for r in result.a.measures.calibration]
        if result.b is not None:
            for row, r in zip(cal, result.b.measures.calibration, strict=True):
                row["b"] = _rate(r.observations, r.defaults, r.rate)
        cal_cols = [Column("grade", "Grade"), Column("a", "A: defaults / customer-months", "right")]
        if result.b is not None:
            cal_cols.append(Column("b", "B: defaults / customer-months", "right"))
        show_table("Default rate by grade within a year of each month end (calibration)", cal, cal_cols)
        if out is not None:
            path = write_report(result, out, source=book.label, notes=outcome.notes)
            err_console().print(f"wrote the audit report to {path}")
        for p in result.problems:
            err_console().print(p, style="yellow", soft_wrap=True)
        print_problems(outcome.problems)
        console().print(f"{len(result.month_ends)} month ends replayed under "
                        f"{'two policies' if result.b is not None else 'the policy'}; "
                        f"{_count(sum(1 for o in result.outcomes if o.default_date), 'invoice')} defaulted, "
                        f"{sum(1 for o in result.outcomes if o.late_over_90)} paid over 90 days late",
                        soft_wrap=True)


def _rate(n: int, k: int, rate: Decimal | None) -> str:
    return "—" if rate is None else f"{k} / {n} = {rate * 100:.1f} %"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"
