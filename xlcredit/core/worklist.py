"""The worklist: who to call today, in order, and why — an explainable priority per customer with open items.

A customer's **priority** is the sum of the points of every reason that applies (weights are the policy's
``worklist`` settings; the words never name a setting):

============================  ===================================================================
reason                        points
============================  ===================================================================
overdue amount                ``overdue_points`` × min(1, overdue in company currency ÷ ``overdue_full``)
days past due                 ``days_points`` × min(1, days of the oldest overdue item ÷ ``days_full``)
something falls due           ``due_points`` when a ladder step, a promised payment or an instalment falls
                              due within ``due_days`` (or has fallen due and is still open)
broken promises               ``broken_promise_points`` per broken promise or payment plan (at most three)
grade                         ``grade_points`` for grade D or E
insurer deadline              ``insurer_points`` when an insurer deadline falls within the insurance
                              warning days (``insurance.warn_days``)
limit breach                  ``over_limit_points`` when exposure is over the credit limit
disputes open                 ``dispute_points`` per open dispute (at most three)
============================  ===================================================================

Proportional points are rounded half up to whole points. The list is sorted by priority (highest first),
then overdue amount, then customer id. Each row shows its **top three reasons in words** (most points first)
and the **next action with its date**: the earliest of a broken promise to follow up (today), an insurer
deadline, a promised payment or instalment to check, a dispute to follow up (opened + the follow-up days) and
the ladder's next step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from xlcredit.core.coerce import need_date
from xlcredit.core.collections import Collections, CustomerCollections, customer_collections, money_words
from xlcredit.core.dunning import DunningStatus
from xlcredit.core.insurance import OpenAmount, insurance_status
from xlcredit.core.ledger import Ledger
from xlcredit.core.money import ZERO
from xlcredit.core.openitems import allocate
from xlcredit.core.policy import Policy
from xlcredit.core.portfolio import Portfolio

__all__ = ["REASON_CODES", "Reason", "WorkItem", "WorklistRow", "build_worklist", "rows_for", "work_items",
           "worklist_row"]

#: The reasons in the order they are listed when their points tie.
REASON_CODES: tuple[str, ...] = ("broken_promise", "insurer", "overdue", "days", "due", "over_limit", "grade",
                                 "disputes")
MAX_COUNTED = 3
HIGH_RISK = ("D", "E")


@dataclass(frozen=True)
class Reason:
    """One reason a customer is on the worklist: a code, its points and what it means in words."""

    code: str
    points: int
    words: str


@dataclass(frozen=True)
class WorkItem:
    """What the worklist knows of one customer (money in the company currency ``currency``).

    ``overdue``: the open amount past due (None: not convertible, e.g. no FX rate); ``days_past_due``: of the
    oldest overdue item, held ones included; ``dunning``: the ladder level with the collector's holds;
    ``insurer``: insurer deadlines coming due (``InsuranceStatus.coming_due``); ``collections``: promises,
    disputes, plans, contacts.
    """

    customer_id: str
    name: str
    currency: str
    overdue: Decimal | None
    days_past_due: int
    dunning: DunningStatus
    owner: str = ""
    grade: str | None = None
    credit_limit: Decimal | None = None
    exposure: Decimal | None = None
    insurer: tuple[Any, ...] = ()
    collections: CustomerCollections | None = None


@dataclass(frozen=True)
class WorklistRow:
    """One customer on the worklist: priority, every reason (most points first), the next action and its date."""

    customer_id: str
    name: str
    owner: str
    priority: int
    reasons: tuple[Reason, ...]
    next_action: str
    next_action_date: dt.date | None
    stage: str
    days_past_due: int
    overdue: Decimal | None
    currency: str
    promises_kept: int = 0
    promises_broken: int = 0
    disputes_open: int = 0
    plan: str = ""
    on_hold: str = ""
    last_contact: str = ""
    rank: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def top_reasons(self) -> tuple[str, ...]:
        """The words of the (up to) three reasons with the most points."""
        return tuple(r.words for r in self.reasons[:3])

    def to_record(self) -> dict[str, Any]:
        """The row as the Worklist sheet, ``--out`` and the API show it."""
        top = [*self.top_reasons, "", "", ""][:3]
        return {"rank": self.rank, "customer_id": self.customer_id, "name": self.name, "owner": self.owner,
                "priority": self.priority, "reason_1": top[0], "reason_2": top[1], "reason_3": top[2],
                "next_action": self.next_action, "next_action_date": self.next_action_date, "stage": self.stage,
                "days_past_due": self.days_past_due, "overdue": self.overdue, "currency": self.currency,
                "on_hold": self.on_hold, "promises_kept": self.promises_kept,
                "promises_broken": self.promises_broken, "disputes_open": self.disputes_open, "plan": self.plan,
                "last_contact": self.last_contact}


def _share_points(points: int, value: Decimal, full: Decimal) -> int:
    if points <= 0 or value <= 0:
        return 0
    share = min(Decimal(1), value / full)
    return int((share * points).to_integral_value(rounding=ROUND_HALF_UP))


def _when(day: dt.date, as_of: dt.date) -> str:
    if day == as_of:
        return "today"
    return f"on {day.isoformat()}" if day > as_of else f"since {day.isoformat()}"


def _reasons(w: WorkItem, day: dt.date, policy: Policy) -> list[Reason]:
    wp = policy.worklist
    out: list[Reason] = []
    c = w.collections
    cur = w.currency
    # broken promises and plans
    if c is not None and (c.broken or c.broken_plans):
        count = min(MAX_COUNTED, c.broken + len(c.broken_plans))
        parts = []
        if c.broken:
            last = max((p for p in c.promises if p.status == "broken"), key=lambda p: p.deadline)
            parts.append(f"{c.broken} promise{'s' if c.broken != 1 else ''} broken (last: "
                         f"{money_words(last.amount, last.currency)} due {last.promise.promised_date.isoformat()})")
        for plan in c.broken_plans:
            m = plan.missed
            missed = f": instalment {m.number} of {money_words(m.amount, plan.plan.currency)} due " \
                     f"{m.due_date.isoformat()} missed" if m else ""
            parts.append("payment plan broken" + missed)
        out.append(Reason("broken_promise", wp.broken_promise_points * count, "; ".join(parts)))
    # insurer deadlines
    if w.insurer:
        first = min(w.insurer, key=lambda d: (d.date, d.invoice_no))
        more = f" and {len(w.insurer) - 1} more" if len(w.insurer) > 1 else ""
        out.append(Reason("insurer", wp.insurer_points, f"insurer deadline {_when(first.date, day)}: {first.action} "
                                                        f"(invoice {first.invoice_no}){more}"))
    # overdue amount, days
    if w.overdue is not None and w.overdue > 0:
        out.append(Reason("overdue", _share_points(wp.overdue_points, w.overdue, wp.overdue_full),
                          f"{money_words(w.overdue, cur)} overdue"))
    if w.days_past_due > 0:
        out.append(Reason("days", _share_points(wp.days_points, Decimal(w.days_past_due), Decimal(wp.days_full)),
                          f"oldest item {w.days_past_due} days past due"))
    # something falls due
    horizon = day + dt.timedelta(days=wp.due_days)
    due: list[tuple[dt.date, str]] = []
    if w.dunning.next_action and w.dunning.next_action_date is not None and w.dunning.next_action_date <= horizon:
        due.append((w.dunning.next_action_date, f"{w.dunning.next_action} falls due"))
    if c is not None:
        for p in c.open_promises:
            if p.promise.promised_date <= horizon:
                due.append((p.promise.promised_date, f"promised payment of {money_words(p.amount, p.currency)} "
                                                     "falls due"))
        plan = c.active_plan
        if plan is not None and plan.next_instalment is not None and plan.next_instalment.due_date <= horizon:
            n = plan.next_instalment
            due.append((n.due_date, f"instalment {n.number} of {money_words(n.amount, plan.plan.currency)} falls due"))
    if due:
        when, what = min(due)
        out.append(Reason("due", wp.due_points, f"{what} {_when(when, day)}"))
    # limit breach
    if w.credit_limit is not None and w.exposure is not None and w.exposure > w.credit_limit:
        words = f"over the credit limit by {money_words(w.exposure - w.credit_limit, cur)}" if w.credit_limit > 0 \
            else f"exposure of {money_words(w.exposure, cur)} without a credit limit"
        out.append(Reason("over_limit", wp.over_limit_points, words))
    # grade
    if w.grade in HIGH_RISK:
        out.append(Reason("grade", wp.grade_points, f"grade {w.grade}"))
    # disputes
    if c is not None and c.open_disputes:
        opened = c.open_disputes
        totals: dict[str, Decimal] = {}
        for d in opened:
            totals[d.currency] = totals.get(d.currency, ZERO) + d.amount
        ages = [d.days_open for d in opened if d.days_open is not None]
        oldest = f", oldest open {max(ages)} days" if ages else ""
        amount = ", ".join(money_words(a, k) for k, a in sorted(totals.items()))
        out.append(Reason("disputes", wp.dispute_points * min(MAX_COUNTED, len(opened)),
                          f"{len(opened)} dispute{'s' if len(opened) != 1 else ''} open ({amount}{oldest})"))
    order = {code: k for k, code in enumerate(REASON_CODES)}
    return sorted((r for r in out if r.points > 0), key=lambda r: (-r.points, order[r.code]))


def _next_action(w: WorkItem, day: dt.date, policy: Policy) -> tuple[str, dt.date | None]:
    c = w.collections
    options: list[tuple[dt.date, int, str]] = []
    if w.dunning.escalated:
        options.append((day, 0, f"call about the broken promise ({w.dunning.stage} now)"))
    for d in w.insurer:
        options.append((d.date, 1, f"{d.action} (invoice {d.invoice_no})"))
    if c is not None:
        for p in c.open_promises:
            when = p.promise.promised_date if p.promise.promised_date >= day else p.deadline
            options.append((when, 2, f"check the promised payment of {money_words(p.amount, p.currency)}"))
        plan = c.active_plan
        if plan is not None and plan.next_instalment is not None:
            n = plan.next_instalment
            options.append((n.due_date, 3, f"check instalment {n.number} of "
                                           f"{money_words(n.amount, plan.plan.currency)}"))
        follow = dt.timedelta(days=policy.collections.dispute_followup_days)
        for s in c.open_disputes:
            if s.dispute.opened_on is not None:
                options.append((s.dispute.opened_on + follow, 4, f"follow up the dispute on invoice "
                                                                 f"{s.dispute.invoice_no}"))
    if w.dunning.next_action and w.dunning.next_action_date is not None:
        options.append((w.dunning.next_action_date, 5, w.dunning.next_action))
    elif w.dunning.step_index >= len(policy.dunning) and w.dunning.stage:   # the top of the ladder: keep at it
        options.append((day, 5, f"follow up the {w.dunning.stage.lower()}"))
    if not options:
        return "", None
    when, _, what = min(options)
    return what, when


def _on_hold(c: CustomerCollections | None) -> str:
    if c is None:
        return ""
    parts = []
    disputed = {d.currency: ZERO for d in c.open_disputes}
    for d in c.open_disputes:
        disputed[d.currency] += d.amount
    parts += [f"{money_words(a, k)} in dispute" for k, a in sorted(disputed.items())]
    for p in c.open_promises:
        parts.append(f"promised for {p.promise.promised_date.isoformat()}")
    if c.active_plan is not None:
        parts.append("on a payment plan")
    return "; ".join(parts)


def worklist_row(w: WorkItem, as_of: dt.date, policy: Policy) -> WorklistRow:
    """One customer's priority, reasons and next action at ``as_of`` (module docstring)."""
    day = need_date(as_of, "as_of")
    reasons = _reasons(w, day, policy)
    action, when = _next_action(w, day, policy)
    c = w.collections
    plan = ""
    if c is not None and c.plans:
        plan = max(c.plans, key=lambda p: p.plan.agreed_on).words
    last = c.last_contact if c is not None else None
    return WorklistRow(
        customer_id=w.customer_id, name=w.name, owner=w.owner, priority=sum(r.points for r in reasons),
        reasons=tuple(reasons), next_action=action, next_action_date=when, stage=w.dunning.stage,
        days_past_due=w.days_past_due, overdue=w.overdue, currency=w.currency,
        promises_kept=c.kept if c else 0, promises_broken=c.broken if c else 0,
        disputes_open=len(c.open_disputes) if c else 0, plan=plan, on_hold=_on_hold(c),
        last_contact=last.words if last is not None else "")


