"""Credit limits, exposure and the order check (the ERP "credit block").

How a recommended limit is built (policy section ``limits``; every cap is kept on the result so a
credit controller can see why the limit is what it is):

1. **Volume** (``limits.volume_share``, ``limits.basis``): at most 15 % of the customer's annual purchases
   with us (``customer.annual_volume``) under the basis ``share`` (the policy's rule as written). Under the
   basis ``terms`` (the default) the cap is what a customer paying on time owes on the terms its grade
   is given — annual purchases × (net days + ``limits.terms_margin_days``) / 365 — and never less than the
   15 %: a grade-A customer on Net 90 carries 90/365 ≈ 24.7 % of its purchases as receivables without
   ever paying late, so a 15 % limit would put every such customer over its limit (the policy check,
   :mod:`xlcredit.core.policy_check`, reports that conflict under the ``share`` basis).
2. **Grade A uplift** (``limits.grade_a_uplift``): grade A raises the *volume-based* figure by 20 %.
   The uplift is applied to the volume cap only, before the hard caps below, so it can never lift a
   limit above the first-order cap or the cash-flow cap. For grade A the volume cap is reported
   under the rule ``limits.grade_a_uplift`` (its description shows both steps).
3. **New customer** (``limits.first_order_share``): a customer trading for less than
   ``limits.new_customer_months`` months, or not trading yet (no ``relationship_start``), gets at
   most 50 % of the first order (``customer.first_order``).
4. **Cash flow** (``limits.cash_flow_share``): one customer at most 30 % of our monthly cash flow
   (``company.monthly_cash_flow``).
5. **Grades D and E**: no open credit. Grade D trades on prepayment (``deposit.D``) unless the
   customer has given a bank guarantee; then open credit up to the guarantee (``bank_guarantee``),
   still under every cap above. Grade E trades cash in advance (``deposit.E``) whatever guarantee
   is held: the policy table pairs "prepayment or bank guarantee" with D and "cash in advance"
   with E, and the customer record defines the guarantee as the grade D alternative.
6. The limit is the smallest cap; ``binding_rule`` names it (ties go to the grade rule, then
   missing data, first order, cash flow, volume).
7. **Portfolio** (``limits.portfolio_revenue_share``, :func:`recommend_limits` only): the sum of
   all limits at most 15 % of our annual revenue (``company.annual_revenue``). An excess is taken
   back by ``limits.portfolio_method``:
   ``pro_rata`` — every limit scaled by the same factor (cap / total);
   ``by_grade`` — taken back from the worst grade first (E, then D, C, B, A): a grade's limits go
   to zero before the next better grade is touched; inside the grade where the excess runs out,
   the limits are scaled pro rata.
8. **Rounding**: every limit is rounded DOWN to ``limits.step`` (1,000 by default; a step of 0
   means "down to the cent"), so rounding never lifts a limit over a cap.

Missing data never crashes and never lends: an existing customer without an annual purchase
volume gets limit 0 (rule ``"no purchase volume"``); a new customer without a first-order amount
gets limit 0 (rule ``"no first order"``). A prospect (new, no purchases yet) has no volume cap —
the first-order rule sets its limit.

Exposure is open receivables + open orders + uninvoiced deliveries; available credit is limit −
exposure (negative = over limit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import Any

from xlcredit.core.coerce import is_blank, need_date, to_days
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.money import ZERO, minor_units, quantum, round_down, round_money, to_decimal
from xlcredit.core.policy import GRADES, Policy
from xlcredit.core.records import Customer

# Rule names carried in ``LimitResult.binding_rule`` / ``LimitCap.rule`` (policy keys where one exists).
RULE_VOLUME = "limits.volume_share"
RULE_GRADE_A = "limits.grade_a_uplift"
RULE_FIRST_ORDER = "limits.first_order_share"
RULE_CASH_FLOW = "limits.cash_flow_share"
RULE_PORTFOLIO = "limits.portfolio_revenue_share"
RULE_PREPAY_D = "deposit.D"
RULE_CASH_E = "deposit.E"
RULE_GUARANTEE = "bank_guarantee"
RULE_NO_VOLUME = "no purchase volume"
RULE_NO_FIRST_ORDER = "no first order"

# Tie-break when several caps give the same smallest amount: the most telling reason first.
_PRIORITY = (RULE_CASH_E, RULE_PREPAY_D, RULE_GUARANTEE, RULE_NO_VOLUME, RULE_NO_FIRST_ORDER, RULE_FIRST_ORDER,
             RULE_CASH_FLOW, RULE_GRADE_A, RULE_VOLUME)
_WORST_FIRST = ("E", "D", "C", "B", "A")
DAYS_PER_YEAR = 365


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class LimitCap:
    """One ceiling on a customer's limit: the rule (policy key), what it says, and its amount.

    ``amount`` is None when the rule does not apply to this customer (shown for completeness).
    """

    rule: str
    description: str
    amount: Decimal | None


@dataclass(frozen=True)
class LimitResult:
    """A recommended credit limit and why: the binding rule and every cap considered.

    ``before_portfolio`` is the customer's own limit (rounded down to the step) before the
    portfolio rule took anything back; equal to ``limit`` when nothing was taken back.
    """

    customer_id: str
    limit: Decimal
    binding_rule: str
    caps: tuple[LimitCap, ...]
    before_portfolio: Decimal

    @property
    def reason(self) -> str:
        """The description of the binding cap, in words (for CREDIT_EXPLAIN and reports)."""
        for cap in reversed(self.caps):
            if cap.rule == self.binding_rule:
                return cap.description
        return ""


@dataclass(frozen=True)
class Exposure:
    """What the customer owes or will owe us: open receivables + open orders + uninvoiced deliveries."""

    open_receivables: Decimal
    open_orders: Decimal
    uninvoiced: Decimal
    total: Decimal


@dataclass(frozen=True)
class OrderDecision:
    """The credit check on a new order: ``"release"`` or ``"hold"``, every hold reason in words with its
    machine code (``codes[i]`` is the code of ``reasons[i]``, see :data:`HOLD_CODES`), and notes for a
    release (e.g. a grade D order covered by the bank guarantee)."""

    decision: str
    reasons: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        """What a person reads — in the cell, the credit table and the ``--out`` file: ``"Release"`` or
        ``"Hold: <reason>; <reason>"``."""
        return "Release" if self.decision == RELEASE else "Hold: " + "; ".join(self.reasons)


# --------------------------------------------------------------------------- small helpers
def grade_letter(grade: Any) -> str:
    """The grade as one of "A".."E" (a ScoreResult-like object with ``.grade`` also works)."""
    value = getattr(grade, "grade", grade)
    letter = value.strip().upper() if isinstance(value, str) else None
    if letter not in GRADES:
        raise XlcError("grade", f"must be one of {', '.join(GRADES)} (got {describe(value)})", value)
    return letter


def is_new_customer(customer: Customer, policy: Policy, as_of: Any) -> bool:
    """A customer is new while trading for less than ``limits.new_customer_months`` (or not trading yet)."""
    day = need_date(as_of, "as_of")
    if customer.relationship_start is None:
        return True
    return customer.months_of_relationship(day) < policy.limits.new_customer_months


def _amount(value: Any, field: str, *, allow_none: bool = False) -> Decimal | None:
    return to_decimal(value, field, allow_negative=False, allow_none=allow_none)


def _money(value: Any, field: str) -> Decimal:
    result = _amount(value, field)
    assert result is not None
    return result


def _fmt(amount: Decimal, currency: str, *, whole: bool = False) -> str:
    """``60,000 EUR`` / ``1,234.56 EUR`` — readable amounts for reasons and cap descriptions (``whole``: to the unit,
    rounded down, for a cap that is a quotient)."""
    if whole:
        amount = amount.to_integral_value(rounding=ROUND_FLOOR)
    if amount == amount.to_integral_value():
        return f"{amount:,.0f} {currency}"
    return f"{amount:,.2f} {currency}"


def _pct(share: Decimal) -> str:
    text = f"{(share * 100).normalize():f}"
    return f"{text} %"


def _step(policy: Policy) -> Decimal:
    step = policy.limits.step
    return step if step > 0 else quantum(policy.company.currency)


def _binding(caps: Sequence[LimitCap]) -> LimitCap:
    live = [c for c in caps if c.amount is not None]
    low = min(c.amount for c in live)  # type: ignore[type-var]
    tied = [c for c in live if c.amount == low]
    return min(tied, key=lambda c: _PRIORITY.index(c.rule) if c.rule in _PRIORITY else len(_PRIORITY))


def terms_share(grade: str, policy: Policy) -> tuple[int, Decimal] | None:
    """Net days of the grade's terms and the share of annual purchases a customer paying on time carries
    on them under the 'terms' basis: (net days + ``limits.terms_margin_days``) / 365; None for payment
    before delivery (grades D and E by default)."""
    from xlcredit.core.terms import net_days_of  # terms builds on limits: imported here, not at the top

    label = getattr(policy.terms, grade)
    try:
        net = net_days_of(label)
    except XlcError as exc:
        raise XlcError(f"terms.{grade}", exc.problem, label) from None
    if net is None:
        return None
    return net, Decimal(net + policy.limits.terms_margin_days) / DAYS_PER_YEAR


def _terms_cap(volume: Decimal, grade: str, policy: Policy) -> tuple[Decimal, str] | None:
    """The purchase cap of the 'terms' basis, with its description; None under the 'share' basis."""
    if policy.limits.basis != "terms" or grade in ("D", "E"):
        return None
    share = terms_share(grade, policy)
    if share is None:
        return None
    net, fraction = share
    margin, cur = policy.limits.terms_margin_days, policy.company.currency
    amount = volume * fraction
    label = getattr(policy.terms, grade)
    return amount, (f"what a customer paying on time owes on {label} terms: annual purchases {_fmt(volume, cur)} "
                    f"× ({net} + {margin} days) / 365 = {_fmt(amount, cur, whole=True)}")


# --------------------------------------------------------------------------- one customer
def _caps(customer: Customer, grade: str, policy: Policy, day: dt.date) -> tuple[LimitCap, ...]:
    lim, cur = policy.limits, policy.company.currency
    new = is_new_customer(customer, policy, day)
    volume = _amount(customer.annual_volume, "annual_volume", allow_none=True)
    first_order = _amount(customer.first_order, "first_order", allow_none=True)
    guarantee = _amount(customer.bank_guarantee, "bank_guarantee", allow_none=True) or ZERO
    caps: list[LimitCap] = []

    # 1–2. volume (grade A: raised by the uplift, before the hard caps)
    if volume is None:
        if new:
            caps.append(LimitCap(RULE_VOLUME, "no purchases with us yet (new customer): the first-order rule "
                                 "sets the limit", None))
        else:
            caps.append(LimitCap(RULE_NO_VOLUME, "no annual purchase volume on file for an existing customer: "
                                 "no open credit until it is entered", ZERO))
    else:
        base = lim.volume_share * volume
        text = f"{_pct(lim.volume_share)} of annual purchases {_fmt(volume, cur)} = {_fmt(base, cur)}"
        carried = _terms_cap(volume, grade, policy)
        if carried is not None and carried[0] > base:
            base, text = carried
        if grade == "A":
            raised = base * (1 + lim.grade_a_uplift)
            caps.append(LimitCap(RULE_GRADE_A, f"grade A: {text}, raised by {_pct(lim.grade_a_uplift)} = "
                                 f"{_fmt(raised, cur)}", raised))
        else:
            caps.append(LimitCap(RULE_VOLUME, text, base))

    # 3. new customer: share of the first order
    if new:
        since = ("not trading yet" if customer.relationship_start is None
                 else f"trading {customer.months_of_relationship(day)} months; new for {lim.new_customer_months}")
        if first_order is None:
            caps.append(LimitCap(RULE_NO_FIRST_ORDER, f"new customer ({since}) without a first-order amount: "
                                 "no open credit until it is entered", ZERO))
        else:
            amount = lim.first_order_share * first_order
            caps.append(LimitCap(RULE_FIRST_ORDER, f"new customer ({since}): {_pct(lim.first_order_share)} of the "
                                 f"first order {_fmt(first_order, cur)} = {_fmt(amount, cur)}", amount))

    # 4. our cash flow
    cash_cap = lim.cash_flow_share * policy.company.monthly_cash_flow
    caps.append(LimitCap(RULE_CASH_FLOW, f"{_pct(lim.cash_flow_share)} of our monthly cash flow "
                         f"{_fmt(policy.company.monthly_cash_flow, cur)} = {_fmt(cash_cap, cur)}", cash_cap))

    # 5. grades D and E
    if grade == "D":
        if guarantee > 0:
            caps.append(LimitCap(RULE_GUARANTEE, f"grade D: open credit only up to the bank guarantee held, "
                                 f"{_fmt(guarantee, cur)}", guarantee))
        else:
            caps.append(LimitCap(RULE_PREPAY_D, "grade D: prepayment unless a bank guarantee is given "
                                 "(none held) — no open credit", ZERO))
    elif grade == "E":
        held = f" (the bank guarantee of {_fmt(guarantee, cur)} does not change that)" if guarantee > 0 else ""
        caps.append(LimitCap(RULE_CASH_E, f"grade E: cash in advance — no open credit{held}", ZERO))
    return tuple(caps)


def recommend_limit(customer: Customer, grade: Any, policy: Policy, as_of: Any) -> LimitResult:
    """The recommended limit for one customer under every single-customer rule (no portfolio rule).

    ``grade`` is "A".."E" (from the scorecard). The limit is the smallest cap rounded down to
    ``limits.step``; see the module docstring for the rules and the treatment of missing data.
    """
    letter = grade_letter(grade)
    day = need_date(as_of, "as_of")
    caps = _caps(customer, letter, policy, day)
    binding = _binding(caps)
    assert binding.amount is not None
    if letter == "D" and binding.rule not in (RULE_GUARANTEE, RULE_PREPAY_D):
        # a grade D limit is open credit only because a guarantee secures it: say so, with the cap that binds
        guarantee = next(c for c in caps if c.rule == RULE_GUARANTEE)
        binding = LimitCap(RULE_GUARANTEE, f"grade D, secured by the bank guarantee of "
                           f"{_fmt(guarantee.amount or ZERO, policy.company.currency)}; within it, "
                           f"{binding.description}", binding.amount)
        caps = (*caps, binding)
    limit = round_down(binding.amount, _step(policy))
    return LimitResult(customer.customer_id, limit, binding.rule, caps, limit)


# --------------------------------------------------------------------------- the portfolio
def _scale(amount: Decimal, numerator: Decimal, denominator: Decimal) -> Decimal:
    """amount × numerator / denominator, never rounded up (so scaled limits stay under the cap)."""
    with localcontext() as ctx:
        ctx.prec = 40
        ctx.rounding = ROUND_FLOOR
        return amount * numerator / denominator


def _take_back(results: Sequence[LimitResult], letters: Sequence[str], cap: Decimal,
               method: str) -> list[Decimal]:
    total = sum((r.limit for r in results), ZERO)
    if method == "pro_rata":
        return [_scale(r.limit, cap, total) for r in results]
    # by_grade: worst grade first; within the grade where the excess runs out, pro rata
    new = [r.limit for r in results]
    excess = total - cap
    for g in _WORST_FIRST:
        if excess <= 0:
            break
        members = [i for i, letter in enumerate(letters) if letter == g and new[i] > 0]
        grade_total = sum((new[i] for i in members), ZERO)
        if grade_total <= 0:
            continue
        take = min(excess, grade_total)
        for i in members:
            new[i] = ZERO if take == grade_total else _scale(new[i], grade_total - take, grade_total)
        excess -= take
    return new


def recommend_limits(customers: Sequence[Customer], grades: Mapping[str, Any], policy: Policy,
                     as_of: Any) -> tuple[LimitResult, ...]:
    """Limits for a whole book: each customer's own limit, then the portfolio cap, then rounding down.

    ``grades`` maps customer_id → grade "A".."E". If the limits add up to more than
    ``limits.portfolio_revenue_share`` of our annual revenue, the excess is taken back by
    ``limits.portfolio_method`` (``pro_rata`` or ``by_grade``) and those limits show the binding
    rule ``limits.portfolio_revenue_share``; ``before_portfolio`` keeps the figure before.
    """
    day = need_date(as_of, "as_of")
    seen: set[str] = set()
    results: list[LimitResult] = []
    letters: list[str] = []
    for customer in customers:
        cid = customer.customer_id
        if cid in seen:
            raise XlcError("customer_id", f"appears more than once ({describe(cid)})", cid)
        seen.add(cid)
        if cid not in grades:
            raise XlcError("grade", f"is missing for customer {describe(cid)}", cid)
        letter = grade_letter(grades[cid])
        letters.append(letter)
        results.append(recommend_limit(customer, letter, policy, day))

    lim, cur = policy.limits, policy.company.currency
    revenue = policy.company.annual_revenue
    cap = lim.portfolio_revenue_share * revenue
    total = sum((r.limit for r in results), ZERO)
    if total <= cap:
        return tuple(results)

    step = _step(policy)
    how = ("every limit scaled down by the same factor" if lim.portfolio_method == "pro_rata"
           else "from the worst grade first (E, D, C, B, A)")
    text = (f"sum of all limits {_fmt(total, cur)} is over {_pct(lim.portfolio_revenue_share)} of our annual "
            f"revenue {_fmt(revenue, cur)} = {_fmt(cap, cur)}: the excess of {_fmt(total - cap, cur)} is taken "
            f"back, {how}")
    out = []
    for result, scaled in zip(results, _take_back(results, letters, cap, lim.portfolio_method), strict=True):
        limit = round_down(scaled, step)
        if limit >= result.limit:
            out.append(result)
            continue
        portfolio_cap = LimitCap(RULE_PORTFOLIO, f"{text}; this limit {_fmt(result.limit, cur)} → "
                                 f"{_fmt(limit, cur)}", limit)
        out.append(replace(result, limit=limit, binding_rule=RULE_PORTFOLIO, caps=(*result.caps, portfolio_cap),
                           before_portfolio=result.limit))
    return tuple(out)


# --------------------------------------------------------------------------- exposure
def exposure(customer: Customer, open_receivables: Any) -> Exposure:
    """The customer's exposure: open receivables (from the ledger) + open orders + uninvoiced deliveries."""
    receivables = _money(open_receivables, "open_receivables")
    orders = _money(customer.open_orders, "open_orders")
    uninvoiced = _money(customer.uninvoiced_deliveries, "uninvoiced_deliveries")
    return Exposure(receivables, orders, uninvoiced, receivables + orders + uninvoiced)


