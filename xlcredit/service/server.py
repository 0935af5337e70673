"""Run the HTTP service with uvicorn (used by ``xlcredit serve`` and ``python -m xlcredit.service``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from xlcredit.core.errors import XlcError
from xlcredit.core.policy import Policy


def serve(db: str | None, host: str = "127.0.0.1", port: int = 8000, *, policy: Policy | None = None,
          max_rows: int | None = None, max_body_mb: float | None = None, max_upload_mb: float | None = None,
          timeout: float | None = None, letters_dir: str | None = None, log_level: str = "info") -> None:
    """Open the credit database (migrating it), build the app and serve it until stopped (Ctrl+C).

    ``db``: a database file, a workbook (→ the ``.credit.db`` beside it) or a URL; None = ``$XLCREDIT_DB``.
    ``letters_dir``: where ``POST /v1/letters`` keeps the letters (default: ``letters`` beside a SQLite database).
    Listens on 127.0.0.1 by default: put a TLS reverse proxy in front to share it (docs/service.md).
    """
    import uvicorn

    from xlcredit.io.store import resolve_store_url
    from xlcredit.service.app import Settings, create_app

    for option, value in (("--max-rows", max_rows), ("--max-body-mb", max_body_mb),
                          ("--max-upload-mb", max_upload_mb), ("--timeout", timeout)):
        if value is not None and not value > 0:
            raise XlcError(option, f"must be more than 0 (got {value:g})", value)
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
    settings = dataclasses.replace(Settings(), **changes)
    app = create_app(resolve_store_url(db), policy, settings=settings)
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_keep_alive=5,
                limit_concurrency=settings.pool_size * 10, timeout_graceful_shutdown=10)
