"""Cash application job: read bank statements, propose matches to the book's open items, apply the confident ones.

Proposals come from :func:`xlcredit.core.cashapp.match_transactions` over the open items as of the run date, with
the letters' own payment references from the collection register (:func:`letter_references`), so a payment quoting
one is matched to exactly that letter's invoices.
``apply_matches`` appends the automatic proposals to the folder's ``payments.csv`` — one row per invoice, with
``invoice_ref`` (so the allocation rule settles that invoice) and ``bank_reference`` — written to a temp file and
moved into place (``os.replace``), skipping every bank reference the table already holds: a re-run of the same
statement changes nothing, and a failure before the move leaves the table as it was. A transaction the statement
gives no bank reference of its own (:func:`own_reference`) is never applied: nothing would tell it from a new one
next time, so it is listed for the user to enter by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from xlcredit.core.cashapp import (
    AUTO,
    BankTransaction,
    CashSettings,
    LetterReference,
    PayerAccount,
    Proposal,
    match_transactions,
)
from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import RowProblem
from xlcredit.core.openitems import allocate
from xlcredit.io.bank import BankRead, read_statements
from xlcredit.io.store import CreditStore
from xlcredit.jobs.book import Book, FolderBook, as_of_for, read_book
from xlcredit.jobs.collector import existing_store

__all__ = ["MatchOutcome", "apply_matches", "apply_to_workbook", "letter_references", "load_accounts", "own_reference",
           "proposal_rows", "run_match", "unreferenced"]

PAYMENT_COLUMNS = ("payment_id", "customer_id", "payment_date", "amount", "currency", "invoice_ref", "bank_reference")


@dataclass(frozen=True)
class MatchOutcome:
    """The proposals of one run, the statements read, bad rows and notes."""

    as_of: dt.date
    proposals: tuple[Proposal, ...]
    reads: tuple[BankRead, ...]
    problems: tuple[RowProblem, ...]
    notes: tuple[str, ...]

    def count(self, status: str) -> int:
        return sum(1 for p in self.proposals if p.status == status)


def load_accounts(path: str | Path | None) -> tuple[PayerAccount, ...]:
    """The customers' bank accounts (``customer_id``, ``iban``, optional ``name``) from a CSV, or none."""
    if path is None:
        return ()
    path = Path(path)
    if not path.is_file():
        raise XlcError("accounts", f"file not found: {path}", str(path))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in ("customer_id", "iban"):
        if column not in frame.columns:
            raise XlcError("accounts", f"has no {column} column (found {', '.join(frame.columns)})", str(path))
    names = frame["name"] if "name" in frame.columns else [""] * len(frame)
    return tuple(PayerAccount(c.strip(), i.strip(), n.strip())
                 for c, i, n in zip(frame["customer_id"], frame["iban"], names, strict=True) if c.strip() and i.strip())


def _applied_references(tables: dict[str, pd.DataFrame] | object) -> set[str]:
    payments = tables.get("payments") if isinstance(tables, dict) else None
    if payments is None or "bank_reference" not in payments.columns:
        return set()
    return {str(v).strip() for v in payments["bank_reference"] if str(v).strip() and str(v) != "nan"}


def letter_references(store: CreditStore | None) -> tuple[LetterReference, ...]:
    """The letters' own payment references in the collection register, each with the invoices of its letter
    (entries written before references were recorded have none and are left out)."""
    if store is None:
        return ()
    refs = []
    for r in store.register_rows():
        reference, numbers = r.get("payment_reference") or "", r.get("invoice_nos") or ()
        if r["kind"] == "letter" and reference and numbers:
            refs.append(LetterReference(reference, r["customer_id"], tuple(str(n) for n in numbers),
                                        r["currency"] or "", r["amount"], r["as_of"], r["stage"]))
    return tuple(refs)


def run_match(statements: Sequence[str | Path], book: Book, *, as_of: dt.date | None = None,
              accounts: Sequence[PayerAccount] = (), settings: CashSettings | None = None,
              read: Callable[[Sequence[str | Path]], list[BankRead]] = read_statements,
              store: str | CreditStore | None = None) -> MatchOutcome:
    """Read the statements and the book, and propose a match for every transaction.

    ``store``: the credit database whose register holds the letters' payment references (default: the book's
    own, when it exists — matching never creates one); a payment quoting a letter's reference is matched to
    exactly that letter's invoices.
    """
    reads = tuple(read(statements))
    tables = dict(book.read_tables())
    data = read_book(tables, book.read_policy_rows())
    when, note = as_of_for(data.ledger, as_of, book.label)
    positions = allocate(data.ledger, when)
    transactions = [tx for r in reads for tx in r.transactions]
    if not accounts and isinstance(book, FolderBook) and book.folder is not None:
        own = book.folder / "bank_accounts.csv"
        accounts = load_accounts(own) if own.is_file() else ()
    target = store
    if target is None:
        try:
            target = book.default_store()
        except XlcError:   # a book with no database of its own (an upload to the service): no letters' references
            target = None
    credit_store = existing_store(target)
    try:
        letters = letter_references(credit_store)
    finally:
        if credit_store is not None and not isinstance(store, CreditStore):
            credit_store.close()
    proposals = match_transactions(transactions, positions, {c.customer_id: c.name for c in data.customers},
                                   accounts, settings, applied_references=_applied_references(tables),
                                   letters=letters)
    problems = (*data.problems, *(p for r in reads for p in r.problems))
    return MatchOutcome(when, proposals, reads, tuple(problems), (note,) if note else ())


