"""HTTP service over loopback: batch throughput (rows/s) and single-call latency (p50/p99).

Starts a real server process (``python -m xlcredit.service``) on 127.0.0.1 with a SQLite credit
database in a temp folder (seeded with ``--customers`` results), then measures with one keep-alive
httpx client:

* batch throughput, rows/s: ``/v1/score`` and ``/v1/limits`` (customer records from the bundled
  sample, scored / given a limit on the server), ``CREDIT_LIMIT`` (reads the credit database) and
  ``LATE_INTEREST`` (pure) — ``--batches`` requests of ``--rows`` rows each;
* single-call latency: ``--calls`` one-row ``CREDIT_LIMIT`` requests, p50 / p99 / max in ms;
* UDF remote mode: the Excel formulas (``udfs.functions``) pointed at this server, against the same formulas
  in process in the same run — ``CREDIT_LIMIT`` cells (one results snapshot per recalculation, then an
  ``If-None-Match`` revalidation answered 304), a ``LATE_INTEREST`` column of ``--column`` rows (one request)
  and single-cell ``DAYS_OVERDUE`` calls (one request each) — computed the first time, and recalculated with
  the same arguments (answers kept while the service's calculation basis holds: one 304 check).

With ``--load``: many clients at once instead — ``--clients`` (default 50 and 200) keep-alive connections,
each sending its next request as soon as the last is answered, for ``--seconds`` each, against a server with
1 and with 2 worker processes (``--workers``): customer lookups (``GET /v1/customers/{id}``) and pure
function calls (one-row ``POST /v1/functions/days_overdue``). The client is plain asyncio on raw sockets
(HTTP/1.1, no client library), so it is not itself the bottleneck; it does share the machine's cores with
the server. Printed: requests/s, p50/p95/p99 latency, the server's CPU time per answered request ("cpu ms":
user + system time of its processes, from /proc — steadier than requests/s on a shared machine), and any
answer that is not 200 (status and type).

Nothing is asserted; the figures are printed.

    .venv/bin/python bench/bench_service.py
    .venv/bin/python bench/bench_service.py --load --seconds 10
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


async def _raw_client(host: str, port: int, requests: list[bytes], stop: float, latencies: list[float],
                      others: dict[str, int]) -> None:
    """One keep-alive HTTP/1.1 connection sending ``requests`` round-robin until ``stop`` (monotonic)."""
    import asyncio

    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            writer.write(requests[i % len(requests)])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            fields = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
            await reader.readexactly(int(fields.get("content-length", "0")))
            if status == 200:
                latencies.append(time.perf_counter() - t0)
            else:
                label = f"{status} {fields.get('content-type', '?')}"
                others[label] = others.get(label, 0) + 1
            if fields.get("connection", "").lower() == "close":
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()


def load(base: str, key: str, ids: list[str], clients: int, seconds: float, what: str) -> dict[str, object]:
    """``clients`` connections for ``seconds``: lookups or pure function calls; requests/s and latencies."""
    import asyncio
    import json

    host, port = base.removeprefix("http://").split(":")
    if what == "lookups":
        requests = [(f"GET /v1/customers/{c} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {key}\r\n\r\n").encode()
                    for c in ids[:500]]
    else:
        requests = []
        for d in range(1, 200):
            body = json.dumps({"rows": [{"due_date": (dt.date(2026, 1, 1) + dt.timedelta(days=d)).isoformat(),
                                         "as_of": "2026-10-31"}]}).encode()
            requests.append((f"POST /v1/functions/days_overdue HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {key}\r\n"
                             f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
                            + body)
    latencies: list[float] = []
    others: dict[str, int] = {}

    async def run() -> float:
        stop = time.monotonic() + seconds
        t0 = time.perf_counter()
        await asyncio.gather(*(_raw_client(host, int(port), requests[k:] + requests[:k], stop, latencies, others)
                               for k in range(clients)))
        return time.perf_counter() - t0

    elapsed = asyncio.run(run())
    latencies.sort()

    def q(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000 if latencies else float("nan")

    return {"ok/s": len(latencies) / elapsed, "p50": q(0.5), "p95": q(0.95), "p99": q(0.99), "others": others,
            "elapsed": elapsed}


def server_children(pid: int) -> list[int]:
    """The worker processes of a ``--workers N`` server (Linux /proc; none elsewhere)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) the server's processes have used so far (Linux /proc; NaN elsewhere).

    Divided by the requests answered, it is the cost of one request — steadier than requests/s on a machine
    that other work shares, where the server waits for a core as much as it works."""
    tick, total = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100, 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def start_server(db: str, tmp: str, *extra: str) -> tuple[subprocess.Popen, str, object]:
    port = free_port()
    log = open(Path(tmp) / f"server-{port}.log", "wb")  # noqa: SIM115 - closed by the caller
    proc = subprocess.Popen([sys.executable, "-m", "xlcredit.service", "--db", db, "--port", str(port),
                             "--log-level", "warning", *extra], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ})
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return proc, base, log


def load_main(args: argparse.Namespace) -> None:
    """The ``--load`` table: lookups and pure calls at each client count, for each worker count."""
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.credit.db")
        store = CreditStore(db)
        key = store.create_api_key("bench", "read")
        ids = [f"C{i:06d}" for i in range(args.customers)]
        store.replace_snapshot(dt.date(2026, 10, 31), [{"customer_id": c, "name": f"Customer {c}"} for c in ids],
                               [{"customer_id": c, "score": 70, "grade": "B", "credit_limit": Decimal(150000 + i),
                                 "exposure": Decimal("1200.50")} for i, c in enumerate(ids)], "bench")
        store.close()
        print(f"SQLite, {args.customers:,} customers, {args.seconds:g} s per cell, raw asyncio keep-alive clients; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
        print(f"{'workers':>7} {'clients':>7} {'what':<8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
              f"{'cpu ms':>7}  not 200")
        for workers in args.workers:
            proc, base, log = start_server(db, tmp, "--workers", str(workers))
            try:
                for clients in args.clients:
                    for what in ("lookups", "pure"):
                        load(base, key, ids, min(clients, 10), 1.0, what)          # warm up every worker
                        pids = [proc.pid, *server_children(proc.pid)]      # every worker is up by now
                        before = cpu_seconds(pids)
                        r = load(base, key, ids, clients, args.seconds, what)
                        answered = float(r["ok/s"]) * float(r["elapsed"])
                        per = (cpu_seconds(pids) - before) / answered * 1000 if answered else float("nan")
                        print(f"{workers:>7} {clients:>7} {what:<8} {r['ok/s']:>8,.0f} {r['p50']:>8.1f} "
                              f"{r['p95']:>8.1f} {r['p99']:>8.1f} {per:>7.2f}  {r['others'] or '-'}", flush=True)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
                log.close()
        print(f"load average {os.getloadavg()[0]:.1f} at the end")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--load", action="store_true", help="many clients at once (see the module docstring)")
    ap.add_argument("--seconds", type=float, default=10.0, help="--load: seconds per measurement")
    ap.add_argument("--clients", type=int, nargs="+", default=[50, 200], help="--load: client counts")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="--load: worker counts")
    ap.add_argument("--rows", type=int, default=2000, help="rows per batch")
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--calls", type=int, default=1000, help="single-row calls for the latency figures")
    ap.add_argument("--customers", type=int, default=2000, help="customers in the credit database")
    ap.add_argument("--column", type=int, default=10_000, help="rows of the LATE_INTEREST column (remote mode)")
    args = ap.parse_args()
    if args.load:
        load_main(args)
        return
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
            udf_remote_mode(base, key, db, ids, args)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
            log.close()


def _rate(func, calls: list[tuple], repeat: int = 3, before=None) -> float:
    """Median calls per second of ``func`` over ``calls`` (``before`` runs untimed before each repeat)."""
    rates = []
    for _ in range(repeat):
        if before is not None:
            before()
        t0 = time.perf_counter()
        for a in calls:
            func(*a)
        rates.append(len(calls) / (time.perf_counter() - t0))
    return statistics.median(rates)


def udf_remote_mode(base: str, key: str, db: str, ids: list[str], args: argparse.Namespace) -> None:
    """The Excel formulas in remote mode against this server vs in process on the same database."""
    import udfs._convert as conv
    import udfs._remote as remote
    import udfs.functions as udf

    as_of = dt.date(2026, 10, 31)
    cells = [(ids[i % len(ids)],) for i in range(20_000)]
    column = ([[1000 + i] for i in range(args.column)],
              [[as_of - dt.timedelta(days=i % 400)] for i in range(args.column)], as_of, 0.08)
    singles = [(as_of - dt.timedelta(days=i % 400), as_of) for i in range(min(args.calls, 1000))]
    figures: dict[str, dict[str, float]] = {"in process": {}, "remote": {}}
    for mode in figures:
        os.environ.pop("XLCREDIT_SERVER_URL", None)
        os.environ["XLCREDIT_DB"] = db
        if mode == "remote":
            os.environ["XLCREDIT_DB"] = db + ".absent"
            os.environ["XLCREDIT_SERVER_URL"] = base
            os.environ["XLCREDIT_API_KEY"] = key
        remote.clear_cache()
        conv.close_databases()
        got = figures[mode]
        udf.credit_limit(ids[0])                       # first call loads the snapshot: not timed
        got["CREDIT_LIMIT cells/s"] = _rate(udf.credit_limit, cells)
        t0 = time.perf_counter()
        remote.clear_cache()
        conv.close_databases()
        udf.credit_limit(ids[0])
        got["first CREDIT_LIMIT of a recalculation, ms"] = (time.perf_counter() - t0) * 1000
        forget = remote.clear_cache           # remote: the kept pure answers too (a first calculation)
        got["LATE_INTEREST column cells/s"] = _rate(udf.late_interest, [column], before=forget) * args.column
        got["DAYS_OVERDUE single cells calls/s"] = _rate(udf.days_overdue, singles, before=forget)
        if mode == "remote":                  # the same cells again, after a quiet second: one 304 check
            def stale() -> None:
                for entry in remote._bases.values():
                    entry.checked = float("-inf")

            got["LATE_INTEREST column again cells/s"] = _rate(udf.late_interest, [column], before=stale) * args.column
            got["DAYS_OVERDUE single cells again calls/s"] = _rate(udf.days_overdue, singles, before=stale)
        assert udf.late_interest(*column)[5] == [float(Decimal(1005 * 0.08 * 5 / 365).quantize(Decimal("0.01")))]
    # the revalidation a recalculation after a quiet second costs (ETag, 304, no body)
    os.environ["XLCREDIT_SERVER_URL"] = base
    udf.credit_limit(ids[0])
    times = []
    for _ in range(50):
        with remote._lock:
            for entry in remote._cache.values():
                entry.checked = float("-inf")
        t0 = time.perf_counter()
        udf.credit_limit(ids[0])
        times.append((time.perf_counter() - t0) * 1000)
    figures["remote"]["revalidated CREDIT_LIMIT (304), ms"] = statistics.median(times)
    for name in ("XLCREDIT_SERVER_URL", "XLCREDIT_API_KEY", "XLCREDIT_DB"):
        os.environ.pop(name, None)
    conv.close_databases()
    print(f"\nUDF remote mode vs in process (same database, {len(ids):,} customers; {args.column:,}-row column):")
    for label in figures["remote"]:
        here, there = figures["in process"].get(label.replace(" again", "")), figures["remote"][label]
        ratio = "" if here is None else (f"   in process / remote = {here / there:8.1f}" if "/s" in label
                                         else f"   remote / in process = {there / here:8.1f}")
        shown = "" if here is None else f"{here:>12,.1f}"
        print(f"{label:<44} in process {shown:>12}   remote {there:>12,.1f}{ratio}")


if __name__ == "__main__":
    main()
