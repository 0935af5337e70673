"""``xlcredit serve`` and ``xlcredit keys``: the team service and its API keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xlcredit.cli.app import app
from xlcredit.cli.common import (
    Column,
    base_policy,
    show_table,
    user_errors,
)
from xlcredit.core.errors import XlcError

Db = Annotated[str | None, typer.Option(
    "--db", help="Credit database: a file, a workbook (→ the .credit.db beside it) or a URL "
                 "(sqlite:///…, postgresql+psycopg://…); default: $XLCREDIT_DB, else the embedded SQLite "
                 "database ~/.local/share/xlcredit/xlcredit.credit.db ($XDG_DATA_HOME; %LOCALAPPDATA% on Windows).")]


def _db(db: str | None) -> str | None:
    """``--db`` as given, else ``$XLCREDIT_DB``, else the embedded default the service uses (its folder created)."""
    import os

    from xlcredit.service.server import default_db_path

    if (db and db.strip()) or os.environ.get("XLCREDIT_DB", "").strip():
        return db
    path = default_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


@app.command()
def serve(ctx: typer.Context,
          host: Annotated[str, typer.Option(help="Address to listen on (keep 127.0.0.1 behind a TLS proxy).")]
          = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000, db: Db = None,
          max_rows: Annotated[int | None, typer.Option(help="Rows per batch request (default 10000).")] = None,
          timeout: Annotated[float | None, typer.Option(help="Seconds before a request is answered 503.")] = None,
          max_body_mb: Annotated[float | None, typer.Option(help="Largest JSON request body in MB (default 10).")]
          = None,
          max_upload_mb: Annotated[float | None, typer.Option(
              help="Largest uploaded ledger or workbook in MB (default 64).")] = None,
          letters_dir: Annotated[Path | None, typer.Option(
              help="Folder where POST /v1/letters keeps the letters (default: letters beside a SQLite "
                   "database).")] = None,
          workers: Annotated[int, typer.Option(help="Worker processes (each with its own connections).")] = 1,
          max_requests: Annotated[int | None, typer.Option(
              help="Requests worked on at once per worker (default 64); more wait, then get a JSON 503.")] = None,
          queue_seconds: Annotated[float | None, typer.Option(
              help="Seconds a request waits for a place before the 503 with Retry-After (default 2).")] = None,
          cors_origin: Annotated[list[str] | None, typer.Option(
              "--cors-origin", envvar="XLCREDIT_CORS_ORIGINS", metavar="ORIGIN",
              help="A browser origin allowed to call the service (repeatable; $XLCREDIT_CORS_ORIGINS: several, "
                   "separated by spaces). xlwings Lite: https://addin.xlwings.org (or your self-hosted add-in's "
                   "address).")]
          = None,
          ) -> None:
    """Run the HTTP service for the team: JSON API over the engine and the credit database (docs at /docs)."""
    from xlcredit.service.server import serve as run_service

    with user_errors():
        policy = base_policy(ctx)
        run_service(db, host, port, policy=policy, max_rows=max_rows, timeout=timeout, max_body_mb=max_body_mb,
                    max_upload_mb=max_upload_mb, letters_dir=None if letters_dir is None else str(letters_dir),
                    workers=workers, max_requests=max_requests, queue_seconds=queue_seconds,
                    cors_origin=tuple(cors_origin or ()))


keys_app = typer.Typer(help="API keys of the HTTP service (roles: read < controller < admin).",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Argument(help="Who or what the key is for, e.g. 'Maria (Excel)'.")],
                role: Annotated[str, typer.Option(help="read, controller or admin.")] = "read",
                db: Db = None) -> None:
    """Mint an API key and print it (shown only this once: the database keeps only its hash)."""
    import getpass

    from rich.console import Console

    from xlcredit.io.store import CreditStore

    with user_errors():
        key = CreditStore(_db(db)).create_api_key(name, role, who=f"command line ({getpass.getuser()})")
    Console(stderr=True, highlight=False).print(f"API key for {name} ({role}) — shown only once, keep it safe; "
                                                "send it as the X-API-Key header:")
    typer.echo(key)


@keys_app.command("list")
def keys_list(db: Db = None) -> None:
    """List the API keys (names, roles, prefixes; never the keys)."""
    from xlcredit.io.store import CreditStore

    with user_errors():
        rows = CreditStore(_db(db)).api_keys()
    def when(moment: object) -> str:
        return moment.strftime("%Y-%m-%d %H:%M UTC") if hasattr(moment, "strftime") else ""

    show_table("API keys", [{**r, "created_at": when(r["created_at"]), "revoked_at": when(r["revoked_at"])}
                            for r in rows], [
        Column("id", "Id", "right"), Column("name", "Name"), Column("role", "Role"), Column("key_prefix", "Key"),
        Column("created_at", "Created"), Column("revoked_at", "Revoked")])


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="The key's id (see `xlcredit keys list`).")],
                db: Db = None) -> None:
    """Revoke an API key: it stops working at once."""
    import getpass

    from xlcredit.io.store import CreditStore

    with user_errors():
        if not CreditStore(_db(db)).revoke_api_key(key_id, f"command line ({getpass.getuser()})"):
            raise XlcError("key_id", f"no active key {key_id}", key_id)
    typer.echo(f"key {key_id} revoked")
