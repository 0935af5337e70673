"""workbook/build.py and workbook/vba_udfs.py: CreditControl.xlsm is built from its text sources, the same
way every time, and carries a working xlwings VBA project.

Independent readers check the result: oletools' ``olevba`` (the VBA modules), the package's own XML (the
button wiring in ``xl/drawings/vmlDrawing1.vml``, the Table and chart parts) and openpyxl (cells and
formulas). xlwings' own wrapper generator (``xlwings/udfs.py: generate_vba_wrapper``, run in a separate
process with stand-ins for pywin32) is the reference for the UDF wrappers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
import xlwings
from oletools.olevba import VBA_Parser

from workbook import build, layout
from workbook.vba_udfs import check_names, collect, wrapper_module, wrappers_for
from xlcredit.core.policy import Policy
from xlcredit.data.sample import SAMPLE_AS_OF, sample_path
from xlcredit.io import workbook as io_workbook
from xlcredit.io.workbook import read_policy_rows

ROOT = Path(__file__).resolve().parent.parent
XLWINGS_DIR = Path(xlwings.__file__).resolve().parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
COMMITTED = ROOT / "workbook" / "CreditControl.xlsm"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("build") / "CreditControl.xlsm"
    path.write_bytes(build.build_bytes())
    return path


@pytest.fixture(scope="module")
def formulas(built: Path) -> openpyxl.Workbook:
    """The built workbook as openpyxl reads it (formulas); read only by the tests."""
    return openpyxl.load_workbook(built)


@pytest.fixture(scope="module")
def values(built: Path) -> openpyxl.Workbook:
    """The built workbook's cached values; read only by the tests."""
    return openpyxl.load_workbook(built, data_only=True)


def _modules(path: Path) -> dict[str, tuple[str, str]]:
    """olevba's view of the project: module name → (file name olevba gives it, source)."""
    parser = VBA_Parser(str(path))
    try:
        return {Path(name).stem: (name, code) for _f, _s, name, code in parser.extract_macros()}
    finally:
        parser.close()


def _source(file_name: str) -> str:
    return (ROOT / "workbook" / "vba" / file_name).read_bytes().decode("cp1252")


def _stream_form(export: str) -> str:
    """A class module as the VBE stores it after importing its .cls export: the ``VERSION 1.0 CLASS`` /
    ``BEGIN`` … ``END`` preamble goes, ``Attribute VB_Base`` (class CLSID) follows ``VB_Name`` (MS-OVBA 2.3.4.3)."""
    lines = export.split("\r\n")
    assert lines[0] == "VERSION 1.0 CLASS" and lines[1] == "BEGIN" and lines[3] == "END"
    rest = lines[4:]
    assert rest[0].startswith("Attribute VB_Name")
    base = 'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"'
    return "\r\n".join([rest[0], base, *rest[1:]])


