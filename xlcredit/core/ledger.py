"""The receivables ledger as the core sees it: invoices, payments, credit notes, FX rates.

Records are immutable and validated on construction (bad input raises :class:`XlcError` naming
the field and the value). Amounts are ``Decimal`` in the document's currency, rounded half up to
the currency's minor unit (the one rounding rule of :mod:`xlcredit.core.money`), never negative:
a payment or credit note is a positive amount that reduces what the customer owes.

``RowProblem`` (one bad cell or row of an input table) is defined here, the agreed home for it;
``xlcredit.io.problems`` re-exports it.

How payments and credit notes settle invoices is :mod:`xlcredit.core.openitems`; ageing is
:mod:`xlcredit.core.ageing`; reading the tables from files is :mod:`xlcredit.io.ledger`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from xlcredit.core.coerce import need_date
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.money import currency_code, round_money, to_decimal

__all__ = ["CreditNote", "FxRates", "Invoice", "Ledger", "Payment", "RowProblem"]

_ISO_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one cell (or a whole row) of an input table.

    ``row`` is the row number as the user sees it in the file (header = row 1, first data row = 2;
    in a spreadsheet with title rows above the header, the sheet's own row number; for a pandas
    DataFrame its 0-based position + 2, as if it were written to a sheet with its header in row 1);
    ``column`` is the column name as written in the file; ``value`` is the cell as read.
    """

    table: str
    row: int
    column: str
    value: Any
    problem: str

    def __str__(self) -> str:
        return f"{self.table} row {self.row}, {self.column}: {self.problem}"


# --------------------------------------------------------------------------- field checks
def _text(value: Any, field_name: str, *, required: bool = True) -> str:
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise XlcError(field_name, f"must be text (got {describe(value)})", value)
    if required and not text:
        raise XlcError(field_name, "is empty", value)
    return text


def _currency(value: Any) -> str:
    text = _text(value, "currency").upper()
    if not _ISO_CURRENCY.fullmatch(text):
        raise XlcError("currency", f"must be a 3-letter ISO 4217 code like EUR (got {describe(value)})", value)
    return currency_code(text)


_QUANTA: dict[str, Decimal] = {}


def _amount(value: Any, currency: str) -> Decimal:
    parsed = value if type(value) is Decimal and value.is_finite() and value >= 0 else \
        to_decimal(value, "amount", allow_negative=False)
    assert parsed is not None
    q = _QUANTA.get(currency)
    if q is None:
        q = _QUANTA[currency] = round_money(Decimal(0), currency)
    return parsed.quantize(q, rounding=ROUND_HALF_UP)


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


