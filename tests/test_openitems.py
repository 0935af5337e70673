"""Open items (xlcredit.core.openitems): the allocation rule, worked by hand.

The rule is the one the project agreed (stated in xlcredit/core/openitems.py): within a customer and
currency, a credit naming an invoice settles it first, the rest is a pool that settles invoices
first in, first out by (disputed last, due date, invoice date, invoice number), leftovers are
unapplied cash, and each settled slice is dated max(credit date, invoice date). It follows the
common-law rules on appropriation of payments: the debtor may appropriate a payment to a debt when
paying (here: ``invoice_ref``; also BGB § 366(1)); failing that, a running account is settled
oldest debt first (Clayton's Case, Devaynes v Noble (1816) 1 Mer 572), with the debt that fell due
first going first (BGB § 366(2)).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlcredit.core.errors import XlcError
from xlcredit.core.interest import interest_on_slices
from xlcredit.core.ledger import CreditNote, FxRates, Invoice, Ledger, Payment
from xlcredit.core.openitems import OpenItem, Settlement, allocate

D = Decimal


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def inv(no: str, amount: str, date: str, due: str, *, cid: str = "C1", ccy: str = "EUR",
        disputed: bool = False) -> Invoice:
    return Invoice(cid, no, ccy, D(amount), day(date), day(due), "", disputed)


def pay(pid: str, amount: str, date: str, ref: str = "", *, cid: str = "C1", ccy: str = "EUR") -> Payment:
    return Payment(pid, cid, day(date), D(amount), ccy, ref)


def cn(no: str, amount: str, date: str, ref: str = "", *, cid: str = "C1", ccy: str = "EUR") -> CreditNote:
    return CreditNote(no, cid, day(date), D(amount), ccy, ref)


def items_of(position) -> dict[str, OpenItem]:
    return {i.invoice_no: i for i in position.items}


# --------------------------------------------------------------------------- worked examples
def test_partial_payment_leaves_the_rest_open_and_slices_carry_interest():
    """Invoice 1,000.00 due 2026-01-31; 400.00 paid on 2026-02-10 naming it. As of 2026-03-02:
    600.00 open, 30 days overdue; slices 400 × 10 days and 600 × 30 days → interest at 8 %/365 =
    (4,000 + 18,000) × 0.08 / 365 = 4.8219… → 4.82 (interest runs on each part until it is paid:
    Late Payment of Commercial Debts (Interest) Act 1998 s.4 — interest until the debt is paid)."""
    ledger = Ledger((inv("I1", "1000.00", "2026-01-01", "2026-01-31"),),
                    (pay("P1", "400.00", "2026-02-10", "I1"),))
    pos = allocate(ledger, day("2026-03-02"))[("C1", "EUR")]
    item = pos.items[0]
    assert item.open_amount == D("600.00")
    assert item.settlements == (Settlement(D("400.00"), day("2026-02-10"), "P1", "payment", True),)
    assert item.days_overdue(day("2026-03-02")) == 30
    slices = item.overdue_slices(day("2026-03-02"))
    assert slices == [(D("400.00"), day("2026-01-31"), day("2026-02-10")),
                      (D("600.00"), day("2026-01-31"), day("2026-03-02"))]
    assert interest_on_slices(slices, D("0.08"), 365) == D("4.82")
    assert pos.unapplied_cash == 0 and pos.open_total == D("600.00") and pos.balance == D("600.00")


def test_referenced_payment_excess_pays_the_invoice_due_first():
    """I1 100 due 01-31 and I2 200 due 01-15; P1 250 names I1: I1 settled 100 by reference, the
    excess 150 goes to the pool, which pays I2 (due first) → I2 open 50."""
    ledger = Ledger((inv("I1", "100", "2026-01-01", "2026-01-31"), inv("I2", "200", "2025-12-16", "2026-01-15")),
                    (pay("P1", "250", "2026-02-01", "I1"),))
    pos = allocate(ledger, day("2026-02-28"))[("C1", "EUR")]
    got = items_of(pos)
    assert got["I1"].open_amount == 0 and got["I2"].open_amount == D("50.00")
    assert got["I1"].settlements[0].referenced and not got["I2"].settlements[0].referenced
    assert got["I2"].settlements[0].amount == D("150.00")
    assert [i.invoice_no for i in pos.items] == ["I2", "I1"]  # allocation order: due date first
    assert pos.unapplied_cash == 0


def test_over_payment_becomes_unapplied_cash_never_lost():
    """I1 100; P1 130 with no reference → I1 paid, 30 unapplied, account balance −30 (in credit)."""
    ledger = Ledger((inv("I1", "100", "2026-01-01", "2026-01-31"),), (pay("P1", "130", "2026-01-20"),))
    pos = allocate(ledger, day("2026-02-28"))[("C1", "EUR")]
    assert pos.items[0].open_amount == 0
    assert pos.unapplied_cash == D("30.00") and pos.balance == D("-30.00")
    assert pos.unapplied == (Settlement(D("30.00"), day("2026-01-20"), "P1", "payment", False),)
    assert pos.open_items == ()


def test_credit_note_against_an_invoice_and_an_unreferenced_one():
    """I1 500 due 01-31, I2 300 due 02-28; CN1 100 names I2, CN2 50 names nothing:
    I2 → 200 by reference, CN2 pays the oldest due (I1) → 450."""
    ledger = Ledger((inv("I1", "500", "2026-01-01", "2026-01-31"), inv("I2", "300", "2026-01-29", "2026-02-28")),
                    credit_notes=(cn("CN1", "100", "2026-02-05", "I2"), cn("CN2", "50", "2026-02-06")))
    pos = allocate(ledger, day("2026-03-31"))[("C1", "EUR")]
    got = items_of(pos)
    assert got["I1"].open_amount == D("450.00") and got["I2"].open_amount == D("200.00")
    assert got["I2"].settlements == (Settlement(D("100.00"), day("2026-02-05"), "CN1", "credit_note", True),)
    assert got["I1"].settlements == (Settlement(D("50.00"), day("2026-02-06"), "CN2", "credit_note", False),)


def test_disputed_invoice_is_reached_last_by_fifo_but_a_reference_still_settles_it():
    """I1 (disputed) due 01-10, I2 due 01-20: unreferenced 150 pays I2 first; a further 100 settles
    I2's last 50 and only then 50 of the disputed I1; a payment naming the disputed invoice settles it."""
    invoices = (inv("I1", "100", "2026-01-01", "2026-01-10", disputed=True), inv("I2", "200", "2026-01-01",
                                                                                "2026-01-20"))
    first = allocate(Ledger(invoices, (pay("P1", "150", "2026-02-01"),)), day("2026-02-28"))[("C1", "EUR")]
    assert {k: v.open_amount for k, v in items_of(first).items()} == {"I1": D("100.00"), "I2": D("50.00")}
    more = allocate(Ledger(invoices, (pay("P1", "150", "2026-02-01"), pay("P2", "100", "2026-02-02"))),
                    day("2026-02-28"))[("C1", "EUR")]
    assert {k: v.open_amount for k, v in items_of(more).items()} == {"I1": D("50.00"), "I2": D("0.00")}
    named = allocate(Ledger(invoices, (pay("P1", "100", "2026-02-01", "I1"),)), day("2026-02-28"))[("C1", "EUR")]
    assert {k: v.open_amount for k, v in items_of(named).items()} == {"I1": D("0.00"), "I2": D("200.00")}
    assert [i.invoice_no for i in named.items] == ["I2", "I1"]  # disputed last in the allocation order


