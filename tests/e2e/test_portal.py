"""The web portal through HTTP, as a browser without JavaScript uses it (forms and redirects),
and as htmx asks for the review's reprice; on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from renewquote.api.app import create_app
from renewquote.storage.tables import outbox
from tests.book import NOW
from tests.e2e.conftest import PASSWORDS


@pytest.fixture
def browser(book) -> TestClient:
    """A client with cookies, as one browser; redirects are looked at, not followed."""
    return TestClient(create_app(book, clock=lambda: NOW), follow_redirects=False)


def form_value(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has a form"
    return found.group(1)


def sign_in(browser: TestClient, email: str) -> str:
    page = browser.get("/signin")
    csrf = form_value(page.text)
    password = PASSWORDS.get(email, f"pw-{email}")  # the test book's customers: pw-<e-mail>
    signed = browser.post("/signin", data={"email": email, "password": password, "csrf": csrf})
    assert signed.status_code == 303, signed.text
    return str(browser.cookies.get("rq_form"))  # signing in gave a new one


def test_signing_in_leads_to_billing_and_orders_and_a_wrong_password_does_not(browser):
    assert browser.get("/").headers["location"] == "/signin"
    assert browser.get("/billing/subscriptions").headers["location"].startswith("/signin?next=")
    csrf = form_value(browser.get("/signin").text)
    wrong = browser.post(
        "/signin", data={"email": "marie@dupont.example", "password": "nope", "csrf": csrf}
    )
    assert wrong.status_code == 401 and "Wrong e-mail or password." in wrong.text
    assert 'value="marie@dupont.example"' in wrong.text  # what was typed is kept
    signed = browser.post(
        "/signin",
        data={"email": "marie@dupont.example", "password": "pw-marie@dupont.example", "csrf": csrf},
    )
    assert signed.headers["location"] == "/"
    assert browser.get("/").headers["location"] == "/billing/subscriptions"
    cookie = signed.headers["set-cookie"]
    assert "rq_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = browser.get("/billing/subscriptions")
    assert page.status_code == 200
    for words in ("Billing and orders", "Subscriptions and contracts", "Quotes", "Bulk actions"):
        assert words in page.text


def test_a_form_from_another_site_is_refused(browser):
    sign_in(browser, "marie@dupont.example")
    forged = browser.post("/billing/renew", data={"csrf": "forged", "subscription": "SUB-0001"})
    assert forged.status_code == 400
    assert browser.get("/billing/quotes").text.count("/billing/quotes/Q-") == 0


def test_subscriptions_say_in_words_why_one_cannot_be_renewed(browser):
    sign_in(browser, "marie@dupont.example")
    page = browser.get("/billing/subscriptions", params={"show": "not_renewable"})
    ids = re.findall(r'<a href="/billing/subscriptions/(SUB-\d+)">', page.text)
    assert "SUB-0005" in ids and "SUB-0001" not in ids  # the flex plan, not the renewable one
    flex = page.text.split("SUB-0005", 1)[1].split("</tr>", 1)[0]
    assert "No" in flex and len(re.sub(r"<[^>]+>", "", flex).strip()) > 40  # a sentence
    searched = browser.get("/billing/subscriptions", params={"q": "sub-0002"})
    assert re.findall(r'<a href="/billing/subscriptions/(SUB-\d+)">', searched.text) == ["SUB-0002"]


def test_a_group_renewed_on_a_quote_reviewed_repriced_and_sent(browser, book):
    csrf = sign_in(browser, "marie@dupont.example")
    renew = browser.get("/billing/renew")
    assert 'aria-label="Renew SUB-0001"' in renew.text
    made = browser.post(
        "/billing/renew",
        data={"csrf": csrf, "subscription": ["SUB-0001", "SUB-0002"], "option": "quote"},
    )
    assert made.status_code == 303
    address = made.headers["location"]
    assert re.fullmatch(r"/billing/quotes/Q-\d{4}-\d{6}", address)  # the URL names the quote
    review = browser.get(address)
    before = re.search(r'id="total">([^<]+)<', review.text).group(1)
    assert 'aria-label="Term of SUB-0001"' in review.text
    assert 'aria-label="Seats of SUB-0002"' in review.text
    # htmx asks for the review block only, as the buyer changes a term.
    fields = {
        "csrf": csrf,
        "term-SUB-0001": "3-year",
        "seats-SUB-0001": "4",
        "term-SUB-0002": "annual",
        "seats-SUB-0002": "1",
        "recipient": ["cfo@dupont.example"],
    }
    fragment = browser.post(
        address, data=fields, headers={"HX-Request": "true", "HX-Target": "review"}
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="review"')
    # Screen readers hear the new total: a status message comes along out of band.
    assert (
        'id="review-status" hx-swap-oob="true"' in fragment.text
        and "Prices updated." in fragment.text
    )
    assert "<html" not in fragment.text
    after = re.search(r'id="total">([^<]+)<', fragment.text).group(1)
    assert after != before
    sent = browser.post(address, data={**fields, "action": "send"})
    assert sent.status_code == 303
    shown = browser.get(address)
    assert "Sent" in shown.text and "cfo@dupont.example — waiting to be mailed" in shown.text
    assert "marie@dupont.example · sent" in shown.text  # the history, in words
    french = browser.get(address, params={"lang": "fr"}).text
    assert "cfo@dupont.example — en attente d'envoi" in french.replace("&#39;", "'")
    assert re.search(r'id="total">([^<]+)<', shown.text).group(1) == after


def test_a_broken_rule_is_shown_next_to_its_line_and_nothing_typed_is_lost(browser):
    csrf = sign_in(browser, "marie@dupont.example")
    address = browser.post(
        "/billing/renew", data={"csrf": csrf, "subscription": ["SUB-0001"], "option": "quote"}
    ).headers["location"]
    refused = browser.post(
        address,
        data={
            "csrf": csrf,
            "term-SUB-0001": "annual",
            "seats-SUB-0001": "99",
            "recipient": ["a@x.example", "b@x.example"],
            "action": "send",
        },
    )
    assert refused.status_code == 422
    assert 'id="problem-SUB-0001"' in refused.text  # next to the line
    assert 'value="99"' in refused.text and 'value="b@x.example"' in refused.text
    # Not sent: the quote is still a draft.
    assert "Draft" in browser.get(address).text


def test_five_recipients_are_refused(browser):
    csrf = sign_in(browser, "marie@dupont.example")
    address = browser.post(
        "/billing/renew", data={"csrf": csrf, "subscription": ["SUB-0001"], "option": "quote"}
    ).headers["location"]
    five = [f"r{n}@x.example" for n in range(1, 6)]
    refused = browser.post(
        address,
        data={"csrf": csrf, "term-SUB-0001": "annual", "seats-SUB-0001": "5", "recipient": five},
    )
    assert refused.status_code == 422
    assert 'id="problem-recipients"' in refused.text  # next to the recipients
    four = browser.post(
        address,
        data={
            "csrf": csrf,
            "term-SUB-0001": "annual",
            "seats-SUB-0001": "5",
            "recipient": five[:4],
        },
    )
    assert four.status_code == 200


def test_renew_and_pay_now_buys_the_reviewed_quote(browser):
    csrf = sign_in(browser, "marie@dupont.example")
    made = browser.post(
        "/billing/renew", data={"csrf": csrf, "subscription": ["SUB-0001"], "option": "pay"}
    )
    address = made.headers["location"]
    assert address.endswith("?pay=1")
    review = browser.get(address)
    assert "Renew and pay now" in review.text
    number = address.split("?")[0].rsplit("/", 1)[1]
    declined = browser.post(
        f"/billing/quotes/{number}/pay-now",
        data={"csrf": csrf, "payment_method": "card", "card_number": "4000 0000 0000 0002"},
    )
    assert declined.status_code == 422 and "declined" in declined.text.lower()
    again = browser.post(
        "/billing/renew", data={"csrf": csrf, "subscription": ["SUB-0001"], "option": "pay"}
    ).headers["location"]
    number = again.split("?")[0].rsplit("/", 1)[1]
    paid = browser.post(
        f"/billing/quotes/{number}/pay-now",
        data={"csrf": csrf, "payment_method": "card", "card_number": "4242 4242 4242 4242"},
    )
    assert paid.status_code == 303
    assert "Ordered" in browser.get(f"/billing/quotes/{number}").text


def test_another_customers_quote_page_is_not_found(browser):
    csrf = sign_in(browser, "marie@dupont.example")
    address = browser.post(
        "/billing/renew", data={"csrf": csrf, "subscription": ["SUB-0001"], "option": "quote"}
    ).headers["location"]
    browser.post(
        address,
        data={"csrf": csrf, "term-SUB-0001": "annual", "seats-SUB-0001": "5", "action": "send"},
    )
    other = TestClient(browser.app, follow_redirects=False)
    sign_in(other, "jo@acme.example")
    assert other.get(address).status_code == 404
    assert other.get(f"{address}/pdf").status_code == 404


def test_pages_are_in_french_when_asked_and_stay_so(browser):
    sign_in(browser, "marie@dupont.example")
    french = browser.get("/billing/subscriptions", params={"lang": "fr"})
    for words in (
        "Facturation et commandes",
        "Abonnements et contrats",
        "Actions par lot",
        "English",
    ):
        assert words in french.text
    assert 'lang="fr"' in french.text
    # The choice is kept for the next pages.
    renew = browser.get("/billing/renew")
    assert "Renouveler" in renew.text and "Créer un devis" in renew.text
    assert "Renouveler et payer maintenant" in renew.text
    # The choice is the user's setting: another browser, asking for English, gets French.
    other = TestClient(browser.app, follow_redirects=False)
    sign_in(other, "marie@dupont.example")
    elsewhere = other.get("/billing/renew", headers={"Accept-Language": "en-GB,en"})
    assert "Créer un devis" in elsewhere.text
    english = browser.get("/billing/renew", params={"lang": "en"})
    assert "Create a quote" in english.text and "Français" in english.text


def test_a_plain_user_reads_but_cannot_renew(browser):
    sign_in(browser, "paul@dupont.example")
    page = browser.get("/billing/subscriptions")
    assert page.status_code == 200 and "Bulk actions" not in page.text
    renew = browser.get("/billing/renew")
    assert "Create a quote" not in renew.text


def test_a_partner_quotes_its_customer_to_a_contact_and_five_more_then_cancels(browser):
    csrf = sign_in(browser, "anne@partner.example")
    listed = browser.get("/billing/subscriptions")
    assert "5200000003" in listed.text  # its customers' subscriptions, with the customer
    renew = browser.get("/billing/renew")
    assert 'name="customer" value="5200000003"' in renew.text
    made = browser.post(
        "/billing/renew",
        data={"csrf": csrf, "customer": "5200000003", "subscription": ["SUB-0301"]},
    )
    assert made.status_code == 303, made.text
    address = made.headers["location"]
    review = browser.get(address)
    assert '<option value="ana@rio.example"' in review.text  # the customer's contacts
    no_contact = browser.post(address, data={"csrf": csrf, "action": "send"})
    assert no_contact.status_code == 422  # a partner's quote goes to a contact
    five = [f"r{n}@rio.example" for n in range(1, 6)]
    fields = {"csrf": csrf, "contact": "ana@rio.example", "recipient": five}
    assert browser.post(address, data={**fields, "action": "send"}).status_code == 303
    sent = browser.get(address).text
    assert "ana@rio.example" in sent and "r5@rio.example" in sent
    cancelled = browser.post(f"{address}/cancel", data={"csrf": csrf})
    assert cancelled.status_code == 303
    assert "Cancelled" in browser.get(address).text


def test_one_subscription_renewed_from_its_own_page(browser):
    csrf = sign_in(browser, "marie@dupont.example")
    page = browser.get("/billing/subscriptions/SUB-0001")
    assert page.status_code == 200 and "Create a quote" in page.text
    made = browser.post(
        "/billing/renew",
        data={
            "csrf": csrf,
            "subscription": "SUB-0001",
            "customer": "5200000001",
            "option": "quote",
        },
    )
    review = browser.get(made.headers["location"])
    assert 'aria-label="Term of SUB-0001"' in review.text
    assert "Term of SUB-0002" not in review.text
    # One that cannot be renewed says why and offers nothing.
    flex = browser.get("/billing/subscriptions/SUB-0005")
    assert "Create a quote" not in flex.text and "No:" in flex.text
    assert browser.get("/billing/subscriptions/SUB-0201").status_code == 404  # another company's


def test_staff_see_every_quote_filtered_and_the_deliveries_that_did_not_go(browser, book):
    buyer = TestClient(browser.app, follow_redirects=False)
    csrf = sign_in(buyer, "marie@dupont.example")
    address = buyer.post(
        "/billing/renew", data={"csrf": csrf, "subscription": ["SUB-0001"], "option": "quote"}
    ).headers["location"]
    fields = {"csrf": csrf, "term-SUB-0001": "annual", "seats-SUB-0001": "5"}
    buyer.post(address, data={**fields, "recipient": "nobody@nowhere.invalid", "action": "send"})
    number = address.rsplit("/", 1)[1]
    # The mail server refuses one address for good: a delivery that did not go.
    with book.write() as conn:
        last = select(func.max(outbox.c.id)).scalar_subquery()  # the last recipient's mail
        conn.execute(
            update(outbox)
            .where(outbox.c.id == last)
            .values(status="failed", attempts=1, last_error="550 No such user")
        )
    sign_in(browser, "ops@vendor.example")
    assert browser.get("/").headers["location"] == "/billing/quotes"
    listed = browser.get("/billing/quotes", params={"customer": "5200000001", "status": "sent"})
    assert number in listed.text
    assert number not in browser.get("/billing/quotes", params={"status": "draft"}).text
    assert number not in browser.get("/billing/quotes", params={"channel": "partner"}).text
    later = browser.get("/billing/quotes", params={"from": "2099-01-01"})
    assert number not in later.text
    odd = browser.get("/billing/quotes", params={"from": "31/12/2026"})
    assert "Made from: dates are written 2026-12-31." in odd.text
    crossed = browser.get("/billing/quotes", params={"from": "2026-12-31", "to": "2026-01-01"})
    assert "The first date comes after the last." in crossed.text
    deliveries = browser.get("/staff/deliveries")
    assert deliveries.status_code == 200
    assert "550 No such user" in deliveries.text and number in deliveries.text
    assert "nobody@nowhere.invalid" in deliveries.text
    assert buyer.get("/staff/deliveries").status_code == 404  # staff only


def test_a_customer_without_self_service_asks_a_partner_who_answers_with_a_quote(browser):
    customer = TestClient(browser.app, follow_redirects=False)
    csrf = sign_in(customer, "ana@rio.example")
    directory = customer.get("/billing/partners", params={"country": "FR"})
    assert "CAD Partenaire SARL" in directory.text and "Other Reseller Ltd" not in directory.text
    assert "CAD Partenaire" in customer.get("/billing/partners", params={"q": "cad"}).text
    form = customer.get("/billing/partners/5100000001/request")
    assert 'aria-label="Ask for SUB-0301"' in form.text
    empty = customer.post(
        "/billing/partners/5100000001/request", data={"csrf": csrf, "message": "Hello"}
    )
    assert empty.status_code == 422 and "Hello" in empty.text  # nothing typed is lost
    asked = customer.post(
        "/billing/partners/5100000001/request",
        data={"csrf": csrf, "subscription": "SUB-0301", "message": "Renew as is, please."},
    )
    assert asked.headers["location"] == "/billing/requests"
    assert "Waiting for the partner" in customer.get("/billing/requests").text

    partner_csrf = sign_in(browser, "anne@partner.example")
    incoming = browser.get("/billing/requests")
    assert "Renew as is, please." in incoming.text and "ana@rio.example" in incoming.text
    request_id = re.search(r"/billing/requests/(\d+)/answer", incoming.text).group(1)
    answered = browser.post(f"/billing/requests/{request_id}/answer", data={"csrf": partner_csrf})
    address = answered.headers["location"]
    review = browser.get(address)
    assert '<option value="ana@rio.example" selected>' in review.text  # made out to who asked
    # While the partner prepares it, the customer sees the request answered, not the draft.
    waiting = customer.get("/billing/requests").text
    assert "Answered with a quote" in waiting and "/billing/quotes/Q-" not in waiting
    sent = browser.post(
        address, data={"csrf": partner_csrf, "contact": "ana@rio.example", "action": "send"}
    )
    assert sent.status_code == 303
    number = address.rsplit("/", 1)[1]
    assert f"/billing/quotes/{number}" in customer.get("/billing/requests").text
    assert customer.get(address).status_code == 200  # the customer reads it, and may buy it
    # Answered once: a second answer is refused.
    again = browser.post(f"/billing/requests/{request_id}/answer", data={"csrf": partner_csrf})
    assert again.status_code == 422


def test_a_partner_declines_a_request_and_another_cannot_touch_it(browser):
    customer = TestClient(browser.app, follow_redirects=False)
    csrf = sign_in(customer, "ana@rio.example")
    customer.post(
        "/billing/partners/5100000002/request", data={"csrf": csrf, "subscription": "SUB-0301"}
    )
    bob = TestClient(browser.app, follow_redirects=False)
    bob_csrf = sign_in(bob, "bob@other.example")
    request_id = re.search(r"/billing/requests/(\d+)/answer", bob.get("/billing/requests").text)
    assert request_id is not None
    number = request_id.group(1)
    # Bob resells nothing of this customer's: the rules refuse his quote, the request stays open.
    refused = bob.post(f"/billing/requests/{number}/answer", data={"csrf": bob_csrf})
    assert refused.status_code == 422
    nothing = bob.post(f"/billing/requests/{number}/decline", data={"csrf": bob_csrf, "reason": ""})
    assert nothing.status_code == 422  # a no says why
    bob.post(
        f"/billing/requests/{number}/decline",
        data={"csrf": bob_csrf, "reason": "We do not resell in Brazil."},
    )
    seen = customer.get("/billing/requests").text
    assert "Declined" in seen and "We do not resell in Brazil." in seen
    # Anne was not asked: the request is not hers to answer.
    anne_csrf = sign_in(browser, "anne@partner.example")
    assert (
        browser.post(f"/billing/requests/{number}/answer", data={"csrf": anne_csrf}).status_code
        == 404
    )


def test_cookies_are_secure_when_the_public_address_is_https(book, monkeypatch):
    monkeypatch.setenv("RENEWQUOTE_PUBLIC_URL", "https://quotes.vendor.example")
    behind_tls = TestClient(create_app(book, clock=lambda: NOW), follow_redirects=False)
    page = behind_tls.get("/signin")  # the proxy speaks http to the app
    assert "Secure" in page.headers["set-cookie"]
    csrf = form_value(page.text)
    # A Secure cookie is not sent back over http: the browser (over https) would send it.
    signed = behind_tls.post(
        "/signin",
        data={"email": "marie@dupont.example", "password": "pw-marie@dupont.example", "csrf": csrf},
        headers={"Cookie": f"rq_form={csrf}"},
    )
    assert "rq_session=" in signed.headers["set-cookie"]
    assert "Secure" in signed.headers["set-cookie"]


def test_a_link_from_another_site_changes_no_setting(browser):
    sign_in(browser, "marie@dupont.example")
    crossed = browser.get(
        "/billing/renew", params={"lang": "fr"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert "Créer un devis" in crossed.text  # shown in French, as the link asks
    other = TestClient(browser.app, follow_redirects=False)
    sign_in(other, "marie@dupont.example")
    assert "Create a quote" in other.get("/billing/renew").text  # the setting did not change


def test_a_form_naming_thousands_of_subscriptions_is_refused_in_words(browser):
    csrf = sign_in(browser, "marie@dupont.example")
    many = [f"SUB-{n:06d}" for n in range(150)]
    refused = browser.post(
        "/billing/renew", data={"csrf": csrf, "subscription": many, "option": "quote"}
    )
    assert refused.status_code == 422
    assert "100" in refused.text and 'role="alert"' in refused.text
    # Tens of thousands of fields: the form parser stops at a thousand, and says so.
    flood = [f"SUB-{n:06d}" for n in range(40_000)]
    too_big = browser.post("/billing/renew", data={"csrf": csrf, "subscription": flood})
    assert too_big.status_code == 400 and "Traceback" not in too_big.text


def test_a_services_own_reason_reads_in_french_too(browser):
    csrf = sign_in(browser, "ana@rio.example")
    empty = browser.post(
        "/billing/partners/5100000001/request", data={"csrf": csrf}, params={"lang": "fr"}
    )
    assert empty.status_code == 422
    assert "choisissez au moins un abonnement" in empty.text.replace("&#39;", "'")


def test_a_session_that_ended_signs_in_again_back_to_the_page(browser):
    assert browser.post("/billing/quotes/Q-2026-000001/buy").headers["location"] == (
        "/signin?next=%2Fbilling%2Fquotes%2FQ-2026-000001"
    )
    htmx = browser.post("/billing/quotes/Q-2026-000001", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].startswith("/signin?next=")
    csrf = sign_in(browser, "marie@dupont.example")
    assert browser.post("/billing/requests/abc/answer", data={"csrf": csrf}).status_code == 404
    # Another site's form signs nobody out.
    assert browser.post("/signout", data={"csrf": "forged"}).headers["location"] == "/"
    assert browser.get("/billing/quotes").status_code == 200


def test_a_sent_quote_is_replaced_by_a_new_one_to_change_the_address(browser):
    csrf = sign_in(browser, "marie@dupont.example")
    address = browser.post(
        "/billing/renew", data={"csrf": csrf, "subscription": ["SUB-0001"], "option": "quote"}
    ).headers["location"]
    fields = {"csrf": csrf, "term-SUB-0001": "annual", "seats-SUB-0001": "5", "action": "send"}
    browser.post(address, data=fields)
    page = browser.get(address)
    assert "Create a new quote to change the address" in page.text
    moved = browser.post(
        f"{address}/replace",
        data={
            "csrf": csrf,
            "line1": "3 quai Saint-Antoine",
            "line2": "",
            "city": "Lyon",
            "postal_code": "69002",
        },
    )
    assert moved.status_code == 303
    draft = moved.headers["location"]
    assert draft != address
    sent = browser.post(draft, data={**fields})
    assert sent.status_code == 303
    assert "Replaced" in browser.get(address).text  # sending the new one ended the old


def test_htmx_carries_the_form_value_in_a_header_and_a_missing_cookie_is_refused(browser):
    csrf = sign_in(browser, "marie@dupont.example")
    address = browser.post(
        "/billing/renew", data={"csrf": csrf, "subscription": ["SUB-0001"], "option": "quote"}
    ).headers["location"]
    fields = {"term-SUB-0001": "3-year", "seats-SUB-0001": "5"}
    htmx = {"HX-Request": "true", "HX-Target": "review"}
    by_header = browser.post(address, data=fields, headers={**htmx, "X-CSRF-Token": csrf})
    assert by_header.status_code == 200 and 'value="3-year" selected' in by_header.text
    stranger = TestClient(browser.app, follow_redirects=False)
    stranger.cookies.set("rq_session", browser.cookies.get("rq_session"))  # no form cookie
    refused = stranger.post(address, data={**fields, "csrf": csrf})
    assert refused.status_code == 400


def test_sign_in_is_rate_limited_as_the_api_is(browser):
    csrf = form_value(browser.get("/signin").text)
    answers = [
        browser.post(
            "/signin", data={"email": "marie@dupont.example", "password": "nope", "csrf": csrf}
        ).status_code
        for _ in range(8)
    ]
    assert answers[0] == 401 and answers[-1] == 429
    waiting = browser.post(
        "/signin",
        data={"email": "marie@dupont.example", "password": "pw-marie@dupont.example", "csrf": csrf},
    )
    assert waiting.status_code == 429 and "Too many attempts" in waiting.text


def test_signing_in_gives_a_new_form_value(browser):
    planted = form_value(browser.get("/signin").text)
    signed = browser.post(
        "/signin",
        data={
            "email": "marie@dupont.example",
            "password": "pw-marie@dupont.example",
            "csrf": planted,
        },
    )
    assert signed.status_code == 303
    fresh = browser.cookies.get("rq_form")
    assert fresh and fresh != planted
    # The value from before signing in no longer passes.
    assert (
        browser.post(
            "/billing/renew", data={"csrf": planted, "subscription": "SUB-0001"}
        ).status_code
        == 400
    )
