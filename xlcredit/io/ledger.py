"""Read the receivables ledger — invoices, payments, credit notes, FX rates — from files or DataFrames.

Sources
-------
Each table is a path to ``.csv`` (UTF-8 with or without BOM, else Windows-1252; comma, semicolon
or tab separated — a semicolon file is read with decimal commas, ``1.234,56``), ``.xlsx``/``.xlsm``
(openpyxl, cached values; the first sheet unless ``sheet=`` names one; title rows above the header
are skipped), ``.parquet``, or a pandas ``DataFrame``. :func:`load_ledger_workbook` reads one
workbook with sheets ``Invoices``, ``Payments``, ``CreditNotes`` (also "Credit Notes"/"Credits")
and ``FxRates`` (also "FX"/"Rates"); :func:`load_ledger_files` takes the files the ``xlcredit age``
command is given and tells them apart by name (``invoices…``, ``payments…``/``receipts…``,
``credit…``, ``fx…``/``…rates…``) or, failing that, by their columns.

Columns
-------
The documented names (:data:`LEDGER_COLUMNS`) or an alias in :data:`LEDGER_ALIASES`, compared ignoring
case, spaces, underscores and punctuation (``"Customer No"`` = ``"customer_no"`` =
``"CUSTOMER-NO."``). Unknown columns are ignored. When a file has several columns for one field
(an ERP export with both "Document date" and "Posting date"), the name listed first in the
aliases wins. Deliberately **not** aliases of ``amount``: "Amount (LCY)"/"Amount in local
currency" (already converted to the company currency, while ``currency`` names the document
currency) and "Open amount"/"Remaining amount"/"Balance" (already net of payments: with the
payments loaded too they would be counted twice). An open-items export with no payments can be
loaded by renaming its open-amount column to ``amount``; the error for a missing amount column
says so.

Required columns: invoices customer_id, invoice_no, amount, invoice_date and due_date or terms;
payments customer_id, payment_date, amount; credit notes customer_id, date, amount; FX rates date,
currency, rate. A missing ``currency`` column means every document is in the company currency
(``policy.company.currency``); a missing ``payment_id``/``credit_note_no`` (or a blank one) becomes
``"row N"``. A missing required column raises :class:`XlcError` listing the columns found.

Rows
----
Every bad cell is one :class:`RowProblem` (table, row as the user sees it — header = row 1, first
data row = 2, a DataFrame's position + 2 — column header as written, value, problem) and its row
is left out; every other row still loads. Bad cells: blank customer, blank or duplicate invoice
number (per customer), blank/text/negative amount, blank or unreadable date, a currency that is
not three letters, a due date before the invoice date, a blank due date with no readable terms,
an unreadable disputed flag. Dates are read like the customers table (ISO, Excel serial numbers,
unambiguous dd/mm/yyyy, ``dd.mm.yyyy`` with dots always day first: :func:`xlcredit.core.coerce.to_date`,
the one date rule). Amount text takes a point for decimals and commas
only as thousands separators (``1,234.50``; ``12,50`` is refused rather than read as 1250),
except in a semicolon CSV, where the comma is the decimal mark. A blank due date is set to
the invoice date + the net days of ``terms`` (:func:`xlcredit.core.terms.net_days_of`; prepayment
terms → due on the invoice date) and flagged ``due_date_derived``. A payment or credit note whose
``invoice_ref`` names no invoice of that customer in that currency is **kept** and reported: its
amount goes to the FIFO pool (allocation rule, :mod:`xlcredit.core.openitems`).

Speed
-----
Columns are parsed once per distinct value (``pandas.factorize``): a million rows have a few
hundred distinct dates, currencies and customers. :func:`load_ledger_frames` stops at validated
DataFrames (money as ``int64`` minor units, dates as ``datetime64``) for the bulk path
(:mod:`xlcredit.core.fast.ageing`): ``fast.ageing.frames_to_arrays(*frames.contract_tables())`` takes them
without re-parsing; :func:`load_ledger` goes on to ``Decimal`` records for the reference path.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlcredit.core.coerce import to_date
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.ledger import CreditNote, FxRates, Invoice, Ledger, Payment, RowProblem
from xlcredit.core.money import minor_units, to_decimal
from xlcredit.core.policy import Policy
from xlcredit.io.tables import normalise_header, readable_path

__all__ = ["LEDGER_ALIASES", "LEDGER_COLUMNS", "FxLoad", "LedgerFrames", "LedgerLoad", "RawTable",
           "load_fx_rates", "load_ledger", "load_ledger_files", "load_ledger_frames", "load_ledger_workbook",
           "read_raw", "records_of"]

TABLES = ("invoices", "payments", "credit_notes", "fx_rates")

# The documented columns of each table, in the documented order (README, "Ageing and open items").
LEDGER_COLUMNS: dict[str, tuple[str, ...]] = {
    "invoices": ("customer_id", "invoice_no", "currency", "amount", "invoice_date", "due_date", "terms", "disputed"),
    "payments": ("payment_id", "customer_id", "payment_date", "amount", "currency", "invoice_ref"),
    "credit_notes": ("credit_note_no", "customer_id", "date", "amount", "currency", "invoice_ref"),
    "fx_rates": ("date", "currency", "rate"),
}

_CUSTOMER = ("Customer ID", "Customer", "Customer No", "Customer Number", "Customer Code", "Cust ID", "Cust No",
             "Debtor", "Debtor No", "Debtor ID", "Account", "Account No", "Account Number", "Sold-to",
             "Bill-to Customer No", "Kunde", "Kundennummer", "Kunden-Nr", "Debitor", "Debitorennummer", "客户编号",
             "客户代码")
_CURRENCY = ("Currency", "Currency Code", "Curr", "Ccy", "Cur", "Document Currency", "Doc Currency",
             "Transaction Currency", "Währung", "币种")
_REFERENCE = ("Invoice Ref", "Inv Ref", "Invoice Reference", "Applies-to Doc. No.", "Applies to Doc No",
              "Applies To", "Applied to", "Reference", "Ref", "Invoice No", "Invoice Number", "Invoice",
              "Rechnungsnummer", "Rechnung", "发票号")

# Aliases per table, best first (the first one present wins when a file has several).
LEDGER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "invoices": {
        "customer_id": _CUSTOMER,
        "invoice_no": ("Invoice No", "Invoice Number", "Invoice", "Invoice ID", "Document No", "Document Number",
                       "Doc No", "Doc Number", "Belegnummer", "Beleg-Nr", "Rechnungsnummer", "发票号", "发票编号"),
        "currency": _CURRENCY,
        "amount": ("Amount", "Invoice Amount", "Gross Amount", "Original Amount", "Amount incl. VAT",
                   "Amount incl VAT", "Total", "Invoice Total", "Betrag", "Bruttobetrag", "Rechnungsbetrag", "金额"),
        "invoice_date": ("Invoice Date", "Document Date", "Doc Date", "Posting Date", "Date", "Belegdatum",
                         "Rechnungsdatum", "Buchungsdatum", "发票日期"),
        "due_date": ("Due Date", "Net Due Date", "Due", "Payment Due", "Due On", "Fälligkeit", "Fälligkeitsdatum",
                     "Fällig am", "Nettofälligkeit", "到期日"),
        "terms": ("Terms", "Payment Terms", "Payment Terms Code", "Terms Code", "Zahlungsbedingung",
                  "Zahlungsbedingungen", "付款条件"),
        "disputed": ("Disputed", "Dispute", "In Dispute", "On Hold", "Strittig", "Reklamation", "争议"),
    },
    "payments": {
        "payment_id": ("Payment ID", "Payment No", "Payment Number", "Receipt No", "Receipt Number",
                       "Document No", "Document Number", "Doc No", "Transaction ID", "Zahlungsnummer",
                       "Belegnummer"),
        "customer_id": _CUSTOMER,
        "payment_date": ("Payment Date", "Date", "Value Date", "Receipt Date", "Posting Date", "Document Date",
                         "Doc Date", "Zahlungsdatum", "Valuta", "Buchungsdatum", "付款日期"),
        "amount": ("Amount", "Payment Amount", "Amount Received", "Received", "Receipt Amount", "Betrag",
                   "Zahlbetrag", "金额"),
        "currency": _CURRENCY,
        "invoice_ref": _REFERENCE,
    },
    "credit_notes": {
        "credit_note_no": ("Credit Note No", "Credit Note Number", "Credit Note", "Credit Memo No",
                           "Credit Memo", "CN No", "Document No", "Document Number", "Doc No", "Gutschriftnummer",
                           "Gutschrift", "Belegnummer"),
        "customer_id": _CUSTOMER,
        "date": ("Date", "Credit Note Date", "Credit Date", "Document Date", "Doc Date", "Posting Date",
                 "Belegdatum", "Buchungsdatum"),
        "amount": ("Amount", "Credit Amount", "Credit Note Amount", "Gross Amount", "Betrag", "金额"),
        "currency": _CURRENCY,
        "invoice_ref": _REFERENCE,
    },
    "fx_rates": {
        "date": ("Date", "Rate Date", "Valid From", "As Of", "Datum"),
        "currency": ("Currency", "Currency Code", "Curr", "Ccy", "Cur", "From Currency", "Währung"),
        "rate": ("Rate", "FX Rate", "Exchange Rate", "Kurs", "Wechselkurs", "汇率"),
    },
}

# Headers that look like an amount but are not the document amount (see the module notes).
_NOT_AMOUNT = {normalise_header(h): why for h, why in (
    ("Amount (LCY)", "it is already in the company currency"),
    ("Amount LCY", "it is already in the company currency"),
    ("Amount in local currency", "it is already in the company currency"),
    ("Open Amount", "it is the amount still open after payments"),
    ("Remaining Amount", "it is the amount still open after payments"),
    ("Balance", "it is the amount still open after payments"),
    ("Offener Betrag", "it is the amount still open after payments"),
)}

_REQUIRED: dict[str, tuple[str, ...]] = {
    "invoices": ("customer_id", "invoice_no", "amount", "invoice_date"),
    "payments": ("customer_id", "payment_date", "amount"),
    "credit_notes": ("customer_id", "date", "amount"),
    "fx_rates": ("date", "currency", "rate"),
}

_TRUE = frozenset({"true", "yes", "y", "1", "x", "disputed", "wahr", "ja", "是"})
_FALSE = frozenset({"false", "no", "n", "0", "", "falsch", "nein", "否"})
_THOUSANDS = re.compile(r"-?\d{1,3}(\.\d{3})+")
_THOUSANDS_COMMA = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?")
_MAX_MINOR = 10**15  # minor units: 10 trillion EUR — far beyond any invoice, well inside int64 and decimal128(18, 3)


def _index(aliases: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, int]]:
    """Normalised header → (canonical column, priority: 0 = the documented name, then alias order)."""
    out: dict[str, tuple[str, int]] = {}
    for canonical, names in aliases.items():
        for rank, name in enumerate((canonical, *names)):
            key = normalise_header(name)
            if key in out and out[key][0] != canonical:  # pragma: no cover - a mistake in the tables above
                raise RuntimeError(f"alias {name!r} given for both {out[key][0]} and {canonical}")
            out.setdefault(key, (canonical, rank))
    return out


_INDEX = {table: _index(aliases) for table, aliases in LEDGER_ALIASES.items()}
_ALL_HEADERS = frozenset(k for index in _INDEX.values() for k in index)


# --------------------------------------------------------------------------- raw tables
@dataclass(frozen=True)
class RawTable:
    """A table as read: cells as in the file (headers as written) and each row's number in the file."""

    frame: pd.DataFrame
    rows: np.ndarray            # int64 row numbers as the user sees them
    source: str
    decimal_comma: bool = False


