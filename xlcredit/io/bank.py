"""Bank statements read into :class:`xlcredit.core.cashapp.BankTransaction` records, each with its source line.

A transaction's ``bank_reference`` is the reference the file gives it, or blank — never one made up: CAMT the
account servicer's reference (``AcctSvcrRef`` of the transaction, else of its entry; a batch entry's transaction
without one: the entry's and its place in the entry, ``E1/2``); MT940 the :61: reference of the account servicing
institution (subfield 8, after ``//``); CSV the reference column. Not the payer's ``EndToEndId`` nor the account
owner's :61: subfield 7: their senders choose them, and two payments (two payers', or one payment run's) can carry
the same one, which would make the second a "duplicate". The "none given" placeholders (:data:`NO_REFERENCE`:
ISO 20022 ``NOTPROVIDED``, SWIFT ``NONREF``) are blank. Where the transaction stood is its ``source`` ("bank.csv
line 7"), for messages only: a position is not a reference (the same payment stands elsewhere in the next export,
and another payment there).

Formats: ISO 20022 CAMT.053 (statement) and CAMT.054 (notification), any version (the namespace is ignored),
read with the standard library's ``xml.etree``; SWIFT MT940 with the ``mt-940`` package (the :86: field: the
German ``?20``–``?29`` / ``?31`` / ``?32`` layout as the package splits it, else ``/NAME/``, ``/IBAN/``,
``/REMI/`` sub-fields, else free text); CSV bank exports with column aliases (English and German names, ``;``
or ``,``, decimal comma, one signed amount or separate credit and debit columns). A bad row is a
:class:`RowProblem`; the others are read.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from xlcredit.core.cashapp import BankTransaction
from xlcredit.core.coerce import to_date
from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import RowProblem
from xlcredit.core.money import to_decimal

__all__ = ["CSV_ALIASES", "NO_REFERENCE", "BankRead", "given_reference", "read_camt", "read_csv", "read_mt940",
           "read_statement", "read_statements"]


#: What a statement carries where the payer or bank gave no reference: ISO 20022 (SEPA) ``NOTPROVIDED`` for an
#: EndToEndId, SWIFT MT940 ``NONREF`` in :61: subfield 7. Compared case-insensitively; read as no reference.
NO_REFERENCE = frozenset({"NOTPROVIDED", "NONREF", "NONE"})


def given_reference(text: object) -> str:
    """A reference field's text, blank when empty or a "none given" placeholder (:data:`NO_REFERENCE`)."""
    value = str(text or "").strip()
    return "" if value.upper() in NO_REFERENCE else value


@dataclass(frozen=True)
class BankRead:
    """What one statement file gave: its transactions, bad rows, the format and (CSV) the column mapping."""

    source: str
    format: str
    transactions: tuple[BankTransaction, ...]
    problems: tuple[RowProblem, ...] = ()
    columns: Mapping[str, str] | None = None


def read_statements(paths: Sequence[str | Path]) -> list[BankRead]:
    """Read several statement files (overlaps are left to the matcher, which knows duplicates by bank reference)."""
    return [read_statement(p) for p in paths]


def read_statement(path: str | Path) -> BankRead:
    """Read one statement file, the format told by its content (XML → CAMT, ``:20:``/``:61:`` → MT940, else CSV)."""
    path = Path(path)
    if not path.is_file():
        raise XlcError("statement", f"file not found: {path}", str(path))
    raw = path.read_bytes()
    text = _decode(raw)
    head = text.lstrip()[:2000]
    if head.startswith("<"):
        return read_camt(text, path.name)
    if re.search(r"^:(20|25|60F|61):", text, re.MULTILINE):
        return read_mt940(text, path.name)
    return read_csv(text, path.name)


def _decode(raw: bytes) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


