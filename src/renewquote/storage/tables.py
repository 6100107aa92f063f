"""The tables of renewquote as SQLAlchemy 2 models; services query them with Core statements.

Natural keys (CSN, offering code, subscription id, e-mail) are the keys where the book of
business has them, so loading is an upsert and the hot queries need no joins to name things.
Enumerations are plain strings checked by the domain's enums; money is `ExactDecimal`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from renewquote.storage.types import ExactDecimal

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CSN = String(20)
CODE = String(40)
EMAIL = String(254)
NAME = String(200)


class Base(DeclarativeBase):
    """Declarative base with constraint names that migrations can rely on."""

    metadata = MetaData(naming_convention=NAMING)


class Country(Base):
    """A country: whether its customers may quote themselves, its tax rate, its language."""

    __tablename__ = "countries"
    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    self_service_quotes: Mapped[bool] = mapped_column(Boolean)
    tax_rate: Mapped[Decimal] = mapped_column(ExactDecimal)
    language: Mapped[str] = mapped_column(String(8))


class Currency(Base):
    """A currency and its card and PayPal limit (none if null)."""

    __tablename__ = "currencies"
    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    card_limit: Mapped[Decimal | None] = mapped_column(ExactDecimal)


class Partner(Base):
    """A reseller of record."""

    __tablename__ = "partners"
    csn: Mapped[str] = mapped_column(CSN, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    country: Mapped[str] = mapped_column(ForeignKey("countries.code"))


class Customer(Base):
    """A customer company and its billing address."""

    __tablename__ = "customers"
    csn: Mapped[str] = mapped_column(CSN, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    country: Mapped[str] = mapped_column(ForeignKey("countries.code"))
    address_line1: Mapped[str] = mapped_column(NAME)
    address_line2: Mapped[str | None] = mapped_column(NAME)
    city: Mapped[str] = mapped_column(NAME)
    postal_code: Mapped[str] = mapped_column(String(20))
    pays_by_invoice: Mapped[bool] = mapped_column(Boolean)
    tax_id: Mapped[str | None] = mapped_column(String(40))


class Vendor(Base):
    """The seller printed on every quote: its address, tax number and support address."""

    __tablename__ = "vendor"
    # One vendor, so one row: the book of business writes it as row 1.
    __table_args__ = (CheckConstraint("id = 1", name="ck_vendor_one_row"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(NAME)
    address_line1: Mapped[str] = mapped_column(NAME)
    address_line2: Mapped[str | None] = mapped_column(NAME)
    city: Mapped[str] = mapped_column(NAME)
    postal_code: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    tax_id: Mapped[str] = mapped_column(String(40))
    support_email: Mapped[str] = mapped_column(EMAIL)


class User(Base):
    """Someone who signs in or receives quotes: staff, a partner's user, a customer contact."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(EMAIL, unique=True)
    name: Mapped[str] = mapped_column(NAME)
    kind: Mapped[str] = mapped_column(String(10))  # staff | partner | customer
    role: Mapped[str | None] = mapped_column(String(10))  # purchaser | admin | user
    password_hash: Mapped[str | None] = mapped_column(String(200))
    customer_csn: Mapped[str | None] = mapped_column(ForeignKey("customers.csn"), index=True)
    partner_csn: Mapped[str | None] = mapped_column(ForeignKey("partners.csn"), index=True)
    # The portal's language the user chose (en | fr); None: the browser's.
    language: Mapped[str | None] = mapped_column(String(2))


