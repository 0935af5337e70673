"""Build ``workbook/CreditControl.xlsm`` from the text sources beside it.

Run ``python -m workbook.build`` (or ``python workbook/build.py [--out PATH]``; ``--check`` compares the
committed file with a fresh build and exits 1 when it is stale).

The recipe:

1. **VBA project** — pyOpenVBA gives a skeleton workbook (same sheets and code names as the real one) a
   VBA project as Excel would, then adds the standard modules ``xlwings`` (the xlwings package's own
   ``xlwings.bas``, pinned version), ``CreditControl`` (the Dashboard buttons) and ``xlwings_udfs`` (the
   UDF wrappers written by :mod:`workbook.vba_udfs` from ``udfs.functions`` when it can be imported), and
   the class module ``Dictionary`` (from ``xlwings/addin/Dictionary.cls``, as xlwings' standalone
   quickstart carries it). Its ``xl/vbaProject.bin`` is taken out.
2. **Workbook** — XlsxWriter builds every sheet around that ``vbaProject.bin``: Dashboard (buttons wired
   to the CreditControl macros, key figures, ageing chart), the input tables with the bundled sample data
   (as of 2026-10-31), the Customers formula columns with cached results, the output sheets, the Policy
   sheet (``Policy().to_rows()`` with help texts) and ``xlwings.conf``.
3. **Fixed timestamps** — document properties and zip entries carry fixed dates, so two builds of the
   same sources are byte-identical (``tests/test_workbook_build.py`` proves the committed file is one).

Cached values: a formula cell in an .xlsx also stores its last result, which LibreOffice and file
readers show. :func:`engine_preview` runs the refresh job's assessment on the sample book (no database)
and gives the Customers formula results, the Dashboard figures and the Ageing table — what the first
Refresh writes; without the engine those cells stay blank.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import re
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python workbook/build.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd
import xlsxwriter

from workbook import layout
from workbook.vba_udfs import public_procedures, wrapper_module
from xlcredit.core.policy import Policy
from xlcredit.data.sample import SAMPLE_AS_OF, SAMPLE_DIR, sample_path
from xlcredit.io.collector import COLUMNS as COLLECTOR_COLUMNS
from xlcredit.io.tables import alias_index, normalise_header
from xlcredit.io.workbook import (
    AUDIT_MONTH_ROWS,
    AUDIT_MONTHS_HEADER_ROW,
    FORECAST_LATER_ROW,
    FORECAST_ROWS,
    NUMBER_FORMATS,
    POLICY_CHECK_ROW,
    POLICY_CHECK_ROWS,
    REVIEW_CELLS,
    customer_formula,
    header_text,
    policy_check_values,
    write_outputs,
)

ROOT = Path(__file__).resolve().parent.parent
WORKBOOK_DIR = ROOT / "workbook"
VBA_DIR = WORKBOOK_DIR / "vba"
DEFAULT_OUT = WORKBOOK_DIR / "CreditControl.xlsm"

#: Python modules whose ``@xw.func`` functions get VBA wrappers (the conf sheet's "UDF Modules").
UDF_MODULES: tuple[str, ...] = ("udfs.functions",)
#: VBA sources of the project: file, kind ("standard" | "class").
VBA_SOURCES: tuple[tuple[str, str], ...] = (("xlwings.bas", "standard"), ("Dictionary.cls", "class"),
                                            ("CreditControl.bas", "standard"))
#: Fixed document timestamp (the sample's as-of date): identical sources give identical bytes.
BUILD_TIME = dt.datetime(SAMPLE_AS_OF.year, SAMPLE_AS_OF.month, SAMPLE_AS_OF.day, 0, 0, 0, tzinfo=dt.UTC)

_VB_NAME = re.compile(r'^Attribute VB_Name = "([^"]+)"', re.M)


def tool_versions() -> str:
    """The versions of the tools whose output is in the file (another version may write other bytes)."""
    from importlib.metadata import version

    return ", ".join(f"{name} {version(name)}" for name in ("XlsxWriter", "pyOpenVBA", "xlwings"))


# =========================================================================== VBA sources
def read_vba(file_name: str) -> str:
    """A VBA source file as text, line ends kept (VBA sources are Windows-1252)."""
    return (VBA_DIR / file_name).read_bytes().decode("cp1252")


def module_name(source: str) -> str:
    """The module name a .bas/.cls source declares (``Attribute VB_Name = "..."``)."""
    m = _VB_NAME.search(source)
    if not m:
        raise ValueError("VBA source without an Attribute VB_Name line")
    return m.group(1)


def udf_wrappers(module_names: Sequence[str] = UDF_MODULES) -> str | None:
    """Text of the ``xlwings_udfs`` module, or None when the UDF module does not exist (yet)."""
    taken: set[str] = set()
    for file_name, kind in VBA_SOURCES:
        if kind == "standard":
            taken |= public_procedures(read_vba(file_name))
    try:
        return wrapper_module(module_names, taken=taken)
    except ModuleNotFoundError as exc:
        if exc.name and any(name == exc.name or name.startswith(exc.name + ".") for name in module_names):
            return None
        raise


def vba_modules(with_udfs: bool = True) -> list[tuple[str, str, str]]:
    """(module name, source, kind) of every module the build puts in the project, in project order."""
    out = []
    for file_name, kind in VBA_SOURCES:
        source = read_vba(file_name)
        out.append((module_name(source), source, kind))
    udfs = udf_wrappers() if with_udfs else None
    if udfs is not None:
        out.append((module_name(udfs), udfs, "standard"))
    return out


def vba_project(modules: Sequence[tuple[str, str, str]]) -> bytes:
    """``vbaProject.bin`` holding the workbook's document modules and ``modules`` (pyOpenVBA)."""
    from pyopenvba import ExcelFile
    from pyopenvba.vba import VBAModuleKind

    with tempfile.TemporaryDirectory(prefix="xlcredit-vba-") as tmp:
        skeleton = Path(tmp) / "skeleton.xlsm"
        book = xlsxwriter.Workbook(str(skeleton))
        book.set_vba_name(layout.WORKBOOK_CODE_NAME)
        for sheet in layout.SHEET_ORDER:
            book.add_worksheet(sheet).set_vba_name(layout.CODE_NAMES[sheet])
        book.close()
        out = Path(tmp) / "project.xlsm"
        with ExcelFile(skeleton) as excel:
            project = excel.add_vba_project()
            for name, source, kind in modules:
                project.add_module(name, source, kind=VBAModuleKind.standard if kind == "standard"
                                   else VBAModuleKind.other)
            excel.save(out)
        with zipfile.ZipFile(out) as package:
            return package.read("xl/vbaProject.bin")


