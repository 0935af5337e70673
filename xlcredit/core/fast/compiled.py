"""The compiled kernel (numba): :func:`~xlcredit.core.fast.ageing.prepare_bulk` + ``age_bulk`` in a few linear passes.

**Mirrors** the numpy kernel of :mod:`xlcredit.core.fast.ageing` exactly (which mirrors the Decimal reference,
:mod:`xlcredit.core.openitems` → :mod:`xlcredit.core.ageing`, :func:`xlcredit.core.interest.late_interest`):
the same allocation order (customer-currency group, disputed last, due date, invoice date, invoice number,
row), references first, the pool first-in first-out, the same buckets and the same integer interest formula
rounded half up once per invoice. ``tests/test_fast_compiled.py`` holds it equal to the numpy kernel, and the
fast-vs-reference tests run with both kernels.

Why it is faster: the numpy kernel sorts one packed int64 key over all invoices (O(n log n)) and makes
a dozen whole-column temporaries per call; here two stable counting passes — by due date, then by
(group, disputed) — put every invoice in place in O(n), only runs of one due date within a group are
sorted (by invoice date and number; mostly one or two invoices), and the allocation, buckets and interest
are one pass over the sorted invoices. Work arrays are kept between calls (:func:`release_workspace` hands
them back), so a second call does not fault fresh pages in. When the due dates span more days than a
counting pass can take (over 4 × n + 65,536), each (group, disputed) bucket is sorted whole instead.
On 2 or more CPUs a large ledger is aged in ranges of customers, side by side on threads (see "the kernel on
customer ranges" below).

numba is imported here only, and this module only when the kernel is chosen (``kernel="numba"``, or
``"auto"`` on a large ledger): ``xlcredit.core`` imports without it. The machine code is cached on disk
(numba's ``cache=True``: next to this file, or in the user's cache folder when the package folder is
read-only, or ``NUMBA_CACHE_DIR``); when no folder is writable the kernel is compiled in memory instead.
"""

from __future__ import annotations

import threading
from typing import Any

import numba
import numpy as np

__all__ = ["age_compiled", "cached", "first_rows_table", "loaded", "number_codes", "ref_rows",
           "release_workspace", "rescale_units", "resolve_refs", "same_lengths", "table_lookup", "template_numbers",
           "template_texts", "warm_up"]


def _jit(fn: Any) -> Any:
    """``njit(cache=True, nogil=True)``; when numba finds no writable cache folder, compiled in memory instead."""
    try:
        return numba.njit(cache=True, nogil=True)(fn)
    except RuntimeError:  # "cannot cache function …: no locator available"
        return numba.njit(cache=False, nogil=True)(fn)


def cached() -> bool:
    """True when the kernel's machine code is cached on disk (False: compiled in memory in each process)."""
    return bool(_kernel._cache.__class__.__name__ != "NullCache")


def loaded() -> bool:
    """True once the kernel's machine code is in this process (compiled or loaded from the cache)."""
    return bool(_kernel.signatures)


# ---------------------------------------------------------------------------- the kernel
def _sort_segment(rec: np.ndarray, out: np.ndarray, lo: int, hi: int, local: np.ndarray, b_local: int) -> None:
    """``out[lo:hi]`` = the records ``rec[lo:hi]`` in a stable order of their first field.

    The keys are sorted with their position packed into the low ``b_local`` bits (unique keys: any sort is
    stable), then each record is moved once; ``b_local`` = 0 means the key is too wide for that (merge sort).
    """
    n = hi - lo
    width = out.shape[1]
    ordered = True
    for i in range(lo + 1, hi):
        if rec[i - 1, 0] > rec[i, 0]:
            ordered = False
            break
    if ordered:
        for i in range(lo, hi):
            for f in range(width):
                out[i, f] = rec[i, f]
        return
    if b_local == 0:
        idx = np.argsort(rec[lo:hi, 0], kind="mergesort")
        for i in range(n):
            local[i] = idx[i]
    else:
        for i in range(n):
            local[i] = (rec[lo + i, 0] << b_local) | i
        if n <= 32:
            for i in range(1, n):
                k = local[i]
                j = i - 1
                while j >= 0 and local[j] > k:
                    local[j + 1] = local[j]
                    j -= 1
                local[j + 1] = k
        else:
            local[:n].sort()
        mask = (1 << b_local) - 1
        for i in range(n):
            local[i] &= mask
    for i in range(n):
        src = lo + local[i]
        for f in range(width):
            out[lo + i, f] = rec[src, f]


_sort_segment_jit = _jit(_sort_segment)


