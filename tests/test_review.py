"""The portfolio review end to end (xlcredit.core.review, xlcredit.jobs.review, ``xlcredit review``).

* A constructed ledger whose roll rates can be read off by hand (one invoice never paid, one paid 20
  days late, one not yet due) proves the provision chain — including that money sitting in the 180+
  bucket for months is not counted again every month (the write-off bucket's *entries* roll, its stock
  does not).
* On the bundled sample, the bulk review agrees with the reference (Decimal, one document at a time)
  path to the cent: grades, scores, limits and exposure as the Refresh button computes them
  (``portfolio.assess_portfolio``), company-currency buckets as ``ageing.age_ledger`` converts them,
  roll-rate balances from ``openitems.allocate`` at each date, the review triggers from
  ``monitoring.review_customer`` on plainly computed inputs, insurance from ``insurance.insurance_status``,
  the forecast from ``forecast.cash_forecast`` and the ECL from ``provisioning.provision_report``.
* The job records a review for every customer due, and the next run compares with it.
"""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from xlcredit.cli import app
from xlcredit.core.ageing import age_ledger
from xlcredit.core.fast.ageing import frames_to_arrays
from xlcredit.core.forecast import cash_forecast
from xlcredit.core.history import payment_histories
from xlcredit.core.insurance import OpenAmount, insurance_status
from xlcredit.core.money import ZERO
from xlcredit.core.monitoring import CustomerPosition, LastReview, last_days_late, review_customer
from xlcredit.core.openitems import allocate
from xlcredit.core.policy import Policy
from xlcredit.core.portfolio import assess_portfolio
from xlcredit.core.provisioning import provision_report
from xlcredit.core.records import Customer
from xlcredit.core.review import roll_buckets, run_review
from xlcredit.data.sample import SAMPLE_AS_OF, sample_path
from xlcredit.io.ledger import load_fx_rates, load_ledger, load_ledger_frames
from xlcredit.io.store import CreditStore
from xlcredit.io.tables import read_customers
from xlcredit.jobs.book import FolderBook
from xlcredit.jobs.review import imported_reviews, last_reviews_from, latest_reviews, review

D = Decimal
A = dt.date(2026, 10, 31)
POLICY = Policy()


def test_roll_buckets_for_the_policy_bounds():
    step, fine, labels, groups = roll_buckets((0, 30, 60, 90, 180))
    assert step == 30
    assert fine == (-30, 0, 30, 60, 90, 120, 150, 180, 210)
    assert labels == ("Due within 30 days", "1-30", "31-60", "61-90", "91-120", "121-150", "151-180",
                      "180+ (entered 181-210)")
    assert groups == ((0,), (1,), (2,), (3,), (4, 5, 6), (7,))
    step, fine, labels, groups = roll_buckets((0, 14, 28))
    assert (step, fine, groups) == (14, (-14, 0, 14, 28, 42), ((0,), (1,), (2,), (3,)))


def _frames(rows_inv, rows_pay):
    inv = pd.DataFrame(rows_inv, columns=["customer_id", "invoice_no", "currency", "amount", "invoice_date",
                                          "due_date"])
    for col in ("invoice_date", "due_date"):
        inv[col] = pd.to_datetime(inv[col])
    pay = pd.DataFrame(rows_pay, columns=["payment_id", "customer_id", "payment_date", "amount", "currency",
                                          "invoice_ref"])
    pay["payment_date"] = pd.to_datetime(pay["payment_date"])
    return inv, frames_to_arrays(inv, pay)


def day(n: int) -> str:
    return (A + dt.timedelta(days=n)).isoformat()


