"""Read the customers table from CSV, Excel or Parquet (or a DataFrame); write any result table.

Reading (:func:`read_customers`)
--------------------------------
* **Sources**: a path to ``.csv`` (UTF-8 with or without BOM, else Windows-1252; comma, semicolon or
  tab separated — a semicolon file is read with decimal commas, ``1.234,56``), ``.xlsx``/``.xlsm``
  (openpyxl, read-only, the values Excel last calculated — a formula never calculated reads as
  blank; the first sheet unless ``sheet=`` names one; title rows above the header are skipped),
  ``.parquet``, or a pandas ``DataFrame``.
* **Columns**: the documented names (:data:`CUSTOMER_COLUMNS`) or any alias in
  :data:`CUSTOMER_ALIASES`, compared ignoring case, spaces, underscores and punctuation
  (``"Customer ID"``, ``"cust_id"`` and ``"CUSTOMER-ID"`` are all ``customer_id``). Unknown
  columns are ignored. Only ``customer_id`` is required; a missing one is an :class:`XlcError`
  that lists the columns found.
* **Rows**: each row becomes a :class:`~xlcredit.core.records.Customer` or, when any cell is bad
  (text in a number column, a negative balance-sheet figure, a bad date, no customer id, an id
  already used above), one :class:`RowProblem` per bad cell — the row is left out and every other
  row still loads. Row numbers are those the user sees: header = row 1, first data row = row 2
  (for a DataFrame: its position + 2, as if written to a sheet).
* **Dates** are read by :func:`xlcredit.core.coerce.to_date`, the one rule for cells, files, the API and
  the command line: ``datetime``/``date`` cells, ISO text (``2021-03-04``, also ``2021/03/04`` and with a
  time part), Excel serial numbers (``44259``, also as digit text), ``dd.mm.yyyy`` (day first), and
  day-first or month-first text with ``/`` or ``-`` (``23/04/2021``) **only when it can be read one
  way**; ``03/04/2021`` is refused as ambiguous (write ``2021-04-03``).
  ``relationship_start`` also takes a bare year (``2015`` → 1 January 2015).
* **Blanks**: any figure may be blank (the scorecard gives its missing-data points); blank
  open orders, uninvoiced deliveries and bank guarantee are 0; a blank currency is
  ``default_currency``; a blank language is ``zh`` for CN customers and ``en`` otherwise.

Writing (:func:`write_table`)
-----------------------------
``.csv`` (UTF-8 with BOM so Excel shows accents and Chinese correctly) or ``.xlsx`` (XlsxWriter:
bold frozen header with an autofilter; Decimal money as numbers with two decimals; dates as dates).
Both are written to a temporary file beside the target and renamed into place, so a failed write
leaves the old file as it was.

CSV and formula injection (OWASP "CSV Injection"): a text cell that starts — after any leading
whitespace — with ``=``, ``+``, ``-`` or ``@``, or that starts with a tab or carriage return, is
written with a single quote in front (``'=cmd|...``) so Excel and LibreOffice show it as text instead
of running it. Numbers (and text that is exactly a plain number, like ``-12.50``) stay as they are.
Every CSV xlcredit writes goes through :func:`csv_cell` (:func:`write_table`, :func:`csv_text`).
XLSX cells are always written as typed text, never as formulas.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import tempfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from xlcredit.core.coerce import clean_text, is_blank, to_date_or_none
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.ledger import RowProblem
from xlcredit.core.money import currency_code, to_decimal
from xlcredit.core.records import Customer, Financials, PaymentHistory
from xlcredit.io.oserrors import os_error_words

__all__ = ["CUSTOMER_ALIASES", "CUSTOMER_COLUMNS", "CustomerTable", "RawTable", "RowProblem", "alias_index",
           "csv_cell", "csv_text", "find_header", "map_columns", "normalise_header", "read_customers", "read_rows",
           "write_table"]

# The documented customers columns, in the documented order (listed in the README).
CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer_id", "name", "country", "currency", "language", "rating", "total_assets", "total_liabilities",
    "current_assets", "inventory", "current_liabilities", "operating_cash_flow", "retained_earnings", "ebit",
    "relationship_start", "annual_volume", "first_order", "open_orders", "uninvoiced_deliveries",
    "bank_guarantee", "insured_limit", "insurer", "reference_check", "statutory_regime", "email", "address",
    "contact", "avg_days_late", "items_over_90", "max_days_late",
)
REQUIRED_CUSTOMER_COLUMNS: tuple[str, ...] = ("customer_id",)

# Every other header accepted for a documented column (the documented name itself is always accepted).
# Headers are compared after normalise_header(): lower case, letters and digits only.
CUSTOMER_ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": ("Customer ID", "Customer", "Cust ID", "Customer No", "Customer Number", "Customer Code",
                    "Account", "Account No", "Account Number", "Debtor", "Debtor ID", "Debtor No", "ID",
                    "Kunde", "Kundennummer", "Kunden-Nr", "Kd-Nr", "客户编号", "客户代码"),
    "name": ("Customer Name", "Name", "Company", "Company Name", "Debtor Name", "Account Name", "Kundenname",
             "Firma", "客户名称", "公司名称"),
    "country": ("Country", "Country Code", "ISO Country", "Land", "国家"),
    "currency": ("Currency", "Ccy", "Cur", "Währung", "币种"),
    "language": ("Language", "Lang", "Letter Language", "Sprache", "语言"),
    "rating": ("Rating", "Credit Rating", "Credit Score", "Score (D&B)", "D&B Score", "Paydex", "D&B Paydex",
               "External Rating", "Bureau Score", "Bonität", "信用评分"),
    "total_assets": ("Total Assets", "Assets", "Bilanzsumme", "总资产"),
    "total_liabilities": ("Total Liabilities", "Liabilities", "Debt", "Total Debt", "Verbindlichkeiten", "总负债"),
    "current_assets": ("Current Assets", "Umlaufvermögen", "流动资产"),
    "inventory": ("Inventory", "Inventories", "Stock", "Vorräte", "存货"),
    "current_liabilities": ("Current Liabilities", "Short-term Liabilities", "Kurzfristige Verbindlichkeiten",
                            "流动负债"),
    "operating_cash_flow": ("Operating Cash Flow", "OCF", "Cash Flow from Operations", "CFO", "Operativer Cashflow",
                            "经营现金流"),
    "retained_earnings": ("Retained Earnings", "Gewinnrücklagen"),
    "ebit": ("EBIT", "Operating Profit", "Operating Income"),
    "relationship_start": ("Relationship Start", "Start Date", "Customer Since", "Client Since", "Since",
                           "First Trade", "Trading Since", "Kunde seit", "合作开始"),
    "annual_volume": ("Annual Volume", "Annual Purchases", "Annual Sales", "Yearly Volume", "Annual Turnover",
                      "Volume", "Jahresumsatz", "年采购额"),
    "first_order": ("First Order", "First Order Amount", "Initial Order", "Erstauftrag"),
    "open_orders": ("Open Orders", "Order Backlog", "Orders", "Offene Aufträge"),
    "uninvoiced_deliveries": ("Uninvoiced Deliveries", "Uninvoiced", "Delivered not Invoiced",
                              "Unbilled Deliveries"),
    "bank_guarantee": ("Bank Guarantee", "Guarantee", "Bankbürgschaft"),
    "insured_limit": ("Insured Limit", "Insurance Limit", "Credit Insurance Limit", "Insured Amount",
                      "Cover", "Versicherungslimit"),
    "insurer": ("Insurer", "Credit Insurer", "Versicherer"),
    "reference_check": ("Reference Check", "Reference", "References", "Trade Reference"),
    "statutory_regime": ("Statutory Regime", "Regime", "Late Payment Regime", "Late Payment Law"),
    "email": ("Email", "E-mail", "Mail", "Email Address", "AR Email"),
    "address": ("Address", "Postal Address", "Billing Address", "Anschrift", "Adresse", "地址"),
    "contact": ("Contact", "Contact Person", "Contact Name", "Ansprechpartner", "联系人"),
    "avg_days_late": ("Avg Days Late", "Average Days Late", "Days Beyond Terms", "ADBT", "DBT",
                      "Avg Days Beyond Terms"),
    "items_over_90": ("Items over 90", "Items Over 90 Days", "Items Paid over 90 Days Late"),
    "max_days_late": ("Max Days Late", "Maximum Days Late", "Worst Days Late"),
}

# How each column is parsed.
_NONNEG_AMOUNTS = ("total_assets", "total_liabilities", "current_assets", "inventory", "current_liabilities",
                   "annual_volume", "first_order", "open_orders", "uninvoiced_deliveries", "bank_guarantee",
                   "insured_limit")
_SIGNED_AMOUNTS = ("operating_cash_flow", "retained_earnings", "ebit")
_TEXT = ("name", "insurer", "email", "address", "contact")
_ZERO_WHEN_BLANK = ("open_orders", "uninvoiced_deliveries", "bank_guarantee")
_FINANCIALS = ("total_assets", "total_liabilities", "current_assets", "inventory", "current_liabilities",
               "operating_cash_flow", "retained_earnings", "ebit")

_READABLE = (".csv", ".xlsx", ".xlsm", ".parquet")


def normalise_header(text: Any) -> str:
    """Header as compared: lower case, letters and digits only (``"Score (D&B)"`` → ``"scoredb"``)."""
    return "".join(ch for ch in str(text).casefold() if ch.isalnum())


def alias_index(aliases: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Normalised header → documented column, from an alias table like :data:`CUSTOMER_ALIASES`."""
    index: dict[str, str] = {}
    for canonical, names in aliases.items():
        for name in (canonical, *names):
            key = normalise_header(name)
            if key in index and index[key] != canonical:  # pragma: no cover - a mistake in the table above
                raise RuntimeError(f"alias {name!r} given for both {index[key]} and {canonical}")
            index[key] = canonical
    return index


