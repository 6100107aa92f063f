"""Whether a subscription renews on a quote today: the window, its status, its offering, region."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from renewquote.domain.eligibility import (
    region_reasons,
    renewal_reasons,
    renewal_window,
    subscription_reasons,
)
from renewquote.domain.errors import Code
from renewquote.domain.model import Channel, OfferingKind, SubscriptionStatus, Term
from tests.unit.factories import customer, subscription

END = date(2026, 12, 31)


def reasons(
    today: date,
    *,
    term: Term = Term.ANNUAL,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    kind: OfferingKind = OfferingKind.STANDARD,
    renewed: bool = False,
    channel: Channel = Channel.SELF_SERVICE,
    end_date: date = END,
) -> list[tuple[Code, str | None]]:
    found = renewal_reasons(
        end_date=end_date,
        term=term,
        status=status,
        offering_kind=kind,
        renewed=renewed,
        channel=channel,
        today=today,
    )
    return [(r.code, r.detail) for r in found]


def test_the_window_runs_from_90_days_before_the_end_to_45_days_after() -> None:
    assert renewal_window(END, Term.ANNUAL) == (date(2026, 10, 2), date(2027, 2, 14))
    assert renewal_window(END, Term.THREE_YEAR) == (date(2026, 10, 2), date(2027, 2, 14))


def test_a_monthly_window_closes_30_days_after_the_end() -> None:
    assert renewal_window(END, Term.MONTHLY) == (date(2026, 10, 2), date(2027, 1, 30))


def test_the_ninetieth_day_before_the_end_is_inside_the_window() -> None:
    assert reasons(END - timedelta(days=90)) == []


def test_the_ninety_first_day_before_the_end_is_outside_the_window() -> None:
    assert reasons(END - timedelta(days=91)) == [(Code.NOT_RENEWABLE, "window_not_open")]


def test_the_end_date_itself_is_inside_the_window() -> None:
    assert reasons(END) == []


def test_the_forty_fifth_day_after_the_end_is_inside_the_window() -> None:
    assert reasons(END + timedelta(days=45)) == []


def test_the_forty_sixth_day_after_the_end_is_outside_the_window() -> None:
    assert reasons(END + timedelta(days=46)) == [(Code.NOT_RENEWABLE, "window_closed")]


def test_a_monthly_term_is_renewable_30_days_after_its_end_but_not_31() -> None:
    assert reasons(END + timedelta(days=30), term=Term.MONTHLY) == []
    assert reasons(END + timedelta(days=31), term=Term.MONTHLY) == [
        (Code.NOT_RENEWABLE, "window_closed")
    ]


def test_a_monthly_term_opens_90_days_before_its_end_like_the_others() -> None:
    assert reasons(END - timedelta(days=90), term=Term.MONTHLY) == []
    assert reasons(END - timedelta(days=91), term=Term.MONTHLY) == [
        (Code.NOT_RENEWABLE, "window_not_open")
    ]


def test_a_window_not_yet_open_says_when_it_opens() -> None:
    (reason,) = renewal_reasons(
        end_date=END,
        term=Term.ANNUAL,
        status=SubscriptionStatus.ACTIVE,
        offering_kind=OfferingKind.STANDARD,
        renewed=False,
        channel=Channel.SELF_SERVICE,
        today=date(2026, 9, 1),
    )
    assert reason.params == {"opens": date(2026, 10, 2), "end_date": END}


def test_a_closed_window_says_when_it_closed() -> None:
    (reason,) = renewal_reasons(
        end_date=END,
        term=Term.ANNUAL,
        status=SubscriptionStatus.EXPIRED,
        offering_kind=OfferingKind.STANDARD,
        renewed=False,
        channel=Channel.SELF_SERVICE,
        today=date(2027, 3, 1),
    )
    assert reason.detail == "window_closed"
    assert reason.params == {"closes": date(2027, 2, 14), "end_date": END}


def test_an_expired_subscription_in_its_grace_period_is_renewable() -> None:
    assert reasons(END + timedelta(days=10), status=SubscriptionStatus.EXPIRED) == []


def test_a_cancelled_subscription_is_not_renewable() -> None:
    assert reasons(END, status=SubscriptionStatus.CANCELLED) == [(Code.NOT_RENEWABLE, "cancelled")]


def test_a_subscription_already_renewed_waits_for_its_next_window() -> None:
    # Once ordered, the renewal moved the end date a term on: the next window is months away.
    next_end = date(2027, 12, 31)
    assert reasons(END, renewed=True, end_date=next_end) == [
        (Code.NOT_RENEWABLE, "already_renewed")
    ]


def test_a_cancelled_subscription_outside_its_window_gets_both_reasons() -> None:
    assert reasons(END + timedelta(days=60), status=SubscriptionStatus.CANCELLED) == [
        (Code.NOT_RENEWABLE, "cancelled"),
        (Code.NOT_RENEWABLE, "window_closed"),
    ]


@pytest.mark.parametrize("kind", [OfferingKind.SUCCESS_PLAN, OfferingKind.FLEX])
def test_success_plans_and_flex_are_not_quoted_in_self_service(kind: OfferingKind) -> None:
    assert reasons(END, kind=kind) == [(Code.INELIGIBLE_OFFERING, None)]


@pytest.mark.parametrize("kind", [OfferingKind.SUCCESS_PLAN, OfferingKind.FLEX])
@pytest.mark.parametrize("channel", [Channel.PARTNER, Channel.STAFF])
def test_a_partner_or_staff_may_quote_success_plans_and_flex(
    kind: OfferingKind, channel: Channel
) -> None:
    assert reasons(END, kind=kind, channel=channel) == []


def test_region_not_enabled_refuses_self_service_only() -> None:
    closed = customer(country="BR", self_service_enabled=False)
    (reason,) = region_reasons(closed, Channel.SELF_SERVICE)
    assert reason.code is Code.REGION_NOT_ENABLED
    assert reason.params == {"country": "BR"}
    assert region_reasons(closed, Channel.PARTNER) == ()
    assert region_reasons(customer(), Channel.SELF_SERVICE) == ()


def test_every_reason_of_a_subscription_names_it() -> None:
    closed = customer(self_service_enabled=False)
    sub = subscription(
        "SUB-9",
        status=SubscriptionStatus.CANCELLED,
        offering_kind=OfferingKind.FLEX,
        end_date=date(2026, 6, 30),
    )
    found = subscription_reasons(sub, closed, Channel.SELF_SERVICE, date(2026, 11, 15))
    assert [(r.code, r.detail) for r in found] == [
        (Code.REGION_NOT_ENABLED, None),
        (Code.NOT_RENEWABLE, "cancelled"),
        (Code.NOT_RENEWABLE, "window_closed"),
        (Code.INELIGIBLE_OFFERING, None),
    ]
    assert all(r.subscription_ids == ("SUB-9",) for r in found)
