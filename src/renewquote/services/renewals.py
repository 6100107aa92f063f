"""Listing renewal groups: what a buyer or a partner can put on a renewal quote today."""

from __future__ import annotations

from datetime import date

from renewquote.domain.eligibility import region_reasons
from renewquote.domain.errors import Code, RuleViolation, Violation
from renewquote.domain.grouping import RenewalGroups, group_renewals
from renewquote.domain.model import Channel
from renewquote.services.actors import Actor
from renewquote.storage import repository
from renewquote.storage.database import Database


def renewal_groups(
    db: Database, actor: Actor, *, today: date, customer_csn: str | None = None
) -> RenewalGroups:
    """Group the subscriptions the actor sees (of one customer, or all a partner resells)."""
    csn, partner = scope(actor, customer_csn)
    return groups_for(db, csn, partner_csn=partner, channel=actor.channel, today=today)


def groups_for(
    db: Database,
    customer_csn: str | None,
    *,
    partner_csn: str | None = None,
    channel: Channel,
    today: date,
) -> RenewalGroups:
    """Group a customer's subscriptions (or those a partner resells) as `channel` sees them."""
    with db.read() as conn:
        region: tuple[Violation, ...] = ()
        if partner_csn is not None and customer_csn is not None:
            if not repository.partner_resells_to(conn, partner_csn, customer_csn):
                raise RuleViolation.one(Code.NOT_FOUND, thing="customer")
        elif customer_csn is not None:
            region = region_reasons(repository.load_customer(conn, customer_csn), channel)
        rows = repository.renewal_candidates(
            conn, customer_csn=customer_csn, partner_csn=partner_csn
        )
        return group_renewals(rows, channel=channel, today=today, region_reasons=region)


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