def proposal_rows(proposals: Sequence[Proposal]) -> list[dict[str, object]]:
    """One row per transaction for the screen and ``--out``."""
    return [{"bank_reference": p.transaction.bank_reference, "date": p.transaction.booking_date,
             "amount": p.transaction.amount, "currency": p.transaction.currency, "payer": p.transaction.payer_name,
             "customer_id": p.customer_id, "invoices": " ".join(p.invoices), "confidence": p.confidence,
             "status": p.status, "reason": p.reason, "source": p.transaction.source} for p in proposals]


#: References a statement carries when the payer or bank gave none (SEPA's EndToEndId, MT940's :61: reference).
_PLACEHOLDERS = {"NOTPROVIDED", "NONREF", "NONE"}
_CAMT_STAND_IN = re.compile(r"^/\d+$")   # the n-th detail of a CAMT entry that has no reference of its own


def own_reference(tx: BankTransaction) -> str:
    """The bank's own reference of a transaction, or "" when the statement gave none: a blank one, a placeholder
    (NOTPROVIDED, NONREF), or a position stood in for it — ``<source>:<line>`` for a CSV row, ``/<n>`` for a CAMT
    entry's n-th detail, as the readers gave before they left such transactions blank (:mod:`xlcredit.io.bank`) —
    which only says where it stood in that file, so the same payment in the next export would get another one (and
    another payment this one)."""
    ref = tx.bank_reference.strip()
    if not ref or ref.upper() in _PLACEHOLDERS or _CAMT_STAND_IN.match(ref):
        return ""
    where, _sep, line = tx.source.rpartition(" line ")
    return "" if where and ref == f"{where}:{line}" else ref


def unreferenced(proposals: Sequence[Proposal]) -> list[Proposal]:
    """The automatic proposals that are not applied because their transaction has no bank reference of its own."""
    return [p for p in proposals if p.status == AUTO and not own_reference(p.transaction)]


def unreferenced_line(p: Proposal) -> str:
    """One line naming a transaction without a bank reference, why it was not applied and what to do."""
    tx = p.transaction
    payer = f", {tx.payer_name}" if tx.payer_name else ""
    return (f"{tx.source or 'a transaction'} ({tx.booking_date.isoformat()}, {tx.amount} {tx.currency}{payer}): "
            "no bank reference, so it could not be recorded in a way that stops it being applied twice — not "
            "applied; check it is not in the Payments table already, then enter it there by hand (with a Bank "
            "reference of your own, e.g. the date and amount), or use an export that has a reference column")


def payment_rows(proposals: Sequence[Proposal], already: set[str]) -> list[dict[str, str]]:
    """The payments-table rows of the automatic proposals not yet applied (one per invoice); a transaction without
    a bank reference of its own (:func:`own_reference`) gets none."""
    rows: list[dict[str, str]] = []
    for p in proposals:
        ref = own_reference(p.transaction)
        if p.status != AUTO or not ref or ref in already:
            continue
        for n, line in enumerate(p.lines, start=1):
            rows.append({"payment_id": f"{ref}-{n}", "customer_id": p.customer_id,
                         "payment_date": p.transaction.booking_date.isoformat(), "amount": f"{line.amount}",
                         "currency": p.transaction.currency, "invoice_ref": line.invoice_no, "bank_reference": ref})
        if p.on_account > 0:   # more than the items (e.g. a letter's interest too): kept as unapplied cash
            rows.append({"payment_id": f"{ref}-{len(p.lines) + 1}", "customer_id": p.customer_id,
                         "payment_date": p.transaction.booking_date.isoformat(), "amount": f"{p.on_account}",
                         "currency": p.transaction.currency, "invoice_ref": "", "bank_reference": ref})
    return rows


