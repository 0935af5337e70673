"""``age_frames(…, engine="dask")``: the same kernel on ``dask.distributed`` workers, the ledger split by customer.

The allocation rule works per customer and currency, so a customer's invoices, payments and credit
notes must meet in one partition. Each input piece (a Parquet file or URL, or a slice of a DataFrame)
— a large local Parquet file is read as several pieces of whole row groups — is read on a worker and cut
into ``partitions`` parts by a stable hash of the customer id; each
partition is aged by :func:`xlcredit.bulk.age_minor` — the in-process engine's own code, with the same
``kernel`` (numba or numpy) — and the answers are concatenated. Invoice numbers are unique across the
whole ledger (the in-process engine keeps the first row holding a number and reports the later ones),
so repeats are found across partitions first, by a second hash split on the number, and left out the
same way. Row numbers in the problems are those of the whole input table, as the in-process engine
gives them.

Needs ``pip install 'xlcredit[dask]'``; on a real cluster the workers need xlcredit installed too.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlcredit.core.errors import XlcError, describe
from xlcredit.core.fast.ageing import BulkProblem, _string_bytes, _text_of, frames_to_arrays
from xlcredit.core.policy import Policy

__all__ = ["age_on_dask"]

TABLES = ("invoices", "payments", "credit_notes")
_REPEAT = "repeats the invoice number of row"


_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


def _fnv1a(arr: Any) -> np.ndarray:
    """64-bit FNV-1a of each string's UTF-8 bytes (an Arrow string array without nulls), vectorised: one numpy
    pass per byte position, no Python string made. Fixed arithmetic, so every process and machine agrees."""
    n = len(arr)
    offsets, data = _string_bytes(arr)
    starts = offsets[:-1].astype(np.int64)
    lengths = np.diff(offsets).astype(np.int64)
    h = np.full(n, _FNV_OFFSET, np.uint64)
    if n == 0:
        return h
    width = int(lengths.max())
    if int(lengths.min()) == width:  # one length (C000123, INV-2024-00001): the bytes as an n × width matrix
        mat = data[int(starts[0]): int(starts[0]) + n * width].reshape(n, width)
        for j in range(width):
            h ^= mat[:, j]
            h *= _FNV_PRIME
        return h
    live = np.arange(n)
    for j in range(width):  # byte j of the strings that long: the rows still in play shrink as j grows
        live = live[lengths[live] > j]
        h[live] = (h[live] ^ data[starts[live] + j]) * _FNV_PRIME
    return h


def _hash_bucket(texts: pd.Series, parts: int) -> np.ndarray:
    """Stable partition number per row (the same in every process): the trimmed text's FNV-1a hash; blank → 0.

    Hashing went through Python strings before (``pd.util.hash_array`` over objects): the 10M-invoice split
    spent most of its time there."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pc.utf8_trim_whitespace(_decoded(_text_of(texts))).fill_null("")
    if len(arr) == 0:
        return np.zeros(0, np.int64)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    h = _fnv1a(arr)
    bucket = (h % np.uint64(parts)).astype(np.int64)
    bucket[np.diff(_string_bytes(arr)[0]) == 0] = 0
    return bucket


def _decoded(arr: Any) -> Any:
    import pyarrow as pa

    return arr.dictionary_decode() if pa.types.is_dictionary(arr.type) else arr


@dataclass(frozen=True)
class RowGroups:
    """A piece of one Parquet file: whole row groups, in file order (so row numbers follow the file's)."""

    path: str
    groups: tuple[int, ...]


def _read_piece(piece: Any, table: str) -> pd.DataFrame:
    from xlcredit.bulk import read_row_groups, read_table

    if isinstance(piece, RowGroups):
        return read_row_groups(piece.path, table, piece.groups)
    return piece.reset_index(drop=True) if isinstance(piece, pd.DataFrame) else read_table(piece, table)


