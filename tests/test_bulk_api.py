"""The public bulk API ``xlcredit.age_frames``: same figures as the Decimal reference, from any input form.

Worked example (simple late interest, actual/365, as the reference ``late_interest`` and the
German BGB §288 calculators compute it): 1,000.00 EUR open 30 days past due at 8 % a year →
1000 × 0.08 × 30 / 365 = 6.5753… → 6.58 EUR, rounded half up once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import xlcredit
from xlcredit import age_frames
from xlcredit.core.ageing import age_ledger
from xlcredit.core.errors import XlcError
from xlcredit.core.interest import late_interest
from xlcredit.core.ledger import FxRates
from xlcredit.core.money import ZERO
from xlcredit.core.policy import Policy
from xlcredit.data.sample import sample_path
from xlcredit.io.ledger import load_ledger

D = Decimal
AS_OF = dt.date(2026, 10, 31)
LABELS = ("Current", "1-30", "31-60", "61-90", "91-180", "180+")


def small_ledger() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    invoices = pd.DataFrame({
        "customer_id": ["C1", "C1", "C2", "C3"],
        "invoice_no": ["INV-1", "INV-2", "INV-3", "INV-4"],
        "invoice_date": ["2026-09-01", "2026-09-15", "2026-10-01", "2026-10-01"],
        "due_date": ["2026-10-01", "2026-10-15", "2026-10-31", "2026-10-01"],
        "amount": ["1000.00", "500.00", "300.00", "120000"],
        "currency": ["EUR", "EUR", "USD", "JPY"],
    })
    payments = pd.DataFrame({
        "customer_id": ["C1", "C2"], "payment_date": ["2026-10-20", "2026-10-20"],
        "amount": ["200.00", "350.00"], "currency": ["EUR", "USD"], "invoice_ref": ["INV-2", None],
    })
    credit_notes = pd.DataFrame({
        "customer_id": ["C3"], "date": ["2026-10-05"], "amount": ["20000"], "currency": ["JPY"],
        "invoice_ref": ["INV-4"],
    })
    return invoices, payments, credit_notes


def test_worked_example_by_hand():
    inv, pay, cn = small_ledger()
    table = age_frames(inv, pay, as_of=AS_OF, credit_notes=cn)
    assert list(table.columns[:9]) == ["customer_id", "currency", "open", *LABELS, "interest"][:9]
    assert {"interest", "unapplied"} <= set(table.columns)
    rows = {(r["customer_id"], r["currency"]): r for r in table.to_dict("records")}
    assert list(rows) == [("C1", "EUR"), ("C2", "USD"), ("C3", "JPY")]
    c1 = rows[("C1", "EUR")]
    # INV-1 1000.00 is 30 days past due (1-30); INV-2 500.00 less the 200.00 that names it, 16 days past due
    assert c1["open"] == D("1300.00") and c1["1-30"] == D("1300.00") and c1["Current"] == D("0.00")
    # 1000 × 0.08 × 30/365 = 6.5753 → 6.58;  300 × 0.08 × 16/365 = 1.0520 → 1.05
    assert c1["interest"] == D("6.58") + D("1.05") == late_interest(D("1000"), dt.date(2026, 10, 1), AS_OF,
                                                                    D("0.08")) + D("1.05")
    c2 = rows[("C2", "USD")]
    assert c2["open"] == D("0.00") and c2["unapplied"] == D("50.00") and c2["balance"] == D("-50.00")
    c3 = rows[("C3", "JPY")]
    assert c3["open"] == D("100000") and c3["1-30"] == D("100000")  # whole yen: JPY has no minor unit
    assert isinstance(c3["open"], Decimal) and c3["open"].as_tuple().exponent == 0
    assert c1["open"].as_tuple().exponent == -2


def test_minor_units_on_request():
    inv, pay, cn = small_ledger()
    table = age_frames(inv, pay, as_of=AS_OF, credit_notes=cn, money="minor")
    assert table["open"].dtype == "int64"
    assert table["open"].tolist() == [130000, 0, 100000] and table["interest"].tolist()[0] == 763


def test_the_package_exports_it():
    assert xlcredit.age_frames is age_frames
    with pytest.raises(AttributeError):
        _ = xlcredit.no_such_thing


@pytest.mark.parametrize("as_of", ["2026-10-31", "2025-07-15"])
def test_sample_equals_the_decimal_reference(as_of):
    """The bundled sample: every bucket, open, unapplied and interest equal the reference path to the cent."""
    day = dt.date.fromisoformat(as_of)
    policy = Policy()
    load = load_ledger(sample_path("invoices"), sample_path("payments"), sample_path("credit_notes"))
    report = age_ledger(load.ledger, day, policy)
    from xlcredit.core.openitems import allocate

    positions = allocate(load.ledger, day)
    interest: dict = {}
    for key, pos in positions.items():
        total = ZERO
        for item in pos.items:
            if item.open_amount > 0 and not item.invoice.disputed:
                total += late_interest(item.open_amount, item.invoice.due_date, day,
                                       policy.late.contract_rate, policy.late.basis, key[1])
        interest[key] = total
    expected = {(r.customer_id, r.currency): {**{label: r.buckets[label] for label in report.labels},
                                              "open": r.open_total, "unapplied": r.unapplied_cash,
                                              "interest": interest.get((r.customer_id, r.currency), ZERO)}
                for r in report.rows}
    tables = [pd.read_csv(sample_path(n), dtype=str, keep_default_na=False)
              for n in ("invoices", "payments", "credit_notes")]
    got_table = age_frames(tables[0], tables[1], credit_notes=tables[2], as_of=as_of)
    got = {(r["customer_id"], r["currency"]): {k: r[k] for k in (*report.labels, "open", "unapplied", "interest")}
           for r in got_table.to_dict("records")}
    assert got == expected
    assert len(got) > 10


def test_arrow_tables_and_parquet_paths_give_the_same_answer(tmp_path):
    inv, pay, cn = small_ledger()
    expected = age_frames(inv, pay, as_of=AS_OF, credit_notes=cn)
    arrow = [pa.Table.from_pandas(f, preserve_index=False) for f in (inv, pay, cn)]
    assert age_frames(arrow[0], arrow[1], as_of=AS_OF, credit_notes=arrow[2]).equals(expected)
    paths = []
    for name, t in zip(("invoices", "payments", "credit_notes"), arrow, strict=True):
        pq.write_table(t, tmp_path / f"{name}.parquet")
        paths.append(tmp_path / f"{name}.parquet")
    assert age_frames(*paths[:2], as_of="2026-10-31", credit_notes=str(paths[2])).equals(expected)
    # a folder of two files (one customer's invoices split across them) reads as one table
    folder = tmp_path / "inv"
    folder.mkdir()
    pq.write_table(arrow[0].slice(0, 1), folder / "part-0.parquet")
    pq.write_table(arrow[0].slice(1), folder / "part-1.parquet")
    assert age_frames(folder, paths[1], as_of=AS_OF, credit_notes=paths[2]).equals(expected)


def test_company_currency_columns_with_fx_rates():
    inv, pay, cn = small_ledger()
    fx = FxRates(((dt.date(2026, 10, 1), "USD", D("0.9")),), "EUR")
    table = age_frames(inv, pay, as_of=AS_OF, credit_notes=cn, fx_rates=fx)
    rows = {r["currency"]: r for r in table.to_dict("records")}
    assert rows["EUR"]["open_company"] == D("1300.00")
    assert rows["USD"]["unapplied_company"] == D("45.00")   # 50.00 USD × 0.9
    assert rows["JPY"]["open_company"] is None              # no JPY rate: left empty, not guessed


def test_bad_rows_are_listed_and_the_good_ones_finish():
    inv, pay, cn = small_ledger()
    inv.loc[3, "amount"] = "twelve"
    table = age_frames(inv, pay, as_of=AS_OF, credit_notes=cn)
    problems = table.attrs["problems"]
    assert any(p.table == "invoices" and p.row == 3 and p.column == "amount" and "is not a number" in p.problem
               for p in problems)
    assert table.loc[table["customer_id"] == "C1", "open"].item() == D("1300.00")


def test_clear_messages_for_bad_arguments(tmp_path):
    inv, pay, _ = small_ledger()
    with pytest.raises(XlcError, match="engine: must be one of numpy"):
        age_frames(inv, pay, as_of=AS_OF, engine="spark")
    with pytest.raises(XlcError, match="money: must be one of decimal, minor"):
        age_frames(inv, pay, as_of=AS_OF, money="float")
    with pytest.raises(XlcError, match="as_of"):
        age_frames(inv, pay, as_of="not a date")
    with pytest.raises(XlcError, match="invoices: file not found"):
        age_frames(tmp_path / "nope.parquet", None, as_of=AS_OF)
    with pytest.raises(XlcError, match="invoices: must be a DataFrame, a pyarrow Table or a Parquet path"):
        age_frames(42, None, as_of=AS_OF)
    with pytest.raises(XlcError, match="scheduler: is for engine='dask' only"):
        age_frames(inv, pay, as_of=AS_OF, scheduler="tcp://x:8786")


def mixed_ledger(seed: int = 16) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A shuffled ledger with mixed terms per customer, four currencies, partial payments and credit notes.

    Plain pandas columns (text ids, ``Decimal`` amounts, ``datetime.date`` dates), with what real exports
    hold: ids padded with spaces or not ASCII, a lower-case currency, references to no invoice and to
    another customer's invoice, a blank customer and an unknown currency.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    names = [f"C{i:04d}" for i in range(150)] + ["Müller GmbH", "Zoë Ltd", "北京贸易"]  # > 64: vectorised labels
    ccys = ["EUR", "USD", "GBP", "JPY"]
    n, m, k = 4_000, 2_800, 200
    cust = rng.integers(0, len(names), n)
    ccy = np.where(rng.random(n) < 0.8, cust % 4, rng.integers(0, 4, n))
    start = dt.date(2025, 1, 1)
    inv_date = [start + dt.timedelta(days=int(d)) for d in rng.integers(0, 690, n)]
    terms = rng.choice([0, 14, 30, 60, 90], n)  # mixed within a customer: due dates not in invoice order
    due = [d + dt.timedelta(days=int(t)) for d, t in zip(inv_date, terms, strict=True)]
    cents = rng.integers(100, 5_000_000, n)
    amount = [D(int(c) // 100) if ccys[c_] == "JPY" else D(int(c)).scaleb(-2) for c, c_ in zip(cents, ccy, strict=True)]
    numbers = rng.permutation(n) + 1
    invoices = pd.DataFrame({
        "customer_id": [names[c] if i % 7 else f" {names[c]} " for i, c in enumerate(cust)],
        "invoice_no": [f"INV-{x:06d}" for x in numbers], "invoice_date": inv_date, "due_date": due,
        "amount": amount, "currency": [ccys[c] for c in ccy], "terms": [f"Net {t}" for t in terms],
        "disputed": rng.random(n) < 0.03,
    })
    target = rng.integers(0, n, m)
    named = rng.random(m) < 0.6
    part = np.where(rng.random(m) < 0.5, rng.uniform(0.05, 0.95, m), 1.0)
    refs = [invoices["invoice_no"][t] if ok else None for t, ok in zip(target, named, strict=True)]
    refs[5], refs[6] = "INV-999999", invoices["invoice_no"][(int(target[6]) + 1) % n]  # no such / maybe another's
    payments = pd.DataFrame({
        "customer_id": [names[cust[t]] for t in target],
        "payment_date": [min(inv_date[t] + dt.timedelta(days=int(d)), dt.date(2026, 11, 15))
                         for t, d in zip(target, rng.integers(0, 120, m), strict=True)],
        "amount": [max(a * D(str(round(f, 2))), D("0.01")).quantize(D(1) if ccys[ccy[t]] == "JPY" else D("0.01"))
                   for a, f, t in ((amount[t], f, t) for t, f in zip(target, part, strict=True))],
        "currency": [ccys[ccy[t]] if i % 11 else ccys[ccy[t]].lower() for i, t in enumerate(target)],
        "invoice_ref": refs,
    })
    payments.loc[3, "customer_id"] = "  "
    payments.loc[4, "currency"] = "EURO"
    cn_target = rng.integers(0, n, k)
    credit_notes = pd.DataFrame({
        "customer_id": [names[cust[t]] for t in cn_target],
        "date": [inv_date[t] + dt.timedelta(days=3) for t in cn_target],
        "amount": [(amount[t] / 4).quantize(D(1) if ccys[ccy[t]] == "JPY" else D("0.01")) for t in cn_target],
        "currency": [ccys[ccy[t]] for t in cn_target],
        "invoice_ref": [invoices["invoice_no"][t] if i % 3 else None for i, t in enumerate(cn_target)],
    })
    shuffle = [rng.permutation(len(f)) for f in (invoices, payments, credit_notes)]
    return tuple(f.iloc[p].reset_index(drop=True) for f, p in zip((invoices, payments, credit_notes), shuffle,
                                                                   strict=True))  # type: ignore[return-value]


def test_parquet_path_equals_dataframe_path_to_the_cent(tmp_path):
    """The fast Parquet read (dictionary ids, date32 buffers, decimal128 units) answers as plain DataFrames do."""
    inv, pay, cn = mixed_ledger()
    expected = age_frames(inv, pay, as_of=AS_OF, credit_notes=cn)
    assert len(expected) > 150 and {"JPY", "EUR", "USD", "GBP"} <= set(expected["currency"])
    assert (expected["unapplied"] > 0).any() and (expected["interest"] > 0).any()
    assert {"Müller GmbH", "Zoë Ltd", "北京贸易", "C0000"} <= set(expected["customer_id"])
    paths = []
    for name, frame in zip(("invoices", "payments", "credit_notes"), (inv, pay, cn), strict=True):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.set_column(table.schema.get_field_index("amount"), "amount",
                                 table.column("amount").cast(pa.decimal128(18, 2)))
        pq.write_table(table, tmp_path / f"{name}.parquet")
        paths.append(tmp_path / f"{name}.parquet")
    got = age_frames(paths[0], paths[1], as_of=AS_OF, credit_notes=paths[2])
    pd.testing.assert_frame_equal(got, expected)
    minor = age_frames(paths[0], paths[1], as_of=AS_OF, credit_notes=paths[2], money="minor")
    assert minor["open"].sum() == sum(int(v.scaleb(0 if c == "JPY" else 2)) for v, c in
                                      zip(expected["open"], expected["currency"], strict=True))

    def said(problems):
        return [(p.table, p.row, p.column, p.problem) for p in problems]

    assert said(got.attrs["problems"]) == said(expected.attrs["problems"])
    assert ("payments", int(pay.index[pay["customer_id"] == "  "][0]), "customer_id", "is empty") in \
        said(got.attrs["problems"])
    assert any(p[2] == "currency" and "ISO 4217" in p[3] for p in said(got.attrs["problems"]))


def test_parquet_empty_due_date_is_derived_from_the_terms(tmp_path):
    """Terms are read from Parquet only when a due date is empty — and then they are read and used."""
    inv, pay, cn = small_ledger()
    inv["invoice_date"] = pd.to_datetime(inv["invoice_date"]).dt.date
    inv["due_date"] = pd.to_datetime(inv["due_date"]).dt.date
    inv["terms"] = ["Net 30", "Net 30", "Net 30", "Net 60"]
    full = tmp_path / "full.parquet"
    pq.write_table(pa.Table.from_pandas(inv, preserve_index=False), full)
    assert age_frames(full, pay, as_of=AS_OF, credit_notes=cn).equals(age_frames(inv, pay, as_of=AS_OF,
                                                                                 credit_notes=cn))
    inv.loc[1, "due_date"] = None  # INV-2 of 2026-09-15, Net 30: due 2026-10-15, as given before
    blank = tmp_path / "blank.parquet"
    pq.write_table(pa.Table.from_pandas(inv, preserve_index=False), blank)
    table = age_frames(blank, pay, as_of=AS_OF, credit_notes=cn)
    assert table.equals(age_frames(full, pay, as_of=AS_OF, credit_notes=cn))
    assert [(p.row, p.column, p.problem) for p in table.attrs["problems"]] == [
        (1, "due_date", "is empty: derived from invoice_date and terms (kept)")]


def test_parquet_ids_past_the_dictionary_page_are_read_as_text_with_the_same_answer(tmp_path):
    """A writer stops dictionary-encoding a column once its dictionary page is full (plain strings after it);
    such customer ids are read as strings, not hashed back into a dictionary — and the answer is the same."""
    from xlcredit.bulk import _dictionary_pays

    inv, pay, cn = mixed_ledger()
    expected = age_frames(inv, pay, as_of=AS_OF, credit_notes=cn)
    for limit, pays in ((1 << 20, True), (64, False)):  # a 64-byte dictionary page falls back at once
        paths = []
        for name, frame in zip(("invoices", "payments", "credit_notes"), (inv, pay, cn), strict=True):
            table = pa.Table.from_pandas(frame, preserve_index=False)
            path = tmp_path / f"{name}-{limit}.parquet"
            pq.write_table(table, path, dictionary_pagesize_limit=limit)
            paths.append(path)
        assert _dictionary_pays(pq.read_metadata(paths[0]), "customer_id") is pays
        got = age_frames(paths[0], paths[1], as_of=AS_OF, credit_notes=paths[2])
        pd.testing.assert_frame_equal(got, expected)


# ---------------------------------------------------------------------------- keeping freed memory (glibc)
_FAULTS = """
import ctypes, resource, sys
import numpy as np
ctypes.CDLL(None).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE: count 4 KiB pages, also where huge pages are "always"
if sys.argv[1] == "keep":
    from xlcredit.bulk import keep_freed_memory
    assert keep_freed_memory() is True and keep_freed_memory() is True  # once per process, then remembered
