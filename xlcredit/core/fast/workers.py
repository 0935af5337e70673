"""Helper threads kept for the life of the process, for the bulk path's side work: the second Parquet read of
:func:`xlcredit.bulk.read_tables`, the invoice numbers read beside the ids in
:func:`~xlcredit.core.fast.ageing.frames_to_arrays`, and the compiled kernel's slices and customer ranges
(:mod:`xlcredit.core.fast.compiled`).

Why kept: glibc gives each thread one of its malloc arenas. A thread started for each call is often given
another arena than the last call's — always so in a process whose other threads (DuckDB's, Polars', a web
server's) hold the free ones — and the arrays it makes are then faulted in page by page again, while the
memory the last call freed sits unused in the other arena. On the 200k-customer ledger (1.75M rows), next to a
DuckDB connection holding the same ledger, that cost 3,000 page faults and 25–37 ms of system time a call in
``frames_to_arrays`` alone, and the process grew by 15 MB a call (BENCHMARKS.md, session 10). A kept thread
keeps its arena, and the arena keeps what it freed for the next call.

Only work that never waits for other work is submitted here, and each caller does its own share too (the kernel
takes tasks from a shared counter on its own thread as well), so callers beyond :data:`WORKERS` at once queue,
none waits for another, and a call finishes even when no helper is free: no deadlock whatever the number of
callers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = ["WORKERS", "submit"]

#: Helper threads at most (started as needed, then kept): the kernel's default of up to 8 threads a call is the
#: caller's own and 7 helpers, plus one for a side read. More work at once waits its turn.
WORKERS = 8

_state: dict[str, Any] = {"pool": None, "lock": threading.Lock()}


def submit(fn: Callable[..., Any], *args: Any) -> Future:
    """Run ``fn(*args)`` on a kept helper thread; the caller waits for the future (and, on its own error, for
    the future too, so that no work of a failed call runs on)."""
    with _state["lock"]:
        if _state["pool"] is None:
            _state["pool"] = ThreadPoolExecutor(WORKERS, thread_name_prefix="xlcredit-helper")
        pool = _state["pool"]
    return pool.submit(fn, *args)


def _forget_after_fork() -> None:
    """A forked child has none of the parent's threads: it starts its own pool when it first needs one."""
    _state["pool"] = None
    _state["lock"] = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