# --------------------------------------------------------------------------- CAMT.053 / CAMT.054
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(node: ET.Element | None, path: str) -> ET.Element | None:
    """First descendant along ``path`` (slash-separated local names; any namespace)."""
    if node is None:
        return None
    current = [node]
    for step in path.split("/"):
        current = [c for n in current for c in n if _local(c.tag) == step]
        if not current:
            return None
    return current[0]


def _children(node: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if node is None else [c for c in node if _local(c.tag) == name]


def _text(node: ET.Element | None, path: str) -> str:
    found = _find(node, path)
    return (found.text or "").strip() if found is not None else ""


def read_camt(text: str, source: str = "camt") -> BankRead:
    """A CAMT.053 statement or CAMT.054 notification: every booked entry (and every transaction of a batch entry)."""
    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as exc:
        raise XlcError("statement", f"is not well-formed XML ({exc})", source) from None
    lines = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r"<(?:\w+:)?Ntry[\s>]", text)]
    kind = "CAMT.054" if any(_local(e.tag) == "BkToCstmrDbtCdtNtfctn" for e in root.iter()) else "CAMT.053"
    out: list[BankTransaction] = []
    problems: list[RowProblem] = []
    n = 0
    for stmt in (e for e in root.iter() if _local(e.tag) in ("Stmt", "Ntfctn")):
        account = _text(stmt, "Acct/Id/IBAN")
        for entry in _children(stmt, "Ntry"):
            line = lines[n] if n < len(lines) else 0
            n += 1
            where = f"{source} line {line}"
            try:
                out.extend(_camt_entry(entry, account, where))
            except XlcError as exc:
                problems.append(RowProblem(source, line, exc.field, exc.value, exc.problem))
    return BankRead(source, kind, tuple(out), tuple(problems))


def _camt_entry(entry: ET.Element, account: str, where: str) -> list[BankTransaction]:
    status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
    if status and status.upper() != "BOOK":
        return []
    amt = _find(entry, "Amt")
    currency = (amt.get("Ccy") if amt is not None else "") or ""
    sign = -1 if _text(entry, "CdtDbtInd").upper() == "DBIT" else 1
    booked = to_date(_text(entry, "BookgDt/Dt") or _text(entry, "BookgDt/DtTm")[:10] or _text(entry, "ValDt/Dt"),
                     "BookgDt")
    entry_ref = given_reference(_text(entry, "AcctSvcrRef")) or given_reference(_text(entry, "NtryRef"))
    details = [t for d in _children(entry, "NtryDtls") for t in _children(d, "TxDtls")]
    if not details:
        details = [entry]
    out = []
    for k, tx in enumerate(details):
        tx_amt = _find(tx, "AmtDtls/TxAmt/Amt") if tx is not entry else None
        if tx_amt is None and len(details) == 1:
            tx_amt = amt
        if tx_amt is None:
            tx_amt = _find(tx, "Amt")
        if tx_amt is None:
            raise XlcError("Amt", "is missing", None)
        amount = to_decimal((tx_amt.text or "").strip(), "Amt", allow_negative=False)
        # the bank's reference of the transaction, or of its entry (a batch: the entry's and the place in it);
        # blank when the bank gives none. Not the payer's end-to-end id: the payer chooses it, so two payments
        # (of two payers, or one payer's payment run) can carry the same one and one would be taken for a
        # duplicate of the other; not a position in the file either
        ref = given_reference(_text(tx, "Refs/AcctSvcrRef"))
        if not ref and entry_ref:
            ref = entry_ref if len(details) == 1 else f"{entry_ref}/{k + 1}"
        party = "Dbtr" if sign > 0 else "Cdtr"
        name = _text(tx, f"RltdPties/{party}/Nm") or _text(tx, f"RltdPties/{party}/Pty/Nm")
        iban = _text(tx, f"RltdPties/{party}Acct/Id/IBAN")
        remit = [(u.text or "").strip() for r in _children(tx, "RmtInf") for u in _children(r, "Ustrd")]
        structured = _text(tx, "RmtInf/Strd/CdtrRefInf/Ref")
        remittance = " ".join(x for x in [structured, *remit] if x)
        out.append(BankTransaction(ref, booked, sign * amount, (tx_amt.get("Ccy") or currency).upper(), name, iban,
                                   remittance, where, account))
    return out


