"""Every letter and statement is reopened and read back before it is registered (issue 17, item 3).

The renderer is made to produce a broken file for one customer (monkeypatch): that customer's letter is a problem
with the reason, its files are removed and it is not registered; every other letter of the run is issued. The next
run, with the renderer whole again, issues the one that failed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from typer.testing import CliRunner

import xlcredit.jobs.letters as letters_job
import xlcredit.jobs.statements as statements_job
from xlcredit.cli import app
from xlcredit.data.sample import SAMPLE_AS_OF, SAMPLE_DIR
from xlcredit.io.store import CreditStore
from xlcredit.jobs.book import FolderBook
from xlcredit.jobs.letters import FOLDER_REGISTER_DB, PENDING_DIR, folder_book, run_letters
from xlcredit.jobs.statements import run_statements
from xlcredit.letters.render import render_docx, render_pdf
from xlcredit.letters.statement import render_statement_docx

BROKEN = "C008"   # a customer the sample duns on its own date (an English letter)


def _is(composed, customer_id: str) -> bool:
    return composed.recipient[-1].endswith(f": {customer_id}")    # the "Your reference: C008" line


def _letters_of(out, customer_id=None):
    rows = CreditStore(out / FOLDER_REGISTER_DB).register_rows(customer_id)
    return [r for r in rows if r["kind"] == "letter"]


def test_a_letter_word_cannot_open_is_a_problem_removed_and_not_registered(tmp_path, monkeypatch):
    monkeypatch.setattr(letters_job, "render_docx",
                        lambda c: b"PK\x03\x04 not a Word file" if _is(c, BROKEN) else render_docx(c))
    out = tmp_path / "letters"
    outcome = run_letters(folder_book(SAMPLE_DIR, out), SAMPLE_AS_OF, out)
    status = {r.customer_id: r.status for r in outcome.letters}
    assert status[BROKEN] == "failed"
    assert sum(s == "issued" for s in status.values()) == len(status) - 1 >= 5      # the rest of the run went on
    (problem,) = [p for p in outcome.problems if p.table == f"customer {BROKEN}"]
    assert (problem.row, problem.column, problem.value) == (0, "file", BROKEN)
    assert "cannot be opened as a Word document" in problem.problem and problem.problem.endswith("not registered")
    assert _letters_of(out, BROKEN) == []                                          # not registered ...
    assert not [f for f in out.iterdir() if f"_{BROKEN}_" in f.name]              # ... and its files removed
    assert not list((out / PENDING_DIR).iterdir())                                 # no marker left behind
    registered = {r["customer_id"] for r in _letters_of(out)}
    assert registered == {cid for cid, s in status.items() if s == "issued"}
    for r in _letters_of(out):
        assert (out / r["file_path"].rsplit("/", 1)[-1]).is_file()
    # the renderer whole again: the next run issues the one that failed, and only that one
    monkeypatch.setattr(letters_job, "render_docx", render_docx)
    again = run_letters(folder_book(SAMPLE_DIR, out), SAMPLE_AS_OF, out)
    assert {r.customer_id for r in again.letters if r.status == "issued"} == {BROKEN}
    assert len(_letters_of(out, BROKEN)) == 1


def _hollow(composed):
    """The letter with its words and figures gone: a PDF that opens and has a page, but says nothing."""
    return dataclasses.replace(composed, recipient=("",), salutation="", subject="", before=(), after=(), rows=(),
                               total_rows=())


def test_a_pdf_that_opens_but_does_not_show_the_letter_is_not_registered(tmp_path, monkeypatch):
    monkeypatch.setattr(letters_job, "render_pdf", lambda c: render_pdf(_hollow(c) if _is(c, BROKEN) else c))
    out = tmp_path / "letters"
    outcome = run_letters(folder_book(SAMPLE_DIR, out), SAMPLE_AS_OF, out)
    (problem,) = [p for p in outcome.problems if p.table == f"customer {BROKEN}"]
    assert ".pdf does not show the customer's name (" in problem.problem
    assert _letters_of(out, BROKEN) == [] and len(_letters_of(out)) == outcome.count("issued") >= 5


def test_the_command_lists_the_failed_letter_under_the_customer_without_a_row_number(tmp_path, monkeypatch):
    monkeypatch.setattr(letters_job, "render_docx",
                        lambda c: b"broken" if _is(c, BROKEN) else render_docx(c))
    result = CliRunner().invoke(app, ["letters", "--out", str(tmp_path / "letters")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if f"customer {BROKEN}" in ln)
    cells = [c.strip() for c in line.split("│")]
    assert cells[1:4] == [f"customer {BROKEN}", "", "file"]                  # no row number: it is not a table row
    assert "1 failed" in result.output and "1 problem" in result.output


def test_a_statement_that_cannot_be_opened_is_not_registered(tmp_path, monkeypatch):
    monkeypatch.setattr(statements_job, "render_statement_docx",
                        lambda c: b"broken" if _is(c, "C001") else render_statement_docx(c))
    out = tmp_path / "statements"
    outcome = run_statements(FolderBook(None, out / "db.sqlite"), dt.date(2026, 10, 1), dt.date(2026, 10, 31), out)
    status = {r.customer_id: r.status for r in outcome.results}
    assert status["C001"] == "failed" and sum(s == "written" for s in status.values()) == len(status) - 1 >= 5
    (problem,) = [p for p in outcome.problems if p.table == "customer C001"]
    assert "cannot be opened as a Word document" in problem.problem
    rows = CreditStore(out / "db.sqlite").register_rows()
    assert "C001" not in {r["customer_id"] for r in rows} and len(rows) == len(status) - 1
    assert not [f for f in out.iterdir() if "_C001_" in f.name]


def test_a_customer_the_portfolio_cannot_assess_is_labelled_with_the_customer_not_a_row():
    """A promise naming an invoice the customer does not have: the portfolio's problem, under the customer."""
    from decimal import Decimal

    from xlcredit.core.collections import Collections, Promise
    from xlcredit.core.ledger import Invoice, Ledger
    from xlcredit.core.policy import Policy
    from xlcredit.core.records import Customer

    customer = Customer("C1", name="Ostermoor Werkzeugbau AG", currency="EUR", relationship_start=dt.date(2019, 1, 1))
    ledger = Ledger((Invoice("C1", "INV-1", "EUR", Decimal("500.00"), dt.date(2026, 7, 1), dt.date(2026, 7, 31)),))
    records = Collections(promises=(Promise("C1", dt.date(2026, 11, 5), dt.date(2026, 10, 28), invoice_nos=("INV-9",),
                                            currency="EUR"),))
    _, _, problems = letters_job.plan_letters([customer], ledger, Policy(), SAMPLE_AS_OF, collections=records)
    (problem,) = problems
    assert (problem.table, problem.row, problem.column, problem.value) == ("customer C1", 0, "invoice_nos", "C1")
    assert "INV-9, not an invoice of C1" in problem.problem


