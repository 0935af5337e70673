"""What a dunning letter says: the statement of account behind it, and the action-list rows.

Pure (no files, no clock): given a customer's credit position (:class:`CustomerCredit`, which
carries the dunning level), its open items (from :func:`xlcredit.core.openitems.allocate`) and the
policy, decide

* the **letter** of the customer's ladder step (``policy.dunning[step].letter``: reminder,
  formal_demand, letter_before_action, final_notice) with its statement of account: every overdue,
  undisputed open item (disputed items are left out until the dispute is settled, exactly as the
  dunning level leaves them out), its days overdue and the late charge claimed under
  ``policy.late.claim``:

  - ``contract``: contractual interest at ``late.contract_rate`` on each slice outstanding after the
    due date (parts paid late bear interest for their own days: ``interest_on_slices``);
  - ``penalty``: the daily late fee ``late.daily_penalty_rate`` × open amount × days overdue;
  - ``statutory``: the customer's ``statutory_regime`` (UK Late Payment Act / EU Directive 2011/7/EU)
    on the open amount, plus the fixed compensation per invoice. Where the customer has no regime or
    the item is not in the regime's currency (GBP / EUR) the contract rate is claimed instead and
    the letter's ``claim_note`` says so;
  - ``none``: no late charge.

* the **action** of that step (``policy.dunning[step].action``: phone call, stop new orders, legal
  action, agency or insurance claim) as a row of the action list: customer, action, due date (the
  oldest overdue item's due date + the step's days), amount overdue, owner (the credit controller).

The register key of a letter is :func:`xlcredit.io.store.items_key` of its invoice numbers; an
action's key adds the token ``#action`` so the letter and the action of one step are separate
register entries.

**Honest to the record.** A letter names only the earlier letters the register holds
(:func:`with_history`: letters of earlier ladder steps sent since the oldest overdue item fell due);
without any, it says that it is the first written notice and since when the items are overdue.

**Nothing dropped.** A customer whose currency has no FX rate into the company currency has no
company-currency figures (the portfolio leaves it out of those), yet it is still dunned in its own
currency: :class:`Dunned` carries its dunning level and the reason, which the letter and action
rows keep in ``note``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xlcredit.core.dunning import DunningStatus
from xlcredit.core.interest import (
    REGIME_CURRENCY,
    ReferenceRates,
    daily_penalty,
    interest_on_slices,
    statutory_interest,
)
from xlcredit.core.money import ZERO
from xlcredit.core.openitems import OpenItem, Position
from xlcredit.core.policy import DunningStep, Policy
from xlcredit.core.portfolio import CustomerCredit
from xlcredit.core.records import Customer

__all__ = ["ACTION_TOKEN", "LANGUAGES", "PAY_WITHIN_DAYS", "ActionItem", "CurrencyTotal", "Dunned", "EarlierLetter",
           "LetterContent", "StatementLine", "action_for", "letter_for", "overdue_items", "with_history"]

LANGUAGES: tuple[str, ...] = ("en", "zh")
#: Days the customer is given to pay, per letter template (the "pay by" date printed on the letter).
PAY_WITHIN_DAYS: dict[str, int] = {"reminder": 7, "formal_demand": 7, "letter_before_action": 14, "final_notice": 7}
ACTION_TOKEN = "#action"


@dataclass(frozen=True)
class StatementLine:
    """One overdue open item on the statement of account."""

    invoice_no: str
    invoice_date: dt.date
    due_date: dt.date
    currency: str
    amount: Decimal          # invoice amount
    open_amount: Decimal     # still owed
    days_overdue: int
    interest: Decimal        # late charge claimed on this item (interest or penalty)
    compensation: Decimal    # fixed statutory compensation (0 outside the statutory claim)

    @property
    def total(self) -> Decimal:
        return self.open_amount + self.interest + self.compensation


@dataclass(frozen=True)
class CurrencyTotal:
    """The statement's totals in one currency: principal overdue + late charges = total due."""

    currency: str
    principal: Decimal
    interest: Decimal
    compensation: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.compensation


