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
_INSERT = insert(idempotency_keys).returning(_KEY.id)
_DELETE_ROW = delete(idempotency_keys).where(_KEY.id == bindparam("row"))
# A claim is completed or released by its own row: a request whose key was taken over
# (its lease ran out) must not overwrite the answer of the one that took it.
# The row and when it was claimed: a row taken over keeps its id (SQLite may even give a new
# row the id of a deleted one), never its claim's moment.
_THIS_CLAIM = (_KEY.id == bindparam("claim")) & (_KEY.created_at == bindparam("claimed_at"))
_COMPLETE = (
    update(idempotency_keys)
    .where(_THIS_CLAIM)
    .values(
        status_code=bindparam("answer_status"),
        response_body=bindparam("answer_body"),
        content_type=bindparam("answer_type"),
    )
)
_RELEASE = delete(idempotency_keys).where(_THIS_CLAIM)


def claim(
    conn: Connection,
    owner: str,
    key: str,
    request_hash: str,
    *,
    now: datetime,
    until: datetime,
    replacing: int | None = None,
) -> int:
    """Store `key` as claimed now for the request `request_hash`, in place of the row
    `replacing` (found, and locked, by `find`) if it held one; return the claim's row id."""
    if replacing is not None:
        conn.execute(_DELETE_ROW, {"row": replacing})
    row_id: int = conn.execute(
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
    ).scalar_one()
    return row_id


def complete(
    conn: Connection,
    claim: int,
    claimed_at: datetime,
    *,
    status_code: int,
    body: str,
    content_type: str,
) -> None:
    """Keep the answer given to the request that claimed row `claim` at `claimed_at`."""
    params = {"claim": claim, "claimed_at": claimed_at, "answer_status": status_code}
    conn.execute(_COMPLETE, {**params, "answer_body": body, "answer_type": content_type})


def release(conn: Connection, claim: int, claimed_at: datetime) -> None:
    """Forget the claim of row `claim` made at `claimed_at` (nothing if it was taken over)."""
    conn.execute(_RELEASE, {"claim": claim, "claimed_at": claimed_at})


def purge(conn: Connection, now: datetime) -> int:
    """Delete the keys kept past their time; return how many."""
    result = conn.execute(delete(idempotency_keys).where(_KEY.expires_at <= now))
    return int(result.rowcount or 0)
