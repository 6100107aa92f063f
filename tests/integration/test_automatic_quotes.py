"""Automatic quotes 30 days before subscriptions end, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.model import Channel
from renewquote.domain.quotes import RecipientRole
from renewquote.services.automatic import make_automatic_quotes
from renewquote.services.quoting import cancel_quote, edit_draft, get_quote
from renewquote.storage.tables import automatic_quote_terms, outbox, quotes, subscriptions
from tests.book import NOW, TODAY

# Of Dupont's subscriptions ending within 30 days of TODAY (2026-11-28): SUB-0001 (EUR,
# 2026-12-14), SUB-0009 (EUR, monthly, 2026-12-05), SUB-0003 (USD, 2026-12-31 is past the 30
# days), SUB-0004 (through a partner), SUB-0005 (flex), SUB-0007 (cancelled).
WITHOUT_AUTO_RENEW = ("SUB-0001", "SUB-0009", "SUB-0004", "SUB-0005", "SUB-0007")


@pytest.fixture
def due(book):
    with book.write() as conn:
        conn.execute(
            update(subscriptions)
            .where(subscriptions.c.id.in_(WITHOUT_AUTO_RENEW))
            .values(auto_renew=False)
        )
    return book


def test_one_quote_per_group_coming_due_is_made_sent_and_mailed_to_the_purchaser(due, actor):
    made = make_automatic_quotes(due, today=TODAY, now=NOW)

    assert len(made) == 1
    marie = actor("marie@dupont.example")
    quote = get_quote(due, marie, made[0])  # the customer sees it
    assert (quote.channel, quote.status) == (Channel.AUTOMATIC, QuoteStatus.SENT)
    # Bought directly, standard, active, due: not the partner's, the flex plan or the cancelled.
    assert sorted(quote.renewed_ids) == ["SUB-0001", "SUB-0009"]
    assert [(r.email, r.role) for r in quote.recipients] == [
        ("marie@dupont.example", RecipientRole.CONTACT)
    ]
    with due.read() as conn:
        mails = conn.execute(select(outbox.c.payload).where(outbox.c.topic == "mail.quote")).all()
    assert [m.payload["quote_id"] for m in mails] == [quote.id]
    # The customer buys it; it does not change it.
    with pytest.raises(RuleViolation) as caught:
        edit_draft(due, marie, quote.number, language="en", today=TODAY, now=NOW)
    assert caught.value.code is Code.NOT_QUOTE_MAKER


def test_a_term_is_never_quoted_automatically_twice(due, actor):
    [number] = make_automatic_quotes(due, today=TODAY, now=NOW)
    assert make_automatic_quotes(due, today=TODAY, now=NOW) == []
    # Even once its quote is cancelled, the same terms are not quoted again.
    cancel_quote(due, actor("ops@vendor.example"), number, now=NOW)
    assert make_automatic_quotes(due, today=TODAY, now=NOW) == []


def test_two_workers_at_once_make_one_quote(due):
    results: list[list[str]] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        results.append(make_automatic_quotes(due, today=TODAY, now=NOW))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r) for r in results) == [0, 1]


def test_a_group_of_more_than_a_hundred_makes_several_quotes(book):
    with book.write() as conn:
        rows = [
            {
                **conn.execute(select(subscriptions).where(subscriptions.c.id == "SUB-0001"))
                .one()
                ._asdict(),
                "id": f"SUB-9{n:03d}",
                "auto_renew": False,
            }
            for n in range(101)
        ]
        conn.execute(subscriptions.insert(), rows)
    made = make_automatic_quotes(book, today=TODAY, now=NOW)
    assert len(made) == 2  # 100 lines, then 1


def test_a_failure_half_way_records_nothing_and_the_next_round_makes_the_quote(due, monkeypatch):
    import renewquote.services.automatic as automatic_service

    real_send = automatic_service.send_draft

    def broken(*args, **kwargs):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(automatic_service, "send_draft", broken)
    assert make_automatic_quotes(due, today=TODAY, now=NOW) == []
    with due.read() as conn:
        # No term taken, no draft left behind, nothing queued.
        assert conn.execute(select(automatic_quote_terms)).all() == []
        assert conn.execute(select(quotes)).all() == []
        assert conn.execute(select(outbox)).all() == []
    monkeypatch.setattr(automatic_service, "send_draft", real_send)
    assert len(make_automatic_quotes(due, today=TODAY, now=NOW)) == 1


def test_terms_the_rules_refuse_are_recorded_and_not_asked_again(due, monkeypatch):
    import renewquote.services.automatic as automatic_service

    calls = []

    def refused(*args, **kwargs):
        calls.append(1)
        raise RuleViolation.one(Code.INVALID_INPUT, field="contact", problem="no")

    monkeypatch.setattr(automatic_service, "send_draft", refused)
    assert make_automatic_quotes(due, today=TODAY, now=NOW) == []
    assert make_automatic_quotes(due, today=TODAY, now=NOW) == []
    assert len(calls) == 1
    with due.read() as conn:
        terms = conn.execute(select(automatic_quote_terms.c.subscription_id)).scalars().all()
        assert sorted(terms) == ["SUB-0001", "SUB-0009"]
        assert conn.execute(select(quotes)).all() == []  # the refused draft rolled back
