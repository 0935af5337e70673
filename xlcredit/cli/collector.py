"""``xlcredit promise|dispute|plan|contact``: record the collector's day in the credit database.

Each command writes one record (audited: who and when) into the credit database that the worklist, the
letters and the refresh read beside the workbook's Promises, Disputes, Plans and Contacts sheets. Bad input is
one red line naming the option and the value (exit 2).
"""

from __future__ import annotations

import datetime as dt
import getpass
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from xlcredit.cli.app import app
from xlcredit.cli.common import Column, console, show_table, today, user_errors
from xlcredit.core.coerce import to_date
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.money import to_decimal

if TYPE_CHECKING:
    from xlcredit.io.store import CreditStore

Db = Annotated[str | None, typer.Option(
    "--db", help="Credit database: a file, a workbook (→ the .credit.db beside it) or a URL; default: "
                 "$XLCREDIT_DB.")]
Customer = Annotated[str, typer.Argument(help="The customer's id, as in the customers table.", show_default=False)]
Note = Annotated[str, typer.Option("--note", help="A note in your own words.")]
Invoices = Annotated[str, typer.Option("--invoices", help="Invoice numbers, comma separated (default: every item "
                                                          "overdue on the day).")]

promise_app = typer.Typer(help="Promises to pay: they hold the promised items off the dunning ladder until the "
                               "promised date plus the grace days.", no_args_is_help=True)
dispute_app = typer.Typer(help="Disputes on invoices: the disputed amount leaves dunning and interest claims until "
                               "resolved.", no_args_is_help=True)
plan_app = typer.Typer(help="Payment plans: instalments that add up to the debt to the cent; dunning pauses while "
                            "they are kept.", no_args_is_help=True)
contact_app = typer.Typer(help="The contact log: calls, e-mails and visits with their outcome (append-only).",
                          no_args_is_help=True)
app.add_typer(promise_app, name="promise")
app.add_typer(dispute_app, name="dispute")
app.add_typer(plan_app, name="plan")
app.add_typer(contact_app, name="contact")


def _who() -> str:
    return f"command line ({getpass.getuser()})"


def _store(db: str | None) -> CreditStore:
    from xlcredit.io.store import CreditStore

    return CreditStore(db)


def _day(text: str | None, option: str) -> dt.date:
    if text is None or not text.strip() or text.strip().lower() == "today":
        return today()
    return to_date(text, option)


def _money(text: str | None, option: str) -> Decimal | None:
    if text is None or not text.strip():
        return None
    return to_decimal(text, option, allow_negative=False)


def _nos(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.replace(";", ",").split(",") if p.strip())


def _known(store: CreditStore, customer_id: str) -> None:
    """Refuse a customer the credit database does not know (when it knows any: a refresh has loaded them)."""
    if store.results_view()[1] and store.customer(customer_id) is None:
        raise XlcError("customer", f"{customer_id} is not in the credit database (check the id, or refresh it "
                       "first)", customer_id)


def _as_option(exc: XlcError, names: dict[str, str]) -> XlcError:
    return XlcError(names.get(exc.field, exc.field), exc.problem, exc.value)


