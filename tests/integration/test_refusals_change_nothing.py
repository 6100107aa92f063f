"""Property: a refused quote or order changes no row; an accepted quote adds exactly one."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renewquote.domain.errors import RuleViolation
from renewquote.domain.model import PaymentMethod, QuoteType, Term
from renewquote.domain.quotes import Recipient
from renewquote.domain.quoting import LineRequest
from renewquote.services.ordering import checkout
from renewquote.services.quoting import QuoteDraft, create_quote, send_quote
from tests.book import BOOK, NOW, TODAY, row_counts

SUBSCRIPTIONS = [s["id"] for s in BOOK["subscriptions"]] + ["SUB-NONE"]
PEOPLE = [
    "marie@dupont.example",
    "paul@dupont.example",
    "jo@acme.example",
    "ana@rio.example",
    "anne@partner.example",
    "ops@vendor.example",
]

lines = st.builds(
    LineRequest,
    subscription_id=st.sampled_from(SUBSCRIPTIONS),
    quantity=st.none() | st.integers(-2, 80),
    term=st.none() | st.sampled_from(list(Term)),
    start_date=st.none() | st.just(date(2026, 12, 15)) | st.just(TODAY),
)
drafts = st.builds(
    QuoteDraft,
    type=st.just(QuoteType.RENEWAL),
    lines=st.lists(lines, min_size=0, max_size=4).map(tuple),
    customer_csn=st.none() | st.sampled_from(["5200000001", "5200000002", "5200000003"]),
    currency=st.none() | st.sampled_from(["EUR", "USD", "JPY"]),
    recipients=st.lists(
        st.builds(Recipient, email=st.sampled_from(["a@x.example", "b@x.example", "c@y.example"])),
        max_size=7,
    ).map(tuple),
    contact_email=st.none() | st.sampled_from(["compta@dupont.example", "ana@rio.example"]),
    language=st.none() | st.sampled_from(["fr", "en"]),
)


@settings(
    max_examples=40,
    deadline=None,
    # The database is not emptied between examples: each one compares its own before and after.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(who=st.sampled_from(PEOPLE), draft=drafts, pay=st.sampled_from(list(PaymentMethod)))
def test_a_refused_operation_changes_no_row(book, actor, who, draft, pay):
    person = actor(who)
    before = row_counts(book)
    try:
        quote = create_quote(book, person, draft, today=TODAY, now=NOW)
    except RuleViolation:
        assert row_counts(book) == before
        return
    after = row_counts(book)
    assert after["quotes"] == before["quotes"] + 1
    assert after["quote_lines"] == before["quote_lines"] + len(draft.lines)
    try:
        sent = send_quote(book, person, quote.number, today=TODAY, now=NOW)
    except RuleViolation:
        assert row_counts(book) == after
        return
    before_order = row_counts(book)
    try:
        checkout(
            book, person, sent.number, pay, card_number="4242424242424242", today=TODAY, now=NOW
        )
    except RuleViolation:
        assert row_counts(book) == before_order
