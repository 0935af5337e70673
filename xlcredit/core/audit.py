"""The annual policy audit: replay the ledger month end by month end under a policy, and compare two policies.

**What each policy would have decided.** For every month end *M* of the period the replay sees only what was
known at *M*: documents dated on or before *M* and payments received by *M* (one allocation,
:func:`xlcredit.core.openitems.allocate` at *M*, shared by both policies), FX rates dated on or before *M*, and
the payment history those documents give (:func:`xlcredit.core.history.payment_histories`; a customer without
documents at *M* has no history). Static customer data (rating, statements, relationship start, annual
volume, guarantee, insured limit) is taken as recorded in the customers table — the book keeps no history of
it. Open orders and uninvoiced deliveries are today's figures, not *M*'s, so the replay leaves them out: the
orders that actually came are the invoices. Under each policy: score and grade, the limit (portfolio rule
included), the terms, the dunning step, and the order check (:func:`xlcredit.core.limits.check_order`) on
every invoice dated in the month after *M* — each order against the exposure known at *M* (the open
receivables, company currency at *M*'s rates). An order held only for a deposit still ships once the deposit
is paid: it is counted apart (``deposit_orders``), not as held. The policy *warns* about a customer at *M* when
the order check on an order of 0 holds (over the limit, at the order-stop step, prepayment or cash in advance).

**What happened afterwards** (:func:`item_outcomes`, from one allocation of the whole ledger at
``observed_to``): an invoice **defaults** when it is written off — a ``written_off`` invoice, or settled by a
credit note marked as a write-off (on the date of that credit note) — or when part of it is still unpaid
:data:`DEFAULT_DAYS` (180) days after its due date (on that day). Its exposure at default (EAD) is what was
still open on that day, in the company currency at that day's rate. An invoice paid in full more than
:data:`LATE_DAYS` (90) days after its due date is **late**; one paid in full by its due date (plus the
policy's grade-A tolerance) was **paid on time**. A customer defaults on the first default date of its invoices.

**Measures per policy** (:class:`PolicyMeasures`): the EAD of the defaulted orders the policy would have held
(*stopped*) and of those it would have let through (*carried*); the orders it would have held that were then
paid on time (*the cost of caution*); the early-warning lead time (days from the first month end the policy
warned about a customer to that customer's default; defaulted customers never warned about are *missed*);
default rate by grade over the 365 days after each month end (a calibration table — a sound scorecard's rates
rise from A to E); DSO as the policy would have had it (the held orders neither sold nor owed: receivables and
90-day credit sales less the held orders, averaged over the month ends); and the insured share of the
carried EAD (each customer's carried EAD covered up to its insured limit). :func:`compare` gives B − A.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import itertools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from xlcredit.core.coerce import need_date
from xlcredit.core.dunning import dunning_stage
from xlcredit.core.errors import XlcError
from xlcredit.core.history import payment_histories
from xlcredit.core.ledger import FxRates, Invoice, Ledger
from xlcredit.core.limits import HOLD, HOLD_DEPOSIT, check_order, recommend_limits
from xlcredit.core.money import ZERO, round_money
from xlcredit.core.openitems import allocate
from xlcredit.core.policy import GRADES, Policy
from xlcredit.core.records import Customer, PaymentHistory
from xlcredit.core.scoring import score_customer
from xlcredit.core.terms import terms_for

#: Days after the due date an unpaid invoice counts as a default (the insurers' protracted default).
DEFAULT_DAYS = 180
#: An invoice paid in full more than this many days after its due date is a late payment.
LATE_DAYS = 90
#: Days after a month end over which the calibration table counts a default.
HORIZON_DAYS = 365
#: Days of credit sales behind DSO.
DSO_DAYS = 90

__all__ = ["DEFAULT_DAYS", "LATE_DAYS", "Audit", "CustomerDecision", "Difference", "GradeRow", "ItemOutcome",
           "MonthRow", "OrderCheck", "PolicyMeasures", "PolicyReplay", "audit", "compare", "item_outcomes",
           "month_ends"]


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class ItemOutcome:
    """What became of one invoice by ``observed_to`` (amounts in the company currency)."""

    customer_id: str
    invoice_no: str
    invoice_date: dt.date
    due_date: dt.date
    amount: Decimal                 # at the invoice date's rate
    default_date: dt.date | None    # written off, or unpaid DEFAULT_DAYS after due
    default_reason: str             # "written off" / "unpaid 180 days after due" / ""
    ead: Decimal                    # open on the default date, at that day's rate (0 without a default)
    paid_date: dt.date | None       # settled in full on this day (None: still open or never settled)
    days_late: int | None           # paid_date − due date, when paid in full

    @property
    def late_over_90(self) -> bool:
        return self.default_date is None and self.days_late is not None and self.days_late > LATE_DAYS

    def paid_on_time(self, tolerance_days: int = 0) -> bool:
        return self.default_date is None and self.days_late is not None and self.days_late <= tolerance_days


@dataclass(frozen=True)
class CustomerDecision:
    """What a policy would have decided about one customer at one month end."""

    month_end: dt.date
    customer_id: str
    score: int
    grade: str
    limit: Decimal
    terms: str
    exposure: Decimal
    dunning_stage: str
    days_past_due: int
    warning: bool                   # the order check on an order of 0 holds
    order_status: str               # "Release" or "Hold: …" on an order of 0


@dataclass(frozen=True)
class OrderCheck:
    """The order check a policy would have made at ``month_end`` on an invoice of the following month."""

    month_end: dt.date
    customer_id: str
    invoice_no: str
    invoice_date: dt.date
    amount: Decimal                 # company currency at the month end's rate
    held: bool                      # held for a reason other than a deposit
    deposit_only: bool              # held only until a deposit is paid
    status: str


@dataclass(frozen=True)
class GradeRow:
    """One line of the calibration table: customer-months graded so, and how many defaulted within a year."""

    grade: str
    observations: int
    defaults: int

    @property
    def rate(self) -> Decimal | None:
        return None if self.observations == 0 else (Decimal(self.defaults) / self.observations).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class MonthRow:
    """One month end under a policy: exposure, the orders it would have held, the EAD it carried that month."""

    month_end: dt.date
    exposure: Decimal
    held_orders: int
    held_amount: Decimal
    defaults: int                   # carried defaulted orders whose default date falls in the month
    ead_carried: Decimal


@dataclass(frozen=True)
class PolicyMeasures:
    """What a policy achieved over the period (company currency; see the module docstring)."""

    orders: int
    orders_amount: Decimal
    held_orders: int
    held_amount: Decimal
    deposit_orders: int
    defaulted_orders: int
    ead_total: Decimal
    stopped_orders: int
    ead_stopped: Decimal
    ead_carried: Decimal
    caution_orders: int
    caution_amount: Decimal
    defaulted_customers: int
    warned_customers: int
    missed_customers: int
    lead_days: Decimal | None       # average early-warning lead time of the warned customers
    calibration: tuple[GradeRow, ...]
    monotonic: bool | None          # default rates never fall from A to E (None: under two graded rows)
    dso: Decimal | None
    actual_dso: Decimal | None      # the same average, as things happened (no order held)
    insured_carried: Decimal
    insured_share: Decimal | None


@dataclass(frozen=True)
class PolicyReplay:
    """One policy replayed: its decisions, its order checks, its months and its measures."""

    name: str
    decisions: tuple[CustomerDecision, ...]
    orders: tuple[OrderCheck, ...]
    months: tuple[MonthRow, ...]
    measures: PolicyMeasures


@dataclass(frozen=True)
class Difference:
    """One measure of policy B against A: both values, B − A, and what the change means."""

    measure: str
    unit: str                       # "money", "count", "days", "share"
    a: Decimal | int | None
    b: Decimal | int | None
    change: Decimal | int | None
    meaning: str


@dataclass(frozen=True)
class Audit:
    """The audit of a period: the month ends, the outcome of every invoice, policy A, policy B and B − A."""

    start: dt.date
    end: dt.date
    observed_to: dt.date
    month_ends: tuple[dt.date, ...]
    currency: str
    outcomes: tuple[ItemOutcome, ...]
    a: PolicyReplay
    b: PolicyReplay | None
    differences: tuple[Difference, ...]
    problems: tuple[str, ...]


# --------------------------------------------------------------------------- dates
def _month_end(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def _next_month_end(day: dt.date) -> dt.date:
    return _month_end(_month_end(day) + dt.timedelta(days=1))


def month_ends(start: dt.date, end: dt.date) -> tuple[dt.date, ...]:
    """Every month end from ``start`` to ``end`` inclusive (2025-11-01 → 2026-10-31: twelve)."""
    first, last = need_date(start, "from"), need_date(end, "to")
    if last < first:
        raise XlcError("to", f"is before the start of the period ({last} < {first})", last)
    out: list[dt.date] = []
    day = _month_end(first)
    while day <= last:
        out.append(day)
        day = _next_month_end(day)
    if not out:
        raise XlcError("to", f"the period {first} to {last} holds no month end", last)
    return tuple(out)


# --------------------------------------------------------------------------- money
class _Fx:
    """Company-currency amounts at a day's rate; a missing rate is remembered as a problem (None)."""

    def __init__(self, fx: FxRates | None, company: str) -> None:
        self.fx, self.company, self.problems = fx, company, set[str]()

    def __call__(self, amount: Decimal, currency: str, day: dt.date) -> Decimal | None:
        if currency == self.company:
            return amount
        if self.fx is None:
            self.problems.add(f"fx_rates: no {self.company} rate for {currency} (its documents are left out)")
            return None
        try:
            return self.fx.convert(amount, currency, day)
        except XlcError as exc:
            self.problems.add(f"{exc.field}: {exc.problem} (documents in {currency} then are left out)")
            return None


