"""PostgreSQL reads from the event loop (`Database.connected`) give their connection back to
the pool clean, whatever the statements left it in."""

from __future__ import annotations

import asyncio

from psycopg.pq import TransactionStatus

from renewquote.storage.database import Database


def test_a_connection_left_in_a_transaction_or_closed_comes_back_usable(
    postgres_url: str,
) -> None:
    db = Database(postgres_url)

    async def run() -> list[object]:
        seen: list[object] = []
        try:
            async with db.connected() as link:
                await link.conn.execute("BEGIN")
                await link.conn.execute("CREATE TEMPORARY TABLE left_open (x int)")
                seen.append(link.conn.info.transaction_status)
            async with db.connected() as link:
                # The same connection (the pool holds one): rolled back, its table gone.
                seen.append(link.conn.info.transaction_status)
                found = await link.fetch("SELECT to_regclass('pg_temp.left_open')", {}, tuple)
                seen.append(found)
                await link.conn.close()
            async with db.connected() as link:
                seen.append(await link.fetch("SELECT 1", {}, tuple))
        finally:
            await db.close_async()
        return seen

    try:
        seen = asyncio.run(run())
    finally:
        db.dispose()
    assert seen == [TransactionStatus.INTRANS, TransactionStatus.IDLE, [(None,)], [(1,)]]
