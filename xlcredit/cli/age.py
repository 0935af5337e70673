"""``xlcredit age``: the aged trial balance of a ledger, per customer and currency, with totals.

Input (``LEDGER…``): one workbook with Invoices / Payments / Credit Notes / FX Rates sheets, or
several files recognised by name (``invoices.csv``, ``payments.csv``, ``credit_notes.csv``,
``fx_rates.csv``; also .xlsx/.parquet) or by their columns — see
:func:`xlcredit.io.ledger.load_ledger_files`. With no ``LEDGER`` the bundled sample is aged as of
its own date, 2026-10-31. Without an FX table, rows in other currencies have no company-currency
figures and there is no company-currency total.

Output: a table per (customer, currency) — buckets, open invoices, unapplied cash and balance in
the document currency, and the balance in the company currency — closed by a TOTAL row in the
company currency (sums of the rounded rows, so it reconciles exactly). ``--out`` writes every
column (.csv or .xlsx). Bad rows are listed on stderr and the good rows are aged. A progress bar
(stderr, only on a terminal) follows reading and the allocation customer by customer.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from xlcredit.cli.app import app
from xlcredit.cli.common import (
    AsOf,
    Column,
    Out,
    check_out,
    console,
    err_console,
    finish,
    get_policy,
    parse_as_of,
    print_problems,
    show_table,
    today,
    user_errors,
    write_out,
)
from xlcredit.core.ageing import AgeingReport, age_positions
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.openitems import Position, allocate
from xlcredit.io.ledger import LedgerLoad, load_ledger, load_ledger_files

BY_OPTIONS = {"due-date": "due_date", "due_date": "due_date", "due": "due_date",
              "invoice-date": "invoice_date", "invoice_date": "invoice_date", "invoice": "invoice_date"}
_FREEZE_FROM = 200_000  # documents: beyond this the loaded ledger is moved out of the garbage collector's way


def parse_by(text: str | None) -> str | None:
    """``--by``: due-date (default) or invoice-date."""
    if text is None:
        return None
    key = text.strip().lower()
    if key not in BY_OPTIONS:
        raise XlcError("--by", f"must be due-date or invoice-date (got {describe(text)})", text)
    return BY_OPTIONS[key]


LedgerFiles = Annotated[list[Path] | None, typer.Argument(
    help="One workbook with Invoices/Payments(/Credit Notes/FX Rates) sheets, or files recognised by name or "
         "columns: invoices.csv payments.csv credit_notes.csv fx_rates.csv (.xlsx/.parquet too); "
         "default: the bundled sample.", show_default=False)]


@app.command()
def age(ctx: typer.Context, ledger: LedgerFiles = None, as_of: AsOf = None,
        by: Annotated[str | None, typer.Option("--by", help="Age by due-date (default) or invoice-date.")] = None,
        out: Out = None) -> None:
    """Age the receivables: open items per customer and currency in the policy's buckets, with totals."""
    with user_errors():
        run_age(ctx, ledger, as_of=as_of, by=by, out=out)


def _load(paths: Sequence[Path], policy: Any) -> tuple[LedgerLoad, str, dt.date]:
    if not paths:
        from xlcredit.data.sample import SAMPLE_AS_OF, sample_path

        load = load_ledger(sample_path("invoices"), sample_path("payments"), sample_path("credit_notes"),
                           policy=policy, fx_rates=sample_path("fx_rates"))
        return load, "bundled sample", SAMPLE_AS_OF
    for path in paths:
        if not path.exists():
            raise XlcError("ledger file", f"not found: {path}", str(path))
    label = paths[0].name if len(paths) == 1 else f"{len(paths)} files"
    return load_ledger_files(paths, policy=policy), label, today()


