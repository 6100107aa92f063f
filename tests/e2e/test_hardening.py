"""What a reviewer of the API's surface asks for, through HTTP on SQLite and PostgreSQL: no
sniffing or framing, nothing authenticated kept by caches, no banner, bounded headers, metrics
for their scraper only, and a health check that says nothing of the storage behind it."""

from __future__ import annotations

from collections.abc import Callable

import httpx2
from fastapi.testclient import TestClient

from renewquote.api.app import create_app
from renewquote.storage.database import Database
from tests.book import NOW

Auth = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"


def test_every_answer_forbids_sniffing_and_framing(client: TestClient, auth: Auth):
    answers = [
        client.get("/healthz"),
        client.get("/api/v1/renewal-groups", headers=auth("marie@dupont.example")),
        client.get("/api/v1/quotes/Q-2026-999999", headers=auth("marie@dupont.example")),
        client.get("/api/v1/quotes"),
        client.get("/docs"),
    ]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff", answer.url
        assert answer.headers["x-frame-options"] == "DENY", answer.url
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_authenticated_answers_and_tokens_are_never_stored_by_caches(
    client: TestClient, auth: Auth
):
    token = client.post(
        "/api/v1/auth/token", json={"email": "ops@vendor.example", "password": "ops-pass"}
    )
    assert token.status_code == 200
    assert token.headers["cache-control"] == "no-store"
    groups = client.get("/api/v1/renewal-groups", headers=auth("marie@dupont.example"))
    assert (groups.status_code, groups.headers["cache-control"]) == (200, "no-store")
    refused = client.get("/api/v1/quotes", headers={"Authorization": "Bearer rq_forged"})
    assert (refused.status_code, refused.headers["cache-control"]) == (401, "no-store")
    assert "cache-control" not in client.get("/healthz").headers


def test_the_health_check_names_no_database(client: TestClient):
    answer = client.get("/healthz")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})
    assert "sqlite" not in answer.text and "postgres" not in answer.text


def test_headers_larger_than_16_kib_are_refused_with_431(client: TestClient, auth: Auth):
    padding = {f"x-padding-{i}": "x" * 1000 for i in range(17)}
    answer = client.get("/api/v1/quotes", headers={**auth("marie@dupont.example"), **padding})
    assert answer.status_code == 431, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["code"] == "headers_too_large"
    assert client.get("/healthz", headers={"x-padding": "x" * 1000}).status_code == 200


def test_metrics_are_served_to_the_holder_of_the_metrics_token_only(book: Database):
    with TestClient(create_app(book, clock=lambda: NOW)) as closed:
        hidden = closed.get("/metrics")
        assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found")
    with TestClient(create_app(book, clock=lambda: NOW, metrics_token="scrape-me")) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        shown = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert shown.status_code == 200
        assert "renewquote_http_requests_total" in shown.text


def test_the_server_names_no_software_in_its_answers(server: str):
    answer = httpx2.get(f"{server}/healthz")
    assert answer.status_code == 200
    assert "server" not in answer.headers
    assert "uvicorn" not in str(answer.headers).lower()
