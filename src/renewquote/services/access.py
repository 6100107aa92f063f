"""Who may see and do what: every access rule, in Python and as SQL, decided here only.

A caller is a customer's contact, a partner's user or the vendor's staff. What it may see
follows from that once: a customer its own company; a partner the subscriptions it is reseller
of record for, the customers it resells to and the quotes it made; staff everything. The
services ask this module, never the caller's kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, and_, bindparam, exists, or_, select
from sqlalchemy.orm import aliased

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.model import CallerKind, Channel, ContactRole, Region
from renewquote.domain.quotes import Quote
from renewquote.domain.translations import NC_
from renewquote.storage.conditions import EVERYTHING, Condition
from renewquote.storage.tables import customers, quotes, subscriptions

__all__ = ["Caller", "CallerKind"]


_CHANNELS = {
    CallerKind.CUSTOMER: Channel.SELF_SERVICE,
    CallerKind.PARTNER: Channel.PARTNER,
    CallerKind.STAFF: Channel.STAFF,
    CallerKind.SYSTEM: Channel.AUTOMATIC,
}
_BUYER_ROLES = frozenset({ContactRole.PURCHASER, ContactRole.ADMIN})


SYSTEM_EMAIL = "system"


@dataclass(frozen=True, slots=True)
class Caller:
    """The signed-in person on whose behalf a service acts, and what that lets it reach."""

    email: str
    kind: CallerKind
    user_id: int | None = None
    role: ContactRole | None = None
    customer_csn: str | None = None
    partner_csn: str | None = None
    language: str | None = None  # the portal's language the user chose, if any
    # A customer's contact: its company's country and self-service flag, read with the user.
    region: Region | None = None

    @property
    def channel(self) -> Channel:
        """Return the channel this caller quotes through."""
        return _CHANNELS[self.kind]

    @property
    def is_customer(self) -> bool:
        """Tell whether the caller belongs to a customer company."""
        return self.kind is CallerKind.CUSTOMER

    @property
    def is_staff(self) -> bool:
        """Tell whether the caller is the vendor's staff."""
        return self.kind is CallerKind.STAFF

    @property
    def partner(self) -> str | None:
        """Return the partner CSN that bounds what this caller sees, if it is a partner."""
        return self.partner_csn if self.kind is CallerKind.PARTNER else None

    @property
    def may_buy(self) -> bool:
        """Tell whether the caller may quote and order (customer users may only read)."""
        return self.kind is not CallerKind.CUSTOMER or self.role in _BUYER_ROLES

    @classmethod
    def system(cls) -> Caller:
        """Return the worker acting on its own: it reaches every customer, as staff does, and
        quotes through the automatic channel."""
        return cls(email=SYSTEM_EMAIL, kind=CallerKind.SYSTEM)

    # Python checks ------------------------------------------------------------------------

    def require_buyer(self) -> None:
        """Refuse a read-only customer user."""
        if not self.may_buy:
            raise RuleViolation.one(
                Code.FORBIDDEN, why=NC_("rule", "only purchasers and admins quote and order")
            )

    def customer_to_quote(self, asked: str | None) -> str:
        """Return the customer a quote or a list is about: a customer's own, or the one asked
        for by a partner or staff member (which they must name)."""
        if self.kind is CallerKind.CUSTOMER:
            if asked not in (None, self.customer_csn):
                raise RuleViolation.one(Code.NOT_FOUND, thing="customer")
            assert self.customer_csn is not None
            return self.customer_csn
        if asked is None:
            raise RuleViolation.one(
                Code.INVALID_INPUT,
                field="customer_csn",
                problem=NC_("rule", "name the customer to quote"),
            )
        return asked

    def customer_scope(self, asked: str | None) -> str | None:
        """Return the customer a list is narrowed to: a customer's own, what a partner or
        staff member asked (a partner may ask for none: every customer it resells to)."""
        if self.kind is CallerKind.STAFF and asked is None:
            raise RuleViolation.one(
                Code.INVALID_INPUT,
                field="customer_csn",
                problem=NC_("rule", "staff name the customer"),
            )
        if self.kind is CallerKind.PARTNER and asked is None:
            return None
        return self.customer_to_quote(asked)

    def own_region(self, csn: str) -> Region | None:
        """Return the region of customer `csn` if it is the caller's own company and the
        caller knows it (a list then reads no customer), else None."""
        return (
            self.region if self.kind is CallerKind.CUSTOMER and csn == self.customer_csn else None
        )

    def sees(self, quote: Quote) -> bool:
        """Tell whether the caller may see `quote`.

        A customer sees its company's quotes, but not the drafts a partner or staff member is
        still preparing for it; a partner the quotes it made; staff every quote.
        """
        if self.kind in (CallerKind.STAFF, CallerKind.SYSTEM):
            return True
        if self.kind is CallerKind.PARTNER:
            return quote.channel is Channel.PARTNER and quote.partner_csn == self.partner_csn
        return quote.customer_csn == self.customer_csn and (
            quote.status is not QuoteStatus.DRAFT or quote.channel is Channel.SELF_SERVICE
        )

    def require_maker(self, quote: Quote) -> None:
        """Refuse to change a quote that another party made (it may still see and buy it).

        Only the party that made a quote edits, sends or replaces it: the customer's buyers for
        a self-service quote, that partner for its own, staff for staff's.
        """
        self.require_buyer()
        if not self._made(quote):
            raise RuleViolation.one(Code.NOT_QUOTE_MAKER, channel=quote.channel.value)

    def may_edit(self, quote: Quote) -> bool:
        """Tell whether the caller may change (edit, send, replace) `quote`."""
        return self.may_buy and self._made(quote)

    def may_cancel(self, quote: Quote) -> bool:
        """Tell whether the caller may cancel `quote` (the partner that made it, or staff)."""
        if self.kind is CallerKind.CUSTOMER:
            return False
        return self.kind is not CallerKind.PARTNER or self._made(quote)

    def require_canceller(self, quote: Quote) -> None:
        """Refuse a cancellation by anyone but the partner that made the quote or staff."""
        if self.kind is CallerKind.CUSTOMER:
            raise RuleViolation.one(Code.CANCELLATION_NOT_SELF_SERVICE)
        if self.kind is CallerKind.PARTNER and not self._made(quote):
            raise RuleViolation.one(Code.NOT_QUOTE_MAKER, channel=quote.channel.value)

    def _made(self, quote: Quote) -> bool:
        if self.kind is CallerKind.STAFF:
            return quote.channel is Channel.STAFF
        if self.kind is CallerKind.SYSTEM:
            return quote.channel is Channel.AUTOMATIC
        if self.kind is CallerKind.PARTNER:
            return quote.channel is Channel.PARTNER and quote.partner_csn == self.partner_csn
        return quote.channel is Channel.SELF_SERVICE and quote.customer_csn == self.customer_csn

    # SQL filters ---------------------------------------------------------------------------

    def subscriptions_visible(self) -> Condition:
        """Return the condition on `subscriptions` rows the caller may see."""
        if self.kind is CallerKind.CUSTOMER:
            return Condition("own subscriptions", _OWN_SUBSCRIPTIONS, self._customer_param)
        if self.kind is CallerKind.PARTNER:
            return Condition("resold subscriptions", _RESOLD_SUBSCRIPTIONS, self._partner_param)
        return EVERYTHING

    def quotes_visible(self) -> Condition:
        """Return the condition on `quotes` rows the caller may see (as `sees` decides)."""
        if self.kind is CallerKind.CUSTOMER:
            return Condition("own quotes", _OWN_QUOTES, self._customer_param)
        if self.kind is CallerKind.PARTNER:
            return Condition("partner's quotes", _PARTNERS_QUOTES, self._partner_param)
        return EVERYTHING

    def customer_reachable(self) -> Condition:
        """Return the condition on `customers` rows the caller may quote and list for: its own
        company, the customers a partner resells anything to, any customer for staff."""
        if self.kind is CallerKind.CUSTOMER:
            return Condition("own company", _OWN_COMPANY, self._customer_param)
        if self.kind is CallerKind.PARTNER:
            return Condition("partner's customers", _RESOLD_TO, self._partner_param)
        return EVERYTHING

    @property
    def _customer_param(self) -> dict[str, Any]:
        return {"caller_customer_csn": self.customer_csn}

    @property
    def _partner_param(self) -> dict[str, Any]:
        return {"caller_partner_csn": self.partner_csn}


