"""Users, their bearer tokens, and the failed sign-ins counted against guessing."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, case, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from renewquote.domain.model import CallerKind, ContactRole, Region
from renewquote.storage.tables import api_tokens, countries, customers, sign_in_throttles, users
from renewquote.storage.types import AnyRow


class Account(NamedTuple):
    """A user as the services see it (the password's hash only where asked for)."""

    id: int
    email: str
    kind: CallerKind
    role: ContactRole | None
    customer_csn: str | None
    partner_csn: str | None
    language: str | None = None
    # A customer's contact: its company's region, which lists of renewals judge.
    region: Region | None = None


_ACCOUNT_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.kind,
    users.c.role,
    users.c.customer_csn,
    users.c.partner_csn,
    users.c.language,
    customers.c.country,
    countries.c.self_service_quotes,
)
# Users with their company's country, if they are a customer's contacts.
_ACCOUNTS = users.outerjoin(customers, customers.c.csn == users.c.customer_csn).outerjoin(
    countries, countries.c.code == customers.c.country
)


def _account(row: AnyRow) -> Account:
    return Account(
        id=row.id,
        email=row.email,
        kind=CallerKind(row.kind),
        role=None if row.role is None else ContactRole(row.role),
        customer_csn=row.customer_csn,
        partner_csn=row.partner_csn,
        language=row.language,
        region=None if row.country is None else Region(row.country, bool(row.self_service_quotes)),
    )


def account_by_email(conn: Connection, email: str) -> tuple[Account, str | None] | None:
    """Return the user with this e-mail (whatever its case) and its password's hash."""
    row = conn.execute(_BY_EMAIL, {"email": email.lower()}).first()
    return None if row is None else (_account(row), row.password_hash)


_BY_EMAIL = (
    select(*_ACCOUNT_COLUMNS, users.c.password_hash)
    .select_from(_ACCOUNTS)
    .where(func.lower(users.c.email) == bindparam("email"))
)


def token_owner(
    conn: Connection, token_hash: str, now: datetime
) -> tuple[Account, datetime] | None:
    """Return the user a token (by its hash) belongs to and when it expires, if it is neither
    revoked nor expired."""
    row = conn.execute(_TOKEN_OWNER, {"hash": token_hash, "now": now}).first()
    return None if row is None else (_account(row), row.expires_at)


# Built once: every request whose token this process has not seen lately runs it.
_TOKEN_OWNER = (
    select(*_ACCOUNT_COLUMNS, api_tokens.c.expires_at)
    .select_from(_ACCOUNTS.join(api_tokens, api_tokens.c.user_id == users.c.id))
    .where(
        api_tokens.c.token_hash == bindparam("hash"),
        api_tokens.c.revoked_at.is_(None),
        api_tokens.c.expires_at > bindparam("now"),
    )
)


def insert_token(
    conn: Connection, user_id: int, token_hash: str, *, now: datetime, expires_at: datetime
) -> None:
    """Store a new token by its hash."""
    conn.execute(
        insert(api_tokens),
        {
            "token_hash": token_hash,
            "user_id": user_id,
            "created_at": now,
            "expires_at": expires_at,
            "revoked_at": None,
        },
    )


def revoke_token(conn: Connection, token_hash: str, now: datetime) -> None:
    """Revoke a token (by its hash) at once."""
    conn.execute(
        update(api_tokens)
        .where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


class Throttle(NamedTuple):
    """The failed sign-ins counted for one subject."""

    subject: str
    failures: int
    last_failure_at: datetime | None


def throttles(conn: Connection, subjects: Collection[str]) -> dict[str, Throttle]:
    """Return the throttle of each subject, created empty where missing, each row locked until
    the transaction ends (in subject order, so two attempts never wait on each other in a
    circle): concurrent attempts on one subject are judged one after the other."""
    wanted = sorted(subjects)
    rows = [{"subject": s, "failures": 0, "last_failure_at": None} for s in wanted]
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(sign_in_throttles).on_conflict_do_nothing(), rows)
    else:
        conn.execute(sqlite.insert(sign_in_throttles).on_conflict_do_nothing(), rows)
    query = (
        select(sign_in_throttles)
        .where(sign_in_throttles.c.subject.in_(wanted))
        .order_by(sign_in_throttles.c.subject)
        .with_for_update()
    )
    return {row.subject: Throttle(*row) for row in conn.execute(query)}


def count_failures(conn: Connection, counts: Mapping[str, int], now: datetime) -> None:
    """Set the failures of each subject to its count, the last one now."""
    conn.execute(
        update(sign_in_throttles)
        .where(sign_in_throttles.c.subject == bindparam("key"))
        .values(failures=bindparam("count"), last_failure_at=now),
        [{"key": subject, "count": count} for subject, count in counts.items()],
    )


def forgive(conn: Connection, subject: str, by: int | None = None) -> None:
    """Take back `by` failures of a subject (all of them when None), after a right password."""
    failures = sign_in_throttles.c.failures
    remaining = 0 if by is None else case((failures > by, failures - by), else_=0)
    conn.execute(
        update(sign_in_throttles)
        .where(sign_in_throttles.c.subject == subject)
        .values(failures=remaining)
    )


def forget_failures_before(conn: Connection, moment: datetime) -> None:
    """Delete the counts of subjects whose last failure is older than `moment`."""
    conn.execute(_FORGET, {"moment": moment})


_FORGET = delete(sign_in_throttles).where(sign_in_throttles.c.last_failure_at < bindparam("moment"))


def set_language(conn: Connection, user_id: int, language: str) -> None:
    """Keep the portal's language a user chose."""
    conn.execute(update(users).where(users.c.id == user_id).values(language=language))
