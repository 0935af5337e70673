"""Dunning letters: content (statement of account, late charges), rendering, file names, the register.

Worked examples and sources:
* Contract interest is simple interest, principal × annual rate × days / 365 (the formula of
  ``interest.late_interest``; gov.uk "Late commercial payments: charging interest and debt recovery":
  "work out the daily interest … amount × rate / 365, then multiply by the days the debt is late").
  A part paid late bears interest only for its own days (the allocation rule's settlement slices).
* The 0.05 % per day late fee (万分之五) is the customary PRC contract clause (see interest.daily_penalty).
* EU Directive 2011/7/EU art. 6(1): a fixed EUR 40 compensation per late invoice; UK Late Payment of
  Commercial Debts (Interest) Act 1998 s.5A(2): £70 for a debt of £1,000 up to £9,999.99.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from xlcredit.core.errors import XlcError
from xlcredit.core.interest import statutory_interest
from xlcredit.core.ledger import FxRates, Invoice, Ledger, Payment
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer
from xlcredit.data.sample import SAMPLE_AS_OF, SAMPLE_DIR
from xlcredit.io.rates import load_reference_rates
from xlcredit.io.store import CreditStore, items_key
from xlcredit.jobs.book import FolderBook
from xlcredit.jobs.letters import (
    PENDING_DIR,
    folder_book,
    issue_letters,
    plan_letters,
    recover,
    register_frame,
    run_letters,
)
from xlcredit.letters.content import ACTION_TOKEN
from xlcredit.letters.filenames import RESERVED_NAMES, letter_stem, safe_filename
from xlcredit.letters.render import compose, render_docx, render_pdf

AS_OF = dt.date(2026, 10, 31)
D = Decimal


def policy_with(**late: object) -> Policy:
    return Policy.from_rows([(f"late.{k}", v) for k, v in late.items()]) if late else Policy()


def one_customer(currency: str = "EUR", language: str = "en", regime: str = "", amount: str = "10000.00",
                 paid: str = "4000.00", disputed_extra: bool = False) -> tuple[Customer, Ledger]:
    """10,000 due 2026-09-01, 4,000 paid 2026-09-16 (15 days late), the rest open 60 days at 2026-10-31."""
    customer = Customer("K1", name="Kessel & Söhne GmbH", currency=currency, language=language,
                        statutory_regime=regime, contact="Anna Kessel", address="Hafenweg 1, Bremen",
                        relationship_start=dt.date(2020, 1, 1), annual_volume=D("500000"))
    invoices = [Invoice("K1", "INV-1", currency, D(amount), dt.date(2026, 8, 2), dt.date(2026, 9, 1))]
    if disputed_extra:
        invoices.append(Invoice("K1", "INV-D", currency, D("999.00"), dt.date(2026, 7, 1), dt.date(2026, 7, 31),
                                disputed=True))
    payments = [Payment("P1", "K1", dt.date(2026, 9, 16), D(paid), currency, "INV-1")] if D(paid) else []
    return customer, Ledger(tuple(invoices), tuple(payments))


def plan_one(policy: Policy, **kw: object):
    customer, ledger = one_customer(**kw)
    fx = FxRates(((dt.date(2026, 1, 1), "GBP", D("1.15")),))
    letters, actions, problems = plan_letters([customer], ledger, policy, AS_OF, fx, rates=load_reference_rates())
    assert problems == []
    return letters, actions


# --------------------------------------------------------------------------- content
def test_contract_interest_counts_each_slice_for_its_own_days():
    """4,000 × 15 days + 6,000 × 60 days at 8 %/365 = 420,000 × 0.08 / 365 = 92.05 (rounded once)."""
    letters, actions = plan_one(policy_with(claim="contract", contract_rate="0.08"))
    (letter,) = letters
    assert letter.stage == "Legal action" and letter.template == "letter_before_action"
    assert letter.days_past_due == 60
    (line,) = letter.lines
    assert (line.open_amount, line.days_overdue, line.interest) == (D("6000.00"), 60, D("92.05"))
    assert letter.totals[0].total == D("6092.05")
    assert letter.pay_by == AS_OF + dt.timedelta(days=14)
    (action,) = actions
    assert (action.action, action.due_date, action.amount) == ("Legal action", dt.date(2026, 10, 16), D("6000.00"))


def test_penalty_claim_is_half_per_mille_a_day_on_the_open_amount():
    """6,000 × 0.05 % × 60 days = 180.00."""
    (letter,), _ = plan_one(policy_with(claim="penalty"))
    assert letter.lines[0].interest == D("180.00") and letter.claim == "penalty"
    assert letter.totals[0].total == D("6180.00")


def test_statutory_claim_eu_adds_40_euro_per_invoice_and_matches_the_statutory_engine():
    (letter,), _ = plan_one(policy_with(claim="statutory"), regime="EU")
    expected = statutory_interest(D("6000.00"), dt.date(2026, 9, 1), AS_OF, "EU", load_reference_rates(),
                                  currency="EUR")
    assert letter.claim == "statutory" and letter.regime == "EU"
    assert letter.lines[0].interest == expected.interest > 0
    assert letter.lines[0].compensation == D("40")
    assert letter.totals[0].total == D("6000.00") + expected.interest + D("40")


def test_statutory_claim_uk_fixed_sum_by_band():
    (letter,), _ = plan_one(policy_with(claim="statutory"), regime="UK", currency="GBP")
    assert letter.lines[0].compensation == D("70")   # debt 6,000: the £1,000–£9,999.99 band


def test_statutory_claim_without_regime_falls_back_to_contract_and_says_so():
    (letter,), _ = plan_one(policy_with(claim="statutory"))
    assert letter.claim == "contract" and "no statutory regime" in letter.claim_note
    assert letter.lines[0].interest == D("92.05")
    (letter,), _ = plan_one(policy_with(claim="statutory"), regime="UK")  # EUR items under the UK Act
    assert letter.claim == "contract" and "set in GBP" in letter.claim_note


def test_no_claim_and_disputed_items_left_out():
    (letter,), _ = plan_one(policy_with(claim="none"), disputed_extra=True)
    assert letter.invoice_nos == ("INV-1",)          # the disputed INV-D is not dunned
    assert letter.lines[0].interest == 0 and letter.totals[0].total == D("6000.00")


def test_steps_without_letter_become_actions_only():
    """20 days past due = the phone-call step: no letter, one action dated due + 15 days."""
    customer, ledger = one_customer(paid="0")
    day = dt.date(2026, 9, 21)
    letters, actions, _ = plan_letters([customer], ledger, Policy(), day)
    assert letters == [] and [(a.action, a.due_date) for a in actions] == [("Phone call", dt.date(2026, 9, 16))]
    letters, actions, _ = plan_letters([customer], ledger, Policy(), dt.date(2026, 9, 5))  # 4 days: nothing yet
    assert letters == [] and actions == []


# --------------------------------------------------------------------------- rendering
def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_docx_and_pdf_carry_amounts_dates_stage_wording_and_language(language):
    policy = Policy()
    (letter,), _ = plan_one(policy, language=language)
    composed = compose(letter, policy)
    for text in (docx_text(render_docx(composed)), pdf_text(render_pdf(composed))):
        flat = re.sub(r"\s+", "", text)
        for needle in ("INV-1", "2026-09-01", "2026-10-31", "6,000.00EUR", "92.05EUR", "6,092.05EUR",
                       "2026-11-14", "IBANDE89"):
            assert needle in flat, (language, needle)
        has_cjk = re.search(r"[\u4e00-\u9fff]", text) is not None
        assert has_cjk == (language == "zh")
        if language == "en":
            assert "Letter before legal action" in text and "legal proceedings" in text
        else:
            assert "法律行动前通知" in flat and "法律程序" in flat and "逾期利息" in flat


def test_tone_differs_per_stage():
    policy = Policy()
    customer, ledger = one_customer(paid="0")
    words = {}
    for day, key in ((dt.date(2026, 9, 10), "reminder"), (dt.date(2026, 10, 5), "formal_demand"),
                     (dt.date(2026, 12, 5), "final_notice")):
        (letter,), _, _ = plan_letters([customer], ledger, policy, day)
        assert letter.template == key
        words[key] = compose(letter, policy).text()
    assert "Reminder letter" in words["reminder"] and "ignore this reminder" in words["reminder"]
    assert "on hold" in words["formal_demand"]
    assert "collection agency" in words["final_notice"] and "final notice" in words["final_notice"]


def test_user_templates_override_and_fall_back(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "letter_before_action.txt").write_text(
        "# Our own subject for {{ customer.name }}\nPlease pay {{ letter.totals[0].total|money('EUR') }}.\n\n"
        "{{ statement }}\n", "utf-8")
    (tmp_path / "en" / "labels.toml").write_text('total_due = "Grand total"\n', "utf-8")
    policy = Policy()
    (letter,), _ = plan_one(policy)
    composed = compose(letter, policy, tmp_path)
    assert composed.subject == "Our own subject for Kessel & Söhne GmbH"
    assert composed.before == ("Please pay 6,092.05 EUR.",)
    assert composed.total_rows[0][0] == "Grand total" and composed.header[0] == "Invoice"  # fallback label
    (letter_zh,), _ = plan_one(policy, language="zh")  # no zh file in the user folder: the shipped one
    assert "法律行动前通知" in compose(letter_zh, policy, tmp_path).subject
    (tmp_path / "en" / "letter_before_action.txt").write_text("# {{ letter.no_such_thing }}\n", "utf-8")
    compose.__globals__["_environment"].cache_clear()
    with pytest.raises(XlcError, match=r"template: en/letter_before_action\.txt"):
        compose(letter, policy, tmp_path)
    with pytest.raises(XlcError, match="templates: folder not found"):
        compose(letter, policy, tmp_path / "missing")


# --------------------------------------------------------------------------- file names
@pytest.mark.parametrize(("raw", "expected"), [
    ("../../etc/passwd", "etc_passwd"),
    ("CON", "CON_"), ("nul.txt", "nul.txt_"), ("com1", "com1_"), ("LPT9", "LPT9_"),
    ("佛山鑫隆塑胶有限公司", "佛山鑫隆塑胶有限公司"), ("Müller  GmbH", "Müller_GmbH"),
    ('a<b>c:"d|e?*f\\g', "a_b_c_d_e_f_g"), ("...", "unnamed"), ("", "unnamed"), ("x\x00y\nz", "x_y_z"),
])
def test_safe_filename_examples(raw, expected):
    assert safe_filename(raw) == expected


@given(st.text(max_size=300))
def test_safe_filename_is_always_one_harmless_component(text):
    name = safe_filename(text)
    assert name and name not in (".", "..") and not re.search(r'[<>:"/\\|?*\x00-\x1f]', name)
    assert name.split(".")[0].upper() not in RESERVED_NAMES
    assert len(name.encode("utf-8")) <= 200 and name == name.strip(" .")


def test_letter_stem_marks_resends():
    day = dt.date(2026, 10, 31)
    assert letter_stem(day, "C1", "A/B", "reminder") == "2026-10-31_C1_A_B_reminder"
    assert letter_stem(day, "C1", "A/B", "reminder", 2).endswith("_reminder-r2")


# --------------------------------------------------------------------------- the job and the register
def sample_run(out: Path, **kw: object):
    return run_letters(folder_book(SAMPLE_DIR, out), kw.pop("as_of", SAMPLE_AS_OF), out, **kw)


def test_sample_run_writes_registers_and_never_sends_twice(tmp_path):
    out = tmp_path / "letters"
    first = sample_run(out)
    letters = first.letters
    # the sample: 5 reminders, 2 formal demands, 2 letters before action, 2 final notices (make_sample.py)
    assert len(letters) == 11 and {r.status for r in letters} == {"issued"}
    assert {r.language for r in letters} == {"en", "zh"}
    store = CreditStore(out / "xlcredit.credit.db")
    rows = store.register_rows()
    assert len([r for r in rows if r["kind"] == "letter"]) == 11
    assert len([r for r in rows if r["kind"] == "action"]) == len(first.actions) > 0
    for r in rows:
        if r["kind"] == "letter":
            pdf = Path(r["file_path"])
            assert pdf.is_file() and pdf.with_suffix(".docx").is_file()
            assert hashlib.sha256(pdf.read_bytes()).hexdigest() == r["content_hash"]
    files = sorted(p.name for p in out.iterdir() if p.suffix in (".pdf", ".docx"))
    assert len(files) == 22 and not list((out / PENDING_DIR).iterdir())
    # the same day again: nothing new
    again = sample_run(out)
    assert {r.status for r in again.results} == {"already issued"}
    assert len(store.register_rows()) == len(rows)
    # a later day, same ledger: items and steps unchanged for most customers → not re-sent; any new
    # (customer, step, items) is a new step reached, never a duplicate
    later = sample_run(out, as_of=SAMPLE_AS_OF + dt.timedelta(days=3))
    keys = [(r["customer_id"], r["step_index"], r["items_key"], r["resend"]) for r in store.register_rows()]
    assert len(keys) == len(set(keys))
    assert later.count("already issued") > 0
    # an explicit resend issues again as resend 1, in its own file
    resent = sample_run(out, resend=True)
    assert resent.count("resent") == 11 and all(Path(r.pdf).stem.endswith("-r1") for r in resent.letters)


def test_dry_run_writes_nothing(tmp_path):
    out = tmp_path / "dry"
    outcome = sample_run(out, dry_run=True)
    assert outcome.count("would issue") == 11 and outcome.new("action") == len(outcome.actions) > 0
    assert not out.exists() and list(tmp_path.iterdir()) == []     # no folder, no database, no file


def test_letter_and_action_of_one_step_are_separate_register_entries(tmp_path):
    customer, ledger = one_customer(paid="0")
    policy = Policy()
    day = dt.date(2026, 10, 5)                                  # 34 days: formal demand + stop new orders
    letters, actions, _ = plan_letters([customer], ledger, policy, day)
    store = CreditStore(tmp_path / "r.db")
    results, problems = issue_letters(letters, actions, policy, day, tmp_path / "o", store)
    assert problems == [] and [(r.kind, r.status) for r in results] == [("letter", "issued"), ("action", "issued")]
    rows = store.register_rows()
    assert [r["items_key"] for r in rows] == [items_key(["INV-1"]), items_key([ACTION_TOKEN, "INV-1"])]
    assert rows[0]["amount"] == letters[0].totals[0].total and rows[0]["currency"] == "EUR"
    assert register_frame(store)["kind"].tolist() == ["letter", "action"]


def test_a_second_letter_of_the_same_day_and_step_never_overwrites_the_first(tmp_path):
    """Same customer, same day, same step, other invoices (a second run after new items fell due): the second
    letter gets its own file (the items' hash added to the name); the first, registered one stays byte for byte —
    both file names were the same, so the second run overwrote it (and removed it when its own check failed)."""
    import dataclasses

    customer, ledger = one_customer(paid="0")
    policy = Policy()
    day = dt.date(2026, 10, 5)
    store, out = CreditStore(tmp_path / "r.db"), tmp_path / "o"
    letters, _actions, _ = plan_letters([customer], ledger, policy, day)
    first, _ = issue_letters(letters, [], policy, day, out, store)
    first_pdf = Path(first[0].pdf)
    kept = first_pdf.read_bytes()
    other = Ledger(tuple(dataclasses.replace(i, invoice_no="INV-2") for i in ledger.invoices), ())
    letters2, _, _ = plan_letters([customer], other, policy, day)
    second, problems = issue_letters(letters2, [], policy, day, out, store)
    assert problems == [] and [r.status for r in second] == ["issued"]
    assert Path(second[0].pdf) != first_pdf and Path(second[0].pdf).stem.startswith(first_pdf.stem + "-")
    assert first_pdf.read_bytes() == kept
    assert [Path(r["file_path"]).name for r in store.register_rows()] == [first_pdf.name, Path(second[0].pdf).name]


def test_recover_completes_or_removes_by_the_register(tmp_path):
    import json

    store = CreditStore(tmp_path / "r.db")
    out = tmp_path / "o"
    (out / PENDING_DIR).mkdir(parents=True)
    for stem in ("done", "orphan"):
        (out / f"{stem}.pdf").write_bytes(b"%PDF")
        (out / f"{stem}.docx").write_bytes(b"PK")
        (out / PENDING_DIR / f"{stem}.json").write_text(json.dumps({
            "stem": stem, "customer_id": "C1", "step_index": 1 if stem == "done" else 3,
            "items_key": items_key(["X"]), "resend": 0, "files": [f"{stem}.docx", f"{stem}.pdf"]}))
    (out / ".half.pdf.123.xlc-tmp").write_bytes(b"%PD")
    (out / "user-notes.txt").write_text("mine")
    store.record_issue("C1", 1, "Reminder letter", ["X"], as_of=AS_OF, amount=D("1"), file_path=str(out / "done.pdf"))
    done = recover(out, store)
    assert any("completed done" in d for d in done) and any("removed orphan" in d for d in done)
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["done.docx", "done.pdf", "user-notes.txt"]
    assert not list((out / PENDING_DIR).iterdir())


def test_workbook_run_fills_the_letters_sheet(tmp_path):
    import shutil

    import openpyxl

    from xlcredit.jobs.book import WorkbookFile

    book = tmp_path / "CreditControl.xlsm"
    shutil.copy(Path(__file__).resolve().parents[1] / "workbook" / "CreditControl.xlsm", book)
    outcome = run_letters(WorkbookFile(book), SAMPLE_AS_OF, tmp_path / "out", store=str(tmp_path / "c.db"))
    assert outcome.count("issued") > 0
    ws = openpyxl.load_workbook(book, read_only=True, keep_vba=True)["Letters"]
    values = list(ws.iter_rows(min_row=4, values_only=True))
    header = [v for v in values[0] if v is not None]
    assert header[:4] == ["No.", "Issued at", "Customer ID", "Kind"]
    body = [r for r in values[1:] if r and r[0] is not None]
    assert len(body) == len(outcome.register) == len(CreditStore(tmp_path / "c.db").register_rows())


def test_policy_setting_names_the_templates_folder_beside_the_workbook(tmp_path):
    from xlcredit.jobs.letters import _templates_setting

    book = FolderBook(tmp_path)
    assert _templates_setting(book, Policy()) is None
    policy = Policy.from_rows([("company.letter_templates", "my templates")])
    assert _templates_setting(book, policy) == tmp_path / "my templates"
    workbook = tmp_path / "CreditControl.xlsm"
    workbook.write_bytes(b"")
    assert _templates_setting(type("B", (), {"path": workbook})(), policy) == tmp_path / "my templates"
    absolute = Policy.from_rows([("company.letter_templates", str(tmp_path / "abs"))])
    assert _templates_setting(book, absolute) == tmp_path / "abs"


def test_a_folder_without_as_of_is_dunned_as_of_its_newest_document(tmp_path):
    """Letters from a user's folder without --as-of: as of the newest document (invoice I2 of 2026-10-20), said in
    one line — I1, due 2026-09-05, is then 45 days past due; as of today it would look later still."""
    from typer.testing import CliRunner

    from xlcredit.cli import app

    src = tmp_path / "tables"
    src.mkdir()
    (src / "customers.csv").write_text("customer_id,name,country,currency,relationship_start,annual_volume,email\n"
                                       "K1,Acme GmbH,DE,EUR,2019-01-01,120000,ap@acme.example\n", encoding="utf-8")
    (src / "invoices.csv").write_text("customer_id,invoice_no,currency,amount,invoice_date,due_date\n"
                                      "K1,I1,EUR,1000.00,2026-08-06,2026-09-05\n"
                                      "K1,I2,EUR,50.00,2026-10-20,2026-11-19\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["letters", str(src), "--out", str(tmp_path / "out"), "--dry-run"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "as of 2026-10-20, the newest document date in" in " ".join(result.stderr.split())
    assert "Dunning letters as of 2026-10-20" in result.stdout
