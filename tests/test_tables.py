"""Reading the customers table (aliases, bad rows, dates, Excel) and writing result tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcredit.core.coerce import to_date_or_none
from xlcredit.core.errors import XlcError
from xlcredit.data.sample import sample_path
from xlcredit.io.tables import (
    CUSTOMER_ALIASES,
    CUSTOMER_COLUMNS,
    normalise_header,
    read_customers,
    write_table,
)


def _csv(tmp_path, text: str, name: str = "customers.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- aliases
@pytest.mark.parametrize(("header", "field"), [
    ("Customer ID", "customer_id"), ("cust_id", "customer_id"), ("ACCOUNT", "customer_id"), ("Kunde", "customer_id"),
    ("Customer name", "name"), ("Name", "name"), ("Total assets", "total_assets"), ("Debt", "total_liabilities"),
    ("Total debt", "total_liabilities"), ("Start date", "relationship_start"),
    ("Customer since", "relationship_start"), ("Annual purchases", "annual_volume"),
    ("Annual volume", "annual_volume"), ("Credit rating", "rating"), ("Score (D&B)", "rating"),
    ("Paydex", "rating"), ("  total_LIABILITIES ", "total_liabilities"), ("E-mail", "email"),
])
def test_common_headers_are_recognised_whatever_their_case_spacing_or_punctuation(header, field):
    value, get, expected = ALIAS_VALUE[field]
    cells = {header: [value]} if field == "customer_id" else {"customer_id": ["K1"], header: [value]}
    table = read_customers(pd.DataFrame(cells))
    assert table.problems == ()
    assert table.columns[field] == header
    assert get(table.customers[0]) == expected


ALIAS_VALUE = {
    "customer_id": ("K9", lambda c: c.customer_id, "K9"),
    "name": ("Acme Test", lambda c: c.name, "Acme Test"),
    "total_assets": ("1000", lambda c: c.financials.total_assets, Decimal(1000)),
    "total_liabilities": ("400.5", lambda c: c.financials.total_liabilities, Decimal("400.5")),
    "relationship_start": ("2019-05-01", lambda c: c.relationship_start, dt.date(2019, 5, 1)),
    "annual_volume": ("250000", lambda c: c.annual_volume, Decimal(250000)),
    "rating": ("77", lambda c: c.rating, Decimal(77)),
    "email": ("ar@x.example", lambda c: c.email, "ar@x.example"),
}


def test_the_alias_table_covers_every_documented_column():
    assert set(CUSTOMER_ALIASES) == set(CUSTOMER_COLUMNS)
    assert normalise_header(" Score (D&B) ") == "scoredb" and normalise_header("客户 编号") == "客户编号"


def test_a_file_with_alias_headers_loads_into_customer_records(tmp_path):
    path = _csv(tmp_path, "Cust_ID,Customer Name,Total Assets,Debt,Customer since,Annual purchases,Score (D&B),"
                          "Reference check,Statutory regime,Unused column\n"
                          'K-100,"Falke & Sohn GmbH",1000000,450000,2019-05-01,"1,200,000.50",77,1,EU,whatever\n')
    table = read_customers(path)
    assert table.problems == ()
    (c,) = table.customers
    assert c.customer_id == "K-100" and c.name == "Falke & Sohn GmbH"
    assert c.financials.total_assets == Decimal("1000000") and c.financials.total_liabilities == Decimal("450000")
    assert c.financials.debt_ratio == Decimal("0.45")
    assert c.relationship_start == dt.date(2019, 5, 1)
    assert c.annual_volume == Decimal("1200000.50")
    assert c.rating == Decimal(77) and c.reference_check == 1 and c.statutory_regime == "EU"
    assert c.currency == "EUR" and c.language == "en"           # blanks: company currency, English
    assert c.open_orders == Decimal(0)                           # blank exposure figures are zero
    assert table.rows == {"K-100": 2}


def test_two_columns_meaning_the_same_field_are_refused():
    frame = pd.DataFrame({"customer_id": ["K1"], "Name": ["A"], "Customer name": ["B"]})
    with pytest.raises(XlcError, match=r"^name: is given by two columns, 'Name' and 'Customer name': keep one$"):
        read_customers(frame)


def test_missing_customer_id_column_names_the_column_and_lists_what_was_found(tmp_path):
    path = _csv(tmp_path, "Name,Rating,Total assets\nA,80,100\n")
    with pytest.raises(XlcError, match=r"^customer_id: column is missing from the customers table "
                                       r"\(found 'Name', 'Rating', 'Total assets'\)$"):
        read_customers(path)


# --------------------------------------------------------------------------- bad rows
BAD_ROWS = (
    "Customer ID,Name,Total assets,Debt,Customer since,Rating\n"
    "K1,Good One,1000,400,2020-01-15,80\n"          # row 2: good
    "K2,Text Assets,lots,400,2020-01-15,80\n"       # row 3: text in a number column
    "K3,Negative,-5,400,2020-01-15,80\n"            # row 4: negative assets
    "K4,Bad Date,1000,400,2020-02-31,80\n"          # row 5: no 31 February
    ",No Id,1000,400,2020-01-15,80\n"               # row 6: missing customer id
    "K1,Again,1000,400,2020-01-15,80\n"             # row 7: duplicate id
    "K5,Rating High,1000,400,,130\n"                # row 8: rating above 100
    "\n"                                            # blank line: ignored
    "K6,Good Two,2000,100,15/03/2018,\n"            # row 10: good (unambiguous day-first date, blank rating)
)


def test_bad_rows_are_reported_with_file_row_column_value_and_problem_and_good_rows_still_load(tmp_path):
    table = read_customers(_csv(tmp_path, BAD_ROWS))
    assert [c.customer_id for c in table.customers] == ["K1", "K6"]
    assert table.customers[1].relationship_start == dt.date(2018, 3, 15)
    assert table.customers[1].rating is None
    got = [(p.table, p.row, p.column, p.value, p.problem) for p in table.problems]
    assert got == [
        ("customers", 3, "Total assets", "lots", "is not a number (got 'lots')"),
        ("customers", 4, "Total assets", "-5", "must not be negative (got -5)"),
        ("customers", 5, "Customer since", "2020-02-31", "is not a valid date (got '2020-02-31')"),
        ("customers", 6, "Customer ID", "", "is empty"),
        ("customers", 7, "Customer ID", "K1", "K1 appears again (first on row 2)"),
        ("customers", 8, "Rating", "130", "must lie between 0 and 100 (got 130)"),
    ]
    assert str(table.problems[0]) == "customers row 3, Total assets: is not a number (got 'lots')"


def test_every_bad_cell_of_a_row_is_reported(tmp_path):
    table = read_customers(_csv(tmp_path, "customer_id,total_assets,reference_check,language\n"
                                          "K1,abc,maybe,fr\n"))
    assert table.customers == ()
    assert [(p.row, p.column) for p in table.problems] == [(2, "total_assets"), (2, "language"),
                                                            (2, "reference_check")]


def test_dataframe_rows_are_numbered_as_if_written_below_a_header():
    frame = pd.DataFrame({"customer_id": ["A", "B", "C"], "total_assets": [100.0, float("nan"), -1.0]})
    table = read_customers(frame)
    assert [c.customer_id for c in table.customers] == ["A", "B"]
    assert table.customers[1].financials.total_assets is None      # NaN = blank
    assert [(p.row, p.column, p.problem) for p in table.problems] == [(4, "total_assets",
                                                                      "must not be negative (got -1.0)")]


def test_semicolon_csv_uses_decimal_commas(tmp_path):
    path = _csv(tmp_path, "Kundennummer;Name;Bilanzsumme;Verbindlichkeiten\nD1;Müller AG;1.234.567,89;500000\n")
    (c,) = read_customers(path).customers
    assert c.financials.total_assets == Decimal("1234567.89") and c.financials.total_liabilities == Decimal(500000)
    assert c.name == "Müller AG"


def test_windows_1252_csv_is_read(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes("customer_id,name\nK1,Société Générale de Test\n".encode("cp1252"))
    assert read_customers(path).customers[0].name == "Société Générale de Test"


# --------------------------------------------------------------------------- dates
@pytest.mark.parametrize(("value", "expected"), [
    # Microsoft, "DATEVALUE function": "January 1, 2008 is serial number 39448" (1900 date system)
    (39448, dt.date(2008, 1, 1)), ("39448", dt.date(2008, 1, 1)), (39448.0, dt.date(2008, 1, 1)),
    ("2021-03-04", dt.date(2021, 3, 4)), ("2021/03/04", dt.date(2021, 3, 4)),
    ("2021-03-04 00:00:00", dt.date(2021, 3, 4)), (dt.datetime(2021, 3, 4, 12, 30), dt.date(2021, 3, 4)),
    (pd.Timestamp("2021-03-04"), dt.date(2021, 3, 4)),
    ("23/04/2021", dt.date(2021, 4, 23)), ("23.04.2021", dt.date(2021, 4, 23)),   # day first: 23 > 12
    ("04/23/2021", dt.date(2021, 4, 23)),                                         # month first: 23 > 12
    ("05/05/2021", dt.date(2021, 5, 5)),                                          # both readings agree
    ("", None), (None, None), (float("nan"), None),
])
def test_dates_in_the_forms_excel_users_write_them(value, expected):
    # a table cell is read by the one date rule (xlcredit.core.coerce; every form is in tests/test_coerce.py)
    assert to_date_or_none(value, "invoice_date") == expected


@pytest.mark.parametrize(("value", "words"), [
    ("03/04/2021", r"^due_date: is ambiguous: 03/04/2021 could be 3 April or 4 March \(write it as YYYY-MM-DD\)$"),
    ("next week", r"^due_date: is not a date \(got 'next week'; write it as YYYY-MM-DD\)$"),
    ("2021-02-30", r"^due_date: is not a valid date \(got '2021-02-30'\)$"),
    (True, r"^due_date: is not a date \(got True\)$"),
])
def test_bad_or_ambiguous_dates_are_refused_with_the_field_named(value, words):
    with pytest.raises(XlcError, match=words):
        to_date_or_none(value, "due_date")


def test_relationship_start_may_be_a_bare_year(tmp_path):
    table = read_customers(pd.DataFrame({"customer_id": ["K1"], "Customer since": [2015]}))
    assert table.customers[0].relationship_start == dt.date(2015, 1, 1)


# --------------------------------------------------------------------------- Excel files
def test_xlsx_round_trip_keeps_every_documented_field(tmp_path):
    original = read_customers(sample_path("customers"))
    rows = [dict(zip(CUSTOMER_COLUMNS, r, strict=True)) for r in
            pd.read_csv(sample_path("customers"), dtype=str, keep_default_na=False).itertuples(index=False)]
    rows = [{k: (Decimal(v) if k in ("total_assets", "annual_volume") and v else v) for k, v in r.items()}
            for r in rows]
    path = write_table(rows, tmp_path / "customers.xlsx", sheet="Customers")
    again = read_customers(path, sheet="Customers")
    assert again.problems == ()
    assert again.customers == original.customers


def test_xlsx_written_with_bold_frozen_filtered_header_and_money_as_numbers(tmp_path):
    rows = [{"customer_id": "K1", "limit": Decimal("125000.50"), "deposit": Decimal("0.3"),
             "since": dt.date(2020, 1, 2), "score": 81, "stop": True, "note": None}]
    path = write_table(rows, tmp_path / "out.xlsx", formats={"deposit": "0%"})
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert [c.value for c in ws[1]] == ["customer_id", "limit", "deposit", "since", "score", "stop", "note"]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:G2"
    assert ws["B2"].value == 125000.5 and ws["B2"].number_format == "#,##0.00"
    assert ws["C2"].number_format == "0%"
    assert ws["D2"].value == dt.datetime(2020, 1, 2) and ws["D2"].number_format == "yyyy-mm-dd"
    assert ws["E2"].value == 81 and ws["F2"].value is True and ws["G2"].value is None


def test_xlsx_title_rows_above_the_header_keep_sheet_row_numbers(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Debtors"
    ws.append(["Debtor list, exported 2026-10-31"])
    ws.append([])
    ws.append(["Account", "Company", "Total assets", "Customer since"])
    ws.append(["A1", "Alpha", 100, dt.datetime(2019, 1, 31)])
    ws.append(["A2", "Beta", "n/a", 43831])            # text in a number cell; 43831 = 2020-01-01
    ws.append(["A3", "Gamma", 50, 43831])
    wb.save(tmp_path / "debtors.xlsx")
    table = read_customers(tmp_path / "debtors.xlsx", sheet="Debtors")
    assert [c.customer_id for c in table.customers] == ["A1", "A3"]
    assert table.customers[0].relationship_start == dt.date(2019, 1, 31)
    assert table.customers[1].relationship_start == dt.date(2020, 1, 1)
    assert [(p.row, p.column, p.value) for p in table.problems] == [(5, "Total assets", "n/a")]


def test_unknown_sheet_missing_file_and_unsupported_type_are_clear_errors(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["customer_id"])
    wb.save(tmp_path / "c.xlsx")
    with pytest.raises(XlcError, match=r"^sheet: no sheet named 'Kunden' in c.xlsx \(sheets: Sheet\)$"):
        read_customers(tmp_path / "c.xlsx", sheet="Kunden")
    with pytest.raises(XlcError, match=r"^customers file: not found: .*missing.csv$"):
        read_customers(tmp_path / "missing.csv")
    with pytest.raises(XlcError, match=r"^customers file: cannot read .xls files \(save it as .xlsx\)"):
        read_customers(tmp_path / "old.xls")


def test_parquet_is_read(tmp_path):
    pd.DataFrame({"Customer ID": ["P1"], "Total assets": [10.5]}).to_parquet(tmp_path / "c.parquet")
    (c,) = read_customers(tmp_path / "c.parquet").customers
    assert c.customer_id == "P1" and c.financials.total_assets == Decimal("10.5")


# --------------------------------------------------------------------------- CSV output
def test_csv_output_keeps_exact_decimals_iso_dates_and_a_bom_for_excel(tmp_path):
    rows = [{"id": "K1", "amount": Decimal("0.10"), "day": dt.date(2026, 10, 31), "flag": False, "none": None},
            {"id": "客户", "amount": Decimal("1234567.89"), "extra": 3}]
    path = write_table(rows, tmp_path / "o.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig") == ("id,amount,day,flag,none,extra\n"
                                        "K1,0.10,2026-10-31,false,,\n"
                                        "客户,1234567.89,,,,3\n")


def test_output_path_must_be_csv_or_xlsx_in_an_existing_folder(tmp_path):
    with pytest.raises(XlcError, match=r"^out: must end in .csv or .xlsx \(got o.txt\)$"):
        write_table([], tmp_path / "o.txt")
    with pytest.raises(XlcError, match=r"^out: folder does not exist: "):
        write_table([], tmp_path / "no" / "o.csv")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False), min_size=1, max_size=5))
def test_amounts_survive_a_csv_round_trip_exactly(tmp_path_factory, amounts):
    folder = tmp_path_factory.mktemp("rt")
    rows = [{"customer_id": f"K{i}", "annual_volume": a} for i, a in enumerate(amounts)]
    table = read_customers(write_table(rows, folder / "c.csv"))
    assert [c.annual_volume for c in table.customers] == amounts


def test_bundled_sample_loads_without_problems():
    table = read_customers(sample_path("customers"))
    assert len(table.customers) == 60 and table.problems == ()
    assert set(table.columns) == set(CUSTOMER_COLUMNS)


@pytest.mark.parametrize("missing", [pd.NA, pd.NaT, None, float("nan")], ids=["NA", "NaT", "None", "NaN"])
def test_pandas_missing_values_are_blank_cells(missing):
    """pd.NA / pd.NaT / None / NaN in any column read exactly like an empty cell (module notes, Blanks)."""
    columns = ("total_assets", "open_orders", "rating", "items_over_90", "avg_days_late", "relationship_start",
               "reference_check", "name", "country", "currency", "language", "statutory_regime")
    blank = read_customers(pd.DataFrame({"customer_id": ["K1"], **{c: [""] for c in columns}}))
    got = read_customers(pd.DataFrame({"customer_id": ["K1"], **{c: pd.Series([missing], dtype=object)
                                                                   for c in columns}}))
    assert got.problems == () and blank.problems == ()
    assert got.customers == blank.customers
    c = got.customers[0]
    assert (c.financials.total_assets, c.rating, c.open_orders, c.currency) == (None, None, Decimal(0), "EUR")


def test_nullable_and_arrow_columns_read_blanks_like_empty_cells(tmp_path):
    """Int64/string dtypes and pd.read_csv(dtype_backend="pyarrow") give <NA> for empty cells: no problems."""
    text = "customer_id,total_assets,items_over_90,name,relationship_start\nK1,,,,\nK2,5000,3,Acme,2015\n"
    path = _csv(tmp_path, text)
    expected = read_customers(path)
    assert expected.problems == ()
    for backend in ("pyarrow", "numpy_nullable"):
        got = read_customers(pd.read_csv(path, dtype_backend=backend))
        assert got.problems == (), backend
        assert got.customers == expected.customers, backend
    typed = pd.DataFrame({"customer_id": pd.array(["K1", "K2"], dtype="string"),
                          "total_assets": pd.array([None, 5000], dtype="Int64"),
                          "name": pd.array([None, "Acme"], dtype="string")})
    got = read_customers(typed)
    assert got.problems == ()
    assert [c.financials.total_assets for c in got.customers] == [None, Decimal(5000)]
    assert [c.name for c in got.customers] == ["", "Acme"]
