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


def test_statements_button_for_the_one_customer_named_on_the_sheet(book: Book, tmp_path: Path):
    sheet = book.sheets["Statements"]
    assert sheet.cell("A5") == "Customer" and sheet.cell("B5") is None
    sheet.range("B5").value = "C008"
    excel.generate_statements(book, as_of=dt.date(2026, 11, 3))
    assert book.app.alerts[0].startswith(f"Statements 2026-10-01 to 2026-10-31: 1 written to {tmp_path / 'Letters'}")
    _header, rows = _table(book, "Statements", wb.OUTPUT_SHEETS["Statements"].header_row)
    assert [r[0] for r in rows] == ["C008"]
    sheet.range("B5").value = "C999"
    excel.generate_statements(book, as_of=dt.date(2026, 11, 3))
    assert book.app.alerts[1].startswith("#XLC! ") and "C999" in book.app.alerts[1]


def test_apply_matches_refuses_a_payments_table_without_a_bank_reference_column(book: Book):
    """A Payments table from before the Bank reference column: Apply says what to add and writes nothing (without
    the column a second press could not tell what was applied)."""
    _paste_export(book, typed=False)
    excel.match_bank(book, as_of=SAMPLE_AS_OF)
    table = book.table("Payments")
    assert table.sheet.grid[(table.r1, table.c2)] == "Bank reference"
    for r in range(table.r1, table.r2 + 1):        # the user's older table: no such column
        table.sheet.grid.pop((r, table.c2), None)
    table.c2 -= 1
    before = book.table_rows("Payments")
    excel.apply_bank_matches(book)
    assert book.app.alerts[-1].startswith("#XLC! Payments: table has no Bank reference column: add a column headed "
                                          "'Bank reference'")
    assert book.table_rows("Payments") == before


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


# =========================================================================== Policy Audit
def test_audit_period_defaults_to_the_twelve_month_ends_up_to_the_date():
    assert excel.audit_period(None, None, dt.date(2026, 10, 31)) == (dt.date(2025, 11, 1), dt.date(2026, 10, 31))
    assert excel.audit_period(None, None, dt.date(2026, 12, 6)) == (dt.date(2025, 12, 1), dt.date(2026, 11, 30))
    assert excel.audit_period(None, None, dt.date(2026, 1, 15)) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert excel.audit_period("2026-01-01", None, dt.date(2026, 10, 31)) == (dt.date(2026, 1, 1),
                                                                             dt.date(2026, 10, 31))
    with pytest.raises(excel.XlcError, match=r"Audit from: is after Audit to"):
        excel.audit_period("2026-11-01", "2026-10-31", dt.date(2026, 12, 6))


def test_policy_audit_button_writes_both_policies_the_months_and_the_grades(book: Book, tmp_path: Path):
    """Compare against = strict on the bundled workbook, as of the sample's date: the Policy Audit sheet holds what
    ``xlcredit audit --from 2025-11-01 --to 2026-10-31 --against strict`` prints, figure for figure."""
    from xlcredit.jobs.audit import comparison_rows, run_audit

    sheet = book.sheets["Policy Audit"]
    assert sheet.cell("A3") == "Compare against" and sheet.cell("B3") is None
    sheet.range("B3").value = "strict"
    excel.policy_audit(book, as_of=SAMPLE_AS_OF)
    expected = run_audit(FolderBook(None), dt.date(2025, 11, 1), dt.date(2026, 10, 31), against="strict").audit
    alert = book.app.alerts[0]
    assert alert.startswith("Policy audit 2025-11-30 to 2026-10-31 (12 month ends): policy A 'current' against B "
                            "'strict'.")
    assert f"B held {expected.b.measures.held_orders} order(s)" in alert
    header_row = wb.OUTPUT_SHEETS["Policy Audit"].header_row
    grid = sheet.grid
    rows = comparison_rows(expected)
    assert len(rows) == wb.AUDIT_MEASURES                 # the months table starts where the chart reads it
    assert [grid.get((header_row, c)) for c in range(1, 7)] == [
        "Measure", "Unit", "A: current", "B: strict", "B − A", "What the difference means"]
    for i, r in enumerate(rows, start=header_row + 1):
        assert grid.get((i, 1)) == r["measure"]
        for col, key in ((3, "a"), (4, "b")):
            value = r[key]
            if r["unit"] == "money":
                assert grid.get((i, col)) == pytest.approx(float(value), abs=0.005), r["measure"]
            elif r["unit"] == "count":
                assert grid.get((i, col)) == value, r["measure"]
        if r["meaning"]:
            assert grid.get((i, 6)) == r["meaning"]
    assert any(r["meaning"] for r in rows)                 # differences explained in words
    months_header = wb.AUDIT_MONTHS_HEADER_ROW
    assert grid.get((months_header, 1)) == "Month end" and grid.get((months_header, 3)) == "Sales held: current"
    assert [grid.get((r, 1)) for r in wb.AUDIT_MONTH_ROWS] == [
        dt.datetime(m.year, m.month, m.day) for m in expected.month_ends]
    assert [grid.get((r, 4)) for r in wb.AUDIT_MONTH_ROWS] == [float(m.held_amount) for m in expected.b.months]
    cal_header = months_header + 12 + 2
    assert grid.get((cal_header, 1)) == "Policy" and grid.get((cal_header, 5)) == "Default rate %"
    n_cal = len(expected.a.measures.calibration) + len(expected.b.measures.calibration)
    assert [grid.get((cal_header + 1 + k, 1)) for k in range(n_cal)] == (
        ["current"] * len(expected.a.measures.calibration) + ["strict"] * len(expected.b.measures.calibration))
    assert sheet.cell("B2") == dt.datetime(2026, 10, 31) and sheet.cell("B3") == "strict"   # the input stays


