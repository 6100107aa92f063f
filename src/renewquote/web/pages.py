"""The portal's pages: sign-in, Billing and orders > Subscriptions and contracts, Bulk actions >
Renew, the quotes and each quote's page (review, send, buy).

Every page calls the same services as the API; a refusal is shown in words next to what caused
it, with what was typed kept. Every form works without JavaScript; with it, htmx reprices a
quote under review as its terms and seats change (the same route answers the page or, for
htmx, the block of the page that changed).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2_fragments import render_block

from renewquote.api.dependencies import caller_of, forget_token, run
from renewquote.delivery.formatting import day_text, money_text, percent_text
from renewquote.delivery.pdf import render_quote_pdf
from renewquote.delivery.templates import ENVIRONMENT, render
from renewquote.domain.errors import Code, RuleViolation, Violation
from renewquote.domain.lifecycle import QuoteStatus
from renewquote.domain.model import Channel, PaymentMethod, QuoteType, Term
from renewquote.domain.quotes import Delivery, Quote, Recipient, RecipientRole
from renewquote.domain.quoting import (
    PARTNER_EXTRA_RECIPIENTS,
    SELF_SERVICE_RECIPIENTS,
    LineRequest,
)
from renewquote.services import auth, listing, ordering, quoting, renewals
from renewquote.services import requests as quote_requests
from renewquote.services.access import Caller
from renewquote.services.documents import printable_quote
from renewquote.services.listing import OutboxStatus, QuoteFilters, SubscriptionStanding
from renewquote.services.quoting import QuoteDraft
from renewquote.services.quoting.drafts import ADDRESS_FIELDS
from renewquote.storage.database import Database
from renewquote.web.i18n import (
    LANGUAGE_COOKIE,
    LANGUAGES,
    asked_language,
    page_language,
    translations,
)
from renewquote.web.session import (
    SESSION_COOKIE,
    end_session,
    form_allowed,
    form_token,
    keep_form_token,
    keep_session,
    signed_in,
)

router = APIRouter(include_in_schema=False)

RECIPIENTS = "recipients"  # where the problems of the recipients are shown
_TERMS = (Term.MONTHLY, Term.ANNUAL, Term.THREE_YEAR)
_NO_STORE = {"Cache-Control": "no-store"}


@dataclass(slots=True)
class Visit:
    """One request to the portal: who, in which language, when, and the form value."""

    request: Request
    db: Database
    now: datetime
    language: str
    caller: Caller | None
    csrf: str

    @property
    def gettext(self) -> Callable[[str], str]:
        return translations(self.language).gettext

    def page(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        """Render a whole page (or, for htmx, the block it asks for)."""
        context = self.values(values)
        block = self.block
        if block and block in values.get("blocks", ()):
            # A block alone, for htmx: what it shows elsewhere comes along out of band.
            context["fragment"] = True
            html = render_block(ENVIRONMENT, f"portal/{template}", block, context)
        else:
            html = render(f"portal/{template}", context)
        response = HTMLResponse(html, status_code=status, headers=_NO_STORE)
        self.keep(response)
        return response

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    @property
    def block(self) -> str | None:
        """The block of the page htmx asks for (the id of the element it swaps), if any."""
        return self.request.headers.get("hx-target") if self.is_htmx else None

    def values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        _ = self.gettext
        path = self.request.url.path
        return {
            "_": _,
            "language": self.language,
            "languages": [
                (code, name, f"{path}?{urlencode({'lang': code})}")
                for code, name in LANGUAGES.items()
            ],
            "caller": self.caller,
            "csrf": self.csrf,
            "path": path,
            "fragment": False,
            **values,
        }

    def keep(self, response: Response) -> None:
        keep_form_token(response, self.request, self.csrf)
        if self.request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE,
                self.language,
                max_age=365 * 24 * 3600,
                samesite="lax",
                httponly=True,
                path="/",
            )

    def money(self, amount: Decimal, currency: str) -> str:
        return money_text(amount, currency, self.language)

    def day(self, value: Any) -> str:
        return day_text(value, self.language)

    def reasons(self, violations: Iterable[Violation]) -> list[str]:
        return [v.message(self.language) for v in violations]


async def visit(request: Request) -> Visit:
    db: Database = request.app.state.db
    now: datetime = request.app.state.clock()
    caller = await signed_in(db, request, now)
    asked = asked_language(request)
    own_page = request.headers.get("sec-fetch-site", "same-origin") == "same-origin"
    if caller is not None and asked is not None and asked != caller.language and own_page:
        # The switch keeps the choice in the user's setting, for every browser it signs in on;
        # a link from another site shows the page in its language but changes no setting.
        await run(auth.set_language, db, caller, asked)
        forget_token(request.cookies.get(SESSION_COOKIE, ""))
        caller = replace(caller, language=asked)
    return Visit(
        request=request,
        db=db,
        now=now,
        language=page_language(request, caller.language if caller else None),
        caller=caller,
        csrf=form_token(request),
    )


def _to_sign_in(request: Request) -> Response:
    """Send a visitor whose session ended to sign in, then back to the page it was on (for a
    form, the page the form was on: its address less the action)."""
    target = request.url.path
    if request.method != "GET":
        target = _PAGE_OF_ACTION.sub("", target) or "/"
    address = f"/signin?{urlencode({'next': target})}"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": address})
    return RedirectResponse(address, status_code=303)


# /billing/quotes/Q-1/buy -> /billing/quotes/Q-1; /billing/requests/3/answer -> /billing/requests
_PAGE_OF_ACTION = re.compile(r"(/\d+)?/(buy|pay-now|cancel|answer|decline|request)$")


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# Signing in and out ------------------------------------------------------------------------


@router.get("/")
async def home(request: Request) -> Response:
    here = await visit(request)
    if here.caller is None:
        return _see_other("/signin")
    return _see_other("/billing/quotes" if here.caller.is_staff else "/billing/subscriptions")


@router.get("/signin")
async def sign_in_page(request: Request, next: str = "/") -> Response:
    here = await visit(request)
    return here.page("signin.html", next=_safe_next(next), email="", problem=None)


@router.post("/signin")
async def sign_in(
    request: Request,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    here = await visit(request)
    _ = here.gettext
    if not form_allowed(request, csrf):
        problem = _("This form has expired. Please sign in again.")
        return here.page("signin.html", 400, next=_safe_next(next), email=email, problem=problem)
    address = request.client.host if request.client else "unknown"
    try:
        issued = await run(auth.sign_in, here.db, email, password, address=address, now=here.now)
    except RuleViolation as refusal:
        if refusal.code is Code.RATE_LIMITED:
            problem = _("Too many attempts. Please wait a moment and try again.")
            status = 429
        else:
            problem = _("Wrong e-mail or password.")
            status = 401
        return here.page("signin.html", status, next=_safe_next(next), email=email, problem=problem)
    # Kept for the pages that follow, read and kept as every signed-in call is (a change to
    # users, customers or countries heard meanwhile drops it again).
    await caller_of(here.db, issued.access_token, here.now)
    response = _see_other(_safe_next(next))
    keep_session(response, request, issued.access_token, issued.expires_at, here.now)
    # A new session, a new form value: one planted before signing in is worth nothing after.
    keep_form_token(response, request, secrets.token_urlsafe(32))
    return response


@router.post("/signout")
async def sign_out(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    here = await visit(request)
    token = request.cookies.get(SESSION_COOKIE)
    if not form_allowed(request, csrf):
        # Another site's form signs nobody out.
        return _see_other("/")
    if token:
        await run(auth.revoke_token, here.db, token, now=here.now)
        forget_token(token)
    response = _see_other("/signin")
    end_session(response)
    return response


def _safe_next(target: str) -> str:
    # Only a path of this site: never another site after signing in.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# Billing and orders > Subscriptions and contracts ---------------------------------------------


_SORTS: Mapping[str, Callable[[SubscriptionStanding], Any]] = {
    "end_date": lambda s: (s.subscription.end_date, s.subscription.id),
    "product": lambda s: (s.subscription.offering_name, s.subscription.id),
    "id": lambda s: s.subscription.id,
}


@router.get("/billing/subscriptions")
async def subscriptions_page(
    request: Request, q: str = "", show: str = "all", sort: str = "end_date"
) -> Response:
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    standings, more = await run(
        listing.every_subscription, here.db, here.caller, today=here.now.date()
    )
    show = show if show in ("all", "renewable", "not_renewable") else "all"
    needle = q.strip().lower()
    rows = [
        s
        for s in standings
        if (
            not needle
            or needle in s.subscription.id.lower()
            or needle in s.subscription.offering_name.lower()
        )
        and (show == "all" or (show == "renewable") == (not s.reasons))
    ]
    rows.sort(key=_SORTS.get(sort, _SORTS["end_date"]))
    return here.page(
        "subscriptions.html",
        rows=[_subscription_row(here, s) for s in rows],
        total=len(standings),
        more=more,
        q=q,
        show=show,
        sort=sort if sort in _SORTS else "end_date",
        can_renew=here.caller.may_buy,
    )


@router.get("/billing/subscriptions/{subscription_id}")
async def subscription_page(request: Request, subscription_id: str) -> Response:
    """One subscription, and its renewal the same way as a group's."""
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    try:
        standing = await run(
            listing.get_subscription, here.db, here.caller, subscription_id, today=here.now.date()
        )
    except RuleViolation:
        return _not_found(here)
    return here.page(
        "subscription.html",
        row=_subscription_row(here, standing),
        can_renew=here.caller.may_buy,
    )


