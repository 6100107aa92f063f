"""Finding a partner and asking it for a quote: the partner directory, a customer's quote
requests, and the partner's answer (a draft quote made out to whoever asked, or a no)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.grouping import MAX_LINES_PER_QUOTE
from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.model import CallerKind, QuoteType
from renewquote.domain.quotes import Quote
from renewquote.domain.quoting import LineRequest
from renewquote.domain.translations import NC_
from renewquote.services.access import Caller
from renewquote.services.quoting import QuoteDraft, new_draft
from renewquote.storage import quotes, repository, requests
from renewquote.storage.database import Database
from renewquote.storage.requests import PartnerListing, QuoteRequest, RequestStatus

MAX_MESSAGE = 1000
MAX_ANSWER = 500

__all__ = ["PartnerListing", "QuoteRequest", "RequestStatus"]


@dataclass(frozen=True, slots=True)
class RequestView:
    """A request as its reader sees it: the quote made for it once the reader may see that."""

    request: QuoteRequest
    quote_number: str | None


def partner_directory(
    db: Database, *, country: str | None = None, text: str | None = None
) -> list[PartnerListing]:
    """Return the partners, of one country or all, whose name or number holds `text`."""
    with db.read() as conn:
        return requests.directory(conn, country=country, text=(text or "").strip() or None)


def request_quote(
    db: Database,
    caller: Caller,
    partner_csn: str,
    subscription_ids: Sequence[str],
    message: str | None,
    *,
    now: datetime,
) -> int:
    """A customer's buyer asks a partner for a renewal quote on its own subscriptions; return
    the request's id. A refused request stores nothing."""
    caller.require_buyer()
    if not caller.is_customer:
        raise RuleViolation.one(
            Code.FORBIDDEN, why=NC_("rule", "customers ask partners for quotes")
        )
    chosen = sorted(set(subscription_ids))
    if len(chosen) > MAX_LINES_PER_QUOTE:  # one quote answers a request
        raise RuleViolation.one(Code.TOO_MANY_LINES, limit=MAX_LINES_PER_QUOTE)
    if not chosen:
        raise RuleViolation.one(
            Code.INVALID_INPUT,
            field="subscriptions",
            problem=NC_("rule", "choose at least one subscription"),
        )
    text = (message or "").strip() or None
    if text is not None and len(text) > MAX_MESSAGE:
        raise RuleViolation.one(
            Code.INVALID_INPUT, field="message", problem=f"at most {MAX_MESSAGE} characters"
        )
    assert caller.customer_csn is not None
    with db.write() as conn:
        if not requests.partner_exists(conn, partner_csn):
            raise RuleViolation.one(Code.NOT_FOUND, thing="partner")
        found = repository.subscriptions_by_id(conn, chosen, visible=caller.subscriptions_visible())
        if set(found) != set(chosen):
            raise RuleViolation.one(Code.NOT_FOUND, thing="subscription")
        return requests.insert_request(
            conn,
            customer_csn=caller.customer_csn,
            partner_csn=partner_csn,
            requested_by=caller.email,
            subscription_ids=chosen,
            message=text,
            now=now,
        )


def quote_requests(db: Database, caller: Caller) -> list[RequestView]:
    """A customer's requests, or those sent to a partner (staff: all), newest first."""
    with db.read() as conn:
        if caller.kind is CallerKind.CUSTOMER:
            found = requests.requests_of(conn, customer_csn=caller.customer_csn)
        elif caller.kind is CallerKind.PARTNER:
            found = requests.requests_of(conn, partner_csn=caller.partner_csn)
        else:
            found = requests.requests_of(conn)
        heads = quotes.heads_by_id(conn, {r.quote_id for r in found if r.quote_id})
    # A customer sees a partner's quote once it is sent, not while it is prepared.
    shown = {
        quote_id: head.number
        for quote_id, head in heads.items()
        if caller.kind is not CallerKind.CUSTOMER or head.status is not QuoteStatus.DRAFT
    }
    return [RequestView(r, shown.get(r.quote_id) if r.quote_id else None) for r in found]


def answer_with_quote(
    db: Database, caller: Caller, request_id: int, *, today: date, now: datetime
) -> Quote:
    """The partner answers an open request with a draft quote of its subscriptions, made out
    to whoever asked; the partner reviews and sends it. Refused by the rules, nothing changes
    and the request stays open (to answer otherwise, or decline)."""
    partner = _partner(caller)
    with db.write() as conn:
        request = requests.request_for_partner(conn, request_id, partner, lock=True)
        _still_open(request)
        draft = QuoteDraft(
            type=QuoteType.RENEWAL,
            lines=tuple(LineRequest(subscription_id=sid) for sid in request.subscription_ids),
            customer_csn=request.customer_csn,
            contact_email=request.requested_by,
        )
        try:
            quote = new_draft(conn, caller, draft, today=today, now=now)
        except RuleViolation as refused:
            if refused.code is Code.NOT_FOUND:  # the customer is not one this partner reaches
                raise RuleViolation.one(
                    Code.FORBIDDEN,
                    why=NC_("rule", "only the reseller of record quotes these subscriptions"),
                ) from None
            raise
        requests.answer_request(
            conn, request.id, RequestStatus.ANSWERED, now=now, quote_id=quote.id
        )
        return quote


def decline_request(
    db: Database, caller: Caller, request_id: int, reason: str, *, now: datetime
) -> None:
    """The partner declines an open request, saying why (the customer reads it)."""
    partner = _partner(caller)
    why = reason.strip()
    if not why or len(why) > MAX_ANSWER:
        raise RuleViolation.one(
            Code.INVALID_INPUT,
            field="reason",
            problem=f"say why, in {MAX_ANSWER} characters or fewer",
        )
    with db.write() as conn:
        request = requests.request_for_partner(conn, request_id, partner, lock=True)
        _still_open(request)
        requests.answer_request(conn, request.id, RequestStatus.DECLINED, now=now, answer=why)


def _partner(caller: Caller) -> str:
    if caller.kind is not CallerKind.PARTNER or caller.partner_csn is None:
        raise RuleViolation.one(Code.FORBIDDEN, why=NC_("rule", "partners answer quote requests"))
    return caller.partner_csn


def _still_open(request: QuoteRequest) -> None:
    if request.status is not RequestStatus.OPEN:
        raise RuleViolation.one(
            Code.INVALID_INPUT, field="request", problem=NC_("rule", "it has been answered already")
        )