# =========================================================================== the pinned xlwings sources
def test_committed_xlwings_module_is_the_installed_packages_file():
    """A move of the xlwings pin changes xlwings.bas (its DLL names carry the version): this test then fails
    until workbook/vba/xlwings.bas is refreshed from the package and the workbook rebuilt."""
    assert (ROOT / "workbook/vba/xlwings.bas").read_bytes() == (XLWINGS_DIR / "xlwings.bas").read_bytes()
    assert f"'Version: {xlwings.__version__}" in _source("xlwings.bas")
    pin = re.search(r'"xlwings==([^"]+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert pin == xlwings.__version__


def test_committed_dictionary_class_is_the_installed_packages_file():
    assert (ROOT / "workbook/vba/Dictionary.cls").read_bytes() == (XLWINGS_DIR / "addin/Dictionary.cls").read_bytes()


def test_the_standalone_quickstart_carries_exactly_xlwings_and_dictionary_besides_its_sample():
    """What a standalone xlwings workbook needs (olevba on xlwings' quickstart_standalone.xlsm): the xlwings
    module and the Dictionary class; the rest are document modules and the quickstart's sample Module1."""
    modules = _modules(XLWINGS_DIR / "quickstart_standalone.xlsm")
    code_modules = {name for name, (_file, code) in modules.items()
                    if "VB_PredeclaredId = True" not in code and name != "Module1"}
    assert code_modules == {"xlwings", "Dictionary"}
    ours = {build.module_name(_source(file_name)) for file_name, _kind in build.VBA_SOURCES}
    assert code_modules <= ours

    def body(code: str) -> list[str]:  # VBA is case-insensitive and the VBE re-cases identifiers
        return [line.lower() for line in code.replace("\r\n", "\n").split("\n") if not line.startswith("Attribute ")]

    assert body(modules["Dictionary"][1]) == body(_stream_form(_source("Dictionary.cls")))


# =========================================================================== determinism, committed file
def test_two_builds_are_byte_identical(built: Path):
    assert build.build_bytes() == built.read_bytes()


def _differing_parts(a: bytes, b: bytes) -> list[str]:
    import io

    with zipfile.ZipFile(io.BytesIO(a)) as za, zipfile.ZipFile(io.BytesIO(b)) as zb:
        names = sorted(set(za.namelist()) | set(zb.namelist()))
        return [n for n in names if n not in za.namelist() or n not in zb.namelist() or za.read(n) != zb.read(n)]


def test_committed_workbook_is_the_build_output(built: Path):
    """Byte equality: the build is deterministic (fixed timestamps), so the committed .xlsm must be exactly
    a fresh build of the sources (VBA files, udfs.functions, sample data, policy defaults, the engine's
    cached results, the build tools' versions). When this fails, run: python -m workbook.build"""
    assert COMMITTED.is_file(), "workbook/CreditControl.xlsm is missing: run python -m workbook.build"
    committed, fresh = COMMITTED.read_bytes(), built.read_bytes()
    assert committed == fresh, (f"stale workbook: run python -m workbook.build (parts that differ: "
                                f"{_differing_parts(committed, fresh)}; built here with {build.tool_versions()})")


def test_the_script_entry_point_builds_the_same_bytes(tmp_path: Path, built: Path):
    out = tmp_path / "script.xlsm"
    run = subprocess.run([sys.executable, str(ROOT / "workbook" / "build.py"), "--out", str(out)],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == built.read_bytes()


def test_check_mode_tells_a_stale_file(tmp_path: Path, built: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]):
    monkeypatch.setattr(build, "build_bytes", lambda **_kw: built.read_bytes())
    out = tmp_path / "check.xlsm"
    out.write_bytes(built.read_bytes())
    assert build.main(["--check", "--out", str(out)]) == 0
    assert "up to date" in capsys.readouterr().out
    out.write_bytes(built.read_bytes() + b"\0")
    assert build.main(["--check", "--out", str(out)]) == 1
    assert "STALE - run: python -m workbook.build" in capsys.readouterr().out
    assert out.read_bytes() == built.read_bytes() + b"\0"  # --check never writes


# =========================================================================== the VBA project
def test_olevba_reads_every_module_back_identical_to_its_source(built: Path):
    modules = _modules(built)
    for file_name, kind in build.VBA_SOURCES:
        source = _source(file_name)
        name = build.module_name(source)
        olevba_name, code = modules[name]
        if kind == "standard":
            assert olevba_name == f"{name}.bas"
            assert code == source, file_name
        else:
            assert olevba_name == f"{name}.cls"
            assert code == _stream_form(source), file_name
    udfs = build.udf_wrappers()
    assert udfs is not None, "udfs.functions should be importable in this repository"
    assert modules["xlwings_udfs"][1] == udfs


def test_document_modules_match_the_sheet_code_names(built: Path):
    modules = _modules(built)
    documents = {name for name, (_f, code) in modules.items() if "VB_PredeclaredId = True" in code}
    assert documents == {layout.WORKBOOK_CODE_NAME, *layout.CODE_NAMES.values()}
    with zipfile.ZipFile(built) as z:
        book = z.read("xl/workbook.xml").decode()
        assert f'codeName="{layout.WORKBOOK_CODE_NAME}"' in book
        parts = io_workbook._sheet_parts(z)
        for sheet, code_name in layout.CODE_NAMES.items():
            assert f'<sheetPr codeName="{code_name}"' in z.read(parts[sheet]).decode(), sheet


def test_every_button_runs_a_macro_that_exists(built: Path):
    """Button wiring as Excel reads it: <x:FmlaMacro>[0]!Name</x:FmlaMacro> in the Dashboard's VML drawing,
    each naming a public Sub of the CreditControl module (olevba's source)."""
    with zipfile.ZipFile(built) as z:
        vml_parts = [n for n in z.namelist() if re.fullmatch(r"xl/drawings/vmlDrawing\d+\.vml", n)]
        assert len(vml_parts) == 1
        vml = z.read(vml_parts[0]).decode()
        dashboard_rels = z.read("xl/worksheets/_rels/sheet1.xml.rels").decode()
    assert vml_parts[0].rsplit("/", 1)[1] in dashboard_rels  # the drawing belongs to the Dashboard (sheet1)
    captions = re.findall(r'<font[^>]*>([^<]+)</font>', vml)
    macros = re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml)
    assert list(zip(captions, macros, strict=True)) == list(layout.BUTTONS)
    code = _modules(built)["CreditControl"][1]
    subs = set(re.findall(r"^Public Sub (\w+)\(\)", code, re.M))
    assert set(macros) <= subs
    for macro, job in (("RefreshAgeing", "refresh_ageing"), ("GenerateLetters", "generate_letters"),
                       ("ReviewPortfolio", "review_portfolio"), ("Worklist", "worklist"),
                       ("Statements", "generate_statements"), ("SendLetters", "send_letters"),
                       ("PolicyAudit", "policy_audit"), ("MatchBank", "match_bank"),
                       ("ApplyMatches", "apply_bank_matches")):
        body = re.search(rf"Sub {macro}\(\)(.*?)End Sub", code, re.S).group(1)
        assert f'RunPython "import xlcredit.excel as x; x.{job}()"' in body
    assert "Function RunPython(" in _modules(built)["xlwings"][1]


