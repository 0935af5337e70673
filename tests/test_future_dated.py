"""Documents dated after the as-of date (issue 17 item 2): the engine leaves them out of everything it works out as
of that date (:func:`xlcredit.core.openitems.allocate`), and every way of running says so — one line per table
with the count and the latest date: the command line's notes, the refresh's problems (workbook button and
``POST /v1/refresh``), the review's notes and the notes the service returns (``POST /v1/bank/match``).

The ledger (inline): C1 owes INV-1 EUR 1,000 (1 Sep, due 1 Oct) and INV-2 EUR 500 (15 Sep, due 15 Oct); INV-8 and
INV-9 are dated 2026-11-20 and 2027-01-15, a payment P2 of EUR 300 is dated 2026-12-01 — all three after the as-of
date 2026-10-31. As of 2026-10-31 C1 owes 1,500 (INV-1 and INV-2 only); P2 settles nothing yet.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from xlcredit.cli import app
from xlcredit.core.ageing import age_ledger
from xlcredit.core.policy import Policy
from xlcredit.io.ledger import load_ledger
from xlcredit.io.store import CreditStore
from xlcredit.jobs.book import FolderBook, as_of_for, future_counts, future_dated, future_dated_notes

AS_OF = dt.date(2026, 10, 31)
CUSTOMERS = [["customer_id", "name", "rating", "annual_volume", "relationship_start"],
             ["C1", "Anchor Foods", "75", "600000", "2019-01-01"]]
INVOICES = [["customer_id", "invoice_no", "currency", "amount", "invoice_date", "due_date"],
            ["C1", "INV-1", "EUR", "1000", "2026-09-01", "2026-10-01"],
            ["C1", "INV-2", "EUR", "500", "2026-09-15", "2026-10-15"],
            ["C1", "INV-8", "EUR", "700", "2026-11-20", "2026-12-20"],
            ["C1", "INV-9", "EUR", "900", "2027-01-15", "2027-02-14"]]
PAYMENTS = [["payment_id", "customer_id", "payment_date", "amount", "currency"],
            ["P2", "C1", "2026-12-01", "300", "EUR"]]
INVOICE_LINE = ("2 invoices are dated after the as-of date 2026-10-31, the latest 2027-01-15: left out of this run "
                "as of 2026-10-31 (not aged, dunned or counted in any balance)")
PAYMENT_LINE = ("1 payment is dated after the as-of date 2026-10-31, the latest 2026-12-01: left out of this run "
                "as of 2026-10-31 (not applied to any invoice)")


def _write(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "book"
    folder.mkdir()
    _write(folder / "customers.csv", CUSTOMERS)
    _write(folder / "invoices.csv", INVOICES)
    _write(folder / "payments.csv", PAYMENTS)
    return folder


def _csv(rows: list[list[str]]) -> bytes:
    return ("\n".join(",".join(r) for r in rows) + "\n").encode()


def _ledger(tmp_path: Path):
    folder = _folder(tmp_path)
    return load_ledger(folder / "invoices.csv", folder / "payments.csv").ledger


def test_the_engine_leaves_them_out_and_the_lines_say_how_many_and_the_latest(tmp_path: Path):
    ledger = _ledger(tmp_path)
    report = age_ledger(ledger, AS_OF, Policy())
    assert report.totals is not None and report.totals.open_total == Decimal("1500")   # INV-1 + INV-2, P2 unused
    assert future_counts(ledger, AS_OF) == {"invoices": (2, dt.date(2027, 1, 15)),
                                            "payments": (1, dt.date(2026, 12, 1)), "credit_notes": (0, None)}
    problems = future_dated(future_counts(ledger, AS_OF), AS_OF)
    assert [(p.table, p.row, p.column, p.value, p.problem) for p in problems] == [
        ("invoices", 0, "invoice_date", "2027-01-15", INVOICE_LINE),
        ("payments", 0, "payment_date", "2026-12-01", PAYMENT_LINE)]
    assert future_dated_notes(ledger, AS_OF) == (f"warning: {INVOICE_LINE}", f"warning: {PAYMENT_LINE}")
    # nothing after the date: no line; as of the newest document (no --as-of): no line either
    assert future_dated_notes(ledger, dt.date(2027, 1, 15)) == ()
    day, note = as_of_for(ledger, None, "the book")
    assert day == dt.date(2027, 1, 15) and "warning" not in (note or "")
    day, note = as_of_for(ledger, AS_OF, "the book")
    assert note == f"warning: {INVOICE_LINE}\nwarning: {PAYMENT_LINE}"


def test_the_command_line_prints_one_line_per_table(tmp_path: Path):
    folder = _folder(tmp_path)
    result = CliRunner().invoke(app, ["worklist", str(folder), "--as-of", "2026-10-31"],
                                env={"COLUMNS": "400", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert f"warning: {INVOICE_LINE}" in lines and f"warning: {PAYMENT_LINE}" in lines
    aged = CliRunner().invoke(app, ["age", str(folder / "invoices.csv"), str(folder / "payments.csv"), "--as-of",
                                    "2026-10-31"], env={"COLUMNS": "400", "NO_COLOR": "1"})
    assert aged.exit_code == 0, aged.output
    assert f"warning: {INVOICE_LINE}" in aged.stderr.splitlines()


def test_the_refresh_lists_them_among_its_problems(tmp_path: Path):
    from xlcredit.jobs.refresh import refresh

    folder = _folder(tmp_path)
    outcome = refresh(FolderBook(folder), AS_OF, store=str(tmp_path / "r.credit.db"))
    future = [p for p in outcome.problems if p.row == 0 and p.table in ("invoices", "payments")]
    assert [p.problem for p in future] == [INVOICE_LINE, PAYMENT_LINE]
    assert not any("after the as-of" in n for n in outcome.notes)   # said once, not twice
    assert {c.customer.customer_id for c in outcome.portfolio.customers} == {"C1"}
    # as of the newest document nothing is left out and nothing is said
    later = refresh(FolderBook(folder), dt.date(2027, 1, 15), store=str(tmp_path / "s.credit.db"))
    assert not [p for p in later.problems if "after the as-of" in p.problem]


def test_the_review_says_so_in_its_notes(tmp_path: Path):
    from xlcredit.jobs.review import review

    folder = _folder(tmp_path)
    outcome = review(FolderBook(folder), AS_OF, record=False, write=False)
    assert f"warning: {INVOICE_LINE}" in outcome.notes and f"warning: {PAYMENT_LINE}" in outcome.notes
    assert outcome.review.figures["C1"].open_receivables == Decimal("1500")
    later = review(FolderBook(folder), dt.date(2027, 1, 15), record=False, write=False)
    assert not [n for n in later.notes if "after the as-of" in n]


FILES = [("customers", ("customers.csv", _csv(CUSTOMERS))), ("invoices", ("invoices.csv", _csv(INVOICES))),
         ("payments", ("payments.csv", _csv(PAYMENTS)))]
STATEMENT = b"Booking Date,Reference,Payer,IBAN,Description,Amount,Currency\n2026-10-30,B1,Anchor,,INV-1,1000.00,EUR\n"


def _client(tmp_path: Path):
    from fastapi.testclient import TestClient

    from xlcredit.service.app import create_app

    db = tmp_path / "team.credit.db"
    store = CreditStore(db, stamp_ttl=0)
    return TestClient(create_app(str(db), store=store)), {"X-API-Key": store.create_api_key("ctl", "controller")}


def test_over_http_the_refresh_answers_them_among_its_problems(tmp_path: Path):
    client, ctl = _client(tmp_path)
    with client:
        r = client.post("/v1/refresh", data={"as_of": "2026-10-31"}, files=FILES, headers=ctl)
        assert r.status_code == 200, r.text
        said = [(p["table"], p["row"], p["problem"]) for p in r.json()["problems"]]
        assert ("invoices", 0, INVOICE_LINE) in said and ("payments", 0, PAYMENT_LINE) in said


def test_over_http_the_bank_match_answers_them_in_its_notes(tmp_path: Path):
    client, ctl = _client(tmp_path)
    with client:
        m = client.post("/v1/bank/match", data={"as_of": "2026-10-31"},
                        files=[*FILES, ("statements", ("bank.csv", STATEMENT))], headers=ctl)
        assert m.status_code == 200, m.text
        assert f"warning: {INVOICE_LINE}\nwarning: {PAYMENT_LINE}" in m.json()["notes"]
