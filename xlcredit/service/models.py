"""Request and response shapes of the HTTP service (pydantic), shared by every route.

Conventions of the JSON API:

* **Cell values** (an argument of a function row) are what an Excel cell can hold: text (at most
  32,767 characters, Excel's own limit), a number, true/false, or null. Objects and arrays in their
  place are malformed input (422 naming the field, e.g. ``rows[3].due_date``); a blank, missing or
  unusable value (``true`` as a date) is a per-row problem answered inside the batch
  (``{"error": "due_date: is empty"}``), in the words the cell shows after ``#XLC!``.
* **Money and rates in answers are strings** holding the exact decimal (``"65.75"``), never binary
  floats; dates are ISO ``YYYY-MM-DD``; timestamps ISO 8601 in UTC.
* Rows may not carry unknown fields (a misspelt argument is a 422, not a silent default).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from xlcredit.core.coerce import to_date_or_none
from xlcredit.core.errors import XlcError

#: Excel keeps at most 32,767 characters in a cell.
MAX_CELL_TEXT = 32_767


def _check_cell(value: Any) -> Any:
    """A cell is text (at most 32,767 characters), a number, true/false or blank; anything else is malformed."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        if len(value) > MAX_CELL_TEXT:
            raise PydanticCustomError("cell_too_long", "must be at most {limit} characters (got {n})",
                                      {"limit": MAX_CELL_TEXT, "n": len(value)})
        return value
    kind = {dict: "an object", list: "a list"}.get(type(value), type(value).__name__)
    raise PydanticCustomError("cell_type", "must be text, a number, true/false or blank (got {kind})", {"kind": kind})


# One cell: text (bounded), a number, true/false, or blank.
Cell = Annotated[Any, PlainValidator(_check_cell), WithJsonSchema(
    {"anyOf": [{"type": "string", "maxLength": MAX_CELL_TEXT}, {"type": "number"}, {"type": "boolean"},
               {"type": "null"}]})]
Money = str   # exact decimal as text in answers


def _as_of_date(value: Any) -> dt.date | None:
    """A request's date by the one date rule (:func:`xlcredit.core.coerce.to_date`); blank → None (today)."""
    try:
        return to_date_or_none(value, "as_of")
    except XlcError as exc:
        raise PydanticCustomError("date", "{problem}", {"problem": exc.problem}) from None


# The date of a request (query, form or body): ISO text, an Excel date number or an unambiguous dd/mm/yyyy.
AsOfDate = Annotated[dt.date | None, PlainValidator(_as_of_date), WithJsonSchema(
    {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]})]


class Row(BaseModel):
    """Base of every batch row: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """An error answer: ``detail`` says what was wrong in words a user can act on."""

    detail: str


class Stale(BaseModel):
    """A 412 answer: the change was based on an older state; ``current`` is the state now, ``etag`` its ETag."""

    detail: str
    etag: str
    current: dict[str, Any]


class ValidationProblem(BaseModel):
    """One malformed part of a request: ``field`` is its path (``rows[3].due_date``)."""

    field: str
    msg: str
    loc: list[str | int] = []
    type: str = ""


class ValidationProblems(BaseModel):
    """A 422 answer: every malformed part of the request."""

    detail: list[ValidationProblem]


class ResultRow(BaseModel):
    """One answer of a batch: ``value`` (what the Excel formula shows) or ``error`` (why not)."""

    model_config = ConfigDict(extra="allow")

    value: Any = None
    error: str | None = None


class BatchResponse(BaseModel):
    """One answer per request row, in the same order."""

    results: list[ResultRow]


# --------------------------------------------------------------------------- API keys, policy, ...
Role = Literal["read", "controller", "admin"]


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[StrictStr, StringConstraints(min_length=1, max_length=200)]
    role: Role


class KeyCreated(BaseModel):
    id: int | None = None
    name: str
    role: str
    key: str = Field(description="the API key — shown only this once; send it as the X-API-Key header")


class KeyInfo(BaseModel):
    id: int
    name: str
    key_prefix: str
    role: str
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None = None


class PolicyRows(BaseModel):
    """The policy as dotted settings (``{"limits.volume_share": "0.15", ...}``), as on the Policy sheet."""

    settings: dict[str, str]


class PolicyChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    settings: dict[Annotated[StrictStr, StringConstraints(max_length=200)],
                   Annotated[StrictStr, StringConstraints(max_length=2000)] | StrictInt | StrictFloat | StrictBool]


class CreditResult(BaseModel):
    customer_id: str
    as_of: dt.date | None = None
    score: int | None = None
    grade: str | None = None
    credit_limit: Money | None = None
    recommended_limit: Money | None = None
    binding_rule: str | None = Field(None, description="machine code of the cap that sets the limit")
    limit_reason: str | None = Field(None, description="the same in words, e.g. '15 % of annual purchases "
                                                       "1,896,000 EUR = 284,400 EUR'")
    open_receivables: Money | None = None
    exposure: Money | None = None
    available: Money | None = None
    terms: str | None = None
    deposit_share: Money | None = None
    dunning_stage: str | None = None
    days_past_due: int | None = None
    overdue_amount: Money | None = None
    bank_guarantee: Money | None = None
    explain: Any = None
    refreshed_at: dt.datetime | None = None


class OrderCheckRequest(BaseModel):
    """An order to check against the customer's credit result of the last refresh (ORDER_CHECK)."""

    model_config = ConfigDict(extra="forbid")
    customer_id: Cell = Field(None, description="customer id as on the Customers sheet")
    amount: Cell = Field(None, description="order amount in company currency (0: would the next order be held?)")
    as_of: AsOfDate = Field(None, description="must be the date of the credit results when given (default: theirs)")