def test_xlwings_conf_sheet_reads_as_xlwings_reads_it(built: Path, values: openpyxl.Workbook):
    """xlwings.bas GetConfigFromSheet: keys from A1 down to the first blank cell of column A, UCase'd,
    values from column B."""
    ws = values["xlwings.conf"]
    settings = {}
    row = 1
    while ws.cell(row, 1).value not in (None, ""):
        settings[str(ws.cell(row, 1).value).upper()] = ws.cell(row, 2).value
        row += 1
    assert settings == {
        "INTERPRETER_WIN": None, "INTERPRETER_MAC": None, "PYTHONPATH": None, "UDF MODULES": "udfs.functions",
        "DEBUG UDFS": False, "XLCREDIT_DB": None, "XLCREDIT_SERVER_URL": None, "XLCREDIT_API_KEY": None,
        "XLCREDIT_SERVER_TIMEOUT": None,
    }
    assert io_workbook.read_config(built)["UDF Modules"] == "udfs.functions"


# =========================================================================== sheets and tables
def test_input_and_output_sheets_are_declared_once_and_cover_the_workbook(formulas: openpyxl.Workbook):
    assert layout.INPUT_SHEETS is io_workbook.INPUT_SHEETS and layout.OUTPUT_SHEETS is io_workbook.OUTPUT_SHEETS
    book = formulas
    assert tuple(book.sheetnames) == layout.SHEET_ORDER
    roles = [(name in layout.INPUT_SHEETS) + (name in layout.OUTPUT_SHEETS) + (name == layout.DASHBOARD_SHEET)
             for name in book.sheetnames]
    assert roles == [1] * len(roles)


def test_customers_formula_columns_use_explicit_structured_references(built: Path, formulas: openpyxl.Workbook):
    ws = formulas["Customers"]
    table = ws.tables["Customers"]
    header = [c.value for c in ws[1]]
    assert header[:2] == ["Customer ID", "Name"]                      # headers in words; read back as fields
    assert [c for c in header if c not in layout.CUSTOMER_FORMULA_COLUMNS and "_" in c] == []
    assert [io_workbook.field_name(c) for c in header[:2]] == ["customer_id", "name"]
    assert header[2:2 + len(layout.CUSTOMER_FORMULA_COLUMNS)] == list(layout.CUSTOMER_FORMULA_COLUMNS)
    assert table.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}61"
    udf_module = build.udf_wrappers()
    for j, (head, function) in enumerate(layout.CUSTOMER_FORMULA_COLUMNS.items(), start=3):
        extra = "".join(f", {a}" for a in [layout.CUSTOMER_FORMULA_ARGS.get(head)] if a)
        expected = f"={function}(Customers[[#This Row],[Customer ID]]{extra})"
        assert {ws.cell(r, j).value for r in range(2, 62)} == {expected}, head
        assert f"Function {function.lower()}(" in udf_module
    with zipfile.ZipFile(built) as z:
        assert "[@" not in z.read("xl/tables/table1.xml").decode()