faults = []
for _ in range(3):  # a large call's working set: 8 arrays of 16 MB, written, then freed
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    arrays = [np.ones(2_000_000) for _ in range(8)]
    del arrays
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(faults[-1])
"""


def _run_python(code: str, *args: str, env: dict[str, str] | None = None) -> str:
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                          env={**base, **(env or {})})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(__import__("platform").libc_ver()[0] != "glibc", reason="mallopt is glibc's (CI runs on it)")
def test_keep_freed_memory_reuses_a_large_calls_memory_instead_of_faulting_it_in_again():
    """By default glibc hands 128 MB of freed arrays back to the OS and the third round faults them in again
    (32,000 pages); with :func:`keep_freed_memory` the third round reuses them."""
    default = int(_run_python(_FAULTS, "default"))
    kept = int(_run_python(_FAULTS, "keep"))
    assert default > 20_000, default
    assert kept < 2_000, kept


@pytest.mark.skipif(__import__("platform").libc_ver()[0] != "glibc", reason="mallopt is glibc's (CI runs on it)")
def test_keep_freed_memory_leaves_a_tuned_environment_alone():
    """A process whose environment tunes glibc's malloc (a Dask nanny sets MALLOC_TRIM_THRESHOLD_) keeps it."""
    code = "from xlcredit.bulk import keep_freed_memory; print(keep_freed_memory())"
    assert _run_python(code) == "True"
    assert _run_python(code, env={"MALLOC_TRIM_THRESHOLD_": "65536"}) == "False"
    assert _run_python(code, env={"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=65536"}) == "False"


