"""The EPC QR code on a letter carries its payload as UTF-8 bytes, as the payload itself declares.

EPC069-12 (version 002), section 3.4 / 3.5: the third element of the payload is the character set, "1" meaning
UTF-8, and a banking app decodes the beneficiary's name with it. Read back from the rendered matrix with zxing-cpp,
the symbol's raw bytes must be the UTF-8 of the payload ("Müller" is 7 bytes, not the 6 of ISO 8859-1).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

zxingcpp = pytest.importorskip("zxingcpp")


def _read(matrix):
    from xlcredit.letters.render import qr_image

    (found,) = zxingcpp.read_barcodes(qr_image(matrix))
    return found


@pytest.mark.parametrize("beneficiary", ["Müller Großhandel GmbH", "Harbour Trading Ltd", "Société Générale SA"])
def test_the_qr_code_holds_the_payload_as_the_utf8_it_declares(beneficiary):
    from xlcredit.core.cashapp import epc_qr_payload, letter_reference
    from xlcredit.letters.render import qr_matrix

    reference = letter_reference("C008", 2, ["INV-1001", "INV-1002"])
    payload = epc_qr_payload(beneficiary, "DE89 3704 0044 0532 0130 00", Decimal("1234.50"), reference)
    assert payload.split("\n")[2] == "1"                          # the character set the payload declares: UTF-8
    found = _read(qr_matrix(payload))
    assert bytes(found.bytes) == payload.encode("utf-8")
    assert found.bytes.decode("utf-8").split("\n")[5] == beneficiary
