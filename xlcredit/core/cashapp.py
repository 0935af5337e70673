"""Cash application: incoming bank transactions matched to open items, each proposal with a confidence and a reason.

The order (issue 21): a structured creditor reference (ISO 11649 RF) → exact — a letter's own reference
(:func:`letter_reference`, recorded in the register with the letter's invoices) resolves to exactly those invoices
at their open amounts now, a customer's reference (statements) to that customer's open items; invoice numbers found
in the remittance text, tolerant of mangling (separators dropped, leading zeros, OCR confusions O/0, I/1, S/5) → one or
several invoices whose open amounts sum to the payment; otherwise the payer (IBAN from the customer's bank
accounts, or the name, fuzzy) and the amount against that customer's open items (one invoice, an exact
combination of a few, or oldest first within a tolerance for bank charges). Anything below the confidence
threshold is a review proposal, never applied. Only credits are candidates; a bank reference seen before (in this
run or already applied) is a duplicate.

Pure: no files, no clock. IBANs are validated by the ISO 13616 mod-97 rule (``schwifty`` when installed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations

from xlcredit.core.errors import XlcError
from xlcredit.core.money import ZERO, round_money
from xlcredit.core.openitems import Position

__all__ = ["BankTransaction", "CashSettings", "LetterReference", "MatchLine", "PayerAccount", "Proposal",
           "epc_qr_payload", "is_valid_iban", "is_valid_rf", "letter_reference", "match_transactions", "normalise_iban",
           "rf_body", "rf_reference"]

AUTO, REVIEW, DUPLICATE, NOT_CREDIT, UNMATCHED = "auto", "review", "duplicate", "not a credit", "unmatched"


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class BankTransaction:
    """One booked line of a bank statement: positive ``amount`` is money in (a credit), negative money out."""

    bank_reference: str
    booking_date: dt.date
    amount: Decimal
    currency: str
    payer_name: str = ""
    payer_iban: str = ""
    remittance: str = ""
    source: str = ""            # file and line the transaction was read from
    account_iban: str = ""      # the company's own account it was booked to

    @property
    def is_credit(self) -> bool:
        return self.amount > 0


@dataclass(frozen=True)
class PayerAccount:
    """A bank account known to belong to a customer (customer master bank details)."""

    customer_id: str
    iban: str
    name: str = ""


@dataclass(frozen=True)
class CashSettings:
    """How bold the matcher is: ``auto_threshold`` (confidence at or above is applied without review),
    ``charge_tolerance`` (a payment this much short of the items is taken as bank charges), what the shortfall
    becomes (``charges`` = ``residual``: stays open on the last item; ``write_off``: proposed as a write-off),
    ``max_combination`` (invoices tried together)."""

    auto_threshold: float = 0.9
    charge_tolerance: Decimal = Decimal("25.00")
    charges: str = "residual"
    max_combination: int = 4
    name_score: float = 88.0

    def __post_init__(self) -> None:
        if not 0 < self.auto_threshold <= 1:
            raise XlcError("auto_threshold", "must be above 0 and at most 1", self.auto_threshold)
        if self.charge_tolerance < 0:
            raise XlcError("charge_tolerance", "must not be negative", self.charge_tolerance)
        if self.charges not in ("residual", "write_off"):
            raise XlcError("charges", "must be residual or write_off", self.charges)


@dataclass(frozen=True)
class LetterReference:
    """A letter's own RF reference and the invoices it asked the customer to pay (an entry of the register)."""

    reference: str
    customer_id: str
    invoice_nos: tuple[str, ...]
    currency: str = ""
    amount: Decimal | None = None     # the letter's total due (open items + interest + compensation)
    issued_on: dt.date | None = None
    stage: str = ""


@dataclass(frozen=True)
class MatchLine:
    """Part of a payment applied to one invoice."""

    invoice_no: str
    amount: Decimal


