"""Fuzz the whole OpenAPI description of a real server with schemathesis: no input may produce a 500,
every status code must be documented, answers must match their documented schemas, and no answer says
``internal:`` or shows a traceback (the ``no_internal_words`` check of ``tests/_schemathesis_hooks.py``); every
operation of the description — bank, audit, statements, the collector's records, letters and send included — must
have been answered at least once (issue 17 item 8).

Schemathesis runs as its command line (``schemathesis run``) against a server process on loopback,
with an admin key (so every operation is reachable), a fixed seed (the same cases every run) and at
most 8 examples per operation in each phase — about 1,500 requests, well under a minute.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from _store_fixtures import serve

from xlcredit.io.store import CreditStore

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "no_internal_words")
TESTS = Path(__file__).resolve().parent


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(tmp_path: Path) -> None:
    db = str(tmp_path / "fuzz.credit.db")
    store = CreditStore(db)
    key = store.create_api_key("fuzzer", "admin")
    store.replace_snapshot("2026-10-31", [{"customer_id": c} for c in ("0", "C1", "C2")],
                           [{"customer_id": c, "score": 60, "grade": "B", "credit_limit": Decimal("1000"),
                             "exposure": Decimal("10")} for c in ("0", "C1", "C2")], "seed")
    store.close()
    schemathesis = Path(sys.executable).with_name("schemathesis")
    seen = tmp_path / "seen.txt"
    with serve(db, tmp_path, "--log-level", "warning") as server:
        done = subprocess.run(
            [str(schemathesis), "run", f"{server.base}/openapi.json", "--header", f"X-API-Key: {key}",
             "--checks", CHECKS, "--max-examples", "8", "--seed", "20261031", "--workers", "1",
             "--request-timeout", "20", "--no-color", "--report-dir", str(tmp_path / "report")],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
            env={**os.environ, "SCHEMATHESIS_HOOKS": "_schemathesis_hooks", "XLCREDIT_FUZZ_SEEN": str(seen),
                 "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])})
        log = server.log.read_text(errors="replace")
        with server.client() as client:
            spec = client.get("/openapi.json").json()
    summary = done.stdout[-3000:]
    assert done.returncode == 0, f"{summary}\n--- server log ---\n{log[-3000:]}"
    assert "passed" in summary and "failures" not in summary.lower().split("summary")[-1]
    assert "Internal Server Error" not in log and "Traceback" not in log
    operations = {f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete")}
    answered = set(seen.read_text(encoding="utf-8").splitlines())
    assert len(operations) > 50 and {"POST /v1/bank/match", "POST /v1/audit", "POST /v1/statements",
                                     "POST /v1/promises", "POST /v1/letters"} <= operations
    assert operations <= answered, f"never answered: {sorted(operations - answered)}"


def test_the_no_internal_words_check_fails_on_an_internal_answer() -> None:
    """The custom check is not one that cannot fail: an answer with ``internal:`` or a traceback is refused."""
    import pytest
    from _schemathesis_hooks import no_internal_words

    class Answer:
        def __init__(self, text: str) -> None:
            self.text = text

    assert no_internal_words(None, Answer('{"detail": "amount: is not a number"}'), None) is None
    for text in ('{"detail": "internal: ZeroDivisionError"}', "Traceback (most recent call last):\n  File"):
        with pytest.raises(AssertionError, match="the answer says"):
            no_internal_words(None, Answer(text), None)