def test_age_frames_keeps_freed_memory_from_a_large_ledger_only(monkeypatch):
    """Only a ledger of THREADS_FROM_ROWS rows or more changes the process's allocator (the sample does not)."""
    import xlcredit.bulk as bulk

    calls: list[int] = []
    monkeypatch.setattr(bulk, "keep_freed_memory", lambda: calls.append(1) or True)
    inv, pay, cn = small_ledger()
    expected = age_frames(inv, pay, as_of=AS_OF, credit_notes=cn, money="minor")
    assert calls == []
    monkeypatch.setattr(bulk, "THREADS_FROM_ROWS", len(inv) + len(pay) + len(cn))
    assert age_frames(inv, pay, as_of=AS_OF, credit_notes=cn, money="minor").equals(expected)
    assert calls == [1]


# ---------------------------------------------------------------------------- keeping a read's pages (pyarrow)
_READS = """
import ctypes, resource, sys, time
ctypes.CDLL(None).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE: count 4 KiB pages, also where huge pages are "always"
import pyarrow as pa
from xlcredit.bulk import read_table, reading_pool
if sys.argv[2] == "kept":
    pool = reading_pool()
    assert pool is not None and pool is reading_pool() and pool.backend_name == "jemalloc"
else:  # the same jemalloc, handing freed pages back at once
    pa.jemalloc_set_decay_ms(0)
    pool = pa.jemalloc_memory_pool()
faults = []
for _ in range(6):  # read, then let go: a call's reading; then a pause longer than pyarrow's default decay (1 s)
    time.sleep(float(sys.argv[3]))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    frame = read_table(sys.argv[1], "invoices", pool)
    assert pool.bytes_allocated() >= frame.memory_usage(index=False).sum() > 0  # read into the pool given
    del frame
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(sum(faults[1:]))
"""


