"""Webhook endpoints, and the audit events they are told about."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select, update

from renewquote.storage.tables import quote_events, quotes, webhook_endpoints
from renewquote.storage.types import AnyRow


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A webhook endpoint as stored."""

    id: str
    url: str
    events: tuple[str, ...]
    secret: str
    partner_csn: str | None
    created_by: str
    created_at: datetime
    disabled_at: datetime | None
    disabled_why: str | None


_COLUMNS = (
    webhook_endpoints.c.id,
    webhook_endpoints.c.url,
    webhook_endpoints.c.events,
    webhook_endpoints.c.secret,
    webhook_endpoints.c.partner_csn,
    webhook_endpoints.c.created_by,
    webhook_endpoints.c.created_at,
    webhook_endpoints.c.disabled_at,
    webhook_endpoints.c.disabled_why,
)


def _endpoint(row: AnyRow) -> Endpoint:
    return Endpoint(
        id=row.id,
        url=row.url,
        events=tuple(row.events),
        secret=row.secret,
        partner_csn=row.partner_csn,
        created_by=row.created_by,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
        disabled_why=row.disabled_why,
    )


def insert_endpoint(conn: Connection, endpoint: Endpoint) -> None:
    """Store a new endpoint."""
    conn.execute(
        webhook_endpoints.insert(),
        {
            "id": endpoint.id,
            "url": endpoint.url,
            "events": list(endpoint.events),
            "secret": endpoint.secret,
            "partner_csn": endpoint.partner_csn,
            "created_by": endpoint.created_by,
            "created_at": endpoint.created_at,
            "disabled_at": None,
            "disabled_why": None,
        },
    )


def endpoints_of(conn: Connection, *, partner_csn: str | None) -> list[Endpoint]:
    """Return the endpoints of a partner, or the vendor's staff's (None), oldest first."""
    owner = (
        webhook_endpoints.c.partner_csn.is_(None)
        if partner_csn is None
        else webhook_endpoints.c.partner_csn == partner_csn
    )
    query = select(*_COLUMNS).where(owner).order_by(webhook_endpoints.c.created_at)
    return [_endpoint(row) for row in conn.execute(query).all()]


def delete_endpoint(conn: Connection, endpoint_id: str, *, partner_csn: str | None) -> bool:
    """Delete an endpoint of that owner; False if it has none by that id."""
    owner = (
        webhook_endpoints.c.partner_csn.is_(None)
        if partner_csn is None
        else webhook_endpoints.c.partner_csn == partner_csn
    )
    result = conn.execute(
        delete(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id, owner)
    )
    return result.rowcount == 1


def endpoints_by_id(conn: Connection, ids: Collection[str]) -> dict[str, Endpoint]:
    """Return these endpoints (enabled or not) by id."""
    query = select(*_COLUMNS).where(webhook_endpoints.c.id.in_(sorted(ids)))
    return {row.id: _endpoint(row) for row in conn.execute(query).all()}


def listening(conn: Connection) -> list[Endpoint]:
    """Return every enabled endpoint."""
    query = select(*_COLUMNS).where(webhook_endpoints.c.disabled_at.is_(None))
    return [_endpoint(row) for row in conn.execute(query).all()]


def disable_endpoint(conn: Connection, endpoint_id: str, now: datetime, why: str) -> None:
    """Stop posting to an endpoint."""
    conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == endpoint_id)
        .values(disabled_at=now, disabled_why=why)
    )


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An audit event not yet published, with its quote's id and partner."""

    id: int
    quote_id: int
    partner_csn: str | None
    action: str
    at: datetime


def take_unpublished(conn: Connection, *, now: datetime, limit: int) -> list[NewEvent]:
    """Take up to `limit` events not yet published, oldest first, and mark them published;
    rows another worker holds are skipped."""
    query = (
        select(
            quote_events.c.id,
            quote_events.c.quote_id,
            quotes.c.partner_csn,
            quote_events.c.action,
            quote_events.c.at,
        )
        .join(quotes, quotes.c.id == quote_events.c.quote_id)
        .where(quote_events.c.published_at.is_(None))
        .order_by(quote_events.c.id)
        .limit(limit)
        .with_for_update(of=quote_events, skip_locked=True)
    )
    events = [NewEvent(*row) for row in conn.execute(query).all()]
    if events:
        conn.execute(
            update(quote_events)
            .where(quote_events.c.id.in_([e.id for e in events]))
            .values(published_at=now)
        )
    return events
