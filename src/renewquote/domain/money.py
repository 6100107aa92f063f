"""Exact money: `Decimal` amounts rounded once, per line, to the currency's minor unit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel.numbers import get_currency_precision

ZERO = Decimal("0")


@cache
def minor_unit_exponent(currency: str) -> Decimal:
    """Return the quantum of one minor unit of `currency` (EUR -> 0.01, JPY -> 1)."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round `amount` half up to the minor unit of `currency`; the only rounding of money."""
    return amount.quantize(minor_unit_exponent(currency), rounding=ROUND_HALF_UP)


def amount_text(amount: Decimal, currency: str) -> str:
    """Write `amount` in the currency's minor unit ("460.00", "192000"), the only way out.

    Amounts are stored as they were priced or given; whatever their own digits ("460",
    "460.0"), they leave the API, the command line and the PDF with the currency's.
    """
    rounded = round_money(amount, currency)
    # No "-0.00": a zero is a zero, whatever sign its computation left it with.
    return f"{rounded if rounded else abs(rounded):f}"


def is_in_minor_units(amount: Decimal, currency: str) -> bool:
    """Tell whether `amount` has no digit finer than the currency's minor unit."""
    return round_money(amount, currency) == amount


def parse_amount(text: str) -> Decimal:
    """Read a decimal string (never a float) into a `Decimal`, refusing what is not a number."""
    if not isinstance(text, str):
        # A float has already lost the amount's exact digits; refuse it rather than guess.
        raise ValueError(f"{text!r} is not a decimal string")
    try:
        value = Decimal(text)
    except InvalidOperation:
        # One exception type for every refusal, so callers can list each bad amount.
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite amount")
    return value


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency; adding two currencies is refused."""

    amount: Decimal
    currency: str

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Return nothing, in `currency`."""
        return cls(round_money(ZERO, currency), currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def rounded(self) -> Money:
        """Return this amount rounded to the currency's minor unit."""
        return Money(round_money(self.amount, self.currency), self.currency)

    def __str__(self) -> str:
        return f"{amount_text(self.amount, self.currency)} {self.currency}"
