"""The ``xlcredit`` command: the credit engine from the command line.

Every command reads its tables (the bundled sample when no file is given), calls the core, prints a
table and, with ``--out FILE.csv|.xlsx``, writes it. Bad rows are listed on stderr and the good
rows are still processed; bad command-line input (missing file, bad date, bad policy) is one red
line and exit code 2. Shared glue lives in :mod:`xlcredit.cli_common`; a new command is a short
function here.

``--as-of`` defaults to the sample's date (2026-10-31) for the bundled sample and to today for
your own file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xlcredit.cli_common import (
    CliState,
    Column,
    finish,
    print_problems,
    row_problem,
    score_customers,
    show_table,
    start_run,
    user_errors,
    write_out,
)
from xlcredit.core.errors import XlcError

app = typer.Typer(name="xlcredit", help="Credit control for finance teams who work in Excel.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

# Options shared by the commands (Annotated aliases keep each signature short).
CustomersFile = Annotated[Path | None, typer.Argument(
    help="Customers table (.csv, .xlsx, .xlsm, .parquet); default: the bundled sample.", show_default=False)]
AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="Date of the run, YYYY-MM-DD (default: 2026-10-31 for the sample, today for your file).")]
Out = Annotated[Path | None, typer.Option("--out", help="Also write the result to this .csv or .xlsx file.")]
Sheet = Annotated[str | None, typer.Option("--sheet", help="Worksheet to read in a workbook (default: the first).")]


@app.callback()
def _global(ctx: typer.Context,
            policy: Annotated[Path | None, typer.Option(
                "--policy", help="Credit policy TOML file (default: the shipped policy).")] = None) -> None:
    """Credit control for finance teams who work in Excel."""
    ctx.obj = CliState(policy_path=policy)


@app.command()
def score(ctx: typer.Context, customers_file: CustomersFile = None, as_of: AsOf = None, out: Out = None,
          sheet: Sheet = None) -> None:
    """Score every customer (0–100) and grade it A–E."""
    with user_errors():
        run = start_run(ctx, customers_file, as_of=as_of, out=out, sheet=sheet)
        policy, book, day = run.policy, run.book, run.as_of
        scored, problems = score_customers(book, policy, day)
        rows = [{"customer_id": c.customer_id, "name": c.name, "country": c.country, "score": r.score,
                 "grade": r.grade, "note": r.grade_note} for c, r in scored]
        show_table(f"Credit scores as of {day} — {book.source}", rows, [
            Column("customer_id", "Id"), Column("name", "Name", flexible=True),
            Column("country", "Country"), Column("score", "Score", "right"), Column("grade", "Grade", "center"),
            Column("note", "Note", flexible=True)])
        all_problems = [*book.table.problems, *problems]
        print_problems(all_problems)
        write_out(rows, out, sheet="Scores")
        finish(len(rows), "customer", "scored", all_problems)


@app.command()
def limits(ctx: typer.Context, customers_file: CustomersFile = None, as_of: AsOf = None, out: Out = None,
           sheet: Sheet = None) -> None:
    """Recommend a credit limit, payment terms and deposit for every customer."""
    from xlcredit.core.limits import recommend_limits
    from xlcredit.core.terms import terms_for

    with user_errors():
        run = start_run(ctx, customers_file, as_of=as_of, out=out, sheet=sheet)
        policy, book, day = run.policy, run.book, run.as_of
        scored, problems = score_customers(book, policy, day)
        customers = [c for c, _ in scored]
        grades = {c.customer_id: r.grade for c, r in scored}
        by_id = {res.customer_id: res for res in recommend_limits(customers, grades, policy, day)}
        rows = []
        for customer, result in scored:
            try:
                terms = terms_for(customer, result.grade, policy, day)
            except XlcError as exc:
                problems.append(row_problem(book, customer, exc))
                continue
            limit = by_id[customer.customer_id]
            rows.append({"customer_id": customer.customer_id, "name": customer.name, "score": result.score,
                         "grade": result.grade, "limit": limit.limit, "binding_rule": limit.binding_rule,
                         "terms": terms.label, "deposit": terms.deposit_share, "note": terms.note})
        currency = policy.company.currency
        show_table(f"Credit limits ({currency}) as of {day} — {book.source}", rows, [
            Column("customer_id", "Id"), Column("name", "Name", flexible=True),
            Column("grade", "Grade", "center"), Column("limit", f"Limit ({currency})", "right"),
            Column("binding_rule", "Binding rule", flexible=True),
            Column("terms", "Terms"), Column("deposit", "Deposit", "right", percent=True)])
        all_problems = [*book.table.problems, *problems]
        print_problems(all_problems)
        write_out(rows, out, sheet="Limits", formats={"deposit": "0%"})
        finish(len(rows), "customer", "given a limit", all_problems)


# --------------------------------------------------------------------------- ageing
LedgerFiles = Annotated[list[Path] | None, typer.Argument(
    help="One workbook with Invoices/Payments(/Credit Notes/FX Rates) sheets, or files recognised by name or "
         "columns: invoices.csv payments.csv credit_notes.csv fx_rates.csv (.xlsx/.parquet too); "
         "default: the bundled sample.", show_default=False)]


@app.command()
def age(ctx: typer.Context, ledger: LedgerFiles = None, as_of: AsOf = None,
        by: Annotated[str | None, typer.Option("--by", help="Age by due-date (default) or invoice-date.")] = None,
        out: Out = None) -> None:
    """Age the receivables: open items per customer and currency in the policy's buckets, with totals."""
    from xlcredit.cli_age import run_age

    with user_errors():
        run_age(ctx, ledger, as_of=as_of, by=by, out=out)


