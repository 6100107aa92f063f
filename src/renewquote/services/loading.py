"""Loading a book of business (API.md): checked whole first, then upserted in one transaction.

A bad file is refused with every problem and its place in the file, and nothing is written.
Rows are matched on their natural keys, so loading the same file again changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Annotated, Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    Strict,
    StringConstraints,
    ValidationError,
)
from pydantic_core import CoreSchema, ErrorDetails, core_schema
from sqlalchemy import Connection, Table, and_, bindparam, insert, select, update

from renewquote.domain.model import (
    ContactRole,
    OfferingKind,
    PaymentMethod,
    PurchaseMethod,
    QuoteType,
    SubscriptionStatus,
    Term,
)
from renewquote.storage import tables
from renewquote.storage.database import Database
from renewquote.storage.types import ExactDecimal

# The card and PayPal limit of a currency the book does not set (API.md: only USD has one).
DEFAULT_CARD_LIMITS: Mapping[str, Decimal] = {"USD": Decimal("25000.00")}

PASSWORDS = PasswordHasher()

# Keys per query: well under SQLite's and PostgreSQL's limits on bound parameters.
_BATCH = 2000


# --- What a file may say -------------------------------------------------------------------
# The checks below are pydantic-core schemas, not Python callbacks, so that a book of 100,000
# subscriptions is read in about a second.

_PATTERN_MESSAGES: dict[str, str] = {}


def _matching(
    pattern: str, message: str, max_length: int | None = None, *, to_lower: bool = False
) -> StringConstraints:
    _PATTERN_MESSAGES[pattern] = message
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


class _Entry(BaseModel):
    # Strict: a CSN given as a number or "true" for a boolean is a mistake to report, not guess.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class BookCountry(_Entry):
    """A country: whether its customers quote themselves, its tax rate, its language."""

    code: CountryCode
    self_service_quotes: bool
    # A fraction ("0.20"); a percentage written as "20" would tax twenty times over.
    tax_rate: Annotated[Decimal, _AmountText(ge=0, lt=1)]
    language: Language


class BookCurrency(_Entry):
    """A currency and its card and PayPal limit; an explicit null means no limit."""

    code: CurrencyCode
    card_limit: Annotated[Decimal, _AmountText(gt=0)] | None = None


class BookUser(_Entry):
    """Someone of the vendor's staff or a partner's, who signs in with a password."""

    email: Email
    name: Name
    password: Password


class BookPartner(_Entry):
    """A reseller of record and its users."""

    csn: Csn
    name: Name
    country: CountryCode
    users: list[BookUser] = []


class BookAddress(_Entry):
    """A customer's billing address."""

    line1: Name
    line2: Name | None = None
    city: Name
    postal_code: PostalCode


class BookContact(_Entry):
    """A customer's contact; without a password the contact receives quotes but cannot sign in."""

    email: Email
    name: Name
    role: Annotated[ContactRole, _BY_VALUE]
    password: Password | None = None


class BookCustomer(_Entry):
    """A customer company, its address and its contacts."""

    csn: Csn
    name: Name
    country: CountryCode
    address: BookAddress
    pays_by_invoice: bool
    contacts: list[BookContact] = []


class BookOffering(_Entry):
    """Something sold on subscription."""

    code: CatalogueCode
    name: Name
    kind: Annotated[OfferingKind, _BY_VALUE]


class BookPrice(_Entry):
    """The new and renewal prices of an offering on one term in one currency."""

    offering: CatalogueCode
    term: Annotated[Term, _BY_VALUE]
    currency: CurrencyCode
    new: Annotated[Decimal, _AmountText(ge=0)]
    renewal: Annotated[Decimal, _AmountText(ge=0)]


class BookPromotion(_Entry):
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


class BookSubscription(_Entry):
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


class Book(_Entry):
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


