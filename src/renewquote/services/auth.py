"""Signing in: argon2 passwords, bearer tokens kept only as hashes, attempts limited."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection

from renewquote.domain.errors import Code, RuleViolation
from renewquote.services.access import Caller
from renewquote.storage import accounts
from renewquote.storage.accounts import Account
from renewquote.storage.database import Database

TOKEN_LIFETIME = timedelta(hours=12)
ATTEMPT_WINDOW = timedelta(minutes=15)
# Failed attempts before an account (from one address) is slowed down, and before an address
# (trying any accounts) waits out the window; several people may share one office address.
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
        language=account.language,
        region=account.region,
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
    """Check a password and give a token; too many failures make the next attempt wait (429).

    Failures are counted per account *from one address* (growing delays after five, so that
    nobody can lock a user out from everywhere) and per address (twenty in 15 minutes, for
    one address trying many accounts). An attempt is counted as a failure before its password
    is checked, under a lock on its counts: however many arrive at once, no more passwords are
    checked than the limits allow. A right password takes its failure back.
    """
    # Hashed: an e-mail of 254 characters and an IPv6 address fit any subject column, and the
    # table keeps no list of who tried to sign in.
    pair = "pair:" + token_hash(f"{email.lower()}|{address}")
    place = "address:" + token_hash(address)
    with db.write() as conn:
        counts = accounts.throttles(conn, [pair, place])
        failures = {subject: _recent(counts[subject], now) for subject in (pair, place)}
        wait = max(
            _wait(counts[pair], failures[pair], now, _pair_delay),
            _wait(counts[place], failures[place], now, _address_delay),
        )
        if wait > timedelta(0):
            raise RuleViolation.one(Code.RATE_LIMITED, retry_after=_seconds(wait))
        accounts.count_failures(conn, {s: n + 1 for s, n in failures.items()}, now)
        found = accounts.account_by_email(conn, email)
    if not _verified(found[1] if found else None, password) or found is None:
        raise _unauthenticated("wrong e-mail or password")
    with db.write() as conn:
        accounts.forgive(conn, pair)
        accounts.forgive(conn, place, by=1)
        # Counts older than the window say nothing any more: they go, so the table stays small.
        accounts.forget_failures_before(conn, now - ATTEMPT_WINDOW)
        return _new_token(conn, found[0].id, now, TOKEN_LIFETIME)


def _recent(throttle: accounts.Throttle, now: datetime) -> int:
    """The failures still counted: all of them, unless the last is older than the window."""
    last = throttle.last_failure_at
    return throttle.failures if last is not None and last > now - ATTEMPT_WINDOW else 0


def _wait(
    throttle: accounts.Throttle,
    failures: int,
    now: datetime,
    delay: Callable[[int], timedelta | None],
) -> timedelta:
    """How long a subject with `failures` must still wait before its next attempt."""
    pause = delay(failures)
    if pause is None or throttle.last_failure_at is None:
        return timedelta(0)
    return throttle.last_failure_at + pause - now


def _pair_delay(failures: int) -> timedelta | None:
    # Free attempts, then 1 s, 2 s, 4 s... at most 15 minutes: an account can be guessed at
    # only slowly from one address, and is never locked for whoever signs in from another.
    if failures < ACCOUNT_FAILURES:
        return None
    return min(timedelta(seconds=2 ** (failures - ACCOUNT_FAILURES)), ATTEMPT_WINDOW)


def _address_delay(failures: int) -> timedelta | None:
    return None if failures < ADDRESS_FAILURES else ATTEMPT_WINDOW


def _seconds(wait: timedelta) -> int:
    return max(1, int(wait.total_seconds() + 0.999))


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


def set_language(db: Database, caller: Caller, language: str) -> None:
    """Keep the language the caller chose for the portal (en or fr)."""
    if language not in ("en", "fr"):
        raise RuleViolation.one(Code.INVALID_INPUT, field="language", problem="en or fr")
    if caller.user_id is None:
        return
    with db.write() as conn:
        accounts.set_language(conn, caller.user_id, language)