def read_raw(source: Any, *, table: str = "ledger", sheet: str | None = None) -> RawTable:
    """Read one table from a path (.csv/.xlsx/.xlsm/.parquet) or a DataFrame, without interpreting it.

    Raises :class:`XlcError` for a missing, unreadable or unsupported file.
    """
    if isinstance(source, RawTable):
        return source
    if isinstance(source, pd.DataFrame):
        frame = source.reset_index(drop=True)
        return RawTable(frame, np.arange(len(frame), dtype=np.int64) + 2, "DataFrame")
    path = readable_path(source, table)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return _read_csv(path)
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
            return RawTable(frame, np.arange(len(frame), dtype=np.int64) + 2, str(path))
        return _read_xlsx(path, sheet)
    except XlcError:
        raise
    except Exception as exc:  # a corrupt or locked file: one line that says so
        raise XlcError(f"{table} file", f"cannot be read ({type(exc).__name__}: {exc}): {path}", str(path)) from None


def _read_csv(path: Path) -> RawTable:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = text.splitlines()
    skip = 0
    while skip < len(lines) and not lines[skip].strip():
        skip += 1
    first = lines[skip] if skip < len(lines) else ""
    delimiter = max((",", ";", "\t"), key=first.count) if first else ","
    if not first:
        return RawTable(pd.DataFrame(), np.zeros(0, np.int64), str(path))
    frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, skiprows=skip,
                        skip_blank_lines=False, engine="c")
    return RawTable(frame, np.arange(len(frame), dtype=np.int64) + 2 + skip, str(path), delimiter == ";")