# --------------------------------------------------------------------------- promises
@promise_app.command("add")
def promise_add(customer: Customer,
                date: Annotated[str, typer.Option("--date", help="The day the customer promised to pay by.",
                                                  show_default=False)],
                amount: Annotated[str | None, typer.Option(
                    "--amount", help="The amount promised (default: what the items owe).")] = None,
                currency: Annotated[str, typer.Option("--currency", help="Its currency (default: the items').")]
                = "",
                invoices: Invoices = "",
                taken_on: Annotated[str | None, typer.Option("--taken-on", help="When it was taken (default: today).")]
                = None,
                by: Annotated[str, typer.Option("--by", help="Who took it.")] = "",
                channel: Annotated[str, typer.Option(
                    "--channel", help="phone, email, visit, letter, portal or other.")] = "phone",
                note: Note = "", db: Db = None) -> None:
    """Record a promise to pay."""
    from xlcredit.core.collections import Promise
    from xlcredit.io.collector import add_promise

    with user_errors():
        try:
            promise = Promise(customer, to_date(date, "--date"), _day(taken_on, "--taken-on"),
                              _money(amount, "--amount"), _nos(invoices), currency, by or getpass.getuser(), channel,
                              note)
        except XlcError as exc:
            raise _as_option(exc, {"promised_date": "--date", "amount": "--amount", "channel": "--channel",
                                   "customer_id": "customer"}) from None
        store = _store(db)
        _known(store, promise.customer_id)
        row = add_promise(store, promise, who=_who())
    console().print(f"promise PR-{row['id']} recorded: {promise.customer_id} promises "
                    f"{'what is owed' if promise.amount is None else f'{promise.currency} {promise.amount}'.strip()}"
                    f" by {promise.promised_date}", soft_wrap=True)


@promise_app.command("list")
def promise_list(customer: Annotated[str | None, typer.Option("--customer", help="One customer's only.")] = None,
                 db: Db = None) -> None:
    """List the promises recorded in the credit database."""
    from xlcredit.io.collector import stored_rows

    with user_errors():
        rows = stored_rows(_store(db), "promises", customer)
    show_table("Promises to pay", [{**r, "id": f"PR-{r['id']}"} for r in rows], [
        Column("id", "Id"), Column("customer_id", "Customer"), Column("promised_date", "Pay by"),
        Column("amount", "Amount", "right"), Column("currency", "Cur"),
        Column("invoice_nos", "Invoices", flexible=True),
        Column("taken_on", "Taken"), Column("taken_by", "By"), Column("channel", "Channel")])


# --------------------------------------------------------------------------- disputes
@dispute_app.command("open")
def dispute_open(customer: Customer,
                 invoice: Annotated[str, typer.Argument(help="The disputed invoice's number.", show_default=False)],
                 reason: Annotated[str, typer.Option(
                     "--reason", help="price, quantity, quality, not received, duplicate or other.")] = "other",
                 amount: Annotated[str | None, typer.Option(
                     "--amount", help="The disputed part (default: the whole invoice).")] = None,
                 owner: Annotated[str, typer.Option("--owner", help="Who works on it.")] = "",
                 opened: Annotated[str | None, typer.Option("--opened", help="When it was opened (default: today).")]
                 = None,
                 note: Note = "", db: Db = None) -> None:
    """Open a dispute on an invoice (or part of one)."""
    from xlcredit.core.collections import Dispute
    from xlcredit.io.collector import add_dispute

    with user_errors():
        try:
            dispute = Dispute(customer, invoice, _day(opened, "--opened"), reason, _money(amount, "--amount"),
                              owner, note)
        except XlcError as exc:
            raise _as_option(exc, {"reason": "--reason", "amount": "--amount", "customer_id": "customer",
                                   "invoice_no": "invoice"}) from None
        store = _store(db)
        _known(store, dispute.customer_id)
        row = add_dispute(store, dispute, who=_who())
    console().print(f"dispute DS-{row['id']} opened: {dispute.customer_id} invoice {dispute.invoice_no} "
                    f"({dispute.reason.replace('_', ' ')})", soft_wrap=True)


def _dispute_id(text: str) -> int:
    raw = text.strip().upper().removeprefix("DS-")
    if not raw.isdigit():
        raise XlcError("dispute", f"must be a dispute id like DS-3 or 3 (got {describe(text)})", text)
    return int(raw)


