"""The benchmarks' books of business: one generator of rows for both, loaded fast.

A `Book` says how many customers there are, how many subscriptions each holds, and which mix of
subscriptions (with the promotions running over them). `ENGINE_BOOK` is bench/run.py's: one
customer holding 100,000 subscriptions; `HTTP_BOOK` is bench/http_load.py's: 10,000 customers of
50 subscriptions each. Both have the same countries, currencies, partner, offerings and prices.

The schema comes from the real migrations; the rows go in with plain Core `executemany`, in
chunks (or PostgreSQL's COPY), because loading through the services would make setup slower
than the benchmarks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import Connection, Table, insert, select

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

PARTNER = "5100000001"
CHUNK = 10_000

# The engine benchmark's book: one customer and its buyer.
CUSTOMER = "5200000001"
BUYER = "marie@dupont.example"
SUBSCRIPTIONS = 100_000
# The first subscriptions are the quotes benchmark's: eligible today, EUR, bought direct.
QUOTED = 10_000

# The HTTP benchmark's book: every customer holds the same mix of 50 subscriptions.
CUSTOMERS = 10_000
SUBSCRIPTIONS_EACH = 50
QUOTED_EACH = 5  # each customer's first five: annual, EUR, bought direct, in the window
ELIGIBLE_EACH = 40  # of the 50; the last 10 are ineligible, each for a reason
ANNUAL_PROMOTION = "RENEWANNUAL15"

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
SUBSCRIPTION_COLUMNS = (
    "id",
    "customer_csn",
    "offering_code",
    "quantity",
    "term",
    "currency",
    "purchase_method",
    "partner_csn",
    "start_date",
    "end_date",
    "status",
    "payment_method",
    "auto_renew",
    "renewed_by_order",
)


@dataclass(frozen=True, slots=True)
class Subscription:
    """What a mix decides about one subscription; the row's other columns follow from it."""

    offering: str
    term: str
    end: date
    quantity: int
    status: str = "active"
    currency: str = "EUR"
    through_partner: bool = False


# customer n (from 1), its subscription k (from 1), today, the book's one random generator.
Mix = Callable[[int, int, date, random.Random], Subscription]


@dataclass(frozen=True, slots=True)
class Promotion:
    """A running promotion, its dates in days from today (`starts` None: no start)."""

    code: str
    name: str
    percent_off: Decimal | None
    amount_off: Decimal | None
    starts: int | None
    ends: int
    offerings: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    currencies: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    quote_types: tuple[str, ...] = ()

    def row(self, today: date) -> dict[str, Any]:
        """Return the promotions row, dated from `today`."""
        return {
            "code": self.code,
            "name": self.name,
            "percent_off": self.percent_off,
            "amount_off": self.amount_off,
            "starts": None if self.starts is None else today + timedelta(days=self.starts),
            "ends": today + timedelta(days=self.ends),
            "offerings": list(self.offerings),
            "terms": list(self.terms),
            "currencies": list(self.currencies),
            "countries": list(self.countries),
            "quote_types": list(self.quote_types),
        }


@dataclass(frozen=True, slots=True)
class Book:
    """A book of business: how many customers, how many subscriptions each, which mix.

    The text fields are `str.format` patterns of `n`, the customer's number from 1, and for
    `subscription_id` also `k`, the subscription's number within the customer from 1.
    """

    customers: int
    subscriptions_each: int
    mix: Mix
    promotions: tuple[Promotion, ...]
    subscription_id: str
    customer_name: str
    buyer: str  # the customer's purchaser, by e-mail
    buyer_name: str
    admin: str | None  # a second contact of the customer, an admin, by e-mail
    partner_name: str
    seed: int = 20261128  # of the one random generator the mix draws from, in row order

    @property
    def subscriptions(self) -> int:
        """How many subscriptions the whole book holds."""
        return self.customers * self.subscriptions_each

    def csn(self, n: int) -> str:
        """Return customer n's CSN."""
        return f"52{n:08d}"

    def sid(self, n: int, k: int) -> str:
        """Return the id of customer n's subscription k."""
        return self.subscription_id.format(n=n, k=k)


