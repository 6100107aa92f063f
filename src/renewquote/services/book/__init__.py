"""Loading a book of business (API.md): checked whole first, then upserted in one transaction.

A bad file is refused with every problem and its place in the file, and nothing is written.
Rows are matched on their natural keys, so loading the same file again changes nothing.

`schema` says what a file may say, `checks` finds every problem in it, `writer` stores it;
docs/book.md describes the format.
"""

from renewquote.services.book.checks import BookError, BookProblem, StoredKeys, parse_book
from renewquote.services.book.schema import (
    Book,
    BookAddress,
    BookContact,
    BookCountry,
    BookCurrency,
    BookCustomer,
    BookOffering,
    BookPartner,
    BookPrice,
    BookPromotion,
    BookSubscription,
    BookUser,
    BookVendor,
    BookVendorAddress,
)
from renewquote.services.book.writer import (
    DEFAULT_CARD_LIMITS,
    PASSWORDS,
    LoadReport,
    RowCounts,
    load_book,
)

__all__ = [
    "DEFAULT_CARD_LIMITS",
    "PASSWORDS",
    "Book",
    "BookAddress",
    "BookContact",
    "BookCountry",
    "BookCurrency",
    "BookCustomer",
    "BookError",
    "BookOffering",
    "BookPartner",
    "BookPrice",
    "BookProblem",
    "BookPromotion",
    "BookSubscription",
    "BookUser",
    "BookVendor",
    "BookVendorAddress",
    "LoadReport",
    "RowCounts",
    "StoredKeys",
    "load_book",
    "parse_book",
]
