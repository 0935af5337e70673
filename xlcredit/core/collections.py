"""The collector's records — promises to pay, disputes, payment plans, contacts — and how they hold the ladder.

Pure: records in, statuses out; every date is an argument. The rules, each as the module applies it:

**Promise to pay.** A customer promises ``amount`` (default: the open amount of the promised items on the day
the promise was taken) by ``promised_date``, on named invoices or — with none named — on every item overdue
that day. The promise is **kept** when the customer's payments in its currency dated from the day it was taken
up to the *deadline* (promised date + ``collections.promise_grace_days``, default 3) add up to the promised
amount, or when every promised invoice is settled by the deadline; it is **broken** when the deadline has
passed without that; until then it is **open**. While open, the promised items are held off the dunning ladder
(they neither escalate nor get letters). A broken promise moves the customer at once to the step after the one
its items had reached when the promise was taken (:func:`xlcredit.core.dunning.dunning_stage`'s
``floor_step``), for as long as any promised item is still owed and not held by something else.

**Dispute.** A dispute on an invoice — the whole of it (no amount) or a part — takes the disputed amount off
the ladder and out of the late-payment claims while it is open (from ``opened_on`` to the day before
``resolved_on``). An invoice's ``disputed`` flag is the simple case: the whole invoice, open with no date.
Resolution: ``credit_note`` (the customer was right; the credit note itself is entered in the Credit Notes
table as usual), ``upheld`` (the invoice stands and is payable in full), ``partly`` (a credit note for part,
the rest payable); ``outcome`` says what was agreed, in words. Interest on the disputed amount
(``collections.dispute_interest``): TRUE (default) keeps it accruing through the dispute, so an upheld invoice
is claimed from its due date; FALSE gives the days in dispute no interest (:func:`claim_slices`).
A dispute ages by the days it has been open: ``as_of − opened_on``.

**Payment plan.** The overdue debt of named invoices (or of every item overdue on the day it was agreed) paid in
instalments. :func:`instalment_schedule` builds one: each instalment's principal is debt ÷ number, rounded half up
to the currency's minor unit, and the **last instalment takes the remainder**, so the principals add up to the debt
to the cent (a count that would make an instalment zero, or leave nothing for the last one, is refused). Optional
simple interest (``annual_rate``) on the balance outstanding before each instalment for the days since the previous
one (the first: since the plan was agreed), rounded half up per instalment. Instalment *k* is kept when the
customer's payments in the plan's currency from the agreement date reach the sum of instalments 1..k by its due
date + ``collections.plan_grace_days``; the first one missed **breaks** the plan (and escalates like a broken
promise). While the plan is active its items are held off the ladder; once every instalment is paid it is
**completed** and holds nothing.

**Contact.** A call, e-mail, visit or letter with its outcome (reached, no answer, promised, disputed,
refused), who made it and a note: an append-only log beside the collection register.

Words users type are read loosely: case and spaces do not matter (``Not received`` = ``not_received``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import pairwise
from typing import Any

from xlcredit.core.coerce import need_date
from xlcredit.core.dunning import stage_for_days
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.money import ZERO, minor_units, round_money
from xlcredit.core.monitoring import add_months
from xlcredit.core.openitems import OpenItem, Position
from xlcredit.core.policy import Policy

__all__ = [
    "CHANNELS", "CONTACT_CHANNELS", "CONTACT_OUTCOMES", "DISPUTE_REASONS", "RESOLUTIONS", "ClaimItem", "Collections",
    "Contact", "CustomerCollections", "Dispute", "DisputeStatus", "Instalment", "PaymentPlan", "PlanStatus",
    "Promise", "PromiseStatus", "add_months", "choice", "claim_slices", "customer_collections", "dispute_ageing",
    "dunnable_positions", "instalment_schedule", "money_words", "plan_status", "promise_status",
]

#: How a promise was taken.
CHANNELS: tuple[str, ...] = ("phone", "email", "visit", "letter", "portal", "other")
DISPUTE_REASONS: tuple[str, ...] = ("price", "quantity", "quality", "not_received", "duplicate", "other")
RESOLUTIONS: tuple[str, ...] = ("credit_note", "upheld", "partly")
CONTACT_CHANNELS: tuple[str, ...] = ("call", "email", "visit", "letter", "other")
CONTACT_OUTCOMES: tuple[str, ...] = ("reached", "no_answer", "promised", "disputed", "refused")
#: Ageing of open disputes by days open: upper bounds of the bands (the last band is open-ended).
DISPUTE_AGE_BOUNDS: tuple[int, ...] = (30, 60, 90)


# --------------------------------------------------------------------------- small helpers
def choice(value: Any, field_name: str, allowed: Sequence[str], default: str | None = None) -> str:
    """A word from ``allowed``, read loosely (case, spaces and hyphens do not matter); blank → ``default``."""
    text = "" if value is None else str(value).strip().lower().replace("-", " ").replace(" ", "_")
    if not text and default is not None:
        return default
    if text not in allowed:
        shown = ", ".join(a.replace("_", " ") for a in allowed)
        raise XlcError(field_name, f"must be one of {shown} (got {describe(value)})", value)
    return text


def words(code: str) -> str:
    """A code as words: ``not_received`` → ``not received``."""
    return code.replace("_", " ")


def money_words(amount: Decimal, currency: str) -> str:
    """``EUR 5,000.00`` — the amount with its currency's decimals and thousands separators."""
    places = minor_units(currency) if len(currency) == 3 else 2
    return f"{currency} {round_money(amount, currency) if len(currency) == 3 else amount:,.{places}f}".strip()


