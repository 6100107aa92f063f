"""Storing quotes as priced and reading them back exactly as stored.

The one module that writes quotes, their lines, recipients (with their links and how their
mail went) and audit events; the messages they cause go through `storage.outbox`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Integer,
    Select,
    and_,
    bindparam,
    cast,
    column,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    update,
)

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.lifecycle import OPEN_STATUSES, QuoteStatus, parse_quote_number, quote_number
from renewquote.domain.model import Channel, LineKind, PurchaseMethod, QuoteType, Term
from renewquote.domain.pricing import PricedLine
from renewquote.domain.quotes import (
    Address,
    Delivery,
    Quote,
    QuoteLine,
    Recipient,
    RecipientRole,
)
from renewquote.domain.quoting import PricedQuote
from renewquote.storage.conditions import EVERYTHING, Built, Condition
from renewquote.storage.repository import release_auto_renew
from renewquote.storage.tables import (
    quote_events,
    quote_lines,
    quote_links,
    quote_recipients,
    quotes,
)
from renewquote.storage.types import AnyRow

_BUILT = Built()
_INSERT_QUOTE = insert(quotes).returning(quotes.c.id)
_INSERT_LINES = insert(quote_lines)
_INSERT_RECIPIENTS = insert(quote_recipients)
_INSERT_EVENT = insert(quote_events)


@dataclass(frozen=True, slots=True)
class NewDraft:
    """A priced quote to store as a draft, with what the service decided around it."""

    priced: PricedQuote
    channel: Channel
    language: str
    created_by: int | None
    contact_email: str | None
    address: Address
    tax_rate: Decimal
    recipients: tuple[Recipient, ...]
    replaces: Quote | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """One audit row: who changed a quote, when, and how."""

    actor: str
    action: str
    at: datetime
    detail: Mapping[str, Any]


def insert_draft(conn: Connection, draft: NewDraft, event: Event) -> Quote:
    """Store a new draft (quote, lines, recipients, its audit event); return it as stored."""
    priced = draft.priced
    values = {
        "year": event.at.year,
        "type": priced.type.value,
        "status": QuoteStatus.DRAFT.value,
        "channel": draft.channel.value,
        "customer_csn": priced.customer_csn,
        "partner_csn": priced.partner_csn,
        "currency": priced.currency,
        "purchase_method": priced.purchase_method.value,
        "language": draft.language,
        "created_by": draft.created_by,
        "contact_email": draft.contact_email,
        **_address_values(draft.address),
        "tax_rate": draft.tax_rate,
        **_totals(priced),
        "expires_at": priced.expires_at,
        "created_at": event.at,
        "sent_at": None,
        "reminded_at": None,
        "replaces_quote_id": draft.replaces.id if draft.replaces else None,
    }
    if conn.dialect.name == "postgresql":
        quote_id = _insert_draft_in_one_statement(conn, values, draft, event)
    else:
        quote_id = conn.execute(_INSERT_QUOTE, values).scalar_one()
        _insert_lines(conn, quote_id, priced.lines)
        _insert_recipients(conn, quote_id, draft.recipients)
        record_events(conn, [quote_id], event)
    return _quote(
        {**values, "id": quote_id},
        [_stored_line(position, line) for position, line in enumerate(priced.lines, 1)],
        draft.recipients,
        draft.replaces.number if draft.replaces else None,
    )


def _insert_draft_in_one_statement(
    conn: Connection, values: Mapping[str, Any], draft: NewDraft, event: Event
) -> int:
    """PostgreSQL: the quote, its lines, recipients and event in one statement (data-modifying
    CTEs): one round trip where the statement-by-statement path takes four. Measured on the
    HTTP benchmark's POST /api/v1/quotes; `tests/integration/test_draft_storage_parity.py`
    shows both paths store the same rows."""
    lines = [_line_values(0, position, line) for position, line in enumerate(draft.priced.lines, 1)]
    # Through the columns' own bind processing, as the other path's values go: money must be
    # a Decimal (ExactDecimal refuses a float), whatever the JSON around it.
    processors = {
        name: quote_lines.c[name].type.bind_processor(conn.dialect) for name in _LINE_COLUMNS
    }
    recipients = [
        {"email": r.email, "name": r.name, "role": r.role.value} for r in draft.recipients
    ]
    params = {
        **{f"q_{name}": value for name, value in values.items()},
        "lines": _json(
            [
                {
                    name: processor(row[name]) if processor else row[name]
                    for name, processor in processors.items()
                }
                for row in lines
            ]
        ),
        "recipients": _json(recipients),
        "e_actor": event.actor,
        "e_action": event.action,
        "e_at": event.at,
        "e_detail": dict(event.detail),
    }
    quote_id: int = conn.execute(_DRAFT_IN_ONE_STATEMENT, params).scalar_one()
    return quote_id


def _json(rows: list[dict[str, Any]]) -> str:
    """Rows as a JSON document PostgreSQL reads back exactly (amounts and days as text), each
    with its place in the list."""
    placed = [{**row, "place": place} for place, row in enumerate(rows)]
    return json.dumps(placed, default=_json_value, separators=(",", ":"))


def _json_value(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot store a {type(value).__name__} in a quote's rows")


def _draft_in_one_statement() -> Select[Any]:
    new_quote = (
        insert(quotes)
        .values({name: bindparam(f"q_{name}") for name in _QUOTE_COLUMNS})
        .returning(quotes.c.id)
        .cte("new_quote")
    )

    def rows_of(parameter: str, table: Any, names: Sequence[str]) -> Any:
        typed = [column(name, table.c[name].type) for name in names]
        return (
            func.json_to_recordset(cast(bindparam(parameter), JSON))
            .table_valued(*typed, column("place", Integer))
            .render_derived(name=f"{parameter}_rows", with_types=True)
        )

    def children(table: Any, names: Sequence[str], parameter: str) -> Any:
        rows = rows_of(parameter, table, names)
        # In the document's order, so that ids (the order recipients are read back in) follow
        # it as they do on the statement-by-statement path.
        chosen = (
            select(new_quote.c.id, *(rows.c[name] for name in names))
            .select_from(new_quote)
            .join(rows, true())
            .order_by(rows.c.place)
        )
        return insert(table).from_select(["quote_id", *names], chosen).cte(f"new_{parameter}")

    event = ("actor", "action", "at", "detail")
    new_event = (
        insert(quote_events)
        .from_select(
            ["quote_id", *event],
            select(
                new_quote.c.id,
                *(bindparam(f"e_{name}", type_=quote_events.c[name].type) for name in event),
            ),
        )
        .cte("new_event")
    )
    return select(new_quote.c.id).add_cte(
        children(quote_lines, _LINE_COLUMNS, "lines"),
        children(quote_recipients, ("email", "name", "role"), "recipients"),
        new_event,
    )


_QUOTE_COLUMNS = tuple(c.name for c in quotes.c if c.name != "id")
_LINE_COLUMNS = tuple(c.name for c in quote_lines.c if c.name not in ("id", "quote_id"))
_DRAFT_IN_ONE_STATEMENT = _draft_in_one_statement()


def update_draft(
    conn: Connection,
    quote: Quote,
    priced: PricedQuote,
    *,
    recipients: Sequence[Recipient],
    contact_email: str | None,
    language: str,
    address: Address,
    tax_rate: Decimal,
    event: Event,
) -> None:
    """Store a draft's new lines, recipients and header (purchase method, partner, currency
    and totals as its lines now give them), with the audit event."""
    conn.execute(delete(quote_lines).where(quote_lines.c.quote_id == quote.id))
    _insert_lines(conn, quote.id, priced.lines)
    conn.execute(delete(quote_recipients).where(quote_recipients.c.quote_id == quote.id))
    _insert_recipients(conn, quote.id, recipients)
    conn.execute(
        update(quotes)
        .where(quotes.c.id == quote.id)
        .values(
            type=priced.type.value,
            customer_csn=priced.customer_csn,
            partner_csn=priced.partner_csn,
            currency=priced.currency,
            purchase_method=priced.purchase_method.value,
            contact_email=contact_email,
            language=language,
            tax_rate=tax_rate,
            expires_at=priced.expires_at,
            **_address_values(address),
            **_totals(priced),
        )
    )
    record_events(conn, [quote.id], event)


def mark_sent(conn: Connection, quote: Quote, *, expires_at: date, event: Event) -> None:
    """Move a draft to `sent` with its validity fixed, and audit it."""
    conn.execute(
        update(quotes)
        .where(quotes.c.id == quote.id)
        .values(status=QuoteStatus.SENT.value, sent_at=event.at, expires_at=expires_at)
    )
    record_events(conn, [quote.id], event)


def mark_ordered(conn: Connection, quote: Quote, event: Event) -> None:
    """Move a sent quote to `ordered`, give auto-renew back, and audit it."""
    conn.execute(
        update(quotes).where(quotes.c.id == quote.id).values(status=QuoteStatus.ORDERED.value)
    )
    release_auto_renew(conn, [quote.id])
    record_events(conn, [quote.id], event)


def end_quotes(
    conn: Connection, quote_ids: Collection[int], status: QuoteStatus, event: Event
) -> None:
    """End open quotes (the caller checked the transition): status, auto-renew given back,
    an audit event each."""
    if not quote_ids:
        return
    ids = sorted(quote_ids)
    conn.execute(update(quotes).where(quotes.c.id.in_(ids)).values(status=status.value))
    release_auto_renew(conn, ids)
    record_events(conn, ids, event)


def record_events(conn: Connection, quote_ids: Collection[int], event: Event) -> None:
    """Write the audit row of one change on each of these quotes, in the caller's
    transaction."""
    rows = [
        {
            "quote_id": quote_id,
            "actor": event.actor,
            "action": event.action,
            "at": event.at,
            "detail": dict(event.detail),
        }
        for quote_id in quote_ids
    ]
    # One row as one set of parameters: executemany's machinery costs more than the insert.
    conn.execute(_INSERT_EVENT, rows[0] if len(rows) == 1 else rows)


def events_of(conn: Connection, quote_id: int) -> list[Event]:
    """Return a quote's audit trail, oldest first."""
    query = (
        select(
            quote_events.c.actor, quote_events.c.action, quote_events.c.at, quote_events.c.detail
        )
        .where(quote_events.c.quote_id == quote_id)
        .order_by(quote_events.c.id)
    )
    return [Event(r.actor, r.action, r.at, r.detail) for r in conn.execute(query)]


