"""Open items: which invoices payments and credit notes have settled, and what is still owed.

The allocation rule (the specification; ``xlcredit.core.fast.ageing`` applies the same rule to int64 minor
units and agrees with this module to the cent). Within each (customer_id, currency), looking only
at documents dated on or before ``as_of``:

1. **References first.** Credits (payments and credit notes) are taken in the order
   (date, id, payments before credit notes). A credit whose ``invoice_ref`` names an invoice of the
   same customer and currency dated on or before ``as_of`` settles that invoice first, up to what
   is still open on it; the excess joins the pool. A reference that names no such invoice (unknown
   number, another currency, or an invoice dated after ``as_of``) puts the whole amount in the
   pool and is noted in :attr:`Position.notes`.
2. **FIFO for the pool.** The pool — what is left of every credit, ordered by (date, id, payments
   before credit notes) — settles the invoices in the order (disputed last, due_date,
   invoice_date, invoice_no): cumulative matching, the k-th unit of credit pays the k-th unit of
   invoice. Open amounts therefore depend only on how much credit there is, not on its order.
3. **Unapplied cash.** Credit left after every invoice is settled is the position's
   ``unapplied_cash`` (never lost; listed credit by credit in ``Position.unapplied``).
4. **Settlement dates.** Each settled slice is dated max(credit date, invoice date) — a payment
   made before the invoice (a prepayment) settles it on the invoice date. The slices drive late
   interest on partial payments (:meth:`OpenItem.overdue_slices`) and payment history.

:func:`allocate` returns every (customer, currency) pair with at least one document dated on or
before ``as_of``. ``Position.items`` holds **every** invoice dated on or before ``as_of`` — the
fully settled ones too (open_amount 0, with their settlements: payment history needs them) — in
allocation order; ``Position.open_items`` only those with something still owed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from xlcredit.core.coerce import need_date
from xlcredit.core.ledger import CreditNote, Invoice, Ledger, Payment
from xlcredit.core.money import ZERO, round_money

__all__ = ["OpenItem", "Position", "Settlement", "allocate", "allocation_key", "credit_key"]

Credit = Payment | CreditNote


@dataclass(frozen=True)
class Settlement:
    """A slice of an invoice settled by one credit (or, in ``Position.unapplied``, credit left over).

    ``date`` is the settlement date, max(credit date, invoice date); ``source`` the payment id or
    credit note number; ``kind`` "payment" or "credit_note"; ``referenced`` True when the credit
    named this invoice in its ``invoice_ref`` (step 1 of the rule), False for FIFO (step 2).
    """

    amount: Decimal
    date: dt.date
    source: str
    kind: str = "payment"
    referenced: bool = False


@dataclass(frozen=True)
class OpenItem:
    """An invoice and what is still owed on it at the as-of date of the allocation."""

    invoice: Invoice
    open_amount: Decimal
    settlements: tuple[Settlement, ...] = ()

    # the fields the dunning ladder and reports read directly
    @property
    def customer_id(self) -> str:
        return self.invoice.customer_id

    @property
    def invoice_no(self) -> str:
        return self.invoice.invoice_no

    @property
    def currency(self) -> str:
        return self.invoice.currency

    @property
    def amount(self) -> Decimal:
        """The invoice amount (before any settlement)."""
        return self.invoice.amount

    @property
    def invoice_date(self) -> dt.date:
        return self.invoice.invoice_date

    @property
    def due_date(self) -> dt.date:
        return self.invoice.due_date

    @property
    def disputed(self) -> bool:
        return self.invoice.disputed

    @property
    def settled_amount(self) -> Decimal:
        """Sum of the settled slices (invoice amount − open amount)."""
        return sum((s.amount for s in self.settlements), ZERO)

    @property
    def is_open(self) -> bool:
        """Something is still owed."""
        return self.open_amount > 0

    @property
    def last_settled(self) -> dt.date | None:
        """Latest settlement date (None when nothing has been settled)."""
        return max((s.date for s in self.settlements), default=None)

    def days_overdue(self, as_of: dt.date) -> int:
        """Calendar days past the due date at ``as_of``, 0 when not yet due (whatever is open)."""
        return max(0, (need_date(as_of, "as_of") - self.invoice.due_date).days)

    def overdue_slices(self, as_of: dt.date) -> list[tuple[Decimal, dt.date, dt.date]]:
        """Amounts that were outstanding after the due date: ``(amount, due_date, end)``.

        One slice per settlement made after the due date (``end`` = its settlement date) and one
        for what is still open (``end`` = ``as_of``) when ``as_of`` is past the due date. Feed
        them to ``interest.interest_on_slices`` for interest on partial payments. Settlements after
        ``as_of`` (possible only when this item came from a later allocation) count as still open.
        """
        day = need_date(as_of, "as_of")
        due = self.invoice.due_date
        out: list[tuple[Decimal, dt.date, dt.date]] = []
        still_open = self.open_amount
        for s in self.settlements:
            if s.date > day:
                still_open += s.amount
            elif s.date > due and s.amount > 0:
                out.append((s.amount, due, s.date))
        if still_open > 0 and day > due:
            out.append((still_open, due, day))
        return out


@dataclass(frozen=True)
class Position:
    """A customer's account in one currency at the as-of date of the allocation.

    ``items``: every invoice dated on or before as_of, in allocation order, fully settled ones
    included; ``unapplied_cash``: credit not matched to any invoice (``unapplied`` lists it credit by
    credit); ``notes``: references that could not be followed (their amount went to the pool).
    """

    customer_id: str
    currency: str
    items: tuple[OpenItem, ...]
    unapplied_cash: Decimal
    unapplied: tuple[Settlement, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def _zero(self) -> Decimal:
        return round_money(ZERO, self.currency)

    @property
    def open_items(self) -> tuple[OpenItem, ...]:
        """Invoices with something still owed, in allocation order."""
        return tuple(i for i in self.items if i.open_amount > 0)

    @property
    def open_total(self) -> Decimal:
        """What is still owed on invoices (before netting unapplied cash)."""
        return sum((i.open_amount for i in self.items), self._zero)

    @property
    def balance(self) -> Decimal:
        """Net balance of the account: open invoices − unapplied cash (= invoices − credits)."""
        return self.open_total - self.unapplied_cash

    @property
    def disputed_total(self) -> Decimal:
        """Open amount on disputed invoices (part of ``open_total``)."""
        return sum((i.open_amount for i in self.items if i.invoice.disputed), self._zero)

    def overdue_total(self, as_of: dt.date) -> Decimal:
        """Open amount past its due date at ``as_of``."""
        day = need_date(as_of, "as_of")
        return sum((i.open_amount for i in self.items if i.invoice.due_date < day), self._zero)


# --------------------------------------------------------------------------- the rule
def allocation_key(invoice: Invoice) -> tuple[bool, dt.date, dt.date, str]:
    """FIFO order of invoices (step 2): disputed last, then due date, invoice date, invoice number."""
    return (invoice.disputed, invoice.due_date, invoice.invoice_date, invoice.invoice_no)


def credit_key(credit: Credit) -> tuple[dt.date, str, int]:
    """Order of credits: date, id, payments before credit notes."""
    if isinstance(credit, Payment):
        return (credit.payment_date, credit.payment_id, 0)
    return (credit.date, credit.credit_note_no, 1)


def _credit_parts(credit: Credit) -> tuple[dt.date, str, str]:
    if isinstance(credit, Payment):
        return credit.payment_date, credit.payment_id, "payment"
    return credit.date, credit.credit_note_no, "credit_note"


def allocate(ledger: Ledger, as_of: dt.date) -> dict[tuple[str, str], Position]:
    """Settle invoices with payments and credit notes by the documented rule (module docstring).

    Returns one :class:`Position` per (customer_id, currency) with a document dated on or before
    ``as_of``, keyed by that pair, in sorted key order. Documents dated after ``as_of`` are ignored
    (an ageing as of an earlier date never sees them).
    """
    day = need_date(as_of, "as_of")
    invoices: dict[tuple[str, str], list[Invoice]] = {}
    credits: dict[tuple[str, str], list[Credit]] = {}
    for inv in ledger.invoices:
        if inv.invoice_date <= day:
            invoices.setdefault((inv.customer_id, inv.currency), []).append(inv)
    for credit in (*ledger.payments, *ledger.credit_notes):
        if _credit_parts(credit)[0] <= day:
            credits.setdefault((credit.customer_id, credit.currency), []).append(credit)
    # invoice numbers of each customer, in any currency and at any date (for the notes)
    known: dict[tuple[str, str], Invoice] = {(i.customer_id, i.invoice_no): i for i in ledger.invoices}
    return {key: _allocate_group(key, invoices.get(key, []), credits.get(key, []), known, day)
            for key in sorted(set(invoices) | set(credits))}


def _allocate_group(key: tuple[str, str], invoices: list[Invoice], credits: Iterable[Credit],
                    known: dict[tuple[str, str], Invoice], day: dt.date) -> Position:
    customer_id, currency = key
    queue = sorted(invoices, key=allocation_key)
    by_no = {inv.invoice_no: k for k, inv in enumerate(queue)}
    remaining = [inv.amount for inv in queue]
    slices: list[list[Settlement]] = [[] for _ in queue]
    notes: list[str] = []

    # step 1: references first; what is left of each credit joins the pool
    pool: list[tuple[Decimal, dt.date, str, str]] = []
    for credit in sorted(credits, key=credit_key):
        date, source, kind = _credit_parts(credit)
        left = credit.amount
        ref = credit.invoice_ref
        if ref:
            k = by_no.get(ref)
            if k is None:
                notes.append(_ref_note(kind, source, ref, customer_id, currency, known, day))
            elif remaining[k] > 0:
                take = min(left, remaining[k])
                if take > 0:
                    remaining[k] -= take
                    left -= take
                    slices[k].append(Settlement(take, max(date, queue[k].invoice_date), source, kind, True))
        if left > 0:
            pool.append((left, date, source, kind))

    # step 2: the pool settles the invoices first in, first out
    k = 0
    unapplied: list[Settlement] = []
    for amount, date, source, kind in pool:
        left = amount
        while left > 0 and k < len(queue):
            if remaining[k] == 0:
                k += 1
                continue
            take = min(left, remaining[k])
            remaining[k] -= take
            left -= take
            slices[k].append(Settlement(take, max(date, queue[k].invoice_date), source, kind, False))
        if left > 0:  # step 3: nothing left to settle
            unapplied.append(Settlement(left, date, source, kind, False))

    items = tuple(OpenItem(inv, remaining[k], tuple(slices[k])) for k, inv in enumerate(queue))
    return Position(customer_id, currency, items, sum((u.amount for u in unapplied), round_money(ZERO, currency)),
                    tuple(unapplied), tuple(notes))


def _ref_note(kind: str, source: str, ref: str, customer_id: str, currency: str,
              known: dict[tuple[str, str], Invoice], day: dt.date) -> str:
    what = "payment" if kind == "payment" else "credit note"
    target = known.get((customer_id, ref))
    if target is None:
        why = f"names no invoice of {customer_id}"
    elif target.currency != currency:
        why = f"names an invoice in {target.currency}, not {currency}"
    else:
        why = f"names an invoice dated {target.invoice_date}, after {day}"
    return f"{what} {source}: invoice_ref {ref!r} {why}; the amount was applied to the oldest invoices"
