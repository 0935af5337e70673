"""IFRS 9 provision matrix, expected credit loss and roll-rate loss rates (xlcredit.core.provisioning).

Sources:

* IFRS 9 *Financial Instruments*, Illustrative Examples, Example 12 "Provision matrix" (IE74–IE77):
  Company M has trade receivables of CU30 million and uses a provision matrix on historical observed
  default rates adjusted for forward-looking estimates: Current 0.3 %, 1–30 days past due 1.6 %,
  31–60 days 3.6 %, 61–90 days 6.6 %, more than 90 days 10.6 %; gross carrying amounts 15,000,000 /
  7,500,000 / 4,000,000 / 2,500,000 / 1,000,000 (total 30,000,000) → lifetime ECL allowance 45,000 /
  120,000 / 144,000 / 165,000 / 106,000, total 580,000.
* The roll-rate (flow) model: OCC Comptroller's Handbook, *Retail Lending* examination procedures —
  balances stratified by days past due, "the rates at which loans migrate or 'roll' through
  delinquency levels are then used to project losses", chained through to charge-off. No published
  numeric table was at hand, so the roll-rate example below is constructed by that method and its
  arithmetic is written out in the test.
"""

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcredit.core.errors import XlcError
from xlcredit.core.money import to_minor
from xlcredit.core.provisioning import (
    ecl_minor,
    expected_credit_loss,
    matrix_from_roll_rates,
    provision_matrix,
    provision_report,
    roll_rate_loss_rates,
)

D = Decimal
IE_LABELS = ("Current", "1-30", "31-60", "61-90", ">90")
IE_RATES = (D("0.003"), D("0.016"), D("0.036"), D("0.066"), D("0.106"))
IE_GROSS = (D(15_000_000), D(7_500_000), D(4_000_000), D(2_500_000), D(1_000_000))


def test_ifrs9_ie74_ie77_provision_matrix_company_m():
    """IFRS 9 IE74–IE77 (Example 12, Company M): the allowance per bucket and 580,000 in total."""
    matrix = provision_matrix(IE_LABELS, IE_RATES)
    result = expected_credit_loss(matrix, IE_GROSS, currency="EUR")
    assert [ln.ecl for ln in result.lines] == [D(45_000), D(120_000), D(144_000), D(165_000), D(106_000)]
    assert result.gross == D(30_000_000)
    assert result.ecl == D(580_000)
    assert [ln.loss_rate for ln in result.lines] == list(IE_RATES)
    # the same by customer: one customer holding the whole book gives the same figures
    report = provision_report(matrix, {"M": dict(zip(IE_LABELS, IE_GROSS, strict=True))})
    assert report.total_ecl == D(580_000)
    assert [ln.ecl for ln in report.by_bucket.lines] == [ln.ecl for ln in result.lines]


def test_ifrs9_example_in_bulk_minor_units():
    """The bulk path (int64 cents, exact integer arithmetic) reproduces IE77 to the cent."""
    cents = np.array([[to_minor(g) for g in IE_GROSS]], dtype=np.int64)
    out = ecl_minor(cents, IE_RATES)
    assert out.dtype == np.int64
    assert out[0].tolist() == [to_minor(D(x)) for x in (45_000, 120_000, 144_000, 165_000, 106_000)]
    assert int(out.sum()) == to_minor(D(580_000))


def test_forward_looking_factor_scales_rates_and_caps_at_one():
    matrix = provision_matrix(IE_LABELS, IE_RATES, forward_factor=D("1.25"))
    assert matrix.historical == IE_RATES
    assert matrix.loss_rates == (D("0.00375"), D("0.02"), D("0.045"), D("0.0825"), D("0.1325"))
    assert expected_credit_loss(matrix, IE_GROSS).ecl == D(725_000)       # 580,000 × 1.25
    capped = provision_matrix(("a", "b"), (D("0.5"), D("0.9")), forward_factor=2)
    assert capped.loss_rates == (D(1), D(1))
    assert provision_matrix(("a",), (D("0.2"),), forward_factor=0).loss_rates == (D(0),)


def test_ecl_rounds_half_up_per_customer_and_bucket_and_totals_are_their_sums():
    matrix = provision_matrix(("Current", "1-30"), (D("0.005"), D("0.5")))
    report = provision_report(matrix, {"A": [D("1.00"), D("0.01")], "B": {"Current": D("1.00")}}, "EUR")
    a, b = report.customers
    assert a.ecl == (D("0.01"), D("0.01"))        # 0.005 → 0.01 and 0.005 → 0.01 (half up)
    assert b.ecl == (D("0.01"), D("0.00"))        # missing bucket counts as 0
    assert report.by_bucket.lines[0].ecl == D("0.02")   # sum of customers, not round(2.00 × 0.005) = 0.01
    assert report.total_ecl == a.total_ecl + b.total_ecl == D("0.03")
    yen = expected_credit_loss(provision_matrix(("x",), (D("0.015"),)), [D(100)], currency="JPY")
    assert yen.ecl == D(2)                         # 1.5 yen → 2 (whole yen)


