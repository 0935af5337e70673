"""The credit scorecard: a 0–100 score, a grade A–E and a line-by-line explanation.

Each factor of the policy (``policy.score[name]``) turns one input into points by its bins:

* higher is better (rating, quick ratio, …): the bins are scanned best first and the first bin whose
  threshold is **≤ the input** earns its points;
* lower is better (debt-to-assets ratio, days beyond terms, …): the first bin whose threshold is
  **≥ the input** earns its points;
* an input beyond every bin earns the factor's ``floor_points``;
* a **missing** input (blank) earns the factor's ``missing_points`` — never a silent zero. How that
  compares with the factor's maximum is named on the explanation line (see :func:`missing_treatment`):
  "penalty" (less than half the factor's maximum), "neutral" (at least half) or "full points".

The score is the sum of the points of the enabled factors (the policy makes their maxima add up to
100), so the explanation lines always add up exactly to the score. The grade comes from the policy's
cut-offs; grade A additionally needs ``grades.A_min_years`` years of relationship and a clean payment
record (no item paid more than ``grades.A_overdue_tolerance_days`` days late, nothing overdue now, and
some payment history at all) — otherwise the customer is held at B and ``grade_note`` says why.

The optional Altman Z″-score factor follows Altman, E. I. (2000), "Predicting Financial Distress of
Companies: Revisiting the Z-Score and ZETA® Models", NYU Stern working paper — the Z″ model for
non-manufacturers and private firms (first published in Altman, Hartzell & Peck, 1995).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from xlcredit.core.coerce import need_date
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.money import to_decimal
from xlcredit.core.policy import Policy, ScoreFactor
from xlcredit.core.records import Customer, Financials

__all__ = [
    "ALTMAN_DISTRESS_BELOW",
    "ALTMAN_SAFE_ABOVE",
    "EXPLAIN_HEADER",
    "FACTOR_LABELS",
    "AltmanResult",
    "FactorLine",
    "ScoreResult",
    "altman_z2",
    "altman_zone",
    "grade_of",
    "missing_treatment",
    "score_customer",
    "score_of",
]

#: Factor keys in the order the explanation lists them, with the words a finance user reads.
FACTOR_LABELS: dict[str, str] = {
    "rating": "Third-party rating",
    "debt_ratio": "Debt-to-assets ratio",
    "quick_ratio": "Quick ratio",
    "ocf_ratio": "Operating cash flow / current liabilities",
    "avg_days_late": "Average days beyond terms",
    "items_over_90": "Items paid over 90 days late",
    "years": "Years of relationship",
    "reference": "Reference check",
    "altman": "Altman Z″-score",
}

#: Decimals an input is shown with (more are shown when rounding would move it into another bin).
_DECIMALS: dict[str, int] = {"rating": 1, "debt_ratio": 2, "quick_ratio": 2, "ocf_ratio": 2,
                             "avg_days_late": 1, "items_over_90": 0, "years": 2, "reference": 0, "altman": 2}

#: Column heads of the CREDIT_EXPLAIN table (the rows come from :meth:`ScoreResult.as_rows`).
EXPLAIN_HEADER: tuple[str, str, str, str] = ("Factor", "Value", "Bin", "Points")

_REFERENCE_WORDS = {1: "positive (1)", 0: "neutral (0)", -1: "negative (-1)"}
_MISSING_TEXT = "(missing)"

#: Altman Z″ zones (Altman 2000): Z″ > 2.60 safe, 1.10 ≤ Z″ ≤ 2.60 grey, Z″ < 1.10 distress.
ALTMAN_SAFE_ABOVE = Decimal("2.60")
ALTMAN_DISTRESS_BELOW = Decimal("1.10")


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class FactorLine:
    """One line of the explanation: a factor, its input as shown, the bin it fell in and its points.

    ``treatment`` is "bin" (the input fell in a bin), "floor" (beyond every bin), or for a blank input
    "missing: penalty", "missing: neutral" or "missing: full points" (see :func:`missing_treatment`).
    ``input`` is the exact number scored (None when missing).
    """

    factor: str
    label: str
    value: str
    bin: str
    points: int
    max_points: int
    treatment: str
    input: Decimal | None = None


@dataclass(frozen=True)
class ScoreResult:
    """The scorecard's answer: ``score`` 0–100, ``grade`` "A".."E", the factor lines, and a note on the grade.

    ``grade_note`` is empty unless something needs saying (e.g. "A by score, held at B: 1.4 years of
    relationship, grade A needs 2"). The factors' points add up exactly to ``score``.
    """

    score: int
    grade: str
    factors: tuple[FactorLine, ...]
    grade_note: str = ""

    def as_rows(self) -> list[tuple[str, str, str, int]]:
        """The CREDIT_EXPLAIN table: (factor, value, bin, points) per factor, then a total row.

        The total row reads ``("Total score", "", "Grade B", 72)``; :data:`EXPLAIN_HEADER` gives the heads.
        """
        rows = [(f.label, f.value, f.bin, f.points) for f in self.factors]
        rows.append(("Total score", "", f"Grade {self.grade}", self.score))
        return rows


@dataclass(frozen=True)
class AltmanResult:
    """Altman Z″-score with its zone ("safe", "grey" or "distress") and the four ratios behind it.

    x1 = working capital / total assets, x2 = retained earnings / total assets, x3 = EBIT / total assets,
    x4 = book equity / total liabilities; z = 6.56·x1 + 3.26·x2 + 6.72·x3 + 1.05·x4 (Altman 2000).
    """

    z: float
    zone: str
    x1: Decimal
    x2: Decimal
    x3: Decimal
    x4: Decimal


# --------------------------------------------------------------------------- Altman Z″
def altman_zone(z: Any) -> str:
    """Zone of a Z″-score (Altman 2000): above 2.60 "safe", 1.10 to 2.60 "grey", below 1.10 "distress"."""
    value = to_decimal(z, "altman")
    assert value is not None
    if value > ALTMAN_SAFE_ABOVE:
        return "safe"
    if value < ALTMAN_DISTRESS_BELOW:
        return "distress"
    return "grey"


def altman_z2(financials: Financials) -> AltmanResult | None:
    """Altman Z″-score (non-manufacturer / private-firm model) from the latest statements.

    Z″ = 6.56·X1 + 3.26·X2 + 6.72·X3 + 1.05·X4 with X1 = (current assets − current liabilities) /
    total assets, X2 = retained earnings / total assets, X3 = EBIT / total assets, X4 = (total assets −
    total liabilities) / total liabilities — Altman (2000), "Predicting Financial Distress of Companies:
    Revisiting the Z-Score and ZETA® Models". Returns **None** when any of the six figures is blank (the
    scorecard then gives the factor its missing points); a zero total assets or total liabilities
    raises :class:`XlcError` naming that field. Computed exactly in Decimal; the zone is taken from the
    exact value, ``z`` is reported as a float.
    """
    f = financials
    needed = (f.total_assets, f.total_liabilities, f.current_assets, f.current_liabilities,
              f.retained_earnings, f.ebit)
    if any(v is None for v in needed):
        return None
    assert f.total_assets is not None and f.total_liabilities is not None and f.current_assets is not None
    assert f.current_liabilities is not None and f.retained_earnings is not None and f.ebit is not None
    if f.total_assets == 0:
        raise XlcError("total_assets", "is zero, so the Altman Z″-score cannot be computed", f.total_assets)
    if f.total_liabilities == 0:
        raise XlcError("total_liabilities", "is zero, so the Altman Z″-score (equity / liabilities) cannot be "
                       "computed", f.total_liabilities)
    ta = f.total_assets
    x1 = (f.current_assets - f.current_liabilities) / ta
    x2 = f.retained_earnings / ta
    x3 = f.ebit / ta
    x4 = (ta - f.total_liabilities) / f.total_liabilities
    z = _z2(x1, x2, x3, x4)
    return AltmanResult(float(z), altman_zone(z), x1, x2, x3, x4)


def _z2(x1: Decimal, x2: Decimal, x3: Decimal, x4: Decimal) -> Decimal:
    """Z″ = 6.56·X1 + 3.26·X2 + 6.72·X3 + 1.05·X4, exactly (Altman 2000)."""
    return Decimal("6.56") * x1 + Decimal("3.26") * x2 + Decimal("6.72") * x3 + Decimal("1.05") * x4


# --------------------------------------------------------------------------- bins and points
def _bin_index(factor: ScoreFactor, x: Decimal) -> int | None:
    """Index of the bin the input falls in (best first), None when beyond every bin."""
    for i, (threshold, _) in enumerate(factor.bins):
        if (x >= threshold) if factor.higher_is_better else (x <= threshold):
            return i
    return None


def _num(d: Decimal) -> str:
    """Plain decimal text without trailing zeros or exponent: 0.50 → "0.5", 80 → "80"."""
    if d == 0:
        return "0"
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def missing_treatment(factor: ScoreFactor) -> str:
    """How a blank input is treated: "full points", "neutral" (≥ half the maximum) or "penalty" (< half)."""
    best = factor.max_points
    if factor.missing_points >= best:
        return "full points"
    if 2 * factor.missing_points >= best:
        return "neutral"
    return "penalty"


def _bin_text(factor: ScoreFactor, index: int | None) -> str:
    if index is None:
        last = _num(factor.bins[-1][0])
        return f"< {last}" if factor.higher_is_better else f"> {last}"
    threshold = _num(factor.bins[index][0])
    return f"≥ {threshold}" if factor.higher_is_better else f"≤ {threshold}"


def _shown(name: str, factor: ScoreFactor, x: Decimal) -> str:
    """The input as a user reads it, rounded — but never so far that it appears to sit in another bin."""
    if name == "reference":
        return _REFERENCE_WORDS.get(int(x), _num(x))
    index = _bin_index(factor, x)
    text = _num(x)
    try:
        for d in range(_DECIMALS.get(name, 2), 12):
            r = x.quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP)
            if _bin_index(factor, r) == index:
                text = _num(r)
                break
    except InvalidOperation:  # too many digits to round (an absurdly large input): show it whole
        pass
    if name == "altman":
        text += f" ({altman_zone(x)})"
    return text


def _line(name: str, factor: ScoreFactor, x: Decimal | None) -> FactorLine:
    label = FACTOR_LABELS[name]
    if x is None:
        treatment = missing_treatment(factor)
        return FactorLine(name, label, _MISSING_TEXT, f"missing: {treatment}", factor.missing_points,
                          factor.max_points, f"missing: {treatment}", None)
    index = _bin_index(factor, x)
    points = factor.floor_points if index is None else factor.bins[index][1]
    return FactorLine(name, label, _shown(name, factor, x), _bin_text(factor, index), points, factor.max_points,
                      "floor" if index is None else "bin", x)


def _score(inputs: Mapping[str, Decimal | None], policy: Policy) -> tuple[int, tuple[FactorLine, ...]]:
    """Points of every enabled factor of the policy, in the explanation's order, and their sum."""
    unknown = [n for n, f in policy.score.items() if f.enabled and n not in FACTOR_LABELS]
    if unknown:
        raise XlcError(f"score.{unknown[0]}", f"is not a factor the scorecard knows (known: "
                       f"{', '.join(FACTOR_LABELS)})", unknown[0])
    lines = tuple(_line(name, policy.score[name], inputs.get(name))
                  for name in FACTOR_LABELS if name in policy.score and policy.score[name].enabled)
    return sum(line.points for line in lines), lines


