"""UDF remote mode: the formulas ask the team service (``xlcredit serve``) instead of the in-process engine.

Switched on by ``XLCREDIT_SERVER_URL`` (environment variable, else the key on the workbook's ``xlwings.conf``
sheet) with ``XLCREDIT_API_KEY`` and ``XLCREDIT_SERVER_TIMEOUT`` (seconds, default 5).

* Customer-level formulas (CREDIT_LIMIT …) answer from the service's results: one ``GET /v1/results``
  serves every cell of a recalculation. The snapshot is kept in memory; at most once per
  :data:`RECHECK_SECONDS` the service is asked again with the snapshot's ``ETag``, and answers
  ``304 Not Modified`` (no body) until a refresh or a limit change makes a new snapshot. ORDER_CHECK
  computes on those results under the service's policy (``GET /v1/policy``, kept and re-validated the same
  way), so a sheet of ORDER_CHECK cells adds one request per recalculation, not one per cell.
* Pure formulas (LATE_INTEREST …) send their rows to ``POST /v1/functions/<name>``: a spilled column is
  one request (:func:`call_function`, in chunks of :data:`MAX_BATCH_ROWS`), a single cell one request.
  The answers are kept (up to :data:`MEMO_ROWS` rows) for as long as the service's calculation basis
  holds — its policy, engine version and rate tables, named by the ``ETag`` of ``GET /v1/policy`` and
  re-validated at most once per :data:`RECHECK_SECONDS` — so a recalculation that asks again for the
  same arguments (a sheet full of ``TODAY()``) sends nothing but that one small check. A pure answer
  depends on nothing else, so a kept answer is the answer the service would give.
* Any failure to reach the service (unreachable, timeout, key refused, 5xx, an answer that is not what
  was asked) is an ``XlcError("server", …)``, so the cell shows ``#XLC! server: <reason>`` — never a
  frozen Excel, never a traceback.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xlcredit.core.errors import XlcError

if TYPE_CHECKING:   # httpx is imported on the first request, so the formulas import where it is missing (Pyodide)
    import httpx

#: How long one results snapshot answers cells before the service is asked whether it changed.
RECHECK_SECONDS = 1.0
#: Default total time allowed for one request to the service.
DEFAULT_TIMEOUT = 5.0
#: Rows per function request: the service's default cap (``xlcredit serve --max-rows``); a longer column is
#: sent in several requests.
MAX_BATCH_ROWS = 10_000



def new_client() -> httpx.Client:
    """The HTTP client of remote mode. It trusts the certificates this computer trusts — the Windows certificate
    store, the macOS keychain, the system's CA files (``truststore``) — so a service behind the company's own
    certificate authority works as it does in the browser; proxies come from the usual environment variables."""
    import ssl

    import httpx
    import truststore

    return httpx.Client(verify=truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT))


_lock = threading.Lock()


def _http() -> httpx.Client:
    """The one shared client of remote mode, made on first use."""
    client = globals().get("_client")
    if client is None:
        client = globals()["_client"] = new_client()
    return client


def __getattr__(name: str) -> Any:   # ``_remote._client`` before the first request: made then (PEP 562)
    if name == "_client":
        return _http()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class _Results:
    """The last results snapshot fetched from one service: when it was last confirmed, its ETag, its rows."""
    checked: float
    etag: str | None
    rows: dict[str, Mapping[str, Any]]


@dataclass
class _Basis:
    """The service's calculation basis: when last confirmed, its ETag, and the policy it names."""
    checked: float
    etag: str | None
    policy: Any


#: Pure-formula answer rows kept while the calculation basis holds (least recently used dropped first).
MEMO_ROWS = 200_000

_cache: dict[tuple[str, str], _Results] = {}
_bases: dict[tuple[str, str], _Basis] = {}
_answers: OrderedDict[tuple[str, str, str, str], Mapping[str, Any]] = OrderedDict()
_batch_rows: dict[str, int] = {}   # rows per request a service was found to take (after a 413)


@dataclass(frozen=True)
class Remote:
    """Where the team service is and how to ask it."""
    url: str
    key: str
    timeout: float


