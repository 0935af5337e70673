"""``POST /v1/bank/match`` (read) and ``POST /v1/bank/apply`` (controller): cash application over HTTP.

Both take an uploaded book (the workbook, or the tables one by one), one or more ``statements`` (CAMT.053/054,
MT940, bank CSV) and optionally ``accounts`` (the customers' bank accounts: customer_id, iban, name). ``match``
answers the proposals of :func:`xlcredit.jobs.cashapp.run_match` (the same job as ``xlcredit match``); ``apply``
answers the uploaded payments table with the confident matches appended (``invoice_ref`` and ``bank_reference``;
a bank reference already in the table is never added again, so applying the same statement twice adds nothing),
as CSV — optionally only the bank references listed in ``accept``. A confident match without a bank reference of its
own is not applied (as by the Apply Matches button and ``xlcredit match --apply``) and is named in the answer's
``X-Not-Applied-Transactions`` header, in their words. Nothing is stored on the server; a payment quoting
the reference of a letter the service issued (its register) is matched to exactly that letter's invoices.

No ``from __future__ import annotations`` here: FastAPI reads the endpoint signatures at run time.
"""

import json
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, UploadFile
from fastapi.responses import JSONResponse, Response

from xlcredit.core.errors import XlcError
from xlcredit.io.store import to_json_data
from xlcredit.service.models import AsOfDate
from xlcredit.service.uploads import _client_names, _problems, book_files, uploaded_book

MAX_STATEMENTS = 20
#: At most this many unapplied matches are named in the X-Not-Applied-Transactions header (≈ 350 bytes each):
#: proxies refuse answers whose headers pass a few kilobytes (nginx: 4–8 KB by default).
NOT_APPLIED_NAMED = 10

#: The headers of ``POST /v1/bank/apply``'s answer beside the CSV body, as documented in the OpenAPI schema.
APPLY_HEADERS: dict[str, dict[str, Any]] = {
    "X-Rows-Added": {"description": "payment rows appended to the table", "schema": {"type": "string"}},
    "X-Not-Applied": {"description": "confident matches not applied because the statement gives them no bank "
                                     "reference of their own", "schema": {"type": "string"}},
    "X-Not-Applied-Transactions": {
        "description": "a JSON list (non-ASCII characters escaped) naming each confident match not applied, in the "
                       "words of the Apply Matches button and `xlcredit match --apply`: \"not applied: <file> line "
                       "<n> (<date>, <amount> <currency>, <payer>): no bank reference, … enter it in the Payments "
                       "table by hand …\" — the first 10, then \"… and <n> more: …\"", "schema": {"type": "string"}},
}


def _save_statements(statements: list[UploadFile], folder: Path) -> list[Path]:
    """Each statement under its own client file name (letters, digits, dot, dash), so sources read naturally."""
    if not statements:
        raise XlcError("statements", "are missing: upload at least one bank statement file", None)
    if len(statements) > MAX_STATEMENTS:
        raise XlcError("statements", f"at most {MAX_STATEMENTS} files at once", len(statements))
    paths = []
    for i, upload in enumerate(statements, start=1):
        name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(upload.filename or f"statement-{i}").name).lstrip(".") \
            or f"statement-{i}"
        (folder / f"s{i}").mkdir()
        path = folder / f"s{i}" / name
        with path.open("wb") as out:
            shutil.copyfileobj(upload.file, out, length=1024 * 1024)
        paths.append(path)
    return paths


