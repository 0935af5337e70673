"""``xlcredit age``: the aged trial balance of a ledger, per customer and currency, with totals.

Input (``LEDGER…``): one workbook with Invoices / Payments / Credit Notes / FX Rates sheets (or any
sheets, told apart by their columns), or several files recognised by name (``invoices.csv``,
``payments.csv``, ``credit_notes.csv``, ``fx_rates.csv``, ``customers.csv``; also .xlsx/.parquet) or by
their columns — an ERP's open-item report alone is enough — see
:func:`xlcredit.io.ledger.load_ledger_files`. With no ``LEDGER`` the bundled sample is aged as of
its own date, 2026-10-31. ``--dates`` settles dd/mm against mm/dd when a file does not; what the
reader decided (open-item column, date order, rows skipped) is printed as notes. Without an FX
table, rows in other currencies have no company-currency figures and there is no company-currency
total; a currency the FX table has no rate for is aged in its own currency and left out of the
company-currency total, which says so. With a customers table (``--customers``, a customers file
among the ledger files, or the sample's), invoices of customers it does not have are listed.

Output: a table per (customer, currency) — buckets, open invoices, unapplied cash and balance in
the document currency, and the balance in the company currency — closed by a TOTAL row in the
company currency (sums of the rounded rows, so it reconciles exactly). ``--out`` writes every
column (.csv or .xlsx). Bad rows are listed on stderr and the good rows are aged. A progress bar
(stderr, only on a terminal) follows reading and the allocation customer by customer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from xlcredit.cli.app import app
from xlcredit.cli.common import (
    Column,
    LedgerAsOf,
    Out,
    check_out,
    console,
    err_console,
    finish,
    get_policy,
    parse_as_of,
    print_notes,
    print_problems,
    show_table,
    today,
    user_errors,
    write_out,
)
from xlcredit.core.ageing import AgeingReport, age_positions
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.money import round_money
from xlcredit.core.openitems import Position, allocate
from xlcredit.io.ledger import CustomerIndex, LedgerLoad, load_ledger, load_ledger_files, parse_date_order
from xlcredit.jobs.book import as_of_for

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


Dates = Annotated[str | None, typer.Option(
    "--dates", help="How dd/mm/yyyy dates are written: day-first, month-first or iso (default: read from the "
                    "whole column).")]
CustomersOption = Annotated[Path | None, typer.Option(
    "--customers", help="Customers table: names in the ledger are matched to its ids, and invoices of customers "
                        "it does not have are listed.")]


@app.command()
def age(ctx: typer.Context, ledger: LedgerFiles = None, as_of: LedgerAsOf = None,
        by: Annotated[str | None, typer.Option("--by", help="Age by due-date (default) or invoice-date.")] = None,
        dates: Dates = None, customers: CustomersOption = None, out: Out = None,
        engine: Annotated[str, typer.Option("--engine", help="numpy (this process, default) or dask: Parquet "
                                            "invoices/payments/credit_notes aged on a Dask cluster.")] = "numpy",
        scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address "
                                                      "(tcp://host:8786); default: a local cluster.")] = None) -> None:
    """Age the receivables: open items per customer and currency in the policy's buckets, with totals."""
    with user_errors():
        if engine.strip().lower() == "dask":
            run_age_dask(ctx, ledger, as_of=as_of, out=out, scheduler=scheduler)
            return
        if engine.strip().lower() != "numpy":
            raise XlcError("--engine", f"must be numpy or dask (got {describe(engine)})", engine)
        if scheduler is not None:
            raise XlcError("--scheduler", "is for --engine dask only", scheduler)
        run_age(ctx, ledger, as_of=as_of, by=by, out=out, dates=dates, customers=customers)


def run_age_dask(ctx: typer.Context, ledger: Sequence[Path] | None, *, as_of: str | None, out: Path | None,
                 scheduler: str | None) -> None:
    """``--engine dask``: Parquet files or folders named invoices*, payments*, credit_notes* → age_frames on Dask."""
    from xlcredit.bulk import age_frames

    check_out(out)
    tables: dict[str, Path] = {}
    for path in ledger or []:
        name = next((t for t in ("invoices", "payments", "credit_notes") if path.name.lower().startswith(t)), None)
        if name is None:
            raise XlcError("ledger file", "with --engine dask, name Parquet files or folders invoices…, payments…, "
                           f"credit_notes… (got {path.name})", str(path))
        tables[name] = path
    if "invoices" not in tables:
        raise XlcError("ledger file", "with --engine dask, an invoices Parquet file or folder is needed", None)
    policy = get_policy(ctx)
    day = parse_as_of(as_of) or today()
    table = age_frames(tables["invoices"], tables.get("payments"), credit_notes=tables.get("credit_notes"),
                       as_of=day, policy=policy, engine="dask", scheduler=scheduler)
    labels = policy.bucket_labels
    columns = [Column("customer_id", "Customer"), Column("currency", "Ccy")]
    columns += [Column(label_, label_, "right", money="currency") for label_ in labels]
    columns += [Column(c, c.capitalize(), "right", money="currency")
                for c in ("open", "interest", "unapplied", "balance")]
    rows = table.to_dict("records")
    show_table(f"Ageing by due date as of {day} — Dask", rows, columns)
    problems = table.attrs["problems"]
    for p in problems:
        err_console().print(Text(f"{p.table} row {p.row + 1}: {p.column}: {p.problem}", style="yellow"),
                            soft_wrap=True)
    write_out(rows, out, sheet="Ageing")
    finish(len(rows), "account", "aged", problems)


