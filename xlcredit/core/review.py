"""The portfolio review: every customer's review status, insurance position, provision and expected cash,
computed over the whole ledger at once.

This is the calculation behind the Review Portfolio button and ``xlcredit review``. It runs on the bulk
columns of :mod:`xlcredit.core.fast.ageing` (ids factorised, money in int64 minor units), so a ledger of a
million invoices takes seconds; the rules are those of the reference modules it calls:

1. the ledger at ``as_of`` — open items and unapplied cash (:func:`bulk.age_bulk`), settlement slices
   (:func:`fast.monitoring.settle_bulk`) and each customer's payment history (the scorecard's 24 months,
   as the Refresh button computes it);
2. each customer of the table scored (:func:`scoring.score_customer`), given a limit
   (:func:`limits.recommend_limits`, portfolio cap included) and its exposure (open receivables in the
   company currency, a net credit counting as 0, + open orders + uninvoiced deliveries);
3. the review (:func:`monitoring.review_customer`): periodic due date from the last recorded review and
   the triggers — order swing (like months a year earlier), payment trend (last invoices), utilisation,
   grade drop, rating downgrade, insurance cover cut, broken promises to pay (the collector's records, kept
   ones counted beside);
4. trade-credit insurance for every insured customer (:func:`insurance.insurance_status`);
5. the IFRS 9 provision (:mod:`provisioning`): roll rates from the ledger's own history — the open
   balances aged by days past due every ``step`` days (the width of the policy's buckets, 30 by
   default) over ``provision.history_months`` — chained to the last bucket, weighted into the policy's
   buckets, times ``provision.forward_factor``; ECL per customer and bucket;
6. the weekly cash-collection forecast (:mod:`forecast`), each customer's habit measured over
   ``forecast.history_months``.

Company-currency figures: the ageing buckets, unapplied cash and overdue of each customer and currency
are converted at the as-of FX rate and rounded half up (as :func:`ageing.age_positions` does); open
amounts of single invoices (insurance, forecast) are converted one by one. A customer trading in a
currency without a rate is reported as a problem and left out; the others are still reviewed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import pairwise
from typing import Any

import numpy as np

from xlcredit.core.coerce import need_date
from xlcredit.core.errors import XlcError
from xlcredit.core.fast.ageing import EPOCH, BulkFrames, age_bulk, day_number, prepare_bulk
from xlcredit.core.fast.monitoring import (
    fine_bucket_balances,
    forecast_bulk,
    histories_bulk,
    period_totals,
    recent_days_late,
    settle_bulk,
    to_company_minor,
    to_company_minor_parts,
    trend_flags,
)
from xlcredit.core.forecast import CashForecast, ForecastWeek, delay_days
from xlcredit.core.history import months_before
from xlcredit.core.insurance import InsuranceStatus, OpenAmount, insurance_status
from xlcredit.core.limits import exposure as exposure_of
from xlcredit.core.limits import recommend_limits
from xlcredit.core.money import ZERO, minor_units
from xlcredit.core.monitoring import (
    CustomerPosition,
    LastReview,
    PromiseRecord,
    ReviewCase,
    month_window,
    review_customer,
)
from xlcredit.core.policy import Policy
from xlcredit.core.provisioning import (
    CustomerProvision,
    EclLine,
    EclResult,
    ProvisionMatrix,
    ProvisionReport,
    RollRateResult,
    ecl_minor,
    matrix_from_roll_rates,
    provision_matrix,
    roll_rate_loss_rates,
)
from xlcredit.core.records import Customer
from xlcredit.core.scoring import ScoreResult, score_customer

__all__ = ["CustomerFigures", "PortfolioReview", "ReviewProblem", "roll_buckets", "run_review"]

MAX_SNAPSHOTS = 240
Progress = Callable[[str], None]


@dataclass(frozen=True)
class ReviewProblem:
    """A customer that could not be reviewed, and why (the words users see)."""

    customer_id: str
    field: str
    problem: str


@dataclass(frozen=True)
class CustomerFigures:
    """One customer's figures at ``as_of`` in the company currency (buckets by days past due)."""

    customer: Customer
    score: ScoreResult
    limit: Decimal
    open_receivables: Decimal
    exposure: Decimal
    overdue: Decimal
    days_past_due: int
    buckets: tuple[Decimal, ...]
    ecl: Decimal
    habit_days: int