@dataclass(frozen=True)
class EarlierLetter:
    """A letter of an earlier ladder step that the register holds (what a later letter may refer to)."""

    step_index: int
    stage: str
    as_of: dt.date


@dataclass(frozen=True)
class Dunned:
    """A customer's dunning level without company-currency figures, and why (say, no FX rate for its currency)."""

    customer: Customer
    dunning: DunningStatus
    note: str
    overdue: Decimal | None = None


@dataclass(frozen=True)
class LetterContent:
    """Everything a dunning letter prints (templates receive it as ``letter``)."""

    customer: Customer
    as_of: dt.date
    step_index: int
    stage: str
    template: str            # letter key: reminder | formal_demand | letter_before_action | final_notice
    language: str            # en | zh
    claim: str               # contract | statutory | penalty | none — what was actually claimed
    claim_note: str          # why the claim differs from the policy's, "" otherwise
    rate: Decimal | None     # annual contract rate or daily penalty rate claimed
    regime: str              # UK | EU for a statutory claim, else ""
    lines: tuple[StatementLine, ...]
    totals: tuple[CurrencyTotal, ...]
    days_past_due: int
    pay_by: dt.date
    stop_orders: bool
    oldest_due: dt.date | None = None            # due date of the oldest overdue item ("overdue since")
    earlier: tuple[EarlierLetter, ...] = ()      # earlier letters the register holds (see with_history)
    note: str = ""                               # for the credit controller, not printed (e.g. no FX rate)

    @property
    def invoice_nos(self) -> tuple[str, ...]:
        return tuple(line.invoice_no for line in self.lines)

    @property
    def register_amount(self) -> tuple[Decimal | None, str]:
        """Total due and its currency for the register (None, "" when the letter spans several currencies)."""
        if len(self.totals) == 1:
            return self.totals[0].total, self.totals[0].currency
        return None, ""


@dataclass(frozen=True)
class ActionItem:
    """One row of the action list: a ladder step that is a task for a person, not a letter."""

    customer_id: str
    name: str
    step_index: int
    stage: str
    action: str
    due_date: dt.date
    amount: Decimal | None   # None: several currencies and no company-currency figure
    currency: str
    owner: str
    invoice_nos: tuple[str, ...]
    note: str = ""           # for the credit controller (e.g. no FX rate: dunned in its own currency)


def overdue_items(positions: Iterable[Position], as_of: dt.date) -> list[OpenItem]:
    """The customer's overdue, undisputed open items (what the dunning level and letters are about)."""
    out = [item for pos in positions for item in pos.items
           if item.open_amount > 0 and not item.invoice.disputed and item.invoice.due_date < as_of]
    return sorted(out, key=lambda i: (i.invoice.due_date, i.invoice.invoice_no))


def _step(credit: CustomerCredit | Dunned, policy: Policy) -> DunningStep | None:
    index = credit.dunning.step_index
    return policy.dunning[index - 1] if 1 <= index <= len(policy.dunning) else None


def _charge(item: OpenItem, as_of: dt.date, policy: Policy, claim: str, regime: str,
            rates: ReferenceRates | None) -> tuple[Decimal, Decimal]:
    late = policy.late
    cur = item.invoice.currency
    if claim == "contract":
        return interest_on_slices(item.overdue_slices(as_of), late.contract_rate, late.basis, cur), ZERO
    if claim == "penalty":
        return daily_penalty(item.open_amount, item.invoice.due_date, as_of, late.daily_penalty_rate, cur), ZERO
    if claim == "statutory":
        assert rates is not None
        result = statutory_interest(item.open_amount, item.invoice.due_date, as_of, regime, rates, currency=cur)
        return result.interest, result.compensation
    return ZERO, ZERO


