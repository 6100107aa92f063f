"""What creating or changing a quote asks for, and what the rules need to judge it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Connection

from renewquote.domain.errors import Code, RuleViolation, violation
from renewquote.domain.grouping import MAX_LINES_PER_QUOTE
from renewquote.domain.model import Channel, QuoteType
from renewquote.domain.quotes import Address, Quote, Recipient, RecipientRole
from renewquote.domain.quoting import LineRequest, QuoteContext, QuoteRequest
from renewquote.services.access import Caller
from renewquote.storage import repository

LANGUAGES = ("en", "fr")
ADDRESS_FIELDS = ("line1", "line2", "city", "postal_code")


@dataclass(frozen=True, slots=True)
class QuoteDraft:
    """What a buyer, partner or staff member asks for when creating or editing a quote."""

    type: QuoteType
    lines: tuple[LineRequest, ...]
    customer_csn: str | None = None
    currency: str | None = None
    recipients: tuple[Recipient, ...] = ()
    contact_email: str | None = None
    language: str | None = None

    @property
    def subscription_ids(self) -> set[str]:
        """Return the subscriptions the draft names: renewed, or aligned to."""
        return {
            sid
            for line in self.lines
            for sid in (line.subscription_id, line.align_to_subscription_id)
            if sid is not None
        }

    def request(self) -> QuoteRequest:
        """Return the draft as the rules read it."""
        return QuoteRequest(
            type=self.type,
            lines=self.lines,
            currency=self.currency,
            recipients=tuple(r.email for r in self.recipients),
            contact_email=self.contact_email,
        )


def draft_of(quote: Quote) -> QuoteDraft:
    """Return the draft a stored quote was made from: lines, recipients, contact, language."""
    return QuoteDraft(
        type=quote.type,
        lines=tuple(
            LineRequest(
                subscription_id=line.subscription_id,
                offering_code=None if line.subscription_id else line.offering_code,
                quantity=line.quantity,
                term=line.term,
                align_to_subscription_id=line.align_to_subscription_id,
            )
            for line in quote.lines
        ),
        customer_csn=quote.customer_csn,
        currency=quote.currency,
        recipients=tuple(r for r in quote.recipients if r.role is RecipientRole.EXTRA),
        contact_email=quote.contact_email,
        language=quote.language,
    )


def quote_context(
    conn: Connection,
    caller: Caller,
    customer_csn: str,
    draft: QuoteDraft,
    *,
    channel: Channel,
    today: date,
) -> tuple[QuoteContext, Address]:
    """Read everything the rules need to judge `draft`, as far as `caller` may see; return it
    with the customer's billing address. More lines than a quote holds are refused before
    anything is read (a form could name tens of thousands)."""
    if len(draft.lines) > MAX_LINES_PER_QUOTE:
        raise RuleViolation.one(Code.TOO_MANY_LINES, limit=MAX_LINES_PER_QUOTE)
    facts = repository.customer_facts(
        conn,
        customer_csn,
        draft.subscription_ids,
        reachable=caller.customer_reachable(),
        visible=caller.subscriptions_visible(),
        all_terms=any(line.term is not None for line in draft.lines),
    )
    customer, subscriptions, prices = facts.customer, facts.subscriptions, facts.prices
    codes = {line.offering_code for line in draft.lines if line.offering_code}
    currencies = {s.currency for s in subscriptions.values()}
    if draft.currency is not None:
        currencies.add(draft.currency)
    prices.update(repository.prices_of(conn, codes, currencies))
    context = QuoteContext(
        channel=channel,
        customer=customer,
        today=today,
        subscriptions=subscriptions,
        offerings=repository.offerings_by_code(conn, codes),
        prices=prices,
        promotions=repository.running_promotions(conn, today, facts.promotions_version),
        contact_emails=(
            repository.contact_emails(conn, customer_csn) if draft.contact_email else frozenset()
        ),
        partner_csn=caller.partner,
        buyer_email=caller.email if caller.is_customer else None,
    )
    return context, facts.address


def recipients_of(
    caller: Caller, draft: QuoteDraft, keep: Sequence[Recipient] = ()
) -> tuple[Recipient, ...]:
    """Return who receives the quote: the buyer (self-service) or the named contact first,
    then the others, each address once."""
    first = [r for r in keep if r.role is RecipientRole.BUYER]
    if caller.is_customer and not first:
        first = [Recipient(caller.email, None, RecipientRole.BUYER)]
    if draft.contact_email:
        first.append(Recipient(draft.contact_email, None, RecipientRole.CONTACT))
    seen = {r.email.lower() for r in first}
    extras = []
    for r in draft.recipients:
        if r.email.lower() not in seen:
            seen.add(r.email.lower())
            extras.append(replace(r, role=RecipientRole.EXTRA))
    return (*first, *extras)


def language_of(asked: str | None, fallback: str) -> str:
    """Return the quote's language: the one asked for, else the customer's, else English."""
    if asked is None:
        return fallback if fallback in LANGUAGES else "en"
    if asked not in LANGUAGES:
        raise RuleViolation([violation(Code.INVALID_INPUT, field="language", problem="en or fr")])
    return asked


def check_address_fields(changes: dict[str, str | None]) -> None:
    """Refuse an address change naming a field a quote's address does not have."""
    unknown = set(changes) - set(ADDRESS_FIELDS)
    if unknown:
        raise RuleViolation.one(
            Code.INVALID_INPUT, field="address", problem=f"unknown fields {sorted(unknown)}"
        )


def moved_address(current: Address, changes: dict[str, str | None]) -> Address:
    """Return `current` with the fields in `changes`; a first line, city and postal code stay
    set (the API refuses to clear them), and the country stays the customer's."""
    return Address(
        line1=changes.get("line1") or current.line1,
        line2=changes.get("line2", current.line2),
        city=changes.get("city") or current.city,
        postal_code=changes.get("postal_code") or current.postal_code,
        country=current.country,
    )
