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

The parts are in bench/httpbench/: fixtures, server, cpu, load, inserts, report.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from book import HTTP_BOOK
from httpbench.fixtures import (
    BENCH_DATABASE,
    DEFAULT_POSTGRES,
    drop_database,
    fresh_database,
    load_book,
    write_customers,
)
from httpbench.inserts import raw_insert_rate, stored_counts
from httpbench.load import ENDPOINTS, QUOTES, WARM_UP_SECONDS, Wrk, first_requests
from httpbench.report import (
    console,
    failures,
    machine_table,
    results_table,
    run_line,
    server_line,
)
from httpbench.server import serve
from renewquote.storage.database import Database
from run import _load_average

INSTALL_WRK = "apt-get update && apt-get install -y wrk   (Debian's package, as root)"


def main(argv: Sequence[str] | None = None) -> int:
    """Load the book, start the server, run wrk on each endpoint and print one table."""
    args = _arguments(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        console.print(f"[bold red]wrk is not installed.[/] Install it with:\n    {INSTALL_WRK}")
        return 2
    try:
        url, server_version = fresh_database(args.postgres_url)
    except SQLAlchemyError as error:
        console.print(f"[bold red]PostgreSQL unreachable:[/] {error.__cause__ or error}")
        return 2
    console.print(machine_table(wrk, server_version, args.connections))
    try:
        with tempfile.TemporaryDirectory(prefix="bench_http_") as tmp:
            _benchmark(args, url, wrk, Path(tmp))
    finally:
        if not args.keep_database:
            drop_database(args.postgres_url)
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
        tokens = load_book(db)
        data = tmp / "customers.txt"
        write_customers(data, tokens)
        console.print(
            f"Migrated {BENCH_DATABASE} and loaded {HTTP_BOOK.customers:,} customers,"
            f" {HTTP_BOOK.subscriptions:,} subscriptions and {len(tokens):,}"
            f" bearer tokens in {time.perf_counter() - started:.1f} s"
        )
        with serve(url, tmp) as server:
            console.print(server_line(server))
            checks = first_requests(server.base, tokens[0])
            runner = Wrk(wrk, server, data, args.connections)
            for endpoint in ENDPOINTS:
                load = runner.run(endpoint, WARM_UP_SECONDS, offset=0)
                console.print(run_line(endpoint, load, WARM_UP_SECONDS))
            loads = {}
            for endpoint in ENDPOINTS:
                loads[endpoint] = runner.run(
                    endpoint, args.duration, offset=HTTP_BOOK.customers // 2
                )
                console.print(run_line(endpoint, loads[endpoint], args.duration))
            checks["quotes_answered"] = runner.settled_2xx(QUOTES)
        stored = stored_counts(db)
        raw_rate = raw_insert_rate(db)
    finally:
        db.dispose()
    console.print(results_table(args.connections, args.duration, loads, raw_rate, checks, stored))
    for line in failures(loads):
        console.print(line)


if __name__ == "__main__":
    sys.exit(main())
