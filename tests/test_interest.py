"""Contractual late interest, the daily penalty and interest on part-paid items (xlcredit.core.interest).

Worked examples:
* Simple interest I = P × r × t with t = days / basis, day counts "Actual/365 (Fixed)" and
  "Actual/360" as defined in the ISDA 2006 Definitions, s.4.16(d) and (e).
* Daniels Silverman, "Statutory Interest calculator" (http://www.danielssilverman.co.uk/interest.php):
  "Debt … total £1,000; if this debt is 30 days late … £1,000 × 12% = £120 (the annual rate);
  £120 ÷ 365 = 32.9p (the daily rate); 32.9 pence × 30 days = £9.86".
"""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlcredit.core.errors import XlcError
from xlcredit.core.interest import daily_penalty, days_overdue, interest_on_slices, late_interest

D = Decimal
DUE = dt.date(2024, 1, 31)


# --------------------------------------------------------------------------- days overdue
@pytest.mark.parametrize(("due", "as_of", "days"), [
    (dt.date(2024, 1, 31), dt.date(2024, 3, 1), 30),   # leap year: 29 days of February + 1 March
    (dt.date(2023, 1, 31), dt.date(2023, 3, 1), 29),
    (dt.date(2024, 1, 31), dt.date(2024, 1, 31), 0),    # paid on the due date: not late
    (dt.date(2024, 1, 31), dt.date(2024, 1, 1), 0),    # as_of before the due date: 0, not negative
    (dt.date(2024, 12, 31), dt.date(2025, 1, 1), 1),
])
def test_days_overdue_counts_calendar_days_after_the_due_date(due, as_of, days):
    assert days_overdue(due, as_of) == days
    assert days_overdue(due, dt.datetime.combine(as_of, dt.time(17, 30))) == days   # a date-time: its date


# --------------------------------------------------------------------------- late interest
def test_actual_365_and_actual_360_worked_example():
    """€10,000 at 8 % for 45 days: 10,000 × 0.08 × 45/365 = 98.630… → 98.63; × 45/360 = 100.00."""
    as_of = DUE + dt.timedelta(days=45)
    assert late_interest(D(10000), DUE, as_of, D("0.08")) == D("98.63")
    assert late_interest(D(10000), DUE, as_of, D("0.08"), basis=360) == D("100.00")


def test_published_statutory_calculator_example_30_days_at_12_percent():
    """Daniels Silverman worked example (module docstring): £1,000 × 12 % × 30 / 365 = £9.86."""
    assert late_interest(1000, dt.date(2024, 3, 1), dt.date(2024, 3, 31), "0.12", currency="GBP") == D("9.86")


def test_due_date_after_as_of_gives_zero_not_an_error():
    assert late_interest(D(5000), dt.date(2024, 6, 30), dt.date(2024, 6, 1), D("0.08")) == D("0.00")


def test_rounds_half_up_once_to_the_currency_minor_unit():
    one_day = DUE + dt.timedelta(days=1)
    # 365 × 0.025 × 1/365 = 0.025 exactly: half up gives 0.03 (banker's rounding would give 0.02)
    assert late_interest(D(365), DUE, one_day, D("0.025")) == D("0.03")
    assert late_interest(D(365), DUE, one_day, D("0.005")) == D("0.01")
    # JPY has no minor unit: 365 × 0.1 × 5/365 = 0.5 → 1; 3650 × 0.005 × 1/365 = 0.05 → 0
    assert late_interest(D(365), DUE, DUE + dt.timedelta(days=5), D("0.1"), currency="JPY") == D("1")
    assert late_interest(D(3650), DUE, one_day, D("0.005"), currency="JPY") == D("0")


def test_float_and_text_inputs_are_read_exactly():
    assert late_interest(1000.10, dt.date(2024, 1, 31), dt.date(2024, 3, 1), 0.1) == late_interest(
        D("1000.10"), DUE, dt.date(2024, 3, 1), D("0.1"))
    assert late_interest("1,000.10", DUE, dt.date(2024, 3, 1), "0.1") == D("8.22")   # 1000.10 × 0.1 × 30/365


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"amount": -5}, r"^amount: must not be negative \(got -5\)$"),
    ({"amount": "lots"}, r"^amount: is not a number \(got 'lots'\)$"),
    ({"amount": None}, r"^amount: is empty$"),
    ({"due_date": ""}, r"^due_date: is empty$"),
    ({"due_date": "31/01/2024"}, r"^due_date: is not a date \(got '31/01/2024'\)$"),
    ({"due_date": 45322}, r"^due_date: is not a date \(got 45322\)$"),
    ({"as_of": None}, r"^as_of: is empty$"),
    ({"as_of": "tomorrow"}, r"^as_of: is not a date \(got 'tomorrow'\)$"),
    ({"annual_rate": -0.01}, r"^annual_rate: must not be negative \(got -0\.01\)$"),
    ({"annual_rate": 8}, r"^annual_rate: is a fraction, not a percent: 8 % is 0\.08 \(got 8\)$"),
    ({"annual_rate": "eight"}, r"^annual_rate: is not a number \(got 'eight'\)$"),
    ({"basis": 364}, r"^basis: must be 365 or 360 \(got 364\)$"),
    ({"currency": "euro"}, r"^currency: must be a 3-letter ISO code like EUR \(got 'euro'\)$"),
])
def test_bad_input_names_the_argument(kwargs, words):
    args = {"amount": D(1000), "due_date": DUE, "as_of": dt.date(2024, 3, 1), "annual_rate": D("0.08")} | kwargs
    with pytest.raises(XlcError, match=words):
        late_interest(**args)


