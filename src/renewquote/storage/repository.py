"""Reading the book of business into the domain's frozen values, a few queries per use case."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Row,
    String,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    func,
    null,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.sql import FromClause, Select
from sqlalchemy.sql.expression import ScalarSelect

from renewquote.domain.errors import Code, RuleViolation
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
from renewquote.domain.quoting import Offering
from renewquote.storage.prepared import Prepared
from renewquote.storage.tables import (
    countries,
    currencies,
    customers,
    offerings,
    partners,
    prices,
    promotions,
    subscriptions,
    users,
)


def load_customer(conn: Connection, csn: str) -> Customer:
    """Return the customer `csn` with its country's rules, or `not_found`."""
    return load_customer_and_address(conn, csn)[0]


def load_customer_and_address(conn: Connection, csn: str) -> tuple[Customer, dict[str, str | None]]:
    """Return the customer `csn` and its billing address (as quotes copy it), or `not_found`."""
    return customer_and_address(_CUSTOMER.first(conn, {"csn": csn}))


def customer_and_address(
    row: Sequence[Any] | None,
) -> tuple[Customer, dict[str, str | None]]:
    """Turn a row of `CUSTOMER` into the customer and its address, or refuse: `not_found`."""
    if row is None:
        raise RuleViolation.one(Code.NOT_FOUND, thing="customer")
    (
        csn_,
        name,
        country,
        line1,
        line2,
        city,
        postal_code,
        by_invoice,
        self_service,
        tax_rate,
        language,
    ) = row
    customer = Customer(
        csn=csn_,
        name=name,
        country=country,
        self_service_enabled=self_service,
        tax_rate=tax_rate,
        pays_by_invoice=by_invoice,
        language=language,
    )
    address = {
        "address_line1": line1,
        "address_line2": line2,
        "city": city,
        "postal_code": postal_code,
        "country": country,
    }
    return customer, address


# Statements built once: quote creation runs them thousands of times a second.
CUSTOMER = (
    select(
        customers.c.csn,
        customers.c.name,
        customers.c.country,
        customers.c.address_line1,
        customers.c.address_line2,
        customers.c.city,
        customers.c.postal_code,
        customers.c.pays_by_invoice,
        countries.c.self_service_quotes,
        countries.c.tax_rate,
        countries.c.language,
    )
    .join(countries, countries.c.code == customers.c.country)
    .where(customers.c.csn == bindparam("csn"))
)
_CUSTOMER = Prepared(CUSTOMER)


def partner_resells_to(conn: Connection, partner_csn: str, customer_csn: str) -> bool:
    """Tell whether the partner is reseller of record of any of the customer's subscriptions."""
    params = {"customer": customer_csn, "partner": partner_csn}
    return conn.execute(RESOLD_BY_PARTNER, params).first() is not None


# Parameters: customer, partner. A row if the partner resells anything to the customer.
RESOLD_BY_PARTNER = (
    select(subscriptions.c.id)
    .where(
        subscriptions.c.customer_csn == bindparam("customer"),
        subscriptions.c.partner_csn == bindparam("partner"),
    )
    .limit(1)
)


def contact_emails(conn: Connection, customer_csn: str) -> frozenset[str]:
    """Return the lower-cased e-mails of the customer's contacts."""
    return frozenset(conn.execute(CONTACT_EMAILS, {"csn": customer_csn}).scalars())


# Parameter: csn. The lower-cased e-mails of the customer's contacts.
CONTACT_EMAILS = select(func.lower(users.c.email)).where(users.c.customer_csn == bindparam("csn"))


def subscription_query() -> Select[tuple[object, ...]]:
    """Select subscriptions with their offering's name and kind."""
    return select(
        subscriptions,
        offerings.c.name.label("offering_name"),
        offerings.c.kind.label("offering_kind"),
    ).join(offerings, offerings.c.code == subscriptions.c.offering_code)


def subscription_from_row(row: Row[tuple[object, ...]]) -> Subscription:
    """Turn a row of `subscription_query` into a `Subscription`."""
    m = row._mapping
    return _subscription(
        m["id"],
        m["customer_csn"],
        m["offering_code"],
        m["offering_name"],
        m["offering_kind"],
        m["quantity"],
        m["term"],
        m["currency"],
        m["purchase_method"],
        m["partner_csn"],
        m["start_date"],
        m["end_date"],
        m["status"],
        m["payment_method"],
        m["auto_renew"],
        m["renewed_by_order"],
    )


