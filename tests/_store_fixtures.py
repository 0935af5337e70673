"""Shared helpers for the store and service tests: database URLs (SQLite file or a PostgreSQL schema of
its own per test) and a real ``xlcredit serve``-style server process on loopback.

PostgreSQL: the server's URL comes from ``XLCREDIT_TEST_PG_URL`` (``.ci/run`` exports it after
``scripts/pg-start.sh``). In CI (``CI=true``) a missing variable FAILS the postgres tests rather than
skipping them; on a developer machine they are skipped with the command to run.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
PG_ENV = "XLCREDIT_TEST_PG_URL"


def pg_base_url() -> str:
    """The test server's URL, or fail (CI) / skip (local) when it is not configured."""
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        message = (f"{PG_ENV} is not set: start PostgreSQL with "
                   f'`export {PG_ENV}="$(bash scripts/pg-start.sh)"`')
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(f"{message} (CI must run the postgres tests, .ci/run does this)")
        pytest.skip(message)
    return url


@contextlib.contextmanager
def pg_schema_url() -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema of their own (dropped afterwards)."""
    base = make_url(pg_base_url())
    if base.drivername in ("postgresql", "postgres"):
        base = base.set(drivername="postgresql+psycopg")
    schema = f"xlc_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@contextlib.contextmanager
def db_url(backend: str, folder: Path) -> Iterator[str]:
    """A fresh, empty database: ``sqlite`` (a file in ``folder``) or ``postgres`` (a schema of its own)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'credit.db'}"
    else:
        with pg_schema_url() as url:
            yield url


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real ``xlcredit.service`` server process on 127.0.0.1 (started by :func:`serve`)."""

    def __init__(self, proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
        self.proc = proc
        self.base = base
        self.log = log

    def client(self, key: str | None = None, **kw: object) -> httpx.Client:
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=kw.pop("timeout", 30.0), **kw)  # type: ignore[arg-type]


@contextlib.contextmanager
def serve(db: str, folder: Path, *extra: str, cmd: list[str] | None = None,
          env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start ``python -m xlcredit.service --db DB`` (or ``cmd``) on a free loopback port; wait for /health; stop it."""
    port = free_port()
    log = folder / f"server-{port}.log"
    cmd = [*(cmd or [sys.executable, "-m", "xlcredit.service", "--db", db]), "--host", "127.0.0.1", "--port",
           str(port), *extra]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(base + "/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not answer /health in 30 s:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield Server(proc, base, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
