"""The order check (ORDER_CHECK): the core rule on worked examples, and the cell, ``xlcredit order-check`` and
``POST /v1/orders/check`` agreeing on the bundled sample — the same decision, the same reasons in the same
words, and bad input refused in the same words (``#XLC! amount: …`` in the cell, exit code 2 at the command
line, 422 over HTTP).

The rule (DESIGN.md, "Excel-facing function catalogue" and the policy table; an ERP's credit block): hold an
order when the exposure after it exceeds the credit limit, when the oldest overdue item has reached the
dunning step that stops new orders (30 days, "Formal demand + stop new orders"), when the grade trades on
prepayment (D: prepayment or a bank guarantee; E: cash in advance), or when a deposit share of the order is
due first (grade C new customer: 30 %). The expected figures below are worked by hand from the inputs each
test gives; none is read from the sample's numbers.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from _store_fixtures import serve
from typer.testing import CliRunner

import udfs._convert as conv
import udfs.functions as udf
from udfs import _remote
from xlcredit.core.errors import XlcError
from xlcredit.core.limits import (
    HOLD_CASH_IN_ADVANCE,
    HOLD_DEPOSIT,
    HOLD_GUARANTEE_SHORT,
    HOLD_ORDER_STOP,
    HOLD_OVER_LIMIT,
    HOLD_PREPAYMENT,
    OrderDecision,
    check_order,
    exposure,
    order_amount,
)
from xlcredit.core.policy import Policy
from xlcredit.core.portfolio import check_result_order
from xlcredit.core.records import Customer

D = Decimal
AS_OF = dt.date(2026, 10, 31)
POLICY = Policy()


def cust(*, guarantee: int = 0, orders: int = 0) -> Customer:
    return Customer("C1", bank_guarantee=D(guarantee), open_orders=D(orders))


# =========================================================================== the core rule
def test_an_order_within_the_limit_is_released_exposure_exactly_at_the_limit_included():
    """50,000 used + 10,000 = 60,000 = the limit: within it."""
    assert check_order(cust(), D(10_000), D(60_000), D(50_000), "B", 0, POLICY) == OrderDecision("release")
    assert check_order(cust(), D(9_999), D(60_000), D(50_000), "A", None, POLICY).status == "Release"
    assert check_order(cust(), 0, D(60_000), D(60_000), "B", 0, POLICY).status == "Release"


def test_an_order_over_the_limit_says_by_how_much_with_the_currency():
    """Exposure 45,000 open + 10,000 open orders = 55,000; + 17,400 = 72,400 against 60,000: over by 12,400."""
    e = exposure(cust(orders=10_000), D(45_000))
    d = check_order(cust(orders=10_000), D(17_400), D(60_000), e, "B", 0, POLICY)
    assert d.decision == "hold" and d.codes == (HOLD_OVER_LIMIT,)
    assert d.status == ("Hold: over the credit limit by EUR 12,400 after this order (exposure EUR 72,400, "
                        "limit EUR 60,000)")
    cents = check_order(cust(), D("0.01"), D(60_000), D(60_000), "B", 0, POLICY)
    assert cents.reasons == ("over the credit limit by EUR 0.01 after this order (exposure EUR 60,000.01, "
                             "limit EUR 60,000)",)


def test_overdue_items_stop_orders_at_the_formal_demand_stage():
    """Dunning ladder: 30 days past due = "Formal demand" + stop new orders; 29 days still ships."""
    d = check_order(cust(), D(1_000), D(60_000), D(0), "B", 34, POLICY)
    assert d == OrderDecision("hold", ("items 34 days overdue — orders stop at the Formal demand stage (30 days)",),
                              (HOLD_ORDER_STOP,))
    assert check_order(cust(), D(1_000), D(60_000), D(0), "B", 30, POLICY).decision == "hold"
    assert check_order(cust(), D(1_000), D(60_000), D(0), "B", 29, POLICY).decision == "release"
    assert check_order(cust(), 0, D(60_000), D(0), "B", 45, POLICY).decision == "hold"   # the next order too
    renamed = Policy.from_mapping({"dunning.step3.name": "Final reminder", "dunning.step3.days": 21})
    assert check_order(cust(), 1, D(60_000), D(0), "B", 21, renamed).reasons == (
        "items 21 days overdue — orders stop at the Final reminder stage (21 days)",)
    no_stop = Policy.from_mapping({f"dunning.step{i}.stop_orders": False for i in (3, 4, 5)})
    assert check_order(cust(), D(1_000), D(60_000), D(0), "B", 200, no_stop).decision == "release"


def test_grades_d_and_e_need_prepayment_unless_a_grade_d_guarantee_covers_the_order():
    assert check_order(cust(), 0, D(0), D(0), "D", 0, POLICY) == OrderDecision(
        "hold", ("prepayment required for grade D (no bank guarantee held)",), (HOLD_PREPAYMENT,))
    covered = check_order(cust(guarantee=50_000), D(10_000), D(50_000), D(40_000), "D", 0, POLICY)
    assert covered == OrderDecision("release", notes=("grade D: covered by the bank guarantee of EUR 50,000",))
    assert covered.status == "Release"
    short = check_order(cust(guarantee=30_000), D(10_000), D(50_000), D(25_000), "D", 0, POLICY)
    assert short == OrderDecision("hold", ("prepayment required for grade D: the bank guarantee of EUR 30,000 does "
                                           "not cover the exposure of EUR 35,000 after this order",),
                                  (HOLD_GUARANTEE_SHORT,))
    assert check_order(cust(guarantee=50_000), 0, D(60_000), D(0), "E", 0, POLICY) == OrderDecision(
        "hold", ("cash in advance required for grade E",), (HOLD_CASH_IN_ADVANCE,))


def test_a_deposit_share_is_due_before_the_order_ships():
    """Grade C new customer: 30 % of 10,000 = 3,000; 30 % of 3,333.33 = 999.999 → 1,000.00 (half up to the
    cent); 15 % of 1,234.50 = 185.175 → 185.18. An order of 0 owes no deposit."""
    d = check_order(cust(), D(10_000), D(60_000), D(0), "C", 0, POLICY, deposit_share=D("0.3"))
    assert d == OrderDecision("hold", ("deposit 30 % = EUR 3,000 required",), (HOLD_DEPOSIT,))
    assert check_order(cust(), D("3333.33"), D(60_000), D(0), "C", 0, POLICY,
                       deposit_share=D("0.3")).reasons == ("deposit 30 % = EUR 1,000 required",)
    assert check_order(cust(), D("1234.50"), D(60_000), D(0), "B", 0, POLICY,
                       deposit_share=D("0.15")).reasons == ("deposit 15 % = EUR 185.18 required",)
    assert check_order(cust(), 0, D(60_000), D(0), "C", 0, POLICY, deposit_share=D("0.3")).status == "Release"
    assert check_order(cust(), 5, D(60_000), D(0), "C", 0, POLICY, deposit_share=1).codes == (HOLD_PREPAYMENT,)


def test_every_reason_is_listed_in_order_with_its_code():
    d = check_order(cust(), D("2500.5"), D(0), D(0), "E", 45, POLICY)
    assert d.reasons == ("over the credit limit by EUR 2,500.50 after this order (exposure EUR 2,500.50, "
                         "limit EUR 0)", "items 45 days overdue — orders stop at the Formal demand stage (30 days)",
                         "cash in advance required for grade E")
    assert d.codes == (HOLD_OVER_LIMIT, HOLD_ORDER_STOP, HOLD_CASH_IN_ADVANCE)
    assert d.status == "Hold: " + "; ".join(d.reasons)


@pytest.mark.parametrize(("value", "message"), [
    (None, r"^amount: is empty$"), ("  ", r"^amount: is empty$"),
    ("ten", r"^amount: is not a number \(got 'ten'\)$"),
    (-5.0, r"^amount: must not be negative \(got -5\)$"), ("-5", r"^amount: must not be negative \(got -5\)$"),
    (D("-2.50"), r"^amount: must not be negative \(got -2.5\)$"), (True, r"^amount: is not a number"),
])
def test_a_bad_amount_is_named_the_same_from_a_cell_a_command_line_or_json(value, message):
    with pytest.raises(XlcError, match=message):
        order_amount(value)
    with pytest.raises(XlcError, match=message):
        check_order(cust(), value, D(60_000), D(0), "B", 0, POLICY)


@pytest.mark.parametrize(("args", "message"), [
    ((100, "lots", 0, "B", 0), r"^limit: is not a number \(got 'lots'\)$"),
    ((100, 60_000, -1, "B", 0), r"^exposure: must not be negative \(got -1\)$"),
    ((100, 60_000, 0, "F", 0), r"^grade: must be one of A, B, C, D, E \(got 'F'\)$"),
    ((100, 60_000, 0, "B", -3), r"^days_past_due: must not be negative \(got -3\)$"),
])
def test_other_bad_figures_are_named(args, message):
    with pytest.raises(XlcError, match=message):
        check_order(cust(), *args, POLICY)
    with pytest.raises(XlcError, match=r"^deposit_share: must lie between 0 and 1 \(got 1.5\)$"):
        check_order(cust(), 1, 1, 0, "B", 0, POLICY, deposit_share=D("1.5"))


def test_the_check_on_a_stored_result_reads_its_guarantee_and_deposit():
    """A result row as the refresh stores it (xlcredit.core.portfolio.result_rows) gives the same decision."""
    row = {"customer_id": "C1", "credit_limit": D(50_000), "exposure": D(25_000), "grade": "D", "days_past_due": 0,
           "deposit_share": D(1), "bank_guarantee": D(30_000)}
    assert check_result_order({"C1": row}, "C1", D(10_000), POLICY).codes == (HOLD_GUARANTEE_SHORT,)
    assert check_result_order({"C1": row}, "C1", D(5_000), POLICY).decision == "release"
    old = {**row, "bank_guarantee": None}                    # a database from before the column: no guarantee
    assert check_result_order({"C1": old}, "C1", 0, POLICY).codes == (HOLD_PREPAYMENT,)
    with pytest.raises(XlcError, match=r"^customer: unknown customer 'C9' \(check the id"):
        check_result_order({"C1": row}, "C9", 0, POLICY)
    with pytest.raises(XlcError, match=r"^amount: is empty$"):            # the amount is read first
        check_result_order({"C1": row}, "C9", None, POLICY)


# =========================================================================== cell, command line and service agree
#: The bundled sample under the shipped policy, but grade B pays a 20 % deposit: so that a deposit case exists
#: whatever customers the sample holds (the shipped policy asks it of new grade C customers only).
POLICY_TOML = "[deposit]\nB = 0.2\n"


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory):
    """The sample refreshed into a credit database (as `xlcredit refresh` does), and a service over it."""
    from xlcredit.io.policy_file import load_policy
    from xlcredit.io.store import CreditStore
    from xlcredit.jobs.book import FolderBook
    from xlcredit.jobs.refresh import refresh

    folder = tmp_path_factory.mktemp("orders")
    policy_file = folder / "policy.toml"
    policy_file.write_text(POLICY_TOML, encoding="utf-8")
    policy = load_policy(policy_file)
    db = str(folder / "team.credit.db")
    store = CreditStore(db)
    outcome = refresh(FolderBook(None), AS_OF, store=store, base_policy=policy)
    key = store.create_api_key("Order desk", "read")
    store.close()
    with serve(db, folder) as server:
        yield {"db": db, "policy_file": policy_file, "policy": policy, "portfolio": outcome.portfolio,
               "server": server, "key": key}


def _cases(team) -> list[tuple[str, Decimal, str]]:
    """(customer, amount, what it shows) for every kind of decision, chosen from the refreshed sample."""
    customers = team["portfolio"].customers
    stop = team["policy"].order_stop_days

    def first(what: str, test) -> object:
        found = next((c for c in customers if test(c)), None)
        assert found is not None, f"the bundled sample has no customer for the case {what!r}"
        return found

    clean = first("release", lambda c: c.order.decision == "release" and c.available > 0 and
                  c.terms.deposit_share == 0)
    cid = clean.customer.customer_id
    cases = [(cid, D(0), "release"), (cid, clean.available, "release at the limit"),
             (cid, clean.available + D("1000.50"), "over limit")]
    overdue = first("overdue stop", lambda c: c.dunning.days_past_due >= stop)
    cases.append((overdue.customer.customer_id, D(0), "overdue stop"))
    for grade in ("D", "E"):
        c = first(f"grade {grade}", lambda c, g=grade: c.score.grade == g)
        cases.append((c.customer.customer_id, D(2_500), f"grade {grade}"))
    dep = first("deposit", lambda c: 0 < c.terms.deposit_share < 1)
    cases.append((dep.customer.customer_id, D("12345.67"), "deposit"))
    return cases


def _cell(team, monkeypatch, customer, amount, *, remote: bool = False) -> str:
    conv.close_databases()
    _remote.clear_cache()
    if remote:
        monkeypatch.setenv("XLCREDIT_DB", team["db"] + ".absent")   # remote mode must not read a local database
        monkeypatch.setenv("XLCREDIT_SERVER_URL", team["server"].base)
        monkeypatch.setenv("XLCREDIT_API_KEY", team["key"])
    else:
        monkeypatch.delenv("XLCREDIT_SERVER_URL", raising=False)
        monkeypatch.setenv("XLCREDIT_DB", team["db"])
    return udf.order_check(customer, amount)


def _cli(team, customer: str, amount: str) -> tuple[int, str, str]:
    from xlcredit.cli import app

    args = ["--policy", str(team["policy_file"]), "order-check", "--as-of", AS_OF.isoformat(), customer]
    # a negative amount comes after "--" (else it reads as an option), as a user types it: order-check C1 -- -5
    result = CliRunner().invoke(app, [*args, "--", amount] if amount.startswith("-") else [*args, amount])
    return result.exit_code, result.stdout, result.stderr


def _api(team, body: dict) -> tuple[int, dict]:
    with team["server"].client(team["key"]) as c:
        r = c.post("/v1/orders/check", json=body)
    return r.status_code, r.json()


def test_cell_command_line_and_service_give_the_same_decision_in_the_same_words(team, monkeypatch):
    policy, portfolio = team["policy"], team["portfolio"]
    results = {c.customer.customer_id: c for c in portfolio.customers}
    seen: set[str] = set()
    for customer, amount, what in _cases(team):
        c = results[customer]
        expected = check_order(c.customer, amount, c.limit.limit, c.exposure, c.score.grade, c.dunning.days_past_due,
                               policy, deposit_share=c.terms.deposit_share)
        cell = _cell(team, monkeypatch, customer, float(amount))
        remote = _cell(team, monkeypatch, customer, float(amount), remote=True)
        code, out, err = _cli(team, customer, str(amount))
        status, answer = _api(team, {"customer_id": customer, "amount": str(amount), "as_of": AS_OF.isoformat()})
        assert code == 0, err
        assert status == 200, answer
        assert cell == remote == out.splitlines()[0] == answer["status"] == expected.status, what
        assert (answer["decision"], answer["reasons"], answer["codes"]) == \
            (expected.decision, list(expected.reasons), list(expected.codes)), what
        assert answer["customer_id"] == customer and D(answer["amount"]) == amount and answer["currency"] == "EUR"
        seen.update(expected.codes or ("release",))
    assert seen >= {"release", HOLD_OVER_LIMIT, HOLD_ORDER_STOP, HOLD_CASH_IN_ADVANCE, HOLD_DEPOSIT}
    assert seen & {HOLD_PREPAYMENT, HOLD_GUARANTEE_SHORT}           # grade D: prepayment, or a guarantee too short


def test_the_over_limit_case_says_the_excess_worked_from_the_available_credit(team, monkeypatch):
    """An order of available + 1,000.50 is over the limit by exactly EUR 1,000.50."""
    customer, amount, _ = _cases(team)[2]
    assert _cell(team, monkeypatch, customer, float(amount)).startswith(
        "Hold: over the credit limit by EUR 1,000.50 after this order")


@pytest.mark.parametrize(("amount", "words"), [
    ("", "amount: is empty"), ("abc", "amount: is not a number (got 'abc')"),
    ("-5", "amount: must not be negative (got -5)"),
])
def test_a_bad_amount_is_refused_in_the_same_words_everywhere(team, monkeypatch, amount, words):
    customer = _cases(team)[0][0]
    cell_value = {"": None, "abc": "abc", "-5": -5.0}[amount]            # what Excel hands over for such a cell
    assert _cell(team, monkeypatch, customer, cell_value) == f"#XLC! {words}"
    code, _out, err = _cli(team, customer, amount)
    assert code == 2 and " ".join(err.split()) == f"error: {words}"
    json_value = {"": None, "abc": "abc", "-5": -5}[amount]
    status, answer = _api(team, {"customer_id": customer, "amount": json_value})
    assert status == 422 and [d["msg"] for d in answer["detail"]] == [words]


def test_an_unknown_customer_is_refused_in_the_same_words_everywhere(team, monkeypatch):
    words = "customer: unknown customer 'C999' (check the id on the Customers sheet, then run Refresh)"
    assert _cell(team, monkeypatch, "C999", 100.0) == f"#XLC! {words}"
    assert _cell(team, monkeypatch, "C999", 100.0, remote=True) == f"#XLC! {words}"
    code, _out, err = _cli(team, "C999", "100")
    assert code == 2 and " ".join(err.split()) == f"error: {words}"
    status, answer = _api(team, {"customer_id": "C999", "amount": 100})
    assert status == 422 and [d["msg"] for d in answer["detail"]] == [words]


def test_the_service_refuses_an_as_of_other_than_its_results(team):
    customer = _cases(team)[0][0]
    status, answer = _api(team, {"customer_id": customer, "amount": 0, "as_of": "2026-12-31"})
    assert status == 422
    assert answer["detail"][0]["msg"].startswith("as_of: the credit results are as of 2026-10-31, not 2026-12-31")
    status, answer = _api(team, {"customer_id": customer, "amount": 0, "extra": 1})
    assert status == 422 and answer["detail"][0]["field"] == "extra"


def test_a_sheet_of_order_checks_in_remote_mode_is_two_requests(team, monkeypatch):
    """Every ORDER_CHECK cell of a recalculation answers from one results snapshot and one policy."""
    seen: list[str] = []

    def hook(response) -> None:
        seen.append(f"{response.request.method} {response.request.url.path}")

    _remote._client.event_hooks["response"].append(hook)
    try:
        _cell(team, monkeypatch, "C999", 0, remote=True)
        seen.clear()
        _remote.clear_cache()
        cells = [udf.order_check(c.customer.customer_id, 1000.0) for c in team["portfolio"].customers]
    finally:
        _remote._client.event_hooks["response"].remove(hook)
        _remote.clear_cache()
    assert len(cells) == len(team["portfolio"].customers) and all(not v.startswith("#XLC!") for v in cells)
    assert sorted(seen) == ["GET /v1/policy", "GET /v1/results"]


def test_the_functions_endpoint_answers_order_check_rows_like_the_cell(team, monkeypatch):
    customer, amount, _ = _cases(team)[2]
    with team["server"].client(team["key"]) as c:
        r = c.post("/v1/functions/order_check", json={"rows": [{"customer": customer, "amount": float(amount)},
                                                               {"customer": customer, "amount": -1}]})
    rows = r.json()["results"]
    assert rows[0]["value"] == _cell(team, monkeypatch, customer, float(amount))
    assert rows[1] == {"error": "amount: must not be negative (got -1)"}


def test_the_command_line_says_the_position_behind_the_decision(team):
    customer, amount, _ = _cases(team)[2]
    code, out, _err = _cli(team, customer, str(amount))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Hold: over the credit limit")
    assert f"{customer} " in lines[1] and "as of 2026-10-31" in lines[1]
    assert "limit" in lines[2] and "exposure" in lines[2]
    json.dumps(lines)   # plain text, nothing rich left in it
    assert Path(team["db"]).is_file()
