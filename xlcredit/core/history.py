"""Payment history from the ledger: how late a customer has paid over a look-back window.

Computed from the settled slices of :func:`openitems.allocate` at ``as_of`` (each slice is dated
max(credit date, invoice date); credit notes settle slices too, exactly as they reduce the open
balance). The window is the ``months`` calendar months up to ``as_of``: slices settled after
``as_of − months`` (same day of the month, clamped to the month's end) and on or before ``as_of``.

* **days late** of a slice = days beyond terms = settlement date − due date, counted as 0 when
  paid on or before the due date (early payment does not offset late payment) and also 0 when
  it is within ``tolerance_days`` (a grace period: a slice more than ``tolerance_days`` late
  counts with all its days).
* ``avg_days_late``: amount-weighted average days late over the slices settled in the window
  (Σ amount × days / Σ amount; "days beyond terms" weighted by money, as D&B-style payment
  experiences are), rounded half up to 0.1 day; None when nothing was settled in the window.
  A customer paying in several currencies is weighted in document-currency amounts unless
  ``fx`` is given (then each slice is weighted in the company currency at the as-of rate).
* ``items_over_90``: fully settled invoices whose last slice was settled in the window more than
  90 days late.
* ``max_days_late``: the most days late of any slice settled in the window.
* ``overdue_now``: an undisputed invoice is open and past its due date (by more than
  ``tolerance_days``) at ``as_of``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from xlcredit.core.coerce import need_date
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.ledger import FxRates, Ledger
from xlcredit.core.money import ZERO
from xlcredit.core.openitems import Position, allocate
from xlcredit.core.records import PaymentHistory

__all__ = ["OVER_90_DAYS", "months_before", "payment_histories", "payment_history"]

OVER_90_DAYS = 90


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (clamped to the end of a shorter month)."""
    total = day.year * 12 + (day.month - 1) - months
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _check(months: Any, tolerance_days: Any) -> tuple[int, int]:
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise XlcError("months", f"must be a whole number of months, 1 or more (got {describe(months)})", months)
    if isinstance(tolerance_days, bool) or not isinstance(tolerance_days, int) or tolerance_days < 0:
        raise XlcError("tolerance_days", f"must be a whole number of days, 0 or more (got {describe(tolerance_days)})",
                       tolerance_days)
    return months, tolerance_days


def payment_history(ledger: Ledger, customer_id: str, as_of: Any, months: int = 24, tolerance_days: int = 0,
                    *, fx: FxRates | None = None) -> PaymentHistory:
    """One customer's payment history at ``as_of`` (module docstring); empty history for no documents."""
    day = need_date(as_of, "as_of")
    months, tolerance_days = _check(months, tolerance_days)
    cid = str(customer_id).strip()
    positions = allocate(ledger.for_customer(cid), day)
    return _history(positions.values(), day, months_before(day, months), tolerance_days, fx)


def payment_histories(ledger: Ledger, as_of: Any, months: int = 24, tolerance_days: int = 0,
                      *, fx: FxRates | None = None,
                      positions: dict[tuple[str, str], Position] | None = None) -> dict[str, PaymentHistory]:
    """Payment history of every customer in the ledger, from one allocation (``positions`` if given).

    ``positions`` must be ``allocate(ledger, as_of)`` when given (lets the caller share one pass).
    """
    day = need_date(as_of, "as_of")
    months, tolerance_days = _check(months, tolerance_days)
    if positions is None:
        positions = allocate(ledger, day)
    per_customer: dict[str, list[Position]] = {cid: [] for cid in ledger.customer_ids()}
    for (cid, _ccy), pos in positions.items():
        per_customer.setdefault(cid, []).append(pos)
    start = months_before(day, months)
    return {cid: _history(pos, day, start, tolerance_days, fx) for cid, pos in sorted(per_customer.items())}


def _history(positions: Iterable[Position], day: dt.date, start: dt.date, tolerance: int,
             fx: FxRates | None) -> PaymentHistory:
    weighted = weight = ZERO
    max_late: int | None = None
    over_90 = 0
    overdue_now = False
    for pos in positions:
        rate = fx.rate(pos.currency, day) if fx is not None else Decimal(1)
        for item in pos.items:
            due = item.invoice.due_date
            if item.open_amount > 0 and not item.invoice.disputed and (day - due).days > tolerance:
                overdue_now = True
            last: dt.date | None = None
            for s in item.settlements:
                if not (start < s.date <= day):
                    continue
                late = _days_late(s.date, due, tolerance)
                weighted += s.amount * rate * late
                weight += s.amount * rate
                max_late = late if max_late is None else max(max_late, late)
                last = s.date if last is None else max(last, s.date)
            if item.open_amount == 0 and last is not None and last == item.last_settled \
                    and _days_late(last, due, tolerance) > OVER_90_DAYS:
                over_90 += 1
    if max_late is None:
        return PaymentHistory(overdue_now=overdue_now)
    avg = (weighted / weight) if weight > 0 else Decimal(max_late)
    return PaymentHistory(avg_days_late=float(avg.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)),
                          items_over_90=over_90, max_days_late=max_late, overdue_now=overdue_now)


def _days_late(settled: dt.date, due: dt.date, tolerance: int) -> int:
    days = (settled - due).days
    return days if days > tolerance else 0