# =========================================================================== sample data
def _blank(text: str) -> bool:
    return not text.strip()


def _typed(value: str, kind: str) -> Any:
    if _blank(value):
        return None
    if kind in ("text", "code"):
        return value
    if kind in ("money", "amount"):
        return Decimal(value)
    if kind == "int":
        return int(Decimal(value))
    if kind in ("ratio", "rate", "pct"):
        return Decimal(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "bool":
        return value.strip().lower() in ("true", "1", "yes")
    raise ValueError(kind)


def load_sample() -> dict[str, pd.DataFrame]:
    """The bundled sample tables with typed cells (Decimal amounts, dates, booleans, None for blanks)."""
    out = {}
    for spec in layout.INPUT_TABLES:
        if spec.key in COLLECTOR_COLUMNS:   # the collector's records: headers in words, read as io.collector reads
            raw = pd.read_csv(SAMPLE_DIR / f"{spec.key}.csv", dtype=str, keep_default_na=False)
            index = alias_index(COLLECTOR_COLUMNS[spec.key])
            raw = raw.rename(columns={c: index.get(normalise_header(c), c) for c in raw.columns})
        else:
            raw = pd.read_csv(sample_path(spec.key), dtype=str, keep_default_na=False)
        kinds = layout.TABLE_COLUMNS[spec.key]
        if spec.key == "payments" and "bank_reference" not in raw.columns:   # filled by Apply Matches
            raw["bank_reference"] = ""
        unknown = [c for c in raw.columns if c not in kinds]
        if unknown:
            raise ValueError(f"sample {spec.key}: columns without a layout: {unknown}")
        out[spec.key] = pd.DataFrame({c: [_typed(v, kinds[c][0]) for v in raw[c]] for c in raw.columns},
                                     dtype=object)
    return out


# =========================================================================== engine previews (hooks)
@dataclass(frozen=True)
class Preview:
    """What the first Refresh would write, computed at build time so the file shows numbers before it runs.

    ``cached``: Customers formula results by customer id and column header (:func:`cached_values`);
    ``dashboard``: Dashboard output cells by name (``xlcredit.io.workbook.DASHBOARD_CELLS``);
    ``ageing``: the Ageing sheet's table (None when the engine is missing).
    """

    cached: Mapping[str, Mapping[str, Any]]
    dashboard: Mapping[str, Any]
    ageing: pd.DataFrame | None


#: Customers formula column → field of the refresh's result rows (what the UDF of that column returns).
RESULT_FIELDS: dict[str, str] = {"Score": "score", "Grade": "grade", "Limit": "credit_limit",
                                 "Available": "available", "Terms": "terms", "Deposit": "deposit_share",
                                 "Stage": "dunning_stage"}


def engine_preview(tables: Mapping[str, pd.DataFrame], policy: Policy | None = None,
                   as_of: dt.date = SAMPLE_AS_OF) -> Preview:
    """HOOK to the engine: the refresh job's own assessment of the sample book (``xlcredit.jobs.book.read_book``,
    ``xlcredit.core.portfolio.assess_portfolio``, ``jobs.ageing_sheet``/``jobs.dashboard_values``), without
    a credit database. When the engine cannot be imported the preview is empty and the cells stay blank.
    """
    policy = policy or Policy()
    empty = Preview({}, {"as_of": as_of, "currency": policy.company.currency}, None)
    try:
        from xlcredit.core.portfolio import assess_portfolio, result_rows
        from xlcredit.jobs.book import read_book
        from xlcredit.jobs.refresh import ageing_sheet, dashboard_values
    except ImportError:
        return empty
    data = read_book(tables, policy.to_rows())
    portfolio = assess_portfolio(data.customers, data.ledger, data.policy, as_of, data.fx)
    try:  # the words DUNNING_STAGE shows below the first step of the ladder
        from udfs.functions import NOT_IN_DUNNING as not_in_dunning
    except ImportError:
        not_in_dunning = ""
    cached: dict[str, dict[str, Any]] = {}
    orders = {c.customer.customer_id: c.order.status for c in portfolio.customers}   # ORDER_CHECK(customer, 0)
    for row in result_rows(portfolio):
        values = {column: row[name] for column, name in RESULT_FIELDS.items()}
        values["Stage"] = values["Stage"] or not_in_dunning
        values["Next order"] = orders[str(row["customer_id"])]
        cached[str(row["customer_id"])] = values
    dashboard = {k: v for k, v in dashboard_values(portfolio, dt.datetime(2000, 1, 1)).items() if k != "refreshed_at"}
    try:   # the policy check's findings, as the first refresh writes them into the Policy check block
        from xlcredit.core.policy_check import check_policy

        dashboard |= policy_check_values(check_policy(data.policy, data.customers, data.ledger, data.fx, as_of))
    except ImportError:
        pass
    return Preview(cached, dashboard, ageing_sheet(portfolio))


def cached_values(customers: pd.DataFrame, tables: Mapping[str, pd.DataFrame] | None = None,
                  policy: Policy | None = None, as_of: dt.date = SAMPLE_AS_OF) -> dict[str, dict[str, Any]]:
    """Cached results of the Customers formula columns: ``{customer_id: {"Score": 72, "Grade": "B", …}}``
    (see :func:`engine_preview`; ``tables`` defaults to the sample book with these customers)."""
    book = dict(tables or load_sample())
    book["customers"] = customers
    return {k: dict(v) for k, v in engine_preview(book, policy, as_of).cached.items()}


# =========================================================================== the workbook
class _Formats:
    """The workbook's cell formats, made once."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.cache: dict[tuple[tuple[str, Any], ...], Any] = {}

    def __call__(self, **props: Any) -> Any:
        props = {k: v for k, v in props.items() if v is not None}
        key = tuple(sorted(props.items()))
        if key not in self.cache:
            self.cache[key] = self.book.add_format(props)
        return self.cache[key]


DARK = "#1F4E78"
HEADER = {"bold": True, "font_color": "#FFFFFF", "bg_color": DARK, "border": 1, "border_color": "#BFBFBF",
          "valign": "vcenter"}
NOTE = {"italic": True, "font_color": "#595959"}
INPUT = {"bg_color": "#FFF2CC", "border": 1, "border_color": "#BFBFBF"}
BOOL_FORMAT = '"TRUE";"TRUE";"FALSE"'
KIND_FORMATS = {"text": None, "code": "@", "money": "#,##0.00", "amount": "#,##0", "int": "0", "ratio": "0.0",
                "rate": "0.000000", "date": "yyyy-mm-dd", "bool": BOOL_FORMAT, "pct": "0.0%",
                "datetime": "yyyy-mm-dd hh:mm"}
#: Rows of a long ledger sheet (Invoices, Payments) that print: one portrait page; the whole ledger would be
#: a hundred pages nobody reads (select rows and use Print Selection for others).
LEDGER_PRINT_ROWS = 50
#: The last row of a column-limited print area (the Worklist): blank rows below the table are not printed.
MAX_PRINTED_ROWS = 5000
#: Short codes shown centred (currency, country, terms …) so they do not run into the numbers beside them.
CENTRED = {"country", "currency", "language", "terms", "statutory_regime", "reference_check"}


def _num_format(f: _Formats, kind: str, *, output: bool = False, **extra: Any) -> Any:
    code = (NUMBER_FORMATS.get(kind) if output else None) or KIND_FORMATS.get(kind)
    return f(num_format=code, **extra) if code else (f(**extra) if extra else None)


def _write(ws: Any, row: int, col: int, value: Any, fmt: Any = None) -> None:
    """Write one typed value (blank cells are left out)."""
    if value is None:
        return
    if isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, dt.datetime):
        ws.write_datetime(row, col, value.replace(tzinfo=None), fmt)
    elif isinstance(value, dt.date):
        ws.write_datetime(row, col, dt.datetime(value.year, value.month, value.day), fmt)
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(row, col, float(value), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _page_setup(ws: Any, *, landscape: bool = True, repeat_row: int | None = 0, title: str = "",
                fit_width: bool = True) -> None:
    """A4, narrow margins, header row repeated; one page wide, or (wide output tables) 75 % with the
    customer id and name repeated on every page across."""
    ws.set_paper(9)  # A4
    if landscape:
        ws.set_landscape()
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    if fit_width:
        ws.fit_to_pages(1, 0)
    else:
        ws.set_print_scale(75)
        ws.repeat_columns(0, 1)
    if repeat_row is not None:
        ws.repeat_rows(repeat_row)
    ws.set_header(f"&L&\"Calibri,Bold\"{title or '&A'}&RCreditControl.xlsm")
    ws.set_footer("&L&A&RPage &P of &N")


def _dashboard(book: xlsxwriter.Workbook, f: _Formats, values: Mapping[str, Any]) -> None:
    ws = book.get_worksheet_by_name(layout.DASHBOARD_SHEET)
    ws.hide_gridlines(2)
    ws.set_column("A:A", 2)
    ws.set_column("B:B", 34)
    ws.set_column("C:C", 17)
    ws.set_column("D:D", 64)     # the longest explanation fits: no text runs into the charts
    ws.set_column("E:E", 2)
    ws.set_column("F:S", 9)
    ws.set_row(0, 30)
    ws.write_string("B1", "Credit Control Dashboard", f(bold=True, font_size=18, font_color=DARK))
    cells = layout.DASHBOARD_CELLS
    ws.write_string("B2", "As of", f(bold=True))
    _write_or_blank(ws, cells["as_of"], values.get("as_of"), f(num_format="yyyy-mm-dd", bold=True, align="left"))
    ws.write_string("D2", "Date the open items were aged at", f(**NOTE, indent=1))
    ws.write_string("B3", "Last refreshed", f(bold=True))
    _write_or_blank(ws, cells["refreshed_at"], values.get("refreshed_at"),
                    f(num_format="yyyy-mm-dd hh:mm", align="left"))
    ws.write_string("D3", "When Refresh Ageing last wrote these figures (blank: sample preview)", f(**NOTE, indent=1))
    per_row = layout.BUTTONS_PER_ROW
    for i, (caption, macro) in enumerate(layout.BUTTONS):
        ws.insert_button("B5", {"macro": macro, "caption": caption, "width": 165, "height": 28,
                                "x_offset": 4 + (i % per_row) * 175, "y_offset": 2 + (i // per_row) * 32})
    ws.set_row(4, 20)
    ws.set_row(5, 20)
    ws.set_row(6, 24)
    header = f(**HEADER)
    ws.write_string("B8", "Key figures", header)
    _write_or_blank(ws, cells["currency"], values.get("currency"), f(**HEADER, align="right"))
    ws.write_string("D8", "What it measures", f(**HEADER, indent=1))
    for name, ref in layout.KPI_CELLS.items():
        label, code, note = layout.KPI_LABELS[name]
        row = int(ref[1:]) - 1
        ws.write_string(row, 1, label, f(border=1, border_color="#BFBFBF"))
        _write_or_blank(ws, ref, values.get(name), f(num_format=code, bold=True, border=1, border_color="#BFBFBF"))
        ws.write_string(row, 3, note, f(**NOTE, indent=1, border=1, border_color="#BFBFBF"))
    top = layout.AGEING_BUCKET_ROWS[0] - 2
    ws.write_string(top, 1, "Ageing bucket (days past due)", header)
    ws.write_string(top, 2, "Amount", f(**HEADER, align="right"))
    ws.write_string(top, 3, "Share of open invoices", f(**HEADER, indent=1))
    grid = {"border": 1, "border_color": "#BFBFBF"}
    for i, row in enumerate(layout.AGEING_BUCKET_ROWS, start=1):
        _write_or_blank(ws, f"B{row}", values.get(f"bucket{i}_label"), f(**grid))
        _write_or_blank(ws, f"C{row}", values.get(f"bucket{i}_amount"), f(num_format="#,##0", **grid))
        _write_or_blank(ws, f"D{row}", values.get(f"bucket{i}_share"), f(num_format="0.0%", align="left", indent=1,
                                                                        **grid))
    total = layout.AGEING_TOTAL_ROW
    bold_top = {"bold": True, "top": 2, "bottom": 1, "left": 1, "right": 1, "border_color": "#808080"}
    ws.write_string(f"B{total}", "Total open invoices", f(**bold_top))
    _write_or_blank(ws, f"C{total}", values.get("ageing_total"), f(num_format="#,##0", **bold_top))
    _write_or_blank(ws, f"D{total}", values.get("ageing_total_share"), f(num_format="0.0%", align="left", indent=1,
                                                                         **bold_top))
    _ageing_charts(book, ws, values.get("currency") or "")
    _review_block(book, ws, f, values)
    _policy_check_block(ws, f, values)
    ws.print_area(f"A1:R{POLICY_CHECK_ROWS[-1] + 1}")
    _page_setup(ws, repeat_row=None, title="Credit Control Dashboard")
    ws.fit_to_pages(1, 1)
    ws.activate()


def _policy_check_block(ws: Any, f: _Formats, values: Mapping[str, Any]) -> None:
    """The Policy check block (written by every refresh): do the policy's figures agree with each other and with the
    ledger — "No conflicts found", or each finding in words with its arithmetic (what xlcredit policy-check says)."""
    header = f(**HEADER)
    top = POLICY_CHECK_ROW - 1
    ws.write_string(top, 1, "Policy check", header)
    _write_or_blank(ws, f"C{POLICY_CHECK_ROW}", values.get("policy_check"), f(**HEADER, align="left"))
    ws.merge_range(top, 3, top, 17, "The policy's figures checked together and against the ledger (as xlcredit "
                   "policy-check does) at every refresh", f(**HEADER, indent=1))
    grid = {"border": 1, "border_color": "#BFBFBF", "valign": "top"}
    for i, row in enumerate(POLICY_CHECK_ROWS, start=1):
        ws.set_row(row - 1, 30)
        _write_or_blank(ws, f"B{row}", values.get(f"policy_check{i}_level"), f(bold=True, **grid))
        text = values.get(f"policy_check{i}_text")
        ws.merge_range(row - 1, 2, row - 1, 17, "", f(text_wrap=True, **grid))
        if text is not None:
            ws.write_string(row - 1, 2, str(text), f(text_wrap=True, **grid))


def _ageing_charts(book: xlsxwriter.Workbook, ws: Any, currency: str) -> None:
    """Two charts of the ageing block: every bucket, and the overdue buckets alone on their own scale (beside
    it), so the amounts a controller chases are not flattened by the current ones."""
    rows = layout.AGEING_BUCKET_ROWS
    colours = ("#70AD47", "#A9D18E", "#FFC000", "#ED7D31", "#C00000", "#7B0000")
    unit = f"{currency} thousand" if currency else "thousand"
    axis = {"num_format": '#,##0,', "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
            "num_font": {"size": 9}, "name": unit, "name_font": {"size": 9, "bold": False}}
    for title, first, anchor, x_offset in (("All open invoices by days past due", rows[0], "F8", 4),
                                           ("Overdue only (own scale)", rows[1], "F8", 424)):
        chart = book.add_chart({"type": "column"})
        chart.add_series({
            "name": title,
            "categories": f"='{layout.DASHBOARD_SHEET}'!$B${first}:$B${rows[-1]}",
            "values": f"='{layout.DASHBOARD_SHEET}'!$C${first}:$C${rows[-1]}",
            "points": [{"fill": {"color": c}, "border": {"none": True}} for c in colours[first - rows[0]:]],
            "gap": 60,
            "data_labels": {"value": True, "num_format": '#,##0,"k"', "font": {"size": 8}},
        })
        chart.set_title({"name": title, "name_font": {"size": 11, "bold": True, "color": DARK}})
        chart.set_legend({"none": True})
        chart.set_y_axis(axis)
        chart.set_x_axis({"num_font": {"size": 9}, "name": "days past due", "name_font": {"size": 9, "bold": False}})
        chart.set_size({"width": 410, "height": 330})
        ws.insert_chart(anchor, chart, {"x_offset": x_offset, "y_offset": 0})


#: The review figures on the Dashboard: name → (label, number format, what it means).
REVIEW_LABELS: dict[str, tuple[str, str, str]] = {
    "reviews_due": ("Reviews due", "0", "Customers due for a periodic or special credit review"),
    "ecl_total": ("Bad-debt provision (IFRS 9 ECL)", "#,##0", "Lifetime expected credit loss, roll-rate matrix"),
    "indemnity_expected": ("Expected insurance indemnity", "#,##0", "On claims for the covered overdue items"),
}


def _review_block(book: xlsxwriter.Workbook, ws: Any, f: _Formats, values: Mapping[str, Any]) -> None:
    """The Review Portfolio figures and the weekly cash forecast with its chart (cells of REVIEW_CELLS /
    FORECAST_ROWS, written by the review job)."""
    header = f(**HEADER)
    grid = {"border": 1, "border_color": "#BFBFBF"}
    first_review = int(next(iter(REVIEW_CELLS.values()))[1:])
    ws.write_string(first_review - 2, 1, "Portfolio review", header)
    _write_or_blank(ws, f"C{first_review - 1}", None, header)
    ws.write_string(first_review - 2, 3, "What it measures", f(**HEADER, indent=1))
    for name, ref in REVIEW_CELLS.items():
        label, code, note = REVIEW_LABELS[name]
        row = int(ref[1:]) - 1
        ws.write_string(row, 1, label, f(**grid))
        _write_or_blank(ws, ref, values.get(name), f(num_format=code, bold=True, **grid))
        ws.write_string(row, 3, note, f(**NOTE, indent=1, **grid))
    top = FORECAST_ROWS[0] - 2
    ws.write_string(top, 1, "Week starting", header)
    ws.write_string(top, 2, "Expected cash", f(**HEADER, align="right"))
    ws.write_string(top, 3, "Open invoices, each customer's own payment habit", f(**HEADER, indent=1))
    for i, row in enumerate(FORECAST_ROWS, start=1):
        _write_or_blank(ws, f"B{row}", values.get(f"forecast{i}_label"), f(num_format="yyyy-mm-dd", align="left",
                                                                            **grid))
        _write_or_blank(ws, f"C{row}", values.get(f"forecast{i}_amount"), f(num_format="#,##0", **grid))
    ws.write_string(f"B{FORECAST_LATER_ROW}", "Later", f(bold=True, **grid))
    _write_or_blank(ws, f"C{FORECAST_LATER_ROW}", values.get("forecast_later"), f(num_format="#,##0", bold=True,
                                                                                  **grid))
    chart = book.add_chart({"type": "column"})
    first, last = FORECAST_ROWS[0], FORECAST_ROWS[-1]
    chart.add_series({
        "name": "Expected cash",
        "categories": f"='{layout.DASHBOARD_SHEET}'!$B${first}:$B${last}",
        "values": f"='{layout.DASHBOARD_SHEET}'!$C${first}:$C${last}",
        "fill": {"color": "#2E75B6"}, "border": {"none": True}, "gap": 50,
    })
    chart.set_title({"name": "Cash forecast by week", "name_font": {"size": 11, "bold": True, "color": DARK}})
    chart.set_legend({"none": True})
    currency = values.get("currency") or ""
    chart.set_y_axis({"num_format": "#,##0,", "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
                      "num_font": {"size": 9}, "name": f"{currency} thousand".strip(),
                      "name_font": {"size": 9, "bold": False}})
    chart.set_x_axis({"num_format": "dd mmm", "num_font": {"size": 8, "rotation": -45}, "text_axis": True,
                      "name": "week starting", "name_font": {"size": 9, "bold": False}})
    chart.set_size({"width": 830, "height": 380})
    ws.insert_chart(f"F{first_review - 1}", chart, {"x_offset": 4, "y_offset": 0})


def review_preview(tables: Mapping[str, pd.DataFrame], policy: Policy | None = None,
                   as_of: dt.date = SAMPLE_AS_OF) -> dict[str, Any]:
    """HOOK to the engine: the Dashboard figures of the Review Portfolio job on the sample book (nothing is
    recorded). Empty when the review job cannot be imported."""
    policy = policy or Policy()
    try:
        from xlcredit.jobs.review import forecast_values, review
    except ImportError:
        return {}

    class _Book:
        label = "sample"

        def read_tables(self) -> Mapping[str, pd.DataFrame]:
            return tables

        def read_policy_rows(self) -> list[tuple[str, Any]]:
            return list(policy.to_rows())

        def write_outputs(self, outputs: Any, cells: Any) -> None:
            return None

        def default_store(self) -> None:
            return None

    result = review(_Book(), as_of, record=False, write=False).review
    return forecast_values(result)


def _write_or_blank(ws: Any, ref: str, value: Any, fmt: Any) -> None:
    """An output cell: its value, or a formatted blank so the format is there for the refresh."""
    if value is None:
        ws.write_blank(ref, None, fmt)
    else:
        row, col = xlsxwriter.utility.xl_cell_to_rowcol(ref)
        _write(ws, row, col, value, fmt)


def _input_table(book: xlsxwriter.Workbook, f: _Formats, spec: Any, frame: pd.DataFrame,
                 formulas: Mapping[str, dict[str, Any]] | None = None) -> None:
    ws = book.get_worksheet_by_name(spec.sheet)
    kinds = layout.TABLE_COLUMNS[spec.key]
    columns = list(frame.columns)
    formula_headers: list[str] = []
    if spec.key == "customers":
        formula_headers = list(layout.CUSTOMER_FORMULA_COLUMNS)
        at = columns.index("name") + 1
        columns = columns[:at] + formula_headers + columns[at:]
    n = len(frame)
    table_columns = []
    for j, name in enumerate(columns):
        if name in formula_headers:
            code, width = layout.CUSTOMER_FORMULA_FORMATS[name]
            fmt = f(num_format=code, bg_color="#EAF1DD", align="center" if name in ("Grade", "Terms") else None,
                    indent=1 if name in ("Stage", "Next order") else None)
            ws.set_column(j, j, width, fmt)
            ref = f"{spec.table}[[#This Row],[{header_text('customer_id')}]]"
            table_columns.append({"header": name, "formula": customer_formula(name, ref),
                                  "format": fmt, "header_format": f(**HEADER, align="center")})
        else:
            kind, width = kinds[name]
            fmt = _num_format(f, kind, align="center" if name in CENTRED else None)
            ws.set_column(j, j, width, fmt)
            table_columns.append({"header": header_text(name), "header_format": f(**HEADER)})
    ws.add_table(0, 0, max(n, 1), len(columns) - 1, {
        "name": spec.table, "columns": table_columns, "style": "Table Style Light 9",
    })
    cached = formulas or {}
    for i, record in enumerate(frame.itertuples(index=False, name=None), start=1):
        values = dict(zip(frame.columns, record, strict=True))
        for j, name in enumerate(columns):
            if name in formula_headers:
                column = table_columns[j]
                value = cached.get(str(values["customer_id"]), {}).get(name)
                ws.write_formula(i, j, column["formula"], column["format"],
                                 "" if value is None else (float(value) if isinstance(value, Decimal) else value))
            else:
                _write(ws, i, j, values[name], _num_format(f, kinds[name][0],
                                                          align="center" if name in CENTRED else None))
    ws.freeze_panes(1, 2 if spec.key == "customers" else 1)
    long_ledger = n > LEDGER_PRINT_ROWS * 10
    title = (f"{spec.sheet}: the first {LEDGER_PRINT_ROWS} rows (select rows and Print Selection for others)"
             if long_ledger else spec.sheet)
    _page_setup(ws, title=title, landscape=len(columns) > 10)
    if spec.key == "customers":
        last = columns.index(formula_headers[-1])
        ws.print_area(0, 0, max(n, 1), last)
    elif long_ledger:   # thousands of ledger rows are data, not a report: one page, the rest on demand
        ws.print_area(0, 0, LEDGER_PRINT_ROWS, len(columns) - 1)


def _output_sheet(book: xlsxwriter.Workbook, f: _Formats, name: str) -> None:
    """Title, as-of cell and the header row with each column's width and format; the table itself is written
    by :func:`xlcredit.io.workbook.write_outputs`, as a refresh writes it."""
    spec = layout.OUTPUT_SHEETS[name]
    ws = book.get_worksheet_by_name(name)
    ws.set_row(0, 26)
    ws.write_string(0, 0, spec.title, f(bold=True, font_size=16, font_color=DARK))
    as_row, as_col = xlsxwriter.utility.xl_cell_to_rowcol(spec.as_of_cell)
    ws.write_string(as_row, as_col - 1, "As of", f(bold=True))
    ws.write_blank(spec.as_of_cell, None, f(num_format="yyyy-mm-dd", align="left", bold=True))
    header_row = spec.header_row - 1
    head = f(**HEADER)
    for j, (column, kind, width) in enumerate(layout.OUTPUT_COLUMNS[name]):
        ws.set_column(j, j, width, _num_format(f, kind, output=True))
        ws.write_string(header_row, j, header_text(column), head)
    ws.write_string(header_row + 1, 0, layout.OUTPUT_NOTES[name], f(**NOTE))
    _input_cells(ws, f, name)
    if name == "Policy Audit":
        _audit_chart(book, ws)
    ws.freeze_panes(header_row + 1, 2)
    printed = layout.PRINT_COLUMNS.get(name)
    if printed:
        _page_setup(ws, repeat_row=header_row, title=f"{spec.title} (printed: its first {printed} columns)")
        ws.print_area(0, 0, MAX_PRINTED_ROWS, printed - 1)   # LibreOffice and Excel print the rows in use
    else:
        _page_setup(ws, repeat_row=header_row, title=spec.title, fit_width=len(layout.OUTPUT_COLUMNS[name]) <= 12)


def _audit_chart(book: xlsxwriter.Workbook, ws: Any) -> None:
    """Beside the audit's comparison: exposure, sales held and exposure at default carried by month end, for each
    policy — the months table the Policy Audit button writes (:data:`AUDIT_MONTH_ROWS`, columns B to F)."""
    first, last = AUDIT_MONTH_ROWS[0], AUDIT_MONTH_ROWS[-1]
    sheet = "'Policy Audit'"
    chart = book.add_chart({"type": "line"})
    colours = {"B": "#7F7F7F", "C": "#2E75B6", "D": "#ED7D31", "E": "#1F4E78", "F": "#C00000"}
    for col, colour in colours.items():
        chart.add_series({
            "name": f"={sheet}!${col}${AUDIT_MONTHS_HEADER_ROW}",
            "categories": f"={sheet}!$A${first}:$A${last}",
            "values": f"={sheet}!${col}${first}:${col}${last}",
            "line": {"color": colour, "width": 2.0 if col != "B" else 1.25,
                     "dash_type": "dash" if col in ("D", "F") else "solid"},
        })
    chart.set_title({"name": "Exposure, sales held and exposure at default carried, by month end",
                     "name_font": {"size": 10, "bold": True, "color": DARK}})
    chart.set_legend({"position": "bottom", "font": {"size": 8}})
    chart.set_y_axis({"num_format": "#,##0,", "name": "thousand (company currency)", "num_font": {"size": 8},
                      "name_font": {"size": 8, "bold": False},
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_x_axis({"num_format": "mmm yy", "num_font": {"size": 8, "rotation": -45}, "text_axis": True})
    chart.set_size({"width": 640, "height": 420})
    ws.insert_chart("G3", chart, {"x_offset": 8, "y_offset": 0})


def _input_cells(ws: Any, f: _Formats, sheet: str) -> None:
    """The cells a user fills in on ``sheet`` (:data:`layout.INPUT_CELLS`): label, a yellow blank cell, the note."""
    for name, ref in layout.INPUT_CELLS.get(sheet, {}).items():
        row, col = xlsxwriter.utility.xl_cell_to_rowcol(ref)
        label, note = layout.INPUT_CELL_LABELS[(sheet, name)]
        ws.write_string(row, col - 1, label, f(bold=True))
        ws.write_blank(row, col, None, f(**INPUT, num_format="yyyy-mm-dd" if name in ("from", "to") else None,
                                         align="left"))
        ws.write_string(row, col + 1, note, f(**NOTE, indent=1))


def _bank_sheet(book: xlsxwriter.Workbook, f: _Formats) -> None:
    """The Bank sheet: a statement file named in its input cell, or a bank export pasted from BANK_FIRST_ROW down
    (its header row first); the Match Bank button reads it, nothing writes it."""
    ws = book.get_worksheet_by_name(layout.BANK_SHEET)
    ws.set_column("A:A", 16)
    ws.set_column("B:B", 46)
    ws.set_column("C:H", 18)
    ws.set_row(0, 26)
    ws.write_string(0, 0, "Bank statement to match", f(bold=True, font_size=16, font_color=DARK))
    _input_cells(ws, f, layout.BANK_SHEET)
    notes = ("Or paste the bank's CSV export below, its header row in row "
             f"{layout.BANK_FIRST_ROW}: booking date, amount (or credit and debit), currency, payer, payer IBAN, "
             "remittance text, bank reference — English or German column names, as xlcredit match reads a CSV.",
             "Then press Match Bank on the Dashboard: the proposals go to the Matches sheet. The bank reference is "
             "what keeps Apply Matches from applying a payment twice, so keep its column when you paste.")
    ws.write_string(3, 0, notes[0], f(**NOTE))
    ws.write_string(4, 0, notes[1], f(**NOTE))
    ws.freeze_panes(layout.BANK_FIRST_ROW, 0)
    _page_setup(ws, repeat_row=None, title="Bank statement to match")


def _policy_sheet(book: xlsxwriter.Workbook, f: _Formats, policy: Policy) -> None:
    ws = book.get_worksheet_by_name(layout.POLICY_SHEET)
    helps = Policy.help_texts()
    shares = set()
    for section in ("company", "grades", "limits", "terms", "deposit", "discount", "late", "ageing", "insurance",
                    "review", "provision"):
        for fld in dataclasses.fields(getattr(policy, section)):
            if fld.metadata.get("hi") == 1 and fld.type in (Decimal, "Decimal"):
                shares.add(f"{section}.{fld.name}")
    ws.set_column("A:A", 36)
    ws.set_column("B:B", 46)
    ws.set_column("C:C", 80)
    header = f(**HEADER)
    for j, text in enumerate(("Setting", "Value", "What it means")):
        ws.write_string(0, j, text, header)
    row = 1
    section = None
    for key, value in policy.to_rows():
        top = key.split(".")[0]
        if top != section:
            section = top
            ws.write_string(row, 0, f"# {layout.POLICY_SECTIONS.get(top, top)}",
                            f(bold=True, font_color=DARK, bg_color="#DDEBF7", top=1, top_color="#9BC2E6"))
            ws.write_blank(row, 1, None, f(bg_color="#DDEBF7", top=1, top_color="#9BC2E6"))
            ws.write_blank(row, 2, None, f(bg_color="#DDEBF7", top=1, top_color="#9BC2E6"))
            row += 1
        ws.write_string(row, 0, key)
        if isinstance(value, bool):
            ws.write_boolean(row, 1, value, f(**INPUT, num_format=BOOL_FORMAT, align="left"))
        elif isinstance(value, int):
            ws.write_number(row, 1, value, f(**INPUT, align="left"))
        elif isinstance(value, str) and key in shares:
            ws.write_number(row, 1, float(Decimal(value)), f(**INPUT, num_format="0.00%", align="left"))
        elif isinstance(value, str) and _is_number(value) and top != "score":
            number = Decimal(value)
            code = "#,##0" if abs(number) >= 1000 else "General"
            ws.write_number(row, 1, float(number), f(**INPUT, num_format=code, align="left"))
        else:
            ws.write_string(row, 1, str(value), f(**INPUT))
        ws.write_string(row, 2, layout.policy_help(key, helps), f(**NOTE))
        row += 1
    ws.freeze_panes(1, 0)
    _page_setup(ws, title="Credit policy")


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"-?\d+(\.\d+)?", text.strip()))


def _conf_sheet(book: xlsxwriter.Workbook, f: _Formats) -> None:
    ws = book.get_worksheet_by_name(layout.CONF_SHEET)
    ws.set_column("A:A", 22)
    ws.set_column("B:B", 50)
    ws.set_column("C:C", 100)
    for i, (key, value, note) in enumerate(layout.CONF_ROWS):
        ws.write_string(i, 0, key, f(bold=True))
        if value is None:
            ws.write_blank(i, 1, None, f(**INPUT))
        elif isinstance(value, bool):
            ws.write_boolean(i, 1, value, f(**INPUT, num_format=BOOL_FORMAT, align="left"))
        else:
            ws.write_string(i, 1, str(value), f(**INPUT))
        ws.write_string(i, 2, note, f(**NOTE))
    notes = (
        "How this sheet works",
        "xlwings reads the settings from A1 down to the first blank row: the name in column A, the value in "
        "column B. Column C is for people.",
        "A setting here overrides xlwings.conf beside this workbook and the xlwings add-in's settings; "
        "delete a row to fall back to them.",
        "XLCREDIT_* settings are read by xlcredit itself: the credit database, and the team service of UDF "
        "remote mode (environment variables of the same names win over this sheet).",
    )
    start = len(layout.CONF_ROWS) + 2
    for k, text in enumerate(notes):
        ws.write_string(start + k, 0, text, f(bold=True) if k == 0 else f(**NOTE))
    _page_setup(ws, repeat_row=None, title="xlwings.conf")


def build_bytes(*, with_udfs: bool = True, tables: Mapping[str, pd.DataFrame] | None = None) -> bytes:
    """The finished ``CreditControl.xlsm`` as bytes (the same sources always give the same bytes)."""
    policy = Policy()
    tables = dict(tables or load_sample())
    vba = vba_project(vba_modules(with_udfs))
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    book.set_properties({
        "title": "Credit Control", "subject": "Credit scoring, limits, ageing and dunning",
        "author": "xlcredit", "company": policy.company.name, "created": BUILD_TIME,
        "comments": "Built by workbook/build.py; edit the sources in workbook/, not this file.",
    })
    book.set_custom_property("xlcredit_sample_as_of", SAMPLE_AS_OF.isoformat())
    book.set_custom_property("xlcredit_built_with", tool_versions())
    book.add_vba_project(io.BytesIO(vba), is_stream=True)
    book.set_vba_name(layout.WORKBOOK_CODE_NAME)
    for sheet in layout.SHEET_ORDER:
        ws = book.add_worksheet(sheet)
        ws.set_vba_name(layout.CODE_NAMES[sheet])
        ws.set_tab_color(layout.TAB_COLORS[sheet])
    f = _Formats(book)
    preview = engine_preview(tables, policy)
    _dashboard(book, f, {**preview.dashboard, **review_preview(tables, policy)})
    for spec in layout.INPUT_TABLES:
        _input_table(book, f, spec, tables[spec.key], preview.cached if spec.key == "customers" else None)
    _bank_sheet(book, f)
    for name in layout.OUTPUT_SHEETS:
        _output_sheet(book, f, name)
    _policy_sheet(book, f, policy)
    _conf_sheet(book, f)
    book.close()
    if preview.ageing is None:
        return buffer.getvalue()
    # the Ageing table as the first refresh writes it: through the refresh's own writer
    with tempfile.TemporaryDirectory(prefix="xlcredit-build-") as tmp:
        path = Path(tmp) / "CreditControl.xlsm"
        path.write_bytes(buffer.getvalue())
        write_outputs(path, {"Ageing": preview.ageing}, {("Ageing", layout.OUTPUT_SHEETS["Ageing"].as_of_cell):
                                                         SAMPLE_AS_OF})
        return path.read_bytes()


def build(out: str | Path = DEFAULT_OUT, *, with_udfs: bool = True) -> Path:
    """Build the workbook into ``out`` and return its path."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(build_bytes(with_udfs=with_udfs))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbook.build", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where to write (default {DEFAULT_OUT})")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if OUT differs from a fresh build")
    args = parser.parse_args(argv)
    if args.check:
        fresh = build_bytes()
        same = args.out.is_file() and args.out.read_bytes() == fresh
        print(f"{args.out}: {'up to date' if same else 'STALE - run: python -m workbook.build'}")
        return 0 if same else 1
    path = build(args.out)
    print(f"built {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
