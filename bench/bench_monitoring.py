"""Portfolio review, IFRS 9 provision and cash forecast over 10,000 customers / 1,000,000 invoices.

Data: ``bench/generate.py`` (seeded; generated here when missing) plus, for the review, a customers
table with the columns the scorecard, limits and insurance read (rating, relationship start, annual
volume, insured limit and insurer for about 30 % of the customers; seeded) and FX rates for USD, GBP
and JPY. Both are written next to the generated ledger in ``review-book/`` (the ledger files are linked).

Two variants, each run ``--repeat`` times in this process (the first run is shown separately):

* ``compute`` — :func:`xlcredit.core.review.run_review` on the ledger already turned into bulk columns
  (``bulk.frames_to_arrays``) and the customers already read: everything the review computes — ageing
  and settlement slices, payment histories, scores and limits, review triggers, insurance deadlines,
  the roll-rate provision matrix (25 exact ageings, one every 30 days over 24 months) and ECL, the
  13-week forecast. Its own step timings are shown too.
* ``job`` — :func:`xlcredit.jobs.review.review` on the folder: read the Parquet/CSV files, check every
  row, then the same compute (nothing written, nothing recorded).

Every run must give the same figures (reviews due, ECL, expected indemnity, forecast per week); a
difference is printed and the script exits with status 1.

    .venv/bin/python bench/bench_monitoring.py                      # 1M invoices, 5 repeats
    .venv/bin/python bench/bench_monitoring.py --scale 0.01 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

AS_OF = dt.date(2026, 10, 31)
FX = {"USD": "0.92", "GBP": "1.17", "JPY": "0.0062"}


def ensure_data(scale: float) -> Path:
    """The generated ledger folder, generating it when missing."""
    folder = HERE / "_data" / f"scale-{scale:g}"
    if not (folder / "invoices.parquet").is_file():
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--scale", str(scale)], check=True)
    return folder


def review_book(folder: Path, seed: int = 20261031) -> Path:
    """``review-book/``: links to the ledger files, a customers table for the scorecard, FX rates."""
    book = folder / "review-book"
    book.mkdir(exist_ok=True)
    for name in ("invoices", "payments", "credit_notes"):
        target = book / f"{name}.parquet"
        if not target.exists():
            try:
                os.symlink((folder / f"{name}.parquet").resolve(), target)
            except OSError:
                shutil.copyfile(folder / f"{name}.parquet", target)
    cust = pd.read_parquet(folder / "customers.parquet")
    rng = np.random.default_rng(seed)
    n = len(cust)
    insured = rng.random(n) < 0.3
    cust["name"] = "Customer " + cust["customer_id"]
    cust["rating"] = rng.integers(20, 96, n)
    cust["total_assets"] = rng.integers(1_000_000, 50_000_000, n)
    cust["total_liabilities"] = (cust["total_assets"] * rng.uniform(0.2, 0.95, n)).round().astype(np.int64)
    cust["relationship_start"] = [str(dt.date(2015, 1, 1) + dt.timedelta(days=int(d)))
                                  for d in rng.integers(0, 4000, n)]
    cust["annual_volume"] = rng.integers(10_000, 2_000_000, n)
    cust["open_orders"] = rng.integers(0, 50_000, n)
    cust["insured_limit"] = np.where(insured, rng.integers(5, 300, n) * 1000, np.nan)
    cust["insurer"] = np.where(insured, "Kestrel Kreditversicherung AG", "")
    cust.to_parquet(book / "customers.parquet")
    pd.DataFrame({"date": ["2024-10-01"] * len(FX), "currency": list(FX), "rate": list(FX.values())}).to_csv(
        book / "fx_rates.csv", index=False)
    return book


def fingerprint(review) -> tuple:
    """The figures every run must reproduce exactly."""
    return (len(review.due), sum(1 for c in review.due if c.special), review.provision.total_ecl,
            review.provision.total_gross, sum((s.expected_indemnity for s in review.insurance.values()), Decimal(0)),
            sum(len(s.missed) for s in review.insurance.values()),
            tuple(w.amount for w in review.forecast.weeks), review.forecast.later, review.forecast.doubtful)


def timed(fn, repeat: int) -> tuple[list[float], list[tuple], list[dict], object]:
    """Run ``fn`` 1 + repeat times; keep only each run's time, figures and step timings (and the last result),
    so that earlier results do not pile up in memory and slow the later runs down."""
    times, prints, steps, last = [], [], [], None
    for _ in range(repeat + 1):   # the first run is reported apart (cold caches, first-touch memory)
        last = None
        gc.collect()
        t0 = time.perf_counter()
        last = fn()
        times.append(time.perf_counter() - t0)
        prints.append(fingerprint(last))
        steps.append(dict(last.timings))
    return times, prints, steps, last


def row(name: str, times: list[float]) -> str:
    rest = times[1:] or times
    return (f"| {name} | {statistics.median(rest) * 1000:,.0f} ms | {min(rest) * 1000:,.0f} ms | "
            f"{times[0] * 1000:,.0f} ms |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 10k customers, 1M invoices")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    from xlcredit.core.policy import Policy
    from xlcredit.core.review import run_review
    from xlcredit.io.ledger import load_fx_rates
    from xlcredit.io.tables import read_customers
    from xlcredit.jobs.book import FolderBook
    from xlcredit.jobs.review import ledger_columns, review

    folder = ensure_data(args.scale)
    book = review_book(folder)
    policy = Policy()
    tables = FolderBook(book).read_tables()
    customers = read_customers(tables["customers"]).customers
    frames, numbers, problems = ledger_columns(tables, policy)
    fx = load_fx_rates(tables["fx_rates"], policy=policy).fx
    print(f"data: {len(customers):,} customers, {len(frames.invoices):,} invoices, {len(frames.credits):,} "
          f"payments and credit notes ({len(problems):,} rows reported), as of {AS_OF}")

    compute_times, compute_prints, compute_steps, _ = timed(
        lambda: run_review(customers, frames, policy, AS_OF, fx=fx, invoice_numbers=numbers), args.repeat)
    job_times, job_prints, _, r = timed(
        lambda: review(FolderBook(book), AS_OF, write=False, record=False).review, args.repeat)

    prints = set(compute_prints) | set(job_prints)
    if len(prints) != 1:
        print("MISMATCH: runs disagree:", *prints, sep="\n  ")
        return 1
    print(f"\nreviews due {len(r.due):,} ({sum(1 for c in r.due if c.special):,} special); ECL "
          f"{r.provision.total_ecl:,.2f} on {r.provision.total_gross:,.2f} {r.currency}; insured customers "
          f"{len(r.insurance):,}, missed insurer deadlines {sum(len(s.missed) for s in r.insurance.values()):,}; "
          f"13-week collections {r.forecast.forecast_total:,.2f}")
    print(f"\nmachine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"pandas {pd.__version__}")
    print("\n| variant | median | min | first run |\n|---|---:|---:|---:|")
    print(row("compute (run_review)", compute_times))
    print(row("job from files (review)", job_times))
    steps = {k: statistics.median(t[k] for t in compute_steps[1:] or compute_steps) for k in compute_steps[0]}
    print("\ncompute steps (median): " + ", ".join(f"{k} {v * 1000:,.0f} ms" for k, v in steps.items()))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
