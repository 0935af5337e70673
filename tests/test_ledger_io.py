"""Reading the ledger (xlcredit.io.ledger): files, ERP column names, bad rows reported, good rows kept.

Row numbers in problems are those the user sees in the file (header = row 1); every bad row is
reported with its column, value and the problem, and every other row still loads.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd
import pytest

from xlcredit.core.ageing import age_ledger
from xlcredit.core.errors import XlcError
from xlcredit.core.fast.ageing import age_bulk, frames_to_arrays
from xlcredit.core.ledger import Invoice
from xlcredit.core.money import to_minor
from xlcredit.core.policy import Policy
from xlcredit.data.sample import SAMPLE_AS_OF, sample_path
from xlcredit.io.ledger import (
    load_fx_rates,
    load_ledger,
    load_ledger_files,
    load_ledger_frames,
    load_ledger_workbook,
)

D = Decimal


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


INVOICES_CSV = """customer_id,invoice_no,currency,amount,invoice_date,due_date,terms,disputed
C1,I1,EUR,100.00,2026-01-01,2026-01-31,Net 30,false
C1,I2,EUR,250.50,2026-01-05,,Net 60,true
C2,I3,USD,"1,000.10",2026-02-01,2026-03-03,,
"""
PAYMENTS_CSV = """payment_id,customer_id,payment_date,amount,currency,invoice_ref
P1,C1,2026-01-20,60.00,EUR,I1
P2,C2,2026-02-15,10.00,USD,
"""
CREDITS_CSV = """credit_note_no,customer_id,date,amount,currency,invoice_ref
N1,C1,2026-01-25,5.00,EUR,I2
"""
FX_CSV = """date,currency,rate
2026-01-31,USD,0.92
2026-02-28,USD,0.9
"""


@pytest.fixture
def ledger_dir(tmp_path):
    (tmp_path / "invoices.csv").write_text(INVOICES_CSV, encoding="utf-8")
    (tmp_path / "payments.csv").write_text(PAYMENTS_CSV, encoding="utf-8")
    (tmp_path / "credit_notes.csv").write_text(CREDITS_CSV, encoding="utf-8")
    (tmp_path / "fx_rates.csv").write_text(FX_CSV, encoding="utf-8")
    return tmp_path


# --------------------------------------------------------------------------- good files
def test_csv_files_load_into_records_with_derived_due_date(ledger_dir):
    load = load_ledger(ledger_dir / "invoices.csv", ledger_dir / "payments.csv", ledger_dir / "credit_notes.csv",
                       fx_rates=ledger_dir / "fx_rates.csv")
    assert load.problems == ()
    i1, i2, i3 = load.ledger.invoices
    assert i1 == Invoice("C1", "I1", "EUR", D("100.00"), day("2026-01-01"), day("2026-01-31"), "Net 30", False)
    # blank due date: 2026-01-05 + 60 days, flagged
    assert (i2.due_date, i2.due_date_derived, i2.disputed, i2.amount) == (day("2026-03-06"), True, True, D("250.50"))
    assert i3.amount == D("1000.10") and i3.currency == "USD" and not i3.disputed
    assert load.derived_due_dates == 1
    assert [p.payment_id for p in load.ledger.payments] == ["P1", "P2"]
    assert load.ledger.credit_notes[0].invoice_ref == "I2"
    assert load.fx is not None and load.fx.rate("USD", day("2026-02-10")) == D("0.92")


def test_load_ledger_files_tells_the_tables_apart_by_name(ledger_dir):
    load = load_ledger_files(sorted(ledger_dir.iterdir()))
    assert (len(load.ledger.invoices), len(load.ledger.payments), len(load.ledger.credit_notes)) == (3, 2, 1)
    assert load.fx is not None and set(load.sources) == {"invoices", "payments", "credit_notes", "fx_rates"}


def test_load_ledger_files_tells_the_tables_apart_by_columns(ledger_dir, tmp_path):
    other = tmp_path / "exports"
    other.mkdir()
    (other / "export1.csv").write_text(INVOICES_CSV, encoding="utf-8")
    (other / "export2.csv").write_text(PAYMENTS_CSV, encoding="utf-8")
    load = load_ledger_files([other / "export2.csv", other / "export1.csv"])
    assert (len(load.ledger.invoices), len(load.ledger.payments)) == (3, 2)
    (other / "mystery.csv").write_text("customer_id,amount\nC1,5\n", encoding="utf-8")
    with pytest.raises(XlcError, match=r"^ledger file: cannot tell which table mystery.csv is: name it invoices.csv"):
        load_ledger_files([other / "export1.csv", other / "mystery.csv"])
    with pytest.raises(XlcError, match=r"^ledger file: no invoices table among the files given"):
        load_ledger_files([ledger_dir / "payments.csv"])
    with pytest.raises(XlcError, match=r"^ledger file: two files for the invoices"):
        load_ledger_files([ledger_dir / "invoices.csv", other / "export1.csv"])


def test_erp_headers_are_understood_and_the_best_alias_wins():
    """A Business-Central-like export: Customer No., Document No., Document Date and Posting Date
    (document date wins), Due Date, Currency Code, Amount and Amount (LCY) (the latter ignored)."""
    frame = pd.DataFrame({
        "Customer No.": ["10000"], "Document No.": ["103001"], "Posting Date": ["2026-02-01"],
        "Document Date": ["2026-01-30"], "Due Date": ["2026-03-01"], "Currency Code": ["usd"],
        "Amount (LCY)": ["918.00"], "Amount": ["1000.00"], "Comment": ["ignored"],
    })
    (invoice,) = load_ledger(frame).ledger.invoices
    assert (invoice.customer_id, invoice.invoice_no, invoice.invoice_date, invoice.currency, invoice.amount) == \
        ("10000", "103001", day("2026-01-30"), "USD", D("1000.00"))
    payments = pd.DataFrame({"Debtor": ["10000"], "Value date": ["2026-02-10"], "Amount": ["400"],
                             "Curr": ["USD"], "Applies-to Doc. No.": ["103001"]})
    load = load_ledger(frame, payments)
    assert load.ledger.payments[0].invoice_ref == "103001" and load.ledger.payments[0].payment_id == "row 2"
    german = pd.DataFrame({"Kundennummer": ["K1", "K1"], "Belegnummer": ["R1", "R2"],
                           "Belegdatum": ["30.01.2026", "30.01.2026"], "Fälligkeit": ["01.03.2026", "01.03.2026"],
                           "Währung": ["EUR", "EUR"], "Betrag": ["1,250.00", "12,50"]})
    load = load_ledger(german)
    assert [(i.invoice_no, i.amount, i.invoice_date) for i in load.ledger.invoices] == [
        ("R1", D("1250.00"), day("2026-01-30"))]
    assert [str(p) for p in load.problems] == [
        "invoices row 3, Betrag: is not a number (got '12,50'; write decimals with a point, e.g. 1234.50)"]


def test_amount_lcy_alone_is_not_taken_for_the_amount():
    frame = pd.DataFrame({"Customer": ["C1"], "Invoice": ["I1"], "Date": ["2026-01-01"], "Due": ["2026-01-31"],
                          "Amount (LCY)": ["5"]})
    with pytest.raises(XlcError, match=r"^amount: column is missing from the invoices table \(found 'Customer', "
                                       r"'Invoice', 'Date', 'Due', 'Amount \(LCY\)'\); 'Amount \(LCY\)' is not used "
                                       r"because it is already in the company currency"):
        load_ledger(frame)


def test_missing_currency_column_means_the_company_currency_and_missing_due_needs_terms():
    frame = pd.DataFrame({"customer_id": ["C1"], "invoice_no": ["I1"], "amount": [10], "invoice_date": ["2026-01-01"],
                          "terms": ["Net 30"]})
    policy = Policy.from_mapping({"company.currency": "GBP"})
    (invoice,) = load_ledger(frame, policy=policy).ledger.invoices
    assert (invoice.currency, invoice.due_date, invoice.due_date_derived) == ("GBP", day("2026-01-31"), True)
    with pytest.raises(XlcError, match=r"^due_date: column is missing from the invoices table, and there is no terms "
                                       r"column to derive it from"):
        load_ledger(frame.drop(columns=["terms"]))
    with pytest.raises(XlcError, match=r"^payment_date: column is missing from the payments table"):
        load_ledger(frame, pd.DataFrame({"customer_id": ["C1"], "amount": [1]}))


def test_xlsx_workbook_with_ledger_sheets_and_a_title_row(tmp_path):
    """A workbook with Invoices (a title row above the header), Payments, Credit Notes and FX Rates
    sheets; dates as real Excel dates, amounts as numbers; row numbers are the sheet's own."""
    path = tmp_path / "ledger.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Invoices"
    ws.append(["Open items as of 31 Oct 2026"])
    ws.append(["Customer", "Invoice No", "Currency", "Amount", "Invoice Date", "Due Date", "Terms"])
    ws.append(["C1", "I1", "EUR", 100.1, dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 31), "Net 30"])
    ws.append(["C1", "I2", "EUR", "lots", dt.datetime(2026, 1, 2), dt.datetime(2026, 2, 1), "Net 30"])
    ws.append([1001, 2002, "EUR", 5, 46023, None, "Net 10"])     # numeric ids; Excel serial date 2026-01-01
    pay = wb.create_sheet("Payments")
    pay.append(["Payment ID", "Customer", "Payment Date", "Amount", "Currency", "Invoice Ref"])
    pay.append(["P1", "C1", dt.datetime(2026, 1, 15), 40, "EUR", "I1"])
    notes = wb.create_sheet("Credit Notes")
    notes.append(["Credit Note No", "Customer", "Date", "Amount", "Currency"])
    notes.append(["N1", "1001", dt.datetime(2026, 1, 3), 1.25, "EUR"])
    fx = wb.create_sheet("FX Rates")
    fx.append(["Date", "Currency", "Rate"])
    fx.append([dt.datetime(2026, 1, 1), "USD", 0.9])
    wb.save(path)

    load = load_ledger_workbook(path)
    assert [str(p) for p in load.problems] == ["invoices row 4, Amount: is not a number (got 'lots')"]
    i1, i3 = load.ledger.invoices
    assert i1.amount == D("100.10") and i1.invoice_date == day("2026-01-01")
    assert (i3.customer_id, i3.invoice_no, i3.invoice_date, i3.due_date, i3.due_date_derived) == \
        ("1001", "2002", day("2026-01-01"), day("2026-01-11"), True)
    assert load.ledger.credit_notes[0].customer_id == "1001"
    assert load.fx is not None and load.fx.rate("USD", day("2026-06-01")) == D("0.9")
    assert load_ledger_files([path]).ledger == load.ledger
    bare = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(bare)
    with pytest.raises(XlcError, match=r"^ledger file: other.xlsx has no Invoices sheet \(sheets: Sheet\)$"):
        load_ledger_workbook(bare)


