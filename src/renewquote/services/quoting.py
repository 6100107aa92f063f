"""Creating, editing, sending, cancelling and replacing quotes; and ending stale ones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import partial
from typing import Any

from anyio import to_thread
from sqlalchemy import Connection, and_, bindparam, select, update
from sqlalchemy.sql import Select

from renewquote.domain.errors import Code, RuleViolation, violation
from renewquote.domain.lifecycle import (
    OPEN_STATUSES,
    Action,
    QuoteStatus,
    next_status,
    quote_number,
)
from renewquote.domain.model import (
    Channel,
    Customer,
    Price,
    Promotion,
    QuoteType,
    Subscription,
    Term,
)
from renewquote.domain.quoting import (
    LineRequest,
    Offering,
    PricedQuote,
    QuoteContext,
    QuoteRequest,
    build_quote,
    quote_expiry,
)
from renewquote.services.actors import Actor
from renewquote.services.auth import (
    OWNER_COLUMNS,
    VALID_TOKEN,
    TokenOwner,
    owner_of,
    owner_params,
    token_owner_async,
)
from renewquote.storage import repository
from renewquote.storage.database import Database, Link
from renewquote.storage.quote_records import (
    QuoteView,
    Recipient,
    insert_draft_async,
    insert_lines,
    insert_quote,
    insert_recipients,
    load_quote,
    new_quote_view,
    record_event,
    replace_lines,
    replace_recipients,
    set_status,
)
from renewquote.storage.tables import (
    api_tokens,
    countries,
    customers,
    outbox,
    quote_events,
    quotes,
    subscriptions,
    users,
)

LANGUAGES = ("en", "fr")


@dataclass(frozen=True, slots=True)
class QuoteDraft:
    """What a buyer, partner or staff member asks for when creating or editing a quote."""

    type: QuoteType
    lines: tuple[LineRequest, ...]
    customer_csn: str | None = None
    currency: str | None = None
    recipients: tuple[Recipient, ...] = ()
    contact_email: str | None = None
    language: str | None = None


def create_quote(
    db: Database, actor: Actor, draft: QuoteDraft, *, today: date, now: datetime
) -> QuoteView:
    """Check and price a new quote and store it as a draft; a refused one leaves nothing."""
    actor.require_buyer()
    csn = _customer_for(actor, draft.customer_csn)
    with db.write() as conn:
        ctx, address = _context(conn, actor, csn, draft, today)
        priced = build_quote(_request(draft), ctx)
        language = _language(draft.language, ctx.customer.language)
        values = _draft_row(
            priced,
            ctx,
            actor,
            channel=actor.channel.value,
            language=language,
            contact_email=draft.contact_email,
            address=address,
            now=now,
        )
        quote_id = insert_quote(conn, values)
        lines = insert_lines(conn, quote_id, priced.lines)
        recipients = _recipients(actor, draft)
        insert_recipients(conn, quote_id, recipients)
        record_event(
            conn,
            quote_id,
            actor=actor.email,
            action="created",
            at=now,
            detail={"lines": len(priced.lines), "total": str(priced.totals.total)},
        )
        return new_quote_view(quote_id, values, lines, recipients)


async def create_quote_async(
    db: Database, actor: Actor, draft: QuoteDraft, *, today: date, now: datetime
) -> QuoteView:
    """`create_quote` from the event loop, for the HTTP API.

    On PostgreSQL a quote without new offerings reads what the rules need in one round trip
    (a buyer's own quote: in one statement) and writes its rows in one statement; otherwise
    `create_quote` runs on a worker thread.
    """
    if not _in_one_statement(db, draft):
        call = partial(create_quote, db, actor, draft, today=today, now=now)
        quote: QuoteView = await to_thread.run_sync(call)
        return quote
    actor.require_buyer()
    csn = _customer_for(actor, draft.customer_csn)
    if actor.kind == "customer" and not draft.contact_email:
        params = {"csn": csn, **_own_params(draft, today)}
        async with db.connected() as link:
            rows = await link.fetch(_CUSTOMER_READS[(False, _all_terms(draft))], params, tuple)
            return await _create_from(link, actor, draft, _own_reads(rows, 0, today), now=now)
    partner = actor.partner_csn if actor.kind == "partner" else None
    ids = _subscription_ids(draft)
    # Only what this draft needs, named; sent together, read back by name.
    queries: dict[str, tuple[Any, Mapping[str, Any]]] = {
        "promotions": (repository.RUNNING_PROMOTIONS_QUERY, {"today": today}),
        "customer": (repository.CUSTOMER, {"csn": csn}),
    }
    if ids:
        queries["facts"] = repository.facts_query(
            ids,
            customer_csn=actor.customer_csn if actor.kind == "customer" else None,
            partner_csn=partner,
            all_terms=_all_terms(draft),
        )
    if draft.contact_email:
        queries["contacts"] = (repository.CONTACT_EMAILS, {"csn": csn})
    if partner is not None:
        queries["resold"] = (repository.RESOLD_BY_PARTNER, {"customer": csn, "partner": partner})
    async with db.connected() as link:
        found = dict(zip(queries, await link.fetch_many(list(queries.values())), strict=True))
        if partner is not None and not found["resold"]:
            raise RuleViolation.one(Code.NOT_FOUND, thing="customer")
        return await _create_from(
            link,
            actor,
            draft,
            Reads(
                customer=next(iter(found["customer"]), None),
                facts=found.get("facts", ()),
                promotions=repository.promotions_of(found["promotions"]),
                contacts=frozenset(row[0] for row in found.get("contacts", ())),
                today=today,
            ),
            now=now,
        )


async def create_own_quote_async(
    db: Database, token: str, draft: QuoteDraft, *, now: datetime
) -> tuple[Actor, datetime, QuoteView]:
    """Return who a bearer token belongs to, when it expires, and the quote it creates.

    For a caller this process does not know yet: a customer's buyer renewing its own
    subscriptions has the token checked in the statement that reads the quote's facts.
    """
    today = now.date()
    if not _in_one_statement(db, draft) or draft.customer_csn or draft.contact_email:
        actor, expires_at = await token_owner_async(db, token, now=now)
        return actor, expires_at, await create_quote_async(db, actor, draft, today=today, now=now)
    params = {**owner_params(token, now), **_own_params(draft, today)}
    async with db.connected() as link:
        rows = await link.fetch(_CUSTOMER_READS[(True, _all_terms(draft))], params, tuple)
        owners = [TokenOwner._make(row[:_OWNER_WIDTH]) for row in rows[:1]]
        actor, expires_at = owner_of(owners)
        if actor.kind == "customer":
            actor.require_buyer()
            reads = _own_reads(rows, _OWNER_WIDTH, today)
            return actor, expires_at, await _create_from(link, actor, draft, reads, now=now)
    # A partner or staff member: its own reads (rare, since this process then knows it).
    return actor, expires_at, await create_quote_async(db, actor, draft, today=today, now=now)


@dataclass(frozen=True, slots=True)
class Reads:
    """What the rules need to know to create a quote, as its reads found it."""

    customer: Sequence[Any] | None  # a row of `repository.CUSTOMER`, None if not found
    facts: Sequence[Sequence[Any]]  # rows of a facts query
    promotions: list[Promotion]
    contacts: frozenset[str]
    today: date


async def _create_from(
    link: Link, actor: Actor, draft: QuoteDraft, reads: Reads, *, now: datetime
) -> QuoteView:
    """Check, price and store a draft from what its reads found (see create_quote_async)."""
    customer, address = repository.customer_and_address(reads.customer)
    subs, prices = repository.renewal_facts(reads.facts)
    ctx = _quote_context(
        actor,
        customer,
        reads.today,
        subscriptions=subs,
        prices=prices,
        promotions=reads.promotions,
        contacts=reads.contacts,
    )
    priced = build_quote(_request(draft), ctx)
    values = _draft_row(
        priced,
        ctx,
        actor,
        channel=actor.channel.value,
        language=_language(draft.language, ctx.customer.language),
        contact_email=draft.contact_email,
        address=address,
        now=now,
    )
    recipients = _recipients(actor, draft)
    quote_id, lines = await insert_draft_async(
        link,
        values,
        priced.lines,
        recipients,
        actor=actor.email,
        at=now,
        detail={"lines": len(priced.lines), "total": str(priced.totals.total)},
    )
    return new_quote_view(quote_id, values, lines, recipients)


def _customer_reads(by_token: bool, all_terms: bool) -> Select[Any]:
    """One statement for a customer's own quote: the token's owner (`by_token`), the customer
    as `repository.CUSTOMER` reads it, its subscriptions among the parameter `ids` with their
    prices (one row each, or one row without), and the running promotions (on every row)."""
    facts_columns, facts = repository.facts_source(all_terms)
    own = and_(subscriptions.c.customer_csn == customers.c.csn, repository.IDS_IN_ARRAY)
    if by_token:
        leading: tuple[Any, ...] = OWNER_COLUMNS
        source = (
            api_tokens.join(users, users.c.id == api_tokens.c.user_id)
            .outerjoin(customers, customers.c.csn == users.c.customer_csn)
            .outerjoin(countries, countries.c.code == customers.c.country)
        )
        chosen = VALID_TOKEN
    else:
        leading = ()
        source = customers.join(countries, countries.c.code == customers.c.country)
        chosen = customers.c.csn == bindparam("csn")
    return (
        select(
            *leading,
            *repository.CUSTOMER.selected_columns,
            *facts_columns,
            repository.running_promotions_json(),
        )
        .select_from(source.outerjoin(facts, own))
        .where(chosen)
    )


_CUSTOMER_READS = {(t, a): _customer_reads(t, a) for t in (False, True) for a in (False, True)}
_OWNER_WIDTH = len(OWNER_COLUMNS)
_CUSTOMER_WIDTH = len(repository.CUSTOMER.selected_columns)
_FACTS_WIDTH = len(repository.facts_source(False)[0])


def _own_params(draft: QuoteDraft, today: date) -> dict[str, Any]:
    return {"ids": sorted(_subscription_ids(draft)), "today": today}


def _own_reads(rows: Sequence[Sequence[Any]], start: int, today: date) -> Reads:
    """Split the rows of `_CUSTOMER_READS` from column `start` on (after the owner's)."""
    facts = start + _CUSTOMER_WIDTH
    first = rows[0] if rows else None
    # A token's owner without a company has its columns empty: no such customer.
    customer = first[start:facts] if first is not None and first[start] is not None else None
    return Reads(
        customer=customer,
        facts=[row[facts : facts + _FACTS_WIDTH] for row in rows if row[facts] is not None],
        promotions=repository.promotions_from_json(first[-1] if first is not None else None),
        contacts=frozenset(),
        today=today,
    )


def _in_one_statement(db: Database, draft: QuoteDraft) -> bool:
    # PostgreSQL, and renewals or co-terms only: new offerings take create_quote's reads.
    return not db.is_sqlite and not any(line.offering_code for line in draft.lines)


def _all_terms(draft: QuoteDraft) -> bool:
    return any(line.term is not None for line in draft.lines)


def edit_draft(
    db: Database,
    actor: Actor,
    number: str,
    *,
    lines: Sequence[LineRequest] | None = None,
    recipients: Sequence[Recipient] | None = None,
    contact_email: str | None = None,
    address: Mapping[str, str | None] | None = None,
    language: str | None = None,
    today: date,
    now: datetime,
) -> QuoteView:
    """Change a draft's lines, recipients, contact, address or language, and re-price it."""
    with db.write() as conn:
        quote = _visible(conn, actor, number, lock=True)
        # Seen first, then allowed: another tenant's quote is not found, whoever asks.
        actor.require_buyer()
        if address is not None and quote.status is not QuoteStatus.DRAFT:
            raise RuleViolation.one(Code.ADDRESS_LOCKED)
        next_status(quote.status, Action.EDIT)
        draft = _draft_of(quote)
        draft = replace(
            draft,
            lines=tuple(lines) if lines is not None else draft.lines,
            recipients=tuple(recipients) if recipients is not None else draft.recipients,
            contact_email=contact_email if contact_email is not None else draft.contact_email,
            language=language or draft.language,
        )
        ctx, _ = _context(conn, actor, quote.customer_csn, draft, today, channel=quote.channel)
        priced = build_quote(_request(draft), ctx)
        replace_lines(conn, quote.id, priced.lines, priced.totals)
        replace_recipients(conn, quote.id, _recipients(actor, draft, keep=quote.recipients))
        changes: dict[str, Any] = {
            "contact_email": draft.contact_email,
            "language": _language(draft.language, quote.language),
            "expires_at": priced.expires_at,
        }
        if address is not None:
            changes.update({k: address.get(k) for k in _ADDRESS_FIELDS if k in address})
        conn.execute(update(quotes).where(quotes.c.id == quote.id).values(**changes))
        record_event(
            conn,
            quote.id,
            actor=actor.email,
            action="edited",
            at=now,
            detail={
                "lines": lines is not None,
                "recipients": recipients is not None,
                "address": address is not None,
                "total": str(priced.totals.total),
            },
        )
        return load_quote_by_id(conn, quote.id)


def send_quote(db: Database, actor: Actor, number: str, *, today: date, now: datetime) -> QuoteView:
    """Send a draft: check it again, fix its validity, queue its e-mails; end what it replaces."""
    with db.write() as conn:
        quote = _visible(conn, actor, number, lock=True)
        # Seen first, then allowed: another tenant's quote is not found, whoever asks.
        actor.require_buyer()
        status = next_status(quote.status, Action.SEND)
        draft = _draft_of(quote)
        ctx, _ = _context(conn, actor, quote.customer_csn, draft, today, channel=quote.channel)
        # The rules are checked again on the day of sending; the prices stay as quoted.
        priced = build_quote(_request(draft), ctx)
        if ctx.channel is not Channel.SELF_SERVICE and quote.contact_email is None:
            raise RuleViolation.one(
                Code.INVALID_INPUT,
                field="contact",
                problem="a partner's quote goes to one contact of the customer",
            )
        expires_at = quote_expiry(today, _anchors(ctx, priced), priced.lines)
        set_status(conn, quote.id, status, sent_at=now, expires_at=expires_at)
        # Auto-renew would renew on the old seats and term: off until this quote ends.
        repository.hold_auto_renew(
            conn,
            quote.id,
            [
                line.subscription_id
                for line in priced.lines
                if line.subscription_id is not None
                and (
                    line.quantity != ctx.subscriptions[line.subscription_id].quantity
                    or line.term is not ctx.subscriptions[line.subscription_id].term
                )
            ],
        )
        record_event(
            conn,
            quote.id,
            actor=actor.email,
            action="sent",
            at=now,
            detail={"to": [r.email for r in quote.recipients], "expires_at": str(expires_at)},
        )
        if quote.replaces is not None:
            _supersede_replaced(conn, quote, actor, now)
        enqueue(
            conn,
            "quote.sent",
            {"quote": quote.number, "recipients": [r.email for r in quote.recipients]},
            now,
        )
        return load_quote_by_id(conn, quote.id)


def cancel_quote(db: Database, actor: Actor, number: str, *, now: datetime) -> QuoteView:
    """Cancel a quote: only the partner or the vendor's staff may."""
    with db.write() as conn:
        quote = _visible(conn, actor, number, lock=True)
        if actor.kind == "customer":
            raise RuleViolation.one(Code.CANCELLATION_NOT_SELF_SERVICE)
        status = next_status(quote.status, Action.CANCEL)
        end_quotes(conn, [quote.id], status, action="cancelled", now=now, actor=actor.email)
        enqueue(conn, "quote.cancelled", {"quote": quote.number}, now)
        return load_quote_by_id(conn, quote.id)


def replace_quote(
    db: Database,
    actor: Actor,
    number: str,
    address: Mapping[str, str | None],
    *,
    today: date,
    now: datetime,
) -> QuoteView:
    """Start a new draft with a sent quote's lines and a new address; sending it ends the old."""
    unknown = set(address) - set(_ADDRESS_FIELDS)
    if unknown:
        raise RuleViolation.one(
            Code.INVALID_INPUT, field="address", problem=f"unknown fields {sorted(unknown)}"
        )
    with db.read() as conn:
        old = _visible(conn, actor, number)
    actor.require_buyer()
    if old.status is not QuoteStatus.SENT:
        next_status(old.status, Action.SUPERSEDE)  # refuses ended quotes with their own code
        raise RuleViolation.one(Code.QUOTE_NOT_SENT)
    draft = _draft_of(old)
    with db.write() as conn:
        ctx, current = _context(conn, actor, old.customer_csn, draft, today, channel=old.channel)
        priced = build_quote(_request(draft), ctx)
        new_address = {**current, **{k: address.get(k) for k in address}}
        values = _draft_row(
            priced,
            ctx,
            actor,
            channel=old.channel,
            language=old.language,
            contact_email=old.contact_email,
            address=new_address,
            now=now,
            replaces_quote_id=old.id,
        )
        new_id = insert_quote(conn, values)
        lines = insert_lines(conn, new_id, priced.lines)
        insert_recipients(conn, new_id, old.recipients)
        record_event(
            conn,
            new_id,
            actor=actor.email,
            action="created",
            at=now,
            detail={"replaces": old.number, "address": dict(address)},
        )
        return new_quote_view(new_id, values, lines, old.recipients, replaces=old.number)


def _draft_row(
    priced: PricedQuote,
    ctx: QuoteContext,
    actor: Actor,
    *,
    channel: str,
    language: str,
    contact_email: str | None,
    address: Mapping[str, str | None],
    now: datetime,
    replaces_quote_id: int | None = None,
) -> dict[str, Any]:
    """The quotes row of a new draft, priced."""
    return {
        "year": now.year,
        "type": priced.type.value,
        "status": QuoteStatus.DRAFT.value,
        "channel": channel,
        "customer_csn": priced.customer_csn,
        "partner_csn": priced.partner_csn,
        "currency": priced.currency,
        "purchase_method": priced.purchase_method.value,
        "language": language,
        "created_by": actor.user_id,
        "contact_email": contact_email,
        **address,
        "tax_rate": ctx.customer.tax_rate,
        "subtotal": priced.totals.subtotal,
        "discount_total": priced.totals.discount_total,
        "tax": priced.totals.tax,
        "total": priced.totals.total,
        "expires_at": priced.expires_at,
        "created_at": now,
        "sent_at": None,
        "replaces_quote_id": replaces_quote_id,
    }


def get_quote(db: Database, actor: Actor, number: str) -> QuoteView:
    """Return a quote the actor may see, or `not_found`."""
    with db.read() as conn:
        return _visible(conn, actor, number)


def quote_history(db: Database, actor: Actor, number: str) -> list[dict[str, Any]]:
    """Return a quote's audit trail, oldest first."""
    with db.read() as conn:
        quote = _visible(conn, actor, number)
        rows = conn.execute(
            select(quote_events)
            .where(quote_events.c.quote_id == quote.id)
            .order_by(quote_events.c.id)
        )
        return [
            {"at": r.at, "actor": r.actor, "action": r.action, "detail": r.detail} for r in rows
        ]


def expire_quotes(db: Database, *, today: date, now: datetime) -> list[str]:
    """End every open quote whose validity has passed; return their numbers."""
    with db.write() as conn:
        query = (
            select(quotes.c.id, quotes.c.year)
            .where(quotes.c.status.in_([s.value for s in OPEN_STATUSES]))
            .where(quotes.c.expires_at < today)
            .order_by(quotes.c.id)
            .with_for_update(skip_locked=True)
        )
        expired = conn.execute(query).all()
        if not expired:
            return []
        end_quotes(conn, [r.id for r in expired], QuoteStatus.EXPIRED, action="expired", now=now)
        return [quote_number(r.year, r.id) for r in expired]


def end_quotes(
    conn: Connection,
    quote_ids: Sequence[int],
    status: QuoteStatus,
    *,
    action: str,
    now: datetime,
    actor: str = "system",
    detail: Mapping[str, Any] | None = None,
) -> None:
    """End open quotes (the caller checked the transition): status, auto-renew back, events."""
    if not quote_ids:
        return
    conn.execute(update(quotes).where(quotes.c.id.in_(quote_ids)).values(status=status.value))
    repository.release_auto_renew(conn, quote_ids)
    conn.execute(
        quote_events.insert(),
        [
            {
                "quote_id": i,
                "actor": actor,
                "action": action,
                "at": now,
                "detail": dict(detail or {}),
            }
            for i in quote_ids
        ],
    )


def enqueue(conn: Connection, topic: str, payload: Mapping[str, Any], now: datetime) -> None:
    """Queue a message that leaves the process once this transaction commits."""
    conn.execute(
        outbox.insert(),
        {
            "topic": topic,
            "payload": dict(payload),
            "created_at": now,
            "available_at": now,
            "processed_at": None,
            "attempts": 0,
            "last_error": None,
        },
    )


def load_quote_by_id(conn: Connection, quote_id: int) -> QuoteView:
    """Read back a quote by its id within the caller's transaction."""
    year = conn.execute(select(quotes.c.year).where(quotes.c.id == quote_id)).scalar_one()
    return load_quote(conn, quote_number(year, quote_id))


def visible_to(actor: Actor, quote: QuoteView) -> bool:
    """Tell whether `actor` may see `quote`: its customer, the partner that made it, or staff."""
    if actor.kind == "staff":
        return True
    if actor.kind == "customer":
        return quote.customer_csn == actor.customer_csn
    return quote.channel == Channel.PARTNER.value and quote.partner_csn == actor.partner_csn


_ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "postal_code")


def _visible(conn: Connection, actor: Actor, number: str, *, lock: bool = False) -> QuoteView:
    quote = load_quote(conn, number, lock=lock)
    if not visible_to(actor, quote):
        raise RuleViolation.one(Code.NOT_FOUND, thing="quote")
    return quote


def _customer_for(actor: Actor, customer_csn: str | None) -> str:
    if actor.kind == "customer":
        assert actor.customer_csn is not None
        if customer_csn not in (None, actor.customer_csn):
            raise RuleViolation.one(Code.NOT_FOUND, thing="customer")
        return actor.customer_csn
    if customer_csn is None:
        raise RuleViolation.one(
            Code.INVALID_INPUT, field="customer_csn", problem="name the customer to quote"
        )
    return customer_csn


def _context(
    conn: Connection,
    actor: Actor,
    customer_csn: str,
    draft: QuoteDraft,
    today: date,
    *,
    channel: str | None = None,
) -> tuple[QuoteContext, dict[str, str | None]]:
    """Read everything the rules need for `draft`, limited to what `actor` may see."""
    customer, address = repository.load_customer_and_address(conn, customer_csn)
    partner = actor.partner_csn if actor.kind == "partner" else None
    if partner is not None and not repository.partner_resells_to(conn, partner, customer_csn):
        raise RuleViolation.one(Code.NOT_FOUND, thing="customer")
    ids = _subscription_ids(draft)
    subs, prices = repository.load_renewal_facts(
        conn,
        ids,
        customer_csn=actor.customer_csn if actor.kind == "customer" else None,
        partner_csn=partner,
        all_terms=any(line.term is not None for line in draft.lines),
    )
    new_codes = {line.offering_code for line in draft.lines if line.offering_code}
    offerings = repository.load_offerings(conn, new_codes) if new_codes else {}
    currencies = {s.currency for s in subs.values()}
    if draft.currency is not None:
        currencies.add(draft.currency)
    if new_codes and currencies:
        prices.update(repository.load_prices(conn, new_codes, currencies))
    contacts = repository.contact_emails(conn, customer_csn) if draft.contact_email else frozenset()
    ctx = _quote_context(
        actor,
        customer,
        today,
        subscriptions=subs,
        prices=prices,
        promotions=repository.load_promotions(conn, today),
        contacts=contacts,
        offerings=offerings,
        channel=channel,
    )
    return ctx, address


def _subscription_ids(draft: QuoteDraft) -> set[str]:
    """The subscriptions a draft names: renewed, or aligned to."""
    return {
        sid
        for line in draft.lines
        for sid in (line.subscription_id, line.align_to_subscription_id)
        if sid is not None
    }


def _quote_context(
    actor: Actor,
    customer: Customer,
    today: date,
    *,
    subscriptions: Mapping[str, Subscription],
    prices: Mapping[tuple[str, Term, str], Price],
    promotions: Sequence[Promotion],
    contacts: frozenset[str],
    offerings: Mapping[str, Offering] | None = None,
    channel: str | None = None,
) -> QuoteContext:
    """What the rules read, as `actor` may see it."""
    return QuoteContext(
        channel=Channel(channel) if channel else actor.channel,
        customer=customer,
        today=today,
        subscriptions=dict(subscriptions),
        offerings=dict(offerings or {}),
        prices=dict(prices),
        promotions=list(promotions),
        contact_emails=contacts,
        partner_csn=actor.partner_csn if actor.kind == "partner" else None,
        buyer_email=actor.email if actor.kind == "customer" else None,
    )


def _request(draft: QuoteDraft) -> QuoteRequest:
    return QuoteRequest(
        type=draft.type,
        lines=draft.lines,
        currency=draft.currency,
        recipients=tuple(r.email for r in draft.recipients),
        contact_email=draft.contact_email,
    )


def _recipients(actor: Actor, draft: QuoteDraft, keep: Sequence[Recipient] = ()) -> list[Recipient]:
    """The buyer (self-service) or the named contact first, then the others, each once."""
    first: list[Recipient] = [r for r in keep if r.role == "buyer"]
    if actor.kind == "customer" and not first:
        first = [Recipient(actor.email, None, "buyer")]
    if draft.contact_email:
        first.append(Recipient(draft.contact_email, None, "contact"))
    seen = {r.email.lower() for r in first}
    extras = []
    for r in draft.recipients:
        if r.email.lower() not in seen:
            seen.add(r.email.lower())
            extras.append(replace(r, role="extra"))
    return [*first, *extras]


def _draft_of(quote: QuoteView) -> QuoteDraft:
    """The draft a stored quote was made from: its lines, customer, recipients and language."""
    return QuoteDraft(
        type=QuoteType(quote.type),
        lines=_line_requests(quote),
        customer_csn=quote.customer_csn,
        currency=quote.currency,
        recipients=tuple(r for r in quote.recipients if r.role == "extra"),
        contact_email=quote.contact_email,
        language=quote.language,
    )


def _line_requests(quote: QuoteView) -> tuple[LineRequest, ...]:
    return tuple(
        LineRequest(
            subscription_id=line.subscription_id,
            offering_code=None if line.subscription_id else line.offering_code,
            quantity=line.quantity,
            term=Term(line.term),
            align_to_subscription_id=line.align_to_subscription_id,
        )
        for line in quote.lines
    )


def _anchors(ctx: QuoteContext, priced: PricedQuote) -> list[Any]:
    subs = []
    for line in priced.lines:
        sid = line.subscription_id or line.align_to_subscription_id
        subs.append(ctx.subscriptions[sid] if sid else None)
    return subs


def _supersede_replaced(conn: Connection, quote: QuoteView, actor: Actor, now: datetime) -> None:
    assert quote.replaces is not None
    old = load_quote(conn, quote.replaces, lock=True)
    if old.status in OPEN_STATUSES:
        end_quotes(
            conn,
            [old.id],
            next_status(old.status, Action.SUPERSEDE),
            action="superseded",
            now=now,
            actor=actor.email,
            detail={"by": quote.number},
        )


def _language(asked: str | None, fallback: str) -> str:
    if asked is None:
        return fallback if fallback in LANGUAGES else "en"
    if asked not in LANGUAGES:
        raise RuleViolation([violation(Code.INVALID_INPUT, field="language", problem="en or fr")])
    return asked
