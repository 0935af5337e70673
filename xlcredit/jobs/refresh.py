"""The Refresh Ageing button, ``xlcredit refresh`` and ``POST /v1/refresh``: one job over a book.

Refresh = read the book's tables → assess the portfolio (score, limits, terms, ageing, dunning, KPIs) →
load the credit database the Excel functions read → write the Ageing sheet and the Dashboard
figures, with the policy check's findings in the Dashboard's Policy check block. Bad rows are reported
and the good ones still processed. The database is written before the workbook; each write is atomic
on its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from xlcredit.core.ledger import RowProblem
from xlcredit.core.policy import Policy
from xlcredit.core.policy_check import Finding, check_policy
from xlcredit.core.portfolio import Portfolio, assess_portfolio, kpi_values, result_rows
from xlcredit.io import workbook as wb
from xlcredit.io.store import CreditStore, open_store
from xlcredit.jobs.book import Book, Progress, as_of_note, future_counts, future_dated, read_book
from xlcredit.jobs.collector import book_collections


@dataclass(frozen=True)
class RefreshOutcome:
    """What a refresh did: the portfolio it computed, the problems it reported, where it wrote; the policy
    check's findings and notes on the as-of date."""

    portfolio: Portfolio
    problems: tuple[RowProblem, ...]
    store_url: str
    stamp: int
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()


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


def refresh(book: Book, as_of: dt.date | None, *, store: str | CreditStore | None = None,
            base_policy: Policy | None = None, who: str = "refresh", now: dt.datetime | None = None,
            progress: Progress | None = None) -> RefreshOutcome:
    """The Refresh button: assess the book at ``as_of``, load the credit database, write Ageing + Dashboard.

    ``as_of`` None: the ledger's newest document date (:func:`xlcredit.jobs.book.as_of_for`; the outcome's
    ``notes`` say so, or warn of an as-of long after the newest document). The policy check's findings
    (:mod:`xlcredit.core.policy_check`) come back in ``findings``. Documents dated after ``as_of`` are left out of
    the run and said in ``problems``, one row 0 per table (:func:`xlcredit.jobs.book.future_dated`).
    """
    say = progress or (lambda _msg: None)
    say(f"reading {book.label}")
    tables = book.read_tables()
    data = read_book(tables, book.read_policy_rows(), base_policy)
    as_of, note = as_of_note(data.ledger.latest_document_date(), as_of, book.label)
    future = future_dated(future_counts(data.ledger, as_of), as_of)   # documents after as_of: left out, said so
    findings = check_policy(data.policy, data.customers, data.ledger, data.fx, as_of)
    credit_store = store if isinstance(store, CreditStore) else open_store(store or book.default_store())
    # promises, disputes and payment plans (sheets and database) hold the ladder: the stored stage says so too
    records, record_problems = book_collections(book, tables, data.policy.company.currency, credit_store)
    say(f"assessing {len(data.customers)} customers")
    portfolio = assess_portfolio(data.customers, data.ledger, data.policy, as_of, data.fx, records)
    problems = (*data.problems, *future, *record_problems,
                *(RowProblem("customers", 0, p.field, p.customer_id, p.problem) for p in portfolio.problems))
    say("loading the credit database")
    stamp = credit_store.replace_snapshot(
        as_of, [c.customer for c in portfolio.customers], result_rows(portfolio), who,
        source=book.label, now=now)
    if credit_store.policy() != data.policy:
        credit_store.set_policy(data.policy, who)
    # the worklist of this refresh, for GET /v1/worklist (the Worklist button ranks it again with today's records)
    from xlcredit.core.worklist import build_worklist, work_items
    from xlcredit.io.collector import save_worklist
    from xlcredit.jobs.worklist import owners_from

    ranked = build_worklist(work_items(portfolio, data.ledger, as_of, data.policy, records,
                                       owners_from(tables.get("customers"))), as_of, data.policy)
    save_worklist(credit_store, as_of, [r.to_record() for r in ranked], who=who, now=now)
    say("writing the Ageing sheet and the Dashboard")
    moment = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None, microsecond=0)
    book.write_outputs({"Ageing": ageing_sheet(portfolio)},
                       wb.dashboard_cells(dashboard_values(portfolio, moment) | wb.policy_check_values(findings))
                       | {("Ageing", "B2"): as_of})
    return RefreshOutcome(portfolio, tuple(problems), credit_store.url, stamp, findings,
                          () if note is None else (note,))


__all__ = ["RefreshOutcome", "ageing_sheet", "dashboard_values", "refresh"]
