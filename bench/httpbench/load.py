"""What wrk sends, one wrk run at a time, and the server's own count of it from /metrics."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from book import ELIGIBLE_EACH, QUOTED_EACH, SUBSCRIPTIONS_EACH
from httpbench.cpu import children_cpu_seconds, cpu_seconds, machine_ticks, postgres_pids
from httpbench.fixtures import CustomerTokens
from httpbench.server import Server

THREADS = 2
WARM_UP_SECONDS = 3
WRK_DIR = Path(__file__).resolve().parent.parent / "wrk"
GROUPS_RATE, GROUPS_P99_MS = 1_000, 50
QUOTES_RATE, QUOTES_P99_MS = 300, 100
# The unpaced rates keep at least this share of the same run's /healthz rate.
GROUPS_HEALTHZ_RATIO, QUOTES_HEALTHZ_RATIO = 0.35, 0.13


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One wrk run: what it sends, and the targets it must meet (none for the limits)."""

    label: str
    script: str
    route: str
    rate_target: int | None = None
    p99_target_ms: float | None = None
    metrics_labels: tuple[str, ...] = ()  # the route's labels in the server's metrics
    pace: int | None = None  # requests a second wrk sends at, if paced (else: all it can)
    healthz_ratio_target: float | None = None  # least rate / the same run's /healthz rate

    @property
    def labels(self) -> tuple[str, ...]:
        """Every route label the server's metrics may give this endpoint."""
        return (self.route, *self.metrics_labels)


