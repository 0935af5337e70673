"""The xlwings side of the workbook's buttons: ``RunPython`` entry points over the open workbook.

Each button's VBA sub (``workbook/vba/CreditControl.bas``) calls one function here with
``RunPython "import xlcredit.excel as x; x.refresh_ageing()"``. The work itself is the same job the
command line runs (:mod:`xlcredit.jobs`); this module only adapts the open workbook
(:class:`XlwingsBook`) and reports errors in a message box instead of a traceback.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from xlcredit.core.errors import XlcError
from xlcredit.io import workbook as wb
from xlcredit.io.store import workbook_store

TITLE = "xlcredit"


class XlwingsBook:
    """A workbook open in Excel, as a :class:`xlcredit.jobs.book.Book` (tables in, output sheets out)."""

    def __init__(self, book: Any) -> None:
        self.book = book

    @property
    def label(self) -> str:
        return str(self.book.name)

    def _sheet(self, name: str) -> Any | None:
        names = [s.name for s in self.book.sheets]
        return self.book.sheets[name] if name in names else None

    def read_tables(self) -> Mapping[str, pd.DataFrame]:
        out: dict[str, pd.DataFrame] = {}
        for spec in wb.INPUT_TABLES:
            sheet = self._sheet(spec.sheet)
            if sheet is None:
                if spec.required:
                    raise XlcError(spec.sheet, "sheet not found", spec.sheet)
                continue
            tables = {t.name: t for t in sheet.tables}
            rng = tables[spec.table].range if spec.table in tables else sheet.range("A1").expand()
            frame = rng.options(pd.DataFrame, index=False, header=True).value
            frame = frame.rename(columns=lambda c: c if c in wb.CUSTOMER_FORMULA_COLUMNS else wb.field_name(str(c)))
            if spec.key == "customers":
                frame = frame.drop(columns=[c for c in wb.CUSTOMER_FORMULA_COLUMNS if c in frame.columns])
            out[spec.key] = frame
        return out

    def read_policy_rows(self) -> list[tuple[str, Any]]:
        sheet = self._sheet(wb.POLICY_SHEET)
        if sheet is None:
            return []
        values = sheet.range("A1").expand("down").resize(column_size=2).value or []
        rows = values if values and isinstance(values[0], list) else [values]
        return [(str(k).strip(), v) for k, v in rows
                if k is not None and str(k).strip() and not str(k).strip().startswith("#")
                and str(k).strip().lower() not in ("setting", "key")]

    def write_outputs(self, outputs: Mapping[str, pd.DataFrame], cells: Mapping[tuple[str, str], Any]) -> None:
        for name, frame in outputs.items():
            spec = wb.OUTPUT_SHEETS.get(name)
            if spec is None:
                raise XlcError("output sheet", f"is not an output sheet (got {name!r})", name)
            sheet = self.book.sheets[name]
            sheet.range(f"A{spec.header_row}").expand().clear_contents()
            data = [[wb.header_text(str(c)) for c in frame.columns]]   # headers in words, as the file writer does
            data += [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
            sheet.range(f"A{spec.header_row}").value = data
        for (sheet_name, ref), value in cells.items():
            if (sheet_name, ref) not in wb.OUTPUT_CELLS:
                raise XlcError("output cell", f"{sheet_name}!{ref} is not an output cell", ref)
            self.book.sheets[sheet_name].range(ref).value = _cell(value)

    def default_store(self) -> str:
        configured = None
        conf = self._sheet(wb.CONF_SHEET)
        if conf is not None:
            values = conf.range("A1").expand("down").resize(column_size=2).value or []
            rows = values if values and isinstance(values[0], list) else [values]
            configured = {str(k): v for k, v in rows if k is not None}.get("XLCREDIT_DB")
        return workbook_store(self.book.fullname, configured)


def _cell(value: Any) -> Any:
    """Excel takes floats, not Decimals; blanks stay blank."""
    if isinstance(value, Decimal):
        return float(value)
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value


def _caller() -> Any:
    import xlwings as xw

    return xw.Book.caller()


def _run(action: Callable[[Any], str | None], book: Any | None = None) -> None:
    """Run a button's job; any problem becomes a message box, never a VBA error dialog with a traceback."""
    book = book if book is not None else _caller()
    try:
        message = action(book)
    except XlcError as exc:
        message = f"#XLC! {exc}"
    except Exception as exc:  # the user must see every failure in plain words
        message = f"#XLC! internal: {type(exc).__name__}: {exc}"
    if message:
        book.app.alert(message, title=TITLE)