# --------------------------------------------------------------------------- MT940
def read_mt940(text: str, source: str = "mt940") -> BankRead:
    """A SWIFT MT940 statement through the ``mt-940`` package; the source line is that of the ``:61:`` field."""
    import mt940

    lines = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r"^:61:", text, re.MULTILINE)]
    try:
        parsed = mt940.models.Transactions(options=mt940.Options(applicant_iban=True, reversal_sign=True))
        parsed.parse(text)
    except Exception as exc:   # the parser raises bare exceptions on malformed fields
        raise XlcError("statement", f"is not a readable MT940 statement ({exc})", source) from None
    account = str(parsed.data.get("account_identification") or "")
    out: list[BankTransaction] = []
    problems: list[RowProblem] = []
    for n, tx in enumerate(parsed):
        d = tx.data
        line = lines[n] if n < len(lines) else 0
        try:
            amount = d["amount"]
            if d.get("purpose") or d.get("applicant_name"):   # the German ?20…?32 layout, split by mt-940
                name, iban = str(d.get("applicant_name") or ""), str(d.get("applicant_iban") or "")
                remit = " ".join(str(d.get(k) or "") for k in ("purpose", "additional_purpose")).strip()
            else:
                name, iban, remit = _mt940_details(str(d.get("transaction_details") or ""))
            # :61: subfield 8, the bank's reference; not subfield 7 (the account owner's, which repeats across
            # payments, e.g. one payment run's): blank when the bank gives none
            ref = given_reference(d.get("bank_reference"))
            out.append(BankTransaction(ref, to_date(d.get("date"), ":61: date"), Decimal(amount.amount),
                                       str(amount.currency or d.get("currency") or "").upper(), name, iban, remit,
                                       f"{source} line {line}", account))
        except (XlcError, KeyError) as exc:
            problems.append(RowProblem(source, line, ":61:", None, str(exc)))
    return BankRead(source, "MT940", tuple(out), tuple(problems))


def _mt940_details(details: str) -> tuple[str, str, str]:
    """Payer name, IBAN and remittance text from an :86: field."""
    flat = details.replace("\n", "").replace("\r", "")
    if flat.startswith("/"):
        parts = re.findall(r"/(NAME|IBAN|REMI|ORDP|CNTP|EREF)/([^/]*(?:/(?!NAME/|IBAN/|REMI/|ORDP/|CNTP/|EREF/)"
                           r"[^/]*)*)", flat)
        fields = {k: v.strip().strip("/") for k, v in parts}
        return fields.get("NAME", ""), fields.get("IBAN", ""), fields.get("REMI", "")
    return "", "", flat.strip()


# --------------------------------------------------------------------------- CSV
#: Header names a bank export uses for each field (compared case-insensitively, spaces and punctuation ignored).
CSV_ALIASES: dict[str, tuple[str, ...]] = {
    "bank_reference": ("Bank Reference", "Reference", "Transaction ID", "Transaction Reference", "Ref",
                       "Buchungsreferenz", "Referenz", "Bank Ref"),
    "booking_date": ("Booking Date", "Date", "Posting Date", "Transaction Date", "Buchungstag", "Buchungsdatum",
                     "Datum"),
    "value_date": ("Value Date", "Valuta", "Valutadatum", "Wertstellung"),
    "amount": ("Amount", "Betrag", "Transaction Amount", "Umsatz", "Betrag (EUR)"),
    "credit": ("Credit", "Credit Amount", "Paid In", "Money In", "Haben", "Gutschrift"),
    "debit": ("Debit", "Debit Amount", "Paid Out", "Money Out", "Soll", "Lastschrift"),
    "currency": ("Currency", "Ccy", "Währung", "Waehrung"),
    "payer_name": ("Payer", "Payer Name", "Name", "Counterparty", "Counterparty Name", "Auftraggeber",
                   "Beguenstigter/Zahlungspflichtiger", "Zahlungspflichtiger", "Remitter"),
    "payer_iban": ("Payer IBAN", "IBAN", "Counterparty IBAN", "Account", "Kontonummer/IBAN", "Kontonummer",
                   "Auftraggeber IBAN"),
    "remittance": ("Remittance", "Remittance Information", "Description", "Details", "Purpose", "Memo",
                   "Narrative", "Verwendungszweck", "Buchungstext"),
    "account_iban": ("Account IBAN", "Own Account", "Auftragskonto"),
}


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9äöü]", "", header.lower())


