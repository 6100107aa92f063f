"""The payment provider seen from renewquote: authorize, then capture or void.

An order's money is authorized before the order is written, captured once the order is
committed, and voided if writing the order fails: no call to the provider happens while the
database holds row locks, and a failed order never keeps the customer's money.

The built-in provider is the vendor's test gateway: it accepts any card number that passes the
Luhn check except the documented decline numbers, so demos and tests exercise both paths. Card
numbers go to the provider and nowhere else: never stored, never logged, never answered.
"""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.model import PaymentMethod

DECLINED_CARDS = {"4000000000000002": "card declined", "4000000000009995": "insufficient funds"}


@dataclass(frozen=True, slots=True)
class Authorization:
    """Money held for an order, not taken yet: `reference` names it at the provider."""

    method: PaymentMethod
    amount: Decimal
    currency: str
    reference: str


class PaymentProvider(Protocol):
    """Holds, takes or releases the money for an order, or refuses with a reason."""

    def authorize(
        self, method: PaymentMethod, amount: Decimal, currency: str, card_number: str | None
    ) -> Authorization: ...

    def capture(self, authorization: Authorization) -> None: ...

    def void(self, authorization: Authorization) -> None: ...


@dataclass
class TestGateway:
    """The test gateway: Luhn-valid cards pass, the documented decline numbers fail.

    It keeps the last thousand things it was asked (`operations`: "authorize <ref>",
    "capture <ref>", "void <ref>"), so a test can tell whether an order's money was taken or
    released.
    """

    __test__ = False  # not a pytest class

    operations: deque[str] = field(default_factory=lambda: deque(maxlen=1000))

    def authorize(
        self, method: PaymentMethod, amount: Decimal, currency: str, card_number: str | None
    ) -> Authorization:
        """Hold the amount on a card (PayPal and invoices always pass here)."""
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
            reference = f"card-****{digits[-4:]}-{secrets.token_hex(4)}"
        else:
            reference = f"{method.value}-{secrets.token_hex(4)}"
        self.operations.append(f"authorize {reference}")
        return Authorization(method, amount, currency, reference)

    def capture(self, authorization: Authorization) -> None:
        """Take the held amount."""
        self.operations.append(f"capture {authorization.reference}")

    def void(self, authorization: Authorization) -> None:
        """Release the held amount."""
        self.operations.append(f"void {authorization.reference}")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
