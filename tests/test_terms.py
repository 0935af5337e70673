"""Payment terms by grade, deposits and early-payment discounts (xlcredit.core.terms).

Worked examples:
* "2/10 net 30": 2 % off if paid within 10 days, else the full amount within 30 days. A $1,000
  invoice paid within 10 days earns a $20 discount, so $980 is paid (the standard textbook
  illustration of cash discounts, e.g. Brigham & Ehrhardt, "Financial Management: Theory and
  Practice", chapter on managing current liabilities / trade credit).
* Nominal annual cost of forgoing that discount = discount % / (100 − discount %) × 365 /
  (net days − discount days) = 2/98 × 365/20 = 37.24 % (Brigham & Ehrhardt, same chapter; the
  Gitman "Principles of Managerial Finance" problem "determine the cost of giving up cash
  discounts": 2/10 net 30 → 37.24 %, 1/10 net 30 → 18.43 %, 2/10 net 45 → 21.28 %,
  3/10 net 30 → 56.44 %). On a 360-day year the same terms give 2/98 × 360/20 = 36.73 % (HP 10bII+
  Financial Calculator User's Guide, "Cost of Not Taking a Cash Discount", 2/10 NET/30) — the
  often-quoted "≈ 36.7 %" is this 360-day figure.
* Effective (compounded) annual rate (1 + 2/98)^(365/20) − 1 = 44.6 % (Brealey, Myers & Allen,
  "Principles of Corporate Finance", credit management chapter; CFA Institute curriculum, working
  capital management: 2/10 net 45 → (1 + 2/98)^(365/35) − 1 = 23.45 %).
"""

import datetime as dt
import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcredit.core.errors import XlcError
from xlcredit.core.money import round_money
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer
from xlcredit.core.terms import (
    CreditTerms,
    DiscountTerms,
    cost_of_forgoing,
    discount_deadline,
    early_pay_discount,
    net_days_of,
    parse_discount_terms,
    terms_for,
)

D = Decimal
AS_OF = dt.date(2026, 10, 31)
POLICY = Policy()


def cust(start=dt.date(2020, 1, 1), guarantee=0):
    return Customer("C1", relationship_start=start, annual_volume=D(400_000), bank_guarantee=D(guarantee))


# --------------------------------------------------------------------------- terms by grade
@pytest.mark.parametrize(("grade", "label", "days", "deposit", "prepay", "guarantee"), [
    ("A", "Net 90", 90, D(0), False, False),     # terms.A: prime
    ("B", "Net 60", 60, D(0), False, False),     # terms.B: standard
    ("C", "Net 30", 30, D(0), False, False),     # terms.C: high risk, existing customer: no deposit
    ("D", "Prepay", None, D(1), True, True),     # terms.D / deposit.D: prepayment or bank guarantee
    ("E", "Cash in advance", None, D(1), True, False),  # terms.E / deposit.E: cash in advance
])
def test_terms_by_grade_from_the_policy(grade, label, days, deposit, prepay, guarantee):
    t = terms_for(cust(), grade, POLICY, AS_OF)
    assert (t.grade, t.label, t.net_days, t.deposit_share, t.prepayment, t.guarantee_accepted) == \
        (grade, label, days, deposit, prepay, guarantee)


def test_grade_c_new_customer_pays_a_30_percent_deposit():
    """deposit.C_new: a grade C customer trading 11 months (new for 12) pays 30 % with each order."""
    t = terms_for(cust(start=dt.date(2025, 11, 30)), "C", POLICY, AS_OF)
    assert t == CreditTerms("C", "Net 30", 30, D("0.3"), False, False,
                            "grade C new customer (trading 11 months; new for 12): 30 % deposit with each order")
    assert terms_for(cust(start=None), "C", POLICY, AS_OF).deposit_share == D("0.3")          # prospect
    assert terms_for(cust(start=dt.date(2025, 10, 31)), "C", POLICY, AS_OF).deposit_share == D(0)  # 12 months
    assert terms_for(cust(start=None), "B", POLICY, AS_OF).deposit_share == D(0)   # only grade C asks for it


