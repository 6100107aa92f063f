"""Databases for the tests: every storage test runs on SQLite and, when CI gives one, PostgreSQL.

`RENEWQUOTE_TEST_POSTGRES_URL` names a PostgreSQL database to start from (`.ci/run` sets it);
each xdist worker gets its own database next to it, migrated once and emptied between tests.
Without it the PostgreSQL half is skipped, and the skip says why.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from renewquote.services.access import Caller
from renewquote.services.auth import find_caller
from renewquote.services.book import load_book
from renewquote.storage.database import Database
from renewquote.storage.migrate import upgrade
from renewquote.storage.tables import Base
from tests.book import BOOK

POSTGRES_URL = os.environ.get("RENEWQUOTE_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate one SQLite file through the real migrations; each test copies it."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url(worker_id: str) -> Iterator[str]:
    """Create this worker's PostgreSQL database and migrate it through the real migrations."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL half skipped: RENEWQUOTE_TEST_POSTGRES_URL is not set")
    base = make_url(POSTGRES_URL)
    name = f"{base.database}_rq_{worker_id}_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    upgrade(db)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
    else:
        database = Database(request.getfixturevalue("postgres_url"))
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with database.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    """Name the xdist worker (or `main` without xdist)."""
    workerinput = getattr(request.config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "main"


# Real argon2, at the lowest cost: the tests check that hashes verify, not that they are slow.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def book(db: Database) -> Database:
    """The database with the test book loaded."""
    load_book(db, BOOK, hasher=FAST_HASHER)
    return db


@pytest.fixture
def actor(book: Database):
    """Look up the actor for an e-mail of the test book."""

    def find(email: str) -> Caller:
        return find_caller(book, email)

    return find
