"""The credit scorecard (xlcredit.core.scoring): score, grade, explanation and the Altman Z″-score.

Inline customers are scored by hand against the default policy (``xlcredit/data/policy.toml``,
``policy.score``). The default bins (points; "≥" for higher-is-better, "≤" for lower-is-better,
the floor for an input beyond every bin, and the points for a blank input):

    rating          ≥80:25 ≥70:20 ≥60:14 ≥50:8 ≥30:3   floor 0  missing 10
    debt_ratio      ≤0.3:15 ≤0.5:11 ≤0.7:6 ≤0.9:2      floor 0  missing 5
    quick_ratio     ≥1.5:10 ≥1.0:8 ≥0.7:5 ≥0.5:2       floor 0  missing 3
    ocf_ratio       ≥0.4:10 ≥0.2:7 ≥0:3                floor 0  missing 3
    avg_days_late   ≤0:20 ≤5:16 ≤15:11 ≤30:6 ≤60:2     floor 0  missing 10
    items_over_90   ≤0:5 ≤1:2                          floor 0  missing 5
    years           ≥5:10 ≥3:8 ≥2:6 ≥1:4               floor 1  missing 0
    reference       ≥1:5 ≥0:3                          floor 0  missing 3
    altman (off)    ≥2.6:10 ≥1.1:5                     floor 0  missing 5

Grade cut-offs: A ≥ 80, B ≥ 65, C ≥ 50, D ≥ 35, else E; grade A also needs ≥ 2 years of
relationship and no item ever paid late (tolerance 0 days) and nothing overdue now.

Altman Z″-score: Altman, E. I. (2000), "Predicting Financial Distress of Companies: Revisiting the
Z-Score and ZETA® Models", NYU Stern working paper — Z″ = 6.56·X1 + 3.26·X2 + 6.72·X3 + 1.05·X4
(X1 working capital / total assets, X2 retained earnings / total assets, X3 EBIT / total assets,
X4 book equity / total liabilities); zones Z″ > 2.60 safe, 1.10–2.60 grey, < 1.10 distress.
"""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcredit.core.errors import XlcError
from xlcredit.core.policy import GRADES, Policy
from xlcredit.core.records import Customer, Financials, PaymentHistory
from xlcredit.core.scoring import (
    EXPLAIN_HEADER,
    FACTOR_LABELS,
    AltmanResult,
    FactorLine,
    ScoreResult,
    altman_z2,
    altman_zone,
    grade_of,
    missing_treatment,
    score_customer,
    score_of,
)

D = Decimal
AS_OF = dt.date(2026, 10, 31)
POLICY = Policy()
# Altman switched on; the rating's best points drop from 25 to 15 so the enabled maxima still add up to 100.
ALTMAN_POLICY = Policy.from_mapping({"score.altman.enabled": True,
                                     "score.rating.bins": "80:15, 70:12, 60:8, 50:5, 30:2", "score.rating.missing": 6})
CLEAN = PaymentHistory(avg_days_late=0.0, items_over_90=0, max_days_late=0)


def strong_fin(**changes):
    """Debt ratio 250/1000 = 0.25, quick (600−100)/250 = 2.0, OCF 150/250 = 0.6 (all best bins)."""
    base = dict(total_assets=D(1_000_000), total_liabilities=D(250_000), current_assets=D(600_000),
                inventory=D(100_000), current_liabilities=D(250_000), operating_cash_flow=D(150_000))
    base.update(changes)
    return Financials(**base)


def customer(**changes):
    base = dict(customer_id="C1", rating=D(85), financials=strong_fin(), relationship_start=dt.date(2019, 1, 15),
                reference_check=1, history=CLEAN)
    base.update(changes)
    return Customer(**base)


def points(result):
    return {f.factor: f.points for f in result.factors}


# --------------------------------------------------------------------------- worked customers
def test_prime_customer_scores_100_and_grade_a():
    """Every factor in its best bin → 100 and grade A (grades.A = 80, ≥ 2 years, clean record).

    rating 85 ≥ 80 → 25; debt 0.25 ≤ 0.3 → 15; quick 2.0 ≥ 1.5 → 10; OCF 0.6 ≥ 0.4 → 10;
    avg days late 0 ≤ 0 → 20; items over 90: 0 ≤ 0 → 5; 7.79 years ≥ 5 → 10; reference 1 ≥ 1 → 5.
    25+15+10+10+20+5+10+5 = 100.
    """
    r = score_customer(customer(), POLICY, AS_OF)
    assert points(r) == {"rating": 25, "debt_ratio": 15, "quick_ratio": 10, "ocf_ratio": 10, "avg_days_late": 20,
                         "items_over_90": 5, "years": 10, "reference": 5}
    assert (r.score, r.grade, r.grade_note) == (100, "A", "")


