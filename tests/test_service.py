"""The HTTP service, end to end: a real server process on 127.0.0.1 (started with `xlcredit serve`),
talked to over HTTP with httpx.

Proven here: every catalogue function answers per row (good rows computed, bad rows as
``{"error": "<field>: <problem>"}``) with the worked examples below; malformed input is a 422 naming
the field path; API keys and roles guard every /v1 path; every change is in the audit trail with
who, before and after; the register refuses a second issue (409); body, batch and time limits answer
413/413/503; the customer-level functions read what the last refresh stored.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from _store_fixtures import ROOT, Server, serve

from xlcredit.io.store import CreditStore

AS_OF = dt.date(2026, 10, 31)


def mint(db: str, name: str, role: str) -> str:
    """A key minted with the command line, as an administrator would: `xlcredit keys create NAME --role ROLE`."""
    done = subprocess.run([sys.executable, "-m", "xlcredit.cli", "keys", "create", name, "--role", role, "--db", db],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def seed(db: str) -> None:
    store = CreditStore(db)
    customers = [{"customer_id": "C001", "name": "Harbour Foods Ltd", "country": "GB", "currency": "GBP"},
                 {"customer_id": "C002", "name": "上海贸易有限公司", "country": "CN", "currency": "CNY",
                  "language": "zh"},
                 {"customer_id": "1003", "name": "Numeric Id GmbH", "country": "DE", "currency": "EUR"}]
    results = [
        {"customer_id": "C001", "score": 84, "grade": "A", "credit_limit": Decimal("180000.00"),
         "binding_rule": "limits.volume_share", "open_receivables": Decimal("40000.25"),
         "exposure": Decimal("52000.25"), "available": Decimal("127999.75"), "terms": "Net 90",
         "deposit_share": Decimal("0"), "dunning_stage": "", "days_past_due": 0, "overdue_amount": Decimal("0.00"),
         "explain": [{"factor": "rating", "value": "82", "points": 25}, {"factor": "years", "value": "6.1",
                                                                          "points": 10}]},
        {"customer_id": "C002", "score": 52, "grade": "C", "credit_limit": Decimal("30000"),
         "binding_rule": "limits.first_order_share", "exposure": Decimal("41000.10"),
         "available": Decimal("-11000.10"), "terms": "Net 30", "deposit_share": Decimal("0.3"),
         "dunning_stage": "Formal demand", "days_past_due": 33, "overdue_amount": Decimal("18250.00")},
        {"customer_id": "1003", "score": 30, "grade": "E", "credit_limit": Decimal("0"), "terms": "Cash in advance",
         "deposit_share": Decimal("1")},
    ]
    store.replace_snapshot(AS_OF, customers, results, "seed", source="test")
    store.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("service")
    db = str(folder / "team.credit.db")
    seed(db)
    store = CreditStore(db)
    keys = {"read": store.create_api_key("Reader", "read"), "controller": store.create_api_key("Maria", "controller"),
            "admin": mint(db, "Admin", "admin")}                     # the administrator's key: from the command line
    store.close()
    cmd = [sys.executable, "-m", "xlcredit.cli", "serve", "--db", db]
    with serve(db, folder, cmd=cmd) as server:
        yield server, keys, db


@pytest.fixture
def server(env) -> Server:
    return env[0]


@pytest.fixture
def keys(env) -> dict[str, str]:
    return env[1]


def call(server: Server, key: str, name: str, rows: list[dict]) -> list[dict]:
    with server.client(key) as c:
        r = c.post(f"/v1/functions/{name}", json={"rows": rows})
    assert r.status_code == 200, r.text
    return r.json()["results"]


# --------------------------------------------------------------------------- health and docs
def test_health_and_openapi_need_no_key(server: Server) -> None:
    h = httpx.get(server.base + "/health").json()
    assert h["status"] == "ok" and h["schema_version"] >= 1 and h["as_of"] == "2026-10-31"
    spec = httpx.get(server.base + "/openapi.json").json()
    for path in ("/v1/functions/late_interest", "/v1/functions/credit_limit", "/v1/register", "/v1/policy",
                 "/v1/keys", "/v1/results", "/v1/snapshot"):
        assert path in spec["paths"], path
    assert httpx.get(server.base + "/docs").status_code == 200


# --------------------------------------------------------------------------- pure functions
def test_late_interest_batch_with_good_and_bad_rows(server: Server, keys: dict[str, str]) -> None:
    """Simple interest I = P × r × t: 10,000 × 8 % × 30/365 = 65.753… → 65.75; actual/360 → 66.666… → 66.67."""
    got = call(server, keys["read"], "late_interest", [
        {"amount": 10000, "due_date": "2026-01-01", "as_of": "2026-01-31", "annual_rate": 0.08},
        {"amount": "10000", "due_date": "2026-01-01", "as_of": "2026-01-31", "annual_rate": "0.08", "basis": 360},
        {"amount": 10000, "due_date": "", "as_of": "2026-01-31", "annual_rate": 0.08},
        {"amount": -5, "due_date": "2026-01-01", "as_of": "2026-01-31", "annual_rate": 0.08},
        {"amount": 10000, "due_date": "2026-01-01", "as_of": "2026-01-31", "annual_rate": 8},
        {"amount": 1000000, "due_date": "2026-01-01", "as_of": "2026-01-31", "annual_rate": 0.08, "currency": "JPY"},
    ])
    assert got[0] == {"value": "65.75"}
    assert got[1] == {"value": "66.67"}
    assert got[2] == {"error": "due_date: is empty"}
    assert got[3] == {"error": "amount: must not be negative (got -5)"}
    assert got[4]["error"].startswith("annual_rate: is a fraction, not a percent")
    assert got[5] == {"value": "6575"}       # yen have no minor unit: 6,575.34 → 6,575


def test_days_overdue_takes_excel_serials_and_iso_text(server: Server, keys: dict[str, str]) -> None:
    """Excel serial 46000 is 2025-12-09 (day 1 = 1900-01-01 with Excel's 1900 leap-year bug): 53 days to 2026-01-31."""
    got = call(server, keys["read"], "days_overdue", [
        {"due_date": 46000, "as_of": "2026-01-31"}, {"due_date": "2026-02-15", "as_of": "2026-01-31"},
        {"due_date": "31/13/2026", "as_of": "2026-01-31"}, {"as_of": "2026-01-31"}])
    assert got[0] == {"value": 53} and got[1] == {"value": 0}
    assert got[2]["error"].startswith("due_date: is not a valid date")
    assert got[3] == {"error": "due_date: is empty"}


def test_statutory_interest_and_penalty_and_dso(server: Server, keys: dict[str, str]) -> None:
    """UK Late Payment Act: debt due 31 Mar 2024, interest from 1 Apr 2024; reference date 31 Dec 2023, Bank Rate
    5.25 % → 13.25 %; 90 days to 29 Jun 2024: 10,000 × 13.25 % × 90/365 = 326.71, plus £100 fixed sum (s.5A,
    debts of £10,000 or more). Daily penalty 0.05 %/day: 10,000 × 0.0005 × 30 = 150.00. DSO (CRF): 500,000 of
    receivables on 1,500,000 of credit sales over 90 days = 30 days."""
    stat = call(server, keys["read"], "statutory_interest", [
        {"amount": "10000", "due_date": "2024-03-31", "as_of": "2024-06-29", "regime": "UK"},
        {"amount": "10000", "due_date": "2024-03-31", "as_of": "2024-06-29", "regime": "FR"}])
    assert stat[0]["value"] == "426.71" and stat[0]["interest"] == "326.71" and stat[0]["compensation"] == "100.00"
    assert (stat[0]["rate"], stat[0]["reference_date"], stat[0]["days"], stat[0]["currency"]) == \
        ("0.1325", "2023-12-31", 90, "GBP")
    assert stat[1] == {"error": "regime: must be UK or EU (got 'FR')"}
    pen = call(server, keys["read"], "daily_penalty", [{"amount": 10000, "due_date": "2026-01-01",
                                                        "as_of": "2026-01-31"}])
    assert pen == [{"value": "150.00"}]
    dso = call(server, keys["read"], "dso", [{"receivables": 500000, "credit_sales": 1500000, "days": 90},
                                             {"receivables": 1, "credit_sales": 0, "days": 90}])
    assert dso[0] == {"value": "30.00"}
    assert dso[1]["error"].startswith("credit_sales: is zero")


def test_early_payment_discount(server: Server, keys: dict[str, str]) -> None:
    """"2/10 net 30": paid on day 10 earns 2 % (10,000 → 200.00); day 11 earns nothing."""
    got = call(server, keys["read"], "early_pay_discount", [
        {"amount": 10000, "invoice_date": "2026-01-01", "pay_date": "2026-01-11", "terms": "2/10 net 30"},
        {"amount": 10000, "invoice_date": "2026-01-01", "pay_date": "2026-01-12", "terms": "2/10 net 30"}])
    assert got == [{"value": "200.00"}, {"value": "0.00"}]


def test_score_of_and_grade_of(server: Server, keys: dict[str, str]) -> None:
    """The shipped scorecard (xlcredit/data/policy.toml bins): rating 82 → 25, debt ratio 0.4 → 11, quick ratio
    1.2 → 8, cash-flow ratio 0.3 → 7, 3 days late → 16, 6 years → 10, items over 90 and reference blank → their
    missing points 5 and 3: 85. Grade A starts at 80 but needs a clean payment record: 3 days late holds it at B.
    With 0 days late: 89, grade A."""
    got = call(server, keys["read"], "score_of", [
        {"rating": 82, "debt_ratio": 0.4, "quick_ratio": 1.2, "ocf_ratio": 0.3, "avg_days_late": 3, "years": 6},
        {"rating": "82", "debt_ratio": "0.4", "quick_ratio": "1.2", "ocf_ratio": "0.3", "avg_days_late": 0,
         "years": 6},
        {"rating": 120}])
    assert (got[0]["value"], got[0]["grade"]) == (85, "B") and "held at B" in got[0]["grade_note"]
    assert {f["factor"]: f["points"] for f in got[0]["factors"]}["rating"] == 25
    assert (got[1]["value"], got[1]["grade"]) == (89, "A")
    assert got[2] == {"error": "rating: must lie between 0 and 100 (got 120)"}
    grades = call(server, keys["read"], "grade_of", [{"score": 80}, {"score": 79}, {"score": 35}, {"score": 34},
                                                      {"score": "abc"}])
    assert [g.get("value") for g in grades[:4]] == ["A", "B", "D", "E"]
    assert grades[4]["error"].startswith("score: is not a number")


def test_score_and_limits_of_customer_records_match_the_engine(server: Server, keys: dict[str, str]) -> None:
    """The 60 sample customers sent as JSON records get exactly what the engine gives the customers table."""
    import csv

    from xlcredit.core.limits import recommend_limit
    from xlcredit.core.scoring import score_customer
    from xlcredit.core.terms import terms_for
    from xlcredit.data.sample import SAMPLE_AS_OF, sample_path
    from xlcredit.io.policy_file import load_policy
    from xlcredit.io.tables import read_customers

    policy = load_policy()
    with sample_path("customers").open(encoding="utf-8-sig", newline="") as fh:
        records = [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(fh)]
    records.append({**records[0], "customer_id": "BAD1", "rating": "excellent"})
    records.append({**records[1], "customer_id": "BAD2", "total_assets": "-5"})
    with server.client(keys["read"]) as c:
        scored = c.post("/v1/score", json={"as_of": "2026-10-31", "rows": records}).json()["results"]
        limited = c.post("/v1/limits", json={"as_of": "2026-10-31", "rows": records}).json()["results"]
    engine = read_customers(sample_path("customers"), default_currency=policy.company.currency).customers
    assert len(engine) == 60
    for i, customer in enumerate(engine):
        res = score_customer(customer, policy, SAMPLE_AS_OF)
        assert (scored[i]["customer_id"], scored[i]["value"], scored[i]["grade"]) == \
            (customer.customer_id, res.score, res.grade)
        limit = recommend_limit(customer, res.grade, policy, SAMPLE_AS_OF)
        terms = terms_for(customer, res.grade, policy, SAMPLE_AS_OF)
        assert (limited[i]["value"], limited[i]["binding_rule"], limited[i]["terms"], limited[i]["deposit_share"]) \
            == (format(limit.limit, "f"), limit.binding_rule, terms.label, format(terms.deposit_share, "f"))
        assert limited[i]["limit_reason"] == limit.reason      # the machine code travels beside the words
    assert scored[60] == {"error": "rating: is not a number (got 'excellent')"} == limited[60]
    assert scored[61]["error"] == "total_assets: must not be negative (got -5)"


def test_ageing_bucket(server: Server, keys: dict[str, str]) -> None:
    """Buckets of the shipped policy (ageing.bounds 0, 30, 60, 90, 180): 0 days → Current, 30 → 1-30, 31 → 31-60,
    180 → 91-180, 181 → 180+."""
    got = call(server, keys["read"], "ageing_bucket", [
        {"due_date": "2026-10-31", "as_of": "2026-10-31"}, {"due_date": "2026-10-01", "as_of": "2026-10-31"},
        {"due_date": "2026-09-30", "as_of": "2026-10-31"}, {"due_date": "2026-05-04", "as_of": "2026-10-31"},
        {"due_date": "2026-05-03", "as_of": "2026-10-31"}, {"due_date": "2026-05-03", "as_of": None}])
    assert [g.get("value") for g in got[:5]] == ["Current", "1-30", "31-60", "91-180", "180+"]
    assert got[5] == {"error": "as_of: is empty"}


INVOICES = (b"customer_id,invoice_no,currency,amount,invoice_date,due_date\n"
            b"K1,INV1,EUR,100,2026-09-01,2026-10-31\nK1,INV2,EUR,200,2026-08-01,2026-10-01\n"
            b"K1,INV3,EUR,300,2026-08-01,2026-09-30\nK1,INV4,EUR,400,2026-03-01,2026-04-01\n"
            b"K1,INV5,EUR,-5,2026-03-01,2026-04-01\n")
PAYMENTS = b"payment_id,customer_id,payment_date,amount,currency\nP1,K1,2026-10-15,150,EUR\n"


def test_ledger_upload_is_aged(server: Server, keys: dict[str, str]) -> None:
    """Allocation rule (core/openitems.py): the unreferenced payment of 150 settles the invoice due first (INV4, due
    2026-04-01: 400 → 250 open). At 2026-10-31: INV1 0 days → Current 100; INV2 30 days → 1-30 200; INV3 31 days →
    31-60 300; INV4 213 days → 180+ 250; open 850, overdue 750. INV5 (negative amount) is a problem row."""
    with server.client(keys["read"]) as c:
        r = c.post("/v1/ageing", files={"invoices": ("invoices.csv", INVOICES), "payments": ("pay.csv", PAYMENTS)},
                   data={"as_of": "2026-10-31", "items": "true"})
        assert r.status_code == 200, r.text
        body = r.json()
        row = body["rows"][0]
        assert (row["customer_id"], row["Current"], row["1-30"], row["31-60"], row["61-90"], row["180+"]) == \
            ("K1", "100.00", "200.00", "300.00", "0.00", "250.00")
        assert (row["open_total"], row["overdue"]) == ("850.00", "750.00")
        assert body["problems"] == [{"table": "invoices", "row": 6, "column": "amount", "value": "-5",
                                     "problem": "must not be negative (got -5)"}]
        assert {i["invoice_no"]: i["open_amount"] for i in body["items"]}["INV4"] == "250.00"
        x = c.post("/v1/ageing", params={"format": "xlsx"}, files={"invoices": ("invoices.csv", INVOICES)},
                   data={"as_of": "2026-10-31"})
        assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
        import io

        import openpyxl
        wb = openpyxl.load_workbook(io.BytesIO(x.content), read_only=True)
        assert wb.sheetnames == ["Ageing", "Open items", "Problems"]
        header, first = list(wb["Ageing"].iter_rows(max_row=2, values_only=True))
        assert dict(zip(header, first, strict=True))["180+"] == 400
        bad = c.post("/v1/ageing", files={"invoices": ("ledger.txt", b"abc")})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["msg"] == \
            "invoices: must be a .csv, .xlsx, .xlsm or .parquet file (got 'ledger.txt')"
        bad = c.post("/v1/ageing", files={"invoices": ("my ledger.xlsx", b"PK\x03\x04 not a workbook")})
        assert bad.status_code == 422 and "my ledger.xlsx" in bad.json()["detail"][0]["msg"]
        assert "/tmp" not in bad.json()["detail"][0]["msg"]


def test_sample_ledger_upload_matches_the_engine(server: Server, keys: dict[str, str]) -> None:
    """The bundled two-year ledger uploaded over HTTP ages exactly as the engine ages the files themselves."""
    from xlcredit.core.ageing import age_ledger
    from xlcredit.data.sample import SAMPLE_AS_OF, sample_path
    from xlcredit.io.ledger import load_ledger
    from xlcredit.io.policy_file import load_policy

    names = ("invoices", "payments", "credit_notes", "fx_rates")
    with server.client(keys["read"]) as c:
        r = c.post("/v1/ageing", data={"as_of": SAMPLE_AS_OF.isoformat()},
                   files={n: (f"{n}.csv", sample_path(n).read_bytes()) for n in names})
    assert r.status_code == 200, r.text
    policy = load_policy()
    loaded = load_ledger(*(sample_path(n) for n in names[:3]), policy=policy, fx_rates=sample_path("fx_rates"))
    report = age_ledger(loaded.ledger, SAMPLE_AS_OF, policy, fx=loaded.fx)
    expected = report.to_records(totals=False)
    got = r.json()["rows"]
    assert len(got) == len(expected) > 50
    for g, e in zip(got, expected, strict=True):
        assert g == {k: (None if v is None else format(v, "f") if isinstance(v, Decimal) else v) for k, v in e.items()}
    assert r.json()["totals"]["open_total"] == format(report.totals.open_total, "f")


# --------------------------------------------------------------------------- customer-level functions
def test_customer_functions_read_the_credit_database(server: Server, keys: dict[str, str]) -> None:
    rows = [{"customer": "C001"}, {"customer": "C002"}, {"customer": 1003}, {"customer": "C404"}, {"customer": ""}]
    k = keys["read"]
    assert [r.get("value") for r in call(server, k, "credit_score", rows)[:3]] == [84, 52, 30]
    assert [r.get("value") for r in call(server, k, "credit_grade", rows)[:3]] == ["A", "C", "E"]
    limits = call(server, k, "credit_limit", rows)
    assert [r.get("value") for r in limits[:3]] == ["180000.00", "30000", "0"]
    assert limits[3] == {"error": "customer: C404 is not in the credit database (refresh it, or check the id)"}
    assert limits[4] == {"error": "customer: is empty"}
    avail = call(server, k, "credit_available", rows[:2])
    assert avail[0]["value"] == "127999.75" and avail[1]["value"] == "-11000.10"
    assert [r["value"] for r in call(server, k, "credit_terms", rows[:3])] == ["Net 90", "Net 30", "Cash in advance"]
    assert [r["value"] for r in call(server, k, "deposit_required", rows[:3])] == ["0", "0.3", "1"]
    assert call(server, k, "dunning_stage", rows[1:2])[0]["value"] == "Formal demand"
    explain = call(server, k, "credit_explain", rows[:1])[0]
    assert explain["value"][0] == {"factor": "rating", "value": "82", "points": 25} and explain["grade"] == "A"


# --------------------------------------------------------------------------- malformed input
def test_malformed_input_is_422_with_the_field_path(server: Server, keys: dict[str, str]) -> None:
    with server.client(keys["read"]) as c:
        r = c.post("/v1/functions/late_interest", json={"rows": [{"amount": 1}] * 3 + [{"due_date": {"y": 2026}}]})
        assert r.status_code == 422
        assert r.json()["detail"][0]["field"] == "rows[3].due_date"
        assert r.json()["detail"][0]["msg"] == ("rows[3].due_date: must be text, a number, true/false or blank "
                                                "(got an object)")
        r = c.post("/v1/functions/late_interest", json={"rows": [{"amont": 1}]})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "rows[0].amont"
        r = c.post("/v1/functions/days_overdue", json={"rows": "all of them"})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "rows"
        r = c.post("/v1/functions/days_overdue", content=b'{"rows": [', headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith("body: is not valid JSON")
        r = c.post("/v1/functions/days_overdue", json={"rows": [{"due_date": "x" * 32_768}]})
        assert r.status_code == 422 and "at most 32767 characters (got 32768)" in r.json()["detail"][0]["msg"]
        # TRUE is a value an Excel cell can hold: refused for its row, in the words the cell shows
        r = c.post("/v1/functions/days_overdue", json={"rows": [{"due_date": True, "as_of": "2026-01-31"},
                                                               {"due_date": "2026-01-01", "as_of": "2026-01-31"}]})
        assert r.status_code == 200
        assert r.json()["results"] == [{"error": "due_date: is not a date (got True)"}, {"value": 30}]


# --------------------------------------------------------------------------- access
def test_keys_and_roles_guard_every_change(server: Server, keys: dict[str, str]) -> None:
    body = {"rows": [{"due_date": "2026-01-01", "as_of": "2026-01-31"}]}
    with httpx.Client(base_url=server.base) as anon:
        r = anon.post("/v1/functions/days_overdue", json=body)
        assert r.status_code == 401 and r.json()["detail"] == "X-API-Key: missing, unknown or revoked API key"
        assert anon.post("/v1/functions/days_overdue", json=body, headers={"X-API-Key": "xlc_nope"}).status_code == 401
    change = {"settings": {"limits.volume_share": "0.15"}}
    with server.client(keys["read"]) as c:
        assert c.patch("/v1/policy", json=change).status_code == 403
        r = c.put("/v1/customers/C001/limit", json={"credit_limit": "1", "reason": "x"})
        assert r.status_code == 403 and r.json()["detail"] == "this needs the controller role; the key 'Reader' " \
            "has the read role"
        assert c.get("/v1/keys").status_code == 403
    with server.client(keys["controller"]) as c:
        assert c.patch("/v1/policy", json=change).status_code == 403
        assert c.get("/v1/audit").status_code == 403
    with server.client(keys["admin"]) as c:
        minted = c.post("/v1/keys", json={"name": "temp", "role": "read"})
        assert minted.status_code == 201
        temp = minted.json()
    with server.client(temp["key"]) as c:
        assert c.post("/v1/functions/days_overdue", json=body).status_code == 200
        with server.client(keys["admin"]) as a:
            assert a.delete(f"/v1/keys/{temp['id']}").status_code == 204
            listed = {k["id"]: k for k in a.get("/v1/keys").json()}
            assert listed[temp["id"]]["revoked_at"] is not None and "key_hash" not in listed[temp["id"]]
            assert a.delete(f"/v1/keys/{temp['id']}").status_code == 404
        assert c.post("/v1/functions/days_overdue", json=body).status_code == 401   # revoked: at once


# --------------------------------------------------------------------------- changes and the audit trail
def test_manual_limit_is_applied_and_audited(server: Server, keys: dict[str, str]) -> None:
    with server.client(keys["controller"]) as c:
        tag = c.get("/v1/customers/C002").headers["ETag"]
        r = c.put("/v1/customers/C002/limit", json={"credit_limit": "45000", "reason": "guarantee received"},
                  headers={"If-Match": tag})
        assert r.status_code == 200, r.text
        assert r.headers["ETag"] != tag and r.headers["ETag"] == c.get("/v1/customers/C002").headers["ETag"]
        # available = limit − exposure = 45,000 − 41,000.10
        assert r.json()["credit_limit"] == "45000" and r.json()["available"] == "3999.90"
        assert r.json()["recommended_limit"] == "30000"
        assert call(server, keys["read"], "credit_limit", [{"customer": "C002"}]) == \
            [{"value": "45000", "as_of": "2026-10-31"}]
        assert c.put("/v1/customers/C404/limit", json={"credit_limit": "1", "reason": "x"},
                     headers={"If-Match": "*"}).status_code == 404
        r = c.put("/v1/customers/C002/limit", json={"credit_limit": "-1", "reason": "x"}, headers={"If-Match": "*"})
        assert r.status_code == 422 and r.json()["detail"][0]["msg"] == "credit_limit: must not be negative (got -1)"
        tag = c.get("/v1/customers/C002").headers["ETag"]
        assert c.delete("/v1/customers/C002/limit", headers={"If-Match": tag}).status_code == 204
        assert c.delete("/v1/customers/C002/limit", headers={"If-Match": "*"}).status_code == 404
    assert call(server, keys["read"], "credit_limit", [{"customer": "C002"}])[0]["value"] == "30000"
    with server.client(keys["admin"]) as a:
        trail = a.get("/v1/audit", params={"entity": "customer:C002"}).json()
    assert [t["action"] for t in trail] == ["set_limit", "clear_limit"]
    assert trail[0]["who"].startswith("Maria (key ") and trail[0]["before"] == {"credit_limit": "30000"}
    assert trail[0]["after"]["credit_limit"] == "45000" and trail[0]["after"]["reason"] == "guarantee received"


def test_policy_change_is_validated_applied_and_audited(server: Server, keys: dict[str, str]) -> None:
    with server.client(keys["admin"]) as a:
        before = a.get("/v1/policy").json()["settings"]
        assert before["limits.volume_share"] == "0.15"
        tag = a.get("/v1/policy").headers["ETag"]
        r = a.patch("/v1/policy", json={"settings": {"limits.volume_share": "1.5"}}, headers={"If-Match": tag})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "limits.volume_share"
        r = a.patch("/v1/policy", json={"settings": {"grades.A": 85}}, headers={"If-Match": tag})
        assert r.status_code == 200 and r.json()["settings"]["grades.A"] == "85"
        assert r.json()["settings"]["limits.volume_share"] == "0.15"        # PATCH keeps the rest
        trail = a.get("/v1/audit", params={"entity": "policy"}).json()[-1]
        assert trail["who"].startswith("Admin (key ") and trail["after"] == {"grades.A": "85"}
        assert trail["before"] == {"grades.A": "80"}
        assert a.put("/v1/policy", json={"settings": {}}, headers={"If-Match": tag}).status_code == 412  # stale
        a.put("/v1/policy", json={"settings": {}}, headers={"If-Match": r.headers["ETag"]})   # back to the defaults
    with server.client(keys["read"]) as c:
        assert c.get("/v1/policy").json()["settings"]["grades.A"] == "80"


def test_register_refuses_a_second_issue_of_the_same_stage(server: Server, keys: dict[str, str]) -> None:
    entry = {"customer_id": "C002", "step_index": 3, "stage": "Formal demand", "items": ["INV-7", "INV-9"],
             "as_of": "2026-10-31", "amount": "18250.00", "currency": "CNY", "file_path": "letters/C002.pdf"}
    with server.client(keys["controller"]) as c:
        first = c.post("/v1/register", json=entry)
        assert first.status_code == 201 and first.json()["resend"] == 0 and first.json()["amount"] == "18250.00"
        again = c.post("/v1/register", json={**entry, "items": ["INV-9", "INV-7"]})
        assert again.status_code == 409
        assert again.json()["detail"].startswith("register: Formal demand (step 3) was already issued to C002")
        assert c.post("/v1/register", json={**entry, "resend": True}).json()["resend"] == 1
    with server.client(keys["read"]) as c:
        rows = c.get("/v1/register", params={"customer_id": "C002"}).json()
        assert [(r["stage"], r["resend"]) for r in rows] == [("Formal demand", 0), ("Formal demand", 1)]
        assert c.post("/v1/register", json=entry).status_code == 403


def test_reviews_and_results(server: Server, keys: dict[str, str]) -> None:
    with server.client(keys["controller"]) as c:
        r = c.post("/v1/reviews", json={"customer_id": "C001", "review_date": "2026-10-31", "grade": "A", "score": 84,
                                        "credit_limit": "180000", "notes": "quarterly review"})
        assert r.status_code == 201 and r.json()["credit_limit"] == "180000"
        assert c.get("/v1/reviews", params={"customer_id": "C001"}).json()[-1]["notes"] == "quarterly review"
        res = c.get("/v1/results").json()
        assert res["refresh"]["as_of"] == "2026-10-31" and len(res["results"]) == 3
        one = c.get("/v1/customers/C002").json()
        assert one["customer"]["name"] == "上海贸易有限公司" and one["result"]["exposure"] == "41000.10"
        assert c.get("/v1/customers/C404").status_code == 404


# --------------------------------------------------------------------------- limits of a request
ROW = {"amount": "10000", "due_date": "2024-03-31", "as_of": "2024-06-29", "regime": "UK"}


def test_request_limits_answer_413(env, tmp_path: Path) -> None:
    """A second server on the same database with small limits: 5 rows per batch, 2 KB bodies."""
    with serve(env[2], tmp_path, "--max-rows", "5", "--max-body-mb", str(2048 / 1024 / 1024)) as tight, \
            tight.client(env[1]["read"]) as c:
        r = c.post("/v1/functions/statutory_interest", json={"rows": [ROW] * 6})
        assert r.status_code == 413
        assert r.json()["detail"] == "rows: at most 5 rows per request (got 6); split the batch"
        r = c.post("/v1/functions/statutory_interest", json={"rows": [{**ROW, "regime": "UK" + " " * 390}] * 5})
        assert r.status_code == 413                                     # body over 2 KB (5 × ~480 bytes)
        assert c.post("/v1/functions/statutory_interest", json={"rows": [ROW] * 5}).status_code == 200


def test_slow_request_answers_503(env, tmp_path: Path) -> None:
    """A server allowing 1 ms per request: a 5,000-row batch (≈ 400 KB of JSON to parse, check) cannot make it."""
    with serve(env[2], tmp_path, "--timeout", "0.001") as slow, slow.client(env[1]["read"]) as c:
        assert httpx.get(slow.base + "/health").status_code == 200      # health is never timed out
        r = c.post("/v1/functions/statutory_interest", json={"rows": [ROW] * 5000})
        assert r.status_code == 503 and r.json()["detail"].startswith("the request took longer than 0.001 s")
        assert httpx.get(slow.base + "/health").status_code == 200      # and the server is still up


def test_server_stops_cleanly_and_cli_reports_bad_db(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "xlcredit.cli", "serve", "--db", str(tmp_path / "no" / "x.db")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "db: folder does not exist" in done.stderr


# --------------------------------------------------------------------------- refresh from uploads
def _sample_workbook(path: Path, policy_rows: list[tuple[str, str]]) -> None:
    """A workbook with the input sheets (plain ranges, as a user may have them) and a Policy sheet."""
    import csv

    import openpyxl

    from xlcredit.data.sample import sample_path

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet, name in (("Customers", "customers"), ("Invoices", "invoices"), ("Payments", "payments"),
                        ("Credit Notes", "credit_notes"), ("FX Rates", "fx_rates")):
        ws = wb.create_sheet(sheet)
        with sample_path(name).open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                ws.append(row)
    policy = wb.create_sheet("Policy")
    policy.append(["setting", "value"])
    for row in policy_rows:
        policy.append(list(row))
    wb.save(path)


def test_refresh_from_uploaded_tables_and_workbook(tmp_path: Path) -> None:
    """The Refresh button's job over HTTP: the credit database then holds exactly what the engine computes for
    the sample book; a workbook's own Policy sheet does not override the team's policy."""
    from xlcredit.core.portfolio import assess_portfolio, result_rows
    from xlcredit.data.sample import SAMPLE_AS_OF, sample_path
    from xlcredit.io.policy_file import load_policy
    from xlcredit.jobs.book import read_book

    db = str(tmp_path / "refresh.credit.db")
    store = CreditStore(db)
    controller, reader = store.create_api_key("Maria", "controller"), store.create_api_key("Reader", "read")
    store.close()
    names = ("customers", "invoices", "payments", "credit_notes", "fx_rates")
    policy = load_policy()
    tables = {n: sample_path(n) for n in names}
    book = read_book({n: _csv_frame(p) for n, p in tables.items()}, [], policy)
    portfolio = assess_portfolio(book.customers, book.ledger, book.policy, SAMPLE_AS_OF, book.fx)
    expected = {r["customer_id"]: r for r in result_rows(portfolio)}
    with serve(db, tmp_path) as server:
        with server.client(reader) as c:
            r = c.post("/v1/refresh", files={n: (f"{n}.csv", p.read_bytes()) for n, p in tables.items()})
            assert r.status_code == 403
        with server.client(controller) as c:
            r = c.post("/v1/refresh", data={"as_of": "2026-10-31"},
                       files={n: (f"{n}.csv", p.read_bytes()) for n, p in tables.items()})
            assert r.status_code == 200, r.text
            assert (r.json()["stamp"], r.json()["customers"], r.json()["problems"]) == (1, 60, [])
            got = c.get("/v1/results").json()["results"]
            assert len(got) == 60
            for row in got:
                want = expected[row["customer_id"]]
                assert (row["score"], row["grade"], row["credit_limit"], row["terms"], row["dunning_stage"]) == \
                    (want["score"], want["grade"], format(want["credit_limit"], "f"), want["terms"],
                     want["dunning_stage"])
                assert row["exposure"] == format(want["exposure"], "f")
            book_path = tmp_path / "CreditControl.xlsx"
            _sample_workbook(book_path, [("limits.volume_share", "0.01")])
            r = c.post("/v1/refresh", data={"as_of": "2026-10-31"},
                       files={"workbook": ("CreditControl.xlsx", book_path.read_bytes())})
            assert r.status_code == 200, r.text
            assert (r.json()["stamp"], r.json()["source"], r.json()["customers"]) == (2, "CreditControl.xlsx", 60)
            again = {row["customer_id"]: row["credit_limit"] for row in c.get("/v1/results").json()["results"]}
            assert again == {row["customer_id"]: row["credit_limit"] for row in got}   # team policy, not 0.01
            r = c.post("/v1/refresh", files={"customers": ("customers.csv", tables["customers"].read_bytes())})
            assert r.status_code == 422 and r.json()["detail"][0]["field"] == "invoices"
    audit = CreditStore(db).audit_rows(entity="snapshot")
    assert [(a["who"].split(" (")[0], a["after"]["source"]) for a in audit] == \
        [("Maria", "uploaded tables"), ("Maria", "CreditControl.xlsx")]


def _csv_frame(path: Path):
    """A sample CSV as a DataFrame of text cells (what a book hands to the refresh job)."""
    import pandas as pd

    return pd.read_csv(path, dtype=object, keep_default_na=False).replace({"": None})


# --------------------------------------------------------------------------- letters
def test_letters_run_on_the_service_records_the_team_register(tmp_path: Path) -> None:
    """The Generate Letters job over HTTP on the bundled workbook: the same letters as `xlcredit letters` on the
    same book, kept in the letters folder beside the database, recorded in the team's register (so a second
    run issues nothing), and delivered as a zip on request."""
    import csv
    import hashlib
    import io
    import zipfile

    from pypdf import PdfReader

    from xlcredit.data.sample import SAMPLE_AS_OF
    from xlcredit.jobs.letters import folder_book, run_letters

    expected = run_letters(folder_book(None, tmp_path / "local"), SAMPLE_AS_OF, tmp_path / "local", dry_run=True)
    want = sorted((r.customer_id, r.stage) for r in expected.letters)
    assert want, "the sample must have customers at a letter rung"

    db = str(tmp_path / "team.credit.db")
    store = CreditStore(db)
    controller, reader = store.create_api_key("Maria", "controller"), store.create_api_key("Reader", "read")
    store.close()
    workbook = {"workbook": ("CreditControl.xlsm", (ROOT / "workbook" / "CreditControl.xlsm").read_bytes())}
    form = {"as_of": SAMPLE_AS_OF.isoformat()}
    with serve(db, tmp_path) as server:
        with server.client(reader) as c:
            assert c.post("/v1/letters", data=form, files=workbook).status_code == 403
        with server.client(controller) as c:
            r = c.post("/v1/letters", data={**form, "dry_run": "true"}, files=workbook)
            assert r.status_code == 200, r.text
            assert {x["status"] for x in r.json()["results"] if x["kind"] == "letter"} == {"would issue"}
            assert not (tmp_path / "letters").exists() or not any((tmp_path / "letters").rglob("*.pdf"))

            r = c.post("/v1/letters", data=form, files=workbook)
            assert r.status_code == 200, r.text
            answer = r.json()
            letters = [x for x in answer["results"] if x["kind"] == "letter"]
            assert sorted((x["customer_id"], x["stage"]) for x in letters) == want
            assert answer["counts"]["letters issued"] == len(want) and answer["source"] == "CreditControl.xlsm"
            for x in letters:                       # kept on the server, named relative to the letters folder
                assert (tmp_path / "letters" / x["pdf"]).is_file() and (tmp_path / "letters" / x["docx"]).is_file()
            register = c.get("/v1/register").json()
            assert sorted((e["customer_id"], e["stage"]) for e in register if e["kind"] == "letter") == want
            assert {e["created_by"].split(" (")[0] for e in register} == {"Maria"}

            again = c.post("/v1/letters", data=form, files=workbook).json()
            assert {x["status"] for x in again["results"] if x["kind"] == "letter"} == {"already issued"}

            r = c.post("/v1/letters?format=zip", data={**form, "resend": "true"}, files=workbook)
            assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
            archive = zipfile.ZipFile(io.BytesIO(r.content))
            names = archive.namelist()
            assert {"letters.csv", "actions.csv", "problems.csv"} <= set(names)
            pdfs = [n for n in names if n.endswith(".pdf")]
            assert len(pdfs) == len(want) and len([n for n in names if n.endswith(".docx")]) == len(want)
            listed = list(csv.DictReader(io.StringIO(archive.read("letters.csv").decode("utf-8-sig"))))
            assert sorted((x["customer_id"], x["stage"]) for x in listed) == want
            assert {x["status"] for x in listed} == {"resent"} and {x["pdf"] for x in listed} == set(pdfs)
            first = next(x for x in listed if x["language"] == "en")
            text = PdfReader(io.BytesIO(archive.read(first["pdf"]))).pages[0].extract_text()
            assert first["name"].split()[0] in text

            # a letter of the register, downloaded later by anyone who may read
            entry = next(e for e in c.get("/v1/register").json() if e["kind"] == "letter")
            with server.client(reader) as rc:
                pdf = rc.get(f"/v1/letters/{entry['id']}")
                assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
                assert hashlib.sha256(pdf.content).hexdigest() == entry["content_hash"]
                docx = rc.get(f"/v1/letters/{entry['id']}?format=docx")
                assert docx.status_code == 200 and docx.content[:2] == b"PK"
                action = next(e for e in c.get("/v1/register").json() if e["kind"] == "action")
                assert rc.get(f"/v1/letters/{action['id']}").status_code == 404
                assert rc.get("/v1/letters/999999").json()["detail"] == (
                    "entry_id: 999999 is not a letter of the collection register")
                stray = c.post("/v1/register", json={"customer_id": "C001", "step_index": 2, "stage": "x",
                                                     "items": ["X1"], "kind": "letter", "as_of": "2026-10-31",
                                                     "file_path": "/etc/passwd"})
                assert stray.status_code == 201                          # a controller may record any file name…
                refused = rc.get(f"/v1/letters/{stray.json()['id']}")
                assert refused.status_code == 404 and "not written by this service" in refused.json()["detail"]
                Path(tmp_path / "letters" / entry["file_path"].split("/letters/")[-1]).write_bytes(b"%PDF-forged")
                changed = rc.get(f"/v1/letters/{entry['id']}")
                assert changed.status_code == 409 and "changed after it was issued" in changed.json()["detail"]

            r = c.post("/v1/letters", data=form,
                       files={"customers": ("customers.csv", b"customer_id,name\nC1,A\n")})
            assert r.status_code == 422 and r.json()["detail"][0]["msg"] == (
                "invoices: is missing: upload the workbook, or at least the customers and invoices tables")


def test_etags_match_weakly_as_http_says() -> None:
    """RFC 9110 §13.1.2: If-None-Match compares weakly (nginx marks ETags weak when it compresses)."""
    from xlcredit.service.app import etag_matches

    assert etag_matches('"7.123"', '"7.123"') and etag_matches('W/"7.123"', '"7.123"')
    assert etag_matches('"1.0", W/"7.123"', '"7.123"') and etag_matches("*", '"7.123"')
    assert not etag_matches('"7.124"', '"7.123"') and not etag_matches(None, '"7.123"')
    assert not etag_matches("", '"7.123"')
