"""Loading a book of business, on SQLite and PostgreSQL: all or nothing, exact, idempotent."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from renewquote.services.book import BookError, RowCounts, load_book, parse_book
from renewquote.services.demo import DEMO_CUSTOMERS, DEMO_LOGINS, demo_book
from renewquote.storage.database import Database
from renewquote.storage.tables import (
    Base,
    currencies,
    customers,
    prices,
    promotions,
    subscriptions,
    users,
)
from renewquote.storage.vendor import Vendor, load_vendor
from tests.book import migrated_counts, row_counts

TODAY = date(2026, 11, 28)
# Cheap parameters keep the suite fast; the hashes are argon2 all the same.
QUICK = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


def small_book() -> dict[str, Any]:
    """Return a book with one of everything, loadable as is."""
    return {
        "vendor": {
            "name": "Vendor SAS",
            "address": {
                "line1": "8 rue de Londres",
                "city": "Paris",
                "postal_code": "75009",
                "country": "FR",
            },
            "tax_id": "FR19812345676",
            "support_email": "support@vendor.example",
        },
        "currencies": [{"code": "EUR", "card_limit": "23000.00"}],
        "countries": [
            {"code": "FR", "self_service_quotes": True, "tax_rate": "0.20", "language": "fr"}
        ],
        "staff": [{"email": "ops@vendor.example", "name": "Ops", "password": "staff-secret"}],
        "partners": [
            {
                "csn": "5100000001",
                "name": "CAD Partenaire SARL",
                "country": "FR",
                "users": [
                    {"email": "anne@partner.example", "name": "Anne", "password": "anne-secret"}
                ],
            }
        ],
        "customers": [
            {
                "csn": "5200000001",
                "name": "Atelier Dupont",
                "country": "FR",
                "address": {"line1": "1 rue de la Paix", "city": "Paris", "postal_code": "75002"},
                "pays_by_invoice": False,
                "tax_id": "FR31523456788",
                "contacts": [
                    {
                        "email": "marie@dupont.example",
                        "name": "Marie",
                        "role": "purchaser",
                        "password": "marie-secret",
                    },
                    {"email": "luc@dupont.example", "name": "Luc", "role": "user"},
                ],
            }
        ],
        "offerings": [{"code": "ACDLT", "name": "AutoCAD LT", "kind": "standard"}],
        "prices": [
            {
                "offering": "ACDLT",
                "term": "annual",
                "currency": "EUR",
                "new": "1234.50",
                "renewal": "1100.00",
            },
            {
                "offering": "ACDLT",
                "term": "annual",
                "currency": "JPY",
                "new": "205000",
                "renewal": "192000",
            },
        ],
        "promotions": [
            {
                "code": "RENEW3Y10",
                "name": "10 % on 3-year renewals",
                "percent_off": "12.5",
                "terms": ["3-year"],
                "currencies": ["EUR"],
                "quote_types": ["renewal"],
                "starts": "2026-11-01",
                "ends": "2026-12-31",
            },
            {"code": "LT40", "name": "40 off", "amount_off": "40.00", "currencies": ["EUR"]},
        ],
        "subscriptions": [
            {
                "id": "SUB-0001",
                "customer": "5200000001",
                "offering": "ACDLT",
                "quantity": 5,
                "term": "annual",
                "currency": "EUR",
                "purchase_method": "direct",
                "partner": None,
                "start_date": "2025-12-15",
                "end_date": "2026-12-14",
                "status": "active",
                "payment_method": "card",
                "auto_renew": True,
            },
            {
                "id": "SUB-0002",
                "customer": "5200000001",
                "offering": "ACDLT",
                "quantity": 2,
                "term": "annual",
                "currency": "USD",
                "purchase_method": "partner",
                "partner": "5100000001",
                "start_date": "2025-12-15",
                "end_date": "2026-12-14",
                "status": "active",
                "payment_method": "invoice",
                "auto_renew": False,
            },
        ],
    }


def everything(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of every table, in primary-key order."""
    with db.read() as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