def _read_xlsx(path: Path, sheet: str | None) -> RawTable:
    from xlcredit.io.tables import read_rows

    raw = read_rows(path, table="ledger", sheet=sheet, header_hint=_ALL_HEADERS)
    width = len(raw.header)
    header = [h if h else f"(column {i + 1})" for i, h in enumerate(raw.header)]
    cells = [tuple(values[:width]) + (None,) * (width - len(values[:width])) for _n, values in raw.rows]
    frame = pd.DataFrame.from_records(cells, columns=header) if cells else pd.DataFrame(columns=header)
    rows = np.array([n for n, _v in raw.rows], dtype=np.int64)
    return RawTable(frame, rows, f"{path}" + (f" [{sheet}]" if sheet else ""))


def _map_columns(header: Sequence[Any], table: str) -> dict[str, int]:
    """Documented column → position in the file (the best-ranked alias when several are present)."""
    index = _INDEX[table]
    best: dict[str, tuple[int, int]] = {}
    for i, name in enumerate(header):
        hit = index.get(normalise_header(name))
        if hit is None or not str(name).strip():
            continue
        canonical, rank = hit
        if canonical not in best or rank < best[canonical][0]:
            best[canonical] = (rank, i)
    return {canonical: i for canonical, (_rank, i) in best.items()}


def _missing_column(table: str, column: str, header: Sequence[Any]) -> XlcError:
    seen = ", ".join(repr(str(h)) for h in header if str(h).strip()) or "no columns"
    label = table.replace("_", " ")
    hint = ""
    if column == "amount":
        odd = [str(h) for h in header if normalise_header(h) in _NOT_AMOUNT]
        if odd:
            hint = (f"; {odd[0]!r} is not used because {_NOT_AMOUNT[normalise_header(odd[0])]} — rename it to "
                    f"'amount' only if that is what you mean")
    return XlcError(column, f"column is missing from the {label} table (found {seen}){hint}", None)


# --------------------------------------------------------------------------- cell parsing, once per distinct value
def _blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series.dtype) and series.dtype != object


def _blank_cells(series: pd.Series) -> np.ndarray:
    """True where a cell is empty (missing, or only spaces)."""
    if _is_text(series):
        return (series.isna() | (series.str.strip() == "")).to_numpy(dtype=bool)
    if series.dtype != object:
        return series.isna().to_numpy(dtype=bool)
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    return np.array([_blank(u) for u in list(uniques)] + [True], dtype=bool)[codes]


@dataclass(frozen=True)
class _Parsed:
    """A column parsed once per distinct cell: row → distinct value, parsed values and problems per value."""

    codes: np.ndarray
    values: np.ndarray      # object, per distinct cell
    problems: np.ndarray    # object (str or None), per distinct cell

    @property
    def rows(self) -> np.ndarray:
        return self.values[self.codes]

    @property
    def bad(self) -> np.ndarray:
        return np.not_equal(self.problems, None)[self.codes] if self.codes.size else np.zeros(0, bool)

    def problem(self, row: int) -> str:
        return self.problems[self.codes[row]]


def _parse(series: pd.Series, parse: Callable[[Any], Any]) -> _Parsed:
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    raw = list(uniques)
    values = np.empty(len(raw), dtype=object)
    problems = np.empty(len(raw), dtype=object)
    for k, cell in enumerate(raw):
        try:
            values[k] = parse(cell)
        except XlcError as exc:
            problems[k] = exc.problem
    return _Parsed(codes.astype(np.int64, copy=False), values, problems)


def _cell_text(value: Any) -> str:
    if _blank(value):
        return ""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _texts(series: pd.Series) -> np.ndarray:
    """Cells as stripped text ("" for blank; 1001.0 from a spreadsheet is "1001"), object array."""
    if _is_text(series):
        return series.str.strip().fillna("").to_numpy(dtype=object)
    return _parse(series, _cell_text).rows


def _number_text(value: Any) -> Any:
    """Decimal-comma text (``1.234,56``) as plain text (``1234.56``)."""
    if not isinstance(value, str):
        return value
    text = value.strip().replace(" ", "").replace("\u00a0", "")
    if "," in text:
        return text.replace(".", "").replace(",", ".")
    if _THOUSANDS.fullmatch(text):
        return text.replace(".", "")
    return text


def _amount_parser(decimal_comma: bool) -> Callable[[Any], Decimal]:
    def parse(value: Any) -> Decimal:
        if _blank(value):
            raise XlcError("amount", "is empty", value)
        if isinstance(value, str):
            text = _number_text(value) if decimal_comma else value
            if "," in text and not _THOUSANDS_COMMA.fullmatch(text.strip()):
                raise XlcError("amount", f"is not a number (got {describe(value)}; write decimals with a point, "
                               "e.g. 1234.50)", value)
            try:
                number: Decimal | None = Decimal(text)
            except InvalidOperation:
                number = to_decimal(text, "amount")  # thousands separators, or the exact error words
        elif isinstance(value, np.generic):
            number = to_decimal(value.item(), "amount")
        else:
            number = to_decimal(value, "amount")
        assert number is not None
        if not number.is_finite():
            raise XlcError("amount", f"is not a finite number (got {describe(value)})", value)
        if number < 0:
            raise XlcError("amount", f"must not be negative (got {number})", value)
        return number
    return parse


def _date(value: Any) -> dt.date:
    return to_date(value, "date")


