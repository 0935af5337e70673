"""Credit-management KPIs: DSO (simple and countback), best possible DSO, average days delinquent,
collection effectiveness index and weighted days beyond terms.

Formulas are those of the Credit Research Foundation (CRF) and the standard credit-management texts:

* DSO (simple)            = receivables ÷ credit sales of the period × days in the period
* DSO (countback)         = walk back month by month from the most recent, taking away each month's
  credit sales from the receivables while they cover it (adding that month's days), then the
  remainder as a share of the next month's days
* Best possible DSO (BPDSO) = current (not yet due) receivables ÷ credit sales × days
* Average days delinquent (ADD) = DSO − BPDSO
* Collection effectiveness index (CEI, percent) =
  (beginning receivables + credit sales − ending total receivables)
  ÷ (beginning receivables + credit sales − ending current receivables) × 100
* Weighted days beyond terms = Σ(amount × days beyond terms) ÷ Σ amount

Decimal in, Decimal out. Day figures and percentages are rounded half up to ``places`` decimals
(2 by default) at the end — they are ratios, not money. A zero denominator raises
:class:`XlcError` naming the argument that made it zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from xlcredit.core.errors import XlcError, describe
from xlcredit.core.money import ZERO, to_decimal

HUNDRED = Decimal(100)


def _num(value: object, field: str, *, negative: bool = False) -> Decimal:
    number = to_decimal(value, field, allow_negative=negative)
    assert number is not None
    return number


def _days(value: object, field: str = "days", unit: str = "days") -> Decimal:
    number = _num(value, field)
    if number <= 0:
        raise XlcError(field, f"must be more than 0 {unit} (got {number})", value)
    return number


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _positive_sales(value: object, field: str = "credit_sales") -> Decimal:
    sales = _num(value, field)
    if sales == 0:
        raise XlcError(field, "is zero, so there are no sales to measure days against", value)
    return sales


def dso_simple(receivables: object, credit_sales: object, days: object, *, places: int = 2) -> Decimal:
    """Days sales outstanding: receivables ÷ credit sales of the period × days in the period."""
    ar = _num(receivables, "receivables")
    sales = _positive_sales(credit_sales)
    n = _days(days)
    return _round(ar * n / sales, places)


def dso_countback(receivables: object, monthly_sales: Sequence[tuple[object, object]], *,
                  places: int = 2) -> Decimal:
    """Countback DSO: how many days of the latest sales the receivables represent.

    ``monthly_sales`` are ``(days_in_period, credit_sales)``, **most recent first**. Unlike simple
    DSO it is not distorted by a seasonal swing in sales. Receivables larger than all the periods'
    sales cannot be counted back: add earlier periods.
    """
    remaining = _num(receivables, "receivables")
    periods = list(monthly_sales)
    if not periods:
        raise XlcError("monthly_sales", "is empty: give (days, credit sales) per month, most recent first", periods)
    total_days = ZERO
    total_sales = ZERO
    for i, item in enumerate(periods):
        try:
            raw_days, raw_sales = item
        except (TypeError, ValueError):
            raise XlcError(f"monthly_sales[{i}]", f"must be (days, credit_sales) (got {describe(item)})",
                           item) from None
        n = _days(raw_days, f"monthly_sales[{i}].days")
        sales = _num(raw_sales, f"monthly_sales[{i}].credit_sales")
        total_sales += sales
        if remaining <= 0:
            break
        if remaining >= sales:
            total_days += n
            remaining -= sales
        else:
            total_days += remaining * n / sales
            remaining = ZERO
            break
    if remaining > 0:
        raise XlcError("monthly_sales", f"receivables exceed the credit sales of all {len(periods)} periods "
                       f"given ({total_sales}); add earlier periods", periods)
    return _round(total_days, places)


def best_possible_dso(current_receivables: object, credit_sales: object, days: object, *,
                      places: int = 2) -> Decimal:
    """Best possible DSO: the DSO if every customer paid exactly on terms (current receivables only)."""
    current = _num(current_receivables, "current_receivables")
    sales = _positive_sales(credit_sales)
    n = _days(days)
    return _round(current * n / sales, places)


def average_days_delinquent(dso: object, best_dso: object) -> Decimal:
    """Average days delinquent: DSO − best possible DSO, the days lost to late payment."""
    total = _num(dso, "dso")
    best = _num(best_dso, "best_dso")
    if best > total:
        raise XlcError("best_dso", f"must not exceed dso ({total}); got {best}", best_dso)
    return total - best


def collection_effectiveness_index(beginning_receivables: object, credit_sales: object,
                                   ending_total_receivables: object, ending_current_receivables: object, *,
                                   months: int = 1, places: int = 2) -> Decimal:
    """Collection effectiveness index (CRF), percent: what was collected of what could be collected.

    100 % means every receivable that fell due was collected. For a period of several months,
    pass the period's credit sales and ``months``: the CRF formula uses the average monthly sales
    (credit sales ÷ months) with the receivables at the start and end of the period.
    """
    begin = _num(beginning_receivables, "beginning_receivables")
    sales = _num(credit_sales, "credit_sales")
    ending_total = _num(ending_total_receivables, "ending_total_receivables")
    ending_current = _num(ending_current_receivables, "ending_current_receivables")
    n_months = _days(months, "months", "months")
    if ending_current > ending_total:
        raise XlcError("ending_current_receivables",
                       f"must not exceed ending_total_receivables ({ending_total}); got {ending_current}",
                       ending_current_receivables)
    available = begin + sales / n_months
    collectible = available - ending_current
    if collectible <= 0:
        raise XlcError("ending_current_receivables",
                       f"leaves nothing collectible: beginning_receivables + credit_sales − ending current "
                       f"receivables is {collectible}", ending_current_receivables)
    return _round((available - ending_total) * HUNDRED / collectible, places)


def weighted_days_beyond_terms(items: Iterable[tuple[object, object]], *, places: int = 2) -> Decimal:
    """Amount-weighted average days beyond terms: Σ(amount × days late) ÷ Σ amount.

    ``items`` are ``(amount, days_late)``; days on or before the due date (0 or negative) count as 0
    days beyond terms. Amounts must not be negative.
    """
    weighted = ZERO
    total = ZERO
    for i, item in enumerate(items):
        try:
            raw_amount, raw_days = item
        except (TypeError, ValueError):
            raise XlcError(f"items[{i}]", f"must be (amount, days_late) (got {describe(item)})", item) from None
        amount = _num(raw_amount, f"items[{i}].amount")
        days = _num(raw_days, f"items[{i}].days_late", negative=True)
        weighted += amount * max(days, ZERO)
        total += amount
    if total == 0:
        raise XlcError("items", "have no amount to weight the days by", None)
    return _round(weighted / total, places)