@dataclass(frozen=True, slots=True)
class Load:
    """What wrk measured in one run, as the Lua `done()` printed it."""

    requests: int
    seconds: float
    non2xx: int
    socket_errors: int
    timeouts: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    first_failure: str | None
    server_p99_ms: float  # upper bound of the server's own histogram bucket holding its p99
    server_non2xx: int
    server_cpu_seconds: float  # both workers, user + system
    wrk_cpu_seconds: float
    postgres_cpu_seconds: float  # every local postgres process, user + system
    machine_busy: float  # share of all cores in use during the run

    @property
    def rate(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds

    @property
    def errors(self) -> int:
        """Every request that did not end in a 2xx answer."""
        return self.non2xx + self.socket_errors + self.timeouts

    @property
    def server_ms_per_request(self) -> float:
        """CPU time the two workers spent per answered request."""
        return self.server_cpu_seconds * 1000 / self.requests

    @property
    def postgres_ms_per_request(self) -> float:
        """CPU time the local PostgreSQL server spent per answered request."""
        return self.postgres_cpu_seconds * 1000 / self.requests


# The server's metrics label the documentation page "unmatched", and the API's routes without
# their /api/v1 prefix (the router's own path); both are taken, in case that changes.
DOCS = Endpoint(
    "GET /docs: async, no database (bare)", "plain.lua", "/docs", metrics_labels=("unmatched",)
)
HEALTHZ = Endpoint("GET /healthz: SELECT 1 (the limit)", "plain.lua", "/healthz")
GROUPS = Endpoint(
    f"GET /api/v1/renewal-groups, {SUBSCRIPTIONS_EACH} subscriptions",
    "renewal_groups.lua",
    "/api/v1/renewal-groups",
    GROUPS_RATE,
    GROUPS_P99_MS,
    ("/renewal-groups",),
    healthz_ratio_target=GROUPS_HEALTHZ_RATIO,
)
QUOTES = Endpoint(
    f"POST /api/v1/quotes, {QUOTED_EACH} lines, promotion on each",
    "quotes.lua",
    "/api/v1/quotes",
    QUOTES_RATE,
    QUOTES_P99_MS,
    ("/quotes",),
    healthz_ratio_target=QUOTES_HEALTHZ_RATIO,
)
# The same two at their target rate: "sustained with a p99 under" is measured there, where
# the unpaced runs above measure how much the server can take (and their p99 is then mostly
# the queue of 32 connections waiting on a saturated machine).
GROUPS_PACED = replace(
    GROUPS,
    label=f"{GROUPS.label}, paced at {GROUPS_RATE:,} req/s",
    pace=GROUPS_RATE,
    healthz_ratio_target=None,
)
QUOTES_PACED = replace(
    QUOTES,
    label=f"{QUOTES.label}, paced at {QUOTES_RATE:,} req/s",
    pace=QUOTES_RATE,
    healthz_ratio_target=None,
)
ENDPOINTS = (DOCS, HEALTHZ, GROUPS, QUOTES, GROUPS_PACED, QUOTES_PACED)


def first_requests(base: str, customer: CustomerTokens) -> dict[str, Any]:
    """Send one request of each kind and check the answers, so a wrong setup stops here."""
    token, sids = customer
    auth = {"Authorization": f"Bearer {token}"}
    groups = json.loads(_call(f"{base}/api/v1/renewal-groups", auth))
    quote = json.loads(
        _call(
            f"{base}/api/v1/quotes",
            {**auth, "Content-Type": "application/json"},
            {"type": "renewal", "lines": [{"subscription_id": s} for s in sids]},
        )
    )
    eligible = sum(len(g["subscription_ids"]) for g in groups["data"])
    if (eligible, len(groups["ineligible"])) != (ELIGIBLE_EACH, SUBSCRIPTIONS_EACH - ELIGIBLE_EACH):
        raise RuntimeError(f"unexpected renewal groups: {groups}")
    promoted = sum(1 for line in quote["lines"] if line.get("promotion"))
    if promoted != QUOTED_EACH:
        raise RuntimeError(f"{promoted} of the quote's lines got a promotion: {quote['lines']}")
    return {
        "groups": len(groups["data"]),
        "eligible": eligible,
        "ineligible": len(groups["ineligible"]),
        "quote_total": f"{quote['total']} {quote['currency']}",
    }


def _call(url: str, headers: dict[str, str], body: Any = None) -> bytes:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return bytes(answer.read())
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{request.get_method()} {url}: {error.code} {error.read()!r}") from None


class Wrk:
    """Runs wrk with one of the Lua scripts and reads the line its `done()` prints.

    Around each run it also reads the server's own metrics (its latency histogram and its
    answers by status) and the CPU time its workers, wrk and the whole machine used.
    """

    def __init__(self, wrk: str, server: Server, data: Path, connections: int) -> None:
        self.wrk = wrk
        self.server = server
        self.data = data
        self.connections = connections

    def run(self, endpoint: Endpoint, seconds: int, *, offset: int) -> Load:
        """Run wrk on `endpoint` for `seconds`, starting `offset` customers in."""
        script = WRK_DIR / endpoint.script
        argv = [
            self.wrk,
            f"--threads={THREADS}",
            f"--connections={self.connections}",
            f"--duration={seconds}s",
            "--timeout=5s",
            "--latency",
            f"--script={script}",
            self.server.base,
            "--",
        ]
        if endpoint.script == "plain.lua":
            argv.append(endpoint.route)
        else:
            argv += [str(self.data), str(THREADS), str(offset)]
        metrics_before = self.metrics(endpoint)
        cpu_before = cpu_seconds(self.server.workers)
        wrk_before = children_cpu_seconds()
        postgres_before = {pid: cpu_seconds([pid]) for pid in postgres_pids()}
        machine_before = machine_ticks()
        env = {**os.environ, "RENEWQUOTE_PACE": str(endpoint.pace)} if endpoint.pace else None
        finished = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
        machine_after = machine_ticks()
        wrk_cpu = children_cpu_seconds() - wrk_before
        server_cpu = cpu_seconds(self.server.workers) - cpu_before
        # A backend that started during the run counts whole; one that ended is lost.
        postgres_cpu = sum(
            cpu_seconds([pid]) - postgres_before.get(pid, 0.0) for pid in postgres_pids()
        )
        metrics_after = self.metrics(endpoint)
        line = next(
            (x for x in finished.stdout.splitlines() if x.startswith("RENEWQUOTE_RESULT ")), None
        )
        if finished.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed:\n{finished.stdout}\n{finished.stderr}")
        r = json.loads(line.removeprefix("RENEWQUOTE_RESULT "))
        buckets = {
            bound: metrics_after["buckets"].get(bound, 0) - count
            for bound, count in metrics_before["buckets"].items()
        } or metrics_after["buckets"]
        total = machine_after[0] - machine_before[0]
        idle = machine_after[1] - machine_before[1]
        return Load(
            requests=r["requests"],
            seconds=r["duration_us"] / 1e6,
            non2xx=r["non2xx"],
            socket_errors=r["connect"] + r["read"] + r["write"],
            timeouts=r["timeout"],
            p50_ms=r["p50_us"] / 1000,
            p99_ms=r["p99_us"] / 1000,
            max_ms=r["max_us"] / 1000,
            first_failure=r["first_failure"],
            server_p99_ms=_bucket_percentile(buckets, 0.99) * 1000,
            server_non2xx=metrics_after["non2xx"] - metrics_before["non2xx"],
            server_cpu_seconds=server_cpu,
            wrk_cpu_seconds=wrk_cpu,
            postgres_cpu_seconds=postgres_cpu,
            machine_busy=1 - idle / total,
        )

    def settled_2xx(self, endpoint: Endpoint) -> int:
        """Return the server's 2xx answers once it has answered the last requests wrk left."""
        count = -1
        while (latest := self.metrics(endpoint)["2xx"]) != count:
            count = latest
            time.sleep(0.5)
        return count

    def metrics(self, endpoint: Endpoint) -> dict[str, Any]:
        """Read the server's latency buckets and answers by kind of `endpoint` from /metrics."""
        scrape = urllib.request.Request(
            f"{self.server.base}/metrics",
            headers={"Authorization": f"Bearer {self.server.metrics_token}"},
        )
        with urllib.request.urlopen(scrape, timeout=10) as answer:
            text = answer.read().decode()
        buckets: dict[float, float] = {}
        answers = {"2xx": 0, "non2xx": 0}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.labels.get("route") not in endpoint.labels:
                    continue
                if sample.name == "renewquote_http_request_duration_seconds_bucket":
                    bound = float(sample.labels["le"])
                    buckets[bound] = buckets.get(bound, 0) + sample.value
                elif sample.name == "renewquote_http_requests_total":
                    kind = "2xx" if sample.labels["status"].startswith("2") else "non2xx"
                    answers[kind] += int(sample.value)
        return {"buckets": buckets, **answers}


def _bucket_percentile(buckets: dict[float, float], share: float) -> float:
    """Return the upper bound of the first cumulative bucket holding `share` of the samples."""
    ordered = sorted(buckets.items())
    total = ordered[-1][1] if ordered else 0
    for bound, count in ordered:
        if total and count >= share * total:
            return bound
    return float("nan")
