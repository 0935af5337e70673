"""The *book* a job runs over: where its input tables come from and its output sheets go.

A book hands over the input tables (Customers, Invoices, Payments and, when present, Credit Notes and
FX Rates) and the Policy rows, and takes back the output sheets and Dashboard cells: the workbook file
read and patched without Excel (:class:`WorkbookFile`), the workbook open in Excel through xlwings
(``xlcredit.excel.XlwingsBook``), a folder of table files or the bundled sample (:class:`FolderBook`),
or tables uploaded to the service (``xlcredit.service.uploads``). :func:`read_book` turns the tables
into records once, with every bad row found on the way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import FxRates, Ledger, RowProblem
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer
from xlcredit.io import workbook as wb
from xlcredit.io.ledger import load_fx_rates, load_ledger, read_frame
from xlcredit.io.store import workbook_store
from xlcredit.io.tables import read_customers

Progress = Callable[[str], None]


class Book(Protocol):
    """Where a job reads its tables and writes its results (a workbook file, or Excel itself)."""

    label: str

    def read_tables(self) -> Mapping[str, pd.DataFrame]: ...
    def read_policy_rows(self) -> list[tuple[str, Any]]: ...
    def write_outputs(self, outputs: Mapping[str, pd.DataFrame], cells: Mapping[tuple[str, str], Any]) -> None: ...
    def default_store(self) -> str | None: ...


@dataclass
class WorkbookFile:
    """The .xlsm file on disk: read with openpyxl, written by patching only output parts (atomic)."""

    path: Path

    @property
    def label(self) -> str:
        return self.path.name

    def read_tables(self) -> Mapping[str, pd.DataFrame]:
        return wb.read_tables(self.path)

    def read_policy_rows(self) -> list[tuple[str, Any]]:
        return wb.read_policy_rows(self.path)

    def write_outputs(self, outputs: Mapping[str, pd.DataFrame], cells: Mapping[tuple[str, str], Any]) -> None:
        wb.write_outputs(self.path, outputs, cells)

    def default_store(self) -> str:
        """The configured ``XLCREDIT_DB`` on the xlwings.conf sheet, else the file beside the workbook."""
        try:
            configured = wb.read_config(self.path).get("XLCREDIT_DB")
        except XlcError:
            configured = None
        return workbook_store(self.path, configured)


#: The tables a folder book reads, in order; customers and invoices are required (reviews: a review history
#: imported from the previous credit system, read by the review job).
TABLE_NAMES = ("customers", "invoices", "payments", "credit_notes", "fx_rates", "reviews")
_FOLDER_SUFFIXES = (".parquet", ".csv", ".xlsx")
_FOLDER_ALIASES = {"credit_notes": ("credit_notes", "creditnotes", "credits"), "fx_rates": ("fx_rates", "fx", "rates")}
#: Ledger columns a Parquet file keeps Arrow-typed, so the bulk path can take them without reading them as text.
ARROW_LEDGER_COLUMNS = {
    "invoices": ("customer_id", "invoice_no", "currency", "amount", "invoice_date", "due_date"),
    "payments": ("customer_id", "payment_date", "amount", "currency"),
    "credit_notes": ("customer_id", "date", "amount", "currency"),
}


@dataclass
class FolderBook:
    """A folder of table files as a read-only book: ``customers``, ``invoices``, ``payments``, ``credit_notes``,
    ``fx_rates``, ``reviews`` as .parquet, .csv or .xlsx — the bundled sample when ``folder`` is None.

    It has no Policy sheet and no output sheets (the jobs print and export instead). ``store`` is its
    default credit database; None means none (a job that needs one is given it).
    """

    folder: Path | None = None
    store: Path | None = None

    @property
    def label(self) -> str:
        return "bundled sample" if self.folder is None else str(self.folder)

    def table_path(self, name: str) -> Path | None:
        """The file holding table ``name`` (first of .parquet, .csv, .xlsx; a few aliases), or None."""
        if self.folder is None:
            from xlcredit.data.sample import SAMPLE_FILES, sample_path

            return sample_path(name) if f"{name}.csv" in SAMPLE_FILES else None
        for stem in _FOLDER_ALIASES.get(name, (name,)):
            for suffix in _FOLDER_SUFFIXES:
                path = self.folder / f"{stem}{suffix}"
                if path.is_file():
                    return path
        return None

    def read_tables(self) -> Mapping[str, pd.DataFrame]:
        if self.folder is not None and not self.folder.is_dir():
            raise XlcError("folder", f"not found: {self.folder}", str(self.folder))
        out: dict[str, pd.DataFrame] = {}
        for name in TABLE_NAMES:
            path = self.table_path(name)
            if path is None:
                if name in ("customers", "invoices"):
                    raise XlcError(name, f"file not found in {self.label} (expected {name}.csv, .parquet or .xlsx)",
                                   name)
                continue
            if path.suffix == ".parquet" and name in ARROW_LEDGER_COLUMNS:   # the bulk path's fast input
                import pyarrow.parquet as pq

                out[name] = pq.read_table(path).to_pandas(types_mapper=pd.ArrowDtype)
            elif path.suffix == ".parquet":
                out[name] = pd.read_parquet(path)
            else:   # .csv/.xlsx as exported: title rows above the header skipped, the file's row numbers kept
                out[name] = read_frame(path, table=name)
        return out

    def read_policy_rows(self) -> list[tuple[str, Any]]:
        return []

    def write_outputs(self, outputs: Mapping[str, pd.DataFrame], cells: Mapping[tuple[str, str], Any]) -> None:
        """A folder has no output sheets: nothing is written into it."""

    def default_store(self) -> str | None:
        return None if self.store is None else str(self.store)


@dataclass(frozen=True)
class BookData:
    """The book's tables turned into records, with every bad row found on the way."""

    policy: Policy
    customers: tuple[Customer, ...]
    ledger: Ledger
    fx: FxRates | None
    problems: tuple[RowProblem, ...]


