"""Listing renewal groups: what a buyer or a partner can put on a renewal quote today."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import NamedTuple, cast

from renewquote.domain.eligibility import CustomerRegion, region_reasons
from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.grouping import RenewalCandidate, RenewalGroups, group_renewals
from renewquote.domain.model import Channel
from renewquote.services import auth
from renewquote.services.actors import Actor
from renewquote.storage import repository
from renewquote.storage.database import Database
from renewquote.storage.tables import (
    api_tokens,
    customers,
    users,
)


def renewal_groups(
    db: Database, actor: Actor, *, today: date, customer_csn: str | None = None
) -> RenewalGroups:
    """Group the subscriptions the actor sees (of one customer, or all a partner resells)."""
    csn, partner = scope(actor, customer_csn)
    return groups_for(db, csn, partner_csn=partner, channel=actor.channel, today=today)


async def renewal_groups_async(
    db: Database, actor: Actor, *, today: date, customer_csn: str | None = None
) -> RenewalGroups:
    """`renewal_groups` from the event loop, for the HTTP API."""
    csn, partner = scope(actor, customer_csn)
    statement, params = repository.renewal_candidates(csn, partner)
    rows = await db.fetch(statement, params, repository.Candidate._make)
    return _grouped(rows, csn, partner, actor.channel, today)


async def own_renewal_groups(
    db: Database, token: str, *, now: datetime
) -> tuple[Actor, datetime, RenewalGroups | None]:
    """Return who a bearer token belongs to, when it expires and, for a customer's user, its
    company's renewal groups: in one query, for a caller this process does not know yet."""
    rows = await db.fetch(_OWN_CANDIDATES, auth.owner_params(token, now), tuple)
    owners = [auth.TokenOwner._make(row[:_OWNER_WIDTH]) for row in rows[:1]]
    actor, expires_at = auth.owner_of(owners)
    if actor.kind != "customer":
        return actor, expires_at, None
    candidates = [repository.Candidate._make(row[_OWNER_WIDTH:]) for row in rows]
    groups = _grouped(candidates, actor.customer_csn, None, actor.channel, now.date())
    return actor, expires_at, groups


_OWNER_WIDTH = len(auth.OWNER_COLUMNS)
_OWN_CANDIDATES = repository.customer_candidates(
    api_tokens.join(users, users.c.id == api_tokens.c.user_id).outerjoin(
        customers, customers.c.csn == users.c.customer_csn
    ),
    leading=auth.OWNER_COLUMNS,
).where(auth.VALID_TOKEN)


def groups_for(
    db: Database,
    customer_csn: str | None,
    *,
    partner_csn: str | None = None,
    channel: Channel,
    today: date,
) -> RenewalGroups:
    """Group a customer's subscriptions (or those a partner resells) as `channel` sees them."""
    if customer_csn is None:
        statement, params = repository.renewal_candidates(None, partner_csn)
        rows = db.fetch_now(statement, params, repository.Candidate._make)
        return _grouped(rows, None, partner_csn, channel, today)
    # The customer once, then its subscriptions alone (see `repository.own_candidates`).
    found = db.fetch_now(repository.CUSTOMER, {"csn": customer_csn}, tuple)
    customer, _ = repository.customer_and_address(next(iter(found), None))
    statement, params = repository.own_candidates(customer_csn, partner_csn)
    rows = db.fetch_now(statement, params, repository.Candidate._make)
    return _customer_groups(customer, rows, partner_csn, channel, today)


def _grouped(
    rows: Sequence[repository.Candidate],
    customer_csn: str | None,
    partner_csn: str | None,
    channel: Channel,
    today: date,
) -> RenewalGroups:
    """Group the rows of `repository.renewal_candidates`."""
    if customer_csn is None:
        return group_renewals(
            cast("Sequence[RenewalCandidate]", rows), channel=channel, today=today
        )
    # No row: no such customer. A query that names the customer joins its country, so both
    # columns are set; one row without a subscription: nothing (the partner) may renew.
    if not rows:
        raise RuleViolation.one(Code.NOT_FOUND, thing="customer")
    first = rows[0]
    region = Region(str(first.country), bool(first.self_service_enabled))
    return _customer_groups(
        region, rows if first.id is not None else (), partner_csn, channel, today
    )


def _customer_groups(
    region: CustomerRegion,
    rows: Sequence[repository.Candidate],
    partner_csn: str | None,
    channel: Channel,
    today: date,
) -> RenewalGroups:
    """Group one customer's subscriptions, with the reasons its country gives."""
    if partner_csn is not None and not rows:
        raise RuleViolation.one(Code.NOT_FOUND, thing="customer")  # not a customer it resells to
    return group_renewals(
        cast("Sequence[RenewalCandidate]", rows),
        channel=channel,
        today=today,
        region_reasons=region_reasons(region, channel),
    )


class Region(NamedTuple):
    """A customer's country and whether it lets buyers quote themselves."""

    country: str
    self_service_enabled: bool


def scope(actor: Actor, customer_csn: str | None) -> tuple[str | None, str | None]:
    """Return the customer and partner CSNs that bound what `actor` may see."""
    if actor.kind == "customer":
        if customer_csn not in (None, actor.customer_csn):
            raise RuleViolation.one(Code.NOT_FOUND, thing="customer")
        return actor.customer_csn, None
    if actor.kind == "partner":
        return customer_csn, actor.partner_csn
    if customer_csn is None:
        raise RuleViolation.one(
            Code.INVALID_INPUT, field="customer_csn", problem="staff name the customer"
        )
    return customer_csn, None
