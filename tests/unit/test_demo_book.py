"""The demo book shows every case of RULES.md, whatever day it is built on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from renewquote.domain.eligibility import renewal_reasons
from renewquote.domain.errors import Code, Violation
from renewquote.domain.model import (
    Channel,
    OfferingKind,
    PaymentMethod,
    PurchaseMethod,
    SubscriptionStatus,
    Term,
)
from renewquote.services.book import Book, BookSubscription, parse_book
from renewquote.services.demo import DEMO_CUSTOMERS, DEMO_LOGINS, demo_book

# A day in the middle of a year, a leap day, and a first of January.
DAYS = [date(2026, 11, 28), date(2028, 2, 29), date(2027, 1, 1)]


@pytest.fixture(params=DAYS, ids=str)
def today(request: pytest.FixtureRequest) -> date:
    """Build the demo on several days: its cases must hold on each."""
    day: date = request.param
    return day


@pytest.fixture
def book(today: date) -> Book:
    """The demo book, checked as `renewquote load` checks a file."""
    return parse_book(demo_book(today))


def reasons(book: Book, sub: BookSubscription, today: date) -> tuple[Violation, ...]:
    """Return why a buyer could not renew `sub` on a self-service quote today."""
    kinds = {offering.code: offering.kind for offering in book.offerings}
    return renewal_reasons(
        end_date=sub.end_date,
        term=sub.term,
        status=sub.status,
        offering_kind=kinds[sub.offering],
        renewed=False,
        channel=Channel.SELF_SERVICE,
        today=today,
    )


def renewable(book: Book, today: date) -> Iterator[BookSubscription]:
    """Yield the subscriptions a buyer may renew today, region aside."""
    return (sub for sub in book.subscriptions if not reasons(book, sub, today))


def details(book: Book, today: date) -> set[tuple[Code, str | None]]:
    """Return every (code, detail) some demo subscription shows."""
    return {(r.code, r.detail) for sub in book.subscriptions for r in reasons(book, sub, today)}


def test_the_demo_book_is_a_valid_book_of_business(book: Book) -> None:
    assert [customer.csn for customer in book.customers] == list(DEMO_CUSTOMERS)


def test_the_demo_book_is_the_same_each_time_it_is_built(today: date) -> None:
    assert demo_book(today) == demo_book(today)


def test_some_subscriptions_are_before_inside_and_after_their_window(
    book: Book, today: date
) -> None:
    found = details(book, today)

    assert (Code.NOT_RENEWABLE, "window_not_open") in found
    assert (Code.NOT_RENEWABLE, "window_closed") in found
    assert any(sub.status is SubscriptionStatus.ACTIVE for sub in renewable(book, today))


def test_an_expired_subscription_still_renews_during_its_grace(book: Book, today: date) -> None:
    assert any(sub.status is SubscriptionStatus.EXPIRED for sub in renewable(book, today))


def test_a_monthly_subscription_renews_and_another_is_past_its_shorter_grace(
    book: Book, today: date
) -> None:
    monthly = [sub for sub in book.subscriptions if sub.term is Term.MONTHLY]
    closed = [sub for sub in monthly if reasons(book, sub, today)]

    assert any(sub.term is Term.MONTHLY for sub in renewable(book, today))
    # Past the 30 days of a monthly term, within the 45 days an annual term would have.
    assert any(0 < (today - sub.end_date).days <= 45 for sub in closed)


def test_cancelled_success_plan_and_flex_subscriptions_are_shown_with_their_reason(
    book: Book, today: date
) -> None:
    found = details(book, today)

    assert (Code.NOT_RENEWABLE, "cancelled") in found
    assert (Code.INELIGIBLE_OFFERING, None) in found
    kinds = {offering.kind for offering in book.offerings}
    assert {OfferingKind.SUCCESS_PLAN, OfferingKind.FLEX} <= kinds


def test_one_customer_renews_in_two_currencies_and_two_purchase_methods(
    book: Book, today: date
) -> None:
    by_customer: dict[str, set[tuple[str, PurchaseMethod]]] = {}
    for sub in renewable(book, today):
        by_customer.setdefault(sub.customer, set()).add((sub.currency, sub.purchase_method))

    assert any(
        len({currency for currency, _ in groups}) > 1 and len({method for _, method in groups}) > 1
        for groups in by_customer.values()
    )


def test_a_partner_resells_to_a_customer_whose_country_has_no_self_service(
    book: Book, today: date
) -> None:
    closed = {country.code for country in book.countries if not country.self_service_quotes}
    customers = {customer.csn for customer in book.customers if customer.country in closed}

    resold = [sub for sub in renewable(book, today) if sub.customer in customers]
    assert resold
    assert all(sub.purchase_method is PurchaseMethod.PARTNER for sub in resold)
    assert {sub.partner for sub in resold} <= {partner.csn for partner in book.partners}


def test_a_renewal_exceeds_its_currencys_card_limit(book: Book, today: date) -> None:
    renewal = {(p.offering, p.term, p.currency): p.renewal for p in book.prices}
    limit = next(c.card_limit for c in book.currencies if c.code == "EUR")

    assert limit is not None
    assert any(
        sub.currency == "EUR"
        and renewal[sub.offering, sub.term, sub.currency] * sub.quantity > limit
        for sub in renewable(book, today)
    )


def test_one_customer_pays_by_invoice_and_another_does_not(book: Book) -> None:
    invoiced = {customer.csn for customer in book.customers if customer.pays_by_invoice}

    assert {customer.pays_by_invoice for customer in book.customers} == {True, False}
    assert {sub.payment_method for sub in book.subscriptions if sub.customer in invoiced} == {
        PaymentMethod.INVOICE
    }


def test_every_offering_has_a_price_on_every_term_in_four_currencies(book: Book) -> None:
    priced = {(p.offering, p.term, p.currency) for p in book.prices}

    assert priced == {
        (offering.code, term, currency)
        for offering in book.offerings
        for term in Term
        for currency in ("EUR", "GBP", "USD", "JPY")
    }


def test_renewal_prices_are_lower_than_new_except_monthly_where_they_are_equal(
    book: Book,
) -> None:
    for price in book.prices:
        if price.term is Term.MONTHLY:
            assert price.renewal == price.new
        else:
            assert price.renewal < price.new


def test_yen_prices_have_no_minor_unit(book: Book) -> None:
    yen = [price for price in book.prices if price.currency == "JPY"]

    assert yen
    assert all(price.new == price.new.to_integral_value() for price in yen)
    assert Decimal("192000") in {price.renewal for price in yen}


def test_promotions_take_a_percentage_off_3_year_renewals_and_an_amount_off(
    book: Book, today: date
) -> None:
    running = [
        p
        for p in book.promotions
        if (p.starts is None or p.starts <= today) and (p.ends is None or today <= p.ends)
    ]

    assert any(p.percent_off is not None and p.terms == [Term.THREE_YEAR] for p in running)
    assert any(p.amount_off is not None for p in running)


def test_demo_logins_are_the_book_users_with_their_passwords(book: Book) -> None:
    users = {staff.email: staff.password for staff in book.staff}
    for partner in book.partners:
        users.update({user.email: user.password for user in partner.users})
    for customer in book.customers:
        users.update({contact.email: contact.password for contact in customer.contacts})

    assert all(users[email] == password for _, email, password in DEMO_LOGINS)
    assert None in users.values()  # a contact who receives quotes but cannot sign in