def _file_pieces(path: str, chunks: int) -> list[Any]:
    """A local Parquet file as up to ``chunks`` pieces of whole row groups, about as many rows each, so that
    several workers read it; the file whole when it has one row group (or ``chunks`` is 1)."""
    import pyarrow.parquet as pq

    if chunks < 2:
        return [path]
    try:
        meta = pq.read_metadata(path)
    except (OSError, ValueError):  # not Parquet, or unreadable here: the worker reads it whole and says so
        return [path]
    if meta.num_row_groups < 2:
        return [path]
    rows = np.cumsum([meta.row_group(g).num_rows for g in range(meta.num_row_groups)])
    cuts = np.searchsorted(rows, rows[-1] * np.arange(1, chunks) / chunks, side="left") + 1
    bounds = np.unique(np.concatenate([[0], np.minimum(cuts, meta.num_row_groups), [meta.num_row_groups]]))
    return [RowGroups(path, tuple(range(a, b))) for a, b in itertools.pairwise(bounds.tolist())]


def _split(piece: Any, table: str, parts: int) -> tuple[int, list[tuple[np.ndarray, pd.DataFrame]], list[Any]]:
    """Read one piece on a worker and cut it by customer: (rows, [(row numbers, frame)] per partition, number keys).

    For invoices the third item holds, per number-hash bucket, (number, row in piece, customer partition).
    """
    frame = _read_piece(piece, table)
    bucket = _hash_bucket(frame["customer_id"], parts)
    out = []
    for p in range(parts):
        rows = np.flatnonzero(bucket == p)
        out.append((rows, frame.iloc[rows].reset_index(drop=True)))
    keys: list[Any] = []
    if table == "invoices":
        import pyarrow as pa
        import pyarrow.compute as pc

        numbers = pc.utf8_trim_whitespace(_decoded(_text_of(frame["invoice_no"]))).fill_null("")
        if isinstance(numbers, pa.ChunkedArray):
            numbers = numbers.combine_chunks()
        nonblank = np.flatnonzero(np.diff(_string_bytes(numbers)[0]) > 0)
        kept = numbers.take(pa.array(nonblank))  # Arrow strings throughout: no Python string per number
        key_bucket = (_fnv1a(kept) % np.uint64(parts)).astype(np.int64) if nonblank.size else nonblank
        for p in range(parts):
            pick = np.flatnonzero(key_bucket == p)
            at = nonblank[pick]
            keys.append(pd.DataFrame({"number": pd.Series(kept.take(pa.array(pick)), dtype=pd.ArrowDtype(kept.type)),
                                      "row": at, "partition": bucket[at]}))
    return len(frame), out, keys


def _pick(split: Any, kind: int, p: int) -> Any:
    return split[kind][p]


def _length(split: Any) -> int:
    return split[0]


def _offsets(lengths: Sequence[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(np.asarray(lengths, np.int64))])[:-1].astype(np.int64)


def _repeats(key_parts: list[pd.DataFrame], lengths: list[int]) -> pd.DataFrame:
    """Invoice numbers held by more than one row, in one number-hash bucket: (row, first row, partition)."""
    offsets = _offsets(lengths)
    frames = [k.assign(row=k["row"] + offsets[i]) for i, k in enumerate(key_parts)]
    keys = pd.concat(frames, ignore_index=True).sort_values("row", kind="stable")
    repeat = keys["number"].duplicated(keep="first")
    first = keys.groupby("number", sort=False)["row"].transform("first")
    return pd.DataFrame({"row": keys["row"][repeat].to_numpy(np.int64), "first": first[repeat].to_numpy(np.int64),
                         "partition": keys["partition"][repeat].to_numpy(np.int64)})