def test_documents_after_as_of_are_ignored_and_a_reference_to_a_later_invoice_is_noted():
    """As of 01-31 the February invoice and payment do not exist; a January payment naming the
    February invoice goes to the pool (and is noted), settling the January invoice."""
    ledger = Ledger((inv("I1", "100", "2026-01-05", "2026-02-04"), inv("I2", "80", "2026-02-03", "2026-03-05")),
                    (pay("P1", "60", "2026-01-20", "I2"), pay("P2", "500", "2026-02-10")))
    positions = allocate(ledger, day("2026-01-31"))
    pos = positions[("C1", "EUR")]
    assert [i.invoice_no for i in pos.items] == ["I1"]
    assert pos.items[0].open_amount == D("40.00") and pos.unapplied_cash == 0
    assert pos.notes == ("payment P1: invoice_ref 'I2' names an invoice dated 2026-02-03, after 2026-01-31; "
                         "the amount was applied to the oldest invoices",)
    later = allocate(ledger, day("2026-02-28"))[("C1", "EUR")]
    assert {k: v.open_amount for k, v in items_of(later).items()} == {"I1": D("0.00"), "I2": D("0.00")}
    assert later.unapplied_cash == D("380.00") and later.notes == ()  # 560 paid − 180 invoiced
    assert allocate(ledger, day("2026-01-04")) == {}