# --- Problems --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookProblem:
    """One thing wrong in a book: where in the file ("subscriptions[3].customer") and why."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(top)'}: {self.message}"


class BookError(Exception):
    """A book refused whole, with every problem found in it."""

    def __init__(self, problems: Iterable[BookProblem]) -> None:
        self.problems = list(problems)
        listed = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(
            f"the book of business was refused ({len(self.problems)} problems):\n{listed}"
        )


# Given a section whose rows others refer to ("customers") and keys the file refers to but
# does not list, answer those already stored; a file may refer to what an earlier file loaded.
StoredKeys = Callable[[str, set[str]], set[str]]


def _nothing_stored(section: str, keys: set[str]) -> set[str]:
    return set()


def parse_book(data: object, *, stored: StoredKeys = _nothing_stored) -> Book:
    """Check a book of business parsed from JSON, or raise `BookError` with every problem."""
    if not isinstance(data, dict):
        raise BookError([BookProblem("", "a book of business is one JSON object")])
    try:
        book = Book.model_validate(data)
    except ValidationError as error:
        # Still judge the entries that are well formed, so one reading lists every problem.
        problems = _shape_problems(error.errors(include_url=False))
        problems += _cross_problems(_Entries.readable(data), stored)
        raise BookError(_in_file_order(problems)) from None
    problems = _cross_problems(_Entries.of(book), stored)
    if problems:
        raise BookError(_in_file_order(problems))
    return book


def _shape_problems(errors: Iterable[ErrorDetails]) -> list[BookProblem]:
    return [BookProblem(_path(error["loc"]), _reason(error)) for error in errors]


def _path(loc: Iterable[int | str]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _reason(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown section" if len(error["loc"]) == 1 else "unknown field"
    if kind == "missing":
        return "required"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "must be an object"
    if kind == "string_pattern_mismatch":
        return _PATTERN_MESSAGES.get(str(error.get("ctx", {}).get("pattern")), error["msg"])
    return error["msg"]


_SECTION_ORDER = {name: rank for rank, name in enumerate(Book.model_fields)}


def _in_file_order(problems: list[BookProblem]) -> list[BookProblem]:
    def place(problem: BookProblem) -> tuple[int, int]:
        found = re.match(r"(\w+)(?:\[(\d+)\])?", problem.path)
        if found is None:
            return (-1, -1)
        index = int(found[2]) if found[2] else -1
        return (_SECTION_ORDER.get(found[1], len(_SECTION_ORDER)), index)

    return sorted(problems, key=place)


# --- Checks across entries -------------------------------------------------------------------

E = TypeVar("E", bound=_Entry)
Listed = list[tuple[int, E]]


@dataclass(frozen=True, slots=True)
class _Referred:
    """A section other entries refer to: its table, the field naming an entry, what it is."""

    table: Table
    key: str
    what: str


_REFERRED = {
    "countries": _Referred(tables.countries, "code", "country"),
    "partners": _Referred(tables.partners, "csn", "partner"),
    "customers": _Referred(tables.customers, "csn", "customer"),
    "offerings": _Referred(tables.offerings, "code", "offering"),
}


# The fields of each section that name an entry of another section.
_REFERENCE_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "partners": (("country", "countries"),),
    "customers": (("country", "countries"),),
    "prices": (("offering", "offerings"),),
    "subscriptions": (
        ("customer", "customers"),
        ("offering", "offerings"),
        ("partner", "partners"),
    ),
}


@dataclass
class _Entries:
    """The well-formed entries of each section with their index in the file."""

    currencies: Listed[BookCurrency]
    countries: Listed[BookCountry]
    staff: Listed[BookUser]
    partners: Listed[BookPartner]
    customers: Listed[BookCustomer]
    offerings: Listed[BookOffering]
    prices: Listed[BookPrice]
    promotions: Listed[BookPromotion]
    subscriptions: Listed[BookSubscription]
    # Keys of malformed entries: already reported, so not reported again as unknown.
    malformed: dict[str, set[str]] = field(default_factory=dict)
    # References written as text in malformed entries: still checked, so one run lists all.
    loose_references: list[tuple[str, str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, book: Book) -> _Entries:
        return cls(
            list(enumerate(book.currencies)),
            list(enumerate(book.countries)),
            list(enumerate(book.staff)),
            list(enumerate(book.partners)),
            list(enumerate(book.customers)),
            list(enumerate(book.offerings)),
            list(enumerate(book.prices)),
            list(enumerate(book.promotions)),
            list(enumerate(book.subscriptions)),
        )

    @classmethod
    def readable(cls, data: Mapping[str, object]) -> _Entries:
        malformed: dict[str, set[str]] = {}
        loose: list[tuple[str, str, str]] = []

        def valid(section: str, model: type[E]) -> Listed[E]:
            raw = data.get(section)
            found: Listed[E] = []
            for index, item in enumerate(raw if isinstance(raw, list) else []):
                try:
                    found.append((index, model.model_validate(item)))
                except ValidationError:
                    referred = _REFERRED.get(section)
                    key = item.get(referred.key) if referred and isinstance(item, dict) else None
                    # A CSN written as a number is reported once, not again on every reference.
                    if isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool)):
                        malformed.setdefault(section, set()).add(str(key))
                    for name, target in _REFERENCE_FIELDS.get(section, ()):
                        value = item.get(name) if isinstance(item, dict) else None
                        if isinstance(value, str):
                            loose.append((f"{section}[{index}].{name}", target, value))
            return found

        return cls(
            valid("currencies", BookCurrency),
            valid("countries", BookCountry),
            valid("staff", BookUser),
            valid("partners", BookPartner),
            valid("customers", BookCustomer),
            valid("offerings", BookOffering),
            valid("prices", BookPrice),
            valid("promotions", BookPromotion),
            valid("subscriptions", BookSubscription),
            malformed,
            loose,
        )


K = TypeVar("K", bound=Hashable)


def _listed_once(
    problems: list[BookProblem],
    section: str,
    entries: Listed[E],
    key: Callable[[E], K],
    field_name: str | None,
    what: str,
) -> set[K]:
    first: dict[K, int] = {}
    for index, entry in entries:
        value = key(entry)
        if value in first:
            place = f"{section}[{index}]" + (f".{field_name}" if field_name else "")
            shown = " ".join(value) if isinstance(value, tuple) else value
            problems.append(
                BookProblem(place, f"{what} {shown} is already listed at {section}[{first[value]}]")
            )
        else:
            first[value] = index
    return set(first)


@dataclass
class _References:
    """References to other entries, resolved against the file and then the database at once."""

    known: dict[str, set[str]]
    wanted: list[tuple[str, str, str]] = field(default_factory=list)

    def need(self, path: str, section: str, key: str) -> None:
        if key not in self.known[section]:
            self.wanted.append((path, section, key))

    def problems(self, stored: StoredKeys) -> list[BookProblem]:
        missing: dict[str, set[str]] = {}
        for _, section, key in self.wanted:
            missing.setdefault(section, set()).add(key)
        found = {section: stored(section, keys) for section, keys in missing.items()}
        return [
            BookProblem(path, f"no {_REFERRED[section].what} {key} in this book or loaded before")
            for path, section, key in self.wanted
            if key not in found[section]
        ]


def _cross_problems(entries: _Entries, stored: StoredKeys) -> list[BookProblem]:
    problems: list[BookProblem] = []
    once = partial(_listed_once, problems)
    defined = {
        "countries": once("countries", entries.countries, lambda c: c.code, "code", "country"),
        "partners": once("partners", entries.partners, lambda p: p.csn, "csn", "partner CSN"),
        "customers": once("customers", entries.customers, lambda c: c.csn, "csn", "customer CSN"),
        "offerings": once("offerings", entries.offerings, lambda o: o.code, "code", "offering"),
    }
    once("currencies", entries.currencies, lambda c: c.code, "code", "currency")
    once("prices", entries.prices, lambda p: (p.offering, p.term, p.currency), None, "a price for")
    once("promotions", entries.promotions, lambda p: p.code, "code", "promotion")
    once("subscriptions", entries.subscriptions, lambda s: s.id, "id", "subscription")
    for section, keys in entries.malformed.items():
        defined[section] |= keys
    references = _References(defined)
    for path, section, key in entries.loose_references:
        references.need(path, section, key)

    problems += _email_problems(entries)
    for index, partner in entries.partners:
        references.need(f"partners[{index}].country", "countries", partner.country)
    for index, customer in entries.customers:
        references.need(f"customers[{index}].country", "countries", customer.country)
    for index, price in entries.prices:
        references.need(f"prices[{index}].offering", "offerings", price.offering)
        if price.renewal > price.new:
            problems.append(
                BookProblem(
                    f"prices[{index}].renewal",
                    f"the renewal price {price.renewal} is above the new price {price.new}",
                )
            )
    for index, promotion in entries.promotions:
        problems += _promotion_problems(f"promotions[{index}]", promotion, references)
    for index, subscription in entries.subscriptions:
        problems += _subscription_problems(f"subscriptions[{index}]", subscription, references)
    return problems + references.problems(stored)


def _email_problems(entries: _Entries) -> list[BookProblem]:
    # One person signs in as one kind of user: an address may appear once in the whole book.
    places = [(f"staff[{i}].email", staff.email) for i, staff in entries.staff]
    for i, partner in entries.partners:
        places += [
            (f"partners[{i}].users[{j}].email", u.email) for j, u in enumerate(partner.users)
        ]
    for i, customer in entries.customers:
        places += [
            (f"customers[{i}].contacts[{j}].email", c.email)
            for j, c in enumerate(customer.contacts)
        ]
    first: dict[str, str] = {}
    problems = []
    for place, email in places:
        seen = first.setdefault(email, place)
        if seen != place:
            problems.append(BookProblem(place, f"e-mail {email} is already used at {seen}"))
    return problems


def _promotion_problems(
    path: str, promotion: BookPromotion, references: _References
) -> list[BookProblem]:
    problems = []
    if (promotion.percent_off is None) == (promotion.amount_off is None):
        problems.append(BookProblem(path, "give exactly one of percent_off and amount_off"))
    if promotion.amount_off is not None and not promotion.currencies:
        problems.append(
            BookProblem(f"{path}.currencies", "an amount off names the currencies it is in")
        )
    if promotion.starts and promotion.ends and promotion.ends < promotion.starts:
        problems.append(BookProblem(f"{path}.ends", "ends before it starts"))
    for j, code in enumerate(promotion.offerings):
        references.need(f"{path}.offerings[{j}]", "offerings", code)
    for j, country in enumerate(promotion.countries):
        references.need(f"{path}.countries[{j}]", "countries", country)
    return problems


def _subscription_problems(
    path: str, subscription: BookSubscription, references: _References
) -> list[BookProblem]:
    problems = []
    references.need(f"{path}.customer", "customers", subscription.customer)
    references.need(f"{path}.offering", "offerings", subscription.offering)
    through_partner = subscription.purchase_method is PurchaseMethod.PARTNER
    if subscription.partner is not None:
        references.need(f"{path}.partner", "partners", subscription.partner)
        if not through_partner:
            problems.append(BookProblem(f"{path}.partner", "a direct purchase has no partner"))
    elif through_partner:
        problems.append(
            BookProblem(f"{path}.partner", "a partner purchase names its reseller of record")
        )
    if subscription.end_date < subscription.start_date:
        problems.append(BookProblem(f"{path}.end_date", "ends before it starts"))
    return problems


# --- Writing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowCounts:
    """What a load did to one table."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: RowCounts) -> RowCounts:
        return RowCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


