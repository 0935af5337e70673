"""The collector's day at the command line: ``xlcredit worklist`` over a folder of tables with a Promises table,
and ``xlcredit promise|dispute|plan|contact`` recording into the credit database that the worklist then reads.

The ledger (inline, as of 2026-10-05, shipped policy): C1 owes INV-1 EUR 10,000 due 1 Sep (34 days past due →
Formal demand) and INV-3 EUR 3,000 due 10 Sep (25 days); C2 owes INV-9 EUR 2,000 due 28 Sep (7 days → Reminder
letter). Worklist points (see tests/test_collections.py): C1 overdue 30 × 13,000/50,000 = 7.8 → 8, days 20 × 34/90
= 7.6 → 8; C2 overdue 30 × 2,000/50,000 = 1.2 → 1, days 20 × 7/90 = 1.6 → 2.
"""

from __future__ import annotations

import csv

from typer.testing import CliRunner

from xlcredit.cli import app
from xlcredit.io.store import CreditStore

WIDE = {"COLUMNS": "220", "NO_COLOR": "1"}

CUSTOMERS = [["customer_id", "name", "rating", "annual_volume", "relationship_start", "owner"],
             ["C1", "Anchor Foods", "75", "600000", "2019-01-01", "Anna"],
             ["C2", "Birch Ltd", "70", "200000", "2020-01-01", "Ben"]]
INVOICES = [["customer_id", "invoice_no", "currency", "amount", "invoice_date", "due_date"],
            ["C1", "INV-1", "EUR", "10000", "2026-08-01", "2026-09-01"],
            ["C1", "INV-3", "EUR", "3000", "2026-08-10", "2026-09-10"],
            ["C2", "INV-9", "EUR", "2000", "2026-08-29", "2026-09-28"]]
PAYMENTS = [["payment_id", "customer_id", "payment_date", "amount", "currency"]]


def run(*args: str):
    return CliRunner().invoke(app, list(args), env=WIDE)


def _write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def _folder(tmp_path, promises=None):
    folder = tmp_path / "book"
    folder.mkdir()
    _write(folder / "customers.csv", CUSTOMERS)
    _write(folder / "invoices.csv", INVOICES)
    _write(folder / "payments.csv", PAYMENTS)
    if promises is not None:
        _write(folder / "promises.csv", promises)
    return folder


