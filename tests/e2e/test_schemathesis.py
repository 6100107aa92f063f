"""Schemathesis against the served OpenAPI document, on SQLite and PostgreSQL.

Every operation gets the document's examples, then random inputs that fit the schemas and inputs
that do not, each sent as a staff member and as a customer's buyer: no answer may be a server
error, every answer must carry a documented status, content type and body, and what breaks the
schema must be refused.

How it is bounded and aimed:
- The schema is read once, at import, from `/openapi.json` of an app whose database is never
  opened; each case is then sent to this test's own app over the test book. (Schemathesis' lazy
  `from_fixture` loader cannot run under pytest 9.2: it sets `Function._nodeid`, which is gone.)
- Three phases run: the document's examples, the coverage phase (boundary and wrong-type values,
  deterministic) and fuzzing, its `max-examples` small; the seed is fixed, so a failure replays
  exactly. Each case is sent twice (staff, buyer) within one test, which halves the fixtures. The
  file takes 15 to 30 s for both databases on two CPUs, so PostgreSQL is kept.
- Random quote numbers, subscription ids and CSNs name nothing, so every such value generated is
  mapped (by its CRC-32) onto a real draft, a real sent quote, another tenant's quote, or left as
  it was: the cases reach real objects in every state, and foreign ones.
- Security parameters are not fuzzed: the token is ours, and calls without one are the access
  matrix's subject (test_access_matrix.py).
- Passwords are checked with argon2 at its lowest cost, as the rest of the tests do.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from renewquote.api.app import create_app
from renewquote.services import auth as auth_service
from renewquote.storage.database import Database
from tests.book import NOW
from tests.conftest import FAST_HASHER

CALLERS = {"staff": "ops@vendor.example", "buyer": "marie@dupont.example"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261128,
        "generation": {
            "mode": "all",
            "max-examples": 10,
            "database": "none",
            "with-security-parameters": False,
        },
        "phases": {"coverage": {"enabled": True}},
    }
)
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(Database("sqlite://")), config=CONFIG
)


class Served:
    """The app over the test book, the callers' tokens, and real values to aim the cases at."""

    def __init__(
        self, app: FastAPI, callers: dict[str, dict[str, str]], real: dict[str, list[str]]
    ) -> None:
        self.app = app
        self.callers = callers
        self.real = real

    def aim(self, case: schemathesis.Case) -> None:
        """Replace generated identifiers by real ones (or keep them), by their CRC-32."""
        for values in (case.path_parameters, case.query):
            for name, value in list((values or {}).items()):
                if name in self.real:
                    values[name] = _pick([*self.real[name], value], value)


def _pick(choices: Sequence[Any], value: Any) -> Any:
    return choices[zlib.crc32(repr(value).encode()) % len(choices)]


@pytest.fixture
def served(
    book: Database,
    auth: Callable[[str], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> Served:
    """Marie's draft and sent quotes and Jo's draft, and the app serving them."""
    monkeypatch.setattr(auth_service, "_hasher", FAST_HASHER)
    monkeypatch.setattr(auth_service, "_DUMMY_HASH", FAST_HASHER.hash("nobody's password"))
    app = create_app(book, clock=lambda: NOW)
    marie, jo = auth("marie@dupont.example"), auth("jo@acme.example")
    numbers = []
    with TestClient(app) as client:
        for who, sid in ((marie, "SUB-0001"), (marie, "SUB-0002"), (jo, "SUB-0201")):
            made = client.post(
                "/api/v1/quotes", headers=who, json={"lines": [{"subscription_id": sid}]}
            )
            assert made.status_code == 201, made.text
            numbers.append(made.json()["number"])
        sent = client.post(f"/api/v1/quotes/{numbers[1]}/send", headers=marie)
        assert sent.status_code == 200, sent.text
    real = {
        "number": numbers,
        "subscription_id": ["SUB-0001", "SUB-0004", "SUB-0201"],
        "customer_csn": ["5200000001", "5200000002", "5200000003"],
    }
    return Served(app, {caller: auth(email) for caller, email in CALLERS.items()}, real)


@schema.parametrize()
# The fixture is shared by a test's examples on purpose (one book, changed as they go); a busy
# CI machine must not turn slow generation into a failure.
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_answer_is_documented_and_none_is_a_server_error(
    case: schemathesis.Case, served: Served
) -> None:
    served.aim(case)
    for caller, headers in served.callers.items():
        # The report's curl line hides the token but shows this header: it names the caller.
        named = {**headers, "X-Caller": caller}
        case.call_and_validate(app=served.app, headers=named, checks=CHECKS)
