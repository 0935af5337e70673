"""xlcredit's Excel formulas (classic xlwings UDFs; the workbook's xlwings.conf names this module in
"UDF Modules" as ``udfs.functions``).

Each Python function is the formula of the same name in capitals (``credit_limit`` is ``=CREDIT_LIMIT``)
and can be called from Python as well. Each is a few lines: convert the cells, call the core, convert the
result back (:mod:`udfs._convert`); each pure formula is described once as a :class:`udfs._pure.Pure`.
The docstrings and ``@xw.arg(..., doc=...)`` texts are what Excel's
function help shows (Excel keeps 255 characters of each).

Customer-level formulas — CREDIT_SCORE, CREDIT_GRADE, CREDIT_LIMIT, CREDIT_AVAILABLE, CREDIT_TERMS,
DEPOSIT_REQUIRED, DUNNING_STAGE, CREDIT_EXPLAIN, ORDER_CHECK — read the credit database as the last Refresh left it
(where it is found and how it is kept fresh: :mod:`udfs._convert`). An unknown customer shows
``#XLC! customer: unknown customer 'C999' (run Refresh?)``; a database without results
``#XLC! database: … run Refresh first``.

The other formulas are pure functions of their arguments. AGEING_BUCKET, SCORE_OF and GRADE_OF follow the
credit policy in force: the policy stored in the credit database by the last Refresh when there is a
database, otherwise the shipped defaults (``xlcredit/data/policy.toml``) — so the formulas age, score and
grade exactly as the Refresh did. STATUTORY_INTEREST uses the shipped Bank of England / ECB reference-rate
tables; its result is in GBP for the UK regime and in EUR for the EU regime.

Money: every amount is computed exactly in ``Decimal`` and rounded once by the core (half up to the cent);
it reaches Excel as a ``float`` only because Excel cells hold floats. Rates are fractions (8 % is 0.08).

UDF remote mode (``XLCREDIT_SERVER_URL`` on the workbook's xlwings.conf sheet, see :mod:`udfs._remote`): the
customer-level formulas read the team service's results, and the pure formulas are computed by the service
under its policy — a spilled column as one request — with the same answers and ``#XLC!`` texts
(:mod:`udfs._pure`).

Columns: DAYS_OVERDUE, AGEING_BUCKET, LATE_INTEREST and DAILY_PENALTY take a column range for any argument
(``=LATE_INTEREST(B2:B500, C2:C500, $F$1, 0.08)``) and return one result per row, which dynamic-array
Excel spills downwards; single cells are used on every row, and a bad row shows its own ``#XLC!`` text.
These arguments are declared ``ndim=2`` so xlwings always passes a range as a list of rows. No
``@xw.ret(expand=...)`` is used: that is xlwings' workaround for Excel versions without dynamic arrays,
which spill a returned list natively.

Dates: arguments are declared ``@xw.arg(name, dates=dt.date)``, so date cells arrive as dates while
serial numbers and text arrive untouched and are read defensively (:func:`udfs._convert.date_in`).
Converting with ``@xw.arg(name, dt.date)`` instead would fail inside xlwings, before this code runs, on
an empty cell, a text cell or a range — the cell would show xlwings' own error, not ``#XLC!``.

Errors: every argument is declared ``err_to_str=True``, so a source cell showing ``#N/A`` arrives as the
text "#N/A" and the formula answers ``#XLC! <argument>: source cell shows #N/A``. Nothing raises into
Excel (:func:`udfs._convert.excel_errors`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import xlwings as xw

from udfs._convert import (
    Cell,
    customer_id,
    customer_result,
    excel_errors,
    explain_table,
    money_out,
    result_field,
    results_and_policy,
    to_cell,
    value_in,
)
from udfs._pure import Pure, date, optional_arg, value
from xlcredit.core import ageing as _ageing
from xlcredit.core import interest as _interest
from xlcredit.core import kpis as _kpis
from xlcredit.core import scoring as _scoring
from xlcredit.core import terms as _terms
from xlcredit.core.limits import order_amount
from xlcredit.core.portfolio import check_result_order
from xlcredit.io.rates import shipped_reference_rates

__all__ = [
    "ageing_bucket", "credit_available", "credit_explain", "credit_grade", "credit_limit", "credit_score",
    "credit_terms", "daily_penalty", "days_overdue", "deposit_required", "dso", "dunning_stage",
    "early_pay_discount", "grade_of", "late_interest", "order_check", "score_of", "statutory_interest",
]

#: Function Wizard category of every formula.
CATEGORY = "xlcredit"
#: What DUNNING_STAGE shows when no step of the ladder is reached.
NOT_IN_DUNNING = "Not in dunning"

# xlwings argument options: Excel errors as text; date cells as dates; ranges always as lists of rows.
CELL: dict[str, Any] = {"err_to_str": True}
DATE: dict[str, Any] = {"err_to_str": True, "dates": dt.date}
COLUMN: dict[str, Any] = {"err_to_str": True, "ndim": 2}
DATE_COLUMN: dict[str, Any] = {"err_to_str": True, "dates": dt.date, "ndim": 2}

_CUSTOMER = "Customer id as on the Customers sheet, e.g. C1001"
_DUE = "Due date of the invoice (a date cell, or a column of them)"
_AS_OF = "Date to measure at, e.g. the statement date or TODAY() (a date cell, or a column)"
_AMOUNT = "Overdue amount of the invoice (or a column of amounts)"
_MISSING = "; blank = not known (the factor's missing-data points)"


# =========================================================================== customer-level (credit database)
@xw.func(category=CATEGORY)
@xw.arg("customer", doc=_CUSTOMER, **CELL)
@excel_errors
def credit_score(customer: Cell) -> Cell:
    """Credit score 0-100 of the customer from the last Refresh: the sum of its scorecard points (see
    CREDIT_EXPLAIN)."""
    return int(result_field(customer, "score", "credit score"))


@xw.func(category=CATEGORY)
@xw.arg("customer", doc=_CUSTOMER, **CELL)
@excel_errors
def credit_grade(customer: Cell) -> Cell:
    """Credit grade of the customer from the last Refresh: A (best) to E (cash in advance)."""
    return str(result_field(customer, "grade", "credit grade"))


@xw.func(category=CATEGORY)
@xw.arg("customer", doc=_CUSTOMER, **CELL)
@excel_errors
def credit_limit(customer: Cell) -> Cell:
    """Credit limit of the customer in company currency: the recommended limit after every cap of the credit
    policy, or the controller's manual limit, as of the last Refresh."""
    return money_out(result_field(customer, "credit_limit", "credit limit"))


