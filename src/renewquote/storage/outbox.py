"""The outbox: messages (mails, webhooks) written in the transaction that decided them, and
claimed by workers under a lease.

A row moves `pending -> sending -> sent | failed`. A claim sets `sending`, counts the attempt
and holds the row until `lease_until`; a worker that dies mid-send leaves a lease that runs
out, and the next claim takes the row again (with the same payload, so the same Message-ID
or webhook id). On PostgreSQL claimers skip the rows another holds (`FOR UPDATE SKIP
LOCKED`); on SQLite, which has one writer at a time, the same conditional `UPDATE ...
RETURNING` simply waits its turn.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from threading import Event
from time import monotonic
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from renewquote.storage.database import listen
from renewquote.storage.tables import outbox, quote_recipients


class OutboxStatus(StrEnum):
    """Where an outbox row stands."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Claimed:
    """An outbox row a worker holds until `lease_until`; `attempts` counts this one."""

    id: int
    topic: str
    payload: Mapping[str, Any]
    attempts: int
    lease_until: datetime


def enqueue(
    conn: Connection, topic: str, payloads: Collection[Mapping[str, Any]], now: datetime
) -> None:
    """Queue messages that leave the process once this transaction commits (on PostgreSQL,
    waking the workers that wait for them: `Waker`)."""
    if payloads:
        if conn.dialect.name == "postgresql":
            conn.execute(_NOTIFY)  # sent with the commit, not before
        conn.execute(
            _INSERT,
            [
                {
                    "topic": topic,
                    "payload": dict(payload),
                    "status": OutboxStatus.PENDING.value,
                    "created_at": now,
                    "available_at": now,
                    "attempts": 0,
                }
                for payload in payloads
            ],
        )


_INSERT = insert(outbox)
CHANNEL = "renewquote_outbox"
_NOTIFY = select(func.pg_notify(CHANNEL, ""))


def claim(
    conn: Connection, topics: Collection[str], *, now: datetime, lease: timedelta, limit: int
) -> list[Claimed]:
    """Hold up to `limit` due rows of these topics, oldest first: pending ones whose time has
    come, and those whose holder's lease ran out."""
    due = (
        select(outbox.c.id)
        .where(
            outbox.c.topic.in_(bindparam("topics", expanding=True)),
            or_(
                and_(
                    outbox.c.status == OutboxStatus.PENDING.value,
                    outbox.c.available_at <= bindparam("now"),
                ),
                and_(
                    outbox.c.status == OutboxStatus.SENDING.value,
                    outbox.c.lease_until < bindparam("now"),
                ),
            ),
        )
        .order_by(outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # Chosen once (a materialized CTE), so that the planner never runs the locking
    # subquery twice for one claim.
    chosen = due.cte("due").prefix_with("MATERIALIZED")
    lease_until = now + lease
    rows = conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(select(chosen.c.id)))
        .values(
            status=OutboxStatus.SENDING.value,
            lease_until=lease_until,
            attempts=outbox.c.attempts + 1,
        )
        .returning(outbox.c.id, outbox.c.topic, outbox.c.payload, outbox.c.attempts),
        {"topics": sorted(topics), "now": now},
    ).all()
    return sorted(
        (Claimed(r.id, r.topic, r.payload, r.attempts, lease_until) for r in rows),
        key=lambda c: c.id,
    )


def renew(conn: Connection, claimed: Claimed, *, now: datetime, lease: timedelta) -> Claimed | None:
    """Hold a claimed row for `lease` more from `now`, just before sending it; None if the
    claim was lost (its lease ran out and another worker took the row)."""
    lease_until = now + lease
    held = _still_held(conn, _RENEW, claimed, {"new_lease_until": lease_until})
    return dataclasses.replace(claimed, lease_until=lease_until) if held else None


def finish(
    conn: Connection,
    claimed: Claimed,
    status: OutboxStatus,
    *,
    now: datetime,
    error: str | None = None,
    payload: Mapping[str, Any] | None = None,
) -> bool:
    """End a claimed row as `sent` or `failed` (its payload replaced if given, say to drop a
    secret it no longer needs); False if the claim was lost (the lease ran out and another
    worker took the row)."""
    values = _finished(status, now, error)
    if payload is None:
        return _still_held(conn, _FINISH, claimed, values)
    return _still_held(conn, _FINISH_WITH_PAYLOAD, claimed, {**values, "payload": dict(payload)})


def finish_mail(
    conn: Connection,
    claimed: Claimed,
    status: OutboxStatus,
    *,
    now: datetime,
    error: str | None,
    payload: Mapping[str, Any],
    recipient_id: int,
    delivery: str,
) -> bool:
    """End a claimed quote mail as `finish` does, and record on its recipient how it went
    (`delivery`, now, the error); False, changing nothing, if the claim was lost.

    On PostgreSQL in one statement, so that it can commit on its own (`Database.write`'s
    `single`), without the round trips of BEGIN and COMMIT: a worker records one a mail.
    """
    values = {
        **_held(claimed),
        **_finished(status, now, error),
        "payload": dict(payload),
        "recipient_id": recipient_id,
        "delivery": delivery,
        "delivery_at": now,
        "delivery_error": error,
    }
    if conn.dialect.name == "postgresql":
        return bool(conn.execute(_FINISH_MAIL, values).scalar_one())
    if not conn.execute(_FINISH_WITH_PAYLOAD, values).rowcount:
        return False
    conn.execute(_RECORD_DELIVERY, values)
    return True


