"""What the statement readers give as a transaction's bank reference: the bank's own, or blank — never one made up.

Sources for the fields:

- ISO 20022 camt.053.001 / camt.054.001 (Bank-to-Customer Statement / Debit Credit Notification, Message Definition
  Report): ``Ntry/AcctSvcrRef`` and ``TxDtls/Refs/AcctSvcrRef`` are the "Account Servicer Reference — unique
  reference as assigned by the account servicing institution to unambiguously identify the entry / the
  transaction"; ``TxDtls/Refs/EndToEndId`` is the payer's "End To End Identification"; the SEPA rulebooks (EPC
  SCT Implementation Guidelines, AT-41) say that when the originator gives none it is sent as ``NOTPROVIDED``.
- SWIFT MT940 (Customer Statement Message, Standards MT Category 9), field ``:61:`` (Statement Line): subfield 7
  "Reference for the Account Owner" (16x) — "if no reference is available for this field, the code NONREF shall
  be used"; subfield 8, after ``//``, "Reference of the Account Servicing Institution" (16x, optional).

A placeholder or a position in the file is not a reference: two different payments without one would share it
(NOTPROVIDED, NONREF) and be called duplicates, and the same payment in the next export would get another one.
Where a transaction stood is kept apart, as its ``source`` ("bank.csv line 7"), for messages.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from xlcredit.core.cashapp import match_transactions
from xlcredit.core.ledger import Invoice, Ledger
from xlcredit.core.openitems import allocate
from xlcredit.io.bank import read_camt, read_csv, read_mt940

CAMT_HEAD = ('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><Stmt>\n'
             "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>\n")
CAMT_TAIL = "</Stmt></BkToCstmrStmt></Document>\n"


def _entry(amount: str, *, entry_ref: str = "", tx_ref: str = "", e2e: str = "", remit: str = "thanks") -> str:
    """One booked credit entry with one transaction; the references given are written, the others left out."""
    refs = (f"<AcctSvcrRef>{tx_ref}</AcctSvcrRef>" if tx_ref else "") + (f"<EndToEndId>{e2e}</EndToEndId>"
                                                                         if e2e else "")
    return ("<Ntry>\n"
            f'<Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
            "<BookgDt><Dt>2026-11-03</Dt></BookgDt>" + (f"<AcctSvcrRef>{entry_ref}</AcctSvcrRef>" if entry_ref else "")
            + "<NtryDtls><TxDtls>" + (f"<Refs>{refs}</Refs>" if refs else "")
            + f"<RmtInf><Ustrd>{remit}</Ustrd></RmtInf></TxDtls></NtryDtls>\n</Ntry>\n")


def _camt(*entries: str) -> str:
    return CAMT_HEAD + "".join(entries) + CAMT_TAIL


def _statuses(transactions) -> list[str]:
    """The matcher's status of each transaction against an empty book (no open items)."""
    return [p.status for p in match_transactions(transactions, {}, {})]


# --------------------------------------------------------------------------- CAMT
def test_camt_notprovided_is_no_reference_and_two_such_payments_are_not_duplicates():
    """Two different payments whose only reference is the SEPA "NOTPROVIDED" end-to-end id: both blank, both
    matched on their own — before, both carried NOTPROVIDED and the second was called a duplicate of the first."""
    read = read_camt(_camt(_entry("100.00", e2e="NOTPROVIDED"), _entry("250.00", e2e="NOTPROVIDED")), "s.xml")
    assert [t.bank_reference for t in read.transactions] == ["", ""]
    assert [t.source for t in read.transactions] == ["s.xml line 3", "s.xml line 6"]
    assert _statuses(read.transactions) == ["unmatched", "unmatched"]


def test_camt_reference_is_the_account_servicers_never_the_payers_end_to_end_id():
    """The transaction's AcctSvcrRef; else the entry's (one transaction in the entry); else blank — not the
    EndToEndId, which the payer chooses (an entry without any is not given ``/1`` or its line either)."""
    read = read_camt(_camt(_entry("1.00", entry_ref="E1", tx_ref="T1", e2e="P1"), _entry("2.00", entry_ref="E2"),
                           _entry("3.00", e2e="P3"), _entry("4.00", e2e="notprovided"), _entry("5.00")), "s.xml")
    assert [t.bank_reference for t in read.transactions] == ["T1", "E2", "", "", ""]


