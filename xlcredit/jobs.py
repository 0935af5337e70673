"""What the buttons do, over a "book" of tables — the same code behind Excel, the CLI and the service.

A *book* is anything that can hand over the input tables (Customers, Invoices, Payments and, when
present, Credit Notes and FX Rates), the Policy rows, and take back the output sheets and Dashboard
cells: the workbook file read and patched without Excel (:class:`WorkbookFile`), or the workbook open
in Excel through xlwings (``xlcredit.excel.XlwingsBook``).

Refresh = read the tables → assess the portfolio (score, limits, terms, ageing, dunning, KPIs) →
load the credit database the Excel functions read → write the Ageing sheet and the Dashboard
figures. Bad rows are reported and the good ones still processed. The database is written before
the workbook; each write is atomic on its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import FxRates, Ledger, RowProblem
from xlcredit.core.policy import Policy
from xlcredit.core.portfolio import Portfolio, assess_portfolio, kpi_values, result_rows
from xlcredit.core.records import Customer
from xlcredit.io import workbook as wb
from xlcredit.io.ledger import load_fx_rates, load_ledger
from xlcredit.io.store import CreditStore, open_store, workbook_store
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


#: The tables a folder book reads, in order; customers and invoices are required.
TABLE_NAMES = ("customers", "invoices", "payments", "credit_notes", "fx_rates")
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
    ``fx_rates`` as .parquet, .csv or .xlsx — the bundled sample when ``folder`` is None.

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
            elif path.suffix == ".csv":
                out[name] = pd.read_csv(path, dtype=str, keep_default_na=False)
            else:
                out[name] = pd.read_excel(path, dtype=object)
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


@dataclass(frozen=True)
class RefreshOutcome:
    """What a refresh did: the portfolio it computed, the problems it reported, where it wrote."""

    portfolio: Portfolio
    problems: tuple[RowProblem, ...]
    store_url: str
    stamp: int


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


def ageing_sheet(portfolio: Portfolio) -> pd.DataFrame:
    """The Ageing output sheet: one row per customer and currency, names and dunning stage beside the buckets."""
    names = {c.customer.customer_id: c.customer.name for c in portfolio.customers}
    stages = {c.customer.customer_id: c.dunning.stage for c in portfolio.customers}
    records = portfolio.ageing.to_records()
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        return frame
    frame.insert(1, "name", [names.get(str(cid), "") for cid in frame["customer_id"]])
    frame["dunning_stage"] = [stages.get(str(cid), "") for cid in frame["customer_id"]]
    return frame


def dashboard_values(portfolio: Portfolio, refreshed_at: dt.datetime) -> dict[str, Any]:
    """The Dashboard's output cells: as-of, KPIs and the ageing-by-bucket block (company currency)."""
    values: dict[str, Any] = {"as_of": portfolio.as_of, "refreshed_at": refreshed_at,
                              **kpi_values(portfolio.kpis)}
    labels = portfolio.ageing.labels
    amounts = dict.fromkeys(labels, Decimal(0))
    for row in portfolio.ageing.rows:
        if row.buckets_company is None:
            continue
        for label in labels:
            amounts[label] += row.buckets_company.get(label, Decimal(0))
    total = sum(amounts.values(), Decimal(0))
    slots = len(wb.AGEING_BUCKET_ROWS)
    for i in range(slots):
        if i < len(labels):
            label = labels[i]
            values[f"bucket{i + 1}_label"] = label
            values[f"bucket{i + 1}_amount"] = amounts[label]
            values[f"bucket{i + 1}_share"] = (amounts[label] / total) if total else None
        else:
            values[f"bucket{i + 1}_label"] = values[f"bucket{i + 1}_amount"] = values[f"bucket{i + 1}_share"] = None
    values["ageing_total"] = total
    values["ageing_total_share"] = Decimal(1) if total else None
    return values


def refresh(book: Book, as_of: dt.date, *, store: str | CreditStore | None = None, base_policy: Policy | None = None,
            who: str = "refresh", now: dt.datetime | None = None, progress: Progress | None = None) -> RefreshOutcome:
    """The Refresh button: assess the book at ``as_of``, load the credit database, write Ageing + Dashboard."""
    say = progress or (lambda _msg: None)
    say(f"reading {book.label}")
    data = read_book(book.read_tables(), book.read_policy_rows(), base_policy)
    say(f"assessing {len(data.customers)} customers")
    portfolio = assess_portfolio(data.customers, data.ledger, data.policy, as_of, data.fx)
    problems = (*data.problems, *(RowProblem("customers", 0, p.field, p.customer_id, p.problem)
                                  for p in portfolio.problems))
    say("loading the credit database")
    credit_store = store if isinstance(store, CreditStore) else open_store(store or book.default_store())
    stamp = credit_store.replace_snapshot(
        as_of, [c.customer for c in portfolio.customers], result_rows(portfolio), who,
        source=book.label, now=now)
    if credit_store.policy() != data.policy:
        credit_store.set_policy(data.policy, who)
    say("writing the Ageing sheet and the Dashboard")
    moment = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None, microsecond=0)
    book.write_outputs({"Ageing": ageing_sheet(portfolio)},
                       wb.dashboard_cells(dashboard_values(portfolio, moment)) | {("Ageing", "B2"): as_of})
    return RefreshOutcome(portfolio, tuple(problems), credit_store.url, stamp)


__all__ = ["Book", "BookData", "RefreshOutcome", "WorkbookFile", "ageing_sheet", "dashboard_values",
           "read_book", "refresh"]