def test_middling_customer_grade_c():
    """A mid-table customer: each bin by hand, total 62 → grade C (grades.C = 50 ≤ 62 < grades.B = 65).

    rating 72 ≥ 70 → 20; debt 480/800 = 0.6 ≤ 0.7 → 6; quick (300−120)/200 = 0.9 ≥ 0.7 → 5;
    OCF 50/200 = 0.25 ≥ 0.2 → 7; avg days late 12.5 ≤ 15 → 11; one item over 90 ≤ 1 → 2;
    2023-10-31..2026-10-31 = 1096 days / 365.25 = 3.00 years ≥ 3 → 8; reference blank → missing 3 (neutral).
    20+6+5+7+11+2+8+3 = 62.
    """
    c = customer(rating=D(72), reference_check=None, relationship_start=dt.date(2023, 10, 31),
                 financials=Financials(total_assets=D(800_000), total_liabilities=D(480_000),
                                       current_assets=D(300_000), inventory=D(120_000),
                                       current_liabilities=D(200_000), operating_cash_flow=D(50_000)),
                 history=PaymentHistory(avg_days_late=12.5, items_over_90=1, max_days_late=95))
    r = score_customer(c, POLICY, AS_OF)
    assert points(r) == {"rating": 20, "debt_ratio": 6, "quick_ratio": 5, "ocf_ratio": 7, "avg_days_late": 11,
                         "items_over_90": 2, "years": 8, "reference": 3}
    assert (r.score, r.grade, r.grade_note) == (62, "C", "")
    debt = r.factors[1]
    assert (debt.label, debt.value, debt.bin, debt.points, debt.max_points) == \
        ("Debt-to-assets ratio", "0.6", "≤ 0.7", 6, 15)


def test_distressed_customer_grade_e_with_floor_points():
    """Inputs beyond every bin earn the floor (score.<factor>.floor): total 1 → grade E (< grades.D = 35).

    rating 25 < 30 → floor 0; debt 475/500 = 0.95 > 0.9 → 0; quick (100−80)/200 = 0.1 < 0.5 → 0;
    OCF −20/200 = −0.1 < 0 → 0; avg 75 days > 60 → 0; 4 items over 90 > 1 → 0;
    2026-03-01..2026-10-31 = 244 days = 0.67 years < 1 → years floor 1; reference −1 < 0 → 0. Total 1.
    """
    c = customer(rating=D(25), reference_check=-1, relationship_start=dt.date(2026, 3, 1),
                 financials=Financials(total_assets=D(500_000), total_liabilities=D(475_000),
                                       current_assets=D(100_000), inventory=D(80_000),
                                       current_liabilities=D(200_000), operating_cash_flow=D(-20_000)),
                 history=PaymentHistory(avg_days_late=75.0, items_over_90=4, max_days_late=160))
    r = score_customer(c, POLICY, AS_OF)
    assert points(r) == {"rating": 0, "debt_ratio": 0, "quick_ratio": 0, "ocf_ratio": 0, "avg_days_late": 0,
                         "items_over_90": 0, "years": 1, "reference": 0}
    assert (r.score, r.grade) == (1, "E")
    assert all(f.treatment == "floor" for f in r.factors)
    assert [f.bin for f in r.factors] == ["< 30", "> 0.9", "< 0.5", "< 0", "> 60", "> 1", "< 1", "< 0"]
    assert r.factors[-1].value == "negative (-1)"


def test_prospect_with_no_data_gets_the_missing_points_not_zero():
    """A prospect with no rating, statements or history: each blank earns score.<factor>.missing.

    rating 10 (penalty: < half of 25), debt 5 (penalty), quick 3 (penalty), OCF 3 (penalty),
    avg days late 10 (neutral: half of 20), items over 90: 5 (full points), reference 3 (neutral);
    years is not blank but 0 (not trading yet) → below 1 → floor 1. 10+5+3+3+10+5+1+3 = 40 → grade D.
    """
    r = score_customer(Customer("P1"), POLICY, AS_OF)
    assert points(r) == {"rating": 10, "debt_ratio": 5, "quick_ratio": 3, "ocf_ratio": 3, "avg_days_late": 10,
                         "items_over_90": 5, "years": 1, "reference": 3}
    assert (r.score, r.grade) == (40, "D")
    treatments = {f.factor: f.treatment for f in r.factors}
    assert treatments == {"rating": "missing: penalty", "debt_ratio": "missing: penalty",
                          "quick_ratio": "missing: penalty", "ocf_ratio": "missing: penalty",
                          "avg_days_late": "missing: neutral", "items_over_90": "missing: full points",
                          "years": "floor", "reference": "missing: neutral"}
    rating = r.factors[0]
    assert (rating.value, rating.bin, rating.input) == ("(missing)", "missing: penalty", None)


def test_missing_treatment_is_named_from_the_points():
    """Missing-input rule: full points = the factor's maximum; neutral ≥ half of it; penalty < half."""
    f = POLICY.score
    assert missing_treatment(f["rating"]) == "penalty"           # 10 < 25/2
    assert missing_treatment(f["avg_days_late"]) == "neutral"    # 10 = 20/2
    assert missing_treatment(f["reference"]) == "neutral"        # 3 ≥ 5/2
    assert missing_treatment(f["items_over_90"]) == "full points"  # 5 = 5
    assert missing_treatment(f["years"]) == "penalty"            # 0 < 10/2


