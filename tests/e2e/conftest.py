"""The HTTP API through a real ASGI client, on SQLite and PostgreSQL, with the test book."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient

from renewquote.api.app import create_app
from renewquote.api.server import SERVER_OPTIONS
from renewquote.services.auth import issue_token
from renewquote.storage.database import Database
from tests.book import NOW

PASSWORDS = {
    "ops@vendor.example": "ops-pass",
    "anne@partner.example": "anne-pass",
    "bob@other.example": "bob-pass",
}


@pytest.fixture
def client(book: Database) -> Iterator[TestClient]:
    """A client of the application over the test book, its clock stopped at NOW."""
    app = create_app(book, clock=lambda: NOW)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def auth(book: Database) -> Callable[[str], dict[str, str]]:
    """Return the Authorization header of a user of the test book."""
    cache: dict[str, dict[str, str]] = {}

    def headers(email: str) -> dict[str, str]:
        if email not in cache:
            token = issue_token(book, email, now=NOW).access_token
            cache[email] = {"Authorization": f"Bearer {token}"}
        return cache[email]

    return headers


@pytest.fixture
def server(book: Database, request: pytest.FixtureRequest) -> Iterator[str]:
    """Serve the app over the test book under uvicorn, with the options `renewquote serve`
    uses, on a free port of 127.0.0.1; give its base URL. Parametrized indirectly, the
    parameter is a dict of more `create_app` options."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    options = getattr(request, "param", {})
    config = uvicorn.Config(create_app(book, clock=lambda: NOW, **options), **SERVER_OPTIONS)
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not served.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(timeout=10)
    listener.close()
