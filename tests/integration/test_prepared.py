"""Statements run on SQLite's own cursor read and write exactly what SQLAlchemy would."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from renewquote.domain.model import QuoteType
from renewquote.domain.quoting import LineRequest
from renewquote.services.quoting import QuoteDraft, create_quote
from renewquote.storage import repository
from renewquote.storage.database import Database
from renewquote.storage.prepared import Prepared
from renewquote.storage.tables import quote_events
from tests.book import NOW, TODAY


def test_reads_give_the_rows_connection_execute_gives(book: Database) -> None:
    ids = ["SUB-0001", "SUB-0002", "SUB-0003", "SUB-0004", "no such id"]
    cases = [
        (repository._CUSTOMER, {"csn": "5200000001"}),
        (repository._RUNNING_PROMOTIONS, {"today": TODAY}),
        *(
            (facts, {"ids": ids, "scope": "5100000001" if scope == "partner" else "5200000001"})
            for (_, scope), facts in repository._FACTS.items()
        ),
    ]
    with book.write() as conn:
        for prepared, params in cases:
            expected = [tuple(r) for r in conn.execute(prepared.statement, params)]
            assert expected, prepared.statement
            assert [tuple(r) for r in prepared.all(conn, params)] == expected


def test_writes_store_what_connection_execute_stores(book: Database, actor) -> None:
    buyer = actor("marie@dupont.example")
    draft = QuoteDraft(type=QuoteType.RENEWAL, lines=(LineRequest(subscription_id="SUB-0001"),))
    quote = create_quote(book, buyer, draft, today=TODAY, now=NOW)
    event = {
        "quote_id": quote.id,
        "actor": "a@b.example",
        "action": "edited",
        "at": datetime(2026, 1, 2, 3, 4, 5, 6),
        "detail": {"total": "12.30", "to": ["x@y.example"]},
    }
    with book.write() as conn:
        Prepared(insert(quote_events)).execute(conn, event)
        conn.execute(insert(quote_events), event)
    with book.read() as conn:
        query = select(quote_events).where(quote_events.c.action == "edited")
        first, second = (tuple(r)[1:] for r in conn.execute(query.order_by(quote_events.c.id)))
        raw = "SELECT at, detail FROM quote_events WHERE action = 'edited' ORDER BY id"
        stored = conn.exec_driver_sql(raw).all()
    assert first == second
    assert stored[0] == stored[1]


def test_driver_errors_are_sqlalchemys(book: Database) -> None:
    event = {"quote_id": 999_999, "actor": "a", "action": "x", "at": NOW, "detail": {}}
    with pytest.raises(IntegrityError), book.write() as conn:
        Prepared(insert(quote_events)).execute(conn, event)
