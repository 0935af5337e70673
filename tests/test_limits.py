"""Credit limits, exposure and the order check (xlcredit.core.limits).

Every inline example is computed by hand from the default credit policy (DESIGN.md, "Policy
defaults"): limit ≤ 15 % of the customer's annual purchases (limits.volume_share); new customer
≤ 50 % of the first order (limits.first_order_share); grade A +20 % (limits.grade_a_uplift); one
customer ≤ 30 % of our monthly cash flow of 5,000,000 = 1,500,000 (limits.cash_flow_share); sum of
all limits ≤ 15 % of our annual revenue (limits.portfolio_revenue_share); rounded down to 1,000
(limits.step). Each test names the rule it proves.
"""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcredit.core.errors import XlcError
from xlcredit.core.limits import (
    RULE_CASH_E,
    RULE_CASH_FLOW,
    RULE_FIRST_ORDER,
    RULE_GRADE_A,
    RULE_GUARANTEE,
    RULE_NO_FIRST_ORDER,
    RULE_NO_VOLUME,
    RULE_PORTFOLIO,
    RULE_PREPAY_D,
    RULE_VOLUME,
    Exposure,
    LimitResult,
    available_credit,
    exposure,
    is_new_customer,
    recommend_limit,
    recommend_limits,
    utilisation,
)
from xlcredit.core.money import round_down
from xlcredit.core.policy import GRADES, Policy
from xlcredit.core.records import Customer

D = Decimal
AS_OF = dt.date(2026, 10, 31)
OLD = dt.date(2020, 1, 1)          # trading for years: not a new customer
# The seed's limit rule as written (limits.basis = "share": 15 % of annual purchases); the shipped
# default, limits.basis = "terms", is proved by the tests at the end of this file.
POLICY = Policy.from_mapping({"limits.basis": "share"})


def cust(cid="C1", *, volume=None, start=OLD, first=None, guarantee=0, orders=0, uninvoiced=0):
    return Customer(cid, relationship_start=start, annual_volume=None if volume is None else D(volume),
                    first_order=None if first is None else D(first), bank_guarantee=D(guarantee),
                    open_orders=D(orders), uninvoiced_deliveries=D(uninvoiced))


def cap_amount(result: LimitResult, rule: str):
    return next(c.amount for c in result.caps if c.rule == rule)


# --------------------------------------------------------------------------- single-customer rules
def test_volume_share_15_percent_of_annual_purchases():
    """limits.volume_share: 15 % of 400,000 = 60,000 (grade B, trading since 2020)."""
    r = recommend_limit(cust(volume=400_000), "B", POLICY, AS_OF)
    assert r.limit == D(60_000)
    assert r.binding_rule == RULE_VOLUME
    assert cap_amount(r, RULE_VOLUME) == D(60_000)
    assert cap_amount(r, RULE_CASH_FLOW) == D(1_500_000)     # 30 % of 5,000,000 — listed, not binding
    assert r.before_portfolio == r.limit
    assert r.reason == "15 % of annual purchases 400,000 EUR = 60,000 EUR"


def test_grade_a_uplift_raises_the_volume_limit_by_20_percent():
    """limits.grade_a_uplift: 15 % of 400,000 = 60,000, × 1.2 = 72,000."""
    r = recommend_limit(cust(volume=400_000), "A", POLICY, AS_OF)
    assert r.limit == D(72_000)
    assert r.binding_rule == RULE_GRADE_A
    assert "raised by 20 % = 72,000 EUR" in r.reason


def test_grade_a_uplift_never_lifts_above_the_cash_flow_cap():
    """limits.cash_flow_share binds: 15 % of 9,000,000 = 1,350,000, +20 % = 1,620,000 > 30 % × 5,000,000 = 1,500,000."""
    r = recommend_limit(cust(volume=9_000_000), "A", POLICY, AS_OF)
    assert r.limit == D(1_500_000)
    assert r.binding_rule == RULE_CASH_FLOW
    # the same customer at grade B stays under the cash-flow cap: the uplift is what hit it
    assert recommend_limit(cust(volume=9_000_000), "B", POLICY, AS_OF).limit == D(1_350_000)