_CUSTOMER_INDEX = alias_index(CUSTOMER_ALIASES)


@dataclass(frozen=True)
class CustomerTable:
    """The customers that loaded, the rows that did not, and which file column fed which field."""

    customers: tuple[Customer, ...]
    problems: tuple[RowProblem, ...] = ()
    columns: Mapping[str, str] = field(default_factory=dict)   # documented name → header in the file
    rows: Mapping[str, int] = field(default_factory=dict)      # customer_id → its row number in the file


# --------------------------------------------------------------------------- raw rows
@dataclass(frozen=True)
class RawTable:
    """Header and data rows as read, with the file's own row numbers."""

    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[Any, ...]], ...]
    decimal_comma: bool = False
    title_rows: int = 0   # non-blank rows above the header, skipped (a report's title, company, date)


_blank = is_blank


def readable_path(source: Any, table: str) -> Path:
    """The path of a table file we can read (.csv, .xlsx, .xlsm, .parquet), or an error naming the table."""
    if not isinstance(source, (str, Path)):
        raise XlcError(f"{table} file", f"must be a file path or a DataFrame (got {type(source).__name__})", source)
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in _READABLE:
        hint = " (save it as .xlsx)" if suffix == ".xls" else ""
        raise XlcError(f"{table} file", f"cannot read {suffix or 'a file without extension'} files{hint}: use "
                       f".csv, .xlsx, .xlsm or .parquet (got {path.name})", str(path))
    if not path.is_file():
        raise XlcError(f"{table} file", f"not found: {path}", str(path))
    return path


