"""The access matrix, generated from the OpenAPI document, on SQLite and PostgreSQL.

Every operation under /api/v1 is called by every kind of caller (no token, a customer's buyer, a
customer's read-only user, another customer, the partner of record, another partner, staff) on
the quote, the subscription and the customer of each tenant. Without a token the answer is 401;
what the caller may not see is 404, whatever it asks to do; what it may see but not do is 403;
and no answer carries another tenant's CSNs, subscription ids, quote numbers or e-mails (beyond
what the caller itself sent). A route the matrix does not know fails the first test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from renewquote.services.auth import issue_token
from renewquote.storage.database import Database
from tests.book import NOW

PROBLEM = "application/problem+json"
API = "/api/v1/"


@dataclass(frozen=True)
class Tenant:
    """A customer of the test book and what names it."""

    csn: str
    subscription: str
    emails: tuple[str, ...]
    other_subscriptions: tuple[str, ...] = ()


TENANTS = {
    "dupont": Tenant(
        "5200000001",
        "SUB-0001",
        ("marie@dupont.example", "paul@dupont.example", "compta@dupont.example"),
        # SUB-0004 is left out: its partner of record sees it (see PARTNER_READERS).
        tuple(f"SUB-{n:04d}" for n in range(2, 12) if n != 4),
    ),
    "acme": Tenant("5200000002", "SUB-0201", ("jo@acme.example",)),
    "rio": Tenant("5200000003", "SUB-0301", ("ana@rio.example",)),
    "tokyo": Tenant("5200000004", "SUB-0401", ("ken@tokyo.example",)),
}
# The tenants whose quote, subscription and customer each operation is tried on.
TARGETS = ("dupont", "acme", "rio")


@dataclass(frozen=True)
class Caller:
    """Someone calling the API, and what the rules let it see and do."""

    name: str
    email: str | None
    password: str | None = None
    sees: frozenset[str] = frozenset()  # tenants whose quotes and subscriptions it sees
    names: frozenset[str] = frozenset()  # tenants whose customer it may name
    buys: bool = False  # quotes and orders
    cancels: bool = False  # partners and staff cancel; customers never do
    makes: frozenset[str] = frozenset()  # tenants whose quote (of `quotes`) it made


def _customer(name: str, email: str, tenant: str, *, buys: bool) -> Caller:
    # Its company's buyers made its self-service quote; a read-only user may change nothing.
    only = frozenset({tenant})
    return Caller(name, email, f"pw-{email}", only, only, buys=buys, makes=only)


ALL = frozenset(TENANTS)
CALLERS = (
    Caller("anonymous", None),
    _customer("marie", "marie@dupont.example", "dupont", buys=True),
    _customer("paul", "paul@dupont.example", "dupont", buys=False),
    _customer("jo", "jo@acme.example", "acme", buys=True),
    # Anne resells SUB-0004 of Dupont and SUB-0301 of Rio: she may name both customers, but of
    # Dupont she sees only SUB-0004, and of the quotes only those she made.
    Caller(
        "anne",
        "anne@partner.example",
        "anne-pass",
        frozenset({"rio"}),
        frozenset({"dupont", "rio"}),
        buys=True,
        cancels=True,
        makes=frozenset({"rio"}),
    ),
    Caller("bob", "bob@other.example", "bob-pass", buys=True, cancels=True),
    Caller("ops", "ops@vendor.example", "ops-pass", ALL, ALL, buys=True, cancels=True),
)
# Identifying strings outside the tenants, and who may read them.
PARTNER_READERS = {
    "SUB-0004": {"marie", "paul", "anne", "ops"},
    "5100000001": {"marie", "paul", "anne", "ops"},  # partner_csn of SUB-0004 and SUB-0301
    "anne@partner.example": {"anne", "ops"},
    "5100000002": {"bob", "ops"},
    "bob@other.example": {"bob", "ops"},
    "ops@vendor.example": {"ops"},
}

# (status, code); None: allowed to act, any answer but 401, 403, 404 or 5xx (the state decides).
Expected = tuple[int, str | None] | None
OK = (200, None)
UNAUTHENTICATED = (401, "unauthenticated")
NOT_FOUND = (404, "not_found")
FORBIDDEN = (403, "forbidden")


@dataclass(frozen=True)
class Operation:
    """How the matrix calls one operation, and what each caller should hear."""

    expect: Callable[[Caller, str | None], Expected]
    body: Callable[[Tenant], dict[str, Any]] | None = None
    fresh_token: bool = False  # signing out must not end the caller's other calls


def _sign_in(caller: Caller, tenant: str | None) -> Expected:
    return UNAUTHENTICATED if caller.password is None else OK


def _sign_out(caller: Caller, tenant: str | None) -> Expected:
    return (204, None)


def _list(caller: Caller, tenant: str | None) -> Expected:
    return OK  # a list narrowed to a customer one may not see is empty, not refused


def _groups(caller: Caller, tenant: str | None) -> Expected:
    if tenant is None:
        return (422, "invalid_input") if caller.name == "ops" else OK
    return OK if tenant in caller.names else NOT_FOUND


def _read(caller: Caller, tenant: str | None) -> Expected:
    return OK if tenant in caller.sees else NOT_FOUND


def _create(caller: Caller, tenant: str | None) -> Expected:
    if not caller.buys:
        return FORBIDDEN  # nothing to look up yet: a read-only user may not create at all
    return None if tenant in caller.sees else NOT_FOUND


def _act(caller: Caller, tenant: str | None) -> Expected:
    if tenant not in caller.sees:
        return NOT_FOUND
    return None if caller.buys else FORBIDDEN


def _change(caller: Caller, tenant: str | None) -> Expected:
    # Only the party that made a quote changes it; the others may see it, not change it.
    if tenant not in caller.sees:
        return NOT_FOUND
    if not caller.buys:
        return FORBIDDEN
    return None if tenant in caller.makes else (403, "not_quote_maker")


def _cancel(caller: Caller, tenant: str | None) -> Expected:
    if tenant not in caller.sees:
        return NOT_FOUND
    return None if caller.cancels else (403, "cancellation_not_self_service")


def _hooks(caller: Caller, tenant: str | None) -> Expected:
    # Webhooks are for partners and staff; a customer's users are refused whatever they ask.
    return FORBIDDEN if caller.makes and not caller.cancels else OK


def _hook_created(caller: Caller, tenant: str | None) -> Expected:
    return FORBIDDEN if caller.makes and not caller.cancels else (201, None)


def _hook_deleted(caller: Caller, tenant: str | None) -> Expected:
    # No endpoint has the matrix's id: the owners hear 404 (theirs or no one's alike).
    return FORBIDDEN if caller.makes and not caller.cancels else NOT_FOUND


def _new_quote(tenant: Tenant) -> dict[str, Any]:
    return {"customer_csn": tenant.csn, "lines": [{"subscription_id": tenant.subscription}]}


MATRIX: dict[tuple[str, str], Operation] = {
    ("POST", "/api/v1/auth/token"): Operation(_sign_in),
    ("DELETE", "/api/v1/auth/token"): Operation(_sign_out, fresh_token=True),
    ("GET", "/api/v1/subscriptions"): Operation(_list),
    ("GET", "/api/v1/subscriptions/{subscription_id}"): Operation(_read),
    ("GET", "/api/v1/renewal-groups"): Operation(_groups),
    ("POST", "/api/v1/quotes"): Operation(_create, body=_new_quote),
    ("GET", "/api/v1/quotes"): Operation(_list),
    ("GET", "/api/v1/quotes/{number}"): Operation(_read),
    ("PATCH", "/api/v1/quotes/{number}"): Operation(
        _change, body=lambda t: {"recipients": [{"email": "cfo@example.org"}]}
    ),
    ("POST", "/api/v1/quotes/{number}/send"): Operation(_change),
    ("POST", "/api/v1/quotes/{number}/cancel"): Operation(_cancel),
    ("POST", "/api/v1/quotes/{number}/replace"): Operation(
        _change, body=lambda t: {"address": {"city": "Lyon"}}
    ),
    ("GET", "/api/v1/quotes/{number}/pdf"): Operation(_read),
    ("GET", "/api/v1/quotes/{number}/events"): Operation(_read),
    ("POST", "/api/v1/quotes/{number}/checkout"): Operation(
        _act, body=lambda t: {"payment_method": "card", "card_number": "4242 4242 4242 4242"}
    ),
    ("POST", "/api/v1/orders"): Operation(
        _create,
        body=lambda t: {
            **_new_quote(t),
            "payment": {"payment_method": "card", "card_number": "4242 4242 4242 4242"},
        },
    ),
    # A public address written as one: nothing to resolve on a machine without DNS.
    ("POST", "/api/v1/webhook-endpoints"): Operation(
        _hook_created,
        body=lambda t: {"url": "https://93.184.215.14/hook", "events": ["quote.sent"]},
    ),
    ("GET", "/api/v1/webhook-endpoints"): Operation(_hooks),
    ("DELETE", "/api/v1/webhook-endpoints/{endpoint_id}"): Operation(_hook_deleted),
}

SIGN_IN = ("POST", "/api/v1/auth/token")


@dataclass
class Cell:
    """One call of the matrix: who, what, on which tenant's object."""

    caller: Caller
    method: str
    path: str
    tenant: str | None
    url: str
    params: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None

    @property
    def operation(self) -> str:
        return f"{self.method} {self.path}"

    def __str__(self) -> str:
        return f"{self.caller.name:9} {self.operation} on {self.tenant or '-'}"