def test_grade_a_uplift_never_lifts_above_the_first_order_cap():
    """limits.first_order_share binds for a new grade A customer: 50 % of 100,000 = 50,000 < 72,000."""
    r = recommend_limit(cust(volume=400_000, start=dt.date(2026, 5, 1), first=100_000), "A", POLICY, AS_OF)
    assert r.limit == D(50_000)
    assert r.binding_rule == RULE_FIRST_ORDER
    assert cap_amount(r, RULE_GRADE_A) == D(72_000)


def test_new_customer_half_of_the_first_order():
    """limits.first_order_share: a prospect (no relationship_start) ordering 80,000 gets 50 % = 40,000."""
    r = recommend_limit(cust(start=None, first=80_000), "B", POLICY, AS_OF)
    assert r.limit == D(40_000)
    assert r.binding_rule == RULE_FIRST_ORDER
    assert cap_amount(r, RULE_VOLUME) is None       # no purchases yet: the volume rule does not apply
    assert r.reason == "new customer (not trading yet): 50 % of the first order 80,000 EUR = 40,000 EUR"


def test_new_customer_for_twelve_months_then_volume_rule_alone():
    """limits.new_customer_months = 12: 11 completed months → new (first order 60,000 → 30,000); 12 → not new."""
    eleven = cust(volume=400_000, start=dt.date(2025, 11, 30), first=60_000)
    twelve = cust(volume=400_000, start=dt.date(2025, 10, 31), first=60_000)
    assert is_new_customer(eleven, POLICY, AS_OF) and not is_new_customer(twelve, POLICY, AS_OF)
    assert recommend_limit(eleven, "B", POLICY, AS_OF).limit == D(30_000)
    r = recommend_limit(twelve, "B", POLICY, AS_OF)
    assert (r.limit, r.binding_rule) == (D(60_000), RULE_VOLUME)
    assert RULE_FIRST_ORDER not in {c.rule for c in r.caps}


def test_cash_flow_cap_30_percent_of_monthly_cash_flow():
    """limits.cash_flow_share: 15 % of 20,000,000 = 3,000,000 is cut to 30 % × 5,000,000 = 1,500,000."""
    r = recommend_limit(cust(volume=20_000_000), "B", POLICY, AS_OF)
    assert (r.limit, r.binding_rule) == (D(1_500_000), RULE_CASH_FLOW)


def test_rounded_down_to_the_step_never_up():
    """limits.step: 15 % of 123,456 = 18,518.40 → 18,000 (not 19,000); with step 0 → 18,518.40 to the cent."""
    assert recommend_limit(cust(volume=123_456), "B", POLICY, AS_OF).limit == D(18_000)
    no_step = Policy.from_mapping({"limits.basis": "share", "limits.step": 0})
    assert recommend_limit(cust(volume=123_456), "B", no_step, AS_OF).limit == D("18518.40")
    # 1/3 of a cent is dropped, not rounded: 15 % of 0.10 = 0.015 → 0.01
    assert recommend_limit(cust(volume="0.10"), "B", no_step, AS_OF).limit == D("0.01")


def test_grade_d_no_open_credit_without_a_bank_guarantee():
    """deposit.D: grade D trades on prepayment — open credit 0 even with 400,000 of purchases."""
    r = recommend_limit(cust(volume=400_000), "D", POLICY, AS_OF)
    assert (r.limit, r.binding_rule) == (D(0), RULE_PREPAY_D)


def test_grade_d_open_credit_up_to_the_guarantee_still_under_the_caps():
    """bank_guarantee: grade D with a 50,000 guarantee → 50,000; with 100,000 the volume cap 60,000 still binds,
    and the reason says the limit is secured (a prepayment grade never shows an unsecured limit)."""
    r = recommend_limit(cust(volume=400_000, guarantee=50_000), "D", POLICY, AS_OF)
    assert (r.limit, r.binding_rule) == (D(50_000), RULE_GUARANTEE)
    r = recommend_limit(cust(volume=400_000, guarantee=100_000), "D", POLICY, AS_OF)
    assert (r.limit, r.binding_rule) == (D(60_000), RULE_GUARANTEE)
    assert r.reason == ("grade D, secured by the bank guarantee of 100,000 EUR; within it, 15 % of annual "
                        "purchases 400,000 EUR = 60,000 EUR")