@dataclass(frozen=True, slots=True)
class LoadReport:
    """How many rows of each table a load inserted, updated and left unchanged."""

    counts: Mapping[str, RowCounts]

    @property
    def total(self) -> RowCounts:
        """Return the counts summed over every table."""
        return sum(self.counts.values(), RowCounts())

    def __str__(self) -> str:
        total = self.total
        changes = [
            f"{name}: {counts.inserted} inserted, {counts.updated} updated"
            for name, counts in self.counts.items()
            if counts.inserted or counts.updated
        ]
        detail = f" ({'; '.join(changes)})" if changes else ""
        return (
            f"{total.inserted} rows inserted, {total.updated} updated, "
            f"{total.unchanged} unchanged{detail}"
        )


def load_book(db: Database, data: object, *, hasher: PasswordHasher = PASSWORDS) -> LoadReport:
    """Load a book of business in one transaction, or refuse it whole with `BookError`."""
    with db.write() as conn:
        book = parse_book(data, stored=_stored_keys(conn))
        return LoadReport(
            {
                "countries": _upsert(conn, tables.countries, _country_rows(book)),
                "currencies": _save_currencies(conn, book),
                "offerings": _upsert(conn, tables.offerings, _offering_rows(book)),
                "partners": _upsert(conn, tables.partners, _partner_rows(book)),
                "customers": _upsert(conn, tables.customers, _customer_rows(book)),
                "users": _save_users(conn, book, hasher),
                "prices": _upsert(conn, tables.prices, _price_rows(book)),
                "promotions": _upsert(conn, tables.promotions, _promotion_rows(book)),
                "subscriptions": _upsert(conn, tables.subscriptions, _subscription_rows(book)),
            }
        )


