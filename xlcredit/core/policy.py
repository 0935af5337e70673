"""The credit policy: every number of the house rules in one immutable, validated object.

A :class:`Policy` is built once (from the shipped defaults, a TOML file or the workbook's
two-column Policy sheet), validated once, and passed into every calculation. Each setting has a
dotted key (``limits.volume_share``) used by the TOML tables, the Policy sheet and error messages.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from itertools import pairwise
from typing import Any, get_type_hints

from xlcredit.core.errors import XlcError, describe
from xlcredit.core.money import to_decimal

GRADES: tuple[str, ...] = ("A", "B", "C", "D", "E")


# --------------------------------------------------------------------------- field helpers
def _setting(default: Any, *, lo: Any = None, hi: Any = None, choices: tuple[str, ...] | None = None,
             help: str = "") -> Any:
    """A policy setting with bounds (inclusive) or choices, checked by :func:`_check`."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "choices": choices, "help": help})


@dataclass(frozen=True)
class ScoreFactor:
    """One scorecard factor: bins of ``(threshold, points)`` and the points for a missing input.

    ``higher_is_better``: an input ≥ threshold earns the points (bins scanned best first);
    otherwise an input ≤ threshold earns them. An input beyond every bin earns ``floor_points``.
    """

    bins: tuple[tuple[Decimal, int], ...]
    higher_is_better: bool
    missing_points: int
    floor_points: int = 0
    enabled: bool = True

    @property
    def max_points(self) -> int:
        return max([p for _, p in self.bins] + [self.floor_points, self.missing_points]) if self.enabled else 0


@dataclass(frozen=True)
class DunningStep:
    """One rung of the dunning ladder, reached at ``days`` past due of the oldest overdue item."""

    days: int
    name: str
    letter: str = ""   # template key of the letter sent at this step ("" = no letter)
    action: str = ""   # action-list entry at this step ("" = none)
    stop_orders: bool = False


@dataclass(frozen=True)
class CompanyPolicy:
    name: str = _setting("Harbour Trading Ltd", help="our company name, printed on letters")
    currency: str = _setting("EUR", help="company (reporting) currency, ISO 4217")
    annual_revenue: Decimal = _setting(Decimal("60000000"), lo=Decimal(0), help="our annual revenue")
    monthly_cash_flow: Decimal = _setting(Decimal("5000000"), lo=Decimal(0),
                                          help="our average monthly operating cash inflow")
    bank_details: str = _setting("IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX",
                                 help="payment details printed on letters")
    address: str = _setting("1 Harbour Street, Hamburg, Germany", help="our address on letters")
    credit_controller: str = _setting("Credit Control Team", help="signature on letters")
    letter_templates: str = _setting("", help="folder of your own letter templates (<lang>/<letter>.txt); "
                                              "blank = the shipped templates")


@dataclass(frozen=True)
class GradePolicy:
    A: int = _setting(80, lo=0, hi=100, help="lowest score for grade A")
    B: int = _setting(65, lo=0, hi=100, help="lowest score for grade B")
    C: int = _setting(50, lo=0, hi=100, help="lowest score for grade C")
    D: int = _setting(35, lo=0, hi=100, help="lowest score for grade D (below: E)")
    A_min_years: Decimal = _setting(Decimal(2), lo=Decimal(0), help="grade A needs this many years of relationship")
    A_overdue_tolerance_days: int = _setting(0, lo=0, help="grade A: no item ever paid more than this many days late")


