"""The cases run both under CPython and inside Pyodide (run_core.mjs): late interest, ageing, a score, a limit.

Prints one JSON object; money as strings so Decimals compare to the cent. Only the pure-Python core
(``xlcredit/core``) and the rate reader (``xlcredit/io/rates.py``) are used: no numpy, no pandas.
"""

import datetime as dt
import json
import sys
from decimal import Decimal as D

from xlcredit.core.ageing import age_ledger
from xlcredit.core.interest import daily_penalty, late_interest, statutory_interest
from xlcredit.core.ledger import Invoice, Ledger, Payment
from xlcredit.core.limits import recommend_limit
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer
from xlcredit.core.scoring import score_of
from xlcredit.io.rates import load_reference_rates

AS_OF = dt.date(2026, 10, 31)


def cases() -> dict:
    rates = load_reference_rates()
    eu = statutory_interest(D("10000.00"), dt.date(2025, 11, 15), AS_OF, "EU", rates)
    uk = statutory_interest(D("10000.00"), dt.date(2025, 11, 15), AS_OF, "UK", rates)
    policy = Policy()
    ledger = Ledger(
        invoices=(
            Invoice("C1", "INV-1", "EUR", D("1000.00"), dt.date(2026, 9, 1), dt.date(2026, 10, 1)),
            Invoice("C1", "INV-2", "EUR", D("500.00"), dt.date(2026, 6, 15), dt.date(2026, 7, 15)),
            Invoice("C2", "INV-3", "USD", D("300.00"), dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        ),
        payments=(Payment("P1", "C1", dt.date(2026, 10, 20), D("200.00"), "EUR"),),
    )
    report = age_ledger(ledger, AS_OF, policy)
    score = score_of("7", "0.45", "1.1", "0.12", "9", "6", policy)
    customer = Customer("C1", relationship_start=dt.date(2020, 1, 1), annual_volume=D("400000"))
    limit = recommend_limit(customer, score.grade, policy, AS_OF)
    return {
        "python": sys.version.split()[0],
        "contract": str(late_interest(D("1000"), dt.date(2026, 10, 1), AS_OF, D("0.08"))),
        "contract_360_jpy": str(late_interest(D("120000"), dt.date(2026, 8, 1), AS_OF, D("0.0625"), 360, "JPY")),
        "cn_daily_penalty": str(daily_penalty(D("50000.00"), dt.date(2026, 9, 30), AS_OF, currency="CNY")),
        "eu_statutory": [str(eu.interest), str(eu.compensation), str(eu.total)],
        "uk_statutory": [str(uk.interest), str(uk.compensation), str(uk.total)],
        "ageing": [[r.customer_id, r.currency, {k: str(v) for k, v in r.buckets.items()}, str(r.open_total),
                    str(r.unapplied_cash), str(r.balance)] for r in report.rows],
        "score": [score.score, score.grade],
        "limit": str(limit.limit),
    }


if __name__ == "__main__":
    print(json.dumps(cases(), sort_keys=True))
