"""Quote mail: queued with each recipient's link when a quote is sent, delivered by workers.

Sending a quote (in its own transaction) gives every recipient a random link, kept only as
its SHA-256, and a Message-ID, and queues one outbox row each. A worker claims due rows under
a lease, renders each quote's PDF once, hands every mail to the SMTP server and records the
outcome. A worker that dies between the server's "250" and that record leaves its lease to
run out: the next claim sends the row again with the same Message-ID, which mail clients
show as the same message.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol

from sqlalchemy import Connection

from renewquote.delivery.mail import QuoteMail, compose
from renewquote.delivery.pdf import render_quote_pdf
from renewquote.delivery.smtp import MailError
from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.quotes import Delivery, Quote
from renewquote.services.documents import PrintableQuote, printable_of
from renewquote.storage import outbox, quotes
from renewquote.storage.database import Database
from renewquote.storage.outbox import Claimed, OutboxStatus

log = logging.getLogger(__name__)

QUOTE_MAIL = "mail.quote"
# A link works this long after it is given, and never past the quote's own end.
LINK_LIFETIME = timedelta(days=30)
# How long a worker holds the rows it claimed: well past an SMTP server's slowest answer.
LEASE = timedelta(minutes=2)
# After a passing failure (4xx, connection lost), the next attempt waits this long, then the
# next, ...; after the last one the mail is given up as failed.
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# The right-hand side of every Message-ID (make_msgid would otherwise look up the host name).
MESSAGE_ID_DOMAIN = "renewquote.mail"


def link_hash(token: str) -> str:
    """Return what is stored of a link's token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def queue_quote_mail(conn: Connection, quote: Quote, now: datetime) -> None:
    """Give each recipient of a quote being sent a new link and Message-ID, and queue its
    mail, in the caller's transaction."""
    links = []
    payloads = []
    for recipient_id, _ in quotes.recipient_ids(conn, quote.id):
        token = secrets.token_urlsafe(32)
        message_id = make_msgid(domain=MESSAGE_ID_DOMAIN)
        links.append(
            quotes.RecipientLink(recipient_id, link_hash(token), now + LINK_LIFETIME, message_id)
        )
        payloads.append(
            {
                "quote_id": quote.id,
                "recipient_id": recipient_id,
                "message_id": message_id,
                # Needed to write the mail, dropped once it is sent or given up.
                "link_token": token,
            }
        )
    quotes.give_links(conn, links)
    outbox.enqueue(conn, QUOTE_MAIL, payloads, now)


class Mailer(Protocol):
    """What hands messages to a mail server (`delivery.smtp.SmtpMailer`)."""

    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Where links point and who mail comes from."""

    public_url: str
    sender: str


@dataclass(slots=True)
class MailRound:
    """What one round of delivery did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0  # claims that ran out before their outcome could be recorded
    pdfs: int = 0  # PDFs rendered (one per quote in the round)

    @property
    def claimed(self) -> int:
        """Return how many rows the round took."""
        return self.sent + self.retried + self.failed + self.lost


@dataclass(slots=True)
class _Documents:
    """The quotes a round mails, each read and rendered once, and the recipients it mails."""

    printable: dict[int, PrintableQuote] = field(default_factory=dict)
    pdf: dict[int, bytes] = field(default_factory=dict)
    recipients: dict[int, quotes.LinkHolder] = field(default_factory=dict)


def deliver_mail(
    db: Database,
    mailer: Mailer,
    settings: MailSettings,
    *,
    clock: Callable[[], datetime],
    batch: int = 50,
    lease: timedelta = LEASE,
) -> MailRound:
    """Claim up to `batch` due mails, send them, record each outcome; return the counts."""
    done = MailRound()
    with db.write() as conn:
        claimed = outbox.claim(conn, [QUOTE_MAIL], now=clock(), lease=lease, limit=batch)
    if not claimed:
        return done
    documents = _read_documents(
        db, {c.payload["quote_id"] for c in claimed}, [c.payload["recipient_id"] for c in claimed]
    )
    for row in claimed:
        _deliver_one(db, mailer, settings, row, documents, clock, done)
    done.pdfs = len(documents.pdf)
    return done


def _read_documents(
    db: Database, quote_ids: Collection[int], recipient_ids: Collection[int]
) -> _Documents:
    documents = _Documents()
    with db.read() as conn:
        for quote_id in sorted(quote_ids):
            quote = quotes.load_quote_by_id(conn, quote_id)
            documents.printable[quote_id] = printable_of(conn, quote)
        documents.recipients = quotes.link_holders(conn, recipient_ids)
    return documents


def _deliver_one(
    db: Database,
    mailer: Mailer,
    settings: MailSettings,
    row: Claimed,
    documents: _Documents,
    clock: Callable[[], datetime],
    done: MailRound,
) -> None:
    payload = row.payload
    printable = documents.printable[payload["quote_id"]]
    quote = printable.quote
    recipient = documents.recipients[payload["recipient_id"]]
    if quote.status is not QuoteStatus.SENT:
        # Replaced, cancelled or ordered before its mail left: the link would open nothing.
        _record(db, row, done, clock, Delivery.FAILED, f"the quote is {quote.status.value}")
        return
    pdf = documents.pdf.get(quote.id)
    if pdf is None:
        pdf = documents.pdf[quote.id] = render_quote_pdf(printable)
    now = clock()
    message = compose(
        QuoteMail(
            printable=printable,
            to_email=recipient.email,
            to_name=recipient.name,
            link=link_url(settings.public_url, payload["link_token"]),
            link_expires_on=min(recipient.link_expires_at.date(), quote.expires_at),
            message_id=payload["message_id"],
            sender=settings.sender,
            at=now,
        ),
        pdf,
    )
    try:
        mailer.send(message)
    except MailError as error:
        if error.permanent or row.attempts >= MAX_ATTEMPTS:
            _record(db, row, done, clock, Delivery.FAILED, error.reason)
        else:
            _retry(db, row, done, clock, error.reason)
        return
    _record(db, row, done, clock, Delivery.SENT, None)


def link_url(public_url: str, token: str) -> str:
    """Return the address of a recipient's link."""
    return f"{public_url.rstrip('/')}/q/{token}"


def _record(
    db: Database,
    row: Claimed,
    done: MailRound,
    clock: Callable[[], datetime],
    delivery: Delivery,
    error: str | None,
) -> None:
    now = clock()
    status = OutboxStatus.SENT if delivery is Delivery.SENT else OutboxStatus.FAILED
    with db.write() as conn:
        kept = outbox.finish(conn, row, status, now=now, error=error, payload=_without_token(row))
        if kept:
            quotes.record_delivery(conn, row.payload["recipient_id"], delivery, now, error)
    if not kept:
        done.lost += 1
    elif delivery is Delivery.SENT:
        done.sent += 1
    else:
        log.warning("mail %s failed: %s", row.payload["message_id"], error)
        done.failed += 1


def _retry(
    db: Database, row: Claimed, done: MailRound, clock: Callable[[], datetime], error: str
) -> None:
    at = clock() + RETRY_DELAYS[min(row.attempts, len(RETRY_DELAYS)) - 1]
    with db.write() as conn:
        kept = outbox.retry(conn, row, at=at, error=error)
    if kept:
        done.retried += 1
    else:
        done.lost += 1


def _without_token(row: Claimed) -> Mapping[str, Any]:
    return {key: value for key, value in row.payload.items() if key != "link_token"}
