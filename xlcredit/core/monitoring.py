"""Portfolio monitoring: who is due for a credit review, and the early warnings that call for one now.

**Periodic review** (policy ``review``): every customer every ``review.months`` (3) months; grades D
and E every ``review.months_high_risk`` (1) month. The next review falls that many calendar months
after the last recorded review (same day of the month, or the month's last day); a customer never
reviewed is due now.

**Special-review triggers**, each with the figures that set it off:

* ``order_swing`` — order volume against the customer's own history, like months with like months so
  that a seasonal customer is not flagged every spring: the invoiced amount of the last
  ``review.order_months`` (3) complete months against the same months a year earlier; a rise or fall
  of ``review.order_swing`` (50 %) or more triggers. Months with no orders a year earlier give no
  comparison (a new customer has no history to swing against).
* ``payment_trend`` — worsening payment behaviour: days beyond terms (early = 0) of the customer's
  last ``review.trend_invoices`` (6) invoices, oldest first; the least-squares trend line rising by
  ``review.trend_days`` (10) days or more across them triggers. At least three invoices are needed.
* ``utilisation`` / ``over_limit`` — exposure at ``review.utilisation_warning`` (90 %) of the credit
  limit or more; above the limit (or any exposure on a zero limit) is ``over_limit``.
* ``grade_drop`` — a worse grade than at the last review.
* ``rating_downgrade`` — a lower third-party rating than at the last review.
* ``cover_cut`` — the insurer lowered or withdrew the insured limit since the last review.
* ``broken_promise`` — promises to pay the customer broke (:mod:`xlcredit.core.collections`: not paid by the
  promised date + the grace days) within the last ``review.broken_promise_days`` (90) days, at least
  ``review.broken_promises`` (1) of them. Kept promises are counted beside (the Review sheet shows both) and
  never warn.

Every function here is pure: the figures come in as plain values and sequences (the review job
reads them from the ledger and the credit database).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from xlcredit.core.coerce import need_date
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.money import ZERO, to_decimal
from xlcredit.core.policy import GRADES, Policy

__all__ = [
    "CustomerPosition",
    "LastReview",
    "PromiseRecord",
    "ReviewCase",
    "Trigger",
    "add_months",
    "broken_promises",
    "cover_cut",
    "grade_drop",
    "last_days_late",
    "month_window",
    "next_review_date",
    "order_swing",
    "payment_trend",
    "rating_downgrade",
    "review_customer",
    "review_portfolio",
    "utilisation_trigger",
]

HIGH_RISK = ("D", "E")
MIN_TREND_POINTS = 3


@dataclass(frozen=True)
class Trigger:
    """One early warning: what kind, a short title and the evidence in figures.

    ``value``: the key figure (the change, the trend, the utilisation) for sorting and filtering.
    """

    kind: str
    title: str
    evidence: str
    value: Decimal | None = None


@dataclass(frozen=True)
class LastReview:
    """What was recorded at the customer's last credit review (None = not recorded)."""

    review_date: dt.date
    grade: str | None = None
    score: int | None = None
    credit_limit: Decimal | None = None
    rating: Decimal | None = None
    insured_limit: Decimal | None = None


@dataclass(frozen=True)
class CustomerPosition:
    """A customer as it stands today, as the review sees it (money in the company currency)."""

    customer_id: str
    name: str = ""
    grade: str | None = None
    score: int | None = None
    credit_limit: Decimal | None = None
    exposure: Decimal = ZERO
    rating: Decimal | None = None
    insured_limit: Decimal | None = None


@dataclass(frozen=True)
class PromiseRecord:
    """A customer's promises to pay as they stand at the as-of date: how many were kept, and each broken one as
    (the day it broke — the day after the promised date + grace — and what was promised, in words)."""

    kept: int = 0
    broken: tuple[tuple[dt.date, str], ...] = ()