def test_two_payers_with_the_same_end_to_end_id_are_two_payments_not_a_duplicate():
    """Reviewer's case: two payments without the bank's reference whose payers both sent the end-to-end id
    ACME-PAYRUN (a payment run's name). The second was called a duplicate of the first and never matched."""
    read = read_camt(_camt(_entry("100.00", e2e="ACME-PAYRUN"), _entry("250.00", e2e="ACME-PAYRUN")), "s.xml")
    assert [t.bank_reference for t in read.transactions] == ["", ""]
    assert "duplicate" not in _statuses(read.transactions)


def test_camt_batch_entry_without_references_gives_each_transaction_its_own_or_none():
    """A batch entry (several TxDtls) without an entry reference: each transaction blank (its EndToEndId is the
    payer's) — before, ``/1``, ``/2``, so the second transaction of every such batch was a "duplicate" of the first
    batch's."""
    batch = ("<Ntry>\n<Amt Ccy=\"EUR\">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
             "<BookgDt><Dt>2026-11-03</Dt></BookgDt><NtryDtls>"
             "<TxDtls><Refs><EndToEndId>P-A</EndToEndId></Refs><AmtDtls><TxAmt><Amt Ccy=\"EUR\">100.00</Amt></TxAmt>"
             "</AmtDtls></TxDtls>"
             "<TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs><AmtDtls><TxAmt><Amt Ccy=\"EUR\">200.00</Amt>"
             "</TxAmt></AmtDtls></TxDtls></NtryDtls>\n</Ntry>\n")
    read = read_camt(_camt(batch, batch.replace("P-A", "P-B")), "b.xml")
    assert [(t.bank_reference, t.amount) for t in read.transactions] == [
        ("", Decimal("100.00")), ("", Decimal("200.00")), ("", Decimal("100.00")), ("", Decimal("200.00"))]
    assert _statuses(read.transactions) == ["unmatched"] * 4


def test_camt_batch_entry_with_its_reference_keeps_entry_slash_n():
    """A batch entry the bank gave a reference: a transaction without its own is the entry's reference and its
    place in the entry (the same in every statement that lists the entry), as before (test_cashapp)."""
    batch = ("<Ntry>\n<Amt Ccy=\"EUR\">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
             "<BookgDt><Dt>2026-11-03</Dt></BookgDt><AcctSvcrRef>E9</AcctSvcrRef><NtryDtls>"
             "<TxDtls><AmtDtls><TxAmt><Amt Ccy=\"EUR\">100.00</Amt></TxAmt></AmtDtls></TxDtls>"
             "<TxDtls><AmtDtls><TxAmt><Amt Ccy=\"EUR\">200.00</Amt></TxAmt></AmtDtls></TxDtls></NtryDtls>\n</Ntry>\n")
    assert [t.bank_reference for t in read_camt(_camt(batch), "b.xml").transactions] == ["E9/1", "E9/2"]


def test_overlapping_camt_statements_still_find_duplicates_by_reference_only():
    """The same entry in two overlapping statements: a duplicate when it has the bank's reference; without one it
    cannot be told from a second payment of the same amount, so it is not called a duplicate (Match Bank never
    ticks it, Apply never applies it: it is entered by hand)."""
    first = read_camt(_camt(_entry("100.00", entry_ref="E1"), _entry("7.00", e2e="P2"), _entry("9.00")), "a.xml")
    second = read_camt(_camt(_entry("100.00", entry_ref="E1"), _entry("7.00", e2e="P2"), _entry("9.00")), "b.xml")
    assert _statuses([*first.transactions, *second.transactions]) == [
        "unmatched", "unmatched", "unmatched", "duplicate", "unmatched", "unmatched"]


# --------------------------------------------------------------------------- MT940
MT_HEAD = ":20:X\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C261101EUR0,00\n"


