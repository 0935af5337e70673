"""Trade-credit insurance: cover, deadlines, expected indemnity (xlcredit.core.insurance).

The terms are those of whole-turnover credit insurance policies:

* "Maximum extension period: the period during which you have the option, without having to consult
  us, to grant one or more postponements of the agreed invoice due date" (Atradius glossary, "M").
* "Protracted default: policies that include this cover pay out if a buyer is late in paying, and
  payment is still due after a pre-determined period" (ICISA FAQ, "What is protracted default?").
* Overdue notification: "if your customer has not paid you by pre-determined date (usually 30-60 days
  past due date) you will be required to let the insurer know" (comparecreditinsurance.co.uk, "How does
  credit insurance work?").

The periods are the product's policy defaults (policy file, section ``insurance``): extension 60 days,
notification 60 days after due, waiting period 180 days, claim no later than 365 days after due,
indemnity 90 %. The examples are constructed from those numbers and their arithmetic is written out.
"""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcredit.core.errors import XlcError
from xlcredit.core.insurance import OpenAmount, insurance_status
from xlcredit.core.policy import Policy

D = Decimal
AS_OF = dt.date(2026, 10, 31)
POLICY = Policy()


def item(no: str, due: dt.date, amount: int, disputed: bool = False) -> OpenAmount:
    return OpenAmount(no, due, D(amount), disputed)


BOOK = [
    item("INV-A", dt.date(2026, 9, 15), 40_000),               # 46 days overdue, notify by 2026-11-14 (in 14 days)
    item("INV-B", dt.date(2026, 8, 1), 25_000),               # notified 2026-09-20, before 2026-09-30
    item("INV-C", dt.date(2026, 7, 1), 10_000),               # notify by 2026-08-30: missed
    item("INV-D", dt.date(2026, 4, 20), 30_000),               # waiting period over on 2026-10-17: claim window
    item("INV-E", dt.date(2026, 11, 20), 20_000),               # not due yet
    item("INV-F", dt.date(2026, 9, 1), 5_000, disputed=True),  # notify by 2026-10-31 = today
    item("INV-G", dt.date(2026, 5, 1), 0),                    # fully paid: ignored
]


def test_deadlines_cover_and_expected_indemnity_of_one_customer():
    st_ = insurance_status("C001", D(100_000), "Kestrel", D(130_000), BOOK, AS_OF, POLICY,
                           notified={"INV-B": dt.date(2026, 9, 20), "INV-D": dt.date(2026, 6, 1)})
    assert st_.insured and st_.insurer == "Kestrel"
    assert st_.above_cover == D(30_000)                       # 130,000 − 100,000
    by_no = {i.invoice_no: i for i in st_.items}
    assert set(by_no) == {"INV-A", "INV-B", "INV-C", "INV-D", "INV-E", "INV-F"}
    a = by_no["INV-A"]
    assert (a.days_overdue, a.extend_until, a.notify_by, a.claim_from, a.claim_by) == (
        46, dt.date(2026, 11, 14), dt.date(2026, 11, 14), dt.date(2027, 3, 14), dt.date(2027, 9, 15))
    assert {k: v.status for k, v in by_no.items()} == {
        "INV-A": "overdue", "INV-B": "notified", "INV-C": "NOTIFICATION MISSED", "INV-D": "claim window",
        "INV-E": "not due", "INV-F": "overdue"}
    assert [k for k, v in by_no.items() if v.covered] == ["INV-A", "INV-B", "INV-D"]
    # overdue 40,000 + 25,000 + 10,000 + 30,000 + 5,000; covered: A + B + D = 95,000
    assert st_.overdue_amount == D(110_000)
    assert st_.covered_overdue == D(95_000)
    assert st_.expected_indemnity == D("85500.00")            # 90 % × min(100,000, 95,000)
    assert st_.claimable_now == D(30_000)
    assert st_.indemnity_claimable_now == D("27000.00")       # 90 % × 30,000
    assert [(d.date, d.invoice_no, d.action) for d in st_.missed] == [
        (dt.date(2026, 8, 30), "INV-C", "notify insurer")]
    assert [(d.date, d.invoice_no) for d in st_.coming_due] == [
        (dt.date(2026, 10, 31), "INV-F"), (dt.date(2026, 11, 14), "INV-A")]
    assert st_.alerts[0] == "MISSED: notify insurer by 2026-08-30 — invoice INV-C (10000); cover at risk"


def test_insured_limit_caps_the_indemnity_and_policy_terms_are_settings():
    items = [item("X1", dt.date(2026, 1, 2), 80_000), item("X2", dt.date(2026, 2, 1), 70_000)]
    notified = {"X1": dt.date(2026, 2, 1), "X2": dt.date(2026, 3, 1)}
    full = insurance_status("C2", D(100_000), "", D(150_000), items, AS_OF, POLICY, notified=notified)
    assert full.covered_overdue == D(150_000)
    assert full.expected_indemnity == D("90000.00")            # 90 % of the limit, not of 150,000
    assert full.claimable_now == D(150_000)                    # both past 180 days (X2: 2026-07-31)
    seventy = Policy.from_mapping({"insurance.indemnity": "0.7", "insurance.notify_overdue_days": 30})
    st_ = insurance_status("C2", D(100_000), "", D(150_000), items, AS_OF, seventy, notified=notified)
    assert st_.expected_indemnity == D("70000.00")
    # X1 was notified 30 days after due (in time); X2 28 days after due (in time)
    assert [i.status for i in st_.items] == ["claim window", "claim window"]


