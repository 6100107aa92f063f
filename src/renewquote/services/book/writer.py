"""Writing a checked book of business: an upsert of every table in one transaction.

Rows are matched on their natural keys, so loading the same file again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Table, and_, bindparam, insert, select, update

from renewquote.domain.model import ContactRole
from renewquote.services.book.checks import StoredKeys, parse_book
from renewquote.services.book.schema import Book
from renewquote.storage import tables
from renewquote.storage.database import Database
from renewquote.storage.types import ExactDecimal

# The card and PayPal limit of a currency the book does not set (API.md: only USD has one).
DEFAULT_CARD_LIMITS: Mapping[str, Decimal] = {"USD": Decimal("25000.00")}

PASSWORDS = PasswordHasher()

# Keys per query: well under SQLite's and PostgreSQL's limits on bound parameters.
_BATCH = 2000

# The tables of the sections other entries refer to, each keyed by its one primary-key column.
_REFERRED = {
    "countries": tables.countries,
    "partners": tables.partners,
    "customers": tables.customers,
    "offerings": tables.offerings,
}


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
                "vendor": _upsert(conn, tables.vendor, _vendor_rows(book)),
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


def _vendor_rows(book: Book) -> list[Values]:
    # A book without a vendor leaves the one loaded before as it is.
    if book.vendor is None:
        return []
    address = book.vendor.address
    return [
        {
            "id": 1,  # the one row the table allows
            "name": book.vendor.name,
            "address_line1": address.line1,
            "address_line2": address.line2,
            "city": address.city,
            "postal_code": address.postal_code,
            "country": address.country,
            "tax_id": book.vendor.tax_id,
            "support_email": book.vendor.support_email,
        }
    ]


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
            "tax_id": c.tax_id,
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
        table = _REFERRED[section]
        (key,) = (column.name for column in table.primary_key.columns)
        return {found for (found,) in _stored(conn, table, [key], key, keys)}

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
