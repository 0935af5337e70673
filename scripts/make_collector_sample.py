"""Write the bundled sample's collector records: promises.csv, disputes.csv, plans.csv, contacts.csv.

They are drawn, deterministically, from the sample ledger (``scripts/make_sample.py``) as of its date, so that the
demo's worklist has a promise still open, one kept and one broken, a dispute open on part of an invoice and one
resolved, a payment plan being kept and a few contacts. Run it again after the ledger is regenerated:

    .venv/bin/python scripts/make_collector_sample.py
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import ROUND_DOWN, Decimal

import pandas as pd

from xlcredit.core.openitems import allocate
from xlcredit.data.sample import SAMPLE_AS_OF, SAMPLE_DIR
from xlcredit.io.ledger import load_ledger
from xlcredit.io.tables import read_customers

DAY = dt.timedelta(days=1)


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLE_DIR / f"{name}.csv", dtype=str, keep_default_na=False)


def _write(name: str, header: list[str], rows: list[list[str]]) -> None:
    with open(SAMPLE_DIR / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> int:
    as_of = SAMPLE_AS_OF
    customers = {c.customer_id: c for c in read_customers(SAMPLE_DIR / "customers.csv").customers}
    ledger = load_ledger(_read("invoices"), _read("payments"), _read("credit_notes")).ledger
    positions = allocate(ledger, as_of)
    overdue: dict[str, list] = {}
    currency: dict[str, str] = {}
    for (cid, cur), pos in sorted(positions.items()):
        items = [i for i in pos.open_items if i.invoice.due_date < as_of - 10 * DAY and not i.invoice.disputed]
        if items and cid not in overdue:
            overdue[cid] = sorted(items, key=lambda i: (i.invoice.due_date, i.invoice.invoice_no))
            currency[cid] = cur
    ranked = sorted(overdue, key=lambda c: (-len(overdue[c]), c))
    payments: dict[str, list] = {}
    for p in ledger.payments:
        if p.currency == currency.get(p.customer_id) and as_of - 40 * DAY <= p.payment_date <= as_of:
            payments.setdefault(p.customer_id, []).append(p)
    paying = [c for c in ranked if payments.get(c)]

    used: set[str] = set()

    def pick(pool: list[str]) -> str:
        cid = next(c for c in pool if c not in used)
        used.add(cid)
        return cid

    promises: list[list[str]] = []
    # open: the largest debtor promises on 29 Oct to pay its oldest overdue invoice on 4 Nov
    c_open = pick(ranked)
    first = overdue[c_open][0]
    promises.append([c_open, "2026-11-04", "2026-10-29", first.invoice.invoice_no, "", currency[c_open], "Anna",
                     "phone", "pays once the customer's own customer has paid"])
    # kept: a customer that paid promised what it then paid, on the day it paid
    c_kept = pick(paying)
    pay = sorted(payments[c_kept], key=lambda p: (p.payment_date, p.payment_id))[-1]
    promises.append([c_kept, pay.payment_date.isoformat(), (pay.payment_date - 5 * DAY).isoformat(), "",
                     format(pay.amount, "f"), currency[c_kept], "Ben", "email", "confirmed by e-mail"])
    # broken: a customer that paid less than it owed between 20 Sep and 1 Oct promised on 20 Sep to pay it all by
    # 27 Sep (early enough that the escalation it earns is a step the customer has reached by now anyway)
    def owed(cid: str) -> Decimal:
        return sum((i.open_amount for i in overdue[cid] if i.invoice.due_date < dt.date(2026, 9, 20)), Decimal(0))

    def paid_in(cid: str, start: dt.date, end: dt.date) -> Decimal:
        return sum((p.amount for p in payments.get(cid, []) if start <= p.payment_date <= end), Decimal(0))

    short = [c for c in ranked if owed(c) > paid_in(c, dt.date(2026, 9, 20), dt.date(2026, 10, 1)) + 100]
    c_broken = pick(short)
    debt = owed(c_broken)
    promises.append([c_broken, "2026-09-27", "2026-09-20", "", format(debt, "f"), currency[c_broken], "Anna", "phone",
                     "promised the full overdue amount"])

    disputes: list[list[str]] = []
    c_dispute = pick(ranked)
    inv = overdue[c_dispute][0]
    part = (inv.open_amount / 4).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    disputes.append([c_dispute, inv.invoice.invoice_no, "2026-10-20", "price", format(part, "f"), "Ben",
                     "price list of 2026 not applied", "", "", "", ""])
    c_resolved = pick(ranked)
    inv = overdue[c_resolved][0]
    disputes.append([c_resolved, inv.invoice.invoice_no, "2026-09-28", "not received", "", "Anna",
                     "delivery note missing", "2026-10-12", "upheld", "proof of delivery sent; invoice stands", ""])

    # a plan agreed on 30 Sep by a customer that paid since: instalments of what it paid by 18 Oct
    plans: list[list[str]] = []
    for cid in paying:
        if cid in used:
            continue
        paid = sum((p.amount for p in payments[cid] if dt.date(2026, 9, 30) <= p.payment_date <= dt.date(2026, 10, 18)),
                   Decimal(0))
        if paid >= 100:
            used.add(cid)
            each = paid.quantize(Decimal("1"), rounding=ROUND_DOWN)
            plans.append([cid, format(each * 3, "f"), "3", "2026-10-15", "2026-09-30", "", currency[cid], "1", "0",
                          "Ben",
                          "three monthly instalments agreed by phone"])
            break

    contacts = [
        [c_open, "2026-10-29", "call", "promised", "Anna", "will pay the oldest invoice next week"],
        [c_broken, "2026-09-20", "call", "promised", "Anna", "promised to pay everything overdue by the 27th"],
        [c_broken, "2026-10-02", "call", "no answer", "Anna", "voicemail left"],
        [c_dispute, "2026-10-20", "email", "disputed", "Ben", "disputes the price on the oldest invoice"],
    ]
    if plans:
        contacts.append([plans[0][0], "2026-09-30", "call", "reached", "Ben", "agreed a payment plan"])

    _write("promises", ["Customer", "Promised date", "Taken on", "Invoices", "Amount", "Currency", "Taken by",
                        "Channel", "Note"], promises)
    _write("disputes", ["Customer", "Invoice", "Opened on", "Reason", "Disputed amount", "Owner", "Note",
                        "Resolved on", "Resolution", "Outcome", "Credit note amount"], disputes)
    _write("plans", ["Customer", "Amount", "Instalments", "First due", "Agreed on", "Invoices", "Currency",
                     "Months apart", "Interest rate", "Owner", "Note"], plans)
    _write("contacts", ["Customer", "Date", "Channel", "Outcome", "Who", "Note"], contacts)
    names = {c: customers[c].name for c in used if c in customers}
    print(f"collector records for {len(used)} customers: {', '.join(f'{c} {n}' for c, n in sorted(names.items()))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
