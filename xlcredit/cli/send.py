"""``xlcredit send``: e-mail the letters and statements that have not gone yet (or write .eml drafts)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xlcredit.cli.app import app
from xlcredit.cli.common import Column, base_policy, console, parse_as_of, show_table, today, user_errors
from xlcredit.core.errors import XlcError

SendSource = Annotated[Path | None, typer.Argument(
    help="Where the customers' e-mail addresses come from: the CreditControl.xlsm workbook or a folder of CSV "
         "tables (customers.csv, …), the one the letters were written from; default: the bundled sample.",
    show_default=False)]


@app.command()
def send(ctx: typer.Context, source: SendSource = None,
         letters: Annotated[Path, typer.Option("--letters", help="The folder xlcredit letters --out wrote.")]
         = Path("out") / "letters",
         as_of: Annotated[str | None, typer.Option(
             "--as-of", help="Send what was written on or before this date, YYYY-MM-DD (default: today).")] = None,
         smtp_host: Annotated[str | None, typer.Option("--smtp-host", help="Mail server; none: write drafts.")] = None,
         smtp_port: Annotated[int | None, typer.Option(
             "--smtp-port", help="Port (default 587 for starttls, 465 for ssl, 25 for none).")] = None,
         smtp_security: Annotated[str | None, typer.Option(
             "--smtp-security", help="none, starttls (default) or ssl.")] = None,
         smtp_user: Annotated[str | None, typer.Option(
             "--smtp-user", help="Login; the password is read from XLCREDIT_SMTP_PASSWORD only.")] = None,
         from_address: Annotated[str | None, typer.Option("--from", help="Sender address.")] = None,
         reply_to: Annotated[str | None, typer.Option("--reply-to", help="Where replies go.")] = None,
         bcc: Annotated[str | None, typer.Option("--bcc", help="A copy of every message to this address.")] = None,
         drafts: Annotated[Path | None, typer.Option(
             "--drafts", help="Write .eml drafts into this folder instead of sending (without a mail server "
                              "they go to drafts in the letters folder).")] = None,
         retry_unconfirmed: Annotated[bool, typer.Option(
             "--retry-unconfirmed", help="Send again messages whose sending was interrupted (check first that "
                                         "they did not arrive).")] = False,
         dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")] = False,
         db: Annotated[str | None, typer.Option(
             "--db", help="Credit database holding the register (default: beside the workbook, or "
                          "xlcredit.credit.db in the letters folder).")] = None) -> None:
    """E-mail the due letters and statements, the PDF attached, in each customer's language.

    What is due: what xlcredit letters and xlcredit statements wrote into the letters folder and have not
    gone yet (a newer letter to a customer replaces an older one not yet sent). Each message is recorded in
    the register with its Message-ID before and after it goes, so a run never sends a letter twice, also
    after a crash. Settings come from these options, the XLCREDIT_SMTP_* environment variables or the
    Policy sheet's send section; without a mail server the messages are written as .eml drafts.
    """
    from xlcredit.io.store import open_store
    from xlcredit.jobs.book import FolderBook, WorkbookFile, read_book
    from xlcredit.jobs.letters import FOLDER_REGISTER_DB, _read_only_register, folder_book
    from xlcredit.jobs.send import contacts_from_customers, run_send, smtp_settings

    with user_errors():
        day = parse_as_of(as_of) or today()
        if not letters.is_dir():
            raise XlcError("--letters", f"folder not found: {letters}", str(letters))
        if source is None:
            book = folder_book(None, letters)
        elif source.is_dir():
            book = folder_book(source, letters)
        elif source.is_file():
            book = WorkbookFile(source)
        else:
            raise XlcError("workbook", f"file or folder not found: {source}", str(source))
        target = db or book.default_store()
        if target is None or (db is None and isinstance(book, FolderBook)
                              and not (letters / FOLDER_REGISTER_DB).is_file()):
            raise XlcError("--letters", f"{letters} holds no register ({FOLDER_REGISTER_DB}): run xlcredit letters "
                                        "--out there first, or give --db", str(letters))
        data = read_book(book.read_tables(), book.read_policy_rows(), base_policy(ctx))
        settings = smtp_settings(data.policy, host=smtp_host, port=smtp_port, security=smtp_security,
                                 user=smtp_user, from_address=from_address, reply_to=reply_to, bcc=bcc)
        store = _read_only_register(target) if dry_run else open_store(target)
        outcome = run_send(store, letters, day, contacts_from_customers(data.customers), data.policy, settings,
                           drafts=drafts, dry_run=dry_run, retry_unconfirmed=retry_unconfirmed, who="command line")
        for line in outcome.reconciled:
            console().print(f"reconciled: {line}", soft_wrap=True)
        shown = [r for r in outcome.results if not r.status.startswith("already") and r.status != "superseded"]
        rows = [{"register_id": r.register_id, "customer_id": r.customer_id, "name": r.name, "what": r.stage,
                 "language": r.language, "recipient": r.recipient, "status": r.status, "note": r.detail}
                for r in shown]
        where = (f"{settings.host}:{settings.effective_port}" if outcome.channel == "smtp"
                 else f"drafts in {outcome.drafts}")
        show_table(f"Sending as of {day} — {where}", rows, [
            Column("register_id", "Entry", "right"), Column("customer_id", "Id"),
            Column("name", "Name", flexible=True), Column("what", "What"), Column("language", "Lang", "center"),
            Column("recipient", "To", flexible=True), Column("status", "Status"),
            Column("note", "Note", flexible=True)])
        went = outcome.count("sent") + outcome.count("drafted")
        parts = [f"{outcome.count('would send') + outcome.count('would draft')} would go" if dry_run
                 else f"{went} {'sent' if outcome.channel == 'smtp' else 'drafted'}",
                 f"{sum(1 for r in outcome.results if r.status.startswith('already'))} already gone",
                 f"{outcome.count('failed') + outcome.count('failed earlier')} failed",
                 f"{outcome.count('unconfirmed')} unconfirmed", f"{outcome.count('not attempted')} not attempted",
                 f"{outcome.count('no address')} without an address", f"{outcome.count('superseded')} superseded"]
        if dry_run:
            console().print("dry run: nothing was sent or written")
        console().print(", ".join(parts), soft_wrap=True)