def _concat(parts: list[tuple[np.ndarray, pd.DataFrame]], lengths: list[int]) -> tuple[pd.DataFrame, np.ndarray]:
    """One partition of a table, in input order, with each row's number in the whole input table."""
    offsets = _offsets(lengths)
    rows = np.concatenate([r + offsets[i] for i, (r, _) in enumerate(parts)]).astype(np.int64)
    frames = [f for _, f in parts]
    try:
        frame = pd.concat(frames, ignore_index=True)
    except (TypeError, ValueError):  # Arrow dictionaries with different dictionaries: concatenate as Arrow
        import pyarrow as pa

        arrow = pa.concat_tables([pa.Table.from_pandas(f, preserve_index=False) for f in frames],
                                 promote_options="permissive").unify_dictionaries().combine_chunks()
        frame = arrow.to_pandas(types_mapper=pd.ArrowDtype)
    return frame, rows


def _age_partition(p: int, inv_parts: list[Any], pay_parts: list[Any] | None, cn_parts: list[Any] | None,
                   lengths: dict[str, list[int]], repeats: list[pd.DataFrame], as_of: dt.date,
                   policy: Policy, kernel: str = "auto") -> tuple[pd.DataFrame, list[BulkProblem]]:
    """Age one partition with the in-process engine's code (the same kernel); problems carry whole-table rows."""
    from xlcredit.bulk import age_minor

    inv, inv_rows = _concat(inv_parts, lengths["invoices"])
    rep = pd.concat(repeats, ignore_index=True)
    rep = rep[rep["partition"] == p]
    first_of = dict(zip(rep["row"].tolist(), rep["first"].tolist(), strict=True))
    drop = np.isin(inv_rows, rep["row"].to_numpy(np.int64))
    credit = {}
    for name, parts in (("payments", pay_parts), ("credit_notes", cn_parts)):
        credit[name] = None if parts is None else _concat(parts, lengths[name])
    table, kernel_problems = age_minor(inv[~drop].reset_index(drop=True), *(
        None if credit[n] is None else credit[n][0] for n in ("payments", "credit_notes")), as_of, policy, kernel,
        threads=1)  # one thread per task: the worker's threads already run one partition each
    row_maps = {"invoices": inv_rows[~drop], **{n: c[1] for n, c in credit.items() if c is not None}}
    problems = [BulkProblem(q.table, int(row_maps[q.table][q.row]), q.column, q.value, q.problem)
                for q in kernel_problems]
    if drop.any():  # the repeats: their own row problems as the kernel sees them, then the repeat itself
        held = inv[drop].reset_index(drop=True)
        held_rows = inv_rows[drop]
        own = frames_to_arrays(held).problems
        problems += [BulkProblem("invoices", int(held_rows[q.row]), q.column, q.value, q.problem)
                     for q in own if not q.problem.startswith(_REPEAT)]
        for i, row in enumerate(held_rows.tolist()):
            problems.append(BulkProblem("invoices", row, "invoice_no", held["invoice_no"].iloc[i],
                                        f"{_REPEAT} {first_of[row]}"))
    return table, problems


def _pieces(source: Any, table: str, chunks: int, check_local: bool) -> list[Any]:
    """What each split task reads: Parquet files/URLs one by one (a local file of several row groups in pieces of
    whole row groups), DataFrames and Arrow tables in row slices."""
    import pyarrow as pa

    if isinstance(source, pa.Table):
        source = source.to_pandas(types_mapper=pd.ArrowDtype)
    if isinstance(source, pd.DataFrame):
        bounds = np.linspace(0, len(source), max(1, min(chunks, len(source))) + 1).astype(int)
        return [source.iloc[a:b] for a, b in itertools.pairwise(bounds)]
    if isinstance(source, str | Path):
        paths = [source]
    elif isinstance(source, Sequence) and not isinstance(source, bytes) and all(
            isinstance(s, str | Path) for s in source):
        paths = list(source)
    else:
        raise XlcError(table, f"must be a DataFrame, a pyarrow Table or a Parquet path (got {describe(source)})",
                       source)
    pieces: list[Any] = []
    for path in paths:
        if "://" in str(path):
            pieces.append(str(path))  # an fsspec URL: read by the worker (the filesystem package must be there)
            continue
        local = Path(path)
        if local.is_dir():
            files = sorted(local.rglob("*.parquet"))
            if not files and check_local:
                raise XlcError("path", f"folder holds no .parquet files: {local}", str(local))
            pieces += [q for f in files for q in _file_pieces(str(f), chunks)]
        else:
            if check_local and not local.exists():
                raise XlcError(table, f"file not found: {local}", str(local))
            # a file the workers see but this machine does not (a remote cluster's path) is read whole
            pieces += _file_pieces(str(local), chunks) if local.is_file() else [str(local)]
    return pieces


