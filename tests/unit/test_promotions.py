"""Automatic promotions: the filters that select them, the saving, the single best one."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from renewquote.domain.model import LineKind, Promotion, Term
from renewquote.domain.promotions import LineFacts, applies, best_promotion, saving
from tests.unit.factories import amount_off, percent_off, promotion

LINE = LineFacts(
    offering_code="ACDLT",
    term=Term.ANNUAL,
    currency="EUR",
    country="FR",
    kind=LineKind.RENEWAL,
    quantity=5,
    today=date(2026, 11, 15),
)


def test_a_promotion_without_filters_applies_to_every_line() -> None:
    assert applies(percent_off("ALL", "10"), LINE)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"offerings": frozenset({"ACDLT"})}, True),
        ({"offerings": frozenset({"RVT"})}, False),
        ({"terms": frozenset({Term.ANNUAL, Term.THREE_YEAR})}, True),
        ({"terms": frozenset({Term.THREE_YEAR})}, False),
        ({"currencies": frozenset({"EUR"})}, True),
        ({"currencies": frozenset({"USD", "JPY"})}, False),
        ({"countries": frozenset({"FR", "BE"})}, True),
        ({"countries": frozenset({"DE"})}, False),
        ({"quote_types": frozenset({LineKind.RENEWAL})}, True),
        ({"quote_types": frozenset({LineKind.NEW, LineKind.CO_TERM})}, False),
    ],
)
def test_each_filter_of_a_promotion_must_match_the_line(
    filters: dict[str, object], expected: bool
) -> None:
    assert applies(percent_off("P", "10", **filters), LINE) is expected


def test_a_promotion_applies_from_its_first_day_to_its_last_day() -> None:
    promo = percent_off("WINTER", "10", starts=date(2026, 11, 15), ends=date(2026, 12, 31))
    assert not applies(promo, replace(LINE, today=date(2026, 11, 14)))
    assert applies(promo, replace(LINE, today=date(2026, 11, 15)))
    assert applies(promo, replace(LINE, today=date(2026, 12, 31)))
    assert not applies(promo, replace(LINE, today=date(2027, 1, 1)))


def test_every_filter_must_match_not_just_one() -> None:
    promo = percent_off("P", "10", offerings=frozenset({"ACDLT"}), currencies=frozenset({"JPY"}))
    assert not applies(promo, LINE)


def test_a_percent_promotion_saves_its_share_of_the_line_rounded_half_up() -> None:
    assert saving(percent_off("P", "10"), LINE, Decimal("2300.05")) == Decimal("230.01")
    assert saving(percent_off("P", "12.5"), LINE, Decimal("2300.00")) == Decimal("287.50")


def test_an_amount_off_promotion_saves_its_amount_on_each_seat() -> None:
    assert saving(amount_off("A", "25.00"), LINE, Decimal("2300.00")) == Decimal("125.00")


def test_a_promotion_never_saves_more_than_the_line_is_worth() -> None:
    assert saving(amount_off("A", "500.00"), LINE, Decimal("2300.00")) == Decimal("2300.00")
    assert saving(percent_off("P", "150"), LINE, Decimal("2300.00")) == Decimal("2300.00")


def test_a_yen_saving_is_rounded_to_the_whole_yen() -> None:
    yen = replace(LINE, currency="JPY")
    assert str(saving(percent_off("P", "15"), yen, Decimal("19803"))) == "2970"
    assert str(saving(percent_off("P", "10"), yen, Decimal("16835"))) == "1684"


def test_the_best_promotion_for_the_customer_is_chosen() -> None:
    promotions = [percent_off("TENPCT", "10"), amount_off("FORTY", "40.00")]
    best = best_promotion(promotions, LINE, Decimal("2300.00"))
    assert best is not None
    assert (best.code, best.saving) == ("TENPCT", Decimal("230.00"))


def test_promotions_saving_the_same_go_to_the_lowest_code() -> None:
    promotions = [percent_off("SPRING", "10"), amount_off("AUTUMN", "46.00")]
    best = best_promotion(promotions, LINE, Decimal("2300.00"))
    assert best is not None
    assert (best.code, best.saving) == ("AUTUMN", Decimal("230.00"))
    best_reversed = best_promotion(reversed(promotions), LINE, Decimal("2300.00"))
    assert best_reversed is not None
    assert best_reversed.code == "AUTUMN"


def test_a_promotion_that_does_not_apply_is_never_chosen_however_generous() -> None:
    promotions = [
        percent_off("HALF", "50", currencies=frozenset({"USD"})),
        percent_off("FIVE", "5"),
    ]
    best = best_promotion(promotions, LINE, Decimal("2300.00"))
    assert best is not None
    assert (best.code, best.saving) == ("FIVE", Decimal("115.00"))


def test_no_promotion_applies_when_none_matches() -> None:
    promotions: list[Promotion] = [percent_off("NEW", "10", quote_types=frozenset({LineKind.NEW}))]
    assert best_promotion(promotions, LINE, Decimal("2300.00")) is None
    assert best_promotion([], LINE, Decimal("2300.00")) is None


def test_a_promotion_without_a_saving_is_not_applied() -> None:
    assert best_promotion([promotion("EMPTY")], LINE, Decimal("2300.00")) is None


def test_the_chosen_promotion_says_why_it_applies() -> None:
    promo = percent_off(
        "RENEW3Y10",
        "10.0",
        terms=frozenset({Term.ANNUAL}),
        currencies=frozenset({"EUR"}),
        quote_types=frozenset({LineKind.RENEWAL}),
        ends=date(2026, 12, 31),
    )
    best = best_promotion([promo], LINE, Decimal("2300.00"))
    assert best is not None
    assert best.name == "RENEW3Y10 offer"
    assert best.why == "10 % off on renewal; annual; EUR until 2026-12-31"


def test_an_amount_off_promotion_says_it_is_per_seat() -> None:
    best = best_promotion([amount_off("SEAT25", "25.00")], LINE, Decimal("2300.00"))
    assert best is not None
    assert best.why == "25.00 off each seat"
