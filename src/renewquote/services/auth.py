"""Signing in: argon2 passwords, bearer tokens kept only as hashes, attempts limited."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select

from renewquote.domain.errors import Code, RuleViolation
from renewquote.services.access import Caller
from renewquote.storage import accounts
from renewquote.storage.accounts import Account
from renewquote.storage.database import Database
from renewquote.storage.tables import sign_in_attempts

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


def caller_of(account: Account) -> Caller:
    """Return the caller a user acts as."""
    return Caller(
        email=account.email,
        kind=account.kind,
        user_id=account.id,
        role=account.role,
        customer_csn=account.customer_csn,
        partner_csn=account.partner_csn,
    )


def find_caller(db: Database, email: str) -> Caller:
    """Return the caller for `email`, or `not_found`."""
    with db.read() as conn:
        found = accounts.account_by_email(conn, email)
    if found is None:
        raise RuleViolation.one(Code.NOT_FOUND, thing="user")
    return caller_of(found[0])


def issue_token(
    db: Database, email: str, *, now: datetime, lifetime: timedelta = TOKEN_LIFETIME
) -> IssuedToken:
    """Give `email` a new bearer token (for scripts and the command line)."""
    with db.write() as conn:
        found = accounts.account_by_email(conn, email)
        if found is None:
            raise RuleViolation.one(Code.NOT_FOUND, thing="user")
        return _new_token(conn, found[0].id, now, lifetime)


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
        found = accounts.account_by_email(conn, email)
    ok = _verified(found[1] if found else None, password)
    with db.write() as conn:
        conn.execute(
            insert(sign_in_attempts),
            [{"subject": s, "at": now, "succeeded": ok} for s in subjects.values()],
        )
        # Old attempts are of no use once out of the window.
        conn.execute(delete(sign_in_attempts).where(sign_in_attempts.c.at < now - ATTEMPT_WINDOW))
        if ok and found is not None:
            return _new_token(conn, found[0].id, now, TOKEN_LIFETIME)
    # Raised once the attempt is committed, so that it counts.
    raise _unauthenticated("wrong e-mail or password")


def token_caller(db: Database, token: str, *, now: datetime) -> tuple[Caller, datetime]:
    """Return who a bearer token belongs to and when it expires, or refuse it."""
    with db.read() as conn:
        found = accounts.token_owner(conn, token_hash(token), now)
    if found is None:
        raise _unauthenticated("the token is unknown, expired or revoked")
    return caller_of(found[0]), found[1]


def revoke_token(db: Database, token: str, *, now: datetime) -> None:
    """Revoke a bearer token at once."""
    with db.write() as conn:
        accounts.revoke_token(conn, token_hash(token), now)


def _new_token(conn: Connection, user_id: int, now: datetime, lifetime: timedelta) -> IssuedToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = now + lifetime
    accounts.insert_token(conn, user_id, token_hash(token), now=now, expires_at=expires_at)
    return IssuedToken(token, expires_at)


def _verified(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _unauthenticated(why: str) -> RuleViolation:
    return RuleViolation.one(Code.UNAUTHENTICATED, why=why)
