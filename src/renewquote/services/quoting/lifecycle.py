"""A quote's life after its creation: read, edit, send, cancel, expire."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import Connection

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.lifecycle import Action, QuoteStatus, next_status
from renewquote.domain.model import Channel, QuoteType, Subscription
from renewquote.domain.quotes import Quote, Recipient
from renewquote.domain.quoting import LineRequest, PricedQuote, build_quote, quote_expiry
from renewquote.domain.translations import NC_
from renewquote.services import mailing
from renewquote.services.access import Caller
from renewquote.services.quoting.drafts import (
    QuoteDraft,
    check_address_fields,
    draft_of,
    language_of,
    moved_address,
    quote_context,
    recipients_of,
)
from renewquote.storage import quotes, repository
from renewquote.storage.database import Database
from renewquote.storage.quotes import Event


def get_quote(db: Database, caller: Caller, number: str) -> Quote:
    """Return a quote the caller may see, or `not_found`."""
    with db.read() as conn:
        return quotes.load_quote(conn, number, visible=caller.quotes_visible())


def quote_history(db: Database, caller: Caller, number: str) -> list[Event]:
    """Return a quote's audit trail, oldest first."""
    with db.read() as conn:
        quote = quotes.load_quote(conn, number, visible=caller.quotes_visible())
        return quotes.events_of(conn, quote.id)


def edit_draft(
    db: Database,
    caller: Caller,
    number: str,
    *,
    lines: Sequence[LineRequest] | None = None,
    recipients: Sequence[Recipient] | None = None,
    contact_email: str | None = None,
    address: dict[str, str | None] | None = None,
    language: str | None = None,
    today: date,
    now: datetime,
) -> Quote:
    """Change a draft's lines, recipients, contact, address or language, and price it again.

    The whole quote is judged again under its channel's rules, and its purchase method,
    partner and currency follow from its lines as they now are.
    """
    check_address_fields(address or {})
    with db.write() as conn:
        quote = quotes.load_quote(conn, number, visible=caller.quotes_visible(), lock=True)
        # Seen first, then allowed: another tenant's quote is not found, whoever asks.
        caller.require_maker(quote)
        if address is not None and quote.status is not QuoteStatus.DRAFT:
            raise RuleViolation.one(Code.ADDRESS_LOCKED)
        next_status(quote.status, Action.EDIT)
        before = draft_of(quote)
        draft = QuoteDraft(
            type=before.type,
            lines=tuple(lines) if lines is not None else before.lines,
            customer_csn=quote.customer_csn,
            # A renewal's currency follows from its lines; a new subscription's is chosen.
            currency=None if before.type is QuoteType.RENEWAL else before.currency,
            recipients=tuple(recipients) if recipients is not None else before.recipients,
            contact_email=contact_email if contact_email is not None else before.contact_email,
            language=language or before.language,
        )
        context, _ = quote_context(
            conn, caller, quote.customer_csn, draft, channel=quote.channel, today=today
        )
        priced = build_quote(draft.request(), context)
        detail = {
            "lines": lines is not None,
            "recipients": recipients is not None,
            "address": address is not None,
            "total": str(priced.totals.total),
        }
        quotes.update_draft(
            conn,
            quote,
            priced,
            recipients=recipients_of(caller, draft, keep=quote.recipients),
            contact_email=draft.contact_email,
            language=language_of(draft.language, quote.language),
            address=moved_address(quote.address, address or {}),
            tax_rate=context.customer.tax_rate,
            event=Event(caller.email, "edited", now, detail),
        )
        return quotes.load_quote_by_id(conn, quote.id)


def send_quote(
    db: Database, caller: Caller, number: str, *, today: date, now: datetime, mail: bool = True
) -> Quote:
    """Send a draft: check it again, fix its validity, queue its e-mails (unless `mail` is
    False: a quote bought at once needs none); end what it replaces."""
    with db.write() as conn:
        return send_draft(conn, caller, number, today=today, now=now, mail=mail)


def send_draft(
    conn: Connection,
    caller: Caller,
    number: str,
    *,
    today: date,
    now: datetime,
    mail: bool = True,
) -> Quote:
    """`send_quote` inside the caller's transaction (a draft made and sent in one)."""
    quote = quotes.load_quote(conn, number, visible=caller.quotes_visible(), lock=True)
    # Seen first, then allowed: another tenant's quote is not found, whoever asks.
    caller.require_maker(quote)
    next_status(quote.status, Action.SEND)
    draft = draft_of(quote)
    context, _ = quote_context(
        conn, caller, quote.customer_csn, draft, channel=quote.channel, today=today
    )
    # The rules are checked again on the day of sending; the prices stay as quoted.
    priced = build_quote(draft.request(), context)
    if quote.channel is not Channel.SELF_SERVICE and quote.contact_email is None:
        raise RuleViolation.one(
            Code.INVALID_INPUT,
            field="contact",
            problem=NC_("rule", "a partner's quote goes to one contact of the customer"),
        )
    expires_at = quote_expiry(today, _anchors(context.subscriptions, priced), priced.lines)
    detail = {"to": [r.email for r in quote.recipients], "expires_at": str(expires_at)}
    quotes.mark_sent(
        conn, quote, expires_at=expires_at, event=Event(caller.email, "sent", now, detail)
    )
    # Auto-renew would renew on the old seats and term: off until this quote ends.
    repository.hold_auto_renew(conn, quote.id, _changed(context.subscriptions, priced))
    if quote.replaces is not None:
        replaced = quotes.load_quote(conn, quote.replaces, lock=True)
        if replaced.status in (QuoteStatus.DRAFT, QuoteStatus.SENT):
            status = next_status(replaced.status, Action.SUPERSEDE)
            event = Event(caller.email, "superseded", now, {"by": quote.number})
            quotes.end_quotes(conn, [replaced.id], status, event)
    if mail:
        mailing.queue_quote_mail(conn, quote, now)
    return quotes.load_quote_by_id(conn, quote.id)


def cancel_quote(db: Database, caller: Caller, number: str, *, now: datetime) -> Quote:
    """Cancel a quote: only the partner that made it, or the vendor's staff, may."""
    with db.write() as conn:
        quote = quotes.load_quote(conn, number, visible=caller.quotes_visible(), lock=True)
        caller.require_canceller(quote)
        status = next_status(quote.status, Action.CANCEL)
        quotes.end_quotes(conn, [quote.id], status, Event(caller.email, "cancelled", now, {}))
        return quotes.load_quote_by_id(conn, quote.id)


def expire_quotes(db: Database, *, today: date, now: datetime) -> list[str]:
    """End every open quote whose validity has passed; return their numbers."""
    with db.write() as conn:
        past = quotes.open_quotes_past(conn, today)
        event = Event("system", "expired", now, {})
        quotes.end_quotes(conn, [quote_id for quote_id, _ in past], QuoteStatus.EXPIRED, event)
        return [number for _, number in past]


def _anchors(
    subscriptions: Mapping[str, Subscription], priced: PricedQuote
) -> list[Subscription | None]:
    """The subscription each line renews or aligns to (None for a new subscription)."""
    return [
        subscriptions[sid]
        if (sid := line.subscription_id or line.align_to_subscription_id)
        else None
        for line in priced.lines
    ]


def _changed(subscriptions: Mapping[str, Subscription], priced: PricedQuote) -> list[str]:
    """The subscriptions whose seats or term the quote changes."""
    return [
        line.subscription_id
        for line in priced.lines
        if line.subscription_id is not None
        and (
            line.quantity != subscriptions[line.subscription_id].quantity
            or line.term is not subscriptions[line.subscription_id].term
        )
    ]
