"""xlwings Lite edition (issue 20, "Done when" #2): ``lite/main.py`` imported under CPython with stand-ins for Lite's
``func``/``arg``/``script``; every catalogue formula is there with the desktop UDF's argument names and docstring,
and gives the desktop's answer on the same inputs, errors included."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import inspect
import sys
from pathlib import Path

import pytest
from _lite_stand_in import as_lite

import udfs.functions as desktop
from udfs import _convert, lite

MAIN = Path(__file__).resolve().parents[1] / "lite" / "main.py"


@pytest.fixture(scope="module")
def main():
    with as_lite() as fake:
        spec = importlib.util.spec_from_file_location("xlcredit_lite_main", MAIN)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    seen = fake.SEEN
    module.seen = seen
    yield module
    _convert.use_session(None)   # back to the desktop behaviour for the other tests


def test_every_catalogue_formula_is_declared_with_the_desktop_signature_and_help(main):
    assert set(lite.CATALOGUE) == set(desktop.__all__) and len(lite.CATALOGUE) == 18
    for name in desktop.__all__:
        formula, original = getattr(main, name), getattr(desktop, name)
        assert formula.__lite_func__ == {"category": "xlcredit"}, name
        assert formula.__name__ == name
        assert list(inspect.signature(formula).parameters) == list(inspect.signature(original).parameters), name
        assert formula.__doc__ == original.__doc__ and formula.__doc__.strip(), name
        # every argument has the desktop's help text
        docs = {a: o.get("doc") for a, o in formula.__lite_args__.items()}
        assert set(docs) == set(inspect.signature(original).parameters), name
        assert all(isinstance(d, str) and d for d in docs.values()), name
    assert main.credit_limit.__lite_args__["customer"]["doc"] == desktop._CUSTOMER
    assert main.late_interest.__lite_args__["amount"] == {"doc": desktop._AMOUNT, "ndim": 2, "err_to_str": True}
    assert set(main.seen["script"]) == {"refresh_ageing", "review_portfolio", "worklist",
                                           "generate_letters_team_service"}


D = dt.date(2026, 9, 30)
SERIAL_D = (D - dt.date(1899, 12, 30)).days   # how Lite hands a date cell over
AS_OF = dt.date(2026, 10, 31)
SERIAL_AS_OF = (AS_OF - dt.date(1899, 12, 30)).days

PURE_CASES = [
    ("days_overdue", (D, AS_OF)), ("days_overdue", ([[D], [AS_OF], ["#N/A"]], AS_OF)),
    ("days_overdue", ("soon", AS_OF)), ("ageing_bucket", (dt.date(2026, 6, 1), AS_OF)),
    ("ageing_bucket", ([[D], [None]], AS_OF)),
    ("late_interest", (1000, D, AS_OF, 0.08)), ("late_interest", (1000, D, AS_OF, 0.08, 360)),
    ("late_interest", ([[1000], [-5], ["x"]], D, AS_OF, 0.08)), ("late_interest", (1000, D, AS_OF, "eight")),
    ("daily_penalty", (10000, D, AS_OF)), ("daily_penalty", (10000, D, AS_OF, 0.001)),
    ("statutory_interest", (5000, dt.date(2024, 1, 31), dt.date(2024, 4, 30), "UK")),
    ("statutory_interest", (5000, dt.date(2024, 1, 31), dt.date(2024, 4, 30), "EU")),
    ("statutory_interest", (5000, D, AS_OF, "FR")),
    ("early_pay_discount", (1000, D, dt.date(2026, 10, 10), "2/10 net 30")),
    ("early_pay_discount", (1000, D, AS_OF, "2/10 sometime")),
    ("score_of", (80, 0.5, 1.2, 0.3, 5, 10)), ("score_of", (None, None, None, None, None, None)),
    ("score_of", (180, 0.5, 1.2, 0.3, 5, 10)), ("grade_of", (72,)), ("grade_of", ("#DIV/0!",)),
    ("dso", (250000, 1000000, 90)), ("dso", (250000, 0, 90)),
    ("credit_limit", ("C1001",)), ("order_check", ("C1001", 1000)),
]


def run(formula, *args):
    """A formula's answer as Lite gets it: the service-aware ones are ``async def`` (Lite awaits them)."""
    answer = formula(*args)
    return asyncio.run(answer) if inspect.iscoroutine(answer) else answer


def _desktop_answer(monkeypatch, tmp_path, name, args):
    """The desktop UDF's answer with no credit database (so the shipped policy, like a fresh Lite session)."""
    monkeypatch.setenv("XLCREDIT_DB", str(tmp_path / "none.sqlite"))
    monkeypatch.delenv("XLCREDIT_SERVER_URL", raising=False)
    previous = _convert.current_session()
    _convert.use_session(None)
    _convert.close_databases()
    try:
        return getattr(desktop, name)(*args)
    finally:
        _convert.use_session(previous)