def test_provision_from_a_ledger_whose_roll_rates_are_read_off_by_hand():
    """Snapshots every 30 days back from 2026-10-31. X (100.00, due 400 days ago) is never paid: it passes
    through "due within 30 days", 1-30, …, 151-180 and enters 180+ once, then sits there. Y (100.00, same due
    date) is paid 20 days late: in "due within" and 1-30, gone before 31-60. So: due→1-30 = 200/200 = 1,
    1-30→31-60 = 100/200 = 0.5, every later roll 100/100 = 1 — even though X sits in 180+ for 7 more
    snapshots (counted as stock, that would give 800/100, capped). Loss rates: 180+ and 31-60 … 151-180 → 1;
    1-30 → 0.5; due → 0.5. Today X (100.00) is 180+ → ECL 100.00; Z (1,000.00, due in 10 days) is
    Current → ECL 500.00."""
    inv, frames = _frames(
        [("C1", "INV-0001", "EUR", "100.00", day(-430), day(-400)),
         ("C1", "INV-0002", "EUR", "100.00", day(-430), day(-400)),
         ("C2", "INV-0003", "EUR", "1000.00", day(-20), day(10))],
        [("P1", "C1", day(-380), "100.00", "EUR", "INV-0002")])
    customers = [Customer("C1", "One"), Customer("C2", "Two")]
    r = run_review(customers, frames, POLICY, A, invoice_numbers=inv["invoice_no"].tolist())
    assert r.roll is not None and r.roll.periods == 24
    assert r.roll.roll_rates == (D(1), D("0.5"), D(1), D(1), D(1), D(1), D(1))
    assert r.roll.flows[-1] == D(100) and r.roll.bases[-1] == D(100)
    assert r.roll.loss_rates == (D("0.5"), D("0.5"), D(1), D(1), D(1), D(1), D(1), D(1))
    assert r.matrix.loss_rates == (D("0.5"), D("0.5"), D(1), D(1), D(1), D(1))
    assert r.figures["C1"].buckets == (ZERO, ZERO, ZERO, ZERO, ZERO, D("100.00"))
    assert (r.figures["C1"].ecl, r.figures["C2"].ecl) == (D("100.00"), D("500.00"))
    assert r.provision.total_ecl == D("600.00")
    # Y was paid 20 days late, but 380 days ago: outside the 12 months that set the habit → on time;
    # X is open 400 days past due: doubtful in the forecast; Z due in 10 days: week 2
    assert r.figures["C1"].habit_days == 0
    assert r.forecast.doubtful == D("100.00") and r.forecast.weeks[1].amount == D("1000.00")
    forward = Policy.from_mapping({"provision.forward_factor": "1.2", "forecast.history_months": 13})
    r2 = run_review(customers, frames, forward, A)
    assert r2.matrix.loss_rates == (D("0.6"), D("0.6"), D(1), D(1), D(1), D(1))
    assert r2.figures["C1"].habit_days == 20                    # 13 months reach back to Y's payment
    given = run_review(customers, frames, POLICY, A, loss_rates=[D("0.003"), D("0.016"), D("0.036"), D("0.066"),
                                                                D("0.106"), D("0.106")])
    assert given.roll is None and given.provision.total_ecl == D("13.60")   # 1,000 × 0.3 % + 100 × 10.6 %


# ---------------------------------------------------------------------------- the sample, both paths
@pytest.fixture(scope="module")
def sample():
    customers = read_customers(sample_path("customers")).customers
    loaded = load_ledger(sample_path("invoices"), sample_path("payments"), sample_path("credit_notes"),
                         policy=POLICY, fx_rates=sample_path("fx_rates"))
    lf = load_ledger_frames(sample_path("invoices"), sample_path("payments"), sample_path("credit_notes"),
                            policy=POLICY)
    inv, pay, cn = lf.contract_tables()
    frames = frames_to_arrays(inv, pay, cn)
    fx = load_fx_rates(sample_path("fx_rates"), policy=POLICY).fx
    last = {"C001": LastReview(dt.date(2026, 9, 30), "A", 85, D(900_000), D(80), D(500_000)),
            "C010": LastReview(dt.date(2026, 10, 15), "A", 90, D(100_000), D(90), None)}
    result = run_review(customers, frames, POLICY, SAMPLE_AS_OF, fx=fx, last_reviews=last,
                        invoice_numbers=inv["invoice_no"].tolist())
    return customers, loaded.ledger, fx, last, result


