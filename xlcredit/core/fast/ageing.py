"""Fast path: open items, ageing and late interest for large ledgers (numpy, int64 minor units).

**Mirrors** (the specification): :func:`xlcredit.core.openitems.allocate` → :func:`xlcredit.core.ageing.age_ledger`
for open items, buckets and unapplied cash; :func:`xlcredit.core.interest.late_interest` per open invoice for
interest. **Rounding**: amounts are exact int64 minor units (no rounding); interest per invoice is rounded
once, half up, to the currency's minor unit (the reference's ``round_money``), then summed.
``tests/test_fast_matches_reference.py`` holds the two to the cent on random ledgers.

The reference path works on ``Decimal`` records, one invoice at a time. This module applies **the same
allocation rule** (:mod:`xlcredit.core.openitems`) to whole columns at once, for ledgers of a million invoices:

Within each (customer, currency), counting only documents dated on or before ``as_of``:

1. a payment or credit note whose ``invoice_ref`` names an invoice of the same customer and
   currency settles that invoice first, up to what is still open on it; the excess joins the pool
   (a reference naming no such invoice puts the whole amount in the pool and is reported);
2. the pool settles the invoices first-in first-out in the order (disputed last, due date,
   invoice date, invoice number) — the k-th unit of credit pays the k-th unit of invoice;
3. credit left after every invoice is settled is **unapplied cash**, shown per customer and
   currency.

Open amounts and unapplied cash do not depend on the order of the credits (only their total per
invoice and per pool matters), so the kernel never needs the slice-by-slice settlement dates.

**Late interest.** The bulk path charges simple interest on the amount still open at ``as_of``
for the days it is past its due date: ``open × annual_rate × days_overdue / basis`` per invoice,
rounded half up to the minor unit, then summed per customer and currency. This equals
``interest.late_interest(open_amount, due_date, as_of, annual_rate, basis)`` invoice by invoice.
The reference path can also charge interest slice by slice on partial payments made late
(``interest_on_slices``); the bulk path does not — it answers "what do they owe us today".
Disputed invoices are aged and reported, but their interest is left out of the per-customer
interest total (it is still shown per invoice) — a disputed item is not claimed until resolved.

How it is fast: :func:`prepare_bulk` puts the invoices once into allocation order — a linear
radix pass when the rows come in document order (as exports do), else one ``np.sort`` of a packed
int64 key; each ageing run (:func:`age_bulk`, any as_of) is then a handful of linear passes —
a running total per group and a clip — with no Python loop over invoices; buckets, interest and
the per-item lists only touch the items still open. Ids are factorised to small integer codes
once, at load (:func:`frames_to_arrays`).
Money is ``int64`` minor units throughout (cents; yen for JPY); no float touches an amount.
Dates are ``int32`` day numbers (days since 1970-01-01, the ``datetime64[D]`` epoch).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import cached_property, lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from xlcredit.core.coerce import need_date, to_date
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.money import minor_units, to_decimal
from xlcredit.core.policy import Policy

EPOCH = dt.date(1970, 1, 1)
_MAX_SAFE = 2**62  # headroom below int64 for every running total and product

__all__ = [
    "KERNELS",
    "NUMBA_FROM_ROWS",
    "NUMBA_LOADED_FROM_ROWS",
    "BulkAgeing",
    "BulkCredits",
    "BulkFrames",
    "BulkInvoices",
    "BulkProblem",
    "PreparedLedger",
    "age_bulk",
    "age_frames",
    "bucket_index",
    "day_number",
    "day_numbers",
    "frames_to_arrays",
    "interest_minor",
    "numba_available",
    "prepare_bulk",
]


# ---------------------------------------------------------------------------- dates
def day_number(value: Any, field: str = "as_of") -> int:
    """A date as its day number (days since 1970-01-01); accepts date, datetime, datetime64 or a day number."""
    if isinstance(value, bool):
        raise XlcError(field, f"is not a date (got {describe(value)})", value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return (value - EPOCH).days
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise XlcError(field, "is empty", value)
        return int(value.astype("datetime64[D]").astype(np.int64))
    return (need_date(value, field) - EPOCH).days   # text was read where it entered (xlcredit.core.coerce)


def day_numbers(values: Any, field: str) -> np.ndarray:
    """A column of dates as ``int32`` day numbers (datetime64 of any unit, or integers)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        if np.isnat(arr).any():
            row = int(np.flatnonzero(np.isnat(arr))[0])
            raise XlcError(field, f"is empty (row {row})", None)
        days = arr.astype("datetime64[D]").astype(np.int64)
    elif arr.dtype == np.int32:
        return arr  # every int32 is a day number in range
    elif arr.dtype.kind in "iu":
        days = arr.astype(np.int64, copy=False)
    else:
        raise XlcError(field, f"must be datetime64 or integer day numbers (got dtype {arr.dtype})", arr.dtype)
    if days.size and (days.min() < -(2**31) or days.max() >= 2**31):
        raise XlcError(field, "is out of range", None)
    return days.astype(np.int32)


def _int_column(values: Any, field: str, n: int | None, *, dtype: type | None = np.int64,
                lo: int | None = 0) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu":
        raise XlcError(field, f"must be integers (got dtype {arr.dtype})", arr.dtype)
    if arr.ndim != 1:
        raise XlcError(field, "must be one column", None)
    if n is not None and arr.shape[0] != n:
        raise XlcError(field, f"has {arr.shape[0]} rows, expected {n}", arr.shape[0])
    if lo is not None and arr.size and arr.min() < lo:
        row = int(np.flatnonzero(arr < lo)[0])
        raise XlcError(field, f"must not be below {lo} (got {int(arr[row])} in row {row})", int(arr[row]))
    if arr.size and arr.max() >= _MAX_SAFE:
        row = int(np.argmax(arr))
        raise XlcError(field, f"is too large (got {int(arr[row])} in row {row})", int(arr[row]))
    if dtype is None:  # codes: int32 or int64 as given
        return arr if arr.dtype in (np.int32, np.int64) else arr.astype(np.int64)
    return arr.astype(dtype, copy=False)


# ---------------------------------------------------------------------------- inputs
@dataclass(frozen=True, eq=False)
class BulkInvoices:
    """Invoices as columns. Codes are small non-negative ints (factorised ids), money int64 minor units.

    ``number_rank`` orders invoice numbers (the last tie-break of the allocation order: any int64
    that sorts like the numbers); None lets the row order stand in for it.
    """

    customer: np.ndarray
    currency: np.ndarray
    amount_minor: np.ndarray
    invoice_date: np.ndarray
    due_date: np.ndarray
    disputed: np.ndarray
    number_rank: np.ndarray | None = None

    def __post_init__(self) -> None:
        cust = _int_column(self.customer, "invoices.customer", None, dtype=None)
        n = cust.shape[0]
        object.__setattr__(self, "customer", cust)
        object.__setattr__(self, "currency", _int_column(self.currency, "invoices.currency", n, dtype=None))
        object.__setattr__(self, "amount_minor", _int_column(self.amount_minor, "invoices.amount_minor", n))
        for name in ("invoice_date", "due_date"):
            days = day_numbers(getattr(self, name), f"invoices.{name}")
            if days.shape[0] != n:
                raise XlcError(f"invoices.{name}", f"has {days.shape[0]} rows, expected {n}", days.shape[0])
            object.__setattr__(self, name, days)
        disputed = np.asarray(self.disputed)
        if disputed.dtype != np.bool_ or disputed.shape != (n,):
            raise XlcError("invoices.disputed", f"must be {n} booleans (got dtype {disputed.dtype})", disputed.dtype)
        object.__setattr__(self, "disputed", disputed)
        if self.number_rank is not None:
            object.__setattr__(self, "number_rank", _int_column(self.number_rank, "invoices.number_rank", n, lo=None))

    def __len__(self) -> int:
        return int(self.customer.shape[0])


@dataclass(frozen=True, eq=False)
class BulkCredits:
    """Payments and credit notes as columns; ``invoice_row`` is the referenced invoice's row or -1."""

    customer: np.ndarray
    currency: np.ndarray
    amount_minor: np.ndarray
    date: np.ndarray
    invoice_row: np.ndarray | None = None

    def __post_init__(self) -> None:
        cust = _int_column(self.customer, "credits.customer", None, dtype=None)
        n = cust.shape[0]
        object.__setattr__(self, "customer", cust)
        object.__setattr__(self, "currency", _int_column(self.currency, "credits.currency", n, dtype=None))
        object.__setattr__(self, "amount_minor", _int_column(self.amount_minor, "credits.amount_minor", n))
        days = day_numbers(self.date, "credits.date")
        if days.shape[0] != n:
            raise XlcError("credits.date", f"has {days.shape[0]} rows, expected {n}", days.shape[0])
        object.__setattr__(self, "date", days)
        ref = np.full(n, -1, np.int64) if self.invoice_row is None else self.invoice_row
        object.__setattr__(self, "invoice_row", _int_column(ref, "credits.invoice_row", n, lo=-1))

    def __len__(self) -> int:
        return int(self.customer.shape[0])


# ---------------------------------------------------------------------------- preparation (sort once)
@dataclass(frozen=True, eq=False)
class PreparedLedger:
    """Invoices sorted into allocation order, credits numbered by group — reusable for any as_of.

    A group is one (customer, currency) pair that occurs in the ledger (``group_customer``,
    ``group_currency``). Sorted invoices of group k are ``offsets[k]:offsets[k+1]``. Credits stay
    in their input order with their group number. References are kept compactly: ``ref_pos`` lists
    the sorted positions of referenced invoices, ``ref_slot``/``ref_amount``/``ref_date`` one entry
    per referencing credit.
    """

    n_invoices: int
    n_credits: int
    n_groups: int
    group_customer: np.ndarray      # int64 per group
    group_currency: np.ndarray      # int64 per group
    offsets: np.ndarray             # int64, n_groups + 1
    order: np.ndarray               # int64: sorted position → invoice row
    inv_group: np.ndarray           # int32 per sorted invoice
    inv_amount: np.ndarray          # int64 per sorted invoice
    inv_date: np.ndarray            # int32 per sorted invoice
    inv_due: np.ndarray             # int32 per sorted invoice
    inv_disputed: np.ndarray        # bool per sorted invoice
    cr_group: np.ndarray            # int32 (or int64) group per credit
    cr_amount: np.ndarray           # int64 per credit
    cr_date: np.ndarray             # int32 per credit
    credit_total: np.ndarray        # int64 per group: all credits, whatever their date
    ref_pos: np.ndarray             # int64, sorted unique positions of referenced invoices
    ref_bounds: np.ndarray          # int64, n_groups + 1: ref_pos entries of each group
    ref_slot: np.ndarray            # int32 per referencing credit: index into ref_pos
    ref_amount: np.ndarray          # int64 per referencing credit
    ref_date: np.ndarray            # int32 per referencing credit
    ref_invoice_date: np.ndarray    # int32 per referencing credit: date of the invoice it names
    ref_row: np.ndarray             # int64 per referencing credit: its row in the credits input
    foreign_row: np.ndarray         # int64: credit rows whose reference names another customer/currency
    foreign_date: np.ndarray        # int32: their dates
    first_invoice: np.ndarray       # int32 per group: earliest invoice date (int32 max if none)
    credit_count: np.ndarray        # int64 per group: number of credits, whatever their date
    last_invoice_date: int
    last_credit_date: int


