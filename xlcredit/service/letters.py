"""``POST /v1/letters`` (controller): the Generate Letters job on the service, over an uploaded workbook or tables.

The job is the workbook button's and ``xlcredit letters``' (:func:`xlcredit.jobs.letters.run_letters`) under the
team's policy: a letter for every customer at a letter rung of the dunning ladder, the action list for the
rungs that are tasks, and every letter and action recorded in the team's collection register — so a letter
issued from any workbook or from the service is never issued twice for the same overdue items
(``resend`` to send again). The letters are kept on the server in the letters folder
(``xlcredit serve --letters-dir``; by default ``letters`` beside a SQLite database), written atomically as
everywhere else; the answer lists them (JSON) or carries them (``?format=zip``: the .docx and .pdf files
of this run, ``actions.csv`` and ``problems.csv``), and ``GET /v1/letters/{entry_id}`` (read) serves a letter
of the register later — the PDF only while its SHA-256 is the one recorded when it was issued. One letters
run at a time per service process; the register keeps concurrent runs of several processes from issuing the
same rung twice.

No ``from __future__ import annotations`` here: FastAPI reads the endpoint signatures at run time.
"""

import dataclasses
import datetime as dt
import io
import tempfile
import threading
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path, PureWindowsPath
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from xlcredit.io.store import CreditStore, to_json_data
from xlcredit.io.tables import csv_text
from xlcredit.jobs.letters import LetterResult
from xlcredit.service.models import AsOfDate, Problem
from xlcredit.service.uploads import ProblemRow, _client_names, _problems, book_files, uploaded_book

ZIP = "application/zip"


class LettersAnswer(BaseModel):
    """What the letters run did."""

    as_of: dt.date
    source: str
    dry_run: bool
    counts: dict[str, int]
    results: list[LetterResult]   # docx/pdf: the files' names inside the letters folder
    problems: list[ProblemRow]


def letters_folder(store: CreditStore, configured: str | Path | None) -> Path:
    """Where the service keeps the letters: the configured folder, else ``letters`` beside a SQLite database,
    else ``letters`` in the service's working folder."""
    if configured:
        return Path(configured).expanduser().resolve()
    from sqlalchemy.engine import make_url

    url = make_url(store.url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).resolve().parent / "letters"
    return Path.cwd() / "letters"