def read_rows(source: Any, *, table: str = "customers", sheet: str | None = None,
              header_hint: Iterable[str] = ()) -> RawTable:
    """Header and rows of a table from a path (.csv/.xlsx/.xlsm/.parquet) or a DataFrame.

    ``header_hint``: normalised header names; in a spreadsheet the first row containing one of them
    is the header (so title rows above it are skipped). Raises :class:`XlcError` for a missing or
    unreadable file.
    """
    if isinstance(source, pd.DataFrame):
        return _rows_from_frame(source)
    path = readable_path(source, table)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return _rows_from_csv(path)
        if suffix == ".parquet":
            return _rows_from_frame(pd.read_parquet(path))
        return _rows_from_xlsx(path, sheet, table, set(header_hint))
    except XlcError:
        raise
    except Exception as exc:  # a corrupt or locked file: say so in one line
        raise XlcError(f"{table} file", f"cannot be read ({type(exc).__name__}: {exc}): {path}", str(path)) from None


def find_header(rows: Sequence[Sequence[Any]], hint: Collection[str], *, need: int = 1,
                limit: int = 30) -> int | None:
    """Index of the header among the first ``limit`` rows: the first naming two known columns (``hint``:
    normalised headers), else — when ``need`` is 1 — the first naming one; None when no row does."""
    hits = [sum(1 for v in values if not _blank(v) and normalise_header(v) in hint) for values in rows[:limit]]
    for least in (2, 1)[: 3 - max(1, min(need, 2))]:
        at = next((k for k, n in enumerate(hits) if n >= least), None)
        if at is not None:
            return at
    return None


