"""Quote mail: queued in the transaction that decided it, delivered by workers.

Sending a quote gives every recipient a random link, kept only as its SHA-256, and queues one
outbox row each with a Message-ID fixed at that moment; so do a reminder and a new link asked
for (each a new link, the earlier ones still working). An order queues its confirmation to
whoever ordered. A worker claims due rows under a lease, renders each quote's PDF once per
round, hands every mail to the SMTP server and records the outcome. A worker that dies between
the server's "250" and that record leaves its lease to run out: the next claim sends the row
again with the same Message-ID, which mail clients show as the same message.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.message import Message
from email.utils import make_msgid
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from renewquote.delivery.mail import OrderMail, QuoteMail, compose, compose_order, pdf_attachment
from renewquote.delivery.pdf import PdfRenderer, render_quote_pdf
from renewquote.delivery.smtp import MailError
from renewquote.delivery.wire import SharedPart
from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.quotes import Delivery, Order, Quote
from renewquote.services.documents import PrintableQuote, printable_of
from renewquote.services.rounds import DeliveryRound, give_back, hold, settle
from renewquote.storage import orders, outbox, quotes
from renewquote.storage.database import Database
from renewquote.storage.outbox import Claimed, OutboxStatus

log = logging.getLogger(__name__)

QUOTE_MAIL = "mail.quote"  # to one recipient of a quote, with its link and the PDF
ORDER_MAIL = "mail.order"  # the order's confirmation, to whoever ordered
MAIL_TOPICS = (QUOTE_MAIL, ORDER_MAIL)
# A link works this long after it is given (a reminder brings a new one), and never past the
# quote's own end.
LINK_LIFETIME = timedelta(days=14)
# Sent quotes are recalled to their recipients this long before they expire, once.
REMIND_BEFORE = timedelta(days=7)
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


class MailKind(StrEnum):
    """Why a recipient is mailed a quote."""

    QUOTE = "quote"  # the quote was sent
    REMINDER = "reminder"  # it expires soon
    NEW_LINK = "new_link"  # the recipient asked for a new link


def link_hash(token: str) -> str:
    """Return what is stored of a link's token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def queue_quote_mail(
    conn: Connection,
    quote: Quote,
    now: datetime,
    *,
    kind: MailKind = MailKind.QUOTE,
    recipient_ids: Collection[int] | None = None,
) -> None:
    """Give recipients of a sent quote (all, or these) a new link and queue their mail, in the
    caller's transaction."""
    links = []
    payloads = []
    # To the end of its last day, the day the mail names.
    expires_at = datetime.combine((now + LINK_LIFETIME).date(), time.max)
    for recipient_id in quotes.recipient_ids(conn, quote.id):
        if recipient_ids is not None and recipient_id not in recipient_ids:
            continue
        token = secrets.token_urlsafe(32)
        links.append(quotes.RecipientLink(recipient_id, link_hash(token), expires_at))
        payloads.append(
            {
                "kind": kind.value,
                "quote_id": quote.id,
                "recipient_id": recipient_id,
                "message_id": make_msgid(domain=MESSAGE_ID_DOMAIN),
                # Needed to write the mail, dropped once it is sent or given up.
                "link_token": token,
                "link_expires_at": expires_at.isoformat(),
            }
        )
    quotes.give_links(conn, links, now)
    outbox.enqueue(conn, QUOTE_MAIL, payloads, now)


def queue_order_mail(conn: Connection, quote: Quote, order: Order, to: str, now: datetime) -> None:
    """Queue the confirmation of an order to whoever placed it, in the caller's transaction."""
    payload = {
        "quote_id": quote.id,
        "order_id": order.id,
        "to": to,
        "message_id": make_msgid(domain=MESSAGE_ID_DOMAIN),
    }
    outbox.enqueue(conn, ORDER_MAIL, [payload], now)


def remind_expiring_quotes(db: Database, *, today: date, now: datetime) -> list[str]:
    """Queue one reminder to every recipient of each sent quote that expires within
    `REMIND_BEFORE` and was sent before that point; return their numbers."""
    with db.write() as conn:
        due = quotes.quotes_to_remind(conn, today=today, until=today + REMIND_BEFORE, now=now)
        for quote in due:
            queue_quote_mail(conn, quote, now, kind=MailKind.REMINDER)
        return [quote.number for quote in due]