def test_sample_scores_limits_exposure_and_buckets_match_the_refresh(sample):
    customers, ledger, fx, _, r = sample
    portfolio = assess_portfolio(customers, ledger, POLICY, SAMPLE_AS_OF, fx)
    assert r.problems == () and len(r.cases) == len(portfolio.customers) == 60
    for c in portfolio.customers:
        f = r.figures[c.customer.customer_id]
        assert (f.score.score, f.score.grade, f.limit, f.exposure, f.open_receivables) == (
            c.score.score, c.score.grade, c.limit.limit, c.exposure.total, c.open_receivables)
        assert f.days_past_due == c.dunning.days_past_due
    ageing = age_ledger(ledger, SAMPLE_AS_OF, POLICY, fx)
    company: dict[str, list[Decimal]] = {}
    for row in ageing.rows:
        acc = company.setdefault(row.customer_id, [ZERO] * len(ageing.labels))
        for j, label in enumerate(ageing.labels):
            acc[j] += row.buckets_company[label]
    for cid, f in r.figures.items():
        assert list(f.buckets) == company.get(cid, [ZERO] * 6), cid
    # the provision report over the reference buckets gives the same ECL, customer by customer
    report = provision_report(r.matrix, {cid: company.get(cid, [ZERO] * 6) for cid in r.figures})
    assert {c.customer_id: c.total_ecl for c in report.customers} == {cid: f.ecl for cid, f in r.figures.items()}
    assert report.total_ecl == r.provision.total_ecl
    assert sum((ln.gross for ln in report.by_bucket.lines), ZERO) == r.provision.total_gross


def test_sample_roll_rate_balances_match_allocations_at_each_date(sample):
    _, ledger, fx, _, _ = sample
    _, fine, _, _ = roll_buckets(POLICY.ageing.bounds)
    from xlcredit.core.fast.ageing import prepare_bulk
    from xlcredit.core.fast.monitoring import fine_bucket_balances

    lf = load_ledger_frames(sample_path("invoices"), sample_path("payments"), sample_path("credit_notes"),
                            policy=POLICY)
    frames = frames_to_arrays(*lf.contract_tables())
    p = prepare_bulk(frames.invoices, frames.credits)
    dates = [SAMPLE_AS_OF - dt.timedelta(days=30 * k) for k in (17, 9, 3, 0)]
    rates = [fx.rate(c, SAMPLE_AS_OF) for c in frames.currencies]
    got = fine_bucket_balances(p, dates, fine, frames.invoices.due_date, frames.invoices.currency, rates,
                               frames.currencies, "EUR")
    for t, when in enumerate(dates):
        per: dict[tuple[str, int], Decimal] = {}
        for pos in allocate(ledger, when).values():
            for item in pos.open_items:
                days = (when - item.due_date).days
                j = sum(days > b for b in fine)
                per[(item.currency, j)] = per.get((item.currency, j), ZERO) + item.open_amount
        expected = [ZERO] * (len(fine) + 1)
        for (ccy, j), amount in per.items():
            expected[j] += fx.convert(amount, ccy, SAMPLE_AS_OF)
        assert [Decimal(int(x)) / 100 for x in got[t]] == expected, when