def letter_for(credit: CustomerCredit | Dunned, positions: Sequence[Position], policy: Policy, as_of: dt.date,
               rates: ReferenceRates | None = None) -> LetterContent | None:
    """The letter of the customer's current ladder step, or None when that step sends no letter."""
    step = _step(credit, policy)
    if step is None or not step.letter:
        return None
    items = overdue_items(positions, as_of)
    if not items:
        return None
    customer = credit.customer
    wanted = policy.late.claim
    regime = customer.statutory_regime
    note = ""
    claim = wanted
    if wanted == "statutory":
        currencies = {i.invoice.currency for i in items}
        if not regime:
            claim, note = "contract", "no statutory regime set for the customer: contract interest claimed"
        elif rates is None:
            claim, note = "contract", "no reference-rate tables loaded: contract interest claimed"
        elif currencies != {REGIME_CURRENCY[regime]}:
            claim, note = "contract", (f"{regime} statutory interest is set in {REGIME_CURRENCY[regime]}; "
                                       f"the items are in {', '.join(sorted(currencies))}: contract interest claimed")
    lines = []
    for item in items:
        interest, compensation = _charge(item, as_of, policy, claim, regime, rates)
        inv = item.invoice
        lines.append(StatementLine(inv.invoice_no, inv.invoice_date, inv.due_date, inv.currency, inv.amount,
                                   item.open_amount, (as_of - inv.due_date).days, interest, compensation))
    totals: dict[str, list[Decimal]] = {}
    for line in lines:
        t = totals.setdefault(line.currency, [ZERO, ZERO, ZERO])
        t[0] += line.open_amount
        t[1] += line.interest
        t[2] += line.compensation
    rate = {"contract": policy.late.contract_rate, "penalty": policy.late.daily_penalty_rate}.get(claim)
    language = customer.language if customer.language in LANGUAGES else "en"
    return LetterContent(
        customer=customer, as_of=as_of, step_index=credit.dunning.step_index, stage=step.name,
        template=step.letter, language=language, claim=claim, claim_note=note, rate=rate,
        regime=regime if claim == "statutory" else "", lines=tuple(lines),
        totals=tuple(CurrencyTotal(c, *v) for c, v in sorted(totals.items())),
        days_past_due=credit.dunning.days_past_due,
        pay_by=as_of + dt.timedelta(days=PAY_WITHIN_DAYS.get(step.letter, 7)),
        stop_orders=credit.dunning.stop_orders, oldest_due=items[0].invoice.due_date,
        note=getattr(credit, "note", ""))


def action_for(credit: CustomerCredit | Dunned, positions: Sequence[Position], policy: Policy,
               as_of: dt.date) -> ActionItem | None:
    """The action-list row of the customer's current ladder step, or None when that step has no action."""
    step = _step(credit, policy)
    if step is None or not step.action:
        return None
    items = overdue_items(positions, as_of)
    if not items:
        return None
    oldest = min(i.invoice.due_date for i in items)
    currencies = {i.invoice.currency for i in items}
    if len(currencies) == 1:
        amount: Decimal | None = sum((i.open_amount for i in items), ZERO)
        currency = next(iter(currencies))
    else:
        amount = credit.overdue
        currency = policy.company.currency if amount is not None else ""
    return ActionItem(credit.customer.customer_id, credit.customer.name, credit.dunning.step_index, step.name,
                      step.action, oldest + dt.timedelta(days=step.days), amount, currency,
                      policy.company.credit_controller, tuple(i.invoice.invoice_no for i in items),
                      note=getattr(credit, "note", ""))


def with_history(letter: LetterContent, register: Iterable[Mapping[str, Any]]) -> LetterContent:
    """The letter with the earlier letters it may refer to: the customer's register rows of kind ``letter``
    at an earlier ladder step, dated from the oldest overdue item's due date up to the letter's date
    (older letters were about items since paid). The latest letter per step, oldest step first."""
    since = letter.oldest_due or dt.date.min
    latest: dict[int, EarlierLetter] = {}
    for row in register:
        day = row.get("as_of")
        if isinstance(day, dt.datetime):
            day = day.date()
        step = int(row.get("step_index") or 0)
        if (row.get("kind") != "letter" or not isinstance(day, dt.date) or not 0 < step < letter.step_index
                or str(row.get("customer_id")) != letter.customer.customer_id or not since <= day <= letter.as_of):
            continue
        if step not in latest or latest[step].as_of < day:
            latest[step] = EarlierLetter(step, str(row.get("stage") or ""), day)
    return dataclasses.replace(letter, earlier=tuple(latest[k] for k in sorted(latest)))
