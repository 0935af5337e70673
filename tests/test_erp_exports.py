"""Real ERP exports through ``xlcredit age`` (issue 14): the fixtures in tests/fixtures/erp/ (made by
make_fixtures.py there, each shaped after the system's documented export) aged as of 2026-10-31 by due date,
with every figure worked by hand below, and one test per problem a new user met with them.

Buckets (shipped policy, ageing.bounds 0, 30, 60, 90, 180): Current = not yet due, 1-30, 31-60, 61-90,
91-180, 180+ days past the due date. A negative line of an open-item export is a credit applied to the
customer's oldest open item first (the allocation rule, xlcredit/core/openitems.py).
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from xlcredit.cli import app
from xlcredit.core.errors import XlcError
from xlcredit.io.ledger import load_ledger, load_ledger_files

ERP = Path(__file__).parent / "fixtures" / "erp"
WIDE = {"COLUMNS": "250", "NO_COLOR": "1"}
LABELS = ["Current", "1-30", "31-60", "61-90", "91-180", "180+"]
D = Decimal


def run(*args: str):
    return CliRunner().invoke(app, list(args), env=WIDE)


def aged(tmp_path, *args: str) -> tuple[dict[tuple[str, str], dict[str, Decimal]], object]:
    """Run ``xlcredit age … --as-of 2026-10-31 --out`` and read back (customer, currency) → buckets and open."""
    out = tmp_path / "ageing.csv"
    result = run(*args, "--as-of", "2026-10-31", "--out", str(out))
    assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    table = {(r["customer_id"], r["currency"]): {k: D(r[k]) for k in [*LABELS, "open_total"] if r[k]}
             for r in rows}
    return table, result


def figures(**buckets: str) -> dict[str, Decimal]:
    """Bucket figures as the ageing writes them: every bucket (0 where not given) and the open total."""
    names = {"current": "Current", "d1_30": "1-30", "d31_60": "31-60", "d61_90": "61-90", "d91_180": "91-180",
             "d180": "180+"}
    out = {label: D("0.00") for label in LABELS}
    out.update({names[k]: D(v) for k, v in buckets.items()})
    out["open_total"] = sum(out.values(), D("0.00"))
    return out


# --------------------------------------------------------------------------- each fixture, aged by hand
def test_erpnext_accounts_receivable_is_aged_on_its_outstanding_amounts(tmp_path):
    """ERPNext Accounts Receivable (dd-mm-yyyy; 15-09-2026 settles day first):
    CUST-0001: ACC-SINV-2026-00011 outstanding 1,000.00 due 15 Oct → 16 days → 1-30;
               ACC-SINV-2026-00019 500.00 due 2 Nov → Current.                            open 1,500.00
    CUST-0002: ACC-SINV-2026-00007 outstanding 700.00 due 19 Aug → 73 days → 61-90, less the return's
               −50.00 (a credit, to the oldest item) = 650.00.                            open   650.00
    The "Total" row is skipped; EUR total 1,500 + 650 = 2,150.00."""
    table, result = aged(tmp_path, "age", str(ERP / "erpnext_accounts_receivable.csv"))
    assert table[("CUST-0001", "EUR")] == figures(current="500.00", d1_30="1000.00")
    assert table[("CUST-0002", "EUR")] == figures(d61_90="650.00")
    assert "2,150.00" in result.stdout
    assert "open-item export: ageing column 'Outstanding Amount' (not the gross 'Invoiced Amount'); no payments " \
           "needed" in result.stderr
    assert "'Posting Date' day first (inferred: '15-09-2026')" in result.stderr
    assert "skipped 1 total or subtotal row" in result.stderr


def test_odoo_invoice_list_partner_names_matched_to_the_customers_table(tmp_path):
    """Odoo (Partner is a name; US dates, 08/31/2026 settles month first; Amount Due is what is open):
    Azure Interior EUR: 1,500.00 due 30 Sep → 31 days → 31-60; 400.00 due 19 Nov → Current.  open 1,900.00
    Deco Addict USD: 3,000.00 due 15 Oct → 16 days → 1-30; INV/2026/00028 paid (0.00 due).  open 3,000.00
    With an FX rate of 0.9: 3,000 USD × 0.9 = 2,700.00 EUR; EUR total 1,900 + 2,700 = 4,600.00.
    The customers table names them K-AZ and K-DA."""
    (tmp_path / "fx_rates.csv").write_text("date,currency,rate\n2026-10-01,USD,0.9\n", encoding="utf-8")
    table, result = aged(tmp_path, "age", str(ERP / "odoo_invoices.csv"), str(tmp_path / "fx_rates.csv"),
                         "--customers", str(ERP / "odoo_customers.csv"))
    assert table[("K-AZ", "EUR")] == figures(current="400.00", d31_60="1500.00")
    assert table[("K-DA", "USD")] == figures(d1_30="3000.00")
    assert "4,600.00" in result.stdout
    assert "customer names matched to the customers table: 'Azure Interior' → K-AZ, 'Deco Addict' → K-DA" \
        in result.stderr
    assert "unknown customer" not in result.stdout
    alone, result = aged(tmp_path, "age", str(ERP / "odoo_invoices.csv"))   # no customers table: names are the ids
    assert set(alone) == {("Azure Interior", "EUR"), ("Deco Addict", "USD")}
    assert "open-item export: ageing column 'Amount Due' (not the gross 'Total')" in result.stderr


def test_sap_fbl5n_line_items_with_decimal_commas_trailing_minus_and_cleared_items(tmp_path):
    """SAP FBL5N (semicolon list, 2.500,00 and 500,00- for a payment on account, dd.mm.yyyy):
    100100 EUR: 1800000101 2,500.00 due 1 Oct → 30 days → 1-30, less the payment on account 500.00
                (to the oldest item) = 2,000.00; 1800000102 1,000.00 due 15 Nov → Current.   open 3,000.00
    100200 USD: 1800000090 750.00 due 5 Jul → 118 days → 91-180; 1800000080 and its payment are cleared
                (Clearing Date 20.06.2026): skipped.                                          open   750.00"""
    table, result = aged(tmp_path, "age", str(ERP / "sap_fbl5n.csv"))
    assert table[("100100", "EUR")] == figures(current="1000.00", d1_30="2000.00")
    assert table[("100200", "USD")] == figures(d91_180="750.00")
    assert "2 cleared items ('Clearing Date' filled)" in result.stderr
    assert "'Amount in Doc. Curr.' decimal comma (1.234,56)" in result.stderr


def test_quickbooks_open_invoices_with_title_rows_customer_headings_and_totals(tmp_path):
    """QuickBooks Online Open Invoices (US company: the policy's currency is USD; $ amounts; mm/dd/yyyy):
    Acme Corp: 1001 open 1,250.00 due 10/15 → 16 days → 1-30, less Credit Memo 1006 (−100.00) = 1,150.00;
               1004 600.00 due 11/04 → Current.                                            open 1,750.00
    Bolt & Co: 0998 open 800.00 (of 2,000.00) due 07/30 → 93 days → 91-180.                open   800.00
    Total 1,750 + 800 = 2,550.00 — the report's own TOTAL Open Balance."""
    table, result = aged(tmp_path, "--policy", str(ERP / "us_policy.toml"), "age",
                         str(ERP / "quickbooks_open_invoices.csv"))
    assert table[("Acme Corp", "USD")] == figures(current="600.00", d1_30="1150.00")
    assert table[("Bolt & Co", "USD")] == figures(d91_180="800.00")
    assert "2,550.00" in result.stdout
    assert "skipped 3 title rows above the header, 2 blank rows, 2 customer headings, 1 line of text without a " \
           "date (a note, a footer), 3 total and subtotal rows" in result.stderr


def test_xero_aged_receivables_detail_needs_the_date_order_and_then_ages(tmp_path):
    """Xero Aged Receivables Detail, a UK organisation: every date has both parts ≤ 12, so nothing in the file
    tells 05/08/2026 (5 August) from 8 May. Refused naming the column, two examples and the option; with
    --dates day-first:
    Contoso Ltd: INV-0101 1,200.00 due 4 Sep → 57 days → 31-60; INV-0117 300.00 due 9 Nov → Current.  1,500.00
    Fabrikam Pty: INV-0042 450.50 due 1 Apr → 213 days → 180+, less CN-0009 50.50 = 400.00.            400.00"""
    refused = run("age", str(ERP / "xero_aged_receivables_detail.csv"), "--as-of", "2026-10-31")
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        "error: Invoice Date: dates are ambiguous: '05/08/2026' and '02/03/2026' could be day first or month "
        "first, and no date in the file settles it; say which with --dates day-first or --dates month-first")
    table, result = aged(tmp_path, "age", str(ERP / "xero_aged_receivables_detail.csv"), "--dates", "day-first")
    assert table[("Contoso Ltd", "EUR")] == figures(current="300.00", d31_60="1200.00")
    assert table[("Fabrikam Pty", "EUR")] == figures(d180="400.00")
    assert "1,900.00" in result.stdout
    assert "2 accounts aged, no problems" in result.stdout


