"""Request and response bodies of the API, named and described for the OpenAPI document."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    field_validator,
)

from renewquote import fields
from renewquote.domain.errors import Violation
from renewquote.domain.grouping import RenewalGroups as Groups
from renewquote.domain.model import PaymentMethod, QuoteType, Term
from renewquote.domain.money import amount_text
from renewquote.domain.quotes import Delivery, Order, Quote, Recipient
from renewquote.services.listing import SubscriptionStanding
from renewquote.storage.quotes import Event
from renewquote.storage.webhooks import Endpoint

# PostgreSQL text cannot hold NUL: refuse it at the door (422) rather than fail on it (500).
NO_NUL = r"^[^\x00]*$"
Csn = Annotated[fields.Csn, Field(examples=["5200000001"])]
Money = Annotated[
    str,
    Field(
        description="A decimal string in the currency's minor unit, never a number.",
        examples=["1234.50"],
        pattern=r"^-?\d+(\.\d+)?$",
    ),
]


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError("a date as YYYY-MM-DD")


# Pydantic would also read numbers as Unix times (`0` is 1970-01-01): a date is YYYY-MM-DD only.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
# Times are kept as naive UTC; on the wire they say so (RFC 3339 needs the offset): `...Z`.
UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]
Text = fields.AddressLine
Identifier = fields.Code
PostalCode = fields.PostalCode
# Strict: `true` or `"3"` is a client's mistake, not one seat or three. The bounds are only a
# ceiling against abuse: the rules judge the number (a renewal's `seat_increase`).
Seats = Annotated[StrictInt, Field(ge=-1_000_000_000, le=1_000_000_000)]
# At most 100 lines is a rule (`too_many_lines`); this is only a ceiling against abuse.
MAX_LINES_READ = 1_000


class Strict(BaseModel):
    """Refuse unknown fields: a typo should fail loudly, not be ignored."""

    model_config = ConfigDict(extra="forbid")


class TokenRequest(Strict):
    """E-mail and password of a user of the book."""

    email: Annotated[str, StringConstraints(min_length=3, max_length=254, pattern=NO_NUL)] = Field(
        examples=["marie@dupont.example"]
    )
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class TokenPublic(BaseModel):
    """A bearer token, shown once; send it as `Authorization: Bearer <token>`."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: UtcDateTime


class Reason(BaseModel):
    """Why a subscription cannot be renewed on a quote now."""

    # Frozen: renewal groups hand the same worded reasons to every answer (`worded`).
    model_config = ConfigDict(frozen=True)

    code: str = Field(description="A rule code of RULES.md.", examples=["not_renewable"])
    detail: str | None = Field(None, description="The finer reason, where a code has several.")
    message: str = Field(description="A sentence in the caller's language (French or English).")

    @classmethod
    def of(cls, reasons: tuple[Violation, ...], language: str) -> list[Reason]:
        """Put each reason into words."""
        return [
            cls(code=r.code.value, detail=r.detail, message=r.message(language)) for r in reasons
        ]


def worded(reasons: tuple[Violation, ...], language: str) -> list[Reason]:
    """`Reason.of`, once per tuple of reasons and language in a process: grouping gives
    subscriptions alike eligibility's own tuple, the same object call after call."""
    key = (id(reasons), language)
    kept = _WORDED.get(key)
    if kept is not None and kept[0] is reasons:
        return list(kept[1])
    words = Reason.of(reasons, language)
    if len(_WORDED) >= _WORDED_SIZE:
        _WORDED.clear()
    # The tuple is held with its words, so its id names no other tuple while kept.
    _WORDED[key] = (reasons, tuple(words))
    return words


# Reasons put into words, by the id of their tuple and the language.
_WORDED: dict[tuple[int, str], tuple[tuple[Violation, ...], tuple[Reason, ...]]] = {}
_WORDED_SIZE = 4096


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

    @classmethod
    def of(cls, standing: SubscriptionStanding, language: str) -> SubscriptionPublic:
        """Shape a subscription and its renewal standing."""
        s = standing.subscription
        return cls(
            id=s.id,
            customer_csn=s.customer_csn,
            offering=OfferingPublic(code=s.offering_code, name=s.offering_name),
            quantity=s.quantity,
            term=s.term,
            currency=s.currency,
            purchase_method=s.purchase_method.value,
            partner_csn=s.partner_csn,
            status=s.status.value,
            start_date=s.start_date,
            end_date=s.end_date,
            payment_method=s.payment_method.value,
            auto_renew=s.auto_renew,
            renewal=Renewal(
                eligible=not standing.reasons, reasons=Reason.of(standing.reasons, language)
            ),
        )


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

    @classmethod
    def of(cls, result: Groups, language: str) -> RenewalGroups:
        """Shape renewal groups and the subscriptions left out, with their reasons in words."""
        return cls(
            data=[
                RenewalGroupPublic(
                    customer_csn=g.key.customer_csn,
                    currency=g.key.currency,
                    purchase_method=g.key.purchase_method.value,
                    partner_csn=g.key.partner_csn,
                    subscription_ids=list(g.subscription_ids),
                )
                for g in result.groups
            ],
            ineligible=[
                IneligiblePublic(
                    subscription_id=i.subscription_id, reasons=worded(i.reasons, language)
                )
                for i in result.ineligible
            ],
        )