def _jemalloc() -> bool:
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        return False
    return True


@pytest.mark.skipif(not _jemalloc() or __import__("sys").platform != "linux",
                    reason="pyarrow's jemalloc (not in its Windows wheels); page faults counted on Linux (CI)")
def test_reading_pool_keeps_a_reads_pages_for_the_next_read(tmp_path):
    """A Parquet read of 600k invoices (≈ 40 MB) faults ~16,000 fresh pages each time when its pool hands them
    back; read into :func:`reading_pool`, the later reads mostly reuse the earlier ones' pages, also after a pause
    longer than pyarrow's default decay of 1 s (with that decay: 41,000–45,000 over five reads). Mostly: each
    pyarrow thread allocates from a jemalloc arena of its own, and which thread decodes which column varies, so
    one read faults 60–4,400 pages on this machine; five reads are counted (3,700–5,900 in all)."""
    n = 600_000
    rng = np.random.default_rng(7)
    path = tmp_path / "invoices.parquet"
    pq.write_table(pa.table({
        "customer_id": pa.array(np.char.add("C", rng.integers(100_000, 150_000, n).astype(str))),
        "invoice_no": pa.array(np.char.add("INV", np.arange(1_000_000, 1_000_000 + n).astype(str))),
        "invoice_date": pa.array(np.full(n, 20_000, np.int32)).cast(pa.date32()),
        "due_date": pa.array(np.full(n, 20_030, np.int32)).cast(pa.date32()),
        "amount": pa.array(rng.integers(100, 10**6, n)).cast(pa.decimal128(19, 0)),
        "currency": pa.array(["EUR"] * n),
    }), path)
    handed_back = int(_run_python(_READS, str(path), "decay0", "0"))
    kept = int(_run_python(_READS, str(path), "kept", "1.2"))
    assert handed_back > 40_000, handed_back
    assert kept < handed_back / 3, (kept, handed_back)