def test_missing_points_follow_the_policy_setting():
    """score.rating.missing is a policy setting: raising it to 14 raises a blank rating's points to 14."""
    p = Policy.from_mapping({"score.rating.missing": 14})
    base = score_of(None, "0.25", 2, "0.6", 0, 6, POLICY)
    more = score_of(None, "0.25", 2, "0.6", 0, 6, p)
    assert more.score - base.score == 4
    assert more.factors[0].treatment == "missing: neutral" and base.factors[0].treatment == "missing: penalty"


# --------------------------------------------------------------------------- bin rule
@pytest.mark.parametrize(("kwargs", "factor", "pts", "bin_text"), [
    ({"rating": 80}, "rating", 25, "≥ 80"),           # higher is better: threshold ≤ input earns it
    ({"rating": "79.9"}, "rating", 20, "≥ 70"),
    ({"rating": 30}, "rating", 3, "≥ 30"),
    ({"rating": "29.9"}, "rating", 0, "< 30"),        # beyond every bin → floor
    ({"debt_ratio": "0.5"}, "debt_ratio", 11, "≤ 0.5"),  # lower is better: threshold ≥ input earns it
    ({"debt_ratio": "0.5001"}, "debt_ratio", 6, "≤ 0.7"),
    ({"debt_ratio": "0.9"}, "debt_ratio", 2, "≤ 0.9"),
    ({"debt_ratio": "1.4"}, "debt_ratio", 0, "> 0.9"),   # liabilities above assets: floor
    ({"quick_ratio": "1.5"}, "quick_ratio", 10, "≥ 1.5"),
    ({"quick_ratio": "1"}, "quick_ratio", 8, "≥ 1"),
    ({"ocf_ratio": 0}, "ocf_ratio", 3, "≥ 0"),
    ({"ocf_ratio": "-0.01"}, "ocf_ratio", 0, "< 0"),
    ({"avg_days_late": -4}, "avg_days_late", 20, "≤ 0"),  # paying early is in the best bin
    ({"avg_days_late": 5}, "avg_days_late", 16, "≤ 5"),
    ({"avg_days_late": "60.1"}, "avg_days_late", 0, "> 60"),
    ({"years": 2}, "years", 6, "≥ 2"),
    ({"years": "0.5"}, "years", 1, "< 1"),           # years floor is 1, not 0
])
def test_bin_rule_boundaries(kwargs, factor, pts, bin_text):
    """Bin rule: scanned best first; ≥ threshold (higher is better) or ≤ threshold (lower); beyond all → floor."""
    args = dict(rating=None, debt_ratio=None, quick_ratio=None, ocf_ratio=None, avg_days_late=None, years=None)
    args.update(kwargs)
    r = score_of(policy=POLICY, **args)
    line = next(f for f in r.factors if f.factor == factor)
    assert (line.points, line.bin) == (pts, bin_text)


def test_score_of_worked_example_and_explanation_rows():
    """SCORE_OF(82, 0.42, 1.2, 0.25, 3, 6.1): 25 + 11 + 8 + 7 + 16 + items blank 5 + 10 + reference blank 3 = 85.

    rating 82 ≥ 80 → 25; debt 0.42 ≤ 0.5 → 11; quick 1.2 ≥ 1.0 → 8; OCF 0.25 ≥ 0.2 → 7; 3 days ≤ 5 → 16;
    6.1 years ≥ 5 → 10. A by score (85 ≥ 80) but an average of 3 days late shows an item was paid late
    (an average above 0 needs at least one late item) → held at B.
    """
    r = score_of(82, D("0.42"), 1.2, "0.25", 3, 6.1, POLICY)
    assert r.score == 85 and r.grade == "B"
    assert r.grade_note == "A by score, held at B: paid on average 3 days late, grade A allows none"
    rows = r.as_rows()
    assert rows == [
        ("Third-party rating", "82", "≥ 80", 25),
        ("Debt-to-assets ratio", "0.42", "≤ 0.5", 11),
        ("Quick ratio", "1.2", "≥ 1", 8),
        ("Operating cash flow / current liabilities", "0.25", "≥ 0.2", 7),
        ("Average days beyond terms", "3", "≤ 5", 16),
        ("Items paid over 90 days late", "(missing)", "missing: full points", 5),
        ("Years of relationship", "6.1", "≥ 5", 10),
        ("Reference check", "(missing)", "missing: neutral", 3),
        ("Total score", "", "Grade B", 85),
    ]
    assert sum(row[3] for row in rows[:-1]) == rows[-1][3]
    assert EXPLAIN_HEADER == ("Factor", "Value", "Bin", "Points")


