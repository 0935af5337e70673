"""Statements of account: the arithmetic on an inline ledger worked by hand, invariants on random ledgers,
the rendered documents (fonts embedded, Chinese for Chinese customers) and the ``xlcredit statements`` command.

The hand-worked ledger (customer C1, EUR, period 2026-09-01 .. 2026-09-30, default policy buckets 0/30/60/90/180):

========== ============ ======== ========= =========================================================
date       document     debit    credit    note
========== ============ ======== ========= =========================================================
2026-07-01 INV-1        1,000.00           due 2026-07-31                       (before the period)
2026-08-10 INV-2          500.00           due 2026-09-09                       (before the period)
2026-08-20 PAY-1                   400.00  names INV-1                          (before the period)
2026-09-05 INV-3          250.50           due 2026-10-05
2026-09-15 PAY-2                   700.00  no reference: FIFO → 600.00 INV-1, 100.00 INV-2
2026-09-20 CN-1                     50.25  names INV-3
2026-09-28 INV-4           80.00           due 2026-10-28
2026-10-02 PAY-3                   100.00  after the period: not on the statement
========== ============ ======== ========= =========================================================

Opening = 1,000.00 + 500.00 − 400.00 = 1,100.00; invoices 330.50; payments 700.00; credit notes 50.25;
closing = 1,100.00 + 330.50 − 700.00 − 50.25 = 680.25. Open at 2026-09-30: INV-2 400.00 (21 days overdue, 1-30),
INV-3 200.25 and INV-4 80.00 (not yet due, Current): 680.25 — the closing balance. Running balance: 1,350.50,
650.50, 600.25, 680.25. (The statement of account as taught in e.g. Wood's *Business Accounting 1*, ch. on
control accounts: brought forward + debits − credits = carried forward.)
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlcredit.core.errors import XlcError
from xlcredit.core.ledger import CreditNote, Invoice, Ledger, Payment
from xlcredit.core.openitems import allocate
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer
from xlcredit.core.statements import statement_for, statements_for

D = Decimal
d = dt.date
POLICY = Policy()
C1 = Customer("C1", name="Ostermoor Werkzeugbau AG", currency="EUR", contact="Miriam Lorenz",
              email="accounts@ostermoor.example", address="Werkstraße 22, Stuttgart")
C2 = Customer("C2", name="佛山鑫隆塑胶有限公司", currency="USD", language="zh", contact="李娜",
              email="accounts@xinlong.example")
C3 = Customer("C3", name="Quiet Customer Ltd", currency="EUR")

LEDGER = Ledger(
    (Invoice("C1", "INV-1", "EUR", D("1000.00"), d(2026, 7, 1), d(2026, 7, 31)),
     Invoice("C1", "INV-2", "EUR", D("500.00"), d(2026, 8, 10), d(2026, 9, 9)),
     Invoice("C1", "INV-3", "EUR", D("250.50"), d(2026, 9, 5), d(2026, 10, 5)),
     Invoice("C1", "INV-4", "EUR", D("80.00"), d(2026, 9, 28), d(2026, 10, 28)),
     Invoice("C1", "INV-G1", "GBP", D("300.00"), d(2026, 9, 12), d(2026, 9, 12)),
     Invoice("C2", "INV-U1", "USD", D("100.00"), d(2026, 9, 1), d(2026, 10, 1))),
    (Payment("PAY-1", "C1", d(2026, 8, 20), D("400.00"), "EUR", "INV-1"),
     Payment("PAY-2", "C1", d(2026, 9, 15), D("700.00"), "EUR"),
     Payment("PAY-3", "C1", d(2026, 10, 2), D("100.00"), "EUR"),
     Payment("PAY-U1", "C2", d(2026, 9, 10), D("150.00"), "USD")),
    (CreditNote("CN-1", "C1", d(2026, 9, 20), D("50.25"), "EUR", "INV-3"),),
)
SEPT = (d(2026, 9, 1), d(2026, 9, 30))


def test_statement_arithmetic_worked_by_hand():
    st_ = statement_for(C1, LEDGER, *SEPT, POLICY)
    assert [s.currency for s in st_.sections] == ["EUR", "GBP"]
    eur = st_.sections[0]
    assert (eur.opening, eur.invoices, eur.payments, eur.credit_notes, eur.closing) == (
        D("1100.00"), D("330.50"), D("700.00"), D("50.25"), D("680.25"))
    assert [(ln.reference, ln.debit, ln.credit, ln.balance) for ln in eur.lines] == [
        ("INV-3", D("250.50"), 0, D("1350.50")), ("PAY-2", 0, D("700.00"), D("650.50")),
        ("CN-1", 0, D("50.25"), D("600.25")), ("INV-4", D("80.00"), 0, D("680.25"))]
    assert [(i.invoice_no, i.open_amount, i.days_overdue, i.bucket) for i in eur.open_items] == [
        ("INV-2", D("400.00"), 21, "1-30"), ("INV-3", D("200.25"), 0, "Current"), ("INV-4", D("80.00"), 0, "Current")]
    assert dict(eur.ageing) == {"Current": D("280.25"), "1-30": D("400.00"), "31-60": 0, "61-90": 0, "91-180": 0,
                                "180+": 0}
    assert eur.overdue == D("400.00") and eur.unapplied == () and eur.reconciles
    gbp = st_.sections[1]
    assert (gbp.opening, gbp.invoices, gbp.closing) == (0, D("300.00"), D("300.00"))
    assert [(i.invoice_no, i.days_overdue, i.bucket) for i in gbp.open_items] == [("INV-G1", 18, "1-30")]


def test_overpayment_is_unapplied_cash_and_a_credit_balance():
    """C2 paid 150.00 USD on a 100.00 invoice: closing −50.00, no open item, 50.00 unapplied (PAY-U1)."""
    (usd,) = statement_for(C2, LEDGER, *SEPT, POLICY).sections
    assert (usd.opening, usd.invoices, usd.payments, usd.closing) == (0, D("100.00"), D("150.00"), D("-50.00"))
    assert usd.open_items == () and [(u.reference, u.amount) for u in usd.unapplied] == [("PAY-U1", D("50.00"))]
    assert usd.reconciles


def test_all_customers_leave_out_those_with_nothing_to_say_but_one_named_customer_always_gets_one():
    assert [s.customer.customer_id for s in statements_for([C1, C2, C3], LEDGER, *SEPT, POLICY)] == ["C1", "C2"]
    (nil,) = statements_for([C1, C2, C3], LEDGER, *SEPT, POLICY, only="C3")
    assert [(s.currency, s.opening, s.closing, s.lines) for s in nil.sections] == [("EUR", 0, 0, ())]


def test_bad_period_and_unknown_customer_are_named():
    with pytest.raises(XlcError, match=r"from: is after the end of the period \(2026-10-01 > 2026-09-30\)"):
        statement_for(C1, LEDGER, d(2026, 10, 1), d(2026, 9, 30), POLICY)
    with pytest.raises(XlcError, match="customer: no customer C9 in the customers table"):
        statements_for([C1], LEDGER, *SEPT, POLICY, only="C9")


# --------------------------------------------------------------------------- invariants
AMOUNT = st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2)
DAY = st.integers(min_value=0, max_value=120)
BASE = d(2026, 6, 1)


@st.composite
def ledgers(draw):
    n = draw(st.integers(1, 8))
    invoices = []
    for k in range(n):
        day = BASE + dt.timedelta(days=draw(DAY))
        invoices.append(Invoice("C1", f"I{k}", "EUR", draw(AMOUNT), day, day + dt.timedelta(days=draw(st.sampled_from(
            [0, 14, 30, 60]))), disputed=draw(st.booleans())))
    refs = st.sampled_from(["", *(i.invoice_no for i in invoices), "NOPE"])
    payments = [Payment(f"P{k}", "C1", BASE + dt.timedelta(days=draw(DAY)), draw(AMOUNT), "EUR", draw(refs))
                for k in range(draw(st.integers(0, 6)))]
    notes = [CreditNote(f"N{k}", "C1", BASE + dt.timedelta(days=draw(DAY)), draw(AMOUNT), "EUR", draw(refs))
             for k in range(draw(st.integers(0, 3)))]
    return Ledger(tuple(invoices), tuple(payments), tuple(notes))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledgers(), DAY, DAY, DAY)
def test_statements_reconcile_and_chain(ledger, a, b, c):
    """Any ledger: every section reconciles to the cent, the closing balance is the allocation's account balance
    at the period end, and consecutive periods chain (one's closing balance is the next one's opening)."""
    t1, t2, t3 = sorted(BASE + dt.timedelta(days=x) for x in (a, b, c))
    first = statement_for(C1, ledger, t1, t2, POLICY).sections[0]
    second = statement_for(C1, ledger, t2 + dt.timedelta(days=1), t3 + dt.timedelta(days=1), POLICY).sections[0]
    assert first.reconciles and second.reconciles
    pos = allocate(ledger, t2).get(("C1", "EUR"))
    assert first.closing == (pos.balance if pos else 0)
    assert second.opening == first.closing


# --------------------------------------------------------------------------- documents
def _pdffonts(pdf):
    out = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True, timeout=60).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


def _pdftext(pdf):
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True,
                          timeout=60).stdout


@pytest.mark.skipif(not shutil.which("pdffonts"), reason="needs poppler-utils (installed by .ci/run)")
@pytest.mark.parametrize("customer", [C1, C2], ids=["en", "zh"])
def test_documents_embed_their_fonts_and_speak_the_customers_language(tmp_path, customer):
    from xlcredit.letters.statement import compose_statement, render_statement_docx, render_statement_pdf

    composed = compose_statement(statement_for(customer, LEDGER, *SEPT, POLICY), POLICY)
    pdf = tmp_path / "s.pdf"
    pdf.write_bytes(render_statement_pdf(composed))
    rows = _pdffonts(pdf)
    assert rows
    for row in rows:
        assert (row[-5], row[-4]) == ("yes", "yes"), row       # embedded, as a subset
        assert "Helvetica" not in row[0] and "STSong" not in row[0]
    text = _pdftext(pdf)
    if customer.language == "zh":
        assert "对账单" in text and "期末余额" in text and "-50.00 USD" in text
    else:
        assert "Statement of account" in text and "Closing balance" in text
        assert "1,100.00 EUR" in text and "680.25 EUR" in text and "INV-2" in text
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(render_statement_docx(composed))) as z:
        body = z.read("word/document.xml").decode("utf-8")
    assert ("期末余额" in body) if customer.language == "zh" else ("680.25 EUR" in body)


# --------------------------------------------------------------------------- the command
def _run(*args):
    from typer.testing import CliRunner

    from xlcredit.cli import app

    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})


def test_command_writes_one_customers_statement_once_and_registers_it(tmp_path):
    """The bundled sample's Chinese customer C002 for October 2026: a .docx and a .pdf, one register entry of kind
    statement; the same run again writes nothing; a dry run writes nothing at all."""
    from xlcredit.io.store import CreditStore

    out = tmp_path / "out"
    dry = _run("statements", "--from", "2026-10-01", "--to", "2026-10-31", "--customer", "C002", "--out", str(out),
               "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "1 statement would be written" in dry.output and not out.exists()
    first = _run("statements", "--from", "2026-10-01", "--to", "2026-10-31", "--customer", "C002", "--out", str(out))
    assert first.exit_code == 0, first.output
    assert "1 statement written, 0 already written, 0 failed" in first.output
    files = sorted(p.name for p in out.iterdir() if p.suffix in (".pdf", ".docx"))
    assert len(files) == 2 and all(f.startswith("statement_2026-10-01_2026-10-31_C002_") for f in files)
    store = CreditStore(out / "xlcredit.credit.db")
    (row,) = store.register_rows("C002")
    assert (row["kind"], row["step_index"], row["as_of"]) == ("statement", 0, d(2026, 10, 31))
    store.close()
    if shutil.which("pdftotext"):
        assert "对账单" in _pdftext(out / files[1])
    again = _run("statements", "--from", "2026-10-01", "--to", "2026-10-31", "--customer", "C002", "--out", str(out))
    assert "0 statements written, 1 already written" in again.output
    assert not list((out / ".pending").iterdir())


@pytest.mark.parametrize(("args", "words"), [
    (("--from", "2026-10-31", "--to", "2026-10-01"), "--from: is after --to (2026-10-31 > 2026-10-01)"),
    (("--to", "2026-10-01"), "--from: is required"),
    (("--from", "2026-13-45", "--to", "2026-10-01"), "--from:"),
    (("--from", "2026-10-01", "--to", "2026-10-31", "--customer", "C999"),
     "customer: no customer C999 in the customers table"),
])
def test_command_bad_input_is_one_line_exit_2(tmp_path, args, words):
    result = _run("statements", *args, "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and words in result.output, result.output


# --------------------------------------------------------------------------- the payment plan on the statement
def _plan_case():
    """C1 owes INV-P1, 1,000.00 EUR, due 2026-08-01. On 2026-08-15 a plan of three monthly instalments is agreed:
    1,000.00 / 3 = 333.33 rounded half up, the last takes the remainder: 333.33 + 333.33 + 333.34 = 1,000.00
    (the rule of ``xlcredit.core.collections.instalment_schedule``). 333.33 is paid on 2026-08-30, in time for
    instalment 1 (due 2026-09-01); nothing by instalment 2's 2026-10-01 + 3 days' grace: at 2026-10-31 the plan is
    broken — 1 kept, 2 missed, 3 (due 2026-11-01) still due; paid 333.33, remaining 1,000.00 − 333.33 = 666.67."""
    from xlcredit.core.collections import Collections, PaymentPlan, instalment_schedule

    ledger = Ledger((Invoice("C1", "INV-P1", "EUR", D("1000.00"), d(2026, 7, 2), d(2026, 8, 1)),),
                    (Payment("PAY-P1", "C1", d(2026, 8, 30), D("333.33"), "EUR"),))
    instalments = instalment_schedule(D("1000.00"), 3, d(2026, 9, 1), "EUR", agreed_on=d(2026, 8, 15))
    plan = PaymentPlan("C1", d(2026, 8, 15), "EUR", instalments, ("INV-P1",), owner="Ben")
    return ledger, Collections(plans=(plan,))


def test_the_payment_plan_on_the_statement_worked_by_hand():
    from xlcredit.core.statements import plan_sections

    ledger, records = _plan_case()
    (plan,), problems = plan_sections("C1", ledger, d(2026, 10, 1), d(2026, 10, 31), POLICY, records)
    assert problems == ()
    assert [(i.number, i.due_date, i.amount, i.status) for i in plan.instalments] == [
        (1, d(2026, 9, 1), D("333.33"), "kept"), (2, d(2026, 10, 1), D("333.33"), "missed"),
        (3, d(2026, 11, 1), D("333.34"), "due")]
    assert sum(i.amount for i in plan.instalments) == plan.total == D("1000.00")      # to the cent
    assert (plan.status, plan.paid, plan.remaining, plan.invoice_nos) == ("broken", D("333.33"), D("666.67"),
                                                                           ("INV-P1",))
    # a month earlier the plan was active: instalment 1 kept, 2 and 3 due
    (september,), _ = plan_sections("C1", ledger, d(2026, 9, 1), d(2026, 9, 30), POLICY, records)
    assert september.status == "active" and [i.status for i in september.instalments] == ["kept", "due", "due"]
    # before it was agreed there is no plan to show
    assert plan_sections("C1", ledger, d(2026, 8, 1), d(2026, 8, 14), POLICY, records)[0] == ()


@pytest.mark.parametrize("customer, words", [
    (C1, ["Payment plan agreed on 2026-08-15 (EUR) for INV-P1: broken: an instalment was missed",
          "1 | 2026-09-01 | 333.33 EUR | paid", "2 | 2026-10-01 | 333.33 EUR | missed",
          "3 | 2026-11-01 | 333.34 EUR | due", "Total of the plan |  | 1,000.00 EUR",
          "Paid under the plan |  | 333.33 EUR", "Remaining balance |  | 666.67 EUR"]),
    (Customer("C1", name="佛山鑫隆塑胶有限公司", currency="EUR", language="zh"),
     ["付款计划，约定日期 2026-08-15 (EUR) 涉及发票 INV-P1：已违约：有一期未按时支付",
      "1 | 2026-09-01 | 333.33 EUR | 已付", "2 | 2026-10-01 | 333.33 EUR | 逾期未付",
      "3 | 2026-11-01 | 333.34 EUR | 待付", "剩余余额 |  | 666.67 EUR"]),
])
def test_the_plan_is_written_on_the_statement_in_the_customers_language(tmp_path, customer, words):
    import dataclasses

    from xlcredit.core.statements import plan_sections
    from xlcredit.letters.check import docx_text, pdf_text
    from xlcredit.letters.statement import compose_statement, render_statement_docx, render_statement_pdf

    ledger, records = _plan_case()
    plans, _ = plan_sections("C1", ledger, d(2026, 10, 1), d(2026, 10, 31), POLICY, records)
    statement = dataclasses.replace(statement_for(customer, ledger, d(2026, 10, 1), d(2026, 10, 31), POLICY),
                                    plans=plans)
    composed = compose_statement(statement, POLICY)
    text = composed.text()
    for line in words:
        assert line in text
    (tmp_path / "s.docx").write_bytes(render_statement_docx(composed))
    (tmp_path / "s.pdf").write_bytes(render_statement_pdf(composed))
    in_word, (_, in_pdf) = docx_text(tmp_path / "s.docx"), pdf_text(tmp_path / "s.pdf")
    for shown in (in_word, "".join(in_pdf.split())):
        assert "666.67EUR" in "".join(shown.split()) and ("剩余余额" if customer.language == "zh" else
                                                           "Remainingbalance") in "".join(shown.split())


def test_the_samples_plan_customer_gets_the_plan_the_worklist_sees(tmp_path):
    """C011 in the bundled sample: GBP 19,530.00 in three monthly instalments from 2026-10-15 (plans.csv)."""
    from xlcredit.core.collections import customer_collections
    from xlcredit.jobs.book import FolderBook, read_book
    from xlcredit.jobs.collector import book_collections
    from xlcredit.jobs.statements import run_statements
    from xlcredit.letters.check import pdf_text

    out = tmp_path / "statements"
    book = FolderBook(None, out / "db.sqlite")
    outcome = run_statements(book, d(2026, 10, 1), d(2026, 10, 31), out, customer="C011")
    (result,) = outcome.results
    assert result.status == "written" and outcome.problems == ()
    _, text = pdf_text(Path(result.pdf))
    flat = "".join(text.split())
    assert "Paymentplanagreedon2026-09-30(GBP):active" in flat and "Totaloftheplan19,530.00GBP" in flat
    # the same plan status the worklist works from (book_collections → customer_collections)
    tables = book.read_tables()
    data = read_book(tables, None)
    records, _ = book_collections(book, tables, data.policy.company.currency)
    items = [i for pos in allocate(data.ledger.for_customer("C011"), d(2026, 10, 31)).values() for i in pos.items]
    (status,) = customer_collections("C011", items, data.ledger.payments, d(2026, 10, 31), data.policy,
                                     records).plans
    expected = ["paid"] * status.kept + ["due"] * (len(status.plan.instalments) - status.kept)
    rows = [f"{i.number}{i.due_date.isoformat()}{i.amount:,.2f}GBP{word}"
            for i, word in zip(status.plan.instalments, expected, strict=True)]
    assert status.status == "active" and status.kept == 1 and all(r in flat for r in rows)
    remaining = status.plan.total - status.paid
    assert f"Remainingbalance{remaining:,.2f}GBP" in flat
