"""The team service (``xlcredit serve``) from xlwings Lite: the customer-level formulas and the letters script.

Where the service is: the environment variables ``XLCREDIT_SERVER_URL`` (``https://credit.example.com``),
``XLCREDIT_API_KEY`` and optionally ``XLCREDIT_SERVER_TIMEOUT`` — in xlwings Lite set under *Environment
Variables* (kept in the browser, not in the workbook), the same names as the desktop's UDF remote mode. Unset,
the formulas answer from the workbook session as before (:mod:`udfs.lite`).

How: Python runs in the browser, so HTTP goes through the browser's ``fetch`` (``pyodide.http.pyfetch``, which is
asynchronous). The formulas that need the service are ``async def`` — xlwings Lite awaits them — and each first
brings this session's copy of the service's results and policy up to date (:func:`prepare`: ``GET /v1/results`` and
``GET /v1/policy``, each re-validated with its ETag at most once a second), then runs the desktop formula over
that copy (a :class:`ServiceSession`): the same answers and ``#XLC!`` texts as the desktop in remote mode. The
browser lets the add-in read the answers only when the service names the add-in's origin (CORS:
``xlcredit serve --cors-origin https://addin.xlwings.org``).

Every HTTP call goes through a *transport* (:data:`Transport`): :func:`pyfetch_transport` in the browser; tests put
a stand-in (:func:`use_transport`) that sends the same requests with httpx to a real service.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import io
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from udfs import _convert, _remote, lite
from xlcredit.core.errors import XlcError
from xlcredit.core.policy import Policy

#: Seconds one copy of the results and policy answers before the service is asked whether they changed.
RECHECK_SECONDS = 1.0
#: The tables the letters script uploads: (form field, sheet, Excel table) — as the workbook holds them
#: (:data:`xlcredit.io.workbook.INPUT_TABLES`; a test keeps the two equal).
LETTER_TABLES: tuple[tuple[str, str, str], ...] = (
    ("customers", "Customers", "Customers"), ("invoices", "Invoices", "Invoices"),
    ("payments", "Payments", "Payments"), ("credit_notes", "Credit Notes", "CreditNotes"),
    ("fx_rates", "FX Rates", "FxRates"))
#: Seconds the letters script waits for the service's letters run (it writes a .docx and a .pdf per letter).
LETTERS_TIMEOUT = 600.0
#: The sheet the letters script writes the collection register into.
LETTERS_SHEET = "Service Letters"
REGISTER_HEADER = ["Register id", "Customer", "Stage", "Kind", "As of", "Amount", "Currency", "File", "Letter"]


@dataclasses.dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, headers (names in lower case) and body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


#: ``await transport(method, url, headers, body)`` → :class:`Answer`; raises ``OSError`` when nothing came back.
Transport = Callable[[str, str, Mapping[str, str], bytes | None], Awaitable[Answer]]


async def pyfetch_transport(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Answer:
    """The browser's fetch (Pyodide): the transport inside xlwings Lite."""
    from pyodide.http import pyfetch  # only in Pyodide

    try:
        r = await pyfetch(url, method=method, headers=dict(headers), body=body)
        data = await r.bytes()
    except Exception as exc:   # a refused connection and a CORS refusal look the same to the page
        raise OSError(str(exc) or type(exc).__name__) from None
    return Answer(int(r.status), {str(k).lower(): str(v) for k, v in dict(r.headers).items()}, bytes(data))


_transport: Transport | None = None


def use_transport(transport: Transport | None) -> None:
    """Send the service calls through ``transport`` (None: the browser's fetch)."""
    global _transport
    _transport = transport


async def call(remote: _remote.Remote, method: str, path: str, *, headers: Mapping[str, str] | None = None,
               body: bytes | None = None, timeout: float | None = None) -> Answer:
    """One call to the service; every failure becomes ``XlcError("server", <reason>)`` in the desktop's words.
    ``timeout``: seconds to wait (default: the formulas' ``XLCREDIT_SERVER_TIMEOUT``)."""
    sent = {**(headers or {}), **({"X-API-Key": remote.key} if remote.key else {})}
    transport = _transport or pyfetch_transport
    wait = remote.timeout if timeout is None else timeout
    try:
        r = await asyncio.wait_for(transport(method, remote.url + path, sent, body), wait)
    except TimeoutError:
        raise XlcError("server", f"no answer from {remote.url} within {wait:g} s", remote.url) from None
    except OSError as exc:
        raise XlcError("server", f"cannot reach {remote.url} ({exc}): check XLCREDIT_SERVER_URL, and that the "
                       "service lets this add-in call it (xlcredit serve --cors-origin https://addin.xlwings.org)",
                       remote.url) from None
    _remote.check_status(r.status, lambda: _detail(r))   # the desktop's words for a refused or failed answer
    return r


