"""`renewquote load` on SQLite and PostgreSQL: a good book is stored, a bad one refused whole."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from renewquote import cli
from renewquote.storage.database import Database
from renewquote.storage.tables import customers, users
from renewquote.storage.vendor import Vendor, load_vendor
from tests.book import BOOK, migrated_counts, row_counts


@pytest.fixture(autouse=True)
def wide_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Print each problem on one line: Rich fixes its width when the command line is imported."""
    monkeypatch.setattr(cli.errors, "width", 250)


@pytest.fixture
def book_data() -> dict[str, Any]:
    """A copy of the test book, for a test to spoil."""
    return copy.deepcopy(BOOK)


def load(db: Database, book: object, tmp_path: Path) -> Result:
    """Run `renewquote load` on `book`, written as a JSON file, against the database `db`."""
    path = tmp_path / "book.json"
    path.write_text(json.dumps(book), encoding="utf-8")
    url = db.url.render_as_string(hide_password=False)
    return CliRunner().invoke(cli.app, ["load", str(path)], env={"RENEWQUOTE_DATABASE_URL": url})


def words(text: str) -> str:
    """Return `text` with its lines joined, as Rich may wrap them."""
    return " ".join(text.split())


def problems(result: Result) -> dict[str, str]:
    """Return the problems `renewquote load` printed, by place in the file."""
    rows = [line.split("│")[1:3] for line in result.stderr.splitlines() if line.startswith("│")]
    return {where.strip(): what.strip() for where, what in rows}


def refused(db: Database, result: Result) -> dict[str, str]:
    """Check that the book was refused and nothing written; return its problems."""
    assert result.exit_code == 1, result.output
    assert "was refused; nothing was written" in words(result.stderr)
    assert row_counts(db) == migrated_counts()
    return problems(result)


def test_a_good_book_is_loaded_and_loading_it_again_changes_nothing(
    db: Database, book_data: dict[str, Any], tmp_path: Path
) -> None:
    first = load(db, book_data, tmp_path)
    second = load(db, book_data, tmp_path)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert ": 50 rows inserted, 0 updated, 0 unchanged (" in words(first.stdout)
    assert words(second.stdout).endswith(": 0 rows inserted, 0 updated, 50 unchanged")
    assert row_counts(db)["subscriptions"] == len(book_data["subscriptions"])


def test_an_address_the_api_would_refuse_is_refused(
    db: Database, book_data: dict[str, Any], tmp_path: Path
) -> None:
    book_data["customers"][0]["contacts"][1]["email"] = "paul@dupont..example"
    book_data["customers"][0]["contacts"][2]["email"] = "compta.@dupont.example"
    book_data["partners"][1]["users"][0]["email"] = "bob@[192.0.2.1]"

    assert refused(db, load(db, book_data, tmp_path)) == {
        "partners[1].users[0].email": "not an e-mail address: A bracketed IP address after "
        "the @-sign is not allowed here.",
        "customers[0].contacts[1].email": "not an e-mail address: An email address cannot "
        "have two periods in a row.",
        "customers[0].contacts[2].email": "not an e-mail address: An email address cannot "
        "have a period immediately before the @-sign.",
    }


def test_addresses_at_special_use_domains_of_sandboxes_are_loaded_lower_case(
    db: Database, book_data: dict[str, Any], tmp_path: Path
) -> None:
    book_data["staff"][0]["email"] = "Ops@Vendor.TEST"
    book_data["partners"][1]["users"][0]["email"] = "bob@example.com"

    result = load(db, book_data, tmp_path)

    assert result.exit_code == 0, result.output
    with db.read() as conn:
        emails = set(conn.execute(select(users.c.email)).scalars())
    assert {"ops@vendor.test", "bob@example.com", "anne@partner.example"} <= emails


def test_a_malformed_subscription_lists_its_other_problems_too(
    db: Database, book_data: dict[str, Any], tmp_path: Path
) -> None:
    book_data["subscriptions"][0].update(
        quantity="three", start_date="2026-12-15", end_date="2026-12-14", customer="5299999999"
    )

    assert refused(db, load(db, book_data, tmp_path)) == {
        "subscriptions[0].quantity": "Input should be a valid integer",
        "subscriptions[0].end_date": "ends before it starts",
        "subscriptions[0].customer": "no customer 5299999999 in this book or loaded before",
    }