def test_grade_e_cash_in_advance_even_with_a_guarantee():
    """deposit.E: grade E is cash in advance; a guarantee is the grade D alternative only."""
    r = recommend_limit(cust(volume=400_000, guarantee=100_000), "E", POLICY, AS_OF)
    assert (r.limit, r.binding_rule) == (D(0), RULE_CASH_E)
    assert "does not change that" in r.reason


def test_missing_purchase_volume_gives_zero_not_a_crash():
    """An existing customer without annual_volume: limit 0, rule "no purchase volume" (documented)."""
    r = recommend_limit(cust(volume=None), "A", POLICY, AS_OF)
    assert (r.limit, r.binding_rule) == (D(0), RULE_NO_VOLUME)


def test_new_customer_without_a_first_order_gives_zero():
    """A new customer must have a first-order amount for limits.first_order_share: else 0, rule "no first order"."""
    r = recommend_limit(cust(volume=400_000, start=dt.date(2026, 9, 1)), "B", POLICY, AS_OF)
    assert (r.limit, r.binding_rule) == (D(0), RULE_NO_FIRST_ORDER)


def test_grade_rule_wins_a_tie_at_zero():
    """Grade E with no volume on file: both give 0, the controller sees the grade rule."""
    assert recommend_limit(cust(volume=None), "E", POLICY, AS_OF).binding_rule == RULE_CASH_E


def test_grade_is_checked_and_lower_case_accepted():
    with pytest.raises(XlcError, match=r"^grade: must be one of A, B, C, D, E \(got 'F'\)$"):
        recommend_limit(cust(volume=400_000), "F", POLICY, AS_OF)
    with pytest.raises(XlcError, match=r"^grade: must be one of A, B, C, D, E \(got 3\)$"):
        recommend_limit(cust(volume=400_000), 3, POLICY, AS_OF)
    assert recommend_limit(cust(volume=400_000), " b ", POLICY, AS_OF).limit == D(60_000)


def test_bad_as_of_is_named():
    with pytest.raises(XlcError, match=r"^as_of: is not a date \(got 'yesterday'\)$"):
        recommend_limit(cust(volume=400_000), "B", POLICY, "yesterday")


# --------------------------------------------------------------------------- the portfolio rule
def book():
    """Own limits 90,000 (A) + 60,000 (B) + 30,000 + 15,000 (C) + 20,000 (D, guaranteed) = 215,000."""
    customers = [cust("XA", volume=500_000), cust("YB", volume=400_000), cust("ZC", volume=200_000),
                 cust("VC", volume=100_000), cust("WD", volume=400_000, guarantee=20_000)]
    grades = {"XA": "A", "YB": "B", "ZC": "C", "VC": "C", "WD": "D"}
    return customers, grades


def portfolio_policy(method: str, share: str = "0.15") -> Policy:
    return Policy.from_mapping({"limits.basis": "share", "company.annual_revenue": 1_000_000,
                                "limits.portfolio_revenue_share": share, "limits.portfolio_method": method})


def limits_by_id(results):
    return {r.customer_id: r.limit for r in results}


def test_portfolio_under_the_cap_changes_nothing():
    """limits.portfolio_revenue_share: 215,000 ≤ 15 % of 60,000,000 = 9,000,000 → own limits stand."""
    customers, grades = book()
    results = recommend_limits(customers, grades, POLICY, AS_OF)
    assert limits_by_id(results) == {"XA": D(90_000), "YB": D(60_000), "ZC": D(30_000), "VC": D(15_000),
                                     "WD": D(20_000)}
    assert all(r.limit == r.before_portfolio and r.binding_rule != RULE_PORTFOLIO for r in results)
    assert results == tuple(recommend_limit(c, grades[c.customer_id], POLICY, AS_OF) for c in customers)


