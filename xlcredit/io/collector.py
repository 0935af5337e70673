"""The collector's records where they live: input tables (workbook sheets, files) and the credit database.

**Tables** (:func:`read_collections`) — the Promises, Disputes, Plans and Contacts sheets of the workbook (the
user types them; nothing ever writes to them) or ``promises``, ``disputes``, ``plans``, ``contacts`` files in a
folder of tables (.csv, .xlsx, .parquet). Headers are matched loosely (case, spaces and punctuation do not
matter) against the documented names and the words the workbook's sheets use (:data:`COLUMNS`). A bad row is
reported (table, row, column, value, problem) and left out; the good rows are still read.

* **promises**: customer, promised date (required); taken on (blank: the promised date), invoices (comma
  separated; blank: every item overdue when taken), amount (blank: what those items owed), currency, taken by,
  channel (phone, email, visit, letter, portal, other), note.
* **disputes**: customer, invoice, opened on (required); reason (price, quantity, quality, not received,
  duplicate, other), disputed amount (blank: the whole invoice), owner, note, resolved on, resolution (credit
  note, upheld, partly), outcome, credit note amount.
* **plans** — one row per plan; the instalments follow the documented rule
  (:func:`xlcredit.core.collections.instalment_schedule`): customer, amount, instalments (number), first due,
  agreed on (required); invoices, currency (blank: the company currency), months apart (1), interest rate (0),
  owner, note.
* **contacts**: customer, date (required); channel (call, email, visit, letter, other), outcome (reached, no
  answer, promised, disputed, refused), who, note.

**The credit database** (:func:`add_promise`, :func:`add_dispute`, :func:`resolve_dispute`, :func:`add_plan`,
:func:`add_contact`, :func:`stored_collections`, :func:`contact_history`): each record is written in one
transaction with its audit entry (who, what, when). The contact log is append-only — there is no function that
changes or deletes a contact; a dispute is the only record that changes, once, when it is resolved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
import sqlalchemy as sa

from xlcredit.core.coerce import is_blank, to_date
from xlcredit.core.collections import (
    Collections,
    Contact,
    Dispute,
    Instalment,
    PaymentPlan,
    Promise,
    instalment_schedule,
)
from xlcredit.core.errors import XlcError, describe
from xlcredit.core.ledger import RowProblem
from xlcredit.core.money import to_decimal
from xlcredit.io.store import (
    CreditStore,
    UtcTimestamp,
    contacts_table,
    disputes_table,
    plans_table,
    promises_table,
    register_table,
    to_json_data,
)
from xlcredit.io.tables import alias_index, normalise_header

__all__ = ["COLUMNS", "HEADERS", "TABLES", "CollectionsLoad", "add_contact", "add_dispute", "add_plan",
           "add_promise", "contact_history", "read_collections", "resolve_dispute", "save_worklist",
           "stored_collections", "stored_rows", "stored_worklist"]

#: The collector's input tables, in order.
TABLES: tuple[str, ...] = ("promises", "disputes", "plans", "contacts")
#: Documented column → other headers read as it (the workbook sheets' headers come first).
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "promises": {
        "customer_id": ("Customer", "Customer id"), "promised_date": ("Promised date", "Pay by", "Promised for"),
        "taken_on": ("Taken on", "Date taken"), "invoice_nos": ("Invoices", "Invoice", "Invoice no"),
        "amount": ("Amount", "Promised amount"), "currency": ("Currency",), "taken_by": ("Taken by",),
        "channel": ("Channel",), "note": ("Note", "Notes"), "promise_id": ("Promise", "Promise id", "Id")},
    "disputes": {
        "customer_id": ("Customer", "Customer id"), "invoice_no": ("Invoice", "Invoice number"),
        "opened_on": ("Opened on", "Opened"), "reason": ("Reason",), "amount": ("Disputed amount", "Amount"),
        "owner": ("Owner",), "note": ("Note", "Notes"), "resolved_on": ("Resolved on", "Resolved"),
        "resolution": ("Resolution",), "outcome": ("Outcome",), "credited": ("Credit note amount", "Credited"),
        "dispute_id": ("Dispute", "Dispute id", "Id")},
    "plans": {
        "customer_id": ("Customer", "Customer id"), "amount": ("Amount", "Debt"),
        "instalments": ("Instalments", "Number of instalments"), "first_due": ("First due", "First instalment"),
        "agreed_on": ("Agreed on", "Agreed"), "invoice_nos": ("Invoices", "Invoice"), "currency": ("Currency",),
        "months_apart": ("Months apart", "Every months"), "annual_rate": ("Interest rate", "Rate"),
        "owner": ("Owner",), "note": ("Note", "Notes"), "plan_id": ("Plan", "Plan id", "Id")},
    "contacts": {
        "customer_id": ("Customer", "Customer id"), "contact_date": ("Date", "Contact date", "When"),
        "channel": ("Channel",), "outcome": ("Outcome",), "who": ("Who", "By"), "note": ("Note", "Notes"),
        "contact_id": ("Contact", "Contact id", "Id")},
}
#: The headers of the workbook's input sheets, in words (the first alias of each column).
HEADERS: dict[str, tuple[str, ...]] = {
    table: tuple(names[0] for field, names in cols.items() if not field.endswith("_id") or field == "customer_id")
    for table, cols in COLUMNS.items()}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "promises": ("customer_id", "promised_date"), "disputes": ("customer_id", "invoice_no", "opened_on"),
    "plans": ("customer_id", "amount", "instalments", "first_due", "agreed_on"),
    "contacts": ("customer_id", "contact_date")}
_INDEX = {table: alias_index(cols) for table, cols in COLUMNS.items()}


@dataclass(frozen=True)
class CollectionsLoad:
    """The records read from the tables and the rows that could not be used."""

    collections: Collections
    problems: tuple[RowProblem, ...] = ()


# --------------------------------------------------------------------------- reading tables
class _Row:
    """One table row: cells by documented column, read with the one coercion per kind, errors naming the header."""

    def __init__(self, cells: Mapping[str, Any], headers: Mapping[str, str]) -> None:
        self.cells, self.headers = cells, headers

    def _raw(self, name: str) -> Any:
        value = self.cells.get(name)
        return None if is_blank(value) else value

    def _fail(self, name: str, exc: XlcError) -> XlcError:
        return XlcError(self.headers.get(name, name), exc.problem, self.cells.get(name))

    def text(self, name: str) -> str:
        value = self._raw(name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return "" if value is None else str(value).strip()

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        value = self._raw(name)
        if value is None:
            if required:
                raise XlcError(self.headers.get(name, name), "is empty", None)
            return None
        try:
            return to_date(value, name)
        except XlcError as exc:
            raise self._fail(name, exc) from None

    def money(self, name: str) -> Decimal | None:
        value = self._raw(name)
        try:
            return to_decimal(value, name, allow_negative=False, allow_none=True)
        except XlcError as exc:
            raise self._fail(name, exc) from None

    def whole(self, name: str, default: int | None = None) -> int | None:
        number = self.money(name)
        if number is None:
            return default
        if number != number.to_integral_value():
            raise XlcError(self.headers.get(name, name), f"must be a whole number (got {describe(number)})", number)
        return int(number)

    def nos(self, name: str) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.text(name).replace(";", ",").split(",") if p.strip())

    def wrap(self, make: Callable[[], Any]) -> Any:
        """Build a record; a problem the record finds is reported against its column's header."""
        try:
            return make()
        except XlcError as exc:
            field = exc.field.split("[")[0].split(".")[0]
            raise XlcError(self.headers.get(field, exc.field), exc.problem, exc.value) from None


