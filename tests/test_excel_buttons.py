"""The Statements, Send, Policy Audit, Match and Apply Matches buttons, driven through ``xlcredit.excel`` on a copy of
the bundled CreditControl.xlsm held by an xlwings stand-in (``tests/_excel_standin.py``: the workbook's cells and
tables as Excel would hold them open, no Excel). Each test checks the sheet the button wrote and the files it made
against the same job run the way the command line runs it.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from tests._excel_standin import Book
from workbook import build
from xlcredit import excel
from xlcredit.data.sample import SAMPLE_AS_OF
from xlcredit.io import workbook as wb
from xlcredit.jobs.book import FolderBook


@pytest.fixture
def book(tmp_path: Path) -> Book:
    """A copy of the bundled workbook, open in the stand-in (its credit database beside it in ``tmp_path``)."""
    copy = tmp_path / "CreditControl.xlsm"
    shutil.copy(build.DEFAULT_OUT, copy)
    return Book(copy)


def _policy_row(book: Book, key: str) -> int:
    sheet = book.sheets[wb.POLICY_SHEET]
    return next(r for (r, c), v in sheet.grid.items() if c == 1 and v == key)


def _set_policy(book: Book, **settings: object) -> None:
    sheet = book.sheets[wb.POLICY_SHEET]
    for key, value in settings.items():
        sheet.grid[(_policy_row(book, key.replace("__", ".")), 2)] = value


def _table(book: Book, sheet: str, header_row: int) -> tuple[list[str], list[list[object]]]:
    header, *rows = book.sheets[sheet].rows_from(f"A{header_row}")
    return header, rows


# =========================================================================== Statements
def test_statement_period_defaults_to_the_month_before():
    assert excel.statement_period(None, None, dt.date(2026, 12, 6)) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert excel.statement_period(None, None, dt.date(2026, 3, 1)) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert excel.statement_period(dt.datetime(2026, 9, 1), "2026-09-30", dt.date(2026, 12, 6)) == (
        dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    with pytest.raises(excel.XlcError, match=r"Statement from: is after Statement to \(2026-10-01 > 2026-09-30\)"):
        excel.statement_period("2026-10-01", "2026-09-30", dt.date(2026, 12, 6))
    with pytest.raises(excel.XlcError, match="Statement to: "):
        excel.statement_period(None, "next week", dt.date(2026, 12, 6))


def test_statements_button_writes_the_period_of_the_sheet_beside_the_workbook(book: Book, tmp_path: Path):
    from xlcredit.jobs.statements import run_statements

    sheet = book.sheets["Statements"]
    assert sheet.cell("A3") == "Statement from" and sheet.cell("B3") is None   # the input cells, blank as built
    sheet.range("B3").value = dt.date(2026, 9, 1)
    sheet.range("B4").value = dt.date(2026, 9, 30)
    excel.generate_statements(book)
    expected = run_statements(FolderBook(None), dt.date(2026, 9, 1), dt.date(2026, 9, 30), tmp_path / "dry",
                              store=str(tmp_path / "dry.db"), dry_run=True)
    letters = tmp_path / "Letters"
    n = expected.count("would write")
    assert n > 40
    assert book.app.alerts == [f"Statements 2026-09-01 to 2026-09-30: {n} written to {letters}, 0 already written, "
                               "0 failed."]
    header, rows = _table(book, "Statements", wb.OUTPUT_SHEETS["Statements"].header_row)
    assert header == ["Customer ID", "Name", "Language", "Period from", "Period to", "Closing", "Closing amount",
                      "Currency", "Status", "Pdf file", "Word file"]
    assert [r[0] for r in rows] == [r.customer_id for r in expected.results]
    assert [r[5] for r in rows] == [r.closing for r in expected.results]       # the same figures as the command
    assert {r[8] for r in rows} == {"written"}
    for r in rows:
        assert (letters / r[9]).is_file() and (letters / r[10]).is_file()
        assert r[9].startswith(f"statement_2026-09-01_2026-09-30_{r[0]}_") and r[9].endswith(".pdf")
    assert sheet.cell("B2") == dt.datetime(2026, 9, 30)                        # "as of" the period's end
    assert sheet.cell("B3") == dt.datetime(2026, 9, 1)                         # the input is left as typed
    files = sorted(p.name for p in letters.iterdir())
    book.app.alerts.clear()
    excel.generate_statements(book)                                            # again: nothing new
    assert book.app.alerts[0].startswith(f"Statements 2026-09-01 to 2026-09-30: 0 written to {letters}, {n} already")
    assert sorted(p.name for p in letters.iterdir()) == files


def test_statements_button_without_a_period_takes_last_month_and_a_bad_date_is_named(book: Book, tmp_path: Path):
    book.sheets["Statements"].range("B4").value = "31/13/2026"
    excel.generate_statements(book, as_of=dt.date(2026, 11, 3))
    assert len(book.app.alerts) == 1 and book.app.alerts[0].startswith("#XLC! Statement to: ")
    assert not (tmp_path / "Letters").exists()                                # nothing written
    book.sheets["Statements"].range("B4").clear_contents()
    book.app.alerts.clear()
    excel.generate_statements(book, as_of=dt.date(2026, 11, 3), out_dir=tmp_path / "out")
    assert book.app.alerts[0].startswith("Statements 2026-10-01 to 2026-10-31: ")
    _header, rows = _table(book, "Statements", wb.OUTPUT_SHEETS["Statements"].header_row)
    assert {(r[3], r[4]) for r in rows} == {(dt.datetime(2026, 10, 1), dt.datetime(2026, 10, 31))}


# =========================================================================== Send
def test_send_button_without_a_mail_server_writes_drafts_once(book: Book, tmp_path: Path):
    excel.send_letters(book, as_of=SAMPLE_AS_OF)
    assert book.app.alerts[0].startswith("Nothing to send: there is no letters folder yet")
    book.app.alerts.clear()
    excel.generate_letters(book, as_of=SAMPLE_AS_OF)
    issued = int(book.app.alerts[0].split(" letter(s)")[0])
    assert issued > 0
    book.app.alerts.clear()
    excel.send_letters(book, as_of=SAMPLE_AS_OF, env={})
    drafts = tmp_path / "Letters" / "drafts"
    emls = sorted(drafts.glob("*.eml"))
    assert book.app.alerts[0].startswith(f"{len(emls)} message(s) written as drafts to {drafts} (no mail server on "
                                         "the Policy sheet).")
    assert len(emls) == issued                    # every letter of the sample's customers has an address
    book.app.alerts.clear()
    excel.send_letters(book, as_of=SAMPLE_AS_OF, env={})
    assert book.app.alerts[0].startswith(f"0 message(s) written as drafts to {drafts}")
    assert f"{issued} already gone" in book.app.alerts[0]
    assert sorted(drafts.glob("*.eml")) == emls


def test_send_button_uses_the_policy_sheets_mail_server_and_the_password_from_the_environment(book: Book,
                                                                                          tmp_path: Path):
    """The Policy sheet names the server (a real SMTP server on loopback that requires no login here); the
    password setting does not exist on the sheet — it is read from XLCREDIT_SMTP_PASSWORD only."""
    from tests.test_send import Recorder, _free_port

    controller_mod = pytest.importorskip("aiosmtpd.controller")
    handler = Recorder()
    controller = controller_mod.Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        excel.generate_statements(book, as_of=dt.date(2026, 11, 3))     # October's statements to send
        written = int(book.app.alerts[0].split(": ")[1].split(" written")[0])
        book.app.alerts.clear()
        assert not any(v == "send.smtp_password" for v in book.sheets[wb.POLICY_SHEET].grid.values())
        _set_policy(book, send__smtp_host="127.0.0.1", send__smtp_port=controller.port, send__smtp_security="none",
                    send__from_address="Credit Control <credit@harbour.example>")
        excel.send_letters(book, as_of=dt.date(2026, 11, 3), env={"XLCREDIT_SMTP_PASSWORD": "not-in-the-workbook"})
        assert book.app.alerts[0].startswith(f"{written} message(s) sent through 127.0.0.1:{controller.port}.")
        assert len(handler.messages) == written
        assert all(any(part.get_filename().endswith(".pdf") for part in m.iter_attachments())
                   for m in handler.messages)
        book.app.alerts.clear()
        excel.send_letters(book, as_of=dt.date(2026, 11, 3), env={})
        assert book.app.alerts[0].startswith(f"0 message(s) sent through 127.0.0.1:{controller.port}.")
        assert len(handler.messages) == written                        # never twice
    finally:
        controller.stop()
