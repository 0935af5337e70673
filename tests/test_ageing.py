"""Ageing of receivables (xlcredit.core.ageing): buckets, reconciliation, company-currency figures.

An aged trial balance sorts each customer's open invoices by days past due into the policy's
buckets (Current, 1-30, 31-60, 61-90, 91-180, 180+ — the shipped policy's ageing.bounds) and must add up to the
customer's account balance (open invoices less unapplied cash = invoices − payments − credit
notes), to the cent. Worked examples below are computed by hand; the bundled sample and random
ledgers are also checked against the independent bulk kernel (xlcredit.core.fast.ageing), which applies
the same allocation rule to int64 minor units.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlcredit.core.ageing import age_ledger, age_positions, bucket_of
from xlcredit.core.errors import XlcError
from xlcredit.core.fast.ageing import age_frames
from xlcredit.core.ledger import CreditNote, FxRates, Invoice, Ledger, Payment
from xlcredit.core.money import convert_parts, round_money, to_minor
from xlcredit.core.openitems import allocate
from xlcredit.core.policy import Policy
from xlcredit.data.sample import SAMPLE_AS_OF, sample_path
from xlcredit.io.ledger import load_ledger

D = Decimal
POLICY = Policy()
AS_OF = dt.date(2026, 10, 31)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def due_days_ago(no: str, amount: str, days: int, *, cid: str = "C1", ccy: str = "EUR",
                 disputed: bool = False) -> Invoice:
    due = AS_OF - dt.timedelta(days=days)
    return Invoice(cid, no, ccy, D(amount), due - dt.timedelta(days=30), due, "Net 30", disputed)


# --------------------------------------------------------------------------- buckets
@pytest.mark.parametrize(("days", "label"), [
    (-40, "Current"), (0, "Current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"),
    (90, "61-90"), (91, "91-180"), (180, "91-180"), (181, "180+"), (5000, "180+")])
def test_bucket_edges_follow_the_policy(days, label):
    """Buckets (policy ageing.bounds): days ≤ 0 → Current; 1..30 → 1-30; …; > 180 → 180+."""
    assert bucket_of(days, POLICY) == label


def test_custom_bounds_give_custom_buckets():
    policy = Policy.from_mapping({"ageing.bounds": "0, 45, 120"})
    assert [bucket_of(d, policy) for d in (0, 1, 45, 46, 120, 121)] == [
        "Current", "1-45", "1-45", "46-120", "46-120", "120+"]


def test_bucket_of_refuses_a_non_whole_number_of_days():
    with pytest.raises(XlcError, match=r"^days: must be a whole number of days \(got 2.5\)$"):
        bucket_of(2.5, POLICY)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- worked example
def test_one_customer_ageing_by_hand():
    """C1 (EUR): open items 100 due in 10 days, 200 5 days late, 300 45 days late, 400 (disputed)
    200 days late; 150 paid without reference and 20 credited against the 200.
    Allocation: credit note 20 → the 200 item (180 left); the pool 150 pays oldest due first — the
    disputed 400 comes last — so the 300 item (45 days) → 150 left.
    Buckets: Current 100, 1-30 180, 31-60 150, 180+ 400 = 830 open; unapplied 0; balance 830
    = invoices 1,000 − credits 170."""
    ledger = Ledger((due_days_ago("A", "100", -10), due_days_ago("B", "200", 5), due_days_ago("C", "300", 45),
                     due_days_ago("X", "400", 200, disputed=True)),
                    (Payment("P1", "C1", AS_OF - dt.timedelta(days=3), D("150"), "EUR"),),
                    (CreditNote("N1", "C1", AS_OF - dt.timedelta(days=2), D("20"), "EUR", "B"),))
    report = age_ledger(ledger, AS_OF, POLICY)
    (row,) = report.rows
    assert dict(row.buckets) == {"Current": D("100.00"), "1-30": D("180.00"), "31-60": D("150.00"), "61-90": D(0),
                                 "91-180": D(0), "180+": D("400.00")}
    assert (row.open_total, row.unapplied_cash, row.balance) == (D("830.00"), D(0), D("830.00"))
    assert (row.disputed, row.overdue, row.open_items, row.oldest_days) == (D("400.00"), D("730.00"), 4, 200)
    assert row.fx_rate == 1 and row.balance_company == D("830.00")
    assert report.customer("C1") == (row,) and report.customer("C9") == ()


def test_ageing_by_invoice_date_uses_days_since_the_invoice():
    """Same item (invoice dated 35 days before as_of, due 5 days before): by due date 1-30, by
    invoice date 31-60."""
    ledger = Ledger((due_days_ago("B", "200", 5),))
    assert age_ledger(ledger, AS_OF, POLICY).rows[0].buckets["1-30"] == D("200.00")
    assert age_ledger(ledger, AS_OF, POLICY, by="invoice_date").rows[0].buckets["31-60"] == D("200.00")
    by_policy = Policy.from_mapping({"ageing.basis": "invoice_date"})
    assert age_ledger(ledger, AS_OF, by_policy).by == "invoice_date"
    with pytest.raises(XlcError, match=r"^by: must be 'due_date' or 'invoice_date' \(got 'posting_date'\)$"):
        age_ledger(ledger, AS_OF, POLICY, by="posting_date")


def test_unapplied_cash_shown_beside_the_buckets():
    ledger = Ledger((due_days_ago("A", "100", 3),), (Payment("P1", "C1", AS_OF, D("130"), "EUR"),))
    (row,) = age_ledger(ledger, AS_OF, POLICY).rows
    assert sum(row.buckets.values()) == 0 and row.open_total == 0
    assert row.unapplied_cash == D("30.00") and row.balance == D("-30.00") and row.open_items == 0


def test_company_currency_converts_the_total_once_and_shares_it_among_the_buckets():
    """USD 10.05 Current and 18.94 in 1-30 (after a 1.11 payment) at 0.9 EUR/USD: the open total 28.99 × 0.9 =
    26.091 → 26.09 EUR (converted once, half up); the buckets share it: 9.045 → 9.04 and 17.046 → 17.04 leave
    one cent, which goes to the larger remainder (.006, the 1-30 bucket): 9.04 + 17.05 = 26.09."""
    ledger = Ledger((due_days_ago("U1", "10.05", -1, ccy="USD"), due_days_ago("U2", "20.05", 10, ccy="USD"),
                     due_days_ago("E1", "1.00", 10)),
                    (Payment("P1", "C1", AS_OF, D("1.11"), "USD", "NOPE"),))
    fx = FxRates(((day("2026-10-30"), "USD", D("0.9")), (day("2026-11-01"), "USD", D("2"))), "EUR")
    report = age_ledger(ledger, AS_OF, POLICY, fx)
    eur, usd = report.rows
    assert (eur.currency, usd.currency) == ("EUR", "USD")
    # the payment of 1.11 USD went to the pool and paid the oldest due (U2): 18.94 left
    assert usd.buckets["Current"] == D("10.05") and usd.buckets["1-30"] == D("18.94")
    assert usd.fx_rate == D("0.9")
    assert usd.buckets_company["Current"] == D("9.04") and usd.buckets_company["1-30"] == D("17.05")
    assert usd.open_total_company == D("26.09") and usd.unapplied_company == 0
    total = report.totals
    assert total is not None and total.currency == "EUR"
    assert total.buckets["1-30"] == D("18.05") and total.open_total == D("27.09") == sum(total.buckets.values())
    assert set(report.currency_totals) == {"EUR", "USD"}
    assert report.currency_totals["USD"].open_total == D("28.99")


def test_company_rounding_half_up_on_exact_halves():
    """10.05 USD at 0.9 = 9.045 EUR → 9.05 (ROUND_HALF_UP, the project's one rounding rule)."""
    fx = FxRates(((day("2026-01-01"), "USD", D("0.9")),))
    report = age_ledger(Ledger((due_days_ago("U1", "10.05", 0, ccy="USD"),)), AS_OF, POLICY, fx)
    assert report.rows[0].open_total_company == D("9.05")


def test_missing_fx_rate_is_an_error_naming_the_currency_and_date():
    ledger = Ledger((due_days_ago("U1", "10", 0, ccy="USD"),))
    fx = FxRates(((day("2026-11-15"), "USD", D("0.9")),))
    with pytest.raises(XlcError, match=r"^fx_rates: no EUR rate for USD on or before 2026-10-31$"):
        age_ledger(ledger, AS_OF, POLICY, fx)
    # without FX rates the foreign row has no company figures and there is no company total
    report = age_ledger(ledger, AS_OF, POLICY)
    assert report.rows[0].open_total_company is None and report.totals is None
    with pytest.raises(XlcError, match=r"^fx_rates: are into USD, but the company currency is EUR$"):
        age_ledger(ledger, AS_OF, POLICY, FxRates((), "USD"))


def test_to_records_has_every_column_and_a_total_row():
    ledger = Ledger((due_days_ago("A", "100", 3), due_days_ago("B", "50", 40, cid="C2")))
    records = age_ledger(ledger, AS_OF, POLICY).to_records()
    assert [r["customer_id"] for r in records] == ["C1", "C2", "TOTAL"]
    assert list(records[0])[:8] == ["customer_id", "currency", "Current", "1-30", "31-60", "61-90", "91-180", "180+"]
    assert records[0]["1-30"] == D("100.00") and records[0]["balance EUR"] == D("100.00")
    assert records[-1]["31-60 EUR"] == D("50.00") and records[-1]["open_total EUR"] == D("150.00")
    items = age_ledger(ledger, AS_OF, POLICY).item_records()
    assert [(i["invoice_no"], i["bucket"], i["days_overdue"]) for i in items] == [("A", "1-30", 3), ("B", "31-60", 40)]


def test_age_positions_reuses_one_allocation():
    ledger = Ledger((due_days_ago("A", "100", 3),))
    positions = allocate(ledger, AS_OF)
    assert age_positions(positions, AS_OF, POLICY).rows == age_ledger(ledger, AS_OF, POLICY).rows


# --------------------------------------------------------------------------- the sample and the bulk kernel
def _bulk_rows(invoices: pd.DataFrame, payments: pd.DataFrame, credit_notes: pd.DataFrame, as_of: str,
               labels: tuple[str, ...]) -> dict:
    table, _frames, _result = age_frames(invoices, payments, credit_notes, day(as_of))
    return {(r["customer_id"], r["currency"]): [int(r[label]) for label in labels] + [int(r["open"]),
                                                                                      int(r["unapplied"])]
            for r in table.to_dict("records")}


def _reference_rows(report) -> dict:
    return {(r.customer_id, r.currency): [to_minor(r.buckets[label], r.currency) for label in report.labels]
            + [to_minor(r.open_total, r.currency), to_minor(r.unapplied_cash, r.currency)] for r in report.rows}


@pytest.mark.parametrize("as_of", ["2026-10-31", "2025-07-15", "2024-12-01"])
def test_sample_ageing_agrees_with_the_bulk_kernel_and_reconciles(as_of):
    """The bundled sample aged by the reference path equals the bulk kernel to the cent, at any date."""
    load = load_ledger(sample_path("invoices"), sample_path("payments"), sample_path("credit_notes"),
                       fx_rates=sample_path("fx_rates"))
    assert load.problems == ()
    report = age_ledger(load.ledger, day(as_of), POLICY, load.fx)
    tables = [pd.read_csv(sample_path(n), dtype=str, keep_default_na=False)
              for n in ("invoices", "payments", "credit_notes")]
    assert _reference_rows(report) == _bulk_rows(*tables, as_of, report.labels)
    _check_reconciles(load.ledger, report, day(as_of))
    total = report.totals
    assert total is not None and total.balance == sum(r.balance_company for r in report.rows)


def test_sample_as_of_date_gives_every_bucket():
    load = load_ledger(sample_path("invoices"), sample_path("payments"), sample_path("credit_notes"),
                       fx_rates=sample_path("fx_rates"))
    total = age_ledger(load.ledger, SAMPLE_AS_OF, POLICY, load.fx).totals
    assert total is not None and all(amount > 0 for amount in total.buckets.values())


def _check_reconciles(ledger: Ledger, report, as_of: dt.date) -> None:
    for row in report.rows:
        key = (row.customer_id, row.currency)
        invoiced = sum((i.amount for i in ledger.invoices
                        if (i.customer_id, i.currency) == key and i.invoice_date <= as_of), D(0))
        credited = sum((c.amount for c in (*ledger.payments, *ledger.credit_notes)
                        if (c.customer_id, c.currency) == key and c.date <= as_of), D(0))
        assert sum(row.buckets.values()) == row.open_total
        assert row.open_total - row.unapplied_cash == row.balance == invoiced - credited
        if row.buckets_company is not None:
            assert sum(row.buckets_company.values()) == row.open_total_company
            assert row.open_total_company - row.unapplied_company == row.balance_company


# --------------------------------------------------------------------------- properties
START = dt.date(2026, 1, 1)


@st.composite
def ledgers(draw):
    """Random ledgers with globally unique invoice numbers (as the bulk kernel expects)."""
    invoices = []
    for k in range(draw(st.integers(min_value=0, max_value=10))):
        date = START + dt.timedelta(days=draw(st.integers(0, 300)))
        invoices.append(Invoice(draw(st.sampled_from(["C1", "C2", "C3"])), f"INV{k:04d}",
                                draw(st.sampled_from(["EUR", "USD", "JPY"])), D(draw(st.integers(0, 10**6))).scaleb(-2),
                                date, date + dt.timedelta(days=draw(st.sampled_from([0, 30, 60, 90]))), "",
                                draw(st.booleans())))
    refs = ["", "INV9999", *[i.invoice_no for i in invoices]]
    payments, notes = [], []
    for k in range(draw(st.integers(min_value=0, max_value=10))):
        cid, ccy = draw(st.sampled_from(["C1", "C2", "C3"])), draw(st.sampled_from(["EUR", "USD", "JPY"]))
        date = START + dt.timedelta(days=draw(st.integers(0, 330)))
        amount, ref = D(draw(st.integers(0, 10**6))).scaleb(-2), draw(st.sampled_from(refs))
        if draw(st.booleans()):
            payments.append(Payment(f"P{k:04d}", cid, date, amount, ccy, ref))
        else:
            notes.append(CreditNote(f"N{k:04d}", cid, date, amount, ccy, ref))
    return Ledger(tuple(invoices), tuple(payments), tuple(notes))


def _frames(ledger: Ledger) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    inv = pd.DataFrame([{"customer_id": i.customer_id, "invoice_no": i.invoice_no, "currency": i.currency,
                         "amount": str(i.amount), "invoice_date": i.invoice_date.isoformat(),
                         "due_date": i.due_date.isoformat(), "terms": "", "disputed": i.disputed}
                        for i in ledger.invoices],
                       columns=["customer_id", "invoice_no", "currency", "amount", "invoice_date", "due_date", "terms",
                                "disputed"])
    inv["disputed"] = inv["disputed"].astype(bool)
    pay = pd.DataFrame([{"payment_id": p.payment_id, "customer_id": p.customer_id,
                         "payment_date": p.payment_date.isoformat(), "amount": str(p.amount), "currency": p.currency,
                         "invoice_ref": p.invoice_ref} for p in ledger.payments],
                       columns=["payment_id", "customer_id", "payment_date", "amount", "currency", "invoice_ref"])
    notes = pd.DataFrame([{"credit_note_no": c.credit_note_no, "customer_id": c.customer_id,
                           "date": c.date.isoformat(), "amount": str(c.amount), "currency": c.currency,
                           "invoice_ref": c.invoice_ref} for c in ledger.credit_notes],
                         columns=["credit_note_no", "customer_id", "date", "amount", "currency", "invoice_ref"])
    return inv, pay, notes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledger=ledgers(), shift=st.integers(min_value=0, max_value=360), by=st.sampled_from(["due_date",
                                                                                          "invoice_date"]))
