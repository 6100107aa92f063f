"""Properties over random books, lines and requests: grouping, exact totals, clean refusals."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from renewquote.domain.eligibility import region_reasons, renewal_reasons
from renewquote.domain.errors import RuleViolation
from renewquote.domain.grouping import GroupKey, group_renewals
from renewquote.domain.model import (
    Channel,
    LineKind,
    OfferingKind,
    Promotion,
    PurchaseMethod,
    QuoteType,
    Subscription,
    SubscriptionStatus,
    Term,
)
from renewquote.domain.money import round_money
from renewquote.domain.pricing import LinePricing, PricedLine, price_line, totals
from renewquote.domain.quoting import LineRequest, PricedQuote, QuoteRequest, build_quote
from tests.unit.factories import (
    BUYER,
    CUSTOMER_CSN,
    OTHER_CUSTOMER_CSN,
    OTHER_PARTNER_CSN,
    PARTNER_CSN,
    TODAY,
    context,
    customer,
    price,
    subscription,
)

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXPONENT = {"EUR": -2, "USD": -2, "JPY": 0}

customers = st.sampled_from([CUSTOMER_CSN, OTHER_CUSTOMER_CSN, "5200000003"])
currencies = st.sampled_from(["EUR", "USD", "JPY"])
sales = st.sampled_from(
    [
        (PurchaseMethod.DIRECT, None),
        (PurchaseMethod.PARTNER, PARTNER_CSN),
        (PurchaseMethod.PARTNER, OTHER_PARTNER_CSN),
    ]
)
terms = st.sampled_from(list(Term))
statuses = st.sampled_from(list(SubscriptionStatus))
kinds = st.sampled_from(list(OfferingKind))
channels = st.sampled_from(list(Channel))


@st.composite
def books(draw: st.DrawFn) -> list[Subscription]:
    count = draw(st.integers(0, 40))
    book = []
    for n in range(count):
        method, partner = draw(sales)
        book.append(
            subscription(
                f"S{n:03d}",
                customer_csn=draw(customers),
                currency=draw(currencies),
                purchase_method=method,
                partner_csn=partner,
                end_date=TODAY + timedelta(days=draw(st.integers(-120, 200))),
                term=draw(terms),
                status=draw(statuses),
                offering_kind=draw(kinds),
                renewed_by_order=draw(st.sampled_from([None, 7])),
            )
        )
    return book


def key_of(sub: Subscription) -> GroupKey:
    return GroupKey(sub.customer_csn, sub.currency, sub.purchase_method, sub.partner_csn)


@PROPERTY
@given(
    book=books(),
    channel=channels,
    enabled=st.booleans(),
    limit=st.sampled_from([1, 2, 3, 100]),
)
def test_every_eligible_subscription_is_in_exactly_one_homogeneous_group(
    book: list[Subscription], channel: Channel, enabled: bool, limit: int
) -> None:
    region = region_reasons(customer(self_service_enabled=enabled), channel)
    result = group_renewals(
        book, channel=channel, today=TODAY, region_reasons=region, max_per_group=limit
    )
    by_id = {s.id: s for s in book}
    grouped = Counter(sid for g in result.groups for sid in g.subscription_ids)
    left_out = Counter(i.subscription_id for i in result.ineligible)

    assert all(n == 1 for n in grouped.values())
    assert all(n == 1 for n in left_out.values())
    assert set(grouped) | set(left_out) == set(by_id)
    assert not set(grouped) & set(left_out)

    for sub in book:
        own = renewal_reasons(
            end_date=sub.end_date,
            term=sub.term,
            status=sub.status,
            offering_kind=sub.offering_kind,
            renewed=sub.renewed_by_order is not None,
            channel=channel,
            today=TODAY,
        )
        assert (sub.id in grouped) == (not region and not own)

    for group in result.groups:
        assert 1 <= len(group.subscription_ids) <= limit
        assert {key_of(by_id[sid]) for sid in group.subscription_ids} == {group.key}

    # Only the last group of a key is short: the others are full.
    sizes: dict[GroupKey, list[int]] = {}
    for group in result.groups:
        sizes.setdefault(group.key, []).append(len(group.subscription_ids))
    for chunk_sizes in sizes.values():
        assert all(size == limit for size in chunk_sizes[:-1])

    for entry in result.ineligible:
        assert entry.reasons


# Pricing: random lines, promotions and tax rates in a two-decimal and a zero-decimal currency.


@st.composite
def amounts(draw: st.DrawFn, *, most: int, places: int) -> Decimal:
    return Decimal(draw(st.integers(0, most))).scaleb(-places)


@st.composite
def promotions(draw: st.DrawFn, n: int) -> Promotion:
    filters = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "terms": st.frozensets(terms, min_size=1),
                "currencies": st.frozensets(st.sampled_from(["EUR", "JPY"]), min_size=1),
                "quote_types": st.frozensets(st.sampled_from(list(LineKind)), min_size=1),
            },
        )
    )
    if draw(st.booleans()):
        return Promotion(f"P{n}", "percent", draw(amounts(most=10_000, places=2)), None, **filters)
    return Promotion(f"P{n}", "amount", None, draw(amounts(most=100_000, places=2)), **filters)


@st.composite
def line_pricings(draw: st.DrawFn) -> LinePricing:
    kind = draw(st.sampled_from(list(LineKind)))
    term = draw(terms)
    start = TODAY
    full_end = term.end_for(start)
    end = (
        start + timedelta(days=draw(st.integers(0, (full_end - start).days)))
        if kind is LineKind.CO_TERM
        else full_end
    )
    return LinePricing(
        kind=kind,
        offering_code="ACDLT",
        offering_name="AutoCAD LT",
        quantity=draw(st.integers(1, 500)),
        term=term,
        start_date=start,
        end_date=end,
        unit_price=draw(amounts(most=10_000_000, places=draw(st.integers(0, 3)))),
    )


def assert_in_minor_units(value: Decimal, currency: str) -> None:
    assert value.as_tuple().exponent == EXPONENT[currency], (value, currency)
    assert value == round_money(value, currency)


@PROPERTY
@given(
    data=st.data(),
    currency=st.sampled_from(["EUR", "JPY"]),
    tax_rate=amounts(most=3000, places=4),
)
def test_totals_add_up_and_every_amount_is_in_minor_units(
    data: st.DataObject, currency: str, tax_rate: Decimal
) -> None:
    pricings = data.draw(st.lists(line_pricings(), min_size=0, max_size=6))
    offers = [data.draw(promotions(n)) for n in range(data.draw(st.integers(0, 3)))]
    lines: list[PricedLine] = [
        price_line(
            p, currency=currency, country="FR", tax_rate=tax_rate, promotions=offers, today=TODAY
        )
        for p in pricings
    ]
    result = totals(lines, currency)

    assert result.subtotal - result.discount_total + result.tax == result.total
    assert result.subtotal == sum((p.subtotal for p in lines), Decimal(0))
    assert result.discount_total == sum((p.discount for p in lines), Decimal(0))
    assert result.tax == sum((p.tax for p in lines), Decimal(0))
    for value in (result.subtotal, result.discount_total, result.tax, result.total):
        assert_in_minor_units(value, currency)
    for p in lines:
        for value in (p.subtotal, p.discount, p.amount, p.tax):
            assert_in_minor_units(value, currency)
        assert Decimal(0) <= p.discount <= p.subtotal
        assert p.amount == p.subtotal - p.discount
        assert p.tax == round_money(p.amount * tax_rate, currency)
        assert (p.promotion is None) == (p.discount == 0)


# Building quotes from random requests: a quote, or a RuleViolation, never anything else.

BOOK = (
    subscription("S1"),
    subscription("S2", quantity=1, end_date=date(2026, 12, 1)),
    subscription("S3", currency="USD"),
    subscription("S4", currency="JPY", term=Term.MONTHLY, end_date=date(2026, 11, 30)),
    subscription("S5", status=SubscriptionStatus.CANCELLED),
    subscription("S6", status=SubscriptionStatus.EXPIRED, end_date=date(2026, 10, 15)),
    subscription("S7", end_date=date(2027, 6, 30)),
    subscription("S8", offering_code="FLEX", offering_kind=OfferingKind.FLEX),
    subscription("S9", customer_csn=OTHER_CUSTOMER_CSN),
    subscription("S10", purchase_method=PurchaseMethod.PARTNER, partner_csn=PARTNER_CSN),
    subscription(
        "S11", purchase_method=PurchaseMethod.PARTNER, partner_csn=OTHER_PARTNER_CSN, quantity=40
    ),
    subscription("S12", offering_code="RVT", term=Term.THREE_YEAR, end_date=date(2027, 1, 20)),
    subscription("S13", renewed_by_order=9, end_date=date(2027, 12, 31)),
)
PRICES = (
    *(price("ACDLT", t, "EUR") for t in Term),
    price("ACDLT", Term.ANNUAL, "USD", "545.00", "505.00"),
    price("ACDLT", Term.MONTHLY, "JPY", "7000", "7000"),
    price("RVT", Term.THREE_YEAR, "EUR", "7800.00", "7300.00"),
    price("RVT", Term.ANNUAL, "EUR", "2890.50", "2675.00"),
    price("FLEX", Term.ANNUAL, "EUR", "300.00", "300.00"),
    price("SUCCESS", Term.ANNUAL, "JPY", "110000", "110000"),
)
subscription_ids = st.sampled_from([s.id for s in BOOK] + ["NOPE"])
maybe_terms = st.none() | terms
days = st.none() | st.integers(-40, 400).map(lambda n: TODAY + timedelta(days=n))
emails = st.sampled_from([BUYER, "paul@dupont.example", "PAUL@dupont.example", "x@else.example"])

renewal_lines = st.builds(
    LineRequest,
    subscription_id=subscription_ids,
    quantity=st.none() | st.integers(-2, 60),
    term=maybe_terms,
    start_date=days,
)
new_lines = st.builds(
    LineRequest,
    offering_code=st.none() | st.sampled_from(["ACDLT", "RVT", "FLEX", "SUCCESS", "NOPE"]),
    quantity=st.none() | st.integers(-2, 60) | st.integers(),
    term=maybe_terms,
    start_date=st.none() | st.just(TODAY) | days,
    align_to_subscription_id=st.none() | subscription_ids,
)
wild_requests = st.builds(
    QuoteRequest,
    type=st.sampled_from(list(QuoteType)),
    lines=st.lists(renewal_lines | new_lines, max_size=6).map(tuple),
    currency=st.none() | st.sampled_from(["EUR", "USD", "JPY", "XXX"]),
    recipients=st.lists(
        emails | st.integers(0, 9).map(lambda n: f"r{n}@x.example"), max_size=8
    ).map(tuple),
    contact_email=st.none() | emails,
)
# Requests a buyer or a partner would plausibly make, so that many of them give a quote.
plausible_renewals = st.builds(
    QuoteRequest,
    type=st.just(QuoteType.RENEWAL),
    lines=st.lists(
        st.builds(
            LineRequest,
            subscription_id=st.sampled_from(["S1", "S2", "S6", "S10", "S12"]),
            quantity=st.none() | st.integers(1, 5),
            term=st.none() | st.just(Term.ANNUAL),
        ),
        min_size=1,
        max_size=4,
        unique_by=lambda line: line.subscription_id,
    ).map(tuple),
    contact_email=st.just(BUYER),
)
plausible_new_quotes = st.builds(
    QuoteRequest,
    type=st.sampled_from([QuoteType.NEW, QuoteType.CO_TERM]),
    lines=st.lists(
        st.builds(
            LineRequest,
            offering_code=st.sampled_from(["ACDLT", "RVT"]),
            quantity=st.integers(1, 5),
            term=st.just(Term.ANNUAL),
        )
        | st.builds(
            LineRequest,
            offering_code=st.sampled_from(["ACDLT", "RVT"]),
            quantity=st.integers(1, 5),
            align_to_subscription_id=st.sampled_from(["S1", "S12"]),
        ),
        min_size=1,
        max_size=3,
    ).map(tuple),
    currency=st.just("EUR"),
    contact_email=st.just(BUYER),
)
requests = wild_requests | plausible_renewals | plausible_new_quotes


@dataclass(frozen=True)
class Situation:
    channel: Channel
    enabled: bool
    today: date


situations = st.builds(
    Situation,
    channel=channels,
    enabled=st.booleans(),
    today=st.integers(-60, 60).map(lambda n: TODAY + timedelta(days=n)),
)


@PROPERTY
@given(request=requests, situation=situations, offers=st.lists(st.integers(0, 5), max_size=3))
def test_a_request_gives_a_quote_or_a_rule_violation_and_nothing_else(
    request: QuoteRequest, situation: Situation, offers: list[int]
) -> None:
    ctx = context(
        *BOOK,
        channel=situation.channel,
        today=situation.today,
        prices=PRICES,
        promotions=[
            Promotion(f"P{n}", "p", Decimal(5 * n), None)
            if n % 2
            else Promotion(f"P{n}", "a", None, Decimal(10 * n))
            for n in offers
        ],
        customer=customer(self_service_enabled=situation.enabled),
    )
    try:
        quote = build_quote(request, ctx)
    except RuleViolation as refused:
        assert refused.violations
        event("refused")
        return
    event("quoted")
    assert isinstance(quote, PricedQuote)
    assert len(quote.lines) == len(request.lines) > 0
    assert quote.customer_csn == CUSTOMER_CSN
    t = quote.totals
    assert t.subtotal - t.discount_total + t.tax == t.total
    for value in (t.subtotal, t.discount_total, t.tax, t.total):
        assert_in_minor_units(value, quote.currency)
    assert situation.today <= quote.expires_at <= situation.today + timedelta(days=30)
