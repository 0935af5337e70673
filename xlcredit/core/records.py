"""Immutable records the core works on: a customer, its statements and its payment history.

Amounts of money are ``Decimal``. Statement figures are in the customer's own currency (only
their ratios are used); ``annual_volume``, ``first_order``, ``open_orders`` and
``uninvoiced_deliveries`` are in the company currency (limits are set in it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from xlcredit.core.errors import XlcError

ZERO = Decimal(0)


@dataclass(frozen=True)
class Financials:
    """Latest financial statements; any figure may be missing (None)."""

    total_assets: Decimal | None = None
    total_liabilities: Decimal | None = None
    current_assets: Decimal | None = None
    inventory: Decimal | None = None
    current_liabilities: Decimal | None = None
    operating_cash_flow: Decimal | None = None
    retained_earnings: Decimal | None = None
    ebit: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("total_assets", "total_liabilities", "current_assets", "inventory", "current_liabilities"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise XlcError(name, f"must not be negative (got {value})", value)

    @property
    def debt_ratio(self) -> Decimal | None:
        """Total liabilities / total assets (None when either is missing)."""
        if self.total_liabilities is None or self.total_assets is None:
            return None
        if self.total_assets == 0:
            raise XlcError("total_assets", "is zero, so the debt ratio cannot be computed", self.total_assets)
        return self.total_liabilities / self.total_assets

    @property
    def quick_ratio(self) -> Decimal | None:
        """(Current assets − inventory) / current liabilities."""
        if self.current_assets is None or self.current_liabilities is None:
            return None
        if self.current_liabilities == 0:
            raise XlcError("current_liabilities", "is zero, so the quick ratio cannot be computed",
                           self.current_liabilities)
        return (self.current_assets - (self.inventory or ZERO)) / self.current_liabilities

    @property
    def ocf_ratio(self) -> Decimal | None:
        """Operating cash flow / current liabilities."""
        if self.operating_cash_flow is None or self.current_liabilities is None:
            return None
        if self.current_liabilities == 0:
            raise XlcError("current_liabilities", "is zero, so the cash-flow ratio cannot be computed",
                           self.current_liabilities)
        return self.operating_cash_flow / self.current_liabilities


@dataclass(frozen=True)
class PaymentHistory:
    """How the customer paid over the look-back window (24 months by default).

    ``avg_days_late``: amount-weighted average days beyond terms of paid items (None = no history);
    ``items_over_90``: items paid more than 90 days late; ``max_days_late``: worst item;
    ``overdue_now``: an item is overdue at ``as_of``.
    """

    avg_days_late: float | None = None
    items_over_90: int | None = None
    max_days_late: int | None = None
    overdue_now: bool = False


@dataclass(frozen=True)
class Customer:
    """A customer as the credit policy sees it."""

    customer_id: str
    name: str = ""
    country: str = ""
    currency: str = "EUR"
    language: str = "en"
    rating: Decimal | None = None              # third-party rating 0–100 (PAYDEX-like)
    financials: Financials = field(default_factory=Financials)
    relationship_start: dt.date | None = None  # None = not trading yet (new)
    annual_volume: Decimal | None = None       # annual purchases with us, company currency
    first_order: Decimal | None = None         # amount of the first order (new customers)
    open_orders: Decimal = ZERO                # accepted, not yet invoiced
    uninvoiced_deliveries: Decimal = ZERO      # delivered, not yet invoiced
    reference_check: int | None = None         # manual check: 1 positive, 0 neutral, -1 negative
    bank_guarantee: Decimal = ZERO             # guarantee amount held (grade D alternative to prepayment)
    history: PaymentHistory = field(default_factory=PaymentHistory)
    insured_limit: Decimal | None = None
    insurer: str = ""
    email: str = ""
    address: str = ""
    contact: str = ""
    statutory_regime: str = ""                 # late-payment law for letters: "UK", "EU" or "" (none)

    def __post_init__(self) -> None:
        if not str(self.customer_id).strip():
            raise XlcError("customer_id", "is empty", self.customer_id)
        if self.statutory_regime not in ("", "UK", "EU"):
            raise XlcError("statutory_regime", f"must be UK, EU or blank (got {self.statutory_regime!r})",
                           self.statutory_regime)
        if self.rating is not None and not (0 <= self.rating <= 100):
            raise XlcError("rating", f"must lie between 0 and 100 (got {self.rating})", self.rating)
        if self.reference_check is not None and self.reference_check not in (-1, 0, 1):
            raise XlcError("reference_check", f"must be 1, 0 or -1 (got {self.reference_check})",
                           self.reference_check)
        for name in ("annual_volume", "first_order", "open_orders", "uninvoiced_deliveries", "bank_guarantee",
                     "insured_limit"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise XlcError(name, f"must not be negative (got {value})", value)

    def years_of_relationship(self, as_of: dt.date) -> Decimal:
        """Whole and part years since ``relationship_start`` (0 when not trading yet)."""
        if self.relationship_start is None or self.relationship_start > as_of:
            return ZERO
        return (Decimal((as_of - self.relationship_start).days) / Decimal("365.25")).quantize(Decimal("0.01"))

    def months_of_relationship(self, as_of: dt.date) -> int:
        """Completed calendar months since ``relationship_start``."""
        if self.relationship_start is None or self.relationship_start > as_of:
            return 0
        s = self.relationship_start
        months = (as_of.year - s.year) * 12 + (as_of.month - s.month)
        if as_of.day < s.day:
            months -= 1
        return max(months, 0)
