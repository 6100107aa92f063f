"""The payment provider seen from renewquote: a card is charged or declined, with a reason.

The built-in provider is the vendor's test gateway: it accepts any card number that passes
the Luhn check except the documented decline numbers, so demos and tests exercise both paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.model import PaymentMethod

DECLINED_CARDS = {"4000000000000002": "card declined", "4000000000009995": "insufficient funds"}


@dataclass(frozen=True, slots=True)
class Charge:
    """A payment taken (or an invoice raised) for an order."""

    method: PaymentMethod
    amount: Decimal
    currency: str
    reference: str


class PaymentProvider(Protocol):
    """Takes the money for an order, or refuses with a reason."""

    def charge(
        self, method: PaymentMethod, amount: Decimal, currency: str, card_number: str | None
    ) -> Charge: ...


class TestGateway:
    """The test gateway: Luhn-valid cards pass, the documented decline numbers fail."""

    __test__ = False  # not a pytest class

    def charge(
        self, method: PaymentMethod, amount: Decimal, currency: str, card_number: str | None
    ) -> Charge:
        """Charge a card (PayPal and invoices always pass here)."""
        if method is PaymentMethod.CARD:
            digits = (card_number or "").replace(" ", "")
            if (
                not (digits.isascii() and digits.isdigit())
                or not 12 <= len(digits) <= 19
                or not _luhn_ok(digits)
            ):
                raise RuleViolation.one(Code.PAYMENT_DECLINED, reason="invalid card number")
            if digits in DECLINED_CARDS:
                raise RuleViolation.one(Code.PAYMENT_DECLINED, reason=DECLINED_CARDS[digits])
            reference = f"card-****{digits[-4:]}"
        else:
            reference = method.value
        return Charge(method, amount, currency, reference)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
