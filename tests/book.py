"""A small book of business for the service and API tests, loaded through the real loader."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from renewquote.storage.database import Database
from renewquote.storage.tables import Base

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC).replace(tzinfo=None)


def _sub(sid: str, **over: Any) -> dict[str, Any]:
    base = {
        "id": sid,
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
    }
    return {**base, **over}


def _contact(email: str, role: str = "purchaser") -> dict[str, Any]:
    return {
        "email": email,
        "name": email.split("@")[0].title(),
        "role": role,
        "password": "pw-" + email,
    }


BOOK: dict[str, Any] = {
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
    "currencies": [
        {"code": "EUR", "card_limit": "23000.00"},
        {"code": "USD", "card_limit": "25000.00"},
        {"code": "JPY", "card_limit": "3500000"},
    ],
    "countries": [
        {"code": "FR", "self_service_quotes": True, "tax_rate": "0.20", "language": "fr"},
        {"code": "GB", "self_service_quotes": True, "tax_rate": "0.20", "language": "en"},
        {"code": "JP", "self_service_quotes": True, "tax_rate": "0.10", "language": "en"},
        {"code": "BR", "self_service_quotes": False, "tax_rate": "0.17", "language": "en"},
    ],
    "staff": [{"email": "ops@vendor.example", "name": "Ops", "password": "ops-pass"}],
    "partners": [
        {
            "csn": "5100000001",
            "name": "CAD Partenaire SARL",
            "country": "FR",
            "users": [{"email": "anne@partner.example", "name": "Anne", "password": "anne-pass"}],
        },
        {
            "csn": "5100000002",
            "name": "Other Reseller Ltd",
            "country": "GB",
            "users": [{"email": "bob@other.example", "name": "Bob", "password": "bob-pass"}],
        },
    ],
    "customers": [
        {
            "csn": "5200000001",
            "name": "Atelier Dupont",
            "country": "FR",
            "address": {"line1": "1 rue de la Paix", "city": "Paris", "postal_code": "75002"},
            "pays_by_invoice": False,
            "contacts": [
                _contact("marie@dupont.example"),
                _contact("paul@dupont.example", "user"),
                _contact("compta@dupont.example", "admin"),
            ],
        },
        {
            "csn": "5200000002",
            "name": "Acme Design Ltd",
            "country": "GB",
            "address": {"line1": "10 Downing Street", "city": "London", "postal_code": "SW1A 2AA"},
            "pays_by_invoice": True,
            "tax_id": "GB123456789",
            "contacts": [_contact("jo@acme.example", "admin")],
        },
        {
            "csn": "5200000003",
            "name": "Construtora Rio",
            "country": "BR",
            "address": {"line1": "Av. Atlântica 1", "city": "Rio", "postal_code": "22010-000"},
            "pays_by_invoice": False,
            "contacts": [_contact("ana@rio.example")],
        },
        {
            "csn": "5200000004",
            "name": "Tokyo Kenchiku",
            "country": "JP",
            "address": {"line1": "1-1 Marunouchi", "city": "Tokyo", "postal_code": "100-0005"},
            "pays_by_invoice": False,
            "contacts": [_contact("ken@tokyo.example")],
        },
    ],
    "offerings": [
        {"code": "ACDLT", "name": "AutoCAD LT", "kind": "standard"},
        {"code": "RVT", "name": "Revit", "kind": "standard"},
        {"code": "FLEX", "name": "Flex tokens", "kind": "flex"},
        {"code": "SUCC", "name": "Success plan", "kind": "success_plan"},
    ],
    "prices": [
        {
            "offering": "ACDLT",
            "term": "annual",
            "currency": "EUR",
            "new": "495.00",
            "renewal": "460.00",
        },
        {
            "offering": "ACDLT",
            "term": "monthly",
            "currency": "EUR",
            "new": "60.00",
            "renewal": "60.00",
        },
        {
            "offering": "ACDLT",
            "term": "3-year",
            "currency": "EUR",
            "new": "1400.00",
            "renewal": "1300.00",
        },
        {
            "offering": "ACDLT",
            "term": "annual",
            "currency": "USD",
            "new": "540.00",
            "renewal": "500.00",
        },
        {
            "offering": "ACDLT",
            "term": "annual",
            "currency": "JPY",
            "new": "70000",
            "renewal": "64000",
        },
        {
            "offering": "RVT",
            "term": "annual",
            "currency": "EUR",
            "new": "2900.00",
            "renewal": "2700.00",
        },
        {
            "offering": "FLEX",
            "term": "annual",
            "currency": "EUR",
            "new": "100.00",
            "renewal": "100.00",
        },
        {
            "offering": "SUCC",
            "term": "annual",
            "currency": "EUR",
            "new": "900.00",
            "renewal": "850.00",
        },
    ],
    "promotions": [
        {
            "code": "RENEW3Y10",
            "name": "10 % on 3-year renewals",
            "percent_off": "10",
            "terms": ["3-year"],
            "currencies": ["EUR"],
            "quote_types": ["renewal"],
            "starts": "2026-11-01",
            "ends": "2026-12-31",
        }
    ],
    "subscriptions": [
        _sub("SUB-0001"),
        _sub(
            "SUB-0002", offering="RVT", quantity=2, end_date="2027-01-20", start_date="2026-01-21"
        ),
        _sub("SUB-0003", currency="USD", end_date="2026-12-31", start_date="2026-01-01"),
        _sub(
            "SUB-0004",
            purchase_method="partner",
            partner="5100000001",
            end_date="2026-12-20",
            start_date="2025-12-21",
        ),
        _sub("SUB-0005", offering="FLEX", end_date="2026-12-20", start_date="2025-12-21"),
        _sub("SUB-0006", end_date="2027-08-01", start_date="2026-08-02"),
        _sub("SUB-0007", status="cancelled", end_date="2026-12-10", start_date="2025-12-11"),
        _sub(
            "SUB-0008", offering="RVT", quantity=60, end_date="2026-12-30", start_date="2025-12-31"
        ),
        _sub("SUB-0009", term="monthly", end_date="2026-12-05", start_date="2026-11-06"),
        _sub("SUB-0010", status="expired", end_date="2026-11-01", start_date="2025-11-02"),
        _sub("SUB-0011", status="expired", end_date="2026-09-01", start_date="2025-09-02"),
        _sub("SUB-0201", customer="5200000002", end_date="2026-12-18", start_date="2025-12-19"),
        _sub(
            "SUB-0301",
            customer="5200000003",
            purchase_method="partner",
            partner="5100000001",
            end_date="2026-12-22",
            start_date="2025-12-23",
        ),
        _sub(
            "SUB-0401",
            customer="5200000004",
            currency="JPY",
            quantity=3,
            end_date="2026-12-24",
            start_date="2025-12-25",
        ),
    ],
}


def row_counts(db: Database) -> dict[str, int]:
    """Count the rows of every table (to show that a refusal wrote nothing)."""
    with db.read() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables
        }


def migrated_counts() -> dict[str, int]:
    """The rows of a database just migrated: none but the promotions' version (0012)."""
    return {t.name: int(t.name == "data_versions") for t in Base.metadata.sorted_tables}