def test_portfolio_pro_rata_scales_every_limit_by_the_same_factor():
    """limits.portfolio_method = pro_rata: cap 15 % × 1,000,000 = 150,000; factor 150/215 = 30/43.

    90,000 × 30/43 = 62,790.70 → 62,000; 60,000 → 41,860.47 → 41,000; 30,000 → 20,930.23 → 20,000;
    15,000 → 10,465.12 → 10,000; 20,000 → 13,953.49 → 13,000. Sum 146,000 ≤ 150,000.
    """
    customers, grades = book()
    results = recommend_limits(customers, grades, portfolio_policy("pro_rata"), AS_OF)
    assert limits_by_id(results) == {"XA": D(62_000), "YB": D(41_000), "ZC": D(20_000), "VC": D(10_000),
                                     "WD": D(13_000)}
    xa = results[0]
    assert (xa.binding_rule, xa.before_portfolio) == (RULE_PORTFOLIO, D(90_000))
    assert xa.caps[-1].amount == D(62_000)
    assert "sum of all limits 215,000 EUR is over 15 % of our annual revenue 1,000,000 EUR = 150,000 EUR" \
        in xa.reason
    assert xa.reason.endswith(": the excess of 65,000 EUR is taken back, every limit scaled down by the same "
                              "factor; this limit 90,000 EUR → 62,000 EUR")      # in words, no setting names


def test_portfolio_by_grade_takes_back_from_the_worst_grade_first():
    """limits.portfolio_method = by_grade, cap 150,000, excess 65,000: grade D (20,000) → 0, then grade C
    (45,000) → 0; grades A and B keep 90,000 and 60,000. Sum exactly 150,000."""
    customers, grades = book()
    results = recommend_limits(customers, grades, portfolio_policy("by_grade"), AS_OF)
    assert limits_by_id(results) == {"XA": D(90_000), "YB": D(60_000), "ZC": D(0), "VC": D(0), "WD": D(0)}
    assert [r.binding_rule for r in results] == [RULE_GRADE_A, RULE_VOLUME, RULE_PORTFOLIO, RULE_PORTFOLIO,
                                                 RULE_PORTFOLIO]


def test_portfolio_by_grade_pro_rata_inside_the_last_grade_touched():
    """by_grade, cap 18.5 % × 1,000,000 = 185,000, excess 30,000: grade D 20,000 → 0, the remaining 10,000
    from grade C (45,000) pro rata × 35/45: 30,000 → 23,333.33 → 23,000; 15,000 → 11,666.67 → 11,000."""
    customers, grades = book()
    results = recommend_limits(customers, grades, portfolio_policy("by_grade", "0.185"), AS_OF)
    assert limits_by_id(results) == {"XA": D(90_000), "YB": D(60_000), "ZC": D(23_000), "VC": D(11_000),
                                     "WD": D(0)}


def test_portfolio_cap_of_zero_takes_everything_back():
    customers, grades = book()
    p = Policy.from_mapping({"limits.basis": "share", "company.annual_revenue": 0})
    assert set(limits_by_id(recommend_limits(customers, grades, p, AS_OF)).values()) == {D(0)}


def test_recommend_limits_bad_input():
    customers, grades = book()
    with pytest.raises(XlcError, match=r"^grade: is missing for customer 'VC'$"):
        recommend_limits(customers, {k: v for k, v in grades.items() if k != "VC"}, POLICY, AS_OF)
    with pytest.raises(XlcError, match=r"^customer_id: appears more than once \('XA'\)$"):
        recommend_limits([*customers, cust("XA", volume=1)], grades, POLICY, AS_OF)
    with pytest.raises(XlcError, match=r"^grade: must be one of A, B, C, D, E \(got 'F'\)$"):
        recommend_limits(customers, {**grades, "XA": "F"}, POLICY, AS_OF)


# --------------------------------------------------------------------------- property tests
POLICIES = [Policy.from_mapping({"limits.basis": "share", "limits.step": s, "company.monthly_cash_flow": cf,
                                 "company.annual_revenue": rev, "limits.portfolio_method": m})
            for s, cf, rev, m in [(1000, 5_000_000, 60_000_000, "pro_rata"), (0, 200_000, 1_000_000, "by_grade"),
                                  (5000, 1_000_000, 2_000_000, "pro_rata"), (1, 300_000, 500_000, "by_grade"),
                                  (1000, 2_000_000, 3_000_000, "by_grade"), (0, 400_000, 800_000, "pro_rata"),
                                  (1, 250_000, 1_500_000, "pro_rata")]]
