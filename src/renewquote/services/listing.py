"""Lists: subscriptions with their renewal standing, and quotes; filtered, cursor-paged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from renewquote.domain.eligibility import subscription_reasons
from renewquote.domain.errors import Code, RuleViolation, Violation
from renewquote.domain.model import Subscription
from renewquote.domain.quotes import Quote
from renewquote.domain.translations import NC_
from renewquote.services.access import Caller
from renewquote.storage import outbox, quotes, repository
from renewquote.storage.database import Database
from renewquote.storage.outbox import OutboxStatus
from renewquote.storage.quotes import QuoteFilters
from renewquote.storage.repository import SubscriptionFilters

MAX_PAGE = 100
T = TypeVar("T")

__all__ = ["OutboxStatus", "QuoteFilters", "SubscriptionFilters"]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, and whether more follow (ask again with `starting_after`)."""

    items: list[T]
    has_more: bool


@dataclass(frozen=True, slots=True)
class SubscriptionStanding:
    """A subscription and every reason it cannot be renewed on a quote now (none if it can)."""

    subscription: Subscription
    reasons: tuple[Violation, ...]


def list_subscriptions(
    db: Database,
    caller: Caller,
    filters: SubscriptionFilters,
    *,
    today: date,
    limit: int = 50,
    starting_after: str | None = None,
) -> Page[SubscriptionStanding]:
    """List the subscriptions the caller sees, in id order, with their renewal standing."""
    return _standings(db, caller, filters, today, starting_after, _page_size(limit))


# The most a portal page lists at once (its Subscriptions and contracts page).
MAX_LISTED = 5000


def every_subscription(
    db: Database, caller: Caller, *, today: date
) -> tuple[list[SubscriptionStanding], bool]:
    """List every subscription the caller sees (up to `MAX_LISTED`, in id order) with its
    renewal standing, for a page that filters and sorts them itself; True if there were more."""
    page = _standings(db, caller, SubscriptionFilters(), today, None, MAX_LISTED)
    return page.items, page.has_more


def _standings(
    db: Database,
    caller: Caller,
    filters: SubscriptionFilters,
    today: date,
    after: str | None,
    size: int,
) -> Page[SubscriptionStanding]:
    with db.read() as conn:
        subs = repository.subscription_page(
            conn, filters, visible=caller.subscriptions_visible(), after=after, limit=size + 1
        )
        customers = repository.customers_by_csn(conn, {s.customer_csn for s in subs[:size]})
    standings = [
        SubscriptionStanding(
            s, subscription_reasons(s, customers[s.customer_csn], caller.channel, today)
        )
        for s in subs[:size]
    ]
    return Page(standings, len(subs) > size)


def customer_contacts(db: Database, caller: Caller, customer_csn: str) -> list[str]:
    """Return the e-mails of a customer's contacts (whom a partner's or staff's quote may be
    made out to), if the caller reaches that customer; `not_found` otherwise."""
    with db.read() as conn:
        repository.customer(conn, customer_csn, reachable=caller.customer_reachable())
        return sorted(repository.contact_emails(conn, customer_csn))


def get_subscription(
    db: Database, caller: Caller, subscription_id: str, *, today: date
) -> SubscriptionStanding:
    """Return one subscription the caller sees, with its renewal standing, or `not_found`."""
    with db.read() as conn:
        found = repository.subscriptions_by_id(
            conn, [subscription_id], visible=caller.subscriptions_visible()
        )
        if subscription_id not in found:
            raise RuleViolation.one(Code.NOT_FOUND, thing="subscription")
        sub = found[subscription_id]
        customer, _ = repository.customer(conn, sub.customer_csn)
    return SubscriptionStanding(sub, subscription_reasons(sub, customer, caller.channel, today))


def list_quotes(
    db: Database,
    caller: Caller,
    filters: QuoteFilters,
    *,
    limit: int = 50,
    starting_after: str | None = None,
) -> Page[Quote]:
    """List the quotes the caller sees, oldest first, whatever made them."""
    size = _page_size(limit)
    with db.read() as conn:
        found = quotes.quote_page(
            conn, filters, visible=caller.quotes_visible(), after=starting_after, limit=size + 1
        )
    return Page(found[:size], len(found) > size)


def recent_quotes(
    db: Database, caller: Caller, filters: QuoteFilters, *, limit: int = 200
) -> list[Quote]:
    """Return the newest quotes the caller sees matching `filters` (a page of the portal)."""
    with db.read() as conn:
        return quotes.quote_page(
            conn,
            filters,
            visible=caller.quotes_visible(),
            after=None,
            limit=min(limit, MAX_LISTED),
            newest_first=True,
        )


@dataclass(frozen=True, slots=True)
class DeliveryTrouble:
    """A mail or webhook that did not go, and the quote it was about."""

    trouble: outbox.Trouble
    quote_number: str | None
    to: str  # the recipient's address, the order mail's, or the webhook endpoint's id


def delivery_troubles(
    db: Database, caller: Caller, *, now: datetime, limit: int = 200
) -> list[DeliveryTrouble]:
    """The outbox's failed, stuck and retried deliveries, newest first: staff only."""
    if not caller.is_staff:
        raise RuleViolation.one(Code.FORBIDDEN, why=NC_("rule", "the vendor's staff only"))
    with db.read() as conn:
        found = outbox.troubles(conn, now=now, limit=limit)
        ids = {t.payload["quote_id"] for t in found if "quote_id" in t.payload}
        heads = quotes.heads_by_id(conn, ids)
        recipients = quotes.recipients_by_id(
            conn, [t.payload["recipient_id"] for t in found if "recipient_id" in t.payload]
        )

    def to(trouble: outbox.Trouble) -> str:
        payload = trouble.payload
        if "recipient_id" in payload and payload["recipient_id"] in recipients:
            return recipients[payload["recipient_id"]][0]
        return str(payload.get("to") or payload.get("endpoint_id") or "")

    def number(trouble: outbox.Trouble) -> str | None:
        head = heads.get(trouble.payload.get("quote_id", -1))
        return None if head is None else head.number

    return [DeliveryTrouble(t, number(t), to(t)) for t in found]


def _page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise RuleViolation.one(
            Code.INVALID_INPUT, field="limit", problem=f"between 1 and {MAX_PAGE}"
        )
    return limit
