"""Storing quotes as priced and reading them back exactly as stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.dialects import postgresql

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.lifecycle import QuoteStatus, parse_quote_number, quote_number
from renewquote.domain.pricing import PricedLine, Totals
from renewquote.storage.database import Link
from renewquote.storage.prepared import Prepared
from renewquote.storage.tables import quote_events, quote_lines, quote_recipients, quotes


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone the quote goes to, and why: the buyer, the contact a partner named, or another."""

    email: str
    name: str | None = None
    role: str = "extra"


@dataclass(frozen=True, slots=True)
class QuoteLineView:
    """A stored quote line."""

    position: int
    kind: str
    subscription_id: str | None
    align_to_subscription_id: str | None
    offering_code: str
    offering_name: str
    quantity: int
    term: str
    start_date: date
    end_date: date
    unit_price: Decimal
    subtotal: Decimal
    promotion_code: str | None
    promotion_name: str | None
    promotion_why: str | None
    discount: Decimal
    amount: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class QuoteView:
    """A stored quote with its lines and recipients, as the API and the pages show it."""

    id: int
    number: str
    type: str
    status: QuoteStatus
    channel: str
    customer_csn: str
    partner_csn: str | None
    currency: str
    purchase_method: str
    language: str
    contact_email: str | None
    address: Mapping[str, str | None]
    tax_rate: Decimal
    subtotal: Decimal
    discount_total: Decimal
    tax: Decimal
    total: Decimal
    expires_at: date
    created_at: datetime
    sent_at: datetime | None
    replaces: str | None
    lines: tuple[QuoteLineView, ...]
    recipients: tuple[Recipient, ...]

    @property
    def subscription_ids(self) -> tuple[str, ...]:
        """Return the subscriptions this quote renews or aligns to."""
        return tuple(
            sid
            for line in self.lines
            for sid in (line.subscription_id, line.align_to_subscription_id)
            if sid is not None
        )


_ADDRESS = ("address_line1", "address_line2", "city", "postal_code", "country")


def line_rows(quote_id: int, lines: Sequence[PricedLine]) -> list[dict[str, Any]]:
    """Turn priced lines into quote_lines rows."""
    return [
        {
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
            "promotion_code": line.promotion.code if line.promotion else None,
            "promotion_name": line.promotion.name if line.promotion else None,
            "promotion_why": line.promotion.why if line.promotion else None,
            "discount": line.discount,
            "amount": line.amount,
            "tax": line.tax,
        }
        for position, line in enumerate(lines, start=1)
    ]


async def insert_draft_async(
    link: Link,
    values: Mapping[str, Any],
    lines: Sequence[PricedLine],
    recipients: Sequence[Recipient],
    *,
    actor: str,
    at: datetime,
    detail: Mapping[str, Any],
) -> tuple[int, list[dict[str, Any]]]:
    """PostgreSQL only: insert a new quote, its lines, recipients and "created" event in one
    statement (atomic on its own); return its id and the lines' rows as stored."""
    rows = line_rows(0, lines)
    columns = tuple(values)
    sql = _DRAFT_SQL.get(columns)
    if sql is None:
        sql = _DRAFT_SQL[columns] = _draft_sql(columns)
    params: dict[str, Any] = {f"q_{name}": value for name, value in values.items()}
    # Lines and recipients as one JSON document each: one parameter to send instead of one
    # array per column. Money and dates go as text, which PostgreSQL reads back exactly.
    params["lines"] = _json([{c: row[c] for c in _LINE_COLUMNS} for row in rows])
    params["recipients"] = _json(
        [{c: getattr(r, c) for c in _RECIPIENT_COLUMNS} for r in recipients]
    )
    params.update(e_actor=actor, e_action="created", e_at=at, e_detail=_json(detail))
    ((quote_id,),) = await link.fetch(sql, params, tuple)
    for row in rows:
        row["quote_id"] = quote_id
    return quote_id, rows


