"""Who is acting: a customer's contact, a partner's user, or the vendor's staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.model import Channel, ContactRole
from renewquote.storage.database import Database
from renewquote.storage.tables import users


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in person on whose behalf a service acts."""

    email: str
    kind: str  # customer | partner | staff
    user_id: int | None = None
    role: str | None = None
    customer_csn: str | None = None
    partner_csn: str | None = None

    @property
    def channel(self) -> Channel:
        """Return the quoting channel this actor uses."""
        return {"customer": Channel.SELF_SERVICE, "partner": Channel.PARTNER}.get(
            self.kind, Channel.STAFF
        )

    @property
    def may_buy(self) -> bool:
        """Tell whether the actor may quote and order (customer users may only read)."""
        return self.kind != "customer" or self.role in (ContactRole.PURCHASER, ContactRole.ADMIN)

    def require_buyer(self) -> None:
        """Refuse a read-only customer user."""
        if not self.may_buy:
            raise RuleViolation.one(
                Code.FORBIDDEN, why="only purchasers and admins quote and order"
            )


def actor_by_email(conn: Connection, email: str) -> Actor:
    """Return the actor for `email`, or `not_found`."""
    row = conn.execute(
        select(users).where(func.lower(users.c.email) == email.lower())
    ).one_or_none()
    if row is None:
        raise RuleViolation.one(Code.NOT_FOUND, thing="user")
    return actor_from_row(row)


def actor_from_row(row: Any) -> Actor:
    """Build the actor of a `users` row (or of any row with its columns)."""
    return Actor(
        email=row.email,
        kind=row.kind,
        user_id=row.id,
        role=row.role,
        customer_csn=row.customer_csn,
        partner_csn=row.partner_csn,
    )


def find_actor(db: Database, email: str) -> Actor:
    """Return the actor for `email` in its own read transaction."""
    with db.read() as conn:
        return actor_by_email(conn, email)