def test_customers_cached_results_are_the_engines(values: openpyxl.Workbook):
    """The cached results (shown until Excel recalculates, and by LibreOffice) are what the engine gives for
    the sample customers as of 2026-10-31, computed here independently from the sample CSV."""
    from xlcredit.core.limits import recommend_limits
    from xlcredit.core.scoring import score_customer
    from xlcredit.core.terms import terms_for
    from xlcredit.io.tables import read_customers

    customers = read_customers(sample_path("customers")).customers
    policy = Policy()
    scores = {c.customer_id: score_customer(c, policy, SAMPLE_AS_OF) for c in customers}
    limits = {r.customer_id: r.limit for r in
              recommend_limits(customers, {k: v.grade for k, v in scores.items()}, policy, SAMPLE_AS_OF)}
    ws = values["Customers"]
    header = [c.value for c in ws[1]]
    col = {h: header.index(h) for h in header}
    seen = 0
    for row in ws.iter_rows(min_row=2, values_only=True):
        customer = next(c for c in customers if c.customer_id == row[0])
        assert row[col["Score"]] == scores[row[0]].score
        assert row[col["Grade"]] == scores[row[0]].grade
        assert Decimal(str(row[col["Limit"]])) == limits[row[0]]
        terms = terms_for(customer, scores[row[0]].grade, policy, SAMPLE_AS_OF)
        assert row[col["Terms"]] == terms.label
        assert Decimal(str(row[col["Deposit"]])) == terms.deposit_share
        assert isinstance(row[col["Stage"]], str) and row[col["Stage"]]
        assert isinstance(row[col["Available"]], float)
        assert row[col["Next order"]] == "Release" or row[col["Next order"]].startswith("Hold: ")
        seen += 1
    assert seen == len(customers) == 60


def test_input_tables_hold_the_sample_data(built: Path, formulas: openpyxl.Workbook):
    tables = io_workbook.read_tables(built)
    from xlcredit.data.sample import SAMPLE_DIR
    from xlcredit.io.collector import COLUMNS
    from xlcredit.io.tables import alias_index, normalise_header

    for spec in layout.INPUT_TABLES:
        if spec.key in COLUMNS:   # the collector's files have headers in words: the sheet reads back field names
            csv_text = (SAMPLE_DIR / f"{spec.key}.csv").read_text(encoding="utf-8").splitlines()
            index = alias_index(COLUMNS[spec.key])
            expected = [index[normalise_header(h)] for h in csv_text[0].split(",")]
        else:
            csv_text = sample_path(spec.key).read_text(encoding="utf-8").splitlines()
            expected = csv_text[0].split(",")
            if spec.key == "payments":   # the column Apply Matches fills, blank in the sample
                expected.append("bank_reference")
                assert all(v is None for v in tables["payments"]["bank_reference"])
        assert list(tables[spec.key].columns) == expected, spec.key
        assert len(tables[spec.key]) == len(csv_text) - 1, spec.key
    for spec in layout.INPUT_TABLES:
        assert spec.table in formulas[spec.sheet].tables


def test_policy_sheet_round_trips_to_the_default_policy(built: Path, formulas: openpyxl.Workbook):
    rows = read_policy_rows(built)
    assert Policy.from_rows(rows) == Policy()
    assert [k for k, _ in rows] == [k for k, _ in Policy().to_rows()]
    ws = formulas["Policy"]
    helps = {ws.cell(r, 1).value: ws.cell(r, 3).value for r in range(2, ws.max_row + 1)}
    assert helps["limits.volume_share"] == Policy.help_texts()["limits.volume_share"]
    assert all(helps[k] for k, _ in rows), "every setting has a help text"


