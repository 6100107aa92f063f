"""What a printed quote shows: the quote as stored and the parties named on it."""

from __future__ import annotations

from dataclasses import dataclass

from renewquote.domain.quotes import Quote
from renewquote.services.access import Caller
from renewquote.storage import quotes, repository
from renewquote.storage.database import Database


@dataclass(frozen=True, slots=True)
class PrintableQuote:
    """A quote and the names it is printed with."""

    quote: Quote
    customer_name: str
    partner_name: str | None


def printable_quote(db: Database, caller: Caller, number: str) -> PrintableQuote:
    """Return a quote the caller may see, with its customer's and partner's names."""
    with db.read() as conn:
        quote = quotes.load_quote(conn, number, visible=caller.quotes_visible())
        customer, _ = repository.customer(conn, quote.customer_csn)
        partner = repository.partner_name(conn, quote.partner_csn) if quote.partner_csn else None
    return PrintableQuote(quote, customer.name, partner)
