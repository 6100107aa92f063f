"""Webhook endpoints: staff and partners register where quote events are posted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from renewquote.api.dependencies import SignedIn, run
from renewquote.api.schemas import (
    NO_NUL,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointList,
    WebhookEndpointPublic,
    problem_responses,
)
from renewquote.services import webhooks
from renewquote.settings import Settings

router = APIRouter(prefix="/webhook-endpoints", tags=["webhooks"])
EndpointId = Annotated[str, Path(max_length=40, pattern=NO_NUL)]


def _json(model: WebhookEndpointCreated | WebhookEndpointList, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


@router.post(
    "",
    status_code=201,
    response_model=WebhookEndpointCreated,
    responses=problem_responses(400, 401, 403, 413, 422),
    summary="Register a webhook endpoint",
)
async def create_endpoint(body: WebhookEndpointCreate, call: SignedIn) -> Response:
    """Post these quote events to `url`, signed by the Standard Webhooks specification with
    the `secret` answered here (shown only now). A partner's endpoint receives its own quotes'
    events; staff's, every quote's. Loopback and private addresses are refused."""
    endpoint = await run(
        webhooks.create_endpoint,
        call.db,
        call.caller,
        body.url,
        body.events,
        now=call.now,
        allow_private=Settings().webhooks_allow_private,
    )
    shown = WebhookEndpointPublic.of(endpoint).model_dump()
    return _json(WebhookEndpointCreated(**shown, secret=endpoint.secret), status=201)


@router.get(
    "",
    response_model=WebhookEndpointList,
    responses=problem_responses(401, 403),
    summary="The caller's webhook endpoints",
)
async def list_endpoints(call: SignedIn) -> Response:
    """A partner's own endpoints, or the vendor's staff's."""
    found = await run(webhooks.list_endpoints, call.db, call.caller)
    return _json(WebhookEndpointList(data=[WebhookEndpointPublic.of(e) for e in found]))


@router.delete(
    "/{endpoint_id}",
    status_code=204,
    responses=problem_responses(401, 403, 404, 422),
    summary="Delete a webhook endpoint",
)
async def delete_endpoint(endpoint_id: EndpointId, call: SignedIn) -> Response:
    """Stop posting to one of the caller's endpoints; deliveries not yet made are dropped."""
    await run(webhooks.delete_endpoint, call.db, call.caller, endpoint_id)
    return Response(status_code=204)
