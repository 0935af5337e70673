"""Upload endpoints: a ledger (CSV/XLSX/Parquet files) → its ageing report (JSON or XLSX), and a workbook or
its tables → a refresh of the team's credit database.

* ``POST /v1/ageing`` (read): multipart form with ``invoices`` (required), ``payments``,
  ``credit_notes``, ``fx_rates`` (optional files), ``as_of`` (default today) and ``by``
  (``due_date``/``invoice_date``, default the policy's). Read by the ledger readers
  (:func:`xlcredit.io.ledger.load_ledger`) and aged by :func:`xlcredit.core.ageing.age_ledger`.
  ``?format=xlsx`` answers a workbook (sheets Ageing, Open items, Problems) instead of JSON.
  Bad rows are listed under ``problems`` (table, row, column, value, problem) and the rest is aged.
* ``POST /v1/refresh`` (controller): a workbook (``workbook``) or the tables one by one → the
  refresh job behind the workbook's Refresh button (:func:`xlcredit.jobs.refresh.refresh`) under the team's
  policy, loading the team's credit database in one transaction.

Uploaded files are written to a private temporary folder under fixed names (only the extension of
the client's file name is kept) and deleted when the request ends.

No ``from __future__ import annotations`` here: FastAPI reads the endpoint signatures at run time.
"""

import contextlib
import datetime as dt
import io
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from xlcredit.core.errors import XlcError, describe
from xlcredit.io.store import CreditStore, to_json_data
from xlcredit.service.models import AsOfDate

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READABLE = (".csv", ".xlsx", ".xlsm", ".parquet")


class ProblemRow(BaseModel):
    table: str
    row: int
    column: str
    value: Any = None
    problem: str


class AgeingAnswer(BaseModel):
    """The ageing report: one row per customer and document currency, money as exact decimal text."""

    as_of: dt.date
    by: str
    labels: list[str]
    company_currency: str
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None = None
    items: list[dict[str, Any]] | None = None
    problems: list[ProblemRow]


def _save(upload: UploadFile | None, name: str, folder: Path) -> Path | None:
    """Write one uploaded file under a fixed name (keeping only a known extension); None when not sent."""
    if upload is None or (not upload.filename and upload.size == 0):
        return None
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in READABLE:
        raise XlcError(name, f"must be a .csv, .xlsx, .xlsm or .parquet file (got {describe(upload.filename or '')})",
                       upload.filename)
    path = folder / f"{name}{suffix}"
    with path.open("wb") as out:
        shutil.copyfileobj(upload.file, out, length=1024 * 1024)
    return path


@contextlib.contextmanager
def _client_names(paths: Mapping[str, Path | None], uploads: Mapping[str, UploadFile | None]) -> Iterator[None]:
    """Messages about an uploaded file name the client's file, not the temporary copy."""
    try:
        yield
    except XlcError as exc:
        message = exc.problem
        for name, path in paths.items():
            upload = uploads.get(name)
            if path is not None:
                message = message.replace(str(path), (upload.filename if upload else None) or name)
        raise XlcError(exc.field, message, exc.value if not isinstance(exc.value, (str, Path)) else None) from None


def _problems(problems: Sequence[Any]) -> list[dict[str, Any]]:
    return [{"table": p.table, "row": int(p.row), "column": str(p.column), "value": to_json_data(p.value),
             "problem": p.problem} for p in problems]


def _xlsx(sheets: Mapping[str, list[dict[str, Any]]]) -> bytes:
    """A small workbook: one sheet per table, bold frozen header, money as numbers, dates as dates."""
    import xlsxwriter

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                      "strings_to_urls": False})
    bold = wb.add_format({"bold": True, "bottom": 1})
    money = wb.add_format({"num_format": "#,##0.00"})
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    for title, rows in sheets.items():
        ws = wb.add_worksheet(title[:31])
        columns: list[str] = []
        for r in rows:
            columns.extend(k for k in r if k not in columns)
        for j, name in enumerate(columns):
            ws.write_string(0, j, name, bold)
            ws.set_column(j, j, max(10, min(40, len(name) + 2)))
        for i, r in enumerate(rows, start=1):
            for j, name in enumerate(columns):
                value = r.get(name)
                if value is None:
                    continue
                if isinstance(value, bool):
                    ws.write_boolean(i, j, value)
                elif isinstance(value, Decimal):
                    ws.write_number(i, j, float(value), money)   # display only: the JSON answer stays exact
                elif isinstance(value, (int, float)):
                    ws.write_number(i, j, value)
                elif isinstance(value, dt.date):
                    ws.write_datetime(i, j, dt.datetime(value.year, value.month, value.day), date)
                else:
                    ws.write_string(i, j, str(value))
        ws.freeze_panes(1, 0)
    wb.close()
    return buffer.getvalue()