@dataclass(frozen=True)
class PortfolioReview:
    """Everything the review computed (see the module docstring)."""

    as_of: dt.date
    currency: str
    labels: tuple[str, ...]
    cases: tuple[ReviewCase, ...]
    figures: Mapping[str, CustomerFigures]
    insurance: Mapping[str, InsuranceStatus]
    roll: RollRateResult | None
    matrix: ProvisionMatrix
    provision: ProvisionReport
    forecast: CashForecast
    problems: tuple[ReviewProblem, ...]
    owner: str = ""
    timings: Mapping[str, float] = field(default_factory=dict, compare=False)

    @property
    def due(self) -> tuple[ReviewCase, ...]:
        """The customers to review now (special first, then periodic)."""
        return tuple(c for c in self.cases if c.due)

    def rows(self) -> list[dict[str, Any]]:
        """One row per customer for the Review sheet: review status, warnings, insurance, ECL."""
        out = []
        for case in self.cases:
            f = self.figures[case.customer_id]
            ins = self.insurance.get(case.customer_id)
            out.append({
                "customer_id": case.customer_id, "name": case.name, "review": case.review_type,
                "grade": case.grade, "score": f.score.score, "limit": f.limit, "exposure": f.exposure,
                "utilisation": None if case.utilisation is None else case.utilisation.quantize(Decimal("0.0001")),
                "days_past_due": f.days_past_due,
                "promises_kept": case.promises_kept, "promises_broken": case.promises_broken,
                "warnings": "; ".join(t.title for t in case.triggers),
                "evidence": " | ".join(t.evidence for t in case.triggers),
                "changes": "; ".join(case.changes), "last_review": case.last_review,
                "next_review": case.next_review,
                "insured_limit": None if ins is None else ins.insured_limit,
                "above_cover": None if ins is None else ins.above_cover,
                "expected_indemnity": None if ins is None else ins.expected_indemnity,
                "insurer_deadlines": "" if ins is None else "; ".join(ins.alerts),
                "ecl": f.ecl, "habit_days": f.habit_days,
            })
        return out

    def action_rows(self) -> list[dict[str, Any]]:
        """Action-list rows (the columns of the letters job's action list): reviews to hold, insurer deadlines.

        customer_id, name, stage ("Credit review" / "Credit insurance"), action, due_date, amount (exposure,
        or the item's open amount), currency, owner, status ("due", or "MISSED" for a passed insurer deadline
        with nothing recorded), reason.
        """
        out: list[dict[str, Any]] = []
        for case in self.due:
            f = self.figures[case.customer_id]
            when = self.as_of if case.special else case.next_review
            action = "Special credit review" if case.special else "Periodic credit review"
            out.append({"customer_id": case.customer_id, "name": case.name, "stage": "Credit review",
                        "action": action, "due_date": when, "amount": f.exposure, "currency": self.currency,
                        "owner": self.owner, "status": "due", "reason": case.reason})
        for cid, ins in self.insurance.items():
            name = self.figures[cid].customer.name
            for d in (*ins.missed, *ins.coming_due):
                out.append({"customer_id": cid, "name": name, "stage": "Credit insurance",
                            "action": d.action[:1].upper() + d.action[1:], "due_date": d.date, "amount": d.amount,
                            "currency": self.currency, "owner": self.owner, "status": "MISSED" if d.missed else "due",
                            "reason": f"invoice {d.invoice_no}, insurer {ins.insurer or '(not named)'}"})
        return out


