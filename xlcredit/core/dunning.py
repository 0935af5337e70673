"""Where a customer stands on the dunning ladder, and what comes next.

The ladder is the policy's ``dunning`` steps (default: 7 days reminder letter · 15 phone call ·
30 formal demand + stop new orders · 45 legal action · 90 agency or insurance claim). A customer's
dunning level is set by the **oldest overdue, undisputed open item**: its days past due
(``as_of − due_date``) reach the highest step whose ``days`` they equal or pass. Disputed items are
left out until the dispute is resolved; items with nothing open (fully paid or credited, or a
credit balance) are ignored. The next action is the next rung, due on the oldest item's due date
plus that rung's days.

**Holds** (:mod:`xlcredit.core.collections` works them out): ``held`` maps an invoice number to the
amount of it that is off the ladder — the part in dispute, or all of it while a promise to pay or a
payment plan covers it. An item held in full is left out like a disputed one; a partly held item
stays on the ladder (by its due date) with the rest. ``floor_step``: a broken promise or payment plan
moves the customer at once to the step after the one it had reached when the promise was made —
the level is then at least that step, while anything is left to dun.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xlcredit.core.coerce import need_date
from xlcredit.core.errors import XlcError
from xlcredit.core.items import OpenItemFields
from xlcredit.core.money import ZERO, to_decimal
from xlcredit.core.policy import Policy


@dataclass(frozen=True)
class DunningStatus:
    """A customer's dunning level at ``as_of``.

    ``step_index`` is 1-based into ``policy.dunning`` (0 = no step reached), ``stage`` its name
    ("" below the first step). ``next_action`` / ``next_action_date``: the next rung and the day it
    falls due ("" / None at the top of the ladder or with nothing open). ``stop_orders``: a step
    reached so far stops new orders.
    """

    step_index: int
    stage: str
    days_past_due: int
    oldest_item: str
    overdue_amount: Decimal
    next_action: str
    next_action_date: dt.date | None
    stop_orders: bool
    held: Decimal = ZERO          # open amount kept off the ladder by ``held`` (disputes, promises, plans)
    escalated: bool = False       # the level was raised by a broken promise or plan (``floor_step``)


_TRUE = ("true", "yes", "y", "1", "x", "disputed")
_FALSE = ("false", "no", "n", "0", "")


def _get(item: Any, name: str) -> Any:
    if hasattr(item, name):
        return getattr(item, name)
    invoice = getattr(item, "invoice", None)
    if invoice is not None and hasattr(invoice, name):
        return getattr(invoice, name)
    raise XlcError(name, f"is missing: an open item needs due_date, open_amount, disputed and invoice_no "
                   f"(got {type(item).__name__})", item)


def _flag(value: Any, label: str) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise XlcError("disputed", f"must be true or false (got {value!r} on invoice {label})", value)
    return bool(value)


def stage_for_days(days_past_due: int, policy: Policy) -> tuple[int, str]:
    """The ladder step reached at ``days_past_due`` (1-based index and name; ``(0, "")`` when none)."""
    if days_past_due < 1:
        return 0, ""
    index = 0
    for i, step in enumerate(policy.dunning, start=1):
        if step.days <= days_past_due:
            index = i
    return index, (policy.dunning[index - 1].name if index else "")


def dunning_stage(items: Iterable[OpenItemFields], as_of: object, policy: Policy, *,
                  held: Mapping[str, Decimal] | None = None, floor_step: int = 0) -> DunningStatus:
    """The dunning level of one customer's open items at ``as_of`` (see the module docstring; ``held`` and
    ``floor_step``: the holds and escalation of promises, disputes and payment plans)."""
    day = need_date(as_of, "as_of")
    steps = policy.dunning
    holds = held or {}
    kept_off = ZERO
    open_items: list[tuple[dt.date, str, Decimal]] = []
    for i, item in enumerate(items):
        label = str(_get(item, "invoice_no"))
        raw_amount = _get(item, "open_amount")
        try:
            amount = to_decimal(raw_amount, "open_amount")
        except XlcError as exc:
            raise XlcError("open_amount", f"{exc.problem} (invoice {label or i + 1})", raw_amount) from None
        assert amount is not None
        if amount <= 0:
            continue
        if _flag(_get(item, "disputed"), label):
            continue
        off = min(holds.get(label, ZERO), amount)
        if off > 0:
            kept_off += off
            amount -= off
            if amount <= 0:
                continue
        raw_due = _get(item, "due_date")
        try:
            due = need_date(raw_due, "due_date")
        except XlcError as exc:
            raise XlcError("due_date", f"{exc.problem} (invoice {label or i + 1})", raw_due) from None
        open_items.append((due, label, amount))

    if not open_items:
        return DunningStatus(0, "", 0, "", ZERO, "", None, False, kept_off)
    overdue = [entry for entry in open_items if (day - entry[0]).days >= 1]
    if not overdue:
        earliest_due = min(open_items)[0]
        first = steps[0]
        return DunningStatus(0, "", 0, "", ZERO, first.name, earliest_due + dt.timedelta(days=first.days), False,
                             kept_off)

    oldest_due, oldest_no, _ = min(overdue)
    days = (day - oldest_due).days
    index, stage = stage_for_days(days, policy)
    escalated = False
    if floor_step > index:
        index, escalated = min(floor_step, len(steps)), True
        stage = steps[index - 1].name
    upcoming = steps[index] if index < len(steps) else None
    return DunningStatus(
        step_index=index,
        stage=stage,
        days_past_due=days,
        oldest_item=oldest_no,
        overdue_amount=sum((amount for _, _, amount in overdue), ZERO),
        next_action=upcoming.name if upcoming else "",
        next_action_date=oldest_due + dt.timedelta(days=upcoming.days) if upcoming else None,
        stop_orders=any(step.stop_orders for step in steps[:index]),
        held=kept_off,
        escalated=escalated,
    )
