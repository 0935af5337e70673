"""Run the HTTP service with uvicorn (used by ``xlcredit serve`` and ``python -m xlcredit.service``).

``workers``: more than one runs that many uvicorn worker processes on the same port (each with its own
database connections; the kernel spreads the connections over them). Each worker checks the database's
refresh stamp on every read, so a change made through one worker is seen by the next request to any other.
With SQLite every worker writes through the same WAL file (one writer at a time, others queue on the lock);
with PostgreSQL they queue on an advisory lock.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xlcredit.core.errors import XlcError
from xlcredit.core.policy import Policy

#: How ``serve --workers N`` hands the configuration to its worker processes (JSON; set by :func:`serve`).
CONFIG_ENV = "XLCREDIT_SERVE_CONFIG"


def _settings(changes: dict[str, Any]) -> Any:
    from xlcredit.service.app import Settings

    if "cors_origins" in changes:   # a JSON list when handed to the worker processes
        changes = {**changes, "cors_origins": tuple(changes["cors_origins"])}
    return dataclasses.replace(Settings(), **changes)


#: A browser origin: scheme, host and optional port — nothing after it (what a browser sends in ``Origin``).
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def cors_origins(values: Sequence[str]) -> tuple[str, ...]:
    """The browser origins allowed to call the service (``--cors-origin``, ``$XLCREDIT_CORS_ORIGINS``), checked:
    each ``https://host[:port]`` (``http://`` too, for a service on this computer); no path, no wildcard — no web
    page from another origin may read the answers."""
    out: list[str] = []
    for raw in values:
        for value in str(raw).replace(",", " ").split():
            origin = value.rstrip("/")
            if not _ORIGIN.fullmatch(origin):
                raise XlcError("--cors-origin", "must be a browser origin: scheme and host, e.g. "
                               "https://addin.xlwings.org (no path, no *)", value)
            if origin.lower() not in (o.lower() for o in out):
                out.append(origin)
    return tuple(out)


def app_from_environment() -> Any:
    """The application of one worker process, built from :data:`CONFIG_ENV` (uvicorn's factory for workers)."""
    from xlcredit.service.app import create_app

    config = json.loads(os.environ[CONFIG_ENV])
    rows = config.get("policy")
    policy = Policy.from_rows([tuple(r) for r in rows]) if rows else None
    return create_app(config["url"], policy, settings=_settings(config["settings"]))


def default_db_path() -> Path:
    """Where ``xlcredit serve`` keeps its embedded SQLite database when neither ``--db`` nor ``$XLCREDIT_DB`` is
    given: ``$XDG_DATA_HOME/xlcredit/xlcredit.credit.db`` (``~/.local/share/xlcredit/…``; on Windows
    ``%LOCALAPPDATA%\\xlcredit\\…``)."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "xlcredit" / "xlcredit.credit.db"


def serve(db: str | None, host: str = "127.0.0.1", port: int = 8000, *, policy: Policy | None = None,
          max_rows: int | None = None, max_body_mb: float | None = None, max_upload_mb: float | None = None,
          timeout: float | None = None, letters_dir: str | None = None, log_level: str = "info",
          workers: int = 1, max_requests: int | None = None, queue_seconds: float | None = None,
          cors_origin: Sequence[str] = ()) -> None:
    """Open the credit database (migrating it), build the app and serve it until stopped (Ctrl+C).

    ``db``: a database file, a workbook (→ the ``.credit.db`` beside it) or a URL; None = ``$XLCREDIT_DB``, else
    the embedded SQLite database at :func:`default_db_path` (created on first use). The database used is printed.
    ``letters_dir``: where ``POST /v1/letters`` keeps the letters (default: ``letters`` beside a SQLite database).
    ``workers``: worker processes; ``max_requests``: requests worked on at once per worker, more wait up to
    ``queue_seconds`` and are then answered JSON 503 with Retry-After. ``cors_origin``: browser origins allowed to
    call the service (:func:`cors_origins`; xlwings Lite's add-in is ``https://addin.xlwings.org``).
    Listens on 127.0.0.1 by default: put a TLS reverse proxy in front to share it (docs/service.md).
    """
    import uvicorn

    from xlcredit.io.store import CreditStore, resolve_store_url, to_json_data
    from xlcredit.service.app import create_app

    for option, value in (("--max-rows", max_rows), ("--max-body-mb", max_body_mb),
                          ("--max-upload-mb", max_upload_mb), ("--timeout", timeout),
                          ("--max-requests", max_requests)):
        if value is not None and not value > 0:
            raise XlcError(option, f"must be more than 0 (got {value:g})", value)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 64:
        raise XlcError("--workers", f"must be a whole number from 1 to 64 (got {workers})", workers)
    if queue_seconds is not None and not queue_seconds >= 0:
        raise XlcError("--queue-seconds", f"must be 0 or more (got {queue_seconds:g})", queue_seconds)
    changes: dict[str, Any] = {}
    if max_rows is not None:
        changes["max_rows"] = max_rows
    if max_body_mb is not None:
        changes["max_body_bytes"] = int(max_body_mb * 1024 * 1024)
    if max_upload_mb is not None:
        changes["max_upload_bytes"] = int(max_upload_mb * 1024 * 1024)
    if timeout is not None:
        changes["request_timeout"] = timeout
    if letters_dir:
        changes["letters_dir"] = letters_dir
    if max_requests is not None:
        changes["max_requests"] = max_requests
    if queue_seconds is not None:
        changes["queue_seconds"] = queue_seconds
    origins = cors_origins(cors_origin)
    if origins:
        changes["cors_origins"] = list(origins)
    settings = _settings(changes)
    if (db is None or not str(db).strip()) and not os.environ.get("XLCREDIT_DB", "").strip():
        default = default_db_path()
        default.parent.mkdir(parents=True, exist_ok=True)
        db = str(default)
    url = resolve_store_url(db)
    from sqlalchemy.engine import make_url

    print(f"credit database: {make_url(url).render_as_string(hide_password=True)}", file=sys.stderr, flush=True)
    # no connection limit (uvicorn's limit_concurrency counts open connections and answers plain text):
    # the service limits the requests it works on and answers JSON 503 (xlcredit.service.reliability)
    common = {"host": host, "port": port, "log_level": log_level, "timeout_keep_alive": 5,
              "timeout_graceful_shutdown": 10}
    if workers == 1:
        uvicorn.run(create_app(url, policy, settings=settings), **common)
        return
    CreditStore(url).close()          # migrate once, before the workers open it
    os.environ[CONFIG_ENV] = json.dumps({
        "url": url, "settings": changes,
        "policy": None if policy is None else [[k, to_json_data(v)] for k, v in policy.to_rows()]})
    uvicorn.run("xlcredit.service.server:app_from_environment", factory=True, workers=workers, **common)
