"""Late interest and penalties on overdue invoices: contractual, per-day and statutory.

Conventions (the same in every function here, in the Excel formulas and in letters):

* **Days overdue** are calendar days after the due date: ``max(0, as_of − due_date)``. Interest
  runs from the day *after* the due date up to and including ``as_of`` (the payment date, or the
  date of the statement). An item paid on its due date, or an ``as_of`` before the due date, bears
  **no** interest — that is a result of 0, not an error.
* **Simple interest**, never compounded: amount × annual rate × days / basis (365 or 360).
* **Rounding**: the exact result is rounded **once**, half up, to the currency's minor unit
  (:func:`xlcredit.core.money.round_money`). Sums over slices or half-years are added exactly and
  rounded at the end.
* **Rates are fractions** (8 % is ``0.08``); a rate above 1 is refused as a likely percent typo.

Statutory interest (:func:`statutory_interest`) follows two regimes, each as its own law says:

* ``"UK"`` — Late Payment of Commercial Debts (Interest) Act 1998 as amended (SI 2002/1674,
  SI 2013/395) and the Late Payment of Commercial Debts (Rate of Interest) (No. 3) Order 2002
  (SI 2002/1675): simple interest at the Bank of England official dealing rate ("base rate") in
  force on the **reference date** + 8 %. The reference date (Order art. 4) is the 31 December
  immediately before the day interest starts to run, for interest starting 1 January–30 June, and
  the 30 June immediately before, for interest starting 1 July–31 December; the rate so found is
  **fixed for the whole delay** (s.4(2): interest runs "at the rate prevailing … at the end of the
  relevant day"; it does not move with later base-rate changes). Interest runs from the day
  after the agreed payment date (s.4). Fixed-sum compensation per qualifying debt (s.5A):
  £40 below £1,000, £70 from £1,000 to below £10,000, £100 from £10,000. Reasonable recovery
  costs above the fixed sum (s.5A(2A), added by SI 2013/395) need evidence and are not computed
  here. Day count 365, as in the GOV.UK guidance ("Late commercial payments: charging interest
  and debt recovery", https://www.gov.uk/late-commercial-payments-interest-debt-recovery).
* ``"EU"`` — Late Payment Directive 2011/7/EU: statutory interest = reference rate + 8 percentage
  points (art. 2(6)), the reference rate being the ECB's rate on its most recent main refinancing
  operation (art. 2(7)(a)); the rate for the first half-year is the one in force on 1 January, for
  the second the one in force on 1 July (art. 3(2)) — member states' transpositions word it as
  "the most recent main refinancing operation carried out before the first calendar day of the
  half-year in question". So over a long delay **each half-year slice bears its own rate**.
  Interest runs from the day after the due date (art. 3(3)(a)); €40 fixed compensation per
  invoice, whatever its size (art. 6). Day count 365 (the Directive sets none; xlcredit uses the
  same 365 as the UK regime). Only the Directive's minimum margin of 8 points is applied;
  national laws may go further (e.g. France ECB + 10 points, Germany base rate + 9 points) —
  those are not this regime.

The reference-rate histories ship as CSV files (``xlcredit/data/rates/``) and reach the core as a
:class:`ReferenceRates` record (loaded by :func:`xlcredit.io.rates.load_reference_rates`). A date
after the last row uses the last published rate; :attr:`StatutoryResult.beyond_table` flags it so
that a letter or report can warn the table may be stale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from xlcredit.core.coerce import need_date, to_rate
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.money import ZERO, currency_code, round_money, to_decimal

DEFAULT_DAILY_PENALTY = Decimal("0.0005")   # 0.05 % per day
STATUTORY_MARGIN = Decimal("0.08")          # + 8 % (UK Order 2002) / + 8 points (Directive art. 2(6))
STATUTORY_BASIS = 365
REGIMES: tuple[str, ...] = ("UK", "EU")
REGIME_CURRENCY: dict[str, str] = {"UK": "GBP", "EU": "EUR"}
EU_COMPENSATION = Decimal(40)               # Directive 2011/7/EU art. 6(1): EUR 40 per invoice
# UK Act s.5A(2): (upper bound exclusive, fixed sum); the last band has no upper bound
UK_COMPENSATION_BANDS: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal(1000), Decimal(40)),
    (Decimal(10000), Decimal(70)),
    (None, Decimal(100)),
)

RateRow = tuple[dt.date, Decimal]


# --------------------------------------------------------------------------- input checks
def _amount(value: object, field: str = "amount") -> Decimal:
    amount = to_decimal(value, field, allow_negative=False)
    assert amount is not None
    return amount


def _basis(value: object) -> int:
    number = to_decimal(value, "basis")
    assert number is not None
    if number not in (360, 365):
        raise XlcError("basis", f"must be 365 or 360 (got {number})", value)
    return int(number)


def _currency(value: object) -> str:
    if not isinstance(value, str) or len(value.strip()) != 3 or not value.strip().isalpha():
        raise XlcError("currency", f"must be a 3-letter ISO code like EUR (got {describe(value)})", value)
    return currency_code(value)


# --------------------------------------------------------------------------- contractual interest
def days_overdue(due_date: object, as_of: object) -> int:
    """Calendar days past the due date at ``as_of``: ``max(0, as_of − due_date)``."""
    due = need_date(due_date, "due_date")
    day = need_date(as_of, "as_of")
    return max(0, (day - due).days)


def late_interest(amount: object, due_date: object, as_of: object, annual_rate: object, basis: object = 365,
                  currency: str = "EUR") -> Decimal:
    """Simple late interest for the days overdue: amount × annual_rate × days / basis, rounded once.

    Days are counted from the day after the due date through ``as_of``; ``as_of`` on or before the
    due date gives 0. ``basis`` is 365 (actual/365) or 360 (actual/360).
    """
    principal = _amount(amount)
    days = days_overdue(due_date, as_of)
    rate = to_rate(annual_rate, "annual_rate")
    base = _basis(basis)
    cur = _currency(currency)
    return round_money(principal * rate * days / base, cur)


def daily_penalty(amount: object, due_date: object, as_of: object, daily_rate: object = DEFAULT_DAILY_PENALTY,
                  currency: str = "EUR") -> Decimal:
    """Contractual late fee per day overdue: amount × daily_rate × days, rounded once.

    0.05 % of the overdue amount per day (万分之五) is the customary late-payment penalty clause in
    Chinese commercial contracts, modelled on the late-payment surcharge of the PRC Law on the
    Administration of Tax Collection (art. 32). In a contract it is liquidated damages, not a statutory
    rate: a PRC court may reduce it where it clearly exceeds the loss (Civil Code art. 585; the Supreme
    People's Court's 2023 Interpretation on the general part of contracts in the Civil Code, art. 65,
    treats more than 30 % above the loss as generally excessive).
    ``daily_rate`` is a fraction per day (0.05 % = 0.0005); above 1 % per day it is refused as a typo.
    """
    principal = _amount(amount)
    days = days_overdue(due_date, as_of)
    rate = to_rate(daily_rate, "daily_rate", limit=Decimal("0.01"), example="0.05 % per day is 0.0005")
    cur = _currency(currency)
    return round_money(principal * rate * days, cur)


def interest_on_slices(slices: Iterable[tuple[object, object, object]], annual_rate: object, basis: object = 365,
                       currency: str = "EUR") -> Decimal:
    """Late interest on an item paid in parts: each slice bears interest for its own days.

    ``slices`` are ``(amount, start_date, end_date)``: ``amount`` was outstanding after
    ``start_date`` (the due date — interest runs from the next day) until ``end_date`` (the day the
    slice was settled, or ``as_of`` for what is still open), as
    ``OpenItem.overdue_slices(as_of)`` yields them. A slice settled on or before its start bears
    nothing. Slice interest is summed exactly and rounded once.
    """
    rate = to_rate(annual_rate, "annual_rate")
    base = _basis(basis)
    cur = _currency(currency)
    total = ZERO
    for i, item in enumerate(slices):
        try:
            raw_amount, raw_start, raw_end = item
        except (TypeError, ValueError):
            raise XlcError(f"slices[{i}]", f"must be (amount, start_date, end_date) (got {describe(item)})",
                           item) from None
        principal = _amount(raw_amount, f"slices[{i}].amount")
        start = need_date(raw_start, f"slices[{i}].start_date")
        end = need_date(raw_end, f"slices[{i}].end_date")
        total += principal * max(0, (end - start).days)
    return round_money(total * rate / base, cur)


# --------------------------------------------------------------------------- reference rates
def _check_table(name: str, rows: tuple[RateRow, ...]) -> None:
    if not rows:
        raise XlcError(name, "the reference-rate table has no rows", rows)
    previous: dt.date | None = None
    for i, row in enumerate(rows):
        if not (isinstance(row, tuple) and len(row) == 2):
            raise XlcError(f"{name}[{i}]", f"must be (effective_date, rate) (got {describe(row)})", row)
        day, rate = row
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise XlcError(f"{name}[{i}].effective_date", f"is not a date (got {describe(day)})", day)
        if not isinstance(rate, Decimal) or not rate.is_finite():
            raise XlcError(f"{name}[{i}].rate", f"is not a number (got {describe(rate)})", rate)
        if previous is not None and day <= previous:
            raise XlcError(f"{name}[{i}].effective_date",
                           f"dates must increase (got {day} after {previous})", day)
        previous = day


@dataclass(frozen=True)
class ReferenceRates:
    """Central-bank reference-rate histories for statutory interest.

    ``boe``: Bank of England Bank Rate (the "official dealing rate"), ``ecb``: ECB main refinancing
    operations rate — each a tuple of ``(effective_date, rate)`` sorted by date, the rate as a
    **fraction** (5.25 % is ``Decimal("0.0525")``). ``boe_checked`` / ``ecb_checked``: the day the
    table was last checked complete against the source (None = only as far as its last row).
    """

    boe: tuple[RateRow, ...]
    ecb: tuple[RateRow, ...]
    boe_checked: dt.date | None = None
    ecb_checked: dt.date | None = None

    def __post_init__(self) -> None:
        _check_table("boe", self.boe)
        _check_table("ecb", self.ecb)

    def table(self, regime: str) -> tuple[RateRow, ...]:
        """The rate history behind a regime: UK → Bank of England, EU → ECB."""
        return self.boe if _regime(regime) == "UK" else self.ecb

    def rate_on(self, regime: str, day: object) -> Decimal:
        """The central-bank rate (fraction) in force on ``day``: the last change dated on or before it.

        A day after the last row gets the last rate (see :meth:`valid_through`); a day before the
        first row is refused.
        """
        when = need_date(day, "date")
        rows = self.table(regime)
        found: Decimal | None = None
        for effective, rate in rows:
            if effective > when:
                break
            found = rate
        if found is None:
            raise XlcError("date", f"{when} is before the first row of the {_regime(regime)} reference-rate "
                           f"table ({rows[0][0]})", when)
        return found

    def valid_through(self, regime: str) -> dt.date:
        """Last day the regime's table is known to be complete: its check date, or its last row."""
        rows = self.table(regime)
        checked = self.boe_checked if _regime(regime) == "UK" else self.ecb_checked
        return max(rows[-1][0], checked) if checked else rows[-1][0]

    @property
    def last_date(self) -> dt.date:
        """The earlier of the tables' :meth:`valid_through` dates: beyond it, rates may be stale."""
        return min(self.valid_through("UK"), self.valid_through("EU"))


