"""The refresh's calculation: one allocation feeds ageing, history, dunning, exposure and the KPIs."""

import datetime as dt
from decimal import Decimal

from xlcredit.core.ageing import age_ledger
from xlcredit.core.ledger import CreditNote, Invoice, Ledger, Payment
from xlcredit.core.policy import Policy
from xlcredit.core.portfolio import assess_portfolio, credit_rows, portfolio_kpis, result_rows
from xlcredit.core.records import Customer

D = Decimal
AS_OF = dt.date(2026, 10, 31)


def _book():
    customers = [
        Customer("X", name="Xeno GmbH", annual_volume=D(400000), relationship_start=dt.date(2020, 1, 1), rating=D(70)),
        Customer("Y", name="Yarrow Ltd", annual_volume=D(100000), relationship_start=dt.date(2019, 1, 1), rating=D(85)),
    ]
    ledger = Ledger(
        invoices=(
            Invoice("X", "INV1", "EUR", D(1000), dt.date(2026, 8, 3), dt.date(2026, 9, 1), "Net 29"),
            Invoice("X", "INV2", "EUR", D(500), dt.date(2026, 10, 16), dt.date(2026, 11, 15), "Net 30"),
            Invoice("Y", "INV3", "EUR", D(100), dt.date(2026, 10, 1), dt.date(2026, 10, 31), "Net 30"),
        ),
        payments=(
            Payment("P1", "X", dt.date(2026, 10, 1), D(300), "EUR"),            # FIFO → INV1
            Payment("P2", "Y", dt.date(2026, 10, 20), D(150), "EUR", "INV3"),   # 50 over-paid
        ),
        credit_notes=(),
    )
    return customers, ledger


def test_positions_dunning_and_exposure_per_customer():
    customers, ledger = _book()
    pf = assess_portfolio(customers, ledger, Policy(), AS_OF)
    x, y = pf.customer("X"), pf.customer("Y")
    # X: INV1 1000 − 300 = 700 open, 60 days past due → ladder step "Legal action" (45 days); INV2 500 current
    assert x.open_receivables == D("1200.00") and x.overdue == D("700.00")
    assert (x.dunning.stage, x.dunning.days_past_due, x.dunning.oldest_item) == ("Legal action", 60, "INV1")
    assert x.exposure.total == D("1200.00") and x.available == x.limit.limit - D("1200.00")
    # Y over-paid by 50: a net credit balance, shown, and no exposure (not an error)
    assert y.open_receivables == D("-50.00") and y.exposure.total == D(0) and y.dunning.stage == ""
    assert pf.problems == ()
    # payment history now comes from the ledger: X paid nothing late yet, INV1 is overdue now
    assert x.customer.history.overdue_now is True


def test_kpis_match_the_formulas_on_a_hand_worked_book():
    """DSO over 90 days, best possible DSO, ADD and CEI (CRF formula) worked by hand.

    Credit sales 3 Aug–31 Oct: 1000 + 500 + 100 = 1600. AR = 1200 − 50 = 1150; current AR = 500 − 50 = 450.
    DSO = 1150 / 1600 × 90 = 64.69; best DSO = 450 / 1600 × 90 = 25.31; ADD = 39.38.
    CEI over 1–31 Oct: AR on 1 Oct = 700 (X) + 100 (Y) = 800; sales after 1 Oct = 500;
    CEI = (800 + 500 − 1150) / (800 + 500 − 450) = 150 / 850 = 17.65 %.
    """
    customers, ledger = _book()
    k = assess_portfolio(customers, ledger, Policy(), AS_OF).kpis
    assert (k.total_ar, k.overdue, k.credit_sales) == (D("1150.00"), D("700.00"), D(1600))
    assert (k.dso, k.best_dso, k.add, k.cei) == (D("64.69"), D("25.31"), D("39.38"), D("17.65"))
    assert k.overdue_share == D("0.6087")


