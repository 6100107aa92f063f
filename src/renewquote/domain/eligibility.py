"""Whether a subscription can be renewed on a quote today, with every reason when it cannot."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Protocol

from renewquote.domain.errors import Code, Violation, violation
from renewquote.domain.model import (
    Channel,
    Customer,
    OfferingKind,
    Subscription,
    SubscriptionStatus,
    Term,
)

OPENS_BEFORE_END = timedelta(days=90)
_GRACE_AFTER_END = {Term.MONTHLY: timedelta(days=30)}
_DEFAULT_GRACE = timedelta(days=45)


def renewal_window(end_date: date, term: Term) -> tuple[date, date]:
    """Return the first and last days on which a subscription ending on `end_date` renews."""
    return end_date - OPENS_BEFORE_END, end_date + _GRACE_AFTER_END.get(term, _DEFAULT_GRACE)


# Judged once per combination in a process: many subscriptions of a book share an end date,
# term, status and kind, and the answer (a tuple of frozen violations) is the same each time.
@lru_cache(maxsize=4096)
def renewal_reasons(
    *,
    end_date: date,
    term: Term,
    status: SubscriptionStatus,
    offering_kind: OfferingKind,
    renewed: bool,
    channel: Channel,
    today: date,
) -> tuple[Violation, ...]:
    """Return every reason a subscription cannot be renewed on a quote today; empty if it can.

    The customer's region is judged once per quote, not here (see `region_reasons`).
    """
    reasons: list[Violation] = []
    opens, closes = renewal_window(end_date, term)
    if status is SubscriptionStatus.CANCELLED:
        reasons.append(violation(Code.NOT_RENEWABLE, detail="cancelled"))
    if today < opens:
        detail = "already_renewed" if renewed else "window_not_open"
        reasons.append(violation(Code.NOT_RENEWABLE, detail=detail, opens=opens, end_date=end_date))
    elif today > closes:
        reasons.append(
            violation(Code.NOT_RENEWABLE, detail="window_closed", closes=closes, end_date=end_date)
        )
    if channel.customer_rules and offering_kind is not OfferingKind.STANDARD:
        reasons.append(violation(Code.INELIGIBLE_OFFERING, kind=offering_kind.value))
    return tuple(reasons)


class CustomerRegion(Protocol):
    """What the region rule reads of a customer (a `Customer`, or a row that carries both)."""

    @property
    def country(self) -> str: ...
    @property
    def self_service_enabled(self) -> bool: ...


def region_reasons(customer: CustomerRegion, channel: Channel) -> tuple[Violation, ...]:
    """Refuse self-service quoting where the customer's country has not enabled it."""
    if channel is Channel.SELF_SERVICE and not customer.self_service_enabled:
        return (violation(Code.REGION_NOT_ENABLED, country=customer.country),)
    return ()


def subscription_reasons(
    subscription: Subscription, customer: Customer, channel: Channel, today: date
) -> tuple[Violation, ...]:
    """Return every reason `subscription` cannot go on a renewal quote made through `channel`."""
    region = tuple(_concerning(r, subscription.id) for r in region_reasons(customer, channel))
    return (*region, *own_reasons(subscription, channel, today))


def own_reasons(subscription: Subscription, channel: Channel, today: date) -> tuple[Violation, ...]:
    """Return the reasons of the subscription itself, its customer's region left aside (a
    quote judges the region once for all its lines)."""
    own = renewal_reasons(
        end_date=subscription.end_date,
        term=subscription.term,
        status=subscription.status,
        offering_kind=subscription.offering_kind,
        renewed=subscription.renewed_by_order is not None,
        channel=channel,
        today=today,
    )
    return tuple(_concerning(reason, subscription.id) for reason in own)


def _concerning(reason: Violation, subscription_id: str) -> Violation:
    return Violation(reason.code, (subscription_id,), reason.detail, reason.params)
