"""The compiled kernel (numba, :mod:`xlcredit.core.fast.compiled`) against the numpy kernel, field by field.

The numpy kernel is itself held to the Decimal reference (``tests/test_fast_matches_reference.py``, which
also runs every comparison with ``kernel="numba"``); here the two kernels are compared on random column
ledgers the reference tests cannot reach cheaply: shuffled rows, mixed terms, partial payments, credit notes,
several currencies, disputed items, references to other customers and to later invoices, invoice-number
ranks that are missing, repeated or too wide to pack, sparse customer codes, buckets of more than 32
invoices (the merge-sort branch) — every output array must be identical, not just the totals.
How the kernel is chosen (``kernel=``), and that small ledgers never import numba, is tested last.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlcredit.core.errors import XlcError
from xlcredit.core.fast import ageing
from xlcredit.core.fast.ageing import BulkCredits, BulkInvoices, age_bulk, day_number

ROOT = Path(__file__).resolve().parents[1]


def D(text: str) -> int:
    return day_number(dt.date.fromisoformat(text))
FIELDS = ("customer", "currency", "buckets", "open_minor", "unapplied_minor", "balance_minor", "disputed_minor",
          "interest_minor", "item_row", "item_open", "item_days_overdue", "item_interest", "ref_problems")


def assert_same(compiled, numpy_result) -> None:
    assert compiled.labels == numpy_result.labels and compiled.as_of == numpy_result.as_of
    assert compiled.n_invoices == numpy_result.n_invoices
    for name in FIELDS:
        got, want = getattr(compiled, name), getattr(numpy_result, name)
        assert got.shape == want.shape, name
        assert np.array_equal(got, want), f"{name}: {got[:8]} != {want[:8]}"


def random_ledger(rng: np.random.Generator, n: int, m: int, customers: int, currencies: int = 3,
                  rank: str = "unique", customer_step: int = 1) -> tuple[BulkInvoices, BulkCredits]:
    """Shuffled rows, terms 0-90 days mixed within a customer, 5 % disputed, half the credits referenced."""
    cust = rng.integers(0, customers, n) * customer_step
    ccy = rng.integers(0, currencies, n)
    date = rng.integers(D("2024-01-01"), D("2026-12-31"), n)
    due = date + rng.choice([0, 0, 14, 30, 30, 45, 60, 90], n)
    amount = np.where(rng.random(n) < 0.3, rng.integers(1, 5, n) * 500, rng.integers(1, 2_000_000, n))
    number_rank = {"none": None, "unique": rng.permutation(n) * 7 + 3,
                   "repeats": rng.integers(0, max(n // 2, 1), n),
                   "wide": rng.integers(0, 2**38, n),          # fits beside the dates, not with the position
                   "too wide": rng.integers(-(2**60), 2**60, n)}[rank]
    inv = BulkInvoices(cust, ccy, amount, date, due, rng.random(n) < 0.05, number_rank)
    ref = np.where(rng.random(m) < 0.5, rng.integers(0, max(n, 1), m), -1) if n else np.full(m, -1)
    target = np.maximum(ref, 0)
    c_cust = np.where(ref >= 0, cust[target] if n else 0, rng.integers(0, customers, m) * customer_step)
    c_ccy = np.where(ref >= 0, ccy[target] if n else 0, rng.integers(0, currencies, m))
    stray = rng.random(m) < 0.03  # a reference naming another customer's invoice: the amount joins the pool
    c_cust = np.where(stray, rng.integers(0, customers, m) * customer_step, c_cust)
    partial = np.where(ref >= 0, (amount[target] if n else 1) * rng.choice([1, 1, 2, 3], m) // 2 + 1, 1)
    c_amount = np.where(ref >= 0, partial, rng.integers(1, 3_000_000, m))
    c_date = rng.integers(D("2024-01-01"), D("2027-03-31"), m)
    return inv, BulkCredits(c_cust, c_ccy, c_amount, c_date, ref)


AS_OFS = (dt.date(2024, 6, 30), dt.date(2026, 10, 31), dt.date(2027, 12, 31))


def check(inv: BulkInvoices, cr: BulkCredits, compiled_runs: bool = True, **options) -> None:
    """Both kernels at three dates and both ageing bases; ``compiled_runs``: numba answered (no fallback)."""
    ran = ageing._age_compiled(inv, cr, D("2026-10-31"), (0, 30, 60), "due_date", Fraction(8, 100), 365, ())
    assert (ran is not None) == compiled_runs
    for when in AS_OFS:
        for by in ("due_date", "invoice_date"):
            assert_same(age_bulk((inv, cr), when, by=by, kernel="numba", **options),
                        age_bulk((inv, cr), when, by=by, kernel="numpy", **options))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 80), m=st.integers(0, 80), customers=st.integers(1, 6),
       currencies=st.integers(1, 4), rank=st.sampled_from(["none", "unique", "repeats", "wide", "too wide"]),
       rate=st.sampled_from(["0.08", "0.365", "0.1234", "0"]), basis=st.sampled_from([365, 360]))
def test_compiled_equals_numpy_on_random_ledgers(seed, n, m, customers, currencies, rank, rate, basis) -> None:
    inv, cr = random_ledger(np.random.default_rng(seed), n, m, customers, currencies, rank)
    check(inv, cr, rank != "too wide" or n < 2, annual_rate=rate, basis=basis, bounds=(0, 30, 60, 90, 180))


@pytest.mark.parametrize(("customers", "rank", "step"), [
    (3, "unique", 1),        # about 2,000 invoices a bucket: the sort of long buckets
    (200, "none", 1),        # no numbers: the row breaks every tie
    (50, "repeats", 1),      # repeated numbers: then the row
    (50, "wide", 1),         # numbers too wide to pack with a position: the merge-sort branch
    (500, "unique", 10_007),  # sparse customer codes (pairs numbered by np.unique first)
])
def test_compiled_equals_numpy_on_larger_ledgers(customers, rank, step) -> None:
    inv, cr = random_ledger(np.random.default_rng(customers), 20_000, 15_000, customers, 4, rank, step)
    check(inv, cr)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 400), m=st.integers(0, 400), customers=st.integers(2, 40),
       threads=st.integers(2, 4), per_range=st.sampled_from([16, 64, 100_000]),
       rank=st.sampled_from(["none", "unique", "repeats"]), block_bits=st.sampled_from([12, 0, 1, 2, 3]))
def test_customer_ranges_on_threads_answer_as_one_kernel(seed, n, m, customers, threads, per_range, rank,
                                                         block_bits, monkeypatch) -> None:
    """The ledger split into customer ranges aged on several threads (ranges of a few rows: many more ranges
    than threads) gives every field of the one-thread answer: items in the same order, problems in credit
    order, references to another range's customer reported as the one kernel reports them. ``block_bits``
    below 12 makes ranges begin at multiples of 2, 4, 8 … customer codes, the last block part-filled, as on
    ledgers of more than 4,096 customers (and 0: one block, so one range)."""
    from xlcredit.core.fast import compiled

    monkeypatch.setattr(compiled, "ROWS_PER_RANGE", per_range)
    monkeypatch.setattr(compiled, "RANGE_BLOCK_BITS", block_bits)
    inv, cr = random_ledger(np.random.default_rng(seed), n, m, customers, 3, rank)
    ranged = []
    real = compiled._age_ranges
    monkeypatch.setattr(compiled, "_age_ranges", lambda *args: ranged.append(real(*args)) or ranged[-1])
    for when in AS_OFS:
        one = age_bulk((inv, cr), when, kernel="numba", threads=1)
        assert_same(age_bulk((inv, cr), when, kernel="numba", threads=threads), one)
    assert_same(one, age_bulk((inv, cr), AS_OFS[-1], kernel="numpy"))
    codes = np.concatenate([inv.customer, cr.customer])
    # the threads' answers came from ranges whenever there are two customer codes or more (one code: one kernel)
    assert all(r is not None for r in ranged[1::2]) == (codes.size > 0 and codes.max() >= 1)


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_cust=st.integers(2, 20_000), bits=st.integers(0, 12),
       slices=st.integers(2, 4), n_ranges=st.integers(2, 40))
def test_the_range_plan_puts_every_customer_in_one_range_and_every_row_in_one_place(seed, n_cust, bits, slices,
                                                                                      n_ranges) -> None:
    """The ranges cover the customer codes 0 … n_cust − 1 once, in order, each beginning at a block of 2^shift
    codes; each slice's rows of a range go to their own places, after the earlier slices' and before the next
    range's."""
    from xlcredit.core.fast import compiled

    rng = np.random.default_rng(seed)
    shift = max(0, (n_cust - 1).bit_length() - bits)
    n_blocks = ((n_cust - 1) >> shift) + 1
    assert n_blocks <= 2**bits
    i_hist = rng.integers(0, 50, (slices, n_blocks)) * (rng.random((slices, n_blocks)) < 0.7)
    c_hist = rng.integers(0, 50, (slices, n_blocks)) * (rng.random((slices, n_blocks)) < 0.5)
    plan = compiled._range_plan(i_hist, c_hist, n_cust, shift, n_ranges)
    bounds, range_of = plan["bounds"], plan["range_of"]
    assert bounds[0] == 0 and bounds[-1] == n_cust and np.all(np.diff(bounds) > 0)
    assert np.all(bounds[:-1] % (1 << shift) == 0) and np.array_equal(plan["first_code"], bounds[:-1])
    code = np.arange(n_cust)
    assert np.array_equal(range_of[code >> shift], np.searchsorted(bounds, code, side="right") - 1)
    for name, hist in (("i", i_hist), ("c", c_hist)):
        start, cursor = plan[f"{name}_start"], plan[f"{name}_cursor"]
        per = np.stack([[hist[t, range_of == r].sum() for r in range(len(bounds) - 1)] for t in range(slices)])
        assert np.array_equal(np.diff(start), per.sum(axis=0)) and start[0] == 0
        assert np.array_equal(cursor[0], start[:-1])
        assert np.array_equal(cursor[1:], cursor[:-1] + per[:-1]) and np.all(cursor[-1] + per[-1] == start[1:])