def test_kingdee_receivables_xlsx_in_chinese_on_a_sheet_named_by_its_contents(tmp_path):
    """Kingdee/Yonyou 应收账款 (.xlsx, sheet 应收账款 after a title row; 币别 人民币 = CNY, 美元 = USD;
    未收金额 is what is open):
    C001 CNY: AR-2026-0801 8,000.00 due 31 Aug → 61 days → 61-90; AR-2026-1005 5,650.00 due 4 Nov → Current.
              open 13,650.00
    C002 USD: AR-2026-0615 2,000.00 due 15 Jul → 108 days → 91-180.  The 合计 row is skipped."""
    table, result = aged(tmp_path, "age", str(ERP / "kingdee_receivables.xlsx"))
    assert table[("C001", "CNY")] == figures(current="5650.00", d61_90="8000.00")
    assert table[("C002", "USD")] == figures(d91_180="2000.00")
    assert "invoices: sheet '应收账款' of kingdee_receivables.xlsx (by its columns)" in result.stderr
    assert "open-item export: ageing column '未收金额' (not the gross '价税合计')" in result.stderr


# --------------------------------------------------------------------------- the problems of issue 14, one by one
def test_outstanding_column_is_aged_and_named_never_the_gross_silently():
    """Problem 1: with both 'Total' (gross) and 'Amount Due' the gross used to be aged without a word."""
    frame = pd.DataFrame({"Customer": ["K1"], "Number": ["I1"], "Invoice Date": ["2026-09-01"],
                          "Due Date": ["2026-10-01"], "Total": ["1000.00"], "Amount Due": ["250.00"]})
    load = load_ledger(frame)
    assert [i.amount for i in load.ledger.invoices] == [D("250.00")]
    assert "invoices (DataFrame): open-item export: ageing column 'Amount Due' (not the gross 'Total'); no " \
           "payments needed" in load.notes
    with_payments = load_ledger(frame, pd.DataFrame({"Customer": ["K1"], "Payment Date": ["2026-09-15"],
                                                     "Amount": ["100"]}))
    assert [i.amount for i in with_payments.ledger.invoices] == [D("1000.00")]   # the payments apply to the gross
    assert any("column 'Amount Due' not used: payments or credit notes are loaded, so the gross 'Total' is aged"
               in n for n in with_payments.notes)


