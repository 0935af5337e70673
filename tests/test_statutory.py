"""Statutory late-payment interest and compensation (UK Act 1998, EU Directive 2011/7/EU) and the rate tables.

Sources:
* GOV.UK, "Late commercial payments: charging interest and debt recovery"
  (https://www.gov.uk/late-commercial-payments-interest-debt-recovery/charging-interest-commercial-debt),
  worked example: "If your business were owed £1,000 and the Bank of England base rate were 0.5%: the annual
  statutory interest on this would be £85 (1,000 x 0.085 = £85); divide £85 by 365 to get the daily interest:
  23p a day (85 / 365 = 0.23); after 50 days this would be £11.50 (50 x 0.23 = 11.50)." The page rounds the
  daily interest to whole pence before multiplying; xlcredit rounds once at the end (50 × 85/365 = 11.6438… →
  £11.64). Both figures are asserted below so the difference stays visible.
* Late Payment of Commercial Debts (Interest) Act 1998: s.4(2) interest runs from the day after the relevant
  day; s.5A(2) fixed sums £40 (debt < £1,000), £70 (£1,000 to < £10,000), £100 (≥ £10,000).
* Late Payment of Commercial Debts (Rate of Interest) (No. 3) Order 2002 (SI 2002/1675) art. 4: 8 % over the
  official dealing rate in force on 30 June (interest starting to run 1 July–31 December) or 31 December
  (interest starting to run 1 January–30 June) immediately before the day statutory interest starts to run.
* Directive 2011/7/EU art. 2(6)-(7), art. 3(2)-(3), art. 6: ECB MRO rate + 8 points, the rate of 1 January /
  1 July for each half-year ("most recent main refinancing operation carried out before the first calendar day
  of the half-year in question" in the transpositions), interest from the day after the due date, €40 per
  invoice. The EU example below is constructed by this method from the shipped ECB table (the Directive has
  no worked example): 2.50 % before 1 Jan 2023, 4.00 % before 1 Jul 2023 (from 21 Jun 2023), 4.50 % before
  1 Jan 2024 (from 20 Sep 2023).
"""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlcredit.core.errors import XlcError
from xlcredit.core.interest import ReferenceRates, late_interest, statutory_interest, uk_reference_date
from xlcredit.io.rates import load_reference_rates, parse_rate_table, shipped_reference_rates

D = Decimal
RATES = shipped_reference_rates()


# --------------------------------------------------------------------------- the shipped tables
def test_shipped_rate_files_are_valid():
    """Both CSVs load through the validating loader, dates increase, and known published rows are there."""
    rates = load_reference_rates()
    assert rates == RATES
    assert dict(rates.boe)[dt.date(2009, 3, 5)] == D("0.005")
    assert dict(rates.boe)[dt.date(2016, 8, 4)] == D("0.0025")
    assert dict(rates.boe)[dt.date(2023, 8, 3)] == D("0.0525")
    assert dict(rates.boe)[dt.date(2025, 8, 7)] == D("0.04")
    assert dict(rates.ecb)[dt.date(2016, 3, 16)] == D("0")
    assert dict(rates.ecb)[dt.date(2023, 9, 20)] == D("0.045")
    assert dict(rates.ecb)[dt.date(2025, 6, 11)] == D("0.0215")
    for table in (rates.boe, rates.ecb):
        assert table[0][0] <= dt.date(2008, 1, 1)
        assert all(a[0] < b[0] for a, b in itertools.pairwise(table))
    assert rates.boe_checked is not None and rates.boe_checked >= rates.boe[-1][0]
    assert rates.ecb_checked is not None and rates.ecb_checked >= rates.ecb[-1][0]
    assert rates.last_date == min(rates.boe_checked, rates.ecb_checked)