def _subscription_row(here: Visit, standing: SubscriptionStanding) -> dict[str, Any]:
    _ = here.gettext
    s = standing.subscription
    return {
        "id": s.id,
        "customer": s.customer_csn,
        "product": s.offering_name,
        "seats": s.quantity,
        "term": _term_name(_, s.term),
        "currency": s.currency,
        "method": _("Direct") if s.partner_csn is None else _("Through a partner"),
        "partner": s.partner_csn or "",
        "end_date": here.day(s.end_date),
        "auto_renew": _("Yes") if s.auto_renew else _("No"),
        "renewable": not standing.reasons,
        "reasons": here.reasons(standing.reasons),
    }


def _term_name(_: Callable[[str], str], term: Term) -> str:
    names = {Term.MONTHLY: _("Monthly"), Term.ANNUAL: _("Annual"), Term.THREE_YEAR: _("3 years")}
    return names[term]


# Bulk actions > Renew --------------------------------------------------------------------------


@router.get("/billing/renew")
async def renew_page(request: Request) -> Response:
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    return await _renew(here, chosen=None, problems={})


async def _renew(
    here: Visit,
    *,
    chosen: Sequence[str] | None,
    problems: Mapping[str, list[str]],
    general: Sequence[str] = (),
    status: int = 200,
) -> Response:
    assert here.caller is not None
    _ = here.gettext
    groups = await run(renewals.renewal_groups, here.db, here.caller, today=here.now.date())
    every, _more = await run(
        listing.every_subscription, here.db, here.caller, today=here.now.date()
    )
    standings = {s.subscription.id: s for s in every}
    shown = []
    for number, group in enumerate(groups.groups, start=1):
        key = group.key
        shown.append(
            {
                "number": number,
                "csn": key.customer_csn,
                "currency": key.currency,
                "method": _("Direct") if key.partner_csn is None else _("Through a partner"),
                "partner": key.partner_csn or "",
                "subscriptions": [
                    {
                        **_subscription_row(here, standings[sid]),
                        "ticked": chosen is None or sid in chosen,
                        "problems": problems.get(sid, []),
                    }
                    for sid in group.subscription_ids
                    if sid in standings
                ],
            }
        )
    ineligible = [
        {
            "id": item.subscription_id,
            "product": standings[item.subscription_id].subscription.offering_name
            if item.subscription_id in standings
            else "",
            "reasons": here.reasons(item.reasons),
        }
        for item in groups.ineligible
    ]
    return here.page(
        "renew.html",
        status,
        groups=shown,
        ineligible=ineligible,
        general=list(general),
        can_renew=here.caller.may_buy,
    )