@dispute_app.command("resolve")
def dispute_resolve(dispute: Annotated[str, typer.Argument(help="The dispute's id (DS-3 or 3).", show_default=False)],
                    resolution: Annotated[str, typer.Option(
                        "--resolution", help="credit note, upheld or partly.", show_default=False)],
                    outcome: Annotated[str, typer.Option("--outcome", help="What was agreed, in words.")] = "",
                    credited: Annotated[str | None, typer.Option(
                        "--credited", help="The credit note's amount (needed when partly).")] = None,
                    date: Annotated[str | None, typer.Option("--date", help="When it was resolved (default: today).")]
                    = None, db: Db = None) -> None:
    """Resolve an open dispute: credit note (customer right), upheld (invoice stands) or partly."""
    from xlcredit.io.collector import resolve_dispute

    with user_errors():
        number = _dispute_id(dispute)
        try:
            row = resolve_dispute(_store(db), number, _day(date, "--date"), resolution, outcome,
                                  _money(credited, "--credited"), who=_who())
        except XlcError as exc:
            raise _as_option(exc, {"resolution": "--resolution", "credited": "--credited",
                                   "resolved_on": "--date", "dispute_id": "dispute"}) from None
    console().print(f"dispute DS-{number} resolved {row['resolved_on']}: {row['resolution'].replace('_', ' ')}",
                    soft_wrap=True)


@dispute_app.command("list")
def dispute_list(customer: Annotated[str | None, typer.Option("--customer", help="One customer's only.")] = None,
                 db: Db = None) -> None:
    """List the disputes recorded in the credit database."""
    from xlcredit.io.collector import stored_rows

    with user_errors():
        rows = stored_rows(_store(db), "disputes", customer)
    show_table("Disputes", [{**r, "id": f"DS-{r['id']}", "resolution": r["resolution"].replace("_", " ")}
                            for r in rows], [
        Column("id", "Id"), Column("customer_id", "Customer"), Column("invoice_no", "Invoice"),
        Column("reason", "Reason"), Column("amount", "Amount", "right"), Column("opened_on", "Opened"),
        Column("owner", "Owner"), Column("resolved_on", "Resolved"), Column("resolution", "Resolution"),
        Column("outcome", "Outcome", flexible=True)])


# --------------------------------------------------------------------------- payment plans
@plan_app.command("add")
def plan_add(customer: Customer,
             amount: Annotated[str, typer.Option("--amount", help="The debt the plan pays off.", show_default=False)],
             instalments: Annotated[int, typer.Option("--instalments", help="How many instalments.",
                                                      show_default=False)],
             first: Annotated[str, typer.Option("--first", help="The first instalment's due date.",
                                                show_default=False)],
             every_months: Annotated[int, typer.Option("--every-months", help="Months between instalments.")] = 1,
             rate: Annotated[str, typer.Option("--rate", help="Annual interest on the balance (8 % is 0.08).")] = "0",
             currency: Annotated[str, typer.Option("--currency", help="The plan's currency.")] = "EUR",
             invoices: Invoices = "",
             agreed: Annotated[str | None, typer.Option("--agreed", help="When it was agreed (default: today).")]
             = None,
             owner: Annotated[str, typer.Option("--owner", help="Who agreed it.")] = "",
             note: Note = "", db: Db = None) -> None:
    """Record a payment plan; its instalments add up to the debt to the cent (the last takes the remainder)."""
    from xlcredit.core.coerce import to_rate
    from xlcredit.core.collections import PaymentPlan, instalment_schedule
    from xlcredit.io.collector import add_plan

    names = {"amount": "--amount", "instalments": "--instalments", "first_due": "--first", "annual_rate": "--rate",
             "months_apart": "--every-months", "currency": "--currency", "customer_id": "customer"}
    with user_errors():
        try:
            debt = _money(amount, "--amount")
            if debt is None:
                raise XlcError("--amount", "is empty", amount)
            day = _day(agreed, "--agreed")
            annual = to_rate(rate, "--rate")
            schedule = instalment_schedule(debt, instalments, to_date(first, "--first"), currency.upper(),
                                           months_apart=every_months, annual_rate=annual, agreed_on=day)
            plan = PaymentPlan(customer, day, currency, schedule, _nos(invoices), annual, owner, note)
        except XlcError as exc:
            raise _as_option(exc, names) from None
        store = _store(db)
        _known(store, plan.customer_id)
        row = add_plan(store, plan, who=_who())
    show_table(f"Payment plan PL-{row['id']} for {plan.customer_id}", [
        {"number": i.number, "due_date": i.due_date, "principal": i.principal, "interest": i.interest,
         "amount": i.amount, "currency": plan.currency} for i in plan.instalments], [
        Column("number", "#", "right"), Column("due_date", "Due"), Column("principal", "Principal", "right",
                                                                          money="currency"),
        Column("interest", "Interest", "right", money="currency"), Column("amount", "To pay", "right",
                                                                          money="currency")])
    console().print(f"{len(plan.instalments)} instalments, {plan.currency} {plan.total} in all "
                    f"(debt {plan.principal})", soft_wrap=True)