def _json(value: Any) -> str:
    # Decimal as its exact text; dates as ISO text, which PostgreSQL reads back.
    return orjson.dumps(value, default=str).decode()


# Built from the tables: every column but the ids, with its PostgreSQL type for the arrays.
_PG = postgresql.dialect()  # type: ignore[no-untyped-call]
_LINE_COLUMNS = tuple(c.name for c in quote_lines.c if c.name not in ("id", "quote_id"))
_RECIPIENT_COLUMNS = ("email", "name", "role")
_DRAFT_SQL: dict[tuple[str, ...], str] = {}


def _draft_sql(columns: tuple[str, ...]) -> str:
    def from_json(table: Table, names: tuple[str, ...], parameter: str) -> str:
        listed = ", ".join(names)
        typed = ", ".join(
            f"{n} {table.c[n].type.dialect_impl(_PG).compile(dialect=_PG)}" for n in names
        )
        return (
            f"INSERT INTO {table.name} (quote_id, {listed}) SELECT q.id, {listed}"
            f" FROM q, json_to_recordset(%({parameter})s::json) AS u({typed})"
        )

    return (
        f"WITH q AS (INSERT INTO quotes ({', '.join(columns)})"
        f" VALUES ({', '.join(f'%(q_{c})s' for c in columns)}) RETURNING id),"
        f" l AS ({from_json(quote_lines, _LINE_COLUMNS, 'lines')}),"
        f" r AS ({from_json(quote_recipients, _RECIPIENT_COLUMNS, 'recipients')}),"
        " e AS (INSERT INTO quote_events (quote_id, actor, action, at, detail)"
        " SELECT q.id, %(e_actor)s, %(e_action)s, %(e_at)s, %(e_detail)s::json FROM q)"
        " SELECT id FROM q"
    )


def insert_quote(conn: Connection, values: Mapping[str, Any]) -> int:
    """Insert a quote row and return its id (from which its number derives)."""
    return int(_INSERT_QUOTE.scalar(conn, values))


def insert_lines(
    conn: Connection, quote_id: int, lines: Sequence[PricedLine]
) -> list[dict[str, Any]]:
    """Insert a new quote's lines; return the rows as stored."""
    rows = line_rows(quote_id, lines)
    _INSERT_LINES.executemany(conn, rows)
    return rows


def insert_recipients(conn: Connection, quote_id: int, recipients: Sequence[Recipient]) -> None:
    """Insert a new quote's recipients."""
    if recipients:
        _INSERT_RECIPIENTS.executemany(
            conn,
            [
                {"quote_id": quote_id, "email": r.email, "name": r.name, "role": r.role}
                for r in recipients
            ],
        )


def replace_lines(
    conn: Connection, quote_id: int, lines: Sequence[PricedLine], totals: Totals | None = None
) -> None:
    """Store `lines` as the quote's lines, replacing any it had, and its totals."""
    conn.execute(delete(quote_lines).where(quote_lines.c.quote_id == quote_id))
    insert_lines(conn, quote_id, lines)
    if totals is not None:
        conn.execute(
            update(quotes)
            .where(quotes.c.id == quote_id)
            .values(
                subtotal=totals.subtotal,
                discount_total=totals.discount_total,
                tax=totals.tax,
                total=totals.total,
            )
        )


def replace_recipients(conn: Connection, quote_id: int, recipients: Sequence[Recipient]) -> None:
    """Store the quote's recipients, replacing any it had."""
    conn.execute(delete(quote_recipients).where(quote_recipients.c.quote_id == quote_id))
    insert_recipients(conn, quote_id, recipients)


def new_quote_view(
    quote_id: int,
    values: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    recipients: Sequence[Recipient],
    replaces: str | None = None,
) -> QuoteView:
    """Build the view of a quote just written, from the rows written (no read back)."""
    return _view(
        {**values, "id": quote_id},
        [QuoteLineView(*_line_values(r)) for r in lines],
        recipients,
        replaces,
    )


