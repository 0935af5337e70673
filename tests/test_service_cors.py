"""The service's CORS allow-list (issue 20 #3): xlwings Lite runs Python in the browser at the add-in's origin
(https://addin.xlwings.org, per the xlwings Lite docs "Web API Requests"), so the browser lets it read the service's
answers only when the service names that origin. Tested over real HTTP (uvicorn on a local port)."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn

from xlcredit.io.store import CreditStore
from xlcredit.service.app import Settings, create_app

LITE = "https://addin.xlwings.org"


@pytest.fixture
def served(tmp_path):
    db = tmp_path / "credit.sqlite"
    store = CreditStore(f"sqlite:///{db}")
    app = create_app(store.url, store=store, settings=Settings(cors_origins=(LITE,)))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    store.close()


def test_the_allowed_origin_gets_the_header_and_another_does_not(served):
    with httpx.Client(base_url=served) as client:
        ok = client.get("/health", headers={"Origin": LITE})
        assert ok.status_code == 200
        assert ok.headers.get("access-control-allow-origin") == LITE
        other = client.get("/health", headers={"Origin": "https://evil.example.com"})
        assert other.status_code == 200
        assert "access-control-allow-origin" not in other.headers
        # the browser's preflight before a call with the API key
        pre = client.options("/v1/results", headers={"Origin": LITE, "Access-Control-Request-Method": "GET",
                                                     "Access-Control-Request-Headers": "X-API-Key"})
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == LITE
        assert "x-api-key" in pre.headers["access-control-allow-headers"].lower()
        refused = client.options("/v1/results", headers={"Origin": "https://evil.example.com",
                                                         "Access-Control-Request-Method": "GET"})
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers


def test_without_the_setting_no_origin_gets_the_header(tmp_path):
    from fastapi.testclient import TestClient

    store = CreditStore(f"sqlite:///{tmp_path / 'c.sqlite'}")
    with TestClient(create_app(store.url, store=store)) as client:
        assert "access-control-allow-origin" not in client.get("/health", headers={"Origin": LITE}).headers
    store.close()
