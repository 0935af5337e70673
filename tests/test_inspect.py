"""``xlcredit inspect``: how each ERP fixture (tests/fixtures/erp/) is read — table, columns, dates, numbers,
rows — without ageing anything. The row counts are those of the files, counted by hand in each docstring."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from xlcredit.cli import app
from xlcredit.io.ledger import inspect_files

ERP = Path(__file__).parent / "fixtures" / "erp"
WIDE = {"COLUMNS": "250", "NO_COLOR": "1"}


def run(*args: str):
    return CliRunner().invoke(app, list(args), env=WIDE)


def test_inspect_every_fixture_names_its_table_columns_and_rows():
    """Rows below the header — ERPNext 5 (4 lines + Total); Odoo 4; SAP 6 (2 cleared); QuickBooks 12
    (2 headings, 4 lines, 3 totals, 2 blank, 1 footer); Xero 9 (2 headings, 4 lines, 2 + 1 totals);
    Kingdee 4 (3 lines + 合计); the customers 2. Usable = the lines (a credit line is usable: it is a
    credit); six tables are usable (the Kingdee notes sheet is not a table)."""
    result = run("inspect", *(str(ERP / name) for name in (
        "erpnext_accounts_receivable.csv", "odoo_invoices.csv", "sap_fbl5n.csv", "quickbooks_open_invoices.csv",
        "kingdee_receivables.xlsx", "odoo_customers.csv")))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "erpnext_accounts_receivable.csv: invoices" in out
    assert "'Party' → customer_id" in out and "'Outstanding Amount' → outstanding" in out
    assert "ignored: 'Receivable Account', 'Voucher Type', 'Paid Amount', 'Credit Note'" in out
    assert "rows: 5 read, 4 usable, skipped 1 total or subtotal row, 0 with problems" in out
    assert "dates in 'Invoice Date': month first (inferred: '08/31/2026')" in out
    assert "rows: 4 read, 4 usable, 0 with problems" in out
    assert "amounts in 'Amount in Doc. Curr.': decimal comma (1.234,56)" in out
    assert "rows: 6 read, 4 usable, skipped 1 title row above the header, 2 cleared items ('Clearing Date' filled)" \
        in out
    assert "rows: 12 read, 4 usable, skipped 3 title rows above the header, 2 blank rows, 2 customer headings, " \
           "1 line of text without a date (a note, a footer), 3 total and subtotal rows, 0 with problems" in out
    assert "kingdee_receivables.xlsx [应收账款]: invoices" in out
    assert "kingdee_receivables.xlsx [说明]: not recognised" in out
    assert "'未收金额' → outstanding" in out and "'币别' → currency" in out
    assert "odoo_customers.csv: customers" in out and "rows: 2 read, 2 usable" in out
    assert "6 usable tables in 6 files" in out


def test_inspect_shows_the_ambiguous_dates_and_the_first_problems(tmp_path):
    """Xero's dates settle nothing: the table's note is the refusal (naming the option); with --dates day-first
    it reads 9 rows, 4 usable. A bad file gets its problems listed, the first five."""
    refused = inspect_files([ERP / "xero_aged_receivables_detail.csv"])
    assert refused[0].table == "invoices" and refused[0].rows_loaded == 0
    assert "--dates day-first" in refused[0].notes[0]
    result = run("inspect", str(ERP / "xero_aged_receivables_detail.csv"), "--dates", "day-first")
    assert result.exit_code == 0, result.output
    assert "dates in 'Invoice Date': day first (as set)" in result.stdout
    assert "rows: 9 read, 4 usable, skipped 3 title rows above the header, 2 customer headings, 3 total and " \
           "subtotal rows, 0 with problems" in result.stdout
    bad = tmp_path / "invoices.csv"
    bad.write_text("customer_id,invoice_no,amount,invoice_date,due_date\n" +
                   "".join(f"K1,I{n},x{n},2026-01-01,2026-01-31\n" for n in range(7)), encoding="utf-8")
    result = run("inspect", str(bad))
    assert result.exit_code == 1   # nothing usable
    assert "problem: row 2, amount: 'x0': is not a number (got 'x0')" in result.stdout
    assert "… and 2 more problems" in result.stdout and "0 usable tables in 1 file" in result.stdout


def test_inspect_nothing_usable_exits_1(tmp_path):
    other = tmp_path / "notes.csv"
    other.write_text("memo,owner\nhello,me\n", encoding="utf-8")
    result = run("inspect", str(other))
    assert result.exit_code == 1
    assert "notes.csv: not recognised" in result.stdout and "not a ledger or customers table" in result.stdout
    missing = run("inspect", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "error: file: not found:" in missing.stderr
