"""Load the HTTP API with wrk and print its rates next to what the server and the storage can do.

    .venv/bin/python bench/http_load.py [--postgres-url URL] [--duration 20] [--connections 32]

`renewquote serve --workers 2` runs on a fresh PostgreSQL database holding 10,000 customers of
50 subscriptions each; wrk, on the same machine, sends `GET /api/v1/renewal-groups` and
`POST /api/v1/quotes` for a different customer each time. Beside them, measured in the same
run: the same server's `GET /healthz` (the limit the ratios are taken to) and `GET /docs` (a
route without database), and plain inserts of the same quote rows (the engine benchmark's
limit). The two API calls run twice: as fast as wrk can send (the most the server takes) and
paced at their target rate (whether it sustains it, and the p99 there). The exit status is 0
even when a target fails: this is a report, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import create_engine, insert, make_url, select
from sqlalchemy.exc import SQLAlchemyError

from book import (
    ANNUAL_PROMOTION,
    CUSTOMERS,
    ELIGIBLE_EACH,
    HTTP_BOOK,
    QUOTED_EACH,
    SUBSCRIPTIONS_EACH,
    insert_book,
)
from renewquote.clock import utcnow
from renewquote.services.auth import TOKEN_PREFIX, token_hash
from renewquote.storage.database import Database
from renewquote.storage.migrate import upgrade
from renewquote.storage.tables import (
    api_tokens,
    countries,
    currencies,
    customers,
    offerings,
    partners,
    prices,
    promotions,
    subscriptions,
    users,
)

# The engine benchmark's own helpers, so the plain-insert limit is measured as it measures it.
from run import (
    QUOTE_TABLES,
    RawQuote,
    _clear_quotes,
    _columns,
    _cpu_model,
    _load_average,
    _ram_gb,
    _raw_inserts,
    _stored_quotes,
    _verdict,
)

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "bench_http"
WORKERS = 2
THREADS = 2
SUBSCRIPTIONS_PER_CUSTOMER = SUBSCRIPTIONS_EACH
LINES_PER_QUOTE = QUOTED_EACH
ELIGIBLE = ELIGIBLE_EACH
WARM_UP_SECONDS = 3
RAW_QUOTES = 1_000
RAW_ROUNDS = 3
PROMOTION = ANNUAL_PROMOTION

# The server's /metrics answers only this token (RENEWQUOTE_METRICS_TOKEN).
METRICS_TOKEN = secrets.token_urlsafe(16)
GROUPS_RATE, GROUPS_P99_MS = 1_000, 50
QUOTES_RATE, QUOTES_P99_MS = 300, 100

CORES = os.cpu_count() or 1
WRK_DIR = Path(__file__).resolve().parent / "wrk"
INSTALL_WRK = "apt-get update && apt-get install -y wrk   (Debian's package, as root)"
# Wide enough for the tables when the output goes to a file.
console = Console(width=None if sys.stdout.isatty() else 170)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One wrk run: what it sends, and the target it must meet (none for the limits)."""

    label: str
    script: str
    route: str
    rate_target: int | None = None
    p99_target_ms: float | None = None
    metrics_labels: tuple[str, ...] = ()  # the route's labels in the server's metrics
    pace: int | None = None  # requests a second wrk sends at, if paced (else: all it can)

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
    f"GET /api/v1/renewal-groups, {SUBSCRIPTIONS_PER_CUSTOMER} subscriptions",
    "renewal_groups.lua",
    "/api/v1/renewal-groups",
    GROUPS_RATE,
    GROUPS_P99_MS,
    ("/renewal-groups",),
)
QUOTES = Endpoint(
    f"POST /api/v1/quotes, {LINES_PER_QUOTE} lines, promotion on each",
    "quotes.lua",
    "/api/v1/quotes",
    QUOTES_RATE,
    QUOTES_P99_MS,
    ("/quotes",),
)
# The same two at their target rate: "sustained with a p99 under" is measured there, where
# the unpaced runs above measure how much the server can take (and their p99 is then mostly
# the queue of 32 connections waiting on a saturated machine).
GROUPS_PACED = replace(
    GROUPS, label=f"{GROUPS.label}, paced at {GROUPS_RATE:,} req/s", pace=GROUPS_RATE
)
QUOTES_PACED = replace(
    QUOTES, label=f"{QUOTES.label}, paced at {QUOTES_RATE:,} req/s", pace=QUOTES_RATE
)
ENDPOINTS = (DOCS, HEALTHZ, GROUPS, QUOTES, GROUPS_PACED, QUOTES_PACED)
# A paced run sustains its rate when it answers at least this share of it.
SUSTAINED = 0.98


