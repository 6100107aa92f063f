"""Creating quotes: a new draft, or a draft that replaces a sent quote to change its address."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.lifecycle import Action, QuoteStatus, next_status
from renewquote.domain.quotes import Quote
from renewquote.domain.quoting import build_quote
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
from renewquote.storage import quotes
from renewquote.storage.database import Database
from renewquote.storage.quotes import Event, NewDraft


def create_quote(
    db: Database, caller: Caller, draft: QuoteDraft, *, today: date, now: datetime
) -> Quote:
    """Check and price a new quote and store it as a draft; a refused one leaves nothing."""
    # Reads, then the one statement that stores the draft (on PostgreSQL): no BEGIN and
    # COMMIT of their own, two round trips of the six a POST /api/v1/quotes took.
    with db.write(single=True) as conn:
        return new_draft(conn, caller, draft, today=today, now=now)


def new_draft(
    conn: Connection, caller: Caller, draft: QuoteDraft, *, today: date, now: datetime
) -> Quote:
    """`create_quote` inside the caller's transaction (to send the draft in the same one)."""
    caller.require_buyer()
    customer_csn = caller.customer_to_quote(draft.customer_csn)
    context, address = quote_context(
        conn, caller, customer_csn, draft, channel=caller.channel, today=today
    )
    priced = build_quote(draft.request(), context)
    new = NewDraft(
        priced=priced,
        channel=caller.channel,
        language=language_of(draft.language, context.customer.language),
        created_by=caller.user_id,
        contact_email=draft.contact_email,
        address=address,
        tax_rate=context.customer.tax_rate,
        recipients=recipients_of(caller, draft),
    )
    detail = {"lines": len(priced.lines), "total": str(priced.totals.total)}
    return quotes.insert_draft(conn, new, Event(caller.email, "created", now, detail))


def replace_quote(
    db: Database,
    caller: Caller,
    number: str,
    address: dict[str, str | None],
    *,
    today: date,
    now: datetime,
) -> Quote:
    """Start a new draft with a sent quote's lines and a new address; sending it ends the old.

    `address` holds the fields that change (`line1`, `line2`, `city`, `postal_code`).
    """
    check_address_fields(address)
    with db.write() as conn:
        old = quotes.load_quote(conn, number, visible=caller.quotes_visible())
        # Seen first, then allowed: another tenant's quote is not found, whoever asks.
        caller.require_maker(old)
        if old.status is not QuoteStatus.SENT:
            next_status(old.status, Action.SUPERSEDE)  # refuses ended quotes with their code
            raise RuleViolation.one(Code.QUOTE_NOT_SENT, detail="replace")
        draft = draft_of(old)
        context, current = quote_context(
            conn, caller, old.customer_csn, draft, channel=old.channel, today=today
        )
        priced = build_quote(draft.request(), context)
        new = NewDraft(
            priced=priced,
            channel=old.channel,
            language=old.language,
            created_by=caller.user_id,
            contact_email=old.contact_email,
            address=moved_address(current, address),
            tax_rate=context.customer.tax_rate,
            recipients=old.recipients,
            replaces=old,
        )
        detail = {"replaces": old.number, "address": dict(address)}
        return quotes.insert_draft(conn, new, Event(caller.email, "created", now, detail))
