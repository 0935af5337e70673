"""``xlcredit age``: the ageing from the command line, on the bundled sample and on users' files."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

import openpyxl
from typer.testing import CliRunner

from xlcredit.cli import app

WIDE = {"COLUMNS": "250", "NO_COLOR": "1"}
LABELS = ["Current", "1-30", "31-60", "61-90", "91-180", "180+"]


def run(*args: str):
    return CliRunner().invoke(app, list(args), env=WIDE)


def _csv_rows(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_age_on_the_bundled_sample_reconciles_in_the_written_file(tmp_path):
    out = tmp_path / "ageing.csv"
    result = run("age", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Ageing by due date as of 2026-10-31 — bundled sample" in result.stdout
    assert "57 accounts aged, no problems" in result.stdout
    assert "TOTAL" in result.stdout and "Balance EUR" in result.stdout
    rows = _csv_rows(out)
    assert [r["customer_id"] for r in rows][-1] == "TOTAL" and len(rows) == 58
    assert list(rows[0])[:8] == ["customer_id", "currency", *LABELS]
    for r in rows[:-1]:       # each account: buckets add up to the open total; open − unapplied = balance
        assert sum(Decimal(r[label]) for label in LABELS) == Decimal(r["open_total"])
        assert Decimal(r["open_total"]) - Decimal(r["unapplied_cash"]) == Decimal(r["balance"])
    total = rows[-1]
    assert sum(Decimal(r["balance EUR"]) for r in rows[:-1]) == Decimal(total["balance EUR"])
    for label in LABELS:
        assert sum(Decimal(r[f"{label} EUR"]) for r in rows[:-1]) == Decimal(total[f"{label} EUR"])
    assert f"{Decimal(total['open_total EUR']):,.2f}" in result.stdout


def test_age_by_invoice_date_at_an_earlier_date_to_xlsx(tmp_path):
    out = tmp_path / "ageing.xlsx"
    result = run("age", "--by", "invoice-date", "--as-of", "2025-06-30", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Ageing by invoice date as of 2025-06-30 — bundled sample" in result.stdout
    ws = openpyxl.load_workbook(out, read_only=True).active
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    assert header[:8] == ["customer_id", "currency", *LABELS] and "balance EUR" in header


def _write_user_files(folder):
    (folder / "invoices.csv").write_text(
        "Customer,Invoice No,Currency,Amount,Invoice Date,Due Date,Terms\n"
        "K1,R1,EUR,100.00,2026-01-01,2026-01-31,Net 30\n"
        "K1,R2,EUR,lots,2026-01-05,2026-02-04,Net 30\n"
        "K2,R3,USD,50.00,2026-02-01,,Net 30\n", encoding="utf-8")
    (folder / "payments.csv").write_text(
        "Payment ID,Customer,Payment Date,Amount,Currency,Invoice Ref\n"
        "P1,K1,2026-02-10,30.00,EUR,R1\n"
        "P2,K2,2026-02-11,80.00,USD,\n", encoding="utf-8")


def test_age_users_files_reports_bad_rows_and_ages_the_rest(tmp_path):
    _write_user_files(tmp_path)
    result = run("age", str(tmp_path / "invoices.csv"), str(tmp_path / "payments.csv"), "--as-of", "2026-03-31")
    assert result.exit_code == 0, result.output
    assert "Rows with problems" in result.stderr and "'lots'" in result.stderr and "is not a number" in result.stderr
    assert "1 blank due date was set from the payment terms" in result.stderr
    assert "no FX rates given: no EUR total for USD" in result.stderr
    assert "2 accounts aged, 1 row with problems" in result.stdout
    # K1: 100 − 30 = 70 open, 59 days past due (31-60); K2: 50 invoiced, 80 paid → 30 unapplied
    k1 = next(line for line in result.stdout.splitlines() if "K1" in line)
    assert "70.00" in k1 and k1.split("│")[5].strip() == "70.00"
    k2 = next(line for line in result.stdout.splitlines() if "K2" in line)
    assert "30.00" in k2 and "-30.00" in k2


def test_age_a_workbook_with_fx_rates(tmp_path):
    path = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Invoices"
    ws.append(["customer_id", "invoice_no", "currency", "amount", "invoice_date", "due_date"])
    ws.append(["K2", "R3", "USD", 50, dt.datetime(2026, 2, 1), dt.datetime(2026, 3, 3)])
    fx = wb.create_sheet("FxRates")
    fx.append(["date", "currency", "rate"])
    fx.append([dt.datetime(2026, 1, 1), "USD", 0.9])
    wb.save(path)
    result = run("age", str(path), "--as-of", "2026-03-31")
    assert result.exit_code == 0, result.output
    assert "— book.xlsx" in result.stdout and "45.00" in result.stdout      # 50 USD × 0.9
    assert "1 account aged, no problems" in result.stdout


def test_age_bad_command_line_input_is_one_clear_line(tmp_path):
    bad_by = run("age", "--by", "posted")
    assert bad_by.exit_code == 2 and bad_by.stderr.strip() == "error: --by: must be due-date or invoice-date " \
                                                               "(got 'posted')"
    missing = run("age", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "error: ledger file: not found:" in missing.stderr
    _write_user_files(tmp_path)
    (tmp_path / "fx_rates.csv").write_text("date,currency,rate\n2026-01-01,GBP,1.15\n", encoding="utf-8")
    bad_dates = run("age", str(tmp_path / "invoices.csv"), "--dates", "sideways")
    assert bad_dates.exit_code == 2
    assert bad_dates.stderr.strip() == "error: --dates: must be day-first, month-first, iso or auto (got 'sideways')"
    bad_out = run("age", "--out", str(tmp_path / "ageing.txt"))
    assert bad_out.exit_code == 2 and "error: out: must end in .csv or .xlsx" in bad_out.stderr


def test_a_currency_without_an_fx_rate_is_aged_in_its_own_currency_and_the_total_says_so(tmp_path):
    """Issue 14: a missing rate used to stop the whole command (exit 2, nothing aged). Now K2's USD invoice
    is aged in USD, and the EUR total is marked as leaving USD out, with the reason."""
    _write_user_files(tmp_path)
    (tmp_path / "fx_rates.csv").write_text("date,currency,rate\n2026-01-01,GBP,1.15\n", encoding="utf-8")
    result = run("age", str(tmp_path / "invoices.csv"), str(tmp_path / "fx_rates.csv"), "--as-of", "2026-03-31")
    assert result.exit_code == 0, result.output
    assert "no EUR rate for USD on or before 2026-03-31: the USD accounts are aged in USD only and left out of " \
           "the EUR total (USD 50 open)" in result.stderr
    k2 = next(line for line in result.stdout.splitlines() if "K2" in line)
    assert k2.split("│")[4].strip() == "50.00"          # 50 USD due 2026-03-03: 28 days → 1-30, in USD
    total = next(line for line in result.stdout.splitlines() if "TOTAL without USD" in line)
    assert total.split("│")[-2].strip() == "100.00"     # K1's 100 EUR only (R2 'lots' is a bad row)
    assert "2 accounts aged, 1 row with problems" in result.stdout


def test_a_users_files_are_aged_as_of_their_newest_document_unless_told(tmp_path):
    """Without --as-of a ledger is as of its newest document (the payment of 2026-02-11), not as of today: R1
    (due 2026-01-31, 70.00 open) is 11 days past due (1-30), and the command says which date it took."""
    _write_user_files(tmp_path)
    result = run("age", str(tmp_path / "invoices.csv"), str(tmp_path / "payments.csv"))
    assert result.exit_code == 0, result.output
    assert "as of 2026-02-11, the newest document date in 2 files" in " ".join(result.stderr.split())
    assert "as of 2026-02-11" in result.stdout
    k1 = next(line for line in result.stdout.splitlines() if "K1" in line)
    assert k1.split("│")[4].strip() == "70.00"   # the 1-30 column
