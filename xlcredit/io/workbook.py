"""The workbook file (``CreditControl.xlsm``) read and written without Excel, for the headless refresh.

Which sheet is what — declared here, and only here (``workbook/build.py`` builds from these names):

* **Input sheets** (:data:`INPUT_SHEETS`): Customers, Invoices, Payments, Credit Notes, FX Rates, Reviews, Promises,
  Disputes, Plans, Contacts (each one Excel Table starting in A1; Reviews: a review history imported from the
  previous credit system; Promises … Contacts: the collector's records, read by :mod:`xlcredit.jobs.collector`),
  Bank (a bank export pasted from :data:`BANK_FIRST_ROW`, or a statement file named in its input cell, for the Match
  Bank button), Policy (setting | value | help) and ``xlwings.conf``. The user owns them; nothing here writes
  to them, except :func:`append_table_rows`, which only adds rows below a table (``xlcredit match --apply``).
* **Output sheets** (:data:`OUTPUT_SHEETS`): Ageing, Letters, Statements, Review, Policy Audit, Worklist, Matches.
  Everything from the header row (:attr:`OutputSheet.header_row`) down belongs to the engine and is replaced on
  every run; the title rows above it stay as built, except the declared "as of" cell. Some carry cells the user
  fills in above the table (:data:`INPUT_CELLS`: the Statements period, the audit's period and policy B), read by
  their button and never written.
* **Dashboard**: a fixed layout (buttons, labels, the ageing chart); only the declared cells in
  :data:`DASHBOARD_CELLS` (KPIs, the ageing-by-bucket block, as-of date) are outputs.
  :data:`OUTPUT_CELLS` lists every cell a refresh may write outside the output tables.

Reading (:func:`read_tables`, :func:`read_policy_rows`, :func:`read_config`) uses openpyxl in read-only
mode with cached values (what Excel last calculated), so formulas are never evaluated here.

Writing (:func:`write_outputs`) never loads the workbook into an object model (openpyxl would drop the
Dashboard chart and rewrite every part). It patches the package instead: only the XML parts of the sheets
that receive output are rewritten — output tables as inline strings, so the shared-strings part is never
touched — plus, when needed, appended cell formats in ``xl/styles.xml`` and ``fullCalcOnLoad`` in
``xl/workbook.xml`` (so Excel recalculates the formulas on the next open). ``xl/calcChain.xml``, a cache
Excel rebuilds by itself, is dropped when present because the rewritten cells may no longer match it.
Every other part — the VBA project, the button drawings, the chart, the tables, the input sheets — is
copied unchanged. The new file is written beside the old one, flushed to disk and then swapped in with
:func:`os.replace`: a failure at any point leaves the original file exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import pandas as pd

from xlcredit.core.errors import XlcError, describe

__all__ = [
    "AGEING_BUCKET_ROWS", "AGEING_TOTAL_ROW", "AUDIT_MEASURES", "AUDIT_MONTHS_HEADER_ROW", "AUDIT_MONTH_ROWS",
    "BANK_FIRST_ROW", "BANK_SHEET", "COLUMN_KINDS", "CONF_SHEET",
    "CUSTOMER_FORMULA_ARGS", "CUSTOMER_FORMULA_COLUMNS", "DASHBOARD_CELLS", "DASHBOARD_SHEET", "FORECAST_LATER_ROW",
    "FORECAST_ROWS", "HEADER_WORDS", "INPUT_CELLS", "INPUT_SHEETS", "INPUT_TABLES", "KPI_CELLS", "NO_CONFLICTS",
    "NUMBER_FORMATS", "OUTPUT_CELLS", "OUTPUT_SHEETS", "POLICY_CHECK_ROW", "POLICY_CHECK_ROWS", "POLICY_SHEET",
    "REVIEW_CELLS", "SHEET_ORDER", "InputTable", "OutputSheet", "append_table_rows", "customer_formula",
    "dashboard_cells", "field_name",
    "header_text", "policy_check_values", "read_cells", "read_config", "read_policy_rows", "read_rows", "read_tables",
    "write_outputs",
]


# =========================================================================== the layout contract
@dataclass(frozen=True)
class InputTable:
    """An input table: ``key`` as the engine names it, the sheet and Excel Table that hold it."""

    key: str
    sheet: str
    table: str
    required: bool = True


@dataclass(frozen=True)
class OutputSheet:
    """An output sheet: rows from ``header_row`` down are the engine's; ``as_of_cell`` shows the as-of date."""

    name: str
    title: str
    header_row: int = 4
    as_of_cell: str = "B2"


INPUT_TABLES: tuple[InputTable, ...] = (
    InputTable("customers", "Customers", "Customers"),
    InputTable("invoices", "Invoices", "Invoices"),
    InputTable("payments", "Payments", "Payments"),
    InputTable("credit_notes", "Credit Notes", "CreditNotes", required=False),
    InputTable("fx_rates", "FX Rates", "FxRates", required=False),
    InputTable("reviews", "Reviews", "Reviews", required=False),
    InputTable("promises", "Promises", "Promises", required=False),
    InputTable("disputes", "Disputes", "Disputes", required=False),
    InputTable("plans", "Plans", "Plans", required=False),
    InputTable("contacts", "Contacts", "Contacts", required=False),
)
POLICY_SHEET = "Policy"
CONF_SHEET = "xlwings.conf"
DASHBOARD_SHEET = "Dashboard"
#: The sheet a bank export is pasted into (or names a statement file) for the Match button.
BANK_SHEET = "Bank"

#: Sheets the user owns: never written by a refresh.
INPUT_SHEETS: tuple[str, ...] = (*(t.sheet for t in INPUT_TABLES), BANK_SHEET, POLICY_SHEET, CONF_SHEET)

#: Sheets whose table (header row down) the refresh replaces.
OUTPUT_SHEETS: dict[str, OutputSheet] = {
    "Ageing": OutputSheet("Ageing", "Ageing of open receivables"),
    "Letters": OutputSheet("Letters", "Dunning letters issued"),
    "Statements": OutputSheet("Statements", "Statements of account", header_row=6),
    "Review": OutputSheet("Review", "Portfolio review"),
    "Policy Audit": OutputSheet("Policy Audit", "Policy audit: what the policy would have decided", header_row=7),
    "Worklist": OutputSheet("Worklist", "Worklist: who to call today"),
    "Matches": OutputSheet("Matches", "Bank matches: tick Accept, then press Apply Matches"),
}

#: Cells the user fills in above an output sheet's table, or on the Bank sheet: read by that sheet's button,
#: never written by any run (sheet → name → cell).
INPUT_CELLS: dict[str, dict[str, str]] = {
    "Statements": {"from": "B3", "to": "B4", "customer": "B5"},
    "Policy Audit": {"against": "B3", "from": "B4", "to": "B5"},
    BANK_SHEET: {"file": "B3"},
}
#: The Policy Audit sheet's tables, one below the other from its header row: the comparison (this many measures,
#: :func:`xlcredit.jobs.audit.comparison_rows`), the months (the chart beside the comparison reads
#: :data:`AUDIT_MONTH_ROWS`: the twelve month ends of the default period), the default rate by grade.
AUDIT_MEASURES = 21
AUDIT_MONTHS_HEADER_ROW = 7 + 1 + AUDIT_MEASURES + 1
AUDIT_MONTH_ROWS: tuple[int, ...] = tuple(range(AUDIT_MONTHS_HEADER_ROW + 1, AUDIT_MONTHS_HEADER_ROW + 13))
#: Row of the Bank sheet where a pasted export starts (its header row; the rows below it are transactions).
BANK_FIRST_ROW = 6

