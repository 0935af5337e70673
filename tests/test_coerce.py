"""The one way a value enters (xlcredit.core.coerce): dates, rates and days, and their messages.

The same bad value gets the same words in a cell (``#XLC! …``), a table file's problem list, a service
answer row and a command-line error: each of those entries calls :func:`to_date`, and every function
below them takes ``datetime.date`` (:func:`need_date` checks the type, parses nothing).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlcredit.core.coerce import is_blank, need_date, to_date, to_date_or_none, to_days, to_rate
from xlcredit.core.errors import XlcError, error_words

D = dt.date


# --------------------------------------------------------------------------- what is a date
@pytest.mark.parametrize(("value", "expected"), [
    (D(2026, 10, 31), D(2026, 10, 31)),
    (dt.datetime(2026, 10, 31, 17, 45), D(2026, 10, 31)),          # a date-time is taken as its date
    (pd.Timestamp("2026-10-31 08:00"), D(2026, 10, 31)),
    (np.datetime64("2026-10-31"), D(2026, 10, 31)),
    ("2026-10-31", D(2026, 10, 31)),
    (" 2026-10-31 ", D(2026, 10, 31)),
    ("2026-10-31T12:30:00", D(2026, 10, 31)),                       # ISO with a time part (JSON, exports)
    ("2026/10/31", D(2026, 10, 31)),
    ("31.10.2026", D(2026, 10, 31)),                                # dots: day first (European)
    ("01.02.2026", D(2026, 2, 1)),
    ("31/10/2026", D(2026, 10, 31)),                                # only one reading is a date
    ("10/31/2026", D(2026, 10, 31)),
    ("05/05/2026", D(2026, 5, 5)),                                  # both readings are the same day
    ("31-10-2026", D(2026, 10, 31)),
    # Excel's 1900 date system: 46326 = 2026-10-31; 1 = 1900-01-01; 61 = 1900-03-01; a fraction is the time
    (46326, D(2026, 10, 31)),
    (46326.75, D(2026, 10, 31)),
    ("46326", D(2026, 10, 31)),
    (Decimal("46326"), D(2026, 10, 31)),
    (np.int64(46326), D(2026, 10, 31)),
    (1, D(1900, 1, 1)),
    (59, D(1900, 2, 28)),
    (61, D(1900, 3, 1)),
    (109_939, D(2200, 12, 31)),                                     # the last date accepted
])
def test_what_users_write_is_read_as_the_date_they_mean(value, expected):
    assert to_date(value, "due_date") == expected


@pytest.mark.parametrize(("value", "words"), [
    (None, "due_date: is empty"),
    ("", "due_date: is empty"),
    ("   ", "due_date: is empty"),
    (float("nan"), "due_date: is empty"),
    (pd.NaT, "due_date: is empty"),
    (pd.NA, "due_date: is empty"),
    ("soon", "due_date: is not a date (got 'soon'; write it as YYYY-MM-DD)"),
    ("2026-02-30", "due_date: is not a valid date (got '2026-02-30')"),
    ("31.02.2026", "due_date: is not a valid date (got '31.02.2026')"),
    ("1/10/2026", "due_date: is ambiguous: 1/10/2026 could be 1 October or 10 January (write it as YYYY-MM-DD)"),
    (True, "due_date: is not a date (got True)"),
    (60, "due_date: is not a date: Excel's 29 February 1900 never existed (date number 60)"),
    (0, "due_date: is not a date: Excel date numbers run from 1 to 2958465 (got 0)"),
    (3_000_000, "due_date: is not a date: Excel date numbers run from 1 to 2958465 (got 3000000)"),
    (-5, "due_date: is not a date: Excel date numbers run from 1 to 2958465 (got -5)"),
    (2_958_465, "due_date: is out of range: dates run from 1900-01-01 to 2200-12-31 (got 2958465)"),
    ("9999-12-31", "due_date: is out of range: dates run from 1900-01-01 to 2200-12-31 (got '9999-12-31')"),
    (D(1899, 12, 31), "due_date: is out of range: dates run from 1900-01-01 to 2200-12-31 (got 1899-12-31)"),
    (math.inf, "due_date: is not a date (got inf)"),
    ([2026, 10, 31], "due_date: is not a date (got [2026, 10, 31])"),
])
def test_a_bad_date_is_refused_in_one_form_naming_the_field_and_value(value, words):
    with pytest.raises(XlcError) as caught:
        to_date(value, "due_date")
    assert error_words(caught.value) == words


def test_day_first_settles_an_ambiguous_date_and_nothing_else():
    assert to_date("01/10/2026", "d", day_first=True) == D(2026, 10, 1)
    assert to_date("01/10/2026", "d", day_first=False) == D(2026, 1, 10)
    assert to_date("31/10/2026", "d", day_first=False) == D(2026, 10, 31)   # only one reading: day_first is moot
    assert to_date("2026-01-10", "d", day_first=True) == D(2026, 1, 10)     # ISO is never reread


def test_a_bare_year_is_a_date_only_where_asked():
    assert to_date(2019, "relationship_start", year_only=True) == D(2019, 1, 1)
    assert to_date("2019", "relationship_start", year_only=True) == D(2019, 1, 1)
    assert to_date(2019, "due_date") == D(1905, 7, 11)   # elsewhere 2019 is Excel's day number 2019


def test_optional_dates_and_blanks():
    assert to_date_or_none(None, "d") is None and to_date_or_none(" ", "d") is None
    assert to_date_or_none(pd.NaT, "d") is None
    assert to_date_or_none("2026-10-31", "d") == D(2026, 10, 31)
    assert all(is_blank(v) for v in (None, "", " \t", float("nan"), np.float64("nan"), pd.NA, pd.NaT,
                                     np.datetime64("NaT")))
    assert not any(is_blank(v) for v in (0, 0.0, Decimal(0), "0", D(2026, 1, 1), False))


@given(st.dates(min_value=D(1900, 3, 1), max_value=D(2200, 12, 31)))
def test_every_way_of_writing_a_date_gives_the_same_date(day):
    serial = (day - D(1899, 12, 30)).days
    ways = [day, dt.datetime.combine(day, dt.time(13, 5)), day.isoformat(), f"{day.isoformat()}T00:00:00",
            serial, str(serial), serial + 0.5, f"{day.day:02d}.{day.month:02d}.{day.year}"]
    if day.day > 12 or day.day == day.month:
        ways.append(f"{day.day}/{day.month}/{day.year}")
    if day.year >= 1678:   # pandas' nanosecond range
        ways.append(pd.Timestamp(day))
    assert {to_date(w, "d") for w in ways} == {day}


# --------------------------------------------------------------------------- below the entry: no parsing
def test_below_the_entry_a_date_is_checked_not_parsed():
    assert need_date(D(2026, 10, 31), "as_of") == D(2026, 10, 31)
    assert need_date(dt.datetime(2026, 10, 31, 9), "as_of") == D(2026, 10, 31)
    with pytest.raises(XlcError, match=r"^as_of: is empty$"):
        need_date(None, "as_of")
    with pytest.raises(XlcError, match=r"^as_of: is not a date \(got '2026-10-31'\)$"):
        need_date("2026-10-31", "as_of")   # text was to be read where it entered


def test_the_core_takes_dates_only():
    from xlcredit.core.interest import days_overdue

    assert days_overdue(D(2026, 10, 1), D(2026, 10, 31)) == 30
    with pytest.raises(XlcError, match="due_date: is not a date"):
        days_overdue(46296, D(2026, 10, 31))


# --------------------------------------------------------------------------- the same words at every entry
BAD_DATES = [("soon", "is not a date (got 'soon'; write it as YYYY-MM-DD)"),
             ("1/10/2026", "is ambiguous: 1/10/2026 could be 1 October or 10 January (write it as YYYY-MM-DD)"),
             ("2026-02-30", "is not a valid date (got '2026-02-30')")]


@pytest.mark.parametrize(("value", "problem"), BAD_DATES)
def test_a_formula_cell_shows_the_same_words(value, problem):
    import udfs.functions as udf

    assert udf.days_overdue(value, D(2026, 10, 31)) == f"#XLC! due_date: {problem}"


@pytest.mark.parametrize(("value", "problem"), BAD_DATES)
def test_a_service_row_shows_the_same_words(value, problem):
    from xlcredit.service.functions import CATALOGUE, answer_row

    fn = next(f for f in CATALOGUE if f.name == "DAYS_OVERDUE")
    row = {"due_date": value, "as_of": "2026-10-31"}
    assert answer_row(fn.name, lambda: fn.compute(row, None)) == {"error": f"due_date: {problem}"}


@pytest.mark.parametrize(("value", "problem"), BAD_DATES)
def test_a_ledger_file_lists_the_same_words(value, problem):
    from xlcredit.io.ledger import load_ledger

    invoices = pd.DataFrame({"customer_id": ["C1"], "invoice_no": ["I1"], "currency": ["EUR"], "amount": ["100"],
                             "invoice_date": ["2026-09-01"], "due_date": [value]})
    if "ambiguous" in problem:
        # a file settles dd/mm against mm/dd for the whole column (xlcredit.io.ledger); when nothing in the column
        # settles it, the column is refused by name, with the option that settles it
        with pytest.raises(XlcError, match=r"^due_date: dates are ambiguous: '1/10/2026' could be day first or "
                                           r"month first.*--dates day-first or --dates month-first"):
            load_ledger(invoices)
        return
    problems = load_ledger(invoices).problems
    assert [(p.column, p.problem) for p in problems] == [("due_date", problem)]


@pytest.mark.parametrize(("value", "problem"), BAD_DATES)
def test_the_command_line_says_the_same_words(value, problem):
    from typer.testing import CliRunner

    from xlcredit.cli import app

    result = CliRunner().invoke(app, ["score", "--as-of", value])
    assert result.exit_code == 2
    assert f"error: --as-of: {problem}" in " ".join(result.stderr.split())


# --------------------------------------------------------------------------- rates and days
def test_rates_are_fractions_and_days_whole_numbers():
    assert to_rate("0.08", "annual_rate") == Decimal("0.08")
    with pytest.raises(XlcError, match=r"^annual_rate: is a fraction, not a percent: 8 % is 0.08 \(got 8\)$"):
        to_rate(8, "annual_rate")
    with pytest.raises(XlcError, match=r"^annual_rate: must not be negative"):
        to_rate("-0.01", "annual_rate")
    assert to_days("30", "days") == 30 and to_days(30.0, "days") == 30
    with pytest.raises(XlcError, match=r"^days: must be a whole number of days \(got 2.5\)$"):
        to_days(2.5, "days")
