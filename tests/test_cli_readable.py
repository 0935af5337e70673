"""The command line reads well: help wrapped to the terminal, flags without ``<bool>``, money alike in every table."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from xlcredit.cli import app
from xlcredit.cli.common import Column, show_table, unwrap_paragraphs

NARROW = {"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}


def _commands() -> list[list[str]]:
    import typer

    group = typer.main.get_command(app)
    found: list[list[str]] = [[]]

    def walk(cmd, path):
        for name, sub in getattr(cmd, "commands", {}).items():
            found.append([*path, name])
            walk(sub, [*path, name])

    walk(group, [])
    return found


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "xlcredit")
def test_help_at_80_columns_breaks_no_sentence_and_shows_flags_plainly(command):
    result = CliRunner().invoke(app, [*command, "--help"], env=NARROW)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "<bool>" not in text
    assert all(len(line) <= 80 for line in text.splitlines())
    # the description above the first box: a line is only broken where the next word would not fit
    head = text.split("╭", 1)[0].splitlines()
    for line, following in itertools.pairwise(head):
        if line.strip() and following.strip() and not line.lstrip().startswith(("Usage:", "* ", "- ")):
            assert len(line.rstrip()) + 1 + len(following.split()[0]) > 78, (line, following)


def test_letters_help_keeps_its_words():
    text = CliRunner().invoke(app, ["letters", "--help"], env=NARROW).output
    flat = " ".join(text.split())
    assert ("Every letter and action is recorded in the credit database; a re-run never issues the same ladder step "
            "twice for the same overdue invoices (use --resend to send again).") in flat
    assert re.search(r"--dry-run\s+Only list what would be issued\.", text)
    assert "[default: out/letters]" in flat


def test_unwrap_keeps_paragraphs_lists_and_verbatim_blocks():
    text = "One line\nbroken here.\n\n* item one\n* item two\ncontinued\n\n\bkeep\nthis"
    assert unwrap_paragraphs(text) == "One line broken here.\n\n* item one\n* item two continued\n\n\bkeep\nthis"


def test_money_has_thousands_separators_currency_decimals_and_one_zero(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    rows = [{"id": "A", "amount": Decimal("0"), "currency": "EUR", "fee": Decimal("0"), "count": 3},
            {"id": "B", "amount": Decimal("2299277"), "currency": "JPY", "fee": Decimal("12345.5"), "count": 1200},
            {"id": "C", "amount": Decimal("22932.1"), "currency": "EUR", "fee": Decimal("1.25"), "count": 0}]
    show_table("t", rows, [Column("id", "Id"), Column("amount", "Amount", "right", money="currency"),
                           Column("currency", "Cur"), Column("fee", "Fee", "right"), Column("count", "N", "right")])
    out = capsys.readouterr().out
    lines = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
             for line in out.splitlines() if line.startswith("│")}
    assert lines["A"] == ["0.00", "EUR", "0.00", "3"]                 # zero as 0.00 beside 12,345.50
    assert lines["B"] == ["2,299,277", "JPY", "12,345.50", "1200"]     # JPY has no minor unit
    assert lines["C"] == ["22,932.10", "EUR", "1.25", "0"]


def test_review_amounts_have_thousands_separators(tmp_path):
    result = CliRunner().invoke(app, ["review", "--dry-run"], env={"COLUMNS": "250", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "invoice INV-" in result.output
    assert not re.search(r"\(\d{4,}\.\d\d\)", result.output), "an amount without thousands separators"
    assert re.search(r"\(\d{1,3}(,\d{3})+\.\d\d\)", result.output)


def test_tables_fit_80_and_120_columns_with_a_chinese_name_and_money(tmp_path):
    """No table is wider than the terminal or collapses a column: at 80 and 120 columns every line fits (counted in
    display cells — 宁波恒源纺织有限公司 takes two cells a character), amounts show in full, and columns that do not
    fit are named on stderr with a pointer to --out."""
    from rich.cells import cell_len

    customers = tmp_path / "customers.csv"
    customers.write_text("customer_id,name,country,currency,language,rating,relationship_start,annual_volume\n"
                         "K1,宁波恒源纺织有限公司,CN,CNY,zh,70,2018-01-01,1250000\n"
                         "K2,Ostermoor Werkzeugbau AG,DE,EUR,en,85,2015-01-01,980000\n", encoding="utf-8")
    for width in (80, 120):
        for args in (["limits", str(customers), "--as-of", "2026-10-31"], ["age", "--as-of", "2026-10-31"],
                     ["review", "--dry-run", "--all"]):
            result = CliRunner().invoke(app, args, env={"COLUMNS": str(width), "NO_COLOR": "1"})
            assert result.exit_code == 0, (args, result.output)
            too_wide = [line for line in result.stdout.splitlines() if cell_len(line) > width]
            assert too_wide == [], (width, args, too_wide[:3])
            if "limits" in args:
                k1 = next(line for line in result.stdout.splitlines() if "K1" in line)
                assert "宁波" in k1 and "187,000" in k1   # the name, and the limit: 15 % of 1,250,000, in full
    narrow = CliRunner().invoke(app, ["age", "--as-of", "2026-10-31"], env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert "not shown at this width (80 columns):" in " ".join(narrow.stderr.split())
    assert "--out FILE.csv" in narrow.stderr


def test_bank_matches_show_their_status_at_80_columns():
    """What a controller reads first in `xlcredit match` is each transaction's status (auto / review / unmatched):
    at 80 columns it shows beside the amount and customer; the invoices and reasons are named as left out."""
    from pathlib import Path

    from rich.cells import cell_len

    statement = Path(__file__).resolve().parent / "fixtures" / "bank" / "statement.camt053.xml"
    result = CliRunner().invoke(app, ["match", str(statement), "--as-of", "2026-10-31"], env=NARROW)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "Bank ref" in line)
    assert "Status" in header and "Amount" in header and "Customer" in header
    assert all(cell_len(line) <= 80 for line in lines)
    assert any("review" in line for line in lines) and any("auto" in line for line in lines)
    assert "Invoices, Reason" in " ".join(result.stderr.split())
    # confidence as the workbook shows it, a share in whole per cent ("98 %", "50 %"), not "0.98" beside "0.5"
    rows = [line for line in lines if line.startswith("│ BNK")]
    conf = [line.rstrip("│ ").rsplit("│", 1)[1].strip() for line in rows]
    assert conf and all(re.fullmatch(r"\d{1,3} %", c) for c in conf), conf[:5]
    assert {"98 %", "50 %"} <= set(conf)