def _read(path):
    with open(path, encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_worklist_over_a_folder_ranks_and_explains(tmp_path):
    folder = _folder(tmp_path)
    out = tmp_path / "worklist.csv"
    result = run("worklist", str(folder), "--as-of", "2026-10-05", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = _read(out)
    assert [(r["rank"], r["customer_id"], r["priority"], r["owner"]) for r in rows] == [
        ("1", "C1", "16", "Anna"), ("2", "C2", "3", "Ben")]
    assert (rows[0]["reason_1"], rows[0]["reason_2"]) == ("EUR 13,000.00 overdue", "oldest item 34 days past due")
    assert (rows[0]["stage"], rows[0]["next_action"], rows[0]["next_action_date"]) == \
        ("Formal demand", "Legal action", "2026-10-16")
    assert "2 customers on the worklist" in result.output
    # --owner (any case) and --top
    run("worklist", str(folder), "--as-of", "2026-10-05", "--owner", "ben", "--out", str(out))
    assert [r["customer_id"] for r in _read(out)] == ["C2"]
    run("worklist", str(folder), "--as-of", "2026-10-05", "--top", "1", "--out", str(out))
    assert [r["customer_id"] for r in _read(out)] == ["C1"]


def test_a_promises_table_beside_the_ledger_holds_the_ladder(tmp_path):
    promises = [["Customer", "Promised date", "Taken on", "Invoices", "Amount", "Taken by", "Channel"],
                ["C1", "2026-10-07", "2026-10-03", "INV-1, INV-3", "13000", "Anna", "phone"],
                ["C2", "2026-10-07", "2026-10-03", "INV-9", "", "Ben", "fax"],
                ["C2", "31/31/2026", "2026-10-03", "INV-9", "", "Ben", "phone"]]
    folder = _folder(tmp_path, promises)
    out = tmp_path / "worklist.csv"
    result = run("worklist", str(folder), "--as-of", "2026-10-05", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = {r["customer_id"]: r for r in _read(out)}
    # C1's items are promised: no step; the promise falls due on 7 Oct, within 3 days: 8 + 8 + 15 = 31
    assert (rows["C1"]["stage"], rows["C1"]["priority"]) == ("", "31")
    assert rows["C1"]["reason_1"] == "promised payment of EUR 13,000.00 falls due on 2026-10-07"
    assert (rows["C1"]["next_action"], rows["C1"]["next_action_date"]) == \
        ("check the promised payment of EUR 13,000.00", "2026-10-07")
    # the bad rows are listed (table, row, column, words) and C2 is not held: Reminder letter as before
    assert rows["C2"]["stage"] == "Reminder letter"
    problems = result.output[result.output.index("Rows with problems"):]
    assert "promises │   3 │ Channel" in problems and "must be one of phone, email" in problems
    assert "promises │   4 │ Promised date" in problems


def test_recording_the_day_in_the_database_and_the_worklist_reads_it(tmp_path):
    folder = _folder(tmp_path)
    db = str(tmp_path / "credit.db")
    out = tmp_path / "worklist.csv"

    def worklist_rows():
        result = run("worklist", str(folder), "--as-of", "2026-10-05", "--db", db, "--out", str(out))
        assert result.exit_code == 0, result.output
        return {r["customer_id"]: r for r in _read(out)}

    # a dispute on INV-1 (whole invoice) takes it off the ladder: C1 falls back to Phone call (INV-3, 25 days)
    result = run("dispute", "open", "C1", "INV-1", "--reason", "Quality", "--owner", "Ben", "--opened", "2026-10-02",
                 "--db", db)
    assert result.exit_code == 0, result.output
    assert "dispute DS-1 opened: C1 invoice INV-1 (quality)" in result.output
    rows = worklist_rows()
    assert (rows["C1"]["stage"], rows["C1"]["disputes_open"], rows["C1"]["on_hold"]) == \
        ("Phone call", "1", "EUR 10,000.00 in dispute")
    # resolved: upheld → back on the ladder at Formal demand
    result = run("dispute", "resolve", "DS-1", "--resolution", "upheld", "--outcome", "invoice correct",
                 "--date", "2026-10-04", "--db", db)
    assert result.exit_code == 0, result.output
    assert worklist_rows()["C1"]["stage"] == "Formal demand"
    # resolving twice is refused, in words
    again = run("dispute", "resolve", "1", "--resolution", "upheld", "--db", db)
    assert again.exit_code == 2
    assert "dispute: dispute 1 was already resolved on 2026-10-04 (upheld)" in again.output

    # a payment plan for C2 agreed on 1 Oct: two instalments of EUR 1,000, the first due 20 Oct
    result = run("plan", "add", "C2", "--amount", "2000", "--instalments", "2", "--first", "2026-10-20",
                 "--agreed", "2026-10-01", "--invoices", "INV-9", "--db", db)
    assert result.exit_code == 0, result.output
    assert "2 instalments, EUR 2000.00 in all" in result.output
    rows = worklist_rows()
    assert (rows["C2"]["stage"], rows["C2"]["on_hold"]) == ("", "on a payment plan")
    assert (rows["C2"]["next_action"], rows["C2"]["next_action_date"]) == \
        ("check instalment 1 of EUR 1,000.00", "2026-10-20")

    # a promise for C1 and a contact: the worklist shows both
    result = run("promise", "add", "C1", "--date", "2026-10-06", "--taken-on", "2026-10-05", "--amount", "13000",
                 "--by", "Anna", "--db", db)
    assert result.exit_code == 0, result.output
    result = run("contact", "add", "C1", "--outcome", "promised", "--date", "2026-10-05", "--who", "Anna",
                 "--note", "pays Tuesday", "--db", db)
    assert result.exit_code == 0, result.output
    rows = worklist_rows()
    assert rows["C1"]["stage"] == "" and rows["C1"]["on_hold"] == "promised for 2026-10-06"
    assert rows["C1"]["last_contact"] == "2026-10-05 call: promised (Anna)"
    listed = run("contact", "list", "C1", "--db", db)
    assert listed.exit_code == 0 and "call: promised" in listed.output and "pays Tuesday" in listed.output
    assert "PR-1" in run("promise", "list", "--db", db).output
    assert "PL-1" in run("plan", "list", "--db", db).output
    assert "invoice correct" in run("dispute", "list", "--customer", "C1", "--db", db).output
    # every record is audited: who and when
    actions = [r["action"] for r in CreditStore(db).audit_rows() if r["action"] != "worklist"]
    assert actions == ["dispute", "resolve_dispute", "plan", "promise", "contact"]


def test_bad_input_is_one_line_naming_the_option_and_the_value(tmp_path):
    db = str(tmp_path / "credit.db")
    cases = [
        (("promise", "add", "C1", "--date", "31/31/2026"), "--date: "),
        (("promise", "add", "C1", "--date", "2026-10-01", "--taken-on", "2026-10-05"),
         "--date: is before the day the promise was taken (2026-10-01 < 2026-10-05)"),
        (("promise", "add", "C1", "--date", "2026-10-09", "--amount", "-5"), "--amount: "),
        (("dispute", "open", "C1", "INV-1", "--reason", "too dear"),
         "--reason: must be one of price, quantity, quality, not received, duplicate, other (got 'too dear')"),
        (("dispute", "resolve", "X9", "--resolution", "upheld"), "dispute: must be a dispute id like DS-3 or 3"),
        (("dispute", "resolve", "7", "--resolution", "upheld"), "dispute: no dispute 7 in the credit database"),
        (("plan", "add", "C1", "--amount", "0.15", "--instalments", "10", "--first", "2026-11-30", "--agreed",
          "2026-10-01"),
         "--instalments: 10 instalments of EUR 0.02 would pay more than EUR 0.15: choose fewer instalments"),
        (("plan", "add", "C1", "--amount", "100", "--instalments", "2", "--first", "2026-11-30", "--rate", "8",
          "--agreed", "2026-10-01"),
         "--rate: "),
        (("contact", "add", "C1", "--outcome", "hung up"),
         "--outcome: must be one of reached, no answer, promised, disputed, refused (got 'hung up')"),
    ]
    for args, words in cases:
        result = run(*args, "--db", db)
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output, (args, result.output)
        assert result.output.count("error:") == 1


def test_a_workbook_without_a_worklist_sheet_still_gets_its_worklist(tmp_path):
    """A workbook made before the Worklist button has no Worklist sheet: the command still ranks and prints the
    customers and says the list was not written into the file (no error at the end, nothing lost)."""
    from pathlib import Path

    import openpyxl

    old = tmp_path / "Old.xlsm"
    book = openpyxl.load_workbook(Path(__file__).resolve().parents[1] / "workbook" / "CreditControl.xlsm",
                                  keep_vba=True)
    del book["Worklist"]
    book.save(old)
    result = CliRunner().invoke(app, ["worklist", str(old), "--as-of", "2026-10-31", "--db", str(tmp_path / "x.db")],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "has no Worklist sheet" in " ".join(result.stderr.split())
    assert "C008" in result.stdout