# Recipients' links and mail ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecipientLink:
    """A link given to one recipient (by the hash of its token), and until when it works."""

    recipient_id: int
    link_hash: str
    expires_at: datetime


def recipient_ids(conn: Connection, quote_id: int) -> list[int]:
    """Return a quote's recipients' ids, in the order they were named."""
    query = (
        select(quote_recipients.c.id)
        .where(quote_recipients.c.quote_id == quote_id)
        .order_by(quote_recipients.c.id)
    )
    return list(conn.execute(query).scalars())


def give_links(conn: Connection, links: Sequence[RecipientLink], now: datetime) -> None:
    """Store new links; each recipient's latest mail is pending from now."""
    if not links:
        return
    conn.execute(
        insert(quote_links),
        [
            {
                "recipient_id": link.recipient_id,
                "link_hash": link.link_hash,
                "created_at": now,
                "expires_at": link.expires_at,
            }
            for link in links
        ],
    )
    conn.execute(
        update(quote_recipients)
        .where(quote_recipients.c.id.in_(sorted({link.recipient_id for link in links})))
        .values(delivery=Delivery.PENDING.value, delivery_at=None, delivery_error=None)
    )


@dataclass(frozen=True, slots=True)
class LinkHolder:
    """The recipient a link was given to, the quote it opens, and until when it works."""

    recipient_id: int
    quote_id: int
    email: str
    name: str | None
    link_expires_at: datetime