def test_rows_for_the_database_and_the_cli():
    customers, ledger = _book()
    pf = assess_portfolio(customers, ledger, Policy(), AS_OF)
    rows = {r["customer_id"]: r for r in result_rows(pf)}
    assert rows["X"]["dunning_stage"] == "Legal action" and rows["X"]["exposure"] == D("1200.00")
    assert rows["X"]["explain"][-1][0] == "Total score"
    assert {r["customer_id"] for r in credit_rows(pf)} == {"X", "Y"}


def test_the_next_order_and_the_limit_in_words_per_customer():
    """X's oldest item is 60 days past due (stop at 30, "Formal demand"): its next order is held, however small;
    Y owes nothing and has credit left: released. The rows say the limit's reason in words, not a setting name."""
    customers, ledger = _book()
    pf = assess_portfolio(customers, ledger, Policy(), AS_OF)
    x, y = pf.customer("X"), pf.customer("Y")
    assert x.order.decision == "hold" and "order_stop" in x.order.codes
    assert "items 60 days overdue — orders stop at the Formal demand stage (30 days)" in x.order.reasons
    assert y.limit.limit > 0 and y.order.status == "Release"
    rows = {r["customer_id"]: r for r in credit_rows(pf)}
    assert rows["X"]["order_status"] == x.order.status and rows["Y"]["order_status"] == "Release"
    assert rows["Y"]["limit_reason"] == y.limit.reason and "binding_rule" not in rows["Y"]
    stored = {r["customer_id"]: r for r in result_rows(pf)}
    assert (stored["Y"]["binding_rule"], stored["Y"]["limit_reason"]) == (y.limit.binding_rule, y.limit.reason)
    assert stored["X"]["bank_guarantee"] == D(0)


def test_a_customer_without_fx_rate_is_a_problem_and_the_rest_go_on():
    customers, ledger = _book()
    ledger = Ledger((*ledger.invoices, Invoice("Y", "INV4", "USD", D(10), AS_OF, AS_OF)), ledger.payments,
                    (CreditNote("CN1", "X", AS_OF, D(0.01).quantize(D("0.01")), "EUR"),))
    pf = assess_portfolio(customers, ledger, Policy(), AS_OF)
    assert [p.message for p in pf.problems] == ["Y: fx_rates: no EUR rate for USD"]
    assert pf.customer("X") is not None and pf.customer("Y") is None


def test_a_book_in_net_credit_still_gets_its_kpis():
    """Found by tests/test_fast_matches_reference.py: unapplied cash above what is open made the KPIs (and so the
    whole refresh) fail with "must not be negative". As of 2026-10-31: C1 invoice 100.00 due 2026-10-31 (current),
    C2 invoice 100.00 due 2026-07-01 (overdue), C1 pays 150.00 → net AR 50.00, net current −50.00 → counted as 0;
    credit sales of the last 90 days 100.00 (C1's invoice; C2's is older): DSO = 50 / 100 × 90 = 45.00, best 0,
    ADD 45.00. A ledger of one payment only: AR −0.01, no sales — DSO None, no error."""
    as_of = dt.date(2026, 10, 31)
    ledger = Ledger((Invoice("C1", "I1", "EUR", Decimal("100.00"), dt.date(2026, 10, 1), as_of),
                     Invoice("C2", "I2", "EUR", Decimal("100.00"), dt.date(2026, 6, 1), dt.date(2026, 7, 1))),
                    (Payment("P1", "C1", as_of, Decimal("150.00"), "EUR"),))
    kpis = portfolio_kpis(ledger, age_ledger(ledger, as_of, Policy(), None), Policy(), as_of)
    assert (kpis.total_ar, kpis.dso, kpis.best_dso, kpis.add) == (Decimal("50.00"), Decimal("45.00"),
                                                                  Decimal("0.00"), Decimal("45.00"))
    only_cash = Ledger((), (Payment("P1", "C1", as_of, Decimal("0.01"), "EUR"),))
    kpis = portfolio_kpis(only_cash, age_ledger(only_cash, as_of, Policy(), None), Policy(), as_of)
    assert kpis.total_ar == Decimal("-0.01") and kpis.dso is None