@router.post("/billing/renew")
async def renew(request: Request) -> Response:
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    form = await request.form()
    _ = here.gettext
    if not form_allowed(request, str(form.get("csrf", ""))):
        return await _renew(
            here,
            chosen=None,
            problems={},
            general=[_expired(here)],
            status=400,
        )
    chosen = [str(v) for v in form.getlist("subscription")]
    option = str(form.get("option", "quote"))
    if not chosen:
        return await _renew(
            here,
            chosen=chosen,
            problems={},
            general=[_("Tick at least one subscription.")],
            status=422,
        )
    draft = QuoteDraft(
        type=QuoteType.RENEWAL,
        lines=tuple(LineRequest(subscription_id=sid) for sid in chosen),
        # A partner (or staff) quotes the customer of the group the form was.
        customer_csn=None if here.caller.is_customer else str(form.get("customer", "")) or None,
    )
    try:
        quote = await run(
            quoting.create_quote, here.db, here.caller, draft, today=here.now.date(), now=here.now
        )
    except RuleViolation as refusal:
        problems, general = _placed(here, refusal.violations)
        return await _renew(here, chosen=chosen, problems=problems, general=general, status=422)
    target = f"/billing/quotes/{quote.number}"
    return _see_other(f"{target}?pay=1" if option == "pay" else target)


def _placed(here: Visit, violations: Iterable[Violation]) -> tuple[dict[str, list[str]], list[str]]:
    """Split broken rules into those about one subscription (shown next to it) and the rest."""
    by_subscription: dict[str, list[str]] = {}
    general: list[str] = []
    for violation in violations:
        text = violation.message(here.language)
        if violation.code is Code.TOO_MANY_RECIPIENTS or violation.params.get("field") in (
            "recipients",
            "contact",
        ):
            by_subscription.setdefault(RECIPIENTS, []).append(text)
        elif violation.subscription_ids:
            for sid in violation.subscription_ids:
                by_subscription.setdefault(sid, []).append(text)
        else:
            general.append(text)
    return by_subscription, general


# Billing and orders > Quotes ------------------------------------------------------------------