Values = dict[str, Any]


def _country_rows(book: Book) -> list[Values]:
    return [
        {
            "code": c.code,
            "self_service_quotes": c.self_service_quotes,
            "tax_rate": c.tax_rate,
            "language": c.language,
        }
        for c in book.countries
    ]


def _offering_rows(book: Book) -> list[Values]:
    return [{"code": o.code, "name": o.name, "kind": o.kind.value} for o in book.offerings]


def _partner_rows(book: Book) -> list[Values]:
    return [{"csn": p.csn, "name": p.name, "country": p.country} for p in book.partners]


def _customer_rows(book: Book) -> list[Values]:
    return [
        {
            "csn": c.csn,
            "name": c.name,
            "country": c.country,
            "address_line1": c.address.line1,
            "address_line2": c.address.line2,
            "city": c.address.city,
            "postal_code": c.address.postal_code,
            "pays_by_invoice": c.pays_by_invoice,
        }
        for c in book.customers
    ]


def _price_rows(book: Book) -> list[Values]:
    return [
        {
            "offering_code": p.offering,
            "term": p.term.value,
            "currency": p.currency,
            "new_price": p.new,
            "renewal_price": p.renewal,
        }
        for p in book.prices
    ]


def _promotion_rows(book: Book) -> list[Values]:
    return [
        {
            "code": p.code,
            "name": p.name,
            "percent_off": p.percent_off,
            "amount_off": p.amount_off,
            "starts": p.starts,
            "ends": p.ends,
            "offerings": list(p.offerings),
            "terms": [term.value for term in p.terms],
            "currencies": list(p.currencies),
            "countries": list(p.countries),
            "quote_types": [kind.value for kind in p.quote_types],
        }
        for p in book.promotions
    ]