# --------------------------------------------------------------------------- the workbook's Refresh button
Workbook = Annotated[Path, typer.Argument(help="The CreditControl.xlsm workbook to refresh (updated in place).",
                                          show_default=False)]


@app.command()
def refresh(ctx: typer.Context, workbook: Workbook, as_of: AsOf = None, out: Out = None,
            db: Annotated[str | None, typer.Option(
                "--db", help="Credit database (file or URL); default: the workbook's xlwings.conf XLCREDIT_DB, "
                             "else the .credit.db beside the workbook.")] = None) -> None:
    """What the Refresh Ageing button does, without Excel: age, score, limit and dun; update the workbook.

    Reads the workbook's Customers, Invoices, Payments (Credit Notes, FX Rates) and Policy sheets,
    loads the credit database the Excel functions read, and rewrites only the Ageing sheet and the
    Dashboard figures — atomically, keeping the VBA project, buttons, inputs and formulas.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from xlcredit.cli_common import check_out, console, get_policy, parse_as_of, today
    from xlcredit.core.portfolio import credit_rows
    from xlcredit.jobs import WorkbookFile
    from xlcredit.jobs import refresh as run_refresh

    with user_errors():
        day = parse_as_of(as_of) or today()
        check_out(out)
        if not workbook.is_file():
            raise XlcError("workbook", f"file not found: {workbook}", str(workbook))
        state = ctx.obj if isinstance(ctx.obj, CliState) else CliState()
        base = get_policy(ctx) if state.policy_path is not None else None
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console(), transient=True) as bar:
            task = bar.add_task("refreshing", total=None)
            outcome = run_refresh(WorkbookFile(workbook), day, store=db, base_policy=base,
                                  progress=lambda msg: bar.update(task, description=msg))
        portfolio = outcome.portfolio
        rows = credit_rows(portfolio)
        k = portfolio.kpis
        currency = k.currency
        show_table(f"Credit position ({currency}) as of {day} — {workbook.name}", rows, [
            Column("customer_id", "Id"), Column("name", "Name", flexible=True), Column("grade", "Grade", "center"),
            Column("limit", "Limit", "right"), Column("exposure", "Exposure", "right"),
            Column("available", "Available", "right"), Column("overdue", "Overdue", "right"),
            Column("dunning_stage", "Dunning stage", flexible=True)])
        console().print(
            f"Total AR {k.total_ar:,.2f} {currency} · overdue {_pct(k.overdue_share)} · DSO {_num(k.dso)} · "
            f"best DSO {_num(k.best_dso)} · ADD {_num(k.add)} · CEI {_num(k.cei)} %")
        console().print(f"Workbook updated: {workbook} · credit database: {outcome.store_url}")
        print_problems(outcome.problems)
        write_out(rows, out, sheet="Credit", formats={"deposit_share": "0%", "utilisation": "0%"})
        finish(len(rows), "customer", "refreshed", outcome.problems)


def _pct(share: object) -> str:
    return "n/a" if share is None else f"{float(share) * 100:.1f} %"  # display only


def _num(value: object) -> str:
    return "n/a" if value is None else str(value)


# --------------------------------------------------------------------------- the Review Portfolio button
WorkbookOrLedger = Annotated[Path | None, typer.Argument(
    help="The CreditControl.xlsm workbook (its Review sheet is updated), or a folder of ledger files "
         "(customers, invoices, payments, credit_notes, fx_rates as .csv/.parquet/.xlsx); "
         "default: the bundled sample.", show_default=False)]


@app.command()
def review(ctx: typer.Context, source: WorkbookOrLedger = None, as_of: AsOf = None, out: Out = None,
           db: Annotated[str | None, typer.Option(
               "--db", help="Credit database holding the review history (file or URL); default: the workbook's "
                            "(none for a folder or the sample).")] = None,
           dry_run: Annotated[bool, typer.Option(
               "--dry-run", help="Show the review only: write nothing to the workbook or the database.")] = False,
           show_all: Annotated[bool, typer.Option("--all", help="List every customer, not only those due.")] = False,
           actions: Annotated[Path | None, typer.Option(
               "--actions", help="Also write the action list (reviews to hold, insurer deadlines) to this .csv or "
                                 ".xlsx file.")] = None,
           ) -> None:
    """What the Review Portfolio button does: reviews due, early warnings, insurance, provision, cash forecast.

    Lists the customers due for a periodic or special review with the evidence, trade-credit insurance
    deadlines (missed ones loudly), the IFRS 9 provision matrix from the ledger's roll rates and the
    weekly collection forecast. With a workbook, also writes its Review sheet and records the reviews
    in the credit database (so the next run knows what changed since).
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    from xlcredit.cli_common import check_out, console, err_console, get_policy, parse_as_of, today
    from xlcredit.data.sample import SAMPLE_AS_OF
    from xlcredit.jobs import FolderBook, WorkbookFile
    from xlcredit.review_job import review as run_review

    with user_errors():
        day = parse_as_of(as_of) or (SAMPLE_AS_OF if source is None else today())
        check_out(out)
        check_out(actions)
        if source is None or source.is_dir():
            book = FolderBook(source)
        elif source.is_file():
            book = WorkbookFile(source)
        else:
            raise XlcError("source", f"file or folder not found: {source}", str(source))
        state = ctx.obj if isinstance(ctx.obj, CliState) else CliState()
        base = get_policy(ctx) if state.policy_path is not None else None
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console(), transient=True) as bar:
            task = bar.add_task("reviewing", total=None)
            outcome = run_review(book, day, store=db, base_policy=base, record=not dry_run, write=not dry_run,
                                 progress=lambda msg: bar.update(task, description=msg))
        result = outcome.review
        cur = result.currency
        rows = result.rows()
        listed = rows if show_all else [r for r in rows if r["review"]]
        show_table(f"Portfolio review as of {day} — {book.label} ({len(result.due)} of {len(rows)} due)", listed, [
            Column("customer_id", "Id"), Column("name", "Name", flexible=True), Column("grade", "Grade", "center"),
            Column("review", "Review"), Column("warnings", "Warnings", flexible=True),
            Column("last_review", "Last review"), Column("next_review", "Next review")])
        insured = [{"customer_id": cid, "insurer": s.insurer, "insured_limit": s.insured_limit,
                    "above_cover": s.above_cover, "expected_indemnity": s.expected_indemnity,
                    "note": "; ".join(s.alerts)} for cid, s in result.insurance.items()]
        if insured:
            show_table(f"Credit insurance ({cur})", insured, [
                Column("customer_id", "Id"), Column("insurer", "Insurer", flexible=True),
                Column("insured_limit", "Insured limit", "right"), Column("above_cover", "Above cover", "right"),
                Column("expected_indemnity", "Indemnity on claim", "right"),
                Column("note", "Deadlines", flexible=True)])
        missed = sum(len(s.missed) for s in result.insurance.values())
        if missed:
            err_console().print(Text(f"{missed} insurer deadline{'s' if missed != 1 else ''} MISSED — cover at risk "
                                     "(see Deadlines)", style="bold red"))
        lines = [{"bucket": ln.label, "gross": ln.gross, "rate": f"{ln.loss_rate * 100:.4f} %", "ecl": ln.ecl}
                 for ln in result.provision.by_bucket.lines]
        lines.append({"bucket": "Total", "gross": result.provision.total_gross, "rate": "",
                      "ecl": result.provision.total_ecl})
        show_table(f"IFRS 9 provision matrix ({cur}; {result.matrix.source}, forward factor "
                   f"{result.matrix.forward_factor})", lines, [
            Column("bucket", "Days past due"), Column("gross", "Gross amount", "right"),
            Column("rate", "Loss rate", "right"), Column("ecl", "Lifetime ECL", "right")])
        weeks = [{"week": r["week"], "start": r["start"], "end": r["end"], "amount": r["amount"], "items": r["items"]}
                 for r in result.forecast.rows()]
        show_table(f"Expected collections per week ({cur})", weeks, [
            Column("week", "Week", "right"), Column("start", "From"), Column("end", "To"),
            Column("amount", "Amount", "right"), Column("items", "Invoices", "right")])
        if not dry_run and outcome.store_url:
            console().print(f"{outcome.recorded} reviews recorded in {outcome.store_url}")
        print_problems(outcome.problems)
        write_out(rows, out, sheet="Review", formats={"utilisation": "0%"})
        write_out(result.action_rows(), actions, sheet="Actions")
        finish(len(rows), "customer", "reviewed", outcome.problems)