@dataclass(frozen=True)
class Proposal:
    """What the matcher proposes for one transaction: customer, invoices, confidence 0–1 and why."""

    transaction: BankTransaction
    status: str                       # auto, review, duplicate, not a credit, unmatched
    customer_id: str = ""
    lines: tuple[MatchLine, ...] = ()
    confidence: float = 0.0
    method: str = ""                  # rf reference, invoice number, iban, name, amount
    reason: str = ""
    charges: Decimal = ZERO           # shortfall taken as bank charges
    on_account: Decimal = ZERO        # part of the payment not applied to an invoice

    @property
    def invoices(self) -> tuple[str, ...]:
        return tuple(line.invoice_no for line in self.lines)

    @property
    def applicable(self) -> bool:
        return self.status == AUTO


# --------------------------------------------------------------------------- IBAN and RF references
def normalise_iban(text: str) -> str:
    """An IBAN without spaces, upper case."""
    return re.sub(r"[\s-]", "", text or "").upper()


def _mod97(text: str) -> int:
    digits = "".join(str(int(ch, 36)) for ch in text)
    return int(digits) % 97


def is_valid_iban(text: str) -> bool:
    """ISO 13616: country, two check digits, account; mod 97 of the rearranged number is 1."""
    iban = normalise_iban(text)
    try:
        from schwifty import IBAN

        IBAN(iban)
        return True
    except ImportError:   # pragma: no cover - schwifty is a dependency; the rule itself below
        pass
    except ValueError:
        return False
    return bool(re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban)) and _mod97(iban[4:] + iban[:4]) == 1


def rf_body(text: str) -> str:
    """The part of a reference an RF can carry: letters and digits, upper case."""
    return re.sub(r"[^A-Z0-9]", "", (text or "").upper())


def rf_reference(text: str) -> str:
    """ISO 11649 creditor reference for ``text`` (e.g. a customer id or an invoice number): ``RF`` + check + body.

    Check digits: 98 − (body + "RF00" as a number, letters A=10 … Z=35) mod 97, two digits.
    """
    body = rf_body(text)
    if not body or len(body) > 21:
        raise XlcError("reference", "needs 1 to 21 letters or digits for an RF creditor reference", text)
    return f"RF{98 - _mod97(body + 'RF00'):02d}{body}"


def letter_reference(customer_id: str, step_index: int, invoice_nos: Iterable[str]) -> str:
    """A letter's own ISO 11649 reference: the same for the same customer, ladder step and invoices (so a resend
    carries the reference of the letter it repeats), different for any other letter.

    Body (at most 21 characters): the customer id when it is 8 letters or digits or fewer, ``L``, then 10
    characters (base 36) of the SHA-256 of customer, step and the sorted invoice numbers — e.g. ``RF..C008L…``.
    """
    numbers = sorted({str(n).strip() for n in invoice_nos if str(n).strip()})
    if not numbers:
        raise XlcError("invoice_nos", "a letter's reference needs the invoices it covers", None)
    digest = hashlib.sha256("\n".join([str(customer_id).strip(), str(int(step_index)), *numbers]).encode()).digest()
    value, tail = int.from_bytes(digest[:8], "big"), ""
    for _ in range(10):
        value, digit = divmod(value, 36)
        tail += "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[digit]
    customer = rf_body(customer_id)
    return rf_reference(f"{customer if 0 < len(customer) <= 8 else ''}L{tail}")


def is_valid_rf(text: str) -> bool:
    """True for a well-formed ISO 11649 reference (spaces allowed) whose check digits are right."""
    ref = re.sub(r"\s", "", text or "").upper()
    return bool(re.fullmatch(r"RF\d{2}[A-Z0-9]{1,21}", ref)) and _mod97(ref[4:] + ref[:4]) == 1


_RF_IN_TEXT = re.compile(r"R\s?F\s?\d\s?\d(?:\s?[A-Z0-9]){1,21}", re.IGNORECASE)


def _rf_in(text: str) -> list[str]:
    """Valid RF references in a remittance text (the longest valid prefix of each candidate)."""
    found = []
    for m in _RF_IN_TEXT.finditer(text or ""):
        raw = m.group()
        # where the reference may end: the first word (printed compact), then each word boundary (printed in
        # groups of four), longest first; cut anywhere only as the last resort
        token = raw.split()[0].upper()
        ends = [len(raw), *[w.start() for w in re.finditer(r"\s", raw)][::-1]]
        candidates = [token, *(re.sub(r"\s", "", raw[:e]).upper() for e in ends)]
        compact = re.sub(r"\s", "", raw).upper()
        candidates += [compact[:e] for e in range(len(compact), 4, -1)]
        ref = next((c for c in candidates if is_valid_rf(c)), None)
        if ref is not None:
            found.append(ref)
    return found