def test_chinese_header_kehu_is_the_customer():
    """Problem 2: a header 客户 was not recognised (the customer column was reported missing)."""
    frame = pd.DataFrame({"客户": ["上海华东"], "单据编号": ["AR-1"], "单据日期": ["2026-09-01"],
                          "到期日": ["2026-10-01"], "金额": ["100"], "币别": ["人民币"]})
    (invoice,) = load_ledger(frame).ledger.invoices
    assert (invoice.customer_id, invoice.invoice_no, invoice.currency) == ("上海华东", "AR-1", "CNY")


def test_a_workbook_sheet_is_found_by_its_columns_whatever_its_name(tmp_path):
    """Problem 3: an .xlsx whose only ledger sheet is 应收账款 was refused with 'name it invoices.csv'."""
    load = load_ledger_files([ERP / "kingdee_receivables.xlsx"])
    assert len(load.ledger.invoices) == 3
    assert load.notes[0] == "invoices: sheet '应收账款' of kingdee_receivables.xlsx (by its columns)"
    empty = tmp_path / "notes.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["just a note"])
    wb.save(empty)
    with pytest.raises(XlcError, match=r"^ledger file: no sheet of notes.xlsx looks like a ledger table"):
        load_ledger_files([empty])


def test_day_first_dates_all_under_13_are_read_with_the_option_and_never_dropped_silently(tmp_path):
    """Problem 4: dd/mm/yyyy where every day ≤ 12 were each refused as ambiguous and the rows dropped, with no
    way to say "day first". Now the column is refused once (no row dropped) or read as the user says; a 13
    anywhere settles it; a bad due date gives one message, not a second "is empty … no terms" one."""
    path = tmp_path / "invoices.csv"
    path.write_text("Customer,Invoice No,Amount,Invoice Date,Due Date\n"
                    "K1,I1,100,01/02/2026,03/03/2026\nK1,I2,200,05/02/2026,07/03/2026\n", encoding="utf-8")
    with pytest.raises(XlcError, match=r"^Invoice Date: dates are ambiguous: '01/02/2026' and '05/02/2026' could "
                                       r"be day first or month first.*--dates day-first"):
        load_ledger(path)
    load = load_ledger(path, dates="day-first")
    assert [(i.invoice_date, i.due_date) for i in load.ledger.invoices] == [
        (dt.date(2026, 2, 1), dt.date(2026, 3, 3)), (dt.date(2026, 2, 5), dt.date(2026, 3, 7))]
    assert load_ledger(path, dates="month-first").ledger.invoices[0].invoice_date == dt.date(2026, 1, 2)
    path.write_text("Customer,Invoice No,Amount,Invoice Date,Due Date\n"
                    "K1,I1,100,01/02/2026,03/03/2026\nK1,I2,200,13/02/2026,31/02/2026\n", encoding="utf-8")
    load = load_ledger(path)   # 13/02/2026: day first for the whole file
    assert load.ledger.invoices[0].invoice_date == dt.date(2026, 2, 1)
    assert [(p.row, p.column, p.problem) for p in load.problems] == [
        (3, "Due Date", "is not a valid date (got '31/02/2026')")]
    with pytest.raises(XlcError, match=r"^--dates: must be day-first, month-first, iso or auto"):
        load_ledger(path, dates="sideways")