def main(argv: Sequence[str] | None = None) -> int:
    """Load the book, start the server, run wrk on each endpoint and print one table."""
    args = _arguments(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        console.print(f"[bold red]wrk is not installed.[/] Install it with:\n    {INSTALL_WRK}")
        return 2
    try:
        url, server_version = _fresh_database(args.postgres_url)
    except SQLAlchemyError as error:
        console.print(f"[bold red]PostgreSQL unreachable:[/] {error.__cause__ or error}")
        return 2
    console.print(_machine_table(wrk, server_version, args.connections))
    try:
        with tempfile.TemporaryDirectory(prefix="bench_http_") as tmp:
            _benchmark(args, url, wrk, Path(tmp))
    finally:
        if not args.keep_database:
            _drop_database(args.postgres_url)
    console.print(f"Load average at the end: {_load_average().removesuffix(' at start')}")
    return 0


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES,
        help=f"server to create the {BENCH_DATABASE} database on (default: %(default)s)",
    )
    parser.add_argument("--duration", type=int, default=20, help="seconds of each measured run")
    parser.add_argument("--connections", type=int, default=32, help="wrk's open connections")
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help=f"leave {BENCH_DATABASE} behind (its quote tables emptied) to look into it",
    )
    return parser.parse_args(argv)


