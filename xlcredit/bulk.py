"""The public bulk API: ageing, unapplied cash and late interest per customer and currency for whole ledgers.

``from xlcredit import age_frames`` — an adapter around the pure fast path
(:mod:`xlcredit.core.fast.ageing`): it reads the tables (pandas DataFrames, pyarrow Tables or Parquet
paths), hands columns to the kernel and turns the kernel's int64 minor units back into money. The
rules are those of the Decimal reference (:mod:`xlcredit.core.openitems`, :mod:`xlcredit.core.ageing`,
:func:`xlcredit.core.interest.late_interest`); ``tests/test_bulk_api.py`` holds the two equal.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlcredit.core.coerce import to_date
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.fast.ageing import (
    KERNELS,
    THREADS_FROM_ROWS,
    BulkProblem,
    _default_policy,
    age_bulk,
    frames_to_arrays,
    kernel_threads,
)
from xlcredit.core.ledger import FxRates
from xlcredit.core.money import minor_units, round_money
from xlcredit.core.policy import Policy

__all__ = ["ENGINES", "KEEP_READ_BYTES", "LEDGER_COLUMNS", "age_frames", "keep_freed_memory", "pool_for",
           "read_row_groups", "read_table", "read_tables", "reading_pool"]

ENGINES = ("numpy", "dask")
MONEY = ("decimal", "minor")

#: The columns each table is read with (others in a file are left unread); starred ones are optional.
LEDGER_COLUMNS: dict[str, tuple[str, ...]] = {
    "invoices": ("customer_id", "invoice_no", "invoice_date", "due_date", "amount", "currency", "terms*",
                 "disputed*"),
    "payments": ("customer_id", "payment_date", "amount", "currency", "invoice_ref*"),
    "credit_notes": ("customer_id", "date", "amount", "currency", "invoice_ref*"),
}
_DICTIONARY = ("customer_id", "currency", "terms")  # few distinct values: read as Arrow dictionaries


def read_table(source: Any, table: str, pool: Any = None) -> pd.DataFrame:
    """One ledger table as a DataFrame: a DataFrame as it is, a pyarrow Table or Parquet file(s) read zero-copy.

    Parquet ``source`` may be a path, a folder of files, a list of paths or an fsspec URL (``s3://…``,
    with the filesystem package installed). Only the documented columns are read. ``pool``: the pyarrow
    memory pool one local file is read into (default: pyarrow's default pool; see :func:`reading_pool`).
    """
    if isinstance(source, pd.DataFrame):
        return source
    import pyarrow as pa

    if isinstance(source, pa.Table):
        arrow = source
    elif _is_path(source):
        arrow = _read_parquet(source, table, pool=pool)
    else:
        raise XlcError(table, f"must be a DataFrame, a pyarrow Table or a Parquet path (got {describe(source)})",
                       source)
    return arrow.to_pandas(types_mapper=pd.ArrowDtype)


def _is_path(source: Any) -> bool:
    return isinstance(source, str | Path) or (isinstance(source, Sequence) and not isinstance(source, bytes)
                                              and all(isinstance(s, str | Path) for s in source))


def read_tables(invoices: Any, payments: Any = None, credit_notes: Any = None,
                pool: Any = None) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """The three ledger tables (see :func:`read_table`, and there ``pool``); Parquet payments and credit notes are
    read on a helper thread (kept for the next call: :mod:`xlcredit.core.fast.workers`) while the invoices are
    read; when no helper has begun them by then, they are read here.

    pyarrow already decodes a file's columns in parallel, so this gains little, but it does gain on a quiet
    machine with 2 cores: 1M invoices, 700k payments, 50k credit notes (median of 9, load 0.7): 91 against
    107 ms (1k customers), 104 against 114 ms (100k), 115 against 134 ms (200k). On a busy machine it was
    measured slower (session 4: 698 against 630 ms end to end at load 2.9), as any extra thread is there.
    """
    if payments is None or isinstance(payments, pd.DataFrame):
        return (read_table(invoices, "invoices", pool),
                None if payments is None else read_table(payments, "payments", pool),
                None if credit_notes is None else read_table(credit_notes, "credit_notes", pool))
    from concurrent.futures import wait

    from xlcredit.core.fast.workers import run_or_take_back, submit

    def rest() -> tuple[pd.DataFrame, pd.DataFrame | None]:
        return (read_table(payments, "payments", pool),
                None if credit_notes is None else read_table(credit_notes, "credit_notes", pool))

    try:
        later = submit(rest)
    except RuntimeError:  # no helper thread could be started: they are read here, after the invoices
        later = None
    try:
        first = read_table(invoices, "invoices", pool)
    except BaseException:
        if later is not None and not later.cancel():
            wait([later])  # the second read is of no use now: it has finished when the error is raised
        raise
    return (first, *run_or_take_back(later, rest))


def read_row_groups(path: str | Path, table: str, row_groups: Sequence[int]) -> pd.DataFrame:
    """Some row groups of one Parquet file, read as :func:`read_table` reads the whole file (a Dask task's piece)."""
    return _read_parquet(path, table, row_groups).to_pandas(types_mapper=pd.ArrowDtype)


def _read_parquet(source: Any, table: str, row_groups: Sequence[int] | None = None, pool: Any = None) -> Any:
    import pyarrow.parquet as pq

    paths = [source] if isinstance(source, str | Path) else list(source)
    local = [Path(p) for p in paths if "://" not in str(p)]
    for p in local:
        if not p.exists():
            raise XlcError(table, f"file not found: {p}", str(p))
    wanted = [c.rstrip("*") for c in LEDGER_COLUMNS[table]]
    one_file = len(local) == len(paths) == 1 and local[0].is_file()
    if row_groups is not None and not one_file:
        raise XlcError(table, "row groups are read from one local file only", str(paths[0]))
    try:
        if one_file:  # one file: one chunk per row group
            meta = pq.read_metadata(local[0])
            schema = meta.schema.to_arrow_schema()
            columns = [c for c in wanted if c in schema.names]
            if table == "invoices" and "terms" in columns and _never_empty(meta, schema, "due_date"):
                columns.remove("terms")  # terms only stand in for an empty due date: not read when there is none
            dictionary = [c for c in _DICTIONARY if c in columns and _dictionary_pays(meta, c)]
            if pool is not None and row_groups is None:
                return _read_into(local[0], meta, columns, dictionary, pool)
            with pq.ParquetFile(local[0], metadata=meta, read_dictionary=dictionary) as file:
                if row_groups is not None:
                    return file.read_row_groups(list(row_groups), columns=columns)
                return file.read(columns=columns)
        meta = pq.read_metadata(_first_file(paths[0])) if local else None
        schema = meta.schema.to_arrow_schema() if meta is not None else None
        columns = [c for c in wanted if schema is None or c in schema.names]
        arg: Any = [str(p) for p in paths] if len(paths) > 1 else str(paths[0])
        return pq.read_table(arg, columns=columns if schema is not None else None,
                             read_dictionary=[c for c in _DICTIONARY if c in columns])
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise XlcError(table, f"cannot be read as Parquet ({exc})", str(paths[0])) from None


def _read_into(path: Path, meta: Any, columns: list[str], dictionary: list[str], pool: Any) -> Any:
    """One local file read into ``pool`` (a dataset fragment: the reader that takes a memory pool), its columns
    one chunk each as ``ParquetFile.read`` gives them (the fragment gives one per row group)."""
    import pyarrow.dataset as ds
    import pyarrow.fs

    fmt = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=set(dictionary)))
    fragment = fmt.make_fragment(str(path.resolve()), filesystem=pyarrow.fs.LocalFileSystem())
    largest = max((meta.row_group(g).num_rows for g in range(meta.num_row_groups)), default=0)
    table = fragment.to_table(columns=columns, batch_size=max(largest, 1), memory_pool=pool)
    return table.combine_chunks(memory_pool=pool) if meta.num_row_groups > 1 else table