def problems_of(data: object) -> dict[str, str]:
    """Return the problems `parse_book` finds in `data`, by place in the file."""
    with pytest.raises(BookError) as refused:
        parse_book(data)
    return {problem.path: problem.message for problem in refused.value.problems}


def test_the_demo_book_loads_and_loading_it_again_changes_nothing(db: Database) -> None:
    first = load_book(db, demo_book(TODAY), hasher=QUICK)
    before = everything(db)

    second = load_book(db, demo_book(TODAY), hasher=QUICK)

    # Every row is the book's but the promotions' version, which the database keeps.
    book_rows = sum(len(rows) for table, rows in before.items() if table != "data_versions")
    assert first.total.inserted == book_rows
    assert (first.total.updated, first.total.unchanged) == (0, 0)
    assert second.total == RowCounts(unchanged=first.total.inserted)
    assert everything(db) == before  # the version too: promotions did not change
    assert [csn for csn, *_ in before["customers"]] == sorted(DEMO_CUSTOMERS)


def test_demo_logins_sign_in_with_their_passwords(db: Database) -> None:
    load_book(db, demo_book(TODAY), hasher=QUICK)

    with db.read() as conn:
        hashes = dict(conn.execute(select(users.c.email, users.c.password_hash)).all())
    for _, email, password in DEMO_LOGINS:
        assert PasswordHasher().verify(hashes[email], password)


def test_money_comes_back_exactly_as_written(db: Database) -> None:
    load_book(db, small_book(), hasher=QUICK)

    with db.read() as conn:
        stored_prices = {
            row.currency: (row.new_price, row.renewal_price) for row in conn.execute(select(prices))
        }
        limits = dict(conn.execute(select(currencies.c.code, currencies.c.card_limit)).all())
        promotion = conn.execute(
            select(promotions.c.percent_off, promotions.c.amount_off).order_by(promotions.c.code)
        ).all()
    assert [str(amount) for amount in stored_prices["EUR"]] == ["1234.50", "1100.00"]
    assert [str(amount) for amount in stored_prices["JPY"]] == ["205000", "192000"]
    assert stored_prices["EUR"][0] == Decimal("1234.50")
    assert {code: str(limit) for code, limit in limits.items()} == {
        "EUR": "23000.00",
        "JPY": "None",
        "USD": "25000.00",
    }
    assert [(str(p), str(a)) for p, a in promotion] == [("None", "40.00"), ("12.5", "None")]


def test_a_bad_file_is_refused_whole_with_every_problem_in_its_place(db: Database) -> None:
    book = small_book()
    book["prices"][0]["new"] = 1234.5
    book["customers"][0]["contacts"][1]["email"] = "OPS@vendor.example"
    book["subscriptions"][0]["customer"] = "5299999999"
    book["subscriptions"][0]["end_date"] = "2025-12-01"
    book["subscriptions"][1]["partner"] = None
    book["promotions"][0]["seats"] = 2
    book["promotions"][1]["percent_off"] = "10"

    with pytest.raises(BookError) as refused:
        load_book(db, book, hasher=QUICK)

    assert [(p.path, p.message) for p in refused.value.problems] == [
        (
            "customers[0].contacts[1].email",
            "e-mail ops@vendor.example is already used at staff[0].email",
        ),
        ("prices[0].new", 'an amount is a decimal string such as "1234.50", not a JSON number'),
        ("promotions[0].seats", "unknown field"),
        ("promotions[1]", "give exactly one of percent_off and amount_off"),
        ("subscriptions[0].end_date", "ends before it starts"),
        ("subscriptions[0].customer", "no customer 5299999999 in this book or loaded before"),
        ("subscriptions[1].partner", "a partner purchase names its reseller of record"),
    ]
    assert row_counts(db) == migrated_counts()


def test_a_refused_file_leaves_what_was_loaded_before_untouched(db: Database) -> None:
    load_book(db, small_book(), hasher=QUICK)
    before = everything(db)
    book = small_book()
    book["customers"][0]["name"] = "Atelier Dupont et Fils"
    book["subscriptions"][0]["quantity"] = 0

    with pytest.raises(BookError):
        load_book(db, book, hasher=QUICK)

    assert everything(db) == before


