"""The team's HTTP service: the credit engine and the shared credit database as a JSON API.

``create_app(store_url)`` builds the FastAPI application; ``xlcredit serve`` (or
``python -m xlcredit.service``) runs it with uvicorn. Paths are versioned (``/v1/...``); ``/health``
answers without a key; the OpenAPI description is at ``/openapi.json`` and readable at ``/docs``.

Access: every ``/v1`` call carries an API key in the ``X-API-Key`` header (mint one with
``xlcredit keys create NAME --role ROLE --db URL``). Roles: **read** (functions, results, register,
policy) < **controller** (also: set or clear a manual credit limit, write the collection register,
run the letters, record reviews, publish a refresh) < **admin** (also: change the policy, manage keys, read the audit
trail). Every change is written to the audit table with who (the key's name), what, before, after
and when.

Robustness: request bodies are capped (``Settings.max_body_bytes``, uploads
``max_upload_bytes`` → 413), batches are capped at ``max_rows`` rows (413), a request that runs
longer than ``request_timeout`` seconds is answered 503; malformed input is a 422 naming the field
path (``rows[3].due_date``); a per-row problem is an ``{"error": ...}`` row inside a 200 answer.
An internal error is logged and answered 500 with no details — the fuzz test makes sure no input
produces one.

This module deliberately has no ``from __future__ import annotations`` (FastAPI reads the
endpoint signatures at run time).
"""

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Path, Query, Request, Response, Security
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException

import xlcredit
from xlcredit.core.errors import XlcError
from xlcredit.core.money import to_decimal
from xlcredit.core.policy import Policy
from xlcredit.io.store import AlreadyIssued, CreditStore, RequestAlreadyDone, role_allows, to_json_data
from xlcredit.service import models as m
from xlcredit.service.functions import (
    CATALOGUE,
    Context,
    CustomerRecord,
    Function,
    limit_records,
    order_check_answer,
    run_batch,
    score_records,
)
from xlcredit.service.reliability import (
    IdempotencyMiddleware,
    PreconditionFailed,
    RequestLimit,
    check_if_match,
    content_etag,
)

log = logging.getLogger("xlcredit.service")

_MONEY_RESULT_FIELDS = ("credit_limit", "open_receivables", "exposure", "available", "deposit_share", "overdue_amount")


@dataclass(frozen=True)
class Settings:
    """Limits of one service instance (all have safe defaults; ``xlcredit serve`` exposes them as options)."""

    max_body_bytes: int = 10 * 1024 * 1024      # JSON request bodies
    max_upload_bytes: int = 64 * 1024 * 1024    # uploaded ledgers and workbooks
    max_rows: int = 10_000                      # rows per batch request
    request_timeout: float = 60.0               # seconds before a request is answered 503
    pool_size: int = 20                         # database connections kept for the worker threads
    letters_dir: str | None = None              # where POST /v1/letters keeps the letters (None: beside the db)
    max_requests: int = 64                      # requests worked on at once per worker (more wait, then JSON 503)
    queue_seconds: float = 2.0                  # how long a request waits for a place before the 503
    # browser origins allowed to call the service (CORS), e.g. ("https://addin.xlwings.org",) for xlwings Lite
    cors_origins: tuple[str, ...] = ()
    # folder whose xlcredit_lite-*.whl files are served at /lite/ (None: $XLCREDIT_LITE_DIR, else dist/ of the
    # source checkout the service runs from — where `python lite/build_wheel.py` writes the wheel)
    lite_dir: str | None = None


@dataclass(frozen=True)
class Principal:
    """Who is calling: the API key's id, name and role (the name goes into the audit trail)."""

    key_id: int
    name: str
    role: str

    @property
    def who(self) -> str:
        return f"{self.name} (key {self.key_id})"


#: The wheels ``GET /lite/{name}`` serves: ``xlcredit_lite-<version>-py3-none-any.whl`` only.
LITE_WHEEL = re.compile(r"xlcredit_lite-[0-9][0-9A-Za-z.+!_]*-py3-none-any\.whl")


