"""SQLite: writers take the write lock as they begin, readers never wait for it."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from renewquote.storage.database import Database
from renewquote.storage.migrate import current_revision, head_revision
from renewquote.storage.tables import quotes


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "locked.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def write_lock(sqlite_db: Database) -> Iterator[sqlite3.Connection]:
    """Another process's writer, holding SQLite's write lock."""
    other = sqlite3.connect(str(sqlite_db.sqlite_path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield other
    other.execute("ROLLBACK")
    other.close()


def test_reads_do_not_wait_for_a_writer(sqlite_db: Database, write_lock: sqlite3.Connection):
    started = time.monotonic()
    assert current_revision(sqlite_db) == head_revision()  # every command starts with it
    with sqlite_db.read() as conn:
        assert conn.execute(select(func.count()).select_from(quotes)).scalar_one() == 0
    assert time.monotonic() - started < 5  # not the 30 s of busy_timeout


def test_a_writer_takes_the_lock_as_it_begins(sqlite_db: Database):
    with sqlite_db.write() as conn:
        conn.execute(text("SELECT 1"))  # read only, yet the lock is held from the start
        other = sqlite3.connect(str(sqlite_db.sqlite_path), timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
