"""The Statements job: a statement of account (.docx and .pdf) per customer for a period, recorded in the register.

The same code runs behind the workbook's Statements button (``xlcredit.excel.generate_statements``),
``xlcredit statements`` and ``POST /v1/statements``: read the book → for every customer with a balance or
activity in the period (or the one customer asked for) work out the statement (:mod:`xlcredit.core.statements`)
with the customer's payment plans (read as the worklist reads them) → write it in the customer's language → record
it in the collection register as kind ``statement``, so that ``xlcredit send`` can deliver it like a letter.

**Once per content.** A statement's register key is the period and the SHA-256 of its words and figures: running
the job again for the same period writes nothing new (status ``already written``); a statement whose figures
changed (a payment booked late) is a new entry — a corrected statement.

**Crash safety** is the letters' protocol (:mod:`xlcredit.jobs.letters`): a pending marker, the .docx and .pdf
written atomically and reopened (each must open and show the customer's name and closing balance, else it is a
problem, removed and not registered), the register row, the marker removed;
:func:`xlcredit.jobs.letters.recover` finishes or undoes whatever a killed run left. **Dry run**: nothing written,
the register only read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlcredit.core.collections import Collections
from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import RowProblem
from xlcredit.core.policy import Policy
from xlcredit.core.statements import Statement, plan_sections, statements_for
from xlcredit.io.store import AlreadyIssued, CreditStore, items_key, open_store
from xlcredit.jobs.book import Book, read_book
from xlcredit.jobs.collector import book_collections
from xlcredit.jobs.letters import (
    PENDING_DIR,
    _read_only_register,
    _templates_setting,
    customer_problem,
    recover,
    write_checked,
)
from xlcredit.letters.filenames import safe_filename
from xlcredit.letters.render import fmt_money
from xlcredit.letters.statement import compose_statement, render_statement_docx, render_statement_pdf

__all__ = ["STAGE", "StatementResult", "StatementsOutcome", "run_statements", "statement_stem"]

#: The register's stage name of a statement (its step_index is 0: statements are not a rung of the ladder).
STAGE = "Statement of account"


@dataclass(frozen=True)
class StatementResult:
    """One customer's statement in a run. ``status``: written | already written | would write | failed."""

    customer_id: str
    name: str
    language: str
    date_from: dt.date
    date_to: dt.date
    closing: str               # closing balance per currency in words: "680.25 EUR, 300.00 GBP"
    amount: Decimal | None     # the closing balance when there is one currency (the register's amount)
    currency: str
    status: str
    docx: str = ""
    pdf: str = ""
    content_hash: str = ""


@dataclass(frozen=True)
class StatementsOutcome:
    """What a statements run did."""

    date_from: dt.date
    date_to: dt.date
    results: tuple[StatementResult, ...]
    recovered: tuple[str, ...]
    problems: tuple[RowProblem, ...]
    store_url: str

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def statement_stem(statement: Statement) -> str:
    """``statement_2026-09-01_2026-09-30_C001_Ostermoor`` — the file name without extension."""
    c = statement.customer
    return "_".join(["statement", statement.date_from.isoformat(), statement.date_to.isoformat(),
                     safe_filename(c.customer_id, 30), safe_filename(c.name, 40)])


def _closing_words(statement: Statement) -> str:
    return ", ".join(fmt_money(s.closing, s.currency) for s in statement.sections)


def run_statements(book: Book, date_from: dt.date, date_to: dt.date, out_dir: str | Path, *,
                   customer: str | None = None, store: str | CreditStore | None = None,
                   templates: str | Path | None = None, dry_run: bool = False, base_policy: Policy | None = None,
                   who: str = "statements", now: dt.datetime | None = None,
                   progress: Callable[[str], None] | None = None) -> StatementsOutcome:
    """Write and register the statements of the period (module docstring); ``customer``: only this customer."""
    say = progress or (lambda _m: None)
    say(f"reading {book.label}")
    tables = book.read_tables()
    data = read_book(tables, book.read_policy_rows(), base_policy)
    policy = data.policy
    templates = templates or _templates_setting(book, policy)
    statements = statements_for(data.customers, data.ledger, date_from, date_to, policy, only=customer)
    out = Path(out_dir)
    if isinstance(store, CreditStore):
        credit_store, peeked = store, False
    elif dry_run:
        credit_store, peeked = _read_only_register(store or book.default_store()), True
    else:
        out.mkdir(parents=True, exist_ok=True)
        credit_store, peeked = open_store(store or book.default_store()), False
    recovered: list[str] = []
    results: list[StatementResult] = []
    problems: list[RowProblem] = list(data.problems)
    try:
        # payment plans, read as the worklist reads them (the book's sheets or files and the credit database)
        records, record_problems = book_collections(book, tables, policy.company.currency, credit_store)
        problems += record_problems
        statements = [_with_plans(s, data.ledger, policy, records, problems) for s in statements]
        if not dry_run:
            say("checking for statements left by an interrupted run")
            recovered = recover(out, credit_store)
            (out / PENDING_DIR).mkdir(parents=True, exist_ok=True)
        for n, statement in enumerate(statements, start=1):
            say(f"statement {n}/{len(statements)} {statement.customer.customer_id}")
            results.append(_one(statement, policy, out, credit_store, templates, dry_run, who, now, problems))
    finally:
        if peeked:
            credit_store.close()
    return StatementsOutcome(date_from, date_to, tuple(results), tuple(recovered), tuple(problems),
                             credit_store.url)


