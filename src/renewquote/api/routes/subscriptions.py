"""Subscriptions and renewal groups."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from renewquote.api.dependencies import BearerToken, SignedIn, remember
from renewquote.api.schemas import (
    NO_NUL,
    IsoDate,
    RenewalGroups,
    SubscriptionList,
    SubscriptionPublic,
    problem_responses,
)
from renewquote.services import listing, renewals
from renewquote.services.public import groups_public, subscription_public

router = APIRouter(tags=["subscriptions"])
ERRORS = problem_responses(401, 404, 422)
Csn = Annotated[str | None, Query(max_length=20, pattern=NO_NUL, description="The customer's CSN.")]


@router.get(
    "/subscriptions",
    response_model=SubscriptionList,
    responses=ERRORS,
    summary="List subscriptions with their renewal standing",
)
def list_subscriptions(
    caller: SignedIn,
    customer_csn: Csn = None,
    status: Annotated[str | None, Query(pattern="^(active|expired|cancelled)$")] = None,
    currency: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
    end_after: Annotated[IsoDate | None, Query(description="End date on or after.")] = None,
    end_before: Annotated[IsoDate | None, Query(description="End date on or before.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    starting_after: Annotated[str | None, Query(max_length=40, pattern=NO_NUL)] = None,
) -> dict[str, object]:
    """The subscriptions the caller sees, in id order, each with whether it can renew now."""
    filters = listing.SubscriptionFilters(customer_csn, status, currency, end_after, end_before)
    page = listing.list_subscriptions(
        caller.db,
        caller.actor,
        filters,
        today=caller.today,
        limit=limit,
        starting_after=starting_after,
    )
    return {
        "data": [subscription_public(s, caller.language) for s in page.items],
        "has_more": page.has_more,
    }


@router.get(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionPublic,
    responses=ERRORS,
    summary="One subscription with its renewal standing",
)
def get_subscription(
    subscription_id: Annotated[str, Path(max_length=40, pattern=NO_NUL)],
    caller: SignedIn,
) -> dict[str, object]:
    """A subscription the caller sees, or 404."""
    return subscription_public(
        listing.get_subscription(caller.db, caller.actor, subscription_id, today=caller.today),
        caller.language,
    )


@router.get(
    "/renewal-groups",
    response_model=RenewalGroups,
    responses=ERRORS,
    summary="Bulk actions > Renew: the renewal groups",
)
async def renewal_groups(call: BearerToken, customer_csn: Csn = None) -> Response:
    """Eligible subscriptions grouped by CSN, currency, purchase method and partner; the others
    with every reason. Partners and staff pass `customer_csn` (partners may omit it)."""
    actor = call.actor
    result = None
    if actor is None:
        # A caller this worker has not seen lately: the token is checked in the same query
        # that reads a customer's own subscriptions (one round trip instead of two).
        actor, expires_at, result = await renewals.own_renewal_groups(
            call.db, call.token, now=call.now
        )
        remember(call.token, actor, expires_at)
        if customer_csn not in (None, actor.customer_csn):
            result = None  # renewal_groups_async says what to say
    if result is None:
        result = await renewals.renewal_groups_async(
            call.db, actor, today=call.today, customer_csn=customer_csn
        )
    # Strings and lists only, shaped by groups_public: answered as is, not validated again
    # (the tests check every answer against the schema).
    body = orjson.dumps(groups_public(result, call.language))
    return Response(body, media_type="application/json")
