"""Trade-credit insurance: cover, deadlines and the expected indemnity, per customer.

A credit insurer covers a customer up to its **insured limit** (``customer.insured_limit``, company
currency) and pays the **indemnity share** (``insurance.indemnity``, 90 % by default) of an insured
loss — provided the policy's deadlines were kept. The deadlines, from the policy file (section
``insurance``), each counted in calendar days from the item's (original) due date:

* ``max_extension_days`` (60): the due date may be extended at most this far without the insurer's
  consent → "extend until";
* ``notify_overdue_days`` (60): an item still unpaid this long after its due date must be notified
  to the insurer (overdue notification / threat of loss) → "notify by";
* ``protracted_default_days`` (180): the waiting period; a claim for non-payment ("protracted
  default") can be filed no earlier than this → "claim from";
* ``claim_deadline_days`` (365): the claim must be filed no later than this → "claim by".

A deadline that has passed without the action (no notification / no claim recorded) is **missed**:
the item's cover is at risk, so the report flags it loudly and leaves it out of the expected
indemnity. A deadline falling within ``insurance.warn_days`` (14) is **coming due**.

**Expected indemnity on a claim** = indemnity share × min(insured limit, covered overdue amount),
where the covered overdue amount is the open amount of the items past due that are not disputed
(insurers do not pay a disputed debt until the dispute is settled) and whose cover has not been lost
by a missed deadline. ``claimable_now`` is the part already past the waiting period.
**Exposure above cover** = max(0, exposure − insured limit): what we carry alone.

Amounts are ``Decimal`` in the company currency (convert foreign-currency items before calling).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xlcredit.core.coerce import need_date
from xlcredit.core.items import OpenItemFields
from xlcredit.core.money import ZERO, round_money, to_decimal
from xlcredit.core.policy import Policy

__all__ = [
    "InsuranceStatus",
    "ItemDeadlines",
    "OpenAmount",
    "insurance_status",
]

NOTIFY, CLAIM_FROM, CLAIM_BY = "notify insurer", "claim from", "claim by"


@dataclass(frozen=True)
class OpenAmount:
    """A plain open item for :func:`insurance_status` (and any other check on open items)."""

    invoice_no: str
    due_date: dt.date
    open_amount: Decimal
    disputed: bool = False


@dataclass(frozen=True)
class ItemDeadlines:
    """One open item's insurance deadlines and where it stands at ``as_of``.

    ``status``: "not due", "overdue", "notified", "claim window", "claimed", "NOTIFICATION MISSED",
    "CLAIM DEADLINE MISSED". ``missed``: the deadlines passed without action. ``covered``: still
    counts towards the expected indemnity (overdue, undisputed, nothing missed).
    """

    invoice_no: str
    due_date: dt.date
    open_amount: Decimal
    days_overdue: int
    disputed: bool
    extend_until: dt.date
    notify_by: dt.date
    claim_from: dt.date
    claim_by: dt.date
    notified_on: dt.date | None
    claimed_on: dt.date | None
    status: str
    missed: tuple[str, ...]
    covered: bool


@dataclass(frozen=True)
class Deadline:
    """A deadline coming due (or missed): the day, what to do, the item and its amount."""

    date: dt.date
    action: str
    invoice_no: str
    amount: Decimal
    missed: bool


@dataclass(frozen=True)
class InsuranceStatus:
    """One customer's trade-credit insurance position at ``as_of`` (company currency)."""

    customer_id: str
    insurer: str
    insured: bool
    insured_limit: Decimal | None
    indemnity_share: Decimal
    exposure: Decimal
    above_cover: Decimal
    overdue_amount: Decimal
    covered_overdue: Decimal
    claimable_now: Decimal
    expected_indemnity: Decimal
    indemnity_claimable_now: Decimal
    items: tuple[ItemDeadlines, ...]
    coming_due: tuple[Deadline, ...]
    missed: tuple[Deadline, ...]

    @property
    def alerts(self) -> tuple[str, ...]:
        """Loud, readable lines for every missed deadline, then the ones coming due."""
        out = [f"MISSED: {d.action} by {d.date.isoformat()} — invoice {d.invoice_no} ({d.amount}); cover at risk"
               for d in self.missed]
        out += [f"due {d.date.isoformat()}: {d.action} — invoice {d.invoice_no} ({d.amount})" for d in self.coming_due]
        return tuple(out)


def _money(value: Any, field: str) -> Decimal:
    if type(value) is Decimal and value.is_finite() and value >= 0:   # the usual case, without the parsing
        return value
    amount = to_decimal(value, field, allow_negative=False)
    assert amount is not None
    return amount


def _dates(values: Mapping[str, Any] | None, field: str) -> dict[str, dt.date]:
    if not values:
        return {}
    return {str(k): need_date(v, f"{field}[{k}]") for k, v in values.items() if v is not None}