def _promise(r: _Row, company: str) -> Promise:
    promised = r.date("promised_date", required=True)
    assert promised is not None
    return r.wrap(lambda: Promise(
        r.text("customer_id"), promised, r.date("taken_on") or promised, r.money("amount"), r.nos("invoice_nos"),
        r.text("currency"), r.text("taken_by"), r.text("channel"), r.text("note"), r.text("promise_id")))


def _dispute(r: _Row, company: str) -> Dispute:
    opened = r.date("opened_on", required=True)
    return r.wrap(lambda: Dispute(
        r.text("customer_id"), r.text("invoice_no"), opened, r.text("reason"), r.money("amount"), r.text("owner"),
        r.text("note"), r.date("resolved_on"), r.text("resolution"), r.text("outcome"), r.money("credited"),
        r.text("dispute_id")))


def _plan(r: _Row, company: str) -> PaymentPlan:
    amount = r.money("amount")
    count = r.whole("instalments")
    first = r.date("first_due", required=True)
    agreed = r.date("agreed_on", required=True)
    currency = (r.text("currency") or company).upper()
    rate = r.money("annual_rate") or Decimal(0)
    months = r.whole("months_apart", 1)
    if amount is None:
        raise XlcError(r.headers.get("amount", "amount"), "is empty", None)
    if count is None:
        raise XlcError(r.headers.get("instalments", "instalments"), "is empty", None)
    assert first is not None and agreed is not None and months is not None
    schedule = r.wrap(lambda: instalment_schedule(amount, count, first, currency, months_apart=months,
                                                   annual_rate=rate, agreed_on=agreed))
    return r.wrap(lambda: PaymentPlan(r.text("customer_id"), agreed, currency, schedule, r.nos("invoice_nos"), rate,
                                      r.text("owner"), r.text("note"), r.text("plan_id")))


