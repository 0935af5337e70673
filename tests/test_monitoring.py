"""Portfolio monitoring: periodic reviews and special-review triggers (xlcredit.core.monitoring).

The rules are the credit policy's (DESIGN.md, "Monitor: quarterly reviews, early warnings (abnormal
order swings, worsening payment behaviour, limit over-use)"; policy section ``review``: every customer
quarterly, grades D/E monthly, order swing ±50 % against the same months a year earlier, utilisation
warning 90 %, trend over the last 6 invoices rising 10 days). The trend line is the ordinary
least-squares slope (slope = Σ(x − x̄)(y − ȳ) ÷ Σ(x − x̄)²); each example's arithmetic is written out.
"""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcredit.core.errors import XlcError
from xlcredit.core.monitoring import (
    CustomerPosition,
    LastReview,
    PromiseRecord,
    add_months,
    broken_promises,
    cover_cut,
    grade_drop,
    month_window,
    next_review_date,
    order_swing,
    payment_trend,
    rating_downgrade,
    review_customer,
    review_portfolio,
    utilisation_trigger,
)
from xlcredit.core.policy import Policy

D = Decimal
AS_OF = dt.date(2026, 10, 31)
POLICY = Policy()


def test_calendar_months_and_windows():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2026, 7, 31), 3) == dt.date(2026, 10, 31)
    assert month_window(dt.date(2026, 10, 31), 3) == ((2026, 8), (2026, 9), (2026, 10))   # October complete
    assert month_window(dt.date(2026, 10, 30), 3) == ((2026, 7), (2026, 8), (2026, 9))    # October not yet
    assert month_window(dt.date(2026, 1, 15), 2) == ((2025, 11), (2025, 12))


def test_periodic_review_quarterly_and_monthly_for_high_risk():
    assert next_review_date(dt.date(2026, 7, 31), "B", POLICY, AS_OF) == dt.date(2026, 10, 31)
    assert next_review_date(dt.date(2026, 10, 5), "D", POLICY, AS_OF) == dt.date(2026, 11, 5)
    assert next_review_date(None, "A", POLICY, AS_OF) == AS_OF                 # never reviewed: due now
    due = review_customer(CustomerPosition("C1", grade="B"), LastReview(dt.date(2026, 7, 31), "B"), AS_OF, POLICY)
    assert due.periodic_due and due.review_type == "periodic"
    assert due.reason == "periodic review due since 2026-10-31"
    not_yet = review_customer(CustomerPosition("C2", grade="E"), LastReview(dt.date(2026, 10, 5), "E"), AS_OF,
                              POLICY)
    assert not not_yet.due and not_yet.next_review == dt.date(2026, 11, 5)
    monthly = Policy.from_mapping({"review.months": 6})
    assert next_review_date(dt.date(2026, 7, 31), "A", monthly, AS_OF) == dt.date(2027, 1, 31)


SEASONAL = {  # a garden-furniture buyer: heavy from August to October every year
    "2025-05": 10_000, "2025-06": 12_000, "2025-07": 15_000, "2025-08": 100_000, "2025-09": 120_000,
    "2025-10": 80_000, "2026-05": 11_000, "2026-06": 12_000, "2026-07": 14_000,
}


def test_order_swing_compares_like_months_so_a_season_is_not_an_alarm():
    normal = {**SEASONAL, "2026-08": 110_000, "2026-09": 115_000, (2026, 10): 90_000}
    # Aug–Oct 2026: 315,000 against 300,000 in Aug–Oct 2025 → +5 %: no trigger (though 8× May–Jul)
    assert order_swing(normal, AS_OF, POLICY) is None
    rise = {**SEASONAL, "2026-08": 150_000, "2026-09": 180_000, dt.date(2026, 10, 15): 150_000}
    t = order_swing(rise, AS_OF, POLICY)   # 480,000 / 300,000 − 1 = +60 %
    assert t is not None and t.kind == "order_swing" and t.value == D("0.6")
    assert t.title == "Orders up 60 % on a year ago"
    assert t.evidence == ("orders 2026-08..2026-10: 480,000 against 300,000 in 2025-08..2025-10 (+60 %; "
                          "threshold ±50 %)")
    fall = {**SEASONAL, "2026-08": 50_000, "2026-09": 50_000, "2026-10": 50_000}   # −50 % exactly: triggers
    t = order_swing(fall, AS_OF, POLICY)
    assert t is not None and t.value == D("-0.5") and t.title == "Orders down 50 % on a year ago"
    stopped = order_swing(SEASONAL, AS_OF, POLICY)
    assert stopped is not None and stopped.title == "Orders stopped" and stopped.value == D(-1)
    assert order_swing({"2026-09": 99_000}, AS_OF, POLICY) is None              # nothing a year earlier
    one_month = Policy.from_mapping({"review.order_months": 1, "review.order_swing": "0.2"})
    t = order_swing({"2025-10": 100, "2026-10": 79}, AS_OF, one_month)
    assert t is not None and "orders 2026-10: 79 against 100 in 2025-10 (−21 %" in t.evidence