@xw.func(category=CATEGORY)
@xw.arg("customer", doc=_CUSTOMER, **CELL)
@excel_errors
def credit_available(customer: Cell) -> Cell:
    """Credit still available to the customer: credit limit minus exposure (open receivables and open orders),
    as of the last Refresh. Negative means over the limit."""
    return money_out(result_field(customer, "available", "available credit"))


@xw.func(category=CATEGORY)
@xw.arg("customer", doc=_CUSTOMER, **CELL)
@excel_errors
def credit_terms(customer: Cell) -> Cell:
    """Payment terms the customer trades on under its grade, e.g. "Net 60" or "Prepay", as of the last Refresh."""
    return str(result_field(customer, "terms", "payment terms"))


@xw.func(category=CATEGORY)
@xw.arg("customer", doc=_CUSTOMER, **CELL)
@excel_errors
def deposit_required(customer: Cell) -> Cell:
    """Share of each order the customer must pay up front: 0.3 = 30 % deposit, 1 = prepayment, 0 = none."""
    return to_cell(result_field(customer, "deposit_share", "deposit share"))


@xw.func(category=CATEGORY)
@xw.arg("customer", doc=_CUSTOMER, **CELL)
@excel_errors
def dunning_stage(customer: Cell) -> Cell:
    """Step of the dunning ladder the customer has reached, e.g. "Formal demand", set by its oldest overdue
    undisputed invoice; "Not in dunning" when no step is reached."""
    _, row = customer_result(customer)
    return str(row.get("dunning_stage") or NOT_IN_DUNNING)


@xw.func(category=CATEGORY)
@xw.arg("customer", doc=_CUSTOMER, **CELL)
@excel_errors
def credit_explain(customer: Cell) -> Cell:
    """Why the customer has its score: a table of each scorecard factor, its value, the bin it fell in and its
    points, then the total and grade. Spills into 4 columns."""
    key, row = customer_result(customer)
    return explain_table(key, row)


@xw.func(category=CATEGORY)
@xw.arg("customer", doc=_CUSTOMER, **CELL)
@xw.arg("amount", doc="Amount of the new order in company currency; 0 asks whether the next order would be held",
        **CELL)
