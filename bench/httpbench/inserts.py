"""The quotes the server wrote: how many, and how fast plain SQL inserts them again (the limit)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from book import ANNUAL_PROMOTION
from renewquote.storage.database import Database

# The engine benchmark's own helpers, so the plain-insert limit is measured as it measures it.
from run import QUOTE_TABLES, RawQuote, _clear_quotes, _columns, _raw_inserts, _stored_quotes

RAW_QUOTES = 1_000
RAW_ROUNDS = 3


def stored_counts(db: Database) -> dict[str, int]:
    """Count the quotes stored, the customers they are for, their lines and promoted lines."""
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
                "SELECT count(*) FROM quote_lines WHERE promotion_code = %s", (ANNUAL_PROMOTION,)
            ).scalar_one(),
        }


def raw_insert_rate(db: Database) -> float:
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
