"""``POST /v1/audit`` (read): the annual policy audit of an uploaded workbook or tables.

Runs the Audit job (:func:`xlcredit.jobs.audit.run_audit`, the same as ``xlcredit audit``) under the team's policy
(policy A) and, when asked, against a second policy: ``against=strict`` (the shipped example) or an uploaded
``against_policy`` TOML file, applied over the team's policy. A name of a file on the server is never read. The
answer is the comparison (policy A, policy B, B − A and what it means), the months, the calibration table and the
bad rows; ``?format=xlsx`` answers the report workbook instead, ``?format=pdf`` the printable report. Nothing is stored.

No ``from __future__ import annotations`` here: FastAPI reads the endpoint signatures at run time.
"""

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from xlcredit.core.errors import XlcError
from xlcredit.io.store import to_json_data
from xlcredit.service.models import AsOfDate
from xlcredit.service.uploads import _client_names, _problems, book_files, uploaded_book

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
MAX_POLICY_BYTES = 256 * 1024


def add_audit_route(app: FastAPI, *, context: Callable[..., Any], settings: Any, reader: Any,
                    responses: dict[int | str, dict[str, Any]]) -> None:
    """Add ``POST /v1/audit`` (see the module docstring)."""
    from xlcredit.jobs.audit import (
        SHIPPED,
        calibration_rows,
        comparison_rows,
        month_rows,
        run_audit,
        write_report,
    )

    @app.post("/v1/audit", tags=["reports"], max_body_size=settings.max_upload_bytes,
              summary="The annual policy audit of an uploaded workbook or tables",
              description="Upload `workbook` or the tables (`customers` and `invoices` required). Replays the ledger "
                          "at every month end from `date_from` to `date_to` under the team's policy and, with "
                          "`against` (`strict`) or an uploaded `against_policy` (.toml), a second policy: what each "
                          "would have decided from what was known then (grade, limit, terms, order holds, dunning "
                          "step) against what happened afterwards (write-offs, invoices unpaid 180 days after due). "
                          "`?format=xlsx` answers the report workbook, `?format=pdf` the printable report.",
              responses={**responses, 200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}},
                                                        PDF: {"schema": {"type": "string", "format": "binary"}}}}})
    def post_audit(_who: Annotated[Any, reader],
                   uploads: Annotated[dict[str, UploadFile | None], Depends(book_files)],
                   date_from: Annotated[AsOfDate, Form(description="first day of the period")] = None,
                   date_to: Annotated[AsOfDate, Form(description="last day of the period")] = None,
                   against: Annotated[str | None, Form(max_length=40, description="policy B: 'strict'")] = None,
                   against_policy: Annotated[UploadFile | None, File(description="policy B as a .toml file")]
                   = None,
                   format: Annotated[Literal["json", "xlsx", "pdf"], Query(description="answer as JSON, .xlsx or .pdf")]
                   = "json",
                   ) -> Response:
        if date_from is None:
            raise XlcError("date_from", "is required: the first day of the period", None)
        if date_to is None:
            raise XlcError("date_to", "is required: the last day of the period", None)
        toml = None
        if against_policy is not None and (against_policy.filename or against_policy.size):
            raw = against_policy.file.read(MAX_POLICY_BYTES + 1)
            if len(raw) > MAX_POLICY_BYTES:
                raise XlcError("against_policy", f"is larger than {MAX_POLICY_BYTES // 1024} KB", None)
            try:
                toml = (Path(against_policy.filename or "policy B").stem, raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise XlcError("against_policy", "is not UTF-8 text", against_policy.filename) from None
        elif against and against.strip().lower() not in SHIPPED:
            raise XlcError("against", f"must be one of {', '.join(SHIPPED)} (or upload against_policy)", against)
        ctx = context()
        with tempfile.TemporaryDirectory(prefix="xlcredit-audit-") as tmp:
            book = uploaded_book(uploads, Path(tmp))
            with _client_names(book.paths, uploads):
                outcome = run_audit(book, date_from, date_to, base_policy=ctx.policy,
                                    against=None if toml else (against or None), against_toml=toml)
            result = outcome.audit
            if format in ("xlsx", "pdf"):
                path = write_report(result, Path(tmp) / f"audit.{format}", source=book.label, notes=outcome.notes)
                name = f"audit-{result.month_ends[0].isoformat()}-{result.month_ends[-1].isoformat()}.{format}"
                return Response(path.read_bytes(), media_type=XLSX if format == "xlsx" else PDF,
                                headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return JSONResponse(to_json_data({
            "date_from": date_from, "date_to": date_to, "source": book.label, "currency": result.currency,
            "month_ends": list(result.month_ends), "observed_to": result.observed_to,
            "policy_a": result.a.name, "policy_b": None if result.b is None else result.b.name,
            "comparison": comparison_rows(result), "months": month_rows(result),
            "calibration": calibration_rows(result), "notes": list(outcome.notes),
            "problems": _problems(outcome.problems), "audit_problems": list(result.problems)}))
