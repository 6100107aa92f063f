"""The portal in a real headless Chromium (Debian's `chromium`, driven by Playwright), located
by role and accessible name as a person using a screen reader would find things: the bulk
renewal of the source document step by step, in English and French, with and without
JavaScript; axe-core finds no serious or critical accessibility violation on any page. Each
flow leaves screenshots in test-artifacts/."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from renewquote.delivery.smtp import SmtpMailer
from renewquote.services.mailing import deliver_mail
from tests.book import NOW
from tests.e2e.conftest import PASSWORDS
from tests.e2e.test_mail_delivery import SETTINGS, smtp  # noqa: F401  (a fixture)

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is missing: bash scripts/test installs it"
)
CHROMIUM = os.environ.get("RENEWQUOTE_CHROMIUM") or shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip(
        "no Chromium to drive: apt-get install chromium (.ci/run does), or set "
        "RENEWQUOTE_CHROMIUM to a Chromium executable",
        allow_module_level=True,
    )

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests/vendor/axe-core/axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, server: str) -> Iterator[Any]:
    context = chromium.new_context(base_url=server, locale="en-GB")
    yield context.new_page()
    context.close()


@pytest.fixture
def page_without_js(chromium: Any, server: str) -> Iterator[Any]:
    context = chromium.new_context(base_url=server, locale="en-GB", java_script_enabled=False)
    yield context.new_page()
    context.close()


def accessible(page: Any) -> None:
    """axe-core, run in the page, finds no serious or critical violation."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run()).violations")
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in found
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], bad


