"""The bundled sample book: reproducible, consistent, and covering every case the product shows.

The open-item checks re-derive the ledger position with the allocation rule of the shared contract
(referenced credits first, then the pool FIFO by due date with disputed items last; settlement
date = max(credit date, invoice date)), written again here independently of the generator.
"""

from __future__ import annotations

import csv
import datetime as dt
import filecmp
import importlib.util
import sys
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from xlcredit.core.policy import Policy
from xlcredit.data.sample import SAMPLE_AS_OF, SAMPLE_DIR, SAMPLE_FILES, sample_path

ROOT = Path(__file__).resolve().parent.parent
START = dt.date(2024, 11, 1)
COLUMNS = {
    "customers.csv": [
        "customer_id", "name", "country", "currency", "language", "rating", "total_assets", "total_liabilities",
        "current_assets", "inventory", "current_liabilities", "operating_cash_flow", "retained_earnings", "ebit",
        "relationship_start", "annual_volume", "first_order", "open_orders", "uninvoiced_deliveries",
        "bank_guarantee", "insured_limit", "insurer", "reference_check", "statutory_regime", "email", "address",
        "contact", "avg_days_late", "items_over_90", "max_days_late"],
    "invoices.csv": ["customer_id", "invoice_no", "currency", "amount", "invoice_date", "due_date", "terms",
                     "disputed"],
    "payments.csv": ["payment_id", "customer_id", "payment_date", "amount", "currency", "invoice_ref"],
    "credit_notes.csv": ["credit_note_no", "customer_id", "date", "amount", "currency", "invoice_ref"],
    "fx_rates.csv": ["date", "currency", "rate"],
    "reviews.csv": ["customer_id", "review_date", "grade", "score", "credit_limit", "notes"],
}


