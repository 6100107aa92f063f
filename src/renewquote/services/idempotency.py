"""Idempotency keys: the first answer to a request is kept 24 hours and given back on retry.

A request is recognised by its method, path, query and body as canonical JSON (keys sorted, no
whitespace), so the same request written differently is the same request. A key claimed by a
process that died before answering is taken over once its lease has run out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from renewquote.storage import idempotency_keys
from renewquote.storage.database import Database

KEPT_FOR = timedelta(hours=24)
# A request that has not answered within this time is taken to have died with its process.
LEASE = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Claimed:
    """This request is the first with its key: run it, then `complete` or `release` its
    claim."""

    claim: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Replay:
    """The key was used with the same request: here is the first answer."""

    status_code: int
    body: str
    content_type: str


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The key was used with another request."""


@dataclass(frozen=True, slots=True)
class Running:
    """The first request with this key has not finished yet."""


Claim = Claimed | Replay | Mismatch | Running


def claim(db: Database, owner: str, key: str, request_hash: str, *, now: datetime) -> Claim:
    """Claim `key` for a request, or say what the key already holds."""
    try:
        return _claim(db, owner, key, request_hash, now)
    except IntegrityError:
        # Another request inserted the same key between our read and our insert.
        return Running()


def _claim(db: Database, owner: str, key: str, request_hash: str, now: datetime) -> Claim:
    with db.write() as conn:
        row = idempotency_keys.find(conn, owner, key)
        # A key is free when it was never claimed, when its answer is older than 24 hours, or
        # when the request that claimed it never answered within its lease (its process died).
        free = (
            row is None
            or row.expires_at <= now
            or (row.status_code is None and row.created_at <= now - LEASE)
        )
        if not free and row is not None:
            if row.request_hash != request_hash:
                return Mismatch()
            if row.status_code is not None:
                return Replay(row.status_code, row.response_body or "", row.content_type or "")
            return Running()
        claim = idempotency_keys.claim(
            conn,
            owner,
            key,
            request_hash,
            now=now,
            until=now + KEPT_FOR,
            replacing=None if row is None else row.id,
        )
        return Claimed(claim, now)


def complete(
    db: Database, claim: Claimed, *, status_code: int, body: str, content_type: str
) -> None:
    """Keep the answer given to the request that made `claim`; nothing if it was taken over."""
    with db.write() as conn:
        idempotency_keys.complete(
            conn,
            claim.claim,
            claim.at,
            status_code=status_code,
            body=body,
            content_type=content_type,
        )


def release(db: Database, claim: Claimed) -> None:
    """Forget a claim whose request failed on our side, so that a retry runs again."""
    with db.write() as conn:
        idempotency_keys.release(conn, claim.claim, claim.at)


def purge(db: Database, *, now: datetime) -> int:
    """Delete keys older than 24 hours; return how many."""
    with db.write() as conn:
        return idempotency_keys.purge(conn, now)
