"""The ``xlcredit`` command: the credit engine from the command line.

Every command reads its tables (the bundled sample when no file is given), runs the core or a job
(:mod:`xlcredit.jobs`), prints a table and, with ``--out FILE.csv|.xlsx``, writes it. Bad rows are listed
on stderr and the good rows are still processed; bad command-line input (missing file, bad date, bad
policy) is one red line and exit code 2. ``--as-of`` defaults to the sample's date (2026-10-31) for the
bundled sample and to today for your own file.

Layout: :mod:`xlcredit.cli.app` (the Typer app, global ``--policy``), :mod:`xlcredit.cli.common` (shared
options and helpers: ``user_errors``, ``parse_as_of``, ``show_table``, ``write_out``, ``finish``) and one
module per command group. A new command is a short function in a new module here, imported below.
"""

from __future__ import annotations

from importlib import import_module

from xlcredit.cli.app import app

# in the order of `xlcredit --help`
for _group in ("customers", "orders", "age", "inspect", "refresh", "review", "worklist", "collector", "audit",
               "letters", "statements", "send", "match", "policy", "service"):
    import_module(f"xlcredit.cli.{_group}")   # each module registers its commands on `app`

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``xlcredit`` console script."""
    app()