def _positive(value: Decimal | None, field_name: str, *, allow_none: bool = True) -> None:
    if value is None:
        if not allow_none:
            raise XlcError(field_name, "is empty", value)
        return
    if not isinstance(value, Decimal) or not value.is_finite():
        raise XlcError(field_name, f"must be an amount (got {describe(value)})", value)
    if value <= 0:
        raise XlcError(field_name, f"must be more than zero (got {value})", value)


def _nos(values: Iterable[Any]) -> tuple[str, ...]:
    out: list[str] = []
    for v in values:
        text = str(v).strip()
        if text and text not in out:
            out.append(text)
    return tuple(out)


def _id(value: Any, field_name: str = "customer_id") -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise XlcError(field_name, "is empty", value)
    return text


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Promise:
    """A promise to pay: by ``promised_date``, ``amount`` (None: the promised items' open amount) on
    ``invoice_nos`` (empty: every item overdue on ``taken_on``), taken by ``taken_by`` over ``channel``."""

    customer_id: str
    promised_date: dt.date
    taken_on: dt.date
    amount: Decimal | None = None
    invoice_nos: tuple[str, ...] = ()
    currency: str = ""
    taken_by: str = ""
    channel: str = "phone"
    note: str = ""
    promise_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "customer_id", _id(self.customer_id))
        promised = need_date(self.promised_date, "promised_date")
        taken = need_date(self.taken_on, "taken_on")
        if promised < taken:
            raise XlcError("promised_date", f"is before the day the promise was taken ({promised} < {taken})",
                           promised)
        _positive(self.amount, "amount")
        object.__setattr__(self, "invoice_nos", _nos(self.invoice_nos))
        object.__setattr__(self, "currency", str(self.currency or "").strip().upper())
        object.__setattr__(self, "channel", choice(self.channel, "channel", CHANNELS, "phone"))


@dataclass(frozen=True)
class Dispute:
    """A dispute on invoice ``invoice_no``: ``amount`` of it (None: the whole invoice), why, whose, and how it
    ended (``resolved_on``, ``resolution``, ``outcome``, ``credited``: the credit note's amount)."""

    customer_id: str
    invoice_no: str
    opened_on: dt.date | None
    reason: str = "other"
    amount: Decimal | None = None
    owner: str = ""
    note: str = ""
    resolved_on: dt.date | None = None
    resolution: str = ""
    outcome: str = ""
    credited: Decimal | None = None
    dispute_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "customer_id", _id(self.customer_id))
        object.__setattr__(self, "invoice_no", _id(self.invoice_no, "invoice_no"))
        opened = None if self.opened_on is None else need_date(self.opened_on, "opened_on")
        object.__setattr__(self, "reason", choice(self.reason, "reason", DISPUTE_REASONS, "other"))
        _positive(self.amount, "amount")
        if self.credited is not None and (not isinstance(self.credited, Decimal) or self.credited < 0):
            raise XlcError("credited", f"must not be negative (got {describe(self.credited)})", self.credited)
        resolution = "" if not str(self.resolution or "").strip() else choice(self.resolution, "resolution",
                                                                               RESOLUTIONS)
        object.__setattr__(self, "resolution", resolution)
        if self.resolved_on is not None:
            resolved = need_date(self.resolved_on, "resolved_on")
            if opened is not None and resolved < opened:
                raise XlcError("resolved_on", f"is before the dispute was opened ({resolved} < {opened})", resolved)
            if not resolution:
                raise XlcError("resolution", "is empty: a resolved dispute says how it ended (credit note, upheld, "
                               "partly)", self.resolution)
        elif resolution:
            raise XlcError("resolved_on", f"is empty: the dispute is marked {words(resolution)} but has no date",
                           None)
        if resolution == "partly" and not self.credited:
            raise XlcError("credited", "is empty: a dispute resolved partly names the credit note's amount",
                           self.credited)

    def is_open(self, as_of: dt.date) -> bool:
        """Open on ``as_of``: opened by then (a flag without a date always is) and not yet resolved."""
        opened = self.opened_on is None or self.opened_on <= as_of
        return opened and (self.resolved_on is None or as_of < self.resolved_on)

    def days_open(self, as_of: dt.date) -> int | None:
        """Days the dispute has been open at ``as_of`` (up to its resolution); None without an opening date."""
        if self.opened_on is None:
            return None
        end = as_of if self.resolved_on is None else min(as_of, self.resolved_on)
        return max(0, (end - self.opened_on).days)


