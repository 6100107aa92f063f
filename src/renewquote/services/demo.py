"""The demo book of business: every case of RULES.md, dated relative to the day it is built.

A vendor opens the portal with one of `DEMO_LOGINS` and finds subscriptions before, inside and
after their renewal window, cancelled ones, success and flex plans, monthly terms, two currencies
and two purchase methods for one customer, a region without self-service, promotions, and a
renewal too big to pay by card.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

from renewquote.domain.model import Term
from renewquote.domain.money import round_money

PARTNER = "5100000001"
DUPONT = "5200000001"  # France, card only; EUR and USD; direct and through the partner
MARTIN = "5200000002"  # France, pays by invoice; a renewal above the EUR card limit
HARTLEY = "5200000003"  # United Kingdom, GBP
PRAIRIE = "5200000004"  # United States, USD, pays by invoice
HORIZONTE = "5200000005"  # Brazil: no self-service, the partner resells
KOBAYASHI = "5200000006"  # Japan: yen, no minor unit

DEMO_CUSTOMERS = (DUPONT, MARTIN, HARTLEY, PRAIRIE, HORIZONTE, KOBAYASHI)

# (who, e-mail, password): printed by `renewquote demo`, so they are demo-only secrets.
DEMO_LOGINS = (
    ("Vendor staff: sees everything", "ops@vendor.example", "demo-ops"),
    ("Partner CAD Partenaire SARL: reseller of record", "anne@partenaire.example", "demo-anne"),
    ("Buyer at Atelier Dupont (France, card only)", "marie@dupont.example", "demo-marie"),
    ("Read-only user at Atelier Dupont: cannot quote", "paul@dupont.example", "demo-paul"),
    ("Buyer at Bureau d'études Martin (France, invoice)", "claire@martin.example", "demo-claire"),
    ("Buyer at Hartley & Sons (United Kingdom)", "james@hartley.example", "demo-james"),
    ("Buyer at Prairie Engineering (United States)", "dana@prairie.example", "demo-dana"),
    (
        "Buyer at Construtora Horizonte (Brazil, no self-service)",
        "joao@horizonte.example",
        "demo-joao",
    ),
    ("Buyer at Kobayashi Sekkei (Japan, yen)", "yuki@kobayashi.example", "demo-yuki"),
)
_PASSWORDS = {email: password for _, email, password in DEMO_LOGINS}

# Annual list prices per currency as (new, renewal); the other terms are derived below.
_ANNUAL_PRICES = {
    "ACDLT": {
        "EUR": ("495.00", "460.00"),
        "GBP": ("420.00", "390.00"),
        "USD": ("545.00", "510.00"),
        "JPY": ("82500", "76500"),
    },
    "ACD": {
        "EUR": ("2245.00", "2090.00"),
        "GBP": ("1900.00", "1770.00"),
        "USD": ("2460.00", "2290.00"),
        "JPY": ("370000", "345000"),
    },
    "AECCOL": {
        "EUR": ("2150.00", "2000.00"),
        "GBP": ("1830.00", "1700.00"),
        "USD": ("2370.00", "2200.00"),
        "JPY": ("355000", "330000"),
    },
    "SUCCESS": {
        "EUR": ("1200.00", "1150.00"),
        "GBP": ("1030.00", "990.00"),
        "USD": ("1320.00", "1260.00"),
        "JPY": ("198000", "192000"),
    },
    "FLEX": {
        "EUR": ("1500.00", "1450.00"),
        "GBP": ("1280.00", "1240.00"),
        "USD": ("1650.00", "1600.00"),
        "JPY": ("247000", "239000"),
    },
}
# A month costs an eighth of a year's new price, with no renewal discount (RULES.md); three
# years cost three new years, or 2.85 renewal years on renewal.
_MONTHLY_SHARE = Decimal("0.125")
_THREE_YEAR_NEW = Decimal(3)
_THREE_YEAR_RENEWAL = Decimal("2.85")


def demo_book(today: date) -> dict[str, Any]:
    """Build the demo book of business (API.md format) with dates relative to `today`."""

    def subscription(
        sub_id: str,
        customer: str,
        offering: str,
        term: Term,
        currency: str,
        *,
        seats: int,
        ends_in: int,
        partner: str | None = None,
        cancelled: bool = False,
        payment: str = "card",
    ) -> dict[str, Any]:
        end = today + timedelta(days=ends_in)
        status = "cancelled" if cancelled else "active" if end >= today else "expired"
        return {
            "id": sub_id,
            "customer": customer,
            "offering": offering,
            "quantity": seats,
            "term": term.value,
            "currency": currency,
            "purchase_method": "partner" if partner else "direct",
            "partner": partner,
            "start_date": (end + timedelta(days=1) - relativedelta(months=term.months)).isoformat(),
            "end_date": end.isoformat(),
            "status": status,
            "payment_method": payment,
            "auto_renew": not cancelled,
        }

    annual, monthly, three_years = Term.ANNUAL, Term.MONTHLY, Term.THREE_YEAR
    return {
        "vendor": {
            "name": "Cadlogic France SAS",
            "address": {
                "line1": "92 avenue de France",
                "line2": "Bâtiment C",
                "city": "Paris",
                "postal_code": "75013",
                "country": "FR",
            },
            "tax_id": "FR81841234560",
            "support_email": "support@vendor.example",
        },
        "currencies": [
            {"code": "EUR", "card_limit": "23000.00"},
            {"code": "GBP", "card_limit": "20000.00"},
            {"code": "JPY", "card_limit": "3750000"},
            # USD is left out on purpose: its limit is the default, 25,000.00.
        ],
        "countries": [
            {"code": "FR", "self_service_quotes": True, "tax_rate": "0.20", "language": "fr"},
            {"code": "GB", "self_service_quotes": True, "tax_rate": "0.20", "language": "en"},
            {"code": "US", "self_service_quotes": True, "tax_rate": "0.00", "language": "en"},
            {"code": "JP", "self_service_quotes": True, "tax_rate": "0.10", "language": "ja"},
            {"code": "BR", "self_service_quotes": False, "tax_rate": "0.00", "language": "pt"},
        ],
        "staff": [_login("ops@vendor.example", "Olivia Vendor (operations)")],
        "partners": [
            {
                "csn": PARTNER,
                "name": "CAD Partenaire SARL",
                "country": "FR",
                "users": [_login("anne@partenaire.example", "Anne Partenaire")],
            }
        ],
        "customers": [
            _customer(
                DUPONT,
                "Atelier Dupont",
                "FR",
                {"line1": "1 rue de la Paix", "city": "Paris", "postal_code": "75002"},
                pays_by_invoice=False,
                contacts=[
                    _contact("marie@dupont.example", "Marie Dupont", "purchaser"),
                    _contact("paul@dupont.example", "Paul Lefèvre", "user"),
                    # No password: receives quotes, cannot sign in.
                    _contact("luc@dupont.example", "Luc Moreau", "admin"),
                ],
            ),
            _customer(
                MARTIN,
                "Bureau d'études Martin",
                "FR",
                {
                    "line1": "12 quai de la Fosse",
                    "line2": "Bâtiment B",
                    "city": "Nantes",
                    "postal_code": "44000",
                },
                pays_by_invoice=True,
                contacts=[_contact("claire@martin.example", "Claire Martin", "purchaser")],
                tax_id="FR31523456788",
            ),
            _customer(
                HARTLEY,
                "Hartley & Sons Architects Ltd",
                "GB",
                {"line1": "14 Gower Street", "city": "London", "postal_code": "WC1E 6DP"},
                pays_by_invoice=False,
                contacts=[
                    _contact("james@hartley.example", "James Hartley", "purchaser"),
                    _contact("emma@hartley.example", "Emma Shaw", "admin"),
                ],
                tax_id="GB123456789",
            ),
            _customer(
                PRAIRIE,
                "Prairie Engineering Inc.",
                "US",
                {
                    "line1": "500 East Douglas Avenue",
                    "line2": "Suite 210",
                    "city": "Wichita",
                    "postal_code": "67202",
                },
                pays_by_invoice=True,
                contacts=[_contact("dana@prairie.example", "Dana Whitfield", "purchaser")],
            ),
            _customer(
                HORIZONTE,
                "Construtora Horizonte Ltda",
                "BR",
                {"line1": "Avenida Paulista 1000", "city": "São Paulo", "postal_code": "01310-100"},
                pays_by_invoice=False,
                contacts=[_contact("joao@horizonte.example", "João Almeida", "purchaser")],
            ),
            _customer(
                KOBAYASHI,
                "Kobayashi Sekkei K.K.",
                "JP",
                {"line1": "1-2-3 Marunouchi", "city": "Tokyo", "postal_code": "100-0005"},
                pays_by_invoice=False,
                contacts=[_contact("yuki@kobayashi.example", "Yuki Kobayashi", "purchaser")],
            ),
        ],
        "offerings": [
            {"code": "ACDLT", "name": "AutoCAD LT", "kind": "standard"},
            {"code": "ACD", "name": "AutoCAD", "kind": "standard"},
            {"code": "AECCOL", "name": "AEC Collection", "kind": "standard"},
            {"code": "SUCCESS", "name": "Premium Success Plan", "kind": "success_plan"},
            {"code": "FLEX", "name": "Flex tokens (500)", "kind": "flex"},
        ],
        "prices": _prices(),
        "promotions": [
            {
                "code": "RENEW3Y10",
                "name": "10 % off 3-year renewals",
                "percent_off": "10",
                "terms": ["3-year"],
                "quote_types": ["renewal"],
                "starts": (today - timedelta(days=30)).isoformat(),
                "ends": (today + timedelta(days=90)).isoformat(),
            },
            {
                "code": "LT40EUR",
                "name": "40 € off each AutoCAD LT seat renewed in France",
                "amount_off": "40.00",
                "offerings": ["ACDLT"],
                "currencies": ["EUR"],
                "countries": ["FR"],
                "quote_types": ["renewal"],
                "starts": (today - timedelta(days=10)).isoformat(),
                "ends": (today + timedelta(days=60)).isoformat(),
            },
            {
                # Over: shown nowhere, which is the point.
                "code": "WELCOME5",
                "name": "5 % off new subscriptions (ended)",
                "percent_off": "5",
                "quote_types": ["new"],
                "starts": (today - timedelta(days=120)).isoformat(),
                "ends": (today - timedelta(days=30)).isoformat(),
            },
        ],
        "subscriptions": [
            # Atelier Dupont: one group per currency and purchase method, and every
            # reason a subscription cannot be renewed today.
            subscription("SUB-1001", DUPONT, "ACDLT", annual, "EUR", seats=5, ends_in=30),
            subscription("SUB-1002", DUPONT, "ACD", three_years, "EUR", seats=3, ends_in=45),
            # Expired ten days ago: still renewable during the 45 days of grace.
            subscription("SUB-1003", DUPONT, "ACDLT", annual, "EUR", seats=2, ends_in=-10),
            # The window opens 90 days before the end: not yet.
            subscription("SUB-1004", DUPONT, "ACD", annual, "EUR", seats=4, ends_in=200),
            # Ended 60 days ago: the window closed 15 days ago.
            subscription("SUB-1005", DUPONT, "ACDLT", annual, "EUR", seats=1, ends_in=-60),
            subscription(
                "SUB-1006", DUPONT, "ACD", annual, "EUR", seats=2, ends_in=20, cancelled=True
            ),
            subscription("SUB-1007", DUPONT, "FLEX", annual, "EUR", seats=1, ends_in=25),
            subscription("SUB-1008", DUPONT, "SUCCESS", annual, "EUR", seats=1, ends_in=25),
            subscription("SUB-1009", DUPONT, "ACDLT", monthly, "EUR", seats=3, ends_in=10),
            # Monthly terms have 30 days of grace, not 45: closed, where an annual one is open.
            subscription("SUB-1010", DUPONT, "ACDLT", monthly, "EUR", seats=1, ends_in=-35),
            subscription("SUB-1011", DUPONT, "ACD", annual, "USD", seats=2, ends_in=40),
            subscription(
                "SUB-1012", DUPONT, "ACDLT", annual, "EUR", seats=3, ends_in=35, partner=PARTNER
            ),
            # Bureau d'études Martin: 60 seats at 2,000.00 EUR, far above the card limit.
            subscription(
                "SUB-2001", MARTIN, "AECCOL", annual, "EUR", seats=60, ends_in=50, payment="invoice"
            ),
            subscription(
                "SUB-2002", MARTIN, "ACDLT", annual, "EUR", seats=10, ends_in=15, payment="invoice"
            ),
            subscription(
                "SUB-3001", HARTLEY, "ACDLT", annual, "GBP", seats=4, ends_in=20, payment="paypal"
            ),
            subscription("SUB-3002", HARTLEY, "ACD", three_years, "GBP", seats=2, ends_in=60),
            subscription("SUB-3003", HARTLEY, "ACD", annual, "GBP", seats=1, ends_in=150),
            subscription(
                "SUB-4001", PRAIRIE, "ACD", annual, "USD", seats=8, ends_in=15, payment="invoice"
            ),
            subscription(
                "SUB-4002",
                PRAIRIE,
                "AECCOL",
                three_years,
                "USD",
                seats=5,
                ends_in=70,
                payment="invoice",
            ),
            # Brazil has no self-service: the buyer sees why, the partner quotes.
            subscription(
                "SUB-5001", HORIZONTE, "ACD", annual, "USD", seats=3, ends_in=30, partner=PARTNER
            ),
            subscription(
                "SUB-5002", HORIZONTE, "ACDLT", annual, "USD", seats=6, ends_in=75, partner=PARTNER
            ),
            subscription("SUB-6001", KOBAYASHI, "ACDLT", annual, "JPY", seats=3, ends_in=25),
            subscription("SUB-6002", KOBAYASHI, "ACD", annual, "JPY", seats=1, ends_in=80),
        ],
    }


def _login(email: str, name: str) -> dict[str, str]:
    return {"email": email, "name": name, "password": _PASSWORDS[email]}


def _contact(email: str, name: str, role: str) -> dict[str, str]:
    contact = {"email": email, "name": name, "role": role}
    if email in _PASSWORDS:
        contact["password"] = _PASSWORDS[email]
    return contact


def _customer(
    csn: str,
    name: str,
    country: str,
    address: dict[str, str],
    *,
    pays_by_invoice: bool,
    contacts: list[dict[str, str]],
    tax_id: str | None = None,
) -> dict[str, Any]:
    customer = {
        "csn": csn,
        "name": name,
        "country": country,
        "address": address,
        "pays_by_invoice": pays_by_invoice,
        "contacts": contacts,
    }
    if tax_id is not None:
        customer["tax_id"] = tax_id
    return customer


def _prices() -> list[dict[str, str]]:
    prices = []
    for offering, by_currency in _ANNUAL_PRICES.items():
        for currency, (new_text, renewal_text) in by_currency.items():
            new, renewal = Decimal(new_text), Decimal(renewal_text)
            month = round_money(new * _MONTHLY_SHARE, currency)
            terms = {
                Term.MONTHLY: (month, month),
                Term.ANNUAL: (new, renewal),
                Term.THREE_YEAR: (
                    round_money(new * _THREE_YEAR_NEW, currency),
                    round_money(renewal * _THREE_YEAR_RENEWAL, currency),
                ),
            }
            prices += [
                {
                    "offering": offering,
                    "term": term.value,
                    "currency": currency,
                    "new": str(term_new),
                    "renewal": str(term_renewal),
                }
                for term, (term_new, term_renewal) in terms.items()
            ]
    return prices
