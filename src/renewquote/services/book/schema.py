"""What a book of business may say (API.md): one strict pydantic model per kind of entry.

The field types are the API's own (`renewquote.fields`): what the loader accepts, the API
accepts. Rules across fields and entries are in `checks`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Annotated, Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, Strict, TypeAdapter

from renewquote.domain.model import (
    ContactRole,
    OfferingKind,
    PaymentMethod,
    PurchaseMethod,
    QuoteType,
    SubscriptionStatus,
    Term,
)
from renewquote.fields import (
    AddressLine,
    Amount,
    Code,
    CountryCode,
    Csn,
    CurrencyCode,
    Email,
    IsoDate,
    LanguageCode,
    Name,
    Password,
    Percent,
    PositiveAmount,
    PostalCode,
    TaxId,
    TaxRate,
)

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
    tax_rate: TaxRate
    language: LanguageCode


class BookCurrency(Entry):
    """A currency and its card and PayPal limit; an explicit null means no limit."""

    code: CurrencyCode
    card_limit: PositiveAmount | None = None


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

    line1: AddressLine
    line2: AddressLine | None = None
    city: AddressLine
    postal_code: PostalCode


class BookVendorAddress(BookAddress):
    """The vendor's postal address, country included."""

    country: CountryCode


class BookVendor(Entry):
    """The seller printed on every quote: its address, tax number and support address."""

    name: Name
    address: BookVendorAddress
    tax_id: TaxId
    support_email: Email


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
    tax_id: TaxId | None = None
    contacts: list[BookContact] = []


class BookOffering(Entry):
    """Something sold on subscription."""

    code: Code
    name: Name
    kind: Annotated[OfferingKind, _BY_VALUE]


class BookPrice(Entry):
    """The new and renewal prices of an offering on one term in one currency."""

    offering: Code
    term: Annotated[Term, _BY_VALUE]
    currency: CurrencyCode
    new: Amount
    renewal: Amount


class BookPromotion(Entry):
    """An automatic promotion; a filter left out or empty matches everything."""

    code: Code
    name: Name
    percent_off: Percent | None = None
    amount_off: PositiveAmount | None = None
    starts: IsoDate | None = None
    ends: IsoDate | None = None
    offerings: list[Code] = []
    terms: list[Annotated[Term, _BY_VALUE]] = []
    currencies: list[CurrencyCode] = []
    countries: list[CountryCode] = []
    quote_types: list[Annotated[QuoteType, _BY_VALUE]] = []


class BookSubscription(Entry):
    """A subscription in the vendor's books."""

    id: Code
    customer: Csn
    offering: Code
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

    vendor: BookVendor | None = None
    currencies: list[BookCurrency] = []
    countries: list[BookCountry] = []
    staff: list[BookUser] = []
    partners: list[BookPartner] = []
    customers: list[BookCustomer] = []
    offerings: list[BookOffering] = []
    prices: list[BookPrice] = []
    promotions: list[BookPromotion] = []
    subscriptions: list[BookSubscription] = []


E = TypeVar("E", bound=Entry)


def entry_in_part(model: type[E], raw: Mapping[str, object], malformed: Iterable[str]) -> E:
    """Build an entry of `model` from the fields of `raw` that are not `malformed`.

    For a malformed entry only, so that its other fields are still checked: each field is read
    on its own, and the fields left out are not there at all (or hold their default).
    """
    skipped = set(malformed)
    fields = {
        name: _field_reader(model, name).validate_python(raw[name])
        for name in model.model_fields
        if name in raw and name not in skipped
    }
    return cast(E, model.model_construct(**fields))


@cache
def _field_reader(model: type[Entry], name: str) -> TypeAdapter[Any]:
    info = model.model_fields[name]
    annotation: Any = info.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return TypeAdapter(annotation)  # an entry: strict by its own configuration
    if info.metadata:
        annotation = Annotated[(annotation, *info.metadata)]
    return TypeAdapter(annotation, config=ConfigDict(strict=True))
