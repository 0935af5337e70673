"""``POST /v1/statements`` and ``POST /v1/send`` (controller): statements of account and sending by e-mail.

``POST /v1/statements`` runs the Statements job (:func:`xlcredit.jobs.statements.run_statements`, the same as
``xlcredit statements`` and the workbook's button) over an uploaded workbook or tables under the team's policy:
the statements are written into the service's letters folder (the one ``POST /v1/letters`` uses) and recorded
in the team's collection register, so that ``POST /v1/send`` can deliver them; ``?format=zip`` answers the
files of this run.

``POST /v1/send`` runs the Send job (:func:`xlcredit.jobs.send.run_send`) on that letters folder: the e-mail
addresses and languages are the customers the last refresh stored; the mail server is the service's
environment (``XLCREDIT_SMTP_*``, the password only from ``XLCREDIT_SMTP_PASSWORD``) over the team policy's
``[send]`` section — without one the messages become .eml drafts in ``drafts`` of the letters folder. One send
run at a time per service process; the register's delivery records keep runs of several processes from sending
the same letter twice.

No ``from __future__ import annotations`` here: FastAPI reads the endpoint signatures at run time.
"""

import dataclasses
import datetime as dt
import io
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from xlcredit.core.errors import XlcError
from xlcredit.io.store import CreditStore, to_json_data
from xlcredit.service.letters import _relative, letters_folder
from xlcredit.service.models import AsOfDate
from xlcredit.service.uploads import ProblemRow, _client_names, _problems, book_files, uploaded_book

ZIP = "application/zip"


class StatementRow(BaseModel):
    """One customer's statement in the run (files named inside the letters folder)."""

    customer_id: str
    name: str
    language: str
    date_from: dt.date
    date_to: dt.date
    closing: str
    amount: str | None
    currency: str
    status: str
    docx: str
    pdf: str
    content_hash: str


class StatementsAnswer(BaseModel):
    """What the statements run did."""

    date_from: dt.date
    date_to: dt.date
    source: str
    dry_run: bool
    counts: dict[str, int]
    results: list[StatementRow]
    problems: list[ProblemRow]


class SendRequest(BaseModel):
    """A send run: as of a date (default today), or only what would go."""

    model_config = {"extra": "forbid"}
    as_of: AsOfDate = Field(None, description="send what was written on or before this date (default: today)")
    dry_run: bool = Field(False, description="list what would go; nothing is sent or written")
    retry_unconfirmed: bool = Field(False, description="send again messages whose sending was interrupted")


class SendRow(BaseModel):
    """One register entry in the send run and what happened to it."""

    register_id: int
    customer_id: str
    name: str
    kind: str
    stage: str
    as_of: dt.date
    language: str
    recipient: str
    status: str
    message_id: str
    code: int | None
    detail: str


class SendAnswer(BaseModel):
    """What the send run did (``channel``: smtp or draft)."""

    as_of: dt.date
    channel: str
    dry_run: bool
    counts: dict[str, int]
    reconciled: list[str]
    results: list[SendRow]


