"""Cash-collection forecast (xlcredit.core.forecast).

The method is the receivables-based collection forecast used in 13-week cash-flow forecasting: each
open invoice is expected on its due date plus the customer's own average days beyond terms, and the
expected receipts are totalled per week for 13 weeks. No published worked example with per-invoice
figures was at hand; the examples are constructed by that rule and each expected date is written out.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcredit.core.errors import XlcError
from xlcredit.core.forecast import (
    DISPUTED,
    DOUBTFUL,
    LATER,
    WEEK,
    cash_forecast,
    delay_days,
)
from xlcredit.core.policy import Policy

D = Decimal
AS_OF = dt.date(2026, 10, 31)
POLICY = Policy()


@dataclass(frozen=True)
class It:
    """An open item as the forecast sees it (any object with these fields will do)."""

    customer_id: str
    invoice_no: str
    due_date: Any
    open_amount: Decimal
    disputed: bool = False


def item(cid: str, no: str, due: str, amount: str, disputed: bool = False) -> It:
    return It(cid, no, dt.date.fromisoformat(due), D(amount), disputed)


BOOK = [
    item("C1", "A1", "2026-11-01", "1000.00"),    # + 10 days → 2026-11-11: week 2 (Nov 8–14)
    item("C1", "A2", "2026-10-22", "250.50"),     # + 10 → 2026-11-01: week 1 (Nov 1–7)
    item("C1", "A3", "2026-10-21", "99.50"),      # + 10 → 2026-10-31 = as_of, not paid: week 1, late 0 days
    item("C2", "B1", "2027-03-01", "5000.00"),    # no history: on the due date, 121 days → week 18: later
    item("C2", "B2", "2026-06-01", "700.00"),     # 152 days past its expected date: doubtful
    item("C2", "B3", "2026-08-02", "300.00"),     # 90 days past: still chased, week 1
    item("C3", "X1", "2026-11-05", "400.00", disputed=True),
    item("C3", "X2", "2026-11-05", "0.00"),       # nothing open: skipped
    item("C3", "X3", "2026-11-05", "1.00"),       # habit −3.4 days → −3: 2026-11-02, week 1
]


def test_expected_dates_weeks_and_buckets():
    fc = cash_forecast(BOOK, {"C1": 10, "C2": None, "C3": -3.4}, AS_OF, POLICY)
    by_no = {p.invoice_no: p for p in fc.items}
    assert "X2" not in by_no
    assert (by_no["A1"].expected_date, by_no["A1"].week) == (dt.date(2026, 11, 11), 2)
    assert (by_no["A2"].expected_date, by_no["A2"].week) == (dt.date(2026, 11, 1), 1)
    assert (by_no["A3"].category, by_no["A3"].week) == (WEEK, 1)
    assert by_no["A3"].note == "late against the customer's habit (0 days): expected in week 1"
    assert by_no["B1"].category == LATER and by_no["B1"].expected_date == dt.date(2027, 3, 1)
    assert by_no["B2"].category == DOUBTFUL and by_no["B2"].note.startswith("152 days past its expected date")
    assert (by_no["B3"].category, by_no["B3"].week) == (WEEK, 1)
    assert by_no["X1"].category == DISPUTED and by_no["X1"].expected_date is None
    assert (by_no["X3"].delay, by_no["X3"].expected_date, by_no["X3"].week) == (-3, dt.date(2026, 11, 2), 1)
    assert len(fc.weeks) == 13
    assert (fc.weeks[0].start, fc.weeks[0].end) == (dt.date(2026, 11, 1), dt.date(2026, 11, 7))
    assert fc.weeks[12].end == dt.date(2027, 1, 30)                    # as_of + 91 days
    assert fc.weeks[0].amount == D("651.00") and fc.weeks[0].items == 4   # 250.50 + 99.50 + 300 + 1
    assert fc.weeks[1].amount == D("1000.00")
    assert (fc.later, fc.doubtful, fc.disputed) == (D("5000.00"), D("700.00"), D("400.00"))
    assert fc.open_total == D("7751.00")
    assert fc.rows()[13] == {"week": "later", "start": None, "end": None, "amount": D("5000.00"), "items": 1}


def test_default_delay_and_policy_settings():
    fc = cash_forecast(BOOK[3:4], {}, AS_OF, POLICY, default_delay=20)           # 2027-03-21 still later
    assert fc.items[0].expected_date == dt.date(2027, 3, 21)
    short = Policy.from_mapping({"forecast.weeks": 4, "forecast.doubtful_days": 30})
    fc = cash_forecast(BOOK, {"C1": 10}, AS_OF, short)
    assert len(fc.weeks) == 4
    assert {p.invoice_no: p.category for p in fc.items}["B3"] == DOUBTFUL      # 90 days > 30
    assert delay_days(12.5) == 13 and delay_days(-3.5) == -4 and delay_days(None, 5) == 5
    assert delay_days(None) == 0


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(-400, 400), st.integers(0, 10**8), st.booleans(),
                          st.one_of(st.none(), st.integers(-20, 120))), max_size=25),
       st.integers(1, 20), st.integers(0, 120))
def test_every_cent_lands_somewhere_and_weeks_hold_their_dates(rows, weeks, doubtful):
    policy = Policy.from_mapping({"forecast.weeks": weeks, "forecast.doubtful_days": doubtful})
    items = [item(f"C{i}", f"I{i}", (AS_OF + dt.timedelta(days=d)).isoformat(), f"{cents / 100:.2f}", disp)
             for i, (d, cents, disp, _) in enumerate(rows)]
    delays = {f"C{i}": habit for i, (_, _, _, habit) in enumerate(rows)}
    fc = cash_forecast(items, delays, AS_OF, policy)
    assert fc.open_total == sum((i.open_amount for i in items), D(0))
    for p in fc.items:
        if p.category == WEEK and not p.note:
            week = fc.weeks[p.week - 1]
            assert week.start <= p.expected_date <= week.end
        if p.category == LATER:
            assert p.expected_date > fc.weeks[-1].end


def test_bad_input_names_the_field_and_value():
    with pytest.raises(XlcError, match=r"^due_date \(Z1\): is not a date \(got 'x'\)$"):
        cash_forecast([It("C", "Z1", "x", D(1))], {}, AS_OF, POLICY)
    with pytest.raises(XlcError, match=r"^delays\[C1\]: is not a number \(got 'abc'\)$"):
        cash_forecast(BOOK[:1], {"C1": "abc"}, AS_OF, POLICY)
    with pytest.raises(XlcError, match=r"^open_amount \(Z2\): must not be negative \(got -1\)$"):
        cash_forecast([It("C", "Z2", "2026-01-01", D(-1))], {}, AS_OF, POLICY)
    with pytest.raises(XlcError, match=r"^as_of: is not a date \(got 'soon'\)$"):
        cash_forecast([], {}, "soon", POLICY)