# Stored strings to the domain's enums by dictionary look-up: calling an enum class costs
# about ten times as much, and quote creation converts five of them for each of its lines.
_TERMS = {t.value: t for t in Term}
_KINDS = {k.value: k for k in OfferingKind}
_METHODS = {m.value: m for m in PurchaseMethod}
_STATUSES = {s.value: s for s in SubscriptionStatus}
_PAYMENTS = {p.value: p for p in PaymentMethod}
_LINE_KINDS = {k.value: k for k in LineKind}


def _enum(table: dict[str, Any], cls: type[Any], value: Any) -> Any:
    found = table.get(value)
    # An unknown value fails exactly as the enum itself would.
    return found if found is not None else cls(value)


def _subscription(
    id_: str,
    customer_csn: str,
    offering_code: str,
    offering_name: str,
    offering_kind: str,
    quantity: int,
    term: str,
    currency: str,
    purchase_method: str,
    partner_csn: str | None,
    start_date: date,
    end_date: date,
    status: str,
    payment_method: str,
    auto_renew: bool,
    renewed_by_order: object,
) -> Subscription:
    return Subscription(
        id=id_,
        customer_csn=customer_csn,
        offering_code=offering_code,
        offering_name=offering_name,
        offering_kind=_enum(_KINDS, OfferingKind, offering_kind),
        quantity=quantity,
        term=_enum(_TERMS, Term, term),
        currency=currency,
        purchase_method=_enum(_METHODS, PurchaseMethod, purchase_method),
        partner_csn=partner_csn,
        start_date=start_date,
        end_date=end_date,
        status=_enum(_STATUSES, SubscriptionStatus, status),
        payment_method=_enum(_PAYMENTS, PaymentMethod, payment_method),
        auto_renew=auto_renew,
        renewed_by_order=None if renewed_by_order is None else str(renewed_by_order),
    )


def load_subscriptions(
    conn: Connection,
    ids: Collection[str],
    *,
    customer_csn: str | None = None,
    partner_csn: str | None = None,
    lock: bool = False,
) -> dict[str, Subscription]:
    """Return the subscriptions among `ids` that the caller may see, locked if asked."""
    if not ids:
        return {}
    query = subscription_query().where(subscriptions.c.id.in_(sorted(ids)))
    if customer_csn is not None:
        query = query.where(subscriptions.c.customer_csn == customer_csn)
    if partner_csn is not None:
        query = query.where(subscriptions.c.partner_csn == partner_csn)
    if lock:
        # Lock in id order so two checkouts never wait on each other in a circle.
        query = query.order_by(subscriptions.c.id).with_for_update(of=subscriptions)
    return {s.id: s for s in map(subscription_from_row, conn.execute(query))}


def load_renewal_facts(
    conn: Connection,
    ids: Collection[str],
    *,
    customer_csn: str | None = None,
    partner_csn: str | None = None,
    all_terms: bool = False,
) -> tuple[dict[str, Subscription], dict[tuple[str, Term, str], Price]]:
    """Return the visible subscriptions among `ids` and every term's price of each, in one query.

    One statement instead of two keeps quote creation within its budget of round trips.
    """
    if not ids:
        return {}, {}
    # Only the subscriptions' own terms are priced unless a line changes term: a third of the rows.
    scope = "customer" if customer_csn is not None else "partner" if partner_csn else None
    query = _FACTS[(all_terms, scope)]
    params = {"ids": list(ids), "scope": customer_csn or partner_csn}
    return renewal_facts(query.all(conn, params))


def renewal_facts(
    rows: Iterable[Sequence[Any]],
) -> tuple[dict[str, Subscription], dict[tuple[str, Term, str], Price]]:
    """Turn the rows of a facts query into the subscriptions and their prices."""
    subs: dict[str, Subscription] = {}
    found: dict[tuple[str, Term, str], Price] = {}
    for row in rows:
        # Columns by position, in the order `_facts` selects them (see `_FACTS_COLUMNS`).
        (
            sid,
            csn,
            code,
            qty,
            term_,
            currency,
            method,
            partner,
            start,
            end,
            status,
            payment,
            auto_renew,
            renewed,
            name,
            kind,
            price_term,
            new_price,
            renewal_price,
        ) = row
        if sid not in subs:
            subs[sid] = _subscription(
                sid,
                csn,
                code,
                name,
                kind,
                qty,
                term_,
                currency,
                method,
                partner,
                start,
                end,
                status,
                payment,
                auto_renew,
                renewed,
            )
        if price_term is not None:
            term = _enum(_TERMS, Term, price_term)
            found[(code, term, currency)] = Price(code, term, currency, new_price, renewal_price)
    return subs, found