def test_grade_d_note_names_the_guarantee_held():
    assert terms_for(cust(guarantee=50_000), "D", POLICY, AS_OF).note == \
        "grade D: prepayment, or a bank guarantee instead (guarantee held: 50,000.00 EUR, open credit up to it)"
    assert terms_for(cust(), "D", POLICY, AS_OF).note.endswith("(no guarantee held)")
    assert terms_for(cust(guarantee=50_000), "E", POLICY, AS_OF).guarantee_accepted is False


def test_terms_follow_a_changed_policy():
    p = Policy.from_mapping({"terms.B": "net-45", "deposit.B": "0.1", "terms.D": "Net 15", "deposit.D": "0.5"})
    b = terms_for(cust(), "B", p, AS_OF)
    assert (b.net_days, b.deposit_share, b.prepayment, b.note) == (45, D("0.1"), False,
                                                                   "grade B: 10 % deposit with each order")
    d = terms_for(cust(), "D", p, AS_OF)
    assert (d.net_days, d.deposit_share, d.prepayment) == (15, D("0.5"), False)
    prepay_c = terms_for(cust(), "C", Policy.from_mapping({"terms.C": "CWO"}), AS_OF)
    assert prepay_c.prepayment and prepay_c.net_days is None


def test_terms_bad_input():
    with pytest.raises(XlcError, match=r"^grade: must be one of A, B, C, D, E \(got 'F'\)$"):
        terms_for(cust(), "F", POLICY, AS_OF)
    with pytest.raises(XlcError, match=r"^terms\.C: cannot read payment terms 'Net 30 EOM'"):
        terms_for(cust(), "C", Policy.from_mapping({"terms.C": "Net 30 EOM"}), AS_OF)


# --------------------------------------------------------------------------- reading terms text
@pytest.mark.parametrize(("text", "days"), [
    ("Net 60", 60), ("NET60", 60), ("net-60", 60), ("n/60", 60), ("Net 60 days", 60), ("60 days", 60),
    ("60 Days Net", 60), ("60", 60), ("  net   90 ", 90), ("Net 0", 0),
    ("2/10 net 30", 30), ("2/10 n/30", 30), ("2% 10 net 30", 30), ("2/10, Net 30", 30), ("1.5/15 net 45", 45),
    ("Due on receipt", 0), ("COD", 0),
    ("Prepay", None), ("Prepayment", None), ("Cash in advance", None), ("CIA", None), ("cash with order", None),
    (60, 60), (D(30), 30), (45.0, 45),
])
def test_net_days_of_reads_the_usual_ways_of_writing_terms(text, days):
    assert net_days_of(text) == days


@pytest.mark.parametrize(("text", "message"), [
    ("soon", r"^terms: cannot read payment terms 'soon': write e\.g\. 'Net 60', '60 days', '2/10 net 30' or "
             r"'Prepay'$"),
    ("Net 30 EOM", r"^terms: cannot read payment terms 'Net 30 EOM'"),
    ("", r"^terms: is empty$"),
    (None, r"^terms: is empty$"),
    (2.5, r"^terms: must be a whole number of days \(got 2\.5\)$"),
    (-30, r"^terms: must not be negative \(got -30\)$"),
    ("2/40 net 30", r"^terms: the discount period \(40 days\) is longer than the net period \(30 days\) in "
                    r"'2/40 net 30'$"),
])
def test_net_days_of_rejects_what_it_cannot_read(text, message):
    with pytest.raises(XlcError, match=message):
        net_days_of(text)


# --------------------------------------------------------------------------- discount terms
@pytest.mark.parametrize("text", ["2/10 net 30", "2/10 n/30", "2% 10 net 30", "2%/10 Net 30", "2/10, NET 30 days",
                                  "2/10 net30"])
def test_parse_discount_terms_variants(text):
    assert parse_discount_terms(text) == DiscountTerms(D("0.02"), 10, 30)