def test_payment_trend_least_squares_rise():
    """[0, 2, 5, 9, 14, 20]: x̄ = 2.5, ȳ = 50/6; Σ(x−x̄)(y−ȳ) = 70, Σ(x−x̄)² = 17.5 → slope 4, rise 4 × 5 = 20."""
    t = payment_trend([0, 2, 5, 9, 14, 20], POLICY)
    assert t is not None and t.kind == "payment_trend" and t.value == D("20.0")
    assert t.evidence == ("days beyond terms of the last 6 invoices: 0, 2, 5, 9, 14, 20 (trend +4.0 days per invoice, "
                          "+20.0 across them; threshold 10)")
    assert payment_trend([0, 2, 4, 6, 8, 10], POLICY).value == D("10.0")          # slope 2 × 5 = 10: at threshold
    assert payment_trend([0, 2, 4, 6, 8, 9], POLICY) is None                       # slope 65/35 × 5 = 9.29
    assert payment_trend([-10, -8, -5, 0, 0, 0], POLICY) is None                   # early payment counts as 0
    assert payment_trend([40, 38, 41, 40, 39, 40], POLICY) is None                 # late but not worsening
    assert payment_trend([50, 40, 0, 2, 4, 6, 8, 10], POLICY) is not None          # only the last 6 count
    assert payment_trend([0, 30], POLICY) is None                                  # two points are no trend
    assert payment_trend([0, 15, 30], POLICY).value == D("30.0")


def test_utilisation_and_over_limit():
    t = utilisation_trigger(D(100_000), D(90_000), POLICY)
    assert t is not None and t.kind == "utilisation" and t.title == "Limit 90 % used"
    assert utilisation_trigger(D(100_000), D("89999.99"), POLICY) is None
    assert utilisation_trigger(D(100_000), D(100_000), POLICY).kind == "utilisation"
    over = utilisation_trigger(D(100_000), D("100000.01"), POLICY)
    assert over is not None and over.kind == "over_limit" and over.title == "Over limit by 0.01"
    zero = utilisation_trigger(D(0), D(5), POLICY)
    assert zero is not None and zero.kind == "over_limit" and zero.evidence == "exposure 5 on a credit limit of 0"
    assert utilisation_trigger(D(0), D(0), POLICY) is None
    assert utilisation_trigger(None, D(5), POLICY) is None


def test_grade_rating_and_cover_changes():
    t = grade_drop("B", "D")
    assert t is not None and t.title == "Grade down B → D" and t.value == D(2)
    assert grade_drop("C", "B") is None and grade_drop(None, "E") is None
    r = rating_downgrade(D(72), D(65))
    assert r is not None and r.title == "Rating down 72 → 65" and r.value == D(-7)
    assert rating_downgrade(D(65), D(72)) is None and rating_downgrade(None, D(10)) is None
    c = cover_cut(D(580_000), D(400_000))
    assert c is not None and c.title == "Insurance cover cut to 400,000" and "(−31 %)" in c.evidence
    w = cover_cut(D(580_000), None)
    assert w is not None and w.title == "Insurance cover withdrawn"
    assert cover_cut(None, D(10)) is None and cover_cut(D(10), D(20)) is None


def test_review_customer_collects_every_trigger_and_what_changed():
    last = LastReview(dt.date(2026, 9, 30), grade="B", score=71, credit_limit=D(100_000), rating=D(72),
                      insured_limit=D(580_000))
    now = CustomerPosition("C001", "Ostermoor", grade="C", score=58, credit_limit=D(80_000), exposure=D(95_000),
                           rating=D(65), insured_limit=D(400_000))
    orders = {**SEASONAL, "2026-08": 150_000, "2026-09": 180_000, "2026-10": 150_000}
    case = review_customer(now, last, AS_OF, POLICY, monthly_orders=orders, days_late=[0, 2, 5, 9, 14, 20])
    assert [t.kind for t in case.triggers] == ["order_swing", "payment_trend", "over_limit", "grade_drop",
                                               "rating_downgrade", "cover_cut"]
    assert case.special and case.review_type == "special" and not case.periodic_due
    assert case.next_review == dt.date(2026, 12, 30)                               # grade C: quarterly
    assert case.changes == ("grade B → C", "score 71 → 58", "credit limit 100,000 → 80,000", "rating 72 → 65",
                            "insured limit 580,000 → 400,000")
    assert case.utilisation == D("1.1875")
    assert case.reason.startswith("Orders up 60 % on a year ago; Paying later: +20 days over the last 6 invoices")


