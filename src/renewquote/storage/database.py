"""Connecting to SQLite or PostgreSQL, with transactions that behave alike on both."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from typing import Any, TypeVar

import psycopg
from anyio import to_thread
from psycopg.rows import RowMaker
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import Select

from renewquote.storage.prepared import Prepared

_WRITE = "renewquote_write"
# Connections per worker process and pool: a thread-pool worker holds at most one of the
# transaction pool and one of the read pool, the event loop's reads share the async pool.
# Two workers stay well under PostgreSQL's default of 100 connections.
POOL_SIZE = 10
T = TypeVar("T")


class Database:
    """One engine, and the two kinds of transaction the services use."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = self.reader = _sqlite_engine(url, **engine_options)
        else:
            # Pools kept open, without a ping per checkout: opening sessions under load
            # and pinging before each checkout cost more than the queries (bench/http_load.py).
            options = {"pool_size": POOL_SIZE, "max_overflow": 0, "pool_recycle": 1800}
            self.engine = create_engine(url, **{**options, **engine_options})
            # Reads run outside BEGIN ... COMMIT: under READ COMMITTED every statement takes
            # its own snapshot anyway, and the two round trips saved cost more than the query.
            self.reader = create_engine(
                url, isolation_level="AUTOCOMMIT", **{**options, **engine_options}
            )
        # The event loop's own connections, one pool per loop (see `fetch`).
        self._async_pools: dict[asyncio.AbstractEventLoop, AsyncConnectionPool] = {}
        self._sql: dict[int, tuple[Select[Any], str, dict[str, Any]]] = {}
        self._prepared: dict[int, Prepared] = {}

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """Read: in one transaction on SQLite (one snapshot), statement by statement on
        PostgreSQL (READ COMMITTED: each statement sees what was committed when it began)."""
        with self.reader.begin() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """Open a transaction that writes: committed once at the end, rolled back on any error.

        On SQLite it takes the write lock at once (BEGIN IMMEDIATE), so two writers queue
        instead of failing half-way; PostgreSQL callers lock the rows they change.
        """
        with self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    def fetch_now(
        self, statement: Select[Any], params: Mapping[str, Any], make: Callable[[Sequence[Any]], T]
    ) -> list[T]:
        """Run one prebuilt SELECT as `read` does and return its rows built by `make`.

        Straight on the driver's cursor (no result objects to build and throw away): as `fetch`
        does on PostgreSQL; on SQLite as `Prepared` does, which turns its text into values.
        """
        with self.read() as conn:
            if self.is_sqlite:
                prepared = self._prepared.get(id(statement))
                if prepared is None or prepared.statement is not statement:
                    prepared = self._prepared[id(statement)] = Prepared(statement)
                return [make(row) for row in prepared.all(conn, params)]
            driver = conn.connection.driver_connection
            assert isinstance(driver, psycopg.Connection)
            with driver.cursor(row_factory=_row_factory(make)) as cursor:
                cursor.execute(*self._compiled(statement, params))
                return cursor.fetchall()

    async def fetch(
        self, statement: Select[Any], params: Mapping[str, Any], make: Callable[[Sequence[Any]], T]
    ) -> list[T]:
        """Run one prebuilt SELECT from the event loop and return its rows built by `make`.

        Prebuilt: a statement made once at import, as each is compiled once and kept.

        PostgreSQL: on the loop's own psycopg connections, no thread hop and no transaction;
        the statement is compiled once and the parameters and values are the driver's (use it
        for columns whose driver values are those SQLAlchemy gives: text, numbers, dates).
        SQLite: `fetch_now` on a worker thread (its reads are local and short).
        """
        if self.is_sqlite:
            return await to_thread.run_sync(partial(self.fetch_now, statement, params, make))
        async with self.connected() as link:
            return await link.fetch(statement, params, make)

    async def fetch_many(
        self, queries: Sequence[tuple[Select[Any] | str, Mapping[str, Any]]]
    ) -> list[list[tuple[Any, ...]]]:
        """PostgreSQL only: run statements in one round trip (psycopg's pipeline mode), outside
        a transaction, and return each one's rows as tuples of the driver's values.

        A `str` is SQL written for psycopg (`%(name)s` parameters), used as it is; a
        data-modifying statement is atomic on its own.
        """
        async with self.connected() as link:
            return await link.fetch_many(queries)

    @asynccontextmanager
    async def connected(self) -> AsyncIterator[Link]:
        """PostgreSQL only: one of the event loop's connections for several round trips (a
        request's reads, then its write), taken from the pool once."""
        assert not self.is_sqlite, "connected is for PostgreSQL"
        pool = await self._async_pool()
        # Not `pool.connection()`: on the way out it commits, a round of psycopg's machinery
        # for nothing on an autocommit connection (2 % of a GET /renewal-groups); putconn
        # still rolls back a connection left in a transaction and replaces a broken one.
        conn = await pool.getconn()
        try:
            yield Link(self, conn)
        finally:
            await pool.putconn(conn)

    def _compiled(
        self, statement: Select[Any], params: Mapping[str, Any]
    ) -> tuple[str, Mapping[str, Any]]:
        """Return the statement's SQL for psycopg, compiled once, and its parameters: the
        caller's, and the values the statement carries itself (a `LIMIT`, a literal)."""
        found = self._sql.get(id(statement))
        if found is None or found[0] is not statement:
            compiled = statement.compile(dialect=self.engine.dialect)
            # The caller's parameters have no value in the statement; a LIMIT's has one.
            own = {k: v for k, v in compiled.params.items() if v is not None}
            found = self._sql[id(statement)] = (statement, str(compiled), own)
        return found[1], ({**found[2], **params} if found[2] else params)

    async def _async_pool(self) -> AsyncConnectionPool:
        # A pool belongs to the event loop that opened it: a server has one loop per worker,
        # a test client one per client.
        loop = asyncio.get_running_loop()
        pool = self._async_pools.get(loop)
        if pool is None:
            url = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            pool = AsyncConnectionPool(
                url, min_size=1, max_size=POOL_SIZE, open=False, kwargs={"autocommit": True}
            )
            self._async_pools[loop] = pool
            await pool.open()
        return pool

    async def close_async(self) -> None:
        """Close the running event loop's connections (when a server or test client stops)."""
        pool = self._async_pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        self.reader.dispose()