def _currency(value: Any) -> str:
    text = _cell_text(value).upper()
    if not text:
        raise XlcError("currency", "is empty", value)
    if len(text) != 3 or not all("A" <= ch <= "Z" for ch in text):
        raise XlcError("currency", f"is not a 3-letter ISO 4217 code like EUR (got {describe(value)})", value)
    return text


def _flag(value: Any) -> bool:
    if _blank(value):
        return False
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
        return bool(value)
    text = _cell_text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise XlcError("disputed", f"must be true or false (got {describe(value)})", value)


def _net_days(value: Any) -> int:
    from xlcredit.core.terms import net_days_of

    text = _cell_text(value)
    if not text:
        raise XlcError("terms", "is empty", value)
    days = net_days_of(text)
    return 0 if days is None else days  # prepayment terms: due on the invoice date


def _rescale(unscaled: np.ndarray, scale: int, exps: np.ndarray) -> np.ndarray:
    """Integers with ``scale`` decimals → minor units with ``exps`` decimals per row, rounded half up."""
    out = np.empty_like(unscaled)
    for e in np.unique(exps).tolist():
        rows = exps == e
        u = unscaled[rows]
        if e >= scale:
            out[rows] = u * 10 ** (e - scale)
        else:
            div = 10 ** (scale - e)
            q = (np.abs(u) * 2 + div) // (2 * div)
            out[rows] = np.where(u < 0, -q, q)
    return out


def _amounts(series: pd.Series, exps: np.ndarray, decimal_comma: bool) -> tuple[np.ndarray, np.ndarray]:
    """Amounts → int64 minor units per row (half up) and the problem per row (None where fine).

    Whole columns at once where the type allows (integers, floats that are exact in cents, plain
    ``123.45`` text, Decimal objects via Arrow); anything else one cell at a time with the exact
    error words of :func:`xlcredit.core.money.to_decimal`.
    """
    n = len(series)
    minor = np.zeros(n, np.int64)
    todo = np.ones(n, dtype=bool)  # rows still to read one cell at a time
    kind = series.dtype.kind
    if kind in "iu" and series.dtype != object:
        missing = series.isna().to_numpy(dtype=bool)  # nullable Int64 / int64[pyarrow]: <NA> is a blank cell
        values = series.to_numpy(dtype=np.int64, na_value=0)
        fits = np.abs(values) < _MAX_MINOR // 10 ** exps
        minor = np.where(fits, values * 10 ** exps, 0)
        todo = ~fits | (values < 0) | missing
    elif kind == "f":
        values = series.to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            scaled = values * 10.0 ** exps
            near = np.rint(scaled)
            fine = np.isfinite(scaled) & (np.abs(scaled - near) <= 1e-6) & (near >= 0) & (near < 2.0**52)
        minor = np.where(fine, near, 0).astype(np.int64)
        todo = ~fine
    elif _is_text(series) and not decimal_comma:
        text = series.str.strip()
        plain = text.str.fullmatch(r"\d{1,15}(?:\.\d{1,9})?").fillna(False).to_numpy(dtype=bool)
        if plain.any():
            parts = text[plain].str.partition(".")
            whole = parts[0].to_numpy(dtype=object).astype(np.int64)
            frac = parts[2].str.pad(9, side="right", fillchar="0").to_numpy(dtype=object).astype(np.int64)
            minor[plain] = _rescale(whole * 10**9 + frac, 9, exps[plain])
            todo = ~plain
    elif series.dtype == object and n:
        import pyarrow as pa

        try:
            arr = pa.array(series.to_numpy(dtype=object), from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError):
            arr = None
        if arr is not None and pa.types.is_decimal128(arr.type) and arr.type.precision <= 18:
            words = np.frombuffer(arr.buffers()[1], dtype="<i8")[2 * arr.offset: 2 * (arr.offset + n)]
            valid = arr.is_valid().to_numpy(zero_copy_only=False)
            unscaled = np.where(valid, words[0::2], 0)
            minor = _rescale(unscaled, arr.type.scale, exps)
            todo = ~valid | (unscaled < 0) | (np.abs(minor) >= _MAX_MINOR)
    problems = np.full(n, None, dtype=object)
    rows = np.flatnonzero(todo)
    if rows.size:
        parse = _amount_parser(decimal_comma)
        cells = series.to_numpy(dtype=object)
        for r in rows.tolist():
            try:
                number = parse(cells[r])
            except XlcError as exc:
                problems[r] = exc.problem
                minor[r] = 0
                continue
            units = int(number.scaleb(int(exps[r])).to_integral_value(rounding=ROUND_HALF_UP))
            if units >= _MAX_MINOR:
                problems[r] = f"is too large (the limit is {_MAX_MINOR - 1:,} in minor units)"
                units = 0
            minor[r] = units
    return minor, problems


def _exponents(currencies: np.ndarray) -> np.ndarray:
    """Decimals of each row's currency (2 where the currency is not known yet)."""
    if not currencies.size:
        return np.zeros(0, np.int64)
    codes, uniques = pd.factorize(pd.Series(currencies, dtype=object), use_na_sentinel=False)
    return np.array([minor_units(c) if isinstance(c, str) and c else 2 for c in list(uniques)],
                    dtype=np.int64)[codes]


_NAT = np.datetime64("NaT", "D")


def _day_values(parsed: _Parsed) -> np.ndarray:
    """Parsed dates → datetime64[D] per row (NaT where there is no date)."""
    per_value = np.array([_NAT if v is None else np.datetime64(v, "D") for v in parsed.values.tolist()],
                         dtype="datetime64[D]")
    return per_value[parsed.codes] if parsed.codes.size else np.zeros(0, "datetime64[D]")