@plan_app.command("list")
def plan_list(customer: Annotated[str | None, typer.Option("--customer", help="One customer's only.")] = None,
              db: Db = None) -> None:
    """List the payment plans recorded in the credit database."""
    from xlcredit.io.collector import stored_rows

    with user_errors():
        rows = stored_rows(_store(db), "plans", customer)
    shown = [{"id": f"PL-{r['id']}", "customer_id": r["customer_id"], "agreed_on": r["agreed_on"],
              "instalments": len(r["instalments"]), "first": r["instalments"][0]["due_date"],
              "total": sum(Decimal(i["principal"]) + Decimal(i["interest"]) for i in r["instalments"]),
              "currency": r["currency"], "owner": r["owner"]} for r in rows]
    show_table("Payment plans", shown, [
        Column("id", "Id"), Column("customer_id", "Customer"), Column("agreed_on", "Agreed"),
        Column("instalments", "Instalments", "right"), Column("first", "First due"),
        Column("total", "Total", "right", money="currency"), Column("currency", "Cur"), Column("owner", "Owner")])


# --------------------------------------------------------------------------- contacts
@contact_app.command("add")
def contact_add(customer: Customer,
                outcome: Annotated[str, typer.Option(
                    "--outcome", help="reached, no answer, promised, disputed or refused.", show_default=False)],
                channel: Annotated[str, typer.Option("--channel", help="call, email, visit, letter or other.")]
                = "call",
                date: Annotated[str | None, typer.Option("--date", help="When (default: today).")] = None,
                who: Annotated[str, typer.Option("--who", help="Who made the contact (default: you).")] = "",
                note: Note = "", db: Db = None) -> None:
    """Append a call, e-mail or visit to the contact log."""
    from xlcredit.core.collections import Contact
    from xlcredit.io.collector import add_contact

    with user_errors():
        try:
            contact = Contact(customer, _day(date, "--date"), channel, outcome, who or getpass.getuser(), note)
        except XlcError as exc:
            raise _as_option(exc, {"outcome": "--outcome", "channel": "--channel", "customer_id": "customer"}) from None
        store = _store(db)
        _known(store, contact.customer_id)
        row = add_contact(store, contact, who=_who())
    console().print(f"contact CT-{row['id']} logged: {contact.words}", soft_wrap=True)


@contact_app.command("list")
def contact_list(customer: Annotated[str, typer.Argument(help="The customer's id.", show_default=False)],
                 db: Db = None) -> None:
    """One customer's contact log beside its collection register (letters, actions, statements), oldest first."""
    from xlcredit.io.collector import contact_history

    with user_errors():
        rows = contact_history(_store(db), customer)
    show_table(f"Contact log of {customer}", rows, [
        Column("date", "Date"), Column("kind", "Kind"), Column("what", "What", flexible=True),
        Column("who", "Who", flexible=True), Column("note", "Note", flexible=True)])