money = st.integers(0, 2_000_000_000).map(lambda cents: D(cents) / 100)
customers_st = st.builds(
    lambda i, vol, start_days, first, guarantee: cust(
        f"C{i}", volume=vol, first=first, guarantee=guarantee,
        start=None if start_days is None else AS_OF - dt.timedelta(days=start_days)),
    st.integers(0, 10**6), st.none() | money, st.none() | st.integers(0, 4000), st.none() | money,
    st.sampled_from([0, 0, 10_000, 250_000, 3_000_000]))


def step_of(p: Policy) -> Decimal:
    return p.limits.step if p.limits.step > 0 else D("0.01")


@settings(max_examples=200, deadline=None)
@given(customers_st, st.sampled_from(GRADES), st.sampled_from(POLICIES))
def test_property_a_limit_never_exceeds_any_cap(c, grade, p):
    """Independently of the result's own caps: ≤ volume (uplifted for A), ≤ first order for a new customer,
    ≤ cash flow, 0 for D without guarantee and E, ≤ guarantee for D; ≥ 0; a multiple of the step; and
    exactly the smallest cap rounded down (never needlessly low)."""
    r = recommend_limit(c, grade, p, AS_OF)
    lim = p.limits
    ceilings = [lim.cash_flow_share * p.company.monthly_cash_flow]
    new = c.relationship_start is None or c.months_of_relationship(AS_OF) < lim.new_customer_months
    if c.annual_volume is not None:
        ceilings.append(lim.volume_share * c.annual_volume * (1 + lim.grade_a_uplift if grade == "A" else 1))
    elif not new:
        ceilings.append(D(0))
    if new:
        ceilings.append(D(0) if c.first_order is None else lim.first_order_share * c.first_order)
    if grade == "E" or (grade == "D" and c.bank_guarantee == 0):
        ceilings.append(D(0))
    if grade == "D":
        ceilings.append(c.bank_guarantee if c.bank_guarantee > 0 else D(0))
    assert all(r.limit <= ceiling for ceiling in ceilings)
    assert all(r.limit <= cap.amount for cap in r.caps if cap.amount is not None)
    assert r.limit >= 0
    assert r.limit % step_of(p) == 0
    assert r.limit == round_down(min(ceilings), step_of(p))
    assert r.binding_rule in {cap.rule for cap in r.caps}


@settings(max_examples=120, deadline=None)
@given(st.lists(customers_st, min_size=1, max_size=12, unique_by=lambda c: c.customer_id),
       st.lists(st.sampled_from(GRADES), min_size=12, max_size=12), st.sampled_from(POLICIES))
def test_property_portfolio_total_never_exceeds_the_portfolio_cap(customers, grade_list, p):
    grades = {c.customer_id: g for c, g in zip(customers, grade_list, strict=False)}
    results = recommend_limits(customers, grades, p, AS_OF)
    cap = p.limits.portfolio_revenue_share * p.company.annual_revenue
    step = step_of(p)
    singles = [recommend_limit(c, grades[c.customer_id], p, AS_OF).limit for c in customers]
    total = sum(singles, D(0))
    assert [r.customer_id for r in results] == [c.customer_id for c in customers]
    assert [r.before_portfolio for r in results] == singles
    assert sum((r.limit for r in results), D(0)) <= cap
    for r in results:
        assert D(0) <= r.limit <= r.before_portfolio
        assert r.limit % step == 0
        assert (r.binding_rule == RULE_PORTFOLIO) == (r.limit < r.before_portfolio)
    if total <= cap:
        assert all(r.limit == r.before_portfolio for r in results)
        return
    # not over-taken: what is left is within one step per customer of the cap
    assert sum((r.limit for r in results), D(0)) > cap - step * len(results)
    if p.limits.portfolio_method == "pro_rata":
        for r in results:      # the same factor for everyone, give or take the rounding step
            assert r.before_portfolio * cap / total - step < r.limit <= r.before_portfolio * cap / total
    else:
        touched = {grades[r.customer_id] for r in results if r.limit < r.before_portfolio}
        best_touched = min(touched)                        # "A" < "B" < … : the best grade cut
        for r in results:
            g = grades[r.customer_id]
            if g > best_touched:                           # every worse grade is taken back to zero first
                assert r.limit == 0
            elif g < best_touched:                         # better grades are not touched
                assert r.limit == r.before_portfolio