@dataclass(frozen=True)
class LimitPolicy:
    volume_share: Decimal = _setting(Decimal("0.15"), lo=Decimal(0), hi=Decimal(1),
                                     help="limit ≤ this share of the customer's annual purchases with us")
    basis: str = _setting("terms", choices=("terms", "share"),
                          help="purchase cap: 'terms' = what a customer paying on time owes on its grade's terms "
                               "(annual purchases × (net days + terms_margin_days) / 365, never below "
                               "volume_share); 'share' = volume_share of annual purchases only")
    terms_margin_days: int = _setting(15, lo=0, hi=365,
                                      help="days added to the net days of the terms for the 'terms' basis "
                                           "(invoices in transit, the reminder period)")
    first_order_share: Decimal = _setting(Decimal("0.5"), lo=Decimal(0), hi=Decimal(1),
                                          help="new customer: limit ≤ this share of the first order")
    new_customer_months: int = _setting(12, lo=0, help="a customer is new for this many months")
    grade_a_uplift: Decimal = _setting(Decimal("0.2"), lo=Decimal(0), hi=Decimal(1),
                                       help="grade A: limit raised by this share")
    cash_flow_share: Decimal = _setting(Decimal("0.3"), lo=Decimal(0), hi=Decimal(1),
                                        help="one customer ≤ this share of our monthly cash flow")
    portfolio_revenue_share: Decimal = _setting(Decimal("0.15"), lo=Decimal(0), hi=Decimal(1),
                                                help="sum of all limits ≤ this share of our annual revenue")
    portfolio_method: str = _setting("pro_rata", choices=("pro_rata", "by_grade"),
                                     help="how an excess over the portfolio cap is taken back")
    step: Decimal = _setting(Decimal(1000), lo=Decimal(0), help="limits are rounded down to this step")


@dataclass(frozen=True)
class TermsPolicy:
    A: str = _setting("Net 90", help="payment terms for grade A (prime)")
    B: str = _setting("Net 60", help="payment terms for grade B (standard)")
    C: str = _setting("Net 30", help="payment terms for grade C (high risk)")
    D: str = _setting("Prepay", help="grade D: prepayment or bank guarantee")
    E: str = _setting("Cash in advance", help="grade E: cash in advance")


@dataclass(frozen=True)
class DepositPolicy:
    A: Decimal = _setting(Decimal(0), lo=Decimal(0), hi=Decimal(1), help="deposit share, grade A")
    B: Decimal = _setting(Decimal(0), lo=Decimal(0), hi=Decimal(1), help="deposit share, grade B")
    C: Decimal = _setting(Decimal(0), lo=Decimal(0), hi=Decimal(1), help="deposit share, grade C")
    C_new: Decimal = _setting(Decimal("0.3"), lo=Decimal(0), hi=Decimal(1),
                              help="deposit share, grade C new customer")
    D: Decimal = _setting(Decimal(1), lo=Decimal(0), hi=Decimal(1),
                          help="grade D: prepayment share unless a bank guarantee is given")
    E: Decimal = _setting(Decimal(1), lo=Decimal(0), hi=Decimal(1), help="grade E: cash in advance")


@dataclass(frozen=True)
class DiscountPolicy:
    rate: Decimal = _setting(Decimal("0.02"), lo=Decimal(0), hi=Decimal(1), help="early-payment discount offered")
    days: int = _setting(10, lo=0, help="discount period in days from invoice date")
    min_rate: Decimal = _setting(Decimal("0.02"), lo=Decimal(0), hi=Decimal(1), help="lowest discount allowed")
    max_rate: Decimal = _setting(Decimal("0.05"), lo=Decimal(0), hi=Decimal(1), help="highest discount allowed")


@dataclass(frozen=True)
class LatePolicy:
    contract_rate: Decimal = _setting(Decimal("0.08"), lo=Decimal(0), hi=Decimal(1),
                                      help="contractual late interest, annual rate")
    basis: int = _setting(365, choices=None, lo=360, hi=366, help="day-count basis (365 or 360)")
    daily_penalty_rate: Decimal = _setting(Decimal("0.0005"), lo=Decimal(0), hi=Decimal("0.01"),
                                           help="daily late fee (0.05 %/day)")
    claim: str = _setting("contract", choices=("contract", "statutory", "penalty", "none"),
                          help="what letters claim on overdue items")


@dataclass(frozen=True)
class AgeingPolicy:
    bounds: tuple[int, ...] = _setting((0, 30, 60, 90, 180),
                                       help="upper day bounds of the buckets: Current, 1-30, …, 180+")
    basis: str = _setting("due_date", choices=("due_date", "invoice_date"), help="age by due or invoice date")


