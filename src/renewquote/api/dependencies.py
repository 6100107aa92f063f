"""What routes receive: the call's context (database, time, language) and who is calling."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, ParamSpec, TypeVar

from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from starlette.datastructures import Headers

from renewquote.api.problems import language_of
from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.model import CallerKind, ContactRole, Region
from renewquote.services.access import Caller
from renewquote.services.auth import token_caller
from renewquote.storage.database import Database

P = ParamSpec("P")
T = TypeVar("T")


async def run(service: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a service function for a request, on the event loop itself.

    Services are plain functions over SQLAlchemy's synchronous engine, which own their
    transactions. Measured on the HTTP benchmark (2 workers, PostgreSQL, same machine and
    code): run inline, /healthz answered 2,957 req/s and GET /renewal-groups 676; through the
    thread pool 1,278 and 401 (every hop costs a GIL hand-over, and 32 connections make a
    convoy of threads); through SQLAlchemy's asyncio engine (greenlets) /healthz 1,291.
    A worker therefore handles one request's database work at a time, as a synchronous worker
    does: statements are short and local, and the locks they may wait on (a checkout's rows)
    are held for milliseconds. Run more workers for more concurrency (`serve --workers`).
    """
    return service(*args, **kwargs)


@dataclass(frozen=True, slots=True)
class Context:
    """What every route needs: the database, the clock's time, the caller's language."""

    db: Database
    now: datetime  # UTC, naive, by the application's clock (tests may set another)
    language: str  # fr or en, from Accept-Language

    @property
    def today(self) -> date:
        """Today's date by the application's clock."""
        return self.now.date()


@dataclass(frozen=True, slots=True)
class Call(Context):
    """A signed-in call: the context, the bearer token, and who it belongs to."""

    token: str
    caller: Caller


def context_of(request: Request) -> Context:
    """Return the context of a request, signed in or not."""
    clock: Callable[[], datetime] = request.app.state.clock
    return Context(request.app.state.db, clock(), language_of(request))


def bearer_token(headers: Headers) -> str | None:
    """Return the token of an `Authorization: Bearer <token>` header, or None without one."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class _SignedIn(SecurityBase):
    """HTTP bearer authentication as OpenAPI shows it (FastAPI's `HTTPBearer` scheme), as the
    one dependency that reads the token and checks it.

    One dependency rather than `HTTPBearer` under another: FastAPI solves each level of
    dependencies on every request, which was 3-4 % of a GET /renewal-groups.
    """

    def __init__(self) -> None:
        self.model = HTTPBearerModel(description="A token from POST /api/v1/auth/token.")
        self.scheme_name = "HTTPBearer"

    async def __call__(self, request: Request) -> Call:
        """Return the call and who its bearer token belongs to; 401 without a valid one."""
        token = bearer_token(request.headers)
        if token is None:
            raise RuleViolation.one(Code.UNAUTHENTICATED, why="send Authorization: Bearer <token>")
        context = context_of(request)
        caller = await caller_of(context.db, token, context.now)
        return Call(context.db, context.now, context.language, token, caller)


signed_in = _SignedIn()


def known_caller(token: str, now: datetime) -> Caller | None:
    """Return who a token belongs to if this process checked it lately and it still holds."""
    cached = TOKENS.get(token)
    if cached is None or cached[-2] <= now or cached[-1] <= time.monotonic():
        return None
    email, kind, user_id, role, customer_csn, partner_csn, language, country, self_service = cached[
        :-2
    ]
    return Caller(
        email=email,
        kind=CallerKind(kind),
        user_id=user_id,
        role=None if role is None else ContactRole(role),
        customer_csn=customer_csn,
        partner_csn=partner_csn,
        language=language,
        region=None if country is None else Region(country, self_service),
    )


async def caller_of(db: Database, token: str, now: datetime) -> Caller:
    """Return who a token belongs to: from this process's cache, or checked in the database
    and kept; `unauthenticated` for an unknown, expired or revoked one."""
    known = known_caller(token, now)
    if known is not None:
        return known
    generation = _generation
    caller, expires_at = await run(token_caller, db, token, now=now)
    remember(token, caller, expires_at)
    if generation != _generation:  # users or tokens changed while it was read or kept
        TOKENS.pop(token, None)
    return caller


def remember(token: str, caller: Caller, expires_at: datetime) -> None:
    """Keep who a token belongs to: while a `ChangeWatch` of this process listens for changes to
    users and tokens, for `WATCHED_CACHE_SECONDS`, else for `TOKEN_CACHE_SECONDS`."""
    if len(TOKENS) >= TOKEN_CACHE_SIZE:
        TOKENS.clear()
    kept = WATCHED_CACHE_SECONDS if _listening else TOKEN_CACHE_SECONDS
    TOKENS[token] = (
        caller.email,
        caller.kind.value,
        caller.user_id,
        None if caller.role is None else caller.role.value,
        caller.customer_csn,
        caller.partner_csn,
        caller.language,
        None if caller.region is None else caller.region.country,
        None if caller.region is None else caller.region.self_service_enabled,
        expires_at,
        time.monotonic() + kept,
    )


async def unsigned(request: Request) -> Context:
    """Return the context of a call that needs no token."""
    return context_of(request)


# Who each recent token belongs to, per worker process: a database query less on every
# call. Without a `ChangeWatch` listening (SQLite, or its connection lost), a token revoked
# through another process keeps working here for at most this long.
TOKEN_CACHE_SECONDS = 10.0
# With one, any change to users or tokens anywhere empties the cache at once; an entry still
# ends after this long, whatever happens.
WATCHED_CACHE_SECONDS = 300.0
TOKEN_CACHE_SIZE = 100_000
# An entry is the caller's fields, the token's expiry and the entry's own deadline: plain
# values, which the garbage collector stops tracking, where 10,000 objects made every full
# collection of a worker take 15-45 ms (and the p99 of GET /renewal-groups with it).
TOKENS: dict[str, tuple[Any, ...]] = {}


def forget_token(token: str) -> None:
    """Drop a revoked token from this process's cache at once."""
    TOKENS.pop(token, None)


def forget_all() -> None:
    """Forget every token this process keeps (users or tokens changed somewhere), including
    those being checked right now: they are checked again on their next call."""
    global _generation
    _generation += 1
    TOKENS.clear()


def listening(started: bool) -> None:
    """Count a `ChangeWatch` of this process that starts (True) or stops (False) listening."""
    global _listening
    with _LISTENERS:
        _listening += 1 if started else -1


def watched() -> bool:
    """Tell whether a `ChangeWatch` of this process is listening."""
    return _listening > 0


# How many times the cache was emptied by `forget_all`: a caller read from the database
# before it is not kept after it.
_generation = 0
# How many `ChangeWatch` threads of this process listen (one a server worker; tests start more).
_listening = 0
_LISTENERS = threading.Lock()


SignedIn = Annotated[Call, Depends(signed_in)]
Unsigned = Annotated[Context, Depends(unsigned)]