class RecipientIn(Strict):
    """Someone to send the quote to."""

    email: fields.Email = Field(examples=["cfo@dupont.example"])
    name: fields.PersonName | None = Field(None, examples=["Claire Dupont"])


class ContactIn(Strict):
    """The customer's contact a partner sends the quote to."""

    email: fields.Email


class QuoteLineCreate(Strict):
    """A renewal line names `subscription_id`; a new or co-term line names `offering`."""

    subscription_id: Identifier | None = Field(None, examples=["SUB-0001"])
    offering: Identifier | None = None
    quantity: Seats | None = Field(None, examples=[4])
    term: Term | None = None
    start_date: IsoDate | None = None
    align_to_subscription_id: Identifier | None = None


class QuoteCreate(Strict):
    """A quote to create as a draft."""

    type: QuoteType = QuoteType.RENEWAL
    customer_csn: Csn | None = Field(None, description="Required for partners and staff.")
    currency: fields.CurrencyCode | None = None
    lines: Annotated[list[QuoteLineCreate], Field(min_length=1, max_length=MAX_LINES_READ)]
    contact: ContactIn | None = None
    recipients: Annotated[list[RecipientIn], Field(max_length=100)] = []
    language: Literal["en", "fr"] | None = None


def _never_null(schema: dict[str, Any]) -> None:
    """Document a field that may be left out but not sent as `null`."""
    schema.update(next(s for s in schema.pop("anyOf") if s.get("type") != "null"))


class AddressIn(Strict):
    """A billing address (the country stays the customer's): the lines given replace the old.

    Every address has a first line, a city and a postal code: they may be left out (kept as
    they are) but not cleared with `null`; the second line may.
    """

    line1: Text | None = Field(None, examples=["2 rue du Bac"], json_schema_extra=_never_null)
    line2: Text | None = None
    city: Text | None = Field(None, examples=["Paris"], json_schema_extra=_never_null)
    postal_code: PostalCode | None = Field(None, examples=["75007"], json_schema_extra=_never_null)

    @field_validator("line1", "city", "postal_code")
    @classmethod
    def _not_cleared(cls, value: str | None) -> str:
        if value is None:  # only a value given is checked: `null` was sent
            raise ValueError("cannot be cleared; leave it out to keep it")
        return value


class QuotePatch(Strict):
    """Changes to a draft; a sent quote is replaced, not edited."""

    lines: (
        Annotated[list[QuoteLineCreate], Field(min_length=1, max_length=MAX_LINES_READ)] | None
    ) = None
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
    # Printable ASCII only: the provider reads digits, and "²".isdigit() is true in Python.
    card_number: Annotated[str, StringConstraints(max_length=30, pattern=r"^[ -~]*$")] | None = (
        Field(
            None,
            description="For cards; checked by the payment provider.",
            examples=["4242424242424242"],
        )
    )


class RenewAndPay(QuoteCreate):
    """ "Renew and pay now": a quote as for `POST /api/v1/quotes`, and how to pay it at once."""

    payment: CheckoutRequest


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


class ContactPublic(BaseModel):
    """The customer's contact a partner or staff member sends the quote to."""

    email: str


