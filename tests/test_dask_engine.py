"""``age_frames(…, engine="dask")`` gives the numpy engine's answer to the cent, problems included.

One LocalCluster with 2 worker processes serves the module. The ledgers are cut unevenly (one large
customer, many small ones, more partitions than workers), customers are split across input pieces
and Parquet files, and an invoice number is repeated across two customers (the numpy engine keeps
the first row and reports the later one; partitioning by customer must not hide that).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from xlcredit import age_frames
from xlcredit.core.errors import XlcError

if os.environ.get("CI") == "true":  # CI installs the dev extras, dask included: missing is a failure there
    import dask.distributed as distributed
else:
    distributed = pytest.importorskip("dask.distributed", reason="the dask extra is not installed")

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def scheduler():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def ledger(seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A shuffled ledger: customer K00 holds half the invoices, mixed currencies and terms, partial payments."""
    rnd = random.Random(seed)
    customers = ["K00"] * 150 + [f"K{i:02d}" for i in range(1, 40) for _ in range(rnd.randint(1, 8))]
    inv, pay, cn = [], [], []
    for n, cid in enumerate(customers):
        ccy = rnd.choice(["EUR", "EUR", "USD", "JPY"])
        day = AS_OF - dt.timedelta(days=rnd.randint(0, 300))
        amount = rnd.randint(100, 500_000) if ccy == "JPY" else rnd.randint(1_00, 9_000_00) / 100
        number = f"INV{n:05d}"
        inv.append({"customer_id": cid, "invoice_no": number, "invoice_date": day.isoformat(),
                    "due_date": (day + dt.timedelta(days=rnd.choice([14, 30, 60]))).isoformat(),
                    "amount": str(amount), "currency": ccy, "disputed": rnd.random() < 0.05})
        if rnd.random() < 0.6:
            part = amount if rnd.random() < 0.5 else round(amount * rnd.random(), 0 if ccy == "JPY" else 2)
            pay.append({"customer_id": cid, "payment_date": (day + dt.timedelta(days=rnd.randint(1, 90))).isoformat(),
                        "amount": str(part), "currency": ccy,
                        "invoice_ref": number if rnd.random() < 0.7 else None})
        if rnd.random() < 0.1:
            cn.append({"customer_id": cid, "date": (day + dt.timedelta(days=3)).isoformat(),
                       "amount": str(round(amount / 4, 0 if ccy == "JPY" else 2)), "currency": ccy,
                       "invoice_ref": number})
    order = list(range(len(inv)))
    rnd.shuffle(order)
    return pd.DataFrame([inv[i] for i in order]), pd.DataFrame(pay), pd.DataFrame(cn)


def both(inv, pay, cn, scheduler, **options):
    expected = age_frames(inv, pay, credit_notes=cn, as_of=AS_OF, **options)
    got = age_frames(inv, pay, credit_notes=cn, as_of=AS_OF, engine="dask", scheduler=scheduler, **options)
    return expected, got


OTHER = "names an invoice of another customer or currency"


