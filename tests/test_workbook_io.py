"""xlcredit/io/workbook.py: reading the input tables and the policy out of CreditControl.xlsm, and writing the
refresh's results back into it in place — without ever losing the VBA project, the buttons, the chart, the
input sheets or the file itself when something goes wrong (DESIGN.md, engineering rules: "Writing to a
workbook never loses user data").

Technique, chosen by testing (see test_openpyxl_keep_vba_would_lose_the_dashboard_chart): the package is
patched part by part — only the XML of the sheets that receive output changes — and swapped in atomically.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from workbook import build
from xlcredit.core.errors import XlcError
from xlcredit.core.policy import Policy
from xlcredit.data.sample import sample_path
from xlcredit.io import workbook as wio
from xlcredit.io.workbook import (
    DASHBOARD_CELLS,
    INPUT_SHEETS,
    KPI_CELLS,
    OUTPUT_SHEETS,
    dashboard_cells,
    read_config,
    read_policy_rows,
    read_tables,
    write_outputs,
)


@pytest.fixture(scope="module")
def built_bytes() -> bytes:
    return build.build_bytes()


@pytest.fixture
def book(tmp_path: Path, built_bytes: bytes) -> Path:
    path = tmp_path / "CreditControl.xlsm"
    path.write_bytes(built_bytes)
    return path


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def _sheets(path: Path, sheets: Any, *, data_only: bool) -> dict[str, dict[str, tuple[Any, str]]]:
    """Every non-empty cell of ``sheets``: coordinate → (value or formula, number format)."""
    wb = openpyxl.load_workbook(path, data_only=data_only, read_only=True)
    try:
        return {sheet: {c.coordinate: (c.value, c.number_format) for row in wb[sheet].iter_rows() for c in row
                        if getattr(c, "value", None) is not None} for sheet in sheets}
    finally:
        wb.close()


def _cells(path: Path, sheet: str, *, data_only: bool) -> dict[str, tuple[Any, str]]:
    return _sheets(path, [sheet], data_only=data_only)[sheet]


def _ageing_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["C001", "C002", "C003"],
        "name": ["Ostermoor & Söhne <AG>", "  leading spaces", "Tab\there\x07bell"],
        "currency": ["EUR", "CNY", "GBP"],
        "Current": [Decimal("1234567.89"), Decimal("0"), Decimal("-5.10")],
        "1-30": [10.25, np.nan, 3.0],
        "days_past_due": [np.int64(12), None, 400],
        "utilisation": [0.5, 1.25, None],
        "due_date": [dt.date(2026, 10, 31), pd.NaT, dt.date(2024, 2, 29)],
        "issued_at": [pd.Timestamp("2026-10-31 14:30"), None, dt.datetime(2026, 1, 2, 3, 4)],
        "disputed": [True, False, pd.NA],
    })


# =========================================================================== reading
def test_read_tables_gives_the_sample_values_exactly(book: Path):
    tables = read_tables(book)
    assert set(tables) == {"customers", "invoices", "payments", "credit_notes", "fx_rates", "reviews", "promises",
                           "disputes", "plans", "contacts"}
    invoices = tables["invoices"]
    csv = pd.read_csv(sample_path("invoices"), dtype=str, keep_default_na=False)
    assert len(invoices) == len(csv)
    assert [Decimal(repr(v)) for v in invoices["amount"]] == [Decimal(v) for v in csv["amount"]]
    assert [d.isoformat() for d in invoices["due_date"]] == list(csv["due_date"])
    assert list(invoices["disputed"]) == [v == "true" for v in csv["disputed"]]
    customers = tables["customers"]
    assert "Score" not in customers.columns and "Stage" not in customers.columns  # formula columns are outputs
    csv_customers = pd.read_csv(sample_path("customers"), dtype=str, keep_default_na=False)
    assert [v is None for v in customers["inventory"]] == [v == "" for v in csv_customers["inventory"]]
    assert any(v == "" for v in csv_customers["inventory"])  # the sample does have blanks to read back


def test_the_engines_reader_gets_the_same_customers_from_the_workbook_as_from_the_csv(book: Path):
    from xlcredit.io.tables import read_customers

    from_book = read_customers(read_tables(book)["customers"])
    assert from_book.problems == ()
    assert from_book.customers == read_customers(sample_path("customers")).customers


def test_a_refresh_of_the_bundled_workbook_reads_the_collectors_sheets_as_the_folder_book_reads_the_files(
        tmp_path: Path):
    """The Promises, Disputes, Plans and Contacts sheets of the shipped workbook hold the sample's records: a
    refresh of a copy sees the sample's broken promise (C008, promised for 27 Sep, nothing paid) and assesses
    every customer's records and dunning as the run over the bundled sample's files does."""
    import shutil

    from xlcredit.data.sample import SAMPLE_AS_OF, SAMPLE_DIR, SAMPLE_FILES
    from xlcredit.jobs.book import FolderBook, WorkbookFile
    from xlcredit.jobs.refresh import refresh

    copy = tmp_path / "CreditControl.xlsm"
    shutil.copy(build.DEFAULT_OUT, copy)
    plain = tmp_path / "plain"          # the ledger without the collector's files
    plain.mkdir()
    for name in SAMPLE_FILES:
        shutil.copy(SAMPLE_DIR / name, plain / name)
    runs = {label: refresh(b, SAMPLE_AS_OF, store=str(tmp_path / f"{label}.db"))
            for label, b in (("workbook", WorkbookFile(copy)), ("folder", FolderBook(None)),
                             ("plain", FolderBook(plain)))}
    assert runs["workbook"].problems == runs["folder"].problems == ()
    by_id = {label: {c.customer.customer_id: c for c in run.portfolio.customers} for label, run in runs.items()}
    c008 = by_id["workbook"]["C008"]
    assert [p.status for p in c008.collections.promises] == ["broken"]
    assert c008.collections.promises[0].promise.promised_date == dt.date(2026, 9, 27)
    assert c008.dunning == by_id["folder"]["C008"].dunning
    assert by_id["plain"]["C008"].collections is None       # without the sheets there is nothing to see
    assert ({cid: c.collections for cid, c in by_id["workbook"].items()}
            == {cid: c.collections for cid, c in by_id["folder"].items()})
    assert ({cid: c.dunning for cid, c in by_id["workbook"].items()}
            == {cid: c.dunning for cid, c in by_id["folder"].items()})
    assert sum(1 for c in by_id["workbook"].values() if c.collections and c.collections.disputes) >= 1
    assert sum(1 for c in by_id["workbook"].values() if c.collections and c.collections.plans) == 1


def test_policy_rows_round_trip_and_edits_are_read(book: Path, tmp_path: Path):
    assert Policy.from_rows(read_policy_rows(book)) == Policy()
    # a user edits two settings (openpyxl saves a plain copy; this test only reads it)
    wb = openpyxl.load_workbook(book)
    ws = wb["Policy"]
    rows = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    ws.cell(rows["limits.volume_share"], 2).value = 0.12
    ws.cell(rows["terms.B"], 2).value = "Net 45"
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    policy = Policy.from_rows(read_policy_rows(edited))
    assert policy.limits.volume_share == Decimal("0.12")
    assert policy.terms.B == "Net 45"
    assert all(not k.startswith("#") for k, _ in read_policy_rows(edited))


def test_read_config_gives_the_xlcredit_settings(book: Path):
    config = read_config(book)
    assert config["UDF Modules"] == "udfs.functions"
    assert {"XLCREDIT_DB", "XLCREDIT_SERVER_URL", "XLCREDIT_API_KEY"} <= set(config)
    assert config["XLCREDIT_DB"] is None


def test_reading_a_missing_or_foreign_file_names_the_problem(tmp_path: Path):
    with pytest.raises(XlcError, match="workbook: not found"):
        read_tables(tmp_path / "nope.xlsm")
    (tmp_path / "text.xlsm").write_text("not a zip")
    with pytest.raises(XlcError, match=r"workbook: is not an Excel \.xlsx/\.xlsm file"):
        read_tables(tmp_path / "text.xlsm")
    other = tmp_path / "other.xlsx"
    wb = xlsxwriter.Workbook(str(other))
    wb.add_worksheet("Customers").write_row(0, 0, ["customer_id", "name"])
    wb.close()
    with pytest.raises(XlcError, match="workbook: has no sheet named 'Invoices', 'Payments'"):
        read_tables(other)


# =========================================================================== why not openpyxl keep_vba
@pytest.mark.slow
def test_openpyxl_keep_vba_rewrites_every_part_and_drops_cached_results(book: Path, tmp_path: Path):
    """The alternative technique, measured (openpyxl 3.1, keep_vba=True): it keeps the VBA project and the
    button drawing, but re-serialises every other part — the chart is regenerated from its object model and
    the Customers formulas lose their cached results (blank for LibreOffice and any file reader until Excel
    recalculates). Patching only the output parts (write_outputs) keeps all of that as it was."""
    saved = tmp_path / "openpyxl.xlsm"
    openpyxl.load_workbook(book, keep_vba=True).save(saved)
    before, after = _parts(book), _parts(saved)
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    assert after["xl/drawings/vmlDrawing1.vml"] == before["xl/drawings/vmlDrawing1.vml"]
    assert after["xl/charts/chart1.xml"] != before["xl/charts/chart1.xml"]
    assert openpyxl.load_workbook(book, data_only=True)["Customers"]["C2"].value is not None
    assert openpyxl.load_workbook(saved, data_only=True)["Customers"]["C2"].value is None
    patched = tmp_path / "patched.xlsm"
    patched.write_bytes(book.read_bytes())
    write_outputs(patched, {"Ageing": _ageing_frame()})
    assert _parts(patched)["xl/charts/chart1.xml"] == before["xl/charts/chart1.xml"]
    assert (openpyxl.load_workbook(patched, data_only=True)["Customers"]["C2"].value
            == openpyxl.load_workbook(book, data_only=True)["Customers"]["C2"].value)


# =========================================================================== writing
def test_write_changes_only_the_output_parts_and_keeps_vba_buttons_chart_and_inputs(book: Path):
    before = _parts(book)
    inputs_before = (_sheets(book, INPUT_SHEETS, data_only=False), _sheets(book, INPUT_SHEETS, data_only=True))
    dash_before = _cells(book, "Dashboard", data_only=False)
    write_outputs(book, {"Ageing": _ageing_frame(), "Letters": _ageing_frame().head(1)},
                  {**dashboard_cells({"total_ar": Decimal("987654.32"), "dso": Decimal("41.5"),
                                      "refreshed_at": dt.datetime(2026, 11, 2, 8, 15), "bucket1_label": "Not due"}),
                   ("Review", "B2"): dt.date(2026, 11, 2)})
    after = _parts(book)
    with zipfile.ZipFile(book) as z:
        sheets = wio._sheet_parts(z)
    changed = {name for name in before if before[name] != after.get(name)}
    assert changed == {sheets["Ageing"], sheets["Letters"], sheets["Dashboard"], sheets["Review"]}
    assert set(after) == set(before)
    for name in ("xl/vbaProject.bin", "xl/drawings/vmlDrawing1.vml", "xl/charts/chart1.xml",
                 "xl/drawings/drawing1.xml", "xl/sharedStrings.xml", "xl/styles.xml", "xl/workbook.xml"):
        assert after[name] == before[name], name
    for name in changed:
        ElementTree.fromstring(after[name])  # well-formed XML
    inputs_after = (_sheets(book, INPUT_SHEETS, data_only=False), _sheets(book, INPUT_SHEETS, data_only=True))
    assert inputs_after == inputs_before  # value-for-value and formula-for-formula
    assert inputs_before[0]["Customers"]["C2"][0] == "=CREDIT_SCORE(Customers[[#This Row],[Customer ID]])"
    assert isinstance(inputs_before[1]["Customers"]["C2"][0], int)
    dash_after = _cells(book, "Dashboard", data_only=False)
    outputs = set(DASHBOARD_CELLS.values())
    assert {k: v for k, v in dash_after.items() if k not in outputs} == {
        k: v for k, v in dash_before.items() if k not in outputs}
    assert dash_after[KPI_CELLS["total_ar"]] == (987654.32, dash_before[KPI_CELLS["total_ar"]][1])
    assert dash_after[KPI_CELLS["dso"]] == (41.5, "0.0")
    assert dash_after["C3"] == (dt.datetime(2026, 11, 2, 8, 15), "yyyy-mm-dd hh:mm")
    assert dash_after["B17"][0] == "Not due"
    assert openpyxl.load_workbook(book, data_only=True)["Review"]["B2"].value == dt.datetime(2026, 11, 2)


def test_written_values_keep_their_types_and_exact_amounts(book: Path):
    write_outputs(book, {"Ageing": _ageing_frame()})
    ws = openpyxl.load_workbook(book)["Ageing"]
    header_row = OUTPUT_SHEETS["Ageing"].header_row
    assert ws["A1"].value == "Ageing of open receivables"  # title rows above the table stay
    assert [c.value for c in ws[header_row]] == [wio.header_text(c) for c in _ageing_frame().columns]  # in words
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=header_row + 1)]
    assert len(rows) == 3  # the 57-row preview is gone, nothing left over below
    assert rows[0] == ["C001", "Ostermoor & Söhne <AG>", "EUR", 1234567.89, 10.25, 12, 0.5,
                       dt.datetime(2026, 10, 31), dt.datetime(2026, 10, 31, 14, 30), True]
    assert rows[1] == ["C002", "  leading spaces", "CNY", 0, None, None, 1.25, None, None, False]
    assert rows[2][1] == "Tab\there\u0007bell".replace("\u0007", "")  # a control character Excel refuses
    assert rows[2][3] == -5.1 and rows[2][7] == dt.datetime(2024, 2, 29) and rows[2][9] is None
    with zipfile.ZipFile(book) as z:
        xml = z.read(wio._sheet_parts(z)["Ageing"]).decode()
    assert "<v>1234567.89</v>" in xml and "<v>-5.10</v>" in xml  # Decimal written as its exact text
    fmt = {c.column_letter: c.number_format for c in ws[header_row + 1]}
    assert fmt["D"] == wio.NUMBER_FORMATS["money"] and fmt["E"] == wio.NUMBER_FORMATS["money"]
    assert fmt["F"] == "#,##0" and fmt["G"] == "0.0%" and fmt["H"] == "yyyy-mm-dd"
    assert fmt["I"] == "yyyy-mm-dd hh:mm"
    widths = {k: v.width for k, v in ws.column_dimensions.items()}
    assert widths["B"] == pytest.approx(34, abs=1)  # "name" keeps the width the sheet gave it


def test_writing_twice_gives_the_same_file_as_writing_once(book: Path, tmp_path: Path):
    frame = _ageing_frame()
    cells = dashboard_cells({"total_ar": Decimal("1.00")})
    write_outputs(book, {"Ageing": frame}, cells)
    once = _parts(book)
    write_outputs(book, {"Ageing": frame}, cells)
    assert _parts(book) == once


def test_an_empty_frame_leaves_just_the_header(book: Path):
    write_outputs(book, {"Letters": pd.DataFrame(columns=["customer_id", "stage", "file"])})
    ws = openpyxl.load_workbook(book)["Letters"]
    assert [c.value for c in ws[4]] == ["Customer ID", "Stage", "File"]
    assert ws.max_row == 4


@pytest.mark.parametrize(("outputs", "cells", "message"), [
    ({"Customers": pd.DataFrame({"a": [1]})}, {}, "outputs: 'Customers' is an input sheet"),
    ({"Policy": pd.DataFrame({"a": [1]})}, {}, "outputs: 'Policy' is an input sheet"),
    ({"Dashboard": pd.DataFrame({"a": [1]})}, {}, "outputs: 'Dashboard' is a fixed layout"),
    ({}, {("Customers", "C2"): 1}, r"cells: Customers!C2 is not a declared output cell"),
    ({}, {("Dashboard", "B9"): "label"}, r"cells: Dashboard!B9 is not a declared output cell"),
    ({}, {("Dashboard", "$C$9"): 1, ("Ageing", "A5"): 1}, r"cells: Ageing!A5 is not a declared output cell"),
    ({}, {("Dashboard", "9C"): 1}, r"cell: is not a cell reference like B7 \(got '9C'\)"),
    ({"Ageing": [1, 2]}, {}, "Ageing output: must be a pandas DataFrame"),
])
def test_inputs_and_undeclared_cells_are_refused_and_the_file_is_untouched(book: Path, outputs: Any,
                                                                           cells: Any, message: str):
    before = book.read_bytes()
    with pytest.raises(XlcError, match=message):
        write_outputs(book, outputs, cells)
    assert book.read_bytes() == before
    assert [p.name for p in book.parent.iterdir()] == [book.name]


# =========================================================================== failure leaves the file as it was
def test_a_failure_midway_leaves_the_original_byte_identical(book: Path, monkeypatch: pytest.MonkeyPatch):
    before = book.read_bytes()
    real = wio._write_package

    def half_then_fail(original: zipfile.ZipFile, edits: Any, target: Any) -> None:
        target.write(before[: len(before) // 2])  # half a file is already on disk …
        raise OSError("disk full")                # … when the disk fills up

    monkeypatch.setattr(wio, "_write_package", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_outputs(book, {"Ageing": _ageing_frame()}, dashboard_cells({"total_ar": 1}))
    assert book.read_bytes() == before
    assert [p.name for p in book.parent.iterdir()] == [book.name]  # no temporary file left behind
    monkeypatch.setattr(wio, "_write_package", real)
    write_outputs(book, {"Ageing": _ageing_frame()})  # and the file still works
    assert book.read_bytes() != before


def test_a_failing_swap_leaves_the_original_byte_identical(book: Path, monkeypatch: pytest.MonkeyPatch):
    before = book.read_bytes()

    def no_replace(src: Any, dst: Any) -> None:
        raise PermissionError("locked by Excel")

    monkeypatch.setattr(wio.os, "replace", no_replace)
    with pytest.raises(XlcError, match="workbook: is open in another program"):
        write_outputs(book, {"Ageing": _ageing_frame()})
    assert book.read_bytes() == before
    assert [p.name for p in book.parent.iterdir()] == [book.name]


def test_a_file_changed_during_the_write_is_not_overwritten(book: Path, monkeypatch: pytest.MonkeyPatch):
    real = wio._write_package

    def meanwhile_excel_saves(original: zipfile.ZipFile, edits: Any, target: Any) -> None:
        real(original, edits, target)
        with open(book, "ab") as other:
            other.write(b"saved by someone else")

    monkeypatch.setattr(wio, "_write_package", meanwhile_excel_saves)
    with pytest.raises(XlcError, match="was changed by someone else while the refresh ran; nothing was written"):
        write_outputs(book, {"Ageing": _ageing_frame()})
    assert book.read_bytes().endswith(b"saved by someone else")
    assert [p.name for p in book.parent.iterdir()] == [book.name]


def test_the_written_file_keeps_the_original_permissions(book: Path):
    os.chmod(book, 0o640)
    write_outputs(book, {"Ageing": _ageing_frame()})
    assert (book.stat().st_mode & 0o777) == 0o640


# =========================================================================== other packages
def _minimal(path: Path, **options: Any) -> Path:
    """A plain workbook with an Ageing sheet (no formats prepared), as a user might have made it."""
    wb = xlsxwriter.Workbook(str(path), options)
    ws = wb.add_worksheet("Ageing")
    ws.write_string(0, 0, "Ageing of open receivables")
    ws.write_string(3, 0, "customer_id")
    wb.close()
    return path


def test_missing_number_formats_are_added_once(tmp_path: Path):
    path = _minimal(tmp_path / "plain.xlsx")
    frame = pd.DataFrame({"customer_id": ["C1"], "amount": [Decimal("12.30")], "share": [0.25],
                          "due": [dt.date(2026, 1, 31)]})
    write_outputs(path, {"Ageing": frame})
    ws = openpyxl.load_workbook(path)["Ageing"]
    assert [c.number_format for c in ws[5]] == ["General", wio.NUMBER_FORMATS["money"], "0.0%", "yyyy-mm-dd"]
    styles = _parts(path)["xl/styles.xml"]
    write_outputs(path, {"Ageing": frame})
    assert _parts(path)["xl/styles.xml"] == styles  # found, not added again


def test_dates_follow_a_1904_date_system(tmp_path: Path):
    path = _minimal(tmp_path / "mac.xlsx", date_1904=True)
    write_outputs(path, {"Ageing": pd.DataFrame({"due": [dt.date(2026, 10, 31)]})})
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert f"<v>{(dt.date(2026, 10, 31) - dt.date(1904, 1, 1)).days}</v>" in xml
    assert openpyxl.load_workbook(path)["Ageing"]["A5"].value == dt.datetime(2026, 10, 31)


def test_a_calculation_chain_is_dropped_with_its_references(book: Path, tmp_path: Path):
    """Excel keeps xl/calcChain.xml (a cache of formula cells); after cells change it may no longer match,
    so the writer drops it (Excel rebuilds it) together with its relationship and content type."""
    chained = tmp_path / "chained.xlsm"
    parts = _parts(book)
    parts["xl/calcChain.xml"] = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<calcChain xmlns='
                                 b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="C2" i="2"/>'
                                 b"</calcChain>")
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/calcChain" Target="calcChain.xml"/></Relationships>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.calcChain+xml"/></Types>')
    with zipfile.ZipFile(chained, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    write_outputs(chained, {"Ageing": _ageing_frame()})
    after = _parts(chained)
    assert "xl/calcChain.xml" not in after
    assert b"calcChain" not in after["xl/_rels/workbook.xml.rels"] + after["[Content_Types].xml"]
    openpyxl.load_workbook(chained)


def test_full_calc_on_load_is_set_so_excel_recalculates_the_formulas():
    without = (b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="A"'
               b' sheetId="1"/></sheets><definedNames/></workbook>')
    assert b'<definedNames/><calcPr fullCalcOnLoad="1"/></workbook>' in wio._full_calc_on_load(without)
    excel_saved = without.replace(b"<definedNames/>", b'<calcPr calcId="191029"/>')
    assert b'<calcPr fullCalcOnLoad="1" calcId="191029"/>' in wio._full_calc_on_load(excel_saved)
    done = excel_saved.replace(b'calcId="191029"', b'calcId="1" fullCalcOnLoad="1"')
    assert wio._full_calc_on_load(done) == done


def test_cell_xml_for_every_kind_of_value():
    assert wio._cell_xml("A1", None, 0, False, "x") == '<c r="A1"/>'
    assert wio._cell_xml("A1", math.nan, 3, False, "x") == '<c r="A1" s="3"/>'
    assert wio._cell_xml("A1", Decimal("0.10"), 0, False, "x") == '<c r="A1"><v>0.10</v></c>'
    assert wio._cell_xml("A1", Decimal("1E+3"), 0, False, "x") == '<c r="A1"><v>1000</v></c>'
    assert wio._cell_xml("A1", True, 0, False, "x") == '<c r="A1" t="b"><v>1</v></c>'
    assert wio._cell_xml("A1", dt.date(1900, 3, 1), 0, False, "x") == '<c r="A1"><v>61</v></c>'  # Excel serial
    assert wio._cell_xml("A1", dt.datetime(2026, 10, 31, 12), 0, False, "x") == '<c r="A1"><v>46326.5</v></c>'
    assert wio._cell_xml("A1", "a<b&c", 0, False, "x") == '<c r="A1" t="inlineStr"><is><t>a&lt;b&amp;c</t></is></c>'
    with pytest.raises(XlcError, match="Ageing!B5: text is longer than Excel's 32767 characters"):
        wio._cell_xml("B5", "x" * 40000, 0, False, "Ageing!B5")


def test_in_place_write_uses_a_temporary_file_in_the_same_folder(book: Path, monkeypatch: pytest.MonkeyPatch):
    """os.replace is atomic only within one file system: the new file is made beside the old one."""
    seen: list[tuple[str, str]] = []
    real = os.replace

    def spy(src: Any, dst: Any) -> None:
        seen.append((str(Path(src).parent), str(Path(dst).parent)))
        real(src, dst)

    monkeypatch.setattr(wio.os, "replace", spy)
    write_outputs(book, {"Ageing": _ageing_frame()})
    assert seen == [(str(book.parent), str(book.parent))]


def test_the_as_of_cell_of_an_output_sheet_keeps_its_format(book: Path):
    write_outputs(book, {"Ageing": _ageing_frame()}, {("Ageing", "B2"): dt.date(2026, 11, 30)})
    ws = openpyxl.load_workbook(book)["Ageing"]
    assert ws["A1"].value == "Ageing of open receivables" and ws["A2"].value == "As of"
    assert ws["B2"].value == dt.datetime(2026, 11, 30) and ws["B2"].number_format == "yyyy-mm-dd"


@pytest.mark.parametrize("sheet", list(OUTPUT_SHEETS))
def test_every_output_sheet_keeps_its_title_rows_and_input_cells_byte_for_byte(book: Path, sheet: str):
    """A run writes an output sheet from its header row down: the rows above — the title, the labels and the cells
    the user fills in (the Statements period, the audit's policy B) — stay byte for byte, and so does every other
    part but that sheet."""
    spec = OUTPUT_SHEETS[sheet]
    before = _parts(book)
    with zipfile.ZipFile(book) as z:
        part = wio._sheet_parts(z)[sheet]
    rows_before = [r.xml for r in wio._parse_rows(wio._sheet_data_span(before[part].decode())[2])
                   if r.number < spec.header_row]
    write_outputs(book, {sheet: _ageing_frame()})
    after = _parts(book)
    assert {name for name in before if before[name] != after[name]} == {part}
    rows_after = [r.xml for r in wio._parse_rows(wio._sheet_data_span(after[part].decode())[2])
                  if r.number < spec.header_row]
    assert rows_after == rows_before
    for name, ref in wio.INPUT_CELLS.get(sheet, {}).items():   # the input cells are there, blank, as built
        assert any(f'r="{ref}"' in row for row in rows_after), name
    ws = openpyxl.load_workbook(book)[sheet]
    assert ws.cell(spec.header_row, 1).value == "Customer ID" and ws.cell(spec.header_row + 3, 1).value == "C003"
