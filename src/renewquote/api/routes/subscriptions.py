"""Subscriptions and renewal groups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from renewquote.api.dependencies import SignedIn, run
from renewquote.api.schemas import (
    NO_NUL,
    IsoDate,
    RenewalGroups,
    SubscriptionList,
    SubscriptionPublic,
    problem_responses,
)
from renewquote.domain.model import SubscriptionStatus
from renewquote.services import listing, renewals

router = APIRouter(tags=["subscriptions"])
ERRORS = problem_responses(401, 404, 422)
Csn = Annotated[str | None, Query(max_length=20, pattern=NO_NUL, description="The customer's CSN.")]


def _json(model: SubscriptionList | SubscriptionPublic | RenewalGroups) -> Response:
    # Shaped once by the model: answered as its JSON, not validated again by FastAPI.
    return Response(model.model_dump_json(), media_type="application/json")


@router.get(
    "/subscriptions",
    response_model=SubscriptionList,
    responses=ERRORS,
    summary="List subscriptions with their renewal standing",
)
async def list_subscriptions(
    call: SignedIn,
    customer_csn: Csn = None,
    status: SubscriptionStatus | None = None,
    currency: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
    end_after: Annotated[IsoDate | None, Query(description="End date on or after.")] = None,
    end_before: Annotated[IsoDate | None, Query(description="End date on or before.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    starting_after: Annotated[str | None, Query(max_length=40, pattern=NO_NUL)] = None,
) -> Response:
    """The subscriptions the caller sees, in id order, each with whether it can renew now."""
    filters = listing.SubscriptionFilters(customer_csn, status, currency, end_after, end_before)
    page = await run(
        listing.list_subscriptions,
        call.db,
        call.caller,
        filters,
        today=call.today,
        limit=limit,
        starting_after=starting_after,
    )
    return _json(
        SubscriptionList(
            data=[SubscriptionPublic.of(s, call.language) for s in page.items],
            has_more=page.has_more,
        )
    )


@router.get(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionPublic,
    responses=ERRORS,
    summary="One subscription with its renewal standing",
)
async def get_subscription(
    subscription_id: Annotated[str, Path(max_length=40, pattern=NO_NUL)],
    call: SignedIn,
) -> Response:
    """A subscription the caller sees, or 404."""
    standing = await run(
        listing.get_subscription, call.db, call.caller, subscription_id, today=call.today
    )
    return _json(SubscriptionPublic.of(standing, call.language))


@router.get(
    "/renewal-groups",
    response_model=RenewalGroups,
    responses=ERRORS,
    summary="Bulk actions > Renew: the renewal groups",
)
async def renewal_groups(call: SignedIn, customer_csn: Csn = None) -> Response:
    """Eligible subscriptions grouped by CSN, currency, purchase method and partner; the others
    with every reason. Partners and staff pass `customer_csn` (partners may omit it)."""
    result = await run(
        renewals.renewal_groups, call.db, call.caller, today=call.today, customer_csn=customer_csn
    )
    return _json(RenewalGroups.of(result, call.language))