@router.get("/billing/quotes")
async def quotes_page(request: Request) -> Response:
    """Every quote the caller sees, newest first, narrowed by the filters in the address."""
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    asked = {k: request.query_params.get(k, "").strip() for k in _QUOTE_FILTERS}
    filters, problems = _quote_filters(here, asked)
    found = await run(listing.recent_quotes, here.db, here.caller, filters)
    _ = here.gettext
    return here.page(
        "quotes.html",
        quotes=[_quote_summary(here, q) for q in found],
        asked=asked,
        problems=problems,
        statuses=[(s.value, _status_name(_, s)) for s in QuoteStatus],
        channels=[(c.value, _channel_name(_, c)) for c in Channel],
    )


_QUOTE_FILTERS = ("status", "channel", "customer", "partner", "currency", "from", "to")


def _quote_filters(here: Visit, asked: Mapping[str, str]) -> tuple[QuoteFilters, list[str]]:
    _ = here.gettext
    problems: list[str] = []

    def day(name: str, label: str) -> datetime | None:
        if not asked[name]:
            return None
        try:
            return datetime.combine(date.fromisoformat(asked[name]), time())
        except ValueError:
            problems.append(_("{field}: dates are written 2026-12-31.").format(field=label))
            return None

    start, end = day("from", _("Made from")), day("to", _("Made until"))
    if start and end and start > end:
        problems.append(_("The first date comes after the last."))
        start = end = None
    filters = QuoteFilters(
        status=_member(QuoteStatus, asked["status"]),
        channel=_member(Channel, asked["channel"]),
        customer_csn=asked["customer"] or None,
        partner_csn=asked["partner"] or None,
        currency=asked["currency"].upper() or None,
        created_from=start,
        created_before=end + timedelta(days=1) if end else None,
    )
    return filters, problems


def _member(kind: Any, value: str) -> Any:
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def _channel_name(_: Callable[[str], str], channel: Channel) -> str:
    return {
        Channel.SELF_SERVICE: _("Customer"),
        Channel.PARTNER: _("Partner"),
        Channel.STAFF: _("Vendor"),
        Channel.AUTOMATIC: _("Automatic"),
    }[channel]


# Find a partner, and quote requests ---------------------------------------------------------


@router.get("/billing/partners")
async def partners_page(request: Request, country: str = "", q: str = "") -> Response:
    """The partner directory, by country and searchable."""
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    found = await run(
        quote_requests.partner_directory, here.db, country=country.strip() or None, text=q
    )
    countries = sorted({p.country for p in await run(quote_requests.partner_directory, here.db)})
    return here.page(
        "partners.html",
        partners=found,
        countries=countries,
        country=country.strip().upper(),
        q=q,
        can_ask=here.caller.is_customer and here.caller.may_buy,
    )


@router.get("/billing/partners/{partner_csn}/request")
async def request_page(request: Request, partner_csn: str) -> Response:
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    return await _request_form(here, partner_csn, chosen=(), message="")


async def _request_form(
    here: Visit,
    partner_csn: str,
    *,
    chosen: Sequence[str],
    message: str,
    problems: Sequence[str] = (),
    status: int = 200,
) -> Response:
    assert here.caller is not None
    listed = [
        p for p in await run(quote_requests.partner_directory, here.db) if p.csn == partner_csn
    ]
    if not listed or not here.caller.is_customer:
        return _not_found(here)
    standings, _more = await run(
        listing.every_subscription, here.db, here.caller, today=here.now.date()
    )
    rows = [
        {**_subscription_row(here, s), "ticked": s.subscription.id in chosen}
        for s in standings
        if s.subscription.status.value == "active"
    ]
    return here.page(
        "request.html",
        status,
        partner=listed[0],
        rows=rows,
        message=message,
        problems=list(problems),
    )


@router.post("/billing/partners/{partner_csn}/request")
async def ask_partner(request: Request, partner_csn: str) -> Response:
    """A customer's buyer asks a partner for a renewal quote on chosen subscriptions."""
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    _ = here.gettext
    form = await request.form()
    chosen = [str(v) for v in form.getlist("subscription")]
    message = str(form.get("message", ""))
    if not form_allowed(request, str(form.get("csrf", ""))):
        problems = [_expired(here)]
        return await _request_form(
            here, partner_csn, chosen=chosen, message=message, problems=problems, status=400
        )
    try:
        await run(
            quote_requests.request_quote,
            here.db,
            here.caller,
            partner_csn,
            chosen,
            message,
            now=here.now,
        )
    except RuleViolation as refusal:
        return await _request_form(
            here,
            partner_csn,
            chosen=chosen,
            message=message,
            problems=here.reasons(refusal.violations),
            status=422,
        )
    return _see_other("/billing/requests")