@dataclass(frozen=True)
class Instalment:
    """One instalment of a payment plan: its number, due date, principal and interest."""

    number: int
    due_date: dt.date
    principal: Decimal
    interest: Decimal = ZERO

    @property
    def amount(self) -> Decimal:
        """What the customer pays: principal + interest."""
        return self.principal + self.interest


@dataclass(frozen=True)
class PaymentPlan:
    """A payment plan agreed on ``agreed_on`` for ``invoice_nos`` (empty: every item overdue that day)."""

    customer_id: str
    agreed_on: dt.date
    currency: str
    instalments: tuple[Instalment, ...]
    invoice_nos: tuple[str, ...] = ()
    annual_rate: Decimal = ZERO
    owner: str = ""
    note: str = ""
    plan_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "customer_id", _id(self.customer_id))
        agreed = need_date(self.agreed_on, "agreed_on")
        currency = str(self.currency or "").strip().upper()
        if len(currency) != 3:
            raise XlcError("currency", f"must be a 3-letter code like EUR (got {describe(self.currency)})",
                           self.currency)
        object.__setattr__(self, "currency", currency)
        object.__setattr__(self, "invoice_nos", _nos(self.invoice_nos))
        if not self.instalments:
            raise XlcError("instalments", "a payment plan needs at least one instalment", None)
        previous = agreed
        for k, inst in enumerate(self.instalments, start=1):
            if inst.number != k:
                raise XlcError(f"instalments[{k}].number", f"must be {k} (instalments are numbered from 1 in order; "
                               f"got {inst.number})", inst.number)
            if inst.due_date < previous:
                raise XlcError(f"instalments[{k}].due_date", f"is before {previous} (instalments fall due in order, "
                               "from the day the plan is agreed)", inst.due_date)
            _positive(inst.principal, f"instalments[{k}].principal", allow_none=False)
            previous = inst.due_date

    @property
    def principal(self) -> Decimal:
        """The debt the plan pays off (the instalments' principal)."""
        return sum((i.principal for i in self.instalments), ZERO)

    @property
    def total(self) -> Decimal:
        """Everything the customer pays under the plan (principal + interest)."""
        return sum((i.amount for i in self.instalments), ZERO)


@dataclass(frozen=True)
class Contact:
    """One contact with the customer: when, how, what came of it, who made it."""

    customer_id: str
    contact_date: dt.date
    channel: str = "call"
    outcome: str = "reached"
    who: str = ""
    note: str = ""
    contact_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "customer_id", _id(self.customer_id))
        need_date(self.contact_date, "contact_date")
        object.__setattr__(self, "channel", choice(self.channel, "channel", CONTACT_CHANNELS, "call"))
        object.__setattr__(self, "outcome", choice(self.outcome, "outcome", CONTACT_OUTCOMES))

    @property
    def words(self) -> str:
        """``2026-10-28 call: no answer (Anna)``."""
        who = f" ({self.who})" if self.who else ""
        return f"{self.contact_date.isoformat()} {self.channel}: {words(self.outcome)}{who}"