def test_parse_discount_terms_keeps_fractional_rates_exact():
    t = parse_discount_terms("1.5/15 net 45")
    assert (t.rate, t.discount_days, t.net_days, t.label) == (D("0.015"), 15, 45, "1.5/15 net 45")


@pytest.mark.parametrize(("text", "message"), [
    ("0/10 net 30", r"^terms: the discount must lie between 0 and 100 % \(got 0 % in '0/10 net 30'\)$"),
    ("100/10 net 30", r"^terms: the discount must lie between 0 and 100 % \(got 100 % in '100/10 net 30'\)$"),
    ("2/40 net 30", r"^terms: the discount period \(40 days\) is longer than the net period \(30 days\)"),
    ("Net 30", r"^terms: cannot read early-payment terms 'Net 30': write e\.g\. '2/10 net 30'$"),
    ("two/ten net thirty", r"^terms: cannot read early-payment terms 'two/ten net thirty'"),
    ("", r"^terms: is empty$"),
    (30, r"^terms: cannot read early-payment terms 30"),
])
def test_parse_discount_terms_rejects_bad_terms_naming_the_text(text, message):
    with pytest.raises(XlcError, match=message):
        parse_discount_terms(text)


def test_discount_terms_record_validates_itself():
    with pytest.raises(XlcError, match=r"^terms: the discount must lie between 0 and 100 % \(got 120 %"):
        DiscountTerms(D("1.2"), 10, 30)
    with pytest.raises(XlcError, match=r"^terms: the discount period \(31 days\) is longer"):
        DiscountTerms(D("0.02"), 31, 30)


# --------------------------------------------------------------------------- early-payment discount
def test_textbook_example_1000_invoice_2_10_net_30():
    """$1,000 at 2/10 net 30 paid within 10 days → $20 discount, $980 paid (module docstring)."""
    inv = dt.date(2024, 3, 1)
    discount = early_pay_discount(D(1000), inv, dt.date(2024, 3, 8), "2/10 net 30", "USD")
    assert discount == D("20.00")
    assert D(1000) - discount == D("980.00")


def test_discount_window_is_inclusive_of_the_last_day():
    """Day 10 after the invoice date still earns the discount; day 11 does not (documented choice)."""
    inv = dt.date(2024, 3, 1)
    assert discount_deadline(inv, "2/10 net 30") == dt.date(2024, 3, 11)
    assert early_pay_discount(1000, inv, dt.date(2024, 3, 11), "2/10 net 30") == D("20.00")
    assert early_pay_discount(1000, inv, dt.date(2024, 3, 12), "2/10 net 30") == D("0.00")
    assert early_pay_discount(1000, inv, inv, "2/10 net 30") == D("20.00")            # paid on the invoice date
    assert early_pay_discount(1000, inv, dt.date(2024, 3, 12), DiscountTerms(D("0.02"), 11, 30)) == D("20.00")


def test_discount_rounds_half_up_to_the_currency_minor_unit():
    """money.round_money: 2 % of 0.25 = 0.005 → 0.01 (half up); JPY 2 % of 1,025 = 20.5 → 21."""
    inv = dt.date(2024, 3, 1)
    assert early_pay_discount(D("0.25"), inv, inv, "2/10 net 30") == D("0.01")
    assert early_pay_discount(1025, inv, inv, "2/10 net 30", "JPY") == D(21)
    assert early_pay_discount("1,234.56", inv, inv, "3/10 net 60") == D("37.04")       # 37.0368 → 37.04


def test_plain_net_terms_offer_no_discount():
    assert early_pay_discount(1000, dt.date(2024, 3, 1), dt.date(2024, 3, 2), "Net 30") == D("0.00")
    assert early_pay_discount(1000, dt.date(2024, 3, 1), dt.date(2024, 3, 2), "Prepay") == D("0.00")


