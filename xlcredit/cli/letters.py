"""``xlcredit letters``: what the workbook's Generate Letters button does."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xlcredit.cli.app import app
from xlcredit.cli.common import (
    Column,
    LedgerAsOf,
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
from xlcredit.core.errors import XlcError

if TYPE_CHECKING:
    from xlcredit.jobs.letters import LettersOutcome

#: Where letters go without --out: under out/ (ignored by git), never a new folder in the current one.
DEFAULT_OUT = Path("out") / "letters"

LettersSource = Annotated[Path | None, typer.Argument(
    help="The CreditControl.xlsm workbook (its Letters sheet is updated) or a folder of CSV tables "
         "(customers.csv, invoices.csv, payments.csv, …); default: the bundled sample.", show_default=False)]


@app.command()
def letters(ctx: typer.Context, source: LettersSource = None, as_of: LedgerAsOf = None,
            out: Annotated[Path, typer.Option("--out", help="Folder for the letters (.docx and .pdf).")]
            = DEFAULT_OUT,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be issued.")] = False,
            resend: Annotated[bool, typer.Option(
                "--resend", help="Issue again letters and actions the register already holds.")] = False,
            templates: Annotated[Path | None, typer.Option(
                "--templates", help="Folder of your own letter templates (<lang>/<letter>.txt); missing files "
                                    "fall back to the shipped ones.")] = None,
            register: Annotated[Path | None, typer.Option(
                "--register", help="Also export the collection register to this .csv or .xlsx file.")] = None,
            actions_out: Annotated[Path | None, typer.Option(
                "--actions", help="Also write the action list to this .csv or .xlsx file.")] = None,
            db: Annotated[str | None, typer.Option(
                "--db", help="Credit database (file or URL); default: beside the workbook, or "
                             "xlcredit.credit.db in --out for a folder of tables.")] = None) -> None:
    """What the Generate Letters button does: dunning letters (.docx + .pdf), the action list, the register.

    Every letter and action is recorded in the credit database; a re-run never issues the same ladder
    step twice for the same overdue invoices (use --resend to send again). A run that is killed leaves
    no half-written letter; the next run cleans up what it left.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from xlcredit.data.sample import SAMPLE_AS_OF
    from xlcredit.jobs.letters import FOLDER_REGISTER_DB, action_frame, run_letters

    with user_errors():
        check_out(register)
        check_out(actions_out)
        book = open_book(source, field="workbook", register=Path(out) / FOLDER_REGISTER_DB)
        day = parse_as_of(as_of) or (SAMPLE_AS_OF if source is None else None)   # None: the file's newest date
        if templates is not None and not templates.is_dir():
            raise XlcError("--templates", f"folder not found: {templates}", str(templates))
        base = base_policy(ctx)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console(), transient=True) as bar:
            task = bar.add_task("reading", total=None)
            outcome = run_letters(
                book, day, out, store=db, templates=templates, dry_run=dry_run, resend=resend, base_policy=base,
                who="command line", progress=lambda msg: bar.update(task, description=msg),
                on_letter=lambda n, total, label: bar.update(task, completed=n, total=total,
                                                             description=f"letter {label}"))
        for line in outcome.recovered:
            console().print(f"recovered: {line}")
        rows = [{"customer_id": r.customer_id, "name": r.name, "stage": r.stage, "what": r.detail,
                 "language": r.language, "amount": r.amount, "currency": r.currency, "status": r.status,
                 "file": Path(r.pdf).name if r.pdf else ""} for r in outcome.results if r.kind == "letter"]
        print_notes([] if outcome.as_of_note is None else [outcome.as_of_note])
        day = outcome.as_of
        show_table(f"Dunning letters as of {day} — {book.label}", rows, [
            Column("customer_id", "Id"), Column("name", "Name", flexible=True), Column("stage", "Stage"),
            Column("language", "Lang", "center"), Column("amount", "Total due", "right", money="currency"),
            Column("currency", "Cur"), Column("status", "Status"), Column("file", "File", flexible=True)])
        actions = action_frame(outcome.results)
        show_table("Action list", actions.to_dict("records"), [
            Column("customer_id", "Id"), Column("name", "Name", flexible=True), Column("action", "Action"),
            Column("due_date", "Due"), Column("amount", "Amount", "right", money="currency"),
            Column("currency", "Cur"), Column("owner", "Owner"), Column("status", "Status")])
        for line in outcome.notes:
            console().print(f"note: {line}", soft_wrap=True)
        if dry_run:
            console().print("dry run: nothing was written")
        else:
            console().print(f"Letters in {out} · register: {outcome.store_url}")
            if register is not None:
                write_out(outcome.register.to_dict("records"), register, sheet="Register")
            if actions_out is not None:
                write_out(actions.to_dict("records"), actions_out, sheet="Actions")
        print_problems(outcome.problems)
        # a re-run with nothing new to send is a success (exit 0), unlike finish()'s "nothing done"
        console().print(summary_line(outcome, dry_run), soft_wrap=True)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def summary_line(outcome: LettersOutcome, dry_run: bool) -> str:
    """The closing line; its counts add up to the rows of the two tables and the problems listed above it."""
    new, new_actions = outcome.new("letter"), outcome.new("action")
    failed = outcome.count("failed")
    parts = [f"{_n(new, 'letter')} {'would be issued' if dry_run else 'issued'}",
             f"{outcome.count('already issued')} already issued",
             *([f"{failed} failed"] if failed else []),
             f"{_n(new_actions, 'action')} would be added" if dry_run else _n(new_actions, "new action"),
             f"{outcome.count('already issued', 'action')} already on the action list",
             _n(len(outcome.problems), "problem")]
    return ", ".join(parts)
