"""The Generate Letters job: dunning letters, the action list and the collection register.

The same code runs behind the workbook's Generate Letters button (``xlcredit.excel.generate_letters``)
and ``xlcredit letters``: read the book → assess the portfolio → for every customer at a ladder step
with a letter, write the letter (.docx and .pdf) and record it in the credit database's register;
for every step with an action, add a row to the action list and record it too → show the register
on the workbook's Letters sheet.

**Never twice.** A letter or action is keyed by (customer, ladder step, the overdue invoices it
covers). When the register already holds the key, the run skips it — on the same day or any later
day — unless ``resend=True``, which issues it again as resend 1, 2, … (file name ``…-r1``).

**Crash safety — the protocol.** For each letter:

1. write a *pending marker* ``OUT/.pending/<stem>.json`` (customer, step, items key, resend, the two
   file names) — atomically: temp file, fsync, ``os.replace``, fsync of the folder;
2. write the .docx and then the .pdf the same atomic way (a reader never sees half a file), then reopen both
   (:func:`xlcredit.letters.check.check_written`: the Word package and PDFium open them, and each shows the customer's
   name and the total); a letter that fails is reported as a problem, its files and marker removed, and it is not
   registered — the rest of the run goes on;
3. record the register row (one database transaction: the row and its audit entry, or nothing);
4. delete the marker.

Every run (not a dry run) first calls :func:`recover`: each leftover marker whose register row
exists is *completed* (the marker is removed; the files are whole, they were written before the
row); a marker without its row means the run died between 1 and 3 — its files are *removed* (and the
letter is written afresh by this run). Leftover temp files (``.*.xlc-tmp``) are removed. Files are
only ever touched when a marker names them, so nothing else in the output folder is at risk.
Hence after any crash: no half-written file, no register row without its file, and no letter file
without a row once the next run has started.

**Dry run** (``dry_run=True``): nothing is written at all — no output folder, no credit database, no
file, no sheet. The register is only read (an existing database is opened without migrating it; a
missing one counts as empty).

**No FX rate.** A customer whose currency has no rate into the company currency is left out of the
company-currency figures by the portfolio, yet still dunned in its own currency; its letter and
action rows carry the reason (``note``: "no EUR rate for GBP on or before 2026-10-31").

File names and the register use the ladder step's name (the Stage column): one name per stage.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from xlcredit.core.collections import Collections, CustomerCollections, customer_collections, dunnable_positions
from xlcredit.core.dunning import dunning_stage
from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import Ledger, RowProblem
from xlcredit.core.openitems import Position, allocate
from xlcredit.core.policy import Policy
from xlcredit.core.portfolio import assess_portfolio
from xlcredit.io.store import AlreadyIssued, CreditStore, items_key, open_store, resolve_store_url
from xlcredit.jobs.book import Book, FolderBook, as_of_for, read_book
from xlcredit.jobs.collector import book_collections
from xlcredit.letters.check import check_written
from xlcredit.letters.content import (
    ACTION_TOKEN,
    ActionItem,
    Dunned,
    LetterContent,
    action_for,
    letter_for,
    with_history,
)
from xlcredit.letters.filenames import letter_stem
from xlcredit.letters.render import compose, fmt_money, render_docx, render_pdf

__all__ = ["FOLDER_REGISTER_DB", "PENDING_DIR", "TMP_SUFFIX", "LetterResult", "LettersOutcome", "action_frame",
           "customer_problem", "folder_book", "issue_letters", "plan_letters", "recover", "register_frame",
           "run_letters", "write_atomic", "write_checked", "write_files_atomic"]

PENDING_DIR = ".pending"
TMP_SUFFIX = ".xlc-tmp"
OnLetter = Callable[[int, int, str], None]


# --------------------------------------------------------------------------- atomic files
def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open folders; os.replace is atomic there too
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(path: Path, data: bytes) -> Path:
    """Write ``data`` beside ``path`` in a temp file and fsync it; return the temp file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_files_atomic(files: Sequence[tuple[Path, bytes]]) -> None:
    """Write each file so that its path holds the old file or the whole new one, never half.

    All temp files are written and fsynced first, then renamed into place (``os.replace``), then the
    folder is fsynced once (so the new names survive a power cut too).
    """
    temps: list[Path] = []
    try:
        for path, data in files:
            temps.append(_write_temp(path, data))
    except BaseException:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, (path, _) in zip(temps, files, strict=True):
        os.replace(tmp, path)
    for folder in {path.parent for path, _ in files}:
        _fsync_dir(folder)


