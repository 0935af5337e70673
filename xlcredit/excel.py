"""The xlwings side of the workbook's buttons: ``RunPython`` entry points over the open workbook.

Each button's VBA sub (``workbook/vba/CreditControl.bas``) calls one function here with
``RunPython "import xlcredit.excel as x; x.refresh_ageing()"``. The work itself is the same job the
command line runs (:mod:`xlcredit.jobs`); this module only adapts the open workbook
(:class:`XlwingsBook`) and reports errors in a message box instead of a traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Mapping, Sequence
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

    def has_sheet(self, name: str) -> bool:
        """True when the workbook has a sheet of that name (a workbook made before a sheet lacks it)."""
        return self._sheet(name) is not None

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
            sheet = self._sheet(name)
            if sheet is None:
                raise XlcError("workbook", f"has no sheet named {name!r} (a workbook made before it)", name)
            blocks = list(frame) if isinstance(frame, (list, tuple)) else [frame]
            # clear down to the last used cell: a table's first column may have blanks (the Matches sheet's
            # Accept), where expand() would stop and leave the rest of the last run's rows behind
            last = sheet.used_range.last_cell
            sheet.range((spec.header_row, 1), (max(last.row, spec.header_row), max(last.column, 1))
                        ).clear_contents()
            data: list[list[Any]] = []
            for block in blocks:   # several tables one below the other, a blank row between (as the file writer)
                if data:
                    data.append([None])
                data.append([wb.header_text(str(c)) for c in block.columns])   # headers in words
                data += [[_cell(v) for v in row] for row in block.itertuples(index=False)]
            width = max(len(r) for r in data)
            sheet.range(f"A{spec.header_row}").value = [r + [None] * (width - len(r)) for r in data]
        for (sheet_name, ref), value in cells.items():
            if (sheet_name, ref) not in wb.OUTPUT_CELLS:
                raise XlcError("output cell", f"{sheet_name}!{ref} is not an output cell", ref)
            self.book.sheets[sheet_name].range(ref).value = _cell(value)

    def input_cells(self, sheet_name: str, refs: Mapping[str, str]) -> dict[str, Any]:
        """Named cells the user fills in (:data:`xlcredit.io.workbook.INPUT_CELLS`); None for each when the
        sheet is missing (a workbook made before it)."""
        sheet = self._sheet(sheet_name)
        if sheet is None:
            return dict.fromkeys(refs)
        out = {}
        for name, ref in refs.items():
            value = sheet.range(ref).value
            out[name] = None if value is None or (isinstance(value, str) and not value.strip()) else value
        return out

    def rows_from(self, sheet_name: str, ref: str) -> list[list[Any]]:
        """The cells from ``ref`` to the sheet's last used row and column, as rows (blank cells in the first column
        do not stop it, as Excel's current region would); trailing blank rows left out."""
        sheet = self._sheet(sheet_name)
        if sheet is None:
            return []
        last = sheet.used_range.last_cell
        top = sheet.range(ref)
        if last.row < top.row or last.column < top.column:
            return []
        values = sheet.range((top.row, top.column), (last.row, last.column)).options(ndim=2).value or []
        rows = [list(row) for row in values]
        while rows and all(v is None for v in rows[-1]):
            rows.pop()
        return rows

    def append_rows(self, key: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append ``rows`` (field name → value) at the foot of an input table and grow the table over them, in one
        write; every field must have a column (headers in words or field names)."""
        spec = next(t for t in wb.INPUT_TABLES if t.key == key)
        sheet = self._sheet(spec.sheet)
        tables = {t.name: t for t in sheet.tables} if sheet is not None else {}
        if spec.table not in tables:
            raise XlcError(spec.sheet, f"has no Excel table named {spec.table}", spec.table)
        table = tables[spec.table]
        headers = [wb.field_name(str(h)) if h is not None else "" for h in _row(table.header_row_range.value)]
        missing = sorted({k for r in rows for k in r} - set(headers))
        if missing:
            raise XlcError(spec.sheet, f"table has no column for {', '.join(wb.header_text(m) for m in missing)}",
                           ", ".join(missing))
        if not rows:
            return
        values = [[_cell(r.get(h)) for h in headers] for r in rows]
        whole = table.range
        top, left = whole.row, whole.column
        bottom = whole.last_cell.row
        body = table.data_body_range
        if body is not None and bottom == top + 1 and all(v is None for v in _row(body.value)):
            bottom = top          # an empty table's one blank row is filled, not left above the new rows
        sheet.range((bottom + 1, left)).value = values
        table.resize(sheet.range((top, left), (bottom + len(values), left + len(headers) - 1)))

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


def _row(value: Any) -> list[Any]:
    """A one-row range's value as a list (xlwings gives a scalar for one cell)."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _letters_folder(book: Any, out_dir: str | Path | None) -> Path:
    """Where the workbook's letters and statements go: the ``Letters`` folder beside the workbook."""
    return Path(out_dir) if out_dir else Path(book.fullname).parent / "Letters"


def _problem_lines(problems: Sequence[Any], limit: int = 10) -> list[str]:
    if not problems:
        return []
    shown = [f"row {p.row} {p.column}: {p.problem}" if p.row else f"{p.value}: {p.column}: {p.problem}"
             for p in problems[:limit]]
    more = len(problems) - len(shown)
    return [f"{len(problems)} rows had problems and were left out:\n" + "\n".join(shown)
            + (f"\n… and {more} more" if more else "")]


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
        target = _letters_folder(b, out_dir)
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
        lines += _problem_lines(outcome.problems)
        return "\n".join(lines)

    _run(action, book)


def worklist(book: Any | None = None, as_of: dt.date | None = None) -> None:
    """Worklist button: the same job as ``xlcredit worklist``, on the open workbook.

    Ranks every customer with open items (the Promises, Disputes, Plans and Contacts sheets and the credit
    database's records count), fills the Worklist sheet, and says in a message box who comes first and why.
    """
    from xlcredit.jobs.worklist import worklist as run_worklist

    def action(b: Any) -> str | None:
        return worklist_message(run_worklist(XlwingsBook(b), as_of or dt.date.today(), who="Excel"))

    _run(action, book)


def worklist_message(outcome: Any) -> str:
    """What the Worklist button (and Lite's Worklist script) says: how many customers, who comes first and why,
    and the rows left out."""
    rows = outcome.rows
    lines = [f"Worklist as of {outcome.as_of.isoformat()}: {len(rows)} customer(s) with open items."]
    if rows:
        first = rows[0]
        reason = f": {first.top_reasons[0]}" if first.top_reasons else ""
        lines.append(f"First: {first.customer_id} {first.name} (priority {first.priority}){reason}; "
                     f"next: {first.next_action}.")
    lines += _problem_lines(outcome.problems)
    return "\n".join(lines)


def statement_period(entered_from: Any, entered_to: Any, today: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the Statements button: the Statements sheet's "Statement from" / "to" cells, each blank one
    taken from the calendar month before ``today`` (early in December: 1 to 30 November)."""
    from xlcredit.core.coerce import to_date

    last_prev = today.replace(day=1) - dt.timedelta(days=1)
    start = last_prev.replace(day=1) if entered_from is None else to_date(entered_from, "Statement from")
    end = last_prev if entered_to is None else to_date(entered_to, "Statement to")
    if start > end:
        raise XlcError("Statement from", f"is after Statement to ({start} > {end})", entered_from)
    return start, end


def generate_statements(book: Any | None = None, as_of: dt.date | None = None,
                        out_dir: str | Path | None = None) -> None:
    """Statements button: the same job as ``xlcredit statements``, on the open workbook.

    The period comes from the Statements sheet ("Statement from" / "to"; blank: the month before today, or before
    ``as_of``), and so does the one customer to write for ("Customer"; blank: everyone with a balance or activity).
    The .docx and .pdf go to the ``Letters`` folder beside the workbook (as Generate Letters, so Send finds them),
    are recorded in the register, and the Statements sheet lists each customer's closing balance and files; running
    again for the same period writes nothing new unless the figures changed.
    """
    from xlcredit.jobs.statements import run_statements

    def action(b: Any) -> str | None:
        xb = XlwingsBook(b)
        entered = xb.input_cells("Statements", wb.INPUT_CELLS["Statements"])
        start, end = statement_period(entered["from"], entered["to"], as_of or dt.date.today())
        target = _letters_folder(b, out_dir)
        customer = None if entered["customer"] is None else str(entered["customer"]).strip()
        outcome = run_statements(xb, start, end, target, customer=customer, who="Excel")
        frame = statements_frame(outcome.results)
        note = ""
        try:
            xb.write_outputs({"Statements": frame}, {("Statements", wb.OUTPUT_SHEETS["Statements"].as_of_cell): end})
        except XlcError as exc:   # a workbook made before the Statements sheet: the files are written all the same
            if "Statements" not in exc.problem:
                raise
            note = ("note: this workbook has no Statements sheet (made before the Statements button); the list is "
                    "not written into it")
        lines = [f"Statements {start} to {end}: {outcome.count('written')} written to {target}, "
                 f"{outcome.count('already written')} already written, {outcome.count('failed')} failed."]
        lines += [f"recovered: {line}" for line in outcome.recovered[:5]]
        lines += _problem_lines(outcome.problems)
        if note:
            lines.append(note)
        return "\n".join(lines)

    _run(action, book)


#: Columns of the Statements sheet.
STATEMENT_COLUMNS: tuple[str, ...] = ("customer_id", "name", "language", "period_from", "period_to", "closing",
                                      "closing_amount", "currency", "status", "pdf_file", "word_file")


def statements_frame(results: Sequence[Any]) -> pd.DataFrame:
    """The Statements sheet: one row per customer of the run (closing balance in words and, in one currency, as
    an amount; the files' names)."""
    return pd.DataFrame([{"customer_id": r.customer_id, "name": r.name, "language": r.language,
                          "period_from": r.date_from, "period_to": r.date_to, "closing": r.closing,
                          "closing_amount": r.amount, "currency": r.currency, "status": r.status,
                          "pdf_file": Path(r.pdf).name if r.pdf else "", "word_file": Path(r.docx).name if r.docx
                          else ""} for r in results], columns=list(STATEMENT_COLUMNS))


def send_letters(book: Any | None = None, as_of: dt.date | None = None, letters_dir: str | Path | None = None,
                 env: Mapping[str, str] | None = None) -> None:
    """Send button: the same job as ``xlcredit send --letters <the Letters folder beside the workbook>``.

    E-mails the letters and statements written there and not gone yet, with the mail server of the Policy sheet's
    sending settings (or the ``XLCREDIT_SMTP_*`` environment variables); the password is read from the environment
    variable ``XLCREDIT_SMTP_PASSWORD`` only, never from the workbook. With no mail server set, .eml drafts are
    written to ``Letters/drafts`` instead. A message box says what went.
    """
    from xlcredit.io.store import open_store
    from xlcredit.jobs.book import read_book
    from xlcredit.jobs.send import contacts_from_customers, run_send, smtp_settings

    def action(b: Any) -> str | None:
        xb = XlwingsBook(b)
        folder = _letters_folder(b, letters_dir)
        if not folder.is_dir():
            return (f"Nothing to send: there is no letters folder yet ({folder}). Press Generate Letters or "
                    "Statements first.")
        day = as_of or dt.date.today()
        data = read_book(xb.read_tables(), xb.read_policy_rows())
        settings = smtp_settings(data.policy, env)
        store = open_store(xb.default_store())
        outcome = run_send(store, folder, day, contacts_from_customers(data.customers), data.policy, settings,
                           who="Excel")
        went = outcome.count("sent") + outcome.count("drafted")
        where = (f"sent through {settings.host}:{settings.effective_port}" if outcome.channel == "smtp"
                 else f"written as drafts to {outcome.drafts} (no mail server on the Policy sheet)")
        lines = [f"{went} message(s) {where}.",
                 f"{sum(1 for r in outcome.results if r.status.startswith('already'))} already gone, "
                 f"{outcome.count('failed') + outcome.count('failed earlier')} failed, "
                 f"{outcome.count('unconfirmed')} unconfirmed, {outcome.count('not attempted')} not attempted, "
                 f"{outcome.count('no address')} without an e-mail address, {outcome.count('superseded')} "
                 "replaced by a newer letter."]
        failed = [r for r in outcome.results if r.status in ("failed", "unconfirmed", "no address")]
        lines += [f"{r.customer_id} {r.stage}: {r.status}{f' — {r.detail}' if r.detail else ''}" for r in failed[:10]]
        lines += [f"reconciled: {line}" for line in outcome.reconciled[:5]]
        return "\n".join(lines)

    _run(action, book)


def audit_period(entered_from: Any, entered_to: Any, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the Policy Audit button: the sheet's "Audit from" / "to" cells; blank, the twelve month ends up
    to ``as_of`` (as of 6 Dec 2026: 1 Dec 2025 to 30 Nov 2026; as of 31 Oct 2026: 1 Nov 2025 to 31 Oct 2026)."""
    from xlcredit.core.coerce import to_date

    next_day = as_of + dt.timedelta(days=1)
    last_end = as_of if next_day.month != as_of.month else as_of.replace(day=1) - dt.timedelta(days=1)
    end = last_end if entered_to is None else to_date(entered_to, "Audit to")
    if entered_from is None:
        month = end.year * 12 + end.month - 1 - 11
        start = dt.date(month // 12, month % 12 + 1, 1)
    else:
        start = to_date(entered_from, "Audit from")
    if start > end:
        raise XlcError("Audit from", f"is after Audit to ({start} > {end})", entered_from)
    return start, end


def _shown_value(value: Any, unit: str) -> Any:
    """A comparison figure as the sheet shows it: money to the cent, days to a tenth, a share in %, yes/no."""
    from decimal import ROUND_HALF_UP

    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if unit == "money":
        return Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP)
    if unit == "days":
        return Decimal(value).quantize(Decimal("0.1"), ROUND_HALF_UP)
    if unit == "share":
        return (Decimal(value) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return value


def audit_blocks(result: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The Policy Audit sheet's three tables: the measures side by side with what each difference means, exposure /
    sales held / exposure at default carried by month end (the chart reads it), the default rate by grade."""
    from xlcredit.jobs.audit import comparison_rows

    a = result.a.name
    b = result.b.name if result.b is not None else "none"
    units = {"money": result.currency, "share": "%", "days": "days", "count": "count", "yes/no": ""}
    comparison = pd.DataFrame(
        [[r["measure"], units.get(r["unit"], r["unit"]), _shown_value(r["a"], r["unit"]),
          _shown_value(r["b"], r["unit"]),
          None if r["change"] is None else _shown_value(r["change"], r["unit"]), r["meaning"] or None]
         for r in comparison_rows(result)],
        columns=["Measure", "Unit", f"A: {a}", f"B: {b}", "B − A", "What the difference means"])
    b_months = {m.month_end: m for m in result.b.months} if result.b is not None else {}
    months = pd.DataFrame(
        [[m.month_end, m.exposure, m.held_amount, getattr(b_months.get(m.month_end), "held_amount", None),
          m.ead_carried, getattr(b_months.get(m.month_end), "ead_carried", None), m.held_orders,
          getattr(b_months.get(m.month_end), "held_orders", None)] for m in result.a.months],
        columns=["Month end", "Exposure", f"Sales held: {a}", f"Sales held: {b}", f"Exposure at default: {a}",
                 f"Exposure at default: {b}", f"Orders held: {a}", f"Orders held: {b}"])
    # the chart beside reads twelve month rows (wb.AUDIT_MONTH_ROWS): a shorter period is padded with blank rows,
    # so the grade table below never lands in the chart's range
    padding = len(wb.AUDIT_MONTH_ROWS) - len(months)
    if padding > 0:
        months = pd.concat([months, pd.DataFrame([[None] * len(months.columns)] * padding, columns=months.columns)],
                           ignore_index=True)
    calibration = pd.DataFrame(
        [[replay.name, r.grade, r.observations, r.defaults,
          None if r.rate is None else _shown_value(r.rate, "share")]
         for replay in (result.a, result.b) if replay is not None for r in replay.measures.calibration],
        columns=["Policy", "Grade", "Customer-months", "Defaults within a year", "Default rate %"])
    return comparison, months, calibration


def policy_audit(book: Any | None = None, as_of: dt.date | None = None) -> None:
    """Policy Audit button: the same job as ``xlcredit audit --from … --to … [--against …]``, on the open workbook.

    Policy A is the workbook's Policy sheet; policy B the "Compare against" cell (``strict`` or a .toml file, a
    relative path read beside the workbook; blank: A alone). The period: the "Audit from" / "to" cells, blank the
    twelve month ends up to today. The Policy Audit sheet gets both columns with what each difference means, the
    months (charted beside) and the default rate by grade; a message box sums it up.
    """
    from xlcredit.jobs.audit import run_audit

    def action(b: Any) -> str | None:
        xb = XlwingsBook(b)
        entered = xb.input_cells("Policy Audit", wb.INPUT_CELLS["Policy Audit"])
        start, end = audit_period(entered["from"], entered["to"], as_of or dt.date.today())
        against = None if entered["against"] is None else str(entered["against"]).strip()
        if against and against.lower() != "strict" and not Path(against).is_absolute():
            against = str(Path(b.fullname).parent / against)
        try:
            outcome = run_audit(xb, start, end, against=against)
        except XlcError as exc:
            if exc.field != "against":
                raise
            raise XlcError("Compare against", exc.problem, entered["against"]) from None
        result = outcome.audit
        note = ""
        try:
            xb.write_outputs({"Policy Audit": list(audit_blocks(result))},
                             {("Policy Audit", wb.OUTPUT_SHEETS["Policy Audit"].as_of_cell): result.month_ends[-1]})
        except XlcError as exc:   # a workbook made before the Policy Audit sheet: the figures are still shown here
            if "Policy Audit" not in exc.problem:
                raise
            note = ("note: this workbook has no Policy Audit sheet (made before the Policy Audit button): the audit "
                    "is not written into it; copy your sheets into the current CreditControl.xlsm, or run xlcredit "
                    "audit --out audit.xlsx")
        m = {r.measure: r for r in result.differences} if result.b is not None else {}
        lines = [f"Policy audit {result.month_ends[0]} to {result.month_ends[-1]} ({len(result.month_ends)} month "
                 f"ends): policy A '{result.a.name}'" + (f" against B '{result.b.name}'." if result.b else " alone.")]
        a = result.a.measures
        lines.append(f"A held {a.held_orders} order(s) worth {a.held_amount:,.2f} {result.currency}; it stopped "
                     f"{a.ead_stopped:,.2f} and carried {a.ead_carried:,.2f} {result.currency} of exposure at default.")
        if result.b is not None:
            bm = result.b.measures
            lines.append(f"B held {bm.held_orders} order(s) worth {bm.held_amount:,.2f} {result.currency}; it stopped "
                         f"{bm.ead_stopped:,.2f} and carried {bm.ead_carried:,.2f} {result.currency} of exposure at "
                         f"default.")
            lines.append(f"{sum(1 for d in m.values() if d.meaning)} difference(s) explained on the Policy Audit "
                         "sheet.")
        lines += [f"note: {note}" for note in outcome.notes]
        if len(result.month_ends) > len(wb.AUDIT_MONTH_ROWS):
            lines.append(f"note: the chart on the Policy Audit sheet shows the first {len(wb.AUDIT_MONTH_ROWS)} of "
                         f"the {len(result.month_ends)} month ends; the table lists them all")
        lines += _problem_lines(outcome.problems)
        if note:
            lines.append(note)
        return "\n".join(lines)

    _run(action, book)


# --------------------------------------------------------------------------- cash in: Bank → Matches → Payments
_DECIMAL_COMMA = re.compile(r"^-?[\d.' ]*\d,\d{1,2}$")
_TICKED = {"true", "yes", "y", "x", "1", "✓", "✔", "ok"}
#: Columns of the Matches sheet: Accept first (the user's tick), then the proposal as ``xlcredit match`` shows it.
MATCH_COLUMNS: tuple[str, ...] = ("accept", "bank_reference", "date", "amount", "currency", "payer", "customer_id",
                                  "invoices", "confidence", "status", "reason", "source")


def _bank_cell_text(value: Any, decimal_comma: bool) -> str:
    """A pasted cell as the bank's CSV had it: dates ISO, numbers without exponent (decimal comma if the export has
    one), text as it is."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        text = str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
        return text.replace(".", ",") if decimal_comma else text
    return str(value)


def bank_text(rows: Sequence[Sequence[Any]]) -> str:
    """Cells pasted from a bank export (header row first) back into CSV text for :func:`xlcredit.io.bank.read_csv`;
    an export whose amounts stayed text with a decimal comma ("4815,70") is given as ``;``-separated."""
    decimal_comma = any(isinstance(v, str) and _DECIMAL_COMMA.match(v.strip()) for row in rows[1:] for v in row)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if decimal_comma else ",", lineterminator="\n")
    for row in rows:
        writer.writerow([_bank_cell_text(v, decimal_comma) for v in row])
    return buffer.getvalue()


def _bank_reads(xb: XlwingsBook, book: Any) -> list[Any]:
    """The statement of the Bank sheet: the file its "Statement file" cell names (beside the workbook when relative),
    else the export pasted from :data:`xlcredit.io.workbook.BANK_FIRST_ROW`."""
    from xlcredit.io.bank import read_csv, read_statement

    if not (xb.has_sheet(wb.BANK_SHEET) and xb.has_sheet("Matches")):
        raise XlcError("workbook", "has no Bank and Matches sheets (made before the Match Bank button): copy your "
                                   "sheets into the current CreditControl.xlsm, or run xlcredit match STATEMENT "
                                   "WORKBOOK", None)
    entered = xb.input_cells(wb.BANK_SHEET, wb.INPUT_CELLS[wb.BANK_SHEET])["file"]
    if entered is not None:
        path = Path(str(entered).strip())
        if not path.is_absolute():
            path = Path(book.fullname).parent / path
        if not path.is_file():
            raise XlcError("Statement file", f"not found: {path}", str(entered))
        return [read_statement(path)]
    rows = [r for r in xb.rows_from(wb.BANK_SHEET, f"A{wb.BANK_FIRST_ROW}") if any(v is not None for v in r)]
    if len(rows) < 2:
        raise XlcError("Bank", f"sheet is empty: paste a bank export from A{wb.BANK_FIRST_ROW} (its header row first) "
                               "or name a statement file", None)
    return [read_csv(bank_text(rows), "Bank sheet")]


def matches_frame(proposals: Sequence[Any]) -> pd.DataFrame:
    """The Matches sheet: one row per transaction, Accept ticked (TRUE) for the confident matches (``auto``) and
    blank for the user to decide on the rest — and for a match without a bank reference of its own, which Apply
    Matches does not apply (:func:`xlcredit.jobs.cashapp.own_reference`)."""
    from xlcredit.core.cashapp import AUTO
    from xlcredit.jobs.cashapp import own_reference, proposal_rows

    rows = proposal_rows(proposals)
    for row, p in zip(rows, proposals, strict=True):
        row["accept"] = True if p.status == AUTO and own_reference(p.transaction) else None
    return pd.DataFrame(rows, columns=list(MATCH_COLUMNS))


def match_bank(book: Any | None = None, as_of: dt.date | None = None) -> None:
    """Match Bank button: the same job as ``xlcredit match STATEMENT WORKBOOK``, on the open workbook.

    The statement comes from the Bank sheet (a file it names, or an export pasted into it); the open items are the
    workbook's as of ``as_of`` (default: its newest document, as the command). The Matches sheet lists every
    transaction with its proposal, the confident ones ticked in the Accept column; nothing is applied yet.
    """
    from xlcredit.jobs.cashapp import run_match, unreferenced

    def action(b: Any) -> str | None:
        xb = XlwingsBook(b)
        reads = _bank_reads(xb, b)
        outcome = run_match([], xb, as_of=as_of, read=lambda _paths: reads)
        no_ref = len(unreferenced(outcome.proposals))
        xb.write_outputs({"Matches": matches_frame(outcome.proposals)},
                         {("Matches", wb.OUTPUT_SHEETS["Matches"].as_of_cell): outcome.as_of})
        n = len(outcome.proposals)
        lines = [f"{n} transaction(s) as of {outcome.as_of}: {outcome.count('auto')} matched (ticked on the Matches "
                 f"sheet), {outcome.count('review')} for review, {outcome.count('unmatched')} unmatched, "
                 f"{outcome.count('duplicate')} already applied or duplicates, {outcome.count('not a credit')} not "
                 "credits.",
                 "Untick what you do not want, tick the reviewed ones you accept, then press Apply Matches."]
        if no_ref:
            lines.append(f"{no_ref} matched transaction(s) have no bank reference and are not ticked: Apply Matches "
                         "could not make sure they are applied only once — enter them in the Payments table by hand.")
        lines += [f"note: {note}" for note in outcome.notes]
        lines += _problem_lines(outcome.problems)
        return "\n".join(lines)

    _run(action, book)


def _ticked(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in _TICKED


def _code_text(value: Any) -> str:
    """A reference, customer id or invoice number read back from a cell: Excel stores a text of digits typed or
    written into a General cell as a number (2026000023 → 2026000023.0), so a whole number reads as its digits."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def apply_bank_matches(book: Any | None = None) -> None:
    """Apply Matches button: ``xlcredit match --apply`` for the matches ticked on the Matches sheet.

    The Bank sheet's statement is matched again as of the Matches sheet's date (so the proposals are the ones
    shown); each ticked transaction whose customer and invoices are still as shown is appended to the Payments
    table — one row per invoice with its invoice ref. and bank reference, exactly the rows ``--apply`` appends to
    payments.csv — in one write. A bank reference already in the Payments table is never applied again, so a
    second press changes nothing. A ticked transaction without a bank reference of its own is not applied (nothing
    would tell it apart next time) and the message names it with what to do. Save the workbook to keep them.
    """
    from dataclasses import replace

    from xlcredit.core.cashapp import AUTO, DUPLICATE, REVIEW
    from xlcredit.core.coerce import to_date
    from xlcredit.jobs.cashapp import own_reference, payment_rows, run_match, unreferenced_line

    def action(b: Any) -> str | None:
        xb = XlwingsBook(b)
        spec = wb.OUTPUT_SHEETS["Matches"]
        rows = xb.rows_from("Matches", f"A{spec.header_row}")
        words = {wb.header_text(c): c for c in MATCH_COLUMNS}
        header = [words.get(str(h).strip(), str(h)) if h is not None else "" for h in (rows[0] if rows else [])]
        if not rows or "accept" not in header or "bank_reference" not in header:
            return "Nothing to apply: press Match Bank first (the Matches sheet lists no matches)."
        col = {name: header.index(name) for name in header if name}
        def cell(r: list[Any], name: str) -> str:
            return _code_text(r[col[name]]) if name in col and len(r) > col[name] else ""

        listed = [r for r in rows[1:] if any(v is not None for v in r)]
        if not any(cell(r, "bank_reference") or cell(r, "source") for r in listed):
            return "Nothing to apply: press Match Bank first (the Matches sheet lists no matches)."
        if not any(_ticked(r[col["accept"]]) for r in listed):
            return "No match is ticked in the Accept column of the Matches sheet: nothing was applied."
        tables = xb.read_tables()
        payments = tables.get("payments")
        if payments is None or "bank_reference" not in payments.columns:
            raise XlcError("Payments", "table has no Bank reference column: add a column headed 'Bank reference' to "
                                       "it (Apply Matches records each bank reference there, so that a payment is "
                                       "never applied twice)", None)
        already = {t for v in payments["bank_reference"] if (t := _code_text(v)) and t != "nan"}
        when = xb.input_cells("Matches", {"as_of": spec.as_of_cell})["as_of"]
        reads = _bank_reads(xb, b)
        outcome = run_match([], xb, as_of=None if when is None else to_date(when, "Matches as of"),
                            read=lambda _paths: reads)
        # a transaction without a bank reference of its own (blank, a placeholder, or the reader's file-and-line
        # stand-in) is never applied: each ticked one is named, from the proposal of the same reference and source
        no_ref = [p for p in outcome.proposals if not own_reference(p.transaction)]
        stand_ins = {p.transaction.bank_reference for p in no_ref}
        unapplied: list[str] = []
        for r in listed:
            if not _ticked(r[col["accept"]]) or (cell(r, "bank_reference") and cell(r, "bank_reference")
                                                 not in stand_ins):
                continue
            same = [p for p in no_ref if (p.transaction.bank_reference, p.transaction.source)
                    == (cell(r, "bank_reference"), cell(r, "source"))]
            amount = r[col["amount"]] if "amount" in col and len(r) > col["amount"] else None
            exact = [p for p in same if isinstance(amount, (int, float)) and float(p.transaction.amount) == amount]
            if exact or same:
                unapplied.append(unreferenced_line((exact or same)[0]))
            else:
                unapplied.append(f"{cell(r, 'source') or 'a row'}: no bank reference and no longer on the statement "
                                 "— not applied; press Match Bank again")
        # per bank reference the row shown for the transaction: a statement pasted twice lists it again as a
        # duplicate (never ticked), which must not hide the first row's tick
        shown: dict[str, list[Any]] = {}
        for r in listed:
            ref = cell(r, "bank_reference")
            if ref and ref not in stand_ins and (ref not in shown or (cell(shown[ref], "status") == DUPLICATE
                                                                      and cell(r, "status") != DUPLICATE)):
                shown[ref] = r
        ticked = {ref for ref, r in shown.items() if _ticked(r[col["accept"]])}
        confirmed, notes, skipped = [], [], 0
        for p in outcome.proposals:
            ref = p.transaction.bank_reference
            if ref not in ticked:
                continue
            if ref in already or p.status == DUPLICATE:
                skipped += 1
                continue
            row = shown[ref]
            said = (_code_text(row[col["customer_id"]]), _code_text(row[col["invoices"]]))
            if said != (p.customer_id, " ".join(p.invoices)):
                notes.append(f"{ref}: changed since Match Bank (now {p.customer_id or 'no customer'} "
                             f"{' '.join(p.invoices)}): press Match Bank again and check it")
                continue
            if p.status not in (AUTO, REVIEW) or not p.customer_id or not (p.lines or p.on_account > 0):
                notes.append(f"{ref}: no customer or invoice to apply it to")
                continue
            confirmed.append(replace(p, status=AUTO))   # the user's tick confirms a reviewed match
        new = [{**r, "payment_date": to_date(r["payment_date"], "payment_date"), "amount": Decimal(r["amount"])}
               for r in payment_rows(confirmed, already)]
        if new:
            xb.append_rows("payments", new)
        lines = [f"{len(new)} payment row(s) appended to the Payments table for {len(confirmed)} transaction(s); "
                 f"{skipped} ticked transaction(s) already applied earlier or listed twice, nothing added for them"
                 + (f"; {len(unapplied)} ticked transaction(s) without a bank reference not applied (below)"
                    if unapplied else "") + "."
                 + (" Save the workbook to keep them." if new else "")]
        lines += [f"not applied: {n}" for n in unapplied[:10]]
        if len(unapplied) > 10:
            lines.append(f"… and {len(unapplied) - 10} more without a bank reference")
        lines += [f"note: {n}" for n in notes[:10]]
        return "\n".join(lines)

    _run(action, book)