#: Tab order of the workbook.
SHEET_ORDER: tuple[str, ...] = (DASHBOARD_SHEET, "Customers", "Invoices", "Payments", "Credit Notes", "FX Rates",
                                "Reviews", "Promises", "Disputes", "Plans", "Contacts", BANK_SHEET, "Ageing",
                                "Letters", "Statements", "Review", "Policy Audit", "Worklist", "Matches", POLICY_SHEET,
                                CONF_SHEET)

#: Customers columns that hold formulas (the engine's answers, not inputs): header → Excel function.
CUSTOMER_FORMULA_COLUMNS: dict[str, str] = {
    "Score": "CREDIT_SCORE",
    "Grade": "CREDIT_GRADE",
    "Limit": "CREDIT_LIMIT",
    "Available": "CREDIT_AVAILABLE",
    "Terms": "CREDIT_TERMS",
    "Deposit": "DEPOSIT_REQUIRED",
    "Stage": "DUNNING_STAGE",
    "Next order": "ORDER_CHECK",
}
#: Arguments of a Customers formula after the customer id (the next order's status is ORDER_CHECK of 0).
CUSTOMER_FORMULA_ARGS: dict[str, str] = {"Next order": "0"}


def customer_formula(header: str, customer_ref: str) -> str:
    """The formula of a Customers formula column, e.g. ``=ORDER_CHECK(Customers[[#This Row],[customer_id]], 0)``."""
    extra = CUSTOMER_FORMULA_ARGS.get(header)
    return f"={CUSTOMER_FORMULA_COLUMNS[header]}({customer_ref}{', ' + extra if extra else ''})"

#: Dashboard key figures: name → cell.
KPI_CELLS: dict[str, str] = {
    "total_ar": "C9",        # total open receivables, company currency
    "overdue_pct": "C10",    # share of receivables past due (fraction)
    "dso": "C11",            # days sales outstanding
    "best_dso": "C12",       # best possible DSO
    "add": "C13",            # average days delinquent = DSO − best possible DSO
    "cei": "C14",            # collection effectiveness index (fraction)
}
#: Rows of the Dashboard's ageing-by-bucket block (one per bucket; the chart reads them).
AGEING_BUCKET_ROWS: tuple[int, ...] = (17, 18, 19, 20, 21, 22)
AGEING_TOTAL_ROW = 23

#: The review figures on the Dashboard (Review Portfolio button): name → cell.
REVIEW_CELLS: dict[str, str] = {
    "reviews_due": "C26",          # customers due for a periodic or special review
    "ecl_total": "C27",            # IFRS 9 lifetime ECL allowance, company currency
    "indemnity_expected": "C28",   # expected indemnity on claims for the covered overdue items
}
#: Rows of the Dashboard's cash-forecast block (one per week: first day, amount; the forecast chart reads them).
FORECAST_ROWS: tuple[int, ...] = tuple(range(31, 44))
FORECAST_LATER_ROW = 44
#: The Dashboard's policy-check block (written by every refresh): the summary in C of the title row, then one
#: finding per row (level in B, the sentence in C); the last row says how many more when there are more.
POLICY_CHECK_ROW = 47
POLICY_CHECK_ROWS: tuple[int, ...] = tuple(range(48, 54))
#: What the policy-check block says when the policy and the ledger agree.
NO_CONFLICTS = "No conflicts found"

#: Every Dashboard output cell by name: as-of date, refresh time, currency, KPIs, the ageing block, and the
#: review's figures and weekly cash forecast.
DASHBOARD_CELLS: dict[str, str] = {
    "as_of": "C2",
    "refreshed_at": "C3",
    "currency": "C8",
    **KPI_CELLS,
    **{f"bucket{i}_label": f"B{row}" for i, row in enumerate(AGEING_BUCKET_ROWS, start=1)},
    **{f"bucket{i}_amount": f"C{row}" for i, row in enumerate(AGEING_BUCKET_ROWS, start=1)},
    **{f"bucket{i}_share": f"D{row}" for i, row in enumerate(AGEING_BUCKET_ROWS, start=1)},
    "ageing_total": f"C{AGEING_TOTAL_ROW}",
    "ageing_total_share": f"D{AGEING_TOTAL_ROW}",
    **REVIEW_CELLS,
    **{f"forecast{i}_label": f"B{row}" for i, row in enumerate(FORECAST_ROWS, start=1)},
    **{f"forecast{i}_amount": f"C{row}" for i, row in enumerate(FORECAST_ROWS, start=1)},
    "forecast_later": f"C{FORECAST_LATER_ROW}",
    "policy_check": f"C{POLICY_CHECK_ROW}",
    **{f"policy_check{i}_level": f"B{row}" for i, row in enumerate(POLICY_CHECK_ROWS, start=1)},
    **{f"policy_check{i}_text": f"C{row}" for i, row in enumerate(POLICY_CHECK_ROWS, start=1)},
}

#: Every single cell a refresh may write outside the output tables, as (sheet, cell).
OUTPUT_CELLS: frozenset[tuple[str, str]] = frozenset(
    {(DASHBOARD_SHEET, ref) for ref in DASHBOARD_CELLS.values()}
    | {(spec.name, spec.as_of_cell) for spec in OUTPUT_SHEETS.values()}
)

#: Column headers in words, for people (the engine's field names stay in the code, CSV exports and the API):
#: the input tables are built with these headers and read back to the field names (:func:`field_name`);
#: the output tables are written with them (:func:`header_text`). A header the reader does not know is kept.
HEADER_WORDS: dict[str, str] = {
    # customers
    "customer_id": "Customer ID", "name": "Name", "country": "Country", "currency": "Currency",
    "language": "Language", "rating": "Rating", "total_assets": "Total assets",
    "total_liabilities": "Total liabilities", "current_assets": "Current assets", "inventory": "Inventory",
    "current_liabilities": "Current liabilities", "operating_cash_flow": "Operating cash flow",
    "retained_earnings": "Retained earnings", "ebit": "EBIT", "relationship_start": "Customer since",
    "annual_volume": "Annual volume", "first_order": "First order", "open_orders": "Open orders",
    "uninvoiced_deliveries": "Uninvoiced deliveries", "bank_guarantee": "Bank guarantee",
    "insured_limit": "Insured limit", "insurer": "Insurer", "reference_check": "Reference check",
    "statutory_regime": "Statutory regime", "email": "Email", "address": "Address", "contact": "Contact",
    "avg_days_late": "Average days late", "items_over_90": "Items over 90 days", "max_days_late": "Most days late",
    # invoices, payments, credit notes, FX rates
    "invoice_no": "Invoice no.", "amount": "Amount", "invoice_date": "Invoice date", "due_date": "Due date",
    "terms": "Terms", "disputed": "Disputed", "payment_id": "Payment ID", "payment_date": "Payment date",
    "invoice_ref": "Invoice ref.", "credit_note_no": "Credit note no.", "date": "Date", "rate": "Rate",
    "bank_reference": "Bank reference",
    # output tables
    "id": "No.", "created_at": "Issued at", "created_by": "Issued by", "kind": "Kind", "step_index": "Step",
    "stage": "Stage", "as_of": "As of", "resend": "Resend no.", "file": "File", "content_hash": "SHA-256 of the PDF",
    "fx_rate": "FX rate", "open_total": "Open total", "unapplied_cash": "Unapplied cash",
    "dunning_stage": "Dunning stage", "days_past_due": "Days past due", "next_review": "Next review",
    "last_review": "Last review",
    # reviews (an imported review history)
    "review_date": "Review date", "grade": "Grade", "score": "Score", "credit_limit": "Credit limit", "notes": "Notes",
    # promises, disputes, plans, contacts (the collector's records; xlcredit.io.collector reads these words too)
    "promised_date": "Promised date", "taken_on": "Taken on", "invoice_nos": "Invoices", "taken_by": "Taken by",
    "channel": "Channel", "note": "Note", "opened_on": "Opened on", "reason": "Reason", "owner": "Owner",
    "resolved_on": "Resolved on", "resolution": "Resolution", "outcome": "Outcome", "credited": "Credit note amount",
    "instalments": "Instalments", "first_due": "First due", "agreed_on": "Agreed on", "months_apart": "Months apart",
    "annual_rate": "Interest rate", "contact_date": "Contact date", "who": "Who",
}
_FIELD_OF_HEADER = {words.lower(): field for field, words in HEADER_WORDS.items()}


