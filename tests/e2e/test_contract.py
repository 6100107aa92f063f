"""The contract's edges, through HTTP on SQLite and PostgreSQL: rule codes reach the caller,
amounts leave in the currency's minor unit, idempotency reads JSON as JSON, a checkout holds no
lock while it pays, and only the party that made a quote changes it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from copy import deepcopy
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select, text, update

from renewquote.api.app import create_app
from renewquote.services.book import load_book
from renewquote.services.payments import TestGateway
from renewquote.storage.database import Database
from renewquote.storage.tables import Base, idempotency_keys
from tests.book import BOOK, NOW, row_counts
from tests.conftest import FAST_HASHER

QUOTES = "/api/v1/quotes"
PROBLEM = "application/problem+json"
CARD = "4242 4242 4242 4242"
Auth = Callable[[str], dict[str, str]]


def problem(answer: Any, status: int, code: str) -> dict[str, Any]:
    """Check a refusal's status, media type and code; return its body."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    assert body["code"] == code, body
    return body


def made(answer: Any, status: int = 201) -> dict[str, Any]:
    """Check a success; return its body."""
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    return body


# Rule codes -----------------------------------------------------------------------------------


def test_101_lines_answer_too_many_lines_and_no_line_is_judged(client: TestClient, auth: Auth):
    lines = [{"subscription_id": f"SUB-{n:04d}"} for n in range(1, 102)]
    body = problem(
        client.post(QUOTES, headers=auth("marie@dupont.example"), json={"lines": lines}),
        422,
        "too_many_lines",
    )
    assert [v["code"] for v in body["violations"]] == ["too_many_lines"]


def test_a_partner_draft_edited_by_a_buyer_of_the_customer_is_not_even_seen(
    client: TestClient, auth: Auth
):
    anne, marie = auth("anne@partner.example"), auth("marie@dupont.example")
    draft = made(
        client.post(
            QUOTES,
            headers=anne,
            json={
                "customer_csn": "5200000001",
                "lines": [{"subscription_id": "SUB-0004"}],
                "contact": {"email": "marie@dupont.example"},
            },
        )
    )
    number = draft["number"]
    # A draft the partner is still preparing is its own: the customer does not see it.
    problem(client.get(f"{QUOTES}/{number}", headers=marie), 404, "not_found")
    flex = {"lines": [{"subscription_id": "SUB-0005"}]}
    problem(client.patch(f"{QUOTES}/{number}", headers=marie, json=flex), 404, "not_found")
    problem(client.post(f"{QUOTES}/{number}/send", headers=marie), 404, "not_found")
    # Once sent, the customer sees it and may buy it, never change it.
    made(client.post(f"{QUOTES}/{number}/send", headers=anne), 200)
    seen = made(client.get(f"{QUOTES}/{number}", headers=marie), 200)
    assert (seen["channel"], seen["partner_csn"]) == ("partner", "5100000001")
    problem(client.patch(f"{QUOTES}/{number}", headers=marie, json=flex), 403, "not_quote_maker")
    address = {"address": {"city": "Lyon"}}
    replaced = client.post(f"{QUOTES}/{number}/replace", headers=marie, json=address)
    problem(replaced, 403, "not_quote_maker")
    problem(
        client.post(f"{QUOTES}/{number}/cancel", headers=marie),
        403,
        "cancellation_not_self_service",
    )
    assert (
        made(client.get(f"{QUOTES}/{number}", headers=anne), 200)["lines"][0]["subscription_id"]
        == "SUB-0004"
    )


def test_a_staff_draft_takes_no_recipient_from_the_customer(client: TestClient, auth: Auth):
    ops, marie = auth("ops@vendor.example"), auth("marie@dupont.example")
    draft = made(
        client.post(
            QUOTES,
            headers=ops,
            json={
                "customer_csn": "5200000001",
                "lines": [{"subscription_id": "SUB-0001"}],
                "contact": {"email": "marie@dupont.example"},
            },
        )
    )
    extra = {"recipients": [{"email": "someone@elsewhere.example"}]}
    problem(
        client.patch(f"{QUOTES}/{draft['number']}", headers=marie, json=extra), 404, "not_found"
    )
    kept = made(client.get(f"{QUOTES}/{draft['number']}", headers=ops), 200)
    assert [r["email"] for r in kept["recipients"]] == ["marie@dupont.example"]