def _contact(r: _Row, company: str) -> Contact:
    when = r.date("contact_date", required=True)
    assert when is not None
    return r.wrap(lambda: Contact(r.text("customer_id"), when, r.text("channel"), r.text("outcome"), r.text("who"),
                                  r.text("note"), r.text("contact_id")))


_MAKERS: dict[str, Callable[[_Row, str], Any]] = {"promises": _promise, "disputes": _dispute, "plans": _plan,
                                                  "contacts": _contact}


def _row_numbers(frame: pd.DataFrame) -> list[int]:
    from xlcredit.io.ledger import ROWS_ATTR

    attrs = dict(getattr(frame, "attrs", {}) or {})
    return list(attrs.get(ROWS_ATTR, range(2, len(frame) + 2)))


def read_table(name: str, frame: pd.DataFrame | None, company_currency: str = "EUR"
               ) -> tuple[list[Any], list[RowProblem]]:
    """The records of one collector table and its bad rows (an absent or empty table is no records)."""
    if frame is None or frame.empty:
        return [], []
    index = _INDEX[name]
    header = [str(c) for c in frame.columns]
    positions: dict[str, int] = {}
    for i, h in enumerate(header):
        canonical = index.get(normalise_header(h))
        if canonical is not None and canonical not in positions and h.strip():
            positions[canonical] = i
    missing = [c for c in _REQUIRED[name] if c not in positions]
    if missing:
        seen = ", ".join(repr(h) for h in header if h.strip()) or "no columns"
        return [], [RowProblem(name, 1, COLUMNS[name][m][0], None, f"column is missing (found {seen})")
                    for m in missing]
    headers = {c: header[i] for c, i in positions.items()}
    records: list[Any] = []
    problems: list[RowProblem] = []
    for number, values in zip(_row_numbers(frame), frame.itertuples(index=False, name=None), strict=False):
        if all(is_blank(v) for v in values):
            continue
        cells = {c: values[i] for c, i in positions.items()}
        try:
            records.append(_MAKERS[name](_Row(cells, headers), company_currency))
        except XlcError as exc:
            problems.append(RowProblem(name, number, exc.field, exc.value, exc.problem))
    return records, problems


def read_collections(tables: Mapping[str, pd.DataFrame], company_currency: str = "EUR") -> CollectionsLoad:
    """Promises, disputes, plans and contacts from a book's tables (module docstring); absent tables are empty."""
    found: dict[str, list[Any]] = {}
    problems: list[RowProblem] = []
    for name in TABLES:
        records, bad = read_table(name, tables.get(name), company_currency)
        found[name] = records
        problems.extend(bad)
    return CollectionsLoad(Collections(tuple(found["promises"]), tuple(found["disputes"]), tuple(found["plans"]),
                                       tuple(found["contacts"])), tuple(problems))


# --------------------------------------------------------------------------- the credit database
def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


def _insert(store: CreditStore, table: sa.Table, values: dict[str, Any], action: str, who: str,
            now: dt.datetime | None) -> dict[str, Any]:
    at = _now(now)
    row = {**values, "created_at": at, "created_by": who or "unknown"}
    with store._write() as conn:
        new_id = int(conn.execute(table.insert().values(**row)).inserted_primary_key[0])
        row["id"] = new_id
        store._audit(conn, who, action, f"{table.name}:{values['customer_id']}", None, row, at)
    return row


def add_promise(store: CreditStore, promise: Promise, *, who: str = "", now: dt.datetime | None = None
                ) -> dict[str, Any]:
    """Record a promise to pay (audited); returns the stored row with its id."""
    p = promise
    return _insert(store, promises_table, {
        "customer_id": p.customer_id, "promised_date": p.promised_date, "taken_on": p.taken_on, "amount": p.amount,
        "currency": p.currency, "invoice_nos": ", ".join(p.invoice_nos), "taken_by": p.taken_by,
        "channel": p.channel, "note": p.note}, "promise", who, now)


