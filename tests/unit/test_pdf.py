"""The quote PDF: a real A4 file, in the quote's language, with the stored amounts as Babel writes
them, and long quotes paginated with the column headings on every page."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from renewquote.delivery.pdf import render_quote_pdf
from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.model import (
    Channel,
    Customer,
    LineKind,
    PurchaseMethod,
    QuoteType,
    Term,
    Vendor,
)
from renewquote.domain.quotes import Address, Quote, QuoteLine, Recipient, RecipientRole
from renewquote.services.documents import PrintableQuote

VENDOR = Vendor(
    name="Éditeur Logiciel SAS",
    address_line1="8 rue de Londres",
    address_line2=None,
    city="Paris",
    postal_code="75009",
    country="FR",
    tax_id="FR81841234560",
    support_email="support@vendor.example",
)


def printed(
    quote: Quote,
    *,
    customer_name: str,
    partner_name: str | None = None,
    tax_id: str | None = None,
    buyer_name: str | None = None,
    vendor: Vendor | None = None,
) -> bytes:
    """The PDF of `quote` for a customer of that name (French, tax 20 %)."""
    customer = Customer(
        csn=quote.customer_csn,
        name=customer_name,
        country=quote.address.country,
        self_service_enabled=True,
        tax_rate=quote.tax_rate,
        pays_by_invoice=False,
        tax_id=tax_id,
    )
    return render_quote_pdf(
        PrintableQuote(
            quote,
            customer,
            vendor=vendor,
            partner_name=partner_name,
            buyer_name=buyer_name,
            buyer_email=buyer_name and "marie@dupont.example",
        )
    )


def line(
    position: int,
    subscription_id: str | None,
    offering_name: str,
    quantity: int,
    unit_price: str,
    *,
    term: str = "annual",
    discount: str = "0.00",
    promotion_name: str | None = None,
    kind: str = "renewal",
    align_to: str | None = None,
) -> QuoteLine:
    """A stored line whose amounts add up, for one year from 2027-01-01."""
    subtotal = Decimal(unit_price) * quantity
    amount = subtotal - Decimal(discount)
    return QuoteLine(
        position=position,
        kind=LineKind(kind),
        subscription_id=subscription_id,
        align_to_subscription_id=align_to,
        offering_code=offering_name.upper()[:6],
        offering_name=offering_name,
        quantity=quantity,
        term=Term(term),
        start_date=date(2027, 1, 1),
        end_date=date(2027, 12, 31),
        unit_price=Decimal(unit_price),
        subtotal=subtotal,
        promotion_code="PROMO" if promotion_name else None,
        promotion_name=promotion_name,
        promotion_why="10 % off on renewal" if promotion_name else None,
        discount=Decimal(discount),
        amount=amount,
        tax=Decimal("0"),
    )


def quote(lines: tuple[QuoteLine, ...], *, tax_rate: str = "0.20", **overrides: Any) -> Quote:
    """A French renewal quote through a partner, totalled from `lines`."""
    subtotal = sum((x.subtotal for x in lines), Decimal("0"))
    discount = sum((x.discount for x in lines), Decimal("0"))
    tax = (subtotal - discount) * Decimal(tax_rate)
    base = Quote(
        id=123,
        number="Q-2026-000123",
        type=QuoteType.RENEWAL,
        status=QuoteStatus.SENT,
        channel=Channel.PARTNER,
        customer_csn="5200000001",
        partner_csn="5100000001",
        currency="EUR",
        purchase_method=PurchaseMethod.PARTNER,
        language="fr",
        contact_email="marie@dupont.example",
        created_by=None,
        address=Address("12 rue des Lilas", None, "Lyon", "69003", "FR"),
        tax_rate=Decimal(tax_rate),
        subtotal=subtotal,
        discount_total=discount,
        tax=tax,
        total=subtotal - discount + tax,
        expires_at=date(2026, 12, 15),
        created_at=datetime(2026, 11, 15, 9, 30, tzinfo=UTC),
        sent_at=datetime(2026, 11, 15, 10, 0, tzinfo=UTC),
        replaces=None,
        lines=lines,
        recipients=(
            Recipient("marie@dupont.example", "Marie Dupont", RecipientRole.CONTACT),
            Recipient("compta@dupont.example"),
        ),
    )
    return replace(base, **overrides)


FRENCH = quote(
    (
        line(
            1,
            "SUB-1001",
            "AutoCAD LT",
            5,
            "1200.00",
            discount="600.00",
            promotion_name="Offre de rentrée 2026",
        ),
        line(2, "SUB-1002", "Revit", 1, "2200.00"),
        line(3, "SUB-1003", "Fusion", 2, "50.00", term="monthly"),
    )
)
YEN = quote(
    (
        line(1, "SUB-2001", "Inventor Professional", 10, "66000"),
        line(2, "SUB-2002", "Vault Basic", 3, "12000", term="3-year"),
    ),
    tax_rate="0.10",
    language="en",
    currency="JPY",
    partner_csn=None,
    purchase_method=PurchaseMethod.DIRECT,
    channel=Channel.SELF_SERVICE,
    address=Address("1-1 Marunouchi", None, "Tokyo", "", "JP"),
)


def pages_text(pdf: bytes) -> list[str]:
    """Return each page's text with every run of spaces (narrow, no-break...) as one space."""
    reader = PdfReader(BytesIO(pdf))
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def text_of(pdf: bytes) -> str:
    return " ".join(pages_text(pdf))


