"""POST /v1/audit: the policy audit of uploaded tables answers what ``xlcredit audit`` computes for the same
tables (the job is shared), against the shipped ``strict`` policy or an uploaded TOML; bad input is 422 in words.

The tables: C1 pays its invoices on time; C2 never pays J1 (due 10 Jan 2026, so a default on 9 Jul) nor J2.
"""

from __future__ import annotations

import datetime as dt

from xlcredit.io.store import CreditStore, to_json_data
from xlcredit.jobs.audit import comparison_rows, run_audit
from xlcredit.jobs.book import FolderBook

CUSTOMERS = ("customer_id,annual_volume,relationship_start,rating,insured_limit\n"
             "C1,36500,2020-01-01,70,\nC2,36500,2020-01-01,60,1000\n")
INVOICES = ("customer_id,invoice_no,currency,amount,invoice_date,due_date\n"
            "C1,I1,EUR,4000,2026-01-10,2026-03-11\nC1,I2,EUR,2000,2026-02-10,2026-04-11\n"
            "C2,J1,EUR,3000,2025-12-10,2026-01-10\nC2,J2,EUR,1500,2026-02-05,2026-03-07\n")
PAYMENTS = ("payment_id,customer_id,payment_date,amount,currency,invoice_ref\n"
            "P1,C1,2026-03-01,4000,EUR,I1\nP2,C1,2026-04-05,2000,EUR,I2\nP9,C1,2026-12-31,1,EUR,\n")
B_POLICY = '[terms]\nB = "Net 30"\n[limits]\nterms_margin_days = 0\n'


def test_post_audit_matches_the_job(tmp_path):
    from fastapi.testclient import TestClient

    from xlcredit.service.app import create_app

    folder = tmp_path / "tables"
    folder.mkdir()
    for name, text in (("customers", CUSTOMERS), ("invoices", INVOICES), ("payments", PAYMENTS)):
        (folder / f"{name}.csv").write_text(text, "utf-8")
    expected = run_audit(FolderBook(folder), dt.date(2026, 1, 1), dt.date(2026, 2, 28), against="strict")
    db = tmp_path / "team.credit.db"
    store = CreditStore(db, stamp_ttl=0)
    key = {"X-API-Key": store.create_api_key("reader", "read")}
    files = {n: (f"{n}.csv", t.encode()) for n, t in (("customers", CUSTOMERS), ("invoices", INVOICES),
                                                      ("payments", PAYMENTS))}
    with TestClient(create_app(str(db), store=store)) as client:
        r = client.post("/v1/audit", data={"date_from": "2026-01-01", "date_to": "2026-02-28", "against": "strict"},
                        files=files, headers=key)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["policy_a"], body["policy_b"]) == ("current", "strict")
        assert body["month_ends"] == ["2026-01-31", "2026-02-28"]
        assert body["comparison"] == to_json_data(comparison_rows(expected.audit))
        defaulted = next(row for row in body["comparison"] if row["measure"] == "Orders that later defaulted")
        assert defaulted["a"] == 1     # J2, the one order of C2 in the period (J1 came before it)

        own = client.post("/v1/audit", data={"date_from": "2026-01-01", "date_to": "2026-02-28"},
                          files={**files, "against_policy": ("net30.toml", B_POLICY.encode())}, headers=key)
        assert own.status_code == 200 and own.json()["policy_b"] == "net30"

        xlsx = client.post("/v1/audit?format=xlsx", data={"date_from": "2026-01-01", "date_to": "2026-02-28"},
                           files=files, headers=key)
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
        pdf = client.post("/v1/audit?format=pdf", data={"date_from": "2026-01-01", "date_to": "2026-02-28",
                                                        "against": "strict"}, files=files, headers=key)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content[:5] == b"%PDF-" and 'filename="audit-2026-01-31-2026-02-28.pdf"' in \
            pdf.headers["content-disposition"]

        bad = client.post("/v1/audit", data={"date_from": "2026-01-01", "date_to": "2026-02-28",
                                             "against": "/etc/passwd"}, files=files, headers=key)
        assert bad.status_code == 422 and "against: must be one of strict (or upload against_policy)" in bad.text
        bad = client.post("/v1/audit", data={"date_to": "2026-02-28"}, files=files, headers=key)
        assert bad.status_code == 422 and "date_from: is required" in bad.text
        bad = client.post("/v1/audit", data={"date_from": "2026-03-01", "date_to": "2026-02-01"}, files=files,
                          headers=key)
        assert bad.status_code == 422 and "to: is before the start of the period" in bad.text
        assert client.post("/v1/audit", data={"date_from": "2026-01-01", "date_to": "2026-02-28"},
                           files=files).status_code == 401
