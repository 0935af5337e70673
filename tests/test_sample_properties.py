"""The bundled sample is a book a credit controller believes (issue 19, item 2): as of 2026-10-31, under the shipped
policy, its numbers agree with each other.

Each property is read twice — from a refreshed copy of the workbook (what Refresh wrote: the credit database the
Excel functions read, the Dashboard, and the refresh's outcome) and from the ``xlcredit refresh --out`` file — and
checked with arithmetic written here, not taken from the engine: the 12-month credit sales and each customer's
invoiced volume are summed from the workbook's own Invoices and FX Rates sheets; the customers that must be on hold
are derived from limit, exposure, days past due, grade and guarantee by the order-stop rules of the policy.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from xlcredit.cli import app
from xlcredit.core.money import round_money
from xlcredit.core.portfolio import check_result_order
from xlcredit.core.records import Customer
from xlcredit.io import workbook as wb
from xlcredit.io.policy_file import load_policy
from xlcredit.io.store import open_store
from xlcredit.jobs.book import BookData, WorkbookFile, read_book
from xlcredit.jobs.refresh import RefreshOutcome, refresh

ROOT = Path(__file__).resolve().parent.parent
WORKBOOK = ROOT / "workbook" / "CreditControl.xlsm"
AS_OF = dt.date(2026, 10, 31)
WIDE = {"COLUMNS": "200"}
D = Decimal
#: The words of each reason an order is held for, as the order check says them.
RECOGNISED = {
    "over_limit": re.compile(r"^over the credit limit by EUR [\d,.]+ after this order"),
    "order_stop": re.compile(r"^items (\d+) days? overdue — orders stop at the Formal demand stage \(30 days\)$"),
    "prepayment": re.compile(r"^prepayment required for grade D"),
    "cash_in_advance": re.compile(r"^cash in advance required for grade E$"),
}


@dataclass(frozen=True)
class Credit:
    """One customer's credit line as a reader of the refresh sees it (company currency)."""

    customer_id: str
    grade: str
    limit: Decimal
    reason: str
    exposure: Decimal
    available: Decimal
    days_past_due: int
    held: bool
    hold_reasons: tuple[str, ...]


@dataclass(frozen=True)
class Reading:
    source: str
    credits: dict[str, Credit]
    dso: Decimal


# --------------------------------------------------------------------------- the two readings
@pytest.fixture(scope="module")
def refreshed(tmp_path_factory) -> tuple[Path, RefreshOutcome, BookData]:
    folder = tmp_path_factory.mktemp("refreshed")
    copy = folder / "CreditControl.xlsm"
    shutil.copyfile(WORKBOOK, copy)
    outcome = refresh(WorkbookFile(copy), AS_OF, store=str(folder / "credit.db"))
    book = WorkbookFile(copy)
    data = read_book(book.read_tables(), book.read_policy_rows())
    assert data.problems == () and outcome.problems == ()
    assert data.policy == load_policy()          # the workbook's Policy sheet is the shipped policy
    return copy, outcome, data


def _from_workbook(refreshed) -> Reading:
    """What Refresh wrote: the credit database rows (ORDER_CHECK's path for an order of 0) and the Dashboard DSO."""
    copy, outcome, data = refreshed
    store = open_store(str(copy.parent / "credit.db"))
    rows = {r["customer_id"]: r for r in store.results()}
    credits = {}
    for cid, r in rows.items():
        order = check_result_order(rows, cid, 0, data.policy)
        assert order == outcome.portfolio.customer(cid).order      # the cell agrees with the refresh itself
        credits[cid] = Credit(cid, r["grade"], D(r["credit_limit"]), r["limit_reason"], D(r["exposure"]),
                              D(r["available"]), int(r["days_past_due"] or 0), order.decision == "hold", order.reasons)
    sheet = openpyxl.load_workbook(copy, read_only=True, data_only=True)[wb.DASHBOARD_SHEET]
    dso = D(str(sheet[wb.DASHBOARD_CELLS["dso"]].value))
    assert dso == outcome.portfolio.kpis.dso
    return Reading("workbook", credits, dso)


