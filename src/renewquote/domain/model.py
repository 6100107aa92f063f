"""The business vocabulary: terms, subscriptions, customers, prices, promotions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cache

from dateutil.relativedelta import relativedelta


class Term(StrEnum):
    """A subscription's billing term."""

    MONTHLY = "monthly"
    ANNUAL = "annual"
    THREE_YEAR = "3-year"

    @property
    def months(self) -> int:
        """Return the length of the term in months."""
        return _TERM_MONTHS[self]

    @property
    def vendor_code(self) -> str:
        """Return the vendor's code for the term (A02 monthly, A01 annual, A06 3-year)."""
        return _TERM_CODES[self]

    def end_for(self, start: date) -> date:
        """Return the last day of a term starting on `start`."""
        return _term_end(self, start)


@cache
def _term_end(term: Term, start: date) -> date:
    # Pure and asked for the same few dates again and again: remember the answers.
    return start + relativedelta(months=term.months) - timedelta(days=1)


_TERM_MONTHS = {Term.MONTHLY: 1, Term.ANNUAL: 12, Term.THREE_YEAR: 36}
_TERM_CODES = {Term.MONTHLY: "A02", Term.ANNUAL: "A01", Term.THREE_YEAR: "A06"}


class OfferingKind(StrEnum):
    """What is sold: ordinary seats, or offerings that never go on a self-service quote."""

    STANDARD = "standard"
    SUCCESS_PLAN = "success_plan"
    FLEX = "flex"


class PurchaseMethod(StrEnum):
    """How the customer bought: from the vendor, or through a reseller of record."""

    DIRECT = "direct"
    PARTNER = "partner"


class SubscriptionStatus(StrEnum):
    """A subscription's state in the vendor's books."""

    ACTIVE = "active"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class PaymentMethod(StrEnum):
    """How an order is paid."""

    CARD = "card"
    PAYPAL = "paypal"
    INVOICE = "invoice"


class CallerKind(StrEnum):
    """Who a user is: a customer's contact, a partner's user, or the vendor's staff."""

    CUSTOMER = "customer"
    PARTNER = "partner"
    STAFF = "staff"
    SYSTEM = "system"  # the worker, making automatic quotes


class ContactRole(StrEnum):
    """A customer contact's role; purchasers and admins quote and buy, users only read."""

    PURCHASER = "purchaser"
    ADMIN = "admin"
    USER = "user"


class QuoteType(StrEnum):
    """A quote holds renewals only, or new-subscription and co-term lines only."""

    RENEWAL = "renewal"
    NEW = "new"
    CO_TERM = "co-term"


class LineKind(StrEnum):
    """What one quote line does."""

    RENEWAL = "renewal"
    NEW = "new"
    CO_TERM = "co-term"


class Channel(StrEnum):
    """Who is quoting: the customer's buyer (self-service), a partner, or the vendor's staff."""

    SELF_SERVICE = "self_service"
    PARTNER = "partner"
    STAFF = "staff"
    AUTOMATIC = "automatic"  # made by the worker 30 days before subscriptions end

    @property
    def customer_rules(self) -> bool:
        """Tell whether the customer's own buying rules apply (no flex or success plan, no new
        credit line): on its buyer's quotes, and on those made for it automatically."""
        return self in (Channel.SELF_SERVICE, Channel.AUTOMATIC)


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer company as the rules see it."""

    csn: str
    name: str
    country: str
    self_service_enabled: bool
    tax_rate: Decimal
    pays_by_invoice: bool
    language: str = "en"
    tax_id: str | None = None


@dataclass(frozen=True, slots=True)
class Region:
    """A customer's country and whether it lets customers quote themselves: all that the
    region rule reads of a customer (`eligibility.region_reasons`)."""

    country: str
    self_service_enabled: bool


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription as the rules see it; `renewed_by_order` names the order that set its term."""

    id: str
    customer_csn: str
    offering_code: str
    offering_name: str
    offering_kind: OfferingKind
    quantity: int
    term: Term
    currency: str
    purchase_method: PurchaseMethod
    partner_csn: str | None
    start_date: date
    end_date: date
    status: SubscriptionStatus
    payment_method: PaymentMethod
    auto_renew: bool = True
    renewed_by_order: int | None = None


@dataclass(frozen=True, slots=True)
class Price:
    """The list prices of an offering on one term in one currency."""

    offering_code: str
    term: Term
    currency: str
    new: Decimal
    renewal: Decimal

    def for_line(self, kind: LineKind) -> Decimal:
        """Return the unit price a line of `kind` pays; monthly terms have no renewal discount."""
        if kind is LineKind.RENEWAL and self.term is not Term.MONTHLY:
            return self.renewal
        return self.new


@dataclass(frozen=True, slots=True)
class Promotion:
    """An automatic promotion; a filter left empty matches everything."""

    code: str
    name: str
    percent_off: Decimal | None
    amount_off: Decimal | None
    starts: date | None = None
    ends: date | None = None
    offerings: frozenset[str] = frozenset()
    terms: frozenset[Term] = frozenset()
    currencies: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    quote_types: frozenset[LineKind] = frozenset()


@dataclass(frozen=True, slots=True)
class Vendor:
    """The seller printed on every quote: its name, address, tax number and support address."""

    name: str
    address_line1: str
    address_line2: str | None
    city: str
    postal_code: str
    country: str
    tax_id: str
    support_email: str