def lite_wheel_folder(configured: str | None) -> FsPath:
    """Where the Lite wheel is served from: the setting, else ``$XLCREDIT_LITE_DIR``, else ``dist/`` of the source
    checkout (``lite/build_wheel.py`` writes it there)."""
    chosen = configured or os.environ.get("XLCREDIT_LITE_DIR", "").strip()
    return FsPath(chosen).expanduser() if chosen else FsPath(__file__).resolve().parents[2] / "dist"


def today() -> dt.date:
    """The clock, read by the service adapter only (the core never reads it)."""
    return dt.date.today()


# =========================================================================== error answers
def field_path(loc: Sequence[Any]) -> str:
    """``("body", "rows", 3, "due_date")`` → ``"rows[3].due_date"`` (the path a user can find)."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where = parts.pop(0)
        if not parts:
            return where
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "body"


def _validation_answer(errors: Sequence[dict[str, Any]]) -> JSONResponse:
    detail = []
    for err in errors:
        loc = [p if isinstance(p, int) else str(p) for p in err.get("loc", ())]
        path = field_path(loc)
        msg = str(err.get("msg", "is not valid"))
        ctx_error = (err.get("ctx") or {}).get("error")
        if err.get("type") == "json_invalid":
            path, msg = "body", f"is not valid JSON ({ctx_error})" if ctx_error else "is not valid JSON"
        detail.append({"field": path, "msg": f"{path}: {msg}", "loc": loc, "type": str(err.get("type", ""))})
    return JSONResponse({"detail": detail}, status_code=422)


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": m.Problem, "description": "No API key, or an unknown or revoked one"},
    403: {"model": m.Problem, "description": "The key's role may not do this"},
    413: {"model": m.Problem, "description": "Request body or batch too large"},
    422: {"model": m.ValidationProblems, "description": "Malformed input; `field` is the path, e.g. rows[3].due_date"},
    503: {"model": m.Problem, "description": "The service is busy (`Retry-After` says when to retry) or the request "
                                             "took longer than the service allows"},
}
#: The answers of a write guarded by If-Match (optimistic concurrency).
PRECONDITION_RESPONSES: dict[int | str, dict[str, Any]] = {
    412: {"model": m.Stale, "description": "If-Match names an older state: `current` and `etag` are the state now"},
    428: {"model": m.Problem, "description": "No If-Match header: read the resource first and send its ETag"},
}
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=1000,
                                       description="The ETag of the state this change is based on (from the GET)")]


def _need_if_match(if_match: str | None, what: str) -> str:
    if if_match is None or not if_match.strip():
        raise HTTPException(428, f"If-Match: missing; read {what} first and send its ETag back in If-Match "
                                 "(a change is made only to the state it was based on)")
    return if_match


# =========================================================================== middleware
class TimeoutMiddleware:
    """Answer 503 when a request runs longer than ``seconds`` (the work itself may finish in the background)."""

    EXEMPT = ("/health", "/docs", "/openapi.json", "/redoc")

    def __init__(self, app: Callable[..., Awaitable[None]], seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http" or self.seconds <= 0 or scope.get("path") in self.EXEMPT:
            await self.app(scope, receive, send)
            return
        started = False
        timed_out = False

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal started
            if timed_out:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        done, _ = await asyncio.wait({task}, timeout=self.seconds)
        if task in done or started:
            await task
            return
        timed_out = True
        task.add_done_callback(_swallow)
        task.cancel()
        response = _problem(503, f"the request took longer than {self.seconds:g} s: send smaller batches")
        await response(scope, receive, send)


def _swallow(task: "asyncio.Future[Any]") -> None:
    with contextlib.suppress(BaseException):
        task.exception()


# =========================================================================== the application
def create_app(store_url: str, policy: Policy | None = None, *, settings: Settings | None = None,
               rates: Any = None, store: CreditStore | None = None) -> FastAPI:
    """The service over the credit database at ``store_url`` (SQLite file or PostgreSQL URL).

    ``policy``: used while the database holds no policy of its own (default: the shipped policy);
    once an admin stores one (``PUT /v1/policy``) the stored policy is in force. ``rates``: the
    reference-rate tables for statutory interest (default: the shipped tables). ``store``: an
    already open :class:`CreditStore` (tests).
    """
    cfg = settings or Settings()
    db = store or CreditStore(store_url, stamp_ttl=0, pool_size=cfg.pool_size)
    fallback_policy = policy
    cached: dict[str, Any] = {"rows": None, "policy": None}

    def current_policy() -> Policy:
        rows = db.policy_rows()
        if not rows:
            nonlocal fallback_policy
            if fallback_policy is None:
                from xlcredit.io.policy_file import load_policy

                fallback_policy = load_policy()
            return fallback_policy
        if rows != cached["rows"]:
            cached["policy"], cached["rows"] = Policy.from_rows(rows), rows
        return cached["policy"]

    def context(as_of: m.AsOfDate = None) -> Context:
        return Context(load_policy=current_policy, store=db, today=today(), as_of=as_of, _rates=rates)

    app = FastAPI(
        title="xlcredit", version=xlcredit.__version__,
        summary="Credit control engine and shared credit database (scores, limits, terms, ageing, dunning).",
        description=__doc__.split("\n\n", 1)[0], max_body_size=cfg.max_body_bytes,
        docs_url=None, redoc_url=None,   # served offline below (xlcredit.service.docs)
    )
    from xlcredit.service.docs import add_offline_docs

    add_offline_docs(app)
    app.state.store = db
    app.state.settings = cfg
    app.add_middleware(TimeoutMiddleware, seconds=cfg.request_timeout)
    # answers of more than 1 KB are gzip-compressed for clients that accept it (httpx, browsers, curl
    # --compressed): the results of 10,000 customers are ~8 MB of JSON, ~0.8 MB compressed
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    # an idempotency key with no kept answer after the request timeout and the write lock's wait never gets one
    # (its server stopped between the change and the answer): answered 409 without Retry-After from then on
    # outermost last: the request limit holds back a request before anything else works on it
    app.add_middleware(IdempotencyMiddleware, store=db, answer_within=cfg.request_timeout + 30.0)
    app.add_middleware(RequestLimit, limit=cfg.max_requests, queue_seconds=cfg.queue_seconds)
    if cfg.cors_origins:   # only the listed origins (xlwings Lite: https://addin.xlwings.org) get CORS headers
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cfg.cors_origins), allow_methods=["*"],
                           allow_headers=["X-API-Key", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key"],
                           expose_headers=["ETag", "Retry-After"])

    @app.exception_handler(RequestValidationError)
    async def _on_validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_answer(exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def _on_http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # a body that is not text (bad UTF-8) or not parseable at all: malformed input
            return JSONResponse({"detail": [{"field": "body", "msg": f"body: cannot be read ({exc.detail})",
                                             "loc": ["body"], "type": "body_unreadable"}]}, status_code=422)
        return await http_exception_handler(request, exc)

    @app.exception_handler(XlcError)
    async def _on_xlc(_request: Request, exc: XlcError) -> JSONResponse:
        return JSONResponse({"detail": [{"field": exc.field, "msg": str(exc), "loc": ["body", exc.field],
                                         "type": "value_error"}]}, status_code=422)

    @app.exception_handler(PreconditionFailed)
    async def _on_stale(_request: Request, exc: PreconditionFailed) -> JSONResponse:
        return JSONResponse({"detail": f"If-Match: {exc.what} was changed since you read it; here is the current "
                                       "state and its ETag — redo the change on it", "etag": exc.etag,
                             "current": to_json_data(exc.current)}, status_code=412, headers={"ETag": exc.etag})

    @app.exception_handler(RequestAlreadyDone)
    async def _on_repeat(_request: Request, _exc: RequestAlreadyDone) -> JSONResponse:
        # the idempotency middleware answers with the first request's answer instead of this one
        return _problem(409, "Idempotency-Key: a request with this key was already carried out")

    @app.exception_handler(Exception)
    async def _on_bug(_request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - fuzzed for
        log.exception("internal error", exc_info=exc)
        return _problem(500, "internal error (logged on the server)")

    # ------------------------------------------------------------------ access
    key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="API key minted with `xlcredit keys create NAME --role ROLE`")

    def require(role: str) -> Callable[..., Principal]:
        def check(key: Annotated[str | None, Security(key_header)] = None) -> Principal:
            found = db.api_key_identity(key)
            if found is None:
                raise HTTPException(401, "X-API-Key: missing, unknown or revoked API key",
                                    headers={"WWW-Authenticate": "APIKey"})
            if not role_allows(found["role"], role):
                raise HTTPException(403, f"this needs the {role} role; the key {found['name']!r} has the "
                                    f"{found['role']} role")
            return Principal(found["id"], found["name"], found["role"])

        return check

    reader = Depends(require("read"))
    controller = Depends(require("controller"))
    admin = Depends(require("admin"))
    ReaderP = Annotated[Principal, reader]
    ControllerP = Annotated[Principal, controller]
    AdminP = Annotated[Principal, admin]

    def check_rows(n: int) -> None:
        if n > cfg.max_rows:
            raise HTTPException(413, f"rows: at most {cfg.max_rows} rows per request (got {n}); split the batch")

    # ------------------------------------------------------------------ health
    @app.get("/health", response_model=m.Health, tags=["service"], summary="Is the service up?")
    def health() -> dict[str, Any]:
        info = db.refresh_info()
        return {"status": "ok", "version": app.version, "schema_version": db.schema_version(),
                "as_of": info["as_of"], "refreshed_at": info["refreshed_at"]}

    # ------------------------------------------------------------------ the xlwings Lite wheel
    lite_folder = lite_wheel_folder(cfg.lite_dir)

    @app.get("/lite/{name}", tags=["service"], response_class=FileResponse,
             responses={404: {"model": m.Problem, "description": "Not a wheel this service hosts"}},
             summary="The xlcredit-lite wheel for xlwings Lite's requirements.txt (no key: it holds code, no data)")
    def lite_wheel(name: Annotated[str, Path(max_length=200)]) -> Any:
        found = lite_folder / name
        if not LITE_WHEEL.fullmatch(name) or not found.is_file():
            return _problem(404, f"name: {name!r} is not a wheel this service hosts (build it with python "
                                 "lite/build_wheel.py, or set XLCREDIT_LITE_DIR)")
        return FileResponse(found, media_type="application/zip", filename=name)

    # ------------------------------------------------------------------ the function catalogue
    fn_router = APIRouter(prefix="", tags=["functions"], responses=COMMON_RESPONSES)
    for fn in CATALOGUE:
        _add_function_route(fn_router, fn, context, check_rows, reader)

    class RecordBatch(BaseModel):
        model_config = {"extra": "forbid"}
        as_of: m.AsOfDate = Field(None, description="date of the assessment (default: today)")
        rows: list[CustomerRecord]  # type: ignore[valid-type]

    @fn_router.post("/v1/score", response_model=m.BatchResponse, summary="Score customer records",
                    description="Each row is a customer record (the documented customers columns); "
                                "`value` is the 0–100 score, with grade and the factor lines.")
    def score(body: RecordBatch, _p: ReaderP) -> JSONResponse:
        check_rows(len(body.rows))
        return JSONResponse({"results": score_records(body.rows, context(body.as_of))})

    @fn_router.post("/v1/limits", response_model=m.BatchResponse,
                    summary="Score, credit limit, terms and deposit of customer records",
                    description="Single-customer caps of the policy (the portfolio cap needs the whole book "
                                "and is applied by the refresh); `value` is the limit.")
    def limits(body: RecordBatch, _p: ReaderP) -> JSONResponse:
        check_rows(len(body.rows))
        return JSONResponse({"results": limit_records(body.rows, context(body.as_of))})

    app.include_router(fn_router)

    # ------------------------------------------------------------------ results
    data = APIRouter(tags=["credit database"], responses=COMMON_RESPONSES)

    @data.get("/v1/results", response_model=m.ResultsAnswer, summary="Every customer's credit result",
              description="Answers with an `ETag` naming the snapshot; sent back in `If-None-Match`, it gets "
                          "`304 Not Modified` and no body while no refresh or limit change has happened since "
                          "(UDF remote mode asks this way at every recalculation).",
              responses={304: {"description": "Nothing changed since the snapshot named in If-None-Match"}})
    def results(_p: ReaderP, if_none_match: Annotated[str | None, Header(max_length=1000)] = None) -> Response:
        info, view = db.results_view()
        etag = results_etag(info)
        if etag_matches(if_none_match, etag):
            return Response(status_code=304, headers={"ETag": etag})
        body = to_json_data({"refresh": info, "results": [dict(row) for row in view.values()]})
        return JSONResponse(body, headers={"ETag": etag})

    @data.get("/v1/customers/{customer_id}", response_model=m.CustomerAnswer,
              responses={404: {"model": m.Problem}}, summary="One customer's credit result and input row")
    def customer(customer_id: Annotated[str, Path(max_length=200)], _p: ReaderP) -> JSONResponse:
        found, row = db.customer_answer(customer_id)    # one read transaction: result and input row agree
        if found is None:
            raise HTTPException(404, f"customer: {customer_id} is not in the credit database")
        return JSONResponse(to_json_data({"result": found, "customer": row}), headers={"ETag": content_etag(found)})

    @data.post("/v1/orders/check", response_model=m.OrderCheckAnswer, summary="Check a new order (ORDER_CHECK)",
               description="Release or hold an order of `amount` (company currency) for the customer, on its credit "
                           "result of the last refresh (a manual limit counts) under the policy in force: "
                           "`reasons` in words, `codes` the machine code of each. A bad amount or an unknown "
                           "customer is a 422 in the words the cell shows after #XLC!.")
    def check_order(body: m.OrderCheckRequest, _p: ReaderP) -> dict[str, Any]:
        ctx = context()
        answer = order_check_answer(body.customer_id, body.amount, ctx)
        if body.as_of is not None and answer["as_of"] is not None and body.as_of != answer["as_of"]:
            raise XlcError("as_of", f"the credit results are as of {answer['as_of'].isoformat()}, not "
                           f"{body.as_of.isoformat()}: refresh the credit database as of that date first", body.as_of)
        answer.pop("value")
        return to_json_data(answer)

    def limit_guard(customer_id: str, if_match: str) -> Callable[[dict[str, Any] | None], None]:
        """The If-Match check of a limit change, run under the write lock on the customer's result as stored."""
        def expect(current: dict[str, Any] | None) -> None:
            if current is None:
                raise HTTPException(404, f"customer: {customer_id} is not in the credit database")
            check_if_match(if_match, content_etag(current), {"result": current}, f"customer {customer_id}")
        return expect

    @data.put("/v1/customers/{customer_id}/limit", response_model=m.CreditResult,
              responses={404: {"model": m.Problem}, **PRECONDITION_RESPONSES},
              summary="Set a manual credit limit (controller)",
              description="Kept across refreshes until cleared; `available` is recomputed; audited. Send the "
                          "`ETag` of `GET /v1/customers/{id}` in `If-Match`: a limit changed meanwhile by someone "
                          "else is answered 412 with the current result and ETag. The answer's `ETag` is the new "
                          "one.")
    def set_limit(customer_id: Annotated[str, Path(max_length=200)], body: m.LimitOverride,
                  who: ControllerP, if_match: IfMatch = None) -> JSONResponse:
        tag = _need_if_match(if_match, f"GET /v1/customers/{customer_id}")
        amount = to_decimal(body.credit_limit, "credit_limit")
        row = db.set_limit_override(customer_id, amount, body.reason, who.who, expect=limit_guard(customer_id, tag))
        return JSONResponse(to_json_data(row), headers={"ETag": content_etag(row)})

    @data.delete("/v1/customers/{customer_id}/limit", status_code=204, response_class=Response,
                 responses={404: {"model": m.Problem}, **PRECONDITION_RESPONSES},
                 summary="Clear a manual credit limit (controller)",
                 description="Send the `ETag` of `GET /v1/customers/{id}` in `If-Match` (412 when stale).")
    def clear_limit(customer_id: Annotated[str, Path(max_length=200)], who: ControllerP,
                    if_match: IfMatch = None) -> Response:
        tag = _need_if_match(if_match, f"GET /v1/customers/{customer_id}")
        if not db.clear_limit_override(customer_id, who.who, expect=limit_guard(customer_id, tag)):
            raise HTTPException(404, f"customer: {customer_id} has no manual limit")
        return Response(status_code=204)

    @data.post("/v1/snapshot", response_model=m.SnapshotDone, status_code=201,
               summary="Publish a refresh computed elsewhere (controller)",
               description="Replaces every customer and result in one transaction (readers see the old or the "
                           "new snapshot, never a mix). Money as exact decimal text.")
    def publish(body: m.SnapshotUpload, who: ControllerP) -> dict[str, Any]:
        check_rows(max(len(body.customers), len(body.results)))
        rows = []
        for i, raw in enumerate(body.results):
            row = dict(raw)
            for name in _MONEY_RESULT_FIELDS:
                if row.get(name) is not None:
                    row[name] = to_decimal(row[name], f"results[{i}].{name}")
            rows.append(row)
        stamp = db.replace_snapshot(body.as_of, body.customers, rows, who.who, source=body.source)
        return {"stamp": stamp, "customers": len(body.customers), "results": len(rows)}

    # ------------------------------------------------------------------ policy
    basis_of_tables: dict[str, str] = {}

    def calculation_basis(settings: dict[str, str]) -> str:
        """The ETag of the policy answer: a digest of the policy in force, the engine's version and the
        reference-rate tables — everything a pure function's answer depends on besides its arguments."""
        if not basis_of_tables:
            from xlcredit.io.rates import shipped_reference_rates

            tables = rates if rates is not None else shipped_reference_rates()
            basis_of_tables["digest"] = f"{xlcredit.__version__}|{tables!r}"
        text = basis_of_tables["digest"] + "|" + "\n".join(f"{k}={v}" for k, v in sorted(settings.items()))
        return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'

    @data.get("/v1/policy", response_model=m.PolicyRows, summary="The credit policy in force",
              description="Answers with an `ETag` naming the calculation basis — this policy, the engine's "
                          "version and its reference-rate tables; sent back in `If-None-Match`, it gets `304 Not "
                          "Modified` while none of them changed (UDF remote mode keeps the answers of pure "
                          "formulas while it holds).",
              responses={304: {"description": "The policy, engine and rate tables are those named in If-None-Match"}})
    def get_policy(_p: ReaderP, if_none_match: Annotated[str | None, Header(max_length=1000)] = None) -> Response:
        settings = {k: _setting_text(v) for k, v in current_policy().to_rows()}
        etag = calculation_basis(settings)
        if etag_matches(if_none_match, etag):
            return Response(status_code=304, headers={"ETag": etag})
        return JSONResponse({"settings": settings}, headers={"ETag": etag})

    def policy_guard(if_match: str) -> Callable[[list[tuple[str, str]]], None]:
        """The If-Match check of a policy change, run under the write lock on the policy as stored."""
        def expect(rows: list[tuple[str, str]]) -> None:
            in_force = Policy.from_rows(rows) if rows else current_policy()
            settings = {k: _setting_text(v) for k, v in in_force.to_rows()}
            check_if_match(if_match, calculation_basis(settings), {"settings": settings}, "the policy")
        return expect

    def policy_answer(new: Policy) -> JSONResponse:
        settings = {k: _setting_text(v) for k, v in new.to_rows()}
        return JSONResponse({"settings": settings}, headers={"ETag": calculation_basis(settings)})

    @data.put("/v1/policy", response_model=m.PolicyRows, summary="Replace the policy (admin)",
              responses=PRECONDITION_RESPONSES,
              description="Settings not given take the shipped defaults. Validated first; the changed "
                          "settings are audited. Send the `ETag` of `GET /v1/policy` in `If-Match` (412 with the "
                          "policy in force when someone changed it meanwhile).")
    def put_policy(body: m.PolicyChange, who: AdminP, if_match: IfMatch = None) -> JSONResponse:
        tag = _need_if_match(if_match, "GET /v1/policy")
        new = db.set_policy(list(body.settings.items()), who.who, previous=current_policy(),
                            expect=policy_guard(tag))
        return policy_answer(new)

    @data.patch("/v1/policy", response_model=m.PolicyRows, summary="Change some policy settings (admin)",
                responses=PRECONDITION_RESPONSES,
                description="Send the `ETag` of `GET /v1/policy` in `If-Match` (412 when stale).")
    def patch_policy(body: m.PolicyChange, who: AdminP, if_match: IfMatch = None) -> JSONResponse:
        tag = _need_if_match(if_match, "GET /v1/policy")
        base = current_policy()
        new = Policy.from_rows(list(body.settings.items()), base=base)
        db.set_policy(new, who.who, previous=base, expect=policy_guard(tag))
        return policy_answer(new)

    # ------------------------------------------------------------------ collection register
    from xlcredit.service.letters import letters_folder, relative_entry

    register_folder = letters_folder(db, cfg.letters_dir)

    @data.get("/v1/register", response_model=list[m.RegisterEntry], summary="The collection register",
              description="`file_path` is relative to the service's letters folder (a file kept elsewhere: its name "
                          "only); the server's own folders are never shown.")
    def get_register(_p: ReaderP, customer_id: Annotated[str | None, Query(max_length=200)] = None
                     ) -> list[dict[str, Any]]:
        return to_json_data([relative_entry(r, register_folder) for r in db.register_rows(customer_id)])

    @data.post("/v1/register", response_model=m.RegisterEntry, status_code=201,
               responses={409: {"model": m.Problem, "description": "Already issued for these items"}},
               summary="Record a dunning letter or action (controller)",
               description="The same stage is issued once per customer and set of overdue items; send it "
                           "again with `resend: true`.")
    def post_register(body: m.IssueRequest, who: ControllerP) -> Any:
        amount = None if body.amount is None else to_decimal(body.amount, "amount")
        try:
            entry = db.record_issue(body.customer_id, body.step_index, body.stage, body.items, as_of=body.as_of,
                                    amount=amount, currency=body.currency, kind=body.kind, file_path=body.file_path,
                                    content_hash=body.content_hash, who=who.who, resend=body.resend)
        except AlreadyIssued as exc:
            return _problem(409, str(exc))
        return to_json_data(relative_entry(entry, register_folder))

    # ------------------------------------------------------------------ reviews
    @data.get("/v1/reviews", response_model=list[m.ReviewEntry], summary="Recorded credit reviews")
    def get_reviews(_p: ReaderP, customer_id: Annotated[str | None, Query(max_length=200)] = None
                    ) -> list[dict[str, Any]]:
        return to_json_data(db.reviews(customer_id))

    @data.post("/v1/reviews", response_model=m.ReviewEntry, status_code=201,
               summary="Record a credit review (controller)")
    def post_review(body: m.ReviewRequest, who: ControllerP) -> dict[str, Any]:
        limit = None if body.credit_limit is None else to_decimal(body.credit_limit, "credit_limit")
        new_id = db.record_review(body.customer_id, body.review_date, body.grade, body.score, limit, body.notes,
                                  who=who.who)
        return to_json_data(next(r for r in db.reviews(body.customer_id) if r["id"] == new_id))

    app.include_router(data)

    # ------------------------------------------------------------------ administration
    adm = APIRouter(tags=["administration"], responses=COMMON_RESPONSES)

    @adm.get("/v1/audit", response_model=list[m.AuditEntry], summary="The audit trail (admin)")
    def get_audit(_p: AdminP, entity: Annotated[str | None, Query(max_length=200)] = None,
                  limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[dict[str, Any]]:
        return to_json_data(db.audit_rows(entity=entity, limit=limit))

    @adm.get("/v1/keys", response_model=list[m.KeyInfo], summary="API keys (admin; never the keys themselves)")
    def get_keys(_p: AdminP) -> list[dict[str, Any]]:
        return db.api_keys()

    @adm.post("/v1/keys", response_model=m.KeyCreated, status_code=201, summary="Mint an API key (admin)")
    def post_key(body: m.KeyCreate, who: AdminP) -> dict[str, Any]:
        key = db.create_api_key(body.name, body.role, who=who.who)
        found = db.api_key_identity(key)
        return {"id": found["id"] if found else None, "name": body.name, "role": body.role, "key": key}

    @adm.delete("/v1/keys/{key_id}", status_code=204, response_class=Response,
                responses={404: {"model": m.Problem}, 409: {"model": m.Problem}}, summary="Revoke an API key (admin)")
    def delete_key(key_id: Annotated[int, Path(ge=1, le=2**62)], who: AdminP) -> Response:
        if key_id == who.key_id:
            return _problem(409, "key_id: you cannot revoke the key you are using (use another admin key)")
        if not db.revoke_api_key(key_id, who.who):
            raise HTTPException(404, f"key_id: no active key {key_id}")
        return Response(status_code=204)

    app.include_router(adm)

    # ------------------------------------------------------------------ uploads (ledger ageing, refresh)
    from xlcredit.service.uploads import add_upload_routes

    add_upload_routes(app, db=db, context=context, settings=cfg, reader=reader, controller=controller,
                      responses=COMMON_RESPONSES)

    from xlcredit.service.letters import add_letters_route

    add_letters_route(app, db=db, context=context, settings=cfg, reader=reader, controller=controller,
                      responses=COMMON_RESPONSES)

    from xlcredit.service.statements import add_statement_routes

    add_statement_routes(app, db=db, context=context, settings=cfg, controller=controller, responses=COMMON_RESPONSES)

    from xlcredit.service.audit import add_audit_route

    add_audit_route(app, context=context, settings=cfg, reader=reader, responses=COMMON_RESPONSES)

    from xlcredit.service.bank import add_bank_routes

    add_bank_routes(app, context=context, settings=cfg, reader=reader, controller=controller,
                    responses=COMMON_RESPONSES, db=db)

    from xlcredit.service.collector import add_collector_routes

    add_collector_routes(app, db=db, today=lambda: today(), reader=reader, controller=controller,
                         responses=COMMON_RESPONSES)
    return app


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` — by weak comparison (RFC 9110 §13.1.2), so an ETag a
    compressing proxy marked weak (``W/"…"``) still matches; ``*`` matches any."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


def results_etag(info: dict[str, Any]) -> str:
    """The ``ETag`` of a results snapshot: its refresh stamp (bumped by every change to the results) and the
    time of the last refresh (so a database recreated from scratch, whose stamp starts again, differs)."""
    at = info.get("refreshed_at")
    micros = int(at.timestamp() * 1_000_000) if isinstance(at, dt.datetime) else 0
    return f'"{int(info.get("stamp") or 0)}.{micros}"'


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return "" if value is None else str(value)


def _add_function_route(router: APIRouter, fn: Function, context: Callable[..., Context],
                        check_rows: Callable[[int], None], reader: Any) -> None:
    batch = create_model(f"{fn.name.title().replace('_', '')}Batch", __config__={"extra": "forbid"},
                         rows=(list[fn.row], ...))  # type: ignore[valid-type]
    kind = "Reads the credit database as the last refresh left it." if fn.customer_level else \
        "A pure function of its arguments."

    def endpoint(body: batch, _p: Annotated[Principal, reader]) -> JSONResponse:  # type: ignore[valid-type]
        check_rows(len(body.rows))
        return JSONResponse({"results": run_batch(fn, body.rows, context())})

    endpoint.__name__ = fn.name.lower()
    router.add_api_route(fn.path, endpoint, methods=["POST"], response_model=m.BatchResponse,
                         summary=f"{fn.name}: {fn.summary}",
                         description=f"One answer row per request row: `{{\"value\": ...}}` or "
                                     f"`{{\"error\": \"<field>: <problem>\"}}`. {kind}")


__all__ = ["Principal", "Settings", "create_app", "field_path"]
