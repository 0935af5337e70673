"""Letters that make a payment easy to match (issue 21): an RF reference and an EPC QR code ("GiroCode")."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcredit.core.cashapp import (
    BankTransaction,
    CashSettings,
    LetterReference,
    epc_qr_payload,
    is_valid_rf,
    letter_reference,
    match_transactions,
)
from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import Invoice, Ledger, Payment
from xlcredit.core.openitems import allocate
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer
from xlcredit.io.store import CreditStore
from xlcredit.jobs.book import FolderBook, read_book
from xlcredit.jobs.cashapp import apply_matches, run_match
from xlcredit.jobs.letters import FOLDER_REGISTER_DB, folder_book, plan_letters, run_letters
from xlcredit.letters.render import compose, qr_matrix

AS_OF = dt.date(2026, 10, 31)


def _letter(currency: str = "EUR"):
    customer = Customer("C9", name="Calderwick Fabrications plc", currency=currency, contact="Jo Marsh",
                        relationship_start=dt.date(2019, 1, 1))
    invoices = tuple(Invoice("C9", f"INV-2026-{i:05d}", currency, Decimal("1234.56") * i, dt.date(2026, 5, i),
                             dt.date(2026, 6, i)) for i in range(1, 4))
    ledger = Ledger(invoices)
    policy = Policy()
    (letter,), _, _ = plan_letters([customer], ledger, policy, AS_OF)
    return compose(letter, policy), letter, ledger


def _fields(payload: str) -> list[str]:
    return payload.split("\n")


def test_epc_payload_fields_and_refusals():
    # the EPC069-12 guidelines' example transfer (Red Cross of Belgium, BPOTBEB1, BE72000000001616, EUR 1; as
    # reproduced in Wikipedia's "EPC QR code"), in version 002 with the ISO 11649 example as structured reference
    text = epc_qr_payload("Red Cross of Belgium", "BE72 0000 0000 1616", Decimal("1"), "RF18 5390 0754 7034",
                          bic="BPOTBEB1")
    assert _fields(text) == ["BCD", "002", "1", "SCT", "BPOTBEB1", "Red Cross of Belgium", "BE72000000001616",
                             "EUR1.00", "", "RF18539007547034"]
    with pytest.raises(XlcError, match="currency: an EPC QR code is for euro payments only"):
        epc_qr_payload("X", "BE72000000001616", Decimal("1"), "RF18539007547034", currency="GBP")
    with pytest.raises(XlcError, match="reference: is not a valid ISO 11649"):
        epc_qr_payload("X", "BE72000000001616", Decimal("1"), "RF19539007547034")


def _read_qr(pdf: Path, tmp_path: Path) -> list[str]:
    """The QR codes on the first page of a PDF, read off a 200 dpi rendering (pdftoppm, then zxing-cpp)."""
    assert shutil.which("pdftoppm"), "pdftoppm (poppler-utils) is needed"
    subprocess.run(["pdftoppm", "-r", "200", "-gray", "-png", "-singlefile", str(pdf), str(tmp_path / "page")],
                   check=True, capture_output=True, timeout=120)
    from PIL import Image

    found = zxingcpp.read_barcodes(np.asarray(Image.open(tmp_path / "page.png").convert("L")))
    return [r.text for r in found if r.format == zxingcpp.BarcodeFormat.QRCode]


def _folder(tmp_path: Path, payments: str = "") -> Path:
    """C9 owes three overdue invoices (the letter's) and one not yet due (not on the letter)."""
    folder = tmp_path / "book"
    folder.mkdir(exist_ok=True)
    (folder / "customers.csv").write_text("customer_id,name,currency,contact,relationship_start\n"
                                          "C9,Calderwick Fabrications plc,EUR,Jo Marsh,2019-01-01\n")
    rows = [f"C9,INV-2026-{i:05d},EUR,{Decimal('1234.56') * i},2026-05-{i:02d},2026-06-{i:02d}" for i in (1, 2, 3)]
    rows.append("C9,INV-2026-00004,EUR,800.00,2026-10-20,2026-11-30")
    (folder / "invoices.csv").write_text("customer_id,invoice_no,currency,amount,invoice_date,due_date\n"
                                         + "\n".join(rows) + "\n")
    (folder / "payments.csv").write_text("payment_id,customer_id,payment_date,amount,currency,invoice_ref\n"
                                         + payments)
    return folder


LETTER_ITEMS = {"INV-2026-00001", "INV-2026-00002", "INV-2026-00003"}


def test_letter_qr_to_bank_transaction_to_exactly_the_letters_invoices(tmp_path):
    """Issue 21: the letters job writes the letter's own RF reference and amount into its QR code and records the
    reference with the letter's invoices; a bank payment quoting it is matched to exactly those invoices."""
    folder, out = _folder(tmp_path), tmp_path / "letters"
    outcome = run_letters(folder_book(folder, out), AS_OF, out)
    (letter,) = outcome.letters
    assert letter.status == "issued"
    store = CreditStore(out / FOLDER_REGISTER_DB)
    (entry,) = [r for r in store.register_rows("C9") if r["kind"] == "letter"]
    reference = entry["payment_reference"]
    assert set(entry["invoice_nos"]) == LETTER_ITEMS and is_valid_rf(reference) and reference[4:].startswith("C9L")
    # the PDF itself: render the page and read the QR code off the image
    (payload,) = _read_qr(Path(letter.pdf), tmp_path)
    f = _fields(payload)
    assert f[:4] == ["BCD", "002", "1", "SCT"] and f[4] == "COBADEFFXXX" and f[6] == "DE89370400440532013000"
    assert f[7] == f"EUR{letter.amount:.2f}" and f[9] == reference and entry["amount"] == letter.amount
    # the banking app pays it; the bank statement comes back with the reference in the remittance text
    (folder / "bank.csv").write_text(f"Date,Reference,Description,Amount\n2026-11-10,B1,{f[9]},{f[7][3:]}\n")
    match = run_match([folder / "bank.csv"], FolderBook(folder, out / FOLDER_REGISTER_DB), as_of=AS_OF)
    (p,) = match.proposals
    assert (p.status, p.customer_id, p.method, p.confidence) == ("auto", "C9", "letter reference", 1.0)
    assert set(p.invoices) == LETTER_ITEMS          # not INV-2026-00004, open but not on the letter
    opened = {oi.invoice_no: oi.open_amount for pos in allocate(read_book(FolderBook(folder).read_tables(),
                                                                          None).ledger, AS_OF).values()
              for oi in pos.open_items}
    assert {line.invoice_no: line.amount for line in p.lines} == {no: opened[no] for no in LETTER_ITEMS}
    assert p.on_account == letter.amount - sum(opened[no] for no in LETTER_ITEMS) > 0   # the letter's interest
    assert "the letter's total" in p.reason
    # applied: exactly the letter's invoices are settled
    assert apply_matches(folder, match.proposals) == 4
    after = allocate(read_book(FolderBook(folder).read_tables(), None).ledger, dt.date(2026, 11, 10))
    assert {oi.invoice_no for pos in after.values() for oi in pos.open_items} == {"INV-2026-00004"}


def test_a_resent_letter_carries_the_same_reference(tmp_path):
    folder, out = _folder(tmp_path), tmp_path / "letters"
    run_letters(folder_book(folder, out), AS_OF, out)
    again = run_letters(folder_book(folder, out), AS_OF, out, resend=True)
    assert [r.status for r in again.letters] == ["resent"]
    first, resent = [r for r in CreditStore(out / FOLDER_REGISTER_DB).register_rows("C9") if r["kind"] == "letter"]
    assert resent["resend"] == 1 and resent["payment_reference"] == first["payment_reference"] != ""


def test_letter_reference_per_letter_and_stable():
    ref = letter_reference("C9", 2, ["INV-2", "INV-1"])
    assert is_valid_rf(ref) and ref == letter_reference("C9", 2, ["INV-1", "INV-2", "INV-1"])
    assert len({ref, letter_reference("C9", 3, ["INV-1", "INV-2"]), letter_reference("C9", 2, ["INV-1"]),
                letter_reference("C10", 2, ["INV-1", "INV-2"])}) == 4
    long_id = letter_reference("CUSTOMER-000000012345", 1, ["X"])   # an id too long to carry: L + 10 characters
    assert is_valid_rf(long_id) and len(long_id) == 4 + 11 and long_id[4] == "L"
    with pytest.raises(XlcError, match="invoice_nos: a letter's reference needs the invoices it covers"):
        letter_reference("C9", 1, [])


def _ledger(*payments: Payment) -> Ledger:
    invoices = tuple(Invoice("C9", f"INV-{i}", "EUR", Decimal(amount), dt.date(2026, 5, i), dt.date(2026, 6, i))
                     for i, amount in ((1, "100.00"), (2, "200.00"), (3, "300.00"), (4, "50.00")))
    return Ledger(invoices, tuple(payments))


def _match(amount: str, *payments: Payment, **settings):
    letter = LetterReference(letter_reference("C9", 1, ["INV-1", "INV-2", "INV-3"]), "C9",
                             ("INV-1", "INV-2", "INV-3"), "EUR", Decimal("612.34"), dt.date(2026, 10, 1),
                             "Reminder letter")
    tx = BankTransaction("B1", dt.date(2026, 11, 2), Decimal(amount), "EUR", "Someone Else Ltd", "",
                         f"payment {letter.reference[:4]} {letter.reference[4:]} thank you")
    (p,) = match_transactions([tx], allocate(_ledger(*payments), AS_OF), {"C9": "Calderwick"}, (),
                              CashSettings(**settings), letters=[letter])
    return p


def test_a_letter_reference_clears_exactly_its_items():
    p = _match("600.00")      # their open amounts: INV-4 is open and older than none, yet not on the letter
    assert (p.status, p.method, p.confidence, p.invoices) == ("auto", "letter reference", 1.0,
                                                              ("INV-1", "INV-2", "INV-3"))
    assert p.on_account == 0
    assert "is our letter of 2026-10-01 to C9 (Reminder letter) for INV-1, INV-2, INV-3" in p.reason


def test_an_item_paid_since_the_letter_is_named_and_left_out():
    p = _match("400.00", Payment("P1", "C9", dt.date(2026, 10, 20), Decimal("200.00"), "EUR", "INV-2"))
    assert (p.status, p.invoices, p.confidence) == ("auto", ("INV-1", "INV-3"), 1.0)
    assert "INV-2 was paid or credited since the letter" in p.reason


def test_a_short_payment_on_a_letter_follows_the_bank_charges_rule():
    p = _match("588.50")      # 11.50 short: within the tolerance, the shortfall stays open on the last item
    assert (p.status, p.confidence, p.charges) == ("auto", 0.97, 0)
    assert [(ln.invoice_no, ln.amount) for ln in p.lines] == [("INV-1", Decimal("100.00")),
                                                              ("INV-2", Decimal("200.00")),
                                                              ("INV-3", Decimal("288.50"))]
    assert "less 11.50 EUR taken as bank charges" in p.reason
    w = _match("588.50", charges="write_off")
    assert (w.status, w.charges) == ("auto", Decimal("11.50"))
    part = _match("350.00")   # 250.00 short: a part payment, for review
    assert (part.status, part.confidence) == ("review", 0.7) and "part payment" in part.reason
    assert [(ln.invoice_no, ln.amount) for ln in part.lines] == [("INV-1", Decimal("100.00")),
                                                                 ("INV-2", Decimal("200.00")),
                                                                 ("INV-3", Decimal("50.00"))]


def test_a_letter_whose_items_are_all_settled_goes_to_review():
    paid = [Payment(f"P{i}", "C9", dt.date(2026, 10, 20), Decimal(a), "EUR", f"INV-{i}")
            for i, a in ((1, "100.00"), (2, "200.00"), (3, "300.00"))]
    p = _match("600.00", *paid)
    assert (p.status, p.customer_id, p.lines, p.on_account) == ("review", "C9", (), Decimal("600.00"))
    assert "none of them is open in EUR now" in p.reason


def test_other_currency_letter_has_no_qr_but_the_details_in_text():
    composed, _, _ = _letter("GBP")
    assert composed.qr_payload == "" and "IBAN" in composed.payment and composed.reference in composed.payment


def test_qr_matrix_round_trip():
    payload = epc_qr_payload("Harbour Trading Ltd", "DE89370400440532013000", Decimal("99.95"), "RF18539007547034")
    image = np.array([[0 if dark else 255 for dark in row for _ in range(4)] for row in qr_matrix(payload)
                      for _ in range(4)], dtype=np.uint8)
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [payload]


def test_statement_of_account_carries_the_reference_that_matches_back():
    from xlcredit.core.statements import statement_for
    from xlcredit.letters.statement import compose_statement

    _, _, ledger = _letter()
    customer = Customer("C9", name="Calderwick Fabrications plc", currency="EUR")
    composed = compose_statement(statement_for(customer, ledger, dt.date(2026, 10, 1), AS_OF, Policy()), Policy())
    reference = composed.payment.rsplit(": ", 1)[1]
    assert is_valid_rf(reference) and reference.endswith("C9")
    open_total = sum(oi.open_amount for pos in allocate(ledger, AS_OF).values() for oi in pos.open_items)
    tx = BankTransaction("B2", dt.date(2026, 11, 10), open_total, "EUR", "", "", f"pay {reference} thanks")
    (p,) = match_transactions([tx], allocate(ledger, AS_OF), {"C9": customer.name})
    assert (p.status, p.customer_id, p.method, p.on_account) == ("auto", "C9", "rf reference", 0)


def test_the_commands_letters_then_match_find_the_letter_by_its_reference(tmp_path, monkeypatch):
    """`xlcredit letters FOLDER` (default --out out/letters) then `xlcredit match STATEMENT FOLDER`: the match reads
    the register where the letters went by default; --db names another one."""
    from typer.testing import CliRunner

    from xlcredit.cli import app

    folder = _folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["letters", str(folder), "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    (entry,) = [r for r in CreditStore(tmp_path / "out" / "letters" / FOLDER_REGISTER_DB).register_rows()
                if r["kind"] == "letter"]
    (folder / "bank.csv").write_text("Date,Reference,Description,Amount\n"
                                     f"2026-11-10,B1,{entry['payment_reference']},{entry['amount']}\n")
    out = tmp_path / "matches.csv"
    result = runner.invoke(app, ["match", str(folder / "bank.csv"), str(folder), "--as-of", AS_OF.isoformat(),
                                 "--out", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    (row,) = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert (row["status"], row["customer_id"], set(row["invoices"].split())) == ("auto", "C9", LETTER_ITEMS)
    assert row["reason"].startswith(f"creditor reference {entry['payment_reference']} is our letter of 2026-10-31")
    # another register (--db) that never issued the letter: the reference is unknown there, nothing exact
    result = runner.invoke(app, ["match", str(folder / "bank.csv"), str(folder), "--as-of", AS_OF.isoformat(),
                                 "--db", str(tmp_path / "other.db"), "--out", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    (row,) = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert "letter" not in row["reason"] and row["status"] != "auto"
    assert not (tmp_path / "other.db").exists()     # matching never creates a database


@given(st.lists(st.integers(1, 500_000), min_size=1, max_size=6), st.data())
@settings(max_examples=150, deadline=None)
def test_a_letter_reference_never_reaches_beyond_its_letter(cents, data):
    """Whatever the amounts: a payment quoting a letter's reference is applied only to that letter's invoices, never
    more than is open on one, and accounts for the whole payment; it is automatic only when it pays their open
    total less at most the charge tolerance."""
    invoices = tuple(Invoice("C9", f"INV-{i}", "EUR", Decimal(c) / 100, dt.date(2026, 5, 1), dt.date(2026, 6, 1 + i))
                     for i, c in enumerate(cents))
    chosen = data.draw(st.sets(st.sampled_from([i.invoice_no for i in invoices]), min_size=1))
    amount = Decimal(data.draw(st.integers(1, 3_000_000))) / 100
    ref = letter_reference("C9", 1, chosen)
    tx = BankTransaction("B1", dt.date(2026, 11, 2), amount, "EUR", "", "", ref)
    settings_ = CashSettings()
    (p,) = match_transactions([tx], allocate(Ledger(invoices), AS_OF), {"C9": "Calderwick"}, (), settings_,
                              letters=[LetterReference(ref, "C9", tuple(sorted(chosen)), "EUR")])
    opened = {i.invoice_no: i.amount for i in invoices}
    assert p.method == "letter reference" and set(p.invoices) <= chosen
    assert all(line.amount <= opened[line.invoice_no] for line in p.lines)
    assert sum(line.amount for line in p.lines) + p.on_account == amount
    total = sum(opened[n] for n in chosen)
    assert (p.status == "auto") == (amount >= total - settings_.charge_tolerance)
    if amount >= total:
        assert set(p.invoices) == chosen and p.confidence >= 0.95


def test_the_service_matches_a_payment_to_the_letter_it_issued(tmp_path):
    """POST /v1/letters records the letter's reference in the team's register; POST /v1/bank/match reads it."""
    from fastapi.testclient import TestClient

    from xlcredit.service.app import create_app

    folder = _folder(tmp_path)
    db = tmp_path / "team.credit.db"
    store = CreditStore(db, stamp_ttl=0)
    ctl = {"X-API-Key": store.create_api_key("ctl", "controller")}
    tables = [(name, (f"{name}.csv", (folder / f"{name}.csv").read_bytes()))
              for name in ("customers", "invoices", "payments")]
    with TestClient(create_app(str(db), store=store)) as client:
        issued = client.post("/v1/letters", files=tables, data={"as_of": AS_OF.isoformat()}, headers=ctl)
        assert issued.status_code == 200, issued.text
        (entry,) = [r for r in store.register_rows("C9") if r["kind"] == "letter"]
        statement = (f"Date,Reference,Description,Amount\n2026-11-10,B1,{entry['payment_reference']},"
                     f"{entry['amount']}\n").encode()
        r = client.post("/v1/bank/match", files=[*tables, ("statements", ("bank.csv", statement))],
                        data={"as_of": AS_OF.isoformat()}, headers=ctl)
        assert r.status_code == 200, r.text
        (p,) = r.json()["proposals"]
    assert (p["status"], p["customer_id"], set(p["invoices"].split())) == ("auto", "C9", LETTER_ITEMS)
    assert p["reason"].startswith(f"creditor reference {entry['payment_reference']} is our letter of 2026-10-31")