def add_statement_routes(app: FastAPI, *, db: CreditStore, context: Callable[..., Any], settings: Any,
                         controller: Any, responses: dict[int | str, dict[str, Any]]) -> None:
    """Add ``POST /v1/statements`` and ``POST /v1/send`` (see the module docstring)."""
    from xlcredit.jobs.send import contacts_from_rows, run_send, smtp_settings
    from xlcredit.jobs.statements import run_statements

    folder = letters_folder(db, settings.letters_dir)
    one_send = threading.Lock()

    @app.post("/v1/statements", tags=["letters"], response_model=StatementsAnswer,
              max_body_size=settings.max_upload_bytes,
              summary="Statements of account from an uploaded workbook or tables (controller)",
              description="Upload `workbook` or the tables (`customers` and `invoices` required). Writes a statement "
                          "of account (.docx and .pdf, in the customer's language: opening balance, invoices, "
                          "payments, credit notes, closing balance, open items, ageing) for every customer with a "
                          "balance or activity from `date_from` to `date_to` (or only `customer`) into the letters "
                          "folder and records it in the collection register (once per content). `?format=zip` "
                          "answers the files of this run.",
              responses={**responses, 200: {"content": {ZIP: {"schema": {"type": "string", "format": "binary"}}}}})
    def statements(who: Annotated[Any, controller],
                   uploads: Annotated[dict[str, UploadFile | None], Depends(book_files)],
                   date_from: Annotated[AsOfDate, Form(description="first day of the period")] = None,
                   date_to: Annotated[AsOfDate, Form(description="last day of the period")] = None,
                   customer: Annotated[str | None, Form(max_length=200, description="only this customer")] = None,
                   dry_run: Annotated[bool, Form(description="decide and report only: no files, no register")]
                   = False,
                   format: Annotated[Literal["json", "zip"], Query(description="answer as JSON or a zip")] = "json",
                   ) -> Response:
        if date_from is None:
            raise XlcError("date_from", "is required: the first day of the period", None)
        if date_to is None:
            raise XlcError("date_to", "is required: the last day of the period", None)
        ctx = context()
        with tempfile.TemporaryDirectory(prefix="xlcredit-statements-") as tmp:
            book = uploaded_book(uploads, Path(tmp))
            with _client_names(book.paths, uploads):
                outcome = run_statements(book, date_from, date_to, folder, customer=customer or None, store=db,
                                         base_policy=ctx.policy, dry_run=dry_run, who=who.who)
        rows = []
        for r in outcome.results:
            row = dataclasses.asdict(r)
            row["docx"], row["pdf"] = _relative(r.docx, folder), _relative(r.pdf, folder)
            rows.append(row)
        counts: dict[str, int] = {}
        for r in outcome.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        if format == "zip":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for r, row in zip(outcome.results, rows, strict=True):
                    for kind in ("docx", "pdf"):
                        if r.status == "written" and getattr(r, kind):
                            archive.write(getattr(r, kind), row[kind])
            name = f"statements-{date_from.isoformat()}-{date_to.isoformat()}.zip"
            return Response(buffer.getvalue(), media_type=ZIP,
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return JSONResponse(to_json_data({"date_from": date_from, "date_to": date_to, "source": book.label,
                                          "dry_run": dry_run, "counts": counts, "results": rows,
                                          "problems": _problems(outcome.problems)}))

    @app.post("/v1/send", tags=["letters"], response_model=SendAnswer, responses=responses,
              summary="E-mail the due letters and statements (controller)",
              description="Sends every letter and statement of the service's letters folder that has not gone yet "
                          "(the customer's latest of each kind) to the customer's e-mail address, the PDF attached, "
                          "in the customer's language. Each message is recorded with its Message-ID before and after "
                          "it goes, so nothing is sent twice, also after a crash (an interrupted message is held "
                          "back as unconfirmed until `retry_unconfirmed`). Mail server: the service's "
                          "XLCREDIT_SMTP_* environment over the policy's send settings; without one, .eml drafts.")
    def send(body: SendRequest, who: Annotated[Any, controller]) -> JSONResponse:
        ctx = context()
        day = body.as_of or ctx.today
        policy = ctx.policy
        if not folder.is_dir():
            raise XlcError("letters", "the service has written no letters yet (POST /v1/letters first)", None)
        with one_send:
            outcome = run_send(db, folder, day, contacts_from_rows(db.customer_rows()), policy,
                               smtp_settings(policy), dry_run=body.dry_run,
                               retry_unconfirmed=body.retry_unconfirmed, who=who.who)
        counts: dict[str, int] = {}
        for r in outcome.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        rows = [{k: v for k, v in dataclasses.asdict(r).items() if k != "file"} for r in outcome.results]
        return JSONResponse(to_json_data({"as_of": day, "channel": outcome.channel, "dry_run": body.dry_run,
                                          "counts": counts, "reconciled": list(outcome.reconciled),
                                          "results": rows}))
