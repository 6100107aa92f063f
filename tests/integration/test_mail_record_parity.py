"""A mail's outcome is recorded in one statement on PostgreSQL (which then commits on its own)
and statement by statement on SQLite (storage.outbox.finish_mail): both leave the same rows, and
neither changes anything for a claim that was lost."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from renewquote.domain.model import QuoteType
from renewquote.domain.quotes import Delivery
from renewquote.domain.quoting import LineRequest
from renewquote.services.mailing import MAIL_TOPICS
from renewquote.services.quoting import QuoteDraft, create_quote, send_quote
from renewquote.services.rounds import DeliveryRound, settle
from renewquote.storage import outbox
from renewquote.storage.tables import outbox as outbox_table
from renewquote.storage.tables import quote_recipients
from tests.book import NOW, TODAY

LATER = NOW + timedelta(seconds=5)


def rows(book) -> list[tuple[object, ...]]:
    with book.read() as conn:
        mails = conn.execute(
            select(
                outbox_table.c.status,
                outbox_table.c.lease_until,
                outbox_table.c.processed_at,
                outbox_table.c.last_error,
                outbox_table.c.payload,
            ).order_by(outbox_table.c.id)
        ).all()
        recipients = conn.execute(
            select(
                quote_recipients.c.delivery,
                quote_recipients.c.delivery_at,
                quote_recipients.c.delivery_error,
            ).order_by(quote_recipients.c.id)
        ).all()
    return [tuple(r) for r in mails] + [tuple(r) for r in recipients]


def test_a_mail_outcome_is_recorded_alike_on_both_databases_and_only_while_held(book, actor):
    marie = actor("marie@dupont.example")
    draft = QuoteDraft(type=QuoteType.RENEWAL, lines=(LineRequest(subscription_id="SUB-0001"),))
    quote = create_quote(book, marie, draft, today=TODAY, now=NOW)
    send_quote(book, marie, quote.number, today=TODAY, now=NOW)
    with book.write() as conn:
        [row] = outbox.claim(conn, MAIL_TOPICS, now=NOW, lease=timedelta(minutes=2), limit=5)
    payload = {k: v for k, v in row.payload.items() if k != "link_token"}

    def finish(conn, held, status, now) -> bool:
        return outbox.finish_mail(
            conn,
            held,
            status,
            now=now,
            error=None,
            payload=payload,
            recipient_id=row.payload["recipient_id"],
            delivery=Delivery.SENT.value,
        )

    done = DeliveryRound()
    assert settle(book, row, done, sent=True, now=LATER, error=None, finish=finish)
    after = rows(book)
    assert after == [
        ("sent", None, LATER, None, payload),
        ("sent", LATER, None),
    ]
    # The same claim again (as a worker whose lease ran out would hold it): nothing changes.
    assert not settle(
        book, row, done, sent=True, now=LATER + timedelta(seconds=1), error=None, finish=finish
    )
    assert rows(book) == after
    assert (done.sent, done.lost) == (1, 1)
