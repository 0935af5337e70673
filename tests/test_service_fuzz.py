"""Fuzz the whole OpenAPI description of a real server with schemathesis: no input may produce a 500,
every status code must be documented, and answers must match their documented schemas.

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

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(tmp_path: Path) -> None:
    db = str(tmp_path / "fuzz.credit.db")
    store = CreditStore(db)
    key = store.create_api_key("fuzzer", "admin")
    store.replace_snapshot("2026-10-31", [{"customer_id": c} for c in ("0", "C1", "C2")],
                           [{"customer_id": c, "score": 60, "grade": "B", "credit_limit": Decimal("1000"),
                             "exposure": Decimal("10")} for c in ("0", "C1", "C2")], "seed")
    store.close()
    schemathesis = Path(sys.executable).with_name("schemathesis")
    with serve(db, tmp_path, "--log-level", "warning") as server:
        done = subprocess.run(
            [str(schemathesis), "run", f"{server.base}/openapi.json", "--header", f"X-API-Key: {key}",
             "--checks", CHECKS, "--max-examples", "8", "--seed", "20261031", "--workers", "1",
             "--request-timeout", "20", "--no-color", "--report-dir", str(tmp_path / "report")],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
            env={**os.environ, "SCHEMATHESIS_HOOKS": ""})
        log = server.log.read_text(errors="replace")
    summary = done.stdout[-3000:]
    assert done.returncode == 0, f"{summary}\n--- server log ---\n{log[-3000:]}"
    assert "passed" in summary and "failures" not in summary.lower().split("summary")[-1]
    assert "Internal Server Error" not in log and "Traceback" not in log