def read_csv(text: str, source: str = "csv", *, default_currency: str = "EUR") -> BankRead:
    """A CSV bank export: columns found by :data:`CSV_ALIASES`, separator and decimal comma guessed from the file."""
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ("\t" if "\t" in sample.split("\n")[0] else ",")
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:   # e.g. a NUL byte: not a text export
        raise XlcError("statement", f"is not a readable CSV bank export ({exc})", source) from None
    if not rows:
        raise XlcError("statement", "is empty", source)
    header = rows[0]
    index = {_key(a): canonical for canonical, aliases in CSV_ALIASES.items() for a in aliases}
    columns: dict[str, int] = {}
    for i, h in enumerate(header):
        canonical = index.get(_key(h))
        if canonical and canonical not in columns:
            columns[canonical] = i
    if "booking_date" not in columns and "value_date" in columns:
        columns["booking_date"] = columns["value_date"]
    if "booking_date" not in columns:
        raise XlcError("statement", f"has no booking date column (looked for {', '.join(CSV_ALIASES['booking_date'])};"
                                    f" found {', '.join(header)})", source)
    if "amount" not in columns and "credit" not in columns:
        raise XlcError("statement", f"has no amount or credit column (found {', '.join(header)})", source)
    decimal_comma = delimiter == ";" or (bool(re.search(r"\d,\d{2}(?:[;\"\s]|$)", sample)) and delimiter != ",")
    out: list[BankTransaction] = []
    problems: list[RowProblem] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        cell = {k: (row[i].strip() if i < len(row) else "") for k, i in columns.items()}
        try:
            if "amount" in columns:
                amount = _csv_amount(cell["amount"], "amount", decimal_comma)
            else:
                credit = _csv_amount(cell.get("credit", ""), "credit", decimal_comma, blank_zero=True)
                debit = _csv_amount(cell.get("debit", ""), "debit", decimal_comma, blank_zero=True)
                amount = credit - abs(debit)
            booked = to_date(cell["booking_date"], header[columns["booking_date"]])
            ref = given_reference(cell.get("bank_reference"))   # blank when the export gives none: not its line
            out.append(BankTransaction(ref, booked, amount, (cell.get("currency") or default_currency).upper(),
                                       cell.get("payer_name", ""), cell.get("payer_iban", ""),
                                       cell.get("remittance", ""), f"{source} line {line}",
                                       cell.get("account_iban", "")))
        except XlcError as exc:
            problems.append(RowProblem(source, line, exc.field, exc.value, exc.problem))
    mapping = {canonical: header[i] for canonical, i in columns.items()}
    return BankRead(source, "CSV", tuple(out), tuple(problems), mapping)


def _csv_amount(text: str, field: str, decimal_comma: bool, *, blank_zero: bool = False) -> Decimal:
    value = text.replace("\u00a0", "").replace(" ", "").replace("'", "")
    if not value and blank_zero:
        return Decimal(0)
    negative = value.endswith("-") or (value.startswith("(") and value.endswith(")"))
    value = value.strip("()").rstrip("-")
    if decimal_comma:
        value = value.replace(".", "").replace(",", ".")
    result = to_decimal(value, field)
    assert result is not None
    return -result if negative else result