@router.get("/billing/requests")
async def requests_page(request: Request) -> Response:
    """A customer's quote requests and their state; a partner's, to answer."""
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    return await _requests(here)


async def _requests(
    here: Visit, *, problems: Mapping[int, list[str]] | None = None, status: int = 200
) -> Response:
    assert here.caller is not None
    _ = here.gettext
    found = await run(quote_requests.quote_requests, here.db, here.caller)
    names = {p.csn: p.name for p in await run(quote_requests.partner_directory, here.db)}
    state = {
        quote_requests.RequestStatus.OPEN: _("Waiting for the partner"),
        quote_requests.RequestStatus.ANSWERED: _("Answered with a quote"),
        quote_requests.RequestStatus.DECLINED: _("Declined"),
    }
    rows = [
        {
            "id": v.request.id,
            "customer": v.request.customer_csn,
            "partner": names.get(v.request.partner_csn, v.request.partner_csn),
            "by": v.request.requested_by,
            "subscriptions": ", ".join(v.request.subscription_ids),
            "message": v.request.message or "",
            "open": v.request.status is quote_requests.RequestStatus.OPEN,
            "state": state[v.request.status],
            "answer": v.request.answer or "",
            "quote": v.quote_number,
            "on": here.day(v.request.created_at.date()),
            "problems": (problems or {}).get(v.request.id, []),
        }
        for v in found
    ]
    return here.page(
        "requests.html",
        status,
        rows=rows,
        answers=here.caller.kind.value == "partner" and here.caller.may_buy,
    )


@router.post("/billing/requests/{request_id}/answer")
async def answer_request(request: Request, request_id: str) -> Response:
    """The partner answers with a draft quote (then reviews and sends it)."""

    async def answer(here: Visit, caller: Caller, rid: int, form: Any) -> str:
        quote = await run(
            quote_requests.answer_with_quote,
            here.db,
            caller,
            rid,
            today=here.now.date(),
            now=here.now,
        )
        return f"/billing/quotes/{quote.number}"

    return await _on_request(request, request_id, answer)


@router.post("/billing/requests/{request_id}/decline")
async def decline_request(request: Request, request_id: str) -> Response:
    """The partner declines, saying why."""

    async def decline(here: Visit, caller: Caller, rid: int, form: Any) -> str:
        reason = str(form.get("reason", ""))
        await run(quote_requests.decline_request, here.db, caller, rid, reason, now=here.now)
        return "/billing/requests"

    return await _on_request(request, request_id, decline)


async def _on_request(
    request: Request,
    request_id: str,
    act: Callable[[Visit, Caller, int, Any], Awaitable[str]],
) -> Response:
    """A partner's action on one request: the form checked, then `act`, which answers where
    to go next; a refusal is shown on the requests page next to that request."""
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    if not request_id.isdigit() or len(request_id) > 12:
        return _not_found(here)
    rid = int(request_id)
    form = await request.form()
    if not form_allowed(request, str(form.get("csrf", ""))):
        return await _requests(here, problems={rid: [_expired(here)]}, status=400)
    try:
        target = await act(here, here.caller, rid, form)
    except RuleViolation as refusal:
        if refusal.code is Code.NOT_FOUND:
            return _not_found(here)
        return await _requests(here, problems={rid: here.reasons(refusal.violations)}, status=422)
    return _see_other(target)


def _expired(here: Visit) -> str:
    _ = here.gettext
    return _("This form has expired. Please try again.")


@router.get("/staff/deliveries")
async def deliveries_page(request: Request) -> Response:
    """The outbox's mails and webhooks that did not go: staff only."""
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    if not here.caller.is_staff:
        return _not_found(here)
    found = await run(listing.delivery_troubles, here.db, here.caller, now=here.now)
    _ = here.gettext
    rows = [
        {
            "kind": _("Webhook") if t.trouble.topic == "webhook" else _("Mail"),
            "quote": t.quote_number,
            "to": t.to,
            "status": _outbox_state(_, t.trouble.status),
            "attempts": t.trouble.attempts,
            "created": here.day(t.trouble.created_at.date()),
            "error": t.trouble.last_error or "",
        }
        for t in found
    ]
    return here.page("deliveries.html", rows=rows)


def _quote_summary(here: Visit, quote: Quote) -> dict[str, Any]:
    return {
        "number": quote.number,
        "customer": quote.customer_csn,
        "partner": quote.partner_csn or "",
        "created": here.day(quote.created_at.date()),
        "status": _status_name(here.gettext, quote.status),
        "channel": _channel_name(here.gettext, quote.channel),
        "total": here.money(quote.total, quote.currency),
        "valid_until": here.day(quote.expires_at),
        "recipients": [
            ", ".join(
                part
                for part in (
                    r.email,
                    _delivery_name(here.gettext, r.delivery),
                    _opened(here, r.view_count),
                )
                if part
            )
            for r in quote.recipients
        ],
    }