def _allocate(load: LedgerLoad, day: dt.date, bar: Progress) -> dict[tuple[str, str], Position]:
    """Allocate customer by customer (the rule works per customer and currency), advancing the bar."""
    parts = load.ledger.by_customer()
    task = bar.add_task("allocating payments", total=len(parts))
    positions: dict[tuple[str, str], Position] = {}
    for sub in parts.values():
        positions.update(allocate(sub, day))
        bar.advance(task)
    return dict(sorted(positions.items()))


def _rows(report: AgeingReport) -> list[dict[str, Any]]:
    ccy = report.company_currency
    rows: list[dict[str, Any]] = [
        {"customer_id": r.customer_id, "currency": r.currency, **r.buckets, "open_total": r.open_total,
         "unapplied_cash": r.unapplied_cash, "balance": r.balance, "balance_company": r.balance_company}
        for r in report.rows]
    total = report.totals
    if total is not None:
        rows.append({"customer_id": "TOTAL", "currency": ccy, **total.buckets, "open_total": total.open_total,
                     "unapplied_cash": total.unapplied_cash, "balance": total.balance,
                     "balance_company": total.balance})
    return rows


def run_age(ctx: typer.Context, ledger: Sequence[Path] | None, *, as_of: str | None, by: str | None,
            out: Path | None) -> None:
    """The body of ``xlcredit age`` (see the module docstring); XlcError propagates to ``user_errors``."""
    given = parse_as_of(as_of)
    basis = parse_by(by)
    check_out(out)
    policy = get_policy(ctx)
    paths = list(ledger or [])
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console(), transient=True) as bar:
        reading = bar.add_task("reading the ledger", total=None)
        load, label, default_day = _load(paths, policy)
        bar.update(reading, total=1, completed=1)
        documents = len(load.ledger.invoices) + len(load.ledger.payments) + len(load.ledger.credit_notes)
        if documents >= _FREEZE_FROM:
            gc.freeze()  # millions of long-lived records: spare the collector from walking them again and again
        day = given or default_day
        positions = _allocate(load, day, bar)
    report = age_positions(positions, day, policy, load.fx, basis)
    ccy = report.company_currency
    basis_text = "due date" if report.by == "due_date" else "invoice date"
    columns = [Column("customer_id", "Customer"), Column("currency", "Ccy")]
    columns += [Column(label_, label_, "right") for label_ in report.labels]
    columns += [Column("open_total", "Open", "right"), Column("unapplied_cash", "Unapplied", "right"),
                Column("balance", "Balance", "right"), Column("balance_company", f"Balance {ccy}", "right")]
    show_table(f"Ageing by {basis_text} as of {day} — {label}", _rows(report), columns)
    total = report.totals
    if total is not None and total.open_total:
        overdue = total.overdue / total.open_total * 100
        console().print(f"Open {total.open_total:,.2f} {ccy} · overdue {overdue:.1f} % · disputed "
                        f"{total.disputed:,.2f} · unapplied cash {total.unapplied_cash:,.2f} · balance "
                        f"{total.balance:,.2f} {ccy}")
    elif total is None:
        missing = sorted({r.currency for r in report.rows if r.buckets_company is None})
        err_console().print(Text(f"no FX rates given: no {ccy} total for {', '.join(missing)} (add fx_rates.csv)",
                                 style="yellow"))
    _print_notes(load, positions)
    print_problems(load.problems)
    write_out(report.to_records(), out, sheet="Ageing")
    finish(len(report.rows), "account", "aged", load.problems)


def _print_notes(load: LedgerLoad, positions: dict[tuple[str, str], Position]) -> None:
    notes = [n for pos in positions.values() for n in pos.notes if "names an invoice dated" in n]
    # (references naming no invoice at all were reported with the rows already)
    if load.derived_due_dates:
        n = load.derived_due_dates
        notes.insert(0, f"{n} blank due date{'s were' if n != 1 else ' was'} set from the payment terms "
                        "(invoice date + net days)")
    for note in notes:
        err_console().print(Text(f"note: {note}", style="yellow"), soft_wrap=True)
