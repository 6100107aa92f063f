"""One error type for every broken rule: a stable code, the subscriptions concerned, a message."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from renewquote.domain.messages import render


class Code(StrEnum):
    """The rule codes of RULES.md, plus the few the services need around them."""

    REGION_NOT_ENABLED = "region_not_enabled"
    NOT_RENEWABLE = "not_renewable"
    MIXED_QUOTE_TYPES = "mixed_quote_types"
    MIXED_CUSTOMER = "mixed_customer"
    MIXED_CURRENCY = "mixed_currency"
    CURRENCY_CHANGE = "currency_change"
    MIXED_PARTNER = "mixed_partner"
    MIXED_PURCHASE_METHOD = "mixed_purchase_method"
    SEAT_INCREASE = "seat_increase"
    INELIGIBLE_OFFERING = "ineligible_offering"
    NEW_CREDIT_LINE = "new_credit_line"
    START_DATE_NOT_ALLOWED = "start_date_not_allowed"
    ADDRESS_LOCKED = "address_locked"
    CANCELLATION_NOT_SELF_SERVICE = "cancellation_not_self_service"
    TOO_MANY_RECIPIENTS = "too_many_recipients"
    TOO_MANY_LINES = "too_many_lines"
    QUOTE_NOT_EDITABLE = "quote_not_editable"
    QUOTE_EXPIRED = "quote_expired"
    QUOTE_SUPERSEDED = "quote_superseded"
    CARD_LIMIT_EXCEEDED = "card_limit_exceeded"
    # Added where RULES.md is silent; see docs/rules.md.
    QUOTE_NOT_SENT = "quote_not_sent"
    QUOTE_ORDERED = "quote_ordered"
    QUOTE_CANCELLED = "quote_cancelled"
    EMPTY_QUOTE = "empty_quote"
    DUPLICATE_LINE = "duplicate_line"
    COTERM_MISMATCH = "coterm_mismatch"
    PRICE_NOT_FOUND = "price_not_found"
    UNKNOWN_CONTACT = "unknown_contact"
    INVALID_INPUT = "invalid_input"
    PAYMENT_DECLINED = "payment_declined"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    NOT_QUOTE_MAKER = "not_quote_maker"
    WEBHOOK_URL_NOT_ALLOWED = "webhook_url_not_allowed"
    # Refusals of the HTTP layer, named so clients can act on them.
    UNAUTHENTICATED = "unauthenticated"
    RATE_LIMITED = "rate_limited"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"
    MALFORMED_JSON = "malformed_json"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    HEADERS_TOO_LARGE = "headers_too_large"


class Kind(StrEnum):
    """What sort of refusal a code is: an entrypoint maps this to its own status."""

    RULE = "rule"
    STATE = "state"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    # Refusals of the HTTP layer, named so clients can act on them.
    UNAUTHENTICATED = "unauthenticated"
    RATE_LIMITED = "rate_limited"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"
    MALFORMED_JSON = "malformed_json"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    INVALID = "invalid"


_STATE_CODES = {
    Code.ADDRESS_LOCKED,
    Code.QUOTE_NOT_EDITABLE,
    Code.QUOTE_EXPIRED,
    Code.QUOTE_SUPERSEDED,
    Code.QUOTE_NOT_SENT,
    Code.QUOTE_ORDERED,
    Code.QUOTE_CANCELLED,
    Code.IDEMPOTENCY_KEY_REUSED,
    Code.IDEMPOTENCY_IN_PROGRESS,
}


def kind_of(code: Code) -> Kind:
    """Tell whether `code` is a broken rule, a wrong state, or an access refusal."""
    if code in _STATE_CODES:
        return Kind.STATE
    if code is Code.NOT_FOUND:
        return Kind.NOT_FOUND
    if code in (Code.FORBIDDEN, Code.CANCELLATION_NOT_SELF_SERVICE, Code.NOT_QUOTE_MAKER):
        return Kind.FORBIDDEN
    if code in (
        Code.INVALID_INPUT,
        Code.MALFORMED_JSON,
        Code.PAYLOAD_TOO_LARGE,
        Code.HEADERS_TOO_LARGE,
    ):
        return Kind.INVALID
    if code is Code.UNAUTHENTICATED:
        return Kind.UNAUTHENTICATED
    if code is Code.RATE_LIMITED:
        return Kind.RATE_LIMITED
    return Kind.RULE


_EMPTY: Mapping[str, object] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: its code, an optional finer reason, and the subscriptions it concerns."""

    code: Code
    subscription_ids: tuple[str, ...] = ()
    detail: str | None = None
    # A factory, not a default: Python 3.11 refuses an unhashable mappingproxy as a default.
    params: Mapping[str, object] = field(default_factory=lambda: _EMPTY)

    def message(self, language: str = "en") -> str:
        """Say what is wrong in a sentence a buyer understands, in French or English."""
        return render(self.code.value, self.detail, language, self.params)


class RuleViolation(Exception):
    """Raised by every rule and service; carries every violation found, never just the first."""

    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations = tuple(violations)
        if not self.violations:
            raise ValueError("a RuleViolation needs at least one violation")
        super().__init__("; ".join(v.message("en") for v in self.violations))

    @classmethod
    def one(
        cls,
        code: Code,
        *subscription_ids: str,
        detail: str | None = None,
        **params: object,
    ) -> RuleViolation:
        """Build the error for a single violation."""
        return cls([Violation(code, tuple(subscription_ids), detail, MappingProxyType(params))])

    @property
    def code(self) -> Code:
        """Return the code that names the whole refusal (the first violation's)."""
        return self.violations[0].code

    @property
    def kind(self) -> Kind:
        """Return the sort of refusal: a wrong state wins over a broken rule."""
        kinds = {kind_of(v.code) for v in self.violations}
        for kind in (
            Kind.UNAUTHENTICATED,
            Kind.RATE_LIMITED,
            Kind.NOT_FOUND,
            Kind.FORBIDDEN,
            Kind.STATE,
            Kind.INVALID,
        ):
            if kind in kinds:
                return kind
        return Kind.RULE


def violation(
    code: Code, *subscription_ids: str, detail: str | None = None, **params: object
) -> Violation:
    """Build one violation with its parameters frozen."""
    return Violation(code, tuple(subscription_ids), detail, MappingProxyType(params))