# --------------------------------------------------------------------------- statutory interest
@dataclass(frozen=True)
class StatutoryPeriod:
    """One stretch of days at one statutory rate (UK: the whole delay; EU: one half-year).

    ``interest`` is this period's share rounded for display; the result's total is rounded once
    from the exact sum and may differ from the sum of the periods by a minor unit.
    """

    start: dt.date            # first day of interest in this period
    end: dt.date              # last day of interest in this period (inclusive)
    days: int
    reference_date: dt.date
    reference_rate: Decimal   # fraction
    rate: Decimal             # reference_rate + 8 %
    interest: Decimal


@dataclass(frozen=True)
class StatutoryResult:
    """Statutory late-payment interest plus fixed compensation for one debt.

    ``reference_rate``, ``rate`` and ``reference_date`` are those of the first period (the
    half-year the debt became overdue; for UK the only one); ``periods`` lists every rate period.
    ``beyond_table`` is True when a reference date lies after the rate table's
    :meth:`ReferenceRates.valid_through` date — the last published rate was used.
    """

    interest: Decimal
    compensation: Decimal
    total: Decimal
    reference_rate: Decimal
    rate: Decimal
    days: int
    regime: str
    reference_date: dt.date
    currency: str = "EUR"
    periods: tuple[StatutoryPeriod, ...] = ()
    beyond_table: bool = False


