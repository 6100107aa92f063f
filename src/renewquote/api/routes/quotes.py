"""Quotes: create, list, read, edit, send, cancel, replace, PDF, checkout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from renewquote.api.dependencies import BearerToken, SignedIn, remember
from renewquote.api.metrics import QUOTES
from renewquote.api.schemas import (
    NO_NUL,
    AddressIn,
    CheckoutRequest,
    CheckoutResult,
    QuoteCreate,
    QuoteEvents,
    QuoteLineCreate,
    QuoteList,
    QuotePatch,
    QuotePublic,
    QuoteReplace,
    problem_responses,
)
from renewquote.delivery.pdf import render_quote_pdf
from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.quoting import LineRequest
from renewquote.services import listing, ordering, quoting
from renewquote.services.public import order_public, quote_public
from renewquote.storage import repository
from renewquote.storage.quote_records import Recipient

router = APIRouter(prefix="/quotes", tags=["quotes"])
ERRORS = problem_responses(401, 403, 404, 409, 422)
# Every POST may also meet the body limit (413) and a reused Idempotency-Key (409, 422);
# a route that reads a JSON body refuses one it cannot parse (400).
POST_ERRORS = problem_responses(401, 403, 404, 409, 413, 422)
BODY_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 422)


# The number names no quote unless storage finds it: `quote_id_for` answers not found for
# anything that is not a number a quote can have.
Number = Annotated[str, Path(description="The quote's number.", examples=["Q-2026-000123"])]


def _lines(lines: list[QuoteLineCreate]) -> tuple[LineRequest, ...]:
    return tuple(
        LineRequest(
            subscription_id=line.subscription_id,
            offering_code=line.offering,
            quantity=line.quantity,
            term=line.term,
            start_date=line.start_date,
            align_to_subscription_id=line.align_to_subscription_id,
        )
        for line in lines
    )


def _address(address: AddressIn) -> dict[str, str | None]:
    given = address.model_dump(exclude_unset=True)
    names = {"line1": "address_line1", "line2": "address_line2"}
    return {names.get(k, k): v for k, v in given.items()}


@router.post(
    "",
    status_code=201,
    response_model=QuotePublic,
    responses=BODY_ERRORS,
    summary="Create a quote (a draft)",
)
async def create_quote(body: QuoteCreate, call: BearerToken) -> dict[str, object]:
    """Check every rule and price the quote; a refused quote leaves nothing behind.

    A customer's buyer always receives the quote and may add up to four `recipients`; a partner
    names one `contact` of the customer and up to five more `recipients`.
    """
    draft = quoting.QuoteDraft(
        type=body.type,
        lines=_lines(body.lines),
        customer_csn=body.customer_csn,
        currency=body.currency,
        recipients=tuple(Recipient(str(r.email), r.name) for r in body.recipients),
        contact_email=str(body.contact.email) if body.contact else None,
        language=body.language,
    )
    if call.actor is not None:
        quote = await quoting.create_quote_async(
            call.db, call.actor, draft, today=call.today, now=call.now
        )
    else:
        # A caller this worker has not seen lately: a buyer's token is checked in the same
        # round trip as the quote's reads.
        actor, expires_at, quote = await quoting.create_own_quote_async(
            call.db, call.token, draft, now=call.now
        )
        remember(call.token, actor, expires_at)
    QUOTES.labels("created").inc()
    return quote_public(quote)


@router.get("", response_model=QuoteList, responses=ERRORS, summary="Billing and orders > Quotes")
def list_quotes(
    caller: SignedIn,
    status: QuoteStatus | None = None,
    customer_csn: Annotated[str | None, Query(max_length=20, pattern=NO_NUL)] = None,
    currency: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    starting_after: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, object]:
    """The quotes the caller sees, whatever made them (partner, self-service, automatic)."""
    page = listing.list_quotes(
        caller.db,
        caller.actor,
        listing.QuoteFilters(status, customer_csn, currency),
        limit=limit,
        starting_after=starting_after,
    )
    return {"data": [quote_public(q) for q in page.items], "has_more": page.has_more}


@router.get("/{number}", response_model=QuotePublic, responses=ERRORS, summary="One quote")
def get_quote(number: Number, caller: SignedIn) -> dict[str, object]:
    """The quote as stored: its amounts never change once priced."""
    return quote_public(quoting.get_quote(caller.db, caller.actor, number))


@router.patch(
    "/{number}", response_model=QuotePublic, responses=BODY_ERRORS, summary="Edit a draft"
)
def edit_quote(number: Number, body: QuotePatch, caller: SignedIn) -> dict[str, object]:
    """Change a draft's lines, recipients, contact, language or address; it is priced again."""
    now = caller.now
    quote = quoting.edit_draft(
        caller.db,
        caller.actor,
        number,
        lines=_lines(body.lines) if body.lines is not None else None,
        recipients=[Recipient(str(r.email), r.name) for r in body.recipients]
        if body.recipients is not None
        else None,
        contact_email=str(body.contact.email) if body.contact else None,
        address=_address(body.address) if body.address is not None else None,
        language=body.language,
        today=now.date(),
        now=now,
    )
    return quote_public(quote)