def epc_qr_payload(beneficiary: str, iban: str, amount: Decimal, reference: str, *, bic: str = "",
                   currency: str = "EUR") -> str:
    """The text of an EPC QR code ("GiroCode", EPC069-12 version 002): a banking app reads beneficiary, IBAN,
    amount and the structured RF reference from it. Only euro credit transfers (SCT) exist in the standard."""
    if currency != "EUR":
        raise XlcError("currency", "an EPC QR code is for euro payments only; give the bank details in text", currency)
    if not is_valid_iban(iban):
        raise XlcError("iban", "is not a valid IBAN (ISO 13616 check digits)", iban)
    name = " ".join((beneficiary or "").split())
    if not name or len(name) > 70:
        raise XlcError("beneficiary", "needs 1 to 70 characters for an EPC QR code", beneficiary)
    if not Decimal("0.01") <= amount <= Decimal("999999999.99"):
        raise XlcError("amount", "must be from 0.01 to 999999999.99 EUR for an EPC QR code", amount)
    ref = re.sub(r"\s", "", reference or "").upper()
    if not is_valid_rf(ref):
        raise XlcError("reference", "is not a valid ISO 11649 RF creditor reference", reference)
    lines = ["BCD", "002", "1", "SCT", re.sub(r"\s", "", bic or "").upper(), name, normalise_iban(iban),
             f"EUR{round_money(amount, 'EUR'):.2f}", "", ref]
    return "\n".join(lines)


# --------------------------------------------------------------------------- invoice numbers in free text
_LOOKALIKE = {"0": "0O", "1": "1IL", "5": "5S", "8": "8B", "O": "O0", "I": "I1L", "L": "L1I", "S": "S5",
              "B": "B8"}
_SEP = r"[\s\-/._]?"


def _invoice_pattern(invoice_no: str) -> re.Pattern[str]:
    """A pattern that finds ``invoice_no`` in a remittance text after the usual mangling: separators dropped or
    added, leading zeros of a digit group dropped, letters and digits that look alike (O/0, I/1/L, S/5, B/8),
    the letter prefix left out."""
    groups = re.findall(r"[A-Z]+|\d+", invoice_no.upper())
    parts: list[str] = []
    for g in groups:
        if g.isdigit():
            stripped = g.lstrip("0") or "0"
            zeros = len(g) - len(stripped)
            lead = f"(?:[0O]{_SEP}){{0,{zeros}}}" if zeros else ""
            parts.append(lead + _SEP.join(f"[{_LOOKALIKE.get(ch, ch)}]" for ch in stripped))
        else:
            parts.append(_SEP.join(f"[{_LOOKALIKE.get(ch, ch)}]" for ch in g))
    if groups and not groups[0].isdigit() and len(groups) > 1:   # the prefix (INV, RE, …) may be left out
        body = _SEP.join(parts[1:])
        core = f"(?:{parts[0]}{_SEP})?{body}"
    else:
        core = _SEP.join(parts)
    return re.compile(rf"(?<![A-Z0-9])(?<!\d[\-/.]){core}(?![0-9])(?![\-/.]\d)", re.IGNORECASE)


# --------------------------------------------------------------------------- payer names
_LEGAL = re.compile(r"\b(gmbh|ag|kg|co|ltd|limited|llc|inc|plc|sa|sas|sarl|srl|spa|bv|nv|oy|ab|as|kft|sp|zoo|"
                    r"s\.?a\.?|co\.?,?|corp|corporation|company|und|and|the|&)\b")


def _name_key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9& ]", " ", text)
    return " ".join(_LEGAL.sub(" ", text).split())


# --------------------------------------------------------------------------- the matcher
@dataclass
class _Item:
    customer_id: str
    currency: str
    invoice_no: str
    invoice_date: dt.date
    due_date: dt.date
    open: Decimal
    pattern: re.Pattern[str] | None = None