def write_atomic(path: Path, data: bytes) -> None:
    """Write one file atomically (see :func:`write_files_atomic`)."""
    write_files_atomic([(path, data)])


def write_checked(marker: Path, info: dict[str, Any], docx: tuple[Path, bytes], pdf: tuple[Path, bytes], *,
                  name: str, figures: Sequence[str]) -> None:
    """Write a letter's or statement's pending marker, then both files atomically, then reopen and check them
    (:func:`xlcredit.letters.check.check_written`). A file that fails is removed with its marker and the
    ``XlcError`` says so ("…: removed, not registered"); the caller registers only what passed."""
    write_atomic(marker, json.dumps({**info, "files": [docx[0].name, pdf[0].name]}).encode("utf-8"))
    write_files_atomic([docx, pdf])
    try:   # reopened and read back before the register names it
        check_written(docx[0], pdf[0], name=name, figures=figures)
    except XlcError as exc:
        docx[0].unlink(missing_ok=True)
        pdf[0].unlink(missing_ok=True)
        marker.unlink(missing_ok=True)
        raise XlcError(exc.field, f"{exc.problem}: removed, not registered", exc.value) from None


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class LetterResult:
    """One letter or action of a run and what happened to it.

    ``status``: issued | resent | already issued (skipped) | would issue (dry run) | failed.
    """

    kind: str                 # letter | action
    customer_id: str
    name: str
    step_index: int
    stage: str
    detail: str               # letter template key, or the action text
    language: str
    amount: Any
    currency: str
    status: str
    docx: str = ""
    pdf: str = ""
    content_hash: str = ""
    due_date: dt.date | None = None
    owner: str = ""
    note: str = ""            # for the credit controller, e.g. why there is no company-currency figure


@dataclass(frozen=True)
class LettersOutcome:
    """What a letters run did: per letter/action results, recovered leftovers, problems, the register."""

    as_of: dt.date
    results: tuple[LetterResult, ...]
    actions: tuple[ActionItem, ...]
    recovered: tuple[str, ...]
    problems: tuple[RowProblem, ...]
    store_url: str
    register: pd.DataFrame
    as_of_note: str | None = None   # the date the run took when none was given, or a stale as-of warned

    @property
    def letters(self) -> tuple[LetterResult, ...]:
        return tuple(r for r in self.results if r.kind == "letter")

    def count(self, status: str, kind: str = "letter") -> int:
        return sum(1 for r in self.results if r.status == status and r.kind == kind)

    def new(self, kind: str = "letter") -> int:
        """Letters (or actions) this run issues: issued and resent, or in a dry run those that would be."""
        return sum(self.count(s, kind) for s in ("issued", "resent", "would issue"))

    @property
    def notes(self) -> tuple[str, ...]:
        """One line per customer whose letters or actions carry a note (e.g. no FX rate), in listing order."""
        seen: dict[str, str] = {}
        for r in self.results:
            if r.note and r.customer_id not in seen:
                seen[r.customer_id] = f"{r.customer_id} {r.name}: {r.note}"
        return tuple(seen.values())


def customer_problem(customer_id: str, field: str, problem: str) -> RowProblem:
    """A problem with one customer's letter (not a row of a table): labelled with the customer, no row number."""
    return RowProblem(f"customer {customer_id}", 0, field, customer_id, problem)