def test_multi_currency_customer_is_allocated_per_currency():
    """C1 owes 100 EUR and 100 USD; 100 USD unreferenced pays only the USD invoice; a USD payment
    naming the EUR invoice is noted and stays in the USD pool."""
    ledger = Ledger((inv("E1", "100", "2026-01-01", "2026-01-31"), inv("U1", "100", "2026-01-01", "2026-01-31",
                                                                       ccy="USD")),
                    (pay("P1", "100", "2026-02-01", ccy="USD"), pay("P2", "10", "2026-02-02", "E1", ccy="USD")))
    positions = allocate(ledger, day("2026-02-28"))
    assert set(positions) == {("C1", "EUR"), ("C1", "USD")}
    assert positions[("C1", "EUR")].open_total == D("100.00")
    usd = positions[("C1", "USD")]
    assert usd.open_total == 0 and usd.unapplied_cash == D("10.00")
    assert usd.notes == ("payment P2: invoice_ref 'E1' names an invoice in EUR, not USD; the amount was applied "
                         "to the oldest invoices",)


def test_unknown_reference_is_noted_and_joins_the_pool():
    ledger = Ledger((inv("I1", "100", "2026-01-01", "2026-01-31"),), credit_notes=(cn("CN1", "30", "2026-01-10",
                                                                                     "NOPE"),))
    pos = allocate(ledger, day("2026-01-31"))[("C1", "EUR")]
    assert pos.items[0].open_amount == D("70.00")
    assert pos.notes == ("credit note CN1: invoice_ref 'NOPE' names no invoice of C1; the amount was applied to "
                         "the oldest invoices",)


def test_pool_is_cumulative_in_credit_order_and_settlement_dates_follow_the_credits():
    """I1 100 due 01-10, I2 100 due 01-20; P2 50 on 01-15 comes before P1 150 on 02-01 in the pool:
    I1 gets 50 @01-15 and 50 @02-01, I2 gets 100 @02-01 — the k-th unit of credit pays the k-th unit."""
    ledger = Ledger((inv("I1", "100", "2026-01-01", "2026-01-10"), inv("I2", "100", "2026-01-01", "2026-01-20")),
                    (pay("P1", "150", "2026-02-01"), pay("P2", "50", "2026-01-15")))
    got = items_of(allocate(ledger, day("2026-02-28"))[("C1", "EUR")])
    assert [(s.amount, s.date, s.source) for s in got["I1"].settlements] == [
        (D("50.00"), day("2026-01-15"), "P2"), (D("50.00"), day("2026-02-01"), "P1")]
    assert [(s.amount, s.date, s.source) for s in got["I2"].settlements] == [(D("100.00"), day("2026-02-01"), "P1")]
    assert got["I1"].last_settled == day("2026-02-01")
    # slices after the due date only: I1's 50 on 01-15 (5 days late) and 50 on 02-01 (22 days late)
    assert got["I1"].overdue_slices(day("2026-02-28")) == [(D("50.00"), day("2026-01-10"), day("2026-01-15")),
                                                            (D("50.00"), day("2026-01-10"), day("2026-02-01"))]


def test_prepayment_settles_on_the_invoice_date():
    """A payment received before the invoice is dated (a prepayment) settles it on the invoice date."""
    ledger = Ledger((inv("I1", "100", "2026-01-10", "2026-02-09"),), (pay("P0", "100", "2026-01-02"),))
    item = allocate(ledger, day("2026-02-28"))[("C1", "EUR")].items[0]
    assert item.settlements[0].date == day("2026-01-10")
    assert item.overdue_slices(day("2026-02-28")) == []