def _load(paths: Sequence[Path], policy: Any, dates: str | None = None,
          customers: Path | None = None) -> tuple[LedgerLoad, str, dt.date | None]:
    if customers is not None and not customers.exists():
        raise XlcError("customers file", f"not found: {customers}", str(customers))
    if not paths:
        from xlcredit.data.sample import SAMPLE_AS_OF, sample_path
        from xlcredit.io.tables import read_customers

        people = read_customers(customers or sample_path("customers"), default_currency=policy.company.currency)
        known = CustomerIndex.of(people.customers)
        load = load_ledger(sample_path("invoices"), sample_path("payments"), sample_path("credit_notes"),
                           policy=policy, fx_rates=sample_path("fx_rates"), dates=dates, customers=known)
        return dataclasses.replace(load, customers=known), "bundled sample", SAMPLE_AS_OF
    for path in paths:
        if not path.exists():
            raise XlcError("ledger file", f"not found: {path}", str(path))
    label = paths[0].name if len(paths) == 1 else f"{len(paths)} files"
    return load_ledger_files(paths, policy=policy, dates=dates, customers=customers), label, None   # as of the file


def _allocate(load: LedgerLoad, day: dt.date, bar: Progress) -> dict[tuple[str, str], Position]:
    """Allocate customer by customer (the rule works per customer and currency), advancing the bar."""
    parts = load.ledger.by_customer()
    task = bar.add_task("allocating payments", total=len(parts))
    positions: dict[tuple[str, str], Position] = {}
    for sub in parts.values():
        positions.update(allocate(sub, day))
        bar.advance(task)
    return dict(sorted(positions.items()))


def _age(positions: dict[tuple[str, str], Position], day: dt.date, policy: Any, fx: Any,
         basis: str | None) -> tuple[AgeingReport, dict[str, str]]:
    """The ageing; a currency the FX table has no rate for is aged in its own currency only (currency → why)."""
    company = policy.company.currency
    no_rate: dict[str, str] = {}
    if fx is not None:
        for ccy in sorted({c for _cid, c in positions if c != company}):
            try:
                fx.rate(ccy, day)
            except XlcError as exc:
                no_rate[ccy] = exc.problem
    if not no_rate:
        return age_positions(positions, day, policy, fx, basis), {}
    rated = age_positions({k: p for k, p in positions.items() if k[1] not in no_rate}, day, policy, fx, basis)
    unrated = age_positions({k: p for k, p in positions.items() if k[1] in no_rate}, day, policy, None, basis)
    rows = tuple(sorted((*rated.rows, *unrated.rows), key=lambda r: (r.customer_id, r.currency)))
    return dataclasses.replace(rated, rows=rows, positions=dict(positions)), no_rate


def _partial_total(report: AgeingReport) -> dict[str, Any]:
    """The company-currency total of the rows that have company-currency figures."""
    ccy = report.company_currency
    zero = round_money(Decimal(0), ccy)
    rows = [r for r in report.rows if r.buckets_company is not None]
    buckets = {label: sum((r.buckets_company[label] for r in rows), zero) for label in report.labels}  # type: ignore[index]
    open_total = sum(buckets.values(), zero)
    unapplied = sum((r.unapplied_company for r in rows), zero)  # type: ignore[misc]
    return {"customer_id": "TOTAL", "currency": ccy, **buckets, "open_total": open_total,
            "unapplied_cash": unapplied, "balance": open_total - unapplied, "balance_company": open_total - unapplied}


def _rows(report: AgeingReport, no_rate: dict[str, str] | None = None) -> list[dict[str, Any]]:
    ccy = report.company_currency
    rows: list[dict[str, Any]] = [
        {"customer_id": r.customer_id, "currency": r.currency, **r.buckets, "open_total": r.open_total,
         "unapplied_cash": r.unapplied_cash, "balance": r.balance, "balance_company": r.balance_company}
        for r in report.rows]
    if no_rate:
        total_row = _partial_total(report)
        total_row["customer_id"] = f"TOTAL without {', '.join(no_rate)}"
        rows.append(total_row)
        return rows
    total = report.totals
    if total is not None:
        rows.append({"customer_id": "TOTAL", "currency": ccy, **total.buckets, "open_total": total.open_total,
                     "unapplied_cash": total.unapplied_cash, "balance": total.balance,
                     "balance_company": total.balance})
    return rows