@dataclass(frozen=True)
class ReviewCase:
    """One customer's review status: periodic due date, special triggers and what changed since last time."""

    customer_id: str
    name: str
    grade: str | None
    last_review: dt.date | None
    next_review: dt.date
    periodic_due: bool
    triggers: tuple[Trigger, ...] = ()
    changes: tuple[str, ...] = ()
    utilisation: Decimal | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)
    promises_kept: int = 0
    promises_broken: int = 0   # every broken promise on record, also those too old to trigger a review

    @property
    def special(self) -> bool:
        """A special review is called for (at least one trigger)."""
        return bool(self.triggers)

    @property
    def due(self) -> bool:
        """Due for review now: periodic review due, or a trigger fired."""
        return self.periodic_due or self.special

    @property
    def review_type(self) -> str:
        """"special", "periodic" or "" (not due)."""
        return "special" if self.special else ("periodic" if self.periodic_due else "")

    @property
    def reason(self) -> str:
        """Why the customer is on the review list, in one line."""
        parts = [t.title for t in self.triggers]
        if self.periodic_due:
            parts.append("first review due" if self.last_review is None
                         else f"periodic review due since {self.next_review.isoformat()}")
        return "; ".join(parts)


# --------------------------------------------------------------------------- helpers
def _money(value: Any, field: str, *, allow_none: bool = False) -> Decimal | None:
    return to_decimal(value, field, allow_negative=False, allow_none=allow_none)