# --------------------------------------------------------------------------- recovery
def recover(out_dir: str | Path, store: CreditStore) -> list[str]:
    """Finish or undo letters a killed run left behind (see the module docstring); return what was done."""
    out = Path(out_dir)
    done: list[str] = []
    if not out.is_dir():
        return done
    for tmp in sorted(out.glob(f".*{TMP_SUFFIX}")):
        tmp.unlink(missing_ok=True)
        done.append(f"removed temp file {tmp.name}")
    pending = out / PENDING_DIR
    if pending.is_dir():
        for tmp in sorted(pending.glob(f".*{TMP_SUFFIX}")):
            tmp.unlink(missing_ok=True)
            done.append(f"removed temp file {PENDING_DIR}/{tmp.name}")
        for marker in sorted(pending.glob("*.json")):
            try:
                info = json.loads(marker.read_text("utf-8"))
            except (OSError, ValueError):
                marker.unlink(missing_ok=True)
                done.append(f"removed unreadable marker {marker.name}")
                continue
            rows = store.register_rows(info["customer_id"])
            found = any(r["step_index"] == info["step_index"] and r["items_key"] == info["items_key"]
                        and r["resend"] == info["resend"] for r in rows)
            if found:
                done.append(f"completed {info['stem']} (its register row exists)")
            else:
                for name in info["files"]:
                    (out / name).unlink(missing_ok=True)
                done.append(f"removed {info['stem']} (killed before its register row)")
            marker.unlink(missing_ok=True)
        _fsync_dir(pending)
    _fsync_dir(out)
    return done


# --------------------------------------------------------------------------- planning
def plan_letters(customers: Sequence[Any], ledger: Any, policy: Policy, as_of: dt.date, fx: Any = None,
                 rates: Any = None, collections: Collections | None = None
                 ) -> tuple[list[LetterContent], list[ActionItem], list[RowProblem]]:
    """Assess the portfolio and decide every letter and action due at ``as_of`` (nothing written).

    A customer with documents in a currency that has no rate into the company currency on or before
    ``as_of`` is left out of the company-currency assessment, yet still dunned in its own currency (its
    rows carry the reason); any other customer the portfolio cannot assess is a problem. ``collections``:
    promises, disputes and payment plans hold their items off the ladder and out of the letters (a disputed
    part is not claimed), a broken promise escalates (:mod:`xlcredit.core.collections`).
    """
    positions: dict[str, list[Position]] = {}
    for (cid, _cur), pos in allocate(ledger, as_of).items():
        positions.setdefault(cid, []).append(pos)
    no_rate = {cid: reason for cid, pos in positions.items() if (reason := _missing_rate(pos, policy, as_of, fx))}
    if no_rate:
        ledger = Ledger(tuple(d for d in ledger.invoices if d.customer_id not in no_rate),
                        tuple(d for d in ledger.payments if d.customer_id not in no_rate),
                        tuple(d for d in ledger.credit_notes if d.customer_id not in no_rate))
    records = collections or Collections()
    portfolio = assess_portfolio([c for c in customers if c.customer_id not in no_rate], ledger, policy, as_of, fx,
                                 records)
    problems = [customer_problem(p.customer_id, p.field, p.problem) for p in portfolio.problems]
    dunned: list[Any] = list(portfolio.customers)
    held: dict[str, CustomerCollections] = {c.customer.customer_id: c.collections for c in portfolio.customers
                                            if c.collections is not None}
    for customer in customers:
        cid = customer.customer_id
        if cid in no_rate:
            items = [item for pos in positions[cid] for item in pos.open_items]
            note = f"{no_rate[cid]}: dunned in its own currency, left out of the company-currency figures"
            hold = None
            if not records.of(cid).empty:
                hold = customer_collections(cid, [i for pos in positions[cid] for i in pos.items], ledger.payments,
                                            as_of, policy, records)
                held[cid] = hold
            dunned.append(Dunned(customer, dunning_stage(items, as_of, policy, held=hold.held if hold else None,
                                                         floor_step=hold.floor_step if hold else 0), note))
    for cid, hold in held.items():   # what the letters may claim: held items left out, disputed parts not claimed
        positions[cid] = dunnable_positions(positions.get(cid, []), hold, records.disputes, as_of, policy)
    if rates is None and policy.late.claim == "statutory":
        from xlcredit.io.rates import load_reference_rates

        rates = load_reference_rates()
    letters: list[LetterContent] = []
    actions: list[ActionItem] = []
    order = {c.customer_id: n for n, c in enumerate(customers)}
    for credit in sorted(dunned, key=lambda c: order.get(c.customer.customer_id, 0)):
        cid = credit.customer.customer_id
        try:
            letter = letter_for(credit, positions.get(cid, []), policy, as_of, rates)
            action = action_for(credit, positions.get(cid, []), policy, as_of)
        except XlcError as exc:
            problems.append(customer_problem(cid, exc.field, exc.problem))
            continue
        if letter is not None:
            letters.append(letter)
        if action is not None:
            actions.append(action)
    return letters, actions, problems