@pytest.mark.parametrize(("name", "args"), PURE_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(PURE_CASES)])
def test_lite_answers_as_the_desktop(main, monkeypatch, tmp_path, name, args):
    expected = _desktop_answer(monkeypatch, tmp_path, name, args)
    got = run(getattr(main, name), *args)
    if name in ("credit_limit", "order_check"):   # no database vs no Refresh in the session: both say run Refresh
        assert got.startswith("#XLC! database:") and expected.startswith("#XLC! database:")
        assert "run the Refresh Ageing script first" in got
        return
    assert got == expected
    assert type(got) is type(expected)


def test_lite_reads_dates_as_serial_numbers_like_the_desktop(main, monkeypatch, tmp_path):
    assert main.late_interest(1000, SERIAL_D, SERIAL_AS_OF, 0.08) == main.late_interest(1000, D, AS_OF, 0.08)
    assert main.days_overdue(SERIAL_D, SERIAL_AS_OF) == 31


def _bundled_book_in_lite():
    """The bundled workbook as xlwings Lite hands it to a script: the stand-in of Lite's ``Book``
    (``lite/node/xlwings_stand_in.py``, Lite's API only) over its cells, read once with openpyxl."""
    from _lite_stand_in import lite_sheets, stand_in_xlwings

    source = Path(__file__).resolve().parents[1] / "workbook" / "CreditControl.xlsm"
    return source, stand_in_xlwings().Book(source.name, lite_sheets(source))


def test_refresh_script_feeds_the_customer_formulas(main, tmp_path, monkeypatch):
    """The Refresh script over a workbook gives the customer formulas the figures the desktop Refresh gives."""
    source, book = _bundled_book_in_lite()
    message = lite.refresh_ageing(book, AS_OF)
    assert message.startswith("Refreshed "), message
    assert book.alerts == [message]
    assert len(book.written("Ageing")) > 1000 and book.written("Dashboard")
    first = str(book.sheets["Customers"].range("A2").value)
    lite_limit = run(main.credit_limit, first)
    assert isinstance(lite_limit, float), lite_limit
    # the desktop Refresh of the same workbook into a database file, read by the desktop formula
    from xlcredit.jobs.book import WorkbookFile
    from xlcredit.jobs.refresh import refresh

    db = tmp_path / "credit.sqlite"
    copy = tmp_path / "CreditControl.xlsm"
    copy.write_bytes(source.read_bytes())
    refresh(WorkbookFile(copy), AS_OF, store=str(db))
    monkeypatch.setenv("XLCREDIT_DB", str(db))
    previous = _convert.current_session()
    _convert.use_session(None)
    _convert.close_databases()
    try:
        assert desktop.credit_limit(first) == lite_limit
        desk = [desktop.credit_grade(first), desktop.credit_score(first), desktop.order_check(first, 1000)]
    finally:
        _convert.use_session(previous)
        _convert.close_databases()
    assert [run(main.credit_grade, first), run(main.credit_score, first), run(main.order_check, first, 1000)] == desk
    assert run(main.credit_limit, "NOPE-1").startswith("#XLC! customer: unknown customer 'NOPE-1'")


def test_refresh_script_lists_the_bad_rows_and_refreshes_the_rest(main):
    """A bad cell in the workbook: the script refreshes every good row and lists the bad ones in its message, in the
    desktop button's words (``xlcredit.excel._problem_lines``)."""
    from _lite_stand_in import lite_sheets, stand_in_xlwings

    source = Path(__file__).resolve().parents[1] / "workbook" / "CreditControl.xlsm"
    sheets = lite_sheets(source)
    invoices = sheets["Invoices"]["values"]
    invoices[5][invoices[0].index("Amount")] = "abc"
    book = stand_in_xlwings().Book(source.name, sheets)
    message = lite.refresh_ageing(book, AS_OF)
    assert message.startswith("Refreshed 60 customers. 2 rows had problems and were left out:\n"
                              "row 6 amount: is not a number (got 'abc')\nrow 30 invoice_ref: names no invoice of "
                              "customer C011"), message
    assert book.alerts == [message] and book.written("Ageing")