# --------------------------------------------------------------------------- the Generate Letters button
LettersSource = Annotated[Path | None, typer.Argument(
    help="The CreditControl.xlsm workbook (its Letters sheet is updated) or a folder of CSV tables "
         "(customers.csv, invoices.csv, payments.csv, …); default: the bundled sample.", show_default=False)]


@app.command()
def letters(ctx: typer.Context, source: LettersSource = None, as_of: AsOf = None,
            out: Annotated[Path, typer.Option("--out", help="Folder for the letters (.docx and .pdf).")]
            = Path("letters"),
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

    from xlcredit.cli_common import check_out, console, get_policy, parse_as_of, today
    from xlcredit.data.sample import SAMPLE_AS_OF
    from xlcredit.jobs import WorkbookFile
    from xlcredit.letters.job import action_frame, folder_book, run_letters

    with user_errors():
        check_out(register)
        check_out(actions_out)
        if source is None:
            book, day = folder_book(None, out), parse_as_of(as_of) or SAMPLE_AS_OF
        elif source.is_dir():
            book, day = folder_book(source, out), parse_as_of(as_of) or today()
        elif source.is_file():
            book, day = WorkbookFile(source), parse_as_of(as_of) or today()
        else:
            raise XlcError("workbook", f"file or folder not found: {source}", str(source))
        if templates is not None and not templates.is_dir():
            raise XlcError("--templates", f"folder not found: {templates}", str(templates))
        state = ctx.obj if isinstance(ctx.obj, CliState) else CliState()
        base = get_policy(ctx) if state.policy_path is not None else None
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
        show_table(f"Dunning letters as of {day} — {book.label}", rows, [
            Column("customer_id", "Id"), Column("name", "Name", flexible=True), Column("stage", "Stage"),
            Column("language", "Lang", "center"), Column("amount", "Total due", "right"),
            Column("currency", "Cur"), Column("status", "Status"), Column("file", "File", flexible=True)])
        actions = action_frame(outcome.results)
        show_table("Action list", actions.to_dict("records"), [
            Column("customer_id", "Id"), Column("name", "Name", flexible=True), Column("action", "Action"),
            Column("due_date", "Due"), Column("amount", "Amount", "right"), Column("currency", "Cur"),
            Column("owner", "Owner"), Column("status", "Status")])
        if dry_run:
            console().print("dry run: nothing was written")
        else:
            console().print(f"Letters in {out} · register: {outcome.store_url}")
            if register is not None:
                write_out(outcome.register.to_dict("records"), register, sheet="Register")
            if actions_out is not None:
                write_out(actions.to_dict("records"), actions_out, sheet="Actions")
        print_problems(outcome.problems)
        new = outcome.count("would issue" if dry_run else "issued") + outcome.count("resent")
        skipped = outcome.count("already issued")
        # a re-run with nothing new to send is a success (exit 0), unlike finish()'s "nothing done"
        console().print(f"{new} letter{'s' if new != 1 else ''} {'would be issued' if dry_run else 'issued'}, "
                        f"{skipped} already issued, {outcome.count('issued', 'action')} new action"
                        f"{'s' if outcome.count('issued', 'action') != 1 else ''}, "
                        f"{len(outcome.problems)} problem{'s' if len(outcome.problems) != 1 else ''}")


# --------------------------------------------------------------------------- the team service
Db = Annotated[str | None, typer.Option(
    "--db", help="Credit database: a file, a workbook (→ the .credit.db beside it) or a URL "
                 "(sqlite:///…, postgresql+psycopg://…); default: $XLCREDIT_DB.")]


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
          ) -> None:
    """Run the HTTP service for the team: JSON API over the engine and the credit database (docs at /docs)."""
    from xlcredit.service.server import serve as run_service

    with user_errors():
        state = ctx.obj if isinstance(ctx.obj, CliState) else CliState()
        policy = state.policy if state.policy_path is not None else None
        run_service(db, host, port, policy=policy, max_rows=max_rows, timeout=timeout, max_body_mb=max_body_mb,
                    max_upload_mb=max_upload_mb, letters_dir=None if letters_dir is None else str(letters_dir))


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
        key = CreditStore(db).create_api_key(name, role, who=f"command line ({getpass.getuser()})")
    Console(stderr=True, highlight=False).print(f"API key for {name} ({role}) — shown only once, keep it safe; "
                                                "send it as the X-API-Key header:")
    typer.echo(key)


@keys_app.command("list")
def keys_list(db: Db = None) -> None:
    """List the API keys (names, roles, prefixes; never the keys)."""
    from xlcredit.io.store import CreditStore

    with user_errors():
        rows = CreditStore(db).api_keys()
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
        if not CreditStore(db).revoke_api_key(key_id, f"command line ({getpass.getuser()})"):
            raise XlcError("key_id", f"no active key {key_id}", key_id)
    typer.echo(f"key {key_id} revoked")


def main() -> None:
    """Entry point of the ``xlcredit`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