def _subscription_rows(book: Book) -> list[Values]:
    return [
        {
            "id": s.id,
            "customer_csn": s.customer,
            "offering_code": s.offering,
            "quantity": s.quantity,
            "term": s.term.value,
            "currency": s.currency,
            "purchase_method": s.purchase_method.value,
            "partner_csn": s.partner,
            "start_date": s.start_date,
            "end_date": s.end_date,
            "status": s.status.value,
            "payment_method": s.payment_method.value,
            "auto_renew": s.auto_renew,
        }
        for s in book.subscriptions
    ]


def _save_currencies(conn: Connection, book: Book) -> RowCounts:
    listed = [
        {
            "code": c.code,
            # A limit left out is the default one; an explicit null is no limit at all.
            "card_limit": c.card_limit
            if "card_limit" in c.model_fields_set
            else DEFAULT_CARD_LIMITS.get(c.code),
        }
        for c in book.currencies
    ]
    referred = {s.currency for s in book.subscriptions} | {p.currency for p in book.prices}
    referred.update(code for p in book.promotions for code in p.currencies)
    referred -= {c.code for c in book.currencies}
    unlisted = [{"code": code, "card_limit": DEFAULT_CARD_LIMITS.get(code)} for code in referred]
    # A currency only referred to keeps whatever limit an earlier book gave it.
    return _upsert(conn, tables.currencies, listed) + _upsert(
        conn, tables.currencies, sorted(unlisted, key=lambda row: row["code"]), overwrite=False
    )


