"""The annual policy audit over a book: replay its ledger under policy A (and B) and write the report.

Policy A is the book's policy (its Policy sheet over ``base_policy``, the shipped policy by default); policy B
(``against``) is ``"strict"`` — the stricter example shipped in ``xlcredit/data/policies/strict.toml`` — or a
TOML file, applied over policy A (a file that names only a few settings changes only those). Write-offs come
from the tables: an invoices column ``written_off`` (true/yes/1/x), and credit notes with a true ``write_off``
(or ``written_off``) column or a ``reason``/``type`` column saying "write-off". The calculation is
:func:`xlcredit.core.audit.audit`.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd

from xlcredit.core.audit import Audit, PolicyReplay, audit
from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import RowProblem
from xlcredit.core.policy import Policy
from xlcredit.jobs.book import Book, read_book

#: The example policies shipped in the package (``--against NAME``).
SHIPPED = ("strict",)
_TRUE = {"true", "yes", "y", "1", "x", "1.0"}


@dataclass(frozen=True)
class AuditOutcome:
    """The audit, the names of the two policies, the bad rows of the book and notes on what was assumed."""

    audit: Audit
    problems: tuple[RowProblem, ...]
    notes: tuple[str, ...]


def shipped_policy_path(name: str) -> Path:
    """The file of a shipped example policy (``strict`` → ``xlcredit/data/policies/strict.toml``)."""
    return Path(str(files("xlcredit") / "data" / "policies" / f"{name}.toml"))


def policy_b(against: str, policy_a: Policy) -> tuple[Policy, str]:
    """Policy B over policy A, and its name: a shipped example (``strict``) or a TOML file."""
    text = against.strip()
    if text.lower() in SHIPPED:
        path, name = shipped_policy_path(text.lower()), text.lower()
    else:
        path, name = Path(text), Path(text).stem
        if not path.is_file():
            raise XlcError("against", f"is neither a shipped policy ({', '.join(SHIPPED)}) nor a file: {text}", text)
    return Policy.from_toml(path.read_text(encoding="utf-8"), policy_a), name


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in _TRUE


def _column(df: pd.DataFrame, *names: str) -> str | None:
    lower = {str(c).strip().lower().replace(" ", "_").replace("-", "_"): c for c in df.columns}
    return next((lower[n] for n in names if n in lower), None)


def write_offs(tables: Mapping[str, pd.DataFrame]) -> tuple[set[tuple[str, str]], set[str]]:
    """Invoices flagged as written off, (customer_id, invoice_no), and the numbers of write-off credit notes."""
    flagged: set[tuple[str, str]] = set()
    notes: set[str] = set()
    inv = tables.get("invoices")
    if inv is not None and (col := _column(inv, "written_off", "write_off")) is not None:
        cid, no = _column(inv, "customer_id"), _column(inv, "invoice_no")
        if cid is not None and no is not None:
            for c, n, flag in zip(inv[cid], inv[no], inv[col], strict=True):
                if _truthy(flag):
                    flagged.add((str(c).strip(), str(n).strip()))
    cn = tables.get("credit_notes")
    if cn is not None and (no := _column(cn, "credit_note_no")) is not None:
        flag_col = _column(cn, "write_off", "written_off")
        reason_col = _column(cn, "reason", "type", "kind")
        for i in range(len(cn)):
            flag = flag_col is not None and _truthy(cn[flag_col].iloc[i])
            said = reason_col is not None and "write" in str(cn[reason_col].iloc[i]).lower().replace(" ", "")
            if flag or said:
                notes.add(str(cn[no].iloc[i]).strip())
    return flagged, notes


def run_audit(book: Book, start: dt.date, end: dt.date, *, base_policy: Policy | None = None,
              against: str | None = None, against_toml: tuple[str, str] | None = None,
              observed_to: dt.date | None = None) -> AuditOutcome:
    """Replay the book's ledger from ``start`` to ``end`` under its policy (A) and ``against`` (B: a shipped name or
    a file) or ``against_toml`` (B: its name and TOML text, as uploaded to the service)."""
    tables = book.read_tables()
    data = read_book(tables, book.read_policy_rows(), base_policy)
    if against_toml is not None:
        name_b, text = against_toml
        b: Policy | None = Policy.from_toml(text, data.policy)
    elif against is not None:
        b, name_b = policy_b(against, data.policy)
    else:
        b, name_b = None, "B"
    if name_b.strip().lower() == "current":   # a file named current.toml: the columns of A and B must differ
        name_b = f"{name_b} (B)"
    flagged, notes_wo = write_offs(tables)
    result = audit(data.customers, data.ledger, data.policy, start, end, policy_b=b, fx=data.fx,
                   observed_to=observed_to, written_off=flagged, write_off_notes=notes_wo,
                   names=("current", name_b))
    notes = [f"{len(result.month_ends)} month ends from {result.month_ends[0]} to {result.month_ends[-1]}; "
             f"what happened afterwards is read up to {result.observed_to}, the newest document in {book.label}"]
    if not flagged and not notes_wo:
        notes.append("no write-offs marked in the tables (written_off column, write-off credit notes): defaults "
                     "are the invoices unpaid 180 days after due")
    horizon = result.month_ends[-1] + dt.timedelta(days=365)
    if result.observed_to < horizon:
        notes.append(f"the year after the last month ends reaches past {result.observed_to}: later defaults "
                     f"are not known yet")
    return AuditOutcome(result, data.problems, tuple(notes))


# --------------------------------------------------------------------------- rows for tables and sheets
def comparison_rows(result: Audit) -> list[dict[str, Any]]:
    """The measures side by side (policy A, policy B, B − A, what it means)."""
    a, b = result.a.measures, None if result.b is None else result.b.measures
    rows: list[dict[str, Any]] = []

    def row(measure: str, name: str, unit: str) -> None:
        x = getattr(a, name)
        y = None if b is None else getattr(b, name)
        diff = next((d for d in result.differences if d.measure == measure), None)
        numeric = isinstance(x, (int, Decimal)) and isinstance(y, (int, Decimal)) \
            and not isinstance(x, bool) and not isinstance(y, bool)
        rows.append({"measure": measure, "unit": unit, "a": x, "b": y, "change": y - x if numeric else None,
                     "meaning": "" if diff is None else diff.meaning})

    row("Orders checked", "orders", "count")
    row("Sales checked", "orders_amount", "money")
    row("Orders held", "held_orders", "count")
    row("Sales held", "held_amount", "money")
    row("Orders asked for a deposit only", "deposit_orders", "count")
    row("Orders that later defaulted", "defaulted_orders", "count")
    row("Exposure at default of those orders", "ead_total", "money")
    row("Defaulted orders stopped", "stopped_orders", "count")
    row("Exposure at default stopped", "ead_stopped", "money")
    row("Exposure at default carried", "ead_carried", "money")
    row("Orders held, then paid on time", "caution_orders", "count")
    row("Cost of caution (held, then paid on time)", "caution_amount", "money")
    row("Customers defaulting in the period", "defaulted_customers", "count")
    row("Defaulted customers warned about", "warned_customers", "count")
    row("Defaulted customers missed", "missed_customers", "count")
    row("Early-warning lead time (days, average)", "lead_days", "days")
    row("DSO (days)", "dso", "days")
    row("DSO as it happened (days)", "actual_dso", "days")
    row("Insured part of the carried exposure at default", "insured_carried", "money")
    row("Insured share of the carried exposure at default", "insured_share", "share")
    row("Default rate rises from A to E", "monotonic", "yes/no")
    return rows


def calibration_rows(result: Audit) -> list[dict[str, Any]]:
    """Default rate by grade for each policy (customer-months, defaults within a year, rate)."""
    out: list[dict[str, Any]] = []
    for replay in (result.a, result.b):
        if replay is None:
            continue
        for r in replay.measures.calibration:
            out.append({"policy": replay.name, "grade": r.grade, "customer_months": r.observations,
                        "defaults_within_a_year": r.defaults, "default_rate": r.rate})
    return out


def month_rows(result: Audit) -> list[dict[str, Any]]:
    """Exposure, orders held and the exposure at default carried, by month end and policy."""
    b_months = {m.month_end: m for m in result.b.months} if result.b is not None else {}
    out: list[dict[str, Any]] = []
    for m in result.a.months:
        row: dict[str, Any] = {"month_end": m.month_end, "exposure": m.exposure,
                               f"held_{result.a.name}": m.held_amount, f"held_orders_{result.a.name}": m.held_orders,
                               f"ead_carried_{result.a.name}": m.ead_carried}
        if result.b is not None:
            mb = b_months[m.month_end]
            row.update({f"held_{result.b.name}": mb.held_amount, f"held_orders_{result.b.name}": mb.held_orders,
                        f"ead_carried_{result.b.name}": mb.ead_carried})
        out.append(row)
    return out


def order_rows(replay: PolicyReplay) -> list[dict[str, Any]]:
    """Every order a policy would have held, with its reasons."""
    return [{"policy": replay.name, "month_end": c.month_end, "customer_id": c.customer_id,
             "invoice_no": c.invoice_no, "invoice_date": c.invoice_date, "amount": c.amount, "status": c.status}
            for c in replay.orders if c.held]


def default_rows(result: Audit) -> list[dict[str, Any]]:
    """The invoices that defaulted and those paid more than 90 days late."""
    return [{"customer_id": o.customer_id, "invoice_no": o.invoice_no, "invoice_date": o.invoice_date,
             "due_date": o.due_date, "amount": o.amount, "outcome": o.default_reason or "paid over 90 days late",
             "default_date": o.default_date, "exposure_at_default": o.ead if o.default_date else None,
             "days_late": o.days_late}
            for o in result.outcomes if o.default_date is not None or o.late_over_90]


def shown_value(value: Any, unit: str) -> str:
    """A comparison figure as shown in tables and reports: money with two decimals, shares in %, days to 0.1."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if unit == "money":
        return f"{Decimal(value):,.2f}"
    if unit == "share":
        return f"{Decimal(value) * 100:.1f} %"
    if unit == "days":
        return f"{Decimal(value):,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def shown_change(value: Any, unit: str) -> str:
    """B − A with its sign; a change of a share in percentage points."""
    if value is None or isinstance(value, bool):
        return ""
    sign = "+" if value > 0 else ""
    if unit == "share":
        return f"{sign}{Decimal(value) * 100:.1f} pts"
    return sign + shown_value(value, unit)