def add_letters_route(app: FastAPI, *, db: CreditStore, context: Callable[..., Any], settings: Any,
                      reader: Any, controller: Any, responses: dict[int | str, dict[str, Any]]) -> None:
    """Add ``POST /v1/letters`` and ``GET /v1/letters/{entry_id}`` (see the module docstring)."""
    from xlcredit.jobs.letters import run_letters

    folder = letters_folder(db, settings.letters_dir)
    one_run = threading.Lock()
    _add_download_route(app, db, folder, reader, responses)

    @app.post("/v1/letters", tags=["letters"], response_model=LettersAnswer, max_body_size=settings.max_upload_bytes,
              summary="Generate the dunning letters from an uploaded workbook or tables (controller)",
              description="Upload `workbook` (the CreditControl workbook) or the tables one by one (`customers` and "
                          "`invoices` required). Writes a letter (.docx and .pdf, in the customer's language) for "
                          "every customer at a letter rung of the dunning ladder under the team's policy, lists the "
                          "actions for the other rungs, and records both in the collection register — never the "
                          "same rung twice for the same overdue items unless `resend`. `dry_run` decides and "
                          "reports only. `?format=zip` answers the files of this run with actions.csv and "
                          "problems.csv. Bad rows are listed under `problems`; the others are processed.",
              responses={**responses, 200: {"content": {ZIP: {"schema": {"type": "string", "format": "binary"}}}}})
    def letters(who: Annotated[Any, controller], uploads: Annotated[dict[str, UploadFile | None], Depends(book_files)],
                as_of: Annotated[AsOfDate, Form(description="date of the letters (default today)")] = None,
                dry_run: Annotated[bool, Form(description="decide and report only: no files, no register")] = False,
                resend: Annotated[bool, Form(description="issue again what the register already holds")] = False,
                format: Annotated[Literal["json", "zip"], Query(description="answer as JSON or a zip")] = "json",
                ) -> Response:
        ctx = context()
        day = as_of or ctx.today
        with tempfile.TemporaryDirectory(prefix="xlcredit-letters-") as tmp:
            book = uploaded_book(uploads, Path(tmp))
            with _client_names(book.paths, uploads), one_run:
                outcome = run_letters(book, day, folder, store=db, base_policy=ctx.policy, dry_run=dry_run,
                                      resend=resend, who=who.who)
        rows = [_row(r, folder) for r in outcome.results]
        counts: dict[str, int] = {}
        for r in outcome.results:
            counts[f"{r.kind}s {r.status}"] = counts.get(f"{r.kind}s {r.status}", 0) + 1
        problems = _problems(outcome.problems)
        if format == "zip":
            name = f"letters-{day.isoformat()}.zip"
            return Response(_zip(folder, outcome.results, rows, problems), media_type=ZIP,
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return JSONResponse(to_json_data({"as_of": day, "source": book.label, "dry_run": dry_run, "counts": counts,
                                          "results": rows, "problems": problems}))


def _add_download_route(app: FastAPI, db: CreditStore, folder: Path, reader: Any,
                        responses: dict[int | str, dict[str, Any]]) -> None:
    """``GET /v1/letters/{entry_id}``: a letter this service wrote, as issued (its SHA-256 checked first)."""
    from fastapi import HTTPException
    from fastapi import Path as PathParam
    from fastapi.responses import FileResponse

    kinds = {"pdf": "application/pdf",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}

    @app.get("/v1/letters/{entry_id}", tags=["letters"], response_class=FileResponse,
             summary="Download a letter of the collection register (read)",
             description="The PDF (or `?format=docx` the Word file) of a letter written by this service's "
                         "`POST /v1/letters`. The PDF is served only while its SHA-256 equals the one the register "
                         "recorded when the letter was issued (409 otherwise).",
             responses={**responses, 404: {"model": Problem}, 409: {"model": Problem},
                        200: {"content": {t: {"schema": {"type": "string", "format": "binary"}}
                                          for t in kinds.values()}}})
    def download(entry_id: Annotated[int, PathParam(ge=1, le=2**62)], _p: Annotated[Any, reader],
                 format: Annotated[Literal["pdf", "docx"], Query(description="pdf or docx")] = "pdf") -> Response:
        entry = db.register_entry(entry_id)
        if entry is None or entry["kind"] != "letter" or not entry["file_path"]:
            raise HTTPException(404, f"entry_id: {entry_id} is not a letter of the collection register")
        pdf = Path(entry["file_path"]).resolve()
        if not pdf.is_relative_to(folder):
            raise HTTPException(404, f"entry_id: letter {entry_id} was not written by this service (its file is "
                                     "not in the service's letters folder)")
        path = pdf if format == "pdf" else pdf.with_suffix(".docx")
        if not path.is_file():
            raise HTTPException(404, f"entry_id: the {format} of letter {entry_id} is no longer on the server")
        if format == "pdf" and entry["content_hash"] and _sha256(path) != entry["content_hash"]:
            return JSONResponse({"detail": f"entry_id: the PDF of letter {entry_id} was changed after it was "
                                           "issued (its SHA-256 differs from the register's)"}, status_code=409)
        return FileResponse(path, media_type=kinds[format], filename=path.name)


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _relative(path: str, folder: Path) -> str:
    """A letter file as a path inside the letters folder (the server's own layout is not the client's business)."""
    if not path:
        return ""
    try:
        return Path(path).resolve().relative_to(folder).as_posix()
    except ValueError:
        return Path(path).name


def relative_entry(entry: Any, folder: Path) -> Any:
    """A register entry whose ``file_path`` is shown relative to the letters folder: an absolute path (POSIX or
    Windows, or one climbing out with ``..``) inside the folder loses the folder, one outside keeps its name only."""
    if not isinstance(entry, dict) or not entry.get("file_path"):
        return entry
    text = str(entry["file_path"])
    win = PureWindowsPath(text)
    if not (text.startswith(("/", "\\", "~")) or win.drive or ".." in win.parts):
        return entry
    try:
        shown = Path(text).expanduser().resolve().relative_to(folder).as_posix()
    except (ValueError, OSError):
        shown = win.name
    return {**entry, "file_path": shown}


#: The columns of a letter or action row: the fields of :class:`xlcredit.jobs.letters.LetterResult`.
COLUMNS = [f.name for f in dataclasses.fields(LetterResult)]


def _row(result: Any, folder: Path) -> dict[str, Any]:
    row = {name: getattr(result, name) for name in COLUMNS}
    row["docx"], row["pdf"] = _relative(result.docx, folder), _relative(result.pdf, folder)
    return row


def _zip(folder: Path, results: Sequence[Any], rows: Sequence[dict[str, Any]],
         problems: Sequence[dict[str, Any]]) -> bytes:
    """The run as a zip: the letter files written (or re-sent) by it, ``letters.csv``, ``actions.csv``,
    ``problems.csv``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for result, row in zip(results, rows, strict=True):
            for kind in ("docx", "pdf"):
                path = getattr(result, kind)
                if path and row[kind] and Path(path).is_file() and result.status in ("issued", "resent"):
                    archive.write(path, row[kind])
        archive.writestr("letters.csv", _csv([r for r in rows if r["kind"] == "letter"], COLUMNS))
        archive.writestr("actions.csv", _csv([r for r in rows if r["kind"] == "action"],
                                             COLUMNS))
        archive.writestr("problems.csv", _csv(problems, ["table", "row", "column", "value", "problem"]))
    return buffer.getvalue()


def _csv(rows: Sequence[dict[str, Any]], columns: list[str]) -> str:
    """Rows as CSV text through the one CSV writer (formula-looking text quoted), with a BOM so Excel opens
    the UTF-8 (Chinese names) correctly."""
    plain = [{k: "" if v is None else to_json_data(v) for k, v in row.items()} for row in rows]
    return "\ufeff" + csv_text(plain, columns)
