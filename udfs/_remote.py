"""UDF remote mode: customer-level formulas read the team service's results instead of a local database.

Switched on by ``XLCREDIT_SERVER_URL`` (environment variable, else the key on the workbook's ``xlwings.conf``
sheet) with ``XLCREDIT_API_KEY`` and ``XLCREDIT_SERVER_TIMEOUT`` (seconds, default 5). One ``GET /v1/results``
serves every cell of a recalculation: the snapshot is kept in memory for :data:`RECHECK_SECONDS`. Any
failure to reach the service (unreachable, timeout, key refused, 5xx) is an ``XlcError("server", …)`` so
the cell shows ``#XLC! server: <reason>`` — never a frozen Excel, never a traceback.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from xlcredit.core.errors import XlcError

#: How long one results snapshot answers cells before the service is asked again.
RECHECK_SECONDS = 1.0
#: Default total time allowed for one request to the service.
DEFAULT_TIMEOUT = 5.0

_client = httpx.Client()
_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[float, dict[str, Mapping[str, Any]]]] = {}


@dataclass(frozen=True)
class Remote:
    """Where the team service is and how to ask it."""
    url: str
    key: str
    timeout: float


def setting(name: str, book_config: Mapping[str, Any] | None = None) -> str:
    """A remote-mode setting: the environment variable wins over the workbook's xlwings.conf key."""
    value = os.environ.get(name, "").strip()
    if not value and book_config:
        value = str(book_config.get(name) or "").strip()
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


def request(remote: Remote, method: str, path: str, **kw: Any) -> Any:
    """One call to the service; every failure becomes ``XlcError("server", <reason>)``."""
    headers = {"X-API-Key": remote.key} if remote.key else {}
    try:
        r = _client.request(method, remote.url + path, headers=headers, timeout=remote.timeout, **kw)
    except httpx.TimeoutException:
        raise XlcError("server", f"no answer from {remote.url} within {remote.timeout:g} s", remote.url) from None
    except httpx.HTTPError as exc:
        raise XlcError("server", f"cannot reach {remote.url} ({type(exc).__name__})", remote.url) from None
    if r.status_code in (401, 403):
        raise XlcError("server", f"the service refused the API key (HTTP {r.status_code}): check XLCREDIT_API_KEY",
                       r.status_code)
    if r.status_code >= 500:
        raise XlcError("server", f"the service failed (HTTP {r.status_code})", r.status_code)
    if r.status_code >= 400:
        raise XlcError("server", f"the service answered HTTP {r.status_code}: {_detail(r)}", r.status_code)
    try:
        return r.json()
    except ValueError:
        raise XlcError("server", "the service's answer is not JSON", remote.url) from None


def _detail(r: httpx.Response) -> str:
    try:
        return str(r.json().get("detail", ""))[:200]
    except Exception:
        return r.text[:200]


def remote_results(remote: Remote) -> dict[str, Mapping[str, Any]]:
    """Every customer's credit result from the service, fetched at most once per :data:`RECHECK_SECONDS`."""
    cache_key = (remote.url, remote.key)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(cache_key)
        if hit is not None and now - hit[0] < RECHECK_SECONDS:
            return hit[1]
        answer = request(remote, "GET", "/v1/results")
        rows = {str(row["customer_id"]): _decimals(row) for row in answer.get("results", [])}
        _cache[cache_key] = (time.monotonic(), rows)
        return rows


#: Result fields the service sends as exact decimal text (``Money`` in xlcredit.service.models).
DECIMAL_FIELDS = ("credit_limit", "recommended_limit", "open_receivables", "exposure", "available",
                  "deposit_share", "overdue_amount")


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
    """Forget the fetched results (tests; a changed setting)."""
    with _lock:
        _cache.clear()
