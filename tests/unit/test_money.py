"""Money is exact: Decimal from strings, rounded half up to the currency's minor unit, once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from renewquote.domain.money import Money, minor_unit_exponent, parse_amount, round_money


@pytest.mark.parametrize(
    ("currency", "quantum"),
    [("EUR", Decimal("0.01")), ("USD", Decimal("0.01")), ("JPY", Decimal("1"))],
)
def test_each_currency_has_its_minor_unit(currency: str, quantum: Decimal) -> None:
    assert minor_unit_exponent(currency) == quantum
    assert minor_unit_exponent(currency).as_tuple().exponent == quantum.as_tuple().exponent


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [
        ("2.005", "2.01"),
        ("2.004", "2.00"),
        ("2.015", "2.02"),
        ("1234.5", "1234.50"),
        ("-2.005", "-2.01"),
        ("0", "0.00"),
    ],
)
def test_euros_round_half_up_to_the_cent(amount: str, rounded: str) -> None:
    result = round_money(Decimal(amount), "EUR")
    assert result == Decimal(rounded)
    assert str(result) == rounded


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [("0.5", "1"), ("100.5", "101"), ("101.5", "102"), ("100.49", "100"), ("192000.00", "192000")],
)
def test_yen_round_half_up_to_the_whole_yen(amount: str, rounded: str) -> None:
    result = round_money(Decimal(amount), "JPY")
    assert str(result) == rounded


def test_parse_amount_reads_a_decimal_string_exactly() -> None:
    assert parse_amount("1234.50") == Decimal("1234.50")
    assert str(parse_amount("0.10")) == "0.10"


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_parse_amount_refuses_amounts_that_are_not_finite(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


@pytest.mark.parametrize("text", ["abc", "", "12,50", "1.2.3"])
def test_parse_amount_refuses_text_that_is_not_a_number(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


def test_money_adds_and_subtracts_within_one_currency() -> None:
    total = Money(Decimal("10.10"), "EUR") + Money(Decimal("0.25"), "EUR")
    assert total == Money(Decimal("10.35"), "EUR")
    assert total - Money(Decimal("0.35"), "EUR") == Money(Decimal("10.00"), "EUR")


def test_money_refuses_to_add_two_currencies() -> None:
    with pytest.raises(ValueError, match=r"EUR.*JPY"):
        Money(Decimal("1.00"), "EUR") + Money(Decimal("1"), "JPY")


def test_money_refuses_to_subtract_two_currencies() -> None:
    with pytest.raises(ValueError):
        Money(Decimal("1.00"), "EUR") - Money(Decimal("1.00"), "USD")


def test_zero_money_has_the_currency_s_minor_unit() -> None:
    assert str(Money.zero("EUR").amount) == "0.00"
    assert str(Money.zero("JPY").amount) == "0"


def test_money_shows_its_rounded_amount_and_currency() -> None:
    assert str(Money(Decimal("2.005"), "EUR")) == "2.01 EUR"
    assert str(Money(Decimal("100.5"), "JPY")) == "101 JPY"
    assert Money(Decimal("2.005"), "EUR").rounded() == Money(Decimal("2.01"), "EUR")


def test_parse_amount_refuses_a_float_that_has_lost_its_exact_digits() -> None:
    with pytest.raises(ValueError):
        parse_amount(495.1)  # type: ignore[arg-type]