def add_upload_routes(app: FastAPI, *, db: CreditStore, context: Callable[..., Any], settings: Any, reader: Any,
                      controller: Any, responses: dict[int | str, dict[str, Any]]) -> None:
    """Add ``POST /v1/ageing`` and ``POST /v1/refresh`` (see the module docstring)."""
    _add_ageing_route(app, context, settings, reader, responses)
    _add_refresh_route(app, db, context, settings, controller, responses)


def _add_ageing_route(app: FastAPI, context: Callable[..., Any], settings: Any, reader: Any,
                      responses: dict[int | str, dict[str, Any]]) -> None:
    from xlcredit.core.ageing import age_ledger
    from xlcredit.io.ledger import load_ledger

    @app.post("/v1/ageing", tags=["ledger"], response_model=AgeingAnswer, max_body_size=settings.max_upload_bytes,
              summary="Age an uploaded ledger (read)",
              description="Multipart upload of the ledger tables (CSV, XLSX or Parquet); answers the ageing by "
                          "customer and currency (JSON, or `?format=xlsx` for a workbook). Bad rows are listed "
                          "under `problems`; the others are aged.",
              responses={**responses, 200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
    def ageing(invoices: Annotated[UploadFile, File(description="invoices table")],
               _p: Annotated[Any, reader],
               payments: Annotated[UploadFile | None, File(description="payments table")] = None,
               credit_notes: Annotated[UploadFile | None, File(description="credit notes table")] = None,
               fx_rates: Annotated[UploadFile | None, File(description="FX rates (date, currency, rate)")] = None,
               as_of: Annotated[AsOfDate, Form(description="date of the ageing (default today)")] = None,
               by: Annotated[Literal["due_date", "invoice_date"] | None, Form()] = None,
               items: Annotated[bool, Form(description="also list every open item")] = False,
               format: Annotated[Literal["json", "xlsx"], Query(description="answer as JSON or XLSX")] = "json",
               ) -> Response:
        ctx = context()
        day = as_of or ctx.today
        with tempfile.TemporaryDirectory(prefix="xlcredit-upload-") as tmp:
            folder = Path(tmp)
            paths = {name: _save(upload, name, folder) for name, upload in
                     (("invoices", invoices), ("payments", payments), ("credit_notes", credit_notes),
                      ("fx_rates", fx_rates))}
            if paths["invoices"] is None:
                raise XlcError("invoices", "is empty: upload the invoices table", None)
            uploads = {"invoices": invoices, "payments": payments, "credit_notes": credit_notes, "fx_rates": fx_rates}
            with _client_names(paths, uploads):
                loaded = load_ledger(paths["invoices"], paths["payments"], paths["credit_notes"], policy=ctx.policy,
                                     fx_rates=paths["fx_rates"])
        report = age_ledger(loaded.ledger, day, ctx.policy, fx=loaded.fx, by=by)
        problems = _problems(loaded.problems)
        rows = report.to_records(totals=False)
        open_items = report.item_records() if (items or format == "xlsx") else None
        if format == "xlsx":
            sheets = {"Ageing": report.to_records(), "Open items": open_items or []}
            if problems:
                sheets["Problems"] = problems
            return Response(_xlsx(sheets), media_type=XLSX, headers={
                "Content-Disposition": f'attachment; filename="ageing-{day.isoformat()}.xlsx"'})
        totals = report.totals
        return JSONResponse(to_json_data({
            "as_of": day, "by": report.by, "labels": list(report.labels), "company_currency": report.company_currency,
            "rows": rows, "totals": totals, "items": open_items if items else None, "problems": problems}))


class _UploadedBook:
    """A book for :func:`xlcredit.jobs.refresh.refresh` made of uploaded tables.

    The team's policy applies (the service passes it as the base policy): a Policy sheet inside an
    uploaded workbook is ignored, so a controller cannot change the policy by uploading one — that is
    the admin's ``PUT /v1/policy``. Nothing is written back into the upload.
    """

    def __init__(self, label: str, tables: Mapping[str, Any], paths: Mapping[str, Path | None]) -> None:
        self.label = label
        self._tables = tables
        self.paths = paths

    def read_tables(self) -> Mapping[str, Any]:
        return self._tables

    def read_policy_rows(self) -> list[tuple[str, Any]]:
        return []

    def write_outputs(self, outputs: Mapping[str, Any], cells: Mapping[tuple[str, str], Any]) -> None:
        return None

    def default_store(self) -> str:  # pragma: no cover - the service always passes its store
        raise XlcError("db", "the service passes its own credit database", None)


#: The tables of a book, as uploaded one by one (customers and invoices required).
BOOK_TABLES = ("customers", "invoices", "payments", "credit_notes", "fx_rates")


def book_files(workbook: Annotated[UploadFile | None, File(description=".xlsm/.xlsx workbook")] = None,
               customers: Annotated[UploadFile | None, File(description="customers table")] = None,
               invoices: Annotated[UploadFile | None, File(description="invoices table")] = None,
               payments: Annotated[UploadFile | None, File(description="payments table")] = None,
               credit_notes: Annotated[UploadFile | None, File(description="credit notes table")] = None,
               fx_rates: Annotated[UploadFile | None, File(description="FX rates (date, currency, rate)")] = None,
               ) -> dict[str, UploadFile | None]:
    """The files of an uploaded book (a form dependency): the workbook, or its tables one by one."""
    return {"workbook": workbook, "customers": customers, "invoices": invoices, "payments": payments,
            "credit_notes": credit_notes, "fx_rates": fx_rates}


def uploaded_book(uploads: Mapping[str, UploadFile | None], folder: Path) -> _UploadedBook:
    """The uploaded ``workbook`` — or the uploaded tables one by one — saved in ``folder`` and read as a book."""
    from xlcredit.io.workbook import read_tables as read_workbook_tables

    paths = {n: _save(u, n, folder) for n, u in uploads.items()}
    with _client_names(paths, uploads):
        workbook = uploads.get("workbook")
        if paths.get("workbook") is not None:
            if paths["workbook"].suffix not in (".xlsx", ".xlsm"):
                raise XlcError("workbook", "must be an .xlsx or .xlsm workbook",
                               workbook.filename if workbook else None)
            return _UploadedBook((workbook.filename if workbook else None) or "workbook",
                                 read_workbook_tables(paths["workbook"]), paths)
        for needed in ("customers", "invoices"):
            if paths.get(needed) is None:
                raise XlcError(needed, "is missing: upload the workbook, or at least the customers and invoices "
                               "tables", None)
        frames = {n: _table_frame(paths[n], n) for n in BOOK_TABLES if paths.get(n) is not None}
        return _UploadedBook("uploaded tables", frames, paths)


def _table_frame(path: Path, table: str) -> Any:
    """An uploaded table as a DataFrame of cell values (header row = columns), read by the table reader."""
    import pandas as pd

    from xlcredit.io.tables import read_rows

    raw = read_rows(path, table=table)
    if raw.decimal_comma:
        raise XlcError(table, "is a semicolon-separated CSV with decimal commas: upload it as .xlsx, or as a "
                       "comma-separated CSV with decimal points", None)
    width = len(raw.header)
    data = [list(values[:width]) + [None] * (width - len(values)) for _, values in raw.rows]
    return pd.DataFrame(data, columns=list(raw.header), dtype=object)


def _add_refresh_route(app: FastAPI, db: CreditStore, context: Callable[..., Any], settings: Any, controller: Any,
                       responses: dict[int | str, dict[str, Any]]) -> None:
    """``POST /v1/refresh``: the Refresh button's job (:func:`xlcredit.jobs.refresh.refresh`) on uploaded data."""
    from xlcredit.jobs.refresh import refresh as refresh_job

    class RefreshAnswer(BaseModel):
        stamp: int
        as_of: dt.date
        source: str
        customers: int
        problems: list[ProblemRow]

    @app.post("/v1/refresh", tags=["ledger"], response_model=RefreshAnswer, max_body_size=settings.max_upload_bytes,
              summary="Refresh the team's credit database from an uploaded workbook or tables (controller)",
              description="Upload `workbook` (the CreditControl workbook: its Customers, Invoices, Payments, "
                          "Credit Notes and FX Rates tables) or the tables one by one (`customers` and `invoices` "
                          "required). The same job as the workbook's Refresh button scores, limits, ages and duns "
                          "every customer under the team's policy and replaces the credit database in one "
                          "transaction. Bad rows are listed under `problems`; the others are processed.",
              responses=responses)
    def refresh(who: Annotated[Any, controller], uploads: Annotated[dict[str, UploadFile | None], Depends(book_files)],
                as_of: Annotated[AsOfDate, Form(description="date of the refresh (default today)")] = None,
                ) -> JSONResponse:
        ctx = context()
        day = as_of or ctx.today
        with tempfile.TemporaryDirectory(prefix="xlcredit-refresh-") as tmp:
            book = uploaded_book(uploads, Path(tmp))
            with _client_names(book.paths, uploads):
                outcome = refresh_job(book, day, store=db, base_policy=ctx.policy, who=who.who)
        label = book.label
        return JSONResponse(to_json_data({"stamp": outcome.stamp, "as_of": day, "source": label,
                                          "customers": len(outcome.portfolio.customers),
                                          "problems": _problems(outcome.problems)}))
