"""``xlcredit worklist``: what the workbook's Worklist button does — who to call today, in order, and why."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xlcredit.cli.app import app
from xlcredit.cli.common import (
    Column,
    LedgerAsOf,
    Out,
    base_policy,
    check_out,
    console,
    open_book,
    parse_as_of,
    print_notes,
    print_problems,
    show_table,
    user_errors,
    write_out,
)

Source = Annotated[Path | None, typer.Argument(
    help="The CreditControl.xlsm workbook (its Worklist sheet is updated) or a folder of tables (customers.csv, "
         "invoices.csv, payments.csv, promises.csv, disputes.csv, plans.csv, contacts.csv, …); default: the "
         "bundled sample.", show_default=False)]


@app.command()
def worklist(ctx: typer.Context, source: Source = None, as_of: LedgerAsOf = None,
             top: Annotated[int | None, typer.Option("--top", help="Show only the first N customers.", min=1)]
             = None,
             owner: Annotated[str | None, typer.Option(
                 "--owner", help="Only the customers this person owns (the owner column of the customers "
                                 "table).")] = None,
             out: Out = None,
             db: Annotated[str | None, typer.Option(
                 "--db", help="Credit database whose promises, disputes, plans and contacts count too; default: the "
                              "one beside the workbook, when there is one.")] = None) -> None:
    """Who to call today: customers with open items by priority, the top reasons in words, the next action.

    The priority adds points per reason — overdue amount, days past due, a ladder step, promised payment or
    instalment falling due, broken promises, grade D or E, an insurer deadline, a limit breach, open disputes
    (the weights are settings on the Policy sheet). Promises to pay, disputes and payment plans hold their items
    off the dunning ladder; a broken promise moves the customer to the next step at once.
    """
    from xlcredit.data.sample import SAMPLE_AS_OF
    from xlcredit.jobs.worklist import worklist as run_worklist

    with user_errors():
        day = parse_as_of(as_of)
        check_out(out)
        book = open_book(source, field="workbook")
        if source is None:
            day = day or SAMPLE_AS_OF
        outcome = run_worklist(book, day, store=db, base_policy=base_policy(ctx), top=top, owner=owner)
        print_notes(outcome.notes)
        rows = [r.to_record() for r in outcome.rows]
        shown = [{**r, "note": "; ".join(w.top_reasons)} for r, w in zip(rows, outcome.rows, strict=True)]
        show_table(f"Worklist as of {outcome.as_of} — {book.label}", shown, [
            Column("rank", "#", "right"), Column("customer_id", "Id"), Column("name", "Name", flexible=True),
            Column("priority", "Points", "right"), Column("next_action", "Next action", flexible=True),
            Column("next_action_date", "When"), Column("note", "Why (top reasons)", flexible=True)])
        write_out(rows, out, sheet="Worklist")
        print_problems(outcome.problems)
        who = f" owned by {owner}" if owner else ""
        console().print(f"{len(rows)} customer{'s' if len(rows) != 1 else ''}{who} on the worklist", soft_wrap=True)