def _rows_from_frame(frame: Any) -> RawTable:
    from xlcredit.io.ledger import ROWS_ATTR, TITLE_ATTR

    attrs = dict(getattr(frame, "attrs", {}) or {})
    numbers = list(attrs.get(ROWS_ATTR, range(2, len(frame) + 2)))
    header = tuple(str(c) for c in frame.columns)
    records = [tuple(values) for values in frame.itertuples(index=False, name=None)]
    title = int(attrs.get(TITLE_ATTR, 0))
    if records and not any(normalise_header(h) in _CUSTOMER_INDEX for h in header):
        at = find_header(records, _CUSTOMER_INDEX)   # the column names were a title: the header is a row
        if at is not None:
            title += 1 + sum(1 for r in records[:at] if any(not _blank(v) for v in r))
            header = tuple("" if _blank(v) else str(v).strip() for v in records[at])
            records, numbers = records[at + 1:], numbers[at + 1:]
    return RawTable(header, tuple(zip(numbers, records, strict=True)), title_rows=title)


def _rows_from_csv(path: Path) -> RawTable:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = text.splitlines()
    head = [line for line in lines[:40] if line.strip()]
    delimiter = ","
    if head:   # the separator that splits a known header best, else the one the first line has most of
        scored = [(sum(normalise_header(c) in _CUSTOMER_INDEX for line in head
                       for c in next(csv.reader([line], delimiter=d), [])), head[0].count(d), d)
                  for d in (",", ";", "\t")]
        delimiter = max(scored)[2]
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    at = find_header(records, _CUSTOMER_INDEX)
    if at is None:
        at = next((k for k, r in enumerate(records) if any(cell.strip() for cell in r)), None)
    if at is None:
        return RawTable((), (), decimal_comma=delimiter == ";")
    title = sum(1 for r in records[:at] if any(cell.strip() for cell in r))
    rows = tuple((number, tuple(record)) for number, record in enumerate(records[at + 1:], start=at + 2))
    return RawTable(tuple(records[at]), rows, decimal_comma=delimiter == ";", title_rows=title)


def _rows_from_xlsx(path: Path, sheet: str | None, table: str, hint: set[str]) -> RawTable:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise XlcError("sheet", f"no sheet named {sheet!r} in {path.name} (sheets: {', '.join(wb.sheetnames)})",
                           sheet)
        all_rows = [(n, tuple(r)) for n, r in enumerate(ws.iter_rows(values_only=True), start=1)]
    finally:
        wb.close()
    header_at = find_header([values for _n, values in all_rows], hint)
    if header_at is None:
        header_at = next((k for k, (_n, v) in enumerate(all_rows) if any(not _blank(x) for x in v)), None)
    if header_at is None:
        return RawTable((), ())
    header = tuple("" if v is None else str(v).strip() for v in all_rows[header_at][1])
    while header and not header[-1]:
        header = header[:-1]
    title = sum(1 for _n, values in all_rows[:header_at] if any(not _blank(x) for x in values))
    return RawTable(header, tuple(all_rows[header_at + 1:]), title_rows=title)


# --------------------------------------------------------------------------- cell parsing
def _number_text(value: Any, decimal_comma: bool) -> Any:
    if not (decimal_comma and isinstance(value, str)):
        return value
    text = value.strip().replace(" ", "").replace("\u00a0", "")
    if "," in text:
        return text.replace(".", "").replace(",", ".")
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+", text):
        return text.replace(".", "")
    return text


def _text(value: Any) -> str:
    if _blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():   # 1001.0 → "1001"; inf is not (its text is "inf")
        return str(int(value))
    return clean_text(str(value)).strip()


def _amount(value: Any, name: str, decimal_comma: bool, *, negative_ok: bool) -> Decimal | None:
    if _blank(value):  # pd.NA / NaT / None / NaN from nullable or Arrow columns: an empty cell
        return None
    return to_decimal(_number_text(value, decimal_comma), name, allow_negative=negative_ok, allow_none=True)


def _whole(value: Any, name: str, decimal_comma: bool) -> int | None:
    number = _amount(value, name, decimal_comma, negative_ok=False)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise XlcError(name, f"must be a whole number (got {describe(value)})", value)
    return int(number)


