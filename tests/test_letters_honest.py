"""Letters honest to the record, one name per stage, a dry run that writes nothing, no customer dropped for an FX rate.

* A letter refers only to earlier letters the collection register holds; the first letter a customer ever
  receives, whatever the stage, says that it is the first written notice and since when the items are overdue
  (the UK Practice Direction on Pre-Action Conduct, para. 6: a letter before claim states the claim concisely —
  it does not invent earlier correspondence).
* The ladder step's name (policy ``dunning.stepN.name``) is the Stage column, the register's stage, part of the
  file name and (for the shipped English templates) of the letter's title.
* ``--dry-run`` writes nothing: the output folder listed before and after is the same; no folder or database is
  created where there was none.
* A GBP customer without a GBP→EUR rate is still dunned in GBP; its rows carry the reason in the FX table's words.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlcredit.cli import app
from xlcredit.core.ledger import FxRates, Invoice, Ledger
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer
from xlcredit.data.sample import SAMPLE_AS_OF, SAMPLE_DIR
from xlcredit.io.store import CreditStore
from xlcredit.jobs.letters import folder_book, issue_letters, plan_letters, run_letters
from xlcredit.letters.content import with_history
from xlcredit.letters.filenames import safe_filename
from xlcredit.letters.render import compose

D = Decimal
DUE = dt.date(2026, 9, 1)


def customer_with_one_invoice(language: str = "en", currency: str = "EUR") -> tuple[Customer, Ledger]:
    """5,000 due 2026-09-01, nothing paid: step by days past due (7 reminder, 30 formal demand, 45 legal, 90 final)."""
    customer = Customer("K1", name="Kessel GmbH", currency=currency, language=language, contact="Anna Kessel",
                        address="Hafenweg 1, Bremen", relationship_start=dt.date(2020, 1, 1))
    return customer, Ledger((Invoice("K1", "INV-1", currency, D("5000.00"), dt.date(2026, 8, 2), DUE),), ())


def issue_on(day: dt.date, store: CreditStore, out: Path, language: str = "en"):
    customer, ledger = customer_with_one_invoice(language)
    policy = Policy()
    letters, actions, problems = plan_letters([customer], ledger, policy, day)
    assert problems == [] and len(letters) == 1
    results, _ = issue_letters(letters, actions, policy, day, out, store)
    composed = compose(with_history(letters[0], store.register_rows("K1")), policy)
    return letters[0], results, composed.text()


EARLIER_WORDS_EN = ("reminder", "our formal demand", "earlier", "despite", "we refer to", "unanswered", "no answer")


@pytest.mark.parametrize(("day", "stage"), [(dt.date(2026, 10, 5), "Formal demand"),
                                            (dt.date(2026, 10, 20), "Legal action"),
                                            (dt.date(2026, 12, 5), "Agency or insurance claim")])
def test_first_ever_letter_at_a_late_stage_names_no_earlier_step(tmp_path, day, stage):
    customer, ledger = customer_with_one_invoice()
    (letter,), _, _ = plan_letters([customer], ledger, Policy(), day)
    assert letter.stage == stage and letter.oldest_due == DUE
    letter = with_history(letter, [])                          # the register holds nothing for K1
    text = compose(letter, Policy()).text()
    body = " ".join([*compose(letter, Policy()).before, *compose(letter, Policy()).after]).lower()
    assert "This is our first written notice" in text and "overdue since 2026-09-01" in text
    assert not [w for w in EARLIER_WORDS_EN if w in body], body
    zh = compose(with_history(plan_letters([customer_with_one_invoice("zh")[0]], ledger, Policy(), day)[0][0], []),
                 Policy())
    zh_body = "".join([*zh.before, *zh.after])
    assert "第一份书面通知" in zh_body and "自 2026-09-01 起逾期" in zh_body
    assert "已于" not in zh_body and "此前" not in zh_body and "多次" not in zh_body


def test_later_letters_name_exactly_the_letters_the_register_holds(tmp_path):
    store = CreditStore(tmp_path / "r.db")
    out = tmp_path / "o"
    _, _, reminder = issue_on(dt.date(2026, 9, 10), store, out)
    assert "first written notice" not in reminder                      # a reminder is always first anyway
    _, _, demand = issue_on(dt.date(2026, 10, 5), store, out)
    assert "Despite our reminder letter of 2026-09-10, the invoices below remain unpaid" in demand
    letter, _, legal = issue_on(dt.date(2026, 10, 20), store, out)
    assert "We refer to our reminder letter of 2026-09-10 and our formal demand of 2026-10-05." in legal
    _, _, zh = issue_on(dt.date(2026, 12, 5), store, tmp_path / "zh", language="zh")
    assert "我们已于 2026-09-10、2026-10-05、2026-10-20 致函贵司" in zh
    # a letter older than the oldest overdue item was about something since paid: not referred to
    older = [{"customer_id": "K1", "kind": "letter", "step_index": 1, "stage": "Reminder letter",
              "as_of": dt.date(2026, 3, 1)}]
    assert with_history(letter, older).earlier == ()


def test_one_name_per_stage_in_the_stage_column_register_file_name_and_title(tmp_path):
    out = tmp_path / "letters"
    outcome = run_letters(folder_book(SAMPLE_DIR, out), SAMPLE_AS_OF, out)
    rows = {r["file_path"]: r for r in CreditStore(out / "xlcredit.credit.db").register_rows() if r["kind"] == "letter"}
    ladder = {step.name for step in Policy().dunning if step.letter}
    seen = set()
    for result in outcome.letters:
        assert result.stage in ladder
        assert rows[str(Path(result.pdf).resolve())]["stage"] == result.stage
        assert Path(result.pdf).stem.endswith("_" + safe_filename(result.stage))
        if result.language == "en":
            from pypdf import PdfReader

            title = PdfReader(result.pdf).metadata.title
            assert result.stage.lower() in title.lower(), (result.stage, title)
            seen.add(result.stage)
    assert seen == ladder                                            # the sample reaches every letter step


def test_a_customer_without_an_fx_rate_is_dunned_in_its_own_currency_and_the_reason_named(tmp_path):
    customer, ledger = customer_with_one_invoice(currency="GBP")
    fx = FxRates(((dt.date(2026, 1, 1), "USD", D("0.9")),))         # no GBP rate at all
    day = dt.date(2026, 10, 20)
    letters, actions, problems = plan_letters([customer], ledger, Policy(), day, fx)
    assert problems == []                                            # not "left out", not a customers-table row
    (letter,), (action,) = letters, actions
    assert letter.totals[0].currency == "GBP" and letter.totals[0].principal == D("5000.00")
    assert (action.amount, action.currency) == (D("5000.00"), "GBP")
    reason = "no EUR rate for GBP on or before 2026-10-20"
    assert reason in letter.note and reason in action.note
    results, _ = issue_letters(letters, actions, Policy(), day, tmp_path / "o", CreditStore(tmp_path / "r.db"))
    assert [r.status for r in results] == ["issued", "issued"] and all(reason in r.note for r in results)


def _listing(folder: Path) -> list[tuple[str, int, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_dry_run_leaves_the_output_folder_as_it_was(tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    env = {"COLUMNS": "200"}
    # nothing there yet: nothing created, not even out/ or the database
    dry = runner.invoke(app, ["letters", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert os.listdir(tmp_path) == []
    # a real run (no --out: into out/letters, not ./letters), then a dry run: the folder listing is unchanged
    real = runner.invoke(app, ["letters"], env=env)
    assert real.exit_code == 0, real.output
    assert sorted(os.listdir(tmp_path)) == ["out"] and (tmp_path / "out" / "letters" / "xlcredit.credit.db").is_file()
    before = _listing(tmp_path)
    again = runner.invoke(app, ["letters", "--dry-run", "--as-of", "2026-11-30"], env=env)
    assert again.exit_code == 0, again.output
    assert _listing(tmp_path) == before
    assert "would issue" in again.output                   # a later day: new steps reached, listed but not written


def test_summary_counts_match_the_rows_listed(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["letters", "--out", str(tmp_path / "o"), "--dry-run"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    outcome = run_letters(folder_book(SAMPLE_DIR, tmp_path / "o"), SAMPLE_AS_OF, tmp_path / "o", dry_run=True)
    letters, actions = len(outcome.letters), len(outcome.actions)
    assert result.output.count("would issue") == letters + actions
    problems = len(outcome.problems)                       # each listed as one row of the problems table
    assert (f"{letters} letters would be issued, 0 already issued, {actions} actions would be added, "
            f"0 already on the action list, {problems} problem{'s' if problems != 1 else ''}") in result.output
    assert actions > 0
