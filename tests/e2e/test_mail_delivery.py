"""Quote mail end to end: the API sends, the worker delivers to a real SMTP server (aiosmtpd in
the test), each recipient's link opens the quote; on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import io
import os
import re
import socket
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from renewquote.api.app import create_app
from renewquote.delivery.pdf import PdfRenderer, render_quote_pdf
from renewquote.delivery.smtp import Handed, MailError, SmtpMailer
from renewquote.services import mailing
from renewquote.services.auth import find_caller
from renewquote.services.documents import printable_quote
from renewquote.services.mailing import (
    LEASE,
    LINK_LIFETIME,
    QUOTE_MAIL,
    MailSettings,
    deliver_mail,
    link_hash,
)
from renewquote.services.rounds import hold
from renewquote.services.worker import work_once
from renewquote.storage import outbox
from renewquote.storage.database import Database
from renewquote.storage.tables import outbox as outbox_table
from renewquote.storage.tables import quote_events, quote_links, quote_recipients
from tests.book import NOW

PUBLIC = "http://quotes.test"
# Babel's French: a narrow no-break space between thousands, a no-break space before the sign.
FR_TOTAL = "8\u202f688,00\u00a0€"
SETTINGS = MailSettings(public_url=PUBLIC, sender="quotes@vendor.test")
LINK = re.compile(re.escape(PUBLIC) + r"/q/([A-Za-z0-9_-]+)")


class Inbox:
    """An aiosmtpd handler that keeps what it is given, and refuses whom it is told to."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # each message's bytes, as they came
        self.refuse: dict[str, str] = {}  # address -> the reply to its RCPT TO

    async def handle_RCPT(self, server, session, envelope, address, options) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.raw.append(envelope.original_content)
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, str]]:
    """A real SMTP server on a free port of 127.0.0.1, and its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{port}"
    controller.stop()


def deliver(db: Database, url: str, *, at=NOW) -> Any:
    with SmtpMailer(url) as mailer:
        return work_once(db, mailer, SETTINGS, clock=lambda: at)


def sent_quote(client, auth, *recipients: dict[str, str]) -> dict[str, Any]:
    me = auth("marie@dupont.example")
    created = client.post(
        "/api/v1/quotes",
        headers=me,
        json={
            "lines": [
                {"subscription_id": "SUB-0001", "quantity": 4},
                {"subscription_id": "SUB-0002"},
            ],
            "recipients": list(recipients),
        },
    )
    assert created.status_code == 201, created.text
    sent = client.post(f"/api/v1/quotes/{created.json()['number']}/send", headers=me)
    assert sent.status_code == 200, sent.text
    return sent.json()


def parts(message: EmailMessage) -> tuple[str, str, bytes]:
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    [attachment] = list(message.iter_attachments())
    return text, html, attachment.get_content()


def test_each_recipient_gets_the_mail_with_the_pdf_and_a_link_of_its_own(client, auth, book, smtp):
    inbox, url = smtp
    quote = sent_quote(client, auth, {"email": "cfo@dupont.example", "name": "Claire CFO"})
    assert [r["delivery"] for r in quote["recipients"]] == ["pending", "pending"]

    done = deliver(book, url)

    assert (done.mail.sent, done.mail.failed, done.mail.pdfs) == (2, 0, 1)
    assert sorted(str(m["To"]) for m in inbox.messages) == [
        "Claire CFO <cfo@dupont.example>",
        "marie@dupont.example",
    ]
    links = set()
    with book.read() as conn:
        rows = conn.execute(select(outbox_table).where(outbox_table.c.topic == QUOTE_MAIL)).all()
    ids = {row.payload["message_id"] for row in rows}
    for message in inbox.messages:
        # The quote's language is the customer's (French), and so is the mail.
        assert message["Subject"] == f"Devis {quote['number']} de Vendor SAS : {FR_TOTAL}"
        assert message["Message-ID"] in ids
        text, html, pdf = parts(message)
        [token] = LINK.findall(text)
        assert f"{PUBLIC}/q/{token}" in html
        links.add(token)
        assert FR_TOTAL in text and "Total" in text
        pages = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        assert quote["number"] in pages and "8688,00" in pages.replace("\u202f", "")
    assert len(links) == 2  # each recipient its own link
    # Sent: recorded on the quote, and the link's secret dropped from the outbox.
    shown = client.get(f"/api/v1/quotes/{quote['number']}", headers=auth("marie@dupont.example"))
    recipients = shown.json()["recipients"]
    assert [r["delivery"] for r in recipients] == ["sent", "sent"]
    # The worker's clock is the API's here: sent at the moment the quote was.
    assert all(r["delivery_at"] == shown.json()["sent_at"] for r in recipients)
    with book.read() as conn:
        after = conn.execute(select(outbox_table).where(outbox_table.c.topic == QUOTE_MAIL)).all()
    assert {row.status for row in after} == {"sent"}
    assert all("link_token" not in row.payload for row in after)
    # Nothing more is due: a second round sends nothing.
    assert deliver(book, url).mail.claimed == 0
    assert len(inbox.messages) == 2


def test_the_link_shows_the_quote_counts_views_and_serves_the_pdf(client, auth, book, smtp):
    inbox, url = smtp
    quote = sent_quote(client, auth)
    deliver(book, url)
    [token] = LINK.findall(parts(inbox.messages[0])[0])

    page = client.get(f"/q/{token}")
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert f"Devis {quote['number']}" in page.text and FR_TOTAL in page.text
    assert "Taxes estimées (20\u00a0%)" in page.text
    english = client.get(f"/q/{token}?lang=en")
    assert f"Quote {quote['number']}" in english.text and "€8,688.00" in english.text
    pdf = client.get(f"/q/{token}/pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

    shown = client.get(f"/api/v1/quotes/{quote['number']}", headers=auth("marie@dupont.example"))
    [marie] = shown.json()["recipients"]
    assert (marie["view_count"], marie["viewed_at"]) == (2, shown.json()["sent_at"])
    with book.read() as conn:
        actions = conn.execute(select(quote_events.c.action)).scalars().all()
    assert actions.count("viewed") == 1  # the first opening is the event


def test_a_tampered_foreign_or_ended_link_is_not_found_and_changes_nothing(
    client, auth, book, smtp
):
    inbox, url = smtp
    quote = sent_quote(client, auth)
    deliver(book, url)
    [token] = LINK.findall(parts(inbox.messages[0])[0])
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for path in (f"/q/{tampered}", "/q/short", f"/q/{tampered}/pdf", "/q/" + "x" * 150):
        gone = client.get(path)
        assert gone.status_code == 404, path
        assert "Ce lien n'ouvre aucun devis" in gone.text or "does not open" in gone.text
        assert gone.headers["referrer-policy"] == "no-referrer"
    # The quote is replaced (a new address means a new quote): the old link ends.
    me = auth("marie@dupont.example")
    replaced = client.post(
        f"/api/v1/quotes/{quote['number']}/replace", headers=me, json={"address": {"city": "Lyon"}}
    )
    assert replaced.status_code == 201, replaced.text
    assert client.post(f"/api/v1/quotes/{replaced.json()['number']}/send", headers=me).is_success
    assert client.get(f"/q/{token}").status_code == 404
    # And past the quote's validity it ends too, whatever the link's own lifetime.
    later = client.get(f"/api/v1/quotes/{replaced.json()['number']}", headers=me).json()
    assert later["status"] == "sent"
    with book.read() as conn:
        views = conn.execute(select(quote_recipients.c.view_count)).scalars().all()
    assert set(views) == {0}


def test_a_refused_address_fails_at_once_and_shows_on_the_quote(client, auth, book, smtp):
    inbox, url = smtp
    inbox.refuse["nobody@dupont.example"] = "550 5.1.1 No such user"
    quote = sent_quote(client, auth, {"email": "nobody@dupont.example"})

    done = deliver(book, url)

    assert (done.mail.sent, done.mail.failed, done.mail.retried) == (1, 1, 0)
    shown = client.get(f"/api/v1/quotes/{quote['number']}", headers=auth("marie@dupont.example"))
    failed = [r for r in shown.json()["recipients"] if r["delivery"] == "failed"]
    assert [r["email"] for r in failed] == ["nobody@dupont.example"]
    assert "550" in failed[0]["delivery_error"] and "No such user" in failed[0]["delivery_error"]
    assert [str(m["To"]) for m in inbox.messages] == ["marie@dupont.example"]


def test_a_passing_refusal_is_retried_later_with_the_same_message_id(client, auth, book, smtp):
    inbox, url = smtp
    inbox.refuse["marie@dupont.example"] = "451 4.3.0 Try again later"
    sent_quote(client, auth)

    first = deliver(book, url)
    assert (first.mail.sent, first.mail.retried) == (0, 1)
    assert deliver(book, url, at=NOW + timedelta(seconds=10)).mail.claimed == 0  # not yet due
    with book.read() as conn:
        [row] = conn.execute(select(outbox_table).where(outbox_table.c.topic == QUOTE_MAIL)).all()
    assert (row.status, row.attempts) == ("pending", 1) and "451" in row.last_error

    del inbox.refuse["marie@dupont.example"]
    second = deliver(book, url, at=NOW + timedelta(minutes=1))
    assert second.mail.sent == 1
    [message] = inbox.messages
    assert message["Message-ID"] == row.payload["message_id"]


def test_a_server_that_cannot_be_reached_is_retried_not_failed(client, auth, book):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    sent_quote(client, auth, {"email": "cfo@dupont.example"}, {"email": "ap@dupont.example"})

    class Counting:
        def __init__(self, mailer: SmtpMailer) -> None:
            self.mailer, self.calls = mailer, 0

        def hand_over(self, message: Message) -> Handed:
            self.calls += 1
            return self.mailer.hand_over(message)

    with SmtpMailer(f"smtp://127.0.0.1:{closed}") as mailer:
        counting = Counting(mailer)
        done = deliver_mail(book, counting, SETTINGS, clock=lambda: NOW)
    assert (done.sent, done.retried, done.failed) == (0, 3, 0)
    # One try for the batch, not one timeout per mail; and the outage burns no attempt.
    assert counting.calls == 1
    with book.read() as conn:
        rows = conn.execute(select(outbox_table.c.attempts, outbox_table.c.status)).all()
    assert sorted(rows) == [(0, "pending")] * 3


def test_a_claim_whose_worker_died_is_taken_again_after_its_lease(client, auth, book, smtp):
    inbox, url = smtp
    sent_quote(client, auth)
    # A worker claims the mail, then dies before recording anything.
    with book.write() as conn:
        [dead] = outbox.claim(conn, [QUOTE_MAIL], now=NOW, lease=LEASE, limit=10)
    assert deliver(book, url, at=NOW + LEASE / 2).mail.claimed == 0  # still held
    done = deliver(book, url, at=NOW + LEASE + timedelta(seconds=1))
    assert done.mail.sent == 1
    [message] = inbox.messages
    assert message["Message-ID"] == dead.payload["message_id"]
    # The dead worker's claim is lost: recording its outcome now changes nothing.
    with book.write() as conn:
        assert not outbox.finish(conn, dead, outbox.OutboxStatus.FAILED, now=NOW, error="late")
        [row] = conn.execute(select(outbox_table).where(outbox_table.c.topic == QUOTE_MAIL)).all()
    assert (row.status, row.attempts) == ("sent", 2)


def test_a_quote_ended_before_its_mail_left_is_not_mailed(client, auth, book, smtp):
    inbox, url = smtp
    quote = sent_quote(client, auth)
    cancelled = client.post(
        f"/api/v1/quotes/{quote['number']}/cancel", headers=auth("ops@vendor.example")
    )
    assert cancelled.status_code == 200, cancelled.text
    done = deliver(book, url)
    assert (done.mail.sent, done.mail.failed) == (0, 1)
    assert inbox.messages == []


def test_link_hashes_are_all_that_is_stored_of_a_link(client, auth, book, smtp):
    inbox, url = smtp
    sent_quote(client, auth)
    deliver(book, url)
    [token] = LINK.findall(parts(inbox.messages[0])[0])
    with book.read() as conn:
        stored = conn.execute(select(quote_links.c.link_hash)).scalars().all()
    assert stored == [link_hash(token)] and token not in stored


def link_of(client, auth, book, smtp) -> tuple[dict[str, Any], str]:
    inbox, url = smtp
    quote = sent_quote(client, auth)
    deliver(book, url)
    [token] = LINK.findall(parts(inbox.messages[0])[0])
    return quote, token


def csrf_of(page_text: str) -> str:
    [value] = re.findall(r'name="csrf" value="([^"]+)"', page_text)
    return value


def test_the_links_page_sells_the_quote_by_card(client, auth, book, smtp):
    quote, token = link_of(client, auth, book, smtp)
    page = client.get(f"/q/{token}")
    # A card-only customer is offered card and PayPal, not an invoice.
    assert 'value="card"' in page.text and 'value="paypal"' in page.text
    assert 'value="invoice"' not in page.text
    cookie = page.cookies.get("rq_csrf")
    assert cookie and cookie == csrf_of(page.text)
    assert "httponly" in page.headers["set-cookie"].lower()
    assert "samesite=strict" in page.headers["set-cookie"].lower()

    bought = client.post(
        f"/q/{token}/checkout",
        data={
            "csrf": csrf_of(page.text),
            "payment_method": "card",
            "card_number": "4242 4242 4242 4242",
        },
    )
    assert bought.status_code == 200, bought.text
    assert f"Le devis {quote['number']} est commandé" in bought.text
    shown = client.get(f"/api/v1/quotes/{quote['number']}", headers=auth("marie@dupont.example"))
    assert shown.json()["status"] == "ordered"
    # Ordered: the link opens nothing more, and a second purchase cannot happen.
    assert client.get(f"/q/{token}").status_code == 404
    again = client.post(
        f"/q/{token}/checkout",
        data={
            "csrf": csrf_of(page.text),
            "payment_method": "card",
            "card_number": "4242424242424242",
        },
    )
    assert again.status_code == 404
    with book.read() as conn:
        actors = (
            conn.execute(select(quote_events.c.actor).where(quote_events.c.action == "ordered"))
            .scalars()
            .all()
        )
    assert actors == ["marie@dupont.example"]  # the link's holder


def test_a_declined_card_is_shown_with_its_reason_and_orders_nothing(client, auth, book, smtp):
    quote, token = link_of(client, auth, book, smtp)
    page = client.get(f"/q/{token}")
    declined = client.post(
        f"/q/{token}/checkout",
        data={
            "csrf": csrf_of(page.text),
            "payment_method": "card",
            "card_number": "4000000000000002",
        },
    )
    assert declined.status_code == 422
    shown_text = html.unescape(declined.text)
    assert "La commande n'a pas été passée" in shown_text
    assert "refus" in shown_text.lower()  # the decline's reason, in French
    invoice = client.post(
        f"/q/{token}/checkout", data={"csrf": csrf_of(page.text), "payment_method": "invoice"}
    )
    assert invoice.status_code == 422  # no new credit line from a link either
    shown = client.get(f"/api/v1/quotes/{quote['number']}", headers=auth("marie@dupont.example"))
    assert shown.json()["status"] == "sent"


def test_a_purchase_without_the_pages_csrf_token_or_by_get_orders_nothing(client, auth, book, smtp):
    quote, token = link_of(client, auth, book, smtp)
    client.get(f"/q/{token}")  # the cookie is set
    forged = client.post(
        f"/q/{token}/checkout",
        data={"csrf": "forged", "payment_method": "card", "card_number": "4242424242424242"},
    )
    # Without the page's hidden language field, the browser's language (none here: English).
    assert forged.status_code == 403 and "Nothing was ordered" in forged.text
    client.cookies.clear()
    cookieless = client.post(
        f"/q/{token}/checkout",
        data={"csrf": "", "payment_method": "card", "card_number": "4242424242424242"},
    )
    assert cookieless.status_code == 403
    # A mail scanner follows every link with GET: nothing is bought.
    for path in (f"/q/{token}", f"/q/{token}/pdf", f"/q/{token}/checkout"):
        client.get(path)
    shown = client.get(f"/api/v1/quotes/{quote['number']}", headers=auth("marie@dupont.example"))
    assert shown.json()["status"] == "sent"


def test_an_order_is_confirmed_by_mail_to_whoever_placed_it(client, auth, book, smtp):
    inbox, url = smtp
    quote, token = link_of(client, auth, book, smtp)
    page = client.get(f"/q/{token}")
    bought = client.post(
        f"/q/{token}/checkout",
        data={"csrf": csrf_of(page.text), "payment_method": "paypal"},
    )
    assert bought.status_code == 200, bought.text
    inbox.messages.clear()
    done = deliver(book, url)
    assert done.mail.sent == 1
    [confirmation] = inbox.messages
    assert str(confirmation["To"]) == "marie@dupont.example"
    assert confirmation["Subject"].startswith("Commande ")
    assert f"(devis {quote['number']})" in confirmation["Subject"]
    text = confirmation.get_body(("plain",)).get_content()
    assert f"Total : {FR_TOTAL}, payé par PayPal." in text
    assert list(confirmation.iter_attachments()) == []


def test_recipients_are_reminded_once_a_week_before_the_quote_expires(client, auth, book, smtp):
    inbox, url = smtp
    quote = sent_quote(client, auth, {"email": "cfo@dupont.example"})
    deliver(book, url)
    first_links = {m["To"]: LINK.findall(parts(m)[0])[0] for m in inbox.messages}
    expires = date.fromisoformat(quote["expires_at"])
    week_before = datetime.combine(expires - timedelta(days=7), NOW.time())

    assert deliver(book, url, at=week_before - timedelta(days=1)).reminded == []
    done = deliver(book, url, at=week_before)
    assert done.reminded == [quote["number"]] and done.mail.sent == 2
    reminders = inbox.messages[2:]
    assert all(m["Subject"].startswith(f"Rappel : le devis {quote['number']}") for m in reminders)
    for message in reminders:
        [token] = LINK.findall(parts(message)[0])
        assert token != first_links[message["To"]]  # a new link...
        assert client.get(f"/q/{token}").status_code == 200
    for token in first_links.values():  # ...and the first ones still work
        assert client.get(f"/q/{token}").status_code == 200
    # Once only.
    assert deliver(book, url, at=week_before + timedelta(days=1)).reminded == []
    assert len(inbox.messages) == 4


def test_an_expired_link_offers_a_new_one_while_the_quote_is_open(client, auth, book, smtp):
    inbox, url = smtp
    quote, token = link_of(client, auth, book, smtp)
    later = NOW + LINK_LIFETIME + timedelta(days=1)
    assert later.date() <= date.fromisoformat(quote["expires_at"])  # the quote is still open
    with TestClient(create_app(book, clock=lambda: later)) as late:
        expired = late.get(f"/q/{token}")
        assert expired.status_code == 404
        assert "Ce lien a expiré" in html.unescape(expired.text)
        csrf = csrf_of(expired.text)
        asked = late.post(f"/q/{token}/new-link", data={"csrf": csrf, "lang": "fr"})
        assert asked.status_code == 200 and "m…@dupont.example" in asked.text
        again = late.post(f"/q/{token}/new-link", data={"csrf": csrf, "lang": "fr"})
        assert again.status_code == 200  # said the same, but not mailed twice
        forged = late.post(f"/q/{token}/new-link", data={"csrf": "x", "lang": "fr"})
        assert forged.status_code == 403
        inbox.messages.clear()
        assert deliver(book, url, at=later).mail.sent == 1
        [message] = inbox.messages
        assert message["Subject"].startswith(f"Votre nouveau lien vers le devis {quote['number']}")
        [fresh] = LINK.findall(parts(message)[0])
        assert late.get(f"/q/{fresh}").status_code == 200
        # A link that still works asks for nothing.
        assert late.post(f"/q/{fresh}/new-link", data={"csrf": csrf}).status_code == 404


def test_a_batch_that_outlasts_its_lease_sends_nothing_another_worker_took(
    client, auth, book, smtp
):
    inbox, url = smtp
    sent_quote(client, auth, {"email": "cfo@dupont.example"}, {"email": "ap@dupont.example"})
    now = [NOW]

    class Slow:
        """The first mail takes longer than the lease: meanwhile another worker comes."""

        def __init__(self, mailer: SmtpMailer) -> None:
            self.mailer, self.calls = mailer, 0

        def hand_over(self, message: Message) -> Handed:
            self.calls += 1
            if self.calls == 1:
                now[0] = NOW + LEASE + timedelta(seconds=1)
                with SmtpMailer(url) as other:
                    deliver_mail(book, other, SETTINGS, clock=lambda: now[0])
            return self.mailer.hand_over(message)

    with SmtpMailer(url) as mailer:
        late = deliver_mail(book, Slow(mailer), SETTINGS, clock=lambda: now[0])
    ids = [m["Message-ID"] for m in inbox.messages]
    assert len(set(ids)) == 3
    # The slow worker had written its first mail when its lease ran out; it finds the row
    # taken before ending the mail's data, so that one is not sent twice either, nor any after.
    assert len(ids) == 3 and late.lost == 3 and late.sent == 0


def test_a_name_that_would_break_the_mail_is_refused_at_the_door(client, auth):
    answer = client.post(
        "/api/v1/quotes",
        headers=auth("marie@dupont.example"),
        json={
            "lines": [{"subscription_id": "SUB-0001"}],
            "recipients": [{"email": "cfo@dupont.example", "name": "Claire\r\nBcc: x@evil.test"}],
        },
    )
    assert answer.status_code == 422
    assert "line breaks" in answer.text


def test_a_mail_that_cannot_be_written_fails_alone(client, auth, book, smtp):
    inbox, url = smtp
    sent_quote(client, auth, {"email": "cfo@dupont.example"})
    with book.write() as conn:  # as an older release could have stored it
        conn.execute(
            update(quote_recipients)
            .where(quote_recipients.c.email == "cfo@dupont.example")
            .values(name="Claire\r\nBcc: x@evil.test")
        )
    done = deliver(book, url)
    assert (done.mail.sent, done.mail.failed) == (1, 1)
    assert [str(m["To"]) for m in inbox.messages] == ["marie@dupont.example"]


def test_a_refused_login_keeps_the_mail_for_later(client, auth, book, smtp):
    _, url = smtp
    sent_quote(client, auth)

    class NoLogin:
        def hand_over(self, message: Message) -> Handed:
            refused = MailError("cannot open a session: 535 bad credentials", permanent=False)
            return Handed(refused)

    done = work_once(book, NoLogin(), SETTINGS, clock=lambda: NOW)
    assert (done.mail.retried, done.mail.failed) == (1, 0)
    assert deliver(book, url, at=NOW + timedelta(minutes=1)).mail.sent == 1


def test_mails_go_out_byte_for_byte_as_the_standard_library_writes_them(client, auth, book, smtp):
    # The PDF part is encoded once per quote and copied into each mail (delivery/wire.py);
    # what arrives must be exactly what smtplib's send_message would have sent.
    inbox, url = smtp

    class Keeping:
        def __init__(self, mailer: SmtpMailer) -> None:
            self.mailer, self.sent = mailer, []

        def hand_over(self, message: Message) -> Handed:
            self.sent.append(message)
            return self.mailer.hand_over(message)

    sent_quote(client, auth, {"email": "cfo@dupont.example"}, {"email": "ap@dupont.example"})
    with SmtpMailer(url) as mailer:
        keeping = Keeping(mailer)
        assert deliver_mail(book, keeping, SETTINGS, clock=lambda: NOW).sent == 3
    expected = [
        m.as_bytes(policy=m.policy.clone(linesep="\r\n")).rstrip(b"\r\n") for m in keeping.sent
    ]
    assert [raw.rstrip(b"\r\n") for raw in inbox.raw] == expected
    # The one PDF part is shared by the three mails, as the same object.
    attachments = [m.get_payload()[-1] for m in keeping.sent]
    assert all(a is attachments[0] for a in attachments)


def test_a_claim_is_written_again_only_when_its_lease_runs_short(book):
    with book.write() as conn:
        outbox.enqueue(conn, "mail.test", [{"n": 1}], NOW)
    with book.write() as conn:
        [row] = outbox.claim(conn, ["mail.test"], now=NOW, lease=LEASE, limit=1)

    def lease_until() -> Any:
        with book.read() as conn:
            return conn.execute(select(outbox_table.c.lease_until)).scalar_one()

    stored = lease_until()
    early = hold(book, row, now=NOW + LEASE / 8, lease=LEASE)
    assert early is row and lease_until() == stored  # plenty left: nothing written
    later = NOW + LEASE / 2
    renewed = hold(book, row, now=later, lease=LEASE)
    assert renewed is not None and renewed.lease_until == later + LEASE
    assert lease_until() == later + LEASE
    # Once another worker has taken the row, holding it again says so.
    taken = NOW + LEASE * 3
    with book.write() as conn:
        outbox.claim(conn, ["mail.test"], now=taken, lease=LEASE, limit=1)
    assert hold(book, renewed, now=taken, lease=LEASE) is None


def test_a_quote_that_cannot_be_read_fails_its_own_mails_only(
    client, auth, book, smtp, monkeypatch
):
    import renewquote.services.mailing as mailing

    inbox, url = smtp
    first = sent_quote(client, auth, {"email": "cfo@dupont.example"})
    second = sent_quote(client, auth)  # to Marie only
    real = mailing.printable_of

    def broken(conn, quote):
        if quote.number == first["number"]:
            raise ValueError("a stored amount is not a number")
        return real(conn, quote)

    monkeypatch.setattr(mailing, "printable_of", broken)
    done = deliver(book, url)
    assert (done.mail.sent, done.mail.failed) == (1, 2)
    [mailed] = inbox.messages
    assert second["number"] in str(mailed["Subject"])
    shown = client.get(
        f"/api/v1/quotes/{first['number']}", headers=auth("marie@dupont.example")
    ).json()
    assert [r["delivery"] for r in shown["recipients"]] == ["failed", "failed"]
    assert all("its quote cannot be read" in r["delivery_error"] for r in shown["recipients"])


def test_link_pages_behind_a_path_prefix_point_under_it(client, auth, book, smtp, monkeypatch):
    # renewquote served at https://vendor.example/renew/ by a proxy that strips /renew.
    inbox, url = smtp
    sent_quote(client, auth)
    prefixed = MailSettings(public_url="https://vendor.example/renew", sender="q@vendor.test")
    with SmtpMailer(url) as mailer:
        assert deliver_mail(book, mailer, prefixed, clock=lambda: NOW).sent == 1
    text, _, _ = parts(inbox.messages[0])
    token = re.search(r"https://vendor\.example/renew/q/([A-Za-z0-9_-]+)", text).group(1)
    monkeypatch.setenv("RENEWQUOTE_PUBLIC_URL", "https://vendor.example/renew")
    with TestClient(create_app(book, clock=lambda: NOW)) as behind:
        page = behind.get(f"/q/{token}")  # as the proxy passes it on
    assert page.status_code == 200
    assert f'action="/renew/q/{token}/checkout"' in page.text
    assert f'href="/renew/q/{token}/pdf"' in page.text
    assert "Path=/renew/q" in page.headers["set-cookie"]


def test_a_mail_goes_only_once_released_and_an_abandoned_one_never(smtp):
    # The worker writes the next mail while recording the last one's outcome, and releases it
    # only after: a worker that dies before the release must have sent nothing.
    inbox, url = smtp
    first, second = Message(), Message()
    for message, subject in ((first, "first"), (second, "second")):
        message["From"], message["To"], message["Subject"] = "q@vendor.test", "a@b.test", subject
        message.set_payload("Hello\r\n")
    with SmtpMailer(url) as mailer:
        abandoned = mailer.hand_over(first)
        time.sleep(0.2)
        assert inbox.messages == []  # written, not released: not delivered
        abandoned.abandon()
        handed = mailer.hand_over(second)  # a new session
        handed.wait()
    time.sleep(0.2)
    assert [str(m["Subject"]) for m in inbox.messages] == ["second"]


def test_pdfs_drawn_in_their_own_process_are_those_drawn_in_line(
    client, auth, book, smtp, monkeypatch
):
    # `renewquote worker` draws PDFs ahead in a process of its own (delivery.pdf.PdfRenderer).
    inbox, url = smtp
    quote = sent_quote(client, auth, {"email": "cfo@dupont.example"})

    def not_here(printable):
        raise AssertionError("drawn in the worker's own process")

    monkeypatch.setattr(mailing, "render_quote_pdf", not_here)
    with SmtpMailer(url) as mailer, PdfRenderer() as renderer:
        done = work_once(book, mailer, SETTINGS, clock=lambda: NOW, renderer=renderer)
        [pid] = renderer.process_ids()
        assert pid != os.getpid()
    assert (done.mail.sent, done.mail.pdfs) == (2, 1)
    printable = printable_quote(book, find_caller(book, "marie@dupont.example"), quote["number"])
    in_line = render_quote_pdf(printable)
    assert [parts(m)[2] for m in inbox.messages] == [in_line, in_line]


def test_a_mail_is_released_only_once_the_one_before_it_is_recorded(client, auth, book, smtp):
    # What keeps a killed worker to one mail sent twice at most: when a mail's data is ended
    # (released), every mail released before it is already recorded as sent.
    inbox, url = smtp
    sent_quote(client, auth, *({"email": f"r{n}@dupont.example"} for n in range(4)))
    released = []

    def recorded() -> int:
        with book.read() as conn:
            rows = conn.execute(select(outbox_table.c.status)).scalars().all()
        return rows.count("sent")

    class Releasing:
        def __init__(self, handed: Handed) -> None:
            self.handed = handed

        def release(self) -> None:
            assert recorded() == len(released)
            released.append(1)
            self.handed.release()

        def wait(self) -> None:
            self.handed.wait()

        def abandon(self) -> None:
            self.handed.abandon()

    class Checking:
        def __init__(self, mailer: SmtpMailer) -> None:
            self.mailer = mailer

        def hand_over(self, message: Message) -> Releasing:
            return Releasing(self.mailer.hand_over(message))

    with SmtpMailer(url) as mailer:
        done = deliver_mail(book, Checking(mailer), SETTINGS, clock=lambda: NOW)
    assert done.sent == 5 and len(released) == 5 and recorded() == 5
    assert len(inbox.messages) == 5


def test_a_round_stopped_by_the_database_records_the_mail_it_had_released(
    client, auth, book, smtp, monkeypatch
):
    # The quote's status cannot be read for the second mail (the database went away): the
    # first, released meanwhile, is still recorded as sent, and nothing else goes.
    inbox, url = smtp
    sent_quote(client, auth, {"email": "cfo@dupont.example"}, {"email": "ap@dupont.example"})
    real = mailing.quotes.status_of
    calls = []

    def failing(conn, quote_id):
        calls.append(quote_id)
        if len(calls) == 2:
            raise OperationalError("SELECT status", {}, Exception("server closed the connection"))
        return real(conn, quote_id)

    monkeypatch.setattr(mailing.quotes, "status_of", failing)
    with SmtpMailer(url) as mailer, pytest.raises(OperationalError):
        deliver_mail(book, mailer, SETTINGS, clock=lambda: NOW)
    time.sleep(0.2)
    assert len(inbox.messages) == 1
    with book.read() as conn:
        statuses = conn.execute(select(outbox_table.c.status).order_by(outbox_table.c.id))
        assert statuses.scalars().all() == ["sent", "sending", "sending"]