def _benchmark(args: argparse.Namespace, url: str, wrk: str, tmp: Path) -> None:
    db = Database(url)
    try:
        started = time.perf_counter()
        tokens = _load_book(db)
        data = tmp / "customers.txt"
        data.write_text("".join(f"{token} {' '.join(sids)}\n" for token, sids in tokens))
        console.print(
            f"Migrated {BENCH_DATABASE} and loaded {CUSTOMERS:,} customers,"
            f" {CUSTOMERS * SUBSCRIPTIONS_PER_CUSTOMER:,} subscriptions and {len(tokens):,}"
            f" bearer tokens in {time.perf_counter() - started:.1f} s"
        )
        with _server(url, tmp) as server:
            checks = _first_requests(server.base, tokens[0])
            runner = _Wrk(wrk, server, data, args.connections)
            for endpoint in ENDPOINTS:
                runner.run(endpoint, WARM_UP_SECONDS, offset=0)
            loads = {
                endpoint: runner.run(endpoint, args.duration, offset=CUSTOMERS // 2)
                for endpoint in ENDPOINTS
            }
            checks["quotes_answered"] = runner.settled_2xx(QUOTES)
        stored = _stored_counts(db)
        raw_rate = _raw_insert_rate(db)
    finally:
        db.dispose()
    console.print(_results_table(args, loads, raw_rate, checks, stored))
    for endpoint, load in loads.items():
        if load.first_failure:
            console.print(f"[red]{endpoint.label}, first failure:[/] {escape(load.first_failure)}")


# The book of business ---------------------------------------------------------------------


def _load_book(db: Database) -> list[tuple[str, list[str]]]:
    """Migrate and load the book; return each customer's token and quoted subscriptions."""
    upgrade(db)
    now = utcnow()
    with db.engine.begin() as conn:
        insert_book(conn, HTTP_BOOK, now.date(), copy=True)
        user_ids = dict(conn.execute(select(users.c.customer_csn, users.c.id)).all())
        tokens = []
        rows = []
        for n in range(1, CUSTOMERS + 1):
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            # Stored as the service stores it: only the SHA-256 (argon2 is for passwords).
            rows.append(
                {
                    "token_hash": token_hash(token),
                    "user_id": user_ids[HTTP_BOOK.csn(n)],
                    "created_at": now,
                    "expires_at": now + timedelta(hours=12),
                    "revoked_at": None,
                }
            )
            tokens.append((token, [HTTP_BOOK.sid(n, k) for k in range(1, LINES_PER_QUOTE + 1)]))
        conn.execute(insert(api_tokens), rows)
    # The tables just loaded. The quote tables stay as the migrations left them, never
    # analyzed, as in a new deployment: analyzed while empty (and with autovacuum off, as on
    # this machine), they keep "empty" statistics, so each backend plans its foreign-key
    # checks against them as scans of an empty table and keeps those plans as they grow (a
    # quote's insert took PostgreSQL 1.3 ms at first and 5.5-7.6 ms by the end of a run).
    loaded = [countries, currencies, partners, customers, users, api_tokens, offerings, prices]
    loaded += [promotions, subscriptions]
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM ANALYZE {', '.join(t.name for t in loaded)}")
    return tokens


# The server and wrk -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Server:
    """The running server: where it answers, and its worker processes."""

    base: str
    workers: tuple[int, ...]


@contextlib.contextmanager
def _server(url: str, tmp: Path) -> Iterator[Server]:
    """Run `renewquote serve --workers 2` on a free port until the block ends."""
    port = _free_port()
    command = Path(sys.executable).with_name("renewquote")
    argv = [str(command)] if command.exists() else [sys.executable, "-m", "renewquote.cli"]
    argv += ["serve", "--workers", str(WORKERS), "--port", str(port)]
    metrics = tmp / "metrics"
    metrics.mkdir()
    env = {
        **os.environ,
        "RENEWQUOTE_DATABASE_URL": url,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "RENEWQUOTE_METRICS_TOKEN": METRICS_TOKEN,
    }
    log = (tmp / "server.log").open("w+")
    process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(base, process, log)
        workers = _workers(process.pid)
        console.print(
            f"Server: renewquote {' '.join(argv[-5:])} (pid {process.pid}, workers"
            f" {', '.join(map(str, workers))}) at {base}"
        )
        yield Server(base, workers)
    finally:
        _stop(process)
        log.close()


def _workers(supervisor: int) -> tuple[int, ...]:
    """Return the pids of uvicorn's worker processes (not multiprocessing's resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
            if parent == supervisor and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    if len(found) != WORKERS:
        raise RuntimeError(f"expected {WORKERS} worker processes, found {found}")
    return tuple(sorted(found))


def _postgres_pids() -> list[int]:
    """Return the pids of the local PostgreSQL server's processes (none if it runs elsewhere)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
    return found


def _cpu_seconds(pids: Sequence[int]) -> float:
    """Return the user + system CPU time of these processes (all their threads)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _machine_ticks() -> tuple[int, int]:
    """Return the machine's total and idle CPU ticks since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values[:8]), values[3] + values[4]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_health(base: str, process: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the server stopped ({process.returncode}):\n{log.read()}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("the server did not answer /healthz within 60 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # uvicorn's supervisor ends its workers on SIGTERM.
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _first_requests(base: str, customer: tuple[str, list[str]]) -> dict[str, Any]:
    """Send one request of each kind and check the answers, so a wrong setup stops here."""
    token, sids = customer
    auth = {"Authorization": f"Bearer {token}"}
    groups = _json(_call(f"{base}/api/v1/renewal-groups", auth))
    quote = _json(
        _call(
            f"{base}/api/v1/quotes",
            {**auth, "Content-Type": "application/json"},
            {"type": "renewal", "lines": [{"subscription_id": s} for s in sids]},
        )
    )
    eligible = sum(len(g["subscription_ids"]) for g in groups["data"])
    if (eligible, len(groups["ineligible"])) != (ELIGIBLE, SUBSCRIPTIONS_PER_CUSTOMER - ELIGIBLE):
        raise RuntimeError(f"unexpected renewal groups: {groups}")
    promoted = sum(1 for line in quote["lines"] if line.get("promotion"))
    if promoted != LINES_PER_QUOTE:
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


def _json(body: bytes) -> Any:
    return json.loads(body)


class _Wrk:
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
        cpu_before = _cpu_seconds(self.server.workers)
        wrk_before = _children_cpu_seconds()
        postgres_before = {pid: _cpu_seconds([pid]) for pid in _postgres_pids()}
        machine_before = _machine_ticks()
        env = {**os.environ, "RENEWQUOTE_PACE": str(endpoint.pace)} if endpoint.pace else None
        finished = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
        machine_after = _machine_ticks()
        wrk_cpu = _children_cpu_seconds() - wrk_before
        server_cpu = _cpu_seconds(self.server.workers) - cpu_before
        # A backend that started during the run counts whole; one that ended is lost.
        postgres_cpu = sum(
            _cpu_seconds([pid]) - postgres_before.get(pid, 0.0) for pid in _postgres_pids()
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
        load = Load(
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
        what = "warm-up " if seconds == WARM_UP_SECONDS else "measured"
        console.print(
            f"  {what} {seconds:>2} s  {endpoint.label}: {load.rate:,.0f} req/s,"
            f" p99 {load.p99_ms:,.1f} ms (server ≤ {load.server_p99_ms:g} ms),"
            f" {load.errors} errors; CPU a request: workers {load.server_ms_per_request:.2f} ms,"
            f" PostgreSQL {load.postgres_ms_per_request:.2f} ms; machine"
            f" {load.machine_busy:.0%} busy: workers {server_cpu / seconds / CORES:.0%},"
            f" PostgreSQL {postgres_cpu / seconds / CORES:.0%},"
            f" wrk {load.wrk_cpu_seconds / seconds / CORES:.0%}"
        )
        return load

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
            f"{self.server.base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
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


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# The quotes written, and the plain-insert limit ---------------------------------------


def _stored_counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            "quotes": conn.exec_driver_sql("SELECT count(*) FROM quotes").scalar_one(),
            "customers": conn.exec_driver_sql(
                "SELECT count(DISTINCT customer_csn) FROM quotes"
            ).scalar_one(),
            "most_per_customer": conn.exec_driver_sql(
                "SELECT coalesce(max(n), 0) FROM"
                " (SELECT count(*) AS n FROM quotes GROUP BY customer_csn) AS per_customer"
            ).scalar_one(),
            "lines": conn.exec_driver_sql("SELECT count(*) FROM quote_lines").scalar_one(),
            "promoted": conn.exec_driver_sql(
                "SELECT count(*) FROM quote_lines WHERE promotion_code = %s", (PROMOTION,)
            ).scalar_one(),
        }


def _raw_insert_rate(db: Database) -> float:
    """Insert 1,000 of the quotes the server wrote again with plain SQL; return quotes/s.

    As the engine benchmark does (bench/run.py): per quote, one transaction with the quotes
    row (RETURNING id), the lines by executemany, the recipients, the event; into emptied
    quote tables; best of 3 rounds after a 20-quote warm-up.
    """
    columns = {table: _columns(db, table) for table in QUOTE_TABLES}
    statements = _raw_inserts(db, columns)
    rows = _stored_quotes(db, columns)[:RAW_QUOTES]

    def insert_all(batch: Sequence[RawQuote]) -> float:
        started = time.perf_counter()
        for q in batch:
            with db.engine.begin() as conn:
                quote_id = conn.exec_driver_sql(statements["quotes"], q.quote).scalar_one()
                conn.exec_driver_sql(statements["quote_lines"], [(quote_id, *r) for r in q.lines])
                conn.exec_driver_sql(
                    statements["quote_recipients"], [(quote_id, *r) for r in q.recipients]
                )
                conn.exec_driver_sql(statements["quote_events"], (quote_id, *q.event))
        return time.perf_counter() - started

    _clear_quotes(db)
    insert_all(rows[:20])
    best = float("inf")
    for _ in range(RAW_ROUNDS):
        _clear_quotes(db)
        best = min(best, insert_all(rows))
    _clear_quotes(db)
    return len(rows) / best


# Databases, the machine, the table --------------------------------------------------------


def _fresh_database(admin_url: str) -> tuple[str, str]:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            server = str(conn.exec_driver_sql("SHOW server_version").scalar_one())
            settings = ", ".join(
                f"{name} = {conn.exec_driver_sql(f'SHOW {name}').scalar_one()}"
                for name in ("synchronous_commit", "fsync", "max_connections")
            )
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
            conn.exec_driver_sql(f"CREATE DATABASE {BENCH_DATABASE}")
    finally:
        engine.dispose()
    url = make_url(admin_url).set(database=BENCH_DATABASE).render_as_string(hide_password=False)
    return url, f"{server}, local, {settings}"


def _drop_database(admin_url: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
    engine.dispose()


def _machine_table(wrk: str, server_version: str, connections: int) -> Table:
    table = Table(title="Machine", show_header=False)
    table.add_column("what")
    table.add_column("value")
    table.add_row("CPU", f"{_cpu_model()}, {CORES} cores")
    table.add_row("RAM", f"{_ram_gb():.1f} GB")
    table.add_row("Python", sys.version.split()[0])
    table.add_row("PostgreSQL", server_version)
    table.add_row(
        "server",
        f"renewquote serve --workers {WORKERS}: uvicorn {version('uvicorn')}"
        f" (uvloop {version('uvloop')}, httptools {version('httptools')}),"
        f" FastAPI {version('fastapi')}, SQLAlchemy {version('sqlalchemy')},"
        f" psycopg {version('psycopg')}",
    )
    table.add_row("code", _code_version())
    wrk_version = subprocess.run([wrk, "--version"], capture_output=True, text=True).stdout
    table.add_row(
        "load generator",
        escape(
            f"{wrk_version.split(' Copyright')[0].strip()}, {THREADS} threads,"
            f" {connections} connections, on the same machine"
        ),
    )
    table.add_row("load average", _load_average())
    return table


def _code_version() -> str:
    """Name the commit measured, and say whether src/ had changes not yet committed."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%h %s"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" + uncommitted changes in src/" if dirty else "")


def _results_table(
    args: argparse.Namespace,
    loads: dict[Endpoint, Load],
    raw_rate: float,
    checks: dict[str, Any],
    stored: dict[str, int],
) -> Table:
    healthz = loads[HEALTHZ].rate
    table = Table(
        title=f"HTTP load: wrk, {THREADS} threads, {args.connections} connections,"
        f" {args.duration} s per endpoint, against {WORKERS} workers on PostgreSQL"
    )
    columns = {
        "endpoint": "left",
        "req/s": "right",
        "p50": "right",
        "p99": "right",
        "max": "right",
        "server p99": "right",
        "errors": "right",
        "worker CPU /req": "right",
        "PostgreSQL CPU /req": "right",
        "× /healthz": "right",
        "× plain inserts": "right",
        "target": "left",
        "result": "right",
    }
    for column, justify in columns.items():
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for endpoint, load in loads.items():
        target, result = "", ""
        if endpoint.rate_target is not None and endpoint.p99_target_ms is not None:
            if endpoint.pace is None:
                target = f"≥ {endpoint.rate_target:,} req/s at most, 0 errors"
                result = _verdict(load.rate >= endpoint.rate_target and load.errors == 0)
            else:
                target = (
                    f"sustains {endpoint.rate_target:,} req/s, p99 < "
                    f"{endpoint.p99_target_ms:g} ms, 0 errors"
                )
                result = _verdict(
                    load.rate >= SUSTAINED * endpoint.rate_target
                    and load.p99_ms < endpoint.p99_target_ms
                    and load.errors == 0
                )
        table.add_row(
            endpoint.label,
            f"{load.rate:,.0f}",
            _ms(load.p50_ms),
            _ms(load.p99_ms),
            _ms(load.max_ms),
            f"≤ {load.server_p99_ms:g} ms",
            _errors(load),
            f"{load.server_ms_per_request:.2f} ms",
            f"{load.postgres_ms_per_request:.2f} ms",
            f"{load.rate / healthz:.2f}×",
            f"{load.rate / raw_rate:.2f}×" if endpoint.route == QUOTES.route else "",
            target,
            result,
        )
    table.add_row(
        "plain inserts of the same quote rows (the limit)",
        f"{raw_rate:,.0f}",
        *[""] * 8,
        "1.00×",
        "",
        "",
    )
    table.caption = (
        f"p50, p99, max: wrk's, corrected for coordinated omission. Server p99: the bucket of"
        f" the server's own histogram (RequestMetrics) holding its p99, from /metrics."
        f" Errors: non-2xx (wrk's response() and the server's count), socket errors, timeouts"
        f" (5 s). Worker CPU: user + system of both workers over the run, per request;"
        f" PostgreSQL CPU: the same for every process of the local server (its backends,"
        f" background writer, autovacuum...)."
        f" Plain inserts: per quote, one transaction with the quotes row (RETURNING id), the"
        f" {LINES_PER_QUOTE} lines by executemany, the recipient, the event, on 1 connection,"
        f" server stopped; best of {RAW_ROUNDS} rounds of {RAW_QUOTES:,} quotes the server"
        f" wrote (as bench/run.py measures its limit).\n"
        f"Book: {CUSTOMERS:,} customers × {SUBSCRIPTIONS_PER_CUSTOMER} subscriptions; one"
        f" customer's answer: {checks['groups']} groups, {checks['eligible']} eligible,"
        f" {checks['ineligible']} ineligible. Quotes stored: {stored['quotes']:,}"
        f" (the server's 2xx answers: {checks['quotes_answered']:,}) for"
        f" {stored['customers']:,} customers, at most {stored['most_per_customer']} each;"
        f" {stored['promoted']:,} of"
        f" {stored['lines']:,} lines with {PROMOTION}; one quote: {checks['quote_total']}."
        f" Warm-up: {WARM_UP_SECONDS} s per endpoint. Paced: wrk sends at the target rate"
        f" (bench/wrk/common.lua, RENEWQUOTE_PACE); it sustains the rate when it answers at"
        f" least {SUSTAINED:.0%} of it."
    )
    return table


def _ms(value: float) -> str:
    return f"{value:,.1f} ms"


def _errors(load: Load) -> str:
    if not load.errors:
        return "0"
    return (
        f"{load.errors} ({load.non2xx} non-2xx, {load.socket_errors} socket, {load.timeouts} t/o)"
    )


if __name__ == "__main__":
    sys.exit(main())
