"""What one round of delivering outbox rows (mail, webhooks) did."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from renewquote.storage import outbox
from renewquote.storage.database import Database
from renewquote.storage.outbox import Claimed, OutboxStatus


@dataclass(slots=True)
class DeliveryRound:
    """The rows a round delivered, gave back to retry, gave up, or lost to another worker."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0  # claims that ran out before their outcome could be recorded

    @property
    def claimed(self) -> int:
        """Return how many rows the round took."""
        return self.sent + self.retried + self.failed + self.lost

    def add(self, other: DeliveryRound) -> None:
        """Count another round's work in this one."""
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.lost += other.lost


# Ends a claimed row, in one statement on PostgreSQL: (connection, row, status, now) -> False
# if the claim was lost.
Finish = Callable[[Connection, Claimed, OutboxStatus, datetime], bool]


def hold(db: Database, row: Claimed, *, now: datetime, lease: timedelta) -> Claimed | None:
    """Return `row` held for long enough to deliver it now; None if another worker took it.

    A claim's lease is renewed once a quarter of it has gone: until it runs out no other
    worker can take the row, so a batch that goes at its usual pace (a second or two) writes
    nothing before each delivery, each delivery starts with at least three quarters of a
    lease ahead, and a batch that outlasted its lease finds out before sending.
    """
    if row.lease_until - now > lease * 3 / 4:
        return row
    with db.write(durable=False) as conn:
        return outbox.renew(conn, row, now=now, lease=lease)


def settle(
    db: Database,
    row: Claimed,
    done: DeliveryRound,
    *,
    sent: bool,
    now: datetime,
    error: str | None,
    payload: Mapping[str, Any] | None = None,
    also: Callable[[Connection], None] | None = None,
    finish: Finish | None = None,
) -> bool:
    """End a claimed row as sent or failed (its payload replaced if given), with what else
    its outcome changes (`also`, in the same transaction), and count it; False if the claim
    was lost to another worker (then nothing is changed).

    `finish` ends the row in one statement on PostgreSQL (`outbox.finish` by default, or one
    that also records the outcome elsewhere, as `outbox.finish_mail`)."""
    status = OutboxStatus.SENT if sent else OutboxStatus.FAILED
    # "Sent" waits for the disk: lost to a crash of the database server, it would send again
    # every mail whose record went with it. A failure recorded twice harms no one.
    with db.write(durable=sent, single=also is None) as conn:
        if finish is None:
            kept = outbox.finish(conn, row, status, now=now, error=error, payload=payload)
        else:
            kept = finish(conn, row, status, now)
        if kept and also is not None:
            also(conn)
    if not kept:
        done.lost += 1
    elif sent:
        done.sent += 1
    else:
        done.failed += 1
    return kept


def give_back(
    db: Database,
    row: Claimed,
    done: DeliveryRound,
    *,
    at: datetime,
    error: str,
    counted: bool = True,
) -> None:
    """Give a claimed row back to be tried again at `at`, and count it (`counted=False`: the
    row was not tried, and its attempt is taken back)."""
    with db.write(durable=False) as conn:
        kept = outbox.retry(conn, row, at=at, error=error, counted=counted)
    if kept:
        done.retried += 1
    else:
        done.lost += 1
