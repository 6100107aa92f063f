"""Lists: subscriptions with their renewal eligibility, and quotes; filtered, cursor-paged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from sqlalchemy import Connection, Select, select

from renewquote.domain.eligibility import subscription_reasons
from renewquote.domain.errors import Code, RuleViolation, Violation
from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.model import Channel, Customer, Subscription
from renewquote.services.actors import Actor
from renewquote.storage import repository
from renewquote.storage.database import Database
from renewquote.storage.quote_records import QuoteView, quote_id_for, quote_views
from renewquote.storage.tables import quotes, subscriptions

MAX_PAGE = 100
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, and whether more follow (ask again with `starting_after`)."""

    items: list[T]
    has_more: bool


@dataclass(frozen=True, slots=True)
class SubscriptionFilters:
    """What a subscription list may be narrowed to."""

    customer_csn: str | None = None
    status: str | None = None
    currency: str | None = None
    end_after: date | None = None
    end_before: date | None = None


@dataclass(frozen=True, slots=True)
class QuoteFilters:
    """What a quote list may be narrowed to."""

    status: QuoteStatus | None = None
    customer_csn: str | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionStanding:
    """A subscription and every reason it cannot be renewed on a quote now (none if it can)."""

    subscription: Subscription
    reasons: tuple[Violation, ...]


def list_subscriptions(
    db: Database,
    actor: Actor,
    filters: SubscriptionFilters,
    *,
    today: date,
    limit: int = 50,
    starting_after: str | None = None,
) -> Page[SubscriptionStanding]:
    """List the subscriptions the actor sees, in id order, with their renewal standing."""
    query = repository.subscription_query()
    query = _visible_subscriptions(query, actor)
    f = filters
    for column, value in (
        (subscriptions.c.customer_csn, f.customer_csn),
        (subscriptions.c.status, f.status),
        (subscriptions.c.currency, f.currency),
    ):
        if value is not None:
            query = query.where(column == value)
    if f.end_after is not None:
        query = query.where(subscriptions.c.end_date >= f.end_after)
    if f.end_before is not None:
        query = query.where(subscriptions.c.end_date <= f.end_before)
    if starting_after is not None:
        query = query.where(subscriptions.c.id > starting_after)
    size = _page_size(limit)
    with db.read() as conn:
        rows = list(conn.execute(query.order_by(subscriptions.c.id).limit(size + 1)))
        subs = [repository.subscription_from_row(r) for r in rows[:size]]
        customers = _customers(conn, {s.customer_csn for s in subs})
    return Page(
        [
            SubscriptionStanding(
                s, subscription_reasons(s, customers[s.customer_csn], actor.channel, today)
            )
            for s in subs
        ],
        len(rows) > size,
    )


def get_subscription(db: Database, actor: Actor, sid: str, *, today: date) -> SubscriptionStanding:
    """Return one subscription the actor sees, with its renewal standing, or `not_found`."""
    query = _visible_subscriptions(repository.subscription_query(), actor).where(
        subscriptions.c.id == sid
    )
    with db.read() as conn:
        row = conn.execute(query).one_or_none()
        if row is None:
            raise RuleViolation.one(Code.NOT_FOUND, thing="subscription")
        sub = repository.subscription_from_row(row)
        customer = repository.load_customer(conn, sub.customer_csn)
    return SubscriptionStanding(sub, subscription_reasons(sub, customer, actor.channel, today))


def list_quotes(
    db: Database,
    actor: Actor,
    filters: QuoteFilters,
    *,
    limit: int = 50,
    starting_after: str | None = None,
) -> Page[QuoteView]:
    """List the quotes the actor sees, oldest first, whatever made them."""
    query = select(quotes)
    if actor.kind == "customer":
        query = query.where(quotes.c.customer_csn == actor.customer_csn)
    elif actor.kind == "partner":
        query = query.where(
            quotes.c.channel == Channel.PARTNER.value, quotes.c.partner_csn == actor.partner_csn
        )
    if filters.status is not None:
        query = query.where(quotes.c.status == filters.status.value)
    if filters.customer_csn is not None:
        query = query.where(quotes.c.customer_csn == filters.customer_csn)
    if filters.currency is not None:
        query = query.where(quotes.c.currency == filters.currency)
    if starting_after is not None:
        query = query.where(quotes.c.id > quote_id_for(starting_after)[1])
    size = _page_size(limit)
    with db.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query.order_by(quotes.c.id).limit(size + 1))]
        views = quote_views(conn, rows[:size])
    return Page(views, len(rows) > size)


def _visible_subscriptions(
    query: Select[tuple[object, ...]], actor: Actor
) -> Select[tuple[object, ...]]:
    if actor.kind == "customer":
        return query.where(subscriptions.c.customer_csn == actor.customer_csn)
    if actor.kind == "partner":
        return query.where(subscriptions.c.partner_csn == actor.partner_csn)
    return query


def _customers(conn: Connection, csns: set[str]) -> dict[str, Customer]:
    return {csn: repository.load_customer(conn, csn) for csn in csns}


def _page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise RuleViolation.one(
            Code.INVALID_INPUT, field="limit", problem=f"between 1 and {MAX_PAGE}"
        )
    return limit
