"""Building a quote: every rule checked at once, then every line priced."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from renewquote.domain.eligibility import own_reasons, region_reasons, renewal_window
from renewquote.domain.errors import Code, RuleViolation, Violation, violation
from renewquote.domain.grouping import MAX_LINES_PER_QUOTE
from renewquote.domain.lifecycle import valid_until
from renewquote.domain.model import (
    Channel,
    Customer,
    LineKind,
    OfferingKind,
    PaymentMethod,
    Price,
    Promotion,
    PurchaseMethod,
    QuoteType,
    Subscription,
    SubscriptionStatus,
    Term,
)
from renewquote.domain.pricing import LinePricing, PricedLine, Totals, price_line, totals

SELF_SERVICE_RECIPIENTS = 4
PARTNER_EXTRA_RECIPIENTS = 5
# Far above any real order; beyond it a line's amount outgrows Decimal's 28 digits.
MAX_SEATS_PER_LINE = 1_000_000


@dataclass(frozen=True, slots=True)
class LineRequest:
    """One line asked for: a subscription to renew, or an offering to buy (maybe co-termed)."""

    subscription_id: str | None = None
    offering_code: str | None = None
    quantity: int | None = None
    term: Term | None = None
    start_date: date | None = None
    align_to_subscription_id: str | None = None

    @property
    def kind(self) -> LineKind:
        """Tell what the line does from what it names."""
        if self.subscription_id is not None:
            return LineKind.RENEWAL
        if self.align_to_subscription_id is not None:
            return LineKind.CO_TERM
        return LineKind.NEW


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """A quote asked for, before any rule is checked."""

    type: QuoteType
    lines: tuple[LineRequest, ...]
    currency: str | None = None
    recipients: tuple[str, ...] = ()
    contact_email: str | None = None


@dataclass(frozen=True, slots=True)
class Offering:
    """An offering of the catalogue."""

    code: str
    name: str
    kind: OfferingKind


@dataclass(frozen=True, slots=True)
class QuoteContext:
    """Everything the rules need to judge and price a quote; subscriptions are those visible."""

    channel: Channel
    customer: Customer
    today: date
    subscriptions: Mapping[str, Subscription]
    offerings: Mapping[str, Offering]
    prices: Mapping[tuple[str, Term, str], Price]
    promotions: Sequence[Promotion]
    contact_emails: frozenset[str] = frozenset()
    partner_csn: str | None = None
    buyer_email: str | None = None


@dataclass(frozen=True, slots=True)
class PricedQuote:
    """A quote that passed every rule, priced line by line."""

    type: QuoteType
    customer_csn: str
    partner_csn: str | None
    currency: str
    purchase_method: PurchaseMethod
    lines: tuple[PricedLine, ...]
    totals: Totals
    expires_at: date


def build_quote(request: QuoteRequest, ctx: QuoteContext) -> PricedQuote:
    """Check every rule of RULES.md on `request` and price it, or raise all violations at once.

    More than 100 lines is refused as such: the lines themselves are not judged.
    """
    if len(request.lines) > MAX_LINES_PER_QUOTE:
        raise RuleViolation([violation(Code.TOO_MANY_LINES, limit=MAX_LINES_PER_QUOTE)])
    problems: list[Violation] = [*region_reasons(ctx.customer, ctx.channel)]
    problems += _shape_problems(request)
    problems += recipient_problems(
        ctx.channel, request.recipients, request.contact_email, ctx.contact_emails, ctx.buyer_email
    )
    lines: list[LinePricing] = []
    line_subs: list[Subscription] = []
    for line in request.lines:
        pricing, sub, sub_problems = _line(line, request, ctx)
        problems += sub_problems
        # A line with its own problems still counts when comparing lines (currency, customer...).
        if sub is not None:
            line_subs.append(sub)
        if pricing is not None:
            lines.append(pricing)
    currency, purchase_method, partner_csn, mixed = _shared(line_subs, request, ctx)
    problems += mixed
    if problems:
        raise RuleViolation(_merged(problems))
    assert currency is not None and purchase_method is not None  # a quote has lines by now
    priced = tuple(
        price_line(
            line,
            currency=currency,
            country=ctx.customer.country,
            tax_rate=ctx.customer.tax_rate,
            promotions=ctx.promotions,
            today=ctx.today,
        )
        for line in lines
    )
    return PricedQuote(
        type=request.type,
        customer_csn=ctx.customer.csn,
        partner_csn=partner_csn,
        currency=currency,
        purchase_method=purchase_method,
        lines=priced,
        totals=totals(priced, currency),
        expires_at=quote_expiry(ctx.today, line_subs, priced),
    )


def quote_expiry(
    on: date, subscriptions: Sequence[Subscription | None], lines: Sequence[PricedLine]
) -> date:
    """Return the last valid day of a quote made or sent on `on`: `subscriptions` are those
    the lines renew or align to (None for a new subscription)."""
    closes = [
        renewal_window(sub.end_date, sub.term)[1]
        for sub, line in zip(subscriptions, lines, strict=True)
        if sub is not None and line.kind is LineKind.RENEWAL
    ]
    return valid_until(on, closes)


def _shape_problems(request: QuoteRequest) -> list[Violation]:
    problems: list[Violation] = []
    if not request.lines:
        problems.append(violation(Code.EMPTY_QUOTE))
    kinds = {line.kind for line in request.lines}
    renewal_only = request.type is QuoteType.RENEWAL
    if (renewal_only and kinds - {LineKind.RENEWAL}) or (
        not renewal_only and LineKind.RENEWAL in kinds
    ):
        problems.append(violation(Code.MIXED_QUOTE_TYPES))
    seen: set[str] = set()
    duplicates: list[str] = []
    for line in request.lines:
        if line.subscription_id is None:
            continue
        if line.subscription_id in seen:
            duplicates.append(line.subscription_id)
        seen.add(line.subscription_id)
    if duplicates:
        problems.append(violation(Code.DUPLICATE_LINE, *duplicates))
    return problems


def recipient_problems(
    channel: Channel,
    recipients: Sequence[str],
    contact_email: str | None,
    contact_emails: frozenset[str],
    buyer_email: str | None = None,
) -> list[Violation]:
    """Check the recipients: the buyer plus 4 in self-service, a contact plus 5 for partners."""
    others = {r.lower() for r in recipients} - {(buyer_email or "").lower()}
    if channel is Channel.SELF_SERVICE:
        limit = SELF_SERVICE_RECIPIENTS
    else:
        limit = PARTNER_EXTRA_RECIPIENTS
        others.discard((contact_email or "").lower())
    problems: list[Violation] = []
    if len(others) > limit:
        problems.append(violation(Code.TOO_MANY_RECIPIENTS, limit=limit, given=len(others)))
    if contact_email is not None and contact_email.lower() not in contact_emails:
        problems.append(violation(Code.UNKNOWN_CONTACT, email=contact_email))
    return problems


_Line = tuple[LinePricing | None, Subscription | None, list[Violation]]


def _line(line: LineRequest, request: QuoteRequest, ctx: QuoteContext) -> _Line:
    if line.kind is LineKind.RENEWAL:
        return _renewal_line(line, request, ctx)
    return _new_line(line, request, ctx)


def _renewal_line(line: LineRequest, request: QuoteRequest, ctx: QuoteContext) -> _Line:
    sid = line.subscription_id
    assert sid is not None
    sub = ctx.subscriptions.get(sid)
    if sub is None:
        return None, None, [violation(Code.NOT_FOUND, sid, thing="subscription")]
    # The customer's region was judged once for the whole quote.
    problems = list(own_reasons(sub, ctx.channel, ctx.today))
    quantity = sub.quantity if line.quantity is None else line.quantity
    if not 1 <= quantity <= sub.quantity:
        problems.append(violation(Code.SEAT_INCREASE, sid, current=sub.quantity, asked=quantity))
    if request.currency is not None and request.currency != sub.currency:
        problems.append(violation(Code.CURRENCY_CHANGE, sid, currency=sub.currency))
    start = sub.end_date + timedelta(days=1)
    if line.start_date is not None and line.start_date != start:
        problems.append(violation(Code.START_DATE_NOT_ALLOWED, sid, expected=start))
    term = line.term or sub.term
    price = ctx.prices.get((sub.offering_code, term, sub.currency))
    if price is None:
        problems.append(
            violation(
                Code.PRICE_NOT_FOUND,
                sid,
                offering=sub.offering_code,
                term=term.value,
                currency=sub.currency,
            )
        )
    if problems or price is None:
        return None, sub, problems
    pricing = LinePricing(
        kind=LineKind.RENEWAL,
        offering_code=sub.offering_code,
        offering_name=sub.offering_name,
        quantity=quantity,
        term=term,
        start_date=start,
        end_date=term.end_for(start),
        unit_price=price.for_line(LineKind.RENEWAL),
        subscription_id=sid,
    )
    return pricing, sub, []


def _new_line(line: LineRequest, request: QuoteRequest, ctx: QuoteContext) -> _Line:
    problems: list[Violation] = []
    anchor: Subscription | None = None
    if line.align_to_subscription_id is not None:
        aid = line.align_to_subscription_id
        anchor = ctx.subscriptions.get(aid)
        if anchor is None:
            return None, None, [violation(Code.NOT_FOUND, aid, thing="subscription")]
        if (
            anchor.status is not SubscriptionStatus.ACTIVE
            or anchor.end_date < ctx.today
            or (line.term is not None and line.term is not anchor.term)
        ):
            problems.append(violation(Code.COTERM_MISMATCH, aid))
    offering = ctx.offerings.get(line.offering_code or "")
    if offering is None:
        unknown = f"unknown offering {line.offering_code!r}"
        return (
            None,
            anchor,
            [*problems, violation(Code.INVALID_INPUT, field="offering", problem=unknown)],
        )
    if ctx.channel.customer_rules and offering.kind is not OfferingKind.STANDARD:
        problems.append(violation(Code.INELIGIBLE_OFFERING, kind=offering.kind.value))
    term = line.term or (anchor.term if anchor else None)
    if term is None:
        problems.append(
            violation(Code.INVALID_INPUT, field="term", problem="a new line needs a term")
        )
    currency = anchor.currency if anchor else request.currency
    if currency is None:
        problems.append(
            violation(Code.INVALID_INPUT, field="currency", problem="a new quote needs a currency")
        )
    elif anchor is not None and request.currency not in (None, anchor.currency):
        problems.append(violation(Code.CURRENCY_CHANGE, anchor.id, currency=anchor.currency))
    quantity = line.quantity or 0
    if quantity < 1:
        problems.append(
            violation(Code.INVALID_INPUT, field="quantity", problem="at least one seat")
        )
    elif quantity > MAX_SEATS_PER_LINE:
        problems.append(
            violation(
                Code.INVALID_INPUT,
                field="quantity",
                problem=f"at most {MAX_SEATS_PER_LINE} seats",
            )
        )
    if line.start_date is not None and line.start_date != ctx.today:
        problems.append(violation(Code.START_DATE_NOT_ALLOWED, expected=ctx.today))
    price = ctx.prices.get((offering.code, term, currency)) if term and currency else None
    if term is not None and currency is not None and price is None:
        problems.append(
            violation(
                Code.PRICE_NOT_FOUND, offering=offering.code, term=term.value, currency=currency
            )
        )
    if problems or price is None or term is None:
        return None, anchor, problems
    kind = LineKind.CO_TERM if anchor else LineKind.NEW
    pricing = LinePricing(
        kind=kind,
        offering_code=offering.code,
        offering_name=offering.name,
        quantity=quantity,
        term=term,
        start_date=ctx.today,
        end_date=anchor.end_date if anchor else term.end_for(ctx.today),
        unit_price=price.new,
        align_to_subscription_id=anchor.id if anchor else None,
    )
    return pricing, anchor or _bought(offering, term, price.currency, quantity, ctx), []


def _bought(
    offering: Offering, term: Term, currency: str, quantity: int, ctx: QuoteContext
) -> Subscription:
    # A new line has no subscription yet: this stands for the one the order will open.
    start = ctx.today
    partner = ctx.partner_csn if ctx.channel is Channel.PARTNER else None
    return Subscription(
        id="",
        customer_csn=ctx.customer.csn,
        offering_code=offering.code,
        offering_name=offering.name,
        offering_kind=offering.kind,
        quantity=quantity,
        term=term,
        currency=currency,
        purchase_method=PurchaseMethod.PARTNER if partner else PurchaseMethod.DIRECT,
        partner_csn=partner,
        start_date=start,
        end_date=term.end_for(start),
        status=SubscriptionStatus.ACTIVE,
        payment_method=PaymentMethod.CARD,
    )


def _shared(
    subs: Sequence[Subscription], request: QuoteRequest, ctx: QuoteContext
) -> tuple[str | None, PurchaseMethod | None, str | None, list[Violation]]:
    """Find what every line shares, reporting each way the lines differ."""
    ids = tuple(s.id for s in subs if s.id)
    problems: list[Violation] = []
    customers = {s.customer_csn for s in subs} | {ctx.customer.csn}
    if len(customers) > 1:
        problems.append(violation(Code.MIXED_CUSTOMER, *ids))
    currencies = {s.currency for s in subs}
    if len(currencies) > 1:
        problems.append(violation(Code.MIXED_CURRENCY, *ids))
    partners = {s.partner_csn for s in subs}
    if len(partners) > 1:
        problems.append(violation(Code.MIXED_PARTNER, *ids))
    methods = {s.purchase_method for s in subs}
    if len(methods) > 1:
        problems.append(violation(Code.MIXED_PURCHASE_METHOD, *ids))
    if ctx.channel is Channel.PARTNER and any(p != ctx.partner_csn for p in partners):
        problems.append(violation(Code.MIXED_PARTNER, *ids))
    if not subs:
        return request.currency, None, None, problems
    first = subs[0]
    return first.currency, first.purchase_method, first.partner_csn, problems


def _merged(problems: list[Violation]) -> list[Violation]:
    """Report each code and reason once, naming every subscription it concerns."""
    merged: dict[tuple[Code, str | None, tuple[tuple[str, str], ...]], Violation] = {}
    for p in problems:
        key = (p.code, p.detail, tuple(sorted((k, str(v)) for k, v in p.params.items())))
        if key in merged:
            old = merged[key]
            ids = old.subscription_ids + tuple(
                i for i in p.subscription_ids if i not in old.subscription_ids
            )
            merged[key] = Violation(old.code, ids, old.detail, old.params)
        else:
            merged[key] = p
    return list(merged.values())


def payment_problems(
    *,
    method: PaymentMethod,
    total: Decimal,
    currency: str,
    card_limit: Decimal | None,
    channel: Channel,
    customer: Customer,
    coterm_payment_methods: frozenset[PaymentMethod] = frozenset(),
) -> list[Violation]:
    """Check how a quote is paid: no new credit line, card and PayPal only up to the limit."""
    problems: list[Violation] = []
    if method is PaymentMethod.INVOICE and channel.customer_rules and not customer.pays_by_invoice:
        problems.append(violation(Code.NEW_CREDIT_LINE))
    if (
        method in (PaymentMethod.CARD, PaymentMethod.PAYPAL)
        and card_limit is not None
        and total > card_limit
    ):
        problems.append(violation(Code.CARD_LIMIT_EXCEEDED, limit=card_limit, currency=currency))
    if coterm_payment_methods and coterm_payment_methods != {method}:
        problems.append(violation(Code.COTERM_MISMATCH))
    return problems