def quoted_block_then_random(n: int, k: int, today: date, rng: random.Random) -> Subscription:
    """The engine benchmark's mix: the QUOTED first subscriptions eligible, then a seeded mix.

    The block: active, standard, EUR, bought direct, ending 1 to 85 days from today, annual or
    3-year. The mix puts end dates from 200 days ago to 400 days ahead (before, inside and after
    the renewal window), with a few % cancelled, flex and success plans, two currencies, direct
    and partner purchases, and monthly, annual and 3-year terms.
    """
    if k <= QUOTED:
        return Subscription(
            offering="ACDLT" if k % 2 else "RVT",
            term="3-year" if k % 5 == 0 else "annual",
            end=today + timedelta(days=1 + k % 85),
            quantity=1 + k % 50,
        )
    end = today + timedelta(days=rng.randint(-200, 400))
    kind = rng.random()
    offering = (
        "FLEX" if kind < 0.04 else "SUCC" if kind < 0.07 else "ACDLT" if kind < 0.6 else "RVT"
    )
    term = rng.choices(("monthly", "annual", "3-year"), weights=(20, 60, 20))[0]
    currency = "EUR" if rng.random() < 0.7 else "USD"
    through_partner = rng.random() < 0.4
    if rng.random() < 0.03:
        status = "cancelled"
    else:
        status = "expired" if end < today - timedelta(days=60) else "active"
    return Subscription(
        offering=offering,
        term=term,
        end=end,
        quantity=rng.randint(1, 80),
        status=status,
        currency=currency,
        through_partner=through_partner,
    )


def forty_eligible_ten_not(n: int, k: int, today: date, rng: random.Random) -> Subscription:
    """The HTTP benchmark's mix, the same for every customer: 40 eligible in two groups, 10 not.

    1-20 annual, 21-25 3-year, 26-30 monthly, all EUR bought direct (1-5 are the quoted ones);
    31-40 annual through the partner; then 3 whose window is not open yet, 2 expired past their
    grace, 2 cancelled, 3 flex or success plans (not for self-service). End dates are spread
    over the window by customer, so customers do not all renew on the same day.
    """
    spread = (n * 7 + k) % 85
    offering, term, status, partner = ("ACDLT" if k % 2 else "RVT"), "annual", "active", False
    end = today + timedelta(days=1 + spread)
    if 21 <= k <= 25:
        term = "3-year"
    elif 26 <= k <= 30:
        term, end = "monthly", today + timedelta(days=1 + spread % 25)
    elif 31 <= k <= 40:
        partner = True
    elif 41 <= k <= 43:
        end = today + timedelta(days=150 + spread * 3)
    elif 44 <= k <= 45:
        end, status = today - timedelta(days=100 + spread), "expired"
    elif 46 <= k <= 47:
        status = "cancelled"
    elif k > 47:
        offering = "FLEX" if k < 50 else "SUCC"
    return Subscription(
        offering=offering,
        term=term,
        end=end,
        quantity=1 + (n + k) % 5,
        status=status,
        through_partner=partner,
    )


ENGINE_BOOK = Book(
    customers=1,
    subscriptions_each=SUBSCRIPTIONS,
    mix=quoted_block_then_random,
    promotions=(
        Promotion(
            code="RENEW3Y10",
            name="10 % on 3-year renewals",
            percent_off=Decimal("10"),
            amount_off=None,
            starts=-30,
            ends=60,
            terms=("3-year",),
            currencies=("EUR",),
            quote_types=("renewal",),
        ),
        Promotion(
            code="SEAT5",
            name="5 off each AutoCAD LT seat",
            percent_off=None,
            amount_off=Decimal("5.00"),
            starts=None,
            ends=90,
            offerings=("ACDLT",),
            currencies=("EUR", "USD"),
            countries=("FR",),
        ),
    ),
    subscription_id="SUB-{k:06d}",
    customer_name="Atelier Dupont",
    buyer=BUYER,
    buyer_name="Marie",
    admin="compta@dupont.example",
    partner_name="CAD Partenaire SARL",
)

HTTP_BOOK = Book(
    customers=CUSTOMERS,
    subscriptions_each=SUBSCRIPTIONS_EACH,
    mix=forty_eligible_ten_not,
    promotions=(
        Promotion(
            code=ANNUAL_PROMOTION,
            name="15 % off annual renewals",
            percent_off=Decimal("15"),
            amount_off=None,
            starts=-30,
            ends=60,
            terms=("annual",),
            currencies=("EUR",),
            quote_types=("renewal",),
        ),
    ),
    subscription_id="SUB-{n:05d}-{k:02d}",
    customer_name="Atelier {n:05d}",
    # No password: the benchmark mints tokens directly, as `renewquote token` does.
    buyer="buyer@atelier-{n:05d}.example",
    buyer_name="Buyer {n:05d}",
    admin=None,
    partner_name="CAD Partenaire",
)


