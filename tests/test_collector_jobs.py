"""The collector's records in the jobs: letters hold promised and planned items back, leave disputed parts out
of the claim and escalate on a broken promise at once; refresh stores the held stage; the worklist job reads the
workbook-less folder and the credit database alike.

Ledger (shipped policy, contract interest 8 % a year on a 365-day basis, from the day after the due date): C1 owes
INV-1 EUR 10,000 due 1 Sep 2026. On 20 Sep (19 days past due: Phone call, no letter) it promises to pay on 25 Sep;
the grace runs to 28 Sep.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from xlcredit.core.collections import Collections, Dispute, Promise
from xlcredit.core.ledger import Invoice, Ledger, Payment
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer
from xlcredit.jobs.letters import plan_letters

D = Decimal
POLICY = Policy()
C1 = Customer("C1", name="Anchor Foods", rating=D(75), annual_volume=D(600000), relationship_start=dt.date(2019, 1, 1))
INV1 = Invoice("C1", "INV-1", "EUR", D("10000"), dt.date(2026, 8, 1), dt.date(2026, 9, 1))
PROMISE = Promise("C1", dt.date(2026, 9, 25), dt.date(2026, 9, 20), D("10000"), ("INV-1",))


def plan(ledger: Ledger, as_of: dt.date, records: Collections | None = None):
    letters, actions, problems = plan_letters([C1], ledger, POLICY, as_of, collections=records)
    assert problems == []
    return letters, actions


def test_no_letter_while_the_promise_holds_and_a_formal_demand_the_day_it_breaks():
    ledger = Ledger((INV1,), (Payment("P1", "C1", dt.date(2026, 9, 26), D("4000"), "EUR"),))
    records = Collections(promises=(PROMISE,))
    # 27 Sep without the promise: 26 days past due → Phone call (an action, no letter)
    letters, actions = plan(ledger, dt.date(2026, 9, 27))
    assert letters == [] and [a.action for a in actions] == ["Phone call"]
    # with the promise open nothing is dunned at all
    assert plan(ledger, dt.date(2026, 9, 27), records) == ([], [])
    # 29 Sep: broken → Formal demand at once (without the promise it would wait for 30 days, 1 Oct)
    letters, actions = plan(ledger, dt.date(2026, 9, 29), records)
    assert [(x.stage, x.template) for x in letters] == [("Formal demand", "formal_demand")]
    assert [a.action for a in actions] == ["Stop new orders"]
    # the letter claims the EUR 6,000 still owed for 28 days and the EUR 4,000 paid late for its 25 days:
    # (6,000 × 28 + 4,000 × 25) × 0.08 / 365 = 36.821… + 21.917… = 58.739… → 58.74
    line = letters[0].lines[0]
    assert (line.open_amount, line.days_overdue, line.interest) == (D("6000"), 28, D("58.74"))
    assert plan(ledger, dt.date(2026, 9, 29))[0] == []   # no promise, no early formal demand


def test_a_disputed_part_is_left_out_of_the_letter_and_its_claim():
    ledger = Ledger((INV1,))
    part = Dispute("C1", "INV-1", dt.date(2026, 9, 5), "price", D("2500"))
    # 31 Oct: 60 days past due → Legal action's letter before action; 7,500 claimed: 7,500 × 0.08 × 60/365 =
    # 98.63…  → 98.63 (on 10,000 it would be 131.51)
    letters, _ = plan(ledger, dt.date(2026, 10, 31), Collections(disputes=(part,)))
    line = letters[0].lines[0]
    assert (letters[0].stage, line.open_amount, line.interest) == ("Legal action", D("7500"), D("98.63"))
    whole = dataclasses.replace(part, amount=None)
    assert plan(ledger, dt.date(2026, 10, 31), Collections(disputes=(whole,))) == ([], [])


def test_refresh_stores_the_stage_the_promise_leaves(tmp_path):
    import csv

    from xlcredit.io.store import CreditStore
    from xlcredit.jobs.book import FolderBook
    from xlcredit.jobs.refresh import refresh

    folder = tmp_path / "book"
    folder.mkdir()
    tables = {
        "customers": [["customer_id", "name", "rating", "annual_volume", "relationship_start"],
                      ["C1", "Anchor Foods", "75", "600000", "2019-01-01"]],
        "invoices": [["customer_id", "invoice_no", "currency", "amount", "invoice_date", "due_date"],
                     ["C1", "INV-1", "EUR", "10000", "2026-08-01", "2026-09-01"]],
        "promises": [["Customer", "Promised date", "Taken on", "Invoices"],
                     ["C1", "2026-09-25", "2026-09-20", "INV-1"]],
    }
    for name, rows in tables.items():
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)
    store = CreditStore(tmp_path / "credit.db")
    outcome = refresh(FolderBook(folder), dt.date(2026, 9, 24), store=store)
    assert outcome.problems == ()
    assert store.result("C1")["dunning_stage"] == ""                 # held by the promise
    refresh(FolderBook(folder), dt.date(2026, 9, 29), store=store)
    assert store.result("C1")["dunning_stage"] == "Formal demand"    # broken: the next step at once


def test_the_bundled_sample_has_a_meaningful_collectors_day():
    """The sample's promises, disputes, plan and contacts (scripts/make_collector_sample.py) load without a problem
    against the sample ledger and give the worklist one promise of each status, disputes and a plan being kept."""
    from xlcredit.jobs.book import FolderBook
    from xlcredit.jobs.worklist import worklist

    outcome = worklist(FolderBook(None), dt.date(2026, 10, 31), write=False)
    assert outcome.problems == ()
    rows = {r.customer_id: r for r in outcome.rows}
    assert sum(r.promises_kept for r in rows.values()) == 1
    assert sum(r.promises_broken for r in rows.values()) == 1
    assert sum(1 for r in rows.values() if "promised for" in r.on_hold) == 1
    assert any("in dispute" in r.on_hold for r in rows.values())
    assert any(r.plan.startswith("plan of 3 instalments") and "1 kept" in r.plan for r in rows.values())
    assert sum(1 for r in rows.values() if r.last_contact) >= 3