def test_policy_audit_button_names_a_missing_policy_file_and_writes_nothing(book: Book):
    sheet = book.sheets["Policy Audit"]
    sheet.range("B3").value = "looser.toml"
    before = dict(sheet.grid)
    excel.policy_audit(book, as_of=SAMPLE_AS_OF)
    assert len(book.app.alerts) == 1
    assert book.app.alerts[0].startswith("#XLC! Compare against: is neither a shipped policy (strict) nor a file: ")
    assert sheet.grid == before


def test_the_audit_tables_written_into_the_file_sit_where_the_chart_reads_them(tmp_path: Path):
    """The same three tables through the file writer (``xlcredit.io.workbook.write_outputs``): one below the other,
    counts as whole numbers and amounts with cents in one column, and the build's chart reads the months rows."""
    import re
    import zipfile

    import openpyxl

    from xlcredit.jobs.audit import run_audit

    copy = tmp_path / "CreditControl.xlsm"
    shutil.copy(build.DEFAULT_OUT, copy)
    result = run_audit(FolderBook(None), dt.date(2025, 11, 1), dt.date(2026, 10, 31), against="strict").audit
    wb.write_outputs(copy, {"Policy Audit": list(excel.audit_blocks(result))})
    ws = openpyxl.load_workbook(copy)["Policy Audit"]
    top = wb.OUTPUT_SHEETS["Policy Audit"].header_row
    assert ws.cell(top, 1).value == "Measure" and ws.cell(top + 1, 1).value == "Orders checked"
    assert ws.cell(top + 1, 3).number_format == "#,##0"                              # a count
    sales = next(r for r in range(top, top + 25) if ws.cell(r, 1).value == "Sales checked")
    assert ws.cell(sales, 3).number_format == wb.NUMBER_FORMATS["money"]               # an amount, with cents
    assert ws.cell(wb.AUDIT_MONTHS_HEADER_ROW, 1).value == "Month end"
    assert ws.cell(wb.AUDIT_MONTH_ROWS[0], 1).value == dt.datetime(2025, 11, 30)
    assert ws.cell(wb.AUDIT_MONTH_ROWS[-1], 1).value == dt.datetime(2026, 10, 31)
    with zipfile.ZipFile(copy) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    audit_chart = next(c for c in charts if "'Policy Audit'" in c)
    first, last = wb.AUDIT_MONTH_ROWS[0], wb.AUDIT_MONTH_ROWS[-1]
    assert f"<c:f>'Policy Audit'!$A${first}:$A${last}</c:f>" in audit_chart
    assert set(re.findall(r"<c:f>'Policy Audit'!\$([A-F])\$" + str(wb.AUDIT_MONTHS_HEADER_ROW) + "</c:f>",
                          audit_chart)) == {"B", "C", "D", "E", "F"}   # series named by the months table's headers
    assert ws.cell(wb.AUDIT_MONTHS_HEADER_ROW, 2).value == "Exposure"


# =========================================================================== Bank → Match → Matches → Apply
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bank"