def facts_source(all_terms: bool) -> tuple[tuple[ColumnElement[Any], ...], FromClause]:
    """Return the columns of a facts query and what it selects them from: subscriptions with
    their offering and prices (every term's if `all_terms`, else their own term's)."""
    joined = and_(
        prices.c.offering_code == subscriptions.c.offering_code,
        prices.c.currency == subscriptions.c.currency,
    )
    if not all_terms:
        joined = and_(joined, prices.c.term == subscriptions.c.term)
    s = subscriptions.c
    columns = (
        s.id,
        s.customer_csn,
        s.offering_code,
        s.quantity,
        s.term,
        s.currency,
        s.purchase_method,
        s.partner_csn,
        s.start_date,
        s.end_date,
        s.status,
        s.payment_method,
        s.auto_renew,
        s.renewed_by_order,
        offerings.c.name.label("offering_name"),
        offerings.c.kind.label("offering_kind"),
        prices.c.term.label("price_term"),
        prices.c.new_price,
        prices.c.renewal_price,
    )
    source = subscriptions.join(offerings, offerings.c.code == subscriptions.c.offering_code)
    return columns, source.outerjoin(prices, joined)


# PostgreSQL: the subscription is one of the parameter "ids", sent as one array whatever
# their count (one statement, prepared once).
IDS_IN_ARRAY = subscriptions.c.id == any_(bindparam("ids", type_=ARRAY(String)))


def _facts(all_terms: bool, scope: str | None, *, any_id: bool = False) -> Select[Any]:
    columns, source = facts_source(all_terms)
    query = (
        select(*columns)
        .select_from(source)
        .where(IDS_IN_ARRAY if any_id else subscriptions.c.id.in_(bindparam("ids", expanding=True)))
    )
    if scope == "customer":
        query = query.where(subscriptions.c.customer_csn == bindparam("scope"))
    elif scope == "partner":
        query = query.where(subscriptions.c.partner_csn == bindparam("scope"))
    return query


# Every variant built once, so that no call pays for building and keying a statement.
_FACTS = {
    (all_terms, scope): Prepared(_facts(all_terms, scope))
    for all_terms in (False, True)
    for scope in (None, "customer", "partner")
}
# The same for PostgreSQL's `Database.fetch_many`, the ids as one array parameter.
FACTS_BY_ARRAY = {
    (all_terms, scope): _facts(all_terms, scope, any_id=True)
    for all_terms in (False, True)
    for scope in (None, "customer", "partner")
}


def facts_query(
    ids: Collection[str], *, customer_csn: str | None, partner_csn: str | None, all_terms: bool
) -> tuple[Select[Any], dict[str, Any]]:
    """Return `load_renewal_facts`'s query (PostgreSQL form) and its parameters."""
    scope = "customer" if customer_csn is not None else "partner" if partner_csn else None
    params = {"ids": sorted(ids), "scope": customer_csn or partner_csn}
    return FACTS_BY_ARRAY[(all_terms, scope)], params


def load_offerings(conn: Connection, codes: Collection[str]) -> dict[str, Offering]:
    """Return the offerings named in `codes`."""
    rows = conn.execute(select(offerings).where(offerings.c.code.in_(sorted(codes))))
    return {r.code: Offering(r.code, r.name, OfferingKind(r.kind)) for r in rows}


def load_prices(
    conn: Connection, codes: Collection[str], currencies_: Collection[str]
) -> dict[tuple[str, Term, str], Price]:
    """Return every term's prices for the offerings in `codes` and the given currencies."""
    rows = conn.execute(
        select(prices).where(
            prices.c.offering_code.in_(sorted(codes)), prices.c.currency.in_(sorted(currencies_))
        )
    )
    found: dict[tuple[str, Term, str], Price] = {}
    for r in rows:
        term = Term(r.term)
        found[(r.offering_code, term, r.currency)] = Price(
            r.offering_code, term, r.currency, r.new_price, r.renewal_price
        )
    return found


