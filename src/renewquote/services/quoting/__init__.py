"""Quotes: what a draft asks for, creating one, and its life until it is ordered or ends."""

from renewquote.services.quoting.creation import create_quote, new_draft, replace_quote
from renewquote.services.quoting.drafts import QuoteDraft
from renewquote.services.quoting.lifecycle import (
    cancel_quote,
    edit_draft,
    expire_quotes,
    get_quote,
    quote_history,
    send_draft,
    send_quote,
)

__all__ = [
    "QuoteDraft",
    "cancel_quote",
    "create_quote",
    "edit_draft",
    "expire_quotes",
    "get_quote",
    "new_draft",
    "quote_history",
    "replace_quote",
    "send_draft",
    "send_quote",
]
