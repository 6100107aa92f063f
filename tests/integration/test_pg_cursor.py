"""PostgreSQL connections make `storage.pgcursor.Cursor`, whose columns are described only when
read: what it describes is what psycopg's own cursor describes, and SQLAlchemy reads rows and
column names through it the first time a statement runs and every time after."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import literal, select, text

from renewquote.storage import pgcursor
from renewquote.storage.database import Database
from renewquote.storage.types import ExactDecimal


@pytest.fixture
def pg(postgres_url: str):
    database = Database(postgres_url)
    yield database
    database.dispose()


def test_every_engine_of_the_database_makes_the_lazy_cursor(pg: Database) -> None:
    for engine in (pg.engine, pg.reader, pg.bookkeeper):
        with engine.connect() as conn:
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            assert type(cursor) is pgcursor.Cursor


def test_its_columns_are_those_psycopg_describes(pg: Database) -> None:
    query = "SELECT 1 AS one, 'a'::text AS letter, 2.5::numeric(4, 1) AS amount, now() AS at"
    with pg.reader.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        lazy = raw.cursor()
        eager = psycopg.Cursor(raw)  # type: ignore[arg-type]
        lazy.execute(query)
        eager.execute(query)
        described = lazy.description
        expected = eager.description
        assert described is not None and expected is not None
        assert len(described) == len(expected) == 4
        # Another statement on the same cursor does not change what was described before it.
        lazy.execute("SELECT 'other' AS name")
        assert [tuple(c) for c in described] == [tuple(c) for c in expected]
        assert [c.name for c in described] == ["one", "letter", "amount", "at"]
        assert [c.type_display for c in described] == [c.type_display for c in expected]
        lazy.execute("SET application_name = 'renewquote-test'")
        assert lazy.description is None


def test_sqlalchemy_reads_rows_and_names_through_it(pg: Database) -> None:
    amount = literal(Decimal("12.50"), ExactDecimal(12, 2)).label("amount")
    statement = select(literal("5200000001").label("csn"), amount)
    for _ in range(3):  # first run: metadata from the description; later runs: cached
        with pg.read() as conn:
            result = conn.execute(statement)
            assert list(result.keys()) == ["csn", "amount"]
            row = result.one()
        assert (row.csn, row.amount) == ("5200000001", Decimal("12.50"))
    with pg.read() as conn:
        named = conn.execute(text("SELECT 'x' AS letter, 2 AS number")).one()
    assert (named.letter, named.number) == ("x", 2)