def test_shown_value_never_looks_like_another_bin():
    """A ratio of 0.5001 is shown as "0.5001", not "0.50", because 0.50 would sit in the ≤ 0.5 bin."""
    r = score_of(None, "0.5001", "0.49999", "0.123456", None, None, POLICY)
    assert [f.value for f in r.factors[1:4]] == ["0.5001", "0.49999", "0.12"]


def test_disabled_factor_is_left_out_and_altman_counts_only_when_enabled():
    """score.altman.enabled = false (default): no Altman line; enabled: the Z″ earns its bin's points."""
    r = score_of(85, "0.25", 2, "0.6", 0, 6, POLICY, items_over_90=0, reference=1, altman=3)
    assert "altman" not in points(r) and r.score == 100
    r2 = score_of(85, "0.25", 2, "0.6", 0, 6, ALTMAN_POLICY, items_over_90=0, reference=1, altman="1.5")
    # rating 85 ≥ 80 → 15 (rebalanced); altman 1.5 ≥ 1.1 → 5: 15+15+10+10+20+5+10+5+5 = 95
    assert points(r2)["altman"] == 5 and points(r2)["rating"] == 15 and r2.score == 95
    line = r2.factors[-1]
    assert (line.label, line.value, line.bin) == ("Altman Z″-score", "1.5 (grey)", "≥ 1.1")


# --------------------------------------------------------------------------- grade A conditions
def test_grade_a_needs_two_years():
    """grades.A_min_years = 2: score 94 is A by score, but 1.4 years of relationship holds it at B.

    as_of − 511 days = 1.399 → 1.40 years ≥ 1 → 4 points; the rest best bins: 25+15+10+10+20+5+4+5 = 94.
    """
    c = customer(relationship_start=AS_OF - dt.timedelta(days=511))
    r = score_customer(c, POLICY, AS_OF)
    assert r.score == 94 and POLICY.grade_for(r.score) == "A"
    assert r.grade == "B"
    assert r.grade_note == "A by score, held at B: 1.4 years of relationship, grade A needs 2"
    # the policy setting moves the bar: with A_min_years = 1 the same customer is A
    assert score_customer(c, Policy.from_mapping({"grades.A_min_years": 1}), AS_OF).grade == "A"


def test_grade_a_at_exactly_two_years():
    """The years condition is "at least": 2.00 years of relationship qualifies for A."""
    c = customer(relationship_start=dt.date(2024, 10, 31))
    assert c.years_of_relationship(AS_OF) == D("2.00")
    r = score_customer(c, POLICY, AS_OF)
    # 2 years ≥ 2 → 6 points: 25+15+10+10+20+5+6+5 = 96
    assert (r.score, r.grade, r.grade_note) == (96, "A", "")


def test_grade_a_needs_a_clean_payment_record():
    """grades.A_overdue_tolerance_days = 0: one item paid 12 days late holds a 96 at B.

    avg 2 days ≤ 5 → 16: 25+15+10+10+16+5+10+5 = 96.
    """
    c = customer(history=PaymentHistory(avg_days_late=2.0, items_over_90=0, max_days_late=12))
    r = score_customer(c, POLICY, AS_OF)
    assert (r.score, r.grade) == (96, "B")
    assert r.grade_note == "A by score, held at B: an item was paid 12 days late, grade A allows none"
    tolerant = Policy.from_mapping({"grades.A_overdue_tolerance_days": 15})
    assert score_customer(c, tolerant, AS_OF).grade == "A"  # 12 ≤ 15 days tolerated


def test_grade_a_not_with_an_item_overdue_now():
    """Grade A needs nothing overdue at as_of (history.overdue_now)."""
    c = customer(history=dataclasses.replace(CLEAN, overdue_now=True))
    r = score_customer(c, POLICY, AS_OF)
    assert (r.score, r.grade) == (100, "B")
    assert r.grade_note == "A by score, held at B: an item is overdue now, grade A needs none"


def test_grade_a_not_without_any_payment_history():
    """A customer with no payment history cannot be A, even when its score reaches the A cut-off.

    Blank history: avg days late missing → 10, items over 90 missing → 5: 25+15+10+10+10+5+10+5 = 90.
    """
    r = score_customer(customer(history=PaymentHistory()), POLICY, AS_OF)
    assert (r.score, r.grade) == (90, "B")
    assert r.grade_note == ("A by score, held at B: no payment history yet, grade A needs a record of paying "
                            "on time")


def test_grade_a_held_for_several_reasons_names_each():
    c = customer(relationship_start=AS_OF - dt.timedelta(days=400),
                 history=PaymentHistory(avg_days_late=0.0, items_over_90=0, max_days_late=1, overdue_now=True))
    r = score_customer(c, POLICY, AS_OF)
    # 1.10 years ≥ 1 → 4: 25+15+10+10+20+5+4+5 = 94
    assert r.score == 94
    assert r.grade_note == ("A by score, held at B: 1.1 years of relationship, grade A needs 2; an item was paid "
                            "1 day late, grade A allows none; an item is overdue now, grade A needs none")