def _regime(value: object) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise XlcError("regime", "is empty", value)
    text = str(value).strip().upper()
    if text not in REGIMES:
        raise XlcError("regime", f"must be UK or EU (got {describe(value)})", value)
    return text


def _half_year_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 1 if day.month <= 6 else 7, 1)


def _next_half_year_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 7, 1) if day.month <= 6 else dt.date(day.year + 1, 1, 1)


def uk_reference_date(first_day: dt.date) -> dt.date:
    """UK reference date for interest starting on ``first_day``: 31 Dec (Jan–Jun start) or 30 Jun (Jul–Dec)."""
    return dt.date(first_day.year - 1, 12, 31) if first_day.month <= 6 else dt.date(first_day.year, 6, 30)


def uk_compensation(amount: Decimal) -> Decimal:
    """Fixed sum per qualifying debt, Late Payment Act s.5A(2): £40 / £70 / £100 by the debt's size."""
    for upper, fixed in UK_COMPENSATION_BANDS:
        if upper is None or amount < upper:
            return fixed
    raise AssertionError("unreachable")  # pragma: no cover


def statutory_interest(amount: object, due_date: object, as_of: object, regime: object, rates: ReferenceRates, *,
                       currency: str | None = None, invoices: object = 1) -> StatutoryResult:
    """Statutory late-payment interest and fixed compensation under the UK Act or the EU Directive.

    UK: (base rate on the reference date + 8 %) × amount × days / 365, rate fixed for the whole
    delay; plus £40/£70/£100 (one debt — ``invoices`` must be 1). EU: per half-year
    (ECB MRO rate before the half-year's first day + 8 points) × amount × days in it / 365,
    summed; plus €40 × ``invoices``. No compensation before the debt is overdue (or on a zero
    debt). The currency is the regime's (GBP for UK, EUR for EU); another ``currency`` is refused
    because the fixed sums and reference rates are set in it.
    """
    reg = _regime(regime)
    principal = _amount(amount)
    due = need_date(due_date, "due_date")
    day = need_date(as_of, "as_of")
    if not isinstance(rates, ReferenceRates):
        raise XlcError("rates", f"must be the reference-rate tables (got {describe(rates)})", rates)
    cur = REGIME_CURRENCY[reg]
    if currency is not None and _currency(currency) != cur:
        raise XlcError("currency", f"{reg} statutory interest and compensation are in {cur} "
                       f"(got {describe(currency)})", currency)
    count = to_decimal(invoices, "invoices")
    assert count is not None
    if count != count.to_integral_value() or count < 1:
        raise XlcError("invoices", f"must be a whole number of at least 1 (got {count})", invoices)
    n_invoices = int(count)
    if reg == "UK" and n_invoices != 1:
        raise XlcError("invoices", "UK fixed compensation depends on each debt's size: work out one invoice "
                       f"at a time (got {n_invoices})", invoices)

    days = max(0, (day - due).days)
    first = due + dt.timedelta(days=1)
    periods: list[StatutoryPeriod] = []
    exact = ZERO
    valid_through = rates.valid_through(reg)
    beyond = False
    if reg == "UK":
        ref_date = uk_reference_date(first)
        ref_rate = rates.rate_on(reg, ref_date)
        rate = ref_rate + STATUTORY_MARGIN
        exact = principal * rate * days / STATUTORY_BASIS
        beyond = days > 0 and ref_date > valid_through
        if days:
            periods.append(StatutoryPeriod(first, day, days, ref_date, ref_rate, rate, round_money(exact, cur)))
    else:
        ref_date = _half_year_start(first)
        ref_rate = rates.rate_on(reg, ref_date - dt.timedelta(days=1))
        rate = ref_rate + STATUTORY_MARGIN
        start = first
        while start <= day:
            half = _half_year_start(start)
            end = min(day, _next_half_year_start(start) - dt.timedelta(days=1))
            p_ref = rates.rate_on(reg, half - dt.timedelta(days=1))
            p_rate = p_ref + STATUTORY_MARGIN
            p_days = (end - start).days + 1
            p_exact = principal * p_rate * p_days / STATUTORY_BASIS
            exact += p_exact
            beyond = beyond or half - dt.timedelta(days=1) > valid_through
            periods.append(StatutoryPeriod(start, end, p_days, half, p_ref, p_rate, round_money(p_exact, cur)))
            start = end + dt.timedelta(days=1)

    interest = round_money(exact, cur)
    if days == 0 or principal == 0:
        compensation = ZERO
    elif reg == "UK":
        compensation = uk_compensation(principal)
    else:
        compensation = EU_COMPENSATION * n_invoices
    compensation = round_money(compensation, cur)
    return StatutoryResult(interest=interest, compensation=compensation, total=interest + compensation,
                           reference_rate=ref_rate, rate=rate, days=days, regime=reg, reference_date=ref_date,
                           currency=cur, periods=tuple(periods), beyond_table=beyond)