_REFERENCE_WORDS = {"1": 1, "+1": 1, "positive": 1, "good": 1, "0": 0, "neutral": 0, "-1": -1, "negative": -1,
                    "bad": -1}
_LANGUAGES = {"en": "en", "english": "en", "zh": "zh", "cn": "zh", "chinese": "zh", "中文": "zh", "zh-cn": "zh"}


def _reference(value: Any, name: str) -> int | None:
    if _blank(value):
        return None
    key = _text(value).lower()
    if key.endswith(".0"):
        key = key[:-2]
    if key not in _REFERENCE_WORDS:
        raise XlcError(name, f"must be 1 (positive), 0 (neutral) or -1 (negative) (got {describe(value)})", value)
    return _REFERENCE_WORDS[key]


def _code(value: Any, name: str, length: int, example: str) -> str:
    text = _text(value).upper()
    if text and (len(text) != length or not text.isalpha()):
        raise XlcError(name, f"must be a {length}-letter ISO code like {example} (got {describe(value)})", value)
    return text


# --------------------------------------------------------------------------- customers
def read_customers(source: Any, *, sheet: str | None = None, default_currency: str = "EUR") -> CustomerTable:
    """Read the customers table: every good row a :class:`Customer`, every bad row a :class:`RowProblem`.

    ``source``: a path (.csv, .xlsx/.xlsm, .parquet) or a pandas DataFrame; ``sheet``: the worksheet
    to read in a workbook (default: the first). Raises :class:`XlcError` when the file cannot be read
    or the ``customer_id`` column is missing.
    """
    raw = read_rows(source, table="customers", sheet=sheet, header_hint=_hint("customer_id"))
    columns = map_columns(raw.header, _CUSTOMER_INDEX, REQUIRED_CUSTOMER_COLUMNS, "customers")
    customers: list[Customer] = []
    problems: list[RowProblem] = []
    first_row_of: dict[str, int] = {}
    for row_no, values in raw.rows:
        cells = {canonical: (values[i] if i < len(values) else None) for canonical, i in columns.items()}
        if all(_blank(v) for v in values):
            continue
        header_of = {canonical: raw.header[i] for canonical, i in columns.items()}
        row_problems: list[RowProblem] = []

        def bad(canonical: str, value: Any, problem: str, *, _rp: list[RowProblem] = row_problems,
                _row: int = row_no, _hdr: dict[str, str] = header_of) -> None:
            _rp.append(RowProblem("customers", _row, _hdr.get(canonical, canonical), value, problem))

        cid = _text(cells["customer_id"])
        if not cid:
            bad("customer_id", cells["customer_id"], "is empty")
        elif cid in first_row_of:
            bad("customer_id", cells["customer_id"], f"{cid} appears again (first on row {first_row_of[cid]})")
        else:
            first_row_of[cid] = row_no
        customer = _customer_from_cells(cid, cells, raw.decimal_comma, default_currency, bad)
        if row_problems or customer is None:
            problems.extend(row_problems)
            continue
        customers.append(customer)
    return CustomerTable(tuple(customers), tuple(problems),
                         {canonical: raw.header[i] for canonical, i in columns.items()},
                         {c.customer_id: first_row_of[c.customer_id] for c in customers})


def _hint(*canonicals: str) -> set[str]:
    return {key for key, canonical in _CUSTOMER_INDEX.items() if canonical in canonicals}


def map_columns(header: Sequence[str], index: Mapping[str, str], required: Sequence[str],
                 table: str) -> dict[str, int]:
    """Documented column → position in the file; XlcError for a missing required or a doubled column."""
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        canonical = index.get(normalise_header(name))
        if canonical is None or not str(name).strip():
            continue
        if canonical in found:
            raise XlcError(canonical, f"is given by two columns, {header[found[canonical]]!r} and {name!r}: "
                           f"keep one", name)
        found[canonical] = i
    for name in required:
        if name not in found:
            seen = ", ".join(repr(h) for h in header if str(h).strip()) or "no columns"
            raise XlcError(name, f"column is missing from the {table} table (found {seen})", None)
    return found