def _save_users(conn: Connection, book: Book, hasher: PasswordHasher) -> RowCounts:
    people: list[tuple[Values, str | None]] = [
        (_user(s.email, s.name, "staff"), s.password) for s in book.staff
    ]
    for p in book.partners:
        people += [(_user(u.email, u.name, "partner", partner=p.csn), u.password) for u in p.users]
    for c in book.customers:
        people += [
            (_user(u.email, u.name, "customer", role=u.role, customer=c.csn), u.password)
            for u in c.contacts
        ]
    emails = [row["email"] for row, _ in people]
    kept = {
        email: password_hash
        for email, password_hash in _stored(
            conn, tables.users, ["email", "password_hash"], "email", emails
        )
    }
    rows = [
        row | {"password_hash": _password_hash(hasher, password, kept.get(row["email"]))}
        for row, password in people
    ]
    return _upsert(conn, tables.users, rows, key=("email",))


def _user(
    email: str,
    name: str,
    kind: str,
    *,
    role: ContactRole | None = None,
    customer: str | None = None,
    partner: str | None = None,
) -> Values:
    return {
        "email": email,
        "name": name,
        "kind": kind,
        "role": role.value if role else None,
        "customer_csn": customer,
        "partner_csn": partner,
    }


def _password_hash(hasher: PasswordHasher, password: str | None, kept: str | None) -> str | None:
    # Hashing is slow on purpose and salted: re-hashing an unchanged password would cost time
    # and make a second load of the same file look like a change.
    if password is None:
        return None
    if kept is not None:
        try:
            if hasher.verify(kept, password) and not hasher.check_needs_rehash(kept):
                return kept
        except (VerificationError, InvalidHashError):
            pass
    return hasher.hash(password)


def _stored_keys(conn: Connection) -> StoredKeys:
    def stored(section: str, keys: set[str]) -> set[str]:
        referred = _REFERRED[section]
        found = _stored(conn, referred.table, [referred.key], referred.key, keys)
        return {key for (key,) in found}

    return stored


def _stored(
    conn: Connection, table: Table, names: Sequence[str], match: str, keys: Iterable[Any]
) -> list[tuple[Any, ...]]:
    """Return the columns `names` of the stored rows whose column `match` is among `keys`."""
    wanted = sorted(set(keys))
    query = select(*(table.c[name] for name in names))
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(wanted), _BATCH):
        batch = conn.execute(query.where(table.c[match].in_(wanted[start : start + _BATCH])))
        found += map(tuple, batch)
    return found


def _upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[Values],
    *,
    key: Sequence[str] = (),
    overwrite: bool = True,
) -> RowCounts:
    """Insert the `rows` the table lacks and update those that differ, matched on `key`.

    `key` is the natural key, the primary key by default; `overwrite=False` only inserts.
    """
    if not rows:
        return RowCounts()
    # Every row was built by one comprehension: same columns, same order.
    names = list(rows[0])
    width = len(names)
    primary = [column.name for column in table.primary_key.columns]
    natural = [names.index(name) for name in key or primary]
    decimals = [i for i, name in enumerate(names) if isinstance(table.c[name].type, ExactDecimal)]
    found = _stored(
        conn, table, [*names, *primary], names[natural[0]], [r[names[natural[0]]] for r in rows]
    )
    stored = {tuple(old[i] for i in natural): old for old in found}
    fresh: list[Values] = []
    changed: list[Values] = []
    unchanged = 0
    for row in rows:
        given = tuple(row.values())
        old = stored.get(tuple(given[i] for i in natural))
        if old is None:
            fresh.append(row)
        elif not overwrite or _same(old[:width], given, decimals):
            unchanged += 1
        else:
            changed.append(
                row | {f"stored_{n}": v for n, v in zip(primary, old[width:], strict=True)}
            )
    if fresh:
        conn.execute(insert(table), fresh)
    if changed:
        where = and_(
            *(table.c[n] == bindparam(f"stored_{n}", type_=table.c[n].type) for n in primary)
        )
        conn.execute(update(table).where(where), changed)
    return RowCounts(len(fresh), len(changed), unchanged)


def _same(stored: tuple[Any, ...], given: tuple[Any, ...], decimals: Iterable[int]) -> bool:
    # "460.0" and "460.00" are equal numbers but not the same text: keep what the file says.
    return stored == given and all(str(stored[i]) == str(given[i]) for i in decimals)