def snap(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-{name}.png"), full_page=True)


def sign_in(page: Any, email: str, *, check: bool = True, lands: str = "subscriptions") -> None:
    page.goto("/")
    if check:
        accessible(page)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORDS.get(email, f"pw-{email}"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/billing/{lands}")


def total(page: Any) -> str:
    return str(page.locator("#total").inner_text())


def open_renew(page: Any) -> Any:
    """Billing and orders > Subscriptions and contracts > Bulk actions > Renew; return the
    form of the group holding SUB-0001 with only SUB-0001 and SUB-0002 ticked."""
    page.get_by_role("link", name="Subscriptions and contracts").click()
    page.get_by_text("Bulk actions").click()
    page.get_by_role("link", name="Renew", exact=True).click()
    page.wait_for_url("**/billing/renew")
    group = page.locator("form").filter(has=page.get_by_label("Renew SUB-0001"))
    for box in group.get_by_role("checkbox").all():
        name = box.get_attribute("aria-label") or ""
        if not name.endswith(("SUB-0001", "SUB-0002")):
            box.uncheck()
    return group


def test_the_bulk_renewal_step_by_step(page: Any, smtp: Any, book: Any) -> None:  # noqa: F811
    inbox, url = smtp
    sign_in(page, "marie@dupont.example")
    accessible(page)
    snap(page, "1-subscriptions")
    group = open_renew(page)
    accessible(page)
    snap(page, "2-renew")
    group.get_by_label("Create a quote").check()
    group.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/billing/quotes/Q-\d{4}-\d{6}$"))
    accessible(page)
    first = total(page)
    # A term and a quantity changed: htmx reprices the review in place.
    page.get_by_label("Term of SUB-0001").select_option("3-year")
    page.wait_for_function(f"document.querySelector('#total').innerText !== {first!r}")
    second = total(page)
    seats = page.get_by_label("Seats of SUB-0002")
    seats.fill("1")
    seats.press("Tab")
    page.wait_for_function(f"document.querySelector('#total').innerText !== {second!r}")
    snap(page, "3-review")
    for n in range(1, 5):
        page.get_by_label(f"Recipient {n}", exact=True).fill(f"person{n}@dupont.example")
    page.get_by_role("button", name="Update prices").click()
    sync_api.expect(page.get_by_label("Recipient 5", exact=True)).to_be_visible()
    # Four recipients are taken; a fifth is refused, in words, and nothing typed is lost.
    page.get_by_label("Recipient 5", exact=True).fill("person5@dupont.example")
    page.get_by_role("button", name="Send quote").click()
    sync_api.expect(page.get_by_role("alert").first).to_be_visible()
    assert page.get_by_label("Recipient 5", exact=True).input_value() == "person5@dupont.example"
    assert page.get_by_label("Term of SUB-0001").input_value() == "3-year"
    snap(page, "4-refused")
    page.get_by_label("Recipient 5", exact=True).fill("")
    page.get_by_role("button", name="Send quote").click()
    sync_api.expect(page.get_by_text("Sent", exact=True)).to_be_visible()
    accessible(page)
    snap(page, "5-sent")
    with SmtpMailer(url) as mailer:
        done = deliver_mail(book, mailer, SETTINGS, clock=lambda: NOW)
    assert done.sent == 5  # Marie and the four
    assert sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in inbox.messages) == sorted(
        ["marie@dupont.example"] + [f"person{n}@dupont.example" for n in range(1, 5)]
    )


def test_the_same_renewal_without_javascript(page_without_js: Any) -> None:
    page = page_without_js
    sign_in(page, "marie@dupont.example", check=False)
    group = open_renew(page)
    group.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/billing/quotes/Q-\d{4}-\d{6}$"))
    first = total(page)
    page.get_by_label("Term of SUB-0001").select_option("3-year")
    page.get_by_role("button", name="Update prices").click()
    sync_api.expect(page.locator("#total")).not_to_have_text(first)
    page.get_by_role("button", name="Send quote").click()
    sync_api.expect(page.get_by_text("Sent", exact=True)).to_be_visible()
    snap(page, "no-js-sent")


def test_french_pages_and_the_switch(page: Any) -> None:
    sign_in(page, "marie@dupont.example", check=False)
    page.get_by_role("link", name="Français").click()
    page.wait_for_url("**lang=fr")
    assert page.locator("html").get_attribute("lang") == "fr"
    for words in ("Facturation et commandes", "Abonnements et contrats", "Devis"):
        assert page.get_by_text(words, exact=True).count() >= 1
    page.get_by_text("Actions par lot").click()
    page.get_by_role("link", name="Renouveler", exact=True).click()
    page.wait_for_url("**/billing/renew")
    assert page.get_by_label("Créer un devis").count() >= 1
    assert page.get_by_label("Renouveler et payer maintenant").count() >= 1
    accessible(page)
    snap(page, "fr-renew")
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**lang=en")
    assert page.get_by_label("Create a quote").count() >= 1


def test_another_customers_quote_is_not_found(page: Any, chromium: Any, server: str) -> None:
    sign_in(page, "marie@dupont.example", check=False)
    group = open_renew(page)
    group.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/billing/quotes/Q-\d{4}-\d{6}$"))
    page.get_by_role("button", name="Send quote").click()
    sync_api.expect(page.get_by_text("Sent", exact=True)).to_be_visible()
    address = page.url
    other = chromium.new_context(base_url=server, locale="en-GB").new_page()
    sign_in(other, "jo@acme.example", check=False)
    answer = other.goto(address)
    assert answer is not None and answer.status == 404
    assert other.get_by_role("heading", name="Not found").count() == 1
    accessible(other)
    other.context.close()


def test_the_partners_and_the_staffs_pages_are_accessible(
    page: Any, chromium: Any, server: str
) -> None:
    sign_in(page, "anne@partner.example")
    accessible(page)
    page.goto("/billing/renew")
    group = page.locator("form").filter(has=page.get_by_label("Renew SUB-0301"))
    group.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/billing/quotes/Q-\d{4}-\d{6}$"))
    page.get_by_label("Customer contact").select_option("ana@rio.example")
    accessible(page)
    snap(page, "partner-review")
    staff = chromium.new_context(base_url=server, locale="en-GB").new_page()
    sign_in(staff, "ops@vendor.example", lands="quotes")
    staff.get_by_role("link", name="Deliveries").click()
    staff.wait_for_url("**/staff/deliveries")
    accessible(staff)
    snap(staff, "staff-deliveries")
    staff.context.close()


def test_finding_a_partner_and_asking_for_a_quote(page: Any) -> None:
    sign_in(page, "ana@rio.example")
    page.get_by_role("link", name="Find a partner").click()
    page.get_by_label("Country").select_option("FR")
    page.get_by_role("button", name="Apply").click()
    accessible(page)
    page.get_by_role("link", name="Ask CAD Partenaire SARL for a quote").click()
    page.get_by_label("Ask for SUB-0301").check()
    page.get_by_label("Message to the partner (optional)").fill("Renew as is, please.")
    accessible(page)
    page.get_by_role("button", name="Send the request").click()
    page.wait_for_url("**/billing/requests")
    sync_api.expect(page.get_by_text("Waiting for the partner")).to_be_visible()
    accessible(page)
    snap(page, "request-sent")


def test_one_subscription_renewed_and_paid_at_once(page: Any) -> None:
    sign_in(page, "marie@dupont.example", check=False)
    page.get_by_role("link", name="SUB-0001", exact=True).click()
    page.wait_for_url("**/billing/subscriptions/SUB-0001")
    accessible(page)
    page.get_by_label("Renew and pay now").check()
    page.get_by_role("button", name="Renew", exact=True).click()
    page.wait_for_url(re.compile(r".*/billing/quotes/Q-\d{4}-\d{6}\?pay=1$"))
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    accessible(page)
    page.get_by_role("button", name="Pay now").click()
    sync_api.expect(page.get_by_text("Ordered", exact=True)).to_be_visible()
    snap(page, "paid-now")


def test_a_partner_answers_a_request_with_a_quote_in_two_clicks(
    page: Any, chromium: Any, server: str
) -> None:
    customer = chromium.new_context(base_url=server, locale="en-GB").new_page()
    sign_in(customer, "ana@rio.example", check=False)
    customer.goto("/billing/partners/5100000001/request")
    customer.get_by_label("Ask for SUB-0301").check()
    customer.get_by_role("button", name="Send the request").click()
    customer.wait_for_url("**/billing/requests")
    sign_in(page, "anne@partner.example", check=False)
    page.get_by_role("link", name="Quote requests").click()
    accessible(page)
    page.get_by_role("button", name="Answer with a quote").click()
    page.wait_for_url(re.compile(r".*/billing/quotes/Q-\d{4}-\d{6}$"))
    page.get_by_role("button", name="Send quote").click()
    sync_api.expect(page.get_by_text("Sent", exact=True)).to_be_visible()
    customer.reload()
    sync_api.expect(customer.get_by_role("link", name=re.compile(r"^Quote Q-"))).to_be_visible()
    snap(customer, "request-answered")
    customer.context.close()


def test_the_review_fits_a_phone(chromium: Any, server: str) -> None:
    phone = chromium.new_context(
        base_url=server, locale="en-GB", viewport={"width": 390, "height": 844}, is_mobile=True
    ).new_page()
    sign_in(phone, "marie@dupont.example", check=False)
    group = open_renew(phone)
    group.get_by_role("button", name="Continue").click()
    phone.wait_for_url(re.compile(r".*/billing/quotes/Q-\d{4}-\d{6}$"))
    # Wide tables scroll in their own box; the page itself never scrolls sideways.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    snap(phone, "phone-review")
    phone.context.close()