def test_many_customers_are_ranged_by_blocks_of_codes_with_the_same_answer(monkeypatch) -> None:
    """10,001 customers (more than 4,096: ranges begin at multiples of 4 codes, the last block holds one
    customer) in ranges of about 600 rows on three threads: every field as one kernel gives it."""
    from xlcredit.core.fast import compiled

    monkeypatch.setattr(compiled, "ROWS_PER_RANGE", 600)
    inv, cr = random_ledger(np.random.default_rng(10_001), 30_000, 22_000, 10_001, 2, "unique")
    assert int(inv.customer.max()) == 10_000
    seen = []
    real_plan = compiled._scatter_invoices

    def spy(*args):
        seen.append((args[10], args[12].copy()))  # shift, the ranges' first customer codes
        return real_plan(*args)

    monkeypatch.setattr(compiled, "_scatter_invoices", spy)
    for when in AS_OFS:
        assert_same(age_bulk((inv, cr), when, kernel="numba", threads=3),
                    age_bulk((inv, cr), when, kernel="numba", threads=1))
    shift, first = seen[0]
    assert shift == 2 and len(first) > 60 and np.all(first % 4 == 0)
    assert_same(age_bulk((inv, cr), AS_OFS[1], kernel="numba", threads=3), age_bulk((inv, cr), AS_OFS[1],
                                                                                      kernel="numpy"))


