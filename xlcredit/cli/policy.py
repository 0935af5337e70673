"""``xlcredit policy-check``: do the policy's numbers agree with each other and with the ledger?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xlcredit.cli.app import app
from xlcredit.cli.common import (
    EXIT_NOTHING_DONE,
    Column,
    LedgerAsOf,
    base_policy,
    console,
    get_policy,
    open_book,
    parse_as_of,
    print_notes,
    print_problems,
    show_table,
    user_errors,
)

Source = Annotated[Path | None, typer.Argument(
    help="The CreditControl.xlsm workbook (its Policy sheet applies) or a folder of ledger files (customers, "
         "invoices, payments, credit_notes, fx_rates); default: the bundled sample.", show_default=False)]


@app.command("policy-check")
def policy_check(ctx: typer.Context, source: Source = None, as_of: LedgerAsOf = None,
                 settings_only: Annotated[bool, typer.Option(
                     "--settings-only", help="Check the settings against each other only, without a ledger.")]
                 = False) -> None:
    """Check the credit policy: settings that contradict each other or the ledger, with the arithmetic.

    For example terms that keep more of a customer's purchases outstanding than its limit allows, receivables
    already over the portfolio cap, a revenue figure below the ledger's credit sales, stated purchase volumes
    far from the invoiced ones. Exit code 1 when there is an error.
    """
    from xlcredit.core.policy_check import check_policy, has_errors
    from xlcredit.data.sample import SAMPLE_AS_OF
    from xlcredit.jobs.book import as_of_for, read_book

    with user_errors():
        day = parse_as_of(as_of)
        if settings_only:
            policy = get_policy(ctx)
            findings = check_policy(policy)
            label = "the policy settings"
        else:
            book = open_book(source)
            day = day or (SAMPLE_AS_OF if source is None else None)
            data = read_book(book.read_tables(), book.read_policy_rows(), base_policy(ctx))
            day, note = as_of_for(data.ledger, day, book.label)
            print_notes([] if note is None else [note])
            print_problems(data.problems)
            findings = check_policy(data.policy, data.customers, data.ledger, data.fx, day)
            label = f"{book.label} as of {day}"
        rows = [{"level": f.level, "note": f.message} for f in findings]
        if rows:
            show_table(f"Policy check — {label}", rows, [Column("level", "Level"),
                                                         Column("note", "Finding", flexible=True)])
        errors = sum(f.level == "error" for f in findings)
        warnings = len(findings) - errors
        console().print("no contradiction found" if not findings else
                        f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}")
        if has_errors(findings):
            raise typer.Exit(EXIT_NOTHING_DONE)