def test_worklist_script_writes_the_desktop_ranking(main):
    """The Worklist script over a workbook writes the Worklist sheet the desktop button writes (same ranking) and
    names who comes first (tests/test_lite_scripts.py compares every cell, from the built wheel)."""
    from xlcredit.io import workbook as wb
    from xlcredit.jobs.book import WorkbookFile
    from xlcredit.jobs.worklist import worklist as desktop_worklist

    source, book = _bundled_book_in_lite()
    message = lite.worklist(book, AS_OF)
    expected = desktop_worklist(WorkbookFile(source), AS_OF, write=False)
    assert message.startswith(f"Worklist as of {AS_OF.isoformat()}: {len(expected.rows)} customer(s)"), message
    assert f"First: {expected.rows[0].customer_id} " in message
    written = book.written("Worklist")
    top = wb.OUTPUT_SHEETS["Worklist"].header_row
    headers = [written[(top, c)] for c in range(1, 30) if written.get((top, c))]
    column = headers.index(wb.header_text("customer_id")) + 1
    ranked = [written[(top + 1 + i, column)] for i in range(len(expected.rows))]
    assert ranked == [r.customer_id for r in expected.rows]


HEAVY = ("sqlalchemy", "fastapi", "reportlab", "docx", "openpyxl", "xlwings", "numpy", "pandas", "pyarrow", "httpx")


def test_the_engine_imports_without_the_heavy_dependencies():
    """Issue 20 #2: the exact reference core (interest, ageing, scoring, limits, the portfolio) imports in a Python
    where SQLAlchemy, FastAPI, reportlab, python-docx, openpyxl, xlwings, numpy, pandas, pyarrow and httpx cannot
    be imported at all (as in a bare Pyodide). numpy is needed only by core.provisioning, core.review and
    core.fast (the bulk kernels)."""
    import subprocess

    code = (
        "import sys\n"
        f"HEAVY = {HEAVY!r}\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in HEAVY:\n"
        "            raise ImportError(f'blocked: {name}')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import xlcredit.core.interest, xlcredit.core.ageing, xlcredit.core.scoring, xlcredit.core.limits\n"
        "import xlcredit.core.portfolio, xlcredit.core.terms, xlcredit.core.kpis\n"
        "try:\n"
        "    import xlcredit.core.provisioning\n"
        "except ImportError as exc:\n"
        "    print('provisioning:', exc)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["provisioning: blocked: numpy", "ok"]


# =========================================================================== error cells (issue 20, item 3)
#: An error cell as Office.js hands it to a Lite custom function (custom functions registered with
#: ``allowErrorForDataTypeAny``): xlwings' converter gives ``basicValue`` ("#N/A") with ``err_to_str``, else None.
NA_OBJECT = {"type": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}
FIRST_CASE = {name: args for name, args in reversed(PURE_CASES)}


def test_every_argument_is_declared_err_to_str_so_lite_hands_over_the_error_text(main):
    for name in lite.CATALOGUE:
        formula = getattr(main, name)
        assert all(o.get("err_to_str") is True for o in formula.__lite_args__.values()), name


def test_office_js_error_objects_read_as_the_text_excel_shows():
    assert lite.excel_value_in(NA_OBJECT) == "#N/A"
    assert lite.excel_value_in({"type": "Error", "errorType": "Div0"}) == "#DIV/0!"
    assert lite.excel_value_in([[1], [{"type": "Error", "errorType": "Ref"}]]) == [[1], ["#REF!"]]
    assert lite.excel_value_in({"type": "Error", "errorType": "NewKind"}) == "#VALUE!"
    assert lite.excel_value_in({"type": "Double", "basicValue": 3}) == {"type": "Double", "basicValue": 3}


@pytest.mark.parametrize("name", sorted(FIRST_CASE))
def test_an_error_cell_in_any_argument_answers_as_the_desktop(main, monkeypatch, tmp_path, name):
    args = FIRST_CASE[name]
    for i in range(len(args)):
        as_lite = [NA_OBJECT if j == i else a for j, a in enumerate(args)]
        as_desktop = ["#N/A" if j == i else a for j, a in enumerate(args)]
        expected = _desktop_answer(monkeypatch, tmp_path, name, as_desktop)
        got = run(getattr(main, name), *as_lite)
        if isinstance(expected, str) and expected.startswith("#XLC! database:"):
            assert got.startswith("#XLC! database:"), (i, got)   # no Refresh anywhere: both say so first
            continue
        assert got == expected, (i, got, expected)
        param = list(inspect.signature(getattr(desktop, name)).parameters)[i]
        shown = got if isinstance(got, str) else got[0][0]
        assert shown.startswith(f"#XLC! {param}: source cell shows #N/A"), (i, shown)


def test_the_package_shows_the_plugin_declarations_to_a_member_scan(main):
    """xlwings Lite registers what it finds marked among a module's members (main.py's); the package xlcredit_lite
    shows the plugin's formulas and script as its own members, so a scan of the package finds them all too."""
    import xlcredit_lite

    members = dict(inspect.getmembers(xlcredit_lite))
    assert {n for n, o in members.items() if hasattr(o, "__lite_func__")} == set(lite.CATALOGUE)
    assert {n for n, o in members.items() if hasattr(o, "__lite_script__")} == {"generate_letters_team_service"}
    assert members["credit_limit"] is main.credit_limit