@dataclass(frozen=True)
class InsurancePolicy:
    protracted_default_days: int = _setting(180, lo=0, help="waiting period after due date before a claim")
    indemnity: Decimal = _setting(Decimal("0.9"), lo=Decimal(0), hi=Decimal(1), help="indemnity share of a claim")
    max_extension_days: int = _setting(60, lo=0, help="longest due-date extension without the insurer's consent")
    notify_overdue_days: int = _setting(60, lo=0, help="notify the insurer of an overdue item this many days after due")
    claim_deadline_days: int = _setting(365, lo=0, help="file a claim no later than this many days after due")
    warn_days: int = _setting(14, lo=0, help="show insurer deadlines falling due within this many days")


@dataclass(frozen=True)
class ReviewPolicy:
    months: int = _setting(3, lo=1, help="every customer is reviewed this often (months)")
    months_high_risk: int = _setting(1, lo=1, help="grades D and E are reviewed this often (months)")
    order_swing: Decimal = _setting(Decimal("0.5"), lo=Decimal(0),
                                    help="order change vs same months last year that triggers a review")
    utilisation_warning: Decimal = _setting(Decimal("0.9"), lo=Decimal(0),
                                            help="utilisation at or above this triggers a review")
    trend_invoices: int = _setting(6, lo=2, help="invoices looked at for a payment-behaviour trend")
    trend_days: int = _setting(10, lo=1, help="rise in days beyond terms over those invoices that triggers a review")
    order_months: int = _setting(3, lo=1, hi=12,
                                 help="months of orders compared with the same months a year earlier")
    broken_promises: int = _setting(1, lo=1, help="promises to pay broken within the days on the next line that "
                                                  "trigger a review")
    broken_promise_days: int = _setting(90, lo=1, help="how far back a broken promise to pay counts for a review "
                                                       "(days)")


@dataclass(frozen=True)
class ProvisionPolicy:
    forward_factor: Decimal = _setting(Decimal(1), lo=Decimal(0),
                                       help="forward-looking multiplier on historical loss rates")
    history_months: int = _setting(24, lo=1, help="months of history used for loss rates")


@dataclass(frozen=True)
class ForecastPolicy:
    weeks: int = _setting(13, lo=1, hi=104, help="weeks in the cash-collection forecast")
    history_months: int = _setting(12, lo=1, help="months of paid invoices that set a customer's payment habit")
    doubtful_days: int = _setting(90, lo=0,
                                  help="an item this many days past its expected payment date is not forecast")


@dataclass(frozen=True)
class CollectionsPolicy:
    promise_grace_days: int = _setting(3, lo=0, hi=60,
                                       help="a promise to pay holds its items off the dunning ladder until the "
                                            "promised date plus this many days; unpaid by then it is broken")
    plan_grace_days: int = _setting(3, lo=0, hi=60,
                                    help="an instalment still unpaid this many days after its due date breaks the "
                                         "payment plan")
    dispute_interest: bool = _setting(True, help="TRUE: interest keeps accruing on a disputed amount (claimed once "
                                                 "the invoice is upheld); FALSE: the days in dispute bear none")
    dispute_followup_days: int = _setting(14, lo=1, hi=365,
                                          help="follow up an open dispute this many days after it was opened")


@dataclass(frozen=True)
class WorklistPolicy:
    overdue_points: int = _setting(30, lo=0, hi=100, help="worklist points for the overdue amount (in full from "
                                                          "the amount on the next line)")
    overdue_full: Decimal = _setting(Decimal(50000), lo=Decimal(1),
                                     help="overdue amount (company currency) that earns all the overdue points")
    days_points: int = _setting(20, lo=0, hi=100, help="worklist points for days past due (in full from the "
                                                       "days on the next line)")
    days_full: int = _setting(90, lo=1, help="days past due that earn all the days points")
    due_points: int = _setting(15, lo=0, hi=100, help="worklist points when a ladder step, a promised payment or "
                                                      "an instalment falls due within the days on the next line")
    due_days: int = _setting(3, lo=0, hi=60, help="how soon a step, promise or instalment counts as falling due")
    broken_promise_points: int = _setting(15, lo=0, hi=100, help="worklist points per broken promise or payment "
                                                                 "plan (at most three counted)")
    grade_points: int = _setting(10, lo=0, hi=100, help="worklist points for a customer graded D or E")
    insurer_points: int = _setting(20, lo=0, hi=100, help="worklist points for an insurer deadline within the "
                                                          "insurance warning days")
    over_limit_points: int = _setting(10, lo=0, hi=100, help="worklist points for exposure over the credit limit")
    dispute_points: int = _setting(5, lo=0, hi=100, help="worklist points per open dispute (at most three counted)")