def test_problems_in_malformed_entries_do_not_hide_the_rest_of_the_file() -> None:
    book = small_book()
    book["customers"][0]["pays_by_invoice"] = "no"
    book["subscriptions"][1]["offering"] = "NOPE"

    assert problems_of(book) == {
        "customers[0].pays_by_invoice": "Input should be a valid boolean",
        "subscriptions[1].offering": "no offering NOPE in this book or loaded before",
    }


def test_a_malformed_entry_still_has_its_references_checked() -> None:
    book = small_book()
    book["subscriptions"][1]["quantity"] = 0
    book["subscriptions"][1]["customer"] = "5299999999"

    assert problems_of(book) == {
        "subscriptions[1].quantity": "Input should be greater than or equal to 1",
        "subscriptions[1].customer": "no customer 5299999999 in this book or loaded before",
    }


def test_an_amount_given_as_a_json_number_is_refused() -> None:
    book = small_book()
    book["prices"][1]["renewal"] = 192000
    book["currencies"][0]["card_limit"] = 23000.0

    assert problems_of(book) == {
        "currencies[0].card_limit": 'an amount is a decimal string such as "1234.50", '
        "not a JSON number",
        "prices[1].renewal": 'an amount is a decimal string such as "1234.50", not a JSON number',
    }


def test_a_file_that_is_not_one_object_is_refused_at_its_top() -> None:
    assert problems_of([small_book()]) == {"": "a book of business is one JSON object"}


def test_values_are_read_strictly_and_unknown_names_refused() -> None:
    book = small_book()
    book["customers"][0]["csn"] = 5200000001
    book["subscriptions"][0]["quantity"] = "5"
    book["subscriptions"][0]["start_date"] = "15/12/2025"
    book["subscriptions"][0]["term"] = "yearly"
    book["countries"][0]["code"] = "fr"
    book["countries"][0]["tax_rate"] = "20"
    book["offerings"][0]["kind"] = "bundle"
    book["prices"][0]["currency"] = "euro"
    book["catalogue"] = []

    assert problems_of(book) == {
        "countries[0].code": 'a country is two upper-case letters (ISO 3166), such as "FR"',
        "countries[0].tax_rate": "Input should be less than 1",
        "partners[0].country": "no country FR in this book or loaded before",
        "customers[0].csn": "Input should be a valid string",
        "customers[0].country": "no country FR in this book or loaded before",
        "offerings[0].kind": "Input should be 'standard', 'success_plan' or 'flex'",
        "prices[0].currency": 'a currency is three upper-case letters (ISO 4217), such as "EUR"',
        "subscriptions[0].quantity": "Input should be a valid integer",
        "subscriptions[0].term": "Input should be 'monthly', 'annual' or '3-year'",
        "subscriptions[0].start_date": "a date is ISO text YYYY-MM-DD",
        "catalogue": "unknown section",
    }


def test_purchase_method_partner_goes_with_a_partner_and_direct_without() -> None:
    book = small_book()
    book["subscriptions"][0]["partner"] = "5100000001"
    book["subscriptions"][1]["partner"] = None

    assert problems_of(book) == {
        "subscriptions[0].partner": "a direct purchase has no partner",
        "subscriptions[1].partner": "a partner purchase names its reseller of record",
    }


def test_the_same_key_twice_in_one_file_is_refused() -> None:
    book = small_book()
    book["customers"].append(copy.deepcopy(book["customers"][0]))
    book["customers"][1]["contacts"] = []
    book["prices"].append(dict(book["prices"][0], new="1300.00"))
    book["subscriptions"][1]["id"] = "SUB-0001"

    assert problems_of(book) == {
        "customers[1].csn": "customer CSN 5200000001 is already listed at customers[0]",
        "prices[2]": "a price for ACDLT annual EUR is already listed at prices[0]",
        "subscriptions[1].id": "subscription SUB-0001 is already listed at subscriptions[0]",
    }