def test_sample_review_triggers_insurance_and_forecast_match_the_core_functions(sample):
    customers, ledger, fx, last, r = sample
    by_id = {c.customer_id: c for c in customers}
    positions = allocate(ledger, SAMPLE_AS_OF)
    items: dict[str, list] = {}
    for pos in positions.values():
        items.setdefault(pos.customer_id, []).extend(pos.items)
    from xlcredit.core.monitoring import month_window

    window = month_window(SAMPLE_AS_OF, POLICY.review.order_months)
    months = {*window, *((y - 1, m) for y, m in window)}
    for case in r.cases:
        cid = case.customer_id
        f = r.figures[cid]
        orders: dict[tuple[int, int], Decimal] = {}
        for inv in ledger.invoices:
            ym = (inv.invoice_date.year, inv.invoice_date.month)
            if inv.customer_id == cid and ym in months:
                orders[ym] = orders.get(ym, ZERO) + fx.convert(inv.amount, inv.currency, SAMPLE_AS_OF)
        late = last_days_late(items.get(cid, []), SAMPLE_AS_OF, POLICY.review.trend_invoices)
        pos = CustomerPosition(cid, by_id[cid].name, f.score.grade, f.score.score, f.limit, f.exposure,
                               by_id[cid].rating, by_id[cid].insured_limit)
        expected = review_customer(pos, last.get(cid), SAMPLE_AS_OF, POLICY, monthly_orders=orders, days_late=late)
        assert case == expected, cid
    c001 = next(c for c in r.cases if c.customer_id == "C001")
    # customers.csv: C001 is insured for 190,000 now, against 500,000 at its last review
    assert "insured limit 500,000 → 190,000" in c001.changes and any(t.kind == "cover_cut" for t in c001.triggers)

    # insurance: the same statuses from the reference open items
    insured = [c for c in customers if c.insured_limit is not None]
    assert set(r.insurance) == {c.customer_id for c in insured}
    for c in insured:
        its = [OpenAmount(i.invoice_no, i.due_date, fx.convert(i.open_amount, i.currency, SAMPLE_AS_OF), i.disputed)
               for i in sorted((i for i in items.get(c.customer_id, []) if i.open_amount > 0),
                               key=lambda i: (i.currency, i.disputed, i.due_date, i.invoice_date, i.invoice_no))]
        expected = insurance_status(c.customer_id, c.insured_limit, c.insurer, r.figures[c.customer_id].exposure,
                                    its, SAMPLE_AS_OF, POLICY)
        got = r.insurance[c.customer_id]
        assert (got.above_cover, got.expected_indemnity, got.claimable_now, got.missed, got.coming_due) == (
            expected.above_cover, expected.expected_indemnity, expected.claimable_now, expected.missed,
            expected.coming_due), c.customer_id
        assert sorted(got.items, key=lambda i: i.invoice_no) == sorted(expected.items, key=lambda i: i.invoice_no)
    # notify the insurer 60 days after due: C006's disputed invoice (due 2026-06-14), two of C008's (stopped paying)
    assert sum(len(s.missed) for s in r.insurance.values()) == 3

    # forecast: habits over 12 months, items converted one by one
    habits = {cid: h.avg_days_late for cid, h in payment_histories(ledger, SAMPLE_AS_OF, 12, fx=fx).items()}
    open_items = [type("It", (), dict(customer_id=i.customer_id, invoice_no=i.invoice_no, due_date=i.due_date,
                                      disputed=i.disputed,
                                      open_amount=fx.convert(i.open_amount, i.currency, SAMPLE_AS_OF)))
                  for pos in positions.values() for i in pos.open_items]
    fc = cash_forecast(open_items, habits, SAMPLE_AS_OF, POLICY)
    assert fc.weeks == r.forecast.weeks
    assert (fc.later, fc.doubtful, fc.disputed) == (r.forecast.later, r.forecast.doubtful, r.forecast.disputed)
    assert fc.counts == r.forecast.counts


# ---------------------------------------------------------------------------- the job and the command
def test_job_records_due_reviews_and_the_next_run_compares_with_them(tmp_path):
    store = CreditStore(str(tmp_path / "credit.db"))
    first = review(FolderBook(), SAMPLE_AS_OF, store=store, now=dt.datetime(2026, 10, 31, 9, 0))
    due = first.review.due
    assert first.recorded == len(due) and 10 <= len(due) <= 30    # the sample's review history: not all due
    rows = store.reviews()
    latest = last_reviews_from(rows)
    assert set(latest) == {c.customer_id for c in due}
    cid = due[0].customer_id
    f = first.review.figures[cid]
    assert latest[cid] == LastReview(SAMPLE_AS_OF, f.score.grade, f.score.score, f.limit, f.customer.rating,
                                     f.customer.insured_limit)
    nxt = review(FolderBook(), SAMPLE_AS_OF + dt.timedelta(days=1), store=store)
    quiet = [c for c in nxt.review.cases if not c.due and c.customer_id in latest]
    assert quiet, "customers reviewed yesterday without warnings are not due again"
    assert all(c.last_review == SAMPLE_AS_OF and c.changes == () for c in quiet)
    assert all(c.next_review > SAMPLE_AS_OF + dt.timedelta(days=1) for c in quiet)
    # the others keep their last review from the imported history (reviews.csv)
    assert all(c.last_review is not None and c.last_review < SAMPLE_AS_OF
               for c in nxt.review.cases if c.customer_id not in latest)
    dry = review(FolderBook(), SAMPLE_AS_OF, store=store, record=False)
    assert dry.recorded == 0 and len(store.reviews()) == first.recorded + nxt.recorded