def test_grade_a_with_unknown_worst_item_is_held():
    """History without the worst late payment (max_days_late blank) cannot prove a clean record."""
    c = customer(history=PaymentHistory(avg_days_late=0.0, items_over_90=0, max_days_late=None))
    r = score_customer(c, POLICY, AS_OF)
    assert r.grade == "B" and "the worst late payment is not known" in r.grade_note


def test_score_of_grade_a_notes_the_unchecked_history():
    """SCORE_OF knows no worst item or overdue items: grade A from the cut-offs, with a note saying so."""
    r = score_of(85, "0.25", 2, "0.6", 0, 6, POLICY)
    # 25+15+10+10+20+items blank 5+10+reference blank 3 = 98
    assert (r.score, r.grade) == (98, "A")
    assert r.grade_note == ("A by score; not checked here: grade A also needs no item ever paid late and none "
                            "overdue now")


@pytest.mark.parametrize(("kwargs", "note"), [
    ({"years": "1.5"}, "A by score, held at B: 1.5 years of relationship, grade A needs 2"),
    ({"years": None}, "A by score, held at B: years of relationship not given, grade A needs 2"),
    ({"items_over_90": 1}, "A by score, held at B: 1 item paid over 90 days late, grade A allows none"),
])
def test_score_of_grade_a_conditions_it_can_check(kwargs, note):
    args = dict(rating=100, debt_ratio=0, quick_ratio=3, ocf_ratio=1, avg_days_late=0, years=6)
    args.update(kwargs)
    r = score_of(policy=POLICY, **args)
    assert POLICY.grade_for(r.score) == "A" and r.grade == "B" and r.grade_note == note


def test_grade_of_uses_the_cut_offs():
    """GRADE_OF: A ≥ 80, B ≥ 65, C ≥ 50, D ≥ 35, else E (grades.A..D); text and Decimal accepted."""
    assert [grade_of(s, POLICY) for s in (100, 80, "79.5", 65, D("64.99"), 50, 35.0, 34, 0)] == \
        ["A", "A", "B", "B", "C", "C", "D", "E", "E"]
    assert grade_of(70, Policy.from_mapping({"grades.A": 70, "grades.B": 60})) == "A"


# --------------------------------------------------------------------------- Altman Z″
def test_altman_worked_example():
    """Altman (2000) Z″ model on a small firm, by hand.

    Total assets 1,000, total liabilities 600, current assets 400, current liabilities 250,
    retained earnings 150, EBIT 80:
      X1 = (400 − 250) / 1,000 = 0.15      6.56 × 0.15 = 0.984
      X2 = 150 / 1,000 = 0.15              3.26 × 0.15 = 0.489
      X3 = 80 / 1,000 = 0.08               6.72 × 0.08 = 0.5376
      X4 = (1,000 − 600) / 600 = 2/3       1.05 × 2/3  = 0.70
      Z″ = 0.984 + 0.489 + 0.5376 + 0.70 = 2.7106 > 2.60 → safe.
    """
    fin = Financials(total_assets=D(1000), total_liabilities=D(600), current_assets=D(400),
                     current_liabilities=D(250), retained_earnings=D(150), ebit=D(80))
    a = altman_z2(fin)
    assert isinstance(a, AltmanResult)
    assert (a.x1, a.x2, a.x3) == (D("0.15"), D("0.15"), D("0.08"))
    assert a.x4 == D(400) / D(600)
    assert a.z == pytest.approx(2.7106, abs=1e-12)
    assert a.zone == "safe"


def test_altman_distress_example():
    """Negative working capital and accumulated losses: TA 1,000, TL 900, CA 200, CL 400, RE −100, EBIT 10.

    X1 = −200/1000 = −0.2 → −1.312; X2 = −0.1 → −0.326; X3 = 0.01 → 0.0672; X4 = 100/900 → 0.11667.
    Z″ = −1.312 − 0.326 + 0.0672 + 0.116667 = −1.454133 < 1.10 → distress.
    """
    fin = Financials(total_assets=D(1000), total_liabilities=D(900), current_assets=D(200),
                     current_liabilities=D(400), retained_earnings=D(-100), ebit=D(10))
    a = altman_z2(fin)
    assert a is not None and a.zone == "distress"
    assert a.z == pytest.approx(-1.312 - 0.326 + 0.0672 + 1.05 / 9, abs=1e-12)


