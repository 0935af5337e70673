"""Apply Matches and bank transactions the statement gives no bank reference (issue 21's reviewer's suspicion).

Apply Matches keys "never twice" on the bank reference it writes into the Payments table. A transaction without
one has nothing that identifies it across statements: the CSV reader stands in ``<source>:<line>`` (its position in
that paste), a CAMT entry without references none at all. A ticked row of that kind was skipped without a word when
blank, and applied under its position when a stand-in — so the same payment pasted at another line was applied
again. Now such a row is never ticked by Match Bank and, when the controller ticks it, Apply names it with the
reason and what to do. Driven through the xlwings stand-in (``tests/_excel_standin.py``) on the bundled workbook.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests._excel_standin import Book
from workbook import build
from xlcredit import excel
from xlcredit.data.sample import SAMPLE_AS_OF
from xlcredit.io import workbook as wb

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bank"
HEADER_ROW = wb.OUTPUT_SHEETS["Matches"].header_row


@pytest.fixture
def book(tmp_path: Path) -> Book:
    copy = tmp_path / "CreditControl.xlsm"
    shutil.copy(build.DEFAULT_OUT, copy)
    return Book(copy)


def _export_rows() -> list[list[object]]:
    return [line.split(";") for line in (FIXTURES / "export.csv").read_text(encoding="utf-8").splitlines()]


def _paste(book: Book, rows: list[list[object]]) -> None:
    bank = book.sheets[wb.BANK_SHEET]
    for key in [k for k in bank.grid if k[0] >= wb.BANK_FIRST_ROW]:
        bank.grid.pop(key)
    bank.range(f"A{wb.BANK_FIRST_ROW}").value = [[v or None for v in r] for r in rows]


def _matches(book: Book) -> tuple[list[str], list[list[object]]]:
    header, *rows = book.sheets["Matches"].rows_from(f"A{HEADER_ROW}")
    return header, rows


def _tick_all(book: Book, where) -> int:
    header, rows = _matches(book)
    n = 0
    for i, r in enumerate(rows):
        if where(dict(zip(header, r, strict=False))):
            book.sheets["Matches"].range(f"A{HEADER_ROW + 1 + i}").value = True
            n += 1
    return n


def _payments(book: Book) -> list[dict[str, object]]:
    head = [wb.field_name(str(h)) for h in book.table("Payments").header_row_range.value]
    return [dict(zip(head, r, strict=True)) for r in book.table_rows("Payments")]


def test_a_pasted_row_without_a_reference_is_never_applied_under_its_position(book: Book):
    """The first export row has no bank reference. Ticked, it is not applied (the message names it, says why and
    what to do); the other ticked rows are. A later export that starts one day earlier puts the same payment one
    line lower: ticked again, it is still not applied — before, it went in twice, once per position."""
    rows = _export_rows()
    rows[1][2] = ""                                   # Bramley Vale's 4,815.70 GBP: no Buchungsreferenz
    _paste(book, rows)
    excel.match_bank(book, as_of=SAMPLE_AS_OF)
    header, shown = _matches(book)
    first = dict(zip(header, shown[0], strict=False))
    assert first["Source"] == "Bank sheet line 2" and first["Status"] == "auto"
    assert first["Accept"] is None                    # not ticked for the controller
    assert "1 matched transaction(s) have no bank reference" in book.app.alerts[-1]
    _tick_all(book, lambda r: r["Source"] == "Bank sheet line 2")
    before = len(_payments(book))
    excel.apply_bank_matches(book)
    message = book.app.alerts[-1]
    added = _payments(book)[before:]
    assert added and not any(p["amount"] == 4815.70 for p in added)
    assert "1 ticked transaction(s) without a bank reference not applied" in message
    assert re.search(r"Bank sheet line 2 \(2026-11-02, 4815\.70 GBP, Bramley Vale Supplies plc\): no bank reference",
                     message), message
    assert "check it is not in the Payments table already, then enter it there by hand" in message

    later = [rows[0], ["01.11.2026", "01.11.2026", "BNK000001", "Someone Else", "", "unknown", "10,00", "EUR"],
             *rows[1:]]
    _paste(book, later)
    excel.match_bank(book, as_of=SAMPLE_AS_OF)
    _tick_all(book, lambda r: r["Source"] == "Bank sheet line 3")   # the same payment, one line lower
    excel.apply_bank_matches(book)
    bramley = [p for p in _payments(book) if p["amount"] == 4815.70 and p["customer_id"]]
    assert bramley == [], bramley
    assert "Bank sheet line 3 (2026-11-02, 4815.70 GBP" in book.app.alerts[-1]


def test_a_ticked_statement_transaction_with_no_reference_at_all_is_named(book: Book, tmp_path: Path):
    """A CAMT statement without AcctSvcrRef or EndToEndId: the Matches rows have a blank Bank reference. Ticked,
    Apply said "press Match Bank first" (or nothing at all beside other rows); now it names each one."""
    text = (FIXTURES / "statement.camt053.xml").read_text(encoding="utf-8")
    text = re.sub(r"<AcctSvcrRef>[^<]*</AcctSvcrRef>|<EndToEndId>[^<]*</EndToEndId>", "", text)
    (tmp_path / "noref.xml").write_text(text, encoding="utf-8")
    book.sheets[wb.BANK_SHEET].range("B3").value = "noref.xml"
    excel.match_bank(book, as_of=SAMPLE_AS_OF)
    header, shown = _matches(book)
    assert shown and all(r[header.index("Bank reference")] is None for r in shown)
    assert all(r[0] is None for r in shown)
    ticked = _tick_all(book, lambda r: r["Status"] in ("auto", "review"))
    assert ticked >= 2
    before = _payments(book)
    excel.apply_bank_matches(book)
    assert _payments(book) == before
    message = book.app.alerts[-1]
    assert message.startswith(f"0 payment row(s) appended to the Payments table for 0 transaction(s); 0 ticked "
                              f"transaction(s) already applied earlier or listed twice, nothing added for them; "
                              f"{ticked} ticked transaction(s) without a bank reference not applied"), message
    assert message.count("noref.xml line ") == min(ticked, 10)