def _paste_export(book: Book, *, typed: bool) -> None:
    """Paste the fixture bank export into the Bank sheet from its first row: as text cells (a German export pasted
    as it is: "02.11.2026", "4815,70"), or as Excel types it on import (dates and numbers)."""
    lines = (FIXTURES / "export.csv").read_text(encoding="utf-8").splitlines()
    rows = [line.split(";") for line in lines]
    if typed:
        for row in rows[1:]:
            row[0] = dt.datetime.strptime(row[0], "%d.%m.%Y")
            row[1] = dt.datetime.strptime(row[1], "%d.%m.%Y")
            row[6] = float(row[6].replace(",", "."))
    book.sheets[wb.BANK_SHEET].range(f"A{wb.BANK_FIRST_ROW}").value = [[v or None for v in r] for r in rows]


def _expected_match(statement: Path):
    from xlcredit.jobs.cashapp import run_match

    return run_match([statement], FolderBook(None), as_of=SAMPLE_AS_OF)


def _matches(book: Book) -> tuple[list[str], list[list[object]]]:
    return _table(book, "Matches", wb.OUTPUT_SHEETS["Matches"].header_row)


@pytest.mark.parametrize("typed", [False, True])
def test_match_button_proposes_what_the_command_proposes_for_a_pasted_export(book: Book, typed: bool):
    _paste_export(book, typed=typed)
    excel.match_bank(book, as_of=SAMPLE_AS_OF)
    expected = _expected_match(FIXTURES / "export.csv")
    assert book.app.alerts[0].startswith(
        f"{len(expected.proposals)} transaction(s) as of 2026-10-31: {expected.count('auto')} matched (ticked on the "
        f"Matches sheet), {expected.count('review')} for review")
    header, rows = _matches(book)
    assert header == ["Accept", "Bank reference", "Date", "Amount", "Currency", "Payer", "Customer ID", "Invoices",
                      "Confidence", "Status", "Reason", "Source"]
    got = [(r[1], r[6], r[7], r[9], r[0]) for r in rows]
    want = [(p.transaction.bank_reference, p.customer_id or None, " ".join(p.invoices) or None, p.status,
             True if p.status == "auto" else None) for p in expected.proposals]
    assert got == want
    assert [r[3] for r in rows] == [float(p.transaction.amount) for p in expected.proposals]
    assert expected.count("auto") > 0 and all(r[11].startswith("Bank sheet line ") for r in rows)


def test_match_button_reads_the_statement_file_named_on_the_bank_sheet(book: Book, tmp_path: Path):
    shutil.copy(FIXTURES / "statement.camt053.xml", tmp_path / "statement.camt053.xml")
    book.sheets[wb.BANK_SHEET].range("B3").value = "statement.camt053.xml"    # beside the workbook
    excel.match_bank(book, as_of=SAMPLE_AS_OF)
    expected = _expected_match(FIXTURES / "statement.camt053.xml")
    _header, rows = _matches(book)
    assert [(r[1], r[6], r[9]) for r in rows] == [(p.transaction.bank_reference, p.customer_id or None, p.status)
                                                  for p in expected.proposals]
    book.sheets[wb.BANK_SHEET].range("B3").value = "no-such-statement.xml"
    book.app.alerts.clear()
    excel.match_bank(book, as_of=SAMPLE_AS_OF)
    assert book.app.alerts[0].startswith("#XLC! Statement file: not found: ")


def test_match_and_apply_on_an_empty_bank_sheet_say_what_to_do(book: Book):
    excel.apply_bank_matches(book)
    assert book.app.alerts == ["Nothing to apply: press Match Bank first (the Matches sheet lists no matches)."]
    excel.match_bank(book, as_of=SAMPLE_AS_OF)
    assert book.app.alerts[1].startswith("#XLC! Bank: sheet is empty: paste a bank export from A6")


