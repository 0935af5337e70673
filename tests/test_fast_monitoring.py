"""The bulk monitoring path agrees with the reference path (xlcredit.core.fast.monitoring).

The reference is the documented allocation rule as implemented one document at a time in Decimal
(:func:`xlcredit.core.openitems.allocate`), the payment history of :mod:`xlcredit.core.history`,
:func:`xlcredit.core.monitoring.last_days_late` / :func:`payment_trend` and
:func:`xlcredit.core.forecast.cash_forecast`. Random ledgers (several customers and currencies, partial
payments, references to the customer's own, another customer's, a later or an unknown invoice, credit
notes, disputed invoices, documents after the as-of date) must give the same settlement slices,
open amounts, histories, trend inputs and forecast, to the cent and to the day.
"""

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlcredit.core.fast.ageing import EPOCH, frames_to_arrays, prepare_bulk
from xlcredit.core.fast.monitoring import (
    NONE_DAY,
    fine_bucket_balances,
    forecast_bulk,
    histories_bulk,
    period_totals,
    recent_days_late,
    settle_bulk,
    to_company_minor,
    trend_flags,
)
from xlcredit.core.forecast import cash_forecast, delay_days
from xlcredit.core.history import months_before, payment_histories
from xlcredit.core.ledger import CreditNote, FxRates, Invoice, Ledger, Payment
from xlcredit.core.money import from_minor, minor_units, to_minor
from xlcredit.core.monitoring import last_days_late, payment_trend
from xlcredit.core.openitems import allocate
from xlcredit.core.policy import Policy

A = dt.date(2026, 10, 31)
CCY = ("EUR", "JPY")
FX = FxRates(((dt.date(2026, 1, 1), "JPY", Decimal("0.0061")),), "EUR")


def day(n: int) -> dt.date:
    return A + dt.timedelta(days=n)


@st.composite
def books(draw):
    n_cust = draw(st.integers(1, 3))
    inv = []
    for i in range(draw(st.integers(1, 14))):  # bulk.frames_to_arrays needs an invoice (see report)
        issued = draw(st.integers(-300, 10))
        inv.append(dict(customer_id=f"C{draw(st.integers(0, n_cust - 1))}", invoice_no=f"INV-{i:04d}",
                        currency=CCY[draw(st.integers(0, 1))], minor=draw(st.integers(1, 50_000)),
                        invoice_date=day(issued), due_date=day(issued + draw(st.sampled_from([0, 10, 30, 60]))),
                        disputed=draw(st.booleans()) and draw(st.booleans())))
    credits = []
    for j in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["payment", "credit_note"]))
        choice = draw(st.integers(0, 3))
        if choice <= 1:  # names one of the customer's own invoices
            target = inv[draw(st.integers(0, len(inv) - 1))]
            cust, ccy, ref = target["customer_id"], target["currency"], target["invoice_no"]
        else:
            cust, ccy = f"C{draw(st.integers(0, n_cust - 1))}", CCY[draw(st.integers(0, 1))]
            ref = "" if choice == 3 else (inv[draw(st.integers(0, len(inv) - 1))]["invoice_no"]
                                          if draw(st.booleans()) else "INV-9999")
        credits.append(dict(kind=kind, id=f"{'P' if kind == 'payment' else 'N'}{j:03d}", customer_id=cust,
                            currency=ccy, minor=draw(st.integers(1, 40_000)), date=day(draw(st.integers(-300, 10))),
                            invoice_ref=ref))
    return inv, credits, draw(st.integers(-120, 5))