def test_customer_ranges_with_due_dates_spread_too_wide_for_a_range(monkeypatch) -> None:
    """One due date typed decades away spans more days than a small range can count: that range sorts its buckets
    whole (as one kernel does for the whole ledger), with the same answer."""
    from xlcredit.core.fast import compiled

    monkeypatch.setattr(compiled, "ROWS_PER_RANGE", 2_000)
    inv, cr = random_ledger(np.random.default_rng(17), 12_000, 9_000, 300, 2, "unique")
    due = inv.due_date.copy()
    due[5] += 90_000  # ≈ 250 years: more than 4 × a range's rows + 65,536 days, less than the ledger's limit
    inv = BulkInvoices(inv.customer, inv.currency, inv.amount_minor, inv.invoice_date, due, inv.disputed,
                       inv.number_rank)
    for when in AS_OFS:
        assert_same(age_bulk((inv, cr), when, kernel="numba", threads=3),
                    age_bulk((inv, cr), when, kernel="numpy"))


@pytest.mark.parametrize("refuse", ["every other", "all"])
def test_helpers_that_cannot_start_leave_the_work_to_the_caller(refuse, monkeypatch) -> None:
    """``can't start new thread`` for some helpers, or for all: the caller's thread does the rest (all of it
    when no helper starts) and the answer is the same as one kernel's."""
    import threading

    from xlcredit.core.fast import workers

    inv, cr = random_ledger(np.random.default_rng(4), 3_000, 2_000, 50)
    one = age_bulk((inv, cr), AS_OFS[1], kernel="numba", threads=1)
    real_submit = workers.submit
    calls, ran_on = [], set()

    def refused(fn, *args):
        calls.append(fn)
        if refuse == "all" or len(calls) % 2 == 0:
            raise RuntimeError("can't start new thread")
        return real_submit(fn, *args)

    from xlcredit.core.fast import compiled

    real_scatter = compiled._scatter_invoices

    def spy(*args):
        ran_on.add(threading.get_ident())
        return real_scatter(*args)

    monkeypatch.setattr(workers, "submit", refused)
    monkeypatch.setattr(compiled, "_scatter_invoices", spy)
    assert_same(age_bulk((inv, cr), AS_OFS[1], kernel="numba", threads=3), one)
    assert len(calls) >= 4  # each phase asked for helpers
    if refuse == "all":
        assert ran_on == {threading.get_ident()}  # every slice on the caller's thread


def test_a_failing_task_is_raised_once_every_begun_task_has_finished(monkeypatch) -> None:
    """A helper's or the caller's task fails while others run: the error reaches the caller only once every
    task begun has finished (no work of a failed call runs on), and no task is begun after it."""
    import threading
    import time

    from xlcredit.core.fast import compiled

    inv, cr = random_ledger(np.random.default_rng(4), 3_000, 2_000, 50)
    running, finished = [], []
    other_began = threading.Event()
    real_scatter = compiled._scatter_credits
    lock = threading.Lock()
    caller = threading.get_ident()

    def broken(lo, *args):
        with lock:
            running.append(lo)
        if threading.get_ident() == caller:  # the caller's slice fails, once a helper's slice has begun
            other_began.wait(timeout=10)
            raise ValueError("scatter failed")
        other_began.set()
        time.sleep(0.3)
        real_scatter(lo, *args)
        with lock:
            finished.append(lo)

    monkeypatch.setattr(compiled, "_scatter_credits", broken)
    with pytest.raises(ValueError, match="scatter failed"):
        age_bulk((inv, cr), AS_OFS[1], kernel="numba", threads=3)
    assert len(running) >= 2, running  # the caller's slice and a helper's ran side by side
    assert len(finished) == len(running) - 1  # every begun helper slice had finished