def load_promotions(conn: Connection, today: date) -> list[Promotion]:
    """Return the promotions running on `today`."""
    return promotions_of(_RUNNING_PROMOTIONS.all(conn, {"today": today}))


def promotions_of(rows: Iterable[Sequence[Any]]) -> list[Promotion]:
    """Turn the rows of `RUNNING_PROMOTIONS` into promotions."""
    return [_promotion(*row) for row in rows]


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
    # Every quote reads the same few promotions: a row read before, value for value as stored
    # (money and lists as text), is not converted again.
    return Promotion(
        code=code,
        name=name,
        percent_off=None if percent_off is None else Decimal(percent_off),
        amount_off=None if amount_off is None else Decimal(amount_off),
        starts=starts,
        ends=ends,
        offerings=frozenset(json.loads(offerings_)),
        terms=frozenset(_enum(_TERMS, Term, t) for t in json.loads(terms)),
        currencies=frozenset(json.loads(currencies_)),
        countries=frozenset(json.loads(countries_)),
        quote_types=frozenset(_enum(_LINE_KINDS, LineKind, k) for k in json.loads(quote_types)),
    )


def _as_text(column: ColumnElement[Any]) -> ColumnElement[str]:
    return cast(column, Text).label(column.key)


RUNNING_PROMOTIONS_QUERY = (
    select(
        promotions.c.code,
        promotions.c.name,
        _as_text(promotions.c.percent_off),
        _as_text(promotions.c.amount_off),
        promotions.c.starts,
        promotions.c.ends,
        _as_text(promotions.c.offerings),
        _as_text(promotions.c.terms),
        _as_text(promotions.c.currencies),
        _as_text(promotions.c.countries),
        _as_text(promotions.c.quote_types),
    )
    .where(
        or_(promotions.c.starts.is_(None), promotions.c.starts <= bindparam("today")),
        or_(promotions.c.ends.is_(None), promotions.c.ends >= bindparam("today")),
    )
    .order_by(promotions.c.code)
)
_RUNNING_PROMOTIONS = Prepared(RUNNING_PROMOTIONS_QUERY)


def running_promotions_json() -> ScalarSelect[Any]:
    """PostgreSQL: the rows of `RUNNING_PROMOTIONS_QUERY` as one JSON array of arrays, to read
    as a column of another statement (see `promotions_from_json`)."""
    running = RUNNING_PROMOTIONS_QUERY.subquery("running")
    rows = func.json_agg(aggregate_order_by(func.json_build_array(*running.c), running.c.code))
    return select(rows).scalar_subquery()


def promotions_from_json(rows: Sequence[Sequence[Any]] | None) -> list[Promotion]:
    """Turn `running_promotions_json`'s value into promotions (its dates are ISO text)."""
    return promotions_of((*row[:4], _day(row[4]), _day(row[5]), *row[6:]) for row in rows or ())


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def card_limit(conn: Connection, currency: str) -> Decimal | None:
    """Return the card and PayPal limit of `currency`, or None when it has none."""
    return conn.execute(
        select(currencies.c.card_limit).where(currencies.c.code == currency)
    ).scalar_one_or_none()


class Candidate(NamedTuple):
    """A subscription as grouping reads it, in one row with its customer's country rules.

    Values are the driver's (dates as ISO text on SQLite): on 100,000 rows, per-value
    conversion would cost more than the query. A query that names the customer gives one row
    with `id` None when nothing matches, so that "no such customer" and "nothing to renew"
    differ; `country` and `self_service_enabled` are None when it names none.
    """

    id: str | None
    customer_csn: str
    currency: str
    purchase_method: str
    partner_csn: str | None
    end_date: date | str
    term: str
    status: str
    offering_kind: str
    renewed_by_order: str | None
    country: str | None
    self_service_enabled: bool | int | None


def renewal_candidates(
    customer_csn: str | None, partner_csn: str | None
) -> tuple[Select[Any], dict[str, str | None]]:
    """Return the one query of a customer's (or a partner's) subscriptions, by end date, and
    its parameters; run it with `Database.fetch` and `Candidate._make`."""
    statement = _CANDIDATES[(customer_csn is not None, partner_csn is not None)]
    return statement, {"customer": customer_csn, "partner": partner_csn}


