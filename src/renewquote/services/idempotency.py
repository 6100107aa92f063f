"""Idempotency keys: the first answer to a request is kept 24 hours and given back on retry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from renewquote.storage.database import Database
from renewquote.storage.tables import idempotency_keys

KEPT_FOR = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Claimed:
    """This request is the first with its key: run it, then `complete` or `release`."""


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
        with db.write() as conn:
            conn.execute(
                delete(idempotency_keys).where(
                    idempotency_keys.c.owner == owner,
                    idempotency_keys.c.key == key,
                    idempotency_keys.c.expires_at <= now,
                )
            )
            conn.execute(
                insert(idempotency_keys),
                {
                    "owner": owner,
                    "key": key,
                    "request_hash": request_hash,
                    "status_code": None,
                    "response_body": None,
                    "content_type": None,
                    "created_at": now,
                    "expires_at": now + KEPT_FOR,
                },
            )
        return Claimed()
    except IntegrityError:
        pass  # someone holds the key: see what for
    with db.read() as conn:
        row = conn.execute(
            select(idempotency_keys).where(
                idempotency_keys.c.owner == owner, idempotency_keys.c.key == key
            )
        ).one_or_none()
    if row is None:
        return Running()  # released between our insert and our read: the caller retries
    if row.request_hash != request_hash:
        return Mismatch()
    if row.status_code is None:
        return Running()
    return Replay(row.status_code, row.response_body or "", row.content_type or "application/json")


def complete(
    db: Database, owner: str, key: str, *, status_code: int, body: str, content_type: str
) -> None:
    """Keep the answer given to the first request with `key`."""
    with db.write() as conn:
        conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.owner == owner, idempotency_keys.c.key == key)
            .values(status_code=status_code, response_body=body, content_type=content_type)
        )


def release(db: Database, owner: str, key: str) -> None:
    """Forget a key whose request failed on our side, so that a retry runs again."""
    with db.write() as conn:
        conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.owner == owner, idempotency_keys.c.key == key
            )
        )


def purge(db: Database, *, now: datetime) -> int:
    """Delete keys older than 24 hours; return how many."""
    with db.write() as conn:
        result = conn.execute(delete(idempotency_keys).where(idempotency_keys.c.expires_at <= now))
        return int(result.rowcount or 0)
