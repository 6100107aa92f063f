"""The FastAPI application: routers, problem+json errors, body limit, idempotency, metrics."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from urllib.parse import urlsplit

from fastapi import FastAPI

from renewquote import __version__
from renewquote.api import docs, problems
from renewquote.api.change_watch import ChangeWatch
from renewquote.api.middleware import (
    BodyLimit,
    Hardening,
    Idempotency,
    KeepAliveLimit,
    RequestMetrics,
)
from renewquote.api.routes import auth, health, links, quotes, subscriptions, webhooks
from renewquote.clock import utcnow
from renewquote.services.payments import PaymentProvider, TestGateway
from renewquote.settings import Settings
from renewquote.storage.database import Database
from renewquote.web import pages

DESCRIPTION = """
Renewal quotes for software subscriptions, for customers' buyers (self-service), partners
(resellers of record) and the vendor's staff.

Sign in with `POST /api/v1/auth/token`, then send `Authorization: Bearer <token>`.
Errors are `application/problem+json` with a rule `code` (see docs/rules.md) and every violation,
in French or English after `Accept-Language`. Every `POST` honours `Idempotency-Key`.
"""


def create_app(
    db: Database | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    payments: PaymentProvider | None = None,
    metrics_token: str | None = None,
    freeze_heap: bool = False,
    keepalive_requests: int | None = None,
) -> FastAPI:
    """Build the application over `db` (default: the database of the settings), taking
    payments through `payments` (default: the test gateway), serving /metrics to the holder of
    `metrics_token` only (default: the settings', none: not served), closing a keep-alive
    connection after `keepalive_requests` requests on average (default: the settings').

    `freeze_heap`, for a server process: once started, the objects of the code and its
    libraries are left out of every garbage collection. A full collection of the ~170,000 of
    them stopped a worker for 80-170 ms, the p99 of a whole benchmark run.
    """
    settings = Settings()
    database = db or Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        watch = ChangeWatch(database)
        watch.start()
        if freeze_heap:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            watch.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="renewquote",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_tags=[
            {"name": "sign-in", "description": "Bearer tokens."},
            {"name": "subscriptions", "description": "Subscriptions and renewal groups."},
            {"name": "quotes", "description": "Quotes, from draft to order."},
            {"name": "webhooks", "description": "Where quote events are posted."},
            {"name": "operations", "description": "Health and metrics."},
        ],
    )
    app.state.db = database
    app.state.clock = clock
    app.state.payments = payments or TestGateway()
    app.state.metrics_token = metrics_token or settings.metrics_token
    # Where the app is, as browsers see it: the path of the public address (links' pages).
    app.state.public_path = urlsplit(settings.public_url).path.rstrip("/")
    app.state.public_https = urlsplit(settings.public_url).scheme == "https"
    problems.install(app)
    docs.install(app)
    # The busiest first: a request's path is tried against each included router in turn.
    for router in (
        subscriptions.router,
        quotes.router,
        auth.router,
        quotes.orders_router,
        webhooks.router,
    ):
        app.include_router(router, prefix="/api/v1")
    app.include_router(health.router)
    app.include_router(links.router)
    app.include_router(pages.router)
    # Each add_middleware wraps what is already there, so the last added runs first: metrics
    # see every answer, a connection may be closed after it, headers are bounded, then the
    # body, before idempotency reads it.
    app.add_middleware(Idempotency, db=app.state.db)
    app.add_middleware(BodyLimit)
    app.add_middleware(Hardening)
    keepalive = settings.keepalive_requests if keepalive_requests is None else keepalive_requests
    app.add_middleware(KeepAliveLimit, requests=keepalive)
    app.add_middleware(RequestMetrics)
    return app