def test_an_edit_derives_purchase_method_partner_and_currency_from_the_lines(
    client: TestClient, auth: Auth
):
    marie = auth("marie@dupont.example")
    draft = made(
        client.post(QUOTES, headers=marie, json={"lines": [{"subscription_id": "SUB-0001"}]})
    )
    assert (draft["purchase_method"], draft["partner_csn"]) == ("direct", None)
    edited = made(
        client.patch(
            f"{QUOTES}/{draft['number']}",
            headers=marie,
            json={"lines": [{"subscription_id": "SUB-0004"}]},
        ),
        200,
    )
    assert (edited["purchase_method"], edited["partner_csn"], edited["currency"]) == (
        "partner",
        "5100000001",
        "EUR",
    )
    in_dollars = made(
        client.patch(
            f"{QUOTES}/{draft['number']}",
            headers=marie,
            json={"lines": [{"subscription_id": "SUB-0003"}]},
        ),
        200,
    )
    assert (in_dollars["purchase_method"], in_dollars["partner_csn"], in_dollars["currency"]) == (
        "direct",
        None,
        "USD",
    )
    assert in_dollars["lines"][0]["unit_price"] == "500.00"


# Field types shared with the book --------------------------------------------------------------


@pytest.fixture
def sandbox_book(db: Database) -> Database:
    """The test book with a contact and a recipient on the sandbox domains vendors use."""
    book = deepcopy(BOOK)
    dupont = book["customers"][0]
    dupont["contacts"].append(
        {"email": "buyer@dupont.test", "name": "Sandbox", "role": "purchaser", "password": "pw-x"}
    )
    # Whole-unit prices: stored as the book gives them, answered in the minor unit.
    book["prices"] = [
        {**p, "renewal": "460"}
        if (p["offering"], p["term"], p["currency"]) == ("ACDLT", "annual", "EUR")
        else p
        for p in book["prices"]
    ]
    load_book(db, book, hasher=FAST_HASHER)
    return db


def test_an_address_the_loader_accepted_is_accepted_as_contact_and_recipient(
    sandbox_book: Database,
):
    app = create_app(sandbox_book, clock=lambda: NOW)
    with TestClient(app) as client:
        token = made(
            client.post(
                "/api/v1/auth/token", json={"email": "buyer@dupont.test", "password": "pw-x"}
            ),
            200,
        )["access_token"]
        buyer = {"Authorization": f"Bearer {token}"}
        mine = made(
            client.post(
                QUOTES,
                headers=buyer,
                json={
                    "lines": [{"subscription_id": "SUB-0001"}],
                    "recipients": [{"email": "cfo@dupont.example"}, {"email": "ap@dupont.test"}],
                },
            )
        )
        assert [r["email"] for r in mine["recipients"]] == [
            "buyer@dupont.test",
            "cfo@dupont.example",
            "ap@dupont.test",
        ]
        # Stored as "460", answered in the currency's minor unit.
        assert mine["lines"][0]["unit_price"] == "460.00"
        signed = client.post(
            "/api/v1/auth/token", json={"email": "ops@vendor.example", "password": "ops-pass"}
        )
        ops = {"Authorization": f"Bearer {made(signed, 200)['access_token']}"}
        for_contact = made(
            client.post(
                QUOTES,
                headers=ops,
                json={
                    "customer_csn": "5200000001",
                    "lines": [{"subscription_id": "SUB-0002"}],
                    "contact": {"email": "buyer@dupont.test"},
                },
            )
        )
        assert for_contact["contact"] == {"email": "buyer@dupont.test"}


def test_yen_amounts_have_no_minor_unit_and_euro_amounts_two(client: TestClient, auth: Auth):
    yen = made(
        client.post(
            QUOTES,
            headers=auth("ken@tokyo.example"),
            json={"lines": [{"subscription_id": "SUB-0401"}]},
        )
    )
    line = yen["lines"][0]
    assert (line["unit_price"], line["amount"], yen["tax"], yen["total"]) == (
        "64000",
        "192000",
        "19200",
        "211200",
    )


