"""A quote's mail to one recipient: subject, text and HTML parts in the quote's language, the
recipient's own link, and the PDF attached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from renewquote.delivery.formatting import day_text, money_text
from renewquote.delivery.templates import render
from renewquote.delivery.words import words_for
from renewquote.services.documents import PrintableQuote


@dataclass(frozen=True, slots=True)
class QuoteMail:
    """Everything one recipient's mail says, and where it goes."""

    printable: PrintableQuote
    to_email: str
    to_name: str | None
    link: str
    link_expires_on: date
    message_id: str
    sender: str  # the From address; the seller's name is shown with it
    at: datetime  # when the mail is handed over (UTC, naive)


def compose(mail: QuoteMail, pdf: bytes) -> EmailMessage:
    """Build the message: text first, HTML as its alternative, the PDF attached."""
    printable = mail.printable
    quote = printable.quote
    language = quote.language
    words = words_for(language)
    seller = seller_name(printable)
    total = money_text(quote.total, quote.currency, language)
    values = {
        "words": words,
        "greeting": (
            words["mail.greeting"].format(name=mail.to_name)
            if mail.to_name
            else words["mail.greeting_anonymous"]
        ),
        "intro": words["mail.intro"].format(
            seller=seller, number=quote.number, customer=printable.customer.name
        ),
        "total": words["mail.total"].format(total=total, date=day_text(quote.expires_at, language)),
        "personal": words["mail.personal"].format(date=day_text(mail.link_expires_on, language)),
        "link": mail.link,
        "lines": [
            {
                "name": line.offering_name,
                "seats": line.quantity,
                "term": words[f"term.{line.term.value}"],
                "amount": money_text(line.amount, quote.currency, language),
                "promotion": line.promotion_name,
            }
            for line in quote.lines
        ],
        "language": language,
    }
    message = EmailMessage()
    message["Subject"] = words["mail.subject"].format(
        number=quote.number, seller=seller, total=total
    )
    message["From"] = formataddr((seller, mail.sender))
    message["To"] = formataddr((mail.to_name or "", mail.to_email))
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.at.replace(tzinfo=UTC), usegmt=True)
    message["Content-Language"] = language
    message.set_content(render("mail/quote.txt", values))
    message.add_alternative(render("mail/quote.html", values), subtype="html")
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=f"{quote.number}.pdf"
    )
    return message


def seller_name(printable: PrintableQuote) -> str:
    """Name who the quote comes from: the partner that made it, else the vendor."""
    if printable.partner_name:
        return printable.partner_name
    return printable.vendor.name if printable.vendor else "renewquote"
