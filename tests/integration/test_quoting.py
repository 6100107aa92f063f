"""Quotes through the services, on SQLite and PostgreSQL, via the real migrations."""

from __future__ import annotations

import gc
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, event, insert, select

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.model import Channel, QuoteType, Region, Term
from renewquote.domain.quotes import Delivery, Recipient
from renewquote.domain.quoting import LineRequest
from renewquote.services import renewals
from renewquote.services.quoting import (
    QuoteDraft,
    cancel_quote,
    create_quote,
    edit_draft,
    expire_quotes,
    get_quote,
    quote_history,
    replace_quote,
    send_quote,
)
from renewquote.storage.tables import customers, outbox, quotes
from tests.book import NOW, TODAY, row_counts


def renewal(*ids: str, **over) -> QuoteDraft:
    lines = tuple(LineRequest(subscription_id=i) for i in ids)
    return QuoteDraft(type=QuoteType.RENEWAL, lines=lines, **over)


def test_buyer_sees_groups_by_currency_and_purchase_method_with_every_reason(book, actor):
    result = renewals.renewal_groups(book, actor("marie@dupont.example"), today=TODAY)
    keys = {
        (g.key.currency, g.key.purchase_method, g.key.partner_csn): g.subscription_ids
        for g in result.groups
    }
    assert keys == {
        ("EUR", "direct", None): ("SUB-0010", "SUB-0009", "SUB-0001", "SUB-0008", "SUB-0002"),
        ("EUR", "partner", "5100000001"): ("SUB-0004",),
        ("USD", "direct", None): ("SUB-0003",),
    }
    reasons = {
        i.subscription_id: {(r.code, r.detail) for r in i.reasons} for i in result.ineligible
    }
    assert reasons == {
        "SUB-0005": {(Code.INELIGIBLE_OFFERING, None)},
        "SUB-0006": {(Code.NOT_RENEWABLE, "window_not_open")},
        "SUB-0007": {(Code.NOT_RENEWABLE, "cancelled")},
        "SUB-0011": {(Code.NOT_RENEWABLE, "window_closed")},
    }


def test_customer_in_a_country_without_self_service_is_told_to_ask_a_partner(book, actor):
    result = renewals.renewal_groups(book, actor("ana@rio.example"), today=TODAY)
    assert result.groups == ()
    assert [r.code for r in result.ineligible[0].reasons] == [Code.REGION_NOT_ENABLED]


