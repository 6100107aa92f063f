"""A fresh PostgreSQL database holding the HTTP benchmark's book, and a bearer token a customer."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, make_url, select

from book import HTTP_BOOK, QUOTED_EACH, insert_book
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

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "bench_http"

# One customer as wrk sees it: its buyer's bearer token and the subscriptions its quote renews.
CustomerTokens = tuple[str, list[str]]


def fresh_database(admin_url: str) -> tuple[str, str]:
    """Create an empty bench database on the server; return its URL and the server's version."""
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


def drop_database(admin_url: str) -> None:
    """Drop the bench database, whoever is still connected to it."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
    engine.dispose()


def load_book(db: Database) -> list[CustomerTokens]:
    """Migrate and load the book; return each customer's token and quoted subscriptions."""
    upgrade(db)
    now = utcnow()
    with db.engine.begin() as conn:
        insert_book(conn, HTTP_BOOK, now.date(), copy=True)
        user_ids = dict(conn.execute(select(users.c.customer_csn, users.c.id)).all())
        tokens = []
        rows = []
        for n in range(1, HTTP_BOOK.customers + 1):
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
            tokens.append((token, [HTTP_BOOK.sid(n, k) for k in range(1, QUOTED_EACH + 1)]))
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


def write_customers(path: Path, tokens: list[CustomerTokens]) -> None:
    """Write the wrk scripts' data file: one customer a line, "token sid1 sid2 ..."."""
    path.write_text("".join(f"{token} {' '.join(sids)}\n" for token, sids in tokens))
