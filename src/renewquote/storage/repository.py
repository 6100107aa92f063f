"""Reading the book of business into the domain's frozen values, a few queries per use case."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Row,
    String,
    and_,
    bindparam,
    func,
    null,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.sql import Select

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
    row = conn.execute(_CUSTOMER, {"csn": csn}).one_or_none()
    if row is None:
        raise RuleViolation.one(Code.NOT_FOUND, thing="customer")
    customer = Customer(
        csn=row.csn,
        name=row.name,
        country=row.country,
        self_service_enabled=row.self_service_quotes,
        tax_rate=row.tax_rate,
        pays_by_invoice=row.pays_by_invoice,
        language=row.language,
    )
    address = {
        "address_line1": row.address_line1,
        "address_line2": row.address_line2,
        "city": row.city,
        "postal_code": row.postal_code,
        "country": row.country,
    }
    return customer, address


# Statements built once: quote creation runs them thousands of times a second.
_CUSTOMER = (
    select(customers, countries.c.self_service_quotes, countries.c.tax_rate, countries.c.language)
    .join(countries, countries.c.code == customers.c.country)
    .where(customers.c.csn == bindparam("csn"))
)


def partner_resells_to(conn: Connection, partner_csn: str, customer_csn: str) -> bool:
    """Tell whether the partner is reseller of record of any of the customer's subscriptions."""
    found = conn.execute(
        select(subscriptions.c.id)
        .where(
            subscriptions.c.customer_csn == customer_csn,
            subscriptions.c.partner_csn == partner_csn,
        )
        .limit(1)
    ).first()
    return found is not None


def contact_emails(conn: Connection, customer_csn: str) -> frozenset[str]:
    """Return the lower-cased e-mails of the customer's contacts."""
    rows = conn.execute(
        select(func.lower(users.c.email)).where(users.c.customer_csn == customer_csn)
    )
    return frozenset(rows.scalars())


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
    return Subscription(
        id=m["id"],
        customer_csn=m["customer_csn"],
        offering_code=m["offering_code"],
        offering_name=m["offering_name"],
        offering_kind=OfferingKind(m["offering_kind"]),
        quantity=m["quantity"],
        term=Term(m["term"]),
        currency=m["currency"],
        purchase_method=PurchaseMethod(m["purchase_method"]),
        partner_csn=m["partner_csn"],
        start_date=m["start_date"],
        end_date=m["end_date"],
        status=SubscriptionStatus(m["status"]),
        payment_method=PaymentMethod(m["payment_method"]),
        auto_renew=m["auto_renew"],
        renewed_by_order=None if m["renewed_by_order"] is None else str(m["renewed_by_order"]),
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
    subs: dict[str, Subscription] = {}
    found: dict[tuple[str, Term, str], Price] = {}
    for row in conn.execute(query, params).all():
        if row.id not in subs:
            subs[row.id] = subscription_from_row(row)
        if row.price_term is not None:
            term = Term(row.price_term)
            found[(row.offering_code, term, row.currency)] = Price(
                row.offering_code, term, row.currency, row.new_price, row.renewal_price
            )
    return subs, found


def _facts(all_terms: bool, scope: str | None) -> Select[tuple[object, ...]]:
    joined = and_(
        prices.c.offering_code == subscriptions.c.offering_code,
        prices.c.currency == subscriptions.c.currency,
    )
    if not all_terms:
        joined = and_(joined, prices.c.term == subscriptions.c.term)
    query = (
        subscription_query()
        .add_columns(prices.c.term.label("price_term"), prices.c.new_price, prices.c.renewal_price)
        .outerjoin(prices, joined)
        .where(subscriptions.c.id.in_(bindparam("ids", expanding=True)))
    )
    if scope == "customer":
        query = query.where(subscriptions.c.customer_csn == bindparam("scope"))
    elif scope == "partner":
        query = query.where(subscriptions.c.partner_csn == bindparam("scope"))
    return query


# Every variant built once, so that no call pays for building and keying a statement.
_FACTS = {
    (all_terms, scope): _facts(all_terms, scope)
    for all_terms in (False, True)
    for scope in (None, "customer", "partner")
}


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
    rows = conn.execute(_RUNNING_PROMOTIONS, {"today": today})
    return [
        Promotion(
            code=r.code,
            name=r.name,
            percent_off=r.percent_off,
            amount_off=r.amount_off,
            starts=r.starts,
            ends=r.ends,
            offerings=frozenset(r.offerings),
            terms=frozenset(Term(t) for t in r.terms),
            currencies=frozenset(r.currencies),
            countries=frozenset(r.countries),
            quote_types=frozenset(LineKind(k) for k in r.quote_types),
        )
        for r in rows
    ]


_RUNNING_PROMOTIONS = (
    select(promotions)
    .where(
        or_(promotions.c.starts.is_(None), promotions.c.starts <= bindparam("today")),
        or_(promotions.c.ends.is_(None), promotions.c.ends >= bindparam("today")),
    )
    .order_by(promotions.c.code)
)


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
    self_service_enabled: bool | None


def renewal_candidates(
    customer_csn: str | None, partner_csn: str | None
) -> tuple[Select[Any], dict[str, str | None]]:
    """Return the one query of a customer's (or a partner's) subscriptions, by end date, and
    its parameters; run it with `Database.fetch` and `Candidate._make`."""
    statement = _CANDIDATES[(customer_csn is not None, partner_csn is not None)]
    return statement, {"customer": customer_csn, "partner": partner_csn}


def _candidates(by_customer: bool, by_partner: bool) -> Select[Any]:
    subscription = (
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
    )
    order = (subscriptions.c.end_date, subscriptions.c.id)
    partner = subscriptions.c.partner_csn == bindparam("partner")
    if not by_customer:
        no_country = (null().label("country"), null().label("self_service_enabled"))
        query = (
            select(*subscription, *no_country)
            .join(offerings, offerings.c.code == subscriptions.c.offering_code)
            .order_by(*order)
        )
        return query.where(partner) if by_partner else query
    # The customer's row comes back even without a matching subscription (outer join).
    matching = subscriptions.c.customer_csn == customers.c.csn
    return (
        select(
            *subscription,
            customers.c.country,
            countries.c.self_service_quotes.label("self_service_enabled"),
        )
        .select_from(customers)
        .join(countries, countries.c.code == customers.c.country)
        .outerjoin(subscriptions, and_(matching, partner) if by_partner else matching)
        .outerjoin(offerings, offerings.c.code == subscriptions.c.offering_code)
        .where(customers.c.csn == bindparam("customer"))
        .order_by(*order)
    )


_CANDIDATES = {(c, p): _candidates(c, p) for c in (False, True) for p in (False, True)}


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