def build(inv, credits):
    ledger = Ledger(
        tuple(Invoice(r["customer_id"], r["invoice_no"], r["currency"], from_minor(r["minor"], r["currency"]),
                      r["invoice_date"], r["due_date"], "", r["disputed"]) for r in inv),
        tuple(Payment(c["id"], c["customer_id"], c["date"], from_minor(c["minor"], c["currency"]), c["currency"],
                      c["invoice_ref"]) for c in credits if c["kind"] == "payment"),
        tuple(CreditNote(c["id"], c["customer_id"], c["date"], from_minor(c["minor"], c["currency"]), c["currency"],
                         c["invoice_ref"]) for c in credits if c["kind"] == "credit_note"),
    )
    inv_df = pd.DataFrame({
        "customer_id": [r["customer_id"] for r in inv], "invoice_no": [r["invoice_no"] for r in inv],
        "currency": [r["currency"] for r in inv], "amount": [str(from_minor(r["minor"], r["currency"])) for r in inv],
        "invoice_date": pd.to_datetime([r["invoice_date"] for r in inv]),
        "due_date": pd.to_datetime([r["due_date"] for r in inv]), "terms": [""] * len(inv),
        "disputed": [r["disputed"] for r in inv]}) if inv else pd.DataFrame(
        {"customer_id": [], "invoice_no": [], "currency": [], "amount": [], "invoice_date": pd.to_datetime([]),
         "due_date": pd.to_datetime([]), "disputed": pd.Series([], dtype=bool)})

    def credit_frame(kind, id_col, date_col):
        rows = [c for c in credits if c["kind"] == kind]
        return pd.DataFrame({id_col: [c["id"] for c in rows], "customer_id": [c["customer_id"] for c in rows],
                             date_col: pd.to_datetime([c["date"] for c in rows]),
                             "amount": [str(from_minor(c["minor"], c["currency"])) for c in rows],
                             "currency": [c["currency"] for c in rows],
                             "invoice_ref": [c["invoice_ref"] or None for c in rows]})

    frames = frames_to_arrays(inv_df, credit_frame("payment", "payment_id", "payment_date"),
                              credit_frame("credit_note", "credit_note_no", "date"))
    assert not [p for p in frames.problems if "kept" not in p.problem and p.column != "invoice_ref"]
    return ledger, inv_df, frames


def number_of(frames, inv_df, pos):
    return inv_df["invoice_no"].iloc[int(frames.invoice_rows[int(pos)])]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_slices_open_amounts_and_last_settlement_match_the_reference(book):
    inv, credits, shift = book
    as_of = day(shift)
    ledger, inv_df, frames = build(inv, credits)
    p = prepare_bulk(frames.invoices, frames.credits)
    s = settle_bulk(p, as_of)
    expected_slices: dict[tuple[str, dt.date], int] = {}
    expected_open: dict[str, int] = {}
    expected_last: dict[str, dt.date | None] = {}
    for pos in allocate(ledger, as_of).values():
        for item in pos.items:
            expected_open[item.invoice_no] = to_minor(item.open_amount, item.currency)
            expected_last[item.invoice_no] = item.last_settled
            for sl in item.settlements:
                key = (item.invoice_no, sl.date)
                expected_slices[key] = expected_slices.get(key, 0) + to_minor(sl.amount, item.currency)
    got_slices: dict[tuple[str, dt.date], int] = {}
    for pos, amount, date in zip(s.slice_pos.tolist(), s.slice_amount.tolist(), s.slice_date.tolist(), strict=True):
        key = (number_of(frames, inv_df, p.order[pos]), EPOCH + dt.timedelta(days=date))
        got_slices[key] = got_slices.get(key, 0) + amount
    assert got_slices == expected_slices
    a = (as_of - EPOCH).days
    got_open = {number_of(frames, inv_df, p.order[k]): int(s.open[k]) for k in range(p.n_invoices)
                if p.inv_date[k] <= a}
    assert got_open == expected_open
    got_last = {number_of(frames, inv_df, p.order[k]): (None if s.last_settled[k] == NONE_DAY else
                                                        EPOCH + dt.timedelta(days=int(s.last_settled[k])))
                for k in range(p.n_invoices) if p.inv_date[k] <= a}
    assert got_last == expected_last


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), st.integers(1, 12), st.integers(0, 10), st.booleans())
def test_histories_match_history_payment_histories(book, months, tolerance, with_fx):
    inv, credits, shift = book
    as_of = day(shift)
    ledger, _, frames = build(inv, credits)
    p = prepare_bulk(frames.invoices, frames.credits)
    s = settle_bulk(p, as_of)
    rates = [FX.rate(c, as_of) for c in frames.currencies] if with_fx else None
    got = histories_bulk(p, s, months_before(as_of, months), frames.currencies, tolerance_days=tolerance,
                         rates=rates)
    expected = payment_histories(ledger, as_of, months, tolerance, fx=FX if with_fx else None)
    assert {str(frames.customers[c]): h for c, h in got.items()} == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), st.integers(2, 6), st.integers(1, 40))
