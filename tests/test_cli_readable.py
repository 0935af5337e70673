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