def test_a_renewal_price_above_the_new_price_is_refused() -> None:
    book = small_book()
    book["prices"][0]["renewal"] = "1300.00"

    assert problems_of(book) == {
        "prices[0].renewal": "the renewal price 1300.00 is above the new price 1234.50"
    }


def test_a_promotion_refers_to_known_offerings_and_countries_and_dates_in_order() -> None:
    book = small_book()
    book["promotions"][0].update(offerings=["ACD"], countries=["DE"], ends="2026-10-31")
    book["promotions"][1]["currencies"] = []

    assert problems_of(book) == {
        "promotions[0].ends": "ends before it starts",
        "promotions[0].offerings[0]": "no offering ACD in this book or loaded before",
        "promotions[0].countries[0]": "no country DE in this book or loaded before",
        "promotions[1].currencies": "an amount off names the currencies it is in",
    }


def test_passwords_are_stored_as_argon2_hashes(db: Database) -> None:
    load_book(db, small_book())

    with db.read() as conn:
        stored = {row.email: row for row in conn.execute(select(users).order_by(users.c.id))}
    for email, password in [
        ("ops@vendor.example", "staff-secret"),
        ("anne@partner.example", "anne-secret"),
        ("marie@dupont.example", "marie-secret"),
    ]:
        assert stored[email].password_hash.startswith("$argon2id$")
        assert PasswordHasher().verify(stored[email].password_hash, password)
    assert stored["luc@dupont.example"].password_hash is None
    assert [(u.kind, u.role, u.customer_csn, u.partner_csn) for u in stored.values()] == [
        ("staff", None, None, None),
        ("partner", None, None, "5100000001"),
        ("customer", "purchaser", "5200000001", None),
        ("customer", "user", "5200000001", None),
    ]


def test_a_new_password_is_hashed_again_and_an_unchanged_one_kept(db: Database) -> None:
    load_book(db, small_book(), hasher=QUICK)
    before = everything(db)["users"]
    book = small_book()
    book["staff"][0]["password"] = "new-secret"

    report = load_book(db, book, hasher=QUICK)

    after = everything(db)["users"]
    assert report.counts["users"] == RowCounts(updated=1, unchanged=3)
    assert after[1:] == before[1:]
    assert QUICK.verify(after[0][5], "new-secret")


def test_a_changed_entry_updates_its_row_only(db: Database) -> None:
    load_book(db, small_book(), hasher=QUICK)
    book = small_book()
    book["subscriptions"][1]["quantity"] = 3
    book["customers"][0]["address"]["line2"] = "Bâtiment B"

    report = load_book(db, book, hasher=QUICK)

    assert report.counts["subscriptions"] == RowCounts(updated=1, unchanged=1)
    assert report.counts["customers"] == RowCounts(updated=1)
    assert str(report) == (
        "0 rows inserted, 2 updated, 16 unchanged "
        "(customers: 0 inserted, 1 updated; subscriptions: 0 inserted, 1 updated)"
    )
    with db.read() as conn:
        quantities = dict(conn.execute(select(subscriptions.c.id, subscriptions.c.quantity)).all())
        line2 = conn.execute(select(customers.c.address_line2)).scalar_one()
    assert quantities == {"SUB-0001": 5, "SUB-0002": 3}
    assert line2 == "Bâtiment B"


def test_a_later_file_may_refer_to_what_an_earlier_one_loaded(db: Database) -> None:
    load_book(db, small_book(), hasher=QUICK)
    later = {"subscriptions": [dict(small_book()["subscriptions"][0], id="SUB-0003")]}

    report = load_book(db, later, hasher=QUICK)

    assert report.counts["subscriptions"] == RowCounts(inserted=1)
    # EUR is referred to, not listed: the limit the first file gave it stays.
    assert report.counts["currencies"] == RowCounts(unchanged=1)
    with db.read() as conn:
        limit = conn.execute(
            select(currencies.c.card_limit).where(currencies.c.code == "EUR")
        ).scalar_one()
    assert limit == Decimal("23000.00")


