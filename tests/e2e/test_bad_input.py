"""Bad input through the HTTP API, on SQLite and PostgreSQL.

Whatever a client sends, the answer is a plain refusal (`application/problem+json` with a code,
never a 500, never a trace of our insides), and text that merely looks dangerous (SQL, HTML) is
stored and given back exactly as sent, with every table still in place.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from renewquote.storage.database import Database
from renewquote.storage.tables import Base
from tests.book import row_counts

PROBLEM = "application/problem+json"
QUOTES = "/api/v1/quotes"
TOKEN = "/api/v1/auth/token"
SQL = "'; DROP TABLE quotes; --"
HTML = "<script>alert(1)</script>"
SHORT_SQL = "' OR '1'='1"  # fits the 20 characters of a CSN
# What would betray a stack trace or the storage behind the API.
INSIDES = ("Traceback", 'File "', "sqlalchemy", "psycopg", "sqlite3", "renewquote/", "line ")
Auth = Callable[[str], dict[str, str]]


def refused(answer: httpx2.Response, status: int, code: str) -> dict[str, Any]:
    """Check a refusal: its status, problem+json with a code, and nothing of our insides."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    assert (body["status"], body["code"]) == (status, code), body
    assert body["violations"], body
    assert all(v["code"] and v["message"] for v in body["violations"]), body
    assert not [s for s in INSIDES if s in answer.text], answer.text
    return body


def accepted(answer: httpx2.Response, status: int) -> dict[str, Any]:
    """Check a success and return its body."""
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    return body


def says(body: dict[str, Any], field: str) -> bool:
    """Tell whether a refusal names `field` in one of its messages."""
    return any(v["message"].startswith(f"{field}:") for v in body["violations"])


@pytest.fixture
def marie(auth: Auth) -> dict[str, str]:
    return auth("marie@dupont.example")


@pytest.fixture
def draft(client: TestClient, marie: dict[str, str]) -> str:
    """Marie's draft quote on SUB-0001."""
    made = client.post(QUOTES, headers=marie, json={"lines": [{"subscription_id": "SUB-0001"}]})
    return str(accepted(made, 201)["number"])


@pytest.fixture
def sent(client: TestClient, marie: dict[str, str]) -> str:
    """Marie's sent quote on SUB-0002."""
    made = client.post(QUOTES, headers=marie, json={"lines": [{"subscription_id": "SUB-0002"}]})
    number = str(accepted(made, 201)["number"])
    accepted(client.post(f"{QUOTES}/{number}/send", headers=marie), 200)
    return number


def test_wrong_types_are_refused_naming_the_field(
    client: TestClient, marie: dict[str, str], draft: str, sent: str, subtests: Any
) -> None:
    line = {"subscription_id": "SUB-0003"}
    new_quotes = [
        ({"lines": "SUB-0003"}, "lines"),
        ({"lines": []}, "lines"),
        ({"lines": [{"subscription_id": 3}]}, "lines.0.subscription_id"),
        ({"lines": [{**line, "quantity": "3"}]}, "lines.0.quantity"),
        ({"lines": [{**line, "quantity": True}]}, "lines.0.quantity"),
        ({"lines": [{**line, "quantity": 2.5}]}, "lines.0.quantity"),
        ({"lines": [{**line, "term": "weekly"}]}, "lines.0.term"),
        ({"lines": [{**line, "start_date": "soon"}]}, "lines.0.start_date"),
        ({"type": "upgrade", "lines": [line]}, "type"),
        ({"currency": "euro", "lines": [line]}, "currency"),
        ({"lines": [line], "recipients": {"email": "a@b.example"}}, "recipients"),
        ({"lines": [line], "recipients": [{"email": "nobody"}]}, "recipients.0.email"),
        ([line], "body"),
    ]
    card = {"payment_method": "card", "card_number": 4242424242424242}
    cases = [("POST", QUOTES, body, field) for body, field in new_quotes] + [
        ("PATCH", f"{QUOTES}/{draft}", {"language": "de"}, "language"),
        ("PATCH", f"{QUOTES}/{draft}", {"address": "1 rue de Rivoli"}, "address"),
        ("POST", f"{QUOTES}/{sent}/replace", {"address": {"city": ["Paris"]}}, "address.city"),
        ("POST", f"{QUOTES}/{sent}/checkout", {"payment_method": "cash"}, "payment_method"),
        ("POST", f"{QUOTES}/{sent}/checkout", card, "card_number"),
        ("POST", TOKEN, {"email": 5, "password": ["x"]}, "email"),
    ]
    for method, path, body, field in cases:
        with subtests.test(f"{method} {path} {json.dumps(body)}"):
            answer = client.request(method, path, headers=marie, json=body)
            assert says(refused(answer, 422, "invalid_input"), field), answer.text
    query_cases = [
        ("/api/v1/subscriptions", {"limit": "ten"}, "limit"),
        ("/api/v1/subscriptions", {"end_after": "yesterday"}, "end_after"),
        ("/api/v1/subscriptions", {"status": "lapsed"}, "status"),
        (QUOTES, {"status": "lost"}, "status"),
        (QUOTES, {"currency": "eur"}, "currency"),
    ]
    for path, params, field in query_cases:
        with subtests.test(f"GET {path} {params}"):
            answer = client.get(path, headers=marie, params=params)
            assert says(refused(answer, 422, "invalid_input"), field), answer.text


