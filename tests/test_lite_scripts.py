"""The Refresh Ageing, Review Portfolio and Worklist scripts in xlwings Lite (issue 20, item 1): run from the
built xlcredit-lite wheel, in a Python that has only what a Lite workbook has, over a stand-in of Lite's ``Book``
holding the bundled workbook, they write what the desktop buttons write — cell for cell.

How: ``lite/node/script_cases.py`` runs in a separate interpreter (``python -I -S``) whose ``sys.path`` is the
unpacked wheel, the stand-in ``xlwings`` (``lite/node/xlwings_stand_in.py``: Lite's ``Book`` API only, over plain
cell values read once with openpyxl) and the site-packages of this virtualenv behind an import blocker that
refuses pyarrow, openpyxl, XlsxWriter, reportlab, python-docx, FastAPI, httpx, numba … and any
``xlcredit``/``udfs``/``xlwings`` that is not the wheel's or the stand-in's; starting a process is refused. The
scripts of ``lite/main.py`` run there one after the other (each on a fresh ``Book`` of the workbook as the
previous one left it, as Lite hands each script the workbook anew), as of 2026-10-31. The desktop side is
``xlcredit.jobs.*`` over ``WorkbookFile`` (the .xlsm written on disk) with a credit database file.

Found: Refresh Ageing (Ageing sheet, Dashboard) and Worklist (Worklist sheet) equal the desktop's, and the customer
formulas after the Refresh answer as the desktop formulas do. Review Portfolio too: its bulk
ageing (``xlcredit.core.fast.ageing.frames_to_arrays``) reads the ledger through pyarrow where it can; Pyodide does
not ship it, so there ids, amounts and invoice numbers go through pandas alone (``xlcredit.core.fast.labels``) and
the Review sheet and Dashboard forecast are the desktop's exactly — with pyarrow let through, too.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import json
import pickle
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from _lite_stand_in import LITE_DIR, lite_sheets, stand_in_xlwings

from udfs import _convert

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("lite_build_wheel", LITE_DIR / "build_wheel.py")
build_wheel = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_wheel)
WORKBOOK = REPO / "workbook" / "CreditControl.xlsm"
AS_OF = dt.date(2026, 10, 31)
#: The customer formulas compared after the Refresh (all take the customer; ORDER_CHECK an order amount too).
CUSTOMER_FORMULAS = ("credit_limit", "credit_score", "credit_grade", "credit_available", "credit_terms",
                     "deposit_required", "dunning_stage", "credit_explain")
#: What the scripts may import beyond the standard library: the wheel, Lite's xlwings, pandas, numpy, SQLAlchemy
#: and what those three import themselves (all in Pyodide 0.28's distribution), and compiled helpers' modules.
ALLOWED_IMPORTS = {"xlcredit", "udfs", "xlcredit_lite", "xlwings", "pandas", "numpy", "sqlalchemy", "dateutil",
                   "pytz", "six", "typing_extensions", "tzdata", "__main__", "cython_runtime", "_cyutility"}


def _customer_ids() -> list[str]:
    values = lite_sheets(WORKBOOK)["Customers"]["values"]
    return [str(row[0]) for row in values[1:] if row and row[0] not in (None, "")]


def _formula_cases() -> list[tuple[str, list]]:
    cases = [(name, [cid]) for cid in _customer_ids() for name in CUSTOMER_FORMULAS]
    cases += [("order_check", [cid, 1000]) for cid in _customer_ids()]
    return [*cases, ("credit_limit", ["NOPE-1"])]


def _run_in_lite(tmp: Path, *, allow: tuple[str, ...] = (), scripts_path: Path | None = None,
                 mutate: dict[str, str] | None = None) -> dict:
    """The three scripts of ``lite/main.py`` in the isolated interpreter, from the built wheel (``mutate``: text
    appended to files of the unpacked wheel, to show the test catches a heavy import)."""
    wheel = build_wheel.build(tmp / "dist")
    site = tmp / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    for rel, text in (mutate or {}).items():
        with (site / rel).open("a", encoding="utf-8") as f:
            f.write(text)
    standin = tmp / "standin"
    (standin / "xlwings").mkdir(parents=True)
    shutil.copy(LITE_DIR / "node" / "xlwings_stand_in.py", standin / "xlwings" / "__init__.py")
    case = {"wheel": str(site), "standin": str(standin), "site_packages": sysconfig.get_paths()["purelib"],
            "main": str(scripts_path or LITE_DIR / "main.py"), "name": WORKBOOK.name,
            "sheets": lite_sheets(WORKBOOK), "as_of": AS_OF, "formulas": _formula_cases(), "allow": allow}
    (tmp / "case.pickle").write_bytes(pickle.dumps(case))
    done = subprocess.run([sys.executable, "-I", "-S", str(LITE_DIR / "node" / "script_cases.py"),
                           str(tmp / "case.pickle"), str(tmp / "out.json")],
                          capture_output=True, text=True, timeout=600, cwd=tmp)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads((tmp / "out.json").read_text(encoding="utf-8"))
    out["stdout"] = done.stdout
    return out


@pytest.fixture(scope="module")
def in_lite(tmp_path_factory) -> dict:
    return _run_in_lite(tmp_path_factory.mktemp("lite"))


@pytest.fixture(scope="module")
def with_pyarrow(tmp_path_factory) -> dict:
    """The same, with pyarrow let through (it is not in Pyodide): the Arrow path of the bulk ageing."""
    return _run_in_lite(tmp_path_factory.mktemp("lite_arrow"), allow=("pyarrow", "cloudpickle"))


@pytest.fixture(scope="module")
def desktop(tmp_path_factory) -> dict:
    """The desktop jobs on a copy of the workbook file: the workbook after each job, and the customer formulas'
    answers over the credit database the Refresh wrote."""
    from xlcredit.jobs.book import WorkbookFile
    from xlcredit.jobs.refresh import refresh
    from xlcredit.jobs.review import review
    from xlcredit.jobs.worklist import worklist

    tmp = tmp_path_factory.mktemp("desktop")
    book, db = tmp / WORKBOOK.name, tmp / "credit.sqlite"
    shutil.copy(WORKBOOK, book)
    after: dict[str, Path] = {}
    answers = {}
    for name, job in (("refresh_ageing", refresh), ("review_portfolio", review), ("worklist", worklist)):
        job(WorkbookFile(book), AS_OF, store=str(db))
        after[name] = tmp / f"after_{name}.xlsm"
        shutil.copy(book, after[name])
        if name == "refresh_ageing":   # the desktop formulas over the database the Refresh wrote
            answers = _desktop_formulas(db)
    return {"after": after, "formulas": answers}


def _desktop_formulas(db: Path) -> dict:
    import udfs.functions as functions

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLCREDIT_DB", str(db))
        mp.delenv("XLCREDIT_SERVER_URL", raising=False)
        previous = _convert.current_session()
        _convert.use_session(None)
        _convert.close_databases()
        try:
            return {f"{name}{tuple(args)!r}": getattr(functions, name)(*args) for name, args in _formula_cases()}
        finally:
            _convert.close_databases()
            _convert.use_session(previous)


# =========================================================================== comparing sheets
def _canon(value):
    """A cell as Excel shows it: numbers as numbers (1 = 1.0), dates as dates, empty as None."""
    if isinstance(value, dict):   # a date written by the script, as JSON
        value = dt.datetime.fromisoformat(value.get("date") or value["datetime"])
    if value is None or value == "":
        return None
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _lite_states(out: dict) -> dict[str, dict[str, list[list]]]:
    """The workbook after each script: the bundled workbook's cells with every script's writes applied in turn."""
    from openpyxl.utils import coordinate_to_tuple

    state = {name: [list(r) for r in spec["values"]] for name, spec in lite_sheets(WORKBOOK).items()}
    states = {}
    for script in ("refresh_ageing", "review_portfolio", "worklist"):
        for sheet, cells in out["scripts"][script]["written"].items():
            grid = state[sheet]
            for ref, value in cells.items():
                r, c = coordinate_to_tuple(ref)
                while len(grid) < r:
                    grid.append([])
                while len(grid[r - 1]) < c:
                    grid[r - 1].append(None)
                grid[r - 1][c - 1] = value
        states[script] = copy.deepcopy(state)
    return states


def _differences(lite_grid: list[list], path: Path, sheet: str, skip: frozenset[str] = frozenset()) -> list:
    """Every cell of ``sheet`` where the Lite workbook and the desktop's file differ (A1 refs in ``skip`` left out)."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    ws = openpyxl.load_workbook(path)[sheet]
    rows = max(ws.max_row, len(lite_grid))
    columns = max(ws.max_column, max((len(r) for r in lite_grid), default=0))
    found = []
    for r in range(1, rows + 1):
        for c in range(1, columns + 1):
            ref = f"{get_column_letter(c)}{r}"
            if ref in skip:
                continue
            mine = lite_grid[r - 1][c - 1] if r <= len(lite_grid) and c <= len(lite_grid[r - 1]) else None
            theirs = ws.cell(r, c).value
            if _canon(mine) != _canon(theirs):
                found.append((ref, _canon(mine), _canon(theirs)))
    return found