@dataclass(frozen=True)
class SendPolicy:
    smtp_host: str = _setting("", help="mail server that sends letters and statements (blank: .eml drafts are "
                                       "written instead)")
    smtp_port: int = _setting(0, lo=0, hi=65535, help="mail server port (0: 587 for starttls, 465 for ssl, 25 for "
                                                      "none)")
    smtp_security: str = _setting("starttls", choices=("none", "starttls", "ssl"),
                                  help="connection security: starttls, ssl or none")
    smtp_user: str = _setting("", help="mail server login (the password is never stored: it is read from the "
                                       "XLCREDIT_SMTP_PASSWORD environment variable)")
    from_address: str = _setting("", help="sender address of the e-mails")
    reply_to: str = _setting("", help="where customers' replies go (blank: the sender address)")
    bcc: str = _setting("", help="a copy of every e-mail to this address (blank: none)")


def _factor(bins: str, higher: bool, missing: int, floor: int = 0, enabled: bool = True) -> ScoreFactor:
    return ScoreFactor(_parse_bins(bins, "score"), higher, missing, floor, enabled)


def _parse_bins(text: Any, key: str) -> tuple[tuple[Decimal, int], ...]:
    if isinstance(text, (list, tuple)):
        pairs = [tuple(p) if isinstance(p, (list, tuple)) else str(p).split(":") for p in text]   # [[11], []]: bad
    else:
        pairs = [part.split(":") for part in str(text).split(",") if part.strip()]
    out = []
    for pair in pairs:
        if len(pair) != 2:
            raise XlcError(key, f"bins must read 'threshold:points, …' (got {describe(text)})", text)
        threshold = to_decimal(pair[0], key)
        try:
            points = int(str(pair[1]).strip())
        except ValueError:
            raise XlcError(key, f"points must be whole numbers (got {describe(pair[1])})", text) from None
        assert threshold is not None
        out.append((threshold, points))
    if not out:
        raise XlcError(key, "needs at least one bin", text)
    return tuple(out)


def _format_bins(bins: tuple[tuple[Decimal, int], ...]) -> str:
    return ", ".join(f"{t}:{p}" for t, p in bins)


DEFAULT_FACTORS: dict[str, ScoreFactor] = {
    # third-party rating 0–100 (PAYDEX-like: 80 = pays on time)
    "rating": _factor("80:25, 70:20, 60:14, 50:8, 30:3", True, missing=10),
    # total liabilities / total assets: lower is better
    "debt_ratio": _factor("0.3:15, 0.5:11, 0.7:6, 0.9:2", False, missing=5),
    # (current assets − inventory) / current liabilities
    "quick_ratio": _factor("1.5:10, 1.0:8, 0.7:5, 0.5:2", True, missing=3),
    # operating cash flow / current liabilities
    "ocf_ratio": _factor("0.4:10, 0.2:7, 0:3", True, missing=3),
    # amount-weighted average days beyond terms, last 24 months: lower is better
    "avg_days_late": _factor("0:20, 5:16, 15:11, 30:6, 60:2", False, missing=10),
    # count of items paid more than 90 days late, last 24 months: lower is better
    "items_over_90": _factor("0:5, 1:2", False, missing=5),
    # years of relationship with us
    "years": _factor("5:10, 3:8, 2:6, 1:4", True, missing=0, floor=1),
    # manual reference check: 1 positive, 0 neutral, -1 negative
    "reference": _factor("1:5, 0:3", True, missing=3),
    # Altman Z''-score (optional; off by default — enabling it means rebalancing the points)
    "altman": _factor("2.6:10, 1.1:5", True, missing=5, enabled=False),
}