def _dictionary_pays(meta: Any, column: str) -> bool:
    """Whether reading a text column as an Arrow dictionary is cheaper than reading its strings.

    It is when the file stores the column dictionary-encoded throughout: Arrow then takes the file's
    dictionary as it is. A writer falls back to plain strings once the dictionary outgrows its page (about
    100,000 distinct customer ids with pyarrow's defaults); Arrow must then hash every plain value back into a
    dictionary, which took 2–4 times as long as reading the strings (200k-customer shape: 84–130 against
    35–58 ms). Told apart by the stored size: a plain string takes at least 4 bytes (its length), a
    dictionary index a few bits.
    """
    leaves = [meta.schema.column(i).path for i in range(meta.num_columns)]
    if column not in leaves:
        return True
    at = leaves.index(column)
    size = values = 0
    for g in range(meta.num_row_groups):
        chunk = meta.row_group(g).column(at)
        size += chunk.total_uncompressed_size
        values += chunk.num_values
    return size < 4 * max(values, 1)


def _never_empty(meta: Any, schema: Any, column: str) -> bool:
    """True when the file's statistics show a date column with no empty cell (False when unsure)."""
    import pyarrow as pa

    if column not in schema.names:
        return False
    kind = schema.field(column).type
    if not (pa.types.is_date(kind) or pa.types.is_timestamp(kind)):
        return False  # text dates can be blank without being null
    leaves = [meta.schema.column(i).path for i in range(meta.num_columns)]
    if column not in leaves:
        return False
    at = leaves.index(column)
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(at).statistics
        if stats is None or not stats.has_null_count or stats.null_count:
            return False
    return True


