"""The policy check (xlcredit.core.policy_check, ``xlcredit policy-check``): settings that contradict each other
or the ledger, found and said with their arithmetic."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from xlcredit.cli import app
from xlcredit.core.ledger import Invoice, Ledger, Payment
from xlcredit.core.policy import Policy
from xlcredit.core.policy_check import ERROR, WARNING, check_policy, has_errors
from xlcredit.core.records import Customer
from xlcredit.io.policy_file import load_policy

SEED_DEFAULTS = Path(__file__).parent / "fixtures" / "policy_seed_defaults.toml"
AS_OF = dt.date(2026, 10, 31)
D = Decimal


def codes(findings):
    return [(f.level, f.code) for f in findings]


def test_the_seed_defaults_contradict_themselves_on_terms_and_limits():
    """Net 90 keeps 90/365 = 24.66 % of a year's purchases outstanding; 15 % + 20 % uplift = 18 % allows less.
    Net 60 keeps 60/365 = 16.44 % against 15 %. Net 30 (8.2 %) fits."""
    findings = check_policy(load_policy(SEED_DEFAULTS))
    assert codes(findings) == [(ERROR, "terms_over_limit"), (ERROR, "terms_over_limit")]
    assert findings[0].message.startswith(
        "Grade A terms Net 90 keep about 24.7 % of a customer's annual purchases outstanding (90/365); the limit "
        "allows 18.0 % (15 % + 20 % uplift of annual purchases): every grade-A customer paying on time will be "
        "over its limit.")
    assert "Grade B terms Net 60 keep about 16.4 %" in findings[1].message and "allows 15.0 %" in findings[1].message


def test_the_shipped_policy_has_no_contradiction_of_its_own():
    """Under the 'terms' basis A allows (90 + 15)/365 × 1.2 = 34.5 % ≥ 24.7 %; B (60 + 15)/365 = 20.5 % ≥ 16.4 %."""
    assert check_policy(load_policy()) == ()


def test_terms_shorter_than_the_share_fit_the_seed_rule():
    policy = Policy.from_mapping({"limits.basis": "share", "terms.A": "Net 30", "terms.B": "Net 45"})
    assert check_policy(policy) == ()   # 30/365 = 8.2 % ≤ 18 %, 45/365 = 12.3 % ≤ 15 %


def test_insurance_days_out_of_order_and_cash_flow_against_revenue():
    policy = Policy.from_mapping({"insurance.notify_overdue_days": 200, "company.monthly_cash_flow": 2_000_000})
    findings = check_policy(policy)
    assert codes(findings) == [(ERROR, "insurance_days"), (WARNING, "cash_flow_vs_revenue")]
    # 2,000,000 × 12 = 24,000,000 against 60,000,000: 60 % away
    assert "EUR 2,000,000 × 12 = EUR 24,000,000 is 60 % away from the annual revenue EUR 60,000,000" in \
        findings[1].message


def _ledger(amounts_by_month: dict[str, int], terms_days: int = 60) -> Ledger:
    """One invoice a month per customer, dated 5, 35, 65, … days before AS_OF; each paid on its due date."""
    invoices, payments = [], []
    for i, (cid, amount) in enumerate(amounts_by_month.items()):
        for m in range(12):
            day = AS_OF - dt.timedelta(days=30 * m + 5)
            due = day + dt.timedelta(days=terms_days)
            invoices.append(Invoice(cid, f"I{i}-{m}", "EUR", D(amount), day, due))
            if due <= AS_OF:
                payments.append(Payment(f"P{i}-{m}", cid, due, D(amount), "EUR", f"I{i}-{m}"))
    return Ledger(tuple(invoices), tuple(payments))


def test_ledger_over_the_revenue_and_receivables_over_the_portfolio_cap():
    """Revenue 1,000,000, cap 15 % = 150,000. K1 buys 100,000 a month for 12 months = 1,200,000 > revenue;
    on Net 60, paid on the due dates, the invoices of 5 and 35 days ago are open: 200,000 > 150,000
    (DSO allowed 150,000 / 1,200,000 × 365 = 45.6 → 46 days)."""
    policy = Policy.from_mapping({"company.annual_revenue": 1_000_000, "company.monthly_cash_flow": 90_000})
    customers = [Customer("K1", name="Kestrel", relationship_start=dt.date(2020, 1, 1), annual_volume=D(1_200_000))]
    findings = check_policy(policy, customers, _ledger({"K1": 100_000}), None, AS_OF)
    assert codes(findings) == [(ERROR, "sales_over_revenue"), (ERROR, "receivables_over_portfolio_cap")]
    assert "invoiced EUR 1,200,000 on credit in the 12 months to 2026-10-31" in findings[0].message
    assert ("EUR 200,000, are 133.3 % of the portfolio cap 15 % × revenue EUR 1,000,000 = EUR 150,000 "
            "(a DSO of about 46 days on these sales)") in findings[1].message
    assert has_errors(findings)


def test_stated_purchases_far_from_the_invoiced_ones_are_named():
    """K1 states 600,000 but was invoiced 12 × 70,000 = 840,000 (+40 %); K2 states 800,000 for 840,000 (+5 %)."""
    customers = [Customer("K1", name="Kestrel", relationship_start=dt.date(2020, 1, 1), annual_volume=D(600_000)),
                 Customer("K2", name="Heron", relationship_start=dt.date(2020, 1, 1), annual_volume=D(800_000))]
    findings = check_policy(Policy(), customers, _ledger({"K1": 70_000, "K2": 70_000}), None, AS_OF)
    assert codes(findings) == [(WARNING, "volume_mismatch")]
    assert findings[0].message.startswith("K1 Kestrel: stated annual purchases EUR 600,000, invoiced EUR 840,000 "
                                          "in the last 12 months (+40 %)")
    assert not has_errors(findings)


def test_the_command_exits_1_on_an_error_and_names_it():
    result = CliRunner().invoke(app, ["--policy", str(SEED_DEFAULTS), "policy-check", "--settings-only"])
    assert result.exit_code == 1, result.output
    assert "Grade A terms Net 90 keep about 24.7 %" in " ".join(result.output.split())
    ok = CliRunner().invoke(app, ["policy-check", "--settings-only"])
    assert ok.exit_code == 0, ok.output
    assert "no contradiction found" in ok.output