# Idempotency ---------------------------------------------------------------------------------


def test_the_same_json_written_differently_is_the_same_request(client: TestClient, auth: Auth):
    headers = {
        **auth("marie@dupont.example"),
        "Idempotency-Key": "spaced",
        "Content-Type": "application/json",
    }
    compact = b'{"lines":[{"subscription_id":"SUB-0001","quantity":2}]}'
    spaced = b'{ "lines" : [ { "quantity" : 2 ,\n "subscription_id" : "SUB-0001" } ] }'
    first = client.post(QUOTES, headers=headers, content=compact)
    again = client.post(QUOTES, headers=headers, content=spaced)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["number"] == first.json()["number"]
    other = b'{"lines":[{"subscription_id":"SUB-0001","quantity":3}]}'
    problem(client.post(QUOTES, headers=headers, content=other), 409, "idempotency_key_reused")


def test_a_json_body_that_repeats_a_key_is_refused(client: TestClient, auth: Auth, book: Database):
    headers = {**auth("marie@dupont.example"), "Content-Type": "application/json"}
    before = row_counts(book)
    twice = (
        b'{"lines": [{"subscription_id": "SUB-0001"}], "lines": [{"subscription_id": "SUB-0002"}]}'
    )
    body = problem(client.post(QUOTES, headers=headers, content=twice), 400, "malformed_json")
    assert '"lines"' in body["detail"]
    assert row_counts(book) == before


def test_a_key_claimed_by_a_process_that_died_is_taken_over_after_its_lease(
    client: TestClient, auth: Auth, book: Database
):
    headers = {**auth("marie@dupont.example"), "Idempotency-Key": "crashed"}
    body = {"lines": [{"subscription_id": "SUB-0001"}]}
    first = made(client.post(QUOTES, headers=headers, json=body))

    def in_flight_since(seconds: int) -> None:
        # As if the request that claimed the key were still running, or had died unanswered.
        with book.write() as conn:
            conn.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.key == "crashed")
                .values(status_code=None, created_at=NOW - timedelta(seconds=seconds))
            )

    in_flight_since(5)
    problem(client.post(QUOTES, headers=headers, json=body), 409, "idempotency_in_progress")
    in_flight_since(31)
    again = made(client.post(QUOTES, headers=headers, json=body))
    assert again["number"] != first["number"]
    replayed = client.post(QUOTES, headers=headers, json=body)
    assert replayed.headers.get("idempotent-replayed") == "true"
    assert replayed.json()["number"] == again["number"]


# Checkout ------------------------------------------------------------------------------------


@pytest.fixture
def gateway_client(book: Database) -> Iterator[tuple[TestClient, TestGateway]]:
    """A client whose app takes payments through a gateway the test can read."""
    gateway = TestGateway()
    with TestClient(create_app(book, clock=lambda: NOW, payments=gateway)) as client:
        yield client, gateway


def _sent(client: TestClient, headers: dict[str, str], *ids: str) -> str:
    quote = made(
        client.post(QUOTES, headers=headers, json={"lines": [{"subscription_id": s} for s in ids]})
    )
    made(client.post(f"{QUOTES}/{quote['number']}/send", headers=headers), 200)
    return str(quote["number"])


def test_a_checkout_authorizes_then_captures_after_the_order_is_written(
    gateway_client: tuple[TestClient, TestGateway], auth: Auth, book: Database, caplog: Any
):
    client, gateway = gateway_client
    marie = auth("marie@dupont.example")
    number = _sent(client, marie, "SUB-0001")
    caplog.set_level(logging.DEBUG)
    paid = made(
        client.post(
            f"{QUOTES}/{number}/checkout",
            headers=marie,
            json={"payment_method": "card", "card_number": CARD},
        ),
        200,
    )
    assert paid["quote"]["status"] == "ordered"
    (authorized, captured) = list(gateway.operations)
    assert authorized.startswith("authorize card-****4242-")
    assert captured == f"capture {authorized.removeprefix('authorize ')}"
    # The card number is nowhere: not in any table, not in the logs, not in the answer.
    digits = CARD.replace(" ", "")
    assert digits not in json.dumps(paid)
    assert digits not in caplog.text
    with book.read() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                assert digits not in str(tuple(row)), table.name


