"""The benchmarks' book of business: one customer holding 100,000 subscriptions, loaded fast.

The schema comes from the real migrations; the rows go in with plain Core `executemany`, in
chunks, because loading through the services would make setup slower than the benchmarks.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import insert, select

from renewquote.storage.database import Database
from renewquote.storage.migrate import upgrade
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

CUSTOMER = "5200000001"
PARTNER = "5100000001"
BUYER = "marie@dupont.example"
SUBSCRIPTIONS = 100_000
# The first subscriptions are the quotes benchmark's: eligible today, EUR, bought direct.
QUOTED = 10_000
CHUNK = 10_000

_TERM_MONTHS = {"monthly": 1, "annual": 12, "3-year": 36}
_OFFERINGS = (
    ("ACDLT", "AutoCAD LT", "standard"),
    ("RVT", "Revit", "standard"),
    ("FLEX", "Flex tokens", "flex"),
    ("SUCC", "Success plan", "success_plan"),
)
# offering -> (new, renewal) EUR prices of the monthly, annual and 3-year terms; USD is 10 % dearer.
_LIST_PRICES = {
    "ACDLT": (("60.00", "60.00"), ("495.00", "460.00"), ("1400.00", "1300.00")),
    "RVT": (("350.00", "350.00"), ("2900.00", "2700.00"), ("8200.00", "7700.00")),
    "FLEX": (("10.00", "10.00"), ("100.00", "100.00"), ("300.00", "300.00")),
    "SUCC": (("80.00", "80.00"), ("900.00", "850.00"), ("2600.00", "2450.00")),
}


def create_book(db: Database, today: date) -> int:
    """Migrate `db` to head and load the book of business; return the buyer's user id."""
    upgrade(db)
    with db.engine.begin() as conn:
        conn.execute(insert(countries), _countries())
        conn.execute(insert(currencies), _currencies())
        conn.execute(
            insert(partners), [{"csn": PARTNER, "name": "CAD Partenaire SARL", "country": "FR"}]
        )
        conn.execute(insert(customers), [_customer()])
        conn.execute(insert(users), _users())
        conn.execute(
            insert(offerings), [{"code": c, "name": n, "kind": k} for c, n, k in _OFFERINGS]
        )
        conn.execute(insert(prices), _prices())
        conn.execute(insert(promotions), _promotions(today))
        for chunk in _chunks(subscription_rows(today), CHUNK):
            conn.execute(insert(subscriptions), chunk)
        buyer_id = conn.execute(select(users.c.id).where(users.c.email == BUYER)).scalar_one()
    # Fresh statistics, as a database that has lived a while would have.
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return int(buyer_id)


def quoted_ids() -> list[str]:
    """Return the ids of the subscriptions the quotes benchmark renews, in order."""
    return [_sid(n) for n in range(1, QUOTED + 1)]


def subscription_rows(today: date) -> Iterator[dict[str, Any]]:
    """Yield the customer's subscriptions: a fixed eligible block, then a seeded random mix.

    The mix puts end dates from 200 days ago to 400 days ahead (before, inside and after the
    renewal window), with a few % cancelled, flex and success plans, two currencies, direct
    and partner purchases, and monthly, annual and 3-year terms.
    """
    rng = random.Random(20261128)
    for n in range(1, SUBSCRIPTIONS + 1):
        if n <= QUOTED:
            offering = "ACDLT" if n % 2 else "RVT"
            term = "3-year" if n % 5 == 0 else "annual"
            currency, partner = "EUR", None
            end = today + timedelta(days=1 + n % 85)
            status = "active"
            quantity = 1 + n % 50
        else:
            end = today + timedelta(days=rng.randint(-200, 400))
            kind = rng.random()
            offering = (
                "FLEX"
                if kind < 0.04
                else "SUCC"
                if kind < 0.07
                else "ACDLT"
                if kind < 0.6
                else "RVT"
            )
            term = rng.choices(("monthly", "annual", "3-year"), weights=(20, 60, 20))[0]
            currency = "EUR" if rng.random() < 0.7 else "USD"
            partner = PARTNER if rng.random() < 0.4 else None
            if rng.random() < 0.03:
                status = "cancelled"
            else:
                status = "expired" if end < today - timedelta(days=60) else "active"
            quantity = rng.randint(1, 80)
        start = end + timedelta(days=1) - relativedelta(months=_TERM_MONTHS[term])
        yield {
            "id": _sid(n),
            "customer_csn": CUSTOMER,
            "offering_code": offering,
            "quantity": quantity,
            "term": term,
            "currency": currency,
            "purchase_method": "partner" if partner else "direct",
            "partner_csn": partner,
            "start_date": start,
            "end_date": end,
            "status": status,
            "payment_method": "invoice" if partner else "card",
            "auto_renew": True,
            "renewed_by_order": None,
        }


def _sid(n: int) -> str:
    return f"SUB-{n:06d}"


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _countries() -> list[dict[str, Any]]:
    return [
        {"code": "FR", "self_service_quotes": True, "tax_rate": Decimal("0.20"), "language": "fr"},
        {"code": "GB", "self_service_quotes": True, "tax_rate": Decimal("0.20"), "language": "en"},
    ]


def _currencies() -> list[dict[str, Any]]:
    return [
        {"code": "EUR", "card_limit": Decimal("23000.00")},
        {"code": "USD", "card_limit": Decimal("25000.00")},
    ]


def _customer() -> dict[str, Any]:
    return {
        "csn": CUSTOMER,
        "name": "Atelier Dupont",
        "country": "FR",
        "address_line1": "1 rue de la Paix",
        "address_line2": None,
        "city": "Paris",
        "postal_code": "75002",
        "pays_by_invoice": False,
    }


def _users() -> list[dict[str, Any]]:
    def contact(email: str, role: str) -> dict[str, Any]:
        return {
            "email": email,
            "name": email.split("@")[0].title(),
            "kind": "customer",
            "role": role,
            "password_hash": None,
            "customer_csn": CUSTOMER,
            "partner_csn": None,
        }

    return [contact(BUYER, "purchaser"), contact("compta@dupont.example", "admin")]


def _prices() -> list[dict[str, Any]]:
    rows = []
    for code, by_term in _LIST_PRICES.items():
        for term, (new, renewal) in zip(_TERM_MONTHS, by_term, strict=True):
            for currency, factor in (("EUR", Decimal(1)), ("USD", Decimal("1.1"))):
                rows.append(
                    {
                        "offering_code": code,
                        "term": term,
                        "currency": currency,
                        "new_price": (Decimal(new) * factor).quantize(Decimal("0.01")),
                        "renewal_price": (Decimal(renewal) * factor).quantize(Decimal("0.01")),
                    }
                )
    return rows


def _promotions(today: date) -> list[dict[str, Any]]:
    return [
        {
            "code": "RENEW3Y10",
            "name": "10 % on 3-year renewals",
            "percent_off": Decimal("10"),
            "amount_off": None,
            "starts": today - timedelta(days=30),
            "ends": today + timedelta(days=60),
            "offerings": [],
            "terms": ["3-year"],
            "currencies": ["EUR"],
            "countries": [],
            "quote_types": ["renewal"],
        },
        {
            "code": "SEAT5",
            "name": "5 off each AutoCAD LT seat",
            "percent_off": None,
            "amount_off": Decimal("5.00"),
            "starts": None,
            "ends": today + timedelta(days=90),
            "offerings": ["ACDLT"],
            "terms": [],
            "currencies": ["EUR", "USD"],
            "countries": ["FR"],
            "quote_types": [],
        },
    ]
