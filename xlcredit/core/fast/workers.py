"""Helper threads kept for the life of the process, for the bulk path's side work: the second Parquet read of
:func:`xlcredit.bulk.read_tables`, the invoice numbers read beside the ids in
:func:`~xlcredit.core.fast.ageing.frames_to_arrays`, and the compiled kernel's slices and customer ranges
(:mod:`xlcredit.core.fast.compiled`).

Why kept: glibc gives each thread one of its malloc arenas. A thread started for each call is often given
another arena than the last call's — always so in a process whose other threads (DuckDB's, Polars', a web
server's) hold the free ones — and the arrays it makes are then faulted in page by page again, while the
memory the last call freed sits unused in the other arena. On the 200k-customer ledger (1.75M rows), next to a
DuckDB connection holding the same ledger, ``frames_to_arrays`` faulted 3,015 pages a call (25–37 ms of system
time) and the arenas grew by about 15 MB a call; with kept helpers, 0 (BENCHMARKS.md, session 10). A kept
thread keeps its arena, and the arena keeps what it freed for the next call.

No task submitted here waits for another task, so there is no deadlock whatever the number of callers. A
caller never waits for a task that has not begun either: it takes that work back (:func:`run_or_take_back`,
and the kernel's tasks come from a shared counter the caller's thread takes from too), so a call finishes on
its own thread even when every helper is busy with other callers' work or none can be started.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = ["WORKERS", "run_or_take_back", "submit"]

#: Helper threads at most (started as needed, then kept): the kernel's default of up to 8 threads a call is the
#: caller's own and 7 helpers, plus one for a side read. More work at once waits its turn.
WORKERS = 8

_state: dict[str, Any] = {"pool": None}


def _alive(pool: ThreadPoolExecutor) -> bool:
    """False in a child forked after the pool's threads started: the child has none of them."""
    threads = tuple(getattr(pool, "_threads", ()))  # copied in one step: other callers may be adding a thread
    return all(t.is_alive() for t in threads)


def submit(fn: Callable[..., Any], *args: Any) -> Future:
    """Run ``fn(*args)`` on a kept helper thread. Raises RuntimeError when no thread can be started (the caller
    then does the work itself); a caller waits for its future before raising an error of its own."""
    pool = _state["pool"]
    if pool is None or not _alive(pool):  # (two first callers at once may each make one: the spare is let go)
        pool = _state["pool"] = ThreadPoolExecutor(WORKERS, thread_name_prefix="xlcredit-helper")
    return pool.submit(fn, *args)


def run_or_take_back(future: Future | None, fn: Callable[..., Any], *args: Any) -> Any:
    """``future``'s result, or — when it has not begun (every helper busy) or there is none — ``fn(*args)`` run
    here, so that the caller never waits behind other callers' work."""
    if future is None or future.cancel():
        return fn(*args)
    return future.result()