def test_unknown_fields_are_refused_wherever_they_hide(
    client: TestClient, marie: dict[str, str], draft: str, sent: str, subtests: Any
) -> None:
    line = {"subscription_id": "SUB-0003"}
    copied = {"email": "a@b.example", "cc": "x"}
    cases = [
        ("POST", QUOTES, {"lines": [line], "discount": "100"}, "discount"),
        ("POST", QUOTES, {"lines": [{**line, "unit_price": "0.01"}]}, "unit_price"),
        ("POST", QUOTES, {"lines": [line], "recipients": [copied]}, "cc"),
        ("PATCH", f"{QUOTES}/{draft}", {"status": "sent"}, "status"),
        ("POST", f"{QUOTES}/{sent}/replace", {"address": {"country": "US"}}, "country"),
        ("POST", f"{QUOTES}/{sent}/checkout", {"payment_method": "card", "amount": "1"}, "amount"),
        ("POST", TOKEN, {"email": "a@b.example", "password": "x", "admin": True}, "admin"),
    ]
    for method, path, body, field in cases:
        with subtests.test(f"{method} {path} {json.dumps(body)}"):
            answer = client.request(method, path, headers=marie, json=body)
            problem = refused(answer, 422, "invalid_input")
            assert any(field in v["message"] for v in problem["violations"]), answer.text
    assert accepted(client.get(f"{QUOTES}/{draft}", headers=marie), 200)["status"] == "draft"


def test_huge_zero_and_negative_quantities_are_refused_and_nothing_is_written(
    client: TestClient, book: Database, marie: dict[str, str], auth: Auth
) -> None:
    before = row_counts(book)
    # Beyond the ceiling against abuse, the schema refuses the number itself.
    for quantity in (10**30, -(10**30)):
        answer = client.post(
            QUOTES,
            headers=marie,
            json={"lines": [{"subscription_id": "SUB-0001", "quantity": quantity}]},
        )
        assert says(refused(answer, 422, "invalid_input"), "lines.0.quantity"), quantity
    # Within it, the rule answers: a renewal keeps between 1 and the current seats.
    for quantity in (1_000_001, 0, -1):
        answer = client.post(
            QUOTES,
            headers=marie,
            json={"lines": [{"subscription_id": "SUB-0001", "quantity": quantity}]},
        )
        problem = refused(answer, 422, "seat_increase")
        assert problem["violations"][0]["subscription_ids"] == ["SUB-0001"], quantity
    # A number too big for a float is read as infinity, and refused as one.
    marie_json = {**marie, "Content-Type": "application/json"}
    infinite = b'{"lines": [{"subscription_id": "SUB-0001", "quantity": 1e400}]}'
    answer = client.post(QUOTES, headers=marie_json, content=infinite)
    assert says(refused(answer, 422, "invalid_input"), "lines.0.quantity")
    page = client.get(QUOTES, headers=marie, params={"limit": 10**30})
    assert says(refused(page, 422, "invalid_input"), "limit")
    # Within the bounds, more seats than the subscription has is a broken rule, named.
    more = client.post(
        QUOTES,
        headers=marie,
        json={"lines": [{"subscription_id": "SUB-0001", "quantity": 1_000_000}]},
    )
    assert refused(more, 422, "seat_increase")["violations"][0]["subscription_ids"] == ["SUB-0001"]
    assert row_counts(book) == before