def _status_name(_: Callable[[str], str], status: QuoteStatus) -> str:
    return {
        QuoteStatus.DRAFT: _("Draft"),
        QuoteStatus.SENT: _("Sent"),
        QuoteStatus.ORDERED: _("Ordered"),
        QuoteStatus.EXPIRED: _("Expired"),
        QuoteStatus.CANCELLED: _("Cancelled"),
        QuoteStatus.SUPERSEDED: _("Replaced"),
    }[status]


@router.get("/billing/quotes/{number}")
async def quote_page(request: Request, number: str) -> Response:
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    try:
        quote = await run(quoting.get_quote, here.db, here.caller, number)
    except RuleViolation:
        return _not_found(here)
    return await _quote(here, quote, pay=request.query_params.get("pay") == "1")


async def _quote(
    here: Visit,
    quote: Quote,
    *,
    typed: Mapping[str, Any] | None = None,
    problems: Mapping[str, list[str]] | None = None,
    general: Sequence[str] = (),
    pay: bool = False,
    status: int = 200,
) -> Response:
    assert here.caller is not None
    _ = here.gettext
    history = []
    if here.block is None:  # htmx's reprice asks for the review only
        history = await run(quoting.quote_history, here.db, here.caller, quote.number)
    typed = typed or {}
    problems = problems or {}
    lines = []
    for line in quote.lines:
        sid = line.subscription_id or ""
        lines.append(
            {
                "id": sid,
                "product": line.offering_name,
                "seats": typed.get(f"seats-{sid}", line.quantity),
                "term": typed.get(f"term-{sid}", line.term.value),
                "period": f"{here.day(line.start_date)} – {here.day(line.end_date)}",
                "unit_price": here.money(line.unit_price, quote.currency),
                "promotion": line.promotion_name,
                "discount": here.money(-line.discount, quote.currency) if line.discount else "",
                "amount": here.money(line.amount, quote.currency),
                "problems": problems.get(sid, []),
            }
        )
    extra = [r.email for r in quote.recipients if r.role is RecipientRole.EXTRA]
    recipients = [email for email in typed.get("recipients", extra) if email]
    most = (
        SELF_SERVICE_RECIPIENTS
        if quote.channel is Channel.SELF_SERVICE
        else PARTNER_EXTRA_RECIPIENTS
    )
    # As many fields as the rules allow, and one more once they are all filled: that one is
    # refused by the rules, in words, if used.
    recipients += [""] * max(most - len(recipients), 1)
    # New-subscription and co-term lines are made through the API; the review changes renewals.
    editable = (
        quote.status is QuoteStatus.DRAFT
        and here.caller.may_edit(quote)
        and all(line.subscription_id for line in quote.lines)
    )
    contacts: list[str] = []
    if editable and quote.channel is not Channel.SELF_SERVICE:
        contacts = await run(listing.customer_contacts, here.db, here.caller, quote.customer_csn)
    methods = [PaymentMethod.CARD, PaymentMethod.PAYPAL, PaymentMethod.INVOICE]
    return here.page(
        "quote.html",
        status,
        blocks=("review",),
        quote=quote,
        editable=editable,
        contacts=contacts,
        contact=typed.get("contact", quote.contact_email or ""),
        most=most,
        cancellable=quote.status in (QuoteStatus.DRAFT, QuoteStatus.SENT)
        and here.caller.may_cancel(quote),
        replaceable=quote.status is QuoteStatus.SENT and here.caller.may_edit(quote),
        address=typed.get(
            "address",
            {
                "line1": quote.address.line1,
                "line2": quote.address.line2 or "",
                "city": quote.address.city,
                "postal_code": quote.address.postal_code,
            },
        ),
        buyable=quote.status is QuoteStatus.SENT and here.caller.may_buy,
        pay=pay,
        status_name=_status_name(_, quote.status),
        terms=[(t.value, _term_name(_, t)) for t in _TERMS],
        lines=lines,
        subtotal=here.money(quote.subtotal, quote.currency),
        discounts=here.money(-quote.discount_total, quote.currency) if quote.discount_total else "",
        tax_label=_("Estimated tax ({rate})").format(
            rate=percent_text(quote.tax_rate, here.language)
        ),
        tax=here.money(quote.tax, quote.currency),
        total=here.money(quote.total, quote.currency),
        valid_until=here.day(quote.expires_at),
        recipients=recipients,
        sent_to=[
            {
                "email": r.email,
                "delivery": _delivery_name(_, r.delivery),
                "viewed": _opened(here, r.view_count),
            }
            for r in quote.recipients
        ],
        general=list(general),
        recipient_problems=problems.get(RECIPIENTS, []),
        methods=[(m.value, _method_name(_, m)) for m in methods],
        history=[
            {"at": here.day(e.at.date()), "actor": e.actor, "action": _action_name(_, e.action)}
            for e in history
        ],
    )