#: The Dashboard's "refreshed at" cell holds the clock time of the run (different runs, different seconds).
REFRESHED_AT = frozenset({"C3"})


# =========================================================================== the tests
def test_the_scripts_use_only_the_wheel_lite_xlwings_pandas_numpy_and_sqlalchemy(in_lite):
    extra = {m for m in in_lite["modules"] if m not in ALLOWED_IMPORTS and not m.startswith(("_cython_",
                                                                                              "_sysconfigdata"))}
    assert extra == set(), extra
    assert {"pandas", "numpy", "sqlalchemy", "xlcredit", "udfs", "xlwings"} <= set(in_lite["modules"])
    site = str(Path(in_lite["xlwings_from"]).parents[2] / "site")
    assert all(folder.startswith(site) for folder in in_lite["xlcredit_from"]), in_lite["xlcredit_from"]
    assert in_lite["xlwings_from"].endswith("standin/xlwings/__init__.py")
    assert in_lite["threads"] == ["MainThread"]   # no thread started (Pyodide has none)
    # the modules the three scripts ran: the jobs and the adapter from the wheel, nothing of letters/service/CLI
    ran = set(in_lite["xlcredit_modules"])
    assert {"xlcredit.jobs.refresh", "xlcredit.jobs.review", "xlcredit.jobs.worklist", "xlcredit.excel"} <= ran
    assert not {m for m in ran if m.startswith(("xlcredit.letters", "xlcredit.service", "xlcredit.cli",
                                                 "xlcredit.jobs.letters", "xlcredit.bulk"))}
    assert in_lite["declared_scripts"] == ["generate_letters_team_service", "refresh_ageing", "review_portfolio",
                                           "worklist"]