def test_the_output_is_a_pdf_that_pypdf_reads() -> None:
    pdf = printed(FRENCH, customer_name="Atelier Dupont")

    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 1
    # A4, in points.
    assert (round(reader.pages[0].mediabox.width), round(reader.pages[0].mediabox.height)) == (
        595,
        842,
    )


def test_a_french_quote_shows_its_number_customer_lines_promotion_and_total_in_french() -> None:
    text = text_of(printed(FRENCH, customer_name="Atelier Dupont"))

    assert "Devis" in text
    assert "Q-2026-000123" in text
    assert "Atelier Dupont" in text
    for name in ("AutoCAD LT", "Revit", "Fusion"):
        assert name in text
    assert "Offre de rentrée 2026" in text
    # Babel writes 9 240,00 € with a narrow no-break space and a no-break space.
    assert "9 240,00 €" in text
    assert "8 300,00 €" in text  # subtotal
    assert "-600,00 €" in text  # discounts
    assert "1 540,00 €" in text  # tax
    assert "20 %" in text


def test_a_french_quote_words_everything_in_french() -> None:
    text = text_of(printed(FRENCH, customer_name="Atelier Dupont", partner_name="CAO Services"))

    for words in (
        "Valable jusqu'au",
        "15 déc. 2026",
        "NSC 5200000001",
        "AGENT ENREGISTRÉ",
        "NSC du partenaire 5100000001",
        "CAO Services",
        "Postes",
        "Prix unitaire",
        "Annuel",
        "Mensuel",
        "Sous-total",
        "Destinataires du devis".upper(),
        "69003 Lyon",
        "France",
        "garantis jusqu'au 15 déc. 2026",
        "Facturation et commandes > Devis",
    ):
        assert words in text, words
    for english in ("Quote", "Valid until", "Seats", "Annual", "Subtotal"):
        assert english not in text


def test_an_english_yen_quote_has_whole_yen_and_english_words() -> None:
    text = text_of(printed(YEN, customer_name="Tanaka Seisakusho"))

    assert "Quote" in text
    assert "Devis" not in text
    assert "Tanaka Seisakusho" in text
    assert "Inventor Professional" in text
    assert "Vault Basic" in text
    assert "¥765,600" in text
    assert "¥765,600.00" not in text
    assert "¥66,000" in text
    assert "Estimated tax (10%)" in text
    assert "3-year" in text
    assert "Valid until Dec 15, 2026" in text
    assert "Direct from renewquote" in text
    assert "Japan" in text
    assert "locked until Dec 15, 2026" in text


def test_new_and_co_term_lines_say_what_they_are_instead_of_a_subscription() -> None:
    lines = (
        line(1, None, "AutoCAD LT", 2, "500.00", kind="new"),
        line(2, None, "Revit", 1, "300.00", kind="co-term", align_to="SUB-7777"),
    )
    text = text_of(printed(quote(lines, type=QuoteType.NEW), customer_name="Atelier Dupont"))

    assert "Nouvel abonnement" in text
    assert "Regroupement avec SUB-7777" in text


def test_a_draft_is_marked_as_such_and_a_sent_quote_is_not() -> None:
    draft = text_of(
        printed(replace(FRENCH, status=QuoteStatus.DRAFT), customer_name="Atelier Dupont")
    )
    sent = text_of(printed(FRENCH, customer_name="Atelier Dupont"))

    assert "BROUILLON" in draft
    assert "BROUILLON" not in sent
    assert "ENVOYÉ" not in sent


def test_the_same_quote_gives_the_same_file() -> None:
    assert printed(FRENCH, customer_name="Atelier Dupont") == printed(
        FRENCH, customer_name="Atelier Dupont"
    )