class Handing(Protocol):
    """A message handed to the mail server, not yet released for delivery (`release`), its
    verdict not read yet (`wait`)."""

    def release(self) -> None:
        """Let the server deliver the message."""

    def wait(self) -> None:
        """Return once the server took the message (released first); `MailError` if not."""

    def abandon(self) -> None:
        """Give up the message if it was not released: the server drops it."""


class Mailer(Protocol):
    """What hands messages to a mail server (`delivery.smtp.SmtpMailer`)."""

    def hand_over(self, message: Message) -> Handing:
        """Start handing a message over; it is released and its verdict read later."""


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Where links point and who mail comes from."""

    public_url: str
    sender: str


@dataclass(slots=True)
class MailRound(DeliveryRound):
    """What one round of mail delivery did."""

    pdfs: int = 0  # PDFs rendered (one per quote in the round)

    def add(self, other: DeliveryRound) -> None:
        """Count another round's work in this one."""
        DeliveryRound.add(self, other)
        if isinstance(other, MailRound):
            self.pdfs += other.pdfs


@dataclass(slots=True)
class _Documents:
    """What a round mails: its quotes (each read and rendered once), recipients and orders."""

    printable: dict[int, PrintableQuote] = field(default_factory=dict)
    pdf: dict[int, SharedPart] = field(default_factory=dict)
    recipients: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    unreadable: dict[int, str] = field(default_factory=dict)  # quote id -> why
    drawing: dict[int, Future[bytes]] = field(default_factory=dict)  # PDFs on their way

    def pdf_of(self, printable: PrintableQuote) -> SharedPart:
        quote_id = printable.quote.id
        if quote_id not in self.pdf:
            drawing = self.drawing.pop(quote_id, None)
            try:
                pdf = render_quote_pdf(printable) if drawing is None else drawing.result()
            except BrokenProcessPool:
                pdf = render_quote_pdf(printable)  # the process died: drawn here instead
            self.pdf[quote_id] = pdf_attachment(printable, pdf)
        return self.pdf[quote_id]

    def stop_drawing(self) -> None:
        """Cancel the PDFs drawn ahead that the round did not use."""
        for drawing in self.drawing.values():
            drawing.cancel()
        self.drawing.clear()


def deliver_mail(
    db: Database,
    mailer: Mailer,
    settings: MailSettings,
    *,
    clock: Callable[[], datetime],
    batch: int = 50,
    lease: timedelta = LEASE,
    renderer: PdfRenderer | None = None,
) -> MailRound:
    """Claim up to `batch` due mails, send them, record each outcome; return the counts.
    PDFs are drawn by `renderer`, ahead of the mails that need them, or else when needed.

    A worker that dies leaves at most one mail sent and not recorded: a mail is released to
    the SMTP server only once the outcome of the one before it is recorded. Each step waits
    on the server as little as it can: the next mail is written while the server takes the
    one just released, and the outcome of that one recorded while the server reads the next.
    """
    done = MailRound()
    with db.write(durable=False) as conn:
        claimed = outbox.claim(conn, MAIL_TOPICS, now=clock(), lease=lease, limit=batch)
    if not claimed:
        return done
    documents = _Documents()
    courier = _Courier(db, mailer, done, clock, lease)
    try:
        _read_documents(db, claimed, documents, renderer)
        for index, row in enumerate(claimed):
            ready = _ready(db, row, documents, settings, done, clock=clock, lease=lease)
            unreachable = courier.judge()
            if unreachable is not None:
                waiting = ([ready[0]] if ready else []) + claimed[index + 1 :]
                unreachable.give_back(db, waiting, done, clock)
                break
            if ready is not None:
                courier.hand_over(*ready)
            courier.record()
            courier.release()
        else:
            courier.finish()
    except BaseException:
        courier.stop()
        raise
    finally:
        documents.stop_drawing()
    done.pdfs = len(documents.pdf)
    return done