def test_mt940_nonref_without_bank_reference_is_blank_and_not_a_duplicate():
    """:61: subfield 7 NONREF and no subfield 8: no reference — before, both lines were "NONREF" and the second a
    duplicate. With subfield 8 it is the reference; without it, blank — subfield 7 is the account owner's reference,
    which repeats across payments (one payment run's)."""
    mt = (MT_HEAD + ":61:2611031103C100,00NTRFNONREF\n:86:/NAME/A GmbH/REMI/thanks\n"
          ":61:2611031103C250,00NTRFNONREF\n:86:/NAME/B GmbH/REMI/thanks\n"
          ":61:2611031103C5,00NTRFNONREF//BNK9\n:86:/NAME/C GmbH/REMI/thanks\n"
          ":61:2611031103C6,00NTRFKD-4711\n:86:/NAME/D GmbH/REMI/thanks\n:62F:C261103EUR361,00\n")
    read = read_mt940(mt, "m.sta")
    assert [(t.bank_reference, t.source) for t in read.transactions] == [
        ("", "m.sta line 5"), ("", "m.sta line 7"), ("BNK9", "m.sta line 9"), ("", "m.sta line 11")]
    assert _statuses(read.transactions) == ["unmatched"] * 4


# --------------------------------------------------------------------------- CSV
def test_csv_row_without_reference_is_blank_and_its_line_is_its_source():
    """A row whose reference cell is empty (or NONREF / NOTPROVIDED): blank, its line kept in ``source`` — before,
    ``b.csv:2``, which a second upload of an export with the same name gave to another payment (a "duplicate")."""
    text = ("Date,Reference,Description,Amount\n2026-11-03,,one,100.00\n2026-11-03,NOTPROVIDED,two,250.00\n"
            "2026-11-04,B7,three,5.00\n2026-11-04,nonref,four,6.00\n")
    read = read_csv(text, "b.csv")
    assert [(t.bank_reference, t.source) for t in read.transactions] == [
        ("", "b.csv line 2"), ("", "b.csv line 3"), ("B7", "b.csv line 4"), ("", "b.csv line 5")]
    other = read_csv("Date,Reference,Description,Amount\n2026-11-05,,five,80.00\n", "b.csv")
    assert _statuses([*read.transactions, *other.transactions]) == ["unmatched"] * 5


def test_csv_without_a_reference_column_gives_no_references():
    read = read_csv("Date,Description,Amount\n2026-11-03,one,100.00\n2026-11-03,one,100.00\n", "x.csv")
    assert [(t.bank_reference, t.source) for t in read.transactions] == [("", "x.csv line 2"), ("", "x.csv line 3")]
    assert _statuses(read.transactions) == ["unmatched", "unmatched"]


def test_a_transaction_without_a_reference_is_still_matched():
    """A blank reference does not stop matching: the payment is proposed (``auto``) like any other; only Apply
    leaves it for entry by hand (test_cashapp)."""
    invoice = Invoice("C1", "INV-2026-00087", "EUR", Decimal("100.00"), dt.date(2026, 9, 1), dt.date(2026, 10, 1))
    positions = allocate(Ledger((invoice,), ()), dt.date(2026, 10, 31))
    tx = read_csv("Date,Description,Amount\n2026-11-03,INV-2026-00087,100.00\n", "x.csv").transactions
    (p,) = match_transactions(tx, positions, {"C1": "Ostermoor Werkzeugbau AG"})
    assert (p.status, p.invoices, p.transaction.bank_reference) == ("auto", ("INV-2026-00087",), "")


_REFS = st.one_of(st.sampled_from(["", "NOTPROVIDED", "NONREF", "nonref"]),
                  st.from_regex(r"[A-Z]{3}[0-9]{3}", fullmatch=True))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_REFS, st.integers(1, 99_999)), min_size=1, max_size=8), st.integers(0, 5))
def test_a_csv_rows_reference_does_not_depend_on_where_it_stands(rows, shift):
    """Invariant: the same rows read with ``shift`` other rows before them get the same references (their own, or
    blank for none and the placeholders); only ``source`` moves — and blank ones are never duplicates."""
    body = "".join(f"2026-11-03,{ref},row {i},{cents / 100:.2f}\n" for i, (ref, cents) in enumerate(rows))
    head = "Date,Reference,Description,Amount\n"
    before = "".join(f"2026-11-01,X{i},other,1.00\n" for i in range(shift))
    plain = read_csv(head + body, "a.csv").transactions
    moved = read_csv(head + before + body, "a.csv").transactions[shift:]
    want = ["" if ref.upper() in ("NOTPROVIDED", "NONREF") else ref for ref, _cents in rows]
    assert [t.bank_reference for t in plain] == [t.bank_reference for t in moved] == want
    assert [t.source for t in moved] == [f"a.csv line {n + 2 + shift}" for n in range(len(rows))]
    blank = [t for t in plain if not t.bank_reference]
    assert "duplicate" not in _statuses(blank)
