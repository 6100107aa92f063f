"""Health and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import text

from renewquote.api.dependencies import DB
from renewquote.api.metrics import exposition
from renewquote.api.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="The service and its database answer")
def healthz(db: DB) -> Health:
    """Answer ok when the database answers a query."""
    with db.read() as conn:
        conn.execute(text("SELECT 1"))
    return Health(status="ok", database=db.url.get_backend_name())


@router.get("/metrics", response_class=Response, summary="Prometheus metrics")
def metrics() -> Response:
    """Requests, latencies, and quotes created, sent and ordered, in Prometheus' format."""
    body, content_type = exposition()
    return Response(body, media_type=content_type)
