"""How fast Excel formulas can read the credit database: ``CreditStore.result(customer_id)`` calls per second.

A workbook recalculation calls ``=CREDIT_LIMIT(A2)`` & co. once per cell, so thousands of
``result()`` calls arrive in a burst. The store serves them from its in-memory snapshot and checks
the database's refresh stamp at most every ``stamp_ttl`` seconds. Printed (no pass/fail; the target
is ≥ 10,000 calls/s in-process):

* ``cached``        the default, stamp checked at most once a second;
* ``stamp-check``   ``stamp_ttl=0``: one small query per call (what the HTTP service does per request);
* ``uncached``      a fresh query of the row per call, no snapshot at all (for comparison);
* ``refresh``       time to replace the whole snapshot (customers + results in one transaction).

    .venv/bin/python bench/bench_store.py                    # SQLite file in a temp folder
    .venv/bin/python bench/bench_store.py --customers 20000 --calls 200000
    .venv/bin/python bench/bench_store.py --db postgresql+psycopg://user:pw@127.0.0.1:5432/db
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from xlcredit.io.store import CreditStore, credit_results_table


def make_snapshot(n: int) -> tuple[list[dict], list[dict]]:
    custs = [{"customer_id": f"C{i:06d}", "name": f"Customer {i}", "country": "DE", "currency": "EUR",
              "language": "en", "annual_volume": Decimal(1_000_000 + i)} for i in range(n)]
    res = [{"customer_id": f"C{i:06d}", "score": 40 + i % 60, "grade": "ABCDE"[i % 5],
            "credit_limit": Decimal(150_000 + i), "exposure": Decimal("12000.50"),
            "available": Decimal(150_000 + i) - Decimal("12000.50"), "terms": "Net 60",
            "deposit_share": Decimal("0"), "dunning_stage": "", "days_past_due": 0,
            "explain": [{"factor": "rating", "points": 20}]} for i in range(n)]
    return custs, res


def rate(label: str, calls: int, seconds: float) -> None:
    print(f"{label:<14} {calls:>9,} calls in {seconds:7.3f} s  = {calls / seconds:>12,.0f} calls/s"
          f"  ({seconds / calls * 1e6:8.2f} µs/call)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database URL (default: a SQLite file in a temp folder)")
    ap.add_argument("--customers", type=int, default=5000)
    ap.add_argument("--calls", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.credit.db'}"
        store = CreditStore(url)
        custs, res = make_snapshot(args.customers)
        t0 = time.perf_counter()
        store.replace_snapshot(dt.date(2026, 10, 31), custs, res, "bench")
        print(f"refresh        {args.customers:>9,} customers in {time.perf_counter() - t0:7.3f} s (one transaction)")
        ids = [f"C{random.randrange(args.customers):06d}" for _ in range(args.calls)]

        store.result(ids[0])  # load the snapshot once
        t0 = time.perf_counter()
        for cid in ids:
            store.result(cid)
        rate("cached", len(ids), time.perf_counter() - t0)

        live = CreditStore(url, stamp_ttl=0)
        few = ids[: max(1000, args.calls // 20)]
        live.result(few[0])
        t0 = time.perf_counter()
        for cid in few:
            live.result(cid)
        rate("stamp-check", len(few), time.perf_counter() - t0)

        query = sa.select(credit_results_table).where(credit_results_table.c.customer_id == sa.bindparam("cid"))
        with store.engine.connect() as conn:
            t0 = time.perf_counter()
            for cid in few:
                conn.execute(query, {"cid": cid}).mappings().first()
            rate("uncached", len(few), time.perf_counter() - t0)
        live.close()
        store.close()


if __name__ == "__main__":
    main()
