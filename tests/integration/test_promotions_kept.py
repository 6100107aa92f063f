"""A process keeps the running promotions while their version stays the same: every change to
promotions, by anyone, gives them a new version (triggers of migration 0012), which each quote
reads with its other facts. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, event, insert, select, text, update

from renewquote.domain.model import QuoteType, Term
from renewquote.domain.quoting import LineRequest
from renewquote.services.book.writer import load_book
from renewquote.services.quoting import QuoteDraft, create_quote
from renewquote.storage import repository
from renewquote.storage.database import Database
from renewquote.storage.tables import data_versions, promotions
from tests.book import BOOK, NOW, TODAY

BUYER = "marie@dupont.example"
THREE_YEARS = QuoteDraft(
    type=QuoteType.RENEWAL,
    lines=(LineRequest(subscription_id="SUB-0001", term=Term.THREE_YEAR),),
)


@contextmanager
def promotion_reads(db: Database) -> Iterator[list[str]]:
    """Collect the statements that read promotions on `db`'s write engine."""
    seen: list[str] = []

    def collect(conn, cursor, statement, parameters, context, executemany) -> None:
        if "FROM promotions" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", collect)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", collect)


def discount_of_a_new_quote(db: Database, actor) -> Decimal:
    """Make a three-year renewal quote of SUB-0001, return its line's discount."""
    quote = create_quote(db, actor(BUYER), THREE_YEARS, today=TODAY, now=NOW)
    return quote.lines[0].discount


def version(db: Database) -> int | None:
    with db.read() as conn:
        query = select(data_versions.c.version).where(data_versions.c.subject == "promotions")
        return conn.execute(query).scalar_one_or_none()


def test_promotions_are_read_once_while_their_version_stays(book: Database, actor):
    with promotion_reads(book) as reads:
        first = discount_of_a_new_quote(book, actor)
        second = discount_of_a_new_quote(book, actor)
    assert first == second > 0
    assert len(reads) == 1  # the second quote was priced with the promotions kept


def test_a_promotion_changed_by_another_process_prices_the_next_quote(book: Database, actor):
    first = discount_of_a_new_quote(book, actor)
    # Another Database is another pool, as `renewquote load` or an administrator's SQL would be.
    other = Database(book.url.render_as_string(hide_password=False))
    try:
        with other.write() as conn:
            conn.execute(update(promotions).values(percent_off=Decimal("20")))
        assert discount_of_a_new_quote(book, actor) == 2 * first
        with other.write() as conn:
            conn.execute(delete(promotions))
        assert discount_of_a_new_quote(book, actor) == Decimal("0.00")
    finally:
        other.dispose()


def test_a_book_loaded_prices_the_next_quote(book: Database, actor):
    first = discount_of_a_new_quote(book, actor)
    [promotion] = BOOK["promotions"]
    load_book(book, {"promotions": [{**promotion, "percent_off": "30"}]})
    assert discount_of_a_new_quote(book, actor) == 3 * first


def test_every_kind_of_change_gives_promotions_a_new_version(book: Database):
    row = {
        "code": "NEW",
        "name": "New",
        "percent_off": Decimal("5"),
        "offerings": [],
        "terms": [],
        "currencies": [],
        "countries": [],
        "quote_types": [],
    }
    changes = [
        insert(promotions).values(row),
        update(promotions).where(promotions.c.code == "NEW").values(ends=date(2027, 1, 1)),
        delete(promotions).where(promotions.c.code == "NEW"),
    ]
    if not book.is_sqlite:
        changes.append(text("TRUNCATE promotions"))
    seen = [version(book)]
    for change in changes:
        with book.write() as conn:
            conn.execute(change)
        seen.append(version(book))
    assert None not in seen
    assert len(set(seen)) == len(seen), seen  # each change a version of its own


def test_a_change_rolled_back_keeps_the_version(book: Database):
    before = version(book)
    with pytest.raises(RuntimeError), book.write() as conn:
        conn.execute(update(promotions).values(percent_off=Decimal("20")))
        raise RuntimeError("given up")
    assert version(book) == before


def test_without_a_version_promotions_are_read_every_time(book: Database, actor):
    with book.write() as conn:
        conn.execute(delete(data_versions))
    with promotion_reads(book) as reads:
        first = discount_of_a_new_quote(book, actor)
        second = discount_of_a_new_quote(book, actor)
    assert first == second > 0
    assert len(reads) == 2


def test_kept_promotions_are_read_again_after_a_while_whatever_the_version(
    book: Database, actor, monkeypatch
):
    # A change the triggers did not see (switched off, a restore): the version stays.
    monkeypatch.setattr(repository, "PROMOTIONS_KEPT_SECONDS", 0.0)
    with promotion_reads(book) as reads:
        discount_of_a_new_quote(book, actor)
        discount_of_a_new_quote(book, actor)
    assert len(reads) == 2


def test_the_triggers_that_give_promotions_a_version_exist(book: Database):
    # A migration that rebuilds the table (SQLite's batch mode) would drop them silently.
    with book.read() as conn:
        if book.is_sqlite:
            query = (
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'promotions'"
            )
            expected = {"promotions_inserted", "promotions_updated", "promotions_deleted"}
        else:
            query = (
                "SELECT tgname FROM pg_trigger"
                " WHERE NOT tgisinternal AND tgrelid = 'promotions'::regclass"
            )
            expected = {"promotions_changed"}
        assert set(conn.execute(text(query)).scalars()) == expected
