"""Health and metrics."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response

from renewquote.api.dependencies import Unsigned, bearer_token, run
from renewquote.api.metrics import exposition
from renewquote.api.schemas import Health, problem_responses
from renewquote.domain.errors import Code, RuleViolation
from renewquote.services.health import database_answers

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="The service and its database answer")
async def healthz(context: Unsigned) -> Health:
    """Answer ok when the database answers a query."""
    await run(database_answers, context.db)
    return Health(status="ok")


@router.get(
    "/metrics",
    response_class=Response,
    responses=problem_responses(401, 404),
    summary="Prometheus metrics (with the metrics token)",
)
def metrics(request: Request) -> Response:
    """Requests, latencies, and quotes created, sent and ordered, in Prometheus' format; for
    the holder of RENEWQUOTE_METRICS_TOKEN only, and not served at all without one."""
    expected: str | None = request.app.state.metrics_token
    if not expected:
        raise RuleViolation.one(Code.NOT_FOUND, thing="page")
    given = bearer_token(request.headers) or ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise RuleViolation.one(Code.UNAUTHENTICATED, why="send the metrics token")
    body, content_type = exposition()
    return Response(body, media_type=content_type)