def test_apply_matches_appends_exactly_the_ticked_ones_once(book: Book):
    """Match, untick one confident match, tick one reviewed match, Apply: the Payments table gains exactly the rows
    ``xlcredit match --apply`` makes for those transactions (one per invoice, with invoice ref. and bank reference);
    Apply again changes nothing; Match again shows them as already applied."""
    from dataclasses import replace

    from xlcredit.jobs.cashapp import payment_rows

    _paste_export(book, typed=False)
    excel.match_bank(book, as_of=SAMPLE_AS_OF)
    expected = {p.transaction.bank_reference: p for p in _expected_match(FIXTURES / "export.csv").proposals}
    sheet = book.sheets["Matches"]
    header_row = wb.OUTPUT_SHEETS["Matches"].header_row
    _header, rows = _matches(book)
    auto = [i for i, r in enumerate(rows) if r[9] == "auto"]
    review = [i for i, r in enumerate(rows) if r[9] == "review" and r[6] and r[7]]
    assert len(auto) >= 3
    untick = auto[1]
    sheet.range(f"A{header_row + 1 + untick}").value = False
    accepted = [rows[i][1] for i in auto if i != untick]
    if review:                                      # a reviewed match the user accepts
        sheet.range(f"A{header_row + 1 + review[0]}").value = "x"
        accepted.append(rows[review[0]][1])
    before = book.table_rows("Payments")
    excel.apply_bank_matches(book)
    after = book.table_rows("Payments")
    assert after[:len(before)] == before                                    # nothing above changed
    added = after[len(before):]
    want = payment_rows([replace(p, status="auto") for ref, p in expected.items() if ref in accepted], set())
    head = [wb.field_name(str(h)) for h in book.table("Payments").header_row_range.value]
    got = [{k: v for k, v in zip(head, r, strict=True)} for r in added]
    assert [(g["payment_id"], g["customer_id"], g["payment_date"].date().isoformat(), g["amount"], g["currency"],
             g["invoice_ref"], g["bank_reference"]) for g in got] == [
        (w["payment_id"], w["customer_id"], w["payment_date"], float(w["amount"]), w["currency"], w["invoice_ref"],
         w["bank_reference"]) for w in want]
    assert rows[untick][1] not in {g["bank_reference"] for g in got}
    assert book.app.alerts[-1].startswith(f"{len(want)} payment row(s) appended to the Payments table for "
                                          f"{len(accepted)} transaction(s); 0 ticked")
    excel.apply_bank_matches(book)                                           # again: nothing changes
    assert book.table_rows("Payments") == after
    assert book.app.alerts[-1].startswith(f"0 payment row(s) appended to the Payments table for 0 transaction(s); "
                                          f"{len(accepted)} ticked transaction(s) already applied earlier")
    excel.match_bank(book, as_of=SAMPLE_AS_OF)                               # matched again: already applied
    _header, again = _matches(book)
    status = {r[1]: (r[9], r[0]) for r in again}
    assert all(status[ref] == ("duplicate", None) for ref in accepted)
    assert status[rows[untick][1]] == ("auto", True)


# =========================================================================== the Policy check block (Refresh)
def test_policy_check_values_fill_the_block_and_count_the_rest():
    from xlcredit.core.policy_check import Finding

    assert wb.policy_check_values([]) == {"policy_check": "No conflicts found", **{
        f"policy_check{i}_{part}": None for i in range(1, len(wb.POLICY_CHECK_ROWS) + 1) for part in ("level", "text")}}
    findings = [Finding("error" if k < 2 else "warning", f"c{k}", f"Sentence {k}.") for k in range(9)]
    values = wb.policy_check_values(findings)
    slots = len(wb.POLICY_CHECK_ROWS)
    assert values["policy_check"] == "2 errors, 7 warnings"
    assert [values[f"policy_check{i}_text"] for i in range(1, slots)] == [f"Sentence {k}." for k in range(slots - 1)]
    assert values["policy_check1_level"] == "Error" and values["policy_check3_level"] == "Warning"
    assert values[f"policy_check{slots}_level"] == "More"
    assert values[f"policy_check{slots}_text"] == (f"… and {9 - slots + 1} more: run xlcredit policy-check to see "
                                                   "them all")
    one = wb.policy_check_values(findings[2:3])
    assert one["policy_check"] == "1 warning" and one["policy_check2_text"] is None