def create_book(db: Database, today: date) -> int:
    """Migrate `db` to head and load the engine benchmark's book; return the buyer's user id."""
    upgrade(db)
    with db.engine.begin() as conn:
        insert_book(conn, ENGINE_BOOK, today)
        buyer_id = conn.execute(select(users.c.id).where(users.c.email == BUYER)).scalar_one()
    # Fresh statistics, as a database that has lived a while would have.
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return int(buyer_id)


def quoted_ids() -> list[str]:
    """Return the ids of the subscriptions the quotes benchmark renews, in order."""
    return [ENGINE_BOOK.sid(1, k) for k in range(1, QUOTED + 1)]


def insert_book(conn: Connection, book: Book, today: date, *, copy: bool = False) -> None:
    """Insert every row of `book` on `conn`, the subscriptions by COPY (PostgreSQL) if `copy`."""
    for table, rows in _reference_rows(book, today).items():
        conn.execute(insert(table), rows)
    conn.execute(insert(customers), customer_rows(book))
    conn.execute(insert(users), user_rows(book))
    if copy:
        # 500,000 rows go in in seconds instead of a minute.
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        statement = f"COPY subscriptions ({', '.join(SUBSCRIPTION_COLUMNS)}) FROM STDIN"
        with cursor.copy(statement) as rows:
            for row in subscription_rows(book, today):
                rows.write_row(tuple(row.values()))
        cursor.close()
    else:
        for chunk in _chunks(subscription_rows(book, today), CHUNK):
            conn.execute(insert(subscriptions), chunk)


def customer_rows(book: Book) -> list[dict[str, Any]]:
    """Return the customers, all in France, paying by card."""
    return [
        {
            "csn": book.csn(n),
            "name": book.customer_name.format(n=n),
            "country": "FR",
            "address_line1": f"{n} rue de la Paix",
            "address_line2": None,
            "city": "Paris",
            "postal_code": "75002",
            "pays_by_invoice": False,
        }
        for n in range(1, book.customers + 1)
    ]


def user_rows(book: Book) -> list[dict[str, Any]]:
    """Return each customer's purchaser, then its admin if the book has one; no passwords."""

    def contact(n: int, email: str, name: str, role: str) -> dict[str, Any]:
        return {
            "email": email,
            "name": name,
            "kind": "customer",
            "role": role,
            "password_hash": None,
            "customer_csn": book.csn(n),
            "partner_csn": None,
        }

    rows = []
    for n in range(1, book.customers + 1):
        rows.append(contact(n, book.buyer.format(n=n), book.buyer_name.format(n=n), "purchaser"))
        if book.admin is not None:
            admin = book.admin.format(n=n)
            rows.append(contact(n, admin, admin.split("@")[0].title(), "admin"))
    return rows


def subscription_rows(book: Book, today: date) -> Iterator[dict[str, Any]]:
    """Yield every customer's subscriptions in order, as `book.mix` decides them."""
    rng = random.Random(book.seed)
    # relativedelta is most of the time a row takes, and the same (end, term) comes back often.
    starts: dict[tuple[date, str], date] = {}
    for n in range(1, book.customers + 1):
        for k in range(1, book.subscriptions_each + 1):
            s = book.mix(n, k, today, rng)
            partner = PARTNER if s.through_partner else None
            start = starts.get((s.end, s.term))
            if start is None:
                start = s.end + timedelta(days=1) - relativedelta(months=_TERM_MONTHS[s.term])
                starts[s.end, s.term] = start
            yield {
                "id": book.sid(n, k),
                "customer_csn": book.csn(n),
                "offering_code": s.offering,
                "quantity": s.quantity,
                "term": s.term,
                "currency": s.currency,
                "purchase_method": "partner" if partner else "direct",
                "partner_csn": partner,
                "start_date": start,
                "end_date": s.end,
                "status": s.status,
                "payment_method": "invoice" if partner else "card",
                "auto_renew": True,
                "renewed_by_order": None,
            }


def _reference_rows(book: Book, today: date) -> dict[Table, list[dict[str, Any]]]:
    return {
        countries: [
            {
                "code": "FR",
                "self_service_quotes": True,
                "tax_rate": Decimal("0.20"),
                "language": "fr",
            },
            {
                "code": "GB",
                "self_service_quotes": True,
                "tax_rate": Decimal("0.20"),
                "language": "en",
            },
        ],
        currencies: [
            {"code": "EUR", "card_limit": Decimal("23000.00")},
            {"code": "USD", "card_limit": Decimal("25000.00")},
        ],
        partners: [{"csn": PARTNER, "name": book.partner_name, "country": "FR"}],
        offerings: [{"code": c, "name": n, "kind": k} for c, n, k in _OFFERINGS],
        prices: _prices(),
        promotions: [p.row(today) for p in book.promotions],
    }


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


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