def test_ties_on_due_date_go_by_invoice_date_then_invoice_number_as_text():
    """Same due date: the earlier invoice date first; then invoice numbers in text order ("INV-10"
    sorts before "INV-9" — write numbers with leading zeros to make text order numeric order)."""
    ledger = Ledger((inv("INV-9", "10", "2026-01-01", "2026-01-31"), inv("INV-10", "10", "2026-01-01", "2026-01-31"),
                     inv("INV-1", "10", "2026-01-02", "2026-01-31")), (pay("P1", "15", "2026-02-01"),))
    pos = allocate(ledger, day("2026-02-28"))[("C1", "EUR")]
    assert [(i.invoice_no, i.open_amount) for i in pos.items] == [
        ("INV-10", D("0.00")), ("INV-9", D("5.00")), ("INV-1", D("10.00"))]


def test_open_item_reads_like_a_dunning_item_and_position_totals():
    ledger = Ledger((inv("I1", "100", "2026-01-01", "2026-01-31", disputed=True),
                     inv("I2", "50", "2026-02-01", "2026-03-03")), ())
    pos = allocate(ledger, day("2026-02-15"))[("C1", "EUR")]
    first = pos.items[0]
    assert (first.invoice_no, first.customer_id, first.currency, first.amount, first.due_date, first.disputed) == \
        ("I2", "C1", "EUR", D("50.00"), day("2026-03-03"), False)
    assert first.days_overdue(day("2026-02-15")) == 0 and first.settled_amount == 0 and first.is_open
    assert pos.disputed_total == D("100.00") and pos.overdue_total(day("2026-02-15")) == D("100.00")


# --------------------------------------------------------------------------- records refuse bad input
@pytest.mark.parametrize(("make", "match"), [
    (lambda: inv("I1", "-5", "2026-01-01", "2026-01-31"), r"^amount: must not be negative \(got -5\)$"),
    (lambda: inv("I1", "5", "2026-02-01", "2026-01-31"),
     r"^due_date: is before the invoice date \(2026-01-31 < 2026-02-01\)$"),
    (lambda: Invoice(" ", "I1", "EUR", D(1), day("2026-01-01"), day("2026-01-01")), r"^customer_id: is empty$"),
    (lambda: Invoice("C1", "I1", "EURO", D(1), day("2026-01-01"), day("2026-01-01")),
     r"^currency: must be a 3-letter ISO 4217 code like EUR \(got 'EURO'\)$"),
    (lambda: Payment("P1", "C1", "01/02/2026", D(1), "EUR"), r"^payment_date: is not a date"),
    (lambda: CreditNote("CN1", "C1", day("2026-01-01"), "ten", "EUR"), r"^amount: is not a number \(got 'ten'\)$"),
    (lambda: Invoice("C1", "I1", "EUR", D(1), day("2026-01-01"), day("2026-01-01"), disputed="yes"),
     r"^disputed: must be true or false"),
    (lambda: Ledger(("not an invoice",)), r"^invoices\[0\]: must be a Invoice"),
])
def test_records_refuse_bad_input_naming_the_field(make, match):
    with pytest.raises(XlcError, match=match):
        make()


def test_amounts_are_rounded_half_up_to_the_currency_minor_unit():
    assert Invoice("C1", "I1", "EUR", D("10.005"), day("2026-01-01"), day("2026-01-01")).amount == D("10.01")
    assert Payment("P1", "C1", day("2026-01-01"), "100.5", "JPY").amount == D("101")
    assert CreditNote("N1", "C1", day("2026-01-01"), 7, "bhd").amount == D("7.000")