def _customer_from_cells(cid: str, cells: Mapping[str, Any], decimal_comma: bool, default_currency: str,
                         bad: Any) -> Customer | None:
    """Parse one row's cells; each bad cell is reported through ``bad``; None when any was bad."""
    values: dict[str, Any] = {}
    ok = True

    def parse(canonical: str, fn: Any) -> Any:
        nonlocal ok
        if canonical not in cells:
            return None
        try:
            return fn(cells[canonical])
        except XlcError as exc:
            ok = False
            bad(canonical, cells[canonical], exc.problem)
            return None

    for name in _NONNEG_AMOUNTS:
        values[name] = parse(name, lambda v, n=name: _amount(v, n, decimal_comma, negative_ok=False))
    for name in _SIGNED_AMOUNTS:
        values[name] = parse(name, lambda v, n=name: _amount(v, n, decimal_comma, negative_ok=True))
    for name in _TEXT:
        values[name] = parse(name, _text) or ""
    rating = parse("rating", lambda v: _amount(v, "rating", decimal_comma, negative_ok=False))
    if rating is not None and rating > 100:
        ok = False
        bad("rating", cells["rating"], f"must lie between 0 and 100 (got {rating})")
    start = parse("relationship_start", lambda v: to_date_or_none(v, "relationship_start", year_only=True))
    country = parse("country", lambda v: _code(v, "country", 2, "DE")) or ""
    currency = parse("currency", lambda v: _code(v, "currency", 3, "EUR") and currency_code(v)) or default_currency
    language = parse("language", lambda v: _language(v)) or ("zh" if country == "CN" else "en")
    reference = parse("reference_check", lambda v: _reference(v, "reference_check"))
    regime = parse("statutory_regime", _regime) or ""
    avg_late = parse("avg_days_late", lambda v: _amount(v, "avg_days_late", decimal_comma, negative_ok=True))
    over_90 = parse("items_over_90", lambda v: _whole(v, "items_over_90", decimal_comma))
    max_late = parse("max_days_late", lambda v: _whole(v, "max_days_late", decimal_comma))
    if not ok or not cid:
        return None
    for name in _ZERO_WHEN_BLANK:
        if values[name] is None:
            values[name] = Decimal(0)
    try:
        return Customer(
            customer_id=cid, name=values["name"], country=country, currency=currency, language=language,
            rating=rating, financials=Financials(**{k: values[k] for k in _FINANCIALS}),
            relationship_start=start, annual_volume=values["annual_volume"], first_order=values["first_order"],
            open_orders=values["open_orders"], uninvoiced_deliveries=values["uninvoiced_deliveries"],
            reference_check=reference, bank_guarantee=values["bank_guarantee"],
            history=PaymentHistory(avg_days_late=None if avg_late is None else float(avg_late),
                                   items_over_90=over_90, max_days_late=max_late),
            insured_limit=values["insured_limit"], insurer=values["insurer"], email=values["email"],
            address=values["address"], contact=values["contact"], statutory_regime=regime)
    except XlcError as exc:  # a rule of the record itself (kept in one place, core/records.py)
        bad(exc.field, cells.get(exc.field, exc.value), exc.problem)
        return None


def _language(value: Any) -> str:
    if _blank(value):
        return ""
    key = _text(value).lower()
    if key not in _LANGUAGES:
        raise XlcError("language", f"must be en or zh (got {describe(value)})", value)
    return _LANGUAGES[key]


def _regime(value: Any) -> str:
    text = _text(value).upper()
    if text in ("", "NONE", "-"):
        return ""
    if text in ("UK", "GB"):
        return "UK"
    if text == "EU":
        return "EU"
    raise XlcError("statutory_regime", f"must be UK, EU or blank (got {describe(value)})", value)


# --------------------------------------------------------------------------- writing
def write_table(rows: Any, path: str | Path, *, sheet: str = "Data",
                formats: Mapping[str, str] | None = None) -> Path:
    """Write a result table (list of dicts or a DataFrame) to ``.csv`` or ``.xlsx``; return the path.

    ``formats``: Excel number formats per column (e.g. ``{"deposit": "0%"}``); other Decimal
    columns get ``#,##0.00``, dates ``yyyy-mm-dd``. Raises :class:`XlcError` for other file types.
    """
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise XlcError("out", f"must end in .csv or .xlsx (got {out.name})", str(out))
    if not out.parent.exists():
        raise XlcError("out", f"folder does not exist: {out.parent}", str(out))
    columns, records = _records(rows)
    try:
        if suffix == ".csv":
            _write_csv(out, columns, records)
        else:
            _atomic_write(out, lambda tmp: _write_xlsx(Path(tmp), columns, records, sheet, dict(formats or {})))
    except OSError as exc:   # read-only folder, full disk, file locked by Excel: the old file is as it was
        raise XlcError("out", os_error_words(exc, out), str(out)) from None
    return out