def refresh_ageing(book: Any | None = None, as_of: dt.date | None = None) -> None:
    """Refresh Ageing button: the same job as ``xlcredit refresh``, on the open workbook, then recalculate."""
    from xlcredit.jobs.refresh import refresh

    def action(b: Any) -> str | None:
        outcome = refresh(XlwingsBook(b), as_of or dt.date.today())
        b.app.calculate()
        if outcome.problems:
            lines = [f"row {p.row} {p.column}: {p.problem}" if p.row else f"{p.value}: {p.column}: {p.problem}"
                     for p in outcome.problems[:15]]
            more = len(outcome.problems) - len(lines)
            return (f"Refreshed {len(outcome.portfolio.customers)} customers; {len(outcome.problems)} rows had "
                    "problems and were left out:\n" + "\n".join(lines) + (f"\n… and {more} more" if more else ""))
        return None

    _run(action, book)


def generate_letters(book: Any | None = None, as_of: dt.date | None = None, out_dir: str | Path | None = None) -> None:
    """Generate Letters button: the same job as ``xlcredit letters`` on the open workbook.

    Letters go to the ``Letters`` folder beside the workbook (``out_dir`` to change it); the Letters
    sheet then shows the collection register, and a message box says what was issued.
    """
    from xlcredit.jobs.letters import run_letters

    def action(b: Any) -> str | None:
        target = Path(out_dir) if out_dir else Path(b.fullname).parent / "Letters"
        outcome = run_letters(XlwingsBook(b), as_of or dt.date.today(), target, who="Excel")
        issued = outcome.count("issued")
        skipped = outcome.count("already issued")
        actions = outcome.count("issued", "action")
        lines = [f"{issued} letter(s) written to {target}; {skipped} already issued earlier; "
                 f"{actions} new action(s) on the register."]
        lines += [f"{p.value}: {p.column}: {p.problem}" for p in outcome.problems[:10]]
        lines += [f"note: {note}" for note in outcome.notes[:10]]   # e.g. no FX rate: dunned in its own currency
        return "\n".join(lines)

    _run(action, book)


def review_portfolio(book: Any | None = None, as_of: dt.date | None = None) -> None:
    """Review Portfolio button: the same job as ``xlcredit review``, on the open workbook.

    Fills the Review sheet (and the Dashboard's forecast figures), records the reviews in the credit
    database, and says in a message box how many customers are due and which insurer deadlines were missed.
    """
    from xlcredit.jobs.review import review

    def action(b: Any) -> str | None:
        outcome = review(XlwingsBook(b), as_of or dt.date.today())
        result = outcome.review
        special = sum(1 for c in result.due if c.special)
        missed = sum(len(s.missed) for s in result.insurance.values())
        lines = [f"Reviewed {len(result.cases)} customers: {len(result.due)} due for review ({special} special).",
                 f"Provision (IFRS 9): {result.provision.total_ecl:,.2f} {result.currency}; "
                 f"expected collections over {len(result.forecast.weeks)} weeks: "
                 f"{result.forecast.forecast_total:,.2f} {result.currency}."]
        if missed:
            lines.append(f"INSURER DEADLINES MISSED: {missed} (cover at risk) — see the Review sheet.")
        if outcome.problems:
            shown = [f"row {p.row} {p.column}: {p.problem}" if p.row else f"{p.value}: {p.column}: {p.problem}"
                     for p in outcome.problems[:10]]
            more = len(outcome.problems) - len(shown)
            lines.append(f"{len(outcome.problems)} rows had problems and were left out:\n" + "\n".join(shown)
                         + (f"\n… and {more} more" if more else ""))
        return "\n".join(lines)

    _run(action, book)


def worklist(book: Any | None = None, as_of: dt.date | None = None) -> None:
    """Worklist button: the same job as ``xlcredit worklist``, on the open workbook.

    Ranks every customer with open items (the Promises, Disputes, Plans and Contacts sheets and the credit
    database's records count), fills the Worklist sheet, and says in a message box who comes first and why.
    """
    from xlcredit.jobs.worklist import worklist as run_worklist

    def action(b: Any) -> str | None:
        outcome = run_worklist(XlwingsBook(b), as_of or dt.date.today(), who="Excel")
        rows = outcome.rows
        lines = [f"Worklist as of {outcome.as_of.isoformat()}: {len(rows)} customer(s) with open items."]
        if rows:
            first = rows[0]
            reason = f": {first.top_reasons[0]}" if first.top_reasons else ""
            lines.append(f"First: {first.customer_id} {first.name} (priority {first.priority}){reason}; "
                         f"next: {first.next_action}.")
        if outcome.problems:
            shown = [f"row {p.row} {p.column}: {p.problem}" if p.row else f"{p.value}: {p.column}: {p.problem}"
                     for p in outcome.problems[:10]]
            more = len(outcome.problems) - len(shown)
            lines.append(f"{len(outcome.problems)} rows had problems and were left out:\n" + "\n".join(shown)
                         + (f"\n… and {more} more" if more else ""))
        return "\n".join(lines)

    _run(action, book)
