"""CreditControl.xlsm through LibreOffice, an independent reader of the file format.

LibreOffice (headless) opens the built workbook and prints it to PDF — the Dashboard and the Customers pages
are turned into PNG under ``tests/_artifacts/`` for a person to look at — and exports it to ODS, where its
own VBA import shows the modules and each button bound to its macro. It also opens a workbook after
:func:`xlcredit.io.workbook.write_outputs` has written into it, and a workbook it re-saved itself (different
XML, shared strings) is read and written by xlcredit. LibreOffice only parses and renders here: it does not
run the macros (the xlwings module needs Excel).

These tests need ``soffice`` and ``pdftoppm`` (``.ci/run`` installs both); without them they fail, they do
not skip.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from workbook import build, layout
from xlcredit.core.policy import Policy
from xlcredit.io.workbook import dashboard_cells, read_policy_rows, read_tables, write_outputs

pytestmark = pytest.mark.libreoffice

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "_artifacts"
TIMEOUT = 600  # seconds per LibreOffice run: a cold start on a slow CI machine takes a while


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is not installed (.ci/run installs LibreOffice and poppler-utils)"
    return path


@pytest.fixture(scope="module")
def lo(tmp_path_factory: pytest.TempPathFactory):
    """Run LibreOffice headless with a profile of its own: lo(src, target, outdir) -> the converted file."""
    soffice = _tool("soffice")
    profile = tmp_path_factory.mktemp("lo-profile")

    def convert(src: Path, target: str, outdir: Path) -> Path:
        outdir.mkdir(parents=True, exist_ok=True)
        run = subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
                              "--convert-to", target, "--outdir", str(outdir), str(src)],
                             capture_output=True, text=True, timeout=TIMEOUT)
        extension = target.split(":")[0]
        out = outdir / f"{src.stem}.{extension}"
        assert run.returncode == 0 and out.is_file(), f"LibreOffice failed on {src.name}: {run.stdout}{run.stderr}"
        return out

    return convert


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("render") / "CreditControl.xlsm"
    path.write_bytes(build.build_bytes())
    return path


def _pages(first: int, last: int) -> str:
    return f'pdf:calc_pdf_Export:{{"PageRange":{{"type":"string","value":"{first}-{last}"}}}}'


def _png(pdf: Path, page: int, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / name
    subprocess.run([_tool("pdftoppm"), "-png", "-r", "110", "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(stem)], check=True, timeout=TIMEOUT)
    png = stem.with_suffix(".png")
    assert png.is_file() and png.stat().st_size > 20_000, png  # a rendered page, not a blank one
    return png


def _as_excel_shows(number: float, code: str) -> str:
    """A number as a spreadsheet displays it under ``code``: the decimal text rounded half away from zero."""
    value = Decimal(repr(number))
    if code.endswith("%"):
        return f"{(value * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"
    if code == "#,##0":
        return f"{value.quantize(Decimal(1), ROUND_HALF_UP):,}"
    return str(value.quantize(Decimal("0.1"), ROUND_HALF_UP))


def _text(pdf: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(pdf).pages]


def test_dashboard_and_customers_print_with_their_figures(built: Path, lo, tmp_path: Path):
    pdf = lo(built, _pages(1, 3), tmp_path)
    pages = _text(pdf)
    assert len(pages) == 3
    dashboard, customers = pages[0], pages[1] + pages[2]
    values = openpyxl.load_workbook(built, data_only=True)
    dash = values["Dashboard"]
    assert "Credit Control Dashboard" in dashboard and "As of 2026-10-31" in dashboard
    for name, ref in layout.KPI_CELLS.items():
        label, code, _note = layout.KPI_LABELS[name]
        assert label in dashboard, label
        shown = _as_excel_shows(dash[ref].value, code)
        assert shown in dashboard, (name, shown)
    for row in layout.AGEING_BUCKET_ROWS:
        assert f"{dash[f'B{row}'].value} {_as_excel_shows(dash[f'C{row}'].value, '#,##0')}" in dashboard
    # the charts' titles and axis units: LibreOffice drew them
    for title in ("All open invoices by days past due", "Overdue only (own scale)", "Cash forecast by week",
                  "EUR thousand", "days past due"):
        assert title in dashboard, title
    ws = values["Customers"]
    assert "Customer ID Name Score Grade Limit Available Terms Deposit Stage" in customers   # headers in words
    for row in ws.iter_rows(min_row=2, max_row=61, values_only=True):
        cid, name, score, grade = row[:4]
        assert re.search(rf"{cid} {re.escape(name)} {score} {grade} ", customers), cid
    assert "Country" not in customers  # the print area is the customer and its results
    _png(pdf, 1, "dashboard")
    _png(pdf, 2, "customers")


def test_libreoffice_imports_the_vba_modules_and_binds_each_button(built: Path, lo, tmp_path: Path):
    ods = lo(built, "ods", tmp_path)
    with zipfile.ZipFile(ods) as z:
        names = z.namelist()
        content = z.read("content.xml").decode()
        credit_control = z.read("Basic/VBAProject/CreditControl.xml").decode()
    modules = {Path(n).stem for n in names if n.startswith("Basic/VBAProject/") and not n.endswith("script-lb.xml")}
    assert {"xlwings", "Dictionary", "CreditControl", "xlwings_udfs", "ThisWorkbook",
            *layout.CODE_NAMES.values()} == modules
    bound = re.findall(r"vnd\.sun\.star\.script:VBAProject\.CreditControl\.(\w+)\?language=Basic", content)
    assert sorted(set(bound)) == sorted(macro for _caption, macro in layout.BUTTONS)
    assert "RunPython &quot;import xlcredit.excel as x; x.refresh_ageing()&quot;" in credit_control


def test_libreoffice_opens_a_workbook_after_a_refresh_wrote_into_it(built: Path, lo, tmp_path: Path):
    book = tmp_path / "Refreshed.xlsm"
    book.write_bytes(built.read_bytes())
    ageing = pd.DataFrame({"customer_id": ["C001", "C002"], "name": ["Refreshed One", "Refreshed Two"],
                           "currency": ["EUR", "CNY"], "Current": [Decimal("1500.25"), Decimal("0")],
                           "180+": [Decimal("-42.10"), Decimal("7")]})
    write_outputs(book, {"Ageing": ageing}, {
        **dashboard_cells({"total_ar": Decimal("4321987.65"), "overdue_pct": Decimal("0.125"),
                           "refreshed_at": dt.datetime(2026, 11, 2, 7, 45)}),
        ("Ageing", "B2"): dt.date(2026, 11, 2)})
    pdf = lo(book, _pages(1, 1), tmp_path / "pdf")
    dashboard = _text(pdf)[0]
    assert "4,321,988" in dashboard and "12.5%" in dashboard and "2026-11-02 07:45" in dashboard
    _png(pdf, 1, "dashboard_after_refresh")
    ods = lo(book, "ods", tmp_path / "ods")
    with zipfile.ZipFile(ods) as z:
        content = z.read("content.xml").decode()
    sheet = content.split('table:name="Ageing"')[1].split("</table:table>")[0]
    for text in ("Refreshed One", "Refreshed Two", "1,500.25", "-42.10", "2026-11-02"):
        assert text in sheet, text


def test_a_workbook_resaved_by_libreoffice_is_read_and_written(built: Path, lo, tmp_path: Path):
    """A file written by another program (shared strings, other XML layout, other style numbering) works
    too: the tables and the policy read back the same, and a write keeps its VBA project."""
    resaved = lo(built, "xlsm:Calc MS Excel 2007 VBA XML", tmp_path / "resaved")
    original_tables = read_tables(built)
    tables = read_tables(resaved)
    assert set(tables) == set(original_tables)
    for key, frame in original_tables.items():
        pd.testing.assert_frame_equal(tables[key], frame, check_dtype=False)
    assert Policy.from_rows(read_policy_rows(resaved)) == Policy()
    with zipfile.ZipFile(resaved) as z:
        vba_before = z.read("xl/vbaProject.bin")
    write_outputs(resaved, {"Ageing": pd.DataFrame({"customer_id": ["C9"], "Current": [Decimal("9.99")]})},
                  dashboard_cells({"total_ar": Decimal("1.00")}))
    with zipfile.ZipFile(resaved) as z:
        assert z.read("xl/vbaProject.bin") == vba_before
    ws = openpyxl.load_workbook(resaved, data_only=True)["Ageing"]
    assert [c.value for c in ws[4]][:2] == ["Customer ID", "Current"]
    assert [c.value for c in ws[5]][:2] == ["C9", 9.99] and ws.max_row == 5
    assert openpyxl.load_workbook(resaved, data_only=True)["Dashboard"]["C9"].value == 1
    lo(resaved, _pages(1, 1), tmp_path / "again")  # and LibreOffice opens the result


def test_the_refreshed_sample_prints_in_at_most_40_pages(built: Path, lo, tmp_path: Path):
    """Print areas and page setup on every sheet: the whole refreshed sample book is a short report (the
    ledgers print their first page; the Dashboard is one landscape page)."""
    from typer.testing import CliRunner

    from xlcredit.cli import app

    book = tmp_path / "CreditControl.xlsm"
    book.write_bytes(built.read_bytes())
    run = CliRunner().invoke(app, ["refresh", str(book), "--as-of", "2026-10-31", "--db", str(tmp_path / "c.db")])
    assert run.exit_code == 0, run.output
    pdf = lo(book, "pdf", tmp_path / "pdf")
    pages = _text(pdf)
    assert len(pages) <= 40, len(pages)
    firsts = [p.strip().splitlines()[0] for p in pages if p.strip()]
    for title in ("Credit Control Dashboard", "Customers", "Invoices: the first 50 rows", "Payments: the first 50",
                  "Ageing of open receivables", "Credit policy"):
        assert any(line.startswith(title) for line in firsts), title
    assert sum(1 for line in firsts if line.startswith("Credit Control Dashboard")) == 1
    assert "Overdue only (own scale)" in pages[0] and "Average days delinquent (ADD)" in pages[0]
    _png(pdf, 1, "dashboard_refreshed")

