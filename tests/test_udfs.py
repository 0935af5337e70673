"""The Excel formulas (udfs/functions.py), called from Python as Excel would call them.

On Linux xlwings' ``@xw.func``/``@xw.arg``/``@xw.ret`` are no-ops, so the formulas are plain functions here;
a subprocess applies xlwings' real (Windows) decorators to prove the declarations are what Excel gets.

What is proven: every formula of the DESIGN.md catalogue exists with exactly its arguments; each gives the
worked examples below; every error shows as ``#XLC! <argument>: <problem>`` text (never an exception, None or
NaN) with the exact words users see; column ranges spill one result per row and a bad row shows its own error;
the customer-level formulas answer from a SQLite credit database filled by ``CreditStore.replace_snapshot``,
see a refresh by another connection at once, and say what to do when the database is missing, empty or does
not know the customer; ``xlcredit.core`` imports without xlwings.

Worked examples:
* LATE_INTEREST — simple interest with the "Actual/365 (Fixed)" and "Actual/360" day counts of the ISDA 2006
  Definitions s.4.16(d)/(e): €10,000 at 8 % for 45 days = 98.630… → 98.63 and 100.00; Daniels Silverman,
  "Statutory Interest calculator" (danielssilverman.co.uk/interest.php): £1,000 × 12 % for 30 days = £9.86.
* STATUTORY_INTEREST — GOV.UK, "Late commercial payments: charging interest and debt recovery": £1,000 at
  base rate 0.5 % + 8 % for 50 days (£11.64 when rounded once at the end, as xlcredit does; the page rounds
  the daily 23p first and shows £11.50) plus the Late Payment Act s.5A(2) fixed sum of £70 for a debt of
  £1,000 to £9,999.99 → 81.64. EU (Directive 2011/7/EU art. 3(2), art. 6): €10,000 due 31 May 2023, as of
  31 Jan 2024, half-year rates 10.50 / 12.00 / 12.50 % from the shipped ECB table → 797.40 + €40 = 837.40.
* DSO — Oracle JD Edwards EnterpriseOne A/R guide, "Current Balance Divided by Sales": 10,869 × 90 /
  (5,538 + 4,566 + 7,570) = 55.35; Mesha, "The 2 DSO Calculation Formulas": 150,000 / 1,800,000 × 365 = 30.42.
* EARLY_PAY_DISCOUNT — "2/10 net 30": $1,000 paid within 10 days earns $20 (Brigham & Ehrhardt, "Financial
  Management: Theory and Practice", trade credit).
* DAILY_PENALTY — 0.05 % a day (万分之五) of the overdue amount: 100,000 × 0.0005 × 30 days = 1,500.
* Excel dates — Microsoft, "Excel incorrectly assumes that the year 1900 is a leap year"
  (learn.microsoft.com/office/troubleshoot/excel/wrongly-assumes-1900-is-leap-year): serial 1 is
  1 January 1900, 60 the non-existent 29 February 1900, 61 is 1 March 1900; DATE(2026,10,31) = 46326.
* AGEING_BUCKET — policy ageing.bounds 0, 30, 60, 90, 180 → Current (days ≤ 0), 1-30, 31-60, 61-90, 91-180,
  180+; DAYS_OVERDUE = max(0, as_of − due_date) (DESIGN.md).
* SCORE_OF / GRADE_OF — the shipped scorecard bins and grade cut-offs (xlcredit/data/policy.toml), worked by
  hand in the test docstrings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import json
import math
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import udfs._convert as conv
import udfs.functions as udf
from xlcredit.core.errors import XlcError
from xlcredit.core.policy import Policy
from xlcredit.core.scoring import EXPLAIN_HEADER, score_of
from xlcredit.io.store import CreditStore

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 10, 31)
D = Decimal

# The catalogue of DESIGN.md, "Excel-facing function catalogue": names and argument order, optional
# arguments with their defaults. Written out here so that a change on either side fails this test.
CATALOGUE: list[tuple[str, list[str | tuple[str, object]]]] = [
    ("CREDIT_SCORE", ["customer"]),
    ("CREDIT_GRADE", ["customer"]),
    ("CREDIT_LIMIT", ["customer"]),
    ("CREDIT_AVAILABLE", ["customer"]),
    ("CREDIT_TERMS", ["customer"]),
    ("DEPOSIT_REQUIRED", ["customer"]),
    ("DUNNING_STAGE", ["customer"]),
    ("CREDIT_EXPLAIN", ["customer"]),
    ("ORDER_CHECK", ["customer", "amount"]),
    ("DAYS_OVERDUE", ["due_date", "as_of"]),
    ("AGEING_BUCKET", ["due_date", "as_of"]),
    ("LATE_INTEREST", ["amount", "due_date", "as_of", "annual_rate", ("basis", 365)]),
    ("DAILY_PENALTY", ["amount", "due_date", "as_of", ("daily_rate", 0.0005)]),
    ("STATUTORY_INTEREST", ["amount", "due_date", "as_of", "regime"]),
    ("EARLY_PAY_DISCOUNT", ["amount", "invoice_date", "pay_date", "terms"]),
    ("SCORE_OF", ["rating", "debt_ratio", "quick_ratio", "ocf_ratio", "avg_days_late", "years"]),
    ("GRADE_OF", ["score"]),
    ("DSO", ["receivables", "credit_sales", "days"]),
]
CUSTOMER_LEVEL = [name.lower() for name, _ in CATALOGUE[:8]]
COLUMN_UDFS = {"days_overdue", "ageing_bucket", "late_interest", "daily_penalty"}
DATE_ARGS = {"due_date", "as_of", "invoice_date", "pay_date"}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """No database unless a test makes one: no XLCREDIT_DB, an empty current folder, nothing cached."""
    monkeypatch.delenv("XLCREDIT_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    conv.close_databases()
    yield
    conv.close_databases()


def customers(*ids: str) -> list[dict]:
    return [{"customer_id": cid, "name": f"Customer {cid}", "country": "DE", "currency": "EUR"} for cid in ids]


def result(cid: str, **values: object) -> dict:
    row = {"customer_id": cid, "score": 72, "grade": "B", "credit_limit": D("150000"), "exposure": D("40000.50"),
           "available": D("109999.50"), "terms": "Net 60", "deposit_share": D("0"), "dunning_stage": "",
           "days_past_due": 0, "explain": score_of(70, "0.4", "1.2", "0.25", 3, 4, Policy()).factors}
    row.update(values)
    return row


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A credit database named by XLCREDIT_DB, written through its own store (as the Refresh job does)."""
    path = tmp_path / "team" / "credit.sqlite"
    path.parent.mkdir()
    monkeypatch.setenv("XLCREDIT_DB", str(path))
    store = CreditStore(f"sqlite:///{path}")
    yield path, store
    store.close()


