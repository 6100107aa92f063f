"""Checking a book of business whole: its shape, then every rule across its entries.

A bad file is refused with every problem and its place in the file, so that one reading lists
them all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from heapq import merge
from operator import attrgetter, itemgetter
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from renewquote.domain.model import PurchaseMethod
from renewquote.domain.money import minor_unit_exponent
from renewquote.services.book.schema import (
    Book,
    BookContact,
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
    entry_in_part,
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
        # Still judge every field that parsed, so that one reading lists every problem.
        errors = error.errors(include_url=False)
        problems = _shape_problems(errors)
        problems += _cross_problems(_Entries.readable(data, _malformed(errors)), stored)
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
            # An unknown field's name is the file's text: shown, not passed on raw to a terminal.
            name = part.replace("\x00", "\\x00")
            path += f".{name}" if path else name
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

# Where a malformed book's errors are: section -> index -> field -> ... as pydantic places them.
# An empty node is wrong itself (a section that is not a list, an entry that is not an object);
# a node with children is wrong in those children only.
_Malformed = dict[str | int, "_Malformed"]


def _malformed(errors: Iterable[ErrorDetails]) -> _Malformed:
    tree: _Malformed = {}
    for error in errors:
        node = tree
        for part in error["loc"]:
            node = node.setdefault(part, {})
    return tree


@dataclass(frozen=True, slots=True)
class _Section(Generic[E]):
    """The entries of one list of the book ("subscriptions"), each with its index in it.

    `whole` entries parsed entirely. Each of `part` is a malformed entry built from the fields
    that parsed, with the names of those that did not: a check runs on every entry whose
    fields it reads all parsed, so that one reading lists every problem.
    """

    name: str
    whole: list[tuple[int, E]]
    part: list[tuple[int, E, frozenset[str]]] = field(default_factory=list)

    @classmethod
    def read(
        cls, name: str, model: type[E], raw: object, malformed: _Malformed | None
    ) -> _Section[E]:
        """Read the list `raw` of a book that did not parse whole, `malformed` its errors."""
        if not isinstance(raw, list) or malformed == {}:
            return cls(name, [])
        wrong = malformed or {}
        fine = [index for index in range(len(raw)) if index not in wrong]
        # The well-formed entries in one validation, however many; the others field by field.
        parsed = _entry_list(model).validate_python([raw[index] for index in fine])
        part = [
            (index, entry_in_part(model, raw[index], map(str, names)), frozenset(map(str, names)))
            for index, names in wrong.items()
            if isinstance(index, int) and names and isinstance(raw[index], dict)
        ]
        return cls(name, list(zip(fine, parsed, strict=True)), sorted(part, key=itemgetter(0)))

    def having(self, *fields: str) -> list[tuple[int, E]]:
        """Return the entries whose `fields` all parsed, in file order."""
        if not self.part:
            return self.whole
        needed = set(fields)
        usable = [(index, entry) for index, entry, wrong in self.part if needed.isdisjoint(wrong)]
        return list(merge(self.whole, usable, key=itemgetter(0)))


@cache
def _entry_list(model: type[Entry]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _whole(name: str, entries: Iterable[E]) -> _Section[E]:
    return _Section(name, list(enumerate(entries)))


def _people(entries: _Section[Any], name: str) -> dict[int, _Section[Any]]:
    """Return the users or contacts (`name`) of each entry whose list of them parsed."""
    return {
        index: _whole(f"{entries.name}[{index}].{name}", getattr(entry, name))
        for index, entry in entries.having(name)
    }


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


@dataclass(frozen=True, slots=True)
class _Entries:
    """The entries of a book, section by section, as far as they parsed."""

    currencies: _Section[BookCurrency]
    countries: _Section[BookCountry]
    staff: _Section[BookUser]
    partners: _Section[BookPartner]
    customers: _Section[BookCustomer]
    offerings: _Section[BookOffering]
    prices: _Section[BookPrice]
    promotions: _Section[BookPromotion]
    subscriptions: _Section[BookSubscription]
    # Everyone with an e-mail: the staff, then each partner's users and each customer's contacts.
    people: list[_Section[Any]]
    # Keys that are themselves malformed: reported once, not again on every reference to them.
    unreadable_keys: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, book: Book) -> _Entries:
        """Take the entries of a book that parsed whole."""
        staff = _whole("staff", book.staff)
        partners = _whole("partners", book.partners)
        customers = _whole("customers", book.customers)
        return cls(
            _whole("currencies", book.currencies),
            _whole("countries", book.countries),
            staff,
            partners,
            customers,
            _whole("offerings", book.offerings),
            _whole("prices", book.prices),
            _whole("promotions", book.promotions),
            _whole("subscriptions", book.subscriptions),
            [
                staff,
                *_people(partners, "users").values(),
                *_people(customers, "contacts").values(),
            ],
        )

    @classmethod
    def readable(cls, data: Mapping[str, Any], malformed: _Malformed) -> _Entries:
        """Read what parses of a malformed book; `malformed` says where its errors are."""

        def read(name: str, model: type[E]) -> _Section[E]:
            return _Section.read(name, model, data.get(name, []), malformed.get(name))

        def people(entries: _Section[Any], name: str, model: type[Entry]) -> list[_Section[Any]]:
            found = _people(entries, name)
            for index, _, wrong in entries.part:
                if name in wrong:
                    raw = data[entries.name][index].get(name)
                    place = f"{entries.name}[{index}].{name}"
                    where = malformed[entries.name][index][name]
                    found[index] = _Section.read(place, model, raw, where)
            return [found[index] for index in sorted(found)]

        def unreadable_keys(entries: _Section[Any]) -> set[str]:
            key = _REFERRED[entries.name].key
            written = [
                data[entries.name][i].get(key) for i, _, wrong in entries.part if key in wrong
            ]
            # A CSN written as a number is reported once, not again on every reference.
            return {str(k) for k in written if isinstance(k, str | int) and not isinstance(k, bool)}

        staff = read("staff", BookUser)
        partners = read("partners", BookPartner)
        customers = read("customers", BookCustomer)
        countries = read("countries", BookCountry)
        offerings = read("offerings", BookOffering)
        return cls(
            read("currencies", BookCurrency),
            countries,
            staff,
            partners,
            customers,
            offerings,
            read("prices", BookPrice),
            read("promotions", BookPromotion),
            read("subscriptions", BookSubscription),
            [
                staff,
                *people(partners, "users", BookUser),
                *people(customers, "contacts", BookContact),
            ],
            {s.name: unreadable_keys(s) for s in (countries, partners, customers, offerings)},
        )


def _cross_problems(entries: _Entries, stored: StoredKeys) -> list[BookProblem]:
    problems: list[BookProblem] = []
    defined = {
        "countries": _listed_once(problems, entries.countries, "code", "country"),
        "partners": _listed_once(problems, entries.partners, "csn", "partner CSN"),
        "customers": _listed_once(problems, entries.customers, "csn", "customer CSN"),
        "offerings": _listed_once(problems, entries.offerings, "code", "offering"),
    }
    _listed_once(problems, entries.currencies, "code", "currency")
    _listed_once(problems, entries.prices, ("offering", "term", "currency"), "a price for")
    _listed_once(problems, entries.promotions, "code", "promotion")
    _listed_once(problems, entries.subscriptions, "id", "subscription")
    for section, keys in entries.unreadable_keys.items():
        defined[section] |= keys
    references = _References(defined)

    problems += _email_problems(entries.people)
    references.need(entries.partners, "country", "countries")
    references.need(entries.customers, "country", "countries")
    references.need(entries.prices, "offering", "offerings")
    problems += _currency_problems(entries.currencies)
    problems += _price_problems(entries.prices)
    problems += _promotion_problems(entries.promotions, references)
    problems += _subscription_problems(entries.subscriptions, references)
    return problems + references.problems(stored)


def _listed_once(
    problems: list[BookProblem], entries: _Section[E], key: str | tuple[str, ...], what: str
) -> set[Any]:
    fields = (key,) if isinstance(key, str) else key
    value_of = attrgetter(*fields)
    rows = entries.having(*fields)
    values = set(map(value_of, map(itemgetter(1), rows)))
    if len(values) == len(rows):  # the usual case, found without a Python loop
        return values
    first: dict[Any, int] = {}
    for index, entry in rows:
        value = value_of(entry)
        seen = first.setdefault(value, index)
        if seen != index:
            place = f"{entries.name}[{index}]" + (f".{key}" if isinstance(key, str) else "")
            shown = " ".join(value) if isinstance(value, tuple) else value
            listed = f"{what} {shown} is already listed at {entries.name}[{seen}]"
            problems.append(BookProblem(place, listed))
    return set(first)


@dataclass
class _References:
    """References to other entries, resolved against the file and then the database at once."""

    known: dict[str, set[str]]
    wanted: list[tuple[str, str, str]] = field(default_factory=list)

    def need(self, entries: _Section[Any], name: str, section: str) -> None:
        """Want the field `name` of each of `entries`, where given, to name one of `section`."""
        known = self.known[section]
        value_of = attrgetter(name)
        rows = entries.having(name)
        if set(map(value_of, map(itemgetter(1), rows))) - known <= {None}:
            return  # the usual case, found without a Python loop
        for index, entry in rows:
            key = value_of(entry)
            if key is not None and key not in known:
                self.wanted.append((f"{entries.name}[{index}].{name}", section, key))

    def need_each(self, path: str, keys: Iterable[str], section: str) -> None:
        """Want each of the list `keys` at `path` to name one of `section`."""
        known = self.known[section]
        self.wanted += [(f"{path}[{j}]", section, k) for j, k in enumerate(keys) if k not in known]

    def problems(self, stored: StoredKeys) -> list[BookProblem]:
        """Return a problem for each key neither in the file nor `stored`."""
        missing: dict[str, set[str]] = {}
        for _, section, key in self.wanted:
            missing.setdefault(section, set()).add(key)
        found = {section: stored(section, keys) for section, keys in missing.items()}
        return [
            BookProblem(path, f"no {_REFERRED[section].what} {key} in this book or loaded before")
            for path, section, key in self.wanted
            if key not in found[section]
        ]


def _email_problems(people: Iterable[_Section[Any]]) -> list[BookProblem]:
    # One person signs in as one kind of user: an address may appear once in the whole book.
    first: dict[str, str] = {}
    problems = []
    for entries in people:
        for index, person in entries.having("email"):
            place = f"{entries.name}[{index}].email"
            seen = first.setdefault(person.email, place)
            if seen != place:
                problems.append(
                    BookProblem(place, f"e-mail {person.email} is already used at {seen}")
                )
    return problems


def _finer_than_minor_unit(path: str, amount: Decimal | None, currency: str) -> list[BookProblem]:
    # No quote, card or invoice can carry such an amount: "495.005" euros, "100.5" yen.
    unit = minor_unit_exponent(currency)
    if amount is None or amount % unit == 0:
        return []
    return [BookProblem(path, f"{amount} is finer than the minor unit of {currency} ({unit})")]


def _currency_problems(currencies: _Section[BookCurrency]) -> list[BookProblem]:
    problems = []
    for index, currency in currencies.having("code", "card_limit"):
        place = f"currencies[{index}].card_limit"
        problems += _finer_than_minor_unit(place, currency.card_limit, currency.code)
    return problems


def _price_problems(prices: _Section[BookPrice]) -> list[BookProblem]:
    problems = [
        BookProblem(
            f"prices[{index}].renewal",
            f"the renewal price {price.renewal} is above the new price {price.new}",
        )
        for index, price in prices.having("new", "renewal")
        if price.renewal > price.new
    ]
    for name in ("new", "renewal"):
        for index, price in prices.having("currency", name):
            place = f"prices[{index}].{name}"
            problems += _finer_than_minor_unit(place, getattr(price, name), price.currency)
    return problems


def _promotion_problems(
    promotions: _Section[BookPromotion], references: _References
) -> list[BookProblem]:
    problems = []
    for index, promotion in promotions.having("percent_off", "amount_off"):
        if (promotion.percent_off is None) == (promotion.amount_off is None):
            problems.append(
                BookProblem(
                    f"promotions[{index}]", "give exactly one of percent_off and amount_off"
                )
            )
    for index, promotion in promotions.having("amount_off", "currencies"):
        if promotion.amount_off is not None and not promotion.currencies:
            problems.append(
                BookProblem(
                    f"promotions[{index}].currencies", "an amount off names the currencies it is in"
                )
            )
    for index, promotion in promotions.having("starts", "ends"):
        if promotion.starts and promotion.ends and promotion.ends < promotion.starts:
            problems.append(BookProblem(f"promotions[{index}].ends", "ends before it starts"))
    for index, promotion in promotions.having("amount_off", "currencies"):
        # An amount off per seat is taken in each of the promotion's currencies.
        for currency in promotion.currencies:
            place = f"promotions[{index}].amount_off"
            problems += _finer_than_minor_unit(place, promotion.amount_off, currency)
    for index, promotion in promotions.having("offerings"):
        references.need_each(f"promotions[{index}].offerings", promotion.offerings, "offerings")
    for index, promotion in promotions.having("countries"):
        references.need_each(f"promotions[{index}].countries", promotion.countries, "countries")
    return problems


def _subscription_problems(
    subscriptions: _Section[BookSubscription], references: _References
) -> list[BookProblem]:
    references.need(subscriptions, "customer", "customers")
    references.need(subscriptions, "offering", "offerings")
    references.need(subscriptions, "partner", "partners")
    problems = []
    for index, subscription in subscriptions.having("purchase_method", "partner"):
        through_partner = subscription.purchase_method is PurchaseMethod.PARTNER
        if subscription.partner is not None and not through_partner:
            problems.append(
                BookProblem(f"subscriptions[{index}].partner", "a direct purchase has no partner")
            )
        elif subscription.partner is None and through_partner:
            problems.append(
                BookProblem(
                    f"subscriptions[{index}].partner",
                    "a partner purchase names its reseller of record",
                )
            )
    for index, subscription in subscriptions.having("start_date", "end_date"):
        if subscription.end_date < subscription.start_date:
            problems.append(
                BookProblem(f"subscriptions[{index}].end_date", "ends before it starts")
            )
    return problems