# ---------------------------------------------------------------------------- roll-rate buckets
def roll_buckets(bounds: Sequence[int]) -> tuple[int, tuple[int, ...], tuple[str, ...], tuple[tuple[int, ...], ...]]:
    """The roll-rate chain for the policy's ageing bounds.

    Returns (step, fine bounds, chain labels, groups): ``step`` days = the greatest common divisor of
    the bounds (30 for 0/30/60/90/180); the fine bounds ``(−step, 0, step, 2·step, …, last, last + step)``
    age every item into "due later", "due within step days", step-wide overdue buckets, the first
    step beyond the last bound and the rest. The chain is "due within" … the first step beyond the last
    bound: that slice holds what *entered* the write-off bucket during the period (the older stock,
    which sits there period after period, is left out — it would count the same money again).
    ``groups[i]`` lists the chain buckets of policy bucket i (Current → "due within", since an item not
    yet due must pass through it; the last policy bucket → the write-off entry).
    """
    b = [int(x) for x in bounds]
    step = 0
    for x in b[1:]:
        step = math.gcd(step, x)
    step = step or 30
    fine = (-step, *range(0, b[-1] + 1, step), b[-1] + step)
    labels = [f"Due within {step} days"]
    labels += [f"{lo + 1}-{hi}" for lo, hi in pairwise(fine[1:-1])]
    labels.append(f"{b[-1]}+ (entered {b[-1] + 1}-{b[-1] + step})")
    edges = list(pairwise(fine))   # chain bucket j covers (fine[j], fine[j + 1]]
    groups: list[tuple[int, ...]] = [(0,)]
    for lo, hi in pairwise(b):
        groups.append(tuple(j for j, (x, y) in enumerate(edges) if j > 0 and x >= lo and y <= hi))
    groups.append((len(labels) - 1,))
    return step, fine, tuple(labels), tuple(groups)


# ---------------------------------------------------------------------------- the review
def _sum_by(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, *values.shape[1:]), np.int64)
    np.add.at(out, codes, values)
    return out