@dataclass(frozen=True)
class Policy:
    """Every setting of the credit policy; build with :func:`load_policy` or :meth:`from_mapping`."""

    company: CompanyPolicy = field(default_factory=CompanyPolicy)
    grades: GradePolicy = field(default_factory=GradePolicy)
    limits: LimitPolicy = field(default_factory=LimitPolicy)
    terms: TermsPolicy = field(default_factory=TermsPolicy)
    deposit: DepositPolicy = field(default_factory=DepositPolicy)
    discount: DiscountPolicy = field(default_factory=DiscountPolicy)
    late: LatePolicy = field(default_factory=LatePolicy)
    ageing: AgeingPolicy = field(default_factory=AgeingPolicy)
    insurance: InsurancePolicy = field(default_factory=InsurancePolicy)
    review: ReviewPolicy = field(default_factory=ReviewPolicy)
    provision: ProvisionPolicy = field(default_factory=ProvisionPolicy)
    forecast: ForecastPolicy = field(default_factory=ForecastPolicy)
    collections: CollectionsPolicy = field(default_factory=CollectionsPolicy)
    worklist: WorklistPolicy = field(default_factory=WorklistPolicy)
    send: SendPolicy = field(default_factory=SendPolicy)
    score: Mapping[str, ScoreFactor] = field(default_factory=lambda: dict(DEFAULT_FACTORS))
    dunning: tuple[DunningStep, ...] = (
        DunningStep(7, "Reminder letter", letter="reminder"),
        DunningStep(15, "Phone call", action="Phone call"),
        DunningStep(30, "Formal demand", letter="formal_demand", action="Stop new orders", stop_orders=True),
        DunningStep(45, "Legal action", letter="letter_before_action", action="Legal action", stop_orders=True),
        DunningStep(90, "Agency or insurance claim", letter="final_notice",
                    action="Agency or insurance claim", stop_orders=True),
    )

    def __post_init__(self) -> None:
        _validate(self)

    # ---------------------------------------------------------------- derived views
    @property
    def bucket_labels(self) -> tuple[str, ...]:
        """Ageing bucket labels, e.g. ``("Current", "1-30", …, "91-180", "180+")``."""
        b = self.ageing.bounds
        labels = ["Current"]
        labels += [f"{lo + 1}-{hi}" for lo, hi in pairwise(b)]
        labels.append(f"{b[-1]}+")
        return tuple(labels)

    def grade_for(self, score: float) -> str:
        """Grade letter for a score by the cut-offs alone (grade A's extra conditions aside)."""
        g = self.grades
        for letter, cut in (("A", g.A), ("B", g.B), ("C", g.C), ("D", g.D)):
            if score >= cut:
                return letter
        return "E"

    @property
    def order_stop_days(self) -> int | None:
        """Days past due at which new orders are stopped (first ladder step with stop_orders)."""
        return next((s.days for s in self.dunning if s.stop_orders), None)

    # ---------------------------------------------------------------- flat key/value form
    def to_mapping(self) -> dict[str, Any]:
        """Flat ``{dotted key: value}`` form — the Policy sheet and the TOML tables."""
        out: dict[str, Any] = {}
        for section in _SECTIONS:
            obj = getattr(self, section)
            for f in fields(obj):
                value = getattr(obj, f.name)
                if isinstance(value, tuple):
                    value = ", ".join(str(v) for v in value)
                out[f"{section}.{f.name}"] = value
        for name, factor in self.score.items():
            out[f"score.{name}.bins"] = _format_bins(factor.bins)
            out[f"score.{name}.higher_is_better"] = factor.higher_is_better
            out[f"score.{name}.missing"] = factor.missing_points
            out[f"score.{name}.floor"] = factor.floor_points
            out[f"score.{name}.enabled"] = factor.enabled
        for i, step in enumerate(self.dunning, start=1):
            out[f"dunning.step{i}.days"] = step.days
            out[f"dunning.step{i}.name"] = step.name
            out[f"dunning.step{i}.letter"] = step.letter
            out[f"dunning.step{i}.action"] = step.action
            out[f"dunning.step{i}.stop_orders"] = step.stop_orders
        return out

    def to_rows(self) -> list[tuple[str, Any]]:
        """Two-column rows (key, value) for the workbook's Policy sheet."""
        return [(k, str(v) if isinstance(v, Decimal) else v) for k, v in self.to_mapping().items()]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], base: Policy | None = None) -> Policy:
        """Build from flat dotted keys over ``base`` (defaults); unknown keys are refused."""
        return _from_flat(dict(values), base or cls())

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[Any, Any]], base: Policy | None = None) -> Policy:
        """Build from two-column (key, value) rows; blank keys and ``#`` comments are skipped."""
        flat: dict[str, Any] = {}
        for key, value in rows:
            if key is None or not str(key).strip() or str(key).strip().startswith("#"):
                continue
            k = str(key).strip()
            if k.lower() in ("key", "setting"):
                continue  # header row
            flat[k] = value
        return cls.from_mapping(flat, base)

    @classmethod
    def from_toml(cls, text: str, base: Policy | None = None) -> Policy:
        """Build from TOML text whose tables are the dotted sections (``[limits]``, ``[score.rating]``)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise XlcError("policy", f"is not valid TOML ({exc})", None) from None
        return cls.from_mapping(_flatten(data), base)

    def to_toml(self) -> str:
        """TOML text that :meth:`from_toml` reads back to an equal policy."""
        groups: dict[str, list[tuple[str, Any]]] = {}
        for key, value in self.to_mapping().items():
            table, _, leaf = key.rpartition(".")
            groups.setdefault(table, []).append((leaf, value))
        helps = self.help_texts()
        lines: list[str] = []
        for table, items in groups.items():
            lines.append(f"[{table}]")
            for leaf, value in items:
                note = helps.get(f"{table}.{leaf}")
                lines.append(f"{leaf} = {_toml_value(value)}" + (f"  # {note}" if note else ""))
            lines.append("")
        return "\n".join(lines)

    @staticmethod
    def help_texts() -> dict[str, str]:
        """One-line help per dotted key (shown beside the Policy sheet and in the TOML file)."""
        out: dict[str, str] = {}
        for section in _SECTIONS:
            for f in fields(getattr(Policy(), section)):
                if f.metadata.get("help"):
                    out[f"{section}.{f.name}"] = f.metadata["help"]
        return out


_SECTIONS = ("company", "grades", "limits", "terms", "deposit", "discount", "late", "ageing",
             "insurance", "review", "provision", "forecast", "collections", "worklist", "send")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, full + "."))
        else:
            out[full] = value
    return out


def _coerce(key: str, value: Any, kind: Any) -> Any:
    """Convert a raw TOML/sheet value to the setting's type, or raise naming the key."""
    if kind is Decimal:
        result = to_decimal(value, key)
        return result
    if kind is int:
        if isinstance(value, bool):
            raise XlcError(key, f"must be a whole number (got {describe(value)})", value)
        number = to_decimal(value, key)
        assert number is not None
        if number != number.to_integral_value():
            raise XlcError(key, f"must be a whole number (got {describe(value)})", value)
        return int(number)
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "1", "y", "on"):
            return True
        if text in ("false", "no", "0", "n", "off", ""):
            return False
        raise XlcError(key, f"must be true or false (got {describe(value)})", value)
    if kind is str:
        if value is None:
            return ""
        if isinstance(value, float) and value != value:
            return ""
        return str(value).strip()
    if kind == tuple[int, ...]:
        parts = value if isinstance(value, (list, tuple)) else [p for p in str(value).split(",") if p.strip()]
        return tuple(_coerce(key, p, int) for p in parts)
    raise TypeError(kind)  # pragma: no cover - programming error