@excel_errors
def order_check(customer: Cell, amount: Cell) -> Cell:
    """Credit check on a new order of that amount, as of the last Refresh: "Release", or "Hold: " and every reason
    in words (over the limit after the order, items overdue at the order stop, prepayment grade, deposit due)."""
    value = order_amount(value_in(amount, "amount"))
    key = customer_id(customer)
    results, policy = results_and_policy()
    return check_result_order(results, key, value, policy).status


# =========================================================================== pure: days, buckets, interest
# Each pure formula is described once (udfs._pure.Pure) and computed in process or, in UDF remote mode, by the
# team service — a spilled column as one request.
DAYS_OVERDUE = Pure("DAYS_OVERDUE", (date("due_date"), date("as_of")), _interest.days_overdue, columns=True)
AGEING_BUCKET = Pure("AGEING_BUCKET", (date("due_date"), date("as_of")),
                     lambda due, as_of, policy: _ageing.bucket_of((as_of - due).days, policy),
                     columns=True, uses_policy=True)
LATE_INTEREST = Pure("LATE_INTEREST", (value("amount"), date("due_date"), date("as_of"), value("annual_rate"),
                                       optional_arg("basis", 365)), _interest.late_interest, columns=True, decimal=True)
DAILY_PENALTY = Pure("DAILY_PENALTY", (value("amount"), date("due_date"), date("as_of"),
                                       optional_arg("daily_rate", _interest.DEFAULT_DAILY_PENALTY)),
                     _interest.daily_penalty, columns=True, decimal=True)
STATUTORY_INTEREST = Pure("STATUTORY_INTEREST", (value("amount"), date("due_date"), date("as_of"), value("regime")),
                          lambda amount, due, as_of, regime: _interest.statutory_interest(
                              amount, due, as_of, regime, shipped_reference_rates()).total, decimal=True)
EARLY_PAY_DISCOUNT = Pure("EARLY_PAY_DISCOUNT", (value("amount"), date("invoice_date"), date("pay_date"),
                                                 value("terms")), _terms.early_pay_discount, decimal=True)
SCORE_OF = Pure("SCORE_OF", tuple(value(n) for n in ("rating", "debt_ratio", "quick_ratio", "ocf_ratio",
                                                     "avg_days_late", "years")),
                lambda *figures, policy: _scoring.score_of(*figures, policy).score, uses_policy=True)
GRADE_OF = Pure("GRADE_OF", (value("score"),), _scoring.grade_of, uses_policy=True)
DSO = Pure("DSO", (value("receivables"), value("credit_sales"), value("days")), _kpis.dso_simple, decimal=True)


@xw.func(category=CATEGORY)
@xw.arg("due_date", doc=_DUE, **DATE_COLUMN)
@xw.arg("as_of", doc=_AS_OF, **DATE_COLUMN)
@excel_errors
def days_overdue(due_date: Cell, as_of: Cell) -> Cell:
    """Calendar days past the due date at as_of; 0 when not yet due. Give columns to get one result per row."""
    return DAYS_OVERDUE(due_date, as_of)


@xw.func(category=CATEGORY)
@xw.arg("due_date", doc=_DUE, **DATE_COLUMN)
@xw.arg("as_of", doc=_AS_OF, **DATE_COLUMN)
@excel_errors
def ageing_bucket(due_date: Cell, as_of: Cell) -> Cell:
    """Ageing bucket of an invoice at as_of: "Current", "1-30", "31-60", ... "180+" days past due, by the credit
    policy's buckets. Give columns to get one result per row."""
    return AGEING_BUCKET(due_date, as_of)


@xw.func(category=CATEGORY)
@xw.arg("amount", doc=_AMOUNT, **COLUMN)
@xw.arg("due_date", doc=_DUE, **DATE_COLUMN)
@xw.arg("as_of", doc=_AS_OF, **DATE_COLUMN)
@xw.arg("annual_rate", doc="Annual interest rate as a fraction: 8 % is 0.08", **COLUMN)
@xw.arg("basis", doc="Day count: 365 (the default) or 360", **COLUMN)
@excel_errors
def late_interest(amount: Cell, due_date: Cell, as_of: Cell, annual_rate: Cell, basis: Cell = 365) -> Cell:
    """Simple late interest for the days overdue: amount x annual_rate x days / basis, rounded to the cent;
    0 when not yet due. Give columns to get one result per row."""
    return LATE_INTEREST(amount, due_date, as_of, annual_rate, basis)