def header_text(name: str) -> str:
    """The header in words of a column the engine calls ``name``: ``customer_id`` → ``Customer ID``,
    ``open_total EUR`` → ``Open total EUR`` (a header already in words stays as it is)."""
    if name in HEADER_WORDS:
        return HEADER_WORDS[name]
    head, sep, tail = name.partition(" ")
    if "_" not in head and not head.islower():
        return name
    words = HEADER_WORDS.get(head) or head.replace("_", " ")
    return f"{words[:1].upper()}{words[1:]}{sep}{tail}"


def field_name(header: str) -> str:
    """The engine's name of an input column from its header in words (``Customer ID`` → ``customer_id``);
    any other header is returned unchanged."""
    return _FIELD_OF_HEADER.get(header.strip().lower(), header)


#: Number formats of the output tables, by kind (Excel format codes).
NUMBER_FORMATS: dict[str, str] = {
    "money": '#,##0.00;[Red]-#,##0.00;"-"',
    "int": "#,##0",
    "pct": "0.0%",
    "ratio": "0.00",
    "rate": "0.000000",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    "bool": '"TRUE";"TRUE";"FALSE"',   # TRUE/FALSE cells shown as such by every reader (LibreOffice shows 1/0)
}
#: Output columns whose kind cannot be told from their values (a share is a float, like an amount).
COLUMN_KINDS: dict[str, str] = {
    "share": "pct", "overdue_pct": "pct", "utilisation": "pct", "deposit_share": "pct", "deposit": "pct",
    "cei": "pct", "dso": "ratio", "best_dso": "ratio", "add": "ratio", "avg_days_late": "ratio",
    "fx_rate": "rate", "rate": "rate", "confidence": "pct",
    "score": "int", "days_past_due": "int", "days_overdue": "int", "items": "int", "stage_no": "int",
}
_BUILTIN_FORMATS = {0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%",
                    14: "mm-dd-yy", 22: "m/d/yy h:mm", 49: "@"}


def dashboard_cells(values: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    """``{"total_ar": …, "bucket1_label": "Current", …}`` → the ``cells`` argument of :func:`write_outputs`."""
    out: dict[tuple[str, str], Any] = {}
    for name, value in values.items():
        if name not in DASHBOARD_CELLS:
            raise XlcError("dashboard cell", f"is not a Dashboard output (got {describe(name)}; known: "
                           f"{', '.join(DASHBOARD_CELLS)})", name)
        out[(DASHBOARD_SHEET, DASHBOARD_CELLS[name])] = value
    return out


def policy_check_values(findings: Sequence[Any]) -> dict[str, Any]:
    """The Dashboard's policy-check block from the findings of :func:`xlcredit.core.policy_check.check_policy`
    (each with ``level`` and ``message``): "No conflicts found", or the count and one finding per row."""
    slots = len(POLICY_CHECK_ROWS)
    errors = sum(1 for f in findings if f.level == "error")
    warnings = len(findings) - errors
    if not findings:
        summary = NO_CONFLICTS
    else:
        summary = ", ".join(part for part in (_count(errors, "error"), _count(warnings, "warning")) if part)
    values: dict[str, Any] = {"policy_check": summary}
    shown = list(findings) if len(findings) <= slots else list(findings)[:slots - 1]
    for i in range(1, slots + 1):
        if i <= len(shown):
            finding = shown[i - 1]
            values[f"policy_check{i}_level"] = str(finding.level).capitalize()
            values[f"policy_check{i}_text"] = str(finding.message)
        elif i == len(shown) + 1 and len(findings) > len(shown):
            values[f"policy_check{i}_level"] = "More"
            values[f"policy_check{i}_text"] = (f"… and {len(findings) - len(shown)} more: run xlcredit policy-check "
                                               "to see them all")
        else:
            values[f"policy_check{i}_level"] = values[f"policy_check{i}_text"] = None
    return values


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}" if n else ""


# =========================================================================== package helpers
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "pr": "http://schemas.openxmlformats.org/package/2006/relationships"}
_R_ID = f"{{{_NS['r']}}}id"
_CELL_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d{1,7})$")


def _part_path(base: str, target: str) -> str:
    """Resolve a relationship target against the folder of the part that owns the relationship."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for piece in (PurePosixPath(base).parent / target).parts:
        if piece == "..":
            if parts:
                parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


def _rels_of(part: str) -> str:
    p = PurePosixPath(part)
    return str(p.parent / "_rels" / (p.name + ".rels"))


def _relationships(zf: zipfile.ZipFile, part: str) -> list[dict[str, str]]:
    name = _rels_of(part)
    if name not in zf.namelist():
        return []
    root = ElementTree.fromstring(zf.read(name))
    return [dict(el.attrib) for el in root.findall("pr:Relationship", _NS)]


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → worksheet part path, in workbook order."""
    root = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    targets = {r["Id"]: _part_path("xl/workbook.xml", r["Target"]) for r in _relationships(zf, "xl/workbook.xml")}
    out: dict[str, str] = {}
    for sheet in root.findall("m:sheets/m:sheet", _NS):
        rid = sheet.get(_R_ID, "")
        if rid in targets:
            out[sheet.get("name", "")] = targets[rid]
    return out


def _date1904(zf: zipfile.ZipFile) -> bool:
    root = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    pr = root.find("m:workbookPr", _NS)
    return pr is not None and pr.get("date1904", "0").lower() in ("1", "true")