def link_holder(conn: Connection, link_hash: str) -> LinkHolder | None:
    """Return whom a link (by its hash) was given to, if anyone."""
    query = (
        select(
            quote_recipients.c.id,
            quote_recipients.c.quote_id,
            quote_recipients.c.email,
            quote_recipients.c.name,
            quote_links.c.expires_at,
        )
        .join(quote_links, quote_links.c.recipient_id == quote_recipients.c.id)
        .where(quote_links.c.link_hash == link_hash)
    )
    row = conn.execute(query).first()
    return None if row is None else LinkHolder(*row)


def status_of(conn: Connection, quote_id: int) -> QuoteStatus | None:
    """Return a quote's status now, or None if there is no such quote."""
    found = conn.execute(_STATUS_OF, {"quote_id": quote_id}).scalar()
    return None if found is None else QuoteStatus(found)


_STATUS_OF = select(quotes.c.status).where(quotes.c.id == bindparam("quote_id"))


def latest_link_at(conn: Connection, recipient_id: int) -> datetime | None:
    """Return when a recipient was last given a link."""
    query = select(func.max(quote_links.c.created_at)).where(
        quote_links.c.recipient_id == recipient_id
    )
    latest: datetime | None = conn.execute(query).scalar_one()
    return latest


def recipients_by_id(
    conn: Connection, recipient_ids: Collection[int]
) -> dict[int, tuple[str, str | None]]:
    """Return these recipients' (e-mail, name) by id."""
    query = select(quote_recipients.c.id, quote_recipients.c.email, quote_recipients.c.name).where(
        quote_recipients.c.id.in_(sorted(recipient_ids))
    )
    return {row.id: (row.email, row.name) for row in conn.execute(query).all()}


