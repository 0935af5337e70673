"""The ``xlcredit`` Typer app and its global options; each command group registers itself on it.

Command modules (:mod:`xlcredit.cli.customers`, :mod:`~xlcredit.cli.age`, :mod:`~xlcredit.cli.refresh`,
:mod:`~xlcredit.cli.review`, :mod:`~xlcredit.cli.letters`, :mod:`~xlcredit.cli.service`) decorate their
functions with ``@app.command()``; :mod:`xlcredit.cli` imports them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xlcredit.cli.common import CliState

app = typer.Typer(name="xlcredit", help="Credit control for finance teams who work in Excel.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


@app.callback()
def _global(ctx: typer.Context,
            policy: Annotated[Path | None, typer.Option(
                "--policy", help="Credit policy TOML file (default: the shipped policy).")] = None) -> None:
    """Credit control for finance teams who work in Excel."""
    ctx.obj = CliState(policy_path=policy)