def _open_package(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise XlcError("workbook", f"not found: {path}", str(path))
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise XlcError("workbook", f"is not an Excel .xlsx/.xlsm file: {path}", str(path)) from None


def _split_ref(ref: str) -> tuple[int, int]:
    """``"C12"`` → (row 12, column 3)."""
    m = _CELL_REF.match(ref.strip().upper())
    if not m:
        raise XlcError("cell", f"is not a cell reference like B7 (got {describe(ref)})", ref)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def _col_letters(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _range_bounds(ref: str) -> tuple[int, int, int, int]:
    """``"A1:K61"`` → (first row, first col, last row, last col)."""
    first, _, last = ref.partition(":")
    r1, c1 = _split_ref(first)
    r2, c2 = _split_ref(last or first)
    return r1, c1, r2, c2


# =========================================================================== reading
def _tables_of(zf: zipfile.ZipFile, sheet_part: str) -> dict[str, tuple[str, int, int]]:
    """Excel Tables on a sheet: name → (ref, header rows, totals rows)."""
    out: dict[str, tuple[str, int, int]] = {}
    for rel in _relationships(zf, sheet_part):
        if not rel.get("Type", "").endswith("/table"):
            continue
        root = ElementTree.fromstring(zf.read(_part_path(sheet_part, rel["Target"])))
        name = root.get("displayName") or root.get("name") or ""
        out[name] = (root.get("ref", ""), int(root.get("headerRowCount", "1")), int(root.get("totalsRowCount", "0")))
    return out


def _cell_value(value: Any) -> Any:
    """A cached cell value as the engine's readers take it: dates at midnight become dates, blanks None."""
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time(0) else value
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _frame(header: Sequence[Any], rows: Iterable[Sequence[Any]], drop: Iterable[str] = ()) -> pd.DataFrame:
    names = ["" if h is None else str(h).strip() for h in header]
    names = [n if n in set(drop) else field_name(n) for n in names]
    while names and not names[-1]:
        names.pop()
    width = len(names)
    data = [[_cell_value(v) for v in list(r)[:width]] + [None] * max(0, width - len(r)) for r in rows]
    while data and all(v is None for v in data[-1]):
        data.pop()
    frame = pd.DataFrame(data, columns=names, dtype=object) if data else pd.DataFrame(
        {n: pd.Series([], dtype=object) for n in names})
    dropped = [c for c in frame.columns if c in set(drop) or not c]
    return frame.drop(columns=dropped)


def read_tables(path: str | Path) -> dict[str, pd.DataFrame]:
    """The input tables of the workbook as DataFrames of cell values, keyed ``customers``, ``invoices``,
    ``payments`` and, when the sheets exist, ``credit_notes`` and ``fx_rates``.

    Each frame has the table's headers as columns and one row per table row (row *k* of the frame is
    sheet row *k* + 2, as the engine's row-problem numbers assume; trailing blank rows are dropped). Values
    are what Excel last saved: numbers, text, booleans, dates (``datetime.date``; a time of day keeps its
    ``datetime``) and None for blanks. The Customers formula columns (Score, Grade, …) are outputs and
    are left out. Raises :class:`XlcError` when the file or a required sheet is missing.
    """
    import openpyxl

    path = Path(path)
    with _open_package(path) as zf:
        parts = _sheet_parts(zf)
        tables = {name: _tables_of(zf, part) for name, part in parts.items()}
    missing = [t.sheet for t in INPUT_TABLES if t.required and t.sheet not in parts]
    if missing:
        raise XlcError("workbook", f"has no sheet named {', '.join(repr(m) for m in missing)} "
                       f"(sheets: {', '.join(parts)})", str(path))
    out: dict[str, pd.DataFrame] = {}
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        for spec in INPUT_TABLES:
            if spec.sheet not in parts:
                continue
            ws = wb[spec.sheet]
            drop = CUSTOMER_FORMULA_COLUMNS if spec.key == "customers" else ()
            found = tables[spec.sheet].get(spec.table) or next(iter(tables[spec.sheet].values()), None)
            if found and found[0]:
                r1, c1, r2, c2 = _range_bounds(found[0])
                header_rows, totals = found[1], found[2]
                rows = list(ws.iter_rows(min_row=r1, max_row=r2 - totals, min_col=c1, max_col=c2, values_only=True))
                header = rows[0] if header_rows else [f"column{i}" for i in range(1, c2 - c1 + 2)]
                out[spec.key] = _frame(header, rows[header_rows:], drop)
            else:  # no Excel Table (the user converted it to a range): header = first non-blank row
                rows = [r for r in ws.iter_rows(values_only=True)]
                start = next((k for k, r in enumerate(rows) if any(_cell_value(v) is not None for v in r)), None)
                out[spec.key] = _frame(rows[start], rows[start + 1:], drop) if start is not None else pd.DataFrame()
    finally:
        wb.close()
    return out


def _two_columns(path: Path, sheet: str, *, stop_at_blank: bool) -> list[tuple[Any, Any, int]]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        if sheet not in wb.sheetnames:
            raise XlcError("workbook", f"has no sheet named {sheet!r} (sheets: {', '.join(wb.sheetnames)})", str(path))
        out = []
        for number, row in enumerate(wb[sheet].iter_rows(min_col=1, max_col=2, values_only=True), start=1):
            key = row[0] if row else None
            value = row[1] if len(row) > 1 else None
            if key is None or (isinstance(key, str) and not key.strip()):
                if stop_at_blank:
                    break
                continue
            out.append((key.strip() if isinstance(key, str) else key, _cell_value(value), number))
        return out
    finally:
        wb.close()


def read_policy_rows(path: str | Path) -> list[tuple[str, Any]]:
    """The Policy sheet as ``(setting, value)`` rows for :meth:`Policy.from_rows
    <xlcredit.core.policy.Policy.from_rows>`.

    Column A holds the dotted setting (``limits.volume_share``), column B its value as typed (numbers,
    text, TRUE/FALSE). The header row and section rows (a setting starting with ``#``) are left out, and so
    are blank rows.
    """
    rows = _two_columns(Path(path), POLICY_SHEET, stop_at_blank=False)
    out: list[tuple[str, Any]] = []
    for key, value, _ in rows:
        text = str(key).strip()
        if text.startswith("#") or (not out and text.lower() in ("setting", "key")):
            continue
        out.append((text, value))
    return out


def read_config(path: str | Path) -> dict[str, Any]:
    """The ``xlwings.conf`` sheet as xlwings reads it: column A keys from A1 down to the first blank,
    column B values (blank → None). Holds ``XLCREDIT_DB``, ``XLCREDIT_SERVER_URL`` and ``XLCREDIT_API_KEY``."""
    return {str(k): v for k, v, _ in _two_columns(Path(path), CONF_SHEET, stop_at_blank=True)}


def read_cells(path: str | Path, sheet: str, refs: Mapping[str, str]) -> dict[str, Any]:
    """Named single cells of a sheet as Excel last saved them (``{"from": "B3"}`` → ``{"from": date(…)}``); a
    missing sheet gives None for each (a workbook made before that sheet)."""
    import openpyxl

    wb = openpyxl.load_workbook(Path(path), read_only=True, data_only=True, keep_links=False)
    try:
        if sheet not in wb.sheetnames:
            return dict.fromkeys(refs)
        ws = wb[sheet]
        out = {}
        for name, ref in refs.items():
            row, col = _split_ref(ref)
            out[name] = _cell_value(ws.cell(row, col).value)
        return out
    finally:
        wb.close()


def read_rows(path: str | Path, sheet: str, first_row: int) -> list[list[Any]]:
    """The rows of a sheet from ``first_row`` down, as values (trailing blank cells and rows left out)."""
    import openpyxl

    wb = openpyxl.load_workbook(Path(path), read_only=True, data_only=True, keep_links=False)
    try:
        if sheet not in wb.sheetnames:
            return []
        rows = [[_cell_value(v) for v in row] for row in wb[sheet].iter_rows(min_row=first_row, values_only=True)]
    finally:
        wb.close()
    out = []
    for row in rows:
        while row and row[-1] is None:
            row.pop()
        out.append(row)
    while out and not out[-1]:
        out.pop()
    return out


# =========================================================================== writing: cell XML
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAX_TEXT = 32767


def _serial(value: dt.date | dt.datetime, date1904: bool) -> str:
    if isinstance(value, dt.datetime):
        value = value.replace(tzinfo=None)
        epoch = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
        delta = value - epoch
        return repr(round(delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000, 10))
    epoch_day = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)
    return str((value - epoch_day).days)


def _plain(value: Any) -> Any:
    """numpy/pandas scalars → Python; NaN/NaT/NA → None."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    return value


def _cell_xml(ref: str, value: Any, style: int, date1904: bool, where: str) -> str:
    value = _plain(value)
    s = f' s="{style}"' if style else ""
    if value is None:
        return f'<c r="{ref}"{s}/>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    if isinstance(value, Decimal):
        return f'<c r="{ref}"{s}><v>{format(value, "f")}</v></c>'
    if isinstance(value, float):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
    if isinstance(value, (dt.date, dt.datetime)):
        return f'<c r="{ref}"{s}><v>{_serial(value, date1904)}</v></c>'
    text = _ILLEGAL_XML.sub("", str(value))
    if len(text) > _MAX_TEXT:
        raise XlcError(where, f"text is longer than Excel's {_MAX_TEXT} characters per cell ({len(text)})", text[:40])
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


# =========================================================================== writing: styles
class _Styles:
    """Cell formats of ``xl/styles.xml``: finds the plain format for a number-format code, or appends one."""

    def __init__(self, xml: bytes) -> None:
        self.text = xml.decode("utf-8")
        self.changed = False
        root = ElementTree.fromstring(xml)
        self.codes = dict(_BUILTIN_FORMATS)
        for nf in root.findall("m:numFmts/m:numFmt", _NS):
            self.codes[int(nf.get("numFmtId", "0"))] = nf.get("formatCode", "")
        self.xfs = [dict(xf.attrib) for xf in root.findall("m:cellXfs/m:xf", _NS)]
        self.cache: dict[str, int] = {}

    def for_code(self, code: str) -> int:
        """Index of a cell format with number format ``code`` and the default font, fill and border."""
        if code in self.cache:
            return self.cache[code]
        ids = [i for i, c in self.codes.items() if c == code]
        for index, xf in enumerate(self.xfs):
            if (int(xf.get("numFmtId", "0")) in ids and xf.get("fontId", "0") == "0"
                    and xf.get("fillId", "0") == "0" and xf.get("borderId", "0") == "0"):
                self.cache[code] = index
                return index
        if code == "General":
            self.cache[code] = 0
            return 0
        if ids:
            fmt_id = ids[0]
        else:
            fmt_id = max([163, *self.codes]) + 1
            self.codes[fmt_id] = code
            entry = f'<numFmt numFmtId="{fmt_id}" formatCode="{escape(code, {chr(34): "&quot;"})}"/>'
            if "<numFmts" in self.text:
                self.text = re.sub(r"</numFmts>", entry + "</numFmts>", self.text, count=1)
                self.text = _bump_count(self.text, "numFmts")
            else:
                self.text = re.sub(r"(<styleSheet\b[^>]*>)", r"\1" + f'<numFmts count="1">{entry}</numFmts>',
                                   self.text, count=1)
        xf = {"numFmtId": str(fmt_id), "fontId": "0", "fillId": "0", "borderId": "0", "xfId": "0",
              "applyNumberFormat": "1"}
        self.xfs.append(xf)
        attrs = " ".join(f'{k}="{v}"' for k, v in xf.items())
        self.text = re.sub(r"</cellXfs>", f"<xf {attrs}/></cellXfs>", self.text, count=1)
        self.text = _bump_count(self.text, "cellXfs")
        self.changed = True
        index = len(self.xfs) - 1
        self.cache[code] = index
        return index


def _bump_count(text: str, element: str) -> str:
    def repl(m: re.Match[str]) -> str:
        tag = m.group(0)
        n = len(re.findall(rf"<{_child_of[element]}\b", _section(text, element)))
        if 'count="' in tag:
            return re.sub(r'count="\d+"', f'count="{n}"', tag)
        return tag[:-1] + f' count="{n}">'
    return re.sub(rf"<{element}\b[^>]*>", repl, text, count=1)


_child_of = {"numFmts": "numFmt", "cellXfs": "xf"}


def _section(text: str, element: str) -> str:
    m = re.search(rf"<{element}\b[^>]*>(.*?)</{element}>", text, re.S)
    return m.group(1) if m else ""


# =========================================================================== writing: sheet XML surgery
_ROW = re.compile(r"<row\b[^>]*?/>|<row\b[^>]*>.*?</row>", re.S)
_CELL = re.compile(r"<c\b[^>]*?/>|<c\b[^>]*>.*?</c>", re.S)
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')


def _attr(tag: str, name: str) -> str | None:
    head = tag[: tag.index(">") + 1]
    for key, value in _ATTR.findall(head):
        if key == name:
            return value
    return None


@dataclass
class _Row:
    number: int
    xml: str              # the whole <row> element
    cells: list[tuple[int, str]]  # (column, <c> element) in order


def _parse_rows(sheet_data: str) -> list[_Row]:
    rows: list[_Row] = []
    last = 0
    for m in _ROW.finditer(sheet_data):
        xml = m.group(0)
        r = _attr(xml, "r")
        number = int(r) if r else last + 1
        last = number
        cells: list[tuple[int, str]] = []
        col = 0
        for c in _CELL.finditer(xml):
            ref = _attr(c.group(0), "r")
            col = _split_ref(ref)[1] if ref else col + 1
            cells.append((col, c.group(0)))
        rows.append(_Row(number, xml, cells))
    return rows


def _row_xml(number: int, cells: Sequence[tuple[int, str]], old: str | None = None) -> str:
    """A <row> with ``cells``; keeps the old row's attributes (height, style) except its spans hint."""
    if old is not None:
        head = old[: old.index(">") + 1].rstrip("/>").rstrip()
        head = re.sub(r'\s+spans="[^"]*"', "", head)
        head = re.sub(r'\s+r="\d+"', "", head)
        head = head.replace("<row", f'<row r="{number}"', 1)
    else:
        head = f'<row r="{number}"'
    if not cells:
        return head + "/>"
    return head + ">" + "".join(c for _, c in cells) + "</row>"


def _sheet_data_span(xml: str) -> tuple[int, int, str]:
    """(start, end, inner text) of <sheetData>; an empty <sheetData/> gives an empty inner text."""
    m = re.search(r"<sheetData\s*/>|<sheetData\b[^>]*>(.*?)</sheetData>", xml, re.S)
    if not m:
        raise XlcError("worksheet", "has no <sheetData> part", None)
    return m.start(), m.end(), m.group(1) or ""


def _col_styles(xml: str) -> list[tuple[int, int, dict[str, str]]]:
    m = re.search(r"<cols>(.*?)</cols>", xml, re.S)
    out = []
    for col in re.findall(r"<col\b[^>]*/?>", m.group(1) if m else ""):
        attrs = dict(_ATTR.findall(col))
        out.append((int(attrs.get("min", "0")), int(attrs.get("max", "0")), attrs))
    return out


def _col_attr(cols: list[tuple[int, int, dict[str, str]]], column: int) -> dict[str, str]:
    for lo, hi, attrs in cols:
        if lo <= column <= hi:
            return attrs
    return {}


def _set_dimension(xml: str, rows: Sequence[_Row]) -> str:
    cells = [(r.number, col) for r in rows for col, _ in r.cells]
    if not cells:
        ref = "A1"
    else:
        lo_r = min(r for r, _ in cells)
        hi_r = max(r for r, _ in cells)
        lo_c = min(c for _, c in cells)
        hi_c = max(c for _, c in cells)
        ref = f"{_col_letters(lo_c)}{lo_r}:{_col_letters(hi_c)}{hi_r}"
        if ref.split(":")[0] == ref.split(":")[1]:
            ref = ref.split(":")[0]
    if re.search(r"<dimension\b[^>]*/>", xml):
        return re.sub(r'<dimension\b[^>]*/>', f'<dimension ref="{ref}"/>', xml, count=1)
    return xml


def _patch_cells(xml: str, values: Mapping[str, Any], date1904: bool, sheet: str) -> str:
    """Set single cells, keeping each cell's own format (or its column's) — nothing else in the sheet moves."""
    start, end, inner = _sheet_data_span(xml)
    rows = _parse_rows(inner)
    by_number = {r.number: r for r in rows}
    cols = _col_styles(xml)
    for ref, value in values.items():
        number, column = _split_ref(ref)
        canonical = f"{_col_letters(column)}{number}"
        row = by_number.get(number)
        if row is None:
            row = _Row(number, "", [])
            by_number[number] = row
            rows.append(row)
            rows.sort(key=lambda r: r.number)
        old = next((c for col, c in row.cells if col == column), None)
        if old is not None:
            style = int(_attr(old, "s") or 0)
        else:
            style = int(_col_attr(cols, column).get("style", "0"))
        cell = _cell_xml(canonical, value, style, date1904, f"{sheet}!{canonical}")
        row.cells = sorted([(c, x) for c, x in row.cells if c != column] + [(column, cell)])
        row.xml = _row_xml(number, row.cells, row.xml or None)
    body = "".join(r.xml for r in rows)
    xml = xml[:start] + f"<sheetData>{body}</sheetData>" + xml[end:]
    return _set_dimension(xml, rows)


def _kind_of(name: str, series: pd.Series) -> str:
    key = name.strip().lower().replace(" ", "_")
    if key in COLUMN_KINDS:
        return COLUMN_KINDS[key]
    for value in series:
        value = _plain(value)
        if value is None:
            continue
        if isinstance(value, bool):
            return "bool"
        if isinstance(value, int):
            return "int"
        if isinstance(value, (Decimal, float)):
            return "money"
        if isinstance(value, dt.datetime):
            return "datetime"
        if isinstance(value, dt.date):
            return "date"
        return "text"
    return "text"


_DEFAULT_WIDTH = {"money": 14.0, "int": 10.0, "pct": 9.0, "ratio": 9.0, "date": 11.0, "datetime": 16.0}


def _text_width(name: str, series: pd.Series) -> float:
    longest = max([len(str(name))] + [len(str(v)) for v in series.head(200) if _plain(v) is not None])
    return float(min(60, max(8, longest + 2)))


def _cell_text(cell: str, shared: Sequence[str]) -> str:
    """The text a <c> element shows (shared, inline or formula string, or the raw number)."""
    kind = _attr(cell, "t")
    if kind == "s":
        m = re.search(r"<v>(\d+)</v>", cell)
        return shared[int(m.group(1))] if m and int(m.group(1)) < len(shared) else ""
    if kind == "inlineStr":
        return _unescape("".join(re.findall(r"<t\b[^>]*>(.*?)</t>", cell, re.S)))
    m = re.search(r"<v>(.*?)</v>", cell, re.S)
    return _unescape(m.group(1)) if m else ""


def _shared_strings(zf: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in zf.namelist():
        return []
    root = ElementTree.fromstring(zf.read("xl/sharedStrings.xml"))
    t = f"{{{_NS['m']}}}t"
    return ["".join(el.text or "" for el in si.iter(t)) for si in root.findall("m:si", _NS)]


def _blocks(frame: Any, where: str) -> list[pd.DataFrame]:
    """An output as its tables: one DataFrame, or several (a tuple or list of DataFrames) written one below the
    other with a blank row between (e.g. the Policy Audit's comparison, months and calibration)."""
    blocks = list(frame) if isinstance(frame, (list, tuple)) and frame else [frame]
    for block in blocks:
        if not isinstance(block, pd.DataFrame):
            raise XlcError(f"{where} output", f"must be a pandas DataFrame (got {type(block).__name__})", None)
    return blocks


def _has_cents(value: Any) -> bool:
    """True for an amount (a Decimal, or a float with a fraction) — not for a whole count read as a float."""
    value = _plain(value)
    return isinstance(value, Decimal) or (isinstance(value, float) and not value.is_integer())


def _replace_table(xml: str, spec: OutputSheet, frame: Any, styles: _Styles, date1904: bool,
                   shared: Sequence[str] = ()) -> str:
    """Replace everything from the header row down with ``frame`` (header + one row per record); several frames
    (:func:`_blocks`) follow each other with a blank row between, each with its header row."""
    blocks = _blocks(frame, spec.name)
    start, end, inner = _sheet_data_span(xml)
    rows = _parse_rows(inner)
    old_header = next((r for r in rows if r.number == spec.header_row), None)
    old_cols = _col_styles(xml)
    # what the sheet knew about each column, by its header text: width and header format
    known_width: dict[str, str] = {}
    header_style = 0
    if old_header is not None:
        for col, cell in old_header.cells:
            style = int(_attr(cell, "s") or 0)
            header_style = header_style or style
            text = _cell_text(cell, shared)
            width = _col_attr(old_cols, col).get("width")
            if text and width:
                known_width[text] = width
    kept = [r for r in rows if r.number < spec.header_row]
    new_rows: list[_Row] = []
    number = spec.header_row
    first_names: list[str] = []
    first_kinds: list[str] = []
    first_styles: list[int] = []
    for b, block in enumerate(blocks):
        names = [str(c) for c in block.columns]
        kinds = [_kind_of(n, block.iloc[:, j]) for j, n in enumerate(names)]
        data_styles = [styles.for_code(NUMBER_FORMATS[k]) if k in NUMBER_FORMATS else 0 for k in kinds]
        names = [header_text(n) for n in names]   # headers in words (kinds above were told by the field names)
        if b == 0:
            first_names, first_kinds, first_styles = names, kinds, data_styles
        header_cells = [(j, _cell_xml(f"{_col_letters(j)}{number}", n, header_style, date1904, spec.name))
                        for j, n in enumerate(names, start=1)]
        new_rows.append(_Row(number, _row_xml(number, header_cells, old_header.xml if old_header and b == 0
                                              else None), header_cells))
        for record in block.itertuples(index=False, name=None):
            number += 1
            cells = []
            for j, value in enumerate(record, start=1):
                if _plain(value) is None:
                    continue
                ref = f"{_col_letters(j)}{number}"
                style = data_styles[j - 1]
                if kinds[j - 1] == "int" and _has_cents(value):   # an amount among counts keeps its decimals
                    style = styles.for_code(NUMBER_FORMATS["money"])
                cells.append((j, _cell_xml(ref, value, style, date1904, f"{spec.name}!{ref}")))
            new_rows.append(_Row(number, _row_xml(number, cells), cells))
        number += 2   # a blank row, then the next block's header
    all_rows = kept + new_rows
    body = "".join(r.xml for r in all_rows)
    xml = xml[:start] + f"<sheetData>{body}</sheetData>" + xml[end:]
    # columns: widths follow the (first table's) header names; each column carries its data format
    col_xml = []
    for j, (name, kind) in enumerate(zip(first_names, first_kinds, strict=True), start=1):
        # several tables share the columns: each keeps the width the sheet gave it (headers change with the run)
        positional = _col_attr(old_cols, j).get("width") if len(blocks) > 1 else None
        width = (known_width.get(name) or positional
                 or str(_DEFAULT_WIDTH.get(kind) or _text_width(name, blocks[0].iloc[:, j - 1])))
        style = f' style="{first_styles[j - 1]}"' if first_styles[j - 1] else ""
        col_xml.append(f'<col min="{j}" max="{j}" width="{width}"{style} customWidth="1"/>')
    if len(blocks) > 1:   # columns only the later tables use keep the widths the sheet gave them
        last = max(len(bl.columns) for bl in blocks)
        for j in range(len(first_names) + 1, last + 1):
            attrs = _col_attr(old_cols, j)
            width = attrs.get("width") or "12"
            col_xml.append(f'<col min="{j}" max="{j}" width="{width}" customWidth="1"/>')
    cols = "<cols>" + "".join(col_xml) + "</cols>" if col_xml else ""
    if re.search(r"<cols>.*?</cols>", xml, re.S):
        xml = re.sub(r"<cols>.*?</cols>", lambda _m: cols, xml, count=1, flags=re.S)
    elif cols:
        xml = xml.replace("<sheetData>", cols + "<sheetData>", 1)
    xml = _drop_merges_below(xml, spec.header_row)
    return _set_dimension(xml, all_rows)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace(
        "&amp;", "&")


_FORMULA = re.compile(r"<(?:\w+:)?f[\s>/]")


def _merge_refs(xml: str) -> list[str]:
    """The ranges of a sheet's merged cells (``A4:C5``)."""
    m = re.search(r"<mergeCells\b[^>]*>(.*?)</mergeCells>", xml, re.S)
    return [_attr(mc, "ref") or "A1" for mc in re.findall(r"<mergeCell\b[^>]*/>", m.group(1))] if m else []


def _drop_merges_below(xml: str, header_row: int) -> str:
    m = re.search(r"<mergeCells\b[^>]*>(.*?)</mergeCells>", xml, re.S)
    if not m:
        return xml
    keep = [mc for mc in re.findall(r"<mergeCell\b[^>]*/>", m.group(1))
            if _range_bounds(_attr(mc, "ref") or "A1")[2] < header_row]
    if not keep:
        return xml[:m.start()] + xml[m.end():]
    return xml[:m.start()] + f'<mergeCells count="{len(keep)}">' + "".join(keep) + "</mergeCells>" + xml[m.end():]


# =========================================================================== writing: the package
def _check_request(outputs: Mapping[str, Any], cells: Mapping[tuple[str, str], Any]) -> dict[str, dict[str, Any]]:
    for name in outputs:
        if name not in OUTPUT_SHEETS:
            role = ("an input sheet" if name in INPUT_SHEETS else
                    "a fixed layout (only its declared cells are outputs)" if name == DASHBOARD_SHEET else
                    "not an output sheet")
            raise XlcError("outputs", f"{name!r} is {role}; a refresh writes the tables of "
                           f"{', '.join(OUTPUT_SHEETS)} only", name)
    by_sheet: dict[str, dict[str, Any]] = {}
    for key, value in cells.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise XlcError("cells", f"keys must be (sheet, cell) pairs (got {describe(key)})", key)
        sheet, ref = key
        row, col = _split_ref(str(ref))
        canonical = f"{_col_letters(col)}{row}"
        if (sheet, canonical) not in OUTPUT_CELLS:
            raise XlcError("cells", f"{sheet}!{canonical} is not a declared output cell (inputs are never "
                           "overwritten)", key)
        by_sheet.setdefault(sheet, {})[canonical] = value
    return by_sheet


def _without_calc_chain(zf: zipfile.ZipFile, edits: dict[str, bytes | None]) -> None:
    """Drop xl/calcChain.xml (Excel rebuilds it) with its relationship and content-type entry."""
    if "xl/calcChain.xml" not in zf.namelist():
        return
    edits["xl/calcChain.xml"] = None
    rels_name = "xl/_rels/workbook.xml.rels"
    rels = edits.get(rels_name) or zf.read(rels_name)
    assert rels is not None
    edits[rels_name] = re.sub(rb'<Relationship\b[^>]*Target="[^"]*calcChain\.xml"[^>]*/>', b"", rels)
    types = zf.read("[Content_Types].xml")
    edits["[Content_Types].xml"] = re.sub(rb'<Override\b[^>]*PartName="/xl/calcChain\.xml"[^>]*/>', b"", types)


def _full_calc_on_load(workbook_xml: bytes) -> bytes:
    """workbook.xml with ``<calcPr fullCalcOnLoad="1">`` (Excel recalculates every formula on open)."""
    text = workbook_xml.decode("utf-8")
    m = re.search(r"<calcPr\b[^>]*?/?>", text)
    if m is None:
        # schema order: sheets, functionGroups, externalReferences, definedNames, calcPr, …
        anchor = None
        for pattern in (r"</definedNames>|<definedNames\s*/>", r"</externalReferences>", r"</sheets>"):
            anchor = re.search(pattern, text)
            if anchor:
                break
        if anchor is None:
            return workbook_xml
        return (text[:anchor.end()] + '<calcPr fullCalcOnLoad="1"/>' + text[anchor.end():]).encode("utf-8")
    tag = m.group(0)
    if re.search(r'fullCalcOnLoad="(1|true)"', tag):
        return workbook_xml
    if "fullCalcOnLoad=" in tag:
        new_tag = re.sub(r'fullCalcOnLoad="[^"]*"', 'fullCalcOnLoad="1"', tag)
    else:
        new_tag = tag.replace("<calcPr", '<calcPr fullCalcOnLoad="1"', 1)
    return (text[:m.start()] + new_tag + text[m.end():]).encode("utf-8")


def _write_package(original: zipfile.ZipFile, edits: Mapping[str, bytes | None], target: BinaryIO) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in original.infolist():
            if info.filename in edits:
                data = edits[info.filename]
                if data is None:
                    continue
            else:
                data = original.read(info)
            clone = zipfile.ZipInfo(info.filename, info.date_time)
            clone.compress_type = info.compress_type
            clone.external_attr = info.external_attr
            clone.create_system = info.create_system
            out.writestr(clone, data)


def write_outputs(path: str | Path, outputs: Mapping[str, pd.DataFrame] | None = None,
                  cells: Mapping[tuple[str, str], Any] | None = None, *, recalc_on_open: bool = True) -> None:
    """Write the refresh's results into the workbook at ``path``, in place and atomically.

    ``outputs``: output sheet name (:data:`OUTPUT_SHEETS`) → DataFrame; its header and rows replace the
    sheet from the header row down. Cells take the frame's values: Decimal and float as numbers (money
    formatted ``#,##0.00``), int as whole numbers, dates as dates, bool as TRUE/FALSE, text as text, and
    None/NaN as blank; columns named in :data:`COLUMN_KINDS` get their format (shares as %).
    ``cells``: ``{(sheet, "C9"): value}`` for declared output cells (:data:`OUTPUT_CELLS`; see
    :func:`dashboard_cells`); each keeps its existing format.
    ``recalc_on_open``: ask Excel to recalculate every formula when the file is next opened (the Customers
    formulas read the refreshed credit database).

    Anything else — an input sheet, an undeclared cell — is refused with :class:`XlcError` before the file
    is touched. The VBA project, buttons, chart, tables and input sheets are copied unchanged. On any
    failure the original file is left exactly as it was.
    """
    path = Path(path)
    outputs = dict(outputs or {})
    by_sheet = _check_request(outputs, dict(cells or {}))
    before = path.stat() if path.exists() else None
    with _open_package(path) as zf:
        parts = _sheet_parts(zf)
        date1904 = _date1904(zf)
        styles = _Styles(zf.read("xl/styles.xml"))
        shared = _shared_strings(zf) if outputs else []
        edits: dict[str, bytes | None] = {}
        for sheet in dict.fromkeys([*outputs, *by_sheet]):
            if sheet not in parts:
                raise XlcError("workbook", f"has no sheet named {sheet!r} (sheets: {', '.join(parts)})", str(path))
            xml = zf.read(parts[sheet]).decode("utf-8")
            if sheet in outputs:
                xml = _replace_table(xml, OUTPUT_SHEETS[sheet], outputs[sheet], styles, date1904, shared)
            if sheet in by_sheet:
                xml = _patch_cells(xml, by_sheet[sheet], date1904, sheet)
            edits[parts[sheet]] = xml.encode("utf-8")
        if not edits:
            return
        if styles.changed:
            edits["xl/styles.xml"] = styles.text.encode("utf-8")
        _without_calc_chain(zf, edits)
        if recalc_on_open:
            updated = _full_calc_on_load(zf.read("xl/workbook.xml"))
            if updated != zf.read("xl/workbook.xml"):
                edits["xl/workbook.xml"] = updated
        _save_package(path, zf, edits, before, "the refresh")
    _fsync_dir(path.parent)


def _save_package(path: Path, zf: zipfile.ZipFile, edits: Mapping[str, bytes | None], before: os.stat_result | None,
                  run: str, before_replace: Any = None) -> None:
    """Write ``zf`` with ``edits`` beside ``path``, check it reads back whole, and swap it in (``os.replace``) —
    unless the file changed since ``before`` (someone saved it meanwhile). Any failure leaves ``path`` as it was."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".~{path.stem}-", suffix=path.suffix)
    tmp = Path(name)
    try:
        with open(fd, "wb") as handle:
            _write_package(zf, edits, handle)
            handle.flush()
            os.fsync(handle.fileno())
        with zipfile.ZipFile(tmp) as check:  # the new file must read back whole before it replaces the old
            bad = check.testzip()
            if bad is not None:
                raise XlcError("workbook", f"write check failed on part {bad}", str(path))
        if before is not None:
            os.chmod(tmp, before.st_mode & 0o7777)
            now = path.stat()
            if (now.st_mtime_ns, now.st_size) != (before.st_mtime_ns, before.st_size):
                raise XlcError("workbook", f"was changed by someone else while {run} ran; nothing was "
                               f"written (run it again): {path}", str(path))
        if before_replace is not None:
            before_replace(tmp)
        try:
            os.replace(tmp, path)
        except PermissionError:
            raise XlcError("workbook", f"is open in another program (close it in Excel and run again): {path}",
                           str(path)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def append_table_rows(path: str | Path, key: str, rows: Sequence[Mapping[str, Any]], *,
                      unchanged_since: os.stat_result | None = None, before_replace: Any = None) -> int:
    """Append ``rows`` (field name → value) at the foot of an input table and grow the Excel Table over them, in
    place and atomically; returns the rows added. The one write to an input sheet: ``xlcredit match --apply`` adds
    the accepted bank payments to the Payments table, as the Apply Matches button does in Excel.

    Only the sheet's rows below the table and the table's range change (cells take their column's format); the
    rows above, the other sheets, the VBA project and the buttons are copied unchanged. Refused before anything is
    written: a field without a column, a table with a totals row, cells of the user's below the table (a value or
    a formula, even one showing nothing) or merged cells there.
    ``unchanged_since``: the file's ``os.stat`` when the caller read it (to decide the rows) — a file saved since
    is refused, so nothing is added twice. ``before_replace``: called with the written temp file (tests).
    """
    path = Path(path)
    spec = next((t for t in INPUT_TABLES if t.key == key), None)
    if spec is None:
        raise XlcError("table", f"is not an input table (got {key!r})", key)
    before = unchanged_since or (path.stat() if path.exists() else None)
    with _open_package(path) as zf:
        parts = _sheet_parts(zf)
        if spec.sheet not in parts:
            raise XlcError("workbook", f"has no sheet named {spec.sheet!r}", str(path))
        sheet_part = parts[spec.sheet]
        table_part = next((_part_path(sheet_part, rel["Target"]) for rel in _relationships(zf, sheet_part)
                           if rel.get("Type", "").endswith("/table")
                           and _table_name(zf.read(_part_path(sheet_part, rel["Target"]))) == spec.table), None)
        if table_part is None:
            raise XlcError(spec.sheet, f"has no Excel table named {spec.table}", spec.table)
        table_xml = zf.read(table_part).decode("utf-8")
        root = ElementTree.fromstring(table_xml)
        if int(root.get("headerRowCount", "1")) != 1 or int(root.get("totalsRowCount", "0")):
            raise XlcError(spec.sheet, f"table {spec.table} has a totals row or no header row: rows cannot be "
                                       "appended to it", spec.table)
        top, left, bottom, right = _range_bounds(root.get("ref", ""))
        xml = zf.read(sheet_part).decode("utf-8")
        shared = _shared_strings(zf)
        _start, _end, inner = _sheet_data_span(xml)
        sheet_rows = {r.number: r for r in _parse_rows(inner)}
        head = sheet_rows.get(top)
        texts = {col: _cell_text(cell, shared) for col, cell in (head.cells if head else [])}
        headers = {field_name(texts[c]): c for c in range(left, right + 1) if texts.get(c)}
        missing = sorted({k for r in rows for k in r} - set(headers))
        if missing:
            raise XlcError(spec.sheet, f"table has no column for {', '.join(header_text(m) for m in missing)}",
                           ", ".join(missing))
        if not rows:
            return 0

        def filled(number: int) -> bool:   # a value, or a formula (even one whose saved result is empty)
            row = sheet_rows.get(number)
            return row is not None and any(left <= c <= right and (_cell_text(x, shared) != "" or _FORMULA.search(x))
                                           for c, x in row.cells)

        below = [n for n in sheet_rows if n > bottom and filled(n)]
        if below:
            raise XlcError(spec.sheet, f"has cells right below the {spec.table} table (row {min(below)}): move them "
                                       "away (or into the table in Excel) and run again", min(below))
        merged = [ref for ref in _merge_refs(xml) if (b := _range_bounds(ref))[2] > bottom
                  and b[1] <= right and b[3] >= left]
        if merged:   # an Excel table cannot grow over merged cells
            raise XlcError(spec.sheet, f"has merged cells below the {spec.table} table ({merged[0]}): unmerge them "
                                       "or move them away and run again", merged[0])
        if bottom == top + 1 and not filled(bottom):
            bottom = top        # an empty table's one blank row is filled, not left above the new rows
        values = {f"{_col_letters(headers[k])}{bottom + i}": v
                  for i, r in enumerate(rows, start=1) for k, v in r.items()}
        xml = _patch_cells(xml, values, _date1904(zf), spec.sheet)
        ref = f"{_col_letters(left)}{top}:{_col_letters(right)}{bottom + len(rows)}"
        table_xml = re.sub(r'(<(?:\w+:)?(?:table|autoFilter)\b[^>]*?\sref=")[^"]*"', rf'\g<1>{ref}"', table_xml)
        edits: dict[str, bytes | None] = {sheet_part: xml.encode("utf-8"), table_part: table_xml.encode("utf-8")}
        _without_calc_chain(zf, edits)
        updated = _full_calc_on_load(zf.read("xl/workbook.xml"))
        if updated != zf.read("xl/workbook.xml"):
            edits["xl/workbook.xml"] = updated
        _save_package(path, zf, edits, before, "the apply", before_replace)
    _fsync_dir(path.parent)
    return len(rows)


def _table_name(xml: bytes) -> str:
    root = ElementTree.fromstring(xml)
    return root.get("displayName") or root.get("name") or ""


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; os.replace is already durable enough there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
