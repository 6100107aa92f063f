"""The API's quote creation (one round trip of reads and one statement of writes on
PostgreSQL; with the bearer token checked in that round trip for a caller the worker does not
know yet) stores exactly what the service's transaction stores, and refuses alike."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.model import QuoteType, Term
from renewquote.domain.quoting import LineRequest
from renewquote.services.actors import Actor
from renewquote.services.auth import issue_token
from renewquote.services.quoting import (
    QuoteDraft,
    create_own_quote_async,
    create_quote,
    create_quote_async,
)
from renewquote.storage.database import Database
from renewquote.storage.quote_records import QuoteView, Recipient
from renewquote.storage.tables import quote_events, quote_lines, quote_recipients, quotes
from tests.book import NOW, TODAY, row_counts

IDS = {"id", "quote_id"}


def through_the_api(db: Database, actor: Actor, draft: QuoteDraft) -> QuoteView:
    async def run() -> QuoteView:
        try:
            return await create_quote_async(db, actor, draft, today=TODAY, now=NOW)
        finally:
            if not db.is_sqlite:
                await db.close_async()

    return asyncio.run(run())


def with_the_token(db: Database, email: str | None, draft: QuoteDraft) -> tuple[Actor, QuoteView]:
    """Create the quote as the API does for a bearer token it has not checked yet."""
    token = issue_token(db, email, now=NOW).access_token if email else "rq_not-a-token"

    async def run() -> tuple[Actor, QuoteView]:
        try:
            actor, expires_at, quote = await create_own_quote_async(db, token, draft, now=NOW)
            assert expires_at > NOW
            return actor, quote
        finally:
            if not db.is_sqlite:
                await db.close_async()

    return asyncio.run(run())


def stored(db: Database, quote_id: int) -> dict[str, Any]:
    """Every row of a quote, without the ids that differ from one quote to the next."""

    def rows(table: Any, key: Any, order: Any) -> list[dict[str, Any]]:
        found = conn.execute(select(table).where(key == quote_id).order_by(order)).mappings()
        return [{k: v for k, v in row.items() if k not in IDS} for row in found]

    with db.read() as conn:
        return {
            "quote": rows(quotes, quotes.c.id, quotes.c.id),
            "lines": rows(quote_lines, quote_lines.c.quote_id, quote_lines.c.position),
            "recipients": rows(quote_recipients, quote_recipients.c.quote_id, "id"),
            "events": rows(quote_events, quote_events.c.quote_id, "id"),
        }


DRAFTS: list[tuple[str, Callable[[], QuoteDraft]]] = [
    (
        "marie@dupont.example",
        lambda: QuoteDraft(
            type=QuoteType.RENEWAL,
            lines=(
                LineRequest(subscription_id="SUB-0001", term=Term.MONTHLY),
                LineRequest(subscription_id="SUB-0002", quantity=1),
            ),
            recipients=(Recipient("finance@dupont.example", "Finance"),),
            language="en",
        ),
    ),
    (
        "anne@partner.example",
        lambda: QuoteDraft(
            type=QuoteType.RENEWAL,
            lines=(LineRequest(subscription_id="SUB-0301"),),
            customer_csn="5200000003",
            contact_email="ana@rio.example",
        ),
    ),
]


@pytest.mark.parametrize(("email", "draft"), DRAFTS, ids=["self-service", "partner"])
def test_both_paths_store_the_same_rows_and_answer_the_same_quote(book, actor, email, draft):
    who = actor(email)
    by_service = create_quote(book, who, draft(), today=TODAY, now=NOW)
    by_api = through_the_api(book, who, draft())
    assert by_api.number != by_service.number
    assert stored(book, by_api.id) == stored(book, by_service.id)
    assert stored(book, by_api.id)["lines"], "the quote has lines"
    different = {"id", "number"}
    assert {k: v for k, v in vars_of(by_api).items() if k not in different} == {
        k: v for k, v in vars_of(by_service).items() if k not in different
    }


@pytest.mark.parametrize(("email", "draft"), DRAFTS, ids=["self-service", "partner"])
def test_with_an_unchecked_token_both_paths_store_the_same_rows(book, actor, email, draft):
    who = actor(email)
    by_service = create_quote(book, who, draft(), today=TODAY, now=NOW)
    owner, by_token = with_the_token(book, email, draft())
    assert owner == who
    assert stored(book, by_token.id) == stored(book, by_service.id)
    different = {"id", "number"}
    assert {k: v for k, v in vars_of(by_token).items() if k not in different} == {
        k: v for k, v in vars_of(by_service).items() if k not in different
    }


@pytest.mark.parametrize(
    ("email", "subscription"),
    [
        ("marie@dupont.example", "SUB-0301"),  # another company's subscription
        ("marie@dupont.example", "SUB-9999"),  # no such subscription
        ("paul@dupont.example", "SUB-0001"),  # a user who may read, not quote
        ("anne@partner.example", "SUB-0301"),  # a partner must name the customer
    ],
    ids=["foreign", "unknown", "reader", "partner"],
)
def test_with_an_unchecked_token_refusals_match_the_service(book, actor, email, subscription):
    draft = QuoteDraft(type=QuoteType.RENEWAL, lines=(LineRequest(subscription_id=subscription),))
    before = row_counts(book)
    with pytest.raises(RuleViolation) as by_service:
        create_quote(book, actor(email), draft, today=TODAY, now=NOW)
    with pytest.raises(RuleViolation) as by_token:
        with_the_token(book, email, draft)
    assert [(v.code, v.subscription_ids) for v in by_token.value.violations] == [
        (v.code, v.subscription_ids) for v in by_service.value.violations
    ]
    # Nothing written but the token issued for the test.
    assert row_counts(book) == {**before, "api_tokens": before["api_tokens"] + 1}


def test_an_unknown_token_creates_nothing(book):
    draft = QuoteDraft(type=QuoteType.RENEWAL, lines=(LineRequest(subscription_id="SUB-0001"),))
    before = row_counts(book)
    with pytest.raises(RuleViolation) as refused:
        with_the_token(book, None, draft)
    assert [v.code for v in refused.value.violations] == [Code.UNAUTHENTICATED]
    assert row_counts(book) == before


def test_promotions_and_prices_of_every_term_come_through_each_path(book, actor):
    # A 3-year renewal in EUR earns RENEW3Y10: read along the customer and its facts in one
    # statement by a buyer's quote, whether its token is known or not.
    def draft() -> QuoteDraft:
        return QuoteDraft(
            type=QuoteType.RENEWAL,
            lines=(
                LineRequest(subscription_id="SUB-0001", term=Term.THREE_YEAR),
                LineRequest(subscription_id="SUB-0002"),
            ),
        )

    marie = actor("marie@dupont.example")
    by_service = stored(book, create_quote(book, marie, draft(), today=TODAY, now=NOW).id)
    by_api = stored(book, through_the_api(book, marie, draft()).id)
    by_token = stored(book, with_the_token(book, "marie@dupont.example", draft())[1].id)
    assert by_api == by_service
    assert by_token == by_service
    assert [line["promotion_code"] for line in by_service["lines"]] == ["RENEW3Y10", None]
    assert by_service["lines"][0]["discount"] > 0


def vars_of(view: QuoteView) -> dict[str, Any]:
    return {name: getattr(view, name) for name in view.__dataclass_fields__}


def test_a_refused_quote_leaves_nothing_on_either_path(book, actor):
    marie = actor("marie@dupont.example")
    foreign = QuoteDraft(type=QuoteType.RENEWAL, lines=(LineRequest(subscription_id="SUB-0301"),))
    before = row_counts(book)
    with pytest.raises(RuleViolation) as by_service:
        create_quote(book, marie, foreign, today=TODAY, now=NOW)
    with pytest.raises(RuleViolation) as by_api:
        through_the_api(book, marie, foreign)
    assert [v.code for v in by_api.value.violations] == [
        v.code for v in by_service.value.violations
    ]
    assert row_counts(book) == before