def test_altman_zone_boundaries():
    """Altman (2000) zones: Z″ > 2.60 safe; 1.10 ≤ Z″ ≤ 2.60 grey; Z″ < 1.10 distress (boundaries are grey).

    Statements landing exactly on the boundaries (total assets = total liabilities = 10,000, so X4 = 0,
    retained earnings 0):
      working capital 3,946, EBIT 17: 6.56 × 0.3946 + 6.72 × 0.0017 = 2.588576 + 0.011424 = 2.600000 → grey;
      working capital 1,642, EBIT 34: 6.56 × 0.1642 + 6.72 × 0.0034 = 1.077152 + 0.022848 = 1.100000 → grey;
      one more unit of EBIT above (2.600672) is safe; one less working capital below (1.099344) is distress.
    """
    def fin(wc, ebit):
        return Financials(total_assets=D(10_000), total_liabilities=D(10_000), current_assets=D(5_000) + wc,
                          current_liabilities=D(5_000), retained_earnings=D(0), ebit=D(ebit))

    on_top, above = altman_z2(fin(3946, 17)), altman_z2(fin(3946, 18))
    on_bottom, below = altman_z2(fin(1642, 34)), altman_z2(fin(1641, 34))
    assert on_top.z == 2.6 and on_top.zone == "grey"
    assert above.zone == "safe" and above.z == pytest.approx(2.600672)
    assert on_bottom.z == 1.1 and on_bottom.zone == "grey"
    assert below.zone == "distress" and below.z == pytest.approx(1.099344)
    assert [altman_zone(v) for v in ("2.6000001", "2.60", "1.10", "1.0999999", -3)] == \
        ["safe", "grey", "grey", "distress", "distress"]


def test_altman_missing_inputs_give_none_and_the_missing_points():
    """altman_z2 returns None when any of the six figures is blank; the enabled factor then earns its missing 5."""
    assert altman_z2(strong_fin()) is None  # no retained earnings or EBIT
    r = score_customer(customer(), ALTMAN_POLICY, AS_OF)
    line = r.factors[-1]
    assert (line.factor, line.points, line.treatment) == ("altman", 5, "missing: neutral")
    # rating 15 (rebalanced best) + 15+10+10+20+5+10+5 + altman missing 5 = 95
    assert r.score == 95


def test_altman_factor_in_score_customer():
    """Enabled Altman factor on the worked example: Z″ = 2.7106 ≥ 2.6 → 10 points (score.altman.bins)."""
    fin = Financials(total_assets=D(1000), total_liabilities=D(600), current_assets=D(400), inventory=D(0),
                     current_liabilities=D(250), operating_cash_flow=D(150), retained_earnings=D(150), ebit=D(80))
    # debt 0.6 ≤ 0.7 → 6; quick 400/250 = 1.6 ≥ 1.5 → 10; OCF 150/250 = 0.6 → 10
    r = score_customer(customer(financials=fin), ALTMAN_POLICY, AS_OF)
    assert points(r) == {"rating": 15, "debt_ratio": 6, "quick_ratio": 10, "ocf_ratio": 10, "avg_days_late": 20,
                         "items_over_90": 5, "years": 10, "reference": 5, "altman": 10}
    assert r.score == 91
    assert r.factors[-1].value == "2.71 (safe)"
    # the same statements, Altman off: no Altman line, rating back to 25
    assert score_customer(customer(financials=fin), POLICY, AS_OF).score == 25 + 6 + 10 + 10 + 20 + 5 + 10 + 5


# --------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"rating": "abc"}, r"^rating: is not a number \(got 'abc'\)$"),
    ({"rating": 120}, r"^rating: must lie between 0 and 100 \(got 120\)$"),
    ({"rating": -1}, r"^rating: must lie between 0 and 100 \(got -1\)$"),
    ({"debt_ratio": "-0.1"}, r"^debt_ratio: must not be negative, it is total liabilities / total assets"),
    ({"quick_ratio": -2}, r"^quick_ratio: must not be negative"),
    ({"ocf_ratio": "#N/A"}, r"^ocf_ratio: is not a number \(got '#N/A'\)$"),
    ({"avg_days_late": True}, r"^avg_days_late: is not a number \(got True\)$"),
    ({"years": -1}, r"^years: must not be negative, it is the length of the relationship"),
    ({"years": float("inf")}, r"^years: is not a finite number"),
    ({"items_over_90": "1.5"}, r"^items_over_90: must be a whole number \(got 1.5\)$"),
    ({"items_over_90": -1}, r"^items_over_90: must not be negative"),
    ({"reference": 2}, r"^reference: must be 1 \(positive\), 0 \(neutral\) or -1 \(negative\) \(got 2\)$"),
    ({"reference": "yes"}, r"^reference: is not a number \(got 'yes'\)$"),
    ({"altman": "safe"}, r"^altman: is not a number \(got 'safe'\)$"),
])
def test_score_of_refuses_bad_input_naming_the_argument(kwargs, message):
    args = dict(rating=80, debt_ratio="0.4", quick_ratio=1, ocf_ratio="0.3", avg_days_late=0, years=3)
    args.update(kwargs)
    with pytest.raises(XlcError, match=message):
        score_of(policy=POLICY, **args)


def test_score_of_blank_text_and_nan_are_missing():
    """Blank cells (None, "", NaN) are missing inputs (missing points), not errors and not zero."""
    r = score_of("", float("nan"), None, "  ", None, None, POLICY)
    assert [f.treatment for f in r.factors[:4]] == ["missing: penalty"] * 4


