"""HTTP service over loopback: batch throughput (rows/s) and single-call latency (p50/p99).

Starts a real server process (``python -m xlcredit.service``) on 127.0.0.1 with a SQLite credit
database in a temp folder (seeded with ``--customers`` results), then measures with one keep-alive
httpx client:

* batch throughput, rows/s: ``/v1/score`` and ``/v1/limits`` (customer records from the bundled
  sample, scored / given a limit on the server), ``CREDIT_LIMIT`` (reads the credit database) and
  ``LATE_INTEREST`` (pure) — ``--batches`` requests of ``--rows`` rows each;
* single-call latency: ``--calls`` one-row ``CREDIT_LIMIT`` requests, p50 / p99 / max in ms.

Nothing is asserted; the figures are printed.

    .venv/bin/python bench/bench_service.py
    .venv/bin/python bench/bench_service.py --rows 5000 --batches 5 --calls 2000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import httpx

from xlcredit.data.sample import sample_path
from xlcredit.io.store import CreditStore

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample_records(n: int) -> list[dict]:
    """n customer records: the 60 sample customers repeated with fresh ids."""
    with sample_path("customers").open(encoding="utf-8-sig", newline="") as fh:
        base = list(csv.DictReader(fh))
    out = []
    for i in range(n):
        row = {k: (v if v != "" else None) for k, v in base[i % len(base)].items()}
        row["customer_id"] = f"B{i:06d}"
        out.append(row)
    return out


def throughput(client: httpx.Client, label: str, path: str, body: dict, rows: int, batches: int) -> None:
    r = client.post(path, json=body)            # warm up (imports, caches)
    if r.status_code == 404:
        print(f"{label:<26} (endpoint not available in this build)")
        return
    r.raise_for_status()
    errors = sum(1 for x in r.json()["results"] if "error" in x)
    t0 = time.perf_counter()
    for _ in range(batches):
        client.post(path, json=body).raise_for_status()
    seconds = time.perf_counter() - t0
    total = rows * batches
    print(f"{label:<26} {total:>8,} rows in {seconds:7.2f} s = {total / seconds:>10,.0f} rows/s"
          f"  ({seconds / batches * 1000:7.1f} ms per {rows:,}-row batch; {errors} error rows)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2000, help="rows per batch")
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--calls", type=int, default=1000, help="single-row calls for the latency figures")
    ap.add_argument("--customers", type=int, default=2000, help="customers in the credit database")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.credit.db")
        store = CreditStore(db)
        key = store.create_api_key("bench", "read")
        ids = [f"C{i:06d}" for i in range(args.customers)]
        store.replace_snapshot(dt.date(2026, 10, 31), [{"customer_id": c} for c in ids],
                               [{"customer_id": c, "score": 70, "grade": "B", "credit_limit": Decimal(150000 + i),
                                 "exposure": Decimal("1200.50")} for i, c in enumerate(ids)], "bench")
        store.close()
        port = free_port()
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen([sys.executable, "-m", "xlcredit.service", "--db", db, "--port", str(port),
                                 "--log-level", "warning"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ})
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(base + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=120) as c:
                n = args.rows
                print(f"server: python -m xlcredit.service on {base}, SQLite, {args.customers:,} customers")
                records = sample_records(n)
                throughput(c, "score (customer records)", "/v1/score",
                           {"as_of": "2026-10-31", "rows": records}, n, args.batches)
                throughput(c, "limits (customer records)", "/v1/limits",
                           {"as_of": "2026-10-31", "rows": records}, n, args.batches)
                throughput(c, "CREDIT_LIMIT (database)", "/v1/functions/credit_limit",
                           {"rows": [{"customer": ids[i % len(ids)]} for i in range(n)]}, n, args.batches)
                throughput(c, "LATE_INTEREST (pure)", "/v1/functions/late_interest",
                           {"rows": [{"amount": 1000 + i, "due_date": "2026-01-01", "as_of": "2026-10-31",
                                      "annual_rate": "0.08"} for i in range(n)]}, n, args.batches)
                latencies = []
                for i in range(args.calls):
                    t0 = time.perf_counter()
                    c.post("/v1/functions/credit_limit", json={"rows": [{"customer": ids[i % len(ids)]}]})
                    latencies.append((time.perf_counter() - t0) * 1000)
                latencies.sort()
                p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
                print(f"single CREDIT_LIMIT call   {args.calls:,} calls: p50 {statistics.median(latencies):.2f} ms, "
                      f"p99 {p99:.2f} ms, max {latencies[-1]:.2f} ms (one keep-alive connection)")
        finally:
            proc.terminate()
            proc.wait(timeout=15)
            log.close()


if __name__ == "__main__":
    main()