def _trusted(cls: type, names: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    """A record built from values a loader has validated already (skips ``__post_init__``)."""
    obj = object.__new__(cls)
    obj.__dict__.update(zip(names, values, strict=True))
    return obj


# --------------------------------------------------------------------------- documents
@dataclass(frozen=True)
class Invoice:
    """An invoice (a debit on the customer's account), in its own currency.

    ``due_date_derived`` is True when the file gave no due date and it was set to the invoice date
    plus the net days of ``terms``. A ``disputed`` invoice stays open and is aged, but the FIFO
    allocation of unreferenced cash reaches it last, and dunning leaves it alone.
    """

    customer_id: str
    invoice_no: str
    currency: str
    amount: Decimal
    invoice_date: dt.date
    due_date: dt.date
    terms: str = ""
    disputed: bool = False
    due_date_derived: bool = False

    def __post_init__(self) -> None:
        _set(self, "customer_id", _text(self.customer_id, "customer_id"))
        _set(self, "invoice_no", _text(self.invoice_no, "invoice_no"))
        _set(self, "currency", _currency(self.currency))
        _set(self, "amount", _amount(self.amount, self.currency))
        _set(self, "invoice_date", need_date(self.invoice_date, "invoice_date"))
        _set(self, "due_date", need_date(self.due_date, "due_date"))
        _set(self, "terms", _text(self.terms, "terms", required=False))
        if not isinstance(self.disputed, bool):
            raise XlcError("disputed", f"must be true or false (got {describe(self.disputed)})", self.disputed)
        if self.due_date < self.invoice_date:
            raise XlcError("due_date", f"is before the invoice date ({self.due_date} < {self.invoice_date})",
                           self.due_date)

    @classmethod
    def trusted(cls, customer_id: str, invoice_no: str, currency: str, amount: Decimal, invoice_date: dt.date,
                due_date: dt.date, terms: str = "", disputed: bool = False, due_date_derived: bool = False) -> Invoice:
        """Build without the checks, for a loader that has validated every value (``io.ledger``)."""
        return _trusted(cls, _INVOICE_FIELDS, (customer_id, invoice_no, currency, amount, invoice_date, due_date,
                                               terms, disputed, due_date_derived))


@dataclass(frozen=True)
class Payment:
    """Money received from the customer; ``invoice_ref`` optionally names the invoice it pays."""

    payment_id: str
    customer_id: str
    payment_date: dt.date
    amount: Decimal
    currency: str
    invoice_ref: str = ""

    def __post_init__(self) -> None:
        _set(self, "payment_id", _text(self.payment_id, "payment_id"))
        _set(self, "customer_id", _text(self.customer_id, "customer_id"))
        _set(self, "payment_date", need_date(self.payment_date, "payment_date"))
        _set(self, "currency", _currency(self.currency))
        _set(self, "amount", _amount(self.amount, self.currency))
        _set(self, "invoice_ref", _text(self.invoice_ref, "invoice_ref", required=False))

    @classmethod
    def trusted(cls, payment_id: str, customer_id: str, payment_date: dt.date, amount: Decimal, currency: str,
                invoice_ref: str = "") -> Payment:
        """Build without the checks, for a loader that has validated every value (``io.ledger``)."""
        return _trusted(cls, _PAYMENT_FIELDS, (payment_id, customer_id, payment_date, amount, currency, invoice_ref))

    @property
    def date(self) -> dt.date:
        """The payment date (the name credit notes use, so both kinds of credit read alike)."""
        return self.payment_date

    @property
    def document_id(self) -> str:
        """The payment id."""
        return self.payment_id


@dataclass(frozen=True)
class CreditNote:
    """A credit note (goods returned, price reduced); ``invoice_ref`` optionally names the invoice it credits."""

    credit_note_no: str
    customer_id: str
    date: dt.date
    amount: Decimal
    currency: str
    invoice_ref: str = ""

    def __post_init__(self) -> None:
        _set(self, "credit_note_no", _text(self.credit_note_no, "credit_note_no"))
        _set(self, "customer_id", _text(self.customer_id, "customer_id"))
        _set(self, "date", need_date(self.date, "date"))
        _set(self, "currency", _currency(self.currency))
        _set(self, "amount", _amount(self.amount, self.currency))
        _set(self, "invoice_ref", _text(self.invoice_ref, "invoice_ref", required=False))

    @classmethod
    def trusted(cls, credit_note_no: str, customer_id: str, date: dt.date, amount: Decimal, currency: str,
                invoice_ref: str = "") -> CreditNote:
        """Build without the checks, for a loader that has validated every value (``io.ledger``)."""
        return _trusted(cls, _CREDIT_NOTE_FIELDS, (credit_note_no, customer_id, date, amount, currency, invoice_ref))

    @property
    def document_id(self) -> str:
        """The credit note number."""
        return self.credit_note_no


_INVOICE_FIELDS = tuple(f.name for f in fields(Invoice))
_PAYMENT_FIELDS = tuple(f.name for f in fields(Payment))
_CREDIT_NOTE_FIELDS = tuple(f.name for f in fields(CreditNote))


@dataclass(frozen=True)
class Ledger:
    """The receivables ledger: every invoice, payment and credit note (any dates, any customers)."""

    invoices: tuple[Invoice, ...] = ()
    payments: tuple[Payment, ...] = ()
    credit_notes: tuple[CreditNote, ...] = ()

    def __post_init__(self) -> None:
        for name, kind in (("invoices", Invoice), ("payments", Payment), ("credit_notes", CreditNote)):
            items = tuple(getattr(self, name))
            for i, item in enumerate(items):
                if not isinstance(item, kind):
                    raise XlcError(f"{name}[{i}]", f"must be a {kind.__name__} (got {type(item).__name__})", item)
            _set(self, name, items)

    def latest_document_date(self) -> dt.date | None:
        """The date of the newest invoice, payment or credit note (None for an empty ledger): what a ledger
        without a stated date is "as of"."""
        days = [*(d.invoice_date for d in self.invoices), *(d.payment_date for d in self.payments),
                *(d.date for d in self.credit_notes)]
        return max(days, default=None)

    def customer_ids(self) -> tuple[str, ...]:
        """Every customer with a document in the ledger, sorted."""
        ids = {d.customer_id for d in self.invoices}
        ids.update(d.customer_id for d in self.payments)
        ids.update(d.customer_id for d in self.credit_notes)
        return tuple(sorted(ids))

    def for_customer(self, customer_id: str) -> Ledger:
        """The documents of one customer only."""
        cid = str(customer_id).strip()
        return Ledger(tuple(d for d in self.invoices if d.customer_id == cid),
                      tuple(d for d in self.payments if d.customer_id == cid),
                      tuple(d for d in self.credit_notes if d.customer_id == cid))

    def by_customer(self) -> dict[str, Ledger]:
        """One sub-ledger per customer, in one pass."""
        parts: dict[str, tuple[list[Invoice], list[Payment], list[CreditNote]]] = {}
        for inv in self.invoices:
            parts.setdefault(inv.customer_id, ([], [], []))[0].append(inv)
        for pay in self.payments:
            parts.setdefault(pay.customer_id, ([], [], []))[1].append(pay)
        for cn in self.credit_notes:
            parts.setdefault(cn.customer_id, ([], [], []))[2].append(cn)
        return {cid: Ledger(tuple(i), tuple(p), tuple(c)) for cid, (i, p, c) in sorted(parts.items())}

    def currencies(self) -> tuple[str, ...]:
        """Every document currency used, sorted."""
        found = {d.currency for d in self.invoices}
        found.update(d.currency for d in self.payments)
        found.update(d.currency for d in self.credit_notes)
        return tuple(sorted(found))


# --------------------------------------------------------------------------- FX rates
@dataclass(frozen=True)
class FxRates:
    """Exchange rates into the company currency, looked up as of a date.

    ``rates``: ``(date, currency, rate)`` rows, ``rate`` = company-currency units per 1 unit of
    ``currency``. :meth:`rate` takes the latest rate dated on or before ``as_of``;
    the company currency itself is always 1. Two rates for the same currency and date, a rate
    that is not positive, or a row for the company currency other than 1 raise :class:`XlcError`.
    """

    rates: tuple[tuple[dt.date, str, Decimal], ...] = ()
    company_currency: str = "EUR"
    _index: Mapping[str, tuple[tuple[dt.date, ...], tuple[Decimal, ...]]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        company = _currency(self.company_currency)
        _set(self, "company_currency", company)
        rows: list[tuple[dt.date, str, Decimal]] = []
        seen: dict[tuple[str, dt.date], Decimal] = {}
        for i, row in enumerate(self.rates):
            try:
                day, currency, rate = row
            except (TypeError, ValueError):
                raise XlcError(f"fx_rates[{i}]", f"must be (date, currency, rate) (got {describe(row)})",
                               row) from None
            day = need_date(day, "fx_rates.date")
            code = _currency(currency)
            value = to_decimal(rate, "fx_rates.rate")
            assert value is not None
            if value <= 0:
                raise XlcError("fx_rates.rate", f"must be positive (got {value} for {code} on {day})", rate)
            if code == company and value != 1:
                raise XlcError("fx_rates.rate", f"{company} is the company currency, its rate is 1 (got {value} "
                               f"on {day})", rate)
            if (code, day) in seen and seen[(code, day)] != value:
                raise XlcError("fx_rates", f"two rates for {code} on {day} ({seen[(code, day)]} and {value})", row)
            seen[(code, day)] = value
            rows.append((day, code, value))
        rows.sort(key=lambda r: (r[1], r[0]))
        _set(self, "rates", tuple(rows))
        index: dict[str, tuple[list[dt.date], list[Decimal]]] = {}
        for day, code, value in rows:
            days, values = index.setdefault(code, ([], []))
            if days and days[-1] == day:
                continue
            days.append(day)
            values.append(value)
        _set(self, "_index", {c: (tuple(d), tuple(v)) for c, (d, v) in index.items()})

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]], company_currency: str = "EUR") -> FxRates:
        """From mappings with keys ``date``, ``currency``, ``rate`` (e.g. ``csv.DictReader`` rows)."""
        return cls(tuple((r["date"], r["currency"], r["rate"]) for r in rows), company_currency)

    @property
    def currencies(self) -> tuple[str, ...]:
        """Currencies with at least one rate (the company currency always converts)."""
        return tuple(sorted(set(self._index) | {self.company_currency}))

    def rate(self, currency: str, as_of: Any) -> Decimal:
        """Company-currency units per 1 unit of ``currency``: the latest rate dated on or before ``as_of``."""
        code = _currency(currency)
        day = need_date(as_of, "as_of")
        if code == self.company_currency:
            return Decimal(1)
        days, values = self._index.get(code, ((), ()))
        at = bisect.bisect_right(days, day)
        if at == 0:
            raise XlcError("fx_rates", f"no {self.company_currency} rate for {code} on or before {day}", code)
        return values[at - 1]

    def convert(self, amount: Decimal, currency: str, as_of: Any) -> Decimal:
        """``amount`` of ``currency`` in the company currency at the as-of rate, rounded half up."""
        return round_money(amount * self.rate(currency, as_of), self.company_currency)