@router.post(
    "/{number}/send", response_model=QuotePublic, responses=POST_ERRORS, summary="Send quote"
)
def send_quote(number: Number, caller: SignedIn) -> dict[str, object]:
    """Send the draft: the rules are checked again and every recipient gets the e-mail and PDF."""
    now = caller.now
    quote = quoting.send_quote(caller.db, caller.actor, number, today=now.date(), now=now)
    QUOTES.labels("sent").inc()
    return quote_public(quote)


@router.post(
    "/{number}/cancel", response_model=QuotePublic, responses=POST_ERRORS, summary="Cancel a quote"
)
def cancel_quote(number: Number, caller: SignedIn) -> dict[str, object]:
    """Partners and staff cancel; a customer is refused (403)."""
    quote = quoting.cancel_quote(caller.db, caller.actor, number, now=caller.now)
    QUOTES.labels("cancelled").inc()
    return quote_public(quote)


@router.post(
    "/{number}/replace",
    status_code=201,
    response_model=QuotePublic,
    responses=BODY_ERRORS,
    summary="Replace a sent quote to change its address",
)
def replace_quote(number: Number, body: QuoteReplace, caller: SignedIn) -> dict[str, object]:
    """A new draft with the same lines and the new address; sending it supersedes the old."""
    now = caller.now
    quote = quoting.replace_quote(
        caller.db, caller.actor, number, _address(body.address), today=now.date(), now=now
    )
    QUOTES.labels("created").inc()
    return quote_public(quote)


@router.get(
    "/{number}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **ERRORS},
    summary="The quote as a PDF",
)
def quote_pdf(number: Number, caller: SignedIn) -> Response:
    """The quote as the recipients receive it, in the quote's language."""
    quote = quoting.get_quote(caller.db, caller.actor, number)
    with caller.db.read() as conn:
        customer = repository.load_customer(conn, quote.customer_csn)
        partner = repository.partner_name(conn, quote.partner_csn) if quote.partner_csn else None
    pdf = render_quote_pdf(quote, customer_name=customer.name, partner_name=partner)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{quote.number}.pdf"'},
    )


@router.get("/{number}/events", response_model=QuoteEvents, responses=ERRORS, summary="Audit trail")
def quote_events(number: Number, caller: SignedIn) -> dict[str, object]:
    """Every change of the quote: who, when, what."""
    return {"data": quoting.quote_history(caller.db, caller.actor, number)}


@router.post(
    "/{number}/checkout",
    response_model=CheckoutResult,
    responses=BODY_ERRORS,
    summary="Order the quote",
)
def checkout(number: Number, body: CheckoutRequest, caller: SignedIn) -> dict[str, object]:
    """Pay and order at the quoted prices; each subscription is renewed exactly once."""
    now = caller.now
    order, quote = ordering.checkout(
        caller.db,
        caller.actor,
        number,
        body.payment_method,
        card_number=body.card_number,
        today=now.date(),
        now=now,
    )
    QUOTES.labels("ordered").inc()
    return {"order": order_public(order), "quote": quote_public(quote)}