def _first_file(path: Any) -> Path:
    p = Path(path)
    if p.is_dir():
        files = sorted(p.rglob("*.parquet"))
        if not files:
            raise XlcError("path", f"folder holds no .parquet files: {p}", str(p))
        return files[0]
    return p


def _policy_of(policy: Policy | None) -> Policy:
    if policy is None:
        return _default_policy()  # immutable: built and validated once (≈ 3 ms a call otherwise)
    if not isinstance(policy, Policy):
        raise XlcError("policy", f"must be a Policy (got {describe(policy)})", policy)
    return policy


def _fx_of(fx_rates: Any, policy: Policy) -> FxRates | None:
    if fx_rates is None or isinstance(fx_rates, FxRates):
        return fx_rates
    from xlcredit.io.ledger import load_fx_rates

    return load_fx_rates(fx_rates, policy=policy).fx


def age_minor(invoices: pd.DataFrame, payments: pd.DataFrame | None, credit_notes: pd.DataFrame | None,
              as_of: dt.date, policy: Policy, kernel: str = "auto",
              threads: int | None = None) -> tuple[pd.DataFrame, tuple[BulkProblem, ...]]:
    """The kernel on one set of tables: one row per (customer, currency), money in int64 minor units.

    Rows are sorted by customer_id then currency; this is what each Dask worker runs on its partition.
    ``kernel``: see :func:`age_frames`; ``threads``: see :func:`~xlcredit.core.fast.ageing.age_bulk` — by default
    the CPUs this process may run on, for ledgers of 1M rows or more (a Dask worker passes 1: its own threads
    already share the CPUs).
    """
    if threads is None:  # both cores (or more) for a ledger large enough to gain from them
        rows = sum(len(t) for t in (invoices, payments, credit_notes) if t is not None)
        threads = kernel_threads(rows, None, available_cpus())
    frames = frames_to_arrays(invoices, payments, credit_notes, threads=threads)
    result = age_bulk((frames.invoices, frames.credits), as_of, policy, kernel=kernel, threads=threads,
                      items=False)  # the answer is per customer and currency: no per-item arrays
    order = _label_order(frames, result.customer, result.currency)
    import pyarrow as pa

    def rows(values: np.ndarray) -> np.ndarray:
        return values if order is None else values[order]

    # the figures as one int64 block (pandas keeps it as it is: no copy into a block of its own)
    labels = policy.bucket_labels
    columns = _money_columns(policy)  # open, the buckets, interest, unapplied, balance, disputed
    if order is None and result.money is not None and result.money.shape[0] == len(columns):
        block = result.money  # the compiled kernel's block, rows in this order already
    else:
        block = np.empty((len(columns), len(result.customer)), np.int64)
        block[0] = rows(result.open_minor)
        block[1: 1 + len(labels)] = rows(result.buckets).T
        for k, values in enumerate((result.interest_minor, result.unapplied_minor, result.balance_minor,
                                    result.disputed_minor), start=1 + len(labels)):
            block[k] = rows(values)
    table = pd.DataFrame(block.T, columns=columns, copy=False)
    # text columns built from Arrow: pandas keeps them as its Arrow-backed str without a pass over Python objects
    customer_text = frames.customer_text if frames.customer_text is not None else pa.array(frames.customers)
    table.insert(0, "currency", pa.array(frames.currencies, pa.large_string()).take(
        pa.array(rows(result.currency))).to_pandas())
    table.insert(0, "customer_id", customer_text.take(pa.array(rows(result.customer))).to_pandas())
    return table, frames.problems


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity where the OS has one, else the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