def test_a_checkout_that_loses_the_race_voids_what_it_authorized(
    gateway_client: tuple[TestClient, TestGateway], auth: Auth, book: Database
):
    client, gateway = gateway_client
    marie = auth("marie@dupont.example")
    first, second = _sent(client, marie, "SUB-0001"), _sent(client, marie, "SUB-0001", "SUB-0002")
    made(
        client.post(f"{QUOTES}/{first}/checkout", headers=marie, json={"payment_method": "paypal"}),
        200,
    )
    gateway.operations.clear()
    # The second quote was superseded by the first order: refused before any money is held.
    problem(
        client.post(
            f"{QUOTES}/{second}/checkout", headers=marie, json={"payment_method": "paypal"}
        ),
        409,
        "quote_superseded",
    )
    assert list(gateway.operations) == []


class RacingGateway(TestGateway):
    """A gateway during whose authorization another order renews the quote's subscription."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    def authorize(self, *args: Any, **kwargs: Any) -> Any:
        authorization = super().authorize(*args, **kwargs)
        with self.db.write() as conn:
            conn.execute(
                text("UPDATE subscriptions SET end_date = :end WHERE id = 'SUB-0002'"),
                {"end": NOW.date() + timedelta(days=400)},
            )
        return authorization


def test_a_checkout_that_loses_under_the_locks_voids_what_it_authorized(book: Database, auth: Auth):
    gateway = RacingGateway(book)
    with TestClient(create_app(book, clock=lambda: NOW, payments=gateway)) as client:
        marie = auth("marie@dupont.example")
        number = _sent(client, marie, "SUB-0002")
        before = row_counts(book)
        lost = client.post(
            f"{QUOTES}/{number}/checkout", headers=marie, json={"payment_method": "paypal"}
        )
        problem(lost, 409, "quote_superseded")
    authorized, voided = list(gateway.operations)
    assert voided == f"void {authorized.removeprefix('authorize ')}"
    assert row_counts(book) == before


def test_a_declined_card_holds_nothing_and_orders_nothing(
    gateway_client: tuple[TestClient, TestGateway], auth: Auth, book: Database
):
    client, gateway = gateway_client
    marie = auth("marie@dupont.example")
    number = _sent(client, marie, "SUB-0001")
    before = row_counts(book)
    declined = client.post(
        f"{QUOTES}/{number}/checkout",
        headers=marie,
        json={"payment_method": "card", "card_number": "4000 0000 0000 0002"},
    )
    assert "card declined" in problem(declined, 422, "payment_declined")["detail"]
    assert list(gateway.operations) == []
    assert row_counts(book) == before


def test_the_quote_pdf_names_the_seller_the_customer_s_vat_number_and_the_buyer(
    client: TestClient, auth: Auth
):
    jo = auth("jo@acme.example")
    quote = made(client.post(QUOTES, headers=jo, json={"lines": [{"subscription_id": "SUB-0201"}]}))
    pdf = client.get(f"{QUOTES}/{quote['number']}/pdf", headers=jo)
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf.content)).pages)
    assert "Vendor SAS" in text
    assert "8 rue de Londres, 75009 Paris, France" in text
    assert "VAT no. FR19812345676" in text  # the seller's
    assert "VAT no. GB123456789" in text  # the customer's
    assert "Buyer: Jo" in text  # the buyer who made it, by the name the book gives
    assert "Questions: support@vendor.example" in text


def test_replacing_a_draft_says_that_a_draft_is_edited_instead(client: TestClient, auth: Auth):
    marie = auth("marie@dupont.example")
    draft = made(
        client.post(QUOTES, headers=marie, json={"lines": [{"subscription_id": "SUB-0001"}]})
    )
    answer = client.post(
        f"{QUOTES}/{draft['number']}/replace", headers=marie, json={"address": {"city": "Lyon"}}
    )
    body = problem(answer, 409, "quote_not_sent")
    assert body["detail"].startswith("Only a sent quote is replaced")