@pytest.mark.parametrize(("args", "message"), [
    ((1000, dt.date(2024, 3, 5), dt.date(2024, 3, 4), "2/10 net 30"), r"^pay_date: is before the invoice date "
                                                        r"\(2024-03-04 < 2024-03-05\)$"),
    ((-1000, dt.date(2024, 3, 5), dt.date(2024, 3, 6), "2/10 net 30"), r"^amount: must not be negative \(got -1000\)$"),
    (("lots", dt.date(2024, 3, 5), dt.date(2024, 3, 6), "2/10 net 30"), r"^amount: is not a number \(got 'lots'\)$"),
    ((1000, "", dt.date(2024, 3, 6), "2/10 net 30"), r"^invoice_date: is empty$"),
    ((1000, dt.date(2024, 3, 5), "someday", "2/10 net 30"), r"^pay_date: is not a date \(got 'someday'\)$"),
    ((1000, dt.date(2024, 3, 5), dt.date(2024, 3, 6), "soon"), r"^terms: cannot read payment terms 'soon'"),
    ((1000, dt.date(2024, 3, 5), dt.date(2024, 3, 6), "0/10 net 30"),
     r"^terms: the discount must lie between 0 and 100 %"),
])
def test_early_pay_discount_bad_input(args, message):
    with pytest.raises(XlcError, match=message):
        early_pay_discount(*args)


def test_early_pay_discount_bad_currency():
    with pytest.raises(XlcError, match=r"^currency: must be a 3-letter ISO code like EUR \(got 'EURO'\)$"):
        early_pay_discount(1000, dt.date(2024, 3, 5), dt.date(2024, 3, 6), "2/10 net 30", "EURO")


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**10).map(lambda c: D(c) / 100), st.integers(1, 5), st.integers(0, 30),
       st.integers(0, 60), st.integers(0, 150), st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)))
def test_property_discount_earned_only_inside_the_window(amount, pct, discount_days, extra, paid_after, invoiced):
    terms = f"{pct}/{discount_days} net {discount_days + extra}"
    got = early_pay_discount(amount, invoiced, invoiced + dt.timedelta(days=paid_after), terms)
    if paid_after <= discount_days:
        assert got == round_money(amount * pct / 100)
    else:
        assert got == 0
    assert D(0) <= got <= amount


# --------------------------------------------------------------------------- cost of forgoing the discount
def test_cost_of_forgoing_2_10_net_30_textbook_figures():
    """2/98 × 365/20 = 37.24 % (Brigham & Ehrhardt); 360-day year 36.73 %; compounded 44.6 % (BMA)."""
    assert cost_of_forgoing("2/10 net 30") == pytest.approx(0.3724, abs=5e-5)
    assert cost_of_forgoing("2/10 net 30", 360) == pytest.approx(0.3673, abs=5e-5)
    assert cost_of_forgoing("2/10 net 30", compound=True) == pytest.approx(0.446, abs=5e-4)


@pytest.mark.parametrize(("terms", "nominal"), [
    ("1/10 net 30", 0.1843), ("2/10 net 45", 0.2128), ("3/10 net 30", 0.5644), ("1/10 net 60", 0.0737),
])
def test_cost_of_forgoing_gitman_problem_set(terms, nominal):
    """Gitman, "determine the cost of giving up cash discounts" (module docstring), 365-day year."""
    assert cost_of_forgoing(terms) == pytest.approx(nominal, abs=5e-5)


def test_cost_of_forgoing_cfa_compounded_example():
    """CFA curriculum: 2/10 net 45 → (1 + 2/98)^(365/35) − 1 = 23.45 %."""
    assert cost_of_forgoing("2/10 net 45", compound=True) == pytest.approx(0.2345, abs=5e-5)


def test_cost_of_forgoing_edge_cases():
    assert cost_of_forgoing("2/30 net 30") == math.inf     # no extra days bought: infinitely dear
    with pytest.raises(XlcError, match=r"^basis: must be 365, 360 or 366 \(got 400\)$"):
        cost_of_forgoing("2/10 net 30", 400)