def test_refresh_ageing_writes_the_ageing_sheet_and_dashboard_the_desktop_writes(in_lite, desktop):
    refresh = in_lite["scripts"]["refresh_ageing"]
    assert refresh["alerts"] == [f"Refreshed {len(_customer_ids())} customers."]
    assert set(refresh["written"]) == {"Ageing", "Dashboard"}
    assert "setValues" in refresh["actions"] and "rangeClearContents" in refresh["actions"]
    state = _lite_states(in_lite)["refresh_ageing"]
    after = desktop["after"]["refresh_ageing"]
    assert _differences(state["Ageing"], after, "Ageing") == []
    assert _differences(state["Dashboard"], after, "Dashboard", skip=REFRESHED_AT) == []
    stamped = in_lite["scripts"]["refresh_ageing"]["written"]["Dashboard"]["C3"]
    assert "datetime" in stamped   # the refresh time is written, as on the desktop
    assert len(refresh["written"]["Ageing"]) > 1000   # a real sheet, not an empty one matching an empty one


def test_worklist_writes_the_worklist_sheet_the_desktop_writes(in_lite, desktop):
    worklist = in_lite["scripts"]["worklist"]
    assert worklist["alerts"][0].startswith(f"Worklist as of {AS_OF.isoformat()}: ")
    assert set(worklist["written"]) == {"Worklist"}
    state = _lite_states(in_lite)["worklist"]
    assert _differences(state["Worklist"], desktop["after"]["worklist"], "Worklist") == []
    assert len(worklist["written"]["Worklist"]) > 500


def test_the_customer_formulas_after_refresh_answer_as_the_desktop(in_lite, desktop):
    assert in_lite["formulas"].keys() == desktop["formulas"].keys()
    assert len(in_lite["formulas"]) == 9 * len(_customer_ids()) + 1
    assert in_lite["formulas"] == desktop["formulas"]
    assert in_lite["formulas"]["credit_limit('NOPE-1',)"].startswith("#XLC! customer: unknown customer 'NOPE-1'")
    assert isinstance(in_lite["formulas"]["credit_limit('C001',)"], float)


