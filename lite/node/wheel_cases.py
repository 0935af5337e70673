"""Cases run on the installed lean wheel, inside Pyodide (run_wheel.mjs) and under CPython (the same file):
the Lite catalogue's formulas as Lite calls them, and the core's ageing of a small ledger. Prints one JSON object.

Worked example: LATE_INTEREST(1,000.00, due 2026-09-30, as of 2026-10-31, 8 %) = 1000 × 0.08 × 31 / 365 = 6.79
(simple interest, actual/365, rounded half up once)."""

import asyncio
import datetime as dt
import importlib.util
import inspect
import json
import sys
from decimal import Decimal as D

import xlwings  # Lite's own (here: the stand-in)
from xlcredit_lite import plugin

from xlcredit.core.ageing import age_ledger
from xlcredit.core.ledger import Invoice, Ledger, Payment
from xlcredit.core.policy import Policy

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
    """The answers (async: Pyodide's event loop is the page's; CPython: asyncio.run(cases()))."""
    ledger = Ledger(
        invoices=(
            Invoice("C1", "INV-1", "EUR", D("1000.00"), dt.date(2026, 9, 1), dt.date(2026, 10, 1)),
            Invoice("C1", "INV-2", "EUR", D("500.00"), dt.date(2026, 6, 15), dt.date(2026, 7, 15)),
            Invoice("C2", "INV-3", "USD", D("300.00"), dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        ),
        payments=(Payment("P1", "C1", dt.date(2026, 10, 20), D("200.00"), "EUR"),),
    )
    report = age_ledger(ledger, AS_OF, Policy())
    heavy = ("sqlalchemy", "fastapi", "reportlab", "docx", "openpyxl", "pandas", "numpy", "pyarrow", "httpx")
    formulas = await answers()
    return {
        "python": sys.version.split()[0],
        "formulas": formulas,
        "declared": sorted(set(xlwings.SEEN["func"])) if hasattr(xlwings, "SEEN") else None,
        "scripts": sorted(set(xlwings.SEEN["script"])) if hasattr(xlwings, "SEEN") else None,
        "ageing": [[r.customer_id, r.currency, {k: str(v) for k, v in r.buckets.items()}, str(r.open_total),
                    str(r.unapplied_cash), str(r.balance)] for r in report.rows],
        "heavy_installed": [m for m in heavy if importlib.util.find_spec(m) is not None],
        "engine_from": plugin.__file__,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(cases()), sort_keys=True, default=str))