# =========================================================================== the catalogue
def test_every_catalogue_formula_exists_with_exactly_its_arguments():
    """Python name = Excel name in lower case; arguments, order and defaults as in DESIGN.md."""
    for name, args in CATALOGUE:
        func = getattr(udf, name.lower())
        params = list(inspect.signature(func).parameters.values())
        expected = [(a, inspect.Parameter.empty) if isinstance(a, str) else a for a in args]
        assert [(p.name, p.default) for p in params] == expected, name
        assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in params), name  # xlwings needs this
    assert sorted(udf.__all__) == sorted(name.lower() for name, _ in CATALOGUE)
    wrapped = sorted(n for n, f in vars(udf).items() if callable(f) and hasattr(f, "__wrapped__")
                     and getattr(f, "__module__", "") == "udfs.functions")
    assert wrapped == sorted(udf.__all__), "every formula and nothing else is wrapped by @excel_errors"


def test_help_texts_fit_excel_and_the_decorator_keeps_the_signature():
    """Excel shows the docstring as the function's help, as is, cut at 255 characters: one short line."""
    for name in udf.__all__:
        func = getattr(udf, name)
        assert func.__name__ == name and func.__wrapped__.__name__ == name
        assert inspect.signature(func) == inspect.signature(func.__wrapped__)
        assert func.__doc__ and "\n" not in func.__doc__ and "  " not in func.__doc__
        assert 30 <= len(func.__doc__) <= 255, (name, len(func.__doc__))


REGISTER = r"""
import json, sys, types
for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):   # stand-ins for pywin32
    sys.modules[name] = types.ModuleType(name)
sys.modules["pythoncom"].CoInitialize = lambda: None
sys.modules["win32com.client"].Dispatch = lambda *a, **k: None
import xlwings, xlwings.udfs as real
xlwings.func, xlwings.arg, xlwings.ret = real.xlfunc, real.xlarg, real.xlret   # what Windows uses
import udfs.functions as f

def show(v):
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    return getattr(v, "__module__", "") + "." + getattr(v, "__qualname__", getattr(v, "_name", repr(v)))

out = {}
for name in dir(f):
    info = getattr(getattr(f, name), "__xlfunc__", None)
    if info is not None:
        out[name] = {"name": info["name"], "category": info["category"], "doc": info["ret"]["doc"],
                     "ret": {k: show(v) for k, v in info["ret"]["options"].items()},
                     "args": [{"name": a["name"], "doc": a["doc"], "optional": show(a.get("optional", "<required>")),
                               "options": {k: show(v) for k, v in a["options"].items()}} for a in info["args"]]}
# why the date arguments use dates=dt.date and not the dt.date converter: the converter fails on text
from xlwings.conversion.standard import DateConverter
try:
    DateConverter.read_value("2026-10-31", {})
    converter_on_text = "converted"
except AttributeError:
    converter_on_text = "AttributeError"
print(json.dumps({"functions": out, "date_converter_on_text": converter_on_text}))
"""