def read_book(tables: Mapping[str, pd.DataFrame], policy_rows: Sequence[tuple[str, Any]] | None,
              base_policy: Policy | None = None) -> BookData:
    """Turn a book's tables into records. The Policy sheet overrides ``base_policy`` (default: shipped)."""
    policy = Policy.from_rows(policy_rows, base_policy) if policy_rows else (base_policy or Policy())
    if "customers" not in tables:
        raise XlcError("Customers", "sheet or table not found")
    if "invoices" not in tables:
        raise XlcError("Invoices", "sheet or table not found")
    customers = read_customers(tables["customers"], default_currency=policy.company.currency)
    loaded = load_ledger(tables["invoices"], tables.get("payments"), tables.get("credit_notes"), policy=policy)
    fx = None
    problems = [*customers.problems, *loaded.problems]
    fx_table = tables.get("fx_rates")
    if fx_table is not None and len(fx_table):
        fx_load = load_fx_rates(fx_table, policy=policy)
        fx = fx_load.fx
        problems.extend(fx_load.problems)
    return BookData(policy, customers.customers, loaded.ledger, fx, tuple(problems))


#: An as-of date more than this many days after the ledger's newest document gets a warning.
STALE_DAYS = 31


def as_of_for(ledger: Ledger, as_of: dt.date | None, label: str) -> tuple[dt.date, str | None]:
    """The date a job runs as of, and a line saying so when it was not given or looks wrong.

    Not given: the ledger's newest document date (a file is as of when it was exported, not as of today).
    Given, but more than :data:`STALE_DAYS` after the newest document: a warning with both dates (every item
    would look that much more overdue than the file can know). Given, but before some documents: one warning
    line per table with how many are dated after it and the latest (:func:`future_dated`), lines joined by
    a newline.
    """
    day, note = as_of_note(ledger.latest_document_date(), as_of, label)
    future = future_dated_notes(ledger, day)
    if future:   # never with a stale or a taken as-of (the newest document is then on or before it)
        note = "\n".join(future if note is None else (note, *future))
    return day, note


#: What each table's documents dated after the as-of date are, in words, and where their date is read.
_FUTURE_TABLES = (("invoices", "invoice", "invoice_date"), ("payments", "payment", "payment_date"),
                  ("credit_notes", "credit note", "date"))


def future_dated(counts: Mapping[str, tuple[int, dt.date | None]], as_of: dt.date) -> tuple[RowProblem, ...]:
    """One row problem per table holding documents dated after ``as_of``: how many, the latest, what happens.

    ``counts``: table → (documents dated after ``as_of``, the latest of their dates). The engine leaves such a
    document out of everything worked out as of ``as_of`` (:func:`xlcredit.core.openitems.allocate`): an invoice
    is not aged, dunned or counted in the balance, a payment or credit note settles nothing yet. Row 0: the
    problem is the table's, not one row's.
    """
    out: list[RowProblem] = []
    for table, noun, column in _FUTURE_TABLES:
        count, latest = counts.get(table, (0, None))
        if not count or latest is None:
            continue
        plural = f"{count} {noun}s are" if count != 1 else f"1 {noun} is"
        effect = ("not aged, dunned or counted in any balance" if table == "invoices"
                  else "not applied to any invoice")
        out.append(RowProblem(table, 0, column, latest.isoformat(),
                              f"{plural} dated after the as-of date {as_of.isoformat()}, the latest "
                              f"{latest.isoformat()}: left out of this run as of {as_of.isoformat()} ({effect})"))
    return tuple(out)


def future_counts(ledger: Ledger, as_of: dt.date) -> dict[str, tuple[int, dt.date | None]]:
    """Per table, the documents of ``ledger`` dated after ``as_of``: (how many, the latest date)."""
    dates = {"invoices": [d.invoice_date for d in ledger.invoices],
             "payments": [d.payment_date for d in ledger.payments],
             "credit_notes": [d.date for d in ledger.credit_notes]}
    out: dict[str, tuple[int, dt.date | None]] = {}
    for table, days in dates.items():
        later = [d for d in days if d > as_of]
        out[table] = (len(later), max(later, default=None))
    return out


def future_dated_notes(ledger: Ledger, as_of: dt.date) -> tuple[str, ...]:
    """:func:`future_dated` as warning lines, one per table (the lines ``as_of_for`` adds to its note)."""
    return tuple(f"warning: {p.problem}" for p in future_dated(future_counts(ledger, as_of), as_of))


def as_of_note(latest: dt.date | None, as_of: dt.date | None, label: str) -> tuple[dt.date, str | None]:
    """:func:`as_of_for` from the newest document date already known (the bulk path reads it from its columns)."""
    if as_of is None:
        if latest is None:
            raise XlcError("as_of", f"is not given and {label} holds no dated document to take it from", None)
        return latest, f"as of {latest}, the newest document date in {label} (use --as-of to choose another)"
    if latest is not None and (as_of - latest).days > STALE_DAYS:
        return as_of, (f"warning: as of {as_of}, but the newest document in {label} is dated {latest} "
                       f"({(as_of - latest).days} days earlier): payments since then are not in the file, so "
                       f"items may look more overdue than they are")
    return as_of, None


__all__ = ["ARROW_LEDGER_COLUMNS", "STALE_DAYS", "TABLE_NAMES", "Book", "BookData", "FolderBook", "Progress",
           "WorkbookFile", "as_of_for", "as_of_note", "future_counts", "future_dated", "future_dated_notes",
           "read_book"]
