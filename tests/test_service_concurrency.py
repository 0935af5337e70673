"""24 clients at once against a real server process (SQLite in WAL mode, and PostgreSQL): refreshing,
reading and writing the collection register concurrently loses nothing and nobody sees a mix of
two refreshes.

Each published refresh tags every one of its rows (the binding rule) and gives every customer the
same limit, so a half-applied refresh, or a batch answered from two refreshes, would show two tags or
two limits in one answer.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest
from _store_fixtures import BACKENDS, db_url, serve

from xlcredit.io.store import CreditStore

N = 60                   # customers per refresh
REFRESHERS, READERS, LETTER_WRITERS = 6, 12, 6
PUBLISHES = 4            # refreshes per refresher
LETTERS = 8              # distinct register entries per letter writer


def snapshot_body(tag: str, limit: int) -> dict:
    return {
        "as_of": "2026-10-31", "source": tag,
        "customers": [{"customer_id": f"C{i:03d}", "name": f"Customer {i}"} for i in range(N)],
        "results": [{"customer_id": f"C{i:03d}", "score": 60, "grade": "B", "credit_limit": f"{limit}.00",
                     "binding_rule": tag, "exposure": "100.50", "available": f"{limit - 100}.50"} for i in range(N)],
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_refresh_read_and_register(backend: str, tmp_path: Path) -> None:
    with db_url(backend, tmp_path) as url:
        store = CreditStore(url)
        key = store.create_api_key("load test", "controller")
        first = snapshot_body("seed", 1000)
        store.replace_snapshot("2026-10-31", first["customers"],
                               [{**r, "credit_limit": Decimal(r["credit_limit"]), "exposure": Decimal(r["exposure"]),
                                 "available": Decimal(r["available"])} for r in first["results"]], "seed")
        with serve(url, tmp_path) as server:
            barrier = threading.Barrier(REFRESHERS + READERS + LETTER_WRITERS)
            done_refreshing = threading.Event()
            failures: list[str] = []
            contested: list[int] = []
            reads = [0]
            lock = threading.Lock()

            def fail(message: str) -> None:
                with lock:
                    failures.append(message)

            def refresher(n: int) -> None:
                with server.client(key) as c:
                    barrier.wait()
                    for k in range(PUBLISHES):
                        r = c.post("/v1/snapshot", json=snapshot_body(f"w{n}-{k}", 2000 + 100 * n + k))
                        if r.status_code != 201:
                            fail(f"publish w{n}-{k}: {r.status_code} {r.text}")

            def reader(n: int) -> None:
                with server.client(key) as c:
                    barrier.wait()
                    while True:
                        last = done_refreshing.is_set()
                        r = c.get("/v1/results")
                        rows = r.json()["results"]
                        tags = {row["binding_rule"] for row in rows}
                        if len(rows) != N or len(tags) != 1 or r.json()["refresh"]["customer_count"] != N:
                            fail(f"reader {n}: {len(rows)} rows with tags {sorted(tags)[:3]}")
                        b = c.post("/v1/functions/credit_limit",
                                   json={"rows": [{"customer": f"C{i:03d}"} for i in range(N)]})
                        limits = {row.get("value") for row in b.json()["results"]}
                        if len(limits) != 1 or None in limits:
                            fail(f"reader {n}: one batch saw limits {sorted(map(str, limits))[:3]}")
                        with lock:
                            reads[0] += 1
                        if last:
                            break

            def letter_writer(n: int) -> None:
                with server.client(key) as c:
                    barrier.wait()
                    for k in range(LETTERS):
                        r = c.post("/v1/register", json={
                            "customer_id": f"L{n}", "step_index": k + 1, "stage": f"Step {k + 1}",
                            "items": [f"INV-{n}-{k}"], "as_of": "2026-10-31", "amount": "10.00", "currency": "EUR"})
                        if r.status_code != 201:
                            fail(f"letter L{n} step {k + 1}: {r.status_code} {r.text}")
                    r = c.post("/v1/register", json={"customer_id": "C001", "step_index": 3, "stage": "Formal demand",
                                                     "items": ["INV-1", "INV-2"], "as_of": "2026-10-31"})
                    with lock:
                        contested.append(r.status_code)

            threads = [threading.Thread(target=refresher, args=(n,)) for n in range(REFRESHERS)]
            threads += [threading.Thread(target=letter_writer, args=(n,)) for n in range(LETTER_WRITERS)]
            readers = [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
            for t in threads + readers:
                t.start()
            for t in threads:
                t.join(timeout=120)
            done_refreshing.set()
            for t in readers:
                t.join(timeout=120)
            assert not any(t.is_alive() for t in threads + readers)

        assert failures == []
        assert reads[0] >= READERS
        assert sorted(contested) == [201] + [409] * (LETTER_WRITERS - 1)
        # nothing lost: every letter, every refresh in the audit trail, the last refresh whole
        register = store.register_rows()
        assert len(register) == LETTER_WRITERS * LETTERS + 1
        assert {(r["customer_id"], r["step_index"]) for r in register if r["customer_id"].startswith("L")} == \
            {(f"L{n}", k + 1) for n in range(LETTER_WRITERS) for k in range(LETTERS)}
        refreshes = store.audit_rows(entity="snapshot")
        assert len(refreshes) == 1 + REFRESHERS * PUBLISHES
        assert {a["after"]["source"] for a in refreshes[1:]} == \
            {f"w{n}-{k}" for n in range(REFRESHERS) for k in range(PUBLISHES)}
        assert store.stamp() == 1 + REFRESHERS * PUBLISHES
        final = store.results()
        assert len(final) == N and len({r["binding_rule"] for r in final}) == 1
        assert final[0]["binding_rule"] == refreshes[-1]["after"]["source"]
        store.close()