def test_folder_mode_skips_title_rows_of_excel_saved_files(tmp_path):
    """Problem 5: a folder book (FolderBook: pandas reads the files) took a report's title row for the header.
    Excel saves every CSV row to the same width, so the title is the frame's column names: the header is
    found below it, for the ledger and the customers table, with the file's row numbers in problems."""
    from xlcredit.jobs.book import FolderBook, read_book

    (tmp_path / "customers.csv").write_text("Customer list 31 Oct 2026,,\ncustomer_id,name,country\n"
                                            "K1,Acme,DE\n", encoding="utf-8")
    (tmp_path / "invoices.csv").write_text(
        "Open items as of 31 Oct 2026,,,,,\n,,,,,\nCustomer,Invoice No,Currency,Amount,Invoice Date,Due Date\n"
        "K1,I1,EUR,100.00,2026-09-01,2026-10-01\nK1,I2,EUR,abc,2026-09-02,2026-10-02\nTotal,,,100.00,,\n",
        encoding="utf-8")
    data = read_book(FolderBook(tmp_path).read_tables(), None)
    assert [c.customer_id for c in data.customers] == ["K1"]
    assert [i.invoice_no for i in data.ledger.invoices] == ["I1"]
    assert [(p.row, p.column, p.problem) for p in data.problems] == [(5, "Amount", "is not a number (got 'abc')")]


