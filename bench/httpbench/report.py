"""What the HTTP benchmark prints: the machine, a line a wrk run, the results and verdicts."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from book import ANNUAL_PROMOTION, HTTP_BOOK, QUOTED_EACH
from httpbench.cpu import CORES
from httpbench.inserts import RAW_QUOTES, RAW_ROUNDS
from httpbench.load import ENDPOINTS, HEALTHZ, QUOTES, THREADS, WARM_UP_SECONDS, Endpoint, Load
from httpbench.server import WORKERS, Server
from run import _cpu_model, _load_average, _ram_gb, _verdict

# A paced run sustains its rate when it answers at least this share of it.
SUSTAINED = 0.98
# Wide enough for the tables when the output goes to a file.
console = Console(width=None if sys.stdout.isatty() else 170)


def machine_table(wrk: str, server_version: str, connections: int) -> Table:
    """Describe the machine, the server, the code measured and the load generator."""
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
    root = Path(__file__).resolve().parents[2]
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


def server_line(server: Server) -> str:
    """Say which server answers where, and its processes."""
    return (
        f"Server: renewquote {server.command} (pid {server.pid}, workers"
        f" {', '.join(map(str, server.workers))}) at {server.base}"
    )


def run_line(endpoint: Endpoint, load: Load, seconds: int) -> str:
    """Summarize one wrk run of `seconds` as it ends: rate, p99, errors, where the CPU went."""
    what = "warm-up " if seconds == WARM_UP_SECONDS else "measured"
    return (
        f"  {what} {seconds:>2} s  {endpoint.label}: {load.rate:,.0f} req/s,"
        f" p99 {load.p99_ms:,.1f} ms (server ≤ {load.server_p99_ms:g} ms),"
        f" {load.errors} errors; CPU a request: workers {load.server_ms_per_request:.2f} ms,"
        f" PostgreSQL {load.postgres_ms_per_request:.2f} ms; machine"
        f" {load.machine_busy:.0%} busy: workers {load.server_cpu_seconds / seconds / CORES:.0%},"
        f" PostgreSQL {load.postgres_cpu_seconds / seconds / CORES:.0%},"
        f" wrk {load.wrk_cpu_seconds / seconds / CORES:.0%}"
    )


def results_table(
    connections: int,
    duration: int,
    loads: dict[Endpoint, Load],
    raw_rate: float,
    checks: dict[str, Any],
    stored: dict[str, int],
) -> Table:
    """One row a wrk run and one for the plain inserts, then a verdict row a /healthz ratio."""
    healthz = loads[HEALTHZ].rate
    table = Table(
        title=f"HTTP load: wrk, {THREADS} threads, {connections} connections,"
        f" {duration} s per endpoint, against {WORKERS} workers on PostgreSQL"
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
    for endpoint in ENDPOINTS:
        if endpoint.healthz_ratio_target is None or endpoint not in loads:
            continue
        ratio = loads[endpoint].rate / healthz
        table.add_row(
            f"{endpoint.label.split(',')[0]} unpaced ÷ /healthz, same run",
            *[""] * 8,
            f"{ratio:.2f}×",
            "",
            f"≥ {endpoint.healthz_ratio_target:.2f}× /healthz",
            _verdict(ratio >= endpoint.healthz_ratio_target),
        )
    table.caption = (
        f"p50, p99, max: wrk's, corrected for coordinated omission. Server p99: the bucket of"
        f" the server's own histogram (RequestMetrics) holding its p99, from /metrics."
        f" Errors: non-2xx (wrk's response() and the server's count), socket errors, timeouts"
        f" (5 s). Worker CPU: user + system of both workers over the run, per request;"
        f" PostgreSQL CPU: the same for every process of the local server (its backends,"
        f" background writer, autovacuum...)."
        f" Plain inserts: per quote, one transaction with the quotes row (RETURNING id), the"
        f" {QUOTED_EACH} lines by executemany, the recipient, the event, on 1 connection,"
        f" server stopped; best of {RAW_ROUNDS} rounds of {RAW_QUOTES:,} quotes the server"
        f" wrote (as bench/run.py measures its limit).\n"
        f"Book: {HTTP_BOOK.customers:,} customers × {HTTP_BOOK.subscriptions_each} subscriptions;"
        f" one customer's answer: {checks['groups']} groups, {checks['eligible']} eligible,"
        f" {checks['ineligible']} ineligible. Quotes stored: {stored['quotes']:,}"
        f" (the server's 2xx answers: {checks['quotes_answered']:,}) for"
        f" {stored['customers']:,} customers, at most {stored['most_per_customer']} each;"
        f" {stored['promoted']:,} of"
        f" {stored['lines']:,} lines with {ANNUAL_PROMOTION}; one quote: {checks['quote_total']}."
        f" Warm-up: {WARM_UP_SECONDS} s per endpoint. Paced: wrk sends at the target rate"
        f" (bench/wrk/common.lua, RENEWQUOTE_PACE); it sustains the rate when it answers at"
        f" least {SUSTAINED:.0%} of it. Last rows: each API call's unpaced rate over /healthz's,"
        f" both measured in this run."
    )
    return table


def failures(loads: dict[Endpoint, Load]) -> list[str]:
    """Return the first failing answer of each run that had one, to print under the table."""
    return [
        f"[red]{endpoint.label}, first failure:[/] {escape(load.first_failure)}"
        for endpoint, load in loads.items()
        if load.first_failure
    ]


def _ms(value: float) -> str:
    return f"{value:,.1f} ms"


def _errors(load: Load) -> str:
    if not load.errors:
        return "0"
    return (
        f"{load.errors} ({load.non2xx} non-2xx, {load.socket_errors} socket, {load.timeouts} t/o)"
    )
