"""Ageing + late interest per customer on 1M-invoice ledgers: xlcredit vs DuckDB vs Polars vs pandas.

Default run (issue 16): four ledgers shaped as we did not design for (``generate.generate_shape``:
1k / 10k / 100k / 200k customers, rows shuffled, mixed terms per customer, five currencies, heavy
partial payments, credit notes); on each, every tool is timed interleaved in this one process, median
of ``--repeat``, compute (tables in memory) and end to end (from the Parquet files); every report is
compared cell by cell to the cent; ratios and the process's peak RSS are printed.

    .venv/bin/python bench/bench_ageing.py                      # the four shapes, 1M invoices, repeat 5
    .venv/bin/python bench/bench_ageing.py --targets            # issue 16's item 3: shapes, 1M/5M, 10M, judged
    .venv/bin/python bench/bench_ageing.py --shapes 10k --scaling 1000000,5000000 --repeat 7   # sizes interleaved
    .venv/bin/python bench/bench_ageing.py --invoices 5000000 --shapes 10k --tools xlcredit   # big sizes
    .venv/bin/python bench/bench_ageing.py --shapes 10k --invoices 10000000 --dask 2 --repeat 3  # Dask vs in-process
    .venv/bin/python bench/bench_ageing.py --shapes 10k --alone numba --repeat 7  # age_frames from Parquet alone
    .venv/bin/python bench/bench_ageing.py --jit 3              # numba: cold compile, then cached loads
    .venv/bin/python bench/bench_ageing.py --classic --repeat 7 # the original run described below

The original (``--classic``) run:

Every variant computes the same report — per (customer, currency): open invoice amounts in the
policy's ageing buckets (by due date), open total, unapplied cash, disputed open amount and late
interest on undisputed overdue items (8 % a year, actual/365, per invoice, rounded half up) — under
the allocation rule of xlcredit/core/openitems.py, in int64 minor units. The reports must agree exactly, cell by
cell; a mismatch is printed and the script exits with status 1.

Variants (each in its own subprocess, so that peak RSS is honest):

* ``bulk``        compute only: ``prepare_bulk`` (the one-time sort) + ``age_bulk`` on columns
                  already in memory; ``age`` alone (prepared ledger reused) is shown too.
* ``bulk-shuffled`` the same on invoices in random row order (the worst case for the sort).
* ``bulk-e2e``    end to end: read the Parquet files + validate/convert (``frames_to_arrays``) +
                  prepare + age + the report table (``to_frame``); ``read`` alone is shown too.
* ``pandas``      compute only, a straightforward pandas implementation (merge, groupby cumsum,
                  groupby sums) on DataFrames already in memory (amounts already in minor units,
                  ids as text).
* ``pandas-codes`` the same pandas code with the ids factorised to integers at load (as the bulk
                  path does), to show what pandas gets from that alone.
* ``duckdb``      compute only, one SQL query (window SUM for the FIFO running total) over the
                  same tables registered in DuckDB.
* ``duckdb-e2e``  DuckDB straight from the Parquet files (decimal → minor units in SQL).

    .venv/bin/python bench/bench_ageing.py                 # 1M invoices (generates data if missing)
    .venv/bin/python bench/bench_ageing.py --scale 0.01 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

AS_OF = "2026-10-31"
AS_OF_DATE = dt.date.fromisoformat(AS_OF)   # what the kernel takes (text is read where it enters)
BOUNDS = (0, 30, 60, 90, 180)
RATE = Decimal("0.08")
BASIS = 365
VARIANTS = ("bulk", "bulk-shuffled", "bulk-e2e", "pandas", "pandas-codes", "duckdb", "duckdb-e2e")
COLUMNS = {
    "invoices": ["customer_id", "invoice_no", "currency", "amount", "invoice_date", "due_date", "terms", "disputed"],
    "payments": ["customer_id", "payment_date", "amount", "currency", "invoice_ref"],
    "credit_notes": ["customer_id", "date", "amount", "currency", "invoice_ref"],
}
MINOR = {"JPY": 0}  # every other currency in the generated data has 2 decimals
REPORT = ["customer_id", "currency", "b0", "b1", "b2", "b3", "b4", "b5", "open", "unapplied", "disputed",
          "interest"]


# ---------------------------------------------------------------------------- loading
def read_frames(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three ledger tables as Arrow-backed DataFrames (zero-copy from Parquet)."""
    import pyarrow.parquet as pq

    out = []
    for name, cols in COLUMNS.items():
        table = pq.read_table(folder / f"{name}.parquet", columns=cols,
                              read_dictionary=[c for c in ("customer_id", "currency", "terms") if c in cols])
        out.append(table.to_pandas(types_mapper=pd.ArrowDtype))
    return out[0], out[1], out[2]