def run_review(customers: Sequence[Customer], frames: BulkFrames, policy: Policy, as_of: Any, *,
               fx: Any = None, last_reviews: Mapping[str, LastReview] | None = None,
               invoice_numbers: Sequence[Any] | None = None, notified: Mapping[str, Any] | None = None,
               claimed: Mapping[str, Any] | None = None, loss_rates: Sequence[Any] | None = None,
               promises: Mapping[str, PromiseRecord] | None = None, progress: Progress | None = None
               ) -> PortfolioReview:
    """Review the portfolio at ``as_of`` (module docstring).

    ``frames``: the ledger as bulk columns (``fast.ageing.frames_to_arrays``); ``fx``: an ``FxRates`` (rates into
    the company currency) or None when every document is in it; ``last_reviews``: the last recorded review
    per customer id; ``invoice_numbers``: invoice number per row of the invoices table given to
    ``frames_to_arrays`` (for the insurance deadlines); ``notified``/``claimed``: ``{invoice_no: date}`` of
    insurer notifications and claims made; ``loss_rates``: a provision matrix to use instead of the roll
    rates (one rate per policy bucket, before the forward-looking factor); ``promises``: each customer's kept and
    broken promises to pay at ``as_of`` (the broken-promise trigger; none given: no promises).
    """
    import time

    say = progress or (lambda _m: None)
    clock = time.perf_counter
    timings: dict[str, float] = {}
    t0 = clock()
    day = need_date(as_of, "as_of")
    a = day_number(day)
    company = policy.company.currency
    labels = policy.bucket_labels
    currencies = frames.currencies
    problems: list[ReviewProblem] = []
    scale = -minor_units(company)

    def money(units: Any) -> Decimal:   # company minor units → Decimal (from_minor without the lookups)
        return Decimal(int(units)).scaleb(scale)

    rates: list[Decimal] = []
    missing: set[int] = set()
    for k, ccy in enumerate(currencies):
        if ccy == company:
            rates.append(Decimal(1))
            continue
        try:
            if fx is None:
                raise XlcError("fx_rates", f"no {company} rate for {ccy} (no FX rates given)", ccy)
            rates.append(fx.rate(ccy, day))
        except XlcError:
            rates.append(Decimal(0))
            missing.add(k)

    say("ageing the ledger")
    p = prepare_bulk(frames.invoices, frames.credits)
    ag = age_bulk(p, day, policy, by="due_date")
    s = settle_bulk(p, day)
    n_codes = len(frames.customers)
    timings["ledger"] = clock() - t0

    # company-currency figures per customer code
    t1 = clock()
    k = len(labels)
    g_ccy = ag.currency.astype(np.int64)
    g_buckets = to_company_minor_parts(ag.buckets, g_ccy, rates, currencies, company)
    g_unapplied = to_company_minor(ag.unapplied_minor, g_ccy, rates, currencies, company)
    g_overdue = to_company_minor(ag.open_minor - ag.buckets[:, 0], g_ccy, rates, currencies, company)
    cust_codes = ag.customer.astype(np.int64)
    c_buckets = _sum_by(cust_codes, g_buckets, n_codes)
    c_unapplied = _sum_by(cust_codes, g_unapplied, n_codes)
    c_overdue = _sum_by(cust_codes, g_overdue, n_codes)
    bad_code = np.zeros(n_codes, bool)
    if missing:
        bad_code[p.group_customer[np.isin(p.group_currency, list(missing))]] = True
    pos_ccy = p.group_currency[p.inv_group]
    company_open = to_company_minor(s.open, pos_ccy, rates, currencies, company)
    pos_cust = p.group_customer[p.inv_group].astype(np.int64)
    due = p.inv_due.astype(np.int64)
    late_mask = (s.open > 0) & ~p.inv_disputed & (due < a)
    dpd = np.zeros(n_codes, np.int64)
    np.maximum.at(dpd, pos_cust[late_mask], a - due[late_mask])
    timings["company figures"] = clock() - t1

    say("payment histories")
    t1 = clock()
    all_rates = None if missing else rates
    scoring_hist = histories_bulk(p, s, months_before(day, 24), currencies,
                                  tolerance_days=policy.grades.A_overdue_tolerance_days, rates=all_rates)
    habit_hist = histories_bulk(p, s, months_before(day, policy.forecast.history_months), currencies,
                                rates=all_rates)
    habit = np.zeros(n_codes, np.int64)
    for code, h in habit_hist.items():
        habit[code] = delay_days(h.avg_days_late)
    timings["histories"] = clock() - t1

    # scores and limits
    say(f"scoring {len(customers)} customers")
    t1 = clock()
    code_of = {str(c): i for i, c in enumerate(frames.customers.tolist())}
    scored: list[tuple[Customer, ScoreResult]] = []
    for customer in customers:
        cid = customer.customer_id
        code = code_of.get(cid)
        if code is not None and bad_code[code]:
            ccys = sorted({currencies[int(g)] for g in p.group_currency[p.group_customer == code]
                           if int(g) in missing})
            problems.append(ReviewProblem(cid, "fx_rates", f"no {company} rate for {', '.join(ccys)}"))
            continue
        if code is not None and code in scoring_hist:
            customer = replace(customer, history=scoring_hist[code])
        try:
            scored.append((customer, score_customer(customer, policy, day)))
        except XlcError as exc:
            problems.append(ReviewProblem(cid, exc.field, exc.problem))
    limits = {r.customer_id: r for r in recommend_limits(
        [c for c, _ in scored], {c.customer_id: sc.grade for c, sc in scored}, policy, day)}
    timings["scores and limits"] = clock() - t1

    # triggers that need the ledger: order swing and payment trend (screened for all at once)
    t1 = clock()
    window = month_window(day, policy.review.order_months)
    months = [*((y - 1, m) for y, m in window), *window]

    def month_span(y: int, m: int) -> tuple[dt.date, dt.date]:
        start = dt.date(y, m, 1)
        end = (dt.date(y + (m == 12), m % 12 + 1, 1)) - dt.timedelta(days=1)
        return start, end

    company_amount = to_company_minor(frames.invoices.amount_minor, frames.invoices.currency, rates, currencies,
                                      company)
    per_month = period_totals(p, [month_span(y, m) for y, m in months], company_amount)
    n_win = len(window)
    base, recent = per_month[:, :n_win].sum(axis=1), per_month[:, n_win:].sum(axis=1)
    swing = policy.review.order_swing
    # |recent − base| ≥ swing × base, exactly: swing = u / v as a fraction of integers
    u, v = swing.as_integer_ratio()
    swing_hit = (base > 0) & (np.abs(recent - base) * v >= base * u)
    cust_t, days_t, index_t = recent_days_late(p, s, policy.review.trend_invoices, rank=frames.invoices.number_rank)
    flagged = set(trend_flags(cust_t, days_t, index_t, policy.review.trend_days).tolist())
    trend_lists: dict[int, list[int]] = {}
    if flagged:
        sel = np.isin(cust_t, list(flagged))
        for c, d in zip(cust_t[sel].tolist(), days_t[sel].tolist(), strict=True):
            trend_lists.setdefault(c, []).append(d)
    timings["triggers"] = clock() - t1

    # provision: the matrix from the roll rates, ECL per customer and bucket (rounded per cell)
    say("provision matrix")
    t1 = clock()
    step, fine, chain_labels, groups = roll_buckets(policy.ageing.bounds)
    n_snap = min(MAX_SNAPSHOTS, max(1, round(policy.provision.history_months * 365.25 / 12 / step)))
    dates = [day - dt.timedelta(days=step * j) for j in range(n_snap, -1, -1)]
    roll: RollRateResult | None = None
    forward = policy.provision.forward_factor
    if loss_rates is not None:
        matrix = provision_matrix(labels, loss_rates, forward, source="given", places=6)
    else:
        balances = fine_bucket_balances(p, dates, fine, frames.invoices.due_date, frames.invoices.currency, rates,
                                        currencies, company)
        chain = balances[:, 1:-1]   # without "due later" and the write-off stock
        roll = roll_rate_loss_rates([[money(x) for x in row] for row in chain], chain_labels)
        matrix = matrix_from_roll_rates(roll, labels, groups, [int(x) for x in chain[-1]], forward)
    c_ecl = ecl_minor(c_buckets, matrix.loss_rates)
    timings["provision"] = clock() - t1

    say("reviewing")
    t1 = clock()
    last_reviews = last_reviews or {}
    cases: list[ReviewCase] = []
    figures: dict[str, CustomerFigures] = {}
    provisions: list[CustomerProvision] = []
    for customer, score in scored:
        cid = customer.customer_id
        code = code_of.get(cid)
        if code is not None:
            buckets = tuple(money(x) for x in c_buckets[code].tolist())
            ecls = tuple(money(x) for x in c_ecl[code].tolist())
            open_total = sum(buckets, ZERO)
            balance = open_total - money(c_unapplied[code])
            overdue = money(c_overdue[code])
            days_pd = int(dpd[code])
        else:
            buckets, ecls, open_total, balance, overdue, days_pd = (ZERO,) * k, (ZERO,) * k, ZERO, ZERO, ZERO, 0
        try:
            exp = exposure_of(customer, max(balance, ZERO))
        except XlcError as exc:
            problems.append(ReviewProblem(cid, exc.field, exc.problem))
            continue
        limit = limits[cid].limit
        orders = None
        if code is not None and swing_hit[code]:
            orders = {ym: money(int(per_month[code, j])) for j, ym in enumerate(months)}
        pos = CustomerPosition(cid, customer.name, score.grade, score.score, limit, exp.total, customer.rating,
                               customer.insured_limit)
        try:
            case = review_customer(pos, last_reviews.get(cid), day, policy, monthly_orders=orders,
                                   days_late=trend_lists.get(code) if code is not None else None,
                                   promises=(promises or {}).get(cid))
        except XlcError as exc:
            problems.append(ReviewProblem(cid, exc.field, exc.problem))
            continue
        cases.append(case)
        ecl_total = sum(ecls, ZERO)
        provisions.append(CustomerProvision(cid, buckets, ecls, open_total, ecl_total))
        figures[cid] = CustomerFigures(customer, score, limit, balance, exp.total, overdue, days_pd, buckets,
                                       ecl_total, int(habit[code]) if code is not None else 0)
    rank = {"special": 0, "periodic": 1, "": 2}
    cases.sort(key=lambda c: (rank[c.review_type], -len(c.triggers), c.next_review, c.customer_id))
    rows_g = [pr.gross for pr in provisions]
    rows_e = [pr.ecl for pr in provisions]
    lines = tuple(EclLine(label, sum((g[j] for g in rows_g), ZERO), matrix.loss_rates[j],
                          sum((e[j] for e in rows_e), ZERO)) for j, label in enumerate(labels))
    provision = ProvisionReport(matrix, company, tuple(provisions), EclResult(
        company, lines, sum((ln.gross for ln in lines), ZERO), sum((ln.ecl for ln in lines), ZERO)))
    timings["review"] = clock() - t1

    # insurance
    say("checking credit insurance")
    t1 = clock()
    insured = {cid for cid, f in figures.items() if f.customer.insured_limit is not None}
    items_of: dict[str, list[OpenAmount]] = {cid: [] for cid in insured}
    if insured:
        insured_codes = np.array([code_of[c] for c in insured if c in code_of], np.int64)
        sel = np.flatnonzero((s.open > 0) & np.isin(pos_cust, insured_codes))
        labels_of = frames.customers
        for pos_i, cust_i, amt in zip(sel.tolist(), pos_cust[sel].tolist(), company_open[sel].tolist(), strict=True):
            row = int(frames.invoice_rows[int(p.order[pos_i])])
            number = str(invoice_numbers[row]) if invoice_numbers is not None else f"row {row + 2}"
            items_of[str(labels_of[cust_i])].append(OpenAmount(
                number, EPOCH + dt.timedelta(days=int(p.inv_due[pos_i])), money(int(amt)),
                bool(p.inv_disputed[pos_i])))
    insurance: dict[str, InsuranceStatus] = {}
    for cid in sorted(insured):
        f = figures[cid]
        insurance[cid] = insurance_status(cid, f.customer.insured_limit, f.customer.insurer, f.exposure,
                                          items_of.get(cid, ()), day, policy, notified=notified, claimed=claimed,
                                          currency=company)
    timings["insurance"] = clock() - t1

    # forecast
    say("cash forecast")
    t1 = clock()
    weeks = policy.forecast.weeks
    fb = forecast_bulk(p, s, habit, weeks, policy.forecast.doubtful_days, company_open)
    week_rows = tuple(ForecastWeek(j + 1, day + dt.timedelta(days=7 * j + 1), day + dt.timedelta(days=7 * j + 7),
                                   money(int(fb.weeks[j])), int(fb.week_items[j]))
                      for j in range(weeks))
    counts = {name: int((fb.item_category == code).sum()) for code, name in ((1, "later"), (2, "doubtful"),
                                                                             (3, "disputed"))}
    forecast = CashForecast(day, company, week_rows, money(fb.later), money(fb.doubtful),
                            money(fb.disputed), (), counts)
    timings["forecast"] = clock() - t1
    timings["total"] = clock() - t0
    return PortfolioReview(day, company, labels, tuple(cases), figures, insurance, roll, matrix, provision, forecast,
                           tuple(problems), policy.company.credit_controller, timings)
