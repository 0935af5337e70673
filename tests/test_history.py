"""Payment history from the ledger (xlcredit.core.history).

"Days beyond terms" as credit bureaux report it (Dun & Bradstreet's DBT/PAYDEX: a dollar-weighted
average of the days payments were made past their terms; prompt or early payment counts as 0).
Here every settled slice of the allocation (allocation rule 4, core/openitems.py: dated max(credit date, invoice
date)) is a payment experience weighted by its amount. Worked examples are computed by hand in
the docstrings.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from xlcredit.core.errors import XlcError
from xlcredit.core.history import months_before, payment_histories, payment_history
from xlcredit.core.ledger import CreditNote, FxRates, Invoice, Ledger, Payment
from xlcredit.core.records import PaymentHistory
from xlcredit.data.sample import SAMPLE_AS_OF, sample_path
from xlcredit.io.ledger import load_ledger

D = Decimal
AS_OF = dt.date(2026, 10, 31)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def inv(no: str, amount: str, due: str, *, cid: str = "C1", ccy: str = "EUR", disputed: bool = False) -> Invoice:
    due_day = day(due)
    return Invoice(cid, no, ccy, D(amount), due_day - dt.timedelta(days=30), due_day, "Net 30", disputed)


def pay(pid: str, amount: str, date: str, ref: str, *, cid: str = "C1", ccy: str = "EUR") -> Payment:
    return Payment(pid, cid, day(date), D(amount), ccy, ref)


LEDGER = Ledger(
    (inv("I0", "100", "2024-06-30"), inv("I1", "1000", "2026-01-31"), inv("I2", "500", "2026-03-31"),
     inv("I3", "200", "2026-05-01"), inv("I4", "300", "2026-10-01"), inv("I5", "900", "2026-08-01", disputed=True)),
    (pay("P0", "100", "2024-10-15", "I0"), pay("P1", "600", "2026-02-10", "I1"), pay("P2", "400", "2026-03-12", "I1"),
     pay("P3", "500", "2026-03-20", "I2"), pay("P4", "200", "2026-08-15", "I3")))


def test_worked_example_amount_weighted_days_beyond_terms():
    """Window: 24 months → slices settled after 2024-10-31 (P0, 107 days late on 2024-10-15, is out).
    I1 1,000 due 01-31: 600 paid 10 days late, 400 paid 40 days late; I2 500 paid 11 days early (0);
    I3 200 paid 106 days late. avg = (600·10 + 400·40 + 500·0 + 200·106) / 1,700 = 43,200 / 1,700
    = 25.41… → 25.4; max 106; one invoice (I3) finally paid more than 90 days late; I4 300 is open
    30 days past due → overdue now (the disputed I5 would not count)."""
    assert payment_history(LEDGER, "C1", AS_OF) == PaymentHistory(avg_days_late=25.4, items_over_90=1,
                                                                   max_days_late=106, overdue_now=True)


def test_tolerance_days_count_small_delays_as_on_time():
    """tolerance 10: the 600 paid 10 days late counts 0 → 37,200 / 1,700 = 21.88… → 21.9; I4 (30 days
    past due) is still overdue. tolerance 30: 16,000 + 21,200 = 37,200 → 21.9 again, and I4 at exactly
    30 days is not past the tolerance."""
    assert payment_history(LEDGER, "C1", AS_OF, tolerance_days=10) == PaymentHistory(21.9, 1, 106, True)
    assert payment_history(LEDGER, "C1", AS_OF, tolerance_days=30) == PaymentHistory(21.9, 1, 106, False)


def test_a_shorter_window_and_an_earlier_as_of():
    """6 months back from 2026-10-31 → after 2026-04-30: only P4 (106 days late)."""
    assert payment_history(LEDGER, "C1", AS_OF, months=6) == PaymentHistory(106.0, 1, 106, True)
    # as of 2026-02-28 (window after 2024-02-28): P0's 100 (107 days late, I0 over 90) and the 600 (10 days
    # late) → (10,700 + 6,000) / 700 = 23.86 → 23.9; I1's remaining 400 is overdue
    assert payment_history(LEDGER, "C1", day("2026-02-28")) == PaymentHistory(23.9, 1, 107, True)


def test_partly_paid_invoice_counts_its_slices_but_not_as_an_item_over_90():
    ledger = Ledger((inv("I1", "1000", "2026-01-31"),), (pay("P1", "250", "2026-06-30", "I1"),))
    assert payment_history(ledger, "C1", AS_OF) == PaymentHistory(150.0, 0, 150, True)


def test_credit_notes_settle_slices_too():
    ledger = Ledger((inv("I1", "100", "2026-01-31"),), (),
                    (CreditNote("N1", "C1", day("2026-02-20"), D("100"), "EUR", "I1"),))
    assert payment_history(ledger, "C1", AS_OF) == PaymentHistory(20.0, 0, 20, False)


def test_no_settlement_in_the_window_is_no_history():
    ledger = Ledger((inv("I1", "100", "2026-10-01"),))
    assert payment_history(ledger, "C1", AS_OF) == PaymentHistory(None, None, None, True)
    assert payment_history(ledger, "C9", AS_OF) == PaymentHistory()


def test_several_currencies_weighted_in_company_currency_when_fx_given():
    """EUR 100 paid 10 days late, JPY 10,000 paid 50 days late. Raw weights: (1,000 + 500,000) /
    10,100 = 49.6; in EUR at 0.0061 (JPY 10,000 = EUR 61): (1,000 + 3,050) / 161 = 25.15… → 25.2."""
    ledger = Ledger((inv("E1", "100", "2026-05-31", cid="C2"), inv("J1", "10000", "2026-05-31", cid="C2", ccy="JPY")),
                    (pay("P1", "100", "2026-06-10", "E1", cid="C2"),
                     pay("P2", "10000", "2026-07-20", "J1", cid="C2", ccy="JPY")))
    fx = FxRates(((day("2026-01-01"), "JPY", D("0.0061")),))
    assert payment_history(ledger, "C2", AS_OF).avg_days_late == 49.6
    assert payment_history(ledger, "C2", AS_OF, fx=fx).avg_days_late == 25.2


def test_months_before_clamps_to_the_end_of_the_month():
    assert months_before(day("2026-03-31"), 1) == day("2026-02-28")
    assert months_before(day("2024-02-29"), 12) == day("2023-02-28")
    assert months_before(day("2026-10-31"), 24) == day("2024-10-31")
    assert months_before(day("2026-01-15"), 13) == day("2024-12-15")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"months": 0}, r"^months: must be a whole number of months, 1 or more \(got 0\)$"),
    ({"tolerance_days": -1}, r"^tolerance_days: must be a whole number of days, 0 or more \(got -1\)$"),
    ({"months": 1.5}, r"^months: must be a whole number of months"),
])
def test_bad_arguments_name_the_field(kwargs, match):
    with pytest.raises(XlcError, match=match):
        payment_history(LEDGER, "C1", AS_OF, **kwargs)


def test_all_customers_in_one_pass_equal_one_at_a_time_on_the_sample():
    load = load_ledger(sample_path("invoices"), sample_path("payments"), sample_path("credit_notes"))
    every = payment_histories(load.ledger, SAMPLE_AS_OF)
    assert set(every) == set(load.ledger.customer_ids())
    for cid in list(every)[::7]:
        assert every[cid] == payment_history(load.ledger, cid, SAMPLE_AS_OF)
    spread = [h.avg_days_late for h in every.values() if h.avg_days_late is not None]
    assert min(spread) == 0 and max(spread) > 60