def _outbox_state(_: Callable[[str], str], status: OutboxStatus) -> str:
    return {
        OutboxStatus.PENDING: _("waiting to be tried again"),
        OutboxStatus.SENDING: _("held by a worker that stopped"),
        OutboxStatus.SENT: _("sent"),
        OutboxStatus.FAILED: _("given up"),
    }[status]


def _opened(here: Visit, count: int) -> str:
    """How often a recipient opened its link, in words ("" if never)."""
    if not count:
        return ""
    text: str = translations(here.language).ngettext("opened once", "opened {n} times", count)
    return text.format(n=count)


def _delivery_name(_: Callable[[str], str], delivery: Delivery | None) -> str:
    if delivery is None:
        return _("not mailed")
    return {
        Delivery.PENDING: _("waiting to be mailed"),
        Delivery.SENT: _("mailed"),
        Delivery.FAILED: _("not delivered"),
    }[delivery]


def _action_name(_: Callable[[str], str], action: str) -> str:
    names = {
        "created": _("created"),
        "edited": _("changed"),
        "sent": _("sent"),
        "viewed": _("opened by a recipient"),
        "ordered": _("ordered"),
        "expired": _("expired"),
        "cancelled": _("cancelled"),
        "superseded": _("replaced"),
    }
    return names.get(action, action)


def _method_name(_: Callable[[str], str], method: PaymentMethod) -> str:
    return {
        PaymentMethod.CARD: _("Card"),
        PaymentMethod.PAYPAL: _("PayPal"),
        PaymentMethod.INVOICE: _("Invoice"),
    }[method]


@router.post("/billing/quotes/{number}")
async def change_quote(request: Request, number: str) -> Response:
    """The review's form: reprice (`action=update`, also what htmx posts as fields change) or
    send (`action=send`); the lines' terms and seats and the recipients as typed."""
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    form = await request.form()
    reviewed = await _reviewed(here, number, form)
    if isinstance(reviewed, Response):
        return reviewed
    if form.get("action") == "send":
        try:
            await run(
                quoting.send_quote,
                here.db,
                here.caller,
                number,
                today=here.now.date(),
                now=here.now,
            )
        except RuleViolation as refusal:
            by_line, general = _placed(here, refusal.violations)
            return await _quote(
                here,
                reviewed.quote,
                typed=reviewed.typed,
                problems=by_line,
                general=general,
                pay=reviewed.pay,
                status=422,
            )
        return _see_other(f"/billing/quotes/{number}")
    return await _quote(here, reviewed.quote, pay=reviewed.pay)


@dataclass(frozen=True, slots=True)
class _Reviewed:
    """A draft with what the review's form typed applied (and repriced)."""

    quote: Quote
    typed: Mapping[str, Any]
    pay: bool  # the review leads to paying at once


async def _quote_of_form(here: Visit, number: str, form: Any, **shown: Any) -> Quote | Response:
    """The quote a form on its page acts on, the form's value checked; otherwise the answer
    to give: not found (404), or the page again saying the form expired (400), with `shown`
    (what was typed, the payment form) kept."""
    assert here.caller is not None
    try:
        quote = await run(quoting.get_quote, here.db, here.caller, number)
    except RuleViolation:
        return _not_found(here)
    if not form_allowed(here.request, str(form.get("csrf", ""))):
        return await _quote(here, quote, general=[_expired(here)], status=400, **shown)
    return quote


async def _reviewed(here: Visit, number: str, form: Any) -> _Reviewed | Response:
    """Apply the review's typed lines and recipients to the draft; on a refusal, the page
    that says why with everything typed kept (a Response)."""
    assert here.caller is not None
    pay = form.get("pay") == "1"
    quote = await _quote_of_form(here, number, form, pay=pay)
    if isinstance(quote, Response):
        return quote
    typed: dict[str, Any] = {
        k: str(v) for k, v in form.items() if k.startswith(("seats-", "term-"))
    }
    emails = [str(v).strip() for v in form.getlist("recipient")]
    typed["recipients"] = emails
    contact = str(form.get("contact", "")).strip() or None
    if contact is not None:
        typed["contact"] = contact
    lines, problems = _typed_lines(here, quote, form)
    if problems:
        return await _quote(here, quote, typed=typed, problems=problems, pay=pay, status=422)
    try:
        changed = await run(
            quoting.edit_draft,
            here.db,
            here.caller,
            number,
            lines=lines,
            recipients=[Recipient(email) for email in emails if email],
            contact_email=contact,
            today=here.now.date(),
            now=here.now,
        )
    except RuleViolation as refusal:
        by_line, general = _placed(here, refusal.violations)
        return await _quote(
            here, quote, typed=typed, problems=by_line, general=general, pay=pay, status=422
        )
    return _Reviewed(changed, typed, pay)