def setting(name: str, book_config: Mapping[str, Any] | None = None) -> str:
    """A remote-mode setting: the environment variable wins over the workbook's xlwings.conf key (whose case does
    not matter, as for xlwings' own keys)."""
    value = os.environ.get(name, "").strip()
    if not value and book_config:
        found = next((v for k, v in book_config.items() if str(k).strip().upper() == name), None)
        value = str(found or "").strip()
    return value


def remote_settings(book_config: Mapping[str, Any] | None = None) -> Remote | None:
    """The service to ask, or None when remote mode is off (no server URL set)."""
    url = setting("XLCREDIT_SERVER_URL", book_config)
    if not url:
        return None
    text = setting("XLCREDIT_SERVER_TIMEOUT", book_config)
    try:
        timeout = float(text) if text else DEFAULT_TIMEOUT
    except ValueError:
        raise XlcError("server", f"XLCREDIT_SERVER_TIMEOUT is not a number of seconds (got {text!r})", text) from None
    if not 0 < timeout <= 600:
        raise XlcError("server", f"XLCREDIT_SERVER_TIMEOUT must be between 0 and 600 seconds (got {text})", text)
    return Remote(url.rstrip("/"), setting("XLCREDIT_API_KEY", book_config), timeout)


def request(remote: Remote, method: str, path: str, *, headers: Mapping[str, str] | None = None,
            **kw: Any) -> httpx.Response:
    """One call to the service; every failure becomes ``XlcError("server", <reason>)``."""
    import httpx

    headers = {**(headers or {}), **({"X-API-Key": remote.key} if remote.key else {})}
    try:
        r = _http().request(method, remote.url + path, headers=headers, timeout=remote.timeout, **kw)
    except httpx.TimeoutException:
        raise XlcError("server", f"no answer from {remote.url} within {remote.timeout:g} s", remote.url) from None
    except httpx.HTTPError as exc:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate verify failed" in str(exc):
            raise XlcError("server", f"this computer does not trust the certificate of {remote.url}: install the "
                           "certificate authority that issued it in the computer's certificate store",
                           remote.url) from None
        raise XlcError("server", f"cannot reach {remote.url} ({type(exc).__name__})", remote.url) from None
    check_status(r.status_code, lambda: _detail(r))
    return r


def check_status(status: int, detail: Callable[[], str]) -> None:
    """An answer the service refused or failed as ``XlcError("server", …)`` (a wrong key, its own failure, a
    request it turned down with ``detail()``); nothing for a good answer. Also the words of xlwings Lite's calls."""
    if status in (401, 403):
        raise XlcError("server", f"the service refused the API key (HTTP {status}): check XLCREDIT_API_KEY", status)
    if status >= 500:
        raise XlcError("server", f"the service failed (HTTP {status})", status)
    if status >= 400:
        raise XlcError("server", f"the service answered HTTP {status}: {detail()}", status)


def answer_json(remote: Remote, r: httpx.Response, key: str) -> Any:
    """The ``key`` part of a JSON answer; ``XlcError("server", …)`` when the answer is not that."""
    try:
        body = r.json()
    except ValueError:
        raise XlcError("server", "the service's answer is not JSON", remote.url) from None
    if not isinstance(body, dict) or not isinstance(body.get(key), (list, dict)):
        raise XlcError("server", f"the service's answer has no {key!r} (is {remote.url} an xlcredit service?)",
                       remote.url)
    return body[key]


def _detail(r: httpx.Response) -> str:
    try:
        return str(r.json().get("detail", ""))[:200]
    except Exception:
        return r.text[:200]


def remote_results(remote: Remote) -> dict[str, Mapping[str, Any]]:
    """Every customer's credit result from the service; re-validated (ETag) at most once per RECHECK_SECONDS."""
    cache_key = (remote.url, remote.key)
    with _lock:
        hit = _cache.get(cache_key)
        if hit is not None and time.monotonic() - hit.checked < RECHECK_SECONDS:
            return hit.rows
        ask = {"If-None-Match": hit.etag} if hit is not None and hit.etag else None
        r = request(remote, "GET", "/v1/results", headers=ask)
        if r.status_code == 304 and hit is not None:
            hit.checked = time.monotonic()
            return hit.rows
        rows = {str(row["customer_id"]): _decimals(row) for row in answer_json(remote, r, "results")}
        _cache[cache_key] = _Results(time.monotonic(), r.headers.get("ETag"), rows)
        return rows