# --------------------------------------------------------------------------- exposure
def test_exposure_is_receivables_plus_open_orders_plus_uninvoiced_deliveries():
    """35,000 open receivables + 10,000 open orders + 5,000 delivered not invoiced = 50,000."""
    c = cust(volume=400_000, orders=10_000, uninvoiced=5_000)
    e = exposure(c, D(35_000))
    assert e == Exposure(D(35_000), D(10_000), D(5_000), D(50_000))
    assert available_credit(D(60_000), e) == D(10_000)
    assert available_credit(D(40_000), e) == D(-10_000)           # over the limit: negative
    assert available_credit("60,000", D(50_000)) == D(10_000)      # plain amounts from cells work too
    assert utilisation(D(40_000), e) == D("1.25")
    assert utilisation(D(100_000), e) == D("0.5")
    assert utilisation(D(0), e) is None                            # no limit: utilisation undefined


def test_exposure_bad_input_is_named():
    c = cust(volume=400_000)
    with pytest.raises(XlcError, match=r"^open_receivables: must not be negative \(got -5\)$"):
        exposure(c, -5)
    with pytest.raises(XlcError, match=r"^open_receivables: is not a number \(got 'lots'\)$"):
        exposure(c, "lots")
    with pytest.raises(XlcError, match=r"^limit: must not be negative \(got -1\)$"):
        available_credit(-1, D(0))
    with pytest.raises(XlcError, match=r"^exposure: is not a number \(got 'x'\)$"):
        utilisation(D(1), "x")


# --------------------------------------------------------------------------- the "terms" basis (shipped default)
TERMS = Policy()   # limits.basis = "terms", limits.terms_margin_days = 15


def test_terms_basis_covers_what_an_on_time_customer_owes_on_its_terms():
    """Grade B, Net 60, annual purchases 1,000,000: paying on time it owes 60/365 of its purchases at any
    moment; the cap is 1,000,000 × (60 + 15) / 365 = 205,479.45… → 205,000 (step 1,000), not the 15 %
    (150,000) that would put it over its limit while it pays every invoice on the day."""
    result = recommend_limit(cust(volume=1_000_000), "B", TERMS, AS_OF)
    assert result.limit == D(205_000) and result.binding_rule == RULE_VOLUME
    assert result.reason == ("what a customer paying on time owes on Net 60 terms: annual purchases 1,000,000 EUR "
                             "× (60 + 15 days) / 365 = 205,479 EUR")


def test_terms_basis_grade_a_uplift_applies_to_the_terms_figure():
    """Grade A, Net 90, 1,000,000: 1,000,000 × 105 / 365 = 287,671.23…, raised by 20 % = 345,205.47… → 345,000."""
    result = recommend_limit(cust(volume=1_000_000), "A", TERMS, AS_OF)
    assert result.limit == D(345_000) and result.binding_rule == RULE_GRADE_A


def test_terms_basis_never_below_the_volume_share():
    """Grade C on Net 30: (30 + 15) / 365 = 12.3 % < 15 %, so the 15 % holds: 1,000,000 → 150,000."""
    result = recommend_limit(cust(volume=1_000_000), "C", TERMS, AS_OF)
    assert result.limit == D(150_000)
    assert result.reason == "15 % of annual purchases 1,000,000 EUR = 150,000 EUR"


def test_terms_basis_leaves_prepayment_grades_without_open_credit():
    assert recommend_limit(cust(volume=1_000_000), "D", TERMS, AS_OF).limit == 0
    assert recommend_limit(cust(volume=1_000_000), "E", TERMS, AS_OF).limit == 0


@given(st.integers(min_value=1_000, max_value=5_000_000), st.sampled_from(["A", "B", "C"]))
def test_terms_basis_never_lends_less_than_the_share_basis(volume, grade):
    share = recommend_limit(cust(volume=volume), grade, POLICY, AS_OF).limit
    terms = recommend_limit(cust(volume=volume), grade, TERMS, AS_OF).limit
    assert terms >= share