def test_rate_on_uses_the_last_change_on_or_before_the_day():
    assert RATES.rate_on("UK", dt.date(2023, 6, 21)) == D("0.045")
    assert RATES.rate_on("UK", dt.date(2023, 6, 22)) == D("0.05")       # the announcement day itself
    assert RATES.rate_on("EU", dt.date(2030, 1, 1)) == RATES.ecb[-1][1]   # beyond the table: last rate
    with pytest.raises(XlcError, match=r"^date: 1990-01-01 is before the first row of the UK reference-rate table"):
        RATES.rate_on("UK", dt.date(1990, 1, 1))


@pytest.mark.parametrize(("text", "words"), [
    ("effective_date,rate\n2024-01-02,5\n2024-01-01,4\n",
     r"^t\.csv line 3 effective_date: dates must increase \(got 2024-01-01 after 2024-01-02\)$"),
    ("effective_date,rate\n2024-01-02,5\n2024-01-02,4\n", r"^t\.csv line 3 effective_date: dates must increase"),
    ("effective_date,rate\n2024-01-02,five\n", r"^t\.csv line 2 rate: is not a number \(got 'five'\)$"),
    ("effective_date,rate\n2024-01-02,\n", r"^t\.csv line 2 rate: is empty$"),
    ("effective_date,rate\n02/01/2024,5\n", r"^t\.csv line 2 effective_date: is not a YYYY-MM-DD date"),
    ("effective_date,rate\n2024-01-02,525\n",
     r"^t\.csv line 2 rate: must be a percent between -10 and 30 \(got 525\)$"),
    ("date;rate\n2024-01-02;5\n", r"^t\.csv: header must name effective_date and rate"),
    ("# only a comment\n", r"^t\.csv: has no header row"),
    ("effective_date,rate\n", r"^t\.csv: has no rate rows$"),
    ("# complete_through: soon\neffective_date,rate\n2024-01-02,5\n",
     r"^t\.csv line 1 complete_through: is not a date"),
])
def test_loader_refuses_bad_rows_naming_file_line_and_column(text, words):
    with pytest.raises(XlcError, match=words):
        parse_rate_table(text, "t.csv")


def test_loader_reads_comments_notes_and_percent(tmp_path):
    (tmp_path / "boe_bank_rate.csv").write_text("# complete_through: 2024-03-01\neffective_date,rate,note\n"
                                                "2024-01-02,5.25,first\n", encoding="utf-8")
    (tmp_path / "ecb_mro.csv").write_text("effective_date,rate\n2023-09-20,4.50\n", encoding="utf-8")
    rates = load_reference_rates(tmp_path)
    assert rates.boe == ((dt.date(2024, 1, 2), D("0.0525")),)
    assert rates.valid_through("UK") == dt.date(2024, 3, 1)
    assert rates.valid_through("EU") == dt.date(2023, 9, 20)
    assert rates.last_date == dt.date(2023, 9, 20)
    (tmp_path / "ecb_mro.csv").unlink()
    with pytest.raises(XlcError, match=r"^rates: file not found: .*ecb_mro\.csv$"):
        load_reference_rates(tmp_path)


def test_reference_rates_record_checks_its_tables():
    with pytest.raises(XlcError, match=r"^ecb: the reference-rate table has no rows$"):
        ReferenceRates(boe=((dt.date(2024, 1, 1), D("0.05")),), ecb=())
    with pytest.raises(XlcError, match=r"^boe\[1\]\.effective_date: dates must increase"):
        ReferenceRates(boe=((dt.date(2024, 1, 1), D("0.05")), (dt.date(2023, 1, 1), D("0.04"))),
                       ecb=((dt.date(2024, 1, 1), D("0.05")),))
    with pytest.raises(XlcError, match=r"^boe\[0\]\.rate: is not a number \(got 0\.05\)$"):
        ReferenceRates(boe=((dt.date(2024, 1, 1), 0.05),), ecb=((dt.date(2024, 1, 1), D("0.05")),))


