"""The whole credit picture at ``as_of``: every customer scored, limited, aged and dunned, plus KPIs.

This is the calculation behind the Refresh button and ``xlcredit refresh``: one allocation of the
ledger feeds the ageing, each customer's payment history (which replaces any history columns of
the customer table for customers found in the ledger), the dunning stage and the exposure.

Figures per customer are in the company currency (``policy.company.currency``), converted at the
as-of FX rates. A customer whose figures cannot be computed (say, a missing FX rate) is reported
as a problem and left out; the others are still assessed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xlcredit.core.ageing import AgeingReport, age_positions
from xlcredit.core.collections import Collections, CustomerCollections, customer_collections
from xlcredit.core.dunning import DunningStatus, dunning_stage
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.history import payment_histories
from xlcredit.core.kpis import (
    average_days_delinquent,
    best_possible_dso,
    collection_effectiveness_index,
    dso_simple,
)
from xlcredit.core.ledger import FxRates, Ledger
from xlcredit.core.limits import (
    Exposure,
    LimitResult,
    OrderDecision,
    available_credit,
    check_order,
    exposure,
    order_amount,
    recommend_limits,
    utilisation,
)
from xlcredit.core.money import round_money, to_decimal
from xlcredit.core.openitems import allocate
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer
from xlcredit.core.scoring import ScoreResult, score_customer
from xlcredit.core.terms import CreditTerms, terms_for

ZERO = Decimal(0)
#: Days of credit sales behind the DSO figures, and the CEI period.
DSO_DAYS = 90
CEI_DAYS = 30


@dataclass(frozen=True)
class CustomerCredit:
    """One customer's credit position: score, grade, limit, terms, exposure and dunning level, and ``order``:
    the order check on an order of 0 — would the next order be held, and why."""

    customer: Customer
    score: ScoreResult
    limit: LimitResult
    terms: CreditTerms
    exposure: Exposure
    available: Decimal
    utilisation: Decimal | None
    open_receivables: Decimal   # open items − unapplied cash, company currency (negative: net credit)
    overdue: Decimal            # past-due open amount, company currency
    dunning: DunningStatus
    order: OrderDecision
    collections: CustomerCollections | None = None   # promises, disputes, plans (when the book has any)


@dataclass(frozen=True)
class PortfolioKpis:
    """Portfolio key figures in the company currency (None where the period had no credit sales)."""

    currency: str
    total_ar: Decimal
    overdue: Decimal
    overdue_share: Decimal | None
    credit_sales: Decimal        # the last DSO_DAYS days
    dso: Decimal | None
    best_dso: Decimal | None
    add: Decimal | None
    cei: Decimal | None          # percent


@dataclass(frozen=True)
class CustomerProblem:
    """A customer that could not be assessed, and why (the words users see)."""

    customer_id: str
    field: str
    problem: str

    @property
    def message(self) -> str:
        return f"{self.customer_id}: {self.field}: {self.problem}"


@dataclass(frozen=True)
class Portfolio:
    """Everything a refresh shows, computed at ``as_of``."""

    as_of: dt.date
    customers: tuple[CustomerCredit, ...]
    ageing: AgeingReport
    kpis: PortfolioKpis
    problems: tuple[CustomerProblem, ...]

    def customer(self, customer_id: str) -> CustomerCredit | None:
        return next((c for c in self.customers if c.customer.customer_id == customer_id), None)


def assess_portfolio(customers: Sequence[Customer], ledger: Ledger, policy: Policy, as_of: dt.date,
                     fx: FxRates | None = None, collections: Collections | None = None) -> Portfolio:
    """Score, limit, age and dun every customer at ``as_of`` (see the module docstring).

    ``collections``: the collector's promises, disputes and payment plans; they hold items off the dunning
    ladder and escalate on a broken promise (:mod:`xlcredit.core.collections`).
    """
    positions = allocate(ledger, as_of)
    ageing = age_positions(positions, as_of, policy, fx)
    histories = payment_histories(ledger, as_of, tolerance_days=policy.grades.A_overdue_tolerance_days,
                                  fx=fx, positions=positions)
    company = policy.company.currency
    problems: list[CustomerProblem] = []

    # company-currency balance and overdue per customer, from the ageing rows
    balance: dict[str, Decimal] = {}
    overdue: dict[str, Decimal] = {}
    unconverted: dict[str, str] = {}
    for row in ageing.rows:
        if row.balance_company is None or row.overdue_company is None:
            unconverted[row.customer_id] = row.currency
            continue
        balance[row.customer_id] = balance.get(row.customer_id, ZERO) + row.balance_company
        overdue[row.customer_id] = overdue.get(row.customer_id, ZERO) + row.overdue_company
    items_of: dict[str, list] = {}
    all_items: dict[str, list] = {}
    for (cid, _ccy), pos in positions.items():
        items_of.setdefault(cid, []).extend(pos.open_items)
        all_items.setdefault(cid, []).extend(pos.items)

    scored: list[tuple[Customer, ScoreResult]] = []
    for customer in customers:
        cid = customer.customer_id
        if cid in histories:
            customer = dataclasses.replace(customer, history=histories[cid])
        if cid in unconverted:
            problems.append(CustomerProblem(cid, "fx_rates", f"no {company} rate for {unconverted[cid]}"))
            continue
        try:
            scored.append((customer, score_customer(customer, policy, as_of)))
        except XlcError as exc:
            problems.append(CustomerProblem(cid, exc.field, exc.problem))

    limits = {r.customer_id: r for r in recommend_limits(
        [c for c, _ in scored], {c.customer_id: s.grade for c, s in scored}, policy, as_of)}

    out: list[CustomerCredit] = []
    for customer, score in scored:
        cid = customer.customer_id
        try:
            open_ar = balance.get(cid, ZERO)
            exp = exposure(customer, max(open_ar, ZERO))  # a net credit balance is no exposure
            limit = limits[cid]
            terms = terms_for(customer, score.grade, policy, as_of)
            held = None
            if collections is not None and not collections.of(cid).empty:
                held = customer_collections(cid, all_items.get(cid, []), ledger.payments, as_of, policy,
                                            collections)
                problems.extend(CustomerProblem(cid, p.field, p.problem) for p in held.problems)
            dunning = dunning_stage(items_of.get(cid, ()), as_of, policy, held=held.held if held else None,
                                    floor_step=held.floor_step if held else 0)
            out.append(CustomerCredit(
                customer=customer, score=score, limit=limit, terms=terms,
                exposure=exp, available=available_credit(limit.limit, exp),
                utilisation=utilisation(limit.limit, exp), open_receivables=open_ar,
                overdue=overdue.get(cid, ZERO), dunning=dunning,
                order=check_order(customer, ZERO, limit.limit, exp, score.grade, dunning.days_past_due, policy,
                                  deposit_share=terms.deposit_share), collections=held))
        except XlcError as exc:
            problems.append(CustomerProblem(cid, exc.field, exc.problem))

    kpis = portfolio_kpis(ledger, ageing, policy, as_of, fx)
    return Portfolio(as_of, tuple(out), ageing, kpis, tuple(problems))


def credit_sales(ledger: Ledger, start: dt.date, end: dt.date, policy: Policy,
                 fx: FxRates | None, rate_day: dt.date) -> Decimal:
    """Invoiced amounts dated after ``start`` up to ``end``, in the company currency at ``rate_day`` rates.

    Invoices in a currency without a rate are left out (the ageing reports such customers).
    """
    company = policy.company.currency
    totals: dict[str, Decimal] = {}
    for inv in ledger.invoices:
        if start < inv.invoice_date <= end:
            totals[inv.currency] = totals.get(inv.currency, ZERO) + inv.amount
    total = ZERO
    for ccy, amount in totals.items():
        if ccy == company:
            total += amount
        elif fx is not None:
            try:
                total += round_money(fx.convert(amount, ccy, rate_day), company)
            except XlcError:
                continue
    return total


def portfolio_kpis(ledger: Ledger, ageing: AgeingReport, policy: Policy, as_of: dt.date,
                   fx: FxRates | None = None) -> PortfolioKpis:
    """Total AR, overdue share, DSO and best possible DSO over the last 90 days, ADD, and CEI over 30 days.

    DSO = receivables ÷ credit sales of the last 90 days × 90; best possible DSO uses the current
    (not yet due) receivables; ADD = DSO − best possible DSO; CEI compares the receivables 30 days
    ago and now with the credit sales in between (Credit Research Foundation formula). See :func:`kpis_of`.
    """
    total_ar, current_ar, overdue = _company_totals(ageing)
    sales = credit_sales(ledger, as_of - dt.timedelta(days=DSO_DAYS), as_of, policy, fx, as_of)
    start = as_of - dt.timedelta(days=CEI_DAYS)
    period_sales = credit_sales(ledger, start, as_of, policy, fx, as_of)
    begin_total = _company_totals(age_positions(allocate(ledger, start), start, policy, fx))[0]
    return kpis_of(policy.company.currency, total_ar, current_ar, overdue, sales, begin_total, period_sales)


def kpis_of(currency: str, total_ar: Decimal, current_ar: Decimal, overdue: Decimal, sales: Decimal,
            begin_total: Decimal, period_sales: Decimal) -> PortfolioKpis:
    """The KPIs from the book's figures (company currency): net receivables, current and overdue now, credit sales
    of the last ``DSO_DAYS``, net receivables ``CEI_DAYS`` ago and the credit sales since.

    A net credit balance — unapplied cash above what is open — is real (a customer paid ahead) but is no
    receivable to measure days against: DSO, best possible DSO and CEI count it as zero receivables (and
    current receivables never above the total), so a book in credit still gets its KPIs instead of an error.
    """
    total = max(total_ar, ZERO)
    current = min(max(current_ar, ZERO), total)
    begin = max(begin_total, ZERO)
    dso = best = add = cei = None
    if sales > 0:
        dso = dso_simple(total, sales, DSO_DAYS)
        best = best_possible_dso(current, sales, DSO_DAYS)
        add = average_days_delinquent(dso, best)
    if begin + period_sales - current > 0:
        cei = collection_effectiveness_index(begin, period_sales, total, current)
    share = (overdue / total_ar).quantize(Decimal("0.0001")) if total_ar > 0 else None
    return PortfolioKpis(currency, total_ar, overdue, share, sales, dso, best, add, cei)


def _company_totals(ageing: AgeingReport) -> tuple[Decimal, Decimal, Decimal]:
    """(balance, current, overdue) summed over rows convertible to the company currency."""
    total = current = overdue = ZERO
    first = ageing.labels[0]
    for row in ageing.rows:
        if row.balance_company is None or row.buckets_company is None or row.overdue_company is None:
            continue
        total += row.balance_company
        current += row.buckets_company.get(first, ZERO) - (row.unapplied_company or ZERO)
        overdue += row.overdue_company
    return total, current, overdue


def result_rows(portfolio: Portfolio) -> list[dict[str, object]]:
    """One row per customer for the credit database (the fields the Excel functions read)."""
    rows: list[dict[str, object]] = []
    for c in portfolio.customers:
        rows.append({
            "customer_id": c.customer.customer_id,
            "as_of": portfolio.as_of,
            "score": c.score.score,
            "grade": c.score.grade,
            "credit_limit": c.limit.limit,
            "binding_rule": c.limit.binding_rule,
            "limit_reason": c.limit.reason,
            "open_receivables": c.open_receivables,
            "exposure": c.exposure.total,
            "available": c.available,
            "terms": c.terms.label,
            "deposit_share": c.terms.deposit_share,
            "bank_guarantee": c.customer.bank_guarantee,
            "dunning_stage": c.dunning.stage,
            "days_past_due": c.dunning.days_past_due,
            "overdue_amount": c.overdue,
            "explain": [list(r) for r in c.score.as_rows()],
        })
    return rows


def credit_rows(portfolio: Portfolio) -> list[dict[str, object]]:
    """One readable row per customer (the CLI table and the `--out` file of ``xlcredit refresh``): the limit's
    reason and the next order's status in words (``order_status``: "Release" or "Hold: <reasons>")."""
    return [{
        "customer_id": c.customer.customer_id, "name": c.customer.name, "score": c.score.score,
        "grade": c.score.grade, "limit": c.limit.limit, "limit_reason": c.limit.reason,
        "open_receivables": c.open_receivables, "exposure": c.exposure.total, "available": c.available,
        "utilisation": None if c.utilisation is None else c.utilisation.quantize(Decimal("0.0001")),
        "terms": c.terms.label, "deposit_share": c.terms.deposit_share,
        "overdue": c.overdue, "days_past_due": c.dunning.days_past_due, "dunning_stage": c.dunning.stage,
        "next_action": c.dunning.next_action, "next_action_date": c.dunning.next_action_date,
        "order_status": c.order.status,
    } for c in portfolio.customers]