@dataclass(frozen=True)
class Collections:
    """Every promise, dispute, plan and contact the collector recorded (from the workbook, files or the database)."""

    promises: tuple[Promise, ...] = ()
    disputes: tuple[Dispute, ...] = ()
    plans: tuple[PaymentPlan, ...] = ()
    contacts: tuple[Contact, ...] = ()

    def of(self, customer_id: str) -> Collections:
        """One customer's records."""
        return Collections(tuple(p for p in self.promises if p.customer_id == customer_id),
                           tuple(d for d in self.disputes if d.customer_id == customer_id),
                           tuple(p for p in self.plans if p.customer_id == customer_id),
                           tuple(c for c in self.contacts if c.customer_id == customer_id))

    def __add__(self, other: Collections) -> Collections:
        return Collections(self.promises + other.promises, self.disputes + other.disputes,
                           self.plans + other.plans, self.contacts + other.contacts)

    @property
    def empty(self) -> bool:
        return not (self.promises or self.disputes or self.plans or self.contacts)


# --------------------------------------------------------------------------- what items and payments look like
def _inv(item: Any) -> Any:
    return getattr(item, "invoice", item)


def _open_on(item: Any, day: dt.date) -> Decimal:
    """What was still owed on an item at the start of ``day`` (its open amount now + slices settled since)."""
    if _inv(item).invoice_date > day:
        return ZERO
    later = sum((s.amount for s in getattr(item, "settlements", ()) if s.date >= day), ZERO)
    return item.open_amount + later


def _covered(items: Sequence[Any], invoice_nos: tuple[str, ...], day: dt.date, customer_id: str,
             what: str) -> list[Any]:
    """The items a promise or plan covers: the named invoices, or every item overdue on ``day``."""
    if invoice_nos:
        by_no = {_inv(i).invoice_no: i for i in items}
        missing = [n for n in invoice_nos if n not in by_no]
        if missing:
            raise XlcError("invoice_nos", f"{what} names {', '.join(missing)}, not an invoice of {customer_id}",
                           ", ".join(missing))
        return [by_no[n] for n in invoice_nos]
    return [i for i in items if _inv(i).due_date < day and _open_on(i, day) > 0]


def _currency_of(covered: Sequence[Any], given: str, customer_id: str, what: str) -> str:
    if given:
        return given
    found = sorted({_inv(i).currency for i in covered})
    if len(found) == 1:
        return found[0]
    raise XlcError("currency", f"is needed for the {what} of {customer_id}: its items are in "
                   f"{', '.join(found) or 'no currency (nothing is overdue)'}", None)


def _step_on(covered: Sequence[Any], day: dt.date, policy: Policy) -> int:
    """The ladder step the covered items had reached on ``day`` (by the oldest one overdue then)."""
    overdue = [_inv(i).due_date for i in covered if _inv(i).due_date < day and _open_on(i, day) > 0]
    return stage_for_days((day - min(overdue)).days, policy)[0] if overdue else 0


def _paid(payments: Iterable[Any], customer_id: str, currency: str, start: dt.date, end: dt.date
          ) -> list[tuple[dt.date, Decimal]]:
    return sorted((p.payment_date, p.amount) for p in payments
                  if p.customer_id == customer_id and p.currency == currency and start <= p.payment_date <= end)


def _reached(paid: Sequence[tuple[dt.date, Decimal]], target: Decimal) -> dt.date | None:
    """The day the running total of payments reached ``target`` (None: not reached)."""
    total = ZERO
    for day, amount in paid:
        total += amount
        if total >= target:
            return day
    return None


# --------------------------------------------------------------------------- promises
@dataclass(frozen=True)
class PromiseStatus:
    """Where a promise stands at ``as_of``: open, kept or broken, and what it covers."""

    promise: Promise
    status: str                       # open | kept | broken
    amount: Decimal
    currency: str
    deadline: dt.date                 # promised date + grace days
    paid: Decimal                     # payments counted towards it by min(as_of, deadline)
    kept_on: dt.date | None
    invoice_nos: tuple[str, ...]      # the items it covers
    step_at_promise: int              # the ladder step of those items when the promise was taken

    @property
    def words(self) -> str:
        """``EUR 5,000.00 promised for 2026-11-02 (phone, Anna): broken``."""
        p = self.promise
        how = ", ".join(x for x in (p.channel, p.taken_by) if x)
        return f"{money_words(self.amount, self.currency)} promised for {p.promised_date.isoformat()} ({how}): " \
               f"{self.status}"