def _typed_lines(
    here: Visit, quote: Quote, form: Any
) -> tuple[list[LineRequest], dict[str, list[str]]]:
    _ = here.gettext
    lines: list[LineRequest] = []
    problems: dict[str, list[str]] = {}
    for line in quote.lines:
        sid = line.subscription_id
        if sid is None:
            continue
        seats_text = str(form.get(f"seats-{sid}", line.quantity)).strip()
        term_text = str(form.get(f"term-{sid}", line.term.value))
        try:
            seats = int(seats_text)
            if seats < 1:
                raise ValueError
        except ValueError:
            problems.setdefault(sid, []).append(_("Seats must be a whole number of 1 or more."))
            continue
        try:
            term = Term(term_text)
        except ValueError:
            problems.setdefault(sid, []).append(_("Choose a term from the list."))
            continue
        lines.append(LineRequest(subscription_id=sid, quantity=seats, term=term))
    return lines, problems


@router.post("/billing/quotes/{number}/buy")
async def buy(request: Request, number: str) -> Response:
    """Buy a sent quote (the checkout)."""
    return await _pay(request, number, ordering.checkout, review=False)


@router.post("/billing/quotes/{number}/pay-now")
async def pay_now(request: Request, number: str) -> Response:
    """Renew and pay now: the draft under review, as typed, sent (without mail) and bought at
    once: what is paid is what the page shows."""
    return await _pay(request, number, ordering.pay_draft, review=True)


async def _pay(
    request: Request, number: str, service: Callable[..., object], *, review: bool
) -> Response:
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    _ = here.gettext
    form = await request.form()
    if review:
        reviewed = await _reviewed(here, number, form)
        if isinstance(reviewed, Response):
            return reviewed
        quote = reviewed.quote
    else:
        found = await _quote_of_form(here, number, form)
        if isinstance(found, Response):
            return found
        quote = found
    try:
        method = PaymentMethod(str(form.get("payment_method", "")))
    except ValueError:
        return await _quote(here, quote, general=[_("Choose how to pay.")], pay=review, status=422)
    try:
        await run(
            service,
            here.db,
            here.caller,
            number,
            method,
            card_number=str(form.get("card_number", "")) or None,
            provider=request.app.state.payments,
            today=here.now.date(),
            now=here.now,
        )
    except RuleViolation as refusal:
        # Read again: a refused "pay now" leaves its quote cancelled, with the reason.
        quote = await run(quoting.get_quote, here.db, here.caller, number)
        return await _quote(here, quote, general=here.reasons(refusal.violations), status=422)
    return _see_other(f"/billing/quotes/{number}")


@router.post("/billing/quotes/{number}/replace")
async def new_address(request: Request, number: str) -> Response:
    """A sent quote's "create a new quote" to change the address: a new draft with the same
    lines and the address typed; sending it ends the old quote."""
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    form = await request.form()
    address = {field: str(form.get(field, "")).strip() for field in ADDRESS_FIELDS}
    quote = await _quote_of_form(here, number, form, typed={"address": address})
    if isinstance(quote, Response):
        return quote
    try:
        draft = await run(
            quoting.replace_quote,
            here.db,
            here.caller,
            number,
            {field: value or None for field, value in address.items()},
            today=here.now.date(),
            now=here.now,
        )
    except RuleViolation as refusal:
        general = here.reasons(refusal.violations)
        return await _quote(here, quote, general=general, typed={"address": address}, status=422)
    return _see_other(f"/billing/quotes/{draft.number}")


@router.post("/billing/quotes/{number}/cancel")
async def cancel(request: Request, number: str) -> Response:
    """Cancel a quote (the partner that made it, or staff)."""
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    form = await request.form()
    quote = await _quote_of_form(here, number, form)
    if isinstance(quote, Response):
        return quote
    try:
        await run(quoting.cancel_quote, here.db, here.caller, number, now=here.now)
    except RuleViolation as refusal:
        return await _quote(here, quote, general=here.reasons(refusal.violations), status=422)
    return _see_other(f"/billing/quotes/{number}")


@router.get("/billing/quotes/{number}/pdf")
async def quote_pdf(request: Request, number: str) -> Response:
    here = await visit(request)
    if here.caller is None:
        return _to_sign_in(request)
    try:
        printable = await run(printable_quote, here.db, here.caller, number)
    except RuleViolation:
        return _not_found(here)
    pdf = await run(render_quote_pdf, printable)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{number}.pdf"', **_NO_STORE},
    )


def _not_found(here: Visit) -> HTMLResponse:
    return here.page("not_found.html", 404)