def test_reading_pool_is_left_to_the_user_who_chose_arrows_pool():
    """``ARROW_DEFAULT_MEMORY_POOL`` (or jemalloc as the default already) means the user chose: no pool of ours."""
    code = "from xlcredit.bulk import reading_pool; p = reading_pool(); print(p and p.backend_name)"
    assert _run_python(code) == ("jemalloc" if _jemalloc() else "None")
    assert _run_python(code, env={"ARROW_DEFAULT_MEMORY_POOL": "system"}) == "None"
    assert _run_python(code, env={"ARROW_DEFAULT_MEMORY_POOL": "jemalloc"}) == "None"
    chosen = "import pyarrow as pa; pa.set_memory_pool(pa.jemalloc_memory_pool())\n" + code  # chosen in code
    assert _run_python(chosen) == "None"


def test_age_frames_reads_a_small_ledger_into_the_reading_pool_and_a_large_one_into_arrows_default(tmp_path,
                                                                                                  monkeypatch):
    """Parquet files of up to KEEP_READ_BYTES are read into :func:`reading_pool`'s pool, larger ones into pyarrow's
    default pool (which hands them back); DataFrames given, no pool is chosen at all. The answers are the same."""
    import xlcredit.bulk as bulk

    pool = pa.system_memory_pool()  # any pool: the test follows its bytes
    asked: list[int] = []
    monkeypatch.setattr(bulk, "reading_pool", lambda: asked.append(1) or pool)
    seen: list[int] = []
    real = bulk.age_minor
    monkeypatch.setattr(bulk, "age_minor", lambda *a, **k: seen.append(pool.bytes_allocated()) or real(*a, **k))
    inv, pay, cn = small_ledger()
    paths = []
    for name, frame in (("invoices", inv), ("payments", pay), ("credit_notes", cn)):
        paths.append(tmp_path / f"{name}.parquet")
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), paths[-1])
    expected = age_frames(inv, pay, as_of=AS_OF, credit_notes=cn, money="minor")
    assert asked == []  # DataFrames: nothing to read, no pool chosen
    before = pool.bytes_allocated()
    pd.testing.assert_frame_equal(age_frames(paths[0], paths[1], as_of=AS_OF, credit_notes=paths[2], money="minor"),
                                  expected)
    assert asked == [1] and seen[-1] > before  # read into the pool while the tables live
    monkeypatch.setattr(bulk, "KEEP_READ_BYTES", 0)  # every read is now "large"
    before = pool.bytes_allocated()
    pd.testing.assert_frame_equal(age_frames(paths[0], paths[1], as_of=AS_OF, credit_notes=paths[2], money="minor"),
                                  expected)
    assert asked == [1] and seen[-1] == before  # not read into it


