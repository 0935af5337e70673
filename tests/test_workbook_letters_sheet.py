"""The Letters sheet shows each letter's own payment reference and its invoices (issue 21's leftover).

A letter carries its own RF reference (printed and in its EPC QR code); the register stores it with the letter's
invoice numbers (store migration 7). A controller answering "which letter did this payment quote?" finds it on the
Letters sheet: written by Generate Letters (the button, through the xlwings stand-in, and ``xlcredit letters
WORKBOOK``), in text cells (the "code" kind, ``@``) so Excel keeps it as typed, and printed one page wide with the
letter's number, customer, step, amount, reference and invoices (LibreOffice renders the sheet).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader

from tests._excel_standin import Book
from workbook import build, layout
from xlcredit import excel
from xlcredit.core.cashapp import is_valid_rf
from xlcredit.data.sample import SAMPLE_AS_OF
from xlcredit.io import workbook as wb
from xlcredit.io.store import CreditStore

HEADER_ROW = wb.OUTPUT_SHEETS["Letters"].header_row


def _sheet_rows(book: Book) -> list[dict[str, object]]:
    header, *rows = book.sheets["Letters"].rows_from(f"A{HEADER_ROW}")
    return [dict(zip(header, r, strict=False)) for r in rows]


def test_generate_letters_shows_each_letters_payment_reference_and_invoices(tmp_path: Path):
    """The button on the bundled workbook: every letter row shows the reference its register entry holds (a valid
    ISO 11649 RF reference, the one printed in the letter's PDF) and the letter's invoice numbers; actions have
    none."""
    copy = tmp_path / "CreditControl.xlsm"
    shutil.copy(build.DEFAULT_OUT, copy)
    book = Book(copy)
    excel.generate_letters(book, as_of=SAMPLE_AS_OF, out_dir=tmp_path / "Letters")
    assert book.app.alerts[0].startswith("11 letter(s) written"), book.app.alerts
    rows = _sheet_rows(book)
    store = CreditStore(excel.XlwingsBook(book).default_store())   # the workbook's own database
    register = {r["id"]: r for r in store.register_rows()}
    store.close()
    letters = [r for r in rows if r["Kind"] == "letter"]
    assert len(letters) == 11 and len(rows) == len(register)
    for row in letters:
        entry = register[int(row["No."])]
        assert row["Payment reference"] == entry["payment_reference"] and is_valid_rf(row["Payment reference"])
        assert row["Invoices"] == " ".join(entry["invoice_nos"])
    assert len({r["Payment reference"] for r in letters}) == 11
    assert all(r["Payment reference"] is None and r["Invoices"] is None for r in rows if r["Kind"] == "action")
    first = letters[0]
    pdf = Path(str(first["File"]))
    pdf = pdf if pdf.suffix == ".pdf" else pdf.with_suffix(".pdf")
    text = "".join(p.extract_text() for p in PdfReader(pdf if pdf.is_absolute() else tmp_path / "Letters" / pdf).pages)
    assert str(first["Payment reference"]) in text.replace(" ", "")


def test_the_reference_and_invoice_columns_are_text_cells_and_print_one_page_wide():
    """In the built workbook: both columns are text (@), so a reference or an invoice number of digits stays as it
    is; the print shows the first columns up to the invoices, fitted one page wide."""
    book = openpyxl.load_workbook(build.DEFAULT_OUT, keep_vba=True)
    ws = book["Letters"]
    heads = {c.value: c.column_letter for c in ws[HEADER_ROW]}
    for head in ("Payment reference", "Invoices"):
        assert ws.column_dimensions[heads[head]].number_format == "@", head
    printed = layout.PRINT_COLUMNS["Letters"]
    assert [c.value for c in ws[HEADER_ROW]][printed - 2:printed] == ["Payment reference", "Invoices"]
    assert ws.print_area.split("!")[1].split(":")[1].rstrip("0123456789").strip("$") == heads["Invoices"]
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0   # wide 1 (the default)
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.scale is None


@pytest.mark.libreoffice
def test_the_letters_sheet_prints_its_references_on_one_page_wide(tmp_path: Path):
    """``xlcredit letters WORKBOOK`` fills the sheet in the file; LibreOffice prints it: the sample's register (20
    entries) is one page, with every letter's reference on it — before, the sheet printed at 75 % over pages across,
    without the reference."""
    from typer.testing import CliRunner

    from xlcredit.cli import app

    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice is not installed (.ci/run installs it)"
    book = tmp_path / "CreditControl.xlsm"
    shutil.copy(build.DEFAULT_OUT, book)
    run = CliRunner().invoke(app, ["letters", str(book), "--as-of", SAMPLE_AS_OF.isoformat(), "--out",
                                   str(tmp_path / "Letters"), "--db", str(tmp_path / "c.db")])
    assert run.exit_code == 0, run.output
    store = CreditStore(str(tmp_path / "c.db"))
    references = [r["payment_reference"] for r in store.register_rows() if r["kind"] == "letter"]
    store.close()
    assert len(references) == 11
    # print the Letters sheet alone: a copy of the file without the other sheets
    only = openpyxl.load_workbook(book, keep_vba=True)
    for name in only.sheetnames:
        if name != "Letters":
            del only[name]
    single = tmp_path / "letters-only.xlsm"
    only.save(single)
    profile = tmp_path / "lo-profile"
    done = subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
                           "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(single)],
                          capture_output=True, text=True, timeout=600)
    pdf = tmp_path / "pdf" / "letters-only.pdf"
    assert done.returncode == 0 and pdf.is_file(), done.stdout + done.stderr
    pages = [p.extract_text() for p in PdfReader(pdf).pages]
    assert len(pages) == 1, len(pages)
    flat = pages[0].replace(" ", "")
    assert "Paymentreference" in flat and "Invoices" in flat
    assert all(ref in flat for ref in references), [ref for ref in references if ref not in flat]
