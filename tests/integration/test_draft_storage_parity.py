"""A new draft is written in one statement on PostgreSQL and statement by statement on SQLite
(storage.quotes.insert_draft): both store exactly the same rows, and give back the same quote."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from renewquote.domain.model import QuoteType, Term
from renewquote.domain.quotes import Quote, Recipient
from renewquote.domain.quoting import LineRequest
from renewquote.services.auth import find_caller
from renewquote.services.book import load_book
from renewquote.services.quoting import QuoteDraft, create_quote, get_quote
from renewquote.storage.database import Database
from renewquote.storage.tables import Base, quote_events, quote_lines, quote_recipients, quotes
from tests.book import BOOK, NOW, TODAY
from tests.conftest import FAST_HASHER

TABLES = (quotes, quote_lines, quote_recipients, quote_events)


@pytest.fixture
def both(sqlite_template: Path, postgres_url: str, tmp_path: Path) -> list[Database]:
    """The test book on SQLite and on PostgreSQL, side by side."""
    path = tmp_path / "parity.db"
    shutil.copy(sqlite_template, path)
    sqlite, postgres = Database(f"sqlite:///{path}"), Database(postgres_url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with postgres.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    for db in (sqlite, postgres):
        load_book(db, BOOK, hasher=FAST_HASHER)
    yield [sqlite, postgres]
    sqlite.dispose()
    postgres.dispose()


def stored(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the quote tables, without their own ids, in a form both databases share."""

    def plain(value: Any) -> Any:
        # Money compared digit for digit: "460.00" and Decimal("460.00") alike, "460.0" not.
        return str(value) if isinstance(value, Decimal) else value

    found = {}
    with db.read() as conn:
        for table in TABLES:
            columns = [c for c in table.c if c.name != "id"]
            rows = conn.execute(select(*columns).order_by(*table.primary_key.columns))
            found[table.name] = [tuple(plain(v) for v in row) for row in rows]
    return found


DRAFTS = {
    "marie@dupont.example": QuoteDraft(
        type=QuoteType.RENEWAL,
        lines=(
            LineRequest(subscription_id="SUB-0001", quantity=3, term=Term.THREE_YEAR),
            LineRequest(subscription_id="SUB-0002"),
            LineRequest(subscription_id="SUB-0008", quantity=7),
        ),
        recipients=(Recipient("cfo@dupont.example", "Claire O'Hara"), Recipient("ap@x.test")),
    ),
    "anne@partner.example": QuoteDraft(
        type=QuoteType.RENEWAL,
        lines=(LineRequest(subscription_id="SUB-0301"),),
        customer_csn="5200000003",
        contact_email="ana@rio.example",
    ),
    "ops@vendor.example": QuoteDraft(
        type=QuoteType.NEW,
        lines=(
            LineRequest(offering_code="RVT", quantity=2, term=Term.ANNUAL),
            LineRequest(offering_code="ACDLT", quantity=1, align_to_subscription_id="SUB-0001"),
        ),
        customer_csn="5200000001",
        currency="EUR",
        contact_email="marie@dupont.example",
    ),
}


def test_both_databases_store_the_same_rows_for_the_same_drafts(both: list[Database]):
    answers: list[list[Quote]] = []
    for db in both:
        answers.append(
            [
                create_quote(db, find_caller(db, email), draft, today=TODAY, now=NOW)
                for email, draft in DRAFTS.items()
            ]
        )
    sqlite_rows, postgres_rows = (stored(db) for db in both)
    assert [len(sqlite_rows[t.name]) for t in TABLES] == [3, 6, 5, 3]
    assert postgres_rows == sqlite_rows
    # The quote each path gives back is the quote as stored, read back.
    assert answers[0] == answers[1]
    for db, made in zip(both, answers, strict=True):
        ops = find_caller(db, "ops@vendor.example")
        assert [get_quote(db, ops, q.number) for q in made] == made
