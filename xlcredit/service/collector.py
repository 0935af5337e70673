"""The collector's day on the service: record and list promises to pay, disputes, payment plans and contacts
(controller role to write, read role to list), and ``GET /v1/worklist``.

Values are read by the same coercions as the command line and the sheets (dates by the one date rule, money as
exact decimals), and the records check themselves: a bad value is a 422 naming the field, in the words the
command line prints (``channel: must be one of phone, email, … (got 'fax')``). Every record is audited with
the API key's name. The worklist is the one the last refresh (or worklist run) over a workbook or tables stored
in the credit database — ranked with the promises, disputes, plans and contacts known then; ``GET
/v1/worklist`` says when that was.

No ``from __future__ import annotations`` here: FastAPI reads the endpoint signatures at run time.
"""

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, StringConstraints

from xlcredit.core.coerce import to_date, to_rate
from xlcredit.core.collections import Contact, Dispute, PaymentPlan, Promise, instalment_schedule
from xlcredit.core.errors import XlcError
from xlcredit.core.money import to_decimal
from xlcredit.io import collector as rec
from xlcredit.io.store import CreditStore, to_json_data

Text = Annotated[StrictStr, StringConstraints(max_length=2000)]
Short = Annotated[StrictStr, StringConstraints(max_length=200)]
Id = Annotated[StrictStr, StringConstraints(min_length=1, max_length=200)]
DateText = Annotated[StrictStr, StringConstraints(max_length=40)]
Amount = Annotated[StrictStr, StringConstraints(max_length=40)] | StrictInt


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PromiseRequest(_Body):
    """A promise to pay: by ``promised_date``, ``amount`` (default: what the items owe) on ``invoice_nos``
    (default: every item overdue when taken)."""

    customer_id: Id
    promised_date: DateText
    taken_on: DateText | None = Field(None, description="default: today")
    amount: Amount | None = None
    currency: Annotated[StrictStr, StringConstraints(max_length=3)] = ""
    invoice_nos: Annotated[list[Short], Field(max_length=1000)] = []
    taken_by: Short = ""
    channel: Short = "phone"
    note: Text = ""


class DisputeRequest(_Body):
    """A dispute on an invoice, or on ``amount`` of it."""

    customer_id: Id
    invoice_no: Id
    opened_on: DateText | None = Field(None, description="default: today")
    reason: Short = "other"
    amount: Amount | None = None
    owner: Short = ""
    note: Text = ""


class ResolveRequest(_Body):
    """How a dispute ended: credit note, upheld or partly (with the credit note's amount)."""

    resolution: Short
    resolved_on: DateText | None = Field(None, description="default: today")
    outcome: Text = ""
    credited: Amount | None = None


class PlanRequest(_Body):
    """A payment plan; the instalments follow the documented rule (they add up to the debt to the cent)."""

    customer_id: Id
    amount: Amount
    instalments: Annotated[StrictInt, Field(ge=1, le=360)]
    first_due: DateText
    agreed_on: DateText | None = Field(None, description="default: today")
    months_apart: Annotated[StrictInt, Field(ge=1, le=24)] = 1
    annual_rate: Amount = "0"
    currency: Annotated[StrictStr, StringConstraints(max_length=3)] = "EUR"
    invoice_nos: Annotated[list[Short], Field(max_length=1000)] = []
    owner: Short = ""
    note: Text = ""


class ContactRequest(_Body):
    """A call, e-mail, visit or letter and what came of it."""

    customer_id: Id
    outcome: Short
    channel: Short = "call"
    contact_date: DateText | None = Field(None, description="default: today")
    who: Short = ""
    note: Text = ""


def _date(text: str | None, field: str, today: dt.date) -> dt.date:
    return today if text is None or not text.strip() else to_date(text, field)


def _money(value: Any, field: str) -> Any:
    return None if value is None else to_decimal(value, field, allow_negative=False)


