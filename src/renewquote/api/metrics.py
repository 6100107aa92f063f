"""Prometheus metrics: requests, latencies, and the quotes created, sent and ordered.

With several worker processes, `PROMETHEUS_MULTIPROC_DIR` (set by `renewquote serve`) makes
every process write its figures there and `/metrics` add them up.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "renewquote_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "renewquote_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
QUOTES = Counter("renewquote_quotes_total", "Quotes by what happened to them", ["event"])


def exposition() -> tuple[bytes, str]:
    """Return the metrics in Prometheus' text format, of every worker process."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