def promise_status(promise: Promise, items: Sequence[Any], payments: Iterable[Any], as_of: dt.date,
                   policy: Policy) -> PromiseStatus:
    """The promise at ``as_of`` (module docstring). ``items``: the customer's invoices as an allocation at
    ``as_of`` gives them (``OpenItem``, settled ones included); ``payments``: the ledger's payments."""
    day = need_date(as_of, "as_of")
    p = promise
    covered = _covered(items, p.invoice_nos, p.taken_on, p.customer_id, "the promise")
    currency = _currency_of(covered, p.currency, p.customer_id, "promise")
    amount = p.amount if p.amount is not None else sum(
        (_open_on(i, p.taken_on) for i in covered if _inv(i).currency == currency), ZERO)
    deadline = p.promised_date + dt.timedelta(days=policy.collections.promise_grace_days)
    until = min(day, deadline)
    paid = _paid(payments, p.customer_id, currency, p.taken_on, until)
    kept_on = _reached(paid, amount) if amount > 0 else p.taken_on
    if kept_on is None and p.invoice_nos and covered and all(i.open_amount <= 0 for i in covered):
        settled = [i.last_settled for i in covered if getattr(i, "last_settled", None) is not None]
        last = max(settled, default=p.taken_on)
        kept_on = last if last <= until else None
    status = "kept" if kept_on is not None else ("broken" if day > deadline else "open")
    return PromiseStatus(p, status, amount, currency, deadline, sum((a for _, a in paid), ZERO), kept_on,
                         tuple(_inv(i).invoice_no for i in covered), _step_on(covered, p.taken_on, policy))


# --------------------------------------------------------------------------- disputes
@dataclass(frozen=True)
class DisputeStatus:
    """A dispute at ``as_of``: open or resolved, the amount it takes off the ladder, its age in days."""

    dispute: Dispute
    open: bool
    amount: Decimal          # disputed amount (the invoice's open amount when the whole invoice is disputed)
    currency: str
    days_open: int | None

    @property
    def words(self) -> str:
        """``invoice INV-7 (EUR 1,200.00, quality) open 12 days`` or ``… resolved 2026-10-20: upheld``."""
        d = self.dispute
        head = f"invoice {d.invoice_no} ({money_words(self.amount, self.currency)}, {words(d.reason)})"
        if self.open:
            return head + (f" open {self.days_open} days" if self.days_open is not None else " open")
        return f"{head} resolved {d.resolved_on.isoformat() if d.resolved_on else ''}: {words(d.resolution)}" + \
            (f" — {d.outcome}" if d.outcome else "")


def _dispute_status(dispute: Dispute, by_no: Mapping[str, Any], day: dt.date) -> DisputeStatus:
    item = by_no.get(dispute.invoice_no)
    if item is None:
        raise XlcError("invoice_no", f"the dispute names {dispute.invoice_no}, not an invoice of "
                       f"{dispute.customer_id}", dispute.invoice_no)
    is_open = dispute.is_open(day)
    if is_open:   # what it keeps off the ladder now: never more than is still owed
        open_amount = max(item.open_amount, ZERO)
        amount = open_amount if dispute.amount is None else min(dispute.amount, open_amount)
    else:         # what was disputed
        amount = _inv(item).amount if dispute.amount is None else dispute.amount
    return DisputeStatus(dispute, is_open, amount, _inv(item).currency, dispute.days_open(day))


def dispute_ageing(disputes: Iterable[DisputeStatus], bounds: Sequence[int] = DISPUTE_AGE_BOUNDS
                   ) -> list[tuple[str, int, dict[str, Decimal]]]:
    """Open disputes by days open: ``(band, count, {currency: amount})`` for ``0-30``, ``31-60``, … ``90+``."""
    labels = [f"0-{bounds[0]}", *(f"{a + 1}-{b}" for a, b in pairwise(bounds)), f"{bounds[-1]}+"]
    bands: list[tuple[str, int, dict[str, Decimal]]] = [(label, 0, {}) for label in labels]
    for s in disputes:
        if not s.open:
            continue
        days = s.days_open or 0
        k = next((n for n, b in enumerate(bounds) if days <= b), len(bounds))
        label, count, amounts = bands[k]
        amounts[s.currency] = amounts.get(s.currency, ZERO) + s.amount
        bands[k] = (label, count + 1, amounts)
    return bands