#: glibc's settings while :func:`keep_freed_memory` is in force: blocks up to 32 MiB (glibc's largest own choice)
#: come from the heap, and up to 256 MiB of freed heap stays with the process.
MMAP_FROM_BYTES = 32 * 2**20
KEEP_FREE_BYTES = 256 * 2**20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)


@functools.cache
def keep_freed_memory() -> bool:
    """Keep the memory one large ageing frees for the next, instead of handing it back to the OS (glibc, Linux).

    By default glibc returns large freed blocks to the OS at once, and the next call on a ledger of a million
    rows faults them in again: 5,000–13,000 page faults and 30–260 ms of system time a call (BENCHMARKS.md).
    This sets glibc's ``mallopt`` once per process: blocks up to :data:`MMAP_FROM_BYTES` come from the heap,
    and up to :data:`KEEP_FREE_BYTES` of freed heap stays with the main heap for reuse, as a pooled allocator keeps
    its own. Other threads' heaps (glibc's, 64 MiB each) are no longer shrunk either: 6 threads that each used and
    freed 240 MB left 672–733 MiB with the process, against 134–203 MiB by default (BENCHMARKS.md, session 9).
    When the program frees more than :data:`KEEP_FREE_BYTES` at the top of the main heap, glibc still gives all
    of it back.
    :func:`age_frames` calls it for ledgers of :data:`~xlcredit.core.fast.ageing.THREADS_FROM_ROWS` rows or
    more. It leaves glibc alone where the environment already tunes it (any ``MALLOC_…`` variable, or
    ``GLIBC_TUNABLES`` naming ``glibc.malloc``, as a Dask nanny sets) or where the C library is not glibc. The
    setting lasts for the rest of the process; to keep glibc as it is, start the process with any ``MALLOC_…``
    variable set (``MALLOC_ARENA_MAX=8``, say). Returns True when the setting is in force.
    """
    if any(k.startswith("MALLOC_") for k in os.environ) or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    return all(mallopt(option, value) == 1 for option, value in (
        (_M_MMAP_THRESHOLD, MMAP_FROM_BYTES), (_M_TRIM_THRESHOLD, KEEP_FREE_BYTES)))