@pytest.mark.parametrize(("value", "message"), [
    (101, r"^score: must lie between 0 and 100 \(got 101\)$"),
    (-0.5, r"^score: must lie between 0 and 100 \(got -0.5\)$"),
    ("high", r"^score: is not a number \(got 'high'\)$"),
    (None, r"^score: is empty$"),
])
def test_grade_of_refuses_bad_scores(value, message):
    with pytest.raises(XlcError, match=message):
        grade_of(value, POLICY)


def test_customer_statement_problems_name_the_field():
    """Zero denominators and impossible statements are refused naming the statement line."""
    with pytest.raises(XlcError, match=r"^total_assets: is zero, so the debt ratio cannot be computed$"):
        score_customer(customer(financials=strong_fin(total_assets=D(0))), POLICY, AS_OF)
    with pytest.raises(XlcError, match=r"^current_liabilities: is zero, so the quick ratio cannot be computed$"):
        score_customer(customer(financials=strong_fin(current_liabilities=D(0))), POLICY, AS_OF)
    with pytest.raises(XlcError, match=r"^inventory: must not exceed current_assets \(600000\); got 700000$"):
        score_customer(customer(financials=strong_fin(inventory=D(700_000))), POLICY, AS_OF)
    with pytest.raises(XlcError, match=r"^total_liabilities: must not be negative \(got -5\)$"):
        strong_fin(total_liabilities=D(-5))
    with pytest.raises(XlcError, match=r"^as_of: is not a date \(got 'soon'\)$"):
        score_customer(customer(), POLICY, "soon")


def test_altman_zero_denominators_are_refused():
    zero_tl = Financials(total_assets=D(1000), total_liabilities=D(0), current_assets=D(400),
                         current_liabilities=D(250), retained_earnings=D(150), ebit=D(80))
    with pytest.raises(XlcError, match=r"^total_liabilities: is zero, so the Altman Z″-score"):
        altman_z2(zero_tl)
    with pytest.raises(XlcError, match=r"^total_assets: is zero, so the Altman Z″-score cannot be computed$"):
        altman_z2(dataclasses.replace(zero_tl, total_assets=D(0), total_liabilities=D(10)))


def test_unknown_enabled_factor_in_the_policy_is_refused():
    p = Policy.from_mapping({"score.cash.bins": "1:10", "score.rating.bins": "80:15, 70:12, 60:8, 50:5, 30:2",
                             "score.rating.missing": 6})
    with pytest.raises(XlcError, match=r"^score\.cash: is not a factor the scorecard knows"):
        score_of(80, 0, 1, 1, 0, 3, p)


# --------------------------------------------------------------------------- properties
HIGHER = {"rating": True, "debt_ratio": False, "quick_ratio": True, "ocf_ratio": True, "avg_days_late": False,
          "years": True, "items_over_90": False, "reference": True, "altman": True}
VALUES = {
    "rating": st.decimals(0, 100, places=1),
    "debt_ratio": st.decimals(0, 3, places=3),
    "quick_ratio": st.decimals(0, 5, places=3),
    "ocf_ratio": st.decimals(-2, 2, places=3),
    "avg_days_late": st.decimals(-30, 400, places=1),
    "years": st.decimals(0, 40, places=2),
    "items_over_90": st.integers(0, 20).map(D),
    "reference": st.sampled_from([D(-1), D(0), D(1)]),
    "altman": st.decimals(-10, 15, places=3),
}
POSITIONAL = ("rating", "debt_ratio", "quick_ratio", "ocf_ratio", "avg_days_late", "years")


def _as_cell(value):
    """The same number as Excel/CSV might deliver it: Decimal, float or text."""
    return st.sampled_from([value, float(value), str(value)])


inputs_st = st.fixed_dictionaries({k: st.one_of(st.none(), v) for k, v in VALUES.items()})
POLICIES = st.sampled_from([POLICY, ALTMAN_POLICY])


def _call(inputs, policy):
    return score_of(*(inputs[k] for k in POSITIONAL), policy, items_over_90=inputs["items_over_90"],
                    reference=inputs["reference"], altman=inputs["altman"])


@settings(max_examples=300, deadline=None)
@given(inputs_st, POLICIES)
def test_score_is_0_to_100_and_the_lines_add_up(inputs, policy):
    """Invariant: 0 ≤ score ≤ 100, the explanation's points sum exactly to the score, each ≤ its maximum."""
    r = _call(inputs, policy)
    assert isinstance(r.score, int) and 0 <= r.score <= 100
    assert sum(f.points for f in r.factors) == r.score
    assert sum(f.max_points for f in r.factors) == 100
    assert all(0 <= f.points <= f.max_points for f in r.factors)
    assert [row[3] for row in r.as_rows()] == [f.points for f in r.factors] + [r.score]
    assert r.grade in GRADES
    by_score = policy.grade_for(r.score)
    assert r.grade == by_score or (by_score == "A" and r.grade == "B" and r.grade_note.startswith("A by score"))
    for f in r.factors:  # a blank input is always named as such, never a silent zero
        assert (inputs[f.factor] is None) == f.treatment.startswith("missing: ")