def record_view(conn: Connection, recipient_id: int, now: datetime) -> int:
    """Count one opening of a recipient's link (the first one's time kept); return the
    count."""
    return int(
        conn.execute(
            update(quote_recipients)
            .where(quote_recipients.c.id == recipient_id)
            .values(
                view_count=quote_recipients.c.view_count + 1,
                viewed_at=func.coalesce(quote_recipients.c.viewed_at, now),
            )
            .returning(quote_recipients.c.view_count)
        ).scalar_one()
    )


# Reading -------------------------------------------------------------------------------------


def load_quote(
    conn: Connection,
    number: str,
    *,
    visible: Condition = EVERYTHING,
    lock: bool = False,
) -> Quote:
    """Return the quote `number` as stored, if `visible` lets it through (locking its row if
    asked); `not_found` otherwise."""
    year, quote_id = parse_number(number)

    def build() -> Select[Any]:
        query = select(quotes).where(
            quotes.c.id == bindparam("id"), quotes.c.year == bindparam("year"), visible.clause
        )
        return query.with_for_update(of=quotes) if lock else query

    query = _BUILT.get(("quote", visible.name, lock), build)
    row = conn.execute(query, {"id": quote_id, "year": year, **visible.params}).first()
    if row is None:
        raise RuleViolation.one(Code.NOT_FOUND, thing="quote")
    return _assembled(conn, [row])[0]


def load_quote_by_id(conn: Connection, quote_id: int) -> Quote:
    """Read back a quote by its id within the caller's transaction."""
    row = conn.execute(_QUOTE_BY_ID, {"id": quote_id}).one()
    return _assembled(conn, [row])[0]


_QUOTE_BY_ID = select(quotes).where(quotes.c.id == bindparam("id"))