# --------------------------------------------------------------------------- UK
def test_gov_uk_worked_example_1000_pounds_base_rate_half_percent_50_days():
    """GOV.UK example (module docstring): £1,000, base rate 0.5 % → 8.5 %, £85 a year, 23p a day, 50 days.

    Bank Rate was 0.5 % from 5 Mar 2009 to 3 Aug 2016; a debt due 31 Mar 2015 starts bearing interest on
    1 Apr 2015, so the reference date is 31 Dec 2014 (0.5 %).
    """
    due = dt.date(2015, 3, 31)
    result = statutory_interest(D(1000), due, due + dt.timedelta(days=50), "UK", RATES)
    assert result.reference_date == dt.date(2014, 12, 31)
    assert result.reference_rate == D("0.005") and result.rate == D("0.085")
    assert result.days == 50
    # the page's published figures: £85 a year, 23p a day
    assert late_interest(1000, due, due + dt.timedelta(days=365), result.rate, currency="GBP") == D("85.00")
    assert late_interest(1000, due, due + dt.timedelta(days=1), result.rate, currency="GBP") == D("0.23")
    assert 50 * D("0.23") == D("11.50")                      # the page: daily figure rounded first
    assert result.interest == D("11.64")                     # xlcredit: 50 × 85 / 365 rounded once
    assert result.compensation == D("70.00")                 # £1,000 is "£1,000 or more" → £70
    assert result.total == D("81.64")
    assert result.currency == "GBP" and result.regime == "UK" and not result.beyond_table


def test_uk_reference_rate_of_the_half_year_interest_starts_in_and_fixed_thereafter():
    """SI 2002/1675 art. 4: base rate on 31 Dec / 30 Jun immediately before interest starts to run.

    Due 29 Jun 2022 → interest from 30 Jun 2022 → 31 Dec 2021 (0.25 %) → 8.25 %.
    Due 30 Jun 2022 → interest from 1 Jul 2022 → 30 Jun 2022 (1.25 %, from 16 Jun 2022) → 9.25 %.
    The rate stays fixed for the whole delay although Bank Rate rose to 4.25 % by June 2023.
    £10,000 × 8.25 % × 365 / 365 = £825.00, plus £100 (debt of £10,000 or more).
    """
    early = statutory_interest(D(10000), dt.date(2022, 6, 29), dt.date(2023, 6, 29), "UK", RATES)
    assert (early.reference_date, early.rate, early.days) == (dt.date(2021, 12, 31), D("0.0825"), 365)
    assert (early.interest, early.compensation, early.total) == (D("825.00"), D("100.00"), D("925.00"))
    assert len(early.periods) == 1 and early.periods[0].rate == D("0.0825")
    late = statutory_interest(D(10000), dt.date(2022, 6, 30), dt.date(2023, 6, 30), "UK", RATES)
    assert (late.reference_date, late.rate) == (dt.date(2022, 6, 30), D("0.0925"))
    assert late.interest == D("925.00")
    assert uk_reference_date(dt.date(2023, 1, 1)) == dt.date(2022, 12, 31)
    assert uk_reference_date(dt.date(2023, 12, 31)) == dt.date(2023, 6, 30)


def test_uk_2024_debt_reference_rate_5_25():
    """£1,000 due 31 Jan 2024, paid 21 Mar 2024 (50 days): 31 Dec 2023 base rate 5.25 % → 13.25 %.

    1,000 × 0.1325 × 50 / 365 = 18.150… → £18.15; + £70 = £88.15.
    """
    result = statutory_interest(1000, dt.date(2024, 1, 31), dt.date(2024, 3, 21), "UK", RATES, currency="GBP")
    assert (result.rate, result.interest, result.compensation, result.total) == (
        D("0.1325"), D("18.15"), D("70.00"), D("88.15"))


