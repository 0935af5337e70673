"""An idempotent request that outlives the service's timeout (issue 23's reviewer's suspicion).

The request is answered ``503`` after ``request_timeout`` seconds, but its handler runs on in its worker thread and
commits the change with the key later; no answer is ever kept for the key. A retry of the key must change nothing
again and be answered ``409`` within ~2 s, in words that are true: before, it was told the first request "is still
being answered, or its server stopped" (retry after 1 s — for an answer that never comes) and, after the wait, that
"its server stopped before answering", neither of which happened. In-process (``TestClient``), a handler slowed past
a 0.5 s timeout.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from xlcredit.io.store import CreditStore, idempotency_table
from xlcredit.service.app import Settings, create_app

pytestmark = pytest.mark.serial  # timed: scripts/test.sh runs it alone, after the rest

BODY = {"customer_id": "C001", "review_date": "2026-10-31", "grade": "B", "score": 70, "notes": "slow one"}


def _service(tmp_path: Path, slow: float, key: str | None = None) -> tuple[TestClient, CreditStore, str]:
    """The service over a database in ``tmp_path`` (seeded with a customer and ``key`` when none is given)."""
    url = f"sqlite:///{tmp_path / 'credit.db'}"
    if key is None:
        seed = CreditStore(url)
        seed.replace_snapshot("2026-10-31", [{"customer_id": "C001", "name": "Customer 1"}], [], "seed",
                              source="test")
        key = seed.create_api_key("Maria", "controller")
        seed.close()
    store = CreditStore(url)
    record = store.record_review

    def slowed(*args, **kwargs):   # the handler's write, past the timeout: it still commits, with the key
        time.sleep(slow)
        return record(*args, **kwargs)

    store.record_review = slowed   # type: ignore[method-assign]
    app = create_app(url, store=store, settings=Settings(request_timeout=0.5))
    return TestClient(app, headers={"X-API-Key": key}), store, url


def _reviews(client: TestClient) -> list[dict]:
    return client.get("/v1/reviews", params={"customer_id": "C001"}).json()


def _wait_for_commit(client: TestClient) -> None:
    deadline = time.monotonic() + 20
    while not _reviews(client) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(_reviews(client)) == 1, "the slowed handler never committed"


def test_a_retry_after_a_timed_out_request_that_committed_later_is_told_what_happened(tmp_path: Path):
    client, store, _url = _service(tmp_path, slow=1.5)
    idem = str(uuid.uuid4())
    with client:
        first = client.post("/v1/reviews", json=BODY, headers={"Idempotency-Key": idem})
        assert first.status_code == 503 and "took longer than 0.5 s" in first.json()["detail"]
        _wait_for_commit(client)

        started = time.monotonic()
        again = client.post("/v1/reviews", json=BODY, headers={"Idempotency-Key": idem})
        took = time.monotonic() - started
        detail = again.json()["detail"]
        assert again.status_code == 409 and took < 2.5, (again.status_code, took, detail)
        assert detail.startswith("Idempotency-Key: a request with this key made its change at "), detail
        assert "timed out" in detail, detail                     # what happened, said
        assert "still being answered" not in detail and "its server stopped" not in detail, detail
        assert again.headers.get("Retry-After") is None          # no answer will come: no point retrying for it
        assert len(_reviews(client)) == 1                        # nothing changed twice
    store.close()


def _timed_out_and_committed(tmp_path: Path) -> tuple[str, str, str]:
    """A keyed request answered 503 (timed out) whose handler then committed, on one worker that is then gone: the
    API key, the Idempotency-Key and the database URL, for another worker to be asked."""
    client, store, url = _service(tmp_path, slow=1.5)
    key = client.headers["X-API-Key"]
    idem = str(uuid.uuid4())
    with client:
        assert client.post("/v1/reviews", json=BODY, headers={"Idempotency-Key": idem}).status_code == 503
        _wait_for_commit(client)
    store.close()
    return key, idem, url


def test_the_same_key_retried_after_the_wait_on_another_worker_is_not_told_its_server_stopped(tmp_path: Path):
    """A worker that did not serve the first request cannot know why its answer is missing: the words name both
    causes. The key is aged past the request timeout + 30 s, as a retry after the wait finds it."""
    key, idem, url = _timed_out_and_committed(tmp_path)
    aged = CreditStore(url)
    with aged.engine.begin() as conn:
        conn.execute(sa.update(idempotency_table).where(idempotency_table.c.key == idem).values(
            created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)))
    aged.close()
    other, store2, _url = _service(tmp_path, slow=0, key=key)   # another worker process: the same database
    with other:
        started = time.monotonic()
        again = other.post("/v1/reviews", json=BODY, headers={"Idempotency-Key": idem})
        took = time.monotonic() - started
        detail = again.json()["detail"]
        assert again.status_code == 409 and took < 2.5 and again.headers.get("Retry-After") is None, detail
        assert "its answer was not delivered (the request timed out, or its server stopped before answering)" in \
            detail, detail
        assert "nothing was changed again" in detail
        assert len(_reviews(other)) == 1
    store2.close()


def test_a_young_answerless_key_on_another_worker_names_every_cause_and_asks_to_retry(tmp_path: Path):
    """Within the wait, a worker that did not serve the first request says it may still be running and names the
    timeout beside the stopped server (Retry-After 1)."""
    key, idem, _url = _timed_out_and_committed(tmp_path)
    other, store2, _url = _service(tmp_path, slow=0, key=key)
    with other:
        again = other.post("/v1/reviews", json=BODY, headers={"Idempotency-Key": idem})
        detail = again.json()["detail"]
        assert again.status_code == 409 and again.headers.get("Retry-After") == "1", detail
        assert "timed out" in detail and "may still be running" in detail, detail
        assert len(_reviews(other)) == 1
    store2.close()


def test_a_retry_while_a_later_request_with_the_key_is_finishing_waits_for_its_answer(tmp_path: Path):
    """Reviewer's sequence: the first request times out (503) and then fails, committing nothing; a second one with
    the same key commits and is still finishing when a third arrives. The third must wait for and replay the
    second's answer — not be told at once that "the first request was answered 503 … no answer was kept"."""
    import threading

    url = f"sqlite:///{tmp_path / 'credit.db'}"
    seed = CreditStore(url)
    seed.replace_snapshot("2026-10-31", [{"customer_id": "C001", "name": "Customer 1"}], [], "seed", source="test")
    api_key = seed.create_api_key("Maria", "controller")
    seed.close()
    store = CreditStore(url)
    record = store.record_review
    calls = []

    def first_fails_then_slow_after_commit(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(1.3)                                  # answered 503 after 1 s ...
            raise RuntimeError("the database went away")   # ... then rolled back: no review, no key
        result = record(*args, **kwargs)                     # the change and the key commit ...
        time.sleep(0.6)                                      # ... and the answer is still being made
        return result

    store.record_review = first_fails_then_slow_after_commit   # type: ignore[method-assign]
    client = TestClient(create_app(url, store=store, settings=Settings(request_timeout=1.0)),
                        headers={"X-API-Key": api_key}, raise_server_exceptions=False)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert client.post("/v1/reviews", json=BODY, headers=key).status_code == 503
    time.sleep(0.5)                                          # the first request's work has given up
    second: dict = {}
    worker = threading.Thread(target=lambda: second.update(r=client.post("/v1/reviews", json=BODY, headers=key)))
    worker.start()
    deadline = time.monotonic() + 10
    while not _reviews(client) and time.monotonic() < deadline:   # the second request's commit
        time.sleep(0.05)
    third = client.post("/v1/reviews", json=BODY, headers=key)
    worker.join(20)
    assert second["r"].status_code == 201, second["r"].text
    assert third.status_code == 201, third.text
    assert third.headers.get("idempotent-replayed") == "true" and third.json() == second["r"].json()
    assert len(_reviews(client)) == 1
