"""The Refresh Ageing, Review Portfolio and Worklist scripts of ``lite/main.py`` run as xlwings Lite runs them, in a
Python that has only what a Lite workbook has: the xlcredit-lite wheel, pandas, numpy and SQLAlchemy (Pyodide
ships them), the standard library, and Lite's ``xlwings`` (here its stand-in, ``xlwings_stand_in.py``, whose
``Book`` holds the workbook's cell values and allows only Lite's API).

``python -I -S script_cases.py CASE.pickle OUT.json`` (tests/test_lite_scripts.py writes CASE: the folders to put
on ``sys.path``, the workbook's sheets, the as-of date, the path of main.py). An import blocker refuses every
package a Lite workbook would not have — pyarrow, openpyxl, XlsxWriter, reportlab, python-docx, FastAPI, httpx,
numba … — and any ``xlcredit``/``udfs``/``xlwings`` that is not the wheel's or the stand-in's; starting a
subprocess is refused too (an audit hook), and the threads alive at the end are reported. Writes what Excel
would then show: the cells each script wrote, the messages, the customer formulas' answers, the imports.
"""

from __future__ import annotations

import datetime as dt
import importlib.abc
import importlib.machinery
import importlib.util
import json
import pickle
import sys
import types
from pathlib import Path

#: Packages a Lite workbook does not have (not in Pyodide's distribution, or desktop-only), refused at import.
BLOCKED = frozenset({"pyarrow", "openpyxl", "xlsxwriter", "reportlab", "docx", "fastapi", "starlette", "uvicorn",
                     "httpx", "httpcore", "requests", "numba", "llvmlite", "duckdb", "polars", "dask", "pypdf",
                     "typer", "click", "psycopg", "psycopg2", "zxingcpp", "qrcode", "PIL", "cloudpickle",
                     "greenlet"})
#: Packages that must come from one folder only (the wheel, the stand-in).
PINNED = {"xlcredit": "wheel", "udfs": "wheel", "xlcredit_lite": "wheel", "xlwings": "standin"}


class Blocker(importlib.abc.MetaPathFinder):
    """Refuses the blocked packages, and a pinned package found anywhere but its folder."""

    def __init__(self, folders: dict[str, str], allowed: frozenset[str] = frozenset()) -> None:
        self.folders, self.allowed = folders, allowed
        self.refused: list[str] = []

    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in BLOCKED and top not in self.allowed:
            self.refused.append(name)
            raise ModuleNotFoundError(f"blocked in the Lite stand-in: {name}", name=name)
        if top in PINNED and "." not in name:
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            folder = self.folders[PINNED[top]]
            places = list(spec.submodule_search_locations or []) if spec else []
            origin = str((spec.origin if spec else None) or (places[0] if places else ""))
            if spec is None or not origin.startswith(folder):
                raise ModuleNotFoundError(f"{name} must come from {folder} (found: {origin or 'nothing'})", name=name)
            return spec
        return None


def _no_subprocess(event: str, args: tuple) -> None:
    if event in ("subprocess.Popen", "os.system", "os.posix_spawn", "os.fork", "os.exec", "os.spawn"):
        raise RuntimeError(f"a Lite workbook cannot start processes ({event})")


def _plain(value):
    """A cell value as JSON: dates as ISO text tagged ``{"date": …}``."""
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    return value


def main(case_path: str, out_path: str) -> int:
    case = pickle.loads(Path(case_path).read_bytes())
    folders = {"wheel": case["wheel"], "standin": case["standin"]}
    sys.path[:0] = [case["wheel"], case["standin"]]
    sys.path.append(case["site_packages"])
    blocker = Blocker(folders, allowed=frozenset(case.get("allow", ())))
    sys.meta_path.insert(0, blocker)
    sys.addaudithook(_no_subprocess)
    import threading

    import xlwings  # the stand-in: Lite's own xlwings

    spec = importlib.util.spec_from_file_location("main", case["main"])
    main_py = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main_py)
    from udfs import lite

    class Today(dt.date):   # the scripts run "today": fixed at the case's as-of date
        @classmethod
        def today(cls):
            return case["as_of"]

    lite.dt = types.SimpleNamespace(date=Today, datetime=dt.datetime, timedelta=dt.timedelta)

    out: dict = {"scripts": {}, "formulas": {}}
    state = case["sheets"]
    for script in ("refresh_ageing", "review_portfolio", "worklist"):
        book = xlwings.Book(case["name"], state)
        getattr(main_py, script)(book)
        out["scripts"][script] = {
            "alerts": book.alerts,
            "written": {sheet.name: {f"{xlwings.column_letters(c)}{r}": _plain(v)
                                     for (r, c), v in sorted(book.written(sheet.name).items())}
                        for sheet in book.sheets if book.written(sheet.name)},
            "actions": sorted({a[0] for a in book.actions}),
        }
        state = book.state()
        if script == "refresh_ageing":   # the customer formulas read what this Refresh left in the session
            for name, args in case["formulas"]:
                answer = getattr(main_py, name)(*args)
                if hasattr(answer, "__await__"):
                    import asyncio

                    answer = asyncio.run(answer)
                out["formulas"][f"{name}{tuple(args)!r}"] = _plain(answer)
    out["declared_scripts"] = sorted(xlwings.SEEN["script"])
    out["modules"] = sorted({n.split(".")[0] for n in sys.modules} - set(sys.stdlib_module_names))
    out["xlcredit_from"] = sorted({str(Path(m.__file__).parent) for n, m in list(sys.modules.items())
                                   if n.split(".")[0] in ("xlcredit", "udfs", "xlcredit_lite")
                                   and getattr(m, "__file__", None)})
    out["xlcredit_modules"] = sorted(n for n in sys.modules if n.split(".")[0] in ("xlcredit", "udfs"))
    out["xlwings_from"] = xlwings.__file__
    out["refused"] = sorted(set(blocker.refused))
    out["threads"] = [t.name for t in threading.enumerate()]
    Path(out_path).write_text(json.dumps(out, sort_keys=True, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