@pytest.mark.parametrize(("amount", "fixed"), [
    ("0.01", "40"), ("999.99", "40"), ("1000", "70"), ("9999.99", "70"), ("10000", "100"), ("2500000", "100"),
])
def test_uk_fixed_sum_bands_s5a(amount, fixed):
    result = statutory_interest(D(amount), dt.date(2024, 1, 31), dt.date(2024, 2, 1), "UK", RATES)
    assert result.compensation == D(fixed)


def test_no_interest_or_compensation_before_the_debt_is_late():
    for regime in ("UK", "EU"):
        result = statutory_interest(D(5000), dt.date(2024, 1, 31), dt.date(2024, 1, 31), regime, RATES, invoices=1)
        assert (result.interest, result.compensation, result.total, result.days) == (D(0), D(0), D(0), 0)
        assert result.periods == ()
        nothing_owed = statutory_interest(D(0), dt.date(2024, 1, 31), dt.date(2024, 6, 30), regime, RATES)
        assert (nothing_owed.interest, nothing_owed.compensation) == (D(0), D(0))


# --------------------------------------------------------------------------- EU
def test_eu_rate_changes_each_half_year_across_a_long_delay():
    """€10,000 due 31 May 2023, as of 31 Jan 2024 (245 days), rates from the shipped ECB table:

    1–30 Jun 2023: 30 days at 2.50 + 8 = 10.50 %; 1 Jul–31 Dec 2023: 184 days at 4.00 + 8 = 12.00 %;
    1–31 Jan 2024: 31 days at 4.50 + 8 = 12.50 %.
    10,000 × (0.105 × 30 + 0.12 × 184 + 0.125 × 31) / 365 = 291,050 / 365 = 797.397… → €797.40; + €40.
    """
    result = statutory_interest(D(10000), dt.date(2023, 5, 31), dt.date(2024, 1, 31), "EU", RATES)
    assert [(p.start, p.end, p.days, p.rate) for p in result.periods] == [
        (dt.date(2023, 6, 1), dt.date(2023, 6, 30), 30, D("0.105")),
        (dt.date(2023, 7, 1), dt.date(2023, 12, 31), 184, D("0.12")),
        (dt.date(2024, 1, 1), dt.date(2024, 1, 31), 31, D("0.125")),
    ]
    assert [p.reference_date for p in result.periods] == [dt.date(2023, 1, 1), dt.date(2023, 7, 1),
                                                          dt.date(2024, 1, 1)]
    assert result.days == 245
    assert (result.interest, result.compensation, result.total) == (D("797.40"), D("40.00"), D("837.40"))
    assert (result.reference_date, result.reference_rate, result.rate) == (dt.date(2023, 1, 1), D("0.025"),
                                                                           D("0.105"))
    # periods are rounded for display; the total is the exact sum rounded once
    assert sum(p.interest for p in result.periods) == D("797.39")


def test_eu_compensation_is_40_euro_per_invoice_whatever_the_size():
    small = statutory_interest(D(100), dt.date(2024, 1, 31), dt.date(2024, 3, 1), "EU", RATES)
    big = statutory_interest(D(100000), dt.date(2024, 1, 31), dt.date(2024, 3, 1), "EU", RATES, invoices=3)
    assert small.compensation == D("40.00") and big.compensation == D("120.00")


def test_eu_rate_change_on_the_first_day_of_a_half_year_applies_from_the_next_half_year():
    """"Most recent main refinancing operation carried out *before* the first calendar day of the half-year"."""
    rates = ReferenceRates(boe=((dt.date(2030, 1, 1), D("0.05")),),
                           ecb=((dt.date(2030, 1, 1), D("0.02")), (dt.date(2030, 7, 1), D("0.03"))))
    result = statutory_interest(D(36500), dt.date(2030, 6, 30), dt.date(2031, 1, 10), "EU", rates)
    assert [p.rate for p in result.periods] == [D("0.10"), D("0.11")]
    # 36,500 × (0.10 × 184 + 0.11 × 10) / 365 = 100 × 19.5 = 1,950.00
    assert result.interest == D("1950.00")