class Offering(Base):
    """Something the vendor sells on subscription."""

    __tablename__ = "offerings"
    code: Mapped[str] = mapped_column(CODE, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    kind: Mapped[str] = mapped_column(String(20))


class Price(Base):
    """New and renewal prices of an offering on one term in one currency."""

    __tablename__ = "prices"
    offering_code: Mapped[str] = mapped_column(ForeignKey("offerings.code"), primary_key=True)
    term: Mapped[str] = mapped_column(String(10), primary_key=True)
    currency: Mapped[str] = mapped_column(ForeignKey("currencies.code"), primary_key=True)
    new_price: Mapped[Decimal] = mapped_column(ExactDecimal)
    renewal_price: Mapped[Decimal] = mapped_column(ExactDecimal)


class Promotion(Base):
    """An automatic promotion; empty filter lists match everything."""

    __tablename__ = "promotions"
    code: Mapped[str] = mapped_column(CODE, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    percent_off: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    amount_off: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    starts: Mapped[date | None] = mapped_column(Date)
    ends: Mapped[date | None] = mapped_column(Date, index=True)
    offerings: Mapped[list[str]] = mapped_column(JSON)
    terms: Mapped[list[str]] = mapped_column(JSON)
    currencies: Mapped[list[str]] = mapped_column(JSON)
    countries: Mapped[list[str]] = mapped_column(JSON)
    quote_types: Mapped[list[str]] = mapped_column(JSON)


class Subscription(Base):
    """A subscription; `renewed_by_order` is the order that set its current term, if any."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        # In the order renewal groups read them (end date, then id): no sort to do.
        Index("ix_subscriptions_customer_end", "customer_csn", "end_date", "id"),
        Index("ix_subscriptions_partner_end", "partner_csn", "end_date", "id"),
    )
    id: Mapped[str] = mapped_column(CODE, primary_key=True)
    customer_csn: Mapped[str] = mapped_column(ForeignKey("customers.csn"))
    offering_code: Mapped[str] = mapped_column(ForeignKey("offerings.code"))
    quantity: Mapped[int] = mapped_column(Integer)
    term: Mapped[str] = mapped_column(String(10))
    currency: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    purchase_method: Mapped[str] = mapped_column(String(10))
    partner_csn: Mapped[str | None] = mapped_column(ForeignKey("partners.csn"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))
    payment_method: Mapped[str] = mapped_column(String(10))
    auto_renew: Mapped[bool] = mapped_column(Boolean)
    renewed_by_order: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    # The sent quote that changes this subscription's seats or term, and switched auto-renew off
    # until it is ordered or ends.
    auto_renew_held_by: Mapped[int | None] = mapped_column(ForeignKey("quotes.id"), index=True)


class Quote(Base):
    """A quote; its number is derived from its year and id, which are never reused."""

    __tablename__ = "quotes"
    __table_args__ = (
        Index("ix_quotes_customer_status", "customer_csn", "status"),
        Index("ix_quotes_partner_status", "partner_csn", "status"),
        Index("ix_quotes_status_expires", "status", "expires_at"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(12))
    customer_csn: Mapped[str] = mapped_column(ForeignKey("customers.csn"))
    partner_csn: Mapped[str | None] = mapped_column(ForeignKey("partners.csn"))
    currency: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    purchase_method: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(8))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contact_email: Mapped[str | None] = mapped_column(EMAIL)
    address_line1: Mapped[str] = mapped_column(NAME)
    address_line2: Mapped[str | None] = mapped_column(NAME)
    city: Mapped[str] = mapped_column(NAME)
    postal_code: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    tax_rate: Mapped[Decimal] = mapped_column(ExactDecimal)
    subtotal: Mapped[Decimal] = mapped_column(ExactDecimal)
    discount_total: Mapped[Decimal] = mapped_column(ExactDecimal)
    tax: Mapped[Decimal] = mapped_column(ExactDecimal)
    total: Mapped[Decimal] = mapped_column(ExactDecimal)
    expires_at: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When its recipients were reminded that it expires soon (once).
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    replaces_quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id"))


class QuoteLine(Base):
    """A quote line as priced; never recomputed once stored."""

    __tablename__ = "quote_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    subscription_id: Mapped[str | None] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    align_to_subscription_id: Mapped[str | None] = mapped_column(ForeignKey("subscriptions.id"))
    offering_code: Mapped[str] = mapped_column(ForeignKey("offerings.code"))
    offering_name: Mapped[str] = mapped_column(NAME)
    quantity: Mapped[int] = mapped_column(Integer)
    term: Mapped[str] = mapped_column(String(10))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    unit_price: Mapped[Decimal] = mapped_column(ExactDecimal)
    subtotal: Mapped[Decimal] = mapped_column(ExactDecimal)
    promotion_code: Mapped[str | None] = mapped_column(CODE)
    promotion_name: Mapped[str | None] = mapped_column(NAME)
    promotion_why: Mapped[str | None] = mapped_column(String(400))
    discount: Mapped[Decimal] = mapped_column(ExactDecimal)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal)
    tax: Mapped[Decimal] = mapped_column(ExactDecimal)


class QuoteRecipient(Base):
    """Someone a quote goes to: the buyer, the customer contact a partner named, or another."""

    __tablename__ = "quote_recipients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"), index=True)
    email: Mapped[str] = mapped_column(EMAIL)
    name: Mapped[str | None] = mapped_column(NAME)
    role: Mapped[str] = mapped_column(String(10))  # buyer | contact | extra
    # How the latest mail to this recipient went, and whether its links were opened.
    delivery: Mapped[str | None] = mapped_column(String(10))  # pending | sent | failed
    delivery_at: Mapped[datetime | None] = mapped_column(DateTime)
    delivery_error: Mapped[str | None] = mapped_column(String(500))
    viewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    view_count: Mapped[int] = mapped_column(Integer, server_default="0")


class QuoteLink(Base):
    """A link given to a recipient (in a quote's mail, a reminder, a new link asked for):
    only its SHA-256 is kept."""

    __tablename__ = "quote_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("quote_recipients.id"), index=True)
    link_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class QuoteEvent(Base):
    """The audit trail: one row for every change of a quote (who, when, what)."""

    __tablename__ = "quote_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(EMAIL)
    action: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    # When the event was handed to the webhook endpoints that listen to it (null: not yet).
    published_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)


class Order(Base):
    """An order placed from a quote; a quote is ordered at most once."""

    __tablename__ = "orders"
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"), unique=True)
    currency: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    total: Mapped[Decimal] = mapped_column(ExactDecimal)
    payment_method: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(EMAIL)


class SubscriptionRenewal(Base):
    """What an order did to a subscription; unique per term, so a term renews at most once."""

    __tablename__ = "subscription_renewals"
    __table_args__ = (UniqueConstraint("subscription_id", "previous_end_date"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"))
    previous_end_date: Mapped[date] = mapped_column(Date)
    new_end_date: Mapped[date] = mapped_column(Date)
    previous_quantity: Mapped[int] = mapped_column(Integer)
    new_quantity: Mapped[int] = mapped_column(Integer)
    previous_term: Mapped[str] = mapped_column(String(10))
    new_term: Mapped[str] = mapped_column(String(10))


class OutboxMessage(Base):
    """A message to send once its transaction commits: an e-mail or a webhook."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "available_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending -> sending (claimed by a worker until lease_until) -> sent | failed
    status: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    available_at: Mapped[datetime] = mapped_column(DateTime)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(2000))


class AutomaticQuoteTerm(Base):
    """A subscription's term that an automatic quote was made for: unique, so that however
    many workers run, one term is quoted automatically once."""

    __tablename__ = "automatic_quote_terms"
    __table_args__ = (UniqueConstraint("subscription_id", "end_date"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"))
    end_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class QuoteRequest(Base):
    """A customer's request to a partner for a renewal quote on chosen subscriptions, and how
    the partner answered it (a quote, or no)."""

    __tablename__ = "quote_requests"
    __table_args__ = (
        Index("ix_quote_requests_partner_status", "partner_csn", "status"),
        Index("ix_quote_requests_customer", "customer_csn"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_csn: Mapped[str] = mapped_column(ForeignKey("customers.csn"))
    partner_csn: Mapped[str] = mapped_column(ForeignKey("partners.csn"))
    requested_by: Mapped[str] = mapped_column(EMAIL)
    subscription_ids: Mapped[list[str]] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(String(1000))
    # open -> answered (a quote made for it) | declined (the partner's reason in `answer`)
    status: Mapped[str] = mapped_column(String(10), default="open", server_default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answer: Mapped[str | None] = mapped_column(String(500))


class WebhookEndpoint(Base):
    """Where staff or a partner want quote events posted (Standard Webhooks), and the secret
    they are signed with."""

    __tablename__ = "webhook_endpoints"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))
    # The partner whose quotes' events it receives; null for the vendor's staff (every quote).
    partner_csn: Mapped[str | None] = mapped_column(ForeignKey("partners.csn"), index=True)
    created_by: Mapped[str] = mapped_column(EMAIL)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    disabled_why: Mapped[str | None] = mapped_column(String(200))


class ApiToken(Base):
    """A bearer token, kept only as its SHA-256; it expires and can be revoked."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class IdempotencyKey(Base):
    """The first answer to a POST sent with an Idempotency-Key, kept 24 hours."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("owner", "key"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(EMAIL)
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)  # null while the first is running
    response_body: Mapped[str | None] = mapped_column(String)
    content_type: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class SignInThrottle(Base):
    """Failed sign-ins of one subject (an account from one address, or one address, hashed),
    and when the last one was: how long the next attempt waits follows from both."""

    __tablename__ = "sign_in_throttles"
    subject: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime)


class DataVersion(Base):
    """A mark that changes with every change to a subject (`promotions`): triggers of
    migration 0012 give it a new random value in the changing statement's transaction.

    A migration that rebuilds `promotions` on SQLite (Alembic's batch mode copies the table)
    drops its triggers: it must create them again (tests/integration/test_promotions_kept.py
    checks they exist at head). On PostgreSQL every transaction that changes promotions holds
    the row's lock until it ends: two book loads take turns.
    """

    __tablename__ = "data_versions"
    subject: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


countries = _table(Country)
currencies = _table(Currency)
partners = _table(Partner)
customers = _table(Customer)
vendor = _table(Vendor)
users = _table(User)
offerings = _table(Offering)
prices = _table(Price)
promotions = _table(Promotion)
subscriptions = _table(Subscription)
quotes = _table(Quote)
quote_lines = _table(QuoteLine)
quote_recipients = _table(QuoteRecipient)
quote_links = _table(QuoteLink)
quote_events = _table(QuoteEvent)
orders = _table(Order)
subscription_renewals = _table(SubscriptionRenewal)
outbox = _table(OutboxMessage)
webhook_endpoints = _table(WebhookEndpoint)
automatic_quote_terms = _table(AutomaticQuoteTerm)
quote_requests = _table(QuoteRequest)
api_tokens = _table(ApiToken)
idempotency_keys = _table(IdempotencyKey)
sign_in_throttles = _table(SignInThrottle)
data_versions = _table(DataVersion)
