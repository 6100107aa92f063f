"""The public JSON shapes of API.md, shared by the command line and the HTTP API."""

from __future__ import annotations

from typing import Any

from renewquote.domain.errors import RuleViolation, Violation
from renewquote.domain.grouping import RenewalGroups
from renewquote.services.listing import SubscriptionStanding
from renewquote.services.ordering import OrderView
from renewquote.storage.quote_records import QuoteView


def reasons_public(reasons: tuple[Violation, ...], language: str) -> list[dict[str, Any]]:
    """Show each reason as its code and a sentence."""
    return [
        {
            "code": r.code.value,
            **({"detail": r.detail} if r.detail else {}),
            "message": r.message(language),
        }
        for r in reasons
    ]


def groups_public(result: RenewalGroups, language: str = "en") -> dict[str, Any]:
    """Shape renewal groups as `GET /api/v1/renewal-groups` answers."""

    def reasons(of: tuple[Violation, ...]) -> list[dict[str, Any]]:
        # Subscriptions alike share one tuple of reasons, and customers alike the same tuple
        # (see `group_renewals`): each is put into words once a process, found by identity.
        key = (id(of), language)
        found = _SHOWN.get(key)
        if found is None or found[0] is not of:
            if len(_SHOWN) >= _SHOWN_SIZE:
                _SHOWN.clear()
            found = _SHOWN[key] = (of, reasons_public(of, language))
        return found[1]

    return {
        "data": [
            {
                "customer_csn": g.key.customer_csn,
                "currency": g.key.currency,
                "purchase_method": g.key.purchase_method,
                "partner_csn": g.key.partner_csn,
                "subscription_ids": list(g.subscription_ids),
            }
            for g in result.groups
        ],
        "ineligible": [
            {"subscription_id": i.subscription_id, "reasons": reasons(i.reasons)}
            for i in result.ineligible
        ],
    }


# The words of recent reasons tuples, with the tuple itself (which keeps its id from being
# reused while the entry lives); read-only once made, as answers share them.
_SHOWN: dict[tuple[int, str], tuple[tuple[Violation, ...], list[dict[str, Any]]]] = {}
_SHOWN_SIZE = 4096


def quote_public(quote: QuoteView) -> dict[str, Any]:
    """Shape a quote as `GET /api/v1/quotes/{number}` answers; amounts as decimal strings."""
    return {
        "number": quote.number,
        "type": quote.type,
        "status": quote.status.value,
        "channel": quote.channel,
        "customer_csn": quote.customer_csn,
        "partner_csn": quote.partner_csn,
        "currency": quote.currency,
        "purchase_method": quote.purchase_method,
        "language": quote.language,
        "address": dict(quote.address),
        "lines": [
            {
                "kind": line.kind,
                "subscription_id": line.subscription_id,
                "align_to_subscription_id": line.align_to_subscription_id,
                "offering": {"code": line.offering_code, "name": line.offering_name},
                "quantity": line.quantity,
                "term": line.term,
                "start_date": line.start_date.isoformat(),
                "end_date": line.end_date.isoformat(),
                "unit_price": str(line.unit_price),
                "subtotal": str(line.subtotal),
                "promotion": (
                    {
                        "code": line.promotion_code,
                        "name": line.promotion_name,
                        "why": line.promotion_why,
                    }
                    if line.promotion_code
                    else None
                ),
                "discount": str(line.discount),
                "amount": str(line.amount),
                "tax": str(line.tax),
            }
            for line in quote.lines
        ],
        "subtotal": str(quote.subtotal),
        "discount_total": str(quote.discount_total),
        "tax": str(quote.tax),
        "total": str(quote.total),
        "recipients": [
            {"email": r.email, "name": r.name, "role": r.role} for r in quote.recipients
        ],
        "contact": {"email": quote.contact_email} if quote.contact_email else None,
        "expires_at": quote.expires_at.isoformat(),
        "created_at": quote.created_at.isoformat(),
        "sent_at": quote.sent_at.isoformat() if quote.sent_at else None,
        "replaces": quote.replaces,
    }


def order_public(order: OrderView) -> dict[str, Any]:
    """Shape an order as the checkout answers it."""
    return {
        "id": order.id,
        "quote_number": order.quote_number,
        "total": str(order.total),
        "currency": order.currency,
        "payment_method": order.payment_method,
        "created_at": order.created_at.isoformat(),
    }


def problem_public(error: RuleViolation, language: str = "en") -> dict[str, Any]:
    """Shape a refusal as the body of an `application/problem+json` answer."""
    return {
        "code": error.code.value,
        "detail": error.violations[0].message(language),
        "violations": [
            {
                "code": v.code.value,
                "message": v.message(language),
                "subscription_ids": list(v.subscription_ids),
            }
            for v in error.violations
        ],
    }


def subscription_public(standing: SubscriptionStanding, language: str = "en") -> dict[str, Any]:
    """Shape a subscription and its renewal standing as `GET /api/v1/subscriptions` answers."""
    s = standing.subscription
    return {
        "id": s.id,
        "customer_csn": s.customer_csn,
        "offering": {"code": s.offering_code, "name": s.offering_name},
        "quantity": s.quantity,
        "term": s.term.value,
        "currency": s.currency,
        "purchase_method": s.purchase_method.value,
        "partner_csn": s.partner_csn,
        "status": s.status.value,
        "start_date": s.start_date.isoformat(),
        "end_date": s.end_date.isoformat(),
        "payment_method": s.payment_method.value,
        "auto_renew": s.auto_renew,
        "renewal": {
            "eligible": not standing.reasons,
            "reasons": reasons_public(standing.reasons, language),
        },
    }