def test_callers_on_many_threads_share_the_helpers_and_answer_alike() -> None:
    """Several threads ageing at once (a service's requests) share the kept helpers: each gets its own answer,
    the same as one kernel's."""
    from concurrent.futures import ThreadPoolExecutor

    ledgers = [random_ledger(np.random.default_rng(seed), 2_000, 1_500, 40) for seed in range(6)]
    want = [age_bulk(lg, AS_OFS[1], kernel="numba", threads=1) for lg in ledgers]
    with ThreadPoolExecutor(6) as callers:
        got = list(callers.map(lambda lg: age_bulk(lg, AS_OFS[1], kernel="numba", threads=4), ledgers * 2))
    for g, w in zip(got, want * 2, strict=True):
        assert_same(g, w)


@pytest.mark.parametrize("threads", [1, 3])
def test_without_items_the_group_figures_are_the_same(threads, monkeypatch) -> None:
    """``items=False`` (what a report per customer asks for): every per-group figure as with the items, the
    per-item arrays empty — with either kernel, on one thread and on ranges."""
    from xlcredit.core.fast import compiled

    monkeypatch.setattr(compiled, "ROWS_PER_RANGE", 500)
    inv, cr = random_ledger(np.random.default_rng(21), 4_000, 3_000, 60, 3, "unique")
    for kernel in ("numba", "numpy"):
        full = age_bulk((inv, cr), AS_OFS[1], kernel=kernel, threads=threads)
        bare = age_bulk((inv, cr), AS_OFS[1], kernel=kernel, threads=threads, items=False)
        assert len(full.item_row) > 300
        for name in FIELDS:
            if name.startswith("item_"):
                assert getattr(bare, name).shape == (0,) and getattr(bare, name).dtype == getattr(full, name).dtype
            else:
                assert np.array_equal(getattr(bare, name), getattr(full, name)), (kernel, name)


def test_customer_ranges_are_used_and_threads_are_checked(monkeypatch) -> None:
    """``threads=2`` takes the ranges; a ledger of THREADS_FROM_ROWS rows gets the CPUs the caller names (at most
    8), a smaller one a single thread; ``threads`` is a whole number ≥ 1."""
    from xlcredit.core.fast import compiled

    ran = []
    real = compiled._age_ranges
    monkeypatch.setattr(compiled, "_age_ranges", lambda *a: ran.append(a[0]) or real(*a))
    inv, cr = random_ledger(np.random.default_rng(9), 60_000, 45_000, 3_000, 2, "unique")
    assert ageing.kernel_threads(ageing.THREADS_FROM_ROWS) == 1  # the core does not ask the machine
    assert ageing.kernel_threads(ageing.THREADS_FROM_ROWS, cpus=4) == 4
    assert ageing.kernel_threads(ageing.THREADS_FROM_ROWS, cpus=32) == 8
    assert_same(age_bulk((inv, cr), AS_OFS[1], kernel="numba", threads=2),
                age_bulk((inv, cr), AS_OFS[1], kernel="numpy"))
    assert ran == [2]
    assert ageing.kernel_threads(ageing.THREADS_FROM_ROWS - 1) == 1
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(XlcError, match="threads: must be a whole number of at least 1"):
            age_bulk((inv, cr), AS_OFS[1], kernel="numba", threads=bad)


@pytest.mark.parametrize("days", [1, 3, 40])
def test_many_invoices_due_the_same_day(days) -> None:
    """Runs of one due date of every length (2, up to 16: sorted in place; longer: the segment sort)."""
    rng = np.random.default_rng(days)
    inv, cr = random_ledger(rng, 6_000, 4_000, 12, 2, "unique")
    date = D("2026-09-01") + rng.integers(0, days, len(inv))
    inv = BulkInvoices(inv.customer, inv.currency, inv.amount_minor, date, date + rng.choice([0, 30], len(inv)),
                       inv.disputed, inv.number_rank)
    check(inv, cr)
    no_numbers = BulkInvoices(inv.customer, inv.currency, inv.amount_minor, inv.invoice_date, inv.due_date,
                              inv.disputed, None)
    check(no_numbers, cr)


def test_due_dates_spread_too_wide_for_a_counting_pass() -> None:
    """Due dates over more days than 4 × n + 65,536: each (customer-currency, disputed) bucket is sorted whole."""
    rng = np.random.default_rng(9)
    inv, cr = random_ledger(rng, 3_000, 2_000, 20)
    spread = rng.integers(-150_000, 150_000, len(inv))
    inv = BulkInvoices(inv.customer, inv.currency, inv.amount_minor, inv.invoice_date + spread,
                       inv.due_date + spread, inv.disputed, inv.number_rank)
    assert int(inv.due_date.max()) - int(inv.due_date.min()) > 4 * len(inv) + 65_536
    check(inv, cr)


