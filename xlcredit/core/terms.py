"""Payment terms by grade, deposits, and early-payment (cash) discounts such as "2/10 net 30".

Terms by grade come from policy section ``terms`` (A "Net 90" prime, B "Net 60" standard, C
"Net 30" high risk, D "Prepay", E "Cash in advance"); the deposit share from section ``deposit``
(grade C new customer → ``deposit.C_new`` 30 %; D and E → 100 %, i.e. prepayment).

Reading terms text (:func:`net_days_of`):
* ``"Net 60"``, ``"NET60"``, ``"net-60"``, ``"n/60"``, ``"60 days"``, ``"60"`` → 60;
* discount terms ``"2/10 net 30"``, ``"2/10 n/30"``, ``"2% 10 net 30"`` → their net period, 30;
* ``"Due on receipt"``, ``"COD"``, ``"Cash on delivery"`` → 0 (due on the invoice date);
* ``"Prepay"``, ``"Prepayment"``, ``"Cash in advance"``, ``"CIA"``, ``"CWO"`` → **None**: paid
  before delivery, so there is no credit period at all (0 would wrongly mean "due on the invoice
  date");
* anything else (including end-of-month terms such as ``"Net 30 EOM"``) → ``XlcError("terms", …)``.

Early-payment discount: "2/10 net 30" means 2 % off if paid within 10 days of the invoice date,
otherwise the full amount within 30 days. The window is inclusive: a payment on day 10 still
earns the discount (day 0 = the invoice date).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xlcredit.core.coerce import need_date
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.limits import grade_letter, is_new_customer
from xlcredit.core.money import ZERO, round_money, to_decimal
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer

_PREPAY = frozenset({"prepay", "prepaid", "prepayment", "pre-payment", "cash in advance", "cia", "cash with order",
                     "cwo", "payment in advance", "advance payment", "pia"})
_ON_RECEIPT = frozenset({"due on receipt", "on receipt", "cod", "c.o.d.", "cash on delivery", "immediate",
                         "immediately"})
_DISCOUNT = re.compile(r"(?P<rate>\d+(?:\.\d+)?)\s*(?:%\s*/?|/)\s*(?P<days>\d+)\s*(?:days?)?\s*,?\s*"
                       r"(?:net|n)\s*[/-]?\s*(?P<net>\d+)\s*(?:days?)?")
_NET = re.compile(r"(?:net|n)\s*[/-]?\s*(?P<net>\d+)(?:\s*days?)?|(?P<days>\d+)\s*(?:days?|d)?(?:\s*net)?")
_HINT = "write e.g. 'Net 60', '60 days', '2/10 net 30' or 'Prepay'"


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class CreditTerms:
    """The terms a customer trades on.

    ``net_days``: days from invoice to due date (None = paid before delivery: prepayment / cash
    in advance). ``deposit_share``: share of each order paid up front (1 = all of it).
    ``prepayment``: the customer pays before delivery. ``guarantee_accepted``: a bank guarantee is
    accepted instead of prepayment (grade D), giving open credit up to the guarantee.
    """

    grade: str
    label: str
    net_days: int | None
    deposit_share: Decimal
    prepayment: bool
    guarantee_accepted: bool
    note: str


@dataclass(frozen=True)
class DiscountTerms:
    """Early-payment terms: ``rate`` off (0.02 = 2 %) if paid within ``discount_days``, else net ``net_days``."""

    rate: Decimal
    discount_days: int
    net_days: int

    def __post_init__(self) -> None:
        _check_discount(self.rate, self.discount_days, self.net_days, self.label)

    @property
    def label(self) -> str:
        """The terms written the usual way, e.g. ``"2/10 net 30"``."""
        pct = f"{(Decimal(self.rate) * 100).normalize():f}" if isinstance(self.rate, Decimal) else str(self.rate)
        return f"{pct}/{self.discount_days} net {self.net_days}"


def _check_discount(rate: Any, discount_days: Any, net_days: Any, text: str) -> None:
    if not isinstance(rate, Decimal) or not rate.is_finite():
        raise XlcError("terms", f"the discount rate must be a Decimal fraction (got {describe(rate)} in {text!r})",
                       text)
    for name, days in (("discount", discount_days), ("net", net_days)):
        if not isinstance(days, int) or isinstance(days, bool) or days < 0:
            raise XlcError("terms", f"the {name} period must be a whole number of days (got {describe(days)} in "
                           f"{text!r})", text)
    if not 0 < rate < 1:
        raise XlcError("terms", f"the discount must lie between 0 and 100 % (got {(rate * 100).normalize():f} % in "
                       f"{text!r})", text)
    if discount_days > net_days:
        raise XlcError("terms", f"the discount period ({discount_days} days) is longer than the net period "
                       f"({net_days} days) in {text!r}", text)


# --------------------------------------------------------------------------- reading terms text
def _clean(text: str) -> str:
    return " ".join(text.strip().lower().split())


def parse_discount_terms(text: Any) -> DiscountTerms:
    """Read early-payment terms like "2/10 net 30", "2/10 n/30" or "2% 10 net 30" (rate, discount days, net days)."""
    if isinstance(text, DiscountTerms):
        return text
    if not isinstance(text, str) or not text.strip():
        if text is None or (isinstance(text, str) and not text.strip()):
            raise XlcError("terms", "is empty", text)
        raise XlcError("terms", f"cannot read early-payment terms {describe(text)}: write e.g. '2/10 net 30'", text)
    m = _DISCOUNT.fullmatch(_clean(text))
    if m is None:
        raise XlcError("terms", f"cannot read early-payment terms {describe(text)}: write e.g. '2/10 net 30'", text)
    rate = Decimal(m["rate"]) / 100
    discount_days, net_days = int(m["days"]), int(m["net"])
    _check_discount(rate, discount_days, net_days, text.strip())
    return DiscountTerms(rate, discount_days, net_days)


def net_days_of(terms_text: Any) -> int | None:
    """Days from invoice date to due date for terms text ("Net 60" → 60; "Prepay" → None; see module doc)."""
    if isinstance(terms_text, DiscountTerms):
        return terms_text.net_days
    if terms_text is None or (isinstance(terms_text, str) and not terms_text.strip()):
        raise XlcError("terms", "is empty", terms_text)
    if isinstance(terms_text, (int, float, Decimal)) and not isinstance(terms_text, bool):
        number = to_decimal(terms_text, "terms", allow_negative=False)
        assert number is not None
        if number != number.to_integral_value():
            raise XlcError("terms", f"must be a whole number of days (got {describe(terms_text)})", terms_text)
        return int(number)
    if not isinstance(terms_text, str):
        raise XlcError("terms", f"cannot read payment terms {describe(terms_text)}: {_HINT}", terms_text)
    text = _clean(terms_text)
    if text in _PREPAY:
        return None
    if text in _ON_RECEIPT:
        return 0
    if _DISCOUNT.fullmatch(text):
        return parse_discount_terms(terms_text).net_days
    m = _NET.fullmatch(text)
    if m is None:
        raise XlcError("terms", f"cannot read payment terms {describe(terms_text)}: {_HINT}", terms_text)
    return int(m["net"] or m["days"])


# --------------------------------------------------------------------------- terms by grade
def terms_for(customer: Customer, grade: Any, policy: Policy, as_of: Any) -> CreditTerms:
    """Payment terms, deposit and prepayment for a customer of ``grade`` under the policy.

    Deposit: ``deposit.<grade>``, except a new grade C customer (trading less than
    ``limits.new_customer_months``) pays ``deposit.C_new``. Prepayment when the grade's terms mean
    payment before delivery (net_days None) or the deposit is the whole amount. Grade D accepts a
    bank guarantee instead of prepayment (open credit up to the guarantee — see the credit limit);
    grade E is cash in advance, guarantee or not.
    """
    letter = grade_letter(grade)
    day = need_date(as_of, "as_of")
    label = getattr(policy.terms, letter)
    try:
        net = net_days_of(label)
    except XlcError as exc:
        raise XlcError(f"terms.{letter}", exc.problem, label) from None
    new = is_new_customer(customer, policy, day)
    dep = policy.deposit
    deposit = {"A": dep.A, "B": dep.B, "C": dep.C_new if new else dep.C, "D": dep.D, "E": dep.E}[letter]
    prepayment = net is None or deposit >= 1
    guarantee_accepted = letter == "D"
    cur = policy.company.currency
    guarantee = customer.bank_guarantee or ZERO

    if letter == "D":
        held = (f"guarantee held: {guarantee:,.2f} {cur}, open credit up to it" if guarantee > 0
                else "no guarantee held")
        note = f"grade D: prepayment, or a bank guarantee instead ({held})"
    elif letter == "E":
        note = "grade E: cash in advance before delivery; no open credit"
    elif letter == "C" and new and deposit > 0:
        months = customer.months_of_relationship(day)
        since = "not trading yet" if customer.relationship_start is None else f"trading {months} months"
        note = (f"grade C new customer ({since}; new for {policy.limits.new_customer_months}): "
                f"{(deposit * 100).normalize():f} % deposit with each order")
    elif deposit > 0:
        note = f"grade {letter}: {(deposit * 100).normalize():f} % deposit with each order"
    else:
        note = ""
    if prepayment and letter not in ("D", "E"):
        note = (note + "; " if note else "") + f"grade {letter} terms {label!r} mean payment before delivery"
    return CreditTerms(letter, label, net, deposit, prepayment, guarantee_accepted, note)


# --------------------------------------------------------------------------- early-payment discount
def early_pay_discount(amount: Any, invoice_date: Any, pay_date: Any, terms: Any, currency: str = "EUR") -> Decimal:
    """Discount earned on an invoice paid on ``pay_date`` under ``terms`` ("2/10 net 30").

    Earned when paid within ``discount_days`` of the invoice date, inclusive (day 10 of "2/10"
    still counts); amount × rate rounded half up to the currency's minor unit. Plain net terms
    such as "Net 30" offer no discount, so they earn 0.
    """
    value = to_decimal(amount, "amount", allow_negative=False)
    assert value is not None
    invoiced = need_date(invoice_date, "invoice_date")
    paid = need_date(pay_date, "pay_date")
    if not isinstance(currency, str) or len(currency.strip()) != 3 or not currency.strip().isalpha():
        raise XlcError("currency", f"must be a 3-letter ISO code like EUR (got {describe(currency)})", currency)
    cur = currency.strip().upper()
    if paid < invoiced:
        raise XlcError("pay_date", f"is before the invoice date ({paid.isoformat()} < {invoiced.isoformat()})",
                       pay_date)
    if isinstance(terms, str) and not _DISCOUNT.fullmatch(_clean(terms)):
        net_days_of(terms)  # plain net terms are fine (no discount offered); unreadable text raises
        return round_money(ZERO, cur)
    discount = parse_discount_terms(terms)
    if (paid - invoiced).days <= discount.discount_days:
        return round_money(value * discount.rate, cur)
    return round_money(ZERO, cur)


def discount_deadline(invoice_date: Any, terms: Any) -> dt.date:
    """Last day on which the early-payment discount is still earned (invoice date + discount days)."""
    return need_date(invoice_date, "invoice_date") + dt.timedelta(days=parse_discount_terms(terms).discount_days)


def cost_of_forgoing(terms: Any, basis: int = 365, *, compound: bool = False) -> float:
    """Annual cost of NOT taking the discount (paying on the net day instead of the discount day).

    Nominal (default): rate / (1 − rate) × basis / (net_days − discount_days) — "2/10 net 30" →
    2/98 × 365/20 = 37.24 % (36.73 % on a 360-day basis). ``compound=True`` gives the effective
    annual rate (1 + rate / (1 − rate)) ** (basis / (net − discount)) − 1 = 44.6 %. Infinite when
    the net and discount periods are equal (no extra days are bought by forgoing the discount).
    """
    t = parse_discount_terms(terms)
    if isinstance(basis, bool) or basis not in (360, 365, 366):
        raise XlcError("basis", f"must be 365, 360 or 366 (got {describe(basis)})", basis)
    extra_days = t.net_days - t.discount_days
    if extra_days == 0:
        return math.inf
    period_rate = float(t.rate / (1 - t.rate))
    periods = basis / extra_days
    if compound:
        return (1 + period_rate) ** periods - 1
    return period_rate * periods