def test_buckets_sum_to_the_open_balance_and_agree_with_bulk(ledger, shift, by):
    as_of = START + dt.timedelta(days=shift)
    fx = FxRates(((START, "USD", D("0.9137")), (START, "JPY", D("0.0061"))), "EUR")
    report = age_ledger(ledger, as_of, POLICY, fx, by=by)
    _check_reconciles(ledger, report, as_of)
    if ledger.invoices:
        table, _f, _r = age_frames(*_frames(ledger), as_of, POLICY, by=by)
        theirs = {(r["customer_id"], r["currency"]): [int(r[label]) for label in report.labels]
                  + [int(r["open"]), int(r["unapplied"])] for r in table.to_dict("records")}
        assert _reference_rows(report) == theirs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledger=ledgers(), shift=st.integers(min_value=0, max_value=360))
def test_an_earlier_ageing_never_sees_later_documents(ledger, shift):
    """Ageing as of a date equals the ageing of the ledger cut to the documents dated on or before it."""
    as_of = START + dt.timedelta(days=shift)
    cut = Ledger(tuple(i for i in ledger.invoices if i.invoice_date <= as_of),
                 tuple(p for p in ledger.payments if p.payment_date <= as_of),
                 tuple(c for c in ledger.credit_notes if c.date <= as_of))
    assert age_ledger(ledger, as_of, POLICY).rows == age_ledger(cut, as_of, POLICY).rows


