"""Cases run on the installed lean wheel, inside Pyodide (run_wheel.mjs) and under CPython (the same file):
the Lite catalogue's formulas as Lite calls them, and the core's own cases (core_cases.py). Prints one JSON object.

Worked example: LATE_INTEREST(1,000.00, due 2026-09-30, as of 2026-10-31, 8 %) = 1000 × 0.08 × 31 / 365 = 6.79
(simple interest, actual/365, rounded half up once)."""

import asyncio
import datetime as dt
import importlib.util
import inspect
import json
import sys

import xlwings  # Lite's own (here: the stand-in)
from xlcredit_lite import plugin

AS_OF = dt.date(2026, 10, 31)
DUE = dt.date(2026, 9, 30)
SERIAL = (DUE - dt.date(1899, 12, 30)).days
NA = {"type": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}


async def answers():
    out = {}
    for key, name, args in (
        ("late_interest", "late_interest", (1000, DUE, AS_OF, 0.08)),
        ("late_interest_serial", "late_interest", (1000, SERIAL, SERIAL + 31, 0.08)),
        ("late_interest_column", "late_interest", ([[1000], [-5], [NA]], DUE, AS_OF, 0.08)),
        ("days_overdue_na", "days_overdue", (NA, AS_OF)),
        ("ageing_bucket", "ageing_bucket", (dt.date(2026, 6, 1), AS_OF)),
        ("statutory_uk", "statutory_interest", (5000, dt.date(2024, 1, 31), dt.date(2024, 4, 30), "UK")),
        ("grade_of_div0", "grade_of", ({"type": "Error", "errorType": "Div0"},)),
        ("credit_limit", "credit_limit", ("C1",)),
    ):
        got = getattr(plugin, name)(*args)
        out[key] = await got if inspect.iscoroutine(got) else got
    return out


async def cases():
    """The answers (async: Pyodide's event loop is the page's; CPython: asyncio.run(cases())), with the core's own
    cases (core_cases.py: late, statutory and penalty interest, an ageing, a score, a limit) on the same wheel."""
    import core_cases

    from udfs import lite

    heavy = ("sqlalchemy", "fastapi", "reportlab", "docx", "openpyxl", "pandas", "numpy", "pyarrow", "httpx")
    # below: a script in a workbook whose requirements.txt names the wheel alone says what to add (Pyodide: pandas)
    core = core_cases.cases()
    core.pop("python")
    formulas = await answers()   # before the script below, which may change the session (under CPython)
    book = xlwings.Book("Book1.xlsx", {"Customers": {"values": [["Customer ID"], ["C1"]], "tables": {}}})
    script_alone = lite.refresh_ageing(book, AS_OF)
    return {
        "python": sys.version.split()[0],
        "formulas": formulas,
        "core": core,
        "declared": sorted(set(xlwings.SEEN["func"])),
        "scripts": sorted(set(xlwings.SEEN["script"])),
        "heavy_installed": [m for m in heavy if importlib.util.find_spec(m) is not None],
        "engine_from": plugin.__file__,
        "script_with_the_wheel_alone": script_alone,
        "script_alerts": book.alerts,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(cases()), sort_keys=True, default=str))