def claim_slices(item: Any, disputes: Iterable[Dispute], as_of: dt.date, policy: Policy
                 ) -> list[tuple[Decimal, dt.date, dt.date]]:
    """The slices of an item that late-payment interest is claimed on at ``as_of`` (``interest_on_slices``).

    The item's own overdue slices (``OpenItem.overdue_slices``), less what is in dispute: the disputed amount of
    an open dispute bears no claim; after a dispute is resolved its amount is claimed again — from the due date
    when ``collections.dispute_interest`` is TRUE, or without the days in dispute (from the day after it was
    opened to the day it was resolved) when FALSE. A whole-invoice dispute covers every slice.
    """
    day = need_date(as_of, "as_of")
    slices = list(item.overdue_slices(day))
    accrue = policy.collections.dispute_interest
    for d in disputes:
        if d.invoice_no != _inv(item).invoice_no or (d.opened_on is not None and d.opened_on > day):
            continue
        left = d.amount          # None: everything
        out: list[tuple[Decimal, dt.date, dt.date]] = []
        for amount, start, end in slices:
            part = amount if left is None else min(amount, left)
            if left is not None:
                left -= part
            rest = amount - part
            if rest > 0:
                out.append((rest, start, end))
            if part <= 0:
                continue
            if d.is_open(day):
                continue                           # the disputed part is out of the claim while open
            if accrue or d.opened_on is None or d.resolved_on is None:
                out.append((part, start, end))
                continue
            if d.opened_on > start:                # days before the dispute
                out.append((part, start, min(end, d.opened_on)))
            if end > d.resolved_on:                # days after it was resolved
                out.append((part, max(start, d.resolved_on), end))
        slices = out
    return slices


# --------------------------------------------------------------------------- payment plans
def instalment_schedule(debt: Decimal, count: int, first_due: dt.date, currency: str, *, months_apart: int = 1,
                        annual_rate: Decimal = ZERO, agreed_on: dt.date | None = None, basis: int = 365
                        ) -> tuple[Instalment, ...]:
    """Instalments paying off ``debt`` (module docstring): equal principals rounded half up, the remainder on the
    last, so they add up to the debt to the cent; optional simple interest on the declining balance."""
    if not isinstance(debt, Decimal) or not debt.is_finite() or debt <= 0:
        raise XlcError("amount", f"the debt to pay in instalments must be more than zero (got {describe(debt)})",
                       debt)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise XlcError("instalments", f"must be a whole number of at least 1 (got {describe(count)})", count)
    if months_apart < 1:
        raise XlcError("months_apart", f"must be at least 1 (got {months_apart})", months_apart)
    if annual_rate < 0 or annual_rate > 1:
        raise XlcError("annual_rate", f"must lie between 0 and 1 (8 % is 0.08; got {annual_rate})", annual_rate)
    debt = round_money(debt, currency)
    first = need_date(first_due, "first_due")
    start = first if agreed_on is None else need_date(agreed_on, "agreed_on")
    if first < start:
        raise XlcError("first_due", f"is before the plan is agreed ({first} < {start})", first)
    each = round_money(debt / count, currency)
    last = debt - each * (count - 1)
    if each <= 0:
        raise XlcError("instalments", f"{count} instalments of {money_words(debt, currency)} would each be less "
                       f"than the smallest amount in {currency}: choose fewer instalments", count)
    if last <= 0:
        raise XlcError("instalments", f"{count} instalments of {money_words(each, currency)} would pay more than "
                       f"{money_words(debt, currency)}: choose fewer instalments", count)
    out: list[Instalment] = []
    balance, previous = debt, start
    for k in range(1, count + 1):
        due = add_months(first, months_apart * (k - 1))
        principal = each if k < count else last
        interest = round_money(balance * annual_rate * (due - previous).days / basis, currency) \
            if annual_rate else ZERO
        out.append(Instalment(k, due, principal, interest))
        balance -= principal
        previous = due
    return tuple(out)


@dataclass(frozen=True)
class PlanStatus:
    """A payment plan at ``as_of``: active, completed or broken; the next instalment; what was paid."""

    plan: PaymentPlan
    status: str                        # active | completed | broken | agreed (not yet started)
    paid: Decimal
    kept: int                          # instalments paid in time so far
    missed: Instalment | None          # the instalment that broke the plan
    broken_on: dt.date | None          # the day after the missed instalment's grace period
    next_instalment: Instalment | None
    invoice_nos: tuple[str, ...]
    step_at_agreement: int

    @property
    def words(self) -> str:
        """``plan of 3 instalments (EUR 9,000.00): 1 kept, next EUR 3,000.00 on 2026-11-30``."""
        p = self.plan
        head = f"plan of {len(p.instalments)} instalments ({money_words(p.total, p.currency)})"
        if self.status == "broken" and self.missed is not None:
            return f"{head}: broken — instalment {self.missed.number} of " \
                   f"{money_words(self.missed.amount, p.currency)} due {self.missed.due_date.isoformat()} missed"
        if self.status == "completed":
            return f"{head}: completed"
        nxt = self.next_instalment
        tail = f", next {money_words(nxt.amount, p.currency)} on {nxt.due_date.isoformat()}" if nxt else ""
        return f"{head}: {self.kept} kept{tail}"