# --------------------------------------------------------------------------- grade
def _years_text(years: Decimal) -> str:
    text = _num(years)
    return f"{text} year" if years == 1 else f"{text} years"


def _allowance(policy: Policy) -> str:
    tol = policy.grades.A_overdue_tolerance_days
    return "grade A allows none" if tol == 0 else f"grade A allows up to {tol} days"


def _days_text(days: Any) -> str:
    return "1 day" if days == 1 else f"{_num(Decimal(str(days)))} days"


def _held(reasons: list[str]) -> tuple[str, str]:
    """Grade A by score that misses one of A's other conditions is held at B, with the reasons."""
    return "B", f"A by score, held at B: {'; '.join(reasons)}"


def _years_reason(years: Decimal | None, policy: Policy) -> str | None:
    need = policy.grades.A_min_years
    if years is None:
        return f"years of relationship not given, grade A needs {_num(need)}"
    if years < need:
        return f"{_years_text(years)} of relationship, grade A needs {_num(need)}"
    return None


def _grade_customer(score: int, customer: Customer, years: Decimal, policy: Policy) -> tuple[str, str]:
    grade = policy.grade_for(score)
    if grade != "A":
        return grade, ""
    tol = policy.grades.A_overdue_tolerance_days
    h = customer.history
    reasons: list[str] = []
    reason = _years_reason(years, policy)
    if reason:
        reasons.append(reason)
    no_history = h.avg_days_late is None and h.max_days_late is None and h.items_over_90 is None
    if no_history and not h.overdue_now:
        reasons.append("no payment history yet, grade A needs a record of paying on time")
    elif h.max_days_late is not None:
        if h.max_days_late > tol:
            reasons.append(f"an item was paid {_days_text(h.max_days_late)} late, {_allowance(policy)}")
    elif h.items_over_90 and tol <= 90:
        reasons.append(f"{h.items_over_90} item{'s' if h.items_over_90 != 1 else ''} paid over 90 days late, "
                       f"{_allowance(policy)}")
    elif h.avg_days_late is not None and h.avg_days_late > tol:
        reasons.append(f"paid on average {_days_text(_round1(h.avg_days_late))} late, {_allowance(policy)}")
    elif not no_history:
        reasons.append("the worst late payment is not known, grade A needs it to check the payment record")
    if h.overdue_now:
        reasons.append("an item is overdue now, grade A needs none")
    return _held(reasons) if reasons else (grade, "")


