"""Idempotency keys: the first answer to a request, kept for retries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from renewquote.storage.tables import idempotency_keys

_KEY = idempotency_keys.c


def find(conn: Connection, owner: str, key: str) -> Row[Any] | None:
    """Return the row of `owner`'s `key`, locked until the transaction ends (PostgreSQL)."""
    query = select(idempotency_keys).where(_KEY.owner == owner, _KEY.key == key).with_for_update()
    return conn.execute(query).first()


def claim(
    conn: Connection,
    owner: str,
    key: str,
    request_hash: str,
    *,
    now: datetime,
    until: datetime,
    replacing: int | None = None,
) -> None:
    """Store `key` as claimed now for the request `request_hash`, in place of the row
    `replacing` (found, and locked, by `find`) if it held one."""
    if replacing is not None:
        conn.execute(delete(idempotency_keys).where(_KEY.id == replacing))
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
            "expires_at": until,
        },
    )


def complete(
    conn: Connection, owner: str, key: str, *, status_code: int, body: str, content_type: str
) -> None:
    """Keep the answer given to the request that claimed `key`."""
    conn.execute(
        update(idempotency_keys)
        .where(_KEY.owner == owner, _KEY.key == key)
        .values(status_code=status_code, response_body=body, content_type=content_type)
    )


def release(conn: Connection, owner: str, key: str) -> None:
    """Forget `key`."""
    conn.execute(delete(idempotency_keys).where(_KEY.owner == owner, _KEY.key == key))


def purge(conn: Connection, now: datetime) -> int:
    """Delete the keys kept past their time; return how many."""
    result = conn.execute(delete(idempotency_keys).where(_KEY.expires_at <= now))
    return int(result.rowcount or 0)