@dataclass(slots=True)
class _Courier:
    """The mails of a round between their hand-over and their record: at most one released
    (its verdict not read, or not recorded) and one handed over but not released, which goes
    only once the one before it is recorded."""

    db: Database
    mailer: Mailer
    done: MailRound
    clock: Callable[[], datetime]
    lease: timedelta
    released: tuple[Claimed, Handing] | None = None
    judged: tuple[Claimed, MailError | None] | None = None
    handed: tuple[Claimed, Handing] | None = None

    def judge(self) -> _Unreachable | None:
        """Read the server's verdict on the mail released last; the reason it could not be
        handed over at all, if so."""
        if self.released is None:
            return None
        held, handing = self.released
        self.released = None
        verdict = _verdict(held, handing)
        if isinstance(verdict, _Unreachable):
            return verdict
        self.judged = (held, verdict)
        return None

    def hand_over(self, held: Claimed, message: Message) -> None:
        """Write a mail to the server, not released."""
        self.handed = (held, self.mailer.hand_over(message))

    def record(self) -> None:
        """Record the verdict read last."""
        if self.judged is not None:
            held, verdict = self.judged
            self.judged = None
            _record_verdict(self.db, held, verdict, self.done, self.clock)

    def release(self) -> None:
        """Release the mail handed over, if its row is still held (its lease renewed if it
        ran short while the server and the database were waited for)."""
        if self.handed is None:
            return
        held, handing = self.handed
        still = hold(self.db, held, now=self.clock(), lease=self.lease)
        self.handed = None
        if still is None:
            handing.abandon()  # another worker has the row: it sends the mail
            self.done.lost += 1
            return
        handing.release()
        self.released = (still, handing)

    def finish(self) -> None:
        """Read and record the verdict on the last mail."""
        unreachable = self.judge()
        if unreachable is not None:
            unreachable.give_back(self.db, [], self.done, self.clock)
        self.record()

    def stop(self) -> None:
        """After whatever stopped the round (the database, say): drop the mail not released
        (its row, still claimed, goes again after its lease) and record the one released,
        if the database lets us, so that it does not go twice."""
        if self.handed is not None:
            self.handed[1].abandon()
            self.handed = None
        try:
            self.finish()
        except Exception:
            log.exception("the outcome of the last mail sent could not be recorded")


def _ready(
    db: Database,
    row: Claimed,
    documents: _Documents,
    settings: MailSettings,
    done: MailRound,
    *,
    clock: Callable[[], datetime],
    lease: timedelta,
) -> tuple[Claimed, Message] | None:
    """Return a claimed row, still held, with its mail written; None when it is not to be
    sent (the claim lost, or the mail given up and recorded)."""
    # Still held just before sending (and the quote read again): a batch that outlasts its
    # lease must not send what another worker has taken since.
    held = hold(db, row, now=clock(), lease=lease)
    if held is None:
        done.lost += 1
        return None
    status = None
    if row.topic == QUOTE_MAIL:
        with db.read() as conn:
            status = quotes.status_of(conn, row.payload["quote_id"])
    try:
        return held, _message(held, documents, settings, clock(), status)
    except _NotToSend as reason:
        _record(db, held, done, clock, Delivery.FAILED, str(reason), skipped=True)
    except Exception as error:  # a row that cannot be written must not stop the others
        log.exception("mail %s cannot be written", row.payload["message_id"])
        _record(db, held, done, clock, Delivery.FAILED, f"cannot be written: {error}")
    return None


@dataclass(frozen=True, slots=True)
class _Unreachable:
    """No session could be opened for a mail: it and the rest of the batch wait."""

    held: Claimed
    reason: str

    def give_back(
        self,
        db: Database,
        waiting: Sequence[Claimed],
        done: MailRound,
        clock: Callable[[], datetime],
    ) -> None:
        """Give this mail and the `waiting` ones back, their attempts not counted, instead of
        each waiting out a timeout."""
        log.warning("mail server unreachable, %d mails wait: %s", len(waiting) + 1, self.reason)
        at = clock() + RETRY_DELAYS[0]
        for row in (self.held, *waiting):
            give_back(db, row, done, at=at, error=self.reason, counted=False)


def _verdict(held: Claimed, handing: Handing) -> MailError | _Unreachable | None:
    """Wait for the server's verdict on a released mail: None when it took it."""
    try:
        handing.wait()
    except MailError as error:
        return _Unreachable(held, error.reason) if error.no_session else error
    return None


def _record_verdict(
    db: Database,
    held: Claimed,
    verdict: MailError | None,
    done: MailRound,
    clock: Callable[[], datetime],
) -> None:
    if verdict is None:
        _record(db, held, done, clock, Delivery.SENT, None)
    elif verdict.permanent or held.attempts >= MAX_ATTEMPTS:
        _record(db, held, done, clock, Delivery.FAILED, verdict.reason)
    else:
        _retry(db, held, done, clock, verdict.reason)