def _read(name: str) -> list[dict[str, str]]:
    with sample_path(name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def book() -> dict[str, list[dict[str, str]]]:
    return {name: _read(name) for name in SAMPLE_FILES}


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --------------------------------------------------------------------------- reproducible
def test_regenerating_the_sample_gives_byte_identical_files(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "scripts" / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_sample", module)
    spec.loader.exec_module(module)
    module.generate(tmp_path / "a")
    module.generate(tmp_path / "b")
    for name in SAMPLE_FILES:
        assert filecmp.cmp(tmp_path / "a" / name, tmp_path / "b" / name, shallow=False), name
        assert (tmp_path / "a" / name).read_bytes() == sample_path(name).read_bytes(), \
            f"{name} is out of date: run scripts/make_sample.py"


def test_files_have_the_documented_columns_and_stay_small(book):
    for name, columns in COLUMNS.items():
        with sample_path(name).open(encoding="utf-8") as fh:
            assert fh.readline().rstrip("\n").split(",") == columns
    assert sum(sample_path(n).stat().st_size for n in SAMPLE_FILES) < 1_000_000
    assert dt.date(2026, 10, 31) == SAMPLE_AS_OF and sample_path("invoices.csv") == SAMPLE_DIR / "invoices.csv"


# --------------------------------------------------------------------------- consistency
def test_ids_are_unique(book):
    for name, key in (("customers.csv", "customer_id"), ("invoices.csv", "invoice_no"),
                      ("payments.csv", "payment_id"), ("credit_notes.csv", "credit_note_no")):
        ids = [r[key] for r in book[name]]
        assert ids and len(ids) == len(set(ids)), name


def test_amounts_are_positive_exact_and_in_the_currency_minor_unit(book):
    for name in ("invoices.csv", "payments.csv", "credit_notes.csv"):
        for r in book[name]:
            amount = Decimal(r["amount"])
            assert amount > 0, (name, r)
            assert -amount.as_tuple().exponent == (0 if r["currency"] == "JPY" else 2), (name, r)
    for r in book["customers.csv"]:
        for col in ("total_assets", "total_liabilities", "current_assets", "inventory", "current_liabilities",
                    "annual_volume", "first_order", "open_orders", "uninvoiced_deliveries", "bank_guarantee",
                    "insured_limit"):
            assert r[col] == "" or Decimal(r[col]) >= 0, (r["customer_id"], col)
    assert all(Decimal(r["rate"]) > 0 for r in book["fx_rates.csv"])


def test_every_reference_names_an_invoice_of_the_same_customer_and_currency(book):
    invoices = {r["invoice_no"]: r for r in book["invoices.csv"]}
    customers = {r["customer_id"]: r for r in book["customers.csv"]}
    for name in ("payments.csv", "credit_notes.csv"):
        for r in book[name]:
            assert r["customer_id"] in customers
            if r["invoice_ref"]:
                inv = invoices[r["invoice_ref"]]
                assert (inv["customer_id"], inv["currency"]) == (r["customer_id"], r["currency"]), r
    assert any(not r["invoice_ref"] for r in book["payments.csv"])        # remittances without a reference
    assert any(r["invoice_ref"] for r in book["payments.csv"])
    assert any(not r["invoice_ref"] for r in book["credit_notes.csv"])    # year-end rebates
    assert any(r["invoice_ref"] for r in book["credit_notes.csv"])


def test_dates_terms_and_currencies_are_consistent(book):
    customers = {r["customer_id"]: r for r in book["customers.csv"]}
    for r in book["invoices.csv"]:
        issued, due = _day(r["invoice_date"]), _day(r["due_date"])
        assert START <= issued <= SAMPLE_AS_OF
        assert r["terms"] in ("Net 30", "Net 60", "Net 90") and (due - issued).days == int(r["terms"][4:])
        assert r["currency"] == customers[r["customer_id"]]["currency"]
        assert r["disputed"] in ("true", "false")
    for r in book["payments.csv"]:
        assert START <= _day(r["payment_date"]) <= SAMPLE_AS_OF
    for r in book["credit_notes.csv"]:
        assert START <= _day(r["date"]) <= SAMPLE_AS_OF
    fx = book["fx_rates.csv"]
    foreign = {r["currency"] for r in book["customers.csv"]} - {"EUR"}
    assert {r["currency"] for r in fx} == foreign
    for cur in foreign:   # a rate on or before the first day of the ledger, and one for every month
        days = sorted(_day(r["date"]) for r in fx if r["currency"] == cur)
        assert days[0] <= START and len(days) == 24


def test_the_review_history_is_of_trading_customers_within_their_relationship(book):
    """reviews.csv: the previous system's reviews of the last year — trading customers only (a prospect has none
    yet), dated from the start of the relationship to the as-of date, one per review cycle, grade A–E."""
    customers = {r["customer_id"]: r for r in book["customers.csv"]}
    seen: dict[str, list[dt.date]] = defaultdict(list)
    for r in book["reviews.csv"]:
        c = customers[r["customer_id"]]
        day = _day(r["review_date"])
        assert c["relationship_start"] and _day(c["relationship_start"]) <= day <= SAMPLE_AS_OF, r
        assert (SAMPLE_AS_OF - day).days < 366, r
        assert r["grade"] in ("A", "B", "C", "D", "E") and 0 <= int(r["score"]) <= 100, r
        assert Decimal(r["credit_limit"]) >= 0 and r["notes"], r
        seen[r["customer_id"]].append(day)
    assert set(seen) == {cid for cid, c in customers.items() if c["relationship_start"]}
    for days in seen.values():
        assert all((b - a).days >= 15 for a, b in zip(sorted(days), sorted(days)[1:], strict=False))


# --------------------------------------------------------------------------- coverage
def test_customers_cover_countries_currencies_languages_and_kinds(book):
    rows = book["customers.csv"]
    assert 55 <= len(rows) <= 65
    pairs = {(r["country"], r["currency"]) for r in rows}
    assert {("CN", "CNY"), ("DE", "EUR"), ("GB", "GBP"), ("US", "USD"), ("FR", "EUR"), ("NL", "EUR"),
            ("HK", "HKD"), ("JP", "JPY")} <= pairs
    for r in rows:
        assert r["language"] == ("zh" if r["country"] == "CN" else "en")
        assert r["statutory_regime"] == {"GB": "UK", "DE": "EU", "FR": "EU", "NL": "EU", "IT": "EU",
                                         "ES": "EU"}.get(r["country"], "")
        assert r["email"].endswith(".example")          # invented domains only
    invoiced = {r["customer_id"] for r in book["invoices.csv"]}
    prospects = [r for r in rows if not r["relationship_start"]]
    assert 2 <= len(prospects) <= 3
    assert all(r["customer_id"] not in invoiced and r["avg_days_late"] == "" and r["first_order"]
               for r in prospects)
    new = [r for r in rows if r["relationship_start"]
           and _day(r["relationship_start"]) > SAMPLE_AS_OF.replace(year=SAMPLE_AS_OF.year - 1)]
    assert len(new) >= 3 and all(r["first_order"] for r in new)
    assert sum(r["rating"] == "" for r in rows) >= 3
    assert sum(r["insured_limit"] != "" and r["insurer"] != "" for r in rows) >= 5
    assert {r["reference_check"] for r in rows} == {"", "1", "0", "-1"}
    assert any(Decimal(r["bank_guarantee"]) > 0 for r in rows)
    assert sum(r["disputed"] == "true" for r in book["invoices.csv"]) >= 3
    assert 3000 <= len(book["invoices.csv"]) <= 6000


def _allocate(book):
    """Contract allocation rule per (customer, currency): open amount and settlement slices per invoice."""
    invoices = {r["invoice_no"]: r for r in book["invoices.csv"]}
    remaining = {no: Decimal(r["amount"]) for no, r in invoices.items()}
    slices: dict[str, list[tuple[Decimal, dt.date]]] = defaultdict(list)
    credits = [(_day(r["payment_date"]), r["payment_id"], r) for r in book["payments.csv"]]
    credits += [(_day(r["date"]), r["credit_note_no"], r) for r in book["credit_notes.csv"]]
    pool: dict[tuple[str, str], list[tuple[dt.date, str, Decimal]]] = defaultdict(list)
    for day, ident, r in sorted(credits, key=lambda t: (t[0], t[1])):
        left = Decimal(r["amount"])
        ref = r["invoice_ref"]
        if ref:
            take = min(left, remaining[ref])
            remaining[ref] -= take
            if take:
                slices[ref].append((take, max(day, _day(invoices[ref]["invoice_date"]))))
            left -= take
        if left:
            pool[(r["customer_id"], r["currency"])].append((day, ident, left))
    unapplied: dict[tuple[str, str], Decimal] = {}
    by_key = defaultdict(list)
    for r in invoices.values():
        by_key[(r["customer_id"], r["currency"])].append(r)
    for key in set(by_key) | set(pool):
        queue = sorted(by_key.get(key, []), key=lambda r: (r["disputed"] == "true", r["due_date"], r["invoice_date"],
                                                           r["invoice_no"]))
        k = 0
        for day, _ident, amount in sorted(pool.get(key, [])):
            while amount and k < len(queue):
                no = queue[k]["invoice_no"]
                take = min(amount, remaining[no])
                if take:
                    remaining[no] -= take
                    amount -= take
                    slices[no].append((take, max(day, _day(queue[k]["invoice_date"]))))
                if not remaining[no]:
                    k += 1
            unapplied[key] = unapplied.get(key, Decimal(0)) + amount
    return invoices, remaining, slices, unapplied


def test_open_items_reach_every_ageing_bucket_and_every_dunning_step(book):
    policy = Policy()
    invoices, remaining, _slices, unapplied = _allocate(book)
    buckets: Counter[str] = Counter()
    oldest: dict[str, int] = {}
    for no, left in remaining.items():
        if not left:
            continue
        days = (SAMPLE_AS_OF - _day(invoices[no]["due_date"])).days
        bounds = policy.ageing.bounds
        label = next((lbl for lbl, hi in zip(policy.bucket_labels, bounds, strict=False) if days <= hi),
                     policy.bucket_labels[-1])
        buckets[label] += 1
        if invoices[no]["disputed"] == "false":
            cid = invoices[no]["customer_id"]
            oldest[cid] = max(oldest.get(cid, 0), days)
    assert set(buckets) == {"Current", "1-30", "31-60", "61-90", "91-180", "180+"}
    steps = {next((s.name for s in reversed(policy.dunning) if d >= s.days), "none") for d in oldest.values()}
    assert {s.name for s in policy.dunning} <= steps
    assert sum(1 for v in unapplied.values() if v > 0) >= 2        # unapplied cash is shown, never lost


def test_history_columns_are_what_the_ledger_says(book):
    """Contract rule 4: days beyond terms per settled slice (paid by the due date = 0), amount-weighted."""
    invoices, remaining, slices, _ = _allocate(book)
    window = SAMPLE_AS_OF.replace(year=SAMPLE_AS_OF.year - 2)
    per_customer: dict[str, list[tuple[Decimal, int]]] = defaultdict(list)
    over_90: Counter[str] = Counter()
    for no, r in invoices.items():
        due = _day(r["due_date"])
        for amount, day in slices[no]:
            if window < day <= SAMPLE_AS_OF:
                per_customer[r["customer_id"]].append((amount, max(0, (day - due).days)))
        if slices[no] and remaining[no] == 0 and (max(d for _, d in slices[no]) - due).days > 90:
            over_90[r["customer_id"]] += 1
    for r in book["customers.csv"]:
        paid = per_customer.get(r["customer_id"])
        if not paid:
            assert (r["avg_days_late"], r["items_over_90"], r["max_days_late"]) == ("", "", "")
            continue
        avg = sum(a * d for a, d in paid) / sum(a for a, _ in paid)
        assert Decimal(r["avg_days_late"]) == avg.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), r["customer_id"]
        assert int(r["items_over_90"]) == over_90[r["customer_id"]]
        assert int(r["max_days_late"]) == max(d for _, d in paid)
    # behaviour is spread: prompt payers and payers far beyond terms
    avgs = [Decimal(r["avg_days_late"]) for r in book["customers.csv"] if r["avg_days_late"]]
    assert min(avgs) == 0 and max(avgs) > 60


def test_history_columns_equal_what_the_engine_computes_from_the_ledger(book):
    """Refreshing from the ledger (core/history via io/ledger) must not move anyone's score."""
    from xlcredit.core.history import payment_histories
    from xlcredit.io.ledger import load_ledger

    load = load_ledger(sample_path("invoices"), sample_path("payments"), sample_path("credit_notes"))
    assert load.problems == ()
    engine = payment_histories(load.ledger, SAMPLE_AS_OF)
    for r in book["customers.csv"]:
        h = engine.get(r["customer_id"])
        got = ("", "", "") if h is None or h.avg_days_late is None else \
            (f"{h.avg_days_late:.1f}", str(h.items_over_90), str(h.max_days_late))
        assert got == (r["avg_days_late"], r["items_over_90"], r["max_days_late"]), r["customer_id"]


def test_the_default_scorecard_gives_every_grade_and_shows_held_grades(book):
    from xlcredit.core.scoring import score_customer
    from xlcredit.io.tables import read_customers

    policy = Policy()
    table = read_customers(sample_path("customers"))
    results = {c.customer_id: score_customer(c, policy, SAMPLE_AS_OF) for c in table.customers}
    grades = Counter(r.grade for r in results.values())
    assert set(grades) == {"A", "B", "C", "D", "E"}
    # a real book is mostly A–C: every D customer without a guarantee and every E customer is on hold
    assert min(grades[g] for g in "ABC") >= 12 and 2 <= grades["D"] <= 5 and 2 <= grades["E"] <= 4
    held = [cid for cid, r in results.items() if r.grade == "B" and r.score >= policy.grades.A]
    assert len(held) >= 2 and all(results[cid].grade_note for cid in held)   # A by score, held at B
    prospects = {r["customer_id"] for r in book["customers.csv"] if not r["relationship_start"]}
    assert {results[cid].grade for cid in prospects} >= {"B", "E"}


def test_the_engine_reads_the_sample_ledger_the_same_way(book):
    """The core's allocation (core/openitems) and dunning ladder agree with the checks above."""
    from xlcredit.core.dunning import dunning_stage
    from xlcredit.core.ledger import CreditNote, Invoice, Ledger, Payment
    from xlcredit.core.openitems import allocate

    ledger = Ledger(
        tuple(Invoice(r["customer_id"], r["invoice_no"], r["currency"], Decimal(r["amount"]), _day(r["invoice_date"]),
                      _day(r["due_date"]), r["terms"], r["disputed"] == "true") for r in book["invoices.csv"]),
        tuple(Payment(r["payment_id"], r["customer_id"], _day(r["payment_date"]), Decimal(r["amount"]), r["currency"],
                      r["invoice_ref"]) for r in book["payments.csv"]),
        tuple(CreditNote(r["credit_note_no"], r["customer_id"], _day(r["date"]), Decimal(r["amount"]), r["currency"],
                         r["invoice_ref"]) for r in book["credit_notes.csv"]))
    positions = allocate(ledger, SAMPLE_AS_OF)
    _invoices, remaining, _slices, unapplied = _allocate(book)
    for (cid, cur), pos in positions.items():
        assert pos.notes == ()                                   # every reference could be followed
        assert pos.unapplied_cash == unapplied.get((cid, cur), Decimal(0))
        assert {i.invoice_no: i.open_amount for i in pos.items} == \
            {no: remaining[no] for no in (i.invoice_no for i in pos.items)}
    policy = Policy()
    stages = {dunning_stage(pos.open_items, SAMPLE_AS_OF, policy).stage for pos in positions.values()}
    assert {s.name for s in policy.dunning} <= stages
