"""Cash-collection forecast: when each open invoice is expected to be paid, and the cash per week.

**Expected payment date** of an open invoice = its due date + the customer's own habit: the average
days beyond terms with which it paid over the last ``forecast.history_months`` (12) months
(amount-weighted, as :func:`xlcredit.core.history.payment_history` measures it), rounded to whole days.
A customer with no payment history is expected to pay on the due date (or after ``default_delay``
days when the caller gives one, e.g. the portfolio's average).

What goes where:

* expected date after ``as_of`` → the week it falls in: week 1 is the 7 days after ``as_of``
  (as_of + 1 … as_of + 7), week 2 the next 7, … up to ``forecast.weeks`` (13, the usual 13-week cash
  forecast); beyond the last week → **later**;
* expected date already passed (the customer is late even against its own habit): by at most
  ``forecast.doubtful_days`` (90) → expected in **week 1** (chased now); by more → **doubtful**,
  not forecast (a collections and provisioning matter, not a cash-planning one);
* disputed invoices → **disputed**, not forecast until the dispute is settled.

The weekly totals, later, doubtful and disputed add up to the open amount of the items given, to the
cent. Amounts are ``Decimal`` in one currency — the company currency (convert foreign items first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from xlcredit.core.coerce import need_date
from xlcredit.core.errors import XlcError
from xlcredit.core.items import CustomerOpenItemFields
from xlcredit.core.money import ZERO, to_decimal
from xlcredit.core.policy import Policy

__all__ = [
    "DISPUTED",
    "DOUBTFUL",
    "LATER",
    "WEEK",
    "CashForecast",
    "ExpectedPayment",
    "ForecastWeek",
    "cash_forecast",
    "delay_days",
    "expected_payment",
]

WEEK, LATER, DOUBTFUL, DISPUTED = "week", "later", "doubtful", "disputed"


@dataclass(frozen=True)
class ExpectedPayment:
    """One open invoice in the forecast: when it is expected, and in which week (or why not at all)."""

    customer_id: str
    invoice_no: str
    due_date: dt.date
    open_amount: Decimal
    delay: int
    expected_date: dt.date | None
    category: str          # week | later | doubtful | disputed
    week: int | None       # 1-based week number for category "week"
    note: str = ""


@dataclass(frozen=True)
class ForecastWeek:
    """One week of the forecast: first and last day, expected collections and how many invoices."""

    week: int
    start: dt.date
    end: dt.date
    amount: Decimal
    items: int


@dataclass(frozen=True)
class CashForecast:
    """The weekly collection forecast at ``as_of`` and where every open amount went."""

    as_of: dt.date
    currency: str
    weeks: tuple[ForecastWeek, ...]
    later: Decimal
    doubtful: Decimal
    disputed: Decimal
    items: tuple[ExpectedPayment, ...]
    counts: Mapping[str, int] = field(default_factory=dict)   # invoices that went to later/doubtful/disputed

    @property
    def forecast_total(self) -> Decimal:
        """Expected within the forecast's weeks."""
        return sum((w.amount for w in self.weeks), ZERO)

    @property
    def open_total(self) -> Decimal:
        """Every open amount given: weeks + later + doubtful + disputed."""
        return self.forecast_total + self.later + self.doubtful + self.disputed

    def rows(self) -> list[dict[str, Any]]:
        """One row per week plus later/doubtful/disputed: for a sheet or a chart."""
        out: list[dict[str, Any]] = [{"week": w.week, "start": w.start, "end": w.end, "amount": w.amount,
                                      "items": w.items} for w in self.weeks]
        for label, amount in (("later", self.later), ("doubtful", self.doubtful), ("disputed", self.disputed)):
            out.append({"week": label, "start": None, "end": None, "amount": amount,
                        "items": self.counts.get(label, sum(1 for i in self.items if i.category == label))})
        return out


def delay_days(avg_days_late: Any, default: Any = 0) -> int:
    """A customer's habit in whole days (half up) from its average days beyond terms; ``default`` when None."""
    value = avg_days_late if avg_days_late is not None else default
    if value is None:
        return 0
    number = to_decimal(value, "avg_days_late")
    assert number is not None
    return int(number.quantize(Decimal(1), ROUND_HALF_UP))


def expected_payment(due_date: Any, delay: int, as_of: Any, weeks: int, doubtful_days: int,
                     disputed: bool = False) -> tuple[dt.date | None, str, int | None, str]:
    """Expected date, category, week and a note for one open item (see the module docstring)."""
    day = need_date(as_of, "as_of")
    due = need_date(due_date, "due_date")
    if disputed:
        return None, DISPUTED, None, "disputed: not forecast until settled"
    expected = due + dt.timedelta(days=delay)
    if expected > day:
        week = (expected - day).days
        week = (week + 6) // 7
        if week > weeks:
            return expected, LATER, None, ""
        return expected, WEEK, week, ""
    behind = (day - expected).days
    if behind > doubtful_days:
        return expected, DOUBTFUL, None, f"{behind} days past its expected date: not forecast"
    return expected, WEEK, 1, f"late against the customer's habit ({behind} days): expected in week 1"


def cash_forecast(items: Iterable[CustomerOpenItemFields], delays: Mapping[str, Any], as_of: Any, policy: Policy, *,
                  default_delay: Any = None, currency: str | None = None) -> CashForecast:
    """Weekly collection forecast of the open items at ``as_of`` (module docstring).

    ``delays``: ``{customer_id: average days beyond terms}`` (None or absent = no history → ``default_delay``,
    else the due date). Items with nothing open are skipped.
    """
    day = need_date(as_of, "as_of")
    n_weeks = policy.forecast.weeks
    doubtful_days = policy.forecast.doubtful_days
    sums = [ZERO] * n_weeks
    counts = [0] * n_weeks
    later = doubtful = disputed = ZERO
    out: list[ExpectedPayment] = []
    cache: dict[str, int] = {}
    for i, item in enumerate(items):
        label = str(getattr(item, "invoice_no", "") or f"item {i + 1}")
        amount = to_decimal(getattr(item, "open_amount", None), f"open_amount ({label})", allow_negative=False)
        assert amount is not None
        if amount == 0:
            continue
        cid = str(getattr(item, "customer_id", ""))
        if cid not in cache:
            try:
                cache[cid] = delay_days(delays.get(cid), default_delay)
            except XlcError as exc:
                raise XlcError(f"delays[{cid}]", exc.problem, exc.value) from None
        delay = cache[cid]
        try:
            due = need_date(getattr(item, "due_date", None), "due_date")
        except XlcError as exc:
            raise XlcError(f"due_date ({label})", exc.problem, exc.value) from None
        expected, category, week, note = expected_payment(due, delay, day, n_weeks, doubtful_days,
                                                          bool(getattr(item, "disputed", False)))
        if category == WEEK:
            assert week is not None
            sums[week - 1] += amount
            counts[week - 1] += 1
        elif category == LATER:
            later += amount
        elif category == DOUBTFUL:
            doubtful += amount
        else:
            disputed += amount
        out.append(ExpectedPayment(cid, label, due, amount, delay, expected, category, week, note))
    weeks = tuple(ForecastWeek(k + 1, day + dt.timedelta(days=7 * k + 1), day + dt.timedelta(days=7 * k + 7),
                               sums[k], counts[k]) for k in range(n_weeks))
    counts = {label: sum(1 for p in out if p.category == label) for label in (LATER, DOUBTFUL, DISPUTED)}
    return CashForecast(day, currency or policy.company.currency, weeks, later, doubtful, disputed, tuple(out),
                        counts)
