"""The ``xlcredit`` command line: score and limits on the sample and on users' files, clear errors."""

from __future__ import annotations

import csv
import datetime as dt

import openpyxl
import pytest
from typer.testing import CliRunner

from xlcredit.cli import app
from xlcredit.cli import common as cli_common

GRADES = {"A", "B", "C", "D", "E"}
WIDE = {"COLUMNS": "220", "NO_COLOR": "1"}


def run(*args: str):
    return CliRunner().invoke(app, list(args), env=WIDE)


def _csv_rows(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


USER_CSV = (
    "Cust_ID,Customer name,Country,Total assets,Debt,Customer since,Score (D&B),Annual purchases\n"
    "U1,Alpha Werke GmbH,DE,5000000,1000000,2012-03-01,88,900000\n"
    "U2,Beta Trading Ltd,GB,800000,700000,2023-06-15,55,200000\n"
    "U3,Gamma Supplies Inc.,US,lots,500000,2020-01-10,70,300000\n"      # row 4: text in a number column
    "U4,Delta SAS,FR,2000000,900000,15/07/2019,,400000\n"
)


def _user_xlsx(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Kunden"
    for line in USER_CSV.strip().splitlines():
        ws.append(line.split(","))
    ws["D2"].value = 5000000            # real numbers and a real date cell, as Excel would store them
    ws["F2"].value = dt.datetime(2012, 3, 1)
    wb.save(path)
    return path


# --------------------------------------------------------------------------- score
def test_score_on_the_bundled_sample_shows_every_grade(tmp_path):
    out = tmp_path / "scores.csv"
    result = run("score", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Credit scores as of 2026-10-31" in result.stdout
    assert "60 customers scored, no problems" in result.stdout
    rows = _csv_rows(out)
    assert [r["customer_id"] for r in rows] == [f"C{i:03d}" for i in range(1, 61)]
    assert list(rows[0]) == ["customer_id", "name", "country", "score", "grade", "note"]
    assert {r["grade"] for r in rows} == GRADES
    for r in rows:                                   # the printed table carries the same grade per customer
        line = next(x for x in result.stdout.splitlines() if f" {r['customer_id']} " in x)
        assert f" {r['grade']} " in line and f" {r['score']} " in line


def test_score_a_users_csv_with_aliases_reports_the_bad_row_and_scores_the_rest(tmp_path):
    path = tmp_path / "my customers.csv"
    path.write_text(USER_CSV, encoding="utf-8")
    out = tmp_path / "s.xlsx"
    result = run("score", str(path), "--as-of", "2026-06-30", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "3 customers scored, 1 row with problems" in result.stdout
    assert "Rows with problems" in result.stderr and "Total assets" in result.stderr
    assert "'lots'" in result.stderr and "is not a number" in result.stderr
    ws = openpyxl.load_workbook(out)["Scores"]
    got = {row[0]: row for row in ws.iter_rows(min_row=2, values_only=True)}
    assert set(got) == {"U1", "U2", "U4"}
    assert all(isinstance(r[3], int) and r[4] in GRADES for r in got.values())


def test_score_a_users_xlsx_sheet(tmp_path):
    path = _user_xlsx(tmp_path / "book.xlsx")
    csv_path = tmp_path / "same.csv"
    csv_path.write_text(USER_CSV, encoding="utf-8")
    a = run("score", str(path), "--sheet", "Kunden", "--as-of", "2026-06-30", "--out", str(tmp_path / "a.csv"))
    b = run("score", str(csv_path), "--as-of", "2026-06-30", "--out", str(tmp_path / "b.csv"))
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    assert "3 customers scored, 1 row with problems" in a.stdout
    assert _csv_rows(tmp_path / "a.csv") == _csv_rows(tmp_path / "b.csv")   # same answers from either file


def test_a_users_file_is_scored_as_of_today_unless_told(tmp_path, monkeypatch):
    path = tmp_path / "c.csv"
    path.write_text(USER_CSV, encoding="utf-8")
    monkeypatch.setattr(cli_common, "today", lambda: dt.date(2027, 1, 15))
    result = run("score", str(path))
    assert result.exit_code == 0 and "as of 2027-01-15" in result.stdout


def test_the_policy_option_changes_the_outcome(tmp_path):
    strict = tmp_path / "strict.toml"
    strict.write_text("[grades]\nA_min_years = 50\n", encoding="utf-8")   # nobody has traded with us for 50 years
    out = tmp_path / "s.csv"
    result = run("--policy", str(strict), "score", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = _csv_rows(out)
    assert {r["grade"] for r in rows} == {"B", "C", "D", "E"}
    held = [r for r in rows if int(r["score"]) >= 80]
    assert held and all(r["grade"] == "B" and "grade A needs 50" in r["note"] for r in held)


def test_nothing_scored_is_exit_code_1(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("customer_id,total_assets\n,100\nK2,-1\n", encoding="utf-8")
    result = run("score", str(path), "--as-of", "2026-10-31")
    assert result.exit_code == 1
    assert "0 customers scored, 2 rows with problems" in result.stdout


# --------------------------------------------------------------------------- limits
def test_limits_on_the_bundled_sample(tmp_path):
    out = tmp_path / "limits.xlsx"
    result = run("limits", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Credit limits (EUR) as of 2026-10-31" in result.stdout
    assert "60 customers given a limit, no problems" in result.stdout
    ws = openpyxl.load_workbook(out)["Limits"]
    header = [c.value for c in ws[1]]
    assert header == ["customer_id", "name", "score", "grade", "limit", "limit_reason", "terms", "deposit", "note"]
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == 60 and {r["grade"] for r in rows} == GRADES
    assert all(isinstance(r["limit"], (int, float)) and r["limit"] >= 0 and r["limit_reason"] for r in rows)
    assert ws["E2"].number_format == "#,##0.00" and ws["H2"].number_format == "0%"
    for r in rows:                                   # the printed table shows each customer's terms
        line = next(x for x in result.stdout.splitlines() if f" {r['customer_id']} " in x)
        assert f" {r['grade']} " in line and r["terms"] in line


def test_limits_on_a_users_csv(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(USER_CSV, encoding="utf-8")
    out = tmp_path / "l.csv"
    result = run("limits", str(path), "--as-of", "2026-06-30", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "3 customers given a limit, 1 row with problems" in result.stdout
    rows = _csv_rows(out)
    assert [r["customer_id"] for r in rows] == ["U1", "U2", "U4"]
    assert all(r["terms"] and r["limit_reason"] for r in rows)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(("args", "words"), [
    (("score", "--as-of", "2026-02-30"), "error: --as-of: is not a valid date (got '2026-02-30')"),
    (("limits", "--as-of", "03/04/2026"), "error: --as-of: is ambiguous: 03/04/2026 could be 3 April or 4 March "
                                          "(write it as YYYY-MM-DD)"),
    (("score", "no-such-file.csv"), "error: customers file: not found: no-such-file.csv"),
    (("limits", "customers.txt"), "error: customers file: cannot read .txt files: use .csv, .xlsx, .xlsm or "
                                  ".parquet (got customers.txt)"),
    (("score", "--out", "scores.pdf"), "error: out: must end in .csv or .xlsx (got scores.pdf)"),
    (("--policy", "nowhere.toml", "score"), "error: policy: file not found: nowhere.toml"),
])
def test_bad_command_line_input_is_one_clear_line_and_exit_code_2(args, words):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.strip() == words
    assert "Traceback" not in result.output


def test_a_bad_policy_file_names_the_setting(tmp_path):
    bad = tmp_path / "p.toml"
    bad.write_text("[limits]\nvolume_share = 1.5\n", encoding="utf-8")
    result = run("--policy", str(bad), "limits")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: limits.volume_share: is a share and must not be above 1 (got 1.5)"


def test_missing_customer_id_column_is_a_clear_error(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("Name,Rating\nA,80\n", encoding="utf-8")
    result = run("score", str(path))
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: customer_id: column is missing from the customers table "
                                     "(found 'Name', 'Rating')")


@pytest.mark.parametrize("option", ["--max-rows", "--max-body-mb", "--max-upload-mb", "--timeout"])
def test_serve_refuses_a_limit_that_is_not_positive(option: str, tmp_path):
    result = run("serve", "--db", str(tmp_path / "team.credit.db"), option, "0")
    assert result.exit_code == 2
    assert f"{option}: must be more than 0 (got 0)" in result.output
    assert not (tmp_path / "team.credit.db").exists()      # refused before anything is opened