@dataclass(frozen=True, slots=True)
class QuoteFilters:
    """What a list of quotes may be narrowed to."""

    status: QuoteStatus | None = None
    customer_csn: str | None = None
    currency: str | None = None
    channel: Channel | None = None
    partner_csn: str | None = None
    created_from: datetime | None = None  # on or after
    created_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class QuoteHead:
    """A quote's number and status: how a list that mentions quotes names them."""

    number: str
    status: QuoteStatus


def heads_by_id(conn: Connection, quote_ids: Collection[int]) -> dict[int, QuoteHead]:
    """Return the number and status of these quotes, in one query."""
    if not quote_ids:
        return {}
    query = select(quotes.c.id, quotes.c.year, quotes.c.status).where(
        quotes.c.id.in_(sorted(quote_ids))
    )
    return {
        row.id: QuoteHead(quote_number(row.year, row.id), QuoteStatus(row.status))
        for row in conn.execute(query)
    }


def quote_page(
    conn: Connection,
    filters: QuoteFilters,
    *,
    visible: Condition,
    after: str | None,
    limit: int,
    newest_first: bool = False,
) -> list[Quote]:
    """Return up to `limit` visible quotes matching `filters`, oldest first (or newest first),
    after the quote numbered `after`."""
    f = filters
    conditions = [
        visible.clause,
        *([quotes.c.status == f.status.value] if f.status else []),
        *([quotes.c.customer_csn == f.customer_csn] if f.customer_csn else []),
        *([quotes.c.currency == f.currency] if f.currency else []),
        *([quotes.c.channel == f.channel.value] if f.channel else []),
        *([quotes.c.partner_csn == f.partner_csn] if f.partner_csn else []),
        *([quotes.c.created_at >= f.created_from] if f.created_from else []),
        *([quotes.c.created_at < f.created_before] if f.created_before else []),
    ]
    if after is not None:
        number = parse_number(after)[1]
        conditions.append(quotes.c.id < number if newest_first else quotes.c.id > number)
    order = quotes.c.id.desc() if newest_first else quotes.c.id
    query = select(quotes).where(*conditions).order_by(order).limit(limit)
    return _assembled(conn, conn.execute(query, dict(visible.params)).all())


def lock_quotes_holding(
    conn: Connection, subscription_ids: Collection[str], *, with_quote: int
) -> list[int]:
    """Lock, in id order, the quote `with_quote` and every open quote that renews any of these
    subscriptions; return the others."""
    params = {"ids": sorted(subscription_ids), "quote_id": with_quote}
    return [i for i in conn.execute(_HOLDING, params).scalars() if i != with_quote]


_HOLDING = (
    select(quotes.c.id)
    .where(
        or_(
            quotes.c.id == bindparam("quote_id"),
            and_(
                quotes.c.id.in_(
                    select(quote_lines.c.quote_id).where(
                        quote_lines.c.subscription_id.in_(bindparam("ids", expanding=True))
                    )
                ),
                quotes.c.status.in_([s.value for s in OPEN_STATUSES]),
            ),
        )
    )
    .order_by(quotes.c.id)
    .with_for_update()
)


def quotes_to_remind(conn: Connection, *, today: date, until: date, now: datetime) -> list[Quote]:
    """Take the sent quotes not yet reminded that expire between `today` and `until`; mark
    them reminded and return those sent before the reminder's point (a quote sent with less
    time left than that is not recalled days later). Rows another worker holds are skipped."""
    query = (
        select(quotes.c.id)
        .where(
            quotes.c.status == QuoteStatus.SENT.value,
            quotes.c.reminded_at.is_(None),
            quotes.c.expires_at >= today,
            quotes.c.expires_at <= until,
        )
        .order_by(quotes.c.id)
        .with_for_update(skip_locked=True)
    )
    ids = list(conn.execute(query).scalars())
    if not ids:
        return []
    conn.execute(update(quotes).where(quotes.c.id.in_(ids)).values(reminded_at=now))
    lead = until - today
    due = []
    for quote_id in ids:
        quote = load_quote_by_id(conn, quote_id)
        if quote.sent_at is not None and quote.sent_at.date() < quote.expires_at - lead:
            due.append(quote)
    return due


