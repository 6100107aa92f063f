"""The HTTP API through a real ASGI client, on SQLite and PostgreSQL, with the test book."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from renewquote.api.app import create_app
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