def _kernel(i_cust: np.ndarray, i_ccy: np.ndarray, i_amount: np.ndarray, i_date: np.ndarray, i_due: np.ndarray,
            i_disputed: np.ndarray, i_rank: np.ndarray, has_rank: bool,
            c_cust: np.ndarray, c_ccy: np.ndarray, c_amount: np.ndarray, c_date: np.ndarray, c_ref: np.ndarray,
            n_ccy: int, renumber: np.ndarray, a: int, bounds: np.ndarray, by_due: bool, items: bool, num: int,
            den: int,
            due_lo: int, date_lo: int, rank_lo: int, b_date: int, b_tail: int, b_key: int,
            due_span: int, row_info: np.ndarray, stage: np.ndarray, rec: np.ndarray, w_mark: np.ndarray) -> tuple:
    """Everything after the checks. ``row_info`` (n × 2): per invoice row, group·2³² + day, referenced credit;
    ``stage`` (n × 4) then ``rec`` (n × 3): per sorted position, sort key, what remains open, row (and, in
    ``stage``, the bucket). ``due_span``: days from the first to the last due date, 0 = too many to count."""
    n = i_cust.shape[0]
    m = c_cust.shape[0]
    n_pairs = renumber.shape[0]
    # 1. number the (customer, currency) pairs that occur, in pair order (customer * n_ccy + currency)
    seen = np.zeros(n_pairs, np.uint8)  # a byte a pair: the marking pass stays in cache
    for i in range(n):
        seen[i_cust[i] * n_ccy + i_ccy[i]] = 1
    for j in range(m):
        seen[c_cust[j] * n_ccy + c_ccy[j]] = 1
    g_count = 0
    for p in range(n_pairs):
        if seen[p]:
            renumber[p] = g_count
            g_count += 1
        else:
            renumber[p] = -1
    group_pair = np.empty(g_count, np.int64)
    for p in range(n_pairs):
        if renumber[p] >= 0:
            group_pair[renumber[p]] = p

    # 2. per invoice row (in row order): its group and day, and a bucket count for the counting sort
    n_b2 = 2 * g_count
    start = np.zeros(n_b2 + 1, np.int64)
    first_invoice = np.full(g_count, np.iinfo(np.int32).max, np.int64)
    for i in range(n):  # the groups first, in a loop of their own: its table lookups' cache misses overlap
        row_info[i, 1] = renumber[i_cust[i] * n_ccy + i_ccy[i]]
    for i in range(n):
        g = row_info[i, 1]
        row_info[i, 0] = (g << 32) | (i_date[i] - date_lo)
        row_info[i, 1] = 0
        start[2 * g + (1 if i_disputed[i] else 0) + 1] += 1
        if i_date[i] < first_invoice[g]:
            first_invoice[g] = i_date[i]
    for k in range(n_b2):
        start[k + 1] += start[k]

    # 3. credits dated on or before as_of: totals per group; a reference adds to its invoice (same group, dated
    #    on or before as_of) or is reported
    credit_total = np.zeros(g_count, np.int64)
    credit_count = np.zeros(g_count, np.int64)
    c_group = np.empty(m, np.int64)
    for j in range(m):  # as above: the lookups in a loop of their own
        c_group[j] = renumber[c_cust[j] * n_ccy + c_ccy[j]]
    for j in range(m):
        w_mark[j] = False
        if c_date[j] > a:
            continue
        g = np.int64(c_group[j])
        credit_total[g] += c_amount[j]
        credit_count[g] += 1
        t = c_ref[j]
        if t < 0:
            continue
        info = row_info[t, 0]
        if (info >> 32) != g or (info & 0xFFFFFFFF) + date_lo > a:
            w_mark[j] = True
        else:
            row_info[t, 1] += c_amount[j]

    # 4. references settle their invoice first (invoices dated after as_of count 0); the invoices are then put in
    #    allocation order: a stable counting sort by (group, disputed) of records (sort key, what remains after
    #    the references, row), rows keeping row order within a bucket ...
    applied_total = np.zeros(g_count, np.int64)
    remaining_total = np.zeros(g_count, np.int64)
    fill = start[:n_b2].copy()
    longest = 0
    for k in range(n_b2):
        longest = max(longest, start[k + 1] - start[k])
    local = np.empty(max(longest, 1), np.int64)
    b_local = 1
    while (1 << b_local) < longest:
        b_local += 1
    if b_key + b_local > 63:
        b_local = 0
    shift_due = b_date + b_tail
    # ... by due date first when the due dates span few enough days (a cache-friendly counting pass), then by
    # (group, disputed): both stable, so each bucket comes out by due date, rows in row order within a day;
    # otherwise straight into each (group, disputed) bucket, which is then sorted whole
    by_day = np.zeros(due_span + 1, np.int64)
    if due_span > 0:
        for i in range(n):
            by_day[i_due[i] - due_lo + 1] += 1
        for d in range(due_span):
            by_day[d + 1] += by_day[d]
    for i in range(n):
        g = row_info[i, 0] >> 32
        amount = i_amount[i] if i_date[i] <= a else 0
        take = min(amount, row_info[i, 1])
        applied_total[g] += take
        remaining_total[g] += amount - take
        k = 2 * g + (1 if i_disputed[i] else 0)
        if due_span > 0:
            p = by_day[i_due[i] - due_lo]
            by_day[i_due[i] - due_lo] = p + 1
            stage[p, 3] = k
        else:
            p = fill[k]
            fill[k] = p + 1
        tail = (i_rank[i] - rank_lo) if has_rank else 0
        stage[p, 0] = ((((i_due[i] - due_lo) << b_date) | (i_date[i] - date_lo)) << b_tail) | tail
        stage[p, 1] = amount - take
        stage[p, 2] = i
    if due_span > 0:
        for q in range(n):
            k = stage[q, 3]
            p = fill[k]
            fill[k] = p + 1
            rec[p, 0] = stage[q, 0]
            rec[p, 1] = stage[q, 1]
            rec[p, 2] = stage[q, 2]
        # 5. runs of one due date within a bucket: by invoice date, number (row order breaks the remaining ties)
        for k in range(n_b2):
            hi = start[k + 1]
            r0 = start[k]
            while r0 < hi:
                day = rec[r0, 0] >> shift_due
                r1 = r0 + 1
                while r1 < hi and (rec[r1, 0] >> shift_due) == day:
                    r1 += 1
                if r1 - r0 == 2:  # the usual run: two invoices due the same day
                    if rec[r0, 0] > rec[r0 + 1, 0]:
                        for f in range(3):
                            rec[r0, f], rec[r0 + 1, f] = rec[r0 + 1, f], rec[r0, f]
                elif r1 - r0 <= 16:  # short: insertion sort in place (stable: only larger keys move)
                    for q in range(r0 + 1, r1):
                        key, left, row = rec[q, 0], rec[q, 1], rec[q, 2]
                        j = q - 1
                        while j >= r0 and rec[j, 0] > key:
                            rec[j + 1, 0], rec[j + 1, 1], rec[j + 1, 2] = rec[j, 0], rec[j, 1], rec[j, 2]
                            j -= 1
                        rec[j + 1, 0], rec[j + 1, 1], rec[j + 1, 2] = key, left, row
                elif r1 - r0 > 16:
                    for q in range(r0, r1):
                        for f in range(3):
                            stage[q, f] = rec[q, f]
                    _sort_segment_jit(stage, rec, r0, r1, local, b_local)
                r0 = r1
    else:  # due dates spread too wide for a counting pass: each bucket sorted as a whole
        for k in range(n_b2):
            _sort_segment_jit(stage, rec, start[k], start[k + 1], local, b_local)

    # 6. per group: the pool (credits less what the references settled) settles the rest first-in first-out
    date_mask = (1 << b_date) - 1
    open_total = np.zeros(g_count, np.int64)
    unapplied = np.zeros(g_count, np.int64)
    n_items = 0
    for g in range(g_count):
        pool = credit_total[g] - applied_total[g]
        unapplied[g] = max(pool - remaining_total[g], 0)
        open_total[g] = max(remaining_total[g] - pool, 0)
        left = max(pool, 0)
        for p in range(start[2 * g], start[2 * g + 2]):
            rem = rec[p, 1]
            take = min(rem, left)
            left -= take
            rem -= take
            rec[p, 1] = rem  # from here on: what stays open
            if rem > 0:
                n_items += 1

    # 7. the open items: buckets, days overdue, interest
    n_bk = bounds.shape[0] + 1
    buckets = np.zeros((g_count, n_bk), np.int64)
    interest = np.zeros(g_count, np.int64)
    disputed = np.zeros(g_count, np.int64)
    if not items:  # the group figures only: no per-item arrays to fill
        n_items = 0
    item_row = np.empty(n_items, np.int64)
    item_open = np.empty(n_items, np.int64)
    item_days = np.empty(n_items, np.int32)
    item_interest = np.empty(n_items, np.int64)
    q = 0
    for g in range(g_count):
        split = start[2 * g + 1]
        for p in range(start[2 * g], start[2 * g + 2]):
            rem = rec[p, 1]
            if rem <= 0:
                continue
            key = rec[p, 0]
            due = (key >> shift_due) + due_lo
            age = a - due if by_due else a - (((key >> b_tail) & date_mask) + date_lo)
            b = 0
            while b < n_bk - 1 and bounds[b] < age:
                b += 1
            buckets[g, b] += rem
            over = max(a - due, 0)
            x = rem * over
            charge = (x // den) * num + (2 * (x % den) * num + den) // (2 * den)
            if p >= split:  # disputed: aged, not charged
                disputed[g] += rem
            else:
                interest[g] += charge
            if items:
                item_row[q] = rec[p, 2]
                item_open[q] = rem
                item_days[q] = over
                item_interest[q] = charge
                q += 1

    # 8. references that named another customer's invoice or one dated after as_of
    n_prob = 0
    for j in range(m):
        if w_mark[j]:
            n_prob += 1
    problems = np.empty(n_prob, np.int64)
    q = 0
    for j in range(m):
        if w_mark[j]:
            problems[q] = j
            q += 1
    keep = np.zeros(g_count, np.bool_)
    for g in range(g_count):
        keep[g] = first_invoice[g] <= a or credit_count[g] > 0
    return (group_pair, keep, buckets, open_total, unapplied, interest, disputed,
            item_row, item_open, item_days, item_interest, problems)


_kernel = _jit(_kernel)


# ---------------------------------------------------------------------------- the kernel on customer ranges
# With 2 threads or more, a large ledger is aged in ranges of customer codes: the rows are first partitioned by
# range (a stable radix pass, each thread taking a slice of the rows), then the ranges are shared among the
# threads (numba releases the GIL; the caller's thread and kept helpers, see _side_by_side) and the kernel runs
# on one range at a time, so that the range's groups and sorted rows stay in the CPU's caches. A range's groups
# are its customers', so the answer is the ranges' answers one after another, the same as one kernel's.
# Measured at 200k customers, 1M invoices, 750k credits: the kernel's own passes took 114 ms whole and 73 ms
# summed over 8–16 ranges, but the partition pass cost ≈ 60 ms on one thread (≈ 28 ms on two; session 7, before
# it moved a column at a time: ≈ 20–27 ms on two since), so one thread keeps the whole ledger in one kernel.
def _histogram(codes: np.ndarray, shift: int, lo: int, hi: int, out: np.ndarray) -> None:
    for i in range(lo, hi):
        out[codes[i] >> shift] += 1


_histogram = _jit(_histogram)


def _places(codes: np.ndarray, shift: int, range_of: np.ndarray, cursor: np.ndarray, dest: np.ndarray, lo: int,
            hi: int) -> None:
    """``dest[i]``: the place of row ``i`` (``lo:hi``) among all the ranges' rows, its range's next
    (``cursor``: where this slice's rows of each range go, advanced as they are placed; ``range_of``: each block
    of 2^``shift`` customer codes' range)."""
    for i in range(lo, hi):
        r = range_of[codes[i] >> shift]
        k = cursor[r]
        cursor[r] = k + 1
        dest[i] = k


_places = _jit(_places)


def _move(src: np.ndarray, dest: np.ndarray, out: np.ndarray, lo: int, hi: int) -> None:
    """``out[dest[i]] = src[i]`` for rows ``lo:hi``: one column of a scatter."""
    for i in range(lo, hi):
        out[dest[i]] = src[i]


_move = _jit(_move)


def _move_ids(cust: np.ndarray, shift: int, range_of: np.ndarray, first_code: np.ndarray, dest: np.ndarray,
              o_cust: np.ndarray, o_row: np.ndarray, lo: int, hi: int) -> None:
    """The customer codes (made relative to their range's first customer) and the row numbers of rows ``lo:hi``
    to their places."""
    for i in range(lo, hi):
        o_cust[dest[i]] = cust[i] - first_code[range_of[cust[i] >> shift]]
        o_row[dest[i]] = i


_move_ids = _jit(_move_ids)


def _scatter_invoices(lo: int, hi: int, i_cust: np.ndarray, i_ccy: np.ndarray, i_amount: np.ndarray,
                      i_date: np.ndarray, i_due: np.ndarray, i_disputed: np.ndarray, i_rank: np.ndarray,
                      has_rank: bool, shift: int, range_of: np.ndarray, first_code: np.ndarray, cursor: np.ndarray,
                      o_cust: np.ndarray, o_ccy: np.ndarray, o_amount: np.ndarray, o_date: np.ndarray,
                      o_due: np.ndarray, o_disputed: np.ndarray, o_rank: np.ndarray, o_row: np.ndarray,
                      dest: np.ndarray) -> None:
    """Rows ``lo:hi`` to their ranges (``cursor``: where this slice's rows of each range go), codes made
    relative to the range's first customer; ``dest``: each row's place among all the ranges' rows.

    Each row's place is found first (``dest``), then the columns are moved one at a time: a pass writes to one
    place in each range, not one in each range of every column at once, which the CPU's write buffers keep up
    with (500k rows in 14 ranges: 6 against 15–18 ms, all columns in one pass)."""
    _places(i_cust, shift, range_of, cursor, dest, lo, hi)
    _move_ids(i_cust, shift, range_of, first_code, dest, o_cust, o_row, lo, hi)
    _move(i_ccy, dest, o_ccy, lo, hi)
    _move(i_date, dest, o_date, lo, hi)
    _move(i_due, dest, o_due, lo, hi)
    _move(i_amount, dest, o_amount, lo, hi)
    _move(i_disputed, dest, o_disputed, lo, hi)
    if has_rank:
        _move(i_rank, dest, o_rank, lo, hi)


_scatter_invoices = _jit(_scatter_invoices)


def _scatter_credits(lo: int, hi: int, c_cust: np.ndarray, c_ccy: np.ndarray, c_amount: np.ndarray,
                     c_date: np.ndarray, c_ref: np.ndarray, i_dest: np.ndarray, i_start: np.ndarray, a: int,
                     shift: int, range_of: np.ndarray, first_code: np.ndarray, cursor: np.ndarray, o_cust: np.ndarray,
                     o_ccy: np.ndarray, o_amount: np.ndarray, o_date: np.ndarray, o_ref: np.ndarray,
                     o_row: np.ndarray, dest: np.ndarray) -> None:
    """As :func:`_scatter_invoices`; a reference becomes the invoice's place in the range (``i_dest``: each
    invoice's place among all the ranges' invoices, int32; ``i_start``: where each range's invoices begin). One
    naming an invoice of another range (another customer) is -2 when the credit counts (dated on or before
    ``a``): the kernel would report it, and the caller does; otherwise -1, as the kernel would pass it over."""
    _places(c_cust, shift, range_of, cursor, dest, lo, hi)
    at = np.zeros(1024, np.int64)
    none = i_dest.shape[0] == 0  # no invoice: no reference names one, and there is no place to read
    for b0 in range(lo, hi, 1024):  # the invoices' places read first, a block at a time, with no branch between
        b1 = min(b0 + 1024, hi)     # the reads (a random place in memory each, once i_dest outgrows the caches:
        for j in range(b0, b1):     # the CPU keeps more of them under way; 5M rows: 26 against 32 ms a thread)
            t = c_ref[j]
            if not none:
                at[j - b0] = i_dest[t if t >= 0 else 0]
        for j in range(b0, b1):
            t = c_ref[j]
            ref = -1
            if t >= 0:
                r = range_of[c_cust[j] >> shift]
                if i_start[r] <= at[j - b0] < i_start[r + 1]:
                    ref = at[j - b0] - i_start[r]
                elif c_date[j] <= a:
                    ref = -2
            o_ref[dest[j]] = ref
    _move_ids(c_cust, shift, range_of, first_code, dest, o_cust, o_row, lo, hi)
    _move(c_ccy, dest, o_ccy, lo, hi)
    _move(c_date, dest, o_date, lo, hi)
    _move(c_amount, dest, o_amount, lo, hi)


_scatter_credits = _jit(_scatter_credits)

#: Rows (invoices + credits) per customer range: its work arrays (≈ 100 bytes a row) then stay within a few MB.
ROWS_PER_RANGE = 131_072
#: Ranges begin at multiples of 2^shift customer codes, the fewest that leave at most 2^RANGE_BLOCK_BITS blocks.
RANGE_BLOCK_BITS = 12


def _side_by_side(tasks: int, run: Any, helpers: int | None = None) -> None:
    """``run(0)`` … ``run(tasks - 1)``, each once, on this thread and up to ``helpers`` (default ``tasks`` − 1)
    kept helper threads (:mod:`xlcredit.core.fast.workers`), each taking the next task until none is left.

    This thread takes tasks too, so the work is done even when no helper can start or all are busy with other
    callers' work: no task waits for another, so nothing can wait forever. A helper's task not yet begun when
    the tasks have run out is cancelled. The first error is raised once every begun task has finished (no work
    of a failed call runs on); after an error no further task is begun."""
    from concurrent.futures import wait

    from xlcredit.core.fast.workers import submit

    lock = threading.Lock()
    state = {"next": 0, "stop": False}
    errors: list[BaseException] = []

    def take() -> None:
        while True:
            with lock:
                t = state["next"]
                state["next"] = t + 1
            if t >= tasks or errors or state["stop"]:
                return
            try:
                run(t)
            except BaseException as exc:  # handed to the caller's thread; no further task is begun
                errors.append(exc)
                return

    wanted = tasks - 1 if helpers is None else min(helpers, tasks - 1)
    started = []
    for _ in range(wanted):
        try:
            started.append(submit(take))
        except RuntimeError:  # "can't start new thread" (or the interpreter shutting down): this thread goes on
            break
    try:
        take()
    finally:  # also when this thread is interrupted (KeyboardInterrupt, a job's time-out): no task begun after
        state["stop"] = True
        for future in started:
            future.cancel()  # not begun: there is nothing left for it
        wait(started)
    if errors:
        raise errors[0]


def _range_plan(i_hist: np.ndarray, c_hist: np.ndarray, n_cust: int, shift: int, n_ranges: int) -> dict[str, Any]:
    """The ranges from each slice's rows counted per block of 2^``shift`` customer codes (``i_hist``, ``c_hist``:
    slices × blocks): about ``n_ranges`` ranges of about equal rows, each whole blocks. ``bounds``: the ranges'
    first customer codes, then ``n_cust``; ``range_of``: each block's range; ``i_start`` / ``c_start``: where
    each range's invoices / credits begin among all the ranges' rows; ``i_cursor`` / ``c_cursor``: where each
    slice's rows of each range go (slices in row order, so that each range keeps its rows in ledger order)."""
    n_blocks = i_hist.shape[1]
    cum = np.cumsum(i_hist.sum(axis=0) + c_hist.sum(axis=0))
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, n_ranges) / n_ranges, side="right") + 1
    blocks = np.unique(np.concatenate([[0], np.minimum(cuts, n_blocks), [n_blocks]]))  # each range's first block
    k = blocks.shape[0] - 1
    bounds = np.minimum(blocks << shift, n_cust)  # and customer (the last block may be part-filled)
    plan = {"bounds": bounds, "first_code": bounds[:-1].astype(np.int64),
            "range_of": np.repeat(np.arange(k, dtype=np.int32), np.diff(blocks))}
    for name, hist in (("i", i_hist), ("c", c_hist)):
        per = np.add.reduceat(hist, blocks[:-1], axis=1)
        start = np.concatenate([[0], np.cumsum(per.sum(axis=0))])
        plan[f"{name}_start"] = start
        plan[f"{name}_cursor"] = start[:-1] + np.concatenate([np.zeros((1, k), np.int64), np.cumsum(per, axis=0)[:-1]])
    return plan


