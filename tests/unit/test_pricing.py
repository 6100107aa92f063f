"""Exact prices: every expected amount is worked out by hand in the comment beside it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from renewquote.domain.model import LineKind, Price, Promotion, Term
from renewquote.domain.pricing import (
    LinePricing,
    PricedLine,
    Totals,
    price_line,
    proration,
    totals,
)
from renewquote.domain.quoting import LineRequest, build_quote
from tests.unit.factories import (
    amount_off,
    context,
    customer,
    new_quote,
    percent_off,
    price,
    renewal,
    subscription,
)


def line(
    unit_price: str,
    quantity: int = 1,
    *,
    kind: LineKind = LineKind.RENEWAL,
    term: Term = Term.ANNUAL,
    start: date = date(2027, 1, 1),
    end: date = date(2027, 12, 31),
    offering_code: str = "ACDLT",
) -> LinePricing:
    return LinePricing(
        kind=kind,
        offering_code=offering_code,
        offering_name=offering_code,
        quantity=quantity,
        term=term,
        start_date=start,
        end_date=end,
        unit_price=Decimal(unit_price),
    )


def priced(
    pricing: LinePricing,
    *,
    currency: str = "EUR",
    tax_rate: str = "0.20",
    promotions: tuple[Promotion, ...] = (),
) -> PricedLine:
    return price_line(
        pricing,
        currency=currency,
        country="FR",
        tax_rate=Decimal(tax_rate),
        promotions=promotions,
        today=date(2026, 11, 15),
    )


def amounts(p: PricedLine) -> tuple[str, str, str, str]:
    return (str(p.subtotal), str(p.discount), str(p.amount), str(p.tax))


# Renewal quotes through build_quote: the whole path from request to totals.


def test_a_renewal_of_several_lines_adds_up_its_rounded_lines() -> None:
    ctx = context(
        subscription("S1"),  # 5 x 460.00 = 2300.00; tax 20 % = 460.00
        subscription("S2", offering_code="RVT", offering_name="Revit", quantity=2),
        # 2 x 2675.00 = 5350.00; tax 20 % = 1070.00
    )
    quote = build_quote(renewal("S1", "S2"), ctx)
    assert [amounts(p) for p in quote.lines] == [
        ("2300.00", "0.00", "2300.00", "460.00"),
        ("5350.00", "0.00", "5350.00", "1070.00"),
    ]
    assert quote.totals == Totals(
        subtotal=Decimal("7650.00"),
        discount_total=Decimal("0.00"),
        tax=Decimal("1530.00"),
        total=Decimal("9180.00"),
    )
    assert quote.currency == "EUR"


def test_a_percent_promotion_is_taken_off_the_line_before_tax() -> None:
    # 5 x 460.00 = 2300.00; 10 % = 230.00; 2070.00; tax 20 % = 414.00; total 2484.00
    ctx = context(subscription("S1"), promotions=[percent_off("RENEW10", "10")])
    quote = build_quote(renewal("S1"), ctx)
    (only,) = quote.lines
    assert amounts(only) == ("2300.00", "230.00", "2070.00", "414.00")
    assert only.promotion is not None
    assert only.promotion.code == "RENEW10"
    assert quote.totals.total == Decimal("2484.00")


def test_an_amount_off_promotion_is_taken_off_each_seat() -> None:
    # 5 x 460.00 = 2300.00; 5 x 25.00 = 125.00; 2175.00; tax 20 % = 435.00; total 2610.00
    ctx = context(subscription("S1"), promotions=[amount_off("SEAT25", "25.00")])
    quote = build_quote(renewal("S1"), ctx)
    assert amounts(quote.lines[0]) == ("2300.00", "125.00", "2175.00", "435.00")
    assert quote.totals.total == Decimal("2610.00")


def test_only_the_best_promotion_applies_to_a_line() -> None:
    # 10 % of 2300.00 = 230.00 beats 5 x 40.00 = 200.00; the two never add up.
    ctx = context(
        subscription("S1"),
        promotions=[amount_off("FORTY", "40.00"), percent_off("TENPCT", "10")],
    )
    quote = build_quote(renewal("S1"), ctx)
    assert quote.lines[0].promotion is not None
    assert quote.lines[0].promotion.code == "TENPCT"
    assert quote.lines[0].discount == Decimal("230.00")


def test_promotions_saving_the_same_go_to_the_lowest_code_on_a_quote() -> None:
    # 10 % of 2300.00 = 230.00 = 5 x 46.00: AUTUMN comes before SPRING.
    ctx = context(
        subscription("S1"),
        promotions=[percent_off("SPRING", "10"), amount_off("AUTUMN", "46.00")],
    )
    quote = build_quote(renewal("S1"), ctx)
    assert quote.lines[0].promotion is not None
    assert quote.lines[0].promotion.code == "AUTUMN"


def test_a_promotion_for_other_lines_leaves_this_one_alone() -> None:
    ctx = context(
        subscription("S1"),
        subscription("S2", offering_code="RVT", offering_name="Revit", quantity=2),
        promotions=[percent_off("RVT10", "10", offerings=frozenset({"RVT"}))],
    )
    quote = build_quote(renewal("S1", "S2"), ctx)
    # S1: no promotion. S2: 5350.00 - 535.00 = 4815.00; tax 963.00.
    assert amounts(quote.lines[0]) == ("2300.00", "0.00", "2300.00", "460.00")
    assert amounts(quote.lines[1]) == ("5350.00", "535.00", "4815.00", "963.00")
    # 7650.00 - 535.00 + 1423.00
    assert quote.totals.total == Decimal("8538.00")


@pytest.mark.parametrize(
    "filters",
    [
        {"terms": frozenset({Term.THREE_YEAR})},
        {"currencies": frozenset({"USD"})},
        {"countries": frozenset({"DE"})},
        {"quote_types": frozenset({LineKind.NEW, LineKind.CO_TERM})},
        {"starts": date(2026, 11, 16)},
        {"ends": date(2026, 11, 14)},
    ],
)
def test_a_filtered_promotion_does_not_reach_a_quote_it_does_not_match(
    filters: dict[str, object],
) -> None:
    ctx = context(subscription("S1"), promotions=[percent_off("P", "10", **filters)])
    quote = build_quote(renewal("S1"), ctx)
    assert quote.lines[0].promotion is None
    assert quote.lines[0].discount == Decimal("0.00")


def test_a_renewal_starts_the_day_after_the_old_end_and_lasts_one_term() -> None:
    quote = build_quote(renewal("S1"), context(subscription("S1")))
    assert (quote.lines[0].start_date, quote.lines[0].end_date) == (
        date(2027, 1, 1),
        date(2027, 12, 31),
    )


def test_a_monthly_term_starting_on_january_31_ends_before_the_clamped_february_day() -> None:
    # Jan 31 + 1 month is clamped to Feb 28; the term ends the day before.
    sub = subscription(
        "M1", term=Term.MONTHLY, start_date=date(2026, 12, 31), end_date=date(2027, 1, 30)
    )
    quote = build_quote(renewal("M1"), context(sub, today=date(2027, 1, 10)))
    assert (quote.lines[0].start_date, quote.lines[0].end_date) == (
        date(2027, 1, 31),
        date(2027, 2, 27),
    )


def test_term_ends_are_clamped_to_short_months_and_leap_days() -> None:
    assert Term.MONTHLY.end_for(date(2027, 1, 31)) == date(2027, 2, 27)
    assert Term.MONTHLY.end_for(date(2028, 1, 31)) == date(2028, 2, 28)
    assert Term.MONTHLY.end_for(date(2027, 3, 31)) == date(2027, 4, 29)
    assert Term.ANNUAL.end_for(date(2028, 2, 29)) == date(2029, 2, 27)
    assert Term.ANNUAL.end_for(date(2027, 1, 1)) == date(2027, 12, 31)
    assert Term.THREE_YEAR.end_for(date(2027, 1, 1)) == date(2029, 12, 31)


def test_a_monthly_renewal_pays_the_new_price() -> None:
    # Monthly terms have no renewal discount: 5 x 60.00 (not 55.00) = 300.00; tax 60.00.
    sub = subscription(
        "M1", term=Term.MONTHLY, start_date=date(2026, 11, 1), end_date=date(2026, 11, 30)
    )
    quote = build_quote(renewal("M1"), context(sub))
    assert quote.lines[0].unit_price == Decimal("60.00")
    assert amounts(quote.lines[0]) == ("300.00", "0.00", "300.00", "60.00")
    assert quote.lines[0].end_date == date(2026, 12, 31)


def test_an_annual_renewal_pays_the_renewal_price() -> None:
    quote = build_quote(renewal("S1"), context(subscription("S1")))
    assert quote.lines[0].unit_price == Decimal("460.00")


def test_a_term_change_is_priced_and_dated_on_the_new_term() -> None:
    # Annual to 3-year: 5 x 1242.00 = 6210.00; tax 1242.00; 2027-01-01 to 2029-12-31.
    request = renewal("S1", lines=(LineRequest(subscription_id="S1", term=Term.THREE_YEAR),))
    quote = build_quote(request, context(subscription("S1")))
    (only,) = quote.lines
    assert only.term is Term.THREE_YEAR
    assert only.unit_price == Decimal("1242.00")
    assert amounts(only) == ("6210.00", "0.00", "6210.00", "1242.00")
    assert (only.start_date, only.end_date) == (date(2027, 1, 1), date(2029, 12, 31))


def test_an_annual_subscription_renewed_monthly_pays_the_monthly_new_price() -> None:
    request = renewal("S1", lines=(LineRequest(subscription_id="S1", term=Term.MONTHLY),))
    quote = build_quote(request, context(subscription("S1")))
    assert quote.lines[0].unit_price == Decimal("60.00")
    assert quote.lines[0].end_date == date(2027, 1, 31)


def test_fewer_seats_are_priced_on_the_new_quantity() -> None:
    # 3 x 460.00 = 1380.00; tax 276.00.
    request = renewal("S1", lines=(LineRequest(subscription_id="S1", quantity=3),))
    quote = build_quote(request, context(subscription("S1")))
    assert quote.lines[0].quantity == 3
    assert amounts(quote.lines[0]) == ("1380.00", "0.00", "1380.00", "276.00")


def test_a_co_term_line_pays_its_days_of_the_term_once() -> None:
    # Bought on 2026-03-01, aligned to an end on 2026-06-08: 100 days of a 365-day term.
    # 3 x 495.00 = 1485.00; x 100 / 365 = 406.849... -> 406.85; tax 20 % = 81.37.
    anchor = subscription("S1", start_date=date(2025, 6, 9), end_date=date(2026, 6, 8))
    request = new_quote(
        LineRequest(offering_code="ACDLT", quantity=3, align_to_subscription_id="S1")
    )
    quote = build_quote(request, context(anchor, today=date(2026, 3, 1)))
    (only,) = quote.lines
    assert only.kind is LineKind.CO_TERM
    assert (only.start_date, only.end_date) == (date(2026, 3, 1), date(2026, 6, 8))
    assert only.unit_price == Decimal("495.00")
    assert amounts(only) == ("406.85", "0.00", "406.85", "81.37")
    assert quote.totals.total == Decimal("488.22")


def test_proration_counts_both_ends_and_the_full_term_from_the_start() -> None:
    assert proration(date(2026, 3, 1), date(2026, 6, 8), Term.ANNUAL) == (100, 365)
    assert proration(date(2027, 3, 1), date(2027, 3, 1), Term.ANNUAL) == (1, 366)
    assert proration(date(2026, 2, 1), date(2026, 2, 14), Term.MONTHLY) == (14, 28)


def test_a_new_line_pays_the_new_price_for_a_whole_term_from_today() -> None:
    # 2 x 495.00 = 990.00; tax 198.00; 2026-11-15 to 2027-11-14.
    request = new_quote(
        LineRequest(offering_code="ACDLT", quantity=2, term=Term.ANNUAL), currency="EUR"
    )
    quote = build_quote(request, context())
    (only,) = quote.lines
    assert only.kind is LineKind.NEW
    assert amounts(only) == ("990.00", "0.00", "990.00", "198.00")
    assert (only.start_date, only.end_date) == (date(2026, 11, 15), date(2027, 11, 14))


# Rounding: per line, half up, in the currency's minor unit; totals never rounded again.


def test_tax_is_rounded_half_up_on_each_line() -> None:
    # 10.10 x 25 % = 2.525 -> 2.53 on each line; 5.06 in all, where 20.20 x 25 % is only 5.05.
    lines = [priced(line("10.10"), tax_rate="0.25"), priced(line("10.10"), tax_rate="0.25")]
    assert [p.tax for p in lines] == [Decimal("2.53"), Decimal("2.53")]
    assert totals(lines, "EUR") == Totals(
        Decimal("20.20"), Decimal("0.00"), Decimal("5.06"), Decimal("25.26")
    )


def test_a_euro_discount_of_half_a_cent_rounds_up() -> None:
    # 5 x 460.01 = 2300.05; 10 % = 230.005 -> 230.01; 2070.04; tax 414.008 -> 414.01.
    p = priced(line("460.01", 5), promotions=(percent_off("TEN", "10"),))
    assert amounts(p) == ("2300.05", "230.01", "2070.04", "414.01")
    assert totals([p], "EUR").total == Decimal("2484.05")


def test_a_euro_line_of_half_a_cent_rounds_up() -> None:
    # 3 x 0.335 = 1.005 -> 1.01; tax 20 % = 0.202 -> 0.20.
    p = priced(line("0.335", 3))
    assert amounts(p) == ("1.01", "0.00", "1.01", "0.20")


def test_yen_are_whole_and_half_a_yen_rounds_up() -> None:
    # 5 x 3367 = 16835; tax 10 % = 1683.5 -> 1684; total 18519.
    p = priced(line("3367", 5), currency="JPY", tax_rate="0.10")
    assert amounts(p) == ("16835", "0", "16835", "1684")
    assert totals([p], "JPY") == Totals(
        Decimal("16835"), Decimal("0"), Decimal("1684"), Decimal("18519")
    )
    assert str(totals([p], "JPY").total) == "18519"


def test_a_yen_quote_with_a_promotion_stays_in_whole_yen() -> None:
    # 5 x 65500 = 327500; 15 % = 49125; 278375; tax 10 % = 27837.5 -> 27838; total 306213.
    sub = subscription("J1", currency="JPY")
    ctx = context(
        sub, promotions=[percent_off("YEN15", "15")], customer=customer(tax_rate=Decimal("0.10"))
    )
    quote = build_quote(renewal("J1"), ctx)
    assert amounts(quote.lines[0]) == ("327500", "49125", "278375", "27838")
    assert str(quote.totals.total) == "306213"
    assert quote.currency == "JPY"


def test_a_yen_co_term_line_is_prorated_to_the_whole_yen() -> None:
    # 70400 x 100 / 365 = 19287.67... -> 19288; tax 10 % = 1928.8 -> 1929.
    p = priced(
        line("70400", kind=LineKind.CO_TERM, start=date(2026, 3, 1), end=date(2026, 6, 8)),
        currency="JPY",
        tax_rate="0.10",
    )
    assert amounts(p) == ("19288", "0", "19288", "1929")


def test_totals_are_sums_of_rounded_lines_never_rounded_again() -> None:
    # Three co-term lines of 1.00 for 100 of 365 days: 0.27397... -> 0.27 each, 0.81 in all
    # (the unrounded sum, 0.8219..., would round to 0.82).
    lines = [
        priced(
            line("1.00", kind=LineKind.CO_TERM, start=date(2026, 3, 1), end=date(2026, 6, 8)),
            tax_rate="0",
        )
        for _ in range(3)
    ]
    assert [p.subtotal for p in lines] == [Decimal("0.27")] * 3
    assert totals(lines, "EUR").subtotal == Decimal("0.81")


def test_no_tax_where_the_customer_s_rate_is_zero() -> None:
    p = priced(line("460.00", 5), tax_rate="0")
    assert amounts(p) == ("2300.00", "0.00", "2300.00", "0.00")


def test_totals_of_no_lines_are_zero_in_the_minor_unit() -> None:
    assert totals([], "EUR") == Totals(
        Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("0.00")
    )
    assert str(totals([], "JPY").total) == "0"


def test_totals_refuse_to_disagree_with_themselves() -> None:
    with pytest.raises(ValueError):
        Totals(Decimal("100.00"), Decimal("10.00"), Decimal("18.00"), Decimal("108.01"))


def test_the_renewal_price_is_used_only_for_renewals_off_monthly_terms() -> None:
    annual: Price = price(term=Term.ANNUAL, new="495.00", renewal="460.00")
    monthly: Price = price(term=Term.MONTHLY, new="60.00", renewal="55.00")
    assert annual.for_line(LineKind.RENEWAL) == Decimal("460.00")
    assert annual.for_line(LineKind.NEW) == Decimal("495.00")
    assert annual.for_line(LineKind.CO_TERM) == Decimal("495.00")
    assert monthly.for_line(LineKind.RENEWAL) == Decimal("60.00")
