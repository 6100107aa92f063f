"""Portal pages under `renewquote serve --workers 2` on PostgreSQL: the time a page takes,
against the same server's bare /healthz in the same run.

One customer holds 500 subscriptions, the first 100 renewable today (one renewal group), the
other 400 not yet in their renewal window. Measured, each one request at a time over one
kept-alive connection (so the figure is the server's time plus a loopback round trip), after
a warm-up: GET /billing/subscriptions (500 rows), GET /billing/renew (the group of 100 ticked,
400 listed apart with their reason), and the review's reprice (POST of a draft's terms and
seats, as htmx sends it, answered with the review's block) for a 10-line and a 100-line quote.
Target (issue 11): p95 under 50 ms for each page.

    .venv/bin/python bench/portal.py [--requests 200] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from random import Random

import httpx2
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from book import HTTP_BOOK, Book, Subscription, insert_book
from httpbench.fixtures import drop_database, fresh_database
from httpbench.server import serve
from renewquote.clock import utcnow
from renewquote.services.auth import issue_token
from renewquote.storage.database import Database
from renewquote.storage.migrate import upgrade

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_MS = 50.0
RENEWABLE = 100
console = Console()


def hundred_then_later(n: int, k: int, today: date, rng: Random) -> Subscription:
    """The first 100 renewable today (EUR, bought direct, annual); the rest end 200 to 400
    days from now, so their renewal window is not open yet."""
    if k <= RENEWABLE:
        return Subscription(
            offering="ACDLT" if k % 2 else "RVT",
            term="annual",
            end=today + timedelta(days=1 + k % 80),
            quantity=1 + k % 20,
        )
    return Subscription(
        offering="ACDLT" if k % 2 else "RVT",
        term="annual",
        end=today + timedelta(days=200 + k % 200),
        quantity=1 + k % 20,
    )


PORTAL_BOOK = Book(
    customers=1,
    subscriptions_each=500,
    mix=hundred_then_later,
    promotions=HTTP_BOOK.promotions,  # 15 % off annual renewals: shown on every line
    subscription_id="SUB-{k:04d}",
    customer_name="Atelier Dupont",
    buyer="marie@dupont.example",
    buyer_name="Marie",
    admin=None,
    partner_name="CAD Partenaire",
)


def timed(client: httpx2.Client, count: int, send) -> list[float]:  # type: ignore[no-untyped-def]
    for _ in range(10):
        send(client)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        answer = send(client)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{answer.request.url} answered {answer.status_code}")
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=100)[94]


def draft_of(client: httpx2.Client, csrf: str, ids: list[str]) -> str:
    made = client.post(
        "/billing/renew",
        data={"csrf": csrf, "subscription": ids, "option": "quote"},
        follow_redirects=False,
    )
    if made.status_code != 303:
        raise SystemExit(f"no draft: {made.status_code} {made.text[:300]}")
    return str(made.headers["location"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url", default=os.environ.get("RENEWQUOTE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests a page")
    args = parser.parse_args()

    url, server_version = fresh_database(args.postgres_url)
    db = Database(url)
    try:
        upgrade(db)
        today = utcnow().date()
        with db.engine.begin() as conn:
            insert_book(conn, PORTAL_BOOK, today, copy=True)
        token = issue_token(db, PORTAL_BOOK.buyer, now=utcnow()).access_token
        db.dispose()
        with tempfile.TemporaryDirectory() as tmp, serve(url, Path(tmp)) as server:
            rows = measure(server.base, token, args.requests)
    finally:
        db.dispose()
        drop_database(args.postgres_url)

    machine = Table(title="Machine", show_header=False)
    machine.add_row("CPU", f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    machine.add_row("Python", platform.python_version())
    machine.add_row("PostgreSQL", server_version)
    console.print(machine)
    table = Table(title=f"Portal pages, {args.requests} requests each, one at a time")
    for name in ("page", "p50", "p95", "p95 / healthz p95", "target", "result"):
        table.add_column(name, justify="left" if name in ("page", "target") else "right")
    health = rows[0][2]
    for name, p50, p95_ms, target in rows:
        ok = p95_ms < TARGET_MS
        table.add_row(
            name,
            f"{p50:.1f} ms",
            f"{p95_ms:.1f} ms",
            f"{p95_ms / health:.1f}×",
            target,
            ("PASS" if ok else "FAIL") if target else "",
        )
    console.print(table)
    console.print(f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def measure(base: str, token: str, count: int) -> list[tuple[str, float, float, str]]:
    rows: list[tuple[str, float, float, str]] = []
    with httpx2.Client(base_url=base, cookies={"rq_session": token}, timeout=30) as client:
        page = client.get("/billing/renew")
        csrf_found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if page.status_code != 200 or csrf_found is None:
            raise SystemExit(f"the renew page answered {page.status_code}")
        csrf = csrf_found.group(1)
        client.cookies.set("rq_form", csrf)
        ticked = re.findall(r'name="subscription" value="([^"]+)" checked', page.text)
        if len(ticked) != RENEWABLE:
            raise SystemExit(f"expected {RENEWABLE} renewable subscriptions, found {len(ticked)}")
        reviews = {n: draft_of(client, csrf, ticked[:n]) for n in (10, RENEWABLE)}

        def get(path: str):  # type: ignore[no-untyped-def]
            return lambda c: c.get(path)

        def reprice(address: str, ids: list[str]):  # type: ignore[no-untyped-def]
            flip = {"n": 0}

            def send(c: httpx2.Client) -> httpx2.Response:
                flip["n"] += 1
                term = "3-year" if flip["n"] % 2 else "annual"
                # Terms flipped between annual and 3-year, seats left as they are.
                fields = {"csrf": csrf, **{f"term-{sid}": term for sid in ids}}
                return c.post(
                    address, data=fields, headers={"HX-Request": "true", "HX-Target": "review"}
                )

            return send

        plan = [
            ("/healthz", get("/healthz"), ""),
            ("Subscriptions and contracts (500 rows)", get("/billing/subscriptions"), "< 50 ms"),
            ("Renew (100 renewable, 400 not)", get("/billing/renew"), "< 50 ms"),
            ("review's reprice, 10 lines", reprice(reviews[10], ticked[:10]), "< 50 ms"),
            ("review's reprice, 100 lines", reprice(reviews[RENEWABLE], ticked), "< 50 ms"),
        ]
        for name, send, target in plan:
            times = timed(client, count, send)
            rows.append((name, statistics.median(times), p95(times), target))
    return rows


if __name__ == "__main__":
    main()