# --------------------------------------------------------------------------- the .xlsx report
def write_report(result: Audit, path: Path, *, source: str = "", notes: tuple[str, ...] = ()) -> Path:
    """The audit report, atomically: an .xlsx file (Comparison, Months with a chart, Calibration with a chart,
    Orders held, Defaults) or a .pdf (the comparison and its meaning, the charts, calibration and defaults —
    :mod:`xlcredit.jobs.audit_pdf`); the file name's ending decides."""
    out = Path(path)
    if out.suffix.lower() == ".pdf":
        from xlcredit.jobs.audit_pdf import write_pdf_report

        return write_pdf_report(result, out, source=source, notes=notes)
    if out.suffix.lower() != ".xlsx":
        raise XlcError("out", f"must end in .xlsx or .pdf (got {out.name})", str(out))
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference

    if not out.parent.exists():
        raise XlcError("out", f"folder does not exist: {out.parent}", str(out))
    wb = Workbook()
    sheets = [("Comparison", comparison_rows(result)), ("Months", month_rows(result)),
              ("Calibration", calibration_rows(result)),
              ("Orders held", order_rows(result.a) + ([] if result.b is None else order_rows(result.b))),
              ("Defaults", default_rows(result))]
    first = True
    for title, rows in sheets:
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = title
        columns = list(rows[0]) if rows else ["(none)"]
        if title == "Comparison" and result.b is not None:
            header = [c if c not in ("a", "b") else (result.a.name if c == "a" else result.b.name) for c in columns]
        else:
            header = columns
        ws.append(header)
        for r in rows:
            ws.append([_cell(r.get(c)) for c in columns])
        for col in ws.iter_cols(min_row=2):
            for cell in col:
                if isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
        ws.freeze_panes = "A2"
    months = wb["Months"]
    if months.max_row > 1:
        chart = LineChart()
        chart.title, chart.y_axis.title = "Sales held and exposure at default carried, by month end", result.currency
        heads = [c.value for c in months[1]]
        for k, head in enumerate(heads, start=1):
            if str(head).startswith(("held_", "ead_carried_")) and not str(head).startswith("held_orders_"):
                chart.add_data(Reference(months, min_col=k, min_row=1, max_row=months.max_row), titles_from_data=True)
        chart.set_categories(Reference(months, min_col=1, min_row=2, max_row=months.max_row))
        months.add_chart(chart, f"A{months.max_row + 3}")
    cal = wb["Calibration"]
    if cal.max_row > 1:
        bar = BarChart()
        bar.title, bar.y_axis.title = "Default rate by grade (within a year)", "rate"
        bar.add_data(Reference(cal, min_col=5, min_row=1, max_row=cal.max_row), titles_from_data=True)
        bar.set_categories(Reference(cal, min_col=1, max_col=2, min_row=2, max_row=cal.max_row))
        cal.add_chart(bar, "G2")
    return save_atomically(out, wb.save)


def save_atomically(out: Path, save: Callable[[str], Any]) -> Path:
    """Write a report through ``save(temporary path)`` beside ``out``, then put it in place in one step: a failed
    or interrupted write leaves the old file as it was and no temporary file behind."""
    fd, tmp = tempfile.mkstemp(suffix=out.suffix, dir=out.parent)
    os.close(fd)
    try:
        save(tmp)
        os.replace(tmp, out)
    except PermissionError:
        Path(tmp).unlink(missing_ok=True)
        raise XlcError("out", f"cannot write {out} (is it open in Excel or a PDF viewer?)", str(out)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


__all__ = ["SHIPPED", "AuditOutcome", "calibration_rows", "comparison_rows", "default_rows", "month_rows",
           "order_rows", "policy_b", "run_audit", "save_atomically", "shipped_policy_path", "shown_change",
           "shown_value", "write_offs", "write_report"]
