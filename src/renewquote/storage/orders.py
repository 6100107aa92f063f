"""Storing orders: the order row, each subscription renewed once per term, new subscriptions."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.lifecycle import quote_number
from renewquote.domain.model import LineKind, PaymentMethod, Subscription, SubscriptionStatus
from renewquote.domain.quotes import Order, Quote
from renewquote.storage.tables import orders, quotes, subscription_renewals, subscriptions


def insert_order(
    conn: Connection, quote: Quote, method: PaymentMethod, *, by: str, now: datetime
) -> Order:
    """Store the order of `quote` at its quoted total."""
    order_id = conn.execute(
        insert(orders).returning(orders.c.id),
        {
            "quote_id": quote.id,
            "currency": quote.currency,
            "total": quote.total,
            "payment_method": method.value,
            "created_at": now,
            "created_by": by,
        },
    ).scalar_one()
    return Order(order_id, quote.number, quote.total, quote.currency, method, now)


def orders_by_id(conn: Connection, order_ids: Collection[int]) -> dict[int, Order]:
    """Return these orders by id."""
    if not order_ids:
        return {}
    query = (
        select(
            orders.c.id,
            quotes.c.year,
            quotes.c.id.label("quote_id"),
            orders.c.total,
            orders.c.currency,
            orders.c.payment_method,
            orders.c.created_at,
        )
        .join(quotes, quotes.c.id == orders.c.quote_id)
        .where(orders.c.id.in_(sorted(order_ids)))
    )
    return {
        r.id: Order(
            r.id,
            quote_number(r.year, r.quote_id),
            r.total,
            r.currency,
            PaymentMethod(r.payment_method),
            r.created_at,
        )
        for r in conn.execute(query).all()
    }


def renew_subscriptions(
    conn: Connection, quote: Quote, subs: dict[str, Subscription], order_id: int
) -> None:
    """Renew each subscription of `quote` for the quoted term, at most once per term."""
    renewals = [
        {
            "order_id": order_id,
            "subscription_id": line.subscription_id,
            "previous_end_date": subs[line.subscription_id].end_date,
            "new_end_date": line.end_date,
            "previous_quantity": subs[line.subscription_id].quantity,
            "new_quantity": line.quantity,
            "previous_term": subs[line.subscription_id].term.value,
            "new_term": line.term.value,
        }
        for line in quote.lines
        if line.subscription_id is not None
    ]
    if not renewals:
        return
    try:
        # Unique per (subscription, term): the database itself refuses a second renewal.
        conn.execute(insert(subscription_renewals), renewals)
    except IntegrityError as exc:
        raise RuleViolation.one(Code.QUOTE_SUPERSEDED) from exc
    result = conn.execute(
        update(subscriptions)
        .where(
            subscriptions.c.id == bindparam("sid"),
            subscriptions.c.end_date == bindparam("old_end"),
        )
        .values(
            end_date=bindparam("new_end"),
            quantity=bindparam("qty"),
            term=bindparam("new_term"),
            status=SubscriptionStatus.ACTIVE.value,
            renewed_by_order=order_id,
        ),
        [
            {
                "sid": r["subscription_id"],
                "old_end": r["previous_end_date"],
                "new_end": r["new_end_date"],
                "qty": r["new_quantity"],
                "new_term": r["new_term"],
            }
            for r in renewals
        ],
    )
    if result.rowcount not in (-1, len(renewals)):
        raise RuleViolation.one(Code.QUOTE_SUPERSEDED)


def open_new_subscriptions(
    conn: Connection, quote: Quote, order_id: int, method: PaymentMethod
) -> None:
    """Open the subscriptions that the quote's new and co-term lines buy."""
    rows = [
        {
            "id": f"SUB-O{order_id}-{line.position}",
            "customer_csn": quote.customer_csn,
            "offering_code": line.offering_code,
            "quantity": line.quantity,
            "term": line.term.value,
            "currency": quote.currency,
            "purchase_method": quote.purchase_method.value,
            "partner_csn": quote.partner_csn,
            "start_date": line.start_date,
            "end_date": line.end_date,
            "status": SubscriptionStatus.ACTIVE.value,
            "payment_method": method.value,
            "auto_renew": True,
            "renewed_by_order": None,
        }
        for line in quote.lines
        if line.kind in (LineKind.NEW, LineKind.CO_TERM)
    ]
    if rows:
        conn.execute(insert(subscriptions), rows)
