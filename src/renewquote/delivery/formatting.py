"""Money and dates as people read them, in the quote's language (the PDF, mails, pages)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_currency, format_percent

from renewquote.domain.money import round_money


@lru_cache(maxsize=16384)
def money_text(amount: Decimal, currency: str, language: str) -> str:
    """Write an amount for a reader: rounded as the engine rounds (half up) before Babel,
    whose own rounding is half-even. A quote's amounts are written again and again (its page
    as it is repriced, its PDF, each recipient's mail): each is formatted once."""
    return format_currency(round_money(amount, currency), currency, locale=language)


@lru_cache(maxsize=8192)
def day_text(value: date, language: str) -> str:
    """Write a date for a reader ("2 déc. 2026", "Dec 2, 2026"); a page of 500 subscriptions
    shows a few hundred dates, each formatted once."""
    return format_date(value, format="medium", locale=language)


def percent_text(rate: Decimal, language: str) -> str:
    """Write a rate as a percentage with no digit it does not have ("20 %", "8.5%")."""
    return format_percent(rate, locale=language, decimal_quantization=False)
