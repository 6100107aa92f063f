"""Listing renewal groups: what a buyer or a partner can put on a renewal quote today."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from renewquote.domain.eligibility import CustomerRegion, region_reasons
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
    with _no_collection():
        with db.read() as conn:
            if csn is not None:
                # A customer's contact knows its own company's region; others read the
                # customer they name, as far as they reach.
                known: CustomerRegion | None = caller.own_region(csn)
                if known is None:
                    reachable = caller.customer_reachable()
                    known, _ = repository.customer(conn, csn, reachable=reachable)
                region = region_reasons(known, seen_as)
            candidates = repository.renewal_candidates(
                conn, customer_csn=csn, visible=caller.subscriptions_visible()
            )
        # The connection given back first: grouping 100,000 rows takes a while.
        return group_renewals(candidates, channel=seen_as, today=today, region_reasons=region)


@contextmanager
def _no_collection() -> Iterator[None]:
    """Hold the garbage collector while a book's rows are read and grouped.

    Each row becomes objects that stay alive until the answer is made (rows, candidates, the
    ineligible), and their growth set off full collections that went over every one of them
    again: 4 full collections took 502 ms of the 864 ms of grouping 100,000 subscriptions
    (bench/run.py, PostgreSQL). These objects form no cycles: nothing is left for the collector
    to reclaim meanwhile. The switch is the process's: other threads run without collections
    for as long (a server worker runs one request's database work at a time; its heap of code
    and libraries is frozen out of collections anyway). Another thread holding it too may
    switch it back on first: that costs time, not correctness; a collector switched off
    beforehand stays off.
    """
    held = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if held:
            gc.enable()