def _missing_rate(positions: Sequence[Position], policy: Policy, as_of: dt.date, fx: Any) -> str:
    """Why a customer's accounts cannot be put in the company currency, in the FX table's words ("" when they can)."""
    company = policy.company.currency
    reasons = []
    for currency in sorted({pos.currency for pos in positions} - {company}):
        if fx is None:
            reasons.append(f"no {company} rate for {currency} (no FX rates table)")
            continue
        try:
            fx.rate(currency, as_of)
        except XlcError as exc:
            reasons.append(exc.problem)
    return "; ".join(reasons)


def _next_resend(store: CreditStore, customer_id: str, step_index: int, key: str) -> int | None:
    """None when never issued, else the next resend counter."""
    rows = [r for r in store.register_rows(customer_id) if r["step_index"] == step_index and r["items_key"] == key]
    return None if not rows else max(int(r["resend"]) for r in rows) + 1


def issue_letters(letters: Sequence[LetterContent], actions: Sequence[ActionItem], policy: Policy, as_of: dt.date,
                  out_dir: str | Path, store: CreditStore, *, templates: str | Path | None = None,
                  dry_run: bool = False, resend: bool = False, who: str = "letters", now: dt.datetime | None = None,
                  on_letter: OnLetter | None = None) -> tuple[list[LetterResult], list[RowProblem]]:
    """Write and register the planned letters and actions by the crash-safe protocol (module docstring)."""
    out = Path(out_dir)
    if not dry_run:
        out.mkdir(parents=True, exist_ok=True)
        (out / PENDING_DIR).mkdir(exist_ok=True)
    results: list[LetterResult] = []
    problems: list[RowProblem] = []
    total = len(letters)
    for n, letter in enumerate(letters, start=1):
        c = letter.customer
        key = items_key(letter.invoice_nos)
        amount, currency = letter.register_amount
        base = dict(kind="letter", customer_id=c.customer_id, name=c.name, step_index=letter.step_index,
                    stage=letter.stage, detail=letter.template, language=letter.language, amount=amount,
                    currency=currency, note=letter.note)
        if on_letter:
            on_letter(n, total, f"{c.customer_id} {letter.stage}")
        counter = _next_resend(store, c.customer_id, letter.step_index, key)
        if counter is not None and not resend:
            results.append(LetterResult(**base, status="already issued"))
            continue
        number = counter or 0
        if dry_run:
            results.append(LetterResult(**base, status="would issue"))
            continue
        try:
            letter = with_history(letter, store.register_rows(c.customer_id))
            composed = compose(letter, policy, templates)
            docx_bytes, pdf_bytes = render_docx(composed), render_pdf(composed)
        except XlcError as exc:
            if exc.field in ("template", "templates"):
                raise
            problems.append(customer_problem(c.customer_id, exc.field, exc.problem))
            results.append(LetterResult(**base, status="failed"))
            continue
        stem = letter_stem(as_of, c.customer_id, c.name, letter.stage, number)
        if (out / f"{stem}.pdf").exists() or (out / f"{stem}.docx").exists():
            # a letter of the same day, customer and step on other invoices is there (registered; a killed run's
            # files were recovered before): never overwrite it, nor remove it if this one fails its check
            stem = f"{stem}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:8]}"
        docx_path, pdf_path = out / f"{stem}.docx", out / f"{stem}.pdf"
        digest = hashlib.sha256(pdf_bytes).hexdigest()
        marker = out / PENDING_DIR / f"{stem}.json"
        try:
            write_checked(marker, {"stem": stem, "customer_id": c.customer_id, "step_index": letter.step_index,
                                   "items_key": key, "resend": number},
                          (docx_path, docx_bytes), (pdf_path, pdf_bytes),
                          name=c.name, figures=[fmt_money(t.total, t.currency) for t in letter.totals])
        except XlcError as exc:
            problems.append(customer_problem(c.customer_id, exc.field, exc.problem))
            results.append(LetterResult(**base, status="failed"))
            continue
        try:
            store.record_issue(c.customer_id, letter.step_index, letter.stage, key, as_of=as_of, amount=amount,
                               currency=currency, kind="letter", file_path=str(pdf_path.resolve()),
                               content_hash=digest, who=who, resend=counter is not None, now=now,
                               payment_reference=composed.reference, invoice_nos=letter.invoice_nos)
        except AlreadyIssued:  # another run issued it meanwhile: undo ours
            docx_path.unlink(missing_ok=True)
            pdf_path.unlink(missing_ok=True)
            marker.unlink(missing_ok=True)
            results.append(LetterResult(**base, status="already issued"))
            continue
        marker.unlink(missing_ok=True)
        results.append(LetterResult(**base, status="resent" if counter is not None else "issued",
                                    docx=str(docx_path), pdf=str(pdf_path), content_hash=digest))
    for action in actions:
        key = items_key([ACTION_TOKEN, *action.invoice_nos])
        base = dict(kind="action", customer_id=action.customer_id, name=action.name, step_index=action.step_index,
                    stage=action.stage, detail=action.action, language="", amount=action.amount,
                    currency=action.currency, due_date=action.due_date, owner=action.owner, note=action.note)
        counter = _next_resend(store, action.customer_id, action.step_index, key)
        if counter is not None and not resend:
            results.append(LetterResult(**base, status="already issued"))
            continue
        if dry_run:
            results.append(LetterResult(**base, status="would issue"))
            continue
        try:
            store.record_issue(action.customer_id, action.step_index, action.stage, key, as_of=as_of,
                               amount=action.amount, currency=action.currency, kind="action", who=who,
                               resend=counter is not None, now=now)
        except AlreadyIssued:
            results.append(LetterResult(**base, status="already issued"))
            continue
        results.append(LetterResult(**base, status="resent" if counter is not None else "issued"))
    return results, problems