def test_a_file_of_several_row_groups_is_read_into_the_pool_as_parquetfile_reads_it(tmp_path):
    """The pool's reader (a dataset fragment) gives a chunk per row group; they are joined in the pool, so the
    columns come out as ``ParquetFile.read`` gives them, one chunk each, with the same values."""
    from xlcredit.bulk import read_table

    inv, _pay, _cn = small_ledger()
    path = tmp_path / "invoices.parquet"
    pq.write_table(pa.Table.from_pandas(inv, preserve_index=False), path, row_group_size=2)
    assert pq.read_metadata(path).num_row_groups > 1
    pool = pa.system_memory_pool()
    pooled = read_table(path, "invoices", pool)
    pd.testing.assert_frame_equal(pooled, read_table(path, "invoices"))
    assert all(pooled[c].array._pa_array.num_chunks == 1 for c in pooled.columns)


def test_row_groups_are_read_from_one_local_file_and_otherwise_refused_in_words(tmp_path):
    """``read_row_groups`` (a Dask task's piece): the groups asked for, read as the whole file is; a folder is
    refused in words, not as "cannot be read as Parquet"."""
    from xlcredit.bulk import read_row_groups, read_table

    inv, _pay, _cn = small_ledger()
    path = tmp_path / "invoices.parquet"
    pq.write_table(pa.Table.from_pandas(inv, preserve_index=False), path, row_group_size=1)
    whole = read_table(path, "invoices")
    pd.testing.assert_frame_equal(read_row_groups(path, "invoices", [1, 2]), whole.iloc[1:3].reset_index(drop=True))
    with pytest.raises(XlcError, match=r"^invoices: row groups are read from one local file only"):
        read_row_groups(tmp_path, "invoices", [0])


