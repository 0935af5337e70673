"""The Worklist button, ``xlcredit worklist`` and ``GET /v1/worklist``: who to call today, in order, and why.

Worklist = read the book's tables and the collector's records (:mod:`xlcredit.jobs.collector`: the Promises,
Disputes, Plans and Contacts sheets or files, and what the credit database holds) → assess the portfolio with
the promises, disputes and plans holding the ladder (:func:`xlcredit.core.portfolio.assess_portfolio`) → score
every customer with open items (:mod:`xlcredit.core.worklist`: points per reason, the top three in words, the
next action and its date) → write the Worklist sheet (a workbook book) and hand the rows back.

The account owner of a customer is the ``owner`` column of the customers table (also read as ``collector``,
``account owner`` or ``credit controller``); without one, the policy's credit controller owns every account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import RowProblem
from xlcredit.core.policy import Policy
from xlcredit.core.portfolio import assess_portfolio
from xlcredit.core.worklist import WorklistRow, build_worklist, work_items
from xlcredit.io.store import CreditStore
from xlcredit.io.tables import normalise_header
from xlcredit.jobs.book import Book, Progress, as_of_for, read_book
from xlcredit.jobs.collector import book_collections, existing_store

__all__ = ["OWNER_HEADERS", "WORKLIST_COLUMNS", "WorklistOutcome", "owners_from", "worklist", "worklist_frame"]

#: Customers-table headers read as the account owner (normalised).
OWNER_HEADERS: tuple[str, ...] = ("owner", "accountowner", "collector", "creditcontroller")
#: Columns of the Worklist sheet and ``--out``.
#: Who, how urgent, what to do and when, how much and the first reason come first: they are what the Worklist
#: sheet prints (one page wide), the rest is on the screen and in ``--out``.
WORKLIST_COLUMNS: tuple[str, ...] = (
    "rank", "customer_id", "name", "priority", "next_action", "next_action_date", "overdue", "currency",
    "reason_1", "reason_2", "reason_3", "owner", "stage", "days_past_due", "on_hold", "promises_kept",
    "promises_broken", "disputes_open", "plan", "last_contact")


@dataclass(frozen=True)
class WorklistOutcome:
    """What the worklist run found: the rows (ranked), the rows it could not use, a note on the as-of date."""

    as_of: dt.date
    rows: tuple[WorklistRow, ...]
    problems: tuple[RowProblem, ...]
    notes: tuple[str, ...] = ()
    store_url: str | None = None

    def frame(self) -> pd.DataFrame:
        """The rows as the Worklist sheet shows them."""
        return worklist_frame(self.rows)


def worklist_frame(rows: Sequence[WorklistRow]) -> pd.DataFrame:
    """The Worklist sheet / ``--out`` table (:data:`WORKLIST_COLUMNS`)."""
    return pd.DataFrame([r.to_record() for r in rows], columns=list(WORKLIST_COLUMNS))


def owners_from(customers: pd.DataFrame | None) -> dict[str, str]:
    """Customer id → account owner, from an ``owner`` (or ``collector``, …) column of the customers table."""
    if customers is None or customers.empty:
        return {}
    headers = {normalise_header(c): c for c in customers.columns}
    owner_col = next((headers[h] for h in OWNER_HEADERS if h in headers), None)
    id_col = next((headers[h] for h in ("customerid", "customer", "id") if h in headers), None)
    if owner_col is None or id_col is None:
        return {}
    out: dict[str, str] = {}
    for cid, owner in zip(customers[id_col], customers[owner_col], strict=True):
        if cid is None or owner is None or (isinstance(owner, float) and owner != owner):
            continue
        key = str(int(cid)) if isinstance(cid, float) and cid.is_integer() else str(cid).strip()
        if key and str(owner).strip():
            out[key] = str(owner).strip()
    return out


def worklist(book: Book, as_of: dt.date | None, *, store: str | CreditStore | None = None,
             base_policy: Policy | None = None, top: int | None = None, owner: str | None = None,
             write: bool = True, who: str = "worklist", progress: Progress | None = None) -> WorklistOutcome:
    """The Worklist button: rank every customer with open items at ``as_of`` (module docstring).

    ``as_of`` None: the ledger's newest document date (said in ``notes``). ``store``: the credit database whose
    promises, disputes, plans and contacts count too (default: the book's own, when it exists — reading never
    creates one). ``top``/``owner``: the first so many rows / one owner's customers. ``write``: write the
    Worklist sheet of a workbook book and, for a whole worklist, keep it in the credit database (``GET
    /v1/worklist``).
    """
    if top is not None and top < 1:
        raise XlcError("top", f"must be 1 or more (got {top})", top)
    say = progress or (lambda _m: None)
    say(f"reading {book.label}")
    tables = book.read_tables()
    data = read_book(tables, book.read_policy_rows(), base_policy)
    day, note = as_of_for(data.ledger, as_of, book.label)
    credit_store = existing_store(store if store is not None else book.default_store())
    records, record_problems = book_collections(book, tables, data.policy.company.currency, credit_store)
    say(f"assessing {len(data.customers)} customers")
    portfolio = assess_portfolio(data.customers, data.ledger, data.policy, day, data.fx, records)
    items = work_items(portfolio, data.ledger, day, data.policy, records, owners_from(tables.get("customers")))
    rows = build_worklist(items, day, data.policy, top=top, owner=owner)
    problems = (*data.problems, *record_problems,
                *(RowProblem("customers", 0, p.field, p.customer_id, p.problem) for p in portfolio.problems))
    if write and credit_store is not None and top is None and not owner:   # the service's GET /v1/worklist
        from xlcredit.io.collector import save_worklist

        save_worklist(credit_store, day, [r.to_record() for r in rows], who=who)
    notes = [] if note is None else [note]
    if write and _has_worklist_sheet():
        say("writing the Worklist sheet")
        try:
            book.write_outputs({"Worklist": worklist_frame(rows)}, {("Worklist", "B2"): day})
        except XlcError as exc:   # a workbook made before the Worklist sheet: the list is still shown, not lost
            if "Worklist" not in exc.problem:
                raise
            notes.append(f"{book.label} has no Worklist sheet (a workbook older than the Worklist button): the "
                         "worklist is shown here but not written into it; copy your sheets into the current "
                         "CreditControl.xlsm to keep it there")
    return WorklistOutcome(day, rows, tuple(problems), tuple(notes), None if credit_store is None else credit_store.url)


def _has_worklist_sheet() -> bool:
    from xlcredit.io import workbook as wb

    return "Worklist" in wb.OUTPUT_SHEETS


def records_of(outcome: WorklistOutcome) -> list[Mapping[str, Any]]:
    """The rows as records (the CLI's table and ``--out``, the API)."""
    return [r.to_record() for r in outcome.rows]
