"""CSV/formula injection (issue 17): every CSV xlcredit writes quotes text a spreadsheet would run as a formula.

The rule is OWASP's "CSV Injection" advice (https://owasp.org/www-community/attacks/CSV_Injection): a cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single quote so Excel and
LibreOffice show it as text. Numbers stay numbers; XLSX cells are typed text, never formulas.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from decimal import Decimal

import openpyxl
import pytest
from typer.testing import CliRunner

from xlcredit.cli import app
from xlcredit.data.sample import SAMPLE_DIR
from xlcredit.io.tables import csv_cell, write_table

HOSTILE = "=cmd|' /C calc'!A0"
WIDE = {"COLUMNS": "220", "NO_COLOR": "1"}


def _rows(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize("text", [HOSTILE, "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "  =1+1", "\n =HYPERLINK(1)"])
def test_formula_looking_text_is_quoted(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", [Decimal("-12.50"), -3, 1.5, "-12.50", "+7", "1e5", "Acme = good", "", None])
def test_numbers_and_harmless_text_stay_as_they_are(value):
    assert csv_cell(value) == ("" if value is None else value)


def test_write_table_csv_quotes_and_xlsx_stays_typed_text(tmp_path):
    rows = [{"customer_id": "C1", "name": HOSTILE, "balance": Decimal("-10.00"), "due": dt.date(2026, 1, 2)}]
    out = write_table(rows, tmp_path / "t.csv")
    assert _rows(out)[1] == ["C1", "'" + HOSTILE, "-10.00", "2026-01-02"]
    cell = openpyxl.load_workbook(write_table(rows, tmp_path / "t.xlsx"))["Data"]["B2"]
    assert (cell.value, cell.data_type) == (HOSTILE, "s")


def test_the_letters_zip_csv_of_the_api_is_quoted():
    from xlcredit.service.letters import _csv

    text = _csv([{"customer_id": "C1", "name": HOSTILE, "amount": Decimal("-5")}], ["customer_id", "name", "amount"])
    assert text.splitlines()[1] == "C1,'" + HOSTILE + ",-5"


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    for path in SAMPLE_DIR.glob("*.csv"):
        shutil.copy(path, folder / path.name)
    with open(folder / "customers.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["customer_id"] in ("C001", "C004"):   # C004 gets a letter and an action in the sample
            row["name"] = HOSTILE
    with open(folder / "customers.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


COMMANDS = [
    ("score", ["{f}/customers.csv", "--out", "{o}/score.csv"], ["score.csv"]),
    ("limits", ["{f}/customers.csv", "--out", "{o}/limits.csv"], ["limits.csv"]),
    ("worklist", ["{f}", "--out", "{o}/worklist.csv"], ["worklist.csv"]),
    ("review", ["{f}", "--out", "{o}/review.csv", "--actions", "{o}/review_actions.csv"],
     ["review.csv", "review_actions.csv"]),
    ("letters", ["{f}", "--out", "{o}/letters", "--register", "{o}/register.csv", "--actions", "{o}/actions.csv"],
     ["actions.csv"]),
]


@pytest.mark.parametrize(("command", "args", "files"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_every_command_writing_csv_quotes_a_hostile_customer_name(command, args, files, hostile_folder, tmp_path):
    argv = [command, *(a.format(f=hostile_folder, o=tmp_path) for a in args), "--as-of", "2026-10-31"]
    result = CliRunner().invoke(app, argv, env=WIDE)
    assert result.exit_code == 0, result.output
    for name in files:
        cells = [c for row in _rows(tmp_path / name) for c in row]
        assert "'" + HOSTILE in cells, name
        assert HOSTILE not in cells, name
        assert not any(c.lstrip().startswith(("=", "+", "@")) for c in cells), name
