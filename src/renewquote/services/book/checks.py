"""Checking a book of business whole: its shape, then every rule across its entries.

A bad file is refused with every problem and its place in the file, so that one reading lists
them all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from renewquote.domain.model import PurchaseMethod
from renewquote.services.book.schema import (
    Book,
    BookCountry,
    BookCurrency,
    BookCustomer,
    BookOffering,
    BookPartner,
    BookPrice,
    BookPromotion,
    BookSubscription,
    BookUser,
    Entry,
)


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


E = TypeVar("E", bound=Entry)
Listed = list[tuple[int, E]]


@dataclass(frozen=True, slots=True)
class _Referred:
    """A section other entries refer to: the field naming an entry, and what it is."""

    key: str
    what: str


_REFERRED = {
    "countries": _Referred("code", "country"),
    "partners": _Referred("csn", "partner"),
    "customers": _Referred("csn", "customer"),
    "offerings": _Referred("code", "offering"),
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
