"""The collector's day in the core: promises to pay, disputes and payment plans on the ladder and the worklist.

Each scenario is a small inline ledger on the shipped policy, worked by hand:

* ladder (DESIGN.md, policy defaults): 7 days past due reminder letter · 15 phone call · 30 formal demand + stop
  new orders · 45 legal action · 90 agency or insurance claim, by the oldest overdue item that is not held;
* grace: a promise holds its items until the promised date + 3 days, an instalment may be 3 days late;
* worklist points: overdue 30 × min(1, overdue ÷ 50,000) · days 20 × min(1, days ÷ 90) · something falling due
  within 3 days 15 · each broken promise or plan 15 · grade D/E 10 · insurer deadline 20 · over limit 10 ·
  each open dispute 5 (proportional points rounded half up).

Instalments (the rule in xlcredit.core.collections): debt ÷ number rounded half up to the cent, the remainder on
the last instalment — the instalments add up to the debt to the cent (a property, checked with hypothesis).
Interest during a dispute: contract interest 8 % a year, 365-day basis, from the day after the due date
(xlcredit.core.interest conventions): EUR 10,000 for 60 days = 10,000 × 0.08 × 60 / 365 = 131.506… → 131.51.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcredit.core.collections import (
    Collections,
    Contact,
    Dispute,
    Instalment,
    PaymentPlan,
    Promise,
    claim_slices,
    customer_collections,
    dispute_ageing,
    instalment_schedule,
    plan_status,
    promise_status,
)
from xlcredit.core.dunning import DunningStatus
from xlcredit.core.errors import XlcError
from xlcredit.core.interest import interest_on_slices
from xlcredit.core.ledger import CreditNote, Invoice, Ledger, Payment
from xlcredit.core.openitems import allocate
from xlcredit.core.policy import Policy
from xlcredit.core.portfolio import assess_portfolio
from xlcredit.core.records import Customer
from xlcredit.core.worklist import Reason, WorkItem, build_worklist, work_items

D = Decimal
POLICY = Policy()
CUSTOMER = Customer("C1", name="Anchor Foods", rating=D(75), annual_volume=D(600000),
                    relationship_start=dt.date(2019, 1, 1))


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def inv(no: str, amount: str, due: str, issued: str = "2026-08-01", **kw) -> Invoice:
    return Invoice("C1", no, "EUR", D(amount), day(issued), day(due), **kw)


def pay(pid: str, amount: str, when: str, ref: str = "") -> Payment:
    return Payment(pid, "C1", day(when), D(amount), "EUR", ref)


def view(ledger: Ledger, as_of: str, records: Collections = Collections()):
    """The ladder level and the worklist row of C1 at ``as_of`` (the same path the jobs take)."""
    when = day(as_of)
    portfolio = assess_portfolio([CUSTOMER], ledger, POLICY, when, collections=records)
    assert portfolio.problems == ()
    credit = portfolio.customer("C1")
    rows = build_worklist(work_items(portfolio, ledger, when, POLICY, records), when, POLICY)
    return credit.dunning, (rows[0] if rows else None), credit.collections


# --------------------------------------------------------------------------- a promise kept
def test_a_promise_kept_pauses_the_ladder_then_counts_as_kept():
    # INV-1 EUR 10,000 due 1 Sep; INV-2 EUR 2,000 due 15 Oct (not yet due)
    invoices = (inv("INV-1", "10000", "2026-09-01"), inv("INV-2", "2000", "2026-10-15", "2026-09-15"))
    ledger = Ledger(invoices)
    # before: 20 Sep, 19 days past due → Phone call; next rung Formal demand on 1 Sep + 30 = 1 Oct
    ladder, row, _ = view(ledger, "2026-09-20")
    assert (ladder.stage, ladder.days_past_due, ladder.next_action, ladder.next_action_date) == \
        ("Phone call", 19, "Formal demand", day("2026-10-01"))
    # points: overdue 30 × 10,000/50,000 = 6; days 20 × 19/90 = 4.2 → 4
    assert row.priority == 10
    assert row.top_reasons == ("EUR 10,000.00 overdue", "oldest item 19 days past due")

    # the customer promises on 20 Sep to pay what is overdue (INV-1, EUR 10,000) on 25 Sep
    promise = Promise("C1", day("2026-09-25"), day("2026-09-20"), taken_by="Anna", channel="Phone")
    records = Collections(promises=(promise,))
    ladder, row, held = view(ledger, "2026-09-24", records)
    assert held.promises[0].status == "open" and held.promises[0].amount == D("10000")
    assert held.held == {"INV-1": D("10000")}
    # paused: INV-1 (23 days past due) is held, INV-2 is not due → no step; 1 Oct no longer escalates it
    assert (ladder.step_index, ladder.stage, ladder.held) == (0, "", D("10000"))
    assert ladder.next_action_date == day("2026-10-22")        # INV-2's reminder: 15 Oct + 7
    # points: overdue 6, days 20 × 23/90 = 5.1 → 5, the promise falls due on 25 Sep (within 3 days) 15
    assert row.priority == 26
    assert row.top_reasons == ("promised payment of EUR 10,000.00 falls due on 2026-09-25", "EUR 10,000.00 overdue",
                               "oldest item 23 days past due")
    assert (row.next_action, row.next_action_date) == ("check the promised payment of EUR 10,000.00",
                                                       day("2026-09-25"))
    assert row.on_hold == "promised for 2026-09-25"

    # paid on 27 Sep, within the grace days (25 Sep + 3 = 28 Sep): kept
    paid = Ledger(invoices, (pay("P1", "10000", "2026-09-27"),))
    ladder, row, held = view(paid, "2026-10-02", records)
    assert (held.promises[0].status, held.promises[0].kept_on, held.kept, held.broken) == \
        ("kept", day("2026-09-27"), 1, 0)
    assert held.held == {}
    assert (ladder.stage, ladder.overdue_amount) == ("", D(0))
    # INV-2 is still open (not due): on the list with nothing to do yet, the promise counted as kept
    assert (row.priority, row.promises_kept, row.promises_broken) == (0, 1, 0)
    assert (row.next_action, row.next_action_date) == ("Reminder letter", day("2026-10-22"))


# --------------------------------------------------------------------------- a promise broken
def test_a_promise_broken_moves_the_customer_to_the_next_step_at_once():
    invoices = (inv("INV-1", "10000", "2026-09-01"),)
    promise = Promise("C1", day("2026-09-25"), day("2026-09-20"), amount=D("10000"), invoice_nos=("INV-1",),
                      taken_by="Anna", promise_id="PR-1")
    records = Collections(promises=(promise,))
    ledger = Ledger(invoices, (pay("P1", "4000", "2026-09-26"),))     # only EUR 4,000 came

    # 28 Sep is the last day of grace: still open, INV-1 held
    ladder, row, held = view(ledger, "2026-09-28", records)
    assert held.promises[0].status == "open" and held.promises[0].paid == D("4000")
    assert ladder.stage == ""
    assert row.next_action == "check the promised payment of EUR 10,000.00"
    assert row.next_action_date == day("2026-09-28")            # promised date passed: the grace's last day

    # 29 Sep: broken. Without the promise INV-1 (28 days past due) would be at Phone call; the promise was taken
    # at Phone call (19 days on 20 Sep), so the customer moves to the next step, Formal demand, at once
    natural, _, _ = view(ledger, "2026-09-29")
    assert natural.stage == "Phone call"
    ladder, row, held = view(ledger, "2026-09-29", records)
    assert (held.promises[0].status, held.broken, held.floor_step) == ("broken", 1, 3)
    assert (ladder.stage, ladder.escalated, ladder.stop_orders) == ("Formal demand", True, True)
    assert (ladder.next_action, ladder.next_action_date) == ("Legal action", day("2026-10-16"))
    # points: broken 15; overdue 30 × 6,000/50,000 = 3.6 → 4; days 20 × 28/90 = 6.2 → 6
    assert row.priority == 25
    assert row.top_reasons == ("1 promise broken (last: EUR 10,000.00 due 2026-09-25)",
                               "oldest item 28 days past due", "EUR 6,000.00 overdue")
    assert (row.next_action, row.next_action_date) == ("call about the broken promise (Formal demand now)",
                                                       day("2026-09-29"))
    # once the rest is paid nothing is left to escalate
    settled = Ledger(invoices, (pay("P1", "4000", "2026-09-26"), pay("P2", "6000", "2026-10-03")))
    ladder, row, held = view(settled, "2026-10-05", records)
    assert (held.broken, held.floor_step, ladder.stage, row) == (1, 0, "", None)


# --------------------------------------------------------------------------- a dispute opened and resolved
def test_a_dispute_takes_the_invoice_off_the_ladder_until_it_is_resolved():
    invoices = (inv("INV-1", "10000", "2026-09-01"), inv("INV-3", "3000", "2026-09-10"))
    before = Ledger(invoices)
    ladder, row, _ = view(before, "2026-10-05")                  # INV-1 34 days past due
    assert ladder.stage == "Formal demand"
    # overdue 30 × 13,000/50,000 = 7.8 → 8; days 20 × 34/90 = 7.6 → 8
    assert row.priority == 16

    dispute = Dispute("C1", "INV-1", day("2026-10-02"), reason="Quality", owner="Ben", dispute_id="DS-1")
    records = Collections(disputes=(dispute,))
    ladder, row, held = view(before, "2026-10-05", records)
    assert held.held == {"INV-1": D("10000")}
    # INV-1 is out of the ladder: INV-3 (25 days) sets the level → Phone call, Formal demand on 10 Sep + 30
    assert (ladder.stage, ladder.days_past_due, ladder.next_action_date) == ("Phone call", 25, day("2026-10-10"))
    # overdue 8 + days 8 (INV-1 is still the oldest overdue item) + one open dispute 5
    assert row.priority == 21
    assert row.reasons[-1].words == "1 dispute open (EUR 10,000.00, oldest open 3 days)"
    assert row.on_hold == "EUR 10,000.00 in dispute"
    assert (row.next_action, row.next_action_date) == ("Formal demand", day("2026-10-10"))
    # no later step: the dispute's follow-up 14 days after it was opened comes next
    quiet = Ledger(invoices, (pay("P1", "3000", "2026-10-06", "INV-3"),))
    _, row, _ = view(quiet, "2026-10-07", records)
    assert (row.next_action, row.next_action_date) == ("follow up the dispute on invoice INV-1", day("2026-10-16"))

    # resolved partly on 8 Oct: a credit note of EUR 4,000; the rest of INV-1 is payable and back on the ladder
    resolved = dataclasses.replace(dispute, resolved_on=day("2026-10-08"), resolution="partly",
                                   credited=D("4000"), outcome="price corrected")
    after = Ledger(invoices, credit_notes=(CreditNote("CN-1", "C1", day("2026-10-08"), D("4000"), "EUR", "INV-1"),))
    ladder, row, held = view(after, "2026-10-09", Collections(disputes=(resolved,)))
    assert held.open_disputes == () and held.held == {}
    assert held.disputes[0].words == "invoice INV-1 (EUR 10,000.00, quality) resolved 2026-10-08: partly — " \
                                     "price corrected"
    assert (ladder.stage, ladder.days_past_due, ladder.overdue_amount) == ("Formal demand", 38, D("9000"))
    assert row.disputes_open == 0


def test_a_partly_disputed_invoice_stays_on_the_ladder_with_the_rest():
    ledger = Ledger((inv("INV-1", "10000", "2026-09-01"),))
    part = Dispute("C1", "INV-1", day("2026-10-02"), reason="price", amount=D("2500"))
    ladder, _, held = view(ledger, "2026-10-05", Collections(disputes=(part,)))
    assert held.held == {"INV-1": D("2500")}
    assert (ladder.stage, ladder.overdue_amount, ladder.held) == ("Formal demand", D("7500"), D("2500"))


def test_interest_on_a_disputed_invoice_follows_the_setting():
    ledger = Ledger((inv("INV-1", "10000", "2026-09-01"),))
    item = allocate(ledger, day("2026-10-31"))[("C1", "EUR")].items[0]
    upheld = Dispute("C1", "INV-1", day("2026-09-11"), resolved_on=day("2026-10-01"), resolution="upheld")
    rate = POLICY.late.contract_rate
    # accruing (default): 1 Sep → 31 Oct, 60 days: 131.51
    assert interest_on_slices(claim_slices(item, [upheld], day("2026-10-31"), POLICY), rate) == D("131.51")
    # not accruing: 1 → 11 Sep (10 days) and 1 → 31 Oct (30 days): 10,000 × 0.08 × 40 / 365 = 87.671… → 87.67
    stop = dataclasses.replace(POLICY, collections=dataclasses.replace(POLICY.collections, dispute_interest=False))
    assert claim_slices(item, [upheld], day("2026-10-31"), stop) == [
        (D("10000"), day("2026-09-01"), day("2026-09-11")), (D("10000"), day("2026-10-01"), day("2026-10-31"))]
    assert interest_on_slices(claim_slices(item, [upheld], day("2026-10-31"), stop), rate) == D("87.67")
    # while the dispute is open nothing is claimed on the disputed part (here 2,500 of 10,000)
    open_part = Dispute("C1", "INV-1", day("2026-09-11"), amount=D("2500"))
    assert claim_slices(item, [open_part], day("2026-10-31"), POLICY) == [
        (D("7500"), day("2026-09-01"), day("2026-10-31"))]


def test_the_disputed_flag_is_the_simple_case_of_a_dispute():
    ledger = Ledger((inv("INV-1", "10000", "2026-09-01", disputed=True), inv("INV-3", "3000", "2026-09-10")))
    ladder, row, _ = view(ledger, "2026-10-05")
    assert ladder.stage == "Phone call"          # INV-3 sets it, as before
    assert row.disputes_open == 1
    assert "1 dispute open (EUR 10,000.00)" in [r.words for r in row.reasons]


def test_open_disputes_are_aged_by_days_open():
    ledger = Ledger((inv("A", "100", "2026-09-01"), inv("B", "200", "2026-09-01"), inv("C", "50", "2026-09-01")))
    records = Collections(disputes=(Dispute("C1", "A", day("2026-10-20")), Dispute("C1", "B", day("2026-08-20")),
                                    Dispute("C1", "C", day("2026-06-01"), resolved_on=day("2026-07-01"),
                                            resolution="upheld")))
    items = allocate(ledger, day("2026-10-31"))[("C1", "EUR")].items
    held = customer_collections("C1", items, (), day("2026-10-31"), POLICY, records)
    assert [(d.dispute.invoice_no, d.days_open) for d in held.disputes] == [("A", 11), ("B", 72), ("C", 30)]
    assert dispute_ageing(held.disputes) == [("0-30", 1, {"EUR": D("100")}), ("31-60", 0, {}),
                                             ("61-90", 1, {"EUR": D("200")}), ("90+", 0, {})]


# --------------------------------------------------------------------------- a plan kept, then missed
def test_a_payment_plan_holds_the_ladder_while_kept_and_a_missed_instalment_breaks_it():
    invoices = (inv("INV-1", "9000", "2026-09-01"),)
    schedule = instalment_schedule(D("9000"), 3, day("2026-09-25"), "EUR", agreed_on=day("2026-09-11"))
    assert [(i.due_date, i.amount) for i in schedule] == [
        (day("2026-09-25"), D("3000.00")), (day("2026-10-25"), D("3000.00")), (day("2026-11-25"), D("3000.00"))]
    plan = PaymentPlan("C1", day("2026-09-11"), "EUR", schedule, owner="Anna", plan_id="PL-1")
    records = Collections(plans=(plan,))

    # before the plan: 1 Oct, 30 days past due → Formal demand
    ladder, row, _ = view(Ledger(invoices), "2026-10-01")
    assert ladder.stage == "Formal demand"

    # with the first instalment paid on 24 Sep the plan is kept: INV-1 held, no step
    kept = Ledger(invoices, (pay("P1", "3000", "2026-09-24"),))
    ladder, row, held = view(kept, "2026-10-01", records)
    assert (held.plans[0].status, held.plans[0].kept) == ("active", 1)
    assert held.held == {"INV-1": D("6000")}
    assert (ladder.stage, ladder.held) == ("", D("6000"))
    # points: overdue 30 × 6,000/50,000 = 3.6 → 4; days 20 × 30/90 = 6.7 → 7
    assert row.priority == 11
    assert (row.next_action, row.next_action_date) == ("check instalment 2 of EUR 3,000.00", day("2026-10-25"))
    assert row.plan == "plan of 3 instalments (EUR 9,000.00): 1 kept, next EUR 3,000.00 on 2026-10-25"
    assert row.on_hold == "on a payment plan"

    # the second instalment (25 Oct; 3 days' grace to 28 Oct) is not paid: on 29 Oct the plan is broken and the
    # ladder stands where INV-1's 58 days put it — Legal action — at once
    ladder, row, held = view(kept, "2026-10-29", records)
    status = held.plans[0]
    assert (status.status, status.missed.number, status.broken_on) == ("broken", 2, day("2026-10-29"))
    assert held.held == {}
    assert (ladder.stage, ladder.days_past_due) == ("Legal action", 58)
    # points: broken 15; overdue 4; days 20 × 58/90 = 12.9 → 13
    assert row.priority == 32
    assert row.top_reasons[0] == "payment plan broken: instalment 2 of EUR 3,000.00 due 2026-10-25 missed"


def test_a_plan_broken_early_escalates_beyond_the_step_it_was_agreed_at():
    # agreed at 10 days past due (Reminder letter); the first instalment (15 Sep, grace to 18 Sep) is missed:
    # on 19 Sep INV-1 is 18 days past due (Phone call) but the broken plan moves it to the step after Reminder
    # letter → Phone call as well; a plan agreed at Phone call moves it to Formal demand
    invoices = (inv("INV-1", "9000", "2026-09-01"),)
    at_call = PaymentPlan("C1", day("2026-09-16"), "EUR",
                          instalment_schedule(D("9000"), 2, day("2026-09-20"), "EUR", agreed_on=day("2026-09-16")))
    ladder, _, held = view(Ledger(invoices), "2026-09-24", Collections(plans=(at_call,)))
    assert (held.plans[0].status, held.floor_step) == ("broken", 3)
    assert (ladder.stage, ladder.days_past_due, ladder.escalated) == ("Formal demand", 23, True)


def test_instalments_with_interest_on_the_declining_balance():
    # EUR 1,000 in 2 monthly instalments at 12 %: principal 500 + 500; interest on 1,000 for 31 days (30 Sep → 31 Oct)
    # = 1,000 × 0.12 × 31/365 = 10.19…  → 10.19; on 500 for 30 days (31 Oct → 30 Nov) = 4.93…  → 4.93
    plan = instalment_schedule(D("1000"), 2, day("2026-10-31"), "EUR", annual_rate=D("0.12"),
                               agreed_on=day("2026-09-30"))
    assert plan[0] == Instalment(1, day("2026-10-31"), D("500.00"), D("10.19"))
    assert plan[1] == Instalment(2, day("2026-11-30"), D("500.00"), D("4.93"))


@settings(max_examples=300, deadline=None)
@given(cents=st.integers(min_value=1, max_value=10**11), count=st.integers(min_value=1, max_value=60),
       currency=st.sampled_from(["EUR", "JPY", "KWD"]))
def test_instalments_add_up_to_the_debt_to_the_cent(cents, count, currency):
    from xlcredit.core.money import quantum

    debt = D(cents) * quantum(currency)
    try:
        plan = instalment_schedule(debt, count, day("2026-11-30"), currency)
    except XlcError as exc:
        # refused only when equal instalments rounded half up are nothing, or leave nothing for the last one
        each = (debt / count).quantize(quantum(currency), rounding="ROUND_HALF_UP")
        assert each <= 0 or debt - each * (count - 1) <= 0
        assert "choose fewer instalments" in str(exc)
        return
    assert sum(i.principal for i in plan) == debt
    assert len(plan) == count and all(i.principal > 0 for i in plan)
    assert len({i.principal for i in plan[:-1]}) <= 1
    assert all(i.principal == i.principal.quantize(quantum(currency)) for i in plan)
    assert abs(plan[-1].principal - plan[0].principal) <= quantum(currency) * count


def test_instalment_schedule_refuses_bad_input_in_words():
    with pytest.raises(XlcError, match=r"instalments: 10 instalments of EUR 0\.02 would pay more than EUR 0\.15"):
        instalment_schedule(D("0.15"), 10, day("2026-11-30"), "EUR")
    with pytest.raises(XlcError, match="amount: the debt to pay in instalments must be more than zero"):
        instalment_schedule(D("0"), 3, day("2026-11-30"), "EUR")
    with pytest.raises(XlcError, match="first_due: is before the plan is agreed"):
        instalment_schedule(D("10"), 1, day("2026-09-01"), "EUR", agreed_on=day("2026-09-02"))


# --------------------------------------------------------------------------- records and statuses
def test_records_refuse_bad_values_naming_the_field():
    with pytest.raises(XlcError, match="promised_date: is before the day the promise was taken"):
        Promise("C1", day("2026-09-01"), day("2026-09-02"))
    with pytest.raises(XlcError, match="channel: must be one of phone, email, visit, letter, portal, other "
                                       "\\(got 'fax'\\)"):
        Promise("C1", day("2026-09-03"), day("2026-09-02"), channel="fax")
    with pytest.raises(XlcError, match="reason: must be one of price, quantity, quality, not received"):
        Dispute("C1", "INV-1", day("2026-09-02"), reason="too dear")
    assert Dispute("C1", "INV-1", day("2026-09-02"), reason="Not received").reason == "not_received"
    with pytest.raises(XlcError, match="resolution: is empty: a resolved dispute says how it ended"):
        Dispute("C1", "INV-1", day("2026-09-02"), resolved_on=day("2026-09-05"))
    with pytest.raises(XlcError, match="credited: is empty: a dispute resolved partly names the credit note"):
        Dispute("C1", "INV-1", day("2026-09-02"), resolved_on=day("2026-09-05"), resolution="partly")
    with pytest.raises(XlcError, match="outcome: must be one of reached, no answer, promised, disputed, refused"):
        Contact("C1", day("2026-09-02"), outcome="hung up")
    with pytest.raises(XlcError, match=r"instalments\[2\].due_date: is before 2026-10-01"):
        PaymentPlan("C1", day("2026-09-01"), "EUR", (Instalment(1, day("2026-10-01"), D("1")),
                                                     Instalment(2, day("2026-09-15"), D("1"))))


def test_a_promise_on_an_unknown_invoice_is_a_problem_and_the_rest_still_counts():
    ledger = Ledger((inv("INV-1", "10000", "2026-09-01"),))
    bad = Promise("C1", day("2026-09-25"), day("2026-09-20"), invoice_nos=("INV-9",))
    good = Dispute("C1", "INV-1", day("2026-09-21"))
    items = allocate(ledger, day("2026-09-22"))[("C1", "EUR")].items
    held = customer_collections("C1", items, (), day("2026-09-22"), POLICY, Collections((bad,), (good,)))
    assert [str(p) for p in held.problems] == ["invoice_nos: the promise names INV-9, not an invoice of C1"]
    assert held.held == {"INV-1": D("10000")}


def test_promise_and_plan_status_by_themselves():
    ledger = Ledger((inv("INV-1", "500", "2026-09-01"),), (pay("P1", "500", "2026-09-30", "INV-1"),))
    items = allocate(ledger, day("2026-10-01"))[("C1", "EUR")].items
    # a promise on INV-1 is kept when INV-1 is paid by the deadline
    p = promise_status(Promise("C1", day("2026-09-28"), day("2026-09-20"), invoice_nos=("INV-1",)), items,
                       ledger.payments, day("2026-10-01"), POLICY)
    assert (p.status, p.amount, p.kept_on, p.deadline) == ("kept", D("500"), day("2026-09-30"), day("2026-10-01"))
    plan = PaymentPlan("C1", day("2026-09-20"), "EUR", (Instalment(1, day("2026-10-10"), D("500")),))
    s = plan_status(plan, items, ledger.payments, day("2026-10-01"), POLICY)
    assert (s.status, s.kept, s.next_instalment) == ("completed", 1, None)


# --------------------------------------------------------------------------- the worklist in words
def _status(stage: str = "", next_action: str = "", when: dt.date | None = None, days: int = 0) -> DunningStatus:
    return DunningStatus(0, stage, days, "", D(0), next_action, when, False)


def test_the_worklist_explains_each_priority_in_words():
    as_of = day("2026-10-31")

    class Deadline:     # shaped like xlcredit.core.insurance.Deadline
        date, action, invoice_no = day("2026-11-05"), "notify insurer", "INV-7"

    big = WorkItem("C1", "Anchor Foods", "EUR", D("80000"), 120, _status("Legal action", "Agency or insurance claim",
                                                                          day("2026-11-02"), 120),
                   owner="Anna", grade="D", credit_limit=D("50000"), exposure=D("65000"), insurer=(Deadline(),))
    small = WorkItem("C2", "Birch Ltd", "EUR", D("12500"), 45, _status("Legal action", "Agency or insurance claim",
                                                                        day("2026-12-15"), 45), owner="Ben")
    fresh = WorkItem("C3", "Cedar AG", "EUR", D(0), 0, _status("", "Reminder letter", day("2026-11-20")), owner="anna")
    rows = build_worklist([small, fresh, big], as_of, POLICY)
    assert [r.customer_id for r in rows] == ["C1", "C2", "C3"]
    assert [r.rank for r in rows] == [1, 2, 3]
    first = rows[0]
    # overdue 30 (capped) + days 20 (capped) + insurer 20 + falls due 15 + over limit 10 + grade 10 = 105
    assert first.reasons == (
        Reason("overdue", 30, "EUR 80,000.00 overdue"),
        Reason("insurer", 20, "insurer deadline on 2026-11-05: notify insurer (invoice INV-7)"),
        Reason("days", 20, "oldest item 120 days past due"),
        Reason("due", 15, "Agency or insurance claim falls due on 2026-11-02"),
        Reason("over_limit", 10, "over the credit limit by EUR 15,000.00"),
        Reason("grade", 10, "grade D"))
    assert first.priority == 105
    assert first.top_reasons == ("EUR 80,000.00 overdue", "insurer deadline on 2026-11-05: notify insurer "
                                 "(invoice INV-7)", "oldest item 120 days past due")
    assert (first.next_action, first.next_action_date) == ("Agency or insurance claim", day("2026-11-02"))
    # C2: overdue 30 × 12,500/50,000 = 7.5 → 8; days 20 × 45/90 = 10
    assert rows[1].priority == 18
    assert rows[2].priority == 0 and rows[2].reasons == ()
    record = first.to_record()
    assert record["reason_1"] == "EUR 80,000.00 overdue" and record["next_action_date"] == day("2026-11-02")
    # owner (any case) and top
    assert [r.customer_id for r in build_worklist([small, fresh, big], as_of, POLICY, owner="ANNA")] == ["C1", "C3"]
    assert [r.customer_id for r in build_worklist([small, fresh, big], as_of, POLICY, top=1)] == ["C1"]


def test_the_worklist_weights_are_policy_settings():
    item = WorkItem("C2", "Birch Ltd", "EUR", D("12500"), 45, _status("Legal action"))
    heavy = Policy.from_mapping({"worklist.overdue_points": 60, "worklist.days_points": 0})
    # 60 × 12,500 / 50,000 = 15; days count nothing
    assert build_worklist([item], day("2026-10-31"), heavy)[0].reasons == (
        Reason("overdue", 15, "EUR 12,500.00 overdue"),)
    with pytest.raises(XlcError, match=r"worklist\.overdue_full: must be at least 1"):
        Policy.from_mapping({"worklist.overdue_full": 0})
    assert Policy.from_mapping({"collections.promise_grace_days": 5}).collections.promise_grace_days == 5