def run_age(ctx: typer.Context, ledger: Sequence[Path] | None, *, as_of: str | None, by: str | None,
            out: Path | None, dates: str | None = None, customers: Path | None = None) -> None:
    """The body of ``xlcredit age`` (see the module docstring); XlcError propagates to ``user_errors``."""
    given = parse_as_of(as_of)
    basis = parse_by(by)
    order = None if dates is None else parse_date_order(dates)
    check_out(out)
    policy = get_policy(ctx)
    paths = list(ledger or [])
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console(), transient=True) as bar:
        reading = bar.add_task("reading the ledger", total=None)
        load, label, default_day = _load(paths, policy, order, customers)
        bar.update(reading, total=1, completed=1)
        documents = len(load.ledger.invoices) + len(load.ledger.payments) + len(load.ledger.credit_notes)
        if documents >= _FREEZE_FROM:
            gc.freeze()  # millions of long-lived records: spare the collector from walking them again and again
        day, note = as_of_for(load.ledger, given or default_day, label)
        positions = _allocate(load, day, bar)
    print_notes([] if note is None else [note])
    report, no_rate = _age(positions, day, policy, load.fx, basis)
    ccy = report.company_currency
    basis_text = "due date" if report.by == "due_date" else "invoice date"
    columns = [Column("customer_id", "Customer"), Column("currency", "Ccy")]
    columns += [Column(label_, label_, "right", money="currency") for label_ in report.labels]
    columns += [Column("open_total", "Open", "right", money="currency"),
                Column("unapplied_cash", "Unapplied", "right", money="currency"),
                Column("balance", "Balance", "right", money="currency"),
                Column("balance_company", f"Balance {ccy}", "right", money=ccy)]
    show_table(f"Ageing by {basis_text} as of {day} — {label}", _rows(report, no_rate), columns)
    total = report.totals
    if no_rate:
        _print_without_rate(report, no_rate)
    elif total is not None and total.open_total:
        overdue = total.overdue / total.open_total * 100
        console().print(f"Open {total.open_total:,.2f} {ccy} · overdue {overdue:.1f} % · disputed "
                        f"{total.disputed:,.2f} · unapplied cash {total.unapplied_cash:,.2f} · balance "
                        f"{total.balance:,.2f} {ccy}")
    elif total is None:
        missing = sorted({r.currency for r in report.rows if r.buckets_company is None})
        err_console().print(Text(f"no FX rates given: no {ccy} total for {', '.join(missing)} (add fx_rates.csv)",
                                 style="yellow"))
    _print_notes(load, positions)
    _print_unknown_customers(load, report)
    print_problems(load.problems)
    write_out(report.to_records(), out, sheet="Ageing")
    finish(len(report.rows), "account", "aged", load.problems)


def _print_notes(load: LedgerLoad, positions: dict[tuple[str, str], Position]) -> None:
    notes = [*load.notes, *(n for pos in positions.values() for n in pos.notes if "names an invoice dated" in n)]
    # (references naming no invoice at all were reported with the rows already)
    if load.derived_due_dates:
        n = load.derived_due_dates
        notes.insert(len(load.notes), f"{n} blank due date{'s were' if n != 1 else ' was'} set from the payment terms "
                        "(invoice date + net days)")
    for note in notes:
        err_console().print(Text(f"note: {note}", style="yellow"), soft_wrap=True)


def _print_without_rate(report: AgeingReport, no_rate: dict[str, str]) -> None:
    """Say which currencies the company-currency total leaves out, why, and what they hold."""
    totals = report.currency_totals
    for ccy, why in no_rate.items():
        held = totals[ccy].open_total if ccy in totals else Decimal(0)
        err_console().print(Text(f"{why}: the {ccy} accounts are aged in {ccy} only and left out of the "
                                 f"{report.company_currency} total ({ccy} {_amount_text(held)} open)", style="yellow"),
                            soft_wrap=True)


def _amount_text(amount: Decimal) -> str:
    """4100 → "4,100", 4100.5 → "4,100.50" (cents only when there are any)."""
    return f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


def unknown_customer_lines(load: LedgerLoad, report: AgeingReport) -> list[str]:
    """"unknown customer K999: 2 items, EUR 4,100" for each ledger customer the customers table lacks."""
    known = load.customers
    if known is None:
        return []
    lines = []
    for cid in sorted({r.customer_id for r in report.rows if r.customer_id not in known.ids}):
        rows = [r for r in report.rows if r.customer_id == cid]
        items = sum(r.open_items for r in rows)
        money = ", ".join(f"{r.currency} {_amount_text(r.open_total)}" for r in rows if r.open_items)
        lines.append(f"unknown customer {cid}: {items} item{'s' if items != 1 else ''}" + (f", {money}" if money
                                                                                          else " open"))
    return lines


def _print_unknown_customers(load: LedgerLoad, report: AgeingReport) -> None:
    lines = unknown_customer_lines(load, report)
    for line in lines:
        console().print(Text(f"{line} (aged above; not in the customers table)", style="yellow"), soft_wrap=True)