def _round1(value: Any) -> Decimal:
    return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _grade_explicit(score: int, inputs: Mapping[str, Decimal | None], policy: Policy) -> tuple[str, str]:
    grade = policy.grade_for(score)
    if grade != "A":
        return grade, ""
    tol = policy.grades.A_overdue_tolerance_days
    reasons: list[str] = []
    reason = _years_reason(inputs.get("years"), policy)
    if reason:
        reasons.append(reason)
    over_90 = inputs.get("items_over_90")
    avg = inputs.get("avg_days_late")
    if over_90 and tol <= 90:
        reasons.append(f"{_num(over_90)} item{'s' if over_90 != 1 else ''} paid over 90 days late, "
                       f"{_allowance(policy)}")
    elif avg is not None and avg > tol:
        reasons.append(f"paid on average {_days_text(_round1(avg))} late, {_allowance(policy)}")
    if reasons:
        return _held(reasons)
    limit = "paid late" if tol == 0 else f"paid more than {tol} days late"
    return grade, f"A by score; not checked here: grade A also needs no item ever {limit} and none overdue now"


def grade_of(score: Any, policy: Policy) -> str:
    """Grade "A".."E" for a 0–100 score by the policy's cut-offs alone (GRADE_OF); refuses a non-number."""
    value = to_decimal(score, "score")
    assert value is not None
    if not 0 <= value <= 100:
        raise XlcError("score", f"must lie between 0 and 100 (got {_num(value)})", score)
    return policy.grade_for(value)  # type: ignore[arg-type]  # Decimal compares with the int cut-offs