def _age_ranges(threads: int, i_cust: np.ndarray, i_ccy: np.ndarray, c_cust: np.ndarray, c_ccy: np.ndarray,
                n_cust: int, invoices: Any, credits: Any, rank: np.ndarray | None, width: int, a: int,
                kernel_args: tuple, renumber: np.ndarray) -> tuple | None:
    """The kernel on ranges of customers (see above), ``threads`` threads; None when one range would do."""
    n, m = i_cust.shape[0], c_cust.shape[0]
    if threads < 2 or n_cust < 2 or max(n, m) >= 2**31:  # one thread: partitioning costs more than the caches
        # save; and rows and places are int32 below
        return None
    threads = min(threads, n_cust, 64, max(2, (n + m) // 64))  # no more threads than customers or work for them
    n_ranges = max(threads, -(-(n + m) // ROWS_PER_RANGE))
    i_cut = [n * t // threads for t in range(threads + 1)]  # each thread's slice of the rows
    c_cut = [m * t // threads for t in range(threads + 1)]
    has_rank = rank is not None
    i_rank = rank if has_rank else np.zeros(0, np.int64)
    # rows are counted, and ranges cut, by blocks of 2^shift customer codes (at most 2^RANGE_BLOCK_BITS blocks): the
    # counts (≤ 32 kB a slice) and each row's range (≤ 16 kB) are then looked up in tables the size of the L1 cache,
    # where one entry per customer (200k customers: 0.8–1.6 MB a table) is a trip to the slower caches for every row
    shift = max(0, (n_cust - 1).bit_length() - RANGE_BLOCK_BITS)
    n_blocks = ((n_cust - 1) >> shift) + 1
    i_hist = np.zeros((threads, n_blocks), np.int64)
    c_hist = np.zeros((threads, n_blocks), np.int64)
    g = {name: _work(f"g_{name}_{values.dtype}", size, values.dtype) for name, values, size in (
        ("i_cust", i_cust, n), ("i_ccy", i_ccy, n), ("i_amount", invoices.amount_minor, n),
        ("i_date", invoices.invoice_date, n), ("i_due", invoices.due_date, n), ("i_disputed", invoices.disputed, n),
        ("i_rank", i_rank, n if has_rank else 0), ("c_cust", c_cust, m), ("c_ccy", c_ccy, m),
        ("c_amount", credits.amount_minor, m), ("c_date", credits.date, m), ("c_ref", credits.invoice_row, m))}
    # each row's row in the ledger, and its place among the ranges' rows: int32 (n, m < 2³¹: the guard above), so
    # that the placing moves and reads 4 bytes a row less for each (it is bound by memory from about 5M rows)
    i_row, c_row = _work("g_i_row", n, np.int32), _work("g_c_row", m, np.int32)
    i_dest, c_dest = _work("g_i_dest", n, np.int32), _work("g_c_dest", m, np.int32)
    row_info, stage = _work("row_info", n, np.int64, 2), _work("stage", n, np.int64, 4)
    rec = _work("rec", n, np.int64, 3)
    mark = _work("mark", m, np.bool_)
    plan: dict[str, Any] = {}
    results: list[Any] = []

    def make_plan() -> None:  # once every slice is counted
        plan.update(_range_plan(i_hist, c_hist, n_cust, shift, n_ranges))
        results.extend([None] * (plan["bounds"].shape[0] - 1))

    def one(r: int) -> tuple:
        lo, i0, i1, c0, c1 = (int(plan["first_code"][r]), int(plan["i_start"][r]), int(plan["i_start"][r + 1]),
                              int(plan["c_start"][r]), int(plan["c_start"][r + 1]))
        span = (int(plan["bounds"][r + 1]) - lo) * width
        args = kernel_args  # the due dates' counting pass, unless they span too many days for this range's rows
        if kernel_args[-1] > 4 * (i1 - i0) + 65536:
            args = (*kernel_args[:-1], 0)
        out = _kernel(g["i_cust"][i0:i1], g["i_ccy"][i0:i1], g["i_amount"][i0:i1], g["i_date"][i0:i1],
                      g["i_due"][i0:i1], g["i_disputed"][i0:i1], g["i_rank"][i0:i1] if has_rank else i_rank,
                      has_rank, g["c_cust"][c0:c1], g["c_ccy"][c0:c1], g["c_amount"][c0:c1], g["c_date"][c0:c1],
                      g["c_ref"][c0:c1], width, renumber[lo * width: lo * width + span], a, *args,
                      row_info[i0:i1], stage[i0:i1], rec[i0:i1], mark[c0:c1])
        (group_pair, keep, buckets, open_total, unapplied, interest, disputed,
         item_row, item_open, item_days, item_interest, problems) = out
        return (group_pair + lo * width, keep, buckets, open_total, unapplied, interest, disputed,
                i_row[i0:i1][item_row].astype(np.int64), item_open, item_days, item_interest,
                c_row[c0:c1][problems].astype(np.int64))

    def count(t: int) -> None:
        _histogram(i_cust, shift, i_cut[t], i_cut[t + 1], i_hist[t])
        _histogram(c_cust, shift, c_cut[t], c_cut[t + 1], c_hist[t])

    def place_invoices(t: int) -> None:
        _scatter_invoices(i_cut[t], i_cut[t + 1], i_cust, i_ccy, invoices.amount_minor, invoices.invoice_date,
                          invoices.due_date, invoices.disputed, i_rank, has_rank, shift, plan["range_of"],
                          plan["first_code"], plan["i_cursor"][t].copy(), g["i_cust"], g["i_ccy"],
                          g["i_amount"], g["i_date"], g["i_due"], g["i_disputed"],
                          g["i_rank"] if has_rank else i_rank, i_row, i_dest)

    def place_credits(t: int) -> None:
        _scatter_credits(c_cut[t], c_cut[t + 1], c_cust, c_ccy, credits.amount_minor, credits.date,
                         credits.invoice_row, i_dest, plan["i_start"], a, shift, plan["range_of"], plan["first_code"],
                         plan["c_cursor"][t].copy(), g["c_cust"], g["c_ccy"], g["c_amount"], g["c_date"],
                         g["c_ref"], c_row, c_dest)

    def age_range(r: int) -> None:
        results[r] = one(r)

    _side_by_side(threads, count)
    make_plan()
    _side_by_side(threads, place_invoices)
    _side_by_side(threads, place_credits)  # every invoice's place is known: the credits' references made local
    _side_by_side(len(results), age_range, helpers=threads - 1)
    joined = [np.concatenate([r[f] for r in results]) for f in range(12)]
    other = c_row[np.flatnonzero(g["c_ref"] == -2)].astype(np.int64)  # references to another range's invoice,
    # dated on or before a
    joined[11] = np.sort(np.concatenate([joined[11], other]))  # in credit order, as one kernel lists them
    return tuple(joined)


# ---------------------------------------------------------------------------- reading the ledger's columns
# The same results as numpy helpers of xlcredit.core.fast.ageing, one pass each; ageing takes them once this
# module is loaded (``_numba_loaded``), for columns of at least NUMBA_LOADED_FROM_ROWS rows.
def _template_kernel(mat: np.ndarray, template: np.ndarray, narrow: bool, values: np.ndarray, ok: np.ndarray) -> None:
    hash_ = 35  # "#": a digit goes here
    for i in range(mat.shape[0]):
        value = 0
        fits = True
        for j in range(template.shape[0]):
            c = mat[i, j]
            if template[j] != hash_:
                if c != template[j]:
                    fits = False
                continue
            digit = (c - 48) & 0xFF  # as the numpy path: uint8 arithmetic, so bytes below "0" wrap
            if digit > 9:
                fits = False
            value = value * 10 + digit
            if narrow:  # the numpy path accumulates in uint32 when there are at most 9 digits
                value &= 0xFFFFFFFF
        values[i] = value
        ok[i] = fits


_template_kernel = _jit(_template_kernel)


def template_numbers(mat: np.ndarray, template: np.ndarray, narrow: bool) -> tuple[np.ndarray, np.ndarray]:
    """``ageing._template_numbers`` on an n × width byte matrix: the same value for every row (fitting or not)
    and the same fits flags."""
    values = np.empty(mat.shape[0], np.int64)
    ok = np.empty(mat.shape[0], np.bool_)
    _template_kernel(np.ascontiguousarray(mat), template, narrow, values, ok)
    return values, ok


def _same_lengths_kernel(offsets: np.ndarray, width: int) -> bool:
    same = True
    for i in range(offsets.shape[0] - 1):
        if offsets[i + 1] - offsets[i] != width:
            same = False
            break
    return same


_same_lengths_kernel = _jit(_same_lengths_kernel)


def same_lengths(offsets: np.ndarray, width: int) -> bool:
    """Whether every string of an Arrow offsets buffer is ``width`` bytes long (``np.diff(offsets) == width``
    without its two arrays: one pass that stops at the first other length)."""
    return bool(_same_lengths_kernel(offsets, int(width)))


def _first_rows_kernel(keys: np.ndarray, lo: int, table: np.ndarray, first: np.ndarray) -> int:
    for r in range(table.shape[0]):
        table[r] = -1
    repeats = 0
    for i in range(keys.shape[0]):
        at = keys[i] - lo
        if table[at] < 0:  # the first row holding a key wins
            table[at] = i
        else:
            repeats += 1
        first[i] = table[at]
    return repeats


_first_rows_kernel = _jit(_first_rows_kernel)


def first_rows_table(keys: np.ndarray, lo: int, span: int) -> tuple[np.ndarray, np.ndarray, int]:
    """``ageing._first_rows``'s table branch: (first row holding each row's key, key - lo → first row or -1,
    how many rows repeat an earlier row's key).

    The table holds int32 rows (int64 past 2³¹ rows): half the memory the lookups wander through, which is
    what they cost once the table outgrows the caches (10M invoices: an 80 MB table of int64)."""
    table = np.empty(span, np.int32 if keys.shape[0] < 2**31 else np.int64)
    first = np.empty(keys.shape[0], np.int64)
    repeats = _first_rows_kernel(keys.astype(np.int64, copy=False), lo, table, first)
    return first, table, int(repeats)


def _lookup_kernel(table: np.ndarray, lo: int, q: np.ndarray, out: np.ndarray) -> None:
    span = table.shape[0]
    for i in range(q.shape[0]):
        at = q[i] - lo
        out[i] = table[at] if 0 <= at < span else -1


_lookup_kernel = _jit(_lookup_kernel)


def table_lookup(table: np.ndarray, lo: int, q: np.ndarray) -> np.ndarray:
    """The first row holding each key of ``q`` (-1: none), from :func:`first_rows_table`'s table."""
    query = np.asarray(q, dtype=np.int64)
    out = np.empty(query.shape, np.int64)
    _lookup_kernel(table, lo, query.reshape(-1), out.reshape(-1))
    return out


def _refs_kernel(offsets: np.ndarray, data: np.ndarray, validity: np.ndarray, bit0: int, template: np.ndarray,
                 lo: int, table: np.ndarray, direct: int, found: np.ndarray, filled: np.ndarray,
                 odd: np.ndarray) -> None:
    hash_ = 35
    width = template.shape[0]
    span = table.shape[0] if direct == 0 else direct
    check = validity.shape[0] > 0
    for i in range(found.shape[0]):
        found[i] = -1
        odd[i] = False
        if check and not (validity[(bit0 + i) >> 3] >> ((bit0 + i) & 7)) & 1:  # null
            filled[i] = False
            continue
        start = offsets[i]
        length = offsets[i + 1] - start
        filled[i] = length > 0
        if length != width:
            odd[i] = length > 0
            continue
        value = 0
        fits = True
        for j in range(width):
            c = data[start + j]
            if template[j] != hash_:
                if c != template[j]:
                    fits = False
                    break
                continue
            digit = (c - 48) & 0xFF
            if digit > 9:
                fits = False
                break
            value = value * 10 + digit
        if fits:
            at = value - lo
            if 0 <= at < span:
                found[i] = at
    if direct == 0:  # a second, tight loop: the table lookups' cache misses overlap (10M rows: 413 → 132 ms)
        for i in range(found.shape[0]):
            at = found[i]
            if at >= 0:
                found[i] = table[at]


_refs_kernel = _jit(_refs_kernel)


def resolve_refs(offsets: np.ndarray, data: np.ndarray, validity: np.ndarray, bit0: int, template: np.ndarray,
                 lo: int, table: np.ndarray, direct: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """References (an Arrow string array's offsets, bytes and validity bitmap) → the first invoice row of each
    one's number (-1: none or not of the template), whether it is filled, and whether its length is not the
    template's (those are trimmed and read one by one by the caller). One pass, nothing copied: what
    ``ageing._Numbers.parse`` and :func:`table_lookup` give together. ``direct`` = n > 0: the numbers run
    lo … lo + n − 1 in row order (no table: the row is the number − lo)."""
    n = offsets.shape[0] - 1
    found = np.empty(n, np.int64)
    filled = np.empty(n, np.bool_)
    odd = np.empty(n, np.bool_)
    _refs_kernel(offsets, data, validity, bit0, template, lo, table, direct, found, filled, odd)
    return found, filled, odd


def _ref_rows_kernel(found: np.ndarray, new_index: np.ndarray, i_cust: np.ndarray, i_ccy: np.ndarray,
                     c_cust: np.ndarray, c_ccy: np.ndarray, ref_row: np.ndarray, other: np.ndarray) -> None:
    renumbered = new_index.shape[0] > 0
    for j in range(found.shape[0]):
        f = found[j]
        t = new_index[f] if renumbered and f >= 0 else f
        other[j] = False
        if t >= 0 and (i_cust[f] != c_cust[j] or i_ccy[f] != c_ccy[j]):
            other[j] = True
            t = -1
        ref_row[j] = t


_ref_rows_kernel = _jit(_ref_rows_kernel)


def ref_rows(found: np.ndarray, new_index: np.ndarray | None, i_cust: np.ndarray, i_ccy: np.ndarray,
             c_cust: np.ndarray, c_ccy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each reference's invoice among the kept ones (``new_index``: kept row of each invoice row, -1 left out;
    None: all kept), -1 when none or when it names another customer's or currency's invoice — flagged in
    the second array. One pass: what ``frames_to_arrays`` does with numpy in five."""
    ref_row = np.empty(found.shape[0], np.int64)
    other = np.empty(found.shape[0], np.bool_)
    _ref_rows_kernel(found, np.zeros(0, np.int64) if new_index is None else new_index, i_cust, i_ccy,
                     c_cust, c_ccy, ref_row, other)
    return ref_row, other


def _min_max_kernel(values: np.ndarray, out: np.ndarray) -> None:
    for i in range(values.shape[0]):
        v = values[i]
        if v < out[0]:
            out[0] = v
        if v > out[1]:
            out[1] = v


_min_max_kernel = _jit(_min_max_kernel)


def _mark_kernel(values: np.ndarray, lo: int, present: np.ndarray) -> None:
    for i in range(values.shape[0]):
        present[values[i] - lo] = True


_mark_kernel = _jit(_mark_kernel)


def _code_kernel(values: np.ndarray, lo: int, dense: np.ndarray, every: bool, out: np.ndarray) -> None:
    for i in range(values.shape[0]):
        out[i] = values[i] - lo if every else dense[values[i] - lo]


_code_kernel = _jit(_code_kernel)


def number_codes(numbers: list[np.ndarray], limit: int) -> tuple[list[np.ndarray], np.ndarray] | None:
    """``ageing._numbered_codes``' numbering: int32 codes of the numbers in order of value (one shared list for
    every array) and the numbers that occur, sorted; None when they span more than ``limit`` values. A pass
    or two per array, no temporaries (when every number in the span occurs, a code is the number − the first)."""
    bounds = np.array([np.iinfo(np.int64).max, np.iinfo(np.int64).min], np.int64)
    for x in numbers:
        _min_max_kernel(x, bounds)
    lo, span = int(bounds[0]), int(bounds[1]) - int(bounds[0]) + 1
    if span > limit:
        return None
    present = np.zeros(span, np.bool_)
    for x in numbers:
        _mark_kernel(x, lo, present)
    dense = np.cumsum(present, dtype=np.int32)
    dense -= 1
    every = int(dense[-1]) == span - 1
    codes = []
    for x in numbers:
        out = np.empty(x.shape[0], np.int32)
        _code_kernel(x, lo, dense, every, out)
        codes.append(out)
    return codes, (np.arange(lo, lo + span, dtype=np.int64) if every else np.flatnonzero(present) + lo)


def _texts_kernel(numbers: np.ndarray, template: np.ndarray, out: np.ndarray) -> None:
    width = template.shape[0]
    for i in range(numbers.shape[0]):
        rest = numbers[i]
        for j in range(width - 1, -1, -1):
            if template[j] == 35:  # "#"
                out[i * width + j] = 48 + rest % 10
                rest //= 10
            else:
                out[i * width + j] = template[j]


_texts_kernel = _jit(_texts_kernel)


def template_texts(numbers: np.ndarray, template: np.ndarray) -> np.ndarray:
    """The bytes of ``numbers`` written in ``template`` one after another (``ageing._template_texts``' matrix)."""
    out = np.empty(numbers.shape[0] * template.shape[0], np.uint8)
    _texts_kernel(numbers.astype(np.int64, copy=False), template, out)
    return out


def _rescale_kernel(units: np.ndarray, codes: np.ndarray, exponents: np.ndarray, scale: int, out: np.ndarray) -> None:
    last = exponents.shape[0] - 1
    for i in range(units.shape[0]):
        c = codes[i]
        e = exponents[c if c >= 0 else last]
        u = units[i]
        if e == scale:
            out[i] = u
        elif e > scale:
            out[i] = u * 10 ** (e - scale)
        else:  # half up, away from zero, as the numpy path
            div = 10 ** (scale - e)
            q = (abs(u) * 2 + div) // (2 * div)
            out[i] = -q if u < 0 else q


_rescale_kernel = _jit(_rescale_kernel)


def rescale_units(units: np.ndarray, codes: np.ndarray, exponents: np.ndarray, scale: int) -> np.ndarray:
    """``ageing._rescale_codes`` in one pass: amounts with ``scale`` decimals → minor units of each row's currency
    (``exponents[code]`` decimals; code -1 → the last entry), half up — contiguous int64, whatever ``units`` is
    (the low words of Arrow decimals are every other int64)."""
    out = np.empty(units.shape[0], np.int64)
    _rescale_kernel(units, codes, exponents.astype(np.int64, copy=False), int(scale), out)
    return out


# ---------------------------------------------------------------------------- work arrays kept between calls
_local = threading.local()


def _work(name: str, size: int, dtype: Any, width: int = 0) -> np.ndarray:
    """A work array of ``size`` rows (of ``width`` fields), kept for the next call of this thread (no fresh pages)."""
    store = getattr(_local, "arrays", None)
    if store is None:
        store = _local.arrays = {}
    have = store.get(name)
    if have is None or have.shape[0] < size:
        have = store[name] = np.empty((max(size, 1), width) if width else max(size, 1), dtype)
    return have[:size]


def release_workspace() -> None:
    """Hand back this thread's work arrays (they are otherwise kept for the next ledger of similar size)."""
    _local.arrays = {}


def _bits(n: int) -> int:
    return max(1, int(n).bit_length())


def age_compiled(invoices: Any, credits: Any, a: int, bounds: tuple[int, ...], by_due: bool,
                 num: int, den: int, threads: int = 1, items: bool = True) -> dict[str, np.ndarray] | None:
    """The kernel on :class:`~xlcredit.core.fast.ageing.BulkInvoices` and ``BulkCredits`` (already checked).

    ``num / den`` is the interest per day as a fraction (annual rate / basis); the caller has checked that
    no product overflows. ``threads`` > 1 ages ranges of customers side by side on that many threads (at most
    one per customer, 64 in all; ranges of about :data:`ROWS_PER_RANGE` rows, at least one per thread): this
    one and kept helpers (:mod:`xlcredit.core.fast.workers`, at most ``WORKERS`` of them busy at once) — the
    same answer; one kernel on this thread when the codes are sparse (pairs numbered first) or there is one
    customer. ``items`` False leaves the per-item columns empty. Returns the per-group and per-item columns
    of ``BulkAgeing``, or None when the sort key (due date, invoice date, number) would not fit 63 bits — then
    the numpy kernel answers.
    """
    n, m = len(invoices), len(credits)
    rank = invoices.number_rank
    if n:
        due_lo, date_lo = int(invoices.due_date.min()), int(invoices.invoice_date.min())
        b_date = _bits(int(invoices.invoice_date.max()) - date_lo)
        b_due = _bits(int(invoices.due_date.max()) - due_lo)
    else:
        due_lo = date_lo = b_due = b_date = 0
    rank_lo, b_tail = 0, 0
    if rank is not None and n:
        rank_lo = int(rank.min())
        b_tail = _bits(int(rank.max()) - rank_lo)
    if b_due + b_date + b_tail > 63:
        return None
    due_span = (int(invoices.due_date.max()) - due_lo + 1) if n else 0
    if due_span > 4 * n + 65536:
        due_span = 0
    i_cust, i_ccy, c_cust, c_ccy = invoices.customer, invoices.currency, credits.customer, credits.currency
    n_ccy = int(max(i_ccy.max(initial=-1), c_ccy.max(initial=-1))) + 1
    n_cust = int(max(i_cust.max(initial=-1), c_cust.max(initial=-1))) + 1
    pairs = None
    if n_cust * n_ccy > 4 * (n + m) + 1024:  # sparse codes: number the pairs that occur first
        pairs, inverse = np.unique(np.concatenate([i_cust.astype(np.int64) * n_ccy + i_ccy,
                                                   c_cust.astype(np.int64) * n_ccy + c_ccy]), return_inverse=True)
        i_cust, c_cust = inverse[:n], inverse[n:]
        i_ccy, c_ccy = np.zeros(n, np.int32), np.zeros(m, np.int32)
        width = 1
        n_cust = pairs.shape[0]
    else:
        width = max(n_ccy, 1)
    if max(n_cust, n_ccy) < 2**31:  # one machine-code signature (int32 codes, as frames_to_arrays gives them)
        i_cust, i_ccy, c_cust, c_ccy = (c if c.dtype == np.int32 else c.astype(np.int32)
                                        for c in (i_cust, i_ccy, c_cust, c_ccy))
    # group numbers fit int32 below 2³¹ rows (half the memory the lookups wander through); int64 beyond
    renumber = _work("renumber", (pairs.shape[0] if pairs is not None else n_cust * width),
                     np.int32 if n + m < 2**31 else np.int64)
    kernel_args = (np.asarray(bounds, np.int64), by_due, items, num, den,
                   due_lo, date_lo, rank_lo, b_date, b_tail, b_due + b_date + b_tail, due_span)
    ranged = None
    if pairs is None:
        ranged = _age_ranges(threads, i_cust, i_ccy, c_cust, c_ccy, n_cust, invoices, credits, rank, width, a,
                             kernel_args, renumber)
    if ranged is not None:
        (group_pair, keep, buckets, open_total, unapplied, interest, disputed,
         item_row, item_open, item_days, item_interest, problems) = ranged
    else:
        (group_pair, keep, buckets, open_total, unapplied, interest, disputed,
         item_row, item_open, item_days, item_interest, problems) = _kernel(
            i_cust, i_ccy, invoices.amount_minor, invoices.invoice_date, invoices.due_date, invoices.disputed,
            rank if rank is not None else np.zeros(0, np.int64), rank is not None,
            c_cust, c_ccy, credits.amount_minor, credits.date, credits.invoice_row,
            width, renumber, a, *kernel_args,
            _work("row_info", n, np.int64, 2), _work("stage", n, np.int64, 4), _work("rec", n, np.int64, 3),
            _work("mark", m, np.bool_))
    if pairs is not None:
        group_pair = pairs[group_pair]
    # the kept groups' figures in one block, one pass (the fields below are its rows: no copy each)
    n_b = buckets.shape[1]
    shown = int(np.count_nonzero(keep))
    money = np.empty((n_b + 5, shown), np.int64)
    customer, currency = np.empty(shown, np.int64), np.empty(shown, np.int64)
    _money_block_kernel(keep, group_pair, max(n_ccy, 1), buckets, open_total, unapplied, interest, disputed,
                        money, customer, currency)
    return {"customer": customer, "currency": currency, "buckets": money[1: 1 + n_b].T, "open_minor": money[0],
            "interest_minor": money[n_b + 1], "unapplied_minor": money[n_b + 2], "balance_minor": money[n_b + 3],
            "disputed_minor": money[n_b + 4], "money": money,
            "item_row": item_row, "item_open": item_open, "item_days_overdue": item_days,
            "item_interest": item_interest, "ref_problems": problems}


def _money_block_kernel(keep: np.ndarray, group_pair: np.ndarray, n_ccy: int, buckets: np.ndarray,
                        open_total: np.ndarray, unapplied: np.ndarray, interest: np.ndarray, disputed: np.ndarray,
                        money: np.ndarray, customer: np.ndarray, currency: np.ndarray) -> None:
    """The kept groups (``keep``) into ``money`` (rows: open, the buckets, interest, unapplied, balance =
    open − unapplied, disputed; a column per group) and their customer and currency codes."""
    n_b = buckets.shape[1]
    q = 0
    for g in range(keep.shape[0]):
        if not keep[g]:
            continue
        customer[q] = group_pair[g] // n_ccy
        currency[q] = group_pair[g] % n_ccy
        money[0, q] = open_total[g]
        for b in range(n_b):
            money[1 + b, q] = buckets[g, b]
        money[n_b + 1, q] = interest[g]
        money[n_b + 2, q] = unapplied[g]
        money[n_b + 3, q] = open_total[g] - unapplied[g]
        money[n_b + 4, q] = disputed[g]
        q += 1


_money_block_kernel = _jit(_money_block_kernel)


def warm_up() -> str:
    """Compile (or load) the kernel and the column helpers once on tiny inputs, e.g. after installing or in a
    worker image.

    Returns a line saying where the machine code is cached (or that it is compiled in memory only).
    """
    from xlcredit.core.fast.ageing import BulkCredits, BulkInvoices, age_bulk

    inv = BulkInvoices(np.array([0, 0], np.int32), np.array([0, 0], np.int32), np.array([100, 250]),
                       np.array([20000, 20001], np.int32), np.array([20030, 20010], np.int32),
                       np.array([False, False]), np.array([1, 2]))
    cr = BulkCredits(np.array([0], np.int32), np.array([0], np.int32), np.array([120]),
                     np.array([20005], np.int32), np.array([-1]))
    age_bulk((inv, cr), 20100, kernel="numba")
    template_numbers(np.frombuffer(b"INV01INV02", np.uint8).reshape(2, 5), np.frombuffer(b"INV##", np.uint8), True)
    same_lengths(np.array([0, 5, 10], np.int32), 5)
    same_lengths(np.array([0, 5, 10], np.int64), 5)
    table = first_rows_table(np.array([3, 5, 3], np.int64), 3, 3)[1]
    table_lookup(table, 3, np.array([5, 9], np.int64))
    resolve_refs(np.array([0, 5, 10], np.int32), np.frombuffer(b"INV03INV09", np.uint8), np.zeros(0, np.uint8), 0,
                 np.frombuffer(b"INV##", np.uint8), 3, table)
    ref_rows(np.array([0, -1, 1]), None, np.array([0, 1], np.int32), np.array([0, 0], np.int32),
             np.array([0, 0, 0], np.int32), np.array([0, 0, 0], np.int32))
    number_codes([np.array([7, 9], np.int64)], 10)
    template_texts(np.array([7], np.int64), np.frombuffer(b"C##", np.uint8))
    words = np.array([250, 0, -1234, -1], np.int64)  # decimal128 low/high words, read as ageing reads them
    rescale_units(words[0::2], np.array([0, -1], np.int32), np.array([0, 2], np.int64), 2)
    if not cached():
        return "the compiled kernel runs, compiled in memory (no writable cache folder: set NUMBA_CACHE_DIR)"
    return f"the compiled kernel is cached in {_kernel.stats.cache_path}"


if __name__ == "__main__":  # python -m xlcredit.core.fast.compiled (the package's module, not a second copy)
    from xlcredit.core.fast.compiled import warm_up as _warm_up

    print(_warm_up())
