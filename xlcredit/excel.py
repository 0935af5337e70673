"""The xlwings side of the workbook's buttons: ``RunPython`` entry points over the open workbook.

Each button's VBA sub (``workbook/vba/CreditControl.bas``) calls one function here with
``RunPython "import xlcredit.excel as x; x.refresh_ageing()"``. The work itself is the same job the
command line runs (:mod:`xlcredit.jobs`); this module only adapts the open workbook
(:class:`XlwingsBook`) and reports errors in a message box instead of a traceback.
"""

from __future__ import annotations

import datetime as dt
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
            if len(blocks) > 1:   # tables with blank rows between: clear down to the last used cell
                last = sheet.used_range.last_cell
                sheet.range((spec.header_row, 1), (max(last.row, spec.header_row), max(last.column, 1))
                            ).clear_contents()
            else:
                sheet.range(f"A{spec.header_row}").expand().clear_contents()
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
        """The block of cells starting at ``ref`` (Excel's current region to the right and down) as rows."""
        sheet = self._sheet(sheet_name)
        if sheet is None:
            return []
        values = sheet.range(ref).expand().options(ndim=2).value
        if values is None:
            return []
        if values and not isinstance(values[0], list):   # one row
            values = [values]
        return [list(row) for row in values]

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
    ``as_of``). The .docx and .pdf go to the ``Letters`` folder beside the workbook (as Generate Letters, so Send
    finds them), are recorded in the register, and the Statements sheet lists each customer's closing balance and
    files; running again for the same period writes nothing new unless the figures changed.
    """
    from xlcredit.jobs.statements import run_statements

    def action(b: Any) -> str | None:
        xb = XlwingsBook(b)
        entered = xb.input_cells("Statements", wb.INPUT_CELLS["Statements"])
        start, end = statement_period(entered["from"], entered["to"], as_of or dt.date.today())
        target = _letters_folder(b, out_dir)
        outcome = run_statements(xb, start, end, target, who="Excel")
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