# --------------------------------------------------------------------------- inputs
def _number(value: Any, name: str) -> Decimal | None:
    """A numeric argument (Decimal, int, float or numeric text); blank → None (missing)."""
    return to_decimal(value, name, allow_none=True)


def _check_rating(x: Decimal | None) -> None:
    if x is not None and not 0 <= x <= 100:
        raise XlcError("rating", f"must lie between 0 and 100 (got {_num(x)})", x)


def _not_negative(x: Decimal | None, name: str, what: str) -> None:
    if x is not None and x < 0:
        raise XlcError(name, f"must not be negative, {what} (got {_num(x)})", x)


def _whole(x: Decimal | None, name: str) -> None:
    if x is not None and x != x.to_integral_value():
        raise XlcError(name, f"must be a whole number (got {_num(x)})", x)


def score_of(rating: Any, debt_ratio: Any, quick_ratio: Any, ocf_ratio: Any, avg_days_late: Any, years: Any,
             policy: Policy, *, items_over_90: Any = None, reference: Any = None, altman: Any = None
             ) -> ScoreResult:
    """The scorecard on explicit inputs (SCORE_OF); blank arguments earn the factor's missing points.

    Numbers may be Decimal, int, float or numeric text; anything else raises :class:`XlcError`
    naming the argument. ``altman`` is a Z″-score (or an :class:`AltmanResult`) and counts only when
    the policy enables the altman factor. Grade A: the years condition is checked (blank years → held
    at B), the payment record is checked only as far as the inputs show it (an average beyond the
    tolerance or items over 90 days hold it at B); otherwise ``grade_note`` says it was not checked.
    """
    if isinstance(altman, AltmanResult):
        altman = altman.z
    inputs = {
        "rating": _number(rating, "rating"),
        "debt_ratio": _number(debt_ratio, "debt_ratio"),
        "quick_ratio": _number(quick_ratio, "quick_ratio"),
        "ocf_ratio": _number(ocf_ratio, "ocf_ratio"),
        "avg_days_late": _number(avg_days_late, "avg_days_late"),
        "years": _number(years, "years"),
        "items_over_90": _number(items_over_90, "items_over_90"),
        "reference": _number(reference, "reference"),
        "altman": _number(altman, "altman"),
    }
    _check_rating(inputs["rating"])
    _not_negative(inputs["debt_ratio"], "debt_ratio", "it is total liabilities / total assets")
    _not_negative(inputs["quick_ratio"], "quick_ratio", "it is (current assets − inventory) / current liabilities")
    _not_negative(inputs["years"], "years", "it is the length of the relationship")
    _not_negative(inputs["items_over_90"], "items_over_90", "it is a count of items")
    _whole(inputs["items_over_90"], "items_over_90")
    ref = inputs["reference"]
    if ref is not None and ref not in (-1, 0, 1):
        raise XlcError("reference", f"must be 1 (positive), 0 (neutral) or -1 (negative) (got {describe(reference)})",
                       reference)
    score, lines = _score(inputs, policy)
    grade, note = _grade_explicit(score, inputs, policy)
    return ScoreResult(score, grade, lines, note)