def plan_status(plan: PaymentPlan, items: Sequence[Any], payments: Iterable[Any], as_of: dt.date,
                policy: Policy) -> PlanStatus:
    """The plan at ``as_of`` (module docstring): each instalment kept when the running total of payments since
    the agreement reaches the instalments so far by its due date + grace; the first one missed breaks it."""
    day = need_date(as_of, "as_of")
    covered = _covered(items, plan.invoice_nos, plan.agreed_on, plan.customer_id, "the payment plan")
    grace = dt.timedelta(days=policy.collections.plan_grace_days)
    paid = _paid(payments, plan.customer_id, plan.currency, plan.agreed_on, day)
    running = ZERO
    kept = 0
    missed: Instalment | None = None
    next_one: Instalment | None = None
    for inst in plan.instalments:
        running += inst.amount
        deadline = inst.due_date + grace
        reached = _reached([(d, a) for d, a in paid if d <= deadline], running)
        if reached is not None:
            kept += 1
            continue
        if day > deadline:
            missed = inst
        else:
            next_one = inst
        break
    if missed is not None:
        status = "broken"
    elif kept == len(plan.instalments):
        status = "completed"
    else:
        status = "active" if day >= plan.agreed_on else "agreed"
    return PlanStatus(plan, status, sum((a for _, a in paid), ZERO), kept, missed,
                      None if missed is None else missed.due_date + grace + dt.timedelta(days=1), next_one,
                      tuple(_inv(i).invoice_no for i in covered), _step_on(covered, plan.agreed_on, policy))


# --------------------------------------------------------------------------- one customer, everything together
@dataclass(frozen=True)
class CustomerCollections:
    """One customer's promises, disputes and plans at ``as_of``, and what they do to the ladder.

    ``held``: invoice number → amount kept off the ladder (disputed parts; everything a live promise or plan
    covers); ``floor_step``: the step a broken promise or plan escalates to (0: none); ``problems``: records
    that could not be read against the ledger (say, an invoice number the customer does not have), in words.
    """

    customer_id: str
    promises: tuple[PromiseStatus, ...] = ()
    disputes: tuple[DisputeStatus, ...] = ()
    plans: tuple[PlanStatus, ...] = ()
    contacts: tuple[Contact, ...] = ()
    held: Mapping[str, Decimal] = field(default_factory=dict)
    floor_step: int = 0
    problems: tuple[XlcError, ...] = ()

    @property
    def kept(self) -> int:
        """Promises kept so far."""
        return sum(1 for p in self.promises if p.status == "kept")

    @property
    def broken(self) -> int:
        """Promises broken so far."""
        return sum(1 for p in self.promises if p.status == "broken")

    @property
    def open_promises(self) -> tuple[PromiseStatus, ...]:
        return tuple(p for p in self.promises if p.status == "open")

    @property
    def open_disputes(self) -> tuple[DisputeStatus, ...]:
        return tuple(d for d in self.disputes if d.open)

    @property
    def active_plan(self) -> PlanStatus | None:
        return next((p for p in self.plans if p.status in ("active", "agreed")), None)

    @property
    def broken_plans(self) -> tuple[PlanStatus, ...]:
        return tuple(p for p in self.plans if p.status == "broken")

    @property
    def last_contact(self) -> Contact | None:
        return max(self.contacts, key=lambda c: (c.contact_date, c.contact_id), default=None)

    @property
    def held_total(self) -> Decimal:
        return sum(self.held.values(), ZERO)


