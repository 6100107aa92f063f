"""Renewal groups: eligible subscriptions by customer, currency, purchase method and partner."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple, Protocol

from renewquote.domain.eligibility import renewal_reasons
from renewquote.domain.errors import Violation
from renewquote.domain.model import (
    Channel,
    OfferingKind,
    PurchaseMethod,
    SubscriptionStatus,
    Term,
)

MAX_LINES_PER_QUOTE = 100


class RenewalCandidate(Protocol):
    """What grouping reads of a subscription; `Candidate` and `Subscription` both qualify."""

    @property
    def id(self) -> str: ...
    @property
    def customer_csn(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def purchase_method(self) -> PurchaseMethod: ...
    @property
    def partner_csn(self) -> str | None: ...
    @property
    def end_date(self) -> date: ...
    @property
    def term(self) -> Term: ...
    @property
    def status(self) -> SubscriptionStatus: ...
    @property
    def offering_kind(self) -> OfferingKind: ...
    @property
    def renewed_by_order(self) -> int | None: ...


class Candidate(NamedTuple):
    """A subscription as grouping reads it, and no more: storage builds one per row."""

    id: str
    customer_csn: str
    currency: str
    purchase_method: PurchaseMethod
    partner_csn: str | None
    end_date: date
    term: Term
    status: SubscriptionStatus
    offering_kind: OfferingKind
    renewed_by_order: int | None


@dataclass(frozen=True, slots=True)
class GroupKey:
    """What every subscription of one renewal quote shares."""

    customer_csn: str
    currency: str
    purchase_method: PurchaseMethod
    partner_csn: str | None


@dataclass(frozen=True, slots=True)
class RenewalGroup:
    """Subscriptions that can renew together on one quote (at most 100)."""

    key: GroupKey
    subscription_ids: tuple[str, ...]


class IneligibleSubscription(NamedTuple):
    """A subscription that cannot renew on a quote now, with every reason (a tuple: a book
    of 100,000 subscriptions may have as many, and a frozen dataclass is slower to build)."""

    subscription_id: str
    reasons: tuple[Violation, ...]


@dataclass(frozen=True, slots=True)
class RenewalGroups:
    """The renewal groups of a book, and the subscriptions left out with their reasons."""

    groups: tuple[RenewalGroup, ...]
    ineligible: tuple[IneligibleSubscription, ...]


def group_renewals(
    candidates: Iterable[RenewalCandidate],
    *,
    channel: Channel,
    today: date,
    region_reasons: tuple[Violation, ...] = (),
    max_per_group: int = MAX_LINES_PER_QUOTE,
) -> RenewalGroups:
    """Group the eligible candidates in their given order; list the others with their reasons.

    `region_reasons` are the customer's own reasons (self-service not enabled in its country):
    when there are any, nothing is eligible and every subscription carries them.
    """
    # Many subscriptions share an end date, term, status and kind: each combination is judged
    # once, and subscriptions alike share the same tuple of reasons.
    judged: dict[tuple[object, ...], tuple[Violation, ...]] = {}
    # By the key's values as a plain tuple: hashing a GroupKey is a Python call on every row.
    buckets: dict[tuple[str, str, PurchaseMethod, str | None], list[str]] = {}
    ineligible: list[IneligibleSubscription] = []
    for c in candidates:
        renewed = c.renewed_by_order is not None
        facts = (c.end_date, c.term, c.status, c.offering_kind, renewed)
        reasons = judged.get(facts)
        if reasons is None:
            own = renewal_reasons(
                end_date=c.end_date,
                term=c.term,
                status=c.status,
                offering_kind=c.offering_kind,
                renewed=renewed,
                channel=channel,
                today=today,
            )
            # The judgement's own tuple when alone: the same object from one call to the next,
            # which lets the API put it into words once (api.schemas.RenewalGroups).
            reasons = judged[facts] = (*region_reasons, *own) if region_reasons else own
        if reasons:
            # The reasons are shared between subscriptions alike; the entry names which one.
            ineligible.append(IneligibleSubscription(c.id, reasons))
            continue
        key = (c.customer_csn, c.currency, c.purchase_method, c.partner_csn)
        ids = buckets.get(key)
        if ids is None:
            ids = buckets[key] = []
        ids.append(c.id)
    groups = tuple(
        RenewalGroup(GroupKey(*key), tuple(ids[i : i + max_per_group]))
        for key, ids in sorted(buckets.items(), key=lambda item: _order(item[0]))
        for i in range(0, len(ids), max_per_group)
    )
    return RenewalGroups(groups, tuple(ineligible))


def _order(key: tuple[str, str, PurchaseMethod, str | None]) -> tuple[str, str, str, str]:
    customer_csn, currency, purchase_method, partner_csn = key
    return (customer_csn, currency, purchase_method, partner_csn or "")