@pytest.mark.parametrize("run", ["in_lite", "with_pyarrow"])
def test_review_portfolio_writes_the_desktop_review_sheet(run, desktop, request):
    """Review Portfolio in Lite (no pyarrow: ids, amounts and invoice numbers go through pandas alone,
    ``xlcredit.core.fast.labels``) writes the desktop's Review sheet and Dashboard forecast exactly — and the same
    with pyarrow let through."""
    out = request.getfixturevalue(run)
    review = out["scripts"]["review_portfolio"]
    assert review["alerts"][0].startswith("Reviewed 60 customers: "), review["alerts"]
    state = _lite_states(out)["review_portfolio"]
    after = desktop["after"]["review_portfolio"]
    assert _differences(state["Review"], after, "Review") == []
    assert _differences(state["Dashboard"], after, "Dashboard", skip=REFRESHED_AT) == []
    assert len(review["written"]["Review"]) > 500


def test_a_heavy_import_coming_back_is_caught(tmp_path):
    """If the script path imported openpyxl again (here: appended to the wheel's workbook module), the scripts
    fail in Lite — and so does this test's run: nothing is written, the message names openpyxl."""
    out = _run_in_lite(tmp_path, mutate={"xlcredit/io/workbook.py": "\nimport openpyxl  # noqa\n"})
    refresh = out["scripts"]["refresh_ageing"]
    assert refresh["written"] == {}
    assert "openpyxl" in refresh["alerts"][0]
    assert "openpyxl" in out["refused"]


# =========================================================================== the stand-in is Lite's Book, no more
def _book(**sheets):
    xlwings = stand_in_xlwings()
    return xlwings.Book("Book1.xlsx", {name: {"values": values, "tables": tables}
                                       for name, (values, tables) in sheets.items()})


def test_the_stand_in_reads_as_lite_does():
    import pandas as pd

    book = _book(Data=([["Customer ID", "Amount", "Due"], ["C1", 100, dt.datetime(2026, 9, 30)],
                        ["C2", 2.5, None], [None, None, None], ["after", "the", "gap"]],
                       {"Items": "A1:C3"}))
    sheet = book.sheets["Data"]
    assert [s.name for s in book.sheets] == ["Data"] and book.sheets(1) is not None
    assert sheet.range("A1").value == "Customer ID"
    assert sheet.range("A1").expand().address == "$A$1:$C$3"   # stops at the blank row
    assert sheet.range("A1").expand("down").resize(column_size=2).value == [["Customer ID", "Amount"],
                                                                           ["C1", 100], ["C2", 2.5]]
    assert sheet.range("B2:B3").value == [100, 2.5] and sheet.range((2, 1), (2, 2)).value == ["C1", 100]
    assert sheet.range("A2").options(ndim=2).value == [["C1"]]
    table = {t.name: t for t in sheet.tables}["Items"]
    frame = table.range.options(pd.DataFrame, index=False, header=True).value
    assert list(frame.columns) == ["Customer ID", "Amount", "Due"] and frame["Amount"].tolist() == [100, 2.5]
    assert table.header_row_range.value == ["Customer ID", "Amount", "Due"]
    assert sheet.range("Items").address == "$A$2:$C$3"   # a table's name is its body
    assert sheet.used_range.last_cell.address == "$C$5"


def test_the_stand_in_writes_as_lite_does_and_refuses_what_lite_refuses():
    from decimal import Decimal

    book = _book(Out=([["x", 1], ["y", 2]], {}))
    sheet = book.sheets["Out"]
    sheet.range("A1").value = [["a", dt.date(2026, 1, 2)], ["b", None]]
    assert sheet.range("A1").value == "x"   # the snapshot: a write is not read back in the same script
    sheet.range("B2").clear_contents()
    assert book.state()["Out"]["values"] == [["a", dt.date(2026, 1, 2)], ["b", None]]
    assert book.written("Out") == {(1, 1): "a", (1, 2): dt.date(2026, 1, 2), (2, 1): "b", (2, 2): None}
    sheet.range("A1").number_format = "0.00"   # Lite: an action
    with pytest.raises(NotImplementedError, match="number_format"):
        _ = sheet.range("A1").number_format   # Lite cannot read it synchronously
    with pytest.raises(NotImplementedError, match="current_region"):
        _ = sheet.range("A1").current_region
    with pytest.raises(TypeError, match="cannot send a Decimal"):
        sheet.range("A1").value = [[Decimal("1.50")]]
    for desktop_only in ("save", "api", "caller", "activate"):
        assert not hasattr(book, desktop_only), desktop_only
    assert not hasattr(book.app, "screen_updating") and not hasattr(sheet, "api")
    book.app.alert("done", title="xlcredit")
    assert book.alerts == ["done"] and ("alert", "xlcredit", "done") in book.actions