# The clauses of the conditions above, built once with the caller's CSN as a bound parameter.
_CALLER_CUSTOMER: BindParameter[str] = bindparam("caller_customer_csn")
_CALLER_PARTNER: BindParameter[str] = bindparam("caller_partner_csn")
_OWN_SUBSCRIPTIONS = subscriptions.c.customer_csn == _CALLER_CUSTOMER
_RESOLD_SUBSCRIPTIONS = subscriptions.c.partner_csn == _CALLER_PARTNER
_OWN_QUOTES = and_(
    quotes.c.customer_csn == _CALLER_CUSTOMER,
    or_(
        quotes.c.status != QuoteStatus.DRAFT.value,
        quotes.c.channel == Channel.SELF_SERVICE.value,
    ),
)
_PARTNERS_QUOTES = and_(
    quotes.c.channel == Channel.PARTNER.value, quotes.c.partner_csn == _CALLER_PARTNER
)
_OWN_COMPANY = customers.c.csn == _CALLER_CUSTOMER
_RESOLD = aliased(subscriptions, name="resold")
_RESOLD_TO = exists(
    select(_RESOLD.c.id).where(
        _RESOLD.c.customer_csn == customers.c.csn, _RESOLD.c.partner_csn == _CALLER_PARTNER
    )
)