def test_trend_inputs_and_flags_match_the_reference(book, n, trend_days):
    inv, credits, shift = book
    as_of = day(shift)
    ledger, _, frames = build(inv, credits)
    p = prepare_bulk(frames.invoices, frames.credits)
    s = settle_bulk(p, as_of)
    cust, days, index = recent_days_late(p, s, n, rank=frames.invoices.number_rank)
    got: dict[str, list[int]] = {}
    for c, d_, i in zip(cust.tolist(), days.tolist(), index.tolist(), strict=True):
        got.setdefault(str(frames.customers[c]), []).append(d_)
        assert i == len(got[str(frames.customers[c])]) - 1
    items: dict[str, list] = {}
    for pos in allocate(ledger, as_of).values():
        items.setdefault(pos.customer_id, []).extend(pos.items)
    expected = {cid: last_days_late(its, as_of, n) for cid, its in items.items()}
    assert got == {cid: v for cid, v in expected.items() if v}
    policy = Policy.from_mapping({"review.trend_invoices": n, "review.trend_days": trend_days})
    flagged = {str(frames.customers[c]) for c in trend_flags(cust, days, index, trend_days).tolist()}
    assert flagged == {cid for cid, v in expected.items() if payment_trend(v, policy) is not None}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), st.integers(1, 8), st.integers(0, 60))
def test_forecast_matches_cash_forecast_on_converted_items(book, weeks, doubtful):
    inv, credits, shift = book
    as_of = day(shift)
    ledger, _, frames = build(inv, credits)
    p = prepare_bulk(frames.invoices, frames.credits)
    s = settle_bulk(p, as_of)
    policy = Policy.from_mapping({"forecast.weeks": weeks, "forecast.doubtful_days": doubtful})
    histories = histories_bulk(p, s, months_before(as_of, 12), frames.currencies)
    habit = {str(frames.customers[c]): h.avg_days_late for c, h in histories.items()}
    delays = np.zeros(len(frames.customers), np.int64)
    for c, h in histories.items():
        delays[c] = delay_days(h.avg_days_late)
    rates = [FX.rate(c, as_of) for c in frames.currencies]
    company_open = to_company_minor(s.open, p.group_currency[p.inv_group], rates, frames.currencies, "EUR")
    fb = forecast_bulk(p, s, delays, weeks, doubtful, company_open)
    items = [type("It", (), dict(customer_id=i.customer_id, invoice_no=i.invoice_no, due_date=i.due_date,
                                 disputed=i.disputed, open_amount=FX.convert(i.open_amount, i.currency, as_of)))
             for pos in allocate(ledger, as_of).values() for i in pos.open_items]
    fc = cash_forecast(items, habit, as_of, policy)
    assert [to_minor(w.amount) for w in fc.weeks] == fb.weeks.tolist()
    assert [w.items for w in fc.weeks] == fb.week_items.tolist()
    assert (to_minor(fc.later), to_minor(fc.doubtful), to_minor(fc.disputed)) == (fb.later, fb.doubtful,
                                                                                   fb.disputed)