def build_worklist(items: Iterable[WorkItem], as_of: dt.date, policy: Policy, *, top: int | None = None,
                   owner: str | None = None) -> tuple[WorklistRow, ...]:
    """The worklist at ``as_of``: every customer's row, highest priority first, ranked 1, 2, …; ``owner`` keeps
    one owner's customers (case does not matter), ``top`` the first so many."""
    rows = [worklist_row(w, as_of, policy) for w in items]
    if owner is not None and owner.strip():
        wanted = owner.strip().casefold()
        rows = [r for r in rows if r.owner.casefold() == wanted]
    rows.sort(key=lambda r: (-r.priority, -(r.overdue or ZERO), r.customer_id))
    ranked = [WorklistRow(**{**r.__dict__, "rank": k}) for k, r in enumerate(rows, start=1)]
    return tuple(ranked[:top] if top is not None else ranked)


def rows_for(rows: Sequence[WorklistRow]) -> list[dict[str, Any]]:
    """The rows as records (see :meth:`WorklistRow.to_record`)."""
    return [r.to_record() for r in rows]


def work_items(portfolio: Portfolio, ledger: Ledger, as_of: dt.date, policy: Policy,
               collections: Collections | None = None, owners: dict[str, str] | None = None) -> list[WorkItem]:
    """What the worklist needs of every assessed customer with open items: the portfolio's figures (company
    currency), the ladder level with the collector's holds, the days of the oldest overdue item, the insurer
    deadlines coming due, and the promises, disputes, plans and contacts. ``owners``: customer id → the person
    who owns the account (default: the policy's credit controller)."""
    day = need_date(as_of, "as_of")
    records = collections or Collections()
    items_of: dict[str, list[Any]] = {}
    for (cid, _cur), pos in allocate(ledger, day).items():
        items_of.setdefault(cid, []).extend(pos.items)
    default_owner = policy.company.credit_controller
    out: list[WorkItem] = []
    for credit in portfolio.customers:
        cid = credit.customer.customer_id
        items = items_of.get(cid, [])
        open_items = [i for i in items if i.open_amount > 0]
        if not open_items:
            continue
        held = credit.collections or customer_collections(cid, items, ledger.payments, day, policy, records)
        overdue_days = [(day - i.invoice.due_date).days for i in open_items if i.invoice.due_date < day]
        insurer: tuple[Any, ...] = ()
        customer = credit.customer
        if customer.insured_limit is not None:
            status = insurance_status(cid, customer.insured_limit, customer.insurer, credit.exposure.total,
                                      [OpenAmount(i.invoice.invoice_no, i.invoice.due_date, i.open_amount,
                                                  i.invoice.disputed) for i in open_items], day, policy,
                                      currency=policy.company.currency)
            insurer = status.coming_due
        out.append(WorkItem(
            customer_id=cid, name=customer.name, currency=policy.company.currency, overdue=credit.overdue,
            days_past_due=max(overdue_days, default=0), dunning=credit.dunning,
            owner=(owners or {}).get(cid) or default_owner, grade=credit.score.grade, credit_limit=credit.limit.limit,
            exposure=credit.exposure.total, insurer=insurer, collections=held))
    return out
