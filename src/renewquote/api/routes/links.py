"""Each recipient's link: the sent quote as a page and as a PDF, without an account.

A `GET` only shows (and counts the view): mail scanners that open links change nothing else.
Pages carry `Referrer-Policy: no-referrer` (the token is in the address) and are not stored.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from renewquote.api.dependencies import Unsigned, run
from renewquote.delivery.formatting import day_text, money_text, percent_text
from renewquote.delivery.mail import seller_name
from renewquote.delivery.pdf import render_quote_pdf
from renewquote.delivery.templates import render
from renewquote.delivery.words import LANGUAGES, words_for
from renewquote.domain.errors import Code, RuleViolation
from renewquote.domain.model import PaymentMethod
from renewquote.services import links
from renewquote.services.documents import PrintableQuote

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Path(max_length=200)]
Lang = Annotated[str | None, Query(max_length=5)]
_PRIVATE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
CSRF_COOKIE = "rq_csrf"


@router.get("/q/{token}", response_class=HTMLResponse)
async def quote_page(
    token: Token, context: Unsigned, request: Request, lang: Lang = None
) -> Response:
    """The quote a recipient's link opens, or a page saying the link opens nothing."""
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    try:
        view = await run(links.open_link, context.db, token, now=context.now)
    except links.LinkExpired as expired:
        language = _language(lang, expired.quote.language)
        words = words_for(language)
        values = {"words": words, "language": language, "token": token, "csrf": csrf}
        html = render("links/expired.html", {**values, "links": _links_path(request)})
        response = HTMLResponse(html, status_code=404, headers=_PRIVATE)
        _keep_csrf(response, csrf, request)
        return response
    except RuleViolation:
        return _gone(lang or context.language)
    language = _language(lang, view.printable.quote.language)
    page = _page(view.printable, language, token, csrf=csrf, links=_links_path(request))
    response = HTMLResponse(render("links/quote.html", page), headers=_PRIVATE)
    _keep_csrf(response, csrf, request)
    return response


