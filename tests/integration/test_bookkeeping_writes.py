"""`Database.write(durable=False)`: the worker's bookkeeping commits without waiting for the
disk on PostgreSQL, and is committed and visible like any other write on both databases."""

from __future__ import annotations

from sqlalchemy import func, select, text

from renewquote.storage import outbox
from renewquote.storage.database import Database
from renewquote.storage.tables import outbox as outbox_table
from tests.book import NOW


def test_a_bookkeeping_write_is_committed_and_seen_at_once(db: Database) -> None:
    with db.write(durable=False) as conn:
        outbox.enqueue(conn, "mail.test", [{"n": 1}, {"n": 2}], NOW)
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(outbox_table)).scalar_one() == 2


def test_only_bookkeeping_writes_skip_waiting_for_the_disk_on_postgresql(
    postgres_url: str,
) -> None:
    db = Database(postgres_url)
    try:
        with db.write(durable=False) as conn:
            assert conn.execute(text("SHOW synchronous_commit")).scalar_one() == "off"
        with db.write() as conn:
            assert conn.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
        with db.read() as conn:
            assert conn.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
    finally:
        db.dispose()
