"""The service under a team's load: ETags for writes (If-Match), idempotency keys, and overload answers.

* **Optimistic concurrency**: a changeable resource (a customer's credit limit, the policy) is read with an
  ``ETag``; a write must send it back in ``If-Match``. The check runs under the database's write lock, in the
  write's own transaction, so of two writers who read the same state only the first succeeds; the other gets
  ``412 Precondition Failed`` with the current value and ETag (``428 Precondition Required`` without If-Match).
* **Idempotency keys** (:class:`IdempotencyMiddleware`): a POST/PUT/PATCH/DELETE with an ``Idempotency-Key``
  header records the key in the same transaction as its change; a repeat with the same key and the same request
  gets the first answer again and changes nothing, the same key with another request is a 422. Keys are kept
  :data:`~xlcredit.io.store.IDEMPOTENCY_KEEP` (24 h). A key whose change committed but whose answer is not
  kept (the first request still running, timed out — answered 503 while its work went on and committed — or its
  server killed in between) is answered ``409`` within a few seconds — never held longer than a client's usual
  timeout — in words that name what happened, or every cause when this process cannot know which.
* **Overload** (:class:`RequestLimit`): at most ``limit`` requests are worked on at once per worker process;
  more wait up to ``queue_seconds`` for a free place, then get a JSON ``503`` with ``Retry-After``. Open but
  idle keep-alive connections cost nothing (uvicorn's connection limit is off).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from xlcredit.io.store import IDEMPOTENCY, CreditStore, IdempotencySlot, to_json_data

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

IDEMPOTENT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 200
_KEPT_HEADERS = (b"content-type", b"etag", b"location")


# =========================================================================== ETags and If-Match
class PreconditionFailed(Exception):
    """A write whose ``If-Match`` names a state that is no longer current (answered 412)."""

    def __init__(self, etag: str, current: Any, what: str) -> None:
        super().__init__(what)
        self.etag = etag
        self.current = current
        self.what = what


def content_etag(value: Any) -> str:
    """A strong ETag of a stored record: a digest of its exact JSON form (money as exact text)."""
    text = json.dumps(to_json_data(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return '"' + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] + '"'


def if_match_holds(if_match: str, etag: str) -> bool:
    """Whether ``If-Match`` names ``etag`` by strong comparison (RFC 9110 §13.1.1; ``*``: any current state)."""
    tags = [t.strip() for t in if_match.split(",")]
    return "*" in tags or etag in tags


def check_if_match(if_match: str | None, etag: str, current: Any, what: str) -> None:
    """Raise :class:`PreconditionFailed` unless ``If-Match`` names the current ``etag``."""
    if if_match is None or not if_match_holds(if_match, etag):
        raise PreconditionFailed(etag, current, what)


# =========================================================================== idempotency keys
def _problem_bytes(detail: Any) -> bytes:
    return json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")


async def _send_answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _json_headers(extra: dict[str, str] | None = None) -> list[tuple[bytes, bytes]]:
    out = [(b"content-type", b"application/json")]
    for k, v in (extra or {}).items():
        out.append((k.lower().encode("latin-1"), v.encode("latin-1")))
    return out


class IdempotencyMiddleware:
    """``Idempotency-Key`` on state-changing requests: the first answer is kept and replayed for a repeat.

    The key is scoped to the caller's API key. Its record is written by the request's first write
    transaction, in that transaction (see :class:`~xlcredit.io.store.IdempotencySlot`): a change and its
    key commit together, so a retry after a lost answer — or a crash — cannot change anything twice. The
    answer is kept right after. A retry that finds the key but no answer waits up to ``wait_seconds`` (by
    the clock, a few seconds: far below a client's timeout) for it, then gets ``409`` saying the change was
    made: with ``Retry-After`` while the first request may still be running (younger than ``answer_within``
    seconds, the longest a request can take to be answered), without once it cannot be (the request timed out —
    answered 503 by the timeout while its work went on and committed — or its server stopped between the commit
    and the answer). A key whose first request this process answered with an error (the timeout's 503) is
    remembered (:attr:`UNANSWERED_KEPT` keys): its retry is told so at once, without Retry-After — no answer will
    come. The key itself stays for 24 h either way: forgetting it sooner would let a retry make the change twice.
    A request that changed nothing keeps nothing (repeating it is harmless).
    """

    #: How many keys answered with an error (not kept) one process remembers, newest kept.
    UNANSWERED_KEPT = 10_000

    def __init__(self, app: ASGIApp, store: CreditStore, wait_seconds: float = 2.0, answer_within: float = 90.0,
                 max_answer_bytes: int = 8 * 1024 * 1024) -> None:
        self.app = app
        self.store = store
        self.wait_seconds = wait_seconds
        self.answer_within = answer_within
        self.max_answer_bytes = max_answer_bytes
        self._unanswered: dict[tuple[str, str], int] = {}   # (owner, key) → the error status its request got

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in IDEMPOTENT_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw_key = headers.get(b"idempotency-key")
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1").strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            await _send_answer(send, 422, _problem_bytes([{
                "field": "Idempotency-Key", "loc": ["header", "Idempotency-Key"], "type": "value_error",
                "msg": f"Idempotency-Key: must be 1 to {MAX_KEY_LENGTH} printable characters (a UUID is usual)"}]),
                _json_headers())
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        owner = hashlib.sha256(headers.get(b"x-api-key", b"")).hexdigest()
        digest = hashlib.sha256(f"{scope['method']} {scope.get('path', '')}?".encode()
                                + scope.get("query_string", b"") + b"\n")
        digest.update(body)
        fingerprint = digest.hexdigest()

        found = await anyio.to_thread.run_sync(self.store.idempotent_answer, owner, key)
        if found is not None:
            await self._answer_kept(found, owner, key, fingerprint, send)
            return
        # nothing committed under the key yet: this request does the work, so a key that appears from now on is
        # (most likely) its own, not that of an earlier request this process answered with an error
        self._unanswered.pop((owner, key), None)

        slot = IdempotencySlot(owner, key, fingerprint)
        sent_body = False

        async def replay() -> dict[str, Any]:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        start: dict[str, Any] = {}
        parts: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        token = IDEMPOTENCY.set(slot)
        try:
            await self.app(scope, replay, capture)
        finally:
            IDEMPOTENCY.reset(token)
        if slot.duplicate:           # the same key committed by a concurrent request: answer as it did
            found = await anyio.to_thread.run_sync(self.store.idempotent_answer, owner, key)
            if found is not None:
                await self._answer_kept(found, owner, key, fingerprint, send)
                return
        status = int(start.get("status", 500))
        answer = b"".join(parts)
        out_headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        if slot.claimed and status < 500 and len(answer) <= self.max_answer_bytes:
            kept = {k.decode("latin-1"): v.decode("latin-1") for k, v in out_headers if k.lower() in _KEPT_HEADERS}
            await anyio.to_thread.run_sync(self.store.keep_answer, owner, key, fingerprint, status, answer, kept)
        elif status >= 500:   # e.g. the timeout's 503: the work may go on and commit the key later, answerless
            self._unanswered[(owner, key)] = status
            while len(self._unanswered) > self.UNANSWERED_KEPT:
                self._unanswered.pop(next(iter(self._unanswered)))
        await _send_answer(send, status, answer, out_headers)

    async def _answer_kept(self, found: dict[str, Any], owner: str, key: str, fingerprint: str, send: Send) -> None:
        if found["fingerprint"] != fingerprint:
            await _send_answer(send, 422, _problem_bytes([{
                "field": "Idempotency-Key", "loc": ["header", "Idempotency-Key"], "type": "value_error",
                "msg": "Idempotency-Key: was used in the last 24 h for another request (another method, path or "
                       "body); send a new key with a new request"}]), _json_headers())
            return
        errored = self._unanswered.get((owner, key)) if found["status"] is None else None
        # a monotonic deadline, not a count of sleeps: under load each look at the database takes time too,
        # and a client whose timeout runs out first sees no answer at all, retries, and waits again (issue 23)
        deadline = time.monotonic() + (0.0 if errored or self._answer_lost(found) else self.wait_seconds)
        while found is not None and found["status"] is None and time.monotonic() < deadline:
            await asyncio.sleep(min(0.1, max(deadline - time.monotonic(), 0.0)))
            found = await anyio.to_thread.run_sync(self.store.idempotent_answer, owner, key)
        if found is None or found["status"] is None:
            await self._answer_not_kept(found, send, errored)
            return
        kept = [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in (found["headers"] or {}).items()]
        await _send_answer(send, int(found["status"]), bytes(found["answer"] or b""),
                           [*kept, (b"idempotent-replayed", b"true")])

    def _answer_lost(self, found: dict[str, Any] | None) -> bool:
        """Whether a key without an answer is older than any request can take to be answered (none will come)."""
        made = found["created_at"] if found is not None else None
        if found is None or found["status"] is not None or not isinstance(made, dt.datetime):
            return False
        return (dt.datetime.now(dt.UTC) - made).total_seconds() >= self.answer_within

    async def _answer_not_kept(self, found: dict[str, Any] | None, send: Send, errored: int | None = None) -> None:
        """409: the key's change was made (it committed with the key) but there is no answer to replay.

        ``errored``: the error status this process answered the first request with (the timeout's 503), when it
        did — then that is what is said; otherwise every cause this process cannot tell apart is named.
        """
        made = found["created_at"] if found is not None else None
        when = f" at {made:%Y-%m-%d %H:%M:%S} UTC" if isinstance(made, dt.datetime) else ""
        if errored is not None:
            why = "it timed out" if errored == 503 else "it failed"
            await _send_answer(send, 409, _problem_bytes(
                f"Idempotency-Key: a request with this key made its change{when}, but the first request was "
                f"answered {errored} ({why}) while its work went on, so no answer was kept; nothing was changed "
                "again — read the resource to see the change"),
                _json_headers({"Idempotent-Replayed": "true"}))
            return
        if not self._answer_lost(found):
            await _send_answer(send, 409, _problem_bytes(
                f"Idempotency-Key: a request with this key made its change{when}, but its answer is not kept yet "
                "(the first request may still be running; or its answer was not delivered: the request timed out, "
                "or its server stopped before answering); nothing was changed again — retry after 1 s for the "
                "answer, or read the resource to see the change"),
                _json_headers({"Retry-After": "1", "Idempotent-Replayed": "true"}))
            return
        await _send_answer(send, 409, _problem_bytes(
            f"Idempotency-Key: a request with this key made its change{when}, but its answer was not delivered "
            "(the request timed out, or its server stopped before answering); nothing was changed again — read the "
            "resource to see the change"),
            _json_headers({"Idempotent-Replayed": "true"}))


# =========================================================================== overload
class RequestLimit:
    """At most ``limit`` requests worked on at once; others wait up to ``queue_seconds``, then JSON 503.

    Counts requests, not connections: an idle keep-alive connection holds no place. ``/health`` is
    never held back (a load balancer's check must see the process alive).
    """

    EXEMPT = ("/health",)

    def __init__(self, app: ASGIApp, limit: int, queue_seconds: float, retry_after: int = 1) -> None:
        self.app = app
        self.limit = limit
        self.queue_seconds = queue_seconds
        self.retry_after = retry_after
        self._free: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0 or scope.get("path") in self.EXEMPT:
            await self.app(scope, receive, send)
            return
        if self._free is None:
            self._free = asyncio.Semaphore(self.limit)
        free = self._free
        try:
            if not free.locked():      # a free place (and nobody waiting): take it without a timer and a task
                await free.acquire()
            elif self.queue_seconds <= 0:
                raise TimeoutError
            else:
                await asyncio.wait_for(free.acquire(), timeout=self.queue_seconds)
        except TimeoutError:
            body = _problem_bytes(f"the service is busy ({self.limit} requests at once): retry after "
                                  f"{self.retry_after} s")
            await _send_answer(send, 503, body, _json_headers({"Retry-After": str(self.retry_after)}))
            return
        try:
            await self.app(scope, receive, send)
        finally:
            free.release()


__all__ = ["IdempotencyMiddleware", "PreconditionFailed", "RequestLimit", "check_if_match", "content_etag",
           "if_match_holds"]