def _records(rows: Any) -> tuple[list[str], list[dict[str, Any]]]:
    if isinstance(rows, pd.DataFrame):
        columns = [str(c) for c in rows.columns]
        return columns, [dict(zip(columns, r, strict=True)) for r in rows.itertuples(index=False, name=None)]
    records = [dict(r) for r in rows]
    columns: list[str] = []
    for r in records:
        for k in r:
            if k not in columns:
                columns.append(k)
    return columns, records


def _plain(value: Any) -> Any:
    """A cell value for CSV: Decimal as its exact text, dates ISO, blanks empty."""
    if _blank(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        return value.item()
    return value


_FORMULA_START = ("=", "+", "-", "@")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value: Any) -> Any:
    """A cell value for CSV: blanks empty, dates ISO, Decimal exact, and text that a spreadsheet would run
    as a formula (``=``, ``+``, ``-``, ``@`` after leading whitespace, or a leading tab/CR) quoted with ``'``."""
    value = _plain(value)
    if isinstance(value, str) and not _PLAIN_NUMBER.fullmatch(value.strip()) \
            and (value.startswith(("\t", "\r")) or value.lstrip().startswith(_FORMULA_START)):
        return "'" + value
    return value


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A table as CSV text (header row first, ``\\n`` line ends, cells through :func:`csv_cell`, no BOM)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_cell(c) for c in columns])
    for r in rows:
        writer.writerow([csv_cell(r.get(c)) for c in columns])
    return out.getvalue()


def _write_csv(out: Path, columns: list[str], records: list[dict[str, Any]]) -> None:
    data = csv_text(records, columns).encode("utf-8-sig")
    _atomic_write(out, lambda tmp: Path(tmp).write_bytes(data))


def _atomic_write(out: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``out``, then rename it over ``out``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    try:
        os.chmod(tmp, out.stat().st_mode & 0o777 if out.exists() else 0o644)   # not mkstemp's private 0600
        write(tmp)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_xlsx(out: Path, columns: list[str], records: list[dict[str, Any]], sheet: str,
                formats: dict[str, str]) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(out), {"strings_to_numbers": False, "strings_to_formulas": False,
                                        "strings_to_urls": False})
    try:
        ws = wb.add_worksheet(sheet[:31])
        bold = wb.add_format({"bold": True, "bottom": 1})
        cache: dict[str, Any] = {}

        def fmt(code: str) -> Any:
            if code not in cache:
                cache[code] = wb.add_format({"num_format": code})
            return cache[code]

        widths = [max(8, len(c) + 2) for c in columns]
        for j, name in enumerate(columns):
            ws.write_string(0, j, name, bold)
        for i, r in enumerate(records, start=1):
            for j, name in enumerate(columns):
                value = r.get(name)
                if _blank(value):
                    continue
                if hasattr(value, "item") and type(value).__module__ == "numpy":
                    value = value.item()
                code = formats.get(name)
                if isinstance(value, bool):
                    ws.write_boolean(i, j, value)
                elif isinstance(value, Decimal):
                    ws.write_number(i, j, float(value), fmt(code or "#,##0.00"))
                elif isinstance(value, (int, float)):
                    ws.write_number(i, j, value, fmt(code) if code else None)
                elif isinstance(value, dt.datetime):
                    ws.write_datetime(i, j, value, fmt(code or "yyyy-mm-dd hh:mm"))
                elif isinstance(value, dt.date):
                    ws.write_datetime(i, j, dt.datetime(value.year, value.month, value.day), fmt(code or "yyyy-mm-dd"))
                else:
                    ws.write_string(i, j, str(value))
                widths[j] = min(60, max(widths[j], len(str(value)) + 2))
        for j, w in enumerate(widths):
            ws.set_column(j, j, w)
        ws.freeze_panes(1, 0)
        if columns:
            ws.autofilter(0, 0, max(len(records), 1), len(columns) - 1)
    finally:
        wb.close()