_INSERT_QUOTE = Prepared(insert(quotes).returning(quotes.c.id))
_INSERT_LINES = Prepared(insert(quote_lines))
_INSERT_RECIPIENTS = Prepared(insert(quote_recipients))
_INSERT_EVENT = Prepared(insert(quote_events))


def record_event(
    conn: Connection,
    quote_id: int,
    *,
    actor: str,
    action: str,
    at: datetime,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Write the audit row for one change of a quote, in the caller's transaction."""
    _INSERT_EVENT.execute(
        conn,
        {"quote_id": quote_id, "actor": actor, "action": action, "at": at, "detail": detail or {}},
    )


def quote_id_for(number: str) -> tuple[int, int]:
    """Return the year and id a quote number names, or `not_found`."""
    parsed = parse_quote_number(number)
    if parsed is None:
        raise RuleViolation.one(Code.NOT_FOUND, thing="quote")
    return parsed


def load_quote(conn: Connection, number: str, *, lock: bool = False) -> QuoteView:
    """Return the quote `number` as stored (locking its row if asked), or `not_found`."""
    year, quote_id = quote_id_for(number)
    query = select(quotes).where(quotes.c.id == quote_id, quotes.c.year == year)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        raise RuleViolation.one(Code.NOT_FOUND, thing="quote")
    return quote_views(conn, [dict(row._mapping)])[0]


def quote_views(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[QuoteView]:
    """Assemble stored quotes with their lines and recipients: three queries for any number."""
    ids = [q["id"] for q in rows]
    lines: dict[int, list[QuoteLineView]] = {i: [] for i in ids}
    for r in conn.execute(
        select(quote_lines)
        .where(quote_lines.c.quote_id.in_(ids))
        .order_by(quote_lines.c.quote_id, quote_lines.c.position)
    ):
        m = r._mapping
        lines[m["quote_id"]].append(QuoteLineView(*_line_values(m)))
    recipients: dict[int, list[Recipient]] = {i: [] for i in ids}
    for r in conn.execute(
        select(quote_recipients)
        .where(quote_recipients.c.quote_id.in_(ids))
        .order_by(quote_recipients.c.quote_id, quote_recipients.c.id)
    ):
        recipients[r.quote_id].append(Recipient(r.email, r.name, r.role))
    replaced_ids = {q["replaces_quote_id"] for q in rows} - {None}
    replaced = (
        {
            r.id: quote_number(r.year, r.id)
            for r in conn.execute(
                select(quotes.c.id, quotes.c.year).where(quotes.c.id.in_(replaced_ids))
            )
        }
        if replaced_ids
        else {}
    )
    return [
        _view(q, lines[q["id"]], recipients[q["id"]], replaced.get(q["replaces_quote_id"]))
        for q in rows
    ]


def _view(
    q: Mapping[str, Any],
    lines: Sequence[QuoteLineView],
    recipients: Sequence[Recipient],
    replaces: str | None,
) -> QuoteView:
    return QuoteView(
        id=q["id"],
        number=quote_number(q["year"], q["id"]),
        type=q["type"],
        status=QuoteStatus(q["status"]),
        channel=q["channel"],
        customer_csn=q["customer_csn"],
        partner_csn=q["partner_csn"],
        currency=q["currency"],
        purchase_method=q["purchase_method"],
        language=q["language"],
        contact_email=q["contact_email"],
        address={k: q[k] for k in _ADDRESS},
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


_LINE_FIELDS = tuple(f.name for f in fields(QuoteLineView))
# A row's values in the order of QuoteLineView's fields, picked in one call.
_line_values = itemgetter(*_LINE_FIELDS)


def set_status(conn: Connection, quote_id: int, status: QuoteStatus, **values: Any) -> None:
    """Move a quote to `status` (the caller checked the transition)."""
    conn.execute(
        update(quotes).where(quotes.c.id == quote_id).values(status=status.value, **values)
    )