def test_ten_thousand_recipients_are_refused_for_buyers_and_partners_alike(
    client: TestClient, book: Database, marie: dict[str, str], auth: Auth, draft: str
) -> None:
    crowd = [{"email": f"r{i:05d}@crowd.example", "name": f"R{i}"} for i in range(10_000)]
    anne = auth("anne@partner.example")
    before = row_counts(book)
    mine = client.post(
        QUOTES,
        headers=marie,
        json={"lines": [{"subscription_id": "SUB-0002"}], "recipients": crowd},
    )
    assert says(refused(mine, 422, "invalid_input"), "recipients")
    partner = client.post(
        QUOTES,
        headers=anne,
        json={
            "customer_csn": "5200000003",
            "lines": [{"subscription_id": "SUB-0301"}],
            "contact": {"email": "ana@rio.example"},
            "recipients": crowd,
        },
    )
    assert says(refused(partner, 422, "invalid_input"), "recipients")
    edit = client.patch(f"{QUOTES}/{draft}", headers=marie, json={"recipients": crowd})
    assert says(refused(edit, 422, "invalid_input"), "recipients")
    # Within the schema's 100, the rule's four extra recipients still hold.
    five = client.patch(f"{QUOTES}/{draft}", headers=marie, json={"recipients": crowd[:5]})
    refused(five, 422, "too_many_recipients")
    assert row_counts(book) == before


def test_a_body_over_one_mebibyte_is_refused_with_413_whether_its_size_is_declared_or_not(
    client: TestClient, book: Database, marie: dict[str, str], draft: str, sent: str
) -> None:
    before = row_counts(book)
    two_mib = json.dumps({"lines": [{"subscription_id": "SUB-0001"}], "pad": "x" * 2**21})
    headers = {**marie, "Content-Type": "application/json"}
    for method, path in (
        ("POST", QUOTES),
        ("PATCH", f"{QUOTES}/{draft}"),
        ("POST", f"{QUOTES}/{sent}/checkout"),
        ("POST", f"{QUOTES}/{draft}/send"),
    ):
        answer = client.request(method, path, headers=headers, content=two_mib)
        refused(answer, 413, "payload_too_large")
    anonymous = client.post(TOKEN, headers={"Content-Type": "application/json"}, content=two_mib)
    refused(anonymous, 413, "payload_too_large")
    # Sent in chunks, without Content-Length: counted as it comes.
    chunked = client.post(QUOTES, headers=headers, content=iter([b"x" * 2**16] * 32))
    refused(chunked, 413, "payload_too_large")
    assert row_counts(book) == before
    assert accepted(client.get(f"{QUOTES}/{draft}", headers=marie), 200)["status"] == "draft"