@pytest.mark.parametrize("helper_began", [True, False])
def test_a_failed_invoice_read_waits_for_the_payments_read(helper_began, tmp_path, monkeypatch) -> None:
    """The invoices cannot be read while the payments are read on a helper thread: a read already begun has
    finished when the error is raised, one not yet begun is cancelled and never runs (no work of the failed
    call runs on); the error names the file."""
    import threading
    import time

    from xlcredit import bulk
    from xlcredit.core.fast import workers

    pay = tmp_path / "payments.parquet"
    pd.DataFrame({"customer_id": ["C1"], "payment_date": [dt.date(2026, 9, 1)], "amount": [Decimal("1.00")],
                  "currency": ["EUR"]}).to_parquet(pay)
    real, began, done = bulk.read_table, threading.Event(), []

    def slow(source, table, pool=None):
        if table != "payments":
            if helper_began:
                assert began.wait(timeout=10)
            return real(source, table, pool)
        began.set()
        time.sleep(0.4)
        out = real(source, table, pool)
        done.append(table)
        return out

    release = threading.Event()
    blockers = [workers.submit(release.wait, 10) for _ in range(0 if helper_began else workers.WORKERS)]
    monkeypatch.setattr(bulk, "read_table", slow)
    try:
        with pytest.raises(XlcError, match=r"^invoices: file not found: .*missing\.parquet"):
            bulk.read_tables(tmp_path / "missing.parquet", pay)
        assert done == (["payments"] if helper_began else [])
    finally:
        release.set()
    assert all(b.result(timeout=10) for b in blockers)
    time.sleep(0.6)
    assert done == (["payments"] if helper_began else [])  # nothing read after the call


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork on this platform")
def test_helper_threads_start_afresh_in_a_forked_child() -> None:
    """A child forked after the helpers started (multiprocessing's fork) has none of their threads: its first
    call starts its own instead of waiting for ever on the parent's."""
    import os
    import signal

    from xlcredit.core.fast import workers

    assert workers.submit(lambda: 1).result(timeout=10) == 1
    pid = os.fork()
    if pid == 0:  # the child: at most 10 s, then an exit code, whatever happens (never back into pytest)
        ok = False
        try:
            signal.alarm(10)
            ok = workers.submit(lambda: 42).result(timeout=10) == 42
        except BaseException:
            pass
        finally:
            os._exit(0 if ok else 3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_caller_takes_back_work_no_helper_has_begun() -> None:
    """Every helper busy with other callers' work: the caller does its own side work instead of waiting behind
    theirs; work already begun is waited for."""
    import threading

    from xlcredit.core.fast import workers

    release = threading.Event()
    threading.Timer(5, release.set).start()  # should the caller wait after all, it gets the helper's answer late
    blockers = [workers.submit(release.wait, 10) for _ in range(workers.WORKERS)]
    try:
        queued = workers.submit(lambda: "on a helper")
        here = threading.get_ident()
        assert workers.run_or_take_back(queued, lambda: ("here", threading.get_ident())) == ("here", here)
        assert queued.cancelled()
    finally:
        release.set()
    assert all(b.result(timeout=10) for b in blockers)
    begun = workers.submit(lambda: "on a helper")
    begun.result(timeout=10)
    assert workers.run_or_take_back(begun, lambda: "here") == "on a helper"
    assert workers.run_or_take_back(None, lambda: "here") == "here"


def test_age_frames_with_the_compiled_kernel_answers_as_numpy() -> None:
    """The compiled kernel's figures go to pandas as its own block (no copy): the same table as the numpy
    kernel's, column by column, on a ledger with groups that are not shown (documents after as_of only)."""
    rng = np.random.default_rng(7)
    n = 400
    invoices = pd.DataFrame({
        "customer_id": [f"C{c:04d}" for c in rng.integers(0, 60, n)],
        "invoice_no": [f"INV{i:06d}" for i in rng.permutation(n)],
        "invoice_date": pd.to_datetime("2026-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D"),
        "amount": [Decimal(int(a)) / 100 for a in rng.integers(100, 1_000_000, n)],
        "currency": rng.choice(["EUR", "USD", "JPY"], n),
    })
    invoices["due_date"] = invoices["invoice_date"] + pd.to_timedelta(rng.choice([0, 30, 60], n), unit="D")
    payments = pd.DataFrame({
        "customer_id": invoices["customer_id"].iloc[:150].to_numpy(),
        "payment_date": invoices["due_date"].iloc[:150].to_numpy(),
        "amount": [a / 2 for a in invoices["amount"].iloc[:150]],
        "currency": invoices["currency"].iloc[:150].to_numpy(),
        "invoice_ref": invoices["invoice_no"].iloc[:150].to_numpy(),
    })
    for money in ("minor", "decimal"):
        numba_table = age_frames(invoices, payments, as_of="2026-10-31", kernel="numba", money=money)
        numpy_table = age_frames(invoices, payments, as_of="2026-10-31", kernel="numpy", money=money)
        assert len(numba_table) < 60 * 3  # some customer-currency pairs have only later documents
        pd.testing.assert_frame_equal(numba_table, numpy_table)