def test_roll_rates_hand_computed_chain():
    """Constructed example (OCC roll-rate method), pooled over two pairs of month-ends:

    roll Due→1-30  = (100 + 120) / (1000 + 1200) = 0.1
    roll 1-30→31-60 = (80 + 50) / (200 + 100)    = 13/30
    roll 31-60→61-90 = (60 + 40) / (100 + 80)    = 5/9
    roll 61-90→W/O  = (40 + 50) / (50 + 60)      = 9/11
    loss: W/O 1; 61-90 9/11 = 0.818182; 31-60 5/11 = 0.454545; 1-30 13/66 = 0.196970; Due 13/660 = 0.019697
    """
    labels = ("Due within 30 days", "1-30", "31-60", "61-90", "Write-off")
    snaps = [[1000, 200, 100, 50, 0], [1200, 100, 80, 60, 40], [1000, 120, 50, 40, 50]]
    res = roll_rate_loss_rates(snaps, labels)
    assert res.periods == 2
    assert res.flows == (D(220), D(130), D(100), D(90))
    assert res.bases == (D(2200), D(300), D(180), D(110))
    assert res.roll_rates == (D("0.1"), D("0.433333"), D("0.555556"), D("0.818182"))
    assert res.loss_rates == (D("0.019697"), D("0.196970"), D("0.454545"), D("0.818182"), D(1))
    assert res.notes == ()
    half = roll_rate_loss_rates(snaps, labels, terminal_loss=D("0.5"))
    assert half.loss_rates[-1] == D("0.5") and half.loss_rates[0] == D("0.009848")   # 13/1320


def test_roll_rates_empty_bucket_and_more_arriving_than_left():
    res = roll_rate_loss_rates([[100, 0, 5], [100, 20, 0], [100, 0, 30]], ["a", "b", "c"])
    # a→b: 20 / 200 = 0.1; b→c: 30 / 20 > 1 → capped; c is the write-off bucket
    assert res.roll_rates == (D("0.1"), D(1))
    assert res.loss_rates == (D("0.1"), D(1), D(1))
    assert any("capped at 100 %" in n for n in res.notes)
    never = roll_rate_loss_rates([[100, 0, 0], [100, 0, 0]], ["a", "b", "c"])
    assert never.roll_rates == (D(0), None)       # nothing rolled out of a; b never held anything
    assert never.loss_rates == (D(0), D(1), D(1))
    assert never.notes == ("b: no balance in the history; assumed to roll on in full",)


def test_loss_rates_round_half_up_like_money():
    """1 % × 2 % × 15 % × 35 % = 0.0000105 exactly: half up gives 0.000011 (banker's rounding would give 0.000010)."""
    p = [D("0.01"), D("0.02"), D("0.15"), D("0.35")]
    rows = [[D(0)] * 5]
    for amount in (1, 0, 0, 0, 0):
        rows.append([D(amount)] + [rows[-1][j] * p[j] for j in range(4)])
    res = roll_rate_loss_rates(rows, ["b0", "b1", "b2", "b3", "b4"])
    assert res.loss_rates == (D("0.000011"), D("0.00105"), D("0.0525"), D("0.35"), D(1))


def test_matrix_from_roll_rates_weights_fine_buckets_by_todays_balances():
    # roll buckets: Due, 1-30, 31-60, 61-90, 91-120, 121-150, 151-180, 180+; every roll rate is 1/2 except
    # Due→1-30 = 100/1000 = 0.1, so loss rates are 1, 0.5, 0.25, … back to 1-30 = 1/64 and Due = 1/640
    snaps = [[1000, 320, 160, 80, 40, 20, 10, 0], [1000, 100, 160, 80, 40, 20, 10, 5]]
    res = roll_rate_loss_rates(snaps, ["Due", "1-30", "31-60", "61-90", "91-120", "121-150", "151-180", "180+"])
    assert res.roll_rates == (D("0.1"),) + (D("0.5"),) * 6
    assert res.loss_rates == (D("0.001563"), D("0.015625"), D("0.03125"), D("0.0625"), D("0.125"), D("0.25"),
                              D("0.5"), D(1))      # 0.0015625 rounds half up to 0.001563
    groups = [(0,), (1,), (2,), (3,), (4, 5, 6), (7,)]
    weights = [0, 0, 0, 0, 300, 0, 100, 0]         # 91-180 today: 300 in 91-120, 100 in 151-180
    m = matrix_from_roll_rates(res, ["Current", "1-30", "31-60", "61-90", "91-180", "180+"], groups, weights,
                               forward_factor=D("1.1"))
    # 91-180: (300 × 0.125 + 100 × 0.5) / 400 = 0.21875; × 1.1 = 0.240625
    assert m.historical[4] == D("0.21875")
    assert m.loss_rates[4] == D("0.240625")
    assert m.loss_rates[5] == D(1)                 # 1 × 1.1, capped
    assert m.historical[1] == D("0.015625")
    assert m.source == "roll rates over 1 period"
    plain = matrix_from_roll_rates(res, ["a", "b"], [(4, 5, 6), (7,)])
    assert plain.historical[0] == D("0.291667")    # (0.125 + 0.25 + 0.5) / 3 without weights


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 90), min_size=3, max_size=6),
       st.lists(st.integers(0, 10**7), min_size=2, max_size=8))