def test_a_currency_left_out_has_no_limit_except_usd(db: Database) -> None:
    book = small_book()
    book["currencies"] = [{"code": "USD"}, {"code": "GBP", "card_limit": None}]

    load_book(db, book, hasher=QUICK)

    with db.read() as conn:
        limits = dict(conn.execute(select(currencies.c.code, currencies.c.card_limit)).all())
    assert limits == {"USD": Decimal("25000.00"), "GBP": None, "EUR": None, "JPY": None}


def test_promotion_filters_are_stored_as_lists_empty_when_left_out(db: Database) -> None:
    load_book(db, small_book(), hasher=QUICK)

    with db.read() as conn:
        rows = {row.code: row for row in conn.execute(select(promotions))}
    assert (rows["RENEW3Y10"].terms, rows["RENEW3Y10"].quote_types) == (["3-year"], ["renewal"])
    assert rows["RENEW3Y10"].starts == date(2026, 11, 1)
    assert (rows["LT40"].offerings, rows["LT40"].terms, rows["LT40"].countries) == ([], [], [])
    assert rows["LT40"].starts is None


def test_emails_are_one_person_each_whatever_their_case() -> None:
    book = small_book()
    book["partners"][0]["users"].append(
        {"email": "Marie@Dupont.example", "name": "Marie", "password": "x"}
    )

    assert problems_of(book) == {
        "customers[0].contacts[0].email": "e-mail marie@dupont.example is already used at "
        "partners[0].users[1].email"
    }


def test_emails_are_stored_lower_case_so_one_person_is_one_user(db: Database) -> None:
    book = small_book()
    book["customers"][0]["contacts"][0]["email"] = "Marie@Dupont.Example"
    load_book(db, book, hasher=QUICK)

    report = load_book(db, small_book(), hasher=QUICK)

    assert report.counts["users"] == RowCounts(unchanged=4)
    with db.read() as conn:
        emails = conn.execute(select(users.c.email).order_by(users.c.id)).scalars().all()
    assert "marie@dupont.example" in emails


def test_an_email_is_checked_for_its_syntax_as_the_api_checks_it() -> None:
    book = small_book()
    book["staff"][0]["email"] = "ops@vendor"
    book["partners"][0]["users"][0]["email"] = "anne@partner.local"
    book["customers"][0]["contacts"][1]["email"] = "luc@dupont..example"

    assert problems_of(book) == {
        "staff[0].email": "not an e-mail address: The part after the @-sign is not valid. "
        "It should have a period.",
        "partners[0].users[0].email": "not an e-mail address: The part after the @-sign is a "
        "special-use or reserved name that cannot be used with email.",
        "customers[0].contacts[1].email": "not an e-mail address: An email address cannot "
        "have two periods in a row.",
    }


def test_an_email_at_a_sandbox_domain_is_accepted_and_kept_lower_case() -> None:
    book = small_book()
    book["staff"][0]["email"] = "Ops@Vendor.Test"
    book["partners"][0]["users"][0]["email"] = "anne@example.com"
    book["customers"][0]["contacts"][1]["email"] = "LUC@dupont.example"

    parsed = parse_book(book)

    assert parsed.staff[0].email == "ops@vendor.test"
    assert parsed.partners[0].users[0].email == "anne@example.com"
    assert parsed.customers[0].contacts[1].email == "luc@dupont.example"


def test_a_malformed_subscription_still_has_its_dates_and_references_checked() -> None:
    book = small_book()
    book["subscriptions"][0].update(quantity="three", end_date="2025-12-01", customer="5299999999")

    assert problems_of(book) == {
        "subscriptions[0].quantity": "Input should be a valid integer",
        "subscriptions[0].end_date": "ends before it starts",
        "subscriptions[0].customer": "no customer 5299999999 in this book or loaded before",
    }


