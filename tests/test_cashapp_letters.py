"""Letters that make a payment easy to match (issue 21): an RF reference and an EPC QR code ("GiroCode")."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal

import numpy as np
import pytest
import zxingcpp

from xlcredit.core.cashapp import BankTransaction, epc_qr_payload, is_valid_rf, match_transactions
from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import Invoice, Ledger
from xlcredit.core.openitems import allocate
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer
from xlcredit.jobs.letters import plan_letters
from xlcredit.letters.render import compose, qr_matrix, render_pdf

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


def test_letter_qr_decodes_to_its_amount_and_reference_and_matches_exactly(tmp_path):
    composed, letter, ledger = _letter()
    total = letter.totals[0].total
    assert is_valid_rf(composed.reference) and composed.reference in composed.payment
    # the PDF itself: render the page and read the QR code off the image
    assert shutil.which("pdftoppm"), "pdftoppm (poppler-utils) is needed"
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(render_pdf(composed))
    subprocess.run(["pdftoppm", "-r", "200", "-gray", "-png", "-singlefile", str(pdf), str(tmp_path / "page")],
                   check=True, capture_output=True, timeout=120)
    from PIL import Image

    found = zxingcpp.read_barcodes(np.asarray(Image.open(tmp_path / "page.png").convert("L")))
    texts = [r.text for r in found if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert texts == [composed.qr_payload]
    f = _fields(texts[0])
    assert f[:4] == ["BCD", "002", "1", "SCT"] and f[4] == "COBADEFFXXX" and f[6] == "DE89370400440532013000"
    assert f[7] == f"EUR{total:.2f}" and f[9] == composed.reference
    # the reference comes back on a statement: an exact match to the customer, every item paid
    tx = BankTransaction("B1", dt.date(2026, 11, 10), total, "EUR", "CALDERWICK FAB", "", f"{f[9]}")
    (p,) = match_transactions([tx], allocate(ledger, AS_OF), {"C9": "Calderwick Fabrications plc"})
    assert (p.status, p.customer_id, p.method) == ("auto", "C9", "rf reference")
    assert set(p.invoices) == set(letter.invoice_nos)
    assert sum(line.amount for line in p.lines) + p.on_account == total


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