def test_conversion_is_exact_and_half_up():
    # 1.00 EUR-cent-free: 12345 yen × 0.0061 = 75.3045 EUR → 75.30; 81.97 USD... JPY has 0 decimals, EUR 2
    out = to_company_minor(np.array([12345, 5, 1000]), np.array([1, 1, 0]), [Decimal(1), Decimal("0.0061")],
                           ["EUR", "JPY"], "EUR")
    assert out.tolist() == [7530, 3, 1000]          # 75.3045 → 75.30; 0.0305 → 0.03
    assert minor_units("JPY") == 0
    out = to_company_minor(np.array([8200]), np.array([0]), [Decimal("0.005")], ["EUR"], "EUR")
    assert out.tolist() == [41]                     # 0.41 exactly: 82.00 × 0.005


def test_period_totals_and_fine_buckets_on_a_small_book():
    inv, credits = [
        dict(customer_id="C0", invoice_no="INV-0001", currency="EUR", minor=10_000, invoice_date=day(-100),
             due_date=day(-70), disputed=False),
        dict(customer_id="C0", invoice_no="INV-0002", currency="EUR", minor=20_000, invoice_date=day(-40),
             due_date=day(-10), disputed=False),
        dict(customer_id="C1", invoice_no="INV-0003", currency="JPY", minor=10_000, invoice_date=day(-5),
             due_date=day(25), disputed=False),
    ], [dict(kind="payment", id="P001", customer_id="C0", currency="EUR", minor=4_000, date=day(-50),
             invoice_ref="")]
    _, _, frames = build(inv, credits)
    p = prepare_bulk(frames.invoices, frames.credits)
    rates = [FX.rate(c, A) for c in frames.currencies]
    company = to_company_minor(frames.invoices.amount_minor, frames.invoices.currency, rates, frames.currencies,
                               "EUR")
    totals = period_totals(p, [(day(-120), day(-60)), (day(-59), A)], company)
    c0 = list(frames.customers).index("C0")
    c1 = list(frames.customers).index("C1")
    assert totals[c0].tolist() == [10_000, 20_000]
    assert totals[c1].tolist() == [0, 6_100]        # ¥10,000 × 0.0061 = EUR 61.00
    bal = fine_bucket_balances(p, [A, day(-30)], (-30, 0, 30, 60, 90), frames.invoices.due_date,
                               frames.invoices.currency, rates, frames.currencies, "EUR")
    # at A: INV-0001 6,000 open 70 days → 61-90; INV-0002 20,000 10 days → 1-30; INV-0003 61.00 due in 25 → due ≤30
    assert bal[0].tolist() == [0, 6_100, 20_000, 0, 6_000, 0]
    # at A − 30: INV-0001 6,000 open 40 days → 31-60; INV-0002 due in 20 days → due ≤30; INV-0003 not issued
    assert bal[1].tolist() == [0, 20_000, 0, 6_000, 0, 0]


def test_trend_flags_exact_threshold_and_minimum_points():
    """Same worked numbers as test_monitoring: [0, 2, 4, 6, 8, 10] rises exactly 10 days (flagged at 10);
    [0, 2, 4, 6, 8, 9] rises 9.29 (not flagged); early payment counts as 0; two points are no trend."""
    cust = np.array([0] * 6 + [1] * 6 + [2] * 6 + [3] * 2)
    days = np.array([0, 2, 4, 6, 8, 10, 0, 2, 4, 6, 8, 9, -10, -8, -5, 0, 0, 0, 0, 30])
    index = np.array([*range(6), *range(6), *range(6), 0, 1])
    assert trend_flags(cust, days, index, 10).tolist() == [0]
    assert trend_flags(cust, days, index, 9).tolist() == [0, 1]
    policy = Policy.from_mapping({"review.trend_days": 9})
    assert payment_trend([0, 2, 4, 6, 8, 9], policy) is not None     # the core agrees at 9 days