class OrderCheckAnswer(BaseModel):
    """Release or hold, each reason in words with its machine code (``codes[i]`` belongs to ``reasons[i]``)."""

    customer_id: str
    amount: Money
    currency: str
    decision: Literal["release", "hold"]
    status: str = Field(description='what the cell shows: "Release" or "Hold: <reason>; <reason>"')
    reasons: list[str]
    codes: list[Literal["over_limit", "order_stop", "prepayment", "guarantee_short", "cash_in_advance", "deposit"]]
    notes: list[str] = []
    as_of: dt.date | None = None


class RefreshInfo(BaseModel):
    stamp: int
    as_of: dt.date | None = None
    refreshed_at: dt.datetime | None = None
    refreshed_by: str = ""
    source: str = ""
    customer_count: int = 0


class ResultsAnswer(BaseModel):
    refresh: RefreshInfo
    results: list[CreditResult]


class CustomerAnswer(BaseModel):
    result: CreditResult
    customer: dict[str, Any] | None = None


class LimitOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")
    credit_limit: Annotated[StrictStr, StringConstraints(max_length=40)] | StrictInt | StrictFloat
    reason: Annotated[StrictStr, StringConstraints(min_length=1, max_length=2000)]


class SnapshotUpload(BaseModel):
    """A refresh computed elsewhere (e.g. by the Refresh button of a desktop workbook), published to the team."""

    model_config = ConfigDict(extra="forbid")
    as_of: dt.date
    source: Annotated[StrictStr, StringConstraints(max_length=400)] = ""
    customers: list[dict[str, Any]]
    results: list[dict[str, Any]]


class SnapshotDone(BaseModel):
    stamp: int
    customers: int
    results: int


class IssueRequest(BaseModel):
    """One dunning letter or action to write into the collection register."""

    model_config = ConfigDict(extra="forbid")
    customer_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=200)]
    step_index: Annotated[StrictInt, Field(ge=1, le=1000)]
    stage: Annotated[StrictStr, StringConstraints(min_length=1, max_length=200)]
    items: Annotated[list[Annotated[StrictStr, StringConstraints(max_length=200)]], Field(min_length=1,
                                                                                          max_length=10000)]
    kind: Literal["letter", "action"] = "letter"
    as_of: dt.date
    amount: Annotated[StrictStr, StringConstraints(max_length=40)] | StrictInt | None = None
    currency: Annotated[StrictStr, StringConstraints(max_length=3)] = ""
    file_path: Annotated[StrictStr, StringConstraints(max_length=1000)] = ""
    content_hash: Annotated[StrictStr, StringConstraints(max_length=128)] = ""
    resend: StrictBool = False


class RegisterEntry(BaseModel):
    id: int
    customer_id: str
    stage: str
    step_index: int
    kind: str
    as_of: dt.date
    amount: Money | None = None
    currency: str
    items_key: str
    resend: int
    file_path: str
    content_hash: str
    created_at: dt.datetime
    created_by: str


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=200)]
    review_date: dt.date
    grade: Annotated[StrictStr, StringConstraints(max_length=2)] | None = None
    score: Annotated[StrictInt, Field(ge=0, le=100)] | None = None
    credit_limit: Annotated[StrictStr, StringConstraints(max_length=40)] | StrictInt | None = None
    notes: Annotated[StrictStr, StringConstraints(max_length=4000)] = ""


class ReviewEntry(BaseModel):
    id: int
    customer_id: str
    review_date: dt.date
    grade: str | None = None
    score: int | None = None
    credit_limit: Money | None = None
    notes: str
    created_at: dt.datetime
    created_by: str


class AuditEntry(BaseModel):
    id: int
    who: str
    action: str
    entity: str
    before: Any = None
    after: Any = None
    at: dt.datetime


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    schema_version: int
    as_of: dt.date | None = None
    refreshed_at: dt.datetime | None = None