class RecipientPublic(BaseModel):
    """Someone the quote goes to: the buyer, the partner's chosen contact, or another; once
    the quote is sent, how its mail went and whether its link was opened."""

    email: str
    name: str | None
    role: str
    delivery: Delivery | None = Field(
        None, description="The mail: pending, sent or failed (null while a draft)."
    )
    delivery_at: UtcDateTime | None = Field(None, description="When the mail was sent or failed.")
    delivery_error: str | None = Field(None, description="Why the mail failed, if it did.")
    viewed_at: UtcDateTime | None = Field(
        None, description="The first time this recipient opened its link."
    )
    view_count: int = 0

    @classmethod
    def of(cls, recipient: Recipient) -> RecipientPublic:
        """Shape a stored recipient."""
        return cls(
            email=recipient.email,
            name=recipient.name,
            role=recipient.role.value,
            delivery=recipient.delivery,
            delivery_at=recipient.delivery_at,
            delivery_error=recipient.delivery_error,
            viewed_at=recipient.viewed_at,
            view_count=recipient.view_count,
        )


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
    contact: ContactPublic | None
    expires_at: date
    created_at: UtcDateTime
    sent_at: UtcDateTime | None
    replaces: str | None

    @classmethod
    def of(cls, quote: Quote) -> QuotePublic:
        """Shape a quote as stored; amounts in the currency's minor unit."""

        def money(amount: Decimal) -> str:
            return amount_text(amount, quote.currency)

        address = quote.address
        return cls(
            number=quote.number,
            type=quote.type.value,
            status=quote.status.value,
            channel=quote.channel.value,
            customer_csn=quote.customer_csn,
            partner_csn=quote.partner_csn,
            currency=quote.currency,
            purchase_method=quote.purchase_method.value,
            language=quote.language,
            address=AddressPublic(
                address_line1=address.line1,
                address_line2=address.line2,
                city=address.city,
                postal_code=address.postal_code,
                country=address.country,
            ),
            lines=[
                QuoteLinePublic(
                    kind=line.kind.value,
                    subscription_id=line.subscription_id,
                    align_to_subscription_id=line.align_to_subscription_id,
                    offering=OfferingPublic(code=line.offering_code, name=line.offering_name),
                    quantity=line.quantity,
                    term=line.term.value,
                    start_date=line.start_date,
                    end_date=line.end_date,
                    unit_price=money(line.unit_price),
                    subtotal=money(line.subtotal),
                    promotion=(
                        PromotionPublic(
                            code=line.promotion_code,
                            name=line.promotion_name or line.promotion_code,
                            why=line.promotion_why,
                        )
                        if line.promotion_code
                        else None
                    ),
                    discount=money(line.discount),
                    amount=money(line.amount),
                    tax=money(line.tax),
                )
                for line in quote.lines
            ],
            subtotal=money(quote.subtotal),
            discount_total=money(quote.discount_total),
            tax=money(quote.tax),
            total=money(quote.total),
            recipients=[RecipientPublic.of(r) for r in quote.recipients],
            contact=ContactPublic(email=quote.contact_email) if quote.contact_email else None,
            expires_at=quote.expires_at,
            created_at=quote.created_at,
            sent_at=quote.sent_at,
            replaces=quote.replaces,
        )


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
    created_at: UtcDateTime

    @classmethod
    def of(cls, order: Order) -> OrderPublic:
        """Shape an order as the checkout answers it."""
        return cls(
            id=order.id,
            quote_number=order.quote_number,
            total=amount_text(order.total, order.currency),
            currency=order.currency,
            payment_method=order.payment_method.value,
            created_at=order.created_at,
        )


class CheckoutResult(BaseModel):
    """The order, and the quote now `ordered`."""

    order: OrderPublic
    quote: QuotePublic


class QuoteEventPublic(BaseModel):
    """One change of a quote: who, when, what."""

    at: UtcDateTime
    actor: str
    action: str
    detail: dict[str, object]

    @classmethod
    def of(cls, event: Event) -> QuoteEventPublic:
        """Shape one audit row."""
        return cls(at=event.at, actor=event.actor, action=event.action, detail=dict(event.detail))


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


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Document the problem+json answers a route may give."""
    return {
        status: {"model": Problem, "content": {"application/problem+json": {}}}
        for status in statuses
    }


WebhookEventType = Literal[
    "quote.created",
    "quote.sent",
    "quote.viewed",
    "quote.ordered",
    "quote.expired",
    "quote.cancelled",
    "quote.superseded",
]


class WebhookEndpointCreate(Strict):
    """An endpoint to post quote events to."""

    url: Annotated[str, Field(min_length=8, max_length=2000, pattern=NO_NUL)] = Field(
        examples=["https://erp.partner.example/renewquote"]
    )
    events: Annotated[list[WebhookEventType], Field(min_length=1, max_length=7)]


class WebhookEndpointPublic(BaseModel):
    """A registered endpoint (its secret is shown once, when it is created)."""

    id: str
    url: str
    events: list[str]
    created_at: UtcDateTime
    disabled_at: UtcDateTime | None = None
    disabled_why: str | None = None

    @classmethod
    def of(cls, endpoint: Endpoint) -> WebhookEndpointPublic:
        """Shape a stored endpoint."""
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            events=list(endpoint.events),
            created_at=endpoint.created_at,
            disabled_at=endpoint.disabled_at,
            disabled_why=endpoint.disabled_why,
        )


class WebhookEndpointCreated(WebhookEndpointPublic):
    """A new endpoint, with the secret its deliveries are signed with (`whsec_...`)."""

    secret: str


class WebhookEndpointList(BaseModel):
    """The caller's endpoints."""

    data: list[WebhookEndpointPublic]


class _WebhookBody(BaseModel):
    type: str
    timestamp: UtcDateTime
    data: dict[str, QuotePublic]


def webhook_body(kind: str, at: datetime, quote: Quote) -> str:
    """The JSON posted for one event: its type, when, and the quote as GET shows it."""
    return _WebhookBody(
        type=kind, timestamp=at, data={"quote": QuotePublic.of(quote)}
    ).model_dump_json()