#: A call reads into :func:`reading_pool` when its local Parquet files hold at most this much (their row groups'
#: uncompressed bytes, twice over: decoded Arrow columns are larger, and the pool's arenas keep up to about twice
#: what one read holds); a larger read goes to pyarrow's default pool, which hands it back.
KEEP_READ_BYTES = 128 * 2**20


def _read_size(sources: Sequence[Any]) -> int:
    """Twice the uncompressed bytes of the local Parquet files among ``sources`` (0 when there is none): what
    decides whether a read goes into :func:`reading_pool`."""
    import pyarrow.parquet as pq

    total = 0
    for source in sources:
        if not isinstance(source, str | Path) or "://" in str(source) or not Path(source).is_file():
            continue
        try:
            meta = pq.read_metadata(source)
        except (OSError, ValueError):
            continue  # the read itself says what is wrong with the file
        total += sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups))
    return 2 * total


def pool_for(*sources: Any) -> Any:
    """The pool :func:`age_frames` reads these sources into: :func:`reading_pool` when their local Parquet files
    hold up to :data:`KEEP_READ_BYTES`, else None (pyarrow's default pool, which hands a large read back)."""
    size = _read_size(sources)
    return reading_pool() if 0 < size <= KEEP_READ_BYTES else None


@functools.cache
def reading_pool() -> Any:
    """The pyarrow memory pool :func:`age_frames` reads a local Parquet file into: pyarrow's jemalloc, its freed
    pages kept for the next call; None (pyarrow's default pool) where that is not ours to choose.

    pyarrow's default pool (mimalloc) hands freed pages back to the OS within milliseconds, so each call on a
    ledger of a million rows faulted its read buffers in again (BENCHMARKS.md, session 9). pyarrow's own jemalloc
    serves only code that asks for it by name unless it is the default pool; freed pages stay with it (decay off,
    in the arenas it makes from then on: the first keeps pyarrow's 1 s). :func:`age_frames` reads into it only
    reads of up to :data:`KEEP_READ_BYTES`, so what it keeps stays of that order (up to about twice one read:
    each of pyarrow's threads allocates from an arena of its own); pyarrow 26's ``release_unused`` does not
    purge its jemalloc, so nothing larger is kept to be given back later. None where the user chose pyarrow's pool
    (``ARROW_DEFAULT_MEMORY_POOL`` set, or jemalloc already the default) or pyarrow has no jemalloc (its Windows
    wheels). Set once per process, on the first call that reads a local Parquet file.
    """
    if "ARROW_DEFAULT_MEMORY_POOL" in os.environ:
        return None
    import pyarrow as pa

    if pa.default_memory_pool().backend_name == "jemalloc":
        return None
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(-1)  # -1: freed pages are kept (jemalloc's "never decay")
    except NotImplementedError:  # a pyarrow built without jemalloc
        return None
    return pool


def _label_order(frames: Any, customer: np.ndarray, currency: np.ndarray) -> np.ndarray | None:
    """The order of the groups by customer_id text then currency text; None when they are in that order already
    (the usual case: :func:`~xlcredit.core.fast.ageing.frames_to_arrays` numbers fixed-width ids and the
    currencies in text order, and the kernels give the groups in code order)."""
    n_ccy = max(len(frames.currencies), 1)
    ccy_rank = np.empty(len(frames.currencies), np.int64)
    ccy_rank[np.argsort(np.array(frames.currencies, dtype=object), kind="stable")] = np.arange(len(frames.currencies))
    if frames.customers_sorted:
        key = customer.astype(np.int64) * n_ccy + ccy_rank[currency]
        if bool((key[1:] > key[:-1]).all()):
            return None
        return np.argsort(key, kind="stable")
    cust_rank = np.empty(len(frames.customers), np.int64)
    if frames.customer_text is not None:  # Arrow sorts strings by their UTF-8 bytes: the order of Python's str
        import pyarrow.compute as pc

        by_text = pc.array_sort_indices(frames.customer_text).to_numpy(zero_copy_only=False)
    else:
        by_text = np.argsort(frames.customers, kind="stable")
    cust_rank[by_text] = np.arange(len(frames.customers))
    return np.lexsort((ccy_rank[currency], cust_rank[customer]))