def add_dispute(store: CreditStore, dispute: Dispute, *, who: str = "", now: dt.datetime | None = None
                ) -> dict[str, Any]:
    """Open a dispute (audited); returns the stored row with its id."""
    d = dispute
    if d.opened_on is None:
        raise XlcError("opened_on", "is empty", None)
    return _insert(store, disputes_table, {
        "customer_id": d.customer_id, "invoice_no": d.invoice_no, "opened_on": d.opened_on, "reason": d.reason,
        "amount": d.amount, "owner": d.owner, "note": d.note, "resolved_on": d.resolved_on,
        "resolution": d.resolution, "outcome": d.outcome, "credited": d.credited}, "dispute", who, now)


def resolve_dispute(store: CreditStore, dispute_id: int, resolved_on: dt.date, resolution: str, outcome: str = "",
                    credited: Decimal | None = None, *, who: str = "", now: dt.datetime | None = None
                    ) -> dict[str, Any]:
    """Resolve an open dispute once (credit note, upheld, partly), with the outcome in words; audited."""
    at = _now(now)
    with store._write() as conn:
        row = conn.execute(sa.select(disputes_table).where(disputes_table.c.id == int(dispute_id))).mappings().first()
        if row is None:
            raise XlcError("dispute_id", f"no dispute {dispute_id} in the credit database", dispute_id)
        if row["resolved_on"] is not None:
            raise XlcError("dispute_id", f"dispute {dispute_id} was already resolved on {row['resolved_on']} "
                           f"({row['resolution'].replace('_', ' ')})", dispute_id)
        checked = Dispute(row["customer_id"], row["invoice_no"], row["opened_on"], row["reason"], row["amount"],
                          row["owner"], row["note"], resolved_on, resolution, outcome, credited)
        change = {"resolved_on": checked.resolved_on, "resolution": checked.resolution, "outcome": checked.outcome,
                  "credited": checked.credited, "resolved_at": at, "resolved_by": who or "unknown"}
        conn.execute(disputes_table.update().where(disputes_table.c.id == int(dispute_id)).values(**change))
        store._audit(conn, who, "resolve_dispute", f"disputes:{row['customer_id']}",
                     {"id": int(dispute_id), "resolved_on": None}, {"id": int(dispute_id), **change}, at)
    return {**dict(row), **change}


def add_plan(store: CreditStore, plan: PaymentPlan, *, who: str = "", now: dt.datetime | None = None
             ) -> dict[str, Any]:
    """Record a payment plan with its instalments (audited); returns the stored row with its id."""
    p = plan
    schedule = [{"number": i.number, "due_date": i.due_date.isoformat(), "principal": format(i.principal, "f"),
                 "interest": format(i.interest, "f")} for i in p.instalments]
    return _insert(store, plans_table, {
        "customer_id": p.customer_id, "agreed_on": p.agreed_on, "currency": p.currency,
        "invoice_nos": ", ".join(p.invoice_nos), "annual_rate": p.annual_rate, "owner": p.owner, "note": p.note,
        "instalments": schedule}, "plan", who, now)


def add_contact(store: CreditStore, contact: Contact, *, who: str = "", now: dt.datetime | None = None
                ) -> dict[str, Any]:
    """Append a contact to the log (calls, e-mails, visits; audited). Contacts are never changed or deleted."""
    c = contact
    return _insert(store, contacts_table, {
        "customer_id": c.customer_id, "contact_date": c.contact_date, "channel": c.channel, "outcome": c.outcome,
        "who": c.who or who, "note": c.note}, "contact", who, now)


_TABLES: dict[str, sa.Table] = {"promises": promises_table, "disputes": disputes_table, "plans": plans_table,
                                "contacts": contacts_table}


def stored_rows(store: CreditStore, table: str, customer_id: str | None = None) -> list[dict[str, Any]]:
    """The rows of one collector table, oldest first (one customer's when ``customer_id`` is given)."""
    t = _TABLES[table]
    query = sa.select(t).order_by(t.c.id)
    if customer_id is not None:
        query = query.where(t.c.customer_id == str(customer_id).strip())
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