def customer_key(value: Any) -> str:
    """A customer id as typed — text stripped, a whole number without ``.0`` (``1003.0`` → ``"1003"``) — by the
    rule of the cells (:func:`udfs._convert.customer_id`), for the command line and the service."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise XlcError("customer", "is empty", value)
    if isinstance(value, (bool, dt.date)):
        raise XlcError("customer", f"is not a customer id (got {describe(value)})", value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def unknown_customer(key: str) -> XlcError:
    """The one message for a customer id the credit results do not hold (cell, command line and service)."""
    return XlcError("customer", f"unknown customer {key!r} (check the id on the Customers sheet, then run Refresh)",
                    key)


def check_result_order(results: Mapping[str, Mapping[str, Any]], customer_id: str, amount: Any,
                       policy: Policy) -> OrderDecision:
    """ORDER_CHECK: the order check on a customer's credit result as a refresh stored it (:func:`result_rows`).

    The one path of the cell (the credit database or, in remote mode, the service's results), the command line
    (the results of the workbook it assesses) and ``POST /v1/orders/check``, so all three agree: the amount is
    read first (:func:`xlcredit.core.limits.order_amount`), then the customer is looked up; the limit (a manual
    limit when one is set), exposure, grade, days past due, deposit share and bank guarantee come from its row.
    """
    value = order_amount(amount)
    row = results.get(customer_id)
    if row is None:
        raise unknown_customer(customer_id)
    guarantee = row.get("bank_guarantee")
    held = None if guarantee is None else to_decimal(guarantee, "bank_guarantee", allow_negative=False)
    holder = Customer(customer_id, bank_guarantee=held or ZERO)
    for name in ("credit_limit", "exposure", "grade"):
        if row.get(name) is None:
            raise XlcError("customer", f"{customer_id!r} has no {name.replace('_', ' ')} in the credit results "
                           "(see the Refresh problems)", customer_id)
    return check_order(holder, value, row["credit_limit"], row["exposure"], row["grade"], row.get("days_past_due"),
                       policy, deposit_share=row.get("deposit_share"))


def kpi_values(kpis: PortfolioKpis) -> Mapping[str, object]:
    """KPIs keyed as the Dashboard names them (fractions for shares, CEI as a fraction too)."""
    return {
        "currency": kpis.currency,
        "total_ar": kpis.total_ar,
        "overdue_pct": kpis.overdue_share,
        "dso": kpis.dso,
        "best_dso": kpis.best_dso,
        "add": kpis.add,
        "cei": None if kpis.cei is None else kpis.cei / 100,
    }