@settings(max_examples=400, deadline=None)
@given(inputs_st, st.sampled_from(list(VALUES)), st.data(), POLICIES)
def test_improving_one_input_never_lowers_the_score(inputs, name, data, policy):
    """Monotonicity: with the other inputs fixed (some blank), a better value of one input never scores less."""
    a, b = data.draw(VALUES[name]), data.draw(VALUES[name])
    worse, better = (min(a, b), max(a, b)) if HIGHER[name] else (max(a, b), min(a, b))
    low = _call({**inputs, name: worse}, policy)
    high = _call({**inputs, name: better}, policy)
    assert high.score >= low.score
    assert GRADES.index(high.grade) <= GRADES.index(low.grade)


@settings(max_examples=150, deadline=None)
@given(inputs_st, st.data())
def test_number_types_do_not_change_the_score(inputs, data):
    """Decimal, float and numeric text of the same number score alike (Excel cells, CSV text)."""
    cells = {k: (None if v is None else data.draw(_as_cell(v))) for k, v in inputs.items()}
    assert _call(cells, ALTMAN_POLICY) == _call(inputs, ALTMAN_POLICY)


@settings(max_examples=200, deadline=None)
@given(inputs_st)
def test_shown_value_falls_in_the_same_bin(inputs):
    """The value shown on an explanation line, read back, earns the same points as the exact input."""
    r = _call(inputs, ALTMAN_POLICY)
    for f in r.factors:
        if f.input is None or f.factor == "reference":
            continue
        shown = f.value.split(" (")[0]
        again = _call({**{k: None for k in inputs}, f.factor: shown}, ALTMAN_POLICY)
        assert next(g for g in again.factors if g.factor == f.factor).points == f.points


amount = st.integers(0, 10_000_000).map(D)


@st.composite
def customers_st(draw):
    ca = draw(st.one_of(st.none(), amount))
    inventory = draw(st.one_of(st.none(), st.integers(0, int(ca) if ca is not None else 10**6).map(D)))
    fin = Financials(
        total_assets=draw(st.one_of(st.none(), st.integers(1, 10**7).map(D))),
        total_liabilities=draw(st.one_of(st.none(), st.integers(1, 2 * 10**7).map(D))),
        current_assets=ca, inventory=inventory,
        current_liabilities=draw(st.one_of(st.none(), st.integers(1, 10**7).map(D))),
        operating_cash_flow=draw(st.one_of(st.none(), st.integers(-10**6, 10**6).map(D))),
        retained_earnings=draw(st.one_of(st.none(), st.integers(-10**6, 10**6).map(D))),
        ebit=draw(st.one_of(st.none(), st.integers(-10**6, 10**6).map(D))),
    )
    history = PaymentHistory(
        avg_days_late=draw(st.one_of(st.none(), st.floats(-10, 200, allow_nan=False))),
        items_over_90=draw(st.one_of(st.none(), st.integers(0, 10))),
        max_days_late=draw(st.one_of(st.none(), st.integers(0, 400))),
        overdue_now=draw(st.booleans()),
    )
    return Customer(
        "R1", rating=draw(st.one_of(st.none(), st.decimals(0, 100, places=1))), financials=fin,
        relationship_start=draw(st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), AS_OF))),
        reference_check=draw(st.sampled_from([None, -1, 0, 1])), history=history)


@settings(max_examples=300, deadline=None)
@given(customers_st(), POLICIES)
def test_score_customer_invariants_and_grade_a_conditions(c, policy):
    """Any customer: 0..100, lines add up, the same score as SCORE_OF on its ratios; A only with A's conditions."""
    r = score_customer(c, policy, AS_OF)
    assert 0 <= r.score <= 100 and sum(f.points for f in r.factors) == r.score
    fin, h = c.financials, c.history
    years = c.years_of_relationship(AS_OF)
    a = altman_z2(fin)
    explicit = score_of(c.rating, fin.debt_ratio, fin.quick_ratio, fin.ocf_ratio, h.avg_days_late, years, policy,
                        items_over_90=h.items_over_90, reference=c.reference_check,
                        altman=None if a is None else a.z)
    assert explicit.score == r.score
    if r.grade == "A":
        assert years >= policy.grades.A_min_years
        assert h.max_days_late is not None and h.max_days_late <= policy.grades.A_overdue_tolerance_days
        assert not h.overdue_now
    elif policy.grade_for(r.score) == "A":
        assert r.grade == "B" and r.grade_note.startswith("A by score, held at B: ")
    else:
        assert r.grade == policy.grade_for(r.score) and r.grade_note == ""


def test_result_records_are_frozen_and_labels_are_finance_words():
    r = score_of(80, "0.4", 1, "0.3", 0, 3, POLICY)
    assert isinstance(r, ScoreResult) and all(isinstance(f, FactorLine) for f in r.factors)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.score = 1  # type: ignore[misc]
    assert [f.label for f in r.factors] == [FACTOR_LABELS[f.factor] for f in r.factors]
    assert FACTOR_LABELS["debt_ratio"] == "Debt-to-assets ratio"