def api_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every operation of the OpenAPI document under /api/v1."""
    for path, methods in document["paths"].items():
        if path.startswith(API):
            for method, operation in methods.items():
                yield method.upper(), path, operation


def cells(caller: Caller, document: dict[str, Any], quotes: dict[str, str]) -> Iterator[Cell]:
    """Generate the caller's row of the matrix from the OpenAPI document."""
    for method, path, operation in api_operations(document):
        spec = MATRIX[(method, path)]
        where = {p["name"]: p["in"] for p in operation.get("parameters", [])}
        in_path = [name for name, place in where.items() if place == "path"]
        targets: tuple[str | None, ...] = (None,)
        if in_path or "customer_csn" in _body_fields(document, operation):
            targets = TARGETS
        elif where.get("customer_csn") == "query":
            targets = (None, *TARGETS)
        for tenant in targets:
            url, params = path, {}
            if tenant is not None:
                fill = {
                    "number": quotes[tenant],
                    "subscription_id": TENANTS[tenant].subscription,
                    "endpoint_id": "whe_000000000000000000000000",
                }
                for name in in_path:
                    url = url.replace(f"{{{name}}}", fill[name])
                if not in_path:
                    params = {"customer_csn": TENANTS[tenant].csn}
            body = spec.body(TENANTS[tenant or "dupont"]) if spec.body else None
            if (method, path) == SIGN_IN:
                body = {"email": caller.email or "marie@dupont.example", "password": "wrong"}
                if caller.password is not None:
                    body["password"] = caller.password
            yield Cell(caller, method, path, tenant, url, params, body)