class Link:
    """A connection of `Database.connected`: statements outside a transaction, each one atomic
    on its own, with `Database.fetch_many`'s rules."""

    def __init__(self, db: Database, conn: psycopg.AsyncConnection[Any]) -> None:
        self.db = db
        self.conn = conn

    async def fetch_many(
        self, queries: Sequence[tuple[Select[Any] | str, Mapping[str, Any]]]
    ) -> list[list[tuple[Any, ...]]]:
        """Run the statements in one round trip; return each one's rows."""
        async with self.conn.pipeline():
            cursors = [
                await _execute(self.db, self.conn.cursor(), statement, params)
                for statement, params in queries
            ]
            return [await cursor.fetchall() for cursor in cursors]

    async def fetch(
        self,
        statement: Select[Any] | str,
        params: Mapping[str, Any],
        make: Callable[[Sequence[Any]], T],
    ) -> list[T]:
        """Run one statement and return its rows, each built by `make`."""
        cursor = self.conn.cursor(row_factory=_row_factory(make))
        return await (await _execute(self.db, cursor, statement, params)).fetchall()


async def _execute(
    db: Database,
    cursor: psycopg.AsyncCursor[T],
    statement: Select[Any] | str,
    params: Mapping[str, Any],
) -> psycopg.AsyncCursor[T]:
    if isinstance(statement, str):
        return await cursor.execute(statement, params)
    return await cursor.execute(*db._compiled(statement, params))


def _row_factory(make: Callable[[Sequence[Any]], T]) -> Callable[[Any], RowMaker[T]]:
    """Build each row of a psycopg cursor with `make`, whatever the columns."""

    def row_maker(_cursor: Any) -> RowMaker[T]:
        return make

    return row_maker


def _sqlite_engine(url: str, **engine_options: Any) -> Engine:
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
        if make_url(url).database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            # FULL: a committed order survives a power cut, as on PostgreSQL with its defaults.
            cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        sql = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        # On the driver itself: one statement through SQLAlchemy's execution layer costs more
        # than the BEGIN, and every transaction pays it. Its error is SQLAlchemy's all the same.
        try:
            conn.connection.dbapi_connection.execute(sql)  # type: ignore[union-attr]
        except sqlite3.Error as error:
            raise DBAPIError.instance(sql, (), error, sqlite3.Error) from error

    return engine
