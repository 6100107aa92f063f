"""Health and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response

from renewquote.api.dependencies import Unsigned, run
from renewquote.api.metrics import exposition
from renewquote.api.schemas import Health
from renewquote.services.health import database_answers

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="The service and its database answer")
async def healthz(context: Unsigned) -> Health:
    """Answer ok when the database answers a query."""
    await run(database_answers, context.db)
    return Health(status="ok")


@router.get("/metrics", response_class=Response, summary="Prometheus metrics")
def metrics() -> Response:
    """Requests, latencies, and quotes created, sent and ordered, in Prometheus' format."""
    body, content_type = exposition()
    return Response(body, media_type=content_type)
