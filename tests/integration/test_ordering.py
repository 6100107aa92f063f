"""Ordering quotes: payment rules, renewals exactly once, other quotes superseded."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.model import PaymentMethod, QuoteType, Term
from renewquote.domain.quoting import LineRequest
from renewquote.services.ordering import checkout
from renewquote.services.quoting import QuoteDraft, create_quote, get_quote, send_quote
from renewquote.storage.tables import orders, subscription_renewals, subscriptions
from tests.book import NOW, TODAY, row_counts

VISA = "4242424242424242"


def sent_quote(db, who, *ids, **line_over):
    lines = tuple(LineRequest(subscription_id=i, **line_over) for i in ids)
    quote = create_quote(
        db, who, QuoteDraft(type=QuoteType.RENEWAL, lines=lines), today=TODAY, now=NOW
    )
    return send_quote(db, who, quote.number, today=TODAY, now=NOW)


def subscription(db, sid):
    with db.read() as conn:
        return conn.execute(select(subscriptions).where(subscriptions.c.id == sid)).one()


def test_ordering_renews_each_subscription_with_its_new_term_and_seats(book, actor):
    marie = actor("marie@dupont.example")
    quote = sent_quote(book, marie, "SUB-0001", quantity=3, term=Term.THREE_YEAR)
    order, ordered = checkout(
        book, marie, quote.number, PaymentMethod.CARD, card_number=VISA, today=TODAY, now=NOW
    )
    assert ordered.status is QuoteStatus.ORDERED
    assert (order.total, order.currency, order.payment_method) == (
        Decimal("4212.00"),
        "EUR",
        "card",
    )
    sub = subscription(book, "SUB-0001")
    assert (sub.end_date, sub.quantity, sub.term, sub.renewed_by_order) == (
        date(2029, 12, 14),
        3,
        "3-year",
        order.id,
    )


def test_a_renewed_subscription_says_it_was_renewed(book, actor):
    marie = actor("marie@dupont.example")
    quote = sent_quote(book, marie, "SUB-0001")
    checkout(book, marie, quote.number, PaymentMethod.PAYPAL, today=TODAY, now=NOW)
    from renewquote.services import renewals

    result = renewals.renewal_groups(book, marie, today=TODAY)
    reasons = {i.subscription_id: [r.detail for r in i.reasons] for i in result.ineligible}
    assert reasons["SUB-0001"] == ["already_renewed"]


def test_ordering_one_quote_supersedes_every_other_open_quote_of_its_subscriptions(book, actor):
    marie = actor("marie@dupont.example")
    first = sent_quote(book, marie, "SUB-0001", "SUB-0002")
    draft = create_quote(
        book,
        marie,
        QuoteDraft(type=QuoteType.RENEWAL, lines=(LineRequest(subscription_id="SUB-0002"),)),
        today=TODAY,
        now=NOW,
    )
    unrelated = sent_quote(book, marie, "SUB-0009")
    checkout(book, marie, first.number, PaymentMethod.CARD, card_number=VISA, today=TODAY, now=NOW)
    assert get_quote(book, marie, draft.number).status is QuoteStatus.SUPERSEDED
    assert get_quote(book, marie, unrelated.number).status is QuoteStatus.SENT
    with pytest.raises(RuleViolation) as caught:
        send_quote(book, marie, draft.number, today=TODAY, now=NOW)
    assert caught.value.code is Code.QUOTE_SUPERSEDED


def test_a_quote_is_ordered_once(book, actor):
    marie = actor("marie@dupont.example")
    quote = sent_quote(book, marie, "SUB-0001")
    checkout(book, marie, quote.number, PaymentMethod.PAYPAL, today=TODAY, now=NOW)
    with pytest.raises(RuleViolation) as caught:
        checkout(book, marie, quote.number, PaymentMethod.PAYPAL, today=TODAY, now=NOW)
    assert caught.value.code is Code.QUOTE_ORDERED


def test_a_draft_must_be_sent_before_it_is_ordered(book, actor):
    marie = actor("marie@dupont.example")
    quote = create_quote(
        book,
        marie,
        QuoteDraft(type=QuoteType.RENEWAL, lines=(LineRequest(subscription_id="SUB-0001"),)),
        today=TODAY,
        now=NOW,
    )
    with pytest.raises(RuleViolation) as caught:
        checkout(book, marie, quote.number, PaymentMethod.PAYPAL, today=TODAY, now=NOW)
    assert caught.value.code is Code.QUOTE_NOT_SENT


def test_invoice_only_for_customers_who_already_pay_by_invoice(book, actor):
    marie = actor("marie@dupont.example")
    quote = sent_quote(book, marie, "SUB-0001")
    before = row_counts(book)
    with pytest.raises(RuleViolation) as caught:
        checkout(book, marie, quote.number, PaymentMethod.INVOICE, today=TODAY, now=NOW)
    assert caught.value.code is Code.NEW_CREDIT_LINE
    assert row_counts(book) == before
    jo = actor("jo@acme.example")
    other = sent_quote(book, jo, "SUB-0201")
    order, _ = checkout(book, jo, other.number, PaymentMethod.INVOICE, today=TODAY, now=NOW)
    assert order.payment_method == "invoice"


def test_card_and_paypal_stop_at_the_currency_limit(book, actor):
    marie = actor("marie@dupont.example")
    quote = sent_quote(book, marie, "SUB-0008")  # 60 x 2,700.00 EUR, over 23,000.00
    for method in (PaymentMethod.CARD, PaymentMethod.PAYPAL):
        with pytest.raises(RuleViolation) as caught:
            checkout(book, marie, quote.number, method, card_number=VISA, today=TODAY, now=NOW)
        assert caught.value.code is Code.CARD_LIMIT_EXCEEDED


def test_a_declined_card_orders_nothing(book, actor):
    marie = actor("marie@dupont.example")
    quote = sent_quote(book, marie, "SUB-0001")
    before = row_counts(book)
    for number in ("4000000000000002", "1234"):
        with pytest.raises(RuleViolation) as caught:
            checkout(
                book,
                marie,
                quote.number,
                PaymentMethod.CARD,
                card_number=number,
                today=TODAY,
                now=NOW,
            )
        assert caught.value.code is Code.PAYMENT_DECLINED
    assert row_counts(book) == before
    assert get_quote(book, marie, quote.number).status is QuoteStatus.SENT


def test_an_expired_quote_cannot_be_ordered(book, actor):
    marie = actor("marie@dupont.example")
    quote = sent_quote(book, marie, "SUB-0001")
    with pytest.raises(RuleViolation) as caught:
        checkout(
            book,
            marie,
            quote.number,
            PaymentMethod.PAYPAL,
            today=quote.expires_at + timedelta(days=1),
            now=NOW,
        )
    assert caught.value.code is Code.QUOTE_EXPIRED


def test_two_racing_orders_for_one_subscription_renew_it_once(book, actor):
    marie = actor("marie@dupont.example")
    # Two sent quotes hold SUB-0001; several threads order both at the same moment.
    quotes = [sent_quote(book, marie, "SUB-0001", "SUB-0002"), sent_quote(book, marie, "SUB-0001")]
    start = threading.Barrier(4)
    outcomes: list[object] = []
    lock = threading.Lock()

    def order(number: str) -> None:
        start.wait()
        try:
            result: object = checkout(
                book, marie, number, PaymentMethod.PAYPAL, today=TODAY, now=NOW
            )[0]
        except RuleViolation as exc:
            result = exc.code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=order, args=(q.number,)) for q in quotes * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    wins = [o for o in outcomes if not isinstance(o, Code)]
    assert len(outcomes) == 4
    assert len(wins) == 1
    assert {o for o in outcomes if isinstance(o, Code)} <= {
        Code.QUOTE_ORDERED,
        Code.QUOTE_SUPERSEDED,
    }
    with book.read() as conn:
        renewed = conn.execute(
            select(subscription_renewals.c.subscription_id).where(
                subscription_renewals.c.subscription_id == "SUB-0001"
            )
        ).all()
        assert len(renewed) == 1
        assert len(conn.execute(select(orders)).all()) == 1
    assert subscription(book, "SUB-0001").end_date == date(2027, 12, 14)


def test_auto_renew_is_off_while_a_sent_quote_changes_seats_or_term(book, actor):
    marie = actor("marie@dupont.example")
    ops = actor("ops@vendor.example")
    same = sent_quote(book, marie, "SUB-0002")
    assert subscription(book, "SUB-0002").auto_renew is True  # nothing changes: nothing held
    fewer = sent_quote(book, marie, "SUB-0001", quantity=2)
    assert (
        subscription(book, "SUB-0001").auto_renew,
        subscription(book, "SUB-0001").auto_renew_held_by,
    ) == (False, fewer.id)
    from renewquote.services.quoting import cancel_quote

    cancel_quote(book, ops, fewer.number, now=NOW)
    assert subscription(book, "SUB-0001").auto_renew is True
    longer = sent_quote(book, marie, "SUB-0001", term=Term.THREE_YEAR)
    assert subscription(book, "SUB-0001").auto_renew is False
    checkout(book, marie, longer.number, PaymentMethod.PAYPAL, today=TODAY, now=NOW)
    renewed = subscription(book, "SUB-0001")
    assert (renewed.auto_renew, renewed.auto_renew_held_by, renewed.term) == (True, None, "3-year")
    assert get_quote(book, marie, same.number).status is QuoteStatus.SENT
