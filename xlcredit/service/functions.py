"""The Excel function catalogue as batch endpoints: ``POST /v1/functions/<name>`` with ``{"rows": [...]}``.

Each row holds the arguments of one formula (named as in DESIGN.md, e.g. ``LATE_INTEREST(amount,
due_date, as_of, annual_rate, [basis])``) and gets one answer row, in the same order:
``{"value": ...}`` (what the cell would show, plus detail fields for some functions) or
``{"error": "due_date: is empty"}`` — the same words the cell shows after ``#XLC!``. A bad row never
fails the request; the good rows are still computed.

The customer-level functions (``CREDIT_LIMIT(customer)`` …) read the credit database as the last
refresh left it; the others are pure functions of their arguments. Dates may be ISO text
(``2026-10-31``) or Excel serial numbers (``46326``).

This module deliberately has no ``from __future__ import annotations``: FastAPI reads the row
models from the endpoint signatures built at run time.
"""

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from xlcredit.core.ageing import bucket_of
from xlcredit.core.coerce import need_date, to_date_or_none
from xlcredit.core.errors import XlcError, error_words
from xlcredit.core.interest import daily_penalty, days_overdue, late_interest, statutory_interest
from xlcredit.core.kpis import dso_simple
from xlcredit.core.limits import order_amount, recommend_limit
from xlcredit.core.policy import Policy
from xlcredit.core.portfolio import check_result_order, customer_key
from xlcredit.core.scoring import grade_of, score_customer, score_of
from xlcredit.core.terms import early_pay_discount, terms_for
from xlcredit.io.store import CreditStore, to_json_data
from xlcredit.io.tables import CUSTOMER_COLUMNS
from xlcredit.service.models import Cell, Row

log = logging.getLogger("xlcredit.service")


@dataclass
class Context:
    """What a batch may use: the policy in force, the credit database, the reference rates, the date.

    The policy and the results are looked up once, on first use, so a batch sees one policy and one refresh.
    """

    load_policy: Callable[[], Policy]
    store: CreditStore
    today: dt.date
    as_of: dt.date | None = None
    _rates: Any = field(default=None, repr=False)

    @cached_property
    def policy(self) -> Policy:
        return self.load_policy()

    @cached_property
    def results(self) -> Mapping[str, Mapping[str, Any]]:
        """Every credit result of ONE snapshot: a whole batch is answered from the same refresh."""
        return self.store.results_view()[1]

    @cached_property
    def rates(self) -> Any:
        if self._rates is not None:
            return self._rates
        from xlcredit.io.rates import shipped_reference_rates

        return shipped_reference_rates()


@dataclass(frozen=True)
class Function:
    """One formula of the catalogue: its Excel name, argument row, calculation and one-line meaning."""

    name: str
    row: type[BaseModel]
    compute: Callable[[dict[str, Any], Context], dict[str, Any]]
    summary: str
    customer_level: bool = False

    @property
    def path(self) -> str:
        return f"/v1/functions/{self.name.lower()}"


def jsonable(value: Any) -> Any:
    """Answer data for JSON: Decimal → exact text, dates → ISO, records → objects."""
    return to_json_data(value)


def _date(row: Mapping[str, Any], name: str) -> dt.date | None:
    """A date argument, by the one date rule (ISO text, an Excel serial number…); blank → None, left to the
    core to refuse as "is empty" or to take as "not given"."""
    return to_date_or_none(row.get(name), name)