def test_dates_are_dates_here_text_was_read_where_it_entered():
    assert days_overdue(dt.datetime(2024, 2, 29, 9, 0), dt.date(2024, 3, 1)) == 1
    with pytest.raises(XlcError, match=r"^due_date: is empty$"):
        days_overdue(float("nan"), dt.date(2024, 3, 1))
    with pytest.raises(XlcError, match=r"^due_date: is not a date \(got '2024-02-29'\)$"):
        days_overdue("2024-02-29", dt.date(2024, 3, 1))


# --------------------------------------------------------------------------- daily penalty
def test_daily_penalty_005_percent_per_day():
    """CNY 100,000 overdue 30 days at 0.05 %/day (万分之五): 100,000 × 0.0005 × 30 = 1,500.00."""
    assert daily_penalty(D(100000), dt.date(2024, 5, 31), dt.date(2024, 6, 30), currency="CNY") == D("1500.00")
    assert daily_penalty(D(100000), dt.date(2024, 5, 31), dt.date(2024, 6, 30), D("0.0003"),
                         currency="CNY") == D("900.00")
    assert daily_penalty(D(100000), dt.date(2024, 6, 30), dt.date(2024, 6, 30)) == D("0.00")


def test_daily_penalty_refuses_a_percent_typed_as_a_fraction():
    with pytest.raises(XlcError, match=r"^daily_rate: is a fraction, not a percent: 0\.05 % per day is 0\.0005 "
                                       r"\(got 0\.05\)$"):
        daily_penalty(D(1000), DUE, dt.date(2024, 3, 1), 0.05)
    with pytest.raises(XlcError, match=r"^daily_rate: must not be negative"):
        daily_penalty(D(1000), DUE, dt.date(2024, 3, 1), -0.0005)


# --------------------------------------------------------------------------- partial payments
def test_each_slice_bears_interest_for_its_own_days():
    """Invoice 1,000 due 31 Jan 2024; 400 paid 1 Mar (30 days late), 600 still open on 31 Mar (60 days).

    (400 × 30 + 600 × 60) × 0.08 / 365 = 48,000 × 0.08 / 365 = 10.5205… → 10.52.
    """
    slices = [(D(400), DUE, dt.date(2024, 3, 1)), (D(600), DUE, dt.date(2024, 3, 31))]
    assert interest_on_slices(slices, D("0.08")) == D("10.52")
    # the same as two late_interest calls only up to rounding; here both ways agree
    assert (late_interest(400, DUE, dt.date(2024, 3, 1), "0.08")
            + late_interest(600, DUE, dt.date(2024, 3, 31), "0.08")) == D("10.52")


def test_slices_are_summed_exactly_and_rounded_once():
    # each slice: 68 × 0.08 × 1/365 = 0.0149… (0.01 if rounded alone); three together 0.0447… → 0.04
    slices = [(D(68), DUE, DUE + dt.timedelta(days=1))] * 3
    assert interest_on_slices(slices, D("0.08")) == D("0.04")
    assert 3 * late_interest(D(68), DUE, DUE + dt.timedelta(days=1), D("0.08")) == D("0.03")


def test_slice_settled_before_it_fell_due_bears_nothing():
    assert interest_on_slices([(D(500), DUE, dt.date(2024, 1, 20))], D("0.08")) == D("0.00")
    assert interest_on_slices([], D("0.08")) == D("0.00")


@pytest.mark.parametrize(("slices", "words"), [
    ([(D(-1), DUE, DUE)], r"^slices\[0\]\.amount: must not be negative \(got -1\)$"),
    ([(D(1), DUE, DUE), (D(1), "", DUE)], r"^slices\[1\]\.start_date: is empty$"),
    ([(D(1), DUE)], r"^slices\[0\]: must be \(amount, start_date, end_date\)"),
])
def test_bad_slices_are_named(slices, words):
    with pytest.raises(XlcError, match=words):
        interest_on_slices(slices, D("0.08"))


# --------------------------------------------------------------------------- properties
amounts = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False)
days = st.integers(min_value=-30, max_value=3650)


@given(amounts, rates, days, days, st.sampled_from([365, 360]))
def test_interest_never_falls_as_days_overdue_rise(amount, rate, d1, d2, basis):
    lo, hi = sorted((d1, d2))
    assert late_interest(amount, DUE, DUE + dt.timedelta(days=lo), rate, basis) <= \
        late_interest(amount, DUE, DUE + dt.timedelta(days=hi), rate, basis)


@given(amounts, amounts, rates, st.integers(min_value=0, max_value=3650))
def test_interest_is_additive_in_amount_up_to_one_minor_unit(a, b, rate, n):
    as_of = DUE + dt.timedelta(days=n)
    together = late_interest(a + b, DUE, as_of, rate)
    apart = late_interest(a, DUE, as_of, rate) + late_interest(b, DUE, as_of, rate)
    assert abs(together - apart) <= D("0.01")


@given(st.lists(st.tuples(amounts, st.integers(min_value=0, max_value=2000)), min_size=1, max_size=6), rates)
def test_slices_with_the_same_amount_days_product_give_the_same_interest(parts, rate):
    """Interest depends only on Σ amount × days: the parts and one slice of that product agree exactly."""
    slices = [(amount, DUE, DUE + dt.timedelta(days=n)) for amount, n in parts]
    product = sum((amount * n for amount, n in parts), D(0))
    one_day = [(product, DUE, DUE + dt.timedelta(days=1))]
    assert interest_on_slices(slices, rate) == interest_on_slices(one_day, rate)


@given(amounts, st.decimals(min_value=0, max_value=D("0.01"), places=5), st.integers(0, 3650))
def test_daily_penalty_is_amount_times_rate_times_days(amount, rate, n):
    value = daily_penalty(amount, DUE, DUE + dt.timedelta(days=n), rate)
    assert abs(value - amount * rate * n) <= D("0.005")