@dataclass
class _Book:
    items: dict[tuple[str, str], _Item] = field(default_factory=dict)       # (customer, invoice) -> item
    by_customer: dict[tuple[str, str], list[_Item]] = field(default_factory=dict)
    by_rf: dict[str, _Item] = field(default_factory=dict)
    disputed: set[tuple[str, str]] = field(default_factory=set)             # (customer, invoice) held in dispute

    def open_of(self, customer_id: str, currency: str) -> list[_Item]:
        return [i for i in self.by_customer.get((customer_id, currency), []) if i.open > 0]


def _book_of(positions: Mapping[tuple[str, str], Position]) -> _Book:
    book = _Book()
    for (customer_id, currency), pos in positions.items():
        items = []
        for oi in pos.open_items:
            if oi.disputed:
                book.disputed.add((customer_id, oi.invoice_no))
                continue
            item = _Item(customer_id, currency, oi.invoice_no, oi.invoice_date, oi.due_date, oi.open_amount)
            book.items[(customer_id, oi.invoice_no)] = item
            book.by_rf[rf_body(oi.invoice_no)] = item
            items.append(item)
        items.sort(key=lambda i: (i.due_date, i.invoice_date, i.invoice_no))
        book.by_customer[(customer_id, currency)] = items
    return book


def _money(amount: Decimal, currency: str) -> str:
    return f"{round_money(amount, currency):,.2f} {currency}"


def _fit(items: Sequence[_Item], amount: Decimal, currency: str, settings: CashSettings
         ) -> tuple[list[_Item], Decimal, str, float] | None:
    """Items of one customer the amount pays: (items, shortfall, words, how sure) or None.

    One invoice exactly; an exact combination of a few (only when it is the only one); the oldest first whose
    total exceeds the amount by at most the charge tolerance; one invoice within the tolerance.
    """
    exact = [i for i in items if i.open == amount]
    if len(exact) == 1:
        return exact, ZERO, f"the amount is the open amount of {exact[0].invoice_no}", 1.0
    if len(exact) > 1:
        return [exact[0]], ZERO, (f"the amount is the open amount of {len(exact)} invoices; the oldest, "
                                  f"{exact[0].invoice_no}, taken"), 0.8
    total, oldest = ZERO, []
    for item in items:
        oldest.append(item)
        total += item.open
        if total >= amount:
            break
    if len(oldest) > 1 and total == amount:
        return oldest, ZERO, f"the amount is the {len(oldest)} oldest open items together", 0.97
    candidates = items[:12]
    combos = []
    for size in range(2, min(settings.max_combination, len(candidates)) + 1):
        combos.extend(c for c in combinations(candidates, size) if sum(i.open for i in c) == amount)
        if len(combos) > 1:
            break
    if len(combos) == 1:
        return list(combos[0]), ZERO, f"the amount is exactly {len(combos[0])} open items together", 0.95
    if combos:
        return list(combos[0]), ZERO, "the amount fits more than one combination of open items", 0.6
    short = total - amount
    if oldest and total >= amount and ZERO < short <= settings.charge_tolerance:
        words = "the oldest open item" if len(oldest) == 1 else f"the {len(oldest)} oldest open items"
        return oldest, short, f"{words} less {_money(short, currency)} taken as bank charges", 0.93
    near = [i for i in items if ZERO < i.open - amount <= settings.charge_tolerance]
    if len(near) == 1:
        short = near[0].open - amount
        return near, short, (f"{near[0].invoice_no} less {_money(short, currency)} taken as bank charges"), 0.92
    return None


def _lines(items: Sequence[_Item], amount: Decimal) -> tuple[tuple[MatchLine, ...], Decimal]:
    """Apply ``amount`` to ``items`` in order; returns the lines and what is left over (on account)."""
    lines, left = [], amount
    for item in items:
        part = min(item.open, left)
        if part > 0:
            lines.append(MatchLine(item.invoice_no, part))
            left -= part
    return tuple(lines), left