def test_work_arrays_are_reused_and_released() -> None:
    """A smaller ledger after a larger one runs in the kept (longer) arrays and still answers the same."""
    from xlcredit.core.fast import compiled

    big = random_ledger(np.random.default_rng(1), 5_000, 4_000, 40)
    small = random_ledger(np.random.default_rng(2), 300, 100, 7)
    check(*big)
    kept = compiled._work("rec", 1, np.int64, 3).base
    check(*small)
    assert compiled._work("rec", 1, np.int64, 3).base is kept
    compiled.release_workspace()
    assert compiled._work("rec", 1, np.int64, 3).base is not kept
    check(*small)


def test_wide_dates_and_huge_amounts_fall_back_to_numpy_with_the_same_answer() -> None:
    """Sort keys wider than 63 bits, or interest products beyond int64: the numpy kernel answers (exactly)."""
    wide = BulkInvoices([0, 0, 1], [0, 0, 0], [500, 5, 7], [-(2**31) + 5, 0, 2**31 - 100],
                        [-(2**31) + 10, 10, 2**31 - 50], [False, False, True], [2**61, 0, -(2**61)])
    huge = BulkInvoices([0, 0], [0, 1], [2**40, 3], [0, 0], [1, 2], [False, False], [1, 2])
    cr = BulkCredits([0], [0], [3], [1], [1])
    for inv, when in ((wide, 0), (wide, 2**31 - 60), (huge, 2**30)):
        assert_same(age_bulk((inv, cr), when, kernel="numba"), age_bulk((inv, cr), when, kernel="numpy"))
    assert int(age_bulk((huge, cr), 2**30, kernel="numba").interest_minor[0]) > 2**62 // 2**10  # beyond int64 products


def test_kernel_names_are_checked() -> None:
    inv, cr = random_ledger(np.random.default_rng(3), 10, 5, 2)
    with pytest.raises(XlcError, match=r"^kernel: must be one of auto, numba, numpy \(got 'fast'\)"):
        age_bulk((inv, cr), dt.date(2026, 10, 31), kernel="fast")


def test_without_numba_auto_is_numpy_and_numba_names_the_fix(monkeypatch) -> None:
    inv, cr = random_ledger(np.random.default_rng(4), 200, 100, 5)
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba → ImportError; find_spec → None
    monkeypatch.setattr(ageing, "NUMBA_FROM_ROWS", 0)
    assert not ageing.numba_available()
    with pytest.raises(XlcError, match=r"^kernel: numba is not installed \(pip install numba, or kernel='numpy'\)"):
        age_bulk((inv, cr), dt.date(2026, 10, 31), kernel="numba")
    assert_same(age_bulk((inv, cr), dt.date(2026, 10, 31)), age_bulk((inv, cr), dt.date(2026, 10, 31), kernel="numpy"))


def test_numba_installed_but_broken_is_numpy_for_auto_and_one_line_for_numba(monkeypatch, tmp_path) -> None:
    """Reviewer's case: numba is installed (find_spec finds it) but importing it fails — e.g. built for another
    numpy. "auto" answers with the numpy kernel; "numba" is one line naming the cause and the fix, no traceback."""
    broken = tmp_path / "numba"
    broken.mkdir()
    (broken / "__init__.py").write_text('raise ImportError("Numba needs NumPy 2.5 or less. Got NumPy 2.9.")\n')
    inv, cr = random_ledger(np.random.default_rng(5), 200, 100, 5)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "numba" or m.startswith(("numba.", "llvmlite"))] + [
            "xlcredit.core.fast.compiled"]:
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(ageing, "NUMBA_FROM_ROWS", 0)
    assert ageing.numba_available()
    assert_same(age_bulk((inv, cr), dt.date(2026, 10, 31)), age_bulk((inv, cr), dt.date(2026, 10, 31), kernel="numpy"))
    with pytest.raises(XlcError, match=r"^kernel: numba is installed but cannot be loaded \(Numba needs NumPy 2\.5"):
        age_bulk((inv, cr), dt.date(2026, 10, 31), kernel="numba")


