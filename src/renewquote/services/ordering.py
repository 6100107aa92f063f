"""Ordering a quote: payment rules, then each subscription renewed exactly once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import Connection

from renewquote.domain.errors import Code, RuleViolation, violation
from renewquote.domain.lifecycle import Action, QuoteStatus, next_status
from renewquote.domain.model import PaymentMethod, Subscription, SubscriptionStatus
from renewquote.domain.quotes import Order, Quote
from renewquote.domain.quoting import payment_problems
from renewquote.services import mailing
from renewquote.services.access import Caller
from renewquote.services.payments import Authorization, PaymentProvider, TestGateway
from renewquote.services.quoting.creation import new_draft
from renewquote.services.quoting.drafts import QuoteDraft
from renewquote.services.quoting.lifecycle import send_draft
from renewquote.storage import orders, quotes, repository
from renewquote.storage.conditions import EVERYTHING, Condition
from renewquote.storage.database import Database
from renewquote.storage.quotes import Event

log = logging.getLogger("renewquote.ordering")


def checkout(
    db: Database,
    caller: Caller,
    number: str,
    payment_method: PaymentMethod,
    *,
    card_number: str | None = None,
    provider: PaymentProvider | None = None,
    today: date,
    now: datetime,
) -> tuple[Order, Quote]:
    """Order a sent quote at its quoted prices; of two racing orders for one term, one wins.

    The payment is authorized before the order is written and captured once it is
    committed; if writing the order fails, the authorization is voided. The provider is never
    called while rows are locked.
    """
    return place_order(
        db,
        number,
        payment_method,
        by=caller.email,
        card_number=card_number,
        provider=provider,
        today=today,
        now=now,
        visible=caller.quotes_visible(),
        entitled=caller.require_buyer,
    )


def place_order(
    db: Database,
    number: str,
    payment_method: PaymentMethod,
    *,
    by: str,
    card_number: str | None = None,
    provider: PaymentProvider | None = None,
    today: date,
    now: datetime,
    visible: Condition = EVERYTHING,
    entitled: Callable[[], None] | None = None,
) -> tuple[Order, Quote]:
    """Order a sent quote for `by`: a signed-in buyer (the quote among those `visible` to it,
    then `entitled` refusing a caller who may not buy), or the holder of one of its links."""
    payments = provider or TestGateway()
    with db.read() as conn:
        # Seen first, then allowed: another tenant's quote is not found, whoever asks.
        quote = quotes.load_quote(conn, number, visible=visible)
        if entitled is not None:
            entitled()
        _check(conn, quote, payment_method, today=today)
    authorization = payments.authorize(payment_method, quote.total, quote.currency, card_number)
    try:
        with db.write() as conn:
            # Quotes first (this one and every open quote holding its subscriptions, in id
            # order), then the subscriptions: the order sending, cancelling and expiring lock
            # in too, so that no two of them ever wait on each other in a circle.
            others = quotes.lock_quotes_holding(conn, quote.renewed_ids, with_quote=quote.id)
            subs = repository.subscriptions_by_id(conn, quote.subscription_ids, lock=True)
            quote = quotes.load_quote(conn, number)
            # Checked again under the locks: another order may have won in between.
            _check(conn, quote, payment_method, today=today, subs=subs)
            order = orders.insert_order(conn, quote, payment_method, by=by, now=now)
            orders.renew_subscriptions(conn, quote, subs, order.id)
            orders.open_new_subscriptions(conn, quote, order.id, payment_method)
            # The payment's reference stays with the provider and the logs: the audit trail,
            # which every party to the quote reads, says how it was paid, not with what card.
            detail = {"order": order.id, "payment": payment_method.value, "total": str(quote.total)}
            quotes.mark_ordered(conn, quote, Event(by, "ordered", now, detail))
            event = Event("system", "superseded", now, {"by_order_of": quote.number})
            quotes.end_quotes(conn, others, QuoteStatus.SUPERSEDED, event)
            mailing.queue_order_mail(conn, quote, order, by, now)
            ordered = quotes.load_quote_by_id(conn, quote.id)
    except BaseException:
        _release(payments, authorization)
        raise
    try:
        payments.capture(authorization)
    except Exception:
        # The order is committed and stands: the money authorized for it is captured later
        # from the provider's side (its reference is logged), never by ordering again.
        log.exception("capture failed for order %s (%s)", order.id, authorization.reference)
    return order, ordered


def _release(payments: PaymentProvider, authorization: Authorization) -> None:
    """Void an authorization whose order failed, without hiding why the order failed."""
    try:
        payments.void(authorization)
    except Exception:
        log.exception("void failed for %s", authorization.reference)


def _check(
    conn: Connection,
    quote: Quote,
    method: PaymentMethod,
    *,
    today: date,
    subs: dict[str, Subscription] | None = None,
) -> None:
    """Refuse an order of `quote` that the rules do not allow, with every reason."""
    if quote.status is QuoteStatus.SENT and quote.expires_at < today:
        raise RuleViolation.one(Code.QUOTE_EXPIRED, expires_at=quote.expires_at)
    next_status(quote.status, Action.ORDER)
    if subs is None:
        subs = repository.subscriptions_by_id(conn, quote.subscription_ids)
    customer, _ = repository.customer(conn, quote.customer_csn)
    problems = payment_problems(
        method=method,
        total=quote.total,
        currency=quote.currency,
        card_limit=repository.card_limit(conn, quote.currency),
        channel=quote.channel,
        customer=customer,
        coterm_payment_methods=frozenset(
            subs[line.align_to_subscription_id].payment_method
            for line in quote.lines
            if line.align_to_subscription_id is not None
        ),
    )
    # A subscription renewed by another order since, or cancelled: this quote is superseded.
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


def renew_and_pay(
    db: Database,
    caller: Caller,
    draft: QuoteDraft,
    payment_method: PaymentMethod,
    *,
    card_number: str | None = None,
    provider: PaymentProvider | None = None,
    today: date,
    now: datetime,
) -> tuple[Order, Quote]:
    """ "Renew and pay now": make the quote, send it (without mail) and order it at once.

    A quote the rules refuse leaves nothing. A payment refused (declined card, card limit, no
    new credit line) leaves the quote cancelled, the reason in its history, and nothing bought.
    """
    with db.write() as conn:  # made and sent in one: a refusal at either step leaves nothing
        quote = new_draft(conn, caller, draft, today=today, now=now)
        sent = send_draft(conn, caller, quote.number, today=today, now=now, mail=False)
    return _pay_or_cancel(
        db, caller, sent, payment_method, card_number, provider, today=today, now=now
    )


def pay_draft(
    db: Database,
    caller: Caller,
    number: str,
    payment_method: PaymentMethod,
    *,
    card_number: str | None = None,
    provider: PaymentProvider | None = None,
    today: date,
    now: datetime,
) -> tuple[Order, Quote]:
    """ "Renew and pay now" on a draft under review (the portal's): send it without mail and
    order it at once; a refused payment leaves it cancelled, as `renew_and_pay` does."""
    with db.write() as conn:
        sent = send_draft(conn, caller, number, today=today, now=now, mail=False)
    return _pay_or_cancel(
        db, caller, sent, payment_method, card_number, provider, today=today, now=now
    )


def _pay_or_cancel(
    db: Database,
    caller: Caller,
    sent: Quote,
    payment_method: PaymentMethod,
    card_number: str | None,
    provider: PaymentProvider | None,
    *,
    today: date,
    now: datetime,
) -> tuple[Order, Quote]:
    try:
        return checkout(
            db,
            caller,
            sent.number,
            payment_method,
            card_number=card_number,
            provider=provider,
            today=today,
            now=now,
        )
    except Exception as failure:
        # Nothing bought: the quote made for it is not left open (its reason kept).
        detail: dict[str, object]
        if isinstance(failure, RuleViolation):
            detail = {"payment_refused": [v.code.value for v in failure.violations]}
        else:
            detail = {"failed": type(failure).__name__}
        try:
            with db.write() as conn:
                held = quotes.load_quote(conn, sent.number, lock=True)
                if held.status is QuoteStatus.SENT:
                    event = Event(caller.email, "cancelled", now, detail)
                    quotes.end_quotes(conn, [held.id], QuoteStatus.CANCELLED, event)
        except Exception:
            log.exception("could not cancel %s after its failed purchase", sent.number)
        raise