def open_quotes_past(conn: Connection, today: date) -> list[tuple[int, str]]:
    """Return (and lock, skipping those another worker holds) the open quotes whose validity
    ended before `today`, with their numbers."""
    query = (
        select(quotes.c.id, quotes.c.year)
        .where(
            quotes.c.status.in_([s.value for s in OPEN_STATUSES]),
            quotes.c.expires_at < today,
        )
        .order_by(quotes.c.id)
        .with_for_update(skip_locked=True)
    )
    return [(r.id, quote_number(r.year, r.id)) for r in conn.execute(query)]


def parse_number(number: str) -> tuple[int, int]:
    """Return the year and id a quote number names, or `not_found`."""
    parsed = parse_quote_number(number)
    if parsed is None:
        raise RuleViolation.one(Code.NOT_FOUND, thing="quote")
    return parsed


def _assembled(conn: Connection, rows: Sequence[AnyRow]) -> list[Quote]:
    """Assemble stored quotes with their lines and recipients: three queries for any number."""
    ids = [row.id for row in rows]
    if not ids:
        return []
    lines: dict[int, list[QuoteLine]] = {i: [] for i in ids}
    for r in conn.execute(_LINES_OF, {"ids": ids}):
        lines[r.quote_id].append(_line(r._mapping))
    recipients: dict[int, list[Recipient]] = {i: [] for i in ids}
    for r in conn.execute(_RECIPIENTS_OF, {"ids": ids}):
        recipients[r.quote_id].append(_recipient(r))
    replaced_ids = {row.replaces_quote_id for row in rows} - {None}
    replaced: dict[int, str] = {}
    if replaced_ids:
        found = conn.execute(_NUMBERS_OF, {"ids": sorted(replaced_ids)})
        replaced = {r.id: quote_number(r.year, r.id) for r in found}
    return [
        _quote(
            row._mapping,
            lines[row.id],
            recipients[row.id],
            replaced.get(row.replaces_quote_id),
        )
        for row in rows
    ]


_LINES_OF = (
    select(quote_lines)
    .where(quote_lines.c.quote_id.in_(bindparam("ids", expanding=True)))
    .order_by(quote_lines.c.quote_id, quote_lines.c.position)
)
_RECIPIENTS_OF = (
    select(quote_recipients)
    .where(quote_recipients.c.quote_id.in_(bindparam("ids", expanding=True)))
    .order_by(quote_recipients.c.quote_id, quote_recipients.c.id)
)
_NUMBERS_OF = select(quotes.c.id, quotes.c.year).where(
    quotes.c.id.in_(bindparam("ids", expanding=True))
)


def _quote(
    q: Mapping[Any, Any],
    lines: Sequence[QuoteLine],
    recipients: Sequence[Recipient],
    replaces: str | None,
) -> Quote:
    return Quote(
        id=q["id"],
        number=quote_number(q["year"], q["id"]),
        type=QuoteType(q["type"]),
        status=QuoteStatus(q["status"]),
        channel=Channel(q["channel"]),
        customer_csn=q["customer_csn"],
        partner_csn=q["partner_csn"],
        currency=q["currency"],
        purchase_method=PurchaseMethod(q["purchase_method"]),
        language=q["language"],
        created_by=q["created_by"],
        contact_email=q["contact_email"],
        address=Address(
            line1=q["address_line1"],
            line2=q["address_line2"],
            city=q["city"],
            postal_code=q["postal_code"],
            country=q["country"],
        ),
        tax_rate=q["tax_rate"],
        subtotal=q["subtotal"],
        discount_total=q["discount_total"],
        tax=q["tax"],
        total=q["total"],
        expires_at=q["expires_at"],
        created_at=q["created_at"],
        sent_at=q["sent_at"],
        replaces=replaces,
        lines=tuple(lines),
        recipients=tuple(recipients),
    )


