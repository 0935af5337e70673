"""Ageing of receivables: open items in buckets by days past due, per customer and currency.

Buckets come from ``policy.ageing.bounds`` (default 0, 30, 60, 90, 180 → Current, 1-30, 31-60,
61-90, 91-180, 180+). Days = as_of − due_date (or as_of − invoice_date with ``by="invoice_date"``);
days ≤ bounds[0] is "Current", bounds[k-1] < days ≤ bounds[k] the k-th bucket, beyond the last
bound the last bucket.

What a row of the report shows, per (customer, currency), from :func:`openitems.allocate`:

* the open invoice amounts by bucket in the document currency (disputed items included, and
  also shown apart in ``disputed``), their sum ``open_total``, the ``unapplied_cash`` beside them,
  and ``balance`` = open_total − unapplied_cash;
* reconciliation, to the cent: Σ buckets = open_total, and balance = invoices − payments −
  credit notes dated on or before as_of (the account balance);
* company-currency figures at the FX rate of ``as_of`` (:class:`FxRates`), by one rule: the open total,
  the unapplied cash, the disputed and the overdue amounts are each converted once and rounded half up;
  the buckets share the converted open total by the largest-remainder method
  (:func:`xlcredit.core.money.convert_parts`), so they add up to it exactly and the balance
  (open − unapplied) is the same whether the ledger is aged by due date or by invoice date. The report
  totals are sums of the rows' rounded company-currency figures.
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xlcredit.core.coerce import need_date
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.ledger import FxRates, Ledger
from xlcredit.core.money import ZERO, convert_parts, round_money
from xlcredit.core.openitems import OpenItem, Position, allocate
from xlcredit.core.policy import Policy

__all__ = ["AgeingReport", "AgeingRow", "AgeingTotals", "age_ledger", "age_positions", "bucket_index",
           "bucket_of"]

BY_CHOICES = ("due_date", "invoice_date")


def bucket_index(days: int, bounds: tuple[int, ...]) -> int:
    """Bucket number: 0 = Current (days ≤ bounds[0]), k for bounds[k-1] < days ≤ bounds[k], last beyond."""
    for k, bound in enumerate(bounds):
        if days <= bound:
            return k
    return len(bounds)


def bucket_of(days: int, policy: Policy) -> str:
    """Bucket label for an item ``days`` past its due date under the policy ("Current", "1-30", …)."""
    if isinstance(days, bool) or not isinstance(days, numbers.Integral):
        raise XlcError("days", f"must be a whole number of days (got {describe(days)})", days)
    return policy.bucket_labels[bucket_index(int(days), policy.ageing.bounds)]


@dataclass(frozen=True)
class AgeingTotals:
    """Bucket amounts and totals in one currency (a sum of report rows)."""

    currency: str
    buckets: Mapping[str, Decimal]
    open_total: Decimal
    unapplied_cash: Decimal
    balance: Decimal
    disputed: Decimal
    overdue: Decimal


@dataclass(frozen=True)
class AgeingRow:
    """One customer's ageing in one document currency, and the same in the company currency.

    ``overdue`` is the open amount past its due date (every bucket but Current when ageing by due
    date). Company-currency fields (``fx_rate`` and the ``*_company`` ones) are None when no FX
    rates were given and the row is not in the company currency.
    """

    customer_id: str
    currency: str
    buckets: Mapping[str, Decimal]
    open_total: Decimal
    unapplied_cash: Decimal
    balance: Decimal
    disputed: Decimal
    overdue: Decimal
    open_items: int
    oldest_days: int
    fx_rate: Decimal | None
    buckets_company: Mapping[str, Decimal] | None
    open_total_company: Decimal | None
    unapplied_company: Decimal | None
    balance_company: Decimal | None
    disputed_company: Decimal | None
    overdue_company: Decimal | None


@dataclass(frozen=True)
class AgeingReport:
    """The ageing of a whole ledger at ``as_of`` (see the module docstring for the figures)."""

    as_of: dt.date
    by: str
    labels: tuple[str, ...]
    bounds: tuple[int, ...]
    company_currency: str
    rows: tuple[AgeingRow, ...]
    positions: Mapping[tuple[str, str], Position] = field(default_factory=dict, repr=False, compare=False)

    @property
    def currency_totals(self) -> dict[str, AgeingTotals]:
        """Totals per document currency (sums of the rows in that currency)."""
        out: dict[str, AgeingTotals] = {}
        for ccy in sorted({r.currency for r in self.rows}):
            rows = [r for r in self.rows if r.currency == ccy]
            out[ccy] = _sum_totals(ccy, self.labels, [(r.buckets, r.unapplied_cash, r.disputed, r.overdue)
                                                      for r in rows])
        return out

    @property
    def totals(self) -> AgeingTotals | None:
        """Totals in the company currency: sums of the rows' rounded company-currency figures.

        None when some row could not be converted (foreign currency and no FX rates given).
        """
        if any(r.buckets_company is None for r in self.rows):
            return None
        return _sum_totals(self.company_currency, self.labels,
                           [(r.buckets_company, r.unapplied_company, r.disputed_company, r.overdue_company)
                            for r in self.rows])  # type: ignore[misc]

    def customer(self, customer_id: str) -> tuple[AgeingRow, ...]:
        """The rows of one customer (one per currency it trades in; empty when it has no documents)."""
        cid = str(customer_id).strip()
        return tuple(r for r in self.rows if r.customer_id == cid)

    def to_records(self, *, totals: bool = True) -> list[dict[str, Any]]:
        """Rows as dicts for writing (CSV/XLSX), with a final company-currency TOTAL row when available.

        Columns: customer_id, currency, one per bucket, open_total, unapplied_cash, balance,
        disputed, overdue, fx_rate, then ``<bucket> <CCY>`` / ``open_total <CCY>`` / … in the
        company currency.
        """
        ccy = self.company_currency
        records: list[dict[str, Any]] = []
        for r in self.rows:
            rec: dict[str, Any] = {"customer_id": r.customer_id, "currency": r.currency}
            rec.update({label: r.buckets[label] for label in self.labels})
            rec.update(open_total=r.open_total, unapplied_cash=r.unapplied_cash, balance=r.balance,
                       disputed=r.disputed, overdue=r.overdue, fx_rate=r.fx_rate)
            for label in self.labels:
                rec[f"{label} {ccy}"] = None if r.buckets_company is None else r.buckets_company[label]
            rec.update({f"open_total {ccy}": r.open_total_company, f"unapplied_cash {ccy}": r.unapplied_company,
                        f"balance {ccy}": r.balance_company})
            records.append(rec)
        total = self.totals if totals else None
        if total is not None:
            rec = {"customer_id": "TOTAL", "currency": ccy}
            rec.update({label: None for label in self.labels})
            rec.update(open_total=None, unapplied_cash=None, balance=None, disputed=total.disputed,
                       overdue=total.overdue, fx_rate=None)
            rec.update({f"{label} {ccy}": total.buckets[label] for label in self.labels})
            rec.update({f"open_total {ccy}": total.open_total, f"unapplied_cash {ccy}": total.unapplied_cash,
                        f"balance {ccy}": total.balance})
            records.append(rec)
        return records

    def item_records(self) -> list[dict[str, Any]]:
        """Every open item as a dict (customer, invoice, dates, days past due, bucket, open amount)."""
        out: list[dict[str, Any]] = []
        for (_cid, _ccy), pos in sorted(self.positions.items()):
            for item in pos.open_items:
                days = _age_days(item, self.as_of, self.by)
                out.append({"customer_id": item.customer_id, "invoice_no": item.invoice_no,
                            "currency": item.currency, "invoice_date": item.invoice_date,
                            "due_date": item.due_date, "amount": item.amount, "open_amount": item.open_amount,
                            "days_overdue": item.days_overdue(self.as_of),
                            "bucket": self.labels[bucket_index(days, self.bounds)], "disputed": item.disputed,
                            "due_date_derived": item.invoice.due_date_derived})
        return out


def _sum_totals(currency: str, labels: tuple[str, ...],
                parts: list[tuple[Mapping[str, Decimal], Decimal, Decimal, Decimal]]) -> AgeingTotals:
    zero = round_money(ZERO, currency)
    buckets = {label: sum((p[0][label] for p in parts), zero) for label in labels}
    open_total = sum(buckets.values(), zero)
    unapplied = sum((p[1] for p in parts), zero)
    return AgeingTotals(currency, buckets, open_total, unapplied, open_total - unapplied,
                        sum((p[2] for p in parts), zero), sum((p[3] for p in parts), zero))


def _age_days(item: OpenItem, as_of: dt.date, by: str) -> int:
    base = item.invoice.due_date if by == "due_date" else item.invoice.invoice_date
    return (as_of - base).days


def age_ledger(ledger: Ledger, as_of: Any, policy: Policy, fx: FxRates | None = None,
               by: str | None = None) -> AgeingReport:
    """Age the ledger at ``as_of``: allocate credits (openitems), bucket what is open, convert.

    ``by``: "due_date" or "invoice_date" (default: the policy's ``ageing.basis``, due_date as
    shipped). ``fx``: rates into the company currency (``policy.company.currency``); a missing
    rate for a currency in the ledger raises :class:`XlcError` ("fx_rates: no EUR rate for USD on
    or before …"). Without ``fx`` only rows in the company currency get company-currency figures.
    """
    day = need_date(as_of, "as_of")
    return age_positions(allocate(ledger, day), day, policy, fx, by)


def age_positions(positions: Mapping[tuple[str, str], Position], as_of: Any, policy: Policy,
                  fx: FxRates | None = None, by: str | None = None) -> AgeingReport:
    """Age positions already allocated at ``as_of`` (lets a caller reuse one :func:`allocate`)."""
    day = need_date(as_of, "as_of")
    basis = by if by is not None else policy.ageing.basis
    if basis not in BY_CHOICES:
        raise XlcError("by", f"must be 'due_date' or 'invoice_date' (got {describe(basis)})", basis)
    company = policy.company.currency
    if fx is not None and fx.company_currency != company:
        raise XlcError("fx_rates", f"are into {fx.company_currency}, but the company currency is {company}",
                       fx.company_currency)
    labels = policy.bucket_labels
    bounds = policy.ageing.bounds
    rows: list[AgeingRow] = []
    for (cid, ccy), pos in sorted(positions.items()):
        zero = round_money(ZERO, ccy)
        buckets = dict.fromkeys(labels, zero)
        disputed = overdue = zero
        count, oldest = 0, 0
        for item in pos.items:
            if item.open_amount <= 0:
                continue
            days = _age_days(item, day, basis)
            buckets[labels[bucket_index(days, bounds)]] += item.open_amount
            count += 1
            oldest = max(oldest, (day - item.invoice.due_date).days)
            if item.invoice.disputed:
                disputed += item.open_amount
            if item.invoice.due_date < day:
                overdue += item.open_amount
        open_total = sum(buckets.values(), ZERO)
        rate: Decimal | None
        if ccy == company:
            rate = Decimal(1)
        elif fx is not None:
            rate = fx.rate(ccy, day)
        else:
            rate = None
        company_figures: dict[str, Any] = dict.fromkeys(
            ("buckets_company", "open_total_company", "unapplied_company", "balance_company", "disputed_company",
             "overdue_company"))
        if rate is not None:
            b_c = dict(zip(buckets, convert_parts(list(buckets.values()), rate, company), strict=True))
            open_c = round_money(open_total * rate, company)
            unapplied_c = round_money(pos.unapplied_cash * rate, company)
            company_figures = {"buckets_company": b_c, "open_total_company": open_c,
                               "unapplied_company": unapplied_c, "balance_company": open_c - unapplied_c,
                               "disputed_company": round_money(disputed * rate, company),
                               "overdue_company": round_money(overdue * rate, company)}
        rows.append(AgeingRow(cid, ccy, buckets, open_total, pos.unapplied_cash, open_total - pos.unapplied_cash,
                              disputed, overdue, count, oldest, rate, **company_figures))
    return AgeingReport(day, basis, labels, tuple(bounds), company, tuple(rows), dict(positions))
