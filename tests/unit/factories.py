"""Small builders for the domain's values: a sensible default, overridden by keyword."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.model import (
    Channel,
    Customer,
    OfferingKind,
    PaymentMethod,
    Price,
    Promotion,
    PurchaseMethod,
    QuoteType,
    Subscription,
    SubscriptionStatus,
    Term,
)
from renewquote.domain.quoting import LineRequest, Offering, QuoteContext, QuoteRequest

# A day inside the renewal window of the default subscription (it ends on 2026-12-31).
TODAY = date(2026, 11, 15)
CUSTOMER_CSN = "5200000001"
OTHER_CUSTOMER_CSN = "5200000002"
PARTNER_CSN = "5100000001"
OTHER_PARTNER_CSN = "5100000002"
BUYER = "marie@dupont.example"

OFFERINGS = (
    Offering("ACDLT", "AutoCAD LT", OfferingKind.STANDARD),
    Offering("RVT", "Revit", OfferingKind.STANDARD),
    Offering("SUCCESS", "Success Plan", OfferingKind.SUCCESS_PLAN),
    Offering("FLEX", "Flex tokens", OfferingKind.FLEX),
)


def customer(**overrides: Any) -> Customer:
    """A French customer who may quote in self-service and pays by card."""
    base = Customer(
        csn=CUSTOMER_CSN,
        name="Atelier Dupont",
        country="FR",
        self_service_enabled=True,
        tax_rate=Decimal("0.20"),
        pays_by_invoice=False,
        language="fr",
    )
    return replace(base, **overrides)


def subscription(id: str = "SUB-0001", **overrides: Any) -> Subscription:
    """Five seats of AutoCAD LT, annual, in EUR, bought direct, ending 2026-12-31."""
    base = Subscription(
        id=id,
        customer_csn=CUSTOMER_CSN,
        offering_code="ACDLT",
        offering_name="AutoCAD LT",
        offering_kind=OfferingKind.STANDARD,
        quantity=5,
        term=Term.ANNUAL,
        currency="EUR",
        purchase_method=PurchaseMethod.DIRECT,
        partner_csn=None,
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        status=SubscriptionStatus.ACTIVE,
        payment_method=PaymentMethod.CARD,
    )
    return replace(base, **overrides)


def resold(id: str, partner_csn: str = PARTNER_CSN, **overrides: Any) -> Subscription:
    """A subscription bought through a reseller of record."""
    return subscription(
        id, purchase_method=PurchaseMethod.PARTNER, partner_csn=partner_csn, **overrides
    )


def price(
    offering_code: str = "ACDLT",
    term: Term = Term.ANNUAL,
    currency: str = "EUR",
    new: str = "495.00",
    renewal: str = "460.00",
) -> Price:
    """A list price, its amounts written as decimal strings."""
    return Price(offering_code, term, currency, Decimal(new), Decimal(renewal))


PRICES = (
    price("ACDLT", Term.ANNUAL, "EUR", "495.00", "460.00"),
    price("ACDLT", Term.MONTHLY, "EUR", "60.00", "55.00"),
    price("ACDLT", Term.THREE_YEAR, "EUR", "1336.50", "1242.00"),
    price("ACDLT", Term.ANNUAL, "USD", "545.00", "505.00"),
    price("ACDLT", Term.ANNUAL, "JPY", "70400", "65500"),
    price("RVT", Term.ANNUAL, "EUR", "2890.50", "2675.00"),
    price("SUCCESS", Term.ANNUAL, "EUR", "1000.00", "1000.00"),
    price("FLEX", Term.ANNUAL, "EUR", "300.00", "300.00"),
)


def promotion(code: str = "PROMO", **overrides: Any) -> Promotion:
    """A promotion with no filters and no saving until one is given."""
    return replace(
        Promotion(code=code, name=f"{code} offer", percent_off=None, amount_off=None), **overrides
    )


def percent_off(code: str, percent: str, **filters: Any) -> Promotion:
    """A promotion taking `percent` % off a line."""
    return promotion(code, percent_off=Decimal(percent), **filters)


def amount_off(code: str, per_seat: str, **filters: Any) -> Promotion:
    """A promotion taking `per_seat` off each seat of a line."""
    return promotion(code, amount_off=Decimal(per_seat), **filters)


def context(
    *subscriptions: Subscription,
    channel: Channel = Channel.SELF_SERVICE,
    today: date = TODAY,
    prices: Iterable[Price] = PRICES,
    promotions: Iterable[Promotion] = (),
    **overrides: Any,
) -> QuoteContext:
    """What the rules see: the default customer, its subscriptions, the catalogue and prices."""
    fields: dict[str, Any] = {
        "customer": customer(),
        "contact_emails": frozenset({BUYER, "paul@dupont.example"}),
        "buyer_email": BUYER if channel is Channel.SELF_SERVICE else None,
        "partner_csn": PARTNER_CSN if channel is Channel.PARTNER else None,
    }
    fields.update(overrides)
    return QuoteContext(
        channel=channel,
        today=today,
        subscriptions={s.id: s for s in subscriptions},
        offerings={o.code: o for o in OFFERINGS},
        prices={(p.offering_code, p.term, p.currency): p for p in prices},
        promotions=tuple(promotions),
        **fields,
    )


def renewal(*subscription_ids: str, **overrides: Any) -> QuoteRequest:
    """A renewal quote request for the whole of each subscription, on its own term."""
    lines = tuple(LineRequest(subscription_id=sid) for sid in subscription_ids)
    return replace(QuoteRequest(type=QuoteType.RENEWAL, lines=lines), **overrides)


def new_quote(*lines: LineRequest, **overrides: Any) -> QuoteRequest:
    """A quote request for new-subscription or co-term lines."""
    return replace(QuoteRequest(type=QuoteType.NEW, lines=tuple(lines)), **overrides)


def codes(error: RuleViolation) -> list[Code]:
    """The codes of a refusal, in the order they were found."""
    return [v.code for v in error.violations]


def ids_for(error: RuleViolation, code: Code) -> tuple[str, ...]:
    """The subscriptions the violation of `code` names (the only one of that code)."""
    (found,) = [v for v in error.violations if v.code is code]
    return found.subscription_ids


def details(error: RuleViolation, code: Code) -> list[str | None]:
    """The details of every violation of `code`."""
    return [v.detail for v in error.violations if v.code is code]
