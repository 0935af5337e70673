"""Statements of account: what a customer owed at the start of a period, what happened in it, what it owes now.

Pure (no files, no clock). For one customer and a period ``date_from`` .. ``date_to`` (both days included),
per document currency:

* **opening balance** = invoices − payments − credit notes dated *before* ``date_from``;
* the **activity** of the period: every invoice (debit), payment and credit note (credits) dated in it, in
  date order (on one day: invoices, then payments, then credit notes, each by number), with the running
  balance after each line;
* **closing balance** = opening + invoices − payments − credit notes of the period — to the cent, as every
  document amount is already in the currency's minor unit (:mod:`xlcredit.core.ledger`);
* the **open items** at ``date_to`` by the one allocation rule (:func:`xlcredit.core.openitems.allocate`:
  references first, then FIFO), with days overdue and the ageing bucket of each, the credits not yet matched
  to an invoice (unapplied cash), and the **ageing summary** (open amounts by the policy's buckets, by due or
  invoice date as ``ageing.basis`` says).

The two views agree: closing balance = Σ open items − unapplied cash (the allocation only moves credit between
invoices, it neither creates nor loses any), and Σ ageing buckets = Σ open items. :attr:`CurrencyStatement.
reconciles` checks all three equalities; :func:`statement_for` refuses to return a statement that does not.

A currency section is shown when it has an opening balance, activity in the period or a closing balance; a
customer with none of these in any currency gets one empty section in its own currency (a nil statement).

A customer with a **payment plan** (:mod:`xlcredit.core.collections`) gets it on the statement
(:func:`plan_sections`): each instalment with its due date, amount and status at ``date_to`` — *kept* (paid in time),
*missed* (the one that broke the plan) or *due* (still to pay) —, what was paid under the plan and the remaining
balance (the plan's total less that, never below zero). The instalments add up to the plan's total to the cent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from xlcredit.core.ageing import bucket_index
from xlcredit.core.coerce import need_date
from xlcredit.core.collections import Collections, PlanStatus, plan_status
from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import CreditNote, Invoice, Ledger, Payment
from xlcredit.core.money import ZERO, round_money
from xlcredit.core.openitems import Position, allocate
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer

__all__ = ["ActivityLine", "CurrencyStatement", "OpenItemLine", "PlanInstalmentLine", "PlanSection", "Statement",
           "UnappliedLine", "plan_section", "plan_sections", "statement_for", "statements_for"]

_KIND_ORDER = {"invoice": 0, "payment": 1, "credit_note": 2}


@dataclass(frozen=True)
class ActivityLine:
    """One document of the period: an invoice is a debit, a payment or credit note a credit."""

    date: dt.date
    kind: str                 # invoice | payment | credit_note
    reference: str            # invoice number, payment id or credit note number
    detail: str               # invoice: its due date; payment / credit note: the invoice it names ("" if none)
    debit: Decimal
    credit: Decimal
    balance: Decimal          # running balance after this line


@dataclass(frozen=True)
class OpenItemLine:
    """An invoice with something still owed on it at the end of the period."""

    invoice_no: str
    invoice_date: dt.date
    due_date: dt.date
    amount: Decimal
    open_amount: Decimal
    days_overdue: int
    bucket: str
    disputed: bool


@dataclass(frozen=True)
class UnappliedLine:
    """Credit received but not matched to any invoice (it lowers the balance)."""

    date: dt.date
    kind: str                 # payment | credit_note
    reference: str
    amount: Decimal


@dataclass(frozen=True)
class CurrencyStatement:
    """The statement in one currency (see the module docstring for the figures and how they agree)."""

    currency: str
    opening: Decimal
    invoices: Decimal
    payments: Decimal
    credit_notes: Decimal
    closing: Decimal
    lines: tuple[ActivityLine, ...]
    open_items: tuple[OpenItemLine, ...]
    unapplied: tuple[UnappliedLine, ...]
    ageing: tuple[tuple[str, Decimal], ...]     # (bucket label, open amount), every bucket of the policy

    @property
    def open_total(self) -> Decimal:
        return sum((i.open_amount for i in self.open_items), round_money(ZERO, self.currency))

    @property
    def unapplied_cash(self) -> Decimal:
        return sum((u.amount for u in self.unapplied), round_money(ZERO, self.currency))

    @property
    def overdue(self) -> Decimal:
        return sum((i.open_amount for i in self.open_items if i.days_overdue > 0), round_money(ZERO, self.currency))

    @property
    def reconciles(self) -> bool:
        """opening + invoices − payments − credit notes = closing = open − unapplied cash; Σ ageing = open."""
        flow = self.opening + self.invoices - self.payments - self.credit_notes
        ageing = sum((a for _, a in self.ageing), ZERO)
        return flow == self.closing == self.open_total - self.unapplied_cash and ageing == self.open_total


@dataclass(frozen=True)
class PlanInstalmentLine:
    """One instalment of a payment plan on the statement. ``status``: kept | missed | due."""

    number: int
    due_date: dt.date
    amount: Decimal
    status: str


@dataclass(frozen=True)
class PlanSection:
    """A payment plan as the statement shows it at the end of the period (module docstring)."""

    currency: str
    agreed_on: dt.date
    status: str                                 # active | agreed | broken | completed (PlanStatus)
    instalments: tuple[PlanInstalmentLine, ...]
    total: Decimal                              # Σ instalments (principal + interest)
    paid: Decimal                               # paid under the plan since it was agreed
    invoice_nos: tuple[str, ...]

    @property
    def remaining(self) -> Decimal:
        """What is still to pay under the plan: its total less what was paid, never below zero."""
        return max(self.total - self.paid, round_money(ZERO, self.currency))


def plan_section(status: PlanStatus) -> PlanSection:
    """The statement's view of a plan's status: each instalment kept, missed or due."""
    plan = status.plan
    missed = status.missed.number if status.missed is not None else None
    lines = tuple(PlanInstalmentLine(i.number, i.due_date, i.amount,
                                     "kept" if i.number <= status.kept else "missed" if i.number == missed else "due")
                  for i in plan.instalments)
    return PlanSection(plan.currency, plan.agreed_on, status.status, lines, plan.total, status.paid,
                       status.invoice_nos)


def plan_sections(customer_id: str, ledger: Ledger, date_from: dt.date, date_to: dt.date, policy: Policy,
                  records: Collections) -> tuple[tuple[PlanSection, ...], tuple[XlcError, ...]]:
    """The customer's payment plans at ``date_to`` as statement sections, and the plans that cannot be read.

    Shown: every plan agreed by ``date_to``, except one completed with its last instalment due before the period.
    ``ledger``: the customer's documents (others are ignored).
    """
    start, end = _check_period(date_from, date_to)
    own = ledger.for_customer(customer_id)
    items = [i for pos in allocate(own, end).values() for i in pos.items]
    shown: list[PlanSection] = []
    problems: list[XlcError] = []
    for plan in records.of(customer_id).plans:
        if plan.agreed_on > end:
            continue
        try:
            status = plan_status(plan, items, own.payments, end, policy)
        except XlcError as exc:
            problems.append(exc)
            continue
        if status.status == "completed" and plan.instalments[-1].due_date < start:
            continue
        shown.append(plan_section(status))
    return tuple(shown), tuple(problems)


@dataclass(frozen=True)
class Statement:
    """A customer's statement of account for ``date_from`` .. ``date_to``: one section per currency, and the
    customer's payment plans (``plans``, filled in by the statements job from the collector's records)."""

    customer: Customer
    date_from: dt.date
    date_to: dt.date
    basis: str                                  # due_date | invoice_date: what the ageing counts from
    sections: tuple[CurrencyStatement, ...]
    plans: tuple[PlanSection, ...] = ()

    @property
    def language(self) -> str:
        return self.customer.language if self.customer.language in ("en", "zh") else "en"


def _check_period(date_from: dt.date, date_to: dt.date) -> tuple[dt.date, dt.date]:
    start, end = need_date(date_from, "from"), need_date(date_to, "to")
    if start > end:
        raise XlcError("from", f"is after the end of the period ({start} > {end})", start)
    return start, end


def _activity(invoices: Iterable[Invoice], credits: Iterable[Payment | CreditNote]) -> list[tuple]:  # type: ignore[type-arg]
    """(date, kind, reference, detail, debit, credit) per document, in statement order."""
    rows: list[tuple] = []  # type: ignore[type-arg]
    for inv in invoices:
        rows.append((inv.invoice_date, "invoice", inv.invoice_no, inv.due_date.isoformat(), inv.amount, ZERO))
    for c in credits:
        if isinstance(c, Payment):
            rows.append((c.payment_date, "payment", c.payment_id, c.invoice_ref, ZERO, c.amount))
        else:
            rows.append((c.date, "credit_note", c.credit_note_no, c.invoice_ref, ZERO, c.amount))
    rows.sort(key=lambda r: (r[0], _KIND_ORDER[r[1]], r[2]))
    return rows


def _section(currency: str, ledger: Ledger, start: dt.date, end: dt.date, policy: Policy,
             position: Position | None) -> CurrencyStatement:
    zero = round_money(ZERO, currency)
    invoices = [i for i in ledger.invoices if i.currency == currency and i.invoice_date <= end]
    credits = [c for c in (*ledger.payments, *ledger.credit_notes) if c.currency == currency
               and (c.payment_date if isinstance(c, Payment) else c.date) <= end]
    opening = zero
    lines: list[ActivityLine] = []
    totals = {"invoice": zero, "payment": zero, "credit_note": zero}
    activity = _activity(invoices, credits)
    for date, _kind, _ref, _detail, debit, credit in activity:
        if date < start:
            opening += debit - credit
    running = opening
    for date, kind, ref, detail, debit, credit in activity:
        if date < start:
            continue
        running += debit - credit
        totals[kind] += debit + credit
        lines.append(ActivityLine(date, kind, ref, detail, debit, credit, running))
    closing = opening + totals["invoice"] - totals["payment"] - totals["credit_note"]
    labels, bounds, basis = policy.bucket_labels, policy.ageing.bounds, policy.ageing.basis
    buckets = dict.fromkeys(labels, zero)
    open_items: list[OpenItemLine] = []
    unapplied: list[UnappliedLine] = []
    if position is not None:
        for item in sorted(position.items, key=lambda i: (i.invoice.due_date, i.invoice.invoice_date,
                                                          i.invoice.invoice_no)):
            if item.open_amount <= 0:
                continue
            inv = item.invoice
            age = (end - (inv.due_date if basis == "due_date" else inv.invoice_date)).days
            label = labels[bucket_index(age, bounds)]
            buckets[label] += item.open_amount
            open_items.append(OpenItemLine(inv.invoice_no, inv.invoice_date, inv.due_date, inv.amount,
                                           item.open_amount, max(0, (end - inv.due_date).days), label, inv.disputed))
        unapplied = [UnappliedLine(u.date, u.kind, u.source, u.amount) for u in position.unapplied]
    section = CurrencyStatement(currency, opening, totals["invoice"], totals["payment"], totals["credit_note"],
                                closing, tuple(lines), tuple(open_items), tuple(unapplied),
                                tuple(buckets.items()))
    if not section.reconciles:   # pragma: no cover - the allocation neither creates nor loses credit
        raise XlcError("statement", f"{ledger.customer_ids()} {currency}: the balance ({closing}) and the open items "
                       f"less unapplied cash ({section.open_total - section.unapplied_cash}) disagree", None)
    return section


def statement_for(customer: Customer, ledger: Ledger, date_from: dt.date, date_to: dt.date,
                  policy: Policy) -> Statement:
    """The statement of account of ``customer`` for the period (``ledger`` may hold other customers too)."""
    start, end = _check_period(date_from, date_to)
    own = ledger.for_customer(customer.customer_id)
    return _statement(customer, own, start, end, policy)


def _statement(customer: Customer, own: Ledger, start: dt.date, end: dt.date, policy: Policy) -> Statement:
    positions = allocate(own, end)
    sections = []
    for currency in own.currencies():
        section = _section(currency, own, start, end, policy, positions.get((customer.customer_id, currency)))
        if section.opening or section.lines or section.closing:
            sections.append(section)
    if not sections:
        currency = customer.currency or policy.company.currency
        sections.append(_section(currency, Ledger(), start, end, policy, None))
    return Statement(customer, start, end, policy.ageing.basis, tuple(sections))


def statements_for(customers: Iterable[Customer], ledger: Ledger, date_from: dt.date, date_to: dt.date,
                   policy: Policy, *, only: str | None = None) -> list[Statement]:
    """Statements for every customer with a balance or activity in the period (or just customer ``only``).

    ``only`` names a customer id; a customer that is not in ``customers`` raises :class:`XlcError`.
    """
    start, end = _check_period(date_from, date_to)
    by_customer = ledger.by_customer()
    chosen = list(customers)
    if only is not None:
        wanted = str(only).strip()
        chosen = [c for c in chosen if c.customer_id == wanted]
        if not chosen:
            raise XlcError("customer", f"no customer {wanted} in the customers table", only)
    out = []
    for customer in chosen:
        statement = _statement(customer, by_customer.get(customer.customer_id, Ledger()), start, end, policy)
        if only is None and all(not s.opening and not s.lines and not s.closing for s in statement.sections):
            continue
        out.append(statement)
    return out