def _with_plans(statement: Statement, ledger: Any, policy: Policy, records: Collections,
                problems: list[RowProblem]) -> Statement:
    """The statement with the customer's payment plans (a plan that cannot be read is a problem, left out)."""
    cid = statement.customer.customer_id
    plans, bad = plan_sections(cid, ledger, statement.date_from, statement.date_to, policy, records)
    problems += [customer_problem(cid, exc.field, exc.problem) for exc in bad]
    return dataclasses.replace(statement, plans=plans) if plans else statement


def _one(statement: Statement, policy: Policy, out: Path, store: CreditStore, templates: Any, dry_run: bool,
         who: str, now: dt.datetime | None, problems: list[RowProblem]) -> StatementResult:
    c = statement.customer
    single = statement.sections[0] if len(statement.sections) == 1 else None
    base = dict(customer_id=c.customer_id, name=c.name, language=statement.language,
                date_from=statement.date_from, date_to=statement.date_to, closing=_closing_words(statement),
                amount=single.closing if single else None, currency=single.currency if single else "")
    try:
        composed = compose_statement(statement, policy, templates)
    except XlcError as exc:
        if exc.field in ("template", "templates"):
            raise
        problems.append(customer_problem(c.customer_id, exc.field, exc.problem))
        return StatementResult(**base, status="failed")
    words = hashlib.sha256(composed.text().encode("utf-8")).hexdigest()
    key = items_key([f"#statement {statement.date_from.isoformat()}..{statement.date_to.isoformat()}", words])
    if any(r["kind"] == "statement" and r["items_key"] == key for r in store.register_rows(c.customer_id)):
        return StatementResult(**base, status="already written")
    if dry_run:
        return StatementResult(**base, status="would write")
    try:
        docx_bytes, pdf_bytes = render_statement_docx(composed), render_statement_pdf(composed)
    except XlcError as exc:
        problems.append(customer_problem(c.customer_id, exc.field, exc.problem))
        return StatementResult(**base, status="failed")
    stem = statement_stem(statement)
    if any(r["kind"] == "statement" and r["as_of"] == statement.date_to for r in store.register_rows(c.customer_id)):
        stem += f"-{words[:8]}"          # a corrected statement of the same period: a file of its own
    docx_path, pdf_path = out / f"{stem}.docx", out / f"{stem}.pdf"
    digest = hashlib.sha256(pdf_bytes).hexdigest()
    marker = out / PENDING_DIR / f"{stem}.json"
    try:   # reopened and read back before the register names it (as the letters are)
        write_checked(marker, {"stem": stem, "customer_id": c.customer_id, "step_index": 0, "items_key": key,
                               "resend": 0}, (docx_path, docx_bytes), (pdf_path, pdf_bytes),
                      name=c.name, figures=[fmt_money(s.closing, s.currency) for s in statement.sections])
    except XlcError as exc:
        problems.append(customer_problem(c.customer_id, exc.field, exc.problem))
        return StatementResult(**base, status="failed")
    try:
        store.record_issue(c.customer_id, 0, STAGE, key, as_of=statement.date_to, amount=base["amount"],
                           currency=str(base["currency"]), kind="statement", file_path=str(pdf_path.resolve()),
                           content_hash=digest, who=who, now=now)
    except AlreadyIssued:           # another run wrote the same statement meanwhile: undo ours
        docx_path.unlink(missing_ok=True)
        pdf_path.unlink(missing_ok=True)
        marker.unlink(missing_ok=True)
        return StatementResult(**base, status="already written")
    marker.unlink(missing_ok=True)
    return StatementResult(**base, status="written", docx=str(docx_path), pdf=str(pdf_path), content_hash=digest)
