"""How fast the Excel formulas answer in-process: calls per second of ``udfs.functions``, against a goal of
10,000 calls/s for the customer-level formulas (a recalculation of a sheet of ``=CREDIT_LIMIT(A2)`` cells).

What is timed is the Python side of a formula call — cell conversion, locating the credit database, the
freshness check (two ``stat`` calls), the lookup and the conversion back — exactly as xlwings calls the
function once the COM round trip from Excel has delivered the arguments (that round trip is Excel's and
xlwings' cost, not measured here: there is no Excel on this machine). Printed, no pass/fail:

* ``CREDIT_LIMIT`` & co.  database named by ``XLCREDIT_DB`` (a SQLite file filled by ``replace_snapshot``);
* ``… (./credit.sqlite)`` no ``XLCREDIT_DB``: each call also asks xlwings for a calling workbook (none here)
  and falls back to the current folder;
* pure formulas with single cells, and LATE_INTEREST over a 10,000-row column (cells per second).

    .venv/bin/python bench/bench_udfs.py
    .venv/bin/python bench/bench_udfs.py --customers 20000 --calls 200000 --repeat 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import udfs._convert as conv
import udfs.functions as udf
from xlcredit.core.policy import Policy
from xlcredit.core.scoring import score_of
from xlcredit.io.store import CreditStore

GOAL = 10_000          # calls per second, in-process, customer-level formulas
AS_OF = dt.date(2026, 10, 31)


def fill(path: Path, n: int) -> None:
    factors = score_of(70, "0.4", "1.2", "0.25", 3, 4, Policy()).factors
    custs = [{"customer_id": f"C{i:06d}", "name": f"Customer {i}", "country": "DE", "currency": "EUR"}
             for i in range(n)]
    res = [{"customer_id": f"C{i:06d}", "score": 40 + i % 60, "grade": "ABCDE"[i % 5],
            "credit_limit": Decimal(150_000 + i), "exposure": Decimal("12000.50"),
            "available": Decimal(150_000 + i) - Decimal("12000.50"), "terms": "Net 60",
            "deposit_share": Decimal("0.3"), "dunning_stage": "Reminder letter" if i % 7 == 0 else "",
            "days_past_due": 0, "explain": factors} for i in range(n)]
    store = CreditStore(f"sqlite:///{path}")
    t0 = time.perf_counter()
    store.replace_snapshot(AS_OF, custs, res, "bench")
    print(f"refresh: {n:,} customers written in {time.perf_counter() - t0:.2f} s")
    store.close()


def measure(label: str, func: Callable[..., object], calls: list[tuple], repeat: int, *, unit: str = "calls",
            per_call: int = 1, goal: int | None = None) -> None:
    func(*calls[0])  # first call opens the database and loads the snapshot: not timed
    rates = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for args in calls:
            func(*args)
        rates.append(len(calls) * per_call / (time.perf_counter() - t0))
    best, median = max(rates), statistics.median(rates)
    line = (f"{label:<36} {len(calls) * per_call:>9,} {unit:<5} median {median:>11,.0f} /s   best {best:>11,.0f} /s"
            f"   ({1e6 / median:7.2f} µs each)")
    if goal:
        line += f"   x{median / goal:5.1f} the {goal:,}/s goal"
    print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=5000)
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rnd = random.Random(20261031)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "credit.sqlite"
        fill(path, args.customers)
        ids = [(f"C{rnd.randrange(args.customers):06d}",) for _ in range(args.calls)]
        os.environ["XLCREDIT_DB"] = str(path)
        print(f"\ncustomer-level formulas, XLCREDIT_DB set, {args.customers:,} customers, median of {args.repeat}:")
        for name in ("credit_limit", "credit_score", "credit_grade", "credit_available", "credit_terms",
                     "deposit_required", "dunning_stage"):
            measure(name.upper(), getattr(udf, name), ids, args.repeat, goal=GOAL)
        measure("CREDIT_EXPLAIN (9 x 4 table)", udf.credit_explain, ids[: args.calls // 5], args.repeat, goal=GOAL)
        measure("CREDIT_LIMIT unknown customer", udf.credit_limit, [("C-none",)] * (args.calls // 5), args.repeat)

        del os.environ["XLCREDIT_DB"]
        conv.close_databases()
        here = os.getcwd()
        os.chdir(tmp)
        try:
            print("\nno XLCREDIT_DB (looks for a calling workbook, then ./credit.sqlite):")
            measure("CREDIT_LIMIT (./credit.sqlite)", udf.credit_limit, ids, args.repeat, goal=GOAL)

            print("\npure formulas, single cells (AGEING_BUCKET / SCORE_OF / GRADE_OF read the policy in force):")
            due = [(AS_OF - dt.timedelta(days=rnd.randrange(-30, 400)), AS_OF) for _ in range(args.calls // 5)]
            measure("DAYS_OVERDUE", udf.days_overdue, due, args.repeat)
            measure("AGEING_BUCKET", udf.ageing_bucket, due, args.repeat)
            measure("LATE_INTEREST", udf.late_interest, [(1234.56, d, a, 0.08) for d, a in due], args.repeat)
            measure("DAILY_PENALTY", udf.daily_penalty, [(1234.56, d, a) for d, a in due], args.repeat)
            few = due[: max(1000, args.calls // 50)]
            measure("STATUTORY_INTEREST (UK)", udf.statutory_interest, [(1234.56, d, a, "UK") for d, a in few],
                    args.repeat)
            measure("EARLY_PAY_DISCOUNT", udf.early_pay_discount,
                    [(1000, a - dt.timedelta(days=12), a, "2/10 net 30") for _, a in few], args.repeat)
            measure("SCORE_OF", udf.score_of, [(80, 0.3, 1.5, 0.4, 0, 5)] * len(few), args.repeat)
            measure("GRADE_OF", udf.grade_of, [(72,)] * len(few), args.repeat)
            measure("DSO", udf.dso, [(10869, 17674, 90)] * len(few), args.repeat)

            rows = 10_000
            column = [[[1000 + i] for i in range(rows)], [[d] for d, _ in (due * 2)[:rows]], AS_OF, 0.08]
            print(f"\ncolumn formulas, one call over {rows:,} rows (spilled):")
            measure("LATE_INTEREST column", udf.late_interest, [tuple(column)], args.repeat, unit="cells",
                    per_call=rows)
            measure("AGEING_BUCKET column", udf.ageing_bucket, [(column[1], AS_OF)], args.repeat, unit="cells",
                    per_call=rows)
        finally:
            os.chdir(here)
            conv.close_databases()


if __name__ == "__main__":
    main()