def _run(code: str, **env: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_small_ledgers_and_the_core_never_import_numba(tmp_path) -> None:
    """``import xlcredit.core``, ``age_frames`` on a small ledger and ``xlcredit age`` on the sample stay numba-free."""
    frame = pd.DataFrame({"customer_id": ["C1", "C2"], "invoice_no": ["I1", "I2"], "invoice_date": ["2026-09-01"] * 2,
                          "due_date": ["2026-10-01"] * 2, "amount": ["100.00", "50.00"], "currency": ["EUR"] * 2})
    frame.to_parquet(tmp_path / "inv.parquet")
    code = ("import sys, xlcredit.core, xlcredit.core.fast.ageing\n"
            "from xlcredit import age_frames\n"
            f"t = age_frames({str(tmp_path / 'inv.parquet')!r}, as_of='2026-10-31')\n"
            "print(str(t['open'].sum()), 'numba' in sys.modules)")
    assert _run(code) == "150.00 False"
    cli = ("import sys\nfrom typer.testing import CliRunner\nfrom xlcredit.cli import app\n"
           "r = CliRunner().invoke(app, ['age'])\nprint(r.exit_code, 'numba' in sys.modules)")
    assert _run(cli) == "0 False"  # xlcredit age on the bundled sample


def test_no_writable_cache_folder_compiles_in_memory_instead() -> None:
    """When numba finds no folder to cache in (read-only install, no user cache), the kernel still runs.

    Simulated by allowing only numba's zip-file locator, which finds nothing for a normal file — the same
    "no locator available" that a read-only package folder plus an unwritable home give (numba tries
    ``NUMBA_CACHE_DIR``, the package's ``__pycache__``, then the user's cache folder, in that order).
    """
    code = ("import numpy as np\n"
            "from xlcredit.core.fast.ageing import BulkInvoices, BulkCredits, age_bulk\n"
            "from xlcredit.core.fast import compiled\n"
            "inv = BulkInvoices([0, 0], [0, 0], [100, 250], [20000, 20001], [20030, 20010], [False, False], [1, 2])\n"
            "cr = BulkCredits([0], [0], [120], [20005], [-1])\n"
            "r = age_bulk((inv, cr), 20100, kernel='numba')\n"
            "print(compiled.cached(), r.open_minor.tolist(), r.item_row.tolist(), r.item_open.tolist())")
    assert _run(code, NUMBA_CACHE_LOCATOR_CLASSES="ZipCacheLocator") == "False [230] [1, 0] [130, 100]"


# ---------------------------------------------------------------------------- reading the columns, once numba is in
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(template=st.sampled_from(["INV#######", "INV-####-#####", "##########", "A-##############B", "#"]),
       seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300))
def test_compiled_invoice_numbers_equal_the_numpy_reading(template, seed, n, monkeypatch) -> None:
    """Invoice numbers of one fixed-width template, read by the compiled pass and by numpy: the same number and
    fits flag for every value (values that do not fit included, bytes below "0" and above "9" included)."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    shape = np.frombuffer(template.encode(), np.uint8)
    mat = np.where(shape == ord("#"), rng.integers(48, 58, (n, shape.size)), shape).astype(np.uint8)
    bad = rng.random((n, shape.size)) < 0.02  # now and then any printable byte, anywhere
    mat = np.where(bad, rng.integers(32, 127, (n, shape.size)), mat).astype(np.uint8)
    arr = pa.array([bytes(row).decode() for row in mat])
    monkeypatch.setattr(ageing, "_numba_loaded", lambda: False)
    want = ageing._template_numbers(arr, template.encode())
    monkeypatch.setattr(ageing, "_numba_loaded", lambda: True)
    monkeypatch.setattr(ageing, "NUMBA_LOADED_FROM_ROWS", 0)
    got = ageing._template_numbers(arr, template.encode())
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), wide=st.booleans(), cut=st.integers(0, 3))
def test_compiled_length_check_equals_numpy(seed, n, wide, cut, monkeypatch) -> None:
    """Values of one length are read; any other length — even when the lengths still add up to n × width, as
    "C1", "C123" for width 3 — makes both paths answer None (the general path), on sliced and large strings."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    lengths = np.full(n + cut, 3)
    if rng.random() < 0.6 and n >= 2:  # one value a byte short and another a byte long: the total is unchanged
        i, j = rng.choice(n, 2, replace=False) + cut
        lengths[i], lengths[j] = 2, 4
    values = ["C" + "".join(str(d) for d in rng.integers(0, 10, k - 1)) for k in lengths]
    arr = pa.array(values, pa.large_string() if wide else pa.string()).slice(cut)
    monkeypatch.setattr(ageing, "_numba_loaded", lambda: False)
    want = ageing._template_numbers(arr, b"C##")
    monkeypatch.setattr(ageing, "_numba_loaded", lambda: True)
    monkeypatch.setattr(ageing, "NUMBA_LOADED_FROM_ROWS", 0)
    got = ageing._template_numbers(arr, b"C##")
    same = bool((lengths[cut:] == 3).all())
    assert (want is None) == (got is None) == (not same)
    if same:
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        assert got[0].tolist() == [int(v[1:]) for v in values[cut:]]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 400), spread=st.sampled_from([1, 2, 4]))
def test_compiled_first_rows_and_lookup_equal_numpy(seed, n, spread, monkeypatch) -> None:
    """Repeated keys (the first row wins), gaps, negative keys; lookups inside, outside and between the keys."""
    rng = np.random.default_rng(seed)
    keys = rng.integers(-5, spread * n, n).astype(np.int64)
    queries = rng.integers(-20, spread * n + 20, 3 * n).astype(np.int64)
    monkeypatch.setattr(ageing, "_numba_loaded", lambda: False)
    first, lookup = ageing._first_rows(keys)
    want = lookup(queries)
    monkeypatch.setattr(ageing, "_numba_loaded", lambda: True)
    monkeypatch.setattr(ageing, "NUMBA_LOADED_FROM_ROWS", 0)
    first_c, lookup_c = ageing._first_rows(keys)
    assert np.array_equal(first_c, first) and first_c.dtype == first.dtype
    repeats = int((first != np.arange(n)).sum())  # rows whose key an earlier row holds
    assert getattr(lookup_c, "repeats", repeats) == repeats and getattr(lookup, "repeats", repeats) == repeats
    got = lookup_c(queries)
    assert np.array_equal(got, want) and got.dtype == want.dtype