def test_every_rule_runs_on_the_fields_of_a_malformed_entry_that_parsed() -> None:
    book = small_book()
    book["customers"][0]["pays_by_invoice"] = "no"
    book["customers"][0]["contacts"][0]["role"] = "buyer"
    book["customers"][0]["contacts"][1]["email"] = "anne@partner.example"
    book["prices"][0].update(currency="euro", renewal="1300.00")
    book["promotions"][0].update(name=" ", amount_off="5.00", countries=["DE"])
    book["subscriptions"][1].update(status="paused", partner=None)

    assert problems_of(book) == {
        "customers[0].pays_by_invoice": "Input should be a valid boolean",
        "customers[0].contacts[0].role": "Input should be 'purchaser', 'admin' or 'user'",
        "customers[0].contacts[1].email": "e-mail anne@partner.example is already used at "
        "partners[0].users[0].email",
        "prices[0].currency": 'a currency is three upper-case letters (ISO 4217), such as "EUR"',
        "prices[0].renewal": "the renewal price 1300.00 is above the new price 1234.50",
        "promotions[0].name": "must not be blank",
        "promotions[0]": "give exactly one of percent_off and amount_off",
        "promotions[0].countries[0]": "no country DE in this book or loaded before",
        "subscriptions[1].status": "Input should be 'active', 'expired' or 'cancelled'",
        "subscriptions[1].partner": "a partner purchase names its reseller of record",
    }


def test_a_field_that_did_not_parse_is_not_judged_again() -> None:
    book = small_book()
    book["subscriptions"][1].update(partner=5100000001, start_date="2026-13-01")
    book["customers"][0]["csn"] = 5200000001

    assert problems_of(book) == {
        "customers[0].csn": "Input should be a valid string",
        "subscriptions[1].partner": "Input should be a valid string",
        "subscriptions[1].start_date": "no such day in the calendar",
    }


def test_a_nul_character_in_any_text_is_a_problem_in_its_place() -> None:
    book = small_book()
    book["countries"][0]["language"] = "fr\x00"
    book["partners"][0]["users"][0]["password"] = "anne\x00secret"
    book["customers"][0]["name"] = "Atelier\x00Dupont"
    book["customers"][0]["address"]["line1"] = "1 rue de la Paix\x00"
    book["customers"][0]["contacts"][1]["email"] = "luc\x00@dupont.example"
    book["offerings"][0]["na\x00me"] = "AutoCAD LT"
    book["subscriptions"][1]["id"] = "SUB-\x000002"
    nul = "must not contain the NUL character (\\x00)"

    assert problems_of(book) == {
        "countries[0].language": nul,
        "partners[0].users[0].password": nul,
        "customers[0].name": nul,
        "customers[0].address.line1": nul,
        "customers[0].contacts[1].email": nul,
        "offerings[0].na\\x00me": "unknown field",
        "subscriptions[1].id": nul,
    }


def test_a_currency_outside_iso_4217_is_refused_wherever_it_is_named() -> None:
    book = small_book()
    book["currencies"].append({"code": "ABC"})
    book["prices"][1]["currency"] = "XYZ"
    book["promotions"][1]["currencies"] = ["EUR", "EUX"]

    assert problems_of(book) == {
        "currencies[1].code": "not a currency of ISO 4217",
        "prices[1].currency": "not a currency of ISO 4217",
        "promotions[1].currencies[1]": "not a currency of ISO 4217",
    }


def test_a_currency_withdrawn_since_a_subscription_was_bought_is_accepted() -> None:
    book = small_book()
    book["prices"][1]["currency"] = "HRK"  # the kuna, replaced by the euro in 2023

    assert [price.currency for price in parse_book(book).prices] == ["EUR", "HRK"]


def test_an_amount_finer_than_its_currencys_minor_unit_is_refused() -> None:
    book = small_book()
    book["currencies"].append({"code": "JPY", "card_limit": "3500000.5"})
    book["prices"][0].update(new="1234.505", renewal="1100.001")
    book["prices"][1]["renewal"] = "192000.50"
    book["promotions"][1].update(amount_off="0.50", currencies=["EUR", "JPY"])

    assert problems_of(book) == {
        "currencies[1].card_limit": "3500000.5 is finer than the minor unit of JPY (1)",
        "prices[0].new": "1234.505 is finer than the minor unit of EUR (0.01)",
        "prices[0].renewal": "1100.001 is finer than the minor unit of EUR (0.01)",
        "prices[1].renewal": "192000.50 is finer than the minor unit of JPY (1)",
        "promotions[1].amount_off": "0.50 is finer than the minor unit of JPY (1)",
    }


