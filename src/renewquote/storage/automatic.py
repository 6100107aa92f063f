"""What automatic quotes read and write: the subscriptions coming due that no one has quoted,
each customer's purchaser, and the terms already quoted automatically."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, and_, exists, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from renewquote.domain.lifecycle import OPEN_STATUSES
from renewquote.domain.model import ContactRole, OfferingKind, PurchaseMethod, SubscriptionStatus
from renewquote.storage.tables import (
    automatic_quote_terms,
    offerings,
    quote_lines,
    quotes,
    subscriptions,
    users,
)


@dataclass(frozen=True, slots=True)
class DueSubscription:
    """A subscription coming due that an automatic quote may renew."""

    id: str
    customer_csn: str
    currency: str
    end_date: date


def due_subscriptions(conn: Connection, *, after: date, until: date) -> list[DueSubscription]:
    """Return the subscriptions ending after `after` and by `until` that an automatic quote
    renews: bought directly, active, a standard offering (never flex or success plans), without
    auto-renew, not renewed yet, on no open quote, and not quoted automatically for this term.
    By customer, currency, end date."""
    on_open_quote = exists(
        select(quote_lines.c.id)
        .join(quotes, quotes.c.id == quote_lines.c.quote_id)
        .where(
            quote_lines.c.subscription_id == subscriptions.c.id,
            quotes.c.status.in_([s.value for s in OPEN_STATUSES]),
        )
    )
    quoted_already = exists(
        select(automatic_quote_terms.c.id).where(
            automatic_quote_terms.c.subscription_id == subscriptions.c.id,
            automatic_quote_terms.c.end_date == subscriptions.c.end_date,
        )
    )
    query = (
        select(
            subscriptions.c.id,
            subscriptions.c.customer_csn,
            subscriptions.c.currency,
            subscriptions.c.end_date,
        )
        .join(offerings, offerings.c.code == subscriptions.c.offering_code)
        .where(
            subscriptions.c.purchase_method == PurchaseMethod.DIRECT.value,
            subscriptions.c.status == SubscriptionStatus.ACTIVE.value,
            subscriptions.c.auto_renew.is_(False),
            subscriptions.c.renewed_by_order.is_(None),
            offerings.c.kind == OfferingKind.STANDARD.value,
            and_(subscriptions.c.end_date > after, subscriptions.c.end_date <= until),
            ~on_open_quote,
            ~quoted_already,
        )
        .order_by(
            subscriptions.c.customer_csn,
            subscriptions.c.currency,
            subscriptions.c.end_date,
            subscriptions.c.id,
        )
    )
    return [DueSubscription(*row) for row in conn.execute(query).all()]


def claim_terms(
    conn: Connection, due: Sequence[DueSubscription], now: datetime
) -> list[DueSubscription]:
    """Record that these terms are being quoted automatically; return those this call
    recorded (a term another worker recorded first is left to it)."""
    insert_of = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert_of(automatic_quote_terms)
        .on_conflict_do_nothing(index_elements=["subscription_id", "end_date"])
        .returning(automatic_quote_terms.c.subscription_id)
    )
    rows = [{"subscription_id": s.id, "end_date": s.end_date, "created_at": now} for s in due]
    claimed = set(conn.execute(statement, rows).scalars()) if rows else set()
    return [s for s in due if s.id in claimed]


def purchaser_of(conn: Connection, customer_csn: str) -> str | None:
    """Return the e-mail of a customer's first purchaser, if it has one."""
    query = (
        select(users.c.email)
        .where(users.c.customer_csn == customer_csn, users.c.role == ContactRole.PURCHASER.value)
        .order_by(users.c.id)
        .limit(1)
    )
    found: str | None = conn.execute(query).scalar()
    return found