def plain_frames(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Invoices and credits as ordinary pandas columns: text ids, int64 minor units, datetime64 dates."""
    import pyarrow.parquet as pq

    def minor(table: Any) -> np.ndarray:
        cents = _cents(table.column("amount"))
        ccy = table.column("currency").to_numpy(zero_copy_only=False)
        return np.where(ccy == "JPY", cents // 100, cents)  # generated JPY amounts are whole yen

    inv_t = pq.read_table(folder / "invoices.parquet", columns=COLUMNS["invoices"])
    inv = pd.DataFrame({
        "customer_id": inv_t.column("customer_id").to_numpy(zero_copy_only=False).astype(object),
        "invoice_no": inv_t.column("invoice_no").to_numpy(zero_copy_only=False).astype(object),
        "currency": inv_t.column("currency").to_numpy(zero_copy_only=False).astype(object),
        "amount_minor": minor(inv_t),
        "invoice_date": inv_t.column("invoice_date").to_numpy().astype("datetime64[s]"),
        "due_date": inv_t.column("due_date").to_numpy().astype("datetime64[s]"),
        "disputed": inv_t.column("disputed").to_numpy(),
    })
    parts = []
    for name, date_col in (("payments", "payment_date"), ("credit_notes", "date")):
        t = pq.read_table(folder / f"{name}.parquet", columns=COLUMNS[name])
        parts.append(pd.DataFrame({
            "customer_id": t.column("customer_id").to_numpy(zero_copy_only=False).astype(object),
            "currency": t.column("currency").to_numpy(zero_copy_only=False).astype(object),
            "amount_minor": minor(t),
            "date": t.column(date_col).to_numpy().astype("datetime64[s]"),
            "invoice_ref": t.column("invoice_ref").to_numpy(zero_copy_only=False).astype(object),
        }))
    return inv, pd.concat(parts, ignore_index=True)


def coded_frames(inv: pd.DataFrame, credits: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Ids factorised to int64 codes (invoice numbers in text order, so they still sort the same);
    references to unknown numbers get code -1. Returns the frames and the labels to decode them."""
    cust_codes, customers = pd.factorize(pd.concat([inv["customer_id"], credits["customer_id"]]))
    ccy_codes, currencies = pd.factorize(pd.concat([inv["currency"], credits["currency"]]))
    no_codes, numbers = pd.factorize(inv["invoice_no"], sort=True)
    ref_codes = pd.Index(numbers).get_indexer(credits["invoice_ref"])
    n = len(inv)
    inv = inv.assign(customer_id=cust_codes[:n], currency=ccy_codes[:n], invoice_no=no_codes)
    credits = credits.assign(customer_id=cust_codes[n:], currency=ccy_codes[n:], invoice_ref=ref_codes)
    return inv, credits, {"customer_id": np.asarray(customers, dtype=object),
                          "currency": np.asarray(currencies, dtype=object)}


def _cents(column: Any) -> np.ndarray:
    """Unscaled int64 of a decimal128(18, 2) column (hundredths), without going through Python objects."""
    from xlcredit.core.fast.ageing import _decimal128_unscaled

    arr = column.combine_chunks()
    if arr.type.scale != 2:
        raise SystemExit(f"expected decimal128(18, 2) amounts, got {arr.type}")
    return _decimal128_unscaled(arr)[0].copy()


# ---------------------------------------------------------------------------- the three implementations
def report_bulk(frames: Any, result: Any, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The bulk kernel's result as the canonical report table."""
    if table is None:
        table = result.to_frame(frames.customers, frames.currencies)
    out = pd.DataFrame({"customer_id": table["customer_id"].astype(str), "currency": table["currency"].astype(str)})
    for j, label in enumerate(result.labels):
        out[f"b{j}"] = table[label].to_numpy(np.int64)
    for col in ("open", "unapplied", "disputed", "interest"):
        out[col] = table[col].to_numpy(np.int64)
    return _canonical(out)


def report_pandas(inv: pd.DataFrame, credits: pd.DataFrame, as_of: str = AS_OF) -> pd.DataFrame:
    """Straightforward pandas: merge the references, groupby cumsum for FIFO, groupby sums for buckets."""
    return _canonical(pandas_ageing(inv, credits, as_of))


def pandas_ageing(inv: pd.DataFrame, credits: pd.DataFrame, as_of: str = AS_OF) -> pd.DataFrame:
    """The pandas implementation itself (one row per customer and currency, unsorted)."""
    day = pd.Timestamp(as_of)
    keys = ["customer_id", "currency"]
    inv = inv[inv["invoice_date"] <= day]
    cr = credits[credits["date"] <= day]
    # 1. references settle their own invoice first (same customer and currency only)
    refs = cr[cr["invoice_ref"].notna()].merge(inv[["invoice_no", *keys]], left_on="invoice_ref",
                                               right_on="invoice_no", suffixes=("", "_inv"))
    refs = refs[(refs["customer_id"] == refs["customer_id_inv"]) & (refs["currency"] == refs["currency_inv"])]
    referenced = refs.groupby("invoice_no")["amount_minor"].sum()
    inv = inv.assign(referenced=inv["invoice_no"].map(referenced).fillna(0).astype(np.int64))
    inv = inv.assign(applied=np.minimum(inv["amount_minor"], inv["referenced"]))
    inv = inv.assign(remaining=inv["amount_minor"] - inv["applied"])
    # 2. the pool settles the rest FIFO
    groups = pd.concat([inv[keys], cr[keys]]).drop_duplicates()
    pool = groups.merge(cr.groupby(keys, as_index=False)["amount_minor"].sum(), on=keys, how="left")
    pool = pool.merge(inv.groupby(keys, as_index=False)["applied"].sum(), on=keys, how="left").fillna(0)
    pool["pool"] = pool["amount_minor"].astype(np.int64) - pool["applied"].astype(np.int64)
    inv = inv.sort_values([*keys, "disputed", "due_date", "invoice_date", "invoice_no"])
    inv = inv.assign(cum=inv.groupby(keys)["remaining"].cumsum())
    inv = inv.merge(pool[[*keys, "pool"]], on=keys, how="left")
    inv["open"] = np.clip(inv["cum"] - inv["pool"], 0, inv["remaining"])
    # buckets and interest on what is open
    days = (day - inv["due_date"]).dt.days.to_numpy(np.int64)
    inv["bucket"] = np.searchsorted(np.array(BOUNDS), days, side="left")
    rate = Fraction(RATE)
    num, den = rate.numerator, rate.denominator * BASIS
    x = inv["open"].to_numpy(np.int64) * np.maximum(days, 0) * num
    inv["interest"] = np.where(inv["disputed"], 0, (2 * x + den) // (2 * den))
    inv["disputed_open"] = np.where(inv["disputed"], inv["open"], 0)
    buckets = inv.pivot_table(index=keys, columns="bucket", values="open", aggfunc="sum", fill_value=0)
    buckets = buckets.reindex(columns=range(len(BOUNDS) + 1), fill_value=0)
    buckets.columns = [f"b{j}" for j in buckets.columns]
    sums = inv.groupby(keys)[["open", "remaining", "disputed_open", "interest"]].sum()
    out = pool[[*keys, "pool"]].merge(buckets.reset_index(), on=keys, how="left")
    out = out.merge(sums.reset_index(), on=keys, how="left").fillna(0)
    out["unapplied"] = np.maximum(out["pool"] - out["remaining"], 0)
    return out.rename(columns={"disputed_open": "disputed"})


def _duckdb_sql(invoices: str, credits: str, minor: str) -> str:
    """One query: references summed per invoice, one window pass (FIFO running total and the group's applied
    total), one join to the credit totals per customer and currency, one GROUP BY. Keys are whatever the
    tables hold (integer codes in the issue-16 compute runs, the text ids when reading Parquet)."""
    rate = Fraction(RATE)
    num, den = rate.numerator, rate.denominator * BASIS
    b = BOUNDS
    day = f"DATE '{AS_OF}'"
    buckets = ",\n".join(
        [f"SUM(open) FILTER (WHERE age <= {b[0]}) AS b0"]
        + [f"SUM(open) FILTER (WHERE age > {lo} AND age <= {hi}) AS b{j + 1}" for j, (lo, hi) in
           enumerate(pairwise(b))]
        + [f"SUM(open) FILTER (WHERE age > {b[-1]}) AS b{len(b)}"])
    return f"""
    WITH cr AS (
        SELECT customer_id, currency, invoice_ref, {minor} AS amount FROM {credits} WHERE date <= {day}),
    totals AS (SELECT customer_id, currency, SUM(amount) AS total FROM cr GROUP BY ALL),
    referenced AS (
        SELECT invoice_ref, customer_id, currency, SUM(amount) AS referenced FROM cr
        WHERE invoice_ref IS NOT NULL GROUP BY ALL),
    inv AS (
        SELECT customer_id, currency, invoice_no, invoice_date, due_date, disputed, {minor} AS amount
        FROM {invoices} WHERE invoice_date <= {day}),
    inv2 AS (
        SELECT i.*, LEAST(i.amount, COALESCE(r.referenced, 0)) AS applied
        FROM inv i LEFT JOIN referenced r
          ON r.invoice_ref = i.invoice_no AND r.customer_id = i.customer_id AND r.currency = i.currency),
    w AS (
        SELECT customer_id, currency, disputed, due_date, amount - applied AS remaining,
               SUM(amount - applied) OVER (PARTITION BY customer_id, currency
                   ORDER BY disputed, due_date, invoice_date, invoice_no ROWS UNBOUNDED PRECEDING) AS cum,
               SUM(applied) OVER (PARTITION BY customer_id, currency) AS applied
        FROM inv2),
    items AS (
        SELECT w.customer_id, w.currency, w.disputed, w.remaining, COALESCE(t.total, 0) - w.applied AS pool,
               GREATEST(LEAST(w.cum - (COALESCE(t.total, 0) - w.applied), w.remaining), 0)::BIGINT AS open,
               date_diff('day', w.due_date::DATE, {day}) AS age
        FROM w LEFT JOIN totals t USING (customer_id, currency)),
    per AS (
        SELECT customer_id, currency,
               {buckets},
               SUM(open) AS open, SUM(remaining) AS remaining, ANY_VALUE(pool) AS pool,
               SUM(open) FILTER (WHERE disputed) AS disputed,
               SUM((2 * open * GREATEST(age, 0) * {num} + {den}) // {2 * den}) FILTER (WHERE NOT disputed) AS interest
        FROM items GROUP BY ALL)
    SELECT customer_id, currency,
           COALESCE(b0, 0) AS b0, COALESCE(b1, 0) AS b1, COALESCE(b2, 0) AS b2, COALESCE(b3, 0) AS b3,
           COALESCE(b4, 0) AS b4, COALESCE(b5, 0) AS b5, COALESCE(open, 0) AS open,
           GREATEST(COALESCE(pool, total) - COALESCE(remaining, 0), 0) AS unapplied,
           COALESCE(disputed, 0) AS disputed, COALESCE(interest, 0) AS interest
    FROM per FULL OUTER JOIN totals USING (customer_id, currency)
    """


def report_duckdb(con: Any, invoices: str = "invoices", credits: str = "credits",
                  minor: str = "amount_minor") -> pd.DataFrame:
    """One DuckDB query (window SUM for the FIFO running total) → the canonical report."""
    return _canonical(duckdb_ageing(con, invoices, credits, minor))


def duckdb_ageing(con: Any, invoices: str = "invoices", credits: str = "credits",
                  minor: str = "amount_minor") -> pd.DataFrame:
    """The DuckDB query itself, fetched as a DataFrame."""
    return con.execute(_duckdb_sql(invoices, credits, minor)).df()


def duckdb_parquet_sources(folder: Path) -> tuple[str, str, str]:
    """FROM clauses reading the Parquet files directly, and the decimal → minor units expression."""
    inv = f"read_parquet('{folder / 'invoices.parquet'}')"
    credits = (f"(SELECT customer_id, currency, invoice_ref, amount, payment_date AS date "
               f"FROM read_parquet('{folder / 'payments.parquet'}') UNION ALL "
               f"SELECT customer_id, currency, invoice_ref, amount, date "
               f"FROM read_parquet('{folder / 'credit_notes.parquet'}'))")
    minor = "CAST(CASE WHEN currency = 'JPY' THEN amount ELSE amount * 100 END AS BIGINT)"
    return inv, credits, minor


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[REPORT].copy()
    out["customer_id"] = out["customer_id"].astype(str)
    out["currency"] = out["currency"].astype(str)
    for col in REPORT[2:]:
        out[col] = out[col].astype(np.int64)
    return out.sort_values(["customer_id", "currency"]).reset_index(drop=True)


# ---------------------------------------------------------------------------- worker (one variant per process)
def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def worker(variant: str, folder: Path, repeat: int, out: Path) -> dict[str, Any]:
    """Run one variant ``repeat`` times; write its report to ``out``; return timings and peak RSS."""
    from xlcredit.core.fast.ageing import BulkInvoices, age_bulk, frames_to_arrays, prepare_bulk

    base_rss = _rss_mb()
    times: dict[str, list[float]] = {}

    def timed(label: str, fn: Any) -> Any:
        t0 = time.perf_counter()
        value = fn()
        times.setdefault(label, []).append(time.perf_counter() - t0)
        return value

    if variant in ("bulk", "bulk-shuffled"):
        frames = frames_to_arrays(*read_frames(folder))
        invoices, credits = frames.invoices, frames.credits
        if variant == "bulk-shuffled":
            perm = np.random.default_rng(7).permutation(len(invoices))
            inverse = np.empty_like(perm)
            inverse[perm] = np.arange(perm.shape[0])
            invoices = BulkInvoices(**{f: getattr(invoices, f)[perm] for f in (
                "customer", "currency", "amount_minor", "invoice_date", "due_date", "disputed", "number_rank")})
            from xlcredit.core.fast.ageing import BulkCredits
            ref = credits.invoice_row
            credits = BulkCredits(credits.customer, credits.currency, credits.amount_minor, credits.date,
                                  np.where(ref >= 0, inverse[np.maximum(ref, 0)], -1))
        loaded_rss = _rss_mb()
        for _ in range(repeat):
            result = timed("kernel", lambda: age_bulk(timed("prepare", lambda: prepare_bulk(invoices, credits)),
                                                      AS_OF_DATE))
        prepared = prepare_bulk(invoices, credits)
        for _ in range(repeat):
            result = timed("age", lambda: age_bulk(prepared, AS_OF_DATE))
        report = report_bulk(frames, result)
    elif variant == "bulk-e2e":
        loaded_rss = base_rss

        def run() -> Any:
            frames = frames_to_arrays(*timed("read", lambda: read_frames(folder)))
            result = age_bulk((frames.invoices, frames.credits), AS_OF_DATE)
            return frames, result, result.to_frame(frames.customers, frames.currencies)

        for _ in range(repeat):
            frames, result, table = timed("e2e", run)
        report = report_bulk(frames, result, table)
    elif variant == "pandas":
        inv, credits = plain_frames(folder)
        loaded_rss = _rss_mb()
        for _ in range(repeat):
            raw = timed("compute", lambda: pandas_ageing(inv, credits))
        report = _canonical(raw)
    elif variant == "pandas-codes":
        inv, credits, labels = coded_frames(*plain_frames(folder))
        loaded_rss = _rss_mb()
        for _ in range(repeat):
            raw = timed("compute", lambda: pandas_ageing(inv, credits))
        for col, names in labels.items():
            raw[col] = names[raw[col].to_numpy(np.int64)]
        report = _canonical(raw)
    elif variant in ("duckdb", "duckdb-e2e"):
        import duckdb

        con = duckdb.connect()
        if variant == "duckdb":
            inv, credits = plain_frames(folder)
            con.register("invoices", inv)
            con.register("credits", credits)
            loaded_rss = _rss_mb()
            for _ in range(repeat):
                raw = timed("compute", lambda: duckdb_ageing(con))
            report = _canonical(raw)
        else:
            loaded_rss = base_rss
            sources = duckdb_parquet_sources(folder)
            for _ in range(repeat):
                raw = timed("e2e", lambda: duckdb_ageing(con, *sources))
            report = _canonical(raw)
    else:
        raise SystemExit(f"unknown variant {variant!r}")
    report.to_parquet(out)
    return {"variant": variant, "times": times, "rss_start_mb": base_rss, "rss_loaded_mb": loaded_rss,
            "rss_peak_mb": _rss_mb(), "groups": len(report)}


# ---------------------------------------------------------------------------- Polars (issue 16)
def polars_ageing(inv: Any, credits: Any, as_of: dt.date = AS_OF_DATE) -> pd.DataFrame:
    """The same report in Polars (lazy): references summed per invoice, one sort, the FIFO running total and the
    group's applied total as window expressions, one join to the credit totals, one group_by."""
    import polars as pl

    keys = ["customer_id", "currency"]
    rate = Fraction(RATE)
    num, den = rate.numerator, rate.denominator * BASIS
    day = pl.lit(as_of)
    c = credits.lazy().filter(pl.col("date") <= day)
    totals = c.group_by(keys).agg(pl.col("amount_minor").sum().alias("total"))
    refs = (c.filter(pl.col("invoice_ref").is_not_null())
            .group_by(["invoice_ref", *keys]).agg(pl.col("amount_minor").sum().alias("referenced")))
    items = (inv.lazy().filter(pl.col("invoice_date") <= day)
             .join(refs, left_on=["invoice_no", *keys], right_on=["invoice_ref", *keys], how="left")
             .with_columns(applied=pl.min_horizontal("amount_minor", pl.col("referenced").fill_null(0)))
             .with_columns(remaining=pl.col("amount_minor") - pl.col("applied"))
             .sort([*keys, "disputed", "due_date", "invoice_date", "invoice_no"])
             .with_columns(cum=pl.col("remaining").cum_sum().over(keys), applied_g=pl.col("applied").sum().over(keys))
             .join(totals, on=keys, how="left")
             .with_columns(pool=pl.col("total").fill_null(0) - pl.col("applied_g"))
             .with_columns(open=pl.min_horizontal(pl.max_horizontal(pl.col("cum") - pl.col("pool"), 0),
                                                  pl.col("remaining")),
                           age=(day - pl.col("due_date")).dt.total_days()))
    b = BOUNDS
    conds = ([pl.col("age") <= b[0]] + [(pl.col("age") > lo) & (pl.col("age") <= hi) for lo, hi in pairwise(b)]
             + [pl.col("age") > b[-1]])
    open_ = pl.col("open")
    per = items.group_by(keys).agg(
        *[pl.when(cond).then(open_).otherwise(0).sum().alias(f"b{j}") for j, cond in enumerate(conds)],
        open_.sum().alias("open"), pl.col("remaining").sum().alias("rem"), pl.col("pool").first(),
        pl.when(pl.col("disputed")).then(open_).otherwise(0).sum().alias("disputed"),
        pl.when(pl.col("disputed")).then(0).otherwise(
            (2 * open_ * pl.max_horizontal(pl.col("age"), 0) * num + den) // (2 * den)).sum().alias("interest"))
    out = (per.join(totals, on=keys, how="full", coalesce=True)
           .with_columns(unapplied=pl.max_horizontal(pl.coalesce("pool", "total") - pl.col("rem").fill_null(0), 0))
           .select(*keys, *[pl.col(f"b{j}").fill_null(0) for j in range(len(b) + 1)], pl.col("open").fill_null(0),
                   "unapplied", pl.col("disputed").fill_null(0), pl.col("interest").fill_null(0)))
    return out.collect().to_pandas()


def polars_parquet(folder: Path) -> tuple[Any, Any]:
    """Polars from the Parquet files: decimals → int64 minor units, payments and credit notes as one table."""
    import polars as pl

    def minor(frame: Any) -> Any:
        cents = (pl.col("amount") * 100).cast(pl.Int64)
        return frame.with_columns(amount_minor=pl.when(pl.col("currency") == "JPY").then(cents // 100)
                                  .otherwise(cents)).drop("amount")

    inv = minor(pl.read_parquet(folder / "invoices.parquet", columns=[*COLUMNS["invoices"][:-2], "disputed"]))
    pay = minor(pl.read_parquet(folder / "payments.parquet")).rename({"payment_date": "date"})
    cn = minor(pl.read_parquet(folder / "credit_notes.parquet"))
    cols = ["customer_id", "currency", "amount_minor", "date", "invoice_ref"]
    return inv, pl.concat([pay.select(cols), cn.select(cols)])


# ---------------------------------------------------------------------------- shapes we did not design (issue 16)
def _runs(frames: Any, con: Any, inv_pl: Any, cr_pl: Any, inv_p: pd.DataFrame, cr_p: pd.DataFrame,
          sources: tuple[str, str, str], folder: Path) -> dict[str, Any]:
    """What each tool runs: compute on tables already in memory, and end to end from the Parquet files."""
    from xlcredit import age_frames
    from xlcredit.bulk import available_cpus
    from xlcredit.core.fast.ageing import age_bulk, kernel_threads, prepare_bulk

    paths = [folder / f"{t}.parquet" for t in ("invoices", "payments", "credit_notes")]
    threads = kernel_threads(len(frames.invoices) + len(frames.credits), None, available_cpus())  # as age_frames
    # the per customer-currency figures only (items=False), as age_frames asks and as DuckDB, Polars and pandas
    # compute them (until session 8 these rows also made the per-item arrays)
    return {
        "xlcredit": lambda: age_bulk((frames.invoices, frames.credits), AS_OF_DATE, kernel="numba", threads=threads,
                                     items=False),
        "xlcredit-numpy": lambda: age_bulk(prepare_bulk(frames.invoices, frames.credits), AS_OF_DATE, items=False),
        "duckdb": lambda: duckdb_ageing(con),
        "polars": lambda: polars_ageing(inv_pl, cr_pl),
        "pandas": lambda: pandas_ageing(inv_p, cr_p),
        "xlcredit-e2e": lambda: age_frames(paths[0], paths[1], credit_notes=paths[2], as_of=AS_OF_DATE,
                                           money="minor", kernel="numba"),
        "duckdb-e2e": lambda: duckdb_ageing(con, *sources),
        "polars-e2e": lambda: polars_ageing(*polars_parquet(folder)),
    }


#: The tools of the issue-16 runs (``--tools``); each with an ``-e2e`` row from Parquet runs that row too.
TOOLS = ("xlcredit", "xlcredit-numpy", "duckdb", "polars", "pandas")


def run_shapes(shapes: list[str], repeat: int, n_invoices: int, n_payments: int, tools: list[str],
               summary_out: Path | None = None) -> int:
    """Each shape: every tool timed interleaved in this one process, median of ``repeat``; reports cross-checked.
    ``summary_out``: each shape's medians (seconds) and the peak RSS also written there as JSON (``--targets``)."""
    import duckdb
    import polars as pl

    from xlcredit.core.fast.ageing import frames_to_arrays

    print(f"shapes {', '.join(shapes)}: {n_invoices:,} invoices, {n_payments:,} payments, "
          f"{n_invoices // 20:,} credit notes each; as of {AS_OF}; interleaved in one process, median of {repeat}; "
          f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(_machine())
    failed = False
    summary: list[dict[str, Any]] = []
    for shape in shapes:
        folder = _ensure_shape(shape, n_invoices, n_payments)
        frames = frames_to_arrays(*read_frames(folder))
        others = bool({"duckdb", "polars", "pandas"} & set(tools))  # their inputs only when they run
        # the other tools get integer keys too, made once here, outside the timed part, as xlcredit's own
        # frames_to_arrays is: customer and currency codes, invoice numbers as their rank in text order,
        # references as the referenced number's code (-1: none) — their joins and partitions are on integers
        inv_p, cr_p, labels = coded_frames(*plain_frames(folder)) if others else (None, None, {})
        con = duckdb.connect()
        if "duckdb" in tools:  # DuckDB's own tables (scanning the pandas frames was slower)
            con.register("inv_frame", inv_p)
            con.register("cr_frame", cr_p)
            con.execute("CREATE TABLE invoices AS SELECT * FROM inv_frame")
            con.execute("CREATE TABLE credits AS SELECT * FROM cr_frame")
            con.unregister("inv_frame")
            con.unregister("cr_frame")
        sources = duckdb_parquet_sources(folder)
        inv_pl = cr_pl = None
        if "polars" in tools:
            inv_pl, cr_pl = pl.from_pandas(inv_p), pl.from_pandas(cr_p)  # integer keys, as DuckDB's
            inv_pl = inv_pl.with_columns(pl.col("invoice_date", "due_date").cast(pl.Date))
            cr_pl = cr_pl.with_columns(pl.col("date").cast(pl.Date))
        runs = _runs(frames, con, inv_pl, cr_pl, inv_p, cr_p, sources, folder)
        runs = {k: v for k, v in runs.items() if k.removesuffix("-e2e") in tools}
        times: dict[str, list[float]] = {k: [] for k in runs}
        cpu: dict[str, list[float]] = {k: [] for k in runs}
        faults: dict[str, list[int]] = {k: [] for k in runs}
        out: dict[str, Any] = {}
        first_call = ""
        if "xlcredit" in runs:  # numba's machine code loaded (or compiled) once, before the timed runs
            t0 = time.perf_counter()
            runs["xlcredit"]()
            first_call = f"; numba kernel's first call in this process (untimed) {_fmt_ms(time.perf_counter() - t0)}"
        load_before = os.getloadavg()
        for _ in range(repeat):
            for name, fn in runs.items():
                out.pop(name, None)  # let the previous answer go before the next run
                f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                t0, c0 = time.perf_counter(), time.process_time()
                out[name] = fn()
                times[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
                faults[name].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
        load_after = os.getloadavg()
        reports = {}
        for name, value in out.items():
            if name in ("xlcredit", "xlcredit-numpy"):
                reports[name] = report_bulk(frames, value)
            elif name == "xlcredit-e2e":
                bucket_labels = _policy_labels()
                reports[name] = _canonical(value.rename(columns={lab: f"b{j}" for j, lab in enumerate(bucket_labels)}))
            elif name in ("duckdb", "polars", "pandas"):  # integer keys back to the ids, outside the timed part
                value = value.copy()
                for col, names in labels.items():
                    value[col] = names[value[col].to_numpy(np.int64)]
                reports[name] = _canonical(value)
            else:
                reports[name] = _canonical(value)
        ref = reports[next(iter(reports))]
        agree = all(r.equals(ref) for r in reports.values())
        failed |= not agree
        base = {"compute": statistics.median(times["xlcredit"]) if "xlcredit" in times else None,
                "e2e": statistics.median(times["xlcredit-e2e"]) if "xlcredit-e2e" in times else None}
        print(f"\n{shape} customers ({len(ref):,} customer-currency rows); load average (1/5/15 min) "
              f"{_load(load_before)} before, {_load(load_after)} after{first_call}")
        print(f"  {'tool':<16}{'median':>11}{'min':>11}{'× xlcredit':>12}{'xlcredit ÷ it':>15}{'CPU median':>13}"
              f"{'page faults':>13}")
        for name, values in times.items():
            med = statistics.median(values)
            b = base["e2e" if name.endswith("-e2e") else "compute"]
            ratio = f"{med / b:11.2f}×{b / med:14.2f}" if b else f"{'-':>12}{'-':>14}"
            print(f"  {name:<16}{_fmt_ms(med):>11}{_fmt_ms(min(values)):>11}{ratio}"
                  f"{_fmt_ms(statistics.median(cpu[name])):>13}{statistics.median(faults[name]):>13,.0f}")
        totals = ref[REPORT[2:]].sum()
        print(f"  {'all ' + str(len(reports)) + ' reports agree to the cent' if agree else 'MISMATCH between tools'}"
              f" (open {totals['open']:,}, unapplied {totals['unapplied']:,}, interest {totals['interest']:,}"
              f" minor units); process peak RSS {_rss_mb():,.0f} MB")
        if not agree:
            for name, r in reports.items():
                if not r.equals(ref):
                    print(f"  MISMATCH: {name} differs from {next(iter(reports))}", file=sys.stderr)
        summary.append({"shape": shape, "invoices": n_invoices, "agree": agree, "rss_peak_mb": _rss_mb(),
                        "median_s": {name: statistics.median(values) for name, values in times.items()}})
        con.close()
    if summary_out is not None:
        summary_out.write_text(json.dumps(summary))
    return 1 if failed else 0


def run_dask(shape: str, repeat: int, n_invoices: int, workers: int) -> int:
    """In-process engine vs a local Dask cluster (``workers`` processes, one thread each) on one shape, interleaved.

    The cluster is started once (its start-up is timed apart); each run reads the Parquet files, ages, and
    returns the answer in minor units. Both answers must be equal cell by cell. Prints this process's peak
    RSS and each worker's.
    """
    from dask.distributed import Client, LocalCluster

    from xlcredit import age_frames

    folder = _ensure_shape(shape, n_invoices)
    paths = [folder / f"{t}.parquet" for t in ("invoices", "payments", "credit_notes")]
    print(f"dask vs in-process, shape {shape}: {n_invoices:,} invoices, {n_invoices * 7 // 10:,} payments, "
          f"{n_invoices // 20:,} credit notes; median of {repeat}; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(_machine())
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    print(f"LocalCluster of {workers} worker processes × 1 thread started in {time.perf_counter() - t0:.1f} s")
    runs = {
        "in-process": lambda: age_frames(paths[0], paths[1], credit_notes=paths[2], as_of=AS_OF_DATE, money="minor"),
        "dask": lambda: age_frames(paths[0], paths[1], credit_notes=paths[2], as_of=AS_OF_DATE, money="minor",
                                   engine="dask", scheduler=cluster.scheduler_address),
    }
    times: dict[str, list[float]] = {k: [] for k in runs}
    out: dict[str, Any] = {}
    load_before = os.getloadavg()
    try:
        for _ in range(repeat):
            for name, fn in runs.items():
                out.pop(name, None)
                t1 = time.perf_counter()
                out[name] = fn()
                times[name].append(time.perf_counter() - t1)
        worker_rss = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    finally:
        client.close()
        cluster.close()
    load_after = os.getloadavg()
    a, b = out["in-process"], out["dask"]
    same = a.shape == b.shape and bool((a.to_numpy() == b.to_numpy()).all())
    print(f"load average {_load(load_before)} before, {_load(load_after)} after")
    base = statistics.median(times["in-process"])
    for name, values in times.items():
        med = statistics.median(values)
        print(f"  {name:<12}{_fmt_ms(med):>11} median{_fmt_ms(min(values)):>11} min{med / base:8.2f}× in-process")
    print(f"  {'equal to the cent' if same else 'MISMATCH'} ({len(a):,} customer-currency rows, open "
          f"{int(a['open'].sum()):,} minor units); peak RSS: this process {_rss_mb():,.0f} MB, workers "
          + ", ".join(f"{v:,.0f} MB" for v in worker_rss.values()))
    return 0 if same else 1


def _ensure_shape(shape: str, n_invoices: int, n_payments: int | None = None) -> Path:
    """The shape's folder, its Parquet files written first when missing (payments default: 70 % of the invoices)
    — by ``generate.py`` in a child process, so that the writing's memory does not count in the peak RSS this
    process then prints."""
    folder = HERE / "_data" / f"shape-{shape}-{n_invoices}"
    if not (folder / "invoices.parquet").exists():
        payments = [] if n_payments is None else ["--payments", str(n_payments)]  # generate.py's default: 70 %
        subprocess.run([sys.executable, str(Path(__file__).resolve().parent / "generate.py"), "--shape", shape,
                        "--invoices", str(n_invoices), *payments, "--out", str(folder)], check=True)
    return folder


def run_alone(shape: str, repeat: int, n_invoices: int, kernel: str, summary_out: Path | None = None) -> int:
    """``age_frames`` from the Parquet files in a process of its own (nothing else loaded), median of ``repeat``
    after one untimed call; the same steps timed apart: reading, ``frames_to_arrays``, the kernel. The shape's
    files are generated first when missing. ``summary_out``: the medians (seconds) and peak RSS as JSON."""
    from xlcredit import age_frames, bulk
    from xlcredit.core.fast.ageing import age_bulk, frames_to_arrays, kernel_threads

    folder = _ensure_shape(shape, n_invoices)
    paths = [folder / f"{t}.parquet" for t in ("invoices", "payments", "credit_notes")]
    load_before = os.getloadavg()
    age_frames(paths[0], paths[1], credit_notes=paths[2], as_of=AS_OF_DATE, money="minor", kernel=kernel)
    steps: dict[str, list[float]] = {"age_frames": [], "read": [], "frames_to_arrays": [], "kernel": []}
    cpu: list[float] = []
    faults: list[int] = []
    for _ in range(repeat):
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0, c0 = time.perf_counter(), time.process_time()
        age_frames(paths[0], paths[1], credit_notes=paths[2], as_of=AS_OF_DATE, money="minor", kernel=kernel)
        steps["age_frames"].append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
        t0 = time.perf_counter()
        tables = bulk.read_tables(*paths, pool=bulk.pool_for(*paths))  # into the pool age_frames reads into
        t1 = time.perf_counter()
        threads = kernel_threads(sum(len(t) for t in tables if t is not None), None, bulk.available_cpus())
        frames = frames_to_arrays(*tables, threads=threads)  # the steps as age_frames runs them
        t2 = time.perf_counter()
        age_bulk((frames.invoices, frames.credits), AS_OF_DATE, kernel=kernel, threads=threads, items=False)
        t3 = time.perf_counter()
        for name, value in zip(("read", "frames_to_arrays", "kernel"), (t1 - t0, t2 - t1, t3 - t2), strict=True):
            steps[name].append(value)
        del tables, frames
    print(f"age_frames from Parquet alone, shape {shape}, {n_invoices:,} invoices, kernel={kernel}; median of "
          f"{repeat}; load {_load(load_before)} before, {_load(os.getloadavg())} after; "
          f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    for name, values in steps.items():
        print(f"  {name:<18}{_fmt_ms(statistics.median(values)):>11} median{_fmt_ms(min(values)):>11} min")
    print(f"  age_frames CPU median {_fmt_ms(statistics.median(cpu))}, minor page faults median "
          f"{statistics.median(faults):,.0f}; peak RSS {_rss_mb():,.0f} MB")
    if summary_out is not None:
        summary_out.write_text(json.dumps({"shape": shape, "invoices": n_invoices, "rss_peak_mb": _rss_mb(),
                                           "median_s": {k: statistics.median(v) for k, v in steps.items()}}))
    return 0


def run_scaling(shape: str, sizes: list[int], repeat: int, summary_out: Path | None = None) -> int:
    """The compute (``xlcredit``, as the shapes run times it) on ledgers of each size of one shape, interleaved in
    this one process, median of ``repeat``: the sizes see the same minutes of the machine, whose speed drifts by
    10–30 % from one minute (and one process) to the next. Prints each size and its ratio of medians to the first
    size (the one ``--targets`` judges), and the spread of each round's own ratio (``round_ratios`` in the summary)."""
    from xlcredit.bulk import available_cpus
    from xlcredit.core.fast.ageing import age_bulk, frames_to_arrays, kernel_threads

    loaded = {}
    for n in sizes:
        frames = frames_to_arrays(*read_frames(_ensure_shape(shape, n)))
        threads = kernel_threads(len(frames.invoices) + len(frames.credits), None, available_cpus())
        loaded[n] = (frames, threads)
    load_before = os.getloadavg()
    times: dict[int, list[float]] = {n: [] for n in sizes}
    for rnd in range(repeat + 1):  # the first round untimed: numba's machine code and the work arrays
        for n, (frames, threads) in loaded.items():
            t0 = time.perf_counter()
            age_bulk((frames.invoices, frames.credits), AS_OF_DATE, kernel="numba", threads=threads, items=False)
            if rnd:
                times[n].append(time.perf_counter() - t0)
    base = statistics.median(times[sizes[0]])
    print(f"compute on the {shape} shape, sizes interleaved in one process, median of {repeat}; load "
          f"{_load(load_before)} before, {_load(os.getloadavg())} after; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    rounds: dict[int, list[float]] = {}
    for n, values in times.items():
        med = statistics.median(values)
        # each round's own ratio (the sizes a few hundred ms apart): how far the machine's drift moves the ratio
        rounds[n] = [v / b for v, b in zip(values, times[sizes[0]], strict=True)]
        spread = "" if n == sizes[0] else (f"   round by round {min(rounds[n]):.2f}–{max(rounds[n]):.2f}, "
                                           f"median {statistics.median(rounds[n]):.2f}")
        print(f"  {n:>12,} invoices{_fmt_ms(med):>11} median{_fmt_ms(min(values)):>11} min"
              f"{med / base:10.2f} × the {sizes[0]:,}{spread}")
    print(f"  process peak RSS {_rss_mb():,.0f} MB")
    if summary_out is not None:
        summary_out.write_text(json.dumps({"shape": shape, "rss_peak_mb": _rss_mb(),
                                           "median_s": {str(n): statistics.median(v) for n, v in times.items()},
                                           "round_ratios": {str(n): r for n, r in rounds.items()}}))
    return 0


#: Issue 16's item 3, as ``--targets`` judges it: compute at most this share of DuckDB's and of Polars', end to end
#: from Parquet within this many seconds, 5M invoices within this multiple of 1M's compute, 10M within this
#: peak RSS (a 16 GB machine).
TARGET_SHARE, TARGET_E2E_S, TARGET_SCALING, TARGET_RSS_MB = 1 / 3, 0.3, 5.5, 16 * 1024


def judge_targets(shapes: list[dict[str, Any]], scaling: dict[str, Any],
                  ten_m: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """Item 3 from the runs' summaries (``--summary-out``): (target, what was measured, the line, met)."""
    rows = []
    for other, whose in (("duckdb", "DuckDB's"), ("polars", "Polars'")):
        share, shape = max((s["median_s"]["xlcredit"] / s["median_s"][other], s["shape"]) for s in shapes)
        rows.append((f"compute ÷ {whose} (the worst shape)", f"{share:.2f} ({shape})", f"≤ {TARGET_SHARE:.2f}",
                     share <= TARGET_SHARE))
    e2e, shape = max((s["median_s"]["xlcredit-e2e"], s["shape"]) for s in shapes)
    rows.append(("end to end from Parquet (the slowest shape)", f"{e2e * 1e3:,.0f} ms ({shape})",
                 f"≤ {TARGET_E2E_S * 1e3:,.0f} ms", e2e <= TARGET_E2E_S))
    a, b = scaling["median_s"]["1000000"], scaling["median_s"]["5000000"]
    rows.append(("5M ÷ 1M invoices, compute (interleaved)", f"{b / a:.3f} ({a * 1e3:,.1f} → {b * 1e3:,.1f} ms)",
                 f"≤ {TARGET_SCALING}", b / a <= TARGET_SCALING))
    rows.append(("10M invoices from Parquet: peak RSS", f"{ten_m['rss_peak_mb']:,.0f} MB "
                 f"({ten_m['median_s']['age_frames']:.2f} s)", f"< {TARGET_RSS_MB:,} MB (16 GB)",
                 ten_m["rss_peak_mb"] < TARGET_RSS_MB))
    return rows


def run_targets(repeat: int, threads: int = 0) -> int:
    """Issue 16's item 3 in one command: the four shapes (as the default run), then the compute on 1M and 5M
    invoices of the 10k shape interleaved in one process (``--scaling``), then 10M from Parquet alone (peak
    RSS), each in a process of its own; their tables as they print them, then the targets judged. Exit status 1
    when a run fails or its reports disagree; a target not met is printed, not an error. ``threads``: each run's
    ``--threads``."""
    import tempfile

    extra = ["--threads", str(threads)] if threads else []

    runs = [("shapes", ["--repeat", str(repeat), *extra]),
            ("5M against 1M", ["--shapes", "10k", "--scaling", "1000000,5000000", "--repeat", str(repeat + 2),
                               *extra]),
            ("10M", ["--shapes", "10k", "--alone", "numba", "--invoices", "10000000", "--repeat", "3", *extra])]
    got: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in runs:
            out = Path(tmp) / f"{name.replace(' ', '-')}.json"
            print(f"\n== {name}: bench/bench_ageing.py {' '.join(args)}", flush=True)
            rc = subprocess.run([sys.executable, "-u", __file__, *args, "--summary-out", str(out)],
                                check=False).returncode
            if rc != 0 or not out.exists():
                print(f"FAILURE: the {name} run ended with exit status {rc}"
                      f"{'' if rc else ' and wrote no summary'}", file=sys.stderr)
                return 1
            got[name] = json.loads(out.read_text())
    rows = judge_targets(got["shapes"], got["5M against 1M"], got["10M"])
    print(f"\nIssue 16, item 3 ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {_machine()})")
    print(f"  {'target':<46}{'measured':<28}{'line':<24}met")
    for target, measured, line, met in rows:
        print(f"  {target:<46}{measured:<28}{line:<24}{'yes' if met else 'NO'}")
    print(f"  {sum(r[3] for r in rows)} of {len(rows)} met")
    return 0


_JIT_PROBE = """
import time
t0 = time.perf_counter()
import numpy as np
from xlcredit.core.fast.ageing import BulkCredits, BulkInvoices, age_bulk
t1 = time.perf_counter()
import numba
from xlcredit.core.fast import compiled
t2 = time.perf_counter()
print(compiled.warm_up())
t3 = time.perf_counter()
print(f"xlcredit.core {1000 * (t1 - t0):.0f} ms, numba + kernel module {1000 * (t2 - t1):.0f} ms, "
      f"first call {1000 * (t3 - t2):.0f} ms")
"""


def run_jit(times: int) -> int:
    """The compiled kernel's start-up in fresh processes: first with an empty numba cache (it compiles), then
    ``times`` more with the cache it wrote (it loads)."""
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for run in range(times + 1):
            t0 = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", _JIT_PROBE], capture_output=True, text=True, env=env,
                                  cwd=HERE.parent, check=True)
            lines = done.stdout.strip().splitlines()
            label = "cold (empty cache)" if run == 0 else "warm (cached)"
            print(f"{label:<20} process {_fmt_ms(time.perf_counter() - t0)}; {lines[-1]}")
    return 0


def _limit_threads(n: int) -> None:
    """Every tool on ``n`` threads: a comparison at the same CPU budget, less distorted by a busy machine."""
    os.environ["POLARS_MAX_THREADS"] = str(n)  # read when polars is first imported (in run_shapes)
    import duckdb
    import pyarrow as pa

    import xlcredit.bulk

    pa.set_cpu_count(n)
    pa.set_io_thread_count(n)
    duckdb.default_connection().execute(f"SET threads TO {n}")
    _connect = duckdb.connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        con = _connect(*args, **kwargs)
        con.execute(f"SET threads TO {n}")
        return con

    duckdb.connect = connect
    if n == 1:
        def one_by_one(*sources: Any) -> tuple[Any, ...]:
            return tuple(None if src is None else xlcredit.bulk.read_table(src, name)
                         for src, name in zip(sources, ("invoices", "payments", "credit_notes"), strict=False))

        xlcredit.bulk.read_tables = one_by_one  # type: ignore[assignment]


def _load(avg: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.1f}" for x in avg)


def _machine() -> str:
    """CPUs, memory and library versions, for the record."""
    import duckdb
    import polars as pl
    import pyarrow as pa

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} CPUs, {mem:.0f} GB RAM; Python {sys.version.split()[0]}, numpy {np.__version__}, "
            f"pandas {pd.__version__}, pyarrow {pa.__version__}, DuckDB {duckdb.__version__}, Polars {pl.__version__}")


def _policy_labels() -> tuple[str, ...]:
    """The shipped policy's bucket labels (the public API's column names)."""
    from xlcredit.core.policy import Policy

    return Policy().bucket_labels


# ---------------------------------------------------------------------------- driver
def _fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Ageing benchmark: bulk kernel vs pandas vs DuckDB")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--data", type=Path, default=None, help="folder with the Parquet files")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--classic", action="store_true",
                        help="the original run: the project's own ledger, one subprocess per variant")
    parser.add_argument("--shapes", default="1k,10k,100k,200k", help="customer counts of the issue-16 shapes")
    parser.add_argument("--invoices", type=int, default=1_000_000,
                        help="invoices per shape (payments 70 %%); e.g. 5000000 or 10000000 for the big sizes")
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help="xlcredit = the compiled (numba) kernel, xlcredit-numpy = the numpy kernel; a tool's "
                             "from-Parquet row (xlcredit-e2e, duckdb-e2e, polars-e2e) runs with it")
    parser.add_argument("--threads", type=int, default=0,
                        help="limit every tool to this many threads (DuckDB SET threads, POLARS_MAX_THREADS, "
                             "pyarrow's pools; xlcredit then reads its files one after the other): same CPU budget")
    parser.add_argument("--dask", type=int, default=0, metavar="WORKERS",
                        help="instead: in-process vs a local Dask cluster of this many workers (first shape)")
    parser.add_argument("--alone", default="", metavar="KERNEL",
                        help="instead: age_frames from Parquet in this process only (first shape), kernel numba/numpy")
    parser.add_argument("--targets", action="store_true",
                        help="instead: issue 16's item 3 in one command — the four shapes, 1M and 5M invoices, 10M "
                             "from Parquet, each in its own process — then the targets judged")
    parser.add_argument("--scaling", default="", metavar="SIZES",
                        help="instead: the compute on these invoice counts of the first shape (e.g. "
                             "1000000,5000000), interleaved in one process, with the ratios")
    parser.add_argument("--summary-out", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--jit", type=int, default=0, metavar="N",
                        help="instead: the compiled kernel's start-up, cold (empty numba cache) then N times warm")
    args = parser.parse_args(argv)
    unknown = [t for t in args.tools.split(",") if t not in TOOLS]
    if unknown:
        parser.error(f"--tools: {', '.join(map(repr, unknown))} is not a tool here (choose from {', '.join(TOOLS)}; "
                     "a tool's -e2e row runs with it)")
    if args.targets and (args.tools != parser.get_default("tools") or args.shapes != parser.get_default("shapes")
                         or args.invoices != parser.get_default("invoices")):
        parser.error("--targets runs its own shapes, sizes and tools; only --repeat and --threads go with it")
    if args.repeat < 1:
        parser.error(f"--repeat: at least 1 (got {args.repeat})")
    if args.threads:
        _limit_threads(args.threads)
    if args.jit:
        return run_jit(args.jit)
    if args.targets:
        return run_targets(args.repeat, args.threads)
    if args.scaling:
        try:
            sizes = [int(x) for x in args.scaling.split(",")]
        except ValueError:
            parser.error(f"--scaling: invoice counts separated by commas, e.g. 1000000,5000000 (got {args.scaling!r})")
        return run_scaling(args.shapes.split(",")[0], sizes, args.repeat, args.summary_out)
    if args.alone:
        return run_alone(args.shapes.split(",")[0], args.repeat, args.invoices, args.alone, args.summary_out)
    if args.dask:
        return run_dask(args.shapes.split(",")[0], args.repeat, args.invoices, args.dask)
    if not args.classic and not args.worker:
        return run_shapes(args.shapes.split(","), args.repeat, args.invoices, args.invoices * 7 // 10,
                          args.tools.split(","), args.summary_out)
    folder = args.data or HERE / "_data" / f"scale-{args.scale:g}"

    if args.worker:
        print(json.dumps(worker(args.worker, folder, args.repeat, args.out)))
        return 0

    if not (folder / "invoices.parquet").exists():
        import generate

        generate.main(["--scale", str(args.scale), "--out", str(folder)])
    meta = json.loads((folder / "meta.json").read_text()) if (folder / "meta.json").exists() else {}
    print(f"data: {folder} ({meta.get('rows_invoices', '?'):,} invoices, {meta.get('rows_payments', '?'):,} payments,"
          f" {meta.get('rows_credit_notes', '?'):,} credit notes); as of {AS_OF}; {os.cpu_count()} CPUs;"
          f" repeat {args.repeat} (median shown)")
    results: dict[str, dict[str, Any]] = {}
    reports: dict[str, pd.DataFrame] = {}
    for variant in args.variants.split(","):
        out = folder / f"report-{variant}.parquet"
        proc = subprocess.run([sys.executable, __file__, "--worker", variant, "--data", str(folder),
                               "--repeat", str(args.repeat), "--out", str(out)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr, file=sys.stderr)
            print(f"MISMATCH/FAILURE: variant {variant} failed (exit {proc.returncode})", file=sys.stderr)
            return 1
        results[variant] = json.loads(proc.stdout.strip().splitlines()[-1])
        reports[variant] = pd.read_parquet(out)

    base = statistics.median(results["bulk"]["times"]["kernel"]) if "bulk" in results else None
    print(f"\n{'variant':<14}{'step':<9}{'median':>11}{'min':>11}{'first':>11}{'× bulk kernel':>15}"
          f"{'peak RSS':>11}{'Δ loaded':>10}")
    for variant, res in results.items():
        for step, values in res["times"].items():
            med = statistics.median(values)
            ratio = f"{med / base:13.1f}×" if base else "             -"
            print(f"{variant:<14}{step:<9}{_fmt_ms(med):>11}{_fmt_ms(min(values)):>11}{_fmt_ms(values[0]):>11}"
                  f"{ratio:>15}{res['rss_peak_mb']:8.0f} MB{res['rss_peak_mb'] - res['rss_loaded_mb']:7.0f} MB")

    # exact agreement, cell by cell
    names = list(reports)
    ok = True
    ref_name = names[0]
    for name in names[1:]:
        a, b = reports[ref_name], reports[name]
        if a.shape != b.shape or not (a[["customer_id", "currency"]].equals(b[["customer_id", "currency"]])):
            print(f"MISMATCH: {ref_name} has {len(a)} groups, {name} has {len(b)}", file=sys.stderr)
            ok = False
            continue
        diff = (a[REPORT[2:]].to_numpy() != b[REPORT[2:]].to_numpy())
        if diff.any():
            rows, cols = np.nonzero(diff)
            print(f"MISMATCH: {ref_name} vs {name}: {diff.sum()} cells differ, e.g. "
                  f"{a.iloc[rows[0]]['customer_id']}/{a.iloc[rows[0]]['currency']} {REPORT[2 + cols[0]]}: "
                  f"{a.iloc[rows[0], 2 + cols[0]]} vs {b.iloc[rows[0], 2 + cols[0]]}", file=sys.stderr)
            ok = False
    if not ok:
        return 1
    totals = reports[ref_name][REPORT[2:]].sum()
    print(f"\nall {len(names)} reports agree to the cent ({len(reports[ref_name]):,} customer-currency rows; "
          f"open {totals['open']:,}, unapplied {totals['unapplied']:,}, interest {totals['interest']:,} minor units)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
