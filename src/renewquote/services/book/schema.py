"""What a book of business may say (API.md): one strict pydantic model per kind of entry.

The checks are pydantic-core schemas, not Python callbacks, so that a book of 100,000
subscriptions is read in about a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    Strict,
    StringConstraints,
)
from pydantic_core import CoreSchema, core_schema

from renewquote.domain.model import (
    ContactRole,
    OfferingKind,
    PaymentMethod,
    PurchaseMethod,
    QuoteType,
    SubscriptionStatus,
    Term,
)

# The message of each pattern a field must match, for the problems list.
PATTERN_MESSAGES: dict[str, str] = {}


def _matching(
    pattern: str, message: str, max_length: int | None = None, *, to_lower: bool = False
) -> StringConstraints:
    PATTERN_MESSAGES[pattern] = message
    return StringConstraints(pattern=pattern, max_length=max_length, to_lower=to_lower)


def _explained(schema: CoreSchema, kind: str, message: str) -> CoreSchema:
    return core_schema.custom_error_schema(schema, kind, custom_error_message=message)


class _IsoDateText:
    """A date written as ISO text, and nothing else (no timestamps, no times)."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        text = core_schema.str_schema(pattern=r"^\d{4}-\d{2}-\d{2}$", strict=True)
        return core_schema.chain_schema(
            [
                _explained(text, "date_format", "a date is ISO text YYYY-MM-DD"),
                _explained(
                    core_schema.date_schema(strict=False),
                    "date_value",
                    "no such day in the calendar",
                ),
            ]
        )


@dataclass(frozen=True, slots=True)
class _AmountText:
    """An amount written as a decimal string, within bounds; never a JSON number."""

    gt: int | None = None
    ge: int | None = None
    lt: int | None = None
    le: int | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        # json.loads turns 0.1 into a float that is already wrong; only text keeps every digit.
        number = core_schema.str_schema(pattern=r"^-?\d{1,20}(\.\d{1,12})?$")
        gt, ge, lt, le = (
            None if b is None else Decimal(b) for b in (self.gt, self.ge, self.lt, self.le)
        )
        bounded = core_schema.decimal_schema(strict=False, gt=gt, ge=ge, lt=lt, le=le)
        return core_schema.chain_schema(
            [
                _explained(
                    core_schema.str_schema(strict=True),
                    "amount_type",
                    'an amount is a decimal string such as "1234.50", not a JSON number',
                ),
                _explained(
                    number, "amount_format", 'an amount is a decimal string such as "1234.50"'
                ),
                bounded,
            ]
        )


IsoDate = Annotated[date, _IsoDateText()]
Name = Annotated[str, _matching(r"\S", "must not be blank", max_length=200)]
Csn = Annotated[str, StringConstraints(min_length=1, max_length=20)]
CatalogueCode = Annotated[str, StringConstraints(min_length=1, max_length=40)]
PostalCode = Annotated[str, StringConstraints(min_length=1, max_length=20)]
Password = Annotated[str, StringConstraints(min_length=1)]
CountryCode = Annotated[
    str, _matching(r"^[A-Z]{2}$", 'a country is two upper-case letters (ISO 3166), such as "FR"')
]
CurrencyCode = Annotated[
    str,
    _matching(r"^[A-Z]{3}$", 'a currency is three upper-case letters (ISO 4217), such as "EUR"'),
]
Language = Annotated[
    str,
    _matching(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$", 'a language is a code such as "fr" or "en"'),
]
# Lower-cased, so the unique index on users.email is case-insensitive too.
Email = Annotated[
    str,
    _matching(
        r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "not an e-mail address", max_length=254, to_lower=True
    ),
]


# Enumerations arrive as their values ("annual"); strict mode alone would want enum objects.
_BY_VALUE = Strict(False)


class Entry(BaseModel):
    """One entry of a book: its fields exactly as the file must write them."""

    # Strict: a CSN given as a number or "true" for a boolean is a mistake to report, not guess.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class BookCountry(Entry):
    """A country: whether its customers quote themselves, its tax rate, its language."""

    code: CountryCode
    self_service_quotes: bool
    # A fraction ("0.20"); a percentage written as "20" would tax twenty times over.
    tax_rate: Annotated[Decimal, _AmountText(ge=0, lt=1)]
    language: Language


class BookCurrency(Entry):
    """A currency and its card and PayPal limit; an explicit null means no limit."""

    code: CurrencyCode
    card_limit: Annotated[Decimal, _AmountText(gt=0)] | None = None


class BookUser(Entry):
    """Someone of the vendor's staff or a partner's, who signs in with a password."""

    email: Email
    name: Name
    password: Password


class BookPartner(Entry):
    """A reseller of record and its users."""

    csn: Csn
    name: Name
    country: CountryCode
    users: list[BookUser] = []


class BookAddress(Entry):
    """A customer's billing address."""

    line1: Name
    line2: Name | None = None
    city: Name
    postal_code: PostalCode


class BookContact(Entry):
    """A customer's contact; without a password the contact receives quotes but cannot sign in."""

    email: Email
    name: Name
    role: Annotated[ContactRole, _BY_VALUE]
    password: Password | None = None


class BookCustomer(Entry):
    """A customer company, its address and its contacts."""

    csn: Csn
    name: Name
    country: CountryCode
    address: BookAddress
    pays_by_invoice: bool
    contacts: list[BookContact] = []


class BookOffering(Entry):
    """Something sold on subscription."""

    code: CatalogueCode
    name: Name
    kind: Annotated[OfferingKind, _BY_VALUE]


class BookPrice(Entry):
    """The new and renewal prices of an offering on one term in one currency."""

    offering: CatalogueCode
    term: Annotated[Term, _BY_VALUE]
    currency: CurrencyCode
    new: Annotated[Decimal, _AmountText(ge=0)]
    renewal: Annotated[Decimal, _AmountText(ge=0)]


class BookPromotion(Entry):
    """An automatic promotion; a filter left out or empty matches everything."""

    code: CatalogueCode
    name: Name
    percent_off: Annotated[Decimal, _AmountText(gt=0, le=100)] | None = None
    amount_off: Annotated[Decimal, _AmountText(gt=0)] | None = None
    starts: IsoDate | None = None
    ends: IsoDate | None = None
    offerings: list[CatalogueCode] = []
    terms: list[Annotated[Term, _BY_VALUE]] = []
    currencies: list[CurrencyCode] = []
    countries: list[CountryCode] = []
    quote_types: list[Annotated[QuoteType, _BY_VALUE]] = []


class BookSubscription(Entry):
    """A subscription in the vendor's books."""

    id: CatalogueCode
    customer: Csn
    offering: CatalogueCode
    quantity: Annotated[int, Field(ge=1)]
    term: Annotated[Term, _BY_VALUE]
    currency: CurrencyCode
    purchase_method: Annotated[PurchaseMethod, _BY_VALUE]
    partner: Csn | None = None
    start_date: IsoDate
    end_date: IsoDate
    status: Annotated[SubscriptionStatus, _BY_VALUE]
    payment_method: Annotated[PaymentMethod, _BY_VALUE]
    auto_renew: bool


class Book(Entry):
    """A whole book of business, as API.md describes it; every section may be left out."""

    currencies: list[BookCurrency] = []
    countries: list[BookCountry] = []
    staff: list[BookUser] = []
    partners: list[BookPartner] = []
    customers: list[BookCustomer] = []
    offerings: list[BookOffering] = []
    prices: list[BookPrice] = []
    promotions: list[BookPromotion] = []
    subscriptions: list[BookSubscription] = []