def _finished(status: OutboxStatus, now: datetime, error: str | None) -> dict[str, Any]:
    return {"new_status": status.value, "processed_at": now, "last_error": error}


def retry(
    conn: Connection, claimed: Claimed, *, at: datetime, error: str, counted: bool = True
) -> bool:
    """Give a claimed row back to be tried again at `at`; False if the claim was lost.

    `counted=False` for a row that was not tried after all (its server could not be reached):
    the attempt its claim counted is taken back."""
    values = {"available_at": at, "last_error": error, "taken_back": 0 if counted else 1}
    return _still_held(conn, _RETRY, claimed, values)


# Each change of a claimed row is one statement, built once, that applies only while the
# claim holds: the row still `sending` under the same lease and attempt.
_HELD = update(outbox).where(
    outbox.c.id == bindparam("claimed_id"),
    outbox.c.status == OutboxStatus.SENDING.value,
    outbox.c.lease_until == bindparam("claimed_lease_until"),
    outbox.c.attempts == bindparam("claimed_attempts"),
)
_RENEW = _HELD.values(lease_until=bindparam("new_lease_until"))
_FINISH = _HELD.values(
    status=bindparam("new_status"),
    processed_at=bindparam("processed_at"),
    lease_until=None,
    last_error=bindparam("last_error"),
)
_FINISH_WITH_PAYLOAD = _FINISH.values(payload=bindparam("payload"))
_RETRY = _HELD.values(
    status=OutboxStatus.PENDING.value,
    available_at=bindparam("available_at"),
    lease_until=None,
    last_error=bindparam("last_error"),
    attempts=outbox.c.attempts - bindparam("taken_back"),
)


_RECORD_DELIVERY = (
    update(quote_recipients)
    .where(quote_recipients.c.id == bindparam("recipient_id"))
    .values(
        delivery=bindparam("delivery"),
        delivery_at=bindparam("delivery_at"),
        delivery_error=bindparam("delivery_error"),
    )
)
_FINISHED = _FINISH_WITH_PAYLOAD.returning(outbox.c.id).cte("finished")
# Data-modifying CTEs run whether or not the main statement reads them (add_cte renders one
# it does not); the recipient is changed only if the claim held.
_FINISH_MAIL = (
    select(func.count())
    .select_from(_FINISHED)
    .add_cte(
        _RECORD_DELIVERY.where(exists(select(_FINISHED.c.id)))
        .returning(quote_recipients.c.id)
        .cte("recorded")
    )
)


def _still_held(
    conn: Connection, statement: Any, claimed: Claimed, values: Mapping[str, Any]
) -> bool:
    return conn.execute(statement, {**_held(claimed), **values}).rowcount == 1


def _held(claimed: Claimed) -> dict[str, Any]:
    """The parameters of `_HELD`: the claim as the worker holds it."""
    return {
        "claimed_id": claimed.id,
        "claimed_lease_until": claimed.lease_until,
        "claimed_attempts": claimed.attempts,
    }


@dataclass(frozen=True, slots=True)
class Trouble:
    """An outbox row that did not go: given up, or held past its lease by a worker that
    stopped, or tried more than once and waiting again."""

    id: int
    topic: str
    payload: Mapping[str, Any]
    status: OutboxStatus
    attempts: int
    created_at: datetime
    available_at: datetime
    last_error: str | None


def troubles(conn: Connection, *, now: datetime, limit: int) -> list[Trouble]:
    """Return the newest rows that failed, are stuck past their lease, or wait to be retried."""
    query = (
        select(
            outbox.c.id,
            outbox.c.topic,
            outbox.c.payload,
            outbox.c.status,
            outbox.c.attempts,
            outbox.c.created_at,
            outbox.c.available_at,
            outbox.c.last_error,
        )
        .where(
            or_(
                outbox.c.status == OutboxStatus.FAILED.value,
                and_(outbox.c.status == OutboxStatus.SENDING.value, outbox.c.lease_until < now),
                and_(outbox.c.status == OutboxStatus.PENDING.value, outbox.c.attempts > 0),
            )
        )
        .order_by(outbox.c.id.desc())
        .limit(limit)
    )
    return [
        Trouble(
            r.id,
            r.topic,
            r.payload,
            OutboxStatus(r.status),
            r.attempts,
            r.created_at,
            r.available_at,
            r.last_error,
        )
        for r in conn.execute(query)
    ]


class Waker:
    """How a worker waits for work between rounds: on PostgreSQL it LISTENs, so a message
    queued by any process wakes it at once (its round is still the same claim); on SQLite it
    just waits."""

    def __init__(self, engine: Engine) -> None:
        self._connection: Any = None
        if engine.dialect.name == "postgresql":
            self._connection = listen(engine, CHANNEL)  # the worker's own, while it runs

    def wait(self, seconds: float, stop: Event) -> bool:
        """Wait up to `seconds`, or until a message is queued or `stop` is set; True if woken
        by a message."""
        if self._connection is None:
            stop.wait(seconds)
            return False
        woken = False
        # Short slices, so that a stop request is heard within a fraction of a second.
        deadline = monotonic() + seconds
        while not stop.is_set() and not woken:
            left = deadline - monotonic()
            if left <= 0:
                break
            for _ in self._connection.notifies(timeout=min(left, 0.5), stop_after=1):
                woken = True
        return woken

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
