"""``xlcredit match STATEMENT WORKBOOK --apply``: the accepted payments appended to the workbook's Payments table.

Before, ``--apply`` refused a workbook (only the Apply Matches button wrote to one). It now patches the file the way
a refresh does (:func:`xlcredit.io.workbook.append_table_rows`: only the Payments sheet's new rows and its table's
range change, atomically), with the button's never-twice rule: a bank reference already in the table's Bank reference
column is never applied again — by the command or by the button.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from oletools.olevba import VBA_Parser
from typer.testing import CliRunner

from tests._excel_standin import Book
from workbook import build
from xlcredit import excel
from xlcredit.cli import app
from xlcredit.core.cashapp import AUTO
from xlcredit.core.errors import XlcError
from xlcredit.data.sample import SAMPLE_AS_OF
from xlcredit.io import workbook as wb
from xlcredit.jobs.book import WorkbookFile
from xlcredit.jobs.cashapp import apply_to_workbook, payment_rows, run_match

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bank"
STATEMENT = FIXTURES / "statement.camt053.xml"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    copy = tmp_path / "CreditControl.xlsm"
    shutil.copy(build.DEFAULT_OUT, copy)
    return copy


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _modules(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {name: code for _f, _s, name, code in parser.extract_macros()}
    finally:
        parser.close()


def _apply(path: Path) -> object:
    return CliRunner().invoke(app, ["match", str(STATEMENT), str(path), "--as-of", SAMPLE_AS_OF.isoformat(),
                                    "--apply", "--db", str(path.parent / "c.db")])


def test_apply_appends_the_confident_matches_to_the_payments_table_once(book: Path):
    expected = run_match([STATEMENT], WorkbookFile(book), as_of=SAMPLE_AS_OF)
    want = payment_rows([p for p in expected.proposals if p.status == AUTO], set())
    assert len(want) >= 5
    before_parts, before_vba = _parts(book), _modules(book)
    before = wb.read_tables(book)["payments"]

    first = _apply(book)
    assert first.exit_code == 0, first.output
    assert f"{len(want)} payment rows appended to the Payments table of" in " ".join(first.output.split())
    after = wb.read_tables(book)["payments"]
    assert len(after) == len(before) + len(want)
    pd.testing.assert_frame_equal(after.iloc[:len(before)].reset_index(drop=True), before.reset_index(drop=True))
    added = after.iloc[len(before):]
    assert [(r.payment_id, r.customer_id, pd.Timestamp(r.payment_date).date().isoformat(),
             Decimal(repr(float(r.amount))), r.currency, r.invoice_ref, r.bank_reference)
            for r in added.itertuples()] == [
        (w["payment_id"], w["customer_id"], w["payment_date"], Decimal(w["amount"]), w["currency"], w["invoice_ref"],
         w["bank_reference"]) for w in want]

    # the VBA project, the buttons, the other sheets: byte for byte; only the Payments sheet, its table's range
    # and the recalculate-on-open flag changed
    now = _parts(book)
    changed = {name for name in before_parts if before_parts[name] != now.get(name)}
    payments_sheet = "xl/worksheets/sheet4.xml"
    assert changed <= {payments_sheet, "xl/tables/table3.xml", "xl/workbook.xml"}, changed
    assert payments_sheet in changed and set(now) == set(before_parts)
    assert now["xl/vbaProject.bin"] == before_parts["xl/vbaProject.bin"]
    assert _modules(book) == before_vba and any("RunPython" in code for code in before_vba.values())
    assert b'ref="A1:G' + str(len(after) + 1).encode() + b'"' in now["xl/tables/table3.xml"]

    again = _apply(book)
    assert again.exit_code == 0 and "nothing new to apply" in again.output
    assert _parts(book) == now
    assert run_match([STATEMENT], WorkbookFile(book), as_of=SAMPLE_AS_OF).count("auto") == 0


def test_the_apply_matches_button_then_adds_nothing_the_command_applied(book: Path):
    """One never-twice rule for both: after the command, the button on the same statement shows what it applied as
    already applied and, ticked again, appends nothing for them."""
    assert _apply(book).exit_code == 0
    payments = wb.read_tables(book)["payments"]
    applied = {str(v) for v in payments["bank_reference"] if isinstance(v, str) and v}
    assert applied
    opened = Book(book)
    opened.sheets[wb.BANK_SHEET].range("B3").value = str(STATEMENT)
    excel.match_bank(opened, as_of=SAMPLE_AS_OF)
    top = wb.OUTPUT_SHEETS["Matches"].header_row
    header, *rows = opened.sheets["Matches"].rows_from(f"A{top}")
    ref, status = header.index("Bank reference"), header.index("Status")
    shown = [r for r in rows if r[ref] in applied]
    assert len(shown) == len(applied) and all(r[status] == "duplicate" and r[0] is None for r in shown)
    for i, r in enumerate(rows):                       # the controller ticks them again anyway
        if r[ref] in applied:
            opened.sheets["Matches"].range(f"A{top + 1 + i}").value = True
    excel.apply_bank_matches(opened)
    assert opened.app.alerts[-1].startswith(f"0 payment row(s) appended to the Payments table for 0 transaction(s); "
                                            f"{len(applied)} ticked transaction(s) already applied earlier")
    assert len(opened.table_rows("Payments")) == len(payments)


def test_a_failed_write_and_a_file_saved_meanwhile_leave_the_workbook_as_it_was(book: Path):
    proposals = run_match([STATEMENT], WorkbookFile(book), as_of=SAMPLE_AS_OF).proposals
    original = book.read_bytes()

    def crash(_tmp: Path) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        apply_to_workbook(book, proposals, before_replace=crash)
    assert book.read_bytes() == original
    assert not [p for p in book.parent.iterdir() if p.name.startswith(".~")]   # no temp file left
    read_at = book.stat()
    os.utime(book, ns=(read_at.st_atime_ns, read_at.st_mtime_ns + 1_000_000))   # saved in Excel meanwhile
    with pytest.raises(XlcError, match="was changed by someone else while the apply ran"):
        wb.append_table_rows(book, "payments", [{"payment_id": "X"}], unchanged_since=read_at)
    assert book.read_bytes() == original


def test_cells_below_the_payments_table_are_never_overwritten(book: Path):
    import openpyxl

    loaded = openpyxl.load_workbook(book, keep_vba=True)
    ws = loaded["Payments"]
    last = ws.max_row
    ws.cell(last + 1, 2).value = "my note"
    loaded.save(book)
    proposals = run_match([STATEMENT], WorkbookFile(book), as_of=SAMPLE_AS_OF).proposals
    original = book.read_bytes()
    with pytest.raises(XlcError, match=rf"Payments: has cells right below the Payments table \(row {last + 1}\)"):
        apply_to_workbook(book, proposals)
    assert book.read_bytes() == original


def test_apply_to_a_workbook_refuses_write_off_and_the_sample_is_never_written(book: Path):
    r = CliRunner().invoke(app, ["match", str(STATEMENT), str(book), "--apply", "--charges-as", "write-off"])
    assert r.exit_code == 2 and "--charges-as: write-off writes credit_notes.csv of a folder" in r.output
    r = CliRunner().invoke(app, ["match", str(STATEMENT), "--apply"])
    assert r.exit_code == 2 and "the bundled sample is not written" in r.output


@pytest.mark.parametrize("below", ["formula", "excel_empty_formula", "merged"])
def test_a_formula_showing_nothing_or_merged_cells_below_the_table_are_never_overwritten(book: Path, below: str):
    """A formula whose saved result is empty (openpyxl saves none; Excel's =IF(...,"",...) saves "") is a cell of
    the user's as much as a value is; merged cells there would put the grown table over a merge, which Excel
    repairs away. Both are refused and the file is left as it was."""
    import openpyxl

    loaded = openpyxl.load_workbook(book, keep_vba=True)
    ws = loaded["Payments"]
    last = ws.max_row
    if below == "formula":
        ws.cell(last + 1, 4).value = "=SUM(Payments[Amount])"
    elif below == "merged":
        ws.merge_cells(start_row=last + 1, start_column=1, end_row=last + 2, end_column=3)
    loaded.save(book)
    if below == "excel_empty_formula":   # as Excel saves it: a string result that is empty
        import zipfile

        from xlcredit.io.workbook import _sheet_parts

        with zipfile.ZipFile(book) as zf:
            parts = {n: zf.read(n) for n in zf.namelist()}
            sheet = _sheet_parts(zf)["Payments"]
        xml = parts[sheet].decode("utf-8")
        row = f'<row r="{last + 1}"><c r="D{last + 1}" t="str"><f>IF(1=1,"",1)</f><v></v></c></row>'
        xml = xml.replace("</sheetData>", row + "</sheetData>") if f'<row r="{last + 1}"' not in xml else xml
        parts[sheet] = xml.encode("utf-8")
        with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as zf:
            for n, data in parts.items():
                zf.writestr(n, data)
    proposals = run_match([STATEMENT], WorkbookFile(book), as_of=SAMPLE_AS_OF).proposals
    original = book.read_bytes()
    words = r"merged cells below the Payments table" if below == "merged" else \
        rf"cells right below the Payments table \(row {last + 1}\)"
    with pytest.raises(XlcError, match=rf"Payments: has {words}"):
        apply_to_workbook(book, proposals)
    assert book.read_bytes() == original
