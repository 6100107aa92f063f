"""Webhooks end to end: endpoints registered through the API, events posted by the worker to a
real HTTP receiver in the test, signatures checked with the `standardwebhooks` package; on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from renewquote.api.schemas import webhook_body
from renewquote.clock import utcnow
from renewquote.delivery.smtp import Handed
from renewquote.delivery.webhooks import HttpPoster
from renewquote.services.mailing import MailSettings
from renewquote.services.webhooks import (
    deliver_webhooks,
    destination,
    publish_events,
    url_problem,
)
from renewquote.services.worker import WebhookSettings, work_once
from tests.book import NOW

MAIL = MailSettings(public_url="http://quotes.test", sender="quotes@vendor.test")


class Receiver:
    """An HTTP server that keeps every POST and answers the statuses it is told, in turn."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], str]] = []
        self.replies: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"])).decode()
                receiver.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.replies.pop(0) if receiver.replies else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def types(self) -> list[str]:
        return [json.loads(body)["type"] for _, body in self.calls]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    thread = threading.Thread(target=found.server.serve_forever, daemon=True)
    thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture
def private_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RENEWQUOTE_WEBHOOKS_ALLOW_PRIVATE", "true")


class NoMail:
    def hand_over(self, message: object) -> Handed:
        """The mail of these tests is not what they look at."""
        return Handed(None)


def work(book, *, at=NOW, allow_private=True):
    with HttpPoster(timeout=5) as poster:
        hooks = WebhookSettings(poster, webhook_body, allow_private)
        return work_once(book, NoMail(), MAIL, clock=lambda: at, hooks=hooks)


def register(client, auth, who: str, url: str, events: list[str]) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/webhook-endpoints", headers=auth(who), json={"url": url, "events": events}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def partner_quote(client, auth, *, send: bool = True) -> str:
    anne = auth("anne@partner.example")
    created = client.post(
        "/api/v1/quotes",
        headers=anne,
        json={
            "customer_csn": "5200000003",
            "lines": [{"subscription_id": "SUB-0301"}],
            "contact": {"email": "ana@rio.example"},
        },
    )
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    if send:
        assert client.post(f"/api/v1/quotes/{number}/send", headers=anne).status_code == 200
    return number


def buyer_quote(client, auth) -> str:
    marie = auth("marie@dupont.example")
    created = client.post(
        "/api/v1/quotes", headers=marie, json={"lines": [{"subscription_id": "SUB-0001"}]}
    )
    assert created.status_code == 201, created.text
    return created.json()["number"]


def test_loopback_private_and_odd_urls_are_refused(client, auth):
    ops = auth("ops@vendor.example")
    for url in (
        "http://127.0.0.1:8000/hook",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest",
        "http://[64:ff9b::a9fe:a9fe]/latest",  # NAT64 of 169.254.169.254
        "http://[2002:a9fe:a9fe::]/latest",  # 6to4 of the same
        "http://[::ffff:127.0.0.1]/hook",
        "http://93.184.215.14\t/hook",
        "ftp://93.184.215.14/hook",
        "https://user:pw@93.184.215.14/hook",
    ):
        answer = client.post(
            "/api/v1/webhook-endpoints", headers=ops, json={"url": url, "events": ["quote.sent"]}
        )
        assert answer.status_code == 422, url
        assert answer.json()["code"] == "webhook_url_not_allowed", url
    assert client.get("/api/v1/webhook-endpoints", headers=ops).json()["data"] == []


def test_events_are_posted_signed_and_a_partner_hears_only_its_own_quotes(
    client, auth, book, receiver, private_allowed
):
    anne = register(client, auth, "anne@partner.example", receiver.url, ["quote.sent"])
    ops = register(
        client, auth, "ops@vendor.example", receiver.url + "?staff", ["quote.created", "quote.sent"]
    )
    assert anne["secret"].startswith("whsec_") and anne["secret"] != ops["secret"]
    listed = client.get("/api/v1/webhook-endpoints", headers=auth("anne@partner.example")).json()
    assert [e["id"] for e in listed["data"]] == [anne["id"]]
    assert "secret" not in listed["data"][0]

    number = partner_quote(client, auth)
    other = buyer_quote(client, auth)  # Dupont's own quote: none of Anne's business
    assert publish_events(book, webhook_body, now=NOW) == 3  # created, created, sent
    # Posted on the real clock: receivers refuse a signature whose timestamp is not now.
    with HttpPoster(timeout=5) as poster:
        done = deliver_webhooks(book, poster, clock=utcnow, allow_private=True)

    assert done.sent == len(receiver.calls) == 4
    by_secret = {anne["secret"]: "anne", ops["secret"]: "ops"}
    heard: dict[str, list[tuple[str, str]]] = {"anne": [], "ops": []}
    for headers, body in receiver.calls:
        matches = []
        for secret, who in by_secret.items():
            try:
                Webhook(secret).verify(body, headers)
                matches.append(who)
            except Exception:
                continue
        assert len(matches) == 1, headers  # signed with exactly one endpoint's secret
        event = json.loads(body)
        assert headers["webhook-id"].startswith("msg_")
        heard[matches[0]].append((event["type"], event["data"]["quote"]["number"]))
    assert heard["anne"] == [("quote.sent", number)]
    assert sorted(heard["ops"]) == sorted(
        [("quote.created", number), ("quote.sent", number), ("quote.created", other)]
    )
    # The quote in the body is the API's own shape.
    sent_body = next(json.loads(b) for _, b in receiver.calls if '"quote.sent"' in b)
    assert sent_body["data"]["quote"]["status"] == "sent"
    assert sent_body["data"]["quote"]["partner_csn"] == "5100000001"
    # Nothing is posted twice.
    assert work(book).webhooks.claimed == 0