def test_refresh_button_writes_the_policy_checks_findings_on_the_dashboard(book: Book):
    """The seed's rule as written (limit basis 'share': 15 % of purchases, + 20 % for grade A) against Net 90 and
    Net 60: the refresh writes the policy check's sentences — the ones xlcredit policy-check prints — into the
    Dashboard's Policy check block, in words (no setting names)."""
    from tests.test_plain_words import setting_names
    from xlcredit.core.policy_check import check_policy
    from xlcredit.jobs.book import read_book

    _set_policy(book, limits__basis="share")
    excel.refresh_ageing(book, as_of=SAMPLE_AS_OF)
    xb = excel.XlwingsBook(book)
    data = read_book(xb.read_tables(), xb.read_policy_rows())
    findings = check_policy(data.policy, data.customers, data.ledger, data.fx, SAMPLE_AS_OF)
    assert any(f.level == "error" and "Net 90" in f.message for f in findings)
    dash = book.sheets[wb.DASHBOARD_SHEET]
    rows = wb.POLICY_CHECK_ROWS
    errors = sum(1 for f in findings if f.level == "error")
    assert dash.cell(f"C{wb.POLICY_CHECK_ROW}").startswith(f"{errors} error")
    shown = [(dash.cell(f"B{r}"), dash.cell(f"C{r}")) for r in rows[:len(findings)]]
    assert shown == [(f.level.capitalize(), f.message) for f in findings][:len(rows)]
    assert setting_names(" ".join(str(t) for _lvl, t in shown)) == []
    _set_policy(book, limits__basis="terms")                      # the shipped basis: the block is cleared
    excel.refresh_ageing(book, as_of=SAMPLE_AS_OF)
    assert dash.cell(f"C{wb.POLICY_CHECK_ROW}") == wb.NO_CONFLICTS
    assert all(dash.cell(f"B{r}") is None and dash.cell(f"C{r}") is None for r in rows)


def test_refresh_of_the_workbook_file_says_no_conflicts_found(tmp_path: Path):
    """``xlcredit refresh CreditControl.xlsm`` (the file writer) fills the same block; the built file shows the
    sample's check already."""
    import openpyxl
    from typer.testing import CliRunner

    from xlcredit.cli import app

    copy = tmp_path / "CreditControl.xlsm"
    shutil.copy(build.DEFAULT_OUT, copy)
    ws = openpyxl.load_workbook(copy, data_only=True)[wb.DASHBOARD_SHEET]
    assert ws[f"B{wb.POLICY_CHECK_ROW}"].value == "Policy check"
    assert ws[f"C{wb.POLICY_CHECK_ROW}"].value == wb.NO_CONFLICTS          # the build's preview
    run = CliRunner().invoke(app, ["refresh", str(copy), "--as-of", "2026-10-31", "--db", str(tmp_path / "c.db")])
    assert run.exit_code == 0, run.output
    ws = openpyxl.load_workbook(copy, data_only=True)[wb.DASHBOARD_SHEET]
    assert ws[f"C{wb.POLICY_CHECK_ROW}"].value == wb.NO_CONFLICTS
    assert all(ws[f"C{r}"].value is None for r in wb.POLICY_CHECK_ROWS)


def test_the_matches_written_into_the_file_show_accept_as_true(tmp_path: Path):
    """Through the file writer the Accept column holds TRUE/blank cells with a TRUE/FALSE format (LibreOffice would
    show a bare boolean as 1)."""
    import openpyxl

    copy = tmp_path / "CreditControl.xlsm"
    shutil.copy(build.DEFAULT_OUT, copy)
    proposals = _expected_match(FIXTURES / "export.csv").proposals
    wb.write_outputs(copy, {"Matches": excel.matches_frame(proposals)})
    ws = openpyxl.load_workbook(copy)["Matches"]
    top = wb.OUTPUT_SHEETS["Matches"].header_row
    accept = [ws.cell(top + 1 + k, 1) for k in range(len(proposals))]
    assert [c.value for c in accept] == [True if p.status == "auto" else None for p in proposals]
    assert {c.number_format for c in accept if c.value} == {wb.NUMBER_FORMATS["bool"]}
    assert ws.cell(top, 2).value == "Bank reference" and ws.cell(top + 1, 9).number_format == "0.0%"


# --------------------------------------------------------------------------- found by a second reader (session 4)
def _export_rows() -> list[list[object]]:
    return [line.split(";") for line in (FIXTURES / "export.csv").read_text(encoding="utf-8").splitlines()]


def test_a_statement_pasted_twice_keeps_the_first_rows_tick(book: Book):
    """Two overlapping exports pasted one below the other: the transaction is listed again as a duplicate (never
    ticked); Apply still applies the first, ticked row — it was silently skipped when the duplicate's blank tick
    won."""
    rows = _export_rows()
    rows.append(list(rows[1]))
    ref = str(rows[1][2])
    book.sheets[wb.BANK_SHEET].range(f"A{wb.BANK_FIRST_ROW}").value = [[v or None for v in r] for r in rows]
    excel.match_bank(book, as_of=SAMPLE_AS_OF)
    header, shown = _matches(book)
    listed = [(r[header.index("Accept")], r[header.index("Status")]) for r in shown
              if r[header.index("Bank reference")] == ref]
    assert listed == [(True, "auto"), (None, "duplicate")]
    before = len(book.table_rows("Payments"))
    excel.apply_bank_matches(book)
    added = book.table_rows("Payments")[before:]
    assert any(r[-1] == ref for r in added), book.app.alerts[-1]


