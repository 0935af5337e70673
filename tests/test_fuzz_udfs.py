"""Fuzz every Excel formula of ``udfs/functions.py`` (issue 17 item 8) with random cell values as xlwings hands them
over: numbers (1e300, -0.0, NaN, inf, huge integers), Excel error values as text (``err_to_str=True``), dates and
datetimes from year 1 to 9999, text with control characters, bidi marks and formulas, None, booleans, and ranges
(lists of rows, ragged lists).

What must hold for every formula and every input: no exception; the answer is a value (a finite number, text, a
date) or ``#XLC! <argument>: …`` naming one of the formula's own arguments — never ``#XLC! internal`` — and a
column answer holds one such result per row. Customer-level formulas read a credit database made for the test
(one known customer), so both the lookup and the unknown-customer path are exercised.

Nothing was found to fix here (issue 17's ``=LATE_INTEREST(1e300, …)`` and 9999-12-31 cases had been fixed by the
bounds work; they are kept as examples).
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from _fuzz import cells, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

import udfs._convert as conv
import udfs.functions as udf
from xlcredit.io.store import CreditStore

NAMES = sorted(udf.__all__)
ranges = st.one_of(st.lists(st.lists(cells, min_size=1, max_size=3), min_size=1, max_size=3),
                   st.lists(cells, max_size=3), st.lists(st.lists(cells, max_size=2), max_size=2))
arguments = st.one_of(cells, cells, cells, ranges)


@pytest.fixture(scope="module", autouse=True)
def _database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A credit database the customer formulas read (XLCREDIT_DB), with customer C1 as a Refresh leaves it."""
    path = Path(tmp_path_factory.mktemp("fuzz-udfs")) / "credit.sqlite"
    mp = pytest.MonkeyPatch()
    mp.setenv("XLCREDIT_DB", str(path))
    store = CreditStore(f"sqlite:///{path}")
    store.replace_snapshot(dt.date(2026, 10, 31), [{"customer_id": "C1", "name": "Anchor", "country": "DE",
                                                    "currency": "EUR"}],
                           [{"customer_id": "C1", "score": 72, "grade": "B", "credit_limit": Decimal("150000"),
                             "exposure": Decimal("40000.50"), "available": Decimal("109999.50"), "terms": "Net 60",
                             "deposit_share": Decimal("0"), "dunning_stage": "", "days_past_due": 0}], "fuzz")
    conv.close_databases()
    yield
    conv.close_databases()
    store.close()
    mp.undo()


def _answers(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        for v in value:
            yield from _answers(v)
    else:
        yield value


def _check(name: str, args: list[Any]) -> None:
    func = getattr(udf, name)
    own = set(inspect.signature(func).parameters)
    answer = func(*args)
    for value in _answers(answer):
        assert value is not None, (name, args)
        if isinstance(value, float):
            assert math.isfinite(value), (name, args, value)
        if isinstance(value, str) and value.startswith("#XLC!"):
            assert not value.startswith("#XLC! internal"), (name, args, value)
            field = value[len("#XLC! "):].split(":", 1)[0]
            assert field in own, (name, args, value)


@pytest.mark.parametrize("name", NAMES)
@fuzz_settings(40)
@given(data=st.data())
def test_every_formula_answers_a_value_or_names_its_argument(name: str, data: Any) -> None:
    count = len(inspect.signature(getattr(udf, name)).parameters)
    args = data.draw(st.lists(arguments, min_size=count, max_size=count), label="cells")
    _check(name, args)


@pytest.mark.parametrize(("name", "args"), [
    ("late_interest", [1e300, dt.date(2020, 1, 1), dt.date(2026, 1, 1), 0.08, 365]),
    ("late_interest", [1000, dt.date(2020, 1, 1), "9999-12-31", 0.08, 365]),
    ("late_interest", [1000, dt.date(2020, 1, 1), dt.date(2026, 1, 1), 1e300, 365]),
    ("statutory_interest", [1e14, dt.date(2020, 1, 1), dt.date(9999, 12, 31), "uk"]),
    ("order_check", ["C1", float("nan")]),
    ("order_check", ["C1", -0.0]),
    ("dso", [1e300, 1e-300, 365]),
    ("credit_limit", ["=cmd|' /C calc'!A0"]),
    ("credit_grade", ["\u202eC1"]),
    ("days_overdue", [[[dt.date(1, 1, 1)], ["#N/A"], [2958466]], dt.date(2026, 10, 31)]),
])
def test_the_cases_issue_17_reported(name: str, args: list[Any]) -> None:
    _check(name, args)


def test_the_customer_formulas_read_the_test_database() -> None:
    assert udf.credit_limit("C1") == 150000.0 and udf.credit_grade(" C1 ") == "B"
    assert udf.credit_limit("C2") == "#XLC! customer: unknown customer 'C2' (run Refresh?)"