class _Payers:
    """Who a payer is: the IBAN among the customers' accounts, else the name (fuzzy) among names."""

    def __init__(self, names: Mapping[str, str], accounts: Iterable[PayerAccount]) -> None:
        self.by_iban: dict[str, str] = {}
        self.names: list[tuple[str, str]] = [(_name_key(n), cid) for cid, n in names.items() if _name_key(n)]
        for acc in accounts:
            self.by_iban[normalise_iban(acc.iban)] = acc.customer_id
            if acc.name and _name_key(acc.name):
                self.names.append((_name_key(acc.name), acc.customer_id))

    def who(self, tx: BankTransaction, threshold: float) -> tuple[str, float, str] | None:
        iban = normalise_iban(tx.payer_iban)
        if iban and iban in self.by_iban and is_valid_iban(iban):
            return self.by_iban[iban], 0.98, f"payer IBAN {iban} is a known account of {self.by_iban[iban]}"
        key = _name_key(tx.payer_name)
        if not key or not self.names:
            return None
        from rapidfuzz import fuzz

        scored: dict[str, float] = {}
        for name, cid in self.names:
            scored[cid] = max(scored.get(cid, 0.0), fuzz.token_set_ratio(key, name), fuzz.WRatio(key, name))
        ranked = sorted(scored.items(), key=lambda kv: -kv[1])
        best_id, best = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if best < threshold - 20:
            return None
        sure = 0.95 if best >= 97 else 0.9 if best >= threshold else 0.6
        if best - second < 5:
            sure = min(sure, 0.5)
        return best_id, sure, f"payer name {tx.payer_name!r} is like customer {best_id} ({best:.0f} %)"


def match_transactions(transactions: Iterable[BankTransaction], positions: Mapping[tuple[str, str], Position],
                       customer_names: Mapping[str, str], accounts: Iterable[PayerAccount] = (),
                       settings: CashSettings | None = None, *, applied_references: Iterable[str] = (),
                       issued: Mapping[str, str] | None = None,
                       letters: Iterable[LetterReference] = ()) -> tuple[Proposal, ...]:
    """Propose a match for every transaction, oldest booking first; confident matches use up the open amounts
    they take, so two payments never claim the same money.

    ``positions``: :func:`xlcredit.core.openitems.allocate` as of the statement date; ``customer_names``:
    customer id → name; ``accounts``: the customers' known bank accounts; ``applied_references``: bank
    references already in the payments table (duplicates); ``issued``: RF reference → customer id for the
    references put on letters (an RF of an invoice number or a customer id is known without it); ``letters``: the
    letters' own references from the register, each resolved to exactly the invoices of its letter.
    """
    settings = settings or CashSettings()
    book = _book_of(positions)
    payers = _Payers(customer_names, accounts)
    issued_rf = {re.sub(r"\s", "", k).upper(): v for k, v in (issued or {}).items()}
    customer_rf = {rf_reference(cid): cid for cid in customer_names if rf_body(cid) and len(rf_body(cid)) <= 21}
    seen = {str(r) for r in applied_references if str(r)}
    by_letter = {re.sub(r"\s", "", ref.reference).upper(): ref for ref in letters if ref.reference}
    out: list[Proposal] = []
    ordered = sorted(enumerate(transactions), key=lambda p: (p[1].booking_date, p[0]))
    results: dict[int, Proposal] = {}
    for index, tx in ordered:
        results[index] = proposal = _propose(tx, book, payers, settings, seen, issued_rf, customer_rf, by_letter)
        if tx.bank_reference:
            seen.add(tx.bank_reference)
        if proposal.status == AUTO:
            for line in proposal.lines:
                book.items[(proposal.customer_id, line.invoice_no)].open -= line.amount
            if proposal.charges and proposal.lines:
                book.items[(proposal.customer_id, proposal.lines[-1].invoice_no)].open -= proposal.charges
    out = [results[i] for i in sorted(results)]
    return tuple(out)


def _decide(tx: BankTransaction, customer_id: str, items: Sequence[_Item], shortfall: Decimal, sure: float,
            method: str, reason: str, settings: CashSettings) -> Proposal:
    lines, left = _lines(items, tx.amount)
    charges = shortfall if settings.charges == "write_off" else ZERO
    status = AUTO if sure >= settings.auto_threshold else REVIEW
    return Proposal(tx, status, customer_id, lines, round(sure, 3), method, reason, charges, left)


