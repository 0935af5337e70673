"""The credit policy (DESIGN.md, policy defaults): every number validated once, round-trips."""

from decimal import Decimal

import pytest

from xlcredit.core.errors import XlcError
from xlcredit.core.policy import Policy
from xlcredit.io.policy_file import load_policy


def test_defaults_match_the_credit_policy_table():
    p = Policy()
    assert p.limits.volume_share == Decimal("0.15")          # single-customer limit ≤ 15 % of purchases
    assert p.limits.cash_flow_share == Decimal("0.3")        # ≤ 30 % of our monthly cash flow
    assert p.limits.portfolio_revenue_share == Decimal("0.15")  # sum of limits ≤ 15 % of revenue
    assert p.limits.first_order_share == Decimal("0.5")      # new customer ≤ 50 % of first order
    assert p.limits.grade_a_uplift == Decimal("0.2")         # grade A +20 %
    assert p.deposit.C_new == Decimal("0.3")                 # grade C new customer 30 % deposit
    assert (p.terms.A, p.terms.B, p.terms.C) == ("Net 90", "Net 60", "Net 30")
    assert p.discount.rate == Decimal("0.02")
    assert [s.days for s in p.dunning] == [7, 15, 30, 45, 90]
    assert p.order_stop_days == 30
    assert p.insurance.protracted_default_days == 180 and p.insurance.indemnity == Decimal("0.9")
    assert p.bucket_labels == ("Current", "1-30", "31-60", "61-90", "91-180", "180+")


def test_shipped_policy_file_is_the_default_policy():
    assert load_policy() == Policy()


def test_round_trips_through_toml_and_sheet_rows():
    p = Policy.from_mapping({"limits.volume_share": "0.2", "score.rating.missing": 8, "dunning.step1.days": 5})
    assert Policy.from_toml(p.to_toml()) == p
    assert Policy.from_rows([("Key", "Value"), *p.to_rows(), ("", None), ("# note", "x")]) == p


@pytest.mark.parametrize(("key", "value", "words"), [
    ("limits.step", "-1000", r"limits\.step: must not be negative \(got -1000\)"),
    ("limits.volume_share", "1.5", r"limits\.volume_share: is a share and must not be above 1 \(got 1\.5\)"),
    ("grades.C", 70, r"grades\.C: cut-offs must increase from E to A"),
    ("limits.colour", "red", r"limits\.colour: is not a policy setting \(value 'red'\)"),
    ("late.basis", 364, r"late\.basis: must be 365 or 360 \(got 364\)"),
    ("limits.step", "lots", r"limits\.step: is not a number \(got 'lots'\)"),
    ("review.months", 2.5, r"review\.months: must be a whole number"),
    ("score.rating.bins", "80:30, 70:20", r"score: the best points of the enabled factors must add up to 100"),
    ("score.rating.bins", "70:25, 80:20", r"score\.rating\.bins: thresholds must decrease"),
    ("ageing.bounds", "0, 60, 30", r"ageing\.bounds: must increase"),
    ("dunning.step2.days", 3, r"dunning: step days must increase"),
])
def test_bad_values_are_refused_naming_key_and_value(key, value, words):
    with pytest.raises(XlcError, match=words):
        Policy.from_mapping({key: value})


def test_bad_toml_is_refused():
    with pytest.raises(XlcError, match="policy: is not valid TOML"):
        Policy.from_toml("[limits\nstep=")
