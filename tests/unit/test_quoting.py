"""Building a quote: one test per rule of RULES.md, and every broken rule reported at once."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from renewquote.domain.errors import Code, Kind, RuleViolation
from renewquote.domain.model import (
    Channel,
    OfferingKind,
    PaymentMethod,
    PurchaseMethod,
    QuoteType,
    SubscriptionStatus,
    Term,
)
from renewquote.domain.quoting import (
    LineRequest,
    QuoteRequest,
    build_quote,
    payment_problems,
    recipient_problems,
)
from tests.unit.factories import (
    BUYER,
    OTHER_CUSTOMER_CSN,
    OTHER_PARTNER_CSN,
    PARTNER_CSN,
    TODAY,
    codes,
    context,
    customer,
    details,
    ids_for,
    new_quote,
    renewal,
    resold,
    subscription,
)


def refusal(request: QuoteRequest, *subs: object, **ctx: object) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        build_quote(request, context(*subs, **ctx))  # type: ignore[arg-type]
    return caught.value


def renew_line(sid: str, **fields: object) -> LineRequest:
    return LineRequest(subscription_id=sid, **fields)  # type: ignore[arg-type]


# A quote that breaks no rule.


def test_a_renewal_of_eligible_subscriptions_is_quoted() -> None:
    quote = build_quote(renewal("S1", "S2"), context(subscription("S1"), subscription("S2")))
    assert quote.type is QuoteType.RENEWAL
    assert [line.subscription_id for line in quote.lines] == ["S1", "S2"]
    assert quote.customer_csn == "5200000001"
    assert quote.purchase_method is PurchaseMethod.DIRECT
    assert quote.partner_csn is None


def test_a_partner_quotes_the_subscriptions_it_resells() -> None:
    ctx = context(resold("P1"), resold("P2"), channel=Channel.PARTNER)
    quote = build_quote(renewal("P1", "P2", contact_email=BUYER), ctx)
    assert quote.partner_csn == PARTNER_CSN
    assert quote.purchase_method is PurchaseMethod.PARTNER


def test_a_self_service_buyer_may_renew_subscriptions_of_one_reseller_of_record() -> None:
    quote = build_quote(renewal("P1", "P2"), context(resold("P1"), resold("P2")))
    assert quote.partner_csn == PARTNER_CSN


def test_an_expired_subscription_in_its_grace_period_can_be_renewed() -> None:
    sub = subscription("S1", status=SubscriptionStatus.EXPIRED, end_date=date(2026, 10, 31))
    quote = build_quote(renewal("S1"), context(sub))
    assert quote.lines[0].start_date == date(2026, 11, 1)


# One test per rule.


def test_self_service_is_refused_where_the_region_is_not_enabled() -> None:
    closed = customer(country="BR", self_service_enabled=False)
    error = refusal(renewal("S1", "S2"), subscription("S1"), subscription("S2"), customer=closed)
    assert codes(error) == [Code.REGION_NOT_ENABLED]
    assert error.violations[0].params == {"country": "BR"}


def test_a_partner_may_quote_where_self_service_is_not_enabled() -> None:
    closed = customer(self_service_enabled=False)
    ctx = context(resold("P1"), channel=Channel.PARTNER, customer=closed)
    assert build_quote(renewal("P1", contact_email=BUYER), ctx).lines


def test_a_subscription_whose_window_is_not_open_cannot_be_renewed() -> None:
    early = subscription("S1", end_date=TODAY + timedelta(days=91))
    error = refusal(renewal("S1"), early)
    assert codes(error) == [Code.NOT_RENEWABLE]
    assert details(error, Code.NOT_RENEWABLE) == ["window_not_open"]
    assert ids_for(error, Code.NOT_RENEWABLE) == ("S1",)


def test_a_subscription_whose_window_opened_today_can_be_renewed() -> None:
    sub = subscription("S1", end_date=TODAY + timedelta(days=90))
    assert build_quote(renewal("S1"), context(sub)).lines


def test_a_subscription_whose_window_closed_cannot_be_renewed() -> None:
    late = subscription(
        "S1", status=SubscriptionStatus.EXPIRED, end_date=TODAY - timedelta(days=46)
    )
    error = refusal(renewal("S1"), late)
    assert details(error, Code.NOT_RENEWABLE) == ["window_closed"]


def test_a_subscription_on_the_last_day_of_its_grace_can_be_renewed() -> None:
    sub = subscription("S1", status=SubscriptionStatus.EXPIRED, end_date=TODAY - timedelta(days=45))
    quote = build_quote(renewal("S1"), context(sub))
    assert quote.expires_at == TODAY


def test_a_cancelled_subscription_cannot_be_renewed() -> None:
    error = refusal(renewal("S1"), subscription("S1", status=SubscriptionStatus.CANCELLED))
    assert details(error, Code.NOT_RENEWABLE) == ["cancelled"]
    assert ids_for(error, Code.NOT_RENEWABLE) == ("S1",)


def test_a_subscription_already_renewed_cannot_be_renewed_again() -> None:
    done = subscription(
        "S1", start_date=date(2027, 1, 1), end_date=date(2027, 12, 31), renewed_by_order=42
    )
    error = refusal(renewal("S1"), done)
    assert details(error, Code.NOT_RENEWABLE) == ["already_renewed"]


def test_renewals_cannot_be_mixed_with_new_lines() -> None:
    request = QuoteRequest(
        type=QuoteType.RENEWAL,
        lines=(renew_line("S1"), LineRequest(offering_code="RVT", quantity=1, term=Term.ANNUAL)),
        currency="EUR",
    )
    error = refusal(request, subscription("S1"))
    assert codes(error) == [Code.MIXED_QUOTE_TYPES]


def test_a_new_quote_cannot_hold_a_renewal() -> None:
    request = new_quote(
        LineRequest(offering_code="RVT", quantity=1, term=Term.ANNUAL),
        renew_line("S1"),
        currency="EUR",
    )
    error = refusal(request, subscription("S1"))
    assert codes(error) == [Code.MIXED_QUOTE_TYPES]


def test_a_new_quote_may_hold_new_and_co_term_lines() -> None:
    request = new_quote(
        LineRequest(offering_code="RVT", quantity=1, term=Term.ANNUAL),
        LineRequest(offering_code="ACDLT", quantity=1, align_to_subscription_id="S1"),
        currency="EUR",
    )
    quote = build_quote(request, context(subscription("S1")))
    assert len(quote.lines) == 2


def test_every_line_belongs_to_the_same_customer() -> None:
    # A partner sees both customers' subscriptions, but one quote is for one customer.
    ctx = (resold("P1"), resold("P2", customer_csn=OTHER_CUSTOMER_CSN))
    error = refusal(renewal("P1", "P2", contact_email=BUYER), *ctx, channel=Channel.PARTNER)
    assert codes(error) == [Code.MIXED_CUSTOMER]
    assert ids_for(error, Code.MIXED_CUSTOMER) == ("P1", "P2")


def test_every_line_has_the_same_currency() -> None:
    error = refusal(renewal("S1", "S2"), subscription("S1"), subscription("S2", currency="USD"))
    assert codes(error) == [Code.MIXED_CURRENCY]
    assert ids_for(error, Code.MIXED_CURRENCY) == ("S1", "S2")


def test_a_renewal_cannot_change_its_currency() -> None:
    error = refusal(renewal("S1", currency="USD"), subscription("S1"))
    assert codes(error) == [Code.CURRENCY_CHANGE]
    assert ids_for(error, Code.CURRENCY_CHANGE) == ("S1",)
    assert error.violations[0].params == {"currency": "EUR"}


def test_a_co_term_line_cannot_change_the_currency_of_its_subscription() -> None:
    request = new_quote(
        LineRequest(offering_code="RVT", quantity=1, align_to_subscription_id="S1"),
        currency="USD",
    )
    error = refusal(request, subscription("S1"))
    assert codes(error) == [Code.CURRENCY_CHANGE]


def test_a_renewal_may_name_its_own_currency() -> None:
    assert build_quote(renewal("S1", currency="EUR"), context(subscription("S1"))).lines


def test_every_line_has_the_same_reseller_of_record() -> None:
    error = refusal(renewal("P1", "P2"), resold("P1"), resold("P2", OTHER_PARTNER_CSN))
    assert codes(error) == [Code.MIXED_PARTNER]
    assert ids_for(error, Code.MIXED_PARTNER) == ("P1", "P2")


def test_direct_and_reseller_lines_never_mix() -> None:
    error = refusal(renewal("S1", "P1"), subscription("S1"), resold("P1"))
    assert Code.MIXED_PARTNER in codes(error)
    assert ids_for(error, Code.MIXED_PARTNER) == ("S1", "P1")


def test_a_partner_cannot_quote_another_partner_s_subscriptions() -> None:
    ctx = (resold("P1", OTHER_PARTNER_CSN),)
    error = refusal(renewal("P1", contact_email=BUYER), *ctx, channel=Channel.PARTNER)
    assert codes(error) == [Code.MIXED_PARTNER]


def test_a_quote_holds_one_purchase_method() -> None:
    error = refusal(renewal("S1", "P1"), subscription("S1"), resold("P1"))
    assert codes(error) == [Code.MIXED_PARTNER, Code.MIXED_PURCHASE_METHOD]
    assert ids_for(error, Code.MIXED_PURCHASE_METHOD) == ("S1", "P1")


def test_renewal_cannot_add_seats() -> None:
    error = refusal(renewal("S1", lines=(renew_line("S1", quantity=6),)), subscription("S1"))
    assert codes(error) == [Code.SEAT_INCREASE]
    assert ids_for(error, Code.SEAT_INCREASE) == ("S1",)
    assert error.violations[0].params == {"current": 5, "asked": 6}


def test_renewal_keeps_at_least_one_seat() -> None:
    error = refusal(renewal("S1", lines=(renew_line("S1", quantity=0),)), subscription("S1"))
    assert codes(error) == [Code.SEAT_INCREASE]


def test_renewal_may_keep_every_seat_or_drop_to_one() -> None:
    for quantity in (1, 5):
        request = renewal("S1", lines=(renew_line("S1", quantity=quantity),))
        assert build_quote(request, context(subscription("S1"))).lines[0].quantity == quantity


@pytest.mark.parametrize("kind", [OfferingKind.SUCCESS_PLAN, OfferingKind.FLEX])
def test_a_success_plan_or_flex_renewal_is_not_quoted_in_self_service(kind: OfferingKind) -> None:
    sub = subscription("S1", offering_code="SUCCESS", offering_kind=kind)
    error = refusal(renewal("S1"), sub)
    assert codes(error) == [Code.INELIGIBLE_OFFERING]
    assert ids_for(error, Code.INELIGIBLE_OFFERING) == ("S1",)


@pytest.mark.parametrize("kind", [OfferingKind.SUCCESS_PLAN, OfferingKind.FLEX])
def test_a_partner_may_quote_a_success_plan_or_flex_renewal(kind: OfferingKind) -> None:
    sub = resold("P1", offering_code="SUCCESS", offering_kind=kind)
    ctx = context(sub, channel=Channel.PARTNER)
    assert build_quote(renewal("P1", contact_email=BUYER), ctx).lines


@pytest.mark.parametrize("code", ["SUCCESS", "FLEX"])
def test_a_new_success_plan_or_flex_line_is_not_quoted_in_self_service(code: str) -> None:
    request = new_quote(
        LineRequest(offering_code=code, quantity=1, term=Term.ANNUAL), currency="EUR"
    )
    error = refusal(request)
    assert codes(error) == [Code.INELIGIBLE_OFFERING]


def test_a_partner_may_quote_a_new_flex_line() -> None:
    request = new_quote(
        LineRequest(offering_code="FLEX", quantity=1, term=Term.ANNUAL),
        currency="EUR",
        contact_email=BUYER,
    )
    quote = build_quote(request, context(channel=Channel.PARTNER))
    assert quote.partner_csn == PARTNER_CSN
    assert quote.purchase_method is PurchaseMethod.PARTNER


def test_a_renewal_cannot_be_scheduled_to_start_later() -> None:
    request = renewal("S1", lines=(renew_line("S1", start_date=date(2027, 2, 1)),))
    error = refusal(request, subscription("S1"))
    assert codes(error) == [Code.START_DATE_NOT_ALLOWED]
    assert error.violations[0].params == {"expected": date(2027, 1, 1)}


def test_a_renewal_may_name_the_day_after_its_end_as_its_start() -> None:
    request = renewal("S1", lines=(renew_line("S1", start_date=date(2027, 1, 1)),))
    assert build_quote(request, context(subscription("S1"))).lines


def test_a_new_line_starts_on_the_order_day_only() -> None:
    request = new_quote(
        LineRequest(
            offering_code="RVT", quantity=1, term=Term.ANNUAL, start_date=TODAY + timedelta(days=1)
        ),
        currency="EUR",
    )
    error = refusal(request)
    assert codes(error) == [Code.START_DATE_NOT_ALLOWED]
    assert error.violations[0].params == {"expected": TODAY}


def test_a_self_service_quote_has_at_most_four_recipients_besides_the_buyer() -> None:
    four = ("a@x.example", "b@x.example", "c@x.example", "d@x.example")
    assert build_quote(renewal("S1", recipients=(BUYER, *four)), context(subscription("S1")))
    error = refusal(renewal("S1", recipients=(*four, "e@x.example")), subscription("S1"))
    assert codes(error) == [Code.TOO_MANY_RECIPIENTS]
    assert error.violations[0].params == {"limit": 4, "given": 5}


def test_a_recipient_named_twice_counts_once() -> None:
    recipients = ("a@x.example", "A@X.example", "b@x.example", "c@x.example", "d@x.example")
    assert build_quote(renewal("S1", recipients=recipients), context(subscription("S1")))


def test_a_partner_quote_goes_to_one_contact_and_at_most_five_more() -> None:
    five = tuple(f"{n}@x.example" for n in "abcde")
    ctx = context(resold("P1"), channel=Channel.PARTNER)
    ok = renewal("P1", contact_email=BUYER, recipients=(BUYER, *five))
    assert build_quote(ok, ctx)
    too_many = renewal("P1", contact_email=BUYER, recipients=(*five, "f@x.example"))
    with pytest.raises(RuleViolation) as caught:
        build_quote(too_many, ctx)
    assert codes(caught.value) == [Code.TOO_MANY_RECIPIENTS]
    assert caught.value.violations[0].params == {"limit": 5, "given": 6}


def test_a_partner_names_a_contact_of_the_customer_s_company() -> None:
    ctx = (resold("P1"),)
    error = refusal(
        renewal("P1", contact_email="stranger@else.example"), *ctx, channel=Channel.PARTNER
    )
    assert codes(error) == [Code.UNKNOWN_CONTACT]
    assert error.violations[0].params == {"email": "stranger@else.example"}


def test_a_contact_is_known_whatever_the_case_of_the_address() -> None:
    assert (
        recipient_problems(
            Channel.PARTNER, (), "Marie@Dupont.example", frozenset({"marie@dupont.example"})
        )
        == []
    )


def test_a_quote_holds_at_most_100_subscriptions() -> None:
    subs = [subscription(f"S{n:03d}") for n in range(101)]
    error = refusal(renewal(*(s.id for s in subs)), *subs)
    assert codes(error) == [Code.TOO_MANY_LINES]
    assert error.violations[0].params == {"limit": 100}


def test_a_quote_of_exactly_100_subscriptions_is_allowed() -> None:
    subs = [subscription(f"S{n:03d}") for n in range(100)]
    quote = build_quote(renewal(*(s.id for s in subs)), context(*subs))
    assert len(quote.lines) == 100
    assert quote.totals.subtotal == Decimal("230000.00")  # 100 x 5 x 460.00


def test_a_quote_needs_at_least_one_line() -> None:
    error = refusal(renewal())
    assert codes(error) == [Code.EMPTY_QUOTE]


def test_a_subscription_appears_once_on_a_quote() -> None:
    error = refusal(renewal("S1", "S2", "S1"), subscription("S1"), subscription("S2"))
    assert codes(error) == [Code.DUPLICATE_LINE]
    assert ids_for(error, Code.DUPLICATE_LINE) == ("S1",)


def test_a_co_term_line_aligns_to_a_subscription_of_the_same_term() -> None:
    request = new_quote(
        LineRequest(
            offering_code="RVT", quantity=1, term=Term.MONTHLY, align_to_subscription_id="S1"
        ),
        currency="EUR",
    )
    error = refusal(request, subscription("S1"))
    assert Code.COTERM_MISMATCH in codes(error)
    assert ids_for(error, Code.COTERM_MISMATCH) == ("S1",)


@pytest.mark.parametrize(
    "anchor",
    [
        subscription("S1", status=SubscriptionStatus.CANCELLED),
        subscription("S1", status=SubscriptionStatus.EXPIRED, end_date=TODAY - timedelta(days=1)),
    ],
    ids=["cancelled", "ended"],
)
def test_a_co_term_line_aligns_only_to_an_active_subscription(anchor: object) -> None:
    request = new_quote(LineRequest(offering_code="RVT", quantity=1, align_to_subscription_id="S1"))
    error = refusal(request, anchor)
    assert codes(error) == [Code.COTERM_MISMATCH]


def test_a_renewal_to_a_term_without_a_price_is_refused() -> None:
    request = renewal("S1", lines=(renew_line("S1", term=Term.THREE_YEAR),))
    error = refusal(request, subscription("S1"), prices=())
    assert codes(error) == [Code.PRICE_NOT_FOUND]
    assert ids_for(error, Code.PRICE_NOT_FOUND) == ("S1",)
    assert error.violations[0].params == {"offering": "ACDLT", "term": "3-year", "currency": "EUR"}


def test_a_new_line_in_a_currency_without_a_price_is_refused() -> None:
    request = new_quote(
        LineRequest(offering_code="RVT", quantity=1, term=Term.ANNUAL), currency="JPY"
    )
    assert codes(refusal(request)) == [Code.PRICE_NOT_FOUND]


def test_a_subscription_the_quoter_cannot_see_is_not_found() -> None:
    error = refusal(renewal("NOPE"))
    assert codes(error) == [Code.NOT_FOUND]
    assert error.kind is Kind.NOT_FOUND


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (LineRequest(offering_code="NOPE", quantity=1, term=Term.ANNUAL), "offering"),
        (LineRequest(offering_code="RVT", quantity=1), "term"),
        (LineRequest(offering_code="RVT", quantity=0, term=Term.ANNUAL), "quantity"),
    ],
)
def test_a_new_line_names_a_known_offering_a_term_and_seats(line: LineRequest, field: str) -> None:
    error = refusal(new_quote(line, currency="EUR"))
    assert codes(error) == [Code.INVALID_INPUT]
    assert error.violations[0].params["field"] == field


def test_a_new_quote_names_its_currency() -> None:
    error = refusal(new_quote(LineRequest(offering_code="RVT", quantity=1, term=Term.ANNUAL)))
    assert codes(error) == [Code.INVALID_INPUT]
    assert error.violations[0].params["field"] == "currency"


# Payment.


def test_paying_by_invoice_needs_an_existing_line_of_credit() -> None:
    problems = payment_problems(
        method=PaymentMethod.INVOICE,
        total=Decimal("100.00"),
        currency="EUR",
        card_limit=Decimal("23000.00"),
        channel=Channel.SELF_SERVICE,
        customer=customer(pays_by_invoice=False),
    )
    assert [p.code for p in problems] == [Code.NEW_CREDIT_LINE]


def test_a_customer_who_already_pays_by_invoice_may_do_so_again() -> None:
    assert (
        payment_problems(
            method=PaymentMethod.INVOICE,
            total=Decimal("100000.00"),
            currency="EUR",
            card_limit=Decimal("23000.00"),
            channel=Channel.SELF_SERVICE,
            customer=customer(pays_by_invoice=True),
        )
        == []
    )


def test_a_partner_may_open_a_line_of_credit() -> None:
    assert (
        payment_problems(
            method=PaymentMethod.INVOICE,
            total=Decimal("100.00"),
            currency="EUR",
            card_limit=None,
            channel=Channel.PARTNER,
            customer=customer(pays_by_invoice=False),
        )
        == []
    )


@pytest.mark.parametrize("method", [PaymentMethod.CARD, PaymentMethod.PAYPAL])
def test_card_and_paypal_stop_above_the_currency_s_limit(method: PaymentMethod) -> None:
    def problems(total: str) -> list[Code]:
        found = payment_problems(
            method=method,
            total=Decimal(total),
            currency="USD",
            card_limit=Decimal("25000.00"),
            channel=Channel.SELF_SERVICE,
            customer=customer(),
        )
        return [p.code for p in found]

    assert problems("25000.00") == []
    assert problems("25000.01") == [Code.CARD_LIMIT_EXCEEDED]


def test_the_card_limit_message_names_the_limit_and_currency() -> None:
    (problem,) = payment_problems(
        method=PaymentMethod.CARD,
        total=Decimal("30000.00"),
        currency="USD",
        card_limit=Decimal("25000.00"),
        channel=Channel.SELF_SERVICE,
        customer=customer(),
    )
    assert problem.message("en") == "Quotes above 25000.00 USD cannot be paid by card or PayPal."


def test_a_currency_without_a_card_limit_has_none() -> None:
    found = payment_problems(
        method=PaymentMethod.CARD,
        total=Decimal("1000000.00"),
        currency="EUR",
        card_limit=None,
        channel=Channel.SELF_SERVICE,
        customer=customer(),
    )
    assert found == []


def test_a_co_term_is_paid_like_the_subscription_it_aligns_to() -> None:
    def problems(method: PaymentMethod) -> list[Code]:
        found = payment_problems(
            method=method,
            total=Decimal("100.00"),
            currency="EUR",
            card_limit=None,
            channel=Channel.SELF_SERVICE,
            customer=customer(pays_by_invoice=True),
            coterm_payment_methods=frozenset({PaymentMethod.INVOICE}),
        )
        return [p.code for p in found]

    assert problems(PaymentMethod.INVOICE) == []
    assert problems(PaymentMethod.CARD) == [Code.COTERM_MISMATCH]


# Every broken rule at once.


def test_one_request_breaking_three_rules_gets_three_codes_with_their_subscriptions() -> None:
    subs = (
        subscription("S1"),
        subscription("S2", status=SubscriptionStatus.CANCELLED),
        subscription("S3", quantity=2),
    )
    request = renewal(
        lines=(renew_line("S1"), renew_line("S2"), renew_line("S3", quantity=3)),
        recipients=tuple(f"{n}@x.example" for n in "abcde"),
    )
    error = refusal(request, *subs)
    assert sorted(codes(error)) == sorted(
        [Code.TOO_MANY_RECIPIENTS, Code.NOT_RENEWABLE, Code.SEAT_INCREASE]
    )
    assert ids_for(error, Code.NOT_RENEWABLE) == ("S2",)
    assert ids_for(error, Code.SEAT_INCREASE) == ("S3",)
    assert ids_for(error, Code.TOO_MANY_RECIPIENTS) == ()


def test_a_line_with_its_own_problems_still_counts_for_the_quote_wide_rules() -> None:
    # S2 asks for more seats *and* is in another currency: both are said, not just the first.
    subs = (
        subscription("S1"),
        subscription("S2", currency="USD"),
        subscription("S3", end_date=TODAY + timedelta(days=200)),
    )
    request = renewal(lines=(renew_line("S1"), renew_line("S2", quantity=9), renew_line("S3")))
    error = refusal(request, *subs)
    assert sorted(codes(error)) == sorted(
        [Code.SEAT_INCREASE, Code.NOT_RENEWABLE, Code.MIXED_CURRENCY]
    )
    assert ids_for(error, Code.SEAT_INCREASE) == ("S2",)
    assert ids_for(error, Code.NOT_RENEWABLE) == ("S3",)
    assert ids_for(error, Code.MIXED_CURRENCY) == ("S1", "S2", "S3")


def test_a_rule_broken_by_several_lines_is_reported_once_naming_them_all() -> None:
    subs = [subscription(f"S{n}", status=SubscriptionStatus.CANCELLED) for n in (1, 2, 3)]
    error = refusal(renewal("S1", "S2", "S3"), *subs)
    assert codes(error) == [Code.NOT_RENEWABLE]
    assert ids_for(error, Code.NOT_RENEWABLE) == ("S1", "S2", "S3")


def test_the_refusal_s_message_lists_every_violation() -> None:
    subs = (subscription("S1", status=SubscriptionStatus.CANCELLED), subscription("S2", quantity=1))
    request = renewal(lines=(renew_line("S1"), renew_line("S2", quantity=2)))
    error = refusal(request, *subs)
    assert str(error) == (
        "This subscription was cancelled and cannot be renewed.; "
        "Seats cannot be added on a renewal: choose between 1 and 1 seats."
    )


# Validity.


def test_a_quote_is_valid_30_days() -> None:
    quote = build_quote(renewal("S1"), context(subscription("S1")))
    assert quote.expires_at == date(2026, 12, 15)


def test_a_quote_is_never_valid_past_its_subscriptions_renewal_window() -> None:
    # S2 ended on 2026-10-20: its window closes on 2026-12-04, before 2026-12-15.
    subs = (
        subscription("S1"),
        subscription("S2", status=SubscriptionStatus.EXPIRED, end_date=date(2026, 10, 20)),
    )
    quote = build_quote(renewal("S1", "S2"), context(*subs))
    assert quote.expires_at == date(2026, 12, 4)


def test_a_new_quote_is_valid_30_days_whatever_its_anchor() -> None:
    request = new_quote(LineRequest(offering_code="RVT", quantity=1, align_to_subscription_id="S1"))
    anchor = subscription("S1", end_date=TODAY + timedelta(days=3))
    assert build_quote(request, context(anchor)).expires_at == date(2026, 12, 15)


def test_a_new_line_of_absurdly_many_seats_is_refused_not_crashed_on() -> None:
    request = new_quote(
        LineRequest(offering_code="RVT", quantity=10**30, term=Term.ANNUAL), currency="EUR"
    )
    error = refusal(request)
    assert codes(error) == [Code.INVALID_INPUT]
    assert error.violations[0].params == {"field": "quantity", "problem": "at most 1000000 seats"}


def test_a_new_line_of_a_million_seats_is_priced_exactly() -> None:
    # 1,000,000 x 2890.50 = 2,890,500,000.00; tax 20 % = 578,100,000.00.
    request = new_quote(
        LineRequest(offering_code="RVT", quantity=1_000_000, term=Term.ANNUAL), currency="EUR"
    )
    quote = build_quote(request, context())
    assert quote.totals.total == Decimal("3468600000.00")
