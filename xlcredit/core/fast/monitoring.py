"""Fast path: settlement dates, payment habits, trends, order volumes, roll-rate balances and the cash
forecast over a million invoices (numpy, int64 minor units).

**Mirrors** (the specification): :func:`xlcredit.core.openitems.allocate` (settled slices),
:func:`xlcredit.core.history.payment_histories`, :func:`xlcredit.core.monitoring.payment_trend`,
:func:`xlcredit.core.provisioning.roll_rate_loss_rates` (its balances) and
:func:`xlcredit.core.forecast.cash_forecast`. **Rounding**: amounts stay exact int64 minor units; a
conversion to the company currency is rounded once per amount, half up (see :func:`to_company_minor`).
``tests/test_fast_monitoring.py`` and ``tests/test_fast_matches_reference.py`` check the agreement.

Built on the prepared ledger of :mod:`xlcredit.core.fast.ageing` (invoices sorted once into allocation order).
Everything follows the one allocation rule of :mod:`xlcredit.core.openitems`:

* :func:`settle_bulk` — every settled **slice** (invoice, amount, date) at ``as_of``. Step 1: a credit
  naming an invoice settles it first, credits taken by date; what is left of it joins the pool.
  Step 2: the pool, ordered by date, settles the invoices first-in first-out: the k-th unit of credit
  pays the k-th unit of invoice, so the slices are the pieces between the breakpoints of the two
  running totals (one sort of the breakpoints, no loop). A slice is dated max(credit date, invoice
  date). Credits of the same date are interchangeable here: whichever of them pays a unit, its date
  is the same, so the slices' dates and amounts per invoice do not depend on the tie order.
* :func:`histories_bulk` — :class:`PaymentHistory` of every customer, exactly as
  :func:`xlcredit.core.history.payment_histories` defines it (amount-weighted days beyond terms of the
  slices settled in the window, items paid more than 90 days late, the worst slice, overdue now).
* :func:`recent_days_late` — days beyond terms of each customer's last invoices (the payment-trend
  input of :func:`xlcredit.core.monitoring.payment_trend`), :func:`trend_flags` screens them all at
  once with exact integer arithmetic.
* :func:`period_totals` — invoiced amounts per customer in date ranges (the order-swing input).
* :func:`fine_bucket_balances` — open balances in roll-rate buckets at a series of dates (the
  roll-rate input of :func:`xlcredit.core.provisioning.roll_rate_loss_rates`).
* :func:`forecast_bulk` — the weekly collection forecast of :func:`xlcredit.core.forecast.cash_forecast`.

Conversion to the company currency (:func:`to_company_minor`) is per amount, exact: rate × 10^(company
decimals − document decimals) as a fraction, half up — the same as ``round_money(amount × rate)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from xlcredit.core.errors import XlcError
from xlcredit.core.fast.ageing import PreparedLedger, age_bulk, day_number, interest_minor
from xlcredit.core.money import minor_units
from xlcredit.core.records import PaymentHistory

__all__ = [
    "BulkForecast",
    "BulkSettlement",
    "fine_bucket_balances",
    "forecast_bulk",
    "histories_bulk",
    "period_totals",
    "recent_days_late",
    "settle_bulk",
    "to_company_minor",
    "to_company_minor_parts",
    "trend_flags",
]

NONE_DAY = np.iinfo(np.int32).min
OVER_90_DAYS = 90


# ---------------------------------------------------------------------------- settlement slices
@dataclass(frozen=True, eq=False)
class BulkSettlement:
    """Settled slices and open amounts at ``as_of`` (day number), by sorted invoice position.

    ``amount``: the invoice amount counted at as_of (0 for invoices dated after it); ``open``: what is
    still owed; ``last_settled``: date of the latest slice (``NONE_DAY`` when nothing was settled);
    ``slice_pos``/``slice_amount``/``slice_date``: every slice (referenced ones first, then the pool's).
    """

    as_of: int
    amount: np.ndarray
    open: np.ndarray
    last_settled: np.ndarray
    slice_pos: np.ndarray
    slice_amount: np.ndarray
    slice_date: np.ndarray


def _run_starts(keys: np.ndarray) -> np.ndarray:
    """Index of the first element of each element's run of equal keys (keys sorted)."""
    n = keys.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    new = np.ones(n, bool)
    new[1:] = keys[1:] != keys[:-1]
    first = np.flatnonzero(new)
    return first[np.cumsum(new) - 1]


def _merge_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """0 and the distinct values of two non-decreasing int64 arrays, in order (a linear merge, no hashing)."""
    merged = np.empty(a.shape[0] + b.shape[0] + 1, np.int64)
    merged[0] = 0
    at_b = np.searchsorted(a, b, side="right") + np.arange(b.shape[0]) + 1
    mask = np.ones(merged.shape[0], bool)
    mask[0] = False
    mask[at_b] = False
    merged[at_b] = b
    merged[mask] = a
    keep = np.ones(merged.shape[0], bool)
    keep[1:] = merged[1:] != merged[:-1]
    return merged[keep]


def settle_bulk(p: PreparedLedger, as_of: Any) -> BulkSettlement:
    """Every settled slice and every open amount at ``as_of`` (module docstring)."""
    a = day_number(as_of)
    n = p.n_invoices
    inv_in = p.inv_date <= a
    amount = np.where(inv_in, p.inv_amount, 0)

    # step 1: referenced credits, by (invoice, date), up to what is still open on the invoice
    live = np.flatnonzero((p.ref_date <= a) & (p.ref_invoice_date <= a))
    o = live[np.lexsort((p.ref_row[live], p.ref_date[live], p.ref_slot[live]))]
    slot = p.ref_slot[o].astype(np.int64)
    r_amt = p.ref_amount[o]
    r_pos = p.ref_pos[slot]
    cum = np.cumsum(r_amt)
    first = _run_starts(slot)
    before = cum - r_amt - (cum[first] - r_amt[first]) if o.size else np.zeros(0, np.int64)
    applied = np.clip(amount[r_pos] - before, 0, r_amt)
    remaining = amount.copy()
    np.subtract.at(remaining, r_pos, applied)
    ref_keep = applied > 0
    ref_slice_pos = r_pos[ref_keep]
    ref_slice_amount = applied[ref_keep]
    ref_slice_date = np.maximum(p.ref_date[o][ref_keep], p.inv_date[ref_slice_pos])

    # step 2: the pool (credits dated ≤ as_of; referencing ones with what step 1 left of them)
    pool_amt = np.where(p.cr_date <= a, p.cr_amount, 0)
    pool_amt[p.ref_row[o]] = r_amt - applied
    sel = np.flatnonzero(pool_amt > 0)
    co = sel[np.lexsort((p.cr_date[sel], p.cr_group[sel]))]
    c_grp = p.cr_group[co].astype(np.int64)
    c_amt = pool_amt[co]
    c_date = p.cr_date[co]

    csum = np.zeros(n + 1, np.int64)
    np.cumsum(remaining, out=csum[1:])
    ge = csum[1:]                                      # global running end of each invoice
    group_start = csum[p.offsets[:-1]]
    group_total = csum[p.offsets[1:]] - group_start
    ccum = np.cumsum(c_amt)
    cfirst = _run_starts(c_grp)
    within = ccum - (ccum[cfirst] - c_amt[cfirst]) if co.size else np.zeros(0, np.int64)
    pool_total = np.zeros(p.n_groups, np.int64)
    np.add.at(pool_total, c_grp, c_amt)
    settled_end = group_start + np.minimum(pool_total, group_total)
    gc = group_start[c_grp] + np.minimum(within, group_total[c_grp])   # global running end of each credit

    points = _merge_sorted(ge, gc)
    seg_start = points[:-1]
    seg_len = np.diff(points)
    inv = np.searchsorted(ge, seg_start, side="right")
    ok = inv < n
    inv_safe = np.minimum(inv, max(n - 1, 0))
    if n:
        ok &= seg_start < settled_end[p.inv_group[inv_safe]]
    seg_start, seg_len, inv = seg_start[ok], seg_len[ok], inv[ok]
    cr = np.searchsorted(gc, seg_start, side="right")
    pool_slice_date = np.maximum(c_date[cr], p.inv_date[inv])

    slice_pos = np.concatenate([ref_slice_pos, inv]).astype(np.int64)
    slice_amount = np.concatenate([ref_slice_amount, seg_len]).astype(np.int64)
    slice_date = np.concatenate([ref_slice_date, pool_slice_date]).astype(np.int32)
    last = np.full(n, NONE_DAY, np.int32)
    np.maximum.at(last, slice_pos, slice_date)
    open_amt = np.clip(ge - np.repeat(group_start + pool_total, np.diff(p.offsets)), 0, remaining)
    return BulkSettlement(a, amount, open_amt, last, slice_pos, slice_amount, slice_date)


# ---------------------------------------------------------------------------- company currency
def to_company_minor(amount_minor: Any, currency_codes: Any, rates: Sequence[Any], currencies: Sequence[str],
                     company_currency: str) -> np.ndarray:
    """Amounts in their documents' currencies (int64 minor units) → company-currency minor units.

    ``rates[k]``: company-currency units per 1 unit of ``currencies[k]`` (Decimal, exact); each amount
    is converted on its own and rounded half up, as ``FxRates.convert`` does.
    """
    amounts = np.asarray(amount_minor, dtype=np.int64)
    codes = np.asarray(currency_codes)
    out = np.zeros(amounts.shape, np.int64)
    ec = minor_units(company_currency)
    for k, (ccy, rate) in enumerate(zip(currencies, rates, strict=True)):
        mask = codes == k
        if not mask.any():
            continue
        if rate is None:
            raise XlcError("fx_rates", f"no {company_currency} rate for {ccy}", ccy)
        factor = Fraction(Decimal(rate)) * Fraction(10) ** (ec - minor_units(ccy))
        sub = amounts[mask]
        neg = sub < 0
        conv = interest_minor(np.abs(sub), np.ones(sub.shape[0], np.int64), factor, 1)
        out[mask] = np.where(neg, -conv, conv)
    return out


# ---------------------------------------------------------------------------- payment histories
def to_company_minor_parts(parts_minor: Any, currency_codes: Any, rates: Sequence[Any], currencies: Sequence[str],
                           company_currency: str) -> np.ndarray:
    """Rows of amounts that make up one total each (ageing buckets; int64 minor units, shape (n, k)) →
    company-currency minor units that still add up: the row total converted once, half up, and shared out
    by the largest remainder — :func:`xlcredit.core.money.convert_parts`, the reference rule."""
    parts = np.asarray(parts_minor, dtype=np.int64)
    codes = np.asarray(currency_codes)
    out = np.zeros(parts.shape, np.int64)
    ec = minor_units(company_currency)
    for k, (ccy, rate) in enumerate(zip(currencies, rates, strict=True)):
        rows = np.flatnonzero(codes == k)
        if rows.size == 0:
            continue
        if rate is None:
            raise XlcError("fx_rates", f"no {company_currency} rate for {ccy}", ccy)
        factor = Fraction(Decimal(rate)) * Fraction(10) ** (ec - minor_units(ccy))
        num, den = factor.numerator, factor.denominator
        exact = parts[rows].astype(object) * num                 # exact value × den, Python integers
        floors = exact // den
        remainders = exact - floors * den
        totals = (2 * exact.sum(axis=1) + den) // (2 * den)     # the row total, half up (amounts ≥ 0)
        left = totals - floors.sum(axis=1)
        order = np.argsort(-remainders, axis=1, kind="stable")  # largest remainder first, earlier on a tie
        bump = np.zeros(floors.shape, dtype=object)
        ranks = np.empty(floors.shape, dtype=np.int64)
        np.put_along_axis(ranks, order, np.arange(floors.shape[1])[None, :].repeat(len(rows), 0), axis=1)
        bump[ranks < left.astype(np.int64)[:, None]] = 1
        out[rows] = (floors + bump).astype(np.int64)
    return out


def histories_bulk(p: PreparedLedger, s: BulkSettlement, start: Any, currencies: Sequence[str], *,
                   tolerance_days: int = 0, rates: Sequence[Any] | None = None) -> dict[int, PaymentHistory]:
    """Payment history per customer code (``p.group_customer``), slices settled after ``start`` up to as_of.

    ``start``: the day before the window (``history.months_before(as_of, months)``); ``currencies``: the
    currency of each currency code. Weights are document-currency amounts unless ``rates`` (per currency
    code) are given — then company-currency amounts at those rates, as ``history.payment_histories(...,
    fx=...)`` weighs them.
    """
    a = s.as_of
    lo = day_number(start, "start")
    tol = int(tolerance_days)
    due = p.inv_due.astype(np.int64)
    # overdue now: open, undisputed, past due by more than the tolerance
    od = (s.open > 0) & ~p.inv_disputed & ((a - due) > tol)
    n_cust = int(p.group_customer.max()) + 1 if p.n_groups else 0
    grp_cust = p.group_customer
    overdue_now = np.zeros(n_cust, bool)
    overdue_now[grp_cust[p.inv_group[od]]] = True

    win = (s.slice_date > lo) & (s.slice_date <= a)
    pos = s.slice_pos[win]
    amt = s.slice_amount[win]
    days = s.slice_date[win].astype(np.int64) - due[pos]
    late = np.where(days > tol, days, 0)
    grp = p.inv_group[pos].astype(np.int64)
    weighted = np.zeros(p.n_groups, np.int64)
    weight = np.zeros(p.n_groups, np.int64)
    np.add.at(weighted, grp, amt * late)
    np.add.at(weight, grp, amt)
    max_late = np.full(n_cust, -1, np.int64)
    np.maximum.at(max_late, grp_cust[grp], late)
    any_slice = np.zeros(n_cust, bool)
    any_slice[grp_cust[grp]] = True

    # items over 90: fully settled, last slice in the window and more than 90 days late
    done = (s.open == 0) & (s.last_settled != NONE_DAY) & (s.last_settled > lo) & (s.last_settled <= a)
    done_days = s.last_settled.astype(np.int64) - due
    over = done & (np.where(done_days > tol, done_days, 0) > OVER_90_DAYS)
    over_90 = np.bincount(grp_cust[p.inv_group[over]], minlength=n_cust)

    # average days late, half up to 0.1 day. With one currency the weights' scale cancels: exact integer
    # arithmetic for all such customers at once; customers paying in several currencies add exact fractions.
    with_weight = weight > 0
    groups_per_cust = np.bincount(grp_cust[with_weight], minlength=n_cust)
    c_weighted = np.zeros(n_cust, np.int64)
    c_weight = np.zeros(n_cust, np.int64)
    np.add.at(c_weighted, grp_cust, weighted)
    np.add.at(c_weight, grp_cust, weight)
    tenths = np.where(c_weight > 0, (20 * c_weighted + c_weight) // np.maximum(2 * c_weight, 1), 0)
    mixed = np.flatnonzero(groups_per_cust > 1)
    if mixed.size:
        if rates is not None:
            factors = [Fraction(Decimal(r)) / 10 ** minor_units(c) for r, c in zip(rates, currencies, strict=True)]
        else:
            factors = [Fraction(1, 10 ** minor_units(c)) for c in currencies]
        is_mixed = np.zeros(n_cust, bool)
        is_mixed[mixed] = True
        num: dict[int, Fraction] = {}
        den: dict[int, Fraction] = {}
        for g in np.flatnonzero(with_weight & is_mixed[grp_cust]).tolist():
            cust = int(grp_cust[g])
            scale = factors[int(p.group_currency[g])]
            num[cust] = num.get(cust, Fraction(0)) + scale * int(weighted[g])
            den[cust] = den.get(cust, Fraction(0)) + scale * int(weight[g])
        for cust, d in den.items():
            tenths[cust] = int((num[cust] / d * 20 + 1) // 2)
    out: dict[int, PaymentHistory] = {}
    for cust in np.unique(grp_cust).tolist():
        if not any_slice[cust]:
            out[cust] = PaymentHistory(overdue_now=bool(overdue_now[cust]))
            continue
        out[cust] = PaymentHistory(avg_days_late=float(Decimal(int(tenths[cust])) / 10),
                                   items_over_90=int(over_90[cust]), max_days_late=int(max_late[cust]),
                                   overdue_now=bool(overdue_now[cust]))
    return out


# ---------------------------------------------------------------------------- payment trend inputs
def _customer_order(p: PreparedLedger, rank: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
    """Sorted positions where ``mask`` (undisputed invoices), ordered by (customer, due, invoice date, number).

    Allocation order already is (customer, currency, disputed, due, invoice date, number) and the groups of
    one customer are next to each other, so only customers trading in several currencies need re-sorting.
    """
    pos = np.flatnonzero(mask)
    cust = p.group_customer[p.inv_group[pos]]
    n_cust = int(p.group_customer.max()) + 1 if p.n_groups else 0
    multi = np.bincount(p.group_customer, minlength=n_cust) > 1
    sub = np.flatnonzero(multi[cust])
    if sub.size:
        sp = pos[sub]
        tie = sp if rank is None else rank[p.order[sp]]
        pos[sub] = sp[np.lexsort((tie, p.inv_date[sp], p.inv_due[sp], cust[sub]))]
    return pos


def recent_days_late(p: PreparedLedger, s: BulkSettlement, n: int, *, rank: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days beyond terms of each customer's last ``n`` invoices by due date (oldest first).

    An undisputed invoice counts when paid in full (last slice date − due date) or open and past due
    (as_of − due date: late at least that long). Returns (customer code per value, days, position of the
    value within its customer's run, 0-based) — values of one customer are contiguous.
    ``rank``: invoice-number order by input row (``BulkInvoices.number_rank``) for the last tie-break.
    """
    a = s.as_of
    due = p.inv_due.astype(np.int64)
    paid = (s.amount > 0) & (s.open == 0) & (s.last_settled != NONE_DAY)
    late_open = (s.open > 0) & (due < a)
    ordered = _customer_order(p, rank, ~p.inv_disputed & (p.inv_date <= a) & (paid | late_open))
    cust = p.group_customer[p.inv_group[ordered]]
    days = np.where(s.open[ordered] > 0, a - due[ordered], s.last_settled[ordered].astype(np.int64) - due[ordered])
    # keep the last n of each customer's run
    m = cust.shape[0]
    if m == 0:
        return cust, days, np.zeros(0, np.int64)
    last = np.ones(m, bool)
    last[:-1] = cust[1:] != cust[:-1]
    end = np.flatnonzero(last)
    run_end = end[np.searchsorted(end, np.arange(m))]
    keep = (run_end - np.arange(m)) < n
    cust, days = cust[keep], days[keep]
    starts = _run_starts(cust)
    return cust, days, np.arange(cust.shape[0]) - starts


def trend_flags(cust: np.ndarray, days: np.ndarray, index: np.ndarray, trend_days: int,
                min_points: int = 3) -> np.ndarray:
    """Customer codes whose days beyond terms (early = 0) trend up by ``trend_days`` or more (exact integers).

    Least-squares rise over k values at x = 0..k−1: slope × (k − 1) with slope = (kΣxy − ΣxΣy) / (kΣx² − (Σx)²).
    """
    if cust.size == 0:
        return np.zeros(0, np.int64)
    y = np.maximum(days, 0).astype(np.int64)
    x = index.astype(np.int64)
    codes, inverse, k = np.unique(cust, return_inverse=True, return_counts=True)
    sy = np.zeros(codes.shape[0], np.int64)
    sxy = np.zeros(codes.shape[0], np.int64)
    np.add.at(sy, inverse, y)
    np.add.at(sxy, inverse, x * y)
    sx = k * (k - 1) // 2
    sxx = (k - 1) * k * (2 * k - 1) // 6
    num = (k * sxy - sx * sy) * (k - 1)
    den = k * sxx - sx * sx
    hit = (k >= min_points) & (num >= trend_days * den)
    return codes[hit]


# ---------------------------------------------------------------------------- order volumes
def period_totals(p: PreparedLedger, periods: Sequence[tuple[Any, Any]], company_amount_by_row: np.ndarray
                  ) -> np.ndarray:
    """Invoiced amounts per customer code in each period [first day, last day] (company minor units).

    ``company_amount_by_row``: each invoice's amount in the company currency, by input row.
    Returns an int64 array (customers × periods).
    """
    n_cust = int(p.group_customer.max()) + 1 if p.n_groups else 0
    out = np.zeros((n_cust, len(periods)), np.int64)
    amounts = company_amount_by_row[p.order]
    cust = p.group_customer[p.inv_group].astype(np.int64)
    for j, (first, last) in enumerate(periods):
        lo, hi = day_number(first, "period start"), day_number(last, "period end")
        m = (p.inv_date >= lo) & (p.inv_date <= hi)
        np.add.at(out[:, j], cust[m], amounts[m])
    return out


# ---------------------------------------------------------------------------- roll-rate balances
def fine_bucket_balances(p: PreparedLedger, dates: Sequence[Any], bounds: Sequence[int],
                         due_by_row: np.ndarray, currency_by_row: np.ndarray, rates: Sequence[Any],
                         currencies: Sequence[str], company_currency: str) -> np.ndarray:
    """Open invoice balances in days-past-due buckets at each date (company minor units, dates × buckets).

    ``bounds``: increasing day bounds; bucket 0 holds days ≤ bounds[0], bucket j days in
    (bounds[j−1], bounds[j]], the last one days > bounds[-1] (so ``(-30, 0, 30, …)`` gives "due later",
    "due within 30 days", "1-30", …). Each date is an exact ageing of the ledger as of that date.
    """
    b = np.asarray(bounds, dtype=np.int64)
    k = b.shape[0] + 1
    n_ccy = len(currencies)
    out = np.zeros((len(dates), k), np.int64)
    for t, when in enumerate(dates):
        ag = age_bulk(p, when)
        days = ag.as_of - due_by_row[ag.item_row].astype(np.int64)
        fine = np.searchsorted(b, days, side="left")
        ccy = currency_by_row[ag.item_row].astype(np.int64)
        per = np.zeros(n_ccy * k, np.int64)
        np.add.at(per, ccy * k + fine, ag.item_open)
        per = per.reshape(n_ccy, k)
        for c in range(n_ccy):
            if per[c].any():
                out[t] += to_company_minor(per[c], np.zeros(k, np.int64), [rates[c]], [currencies[c]],
                                           company_currency)
    return out


# ---------------------------------------------------------------------------- cash forecast
@dataclass(frozen=True, eq=False)
class BulkForecast:
    """Weekly collection forecast in company minor units: ``weeks`` (int64 per week), later, doubtful,
    disputed; per item (sorted position): ``item_pos``, ``item_amount``, ``item_week`` (1-based; 0 = not in a
    week), ``item_category`` (0 week, 1 later, 2 doubtful, 3 disputed), ``item_expected`` (day number)."""

    as_of: int
    weeks: np.ndarray
    later: int
    doubtful: int
    disputed: int
    week_items: np.ndarray
    item_pos: np.ndarray
    item_amount: np.ndarray
    item_week: np.ndarray
    item_category: np.ndarray
    item_expected: np.ndarray


def forecast_bulk(p: PreparedLedger, s: BulkSettlement, delay_by_customer: np.ndarray, n_weeks: int,
                  doubtful_days: int, company_open_by_pos: np.ndarray) -> BulkForecast:
    """:func:`xlcredit.core.forecast.cash_forecast` over every open item at once.

    ``delay_by_customer``: whole days per customer code (the habit); ``company_open_by_pos``: each
    sorted invoice's open amount in the company currency.
    """
    a = s.as_of
    pos = np.flatnonzero(s.open > 0)
    amt = company_open_by_pos[pos]
    cust = p.group_customer[p.inv_group[pos]]
    expected = p.inv_due[pos].astype(np.int64) + delay_by_customer[cust]
    ahead = expected - a
    week = (ahead + 6) // 7
    disputed = p.inv_disputed[pos]
    category = np.where(disputed, 3, np.where(ahead > 0, np.where(week > n_weeks, 1, 0),
                                               np.where(-ahead > doubtful_days, 2, 0)))
    week = np.where(category == 0, np.maximum(week, 1), 0)
    sums = np.zeros(n_weeks + 1, np.int64)
    np.add.at(sums, week, np.where(category == 0, amt, 0))
    counts = np.bincount(week[category == 0], minlength=n_weeks + 1)
    return BulkForecast(
        as_of=a, weeks=sums[1:], later=int(amt[category == 1].sum()), doubtful=int(amt[category == 2].sum()),
        disputed=int(amt[category == 3].sum()), week_items=counts[1:], item_pos=pos, item_amount=amt,
        item_week=week, item_category=category, item_expected=expected,
    )

