"""A quote as stored: history that is read back exactly as it was priced, never recomputed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.model import (
    Channel,
    LineKind,
    PaymentMethod,
    PurchaseMethod,
    QuoteType,
    Term,
)


class RecipientRole(StrEnum):
    """Why someone receives a quote."""

    BUYER = "buyer"  # the customer's buyer who made a self-service quote
    CONTACT = "contact"  # the customer's contact a partner or staff member named
    EXTRA = "extra"  # one more address added to the quote


class Delivery(StrEnum):
    """Where a recipient's mail stands."""

    PENDING = "pending"  # queued, or being retried after a passing failure
    SENT = "sent"  # the mail server accepted it
    FAILED = "failed"  # refused for good, or given up after every retry


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone the quote goes to, and why; once the quote is sent, how the mail went and
    whether the recipient opened the quote's link."""

    email: str
    name: str | None = None
    role: RecipientRole = RecipientRole.EXTRA
    delivery: Delivery | None = None
    delivery_at: datetime | None = None
    delivery_error: str | None = None
    viewed_at: datetime | None = None
    view_count: int = 0


@dataclass(frozen=True, slots=True)
class Address:
    """A billing address as copied onto a quote (the country stays the customer's)."""

    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """A stored quote line, as priced."""

    position: int
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
    promotion_code: str | None
    promotion_name: str | None
    promotion_why: str | None
    discount: Decimal
    amount: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class Quote:
    """A stored quote with its lines and recipients."""

    id: int
    number: str
    type: QuoteType
    status: QuoteStatus
    channel: Channel
    customer_csn: str
    partner_csn: str | None
    currency: str
    purchase_method: PurchaseMethod
    language: str
    created_by: int | None
    contact_email: str | None
    address: Address
    tax_rate: Decimal
    subtotal: Decimal
    discount_total: Decimal
    tax: Decimal
    total: Decimal
    expires_at: date
    created_at: datetime
    sent_at: datetime | None
    replaces: str | None
    lines: tuple[QuoteLine, ...]
    recipients: tuple[Recipient, ...]

    @property
    def subscription_ids(self) -> tuple[str, ...]:
        """Return the subscriptions this quote renews or aligns to."""
        return tuple(
            sid
            for line in self.lines
            for sid in (line.subscription_id, line.align_to_subscription_id)
            if sid is not None
        )

    @property
    def renewed_ids(self) -> tuple[str, ...]:
        """Return the subscriptions this quote renews."""
        return tuple(line.subscription_id for line in self.lines if line.subscription_id)


@dataclass(frozen=True, slots=True)
class Order:
    """An order placed from a quote, at the quote's prices."""

    id: int
    quote_number: str
    total: Decimal
    currency: str
    payment_method: PaymentMethod
    created_at: datetime