def remote_basis(remote: Remote) -> _Basis:
    """The service's policy and the ETag naming its calculation basis; re-validated at most once per
    RECHECK_SECONDS (``If-None-Match``: 304 while nothing changed)."""
    from xlcredit.core.policy import Policy

    cache_key = (remote.url, remote.key)
    with _lock:
        hit = _bases.get(cache_key)
        if hit is not None and time.monotonic() - hit.checked < RECHECK_SECONDS:
            return hit
        ask = {"If-None-Match": hit.etag} if hit is not None and hit.etag else None
        r = request(remote, "GET", "/v1/policy", headers=ask)
        if r.status_code == 304 and hit is not None:
            hit.checked = time.monotonic()
            return hit
        settings = answer_json(remote, r, "settings")
        try:
            policy = Policy.from_rows(list(settings.items()))
        except XlcError as exc:
            raise XlcError("server", f"sent a policy this add-in cannot read ({exc}): are both the same "
                           "xlcredit version?", remote.url) from None
        basis = _Basis(time.monotonic(), r.headers.get("ETag"), policy)
        _bases[cache_key] = basis
        return basis


def remote_policy(remote: Remote) -> Any:
    """The credit policy in force on the service (``GET /v1/policy``)."""
    return remote_basis(remote).policy


def call_function(remote: Remote, name: str, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Answer rows of ``POST /v1/functions/<name>`` for ``rows``, in order: ``{"value": …}`` or ``{"error": …}``.

    Rows answered before under the same calculation basis come from memory; the others are sent, one request
    per :data:`MAX_BATCH_ROWS` rows — so a spilled column of up to that many rows is at most one request. A
    service configured for fewer rows per request (``--max-rows``) answers 413: the batch is halved until it
    fits, and the size that fits is remembered for that service.
    """
    etag = remote_basis(remote).etag
    keys = [(remote.url, etag or "", name, json.dumps(row, sort_keys=True, separators=(",", ":"))) for row in rows]
    answers: list[Mapping[str, Any] | None] = [None] * len(rows)
    if etag:
        with _lock:
            for i, k in enumerate(keys):
                found = _answers.get(k)
                if found is not None:
                    _answers.move_to_end(k)
                    answers[i] = found
    missing = [i for i, a in enumerate(answers) if a is None]
    start = 0
    while start < len(missing):
        size = _batch_rows.get(remote.url, MAX_BATCH_ROWS)
        part = missing[start:start + size]
        chunk = [rows[i] for i in part]
        try:
            r = request(remote, "POST", f"/v1/functions/{name.lower()}", json={"rows": chunk})
        except XlcError as exc:
            if exc.value == 413 and len(chunk) > 1:   # the service takes fewer rows per request: halve and retry
                _batch_rows[remote.url] = len(chunk) // 2
                continue
            raise
        got = answer_json(remote, r, "results")
        if not isinstance(got, list) or len(got) != len(chunk) or not all(isinstance(a, dict) for a in got):
            raise XlcError("server", f"answered {len(got)} rows for the {len(chunk)} sent", remote.url)
        with _lock:
            for i, answer in zip(part, got, strict=True):
                answers[i] = answer
                if etag:
                    _answers[keys[i]] = answer
            while len(_answers) > MEMO_ROWS:
                _answers.popitem(last=False)
        start += len(part)
    return [a for a in answers if a is not None]


#: Result fields the service sends as exact decimal text (``Money`` in xlcredit.service.models).
DECIMAL_FIELDS = ("credit_limit", "recommended_limit", "open_receivables", "exposure", "available",
                  "deposit_share", "overdue_amount", "bank_guarantee")


def _decimals(row: Mapping[str, Any]) -> dict[str, Any]:
    """A result row as the local database gives it: the service's decimal text back to ``Decimal``."""
    out = dict(row)
    for name in DECIMAL_FIELDS:
        if isinstance(out.get(name), str):
            try:
                out[name] = Decimal(out[name])
            except ArithmeticError:
                raise XlcError("server", f"sent {name} {out[name]!r}, not a number", out[name]) from None
    return out


def clear_cache() -> None:
    """Forget the fetched results, policies and kept answers (tests; a changed setting)."""
    with _lock:
        _cache.clear()
        _bases.clear()
        _answers.clear()
        _batch_rows.clear()
