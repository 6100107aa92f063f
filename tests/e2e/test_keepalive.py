"""Keep-alive connections are closed now and then (`RENEWQUOTE_KEEPALIVE_REQUESTS`), so that
the connections a client holds spread over the server's worker processes again."""

from __future__ import annotations

import http.client
import random
import socket
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
from fastapi.testclient import TestClient

from renewquote.api.app import create_app
from renewquote.api.middleware import KeepAliveLimit
from renewquote.settings import Settings
from renewquote.storage.database import Database
from tests.book import NOW

Message = MutableMapping[str, Any]


def test_the_default_is_a_hundred_requests_a_connection(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("RENEWQUOTE_KEEPALIVE_REQUESTS", raising=False)
    assert Settings().keepalive_requests == 100
    monkeypatch.setenv("RENEWQUOTE_KEEPALIVE_REQUESTS", "0")
    assert Settings().keepalive_requests == 0


@pytest.mark.parametrize(("requests", "closes"), [(1, True), (0, False)])
def test_one_request_a_connection_closes_every_answer_and_zero_none(
    book: Database, requests: int, closes: bool
):
    app = create_app(book, clock=lambda: NOW, keepalive_requests=requests)
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = [
            client.get("/healthz"),
            client.get("/api/v1/quotes"),  # 401: refusals too
            client.post("/api/v1/auth/token", json={"email": "x@y.example", "password": "p"}),
        ]
    for answer in answers:
        assert (answer.headers.get("connection") == "close") is closes, answer.url


def test_about_one_answer_in_n_closes_its_connection():
    async def ok(scope: Message, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    limit = KeepAliveLimit(ok, requests=20, chance=random.Random(2026).random)
    closed = 0

    async def answer() -> None:
        nonlocal closed
        started: list[Message] = []

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.append(message)

        await limit({"type": "http"}, lambda: None, send)  # type: ignore[arg-type]
        closed += (b"connection", b"close") in started[0]["headers"]

    async def answers() -> None:
        for _ in range(4000):
            await answer()

    anyio.run(answers)
    draws = random.Random(2026)
    assert closed == sum(draws.random() < 1 / 20 for _ in range(4000))
    assert 150 <= closed <= 250  # 200 expected; a binomial spread of 14


@pytest.mark.parametrize("server", [{"keepalive_requests": 1}], indirect=True)
def test_the_server_closes_the_connection_after_such_an_answer(server: str):
    address = urlsplit(server)
    with socket.create_connection((address.hostname, address.port), timeout=5) as raw:
        raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        # Read to the end: a connection left open would end this in a timeout instead.
        while chunk := raw.recv(4096):
            received += chunk
    head = received.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 200")
    assert b"\r\nconnection: close" in head


@pytest.mark.parametrize("server", [{"keepalive_requests": 0}], indirect=True)
def test_without_a_limit_one_connection_serves_every_request(server: str):
    address = urlsplit(server)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=5)
    connection.request("GET", "/healthz")
    first = connection.getresponse()
    first.read()
    socket_used = connection.sock
    for _ in range(20):
        connection.request("GET", "/healthz")
        answer = connection.getresponse()
        assert answer.status == 200 and not answer.will_close
        answer.read()
    assert connection.sock is socket_used
    connection.close()


def test_the_setting_is_read_from_the_environment_and_never_negative(
    book: Database, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("RENEWQUOTE_KEEPALIVE_REQUESTS", "1")
    with TestClient(create_app(book, clock=lambda: NOW)) as client:
        assert client.get("/healthz").headers.get("connection") == "close"
    monkeypatch.setenv("RENEWQUOTE_KEEPALIVE_REQUESTS", "-1")
    with pytest.raises(ValueError, match="keepalive_requests"):
        Settings()