def test_parquet_and_dataframe_give_the_same_ledger(tmp_path):
    frame = pd.DataFrame({"customer_id": ["C1", "C2"], "invoice_no": ["I1", "I2"], "currency": ["EUR", "JPY"],
                          "amount": [D("10.10"), D("1500")], "invoice_date": [day("2026-01-01"), day("2026-01-02")],
                          "due_date": [day("2026-01-31"), day("2026-02-01")], "disputed": [False, True]})
    path = tmp_path / "invoices.parquet"
    frame.to_parquet(path)
    assert load_ledger(path).ledger == load_ledger(frame).ledger
    assert load_ledger(frame).ledger.invoices[1].amount == D("1500")


@pytest.mark.parametrize(("amounts", "expected"), [
    ([100.1, 0.3, 1e6], [D("100.10"), D("0.30"), D("1000000.00")]),                 # floats, exact in cents
    ([1, 2, 3], [D("1.00"), D("2.00"), D("3.00")]),                                  # integers: whole units
    (["1.005", "2.675", "0.125"], [D("1.01"), D("2.68"), D("0.13")]),                # text, half up
    ([D("1.005"), D("7"), D("0.004")], [D("1.01"), D("7.00"), D("0.00")]),           # Decimal objects
    ([1.005, 2.675, 0.125], [D("1.01"), D("2.68"), D("0.13")]),                      # floats with a third decimal
])
def test_amounts_of_every_type_become_exact_cents_half_up(amounts, expected):
    """1.005 and 2.675 are not exact binary floats; they are read as their shortest decimal text,
    then rounded half up (as commercial invoices are) — never through binary rounding."""
    frame = pd.DataFrame({"customer_id": "C1", "invoice_no": ["A", "B", "C"], "currency": "EUR", "amount": amounts,
                          "invoice_date": "2026-01-01", "due_date": "2026-01-31"})
    frames = load_ledger_frames(frame)
    assert frames.invoices["amount_minor"].dtype == np.int64
    assert [i.amount for i in load_ledger(frame).ledger.invoices] == expected
    assert frames.invoices["amount_minor"].tolist() == [to_minor(a) for a in expected]