def _propose(tx: BankTransaction, book: _Book, payers: _Payers, settings: CashSettings, seen: set[str],
             issued_rf: Mapping[str, str], customer_rf: Mapping[str, str],
             by_letter: Mapping[str, LetterReference] | None = None) -> Proposal:
    if not tx.is_credit:
        return Proposal(tx, NOT_CREDIT, reason="money out: only credits are matched")
    if tx.bank_reference and tx.bank_reference in seen:
        return Proposal(tx, DUPLICATE, reason=f"bank reference {tx.bank_reference} was seen before (an overlapping "
                                              f"statement or already applied)")
    cur = tx.currency
    # 1. structured creditor reference
    for ref in _rf_in(tx.remittance):
        if by_letter and ref in by_letter:
            return _letter_match(tx, ref, by_letter[ref], book, settings)
        body = ref[4:]
        item = book.by_rf.get(body)
        if item is not None and item.currency == cur:
            cid = item.customer_id
            if item.open >= tx.amount:
                return _decide(tx, cid, [item], item.open - tx.amount, 1.0 if item.open == tx.amount else 0.9,
                               "rf reference", f"creditor reference {ref} is invoice {item.invoice_no}", settings)
            extra = [i for i in book.open_of(cid, cur) if i is not item]
            return _decide(tx, cid, [item, *extra], ZERO, 0.7, "rf reference",
                           f"creditor reference {ref} is invoice {item.invoice_no}, but the payment is more than "
                           f"its open amount", settings)
        cid = issued_rf.get(ref) or customer_rf.get(ref)
        if cid is not None:
            items = book.open_of(cid, cur)
            fit = _fit(items, tx.amount, cur, settings)
            if fit is not None:
                chosen, short, words, how = fit
                return _decide(tx, cid, chosen, short, max(how, 0.9) if how >= 0.9 else how, "rf reference",
                               f"creditor reference {ref} is customer {cid}; {words}", settings)
            return _decide(tx, cid, items, ZERO, 0.95, "rf reference",
                           f"creditor reference {ref} is customer {cid}; applied to the oldest open items", settings)
    # 2. invoice numbers in the remittance text
    found = _invoices_in(tx.remittance, book, cur)
    if found:
        customers = {i.customer_id for i in found}
        if len(customers) > 1:
            lines, _ = _lines(found, tx.amount)
            return Proposal(tx, REVIEW, "", lines, 0.4, "invoice number",
                            f"invoice numbers of different customers in the text: "
                            f"{', '.join(i.invoice_no for i in found)}")
        cid = customers.pop()
        total = sum((i.open for i in found), ZERO)
        nos = ", ".join(i.invoice_no for i in found)
        if total == tx.amount:
            return _decide(tx, cid, found, ZERO, 0.98, "invoice number",
                           f"remittance names {nos}; open amounts sum to the payment", settings)
        if ZERO < total - tx.amount <= settings.charge_tolerance:
            short = total - tx.amount
            return _decide(tx, cid, found, short, 0.95, "invoice number",
                           f"remittance names {nos}; {_money(short, cur)} short, taken as bank charges", settings)
        sub = [c for n in range(1, len(found)) for c in combinations(found, n) if sum(i.open for i in c) == tx.amount]
        if len(sub) == 1:
            return _decide(tx, cid, list(sub[0]), ZERO, 0.9, "invoice number",
                           f"remittance names {nos}; {', '.join(i.invoice_no for i in sub[0])} sum to the payment",
                           settings)
        how = "less" if total > tx.amount else "more"
        return _decide(tx, cid, found, ZERO, 0.7, "invoice number",
                       f"remittance names {nos}, but the payment is {how} than their open "
                       f"{_money(total, cur)}", settings)
    # 3. payer, then amount
    payer = payers.who(tx, settings.name_score)
    if payer is not None:
        cid, sure, words = payer
        items = book.open_of(cid, cur)
        fit = _fit(items, tx.amount, cur, settings)
        method = "iban" if sure >= 0.98 else "name"
        if fit is not None:
            chosen, short, fit_words, how = fit
            return _decide(tx, cid, chosen, short, sure * how, method, f"{words}; {fit_words}", settings)
        return Proposal(tx, REVIEW, cid, (), round(sure * 0.5, 3), method,
                        f"{words}; no open item or combination matches {_money(tx.amount, cur)}",
                        on_account=tx.amount)
    # 4. amount alone: never applied
    same = [i for i in book.items.values() if i.currency == cur and i.open == tx.amount]
    if len(same) == 1:
        item = same[0]
        return Proposal(tx, REVIEW, item.customer_id, (MatchLine(item.invoice_no, tx.amount),), 0.5, "amount",
                        f"payer unknown; the amount is the open amount of {item.invoice_no} only")
    return Proposal(tx, UNMATCHED, reason="payer unknown and no reference or invoice number found",
                    on_account=tx.amount)