def answer_row(name: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One answer row: the computed values, or ``{"error": ...}`` in the words a cell shows after ``#XLC!``
    (:func:`xlcredit.core.errors.error_words`) — a bad row never fails the batch."""
    try:
        return jsonable(compute())
    except Exception as exc:  # a bug must not fail the other rows of the batch either
        if not isinstance(exc, XlcError):
            log.exception("%s failed on a row", name)
        return {"error": error_words(exc)}


def run_batch(fn: Function, rows: Sequence[BaseModel], ctx: Context) -> list[dict[str, Any]]:
    """Compute every row; a row that cannot be computed becomes ``{"error": ...}`` and the rest go on."""
    return [answer_row(fn.name, lambda v=row.model_dump(): fn.compute(v, ctx)) for row in rows]


# =========================================================================== row models
class DueRow(Row):
    due_date: Cell = None
    as_of: Cell = None


class LateInterestRow(Row):
    amount: Cell = None
    due_date: Cell = None
    as_of: Cell = None
    annual_rate: Cell = None
    basis: Cell = 365
    currency: Cell = "EUR"


class DailyPenaltyRow(Row):
    amount: Cell = None
    due_date: Cell = None
    as_of: Cell = None
    daily_rate: Cell = "0.0005"
    currency: Cell = "EUR"


class StatutoryRow(Row):
    amount: Cell = None
    due_date: Cell = None
    as_of: Cell = None
    regime: Cell = None
    invoices: Cell = 1


class DiscountRow(Row):
    amount: Cell = None
    invoice_date: Cell = None
    pay_date: Cell = None
    terms: Cell = None
    currency: Cell = "EUR"


class ScoreOfRow(Row):
    rating: Cell = None
    debt_ratio: Cell = None
    quick_ratio: Cell = None
    ocf_ratio: Cell = None
    avg_days_late: Cell = None
    years: Cell = None
    items_over_90: Cell = None
    reference: Cell = None
    altman: Cell = None


class GradeOfRow(Row):
    score: Cell = None


class DsoRow(Row):
    receivables: Cell = None
    credit_sales: Cell = None
    days: Cell = None


class CustomerRef(Row):
    customer: Cell = None


class OrderRow(Row):
    customer: Cell = None
    amount: Cell = None


# A full customer record (the documented customers columns) for assessing prospects.
CustomerRecord: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "CustomerRecord", __config__=ConfigDict(extra="forbid"), **{name: (Cell, None) for name in CUSTOMER_COLUMNS})


# =========================================================================== pure functions
def _days_overdue(row: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"value": days_overdue(_date(row, "due_date"), _date(row, "as_of"))}


def _ageing_bucket(row: dict[str, Any], ctx: Context) -> dict[str, Any]:
    due = need_date(_date(row, "due_date"), "due_date")
    day = need_date(_date(row, "as_of"), "as_of")
    return {"value": bucket_of((day - due).days, ctx.policy)}


def _late_interest(row: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"value": late_interest(row["amount"], _date(row, "due_date"), _date(row, "as_of"), row["annual_rate"],
                                   row["basis"], currency=_currency(row))}


def _daily_penalty(row: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"value": daily_penalty(row["amount"], _date(row, "due_date"), _date(row, "as_of"), row["daily_rate"],
                                   currency=_currency(row))}


def _statutory_interest(row: dict[str, Any], ctx: Context) -> dict[str, Any]:
    res = statutory_interest(row["amount"], _date(row, "due_date"), _date(row, "as_of"), row["regime"], ctx.rates,
                             invoices=row["invoices"])
    return {"value": res.total, "interest": res.interest, "compensation": res.compensation, "rate": res.rate,
            "reference_rate": res.reference_rate, "reference_date": res.reference_date, "days": res.days,
            "regime": res.regime, "currency": res.currency, "beyond_table": res.beyond_table}


def _early_pay_discount(row: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"value": early_pay_discount(row["amount"], _date(row, "invoice_date"), _date(row, "pay_date"),
                                        row["terms"], currency=_currency(row))}


def _score_of(row: dict[str, Any], ctx: Context) -> dict[str, Any]:
    res = score_of(row["rating"], row["debt_ratio"], row["quick_ratio"], row["ocf_ratio"], row["avg_days_late"],
                   row["years"], ctx.policy, items_over_90=row["items_over_90"], reference=row["reference"],
                   altman=row["altman"])
    return {"value": res.score, "grade": res.grade, "grade_note": res.grade_note, "factors": res.factors}


def _grade_of(row: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"value": grade_of(row["score"], ctx.policy)}


def _dso(row: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"value": dso_simple(row["receivables"], row["credit_sales"], row["days"])}


def _currency(row: Mapping[str, Any]) -> Any:
    value = row.get("currency")
    return "EUR" if value is None else value


# =========================================================================== customer-level functions
def _customer_result(row: Mapping[str, Any], ctx: Context) -> Mapping[str, Any]:
    ref = row.get("customer")
    if isinstance(ref, float) and ref.is_integer():
        ref = int(ref)
    if ref is None or not str(ref).strip():
        raise XlcError("customer", "is empty")
    found = ctx.results.get(str(ref).strip())
    if found is None:
        raise XlcError("customer", f"{str(ref).strip()} is not in the credit database (refresh it, or check the id)",
                       ref)
    return found


def _from_result(column: str) -> Callable[[dict[str, Any], Context], dict[str, Any]]:
    def compute(row: dict[str, Any], ctx: Context) -> dict[str, Any]:
        found = _customer_result(row, ctx)
        return {"value": found[column], "as_of": found["as_of"]}

    return compute


def _available(row: dict[str, Any], ctx: Context) -> dict[str, Any]:
    found = _customer_result(row, ctx)
    return {"value": found["available"], "credit_limit": found["credit_limit"], "exposure": found["exposure"],
            "as_of": found["as_of"]}


def order_check_answer(customer: Any, amount: Any, ctx: Context) -> dict[str, Any]:
    """ORDER_CHECK on the snapshot's result of the customer, under the policy in force — the amount read first,
    then the customer (:func:`xlcredit.core.portfolio.check_result_order`, as the cell and the command line)."""
    value = order_amount(amount)
    key = customer_key(customer)
    decision = check_result_order(ctx.results, key, value, ctx.policy)
    return {"value": decision.status, "customer_id": key, "amount": value, "currency": ctx.policy.company.currency,
            "decision": decision.decision, "status": decision.status, "reasons": list(decision.reasons),
            "codes": list(decision.codes), "notes": list(decision.notes), "as_of": ctx.results[key].get("as_of")}


def _order_check(row: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return order_check_answer(row.get("customer"), row.get("amount"), ctx)


def _explain(row: dict[str, Any], ctx: Context) -> dict[str, Any]:
    found = _customer_result(row, ctx)
    return {"value": found["explain"] or [], "score": found["score"], "grade": found["grade"], "as_of": found["as_of"]}


CATALOGUE: tuple[Function, ...] = (
    Function("CREDIT_SCORE", CustomerRef, _from_result("score"), "0–100 credit score of the customer",
             customer_level=True),
    Function("CREDIT_GRADE", CustomerRef, _from_result("grade"), 'credit grade "A".."E" of the customer',
             customer_level=True),
    Function("CREDIT_LIMIT", CustomerRef, _from_result("credit_limit"),
             "recommended credit limit after every cap of the policy (or the controller's manual limit)",
             customer_level=True),
    Function("CREDIT_AVAILABLE", CustomerRef, _available, "credit limit − exposure (open receivables + open orders)",
             customer_level=True),
    Function("CREDIT_TERMS", CustomerRef, _from_result("terms"), 'payment terms, e.g. "Net 60", "Prepay"',
             customer_level=True),
    Function("DEPOSIT_REQUIRED", CustomerRef, _from_result("deposit_share"),
             "required deposit share (0.3 = 30 %)", customer_level=True),
    Function("DUNNING_STAGE", CustomerRef, _from_result("dunning_stage"),
             'current dunning ladder step, e.g. "Formal demand"', customer_level=True),
    Function("CREDIT_EXPLAIN", CustomerRef, _explain, "each score factor, its value and its points",
             customer_level=True),
    Function("ORDER_CHECK", OrderRow, _order_check,
             '"Release" or "Hold: <reasons in words>" for an order of that amount', customer_level=True),
    Function("DAYS_OVERDUE", DueRow, _days_overdue, "max(0, as_of − due_date) in calendar days"),
    Function("AGEING_BUCKET", DueRow, _ageing_bucket, 'ageing bucket under the policy ("Current", "1-30", …)'),
    Function("LATE_INTEREST", LateInterestRow, _late_interest,
             "simple interest for the days overdue: amount × annual_rate × days / basis"),
    Function("DAILY_PENALTY", DailyPenaltyRow, _daily_penalty, "per-day late fee: amount × daily_rate × days"),
    Function("STATUTORY_INTEREST", StatutoryRow, _statutory_interest,
             "statutory late-payment interest plus fixed compensation (UK Late Payment Act, EU Directive 2011/7)"),
    Function("EARLY_PAY_DISCOUNT", DiscountRow, _early_pay_discount, 'discount earned under terms like "2/10 net 30"'),
    Function("SCORE_OF", ScoreOfRow, _score_of, "the scorecard on explicit inputs"),
    Function("GRADE_OF", GradeOfRow, _grade_of, "grade for a score"),
    Function("DSO", DsoRow, _dso, "simple DSO: receivables ÷ credit sales × days"),
)


# =========================================================================== assessing customer records
def customers_from_records(records: Sequence[BaseModel], policy: Policy
                           ) -> tuple[dict[int, Any], dict[int, str]]:
    """Customer records (rows of the documented customers columns) → ``Customer`` per row index, or a problem.

    Read by the same reader as the customers table (:func:`xlcredit.io.tables.read_customers`), so a
    JSON row is checked exactly like a spreadsheet row.
    """
    import pandas as pd

    from xlcredit.io.tables import read_customers

    frame = pd.DataFrame([r.model_dump() for r in records], columns=list(CUSTOMER_COLUMNS), dtype=object)
    table = read_customers(frame, default_currency=policy.company.currency)
    problems: dict[int, list[str]] = {}
    for p in table.problems:
        problems.setdefault(p.row - 2, []).append(f"{p.column}: {p.problem}")
    good = {table.rows[c.customer_id] - 2: c for c in table.customers}
    return good, {i: "; ".join(msgs) for i, msgs in problems.items()}


def _each_customer(records: Sequence[BaseModel], ctx: Context, name: str,
                   compute: Callable[[Any, Any], dict[str, Any]]) -> list[dict[str, Any]]:
    """Answer one row per customer record: a bad record is its own ``error`` row, the others are computed."""
    day = ctx.as_of or ctx.today
    good, problems = customers_from_records(records, ctx.policy)
    out: list[dict[str, Any]] = []
    for i in range(len(records)):
        if i in problems or i not in good:
            out.append({"error": problems.get(i, "customer_id: is empty")})
            continue
        out.append(answer_row(name, lambda customer=good[i]: compute(customer, day)))
    return out


def score_records(records: Sequence[BaseModel], ctx: Context) -> list[dict[str, Any]]:
    """Score each customer record: ``value`` = score, with grade, grade note and the factor lines."""
    def compute(customer: Any, day: Any) -> dict[str, Any]:
        res = score_customer(customer, ctx.policy, day)
        return {"value": res.score, "customer_id": customer.customer_id, "grade": res.grade,
                "grade_note": res.grade_note, "factors": res.factors, "as_of": day}

    return _each_customer(records, ctx, "score", compute)


def limit_records(records: Sequence[BaseModel], ctx: Context) -> list[dict[str, Any]]:
    """Score, limit, terms and deposit of each customer record (single-customer caps; no portfolio cap)."""
    def compute(customer: Any, day: Any) -> dict[str, Any]:
        res = score_customer(customer, ctx.policy, day)
        limit = recommend_limit(customer, res.grade, ctx.policy, day)
        terms = terms_for(customer, res.grade, ctx.policy, day)
        return {"value": limit.limit, "customer_id": customer.customer_id, "score": res.score,
                "grade": res.grade, "binding_rule": limit.binding_rule, "limit_reason": limit.reason,
                "caps": limit.caps,
                "terms": terms.label, "deposit_share": terms.deposit_share, "note": terms.note, "as_of": day}

    return _each_customer(records, ctx, "limits", compute)