def score_customer(customer: Customer, policy: Policy, as_of: dt.date) -> ScoreResult:
    """Score a customer from its rating, latest statements, payment history and relationship at ``as_of``.

    Ratios come from :class:`Financials` (a zero denominator raises naming the field); inventory larger
    than current assets and a relationship starting after ``as_of`` are refused. The Altman Z″ factor is computed
    only when the policy enables it.
    """
    day = need_date(as_of, "as_of")
    start = customer.relationship_start
    if start is not None and start > day:
        raise XlcError("relationship_start", f"is after the as-of date {day} (got {start})", start)
    fin = customer.financials
    if fin.inventory is not None and fin.current_assets is not None and fin.inventory > fin.current_assets:
        raise XlcError("inventory", f"must not exceed current_assets ({_num(fin.current_assets)}); got "
                       f"{_num(fin.inventory)}", fin.inventory)
    years = customer.years_of_relationship(day)
    h = customer.history
    altman_factor = policy.score.get("altman")
    z = None
    if altman_factor is not None and altman_factor.enabled:
        result = altman_z2(fin)
        z = None if result is None else _z2(result.x1, result.x2, result.x3, result.x4)  # exact, not the float
    inputs = {
        "rating": customer.rating,
        "debt_ratio": fin.debt_ratio,
        "quick_ratio": fin.quick_ratio,
        "ocf_ratio": fin.ocf_ratio,
        "avg_days_late": _number(h.avg_days_late, "avg_days_late"),
        "items_over_90": None if h.items_over_90 is None else Decimal(h.items_over_90),
        "years": years,
        "reference": None if customer.reference_check is None else Decimal(customer.reference_check),
        "altman": z,
    }
    _check_rating(inputs["rating"])
    score, lines = _score(inputs, policy)
    grade, note = _grade_customer(score, customer, years, policy)
    return ScoreResult(score, grade, lines, note)
