"""What a printed quote shows: the quote as stored and the parties named on it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from renewquote.domain.model import Customer, Vendor
from renewquote.domain.quotes import Quote, RecipientRole
from renewquote.services.access import Caller
from renewquote.storage import quotes, repository
from renewquote.storage.database import Database
from renewquote.storage.vendor import load_vendor


@dataclass(frozen=True, slots=True)
class PrintableQuote:
    """A quote and the parties it is printed with: seller, customer, partner and buyer."""

    quote: Quote
    customer: Customer
    vendor: Vendor | None = None
    partner_name: str | None = None
    # The person the quote is made out to: the buyer who made it, or the contact named for it.
    buyer_name: str | None = None
    buyer_email: str | None = None


def printable_quote(db: Database, caller: Caller, number: str) -> PrintableQuote:
    """Return a quote the caller may see, with the parties it is printed with."""
    with db.read() as conn:
        quote = quotes.load_quote(conn, number, visible=caller.quotes_visible())
        return printable_of(conn, quote)


def printable_of(conn: Connection, quote: Quote) -> PrintableQuote:
    """Return a quote already read, with the parties it is printed with."""
    customer, _ = repository.customer(conn, quote.customer_csn)
    partner = repository.partner_name(conn, quote.partner_csn) if quote.partner_csn else None
    buyer = next(
        (r for r in quote.recipients if r.role in (RecipientRole.BUYER, RecipientRole.CONTACT)),
        None,
    )
    names = repository.names_of(conn, [buyer.email]) if buyer else {}
    vendor = load_vendor(conn)
    return PrintableQuote(
        quote=quote,
        customer=customer,
        vendor=vendor,
        partner_name=partner,
        buyer_name=(buyer.name or names.get(buyer.email.lower())) if buyer else None,
        buyer_email=buyer.email if buyer else None,
    )
