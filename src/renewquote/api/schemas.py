"""Request and response bodies of the API, named and described for the OpenAPI document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from renewquote.domain.model import PaymentMethod, QuoteType, Term

Csn = Annotated[str, StringConstraints(min_length=1, max_length=20), Field(examples=["5200000001"])]
Money = Annotated[
    str,
    Field(
        description="A decimal string in the currency's minor unit, never a number.",
        examples=["1234.50"],
        pattern=r"^-?\d+(\.\d+)?$",
    ),
]
Text = Annotated[str, StringConstraints(max_length=200)]


class Strict(BaseModel):
    """Refuse unknown fields: a typo should fail loudly, not be ignored."""

    model_config = ConfigDict(extra="forbid")


class TokenRequest(Strict):
    """E-mail and password of a user of the book."""

    email: Annotated[str, StringConstraints(min_length=3, max_length=254)] = Field(
        examples=["marie@dupont.example"]
    )
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class TokenPublic(BaseModel):
    """A bearer token, shown once; send it as `Authorization: Bearer <token>`."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


class Reason(BaseModel):
    """Why a subscription cannot be renewed on a quote now."""

    code: str = Field(description="A rule code of RULES.md.", examples=["not_renewable"])
    detail: str | None = Field(None, description="The finer reason, where a code has several.")
    message: str = Field(description="A sentence in the caller's language (French or English).")


class Renewal(BaseModel):
    """Whether the subscription can go on a renewal quote today."""

    eligible: bool
    reasons: list[Reason]


class OfferingPublic(BaseModel):
    """An offering of the catalogue."""

    code: str
    name: str


class SubscriptionPublic(BaseModel):
    """A subscription and its renewal standing."""

    id: str
    customer_csn: str
    offering: OfferingPublic
    quantity: int
    term: Term
    currency: str
    purchase_method: str
    partner_csn: str | None
    status: str
    start_date: date
    end_date: date
    payment_method: str
    auto_renew: bool
    renewal: Renewal


class SubscriptionList(BaseModel):
    """A page of subscriptions."""

    data: list[SubscriptionPublic]
    has_more: bool = Field(description="Ask again with `starting_after` = the last id.")


class RenewalGroupPublic(BaseModel):
    """Subscriptions that can renew together on one quote (at most 100)."""

    customer_csn: str
    currency: str
    purchase_method: str
    partner_csn: str | None
    subscription_ids: list[str]


class IneligiblePublic(BaseModel):
    """A subscription left out of the groups, with every reason."""

    subscription_id: str
    reasons: list[Reason]


class RenewalGroups(BaseModel):
    """The renewal groups, and the subscriptions that cannot renew on a quote now."""

    data: list[RenewalGroupPublic]
    ineligible: list[IneligiblePublic]


class RecipientIn(Strict):
    """Someone to send the quote to."""

    email: EmailStr
    name: Text | None = None


class ContactIn(Strict):
    """The customer's contact a partner sends the quote to."""

    email: EmailStr


class QuoteLineCreate(Strict):
    """A renewal line names `subscription_id`; a new or co-term line names `offering`."""

    subscription_id: Annotated[str, StringConstraints(max_length=40)] | None = None
    offering: Annotated[str, StringConstraints(max_length=40)] | None = None
    quantity: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    term: Term | None = None
    start_date: date | None = None
    align_to_subscription_id: Annotated[str, StringConstraints(max_length=40)] | None = None


class QuoteCreate(Strict):
    """A quote to create as a draft."""

    type: QuoteType = QuoteType.RENEWAL
    customer_csn: Csn | None = Field(None, description="Required for partners and staff.")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    lines: Annotated[list[QuoteLineCreate], Field(min_length=1, max_length=100)]
    contact: ContactIn | None = None
    recipients: Annotated[list[RecipientIn], Field(max_length=100)] = []
    language: Literal["en", "fr"] | None = None