def same_problems(got: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """Equal problem lists; the one known wording difference: a reference to another customer's invoice that
    lives in another partition reads "names no invoice" (the amount joins the pool in both, as the figures show)."""
    a, b = got.attrs["problems"], expected.attrs["problems"]
    assert [(p.table, p.row, p.column, p.value) for p in a] == [(p.table, p.row, p.column, p.value) for p in b]
    for p, q in zip(a, b, strict=True):
        if p.problem != q.problem:
            assert q.problem.startswith(OTHER) and p.problem.startswith("names no invoice"), (p, q)
            assert p.problem.endswith("the amount joins the pool") and q.problem.endswith("the amount joins the pool")
    return True


def test_dataframes_uneven_partitions_equal_numpy(scheduler):
    inv, pay, cn = ledger()
    inv.loc[5, "amount"] = "lots"            # a bad row is reported with its row number and the rest is aged
    inv.loc[9, "customer_id"] = " K03 "      # the same customer, written with spaces
    expected, got = both(inv, pay, cn, scheduler, partitions=3)
    assert len(expected) > 40
    pd.testing.assert_frame_equal(got, expected)
    assert same_problems(got, expected)
    assert any(p.row == 5 and p.column == "amount" for p in got.attrs["problems"])
    expected, got = both(inv, pay, cn, scheduler, partitions=5, money="minor")
    pd.testing.assert_frame_equal(got, expected)
    assert got["interest"].sum() > 0 and got["unapplied"].sum() > 0


def test_the_compiled_kernel_on_the_workers_equals_numpy_in_process(scheduler):
    """``kernel="numba"`` runs the compiled kernel on each worker; the answer is the numpy kernel's, to the cent."""
    inv, pay, cn = ledger(11)
    expected = age_frames(inv, pay, credit_notes=cn, as_of=AS_OF, kernel="numpy", money="minor")
    got = age_frames(inv, pay, credit_notes=cn, as_of=AS_OF, engine="dask", scheduler=scheduler, partitions=3,
                     kernel="numba", money="minor")
    pd.testing.assert_frame_equal(got, expected)
    assert same_problems(got, expected)
    with distributed.Client(scheduler) as client:
        ran = client.run(lambda: __import__("sys").modules.get("xlcredit.core.fast.compiled") is not None
                         and __import__("sys").modules["xlcredit.core.fast.compiled"].loaded())
    assert any(ran.values())  # the compiled kernel ran on the workers (each that got a partition)


def test_a_repeated_invoice_number_across_customers_is_treated_as_numpy_does(scheduler):
    inv, pay, cn = ledger(11)
    # two customers' invoices carry the same number: the first row keeps it, the later one is left out
    first = int(inv.index[inv["customer_id"] == "K00"][2])
    later = int(inv.index[(inv["customer_id"] != "K00") & (inv.index > first + 20)][0])
    assert inv.loc[first, "customer_id"] != inv.loc[later, "customer_id"]
    inv.loc[later, "invoice_no"] = inv.loc[first, "invoice_no"]
    inv.loc[later, "amount"] = "oops"  # and its own problem is reported too, before the repeat
    expected, got = both(inv, pay, cn, scheduler, partitions=3)
    pd.testing.assert_frame_equal(got, expected)
    mine = [p for p in got.attrs["problems"] if p.row == later and p.table == "invoices"]
    assert [p.column for p in mine] == ["amount", "invoice_no"]
    assert mine[1].problem == f"repeats the invoice number of row {first}"
    assert same_problems(got, expected)


def test_parquet_files_with_a_customer_split_across_them(tmp_path, scheduler):
    inv, pay, cn = ledger(3)
    arrow = pa.Table.from_pandas(inv, preserve_index=False)
    folder = tmp_path / "invoices"
    folder.mkdir()
    cut = [0, 17, 230, len(inv)]  # uneven files; K00's invoices are spread over all three
    for i, (a, b) in enumerate(itertools.pairwise(cut)):
        pq.write_table(arrow.slice(a, b - a), folder / f"part-{i}.parquet")
    assert all(inv.iloc[a:b]["customer_id"].eq("K00").any() for a, b in itertools.pairwise(cut))
    pq.write_table(pa.Table.from_pandas(pay, preserve_index=False), tmp_path / "payments.parquet")
    pq.write_table(pa.Table.from_pandas(cn, preserve_index=False), tmp_path / "credit_notes.parquet")
    expected = age_frames(folder, tmp_path / "payments.parquet", credit_notes=tmp_path / "credit_notes.parquet",
                          as_of=AS_OF)
    got = age_frames(folder, str(tmp_path / "payments.parquet"), credit_notes=tmp_path / "credit_notes.parquet",
                     as_of=AS_OF, engine="dask", scheduler=scheduler, partitions=3)
    pd.testing.assert_frame_equal(got, expected)
    # and the same ledger from DataFrames gives the same figures
    pd.testing.assert_frame_equal(got, age_frames(inv, pay, credit_notes=cn, as_of=AS_OF))


def test_one_large_file_is_read_by_several_workers_in_pieces_of_whole_row_groups(tmp_path, scheduler):
    """A single invoices file of several row groups is split into pieces of whole row groups (not read by one
    worker); the answer and every problem's row number are the in-process engine's, across the pieces."""
    from xlcredit.dask_engine import RowGroups, _pieces

    inv, pay, cn = ledger(5)
    inv.loc[300, "amount"] = "lots"  # a bad row in a later row group keeps its row number in the whole file
    inv.loc[250, "invoice_no"] = inv.loc[3, "invoice_no"]  # a number repeated across row groups
    path = tmp_path / "invoices.parquet"
    pq.write_table(pa.Table.from_pandas(inv, preserve_index=False), path, row_group_size=60)
    groups = pq.read_metadata(path).num_row_groups
    assert groups >= 5
    pieces = _pieces(path, "invoices", 3, check_local=True)
    assert len(pieces) == 3 and all(isinstance(q, RowGroups) and q.path == str(path) for q in pieces)
    assert [g for q in pieces for g in q.groups] == list(range(groups))  # every group once, in file order
    assert _pieces(path, "invoices", 1, check_local=True) == [str(path)]
    one = tmp_path / "one.parquet"
    pq.write_table(pa.Table.from_pandas(inv, preserve_index=False), one)
    assert _pieces(one, "invoices", 3, check_local=True) == [str(one)]  # one row group: read whole

    expected = age_frames(path, pay, credit_notes=cn, as_of=AS_OF)
    got = age_frames(path, pay, credit_notes=cn, as_of=AS_OF, engine="dask", scheduler=scheduler, partitions=3)
    pd.testing.assert_frame_equal(got, expected)
    assert same_problems(got, expected)
    rows = {(p.row, p.column) for p in got.attrs["problems"] if p.table == "invoices"}
    assert {(300, "amount"), (250, "invoice_no")} <= rows


def test_clear_messages(scheduler, tmp_path):
    inv, pay, _cn = ledger()
    with pytest.raises(XlcError, match="partitions: must be a whole number of at least 1"):
        age_frames(inv, pay, as_of=AS_OF, engine="dask", scheduler=scheduler, partitions=0)
    with pytest.raises(XlcError, match="scheduler: must be an address"):
        age_frames(inv, pay, as_of=AS_OF, engine="dask", scheduler=" ")


@pytest.mark.slow
def test_without_a_scheduler_a_local_cluster_is_started_and_closed(tmp_path):
    inv, pay, _cn = ledger(5)
    inv, pay = inv.head(30), pay.head(20)
    with pytest.raises(XlcError, match="invoices: file not found"):
        age_frames(tmp_path / "nope.parquet", None, as_of=AS_OF, engine="dask")
    got = age_frames(inv, pay, as_of=AS_OF, engine="dask", partitions=2)
    pd.testing.assert_frame_equal(got, age_frames(inv, pay, as_of=AS_OF))


def test_the_command_line(tmp_path, scheduler):
    from typer.testing import CliRunner

    from xlcredit.cli import app

    inv, pay, cn = ledger(2)
    for name, frame in (("invoices", inv), ("payments", pay), ("credit_notes", cn)):
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / f"{name}.parquet")
    files = [str(tmp_path / f"{n}.parquet") for n in ("invoices", "payments", "credit_notes")]
    out = tmp_path / "aged.csv"
    result = CliRunner().invoke(app, ["age", *files, "--as-of", "2026-10-31", "--engine", "dask",
                                      "--scheduler", scheduler, "--out", str(out)])
    assert result.exit_code == 0, result.output
    expected = age_frames(inv, pay, credit_notes=cn, as_of=AS_OF)
    assert f"{len(expected)} accounts aged" in result.output
    written = pd.read_csv(out, dtype=str)
    assert written["open"].tolist() == [str(v) for v in expected["open"]]
    bad = CliRunner().invoke(app, ["age", *files, "--scheduler", scheduler])
    assert bad.exit_code == 2 and "--scheduler: is for --engine dask only" in bad.output