def _sample_letter():
    from xlcredit.core.policy import Policy
    from xlcredit.jobs.letters import plan_letters
    from xlcredit.letters.render import compose

    book = FolderBook(SAMPLE_DIR, None)
    from xlcredit.jobs.book import read_book

    data = read_book(book.read_tables(), book.read_policy_rows(), Policy())
    letters, _actions, _problems = plan_letters(data.customers, data.ledger, data.policy, SAMPLE_AS_OF)
    return compose(letters[0], data.policy)


def test_the_check_finds_a_damaged_part_of_a_word_file_and_a_cut_pdf(tmp_path):
    """Bytes damaged inside one part of the .docx (its checksum no longer matches), and a PDF cut short, are each
    refused with the file's name; the whole files pass."""
    import zipfile

    import pytest

    from xlcredit.core.errors import XlcError
    from xlcredit.letters.check import check_written

    composed = _sample_letter()
    name, total = composed.recipient[0], composed.total_rows[-1][-1]
    docx, pdf = tmp_path / "l.docx", tmp_path / "l.pdf"
    docx.write_bytes(render_docx(composed))
    pdf.write_bytes(render_pdf(composed))
    check_written(docx, pdf, name=name, figures=[total])            # whole: passes

    data = bytearray(docx.read_bytes())
    with zipfile.ZipFile(docx) as package:
        info = package.getinfo("word/styles.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 10
    data[start:start + 4] = bytes(b ^ 0xFF for b in data[start:start + 4])
    broken = tmp_path / "broken.docx"
    broken.write_bytes(bytes(data))
    with pytest.raises(XlcError, match=r"broken\.docx cannot be opened as a Word document"):
        check_written(broken, pdf, name=name, figures=[total])

    cut = tmp_path / "cut.pdf"
    cut.write_bytes(pdf.read_bytes()[: len(pdf.read_bytes()) // 3])
    with pytest.raises(XlcError, match=r"cut\.pdf cannot be opened as a PDF"):
        check_written(docx, cut, name=name, figures=[total])
    with pytest.raises(XlcError, match=r"l\.docx does not show the total \(999,999\.99\)"):
        check_written(docx, pdf, name=name, figures=["999,999.99"])
