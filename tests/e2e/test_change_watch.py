"""A worker keeps who a bearer token belongs to. On PostgreSQL it listens for changes to users
and tokens made anywhere (another worker, `renewquote load`, plain SQL) and forgets them at once,
so it may keep them for minutes; on SQLite, where nothing tells it, ten seconds at most."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, text, update

from renewquote.api import dependencies
from renewquote.api.change_watch import ChangeWatch
from renewquote.api.dependencies import TOKENS, caller_of, remember, watched
from renewquote.domain.model import CallerKind, ContactRole
from renewquote.services.access import Caller
from renewquote.services.auth import token_hash
from renewquote.storage.database import Database
from renewquote.storage.tables import api_tokens, countries, customers, users
from tests.book import NOW

GROUPS = "/api/v1/renewal-groups"
CALLER = Caller("x@y.example", CallerKind.CUSTOMER, 7, ContactRole.PURCHASER, "5200000001", None)


def until(condition, seconds: float = 5.0) -> bool:
    """Tell whether `condition()` comes true within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def life_left(token: str) -> float:
    return float(TOKENS[token][-1] - time.monotonic())


def test_a_token_revoked_by_another_process_is_refused_at_once_on_postgresql(
    book: Database, client, auth
):
    headers = auth("marie@dupont.example")
    token = headers["Authorization"].removeprefix("Bearer ")
    # A SQLite server starts no watch (one a PostgreSQL test started ends within half a second).
    assert until(lambda: watched() != book.is_sqlite)
    assert client.get(GROUPS, headers=headers).status_code == 200
    assert token in TOKENS  # kept: the next call reads no token from the database
    if book.is_sqlite:
        # Nothing tells a SQLite server of changes: it keeps a caller ten seconds at most.
        assert 0 < life_left(token) <= dependencies.TOKEN_CACHE_SECONDS
        return
    assert client.get(GROUPS, headers=headers).status_code == 200
    assert life_left(token) > dependencies.TOKEN_CACHE_SECONDS  # kept longer while listening
    # Revoked as another worker would, without this process's forget_token.
    with book.write() as conn:
        conn.execute(
            update(api_tokens)
            .where(api_tokens.c.token_hash == token_hash(token))
            .values(revoked_at=datetime(2026, 1, 1))
        )
    assert until(lambda: token not in TOKENS), "the revocation was not heard"
    refused = client.get(GROUPS, headers=headers)
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthenticated"


def test_a_change_to_users_anywhere_empties_the_cache_on_postgresql(book: Database, client, auth):
    headers = auth("anne@partner.example")
    assert until(lambda: watched() != book.is_sqlite)
    answer = client.get(GROUPS, headers=headers, params={"customer_csn": "5200000003"})
    assert answer.status_code == 200
    token = headers["Authorization"].removeprefix("Bearer ")
    assert token in TOKENS
    if book.is_sqlite:
        assert not until(lambda: token not in TOKENS, seconds=0.3)  # no one tells SQLite
        return
    with book.write() as conn:  # the language a user chose, changed by another worker
        conn.execute(
            update(users).where(users.c.email == "anne@partner.example").values(language="fr")
        )
    assert until(lambda: token not in TOKENS), "the change to users was not heard"


def test_a_kept_caller_lists_with_its_region_and_reads_no_customer(book: Database, client, auth):
    headers = auth("marie@dupont.example")
    # A watch that starts listening forgets every caller: wait for it (PostgreSQL) first.
    assert until(lambda: watched() != book.is_sqlite)
    assert client.get(GROUPS, headers=headers).status_code == 200  # now kept
    token = headers["Authorization"].removeprefix("Bearer ")
    assert TOKENS[token][7:9] == ("FR", True)  # the company's country and self-service flag
    statements: list[str] = []

    def collect(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(book.reader, "before_cursor_execute", collect)
    try:
        assert client.get(GROUPS, headers=headers).json()["data"]
    finally:
        event.remove(book.reader, "before_cursor_execute", collect)
    assert len(statements) == 1 and "FROM customers" not in statements[0]  # the candidates


# A country that stops self-service, or a customer moved to a country without it.
REGION_CHANGES = {
    "country": update(countries).where(countries.c.code == "FR").values(self_service_quotes=False),
    "customer": update(customers).where(customers.c.csn == "5200000001").values(country="BR"),
}


@pytest.mark.parametrize("change", REGION_CHANGES)
def test_a_region_change_is_seen_by_the_next_list_on_postgresql(
    book: Database, client, auth, change: str
):
    headers = auth("marie@dupont.example")  # a contact of a French customer
    assert until(lambda: watched() != book.is_sqlite)
    first = client.get(GROUPS, headers=headers)
    assert first.status_code == 200 and first.json()["data"]
    token = headers["Authorization"].removeprefix("Bearer ")
    assert token in TOKENS  # kept with its company's region
    if book.is_sqlite:
        # No one tells SQLite: the region is kept with the caller, ten seconds at most.
        assert not until(lambda: token not in TOKENS, seconds=0.3)
        return
    with book.write() as conn:  # as `renewquote load` or an administrator would
        conn.execute(REGION_CHANGES[change])
    assert until(lambda: token not in TOKENS), f"the change to the {change} was not heard"
    second = client.get(GROUPS, headers=headers).json()
    assert second["data"] == []
    assert {r["code"] for i in second["ineligible"] for r in i["reasons"]} >= {"region_not_enabled"}


def test_a_caller_read_while_the_cache_is_emptied_is_not_kept(book: Database, auth, monkeypatch):
    token = auth("marie@dupont.example")["Authorization"].removeprefix("Bearer ")
    read = dependencies.token_caller

    def read_while_changed(*args, **kwargs):
        found = read(*args, **kwargs)
        dependencies.forget_all()  # a change heard between the read and the keeping
        return found

    monkeypatch.setattr(dependencies, "token_caller", read_while_changed)
    caller = asyncio.run(caller_of(book, token, NOW))
    assert caller.email == "marie@dupont.example"
    assert token not in TOKENS  # it may predate the change: checked again next time
    monkeypatch.setattr(dependencies, "token_caller", read)
    asyncio.run(caller_of(book, token, NOW))
    assert token in TOKENS
    dependencies.forget_token(token)


def test_a_watch_whose_connection_is_lost_listens_again(postgres_url: str):
    db = Database(postgres_url)
    watch = ChangeWatch(db)
    watch.start()
    listeners = text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND query LIKE 'LISTEN renewquote_%' AND pid <> pg_backend_pid()"
    )
    try:
        with db.read() as conn:
            # Ours, once a watch of an earlier test's app (ending within half a second) is gone.
            assert until(lambda: len(conn.execute(listeners).all()) == 1)
            [first] = conn.execute(listeners).scalars().all()
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            assert until(lambda: conn.execute(listeners).scalars().all() not in ([], [first]))
        remember("rq_watched", CALLER, NOW + timedelta(hours=1))
        with db.read() as conn:  # as the trigger does
            conn.execute(text("SELECT pg_notify('renewquote_callers', '')"))
        assert until(lambda: "rq_watched" not in TOKENS), "the new connection does not listen"
    finally:
        watch.stop()
        dependencies.forget_token("rq_watched")
        db.dispose()