def _exposure_total(value: Any) -> Decimal:
    if isinstance(value, Exposure):
        return value.total
    return _money(value, "exposure")


def available_credit(limit: Any, exposure: Any) -> Decimal:
    """Limit − exposure (an :class:`Exposure` or a plain amount); negative means over the limit."""
    return _money(limit, "limit") - _exposure_total(exposure)


def utilisation(limit: Any, exposure: Any) -> Decimal | None:
    """Exposure as a share of the limit (1 = fully used, above 1 = over); None when the limit is 0."""
    amount = _money(limit, "limit")
    used = _exposure_total(exposure)
    if amount == 0:
        return None
    return used / amount


# --------------------------------------------------------------------------- the order check
RELEASE, HOLD = "release", "hold"
#: Machine codes of the hold reasons (the service answers them beside the words).
HOLD_OVER_LIMIT = "over_limit"            # exposure after the order above the credit limit
HOLD_ORDER_STOP = "order_stop"            # oldest overdue item at the order-stop stage of the dunning ladder
HOLD_PREPAYMENT = "prepayment"            # grade D without a bank guarantee (or a grade whose deposit is 100 %)
HOLD_GUARANTEE_SHORT = "guarantee_short"  # grade D: the bank guarantee does not cover the exposure after the order
HOLD_CASH_IN_ADVANCE = "cash_in_advance"  # grade E
HOLD_DEPOSIT = "deposit"                  # a deposit share of the order is due before it ships
HOLD_CODES = (HOLD_OVER_LIMIT, HOLD_ORDER_STOP, HOLD_PREPAYMENT, HOLD_GUARANTEE_SHORT, HOLD_CASH_IN_ADVANCE,
              HOLD_DEPOSIT)