def test_dashboard_figures_labels_and_chart(built: Path, values: openpyxl.Workbook):
    ws = values["Dashboard"]
    for name, ref in layout.KPI_CELLS.items():
        row = int(ref[1:])
        assert ws.cell(row, 2).value == layout.KPI_LABELS[name][0]
        assert isinstance(ws[ref].value, float), name
    buckets = [ws[f"B{r}"].value for r in layout.AGEING_BUCKET_ROWS]
    assert buckets == list(Policy().bucket_labels)
    amounts = [Decimal(str(ws[f"C{r}"].value)) for r in layout.AGEING_BUCKET_ROWS]
    assert sum(amounts) == Decimal(str(ws[f"C{layout.AGEING_TOTAL_ROW}"].value))
    with zipfile.ZipFile(built) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    first, last = layout.AGEING_BUCKET_ROWS[0], layout.AGEING_BUCKET_ROWS[-1]
    assert f"<c:f>'Dashboard'!$B${first}:$B${last}</c:f>" in chart
    assert f"<c:f>'Dashboard'!$C${first}:$C${last}</c:f>" in chart
    with zipfile.ZipFile(built) as z:
        overdue = z.read("xl/charts/chart2.xml").decode()   # the overdue buckets alone, on their own scale
    second = layout.AGEING_BUCKET_ROWS[1]
    assert f"<c:f>'Dashboard'!$C${second}:$C${last}</c:f>" in overdue and "Overdue only" in overdue
    assert "EUR thousand" in overdue and "days past due" in overdue       # axis titles with the unit
    for name in layout.KPI_CELLS:                                         # each KPI explained beside it
        label, _code, note = layout.KPI_LABELS[name]
        assert ws.cell(int(layout.KPI_CELLS[name][1:]), 4).value == note and len(note) <= 64, label


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def test_every_sheet_prints_on_a4_with_a_print_setup(built: Path):
    """Page setup on every sheet (A4, fit to the page width or a fixed scale, header and footer); the long
    ledgers print their first page only; the Dashboard is one page."""
    with zipfile.ZipFile(built) as z:
        names = {s.get("name"): s for s in ElementTree.fromstring(z.read("xl/workbook.xml")).iter(f"{{{MAIN}}}sheet")}
        book_xml = z.read("xl/workbook.xml").decode()
        rels = {r.get("Id"): r.get("Target") for r in ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
        for name, sheet in names.items():
            xml = z.read("xl/" + rels[sheet.get(f"{{{REL}}}id")]).decode()
            assert 'paperSize="9"' in xml and "<headerFooter" in xml, name
            assert 'fitToPage="1"' in xml or 'scale="75"' in xml, name
    for sheet in ("Invoices", "Payments"):
        area = re.search(rf"<definedName name=\"_xlnm.Print_Area\" localSheetId=\"\d+\">{sheet}!([^<]+)<", book_xml)
        assert area and area.group(1).endswith(f"${build.LEDGER_PRINT_ROWS + 1}"), (sheet, area)
    assert re.search(r"<definedName name=\"_xlnm.Print_Area\" localSheetId=\"0\">Dashboard!\$A\$1:\$R\$", book_xml)


# =========================================================================== the UDF wrapper generator
PLAIN_SUM = (
    "Function plain_sum(a, b)\n"
    '    #If App = "Microsoft Excel" Then\n'
    "        If TypeOf Application.Caller Is Range Then On Error GoTo failed\n"
    '        plain_sum = XLPy.CallUDF("xlc_udf_fixture", "plain_sum", Array(a, b), ThisWorkbook, Application.Caller)\n'
    "        Exit Function\n"
    "    #Else\n"
    '        plain_sum = XLPy.CallUDF("xlc_udf_fixture", "plain_sum", Array(a, b))\n'
    "        Exit Function\n"
    "    #End If\n"
    "failed:\n"
    "    plain_sum = Err.Description\n"
    "End Function\n"
    "\n"
)


@pytest.fixture
def fixture_module(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(FIXTURES))
    return collect("xlc_udf_fixture")


def test_wrapper_text_has_the_form_xlwings_writes(fixture_module):
    """Form read from xlwings/udfs.py generate_vba_wrapper (0.37.8): #If App blocks, XLPy.CallUDF with the
    module name, ThisWorkbook and Application.Caller, the failed: label returning Err.Description."""
    text = wrappers_for("xlc_udf_fixture", fixture_module)
    assert PLAIN_SUM in text
    assert "Function late_fee(amount, Optional rate, Optional basis)" in text
    assert "Function today_plus(Optional days)\n" in text
    block = text.split("Function today_plus")[1].split("End Function")[0]
    assert 'If (Not Application.CommandBars("Standard").Controls(1).Enabled) Then Exit Function' in block
    assert "Application.Volatile" in block
    assert "Application.Volatile" not in text.split("Function reset_volatile")[1].split("End Function")[0]
    assert "Function with_caller(x)" in text and "Array(Nothing, x)" in text
    assert "Function with_vba_arg(x)" in text and "Array(ThisWorkbook, x)" in text
    assert "Function many(first, ParamArray rest())" in text
    assert 'Sub a_sub(x)\n    #If App = "Microsoft Excel" Then\n        XLPy.CallUDF "xlc_udf_fixture", "a_sub"' in text
    assert "helper" not in text
    names = re.findall(r"^(?:Function|Sub) (\w+)\(", text, re.M)
    assert names == sorted(names)  # dir() order, as xlwings iterates the module


def test_wrappers_match_xlwings_own_generator():
    """Snapshot against xlwings' generate_vba_wrapper itself, run with stand-ins for pywin32 in a separate
    process (tests/_xlwings_reference.py), on the fixture module and on udfs.functions."""
    env_path = os.pathsep.join([str(FIXTURES), str(ROOT)])
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "_xlwings_reference.py"), "xlc_udf_fixture",
                          "udfs.functions"], capture_output=True, text=True, timeout=300, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": env_path})
    assert run.returncode == 0, run.stderr
    reference = json.loads(run.stdout)
    sys.path.insert(0, str(FIXTURES))
    try:
        for name, text in reference.items():
            assert wrappers_for(name, collect(name)) == text, name
    finally:
        sys.path.remove(str(FIXTURES))


