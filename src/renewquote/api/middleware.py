"""ASGI middleware: a body read whole (1 MiB at most, JSON without duplicate keys),
idempotency keys on POST, headers every answer carries, keep-alive connections closed now and
then, request metrics."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any

from starlette.datastructures import Headers

from renewquote.api.dependencies import bearer_token, caller_of, run
from renewquote.api.metrics import LATENCY, REQUESTS
from renewquote.api.problems import MEDIA_TYPE, problem_body
from renewquote.domain.errors import Code, RuleViolation
from renewquote.services import idempotency
from renewquote.storage.database import Database

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 1024 * 1024
# Headers of every request together: browsers and API clients stay far below it.
MAX_HEADERS = 16 * 1024
TOKEN_PATH = "/api/v1/auth/token"
# Said on every answer: no sniffing of content types, never framed by another site.
_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
]
_NO_STORE = (b"cache-control", b"no-store")
# The request as idempotency compares it: method, path, query and the body as canonical JSON.
REQUEST_KEY = "renewquote.request"
_WITH_BODY = {"POST", "PUT", "PATCH"}


async def _problem(send: Send, status: int, code: Code, detail: str, **headers: str) -> None:
    violation: dict[str, Any] = {"code": code.value, "message": detail, "subscription_ids": []}
    body = json.dumps(problem_body(status, code.value, detail, [violation])).encode()
    raw = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _canonical(body: bytes, content_type: str) -> bytes | RuleViolation:
    """Return a JSON body as canonical JSON (sorted keys, no whitespace), other bodies as they
    are; refuse JSON that repeats a key in an object, which parsers read differently."""
    if not body or "json" not in content_type:
        return body
    try:
        document = json.loads(body, object_pairs_hook=_unique_keys)
    except _DuplicateKey as duplicate:
        return RuleViolation.one(Code.MALFORMED_JSON, problem=f"the key {duplicate} is repeated")
    except (ValueError, RecursionError):
        return body  # not JSON (or nested past reading): the route says what is wrong with it
    if isinstance(document, dict) and isinstance(document.get("card_number"), str):
        # A card number is never kept, not even inside a hash: its last four digits suffice
        # to tell one retry from another request.
        document["card_number"] = document["card_number"][-4:]
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKey(json.dumps(key))
        document[key] = value
    return document


class BodyLimit:
    """Read the body of a POST, PUT or PATCH whole, refusing more than 1 MiB with a 413, and
    JSON that repeats a key in an object with a 400."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        too_big = RuleViolation.one(Code.PAYLOAD_TOO_LARGE, limit=self.limit).violations[0]
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _problem(send, 413, Code.PAYLOAD_TOO_LARGE, too_big.message())
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _problem(send, 413, Code.PAYLOAD_TOO_LARGE, too_big.message())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        canonical = _canonical(body, Headers(scope=scope).get("content-type", ""))
        if isinstance(canonical, RuleViolation):
            refusal = canonical.violations[0]
            await _problem(send, 400, refusal.code, refusal.message())
            return
        scope[REQUEST_KEY] = (
            b"%s %s?%s\n"
            % (
                scope["method"].encode(),
                scope["path"].encode(),
                scope["query_string"],
            )
            + canonical
        )
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class Idempotency:
    """Give back the first answer to a POST retried with the same Idempotency-Key."""

    def __init__(self, app: ASGIApp, db: Database, wait_seconds: float = 10.0) -> None:
        self.app = app
        self.db = db
        self.wait_seconds = wait_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Signing in changes nothing worth replaying, and its answer (a token) and request (a
        # password) must not be kept: it is never remembered.
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] == TOKEN_PATH:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
            await _problem(
                send, 422, Code.INVALID_INPUT, "Idempotency-Key: 1 to 255 printable characters"
            )
            return
        # The application's clock, as the routes use it (tests stop it at a fixed time).
        now: datetime = scope["app"].state.clock()
        owner = await self._owner(headers, now)
        if owner is None:  # not signed in: the route itself answers 401
            await self.app(scope, receive, send)
            return
        digest = hashlib.sha256(scope.get(REQUEST_KEY, b"")).hexdigest()
        deadline = time.monotonic() + self.wait_seconds
        while True:
            found = await run(idempotency.claim, self.db, owner, key, digest, now=now)
            if not isinstance(found, idempotency.Running) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        if isinstance(found, idempotency.Replay):
            await self._replay(send, found)
        elif isinstance(found, idempotency.Mismatch):
            message = RuleViolation.one(Code.IDEMPOTENCY_KEY_REUSED).violations[0].message()
            await _problem(send, 409, Code.IDEMPOTENCY_KEY_REUSED, message)
        elif isinstance(found, idempotency.Running):
            message = RuleViolation.one(Code.IDEMPOTENCY_IN_PROGRESS).violations[0].message()
            await _problem(send, 409, Code.IDEMPOTENCY_IN_PROGRESS, message, **{"Retry-After": "1"})
        else:
            await self._first(scope, receive, send, found)

    async def _owner(self, headers: Headers, now: datetime) -> str | None:
        token = bearer_token(headers)
        if token is None:
            return None
        try:
            caller = await caller_of(self.db, token, now)
        except RuleViolation:
            return None
        return caller.email

    async def _first(
        self, scope: Scope, receive: Receive, send: Send, claim: idempotency.Claimed
    ) -> None:
        status = 500
        content_type = "application/json"
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        content_type = value.decode()
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, keep)
        finally:
            if status >= 500:
                await run(idempotency.release, self.db, claim)
            else:
                await run(
                    idempotency.complete,
                    self.db,
                    claim,
                    status_code=status,
                    body=b"".join(chunks).decode("utf-8", "replace"),
                    content_type=content_type,
                )

    @staticmethod
    async def _replay(send: Send, found: idempotency.Replay) -> None:
        body = found.body.encode()
        await send(
            {
                "type": "http.response.start",
                "status": found.status_code,
                "headers": [
                    (b"content-type", found.content_type.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"idempotent-replayed", b"true"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class Hardening:
    """Refuse oversized headers (431), and say on every answer what browsers and caches must
    not do with it: no sniffing, no framing, no storing of authenticated answers or tokens."""

    def __init__(self, app: ASGIApp, max_headers: int = MAX_HEADERS) -> None:
        self.app = app
        self.max_headers = max_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        if sum(len(name) + len(value) for name, value in headers) > self.max_headers:
            refusal = RuleViolation.one(Code.HEADERS_TOO_LARGE, limit=self.max_headers)
            await _problem(send, 431, Code.HEADERS_TOO_LARGE, refusal.violations[0].message())
            return
        private = scope["path"] == TOKEN_PATH or any(
            name == b"authorization" for name, _ in headers
        )

        async def harden(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = message.get("headers", [])
                names = {name.lower() for name, _ in given}
                added = [h for h in _ALWAYS if h[0] not in names]
                if private and b"cache-control" not in names:
                    added.append(_NO_STORE)
                message["headers"] = [*given, *added]
            await send(message)

        await self.app(scope, receive, harden)


class KeepAliveLimit:
    """Close a keep-alive connection after `requests` requests on average, as nginx's
    `keepalive_requests` does: each answer says `Connection: close` with a chance of one in
    `requests` (0: never), so closings come one by one rather than all at once.

    Why: the worker processes of `serve --workers N` share one listening socket, and a client
    that opens its connections at once (a proxy, a load generator) sees them taken unevenly,
    by whichever worker was idle: 32 connections were seen split 10/22 and 28/4, one worker
    then getting two or seven times the other's requests for as long as they stay open. A
    connection closed now and then is opened again, most often with the idle worker.
    """

    def __init__(
        self, app: ASGIApp, requests: int, chance: Callable[[], float] = random.random
    ) -> None:
        self.app = app
        self.threshold = 1 / requests if requests > 0 else 0.0
        self.chance = chance

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.chance() >= self.threshold:
            await self.app(scope, receive, send)
            return

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = message.get("headers", [])
                message["headers"] = [*given, (b"connection", b"close")]
            await send(message)

        await self.app(scope, receive, closing)


class RequestMetrics:
    """Count requests and time them, by route template rather than by raw path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - started)
            REQUESTS.labels(scope["method"], template, str(status)).inc()