_NEVER = np.iinfo(np.int32).max


def _bits(n: int) -> int:
    return max(1, int(n).bit_length())


def _in_document_order(invoice_date: np.ndarray, rank: np.ndarray | None) -> bool:
    """True when the rows already come in (invoice date, invoice number) order, as exports usually do."""
    if invoice_date.shape[0] <= 1:
        return True
    if not bool((invoice_date[1:] >= invoice_date[:-1]).all()):
        return False
    if rank is None or bool((rank[1:] >= rank[:-1]).all()):
        return True
    ddate = np.diff(invoice_date)
    return bool(((ddate > 0) | (np.diff(rank) >= 0)).all())


def _packed_allocation(group: np.ndarray, disputed: np.ndarray, due: np.ndarray, invoice_date: np.ndarray,
                       rank: np.ndarray | None, n_groups: int) -> tuple[np.ndarray, ...] | None:
    """The whole allocation order in one sort of one packed int64 key, for any shape of input.

    Key, high bits to low: group, disputed, due date, invoice date, then the invoice number's rank
    (when the numbers are distinct and dense enough for a lookup table back to the row) or the row.
    ``ndarray.sort`` of int64 is the fastest sort numpy has; the sorted key is decoded back into the
    sorted group, disputed flag, due date and invoice date, so those need no gathers. Returns
    (order, group, disputed, due, invoice date) in allocation order, or None when the key does not
    fit 63 bits (the caller then sorts in steps).
    """
    n = group.shape[0]
    if n == 0:
        return None
    due_lo, date_lo = int(due.min()), int(invoice_date.min())
    b_due, b_date = _bits(int(due.max()) - due_lo), _bits(int(invoice_date.max()) - date_lo)
    b_group = _bits(max(n_groups - 1, 0))
    row_of = None
    if rank is not None:
        rank_lo = int(rank.min())
        span = int(rank.max()) - rank_lo + 1
        if span > 4 * n + 1024:
            return None
        tail = rank.astype(np.int64, copy=False) - rank_lo
        row_of = np.full(span, -1, np.int64)
        row_of[tail] = np.arange(n, dtype=np.int64)
        if int(np.count_nonzero(row_of >= 0)) != n:  # repeated numbers: the row must break the tie
            return None
        b_tail = _bits(span - 1)
    else:
        tail = np.arange(n, dtype=np.int64)
        b_tail = _bits(n - 1)
    if b_group + 1 + b_due + b_date + b_tail > 63:
        return None
    packed = group.astype(np.int64)
    packed <<= 1
    packed |= disputed
    packed <<= b_due
    packed += due - due_lo
    packed <<= b_date
    packed += invoice_date - date_lo
    packed <<= b_tail
    packed |= tail
    packed.sort()
    low = packed & ((1 << b_tail) - 1)
    order = low if row_of is None else row_of[low]
    packed >>= b_tail
    s_date = (packed & ((1 << b_date) - 1)).astype(np.int32)
    s_date += date_lo
    packed >>= b_date
    s_due = (packed & ((1 << b_due) - 1)).astype(np.int32)
    s_due += due_lo
    packed >>= b_due
    s_disputed = (packed & 1).astype(bool)
    packed >>= 1
    return order, packed.astype(np.int32), s_disputed, s_due, s_date


