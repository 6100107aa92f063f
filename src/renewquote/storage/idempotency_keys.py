"""Idempotency keys: the first answer to a request, kept for retries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, insert, select, update

from renewquote.storage.tables import idempotency_keys

_KEY = idempotency_keys.c


def find(conn: Connection, owner: str, key: str) -> Row[Any] | None:
    """Return the row of `owner`'s `key`, locked until the transaction ends (PostgreSQL)."""
    return conn.execute(_FIND, {"the_owner": owner, "the_key": key}).first()


# Built once: every POST with an Idempotency-Key runs these.
_THIS_KEY = (_KEY.owner == bindparam("the_owner")) & (_KEY.key == bindparam("the_key"))
_FIND = select(idempotency_keys).where(_THIS_KEY).with_for_update()
_INSERT = insert(idempotency_keys)
_DELETE_ROW = delete(idempotency_keys).where(_KEY.id == bindparam("row"))
_COMPLETE = (
    update(idempotency_keys)
    .where(_THIS_KEY)
    .values(
        status_code=bindparam("answer_status"),
        response_body=bindparam("answer_body"),
        content_type=bindparam("answer_type"),
    )
)
_RELEASE = delete(idempotency_keys).where(_THIS_KEY)


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
        conn.execute(_DELETE_ROW, {"row": replacing})
    conn.execute(
        _INSERT,
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
    params = {"the_owner": owner, "the_key": key, "answer_status": status_code, "answer_body": body}
    conn.execute(_COMPLETE, {**params, "answer_type": content_type})


def release(conn: Connection, owner: str, key: str) -> None:
    """Forget `key`."""
    conn.execute(_RELEASE, {"the_owner": owner, "the_key": key})


def purge(conn: Connection, now: datetime) -> int:
    """Delete the keys kept past their time; return how many."""
    result = conn.execute(delete(idempotency_keys).where(_KEY.expires_at <= now))
    return int(result.rowcount or 0)
