"""Control characters (issue 17): text from data is cleaned once on the way in — characters XML 1.0 forbids (a NUL
makes a corrupt .docx) and the invisible bidi/format controls (they reorder text in a PDF) are removed by the table
readers; zero-width joiners, which Persian and Indic scripts need, stay."""

from __future__ import annotations

import pandas as pd
import pytest

from xlcredit.core.coerce import clean_text
from xlcredit.io.ledger import load_ledger
from xlcredit.io.tables import read_customers


@pytest.mark.parametrize(("raw", "clean"), [
    ("Acme\x00 Ltd", "Acme Ltd"),
    ("Acme\x07\x1b Ltd\x0b", "Acme Ltd"),
    ("\u202eevil\u202c Ltd", "evil Ltd"),                 # right-to-left override
    ("\u2066Acme\u2069\u200f\u200e\u061c", "Acme"),       # isolates and marks
    ("\ufeffAcme\u200b Ltd", "Acme Ltd"),                 # BOM, zero-width space
    ("line one\nline two\ttab\r", "line one\nline two\ttab\r"),
    ("می\u200cخواهم", "می\u200cخواهم"),                   # ZWNJ kept
    ("\ud800x\uffff", "x"),
])
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_the_customers_reader_cleans_names_and_addresses(tmp_path):
    frame = pd.DataFrame({"customer_id": ["C1\u200b", "C2"], "name": ["Null\x00 GmbH", "\u202eRTL\u202c Trading"],
                          "address": ["Street\x01 1", "\u2067Road 2\u2069"]})
    table = read_customers(frame)
    assert [(c.customer_id, c.name, c.address) for c in table.customers] == [
        ("C1", "Null GmbH", "Street 1"), ("C2", "RTL Trading", "Road 2")]


def test_the_ledger_reader_cleans_text_columns(tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text("customer_id,invoice_no,invoice_date,due_date,amount,currency\n"
                    "C1\u200e,INV\x00-1,2026-01-01,2026-01-31,100.00,EUR\n", encoding="utf-8")
    loaded = load_ledger(path)
    assert loaded.problems == [] or list(loaded.problems) == []
    invoice = loaded.ledger.invoices[0]
    assert (invoice.customer_id, invoice.invoice_no) == ("C1", "INV-1")
