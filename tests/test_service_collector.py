"""The collector's day over HTTP: record and list promises, disputes, plans and contacts (controller writes, read
lists), bad values as a 422 in the command line's words, and ``GET /v1/worklist`` — the worklist a refresh of an
inline book stored, ranked with the records the service took.

Book (shipped policy, refreshed as of 2026-10-05): C1 owes INV-1 EUR 10,000 due 1 Sep (34 days past due) and INV-3
EUR 3,000 due 10 Sep; C2 owes INV-9 EUR 2,000 due 28 Sep. C1 points: overdue 30 × 13,000/50,000 = 7.8 → 8, days
20 × 34/90 = 7.6 → 8 (16); with the whole of INV-1 in dispute, + 5 for the open dispute (21).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from xlcredit.io.store import CreditStore
from xlcredit.jobs.book import FolderBook
from xlcredit.jobs.refresh import refresh
from xlcredit.service import app as app_module
from xlcredit.service.app import create_app

TABLES = {
    "customers": pd.DataFrame([["C1", "Anchor Foods", "75", "600000", "2019-01-01", "Anna"],
                               ["C2", "Birch Ltd", "70", "200000", "2020-01-01", "Ben"]],
                              columns=["customer_id", "name", "rating", "annual_volume", "relationship_start",
                                       "owner"]),
    "invoices": pd.DataFrame([["C1", "INV-1", "EUR", "10000", "2026-08-01", "2026-09-01"],
                              ["C1", "INV-3", "EUR", "3000", "2026-08-10", "2026-09-10"],
                              ["C2", "INV-9", "EUR", "2000", "2026-08-29", "2026-09-28"]],
                             columns=["customer_id", "invoice_no", "currency", "amount", "invoice_date", "due_date"]),
}


@pytest.fixture
def service(tmp_path, monkeypatch):
    folder = tmp_path / "book"
    folder.mkdir()
    for name, frame in TABLES.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    store = CreditStore(tmp_path / "team.credit.db", stamp_ttl=0)
    keys = {"read": store.create_api_key("Reader", "read"), "controller": store.create_api_key("Maria", "controller")}
    monkeypatch.setattr(app_module, "today", lambda: dt.date(2026, 10, 5))
    client = TestClient(create_app(store.url, store=store))
    return client, keys, store, FolderBook(folder)


def test_records_round_trip_and_the_worklist_ranks_with_them(service):
    client, keys, store, book = service
    read, ctl = {"X-API-Key": keys["read"]}, {"X-API-Key": keys["controller"]}

    assert client.get("/v1/worklist", headers=read).json() == {"as_of": None, "computed_at": None,
                                                                "computed_by": "", "rows": []}
    refresh(book, dt.date(2026, 10, 5), store=store)
    answer = client.get("/v1/worklist", headers=read).json()
    assert answer["as_of"] == "2026-10-05"
    assert [(r["rank"], r["customer_id"], r["priority"], r["stage"]) for r in answer["rows"]] == [
        (1, "C1", 16, "Formal demand"), (2, "C2", 3, "Reminder letter")]
    assert answer["rows"][0]["reason_1"] == "EUR 13,000.00 overdue"

    # a reader may list but not write
    body = {"customer_id": "C1", "invoice_no": "INV-1", "reason": "quality", "opened_on": "2026-10-02"}
    assert client.post("/v1/disputes", json=body, headers=read).status_code == 403
    r = client.post("/v1/disputes", json=body, headers=ctl)
    assert r.status_code == 201, r.text
    dispute_id = r.json()["id"]
    assert client.get("/v1/disputes", params={"customer_id": "C1"}, headers=read).json()[0]["reason"] == "quality"

    # the next refresh ranks with the dispute: INV-1 is off the ladder, one dispute open
    refresh(book, dt.date(2026, 10, 5), store=store)
    c1 = client.get("/v1/worklist", params={"owner": "ANNA"}, headers=read).json()["rows"]
    assert [(r["customer_id"], r["priority"], r["stage"], r["disputes_open"]) for r in c1] == [
        ("C1", 21, "Phone call", 1)]
    assert store.result("C1")["dunning_stage"] == "Phone call"

    r = client.post(f"/v1/disputes/{dispute_id}/resolve", json={"resolution": "upheld", "outcome": "invoice correct",
                                                                "resolved_on": "2026-10-04"}, headers=ctl)
    assert r.status_code == 200 and r.json()["resolution"] == "upheld"
    assert client.post("/v1/disputes/999/resolve", json={"resolution": "upheld"}, headers=ctl).status_code == 404

    # a plan: today (5 Oct) is the agreement day by default; two instalments of EUR 1,000
    r = client.post("/v1/plans", json={"customer_id": "C2", "amount": "2000", "instalments": 2,
                                       "first_due": "2026-10-20", "invoice_nos": ["INV-9"]}, headers=ctl)
    assert r.status_code == 201, r.text
    assert [(i["due_date"], i["principal"]) for i in r.json()["instalments"]] == [
        ("2026-10-20", "1000.00"), ("2026-11-20", "1000.00")]
    r = client.post("/v1/promises", json={"customer_id": "C1", "promised_date": "2026-10-07", "amount": "13000"},
                    headers=ctl)
    assert r.status_code == 201 and r.json()["taken_on"] == "2026-10-05" and r.json()["taken_by"] == "Maria"
    r = client.post("/v1/contacts", json={"customer_id": "C1", "outcome": "promised", "note": "pays Wednesday"},
                    headers=ctl)
    assert r.status_code == 201
    refresh(book, dt.date(2026, 10, 5), store=store)
    rows = {r["customer_id"]: r for r in client.get("/v1/worklist", headers=read).json()["rows"]}
    assert (rows["C1"]["on_hold"], rows["C1"]["last_contact"]) == ("promised for 2026-10-07",
                                                                    "2026-10-05 call: promised (Maria)")
    assert (rows["C2"]["on_hold"], rows["C2"]["next_action"]) == ("on a payment plan",
                                                                  "check instalment 1 of EUR 1,000.00")
    assert [r["customer_id"] for r in client.get("/v1/worklist", params={"top": 1}, headers=read).json()["rows"]] \
        == ["C1"]
    history = client.get("/v1/contacts", params={"customer_id": "C1"}, headers=read).json()
    assert [(h["kind"], h["what"], h["note"]) for h in history] == [("contact", "call: promised", "pays Wednesday")]
    assert len(client.get("/v1/promises", headers=read).json()) == 1
    assert len(client.get("/v1/plans", headers=read).json()) == 1


@pytest.mark.parametrize(("path", "body", "words"), [
    ("/v1/promises", {"customer_id": "C1", "promised_date": "2026-10-01", "taken_on": "2026-10-03"},
     "promised_date: is before the day the promise was taken (2026-10-01 < 2026-10-03)"),
    ("/v1/promises", {"customer_id": "C1", "promised_date": "soon"}, "promised_date: is not a date"),
    ("/v1/disputes", {"customer_id": "C1", "invoice_no": "INV-1", "reason": "too dear"},
     "reason: must be one of price, quantity, quality, not received, duplicate, other (got 'too dear')"),
    ("/v1/plans", {"customer_id": "C1", "amount": "0.15", "instalments": 10, "first_due": "2026-11-30"},
     "instalments: 10 instalments of EUR 0.02 would pay more than EUR 0.15: choose fewer instalments"),
    ("/v1/contacts", {"customer_id": "C1", "outcome": "hung up"},
     "outcome: must be one of reached, no answer, promised, disputed, refused (got 'hung up')"),
])
def test_bad_values_are_a_422_in_the_command_lines_words(service, path, body, words):
    client, keys, _, _ = service
    r = client.post(path, json=body, headers={"X-API-Key": keys["controller"]})
    assert r.status_code == 422
    assert words in r.json()["detail"][0]["msg"]