def test_a_contact_knows_its_company_region_so_its_list_reads_no_customer(book, actor):
    ana = actor("ana@rio.example")
    assert ana.region == Region("BR", self_service_enabled=False)  # read with the user
    statements: list[str] = []

    def collect(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(book.reader, "before_cursor_execute", collect)
    try:
        known = renewals.renewal_groups(book, ana, today=TODAY)
        # A contact built without it (as a test or script may) reads its customer instead.
        read = renewals.renewal_groups(book, replace(ana, region=None), today=TODAY)
    finally:
        event.remove(book.reader, "before_cursor_execute", collect)
    assert known == read
    assert [r.code for r in known.ineligible[0].reasons] == [Code.REGION_NOT_ENABLED]
    assert [s.split("FROM")[1].split()[0] for s in statements] == [
        "subscriptions",  # the first list: the candidates only
        "customers",  # the second: its customer, then the candidates
        "subscriptions",
    ]


def test_a_customer_without_subscriptions_has_no_groups_and_an_unknown_one_is_not_found(
    book, actor
):
    with book.write() as conn:
        conn.execute(
            insert(customers).values(
                csn="5200000099",
                name="Empty SARL",
                country="FR",
                address_line1="1 rue Vide",
                address_line2=None,
                city="Paris",
                postal_code="75001",
                pays_by_invoice=False,
                tax_id=None,
            )
        )
    ops = actor("ops@vendor.example")
    empty = renewals.renewal_groups(book, ops, today=TODAY, customer_csn="5200000099")
    assert (empty.groups, empty.ineligible) == ((), ())
    with pytest.raises(RuleViolation) as unknown:
        renewals.renewal_groups(book, ops, today=TODAY, customer_csn="5200000098")
    assert [v.code for v in unknown.value.violations] == [Code.NOT_FOUND]
    # A customer the caller may not reach is not found either, though it has subscriptions.
    with pytest.raises(RuleViolation) as hidden:
        renewals.renewal_groups(
            book, actor("anne@partner.example"), today=TODAY, customer_csn="5200000002"
        )
    assert [v.code for v in hidden.value.violations] == [Code.NOT_FOUND]


def test_partner_sees_only_what_it_resells_and_may_quote_a_region_without_self_service(book, actor):
    anne = actor("anne@partner.example")
    result = renewals.renewal_groups(book, anne, today=TODAY)
    assert sorted(i for g in result.groups for i in g.subscription_ids) == ["SUB-0004", "SUB-0301"]
    quote = create_quote(
        book,
        anne,
        renewal("SUB-0301", customer_csn="5200000003", contact_email="ana@rio.example"),
        today=TODAY,
        now=NOW,
    )
    assert quote.channel == Channel.PARTNER.value
    assert quote.partner_csn == "5100000001"


def test_buyer_creates_a_priced_renewal_quote_from_a_group_with_one_unticked(book, actor):
    quote = create_quote(
        book,
        actor("marie@dupont.example"),
        renewal("SUB-0001", "SUB-0002", recipients=(Recipient("cfo@dupont.example", "CFO"),)),
        today=TODAY,
        now=NOW,
    )
    assert quote.status is QuoteStatus.DRAFT
    assert quote.number.startswith("Q-2026-")
    first, second = quote.lines
    assert (first.subscription_id, first.unit_price, first.subtotal, first.tax) == (
        "SUB-0001",
        Decimal("460.00"),
        Decimal("2300.00"),
        Decimal("460.00"),
    )
    assert (first.start_date, first.end_date) == (date(2026, 12, 15), date(2027, 12, 14))
    assert (second.subtotal, second.tax) == (Decimal("5400.00"), Decimal("1080.00"))
    assert (quote.subtotal, quote.discount_total, quote.tax, quote.total) == (
        Decimal("7700.00"),
        Decimal("0.00"),
        Decimal("1540.00"),
        Decimal("9240.00"),
    )
    assert [(r.email, r.role) for r in quote.recipients] == [
        ("marie@dupont.example", "buyer"),
        ("cfo@dupont.example", "extra"),
    ]
    assert quote.address.city == "Paris"
    assert quote.language == "fr"
    # Read back from the database exactly as priced.
    assert get_quote(book, actor("marie@dupont.example"), quote.number) == quote


def test_term_change_and_fewer_seats_are_priced_at_the_new_term_with_the_promotion(book, actor):
    draft = QuoteDraft(
        type=QuoteType.RENEWAL,
        lines=(LineRequest(subscription_id="SUB-0001", quantity=3, term=Term.THREE_YEAR),),
    )
    quote = create_quote(book, actor("marie@dupont.example"), draft, today=TODAY, now=NOW)
    (line,) = quote.lines
    assert (line.quantity, line.term, line.unit_price) == (3, "3-year", Decimal("1300.00"))
    assert (line.subtotal, line.discount, line.amount, line.tax) == (
        Decimal("3900.00"),
        Decimal("390.00"),
        Decimal("3510.00"),
        Decimal("702.00"),
    )
    assert line.promotion_code == "RENEW3Y10"
    assert line.end_date == date(2029, 12, 14)
    assert quote.total == Decimal("4212.00")


def test_yen_quote_has_no_minor_unit(book, actor):
    quote = create_quote(
        book, actor("ken@tokyo.example"), renewal("SUB-0401"), today=TODAY, now=NOW
    )
    assert (quote.subtotal, quote.tax, quote.total) == (
        Decimal("192000"),
        Decimal("19200"),
        Decimal("211200"),
    )


def test_a_refused_quote_reports_every_violation_and_leaves_no_draft(book, actor):
    before = row_counts(book)
    draft = QuoteDraft(
        type=QuoteType.RENEWAL,
        lines=(
            LineRequest(subscription_id="SUB-0001", quantity=9),
            LineRequest(subscription_id="SUB-0003"),
            LineRequest(subscription_id="SUB-0005"),
            LineRequest(subscription_id="SUB-0006", start_date=date(2027, 9, 1)),
        ),
        recipients=tuple(Recipient(f"r{i}@x.example") for i in range(5)),
    )
    with pytest.raises(RuleViolation) as caught:
        create_quote(book, actor("marie@dupont.example"), draft, today=TODAY, now=NOW)
    found = {(v.code, v.subscription_ids) for v in caught.value.violations}
    assert (Code.SEAT_INCREASE, ("SUB-0001",)) in found
    assert (Code.INELIGIBLE_OFFERING, ("SUB-0005",)) in found
    assert (Code.NOT_RENEWABLE, ("SUB-0006",)) in found
    assert (Code.START_DATE_NOT_ALLOWED, ("SUB-0006",)) in found
    assert (Code.TOO_MANY_RECIPIENTS, ()) in found
    assert any(code is Code.MIXED_CURRENCY for code, _ in found)
    assert row_counts(book) == before


def test_a_read_only_user_may_not_quote(book, actor):
    with pytest.raises(RuleViolation) as caught:
        create_quote(book, actor("paul@dupont.example"), renewal("SUB-0001"), today=TODAY, now=NOW)
    assert caught.value.code is Code.FORBIDDEN


def test_another_customers_subscription_is_not_found(book, actor):
    with pytest.raises(RuleViolation) as caught:
        create_quote(book, actor("marie@dupont.example"), renewal("SUB-0201"), today=TODAY, now=NOW)
    assert caught.value.code is Code.NOT_FOUND
    quote = create_quote(book, actor("jo@acme.example"), renewal("SUB-0201"), today=TODAY, now=NOW)
    with pytest.raises(RuleViolation) as caught:
        get_quote(book, actor("marie@dupont.example"), quote.number)
    assert caught.value.code is Code.NOT_FOUND


def test_partner_cannot_quote_a_customer_it_does_not_resell_to(book, actor):
    with pytest.raises(RuleViolation) as caught:
        create_quote(
            book,
            actor("bob@other.example"),
            renewal("SUB-0001", customer_csn="5200000001"),
            today=TODAY,
            now=NOW,
        )
    assert caught.value.code is Code.NOT_FOUND


def test_partner_sends_to_one_contact_plus_five_more(book, actor):
    anne = actor("anne@partner.example")
    six = tuple(Recipient(f"r{i}@x.example") for i in range(6))
    with pytest.raises(RuleViolation) as caught:
        create_quote(
            book,
            anne,
            renewal(
                "SUB-0004",
                customer_csn="5200000001",
                contact_email="compta@dupont.example",
                recipients=six,
            ),
            today=TODAY,
            now=NOW,
        )
    assert caught.value.code is Code.TOO_MANY_RECIPIENTS
    quote = create_quote(
        book,
        anne,
        renewal(
            "SUB-0004",
            customer_csn="5200000001",
            contact_email="compta@dupont.example",
            recipients=six[:5],
        ),
        today=TODAY,
        now=NOW,
    )
    assert [r.role for r in quote.recipients] == ["contact"] + ["extra"] * 5
    with pytest.raises(RuleViolation) as caught:
        create_quote(
            book,
            anne,
            renewal("SUB-0004", customer_csn="5200000001", contact_email="stranger@else.example"),
            today=TODAY,
            now=NOW,
        )
    assert caught.value.code is Code.UNKNOWN_CONTACT


def test_editing_a_draft_reprices_it_and_a_sent_quote_cannot_be_edited(book, actor):
    marie = actor("marie@dupont.example")
    quote = create_quote(book, marie, renewal("SUB-0001", "SUB-0002"), today=TODAY, now=NOW)
    edited = edit_draft(
        book,
        marie,
        quote.number,
        lines=[LineRequest(subscription_id="SUB-0001", quantity=2)],
        today=TODAY,
        now=NOW,
    )
    assert edited.total == Decimal("1104.00")  # 2 x 460.00 + 20 % tax
    sent = send_quote(book, marie, quote.number, today=TODAY, now=NOW)
    assert sent.status is QuoteStatus.SENT
    with pytest.raises(RuleViolation) as caught:
        edit_draft(book, marie, quote.number, recipients=[], today=TODAY, now=NOW)
    assert caught.value.code is Code.QUOTE_NOT_EDITABLE
    with pytest.raises(RuleViolation) as caught:
        edit_draft(book, marie, quote.number, address={"city": "Lyon"}, today=TODAY, now=NOW)
    assert caught.value.code is Code.ADDRESS_LOCKED
    assert [e.action for e in quote_history(book, marie, quote.number)] == [
        "created",
        "edited",
        "sent",
    ]


def test_sending_fixes_validity_within_the_window_and_queues_the_mail(book, actor):
    marie = actor("marie@dupont.example")
    quote = create_quote(book, marie, renewal("SUB-0001", "SUB-0010"), today=TODAY, now=NOW)
    sent = send_quote(book, marie, quote.number, today=TODAY, now=NOW)
    # SUB-0010 ended 2026-11-01: its window closes 45 days later, before the 30 days run out.
    assert sent.expires_at == date(2026, 12, 16)
    assert sent.sent_at == NOW
    with book.read() as conn:
        messages = conn.execute(select(outbox.c.topic, outbox.c.payload)).all()
    assert {m.topic for m in messages} == {"mail.quote"}  # events reach webhooks as audit rows
    # One mail per recipient, the buyer included, each with its own Message-ID and link.
    mails = [m.payload for m in messages if m.topic == "mail.quote"]
    assert [r.email for r in sent.recipients] == ["marie@dupont.example"]
    assert len(mails) == 1 and mails[0]["quote_id"] == sent.id
    assert mails[0]["message_id"].endswith("@renewquote.mail>")
    assert len(mails[0]["link_token"]) >= 43
    assert [r.delivery for r in sent.recipients] == [Delivery.PENDING]


def test_only_the_partner_or_staff_cancels(book, actor):
    marie = actor("marie@dupont.example")
    quote = create_quote(book, marie, renewal("SUB-0001"), today=TODAY, now=NOW)
    with pytest.raises(RuleViolation) as caught:
        cancel_quote(book, marie, quote.number, now=NOW)
    assert caught.value.code is Code.CANCELLATION_NOT_SELF_SERVICE
    cancelled = cancel_quote(book, actor("ops@vendor.example"), quote.number, now=NOW)
    assert cancelled.status is QuoteStatus.CANCELLED
    with pytest.raises(RuleViolation) as caught:
        send_quote(book, marie, quote.number, today=TODAY, now=NOW)
    assert caught.value.code is Code.QUOTE_CANCELLED


def test_a_new_address_means_a_new_quote_that_supersedes_the_old_when_sent(book, actor):
    marie = actor("marie@dupont.example")
    old = create_quote(book, marie, renewal("SUB-0001"), today=TODAY, now=NOW)
    send_quote(book, marie, old.number, today=TODAY, now=NOW)
    new = replace_quote(
        book,
        marie,
        old.number,
        {"line1": "2 place Bellecour", "city": "Lyon", "postal_code": "69002"},
        today=TODAY,
        now=NOW,
    )
    assert new.replaces == old.number
    assert new.address.city == "Lyon"
    assert new.lines[0].amount == old.lines[0].amount
    assert get_quote(book, marie, old.number).status is QuoteStatus.SENT
    send_quote(book, marie, new.number, today=TODAY, now=NOW)
    assert get_quote(book, marie, old.number).status is QuoteStatus.SUPERSEDED


def test_quote_numbers_are_never_reused(book, actor):
    marie = actor("marie@dupont.example")
    first = create_quote(book, marie, renewal("SUB-0001"), today=TODAY, now=NOW)
    second = create_quote(book, marie, renewal("SUB-0001"), today=TODAY, now=NOW)
    with book.write() as conn:
        from renewquote.storage.tables import quote_events, quote_lines, quote_recipients

        for table in (quote_events, quote_lines, quote_recipients):
            conn.execute(delete(table).where(table.c.quote_id == second.id))
        conn.execute(delete(quotes).where(quotes.c.id == second.id))
    third = create_quote(book, marie, renewal("SUB-0001"), today=TODAY, now=NOW)
    assert len({first.number, second.number, third.number}) == 3


def test_open_quotes_past_validity_expire(book, actor):
    marie = actor("marie@dupont.example")
    quote = create_quote(book, marie, renewal("SUB-0001"), today=TODAY, now=NOW)
    sent = send_quote(book, marie, quote.number, today=TODAY, now=NOW)
    assert expire_quotes(book, today=sent.expires_at, now=NOW) == []
    later = sent.expires_at + timedelta(days=1)
    assert expire_quotes(book, today=later, now=NOW) == [quote.number]
    assert get_quote(book, marie, quote.number).status is QuoteStatus.EXPIRED


def test_grouping_gives_the_garbage_collector_back_as_it_found_it(book, actor, monkeypatch):
    marie = actor("marie@dupont.example")
    held: list[bool] = []
    group = renewals.group_renewals

    def grouping(*args, **kwargs):
        held.append(not gc.isenabled())  # held while a book's rows are grouped
        return group(*args, **kwargs)

    monkeypatch.setattr(renewals, "group_renewals", grouping)
    assert gc.isenabled()
    renewals.renewal_groups(book, marie, today=TODAY)
    assert gc.isenabled() and held == [True]

    def failing(*args, **kwargs):
        raise RuntimeError("the grouping failed")

    monkeypatch.setattr(renewals, "group_renewals", failing)
    with pytest.raises(RuntimeError):
        renewals.renewal_groups(book, marie, today=TODAY)
    assert gc.isenabled()  # given back after a failure too
    monkeypatch.setattr(renewals, "group_renewals", grouping)
    gc.disable()
    try:
        renewals.renewal_groups(book, marie, today=TODAY)
        assert not gc.isenabled()  # switched off by someone else: left off
    finally:
        gc.enable()
