"""Signing in: argon2 passwords, bearer tokens kept only as hashes, attempts limited."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update

from renewquote.domain.errors import Code, RuleViolation
from renewquote.services.actors import Actor, actor_from_row
from renewquote.storage.database import Database
from renewquote.storage.tables import api_tokens, sign_in_attempts, users

TOKEN_LIFETIME = timedelta(hours=12)
ATTEMPT_WINDOW = timedelta(minutes=15)
# Failed attempts allowed per window: an account is guessed at slowly, an address a little
# faster (several people may share one office address).
ACCOUNT_FAILURES = 5
ADDRESS_FAILURES = 20
TOKEN_PREFIX = "rq_"

_hasher = PasswordHasher()
# Checked against when the e-mail is unknown, so a wrong address costs as long as a wrong
# password and the answer does not tell which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A bearer token as handed to its owner, once; only its hash is stored."""

    access_token: str
    expires_at: datetime


def token_hash(token: str) -> str:
    """Return the stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    db: Database, email: str, *, now: datetime, lifetime: timedelta = TOKEN_LIFETIME
) -> IssuedToken:
    """Give `email` a new bearer token (for scripts and the command line)."""
    with db.write() as conn:
        user_id = conn.execute(
            select(users.c.id).where(func.lower(users.c.email) == email.lower())
        ).scalar_one_or_none()
        if user_id is None:
            raise RuleViolation.one(Code.NOT_FOUND, thing="user")
        return _new_token(conn, user_id, now, lifetime)


def sign_in(db: Database, email: str, password: str, *, address: str, now: datetime) -> IssuedToken:
    """Check a password and give a token; too many failures per account or address: 429."""
    subjects = {"account": f"account:{email.lower()}", "address": f"address:{address}"}
    with db.read() as conn:
        for kind, subject in subjects.items():
            limit = ACCOUNT_FAILURES if kind == "account" else ADDRESS_FAILURES
            rows = conn.execute(
                select(sign_in_attempts.c.at)
                .where(
                    sign_in_attempts.c.subject == subject,
                    sign_in_attempts.c.at > now - ATTEMPT_WINDOW,
                    sign_in_attempts.c.succeeded.is_(False),
                )
                .order_by(sign_in_attempts.c.at)
            ).scalars()
            failures = list(rows)
            if len(failures) >= limit:
                wait = failures[-limit] + ATTEMPT_WINDOW - now
                raise RuleViolation.one(
                    Code.RATE_LIMITED, retry_after=max(1, int(wait.total_seconds()) + 1)
                )
        user = conn.execute(
            select(users.c.id, users.c.password_hash).where(
                func.lower(users.c.email) == email.lower()
            )
        ).one_or_none()
    ok = _verified(user.password_hash if user else None, password)
    with db.write() as conn:
        conn.execute(
            insert(sign_in_attempts),
            [{"subject": s, "at": now, "succeeded": ok} for s in subjects.values()],
        )
        # Old attempts are of no use once out of the window.
        conn.execute(delete(sign_in_attempts).where(sign_in_attempts.c.at < now - ATTEMPT_WINDOW))
        if ok and user is not None:
            return _new_token(conn, user.id, now, TOKEN_LIFETIME)
    # Raised once the attempt is committed, so that it counts.
    raise _unauthenticated("wrong e-mail or password")


async def token_owner_async(db: Database, token: str, *, now: datetime) -> tuple[Actor, datetime]:
    """Return who a bearer token belongs to and when it expires, or refuse it (from the event
    loop, for the HTTP API)."""
    return owner_of(await db.fetch(_TOKEN_OWNER, owner_params(token, now), TokenOwner._make))


class TokenOwner(NamedTuple):
    """A token's user, as `OWNER_COLUMNS` select it, and when the token expires."""

    email: str
    kind: str
    id: int
    role: str | None
    customer_csn: str | None
    partner_csn: str | None
    expires_at: datetime


OWNER_COLUMNS = (*(users.c[name] for name in TokenOwner._fields[:-1]), api_tokens.c.expires_at)
# The token named by the parameter "hash" (see `owner_params`), neither revoked nor expired.
VALID_TOKEN = and_(
    api_tokens.c.token_hash == bindparam("hash"),
    api_tokens.c.revoked_at.is_(None),
    api_tokens.c.expires_at > bindparam("now"),
)


def owner_params(token: str, now: datetime) -> dict[str, object]:
    """Return the parameters of `VALID_TOKEN`."""
    return {"hash": token_hash(token), "now": now}


def owner_of(rows: Sequence[TokenOwner]) -> tuple[Actor, datetime]:
    """Return the actor and expiry of the first row, or refuse an unknown token."""
    if not rows:
        raise _unauthenticated("the token is unknown, expired or revoked")
    return actor_from_row(rows[0]), rows[0].expires_at


_TOKEN_OWNER = (
    select(*OWNER_COLUMNS).join(api_tokens, api_tokens.c.user_id == users.c.id).where(VALID_TOKEN)
)


def revoke_token(db: Database, token: str, *, now: datetime) -> None:
    """Revoke a bearer token at once."""
    with db.write() as conn:
        conn.execute(
            update(api_tokens)
            .where(
                and_(
                    api_tokens.c.token_hash == token_hash(token), api_tokens.c.revoked_at.is_(None)
                )
            )
            .values(revoked_at=now)
        )


def _new_token(conn: Connection, user_id: int, now: datetime, lifetime: timedelta) -> IssuedToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = now + lifetime
    conn.execute(
        insert(api_tokens),
        {
            "token_hash": token_hash(token),
            "user_id": user_id,
            "created_at": now,
            "expires_at": expires_at,
            "revoked_at": None,
        },
    )
    return IssuedToken(token, expires_at)


def _verified(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _unauthenticated(why: str) -> RuleViolation:
    return RuleViolation.one(Code.UNAUTHENTICATED, why=why)