def test_a_failed_delivery_is_retried_with_the_same_id_and_body(
    client, auth, book, receiver, private_allowed
):
    register(client, auth, "anne@partner.example", receiver.url, ["quote.sent"])
    receiver.replies = [500]
    partner_quote(client, auth)
    first = work(book)
    assert (first.webhooks.sent, first.webhooks.retried) == (0, 1)
    assert work(book, at=NOW + timedelta(seconds=1)).webhooks.claimed == 0  # not due yet
    second = work(book, at=NOW + timedelta(seconds=6))
    assert second.webhooks.sent == 1
    (h1, b1), (h2, b2) = receiver.calls
    assert h1["webhook-id"] == h2["webhook-id"] and b1 == b2
    # Each attempt signed with its own timestamp.
    assert int(h2["webhook-timestamp"]) - int(h1["webhook-timestamp"]) == 6


def test_a_410_disables_the_endpoint(client, auth, book, receiver, private_allowed):
    endpoint = register(client, auth, "anne@partner.example", receiver.url, ["quote.sent"])
    receiver.replies = [410]
    partner_quote(client, auth)
    assert work(book).webhooks.failed == 1
    [shown] = client.get("/api/v1/webhook-endpoints", headers=auth("anne@partner.example")).json()[
        "data"
    ]
    assert shown["id"] == endpoint["id"] and shown["disabled_at"] is not None
    partner_quote(client, auth)
    assert work(book).webhooks.claimed == 0
    assert len(receiver.calls) == 1


def test_an_address_is_checked_again_when_posting(client, auth, book, receiver, private_allowed):
    register(client, auth, "anne@partner.example", receiver.url, ["quote.sent"])
    partner_quote(client, auth)
    done = work(book, allow_private=False)
    assert done.webhooks.failed == 1 and receiver.calls == []


def test_a_deleted_endpoint_gets_nothing_more(client, auth, book, receiver, private_allowed):
    endpoint = register(client, auth, "anne@partner.example", receiver.url, ["quote.sent"])
    anne = auth("anne@partner.example")
    ops = auth("ops@vendor.example")
    # Staff's endpoints are not a partner's: neither sees nor deletes the other's.
    assert (
        client.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=ops).status_code == 404
    )
    assert (
        client.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=anne).status_code
        == 204
    )
    partner_quote(client, auth)
    assert publish_events(book, webhook_body, now=NOW) > 0
    assert work(book).webhooks.claimed == 0 and receiver.calls == []


def test_a_post_goes_to_the_address_checked_and_still_names_its_host(receiver):
    # The name does not resolve at all: only the address given can have been connected to.
    port = receiver.server.server_address[1]
    with HttpPoster(timeout=5) as poster:
        status = poster.post(
            f"http://hooks.invalid:{port}/hook", "{}", {"webhook-id": "w1"}, address="127.0.0.1"
        )
    assert status == 200
    [(headers, _)] = receiver.calls
    assert headers["host"] == f"hooks.invalid:{port}"


def test_the_address_posted_to_is_the_one_checked(monkeypatch):
    answers = {
        "hooks.example": ["93.184.216.34"],
        "rebinding.example": ["93.184.216.34", "10.0.0.7"],
    }

    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]

    # No DNS here: the resolver answers as a name server would.
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    pinned = destination("https://hooks.example/in", allow_private=False)
    assert (pinned.url, pinned.address) == ("https://hooks.example/in", "93.184.216.34")
    # A name with one private address among public ones is refused whole.
    assert (
        url_problem("https://rebinding.example/in", allow_private=False) == "not a public address"
    )


@pytest.mark.parametrize(
    "address",
    ["64:ff9b:1::a00:7", "64:ff9b::a00:7", "::ffff:10.0.0.7", "2002:a00:7::", "::10.0.0.7"],
)
def test_ipv4_behind_ipv6_prefixes_is_judged_as_itself(monkeypatch, address):
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port))],
    )
    assert url_problem("https://hooks.example/in", allow_private=False) == "not a public address"
