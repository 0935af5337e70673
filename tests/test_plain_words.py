"""No user-facing output names a policy setting by its dotted key: a credit controller reads "15 % of annual
purchases …", "over the credit limit by EUR …", never ``limits.volume_share`` (issue 19, item 4).

Scanned: ``xlcredit refresh WORKBOOK --out`` (the printed table and every cell of the file), ``xlcredit limits
--out``, ``xlcredit order-check``, the Customers and Ageing sheets of the workbook after that refresh, and
CREDIT_EXPLAIN and ORDER_CHECK for every customer on the credit database the refresh loaded. A dotted key is
any setting of :meth:`xlcredit.core.policy.Policy.to_mapping` (``limits.volume_share``, ``deposit.C_new``,
``dunning.step3.days`` …) or a rule code of :mod:`xlcredit.core.limits` (``limits.grade_a_uplift``,
``deposit.D``); the machine codes may travel beside the words only in the API's ``binding_rule``.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

import udfs._convert as conv
import udfs.functions as udf
from xlcredit.core import limits
from xlcredit.core.policy import Policy

ROOT = Path(__file__).resolve().parents[1]
DOTTED = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+\b")
#: Every dotted name a user must not meet: the policy's settings, their sections' prefixes (``limits.step``
#: and ``dunning.step3`` alike) and the limit rule codes.
KEYS = frozenset(Policy().to_mapping()) | frozenset(
    k.rsplit(".", 1)[0] for k in Policy().to_mapping() if k.count(".") > 1) | frozenset(
    getattr(limits, name) for name in dir(limits) if name.startswith("RULE_") and "." in getattr(limits, name))


def setting_names(text: str) -> list[str]:
    """The policy keys named in ``text``."""
    return sorted({m for m in DOTTED.findall(text) if m in KEYS})


def test_the_scanner_finds_a_setting_name_when_there_is_one():
    assert setting_names("binding rule limits.volume_share (deposit.C_new, dunning.step3.days)") == \
        ["deposit.C_new", "dunning.step3.days", "limits.volume_share"]
    assert setting_names("grade D: deposit.D") == ["deposit.D"]
    assert setting_names("CreditControl.xlsm, a.b@example.com, 1,234.56 EUR, 15 % of annual purchases") == []
    assert len(KEYS) > 100


def _run(*args: str):
    from xlcredit.cli import app

    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})   # wide: nothing cut short with "…"


def _file_text(path: Path) -> str:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return "\n".join(" | ".join(row) for row in csv.reader(fh))


def _sheet_text(ws) -> str:
    return "\n".join(" | ".join("" if v is None else str(v) for v in row) for row in ws.iter_rows(values_only=True))


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("words")
    book = folder / "CreditControl.xlsm"
    shutil.copy(ROOT / "workbook" / "CreditControl.xlsm", book)
    out = folder / "credit.csv"
    result = _run("refresh", str(book), "--as-of", "2026-10-31", "--out", str(out))
    assert result.exit_code == 0, result.output
    return book, out, result


def test_refresh_table_and_out_file_say_the_limit_and_the_next_order_in_words(refreshed):
    _book, out, result = refreshed
    assert setting_names(result.stdout) == []
    text = _file_text(out)
    assert setting_names(text) == []
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert "binding_rule" not in rows[0]
    assert all(r["limit_reason"] and (r["order_status"] == "Release" or r["order_status"].startswith("Hold: "))
               for r in rows)
    assert "Next order" in result.stdout


def test_limits_out_file_says_why_each_limit_in_words(tmp_path):
    out = tmp_path / "limits.csv"
    result = _run("limits", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert setting_names(result.stdout) == [] and setting_names(_file_text(out)) == []


def test_the_customers_and_ageing_sheets_after_a_refresh_name_no_setting(refreshed):
    book, _out, _result = refreshed
    values = openpyxl.load_workbook(book, data_only=True, keep_vba=True)
    for sheet in ("Customers", "Ageing"):
        assert setting_names(_sheet_text(values[sheet])) == [], sheet


def test_credit_explain_and_order_check_name_no_setting(refreshed, monkeypatch):
    from xlcredit.io.store import store_path_for_workbook

    book, out, _result = refreshed
    monkeypatch.delenv("XLCREDIT_SERVER_URL", raising=False)
    monkeypatch.setenv("XLCREDIT_DB", str(store_path_for_workbook(book)))
    conv.close_databases()
    with out.open(encoding="utf-8-sig", newline="") as fh:
        ids = [r["customer_id"] for r in csv.DictReader(fh)]
    shown: list[str] = []
    for cid in ids:
        table = udf.credit_explain(cid)
        assert isinstance(table, list), table
        shown.extend(str(c) for row in table for c in row)
        for amount in (0.0, 1_000_000.0):
            answer = udf.order_check(cid, amount)
            assert not answer.startswith("#XLC!"), answer
            shown.append(answer)
    conv.close_databases()
    assert setting_names("\n".join(shown)) == []
    result = _run("order-check", ids[0], "2500", str(book), "--as-of", "2026-10-31")
    assert result.exit_code == 0, result.output
    assert setting_names(result.stdout) == []