def test_partition_hash_is_fnv1a_on_the_utf8_bytes():
    """The split's hash is 64-bit FNV-1a (test vectors of the FNV reference, isthe.com/chongo/tech/comp/fnv:
    "" → cbf29ce484222325, "a" → af63dc4c8601ec8c, "foobar" → 85944171f73967e8), the same whichever path
    reads the bytes (one length or mixed lengths, a slice of an array), and blank ids go to partition 0."""

    from xlcredit.dask_engine import _fnv1a, _hash_bucket

    def fnv(text: str) -> int:
        h = 0xCBF29CE484222325
        for b in text.encode():
            h = ((h ^ b) * 0x100000001B3) % 2**64
        return h

    mixed = _fnv1a(pa.array(["", "a", "foobar", "Müller", "北京"]))
    assert [int(v) for v in mixed[:3]] == [0xCBF29CE484222325, 0xAF63DC4C8601EC8C, 0x85944171F73967E8]
    assert [int(v) for v in mixed] == [fnv(t) for t in ["", "a", "foobar", "Müller", "北京"]]
    same = _fnv1a(pa.array(["x", "C000123", "C000124", "C000999"]).slice(1))
    assert [int(v) for v in same] == [fnv(t) for t in ["C000123", "C000124", "C000999"]]
    buckets = _hash_bucket(pd.Series(["  C000123 ", "", None, "C000123"], dtype=object), 7)
    assert buckets[1] == buckets[2] == 0 and buckets[0] == buckets[3] == fnv("C000123") % 7


def test_partition_hash_reads_each_byte_once_with_one_very_long_id():
    """Ids of mixed lengths: each byte position reads only the ids that long (one 20,000-character id among
    short ones once made every position read every row); the hashes stay FNV-1a."""
    from xlcredit.dask_engine import _fnv1a

    ids = ["C1", "C22", "x" * 20_000, ""]
    got = [int(v) for v in _fnv1a(pa.array(ids))]
    want = []
    for text in ids:
        h = 0xCBF29CE484222325
        for b in text.encode():
            h = ((h ^ b) * 0x100000001B3) % 2**64
        want.append(h)
    assert got == want
