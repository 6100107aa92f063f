"""Renewal groups: by customer, currency, purchase method and partner; at most 100 each."""

from __future__ import annotations

from datetime import date

from renewquote.api.schemas import RenewalGroups
from renewquote.domain.eligibility import region_reasons
from renewquote.domain.errors import Code
from renewquote.domain.grouping import GroupKey, group_renewals
from renewquote.domain.model import (
    Channel,
    OfferingKind,
    PurchaseMethod,
    SubscriptionStatus,
    Term,
)
from tests.unit.factories import (
    CUSTOMER_CSN,
    OTHER_CUSTOMER_CSN,
    OTHER_PARTNER_CSN,
    PARTNER_CSN,
    TODAY,
    customer,
    resold,
    subscription,
)

DIRECT = PurchaseMethod.DIRECT
PARTNER = PurchaseMethod.PARTNER


def test_subscriptions_are_grouped_by_customer_currency_method_and_partner() -> None:
    book = [
        subscription("S1"),
        subscription("S2", currency="USD"),
        subscription("S3"),
        resold("S4"),
        resold("S5", OTHER_PARTNER_CSN),
        resold("S6"),
        subscription("S7", customer_csn=OTHER_CUSTOMER_CSN),
    ]
    result = group_renewals(book, channel=Channel.STAFF, today=TODAY)
    assert [(g.key, g.subscription_ids) for g in result.groups] == [
        (GroupKey(CUSTOMER_CSN, "EUR", DIRECT, None), ("S1", "S3")),
        (GroupKey(CUSTOMER_CSN, "EUR", PARTNER, PARTNER_CSN), ("S4", "S6")),
        (GroupKey(CUSTOMER_CSN, "EUR", PARTNER, OTHER_PARTNER_CSN), ("S5",)),
        (GroupKey(CUSTOMER_CSN, "USD", DIRECT, None), ("S2",)),
        (GroupKey(OTHER_CUSTOMER_CSN, "EUR", DIRECT, None), ("S7",)),
    ]
    assert result.ineligible == ()


def test_a_key_with_250_eligible_subscriptions_gives_groups_of_100_100_and_50() -> None:
    book = [subscription(f"S{n:03d}") for n in range(250)]
    result = group_renewals(book, channel=Channel.SELF_SERVICE, today=TODAY)
    assert [len(g.subscription_ids) for g in result.groups] == [100, 100, 50]
    assert [g.subscription_ids[0] for g in result.groups] == ["S000", "S100", "S200"]
    assert {g.key for g in result.groups} == {GroupKey(CUSTOMER_CSN, "EUR", DIRECT, None)}


def test_a_key_with_exactly_100_subscriptions_is_one_group() -> None:
    book = [subscription(f"S{n:03d}") for n in range(100)]
    result = group_renewals(book, channel=Channel.SELF_SERVICE, today=TODAY)
    assert [len(g.subscription_ids) for g in result.groups] == [100]


def test_ineligible_subscriptions_are_listed_with_every_reason() -> None:
    book = [
        subscription("OK"),
        subscription("EARLY", end_date=date(2027, 6, 30)),
        subscription("GONE", end_date=date(2026, 6, 30), status=SubscriptionStatus.CANCELLED),
        subscription("FLEX", offering_kind=OfferingKind.FLEX),
    ]
    result = group_renewals(book, channel=Channel.SELF_SERVICE, today=TODAY)
    assert [g.subscription_ids for g in result.groups] == [("OK",)]
    reasons = {
        i.subscription_id: [(r.code, r.detail) for r in i.reasons] for i in result.ineligible
    }
    assert reasons == {
        "EARLY": [(Code.NOT_RENEWABLE, "window_not_open")],
        "GONE": [(Code.NOT_RENEWABLE, "cancelled"), (Code.NOT_RENEWABLE, "window_closed")],
        "FLEX": [(Code.INELIGIBLE_OFFERING, None)],
    }


def test_a_partner_groups_flex_subscriptions_it_may_quote() -> None:
    book = [resold("FLEX", offering_kind=OfferingKind.FLEX)]
    result = group_renewals(book, channel=Channel.PARTNER, today=TODAY)
    assert [g.subscription_ids for g in result.groups] == [("FLEX",)]


def test_region_not_enabled_makes_every_subscription_ineligible_in_self_service() -> None:
    closed = region_reasons(customer(self_service_enabled=False), Channel.SELF_SERVICE)
    book = [subscription("S1"), subscription("S2", end_date=date(2027, 6, 30))]
    result = group_renewals(book, channel=Channel.SELF_SERVICE, today=TODAY, region_reasons=closed)
    assert result.groups == ()
    reasons = {
        i.subscription_id: [(r.code, r.detail) for r in i.reasons] for i in result.ineligible
    }
    assert reasons == {
        "S1": [(Code.REGION_NOT_ENABLED, None)],
        "S2": [(Code.REGION_NOT_ENABLED, None), (Code.NOT_RENEWABLE, "window_not_open")],
    }


def test_a_monthly_subscription_closes_its_window_sooner_than_an_annual_one() -> None:
    ended = date(2026, 10, 10)  # 36 days before TODAY
    book = [
        subscription("ANNUAL", end_date=ended),
        subscription("MONTHLY", end_date=ended, term=Term.MONTHLY),
    ]
    result = group_renewals(book, channel=Channel.SELF_SERVICE, today=TODAY)
    assert [g.subscription_ids for g in result.groups] == [("ANNUAL",)]
    assert [i.subscription_id for i in result.ineligible] == ["MONTHLY"]


def test_the_words_of_shared_reasons_follow_the_language_and_the_reasons() -> None:
    # groups_public words each reasons tuple once a process: the same tuple in another
    # language, and another tuple alike but for its date, must still get their own words.
    book = [
        subscription("EARLY1", end_date=date(2027, 6, 30)),
        subscription("EARLY2", end_date=date(2027, 6, 30)),
        subscription("LATER", end_date=date(2027, 7, 31)),
    ]
    result = group_renewals(book, channel=Channel.SELF_SERVICE, today=TODAY)
    shown = {
        language: {
            i["subscription_id"]: i["reasons"]
            for i in RenewalGroups.of(result, language).model_dump()["ineligible"]
        }
        for language in ("en", "fr")
    }
    first = RenewalGroups.of(result, "en").model_dump()["ineligible"]
    again = RenewalGroups.of(result, "en").model_dump()["ineligible"]
    assert first == again
    assert shown["en"]["EARLY1"] == shown["en"]["EARLY2"]
    assert shown["en"]["EARLY1"] != shown["en"]["LATER"]
    for language, reasons in shown.items():
        expected = {i.subscription_id: i.reasons[0].message(language) for i in result.ineligible}
        assert {sid: words[0]["message"] for sid, words in reasons.items()} == expected
    assert shown["en"]["EARLY1"][0]["message"] != shown["fr"]["EARLY1"][0]["message"]
