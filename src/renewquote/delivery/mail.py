"""The mails renewquote sends, in the quote's language: a quote to one recipient (subject,
text and HTML parts, the recipient's own link, the PDF attached), and an order's
confirmation.

Mails are built with the standard library's `email.mime` classes (policy compat32), whose
headers are kept as written, rather than `EmailMessage`, whose policy parses every header as it
is set and folds it again as it is written: 2.7 ms of a worker's CPU a mail against 0.8 ms
(bench/delivery.py, where one worker mails a quote to four people at a time).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.charset import QP, Charset
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from functools import lru_cache
from typing import Any

from renewquote.delivery.formatting import day_text, money_text
from renewquote.delivery.templates import render
from renewquote.delivery.wire import SharedPart
from renewquote.delivery.words import words_for
from renewquote.domain.quotes import Order
from renewquote.services.documents import PrintableQuote


@dataclass(frozen=True, slots=True)
class QuoteMail:
    """Everything one recipient's mail says, and where it goes."""

    printable: PrintableQuote
    kind: str  # quote, reminder or new_link (services.mailing.MailKind)
    to_email: str
    to_name: str | None
    link: str
    link_expires_on: date
    message_id: str
    sender: str  # the From address; the seller's name is shown with it
    at: datetime  # when the mail is handed over (UTC, naive)


@dataclass(frozen=True, slots=True)
class OrderMail:
    """An order's confirmation to whoever placed it."""

    printable: PrintableQuote
    order: Order
    to_email: str
    message_id: str
    sender: str
    at: datetime


# Text parts in UTF-8, quoted-printable: readable as they travel, whatever the language.
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP


def pdf_attachment(printable: PrintableQuote, pdf: bytes) -> SharedPart:
    """Return a quote's PDF as a mail part: encoded once, attached to every recipient's mail."""
    return SharedPart(pdf, f"{printable.quote.number}.pdf")


def compose(mail: QuoteMail, attachment: SharedPart) -> Message:
    """Build a quote's mail: text first, HTML as its alternative, the PDF attached
    (`pdf_attachment`, the same part for every recipient: mails are written, never changed)."""
    printable = mail.printable
    quote = printable.quote
    shared = _shared(printable)
    words = shared.words
    values = {
        **shared.values,
        "greeting": _greeting(words, mail.to_name),
        "intro": words[f"mail.intro.{mail.kind}"].format(
            seller=shared.seller,
            number=quote.number,
            customer=printable.customer.name,
            date=shared.expires,
        ),
        "total": words["mail.total"].format(total=shared.total, date=shared.expires),
        "personal": words["mail.personal"].format(
            date=day_text(mail.link_expires_on, quote.language)
        ),
        "link": mail.link,
    }
    subject = words[f"mail.subject.{mail.kind}"].format(
        number=quote.number, seller=shared.seller, total=shared.total, date=shared.expires
    )
    message = MIMEMultipart("mixed", boundary=_boundary())
    _address(message, subject, shared.seller, mail.to_email, mail.to_name, mail)
    message["Content-Language"] = quote.language
    message.attach(
        _alternatives(render("mail/quote.txt", values), render("mail/quote.html", values))
    )
    message.attach(attachment)
    return message


def compose_order(mail: OrderMail) -> Message:
    """Build an order's confirmation: what was ordered, for how much, paid how."""
    printable = mail.printable
    quote = printable.quote
    shared = _shared(printable)
    words = shared.words
    total = money_text(mail.order.total, mail.order.currency, quote.language)
    values = {
        **shared.values,
        "greeting": _greeting(words, None),
        "intro": words["mail.order.intro"].format(
            order=mail.order.id, number=quote.number, customer=printable.customer.name
        ),
        "total": words["mail.order.total"].format(
            total=total, method=words[f"pay.{mail.order.payment_method.value}"]
        ),
    }
    subject = words["mail.order.subject"].format(order=mail.order.id, number=quote.number)
    message = _alternatives(render("mail/order.txt", values), render("mail/order.html", values))
    _address(message, subject, shared.seller, mail.to_email, None, mail)
    message["Content-Language"] = quote.language
    return message


def seller_name(printable: PrintableQuote) -> str:
    """Name who the quote comes from: the partner that made it, else the vendor."""
    if printable.partner_name:
        return printable.partner_name
    return printable.vendor.name if printable.vendor else "renewquote"


@dataclass(frozen=True, slots=True)
class _Shared:
    """What every mail about one quote says alike, worded and formatted once."""

    words: Mapping[str, str]
    seller: str
    total: str
    expires: str
    values: Mapping[str, Any]  # the templates' values that do not depend on the recipient


@lru_cache(maxsize=256)
def _shared(printable: PrintableQuote) -> _Shared:
    # A worker mails each quote to up to nine people in a row: Babel's formatting of its lines
    # and totals is done for the first of them. PrintableQuote is frozen: equal is the same.
    quote = printable.quote
    language = quote.language
    words = words_for(language)
    values = {
        "words": words,
        "language": language,
        "lines": tuple(
            {
                "name": line.offering_name,
                "seats": line.quantity,
                "term": words[f"term.{line.term.value}"],
                "period": f"{day_text(line.start_date, language)} – "
                f"{day_text(line.end_date, language)}",
                "amount": money_text(line.amount, quote.currency, language),
                "promotion": line.promotion_name,
            }
            for line in quote.lines
        ),
    }
    return _Shared(
        words=words,
        seller=seller_name(printable),
        total=money_text(quote.total, quote.currency, language),
        expires=day_text(quote.expires_at, language),
        values=values,
    )


def _greeting(words: Mapping[str, str], to_name: str | None) -> str:
    if to_name:
        return words["mail.greeting"].format(name=to_name)
    return words["mail.greeting_anonymous"]


def _address(
    message: Message,
    subject: str,
    seller: str,
    to_email: str,
    to_name: str | None,
    mail: QuoteMail | OrderMail,
) -> None:
    headers = {
        "Subject": subject,
        "From": formataddr((seller, mail.sender), "utf-8"),
        "To": formataddr((to_name or "", to_email), "utf-8"),
        "Message-ID": mail.message_id,
        "Date": format_datetime(mail.at.replace(tzinfo=UTC), usegmt=True),
    }
    for name, value in headers.items():
        # A line break would end the header and let the rest of the value add others.
        if "\r" in value or "\n" in value:
            raise ValueError(f"the {name} header cannot hold a line break")
        # Not ASCII: written as encoded words (RFC 2047) in UTF-8.
        message[name] = value


def _alternatives(text: str, html: str) -> MIMEMultipart:
    """Return the text and its HTML version as one multipart/alternative part."""
    alternatives = MIMEMultipart("alternative", boundary=_boundary())
    for body, subtype in ((text, "plain"), (html, "html")):
        part = MIMEText(body, subtype, _UTF8)  # type: ignore[arg-type]  # a Charset is taken
        del part["MIME-Version"]  # said once, by the message
        alternatives.attach(part)
    return alternatives


def _boundary() -> str:
    # "=_" never occurs in quoted-printable or base64 text, the encodings of every part: the
    # boundary is known not to clash without searching the parts for it (the generator's
    # search, a regular expression compiled for each boundary, cost a tenth of a mail).
    return f"=_{secrets.token_hex(16)}"