def test_beyond_table_flags_reference_dates_after_the_checked_date():
    rates = ReferenceRates(boe=((dt.date(2024, 1, 1), D("0.05")),), ecb=((dt.date(2024, 1, 1), D("0.04")),),
                           boe_checked=dt.date(2025, 3, 31), ecb_checked=dt.date(2025, 3, 31))
    inside = statutory_interest(D(1000), dt.date(2025, 6, 15), dt.date(2025, 9, 1), "UK", rates)  # ref. 31 Dec 2024
    outside = statutory_interest(D(1000), dt.date(2025, 7, 15), dt.date(2025, 9, 1), "UK", rates)  # ref. 30 Jun 2025
    assert not inside.beyond_table and outside.beyond_table
    assert outside.rate == D("0.13")                                                # last rate used
    eu_inside = statutory_interest(D(1000), dt.date(2025, 1, 15), dt.date(2025, 6, 30), "EU", rates)
    eu_outside = statutory_interest(D(1000), dt.date(2025, 1, 15), dt.date(2025, 7, 1), "EU", rates)
    assert not eu_inside.beyond_table and eu_outside.beyond_table


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(("kwargs", "words"), [
    ({"regime": "FR"}, r"^regime: must be UK or EU \(got 'FR'\)$"),
    ({"regime": ""}, r"^regime: is empty$"),
    ({"amount": -1}, r"^amount: must not be negative \(got -1\)$"),
    ({"due_date": None}, r"^due_date: is empty$"),
    ({"as_of": "31.03.2024"}, r"^as_of: is not a date \(got '31\.03\.2024'\)$"),
    ({"currency": "EUR"}, r"^currency: UK statutory interest and compensation are in GBP \(got 'EUR'\)$"),
    ({"invoices": 2}, r"^invoices: UK fixed compensation depends on each debt's size: work out one invoice at a "
                      r"time \(got 2\)$"),
    ({"invoices": 0}, r"^invoices: must be a whole number of at least 1 \(got 0\)$"),
    ({"invoices": 1.5}, r"^invoices: must be a whole number of at least 1 \(got 1\.5\)$"),
    ({"rates": None}, r"^rates: must be the reference-rate tables \(got None\)$"),
])
def test_bad_input_names_the_argument(kwargs, words):
    args = {"amount": D(1000), "due_date": dt.date(2024, 1, 31), "as_of": dt.date(2024, 3, 31), "regime": "UK",
            "rates": RATES}
    args |= kwargs
    with pytest.raises(XlcError, match=words):
        statutory_interest(**args)


def test_eu_refuses_other_currencies_and_regime_is_case_insensitive():
    with pytest.raises(XlcError, match=r"^currency: EU statutory interest and compensation are in EUR \(got 'PLN'\)$"):
        statutory_interest(D(1000), dt.date(2024, 1, 31), dt.date(2024, 3, 31), "EU", RATES, currency="PLN")
    assert statutory_interest(D(1000), dt.date(2024, 1, 31), dt.date(2024, 3, 31), " eu ", RATES).regime == "EU"


# --------------------------------------------------------------------------- properties
@given(st.decimals(min_value=0, max_value=5_000_000, places=2, allow_nan=False, allow_infinity=False),
       st.dates(min_value=dt.date(2008, 1, 1), max_value=dt.date(2026, 12, 31)),
       st.integers(min_value=0, max_value=1500), st.integers(min_value=0, max_value=1500),
       st.sampled_from(["UK", "EU"]))
def test_statutory_interest_is_monotone_in_days(amount, due, d1, d2, regime):
    lo, hi = sorted((d1, d2))
    a = statutory_interest(amount, due, due + dt.timedelta(days=lo), regime, RATES)
    b = statutory_interest(amount, due, due + dt.timedelta(days=hi), regime, RATES)
    assert a.interest <= b.interest and a.total <= b.total
    assert b.days == hi and sum(p.days for p in b.periods) == hi