def _connect(scheduler: str | None) -> tuple[Any, Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise XlcError("engine", "dask needs the dask extra: pip install 'xlcredit[dask]'", "dask") from None
    if scheduler is None:
        cluster = LocalCluster(processes=True, dashboard_address=None)
        return Client(cluster), cluster
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise XlcError("scheduler", f"must be an address such as tcp://host:8786 (got {describe(scheduler)})",
                       scheduler)
    try:
        return Client(scheduler.strip(), timeout="20s"), None
    except OSError as exc:
        raise XlcError("scheduler", f"cannot be reached ({exc})", scheduler) from None


def age_on_dask(invoices: Any, payments: Any, credit_notes: Any, as_of: dt.date, policy: Policy, *,
                scheduler: str | None = None,
                partitions: int | None = None, kernel: str = "auto") -> tuple[pd.DataFrame, tuple[BulkProblem, ...]]:
    """The ledger aged on a Dask cluster: the numpy engine's table (minor units) and problems, partition by customer.

    ``scheduler``: address of a running scheduler; None starts a local cluster (worker processes) and
    closes it afterwards. ``partitions``: how many customer partitions (default: the cluster's threads).
    ``kernel``: "auto", "numba" or "numpy", run on each worker as in process (numba then needs to be
    installed on the workers; its cache is per machine, so each worker machine compiles once).
    """
    if partitions is not None and (not isinstance(partitions, int) or isinstance(partitions, bool)
                                   or partitions < 1):
        raise XlcError("partitions", f"must be a whole number of at least 1 (got {describe(partitions)})",
                       partitions)
    sources = dict(zip(TABLES, (invoices, payments, credit_notes), strict=True))
    client, cluster = _connect(scheduler)
    try:
        parts = partitions or max(1, sum(client.nthreads().values()))
        splits: dict[str, list[Any]] = {}
        for name, source in sources.items():
            if source is None:
                continue
            pieces = _pieces(source, name, parts, check_local=scheduler is None)
            if not pieces:
                raise XlcError(name, "holds no Parquet files", str(source))
            splits[name] = [client.submit(_split, piece, name, parts, pure=False) for piece in pieces]
        lengths = {name: [client.submit(_length, s) for s in ss] for name, ss in splits.items()}
        inv_splits = splits["invoices"]
        repeats = [client.submit(_repeats, [client.submit(_pick, s, 2, p) for s in inv_splits],
                                 lengths["invoices"]) for p in range(parts)]
        tasks = []
        for p in range(parts):
            per_table = {name: [client.submit(_pick, s, 1, p) for s in ss] for name, ss in splits.items()}
            tasks.append(client.submit(_age_partition, p, per_table["invoices"], per_table.get("payments"),
                                       per_table.get("credit_notes"), lengths, repeats, as_of, policy, kernel))
        answers = client.gather(tasks)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    table = pd.concat([a[0] for a in answers], ignore_index=True)
    table = table.sort_values(["customer_id", "currency"], kind="stable").reset_index(drop=True)
    order = {name: i for i, name in enumerate(TABLES)}
    problems = sorted((q for a in answers for q in a[1]), key=lambda q: (order[q.table], q.row))
    return table, tuple(problems)
