"""The flows of RULES.md end to end through the HTTP API."""

from __future__ import annotations

import gc
import json
from datetime import timedelta

from fastapi.testclient import TestClient

from renewquote.api.app import create_app
from renewquote.api.dependencies import TOKENS, forget_token, known_caller, remember
from renewquote.api.schemas import RenewalGroups
from renewquote.domain.model import CallerKind, ContactRole
from renewquote.services import renewals
from renewquote.services.access import Caller
from renewquote.services.auth import find_caller
from tests.book import NOW

PROBLEM = "application/problem+json"


def sign_in(client, email: str, password: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "bearer"
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_a_buyer_renews_a_group_on_a_quote_and_orders_it(client):
    me = sign_in(client, "marie@dupont.example", "pw-marie@dupont.example")
    groups = client.get("/api/v1/renewal-groups", headers=me).json()
    eur = next(
        g for g in groups["data"] if g["currency"] == "EUR" and g["purchase_method"] == "direct"
    )
    assert "SUB-0001" in eur["subscription_ids"]
    ineligible = {i["subscription_id"]: i["reasons"] for i in groups["ineligible"]}
    assert ineligible["SUB-0005"][0]["code"] == "ineligible_offering"
    # Untick all but two, review quantities, add a recipient.
    created = client.post(
        "/api/v1/quotes",
        headers=me,
        json={
            "type": "renewal",
            "lines": [
                {"subscription_id": "SUB-0001", "quantity": 4},
                {"subscription_id": "SUB-0002"},
            ],
            "recipients": [{"email": "cfo@dupont.example", "name": "CFO"}],
        },
    )
    assert created.status_code == 201, created.text
    quote = created.json()
    assert quote["status"] == "draft"
    assert (quote["subtotal"], quote["tax"], quote["total"]) == ("7240.00", "1448.00", "8688.00")
    assert [r["role"] for r in quote["recipients"]] == ["buyer", "extra"]
    number = quote["number"]
    sent = client.post(f"/api/v1/quotes/{number}/send", headers=me)
    assert sent.json()["status"] == "sent"
    pdf = client.get(f"/api/v1/quotes/{number}/pdf", headers=me)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    ordered = client.post(
        f"/api/v1/quotes/{number}/checkout",
        headers=me,
        json={"payment_method": "card", "card_number": "4242 4242 4242 4242"},
    )
    assert ordered.status_code == 200, ordered.text
    assert ordered.json()["order"]["total"] == "8688.00"
    assert ordered.json()["quote"]["status"] == "ordered"
    sub = client.get("/api/v1/subscriptions/SUB-0001", headers=me).json()
    assert (sub["quantity"], sub["end_date"]) == (4, "2027-12-14")
    assert sub["renewal"]["eligible"] is False
    events = client.get(f"/api/v1/quotes/{number}/events", headers=me).json()["data"]
    assert [e["action"] for e in events] == ["created", "sent", "ordered"]


def test_a_partner_quotes_a_customer_without_self_service_and_cancels(client):
    anne = sign_in(client, "anne@partner.example", "anne-pass")
    groups = client.get(
        "/api/v1/renewal-groups", headers=anne, params={"customer_csn": "5200000003"}
    ).json()
    assert groups["data"][0]["subscription_ids"] == ["SUB-0301"]
    created = client.post(
        "/api/v1/quotes",
        headers=anne,
        json={
            "customer_csn": "5200000003",
            "lines": [{"subscription_id": "SUB-0301"}],
            "contact": {"email": "ana@rio.example"},
            "recipients": [{"email": f"extra{i}@x.example"} for i in range(5)],
        },
    )
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert client.post(f"/api/v1/quotes/{number}/send", headers=anne).status_code == 200
    # The customer sees it under Billing and orders > Quotes, but cannot cancel it.
    ana = sign_in(client, "ana@rio.example", "pw-ana@rio.example")
    listed = client.get("/api/v1/quotes", headers=ana).json()["data"]
    assert [q["number"] for q in listed] == [number]
    refused = client.post(f"/api/v1/quotes/{number}/cancel", headers=ana)
    assert refused.status_code == 403
    assert refused.json()["code"] == "cancellation_not_self_service"
    assert (
        client.post(f"/api/v1/quotes/{number}/cancel", headers=anne).json()["status"] == "cancelled"
    )


def test_broken_rules_come_back_as_problems_in_the_callers_language(client, auth):
    answer = client.post(
        "/api/v1/quotes",
        headers={**auth("marie@dupont.example"), "Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"},
        json={
            "lines": [
                {"subscription_id": "SUB-0001", "quantity": 50},
                {"subscription_id": "SUB-0003"},
            ]
        },
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    codes = {v["code"]: v for v in body["violations"]}
    assert {"seat_increase", "mixed_currency"} <= set(codes)
    assert codes["seat_increase"]["subscription_ids"] == ["SUB-0001"]
    assert "postes" in codes["seat_increase"]["message"]


def test_wrong_state_is_409_and_foreign_objects_are_404(client, auth):
    marie = auth("marie@dupont.example")
    number = client.post(
        "/api/v1/quotes", headers=marie, json={"lines": [{"subscription_id": "SUB-0001"}]}
    ).json()["number"]
    client.post(f"/api/v1/quotes/{number}/send", headers=marie)
    again = client.patch(f"/api/v1/quotes/{number}", headers=marie, json={"recipients": []})
    assert (again.status_code, again.json()["code"]) == (409, "quote_not_editable")
    other = client.get(f"/api/v1/quotes/{number}", headers=auth("jo@acme.example"))
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    assert "SUB-0001" not in other.text


def test_no_token_is_401_and_a_revoked_token_stops_working(client):
    assert client.get("/api/v1/subscriptions").status_code == 401
    me = sign_in(client, "jo@acme.example", "pw-jo@acme.example")
    assert client.get("/api/v1/subscriptions", headers=me).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=me).status_code == 204
    assert client.get("/api/v1/subscriptions", headers=me).status_code == 401


def test_repeated_failed_sign_ins_are_slowed_down(client):
    for _ in range(5):
        wrong = client.post(
            "/api/v1/auth/token", json={"email": "jo@acme.example", "password": "nope"}
        )
        assert wrong.status_code == 401
    blocked = client.post(
        "/api/v1/auth/token", json={"email": "jo@acme.example", "password": "pw-jo@acme.example"}
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["code"] == "rate_limited"


def test_the_same_idempotency_key_gives_back_the_first_answer(client, auth):
    marie = {**auth("marie@dupont.example"), "Idempotency-Key": "k-1"}
    body = {"lines": [{"subscription_id": "SUB-0001"}]}
    first = client.post("/api/v1/quotes", headers=marie, json=body)
    second = client.post("/api/v1/quotes", headers=marie, json=body)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    other = client.post(
        "/api/v1/quotes", headers=marie, json={"lines": [{"subscription_id": "SUB-0002"}]}
    )
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    listed = client.get("/api/v1/quotes", headers=auth("marie@dupont.example")).json()["data"]
    assert len(listed) == 1


def test_malformed_and_oversized_bodies_are_refused_plainly(client, auth):
    marie = {**auth("marie@dupont.example"), "Content-Type": "application/json"}
    bad = client.post("/api/v1/quotes", headers=marie, content=b'{"lines": [')
    assert (bad.status_code, bad.json()["code"]) == (400, "malformed_json")
    huge = client.post(
        "/api/v1/quotes", headers=marie, content=json.dumps({"x": "a" * (1024 * 1024)})
    )
    assert (huge.status_code, huge.json()["code"]) == (413, "payload_too_large")
    unknown = client.post(
        "/api/v1/quotes",
        headers=marie,
        json={"lines": [{"subscription_id": "SUB-0001"}], "colour": "red"},
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "invalid_input")
    assert "colour" in unknown.json()["violations"][0]["message"]


def test_health_metrics_and_openapi(book, auth):
    app = create_app(book, clock=lambda: NOW, metrics_token="scraper")
    with TestClient(app) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        client.post(
            "/api/v1/quotes",
            headers=auth("marie@dupont.example"),
            json={"lines": [{"subscription_id": "SUB-0001"}]},
        )
        metrics = client.get("/metrics", headers={"Authorization": "Bearer scraper"}).text
        schema = client.get("/openapi.json").json()
    assert 'renewquote_quotes_total{event="created"}' in metrics
    assert "renewquote_http_request_duration_seconds_bucket" in metrics
    assert {"QuoteCreate", "QuotePublic", "Problem", "RenewalGroups"} <= set(
        schema["components"]["schemas"]
    )


def test_renewal_groups_are_the_same_whether_or_not_the_token_was_seen_before(client, auth, book):
    # A token this process has not seen is checked in the database; a known one comes from
    # the process's cache. Both must answer what the service answers.
    callers = [
        ("marie@dupont.example", {}, 200),
        ("ana@rio.example", {}, 200),  # a country without self-service: every reason given
        ("paul@dupont.example", {"customer_csn": "5200000001"}, 200),
        ("marie@dupont.example", {"customer_csn": "5200000002"}, 404),  # another company
        ("anne@partner.example", {}, 200),
        ("anne@partner.example", {"customer_csn": "5200000003"}, 200),
        ("ops@vendor.example", {"customer_csn": "5200000004"}, 200),
    ]
    for email, params, status in callers:
        headers = auth(email)
        forget_token(headers["Authorization"].removeprefix("Bearer "))
        first = client.get("/api/v1/renewal-groups", headers=headers, params=params)
        again = client.get("/api/v1/renewal-groups", headers=headers, params=params)
        assert (first.status_code, again.status_code) == (status, status), (email, params)
        assert first.json() == again.json()
        if status == 200:
            actor = find_caller(book, email)
            expected = renewals.renewal_groups(
                book, actor, today=NOW.date(), customer_csn=params.get("customer_csn")
            )
            assert first.json() == RenewalGroups.of(expected, "en").model_dump(mode="json")
            assert first.json()["data"] or first.json()["ineligible"], (email, params)


def test_a_quote_is_the_same_whether_or_not_the_token_was_seen_before(client, auth):
    # A buyer's token this process has not seen is checked in the round trip that reads the
    # quote's facts; a partner's is checked first. Both must answer as a known token does.
    bodies = [
        ("marie@dupont.example", {"lines": [{"subscription_id": "SUB-0001"}]}),
        (
            "anne@partner.example",
            {
                "customer_csn": "5200000003",
                "contact": {"email": "ana@rio.example"},
                "lines": [{"subscription_id": "SUB-0301"}],
            },
        ),
    ]
    for email, body in bodies:
        headers = auth(email)
        forget_token(headers["Authorization"].removeprefix("Bearer "))
        first = client.post("/api/v1/quotes", headers=headers, json=body)
        again = client.post("/api/v1/quotes", headers=headers, json=body)
        assert (first.status_code, again.status_code) == (201, 201), first.text
        assert first.json()["number"] != again.json()["number"]
        assert {**first.json(), "number": ""} == {**again.json(), "number": ""}
        assert first.json()["lines"][0]["subscription_id"] == body["lines"][0]["subscription_id"]
    refused = client.post(
        "/api/v1/quotes",
        headers={"Authorization": "Bearer rq_unknown"},
        json=bodies[0][1],
    )
    assert refused.status_code == 401
    assert refused.json()["code"] == "unauthenticated"


def test_the_servers_application_leaves_its_startup_objects_out_of_collections(book):
    app = create_app(book, clock=lambda: NOW, freeze_heap=True)
    try:
        with TestClient(app) as started:
            assert gc.get_freeze_count() > 10_000
            assert started.get("/healthz").status_code == 200
    finally:
        gc.unfreeze()


def test_the_token_cache_keeps_plain_values_that_the_collector_leaves_alone():
    buyer = Caller("x@y.example", CallerKind.CUSTOMER, 7, ContactRole.PURCHASER, "5200000001", None)
    remember("rq_cached", buyer, NOW + timedelta(hours=1))
    try:
        assert known_caller("rq_cached", NOW) == buyer
        assert known_caller("rq_cached", NOW + timedelta(hours=2)) is None  # the token expired
        gc.collect()
        assert not gc.is_tracked(TOKENS["rq_cached"])
    finally:
        forget_token("rq_cached")
    assert known_caller("rq_cached", NOW) is None


def test_renew_and_pay_now_makes_the_quote_and_buys_it_at_once(client, auth):
    me = auth("marie@dupont.example")
    body = {
        "lines": [{"subscription_id": "SUB-0001", "quantity": 4}, {"subscription_id": "SUB-0002"}],
        "payment": {"payment_method": "card", "card_number": "4242 4242 4242 4242"},
    }
    bought = client.post("/api/v1/orders", headers=me, json=body)
    assert bought.status_code == 201, bought.text
    order, quote = bought.json()["order"], bought.json()["quote"]
    assert quote["status"] == "ordered" and order["total"] == quote["total"] == "8688.00"
    assert [r["delivery"] for r in quote["recipients"]] == [None]  # no quote mail: bought at once
    # Both subscriptions renewed once: a second try finds nothing left to renew.
    again = client.post("/api/v1/orders", headers=me, json=body)
    assert again.status_code == 422, again.text


def test_renew_and_pay_now_refused_at_sending_leaves_no_draft_behind(client, auth):
    # A partner's quote needs the customer's contact; without one, sending refuses it, and the
    # draft made a moment before goes too (made and sent in one transaction).
    anne = auth("anne@partner.example")
    refused = client.post(
        "/api/v1/orders",
        headers=anne,
        json={
            "customer_csn": "5200000003",
            "lines": [{"subscription_id": "SUB-0301"}],
            "payment": {"payment_method": "card", "card_number": "4242 4242 4242 4242"},
        },
    )
    assert refused.status_code == 422, refused.text
    assert "contact" in refused.text
    assert client.get("/api/v1/quotes", headers=anne).json()["data"] == []


def test_renew_and_pay_now_with_a_declined_card_buys_nothing_and_leaves_nothing_open(client, auth):
    me = auth("marie@dupont.example")
    body = {
        "lines": [{"subscription_id": "SUB-0001"}],
        "payment": {"payment_method": "card", "card_number": "4000 0000 0000 0002"},
    }
    declined = client.post("/api/v1/orders", headers=me, json=body)
    assert declined.status_code == 422 and declined.json()["code"] == "payment_declined"
    listed = client.get("/api/v1/quotes", headers=me).json()["data"]
    assert [q["status"] for q in listed] == ["cancelled"]
    events = client.get(f"/api/v1/quotes/{listed[0]['number']}/events", headers=me).json()
    assert [e["action"] for e in events["data"]][-1] == "cancelled"
    # Refused by the rules: nothing at all is left.
    bad = client.post(
        "/api/v1/orders",
        headers=me,
        json={**body, "lines": [{"subscription_id": "SUB-0001", "quantity": 99}]},
    )
    assert bad.status_code == 422 and bad.json()["code"] == "seat_increase"
    assert len(client.get("/api/v1/quotes", headers=me).json()["data"]) == 1


def test_reasons_are_worded_in_each_callers_language_call_after_call(client, auth):
    # Subscriptions alike share one tuple of reasons, put into words once per language and
    # kept: French after English (and back) must still be French.
    headers = auth("marie@dupont.example")
    worded = {}
    for language in ("en", "fr", "en", "fr"):
        answer = client.get(
            "/api/v1/renewal-groups", headers={**headers, "Accept-Language": language}
        )
        assert answer.status_code == 200
        reasons = {i["subscription_id"]: i["reasons"] for i in answer.json()["ineligible"]}
        assert reasons, "the test book has subscriptions that cannot renew"
        worded.setdefault(language, reasons)
        assert reasons == worded[language]
    assert worded["en"].keys() == worded["fr"].keys()
    for sid, english in worded["en"].items():
        french = worded["fr"][sid]
        assert [r["code"] for r in english] == [r["code"] for r in french]
        assert [r["message"] for r in english] != [r["message"] for r in french], sid