class _NotToSend(Exception):
    """A queued mail that must not leave (its quote ended before it could)."""


def _read_documents(
    db: Database, claimed: Sequence[Claimed], documents: _Documents, renderer: PdfRenderer | None
) -> None:
    """Read what a round's mails say; each quote's PDF starts being drawn (by `renderer`) as
    soon as its quote is read, while the next quotes are."""
    mailed = {c.payload["quote_id"] for c in claimed if c.topic == QUOTE_MAIL}
    with db.read() as conn:
        for quote_id in sorted({c.payload["quote_id"] for c in claimed}):
            try:
                quote = quotes.load_quote_by_id(conn, quote_id)
                printable = documents.printable[quote_id] = printable_of(conn, quote)
            except DBAPIError:
                raise  # the database, not the quote: the round fails and is tried again
            except Exception:  # one quote that cannot be read stops no other mail
                log.exception("quote %s cannot be read for its mails", quote_id)
                documents.unreadable[quote_id] = "see the worker's log"
                continue
            if renderer is not None and quote_id in mailed:
                with contextlib.suppress(BrokenProcessPool):  # then drawn when needed
                    documents.drawing[quote_id] = renderer.start(printable)
        recipient_ids = [c.payload["recipient_id"] for c in claimed if c.topic == QUOTE_MAIL]
        documents.recipients = quotes.recipients_by_id(conn, recipient_ids)
        order_ids = [c.payload["order_id"] for c in claimed if c.topic == ORDER_MAIL]
        documents.orders = orders.orders_by_id(conn, order_ids)


def _message(
    row: Claimed,
    documents: _Documents,
    settings: MailSettings,
    now: datetime,
    status: QuoteStatus | None,
) -> Message:
    payload = row.payload
    if payload["quote_id"] in documents.unreadable:
        raise LookupError(f"its quote cannot be read: {documents.unreadable[payload['quote_id']]}")
    printable = documents.printable[payload["quote_id"]]
    if row.topic == ORDER_MAIL:
        order = documents.orders[payload["order_id"]]
        return compose_order(
            OrderMail(
                printable=printable,
                order=order,
                to_email=payload["to"],
                message_id=payload["message_id"],
                sender=settings.sender,
                at=now,
            )
        )
    quote = printable.quote
    if status is not QuoteStatus.SENT:
        # Replaced, cancelled or ordered before its mail left: the link would open nothing.
        raise _NotToSend(f"the quote is {status.value if status else 'gone'}")
    email, name = documents.recipients[payload["recipient_id"]]
    link_expires_at = datetime.fromisoformat(payload["link_expires_at"])
    return compose(
        QuoteMail(
            printable=printable,
            kind=payload["kind"],
            to_email=email,
            to_name=name,
            link=link_url(settings.public_url, payload["link_token"]),
            link_expires_on=min(link_expires_at.date(), quote.expires_at),
            message_id=payload["message_id"],
            sender=settings.sender,
            at=now,
        ),
        documents.pdf_of(printable),
    )


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
    *,
    skipped: bool = False,
) -> None:
    payload = _without_token(row)

    def with_recipient(
        conn: Connection, held: Claimed, status: OutboxStatus, now: datetime
    ) -> bool:
        return outbox.finish_mail(
            conn,
            held,
            status,
            now=now,
            error=error,
            payload=payload,
            recipient_id=row.payload["recipient_id"],
            delivery=delivery.value,
        )

    # A mail not sent because its quote ended leaves the recipient's earlier mail's state.
    finish = with_recipient if row.topic == QUOTE_MAIL and not skipped else None
    sent = delivery is Delivery.SENT
    kept = settle(
        db, row, done, sent=sent, now=clock(), error=error, payload=payload, finish=finish
    )
    if kept and not sent:
        log.warning("mail %s failed: %s", row.payload["message_id"], error)


def _retry(
    db: Database, row: Claimed, done: MailRound, clock: Callable[[], datetime], error: str
) -> None:
    give_back(db, row, done, at=clock() + RETRY_DELAYS[row.attempts - 1], error=error)


def _without_token(row: Claimed) -> Mapping[str, Any]:
    return {key: value for key, value in row.payload.items() if key != "link_token"}