# --------------------------------------------------------------------------- what happened
def item_outcomes(ledger: Ledger, observed_to: dt.date, *, fx: FxRates | None = None, company: str = "EUR",
                  written_off: Collection[tuple[str, str]] = (), write_off_notes: Collection[str] = (),
                  _conv: _Fx | None = None) -> dict[tuple[str, str], ItemOutcome]:
    """What became of every invoice dated on or before ``observed_to``, keyed by (customer_id, invoice_no).

    ``written_off``: (customer_id, invoice_no) of invoices flagged as written off (dated ``observed_to`` unless
    180 days after due comes first); ``write_off_notes``: numbers of credit notes that are write-offs (the
    invoice they settle defaults on their date). See the module docstring.
    """
    day = need_date(observed_to, "observed_to")
    conv = _conv or _Fx(fx, company)
    flagged, wo_notes = set(written_off), set(write_off_notes)
    out: dict[tuple[str, str], ItemOutcome] = {}
    for pos in allocate(ledger, day).values():
        for item in pos.items:
            inv = item.invoice
            amount = conv(inv.amount, inv.currency, inv.invoice_date)
            if amount is None:
                continue
            candidates: list[tuple[dt.date, str]] = []
            wo_days = [s.date for s in item.settlements if s.kind == "credit_note" and s.source in wo_notes]
            if wo_days:
                candidates.append((min(wo_days), "written off"))
            due_limit = inv.due_date + dt.timedelta(days=DEFAULT_DAYS)
            if (inv.customer_id, inv.invoice_no) in flagged:
                candidates.append((min(due_limit, day), "written off"))
            if due_limit <= day and inv.amount - sum((s.amount for s in item.settlements if s.date <= due_limit),
                                                     ZERO) > 0:
                candidates.append((due_limit, f"unpaid {DEFAULT_DAYS} days after due"))
            default_date, reason, ead = None, "", ZERO
            if candidates:
                default_date, reason = min(candidates)
                # open just before the default: what was not settled before that day (a write-off settles on it)
                still = inv.amount - sum((s.amount for s in item.settlements if s.date < default_date
                                          or (s.date == default_date and s.source not in wo_notes)), ZERO)
                ead = conv(still, inv.currency, default_date) or ZERO
            paid = item.last_settled if item.open_amount == 0 and item.settlements else None
            late = None if paid is None else (paid - inv.due_date).days
            out[(inv.customer_id, inv.invoice_no)] = ItemOutcome(
                inv.customer_id, inv.invoice_no, inv.invoice_date, inv.due_date, amount, default_date, reason,
                ead, paid, late)
    return out


