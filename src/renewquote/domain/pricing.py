"""Pricing a quote line by line: unit price, proration, best promotion, tax, exact totals."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from renewquote.domain.model import LineKind, Promotion, Term
from renewquote.domain.money import ZERO, round_money
from renewquote.domain.promotions import AppliedPromotion, LineFacts, best_promotion


@dataclass(frozen=True, slots=True)
class PricedLine:
    """One line as priced: stored as is on the quote and never recomputed on read."""

    kind: LineKind
    subscription_id: str | None
    align_to_subscription_id: str | None
    offering_code: str
    offering_name: str
    quantity: int
    term: Term
    start_date: date
    end_date: date
    unit_price: Decimal
    subtotal: Decimal
    promotion: AppliedPromotion | None
    discount: Decimal
    amount: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class Totals:
    """A quote's totals, each the sum of its rounded lines; refuses to disagree with itself."""

    subtotal: Decimal
    discount_total: Decimal
    tax: Decimal
    total: Decimal

    def __post_init__(self) -> None:
        if self.subtotal - self.discount_total + self.tax != self.total:
            raise ValueError("total must equal subtotal - discount_total + tax")


@dataclass(frozen=True, slots=True)
class LinePricing:
    """Everything about one line that its price depends on."""

    kind: LineKind
    offering_code: str
    offering_name: str
    quantity: int
    term: Term
    start_date: date
    end_date: date
    unit_price: Decimal
    subscription_id: str | None = None
    align_to_subscription_id: str | None = None


def proration(start: date, end: date, term: Term) -> tuple[int, int]:
    """Return the days covered (both ends included) and the days of a full term from `start`."""
    return (end - start).days + 1, (term.end_for(start) - start).days + 1


def price_line(
    line: LinePricing,
    *,
    currency: str,
    country: str,
    tax_rate: Decimal,
    promotions: Iterable[Promotion],
    today: date,
) -> PricedLine:
    """Price one line: co-term lines pay the days up to the aligned end date, once."""
    full = line.unit_price * line.quantity
    if line.kind is LineKind.CO_TERM:
        days, term_days = proration(line.start_date, line.end_date, line.term)
        full = full * days / term_days
    subtotal = round_money(full, currency)
    facts = LineFacts(
        line.offering_code, line.term, currency, country, line.kind, line.quantity, today
    )
    promotion = best_promotion(promotions, facts, subtotal)
    discount = promotion.saving if promotion else round_money(ZERO, currency)
    amount = subtotal - discount
    return PricedLine(
        kind=line.kind,
        subscription_id=line.subscription_id,
        align_to_subscription_id=line.align_to_subscription_id,
        offering_code=line.offering_code,
        offering_name=line.offering_name,
        quantity=line.quantity,
        term=line.term,
        start_date=line.start_date,
        end_date=line.end_date,
        unit_price=line.unit_price,
        subtotal=subtotal,
        promotion=promotion,
        discount=discount,
        amount=amount,
        tax=round_money(amount * tax_rate, currency),
    )


def totals(lines: Iterable[PricedLine], currency: str) -> Totals:
    """Add up rounded lines; nothing is rounded again at the quote level."""
    zero = round_money(ZERO, currency)
    subtotal = discount = tax = zero
    for line in lines:
        subtotal += line.subtotal
        discount += line.discount
        tax += line.tax
    return Totals(subtotal, discount, tax, subtotal - discount + tax)
