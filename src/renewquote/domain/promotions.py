"""Automatic promotions: which apply to a line, and the single best one for the customer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from renewquote.domain.model import LineKind, Promotion, Term
from renewquote.domain.money import ZERO, round_money

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class LineFacts:
    """What a promotion's filters look at on one line."""

    offering_code: str
    term: Term
    currency: str
    country: str
    kind: LineKind
    quantity: int
    today: date


@dataclass(frozen=True, slots=True)
class AppliedPromotion:
    """The promotion a line got, the saving it gives, and why it applies."""

    code: str
    name: str
    saving: Decimal
    why: str


def applies(promotion: Promotion, line: LineFacts) -> bool:
    """Tell whether every filter of `promotion` matches `line` on its day."""
    return (
        (promotion.starts is None or promotion.starts <= line.today)
        and (promotion.ends is None or line.today <= promotion.ends)
        and (not promotion.offerings or line.offering_code in promotion.offerings)
        and (not promotion.terms or line.term in promotion.terms)
        and (not promotion.currencies or line.currency in promotion.currencies)
        and (not promotion.countries or line.country in promotion.countries)
        and (not promotion.quote_types or line.kind in promotion.quote_types)
    )


def saving(promotion: Promotion, line: LineFacts, line_subtotal: Decimal) -> Decimal:
    """Return what `promotion` takes off a line worth `line_subtotal`, rounded, never above it."""
    if promotion.percent_off is not None:
        off = line_subtotal * promotion.percent_off / HUNDRED
    elif promotion.amount_off is not None:
        off = promotion.amount_off * line.quantity
    else:
        off = ZERO
    return min(round_money(off, line.currency), line_subtotal)


def best_promotion(
    promotions: Iterable[Promotion], line: LineFacts, line_subtotal: Decimal
) -> AppliedPromotion | None:
    """Pick the one promotion that saves the customer most on the line (ties: lowest code)."""
    best: AppliedPromotion | None = None
    for promotion in sorted(promotions, key=lambda p: p.code):
        if not applies(promotion, line):
            continue
        off = saving(promotion, line, line_subtotal)
        if off > (best.saving if best else ZERO):
            best = AppliedPromotion(promotion.code, promotion.name, off, _why(promotion))
    return best


@cache
def _why(promotion: Promotion) -> str:
    what = (
        f"{promotion.percent_off.normalize():f} % off"
        if promotion.percent_off is not None
        else f"{promotion.amount_off} off each seat"
    )
    filters = [
        ", ".join(sorted(promotion.quote_types)),
        ", ".join(sorted(promotion.terms)),
        ", ".join(sorted(promotion.offerings)),
        ", ".join(sorted(promotion.currencies)),
        ", ".join(sorted(promotion.countries)),
    ]
    scope = "; ".join(f for f in filters if f)
    until = f" until {promotion.ends.isoformat()}" if promotion.ends else ""
    return f"{what}{' on ' + scope if scope else ''}{until}"