# --------------------------------------------------------------------------- what was known at a month end
@dataclass(frozen=True)
class _Snapshot:
    """Everything both policies read at one month end (one allocation)."""

    day: dt.date
    positions: Mapping
    balance: Mapping[str, Decimal]                   # net receivables per customer, company currency
    open_items: Mapping[str, tuple]
    open_company: Mapping[tuple[str, str], Decimal]  # open amount per invoice, company currency
    sales: Mapping[tuple[str, str], Decimal]         # credit sales of the last DSO_DAYS per invoice
    skipped: frozenset[str]                          # customers with a document that could not be converted


def _snapshot(ledger: Ledger, day: dt.date, conv: _Fx) -> _Snapshot:
    positions = allocate(ledger, day)
    balance: dict[str, Decimal] = {}
    open_items: dict[str, list] = {}
    open_company: dict[tuple[str, str], Decimal] = {}
    skipped: set[str] = set()
    for (cid, ccy), pos in positions.items():
        value = conv(pos.balance, ccy, day)
        if value is None:
            skipped.add(cid)
            continue
        balance[cid] = balance.get(cid, ZERO) + value
        open_items.setdefault(cid, []).extend(pos.open_items)
        for item in pos.open_items:
            open_company[(cid, item.invoice_no)] = conv(item.open_amount, ccy, day) or ZERO
    start = day - dt.timedelta(days=DSO_DAYS)
    sales: dict[tuple[str, str], Decimal] = {}
    for inv in ledger.invoices:
        if start < inv.invoice_date <= day and inv.customer_id not in skipped:
            amount = conv(inv.amount, inv.currency, day)
            if amount is not None:
                sales[(inv.customer_id, inv.invoice_no)] = amount
    return _Snapshot(day, positions, balance, {k: tuple(v) for k, v in open_items.items()}, open_company, sales,
                     frozenset(skipped))


