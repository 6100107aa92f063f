"""Signing in under attack, through HTTP on SQLite and PostgreSQL: a burst of attempts checks
no more passwords than the limit allows, and failures from one address never lock the account
for its owner at another."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from renewquote.api.app import create_app
from renewquote.services import auth
from renewquote.storage.database import Database
from tests.book import NOW, row_counts
from tests.conftest import FAST_HASHER

TOKEN = "/api/v1/auth/token"
JO = "jo@acme.example"
RIGHT = {"email": JO, "password": f"pw-{JO}"}
WRONG = {"email": JO, "password": "guess"}


class CountingHasher(PasswordHasher):
    """The real argon2 hasher, counting the passwords it checks."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.checked = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.checked += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(auth, "_hasher", counting)
    monkeypatch.setattr(auth, "_DUMMY_HASH", FAST_HASHER.hash("nobody's password"))
    return counting


def test_forty_attempts_at_once_check_no_more_passwords_than_the_limit(
    server: str, hasher: CountingHasher
):
    # Forty guesses at once: no more than five passwords are checked (a right password would
    # clear the account's count at this address, as the owner's own sign-in does).
    bodies = [WRONG] * 40
    start = threading.Barrier(len(bodies))

    def attempt(body: dict[str, str]) -> int:
        with httpx2.Client(base_url=server, timeout=60) as http:
            http.get("/healthz")
            start.wait()
            return http.post(TOKEN, json=body).status_code

    answers: list[Any] = [None] * len(bodies)
    threads = [
        threading.Thread(target=lambda i=i, b=b: answers.__setitem__(i, attempt(b)))
        for i, b in enumerate(bodies)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert hasher.checked <= auth.ACCOUNT_FAILURES, answers
    assert answers.count(429) == len(bodies) - hasher.checked, answers
    assert set(answers) == {401, 429}, answers


def test_failures_from_one_address_do_not_lock_the_owner_out_from_another(
    book: Database, hasher: CountingHasher
):
    app = create_app(book, clock=lambda: NOW)
    with TestClient(app, client=("203.0.113.7", 4000)) as attacker:
        answers = [attacker.post(TOKEN, json=WRONG).status_code for _ in range(8)]
        assert answers == [401] * auth.ACCOUNT_FAILURES + [429] * 3
        blocked = attacker.post(TOKEN, json=RIGHT)
        assert (blocked.status_code, blocked.json()["code"]) == (429, "rate_limited")
    with TestClient(app, client=("198.51.100.20", 4000)) as owner:
        assert owner.post(TOKEN, json=RIGHT).status_code == 200


def test_the_wait_grows_with_each_failure_after_the_free_ones(book: Database):
    clock = {"now": NOW}
    app = create_app(book, clock=lambda: clock["now"])
    with TestClient(app) as client:
        waits = []
        for _ in range(auth.ACCOUNT_FAILURES + 4):
            answer = client.post(TOKEN, json=WRONG)
            if answer.status_code == 429:
                wait = int(answer.headers["Retry-After"])
                waits.append(wait)
                clock["now"] += timedelta(seconds=wait)
                assert client.post(TOKEN, json=WRONG).status_code == 401
        assert waits == [1, 2, 4, 8]
        # A right password, once allowed, clears the account's count at this address.
        clock["now"] += timedelta(seconds=16)
        assert client.post(TOKEN, json=RIGHT).status_code == 200
        assert client.post(TOKEN, json=WRONG).status_code == 401


def test_one_address_trying_many_accounts_waits_out_the_window(book: Database):
    app = create_app(book, clock=lambda: NOW)
    emails = ["marie@dupont.example", "paul@dupont.example", "ana@rio.example", "ken@tokyo.example"]
    with TestClient(app, client=("192.0.2.50", 4000)) as sprayer:
        answers = [
            sprayer.post(TOKEN, json={"email": emails[i % 4], "password": "x"}).status_code
            for i in range(auth.ADDRESS_FAILURES + 1)
        ]
    assert answers == [401] * auth.ADDRESS_FAILURES + [429]


def test_the_longest_address_from_an_ipv6_client_is_counted_not_crashed_on(book: Database):
    longest = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".example"
    app = create_app(book, clock=lambda: NOW)
    with TestClient(app, client=("2001:db8:85a3:8d3:1319:8a2e:370:7348", 4000)) as client:
        answer = client.post(TOKEN, json={"email": longest[:254], "password": "x"})
    assert (answer.status_code, answer.json()["code"]) == (401, "unauthenticated")


def test_a_sign_in_sent_with_an_idempotency_key_is_never_kept(
    client: TestClient, auth: Any, book: Database
):
    headers = {**auth("ops@vendor.example"), "Idempotency-Key": "sign-in"}
    for _ in range(2):
        answer = client.post(TOKEN, headers=headers, json=RIGHT)
        assert answer.status_code == 200
        assert "idempotent-replayed" not in answer.headers
    assert row_counts(book)["idempotency_keys"] == 0
