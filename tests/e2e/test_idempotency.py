"""Idempotency keys and racing orders through HTTP, on SQLite and PostgreSQL.

Retries give back the first answer, a key reused for another request is refused, and requests
that really run at once (a uvicorn server in a thread, clients in threads, released together by a
barrier) still create one quote per key and renew a subscription once.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx2
from fastapi.testclient import TestClient

from renewquote.api.app import create_app
from renewquote.services.auth import issue_token
from renewquote.storage.database import Database
from tests.book import NOW, row_counts

QUOTES = "/api/v1/quotes"
CARD = {"payment_method": "card", "card_number": "4242 4242 4242 4242"}
Auth = Callable[[str], dict[str, str]]


def at_once(
    base_url: str, calls: list[tuple[str, str, dict[str, str], Any]]
) -> list[httpx2.Response]:
    """Send every call from its own thread and connection, released together."""
    start = threading.Barrier(len(calls))

    def send(call: tuple[str, str, dict[str, str], Any]) -> httpx2.Response:
        method, path, headers, body = call
        with httpx2.Client(base_url=base_url, timeout=30) as http:
            http.get("/healthz")  # connected and warm before the race starts
            start.wait()
            return http.request(method, path, headers=headers, json=body)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(send, calls))


def test_a_retry_with_the_same_key_and_body_gets_the_first_answer_again(
    client: TestClient, book: Database, auth: Auth
) -> None:
    marie = {**auth("marie@dupont.example"), "Idempotency-Key": "create-1"}
    body = {"lines": [{"subscription_id": "SUB-0001"}], "recipients": [{"email": "a@b.example"}]}
    first = client.post(QUOTES, headers=marie, json=body)
    again = client.post(QUOTES, headers=marie, json=body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert row_counts(book)["quotes"] == 1


def test_a_checkout_retried_with_its_key_charges_once(
    client: TestClient, book: Database, auth: Auth
) -> None:
    marie = auth("marie@dupont.example")
    number = client.post(QUOTES, headers=marie, json={"lines": [{"subscription_id": "SUB-0001"}]})
    number = number.json()["number"]
    assert client.post(f"{QUOTES}/{number}/send", headers=marie).status_code == 200
    keyed = {**marie, "Idempotency-Key": "pay-1"}
    first = client.post(f"{QUOTES}/{number}/checkout", headers=keyed, json=CARD)
    again = client.post(f"{QUOTES}/{number}/checkout", headers=keyed, json=CARD)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    # Without the key, a second order of the same quote is a wrong state.
    unkeyed = client.post(f"{QUOTES}/{number}/checkout", headers=marie, json=CARD)
    assert (unkeyed.status_code, unkeyed.json()["code"]) == (409, "quote_ordered")
    assert row_counts(book)["orders"] == 1


def test_a_refusal_is_remembered_too_and_given_back_on_retry(
    client: TestClient, book: Database, auth: Auth
) -> None:
    marie = {**auth("marie@dupont.example"), "Idempotency-Key": "too-many-seats"}
    body = {"lines": [{"subscription_id": "SUB-0001", "quantity": 50}]}
    first = client.post(QUOTES, headers=marie, json=body)
    again = client.post(QUOTES, headers=marie, json=body)
    assert (first.status_code, first.json()["code"]) == (422, "seat_increase")
    assert (again.status_code, again.text) == (422, first.text)
    assert again.headers["content-type"] == "application/problem+json"
    assert again.headers["idempotent-replayed"] == "true"
    assert row_counts(book)["quotes"] == 0


def test_the_same_key_with_another_body_or_path_is_refused_with_409(
    client: TestClient, book: Database, auth: Auth
) -> None:
    marie = {**auth("marie@dupont.example"), "Idempotency-Key": "k-1"}
    first = client.post(QUOTES, headers=marie, json={"lines": [{"subscription_id": "SUB-0001"}]})
    assert first.status_code == 201
    number = first.json()["number"]
    for path, body in (
        (QUOTES, {"lines": [{"subscription_id": "SUB-0002"}]}),
        (QUOTES, {"lines": [{"subscription_id": "SUB-0001", "quantity": 4}]}),
        (f"{QUOTES}/{number}/send", None),
    ):
        reused = client.post(path, headers=marie, json=body)
        assert reused.status_code == 409, reused.text
        assert reused.headers["content-type"] == "application/problem+json"
        assert reused.json()["code"] == "idempotency_key_reused"
    assert row_counts(book)["quotes"] == 1
    assert client.get(f"{QUOTES}/{number}", headers=marie).json()["status"] == "draft"


def test_keys_belong_to_their_user_so_another_never_gets_someone_elses_answer(
    client: TestClient, book: Database, auth: Auth
) -> None:
    body = {"lines": [{"subscription_id": "SUB-0001"}]}
    key = {"Idempotency-Key": "shared-key"}
    mine = client.post(QUOTES, headers={**auth("marie@dupont.example"), **key}, json=body)
    assert mine.status_code == 201
    # Jo sends the very same request with the very same key: Jo's own answer, a 404.
    theirs = client.post(QUOTES, headers={**auth("jo@acme.example"), **key}, json=body)
    assert (theirs.status_code, theirs.json()["code"]) == (404, "not_found")
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["number"] not in theirs.text
    own = {"lines": [{"subscription_id": "SUB-0201"}]}
    jo = client.post(QUOTES, headers={**auth("jo@acme.example"), "Idempotency-Key": "k"}, json=own)
    assert (jo.status_code, jo.json()["customer_csn"]) == (201, "5200000002")
    assert row_counts(book)["quotes"] == 2


def test_requests_sent_at_once_with_one_key_create_exactly_one_quote(
    server: str, book: Database, auth: Auth
) -> None:
    marie = auth("marie@dupont.example")
    body = {"lines": [{"subscription_id": "SUB-0001"}]}
    for round_ in range(3):
        headers = {**marie, "Idempotency-Key": f"together-{round_}"}
        answers = at_once(server, [("POST", QUOTES, headers, body)] * 4)
        assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
        assert len({a.json()["number"] for a in answers}) == 1
        replayed = Counter(a.headers.get("idempotent-replayed") for a in answers)
        assert replayed == {None: 1, "true": 3}
    assert row_counts(book)["quotes"] == 3


def test_racing_checkouts_of_two_quotes_holding_one_subscription_order_it_once(
    server: str, book: Database, auth: Auth
) -> None:
    marie = auth("marie@dupont.example")
    numbers = []
    with httpx2.Client(base_url=server, headers=marie) as http:
        for lines in (["SUB-0001"], ["SUB-0001", "SUB-0002"]):
            made = http.post(QUOTES, json={"lines": [{"subscription_id": s} for s in lines]})
            assert made.status_code == 201, made.text
            numbers.append(made.json()["number"])
            assert http.post(f"{QUOTES}/{numbers[-1]}/send").status_code == 200
    calls = [("POST", f"{QUOTES}/{n}/checkout", marie, CARD) for n in numbers * 3]
    answers = at_once(server, calls)
    won = [a for a in answers if a.status_code == 200]
    assert len(won) == 1, [a.text for a in answers]
    lost = Counter((a.status_code, a.json()["code"]) for a in answers if a.status_code != 200)
    assert set(lost) <= {(409, "quote_ordered"), (409, "quote_superseded")}, lost
    assert sum(lost.values()) == 5
    winner = won[0].json()["quote"]["number"]
    loser = next(n for n in numbers if n != winner)
    with httpx2.Client(base_url=server, headers=marie) as http:
        assert http.get(f"{QUOTES}/{winner}").json()["status"] == "ordered"
        assert http.get(f"{QUOTES}/{loser}").json()["status"] == "superseded"
        renewed = http.get("/api/v1/subscriptions/SUB-0001").json()
    assert renewed["end_date"] == "2027-12-14"
    counts = row_counts(book)
    assert counts["orders"] == 1
    assert counts["subscription_renewals"] == len(won[0].json()["quote"]["lines"])


def test_keys_follow_the_applications_clock_not_the_wall_clock(book: Database) -> None:
    # A server whose clock says two days ago (as a test's or a replayed day's may) issues
    # tokens that the wall clock would call expired; its idempotency keys must still hold.
    then = NOW - timedelta(days=2)
    token = issue_token(book, "marie@dupont.example", now=then).access_token
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "old-clock"}
    body = {"lines": [{"subscription_id": "SUB-0001"}]}
    with TestClient(create_app(book, clock=lambda: then)) as client:
        first = client.post(QUOTES, headers=headers, json=body)
        again = client.post(QUOTES, headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 201), first.text
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["number"] == first.json()["number"]
    assert row_counts(book)["quotes"] == 1


def test_checkouts_racing_cancellations_of_quotes_on_the_same_subscription_never_deadlock(
    server: str, book: Database, auth: Auth
) -> None:
    marie, anne = auth("marie@dupont.example"), auth("anne@partner.example")
    with httpx2.Client(base_url=server) as http:
        mine = http.post(QUOTES, headers=marie, json={"lines": [{"subscription_id": "SUB-0004"}]})
        theirs = http.post(
            QUOTES,
            headers=anne,
            json={
                "customer_csn": "5200000001",
                "lines": [{"subscription_id": "SUB-0004", "quantity": 1}],
                "contact": {"email": "marie@dupont.example"},
            },
        )
        numbers = [mine.json()["number"], theirs.json()["number"]]
        for number, who in zip(numbers, (marie, anne), strict=True):
            assert http.post(f"{QUOTES}/{number}/send", headers=who).status_code == 200
    # Checkout locks its quote and the partner's, then SUB-0004; the cancellation locks the
    # partner's quote, then gives SUB-0004's auto-renew back: one lock order, no deadlock.
    answers = at_once(
        server,
        [
            ("POST", f"{QUOTES}/{numbers[0]}/checkout", marie, {"payment_method": "paypal"}),
            ("POST", f"{QUOTES}/{numbers[1]}/cancel", anne, None),
        ],
    )
    assert all(a.status_code < 500 for a in answers), [a.text for a in answers]
    assert answers[0].status_code == 200, answers[0].text
    assert answers[1].status_code in (200, 409), answers[1].text
