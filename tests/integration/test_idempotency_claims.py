"""Idempotency claims on SQLite and PostgreSQL: a request whose key was taken over after its
lease cannot overwrite the answer of the request that took it."""

from __future__ import annotations

from sqlalchemy import update

from renewquote.services import idempotency
from renewquote.storage.database import Database
from renewquote.storage.tables import idempotency_keys
from tests.book import NOW


def test_a_slow_request_whose_key_was_taken_over_leaves_the_new_claim_alone(db: Database):
    first = idempotency.claim(db, "marie", "k", "request", now=NOW)
    assert isinstance(first, idempotency.Claimed)
    with db.write() as conn:
        conn.execute(update(idempotency_keys).values(created_at=NOW - idempotency.LEASE * 2))
    later = NOW + idempotency.LEASE / 2
    second = idempotency.claim(db, "marie", "k", "request", now=later)
    assert isinstance(second, idempotency.Claimed) and second != first
    # The slow first request answers at last: its claim is gone, so nothing is kept for it.
    idempotency.complete(db, first, status_code=201, body="first", content_type="x")
    assert isinstance(
        idempotency.claim(db, "marie", "k", "request", now=later), idempotency.Running
    )
    idempotency.release(db, first)
    assert isinstance(
        idempotency.claim(db, "marie", "k", "request", now=later), idempotency.Running
    )
    idempotency.complete(db, second, status_code=201, body="second", content_type="x")
    replay = idempotency.claim(db, "marie", "k", "request", now=later)
    assert replay == idempotency.Replay(201, "second", "x")
