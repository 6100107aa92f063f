"""The words of what renewquote prints and mails (the PDF, the mail, the link's page): English
here, French in the gettext catalog (context `document`; `domain/translations.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from renewquote.domain.translations import LANGUAGES, NC_, translations

__all__ = ["LANGUAGES", "words_for"]


@cache
def words_for(language: str) -> Mapping[str, str]:
    """Return the words of a language, English for one renewquote does not speak."""
    catalog = translations(language if language in LANGUAGES else "en")
    return MappingProxyType({key: catalog.pgettext("document", e) for key, e in _ENGLISH.items()})


_ENGLISH: Mapping[str, str] = {
    "title": NC_("document", "Quote"),
    "number": NC_("document", "No. {number}"),
    "type.renewal": NC_("document", "Renewal quote"),
    "type.new": NC_("document", "New subscription quote"),
    "type.co-term": NC_("document", "Co-term quote"),
    "status.draft": NC_("document", "Draft"),
    "status.sent": NC_("document", "Sent"),
    "status.ordered": NC_("document", "Ordered"),
    "status.expired": NC_("document", "Expired"),
    "status.cancelled": NC_("document", "Cancelled"),
    "status.superseded": NC_("document", "Superseded"),
    "customer": NC_("document", "Customer"),
    "csn": NC_("document", "CSN {csn}"),
    "tax_id": NC_("document", "VAT no. {tax_id}"),
    "buyer": NC_("document", "Buyer: {name}"),
    "support": NC_("document", "Questions: {email}"),
    "partner": NC_("document", "Reseller of record"),
    "partner_csn": NC_("document", "Partner CSN {csn}"),
    "direct": NC_("document", "Purchase method"),
    "direct_from": NC_("document", "Direct from {vendor}"),
    "direct_note": NC_("document", "No reseller of record"),
    "created": NC_("document", "Created on"),
    "sent": NC_("document", "Sent on"),
    "valid_until": NC_("document", "Valid until"),
    "currency": NC_("document", "Currency"),
    "replaces": NC_("document", "Replaces"),
    "recipients": NC_("document", "Quote recipients"),
    "col.offering": NC_("document", "Offering"),
    "col.subscription": NC_("document", "Subscription"),
    "col.seats": NC_("document", "Seats"),
    "col.term": NC_("document", "Term"),
    "col.period": NC_("document", "Period"),
    "col.unit_price": NC_("document", "Unit price"),
    "col.discount": NC_("document", "Discount"),
    "col.amount": NC_("document", "Amount"),
    "kind.new": NC_("document", "New subscription"),
    "kind.co-term": NC_("document", "Co-term"),
    "aligned_to": NC_("document", "with {subscription}"),
    "term.monthly": NC_("document", "Monthly"),
    "term.annual": NC_("document", "Annual"),
    "term.3-year": NC_("document", "3-year"),
    "promotion": NC_("document", "Promotion: {name}"),
    "subtotal": NC_("document", "Subtotal"),
    "discounts": NC_("document", "Discounts"),
    "tax": NC_("document", "Estimated tax ({rate})"),
    "total": NC_("document", "Total"),
    "amounts_note": NC_(
        "document",
        "Amounts in {currency}. Line amounts exclude tax; tax is estimated from the customer's "
        "country.",
    ),
    "footer": NC_(
        "document",
        "Prices on this quote are locked until {date}. To order, open this quote in your "
        "account (Billing and orders > Quotes) and check out.",
    ),
    "page": NC_("document", "Page {page} of {pages}"),
    "mail.subject.quote": NC_("document", "Quote {number} from {seller}: {total}"),
    "mail.subject.reminder": NC_(
        "document", "Reminder: quote {number} from {seller} expires on {date}"
    ),
    "mail.subject.new_link": NC_("document", "Your new link to quote {number} from {seller}"),
    "mail.greeting": NC_("document", "Hello {name},"),
    "mail.greeting_anonymous": NC_("document", "Hello,"),
    "mail.intro.quote": NC_("document", "{seller} has sent you quote {number} for {customer}."),
    "mail.intro.reminder": NC_(
        "document", "Quote {number} that {seller} sent you for {customer} expires on {date}."
    ),
    "mail.intro.new_link": NC_(
        "document", "Here is a new link to quote {number} for {customer}, as asked."
    ),
    "mail.order.subject": NC_("document", "Order {order} confirmed (quote {number})"),
    "mail.order.intro": NC_(
        "document",
        "Thank you: order {order} of quote {number} for {customer} is placed, and these "
        "subscriptions are renewed.",
    ),
    "mail.order.total": NC_("document", "Total: {total}, paid by {method}."),
    "mail.total": NC_("document", "Total: {total} including estimated tax, valid until {date}."),
    "mail.link": NC_("document", "See the quote and buy it online:"),
    "mail.button": NC_("document", "See and buy the quote"),
    "mail.personal": NC_(
        "document",
        "This link is yours alone and needs no account; it works until {date} while the quote "
        "is open.",
    ),
    "mail.pdf": NC_("document", "The quote is attached as a PDF."),
    "link.title": NC_("document", "Quote {number}"),
    "link.for": NC_("document", "For {customer}, from {seller}"),
    "link.pdf": NC_("document", "Download the PDF"),
    "link.buy": NC_("document", "How to buy"),
    "link.buy_text": NC_(
        "document",
        "You can also order from your account (Billing and orders > Quotes), or forward the "
        "mail to whoever pays.",
    ),
    "link.gone_title": NC_("document", "This link does not open a quote"),
    "link.gone_text": NC_(
        "document",
        "It may be mistyped or incomplete, or the quote it opened has been replaced, "
        "cancelled, ordered or has expired. Ask whoever sent it to you for a new quote.",
    ),
    "link.language": NC_("document", "Language"),
    "link.payment": NC_("document", "Payment"),
    "link.card_number": NC_("document", "Card number"),
    "link.buy_button": NC_("document", "Buy now: {total}"),
    "link.problems": NC_("document", "The order was not placed:"),
    "link.ordered_title": NC_("document", "Quote {number} is ordered"),
    "link.ordered_text": NC_(
        "document",
        "Thank you. Order {order} for {total} is placed and the subscriptions are renewed; a "
        "confirmation follows by mail.",
    ),
    "link.form_expired_title": NC_("document", "This form has expired"),
    "link.form_expired_text": NC_(
        "document",
        "Nothing was ordered. Open the link from your mail again and buy from that page.",
    ),
    "link.expired_title": NC_("document", "This link has expired"),
    "link.expired_text": NC_(
        "document",
        "The quote is still open: ask for a new link and it will be mailed to the address this "
        "one was sent to.",
    ),
    "link.new_link_button": NC_("document", "Send me a new link"),
    "link.new_link_title": NC_("document", "A new link is on its way"),
    "link.new_link_text": NC_("document", "It was mailed to {email}."),
    "pay.card": NC_("document", "Card"),
    "pay.paypal": NC_("document", "PayPal"),
    "pay.invoice": NC_("document", "Invoice"),
}
