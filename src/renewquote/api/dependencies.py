"""What routes receive: the database, the signed-in actor, the caller's language, the clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from renewquote.api.problems import language_of
from renewquote.domain.errors import Code, RuleViolation
from renewquote.services.actors import Actor
from renewquote.services.auth import token_owner
from renewquote.storage.database import Database

bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token.")


async def get_db(request: Request) -> Database:
    """Return the application's database."""
    db: Database = request.app.state.db
    return db


async def get_clock(request: Request) -> Callable[[], datetime]:
    """Return the application's clock (UTC, naive); tests may set another."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock


DB = Annotated[Database, Depends(get_db)]
Clock = Annotated[Callable[[], datetime], Depends(get_clock)]


async def current_actor(
    db: DB,
    clock: Clock,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """Return who the bearer token belongs to; 401 without a valid one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise RuleViolation.one(Code.UNAUTHENTICATED, why="send Authorization: Bearer <token>")
    now = clock()
    token = credentials.credentials
    cached = TOKENS.get(token)
    if cached is not None and cached[1] > now and cached[2] > time.monotonic():
        return cached[0]
    actor, expires_at = await run_in_threadpool(token_owner, db, token, now=now)
    if len(TOKENS) >= TOKEN_CACHE_SIZE:
        TOKENS.clear()
    TOKENS[token] = (actor, expires_at, time.monotonic() + TOKEN_CACHE_SECONDS)
    return actor


# Who each recent token belongs to, per worker process: a database transaction less on every
# call. A token revoked through another worker keeps working here for at most this long.
TOKEN_CACHE_SECONDS = 10.0
TOKEN_CACHE_SIZE = 100_000
TOKENS: dict[str, tuple[Actor, datetime, float]] = {}


def forget_token(token: str) -> None:
    """Drop a revoked token from this process's cache at once."""
    TOKENS.pop(token, None)


async def language(request: Request) -> str:
    """Return the caller's language from Accept-Language: fr or en."""
    return language_of(request)


async def today(clock: Clock) -> date:
    """Return today's date by the application's clock."""
    return clock().date()


CurrentActor = Annotated[Actor, Depends(current_actor)]
Language = Annotated[str, Depends(language)]
Today = Annotated[date, Depends(today)]
