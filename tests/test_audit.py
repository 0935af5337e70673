"""The annual policy audit (xlcredit.core.audit): a hand-checked small ledger, no look-ahead, and the command.

The hand-checked ledger (EUR, period 2026-01-01 to 2026-02-28 → month ends 31 Jan and 28 Feb, observed to
2026-12-31). Two customers trading since 2020, annual purchases EUR 36,500 each; C2 insured up to EUR 1,000.

    C1  I1  4,000  dated 10 Jan, due 11 Mar   paid 1,000 on 20 Feb and 3,000 on 1 Mar
        I2  2,000  dated 10 Feb, due 11 Apr   paid 5 Apr   (on time)
        I3  1,000  dated  5 Mar, due  4 May   paid 1 May   (on time)
    C2  J1  3,000  dated 10 Dec, due 10 Jan   never paid → default 10 Jan + 180 days = 9 Jul, EAD 3,000
        J2  1,500  dated  5 Feb, due  7 Mar   never paid → default 7 Mar + 180 = 3 Sep, EAD 1,500
        J3    500  dated 10 Mar, due  9 Apr   never paid → default 9 Apr + 180 = 6 Oct, EAD 500

Policy A: the shipped policy with grade A at 100 points and B at 3, so every customer is grade B (scores 3-99):
terms Net 60; limit = the terms cap 36,500 × (60 + 15) / 365 = 7,500 (above 15 % = 5,475), rounded down to the
1,000 step = 7,000; orders stop at the Formal demand step (30 days overdue).
Policy B: A with grade B on Net 30 and no terms margin, so the cap is max(36,500 × 30 / 365 = 3,000,
5,475) = 5,475 → limit 5,000; and orders stop at the Phone call step (15 days).

Orders checked: at 31 Jan the February invoices I2 and J2, at 28 Feb the March invoices I3 and J3 — 4 orders,
EUR 5,000. Exposure known at 31 Jan: C1 4,000 (I1), C2 3,000 (J1, 21 days past due); at 28 Feb: C1 3,000 + 2,000
= 5,000 (the 1 Mar payment is not known yet), C2 3,000 + 1,500 = 4,500 (J1 49 days past due).

    order  A                                        B
    I2     4,000 + 2,000 = 6,000 ≤ 7,000: release   6,000 > 5,000: hold (over limit)
    J2     4,500 ≤ 7,000, 21 < 30 days: release     21 ≥ 15 days: hold (order stop)
    I3     5,000 + 1,000 = 6,000 ≤ 7,000: release   6,000 > 5,000: hold
    J3     49 ≥ 30 days: hold                       hold

A: held 1 order, EUR 500; defaulted orders J2 + J3 = 2, EAD 2,000; stopped J3 = 1, EUR 500; carried J2 EUR 1,500;
   held then paid on time: none. Insured share of the carried EAD: min(1,500, 1,000) / 1,500 = 0.6667.
B: held 4 orders, EUR 5,000; stopped 2, EUR 2,000; carried 0 (insured share not measurable); held then paid on
   time I2 + I3 = 2 orders, EUR 3,000.
Warnings (the order check on an order of 0 holds): C2 under A first at 28 Feb (49 ≥ 30 days) → lead time to the
default on 9 Jul = 131 days; under B at 31 Jan (21 ≥ 15) → 159 days. B − A: +28 days.
Calibration: 4 customer-months, all grade B; C2 defaults within a year of both month ends → 2 / 4 = 0.5.
DSO (90 days of credit sales): 31 Jan AR 7,000, sales since 2 Nov (J1, I1) 7,000 → 90; 28 Feb AR 5,000 + 4,500 =
9,500, sales since 30 Nov (J1, I1, I2, J2) 10,500 → 81.43; as it happened (90 + 81.43) / 2 = 85.7, and A (J3 is
not yet sold at either month end) the same 85.7. B without I2 and J2 on 28 Feb: (9,500 − 3,500) / (10,500 − 3,500)
× 90 = 77.14 → (90 + 77.14) / 2 = 83.6.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from xlcredit.cli import app
from xlcredit.core.audit import audit, item_outcomes, month_ends
from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import CreditNote, Invoice, Ledger, Payment
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer

D = dt.date
E = Decimal
POLICY_A = Policy.from_toml("[grades]\nA = 100\nB = 3\nC = 2\nD = 1\n")
POLICY_B = Policy.from_toml("""
[terms]
B = "Net 30"
[limits]
terms_margin_days = 0
[dunning.step2]
days = 15
name = "Phone call"
letter = ""
action = "Phone call"
stop_orders = true
""", POLICY_A)

CUSTOMERS = (Customer("C1", relationship_start=D(2020, 1, 1), annual_volume=E(36500)),
             Customer("C2", relationship_start=D(2020, 1, 1), annual_volume=E(36500), insured_limit=E(1000)))


def inv(cid: str, no: str, amount: str, dated: dt.date, due: dt.date) -> Invoice:
    return Invoice(cid, no, "EUR", E(amount), dated, due)


def pay(pid: str, cid: str, day: dt.date, amount: str, ref: str = "") -> Payment:
    return Payment(pid, cid, day, E(amount), "EUR", ref)


LEDGER = Ledger(
    (inv("C1", "I1", "4000", D(2026, 1, 10), D(2026, 3, 11)), inv("C1", "I2", "2000", D(2026, 2, 10), D(2026, 4, 11)),
     inv("C1", "I3", "1000", D(2026, 3, 5), D(2026, 5, 4)), inv("C2", "J1", "3000", D(2025, 12, 10), D(2026, 1, 10)),
     inv("C2", "J2", "1500", D(2026, 2, 5), D(2026, 3, 7)), inv("C2", "J3", "500", D(2026, 3, 10), D(2026, 4, 9))),
    (pay("P1", "C1", D(2026, 2, 20), "1000", "I1"), pay("P2", "C1", D(2026, 3, 1), "3000", "I1"),
     pay("P3", "C1", D(2026, 4, 5), "2000", "I2"), pay("P4", "C1", D(2026, 5, 1), "1000", "I3")))


def run_small(ledger: Ledger = LEDGER):
    return audit(CUSTOMERS, ledger, POLICY_A, D(2026, 1, 1), D(2026, 2, 28), policy_b=POLICY_B,
                 observed_to=D(2026, 12, 31))


def test_month_ends_of_the_audit_year():
    assert month_ends(D(2025, 11, 1), D(2026, 10, 31))[::11] == (D(2025, 11, 30), D(2026, 10, 31))
    assert len(month_ends(D(2025, 11, 1), D(2026, 10, 31))) == 12
    with pytest.raises(XlcError, match="to: is before the start of the period"):
        month_ends(D(2026, 2, 1), D(2026, 1, 1))
    with pytest.raises(XlcError, match="holds no month end"):
        month_ends(D(2026, 2, 1), D(2026, 2, 20))


def test_outcomes_of_the_small_ledger():
    out = item_outcomes(LEDGER, D(2026, 12, 31))
    assert (out[("C2", "J1")].default_date, out[("C2", "J1")].ead) == (D(2026, 7, 9), E("3000"))
    assert (out[("C2", "J2")].default_date, out[("C2", "J2")].ead) == (D(2026, 9, 3), E("1500"))
    assert (out[("C2", "J3")].default_date, out[("C2", "J3")].ead) == (D(2026, 10, 6), E("500"))
    assert out[("C2", "J3")].default_reason == "unpaid 180 days after due"
    assert out[("C1", "I2")].paid_on_time() and out[("C1", "I3")].paid_on_time()
    assert out[("C1", "I1")].days_late == -10 and out[("C1", "I1")].default_date is None
    # observed before J3's 180 days are up: not (yet) a default
    assert item_outcomes(LEDGER, D(2026, 10, 5))[("C2", "J3")].default_date is None


def test_write_offs_and_late_payers():
    """K1 EUR 800 due 4 Feb: 300 paid 1 Mar, the rest written off by credit note WO-1 on 1 May → a default on 1 May
    with EAD 800 − 300 = 500 (180 days after due would be 3 Aug, later). L1 EUR 100 due 1 Jan paid 15 Apr: 104
    days late → late over 90, not a default. M1 flagged written off, due 1 Nov 2026, observed to 31 Dec: defaults
    on 31 Dec (before 180 days are up) with all 250 open."""
    ledger = Ledger((inv("C3", "K1", "800", D(2026, 1, 5), D(2026, 2, 4)), inv("C3", "L1", "100", D(2025, 12, 1),
                                                                             D(2026, 1, 1)),
                     inv("C3", "M1", "250", D(2026, 10, 2), D(2026, 11, 1))),
                    (pay("P9", "C3", D(2026, 3, 1), "300", "K1"), pay("P10", "C3", D(2026, 4, 15), "100", "L1")),
                    (CreditNote("WO-1", "C3", D(2026, 5, 1), E("500"), "EUR", "K1"),))
    out = item_outcomes(ledger, D(2026, 12, 31), written_off={("C3", "M1")}, write_off_notes={"WO-1"})
    k1, l1, m1 = out[("C3", "K1")], out[("C3", "L1")], out[("C3", "M1")]
    assert (k1.default_date, k1.default_reason, k1.ead) == (D(2026, 5, 1), "written off", E("500"))
    assert l1.days_late == 104 and l1.late_over_90 and l1.default_date is None
    assert (m1.default_date, m1.ead) == (D(2026, 12, 31), E("250"))
    # the same credit note, not marked as a write-off, is an ordinary credit: K1 is settled, no default
    assert item_outcomes(ledger, D(2026, 12, 31))[("C3", "K1")].default_date is None


def test_hand_checked_small_ledger():
    result = run_small()
    a, b = result.a.measures, result.b.measures
    assert result.month_ends == (D(2026, 1, 31), D(2026, 2, 28))
    assert {(d.customer_id, d.grade, d.limit, d.terms) for d in result.a.decisions} == {
        ("C1", "B", E(7000), "Net 60"), ("C2", "B", E(7000), "Net 60")}
    assert {(d.customer_id, d.grade, d.limit, d.terms) for d in result.b.decisions} == {
        ("C1", "B", E(5000), "Net 30"), ("C2", "B", E(5000), "Net 30")}
    assert [(d.month_end, d.customer_id, d.exposure, d.days_past_due) for d in result.a.decisions] == [
        (D(2026, 1, 31), "C1", E(4000), 0), (D(2026, 1, 31), "C2", E(3000), 21),
        (D(2026, 2, 28), "C1", E(5000), 0), (D(2026, 2, 28), "C2", E(4500), 49)]
    assert {c.invoice_no for c in result.a.orders if c.held} == {"J3"}
    assert {c.invoice_no for c in result.b.orders if c.held} == {"I2", "J2", "I3", "J3"}
    assert (a.orders, a.orders_amount, a.held_orders, a.held_amount) == (4, E("5000.00"), 1, E("500.00"))
    assert (a.defaulted_orders, a.ead_total, a.stopped_orders, a.ead_stopped, a.ead_carried) == (
        2, E("2000.00"), 1, E("500.00"), E("1500.00"))
    assert (a.caution_orders, a.caution_amount) == (0, E("0.00"))
    assert (b.held_orders, b.held_amount, b.stopped_orders, b.ead_stopped, b.ead_carried) == (
        4, E("5000.00"), 2, E("2000.00"), E("0.00"))
    assert (b.caution_orders, b.caution_amount) == (2, E("3000.00"))
    assert (a.defaulted_customers, a.warned_customers, a.missed_customers, a.lead_days) == (1, 1, 0, E("131.0"))
    assert (b.warned_customers, b.lead_days) == (1, E("159.0"))
    assert [(r.grade, r.observations, r.defaults, r.rate) for r in a.calibration if r.observations] == [
        ("B", 4, 2, E("0.5000"))]
    assert a.monotonic is None
    assert (a.actual_dso, a.dso, b.dso) == (E("85.7"), E("85.7"), E("83.6"))
    assert (a.insured_carried, a.insured_share, b.insured_share) == (E("1000.00"), E("0.6667"), None)
    diff = {d.measure: d for d in result.differences}
    assert diff["Exposure at default stopped"].change == E("1500.00")
    assert diff["Exposure at default stopped"].meaning == \
        "B would have kept EUR 1,500.00 more of the later defaults off the books"
    assert diff["Cost of caution (held, then paid on time)"].change == E("3000.00")
    assert diff["Early-warning lead time (days, average)"].change == E("28.0")
    assert diff["Orders held"].change == 3


def test_no_look_ahead_in_the_small_ledger():
    """Change everything dated after 31 Jan — drop the 20 Feb payment, pay J1 on 2 Feb, double I2, add an invoice —
    and the decisions of 31 Jan stay the same (grade, limit, terms, exposure, dunning, warning), under both
    policies, and so do its checks of the orders that did not change (J2)."""
    changed = Ledger(
        (*(dataclasses.replace(i, amount=E(4000)) if i.invoice_no == "I2" else i for i in LEDGER.invoices),
         inv("C2", "J9", "9999", D(2026, 2, 1), D(2026, 3, 1))),
        (*(p for p in LEDGER.payments if p.payment_id != "P1"), pay("P7", "C2", D(2026, 2, 2), "3000", "J1")))
    before, after = run_small(), run_small(changed)
    for old, new in ((before.a, after.a), (before.b, after.b)):
        jan = D(2026, 1, 31)
        assert [d for d in old.decisions if d.month_end == jan] == [d for d in new.decisions if d.month_end == jan]
        assert [c for c in old.orders if c.invoice_no == "J2"] == [c for c in new.orders if c.invoice_no == "J2"]
        # …while 28 Feb did see the change (the test can fail)
        assert [d for d in old.decisions if d.month_end != jan] != [d for d in new.decisions if d.month_end != jan]


def test_no_look_ahead_in_the_bundled_sample():
    """On the bundled sample: drop every payment after 30 Nov 2025 and add a large invoice on 1 Dec; the decisions
    of 30 Nov 2025 are unchanged."""
    from xlcredit.jobs.book import FolderBook, read_book

    data = read_book(FolderBook(None).read_tables(), None)
    cut = D(2025, 11, 30)
    first = data.customers[0].customer_id
    changed = Ledger((*data.ledger.invoices, inv(first, "LATE-1", "900000", D(2025, 12, 1), D(2025, 12, 31))),
                     tuple(p for p in data.ledger.payments if p.payment_date <= cut), data.ledger.credit_notes)
    strict = Policy.from_toml(_strict_path().read_text(encoding="utf-8"), data.policy)
    runs = [audit(data.customers, ledger, data.policy, D(2025, 11, 1), cut, policy_b=strict, fx=data.fx)
            for ledger in (data.ledger, changed)]
    assert runs[0].a.decisions == runs[1].a.decisions and runs[0].b.decisions == runs[1].b.decisions
    assert len(runs[0].a.decisions) == len(data.customers)


def _strict_path():
    from xlcredit.jobs.audit import shipped_policy_path

    return shipped_policy_path("strict")


# --------------------------------------------------------------------------- the command
WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}


def test_the_demo_command_on_the_bundled_sample(tmp_path):
    out = tmp_path / "audit.xlsx"
    res = CliRunner().invoke(app, ["audit", "--from", "2025-11-01", "--to", "2026-10-31", "--against", "strict",
                                   "--out", str(out)], env=WIDE)
    assert res.exit_code == 0, res.output
    assert "A: current" in res.output and "B: strict" in res.output
    assert "What the differences mean:" in res.output and "strict holds" in res.output
    from openpyxl import load_workbook

    book = load_workbook(out)
    assert book.sheetnames == ["Comparison", "Months", "Calibration", "Orders held", "Defaults"]
    assert book["Comparison"]["C1"].value == "current" and book["Comparison"]["D1"].value == "strict"
    assert len(book["Months"]._charts) == 1 and book["Months"].max_row == 13


def test_folder_with_write_offs_and_bad_input(tmp_path):
    rows = {
        "customers.csv": [["customer_id", "annual_volume", "relationship_start"], ["C1", "36500", "2020-01-01"]],
        "invoices.csv": [["customer_id", "invoice_no", "currency", "amount", "invoice_date", "due_date",
                          "written_off"],
                         ["C1", "K1", "EUR", "800", "2026-01-05", "2026-02-04", "yes"],
                         ["C1", "K2", "EUR", "600", "2026-02-05", "2026-03-07", ""]],
        "payments.csv": [["payment_id", "customer_id", "payment_date", "amount", "currency"],
                         ["P1", "C1", "2026-03-01", "600", "EUR"]],
    }
    for name, table in rows.items():
        with open(tmp_path / name, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(table)
    res = CliRunner().invoke(app, ["audit", str(tmp_path), "--from", "2026-01-01", "--to", "2026-01-31"], env=WIDE)
    assert res.exit_code == 0, res.output
    assert "1 invoice defaulted" in res.output   # K1 flagged; P1 pays K1 first (FIFO), K2 stays open short of 180
    bad = CliRunner().invoke(app, ["audit", str(tmp_path), "--from", "2026-01-01", "--to", "2026-01-31",
                                   "--against", "lenient"], env=WIDE)
    assert bad.exit_code == 2
    assert "against: is neither a shipped policy (strict) nor a file: lenient" in bad.output
    bad = CliRunner().invoke(app, ["audit", "--to", "2026-01-31"], env=WIDE)
    assert bad.exit_code == 2 and "--from: is required" in bad.output


# --------------------------------------------------------------------------- the PDF report
def _pdf_text(path) -> tuple[int, str]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_report_of_the_hand_checked_ledger(tmp_path):
    """The PDF carries the hand-checked figures (see the module docstring): A holds EUR 500, B EUR 5,000; B − A
    +4,500.00; the lead time 131 → 159 days (+28.0); the calibration 2 / 4 customer-months; the defaults J2, J3."""
    from xlcredit.jobs.audit import write_report

    out = write_report(run_small(), tmp_path / "audit.pdf", source="small ledger", notes=("a note on the run",))
    pages, text = _pdf_text(out)
    assert pages >= 2
    flat = " ".join(text.split())
    assert "Policy audit, month ends 31 Jan 2026 to 28 Feb 2026" in flat
    assert "small ledger · 2 month ends replayed · money in EUR" in flat
    assert "Sales held 500.00 5,000.00 +4,500.00" in flat
    assert "Early-warning lead time (days, average) 131.0 159.0 +28.0" in flat
    assert "a note on the run" in flat
    assert "Sales held by the order check (EUR), by month end" in flat
    assert "Default rate by grade" in flat
    for invoice in ("J2", "J3"):
        assert invoice in flat
    assert "unpaid 180 days after due" in flat


def test_pdf_report_from_the_command_and_its_errors(tmp_path):
    out = tmp_path / "audit.pdf"
    res = CliRunner().invoke(app, ["audit", "--from", "2025-11-01", "--to", "2026-10-31", "--against", "strict",
                                   "--out", str(out)], env=WIDE)
    assert res.exit_code == 0, res.output
    pages, text = _pdf_text(out)
    assert 3 <= pages <= 10
    assert "A: current" in text and "B: strict" in text and "What the differences mean" in text
    assert list(tmp_path.iterdir()) == [out]           # no temporary file left beside it
    bad = CliRunner().invoke(app, ["audit", "--from", "2025-11-01", "--to", "2026-10-31", "--out",
                                   str(tmp_path / "audit.docx")], env=WIDE)
    assert bad.exit_code == 2 and "must end in .xlsx or .pdf (got audit.docx)" in bad.output


def test_pdf_report_failure_leaves_the_old_file(tmp_path, monkeypatch):
    from reportlab.platypus import SimpleDocTemplate

    from xlcredit.jobs.audit import write_report

    out = tmp_path / "audit.pdf"
    out.write_bytes(b"the report of last year")

    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(SimpleDocTemplate, "build", broken)
    with pytest.raises(OSError, match="disk full"):
        write_report(run_small(), out)
    assert out.read_bytes() == b"the report of last year"
    assert list(tmp_path.iterdir()) == [out]


def test_a_policy_b_file_named_current_keeps_both_columns(tmp_path):
    """Policy A is always 'current': a B file named current.toml is shown as 'current (B)', so the months table
    (and the PDF's charts) keep A's and B's figures apart instead of B overwriting A."""
    from xlcredit.jobs.audit import month_rows, run_audit
    from xlcredit.jobs.book import FolderBook

    b_file = tmp_path / "current.toml"
    b_file.write_text('[terms]\nB = "Net 30"\n', encoding="utf-8")
    outcome = run_audit(FolderBook(None), D(2026, 8, 1), D(2026, 10, 31), against=str(b_file))
    assert (outcome.audit.a.name, outcome.audit.b.name) == ("current", "current (B)")
    row = month_rows(outcome.audit)[0]
    assert {"held_current", "held_current (B)"} <= set(row)