def add_bank_routes(app: FastAPI, *, context: Callable[..., Any] | None = None, settings: Any, reader: Any,
                    controller: Any, responses: dict[int | str, dict[str, Any]], db: Any = None) -> None:
    """Add ``POST /v1/bank/match`` and ``POST /v1/bank/apply`` (see the module docstring). ``db``: the team's credit
    database, whose register holds the references of the letters ``POST /v1/letters`` issued."""
    from xlcredit.core.cashapp import AUTO
    from xlcredit.jobs.cashapp import (
        apply_matches,
        load_accounts,
        proposal_rows,
        run_match,
        unreferenced,
        unreferenced_line,
    )

    def run(uploads: dict[str, UploadFile | None], statements: list[UploadFile], accounts: UploadFile | None,
            as_of: Any, tmp: Path) -> Any:
        book = uploaded_book(uploads, tmp)
        paths = _save_statements(statements, tmp)
        known = ()
        if accounts is not None and (accounts.filename or accounts.size):
            acc = tmp / "bank_accounts.csv"
            with acc.open("wb") as out:
                shutil.copyfileobj(accounts.file, out)
            known = load_accounts(acc)
        with _client_names(book.paths, uploads):
            return book, run_match(paths, book, as_of=as_of, accounts=known, store=db)

    @app.post("/v1/bank/match", tags=["cash"], max_body_size=settings.max_upload_bytes,
              summary="Bank statements matched to the open items of an uploaded book",
              description="Upload `workbook` or the tables, one or more `statements` (CAMT.053/054, MT940, bank "
                          "CSV) and optionally `accounts` (customer_id, iban, name). Answers one proposal per "
                          "transaction: customer, invoices, confidence, status (auto, review, unmatched, duplicate, "
                          "not a credit) and the reason in words.", responses=responses)
    def post_match(_who: Annotated[Any, reader],
                   uploads: Annotated[dict[str, UploadFile | None], Depends(book_files)],
                   statements: Annotated[list[UploadFile], File(description="bank statement files")],
                   accounts: Annotated[UploadFile | None, File(description="customers' bank accounts")] = None,
                   as_of: Annotated[AsOfDate, Form(description="open items as of (default: newest document)")]
                   = None) -> Response:
        with tempfile.TemporaryDirectory(prefix="xlcredit-bank-") as tmp:
            book, outcome = run(uploads, statements, accounts, as_of, Path(tmp))
        counts = {s: outcome.count(s) for s in ("auto", "review", "unmatched", "duplicate", "not a credit")}
        return JSONResponse(to_json_data({"as_of": outcome.as_of, "source": book.label, "counts": counts,
                                          "proposals": proposal_rows(outcome.proposals),
                                          "notes": list(outcome.notes), "problems": _problems(outcome.problems)}))

    @app.post("/v1/bank/apply", tags=["cash"], max_body_size=settings.max_upload_bytes,
              summary="The uploaded payments table with the confident bank matches appended (CSV)",
              description="Same upload as /v1/bank/match (the `payments` table is the one appended to). Answers "
                          "payments.csv with one row per matched invoice (invoice_ref, bank_reference); a bank "
                          "reference already in the table is not added again (a workbook upload: the new rows "
                          "only). `accept`: only these bank references (comma-separated), of those matched with "
                          "confidence. A confident match the statement gives no bank reference of its own (blank, "
                          "NOTPROVIDED/NONREF) is not applied — nothing would tell it from a new payment next time "
                          "— and is named in `X-Not-Applied-Transactions` (how many: `X-Not-Applied`).",
              responses={**responses, 200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                                            "headers": APPLY_HEADERS}})
    def post_apply(_who: Annotated[Any, controller],
                   uploads: Annotated[dict[str, UploadFile | None], Depends(book_files)],
                   statements: Annotated[list[UploadFile], File(description="bank statement files")],
                   accounts: Annotated[UploadFile | None, File(description="customers' bank accounts")] = None,
                   as_of: Annotated[AsOfDate, Form(description="open items as of (default: newest document)")]
                   = None,
                   accept: Annotated[str | None, Form(max_length=100_000, description="bank references to apply")]
                   = None) -> Response:
        with tempfile.TemporaryDirectory(prefix="xlcredit-bank-") as tmp:
            folder = Path(tmp)
            book, outcome = run(uploads, statements, accounts, as_of, folder)
            chosen = outcome.proposals
            if accept is not None and accept.strip():
                wanted = {r.strip() for r in accept.split(",") if r.strip()}
                unknown = wanted - {p.transaction.bank_reference for p in chosen if p.status == AUTO}
                if unknown:
                    raise XlcError("accept", f"not among the confident matches: {', '.join(sorted(unknown))}",
                                   None)
                chosen = tuple(p for p in chosen if p.transaction.bank_reference in wanted)
            out = folder / "out"
            out.mkdir()
            if book.paths.get("payments") is not None:
                if book.paths["payments"].suffix != ".csv":
                    raise XlcError("payments", "must be uploaded as .csv to have the matches appended", None)
                shutil.copy(book.paths["payments"], out / "payments.csv")
            added = apply_matches(out, chosen)
            missing = unreferenced(chosen)
            skipped = [f"not applied: {unreferenced_line(p)}" for p in missing[:NOT_APPLIED_NAMED]]
            if len(missing) > NOT_APPLIED_NAMED:   # a header stays small: proxies refuse answers with big ones
                skipped.append(f"… and {len(missing) - NOT_APPLIED_NAMED} more: POST /v1/bank/match lists every "
                               "proposal, those without a bank reference with it blank")
            body = (out / "payments.csv").read_bytes() if (out / "payments.csv").is_file() else b""
        return Response(body, media_type="text/csv", headers={
            "Content-Disposition": 'attachment; filename="payments.csv"', "X-Rows-Added": str(added),
            "X-Not-Applied": str(len(missing)), "X-Not-Applied-Transactions": json.dumps(skipped)})