# --------------------------------------------------------------------------- register and action list views
#: The register's columns (the Letters sheet): a letter's own RF payment reference and its invoices sit beside its
#: amount, so "which letter did this payment quote?" is answered on the sheet (and on its printed page).
REGISTER_COLUMNS = ("id", "created_at", "customer_id", "kind", "step_index", "stage", "as_of", "amount", "currency",
                    "payment_reference", "invoice_nos", "resend", "file", "content_hash", "created_by")


def register_frame(store: CreditStore) -> pd.DataFrame:
    """The collection register as a table (the Letters sheet; exported to CSV/XLSX), oldest first."""
    rows = []
    for r in store.register_rows():
        created = r["created_at"]
        if isinstance(created, dt.datetime):
            created = created.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
        rows.append({"id": r["id"], "created_at": created, "customer_id": r["customer_id"], "kind": r["kind"],
                     "step_index": r["step_index"], "stage": r["stage"], "as_of": r["as_of"], "amount": r["amount"],
                     "currency": r["currency"], "payment_reference": r.get("payment_reference") or None,
                     "invoice_nos": " ".join(str(n) for n in r.get("invoice_nos") or ()) or None,
                     "resend": r["resend"], "file": r["file_path"],
                     "content_hash": r["content_hash"], "created_by": r["created_by"]})
    return pd.DataFrame(rows, columns=list(REGISTER_COLUMNS))


def action_frame(results: Sequence[LetterResult]) -> pd.DataFrame:
    """The action list: customer, action, due date, amount, owner and whether it is new in this run."""
    rows = [{"customer_id": r.customer_id, "name": r.name, "stage": r.stage, "action": r.detail,
             "due_date": r.due_date, "amount": r.amount, "currency": r.currency, "owner": r.owner, "status": r.status,
             "note": r.note} for r in results if r.kind == "action"]
    return pd.DataFrame(rows, columns=["customer_id", "name", "stage", "action", "due_date", "amount", "currency",
                                       "owner", "status", "note"])


