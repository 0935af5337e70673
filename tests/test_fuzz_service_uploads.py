"""Fuzz the service's upload endpoints with tables that read (issue 17 item 8): schemathesis
(``tests/test_service_fuzz.py``) reaches every operation, but cannot write a CSV whose header the readers know, so
most of its uploads stop at 422. Here the tables are the fuzz suite's random rows (``tests/_fuzz.py``) below good
ones, as CSV, posted to POST /v1/ageing, /v1/refresh, /v1/audit, /v1/bank/match, /v1/statements and /v1/letters
(dry runs) with a random as-of date — in range, out of range, or none.

What must hold: 200 or 422, never a server error; no answer says ``internal:`` or shows a traceback; a 200 lists
the bad rows under ``problems`` and still answers for the good customers (K1, K2).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _fuzz import cells, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz_readers import GOOD_INVOICES, SPECS

from xlcredit.io.store import CreditStore

INTERNAL = re.compile(r"\binternal:|Traceback \(most recent call last\)")
STATEMENT = ("Booking Date,Reference,Payer,IBAN,Description,Amount,Currency\n"
             "2026-10-30,B1,Anchor,,GI1,100.50,EUR\n")
ENDPOINTS = {
    "/v1/ageing": ("invoices", "payments", "credit_notes", "fx_rates"),
    "/v1/refresh": ("customers", "invoices", "payments", "credit_notes", "fx_rates"),
    "/v1/audit": ("customers", "invoices", "payments", "credit_notes"),
    "/v1/bank/match": ("customers", "invoices", "payments"),
    "/v1/statements": ("customers", "invoices", "payments", "credit_notes"),
    "/v1/letters": ("customers", "invoices", "payments", "credit_notes"),
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str]]]:
    from fastapi.testclient import TestClient

    from xlcredit.service.app import create_app

    folder = Path(tmp_path_factory.mktemp("fuzz-service"))
    db = folder / "team.credit.db"
    store = CreditStore(db, stamp_ttl=0)
    key = {"X-API-Key": store.create_api_key("fuzz", "admin")}
    with TestClient(create_app(str(db), store=store)) as client:
        yield client, key
    store.close()


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(["" if v is None else (v.isoformat() if hasattr(v, "isoformat") else str(v)) for v in row]
                     for row in rows)
    return out.getvalue().encode("utf-8", errors="surrogatepass")


@fuzz_settings(8)
@given(st.sampled_from(sorted(ENDPOINTS)), st.sampled_from(["", "2026-10-31", "2026-12-15", "1900-01-01",
                                                              "9999-12-31", "31/12/2026", "0"]), st.data())
def test_uploads_of_random_tables_answer_200_or_422_in_words(service: tuple[Any, dict[str, str]], path: str,
                                                            as_of: str, data: Any) -> None:
    client, key = service
    files = []
    for name in ENDPOINTS[path]:
        spec = SPECS[name]
        bad = data.draw(st.lists(st.lists(cells, min_size=len(spec.header), max_size=len(spec.header)),
                                 max_size=3), label=name)
        good = GOOD_INVOICES if name == "invoices" else spec.good
        files.append((name, (f"{name}.csv", _csv(spec.header, [*good, *bad]), "text/csv")))
    form: dict[str, str] = {}
    if path == "/v1/bank/match":
        files.append(("statements", ("bank.csv", STATEMENT.encode(), "text/csv")))
    if path in ("/v1/audit", "/v1/statements"):
        form = {"date_from": "2026-09-01", "date_to": as_of} if as_of else {}
    elif as_of:
        form = {"as_of": as_of}
    if path in ("/v1/letters", "/v1/statements"):
        form["dry_run"] = "true"
    answer = client.post(path, files=files, data=form, headers=key)
    assert answer.status_code in (200, 422), (path, answer.status_code, answer.text[:500])
    assert not INTERNAL.search(answer.text), answer.text[:500]
    if answer.status_code == 200 and path in ("/v1/ageing", "/v1/refresh"):
        body = answer.json()
        assert isinstance(body["problems"], list)
        if path == "/v1/ageing" and as_of in ("", "2026-10-31", "2026-12-15"):
            assert {"K1", "K2"} <= {r["customer_id"] for r in body["rows"]}, body