# --------------------------------------------------------------------------- one table
class _Checked:
    """A table being validated: its cells, which rows are still good, and the problems found so far."""

    def __init__(self, table: str, raw: RawTable, columns: dict[str, int], header: list[str]) -> None:
        self.table, self.raw, self.columns, self.header = table, raw, columns, header
        self.problems: list[RowProblem] = []
        blank = np.ones(len(raw.frame), dtype=bool)
        for i in range(raw.frame.shape[1]):  # rows with nothing in them are not rows
            if not blank.any():
                break
            rows = np.flatnonzero(blank)
            blank[rows] = _blank_cells(raw.frame.iloc[rows, i])
        self.ok = ~blank
        self.live = self.ok.copy()  # every problem of a non-blank row is reported, not just its first

    def cells(self, canonical: str) -> pd.Series | None:
        i = self.columns.get(canonical)
        return None if i is None else self.raw.frame.iloc[:, i]

    def header_of(self, canonical: str) -> str:
        return self.header[self.columns[canonical]] if canonical in self.columns else canonical

    def flag(self, canonical: str, mask: np.ndarray, problem: str | Callable[[int], str],
             values: Any = None) -> None:
        """Report the live rows where ``mask`` is true (``problem``: text, or row → text) and drop them."""
        bad = mask & self.live
        rows = np.flatnonzero(bad)
        if rows.size == 0:
            return
        cells = values if values is not None else self.cells(canonical)
        header = self.header_of(canonical)
        for r in rows.tolist():
            value = None if cells is None else (cells.iloc[r] if isinstance(cells, pd.Series) else cells[r])
            if isinstance(value, np.generic):
                value = value.item()
            self.problems.append(RowProblem(self.table, int(self.raw.rows[r]), header,
                                            None if _blank(value) else value,
                                            problem(r) if callable(problem) else problem))
        self.ok &= ~bad

    def flag_parsed(self, canonical: str, parsed: _Parsed) -> None:
        self.flag(canonical, parsed.bad, parsed.problem)


def _checked(source: Any, table: str, sheet: str | None) -> _Checked:
    raw = read_raw(source, table=table, sheet=sheet)
    header = [str(c) for c in raw.frame.columns]
    columns = _map_columns(header, table)
    for name in _REQUIRED[table]:
        if name not in columns:
            raise _missing_column(table, name, header)
    if table == "invoices" and "due_date" not in columns and "terms" not in columns:
        raise XlcError("due_date", f"column is missing from the invoices table, and there is no terms column to "
                       f"derive it from (found {', '.join(repr(h) for h in header)})", None)
    return _Checked(table, raw, columns, header)


def _text_column(c: _Checked, canonical: str, *, required: bool) -> np.ndarray:
    cells = c.cells(canonical)
    if cells is None:
        return np.full(len(c.raw.frame), "", dtype=object)
    values = _texts(cells)
    if required:
        c.flag(canonical, values == "", "is empty")
    return values


def _date_column(c: _Checked, canonical: str, *, allow_blank: bool = False) -> np.ndarray:
    """datetime64[D] per row; NaT where blank (allowed) or bad (reported)."""
    cells = c.cells(canonical)
    if cells is None:
        return np.full(len(c.raw.frame), _NAT, dtype="datetime64[D]")
    parsed = _parse(cells, _date)
    if allow_blank:
        problems = np.array([None if p == "is empty" else p for p in parsed.problems.tolist()], dtype=object)
        parsed = _Parsed(parsed.codes, parsed.values, problems)
    c.flag_parsed(canonical, parsed)
    return _day_values(parsed)


def _common(c: _Checked, company_currency: str, date_column: str) -> dict[str, Any]:
    """customer_id, currency, amount (minor units), the document date — what every ledger table has."""
    customer = _text_column(c, "customer_id", required=True)
    ccy_cells = c.cells("currency")
    if ccy_cells is None:
        currency = np.full(len(c.raw.frame), company_currency, dtype=object)
    else:
        parsed_ccy = _parse(ccy_cells, _currency)
        c.flag_parsed("currency", parsed_ccy)
        currency = parsed_ccy.rows
    minor, problems = _amounts(c.cells("amount"), _exponents(currency), c.raw.decimal_comma)
    c.flag("amount", np.not_equal(problems, None), lambda r: problems[r])
    day = _date_column(c, date_column)
    return {"customer_id": customer, "currency": currency, "amount_minor": minor, date_column: day}