def test_frames_to_arrays_reads_the_same_once_numba_is_loaded(monkeypatch) -> None:
    """The whole conversion (numbers, references, repeats, bad rows) with and without the compiled helpers."""
    from xlcredit.core.fast.ageing import frames_to_arrays

    rng = np.random.default_rng(5)
    n = 3_000
    numbers = rng.permutation(n) * 3 + 100
    inv = pd.DataFrame({"customer_id": [f"C{c:03d}" for c in rng.integers(0, 90, n)],
                        "invoice_no": [f"INV{k:07d}" for k in numbers], "invoice_date": ["2026-09-01"] * n,
                        "due_date": ["2026-10-01"] * n, "amount": ["10.00"] * n, "currency": ["EUR"] * n})
    inv.loc[7, "invoice_no"] = inv.loc[3, "invoice_no"]  # a repeat: reported, left out
    inv.loc[11, "amount"] = "abc"  # left out: a payment naming it names "an invoice with problems"
    refs = [f"INV{k:07d}" for k in rng.choice(numbers, 1_000)] + ["INV9999999", "X1", None, inv.loc[11, "invoice_no"]]
    pay = pd.DataFrame({"customer_id": [f"C{c:03d}" for c in rng.integers(0, 90, len(refs))],
                        "payment_date": ["2026-09-15"] * len(refs), "amount": ["4.00"] * len(refs),
                        "currency": ["EUR"] * len(refs), "invoice_ref": refs})
    same = rng.random(len(refs)) < 0.5  # half name their own customer's invoice, some of them in another currency
    by_no = dict(zip(inv["invoice_no"], inv["customer_id"], strict=False))
    pay.loc[same, "customer_id"] = [by_no.get(r, "C000") for r in pay.loc[same, "invoice_ref"]]
    pay.loc[same & (rng.random(len(refs)) < 0.2), "currency"] = "USD"
    import pyarrow as pa

    tables = [pa.Table.from_pandas(f).to_pandas(types_mapper=pd.ArrowDtype) for f in (inv, pay)]
    monkeypatch.setattr(ageing, "_numba_loaded", lambda: False)
    want = frames_to_arrays(*tables)
    monkeypatch.setattr(ageing, "_numba_loaded", lambda: True)
    monkeypatch.setattr(ageing, "NUMBA_LOADED_FROM_ROWS", 0)
    said = {p.problem.split(" (got")[0] for p in want.problems}
    assert {"names an invoice with problems", "names an invoice of another customer or currency"} <= said
    assert (want.credits.invoice_row >= 0).sum() > 300  # and many that settle their invoice
    for threads in (1, 2):  # 2: the numbers and references read in a second thread meanwhile
        got = frames_to_arrays(*tables, threads=threads)
        assert got.problems == want.problems and len(want.problems) > 3
        for part in ("invoices", "credits"):
            for name, value in vars(getattr(want, part)).items():
                if value is not None:
                    assert np.array_equal(getattr(getattr(got, part), name), value), (part, name)


def test_numbers_read_in_a_second_thread_also_fall_back_to_the_general_path() -> None:
    """Invoice numbers not of one template (and a bad column) with ``threads=2``: the same as on one thread."""
    from xlcredit.core.fast.ageing import frames_to_arrays

    inv = pd.DataFrame({"customer_id": ["C1", "C2", "C1"], "invoice_no": ["INV001", "X-7", "INV002"],
                        "invoice_date": ["2026-09-01"] * 3, "due_date": ["2026-10-01"] * 3,
                        "amount": ["10.00", "5.00", "oops"], "currency": ["EUR"] * 3})
    pay = pd.DataFrame({"customer_id": ["C2", "C1"], "payment_date": ["2026-09-15"] * 2, "amount": ["4.00"] * 2,
                        "currency": ["EUR"] * 2, "invoice_ref": ["X-7", "INV002"]})
    one, two = (frames_to_arrays(inv, pay, threads=t) for t in (1, 2))
    assert one.problems == two.problems and [p.problem.split(" (got")[0] for p in two.problems] == [
        "is not a number", "names an invoice with problems"]
    assert np.array_equal(two.credits.invoice_row, [1, -1]) and np.array_equal(one.credits.invoice_row, [1, -1])
    with pytest.raises(XlcError, match=r"invoices\.invoice_no: column is missing"):
        frames_to_arrays(inv.drop(columns="invoice_no"), pay, threads=2)