# --------------------------------------------------------------------------- books
#: The credit database (and so the collection register) of letters written from a folder of tables: this file
#: in the letters' output folder (a workbook keeps its own beside it).
FOLDER_REGISTER_DB = "xlcredit.credit.db"


def folder_book(folder: Path | None, out_dir: str | Path) -> FolderBook:
    """A folder of tables (None: the bundled sample) as the letters job's book, its register in ``out_dir``."""
    return FolderBook(folder, Path(out_dir) / FOLDER_REGISTER_DB)


def _templates_setting(book: Any, policy: Policy) -> Path | None:
    """The Policy setting ``company.letter_templates``; a relative folder is taken beside the workbook."""
    setting = policy.company.letter_templates.strip()
    if not setting:
        return None
    folder = Path(setting)
    if not folder.is_absolute():
        base = getattr(book, "path", None) or getattr(book, "folder", None)
        if base is None and getattr(book, "book", None) is not None:   # the workbook open in Excel
            base = Path(book.book.fullname)
        if base is not None:
            base = Path(base)
            folder = (base.parent if base.is_file() else base) / folder
    return folder


def _read_only_register(target: str | None) -> CreditStore:
    """The register for a dry run, creating nothing: an existing database opened without migrating it, or an
    empty in-memory one when the database file (or its folder) does not exist yet."""
    from sqlalchemy.engine import make_url

    try:
        url = resolve_store_url(target)
    except XlcError:
        if target is None or "://" in str(target):
            raise
        return CreditStore("sqlite://")   # its folder does not exist: nothing was ever issued there
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (not parsed.database or not Path(parsed.database).is_file()):
        return CreditStore("sqlite://")
    return CreditStore(url, migrate=False)


def run_letters(book: Book, as_of: dt.date | None, out_dir: str | Path, *, store: str | CreditStore | None = None,
                templates: str | Path | None = None, dry_run: bool = False, resend: bool = False,
                base_policy: Policy | None = None, who: str = "letters", now: dt.datetime | None = None,
                progress: Callable[[str], None] | None = None, on_letter: OnLetter | None = None) -> LettersOutcome:
    """The Generate Letters button / ``xlcredit letters``: recover, plan, write + register, show the register.

    ``templates``: a folder overriding the shipped templates (default: the Policy setting
    ``company.letter_templates`` when set). ``dry_run``: decide and report only — no files, no register
    rows, no sheet. ``resend``: issue again what the register already holds.
    """
    say = progress or (lambda _m: None)
    say(f"reading {book.label}")
    tables = book.read_tables()
    data = read_book(tables, book.read_policy_rows(), base_policy)
    as_of, note = as_of_for(data.ledger, as_of, book.label)   # None: the ledger's newest document date
    policy = data.policy
    templates = templates or _templates_setting(book, policy)
    if isinstance(store, CreditStore):
        credit_store, peeked = store, False
    elif dry_run:
        credit_store, peeked = _read_only_register(store or book.default_store()), True
    else:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        credit_store, peeked = open_store(store or book.default_store()), False
    recovered: list[str] = []
    if not dry_run:
        say("checking for letters left by an interrupted run")
        recovered = recover(out_dir, credit_store)
    records, record_problems = book_collections(book, tables, policy.company.currency, credit_store)
    say(f"assessing {len(data.customers)} customers")
    letters, actions, problems = plan_letters(data.customers, data.ledger, policy, as_of, data.fx,
                                              collections=records)
    problems = [*record_problems, *problems]
    try:
        results, more = issue_letters(letters, actions, policy, as_of, out_dir, credit_store, templates=templates,
                                      dry_run=dry_run, resend=resend, who=who, now=now, on_letter=on_letter)
        register = register_frame(credit_store)
    finally:
        if peeked:
            credit_store.close()
    if not dry_run:
        say("writing the Letters sheet")
        book.write_outputs({"Letters": register}, {("Letters", "B2"): as_of})
    return LettersOutcome(as_of, tuple(results), tuple(actions), tuple(recovered),
                          (*data.problems, *problems, *more), credit_store.url, register, note)
