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


def test_a_queued_message_wakes_a_waiting_worker_on_postgresql(postgres_url: str) -> None:
    import threading
    import time

    from renewquote.storage.outbox import Waker

    db = Database(postgres_url)
    waker = Waker(db.engine)
    try:
        stop = threading.Event()

        def queue_soon() -> None:
            time.sleep(0.3)
            with db.write() as conn:
                outbox.enqueue(conn, "mail.test", [{"n": 1}], NOW)

        threading.Thread(target=queue_soon).start()
        started = time.monotonic()
        assert waker.wait(10, stop) is True  # woken by the commit, not by the 10 s
        assert time.monotonic() - started < 5
        # Nothing queued: it waits its time out, and a stop request ends the wait early.
        stop.set()
        started = time.monotonic()
        assert waker.wait(10, stop) is False
        assert time.monotonic() - started < 1
    finally:
        waker.close()
        db.dispose()


def test_on_sqlite_a_worker_just_waits(db: Database) -> None:
    import threading

    from renewquote.storage.outbox import Waker

    if not db.is_sqlite:
        return  # the PostgreSQL case is the test above
    waker = Waker(db.engine)
    assert waker.wait(0.05, threading.Event()) is False