@pytest.mark.parametrize("helper_began", [True, False])
def test_a_failure_while_the_second_thread_reads_leaves_no_work_running(helper_began, monkeypatch) -> None:
    """An error in the main thread's part of ``frames_to_arrays(threads=2)``: a helper's reading of the numbers
    already begun has finished when the error is raised; one not yet begun is cancelled and never runs. Either
    way no work runs on after the call, spending CPU for nothing."""
    import threading
    import time

    from xlcredit.core.fast import workers
    from xlcredit.core.fast.ageing import frames_to_arrays

    inv = pd.DataFrame({"customer_id": ["C1", "C2"], "invoice_no": ["INV001", "INV002"],
                        "invoice_date": ["2026-09-01"] * 2, "due_date": ["2026-10-01"] * 2,
                        "amount": ["10.00", "5.00"], "currency": ["EUR"] * 2})
    real = ageing._numbers_and_references
    began, done = threading.Event(), []

    def slow(*args):
        began.set()
        time.sleep(0.5)
        out = real(*args)
        done.append(True)
        return out

    def broken(*args):
        if helper_began:
            assert began.wait(timeout=10)
        raise RuntimeError("amounts failed")

    release = threading.Event()
    if not helper_began:  # every helper busy: the numbers' reading waits in the queue
        blockers = [workers.submit(release.wait, 10) for _ in range(workers.WORKERS)]
    monkeypatch.setattr(ageing, "_numbers_and_references", slow)
    monkeypatch.setattr(ageing, "_minor_column", broken)
    try:
        with pytest.raises(RuntimeError, match="amounts failed"):
            frames_to_arrays(inv, threads=2)
        assert done == ([True] if helper_began else [])  # begun: finished before the error was raised
    finally:
        release.set()
    if not helper_began:
        assert all(b.result(timeout=10) for b in blockers)
        time.sleep(0.7)
        assert not began.is_set() and done == []  # cancelled: it never ran


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), consecutive=st.booleans(),
       cut=st.integers(0, 7), dictionary=st.booleans())
def test_compiled_references_equal_parse_and_lookup(seed, n, consecutive, cut, dictionary, monkeypatch) -> None:
    """References read in one compiled pass over the bytes: the same invoice row and filled flag for every value
    as ``parse`` + the lookup — nulls (also in a slice whose validity bits start mid-byte), blanks, values with
    spaces around them, other lengths, other prefixes, numbers of no invoice, both lookups (consecutive numbers
    and a table)."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    keys = (np.arange(n) + 40 if consecutive else rng.permutation(n) * 3 + 40).astype(np.int64)
    monkeypatch.setattr(ageing, "_numba_loaded", lambda: True)
    monkeypatch.setattr(ageing, "NUMBA_LOADED_FROM_ROWS", 0)
    numbers = ageing._Numbers(keys, b"INV#####")
    _, find = ageing._first_rows(keys)
    one_run = consecutive or n == 1
    assert getattr(find, "direct", 0) == (n if one_run else 0) and (one_run or find.table is not None)
    pick = [f"INV{k:05d}" for k in rng.choice(keys, 2 * n)] + [f"INV{k:05d}" for k in rng.integers(0, 4 * n, n)]
    odd = [None, "", "   ", f" INV{int(keys[0]):05d} ", f"INV{int(keys[-1]):05d}\t", "INV1", "XNV00041", "INV0004a",
           "INV000041", "ÍNV00041"]
    values = list(rng.permutation(np.array(pick + odd, dtype=object)))
    arr = pa.array(values, pa.string()).slice(cut)
    if dictionary:
        arr = arr.dictionary_encode()
    fused = ageing._refs_compiled(numbers, arr, find)
    assert fused is not None
    nums, shaped, has = numbers.parse(arr)
    assert np.array_equal(fused[0], np.where(shaped, find(nums), -1)) and np.array_equal(fused[1], has)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), scale=st.integers(0, 4),
       strided=st.booleans())
def test_compiled_minor_units_equal_the_numpy_rescale(seed, n, scale, strided, monkeypatch) -> None:
    """Amounts with ``scale`` decimals → minor units of each row's currency (0, 2 or 3 digits; a blank
    currency's code -1 takes the last entry), half up away from zero: the compiled pass and numpy agree on every
    row — halves, negatives, the low words of decimals (every other int64) included."""
    rng = np.random.default_rng(seed)
    base = rng.integers(-10**7, 10**7, 2 * n)
    base[::7] = (base[::7] // 10) * 10 + 5  # many exact halves
    units = base[0::2] if strided else base[:n].copy()
    exponents = np.array([0, 2, 3, 2], np.int64)  # JPY, EUR, BHD; the last: a blank currency
    codes = rng.integers(-1, 3, n).astype(np.int32)
    monkeypatch.setattr(ageing, "_numba_loaded", lambda: False)
    want = ageing._rescale_codes(units, codes, exponents, scale)
    monkeypatch.setattr(ageing, "_numba_loaded", lambda: True)
    monkeypatch.setattr(ageing, "NUMBA_LOADED_FROM_ROWS", 0)
    got = ageing._rescale_codes(units, codes, exponents, scale)
    assert got.dtype == want.dtype == np.int64 and got.flags.c_contiguous and np.array_equal(got, want)