def test_folder_mode_skips_title_rows_of_files_not_saved_by_excel(tmp_path):
    """A report's CSV written by its own system: the title line is one field wide, fewer than the header. The
    folder book reads each file as the ledger reader does (title rows skipped, the file's row numbers kept)
    instead of handing it to pandas, which refused the line ("Expected 1 fields … saw 6")."""
    from xlcredit.jobs.book import FolderBook, read_book

    (tmp_path / "customers.csv").write_text("Customer list 31 Oct 2026\ncustomer_id,name,country\nK1,Acme,DE\n",
                                            encoding="utf-8")
    (tmp_path / "invoices.csv").write_text(
        "Open items as of 31 Oct 2026\n\nCustomer,Invoice No,Currency,Amount,Invoice Date,Due Date\n"
        "K1,I1,EUR,100.00,2026-09-01,2026-10-01\nK1,I2,EUR,abc,2026-09-02,2026-10-02\n", encoding="utf-8")
    data = read_book(FolderBook(tmp_path).read_tables(), None)
    assert [c.customer_id for c in data.customers] == ["K1"]
    assert [i.invoice_no for i in data.ledger.invoices] == ["I1"]
    assert [(p.row, p.column, p.problem) for p in data.problems] == [(5, "Amount", "is not a number (got 'abc')")]


def test_an_unknown_customer_is_aged_and_listed(tmp_path):
    """Problem 7: invoices of K999, missing from the customers table, are aged and listed:
    K999: 1,600.00 + 2,500.00 = 4,100.00 EUR in 2 open items."""
    (tmp_path / "customers.csv").write_text("customer_id,name\nK1,Acme\n", encoding="utf-8")
    (tmp_path / "invoices.csv").write_text(
        "customer_id,invoice_no,currency,amount,invoice_date,due_date\n"
        "K1,I1,EUR,100.00,2026-09-01,2026-10-01\nK999,I2,EUR,1600.00,2026-09-01,2026-10-01\n"
        "K999,I3,EUR,2500.00,2026-10-01,2026-11-30\n", encoding="utf-8")
    table, result = aged(tmp_path, "age", str(tmp_path / "invoices.csv"), str(tmp_path / "customers.csv"))
    assert table[("K999", "EUR")] == figures(current="2500.00", d1_30="1600.00")
    assert "unknown customer K999: 2 items, EUR 4,100 (aged above; not in the customers table)" in result.stdout
    assert "unknown customer K1" not in result.stdout


def test_amount_text_as_erp_exports_write_it():
    """Decimal comma and point, thousands separators, parentheses, trailing minus, currency inside amounts."""
    frame = pd.DataFrame({"Customer": ["K1"] * 3, "Invoice": ["A", "B", "C"], "Date": ["2026-09-01"] * 3,
                          "Due": ["2026-10-01"] * 3, "Amount": ["EUR 1.234,56", "1 000,5", "€12,00"]})
    assert [i.amount for i in load_ledger(frame).ledger.invoices] == [D("1234.56"), D("1000.50"), D("12.00")]
    frame["Amount"] = ["1,234.56 USD", "$1,000.50", "12"]
    load = load_ledger(frame)
    assert [(i.amount, i.currency) for i in load.ledger.invoices] == [
        (D("1234.56"), "USD"), (D("1000.50"), "EUR"), (D("12.00"), "EUR")]
    frame["Amount"], frame["Currency"] = ["(5.00)", "USD 7", "8.00-"], ["EUR", "EUR", "EUR"]
    assert [(p.row, p.problem) for p in load_ledger(frame).problems] == [
        (2, "must not be negative (got -5.00)"), (3, "is in USD, but the currency column says EUR"),
        (4, "must not be negative (got -8.00)")]