def test_claim_deadline_missed_and_late_notification_are_flagged():
    items = [item("OLD", dt.date(2025, 10, 1), 12_000), item("LATE", dt.date(2026, 6, 1), 3_000)]
    st_ = insurance_status("C3", D(50_000), "Kestrel", D(15_000), items, AS_OF, POLICY,
                           notified={"OLD": dt.date(2025, 11, 1), "LATE": dt.date(2026, 8, 15)})
    old, late = st_.items
    assert old.status == "CLAIM DEADLINE MISSED" and old.missed == ("claim by",)   # claim by 2026-10-01
    assert late.status == "NOTIFICATION MISSED"                    # notify by 2026-07-31, told 2026-08-15
    assert late.missed == ("notify insurer",)
    assert st_.covered_overdue == D(0) and st_.expected_indemnity == D("0.00")
    assert [d.action for d in st_.missed] == ["notify insurer (notified late, 2026-08-15)", "file the claim"]
    filed = insurance_status("C3", D(50_000), "Kestrel", D(15_000), items, AS_OF, POLICY,
                             notified={"OLD": dt.date(2025, 11, 1), "LATE": dt.date(2026, 7, 1)},
                             claimed={"OLD": dt.date(2026, 4, 15)})
    assert [i.status for i in filed.items] == ["claimed", "notified"]
    assert filed.missed == ()
    assert filed.expected_indemnity == D("13500.00")               # 90 % × 15,000
    unnotified = insurance_status("C3", D(50_000), "Kestrel", D(15_000), items, AS_OF, POLICY,
                                  claimed={"OLD": dt.date(2026, 4, 15), "LATE": dt.date(2026, 7, 20)})
    # a claim filed counts as the notification: in time for LATE (by 2026-07-31), late for OLD (by 2025-11-30)
    assert [i.status for i in unnotified.items] == ["NOTIFICATION MISSED", "claimed"]


def test_claim_window_deadlines_coming_due():
    items = [item("W", dt.date(2025, 11, 10), 1_000), item("N", dt.date(2026, 5, 10), 2_000)]
    st_ = insurance_status("C4", D(10_000), "", D(3_000), items, AS_OF, POLICY,
                           notified={"W": dt.date(2025, 12, 1), "N": dt.date(2026, 6, 1)})
    # W: claim by 2026-11-10 (10 days); N: claim from 2026-11-06 (6 days)
    assert [(d.date, d.action, d.invoice_no) for d in st_.coming_due] == [
        (dt.date(2026, 11, 6), "claim possible from", "N"), (dt.date(2026, 11, 10), "file the claim", "W")]


def test_uninsured_customer_carries_the_whole_exposure():
    st_ = insurance_status("C5", None, "", D(42_000), BOOK, AS_OF, POLICY)
    assert not st_.insured and st_.insured_limit is None
    assert st_.above_cover == D(42_000)
    assert st_.expected_indemnity == D(0) and st_.missed == () and st_.coming_due == ()
    assert all(not i.covered for i in st_.items)
    cut = insurance_status("C5", D(0), "Kestrel", D(42_000), [], AS_OF, POLICY)   # cover withdrawn
    assert cut.insured and cut.above_cover == D(42_000) and cut.expected_indemnity == D(0)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 10**6),
       st.lists(st.tuples(st.integers(-400, 700), st.integers(0, 10**5), st.booleans(), st.booleans()), max_size=8))
def test_indemnity_never_exceeds_the_share_of_the_limit_or_of_the_overdue(limit, exposure, rows):
    items = [OpenAmount(f"I{i}", AS_OF - dt.timedelta(days=days), D(amount), disputed)
             for i, (days, amount, disputed, _) in enumerate(rows)]
    notified = {f"I{i}": AS_OF - dt.timedelta(days=max(days - 30, 0)) for i, (days, _, _, told) in enumerate(rows)
                if told}
    st_ = insurance_status("P", D(limit), "", D(exposure), items, AS_OF, POLICY, notified=notified)
    share = POLICY.insurance.indemnity
    assert st_.expected_indemnity <= share * D(limit) + D("0.005")
    assert st_.expected_indemnity <= share * st_.covered_overdue + D("0.005")
    assert st_.indemnity_claimable_now <= st_.expected_indemnity
    assert st_.claimable_now <= st_.covered_overdue <= st_.overdue_amount
    assert st_.above_cover + min(D(limit), D(exposure)) == D(exposure)


def test_bad_input_names_the_field_and_value():
    with pytest.raises(XlcError, match=r"^open_amount \(INV-1\): must not be negative \(got -5\)$"):
        insurance_status("C", D(1), "", D(0), [item("INV-1", dt.date(2026, 1, 1), -5)], AS_OF, POLICY)
    with pytest.raises(XlcError, match=r"^due_date \(INV-2\): is not a date \(got 'soon'\)$"):
        insurance_status("C", D(1), "", D(0), [OpenAmount("INV-2", "soon", D(1))], AS_OF, POLICY)  # type: ignore[arg-type]
    with pytest.raises(XlcError, match=r"^insured_limit: must not be negative \(got -1\)$"):
        insurance_status("C", D(-1), "", D(0), [], AS_OF, POLICY)
    with pytest.raises(XlcError, match=r"^as_of: is empty$"):
        insurance_status("C", D(1), "", D(0), [], None, POLICY)
    with pytest.raises(XlcError, match=r"^notified\[INV-1\]: is not a date \(got 'x'\)$"):
        insurance_status("C", D(1), "", D(0), [], AS_OF, POLICY, notified={"INV-1": "x"})