def _money_columns(policy: Policy) -> list[str]:
    return ["open", *policy.bucket_labels, "interest", "unapplied", "balance", "disputed"]


def _to_decimal(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """int64 minor units → exact Decimal amounts of each row's currency (nothing rounded: the units are exact)."""
    ccy = table["currency"].to_numpy(dtype=object)
    out = table.copy()
    exps = {c: minor_units(c) for c in pd.unique(ccy)}
    row_exp = np.array([exps[c] for c in ccy], np.int64) if len(ccy) else np.zeros(0, np.int64)
    for col in columns:
        units = table[col].to_numpy(np.int64)
        values = np.empty(len(units), dtype=object)
        for e in np.unique(row_exp).tolist():
            at = np.flatnonzero(row_exp == e)
            values[at] = [Decimal(u).scaleb(-e) for u in units[at].tolist()]
        out[col] = values
    return out


def _company_columns(table: pd.DataFrame, fx: FxRates, as_of: dt.date, policy: Policy,
                     columns: Sequence[str]) -> pd.DataFrame:
    """``<column>_company``: each figure in the company currency at the rate of ``as_of``, rounded half up once."""
    company = policy.company.currency
    if fx.company_currency != company:
        raise XlcError("fx_rates", f"are into {fx.company_currency}, but the company currency is {company}",
                       fx.company_currency)
    rates: dict[str, Decimal | None] = {}
    for ccy in pd.unique(table["currency"]).tolist():
        try:
            rates[ccy] = fx.rate(ccy, as_of)
        except XlcError:
            rates[ccy] = None  # no rate: the company figures stay empty for that currency
    ccy = table["currency"].tolist()
    for col in columns:
        table[f"{col}_company"] = [None if (r := rates[c]) is None else round_money(v * r, company)
                                   for c, v in zip(ccy, table[col].tolist(), strict=True)]
    return table


def age_frames(invoices: Any, payments: Any = None, *, as_of: Any, credit_notes: Any = None, fx_rates: Any = None,
               policy: Policy | None = None, engine: str = "numpy", scheduler: str | None = None,
               money: str = "decimal", partitions: int | None = None, kernel: str = "auto") -> pd.DataFrame:
    """Ageing, late interest and unapplied cash per customer and currency at ``as_of``, for a whole ledger.

    **Inputs.** Each table is a pandas DataFrame, a pyarrow Table or Parquet (a path, a folder, a list
    of paths, an fsspec URL) with the documented ledger columns — invoices: customer_id, invoice_no,
    invoice_date, due_date, amount, currency, optional terms and disputed; payments: customer_id,
    payment_date, amount, currency, optional invoice_ref; credit notes: customer_id, date, amount,
    currency, optional invoice_ref. ``fx_rates``: an :class:`~xlcredit.core.ledger.FxRates` or an FX
    table (date, currency, rate) — adds ``<figure>_company`` columns in the company currency.
    ``policy`` (default: the shipped one) gives the buckets, the ageing basis and the interest rate.

    **Answer.** One row per customer and currency with a document on or before ``as_of``, sorted by
    customer_id then currency: ``customer_id``, ``currency``, ``open``, one column per ageing bucket
    (the policy's labels, as the CLI prints them: ``Current``, ``1-30`` … ``180+``), ``interest`` (late
    interest on undisputed overdue items, each rounded half up once), ``unapplied`` (credit not placed),
    ``balance`` (open − unapplied) and ``disputed`` (open on disputed invoices, included in the buckets).

    **Money** is exact: with ``money="decimal"`` (default) every figure is a ``Decimal`` with the
    currency's minor unit (``Decimal('1234.50')`` EUR, ``Decimal('1200')`` JPY); with ``money="minor"``
    it is ``int64`` minor units (cents; whole yen), the fast form for millions of rows. No float
    touches an amount. Rows with problems are left out and listed in ``answer.attrs["problems"]``
    (:class:`~xlcredit.core.fast.ageing.BulkProblem`: table, row, column, value, problem).

    **Memory.** From :data:`~xlcredit.core.fast.ageing.THREADS_FROM_ROWS` rows (1M) the in-process engine
    asks glibc, for the rest of the process, to keep freed memory for the next call (:func:`keep_freed_memory`:
    up to 256 MiB of freed heap) instead of faulting it in again on every call. Local Parquet files of up to
    :data:`KEEP_READ_BYTES` (128 MiB) are read into pyarrow's jemalloc, which keeps their pages for the next
    (:func:`reading_pool`); larger reads go to pyarrow's default pool. Side work (the second Parquet read;
    from 1M rows on 2+ CPUs also the invoice numbers and the kernel's slices and ranges) runs on helper threads
    kept for the process (:mod:`xlcredit.core.fast.workers`, up to 8), whose glibc arenas keep their memory too.

    ``engine="numpy"`` runs in this process; ``engine="dask"`` partitions the ledger by customer and runs
    the same kernel on ``dask.distributed`` workers (``scheduler``: the address of a running scheduler,
    else a local cluster is started; ``partitions``: how many pieces, default one per worker thread).

    ``kernel`` chooses the code that ages the columns, on either engine (the answers are the same to the
    cent): ``"numba"`` — the compiled kernel (:mod:`xlcredit.core.fast.compiled`; numba is a declared
    dependency, its machine code is cached on disk after the first run); ``"numpy"`` — the vectorised
    numpy kernel, which needs nothing compiled; ``"auto"`` (default) — numba when it is importable and the
    ledger is large enough that loading it pays off (:data:`~xlcredit.core.fast.ageing.NUMBA_FROM_ROWS`
    invoices + credits, fewer once the kernel is loaded in the process), else numpy. Small ledgers (the
    workbook's, the sample) never import numba.
    """
    day = to_date(as_of, "as_of")
    if engine not in ENGINES:
        raise XlcError("engine", f"must be one of {', '.join(ENGINES)} (got {describe(engine)})", engine)
    if money not in MONEY:
        raise XlcError("money", f"must be one of {', '.join(MONEY)} (got {describe(money)})", money)
    if kernel not in KERNELS:
        raise XlcError("kernel", f"must be one of {', '.join(KERNELS)} (got {describe(kernel)})", kernel)
    if scheduler is not None and engine != "dask":
        raise XlcError("scheduler", "is for engine='dask' only", scheduler)
    pol = _policy_of(policy)
    fx = _fx_of(fx_rates, pol)
    if engine == "dask":
        from xlcredit.dask_engine import age_on_dask

        table, problems = age_on_dask(invoices, payments, credit_notes, day, pol, scheduler=scheduler,
                                      partitions=partitions, kernel=kernel)
    else:
        inv, pay, cn = read_tables(invoices, payments, credit_notes, pool_for(invoices, payments, credit_notes))
        if sum(len(t) for t in (inv, pay, cn) if t is not None) >= THREADS_FROM_ROWS:
            keep_freed_memory()  # the next large call reuses this one's memory instead of faulting it in again
        table, problems = age_minor(inv, pay, cn, day, pol, kernel)
    columns = _money_columns(pol)
    if money == "decimal" or fx is not None:
        exact = _to_decimal(table, columns)
        if fx is not None:
            exact = _company_columns(exact, fx, day, pol, columns)
        if money == "decimal":
            table = exact
        else:
            for col in columns:
                table[f"{col}_company"] = exact[f"{col}_company"]
    table = table.reset_index(drop=True)
    table.attrs["problems"] = tuple(problems)
    return table