def test_review_command_on_the_sample(tmp_path):
    out = tmp_path / "review.csv"
    acts = tmp_path / "actions.csv"
    res = CliRunner().invoke(app, ["review", "--dry-run", "--out", str(out), "--actions", str(acts)],
                             env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    due = int(re.search(r"Portfolio review as of 2026-10-31 — bundled sample \((\d+) of 60 due\)", res.output)[1])
    assert "IFRS 9 provision matrix" in res.output and "Expected collections per week" in res.output
    assert "3 insurer deadlines MISSED" in res.output
    assert "60 customers reviewed, no problems" in res.output
    table = pd.read_csv(out)
    assert len(table) == 60 and {"review", "warnings", "ecl", "expected_indemnity"} <= set(table.columns)
    assert 10 <= due == table["review"].isin(["special", "periodic"]).sum() <= 30   # reviews.csv: not all due
    actions = pd.read_csv(acts, encoding="utf-8-sig")
    assert list(actions.columns) == ["customer_id", "name", "stage", "action", "due_date", "amount", "currency",
                                     "owner", "status", "reason"]
    missed = actions[actions["status"] == "MISSED"]
    assert len(missed) == 3 and set(missed["action"]) == {"Notify insurer"}
    assert (actions["stage"] == "Credit review").sum() == due


def test_review_command_bad_input_is_one_line_and_exit_2(tmp_path):
    res = CliRunner().invoke(app, ["review", "--as-of", "31/13/2026"])
    assert res.exit_code == 2 and "--as-of" in res.output
    res = CliRunner().invoke(app, ["review", str(tmp_path / "missing.xlsm")])
    assert res.exit_code == 2 and "source: file or folder not found" in res.output
    (tmp_path / "books").mkdir()
    res = CliRunner().invoke(app, ["review", str(tmp_path / "books")])
    assert res.exit_code == 2 and "customers: file not found" in res.output


def test_job_on_the_workbook_fills_the_review_sheet_and_the_dashboard_forecast(tmp_path):
    """The built CreditControl.xlsm (sample data): Review sheet from row 4, the Dashboard's review figures and
    weekly forecast cells, the forecast chart reading them; the VBA project is kept."""
    import shutil
    import zipfile

    import openpyxl

    from xlcredit.io import workbook as wb
    from xlcredit.jobs.book import WorkbookFile

    book = tmp_path / "CreditControl.xlsm"
    shutil.copyfile(Path(__file__).resolve().parent.parent / "workbook" / "CreditControl.xlsm", book)
    outcome = review(WorkbookFile(book), SAMPLE_AS_OF, now=dt.datetime(2026, 10, 31, 9, 0))
    result = outcome.review
    assert outcome.store_url.endswith("CreditControl.credit.db") and outcome.recorded == len(result.due)
    assert 10 <= len(result.due) <= 30                      # the Reviews sheet's history: not everyone is due
    values = openpyxl.load_workbook(book, data_only=True)
    review_ws, dash = values["Review"], values["Dashboard"]
    assert review_ws["B2"].value.date() == SAMPLE_AS_OF
    header = [c.value for c in review_ws[4]]
    assert header[:4] == ["Customer ID", "Name", "Review", "Grade"]   # headers in words
    assert review_ws.max_row == 4 + 60
    assert dash[wb.REVIEW_CELLS["reviews_due"]].value == len(result.due)
    assert Decimal(str(dash[wb.REVIEW_CELLS["ecl_total"]].value)) == result.provision.total_ecl
    first = wb.FORECAST_ROWS[0]
    assert dash[f"B{first}"].value.date() == dt.date(2026, 11, 1)
    assert [Decimal(str(dash[f"C{r}"].value)) for r in wb.FORECAST_ROWS] == [w.amount for w in result.forecast.weeks]
    with zipfile.ZipFile(book) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert "xl/vbaProject.bin" in z.namelist()
    assert any(f"<c:f>'Dashboard'!$C${first}:$C${wb.FORECAST_ROWS[-1]}</c:f>" in c for c in charts)


# ---------------------------------------------------------------------------- an imported review history
def test_imported_review_history_is_read_row_by_row_and_the_latest_review_wins():
    """The Reviews table (headers in words are read too): bad rows are named and skipped, the good ones kept;
    a customer's latest review counts, from the history or the credit database — on the same day, the
    database's."""
    frame = pd.DataFrame({
        "Customer ID": ["K1", "K1", "K2", "K3", "K4", None],
        "Review date": ["2026-05-04", "2026-08-03", "31/02/2026", "2026-09-01", "2026-09-01", None],
        "Grade": ["B", "A", "C", "F", "", None],
        "Score": [70, 82, 55, 40, "", None],
        "Credit limit": ["90000", "120000", "", "", "15000", None],
        "Notes": ["imported", "imported", "", "", "", None],
    })
    rows, problems = imported_reviews(frame)
    assert [(p.row, p.column) for p in problems] == [(4, "review_date"), (5, "grade")]
    assert "must be one of A, B, C, D, E or blank (got 'F')" in problems[1].problem
    assert [(r["customer_id"], r["review_date"], r["grade"], r["score"], r["credit_limit"]) for r in rows] == [
        ("K1", dt.date(2026, 5, 4), "B", 70, Decimal("90000")),
        ("K1", dt.date(2026, 8, 3), "A", 82, Decimal("120000")),
        ("K4", dt.date(2026, 9, 1), None, None, Decimal("15000"))]
    recorded = [{"customer_id": "K4", "review_date": dt.date(2026, 9, 1), "grade": "C", "score": 58,
                 "credit_limit": Decimal("12000"), "notes": ""},
                {"customer_id": "K1", "review_date": dt.date(2026, 7, 1), "grade": "B", "score": 75,
                 "credit_limit": Decimal("100000"), "notes": ""}]
    last = latest_reviews(rows, recorded)
    assert last["K1"] == LastReview(dt.date(2026, 8, 3), "A", 82, Decimal("120000"))      # the history is later
    assert last["K4"] == LastReview(dt.date(2026, 9, 1), "C", 58, Decimal("12000"))       # same day: the database
    assert imported_reviews(pd.DataFrame({"customer_id": ["K1"]}))[1][0].problem.startswith("column is missing")



def test_a_folder_without_as_of_is_reviewed_as_of_its_newest_document(tmp_path):
    """A file is as of when it was exported, not as of today: the newest document (the payment of 2026-09-20) sets
    the date, and the command says so in one line; an --as-of 40 days later is warned about with both dates."""
    (tmp_path / "customers.csv").write_text("customer_id,name,relationship_start,annual_volume\n"
                                            "K1,Acme,2019-01-01,120000\n", encoding="utf-8")
    (tmp_path / "invoices.csv").write_text("customer_id,invoice_no,currency,amount,invoice_date,due_date\n"
                                           "K1,I1,EUR,100.00,2026-08-01,2026-08-31\n", encoding="utf-8")
    (tmp_path / "payments.csv").write_text("payment_id,customer_id,payment_date,amount,currency\n"
                                           "P1,K1,2026-09-20,40.00,EUR\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["review", str(tmp_path), "--dry-run", "--all"])
    assert result.exit_code == 0, result.output
    assert "as of 2026-09-20, the newest document date in" in " ".join(result.stderr.split())
    assert "Portfolio review as of 2026-09-20" in result.stdout
    late = CliRunner().invoke(app, ["review", str(tmp_path), "--dry-run", "--as-of", "2026-10-30"])
    assert late.exit_code == 0, late.output
    words = " ".join(late.stderr.split())
    assert "warning: as of 2026-10-30, but the newest document in" in words and "is dated 2026-09-20 (40 days" in words


PROMISE_HEADER = "Customer,Promised date,Taken on,Invoices,Amount,Currency,Taken by,Channel,Note\n"


def _promise_folder(folder: Path, promises: str | None) -> Path:
    """As of 2026-10-31: C1 owes INV-1 EUR 1,000 (due 1 Sep) and paid INV-2 EUR 500 on 5 Oct; C2 owes INV-9 EUR
    2,000 (due 28 Sep) and paid nothing."""
    folder.mkdir()
    (folder / "customers.csv").write_text("customer_id,name,relationship_start,annual_volume,credit_limit\n"
                                          "C1,Anchor Foods,2019-01-01,600000,50000\n"
                                          "C2,Birch Ltd,2020-01-01,200000,50000\n", encoding="utf-8")
    (folder / "invoices.csv").write_text("customer_id,invoice_no,currency,amount,invoice_date,due_date\n"
                                         "C1,INV-1,EUR,1000,2026-08-01,2026-09-01\n"
                                         "C1,INV-2,EUR,500,2026-08-15,2026-09-15\n"
                                         "C2,INV-9,EUR,2000,2026-08-29,2026-09-28\n", encoding="utf-8")
    (folder / "payments.csv").write_text("payment_id,customer_id,payment_date,amount,currency,invoice_ref\n"
                                         "P1,C1,2026-10-05,500,EUR,INV-2\n", encoding="utf-8")
    if promises is not None:
        (folder / "promises.csv").write_text(PROMISE_HEADER + promises, encoding="utf-8")
    return folder


def test_broken_promises_become_an_early_warning_and_kept_ones_are_counted(tmp_path):
    """Issue 15 item 2, before and after on an inline ledger: no promises → no warning; C2's promise of
    2026-10-10 (grace 3 days: deadline 13 Oct) unpaid → broken on 14 Oct, a special review with the evidence;
    C1's promise of 5 Oct for INV-2, paid that day → kept, counted and not warned. The counts are the worklist's."""
    from xlcredit.jobs.worklist import worklist

    before = review(FolderBook(_promise_folder(tmp_path / "before", None)), A, record=False, write=False).review
    assert not [t for c in before.cases for t in c.triggers if t.kind == "broken_promise"]
    assert {(r["customer_id"], r["promises_kept"], r["promises_broken"]) for r in before.rows()} == {
        ("C1", 0, 0), ("C2", 0, 0)}

    folder = _promise_folder(tmp_path / "after", "C1,2026-10-05,2026-09-25,INV-2,500,EUR,Anna,phone,\n"
                                                 "C2,2026-10-10,2026-10-01,INV-9,,EUR,Ben,phone,\n")
    outcome = review(FolderBook(folder), A, record=False, write=False)
    after = outcome.review
    cases = {c.customer_id: c for c in after.cases}
    assert [t.kind for t in cases["C1"].triggers if t.kind == "broken_promise"] == []
    (trigger,) = [t for t in cases["C2"].triggers if t.kind == "broken_promise"]
    assert trigger.title == "1 promise to pay broken"
    assert trigger.evidence == ("1 promise to pay broken in the last 90 days: EUR 2,000.00 promised for 2026-10-10 "
                                "(phone, Ben), broken 2026-10-14 (0 kept; threshold 1)")
    assert cases["C2"].special and "1 promise to pay broken" in cases["C2"].reason
    rows = {r["customer_id"]: r for r in after.rows()}
    assert (rows["C1"]["promises_kept"], rows["C1"]["promises_broken"]) == (1, 0)
    assert (rows["C2"]["promises_kept"], rows["C2"]["promises_broken"]) == (0, 1)
    assert trigger.evidence in rows["C2"]["evidence"]
    assert not [p for p in outcome.problems if p.table == "promises"]
    listed = {r.customer_id: (r.promises_kept, r.promises_broken)
              for r in worklist(FolderBook(folder), A, write=False).rows}
    assert listed == {cid: (rows[cid]["promises_kept"], rows[cid]["promises_broken"]) for cid in ("C1", "C2")}
    # the command line shows the warning; 90 days on, the broken promise is counted but no longer warns
    shown = CliRunner().invoke(app, ["review", str(folder), "--dry-run", "--as-of", "2026-10-31"],
                               env={"COLUMNS": "250", "NO_COLOR": "1"})
    assert shown.exit_code == 0, shown.output
    assert "1 promise to pay broken" in shown.stdout
    later = review(FolderBook(folder), dt.date(2027, 1, 12), record=False, write=False).review
    c2 = next(c for c in later.cases if c.customer_id == "C2")
    assert not [t for t in c2.triggers if t.kind == "broken_promise"] and c2.promises_broken == 1


def test_a_promise_the_ledger_cannot_place_is_a_problem_and_the_review_goes_on(tmp_path):
    folder = _promise_folder(tmp_path / "b", "C2,2026-10-10,2026-10-01,INV-404,,EUR,Ben,phone,\n")
    outcome = review(FolderBook(folder), A, record=False, write=False)
    bad = [p for p in outcome.problems if p.table == "promises"]
    assert len(bad) == 1 and bad[0].value == "C2" and "INV-404" in bad[0].problem
    assert {c.customer_id for c in outcome.review.cases} == {"C1", "C2"}
