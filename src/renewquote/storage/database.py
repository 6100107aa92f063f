"""Connecting to SQLite or PostgreSQL, with transactions that behave alike on both.

SQLAlchemy is the one SQL executor: every statement goes through `Connection.execute`, with its
compiled cache, its type processing (the `ExactDecimal` guard included) and, on PostgreSQL,
psycopg's prepared statements and `insertmanyvalues`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from renewquote.storage import pgcursor

# Connections per worker process and engine; two workers stay well under PostgreSQL's default
# of 100 connections.
POOL_SIZE = 10


class Database:
    """One database, and the two kinds of transaction the services use."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            # Writers take the write lock as they begin, so two writers queue instead of
            # failing half-way; readers do not wait for it (WAL). One engine in memory, where
            # each engine would be a database of its own.
            self.engine = self.bookkeeper = _sqlite_engine(url, "BEGIN IMMEDIATE", **engine_options)
            in_memory = _in_memory(self.url)
            self.reader = (
                self.engine if in_memory else _sqlite_engine(url, "BEGIN", **engine_options)
            )
        else:
            # Pools kept open, without a ping per checkout: opening sessions under load
            # and pinging before each checkout cost more than the queries (bench/http_load.py).
            options = {"pool_size": POOL_SIZE, "max_overflow": 0, "pool_recycle": 1800}
            engine_options = _with_cursor(engine_options)
            self.engine = create_engine(url, **{**options, **engine_options})
            # Reads run outside BEGIN ... COMMIT: under READ COMMITTED every statement takes
            # its own snapshot anyway, and the two round trips saved cost more than the query.
            self.reader = create_engine(
                url, isolation_level="AUTOCOMMIT", **{**options, **engine_options}
            )
            # Bookkeeping writes (`write(durable=False)`) commit without waiting for the disk:
            # set once per session, not once per transaction (a round trip each).
            bookkeeping = {**options, "pool_size": 2, **engine_options}
            connect_args = {**bookkeeping.pop("connect_args", {})}
            given = connect_args.get("options", "")
            connect_args["options"] = f"{given} -c synchronous_commit=off".strip()
            self.bookkeeper = create_engine(url, connect_args=connect_args, **bookkeeping)

    @property
    def sqlite_path(self) -> Path | None:
        """Return the file of a SQLite database (None in memory or on PostgreSQL)."""
        if not self.is_sqlite or _in_memory(self.url):
            return None
        return Path(str(self.url.database))

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """Read: in one transaction on SQLite (one snapshot), statement by statement on
        PostgreSQL (READ COMMITTED: each statement sees what was committed when it began)."""
        if self.is_sqlite:
            with self.reader.begin() as conn:
                yield conn
            return
        # Autocommit: no transaction to begin or end (SQLAlchemy's would do nothing but cost).
        with self.reader.connect() as conn:
            yield conn

    @contextmanager
    def write(self, *, durable: bool = True, single: bool = False) -> Iterator[Connection]:
        """Open a transaction that writes: committed once at the end, rolled back on any error.

        On SQLite it takes the write lock at once (BEGIN IMMEDIATE), so two writers queue
        instead of failing half-way; PostgreSQL callers lock the rows they change.

        `durable=False` is for bookkeeping that can be lost to a power cut of the database
        server without harm, such as an outbox row claimed or given back to retry (the worst
        outcome is a claim taken again after its lease): on PostgreSQL the commit returns without
        waiting for its WAL to reach the disk (`synchronous_commit = off`, on sessions kept
        for this), yet is visible to everyone at once and survives the worker's own
        crash. SQLite commits as usual.

        `single` is for a transaction that writes in one statement, after statements that only
        read (if any): on PostgreSQL each commits on its own (autocommit), saving the round
        trips of BEGIN and COMMIT. It is the same transaction as far as anyone can tell: under
        READ COMMITTED each statement reads its own snapshot inside a transaction too, and the
        one statement that writes stores all of its rows or none.
        """
        engine = self.engine if durable else self.bookkeeper
        with engine.connect() as conn:
            if single and not self.is_sqlite:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                yield conn
                return
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        self.reader.dispose()
        self.bookkeeper.dispose()


def listen(engine: Engine, channel: str) -> psycopg.Connection[Any]:
    """Open a PostgreSQL connection of its own (outside the pools) that LISTENs on `channel`,
    for a thread that waits for notifications. TCP keepalives and a bound on unacknowledged
    sends make a connection the network dropped fail within a minute instead of waiting on
    in silence."""
    connection = psycopg.connect(
        engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
        autocommit=True,
        keepalives=1,
        keepalives_idle=30,
        keepalives_interval=10,
        keepalives_count=3,
        tcp_user_timeout=30_000,
    )
    try:
        connection.execute(f"LISTEN {channel}")
    except BaseException:
        connection.close()
        raise
    return connection


def _with_cursor(engine_options: dict[str, Any]) -> dict[str, Any]:
    """Return `engine_options` with psycopg's connections making our cursors (pgcursor)."""
    connect_args = {"cursor_factory": pgcursor.Cursor, **engine_options.get("connect_args", {})}
    return {**engine_options, "connect_args": connect_args}


def _in_memory(url: URL) -> bool:
    """Tell whether a SQLite URL names a database in memory, which lives with its connection."""
    return url.database in (None, "", ":memory:")


def _sqlite_engine(url: str, begin: str, **engine_options: Any) -> Engine:
    """An engine whose transactions start with `begin` ("BEGIN IMMEDIATE" or "BEGIN")."""
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, **engine_options
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        if not _in_memory(make_url(url)):
            cursor.execute("PRAGMA journal_mode = WAL")
            # FULL: a committed order survives a power cut, as on PostgreSQL with its defaults.
            cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    def do_begin(dbapi_connection: Any) -> None:
        # The sqlite3 module left transactions to us (isolation_level None); SQLAlchemy calls
        # this where they start and wraps its errors. Not its "begin" event, the documented
        # recipe: any such event makes the engine dispatch its events around every statement
        # too (6 % of a quote's instructions on SQLite, measured with callgrind).
        dbapi_connection.execute(begin)

    engine.dialect.do_begin = do_begin  # type: ignore[method-assign]
    return engine