def _days(value: Any) -> int:
    """Days past due of the order check; blank is 0 (nothing overdue)."""
    return 0 if is_blank(value) else to_days(value, "days_past_due")


def _plain(number: Decimal) -> str:
    """A number as typed: ``-5`` for -5.0, ``-2.5`` for -2.50 (so a cell, a command line and JSON read alike)."""
    text = f"{number.normalize():f}"
    return text if "." not in text else text.rstrip("0").rstrip(".")


def order_amount(value: Any) -> Decimal:
    """The amount of an order to check: a number ≥ 0 (``XlcError("amount", …)`` otherwise).

    One rule for the cell, the command line and the service, so a bad amount reads the same everywhere
    (Excel's -5.0 and the command line's -5 are both "got -5").
    """
    amount = to_decimal(value, "amount")
    assert amount is not None
    if amount < 0:
        raise XlcError("amount", f"must not be negative (got {_plain(amount)})", value)
    return amount


def _cur(amount: Decimal, currency: str) -> str:
    """``EUR 12,400`` / ``EUR 1,234.56`` — an amount as a controller writes it in a hold reason."""
    value = round_money(amount, currency)
    if value == value.to_integral_value():
        return f"{currency} {value:,.0f}"
    return f"{currency} {value:,.{minor_units(currency)}f}"