# The columns of `Candidate`, in its order, and the order candidates come in.
CANDIDATE_COLUMNS = (
    subscriptions.c.id,
    subscriptions.c.customer_csn,
    subscriptions.c.currency,
    subscriptions.c.purchase_method,
    subscriptions.c.partner_csn,
    type_coerce(subscriptions.c.end_date, String).label("end_date"),
    subscriptions.c.term,
    subscriptions.c.status,
    offerings.c.kind.label("offering_kind"),
    subscriptions.c.renewed_by_order,
    customers.c.country,
    # As the driver gives it (1 or 0 on SQLite): converting it would cost a step on every row.
    type_coerce(countries.c.self_service_quotes, Integer).label("self_service_enabled"),
)
CANDIDATE_ORDER = (subscriptions.c.end_date, subscriptions.c.id)


def _candidates(by_customer: bool, by_partner: bool) -> Select[Any]:
    subscription = CANDIDATE_COLUMNS[:-2]
    order = CANDIDATE_ORDER
    partner = subscriptions.c.partner_csn == bindparam("partner")
    if not by_customer:
        no_country = (null().label("country"), null().label("self_service_enabled"))
        query = (
            select(*subscription, *no_country)
            .join(offerings, offerings.c.code == subscriptions.c.offering_code)
            .order_by(*order)
        )
        return query.where(partner) if by_partner else query
    return customer_candidates(customers, partner=partner if by_partner else None).where(
        customers.c.csn == bindparam("customer")
    )


def customer_candidates(
    source: FromClause, *, leading: Sequence[ColumnElement[Any]] = (), partner: Any = None
) -> Select[Any]:
    """Select `leading` and `CANDIDATE_COLUMNS` of the customer in `source` (a from clause
    that holds `customers`), its subscriptions matching `partner` if given, by end date.

    The customer's row comes back even without a matching subscription (outer joins), with
    `id` None; so does a row of `source` without a customer.
    """
    matching = subscriptions.c.customer_csn == customers.c.csn
    return (
        select(*leading, *CANDIDATE_COLUMNS)
        .select_from(source)
        .outerjoin(countries, countries.c.code == customers.c.country)
        .outerjoin(subscriptions, matching if partner is None else and_(matching, partner))
        .outerjoin(offerings, offerings.c.code == subscriptions.c.offering_code)
        .order_by(*CANDIDATE_ORDER)
    )


_CANDIDATES = {(c, p): _candidates(c, p) for c in (False, True) for p in (False, True)}


def own_candidates(
    customer_csn: str, partner_csn: str | None
) -> tuple[Select[Any], dict[str, str | None]]:
    """Return the query of one customer's subscriptions alone (those `partner_csn` resells,
    if given), by end date, and its parameters: `renewal_candidates` without the customer's
    row, for a caller that reads the customer with `CUSTOMER`.

    Read in the index's order (no sort) and without a join per row to the customer: on a
    customer of 100,000 subscriptions this is 30 % fewer instructions in SQLite.
    """
    statement = _OWN_CANDIDATES[partner_csn is not None]
    return statement, {"customer": customer_csn, "partner": partner_csn}


def _own_candidates(by_partner: bool) -> Select[Any]:
    return _candidates(False, by_partner).where(
        subscriptions.c.customer_csn == bindparam("customer")
    )


_OWN_CANDIDATES = {p: _own_candidates(p) for p in (False, True)}


def partner_name(conn: Connection, csn: str) -> str | None:
    """Return the partner's name, or None if there is no such partner."""
    return conn.execute(select(partners.c.name).where(partners.c.csn == csn)).scalar_one_or_none()


def hold_auto_renew(conn: Connection, quote_id: int, subscription_ids: Collection[str]) -> None:
    """Switch auto-renew off on these subscriptions while the quote `quote_id` changes them."""
    if subscription_ids:
        conn.execute(
            update(subscriptions)
            .where(
                subscriptions.c.id.in_(sorted(subscription_ids)),
                subscriptions.c.auto_renew.is_(True),
                subscriptions.c.auto_renew_held_by.is_(None),
            )
            .values(auto_renew=False, auto_renew_held_by=quote_id)
        )


def release_auto_renew(conn: Connection, quote_ids: Collection[int]) -> None:
    """Switch auto-renew back on where these quotes had switched it off."""
    if quote_ids:
        conn.execute(
            update(subscriptions)
            .where(subscriptions.c.auto_renew_held_by.in_(sorted(quote_ids)))
            .values(auto_renew=True, auto_renew_held_by=None)
        )
