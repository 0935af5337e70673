"""POST /v1/bank/match and /v1/bank/apply: the proposals of ``xlcredit match`` over HTTP, and the payments table
with the confident matches appended — twice the same statement adds nothing; bad input is 422 in words."""

from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path

from xlcredit.io.store import CreditStore

CUSTOMERS = "customer_id,name,currency\nC1,Ostermoor Werkzeugbau AG,EUR\nC2,Hasselbach GmbH,EUR\n"
INVOICES = ("customer_id,invoice_no,currency,amount,invoice_date,due_date\n"
            "C1,INV-2026-00087,EUR,1000.00,2026-09-01,2026-10-01\nC1,INV-2026-00090,EUR,250.00,2026-09-05,2026-10-05\n"
            "C2,INV-2026-00102,EUR,400.00,2026-09-20,2026-10-20\n")
PAYMENTS = "payment_id,customer_id,payment_date,amount,currency,invoice_ref\nP1,C2,2026-10-01,1.00,EUR,\n"
STATEMENT = ("Booking Date,Reference,Payer,IBAN,Description,Amount,Currency\n"
             "2026-11-03,B1,Ostermoor,,Rg INV 2026 87 und 2026-00090,1250.00,EUR\n"
             "2026-11-04,B2,Somebody,,thanks,77.00,EUR\n"
             "2026-11-04,B3,Bank,,fees,-5.00,EUR\n")


def _files(payments: str = PAYMENTS):
    return [("customers", ("customers.csv", CUSTOMERS.encode())), ("invoices", ("invoices.csv", INVOICES.encode())),
            ("payments", ("payments.csv", payments.encode())), ("statements", ("bank.csv", STATEMENT.encode()))]


def test_match_and_apply_over_http(tmp_path: Path):
    from fastapi.testclient import TestClient

    from xlcredit.service.app import create_app

    db = tmp_path / "team.credit.db"
    store = CreditStore(db, stamp_ttl=0)
    read = {"X-API-Key": store.create_api_key("reader", "read")}
    ctl = {"X-API-Key": store.create_api_key("ctl", "controller")}
    with TestClient(create_app(str(db), store=store)) as client:
        r = client.post("/v1/bank/match", files=_files(), headers=read)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["counts"] == {"auto": 1, "review": 0, "unmatched": 1, "duplicate": 0, "not a credit": 1}
        first = body["proposals"][0]
        assert (first["customer_id"], first["invoices"], first["status"]) == ("C1", "INV-2026-00087 INV-2026-00090",
                                                                             "auto")
        assert first["source"] == "bank.csv line 2"
        assert client.post("/v1/bank/apply", files=_files(), headers=read).status_code == 403
        applied = client.post("/v1/bank/apply", files=_files(), headers=ctl)
        assert applied.status_code == 200 and applied.headers["X-Rows-Added"] == "2"
        rows = list(csv.DictReader(io.StringIO(applied.text)))
        assert [(r["invoice_ref"], r["amount"], r["bank_reference"]) for r in rows[1:]] == [
            ("INV-2026-00087", "1000.00", "B1"), ("INV-2026-00090", "250.00", "B1")]
        again = client.post("/v1/bank/apply", files=_files(applied.text), headers=ctl)
        assert again.headers["X-Rows-Added"] == "0" and again.text == applied.text
        bad = client.post("/v1/bank/apply", files=_files(), data={"accept": "B2"}, headers=ctl)
        assert bad.status_code == 422 and "accept: not among the confident matches: B2" in bad.text
        none = client.post("/v1/bank/match", files=_files()[:3], headers=read)
        assert none.status_code == 422


UNREFERENCED = STATEMENT + "2026-11-05,,Hasselbach,,Rechnung INV-2026-00102,399.00,EUR\n"


@contextlib.contextmanager
def _team_service(tmp_path: Path):
    """The service over a fresh team database, and a controller's API-key header."""
    from fastapi.testclient import TestClient

    from xlcredit.service.app import create_app

    db = tmp_path / "team.credit.db"
    store = CreditStore(db, stamp_ttl=0)
    ctl = {"X-API-Key": store.create_api_key("ctl", "controller")}
    with TestClient(create_app(str(db), store=store)) as client:
        yield client, ctl


def test_apply_names_the_transactions_it_did_not_apply_for_want_of_a_reference(tmp_path: Path):
    """A confident match without a bank reference (the export's reference cell is empty) is not applied — as the
    Apply Matches button and ``xlcredit match --apply`` — and the answer names it in their words: ``X-Not-Applied``
    (how many) and ``X-Not-Applied-Transactions`` (a JSON list of ASCII-escaped lines), both in the OpenAPI schema.
    Before, only ``X-Rows-Added`` was right and the skipped payment was not mentioned at all."""
    import json

    with _team_service(tmp_path) as (client, ctl):
        files = [*_files()[:3], ("statements", ("bank.csv", UNREFERENCED.encode()))]
        applied = client.post("/v1/bank/apply", files=files, headers=ctl)
        assert applied.status_code == 200, applied.text
        assert applied.headers["X-Rows-Added"] == "2"
        assert [r["bank_reference"] for r in csv.DictReader(io.StringIO(applied.text))][1:] == ["B1", "B1"]
        assert applied.headers["X-Not-Applied"] == "1"
        lines = json.loads(applied.headers["X-Not-Applied-Transactions"])
        assert lines == [
            "not applied: bank.csv line 5 (2026-11-05, 399.00 EUR, Hasselbach): no bank reference, so it could not be "
            "recorded in a way that stops it being applied twice — not applied; check it is not in the Payments table "
            "already, then enter it there by hand (with a Bank reference of your own, e.g. the date and amount), or "
            "use an export that has a reference column"]
        clean = client.post("/v1/bank/apply", files=_files(), headers=ctl)
        assert clean.headers["X-Not-Applied"] == "0" and json.loads(clean.headers["X-Not-Applied-Transactions"]) == []
        chosen = client.post("/v1/bank/apply", files=files, data={"accept": "B1"}, headers=ctl)
        assert chosen.headers["X-Not-Applied"] == "0"      # not asked for: nothing to name
        schema = client.get("/openapi.json").json()
        answer = schema["paths"]["/v1/bank/apply"]["post"]["responses"]["200"]
        assert {"X-Rows-Added", "X-Not-Applied", "X-Not-Applied-Transactions"} <= set(answer["headers"])
        assert "no bank reference" in answer["headers"]["X-Not-Applied-Transactions"]["description"]


def test_the_not_applied_header_names_a_few_and_counts_the_rest(tmp_path: Path, monkeypatch):
    """Reviewer's finding: the header grew ≈ 350 bytes per unapplied match (a bank export without a reference column
    makes every one unapplied) past what proxies accept. It names the first ``NOT_APPLIED_NAMED`` and counts the
    rest; ``X-Not-Applied`` keeps the whole count. (Here the limit is 0, so the one unapplied match is counted.)"""
    import json

    import xlcredit.service.bank as bank_routes

    monkeypatch.setattr(bank_routes, "NOT_APPLIED_NAMED", 0)
    with _team_service(tmp_path) as (client, ctl):
        files = [*_files()[:3], ("statements", ("bank.csv", UNREFERENCED.encode()))]
        applied = client.post("/v1/bank/apply", files=files, headers=ctl)
    assert applied.headers["X-Not-Applied"] == "1"
    assert json.loads(applied.headers["X-Not-Applied-Transactions"]) == [
        "… and 1 more: POST /v1/bank/match lists every proposal, those without a bank reference with it blank"]