def _allocation_order(group: np.ndarray, disputed: np.ndarray, due: np.ndarray, invoice_date: np.ndarray,
                      rank: np.ndarray | None, n_groups: int
                      ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Rows in allocation order: (group, disputed, due, invoice date, number, row).

    Rows in document order take a linear-time radix pass on (group, disputed); only the runs whose
    due dates are out of order are sorted again. Other rows get one sort of a packed int64 key
    (group, disputed, due, row), after which only runs of equal due dates are re-sorted by
    (invoice date, number). Also returns ``group * 2 + disputed`` and the due dates in sorted order
    when the radix pass computed them (else None).
    """
    n = group.shape[0]
    rows = np.arange(n, dtype=np.int64)
    in_order = _in_document_order(invoice_date, rank)
    due64 = due.astype(np.int64)
    rel_due = due64 - (int(due64.min()) if n else 0)
    b_due, b_row = _bits(int(rel_due.max()) if n else 0), _bits(n)
    if in_order and 2 * n_groups <= 65536:
        key = group.astype(np.uint16)  # group * 2 + disputed < 65536 by the test above
        key <<= 1
        key |= disputed
        order = np.argsort(key, kind="stable").astype(np.int64)  # radix sort for 16-bit keys
        k, d = key[order], due[order]
        same = k[1:] == k[:-1]
        out_of_order = same & (d[1:] < d[:-1])
        if out_of_order.any():  # re-sort only the (group, disputed) runs that are out of order
            run_of = np.cumsum(np.concatenate(([True], ~same))) - 1
            bad = np.zeros(int(run_of[-1]) + 1, bool)
            bad[run_of[1:][out_of_order]] = True
            pos = np.flatnonzero(bad[run_of])
            sub = order[pos]
            order[pos] = sub[np.lexsort((sub, due[sub], run_of[pos]))]
            d = due[order]
        return order, k, d
    if _bits(n_groups) + 1 + b_due + b_row <= 63:
        packed = group.astype(np.int64) << 1
        packed |= disputed
        packed <<= b_due
        packed |= rel_due
        packed <<= b_row
        packed |= rows
        packed.sort()
        order = packed & ((1 << b_row) - 1)
        primary = packed >> b_row
    else:  # keys too wide to pack: slower but exact
        order = np.lexsort((rows, due64, disputed, group)).astype(np.int64)
        primary = None
    if not in_order and n > 1:  # equal (group, disputed, due): by invoice date, number, row
        if primary is not None:
            tied = primary[1:] == primary[:-1]
        else:
            g, s, u = group[order], disputed[order], due[order]
            tied = (g[1:] == g[:-1]) & (s[1:] == s[:-1]) & (u[1:] == u[:-1])
        if tied.any():
            run_of = np.cumsum(np.concatenate(([True], ~tied))) - 1
            member = np.zeros(n, bool)
            member[1:] |= tied
            member[:-1] |= tied
            pos = np.flatnonzero(member)
            sub = order[pos]  # within a run these are in row order already
            order[pos] = sub[_tie_order(run_of[pos], invoice_date[sub], None if rank is None else rank[sub])]
    return order, None, None


def _tie_order(run: np.ndarray, invoice_date: np.ndarray, rank: np.ndarray | None) -> np.ndarray:
    """Stable order by (run, invoice date, number): one packed int64 argsort when it fits, else lexsort."""
    parts = [run.astype(np.int64), invoice_date.astype(np.int64)]
    if rank is not None:
        parts.append(rank.astype(np.int64))
    rel = [p - int(p.min()) for p in parts]
    widths = [_bits(int(r.max())) for r in rel]
    if sum(widths) <= 63:
        packed = rel[0]
        for r, w in zip(rel[1:], widths[1:], strict=True):
            packed = (packed << w) | r
        return np.argsort(packed, kind="stable")
    return np.lexsort((np.arange(run.shape[0]), *parts[::-1]))


def _group_sums(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.zeros(n_groups, np.int64)
    np.add.at(out, groups, values)
    return out


def _segment_sums(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    csum = np.zeros(values.shape[0] + 1, np.int64)
    np.cumsum(values, out=csum[1:])
    return csum[offsets[1:]] - csum[offsets[:-1]]


def _first_per_group(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Smallest value in each segment ``offsets[k]:offsets[k+1]`` (int32 max for empty segments)."""
    out = np.full(offsets.shape[0] - 1, _NEVER, np.int32)
    filled = np.flatnonzero(np.diff(offsets) > 0)
    if filled.size:
        out[filled] = np.minimum.reduceat(values, offsets[filled])
    return out


def _checked_sizes(invoices: BulkInvoices, credits: BulkCredits) -> tuple[int, int]:
    """The invoice and credit counts, after checking what both kernels need: totals within 64-bit minor units and
    every referenced invoice row present."""
    n, m = len(invoices), len(credits)
    total = int(invoices.amount_minor.sum()) if n else 0
    total_cr = int(credits.amount_minor.sum()) if m else 0
    if total >= _MAX_SAFE or total_cr >= _MAX_SAFE:
        raise XlcError("amount_minor", "totals are too large for 64-bit minor units", max(total, total_cr))
    ref = credits.invoice_row
    if m and ref.max(initial=-1) >= n:
        row = int(np.flatnonzero(ref >= n)[0])
        raise XlcError("credits.invoice_row", f"names invoice row {int(ref[row])} of {n} (credit row {row})",
                       int(ref[row]))
    return n, m


def prepare_bulk(invoices: BulkInvoices, credits: BulkCredits) -> PreparedLedger:
    """Sort the invoices once into allocation order (group, disputed last, due, invoice date, number)."""
    n, m = _checked_sizes(invoices, credits)
    ref = credits.invoice_row

    # number the (customer, currency) pairs that occur
    n_ccy = int(max(invoices.currency.max(initial=-1), credits.currency.max(initial=-1))) + 1
    n_cust = int(max(invoices.customer.max(initial=-1), credits.customer.max(initial=-1))) + 1
    code = np.int32 if n_cust * n_ccy < 2**31 else np.int64  # half the memory traffic when it fits
    inv_pair = invoices.customer.astype(code) * code(n_ccy) + invoices.currency.astype(code)
    cr_pair = credits.customer.astype(code) * code(n_ccy) + credits.currency.astype(code)
    if n_cust * n_ccy <= 4 * (n + m) + 1024:
        used = np.bincount(inv_pair, minlength=n_cust * n_ccy) > 0
        used |= np.bincount(cr_pair, minlength=n_cust * n_ccy) > 0
        pairs = np.flatnonzero(used)
        renumber = (np.cumsum(used) - 1).astype(code)
        inv_g, cr_g = renumber[inv_pair], renumber[cr_pair]
    else:  # sparse codes
        pairs, inverse = np.unique(np.concatenate([inv_pair, cr_pair]), return_inverse=True)
        inv_g, cr_g = inverse[:n], inverse[n:]
    n_groups = int(pairs.shape[0])

    # invoices in allocation order
    packed = _packed_allocation(inv_g, invoices.disputed, invoices.due_date, invoices.invoice_date,
                                invoices.number_rank, n_groups)
    if packed is not None:  # one sort of one key, whatever the row order and the number of groups
        order, inv_group, inv_disputed, inv_due, inv_date = packed
    else:
        order, sorted_key, sorted_due = _allocation_order(inv_g, invoices.disputed, invoices.due_date,
                                                          invoices.invoice_date, invoices.number_rank, n_groups)
        if sorted_key is not None:  # (group, disputed) came sorted out of the radix pass: no gathers needed
            inv_group = (sorted_key >> 1).astype(np.int32)
            inv_disputed = (sorted_key & 1).astype(bool)
        else:
            inv_group = inv_g[order].astype(np.int32)
            inv_disputed = invoices.disputed[order]
        inv_due = invoices.due_date[order] if sorted_due is None else sorted_due
        inv_date = invoices.invoice_date[order]
    offsets = np.zeros(n_groups + 1, np.int64)
    np.cumsum(np.bincount(inv_group, minlength=n_groups), out=offsets[1:])

    # references mapped to sorted invoice positions
    has_ref = ref >= 0
    ref_rows = np.flatnonzero(has_ref)
    target = ref[ref_rows]
    same_group = inv_g[target] == cr_g[ref_rows] if n else np.zeros(0, bool)
    foreign_row = ref_rows[~same_group]
    ref_rows, target = ref_rows[same_group], target[same_group]
    pos_of_row = np.empty(n, np.int32 if n < 2**31 else np.int64)
    pos_of_row[order] = np.arange(n, dtype=pos_of_row.dtype)
    target_pos = pos_of_row[target]
    marked = np.zeros(n + 1, bool)
    marked[target_pos] = True
    ref_pos = np.flatnonzero(marked[:n])
    slot_of_pos = np.cumsum(marked, dtype=np.int32 if n < 2**31 else np.int64) - 1
    ref_bounds = np.searchsorted(ref_pos, offsets)
    inv_amount = invoices.amount_minor[order]
    ref_slot = slot_of_pos[target_pos]
    ref_amount = credits.amount_minor[ref_rows]
    ref_date = credits.date[ref_rows]
    ref_invoice_date = inv_date[target_pos]
    first_invoice = _first_per_group(inv_date, offsets)

    return PreparedLedger(
        n_invoices=n, n_credits=m, n_groups=n_groups,
        group_customer=(pairs // max(n_ccy, 1)).astype(np.int64),
        group_currency=(pairs % max(n_ccy, 1)).astype(np.int64),
        offsets=offsets, order=order,
        inv_group=inv_group, inv_amount=inv_amount,
        inv_date=inv_date, inv_due=inv_due, inv_disputed=inv_disputed,
        cr_group=cr_g, cr_amount=credits.amount_minor, cr_date=credits.date,
        credit_total=_group_sums(cr_g, credits.amount_minor, n_groups),
        ref_pos=ref_pos, ref_bounds=ref_bounds.astype(np.int64),
        ref_slot=ref_slot, ref_amount=ref_amount,
        ref_date=ref_date, ref_invoice_date=ref_invoice_date, ref_row=ref_rows,
        foreign_row=foreign_row, foreign_date=credits.date[foreign_row],
        first_invoice=first_invoice, credit_count=np.bincount(cr_g, minlength=n_groups)[:n_groups],
        last_invoice_date=int(invoices.invoice_date.max()) if n else -(2**31),
        last_credit_date=int(credits.date.max()) if m else -(2**31),
    )


# ---------------------------------------------------------------------------- interest
def _rate_fraction(annual_rate: Any) -> Fraction:
    if isinstance(annual_rate, Fraction):
        rate = annual_rate
    else:
        parsed = to_decimal(annual_rate, "annual_rate", allow_negative=False)
        assert parsed is not None
        rate = Fraction(parsed)
    if rate < 0:
        raise XlcError("annual_rate", f"must not be negative (got {annual_rate})", annual_rate)
    return rate


def interest_minor(open_minor: np.ndarray, days_overdue: np.ndarray, annual_rate: Any,
                   basis: int = 365) -> np.ndarray:
    """Simple late interest per item in minor units: open × rate × days / basis, rounded half up.

    Exact integer arithmetic: the rate is taken as a fraction p/q (``Decimal('0.08')`` → 2/25),
    so ``open·days·p / (q·basis)`` is split into quotient and remainder — no float, no drift.
    Items with no days overdue bear no interest.
    """
    if isinstance(basis, bool) or not isinstance(basis, int | np.integer) or basis <= 0:
        raise XlcError("basis", f"must be a positive number of days (got {describe(basis)})", basis)
    rate = _rate_fraction(annual_rate)
    amount = np.asarray(open_minor, dtype=np.int64)
    days = np.maximum(np.asarray(days_overdue, dtype=np.int64), 0)
    if amount.size and amount.min() < 0:
        raise XlcError("open_minor", f"must not be negative (got {int(amount.min())})", int(amount.min()))
    num, den = rate.numerator, rate.denominator * int(basis)
    if num == 0 or amount.size == 0:
        return np.zeros(amount.shape, np.int64)
    max_x = int(amount.max()) * int(days.max())
    if max_x < _MAX_SAFE and 2 * den * max(num, 1) < _MAX_SAFE and (max_x // den + 1) * num < _MAX_SAFE:
        x = amount * days
        q, r = np.divmod(x, den)
        return q * num + (2 * r * num + den) // (2 * den)
    # very large amounts or a rate with many digits: exact Python integers (slower, never wrong)
    x = amount.astype(object) * days.astype(object)
    out = (2 * x * num + den) // (2 * den)
    if out.size and max(out) >= _MAX_SAFE:
        raise XlcError("interest", "is too large for 64-bit minor units", max(out))
    return out.astype(np.int64)


# ---------------------------------------------------------------------------- ageing
def bucket_index(days: np.ndarray, bounds: Sequence[int]) -> np.ndarray:
    """Bucket number per item: 0 = Current (days ≤ bounds[0]), k = (bounds[k-1], bounds[k]], last = beyond."""
    return np.searchsorted(np.asarray(bounds, dtype=np.int64), days, side="left")


@dataclass(frozen=True, eq=False)
class BulkAgeing:
    """Open items, ageing and late interest from the bulk kernel (all money int64 minor units).

    Per group (customer, currency) with any document on or before ``as_of``: ``buckets`` (open
    invoice amounts by age, columns = ``labels``), ``open_minor`` (their sum), ``unapplied_minor``
    (credits left over), ``balance_minor`` = open − unapplied (the customer's account balance:
    invoices − credits), ``disputed_minor`` (open on disputed invoices, included in the buckets)
    and ``interest_minor`` (late interest on undisputed overdue items).

    The open items (invoices with something still owed), in allocation order: ``item_row`` (row
    of the invoice in the caller's input), ``item_open``, ``item_days_overdue``, ``item_interest``.
    Whole-ledger views by invoice row: :meth:`open_by_row`, :meth:`days_overdue_by_row`,
    :meth:`interest_by_row` (0 where nothing is open).
    ``ref_problems``: credit rows (dated ≤ as_of) whose reference named no invoice of the same
    customer and currency dated ≤ as_of; their whole amount went to the pool.
    ``money``: from the compiled kernel, the per-group figures as one int64 block, a column per group and the rows
    open, the buckets, interest, unapplied, balance, disputed (the money fields above — buckets, open, unapplied,
    balance, disputed, interest — are views of its rows: a report takes the block as it is); None from the numpy
    kernel.
    """

    as_of: int
    labels: tuple[str, ...]
    n_invoices: int
    customer: np.ndarray
    currency: np.ndarray
    buckets: np.ndarray
    open_minor: np.ndarray
    unapplied_minor: np.ndarray
    balance_minor: np.ndarray
    disputed_minor: np.ndarray
    interest_minor: np.ndarray
    item_row: np.ndarray
    item_open: np.ndarray
    item_days_overdue: np.ndarray
    item_interest: np.ndarray
    ref_problems: np.ndarray
    money: np.ndarray | None = None

    @property
    def as_of_date(self) -> dt.date:
        """``as_of`` as a date."""
        return EPOCH + dt.timedelta(days=self.as_of)

    def _by_row(self, values: np.ndarray, dtype: Any) -> np.ndarray:
        out = np.zeros(self.n_invoices, dtype)
        out[self.item_row] = values
        return out

    def open_by_row(self) -> np.ndarray:
        """Open amount (int64 minor units) of every invoice, in the caller's row order."""
        return self._by_row(self.item_open, np.int64)

    def days_overdue_by_row(self) -> np.ndarray:
        """Days past due (int32) of every invoice with something open; 0 otherwise."""
        return self._by_row(self.item_days_overdue, np.int32)

    def interest_by_row(self) -> np.ndarray:
        """Late interest (int64 minor units) on every invoice's open amount."""
        return self._by_row(self.item_interest, np.int64)

    def to_frame(self, customer_labels: Sequence[Any] | None = None,
                 currency_labels: Sequence[Any] | None = None) -> pd.DataFrame:
        """One row per (customer, currency): buckets and totals, still in int64 minor units."""
        cust: Any = self.customer
        ccy: Any = self.currency
        if customer_labels is not None:
            cust = np.asarray(customer_labels, dtype=object)[self.customer]
        if currency_labels is not None:
            ccy = np.asarray(currency_labels, dtype=object)[self.currency]
        data: dict[str, Any] = {"customer_id": cust, "currency": ccy}
        for j, label in enumerate(self.labels):
            data[label] = self.buckets[:, j]
        data.update(open=self.open_minor, unapplied=self.unapplied_minor, balance=self.balance_minor,
                    disputed=self.disputed_minor, interest=self.interest_minor)
        return pd.DataFrame(data)


def _labels(bounds: Sequence[int]) -> tuple[str, ...]:
    b = list(bounds)
    return ("Current", *(f"{lo + 1}-{hi}" for lo, hi in pairwise(b)), f"{b[-1]}+")


@lru_cache(maxsize=1)
def _default_policy() -> Policy:
    return Policy()  # immutable: built and validated once


KERNELS = ("auto", "numba", "numpy")
#: ``kernel="auto"`` takes numba from this many invoices + credits when it is not loaded in the process yet:
#: importing numba and loading its cached machine code takes ≈ 0.45 s (the first compile ≈ 8.5 s), and the
#: compiled kernel saves ≈ 0.04–0.12 s per million rows against the numpy one (BENCHMARKS.md, issue 16: 84 vs
#: 121 ms at 1M, 435 vs 1,048 ms at 5M), so a one-off run only gains from about five million rows.
NUMBA_FROM_ROWS = 5_000_000
#: ... and from this many once the compiled kernel is loaded (a service or a benchmark ageing repeatedly).
NUMBA_LOADED_FROM_ROWS = 50_000


def numba_available() -> bool:
    """True when numba can be imported (it is a declared dependency, but the numpy kernel works without it)."""
    import importlib.util

    return importlib.util.find_spec("numba") is not None


def _numba_loaded() -> bool:
    compiled = sys.modules.get("xlcredit.core.fast.compiled")
    return compiled is not None and compiled.loaded()


def _kernel_of(kernel: str, rows: int) -> str:
    """The kernel that runs: "numba" or "numpy" (see :func:`age_bulk`)."""
    if kernel not in KERNELS:
        raise XlcError("kernel", f"must be one of {', '.join(KERNELS)} (got {describe(kernel)})", kernel)
    if kernel == "numpy":
        return "numpy"
    if kernel == "auto" and rows < NUMBA_FROM_ROWS and not (rows >= NUMBA_LOADED_FROM_ROWS and _numba_loaded()):
        return "numpy"
    if not numba_available():
        if kernel == "numba":
            raise XlcError("kernel", "numba is not installed (pip install numba, or kernel='numpy')", kernel)
        return "numpy"
    return "numba"


#: The compiled kernel splits the customers over threads from this many invoices + credits: below, partitioning
#: the rows costs what the second core saves (random ledgers, 2 cores, medians of 15, one thread against two:
#: 100 invoices a customer — 350k rows 10.6 against 12.9 ms, 700k 24.2 against 26.3, 1.05M 37.7 against 35.0;
#: 5 invoices a customer — 350k 28.3 against 34.0, 700k 77.8 against 71.9, 1.4M 150.6 against 112.6 ms; the
#: issue's ledgers of 1.75M rows: 87 against 75 ms at 1k customers, 145 against 112 ms at 200k — medians of 9).
THREADS_FROM_ROWS = 1_000_000


def kernel_threads(rows: int, threads: int | None = None, cpus: int = 1) -> int:
    """How many threads the compiled kernel uses: ``threads`` when given (at least 1), else ``cpus`` (the CPUs
    the caller may use — the core does not ask the machine; :func:`xlcredit.bulk.age_frames` does; at most 8)
    for a ledger of :data:`THREADS_FROM_ROWS` rows or more, else 1."""
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or threads < 1:
            raise XlcError("threads", f"must be a whole number of at least 1 (got {describe(threads)})", threads)
        return int(threads)
    return max(1, min(int(cpus), 8)) if rows >= THREADS_FROM_ROWS else 1


def _age_compiled(invoices: BulkInvoices, credits: BulkCredits, a: int, bounds: tuple[int, ...], by: str,
                  rate: Fraction, basis: int, labels: tuple[str, ...], required: bool = False,
                  threads: int = 1, items: bool = True) -> BulkAgeing | None:
    """The compiled kernel's answer, or None when the ledger needs the numpy kernel's wider arithmetic (or, unless
    ``required``, when numba is installed but cannot be loaded)."""
    n, _credits = _checked_sizes(invoices, credits)
    num, den = rate.numerator, rate.denominator * int(basis)
    max_x = (int(invoices.amount_minor.max()) * max(a - int(invoices.due_date.min()), 0)) if n else 0
    if not (max_x < _MAX_SAFE and 2 * den * max(num, 1) < _MAX_SAFE and (max_x // den + 1) * num < _MAX_SAFE):
        return None  # interest needs Python integers: the numpy kernel has that path
    try:
        from xlcredit.core.fast.compiled import age_compiled
    except ImportError as exc:   # installed but not loadable (e.g. built for another numpy): say so, or use numpy
        if required:
            raise XlcError("kernel", f"numba is installed but cannot be loaded ({str(exc)[:200]}); use "
                                     "kernel='numpy' or reinstall numba", "numba") from None
        return None
    out = age_compiled(invoices, credits, a, bounds, by == "due_date", num, den, threads, items)
    if out is None:
        return None
    return BulkAgeing(as_of=a, labels=labels, n_invoices=n, **out)


def age_bulk(data: PreparedLedger | tuple[BulkInvoices, BulkCredits], as_of: Any, policy: Policy | None = None,
             *, bounds: Sequence[int] | None = None, by: str | None = None,
             annual_rate: Any = None, basis: int | None = None, kernel: str = "auto",
             threads: int | None = None, items: bool = True) -> BulkAgeing:
    """Open items, ageing buckets and late interest per (customer, currency) at ``as_of``.

    ``policy`` supplies the defaults (``ageing.bounds``, ``ageing.basis``, ``late.contract_rate``,
    ``late.basis``); keyword arguments override them. ``by`` = "due_date" or "invoice_date".

    ``kernel``: "numpy" (the vectorised kernel below), "numba" (:mod:`xlcredit.core.fast.compiled`, the same
    answers to the cent, faster), or "auto" (default): numba when it is importable and the ledger has at
    least :data:`NUMBA_FROM_ROWS` invoices + credits (:data:`NUMBA_LOADED_FROM_ROWS` once the compiled
    kernel is loaded in this process), else numpy — small ledgers (the workbook, the sample) never import
    numba. When numba is not installed, "auto" is numpy and "numba" is an error naming the fix.
    A :class:`PreparedLedger` is always aged by numpy (it is numpy's sort).
    ``threads``: how many threads the compiled kernel splits the customers over (default 1; see
    :func:`kernel_threads`; the answer is the same whatever the number). ``items=False``: the per-group figures
    only, the per-item arrays left empty (what a report per customer needs; spares allocating and filling them).
    """
    policy = policy or _default_policy()
    bounds = tuple(int(b) for b in (bounds if bounds is not None else policy.ageing.bounds))
    if not bounds or bounds[0] != 0 or any(b <= a for a, b in pairwise(bounds)):
        raise XlcError("bounds", f"must start at 0 and increase (got {', '.join(map(str, bounds)) or 'nothing'})",
                       bounds)
    by = by or policy.ageing.basis
    if by not in ("due_date", "invoice_date"):
        raise XlcError("by", f"must be 'due_date' or 'invoice_date' (got {describe(by)})", by)
    rate = policy.late.contract_rate if annual_rate is None else annual_rate
    basis = policy.late.basis if basis is None else basis
    fraction = _rate_fraction(rate)
    if isinstance(basis, bool) or not isinstance(basis, int | np.integer) or basis <= 0:
        raise XlcError("basis", f"must be a positive number of days (got {describe(basis)})", basis)
    a = day_number(as_of)
    if not isinstance(data, PreparedLedger):
        inv, cr = data
        n_threads = kernel_threads(len(inv) + len(cr), threads)
        if _kernel_of(kernel, len(inv) + len(cr)) == "numba":
            done = _age_compiled(inv, cr, a, bounds, by, fraction, int(basis), _labels(bounds),
                                 required=kernel == "numba", threads=n_threads, items=items)
            if done is not None:
                return done
    else:
        _kernel_of(kernel, 0)  # the name is checked all the same
    p = data if isinstance(data, PreparedLedger) else prepare_bulk(*data)
    n, n_groups, offsets = p.n_invoices, p.n_groups, p.offsets

    # what counts: documents dated on or before as_of
    inv_all_in = a >= p.last_invoice_date
    cr_all_in = a >= p.last_credit_date
    amount = p.inv_amount if inv_all_in else np.where(p.inv_date <= a, p.inv_amount, 0)
    if cr_all_in:
        credit_total, credit_count = p.credit_total, p.credit_count
    else:  # usually few credits are dated after as_of: take them back out of the totals
        later = np.flatnonzero(p.cr_date > a)
        credit_total = p.credit_total - _group_sums(p.cr_group[later], p.cr_amount[later], n_groups)
        credit_count = p.credit_count - np.bincount(p.cr_group[later], minlength=n_groups)[:n_groups]

    # 1. referenced credits settle their invoice first, up to its amount
    ref_live = (p.ref_date <= a) & (p.ref_invoice_date <= a)
    referenced = np.zeros(p.ref_pos.shape[0], np.int64)
    np.add.at(referenced, p.ref_slot, np.where(ref_live, p.ref_amount, 0))
    applied = np.minimum(amount[p.ref_pos], referenced)
    remaining = amount.copy()
    remaining[p.ref_pos] -= applied
    pool = credit_total - _segment_sums(applied, p.ref_bounds)
    late_target = p.ref_row[(p.ref_date <= a) & (p.ref_invoice_date > a)]
    ref_problems = np.union1d(p.foreign_row[p.foreign_date <= a], late_target)

    # 2. the pool settles the rest FIFO: an item is open beyond (group start + pool) in the running total
    csum = np.zeros(n + 1, np.int64)
    np.cumsum(remaining, out=csum[1:])
    group_start = csum[offsets[:-1]]
    group_remaining = csum[offsets[1:]] - group_start
    open_s = np.repeat(group_start + pool, np.diff(offsets))
    np.subtract(csum[1:], open_s, out=open_s)
    np.clip(open_s, 0, remaining, out=open_s)

    # 3. what the pool could not place
    unapplied = np.maximum(pool - group_remaining, 0)
    open_total = np.maximum(group_remaining - pool, 0)

    # the rest only looks at items still open
    nz = np.flatnonzero(open_s)
    open_v = open_s[nz]
    grp_v = p.inv_group[nz].astype(np.int64)
    due_v = p.inv_due[nz].astype(np.int64)
    n_b = len(bounds) + 1
    days_age = a - (due_v if by == "due_date" else p.inv_date[nz].astype(np.int64))
    bucket_sums = _group_sums(grp_v * n_b + bucket_index(days_age, bounds), open_v, n_groups * n_b)
    days_over = np.maximum(a - due_v, 0)
    interest_v = interest_minor(open_v, days_over, rate, basis)
    disputed_v = p.inv_disputed[nz]
    interest = _group_sums(grp_v, np.where(disputed_v, 0, interest_v), n_groups)
    disputed = _group_sums(grp_v[disputed_v], open_v[disputed_v], n_groups)

    # report only groups with a document on or before as_of
    keep = np.flatnonzero((p.first_invoice <= a) | (credit_count > 0))
    shown = slice(None) if items else slice(0)  # items=False: the per-item arrays empty, as the compiled kernel's
    return BulkAgeing(
        as_of=a, labels=_labels(bounds), n_invoices=n,
        customer=p.group_customer[keep], currency=p.group_currency[keep],
        buckets=bucket_sums.reshape(n_groups, n_b)[keep], open_minor=open_total[keep],
        unapplied_minor=unapplied[keep], balance_minor=open_total[keep] - unapplied[keep],
        disputed_minor=disputed[keep], interest_minor=interest[keep],
        item_row=p.order[nz][shown], item_open=open_v[shown], item_days_overdue=days_over.astype(np.int32)[shown],
        item_interest=interest_v[shown], ref_problems=ref_problems.astype(np.int64),
    )


# ---------------------------------------------------------------------------- tables → columns
@dataclass(frozen=True)
class BulkProblem:
    """One problem in one row of an input table; the row is left out unless the problem says "(kept)"."""

    table: str
    row: int
    column: str
    value: Any
    problem: str


@dataclass(frozen=True, eq=False)
class BulkFrames:
    """Ledger tables turned into kernel columns, with the labels to turn codes back into ids.

    ``invoice_rows``/``credit_rows`` give each kept row's position in its input table;
    ``credit_table`` says which table a credit came from (0 = payments, 1 = credit notes).
    """

    invoices: BulkInvoices
    credits: BulkCredits
    customer_labels: Any  # an Arrow string array, or (without pyarrow) an object ndarray
    currencies: tuple[str, ...]
    problems: tuple[BulkProblem, ...]
    #: the rows kept: of the invoices, then (table, rows) of each credit table; a count n = all n rows kept
    kept_rows: tuple[np.ndarray | int, tuple[tuple[int, np.ndarray | int], ...]]
    customers_sorted: bool = False  # True when customer codes follow the labels' text order (code i < code j ⇔ text)

    @cached_property
    def invoice_rows(self) -> np.ndarray:
        """Each kept invoice's row in the invoices table (made on first use: usually every row is kept)."""
        return _rows_of(self.kept_rows[0])

    @cached_property
    def credit_table(self) -> np.ndarray:
        """Which table each credit came from: 0 = payments, 1 = credit notes."""
        parts = [np.full(_rows_of(k).shape[0], t, np.int8) for t, k in self.kept_rows[1]]
        return np.concatenate(parts) if parts else np.zeros(0, np.int8)

    @cached_property
    def credit_rows(self) -> np.ndarray:
        """Each credit's row in its own table."""
        parts = [_rows_of(k) for _, k in self.kept_rows[1]]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    @cached_property
    def customers(self) -> np.ndarray:
        """The customer id of each customer code (an object array of str), made on first use."""
        if isinstance(self.customer_labels, np.ndarray):
            return self.customer_labels
        return self.customer_labels.to_numpy(zero_copy_only=False).astype(object, copy=False)

    @property
    def customer_text(self) -> Any:
        """The customer labels as an Arrow string array (sorts faster than objects); None without pyarrow."""
        return None if isinstance(self.customer_labels, np.ndarray) else self.customer_labels


def _rows_of(kept: np.ndarray | int) -> np.ndarray:
    return np.arange(kept, dtype=np.int64) if isinstance(kept, int) else kept.astype(np.int64, copy=False)


_NET_DAYS = re.compile(r"(?i)\bnet\s*(\d{1,4})\b")
_IMMEDIATE = re.compile(r"(?i)^\s*(prepay\w*|cash in advance|due on receipt|immediate\w*)\s*$")
_ISO_CCY = re.compile(r"[A-Z]{3}")


def _net_days(terms: Any) -> int | None:
    """Net days of a terms text ("Net 60" → 60, "Prepay" → 0), None when the text gives none."""
    if not isinstance(terms, str):
        return None
    if _IMMEDIATE.match(terms):
        return 0
    found = _NET_DAYS.search(terms)
    return int(found.group(1)) if found else None


def _arrow_of(series: pd.Series) -> Any:
    """The column as one Arrow array (zero copy for Arrow-backed columns read from Parquet)."""
    import pyarrow as pa

    dtype = series.dtype
    if isinstance(dtype, pd.ArrowDtype) or (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        arr = pa.array(series.array)
    else:
        arr = pa.array(series, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        if pa.types.is_dictionary(arr.type):
            arr = arr.unify_dictionaries()
        arr = arr.combine_chunks()
    return arr


def _text_of(series: pd.Series) -> Any:
    """The column as an Arrow string (or dictionary-of-string) array; numbers become their text."""
    import pyarrow as pa

    if isinstance(series.dtype, pd.ArrowDtype | pd.StringDtype | pd.CategoricalDtype):
        arr = _arrow_of(series)
        value_type = arr.type.value_type if pa.types.is_dictionary(arr.type) else arr.type
        if pa.types.is_string(value_type) or pa.types.is_large_string(value_type):
            return arr
    return _arrow_of(series.astype("string[pyarrow]"))


_ASCII_SPACE = " \t\n\v\f\r\x1c\x1d\x1e\x1f"  # what str.strip() removes from ASCII text
_CASES = {"": lambda s: s.strip(), "upper": lambda s: s.strip().upper(), "lower": lambda s: s.strip().lower()}


def _normalised(dictionary: Any, case: str) -> Any:
    """Distinct labels trimmed (and upper- or lower-cased): Arrow kernels for ASCII text, Python for the rest.

    Equals ``str.strip()`` (then ``str.upper()``/``str.lower()``) value by value: on ASCII text the two
    agree exactly; the rare non-ASCII label goes through Python's own string methods.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    normalise = _CASES[case]
    if len(dictionary) <= 64:  # a handful of labels: Python is as quick and obviously right
        return pa.array([None if x is None else normalise(x) for x in dictionary.to_pylist()], pa.large_string())
    out = pc.utf8_trim(dictionary.cast(pa.large_string()), characters=_ASCII_SPACE)
    if case:
        out = pc.ascii_upper(out) if case == "upper" else pc.ascii_lower(out)
    other = pc.invert(pc.string_is_ascii(dictionary)).fill_null(False)
    if pc.any(other).as_py():
        rows = np.flatnonzero(other.to_numpy(zero_copy_only=False))
        values = [normalise(x) for x in pc.take(dictionary, pa.array(rows)).to_pylist()]
        out = pc.replace_with_mask(out, other, pa.array(values, pa.large_string()))
    return out


def _shared_codes(columns: Sequence[pd.Series], case: str = "", sort: bool = False) -> tuple[list[np.ndarray], Any]:
    """Codes per row of each column (-1 = blank) on one shared list of labels, and that list (an Arrow array).

    Labels are the distinct values after trimming (``case``: also "upper" or "lower"), in order of first
    appearance (column by column, each in its dictionary order); equal labels share a code. Vectorised:
    only the distinct values are normalised and hashed, rows are mapped with one gather per column.
    ``sort``: the labels in text order instead (with pyarrow; the rows still gathered once).
    """
    from xlcredit.core.fast.labels import arrow_available, shared_codes_without_arrow

    if not arrow_available():   # Pyodide (xlwings Lite): the same codes and labels, by pandas
        return shared_codes_without_arrow(columns, _CASES[case])
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = []
    for series in columns:
        arr = _text_of(series)
        parts.append(arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(arr))
    every = pa.concat_arrays([_normalised(a.dictionary, case) for a in parts])
    every = pc.if_else(pc.equal(every, ""), pa.scalar(None, pa.large_string()), every)  # blank = no label
    encoded = pc.dictionary_encode(every)
    shared = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    labels = encoded.dictionary
    if sort and len(labels) > 1:  # renumber the few labels, not the rows: UTF-8 byte order is str order
        order = pc.array_sort_indices(labels).to_numpy(zero_copy_only=False)
        if bool((order[1:] < order[:-1]).any()):
            rank = np.empty(len(order) + 1, np.int32)
            rank[order] = np.arange(len(order), dtype=np.int32)
            rank[-1] = -1
            shared = rank[shared]
            labels = labels.take(pa.array(order))
    out, start = [], 0
    for arr in parts:
        k = len(arr.dictionary)
        remap = shared[start: start + k]
        start += k
        indices = arr.indices.cast(pa.int32())  # a categorical's int8 indices could not hold the blank's k
        idx = (indices.fill_null(k) if arr.null_count else indices).to_numpy(zero_copy_only=False)
        if not arr.null_count and bool((remap == np.arange(k, dtype=np.int32)).all()):
            out.append(idx)  # labels as they were: the dictionary's own indices
            continue
        out.append(np.append(remap, np.int32(-1))[idx])
    return out, labels


def _codes_of(series: pd.Series, case: str = "") -> tuple[np.ndarray, list[str]]:
    """Codes per row (-1 = blank) and the distinct labels after trimming (and ``case``), first seen first."""
    codes, labels = _shared_codes([series], case)
    return codes[0], list(labels) if isinstance(labels, np.ndarray) else labels.to_pylist()


def _day_column(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day numbers (int32), empty mask, unreadable mask."""
    n = len(series)
    if isinstance(series.dtype, pd.ArrowDtype):
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = _arrow_of(series)
        if pa.types.is_timestamp(arr.type) or pa.types.is_date64(arr.type):
            arr = pc.cast(arr, pa.date32())
        if pa.types.is_date32(arr.type):
            if not arr.null_count:  # the day numbers are the buffer itself
                days = np.frombuffer(arr.buffers()[1], np.int32)[arr.offset: arr.offset + n]
                return days, np.zeros(n, bool), np.zeros(n, bool)
            empty = arr.is_null().to_numpy(zero_copy_only=False)
            days = arr.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
            return days, empty, np.zeros(n, bool)
        series = pd.Series(arr.to_pandas(), index=series.index)
    if series.dtype.kind == "M":
        values = series.to_numpy()
        empty = np.isnat(values)
        days = values.astype("datetime64[D]").astype(np.int64)
        return np.where(empty, 0, days).astype(np.int32), empty, np.zeros(n, bool)
    # text or mixed cells: each distinct value read once by the one date rule (xlcredit.core.coerce.to_date)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    numbers, unreadable = [], []
    for value in list(uniques):
        try:
            numbers.append((to_date(value, "date") - EPOCH).days)
            unreadable.append(False)
        except XlcError:
            numbers.append(0)
            unreadable.append(True)
    empty = _blank(series)
    days = np.array([*numbers, 0], dtype=np.int64)[codes]
    bad = np.array([*unreadable, False], dtype=bool)[codes] & ~empty
    return np.where(empty, 0, days).astype(np.int32), empty, bad


def _blank(series: pd.Series) -> np.ndarray:
    """True where a cell is empty (missing or only spaces)."""
    missing = series.isna().to_numpy(dtype=bool)
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        text = series.astype("string").str.strip() == ""
        missing = missing | text.fillna(False).to_numpy(dtype=bool)
    return missing


def _decimal128_unscaled(arr: Any, check: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Unscaled integers of an Arrow decimal128 array (zero copy) and a mask of values beyond int64.

    ``check=False`` when the type's precision (≤ 18 digits) already keeps every value inside int64.
    """
    words = np.frombuffer(arr.buffers()[1], dtype="<i8")[2 * arr.offset: 2 * (arr.offset + len(arr))]
    low, high = words[0::2], words[1::2]
    return low, (high != (low >> 63) if check else np.zeros(low.shape[0], bool))


def _rescale_codes(units: np.ndarray, codes: np.ndarray, exponents: np.ndarray, scale: int) -> np.ndarray:
    """Integers with ``scale`` decimals → minor units of each row's currency (``exponents[code]`` decimals), half up.

    Only the rows of currencies with other digits than the file's are touched (usually none, or the yen rows).
    """
    if units.shape[0] >= NUMBA_LOADED_FROM_ROWS and _numba_loaded():  # the same units in one compiled pass
        from xlcredit.core.fast.compiled import rescale_units

        return rescale_units(units, codes, exponents, scale)
    out = np.array(units)  # contiguous, writable
    for e in np.unique(exponents[exponents != scale]).tolist():
        rows = np.flatnonzero((exponents == e)[codes])
        u = out[rows]
        if e > scale:
            out[rows] = u * 10 ** (e - scale)
        else:
            div = 10 ** (scale - e)
            q = (np.abs(u) * 2 + div) // (2 * div)
            out[rows] = np.where(u < 0, -q, q)
    return out


def _minor_column(series: pd.Series, codes: np.ndarray,
                  exponents: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Amounts → int64 minor units of each row's currency, rounded half up; empty and unreadable masks.

    ``codes``: each row's currency code (-1 = blank); ``exponents``: the minor-unit digits of each code,
    the last entry for a blank currency. Per-row digits are only looked up when the currencies differ.
    """
    n = len(series)
    zeros = np.zeros(n, bool)
    if isinstance(series.dtype, pd.ArrowDtype):
        import pyarrow as pa

        arr = _arrow_of(series)
        if pa.types.is_decimal128(arr.type):
            empty = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else zeros
            unscaled, wide = _decimal128_unscaled(arr, check=arr.type.precision > 18)
            out = _rescale_codes(unscaled, codes, exponents, arr.type.scale)
            if empty.any() or wide.any():
                out = np.where(empty | wide, 0, out)
            return out, empty, wide & ~empty
        series = pd.Series(arr.to_pandas(), index=series.index)
    exponent = exponents[codes]
    kind = series.dtype.kind
    if kind in "iu":
        return series.to_numpy(dtype=np.int64) * 10 ** exponent.astype(np.int64), zeros, zeros
    if kind == "f":
        values = series.to_numpy(dtype=np.float64)
        empty = np.isnan(values)
        scaled = values * 10.0 ** exponent
        near = np.rint(scaled)
        bad = ~np.isfinite(values) & ~empty
        ok = ~empty & ~bad
        out = np.where(ok, near, 0).astype(np.int64)
        exact = np.abs(scaled - near) <= 1e-6
        big = np.abs(np.where(ok, scaled, 0)) >= 2.0**52
        for i in np.flatnonzero(ok & (~exact | big)):  # rare: more decimals than the currency has
            q = Decimal(repr(float(values[i]))).scaleb(int(exponent[i])).quantize(Decimal(1), ROUND_HALF_UP)
            if abs(q) >= _MAX_SAFE:
                bad[i], out[i] = True, 0
            else:
                out[i] = int(q)
        return out, empty, bad
    # text, Decimal objects, mixed: exact, one row at a time
    empty = _blank(series)
    out = np.zeros(n, np.int64)
    bad = np.zeros(n, bool)
    for i, value in enumerate(series.tolist()):
        if empty[i]:
            continue
        try:
            d = to_decimal(value, "amount")
        except XlcError:
            bad[i] = True
            continue
        assert d is not None
        units = int(d.scaleb(int(exponent[i])).quantize(Decimal(1), ROUND_HALF_UP))
        if abs(units) >= _MAX_SAFE:
            bad[i] = True
        else:
            out[i] = units
    return out, empty, bad


_TRUE = frozenset({"true", "yes", "y", "1", "x", "1.0"})
_FALSE = frozenset({"false", "no", "n", "0", "", "0.0", "none", "nan", "<na>"})


def _bool_column(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Disputed flags: booleans, 1/0, true/false/yes/no text; blank = False. Returns flags, unreadable mask."""
    n = len(series)
    if series.dtype == bool:
        return series.to_numpy(dtype=bool), np.zeros(n, bool)
    if isinstance(series.dtype, pd.ArrowDtype):
        import pyarrow as pa

        arr = _arrow_of(series)
        if pa.types.is_boolean(arr.type):
            return arr.fill_null(False).to_numpy(zero_copy_only=False), np.zeros(n, bool)
    if pd.api.types.is_bool_dtype(series.dtype) or series.dtype.kind in "iuf":
        values = series.astype("float64").fillna(0.0).to_numpy(dtype=np.float64)
        return values != 0, ~np.isin(values, (0.0, 1.0))
    codes, uniques = _codes_of(series, "lower")
    flags = np.array([u in _TRUE for u in uniques] + [False])
    unreadable = np.array([u not in _TRUE and u not in _FALSE for u in uniques] + [False])
    return flags[codes], unreadable[codes]


def _string_bytes(arr: Any) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (n + 1) and the data bytes of an Arrow string array, zero copy."""
    import pyarrow as pa

    wide = pa.types.is_large_string(arr.type)
    offsets = np.frombuffer(arr.buffers()[1], dtype="<i8" if wide else "<i4")[arr.offset: arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    return offsets, (np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8))


def _template_numbers(arr: Any, template: bytes) -> tuple[np.ndarray, np.ndarray] | None:
    """Numbers of a null-free string array whose values all have ``len(template)`` bytes.

    ``template`` has the fixed characters where every value must have them and ``#`` where a value
    must have a digit (``INV-2024-00001`` → ``INV-####-#####``). Returns the digits read as one
    integer per value and which values fit the template; None when the lengths differ. Reads the
    bytes as an n × width matrix, one column at a time.
    """
    n, width = len(arr), len(template)
    offsets, data = _string_bytes(arr)
    if n == 0 or int(offsets[-1] - offsets[0]) != n * width:
        return None
    compiled = n >= NUMBA_LOADED_FROM_ROWS and _numba_loaded()
    if compiled:
        from xlcredit.core.fast.compiled import same_lengths, template_numbers

        if not same_lengths(offsets, width):
            return None
    elif not bool((np.diff(offsets) == width).all()):
        return None
    mat = data[int(offsets[0]): int(offsets[0]) + n * width].reshape(n, width)
    n_digits = template.count(b"#")
    if compiled:  # the same numbers, one pass over the bytes
        return template_numbers(mat, np.frombuffer(template, np.uint8), n_digits <= 9)
    ok = np.ones(n, bool)
    values = np.zeros(n, np.uint32 if n_digits <= 9 else np.int64)
    for j, char in enumerate(template):
        column = mat[:, j]
        if char != ord("#"):
            same = column == char
            if not same.all():
                ok &= same
            continue
        digit = column - np.uint8(48)  # wraps for bytes below "0": anything > 9 is not a digit
        is_digit = digit <= 9
        if not is_digit.all():
            ok &= is_digit
        values *= 10
        values += digit
    return values.astype(np.int64), ok


@dataclass(frozen=True)
class _Numbers:
    """Invoice numbers of one fixed-width template (INV0001234, INV-2024-00001): text order = numeric order."""

    values: np.ndarray
    template: bytes

    def parse(self, text: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each string: its number if it fits the template, whether it fits, and whether it is not blank."""
        import pyarrow as pa
        import pyarrow.compute as pc

        n, width = len(text), len(self.template)
        if pa.types.is_dictionary(text.type):
            text = text.dictionary_decode()
        valid = text.is_valid().to_numpy(zero_copy_only=False) if text.null_count else np.ones(n, bool)
        offsets, _ = _string_bytes(text)
        lengths = np.diff(offsets)
        exact = np.flatnonzero(valid & (lengths == width))
        values = np.full(n, -1, np.int64)
        shaped = np.zeros(n, bool)
        if exact.size:
            parsed = _template_numbers(pc.take(text, pa.array(exact)), self.template)
            assert parsed is not None
            values[exact] = parsed[0]
            shaped[exact] = parsed[1]
        filled = valid & (lengths > 0)
        odd = np.flatnonzero(filled & (lengths != width))
        for i, value in zip(odd.tolist(), pc.take(text, pa.array(odd)).to_pylist(), strict=True):
            stripped = value.strip().encode()
            if not stripped:
                filled[i] = False
            elif _fits(stripped, self.template):
                values[i], shaped[i] = int(bytes(c for c in stripped if 48 <= c <= 57)), True
        return values, shaped, filled


def _refs_compiled(numbers: _Numbers, text: Any, find: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``numbers.parse`` + ``find`` in one compiled pass over the strings' bytes (found rows, filled), or None
    when that does not apply (numba not loaded, a short column, a lookup without a table)."""
    import pyarrow as pa

    table, direct = getattr(find, "table", None), getattr(find, "direct", 0)
    if (table is None and not direct) or len(text) < NUMBA_LOADED_FROM_ROWS or not _numba_loaded():
        return None
    if pa.types.is_dictionary(text.type):
        text = text.dictionary_decode()
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        return None
    from xlcredit.core.fast.compiled import resolve_refs

    offsets, data = _string_bytes(text)
    bitmap = text.buffers()[0]
    validity = np.frombuffer(bitmap, np.uint8) if text.null_count and bitmap is not None else np.zeros(0, np.uint8)
    found, filled, odd = resolve_refs(offsets, data, validity, text.offset, np.frombuffer(numbers.template, np.uint8),
                                      find.lo, np.zeros(0, np.int64) if table is None else table, direct)
    rows = np.flatnonzero(odd)  # lengths other than the template's: trimmed, then read as parse() reads them
    if rows.size:
        import pyarrow.compute as pc

        for i, value in zip(rows.tolist(), pc.take(text, pa.array(rows)).to_pylist(), strict=True):
            stripped = value.strip().encode()
            if not stripped:
                filled[i] = False
            elif _fits(stripped, numbers.template):
                found[i] = int(find(np.array([int(bytes(c for c in stripped if 48 <= c <= 57))], np.int64))[0])
    return found, filled


def _fits(value: bytes, template: bytes) -> bool:
    return len(value) == len(template) and all(
        (48 <= v <= 57) if t == ord("#") else v == t for v, t in zip(value, template, strict=True))


def _numbered(text: Any) -> _Numbers | None:
    """Invoice numbers as int64 when every one fits the first one's fixed-width template, else None."""
    import pyarrow as pa

    if len(text) == 0 or text.null_count:
        return None
    if pa.types.is_dictionary(text.type):
        text = text.dictionary_decode()
    template = _template_of(text[0])
    if template is None:
        return None
    parsed = _template_numbers(text, template)
    if parsed is None or not bool(parsed[1].all()):
        return None
    return _Numbers(parsed[0], template)


def _template_of(text: Any) -> bytes | None:
    """The fixed-width template of a label (``C000123`` → ``C######``), None when it has no digits, more than
    18, or spaces around it (those labels are trimmed: the general path)."""
    first = text.as_py()
    if not isinstance(first, str) or first != first.strip():
        return None
    raw = first.encode()
    template = bytes(ord("#") if 48 <= c <= 57 else c for c in raw)
    return template if 0 < template.count(b"#") <= 18 else None


def _template_texts(numbers: np.ndarray, template: bytes) -> Any:
    """The labels of ``numbers`` written in ``template`` (the inverse of :func:`_template_numbers`)."""
    import pyarrow as pa

    n, width = numbers.shape[0], len(template)
    if n >= NUMBA_LOADED_FROM_ROWS and _numba_loaded():  # the same bytes, one compiled pass
        from xlcredit.core.fast.compiled import template_texts

        data = template_texts(numbers, np.frombuffer(template, np.uint8))
    else:
        mat = np.empty((n, width), np.uint8)
        rest = numbers.astype(np.int64, copy=True)
        for j in range(width - 1, -1, -1):
            if template[j] == ord("#"):
                mat[:, j] = rest % 10 + 48
                rest //= 10
            else:
                mat[:, j] = template[j]
        data = mat.reshape(-1)
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _numbered_codes(columns: Sequence[pd.Series]) -> tuple[list[np.ndarray], Any] | None:
    """:func:`_shared_codes` for ids of one fixed-width template (``C000123``), without hashing a string.

    Every value of every column must fit the first one's template and none may be empty; else None (the
    general path). The codes then follow the labels' text order (fixed width: text order = numeric order)
    and the labels are written back from the numbers. For the customer ids of large ledgers: hashing a
    million ids (and sorting the labels for the answer) was the largest part of reading them. Columns that
    are all dictionaries (a Parquet file's few distinct ids) go the general path too: it reuses their codes,
    which was quicker than gathering numbers (3.5 against 27 ms, 1.75M rows).
    """
    import pyarrow as pa

    texts = [_text_of(s) for s in columns]
    if not texts or any(t.null_count for t in texts) or not any(len(t) for t in texts):
        return None
    if all(pa.types.is_dictionary(t.type) for t in texts):  # the general path takes dictionary codes as they are
        return None
    first = next(t for t in texts if len(t))
    template = _template_of(first.dictionary[first.indices[0].as_py()] if pa.types.is_dictionary(first.type)
                            else first[0])
    if template is None:
        return None
    numbers = []
    for text in texts:
        if pa.types.is_dictionary(text.type):  # parse the (fewer) distinct values, then gather
            values = text.dictionary
            if values.null_count or not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
                return None
            parsed = _template_numbers(values, template) if len(values) else (np.zeros(0, np.int64), np.ones(0, bool))
            if parsed is None or not bool(parsed[1].all()):
                return None
            numbers.append(parsed[0][text.indices.to_numpy(zero_copy_only=False)])
        else:
            if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
                return None
            parsed = _template_numbers(text, template) if len(text) else (np.zeros(0, np.int64), np.ones(0, bool))
            if parsed is None or not bool(parsed[1].all()):
                return None
            numbers.append(parsed[0])
    limit = 4 * sum(x.shape[0] for x in numbers) + 1024  # sparse numbers beyond: a table would not pay
    if sum(x.shape[0] for x in numbers) >= NUMBA_LOADED_FROM_ROWS and _numba_loaded():  # the same, compiled
        from xlcredit.core.fast.compiled import number_codes

        done = number_codes(numbers, limit)
        return None if done is None else (done[0], _template_texts(done[1], template))
    lo = min(int(x.min()) for x in numbers if x.size)
    span = max(int(x.max()) for x in numbers if x.size) - lo + 1
    if span > limit:
        return None
    at = [x - lo for x in numbers]  # each id's place in the span, made once
    present = np.zeros(span, bool)
    for rel in at:
        present[rel] = True
    dense = np.cumsum(present, dtype=np.int32)
    dense -= 1
    codes = [dense[rel] for rel in at]
    return codes, _template_texts(np.flatnonzero(present) + lo, template)


def _first_rows(keys: np.ndarray) -> tuple[np.ndarray, Any]:
    """For int keys: the first row holding each row's key, and a lookup key → first row (-1 = none).

    The lookup's ``repeats`` attribute, when it has one, says how many rows repeat an earlier row's key (0: the
    caller need not compare every row with its first)."""
    n = keys.shape[0]
    if n == 0:  # no invoices: every reference names no invoice

        def lookup_none(q: np.ndarray) -> np.ndarray:
            return np.full(np.shape(q), -1, np.int64)

        lookup_none.repeats = 0  # type: ignore[attr-defined]
        return np.zeros(0, np.int64), lookup_none
    lo = int(keys.min())
    span = int(keys.max()) - lo + 1 if n else 0
    if (span == n and int(keys[0]) == lo and bool((np.diff(keys) == 1).all())):  # consecutive numbering, no gaps

        def lookup_consecutive(q: np.ndarray) -> np.ndarray:
            return np.where((q >= lo) & (q < lo + n), q - lo, -1)

        lookup_consecutive.direct, lookup_consecutive.lo = n, lo  # type: ignore[attr-defined]  # _refs_compiled
        lookup_consecutive.repeats = 0  # type: ignore[attr-defined]
        return np.arange(n, dtype=np.int64), lookup_consecutive
    if span <= 4 * n + 1024 and n >= NUMBA_LOADED_FROM_ROWS and _numba_loaded():  # the same, one pass each
        from xlcredit.core.fast.compiled import first_rows_table, table_lookup

        first_c, table_c, repeats = first_rows_table(keys, lo, span)

        def lookup_compiled(q: np.ndarray) -> np.ndarray:
            return table_lookup(table_c, lo, q)

        lookup_compiled.table, lookup_compiled.lo = table_c, lo  # type: ignore[attr-defined]  # for _refs_compiled
        lookup_compiled.repeats = repeats  # type: ignore[attr-defined]

        return first_c, lookup_compiled
    rows = np.arange(n, dtype=np.int64)
    if span <= 4 * n + 1024:
        table = np.full(span, -1, np.int64)
        rel = keys - lo
        table[rel] = rows  # with repeated keys the last row wins here ...
        first = table[rel]
        if not bool((first == rows).all()):  # ... so repeats are written again, back to front: the first wins
            table[rel[::-1]] = rows[::-1]
            first = table[rel]

        def lookup(q: np.ndarray) -> np.ndarray:
            inside = (q >= lo) & (q < lo + span)
            return np.where(inside, table[np.where(inside, q - lo, 0)], -1)

        return first, lookup
    srt = np.argsort(keys, kind="stable")
    sk = keys[srt]
    start = np.searchsorted(sk, sk, side="left")
    first = np.empty(n, np.int64)
    first[srt] = srt[start]

    def lookup_sorted(q: np.ndarray) -> np.ndarray:
        at = np.minimum(np.searchsorted(sk, q, side="left"), max(n - 1, 0))
        return np.where((n > 0) & (sk[at] == q), srt[at], -1)

    return first, lookup_sorted


class _Flags:
    """Collects per-row problems, reading the offending values only for the flagged rows."""

    def __init__(self) -> None:
        self.items: list[BulkProblem] = []

    def add(self, table: str, mask: np.ndarray, column: str, values: pd.Series, problem: Any) -> None:
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            return
        for row, value in zip(rows.tolist(), values.iloc[rows].tolist(), strict=True):
            self.items.append(BulkProblem(table, row, column, value, problem(value) if callable(problem) else problem))


def _numbers_and_references(invoice_no: pd.Series, references: dict[str, pd.Series]) -> tuple | None:
    """Invoice numbers of one template, each row's first row, the lookup, and each table's references resolved
    (found rows and filled flags, or None where the compiled pass does not apply); None: not of one template."""
    numbers = _numbered(_text_of(invoice_no))
    if numbers is None:
        return None
    first_row, find = _first_rows(numbers.values)
    found = {name: _refs_compiled(numbers, _text_of(refs), find) for name, refs in references.items()}
    return numbers, first_row, find, found


def frames_to_arrays(invoices: pd.DataFrame, payments: pd.DataFrame | None = None,
                     credit_notes: pd.DataFrame | None = None, *, threads: int | None = None) -> BulkFrames:
    """Ledger tables (contract column names) → kernel columns; ids are factorised once here.

    Invoices: customer_id, invoice_no, currency, amount, invoice_date, due_date, terms, disputed.
    Payments: customer_id, payment_date, amount, currency, invoice_ref.
    Credit notes: customer_id, date, amount, currency, invoice_ref.
    Amounts may be Decimal/text/float/int or Arrow decimals and are taken to minor units half up.
    Rows with problems are left out and listed; a blank due date is derived from the terms and flagged.
    Invoice numbers of one prefix and fixed width (INV0001234) take a fast numeric path. With ``threads`` > 1
    (default 1; see :func:`kernel_threads`), the invoice numbers and references are read on a kept helper thread
    while the ids, currencies, amounts and dates are read.
    """
    from xlcredit.core.fast.labels import arrow_available

    flags = _Flags()
    date_col = {"invoices": "invoice_date", "payments": "payment_date", "credit_notes": "date"}
    given = [("invoices", invoices), ("payments", payments), ("credit_notes", credit_notes)]
    present = [(name, f.reset_index(drop=True)) for name, f in given if f is not None]
    for name, frame in present:
        needed = ["customer_id", "currency", "amount", date_col[name]]
        needed += ["invoice_no", "due_date"] if name == "invoices" else []
        for col in needed:
            if col not in frame.columns:
                raise XlcError(f"{name}.{col}", "column is missing", None)
    frames = dict(present)
    references = {name: frames[name]["invoice_ref"] for name in ("payments", "credit_notes")
                  if name in frames and "invoice_ref" in frames[name].columns}
    ahead = None  # the invoice numbers and references, read meanwhile on a helper thread (core.fast.workers)
    if arrow_available() and kernel_threads(sum(len(f) for _, f in present), threads) > 1:
        from xlcredit.core.fast.workers import submit

        try:
            ahead = submit(_numbers_and_references, frames["invoices"]["invoice_no"], references)
        except RuntimeError:  # no helper thread could be started: the numbers are read below, on this thread
            ahead = None

    try:
        numbered = _numbered_codes([f["customer_id"] for _, f in present]) if arrow_available() else None
        customers_sorted = numbered is not None
        cust_codes, cust_arrow = numbered or _shared_codes([f["customer_id"] for _, f in present])
        ccy_codes, ccy_arrow = _shared_codes([f["currency"] for _, f in present], "upper", sort=True)
        ccy_labels = list(ccy_arrow) if isinstance(ccy_arrow, np.ndarray) else ccy_arrow.to_pylist()
        if any(a > b for a, b in pairwise(ccy_labels)):  # codes in the labels' order: the answer needs no sort
            # (without pyarrow: _shared_codes gives them in order of first appearance)
            by_label = sorted(range(len(ccy_labels)), key=ccy_labels.__getitem__)
            recode = np.empty(len(ccy_labels) + 1, np.int32)
            recode[by_label] = np.arange(len(ccy_labels), dtype=np.int32)
            recode[-1] = -1
            ccy_codes = [recode[c] for c in ccy_codes]
            ccy_labels = [ccy_labels[i] for i in by_label]
        ccy_valid = np.array([bool(_ISO_CCY.fullmatch(c)) for c in ccy_labels] + [False])
        exponents = np.array([minor_units(c) for c in ccy_labels] + [2], np.int64)

        cols: dict[str, dict[str, Any]] = {}
        for (name, frame), c_codes, k_codes in zip(present, cust_codes, ccy_codes, strict=True):
            dcol = date_col[name]
            flags.add(name, c_codes < 0, "customer_id", frame["customer_id"], "is empty")
            blank_ccy = k_codes < 0
            bad_ccy = ~blank_ccy & ~ccy_valid[k_codes] if not ccy_valid[:-1].all() else np.zeros(len(frame), bool)
            flags.add(name, blank_ccy, "currency", frame["currency"], "is empty")
            flags.add(name, bad_ccy, "currency", frame["currency"],
                      lambda v: f"is not an ISO 4217 code (got {describe(v)})")
            amount, empty, bad = _minor_column(frame["amount"], k_codes, exponents)
            negative = amount < 0
            if negative.any():
                negative &= ~empty & ~bad
            flags.add(name, empty, "amount", frame["amount"], "is empty")
            flags.add(name, bad, "amount", frame["amount"], lambda v: f"is not a number (got {describe(v)})")
            flags.add(name, negative, "amount", frame["amount"], lambda v: f"must not be negative (got {v})")
            days, d_empty, d_bad = _day_column(frame[dcol])
            flags.add(name, d_empty, dcol, frame[dcol], "is empty")
            flags.add(name, d_bad, dcol, frame[dcol], lambda v: f"is not a date (got {describe(v)})")
            ok = c_codes >= 0
            for problem in (blank_ccy, bad_ccy, empty, bad, negative, d_empty, d_bad):
                if problem.any():  # usually none: skip the pass
                    ok &= ~problem
            cols[name] = {"ok": ok, "customer": c_codes, "currency": k_codes, "amount": amount, "date": days}

        # invoices: due dates, disputes, numbers
        inv = frames["invoices"]
        ci = cols["invoices"]
        n_inv = len(inv)
        due, due_empty, due_bad = _day_column(inv["due_date"])
        flags.add("invoices", due_bad, "due_date", inv["due_date"], lambda v: f"is not a date (got {describe(v)})")
        ci["ok"] &= ~due_bad
        if due_empty.any():
            terms = inv["terms"] if "terms" in inv.columns else pd.Series([None] * n_inv, dtype=object)
            t_codes, t_uniques = pd.factorize(terms, use_na_sentinel=True)
            net = np.array([(-1 if (d := _net_days(u)) is None else d) for u in t_uniques] + [-1], np.int64)[t_codes]
            derivable = due_empty & (net >= 0)
            due = np.where(derivable, ci["date"].astype(np.int64) + np.maximum(net, 0), due).astype(np.int32)
            flags.add("invoices", derivable & ci["ok"], "due_date", inv["due_date"],
                      "is empty: derived from invoice_date and terms (kept)")
            flags.add("invoices", due_empty & ~derivable, "due_date", inv["due_date"],
                      "is empty and terms give no net days")
            ci["ok"] &= ~(due_empty & ~derivable)
        if "disputed" in inv.columns:
            disputed, d_bad = _bool_column(inv["disputed"])
            flags.add("invoices", d_bad, "disputed", inv["disputed"],
                      lambda v: f"is not true/false (got {describe(v)})")
            ci["ok"] &= ~d_bad
        else:
            disputed = np.zeros(n_inv, bool)

        # invoice numbers of one pattern take the Arrow fast path; without pyarrow, the general one below
        # invoice numbers of one template, with the references resolved (on the helper, or here)
        if ahead is not None:
            from xlcredit.core.fast.workers import run_or_take_back

            read = run_or_take_back(ahead, _numbers_and_references, inv["invoice_no"], references)
        else:
            read = _numbers_and_references(inv["invoice_no"], references) if arrow_available() else None
    except BaseException:
        if ahead is not None and not ahead.cancel():  # begun: of no use now, waited for so that none runs on
            from concurrent.futures import wait

            wait([ahead])
        raise
    numbers, found_ahead = None, {}
    if read is not None:
        numbers, first_row, find, found_ahead = read
    if numbers is not None:  # fast path: text order is numeric order
        rank = numbers.values
    else:
        no_codes, no_labels = _codes_of(inv["invoice_no"])
        flags.add("invoices", no_codes < 0, "invoice_no", inv["invoice_no"], "is empty")
        ci["ok"] &= no_codes >= 0
        label_rank = np.empty(len(no_labels) + 1, np.int64)
        label_rank[np.argsort(np.array(no_labels, dtype=object), kind="stable")] = np.arange(len(no_labels))
        label_rank[-1] = -1
        rank = label_rank[no_codes]
        first_row, find_code = _first_rows(rank)
        first_row = np.where(rank >= 0, first_row, np.arange(n_inv))
        label_index = pd.Index(no_labels)
    lookup = find if numbers is not None else find_code
    if getattr(lookup, "repeats", None) == 0:  # each row its own first: no pass to find the repeats
        dup = None
    else:
        dup = first_row != np.arange(n_inv)
    if dup is not None and dup.any():
        for row in np.flatnonzero(dup).tolist():
            flags.items.append(BulkProblem("invoices", row, "invoice_no", inv["invoice_no"].iloc[row],
                                           f"repeats the invoice number of row {int(first_row[row])}"))
        ci["ok"] &= ~dup

    kept_inv = None if ci["ok"].all() else np.flatnonzero(ci["ok"])  # None: every invoice kept (the usual case)
    new_index = None  # each invoice row's row among the kept ones (-1: left out); made only when one is left out
    if kept_inv is not None:
        new_index = np.full(n_inv + 1, -1, np.int64)
        new_index[kept_inv] = np.arange(kept_inv.shape[0])

    # credits: resolve invoice_ref to a kept invoice of the same customer and currency
    credit_parts = []
    for table_no, name in enumerate(("payments", "credit_notes")):
        if name not in frames:
            continue
        frame, cc = frames[name], cols[name]
        if "invoice_ref" not in frame.columns:
            ref_row = np.full(len(frame), -1, np.int64)
        else:
            refs = frame["invoice_ref"]
            if numbers is not None:
                fused = found_ahead[name]
                if fused is not None:
                    found, has = fused
                else:
                    nums, shaped, has = numbers.parse(_text_of(refs))
                    found = np.where(shaped, find(nums), -1)
            else:
                has = ~_blank(refs)
                code = label_index.get_indexer(refs.astype("string").str.strip().fillna(""))
                found = np.where(has & (code >= 0), find_code(label_rank[np.maximum(code, 0)]), -1)
            live = has & cc["ok"]
            if len(frame) >= NUMBA_LOADED_FROM_ROWS and _numba_loaded():  # the same rows and flags, one pass
                from xlcredit.core.fast.compiled import ref_rows

                ref_row, other = ref_rows(found, new_index, ci["customer"], ci["currency"], cc["customer"],
                                          cc["currency"])
                left_out = (found >= 0) & (ref_row < 0) & ~other
            else:
                # the kept invoice's new row (-1: none); every invoice kept: the rows stay as they are
                target = found if new_index is None else new_index[np.where(found >= 0, found, n_inv)]
                other = np.zeros(len(frame), bool)
                named = np.flatnonzero(target >= 0)
                if named.size:  # does the named invoice belong to another customer or currency?
                    f_named = found[named]
                    other[named] = ((ci["customer"][f_named] != cc["customer"][named]) |
                                    (ci["currency"][f_named] != cc["currency"][named]))
                left_out = (found >= 0) & (target < 0)
                ref_row = np.where(other, -1, target)
            flags.add(name, live & (found < 0), "invoice_ref", refs,
                      lambda v: f"names no invoice (got {describe(v)}); the amount joins the pool")
            flags.add(name, live & left_out, "invoice_ref", refs,
                      lambda v: f"names an invoice with problems (got {describe(v)}); the amount joins the pool")
            flags.add(name, live & other, "invoice_ref", refs,
                      lambda v: f"names an invoice of another customer or currency (got {describe(v)}); "
                                "the amount joins the pool")
        keep = np.flatnonzero(cc["ok"]) if not cc["ok"].all() else None
        credit_parts.append((table_no, keep, cc, ref_row))

    def take(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
        return values if rows is None else values[rows]


    invoices_out = BulkInvoices(
        customer=take(ci["customer"], kept_inv), currency=take(ci["currency"], kept_inv),
        amount_minor=take(ci["amount"], kept_inv), invoice_date=take(ci["date"], kept_inv),
        due_date=take(due, kept_inv), disputed=take(disputed, kept_inv), number_rank=take(rank, kept_inv),
    )
    if credit_parts:
        credits_out = BulkCredits(
            customer=np.concatenate([take(c["customer"], k) for _, k, c, _ in credit_parts]),
            currency=np.concatenate([take(c["currency"], k) for _, k, c, _ in credit_parts]),
            amount_minor=np.concatenate([take(c["amount"], k) for _, k, c, _ in credit_parts]),
            date=np.concatenate([take(c["date"], k) for _, k, c, _ in credit_parts]),
            invoice_row=np.concatenate([take(r, k) for _, k, _, r in credit_parts]),
        )
    else:
        none = np.zeros(0, np.int64)
        credits_out = BulkCredits(none, none, none, none.astype(np.int32), none)
    table_order = {"invoices": 0, "payments": 1, "credit_notes": 2}
    problems = sorted(flags.items, key=lambda p: (table_order[p.table], p.row))
    kept_rows = (n_inv if kept_inv is None else kept_inv,
                 tuple((t, len(c["ok"]) if k is None else k) for t, k, c, _ in credit_parts))
    return BulkFrames(
        invoices=invoices_out, credits=credits_out,
        customer_labels=cust_arrow, currencies=tuple(ccy_labels),
        problems=tuple(problems), kept_rows=kept_rows, customers_sorted=customers_sorted,
    )


def age_frames(invoices: pd.DataFrame, payments: pd.DataFrame | None, credit_notes: pd.DataFrame | None,
               as_of: Any, policy: Policy | None = None,
               **options: Any) -> tuple[pd.DataFrame, BulkFrames, BulkAgeing]:
    """Convenience: tables in → ageing table out (customer_id, currency, buckets, totals in minor units)."""
    frames = frames_to_arrays(invoices, payments, credit_notes)
    result = age_bulk((frames.invoices, frames.credits), as_of, policy, **options)
    return result.to_frame(frames.customers, frames.currencies), frames, result
