"""Read the receivables ledger — invoices, payments, credit notes, FX rates — from files or DataFrames.

Sources
-------
Each table is a path to ``.csv`` (UTF-8 with or without BOM, else Windows-1252; comma, semicolon
or tab separated — the one that splits a known header best), ``.xlsx``/``.xlsm`` (openpyxl, cached
values), ``.parquet``, or a pandas ``DataFrame``. In every case title rows above the header are
skipped (the header is the first row naming two known columns; a DataFrame whose column names are a
title gets its header from its rows, as a folder of Excel-saved files gives them).
:func:`load_ledger_workbook` reads one workbook with sheets ``Invoices``, ``Payments``, ``CreditNotes``
(also "Credit Notes"/"Credits") and ``FxRates`` (also "FX"/"Rates"); :func:`load_ledger_files` takes the
files the ``xlcredit age`` command is given and tells them apart by name (``invoices…``,
``payments…``/``receipts…``, ``credit…``, ``fx…``/``…rates…``, ``customers…``) or, failing that, by
their columns (:func:`table_kind`) — a workbook's sheets too, whatever their names (``应收账款``).
:func:`inspect_files` says how each file and sheet would be read, without ageing (``xlcredit inspect``).

Columns
-------
The documented names (:data:`LEDGER_COLUMNS`) or an alias in :data:`LEDGER_ALIASES` (English, German,
Chinese; the headings of ERPNext, Odoo, SAP FBL5N, QuickBooks, Xero, Kingdee/Yonyou exports), compared
ignoring case, spaces, underscores and punctuation (``"Customer No"`` = ``"customer_no"``). Unknown
columns are ignored (``inspect`` lists them). When a file has several columns for one field (both
"Document date" and "Posting date"), the name listed first in the aliases wins. "Amount (LCY)"/"Amount
in local currency" are never the amount (already in the company currency). A customer may be given by
id, by name (``customer_name``: matched to the customers table's names when one is given, else the name
is the id) or by the customer headings of a grouped report (QuickBooks, Xero: a row with one text cell
and no date names the customer of the rows below it).

**Open-item exports.** With neither payments nor credit notes loaded, an invoices table with an
outstanding column ("Outstanding Amount", "Amount Due", "Open Balance", "未收金额", …) is aged on it and a
note says so, naming the gross column if there is one; with payments loaded the gross amount is aged and
the note says the outstanding column is not used (it would count the payments twice). In such an export
(or one with a "Clearing Date" column, or an aged report's bucket columns) a negative line is a credit
(credit note, payment on account) applied to the customer's oldest open items, and a line with a
clearing date is a cleared item, skipped and counted.

Required columns: invoices customer (id, name or headings), invoice_no, amount or outstanding,
invoice_date and due_date or terms; payments customer, payment_date, amount; credit notes customer,
date, amount; FX rates date, currency, rate. A missing ``currency`` column means the currency written
in the amounts (``EUR 1.234,56``, ``€12``) or else the company currency (``policy.company.currency``);
a missing ``payment_id``/``credit_note_no`` (or a blank one) becomes ``"row N"``. A missing required
column raises :class:`XlcError` listing the columns found.

Rows
----
Blank rows, total and subtotal rows ("Total", "Total for Acme", "合计" where the date should be),
customer headings and notes are set aside and counted (:class:`TableInfo` ``skipped``). Every bad cell is
one :class:`RowProblem` (table, row as the user sees it — header = its row in the file, a DataFrame's
position + 2 — column header as written, value, problem) and its row is left out; every other row still
loads. Bad cells: blank customer, blank or duplicate invoice number (per customer), blank/text/negative
amount, blank or unreadable date, a currency that is not three letters (人民币, 美元 … are read as CNY,
USD …), an amount written in another currency than its currency column, a due date before the invoice
date, a blank due date with no readable terms, an unreadable disputed flag.

**Dates** go through :func:`xlcredit.core.coerce.to_date` (the one date rule: ISO, Excel serials,
``dd.mm.yyyy``). dd/mm against mm/dd is settled per column from all its values: a first part above 12
anywhere means day first, a second part above 12 month first, and a column that settles nothing takes the
order of another date column of the file; ``dates=`` (``--dates day-first|month-first|iso``) says it
outright. A column of dd/mm dates that nothing settles is refused as a whole — one error naming the
column, two of its values and the option — never row by row. **Amounts**: the decimal mark is judged
per column (``1.234,56`` · ``1 234,56`` · ``1,234.56``; a semicolon CSV defaults to the comma); negatives
in parentheses or with a trailing minus; currency symbols and codes inside the text. A text the column's
decimal mark cannot read (``12,50`` among ``1,250.00``) is refused rather than guessed. A blank due date
is set to the invoice date + the net days of ``terms`` (:func:`xlcredit.core.terms.net_days_of`;
prepayment terms → due on the invoice date) and flagged ``due_date_derived``. A payment or credit note
whose ``invoice_ref`` names no invoice of that customer in that currency is **kept** and reported: its
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

import dataclasses
import datetime as dt
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlcredit.core.coerce import MAX_DAYS, clean_text, to_date
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.fast.labels import arrow_available
from xlcredit.core.ledger import CreditNote, FxRates, Invoice, Ledger, Payment, RowProblem
from xlcredit.core.money import currency_code, minor_units, to_decimal
from xlcredit.core.policy import Policy
from xlcredit.io.tables import find_header, normalise_header, readable_path

__all__ = [
    "DATE_ORDERS",
    "LEDGER_ALIASES",
    "LEDGER_COLUMNS",
    "CustomerIndex",
    "FxLoad",
    "LedgerFrames",
    "LedgerLoad",
    "RawTable",
    "TableInfo",
    "load_fx_rates",
    "load_ledger",
    "load_ledger_files",
    "load_ledger_frames",
    "load_ledger_workbook",
    "parse_date_order",
    "read_frame",
    "read_raw",
    "records_of",
    "table_kind",
]

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
             "Bill-to Customer No", "Party", "Kunde", "Kundennummer", "Kunden-Nr", "Debitor", "Debitorennummer",
             "客户编号", "客户代码", "客户编码", "客户号", "客户")
_CUSTOMER_NAME = ("Customer Name", "Party Name", "Partner", "Contact", "Contact Name", "Debtor Name", "Account Name",
                  "Client", "Client Name", "Name", "Kundenname", "Name 1", "客户名称", "单位名称", "往来单位",
                  "往来单位名称")
_CURRENCY = ("Currency", "Currency Code", "Curr", "Ccy", "Cur", "Document Currency", "Doc Currency",
             "Transaction Currency", "Währung", "币种", "币别", "货币")
_REFERENCE = ("Invoice Ref", "Inv Ref", "Invoice Reference", "Applies-to Doc. No.", "Applies to Doc No",
              "Applies To", "Applied to", "Reference", "Ref", "Invoice No", "Invoice Number", "Invoice",
              "Rechnungsnummer", "Rechnung", "发票号")

# Aliases per table, best first (the first one present wins when a file has several).
LEDGER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "invoices": {
        "customer_id": _CUSTOMER,
        "customer_name": _CUSTOMER_NAME,
        "invoice_no": ("Invoice No", "Invoice Number", "Invoice", "Invoice ID", "Document No", "Document Number",
                       "Doc No", "Doc Number", "Voucher No", "Voucher Number", "Number", "Num", "No",
                       "Transaction No", "Belegnummer", "Beleg-Nr", "Rechnungsnummer", "发票号", "发票编号",
                       "单据编号", "单据号", "凭证号"),
        "currency": _CURRENCY,
        "amount": ("Amount", "Invoice Amount", "Invoiced Amount", "Gross Amount", "Original Amount",
                   "Amount incl. VAT", "Amount incl VAT", "Amount in Doc. Curr.", "Amount in Document Currency",
                   "Total", "Invoice Total", "Total Signed", "Betrag", "Bruttobetrag", "Rechnungsbetrag",
                   "Betrag in BelegWährung", "金额", "价税合计", "应收金额", "原币金额"),
        "outstanding": ("Outstanding Amount", "Outstanding", "Amount Outstanding", "Amount Due", "Balance Due",
                        "Open Balance", "Open Amount", "Remaining Amount", "Residual", "Amount Residual",
                        "Balance", "Offener Betrag", "Restbetrag", "未收金额", "未收款金额", "应收余额", "余额"),
        "invoice_date": ("Invoice Date", "Document Date", "Doc Date", "Posting Date", "Date", "Belegdatum",
                         "Rechnungsdatum", "Buchungsdatum", "发票日期", "单据日期", "业务日期", "开票日期"),
        "due_date": ("Due Date", "Net Due Date", "Due", "Payment Due", "Due On", "Fälligkeit", "Fälligkeitsdatum",
                     "Fällig am", "Nettofälligkeit", "到期日", "到期日期", "应收日期"),
        "terms": ("Terms", "Payment Terms", "Payment Terms Code", "Terms Code", "Term", "Zahlungsbedingung",
                  "Zahlungsbedingungen", "付款条件", "收款条件"),
        "disputed": ("Disputed", "Dispute", "In Dispute", "On Hold", "Strittig", "Reklamation", "争议"),
        "clearing_date": ("Clearing Date", "Cleared On", "Ausgleichsdatum", "核销日期"),
    },
    "payments": {
        "payment_id": ("Payment ID", "Payment No", "Payment Number", "Receipt No", "Receipt Number",
                       "Document No", "Document Number", "Doc No", "Transaction ID", "Voucher No", "Zahlungsnummer",
                       "Belegnummer", "收款单号", "单据编号"),
        "customer_id": _CUSTOMER,
        "customer_name": _CUSTOMER_NAME,
        "payment_date": ("Payment Date", "Date", "Value Date", "Receipt Date", "Posting Date", "Document Date",
                         "Doc Date", "Zahlungsdatum", "Valuta", "Buchungsdatum", "付款日期", "收款日期", "单据日期"),
        "amount": ("Amount", "Payment Amount", "Amount Received", "Received", "Receipt Amount", "Betrag",
                   "Zahlbetrag", "金额", "收款金额"),
        "currency": _CURRENCY,
        "invoice_ref": _REFERENCE,
    },
    "credit_notes": {
        "credit_note_no": ("Credit Note No", "Credit Note Number", "Credit Note", "Credit Memo No",
                           "Credit Memo", "CN No", "Document No", "Document Number", "Doc No", "Gutschriftnummer",
                           "Gutschrift", "Belegnummer", "单据编号"),
        "customer_id": _CUSTOMER,
        "customer_name": _CUSTOMER_NAME,
        "date": ("Date", "Credit Note Date", "Credit Date", "Document Date", "Doc Date", "Posting Date",
                 "Belegdatum", "Buchungsdatum", "单据日期"),
        "amount": ("Amount", "Credit Amount", "Credit Note Amount", "Gross Amount", "Betrag", "金额"),
        "currency": _CURRENCY,
        "invoice_ref": _REFERENCE,
    },
    "fx_rates": {
        "date": ("Date", "Rate Date", "Valid From", "As Of", "Datum", "日期"),
        "currency": ("Currency", "Currency Code", "Curr", "Ccy", "Cur", "From Currency", "Währung", "币种", "币别"),
        "rate": ("Rate", "FX Rate", "Exchange Rate", "Kurs", "Wechselkurs", "汇率"),
    },
}

# Headers that look like an amount but are not the document amount (see the module notes).
_NOT_AMOUNT = {normalise_header(h): why for h, why in (
    ("Amount (LCY)", "it is already in the company currency"),
    ("Amount LCY", "it is already in the company currency"),
    ("Amount in local currency", "it is already in the company currency"),
    ("Amount in Local Currency", "it is already in the company currency"),
    ("Betrag in Hauswährung", "it is already in the company currency"),
    ("本位币金额", "it is already in the company currency"),
)}

_REQUIRED: dict[str, tuple[str, ...]] = {
    "invoices": ("customer_id", "invoice_no", "amount", "invoice_date"),
    "payments": ("customer_id", "payment_date", "amount"),
    "credit_notes": ("customer_id", "date", "amount"),
    "fx_rates": ("date", "currency", "rate"),
}

_TRUE = frozenset({"true", "yes", "y", "1", "x", "disputed", "wahr", "ja", "是"})
_FALSE = frozenset({"false", "no", "n", "0", "", "falsch", "nein", "否"})
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
    """A table as read: cells as in the file (headers as written) and each row's number in the file.

    ``title_rows``: non-blank rows above the header that were skipped (a report's title, company, date).
    """

    frame: pd.DataFrame
    rows: np.ndarray            # int64 row numbers as the user sees them
    source: str
    decimal_comma: bool = False
    title_rows: int = 0
    sheet: str | None = None


#: DataFrame ``attrs`` keys a reader leaves on a frame it made (:func:`read_frame`): file row numbers, title rows.
ROWS_ATTR, TITLE_ATTR = "xlcredit_rows", "xlcredit_title_rows"


def read_raw(source: Any, *, table: str = "ledger", sheet: str | None = None) -> RawTable:
    """Read one table from a path (.csv/.xlsx/.xlsm/.parquet) or a DataFrame, without interpreting it.

    Title rows above the header are skipped in every case (a DataFrame whose own column names are
    not a header gets its header from its first rows). Raises :class:`XlcError` for a missing,
    unreadable or unsupported file.
    """
    if isinstance(source, RawTable):
        return source
    if isinstance(source, pd.DataFrame):
        return _raw_from_frame(source)
    path = readable_path(source, table)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return _read_csv(path)
        if suffix == ".parquet":
            return _raw_from_frame(pd.read_parquet(path), str(path))
        return _read_xlsx(path, sheet)
    except XlcError:
        raise
    except Exception as exc:  # a corrupt or locked file: one line that says so
        raise XlcError(f"{table} file", f"cannot be read ({type(exc).__name__}: {exc}): {path}", str(path)) from None


def read_frame(path: str | Path, *, table: str = "table") -> pd.DataFrame:
    """A table file as a DataFrame of its cells (text as written), title rows above the header skipped.

    For callers that hold tables as DataFrames (a folder of files): the file's row numbers and the
    number of title rows travel in ``frame.attrs``, so problems still name the rows the user sees.
    """
    file = Path(path)
    if file.suffix.lower() == ".parquet":
        return pd.read_parquet(readable_path(file, table))
    raw = read_raw(file, table=table)
    frame = raw.frame.copy()
    frame.attrs[ROWS_ATTR] = raw.rows.tolist()
    frame.attrs[TITLE_ATTR] = raw.title_rows
    return frame


def _known_headers() -> frozenset[str]:
    from xlcredit.io.tables import CUSTOMER_ALIASES, alias_index

    return _ALL_HEADERS | frozenset(alias_index(CUSTOMER_ALIASES))


def _raw_from_frame(source: pd.DataFrame, label: str = "DataFrame") -> RawTable:
    attrs = dict(getattr(source, "attrs", {}) or {})
    frame = source.reset_index(drop=True)
    rows = np.asarray(attrs.get(ROWS_ATTR, np.arange(len(frame)) + 2), dtype=np.int64)
    title = int(attrs.get(TITLE_ATTR, 0))
    known = _known_headers()
    if len(frame) and sum(normalise_header(c) in known for c in frame.columns) < 2:
        cells = [tuple(r) for r in frame.head(30).itertuples(index=False, name=None)]
        at = find_header(cells, known, need=2)
        if at is not None:   # the column names were a title: the header is a row of the frame
            header = [_header_text(v, i) for i, v in enumerate(cells[at])]
            title += 1 + sum(1 for r in cells[:at] if any(not _blank(v) for v in r))
            frame = frame.iloc[at + 1:].reset_index(drop=True)
            frame.columns = header
            rows = rows[at + 1:]
    return RawTable(frame, rows, label, title_rows=title)


def _header_text(value: Any, i: int) -> str:
    return f"(column {i + 1})" if _blank(value) else _cell_text(value)


def _read_csv(path: Path) -> RawTable:
    import csv

    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        return RawTable(pd.DataFrame(), np.zeros(0, np.int64), str(path))
    head = lines[:40]
    known = _known_headers()
    best: tuple[int, str, int] | None = None   # (hits, delimiter, header line)
    for delimiter in (",", ";", "\t"):
        cells = [next(csv.reader([line], delimiter=delimiter), []) for line in head]
        at = find_header(cells, known, need=2)
        if at is not None:
            hits = sum(normalise_header(c) in known for c in cells[at])
            if best is None or hits > best[0]:
                best = (hits, delimiter, at)
    if best is None:   # no known header anywhere: the first non-blank line, split where it splits most
        at = next(k for k, line in enumerate(lines) if line.strip())
        delimiter = max((",", ";", "\t"), key=lines[at].count)
    else:
        _hits, delimiter, at = best
    title = sum(1 for line in lines[:at] if line.strip(delimiter + " \t"))
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, skiprows=at,
                            skip_blank_lines=False, engine="c")
    except pd.errors.ParserError:   # a row wider than the header (a footer, a note): read every cell anyway
        records = list(csv.reader(io.StringIO("\n".join(lines[at:])), delimiter=delimiter))
        width = max(len(r) for r in records)
        header = [h if h.strip() else f"(column {i + 1})" for i, h in enumerate(records[0] + [""] * width)][:width]
        frame = pd.DataFrame([r + [""] * (width - len(r)) for r in records[1:]], columns=header, dtype=str)
    frame.columns = [f"(column {i + 1})" if str(h).startswith("Unnamed: ") or not str(h).strip() else h
                     for i, h in enumerate(frame.columns)]   # a blank header cell (a report's label column)
    return RawTable(frame, np.arange(len(frame), dtype=np.int64) + 2 + at, str(path), delimiter == ";", title)


def _read_xlsx(path: Path, sheet: str | None) -> RawTable:
    from xlcredit.io.tables import read_rows

    raw = read_rows(path, table="ledger", sheet=sheet, header_hint=_known_headers())
    width = len(raw.header)
    header = [h if h else f"(column {i + 1})" for i, h in enumerate(raw.header)]
    cells = [tuple(values[:width]) + (None,) * (width - len(values[:width])) for _n, values in raw.rows]
    frame = pd.DataFrame.from_records(cells, columns=header) if cells else pd.DataFrame(columns=header)
    rows = np.array([n for n, _v in raw.rows], dtype=np.int64)
    return RawTable(frame, rows, f"{path}" + (f" [{sheet}]" if sheet else ""), title_rows=raw.title_rows,
                    sheet=sheet)


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
    return clean_text(str(value)).strip()


def _texts(series: pd.Series) -> np.ndarray:
    """Cells as stripped text ("" for blank; 1001.0 from a spreadsheet is "1001"; XML-illegal characters and
    bidi/format controls removed by :func:`~xlcredit.core.coerce.clean_text`), object array."""
    if _is_text(series):
        values = series.str.strip().fillna("").to_numpy(dtype=object)
        dirty = {u for u in pd.unique(values) if clean_text(u) != u}
        if dirty:
            values = np.array([clean_text(v).strip() if v in dirty else v for v in values], dtype=object)
        return values
    return _parse(series, _cell_text).rows


_SYMBOLS = {"€": "EUR", "£": "GBP", "$": "", "¥": "", "￥": "", "₹": "INR", "元": "CNY"}
_CODE_FRONT = re.compile(r"^([A-Za-z]{3})\s*(?=[\d(+\-.€$£¥￥])")
_CODE_BACK = re.compile(r"(?<=[\d).])\s*([A-Za-z]{3})$")
_GROUPED_POINT = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d+)?|\.\d+")
_GROUPED_COMMA = re.compile(r"\d{1,3}(\.\d{3})+(,\d+)?|\d+(,\d+)?|,\d+")
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009'’")


def _split_amount(text: str) -> tuple[str, bool, str]:
    """Amount text → (digits and separators, negative?, currency code written with it or "").

    Takes ``(1,234.50)`` and ``1.234,50-`` as negative and ``€1,234.50``, ``EUR 1.234,50`` or ``1,234.50 USD``
    with their currency.
    """
    t, negative, code = text.strip(), False, ""
    for _ in range(6):
        if len(t) > 1 and t[0] == "(" and t[-1] == ")":
            t, negative = t[1:-1].strip(), True
        elif t[:1] in _SYMBOLS:
            code, t = code or _SYMBOLS[t[0]], t[1:].strip()
        elif t[-1:] in _SYMBOLS:
            code, t = code or _SYMBOLS[t[-1]], t[:-1].strip()
        elif m := _CODE_FRONT.match(t):
            code, t = m[1].upper(), t[m.end():].strip()
        elif m := _CODE_BACK.search(t):
            code, t = m[1].upper(), t[:m.start()].strip()
        elif t[:1] in "-+" and len(t) > 1:
            negative, t = negative or t[0] == "-", t[1:].strip()
        elif t[-1:] == "-" and len(t) > 1:
            negative, t = True, t[:-1].strip()
        else:
            break
    return t.translate(_SPACES), negative, code


def _mark_of(text: str) -> str | None:
    """What one amount text says about the decimal mark: "comma", "point", or None (it reads either way)."""
    digits, _neg, _code = _split_amount(text)
    comma, point = digits.rfind(","), digits.rfind(".")
    if comma >= 0 and point >= 0:
        return "comma" if comma > point else "point"
    if comma >= 0:
        if digits.count(",") > 1:
            return "point"
        return None if re.fullmatch(r"\d{1,3},\d{3}", digits) else "comma"
    if point >= 0:
        if digits.count(".") > 1:
            return "comma"
        return None if re.fullmatch(r"\d{1,3}\.\d{3}", digits) else "point"
    return None


def _decimal_comma(series: pd.Series | None, default: bool) -> tuple[bool, str]:
    """Whether an amount column writes decimals with a comma, judged from all its text, and how it was told."""
    if series is None or not len(series):
        return default, ""
    uniques = pd.unique(series.to_numpy(dtype=object))
    marks = {_mark_of(v) for v in uniques.tolist() if isinstance(v, str) and ("," in v or "." in v)}
    if "comma" in marks and "point" not in marks:
        return True, "decimal comma (1.234,56)"
    if "point" in marks and "comma" not in marks:
        return False, "decimal point (1,234.56)"
    if marks - {None}:
        return default, f"decimals written both ways: read with a decimal {'comma' if default else 'point'}"
    return default, ""


def _amount_parser(decimal_comma: bool, *, allow_negative: bool = False) -> Callable[[Any], Decimal]:
    def parse(value: Any) -> Decimal:
        if _blank(value):
            raise XlcError("amount", "is empty", value)
        if isinstance(value, str):
            digits, negative, _code = _split_amount(value)
            grouped = _GROUPED_COMMA if decimal_comma else _GROUPED_POINT
            if grouped.fullmatch(digits):
                digits = digits.replace(".", "").replace(",", ".") if decimal_comma else digits.replace(",", "")
                number: Decimal | None = Decimal(digits)
                if negative:
                    number = -number
            elif ("," in digits or "." in digits) and re.fullmatch(r"[\d.,]+", digits):
                example = "1234,50" if decimal_comma else "1234.50"
                raise XlcError("amount", f"is not a number (got {describe(value)}; write decimals with a "
                               f"{'comma' if decimal_comma else 'point'}, e.g. {example})", value)
            else:
                number = to_decimal(value.strip(), "amount")  # 1e3, or the exact error words
        elif isinstance(value, np.generic):
            number = to_decimal(value.item(), "amount")
        else:
            number = to_decimal(value, "amount")
        assert number is not None
        if not number.is_finite():
            raise XlcError("amount", f"is not a finite number (got {describe(value)})", value)
        if number < 0 and not allow_negative:
            raise XlcError("amount", f"must not be negative (got {number})", value)
        return number
    return parse


def _amount_currency(value: Any) -> str:
    """The currency code written inside an amount cell (``EUR 1.234,50``, ``€1,234.50``), "" for none."""
    return _split_amount(value)[2] if isinstance(value, str) else ""


_DMY_TEXT = re.compile(r"^\s*(\d{1,2})[/-](\d{1,2})[/-](\d{4})\s*$")


def _date_reader(day_first: bool | None, iso: bool) -> Callable[[Any], dt.date]:
    def read(value: Any) -> dt.date:
        if iso and isinstance(value, str) and _DMY_TEXT.match(value):
            raise XlcError("date", f"is not a YYYY-MM-DD date (got {describe(value)}; the dates are set to iso)",
                           value)
        return to_date(value, "date", day_first=day_first)
    return read


_date = _date_reader(None, False)

#: Currency names as Chinese ledgers write them (Kingdee, Yonyou: 币别 人民币).
_CURRENCY_NAMES = {"人民币": "CNY", "RMB": "CNY", "美元": "USD", "欧元": "EUR", "英镑": "GBP", "日元": "JPY",
                   "港币": "HKD", "港元": "HKD", "瑞士法郎": "CHF", "新加坡元": "SGD", "澳元": "AUD",
                   "加元": "CAD", "韩元": "KRW", "新台币": "TWD"}


def _currency(value: Any) -> str:
    text = _cell_text(value).upper()
    if not text:
        raise XlcError("currency", "is empty", value)
    text = _CURRENCY_NAMES.get(text, text)
    if len(text) != 3 or not all("A" <= ch <= "Z" for ch in text):
        raise XlcError("currency", f"is not a 3-letter ISO 4217 code like EUR (got {describe(value)})", value)
    return currency_code(text)


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
    if days is not None and days > MAX_DAYS:   # "Net 1111…": a due date no calendar holds
        raise XlcError("terms", f"is out of range: at most {MAX_DAYS:,} days (got {describe(value)})", value)
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


def _amounts(series: pd.Series, exps: np.ndarray, decimal_comma: bool, *,
             allow_negative: bool = False) -> tuple[np.ndarray, np.ndarray]:
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
    elif series.dtype == object and n and arrow_available():   # Decimal objects in one pass (no pyarrow: cell by cell)
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
        parse = _amount_parser(decimal_comma, allow_negative=allow_negative)
        cells = series.to_numpy(dtype=object)
        for r in rows.tolist():
            try:
                number = parse(cells[r])
            except XlcError as exc:
                problems[r] = exc.problem
                minor[r] = 0
                continue
            units = int(number.scaleb(int(exps[r])).to_integral_value(rounding=ROUND_HALF_UP))
            if abs(units) >= _MAX_MINOR:
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


# --------------------------------------------------------------------------- reading options
#: ``--dates``: how dd/mm against mm/dd is settled (auto: from the whole column).
DATE_ORDERS = ("auto", "day-first", "month-first", "iso")
_DATE_ORDER_WORDS = {"auto": "auto", "infer": "auto", "day-first": "day-first", "dayfirst": "day-first",
                     "dmy": "day-first", "dd/mm/yyyy": "day-first", "month-first": "month-first",
                     "monthfirst": "month-first", "mdy": "month-first", "mm/dd/yyyy": "month-first", "iso": "iso",
                     "ymd": "iso", "yyyy-mm-dd": "iso"}


def parse_date_order(text: Any, field: str = "--dates") -> str:
    """``--dates``: auto (default: read from the whole column), day-first, month-first or iso."""
    key = _cell_text(text).lower().replace("_", "-").replace(" ", "-")
    if key not in _DATE_ORDER_WORDS:
        raise XlcError(field, f"must be day-first, month-first, iso or auto (got {describe(text)})", text)
    return _DATE_ORDER_WORDS[key]


@dataclass(frozen=True)
class CustomerIndex:
    """The customers table as the ledger reader needs it: its ids, and its names → ids (to match names)."""

    ids: frozenset[str]
    by_name: Mapping[str, str]

    @classmethod
    def of(cls, customers: Iterable[Any]) -> CustomerIndex:
        ids, names = set(), {}
        for c in customers:
            ids.add(c.customer_id)
            if getattr(c, "name", ""):
                names.setdefault(normalise_header(c.name), c.customer_id)
        return cls(frozenset(ids), names)


@dataclass(frozen=True)
class TableInfo:
    """How one table was read: for ``xlcredit inspect`` and the notes of ``xlcredit age``.

    ``columns``: field → header in the file; ``ignored``: headers not used; ``skipped``: why → rows
    (title rows, blank rows, total rows, customer headings, cleared items); ``date_order``: header →
    how its dd/mm dates were read; ``number_format``: header → the decimal mark found.
    """

    table: str
    source: str
    sheet: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()
    rows_read: int = 0
    rows_loaded: int = 0
    skipped: Mapping[str, int] = field(default_factory=dict)
    date_order: Mapping[str, str] = field(default_factory=dict)
    number_format: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    problems: tuple[RowProblem, ...] = ()

    @property
    def label(self) -> str:
        name = Path(self.source).name if self.source not in ("DataFrame", "") else self.source
        name = name.split(" [")[0]
        return f"{name} [{self.sheet}]" if self.sheet else name


#: Bucket columns of an aged report (Xero, ERPNext, Odoo): their presence says the amounts are what is still open.
_BUCKET_HEADERS = frozenset(normalise_header(h) for h in (
    "Current", "Not due", "Older", "< 1 Month", "1 Month", "2 Months", "3 Months", "0-30", "31-60", "61-90",
    "91-120", "121-Above", "Over 90", "未到期", "1-30天", "31-60天", "61-90天", "90天以上"))
_MAIN_DATE = {"invoices": "invoice_date", "payments": "payment_date", "credit_notes": "date", "fx_rates": "date"}
_DATE_FIELDS = ("invoice_date", "due_date", "payment_date", "date", "clearing_date")
_TOTAL_LABEL = re.compile(r"^\s*(grand\s*total|sub-?total|totals?|summe|gesamt|合计|合計|小计|小計|总计|總計)"
                          r"(\b|\s|:|$)", re.IGNORECASE)


# --------------------------------------------------------------------------- one table
class _Checked:
    """A table being validated: its cells, which rows are still good, and the problems found so far.

    Rows that are not documents are set aside first and counted: blank rows, total and subtotal rows
    ("Total", "Total for Acme", "合计" where the date should be), and customer headings (a row with one
    text cell and no date, as QuickBooks and Xero group their reports) — the heading names the
    customer of the rows below it.
    """

    def __init__(self, table: str, raw: RawTable, columns: dict[str, int], header: list[str],
                 date_order: str = "auto") -> None:
        self.table, self.raw, self.columns, self.header = table, raw, columns, header
        self.problems: list[RowProblem] = []
        self.notes: list[str] = []
        self.skipped: dict[str, int] = {}
        self.date_order_option = date_order
        self.date_orders: dict[str, str] = {}
        self.number_formats: dict[str, str] = {}
        n = len(raw.frame)
        if raw.title_rows:
            self.skipped["title rows above the header"] = raw.title_rows
        blank = np.ones(n, dtype=bool)
        for i in range(raw.frame.shape[1]):  # rows with nothing in them are not rows
            if not blank.any():
                break
            rows = np.flatnonzero(blank)
            blank[rows] = _blank_cells(raw.frame.iloc[rows, i])
        self._count("blank rows", blank)
        self.ok = ~blank
        self.section = np.full(n, "", dtype=object)
        self._set_aside_totals_and_headings()
        self.live = self.ok.copy()  # every problem of a non-blank row is reported, not just its first
        self.day_first: dict[str, bool | None] = {}
        self._settle_date_order()

    def _count(self, why: str, mask: np.ndarray) -> None:
        k = int(np.count_nonzero(mask))
        if k:
            self.skipped[why] = self.skipped.get(why, 0) + k

    def _set_aside_totals_and_headings(self) -> None:
        main = self.cells(_MAIN_DATE[self.table])
        if main is None or not self.ok.any():
            return
        dated = _parse(main, lambda v: to_date(v, "date", day_first=True))
        candidates = np.flatnonzero(self.ok & dated.bad)   # rows whose date cell is blank or not a date
        if not candidates.size:
            return
        frame = self.raw.frame
        totals = np.zeros(len(frame), dtype=bool)
        headings = np.zeros(len(frame), dtype=bool)
        for r in candidates.tolist():
            filled = [v for v in frame.iloc[r].tolist() if not _blank(v)]
            texts = [v for v in filled if isinstance(v, str)]
            if any(_TOTAL_LABEL.match(t) for t in texts):
                totals[r] = True
            elif len(filled) == 1 and texts:
                headings[r] = True
        self.ok &= ~(totals | headings)
        if headings.any():   # a heading names the customer of the rows below it, up to the next heading or total
            label, at, stop = "", -1, totals | headings
            texts = frame.to_numpy(dtype=object)
            used = np.zeros(len(frame), dtype=bool)
            for r in range(len(frame)):
                if headings[r]:
                    label, at = next(str(v).strip() for v in texts[r].tolist() if not _blank(v)), r
                elif stop[r]:
                    label, at = "", -1
                elif self.ok[r] and at >= 0:
                    self.section[r] = label
                    used[at] = True
            self._count("customer headings", headings & used)
            self._count("lines of text without a date (notes, footers)", headings & ~used)
        self._count("total and subtotal rows", totals)

    def _settle_date_order(self) -> None:
        """dd/mm or mm/dd for each date column, from all its values (see :func:`_date_evidence`)."""
        option = self.date_order_option
        present = [f for f in _DATE_FIELDS if f in self.columns]
        if option in ("day-first", "month-first"):
            for f in present:
                self.day_first[f] = option == "day-first"
                self.date_orders[self.header_of(f)] = f"{option.replace('-', ' ')} (as set)"
            return
        if option == "iso":
            for f in present:
                self.date_orders[self.header_of(f)] = "ISO, YYYY-MM-DD (as set)"
            return
        evidence = {f: _date_evidence(self.cells(f)[self.ok]) for f in present}
        decided = {f: e for f, e in evidence.items() if e[0] in ("day-first", "month-first")}
        for f, (verdict, example, ambiguous) in evidence.items():
            header = self.header_of(f)
            if verdict in ("day-first", "month-first"):
                self.day_first[f] = verdict == "day-first"
                self.date_orders[header] = f"{verdict.replace('-', ' ')} (inferred: {example!r})"
            elif verdict == "mixed":
                self.date_orders[header] = "written both ways: each date read on its own"
            elif verdict == "ambiguous":
                votes = {e[0] for e in decided.values()}
                if len(votes) == 1:
                    other = next(iter(decided))
                    self.day_first[f] = decided[other][0] == "day-first"
                    self.date_orders[header] = (f"{decided[other][0].replace('-', ' ')} (as in "
                                                f"{self.header_of(other)!r}: {decided[other][1]!r})")
                else:
                    shown = " and ".join(repr(v) for v in ambiguous[:2])
                    raise XlcError(header, f"dates are ambiguous: {shown} could be day first or month first, and "
                                   "no date in the file settles it; say which with --dates day-first or --dates "
                                   "month-first", ambiguous[0])
        if self.date_orders:
            self.notes.append(f"dates: {'; '.join(f'{h!r} {o}' for h, o in self.date_orders.items())}")

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

    def info(self, source: str | None = None) -> TableInfo:
        used = set(self.columns.values())
        ignored = tuple(h for i, h in enumerate(self.header) if i not in used and not h.startswith("(column "))
        return TableInfo(self.table, source or self.raw.source, self.raw.sheet,
                         {f: self.header[i] for f, i in self.columns.items()}, ignored,
                         len(self.raw.frame), int(np.count_nonzero(self.ok)), dict(self.skipped),
                         dict(self.date_orders), dict(self.number_formats), tuple(self.notes),
                         tuple(self.problems))


def _date_evidence(series: pd.Series) -> tuple[str, str, list[str]]:
    """What a column's dd/mm/yyyy texts say: (verdict, a telling example, ambiguous examples).

    A first part above 12 anywhere means day first; a second part above 12, month first; both, "mixed";
    only dates that read both ways, "ambiguous" ("stray" when most of the column is written otherwise, ISO or
    real dates: those few are reported row by row); no such dates, "none".
    """
    day_first = month_first = ""
    ambiguous: list[str] = []
    slashed = other = 0
    for v in pd.unique(series.to_numpy(dtype=object)).tolist():
        m = _DMY_TEXT.match(v) if isinstance(v, str) else None
        if not m:
            other += not _blank(v)
            continue
        slashed += 1
        a, b = int(m[1]), int(m[2])
        if a > 12 and b <= 12:
            day_first = day_first or v.strip()
        elif b > 12 and a <= 12:
            month_first = month_first or v.strip()
        elif a != b and a <= 12 and b <= 12 and len(ambiguous) < 2:
            ambiguous.append(v.strip())
    if day_first and month_first:
        return "mixed", day_first, ambiguous
    if day_first:
        return "day-first", day_first, ambiguous
    if month_first:
        return "month-first", month_first, ambiguous
    if ambiguous and other > slashed:   # a few stray dd/mm dates among ISO or real dates: each reported on its row
        return "stray", "", ambiguous
    return ("ambiguous" if ambiguous else "none"), "", ambiguous


def _checked(source: Any, table: str, sheet: str | None, date_order: str = "auto") -> _Checked:
    raw = read_raw(source, table=table, sheet=sheet)
    header = [str(c) for c in raw.frame.columns]
    columns = _map_columns(header, table)
    for name in _REQUIRED[table]:
        if name in columns or (name == "amount" and "outstanding" in columns):
            continue
        if name == "customer_id" and "customer_name" in columns:
            continue
        if name == "customer_id":   # customer headings (a grouped report) may name them: decided below
            continue
        raise _missing_column(table, name, header)
    if table == "invoices" and "due_date" not in columns and "terms" not in columns:
        raise XlcError("due_date", f"column is missing from the invoices table, and there is no terms column to "
                       f"derive it from (found {', '.join(repr(h) for h in header)})", None)
    c = _Checked(table, raw, columns, header, date_order)
    if _REQUIRED[table][0] == "customer_id" and "customer_id" not in columns and "customer_name" not in columns \
            and not (c.section != "").any():
        raise _missing_column(table, "customer_id", header)
    return c


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
    parsed = _parse(cells, _date_reader(c.day_first.get(canonical), c.date_order_option == "iso"))
    if allow_blank:
        problems = np.array([None if p == "is empty" else p for p in parsed.problems.tolist()], dtype=object)
        parsed = _Parsed(parsed.codes, parsed.values, problems)
    c.flag_parsed(canonical, parsed)
    return _day_values(parsed)


def _customer_column(c: _Checked, known: CustomerIndex | None) -> np.ndarray:
    """Each row's customer id: the id column, else the name column, else the customer heading above the row;
    a name (or an id the customers table does not have) that is a customer's name there becomes its id."""
    ids = _text_column(c, "customer_id", required=False)
    names = _text_column(c, "customer_name", required=False)
    out = np.where(ids != "", ids, np.where(names != "", names, c.section))
    if "customer_id" not in c.columns:
        source = f"{c.header_of('customer_name')!r}" if "customer_name" in c.columns else "the customer headings"
        if known is None:
            c.notes.append(f"no customer id column: the names in {source} are the customer ids")
    if known is not None and out.size:
        codes, uniques = pd.factorize(pd.Series(out, dtype=object))
        mapped, matched = [], []
        for u in uniques.tolist():
            cid = u
            if u and u not in known.ids:
                cid = known.by_name.get(normalise_header(u), u)
                if cid != u:
                    matched.append(f"{u!r} → {cid}")
            mapped.append(cid)
        out = np.array([*mapped, ""], dtype=object)[codes]
        if matched:
            more = f" and {len(matched) - 2} more" if len(matched) > 2 else ""
            c.notes.append(f"customer names matched to the customers table: {', '.join(matched[:2])}{more}")
    header = "customer_id" if "customer_id" in c.columns else "customer_name"
    c.flag(header, out == "", "is empty")
    return out


def _common(c: _Checked, company_currency: str, date_column: str, *, known: CustomerIndex | None = None,
            amount_column: str = "amount", allow_negative: bool = False) -> dict[str, Any]:
    """customer_id, currency, amount (minor units), the document date — what every ledger table has."""
    customer = _customer_column(c, known)
    amount_cells = c.cells(amount_column)
    in_amount = None
    if amount_cells is not None and (amount_cells.dtype == object or _is_text(amount_cells)):
        in_amount = _parse(amount_cells, _amount_currency)
    ccy_cells = c.cells("currency")
    if ccy_cells is None:
        currency = np.full(len(c.raw.frame), company_currency, dtype=object)
        if in_amount is not None and any(in_amount.values.tolist()):
            written = in_amount.rows
            currency = np.where(written != "", written, currency)
            c.notes.append(f"currency read from the amounts in {c.header_of(amount_column)!r} (no currency column)")
    else:
        parsed_ccy = _parse(ccy_cells, _currency)
        c.flag_parsed("currency", parsed_ccy)
        currency = parsed_ccy.rows
        if in_amount is not None and any(in_amount.values.tolist()):
            written = in_amount.rows
            clash = c.ok & (written != "") & np.not_equal(written, currency)
            c.flag(amount_column, clash, lambda r: f"is in {written[r]}, but the currency column says {currency[r]}")
    comma, how = _decimal_comma(amount_cells, c.raw.decimal_comma)
    if how:
        c.number_formats[c.header_of(amount_column)] = how
    minor, problems = _amounts(amount_cells, _exponents(currency), comma, allow_negative=allow_negative)
    c.flag(amount_column, np.not_equal(problems, None), lambda r: problems[r])
    day = _date_column(c, date_column)
    return {"customer_id": customer, "currency": currency, "amount_minor": minor, date_column: day,
            "decimal_comma": comma}


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
    tables: tuple[TableInfo, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        """What the reader decided on the user's behalf, one line each (open items, date order, skipped rows)."""
        return _notes_of(self.tables)

    def contract_tables(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The three tables under the documented column names, ``amount`` as an exact Arrow decimal (Decimal
        objects where pyarrow is missing, as in Pyodide).

        Made for ``xlcredit.core.fast.ageing.frames_to_arrays(*frames.contract_tables())``: the amounts
        are ``decimal128(18, 3)`` built from ``amount_minor`` without a Python loop.
        """
        return (_with_amount(self.invoices), _with_amount(self.payments), _with_amount(self.credit_notes))


def _with_amount(frame: pd.DataFrame) -> pd.DataFrame:
    codes, uniques = pd.factorize(frame["currency"], use_na_sentinel=False)
    exponents = np.array([minor_units(c) for c in list(uniques)] + [2], dtype=np.int64)[codes]
    if not arrow_available():   # Pyodide (xlwings Lite): the same exact amounts as Decimal objects
        amounts = [Decimal(int(m)).scaleb(-int(e)) for m, e in zip(frame["amount_minor"].tolist(), exponents.tolist(),
                                                                     strict=True)]
        out = frame.drop(columns=["amount_minor"])
        out.insert(list(frame.columns).index("amount_minor"), "amount",
                   pd.Series(amounts, index=frame.index, dtype=object))
        return out
    import pyarrow as pa

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


_ONE = {"title rows above the header": "title row above the header", "blank rows": "blank row",
        "total and subtotal rows": "total or subtotal row", "customer headings": "customer heading",
        "lines of text without a date (notes, footers)": "line of text without a date (a note, a footer)"}


def skipped_text(skipped: Mapping[str, int]) -> str:
    """``{"blank rows": 2, "title rows above the header": 1}`` → "2 blank rows, 1 title row above the header"."""
    words = []
    for why, k in skipped.items():
        one = _ONE.get(why, why) if not why.startswith("cleared") else why.replace("items", "item")
        words.append(f"{k} {one if k == 1 else why}")
    return ", ".join(words)


def _notes_of(tables: Sequence[TableInfo]) -> tuple[str, ...]:
    out: list[str] = []
    for t in tables:
        where = f"{t.table.replace('_', ' ')} ({t.label})"
        out.extend(f"{where}: {n}" for n in t.notes)
        if t.skipped:
            out.append(f"{where}: skipped {skipped_text(t.skipped)}")
        unusual = {h: how for h, how in t.number_format.items() if "comma" in how or "both" in how}
        if unusual:   # a decimal point is what everyone expects: only the rest is worth a note
            out.append(f"{where}: amounts " + "; ".join(f"{h!r} {how}" for h, how in unusual.items()))
    return tuple(out)


def load_ledger_frames(invoices: Any, payments: Any = None, credit_notes: Any = None, *,
                       policy: Policy | None = None, sheets: Mapping[str, str] | None = None,
                       dates: str | None = None, customers: CustomerIndex | Iterable[Any] | None = None
                       ) -> LedgerFrames:
    """Read and validate the ledger tables; bad rows become :class:`RowProblem`, good rows a DataFrame each.

    Each table is a path, a DataFrame or None (no such documents). ``sheets``: worksheet per table
    (``{"invoices": "Sheet1"}``) for workbook paths. ``dates``: day-first, month-first, iso or auto
    (default auto: read from the whole column). ``customers``: the customers table (records or a
    :class:`CustomerIndex`), to match customer names in the ledger to ids. With neither payments nor
    credit notes an invoices table with an outstanding column is an open-item export: that column is
    aged, and its negative lines (as in one with a clearing-date column or an aged report's bucket
    columns) are credits. See the module docstring for every rule.
    """
    company = _company(policy)
    order = parse_date_order(dates if dates is not None else "auto")
    known = customers if isinstance(customers, CustomerIndex) or customers is None else CustomerIndex.of(customers)
    sheets = dict(sheets or {})
    problems: list[RowProblem] = []
    sources: dict[str, str] = {}
    infos: list[TableInfo] = []
    open_items = payments is None and credit_notes is None

    inv = _checked(invoices, "invoices", sheets.get("invoices"), order)
    sources["invoices"] = inv.raw.source
    inv_frame, inv_credits = _invoice_frame(inv, company, open_items=open_items, known=known)
    problems.extend(inv.problems)
    infos.append(inv.info())

    credit_frames: dict[str, pd.DataFrame] = {}
    for table, source, id_col, date_col in (("payments", payments, "payment_id", "payment_date"),
                                            ("credit_notes", credit_notes, "credit_note_no", "date")):
        if source is None:
            credit_frames[table] = _empty_credit_frame(id_col, date_col)
            continue
        c = _checked(source, table, sheets.get(table), order)
        sources[table] = c.raw.source
        credit_frames[table] = _credit_frame(c, company, id_col, date_col, inv_frame, known=known)
        problems.extend(c.problems)
        infos.append(c.info())
    if len(inv_credits):
        credit_frames["credit_notes"] = pd.concat([credit_frames["credit_notes"], inv_credits], ignore_index=True)
    return LedgerFrames(inv_frame, credit_frames["payments"], credit_frames["credit_notes"],
                        tuple(problems), sources, company, tuple(infos))


def _invoice_frame(c: _Checked, company: str, *, open_items: bool = False, known: CustomerIndex | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The invoices, and — in an open-item list — its negative lines as credit notes (FIFO to the oldest items)."""
    amount_col = "amount"
    if "outstanding" in c.columns:
        open_h = c.header_of("outstanding")
        gross = f" (not the gross {c.header_of('amount')!r})" if "amount" in c.columns else ""
        if open_items:
            amount_col = "outstanding"
            c.notes.append(f"open-item export: ageing column {open_h!r}{gross}; no payments needed")
        elif "amount" in c.columns:
            c.notes.append(f"column {open_h!r} not used: payments or credit notes are loaded, so the gross "
                           f"{c.header_of('amount')!r} is aged and they are applied to it")
        else:
            raise XlcError("amount", f"column is missing from the invoices table: {open_h!r} is what is still open "
                           "after payments, and payments or credit notes are loaded too (they would count twice); "
                           "load the invoices alone, or give the gross amount column", None)
    buckets = [h for h in c.header if normalise_header(h) in _BUCKET_HEADERS]
    open_list = open_items and (amount_col == "outstanding" or "clearing_date" in c.columns or len(buckets) >= 2)
    if open_list and amount_col == "amount" and len(buckets) >= 2:
        c.notes.append(f"aged report (columns {', '.join(repr(b) for b in buckets[:3])}…): its "
                       f"{c.header_of('amount')!r} is what is still open; no payments needed")
    clearing = c.cells("clearing_date")
    if clearing is not None:
        cleared = c.ok & ~_blank_cells(clearing)
        c._count(f"cleared items ({c.header_of('clearing_date')!r} filled)", cleared)
        c.ok &= ~cleared
        c.live &= ~cleared
    cols = _common(c, company, "invoice_date", known=known, amount_column=amount_col, allow_negative=open_list)
    minor = cols["amount_minor"]
    credit = c.ok & (minor < 0)
    number = _text_column(c, "invoice_no", required=False)
    c.flag("invoice_no", (number == "") & ~credit, "is empty")
    disputed_cells = c.cells("disputed")
    disputed = np.zeros(len(c.raw.frame), dtype=bool)
    if disputed_cells is not None:
        flags = _parse(disputed_cells, _flag)
        c.flag_parsed("disputed", flags)
        disputed = np.array([v is True for v in flags.values.tolist()] + [False], dtype=bool)[flags.codes]
    terms = _text_column(c, "terms", required=False)
    inv_day = cols["invoice_date"]
    due = _date_column(c, "due_date", allow_blank=True)
    due = np.where(credit, inv_day, due)   # a credit line needs no due date
    # a blank due date: invoice date + net days of the terms, flagged as derived
    due_cells = c.cells("due_date")   # a bad due date was reported as bad: it is not a blank one to derive
    blank_due = np.isnat(due) & c.live & ~credit & (True if due_cells is None else _blank_cells(due_cells))
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
    filled = (keys["c"] != "").to_numpy() & (keys["n"] != "").to_numpy() & ~credit
    dup = keys[filled].duplicated(keep="first").reindex(keys.index, fill_value=False).to_numpy() & filled
    if dup.any():
        first_row: dict[tuple[str, str], int] = {}
        wanted = set(zip(keys["c"][dup].tolist(), keys["n"][dup].tolist(), strict=True))
        for i in np.flatnonzero(filled).tolist():
            key = (cols["customer_id"][i], number[i])
            if key in wanted and key not in first_row:
                first_row[key] = int(c.raw.rows[i])
        c.flag("invoice_no", dup, lambda r: f"repeats invoice {number[r]} of customer {cols['customer_id'][r]} "
               f"(first on row {first_row[(cols['customer_id'][r], number[r])]})")
    credit &= c.ok
    keep = c.ok & ~credit
    if credit.any():
        n = int(np.count_nonzero(credit))
        c.notes.append(f"{n} negative line{'s' if n != 1 else ''} (credit notes, payments on account) taken as "
                       "credits: applied to the oldest open items of the customer")
    c.problems.sort(key=lambda p: p.row)
    ids = number.copy()
    blank_id = credit & (ids == "")
    if blank_id.any():
        ids[blank_id] = [f"row {int(r)}" for r in c.raw.rows[blank_id].tolist()]
    credits = pd.DataFrame({
        "row": c.raw.rows[credit], "credit_note_no": ids[credit], "customer_id": cols["customer_id"][credit],
        "date": inv_day[credit].astype("datetime64[ns]"), "amount_minor": -minor[credit],
        "currency": cols["currency"][credit], "invoice_ref": np.full(int(np.count_nonzero(credit)), "", object)})
    return pd.DataFrame({
        "row": c.raw.rows[keep], "customer_id": cols["customer_id"][keep], "invoice_no": number[keep],
        "currency": cols["currency"][keep], "amount_minor": minor[keep],
        "invoice_date": inv_day[keep].astype("datetime64[ns]"), "due_date": due[keep].astype("datetime64[ns]"),
        "terms": terms[keep], "disputed": disputed[keep], "due_date_derived": derived[keep],
    }), credits


def _empty_credit_frame(id_col: str, date_col: str) -> pd.DataFrame:
    return pd.DataFrame({"row": np.zeros(0, np.int64), id_col: np.zeros(0, object),
                         "customer_id": np.zeros(0, object), date_col: np.zeros(0, "datetime64[ns]"),
                         "amount_minor": np.zeros(0, np.int64), "currency": np.zeros(0, object),
                         "invoice_ref": np.zeros(0, object)})


def _credit_frame(c: _Checked, company: str, id_col: str, date_col: str, invoices: pd.DataFrame | None, *,
                  known: CustomerIndex | None = None) -> pd.DataFrame:
    cols = _common(c, company, date_col, known=known)
    ids = _text_column(c, id_col, required=False)
    blank_id = ids == ""
    if blank_id.any():
        ids[blank_id] = [f"row {int(r)}" for r in c.raw.rows[blank_id].tolist()]
    refs = _text_column(c, "invoice_ref", required=False)
    minor = cols["amount_minor"]
    # a reference naming no invoice of this customer in this currency: kept, reported, amount to the pool
    has_ref = c.ok & (refs != "")
    if has_ref.any() and invoices is not None:
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
    tables: tuple[TableInfo, ...] = ()
    chosen: tuple[str, ...] = ()   # how files and sheets were told apart ("invoices: sheet '应收账款' …")
    customers: CustomerIndex | None = None   # the customers table the ledger was read against, if any

    @property
    def notes(self) -> tuple[str, ...]:
        """What the reader decided on the user's behalf, one line each (see :attr:`LedgerFrames.notes`)."""
        return (*self.chosen, *_notes_of(self.tables))


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
                fx_rates: Any = None, sheets: Mapping[str, str] | None = None, dates: str | None = None,
                customers: CustomerIndex | Iterable[Any] | None = None, chosen: Sequence[str] = ()) -> LedgerLoad:
    """Read the ledger tables into Decimal records: ``LedgerLoad(ledger, problems, fx, …)``.

    ``invoices``/``payments``/``credit_notes``/``fx_rates``: a path, a DataFrame or None. The
    company currency is ``policy.company.currency`` (shipped default EUR when no policy is given).
    ``dates`` and ``customers``: see :func:`load_ledger_frames`.
    """
    frames = load_ledger_frames(invoices, payments, credit_notes, policy=policy, sheets=sheets, dates=dates,
                                customers=customers)
    ledger = records_of(frames)
    problems = list(frames.problems)
    sources = dict(frames.sources)
    tables = list(frames.tables)
    fx = None
    if fx_rates is not None:
        loaded = load_fx_rates(fx_rates, policy=policy, sheet=(sheets or {}).get("fx_rates"), dates=dates)
        fx = loaded.fx
        problems.extend(loaded.problems)
        sources["fx_rates"] = loaded.source
        tables.append(loaded.info)
    return LedgerLoad(ledger, tuple(problems), fx, sources, int(frames.invoices["due_date_derived"].sum()),
                      tuple(tables), tuple(chosen))


# --------------------------------------------------------------------------- FX rates
@dataclass(frozen=True)
class FxLoad:
    """FX rates read from a table, and the rows that could not be used."""

    fx: FxRates
    problems: tuple[RowProblem, ...] = ()
    source: str = ""
    info: TableInfo = field(default_factory=lambda: TableInfo("fx_rates", ""))


def load_fx_rates(source: Any, *, policy: Policy | None = None, sheet: str | None = None,
                  dates: str | None = None) -> FxLoad:
    """Read an FX table (date, currency, rate = company-currency units per 1 unit of currency).

    Bad rows (blank or unreadable date, bad currency code, rate blank/not a number/not positive,
    a second different rate for the same currency and date, a company-currency rate other than 1)
    are reported and left out.
    """
    company = _company(policy)
    order = parse_date_order(dates if dates is not None else "auto")
    c = _checked(source, "fx_rates", sheet, order)
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
    return FxLoad(fx, tuple(c.problems), c.raw.source, c.info())


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


def load_ledger_workbook(path: str | Path, *, policy: Policy | None = None, dates: str | None = None,
                         customers: CustomerIndex | Iterable[Any] | None = None) -> LedgerLoad:
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
                       policy=policy, fx_rates=file if "fx_rates" in found else None, sheets=found, dates=dates,
                       customers=customers)


def _table_by_name(path: Path) -> str | None:
    stem = normalise_header(path.stem)
    if stem.startswith(("customer", "debtor", "kunden", "客户")) and "invoice" not in stem:
        return "customers"
    if "fx" in stem or "rate" in stem or "exchange" in stem or "wechselkurs" in stem or "汇率" in stem:
        return "fx_rates"
    if "credit" in stem or "gutschrift" in stem:
        return "credit_notes"
    if "payment" in stem or "receipt" in stem or "zahlung" in stem or "收款" in stem:
        return "payments"
    if "invoice" in stem or "openitem" in stem or "rechnung" in stem or "应收" in stem or "发票" in stem:
        return "invoices"
    return None


def _normalised(*names: str) -> frozenset[str]:
    return frozenset(normalise_header(h) for h in names)


# headers that only one table has
_TELLING: dict[str, frozenset[str]] = {
    "fx_rates": _normalised("rate", "FX Rate", "Exchange Rate", "Kurs", "Wechselkurs", "汇率"),
    "credit_notes": _normalised("credit_note_no", "Credit Note No", "Credit Note Number", "Credit Memo No",
                                "CN No", "Credit Note Date", "Credit Amount"),
    "payments": _normalised("payment_id", "payment_date", "Payment ID", "Payment No", "Payment Date", "Value Date",
                            "Receipt No", "Payment Amount", "Amount Received", "收款单号", "收款日期", "收款金额"),
    "invoices": _normalised("invoice_date", "due_date", "terms", "disputed", "outstanding", "Invoice Date",
                            "Invoice Amount", "Invoiced Amount", *LEDGER_ALIASES["invoices"]["due_date"],
                            *LEDGER_ALIASES["invoices"]["terms"], *LEDGER_ALIASES["invoices"]["outstanding"]),
    "customers": _normalised("country", "rating", "total_assets", "total_liabilities", "credit limit",
                             "relationship_start", "annual_volume", "insured_limit", "email", "address"),
}


def _complete(header: Sequence[str], table: str) -> bool:
    """Whether a header has every column the table needs (customer names for ids, outstanding for amount)."""
    columns = _map_columns(header, table)
    need = set(_REQUIRED[table]) - set(columns)
    if "outstanding" in columns:
        need.discard("amount")
    if "customer_name" in columns or table == "invoices":   # a grouped report names customers in headings
        need.discard("customer_id")
    return not need


def table_kind(raw: RawTable) -> str | None:
    """Which table a file or sheet holds, by its columns: invoices, payments, credit_notes, fx_rates, customers."""
    header = [str(c) for c in raw.frame.columns]
    headers = {normalise_header(c) for c in header}
    hits = [table for table, telling in _TELLING.items() if headers & telling]
    complete = [t for t in TABLES if _complete(header, t)]
    ledger_hits = [t for t in hits if t != "customers"]
    if len(ledger_hits) == 1 and ledger_hits[0] in complete:
        return ledger_hits[0]
    if "invoices" in hits and "invoices" in complete:
        return "invoices"
    if "customers" in hits and not complete:
        return "customers"
    if len(hits) == 1 and hits[0] != "customers":
        return hits[0]
    return None


def _table_by_columns(raw: RawTable) -> str | None:
    kind = table_kind(raw)
    return None if kind == "customers" else kind


def _workbook_tables(file: Path) -> list[tuple[str, RawTable, str]]:
    """The tables of a workbook: (table, sheet as read, how it was told) for every sheet that holds one."""
    names = _sheet_names(file)
    by_name = {name: table for name in names for table, accepted in _SHEET_NAMES.items()
               if normalise_header(name) in accepted}
    out: list[tuple[str, RawTable, str]] = []
    for name in names:
        if by_name and name not in by_name:
            continue
        raw = read_raw(file, table="ledger", sheet=name)
        if name in by_name:
            out.append((by_name[name], raw, f"sheet {name!r} of {file.name} (by its name)"))
            continue
        kind = table_kind(raw)
        if kind is None and len(names) == 1:
            kind = _table_by_name(file)
        if kind is not None:
            out.append((kind, raw, f"sheet {name!r} of {file.name} (by its columns)"))
    return out


def load_ledger_files(paths: Iterable[str | Path], *, policy: Policy | None = None, dates: str | None = None,
                      customers: Any = None) -> LedgerLoad:
    """Load the ledger from the files the user named: workbooks (any sheet names) or one file per table.

    Single files are recognised by name (``invoices.csv``, ``payments.csv``, ``credit_notes.csv``,
    ``fx_rates.csv``, ``customers.csv``, also e.g. ``2026_receipts.xlsx``) or, when the name says nothing,
    by their columns (due date/terms/outstanding → invoices, payment date → payments, credit note number →
    credit notes, rate → FX rates). A workbook's sheets are taken by name (Invoices, Payments, …) or, when
    none is so named, each by its columns — the notes say which sheet was used. An invoices table is
    required. ``customers``: the customers table (records or a path); a customers file among ``paths``
    does the same. Its names are matched to the ledger's customer names.
    """
    files = [Path(p) for p in paths]
    if not files:
        raise XlcError("ledger", "no files given", None)
    tables: dict[str, Any] = {}
    where: dict[str, str] = {}
    chosen: list[str] = []

    def add(table: str, source: Any, label: str, how: str) -> None:
        if table in tables:
            raise XlcError("ledger file", f"two files for the {table.replace('_', ' ')}: {where[table]} and "
                           f"{label}", label)
        tables[table], where[table] = source, label
        if how:
            chosen.append(f"{table.replace('_', ' ')}: {how}")

    for file in files:
        if file.suffix.lower() in (".xlsx", ".xlsm") and file.is_file():
            found = _workbook_tables(file)
            if not found:
                raise XlcError("ledger file", f"no sheet of {file.name} looks like a ledger table (sheets: "
                               f"{', '.join(_sheet_names(file))}); its header needs a customer, a document number, "
                               "an amount and a date column", str(file))
            for table, raw, how in found:
                add(table, raw, f"{file} [{raw.sheet}]", how)
            continue
        table = _table_by_name(file)
        source: Any = file
        how = ""
        if table is None:
            raw = read_raw(file, table="ledger")
            table = table_kind(raw)
            source, how = raw, f"{file.name} (by its columns)"
            if table is None:
                raise XlcError("ledger file", f"cannot tell which table {file.name} is: name it invoices.csv, "
                               "payments.csv, credit_notes.csv or fx_rates.csv", str(file))
        add(table, source, str(file), how)
    if "invoices" not in tables:
        raise XlcError("ledger file", "no invoices table among the files given (name it invoices.csv)", None)
    known = None
    people = tables.pop("customers", None) if customers is None else customers
    if people is not None:
        from xlcredit.io.tables import read_customers

        if isinstance(people, (str, Path, pd.DataFrame, RawTable)):
            source = people.frame if isinstance(people, RawTable) else people
            people = read_customers(source, default_currency=_company(policy)).customers
        known = people if isinstance(people, CustomerIndex) else CustomerIndex.of(people)
    load = load_ledger(tables["invoices"], tables.get("payments"), tables.get("credit_notes"), policy=policy,
                       fx_rates=tables.get("fx_rates"), dates=dates, customers=known, chosen=chosen)
    return dataclasses.replace(load, customers=known)


# --------------------------------------------------------------------------- inspection
def inspect_files(paths: Iterable[str | Path], *, policy: Policy | None = None,
                  dates: str | None = None) -> list[TableInfo]:
    """How each file and sheet would be read, without ageing anything (``xlcredit inspect``).

    One :class:`TableInfo` per file (per sheet of a workbook): the table recognised (``"unknown"`` when
    none), the column mapping, the columns ignored, the date order and number format found, the rows read,
    loaded and skipped, the notes and the problems. A table that cannot be read at all has its error as
    its only note and ``rows_loaded`` 0.
    """
    company = _company(policy)
    order = parse_date_order(dates if dates is not None else "auto")
    found: list[tuple[str | None, RawTable | None, str, str | None, str]] = []   # kind, raw, source, sheet, error
    for path in [Path(p) for p in paths]:
        try:
            if path.suffix.lower() in (".xlsx", ".xlsm") and path.is_file():
                names = _sheet_names(path)
                for name in names:
                    raw = read_raw(path, table="ledger", sheet=name)
                    kind = table_kind(raw)
                    by_name = next((t for t, accepted in _SHEET_NAMES.items() if normalise_header(name) in accepted),
                                   None)
                    found.append((by_name or kind or (_table_by_name(path) if len(names) == 1 else None), raw,
                                  str(path), name, ""))
            else:
                raw = read_raw(path, table="ledger")
                found.append((_table_by_name(path) or table_kind(raw), raw, str(path), None, ""))
        except XlcError as exc:
            found.append((None, None, str(path), None, str(exc)))
    open_items = not any(kind in ("payments", "credit_notes") for kind, *_rest in found)
    out: list[TableInfo] = []
    for kind, raw, source, sheet, error in found:
        if raw is None:
            out.append(TableInfo("unknown", source, sheet, notes=(error,)))
            continue
        header = [str(h) for h in raw.frame.columns]
        if kind is None:
            shown = ", ".join(repr(h) for h in header if not h.startswith("(column ")) or "no columns"
            out.append(TableInfo("unknown", source, sheet, ignored=tuple(header), rows_read=len(raw.frame),
                                 notes=(f"not a ledger or customers table (columns: {shown})",)))
            continue
        try:
            out.append(_inspect_table(kind, raw, source, company, order, open_items, policy))
        except XlcError as exc:
            out.append(TableInfo(kind, source, sheet, {f: header[i] for f, i in _map_columns(header, kind).items()}
                                 if kind in _INDEX else {}, rows_read=len(raw.frame), notes=(str(exc),)))
    return out


def _inspect_table(kind: str, raw: RawTable, source: str, company: str, order: str, open_items: bool,
                   policy: Policy | None) -> TableInfo:
    if kind == "customers":
        from xlcredit.io.tables import CUSTOMER_ALIASES, alias_index, read_customers

        table = read_customers(raw.frame, default_currency=company)
        index = alias_index(CUSTOMER_ALIASES)
        header = [str(h) for h in raw.frame.columns]
        ignored = tuple(h for h in header if normalise_header(h) not in index and not h.startswith("(column "))
        skipped = {"title rows above the header": raw.title_rows} if raw.title_rows else {}
        return TableInfo("customers", source, raw.sheet, dict(table.columns), ignored, len(raw.frame),
                         len(table.customers), skipped, problems=table.problems)
    if kind == "fx_rates":
        return dataclasses.replace(load_fx_rates(raw, policy=policy, dates=order).info, source=source)
    c = _checked(raw, kind, None, order)
    if kind == "invoices":
        _invoice_frame(c, company, open_items=open_items)
    else:
        id_col, date_col = ("payment_id", "payment_date") if kind == "payments" else ("credit_note_no", "date")
        _credit_frame(c, company, id_col, date_col, None)
    return c.info(source)