def _body_fields(document: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    """Name the fields of an operation's JSON body, as the document describes them."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = content.get("schema", {})
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return set(schema.get("properties", {}))


def never_seen_by(caller: Caller, quotes: dict[str, str]) -> set[str]:
    """Every identifying string of the book that `caller` must never be told."""
    hidden = set()
    for name, tenant in TENANTS.items():
        if name not in caller.names:
            hidden.add(tenant.csn)
        if name not in caller.sees:
            hidden.update((tenant.subscription, *tenant.emails, *tenant.other_subscriptions))
            if name in quotes:
                hidden.add(quotes[name])
    hidden.update(s for s, readers in PARTNER_READERS.items() if caller.name not in readers)
    return hidden


@pytest.fixture
def quotes(client: TestClient, auth: Callable[[str], dict[str, str]]) -> dict[str, str]:
    """A draft quote per tenant: Marie's self-service, Jo's, and Anne's partner quote for Rio."""
    asked = {
        "dupont": ("marie@dupont.example", {"lines": [{"subscription_id": "SUB-0001"}]}),
        "acme": ("jo@acme.example", {"lines": [{"subscription_id": "SUB-0201"}]}),
        "rio": (
            "anne@partner.example",
            {
                "customer_csn": "5200000003",
                "lines": [{"subscription_id": "SUB-0301"}],
                "contact": {"email": "ana@rio.example"},
            },
        ),
    }
    numbers = {}
    for tenant, (email, body) in asked.items():
        made = client.post("/api/v1/quotes", headers=auth(email), json=body)
        assert made.status_code == 201, made.text
        numbers[tenant] = made.json()["number"]
    return numbers


def test_the_matrix_knows_every_operation_of_the_openapi_document(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    served = {(method, path) for method, path, _ in api_operations(document)}
    assert served == set(MATRIX), (
        f"not in the matrix: {sorted(served - set(MATRIX))}; "
        f"gone from the API: {sorted(set(MATRIX) - served)}"
    )


@pytest.mark.parametrize("caller", CALLERS, ids=[c.name for c in CALLERS])
def test_each_caller_hears_its_row_of_the_access_matrix_and_nothing_of_other_tenants(
    caller: Caller,
    client: TestClient,
    book: Database,
    auth: Callable[[str], dict[str, str]],
    quotes: dict[str, str],
) -> None:
    document = client.get("/openapi.json").json()
    hidden = never_seen_by(caller, quotes)
    wrong = []
    for cell in cells(caller, document, quotes):
        headers = {}
        if caller.email is not None:
            headers = auth(caller.email)
            if MATRIX[(cell.method, cell.path)].fresh_token:
                token = issue_token(book, caller.email, now=NOW).access_token
                headers = {"Authorization": f"Bearer {token}"}
        if caller.email is None and (cell.method, cell.path) != SIGN_IN:
            expected: Expected = UNAUTHENTICATED
        else:
            expected = MATRIX[(cell.method, cell.path)].expect(caller, cell.tenant)
        answer = client.request(
            cell.method, cell.url, headers=headers, params=cell.params, json=cell.body
        )
        wrong += _misanswers(cell, answer, expected, hidden)
    assert not wrong, f"{len(wrong)} wrong answers:\n" + "\n".join(wrong)


def _misanswers(cell: Cell, answer: Any, expected: Expected, hidden: set[str]) -> list[str]:
    """Say what is wrong with one answer of the matrix (nothing when it is right)."""
    wrong = []
    status = answer.status_code
    is_pdf = answer.headers.get("content-type") == "application/pdf"
    code = None
    if status >= 400:
        if answer.headers.get("content-type") != PROBLEM:
            wrong.append(f"{cell}: {status} is not {PROBLEM}")
        code = answer.json().get("code")
    if expected is None:
        if status in (401, 403, 404) or status >= 500:
            wrong.append(f"{cell}: allowed, but got {status} {code}")
    elif (status, code) != expected:
        wrong.append(f"{cell}: expected {expected}, got {(status, code)}")
    if not is_pdf:
        sent = cell.url + json.dumps(cell.params) + json.dumps(cell.body)
        leaked = sorted(s for s in hidden if s in answer.text and s not in sent)
        if leaked:
            wrong.append(f"{cell}: answered {status} with foreign data {leaked}")
    return wrong


def test_another_tenants_subscription_among_broken_rules_makes_the_refusal_a_404_not_found(
    client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    # SUB-0011 is Marie's but past its window; SUB-0201 is Jo's. The refusal is a 404, and is
    # named so: not after the broken rule that happened to be found first.
    answer = client.post(
        "/api/v1/quotes",
        headers=auth("marie@dupont.example"),
        json={"lines": [{"subscription_id": "SUB-0011"}, {"subscription_id": "SUB-0201"}]},
    )
    body = answer.json()
    assert (answer.status_code, body["code"], body["detail"]) == (
        404,
        "not_found",
        "No such subscription.",
    )
    assert [v["code"] for v in body["violations"]] == ["not_renewable", "not_found"]
    assert not [s for s in ("5200000002", "jo@acme.example") if s in answer.text]