def _grade(value: Any, field: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    letter = str(value).strip().upper()
    if letter not in GRADES:
        raise XlcError(field, f"must be one of {', '.join(GRADES)} (got {describe(value)})", value)
    return letter


def _fmt(amount: Decimal) -> str:
    return f"{amount:,.2f}" if amount != amount.to_integral_value() else f"{amount:,.0f}"


def _pct(share: Decimal) -> str:
    return f"{(share * 100).quantize(Decimal(1), ROUND_HALF_UP)} %"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def month_window(as_of: Any, months: int) -> tuple[tuple[int, int], ...]:
    """The last ``months`` complete calendar months at ``as_of``, oldest first, as (year, month).

    A month is complete when ``as_of`` is its last day or later.
    """
    day = need_date(as_of, "as_of")
    last_complete = day.month if day.day == calendar.monthrange(day.year, day.month)[1] else day.month - 1
    index = day.year * 12 + last_complete - 1
    return tuple((i // 12, i % 12 + 1) for i in (index - k for k in range(months - 1, -1, -1)))


def _ym(value: Any, field: str) -> tuple[int, int]:
    if isinstance(value, tuple) and len(value) == 2:
        year, month = value
    elif isinstance(value, dt.date):
        year, month = value.year, value.month
    elif isinstance(value, str) and len(value.strip()) >= 7 and value.strip()[4] == "-":
        try:
            year, month = int(value.strip()[:4]), int(value.strip()[5:7])
        except ValueError:
            raise XlcError(field, f"is not a month YYYY-MM (got {describe(value)})", value) from None
    else:
        raise XlcError(field, f"is not a month YYYY-MM (got {describe(value)})", value)
    if not (isinstance(year, int) and isinstance(month, int) and 1 <= month <= 12):
        raise XlcError(field, f"is not a month YYYY-MM (got {describe(value)})", value)
    return year, month


# --------------------------------------------------------------------------- periodic review
def next_review_date(last_review: Any, grade: Any, policy: Policy, as_of: Any) -> dt.date:
    """When the next periodic review falls: last review + the grade's review interval (never reviewed: as_of)."""
    day = need_date(as_of, "as_of")
    if last_review is None:
        return day
    last = need_date(last_review, "last_review")
    letter = _grade(grade, "grade")
    months = policy.review.months_high_risk if letter in HIGH_RISK else policy.review.months
    return add_months(last, months)


# --------------------------------------------------------------------------- triggers
def order_swing(monthly: Mapping[Any, Any], as_of: Any, policy: Policy) -> Trigger | None:
    """Order volume of the last complete months against the same months a year earlier (see module doc).

    ``monthly``: ``{month: amount}`` with months as ``(year, month)``, ``"YYYY-MM"`` or any date in
    the month; amounts in one currency. Returns the trigger, or None when within the threshold or when
    there is nothing to compare against.
    """
    n = policy.review.order_months
    volumes: dict[tuple[int, int], Decimal] = {}
    for key, amount in monthly.items():
        ym = _ym(key, "month")
        value = _money(amount, f"orders[{ym[0]}-{ym[1]:02d}]")
        assert value is not None
        volumes[ym] = volumes.get(ym, ZERO) + value
    window = month_window(as_of, n)
    recent = sum((volumes.get(ym, ZERO) for ym in window), ZERO)
    base = sum((volumes.get((y - 1, m), ZERO) for y, m in window), ZERO)
    if base == 0:
        return None
    change = (recent - base) / base
    if abs(change) < policy.review.order_swing:
        return None
    first, last = window[0], window[-1]
    span = f"{first[0]}-{first[1]:02d}" if n == 1 else f"{first[0]}-{first[1]:02d}..{last[0]}-{last[1]:02d}"
    before = f"{first[0] - 1}-{first[1]:02d}" if n == 1 else \
        f"{first[0] - 1}-{first[1]:02d}..{last[0] - 1}-{last[1]:02d}"
    word = "up" if change > 0 else "down"
    title = "Orders stopped" if recent == 0 else f"Orders {word} {_pct(abs(change))} on a year ago"
    evidence = (f"orders {span}: {_fmt(recent)} against {_fmt(base)} in {before} ({'+' if change > 0 else '−'}"
                f"{_pct(abs(change))}; threshold ±{_pct(policy.review.order_swing)})")
    return Trigger("order_swing", title, evidence, change)


def _trend(values: Sequence[Fraction]) -> Fraction:
    """Least-squares slope of the values against 0, 1, 2, … (exact)."""
    k = len(values)
    mean_x = Fraction(k - 1, 2)
    mean_y = sum(values, Fraction(0)) / k
    sxy = sum(((Fraction(i) - mean_x) * (y - mean_y) for i, y in enumerate(values)), Fraction(0))
    sxx = sum(((Fraction(i) - mean_x) ** 2 for i in range(k)), Fraction(0))
    return sxy / sxx


def payment_trend(days_late: Sequence[Any], policy: Policy) -> Trigger | None:
    """Days beyond terms of the last invoices (oldest first) trending up by ``review.trend_days`` or more.

    Days on or before the due date count as 0 days beyond terms. Uses the last
    ``review.trend_invoices`` values; fewer than three give no trend.
    """
    values: list[Fraction] = []
    for i, raw in enumerate(days_late):
        number = to_decimal(raw, f"days_late[{i}]")
        assert number is not None
        values.append(max(Fraction(number), Fraction(0)))
    window = values[-policy.review.trend_invoices:]
    if len(window) < MIN_TREND_POINTS:
        return None
    slope = _trend(window)
    rise = slope * (len(window) - 1)
    if rise < policy.review.trend_days:
        return None
    shown = ", ".join(str(round(v)) if v.denominator != 1 else str(v.numerator) for v in window)
    per = Decimal(slope.numerator) / Decimal(slope.denominator)
    total = Decimal(rise.numerator) / Decimal(rise.denominator)
    evidence = (f"days beyond terms of the last {len(window)} invoices: {shown} (trend +{per:.1f} days per invoice, "
                f"+{total:.1f} across them; threshold {policy.review.trend_days})")
    return Trigger("payment_trend", f"Paying later: +{total:.0f} days over the last {len(window)} invoices",
                   evidence, total.quantize(Decimal("0.1"), ROUND_HALF_UP))


def last_days_late(items: Iterable[Any], as_of: Any, n: int) -> list[int]:
    """Days beyond terms of a customer's last ``n`` invoices by due date, oldest first (payment-trend input).

    ``items``: the customer's open items of an allocation at ``as_of`` (``openitems.OpenItem``: every
    invoice with its settlements), any currency. An undisputed invoice counts when paid in full (its last
    settlement date − due date) or when still open and past due (as_of − due date: late at least that
    long). Ordered by (due date, invoice date, invoice number).
    """
    day = need_date(as_of, "as_of")
    rows: list[tuple[dt.date, dt.date, str, int]] = []
    for item in items:
        inv = getattr(item, "invoice", item)
        if getattr(inv, "disputed", False) or inv.invoice_date > day:
            continue
        open_amount = item.open_amount
        last = item.last_settled
        if open_amount > 0 and inv.due_date < day:
            rows.append((inv.due_date, inv.invoice_date, inv.invoice_no, (day - inv.due_date).days))
        elif open_amount == 0 and inv.amount > 0 and last is not None:
            rows.append((inv.due_date, inv.invoice_date, inv.invoice_no, (last - inv.due_date).days))
    rows.sort()
    return [r[3] for r in rows[-n:]] if n > 0 else []


def utilisation_trigger(credit_limit: Any, exposure: Any, policy: Policy) -> Trigger | None:
    """Exposure at the warning share of the limit or more (``utilisation``), or over it (``over_limit``)."""
    limit = _money(credit_limit, "credit_limit", allow_none=True)
    used = _money(exposure, "exposure")
    assert used is not None
    if limit is None:
        return None
    if limit == 0:
        if used > 0:
            return Trigger("over_limit", "Exposure without a credit limit",
                           f"exposure {_fmt(used)} on a credit limit of 0", None)
        return None
    share = used / limit
    if share > 1:
        return Trigger("over_limit", f"Over limit by {_fmt(used - limit)}",
                       f"exposure {_fmt(used)} against a limit of {_fmt(limit)} ({_pct(share)} used)", share)
    if share >= policy.review.utilisation_warning:
        return Trigger("utilisation", f"Limit {_pct(share)} used",
                       f"exposure {_fmt(used)} against a limit of {_fmt(limit)} (warning at "
                       f"{_pct(policy.review.utilisation_warning)})", share)
    return None


def grade_drop(previous: Any, current: Any) -> Trigger | None:
    """A worse grade than at the last review."""
    before, now = _grade(previous, "previous_grade"), _grade(current, "grade")
    if before is None or now is None or GRADES.index(now) <= GRADES.index(before):
        return None
    steps = GRADES.index(now) - GRADES.index(before)
    return Trigger("grade_drop", f"Grade down {before} → {now}",
                   f"grade {before} at the last review, {now} now ({steps} step{'s' if steps > 1 else ''} down)",
                   Decimal(steps))


def rating_downgrade(previous: Any, current: Any) -> Trigger | None:
    """A lower third-party rating than at the last review."""
    before = to_decimal(previous, "previous_rating", allow_none=True)
    now = to_decimal(current, "rating", allow_none=True)
    if before is None or now is None or now >= before:
        return None
    return Trigger("rating_downgrade", f"Rating down {before} → {now}",
                   f"third-party rating {before} at the last review, {now} now ({now - before})", now - before)


def cover_cut(previous: Any, current: Any) -> Trigger | None:
    """The insurer lowered or withdrew the insured limit since the last review."""
    before = _money(previous, "previous_insured_limit", allow_none=True)
    now = _money(current, "insured_limit", allow_none=True)
    if before is None or before == 0:
        return None
    if now is None or now == 0:
        return Trigger("cover_cut", "Insurance cover withdrawn",
                       f"insured limit {_fmt(before)} at the last review, none now", -before)
    if now >= before:
        return None
    return Trigger("cover_cut", f"Insurance cover cut to {_fmt(now)}",
                   f"insured limit {_fmt(before)} at the last review, {_fmt(now)} now "
                   f"(−{_pct((before - now) / before)})", now - before)


def broken_promises(promises: PromiseRecord | None, as_of: Any, policy: Policy) -> Trigger | None:
    """Promises to pay broken in the last ``review.broken_promise_days`` days, ``review.broken_promises`` or more.

    A promise counts from the day it broke (after the as-of date: not yet) until that many days later; the
    evidence names each one, newest first, and the kept promises beside them.
    """
    if promises is None:
        return None
    day = need_date(as_of, "as_of")
    window = policy.review.broken_promise_days
    recent = sorted(((need_date(on, "broken_on"), words) for on, words in promises.broken
                     if 0 <= (day - need_date(on, "broken_on")).days < window), reverse=True)
    if not recent or len(recent) < policy.review.broken_promises:
        return None
    n = len(recent)
    kept = promises.kept
    evidence = (f"{n} promise{'s' if n != 1 else ''} to pay broken in the last {window} days: "
                + "; ".join(f"{words}, broken {on.isoformat()}" for on, words in recent)
                + f" ({kept} kept; threshold {policy.review.broken_promises})")
    return Trigger("broken_promise", f"{n} promise{'s' if n != 1 else ''} to pay broken", evidence, Decimal(n))


def _shown(value: Any) -> str:
    return "none" if value is None else (_fmt(value) if isinstance(value, Decimal) else str(value))


def _changes(last: LastReview, now: CustomerPosition) -> tuple[str, ...]:
    """What differs from the last review: grade, score, limit, rating, insured limit ("limit 100,000 → 80,000")."""
    pairs: list[tuple[str, Any, Any]] = [
        ("grade", last.grade, now.grade), ("score", last.score, now.score),
        ("credit limit", last.credit_limit, now.credit_limit), ("rating", last.rating, now.rating),
        ("insured limit", last.insured_limit, now.insured_limit)]
    return tuple(f"{name} {_shown(before)} → {_shown(after)}" for name, before, after in pairs
                 if before != after)


# --------------------------------------------------------------------------- one customer, the portfolio
def review_customer(position: CustomerPosition, last: LastReview | None, as_of: Any, policy: Policy, *,
                    monthly_orders: Mapping[Any, Any] | None = None,
                    days_late: Sequence[Any] | None = None, promises: PromiseRecord | None = None) -> ReviewCase:
    """The review status of one customer: periodic due date, every trigger with evidence, changes since.

    ``promises``: the customer's kept and broken promises to pay (the collector's records), or None for none.
    """
    day = need_date(as_of, "as_of")
    grade = _grade(position.grade, "grade")
    next_date = next_review_date(None if last is None else last.review_date, grade, policy, day)
    triggers: list[Trigger] = []
    for trigger in (
        order_swing(monthly_orders, day, policy) if monthly_orders else None,
        payment_trend(days_late, policy) if days_late else None,
        utilisation_trigger(position.credit_limit, position.exposure, policy),
        None if last is None else grade_drop(last.grade, grade),
        None if last is None else rating_downgrade(last.rating, position.rating),
        None if last is None else cover_cut(last.insured_limit, position.insured_limit),
        broken_promises(promises, day, policy),
    ):
        if trigger is not None:
            triggers.append(trigger)
    limit = _money(position.credit_limit, "credit_limit", allow_none=True)
    exposure = _money(position.exposure, "exposure")
    assert exposure is not None
    util = None if not limit else exposure / limit
    return ReviewCase(
        customer_id=str(position.customer_id), name=position.name, grade=grade,
        last_review=None if last is None else last.review_date, next_review=next_date,
        periodic_due=next_date <= day, triggers=tuple(triggers),
        changes=() if last is None else _changes(last, position), utilisation=util,
        promises_kept=0 if promises is None else promises.kept,
        promises_broken=0 if promises is None else len(promises.broken),
    )


def review_portfolio(positions: Iterable[CustomerPosition], last_reviews: Mapping[str, LastReview], as_of: Any,
                     policy: Policy, *, monthly_orders: Mapping[str, Mapping[Any, Any]] | None = None,
                     days_late: Mapping[str, Sequence[Any]] | None = None,
                     promises: Mapping[str, PromiseRecord] | None = None) -> tuple[ReviewCase, ...]:
    """Every customer's review status, special reviews first, then periodic ones due, then the rest by date."""
    orders = monthly_orders or {}
    late = days_late or {}
    kept_broken = promises or {}
    cases = [review_customer(p, last_reviews.get(p.customer_id), as_of, policy,
                             monthly_orders=orders.get(p.customer_id), days_late=late.get(p.customer_id),
                             promises=kept_broken.get(p.customer_id))
             for p in positions]
    rank = {"special": 0, "periodic": 1, "": 2}
    return tuple(sorted(cases, key=lambda c: (rank[c.review_type], -len(c.triggers), c.next_review, c.customer_id)))