def _detail(r: Answer) -> str:
    try:
        return str(r.json().get("detail", ""))[:200]
    except Exception:
        return r.body.decode("utf-8", "replace")[:200]


def _part(remote: _remote.Remote, r: Answer, key: str) -> Any:
    try:
        body = r.json()
    except ValueError:
        raise XlcError("server", "the service's answer is not JSON", remote.url) from None
    if not isinstance(body, dict) or not isinstance(body.get(key), list | dict):
        raise XlcError("server", f"the service's answer has no {key!r} (is {remote.url} an xlcredit service?)",
                       remote.url)
    return body[key]


# =========================================================================== the formulas' copy of the service
class _ServicePolicy:
    """What :class:`udfs._convert.OpenDatabase` asks of a store: the policy the results were computed under."""

    def __init__(self, url: str, policy: Policy | None) -> None:
        self.url, self._policy = url, policy

    def policy(self, _default: Any) -> Policy | None:
        return self._policy


@dataclasses.dataclass
class ServiceSession(_convert.WorkbookSession):
    """This workbook session's copy of the service's results and policy, read by the desktop formulas exactly as
    they read a credit database (:func:`udfs._convert.open_database`)."""

    remote: _remote.Remote | None = None
    rows: dict[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    policy: Policy | None = None
    results_etag: str | None = None
    policy_etag: str | None = None
    checked: float = float("-inf")
    _locks: dict[int, asyncio.Lock] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def open(self) -> _convert.OpenDatabase:
        assert self.remote is not None
        location = _convert.DatabaseLocation(self.remote.url, None, self.where)
        entry = _convert.OpenDatabase(location, _ServicePolicy(self.remote.url, self.policy), None)
        entry.rows = self.rows
        return entry

    async def refresh(self) -> None:
        """Bring the copy up to date (at most one pair of requests a second; 304 while nothing changed). Cells
        recalculated together share one look: the others wait for it (one lock per event loop)."""
        if time.monotonic() - self.checked < RECHECK_SECONDS:
            return
        loop = id(asyncio.get_running_loop())
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        async with lock:
            if time.monotonic() - self.checked < RECHECK_SECONDS:   # fetched while this cell waited
                return
            await self._fetch()

    async def _fetch(self) -> None:
        remote = self.remote
        assert remote is not None
        ask = {"If-None-Match": self.results_etag} if self.results_etag else {}
        r = await call(remote, "GET", "/v1/results", headers=ask)
        if r.status != 304:
            self.rows = {str(row["customer_id"]): _remote._decimals(row) for row in _part(remote, r, "results")}
            self.results_etag = r.headers.get("etag")
        ask = {"If-None-Match": self.policy_etag} if self.policy_etag and self.policy is not None else {}
        r = await call(remote, "GET", "/v1/policy", headers=ask)
        if r.status != 304:
            settings = _part(remote, r, "settings")
            try:
                self.policy = Policy.from_rows(list(settings.items()))
            except XlcError as exc:
                raise XlcError("server", f"sent a policy this add-in cannot read ({exc}): are both the same "
                               "xlcredit version?", remote.url) from None
            self.policy_etag = r.headers.get("etag")
        self.checked = time.monotonic()


_SESSIONS: dict[tuple[str, str], ServiceSession] = {}


def service() -> _remote.Remote | None:
    """The service the formulas ask (``XLCREDIT_SERVER_URL`` …), or None when none is set."""
    return _remote.remote_settings(None)


async def prepare() -> _remote.Remote | None:
    """Before a formula: with a service set, this session's copy of its results brought up to date and made what
    the formulas read; without one, the workbook session (the Refresh Ageing script's results)."""
    remote = service()
    if remote is None:
        lite.start()
        return None
    session = _SESSIONS.get((remote.url, remote.key))
    if session is None or session.remote != remote:
        session = _SESSIONS[(remote.url, remote.key)] = ServiceSession(where=f"the service at {remote.url}",
                                                                     remote=remote)
    try:
        await session.refresh()
    except Exception:
        lite.start()   # never the desktop's remote mode (blocking HTTP): the other formulas go on in the browser
        raise
    _convert.use_session(session)
    return remote


def forget() -> None:
    """Drop the copies of every service (tests; a changed setting is picked up anyway)."""
    _SESSIONS.clear()


# =========================================================================== Generate Letters (team service)
def _sheet_names(book: Any) -> list[str]:
    return [s.name for s in book.sheets]


def table_rows(book: Any, sheet: str, table: str) -> list[list[Any]] | None:
    """The header and rows of an input table (the Excel table by name, else the block at A1), None when the
    workbook has no such sheet."""
    if sheet not in _sheet_names(book):
        return None
    found = book.sheets[sheet]
    tables = {t.name: t for t in found.tables}
    rng = tables[table].range if table in tables else found.range("A1").expand()
    values = rng.value
    if not values:
        return []
    return values if isinstance(values[0], list) else [values]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def csv_bytes(rows: Sequence[Sequence[Any]]) -> bytes:
    """A table as comma-separated UTF-8 text (dates as ISO dates, whole numbers without ".0")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue().encode("utf-8")


def multipart(fields: Mapping[str, str], files: Mapping[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body (the browser's FormData, written out) and its Content-Type."""
    boundary = f"xlcredit-{uuid.uuid4().hex}"
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode("utf-8") + b"\r\n")
    for name, (filename, data) in files.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  "Content-Type: text/csv\r\n\r\n".encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def register_rows(remote: _remote.Remote, entries: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """The register entries as sheet rows, newest first; a letter with a file links to its PDF on the service."""
    rows: list[list[Any]] = [list(REGISTER_HEADER)]
    for e in sorted(entries, key=lambda e: int(e["id"]), reverse=True):
        link = ""
        if e.get("kind") == "letter" and e.get("file_path"):
            address = f"{remote.url}/v1/letters/{int(e['id'])}"
            link = f'=HYPERLINK("{address}","PDF")'
        amount = e.get("amount")
        rows.append([int(e["id"]), e.get("customer_id", ""), e.get("stage", ""), e.get("kind", ""),
                     e.get("as_of", ""), float(Decimal(str(amount))) if amount not in (None, "") else None,
                     e.get("currency", ""), e.get("file_path", ""), link])
    return rows


async def generate_letters(book: Any, as_of: dt.date | None = None, *, dry_run: bool = False) -> str:
    """Generate Letters (team service): upload the workbook's tables to ``POST /v1/letters`` (the service writes
    the letters, under the team's policy and register), then write the collection register, with a link to each
    letter, into the "Service Letters" sheet. Returns (and shows) what happened."""
    try:
        remote = service()
        if remote is None:
            raise XlcError("server", "no team service is set: set XLCREDIT_SERVER_URL and XLCREDIT_API_KEY (xlwings "
                           "Lite: Environment Variables)", None)
        files: dict[str, tuple[str, bytes]] = {}
        for field, sheet, table in LETTER_TABLES:
            rows = table_rows(book, sheet, table)
            if rows:
                files[field] = (f"{field}.csv", csv_bytes(rows))
        for needed, sheet in (("customers", "Customers"), ("invoices", "Invoices")):
            if needed not in files:
                raise XlcError(sheet, "sheet not found or empty: the letters need the customers and invoices", sheet)
        fields = {"dry_run": "true" if dry_run else "false"}
        if as_of is not None:   # else the service's date (this code never reads the clock)
            fields["as_of"] = as_of.isoformat()
        body, content_type = multipart(fields, files)
        answer = (await call(remote, "POST", "/v1/letters", headers={"Content-Type": content_type}, body=body,
                             timeout=max(remote.timeout, LETTERS_TIMEOUT))).json()
        entries = (await call(remote, "GET", "/v1/register")).json()
        if not isinstance(entries, list):
            raise XlcError("server", "the service's register is not a list of entries", remote.url)
        rows = register_rows(remote, entries)
        if LETTERS_SHEET not in _sheet_names(book):
            book.sheets.add(LETTERS_SHEET)
        sheet = book.sheets[LETTERS_SHEET]
        sheet.range("A1").expand().clear_contents()
        sheet.range("A1").value = rows
        counts = ", ".join(f"{n} {k}" for k, n in sorted(answer.get("counts", {}).items())) or "nothing to do"
        message = f"Letters on the service as of {answer.get('as_of')}: {counts}."
        problems = answer.get("problems") or []
        if problems:
            lines = [f"{p.get('table', '')} row {p.get('row')} {p.get('column', '')}: {p.get('problem', '')}"
                     for p in problems[:10]]
            message += f" {len(problems)} rows had problems and were left out:\n" + "\n".join(lines)
        message += f"\nThe register ({len(rows) - 1} entries) is on the {LETTERS_SHEET} sheet."
    except Exception as exc:   # the user sees every failure in plain words, never a traceback
        message = _convert.error_text(exc)
    lite._tell(book, message)
    return message


__all__ = ["LETTERS_SHEET", "LETTER_TABLES", "RECHECK_SECONDS", "REGISTER_HEADER", "Answer", "ServiceSession",
           "Transport", "call", "csv_bytes", "forget", "generate_letters", "multipart", "prepare",
           "pyfetch_transport", "register_rows", "service", "table_rows", "use_transport"]
