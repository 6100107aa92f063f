"""Quote requests (a customer asks a partner for a renewal quote) and the partner directory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, func, insert, or_, select, update

from renewquote.domain.errors import Code, RuleViolation
from renewquote.storage.tables import partners, quote_requests


class RequestStatus(StrEnum):
    """Where a customer's quote request stands."""

    OPEN = "open"
    ANSWERED = "answered"  # the partner made a quote for it
    DECLINED = "declined"  # the partner said no, and why


@dataclass(frozen=True, slots=True)
class PartnerListing:
    """A partner as the directory shows it."""

    csn: str
    name: str
    country: str


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """A customer's request to a partner, and its answer."""

    id: int
    customer_csn: str
    partner_csn: str
    requested_by: str
    subscription_ids: tuple[str, ...]
    message: str | None
    status: RequestStatus
    created_at: datetime
    quote_id: int | None
    answered_at: datetime | None
    answer: str | None


def directory(conn: Connection, *, country: str | None, text: str | None) -> list[PartnerListing]:
    """Return the partners of a country (or all), whose name or number holds `text`."""
    conditions = []
    if country:
        conditions.append(partners.c.country == country.upper())
    if text:
        needle = f"%{text.lower()}%"
        conditions.append(
            or_(func.lower(partners.c.name).like(needle), partners.c.csn.like(needle))
        )
    query = select(partners.c.csn, partners.c.name, partners.c.country).where(*conditions)
    rows = conn.execute(query.order_by(partners.c.country, partners.c.name))
    return [PartnerListing(r.csn, r.name, r.country) for r in rows]


def partner_exists(conn: Connection, csn: str) -> bool:
    """Tell whether there is a partner numbered `csn`."""
    return conn.execute(select(partners.c.csn).where(partners.c.csn == csn)).first() is not None


def insert_request(
    conn: Connection,
    *,
    customer_csn: str,
    partner_csn: str,
    requested_by: str,
    subscription_ids: Sequence[str],
    message: str | None,
    now: datetime,
) -> int:
    """Store a new open request; return its id."""
    inserted = conn.execute(
        insert(quote_requests)
        .values(
            customer_csn=customer_csn,
            partner_csn=partner_csn,
            requested_by=requested_by,
            subscription_ids=list(subscription_ids),
            message=message,
            status=RequestStatus.OPEN.value,
            created_at=now,
        )
        .returning(quote_requests.c.id)
    )
    return int(inserted.scalar_one())


def requests_of(
    conn: Connection, *, customer_csn: str | None = None, partner_csn: str | None = None
) -> list[QuoteRequest]:
    """Return a customer's requests, or those sent to a partner, newest first."""
    query = select(quote_requests)
    if customer_csn is not None:
        query = query.where(quote_requests.c.customer_csn == customer_csn)
    if partner_csn is not None:
        query = query.where(quote_requests.c.partner_csn == partner_csn)
    return [_request(row) for row in conn.execute(query.order_by(quote_requests.c.id.desc()))]


def request_for_partner(
    conn: Connection, request_id: int, partner_csn: str, *, lock: bool = False
) -> QuoteRequest:
    """Return a request sent to this partner, or `not_found`."""
    query = select(quote_requests).where(
        quote_requests.c.id == request_id, quote_requests.c.partner_csn == partner_csn
    )
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise RuleViolation.one(Code.NOT_FOUND, thing="quote request")
    return _request(row)


def answer_request(
    conn: Connection,
    request_id: int,
    status: RequestStatus,
    *,
    now: datetime,
    quote_id: int | None = None,
    answer: str | None = None,
) -> None:
    """Record a partner's answer to an open request."""
    conn.execute(
        update(quote_requests)
        .where(quote_requests.c.id == request_id)
        .values(status=status.value, answered_at=now, quote_id=quote_id, answer=answer)
    )


def _request(row: Row[Any]) -> QuoteRequest:
    return QuoteRequest(
        id=row.id,
        customer_csn=row.customer_csn,
        partner_csn=row.partner_csn,
        requested_by=row.requested_by,
        subscription_ids=tuple(row.subscription_ids),
        message=row.message,
        status=RequestStatus(row.status),
        created_at=row.created_at,
        quote_id=row.quote_id,
        answered_at=row.answered_at,
        answer=row.answer,
    )