# --------------------------------------------------------------------------- one policy
def _decide(customers: Sequence[Customer], ledger: Ledger, snap: _Snapshot, policy: Policy, fx: FxRates | None,
            orders_after: Mapping[str, Sequence[Invoice]], conv: _Fx,
            problems: set[str]) -> tuple[list[CustomerDecision], list[OrderCheck]]:
    day = snap.day
    histories = payment_histories(ledger, day, tolerance_days=policy.grades.A_overdue_tolerance_days, fx=fx,
                                  positions=snap.positions)
    scored = []
    for customer in customers:
        cid = customer.customer_id
        if cid in snap.skipped:
            continue
        known = dataclasses.replace(customer, history=histories.get(cid, PaymentHistory()), open_orders=ZERO,
                                    uninvoiced_deliveries=ZERO)
        if known.relationship_start is not None and known.relationship_start > day:
            known = dataclasses.replace(known, relationship_start=None)   # not trading yet then: a prospect
        try:
            scored.append((known, score_customer(known, policy, day)))
        except XlcError as exc:
            problems.add(f"{cid}: {exc.field}: {exc.problem}")
    limits = {r.customer_id: r for r in recommend_limits([c for c, _ in scored],
                                                         {c.customer_id: s.grade for c, s in scored}, policy, day)}
    decisions: list[CustomerDecision] = []
    checks: list[OrderCheck] = []
    for customer, score in scored:
        cid = customer.customer_id
        limit = limits[cid].limit
        terms = terms_for(customer, score.grade, policy, day)
        dunning = dunning_stage(snap.open_items.get(cid, ()), day, policy)
        exposure = max(snap.balance.get(cid, ZERO), ZERO)
        now = check_order(customer, ZERO, limit, exposure, score.grade, dunning.days_past_due, policy,
                          deposit_share=terms.deposit_share)
        decisions.append(CustomerDecision(day, cid, score.score, score.grade, limit, terms.label, exposure,
                                          dunning.stage, dunning.days_past_due, now.decision == HOLD, now.status))
        for inv in orders_after.get(cid, ()):
            amount = conv(inv.amount, inv.currency, day)
            if amount is None:
                continue
            got = check_order(customer, amount, limit, exposure, score.grade, dunning.days_past_due, policy,
                              deposit_share=terms.deposit_share)
            deposit_only = got.decision == HOLD and set(got.codes) == {HOLD_DEPOSIT}
            checks.append(OrderCheck(day, cid, inv.invoice_no, inv.invoice_date, amount,
                                     got.decision == HOLD and not deposit_only, deposit_only, got.status))
    return decisions, checks