def stored_collections(store: CreditStore) -> Collections:
    """Every record in the credit database as the core's records (ids ``PR-1``, ``DS-1``, ``PL-1``, ``CT-1``)."""
    promises = tuple(Promise(r["customer_id"], r["promised_date"], r["taken_on"], r["amount"], _split(r["invoice_nos"]),
                             r["currency"], r["taken_by"], r["channel"] or "phone", r["note"], f"PR-{r['id']}")
                     for r in stored_rows(store, "promises"))
    disputes = tuple(Dispute(r["customer_id"], r["invoice_no"], r["opened_on"], r["reason"] or "other", r["amount"],
                             r["owner"], r["note"], r["resolved_on"], r["resolution"], r["outcome"], r["credited"],
                             f"DS-{r['id']}") for r in stored_rows(store, "disputes"))
    plans = tuple(PaymentPlan(r["customer_id"], r["agreed_on"], r["currency"], tuple(
        Instalment(int(i["number"]), to_date(i["due_date"], "due_date"), Decimal(i["principal"]),
                   Decimal(i["interest"])) for i in r["instalments"]), _split(r["invoice_nos"]),
        r["annual_rate"] or Decimal(0), r["owner"], r["note"], f"PL-{r['id']}") for r in stored_rows(store, "plans"))
    contacts = tuple(Contact(r["customer_id"], r["contact_date"], r["channel"] or "call", r["outcome"], r["who"],
                             r["note"], f"CT-{r['id']}") for r in stored_rows(store, "contacts"))
    return Collections(promises, disputes, plans, contacts)


def contact_history(store: CreditStore, customer_id: str) -> list[dict[str, Any]]:
    """One customer's contact log beside its collection register, oldest first: every call, e-mail and visit, and
    every letter, action and statement issued — ``date``, ``kind``, ``what``, ``who``, ``note``, ``recorded_at``."""
    cid = str(customer_id).strip()
    rows: list[dict[str, Any]] = []
    for r in stored_rows(store, "contacts", cid):
        rows.append({"date": r["contact_date"], "kind": "contact", "what": f"{r['channel']}: "
                     f"{r['outcome'].replace('_', ' ')}", "who": r["who"] or r["created_by"], "note": r["note"],
                     "recorded_at": r["created_at"], "id": f"CT-{r['id']}"})
    with store.engine.connect() as conn:
        register = conn.execute(sa.select(register_table).where(register_table.c.customer_id == cid)
                                .order_by(register_table.c.id)).mappings().all()
    for r in register:
        rows.append({"date": r["as_of"], "kind": r["kind"], "what": r["stage"], "who": r["created_by"],
                     "note": "", "recorded_at": r["created_at"], "id": f"RG-{r['id']}"})
    rows.sort(key=lambda r: (r["date"], r["recorded_at"], r["id"]))
    return rows



# --------------------------------------------------------------------------- the worklist of the last run
# A cache of derived rows, not a record: the table is created on first use (and may be dropped at any time — the
# next refresh fills it again), so it needs no schema migration.
_cache = sa.MetaData()
worklist_table = sa.Table(
    "worklist", _cache,
    sa.Column("customer_id", sa.String, primary_key=True), sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False), sa.Column("owner", sa.Text, nullable=False, server_default=""),
    sa.Column("as_of", sa.Date, nullable=False), sa.Column("row", sa.JSON, nullable=False),
    sa.Column("computed_at", UtcTimestamp, nullable=False),
    sa.Column("computed_by", sa.Text, nullable=False, server_default=""))


def save_worklist(store: CreditStore, as_of: dt.date, rows: Sequence[Mapping[str, Any]], *, who: str = "",
                  now: dt.datetime | None = None) -> int:
    """Replace the stored worklist with ``rows`` (``WorklistRow.to_record()``, ranked) in one transaction; audited.
    Returns how many rows were stored."""
    at = _now(now)
    values = [{"customer_id": str(r["customer_id"]), "rank": int(r["rank"]), "priority": int(r["priority"]),
               "owner": str(r.get("owner") or ""), "as_of": as_of, "row": to_json_data(dict(r)), "computed_at": at,
               "computed_by": who or "unknown"} for r in rows]
    with store._write() as conn:
        worklist_table.create(conn, checkfirst=True)
        conn.execute(worklist_table.delete())
        if values:
            conn.execute(worklist_table.insert(), values)
        store._audit(conn, who, "worklist", "worklist", None, {"as_of": as_of, "rows": len(values)}, at)
    return len(values)


def stored_worklist(store: CreditStore) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The stored worklist: ``({"as_of", "computed_at", "computed_by"}, rows by rank)``; empty before the first run."""
    with store.engine.connect() as conn:
        if not sa.inspect(conn).has_table("worklist"):
            return {"as_of": None, "computed_at": None, "computed_by": ""}, []
        found = conn.execute(sa.select(worklist_table).order_by(worklist_table.c.rank)).mappings().all()
    if not found:
        return {"as_of": None, "computed_at": None, "computed_by": ""}, []
    first = found[0]
    return ({"as_of": first["as_of"], "computed_at": first["computed_at"], "computed_by": first["computed_by"]},
            [dict(r["row"]) for r in found])