def test_roll_rates_recover_the_flows_that_made_the_balances(pct, new_business):
    """Balances made by rolling p_k of each bucket into the next give back p_k (when the bucket held money)."""
    k = len(pct) + 1
    p = [D(x) / 100 for x in pct]
    rows = [[D(0)] * k]
    for amount in new_business:
        prev = rows[-1]
        rows.append([D(amount)] + [prev[j] * p[j] for j in range(k - 1)])
    res = roll_rate_loss_rates(rows, [f"b{j}" for j in range(k)])
    expected_loss = D(1)
    losses = [D(1)]
    for j in range(k - 2, -1, -1):
        if res.bases[j] > 0:
            assert res.roll_rates[j] == p[j].quantize(D("0.000001"), ROUND_HALF_UP)
        expected_loss = (p[j] if res.bases[j] > 0 else D(1)) * expected_loss
        losses.insert(0, expected_loss)
    assert res.loss_rates == tuple(x.quantize(D("0.000001"), ROUND_HALF_UP) for x in losses)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.integers(0, 10**9), min_size=5, max_size=5), min_size=2, max_size=10),
       st.decimals(min_value=0, max_value=3, places=2))
def test_loss_rates_never_fall_with_age_and_ecl_never_exceeds_gross(snaps, factor):
    res = roll_rate_loss_rates(snaps, ["a", "b", "c", "d", "e"])
    assert all(D(0) <= x <= D(1) for x in res.loss_rates)
    assert all(x <= y for x, y in zip(res.loss_rates, res.loss_rates[1:], strict=False))
    m = matrix_from_roll_rates(res, ["a", "b", "c", "d", "e"], [(0,), (1,), (2,), (3,), (4,)], snaps[-1], factor)
    ecl = expected_credit_loss(m, snaps[-1])
    assert D(0) <= ecl.ecl <= ecl.gross + D("0.01") * len(snaps[-1])
    cents = np.array([[to_minor(D(v)) for v in snaps[-1]]], np.int64)
    assert int(ecl_minor(cents, m.loss_rates).sum()) == to_minor(ecl.ecl)   # bulk agrees with Decimal


def test_bad_input_names_the_field_and_value():
    with pytest.raises(XlcError, match=r"^loss_rates\[1-30\]: is a fraction, not a percent: 1.6 % is 0.016 "
                                       r"\(got 1.6\)$"):
        provision_matrix(IE_LABELS, (D("0.003"), D("1.6"), D("0.036"), D("0.066"), D("0.106")))
    with pytest.raises(XlcError, match=r"^loss_rates: give one rate per bucket: 5 buckets, 2 rates$"):
        provision_matrix(IE_LABELS, (D("0.1"), D("0.2")))
    with pytest.raises(XlcError, match=r"^forward_factor: must not be negative \(got -1\)$"):
        provision_matrix(IE_LABELS, IE_RATES, forward_factor=-1)
    with pytest.raises(XlcError, match=r"^balances\[31-60\]: must not be negative \(got -5\)$"):
        expected_credit_loss(provision_matrix(IE_LABELS, IE_RATES), [1, 2, -5, 3, 4])
    with pytest.raises(XlcError, match=r"^balances\[91-180\]: is not a bucket of the provision matrix"):
        expected_credit_loss(provision_matrix(IE_LABELS, IE_RATES), {"91-180": 5})
    with pytest.raises(XlcError, match=r"^snapshots: need balances at two dates or more to see a roll \(got 1\)$"):
        roll_rate_loss_rates([[1, 2]], ["a", "b"])
    with pytest.raises(XlcError, match=r"^snapshots\[1\]: give one balance per bucket: 2 buckets, 3 amounts$"):
        roll_rate_loss_rates([[1, 2], [1, 2, 3]], ["a", "b"])
    with pytest.raises(XlcError, match=r"^snapshots\[0\]\[b\]: is not a number \(got 'x'\)$"):
        roll_rate_loss_rates([[1, "x"], [1, 2]], ["a", "b"])
    with pytest.raises(XlcError, match=r"^labels: name 'a' twice$"):
        provision_matrix(["a", "a"], [0, 0])
    with pytest.raises(XlcError, match=r"^groups\[x\]: must list roll buckets 0..1 \(got \[5\]\)$"):
        matrix_from_roll_rates(roll_rate_loss_rates([[1, 1], [1, 1]], ["a", "b"]), ["x"], [(5,)])