def test_xlwings_real_decorators_register_every_formula_with_help_and_safe_options():
    """Apply xlwings' own Windows decorators (xlfunc/xlarg/xlret, pywin32 stubbed) in a subprocess.

    Proves on Linux what Excel gets: every formula registered under its name in category "xlcredit"; every
    argument documented (not xlwings' "Positional argument N"), Excel errors passed as text, date arguments
    read as dates without xlwings' date converter (which fails on a text cell), ranges as lists of rows for the column
    formulas only, and the ``Cell`` type hints resolved to ``typing.Any`` (xlwings' default converter).
    """
    proc = subprocess.run([sys.executable, "-c", REGISTER], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["date_converter_on_text"] == "AttributeError"   # @xw.arg(name, dt.date) would break on text
    registered = answer["functions"]
    assert sorted(registered) == sorted(udf.__all__)
    for name, info in registered.items():
        func = getattr(udf, name)
        assert info["name"] == name and info["category"] == "xlcredit"
        assert info["doc"] == func.__doc__
        assert info["ret"] == {"convert": "typing.Any"}
        assert [a["name"] for a in info["args"]] == list(inspect.signature(func).parameters)
        for a in info["args"]:
            assert not a["doc"].startswith("Positional argument") and len(a["doc"]) <= 255, (name, a)
            expected = {"convert": "typing.Any", "err_to_str": True}
            if a["name"] in DATE_ARGS:
                expected["dates"] = "datetime.date"
            if name in COLUMN_UDFS:
                expected["ndim"] = 2
            assert a["options"] == expected, (name, a)
    assert [a["optional"] for a in registered["late_interest"]["args"]][-1] == 365
    assert [a["optional"] for a in registered["daily_penalty"]["args"]][-1] == 0.0005
    assert registered["credit_limit"]["args"][0]["optional"] == "<required>"


def test_the_core_imports_without_xlwings():
    """Every module of xlcredit.core imports in a process where ``import xlwings`` fails."""
    code = (
        "import importlib, pkgutil, sys\n"
        "sys.modules['xlwings'] = None\n"
        "try:\n    import xlwings\nexcept ImportError:\n    print('blocked')\n"
        "import xlcredit.core as core\n"
        "names = sorted(m.name for m in pkgutil.iter_modules(core.__path__))\n"
        "for n in names:\n    importlib.import_module('xlcredit.core.' + n)\n"
        "print(','.join(names))\n"
        "print('udfs' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    blocked, names, udfs_loaded = proc.stdout.split()
    assert blocked == "blocked" and udfs_loaded == "False"
    assert {"interest", "kpis", "dunning", "scoring", "terms", "ageing", "policy", "money"} <= set(names.split(","))


# =========================================================================== pure formulas: worked examples
def test_late_interest_actual_365_and_360_and_a_published_example():
    due = dt.date(2024, 1, 31)
    assert udf.late_interest(10000, due, due + dt.timedelta(days=45), 0.08) == 98.63
    assert udf.late_interest(10000, due, due + dt.timedelta(days=45), 0.08, 360) == 100.00
    assert udf.late_interest(1000, "2024-03-01", "2024-03-31", 0.12) == 9.86
    assert isinstance(udf.late_interest(1000, "2024-03-01", "2024-03-31", 0.12), float)


def test_not_yet_due_gives_zero_not_an_error():
    """An as_of on or before the due date is not overdue: 0 days, Current, no interest, no penalty."""
    due, early = dt.date(2026, 11, 30), dt.date(2026, 10, 31)
    assert udf.days_overdue(due, early) == 0
    assert udf.ageing_bucket(due, early) == "Current"
    assert udf.late_interest(5000, due, early, 0.08) == 0.0
    assert udf.daily_penalty(5000, due, early) == 0.0
    assert udf.statutory_interest(5000, due, early, "UK") == 0.0          # no interest and no fixed sum yet
    assert udf.days_overdue(due, due) == 0 and udf.late_interest(5000, due, due, 0.08) == 0.0


def test_daily_penalty_default_and_explicit_rate():
    due = dt.date(2026, 9, 30)
    assert udf.daily_penalty(100000, due, AS_OF) == 1550.00                # 31 days × 50 = 1,550
    assert udf.daily_penalty(100000, due, due + dt.timedelta(days=30)) == 1500.00
    assert udf.daily_penalty(100000, due, due + dt.timedelta(days=30), 0.001) == 3000.00
    assert udf.daily_penalty(100000, due, due + dt.timedelta(days=30), None) == 1500.00   # blank cell: default


def test_statutory_interest_uk_gov_uk_example_and_eu_half_years():
    due = dt.date(2015, 3, 31)
    assert udf.statutory_interest(1000, due, due + dt.timedelta(days=50), "UK") == 81.64
    assert udf.statutory_interest(1000, due, due + dt.timedelta(days=50), "uk") == 81.64
    assert udf.statutory_interest(10000, "2023-05-31", "2024-01-31", "EU") == 837.40


def test_early_pay_discount_2_10_net_30():
    assert udf.early_pay_discount(1000, "2026-10-01", "2026-10-11", "2/10 net 30") == 20.00   # day 10 counts
    assert udf.early_pay_discount(1000, "2026-10-01", "2026-10-12", "2/10 net 30") == 0.00
    assert udf.early_pay_discount(1000, "2026-10-01", "2026-10-05", "Net 30") == 0.00          # no discount offered


def test_dso_published_examples():
    assert udf.dso(10869, 5538 + 4566 + 7570, 90) == 55.35
    assert udf.dso(150000, 1800000, 365) == 30.42


def test_days_overdue_and_ageing_bucket_boundaries():
    due = dt.date(2026, 1, 31)
    cases = [(0, "Current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"),
             (90, "61-90"), (91, "91-180"), (180, "91-180"), (181, "180+")]
    for days, bucket in cases:
        as_of = due + dt.timedelta(days=days)
        assert udf.days_overdue(due, as_of) == days
        assert udf.ageing_bucket(due, as_of) == bucket, days
    assert udf.days_overdue("2024-01-31", "2024-03-01") == 30                # leap year February


def test_score_of_and_grade_of_by_the_shipped_scorecard():
    """Shipped bins: rating ≥80 → 25, debt ratio ≤0.3 → 15, quick ≥1.5 → 10, OCF ≥0.4 → 10, 0 days late → 20,
    ≥5 years → 10, and the two factors SCORE_OF has no argument for score their missing points
    (items over 90 days: 5, reference check: 3) → 98, grade A.
    Second case: rating 65 → 14, debt 0.55 → 6, quick 0.8 → 5, OCF blank → 3 (missing), 20 days late → 6,
    1.5 years → 4, + 5 + 3 → 46: grade D (D from 35, C from 50)."""
    assert udf.score_of(80, 0.3, 1.5, 0.4, 0, 5) == 98
    assert udf.grade_of(98) == "A"
    assert udf.score_of(65, 0.55, 0.8, None, 20, 1.5) == 46
    assert udf.score_of(65, 0.55, 0.8, "", 20, 1.5) == 46                  # an empty text cell is blank too
    assert udf.grade_of(udf.score_of(65, 0.55, 0.8, None, 20, 1.5)) == "D"
    cuts = [(100, "A"), (80, "A"), (79.99, "B"), (65, "B"), (64, "C"), (50, "C"), (49, "D"), (35, "D"), (34, "E"),
            (0, "E")]
    for score, grade in cuts:
        assert udf.grade_of(score) == grade, score


# =========================================================================== dates from cells
@pytest.mark.parametrize(("cell", "day"), [
    (dt.date(2026, 10, 31), dt.date(2026, 10, 31)),
    (dt.datetime(2026, 10, 31, 17, 45), dt.date(2026, 10, 31)),
    (46326, dt.date(2026, 10, 31)),                 # =DATE(2026,10,31) typed into the formula
    (46326.0, dt.date(2026, 10, 31)),
    (46326.75, dt.date(2026, 10, 31)),              # 18:00 that day: the time is dropped
    ("46326", dt.date(2026, 10, 31)),               # a serial number stored as text
    ("2026-10-31", dt.date(2026, 10, 31)),
    (" 2026-10-31T09:00:00 ", dt.date(2026, 10, 31)),
    (1, dt.date(1900, 1, 1)),
    (59, dt.date(1900, 2, 28)),
    (61, dt.date(1900, 3, 1)),
    (109939, dt.date(2200, 12, 31)),
])
def test_dates_arrive_as_dates_serial_numbers_or_iso_text(cell, day):
    assert conv.date_in(cell, "due_date") == day
    assert conv.date_in([[cell]], "due_date") == day          # a one-cell range is that cell
    if day >= dt.date(1900, 1, 4):
        assert udf.days_overdue(day - dt.timedelta(days=3), cell) == 3
    else:   # three days before 1 January 1900 is outside the dates accepted
        assert udf.days_overdue(cell, day + dt.timedelta(days=3)) == 3


@pytest.mark.parametrize(("cell", "text"), [
    (None, "#XLC! due_date: is empty"),
    ("", "#XLC! due_date: is empty"),
    ("   ", "#XLC! due_date: is empty"),
    ("#N/A", "#XLC! due_date: source cell shows #N/A"),
    ("#VALUE!", "#XLC! due_date: source cell shows #VALUE!"),
    ("#DIV/0!", "#XLC! due_date: source cell shows #DIV/0!"),
    ("#XLC! amount: is empty", "#XLC! due_date: source cell shows #XLC! amount: is empty"),
    ("1/10/2026", "#XLC! due_date: is ambiguous: 1/10/2026 could be 1 October or 10 January (write it as YYYY-MM-DD)"),
    ("soon", "#XLC! due_date: is not a date (got 'soon'; write it as YYYY-MM-DD)"),
    ("2026-02-30", "#XLC! due_date: is not a valid date (got '2026-02-30')"),
    (True, "#XLC! due_date: is not a date (got True)"),
    (0, "#XLC! due_date: is not a date: Excel date numbers run from 1 to 2958465 (got 0)"),
    (-3.5, "#XLC! due_date: is not a date: Excel date numbers run from 1 to 2958465 (got -3.5)"),
    (3e6, "#XLC! due_date: is not a date: Excel date numbers run from 1 to 2958465 (got 3000000.0)"),
    (float("inf"), "#XLC! due_date: is not a date (got inf)"),
    (2958465, "#XLC! due_date: is out of range: dates run from 1900-01-01 to 2200-12-31 (got 2958465)"),
    (60, "#XLC! due_date: is not a date: Excel's 29 February 1900 never existed (date number 60)"),
])
def test_every_bad_date_cell_shows_its_own_words(cell, text):
    assert udf.statutory_interest(100, cell, AS_OF, "EU") == text
    assert udf.days_overdue(cell, AS_OF) == text
    assert udf.early_pay_discount(100, AS_OF, cell, "2/10 net 30") == text.replace("due_date", "pay_date")


# =========================================================================== every error text
@pytest.mark.parametrize(("call", "text"), [
    (lambda: udf.late_interest(None, "2026-01-31", AS_OF, 0.08), "#XLC! amount: is empty"),
    (lambda: udf.late_interest("#N/A", "2026-01-31", AS_OF, 0.08), "#XLC! amount: source cell shows #N/A"),
    (lambda: udf.late_interest("abc", "2026-01-31", AS_OF, 0.08), "#XLC! amount: is not a number (got 'abc')"),
    (lambda: udf.late_interest(True, "2026-01-31", AS_OF, 0.08), "#XLC! amount: is not a number (got True)"),
    (lambda: udf.late_interest(-5, "2026-01-31", AS_OF, 0.08), "#XLC! amount: must not be negative (got -5)"),
    (lambda: udf.late_interest(100, "2026-01-31", None, 0.08), "#XLC! as_of: is empty"),
    (lambda: udf.late_interest(100, "2026-01-31", AS_OF, 8),
     "#XLC! annual_rate: is a fraction, not a percent: 8 % is 0.08 (got 8)"),
    (lambda: udf.late_interest(100, "2026-01-31", AS_OF, None), "#XLC! annual_rate: is empty"),
    (lambda: udf.late_interest(100, "2026-01-31", AS_OF, 0.08, 366), "#XLC! basis: must be 365 or 360 (got 366)"),
    (lambda: udf.late_interest(100, "2026-01-31", AS_OF, 0.08, "#REF!"), "#XLC! basis: source cell shows #REF!"),
    (lambda: udf.daily_penalty(100, "2026-01-31", AS_OF, 0.05),
     "#XLC! daily_rate: is a fraction, not a percent: 0.05 % per day is 0.0005 (got 0.05)"),
    (lambda: udf.daily_penalty(100, "2026-01-31", AS_OF, -0.001),
     "#XLC! daily_rate: must not be negative (got -0.001)"),
    (lambda: udf.statutory_interest(100, "2026-01-31", AS_OF, "US"), "#XLC! regime: must be UK or EU (got 'US')"),
    (lambda: udf.statutory_interest(100, "2026-01-31", AS_OF, None), "#XLC! regime: is empty"),
    (lambda: udf.statutory_interest([[1], [2]], "2026-01-31", AS_OF, "UK"),
     "#XLC! amount: takes one cell, not a range of 2 cells"),
    (lambda: udf.statutory_interest(100, [[AS_OF], [AS_OF]], AS_OF, "EU"),
     "#XLC! due_date: takes one cell, not a range of 2 cells"),
    (lambda: udf.early_pay_discount(100, "2026-10-10", "2026-10-01", "2/10 net 30"),
     "#XLC! pay_date: is before the invoice date (2026-10-01 < 2026-10-10)"),
    (lambda: udf.early_pay_discount(100, "2026-10-01", "2026-10-05", "two ten"),
     "#XLC! terms: cannot read payment terms 'two ten': write e.g. 'Net 60', '60 days', '2/10 net 30' or "
     "'Prepay'"),
    (lambda: udf.early_pay_discount(100, "2026-10-01", "2026-10-05", None), "#XLC! terms: is empty"),
    (lambda: udf.dso(100, 0, 90), "#XLC! credit_sales: is zero, so there are no sales to measure days against"),
    (lambda: udf.dso(100, 1000, 0), "#XLC! days: must be more than 0 days (got 0)"),
    (lambda: udf.dso(None, 1000, 90), "#XLC! receivables: is empty"),
    (lambda: udf.grade_of(120), "#XLC! score: must lie between 0 and 100 (got 120)"),
    (lambda: udf.grade_of(None), "#XLC! score: is empty"),
    (lambda: udf.grade_of("#NAME?"), "#XLC! score: source cell shows #NAME?"),
    (lambda: udf.score_of(140, None, None, None, None, None), "#XLC! rating: must lie between 0 and 100 (got 140)"),
    (lambda: udf.score_of(80, -0.2, None, None, None, None),
     "#XLC! debt_ratio: must not be negative, it is total liabilities / total assets (got -0.2)"),
    (lambda: udf.score_of(80, 0.3, 1.5, 0.4, "#N/A", 5), "#XLC! avg_days_late: source cell shows #N/A"),
    (lambda: udf.score_of(80, 0.3, 1.5, 0.4, 0, "five"), "#XLC! years: is not a number (got 'five')"),
    (lambda: udf.credit_limit(None), "#XLC! customer: is empty"),
    (lambda: udf.credit_limit("  "), "#XLC! customer: is empty"),
    (lambda: udf.credit_grade("#N/A"), "#XLC! customer: source cell shows #N/A"),
    (lambda: udf.credit_terms(True), "#XLC! customer: is not a customer id (got True)"),
    (lambda: udf.credit_score([["C1"], ["C2"]]), "#XLC! customer: takes one cell, not a range of 2 cells"),
    (lambda: udf.days_overdue([[AS_OF, AS_OF], [AS_OF, AS_OF]], AS_OF),
     "#XLC! due_date: must be one column of cells (got 2 rows × 2 columns)"),
    (lambda: udf.days_overdue([], AS_OF), "#XLC! due_date: is an empty range"),
    (lambda: udf.days_overdue([[AS_OF], [AS_OF], [AS_OF]], [[AS_OF], [AS_OF]]),
     "#XLC! as_of: has 2 rows but due_date has 3: give one cell or ranges of the same length"),
])
def test_every_problem_shows_as_xlc_text_with_the_exact_words(call, text):
    assert call() == text


def test_unexpected_failures_show_internal_text_never_a_traceback(monkeypatch: pytest.MonkeyPatch):
    def boom(*args, **kwargs):
        raise ZeroDivisionError("boom\nsecond line")

    # an amount too large to compute exactly is refused where it enters, naming the argument (issue 17)
    assert udf.late_interest(1e30, "2026-01-31", AS_OF, 0.08) == (
        "#XLC! amount: is out of range: numbers must be below 10^15 in size (got 1e+30)")
    monkeypatch.setattr(udf, "DAYS_OVERDUE", dataclasses.replace(udf.DAYS_OVERDUE, compute=boom))
    assert udf.days_overdue(AS_OF, AS_OF) == "#XLC! internal: ZeroDivisionError: boom second line"
    assert udf.days_overdue([[AS_OF], [AS_OF]], AS_OF) == [["#XLC! internal: ZeroDivisionError: boom second line"]] * 2

    @conv.excel_errors
    def nothing(x):
        """Gives nothing."""
        return None

    assert nothing(1) == "#XLC! internal: nothing gave no result"
    with pytest.raises(XlcError, match=r"^result: is too large for an Excel cell \(got inf\)$"):
        conv.to_cell(float("inf"))
    with pytest.raises(XlcError, match=r"^result: is too large for an Excel cell \(got 1E\+400\)$"):
        conv.money_out(D("1E+400"))


# =========================================================================== columns in, column out
def test_a_column_with_bad_rows_spills_one_result_per_row():
    amounts = [[10000], [None], ["#N/A"], [-5], ["abc"], [1000], [""]]
    due = dt.date(2024, 1, 31)
    out = udf.late_interest(amounts, due, due + dt.timedelta(days=45), 0.08)
    assert out == [[98.63], ["#XLC! amount: is empty"], ["#XLC! amount: source cell shows #N/A"],
                   ["#XLC! amount: must not be negative (got -5)"], ["#XLC! amount: is not a number (got 'abc')"],
                   [9.86], ["#XLC! amount: is empty"]]


def test_columns_broadcast_single_cells_and_mixed_date_cells():
    dues = [[dt.date(2026, 10, 1)], [46296], ["2026-10-01"], ["1/10/2026"], [dt.datetime(2026, 10, 1, 8)], [None]]
    out = udf.days_overdue(dues, AS_OF)
    bad = "#XLC! due_date: is ambiguous: 1/10/2026 could be 1 October or 10 January (write it as YYYY-MM-DD)"
    assert out == [[30], [30], [30], [bad], [30], ["#XLC! due_date: is empty"]]
    assert udf.ageing_bucket(dues, AS_OF) == [["1-30"], ["1-30"], ["1-30"], [bad], ["1-30"],
                                              ["#XLC! due_date: is empty"]]
    # as_of as a column too, same length; a row range (1 × n) gives a column as well
    assert udf.days_overdue([[AS_OF], [AS_OF]], [[AS_OF + dt.timedelta(days=1)], [AS_OF]]) == [[1], [0]]
    assert udf.days_overdue([[AS_OF, AS_OF - dt.timedelta(days=61)]], AS_OF) == [[0], [61]]
    assert udf.ageing_bucket([AS_OF - dt.timedelta(days=95), AS_OF], AS_OF) == [["91-180"], ["Current"]]


def test_optional_arguments_take_columns_and_blank_cells_take_the_default():
    due = dt.date(2024, 1, 31)
    as_of = due + dt.timedelta(days=45)
    assert udf.late_interest(10000, due, as_of, 0.08, [[365], [360], [None], [400]]) == [
        [98.63], [100.00], [98.63], ["#XLC! basis: must be 365 or 360 (got 400)"]]
    assert udf.daily_penalty([[100000], [200000]], due, due + dt.timedelta(days=30), [[None], [0.001]]) == [
        [1500.00], [6000.00]]


def test_one_cell_ranges_are_single_cells_and_numpy_columns_work():
    due = dt.date(2024, 1, 31)
    as_of = due + dt.timedelta(days=45)
    assert udf.late_interest([[10000]], [[due]], [[as_of]], [[0.08]], [[365]]) == 98.63
    assert udf.days_overdue(np.array([[due], [as_of]], dtype=object), as_of) == [[45], [0]]
    assert udf.late_interest(np.array([[10000.0], [1000.0]]), due, as_of, 0.08) == [[98.63], [9.86]]


def test_a_failure_inside_one_row_stays_in_that_row(monkeypatch: pytest.MonkeyPatch):
    real = udf.LATE_INTEREST.compute

    def flaky(amount, *args, **kwargs):
        if amount == 13:
            raise RuntimeError("unlucky")
        return real(amount, *args, **kwargs)

    monkeypatch.setattr(udf, "LATE_INTEREST", dataclasses.replace(udf.LATE_INTEREST, compute=flaky))
    due = dt.date(2024, 1, 31)
    assert udf.late_interest([[10000], [13], [1000]], due, due + dt.timedelta(days=45), 0.08) == [
        [98.63], ["#XLC! internal: RuntimeError: unlucky"], [9.86]]


ROW = st.tuples(st.one_of(st.none(), st.integers(-100, 10**7), st.sampled_from(["#N/A", "x", ""])),
                st.integers(-400, 400))


@given(st.lists(ROW, min_size=2, max_size=12))
def test_column_results_equal_the_single_cell_results_row_by_row(rows):
    """Property: spilling a column gives, row by row, exactly what the formula gives for that row alone."""
    due = dt.date(2026, 3, 31)
    amounts = [[a] for a, _ in rows]
    as_ofs = [[due + dt.timedelta(days=d)] for _, d in rows]
    assert udf.late_interest(amounts, due, as_ofs, 0.08) == [
        [udf.late_interest(a[0], due, o[0], 0.08)] for a, o in zip(amounts, as_ofs, strict=True)]
    assert udf.daily_penalty(amounts, due, as_ofs) == [
        [udf.daily_penalty(a[0], due, o[0])] for a, o in zip(amounts, as_ofs, strict=True)]
    assert udf.ageing_bucket(due, as_ofs) == [[udf.ageing_bucket(due, o[0])] for o in as_ofs]
    assert udf.days_overdue(due, as_ofs) == [[udf.days_overdue(due, o[0])] for o in as_ofs]


# =========================================================================== customer-level formulas
def fill(store: CreditStore, *rows: dict) -> int:
    return store.replace_snapshot(AS_OF, customers(*(r["customer_id"] for r in rows)), list(rows), "test")


def test_customer_formulas_read_the_last_refresh(db):
    _, store = db
    good = score_of(80, "0.3", "1.5", "0.4", 0, 5, Policy())
    fill(store,
         result("C1001", score=good.score, grade=good.grade, credit_limit=D("180000"), available=D("139999.50"),
                terms="Net 90", explain=good.factors),
         result("C1002", score=55, grade="C", credit_limit=D("20000"), available=D("-2500.50"), terms="Net 30",
                deposit_share=D("0.3"), dunning_stage="Formal demand"),
         result("1005", grade="D", terms="Prepay", deposit_share=D("1")))
    assert udf.credit_score("C1001") == 98 and isinstance(udf.credit_score("C1001"), int)
    assert udf.credit_grade("C1001") == "A"
    assert udf.credit_limit("C1001") == 180000.0 and isinstance(udf.credit_limit("C1001"), float)
    assert udf.credit_available("C1001") == 139999.50
    assert udf.credit_available("C1002") == -2500.50                         # over the limit
    assert udf.credit_terms("C1001") == "Net 90"
    assert udf.deposit_required("C1002") == 0.3 and udf.deposit_required("C1001") == 0.0
    assert udf.dunning_stage("C1002") == "Formal demand"
    assert udf.dunning_stage("C1001") == "Not in dunning"
    # ids typed as numbers reach Excel as floats; a one-cell range is that cell
    assert udf.credit_terms(1005.0) == "Prepay" and udf.credit_terms(1005) == "Prepay"
    assert udf.deposit_required([["1005"]]) == 1.0
    assert udf.credit_grade(" C1002 ") == "C"
    assert udf.credit_limit("C999") == "#XLC! customer: unknown customer 'C999' (run Refresh?)"
    assert udf.credit_limit("c1001") == "#XLC! customer: unknown customer 'c1001' (run Refresh?)"


def test_credit_explain_spills_header_factor_rows_and_total_whatever_the_refresh_stored(db):
    """The Refresh may store the factor lines, an object holding them, or the as_rows() table: same answer."""
    _, store = db
    res = score_of(65, "0.55", "0.8", None, 20, "1.5", Policy())
    expected = [list(EXPLAIN_HEADER), *[list(r) for r in res.as_rows()]]
    assert expected[-1] == ["Total score", "", "Grade D", 46]
    assert ["Operating cash flow / current liabilities", "(missing)", "missing: penalty", 3] in expected
    fill(store,
         result("F", score=res.score, grade=res.grade, explain=res.factors),
         result("O", score=res.score, grade=res.grade, explain={"factors": res.factors, "note": res.grade_note}),
         result("R", score=res.score, grade=res.grade, explain=res.as_rows()),
         result("H", score=res.score, grade=res.grade, explain=[EXPLAIN_HEADER, *res.as_rows()]),
         result("N", explain=None),
         result("J", explain=["rating 20"]))
    for cid in "FORH":
        assert udf.credit_explain(cid) == expected, cid
    assert udf.credit_explain("N") == (
        "#XLC! customer: 'N' has no score explanation in the credit database (run Refresh?)")
    assert udf.credit_explain("J") == (
        "#XLC! customer: 'J' has a score explanation the formulas cannot read (got 'rating 20')")
    assert udf.credit_explain("X") == "#XLC! customer: unknown customer 'X' (run Refresh?)"


def test_a_blank_figure_in_the_database_is_explained_not_shown_as_an_empty_cell(db):
    _, store = db
    fill(store, result("C1004", score=None, grade=None, credit_limit=None, available=None, terms=None,
                       deposit_share=None))
    for func, what in [(udf.credit_score, "credit score"), (udf.credit_grade, "credit grade"),
                       (udf.credit_limit, "credit limit"), (udf.credit_available, "available credit"),
                       (udf.credit_terms, "payment terms"), (udf.deposit_required, "deposit share")]:
        assert func("C1004") == (
            f"#XLC! customer: 'C1004' has no {what} in the credit database (see the Refresh problems)")


def test_missing_and_empty_databases_say_run_refresh_first(db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path, store = db
    assert udf.credit_limit("C1") == f"#XLC! database: {path} holds no credit results yet: run Refresh first"
    fill(store, result("C1"))
    assert udf.credit_limit("C1") == 150000.0
    gone = tmp_path / "nowhere.sqlite"
    monkeypatch.setenv("XLCREDIT_DB", str(gone))
    assert udf.credit_limit("C1") == (
        f"#XLC! database: no credit database at {gone} (XLCREDIT_DB): run Refresh first")
    assert not gone.exists(), "a formula never creates a database"
    monkeypatch.setenv("XLCREDIT_DB", str(tmp_path / "no-such-folder" / "x.sqlite"))
    assert udf.credit_grade("C1") == (
        f"#XLC! database: XLCREDIT_DB: folder does not exist: {tmp_path / 'no-such-folder'}")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("XLCREDIT_DB", str(junk))
    text = udf.credit_score("C1")
    assert text.startswith(f"#XLC! database: cannot be opened ({junk}): DatabaseError: file is not a database"), text


def test_a_refresh_by_another_process_shows_at_the_next_recalculation(db, monkeypatch: pytest.MonkeyPatch):
    """The Refresh button writes through its own connection and recalculates at once: no stale figures.

    The periodic re-check is switched off here, so only the file-change check can make this pass.
    """
    path, store = db
    monkeypatch.setattr(conv, "RECHECK_SECONDS", 3600.0)
    fill(store, result("C1", credit_limit=D("150000")))
    assert udf.credit_limit("C1") == 150000.0
    other = CreditStore(f"sqlite:///{path}")
    try:
        fill(other, result("C1", credit_limit=D("90000")), result("C2"))
        assert udf.credit_limit("C1") == 90000.0
        assert udf.credit_limit("C2") == 150000.0
        other.set_policy([("ageing.bounds", "0, 15, 45")], "admin")      # a policy edit is seen as well
        assert udf.ageing_bucket(AS_OF - dt.timedelta(days=20), AS_OF) == "16-45"
    finally:
        other.close()


def test_answers_come_from_memory_until_the_file_changes(db, monkeypatch: pytest.MonkeyPatch):
    _, store = db
    monkeypatch.setattr(conv, "RECHECK_SECONDS", 3600.0)
    fill(store, result("C1"), result("C2", grade="D"))
    assert udf.credit_grade("C1") == "B"
    opened = conv.open_database()

    def no_query(*args, **kwargs):
        raise AssertionError("the database was queried although nothing changed")

    monkeypatch.setattr(opened.store, "results_view", no_query)
    assert [udf.credit_grade(c) for c in ("C1", "C2", "C1", "C9")] == [
        "B", "D", "B", "#XLC! customer: unknown customer 'C9' (run Refresh?)"]
    assert conv.open_database() is opened


def test_a_database_file_replaced_by_a_new_one_is_reopened(db):
    path, store = db
    fill(store, result("C1", terms="Net 60"))
    assert udf.credit_terms("C1") == "Net 60"
    store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    fresh = CreditStore(f"sqlite:///{path}")
    try:
        fill(fresh, result("C1", terms="Net 30"))
        assert udf.credit_terms("C1") == "Net 30"
    finally:
        fresh.close()


def test_policy_in_force_is_the_databases_else_the_shipped_one(db, monkeypatch: pytest.MonkeyPatch):
    """AGEING_BUCKET, SCORE_OF and GRADE_OF follow the policy the Refresh stored; the shipped one otherwise."""
    _, store = db
    store.set_policy([("ageing.bounds", "0, 15, 45"), ("grades.A", "90")], "admin")
    assert udf.ageing_bucket(AS_OF - dt.timedelta(days=20), AS_OF) == "16-45"
    assert udf.ageing_bucket(AS_OF - dt.timedelta(days=46), AS_OF) == "45+"
    assert udf.grade_of(85) == "B"
    monkeypatch.delenv("XLCREDIT_DB")                                        # no database: shipped defaults
    assert udf.ageing_bucket(AS_OF - dt.timedelta(days=20), AS_OF) == "1-30"
    assert udf.grade_of(85) == "A"


# =========================================================================== where the database is
class FakeBook:
    """What the formulas use of ``xw.Book.caller()``: the workbook's full path."""

    def __init__(self, fullname: Path) -> None:
        self.fullname = str(fullname)


def test_database_beside_the_workbook_or_named_in_xlwings_conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    book = tmp_path / "Credit Control" / "CreditControl.xlsm"
    book.parent.mkdir()
    conf: dict[str, str] = {}
    monkeypatch.setattr(conv, "caller_book", lambda: FakeBook(book))
    monkeypatch.setattr(conv, "workbook_config", lambda b: dict(conf))
    beside = book.parent / "CreditControl.credit.db"
    assert udf.credit_limit("C1") == (
        f"#XLC! database: no credit database at {beside} (beside the workbook): run Refresh first")

    legacy = CreditStore(f"sqlite:///{book.parent / 'credit.sqlite'}")
    fill(legacy, result("C1", terms="Net 45"))
    conv.close_databases()
    assert udf.credit_terms("C1") == "Net 45"                               # credit.sqlite beside the workbook

    main = CreditStore(f"sqlite:///{beside}")
    fill(main, result("C1", terms="Net 60"))
    conv.close_databases()
    assert udf.credit_terms("C1") == "Net 60"                               # <workbook>.credit.db comes first

    shared = book.parent / "data" / "team.sqlite"
    shared.parent.mkdir()
    team = CreditStore(f"sqlite:///{shared}")
    fill(team, result("C1", terms="Net 90"))
    conf["XLCREDIT_DB"] = "data/team.sqlite"                                 # relative to the workbook's folder
    conv.close_databases()
    assert udf.credit_terms("C1") == "Net 90"

    monkeypatch.setenv("XLCREDIT_DB", str(book.parent / "credit.sqlite"))    # the environment wins
    assert udf.credit_terms("C1") == "Net 45"
    for s in (legacy, main, team):
        s.close()


def test_a_workbook_without_a_folder_uses_the_conf_key_else_the_current_folder(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch):
    """A workbook opened from OneDrive/SharePoint has a web address for its full name, not a folder."""
    conf: dict[str, str] = {}
    monkeypatch.setattr(conv, "caller_book", lambda: FakeBook("https://d.docs.live.net/4f2a/CreditControl.xlsm"))
    monkeypatch.setattr(conv, "workbook_config", lambda b: dict(conf))
    assert udf.credit_grade("C1") == (
        f"#XLC! database: no credit database at {tmp_path / 'credit.sqlite'} (the current folder): run Refresh first")
    shared = tmp_path / "shared.sqlite"
    store = CreditStore(f"sqlite:///{shared}")
    fill(store, result("C1", grade="E"))
    conf["xlcredit_db"] = str(shared)                                          # keys are read case-insensitively
    conv.close_databases()
    assert udf.credit_grade("C1") == "E"
    store.close()


def test_outside_excel_the_database_is_credit_sqlite_in_the_current_folder(tmp_path: Path):
    assert conv.caller_book() is None                                      # the guard: no Excel here
    assert conv.workbook_config(object()) == {}
    assert udf.credit_score("C1") == (
        f"#XLC! database: no credit database at {tmp_path / 'credit.sqlite'} (the current folder): run Refresh first")
    here = CreditStore(f"sqlite:///{tmp_path / 'credit.sqlite'}")
    fill(here, result("C1", score=61))
    conv.close_databases()
    assert udf.credit_score("C1") == 61
    here.close()


# =========================================================================== never raises, never empty
CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.dates(), st.datetimes(),
    st.sampled_from(["#N/A", "#VALUE!", "2026-10-31", "46326", "C1", "UK", "EU", "2/10 net 30", "Net 30", "", " "]),
)
ARGS = st.one_of(CELLS, st.lists(CELLS, max_size=3), st.lists(st.lists(CELLS, min_size=1, max_size=2), max_size=3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(udf.__all__)), data=st.data())
def test_no_input_makes_a_formula_raise_or_show_an_empty_cell(db, name, data):
    _, store = db
    if not store.results():
        fill(store, result("C1"))
    func = getattr(udf, name)
    args = [data.draw(ARGS) for _ in inspect.signature(func).parameters]
    out = func(*args)

    def check(value: object) -> None:
        assert value is not None
        if isinstance(value, float):
            assert math.isfinite(value)
        if isinstance(value, str) and value.startswith("#XLC!"):
            assert "\n" not in value and "Traceback" not in value

    if isinstance(out, list):
        assert out and all(isinstance(r, list) and len(r) in (1, 4) for r in out)
        for r in out:
            for v in r:
                check(v)
    else:
        check(out)
    assert os.environ["XLCREDIT_DB"]                                       # the fixture's database stayed in use


def test_excel_is_asked_for_the_calling_workbook_once_per_formula_call(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch):
    """Each question to Excel is a COM round trip: the remote-mode settings and the database location share one."""
    import xlwings as xw

    book = tmp_path / "CreditControl.xlsm"
    store = CreditStore(f"sqlite:///{tmp_path / 'CreditControl.credit.db'}")
    fill(store, result("C1", terms="Net 45"))
    store.close()
    asked: list[int] = []

    def caller() -> FakeBook:
        asked.append(1)
        return FakeBook(book)

    monkeypatch.delenv("XLCREDIT_DB", raising=False)
    monkeypatch.setattr(xw.Book, "caller", staticmethod(caller))
    monkeypatch.setattr(conv, "workbook_config", lambda b: {})
    conv.close_databases()
    assert udf.credit_terms("C1") == "Net 45" and len(asked) == 1
    assert udf.ageing_bucket(dt.date(2026, 10, 1), dt.date(2026, 10, 31)) == "1-30" and len(asked) == 2
    assert conv.caller_book() is not None and len(asked) == 3          # outside a formula call: asked each time
    conv.close_databases()
