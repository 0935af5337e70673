"""UDF remote mode (udfs._remote): customer-level formulas answered by a real team service process on 127.0.0.1
give exactly what the in-process engine gives for the same credit database, with one HTTP request per
recalculation, and every service failure shows ``#XLC! server: <reason>`` in the cell."""

from __future__ import annotations

import http.server
import threading
import time

import pytest
from _store_fixtures import free_port, serve
from test_service import seed

from udfs import _remote
from udfs import functions as f
from xlcredit.io.store import CreditStore

CUSTOMER_LEVEL = [f.credit_score, f.credit_grade, f.credit_limit, f.credit_available, f.credit_terms,
                  f.deposit_required, f.dunning_stage, f.credit_explain]
CELLS = ["C001", "C002", 1003.0, [["C002"]], "C999", None, "#N/A", [["C001", "C002"]]]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("remote")
    db = str(folder / "team.credit.db")
    seed(db)
    store = CreditStore(db)
    key = store.create_api_key("Reader", "read")
    store.close()
    with serve(db, folder) as server:
        yield server, key, db


@pytest.fixture
def requests():
    seen: list[str] = []

    def hook(request) -> None:
        seen.append(f"{request.method} {request.url.path}")

    _remote._client.event_hooks["request"].append(hook)
    _remote.clear_cache()
    yield seen
    _remote._client.event_hooks["request"].remove(hook)
    _remote.clear_cache()


def _all_cells() -> list[object]:
    return [func(cell) for func in CUSTOMER_LEVEL for cell in CELLS]


def test_remote_equals_in_process_for_every_customer_level_function(service, requests, monkeypatch):
    """Same database, same answers — values, spilled CREDIT_EXPLAIN tables and #XLC! texts for bad input."""
    _server, key, db = service
    monkeypatch.delenv("XLCREDIT_SERVER_URL", raising=False)
    monkeypatch.setenv("XLCREDIT_DB", db)
    local = _all_cells()
    assert requests == []
    monkeypatch.setenv("XLCREDIT_DB", db + ".absent")            # remote mode must not touch a local database
    monkeypatch.setenv("XLCREDIT_SERVER_URL", _server.base)
    monkeypatch.setenv("XLCREDIT_API_KEY", key)
    remote = _all_cells()
    assert remote == local
    assert local[0] == 84 and local[CELLS.index("C999")].startswith("#XLC! customer: unknown customer 'C999'")
    assert requests == ["GET /v1/results"]                     # 64 cells, one request


def test_unreachable_service_shows_server_error(requests, monkeypatch):
    monkeypatch.setenv("XLCREDIT_SERVER_URL", f"http://127.0.0.1:{free_port()}")   # nobody listens there
    monkeypatch.setenv("XLCREDIT_SERVER_TIMEOUT", "2")
    shown = f.credit_limit("C001")
    assert shown.startswith("#XLC! server: cannot reach http://127.0.0.1:")
    assert f.credit_explain("C001") == shown


def test_wrong_key_is_refused_by_name(service, requests, monkeypatch):
    monkeypatch.setenv("XLCREDIT_SERVER_URL", service[0].base)
    monkeypatch.setenv("XLCREDIT_API_KEY", "xlc_wrong")
    assert f.credit_score("C001") == ("#XLC! server: the service refused the API key (HTTP 401): "
                                      "check XLCREDIT_API_KEY")


def test_bad_timeout_setting_is_named(monkeypatch):
    monkeypatch.setenv("XLCREDIT_SERVER_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("XLCREDIT_SERVER_TIMEOUT", "soon")
    assert f.credit_grade("C001") == "#XLC! server: XLCREDIT_SERVER_TIMEOUT is not a number of seconds (got 'soon')"


class _Stub(http.server.BaseHTTPRequestHandler):
    """A service that fails: 503 for /fail, a 2 s silence for /slow (longer than the timeout set below)."""

    def do_GET(self) -> None:
        if self.path.startswith("/slow"):
            time.sleep(2)
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def stub():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_failing_service_shows_its_status(stub, requests, monkeypatch):
    monkeypatch.setenv("XLCREDIT_SERVER_URL", stub + "/fail")
    assert f.dunning_stage("C001") == "#XLC! server: the service failed (HTTP 503)"


def test_silent_service_times_out_with_the_setting(stub, requests, monkeypatch):
    monkeypatch.setenv("XLCREDIT_SERVER_URL", stub + "/slow")
    monkeypatch.setenv("XLCREDIT_SERVER_TIMEOUT", "0.3")
    assert f.credit_terms("C001") == f"#XLC! server: no answer from {stub}/slow within 0.3 s"
