"""What routes receive: the caller (who, over which database, when, in which language)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from starlette.datastructures import Headers

from renewquote.api.problems import language_of
from renewquote.domain.errors import Code, RuleViolation
from renewquote.services.actors import Actor
from renewquote.services.auth import token_owner_async
from renewquote.storage.database import Database


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
class Bearer(Context):
    """A call with a bearer token not checked yet, and who it is if this process knows."""

    token: str
    actor: Actor | None


@dataclass(frozen=True, slots=True)
class Caller(Context):
    """A signed-in caller: the context, its token and who it is."""

    token: str
    actor: Actor


def context_of(request: Request) -> Context:
    """Return the context of a request, signed in or not."""
    clock: Callable[[], datetime] = request.app.state.clock
    return Context(request.app.state.db, clock(), language_of(request))


def bearer_token(headers: Headers) -> str | None:
    """Return the token of an `Authorization: Bearer <token>` header, or None without one."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class _BearerScheme(SecurityBase):
    """HTTP bearer authentication as OpenAPI shows it (FastAPI's `HTTPBearer` scheme), as a
    dependency that reads the token itself and gives the route what it needs.

    One dependency rather than `HTTPBearer` under another: FastAPI solves each level of
    dependencies on every request, which was 3-4 % of a GET /renewal-groups.
    """

    def __init__(self) -> None:
        self.model = HTTPBearerModel(description="A token from POST /api/v1/auth/token.")
        self.scheme_name = "HTTPBearer"

    @staticmethod
    def bearer(request: Request) -> Bearer:
        token = bearer_token(request.headers)
        if token is None:
            raise RuleViolation.one(Code.UNAUTHENTICATED, why="send Authorization: Bearer <token>")
        context = context_of(request)
        actor = known_actor(token, context.now)
        return Bearer(context.db, context.now, context.language, token, actor)


class _BearerOf(_BearerScheme):
    async def __call__(self, request: Request) -> Bearer:
        """Return the bearer token, for a route that checks it along with its own query; 401
        without one."""
        return self.bearer(request)


class _SignedIn(_BearerScheme):
    async def __call__(self, request: Request) -> Caller:
        """Return the caller that the bearer token belongs to; 401 without a valid one."""
        call = self.bearer(request)
        actor = call.actor or await actor_of(call.db, call.token, call.now)
        return Caller(call.db, call.now, call.language, call.token, actor)


bearer_of = _BearerOf()
signed_in = _SignedIn()


def known_actor(token: str, now: datetime) -> Actor | None:
    """Return who a token belongs to if this process checked it lately and it still holds."""
    cached = TOKENS.get(token)
    if cached is not None and cached[-2] > now and cached[-1] > time.monotonic():
        return Actor(*cached[:-2])
    return None


async def actor_of(db: Database, token: str, now: datetime) -> Actor:
    """Return who a token belongs to: from this process's cache, or checked in the database
    and kept; `unauthenticated` for an unknown, expired or revoked one."""
    actor = known_actor(token, now)
    if actor is None:
        actor, expires_at = await token_owner_async(db, token, now=now)
        remember(token, actor, expires_at)
    return actor


def remember(token: str, actor: Actor, expires_at: datetime) -> None:
    """Keep who a token belongs to for `TOKEN_CACHE_SECONDS`."""
    if len(TOKENS) >= TOKEN_CACHE_SIZE:
        TOKENS.clear()
    values = (getattr(actor, name) for name in _ACTOR_FIELDS)
    TOKENS[token] = (*values, expires_at, time.monotonic() + TOKEN_CACHE_SECONDS)


async def unsigned(request: Request) -> Context:
    """Return the context of a call that needs no token."""
    return context_of(request)


# Who each recent token belongs to, per worker process: a database query less on every
# call. A token revoked through another worker keeps working here for at most this long.
TOKEN_CACHE_SECONDS = 10.0
TOKEN_CACHE_SIZE = 100_000
# An entry is the actor's fields, the token's expiry and the entry's own deadline: plain
# values, which the garbage collector stops tracking, where 10,000 `Actor` objects made every
# full collection of a worker take 15-45 ms (and the p99 of GET /renewal-groups with it).
TOKENS: dict[str, tuple[Any, ...]] = {}
_ACTOR_FIELDS = tuple(field.name for field in fields(Actor))


def forget_token(token: str) -> None:
    """Drop a revoked token from this process's cache at once."""
    TOKENS.pop(token, None)


SignedIn = Annotated[Caller, Depends(signed_in)]
BearerToken = Annotated[Bearer, Depends(bearer_of)]
Unsigned = Annotated[Context, Depends(unsigned)]