def add_collector_routes(app: FastAPI, *, db: CreditStore, today: Callable[[], dt.date], reader: Any,
                         controller: Any, responses: dict[int | str, dict[str, Any]]) -> None:
    """Add the record and list endpoints and ``GET /v1/worklist`` (module docstring)."""
    from xlcredit.service.app import Principal

    tags = ["collector's day"]
    Controller = Annotated[Principal, controller]
    Reader = Annotated[Principal, reader]
    CustomerQuery = Annotated[str | None, Query(max_length=200, description="one customer's only")]

    @app.post("/v1/promises", tags=tags, status_code=201, responses=responses,
              summary="Record a promise to pay (controller)")
    def post_promise(body: PromiseRequest, who: Controller) -> dict[str, Any]:
        promise = Promise(body.customer_id, to_date(body.promised_date, "promised_date"),
                          _date(body.taken_on, "taken_on", today()), _money(body.amount, "amount"),
                          tuple(body.invoice_nos), body.currency, body.taken_by or who.name, body.channel, body.note)
        return to_json_data(rec.add_promise(db, promise, who=who.who))

    @app.get("/v1/promises", tags=tags, responses=responses, summary="Promises to pay recorded")
    def get_promises(_p: Reader, customer_id: CustomerQuery = None) -> list[dict[str, Any]]:
        return to_json_data(rec.stored_rows(db, "promises", customer_id))

    @app.post("/v1/disputes", tags=tags, status_code=201, responses=responses,
              summary="Open a dispute on an invoice or part of one (controller)")
    def post_dispute(body: DisputeRequest, who: Controller) -> dict[str, Any]:
        dispute = Dispute(body.customer_id, body.invoice_no, _date(body.opened_on, "opened_on", today()),
                          body.reason, _money(body.amount, "amount"), body.owner, body.note)
        return to_json_data(rec.add_dispute(db, dispute, who=who.who))

    @app.post("/v1/disputes/{dispute_id}/resolve", tags=tags, responses={**responses, 404: {}},
              summary="Resolve a dispute: credit note, upheld or partly (controller)")
    def resolve(dispute_id: Annotated[int, Path(ge=1, le=2**62)], body: ResolveRequest,
                who: Controller) -> dict[str, Any]:
        try:
            row = rec.resolve_dispute(db, dispute_id, _date(body.resolved_on, "resolved_on", today()),
                                      body.resolution, body.outcome, _money(body.credited, "credited"), who=who.who)
        except XlcError as exc:
            if exc.field == "dispute_id" and "no dispute" in exc.problem:
                raise HTTPException(404, str(exc)) from None
            raise
        return to_json_data(row)

    @app.get("/v1/disputes", tags=tags, responses=responses, summary="Disputes recorded")
    def get_disputes(_p: Reader, customer_id: CustomerQuery = None) -> list[dict[str, Any]]:
        return to_json_data(rec.stored_rows(db, "disputes", customer_id))

    @app.post("/v1/plans", tags=tags, status_code=201, responses=responses,
              summary="Record a payment plan; the instalments add up to the debt to the cent (controller)")
    def post_plan(body: PlanRequest, who: Controller) -> dict[str, Any]:
        agreed = _date(body.agreed_on, "agreed_on", today())
        debt = _money(body.amount, "amount")
        rate = to_rate(body.annual_rate, "annual_rate")
        schedule = instalment_schedule(debt, body.instalments, to_date(body.first_due, "first_due"),
                                       body.currency.upper(), months_apart=body.months_apart, annual_rate=rate,
                                       agreed_on=agreed)
        plan = PaymentPlan(body.customer_id, agreed, body.currency, schedule, tuple(body.invoice_nos), rate,
                           body.owner or who.name, body.note)
        return to_json_data(rec.add_plan(db, plan, who=who.who))

    @app.get("/v1/plans", tags=tags, responses=responses, summary="Payment plans recorded")
    def get_plans(_p: Reader, customer_id: CustomerQuery = None) -> list[dict[str, Any]]:
        return to_json_data(rec.stored_rows(db, "plans", customer_id))

    @app.post("/v1/contacts", tags=tags, status_code=201, responses=responses,
              summary="Append a call, e-mail or visit to the contact log (controller)")
    def post_contact(body: ContactRequest, who: Controller) -> dict[str, Any]:
        contact = Contact(body.customer_id, _date(body.contact_date, "contact_date", today()), body.channel,
                          body.outcome, body.who or who.name, body.note)
        return to_json_data(rec.add_contact(db, contact, who=who.who))

    @app.get("/v1/contacts", tags=tags, responses=responses,
             summary="The contact log (one customer's: beside its letters, actions and statements)")
    def get_contacts(_p: Reader, customer_id: CustomerQuery = None) -> list[dict[str, Any]]:
        if customer_id:
            return to_json_data(rec.contact_history(db, customer_id))
        return to_json_data(rec.stored_rows(db, "contacts"))

    @app.get("/v1/worklist", tags=tags, responses=responses,
             summary="Who to call today: the worklist of the last refresh, by priority, with reasons in words")
    def get_worklist(_p: Reader, owner: Annotated[str | None, Query(max_length=200)] = None,
                     top: Annotated[int | None, Query(ge=1, le=100_000)] = None) -> dict[str, Any]:
        from xlcredit.io.collector import stored_worklist

        info, rows = stored_worklist(db)
        if owner:
            rows = [r for r in rows if str(r.get("owner", "")).casefold() == owner.strip().casefold()]
        if top is not None:
            rows = rows[:top]
        return to_json_data({**info, "rows": rows})


__all__ = ["ContactRequest", "DisputeRequest", "PlanRequest", "PromiseRequest", "ResolveRequest",
           "add_collector_routes"]
