"""The Review Portfolio button and ``xlcredit review``: one job over a "book" of tables.

Review = read the book's tables (Customers, Invoices, Payments, Credit Notes, FX Rates, the Policy sheet)
→ :func:`xlcredit.core.review.run_review` (review status and triggers, insurance deadlines, IFRS 9
provision, cash forecast; see that module for every rule) → write the Review sheet and the Dashboard's
forecast figures → record a review in the credit database for every customer that was due, with the
figures it was reviewed on (grade, score, limit; rating and insured limit in the notes), so the next run
knows when each customer was last reviewed and what changed since. A book may also carry a Reviews table
(:data:`REVIEW_COLUMNS`): the review history of the previous credit system, read besides the reviews the
credit database recorded — each customer's latest review of the two counts. The collector's promises to pay (the
Promises sheet or file, and the credit database) are evaluated as the worklist evaluates them: kept and broken
counts per customer feed the broken-promise early warning (:func:`promise_records`).

A book is a :class:`xlcredit.jobs.book.Book` — the workbook file (:class:`xlcredit.jobs.book.WorkbookFile`), the
workbook open in Excel (``xlcredit.excel.XlwingsBook``) — or a :class:`xlcredit.jobs.book.FolderBook`: a folder of
ledger files (``customers``, ``invoices``, ``payments``, ``credit_notes``, ``fx_rates``, ``reviews`` as .csv,
.parquet or .xlsx), the bundled sample when no folder is given. A folder book has no sheets: its results are
printed and written with ``--out`` only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from xlcredit.core.coerce import is_blank, to_date
from xlcredit.core.collections import Collections
from xlcredit.core.errors import XlcError
from xlcredit.core.fast.ageing import EPOCH, day_number, frames_to_arrays
from xlcredit.core.ledger import Ledger, RowProblem
from xlcredit.core.money import to_decimal
from xlcredit.core.monitoring import LastReview, PromiseRecord
from xlcredit.core.policy import GRADES, Policy
from xlcredit.core.review import PortfolioReview, run_review
from xlcredit.io.ledger import LedgerFrames, load_fx_rates, load_ledger, load_ledger_frames, records_of
from xlcredit.io.tables import read_customers
from xlcredit.jobs.book import ARROW_LEDGER_COLUMNS, as_of_note, future_dated
from xlcredit.jobs.collector import book_collections

__all__ = ["ACTION_COLUMNS", "REVIEW_COLUMNS", "ReviewOutcome", "actions_frame", "dashboard_cells", "forecast_frame",
           "forecast_values", "imported_reviews", "last_reviews_from", "latest_reviews", "ledger_columns",
           "promise_records", "provision_frame", "review", "review_notes", "review_sheet"]

Progress = Callable[[str], None]
#: Columns of the action-list rows (those of the letters job's action list, plus the reason).
ACTION_COLUMNS = ("customer_id", "name", "stage", "action", "due_date", "amount", "currency", "owner", "status",
                  "reason")


# --------------------------------------------------------------------------- the credit database
def review_notes(review: PortfolioReview, customer_id: str) -> str:
    """What a recorded review keeps besides grade, score and limit: rating, insured limit, the warnings (JSON)."""
    f = review.figures[customer_id]
    case = next(c for c in review.cases if c.customer_id == customer_id)
    data = {"rating": None if f.customer.rating is None else str(f.customer.rating),
            "insured_limit": None if f.customer.insured_limit is None else str(f.customer.insured_limit),
            "review": case.review_type, "warnings": [t.title for t in case.triggers]}
    return json.dumps(data, ensure_ascii=False)


#: Columns of the optional Reviews table: a review history imported from the previous credit system.
REVIEW_COLUMNS = ("customer_id", "review_date", "grade", "score", "credit_limit", "notes")


def imported_reviews(frame: pd.DataFrame | None) -> tuple[list[dict[str, Any]], list[RowProblem]]:
    """The rows of the Reviews table (the review history of the previous credit system; optional) as review
    records like ``CreditStore.reviews()`` rows, and every row that could not be read (row, column, value, why).

    customer_id and review_date are required; grade (A–E), score (whole number), credit_limit and notes may be
    blank; headers in words ("Review date") are read too. Rows are numbered as the user sees them (header = row 1).
    """
    if frame is None or frame.empty:
        return [], []
    frame = frame.rename(columns=lambda c: str(c).strip().lower().replace(" ", "_"))   # "Review date" too
    missing = [c for c in ("customer_id", "review_date") if c not in frame.columns]
    if missing:
        return [], [RowProblem("reviews", 1, c, None, "column is missing: the review history is not used")
                    for c in missing]
    rows: list[dict[str, Any]] = []
    problems: list[RowProblem] = []
    for i, record in enumerate(frame.to_dict("records")):
        row = i + 2
        cells = {c: record.get(c) for c in REVIEW_COLUMNS}
        if all(is_blank(v) for v in cells.values()):
            continue
        try:
            if is_blank(cells["customer_id"]):
                raise XlcError("customer_id", "is empty", cells["customer_id"])
            cid = str(cells["customer_id"]).strip()
            day = to_date(cells["review_date"], "review_date")
            grade = None if is_blank(cells["grade"]) else str(cells["grade"]).strip().upper()
            if grade is not None and grade not in GRADES:
                raise XlcError("grade", f"must be one of {', '.join(GRADES)} or blank (got {grade!r})",
                               cells["grade"])
            score = to_decimal(cells["score"], "score", allow_none=True)
            if score is not None and score != score.to_integral_value():
                raise XlcError("score", f"must be a whole number (got {score})", cells["score"])
            limit = to_decimal(cells["credit_limit"], "credit_limit", allow_none=True)
        except XlcError as exc:
            problems.append(RowProblem("reviews", row, exc.field, cells.get(exc.field, exc.value), exc.problem))
            continue
        notes = "" if is_blank(cells["notes"]) else str(cells["notes"])
        rows.append({"customer_id": cid, "review_date": day, "grade": grade,
                     "score": None if score is None else int(score), "credit_limit": limit, "notes": notes})
    return rows, problems


def latest_reviews(imported: Sequence[Mapping[str, Any]], recorded: Sequence[Mapping[str, Any]]
                   ) -> dict[str, LastReview]:
    """Each customer's latest review from the imported history and the credit database together (the later
    date wins; on the same day the one recorded in the database)."""
    merged = sorted([*imported, *recorded], key=lambda r: r["review_date"])   # stable: recorded after imported
    return last_reviews_from(merged)


def last_reviews_from(rows: Sequence[Mapping[str, Any]]) -> dict[str, LastReview]:
    """The latest recorded review of each customer (rows of ``CreditStore.reviews()``, oldest first)."""
    out: dict[str, LastReview] = {}
    for row in rows:
        notes: dict[str, Any] = {}
        text = row.get("notes") or ""
        if text.strip().startswith("{"):
            try:
                loaded = json.loads(text)
                notes = loaded if isinstance(loaded, dict) else {}
            except ValueError:
                notes = {}
        limit = row.get("credit_limit")
        out[str(row["customer_id"])] = LastReview(
            review_date=row["review_date"], grade=row.get("grade") or None, score=row.get("score"),
            credit_limit=None if limit is None else Decimal(limit),
            rating=to_decimal(notes.get("rating"), "rating", allow_none=True),
            insured_limit=to_decimal(notes.get("insured_limit"), "insured_limit", allow_none=True))
    return out


# --------------------------------------------------------------------------- output tables
def review_sheet(review: PortfolioReview) -> pd.DataFrame:
    """The Review sheet: one row per customer, those to review first (see ``PortfolioReview.rows``)."""
    return pd.DataFrame.from_records(review.rows())


def actions_frame(review: PortfolioReview) -> pd.DataFrame:
    """Action-list rows: reviews to hold and insurer deadlines (customer, action, due date, amount, owner)."""
    return pd.DataFrame.from_records(review.action_rows(), columns=list(ACTION_COLUMNS))


def provision_frame(review: PortfolioReview) -> pd.DataFrame:
    """The provision matrix: per bucket the gross amount, loss rate and lifetime ECL (company currency)."""
    lines = review.provision.by_bucket.lines
    records = [{"bucket": ln.label, "gross": ln.gross, "loss_rate": ln.loss_rate,
                "historical_rate": review.matrix.historical[i], "ecl": ln.ecl} for i, ln in enumerate(lines)]
    records.append({"bucket": "Total", "gross": review.provision.total_gross, "loss_rate": None,
                    "historical_rate": None, "ecl": review.provision.total_ecl})
    return pd.DataFrame.from_records(records)


def forecast_frame(review: PortfolioReview) -> pd.DataFrame:
    """The weekly collection forecast: week, first and last day, amount, invoices; then later/doubtful/disputed."""
    return pd.DataFrame.from_records(review.forecast.rows())


# --------------------------------------------------------------------------- the ledger as bulk columns
def _typed(frame: pd.DataFrame | None, table: str) -> bool:
    """An Arrow-typed table (as read from Parquet) with the documented column names."""
    if frame is None:
        return True
    cols = ARROW_LEDGER_COLUMNS[table]
    return all(c in frame.columns for c in cols) and all(isinstance(frame[c].dtype, pd.ArrowDtype) for c in cols)


def ledger_columns(tables: Mapping[str, pd.DataFrame], policy: Policy
                   ) -> tuple[Any, Any, list[RowProblem]]:
    """The book's ledger as bulk columns, the invoice number of each invoices row, and the rows with problems
    (:func:`_ledger_parts` without the validated frames)."""
    frames, numbers, problems, _checked = _ledger_parts(tables, policy)
    return frames, numbers, problems


def _ledger_parts(tables: Mapping[str, pd.DataFrame], policy: Policy
                  ) -> tuple[Any, Any, list[RowProblem], LedgerFrames | None]:
    """The book's ledger as bulk columns, the invoice number of each invoices row, and the rows with problems.

    Tables typed as Parquet stores them (Arrow columns under the documented names) go straight to
    ``fast.ageing.frames_to_arrays``, which checks every row itself — the fast path for ledgers of a million
    invoices. Anything else (CSV text, sheet cells, column aliases) is read by :mod:`xlcredit.io.ledger`
    first. Rows are numbered as the user sees them (header = row 1).
    """
    parts = {name: tables.get(name) for name in ("invoices", "payments", "credit_notes")}
    if all(_typed(frame, name) for name, frame in parts.items()):
        frames = frames_to_arrays(parts["invoices"], parts["payments"], parts["credit_notes"])
        numbers = parts["invoices"]["invoice_no"].to_numpy(dtype=object)
        problems = [RowProblem(p.table, p.row + 2, p.column, p.value, p.problem) for p in frames.problems]
        return frames, numbers, problems, None
    ledger = load_ledger_frames(parts["invoices"], parts["payments"], parts["credit_notes"], policy=policy)
    invoices, payments, credit_notes = ledger.contract_tables()
    frames = frames_to_arrays(invoices, payments, credit_notes)  # rows already checked by the reader
    return frames, invoices["invoice_no"].to_numpy(dtype=object), list(ledger.problems), ledger


def _ledger_of(customer_ids: set[str], tables: Mapping[str, pd.DataFrame], checked: LedgerFrames | None,
               policy: Policy) -> Ledger:
    """The documents of a few customers as Decimal records (the promises' reference path), from the frames the
    reader validated, or — for Arrow-typed tables that skipped it — from those customers' rows read again."""
    def mine(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        return None if frame is None else frame[frame["customer_id"].astype(str).isin(customer_ids)]

    if checked is not None:
        return records_of(dataclasses.replace(checked, invoices=mine(checked.invoices),
                                              payments=mine(checked.payments),
                                              credit_notes=mine(checked.credit_notes)))
    return load_ledger(mine(tables.get("invoices")), mine(tables.get("payments")), mine(tables.get("credit_notes")),
                       policy=policy).ledger


def _promised(status: Any) -> str:
    """``EUR 2,000.00 promised for 2026-10-10 (phone, Ben)``: what a promise said, without where it stands."""
    from xlcredit.core.collections import money_words

    p = status.promise
    how = ", ".join(x for x in (p.channel, p.taken_by) if x)
    return f"{money_words(status.amount, status.currency)} promised for {p.promised_date.isoformat()}" + \
        (f" ({how})" if how else "")


def promise_records(records: Collections, ledger: Ledger, as_of: dt.date, policy: Policy
                    ) -> tuple[dict[str, PromiseRecord], list[RowProblem]]:
    """Each customer's kept and broken promises to pay at ``as_of`` (what the worklist counts too:
    :func:`xlcredit.core.collections.customer_collections` on the allocation at ``as_of``), and the promises that
    could not be read against the ledger (row 0 of the promises, the customer as the value)."""
    from xlcredit.core.collections import customer_collections
    from xlcredit.core.openitems import allocate

    items: dict[str, list[Any]] = {}
    for (cid, _ccy), position in allocate(ledger, as_of).items():
        items.setdefault(cid, []).extend(position.items)
    out: dict[str, PromiseRecord] = {}
    problems: list[RowProblem] = []
    for cid in sorted({p.customer_id for p in records.promises}):
        held = customer_collections(cid, items.get(cid, []), ledger.payments, as_of, policy,
                                    Collections(promises=records.of(cid).promises))
        problems.extend(RowProblem("promises", 0, exc.field, cid, exc.problem) for exc in held.problems)
        broken = tuple((ps.deadline + dt.timedelta(days=1), _promised(ps)) for ps in held.promises
                       if ps.status == "broken")
        if held.kept or broken:
            out[cid] = PromiseRecord(held.kept, broken)
    return out, problems


# --------------------------------------------------------------------------- the job
@dataclass(frozen=True)
class ReviewOutcome:
    """What the review did: its results, the rows it could not use, where it recorded, how many reviews."""

    review: PortfolioReview
    problems: tuple[RowProblem, ...]
    store_url: str | None
    recorded: int
    notes: tuple[str, ...] = ()


def _policy(rows: Sequence[tuple[str, Any]] | None, base: Policy | None) -> Policy:
    return Policy.from_rows(rows, base) if rows else (base or Policy())


def _as_of(frames: Any, as_of: dt.date | None, label: str) -> tuple[dt.date, list[str]]:
    """The review's date: given, or the newest document date of the ledger's columns (see
    :func:`xlcredit.jobs.book.as_of_for`, the same rule for the record-by-record jobs), and the notes: the date
    taken, a stale as-of, or one warning per table with documents dated after it (left out of the review)."""
    days = [int(a.max()) for a in (frames.invoices.invoice_date, frames.credits.date) if len(a)]
    latest = EPOCH + dt.timedelta(days=max(days)) if days else None
    day, note = as_of_note(latest, as_of, label)
    a = day_number(day)
    counts: dict[str, tuple[int, dt.date | None]] = {}
    credit_days = np.asarray(frames.credits.date)
    kinds = np.asarray(frames.credit_table)
    for table, column in (("invoices", np.asarray(frames.invoices.invoice_date)),
                          ("payments", credit_days[kinds == 0]), ("credit_notes", credit_days[kinds == 1])):
        later = column[column > a]
        counts[table] = (int(later.size), EPOCH + dt.timedelta(days=int(later.max())) if later.size else None)
    return day, [*([] if note is None else [note]), *(f"warning: {p.problem}" for p in future_dated(counts, day))]


def review(book: Any, as_of: dt.date | None, *, store: Any = None, base_policy: Policy | None = None,
           record: bool = True, write: bool = True, loss_rates: Sequence[Any] | None = None, who: str = "review",
           now: dt.datetime | None = None, progress: Progress | None = None) -> ReviewOutcome:
    """The Review Portfolio button: review the book at ``as_of``, write the Review sheet, record the reviews.

    ``store``: a ``CreditStore``, a database path/URL, or None for the book's default (a folder book has
    none: nothing is recorded and last reviews are unknown). ``record``: record a review for every
    customer that was due; ``write``: write the Review sheet (False: compute and return only).
    """
    from xlcredit.io.store import CreditStore, open_store

    say = progress or (lambda _m: None)
    say(f"reading {book.label}")
    tables = book.read_tables()
    policy = _policy(book.read_policy_rows(), base_policy)
    if "customers" not in tables:
        raise XlcError("Customers", "sheet or table not found")
    if "invoices" not in tables:
        raise XlcError("Invoices", "sheet or table not found")
    customers = read_customers(tables["customers"], default_currency=policy.company.currency)
    say("reading the ledger")
    problems: list[RowProblem] = list(customers.problems)
    frames, invoice_numbers, ledger_problems, checked = _ledger_parts(tables, policy)
    problems.extend(ledger_problems)
    as_of, notes = _as_of(frames, as_of, book.label)
    fx = None
    fx_table = tables.get("fx_rates")
    if fx_table is not None and len(fx_table):
        fx_load = load_fx_rates(fx_table, policy=policy)
        fx = fx_load.fx
        problems.extend(fx_load.problems)

    target = store if store is not None else book.default_store()
    credit_store = None
    if target is not None:
        credit_store = target if isinstance(target, CreditStore) else open_store(target)
    history, history_problems = imported_reviews(tables.get("reviews"))
    problems.extend(history_problems)
    last = latest_reviews(history, credit_store.reviews() if credit_store is not None else [])
    # the collector's promises to pay (sheets or files, and the credit database): kept and broken per customer
    records, record_problems = book_collections(book, tables, policy.company.currency, credit_store)
    problems.extend(record_problems)
    promises: dict[str, PromiseRecord] = {}
    if records.promises:
        say("promises to pay")
        promises, promise_problems = promise_records(
            records, _ledger_of({p.customer_id for p in records.promises}, tables, checked, policy), as_of, policy)
        problems.extend(promise_problems)

    result = run_review(customers.customers, frames, policy, as_of, fx=fx, last_reviews=last,
                        invoice_numbers=invoice_numbers, loss_rates=loss_rates, promises=promises, progress=say)
    problems.extend(RowProblem("customers", 0, p.field, p.customer_id, p.problem) for p in result.problems)

    recorded = 0
    if record and credit_store is not None:
        say("recording the reviews")
        recorded = credit_store.record_reviews(
            [{"customer_id": c.customer_id, "review_date": result.as_of, "grade": c.grade,
              "score": result.figures[c.customer_id].score.score, "credit_limit": result.figures[c.customer_id].limit,
              "notes": review_notes(result, c.customer_id)} for c in result.due], who=who, now=now)
    if write:
        say("writing the Review sheet")
        book.write_outputs({"Review": review_sheet(result)}, dashboard_cells(book, result))
    return ReviewOutcome(result, tuple(problems), None if credit_store is None else credit_store.url, recorded,
                         tuple(notes))


def dashboard_cells(book: Any, result: PortfolioReview) -> dict[tuple[str, str], Any]:
    """The Review sheet's as-of cell, and the Dashboard's forecast block when the workbook declares one."""
    from xlcredit.io import workbook as wb

    cells: dict[tuple[str, str], Any] = {("Review", wb.OUTPUT_SHEETS["Review"].as_of_cell): result.as_of}
    names = getattr(wb, "DASHBOARD_CELLS", {})
    declared = {name: value for name, value in forecast_values(result).items() if name in names}
    if declared:
        cells.update(wb.dashboard_cells(declared))
    return cells


def forecast_values(result: PortfolioReview) -> dict[str, Any]:
    """Dashboard figures of the review: the weekly forecast (label, amount), ECL, expected indemnity, reviews due."""
    values: dict[str, Any] = {}
    for w in result.forecast.weeks:
        values[f"forecast{w.week}_label"] = w.start
        values[f"forecast{w.week}_amount"] = w.amount
    values["forecast_later"] = result.forecast.later
    values["ecl_total"] = result.provision.total_ecl
    values["indemnity_expected"] = sum((s.expected_indemnity for s in result.insurance.values()), Decimal(0))
    values["reviews_due"] = len(result.due)
    return values