class AddressIn(Strict):
    """A billing address (the country stays the customer's)."""

    line1: Text | None = None
    line2: Text | None = None
    city: Text | None = None
    postal_code: Annotated[str, StringConstraints(max_length=20)] | None = None


class QuotePatch(Strict):
    """Changes to a draft; a sent quote is replaced, not edited."""

    lines: Annotated[list[QuoteLineCreate], Field(min_length=1, max_length=100)] | None = None
    recipients: Annotated[list[RecipientIn], Field(max_length=100)] | None = None
    contact: ContactIn | None = None
    language: Literal["en", "fr"] | None = None
    address: AddressIn | None = None


class QuoteReplace(Strict):
    """The new address for the quote that replaces a sent one."""

    address: AddressIn


class CheckoutRequest(Strict):
    """How the quote is paid."""

    payment_method: PaymentMethod
    card_number: Annotated[str, StringConstraints(max_length=30)] | None = Field(
        None,
        description="For cards; checked by the payment provider.",
        examples=["4242424242424242"],
    )


class PromotionPublic(BaseModel):
    """The promotion a line got, and why it applies."""

    code: str
    name: str
    why: str | None


class QuoteLinePublic(BaseModel):
    """A quote line as priced; amounts never change after the quote is made."""

    kind: str
    subscription_id: str | None
    align_to_subscription_id: str | None
    offering: OfferingPublic
    quantity: int
    term: str
    start_date: date
    end_date: date
    unit_price: Money
    subtotal: Money
    promotion: PromotionPublic | None
    discount: Money
    amount: Money = Field(description="After the discount.")
    tax: Money


class RecipientPublic(BaseModel):
    """Someone the quote goes to: the buyer, the partner's chosen contact, or another."""

    email: str
    name: str | None
    role: str


class AddressPublic(BaseModel):
    """The billing address on the quote."""

    address_line1: str | None
    address_line2: str | None
    city: str | None
    postal_code: str | None
    country: str | None


class QuotePublic(BaseModel):
    """A quote: `total = subtotal - discount_total + tax`."""

    number: str = Field(examples=["Q-2026-000123"])
    type: str
    status: str
    channel: str
    customer_csn: str
    partner_csn: str | None
    currency: str
    purchase_method: str
    language: str
    address: AddressPublic
    lines: list[QuoteLinePublic]
    subtotal: Money
    discount_total: Money
    tax: Money
    total: Money
    recipients: list[RecipientPublic]
    contact: ContactIn | None
    expires_at: date
    created_at: datetime
    sent_at: datetime | None
    replaces: str | None


class QuoteList(BaseModel):
    """A page of quotes."""

    data: list[QuotePublic]
    has_more: bool = Field(description="Ask again with `starting_after` = the last number.")


class OrderPublic(BaseModel):
    """An order placed from a quote."""

    id: int
    quote_number: str
    total: Money
    currency: str
    payment_method: str
    created_at: datetime


class CheckoutResult(BaseModel):
    """The order, and the quote now `ordered`."""

    order: OrderPublic
    quote: QuotePublic


class QuoteEventPublic(BaseModel):
    """One change of a quote: who, when, what."""

    at: datetime
    actor: str
    action: str
    detail: dict[str, object]


class QuoteEvents(BaseModel):
    """A quote's audit trail, oldest first."""

    data: list[QuoteEventPublic]


class ViolationPublic(BaseModel):
    """One broken rule."""

    code: str
    message: str
    subscription_ids: list[str]


class Problem(BaseModel):
    """An error, as `application/problem+json` (RFC 9457) with the rule codes."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    violations: list[ViolationPublic]


class Health(BaseModel):
    """The service and its database answer."""

    status: Literal["ok"]
    database: str


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Document the problem+json answers a route may give."""
    return {
        status: {"model": Problem, "content": {"application/problem+json": {}}}
        for status in statuses
    }