def _from_flat(flat: dict[str, Any], base: Policy) -> Policy:
    sections: dict[str, Any] = {}
    factors = {name: dataclasses.asdict(f) for name, f in base.score.items()}
    steps: dict[int, dict[str, Any]] = {i: dataclasses.asdict(s) for i, s in enumerate(base.dunning, start=1)}
    step_keys_seen = False
    for key, raw in flat.items():
        parts = key.split(".")
        if parts[0] in _SECTIONS and len(parts) == 2:
            section_obj = getattr(base, parts[0])
            hints = get_type_hints(type(section_obj))
            if parts[1] not in hints:
                raise XlcError(key, f"is not a policy setting (value {describe(raw)})", raw)
            sections.setdefault(parts[0], {})[parts[1]] = _coerce(key, raw, hints[parts[1]])
        elif parts[0] == "score" and len(parts) == 3:
            name, leaf = parts[1], parts[2]
            factor = factors.setdefault(name, {"bins": (), "higher_is_better": True, "missing_points": 0,
                                               "floor_points": 0, "enabled": True})
            if leaf == "bins":
                factor["bins"] = _parse_bins(raw, key)
            elif leaf == "higher_is_better":
                factor["higher_is_better"] = _coerce(key, raw, bool)
            elif leaf == "missing":
                factor["missing_points"] = _coerce(key, raw, int)
            elif leaf == "floor":
                factor["floor_points"] = _coerce(key, raw, int)
            elif leaf == "enabled":
                factor["enabled"] = _coerce(key, raw, bool)
            else:
                raise XlcError(key, f"is not a policy setting (value {describe(raw)})", raw)
        elif parts[0] == "dunning" and len(parts) == 3 and parts[1].startswith("step") and parts[1][4:].isdigit():
            if not step_keys_seen:
                step_keys_seen = True
            n = int(parts[1][4:])
            if n < 1:
                raise XlcError(key, "steps are numbered from 1", raw)
            step = steps.setdefault(n, {"days": None, "name": "", "letter": "", "action": "", "stop_orders": False})
            kinds = {"days": int, "name": str, "letter": str, "action": str, "stop_orders": bool}
            if parts[2] not in kinds:
                raise XlcError(key, f"is not a policy setting (value {describe(raw)})", raw)
            step[parts[2]] = _coerce(key, raw, kinds[parts[2]])
        else:
            raise XlcError(key, f"is not a policy setting (value {describe(raw)})", raw)

    kwargs: dict[str, Any] = {}
    for section in _SECTIONS:
        current = getattr(base, section)
        kwargs[section] = dataclasses.replace(current, **sections.get(section, {}))
    built_factors = {}
    for name, f in factors.items():
        if not f["bins"]:
            raise XlcError(f"score.{name}.bins", "is empty", None)
        built_factors[name] = ScoreFactor(tuple((Decimal(t), int(p)) for t, p in f["bins"]),
                                          f["higher_is_better"], f["missing_points"], f["floor_points"],
                                          f["enabled"])
    kwargs["score"] = built_factors
    built_steps = []
    for n in sorted(steps):
        s = steps[n]
        if s["days"] is None:
            raise XlcError(f"dunning.step{n}.days", "is empty", None)
        if not s["name"]:
            raise XlcError(f"dunning.step{n}.name", "is empty", None)
        built_steps.append(DunningStep(**s))
    kwargs["dunning"] = tuple(built_steps)
    return Policy(**kwargs)