# --------------------------------------------------------------------------- one conversion rule
def test_converted_buckets_add_up_to_the_converted_total():
    """USD 100.00 + 100.00 + 100.00 at 0.3333 EUR: the total 300.00 × 0.3333 = 99.99 EUR is converted once; the
    buckets share it by largest remainder (33.33 each, exact 33.33): 33.33 + 33.33 + 33.33 = 99.99. At 0.33335:
    total 100.005 → 100.01; each bucket 33.335 → floor 33.33, remainder .005 each: the 2 cents left go to the
    first two buckets: 33.34 + 33.34 + 33.33 = 100.01 (rounding each bucket half up would give 100.02)."""
    assert convert_parts([D("100.00")] * 3, D("0.3333"), "EUR") == [D("33.33")] * 3
    assert convert_parts([D("100.00")] * 3, D("0.33335"), "EUR") == [D("33.34"), D("33.34"), D("33.33")]
    assert convert_parts([D("12345"), D("0")], D("0.006150"), "EUR") == [D("75.92"), D("0.00")]   # JPY → EUR


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=7),
       st.decimals(min_value=D("0.0001"), max_value=D("200"), places=6))
def test_converted_parts_keep_their_total_and_stay_within_a_cent(units, rate):
    parts = [D(u).scaleb(-2) for u in units]
    out = convert_parts(parts, rate, "EUR")
    assert sum(out, D(0)) == round_money(sum(parts, D(0)) * rate, "EUR")
    assert all(abs(o - p * rate) < D("0.01") for o, p in zip(out, parts, strict=True))


def test_ageing_by_due_date_and_by_invoice_date_agree_to_the_cent_in_the_company_currency():
    load = load_ledger(sample_path("invoices"), sample_path("payments"), sample_path("credit_notes"),
                       fx_rates=sample_path("fx_rates"))
    by_due = age_ledger(load.ledger, SAMPLE_AS_OF, POLICY, load.fx)
    by_invoice = age_ledger(load.ledger, SAMPLE_AS_OF, POLICY, load.fx, "invoice_date")
    for a, b in zip(by_due.rows, by_invoice.rows, strict=True):
        assert (a.customer_id, a.balance_company, a.open_total_company) == \
            (b.customer_id, b.balance_company, b.open_total_company)
        assert sum(a.buckets_company.values()) == a.open_total_company
    assert by_due.totals.balance == by_invoice.totals.balance
