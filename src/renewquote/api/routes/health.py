"""Health and metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import literal_column, select
from sqlalchemy.sql import Select

from renewquote.api.dependencies import Unsigned
from renewquote.api.metrics import exposition
from renewquote.api.schemas import Health

_PING: Select[Any] = select(literal_column("1"))
router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="The service and its database answer")
async def healthz(context: Unsigned) -> Health:
    """Answer ok when the database answers a query."""
    await context.db.fetch(_PING, {}, tuple)
    return Health(status="ok", database=context.db.url.get_backend_name())


@router.get("/metrics", response_class=Response, summary="Prometheus metrics")
def metrics() -> Response:
    """Requests, latencies, and quotes created, sent and ordered, in Prometheus' format."""
    body, content_type = exposition()
    return Response(body, media_type=content_type)