@router.post("/q/{token}/new-link", response_class=HTMLResponse)
async def new_link_page(
    token: Token,
    context: Unsigned,
    request: Request,
    csrf: Annotated[str, Form(max_length=100)] = "",
    lang: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Mail the holder of an expired link a new one (the expired page's form)."""
    language = _language(lang, context.language)
    if not _csrf_holds(request, csrf):
        return _form_expired(language)
    try:
        email = await run(links.send_new_link, context.db, token, now=context.now)
    except RuleViolation:
        return _gone(language)
    words = words_for(language)
    text = words["link.new_link_text"].format(email=_masked(email))
    return _message(language, words["link.new_link_title"], text)


def _masked(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


def _csrf_holds(request: Request, csrf: str) -> bool:
    kept = request.cookies.get(CSRF_COOKIE, "")
    return bool(kept) and secrets.compare_digest(kept.encode(), csrf.encode())


def _form_expired(language: str) -> HTMLResponse:
    words = words_for(language)
    title, text = words["link.form_expired_title"], words["link.form_expired_text"]
    return _message(language, title, text, status=403)


def _message(language: str, title: str, text: str, *, status: int = 200) -> HTMLResponse:
    """A page that says one thing: its title and a sentence."""
    values = {"words": words_for(language), "language": language, "title": title, "text": text}
    html = render("links/message.html", values)
    return HTMLResponse(html, status_code=status, headers=_PRIVATE)


@router.post("/q/{token}/checkout", response_class=HTMLResponse)
async def checkout_page(
    token: Token,
    context: Unsigned,
    request: Request,
    csrf: Annotated[str, Form(max_length=100)] = "",
    payment_method: Annotated[str, Form(max_length=20)] = "",
    card_number: Annotated[str, Form(max_length=40)] = "",
    lang: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Buy the quote a link opens: the page's form, with its CSRF token."""
    if not _csrf_holds(request, csrf):
        return _form_expired(_language(lang, context.language))
    try:
        method = PaymentMethod(payment_method)
    except ValueError:
        method = None
    try:
        if method is None:
            raise RuleViolation.one(
                Code.INVALID_INPUT, field="payment_method", problem="choose one"
            )
        order, quote = await run(
            links.checkout_by_link,
            context.db,
            token,
            method,
            card_number=card_number or None,
            provider=request.app.state.payments,
            now=context.now,
        )
    except RuleViolation as refusal:
        try:
            printable = await run(links.link_document, context.db, token, now=context.now)
        except RuleViolation:
            return _gone(lang or context.language)
        language = _language(lang, printable.quote.language)
        page = _page(
            printable,
            language,
            token,
            csrf=csrf,
            links=_links_path(request),
            problems=[v.message(language) for v in refusal.violations],
            chosen=payment_method,
        )
        return HTMLResponse(render("links/quote.html", page), status_code=422, headers=_PRIVATE)
    language = _language(lang, quote.language)
    words = words_for(language)
    total = money_text(order.total, order.currency, language)
    return _message(
        language,
        words["link.ordered_title"].format(number=quote.number),
        words["link.ordered_text"].format(order=order.id, total=total),
    )


def _keep_csrf(response: Response, csrf: str, request: Request) -> None:
    # Double submit: the form carries what this cookie holds; another site can neither read
    # it nor (SameSite=Strict) have it sent along.
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=_links_path(request),
        max_age=24 * 3600,
    )


def _links_path(request: Request) -> str:
    """Return where the link pages are, as the browser sees them: under the path of
    RENEWQUOTE_PUBLIC_URL (a proxy that serves renewquote under /renew strips it on the way)."""
    prefix: str = request.app.state.public_path
    return f"{prefix}/q"


@router.get("/q/{token}/pdf")
async def quote_pdf(token: Token, context: Unsigned) -> Response:
    """The PDF of the quote a recipient's link opens."""
    try:
        printable = await run(links.link_document, context.db, token, now=context.now)
    except RuleViolation:
        return _gone(context.language)
    pdf = await run(render_quote_pdf, printable)
    number = printable.quote.number
    headers = {**_PRIVATE, "Content-Disposition": f'inline; filename="{number}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


def _language(asked: str | None, default: str) -> str:
    if asked in LANGUAGES:
        return str(asked)
    return default if default in LANGUAGES else "en"


def _gone(language: str) -> HTMLResponse:
    language = _language(language, "en")
    html = render("links/gone.html", {"words": words_for(language), "language": language})
    return HTMLResponse(html, status_code=404, headers=_PRIVATE)


def _page(
    printable: PrintableQuote,
    language: str,
    token: str,
    *,
    csrf: str,
    links: str,
    problems: list[str] | None = None,
    chosen: str = "card",
) -> dict[str, object]:
    quote = printable.quote
    words = words_for(language)
    methods = [PaymentMethod.CARD, PaymentMethod.PAYPAL]
    if printable.customer.pays_by_invoice:
        methods.append(PaymentMethod.INVOICE)

    def money(amount: Decimal) -> str:
        return money_text(amount, quote.currency, language)

    return {
        "words": words,
        "language": language,
        "languages": [(code, "English" if code == "en" else "Français") for code in LANGUAGES],
        "token": token,
        "links": links,
        "title": words["link.title"].format(number=quote.number),
        "for_whom": words["link.for"].format(
            customer=printable.customer.name, seller=seller_name(printable)
        ),
        "status": words[f"status.{quote.status.value}"],
        "valid_until": day_text(quote.expires_at, language),
        "lines": [
            {
                "name": line.offering_name,
                "subscription": line.subscription_id or "",
                "seats": line.quantity,
                "term": words[f"term.{line.term.value}"],
                "period": f"{day_text(line.start_date, language)} – "
                f"{day_text(line.end_date, language)}",
                "unit_price": money(line.unit_price),
                "discount": money(line.discount) if line.discount else "",
                "promotion": line.promotion_name,
                "amount": money(line.amount),
            }
            for line in quote.lines
        ],
        "subtotal": money(quote.subtotal),
        "discounts": money(quote.discount_total) if quote.discount_total else "",
        "tax": money(quote.tax),
        "tax_label": words["tax"].format(rate=percent_text(quote.tax_rate, language)),
        "total": money(quote.total),
        "buy_text": words["link.buy_text"],
        "csrf": csrf,
        "methods": [(m.value, words[f"pay.{m.value}"]) for m in methods],
        "chosen": chosen if chosen in {m.value for m in methods} else "card",
        "problems": problems or [],
        "buy_label": words["link.buy_button"].format(total=money(quote.total)),
    }