def test_an_amount_with_trailing_zeros_is_not_finer_than_its_minor_unit() -> None:
    book = small_book()
    book["prices"][0]["new"] = "1234.500"
    book["prices"][1]["new"] = "205000.0"

    assert [str(price.new) for price in parse_book(book).prices] == ["1234.500", "205000.0"]


def test_the_vendor_and_a_customers_tax_id_are_stored_and_loading_again_changes_nothing(
    db: Database,
) -> None:
    first = load_book(db, small_book(), hasher=QUICK)
    second = load_book(db, small_book(), hasher=QUICK)

    assert (first.counts["vendor"], second.counts["vendor"]) == (
        RowCounts(inserted=1),
        RowCounts(unchanged=1),
    )
    assert second.counts["customers"] == RowCounts(unchanged=1)
    with db.read() as conn:
        vendor = load_vendor(conn)
        tax_id = conn.execute(select(customers.c.tax_id)).scalar_one()
    assert vendor == Vendor(
        name="Vendor SAS",
        address_line1="8 rue de Londres",
        address_line2=None,
        city="Paris",
        postal_code="75009",
        country="FR",
        tax_id="FR19812345676",
        support_email="support@vendor.example",
    )
    assert tax_id == "FR31523456788"


def test_a_changed_vendor_updates_its_one_row_and_a_book_without_one_keeps_it(
    db: Database,
) -> None:
    load_book(db, small_book(), hasher=QUICK)
    book = small_book()
    book["vendor"]["address"]["line2"] = "3e étage"
    book["customers"][0].pop("tax_id")

    changed = load_book(db, book, hasher=QUICK)
    without = load_book(db, {"offerings": small_book()["offerings"]}, hasher=QUICK)

    assert changed.counts["vendor"] == RowCounts(updated=1)
    assert changed.counts["customers"] == RowCounts(updated=1)
    assert without.counts["vendor"] == RowCounts()
    with db.read() as conn:
        vendor = load_vendor(conn)
        tax_id = conn.execute(select(customers.c.tax_id)).scalar_one()
    assert vendor is not None
    assert (vendor.address_line2, vendor.tax_id) == ("3e étage", "FR19812345676")
    assert tax_id is None


def test_no_vendor_is_known_before_a_book_names_one(db: Database) -> None:
    load_book(db, {"offerings": small_book()["offerings"]}, hasher=QUICK)

    with db.read() as conn:
        assert load_vendor(conn) is None


def test_the_vendor_and_a_tax_id_are_checked_with_the_field_types_of_the_api() -> None:
    book = small_book()
    del book["vendor"]["name"]
    book["vendor"]["address"].update(line2=" ", country="France")
    book["vendor"].update(tax_id="FR19\x00812345676", support_email="support@vendor")
    book["customers"][0]["tax_id"] = 31523456788

    assert problems_of(book) == {
        "vendor.name": "required",
        "vendor.address.line2": "must not be blank",
        "vendor.address.country": 'a country is two upper-case letters (ISO 3166), such as "FR"',
        "vendor.tax_id": "must not contain the NUL character (\\x00)",
        "vendor.support_email": "not an e-mail address: The part after the @-sign is not "
        "valid. It should have a period.",
        "customers[0].tax_id": "Input should be a valid string",
    }


def test_the_example_of_the_format_page_loads_and_loading_it_again_changes_nothing(
    db: Database,
) -> None:
    page = (Path(__file__).parents[2] / "docs" / "book.md").read_text(encoding="utf-8")
    example = json.loads(page.split("```json\n", 1)[1].split("```", 1)[0])

    first = load_book(db, example, hasher=QUICK)
    second = load_book(db, example, hasher=QUICK)

    assert first.total == RowCounts(inserted=26)
    assert second.total == RowCounts(unchanged=26)
