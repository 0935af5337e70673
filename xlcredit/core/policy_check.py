"""The policy check: do the credit policy's numbers agree with each other and with the ledger they govern?

Each setting is validated on its own when the policy is loaded (a share within 0–1, grade cut-offs that
rise from E to A, a discount within its minimum and maximum, ladder days that increase). This check looks at
settings *together*, and at the ledger, and says in plain words — with the arithmetic — where they
contradict each other, so a controller learns it before a customer paying on time shows as over its limit:

* **terms against the purchase cap** (grades with open terms): a customer paying exactly on time on Net
  *n* carries *n*/365 of its annual purchases as receivables; the limit's purchase cap must allow at least
  that (error when it does not);
* **the portfolio cap against the receivables carried** (error when the ledger's receivables already exceed
  it; warning above 90 % of it) and the DSO it allows;
* **our revenue** against the ledger's credit sales of the last 12 months (error when the ledger invoiced
  more than the revenue the policy states) and against the monthly cash flow × 12 (warning when they
  differ by more than 25 %);
* **each customer's stated annual purchases** against what it was invoiced in the last 12 months
  (warning beyond ±20 %, customers trading a full year);
* **insurance days** in their order (notify < protracted default ≤ claim deadline; error otherwise) and
  terms texts that can be read.

Pure: the ledger arrives as records, ``as_of`` is an argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from xlcredit.core.ageing import age_ledger
from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import FxRates, Ledger
from xlcredit.core.limits import DAYS_PER_YEAR, terms_share
from xlcredit.core.money import ZERO, round_money
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer

__all__ = ["ERROR", "WARNING", "Finding", "check_policy", "has_errors"]

ERROR, WARNING = "error", "warning"
#: A customer's stated annual purchases may differ this much from its invoiced last 12 months before a warning.
VOLUME_TOLERANCE = Decimal("0.20")
#: Monthly cash flow × 12 may differ this much from the annual revenue before a warning.
CASH_FLOW_TOLERANCE = Decimal("0.25")
#: Receivables above this share of the portfolio cap: a warning (above the whole cap: an error).
PORTFOLIO_WARNING = Decimal("0.9")


@dataclass(frozen=True)
class Finding:
    """One contradiction found: ``level`` error or warning, a stable ``code``, and the sentence a user reads."""

    level: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.message}"


def has_errors(findings: Sequence[Finding]) -> bool:
    """True when any finding is an error (the command exits 1)."""
    return any(f.level == ERROR for f in findings)


def _pct(share: Decimal, places: int = 1) -> str:
    return f"{(share * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)} %"


def _money(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}"


def _share_text(share: Decimal) -> str:
    return f"{(share * 100).normalize():f} %"


# --------------------------------------------------------------------------- settings against each other
def _terms_findings(policy: Policy) -> list[Finding]:
    out: list[Finding] = []
    lim = policy.limits
    for grade in ("A", "B", "C"):
        label = getattr(policy.terms, grade)
        try:
            share = terms_share(grade, policy)
        except XlcError as exc:
            out.append(Finding(ERROR, "terms_unreadable", f"Grade {grade} terms {label!r}: {exc.problem}."))
            continue
        if share is None:   # payment before delivery: nothing is carried
            continue
        net, basis_share = share
        carried = Decimal(net) / DAYS_PER_YEAR
        uplift = lim.grade_a_uplift if grade == "A" else ZERO
        if lim.basis == "terms":
            allowed = max(lim.volume_share, basis_share) * (1 + uplift)
            how = (f"the limit allows {_pct(allowed)} (what is owed on the terms plus "
                   f"{lim.terms_margin_days} days{f', + {_share_text(uplift)} uplift' if uplift else ''})")
        else:
            allowed = lim.volume_share * (1 + uplift)
            how = (f"the limit allows {_pct(allowed)} ({_share_text(lim.volume_share)}"
                   f"{f' + {_share_text(uplift)} uplift' if uplift else ''} of annual purchases)")
        if carried > allowed:
            out.append(Finding(ERROR, "terms_over_limit",
                               f"Grade {grade} terms {label} keep about {_pct(carried)} of a customer's annual "
                               f"purchases outstanding ({net}/365); {how}: every grade-{grade} customer paying on "
                               f"time will be over its limit. Shorten the terms, raise the share, or use the "
                               f"'terms' limit basis."))
    return out


def _insurance_findings(policy: Policy) -> list[Finding]:
    ins = policy.insurance
    if ins.notify_overdue_days < ins.protracted_default_days <= ins.claim_deadline_days:
        return []
    return [Finding(ERROR, "insurance_days",
                    f"Insurance days are out of order: notify the insurer {ins.notify_overdue_days} days after "
                    f"due, protracted default after {ins.protracted_default_days} days, file the claim by "
                    f"{ins.claim_deadline_days} days — each must come after the one before.")]


def _cash_flow_findings(policy: Policy) -> list[Finding]:
    co = policy.company
    if co.annual_revenue <= 0:
        return [Finding(ERROR, "no_revenue", "Our annual revenue is 0: the portfolio cap allows no credit at all.")]
    yearly = co.monthly_cash_flow * 12
    gap = abs(yearly - co.annual_revenue) / co.annual_revenue
    if gap <= CASH_FLOW_TOLERANCE:
        return []
    return [Finding(WARNING, "cash_flow_vs_revenue",
                    f"Monthly cash flow {_money(co.monthly_cash_flow, co.currency)} × 12 = "
                    f"{_money(yearly, co.currency)} is {_pct(gap, 0)} away from the annual revenue "
                    f"{_money(co.annual_revenue, co.currency)}: one of them is out of date (the cash-flow figure "
                    f"caps each customer's limit, the revenue caps all limits together).")]


# --------------------------------------------------------------------------- settings against the ledger
def _ledger_findings(policy: Policy, customers: Sequence[Customer], ledger: Ledger, fx: FxRates | None,
                     as_of: dt.date) -> list[Finding]:
    out: list[Finding] = []
    co, lim = policy.company, policy.limits
    cur = co.currency
    year_ago = as_of - dt.timedelta(days=DAYS_PER_YEAR)

    def company(amount: Decimal, currency: str) -> Decimal | None:
        if currency == cur:
            return amount
        if fx is None:
            return None
        try:
            return round_money(fx.convert(amount, currency, as_of), cur)
        except XlcError:
            return None

    invoiced: dict[str, Decimal] = {}
    sales = ZERO
    for inv in ledger.invoices:
        if year_ago < inv.invoice_date <= as_of:
            value = company(inv.amount, inv.currency)
            if value is None:
                continue
            sales += value
            invoiced[inv.customer_id] = invoiced.get(inv.customer_id, ZERO) + value

    if sales > co.annual_revenue:
        out.append(Finding(ERROR, "sales_over_revenue",
                           f"The ledger invoiced {_money(sales, cur)} on credit in the 12 months to {as_of}, more "
                           f"than our whole annual revenue in the policy, {_money(co.annual_revenue, cur)}: the "
                           f"revenue figure (which caps all limits together) is out of date."))

    totals = age_ledger(ledger, as_of, policy, fx).totals
    if totals is not None:
        receivables = totals.balance
        cap = lim.portfolio_revenue_share * co.annual_revenue
        dso_allowed = (cap / sales * DAYS_PER_YEAR) if sales > 0 else None
        allows = f" (a DSO of about {dso_allowed:.0f} days on these sales)" if dso_allowed is not None else ""
        text = (f"The receivables the ledger carries on {as_of}, {_money(receivables, cur)}, are "
                f"{_pct(receivables / cap) if cap > 0 else 'all'} of the portfolio cap "
                f"{_share_text(lim.portfolio_revenue_share)} × revenue {_money(co.annual_revenue, cur)} = "
                f"{_money(cap, cur)}{allows}")
        if receivables > cap:
            out.append(Finding(ERROR, "receivables_over_portfolio_cap",
                               f"{text}: every limit is cut back and customers paying on time show as over their "
                               f"limit. Raise the share or the revenue figure, or collect."))
        elif receivables > cap * PORTFOLIO_WARNING:
            out.append(Finding(WARNING, "receivables_near_portfolio_cap", f"{text}: little room for new credit."))

    for customer in customers:
        stated = customer.annual_volume
        start = customer.relationship_start
        if stated is None or stated <= 0 or start is None or start > year_ago:
            continue
        actual = invoiced.get(customer.customer_id, ZERO)
        gap = (actual - stated) / stated
        if abs(gap) > VOLUME_TOLERANCE:
            out.append(Finding(WARNING, "volume_mismatch",
                               f"{customer.customer_id} {customer.name}: stated annual purchases "
                               f"{_money(stated, cur)}, invoiced {_money(actual, cur)} in the last 12 months "
                               f"({'+' if gap > 0 else '−'}{_pct(abs(gap), 0)}): its purchase cap is computed on "
                               f"the stated figure."))
    return out


def check_policy(policy: Policy, customers: Sequence[Customer] = (), ledger: Ledger | None = None,
                 fx: FxRates | None = None, as_of: dt.date | None = None) -> tuple[Finding, ...]:
    """Every contradiction between the policy's settings, and (with a ledger and ``as_of``) between the policy
    and the book it governs; errors first."""
    findings = [*_terms_findings(policy), *_insurance_findings(policy), *_cash_flow_findings(policy)]
    if ledger is not None and as_of is not None:
        findings += _ledger_findings(policy, customers, ledger, fx, as_of)
    return tuple(sorted(findings, key=lambda f: f.level != ERROR))