# --------------------------------------------------------------------------- frames (validated, for both paths)
@dataclass(frozen=True)
class LedgerFrames:
    """Validated ledger tables (only the good rows), money in int64 minor units, dates datetime64.

    Columns — invoices: row, customer_id, invoice_no, currency, amount_minor, invoice_date,
    due_date, terms, disputed, due_date_derived; payments: row, payment_id, customer_id,
    payment_date, amount_minor, currency, invoice_ref; credit notes: row, credit_note_no,
    customer_id, date, amount_minor, currency, invoice_ref. ``row`` is the row number in the file.
    ``amount_minor`` is in each row's currency (cents; yen for JPY; fils for BHD).
    """

    invoices: pd.DataFrame
    payments: pd.DataFrame
    credit_notes: pd.DataFrame
    problems: tuple[RowProblem, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)
    company_currency: str = "EUR"

    def contract_tables(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The three tables under the documented column names, ``amount`` as an exact Arrow decimal.

        Made for ``xlcredit.core.fast.ageing.frames_to_arrays(*frames.contract_tables())``: the amounts
        are ``decimal128(18, 3)`` built from ``amount_minor`` without a Python loop.
        """
        return (_with_amount(self.invoices), _with_amount(self.payments), _with_amount(self.credit_notes))


def _with_amount(frame: pd.DataFrame) -> pd.DataFrame:
    import pyarrow as pa

    codes, uniques = pd.factorize(frame["currency"], use_na_sentinel=False)
    exponents = np.array([minor_units(c) for c in list(uniques)] + [2], dtype=np.int64)[codes]
    unscaled = frame["amount_minor"].to_numpy(dtype=np.int64) * 10 ** (3 - exponents)
    words = np.empty(2 * unscaled.shape[0], dtype="<i8")
    words[0::2] = unscaled
    words[1::2] = unscaled >> 63
    arr = pa.Array.from_buffers(pa.decimal128(18, 3), unscaled.shape[0], [None, pa.py_buffer(words.tobytes())])
    out = frame.drop(columns=["amount_minor"])
    out.insert(list(frame.columns).index("amount_minor"), "amount",
               pd.Series(pd.arrays.ArrowExtensionArray(arr), index=frame.index))
    return out


def _company(policy: Policy | None) -> str:
    return (policy or Policy()).company.currency


def load_ledger_frames(invoices: Any, payments: Any = None, credit_notes: Any = None, *,
                       policy: Policy | None = None, sheets: Mapping[str, str] | None = None) -> LedgerFrames:
    """Read and validate the ledger tables; bad rows become :class:`RowProblem`, good rows a DataFrame each.

    Each table is a path, a DataFrame or None (no such documents). ``sheets``: worksheet per table
    (``{"invoices": "Sheet1"}``) for workbook paths. See the module docstring for every rule.
    """
    company = _company(policy)
    sheets = dict(sheets or {})
    problems: list[RowProblem] = []
    sources: dict[str, str] = {}

    inv = _checked(invoices, "invoices", sheets.get("invoices"))
    sources["invoices"] = inv.raw.source
    inv_frame = _invoice_frame(inv, company)
    problems.extend(inv.problems)

    credit_frames: dict[str, pd.DataFrame] = {}
    for table, source, id_col, date_col in (("payments", payments, "payment_id", "payment_date"),
                                            ("credit_notes", credit_notes, "credit_note_no", "date")):
        if source is None:
            credit_frames[table] = _empty_credit_frame(id_col, date_col)
            continue
        c = _checked(source, table, sheets.get(table))
        sources[table] = c.raw.source
        credit_frames[table] = _credit_frame(c, company, id_col, date_col, inv_frame)
        problems.extend(c.problems)
    return LedgerFrames(inv_frame, credit_frames["payments"], credit_frames["credit_notes"],
                        tuple(problems), sources, company)


def _invoice_frame(c: _Checked, company: str) -> pd.DataFrame:
    cols = _common(c, company, "invoice_date")
    number = _text_column(c, "invoice_no", required=True)
    disputed_cells = c.cells("disputed")
    disputed = np.zeros(len(c.raw.frame), dtype=bool)
    if disputed_cells is not None:
        flags = _parse(disputed_cells, _flag)
        c.flag_parsed("disputed", flags)
        disputed = np.array([v is True for v in flags.values.tolist()] + [False], dtype=bool)[flags.codes]
    terms = _text_column(c, "terms", required=False)
    inv_day = cols["invoice_date"]
    due = _date_column(c, "due_date", allow_blank=True)
    # a blank due date: invoice date + net days of the terms, flagged as derived
    due_cells = c.cells("due_date")   # a bad due date was reported as bad: it is not a blank one to derive
    blank_due = np.isnat(due) & c.live & (True if due_cells is None else _blank_cells(due_cells))
    derived = np.zeros(len(due), dtype=bool)
    if blank_due.any():
        no_terms = blank_due & (terms == "")
        c.flag("due_date", no_terms, "is empty and there are no terms to derive it from")
        net = _parse(pd.Series(terms, dtype=object), _net_days)
        c.flag("terms", blank_due & ~no_terms & net.bad,
               lambda r: f"{net.problem(r)} (needed because due_date is empty)", values=terms)
        derived = blank_due & c.ok & ~np.isnat(inv_day)
        days = np.array([0 if v is None else v for v in net.values.tolist()] + [0], dtype=np.int64)[net.codes]
        due = np.where(derived, inv_day + days.astype("timedelta64[D]"), due)
    early = c.ok & (due < inv_day)
    c.flag("due_date", early, lambda r: f"is before the invoice date ({due[r]} < {inv_day[r]})")
    # one invoice number per customer
    keys = pd.DataFrame({"c": cols["customer_id"], "n": number})
    filled = (keys["c"] != "").to_numpy() & (keys["n"] != "").to_numpy()
    dup = keys.duplicated(keep="first").to_numpy() & filled
    if dup.any():
        first_row: dict[tuple[str, str], int] = {}
        wanted = set(zip(keys["c"][dup].tolist(), keys["n"][dup].tolist(), strict=True))
        for i in np.flatnonzero(filled).tolist():
            key = (cols["customer_id"][i], number[i])
            if key in wanted and key not in first_row:
                first_row[key] = int(c.raw.rows[i])
        c.flag("invoice_no", dup, lambda r: f"repeats invoice {number[r]} of customer {cols['customer_id'][r]} "
               f"(first on row {first_row[(cols['customer_id'][r], number[r])]})")
    minor = cols["amount_minor"]
    keep = c.ok
    c.problems.sort(key=lambda p: p.row)
    return pd.DataFrame({
        "row": c.raw.rows[keep], "customer_id": cols["customer_id"][keep], "invoice_no": number[keep],
        "currency": cols["currency"][keep], "amount_minor": minor[keep],
        "invoice_date": inv_day[keep].astype("datetime64[ns]"), "due_date": due[keep].astype("datetime64[ns]"),
        "terms": terms[keep], "disputed": disputed[keep], "due_date_derived": derived[keep],
    })


def _empty_credit_frame(id_col: str, date_col: str) -> pd.DataFrame:
    return pd.DataFrame({"row": np.zeros(0, np.int64), id_col: np.zeros(0, object),
                         "customer_id": np.zeros(0, object), date_col: np.zeros(0, "datetime64[ns]"),
                         "amount_minor": np.zeros(0, np.int64), "currency": np.zeros(0, object),
                         "invoice_ref": np.zeros(0, object)})


def _credit_frame(c: _Checked, company: str, id_col: str, date_col: str, invoices: pd.DataFrame) -> pd.DataFrame:
    cols = _common(c, company, date_col)
    ids = _text_column(c, id_col, required=False)
    blank_id = ids == ""
    if blank_id.any():
        ids[blank_id] = [f"row {int(r)}" for r in c.raw.rows[blank_id].tolist()]
    refs = _text_column(c, "invoice_ref", required=False)
    minor = cols["amount_minor"]
    # a reference naming no invoice of this customer in this currency: kept, reported, amount to the pool
    has_ref = c.ok & (refs != "")
    if has_ref.any():
        rows = np.flatnonzero(has_ref)
        known = pd.MultiIndex.from_arrays([invoices["customer_id"].to_numpy(dtype=object),
                                           invoices["invoice_no"].to_numpy(dtype=object)])
        at = known.get_indexer(pd.MultiIndex.from_arrays([cols["customer_id"][rows], refs[rows]]))
        inv_ccy = invoices["currency"].to_numpy(dtype=object)
        header = c.header_of("invoice_ref")
        for r, k in zip(rows.tolist(), at.tolist(), strict=True):
            cid, ref, ccy = cols["customer_id"][r], refs[r], cols["currency"][r]
            if k >= 0 and inv_ccy[k] == ccy:
                continue
            why = f"names no invoice of customer {cid}" if k < 0 else f"names an invoice in {inv_ccy[k]}, not {ccy}"
            c.problems.append(RowProblem(c.table, int(c.raw.rows[r]), header, ref,
                                         f"{why} (got {ref!r}); the amount goes to the oldest open invoices "
                                         "(row kept)"))
    keep = c.ok
    c.problems.sort(key=lambda p: p.row)
    return pd.DataFrame({
        "row": c.raw.rows[keep], id_col: ids[keep], "customer_id": cols["customer_id"][keep],
        date_col: cols[date_col][keep].astype("datetime64[ns]"), "amount_minor": minor[keep],
        "currency": cols["currency"][keep], "invoice_ref": refs[keep],
    })


# --------------------------------------------------------------------------- records (the reference path)
@dataclass(frozen=True)
class LedgerLoad:
    """A loaded ledger: the good rows as records, the bad ones as problems, the FX rates if given.

    ``derived_due_dates``: invoices whose blank due date was set from their terms (each flagged
    ``due_date_derived``).
    """

    ledger: Ledger
    problems: tuple[RowProblem, ...] = ()
    fx: FxRates | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    derived_due_dates: int = 0


def _dates_of(column: pd.Series) -> list[dt.date]:
    values = column.to_numpy(dtype="datetime64[D]").astype(np.int64)
    codes, uniques = pd.factorize(values)
    epoch = dt.date(1970, 1, 1)
    days = np.array([epoch + dt.timedelta(days=int(u)) for u in uniques.tolist()] + [None], dtype=object)
    return days[codes].tolist()


def _decimals_of(frame: pd.DataFrame) -> list[Decimal]:
    units = frame["amount_minor"].to_numpy(dtype=np.int64)
    codes, uniques = pd.factorize(frame["currency"], use_na_sentinel=False)
    exponents = np.array([minor_units(c) for c in list(uniques)] + [2], dtype=np.int64)[codes]
    out = np.empty(units.shape[0], dtype=object)
    for e in np.unique(exponents).tolist():
        rows = np.flatnonzero(exponents == e)
        scale = Decimal(10) ** -e
        quantum = Decimal(1).scaleb(-e)
        out[rows] = [(Decimal(u) * scale).quantize(quantum) for u in units[rows].tolist()]
    return out.tolist()


def records_of(frames: LedgerFrames) -> Ledger:
    """Validated frames → the :class:`Ledger` of Decimal records (the reference path).

    The frames were checked cell by cell already, so the records are built without checking again
    (``Invoice.trusted`` & co.) — that halves the time for a million rows.
    """
    inv = frames.invoices
    invoices = tuple(
        Invoice.trusted(cid, no, ccy, amount, day, due, terms, disputed, derived)
        for cid, no, ccy, amount, day, due, terms, disputed, derived in zip(
            inv["customer_id"].tolist(), inv["invoice_no"].tolist(), inv["currency"].tolist(), _decimals_of(inv),
            _dates_of(inv["invoice_date"]), _dates_of(inv["due_date"]), inv["terms"].tolist(),
            inv["disputed"].tolist(), inv["due_date_derived"].tolist(), strict=True))
    pay = frames.payments
    payments = tuple(
        Payment.trusted(pid, cid, day, amount, ccy, ref)
        for pid, cid, day, amount, ccy, ref in zip(
            pay["payment_id"].tolist(), pay["customer_id"].tolist(), _dates_of(pay["payment_date"]),
            _decimals_of(pay), pay["currency"].tolist(), pay["invoice_ref"].tolist(), strict=True))
    cn = frames.credit_notes
    credit_notes = tuple(
        CreditNote.trusted(no, cid, day, amount, ccy, ref)
        for no, cid, day, amount, ccy, ref in zip(
            cn["credit_note_no"].tolist(), cn["customer_id"].tolist(), _dates_of(cn["date"]), _decimals_of(cn),
            cn["currency"].tolist(), cn["invoice_ref"].tolist(), strict=True))
    return Ledger(invoices, payments, credit_notes)


def load_ledger(invoices: Any, payments: Any = None, credit_notes: Any = None, *, policy: Policy | None = None,
                fx_rates: Any = None, sheets: Mapping[str, str] | None = None) -> LedgerLoad:
    """Read the ledger tables into Decimal records: ``LedgerLoad(ledger, problems, fx, …)``.

    ``invoices``/``payments``/``credit_notes``/``fx_rates``: a path, a DataFrame or None. The
    company currency is ``policy.company.currency`` (shipped default EUR when no policy is given).
    """
    frames = load_ledger_frames(invoices, payments, credit_notes, policy=policy, sheets=sheets)
    ledger = records_of(frames)
    problems = list(frames.problems)
    sources = dict(frames.sources)
    fx = None
    if fx_rates is not None:
        loaded = load_fx_rates(fx_rates, policy=policy, sheet=(sheets or {}).get("fx_rates"))
        fx = loaded.fx
        problems.extend(loaded.problems)
        sources["fx_rates"] = loaded.source
    return LedgerLoad(ledger, tuple(problems), fx, sources, int(frames.invoices["due_date_derived"].sum()))


# --------------------------------------------------------------------------- FX rates
@dataclass(frozen=True)
class FxLoad:
    """FX rates read from a table, and the rows that could not be used."""

    fx: FxRates
    problems: tuple[RowProblem, ...] = ()
    source: str = ""


def load_fx_rates(source: Any, *, policy: Policy | None = None, sheet: str | None = None) -> FxLoad:
    """Read an FX table (date, currency, rate = company-currency units per 1 unit of currency).

    Bad rows (blank or unreadable date, bad currency code, rate blank/not a number/not positive,
    a second different rate for the same currency and date, a company-currency rate other than 1)
    are reported and left out.
    """
    company = _company(policy)
    c = _checked(source, "fx_rates", sheet)
    day = _date_column(c, "date")
    parsed_ccy = _parse(c.cells("currency"), _currency)
    c.flag_parsed("currency", parsed_ccy)
    currency = parsed_ccy.rows
    read_number = _amount_parser(c.raw.decimal_comma)

    def positive(value: Any) -> Decimal:
        rate = read_number(value)
        if rate == 0:
            raise XlcError("rate", "must be positive (got 0)", value)
        return rate

    parsed_rate = _parse(c.cells("rate"), positive)
    c.flag_parsed("rate", parsed_rate)
    rate = parsed_rate.rows
    msgs = np.full(len(c.raw.frame), None, dtype=object)
    seen: dict[tuple[str, Any], tuple[Decimal, int]] = {}
    for i in np.flatnonzero(c.ok).tolist():
        key = (currency[i], day[i])
        if currency[i] == company and rate[i] != 1:
            msgs[i] = f"{company} is the company currency, its rate is always 1 (got {rate[i]})"
        elif key in seen and seen[key][0] != rate[i]:
            msgs[i] = f"a second rate for {key[0]} on {key[1]} (row {seen[key][1]} says {seen[key][0]})"
        else:
            seen.setdefault(key, (rate[i], int(c.raw.rows[i])))
    c.flag("rate", np.not_equal(msgs, None), lambda r: msgs[r])
    keep = np.flatnonzero(c.ok).tolist()
    fx = FxRates(tuple((day[i].item(), currency[i], rate[i]) for i in keep), company)
    c.problems.sort(key=lambda p: p.row)
    return FxLoad(fx, tuple(c.problems), c.raw.source)


# --------------------------------------------------------------------------- workbooks and sets of files
_SHEET_NAMES: dict[str, frozenset[str]] = {
    "invoices": frozenset({"invoices", "invoice", "openitems", "rechnungen", "发票"}),
    "payments": frozenset({"payments", "payment", "receipts", "cashreceipts", "zahlungen", "收款"}),
    "credit_notes": frozenset({"creditnotes", "creditnote", "credits", "creditmemos", "gutschriften"}),
    "fx_rates": frozenset({"fxrates", "fx", "rates", "exchangerates", "fxrate", "wechselkurse", "汇率"}),
}


def _sheet_names(path: Path) -> list[str]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise XlcError("ledger file", f"cannot be read ({type(exc).__name__}: {exc}): {path}", str(path)) from None
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def load_ledger_workbook(path: str | Path, *, policy: Policy | None = None) -> LedgerLoad:
    """Read one workbook with sheets Invoices, Payments, CreditNotes and FxRates (all but Invoices optional)."""
    file = Path(path)
    if not file.is_file():
        raise XlcError("ledger file", f"not found: {file}", str(file))
    found: dict[str, str] = {}
    names = _sheet_names(file)
    for name in names:
        key = normalise_header(name)
        for table, accepted in _SHEET_NAMES.items():
            if key in accepted and table not in found:
                found[table] = name
    if "invoices" not in found:
        raise XlcError("ledger file", f"{file.name} has no Invoices sheet (sheets: {', '.join(names)})", str(file))
    return load_ledger(file, file if "payments" in found else None, file if "credit_notes" in found else None,
                       policy=policy, fx_rates=file if "fx_rates" in found else None, sheets=found)


def _table_by_name(path: Path) -> str | None:
    stem = normalise_header(path.stem)
    if "fx" in stem or "rate" in stem or "exchange" in stem or "wechselkurs" in stem:
        return "fx_rates"
    if "credit" in stem or "gutschrift" in stem:
        return "credit_notes"
    if "payment" in stem or "receipt" in stem or "zahlung" in stem:
        return "payments"
    if "invoice" in stem or "openitem" in stem or "rechnung" in stem:
        return "invoices"
    return None


# headers that only one table has
_TELLING: dict[str, frozenset[str]] = {
    "fx_rates": frozenset(normalise_header(h) for h in ("rate", "FX Rate", "Exchange Rate", "Kurs", "Wechselkurs")),
    "credit_notes": frozenset(normalise_header(h) for h in ("credit_note_no", "Credit Note No", "Credit Note Number",
                                                            "Credit Note", "Credit Memo No", "Credit Memo", "CN No",
                                                            "Credit Note Date", "Credit Amount")),
    "payments": frozenset(normalise_header(h) for h in ("payment_id", "payment_date", "Payment ID", "Payment No",
                                                        "Payment Date", "Value Date", "Receipt No", "Payment Amount",
                                                        "Amount Received")),
    "invoices": frozenset(normalise_header(h) for h in ("invoice_date", "due_date", "terms", "disputed",
                                                        "Invoice Date", "Due Date", "Net Due Date", "Payment Terms",
                                                        "Invoice Amount")),
}


def _table_by_columns(raw: RawTable) -> str | None:
    headers = {normalise_header(c) for c in raw.frame.columns}
    hits = [table for table, telling in _TELLING.items() if headers & telling]
    return hits[0] if len(hits) == 1 else None


def load_ledger_files(paths: Iterable[str | Path], *, policy: Policy | None = None) -> LedgerLoad:
    """Load the ledger from the files the user named: one workbook with ledger sheets, or one file per table.

    Single files are recognised by name (``invoices.csv``, ``payments.csv``, ``credit_notes.csv``,
    ``fx_rates.csv``, also e.g. ``2026_receipts.xlsx``) or, when the name says nothing, by the
    columns only one table has (due date/terms → invoices, payment date → payments, credit note
    number → credit notes, rate → FX rates). An invoices table is required.
    """
    files = [Path(p) for p in paths]
    if not files:
        raise XlcError("ledger", "no files given", None)
    if len(files) == 1 and files[0].suffix.lower() in (".xlsx", ".xlsm") and files[0].is_file():
        key_names = {normalise_header(n) for n in _sheet_names(files[0])}
        if key_names & _SHEET_NAMES["invoices"]:
            return load_ledger_workbook(files[0], policy=policy)
    tables: dict[str, Any] = {}
    for file in files:
        table = _table_by_name(file)
        source: Any = file
        if table is None:
            raw = read_raw(file, table="ledger")
            table = _table_by_columns(raw)
            source = raw
            if table is None:
                raise XlcError("ledger file", f"cannot tell which table {file.name} is: name it invoices.csv, "
                               "payments.csv, credit_notes.csv or fx_rates.csv", str(file))
        if table in tables:
            raise XlcError("ledger file", f"two files for the {table.replace('_', ' ')}: {tables[table]} and "
                           f"{file}", str(file))
        tables[table] = source
    if "invoices" not in tables:
        raise XlcError("ledger file", "no invoices table among the files given (name it invoices.csv)", None)
    return load_ledger(tables["invoices"], tables.get("payments"), tables.get("credit_notes"), policy=policy,
                       fx_rates=tables.get("fx_rates"))