def test_collect_leaves_the_real_module_alone(fixture_module):
    import xlwings as xw

    assert hasattr(fixture_module.plain_sum, "__xlfunc__")
    assert "xlc_udf_fixture" not in sys.modules
    assert xw.func.__module__ == "xlwings"  # the recording decorators are gone again


def test_wrapper_module_header_and_line_ends(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(FIXTURES))
    text = wrapper_module(["xlc_udf_fixture"])
    assert text.startswith('Attribute VB_Name = "xlwings_udfs"\r\n'
                           "'Autogenerated code by xlwings - changes will be lost with next import!\r\n"
                           "#Const App = \"Microsoft Excel\" 'Adjust when using outside of Excel\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert "ActiveWorkbook" in wrapper_module(["xlc_udf_fixture"], addin=True)


@pytest.mark.parametrize(("source", "message"), [
    ("@xw.func\ndef AGE30(x):\n    return x\n", "looks like a cell reference"),
    ("@xw.func\ndef end(x):\n    return x\n", "is a VBA keyword"),
    ("@xw.func\ndef f(date):\n    return date\n", "argument 'date' cannot be a VBA parameter name"),
    ("@xw.func\ndef runpython(x):\n    return x\n", "already a procedure of the workbook's VBA project"),
])
def test_names_vba_or_excel_cannot_use_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str,
                                                    message: str):
    (tmp_path / "xlc_bad_udfs.py").write_text("import xlwings as xw\n\n" + source)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = collect("xlc_bad_udfs")
    with pytest.raises(ValueError, match=re.escape(message)):
        check_names([module], taken={"runpython"})


def test_a_missing_udf_module_leaves_the_wrappers_out():
    assert build.udf_wrappers(("xlc_no_such_udf_module",)) is None
    modules = [name for name, _source, _kind in build.vba_modules(with_udfs=False)]
    assert modules == ["xlwings", "Dictionary", "CreditControl"]