def customer_collections(customer_id: str, items: Sequence[Any], payments: Iterable[Any], as_of: dt.date,
                         policy: Policy, records: Collections) -> CustomerCollections:
    """Evaluate one customer's records at ``as_of`` and work out the holds and the escalation (module docstring).

    ``items``: the customer's invoices as the allocation at ``as_of`` gives them (every currency, settled ones
    included); ``payments``: the ledger's payments (any customer; only this one's count). A record that cannot be
    read against the ledger is kept in ``problems`` and left out; the others still count. An invoice's
    ``disputed`` flag counts as an open whole-invoice dispute.
    """
    day = need_date(as_of, "as_of")
    mine = records.of(customer_id)
    pays = [p for p in payments if p.customer_id == customer_id]
    by_no = {_inv(i).invoice_no: i for i in items}
    problems: list[XlcError] = []
    promises: list[PromiseStatus] = []
    for p in mine.promises:
        if p.taken_on > day:
            continue
        try:
            promises.append(promise_status(p, items, pays, day, policy))
        except XlcError as exc:
            problems.append(exc)
    disputes: list[DisputeStatus] = []
    named = {d.invoice_no for d in mine.disputes}
    flagged = [Dispute(customer_id, _inv(i).invoice_no, None, "other", note="disputed flag on the invoice")
               for i in items if getattr(_inv(i), "disputed", False) and _inv(i).invoice_no not in named]
    for d in (*mine.disputes, *flagged):
        if d.opened_on is not None and d.opened_on > day:
            continue
        try:
            disputes.append(_dispute_status(d, by_no, day))
        except XlcError as exc:
            problems.append(exc)
    plans: list[PlanStatus] = []
    for plan in mine.plans:
        if plan.agreed_on > day:
            continue
        try:
            plans.append(plan_status(plan, items, pays, day, policy))
        except XlcError as exc:
            problems.append(exc)

    held: dict[str, Decimal] = {}
    for s in disputes:
        if s.open and s.dispute.opened_on is not None:   # a flagged invoice is left out by dunning itself
            held[s.dispute.invoice_no] = held.get(s.dispute.invoice_no, ZERO) + s.amount
    whole: set[str] = set()
    for ps in promises:
        if ps.status == "open":
            whole.update(ps.invoice_nos)
    for pl in plans:
        if pl.status == "active":
            whole.update(pl.invoice_nos)
    for no in whole:
        item = by_no.get(no)
        if item is not None and item.open_amount > 0:
            held[no] = item.open_amount
    held = {no: min(amount, max(by_no[no].open_amount, ZERO)) for no, amount in held.items()
            if no in by_no and amount > 0}

    floor = 0
    for covered, step in [*((ps.invoice_nos, ps.step_at_promise) for ps in promises if ps.status == "broken"),
                          *((pl.invoice_nos, pl.step_at_agreement) for pl in plans if pl.status == "broken")]:
        still = [no for no in covered if no in by_no and by_no[no].open_amount > held.get(no, ZERO)
                 and not getattr(_inv(by_no[no]), "disputed", False) and _inv(by_no[no]).due_date < day]
        if still:
            floor = max(floor, min(step + 1, len(policy.dunning)))
    return CustomerCollections(customer_id, tuple(promises), tuple(disputes), tuple(plans),
                               tuple(sorted(mine.contacts, key=lambda c: (c.contact_date, c.contact_id))), held,
                               floor, tuple(problems))



# --------------------------------------------------------------------------- what a letter may claim
@dataclass(frozen=True)
class ClaimItem(OpenItem):
    """An open item as a dunning letter claims it: ``open_amount`` without the held part, and ``claim`` — the
    slices late interest is claimed on (:func:`claim_slices`)."""

    claim: tuple[tuple[Decimal, dt.date, dt.date], ...] = ()

    def overdue_slices(self, as_of: dt.date) -> list[tuple[Decimal, dt.date, dt.date]]:
        return list(self.claim)


def dunnable_positions(positions: Iterable[Position], held: CustomerCollections, disputes: Iterable[Dispute],
                       as_of: dt.date, policy: Policy) -> list[Position]:
    """A customer's positions as the letters see them: an item held in full (promised, on a plan, wholly
    disputed) is marked disputed, so letters and actions leave it out as they leave out a disputed invoice; a
    partly disputed item owes only the rest, and interest is claimed on :func:`claim_slices`."""
    day = need_date(as_of, "as_of")
    mine = [d for d in disputes if d.customer_id == held.customer_id]
    out: list[Position] = []
    for pos in positions:
        items: list[OpenItem] = []
        for item in pos.items:
            off = held.held.get(item.invoice.invoice_no, ZERO)
            if item.open_amount > 0 and off >= item.open_amount:
                items.append(OpenItem(replace(item.invoice, disputed=True), item.open_amount, item.settlements))
                continue
            claim = claim_slices(item, mine, day, policy)
            items.append(ClaimItem(item.invoice, item.open_amount - off, item.settlements, tuple(claim)))
        out.append(replace(pos, items=tuple(items)))
    return out