def test_broken_promises_warn_within_the_window_and_kept_ones_are_only_counted():
    """Issue 15 item 2: a promise broken in the last ``review.broken_promise_days`` (90) days is an early warning
    (``review.broken_promises`` = 1 of them by default); kept promises are counted beside and never warn."""
    assert broken_promises(None, AS_OF, POLICY) is None                               # no promises: no warning
    assert broken_promises(PromiseRecord(kept=3), AS_OF, POLICY) is None              # kept only: no warning
    one = PromiseRecord(kept=1, broken=((dt.date(2026, 10, 14), "EUR 2,000.00 promised for 2026-10-10 (phone, Ben)"),))
    t = broken_promises(one, AS_OF, POLICY)
    assert t is not None and (t.kind, t.title, t.value) == ("broken_promise", "1 promise to pay broken", D(1))
    assert t.evidence == ("1 promise to pay broken in the last 90 days: EUR 2,000.00 promised for 2026-10-10 "
                          "(phone, Ben), broken 2026-10-14 (1 kept; threshold 1)")
    # the window: broken 89 days before the as-of date counts, 90 days before does not; after it: not yet
    edge = PromiseRecord(broken=((AS_OF - dt.timedelta(days=89), "a"), (AS_OF - dt.timedelta(days=90), "b"),
                                 (AS_OF + dt.timedelta(days=1), "c")))
    t = broken_promises(edge, AS_OF, POLICY)
    assert t is not None and t.value == D(1) and ", broken 2026-08-03" in t.evidence and "b, " not in t.evidence
    # the threshold is a policy setting: two needed, one is not enough
    two = Policy.from_rows([("review.broken_promises", 2)])
    assert broken_promises(one, AS_OF, two) is None
    both = PromiseRecord(broken=(*one.broken, (dt.date(2026, 9, 1), "EUR 500.00 promised for 2026-08-28")))
    t = broken_promises(both, AS_OF, two)
    assert t is not None and t.title == "2 promises to pay broken" and t.evidence.index("2026-10-14") < \
        t.evidence.index("2026-09-01")                                                  # newest first
    # in the review: the trigger among the others, the counts on the case
    case = review_customer(CustomerPosition("C2", credit_limit=D(10_000), exposure=D(2_000)), None, AS_OF, POLICY,
                           promises=one)
    assert [x.kind for x in case.triggers] == ["broken_promise"]
    assert (case.promises_kept, case.promises_broken, case.special) == (1, 1, True)
    quiet = review_customer(CustomerPosition("C1", credit_limit=D(10_000), exposure=D(2_000)), None, AS_OF, POLICY,
                            promises=PromiseRecord(kept=2))
    assert (quiet.triggers, quiet.promises_kept, quiet.promises_broken) == ((), 2, 0)


def test_review_portfolio_orders_special_then_periodic_then_the_rest():
    positions = [CustomerPosition("A", grade="A", credit_limit=D(100), exposure=D(10)),
                 CustomerPosition("B", grade="B", credit_limit=D(100), exposure=D(95)),
                 CustomerPosition("C", grade="C", credit_limit=D(100), exposure=D(0))]
    last = {"A": LastReview(dt.date(2026, 10, 1), "A"), "B": LastReview(dt.date(2026, 10, 1), "B")}
    cases = review_portfolio(positions, last, AS_OF, POLICY)
    assert [(c.customer_id, c.review_type) for c in cases] == [("B", "special"), ("C", "periodic"), ("A", "")]
    assert cases[1].reason == "first review due"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-60, 400), min_size=3, max_size=12), st.integers(0, 200))
def test_a_worsening_trend_survives_a_constant_shift_and_reversal_undoes_it(days, shift):
    """Adding the same days to every late invoice keeps the trend; reversing the order negates the slope."""
    policy = POLICY
    base = payment_trend(days, policy)
    late = [max(d, 0) + shift for d in days]
    shifted = payment_trend(late, policy)
    assert (base is None) == (payment_trend([max(d, 0) for d in days], policy) is None)
    assert (shifted is None) == (base is None)
    if base is not None:
        assert payment_trend(list(reversed([max(d, 0) for d in days[-6:]])), policy) is None


def test_bad_input_names_the_field_and_value():
    with pytest.raises(XlcError, match=r"^grade: must be one of A, B, C, D, E \(got 'F'\)$"):
        next_review_date(dt.date(2026, 1, 1), "F", POLICY, AS_OF)
    with pytest.raises(XlcError, match=r"^days_late\[1\]: is not a number \(got 'x'\)$"):
        payment_trend([1, "x", 3], POLICY)
    with pytest.raises(XlcError, match=r"^month: is not a month YYYY-MM \(got 'Oct'\)$"):
        order_swing({"Oct": 5}, AS_OF, POLICY)
    with pytest.raises(XlcError, match=r"^orders\[2026-10\]: must not be negative \(got -5\)$"):
        order_swing({"2026-10": -5}, AS_OF, POLICY)
    with pytest.raises(XlcError, match=r"^exposure: must not be negative \(got -1\)$"):
        utilisation_trigger(D(1), D(-1), POLICY)
    with pytest.raises(XlcError, match=r"^last_review: is not a date \(got 'yesterday'\)$"):
        next_review_date("yesterday", "A", POLICY, AS_OF)
