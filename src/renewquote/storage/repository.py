"""Reading the book of business into the domain's frozen values, a few queries per use case.

Every function takes the caller's connection and returns domain values (a `Customer`, a
`Subscription`, a `Candidate`...): rows are built by column name, dates are dates and codes
are the domain's enums on SQLite as on PostgreSQL. Access rules come in as SQL conditions from
`services.access`; this module has none of its own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    update,
)

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.grouping import Candidate
from renewquote.domain.model import (
    Customer,
    LineKind,
    OfferingKind,
    PaymentMethod,
    Price,
    Promotion,
    PurchaseMethod,
    Subscription,
    SubscriptionStatus,
    Term,
)
from renewquote.domain.quotes import Address
from renewquote.domain.quoting import Offering
from renewquote.storage.conditions import EVERYTHING, Built, Condition
from renewquote.storage.tables import (
    countries,
    currencies,
    customers,
    data_versions,
    offerings,
    partners,
    prices,
    promotions,
    subscriptions,
    users,
)
from renewquote.storage.types import AnyRow, EnumText

# Columns read as the domain's enums (see `EnumText`).
_TERM = type_coerce(subscriptions.c.term, EnumText(Term)).label("term")
_STATUS = type_coerce(subscriptions.c.status, EnumText(SubscriptionStatus)).label("status")
_METHOD = type_coerce(subscriptions.c.purchase_method, EnumText(PurchaseMethod)).label(
    "purchase_method"
)
_PAYMENT = type_coerce(subscriptions.c.payment_method, EnumText(PaymentMethod)).label(
    "payment_method"
)
_KIND = type_coerce(offerings.c.kind, EnumText(OfferingKind)).label("offering_kind")
_PRICE_TERM = type_coerce(prices.c.term, EnumText(Term)).label("price_term")
_BUILT = Built()


# Customers -----------------------------------------------------------------------------------

_CUSTOMER_COLUMNS = (
    customers.c.csn,
    customers.c.name,
    customers.c.country,
    customers.c.address_line1,
    customers.c.address_line2,
    customers.c.city,
    customers.c.postal_code,
    customers.c.pays_by_invoice,
    customers.c.tax_id,
    countries.c.self_service_quotes,
    countries.c.tax_rate,
    countries.c.language,
)


_CUSTOMER_WIDTH = len(_CUSTOMER_COLUMNS)


def _customer(row: AnyRow) -> Customer:
    return Customer(
        csn=row.csn,
        name=row.name,
        country=row.country,
        self_service_enabled=bool(row.self_service_quotes),
        tax_rate=row.tax_rate,
        pays_by_invoice=bool(row.pays_by_invoice),
        language=row.language,
        tax_id=row.tax_id,
    )


def _address(row: AnyRow) -> Address:
    return Address(
        line1=row.address_line1,
        line2=row.address_line2,
        city=row.city,
        postal_code=row.postal_code,
        country=row.country,
    )


def customer(
    conn: Connection, csn: str, *, reachable: Condition = EVERYTHING
) -> tuple[Customer, Address]:
    """Return the customer `csn` with its country's rules and its billing address, or
    `not_found` when there is none or `reachable` (the caller's access) excludes it."""

    def build() -> Select[Any]:
        return (
            select(*_CUSTOMER_COLUMNS)
            .join(countries, countries.c.code == customers.c.country)
            .where(customers.c.csn == bindparam("csn"), reachable.clause)
        )

    query = _BUILT.get(("customer", reachable.name), build)
    row = conn.execute(query, {"csn": csn, **reachable.params}).first()
    if row is None:
        raise RuleViolation.one(Code.NOT_FOUND, thing="customer")
    return _customer(row), _address(row)


def customers_by_csn(conn: Connection, csns: Collection[str]) -> dict[str, Customer]:
    """Return the customers among `csns`, with their country's rules, in one query."""
    if not csns:
        return {}
    return {row.csn: _customer(row) for row in conn.execute(_CUSTOMERS, {"csns": sorted(csns)})}


_CUSTOMERS = (
    select(*_CUSTOMER_COLUMNS)
    .join(countries, countries.c.code == customers.c.country)
    .where(customers.c.csn.in_(bindparam("csns", expanding=True)))
)


def names_of(conn: Connection, emails: Collection[str]) -> dict[str, str]:
    """Return the names of the users among `emails` (lower-cased addresses)."""
    if not emails:
        return {}
    rows = conn.execute(_NAMES, {"emails": sorted({e.lower() for e in emails})})
    return {row.email: row.name for row in rows}


_NAMES = select(func.lower(users.c.email).label("email"), users.c.name).where(
    func.lower(users.c.email).in_(bindparam("emails", expanding=True))
)


def contact_emails(conn: Connection, customer_csn: str) -> frozenset[str]:
    """Return the lower-cased e-mails of the customer's contacts."""
    return frozenset(conn.execute(_CONTACT_EMAILS, {"csn": customer_csn}).scalars())


_CONTACT_EMAILS = select(func.lower(users.c.email)).where(users.c.customer_csn == bindparam("csn"))


def partner_name(conn: Connection, csn: str) -> str | None:
    """Return the partner's name, or None if there is no such partner."""
    return conn.execute(select(partners.c.name).where(partners.c.csn == csn)).scalar_one_or_none()


def card_limit(conn: Connection, currency: str) -> Decimal | None:
    """Return the card and PayPal limit of `currency`, or None when it has none."""
    return conn.execute(_CARD_LIMIT, {"currency": currency}).scalar_one_or_none()


_CARD_LIMIT = select(currencies.c.card_limit).where(currencies.c.code == bindparam("currency"))


# Subscriptions -------------------------------------------------------------------------------

# The fields of `Subscription`, in its order.
SUBSCRIPTION_COLUMNS = (
    subscriptions.c.id,
    subscriptions.c.customer_csn,
    subscriptions.c.offering_code,
    offerings.c.name.label("offering_name"),
    _KIND,
    subscriptions.c.quantity,
    _TERM,
    subscriptions.c.currency,
    _METHOD,
    subscriptions.c.partner_csn,
    subscriptions.c.start_date,
    subscriptions.c.end_date,
    _STATUS,
    _PAYMENT,
    subscriptions.c.auto_renew,
    subscriptions.c.renewed_by_order,
)
_WITH_OFFERING = subscriptions.join(offerings, offerings.c.code == subscriptions.c.offering_code)


def _subscription(row: AnyRow) -> Subscription:
    # The columns are the fields of `Subscription`, in its order (a test keeps them so).
    return Subscription(*row[:_SUBSCRIPTION_WIDTH])


_SUBSCRIPTION_WIDTH = len(SUBSCRIPTION_COLUMNS)


def subscriptions_by_id(
    conn: Connection,
    ids: Collection[str],
    *,
    visible: Condition = EVERYTHING,
    lock: bool = False,
) -> dict[str, Subscription]:
    """Return the subscriptions among `ids` that `visible` lets through, locked if asked."""
    if not ids:
        return {}

    def build() -> Select[Any]:
        query = (
            select(*SUBSCRIPTION_COLUMNS)
            .select_from(_WITH_OFFERING)
            .where(subscriptions.c.id.in_(bindparam("ids", expanding=True)), visible.clause)
        )
        if lock:
            # Lock in id order so two checkouts never wait on each other in a circle.
            query = query.order_by(subscriptions.c.id).with_for_update(of=subscriptions)
        return query

    query = _BUILT.get(("subscriptions", visible.name, lock), build)
    rows = conn.execute(query, {"ids": sorted(ids), **visible.params})
    return {row.id: _subscription(row) for row in rows}


@dataclass(frozen=True, slots=True)
class SubscriptionFilters:
    """What a list of subscriptions may be narrowed to."""

    customer_csn: str | None = None
    status: SubscriptionStatus | None = None
    currency: str | None = None
    end_after: date | None = None
    end_before: date | None = None


def subscription_page(
    conn: Connection,
    filters: SubscriptionFilters,
    *,
    visible: Condition,
    after: str | None,
    limit: int,
) -> list[Subscription]:
    """Return up to `limit` visible subscriptions matching `filters`, in id order after
    `after`."""
    f = filters
    conditions = [
        visible.clause,
        *([subscriptions.c.customer_csn == f.customer_csn] if f.customer_csn else []),
        *([subscriptions.c.status == f.status.value] if f.status else []),
        *([subscriptions.c.currency == f.currency] if f.currency else []),
        *([subscriptions.c.end_date >= f.end_after] if f.end_after else []),
        *([subscriptions.c.end_date <= f.end_before] if f.end_before else []),
        *([subscriptions.c.id > after] if after is not None else []),
    ]
    query = (
        select(*SUBSCRIPTION_COLUMNS)
        .select_from(_WITH_OFFERING)
        .where(*conditions)
        .order_by(subscriptions.c.id)
        .limit(limit)
    )
    return [_subscription(row) for row in conn.execute(query, dict(visible.params))]


def hold_auto_renew(conn: Connection, quote_id: int, subscription_ids: Collection[str]) -> None:
    """Switch auto-renew off on these subscriptions while the quote `quote_id` changes them."""
    if subscription_ids:
        conn.execute(_HOLD, {"ids": sorted(subscription_ids), "quote_id": quote_id})


_HOLD = (
    update(subscriptions)
    .where(
        subscriptions.c.id.in_(bindparam("ids", expanding=True)),
        subscriptions.c.auto_renew.is_(True),
        subscriptions.c.auto_renew_held_by.is_(None),
    )
    .values(auto_renew=False, auto_renew_held_by=bindparam("quote_id"))
)


def release_auto_renew(conn: Connection, quote_ids: Collection[int]) -> None:
    """Switch auto-renew back on where these quotes had switched it off."""
    if quote_ids:
        conn.execute(_RELEASE, {"quote_ids": sorted(quote_ids)})


_RELEASE = (
    update(subscriptions)
    .where(subscriptions.c.auto_renew_held_by.in_(bindparam("quote_ids", expanding=True)))
    .values(auto_renew=True, auto_renew_held_by=None)
)


# Renewal candidates --------------------------------------------------------------------------

# The fields of `Candidate`, in its order.
CANDIDATE_COLUMNS = (
    subscriptions.c.id,
    subscriptions.c.customer_csn,
    subscriptions.c.currency,
    _METHOD,
    subscriptions.c.partner_csn,
    subscriptions.c.end_date,
    _TERM,
    _STATUS,
    _KIND,
    subscriptions.c.renewed_by_order,
)


def renewal_candidates(
    conn: Connection, *, customer_csn: str | None, visible: Condition
) -> list[Candidate]:
    """Return the subscriptions `visible` lets through (of one customer, if named) as grouping
    reads them, by end date then id: the order of the indexes on (customer or partner, end
    date, id), so the database reads them in order instead of sorting them."""

    def build() -> Select[Any]:
        of_customer = subscriptions.c.customer_csn == bindparam("customer_csn")
        return (
            select(*CANDIDATE_COLUMNS)
            .select_from(_WITH_OFFERING)
            .where(visible.clause, true() if customer_csn is None else of_customer)
            .order_by(subscriptions.c.end_date, subscriptions.c.id)
        )

    query = _BUILT.get(("candidates", visible.name, customer_csn is None), build)
    rows = conn.execute(query, {"customer_csn": customer_csn, **visible.params}).all()
    # Fetched at once (iterating a result fetches row by row: 3 % of a GET /renewal-groups
    # in instructions), built straight from the row, whose values are the domain's already,
    # by a loop in C (`Candidate._make` is a Python call per row: 10 % of 100,000 rows).
    return list(map(_CANDIDATE, rows))


_CANDIDATE: Callable[[Any], Candidate] = partial(tuple.__new__, Candidate)
# tuple.__new__ checks no length: the columns and the fields must match one for one.
if [c.key for c in CANDIDATE_COLUMNS] != list(Candidate._fields):
    raise RuntimeError("CANDIDATE_COLUMNS and Candidate disagree")


# What a quote needs --------------------------------------------------------------------------


class CustomerFacts(NamedTuple):
    """What a quote for one customer reads first, in one query."""

    customer: Customer
    address: Address
    subscriptions: dict[str, Subscription]
    prices: dict[tuple[str, Term, str], Price]
    # The running promotions' version (`running_promotions`); None if the row is missing.
    promotions_version: int | None


def customer_facts(
    conn: Connection,
    csn: str,
    ids: Collection[str],
    *,
    reachable: Condition,
    visible: Condition,
    all_terms: bool,
) -> CustomerFacts:
    """Return in one query the customer `csn` (with its country's rules and its address), the
    subscriptions among `ids` that `visible` lets through, with their prices (each
    subscription's own term's, or every term's if `all_terms`: a line changes the term), and
    the promotions' version.

    `not_found` when there is no such customer or `reachable` (the caller's access) excludes
    it; subscriptions of another customer are read too, so that the rules can name the mix.
    """

    def build() -> Select[Any]:
        priced = and_(
            prices.c.offering_code == subscriptions.c.offering_code,
            prices.c.currency == subscriptions.c.currency,
            true() if all_terms else prices.c.term == subscriptions.c.term,
        )
        chosen = and_(subscriptions.c.id.in_(bindparam("ids", expanding=True)), visible.clause)
        source = customers.join(countries, countries.c.code == customers.c.country).outerjoin(
            _WITH_OFFERING.outerjoin(prices, priced), chosen
        )
        columns = (*SUBSCRIPTION_COLUMNS, _PRICE_TERM, prices.c.new_price, prices.c.renewal_price)
        return (
            select(*_CUSTOMER_COLUMNS, *columns, _PROMOTIONS_VERSION)
            .select_from(source)
            .where(customers.c.csn == bindparam("csn"), reachable.clause)
        )

    query = _BUILT.get(("customer facts", reachable.name, visible.name, all_terms), build)
    params = {"csn": csn, "ids": sorted(ids), **reachable.params, **visible.params}
    rows = conn.execute(query, params).all()
    if not rows:
        raise RuleViolation.one(Code.NOT_FOUND, thing="customer")
    subs: dict[str, Subscription] = {}
    found: dict[tuple[str, Term, str], Price] = {}
    # After the customer's columns come the subscription's (None when none matched), then its
    # price's (term, new, renewal), one row per price found, then the promotions' version.
    width = _CUSTOMER_WIDTH + _SUBSCRIPTION_WIDTH
    for row in rows:
        sid = row[_CUSTOMER_WIDTH]
        if sid is None:
            continue
        sub = subs.get(sid) or subs.setdefault(sid, Subscription(*row[_CUSTOMER_WIDTH:width]))
        term, new, renewal = row[width:-1]
        if term is not None:
            key = (sub.offering_code, term, sub.currency)
            found[key] = Price(*key, new, renewal)
    first = rows[0]
    return CustomerFacts(_customer(first), _address(first), subs, found, first[-1])


_PROMOTIONS_VERSION = (
    select(data_versions.c.version)
    .where(data_versions.c.subject == literal_column("'promotions'"))
    .scalar_subquery()
    .label("promotions_version")
)


def offerings_by_code(conn: Connection, codes: Collection[str]) -> dict[str, Offering]:
    """Return the offerings named in `codes`."""
    if not codes:
        return {}
    rows = conn.execute(_OFFERINGS, {"codes": sorted(codes)})
    return {r.code: Offering(r.code, r.name, r.offering_kind) for r in rows}


_OFFERINGS = select(offerings.c.code, offerings.c.name, _KIND).where(
    offerings.c.code.in_(bindparam("codes", expanding=True))
)


def prices_of(
    conn: Connection, codes: Collection[str], currencies_: Collection[str]
) -> dict[tuple[str, Term, str], Price]:
    """Return every term's prices of the offerings in `codes`, in the given currencies."""
    if not codes or not currencies_:
        return {}
    found: dict[tuple[str, Term, str], Price] = {}
    params = {"codes": sorted(codes), "currencies": sorted(currencies_)}
    for r in conn.execute(_PRICES, params):
        key = (r.offering_code, r.price_term, r.currency)
        found[key] = Price(*key, r.new_price, r.renewal_price)
    return found


_PRICES = select(
    prices.c.offering_code,
    _PRICE_TERM,
    prices.c.currency,
    prices.c.new_price,
    prices.c.renewal_price,
).where(
    prices.c.offering_code.in_(bindparam("codes", expanding=True)),
    prices.c.currency.in_(bindparam("currencies", expanding=True)),
)


def running_promotions(
    conn: Connection, today: date, version: int | None = None
) -> list[Promotion]:
    """Return the promotions running on `today`.

    `version` is the promotions' version (see `CustomerFacts`) read before, on `conn`: what is
    read with one is kept by this process and given again while the version stays the same (for
    `PROMOTIONS_KEPT_SECONDS` at most), a statement less on nearly every quote made. Without one
    (the row deleted), read every time.
    """
    engine = conn.engine
    if version is not None:
        kept = _KEPT.get(engine)
        if (
            kept is not None
            and kept.version == version
            and kept.day == today
            and kept.deadline > time.monotonic()
        ):
            return list(kept.promotions)
    found = [_promotion(*row) for row in conn.execute(_RUNNING_PROMOTIONS, {"today": today})]
    if version is not None:
        # Read after the version (in the same snapshot on SQLite, a later one on PostgreSQL):
        # never older than it, so never kept under a version that came after a change.
        deadline = time.monotonic() + PROMOTIONS_KEPT_SECONDS
        _KEPT[engine] = _Kept(version, today, deadline, tuple(found))
    return found


# However the version stays (a change made with triggers switched off, `pg_restore
# --disable-triggers`, a table rebuilt without them), kept promotions are read again after this.
PROMOTIONS_KEPT_SECONDS = 300.0


class _Kept(NamedTuple):
    """The promotions running on `day`, read with `version`, given again until `deadline`."""

    version: int
    day: date
    deadline: float  # time.monotonic()
    promotions: tuple[Promotion, ...]


# Per engine: each Database has its own, and copies of one database share versions.
_KEPT: WeakKeyDictionary[Engine, _Kept] = WeakKeyDictionary()


def _text(column: ColumnElement[Any]) -> ColumnElement[str]:
    return cast(column, Text).label(column.key)


# Money and lists as the text they are stored as: every quote reads the same few promotions,
# and a row seen before (value for value) is not turned into a `Promotion` again.
_RUNNING_PROMOTIONS = (
    select(
        promotions.c.code,
        promotions.c.name,
        _text(promotions.c.percent_off),
        _text(promotions.c.amount_off),
        promotions.c.starts,
        promotions.c.ends,
        _text(promotions.c.offerings),
        _text(promotions.c.terms),
        _text(promotions.c.currencies),
        _text(promotions.c.countries),
        _text(promotions.c.quote_types),
    )
    .where(
        or_(promotions.c.starts.is_(None), promotions.c.starts <= bindparam("today")),
        or_(promotions.c.ends.is_(None), promotions.c.ends >= bindparam("today")),
    )
    .order_by(promotions.c.code)
)


@lru_cache(maxsize=256)
def _promotion(
    code: str,
    name: str,
    percent_off: str | None,
    amount_off: str | None,
    starts: date | None,
    ends: date | None,
    offerings_: str,
    terms: str,
    currencies_: str,
    countries_: str,
    quote_types: str,
) -> Promotion:
    return Promotion(
        code=code,
        name=name,
        percent_off=None if percent_off is None else Decimal(percent_off),
        amount_off=None if amount_off is None else Decimal(amount_off),
        starts=starts,
        ends=ends,
        offerings=frozenset(json.loads(offerings_)),
        terms=frozenset(Term(t) for t in json.loads(terms)),
        currencies=frozenset(json.loads(currencies_)),
        countries=frozenset(json.loads(countries_)),
        quote_types=frozenset(LineKind(k) for k in json.loads(quote_types)),
    )