def _check(key: str, value: Any, meta: Mapping[str, Any]) -> None:
    lo, hi, choices = meta.get("lo"), meta.get("hi"), meta.get("choices")
    if choices and value not in choices:
        raise XlcError(key, f"must be one of {', '.join(choices)} (got {describe(value)})", value)
    if lo is not None and value < lo:
        if lo == 0:
            raise XlcError(key, f"must not be negative (got {value})", value)
        raise XlcError(key, f"must be at least {lo} (got {value})", value)
    if hi is not None and value > hi:
        if hi == 1 and isinstance(value, Decimal):
            raise XlcError(key, f"is a share and must not be above 1 (got {value})", value)
        raise XlcError(key, f"must be at most {hi} (got {value})", value)


def _validate(p: Policy) -> None:
    for section in _SECTIONS:
        obj = getattr(p, section)
        hints = get_type_hints(type(obj))
        for f in fields(obj):
            value = getattr(obj, f.name)
            key = f"{section}.{f.name}"
            kind = hints[f.name]
            if kind is Decimal and not isinstance(value, Decimal):
                raise XlcError(key, f"must be a number (got {describe(value)})", value)
            if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
                raise XlcError(key, f"must be a whole number (got {describe(value)})", value)
            if kind in (Decimal, int, str):
                _check(key, value, f.metadata)
    # grades: cut-offs strictly decreasing A > B > C > D
    g = p.grades
    cuts = [("A", g.A), ("B", g.B), ("C", g.C), ("D", g.D)]
    for (hi_name, hi_cut), (lo_name, lo_cut) in pairwise(cuts):
        if not hi_cut > lo_cut:
            raise XlcError(f"grades.{lo_name}", f"cut-offs must increase from E to A: grade {lo_name} needs "
                           f"less than grade {hi_name} ({hi_cut}), got {lo_cut}", lo_cut)
    if p.late.basis not in (360, 365):
        raise XlcError("late.basis", f"must be 365 or 360 (got {p.late.basis})", p.late.basis)
    if p.discount.min_rate > p.discount.max_rate:
        raise XlcError("discount.min_rate", f"must not exceed discount.max_rate ({p.discount.max_rate}); "
                       f"got {p.discount.min_rate}", p.discount.min_rate)
    if not p.discount.min_rate <= p.discount.rate <= p.discount.max_rate:
        raise XlcError("discount.rate", f"must lie between {p.discount.min_rate} and {p.discount.max_rate} "
                       f"(got {p.discount.rate})", p.discount.rate)
    b = p.ageing.bounds
    if not b or b[0] != 0:
        raise XlcError("ageing.bounds", f"must start at 0 (got {', '.join(map(str, b)) or 'nothing'})", b)
    if any(y <= x for x, y in pairwise(b)):
        raise XlcError("ageing.bounds", f"must increase (got {', '.join(map(str, b))})", b)
    if len(p.company.currency) != 3 or not p.company.currency.isalpha() or not p.company.currency.isupper():
        raise XlcError("company.currency", f"must be a 3-letter ISO code like EUR (got {describe(p.company.currency)})",
                       p.company.currency)
    for grade in GRADES:
        if not getattr(p.terms, grade):
            raise XlcError(f"terms.{grade}", "is empty", "")
    # scorecard: monotone bins, points within range, enabled maxima summing to 100
    total = 0
    for name, f in p.score.items():
        key = f"score.{name}.bins"
        thresholds = [t for t, _ in f.bins]
        pts = [pt for _, pt in f.bins]
        order_ok = all(x > y for x, y in pairwise(thresholds)) if f.higher_is_better \
            else all(x < y for x, y in pairwise(thresholds))
        if not order_ok:
            word = "decrease" if f.higher_is_better else "increase"
            raise XlcError(key, f"thresholds must {word} from the best bin (got {_format_bins(f.bins)})", f.bins)
        if any(pt < 0 for pt in [*pts, f.missing_points, f.floor_points]):
            raise XlcError(key, f"points must not be negative (got {_format_bins(f.bins)})", f.bins)
        if any(x < y for x, y in pairwise(pts)) or (pts and pts[-1] < f.floor_points):
            raise XlcError(key, f"points must not rise as the input worsens (got {_format_bins(f.bins)}, "
                           f"floor {f.floor_points})", f.bins)
        if f.missing_points > pts[0]:
            raise XlcError(f"score.{name}.missing", f"must not exceed the best bin's points ({pts[0]}); "
                           f"got {f.missing_points}", f.missing_points)
        if f.enabled:
            total += pts[0]
    if total != 100:
        raise XlcError("score", f"the best points of the enabled factors must add up to 100 (got {total})", total)
    # dunning ladder: strictly increasing days, positive
    days = [s.days for s in p.dunning]
    if not p.dunning:
        raise XlcError("dunning", "the ladder needs at least one step", None)
    for i, s in enumerate(p.dunning, start=1):
        if s.days < 0:
            raise XlcError(f"dunning.step{i}.days", f"must not be negative (got {s.days})", s.days)
    if any(y <= x for x, y in pairwise(days)):
        raise XlcError("dunning", f"step days must increase (got {', '.join(map(str, days))})", days)