def _recipient(r: AnyRow) -> Recipient:
    return Recipient(
        r.email,
        r.name,
        RecipientRole(r.role),
        delivery=None if r.delivery is None else Delivery(r.delivery),
        delivery_at=r.delivery_at,
        delivery_error=r.delivery_error,
        viewed_at=r.viewed_at,
        view_count=r.view_count,
    )


def _line(m: Mapping[Any, Any]) -> QuoteLine:
    return QuoteLine(
        position=m["position"],
        kind=LineKind(m["kind"]),
        subscription_id=m["subscription_id"],
        align_to_subscription_id=m["align_to_subscription_id"],
        offering_code=m["offering_code"],
        offering_name=m["offering_name"],
        quantity=m["quantity"],
        term=Term(m["term"]),
        start_date=m["start_date"],
        end_date=m["end_date"],
        unit_price=m["unit_price"],
        subtotal=m["subtotal"],
        promotion_code=m["promotion_code"],
        promotion_name=m["promotion_name"],
        promotion_why=m["promotion_why"],
        discount=m["discount"],
        amount=m["amount"],
        tax=m["tax"],
    )


def _insert_lines(conn: Connection, quote_id: int, lines: Sequence[PricedLine]) -> None:
    rows = [_line_values(quote_id, position, line) for position, line in enumerate(lines, 1)]
    if rows:
        conn.execute(_INSERT_LINES, rows)


def _stored_line(position: int, line: PricedLine) -> QuoteLine:
    """The stored form of a line just priced, as `_line` would read it back."""
    promotion = line.promotion
    return QuoteLine(
        position=position,
        kind=line.kind,
        subscription_id=line.subscription_id,
        align_to_subscription_id=line.align_to_subscription_id,
        offering_code=line.offering_code,
        offering_name=line.offering_name,
        quantity=line.quantity,
        term=line.term,
        start_date=line.start_date,
        end_date=line.end_date,
        unit_price=line.unit_price,
        subtotal=line.subtotal,
        promotion_code=promotion.code if promotion else None,
        promotion_name=promotion.name if promotion else None,
        promotion_why=promotion.why if promotion else None,
        discount=line.discount,
        amount=line.amount,
        tax=line.tax,
    )


def _line_values(quote_id: int, position: int, line: PricedLine) -> dict[str, Any]:
    promotion = line.promotion
    return {
        "quote_id": quote_id,
        "position": position,
        "kind": line.kind.value,
        "subscription_id": line.subscription_id,
        "align_to_subscription_id": line.align_to_subscription_id,
        "offering_code": line.offering_code,
        "offering_name": line.offering_name,
        "quantity": line.quantity,
        "term": line.term.value,
        "start_date": line.start_date,
        "end_date": line.end_date,
        "unit_price": line.unit_price,
        "subtotal": line.subtotal,
        "promotion_code": promotion.code if promotion else None,
        "promotion_name": promotion.name if promotion else None,
        "promotion_why": promotion.why if promotion else None,
        "discount": line.discount,
        "amount": line.amount,
        "tax": line.tax,
    }


def _insert_recipients(conn: Connection, quote_id: int, recipients: Sequence[Recipient]) -> None:
    if recipients:
        conn.execute(
            _INSERT_RECIPIENTS,
            [
                {"quote_id": quote_id, "email": r.email, "name": r.name, "role": r.role.value}
                for r in recipients
            ],
        )


def _address_values(address: Address) -> dict[str, str | None]:
    return {
        "address_line1": address.line1,
        "address_line2": address.line2,
        "city": address.city,
        "postal_code": address.postal_code,
        "country": address.country,
    }


def _totals(priced: PricedQuote) -> dict[str, Decimal]:
    t = priced.totals
    return {
        "subtotal": t.subtotal,
        "discount_total": t.discount_total,
        "tax": t.tax,
        "total": t.total,
    }
