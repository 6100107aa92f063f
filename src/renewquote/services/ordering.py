"""Ordering a quote: payment rules, then each subscription renewed exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from renewquote.domain.errors import Code, RuleViolation, violation
from renewquote.domain.lifecycle import (
    OPEN_STATUSES,
    Action,
    QuoteStatus,
    next_status,
)
from renewquote.domain.model import Channel, LineKind, PaymentMethod, SubscriptionStatus
from renewquote.domain.quoting import payment_problems
from renewquote.services.actors import Actor
from renewquote.services.payments import PaymentProvider, TestGateway
from renewquote.services.quoting import end_quotes, enqueue, load_quote_by_id, visible_to
from renewquote.storage import repository
from renewquote.storage.database import Database
from renewquote.storage.quote_records import QuoteView, load_quote, record_event, set_status
from renewquote.storage.tables import (
    orders,
    quote_lines,
    quotes,
    subscription_renewals,
    subscriptions,
)


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order placed from a quote."""

    id: int
    quote_number: str
    total: Decimal
    currency: str
    payment_method: str
    created_at: datetime


def checkout(
    db: Database,
    actor: Actor,
    number: str,
    payment_method: PaymentMethod,
    *,
    card_number: str | None = None,
    provider: PaymentProvider | None = None,
    today: date,
    now: datetime,
) -> tuple[OrderView, QuoteView]:
    """Order a sent quote at its quoted prices; of two racing orders for one term, one wins."""
    with db.write() as conn:
        quote = load_quote(conn, number)
        if not visible_to(actor, quote):
            raise RuleViolation.one(Code.NOT_FOUND, thing="quote")
        actor.require_buyer()
        # Subscriptions first, then the quote: every checkout locks in this order, so two
        # orders for the same subscription queue instead of deadlocking.
        subs = repository.load_subscriptions(conn, set(quote.subscription_ids), lock=True)
        quote = load_quote(conn, number, lock=True)
        if quote.status is QuoteStatus.SENT and quote.expires_at < today:
            raise RuleViolation.one(Code.QUOTE_EXPIRED, expires_at=quote.expires_at)
        status = next_status(quote.status, Action.ORDER)
        customer = repository.load_customer(conn, quote.customer_csn)
        problems = payment_problems(
            method=payment_method,
            total=quote.total,
            currency=quote.currency,
            card_limit=repository.card_limit(conn, quote.currency),
            channel=Channel(quote.channel),
            customer=customer,
            coterm_payment_methods=frozenset(
                subs[line.align_to_subscription_id].payment_method
                for line in quote.lines
                if line.align_to_subscription_id is not None
            ),
        )
        taken = [
            line.subscription_id
            for line in quote.lines
            if line.subscription_id is not None
            and (
                subs[line.subscription_id].end_date + timedelta(days=1) != line.start_date
                or subs[line.subscription_id].status is SubscriptionStatus.CANCELLED
            )
        ]
        if taken:
            problems.append(violation(Code.QUOTE_SUPERSEDED, *taken))
        if problems:
            raise RuleViolation(problems)
        charge = (provider or TestGateway()).charge(
            payment_method, quote.total, quote.currency, card_number
        )
        order_id = int(
            conn.execute(
                insert(orders).returning(orders.c.id),
                {
                    "quote_id": quote.id,
                    "currency": quote.currency,
                    "total": quote.total,
                    "payment_method": charge.method.value,
                    "created_at": now,
                    "created_by": actor.email,
                },
            ).scalar_one()
        )
        _renew(conn, quote, subs, order_id)
        _open_new(conn, quote, order_id, payment_method)
        set_status(conn, quote.id, status)
        repository.release_auto_renew(conn, [quote.id])
        record_event(
            conn,
            quote.id,
            actor=actor.email,
            action="ordered",
            at=now,
            detail={"order": order_id, "payment": charge.reference, "total": str(quote.total)},
        )
        _supersede_others(conn, quote, now)
        enqueue(conn, "quote.ordered", {"quote": quote.number, "order": order_id}, now)
        order = OrderView(
            order_id, quote.number, quote.total, quote.currency, charge.method.value, now
        )
        return order, load_quote_by_id(conn, quote.id)


def _renew(conn: Connection, quote: QuoteView, subs: dict[str, Any], order_id: int) -> None:
    renewals = [
        {
            "order_id": order_id,
            "subscription_id": line.subscription_id,
            "previous_end_date": subs[line.subscription_id].end_date,
            "new_end_date": line.end_date,
            "previous_quantity": subs[line.subscription_id].quantity,
            "new_quantity": line.quantity,
            "previous_term": subs[line.subscription_id].term.value,
            "new_term": line.term,
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


def _open_new(
    conn: Connection, quote: QuoteView, order_id: int, payment_method: PaymentMethod
) -> None:
    rows = [
        {
            "id": f"SUB-O{order_id}-{line.position}",
            "customer_csn": quote.customer_csn,
            "offering_code": line.offering_code,
            "quantity": line.quantity,
            "term": line.term,
            "currency": quote.currency,
            "purchase_method": quote.purchase_method,
            "partner_csn": quote.partner_csn,
            "start_date": line.start_date,
            "end_date": line.end_date,
            "status": SubscriptionStatus.ACTIVE.value,
            "payment_method": payment_method.value,
            "auto_renew": True,
            "renewed_by_order": None,
        }
        for line in quote.lines
        if line.kind in (LineKind.NEW.value, LineKind.CO_TERM.value)
    ]
    if rows:
        conn.execute(insert(subscriptions), rows)


def _supersede_others(conn: Connection, quote: QuoteView, now: datetime) -> None:
    ids = [line.subscription_id for line in quote.lines if line.subscription_id is not None]
    if not ids:
        return
    others = conn.execute(
        select(quotes.c.id, quotes.c.status)
        .where(
            quotes.c.id.in_(
                select(quote_lines.c.quote_id).where(quote_lines.c.subscription_id.in_(ids))
            ),
            quotes.c.status.in_([s.value for s in OPEN_STATUSES]),
            quotes.c.id != quote.id,
        )
        .order_by(quotes.c.id)
        .with_for_update()
    ).all()
    end_quotes(
        conn,
        [o.id for o in others],
        QuoteStatus.SUPERSEDED,
        action="superseded",
        now=now,
        detail={"by_order_of": quote.number},
    )
