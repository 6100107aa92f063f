"""Quotes: create, list, read, edit, send, cancel, replace, PDF, checkout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from renewquote.api.dependencies import SignedIn, run
from renewquote.api.metrics import QUOTES
from renewquote.api.schemas import (
    NO_NUL,
    AddressIn,
    CheckoutRequest,
    CheckoutResult,
    OrderPublic,
    QuoteCreate,
    QuoteEventPublic,
    QuoteEvents,
    QuoteLineCreate,
    QuoteList,
    QuotePatch,
    QuotePublic,
    QuoteReplace,
    RecipientIn,
    RenewAndPay,
    problem_responses,
)
from renewquote.delivery.pdf import render_quote_pdf
from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.quotes import Recipient
from renewquote.domain.quoting import LineRequest
from renewquote.services import documents, listing, ordering
from renewquote.services.quoting import creation, lifecycle
from renewquote.services.quoting.drafts import QuoteDraft

orders_router = APIRouter(prefix="/orders", tags=["quotes"])
router = APIRouter(prefix="/quotes", tags=["quotes"])
ERRORS = problem_responses(401, 403, 404, 409, 422)
# Every POST may also meet the body limit (413) and a reused Idempotency-Key (409, 422);
# a route that reads a JSON body refuses one it cannot parse (400).
POST_ERRORS = problem_responses(401, 403, 404, 409, 413, 422)
BODY_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 422)

# The number names no quote unless storage finds it: anything that is not a number a quote
# can have is not found.
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


def _recipients(recipients: list[RecipientIn]) -> tuple[Recipient, ...]:
    return tuple(Recipient(str(r.email), r.name) for r in recipients)


def _draft(body: QuoteCreate) -> QuoteDraft:
    return QuoteDraft(
        type=body.type,
        lines=_lines(body.lines),
        customer_csn=body.customer_csn,
        currency=body.currency,
        recipients=_recipients(body.recipients),
        contact_email=str(body.contact.email) if body.contact else None,
        language=body.language,
    )


def _address(address: AddressIn) -> dict[str, str | None]:
    return address.model_dump(exclude_unset=True)


def _answer(
    model: QuotePublic | CheckoutResult | QuoteList | QuoteEvents, status: int = 200
) -> Response:
    # Shaped once by the model: answered as its JSON, not validated again by FastAPI.
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


@router.post(
    "",
    status_code=201,
    response_model=QuotePublic,
    responses=BODY_ERRORS,
    summary="Create a quote (a draft)",
)
async def create_quote(body: QuoteCreate, call: SignedIn) -> Response:
    """Check every rule and price the quote; a refused quote leaves nothing behind.

    A customer's buyer always receives the quote and may add up to four `recipients`; a partner
    names one `contact` of the customer and up to five more `recipients`.
    """
    draft = _draft(body)
    quote = await run(
        creation.create_quote, call.db, call.caller, draft, today=call.today, now=call.now
    )
    QUOTES.labels("created").inc()
    return _answer(QuotePublic.of(quote), 201)


@orders_router.post(
    "",
    status_code=201,
    response_model=CheckoutResult,
    responses=BODY_ERRORS,
    summary="Renew and pay now",
)
async def renew_and_pay(body: RenewAndPay, call: SignedIn, request: Request) -> Response:
    """Make the quote and buy it at once (the seed's "Renouveler et payer maintenant"): the
    rules of `POST /api/v1/quotes`, then those of the checkout. No quote mail is sent; the
    buyer gets the order's confirmation. A quote the rules refuse leaves nothing; a payment
    refused leaves the quote cancelled (the reason in its history) and nothing bought."""
    draft = _draft(body)
    order, quote = await run(
        ordering.renew_and_pay,
        call.db,
        call.caller,
        draft,
        body.payment.payment_method,
        card_number=body.payment.card_number,
        provider=request.app.state.payments,
        today=call.today,
        now=call.now,
    )
    QUOTES.labels("ordered").inc()
    return _answer(CheckoutResult(order=OrderPublic.of(order), quote=QuotePublic.of(quote)), 201)


@router.get("", response_model=QuoteList, responses=ERRORS, summary="Billing and orders > Quotes")
async def list_quotes(
    call: SignedIn,
    status: QuoteStatus | None = None,
    customer_csn: Annotated[str | None, Query(max_length=20, pattern=NO_NUL)] = None,
    currency: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    starting_after: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The quotes the caller sees, whatever made them (partner, self-service, automatic)."""
    page = await run(
        listing.list_quotes,
        call.db,
        call.caller,
        listing.QuoteFilters(status, customer_csn, currency),
        limit=limit,
        starting_after=starting_after,
    )
    return _answer(QuoteList(data=[QuotePublic.of(q) for q in page.items], has_more=page.has_more))


@router.get("/{number}", response_model=QuotePublic, responses=ERRORS, summary="One quote")
async def get_quote(number: Number, call: SignedIn) -> Response:
    """The quote as stored: its amounts never change once priced."""
    quote = await run(lifecycle.get_quote, call.db, call.caller, number)
    return _answer(QuotePublic.of(quote))


@router.patch(
    "/{number}", response_model=QuotePublic, responses=BODY_ERRORS, summary="Edit a draft"
)
async def edit_quote(number: Number, body: QuotePatch, call: SignedIn) -> Response:
    """Change a draft's lines, recipients, contact, language or address; it is priced again.

    Only the party that made the draft changes it; its purchase method, partner and currency
    follow from its lines.
    """
    quote = await run(
        lifecycle.edit_draft,
        call.db,
        call.caller,
        number,
        lines=_lines(body.lines) if body.lines is not None else None,
        recipients=_recipients(body.recipients) if body.recipients is not None else None,
        contact_email=str(body.contact.email) if body.contact else None,
        address=_address(body.address) if body.address is not None else None,
        language=body.language,
        today=call.today,
        now=call.now,
    )
    return _answer(QuotePublic.of(quote))


@router.post(
    "/{number}/send", response_model=QuotePublic, responses=POST_ERRORS, summary="Send quote"
)
async def send_quote(number: Number, call: SignedIn) -> Response:
    """Send the draft: the rules are checked again and every recipient gets the e-mail and PDF."""
    quote = await run(
        lifecycle.send_quote, call.db, call.caller, number, today=call.today, now=call.now
    )
    QUOTES.labels("sent").inc()
    return _answer(QuotePublic.of(quote))


@router.post(
    "/{number}/cancel", response_model=QuotePublic, responses=POST_ERRORS, summary="Cancel a quote"
)
async def cancel_quote(number: Number, call: SignedIn) -> Response:
    """Partners and staff cancel; a customer is refused (403)."""
    quote = await run(lifecycle.cancel_quote, call.db, call.caller, number, now=call.now)
    QUOTES.labels("cancelled").inc()
    return _answer(QuotePublic.of(quote))


@router.post(
    "/{number}/replace",
    status_code=201,
    response_model=QuotePublic,
    responses=BODY_ERRORS,
    summary="Replace a sent quote to change its address",
)
async def replace_quote(number: Number, body: QuoteReplace, call: SignedIn) -> Response:
    """A new draft with the same lines and the new address; sending it supersedes the old."""
    quote = await run(
        creation.replace_quote,
        call.db,
        call.caller,
        number,
        _address(body.address),
        today=call.today,
        now=call.now,
    )
    QUOTES.labels("created").inc()
    return _answer(QuotePublic.of(quote), 201)


@router.get(
    "/{number}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **ERRORS},
    summary="The quote as a PDF",
)
async def quote_pdf(number: Number, call: SignedIn) -> Response:
    """The quote as the recipients receive it, in the quote's language."""
    printable = await run(documents.printable_quote, call.db, call.caller, number)
    pdf = await run(render_quote_pdf, printable)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{number}.pdf"'},
    )


@router.get("/{number}/events", response_model=QuoteEvents, responses=ERRORS, summary="Audit trail")
async def quote_events(number: Number, call: SignedIn) -> Response:
    """Every change of the quote: who, when, what."""
    events = await run(lifecycle.quote_history, call.db, call.caller, number)
    return _answer(QuoteEvents(data=[QuoteEventPublic.of(e) for e in events]))


@router.post(
    "/{number}/checkout",
    response_model=CheckoutResult,
    responses=BODY_ERRORS,
    summary="Order the quote",
)
async def checkout(
    number: Number, body: CheckoutRequest, call: SignedIn, request: Request
) -> Response:
    """Pay and order at the quoted prices; each subscription is renewed exactly once."""
    order, quote = await run(
        ordering.checkout,
        call.db,
        call.caller,
        number,
        body.payment_method,
        card_number=body.card_number,
        provider=request.app.state.payments,
        today=call.today,
        now=call.now,
    )
    QUOTES.labels("ordered").inc()
    return _answer(CheckoutResult(order=OrderPublic.of(order), quote=QuotePublic.of(quote)))
