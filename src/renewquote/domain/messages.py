"""Sentences for every rule code, filled with the violation's details: English here, French
in the gettext catalog (context `rule`; `domain/translations.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache, lru_cache

from babel.dates import format_date

from renewquote.domain.translations import LANGUAGES, NC_, translations

__all__ = ["LANGUAGES", "MESSAGES", "WORDS", "render"]

# Keyed by code, or by "code.detail" where one code has several distinct reasons.
MESSAGES: dict[str, str] = {
    "region_not_enabled": NC_(
        "rule",
        "Self-service quotes are not available in your country ({country}); please contact a "
        "partner to renew.",
    ),
    "not_renewable": NC_("rule", "This subscription cannot be renewed on a quote now."),
    "not_renewable.window_not_open": NC_(
        "rule", "Renewal opens on {opens}, 90 days before the end date ({end_date})."
    ),
    "not_renewable.window_closed": NC_(
        "rule", "The renewal window closed on {closes}; the subscription ended on {end_date}."
    ),
    "not_renewable.cancelled": NC_(
        "rule", "This subscription was cancelled and cannot be renewed."
    ),
    "not_renewable.already_renewed": NC_(
        "rule",
        "Already renewed for the next term (until {end_date}); the next renewal opens on {opens}.",
    ),
    "mixed_quote_types": NC_(
        "rule", "Renewals cannot be combined with new-subscription or co-term lines on one quote."
    ),
    "mixed_customer": NC_(
        "rule", "Every subscription on a quote must belong to the same customer number (CSN)."
    ),
    "mixed_currency": NC_("rule", "Every subscription on a quote must be in the same currency."),
    "currency_change": NC_(
        "rule", "The currency cannot change: this subscription is billed in {currency}."
    ),
    "mixed_partner": NC_(
        "rule", "Every subscription on a quote must have the same reseller of record (partner CSN)."
    ),
    "mixed_purchase_method": NC_(
        "rule", "A quote holds subscriptions of one purchase method only."
    ),
    "seat_increase": NC_(
        "rule", "Seats cannot be added on a renewal: choose between 1 and {current} seats."
    ),
    "ineligible_offering": NC_(
        "rule",
        "Success plans and value-based (flex) buying options cannot be quoted in self-service.",
    ),
    "new_credit_line": NC_(
        "rule",
        "Paying by invoice needs an existing line of credit; pay by card or PayPal, or contact "
        "a partner.",
    ),
    "start_date_not_allowed": NC_(
        "rule", "Scheduled start dates are not possible: this line starts on {expected}."
    ),
    "address_locked": NC_(
        "rule", "The address of a sent quote cannot change; create a new quote instead."
    ),
    "cancellation_not_self_service": NC_(
        "rule", "Only your partner or the vendor can cancel a quote."
    ),
    "too_many_recipients": NC_("rule", "Too many quote recipients: at most {limit}."),
    "too_many_lines": NC_("rule", "A quote holds at most {limit} subscriptions."),
    "quote_not_editable": NC_(
        "rule", "Only a draft quote can be changed; a sent quote is replaced by a new one."
    ),
    "quote_expired": NC_("rule", "This quote expired on {expires_at}."),
    "quote_expired.plain": NC_("rule", "This quote has expired."),
    "quote_superseded": NC_("rule", "This quote was superseded by another order or quote."),
    "card_limit_exceeded": NC_(
        "rule", "Quotes above {limit} {currency} cannot be paid by card or PayPal."
    ),
    "quote_not_sent": NC_("rule", "The quote must be sent before it can be ordered."),
    "quote_not_sent.replace": NC_(
        "rule", "Only a sent quote is replaced; a draft's address is changed by editing it."
    ),
    "quote_ordered": NC_("rule", "This quote has already been ordered."),
    "quote_cancelled": NC_("rule", "This quote was cancelled."),
    "empty_quote": NC_("rule", "A quote needs at least one line."),
    "duplicate_line": NC_("rule", "A subscription appears more than once on the quote."),
    "coterm_mismatch": NC_(
        "rule",
        "End dates can only be aligned with an active subscription of the same term and "
        "payment method.",
    ),
    "price_not_found": NC_("rule", "{offering} is not sold on {term} in {currency}."),
    "unknown_contact": NC_("rule", "{email} is not a contact of the customer's company."),
    "invalid_input": NC_("rule", "{field}: {problem}"),
    "payment_declined": NC_("rule", "The payment was declined: {reason}"),
    "not_found": NC_("rule", "No such {thing}."),
    "unauthenticated": NC_("rule", "Sign in first: {why}"),
    "rate_limited": NC_("rule", "Too many attempts; try again in {retry_after} seconds."),
    "idempotency_key_reused": NC_(
        "rule", "This Idempotency-Key was already used with another request."
    ),
    "idempotency_in_progress": NC_(
        "rule", "A request with this Idempotency-Key is still being processed; retry shortly."
    ),
    "malformed_json": NC_("rule", "The request body is not valid JSON: {problem}"),
    "payload_too_large": NC_("rule", "The request body is larger than {limit} bytes."),
    "headers_too_large": NC_("rule", "The request's headers are larger than {limit} bytes."),
    "not_quote_maker": NC_(
        "rule",
        "Only the party that made this quote can change it; you may view it, and buy it once "
        "it is sent.",
    ),
    "webhook_url_not_allowed": NC_("rule", "Webhooks cannot be sent to {url}: {why}."),
    "forbidden": NC_("rule", "You may see this but not do that: {why}"),
}


# Words a parameter stands for, where the sentence needs them translated.
WORDS: dict[str, dict[str, str]] = {
    "term": {
        "monthly": NC_("rule", "a monthly term"),
        "annual": NC_("rule", "an annual term"),
        "3-year": NC_("rule", "a 3-year term"),
    },
    "thing": {
        "customer": NC_("rule", "customer"),
        "subscription": NC_("rule", "subscription"),
        "quote": NC_("rule", "quote"),
        "user": NC_("rule", "user"),
        "page": NC_("rule", "page"),
        "webhook endpoint": NC_("rule", "webhook endpoint"),
    },
}


# Parameters whose text a service wrote in English (marked for the catalog where it did).
_FREE_TEXT = frozenset({"problem", "why"})


def _shown(name: str, value: object, language: str) -> object:
    if isinstance(value, date):
        return _long_date(value, language)
    if name in _FREE_TEXT and isinstance(value, str):
        return translations(language).pgettext("rule", value)
    english = WORDS.get(name, {}).get(str(value))
    return value if english is None else translations(language).pgettext("rule", english)


@cache
def _long_date(value: date, language: str) -> str:
    # Babel takes tens of microseconds a date; lists repeat the same few dates many times.
    return format_date(value, format="long", locale=language)


def render(code: str, detail: str | None, language: str, params: Mapping[str, object]) -> str:
    """Fill the sentence for `code` (and its `detail`) in `language`, English by default."""
    # Each value with its type and text: equal values can be written apart (5000 and 5000.00,
    # 1 and True) and must not share a sentence.
    key = tuple((name, value, type(value), str(value)) for name, value in params.items())
    try:
        return _rendered(code, detail, language, key)
    except TypeError:  # a parameter that cannot be a key (a list): put into words each time
        return _render(code, detail, language, params)


# Lists of subscriptions say the same few sentences over and over (every answer of a
# GET /renewal-groups puts ten or so into words): each is filled once in a process.
@lru_cache(maxsize=4096)
def _rendered(
    code: str,
    detail: str | None,
    language: str,
    key: tuple[tuple[str, object, type, str], ...],
) -> str:
    return _render(code, detail, language, {name: value for name, value, _, _ in key})


def _render(code: str, detail: str | None, language: str, params: Mapping[str, object]) -> str:
    lang = language if language in LANGUAGES else "en"
    shown = {key: _shown(key, value, lang) for key, value in params.items()}
    # The most precise sentence whose parameters are all given: a sentence missing a detail
    # still says what rule was broken, in words rather than as a bare code.
    catalog = translations(lang)
    for key in (f"{code}.{detail}", code, f"{code}.plain"):
        english = MESSAGES.get(key)
        if english is None:
            continue
        try:
            return catalog.pgettext("rule", english).format_map(shown)
        except KeyError:
            continue
    return code
