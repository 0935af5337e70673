"""Absurd numbers and dates (issue 17): every money, rate, day and date input is finite and within the documented
bounds (|number| < 10^15, at most 40 digits, rates 0–100 %, days ≤ 100,000, dates 1900–2200), refused in the same
words in a cell, a file, the API and the command line — never ``internal:`` and never a traceback."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from typer.testing import CliRunner

import udfs.functions as udf
from xlcredit.cli import app
from xlcredit.core.coerce import to_date, to_days, to_decimal, to_rate
from xlcredit.core.errors import XlcError, error_words
from xlcredit.io.tables import read_customers

RANGE = "is out of range: numbers must be below 10^15 in size"


@pytest.mark.parametrize(("call", "words"), [
    (lambda: to_decimal("1e999999", "credit_limit"), f"credit_limit: {RANGE} (got '1e999999')"),
    (lambda: to_decimal(1e300, "amount"), f"amount: {RANGE} (got 1e+300)"),
    (lambda: to_decimal(Decimal("-1E+15"), "amount"), f"amount: {RANGE} (got -1E+15)"),
    (lambda: to_decimal("0." + "1" * 41, "amount"), "amount: has too many digits: at most 40 (got '0.1111"),
    (lambda: to_rate("1.5", "annual_rate", limit=Decimal(5)), "annual_rate: is a fraction, not a percent"),
    (lambda: to_days(100_001, "days"), "days: is out of range: at most 100,000 days (got 100001)"),
    (lambda: to_days("-1e9", "days", allow_negative=True), "days: is out of range: at most 100,000 days"),
    (lambda: to_date("9999-12-31", "as_of"),
     "as_of: is out of range: dates run from 1900-01-01 to 2200-12-31 (got '9999-12-31')"),
    (lambda: to_date(dt.date(1, 1, 1), "due_date"), "due_date: is out of range: dates run from 1900-01-01"),
])
def test_absurd_values_are_refused_naming_the_field(call, words):
    with pytest.raises(XlcError) as caught:
        call()
    assert error_words(caught.value).startswith(words)


def test_values_inside_the_bounds_still_pass():
    assert to_decimal("999999999999999.99", "amount") == Decimal("999999999999999.99")
    assert to_decimal(-1e14, "amount") == Decimal("-1E+14")
    assert to_rate("1", "annual_rate") == 1 and to_days(100_000, "days") == 100_000
    assert to_date("2200-12-31", "as_of") == dt.date(2200, 12, 31) and to_date(1, "d") == dt.date(1900, 1, 1)


def test_the_cell_shows_the_argument_not_internal():
    due, as_of = dt.date(2026, 1, 1), dt.date(2026, 10, 31)
    assert udf.late_interest(1e300, due, as_of, 0.08) == f"#XLC! amount: {RANGE} (got 1e+300)"
    assert udf.late_interest(100, due, "9999-12-31", 0.08) == \
        "#XLC! as_of: is out of range: dates run from 1900-01-01 to 2200-12-31 (got '9999-12-31')"


def test_the_file_reader_makes_it_a_row_problem_and_loads_the_rest(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,name,total_assets,relationship_start\nC1,Good,1000,2015-01-01\n"
                    "C2,Huge,1e300,2015-01-01\nC3,Old,1000,9999-12-31\n", encoding="utf-8")
    table = read_customers(path)
    assert [c.customer_id for c in table.customers] == ["C1"]
    words = {(p.row, p.column): p.problem for p in table.problems}
    assert RANGE in words[(3, "total_assets")] and "dates run from 1900-01-01" in words[(4, "relationship_start")]


def test_the_command_line_refuses_an_absurd_as_of_in_one_line():
    result = CliRunner().invoke(app, ["score", "--as-of", "9999-12-31"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 2
    assert "is out of range: dates run from 1900-01-01 to 2200-12-31" in result.output
    assert "Traceback" not in result.output and "internal" not in result.output


def test_the_api_answers_422_naming_the_field(tmp_path):
    from _store_fixtures import serve
    from test_service import mint, seed

    db = str(tmp_path / "team.credit.db")
    seed(db)
    key = mint(db, "Maria", "controller")
    with serve(db, tmp_path) as server, server.client(key) as c:
        tag = c.get("/v1/customers/C002").headers["ETag"]
        r = c.put("/v1/customers/C002/limit", json={"credit_limit": "1e999999", "reason": "typo"},
                  headers={"If-Match": tag})
        assert r.status_code == 422, r.text
        assert "credit_limit" in r.text and RANGE in r.text and "internal" not in r.text
        r = c.post("/v1/functions/late_interest", json={"rows": [
            {"amount": 1e300, "due_date": "2026-01-01", "as_of": "2026-10-31", "annual_rate": 0.08}]})
        assert r.status_code == 200 and r.json()["results"][0]["error"].startswith(f"amount: {RANGE}"), r.text


# --------------------------------------------------------------------------- currencies and relationship start
def test_a_currency_must_be_an_iso_4217_code_everywhere(tmp_path):
    from xlcredit.core.interest import late_interest
    from xlcredit.core.money import currency_code

    assert currency_code(" eur ") == "EUR" and currency_code("CNY") == "CNY"
    with pytest.raises(XlcError, match=r"^currency: is not an ISO 4217 currency code like EUR \(got 'XYZ'\)$"):
        currency_code("XYZ")
    with pytest.raises(XlcError, match="currency: is not an ISO 4217 currency code"):
        late_interest(100, dt.date(2026, 1, 1), dt.date(2026, 2, 1), "0.08", currency="XYZ")
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,name,currency\nC1,Good,GBP\nC2,Odd,XYZ\n", encoding="utf-8")
    table = read_customers(path)
    assert [c.customer_id for c in table.customers] == ["C1"]
    assert [(p.row, p.column) for p in table.problems] == [(3, "currency")]
    assert "is not an ISO 4217 currency code like EUR (got 'XYZ')" in table.problems[0].problem


def test_a_ledger_row_in_an_unknown_currency_is_a_row_problem(tmp_path):
    from xlcredit.io.ledger import load_ledger

    (tmp_path / "invoices.csv").write_text(
        "customer_id,invoice_no,invoice_date,due_date,amount,currency\n"
        "C1,I1,2026-01-01,2026-01-31,100.00,EUR\nC1,I2,2026-01-01,2026-01-31,100.00,XYZ\n", encoding="utf-8")
    loaded = load_ledger(tmp_path / "invoices.csv")
    assert [(p.table, p.row, p.column) for p in loaded.problems] == [("invoices", 3, "currency")]
    assert "is not an ISO 4217 currency code like EUR (got 'XYZ')" in loaded.problems[0].problem


def test_a_relationship_starting_after_the_as_of_date_is_a_row_problem(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,name,relationship_start,rating\nC1,Old,2015-01-01,70\nC2,Future,2030-01-01,70\n",
                    encoding="utf-8")
    result = CliRunner().invoke(app, ["score", str(path), "--as-of", "2026-10-31"],
                                env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "relationship_start" in result.output and "is after the as-of date 2026-10-31 (got 2030-01-01)" in \
        result.output