def test_fx_rates_as_of_lookup_and_missing_rate():
    fx = FxRates(((day("2026-09-30"), "USD", D("0.91")), (day("2026-10-31"), "USD", D("0.92")),
                  (day("2026-10-01"), "gbp", "1.15")), "EUR")
    assert fx.rate("USD", day("2026-10-30")) == D("0.91")
    assert fx.rate("USD", day("2026-10-31")) == D("0.92")
    assert fx.rate("EUR", day("2000-01-01")) == 1
    assert fx.convert(D("10.05"), "USD", day("2026-10-15")) == D("9.15")   # 9.1455 → 9.15 half up
    with pytest.raises(XlcError, match=r"^fx_rates: no EUR rate for USD on or before 2026-09-29$"):
        fx.rate("USD", day("2026-09-29"))
    with pytest.raises(XlcError, match=r"^fx_rates: no EUR rate for JPY on or before 2026-10-31$"):
        fx.rate("JPY", day("2026-10-31"))
    with pytest.raises(XlcError, match=r"^fx_rates.rate: must be positive \(got 0 for USD on 2026-01-01\)$"):
        FxRates(((day("2026-01-01"), "USD", "0"),))
    with pytest.raises(XlcError, match=r"^fx_rates: two rates for USD on 2026-01-01 \(0.9 and 0.8\)$"):
        FxRates(((day("2026-01-01"), "USD", "0.9"), (day("2026-01-01"), "USD", "0.8")))


# --------------------------------------------------------------------------- properties
START = dt.date(2026, 1, 1)
amounts = st.integers(min_value=0, max_value=50_000).map(lambda c: D(c).scaleb(-2))
offsets = st.integers(min_value=0, max_value=90)


@st.composite
def ledgers(draw):
    """Random small ledgers: 1–2 customers × EUR/USD, credits naming real, foreign or unknown invoices."""
    n_inv = draw(st.integers(min_value=0, max_value=8))
    invoices = []
    for k in range(n_inv):
        date = START + dt.timedelta(days=draw(offsets))
        invoices.append(Invoice(draw(st.sampled_from(["C1", "C2"])), f"I{k:03d}", draw(st.sampled_from(["EUR", "USD"])),
                                draw(amounts), date, date + dt.timedelta(days=draw(st.integers(0, 60))), "",
                                draw(st.booleans())))
    refs = ["", "NOPE", *[i.invoice_no for i in invoices]]
    credits = []
    for k in range(draw(st.integers(min_value=0, max_value=8))):
        args = (draw(st.sampled_from(["C1", "C2"])), START + dt.timedelta(days=draw(offsets)), draw(amounts),
                draw(st.sampled_from(["EUR", "USD"])), draw(st.sampled_from(refs)))
        if draw(st.booleans()):
            credits.append(Payment(f"P{k:03d}", *args))
        else:
            cid, date, amount, ccy, ref = args
            credits.append(CreditNote(f"N{k:03d}", cid, date, amount, ccy, ref))
    return Ledger(tuple(invoices), tuple(c for c in credits if isinstance(c, Payment)),
                  tuple(c for c in credits if isinstance(c, CreditNote)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledger=ledgers(), shift=st.integers(min_value=0, max_value=100))
def test_allocation_conserves_money(ledger, shift):
    """Per (customer, currency): invoices = open + settled; credits = settled + unapplied; nothing
    is open beyond its amount, and credit is left over only when every invoice is settled."""
    as_of = START + dt.timedelta(days=shift)
    positions = allocate(ledger, as_of)
    for (cid, ccy), pos in positions.items():
        invoiced = sum((i.amount for i in ledger.invoices if (i.customer_id, i.currency) == (cid, ccy)
                        and i.invoice_date <= as_of), D(0))
        credited = sum((c.amount for c in (*ledger.payments, *ledger.credit_notes)
                        if (c.customer_id, c.currency) == (cid, ccy) and c.date <= as_of), D(0))
        settled = sum((s.amount for i in pos.items for s in i.settlements), D(0))
        assert invoiced == pos.open_total + settled
        assert credited == settled + pos.unapplied_cash
        assert pos.balance == invoiced - credited
        for item in pos.items:
            assert 0 <= item.open_amount <= item.amount
            assert item.open_amount + item.settled_amount == item.amount
            assert all(item.invoice.invoice_date <= s.date <= as_of for s in item.settlements)
        if pos.unapplied_cash > 0:
            assert pos.open_total == 0
    # every pair with a document on or before as_of is there, and no other
    expected = {(d.customer_id, d.currency) for d in ledger.invoices if d.invoice_date <= as_of}
    expected |= {(d.customer_id, d.currency) for d in (*ledger.payments, *ledger.credit_notes) if d.date <= as_of}
    assert set(positions) == expected