def _avg(values: Sequence[Decimal]) -> Decimal | None:
    return None if not values else (sum(values, ZERO) / len(values)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _measure(name: str, policy: Policy, customers: Sequence[Customer], snaps: Sequence[_Snapshot],
             decisions: Sequence[CustomerDecision], checks: Sequence[OrderCheck],
             outcomes: Mapping[tuple[str, str], ItemOutcome], currency: str) -> PolicyReplay:
    tolerance = policy.grades.A_overdue_tolerance_days
    held = [c for c in checks if c.held]
    held_keys = {(c.customer_id, c.invoice_no) for c in held}
    defaulted = [(c, outcomes[(c.customer_id, c.invoice_no)]) for c in checks
                 if (c.customer_id, c.invoice_no) in outcomes
                 and outcomes[(c.customer_id, c.invoice_no)].default_date is not None]
    stopped = [(c, o) for c, o in defaulted if c.held]
    carried = [(c, o) for c, o in defaulted if not c.held]
    caution = [c for c in held if (o := outcomes.get((c.customer_id, c.invoice_no))) is not None
               and o.paid_on_time(tolerance)]

    # customers' first default, and the first month end the policy warned about them (on or before it)
    first_default: dict[str, dt.date] = {}
    for o in outcomes.values():
        if o.default_date is not None and (o.customer_id not in first_default
                                           or o.default_date < first_default[o.customer_id]):
            first_default[o.customer_id] = o.default_date
    first_month = snaps[0].day if snaps else None
    in_scope = {cid: d for cid, d in first_default.items() if first_month is not None and d >= first_month}
    first_warning: dict[str, dt.date] = {}
    for d in decisions:
        if d.warning and d.customer_id in in_scope and d.month_end <= in_scope[d.customer_id] \
                and d.customer_id not in first_warning:
            first_warning[d.customer_id] = d.month_end
    leads = [Decimal((in_scope[cid] - w).days) for cid, w in first_warning.items()]

    # calibration: customer-months not yet in default, defaulted within the horizon
    counts = {g: [0, 0] for g in GRADES}
    for d in decisions:
        fd = first_default.get(d.customer_id)
        if fd is not None and fd <= d.month_end:
            continue
        counts[d.grade][0] += 1
        if fd is not None and (fd - d.month_end).days <= HORIZON_DAYS:
            counts[d.grade][1] += 1
    calibration = tuple(GradeRow(g, n, k) for g, (n, k) in counts.items())
    rates = [r.rate for r in calibration if r.rate is not None]
    monotonic = None if len(rates) < 2 else all(x <= y for x, y in itertools.pairwise(rates))

    # DSO with and without the held orders
    dsos: list[Decimal] = []
    actual: list[Decimal] = []
    for snap in snaps:
        ar = sum((max(v, ZERO) for v in snap.balance.values()), ZERO)
        sales = sum(snap.sales.values(), ZERO)
        held_open = sum((v for k, v in snap.open_company.items() if k in held_keys), ZERO)
        held_sales = sum((v for k, v in snap.sales.items() if k in held_keys), ZERO)
        if sales > 0:
            actual.append(ar / sales * DSO_DAYS)
        if sales - held_sales > 0:
            dsos.append(max(ar - held_open, ZERO) / (sales - held_sales) * DSO_DAYS)

    # insured share of the carried EAD, customer by customer up to its insured limit
    insured_limit = {c.customer_id: c.insured_limit or ZERO for c in customers}
    carried_by: dict[str, Decimal] = {}
    for _, o in carried:
        carried_by[o.customer_id] = carried_by.get(o.customer_id, ZERO) + o.ead
    insured = sum((min(v, insured_limit.get(cid, ZERO)) for cid, v in carried_by.items()), ZERO)
    ead_carried = sum((o.ead for _, o in carried), ZERO)

    months: list[MonthRow] = []
    for snap in snaps:
        nxt = _next_month_end(snap.day)
        mine = [c for c in held if c.month_end == snap.day]
        falling = [o for _, o in carried if o.default_date is not None and snap.day < o.default_date <= nxt]
        months.append(MonthRow(snap.day, round_money(sum((max(v, ZERO) for v in snap.balance.values()), ZERO),
                                                     currency),
                               len(mine), round_money(sum((c.amount for c in mine), ZERO), currency),
                               len(falling), round_money(sum((o.ead for o in falling), ZERO), currency)))

    def money(values: Sequence[Decimal]) -> Decimal:
        return round_money(sum(values, ZERO), currency)

    measures = PolicyMeasures(
        orders=len(checks), orders_amount=money([c.amount for c in checks]),
        held_orders=len(held), held_amount=money([c.amount for c in held]),
        deposit_orders=sum(1 for c in checks if c.deposit_only),
        defaulted_orders=len(defaulted), ead_total=money([o.ead for _, o in defaulted]),
        stopped_orders=len(stopped), ead_stopped=money([o.ead for _, o in stopped]),
        ead_carried=round_money(ead_carried, currency),
        caution_orders=len(caution), caution_amount=money([c.amount for c in caution]),
        defaulted_customers=len(in_scope), warned_customers=len(first_warning),
        missed_customers=len(in_scope) - len(first_warning), lead_days=_avg(leads),
        calibration=calibration, monotonic=monotonic, dso=_avg(dsos), actual_dso=_avg(actual),
        insured_carried=round_money(insured, currency),
        insured_share=None if ead_carried <= 0 else (insured / ead_carried).quantize(Decimal("0.0001"),
                                                                                      rounding=ROUND_HALF_UP))
    return PolicyReplay(name, tuple(decisions), tuple(checks), tuple(months), measures)


# --------------------------------------------------------------------------- the audit
def audit(customers: Sequence[Customer], ledger: Ledger, policy_a: Policy, start: dt.date, end: dt.date, *,
          policy_b: Policy | None = None, fx: FxRates | None = None, observed_to: dt.date | None = None,
          written_off: Collection[tuple[str, str]] = (), write_off_notes: Collection[str] = (),
          names: tuple[str, str] = ("A", "B")) -> Audit:
    """Replay the ledger at every month end from ``start`` to ``end`` under policy A (and B), see the module
    docstring. ``observed_to``: how far "afterwards" reaches (default: the ledger's newest document date)."""
    ends = month_ends(start, end)
    seen_to = need_date(observed_to, "observed_to") if observed_to is not None else \
        (ledger.latest_document_date() or ends[-1])
    currency = policy_a.company.currency
    if policy_b is not None and policy_b.company.currency != currency:
        raise XlcError("company.currency", f"policy B reports in {policy_b.company.currency}, policy A in "
                       f"{currency}: compare policies of one currency", policy_b.company.currency)
    conv = _Fx(fx, currency)
    outcomes = item_outcomes(ledger, seen_to, fx=fx, company=currency, written_off=written_off,
                             write_off_notes=write_off_notes, _conv=conv)
    by_customer: dict[str, list[Invoice]] = {}
    for inv in sorted(ledger.invoices, key=lambda i: (i.invoice_date, i.invoice_no)):
        by_customer.setdefault(inv.customer_id, []).append(inv)
    problems: set[str] = set()
    snaps: list[_Snapshot] = []
    runs: dict[str, tuple[list[CustomerDecision], list[OrderCheck]]] = {"a": ([], []), "b": ([], [])}
    for day in ends:
        snap = _snapshot(ledger, day, conv)
        snaps.append(snap)
        nxt = _next_month_end(day)
        orders_after = {cid: [i for i in invs if day < i.invoice_date <= nxt] for cid, invs in by_customer.items()}
        for key, policy in (("a", policy_a), ("b", policy_b)):
            if policy is None:
                continue
            d, c = _decide(customers, ledger, snap, policy, fx, orders_after, conv, problems)
            runs[key][0].extend(d)
            runs[key][1].extend(c)
    a = _measure(names[0], policy_a, customers, snaps, *runs["a"], outcomes, currency)
    b = None if policy_b is None else _measure(names[1], policy_b, customers, snaps, *runs["b"], outcomes, currency)
    ordered = tuple(sorted(outcomes.values(), key=lambda o: (o.customer_id, o.invoice_date, o.invoice_no)))
    return Audit(start, end, seen_to, ends, currency, ordered, a, b, () if b is None else compare(a, b, currency),
                 tuple(sorted(problems | conv.problems)))


def _diff(a: Decimal | int | None, b: Decimal | int | None) -> Decimal | int | None:
    return None if a is None or b is None else b - a


def compare(a: PolicyReplay, b: PolicyReplay, currency: str = "EUR") -> tuple[Difference, ...]:
    """B − A for every measure, with what the change means in words."""
    ma, mb = a.measures, b.measures
    out: list[Difference] = []

    def add(measure: str, unit: str, x: Decimal | int | None, y: Decimal | int | None, more: str, less: str) -> None:
        change = _diff(x, y)
        if change is None:
            meaning = "not comparable: one policy has nothing to measure here"
        elif change == 0:
            meaning = "the same under both policies"
        else:
            size = abs(change)
            shown = (f"{currency} {size:,.2f}" if unit == "money" else f"{size * 100:.1f} points" if unit == "share"
                     else f"{size} days" if unit == "days" else str(size))
            meaning = (more if change > 0 else less).format(n=shown, b=b.name, a=a.name)
        out.append(Difference(measure, unit, x, y, change, meaning))

    add("Orders held", "count", ma.held_orders, mb.held_orders,
        "{b} holds {n} more orders than {a}", "{b} holds {n} fewer orders than {a}")
    add("Sales held", "money", ma.held_amount, mb.held_amount,
        "{b} holds {n} more sales", "{b} holds {n} less sales")
    add("Exposure at default stopped", "money", ma.ead_stopped, mb.ead_stopped,
        "{b} would have kept {n} more of the later defaults off the books",
        "{b} would have let {n} more of the later defaults through")
    add("Defaulted orders stopped", "count", ma.stopped_orders, mb.stopped_orders,
        "{b} holds {n} more orders that later defaulted", "{b} holds {n} fewer orders that later defaulted")
    add("Exposure at default carried", "money", ma.ead_carried, mb.ead_carried,
        "{b} carries {n} more bad debt", "{b} carries {n} less bad debt")
    add("Cost of caution (held, then paid on time)", "money", ma.caution_amount, mb.caution_amount,
        "{b} turns away {n} more sales that were paid on time", "{b} turns away {n} less sales that were paid on time")
    add("Orders held, then paid on time", "count", ma.caution_orders, mb.caution_orders,
        "{n} more good orders held by {b}", "{n} fewer good orders held by {b}")
    add("Defaulted customers warned about", "count", ma.warned_customers, mb.warned_customers,
        "{b} warns about {n} more defaulted customers in time", "{b} warns about {n} fewer defaulted customers")
    add("Early-warning lead time (days, average)", "days", ma.lead_days, mb.lead_days,
        "{b} warns {n} earlier on average", "{b} warns {n} later on average")
    add("DSO (days)", "days", ma.dso, mb.dso, "{b}'s DSO is {n} longer", "{b}'s DSO is {n} shorter")
    add("Insured share of the carried exposure at default", "share", ma.insured_share, mb.insured_share,
        "{n} more of {b}'s carried bad debt is insured", "{n} less of {b}'s carried bad debt is insured")
    return tuple(out)
