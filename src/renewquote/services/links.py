"""A recipient's link: the sent quote, opened without an account while it is open.

A link is found by the SHA-256 of its token only. It opens its quote while the quote is sent
(not yet ordered, replaced, cancelled or expired) and the link itself has not run out; every
other case is "not found", whatever the reason, so a link tells nothing of quotes it does not
open. Opening counts a view; the first one is an audit event and a `quote.viewed` message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from renewquote.domain.errors import Code, RuleViolation, violation
from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.model import PaymentMethod
from renewquote.domain.quotes import Order, Quote
from renewquote.services.documents import PrintableQuote, printable_of
from renewquote.services.mailing import MailKind, link_hash, queue_quote_mail
from renewquote.services.ordering import place_order
from renewquote.services.payments import PaymentProvider
from renewquote.storage import quotes
from renewquote.storage.database import Database
from renewquote.storage.quotes import Event, LinkHolder

# What secrets.token_urlsafe(32) gives, with room: anything else is not looked up at all.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
# A holder asking again and again for a new link gets one mail this often at most.
NEW_LINK_EVERY = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class LinkView:
    """What a link shows: the quote with its parties, and whose link it is."""

    printable: PrintableQuote
    holder: LinkHolder


def open_link(db: Database, token: str, *, now: datetime) -> LinkView:
    """Show the quote a link opens and count the view; `not_found` for any other link."""
    with db.write() as conn:
        holder, quote = _opened(conn, token, now)
        if quotes.record_view(conn, holder.recipient_id, now) == 1:
            event = Event(holder.email, "viewed", now, {})
            quotes.record_events(conn, [quote.id], event)
        quote = quotes.load_quote_by_id(conn, quote.id)
        return LinkView(printable_of(conn, quote), holder)


def link_document(db: Database, token: str, *, now: datetime) -> PrintableQuote:
    """Return the quote a link opens, to print (not counted as a view)."""
    with db.read() as conn:
        _, quote = _opened(conn, token, now)
        return printable_of(conn, quote)


def checkout_by_link(
    db: Database,
    token: str,
    payment_method: PaymentMethod,
    *,
    card_number: str | None,
    provider: PaymentProvider | None,
    now: datetime,
) -> tuple[Order, Quote]:
    """Order the quote a link opens, for the link's holder, as a signed-in buyer would."""
    with db.read() as conn:
        holder, quote = _opened(conn, token, now)
    return place_order(
        db,
        quote.number,
        payment_method,
        by=holder.email,
        card_number=card_number,
        provider=provider,
        today=now.date(),
        now=now,
    )


def _opened(conn: Connection, token: str, now: datetime) -> tuple[LinkHolder, Quote]:
    holder = quotes.link_holder(conn, link_hash(token)) if _TOKEN.fullmatch(token) else None
    if holder is None:
        raise _gone()
    quote = quotes.load_quote_by_id(conn, holder.quote_id)
    if quote.status is not QuoteStatus.SENT or now.date() > quote.expires_at:
        raise _gone()
    if now >= holder.link_expires_at:
        raise LinkExpired(holder, quote)
    return holder, quote


class LinkExpired(RuleViolation):
    """A link that ran out while its quote is still open: its holder may ask for a new one."""

    def __init__(self, holder: LinkHolder, quote: Quote) -> None:
        super().__init__([violation(Code.NOT_FOUND, thing="quote")])
        self.holder = holder
        self.quote = quote


def send_new_link(db: Database, token: str, *, now: datetime) -> str:
    """Mail the holder of an expired link a new one, while its quote is open; return the
    address it goes to. Asked again within `NEW_LINK_EVERY`, nothing more is sent."""
    with db.write() as conn:
        try:
            _opened(conn, token, now)
        except LinkExpired as expired:
            holder = expired.holder
            number = expired.quote.number
        else:
            raise _gone()  # a link that still works needs no other
        quote = quotes.load_quote(conn, number, lock=True)
        if quote.status is not QuoteStatus.SENT:
            raise _gone()
        latest = quotes.latest_link_at(conn, holder.recipient_id)
        if latest is None or now - latest >= NEW_LINK_EVERY:
            queue_quote_mail(
                conn, quote, now, kind=MailKind.NEW_LINK, recipient_ids={holder.recipient_id}
            )
        return holder.email


def _gone() -> RuleViolation:
    return RuleViolation.one(Code.NOT_FOUND, thing="quote")
