"""Whether the service can work: its database answers."""

from __future__ import annotations

from sqlalchemy import literal, select

from renewquote.storage.database import Database


def database_answers(db: Database) -> None:
    """Run the smallest query there is; its failure is the answer."""
    with db.read() as conn:
        conn.execute(_PING).one()


_PING = select(literal(1))