@pytest.fixture(scope="module")
def hundred_lines() -> list[str]:
    long_name = "Architecture, Engineering & Construction Collection — édition réseau " * 2
    lines = tuple(
        line(
            i,
            f"SUB-{i:04d}",
            long_name if i % 9 == 0 else "AutoCAD LT",
            1 + i % 5,
            "450.00",
            term=("annual", "monthly", "3-year")[i % 3],
            discount="45.00" if i % 4 == 0 else "0.00",
            promotion_name="Promo fidélité" if i % 4 == 0 else None,
        )
        for i in range(1, 101)
    )
    return pages_text(printed(quote(lines), customer_name="Atelier Dupont"))


def test_a_hundred_lines_take_several_pages_and_show_every_subscription(
    hundred_lines: list[str],
) -> None:
    assert len(hundred_lines) > 1
    text = " ".join(hundred_lines)
    for i in range(1, 101):
        assert f"SUB-{i:04d}" in text


def test_every_page_repeats_the_column_headings_and_numbers_itself(
    hundred_lines: list[str],
) -> None:
    count = len(hundred_lines)
    for number, page in enumerate(hundred_lines, start=1):
        assert "Offre Abonnement Postes Durée Période" in page
        assert f"Page {number} sur {count}" in page
        assert "Q-2026-000123" in page


@pytest.mark.parametrize(
    ("language", "tax_label", "buyer_label", "support_label"),
    [
        ("fr", "N° TVA", "Acheteur : Marie Dupont", "Questions : support@vendor.example"),
        ("en", "VAT no.", "Buyer: Marie Dupont", "Questions: support@vendor.example"),
    ],
)
def test_the_pdf_names_the_seller_the_customer_s_vat_number_and_the_buyer(
    language: str, tax_label: str, buyer_label: str, support_label: str
) -> None:
    text = text_of(
        printed(
            replace(FRENCH, language=language),
            customer_name="Atelier Dupont",
            tax_id="FR40303265045",
            buyer_name="Marie Dupont",
            vendor=VENDOR,
        )
    )
    assert "Éditeur Logiciel SAS" in text
    assert "8 rue de Londres, 75009 Paris" in text
    assert f"{tax_label} FR81841234560" in text  # the seller's
    assert f"{tax_label} FR40303265045" in text  # the customer's
    assert buyer_label in text
    assert support_label in text


def test_amounts_are_rounded_half_up_as_the_engine_rounds_not_half_even() -> None:
    # Babel rounds half to even (0.125 -> 0.12); the engine rounds half up (0.13).
    odd = line(1, "SUB-1", "AutoCAD LT", 1, "0.125")
    text = text_of(printed(quote((odd,), tax_rate="0"), customer_name="Atelier Dupont"))
    assert "0,13" in text
    assert "0,12" not in text


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_page_one_renders_to_a_png_kept_as_an_artifact() -> None:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm is missing: apt-get install poppler-utils (.ci/run does)")
    ARTIFACTS.mkdir(exist_ok=True)
    source = ARTIFACTS / "quote-fr.pdf"
    source.write_bytes(printed(FRENCH, customer_name="Atelier Dupont"))
    subprocess.run(
        [
            pdftoppm,
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(source),
            str(ARTIFACTS / "quote-fr-page-1"),
        ],
        check=True,
        timeout=60,
    )
    png = (ARTIFACTS / "quote-fr-page-1.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000  # a page with something on it


def test_a_word_wider_than_its_column_is_cut_between_letters_not_lost() -> None:
    word = "Supercalifragilisticexpialidocious-Enterprise-Multiuser-Network-Edition"
    pdf = printed(quote((line(1, "SUB-1", word, 1, "10.00"),)), customer_name="Atelier Dupont")
    text = "".join(text_of(pdf).split())
    assert word in text


@pytest.mark.parametrize(
    ("language", "amount"),
    [("fr", "1\u202f234\u202f567,00[ \u00a0]€"), ("en", "€1,234,567\\.00")],
)
def test_an_amount_is_never_broken_across_lines(language: str, amount: str) -> None:
    # A unit price and a line amount of seven figures (the unit price's column is the narrow
    # one); a second line makes the subtotal another number, so only the line's cells match.
    lines = (line(1, "SUB-1", "AutoCAD LT", 1, "1234567.00"), line(2, "SUB-2", "Revit", 1, "1.00"))
    big = quote(lines, language=language)
    raw = PdfReader(BytesIO(printed(big, customer_name="Atelier Dupont"))).pages[0].extract_text()
    assert len(re.findall(amount, raw)) == 2, raw
