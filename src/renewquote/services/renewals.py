"""Listing renewal groups: what a buyer or a partner can put on a renewal quote today."""

from __future__ import annotations

from datetime import date

from renewquote.domain.eligibility import region_reasons
from renewquote.domain.errors import Violation
from renewquote.domain.grouping import RenewalGroups, group_renewals
from renewquote.domain.model import Channel
from renewquote.services.access import Caller
from renewquote.storage import repository
from renewquote.storage.database import Database


def renewal_groups(
    db: Database,
    caller: Caller,
    *,
    today: date,
    customer_csn: str | None = None,
    channel: Channel | None = None,
) -> RenewalGroups:
    """Group the subscriptions the caller sees: of one customer, or (for a partner that names
    none) of every customer it resells to, as seen through `channel` (the caller's own by
    default; staff may look through a buyer's or a partner's eyes)."""
    csn = caller.customer_scope(customer_csn)
    seen_as = channel if channel is not None and caller.is_staff else caller.channel
    region: tuple[Violation, ...] = ()
    with db.read() as conn:
        if csn is not None:
            customer, _ = repository.customer(conn, csn, reachable=caller.customer_reachable())
            region = region_reasons(customer, seen_as)
        candidates = repository.renewal_candidates(
            conn, customer_csn=csn, visible=caller.subscriptions_visible()
        )
    return group_renewals(candidates, channel=seen_as, today=today, region_reasons=region)