def _letter_match(tx: BankTransaction, ref: str, letter: LetterReference, book: _Book, settings: CashSettings
                  ) -> Proposal:
    """A payment quoting a letter's own reference: exactly the letter's invoices, at their open amounts now.

    The letter's total clears them (what it pays beyond their open amounts — the letter's interest and
    compensation — stays on account); a payment short by no more than the charge tolerance is taken as paid less
    bank charges (:class:`CashSettings`); a larger shortfall is a part payment, proposed oldest first for review.
    An invoice of the letter that is no longer open (paid or credited since), disputed or in another currency is
    named in the reason and left alone.
    """
    cid, cur = letter.customer_id, tx.currency
    when = f" of {letter.issued_on.isoformat()}" if letter.issued_on else ""
    stage = f" ({letter.stage})" if letter.stage else ""
    head = f"creditor reference {ref} is our letter{when} to {cid}{stage} for {', '.join(letter.invoice_nos)}"
    live: list[_Item] = []
    gone: list[str] = []
    for no in letter.invoice_nos:
        item = book.items.get((cid, no))
        if (cid, no) in book.disputed:
            gone.append(f"{no} is disputed")
        elif item is None or item.open <= 0:
            gone.append(f"{no} was paid or credited since the letter")
        elif item.currency != cur:
            gone.append(f"{no} is in {item.currency}")
        else:
            live.append(item)
    live.sort(key=lambda i: (i.due_date, i.invoice_date, i.invoice_no))
    aside = "".join(f"; {g}" for g in gone)
    if not live:
        return Proposal(tx, REVIEW, cid, (), 0.5, "letter reference",
                        f"{head}; none of them is open in {cur} now{aside}", on_account=tx.amount)
    total = sum((i.open for i in live), ZERO)
    nos = "its invoices" if not gone else ", ".join(i.invoice_no for i in live)
    if tx.amount >= total:
        extra = tx.amount - total
        if not extra:
            words = f"the payment is their open {_money(total, cur)}"
        elif letter.amount is not None and tx.amount == letter.amount and (not letter.currency or
                                                                          letter.currency == cur):
            words = (f"the payment is the letter's total: {nos} cleared, {_money(extra, cur)} (the letter's interest "
                     "and compensation) kept on account")
        else:
            words = f"{nos} cleared, {_money(extra, cur)} more than their open amount kept on account"
        return _decide(tx, cid, live, ZERO, 1.0 if not extra or letter.amount == tx.amount else 0.95,
                       "letter reference", f"{head}; {words}{aside}", settings)
    short = total - tx.amount
    if short <= settings.charge_tolerance:
        return _decide(tx, cid, live, short, 0.97, "letter reference",
                       f"{head}; their open {_money(total, cur)} less {_money(short, cur)} taken as bank "
                       f"charges{aside}", settings)
    return _decide(tx, cid, live, ZERO, 0.7, "letter reference",
                   f"{head}; a part payment ({_money(tx.amount, cur)} of their open {_money(total, cur)}), "
                   f"applied oldest first{aside}", settings)


def _invoices_in(text: str, book: _Book, currency: str) -> list[_Item]:
    if not text or not re.search(r"\d", text):
        return []
    found: list[_Item] = []
    for item in book.items.values():
        if item.currency != currency or item.open <= 0:
            continue
        if item.pattern is None:
            item.pattern = _invoice_pattern(item.invoice_no)
        if item.pattern.search(text):
            found.append(item)
    found.sort(key=lambda i: (i.due_date, i.invoice_date, i.invoice_no))
    return found
