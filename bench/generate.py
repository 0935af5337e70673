"""Seeded synthetic ledger for the ageing benchmark: customers, invoices, payments, credit notes → Parquet.

Full scale (``--scale 1``): 10,000 customers, 1,000,000 invoices, 700,000 payments, 20,000 credit
notes, four currencies (EUR, USD, GBP, JPY), from 2024-11-01 to a little past the as-of date
2026-10-31 (some documents are dated after it and must be left out). It contains what real
ledgers contain: remittances that settle one invoice or a run of several (about 60 % name an
invoice, the rest name none), partial payments (an invoice paid in two instalments), over-payments
(unapplied cash), credit notes with and without a reference, references to unknown invoice
numbers and to another customer's invoice, disputed invoices, customers who stop paying; about a
tenth of the invoices are still open at the as-of date. Invoices are numbered in date order
(INV0000001 …), as accounting systems issue them. Same seed and scale → byte-identical column values.

Columns are the documented ones (``xlcredit.io.ledger.LEDGER_COLUMNS``); amounts are exact
``decimal128(18, 2)`` (JPY amounts are whole yen), dates are ``date32``.

    .venv/bin/python bench/generate.py                 # full size into bench/_data/
    .venv/bin/python bench/generate.py --scale 0.01    # 10k invoices, for a quick run
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DATA_DIR = Path(__file__).resolve().parent / "_data"
AS_OF = dt.date(2026, 10, 31)
START = dt.date(2024, 11, 1)
EPOCH = dt.date(1970, 1, 1)
CURRENCIES = np.array(["EUR", "USD", "GBP", "JPY"])
CURRENCY_WEIGHTS = np.array([0.55, 0.25, 0.15, 0.05])
JPY = 3
NET_DAYS = np.array([30, 60, 90])


def _text(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """``prefix`` + zero-padded numbers (INV0000042) as an object array, without a loop over rows."""
    if numbers.size == 0:
        return np.zeros(0, dtype=object)
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width)).astype(object)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    return pa.array(_text(prefix, numbers, width), pa.string())


def _decimal(cents: np.ndarray) -> pa.Array:
    """Exact decimal128(18, 2) column from int64 hundredths (two's complement words, no float)."""
    words = np.empty((cents.shape[0], 2), "<i8")
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(pa.decimal128(18, 2), cents.shape[0], [None, pa.py_buffer(words.tobytes())])


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), pa.int32()).cast(pa.date32())