def _share(value: Any) -> Decimal:
    share = to_decimal(value if not is_blank(value) else 0, "deposit_share", allow_negative=False)
    assert share is not None
    if share > 1:
        raise XlcError("deposit_share", f"must lie between 0 and 1 (got {_plain(share)})", value)
    return share


def _stop_stage(policy: Policy) -> tuple[int, str] | None:
    """Days and name of the first dunning step that stops new orders (None: the ladder never stops them)."""
    step = next((s for s in policy.dunning if s.stop_orders), None)
    return None if step is None else (step.days, step.name)


def check_order(customer: Customer, amount: Any, limit: Any, exposure: Any, grade: Any,
                days_past_due: Any, policy: Policy, *, deposit_share: Any = ZERO) -> OrderDecision:
    """The credit block on a new order, as an ERP applies it: release, or hold with every reason in words.

    Hold when (in this order of reasons)
    (a) the exposure after the order exceeds the limit — "over the credit limit by EUR 12,400 after this
        order"; an exposure exactly at the limit is within it;
    (b) the oldest overdue item has reached the dunning step that stops new orders (policy: the first
        ladder step with ``stop_orders``, 30 days "Formal demand" by default) — "items 34 days overdue —
        orders stop at the Formal demand stage (30 days)"; ``days_past_due`` is that item's days past due
        (0 or blank when nothing is overdue);
    (c) the grade trades on prepayment: grade D unless its bank guarantee covers the exposure after the
        order; grade E always (cash in advance); any other grade whose deposit share is 100 %;
    (d) a deposit share of the order is due before it ships — "deposit 30 % = EUR 3,000 required" (not for
        an order of 0, and not for grades D and E, whose rule is (c)).
    Amounts in the reasons are in the company currency, rounded half up to the cent.
    """
    cur = policy.company.currency
    order = order_amount(amount)
    credit_limit = _money(limit, "limit")
    used = _exposure_total(exposure)
    letter = grade_letter(grade)
    days = _days(days_past_due)
    share = _share(deposit_share)
    guarantee = _amount(customer.bank_guarantee, "bank_guarantee", allow_none=True) or ZERO
    after = used + order
    held: list[tuple[str, str]] = []
    notes: list[str] = []

    if after > credit_limit:
        held.append((HOLD_OVER_LIMIT, f"over the credit limit by {_cur(after - credit_limit, cur)} after this order "
                                      f"(exposure {_cur(after, cur)}, limit {_cur(credit_limit, cur)})"))
    stop = _stop_stage(policy)
    if stop is not None and days >= stop[0]:
        held.append((HOLD_ORDER_STOP, f"items {days} day{'s' if days != 1 else ''} overdue — orders stop at the "
                                      f"{stop[1]} stage ({stop[0]} day{'s' if stop[0] != 1 else ''})"))
    if letter == "D":
        if guarantee <= 0:
            held.append((HOLD_PREPAYMENT, "prepayment required for grade D (no bank guarantee held)"))
        elif after > guarantee:
            held.append((HOLD_GUARANTEE_SHORT, f"prepayment required for grade D: the bank guarantee of "
                                               f"{_cur(guarantee, cur)} does not cover the exposure of "
                                               f"{_cur(after, cur)} after this order"))
        else:
            notes.append(f"grade D: covered by the bank guarantee of {_cur(guarantee, cur)}")
    elif letter == "E":
        held.append((HOLD_CASH_IN_ADVANCE, "cash in advance required for grade E"))
    elif share >= 1:
        held.append((HOLD_PREPAYMENT, f"prepayment required for grade {letter} (deposit 100 %)"))
    elif share > 0 and order > 0:
        held.append((HOLD_DEPOSIT, f"deposit {_pct(share)} = {_cur(share * order, cur)} required"))

    if held:
        return OrderDecision(HOLD, tuple(r for _, r in held), tuple(c for c, _ in held), tuple(notes))
    return OrderDecision(RELEASE, (), (), tuple(notes))
