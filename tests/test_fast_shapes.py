"""The one-key allocation sort of the fast path (issue 16): same order as a plain lexsort, on any shape.

Allocation order (xlcredit/core/openitems.py): within a customer and currency, disputed last, then due
date, invoice date, invoice number, row. The packed sort must give exactly that order on shuffled rows,
due dates unsorted within a customer (mixed terms) and more customer-currency pairs than 16 bits hold.
"""

from __future__ import annotations

import numpy as np
import pytest

from xlcredit.core.fast.ageing import BulkCredits, BulkInvoices, _packed_allocation, age_bulk, prepare_bulk


def _shape(n: int, n_groups: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, n_groups, n).astype(np.int32)
    disputed = rng.random(n) < 0.05
    invoice_date = rng.integers(20_000, 20_030, n).astype(np.int32)   # many equal dates: ties matter
    due = invoice_date + rng.choice(np.array([0, 14, 30, 60], np.int32), n)
    rank = rng.permutation(n).astype(np.int64) * 3 + 7                   # distinct, not in row order
    return group, disputed, due, invoice_date, rank


@pytest.mark.parametrize(("n", "n_groups"), [(5_000, 3), (20_000, 70_000), (1, 1)])
def test_packed_order_is_the_lexsort_order(n, n_groups):
    group, disputed, due, date, rank = _shape(n, n_groups, seed=n)
    got = _packed_allocation(group, disputed, due, date, rank, n_groups)
    assert got is not None
    order, s_group, s_disputed, s_due, s_date = got
    expected = np.lexsort((np.arange(n), rank, date, due, disputed, group))
    assert np.array_equal(order, expected)
    assert np.array_equal(s_group, group[expected]) and np.array_equal(s_disputed, disputed[expected])
    assert np.array_equal(s_due, due[expected]) and np.array_equal(s_date, date[expected])
    no_rank = _packed_allocation(group, disputed, due, date, None, n_groups)
    assert no_rank is not None
    assert np.array_equal(no_rank[0], np.lexsort((np.arange(n), date, due, disputed, group)))


def test_repeated_numbers_fall_back_to_the_row_tie_break():
    group, disputed, due, date, rank = _shape(2_000, 5, seed=3)
    rank[::2] = rank[1::2]  # every number twice: the packed key cannot tell the rows apart
    assert _packed_allocation(group, disputed, due, date, rank, 5) is None
    p = prepare_bulk(BulkInvoices(group, np.zeros(2_000, np.int64), np.full(2_000, 100, np.int64), date, due,
                                  disputed, rank), BulkCredits(*(np.zeros(0, np.int64),) * 4))
    assert np.array_equal(p.order, np.lexsort((np.arange(2_000), rank, date, due, disputed, group)))


def test_many_groups_shuffled_same_figures_as_sorted_input():
    """70,000 customer-currency pairs (beyond the old 16-bit switch-off), rows shuffled: same ageing."""
    n, n_groups = 60_000, 70_000
    group, disputed, due, date, rank = _shape(n, n_groups, seed=11)
    rng = np.random.default_rng(5)
    amount = rng.integers(1, 10_000, n)
    m = 40_000
    ref = np.where(rng.random(m) < 0.5, rng.integers(0, n, m), -1)
    cr_cust = np.where(ref >= 0, group[np.maximum(ref, 0)], rng.integers(0, n_groups, m))
    credits = BulkCredits(cr_cust, np.zeros(m, np.int64), rng.integers(1, 8_000, m),
                          np.full(m, 20_010, np.int32), ref)
    inv = BulkInvoices(group, np.zeros(n, np.int64), amount, date, due, disputed, rank)
    a = age_bulk((inv, credits), 20_040)
    perm = rng.permutation(n)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(n)
    shuffled = BulkInvoices(group[perm], np.zeros(n, np.int64), amount[perm], date[perm], due[perm],
                            disputed[perm], rank[perm])
    credits2 = BulkCredits(cr_cust, np.zeros(m, np.int64), credits.amount_minor, credits.date,
                           np.where(ref >= 0, inverse[np.maximum(ref, 0)], -1))
    b = age_bulk((shuffled, credits2), 20_040)
    assert a.customer.shape[0] > 40_000
    for field in ("customer", "buckets", "open_minor", "unapplied_minor", "interest_minor"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert np.array_equal(np.sort(perm[b.item_row]), np.sort(a.item_row))