def generate(scale: float = 1.0, seed: int = 20261031) -> dict[str, pa.Table]:
    """Build the three ledger tables (and a small customers table) deterministically."""
    rng = np.random.default_rng(seed)
    n_cust = max(20, round(10_000 * scale))
    n_inv = max(200, round(1_000_000 * scale))
    n_pay = max(140, round(700_000 * scale))
    n_cn = max(10, round(20_000 * scale))
    start = (START - EPOCH).days
    as_of = (AS_OF - EPOCH).days
    last = as_of + 20  # the extract was taken a little after the as-of date

    # customers: home currency, a second currency for some, terms, lateness, size
    home = rng.choice(len(CURRENCIES), n_cust, p=CURRENCY_WEIGHTS)
    second = (home + rng.integers(1, len(CURRENCIES), n_cust)) % len(CURRENCIES)
    dual = rng.random(n_cust) < 0.10
    net = NET_DAYS[rng.choice(3, n_cust, p=[0.3, 0.5, 0.2])]
    lateness = rng.exponential(12.0, n_cust)
    stopped = rng.random(n_cust) < 0.04  # customers in trouble: many recent invoices left open
    size = rng.lognormal(0.0, 1.0, n_cust)

    # invoices, numbered in date order (as an accounting system issues them)
    cust = rng.choice(n_cust, n_inv, p=size / size.sum())
    inv_date = np.sort(rng.integers(start, last + 1, n_inv))
    ccy = np.where(dual[cust] & (rng.random(n_inv) < 0.3), second[cust], home[cust])
    due = inv_date + net[cust]
    major = np.round(rng.lognormal(np.log(2500.0), 1.1, n_inv), 2)
    cents = np.maximum(np.round(major * 100).astype(np.int64), 100)
    cents = np.where(ccy == JPY, cents * 150 // 100 * 100, cents)  # whole yen (1 EUR ≈ 150 JPY)
    cents = np.maximum(cents, 100)
    disputed = rng.random(n_inv) < 0.02

    # when each invoice would be paid; what falls due by the extract date is paid, unless never
    delay = rng.gamma(2.0, lateness[cust] / 2.0 + 0.5) - 5.0
    pay_day = np.maximum(due + np.round(delay).astype(np.int64), inv_date + 1)
    never = (disputed & (rng.random(n_inv) < 0.6)) | (stopped[cust] & (inv_date > as_of - 200))
    never |= rng.random(n_inv) < 0.01
    paid = np.flatnonzero(~never & (pay_day <= last))

    # remittances: each payment settles a run of one or more invoices of one customer and currency
    seq = paid[np.lexsort((pay_day[paid], ccy[paid], cust[paid]))]
    pair = cust[seq] * len(CURRENCIES) + ccy[seq]
    cut = np.ones(seq.shape[0], bool)
    cut[1:] = pair[1:] != pair[:-1]
    n_split = round(n_pay * 0.06)
    n_lumps = min(max(n_pay - n_split, int(cut.sum())), seq.shape[0])
    free = np.flatnonzero(~cut)
    cut[rng.choice(free, n_lumps - int(cut.sum()), replace=False)] = True
    starts = np.flatnonzero(cut)
    size = np.diff(np.append(starts, seq.shape[0]))
    lump_amount = np.add.reduceat(cents[seq], starts)
    lump_date = np.maximum.reduceat(pay_day[seq], starts)
    lump_inv = seq[starts]  # the first invoice of the run (named when the payment carries a reference)
    over = rng.random(n_lumps) < 0.02
    lump_amount = np.where(over, lump_amount + np.maximum(lump_amount // 2000 * 100, 100), lump_amount)
    with_ref = np.where(size == 1, rng.random(n_lumps) < 0.7, rng.random(n_lumps) < 0.25)

    # some single-invoice payments come in two instalments
    n_split = n_pay - n_lumps
    singles = np.flatnonzero(size == 1)
    split_at = rng.choice(singles, min(n_split, singles.shape[0]), replace=False)
    share = rng.uniform(0.2, 0.8, split_at.shape[0])
    first_part = np.clip((lump_amount[split_at] * share).astype(np.int64) // 100 * 100, 100,
                         np.maximum(lump_amount[split_at] - 100, 100))
    second_part = lump_amount[split_at] - first_part
    lump_amount[split_at] = first_part
    first_date = lump_date.copy()
    first_date[split_at] -= 20
    pay_inv = np.concatenate([lump_inv, lump_inv[split_at]])
    pay_amount = np.maximum(np.concatenate([lump_amount, second_part]), 1)
    pay_date = np.concatenate([first_date, lump_date[split_at] + rng.integers(7, 45, split_at.shape[0])])
    pay_date = np.maximum(np.minimum(pay_date, last), inv_date[pay_inv])
    with_ref = np.concatenate([with_ref, rng.random(split_at.shape[0]) < 0.8])
    n_pay = pay_inv.shape[0]
    pay_cust = cust[pay_inv]
    pay_ccy = ccy[pay_inv]
    # a few references are wrong: unknown numbers, another customer's invoice
    ref_no = pay_inv.copy()
    unknown = with_ref & (rng.random(n_pay) < 0.002)
    foreign = with_ref & ~unknown & (rng.random(n_pay) < 0.0005)
    ref_no[foreign] = rng.integers(0, n_inv, int(foreign.sum()))
    by_date = np.argsort(pay_date, kind="stable")

    inv_no = _ids("INV", np.arange(1, n_inv + 1), 7)
    ref_text = _text("INV", ref_no + 1, 7)
    ref_text[unknown] = _text("INV9", rng.integers(0, 10**6, int(unknown.sum())), 6)
    ref_text[~with_ref] = None

    # credit notes: returns and price corrections, mostly against a named invoice
    cn_inv = rng.integers(0, n_inv, n_cn)
    cn_amount = np.maximum((cents[cn_inv] * rng.uniform(0.05, 1.0, n_cn)).astype(np.int64), 1)
    cn_amount = np.where(ccy[cn_inv] == JPY, np.maximum(cn_amount // 100 * 100, 100), cn_amount)
    cn_date = np.minimum(inv_date[cn_inv] + rng.integers(1, 60, n_cn), last)
    cn_ref = _text("INV", cn_inv + 1, 7)
    cn_ref[rng.random(n_cn) < 0.2] = None
    cn_order = np.argsort(cn_date, kind="stable")

    width = len(str(n_cust))
    cust_ids = _text("C", np.arange(1, n_cust + 1), max(5, width))
    invoices = pa.table({
        "customer_id": pa.array(cust_ids[cust].astype(object), pa.string()),
        "invoice_no": inv_no,
        "currency": pa.array(CURRENCIES[ccy].astype(object), pa.string()),
        "amount": _decimal(cents),
        "invoice_date": _dates(inv_date),
        "due_date": _dates(due),
        "terms": pa.array(np.char.add("Net ", net[cust].astype(str)).astype(object), pa.string()),
        "disputed": pa.array(disputed),
    })
    payments = pa.table({
        "payment_id": _ids("PAY", np.arange(1, n_pay + 1), 7),
        "customer_id": pa.array(cust_ids[pay_cust[by_date]].astype(object), pa.string()),
        "payment_date": _dates(pay_date[by_date]),
        "amount": _decimal(pay_amount[by_date]),
        "currency": pa.array(CURRENCIES[pay_ccy[by_date]].astype(object), pa.string()),
        "invoice_ref": pa.array(ref_text[by_date], pa.string()),
    })
    credit_notes = pa.table({
        "credit_note_no": _ids("CN", np.arange(1, n_cn + 1), 6),
        "customer_id": pa.array(cust_ids[cust[cn_inv[cn_order]]].astype(object), pa.string()),
        "date": _dates(cn_date[cn_order]),
        "amount": _decimal(cn_amount[cn_order]),
        "currency": pa.array(CURRENCIES[ccy[cn_inv[cn_order]]].astype(object), pa.string()),
        "invoice_ref": pa.array(cn_ref[cn_order], pa.string()),
    })
    customers = pa.table({
        "customer_id": pa.array(cust_ids.astype(object), pa.string()),
        "currency": pa.array(CURRENCIES[home].astype(object), pa.string()),
    })
    return {"invoices": invoices, "payments": payments, "credit_notes": credit_notes, "customers": customers}


SHAPES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "200k": 200_000}


def generate_shape(n_customers: int, n_invoices: int = 1_000_000, n_payments: int = 700_000,
                   seed: int = 16) -> dict[str, pa.Table]:
    """A ledger shaped as we did NOT design for (issue 16), from its own seeded generator.

    Rows shuffled (no document order), payment terms mixed within a customer (0/14/30/45/60/90 days, so
    due dates are not sorted by invoice date), ``n_customers`` customers with 1–2 of five currencies
    (EUR, USD, GBP, JPY, CHF), heavy partial payments (half the referenced payments pay 5–95 % of the
    invoice, some invoices get several), pool payments naming no invoice, credit notes on 5 % of the
    invoices, 2 % disputed, invoice numbers not in row order.
    """
    rng = np.random.default_rng(seed)
    ccys = np.array(["EUR", "USD", "GBP", "JPY", "CHF"])
    start, as_of = (START - EPOCH).days, (AS_OF - EPOCH).days
    home = rng.choice(5, n_customers, p=[0.5, 0.25, 0.12, 0.05, 0.08])
    second = (home + rng.integers(1, 5, n_customers)) % 5
    cust = rng.zipf(1.3, n_invoices) % n_customers  # a few big customers, a long tail
    cust = np.where(rng.random(n_invoices) < 0.5, rng.integers(0, n_customers, n_invoices), cust)
    ccy = np.where(rng.random(n_invoices) < 0.15, second[cust], home[cust])
    inv_date = rng.integers(start, as_of + 20, n_invoices)
    terms = rng.choice(np.array([0, 14, 30, 45, 60, 90]), n_invoices)
    due = inv_date + terms
    cents = np.round(rng.lognormal(11.0, 1.4, n_invoices)).astype(np.int64) + 100
    cents = np.where(ccy == 3, cents // 100 * 100, cents)  # JPY: whole yen
    numbers = np.empty(n_invoices, np.int64)
    numbers[np.argsort(inv_date, kind="stable")] = np.arange(1, n_invoices + 1)  # issued in date order
    disputed = rng.random(n_invoices) < 0.02

    # payments: 60 % name an invoice (half of them partial), 40 % go to the pool of a customer-currency
    named = rng.random(n_payments) < 0.6
    target = rng.integers(0, n_invoices, n_payments)
    frac = np.where(rng.random(n_payments) < 0.5, rng.uniform(0.05, 0.95, n_payments), 1.0)
    pay_cents = np.maximum((cents[target] * frac).astype(np.int64), 1)
    pool_cents = np.round(rng.lognormal(10.5, 1.4, n_payments)).astype(np.int64) + 100
    pay_cents = np.where(named, pay_cents, pool_cents)
    pay_ccy = ccy[target]
    pay_cents = np.where(pay_ccy == 3, np.maximum(pay_cents // 100, 1) * 100, pay_cents)
    pay_date = np.minimum(inv_date[target] + rng.integers(0, 150, n_payments), as_of + 20)
    n_cn = n_invoices // 20
    cn_target = rng.integers(0, n_invoices, n_cn)
    cn_named = rng.random(n_cn) < 0.7
    cn_cents = np.maximum((cents[cn_target] * rng.uniform(0.02, 0.5, n_cn)).astype(np.int64), 1)
    cn_ccy = ccy[cn_target]
    cn_cents = np.where(cn_ccy == 3, np.maximum(cn_cents // 100, 1) * 100, cn_cents)
    cn_date = np.minimum(inv_date[cn_target] + rng.integers(0, 60, n_cn), as_of + 20)

    def cust_ids(codes: np.ndarray) -> pa.Array:
        return pa.array(_text("C", codes, 6), pa.string())

    def refs(numbers_: np.ndarray, keep: np.ndarray) -> pa.Array:
        text = _text("INV", numbers_, 8)
        text[~keep] = None
        return pa.array(text, pa.string())

    pi, pp, pc = rng.permutation(n_invoices), rng.permutation(n_payments), rng.permutation(n_cn)
    invoices = pa.table({
        "customer_id": cust_ids(cust[pi]), "invoice_no": _ids("INV", numbers[pi], 8),
        "currency": pa.array(ccys[ccy[pi]]), "amount": _decimal(cents[pi]),
        "invoice_date": _dates(inv_date[pi]), "due_date": _dates(due[pi]),
        "terms": pa.array(np.char.add("Net ", terms[pi].astype(str))), "disputed": pa.array(disputed[pi]),
    })
    payments = pa.table({
        "customer_id": cust_ids(cust[target][pp]), "payment_date": _dates(pay_date[pp]),
        "amount": _decimal(pay_cents[pp]), "currency": pa.array(ccys[pay_ccy[pp]]),
        "invoice_ref": refs(numbers[target][pp], named[pp]),
    })
    credit_notes = pa.table({
        "customer_id": cust_ids(cust[cn_target][pc]), "date": _dates(cn_date[pc]),
        "amount": _decimal(cn_cents[pc]), "currency": pa.array(ccys[cn_ccy[pc]]),
        "invoice_ref": refs(numbers[cn_target][pc], cn_named[pc]),
    })
    return {"invoices": invoices, "payments": payments, "credit_notes": credit_notes}


def write(tables: dict[str, pa.Table], out: Path, meta: dict) -> None:
    """Write each table as ``<name>.parquet`` (zstd) and ``meta.json`` next to them."""
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, out / f"{name}.parquet", compression="zstd")
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 1M invoices; 0.01 = 10k")
    parser.add_argument("--seed", type=int, default=20261031)
    parser.add_argument("--out", type=Path, default=None, help="folder (default bench/_data/scale-<scale>)")
    parser.add_argument("--shape", choices=sorted(SHAPES), default=None,
                        help="instead: an issue-16 shape (generate_shape) of --invoices invoices and --payments "
                             "payments (default 70 %% of the invoices), into --out (required)")
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--payments", type=int, default=None)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    if args.shape:
        if args.out is None:
            parser.error("--shape: --out names the folder to write")
        payments = args.invoices * 7 // 10 if args.payments is None else args.payments
        tables = generate_shape(SHAPES[args.shape], args.invoices, payments)
        write(tables, args.out, {"shape": args.shape, "customers": SHAPES[args.shape], "invoices": args.invoices})
        print(f"wrote {args.out} in {time.perf_counter() - t0:.1f} s: "
              + ", ".join(f"{v.num_rows:,} {k}" for k, v in tables.items()))
        return 0
    out = args.out or DATA_DIR / f"scale-{args.scale:g}"
    tables = generate(args.scale, args.seed)
    meta = {"seed": args.seed, "scale": args.scale, "as_of": AS_OF.isoformat(),
            **{f"rows_{k}": v.num_rows for k, v in tables.items()}}
    write(tables, out, meta)
    print(f"wrote {out} in {time.perf_counter() - t0:.1f} s: "
          + ", ".join(f"{v.num_rows:,} {k}" for k, v in tables.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