def charge_rows(proposals: Sequence[Proposal], already: set[str]) -> list[dict[str, str]]:
    """Credit-note rows writing off the bank charges of the automatic proposals (setting ``charges`` =
    ``write_off``), one per transaction, numbered after its bank reference so a re-run finds it."""
    rows = []
    for p in proposals:
        ref = own_reference(p.transaction)
        number = f"{ref}-CHARGES"
        if p.status != AUTO or not ref or p.charges <= 0 or not p.lines or number in already:
            continue
        rows.append({"credit_note_no": number, "customer_id": p.customer_id,
                     "date": p.transaction.booking_date.isoformat(), "amount": f"{p.charges}",
                     "currency": p.transaction.currency, "invoice_ref": p.lines[-1].invoice_no})
    return rows


def apply_matches(folder: str | Path, proposals: Sequence[Proposal], *,
                  before_replace: Callable[[Path], None] | None = None) -> int:
    """Append the automatic proposals to ``folder/payments.csv`` atomically; returns the rows added (0 on a re-run).

    Bank charges to write off (setting ``charges`` = ``write_off``) go first to ``credit_notes.csv`` (skipped when
    its number is there): a failure between the two files leaves a write-off whose payment the next run adds, with
    the same end result. ``before_replace`` is called with the written temp file just before it replaces the
    payments table (tests use it to simulate a crash there).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise XlcError("folder", f"not found: {folder}", str(folder))
    if any(p.status == AUTO and p.charges > 0 for p in proposals):
        notes = next((folder / f"{stem}.csv" for stem in ("credit_notes", "creditnotes", "credits")
                      if (folder / f"{stem}.csv").is_file()), folder / "credit_notes.csv")
        _append_csv(notes, CREDIT_NOTE_COLUMNS, "credit_note_no", lambda seen: charge_rows(proposals, seen))
    return _append_csv(folder / "payments.csv", PAYMENT_COLUMNS, "bank_reference",
                       lambda seen: payment_rows(proposals, seen), before_replace)


def apply_to_workbook(path: str | Path, proposals: Sequence[Proposal], *,
                      before_replace: Callable[[Path], None] | None = None) -> int:
    """Append the automatic proposals to the workbook's Payments table, in place and atomically; returns the rows
    added (0 on a re-run) — the rows and the never-twice rule of the Apply Matches button, without Excel.

    A bank reference already in the table's Bank reference column (a reference of digits read back as a number
    counts as its digits) is never applied again; the file is patched by :func:`xlcredit.io.workbook.
    append_table_rows` (VBA, buttons and the other sheets copied unchanged) and refused if it was saved between
    reading it and writing. A table without a Bank reference column is refused: it could not tell what was applied.
    """
    from decimal import Decimal

    from xlcredit.core.coerce import to_date
    from xlcredit.io import workbook as wb

    path = Path(path)
    if not path.is_file():
        raise XlcError("workbook", f"file not found: {path}", str(path))
    read_at = path.stat()
    payments = wb.read_tables(path).get("payments")
    if payments is None or "bank_reference" not in payments.columns:
        raise XlcError("Payments", "table has no Bank reference column: add a column headed 'Bank reference' to it "
                                   "(applying records each bank reference there, so that a payment is never applied "
                                   "twice)", str(path))
    already = {t for v in payments["bank_reference"] if (t := _reference_text(v))}
    rows = [{**r, "payment_date": to_date(r["payment_date"], "payment_date"), "amount": Decimal(r["amount"])}
            for r in payment_rows(proposals, already)]
    if not rows:
        return 0
    return wb.append_table_rows(path, "payments", rows, unchanged_since=read_at, before_replace=before_replace)


def _reference_text(value: object) -> str:
    """A bank reference read from a cell: blank for none, a whole number (Excel's number of digits) as its digits."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


CREDIT_NOTE_COLUMNS = ("credit_note_no", "customer_id", "date", "amount", "currency", "invoice_ref")


def _append_csv(target: Path, columns: Sequence[str], key: str,
                new_rows: Callable[[set[str]], list[dict[str, str]]],
                before_replace: Callable[[Path], None] | None = None) -> int:
    """Append rows to a CSV table atomically (temp file + ``os.replace``), none whose ``key`` is already there."""
    if target.is_file():
        text = target.read_text(encoding="utf-8-sig")
        existing = list(csv.DictReader(io.StringIO(text)))
        header = next(csv.reader(io.StringIO(text))) if text.strip() else list(columns)
    else:
        existing, header = [], list(columns)
    already = {(r.get(key) or "").strip() for r in existing} - {""}
    new = new_rows(already)
    if not new:
        return 0
    for column in columns:
        if column not in header:
            header.append(column)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in [*existing, *new]:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items() if k in header})
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".csv", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(buffer.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        if before_replace is not None:
            before_replace(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(new)