# --------------------------------------------------------------------------- bad rows
BAD_INVOICES = """Customer,Invoice No,Curr,Amount,Posting date,Net due date,Terms,Disputed
C1,I1,EUR,100.00,2026-01-01,2026-01-31,Net 30,no
C1,I2,EUR,abc,2026-01-02,2026-02-01,Net 30,maybe
,I3,EUR,5,2026-01-03,2026-02-02,,
C2,I4,USD,-5,2026-13-01,2026-02-01,,
C2,I5,USD,10,2026-01-01,2026-02-01,,
C2,I5,USD,11,2026-01-02,2026-02-01,,
C3,I6,EURO,1,2026-01-01,2026-02-01,,
C3,I7,EUR,1,2026-01-01,,,
C3,I8,EUR,1,2026-02-01,2026-01-01,,

C3,I9,EUR,1,03/04/2026,2026-05-01,,
C3,I10,EUR,2,2026-01-01,,EOM 15,
"""


def test_every_bad_row_is_reported_and_the_good_rows_load(tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(BAD_INVOICES, encoding="utf-8")
    load = load_ledger(path)
    got = [(p.row, p.column, p.value, p.problem) for p in load.problems]
    assert got == [
        (3, "Amount", "abc", "is not a number (got 'abc')"),
        (3, "Disputed", "maybe", "must be true or false (got 'maybe')"),
        (4, "Customer", None, "is empty"),
        (5, "Amount", "-5", "must not be negative (got -5)"),
        (5, "Posting date", "2026-13-01", "is not a valid date (got '2026-13-01')"),
        (7, "Invoice No", "I5", "repeats invoice I5 of customer C2 (first on row 6)"),
        (8, "Curr", "EURO", "is not a 3-letter ISO 4217 code like EUR (got 'EURO')"),
        (9, "Net due date", None, "is empty and there are no terms to derive it from"),
        (10, "Net due date", "2026-01-01", "is before the invoice date (2026-01-01 < 2026-02-01)"),
        (12, "Posting date", "03/04/2026",
         "is ambiguous: 03/04/2026 could be 3 April or 4 March (write it as YYYY-MM-DD)"),
        (13, "Terms", "EOM 15", "cannot read payment terms 'EOM 15': write e.g. 'Net 60', '60 days', '2/10 net 30' "
                                "or 'Prepay' (needed because due_date is empty)"),
    ]
    assert [i.invoice_no for i in load.ledger.invoices] == ["I1", "I5"]
    assert str(load.problems[0]) == "invoices row 3, Amount: is not a number (got 'abc')"


def test_bad_payment_rows_and_unknown_references(ledger_dir):
    (ledger_dir / "payments.csv").write_text(
        "payment_id,customer_id,payment_date,amount,currency,invoice_ref\n"
        "P1,C1,2026-01-20,60.00,EUR,I1\n"
        "P2,C1,,5,EUR,\n"
        "P3,C1,2026-01-21,5,EUR,NOPE\n"
        "P4,C2,2026-01-22,5,USD,I1\n"
        ",C1,2026-01-23,1e400,EUR,\n", encoding="utf-8")
    load = load_ledger(ledger_dir / "invoices.csv", ledger_dir / "payments.csv")
    got = [(p.table, p.row, p.column, p.problem) for p in load.problems]
    assert got == [
        ("payments", 3, "payment_date", "is empty"),
        ("payments", 4, "invoice_ref", "names no invoice of customer C1 (got 'NOPE'); the amount goes to the oldest "
                                       "open invoices (row kept)"),
        ("payments", 5, "invoice_ref", "names no invoice of customer C2 (got 'I1'); the amount goes to the oldest "
                                       "open invoices (row kept)"),
        ("payments", 6, "amount", "is out of range: numbers must be below 10^15 in size (got '1e400')"),
    ]
    assert [p.payment_id for p in load.ledger.payments] == ["P1", "P3", "P4"]


def test_semicolon_csv_with_decimal_commas_and_a_reference_in_another_currency(tmp_path):
    (tmp_path / "invoices.csv").write_text(
        "Kunde;Rechnungsnummer;Währung;Betrag;Rechnungsdatum;Fälligkeit\n"
        "K1;R1;EUR;1.234,56;01.02.2026;2026-03-03\n"
        "K1;R2;EUR;1.234;2026-02-01;2026-03-03\n", encoding="cp1252")
    (tmp_path / "payments.csv").write_text(
        "Kunde;Zahlungsdatum;Betrag;Währung;Rechnungsnummer\nK1;2026-02-10;100,5;USD;R1\n", encoding="utf-8")
    load = load_ledger(tmp_path / "invoices.csv", tmp_path / "payments.csv")
    assert [i.amount for i in load.ledger.invoices] == [D("1234.56"), D("1234.00")]
    assert load.ledger.invoices[0].invoice_date == day("2026-02-01")
    assert load.ledger.payments[0].amount == D("100.50")
    assert [p.problem for p in load.problems] == [
        "names an invoice in EUR, not USD (got 'R1'); the amount goes to the oldest open invoices (row kept)"]


def test_fx_rates_bad_rows(tmp_path):
    path = tmp_path / "fx.csv"
    path.write_text("date,currency,rate\n2026-01-01,USD,0.9\n2026-01-01,USD,0.8\n2026-01-01,EUR,1.1\n"
                    "2026-01-02,US,1\n2026-01-03,GBP,0\n2026-01-04,GBP,x\n2026-01-01,EUR,1\n", encoding="utf-8")
    loaded = load_fx_rates(path)
    assert [(p.row, p.column, p.problem) for p in loaded.problems] == [
        (3, "rate", "a second rate for USD on 2026-01-01 (row 2 says 0.9)"),
        (4, "rate", "EUR is the company currency, its rate is always 1 (got 1.1)"),
        (5, "currency", "is not a 3-letter ISO 4217 code like EUR (got 'US')"),
        (6, "rate", "must be positive (got 0)"),
        (7, "rate", "is not a number (got 'x')"),
    ]
    assert loaded.fx.rate("USD", day("2026-02-01")) == D("0.9")


@pytest.mark.parametrize(("source", "match"), [
    ("nope.csv", r"^invoices file: not found: nope.csv$"),
    ("ledger.xls", r"^invoices file: cannot read .xls files \(save it as .xlsx\): use .csv, .xlsx, .xlsm or "
                   r".parquet \(got ledger.xls\)$"),
    (42, r"^invoices file: must be a file path or a DataFrame \(got int\)$"),
])
def test_unreadable_sources_are_one_clear_error(tmp_path, monkeypatch, source, match):
    monkeypatch.chdir(tmp_path)
    if source == "ledger.xls":
        (tmp_path / source).write_bytes(b"")
    with pytest.raises(XlcError, match=match):
        load_ledger(source)


# --------------------------------------------------------------------------- frames for the bulk path
def test_frames_feed_the_bulk_kernel_and_it_agrees_with_the_records_path():
    """load_ledger_frames → contract_tables → bulk.frames_to_arrays → age_bulk gives the same ageing
    (to the cent, in minor units) as records → openitems → ageing, on the bundled sample."""
    frames = load_ledger_frames(sample_path("invoices"), sample_path("payments"), sample_path("credit_notes"))
    assert frames.problems == ()
    assert frames.invoices["amount_minor"].dtype == np.int64
    assert frames.invoices["due_date"].dtype.kind == "M" and frames.invoices["disputed"].dtype == bool
    bulk = frames_to_arrays(*frames.contract_tables())
    assert bulk.problems == ()
    table = age_bulk((bulk.invoices, bulk.credits), SAMPLE_AS_OF).to_frame(bulk.customers, bulk.currencies)
    report = age_ledger(load_ledger(sample_path("invoices"), sample_path("payments"),
                                    sample_path("credit_notes")).ledger, SAMPLE_AS_OF, Policy())
    theirs = {(r["customer_id"], r["currency"]): (int(r["open"]), int(r["unapplied"]))
              for r in table.to_dict("records")}
    mine = {(r.customer_id, r.currency): (to_minor(r.open_total, r.currency), to_minor(r.unapplied_cash, r.currency))
            for r in report.rows}
    assert mine == theirs


def test_nullable_and_arrow_missing_values_are_blank_cells(tmp_path):
    """Empty cells read with pd.read_csv(dtype_backend=...) or nullable Int64 columns come as <NA>:
    they are blanks exactly like an empty cell in the CSV file itself ("amount: is empty", row kept out)."""
    path = tmp_path / "invoices.csv"
    path.write_text("customer_id,invoice_no,currency,amount,invoice_date,due_date,terms,disputed\n"
                    "C1,I1,EUR,100,2026-01-01,,Net 30,\n"
                    "C1,I2,EUR,,2026-01-02,2026-02-01,,\n"
                    "C1,I3,EUR,250,2026-01-03,2026-02-02,,true\n", encoding="utf-8")
    expected = load_ledger(path)
    assert [(p.row, p.column, p.value, p.problem) for p in expected.problems] == [(3, "amount", None, "is empty")]
    for backend in ("pyarrow", "numpy_nullable"):
        got = load_ledger(pd.read_csv(path, dtype_backend=backend))
        assert got.problems == expected.problems, backend
        assert got.ledger == expected.ledger, backend
    frame = pd.DataFrame({"customer_id": ["C1", "C1"], "invoice_no": ["I1", "I2"], "currency": "EUR",
                          "amount": pd.array([100, None], dtype="Int64"), "invoice_date": "2026-01-01",
                          "due_date": "2026-01-31"})
    frames = load_ledger_frames(frame)
    assert [(p.row, p.column, p.value, p.problem) for p in frames.problems] == [(3, "amount", None, "is empty")]
    assert frames.invoices["amount_minor"].tolist() == [10000]