@xw.func(category=CATEGORY)
@xw.arg("amount", doc=_AMOUNT, **COLUMN)
@xw.arg("due_date", doc=_DUE, **DATE_COLUMN)
@xw.arg("as_of", doc=_AS_OF, **DATE_COLUMN)
@xw.arg("daily_rate", doc="Late fee per day as a fraction: 0.05 % a day is 0.0005 (the default)", **COLUMN)
@excel_errors
def daily_penalty(amount: Cell, due_date: Cell, as_of: Cell, daily_rate: Cell = 0.0005) -> Cell:
    """Contractual late fee: amount x daily_rate x days overdue, rounded to the cent (0.05 % a day is usual in
    Chinese contracts); 0 when not yet due. Give columns to get one result per row."""
    return DAILY_PENALTY(amount, due_date, as_of, daily_rate)


@xw.func(category=CATEGORY)
@xw.arg("amount", doc="Amount of the overdue invoice (GBP for UK, EUR for EU)", **CELL)
@xw.arg("due_date", doc="Agreed payment date of the invoice", **DATE)
@xw.arg("as_of", doc="Date up to which interest is claimed, e.g. the payment date or TODAY()", **DATE)
@xw.arg("regime", doc="UK (Late Payment of Commercial Debts Act 1998) or EU (Directive 2011/7/EU)", **CELL)
@excel_errors
def statutory_interest(amount: Cell, due_date: Cell, as_of: Cell, regime: Cell) -> Cell:
    """Statutory late-payment interest plus fixed compensation. UK: base rate + 8 % and 40/70/100 GBP; EU: ECB
    rate + 8 points and 40 EUR. Uses the shipped reference-rate tables; 0 when not yet due."""
    return STATUTORY_INTEREST(amount, due_date, as_of, regime)


@xw.func(category=CATEGORY)
@xw.arg("amount", doc="Invoice amount", **CELL)
@xw.arg("invoice_date", doc="Invoice date (day 0 of the discount period)", **DATE)
@xw.arg("pay_date", doc="Date the customer paid (or will pay)", **DATE)
@xw.arg("terms", doc='Early-payment terms, e.g. "2/10 net 30" (2 % off if paid within 10 days)', **CELL)
@excel_errors
def early_pay_discount(amount: Cell, invoice_date: Cell, pay_date: Cell, terms: Cell) -> Cell:
    """Early-payment discount earned on an invoice paid on pay_date under terms like "2/10 net 30" (the 10th day
    still counts), rounded to the cent; 0 when paid later or under plain net terms."""
    return EARLY_PAY_DISCOUNT(amount, invoice_date, pay_date, terms)


# =========================================================================== pure: scorecard and KPIs
@xw.func(category=CATEGORY)
@xw.arg("rating", doc="Third-party rating 0-100 (PAYDEX-like: 80 = pays on time)" + _MISSING, **CELL)
@xw.arg("debt_ratio", doc="Total liabilities / total assets" + _MISSING, **CELL)
@xw.arg("quick_ratio", doc="(Current assets - inventory) / current liabilities" + _MISSING, **CELL)
@xw.arg("ocf_ratio", doc="Operating cash flow / current liabilities" + _MISSING, **CELL)
@xw.arg("avg_days_late", doc="Average days paid beyond terms, weighted by amount" + _MISSING, **CELL)
@xw.arg("years", doc="Years of trading relationship with us" + _MISSING, **CELL)
@excel_errors
def score_of(rating: Cell, debt_ratio: Cell, quick_ratio: Cell, ocf_ratio: Cell, avg_days_late: Cell,
             years: Cell) -> Cell:
    """Credit score 0-100 from the figures given, by the scorecard of the credit policy in force; a blank
    figure earns that factor's missing-data points."""
    return SCORE_OF(rating, debt_ratio, quick_ratio, ocf_ratio, avg_days_late, years)


@xw.func(category=CATEGORY)
@xw.arg("score", doc="Credit score 0-100", **CELL)
@excel_errors
def grade_of(score: Cell) -> Cell:
    """Credit grade A (best) to E for a score, by the cut-offs of the credit policy in force."""
    return GRADE_OF(score)


@xw.func(category=CATEGORY)
@xw.arg("receivables", doc="Trade receivables at the end of the period", **CELL)
@xw.arg("credit_sales", doc="Credit sales of the period", **CELL)
@xw.arg("days", doc="Days in the period, e.g. 90 for a quarter, 365 for a year", **CELL)
@excel_errors
def dso(receivables: Cell, credit_sales: Cell, days: Cell) -> Cell:
    """Days sales outstanding (simple): receivables / credit sales of the period x days in the period, to two
    decimals."""
    return DSO(receivables, credit_sales, days)
