"""The credit database (xlcredit/io/store.py) on SQLite and on a real PostgreSQL server.

What is proven here: migrations build the documented schema and an upgrade keeps every row; money
round-trips exactly (no float anywhere); a refresh is all-or-nothing and readers never see half of
one; the in-memory cache follows the refresh stamp; the collection register never issues the same
stage twice for the same items (also under 20 concurrent writers); policy edits, limit overrides,
reviews and keys are audited; API keys are stored only as hashes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from _store_fixtures import BACKENDS, db_url
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlcredit.core.errors import XlcError
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer, Financials
from xlcredit.io import store as store_mod
from xlcredit.io.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    AlreadyIssued,
    CreditStore,
    items_key,
    open_store,
    resolve_store_url,
    role_allows,
    store_path_for_workbook,
)

AS_OF = dt.date(2026, 10, 31)
NOW = dt.datetime(2026, 10, 31, 18, 0, tzinfo=dt.UTC)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path):
    with db_url(request.param, tmp_path) as u:
        yield u


@pytest.fixture
def store(url: str):
    s = CreditStore(url, stamp_ttl=0)
    yield s
    s.close()


def snapshot(tag: str, n: int = 3, *, limit: Decimal = Decimal("150000.00")) -> tuple[list[dict], list[dict]]:
    """n customers and their results, every row carrying ``tag`` (to spot a half-applied refresh)."""
    custs = [{"customer_id": f"C{i:04d}", "name": f"Customer {i} 有限公司", "country": "DE", "currency": "EUR",
              "language": "en", "rating": Decimal("77.5"), "tag": tag} for i in range(n)]
    res = [{"customer_id": f"C{i:04d}", "score": 70 + i % 20, "grade": "B", "credit_limit": limit + i,
            "binding_rule": tag, "exposure": Decimal("12000.50"), "available": limit + i - Decimal("12000.50"),
            "terms": "Net 60", "deposit_share": Decimal("0.3"), "dunning_stage": "", "days_past_due": 0,
            "overdue_amount": Decimal("0.00"), "open_receivables": Decimal("10000.50"),
            "explain": [{"factor": "rating", "value": "77.5", "points": 20}]} for i in range(n)]
    return custs, res


# --------------------------------------------------------------------------- schema and migrations
def test_fresh_database_has_every_migration_and_the_documented_columns(store: CreditStore) -> None:
    assert store.schema_version() == SCHEMA_VERSION == MIGRATIONS[-1].version
    assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))
    with store.engine.connect() as conn:
        applied = conn.execute(sa.text("SELECT version, description FROM schema_version ORDER BY version")).all()
        inspector = sa.inspect(conn)
        # what the migrations built is exactly what the queries expect (store.metadata)
        for table in store_mod.metadata.sorted_tables:
            built = {c["name"] for c in inspector.get_columns(table.name)}
            assert built == {c.name for c in table.columns}, table.name
    assert [v for v, _ in applied] == [m.version for m in MIGRATIONS]
    assert all(d for _, d in applied)
    names = set(store_mod.metadata.tables)
    assert {"customers", "credit_results", "policy", "register", "audit", "api_keys", "reviews",
            "schema_version"} <= names


def test_upgrade_from_v1_keeps_every_row(url: str) -> None:
    old = CreditStore(url, upto=1)
    assert old.schema_version() == 1
    with old.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO customers (customer_id, name, country, currency, language, data) "
                             "VALUES ('C1', 'Müller GmbH', 'DE', 'EUR', 'en', :d)"), {"d": '{"customer_id": "C1"}'})
        conn.execute(store_mod.credit_results_table.insert().values(
            customer_id="C1", as_of=AS_OF, score=71, grade="B", credit_limit=Decimal("98765.43"),
            exposure=Decimal("1000.01"), available=Decimal("97765.42"), binding_rule="volume_share"))
        conn.execute(store_mod.register_table.insert().values(
            customer_id="C1", stage="Reminder letter", step_index=1, kind="letter", as_of=AS_OF,
            amount=Decimal("1234.56"), currency="EUR", items_key=items_key(["INV-1"]), created_at=NOW))
        conn.execute(store_mod.policy_table.insert().values(key="limits.volume_share", value="0.2"))
        conn.execute(store_mod.audit_table.insert().values(who="ann", action="refresh", entity="snapshot", at=NOW))
        conn.execute(store_mod.reviews_table.insert().values(customer_id="C1", review_date=AS_OF, grade="B", score=71,
                                                             credit_limit=Decimal("98765.43"), created_at=NOW))
    old.close()

    new = CreditStore(url, stamp_ttl=0)
    assert new.schema_version() == SCHEMA_VERSION
    row = new.result("C1")
    assert row is not None
    assert row["credit_limit"] == Decimal("98765.43") and row["available"] == Decimal("97765.42")
    assert row["recommended_limit"] == Decimal("98765.43")      # backfilled by migration 2
    assert new.customer("C1") == {"customer_id": "C1"}
    assert new.register_rows()[0]["amount"] == Decimal("1234.56")
    assert new.issued("C1", 1, ["INV-1"])
    assert new.policy_rows() == [("limits.volume_share", "0.2")]
    assert [a["action"] for a in new.audit_rows()] == ["refresh"]
    assert new.reviews("C1")[0]["credit_limit"] == Decimal("98765.43")
    # and the upgraded database works as a new one: an override keeps the engine's figure
    new.set_limit_override("C1", Decimal("50000"), "credit committee 2026-11", "ann")
    assert new.result("C1")["recommended_limit"] == Decimal("98765.43")
    new.close()


def test_upgrade_to_v3_fills_the_bank_guarantee_from_the_stored_customers(url: str) -> None:
    """Migration 3 adds limit_reason and bank_guarantee; the guarantee comes from the customer rows the last
    refresh stored, so ORDER_CHECK knows a grade D guarantee before the next refresh (words wait for it)."""
    old = CreditStore(url, upto=2)
    with old.engine.begin() as conn:
        for cid, data in (("D1", '{"customer_id": "D1", "bank_guarantee": "30000.50"}'),
                          ("D2", '{"customer_id": "D2"}'), ("D3", '{"customer_id": "D3", "bank_guarantee": "lots"}')):
            conn.execute(sa.text("INSERT INTO customers (customer_id, name, country, currency, language, data) "
                                 "VALUES (:c, '', '', '', '', :d)"), {"c": cid, "d": data})
            conn.execute(sa.text("INSERT INTO credit_results (customer_id, grade, credit_limit) VALUES (:c, 'D', '0')"),
                         {"c": cid})
    old.close()
    new = CreditStore(url, stamp_ttl=0)
    assert new.schema_version() == SCHEMA_VERSION >= 3
    got = {r["customer_id"]: (r["bank_guarantee"], r["limit_reason"]) for r in new.results()}
    assert got == {"D1": (Decimal("30000.50"), None), "D2": (Decimal(0), None), "D3": (Decimal(0), None)}
    new.close()


def test_a_manual_limit_says_so_in_words_and_clearing_it_brings_the_engines_words_back(store: CreditStore) -> None:
    custs, res = snapshot("limits.volume_share", 1)
    res[0].update(limit_reason="15 % of annual purchases 1,000,000 EUR = 150,000 EUR", bank_guarantee=Decimal("0"))
    store.replace_snapshot(AS_OF, custs, res, "job")
    row = store.set_limit_override("C0000", Decimal("200000"), "credit committee 2026-10-30", "maria", now=NOW)
    assert row["limit_reason"] == ("manual limit: credit committee 2026-10-30 · recommended: 15 % of annual "
                                   "purchases 1,000,000 EUR = 150,000 EUR")
    store.replace_snapshot(AS_OF, custs, res, "job")                   # the override outlives a refresh
    assert store.result("C0000")["limit_reason"].startswith("manual limit: credit committee")
    assert store.clear_limit_override("C0000", "maria")
    assert store.result("C0000")["limit_reason"] == "15 % of annual purchases 1,000,000 EUR = 150,000 EUR"


def test_database_from_a_newer_version_is_refused(url: str) -> None:
    s = CreditStore(url)
    with s.engine.begin() as conn:
        conn.execute(store_mod.schema_version_table.insert().values(version=99, description="future", applied_at=NOW))
    s.close()
    with pytest.raises(XlcError, match=r"db: was written by a newer xlcredit \(schema version 99"):
        CreditStore(url)


def test_opening_twice_does_not_migrate_twice(url: str) -> None:
    CreditStore(url).close()
    s = CreditStore(url)
    with s.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM schema_version")).scalar() == SCHEMA_VERSION
    s.close()


# --------------------------------------------------------------------------- exact money
def _decimals() -> st.SearchStrategy[Decimal]:
    return st.builds(lambda digits, places: Decimal(digits).scaleb(-places),
                     st.integers(min_value=-(10**22), max_value=10**22), st.integers(min_value=0, max_value=8))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_decimals(), min_size=1, max_size=40))
def test_decimal_money_round_trips_exactly(store: CreditStore, values: list[Decimal]) -> None:
    """Every amount comes back as the same Decimal with the same digits and exponent (no binary float in between;
    0.0000000 stays 0.0000000, 1234.50 keeps its trailing zero)."""
    custs = [{"customer_id": f"C{i}"} for i in range(len(values))]
    res = [{"customer_id": f"C{i}", "credit_limit": v, "exposure": -v, "overdue_amount": v}
           for i, v in enumerate(values)]
    store.replace_snapshot(AS_OF, custs, res, "test")
    for i, v in enumerate(values):
        got = store.result(f"C{i}")
        assert got is not None
        assert isinstance(got["credit_limit"], Decimal)
        assert got["credit_limit"].as_tuple() == v.as_tuple()       # same sign, digits and exponent
        assert got["exposure"] == -v and got["overdue_amount"] == v


def test_known_float_traps_are_exact(store: CreditStore) -> None:
    values = [Decimal("0.1"), Decimal("0.30"), Decimal("1234567890123456789.01"), Decimal("-0.005"),
              Decimal("1E+3"), Decimal("99999999999999999999999999.999"), Decimal("0.0000000")]
    store.replace_snapshot(AS_OF, [{"customer_id": str(i)} for i in range(len(values))],
                           [{"customer_id": str(i), "credit_limit": v} for i, v in enumerate(values)], "t")
    assert [store.result(str(i))["credit_limit"] for i in range(len(values))] == values
    assert str(store.result("1")["credit_limit"]) == "0.30"
    assert str(store.result("4")["credit_limit"]) == "1000"            # stored in fixed-point form
    assert store.result("6")["credit_limit"].as_tuple() == Decimal("0.0000000").as_tuple()


def test_float_money_is_refused(store: CreditStore) -> None:
    with pytest.raises(XlcError, match=r"results\[0\].credit_limit: must be an exact Decimal, not a float"):
        store.replace_snapshot(AS_OF, [{"customer_id": "C1"}], [{"customer_id": "C1", "credit_limit": 0.1}], "t")
    with pytest.raises(XlcError, match=r"amount: must be an exact Decimal, not a float"):
        store.record_issue("C1", 1, "Reminder letter", ["I1"], as_of=AS_OF, amount=10.5)


# --------------------------------------------------------------------------- refresh
def test_replace_snapshot_stores_customers_and_results(store: CreditStore) -> None:
    customer = Customer("C7", name="Harbour Foods Ltd", country="GB", currency="GBP",
                        financials=Financials(total_assets=Decimal("1000000"), total_liabilities=Decimal("400000")),
                        relationship_start=dt.date(2019, 3, 1))
    stamp = store.replace_snapshot(AS_OF, [customer], [{"customer_id": "C7", "score": 81, "grade": "A",
                                                        "credit_limit": Decimal("180000"), "explain": [
                                                            {"factor": "debt_ratio", "value": Decimal("0.4")}]}],
                                   "ann", source="CreditControl.xlsm", now=NOW)
    assert stamp == 1 and store.stamp() == 1
    row = store.result("C7")
    assert row == {**row, "as_of": AS_OF, "score": 81, "grade": "A", "credit_limit": Decimal("180000"),
                   "explain": [{"factor": "debt_ratio", "value": "0.4"}], "refreshed_at": NOW}
    data = store.customer("C7")
    assert data["financials"]["total_liabilities"] == "400000" and data["relationship_start"] == "2019-03-01"
    info = store.refresh_info()
    assert (info["as_of"], info["refreshed_by"], info["source"], info["customer_count"]) == \
        (AS_OF, "ann", "CreditControl.xlsm", 1)
    audit = store.audit_rows(entity="snapshot")[-1]
    assert audit["who"] == "ann" and audit["after"]["customer_count"] == 1 and audit["at"] == NOW
    # Excel passes numeric customer ids as floats
    store.replace_snapshot(AS_OF, [{"customer_id": 1001}], [{"customer_id": "1001", "score": 50}], "ann")
    assert store.result(1001.0)["score"] == 50 and store.result("C7") is None


def test_bad_refresh_input_is_refused_before_anything_is_written(store: CreditStore) -> None:
    custs, res = snapshot("old")
    store.replace_snapshot(AS_OF, custs, res, "t")
    with pytest.raises(XlcError, match=r"results\[1\].customer_id: X9 is not among the customers of this refresh"):
        store.replace_snapshot(AS_OF, custs, [res[0], {"customer_id": "X9"}], "t")
    with pytest.raises(XlcError, match=r"customers\[1\].customer_id: C0000 appears twice"):
        store.replace_snapshot(AS_OF, [custs[0], custs[0]], [], "t")
    with pytest.raises(XlcError, match=r"results\[0\].limit: is not a column of credit_results"):
        store.replace_snapshot(AS_OF, custs, [{"customer_id": "C0000", "limit": Decimal(1)}], "t")
    with pytest.raises(XlcError, match=r"results\[0\].score: must be a whole number \(got '7x'\)"):
        store.replace_snapshot(AS_OF, custs, [{"customer_id": "C0000", "score": "7x"}], "t")
    assert {r["binding_rule"] for r in store.results()} == {"old"}


def test_refresh_that_fails_mid_transaction_leaves_the_old_snapshot(store: CreditStore,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    custs, res = snapshot("old", 5)
    store.replace_snapshot(AS_OF, custs, res, "t")

    def broken_audit(*_a: object, **_k: object) -> None:
        raise RuntimeError("disk full")   # after the deletes and inserts, before the commit

    monkeypatch.setattr(store, "_audit", broken_audit)
    new_custs, new_res = snapshot("new", 2)
    with pytest.raises(RuntimeError, match="disk full"):
        store.replace_snapshot(AS_OF, new_custs, new_res, "t")
    monkeypatch.undo()
    rows = store.results()
    assert len(rows) == 5 and {r["binding_rule"] for r in rows} == {"old"}
    assert store.stamp() == 1


def test_readers_never_see_half_a_refresh(url: str) -> None:
    """A writer swaps 200-customer snapshots while 4 readers (own connections, no cache) read all results."""
    writer = CreditStore(url, stamp_ttl=0)
    custs, res = snapshot("v0", 200)
    writer.replace_snapshot(AS_OF, custs, res, "w")
    seen: list[tuple[int, frozenset[str]]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        reader = CreditStore(url, stamp_ttl=0)
        try:
            while not stop.is_set():
                info, rows = reader.snapshot()
                seen.append((len(rows), frozenset(r["binding_rule"] for r in rows)))
                assert info["customer_count"] == len(rows)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            reader.close()

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for k in range(1, 16):
        c, r = snapshot(f"v{k}", 200 if k % 2 else 150)
        writer.replace_snapshot(AS_OF, c, r, "w")
    stop.set()
    for t in threads:
        t.join()
    writer.close()
    assert not errors
    assert len(seen) > 4
    for count, tags in seen:
        assert len(tags) == 1 and count == (200 if int(next(iter(tags))[1:]) % 2 or tags == {"v0"} else 150)


# --------------------------------------------------------------------------- cache
def test_cache_follows_the_refresh_stamp(url: str) -> None:
    cached = CreditStore(url, stamp_ttl=3600)
    live = CreditStore(url, stamp_ttl=0)
    custs, res = snapshot("first")
    cached.replace_snapshot(AS_OF, custs, res, "t")
    assert cached.result("C0000")["binding_rule"] == "first"
    custs, res = snapshot("second")
    live.replace_snapshot(AS_OF, custs, res, "t")                    # another process refreshes
    assert live.result("C0000")["binding_rule"] == "second"           # checks the stamp on every call
    assert cached.result("C0000")["binding_rule"] == "first"          # within its ttl: memory, no query
    cached.stamp_ttl = 0
    assert cached.result("C0000")["binding_rule"] == "second"         # stamp changed: reloaded
    cached.stamp_ttl = 3600
    cached.set_limit_override("C0000", Decimal("1"), "test", "t")     # own write: seen at once
    assert cached.result("C0000")["credit_limit"] == Decimal("1")
    got = cached.result("C0000")
    got["credit_limit"] = Decimal("999")                              # callers cannot damage the cache
    assert cached.result("C0000")["credit_limit"] == Decimal("1")
    assert cached.result("nobody") is None
    cached.close()
    live.close()


# --------------------------------------------------------------------------- limit overrides
def test_limit_override_survives_refresh_and_is_audited(store: CreditStore) -> None:
    custs, res = snapshot("volume_share", 1)
    res[0].update(credit_limit=Decimal("150000.00"), exposure=Decimal("12000.50"), available=Decimal("137999.50"))
    store.replace_snapshot(AS_OF, custs, res, "job")
    row = store.set_limit_override("C0000", Decimal("200000"), "credit committee 2026-10-30", "maria", now=NOW)
    # available = limit − exposure = 200,000 − 12,000.50
    assert row["credit_limit"] == Decimal("200000") and row["available"] == Decimal("187999.50")
    assert row["recommended_limit"] == Decimal("150000.00")
    assert row["binding_rule"] == "manual override (engine: volume_share)"
    store.replace_snapshot(AS_OF, custs, res, "job")                   # the nightly refresh
    again = store.result("C0000")
    assert again["credit_limit"] == Decimal("200000") and again["available"] == Decimal("187999.50")
    assert store.clear_limit_override("C0000", "maria")
    back = store.result("C0000")
    assert (back["credit_limit"], back["available"], back["binding_rule"]) == \
        (Decimal("150000.00"), Decimal("137999.50"), "volume_share")
    assert not store.clear_limit_override("C0000", "maria")
    trail = store.audit_rows(entity="customer:C0000")
    assert [a["action"] for a in trail] == ["set_limit", "clear_limit"]
    assert trail[0]["who"] == "maria" and trail[0]["before"] == {"credit_limit": "150000.00"}
    assert trail[0]["after"]["credit_limit"] == "200000" and trail[0]["after"]["reason"].startswith("credit comm")
    with pytest.raises(XlcError, match="reason: is empty"):
        store.set_limit_override("C0000", Decimal(1), " ", "maria")
    with pytest.raises(XlcError, match=r"credit_limit: must not be negative \(got -1\)"):
        store.set_limit_override("C0000", Decimal(-1), "x", "maria")


# --------------------------------------------------------------------------- policy
def test_policy_is_validated_stored_whole_and_audited(store: CreditStore) -> None:
    assert store.policy_rows() == [] and store.policy() is None
    new = store.set_policy([("limits.volume_share", "0.2"), ("terms.C", "Net 45")], "admin", now=NOW)
    assert new.limits.volume_share == Decimal("0.2")
    rows = dict(store.policy_rows())
    assert rows.keys() == dict(Policy().to_rows()).keys()               # every setting is stored
    assert store.policy() == new
    store.set_policy(new, "admin")                                      # unchanged: no audit entry
    entries = store.audit_rows(entity="policy")
    assert len(entries) == 1        # the first policy stored: compared with the shipped defaults
    assert (entries[0]["before"], entries[0]["after"]) == \
        ({"limits.volume_share": "0.15", "terms.C": "Net 30"}, {"limits.volume_share": "0.2", "terms.C": "Net 45"})
    store.set_policy([*new.to_rows(), ("limits.volume_share", "0.25")], "cfo")
    last = store.audit_rows(entity="policy")[-1]
    assert (last["who"], last["before"], last["after"]) == \
        ("cfo", {"limits.volume_share": "0.2"}, {"limits.volume_share": "0.25"})
    with pytest.raises(XlcError, match=r"limits\.volume_share: is a share and must not be above 1 \(got 1\.5\)"):
        store.set_policy([("limits.volume_share", "1.5")], "cfo")
    assert store.policy().limits.volume_share == Decimal("0.25")


# --------------------------------------------------------------------------- collection register
def test_register_issues_each_stage_once_per_set_of_items(store: CreditStore) -> None:
    entry = store.record_issue("C1", 3, "Formal demand", ["INV-2", "INV-1"], as_of=AS_OF, amount=Decimal("5400.00"),
                               currency="eur", file_path="letters/C1-formal_demand.pdf", content_hash="ab" * 32,
                               who="maria", now=NOW)
    assert entry["resend"] == 0 and entry["currency"] == "EUR" and entry["items_key"] == items_key(["INV-1", "INV-2"])
    assert store.issued("C1", 3, ["INV-1", "INV-2"]) and not store.issued("C1", 3, ["INV-1"])
    assert not store.issued("C1", 4, ["INV-1", "INV-2"])
    with pytest.raises(AlreadyIssued, match=r"register: Formal demand \(step 3\) was already issued to C1 for these "
                                            "items; resend it explicitly"):
        store.record_issue("C1", 3, "Formal demand", ["INV-1", "INV-2"], as_of=AS_OF, amount=None, who="maria")
    assert store.record_issue("C1", 3, "Formal demand", ["INV-1", "INV-2"], as_of=AS_OF, amount=None, who="maria",
                              resend=True)["resend"] == 1
    assert store.record_issue("C1", 3, "Formal demand", ["INV-1", "INV-2"], as_of=AS_OF, amount=None, who="maria",
                              resend=True)["resend"] == 2
    # a new overdue invoice is a new set of items: the stage may be issued for it
    store.record_issue("C1", 3, "Formal demand", ["INV-1", "INV-2", "INV-3"], as_of=AS_OF, amount=None, who="maria")
    store.record_issue("C1", 2, "Phone call", ["INV-1"], kind="action", as_of=AS_OF, amount=None, who="tom")
    rows = store.register_rows("C1")
    assert [(r["step_index"], r["resend"], r["kind"]) for r in rows] == \
        [(3, 0, "letter"), (3, 1, "letter"), (3, 2, "letter"), (3, 0, "letter"), (2, 0, "action")]
    assert rows[0]["file_path"] == "letters/C1-formal_demand.pdf" and rows[0]["amount"] == Decimal("5400.00")
    assert [a["action"] for a in store.audit_rows(entity="register:C1")] == \
        ["issue", "resend", "resend", "issue", "issue"]
    with pytest.raises(XlcError, match="kind: must be letter, action or statement"):
        store.record_issue("C1", 1, "Reminder", ["I"], kind="email", as_of=AS_OF, amount=None)
    with pytest.raises(XlcError, match="items: no invoice numbers given"):
        store.record_issue("C1", 1, "Reminder", [" "], as_of=AS_OF, amount=None)
    with pytest.raises(XlcError, match=r"step_index: must be a ladder step number from 1 \(got 0\)"):
        store.record_issue("C1", 0, "Reminder", ["I"], as_of=AS_OF, amount=None)


def test_items_key_is_order_free_and_sha256() -> None:
    assert items_key(["B", "A", "A "]) == items_key(["A", "B"]) == hashlib.sha256(b"A\nB").hexdigest()
    assert items_key(["A"]) != items_key(["A", "B"])


def test_twenty_concurrent_letter_runs_issue_the_stage_once(url: str) -> None:
    stores = [CreditStore(url) for _ in range(20)]
    outcomes: list[str] = []
    barrier = threading.Barrier(20)

    def issue(s: CreditStore, n: int) -> None:
        barrier.wait()
        try:
            s.record_issue("C1", 1, "Reminder letter", ["INV-9"], as_of=AS_OF, amount=Decimal("10"), who=f"run{n}")
            outcomes.append("issued")
        except AlreadyIssued:
            outcomes.append("refused")

    threads = [threading.Thread(target=issue, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["issued"] + ["refused"] * 19
    assert len(stores[0].register_rows()) == 1
    for s in stores:
        s.close()


# --------------------------------------------------------------------------- reviews, keys
def test_reviews_are_recorded_and_audited(store: CreditStore) -> None:
    first = store.record_review("C1", "2026-07-31", "B", 70, Decimal("120000"), "quarterly", who="ann", now=NOW)
    store.record_review("C1", AS_OF, "C", 58, Decimal("80000"), "special: orders +60 %", who="ann")
    store.record_review("C2", AS_OF, None, None, None, who="ann")
    got = store.reviews("C1")
    assert [(r["review_date"], r["grade"], r["credit_limit"]) for r in got] == \
        [(dt.date(2026, 7, 31), "B", Decimal("120000")), (AS_OF, "C", Decimal("80000"))]
    assert got[0]["id"] == first and len(store.reviews()) == 3
    assert store.audit_rows(entity="customer:C1")[0]["action"] == "review"
    with pytest.raises(XlcError, match="review_date: is not a valid date"):
        store.record_review("C1", "31/13/2026", "B", 1, None)


def test_api_keys_are_stored_as_hashes_only(store: CreditStore) -> None:
    key = store.create_api_key("Excel on Maria's Mac", "controller", who="admin", now=NOW)
    assert key.startswith("xlc_") and len(key) >= 40
    assert store.check_api_key(key) == "controller"
    assert store.api_key_identity(key)["name"] == "Excel on Maria's Mac"
    for wrong in (key + "x", key[:-1], "", None, "xlc_" + "A" * 43, "x" * 5000):
        assert store.check_api_key(wrong) is None
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(store_mod.api_keys_table)).mappings().one()
    assert key not in {str(v) for v in stored.values()}
    assert stored["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    listed = store.api_keys()[0]
    assert "key_hash" not in listed and listed["key_prefix"] == key[:12] and listed["role"] == "controller"
    assert store.revoke_api_key(listed["id"], "admin")
    assert store.check_api_key(key) is None and not store.revoke_api_key(listed["id"], "admin")
    assert [a["action"] for a in store.audit_rows()] == ["create_key", "revoke_key"]
    with pytest.raises(XlcError, match="role: must be one of read, controller, admin"):
        store.create_api_key("x", "root")
    assert role_allows("admin", "controller") and role_allows("controller", "read")
    assert not role_allows("read", "controller") and not role_allows(None, "read")


# --------------------------------------------------------------------------- locating the database
def test_database_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = tmp_path / "CreditControl.xlsm"
    assert store_path_for_workbook(book) == tmp_path / "CreditControl.credit.db"
    assert resolve_store_url(book) == f"sqlite:///{tmp_path / 'CreditControl.credit.db'}"
    assert resolve_store_url(tmp_path / "team.db") == f"sqlite:///{tmp_path / 'team.db'}"
    assert resolve_store_url("postgresql://u:p@db.example/credit") == "postgresql+psycopg://u:p@db.example/credit"
    with pytest.raises(XlcError, match="db: must be a sqlite:/// or postgresql"):
        resolve_store_url("mysql://u@h/d")
    with pytest.raises(XlcError, match="db: folder does not exist"):
        resolve_store_url(tmp_path / "nowhere" / "x.db")
    monkeypatch.delenv("XLCREDIT_DB", raising=False)
    with pytest.raises(XlcError, match="db: is not set"):
        resolve_store_url(None)
    monkeypatch.setenv("XLCREDIT_DB", str(tmp_path / "env.db"))
    assert resolve_store_url(None).endswith("env.db")
    first = open_store(book)
    assert open_store(str(book)) is first                    # one shared store per process
    assert (tmp_path / "CreditControl.credit.db").is_file()


def test_result_rows_accept_dataclasses(store: CreditStore) -> None:
    @dataclasses.dataclass(frozen=True)
    class Row:
        customer_id: str
        score: int
        credit_limit: Decimal

    store.replace_snapshot(AS_OF, [{"customer_id": "C1"}], [Row("C1", 64, Decimal("5000"))], "t")
    assert store.result("C1")["credit_limit"] == Decimal("5000")