def insurance_status(customer_id: str, insured_limit: Any, insurer: str, exposure: Any,
                     items: Iterable[OpenItemFields], as_of: Any, policy: Policy, *,
                     notified: Mapping[str, Any] | None = None, claimed: Mapping[str, Any] | None = None,
                     currency: str | None = None) -> InsuranceStatus:
    """The insurance position of one customer: cover, deadlines per open item, expected indemnity.

    ``insured_limit`` None (or blank) = not insured: exposure above cover is the whole exposure and no
    deadlines apply. ``notified``/``claimed``: ``{invoice_no: date}`` of notifications made and
    claims filed (items absent were not). Items with nothing open are ignored.
    """
    day = need_date(as_of, "as_of")
    cur = currency or policy.company.currency
    ins = policy.insurance
    limit = to_decimal(insured_limit, "insured_limit", allow_negative=False, allow_none=True)
    total = _money(exposure, "exposure")
    insured = limit is not None
    notes = _dates(notified, "notified")
    claims = _dates(claimed, "claimed")
    share = ins.indemnity
    warn = dt.timedelta(days=ins.warn_days)
    extend_days, notify_days = dt.timedelta(days=ins.max_extension_days), dt.timedelta(days=ins.notify_overdue_days)
    wait_days, claim_days = dt.timedelta(days=ins.protracted_default_days), dt.timedelta(days=ins.claim_deadline_days)

    lines: list[ItemDeadlines] = []
    coming: list[Deadline] = []
    missed_all: list[Deadline] = []
    overdue = covered_overdue = claimable = ZERO
    for i, item in enumerate(items):
        label = str(getattr(item, "invoice_no", "") or f"item {i + 1}")
        amount = _money(getattr(item, "open_amount", None), f"open_amount ({label})")
        if amount <= 0:
            continue
        due = getattr(item, "due_date", None)
        if type(due) is not dt.date:
            due = need_date(due, f"due_date ({label})")
        disputed = bool(getattr(item, "disputed", False))
        days = (day - due).days
        extend_until, notify_by = due + extend_days, due + notify_days
        claim_from, claim_by = due + wait_days, due + claim_days
        notified_on, claimed_on = notes.get(label), claims.get(label)
        told = min((d for d in (notified_on, claimed_on) if d is not None), default=None)  # a claim notifies too
        missed: list[str] = []
        if insured and days > 0:
            if told is None and day > notify_by:
                missed.append(NOTIFY)
                missed_all.append(Deadline(notify_by, NOTIFY, label, amount, True))
            elif told is not None and told > notify_by:
                missed.append(NOTIFY)
                missed_all.append(Deadline(notify_by, f"{NOTIFY} (notified late, {told.isoformat()})",
                                           label, amount, True))
            if claimed_on is None and day > claim_by:
                missed.append(CLAIM_BY)
                missed_all.append(Deadline(claim_by, "file the claim", label, amount, True))
            elif claimed_on is not None and claimed_on > claim_by:
                missed.append(CLAIM_BY)
                missed_all.append(Deadline(claim_by, f"file the claim (filed late, {claimed_on.isoformat()})",
                                           label, amount, True))
            if told is None and day <= notify_by <= day + warn:
                coming.append(Deadline(notify_by, NOTIFY, label, amount, False))
            if claimed_on is None and day <= claim_from <= day + warn:
                coming.append(Deadline(claim_from, "claim possible from", label, amount, False))
            if claimed_on is None and claim_from <= day and day <= claim_by <= day + warn:
                coming.append(Deadline(claim_by, "file the claim", label, amount, False))
        if days <= 0:
            status = "not due"
        elif NOTIFY in missed:
            status = "NOTIFICATION MISSED"
        elif CLAIM_BY in missed:
            status = "CLAIM DEADLINE MISSED"
        elif claimed_on is not None:
            status = "claimed"
        elif day >= claim_from:
            status = "claim window"
        elif notified_on is not None:
            status = "notified"
        else:
            status = "overdue"
        covered = insured and days > 0 and not disputed and not missed
        if days > 0:
            overdue += amount
            if covered:
                covered_overdue += amount
                if day >= claim_from:
                    claimable += amount
        lines.append(ItemDeadlines(label, due, amount, max(days, 0), disputed, extend_until, notify_by, claim_from,
                                   claim_by, notified_on, claimed_on, status, tuple(missed), covered))

    if limit is None:
        above = total
        expected = now = ZERO
    else:
        above = round_money(max(total - limit, ZERO), cur)
        expected = round_money(share * min(limit, covered_overdue), cur)
        now = round_money(share * min(limit, claimable), cur)
    coming.sort(key=lambda d: (d.date, d.invoice_no))
    missed_all.sort(key=lambda d: (d.date, d.invoice_no))
    return InsuranceStatus(
        customer_id=str(customer_id), insurer=str(insurer or "").strip(), insured=insured, insured_limit=limit,
        indemnity_share=share, exposure=total, above_cover=above, overdue_amount=overdue,
        covered_overdue=covered_overdue, claimable_now=claimable, expected_indemnity=expected,
        indemnity_claimable_now=now, items=tuple(lines), coming_due=tuple(coming), missed=tuple(missed_all),
    )