def test_malformed_json_is_refused_with_400_malformed_json(
    client: TestClient, marie: dict[str, str], sent: str, subtests: Any
) -> None:
    headers = {**marie, "Content-Type": "application/json"}
    bodies = {
        "cut short": b'{"lines": [',
        "not JSON at all": b"lines=SUB-0001",
        "a trailing comma": b'{"lines": [{"subscription_id": "SUB-0001"},]}',
        "single quotes": b"{'lines': []}",
        "not UTF-8": '{"lines": [{"subscription_id": "SUB-0001é"}]}'.encode("latin-1"),
        "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    }
    for name, content in bodies.items():
        for path in (QUOTES, f"{QUOTES}/{sent}/checkout", TOKEN):
            with subtests.test(f"{name} to {path}"):
                answer = client.post(path, headers=headers, content=content)
                refused(answer, 400, "malformed_json")


def test_an_idempotency_key_longer_than_255_characters_is_refused_and_nothing_is_created(
    client: TestClient, book: Database, marie: dict[str, str]
) -> None:
    before = row_counts(book)
    body = {"lines": [{"subscription_id": "SUB-0001"}]}
    too_long = client.post(QUOTES, headers={**marie, "Idempotency-Key": "k" * 300}, json=body)
    refused(too_long, 422, "invalid_input")
    assert row_counts(book) == before
    longest = client.post(QUOTES, headers={**marie, "Idempotency-Key": "k" * 255}, json=body)
    accepted(longest, 201)


def test_sql_and_html_in_every_text_field_are_stored_and_given_back_verbatim(
    client: TestClient, book: Database, marie: dict[str, str]
) -> None:
    # E-mail addresses may hold quotes and dashes: the injection classics that are valid.
    emails = ["x'or'1'='1@dupont.example", "o'brien--@dupont.example"]
    extras = [{"email": emails[0], "name": SQL}, {"email": emails[1], "name": HTML}]
    headers = {**marie, "Idempotency-Key": SQL}
    body = {"lines": [{"subscription_id": "SUB-0001"}], "recipients": extras}
    created = accepted(client.post(QUOTES, headers=headers, json=body), 201)
    again = client.post(QUOTES, headers=headers, json=body)
    assert accepted(again, 201) == created
    assert again.headers["idempotent-replayed"] == "true"
    number = created["number"]
    on_draft = {"line1": HTML, "line2": SQL, "city": SQL, "postal_code": "<b>75002</b>"}
    patched = client.patch(f"{QUOTES}/{number}", headers=marie, json={"address": on_draft})
    accepted(patched, 200)
    draft = accepted(client.get(f"{QUOTES}/{number}", headers=marie), 200)
    given = [{"email": r["email"], "name": r["name"]} for r in draft["recipients"][1:]]
    assert given == extras
    assert draft["address"] == {
        "address_line1": HTML,
        "address_line2": SQL,
        "city": SQL,
        "postal_code": "<b>75002</b>",
        "country": "FR",
    }
    accepted(client.post(f"{QUOTES}/{number}/send", headers=marie), 200)
    on_replace = {"line1": SQL, "line2": HTML, "city": HTML, "postal_code": "';--"}
    replaced = client.post(
        f"{QUOTES}/{number}/replace", headers=marie, json={"address": on_replace}
    )
    replacement = accepted(replaced, 201)["number"]
    read = accepted(client.get(f"{QUOTES}/{replacement}", headers=marie), 200)
    assert read["replaces"] == number
    assert read["address"] == {
        "address_line1": SQL,
        "address_line2": HTML,
        "city": HTML,
        "postal_code": "';--",
        "country": "FR",
    }
    assert [{"email": r["email"], "name": r["name"]} for r in read["recipients"][1:]] == extras
    events = accepted(client.get(f"{QUOTES}/{replacement}/events", headers=marie), 200)
    assert events["data"][0]["detail"]["address"] == {
        "line1": SQL,
        "line2": HTML,
        "city": HTML,
        "postal_code": "';--",
    }
    pdf = client.get(f"{QUOTES}/{replacement}/pdf", headers=marie)
    assert (pdf.status_code, pdf.content[:4]) == (200, b"%PDF")
    _all_tables_are_there(book)
    assert row_counts(book)["quotes"] == 2


def test_sql_and_html_in_identifiers_find_nothing_and_drop_nothing(
    client: TestClient, book: Database, marie: dict[str, str], auth: Auth, draft: str
) -> None:
    ops = auth("ops@vendor.example")
    before = row_counts(book)
    for text in (SHORT_SQL, HTML[:20]):
        listed = client.get("/api/v1/subscriptions", headers=ops, params={"customer_csn": text})
        assert accepted(listed, 200)["data"] == []
        quotes = client.get(QUOTES, headers=ops, params={"customer_csn": text})
        assert accepted(quotes, 200)["data"] == []
        groups = client.get("/api/v1/renewal-groups", headers=ops, params={"customer_csn": text})
        refused(groups, 404, "not_found")
        staff_quote = client.post(
            QUOTES,
            headers=ops,
            json={"customer_csn": text, "lines": [{"subscription_id": "SUB-0001"}]},
        )
        refused(staff_quote, 404, "not_found")
    for text in (SQL, HTML):
        refused(client.get(f"/api/v1/subscriptions/{text}", headers=marie), 404, "not_found")
        refused(client.get(f"{QUOTES}/{text}", headers=marie), 404, "not_found")
        refused(client.post(f"{QUOTES}/{text}/send", headers=marie), 404, "not_found")
        after = client.get("/api/v1/subscriptions", headers=marie, params={"starting_after": text})
        assert accepted(after, 200)["has_more"] is False
        line = client.post(QUOTES, headers=marie, json={"lines": [{"subscription_id": text}]})
        refused(line, 404, "not_found")
        sign_in = client.post(TOKEN, json={"email": text, "password": text})
        refused(sign_in, 401, "unauthenticated")
    # The two failed sign-ins are counted: each account from this address, and the address.
    assert row_counts(book) == {**before, "sign_in_throttles": before["sign_in_throttles"] + 3}
    _all_tables_are_there(book)
    assert accepted(client.get(f"{QUOTES}/{draft}", headers=marie), 200)["number"] == draft


def test_nul_characters_are_refused_as_invalid_input_not_crashed_on(
    client: TestClient, marie: dict[str, str], auth: Auth, draft: str, subtests: Any
) -> None:
    # PostgreSQL cannot store NUL in text: it used to answer 500 there, and SQLite did not.
    ops = auth("ops@vendor.example")
    gets = [
        ("/api/v1/subscriptions", {"customer_csn": "52\x00"}, "customer_csn"),
        ("/api/v1/subscriptions", {"starting_after": "SUB\x00"}, "starting_after"),
        ("/api/v1/renewal-groups", {"customer_csn": "\x00"}, "customer_csn"),
        (QUOTES, {"customer_csn": "\x00"}, "customer_csn"),
        ("/api/v1/subscriptions/SUB-0001%00", {}, "subscription_id"),
    ]
    for path, params, field in gets:
        with subtests.test(f"GET {path} {params!r}"):
            answer = client.get(path, headers=ops, params=params)
            assert says(refused(answer, 422, "invalid_input"), field), answer.text
    line = {"subscription_id": "SUB-0001"}
    named = {"email": "a@b.example", "name": "A\x00"}
    new_line = {"offering": "\x00", "term": "annual"}
    posts = [
        ("POST", QUOTES, {"lines": [{"subscription_id": "SUB\x00"}]}, "lines.0.subscription_id"),
        ("POST", QUOTES, {"type": "new", "lines": [new_line]}, "lines.0.offering"),
        ("POST", QUOTES, {"lines": [line], "recipients": [named]}, "recipients.0.name"),
        ("POST", QUOTES, {"customer_csn": "\x00", "lines": [line]}, "customer_csn"),
        ("PATCH", f"{QUOTES}/{draft}", {"address": {"line1": "1 rue\x00"}}, "address.line1"),
        ("POST", TOKEN, {"email": "marie@dupont.example\x00", "password": "x"}, "email"),
    ]
    for method, path, body, field in posts:
        with subtests.test(f"{method} {path} {body!r}"):
            answer = client.request(method, path, headers=marie, json=body)
            assert says(refused(answer, 422, "invalid_input"), field), answer.text
    refused(client.get("/api/v1/quotes/Q-2026-000001%00", headers=marie), 404, "not_found")


def test_values_that_only_look_right_are_refused_not_crashed_on(
    client: TestClient, marie: dict[str, str], draft: str, sent: str
) -> None:
    # "²" is a digit to Python's str.isdigit(), not to int(): the card check used to crash.
    card = {"payment_method": "card", "card_number": "²" * 16}
    paid = client.post(f"{QUOTES}/{sent}/checkout", headers=marie, json=card)
    assert says(refused(paid, 422, "invalid_input"), "card_number")
    luhn = {"payment_method": "card", "card_number": "4242 4242 4242 4241"}
    declined = client.post(f"{QUOTES}/{sent}/checkout", headers=marie, json=luhn)
    refused(declined, 422, "payment_declined")
    # Quote numbers too long for the stored integer used to overflow (a 500), on both databases.
    for number in ("Q-2026-" + "9" * 30, "Q-2026-9999999999", "Q-٢٠٢٦-٠٠٠٠٠١"):
        refused(client.get(f"{QUOTES}/{number}", headers=marie), 404, "not_found")
        after = client.get(QUOTES, headers=marie, params={"starting_after": number})
        refused(after, 404, "not_found")
    # Pydantic alone would read a number as a Unix time: 0 is not 1970-01-01 here.
    for value in ("0", "1767225600"):
        listed = client.get("/api/v1/subscriptions", headers=marie, params={"end_before": value})
        assert says(refused(listed, 422, "invalid_input"), "end_before")
    # An address always has a first line, a city and a postal code: they cannot be cleared.
    cleared = client.patch(f"{QUOTES}/{draft}", headers=marie, json={"address": {"city": None}})
    assert says(refused(cleared, 422, "invalid_input"), "address.city")
    no_line = {"address": {"line1": None}}
    replaced = client.post(f"{QUOTES}/{sent}/replace", headers=marie, json=no_line)
    assert says(refused(replaced, 422, "invalid_input"), "address.line1")
    line2 = client.patch(f"{QUOTES}/{draft}", headers=marie, json={"address": {"line2": None}})
    assert accepted(line2, 200)["address"]["address_line2"] is None


def test_wrong_methods_and_unknown_routes_are_problems_too(
    client: TestClient, marie: dict[str, str], draft: str
) -> None:
    refused(client.put(QUOTES, headers=marie, json={}), 405, "invalid_input")
    refused(client.delete(f"{QUOTES}/{draft}", headers=marie), 405, "invalid_input")
    refused(client.get("/api/v1/orders", headers=marie), 405, "invalid_input")  # POST only
    refused(client.get("/api/v1/invoices", headers=marie), 404, "not_found")
    refused(client.get("/api/v2/quotes", headers=marie), 404, "not_found")


def _all_tables_are_there(book: Database) -> None:
    assert set(Base.metadata.tables) <= set(inspect(book.engine).get_table_names())