def _from_out_file(tmp_path_factory) -> Reading:
    """``xlcredit refresh COPY --as-of 2026-10-31 --out x.csv``: the Credit table as a user opens it."""
    folder = tmp_path_factory.mktemp("out")
    copy = folder / "CreditControl.xlsm"
    shutil.copyfile(WORKBOOK, copy)
    out = folder / "x.csv"
    result = CliRunner().invoke(app, ["refresh", str(copy), "--as-of", "2026-10-31", "--out", str(out),
                                      "--db", str(folder / "credit.db")], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "error" not in result.output.lower()                  # no policy-check error printed
    dso = D(re.search(r"· DSO ([\d.]+) ·", result.output).group(1))
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    credits = {}
    for r in rows:
        status = r["order_status"]
        assert status == "Release" or status.startswith("Hold: ")
        reasons = tuple(status.removeprefix("Hold: ").split("; ")) if status != "Release" else ()
        credits[r["customer_id"]] = Credit(r["customer_id"], r["grade"], D(r["limit"]), r["limit_reason"],
                                           D(r["exposure"]), D(r["available"]), int(r["days_past_due"] or 0),
                                           status != "Release", reasons)
    return Reading("--out", credits, dso)


@pytest.fixture(scope="module", params=["workbook", "out"])
def reading(request, refreshed, tmp_path_factory) -> Reading:
    return _from_workbook(refreshed) if request.param == "workbook" else _from_out_file(tmp_path_factory)


@pytest.fixture(scope="module")
def customers(refreshed) -> dict[str, Customer]:
    return {c.customer_id: c for c in refreshed[2].customers}


# --------------------------------------------------------------------------- 1. the policy check
def test_policy_check_finds_no_error_in_the_bundled_sample_or_the_workbook(refreshed):
    copy, outcome, _ = refreshed
    assert [f for f in outcome.findings if f.level == "error"] == []
    assert len(outcome.findings) <= 3                             # warnings allowed, but few
    for args in (["policy-check"], ["policy-check", str(copy), "--as-of", "2026-10-31"]):
        result = CliRunner().invoke(app, args, env=WIDE)
        assert result.exit_code == 0, result.output
        assert "no contradiction found" in result.output or re.search(r"\b0 errors\b", result.output)


# --------------------------------------------------------------------------- 2. and 3. revenue and volumes
def _invoiced_last_12_months(data: BookData) -> dict[str, Decimal]:
    """Per customer, invoices dated in the 12 months to AS_OF, in EUR at the as-of rate (cent-rounded each)."""
    year_ago = AS_OF - dt.timedelta(days=365)
    out: dict[str, Decimal] = {}
    for inv in data.ledger.invoices:
        if year_ago < inv.invoice_date <= AS_OF:
            eur = inv.amount if inv.currency == "EUR" else round_money(data.fx.convert(inv.amount, inv.currency,
                                                                                       AS_OF), "EUR")
            out[inv.customer_id] = out.get(inv.customer_id, D(0)) + eur
    return out


def test_revenue_covers_the_credit_sales_and_agrees_with_the_cash_flow(refreshed):
    _, _, data = refreshed
    company = data.policy.company
    sales = sum(_invoiced_last_12_months(data).values(), D(0))
    assert D(20_000_000) < sales <= company.annual_revenue                 # the ledger's credit sales, 12 months
    assert abs(company.monthly_cash_flow * 12 - company.annual_revenue) <= D("0.25") * company.annual_revenue


def test_stated_annual_volumes_match_the_invoiced_last_12_months_within_10_percent(refreshed, customers):
    _, _, data = refreshed
    invoiced = _invoiced_last_12_months(data)
    year_ago = AS_OF - dt.timedelta(days=365)
    trading = [c for c in customers.values() if c.relationship_start is not None and c.relationship_start <= year_ago]
    assert len(trading) >= 45
    for c in trading:
        assert abs(invoiced.get(c.customer_id, D(0)) - c.annual_volume) <= D("0.10") * c.annual_volume, c.customer_id


# --------------------------------------------------------------------------- 4. to 7. what the refresh shows
def test_every_customer_is_shown_and_available_is_limit_minus_exposure(reading, customers):
    assert set(reading.credits) == set(customers)
    for c in reading.credits.values():
        assert c.available == c.limit - c.exposure, (reading.source, c.customer_id)


def test_few_customers_have_negative_available_credit_and_none_of_grade_a_or_b(reading):
    negative = [c for c in reading.credits.values() if c.available < 0]
    assert 1 <= len(negative) <= 0.2 * len(reading.credits)
    assert [c.customer_id for c in negative if c.grade in "AB"] == []


def test_between_2_and_10_customers_are_held_each_for_a_reason_a_controller_recognises(reading, customers):
    policy = load_policy()
    stop = policy.order_stop_days
    held = {cid for cid, c in reading.credits.items() if c.held}
    assert 2 <= len(held) <= 10, sorted(held)
    # who must be held for an order of 0, from the facts alone
    expected: dict[str, set[str]] = {}
    for cid, c in reading.credits.items():
        guarantee = customers[cid].bank_guarantee
        why = set()
        if c.exposure > c.limit:
            why.add("over_limit")
        if c.days_past_due >= stop:
            why.add("order_stop")
        if c.grade == "D" and (guarantee <= 0 or c.exposure > guarantee):
            why.add("prepayment")
        if c.grade == "E":
            why.add("cash_in_advance")
        if why:
            expected[cid] = why
    assert held == set(expected), (reading.source, sorted(held), sorted(expected))
    for cid in held:
        c = reading.credits[cid]
        found = set()
        for text in c.hold_reasons:
            code = next((k for k, rx in RECOGNISED.items() if rx.search(text)), None)
            assert code is not None, (reading.source, cid, text)
            found.add(code)
            if code == "order_stop":
                assert int(RECOGNISED[code].search(text).group(1)) == c.days_past_due
        assert found == expected[cid], (reading.source, cid, c.hold_reasons)
    # every grade the policy puts on prepayment is held, so few customers have those grades
    assert all(reading.credits[cid].held for cid in reading.credits if reading.credits[cid].grade == "E")


def test_dso_between_35_and_75_days(reading):
    assert D(35) <= reading.dso <= D(75)


def test_no_prepayment_grade_shows_an_unsecured_limit(reading, customers):
    graded = [c for c in reading.credits.values() if c.grade in "DE"]
    assert graded
    secured = 0
    for c in graded:
        if c.limit == 0:
            continue
        guarantee = customers[c.customer_id].bank_guarantee
        assert c.grade == "D" and 0 < c.limit <= guarantee, (reading.source, c.customer_id)
        assert re.search(r"secured by the bank guarantee|up to the bank guarantee held", c.reason), c.reason
        secured += 1
    assert secured >= 1                                           # the sample shows a guarantee at work


# --------------------------------------------------------------------------- 8. reviews due
def _share_due(due: int, total: int) -> None:
    assert total / 6 <= due <= total / 2, (due, total)


def test_between_a_sixth_and_a_half_of_the_customers_are_due_for_review(refreshed):
    """The Reviews sheet carries the previous system's history, so only those whose quarterly (monthly for D and
    E) review has come round, those with a warning, and the never-reviewed prospects are due — not all 60."""
    from xlcredit.jobs.review import review

    copy, _, data = refreshed
    store = str(copy.parent / "review.db")
    first = review(WorkbookFile(copy), AS_OF, store=store)
    assert first.problems == ()
    due = {c.customer_id: c for c in first.review.due}
    _share_due(len(due), len(data.customers))
    prospects = {c.customer_id for c in data.customers if c.relationship_start is None}
    assert prospects <= set(due) and all(due[cid].last_review is None for cid in prospects)
    assert sum(c.last_review is not None for c in first.review.cases) == len(data.customers) - len(prospects)
    sheet = openpyxl.load_workbook(copy, read_only=True, data_only=True)[wb.DASHBOARD_SHEET]
    assert sheet[wb.DASHBOARD_CELLS["reviews_due"]].value == len(due)
    # the reviews just recorded in the credit database are now the latest: what stays due has a warning
    again = review(WorkbookFile(copy), AS_OF, store=store, write=False)
    assert {c.customer_id for c in again.review.due} <= set(due)
    assert all(c.review_type == "special" for c in again.review.due)


def test_xlcredit_review_on_the_bundled_sample_counts_the_same_customers_due():
    result = CliRunner().invoke(app, ["review", "--as-of", "2026-10-31", "--dry-run"], env=WIDE)
    assert result.exit_code == 0, result.output
    due, total = map(int, re.search(r"\((\d+) of (\d+) due\)", result.output).groups())
    assert total == 60
    _share_due(due, total)
