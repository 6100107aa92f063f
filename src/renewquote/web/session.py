"""Who is signed in to the portal, and the forms' protection against other sites.

The session is a bearer token of the API's own kind (`services.auth.sign_in`, rate-limited the
same way), kept in an HttpOnly, SameSite=Lax cookie (Secure over https) that lasts as long as
the token. Every form carries a random value that must equal the one in a second, Strict
cookie (double submit), as a hidden field or, from htmx, the `X-CSRF-Token` header.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from renewquote.api.dependencies import caller_of
from renewquote.domain.errors import RuleViolation
from renewquote.services.access import Caller
from renewquote.storage.database import Database

SESSION_COOKIE = "rq_session"
FORM_COOKIE = "rq_form"
CSRF_HEADER = "x-csrf-token"


async def signed_in(db: Database, request: Request, now: datetime) -> Caller | None:
    """Return the caller whose session the request carries, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return await caller_of(db, token, now)
    except RuleViolation:
        return None


def keep_session(
    response: Response, request: Request, token: str, expires_at: datetime, now: datetime
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max(1, int((expires_at - now).total_seconds())),
        httponly=True,
        samesite="lax",
        secure=over_https(request),
        path="/",
    )


def over_https(request: Request) -> bool:
    """Tell whether the browser reaches the portal over https: as the request says, or as
    RENEWQUOTE_PUBLIC_URL says (behind a proxy that ends TLS and is not trusted for its
    forwarded headers, the request itself looks like http)."""
    return request.url.scheme == "https" or bool(request.app.state.public_https)


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def form_token(request: Request) -> str:
    """Return the value forms must carry: the browser's, or a new one (`keep_form_token`)."""
    return request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)


def keep_form_token(response: Response, request: Request, value: str) -> None:
    if request.cookies.get(FORM_COOKIE) == value:
        return
    response.set_cookie(
        FORM_COOKIE,
        value,
        httponly=True,
        samesite="strict",
        secure=over_https(request),
        path="/",
    )


def form_allowed(request: Request, sent: str | None) -> bool:
    """Tell whether a form (or an htmx request) carries the browser's form value."""
    kept = request.cookies.get(FORM_COOKIE)
    given = sent or request.headers.get(CSRF_HEADER)
    return bool(kept and given) and hmac.compare_digest(str(kept), str(given))
