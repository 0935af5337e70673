"""Dunning letters per second: plan + render (.docx + .pdf) + atomic write + register, 1,000 letters.

A synthetic book of N customers (2/3 English, 1/3 Chinese), each with three undisputed invoices
past due by 10–120 days (so every rung with a letter occurs), is planned with
``xlcredit.jobs.letters.plan_letters`` and issued with ``issue_letters`` into a temporary folder and a
fresh SQLite credit database — the whole path of ``xlcredit letters`` after reading the tables.
Printed: letters/s end to end, and the render-only rate (compose + docx + pdf in memory) for
comparison. Goal: ≥ 20 docx+pdf letters/s.

    .venv/bin/python bench/bench_letters.py              # 1,000 letters
    .venv/bin/python bench/bench_letters.py --letters 200
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xlcredit.core.ledger import Invoice, Ledger
from xlcredit.core.policy import Policy
from xlcredit.core.records import Customer
from xlcredit.io.store import CreditStore
from xlcredit.jobs.letters import issue_letters, plan_letters
from xlcredit.letters.render import compose, render_docx, render_pdf

AS_OF = dt.date(2026, 10, 31)


def book(n: int) -> tuple[list[Customer], Ledger]:
    customers, invoices = [], []
    for i in range(n):
        zh = i % 3 == 2
        cid = f"B{i:05d}"
        customers.append(Customer(cid, name=f"{'佛山鑫隆塑胶有限公司' if zh else 'Bench Trading'} {i}", currency="EUR",
                                  language="zh" if zh else "en", contact="李娜" if zh else "Alex Smith",
                                  address="Somewhere 1", relationship_start=dt.date(2020, 1, 1)))
        oldest = 10 + (i * 37) % 111          # 10..120 days past due
        for k in range(3):
            due = AS_OF - dt.timedelta(days=oldest - 3 * k)
            invoices.append(Invoice(cid, f"{cid}-{k}", "EUR", Decimal(1000 + 17 * i + k) + Decimal("0.45"),
                                    due - dt.timedelta(days=30), due))
    return customers, Ledger(tuple(invoices))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=1000)
    args = parser.parse_args(argv)
    policy = Policy()
    # customers at the phone-call rung get no letter: add customers until the plan has enough letters
    n = int(args.letters * 1.3)
    customers, ledger = book(n)
    t0 = time.perf_counter()
    letters, actions, problems = plan_letters(customers, ledger, policy, AS_OF)
    letters = letters[: args.letters]
    plan_s = time.perf_counter() - t0
    assert not problems, problems[:3]
    render_n = min(200, len(letters))
    t0 = time.perf_counter()
    for letter in letters[:render_n]:
        composed = compose(letter, policy)
        render_docx(composed)
        render_pdf(composed)
    render_rate = render_n / (time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as tmp:
        store = CreditStore(Path(tmp) / "bench.credit.db")
        t0 = time.perf_counter()
        results, more = issue_letters(letters, actions, policy, AS_OF, Path(tmp) / "out", store)
        issue_s = time.perf_counter() - t0
        issued = sum(1 for r in results if r.kind == "letter" and r.status == "issued")
        files = len(list((Path(tmp) / "out").glob("*.pdf")))
    assert issued == len(letters) == files and not more
    langs = {lang: sum(1 for x in letters if x.language == lang) for lang in ("en", "zh")}
    print(f"letters: {issued} ({langs['en']} en, {langs['zh']} zh), actions registered: {len(actions)}")
    print(f"plan (assess {n} customers, decide letters): {plan_s:.2f} s")
    print(f"render only (compose + docx + pdf, in memory, {render_n} letters): {render_rate:.1f} letters/s")
    print(f"issue (render + atomic write of both files + register row, plus the actions): {issue_s:.2f} s "
          f"= {issued / issue_s:.1f} letters/s")
    total = plan_s + issue_s
    print(f"end to end (plan + issue): {total:.2f} s = {issued / total:.1f} letters/s (goal >= 20)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
