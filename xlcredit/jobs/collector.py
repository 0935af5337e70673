"""The collector's records of a book: what the user typed on the workbook's Promises, Disputes, Plans and Contacts
sheets (or in ``promises``/``disputes``/``plans``/``contacts`` files beside a folder of tables) together with
what was recorded in the credit database (``xlcredit promise add`` …, the service). Refresh, letters and the
worklist all read them here, so the dunning ladder holds and escalates the same way in every one of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from xlcredit.core.collections import Collections
from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import RowProblem
from xlcredit.io.collector import TABLES, read_collections, stored_collections
from xlcredit.io.store import CreditStore, open_store, resolve_store_url

__all__ = ["COLLECTOR_SCHEMA", "book_collections", "collector_tables", "existing_store"]

#: The first schema version of the credit database with the collector's tables.
COLLECTOR_SCHEMA = 5


def collector_tables(book: Any, tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The collector's tables of a book: its sheets when it has them, else the files of a folder book."""
    out = {name: tables[name] for name in TABLES if name in tables}
    table_path = getattr(book, "table_path", None)
    if table_path is None:
        return out
    for name in TABLES:
        if name in out:
            continue
        path = _collector_path(book, name)
        if path is None:
            continue
        if path.suffix == ".csv":
            out[name] = pd.read_csv(path, dtype=str, keep_default_na=False)
        elif path.suffix == ".parquet":
            out[name] = pd.read_parquet(path)
        else:
            out[name] = pd.read_excel(path, dtype=object)
    return out


def _collector_path(book: Any, name: str) -> Path | None:
    folder = getattr(book, "folder", None)
    if folder is None:   # the bundled sample
        from xlcredit.data.sample import SAMPLE_DIR

        path = SAMPLE_DIR / f"{name}.csv"
        return path if path.is_file() else None
    for suffix in (".parquet", ".csv", ".xlsx"):
        path = Path(folder) / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def existing_store(target: str | CreditStore | None) -> CreditStore | None:
    """The credit database at ``target`` when there is one; None when the file does not exist yet (reading the
    records never creates a database)."""
    if target is None or isinstance(target, CreditStore):
        return target
    from sqlalchemy.engine import make_url

    try:
        url = resolve_store_url(target)
    except XlcError:
        return None
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (not parsed.database or not Path(parsed.database).is_file()):
        return None
    return open_store(url)


def book_collections(book: Any, tables: Mapping[str, pd.DataFrame], company_currency: str,
                     store: CreditStore | None = None) -> tuple[Collections, tuple[RowProblem, ...]]:
    """Every promise, dispute, plan and contact of the book's sheets or files and of the credit database."""
    load = read_collections(collector_tables(book, tables), company_currency)
    records = load.collections
    if store is not None and store.schema_version() >= COLLECTOR_SCHEMA:   # an old database opened read-only
        records = records + stored_collections(store)
    return records, load.problems