def test_a_nul_character_is_a_problem_in_its_place_not_a_database_error(
    db: Database, book_data: dict[str, Any], tmp_path: Path
) -> None:
    book_data["partners"][0]["name"] = "CAD Partenaire\x00SARL"
    book_data["customers"][1]["address"]["city"] = "Lon\x00don"
    book_data["offerings"][1]["name"] = "Re\x00vit"
    book_data["subscriptions"][2]["offering"] = "\x00"
    nul = "must not contain the NUL character (\\x00)"

    assert refused(db, load(db, book_data, tmp_path)) == {
        "partners[0].name": nul,
        "customers[1].address.city": nul,
        "offerings[1].name": nul,
        "subscriptions[2].offering": nul,
    }


def test_a_currency_outside_iso_4217_is_refused(
    db: Database, book_data: dict[str, Any], tmp_path: Path
) -> None:
    book_data["currencies"].append({"code": "XYZ", "card_limit": "1000.00"})
    book_data["subscriptions"][2]["currency"] = "ABC"

    assert refused(db, load(db, book_data, tmp_path)) == {
        "currencies[3].code": "not a currency of ISO 4217",
        "subscriptions[2].currency": "not a currency of ISO 4217",
    }


def test_an_amount_finer_than_its_currencys_minor_unit_is_refused(
    db: Database, book_data: dict[str, Any], tmp_path: Path
) -> None:
    book_data["currencies"][0]["card_limit"] = "23000.001"
    book_data["prices"][0]["new"] = "495.005"
    book_data["prices"][4]["renewal"] = "64000.5"
    book_data["promotions"].append(
        {"code": "SEAT1", "name": "1 off a seat", "amount_off": "1.50", "currencies": ["JPY"]}
    )

    assert refused(db, load(db, book_data, tmp_path)) == {
        "currencies[0].card_limit": "23000.001 is finer than the minor unit of EUR (0.01)",
        "prices[0].new": "495.005 is finer than the minor unit of EUR (0.01)",
        "prices[4].renewal": "64000.5 is finer than the minor unit of JPY (1)",
        "promotions[1].amount_off": "1.50 is finer than the minor unit of JPY (1)",
    }


def test_the_vendor_and_a_customers_tax_id_are_loaded_and_kept_on_reload(
    db: Database, book_data: dict[str, Any], tmp_path: Path
) -> None:
    first = load(db, book_data, tmp_path)
    book_data["vendor"]["support_email"] = "Help@Vendor.Example"
    second = load(db, book_data, tmp_path)
    third = load(db, book_data, tmp_path)

    assert "vendor: 1 inserted, 0 updated;" in words(first.stdout)
    assert "(vendor: 0 inserted, 1 updated)" in words(second.stdout)
    assert words(third.stdout).endswith(": 0 rows inserted, 0 updated, 50 unchanged")
    with db.read() as conn:
        vendor = load_vendor(conn)
        tax_ids = dict(conn.execute(select(customers.c.csn, customers.c.tax_id)).all())
    assert vendor == Vendor(
        name="Vendor SAS",
        address_line1="8 rue de Londres",
        address_line2=None,
        city="Paris",
        postal_code="75009",
        country="FR",
        tax_id="FR19812345676",
        support_email="help@vendor.example",
    )
    assert tax_ids == {
        "5200000001": None,
        "5200000002": "GB123456789",
        "5200000003": None,
        "5200000004": None,
    }


def test_a_vendor_is_refused_with_every_problem_in_it(
    db: Database, book_data: dict[str, Any], tmp_path: Path
) -> None:
    book_data["vendor"]["address"].pop("country")
    book_data["vendor"].update(tax_id="", support_email="support@vendor..example")
    book_data["customers"][0]["tax_id"] = " "

    assert refused(db, load(db, book_data, tmp_path)) == {
        "vendor.address.country": "required",
        "vendor.tax_id": "must not be blank",
        "vendor.support_email": "not an e-mail address: An email address cannot have two "
        "periods in a row.",
        "customers[0].tax_id": "must not be blank",
    }
