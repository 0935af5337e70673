"""POST /v1/bank/match and /v1/bank/apply: the proposals of ``xlcredit match`` over HTTP, and the payments table
with the confident matches appended — twice the same statement adds nothing; bad input is 422 in words."""

from __future__ import annotations

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
