"""Benchmark renewal groups and quote creation against what the storage itself can do.

    .venv/bin/python bench/run.py [--postgres-url URL] [--only groups|quotes]

Each figure is printed next to its limit, measured in the same run on the same engine: a plain
SQL read of the same rows for the groups, plain parametrized inserts of the same rows for the
quotes. The exit status is 0 even when a target fails: this is a report, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from statistics import median
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from book import BUYER, CUSTOMER, SUBSCRIPTIONS, create_book, quoted_ids
from renewquote.domain.model import CallerKind, ContactRole, QuoteType
from renewquote.domain.quotes import Recipient
from renewquote.domain.quoting import LineRequest
from renewquote.services.access import Caller
from renewquote.services.quoting import QuoteDraft, create_quote
from renewquote.services.renewals import renewal_groups
from renewquote.storage.database import Database

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "bench_rq"
RUNS = 5
QUOTES = 1_000
LINES_PER_QUOTE = 10
QUOTE_ROUNDS = 3
GROUPS_RATIO_LIMIT = 3.0
GROUPS_SECONDS_LIMIT = 1.0
MEMORY_LIMIT_MB = 300.0
QUOTES_SHARE_TARGET = 0.40
MB = 1024 * 1024

# The query renewquote.storage.repository.renewal_candidates builds for the customer's buyer
# (the buyer knows its company's region: no customer row is read first), written out by hand.
PLAIN_READ = (
    "SELECT s.id, s.customer_csn, s.currency, s.purchase_method, s.partner_csn, s.end_date,"
    " s.term, s.status, o.kind AS offering_kind, s.renewed_by_order"
    " FROM subscriptions s JOIN offerings o ON o.code = s.offering_code"
    " WHERE s.customer_csn = {p} ORDER BY s.end_date, s.id"
)
BARE_GROUP_BY = (
    "SELECT currency, purchase_method, partner_csn, count(*) FROM subscriptions"
    " WHERE customer_csn = {p} GROUP BY currency, purchase_method, partner_csn"
)
QUOTE_TABLES = ("quote_events", "quote_recipients", "quote_lines", "quotes")  # children first

T = TypeVar("T")
# Wide enough for the tables when the output goes to a file.
console = Console(width=None if sys.stdout.isatty() else 160)


@dataclass(frozen=True, slots=True)
class Timing:
    """Best and median wall-clock seconds of repeated runs."""

    best: float
    median: float


@dataclass(frozen=True, slots=True)
class Target:
    """A database to benchmark, or why it is skipped."""

    name: str
    url: str | None
    skipped: str | None = None
    version: str = ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks on SQLite and PostgreSQL and print one table per benchmark each."""
    args = _arguments(argv)
    if args.memory_probe:
        return _memory_probe(args.memory_probe, date.fromisoformat(args.today))
    today = date.today()
    now = datetime.now().replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="bench_rq_") as tmp:
        sqlite_target = Target("SQLite", f"sqlite:///{Path(tmp) / 'bench_rq.sqlite3'}")
        postgres_target, admin_url = (
            _postgres_target(args.postgres_url)
            if args.database in (None, "PostgreSQL")
            else (Target("PostgreSQL", None, skipped="not asked for"), None)
        )
        targets = [t for t in (sqlite_target, postgres_target) if args.database in (None, t.name)]
        console.print(_machine_table(targets))
        for target in targets:
            if target.skipped or target.url is None:
                console.print(f"[yellow]{target.name} skipped:[/] {target.skipped}")
                continue
            try:
                _benchmark(target, args.only, today, now)
            finally:
                if admin_url is not None and target is postgres_target:
                    _drop_postgres_database(admin_url)
    console.print(f"Load average at the end: {_load_average().removesuffix(' at start')}")
    return 0


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES,
        help=f"server to create the {BENCH_DATABASE} database on (default: %(default)s)",
    )
    parser.add_argument("--only", choices=("groups", "quotes"), help="run one benchmark only")
    parser.add_argument("--database", choices=("SQLite", "PostgreSQL"), help="run one database")
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    parser.add_argument("--today", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _benchmark(target: Target, only: str | None, today: date, now: datetime) -> None:
    assert target.url is not None
    db = Database(target.url)
    try:
        started = time.perf_counter()
        buyer_id = create_book(db, today)
        console.print(
            f"[bold]{target.name}[/]: migrated and loaded {SUBSCRIPTIONS:,} subscriptions"
            f" in {time.perf_counter() - started:.1f} s"
        )
        if only in (None, "groups"):
            console.print(_groups_benchmark(db, target, today))
        if only in (None, "quotes"):
            console.print(_quotes_benchmark(db, target, buyer_id, today, now))
    finally:
        db.dispose()


# Renewal groups ---------------------------------------------------------------------------


def _groups_benchmark(db: Database, target: Target, today: date) -> Table:
    p = _placeholder(db)

    def plain_read() -> list[Any]:
        with db.engine.connect() as conn:
            return list(conn.exec_driver_sql(PLAIN_READ.format(p=p), (CUSTOMER,)).fetchall())

    def bare_group_by() -> list[Any]:
        with db.engine.connect() as conn:
            return list(conn.exec_driver_sql(BARE_GROUP_BY.format(p=p), (CUSTOMER,)).fetchall())

    buyer = _buyer(db)

    def groups() -> Any:
        return renewal_groups(db, buyer, today=today)

    read, rows = _timed(plain_read)
    counted, counts = _timed(bare_group_by)
    grouped, result = _timed(groups)
    traced_mb = _traced_peak_mb(groups)
    rss_mb = _rss_growth_mb(target, today)

    ratio = grouped.best / read.best
    table = Table(title=f"Renewal groups of {SUBSCRIPTIONS:,} subscriptions: {target.name}")
    for column in ("measurement", "best of 5", "median", "× plain read", "limit", "result"):
        table.add_column(column, justify="left" if column in ("measurement", "limit") else "right")
    table.add_row(
        "plain read: one SELECT, fetchall (the limit)",
        _s(read.best),
        _s(read.median),
        "1.00×",
        "the storage",
        "",
    )
    table.add_row(
        "bare GROUP BY, counts only",
        _s(counted.best),
        _s(counted.median),
        f"{counted.best / read.best:.2f}×",
        "",
        "",
    )
    table.add_row(
        "renewal_groups, database to groups with every reason",
        _s(grouped.best),
        _s(grouped.median),
        f"{ratio:.2f}× (median {grouped.median / read.median:.2f}×)",
        f"≤ {GROUPS_RATIO_LIMIT:g}× plain read and < {GROUPS_SECONDS_LIMIT:g} s",
        _verdict(ratio <= GROUPS_RATIO_LIMIT and grouped.best < GROUPS_SECONDS_LIMIT),
    )
    table.add_row(
        "renewal_groups peak memory (tracemalloc)",
        f"{traced_mb:.0f} MB",
        "",
        "",
        f"< {MEMORY_LIMIT_MB:g} MB",
        _verdict(traced_mb < MEMORY_LIMIT_MB),
    )
    table.add_row(
        "renewal_groups peak RSS growth (own process)",
        f"{rss_mb:.0f} MB",
        "",
        "",
        f"< {MEMORY_LIMIT_MB:g} MB",
        _verdict(rss_mb < MEMORY_LIMIT_MB),
    )
    eligible = sum(len(g.subscription_ids) for g in result.groups)
    table.caption = (
        f"{len(rows):,} rows read; {len(counts)} currency × purchase method × partner"
        f" combinations; {len(result.groups):,} groups, {eligible:,} eligible,"
        f" {len(result.ineligible):,} ineligible. Best of {RUNS} after 1 warm-up."
    )
    return table


def _traced_peak_mb(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()


def _rss_growth_mb(target: Target, today: date) -> float:
    """Run renewal_groups once in a fresh process and return how much its peak RSS grew."""
    assert target.url is not None
    probe = subprocess.run(
        [sys.executable, __file__, "--memory-probe", target.url, "--today", today.isoformat()],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(probe.stdout)["growth_mb"])


def _memory_probe(url: str, today: date) -> int:
    db = Database(url)
    # Connect and run the small queries first, so only the grouping's own memory is counted.
    nobody = Caller(email="nobody@bench.example", kind=CallerKind.PARTNER, partner_csn="none")
    renewal_groups(db, nobody, today=today)
    gc.collect()
    before = _proc_status_kb("VmRSS")
    with contextlib.suppress(OSError):
        # Reset the high-water mark to the current size (Linux), so imports do not count.
        Path("/proc/self/clear_refs").write_text("5")
    result = renewal_groups(db, _buyer(db), today=today)
    peak = _proc_status_kb("VmHWM")
    db.dispose()
    print(json.dumps({"growth_mb": (peak - before) / 1024, "groups": len(result.groups)}))
    return 0


def _buyer(db: Database) -> Caller:
    """The bench customer's buyer, as the services know it."""
    from renewquote.services.auth import find_caller

    return find_caller(db, BUYER)


def _proc_status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# Quotes -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawQuote:
    """One quote's rows as the driver takes them, without ids or `quote_id` (added on insert)."""

    quote: tuple[Any, ...]
    lines: list[tuple[Any, ...]]
    recipients: list[tuple[Any, ...]]
    event: tuple[Any, ...]


def _quotes_benchmark(
    db: Database, target: Target, buyer_id: int, today: date, now: datetime
) -> Table:
    actor = Caller(
        email=BUYER,
        kind=CallerKind.CUSTOMER,
        user_id=buyer_id,
        role=ContactRole.PURCHASER,
        customer_csn=CUSTOMER,
    )
    ids = quoted_ids()
    drafts = [
        QuoteDraft(
            type=QuoteType.RENEWAL,
            lines=tuple(LineRequest(subscription_id=sid) for sid in ids[i : i + LINES_PER_QUOTE]),
            recipients=(Recipient("cfo@example.com"),),
        )
        for i in range(0, QUOTES * LINES_PER_QUOTE, LINES_PER_QUOTE)
    ]
    columns = {table: _columns(db, table) for table in QUOTE_TABLES}
    statements = _raw_inserts(db, columns)

    def through_services(batch: Sequence[QuoteDraft]) -> None:
        for draft in batch:
            create_quote(db, actor, draft, today=today, now=now)

    def raw(batch: Sequence[RawQuote]) -> None:
        for q in batch:
            with db.engine.begin() as conn:
                quote_id = conn.exec_driver_sql(statements["quotes"], q.quote).scalar_one()
                conn.exec_driver_sql(statements["quote_lines"], [(quote_id, *r) for r in q.lines])
                conn.exec_driver_sql(
                    statements["quote_recipients"], [(quote_id, *r) for r in q.recipients]
                )
                conn.exec_driver_sql(statements["quote_events"], (quote_id, *q.event))

    # Warm up both paths (statement caches, pool), then start every round from empty tables.
    through_services(drafts[:20])
    warm_rows = _stored_quotes(db, columns)
    _clear_quotes(db)
    raw(warm_rows)
    _clear_quotes(db)

    service_times: list[float] = []
    raw_times: list[float] = []
    raw_rows: list[RawQuote] = []
    identical = True
    for round_ in range(QUOTE_ROUNDS):
        service_times.append(_clock(through_services, drafts))
        _check_counts(db, "services")
        if round_ == 0:
            # The plain inserts store exactly what the services stored.
            raw_rows = _stored_quotes(db, columns)
        _clear_quotes(db)
        raw_times.append(_clock(raw, raw_rows))
        _check_counts(db, "plain SQL")
        if round_ == 0:
            identical = _stored_quotes(db, columns) == raw_rows
        _clear_quotes(db)

    service_rate, raw_rate = QUOTES / min(service_times), QUOTES / min(raw_times)
    share = service_rate / raw_rate
    median_share = (QUOTES / median(service_times)) / (QUOTES / median(raw_times))
    table = Table(
        title=f"Creating {QUOTES:,} draft renewal quotes of {LINES_PER_QUOTE} lines: {target.name}"
    )
    for column in ("measurement", "quotes/s (best)", "median", "1,000 quotes in", "share of raw"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    table.add_column("target")
    table.add_column("result", justify="right")
    table.add_row(
        "plain executemany, one transaction per quote (the limit)",
        f"{raw_rate:,.0f}",
        f"{QUOTES / median(raw_times):,.0f}",
        _s(min(raw_times)),
        "100 %",
        "",
        "",
    )
    table.add_row(
        "create_quote through the services",
        f"{service_rate:,.0f}",
        f"{QUOTES / median(service_times):,.0f}",
        _s(min(service_times)),
        f"{share:.0%} (median {median_share:.0%})",
        f"≥ {QUOTES_SHARE_TARGET:.0%} of raw",
        _verdict(share >= QUOTES_SHARE_TARGET),
    )
    table.caption = (
        f"Best of {QUOTE_ROUNDS} rounds after a warm-up, each from empty quote tables;"
        f" each quote: 1 quotes row, {LINES_PER_QUOTE} lines, 2 recipients, 1 event."
        f" Plain SQL rows identical to the services' rows: {'yes' if identical else 'NO'}."
    )
    return table


def _columns(db: Database, table: str) -> list[str]:
    """Return the columns of `table` but its id, in order, with `quote_id` first."""
    with db.engine.connect() as conn:
        names = list(conn.exec_driver_sql(f"SELECT * FROM {table} WHERE 1 = 0").keys())
    names.remove("id")
    if "quote_id" in names:
        names.remove("quote_id")
        names.insert(0, "quote_id")
    return names


def _raw_inserts(db: Database, columns: dict[str, list[str]]) -> dict[str, str]:
    p = _placeholder(db)
    statements = {}
    for table, names in columns.items():
        values = ", ".join(p for _ in names)
        returning = " RETURNING id" if table == "quotes" else ""
        statements[table] = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({values}){returning}"
    return statements


def _stored_quotes(db: Database, columns: dict[str, list[str]]) -> list[RawQuote]:
    """Read back every stored quote's rows as the driver gives them, to insert them again."""

    def rows(conn: Connection, table: str, order: str) -> dict[int, list[tuple[Any, ...]]]:
        names = columns[table]
        key = "id" if table == "quotes" else "quote_id"
        found: dict[int, list[tuple[Any, ...]]] = {}
        query = f"SELECT {key}, {', '.join(names)} FROM {table} ORDER BY {order}"
        for row in conn.exec_driver_sql(query):
            values = tuple(_driver_value(v) for v in row[1:])
            found.setdefault(row[0], []).append(values[1:] if key == "quote_id" else values)
        return found

    with db.engine.connect() as conn:
        quotes = rows(conn, "quotes", "id")
        lines = rows(conn, "quote_lines", "quote_id, position")
        recipients = rows(conn, "quote_recipients", "quote_id, id")
        events = rows(conn, "quote_events", "quote_id, id")
    return [RawQuote(quotes[i][0], lines[i], recipients[i], events[i][0]) for i in sorted(quotes)]


def _driver_value(value: Any) -> Any:
    # PostgreSQL hands JSON back parsed; it goes in as text.
    return json.dumps(value) if isinstance(value, dict | list) else value


def _check_counts(db: Database, path: str) -> None:
    expected = {
        "quotes": QUOTES,
        "quote_lines": QUOTES * LINES_PER_QUOTE,
        "quote_recipients": QUOTES * 2,
        "quote_events": QUOTES,
    }
    with db.engine.connect() as conn:
        found = {
            t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one() for t in expected
        }
    if found != expected:
        raise RuntimeError(f"{path} stored {found}, expected {expected}")


def _clear_quotes(db: Database) -> None:
    with db.engine.begin() as conn:
        for table in QUOTE_TABLES:
            conn.exec_driver_sql(f"DELETE FROM {table}")
    if not db.is_sqlite:
        # Leave no dead rows behind for the next round to step over.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM ANALYZE {', '.join(QUOTE_TABLES)}")


# Databases, the machine, and the printing -----------------------------------------------


def _postgres_target(admin_url: str) -> tuple[Target, str | None]:
    """Create a fresh bench database on the server, or say why PostgreSQL is skipped."""
    if not admin_url:
        return Target("PostgreSQL", None, skipped="no --postgres-url"), None
    try:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            version = str(conn.exec_driver_sql("SHOW server_version").scalar_one())
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
            conn.exec_driver_sql(f"CREATE DATABASE {BENCH_DATABASE}")
        engine.dispose()
    except SQLAlchemyError as error:
        reason = f"{make_url(admin_url).render_as_string()} unreachable: {error.__cause__ or error}"
        return Target("PostgreSQL", None, skipped=reason.splitlines()[0]), None
    url = make_url(admin_url).set(database=BENCH_DATABASE).render_as_string(hide_password=False)
    return Target("PostgreSQL", url, version=version), admin_url


def _drop_postgres_database(admin_url: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
    engine.dispose()


def _machine_table(targets: Sequence[Target]) -> Table:
    table = Table(title="Machine", show_header=False)
    table.add_column("what")
    table.add_column("value")
    table.add_row("CPU", _cpu_model())
    table.add_row("cores", str(os.cpu_count()))
    table.add_row("RAM", f"{_ram_gb():.1f} GB")
    table.add_row("Python", f"{platform.python_implementation()} {platform.python_version()}")
    table.add_row("SQLite", sqlite3.sqlite_version)
    for target in targets:
        if target.name == "PostgreSQL":
            table.add_row("PostgreSQL", target.version or "skipped (reason below)")
    table.add_row("load average", _load_average())
    return table


def _load_average() -> str:
    # Other work on the machine moves the figures; say how busy it was.
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min) at start"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def _placeholder(db: Database) -> str:
    return "?" if db.engine.dialect.paramstyle == "qmark" else "%s"


def _timed(fn: Callable[[], T]) -> tuple[Timing, T]:
    """Run `fn` once to warm up, then RUNS times; return the timing and the last result."""
    result = fn()
    times = []
    for _ in range(RUNS):
        del result
        gc.collect()
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return Timing(min(times), median(times)), result


def _clock(fn: Callable[[T], object], arg: T) -> float:
    gc.collect()
    started = time.perf_counter()
    fn(arg)
    return time.perf_counter() - started


def _s(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _verdict(passed: bool) -> str:
    return "[bold green]PASS[/]" if passed else "[bold red]FAIL[/]"


if __name__ == "__main__":
    sys.exit(main())