def test_a_second_match_leaves_no_rows_of_the_first(book: Book):
    """Match Bank on a long statement, then on a short one: the Matches sheet shows the short one only (the
    Accept column has blanks, where clearing by the first column stopped)."""
    rows = _export_rows()
    bank = book.sheets[wb.BANK_SHEET]
    bank.range(f"A{wb.BANK_FIRST_ROW}").value = [[v or None for v in r] for r in rows]
    excel.match_bank(book, as_of=SAMPLE_AS_OF)
    assert len(_matches(book)[1]) == len(rows) - 1
    for key in [k for k in bank.grid if k[0] >= wb.BANK_FIRST_ROW]:
        bank.grid.pop(key)
    bank.range(f"A{wb.BANK_FIRST_ROW}").value = [[v or None for v in r] for r in rows[:4]]
    excel.match_bank(book, as_of=SAMPLE_AS_OF)
    header, shown = _matches(book)
    assert [r[header.index("Bank reference")] for r in shown] == [r[2] for r in rows[1:4]]


def test_numeric_bank_references_read_back_as_numbers_still_apply(book: Book):
    """Excel keeps a text of digits written into a General cell as a number (2026000023 → 2026000023.0): the
    references, customer ids and invoice numbers read back from the Matches sheet are compared as their digits."""
    rows = _export_rows()
    for row in rows[1:]:
        row[2] = str(row[2]).replace("BNK", "2026")
    book.sheets[wb.BANK_SHEET].range(f"A{wb.BANK_FIRST_ROW}").value = [[v or None for v in r] for r in rows]
    excel.match_bank(book, as_of=SAMPLE_AS_OF)
    sheet = book.sheets["Matches"]
    header_row = wb.OUTPUT_SHEETS["Matches"].header_row
    turned = 0
    for (r, c), v in list(sheet.grid.items()):
        if r > header_row and isinstance(v, str) and v.isdigit():
            sheet.grid[(r, c)] = float(v)
            turned += 1
    assert turned >= 40
    ticked = sum(1 for r in _matches(book)[1] if r[0] is True)
    before = len(book.table_rows("Payments"))
    excel.apply_bank_matches(book)
    assert f"for {ticked} transaction(s)" in book.app.alerts[-1]
    assert len(book.table_rows("Payments")) > before
    excel.apply_bank_matches(book)   # and never twice
    assert book.app.alerts[-1].startswith("0 payment row(s) appended")


def test_ids_on_the_matches_sheet_and_the_payments_bank_reference_are_text_cells():
    """The text format (@) keeps references such as 000123 or 20260000000000023 as typed in Excel."""
    from openpyxl import load_workbook

    book = load_workbook(build.DEFAULT_OUT, keep_vba=True)
    matches = book["Matches"]
    header_row = wb.OUTPUT_SHEETS["Matches"].header_row
    heads = {c.value: c.column_letter for c in matches[header_row]}
    for head in ("Bank reference", "Customer ID", "Invoices"):
        assert matches.column_dimensions[heads[head]].number_format == "@", head


def test_policy_audit_of_six_months_keeps_the_grade_table_out_of_the_chart(book: Book):
    """A period of 6 month ends: the chart's 12 month rows hold the 6 months and blanks, the grade table starts
    where it does for a year (it was pulled up into the chart's range and charted as sales held)."""
    sheet = book.sheets["Policy Audit"]
    sheet.range("B4").value = dt.datetime(2026, 5, 1)
    sheet.range("B5").value = dt.datetime(2026, 10, 31)
    excel.policy_audit(book, as_of=SAMPLE_AS_OF)
    assert "(6 month ends)" in book.app.alerts[0]
    grid = sheet.grid
    firsts = [grid.get((r, 1)) for r in wb.AUDIT_MONTH_ROWS]
    assert all(isinstance(v, dt.datetime) for v in firsts[:6]) and firsts[6:] == [None] * 6
    assert all(grid.get((r, c)) is None for r in wb.AUDIT_MONTH_ROWS[6:] for c in range(1, 9))
    assert grid.get((wb.AUDIT_MONTHS_HEADER_ROW + 12 + 2, 1)) == "Policy"
