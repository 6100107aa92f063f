"""Renewal groups: eligible subscriptions by customer, currency, purchase method and partner."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Protocol

from renewquote.domain.eligibility import as_date, renewal_reasons, renewal_window
from renewquote.domain.errors import Violation
from renewquote.domain.model import Channel, OfferingKind, SubscriptionStatus, Term

MAX_LINES_PER_QUOTE = 100


class RenewalCandidate(Protocol):
    """What grouping reads of a subscription; storage rows and `Subscription` both qualify."""

    @property
    def id(self) -> str: ...
    @property
    def customer_csn(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def purchase_method(self) -> str: ...
    @property
    def partner_csn(self) -> str | None: ...
    @property
    def end_date(self) -> date | str: ...
    @property
    def term(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def offering_kind(self) -> str: ...
    @property
    def renewed_by_order(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class GroupKey:
    """What every subscription of one renewal quote shares."""

    customer_csn: str
    currency: str
    purchase_method: str
    partner_csn: str | None


@dataclass(frozen=True, slots=True)
class RenewalGroup:
    """Subscriptions that can renew together on one quote (at most 100)."""

    key: GroupKey
    subscription_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IneligibleSubscription:
    """A subscription that cannot renew on a quote now, with every reason."""

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
    # Most rows are judged eligible with two comparisons; only the others get their reasons.
    inside, inside_text = _windows(today)
    any_kind = channel is not Channel.SELF_SERVICE
    # Many subscriptions share an end date, term, status and kind: judge each combination once.
    judged: dict[tuple[object, ...], tuple[Violation, ...]] = {}
    # By the key's values as a plain tuple: hashing a GroupKey is a Python call on every row.
    buckets: dict[tuple[str, str, str, str | None], list[str]] = {}
    ineligible: list[IneligibleSubscription] = []
    for c in candidates:
        end = c.end_date
        if isinstance(end, str):
            text = inside_text.get(c.term)
            in_window = text is not None and text[0] <= end <= text[1]
        else:
            window = inside.get(c.term)
            in_window = window is not None and window[0] <= end <= window[1]
        if (
            in_window
            and not region_reasons
            and c.status != "cancelled"
            and (any_kind or c.offering_kind == "standard")
        ):
            reasons: tuple[Violation, ...] | None = ()
        else:
            facts = (c.end_date, c.term, c.status, c.offering_kind, c.renewed_by_order is not None)
            reasons = judged.get(facts)
            if reasons is None:
                own = _judge(*facts, channel, today)
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


@lru_cache(maxsize=8)
def _windows(
    today: date,
) -> tuple[dict[str, tuple[date, date]], dict[str, tuple[str, str]]]:
    """Return the end dates inside the renewal window today, by term, as dates and as ISO
    text (for rows whose dates come as text: ISO dates sort as dates)."""
    inside = {term.value: _end_dates_in_window(term, today) for term in Term}
    return inside, {t: (lo.isoformat(), hi.isoformat()) for t, (lo, hi) in inside.items()}


@lru_cache(maxsize=65_536)
def _judge(
    end_date: date | str,
    term: str,
    status: str,
    offering_kind: str,
    renewed: bool,
    channel: Channel,
    today: date,
) -> tuple[Violation, ...]:
    """`renewal_reasons` of one combination of facts; the answers are kept, as many customers'
    subscriptions share them."""
    return renewal_reasons(
        end_date=as_date(end_date),
        term=Term(term),
        status=SubscriptionStatus(status),
        offering_kind=OfferingKind(offering_kind),
        renewed=renewed,
        channel=channel,
        today=today,
    )


def _end_dates_in_window(term: Term, today: date) -> tuple[date, date]:
    """Return the first and last end dates whose renewal window holds `today`."""
    opens, closes = renewal_window(today, term)
    # A window [end - 90 days, end + grace] holds today when end is in [today - grace, today + 90].
    return today - (closes - today), today + (today - opens)


def _order(key: tuple[str, str, str, str | None]) -> tuple[str, str, str, str]:
    customer_csn, currency, purchase_method, partner_csn = key
    return (customer_csn, currency, purchase_method, partner_csn or "")
