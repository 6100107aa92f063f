"""The quote lifecycle as one table of allowed transitions, validity, and quote numbers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum

from renewquote.domain.errors import Code, RuleViolation


class QuoteStatus(StrEnum):
    """Where a quote stands."""

    DRAFT = "draft"
    SENT = "sent"
    ORDERED = "ordered"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"


class Action(StrEnum):
    """What can happen to a quote."""

    EDIT = "edit"
    SEND = "send"
    ORDER = "order"
    CANCEL = "cancel"
    EXPIRE = "expire"
    SUPERSEDE = "supersede"


S, A = QuoteStatus, Action
TRANSITIONS: dict[tuple[QuoteStatus, Action], QuoteStatus] = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.SEND): S.SENT,
    (S.DRAFT, A.CANCEL): S.CANCELLED,
    (S.DRAFT, A.EXPIRE): S.EXPIRED,
    (S.DRAFT, A.SUPERSEDE): S.SUPERSEDED,
    (S.SENT, A.ORDER): S.ORDERED,
    (S.SENT, A.CANCEL): S.CANCELLED,
    (S.SENT, A.EXPIRE): S.EXPIRED,
    (S.SENT, A.SUPERSEDE): S.SUPERSEDED,
}
OPEN_STATUSES = frozenset({S.DRAFT, S.SENT})

# Why an action is refused, by the state the quote is in (and, for open quotes, the action).
_ENDED = {
    S.ORDERED: Code.QUOTE_ORDERED,
    S.EXPIRED: Code.QUOTE_EXPIRED,
    S.CANCELLED: Code.QUOTE_CANCELLED,
    S.SUPERSEDED: Code.QUOTE_SUPERSEDED,
}
_REFUSED_WHILE_OPEN = {
    (S.SENT, A.EDIT): Code.QUOTE_NOT_EDITABLE,
    (S.SENT, A.SEND): Code.QUOTE_NOT_EDITABLE,
    (S.DRAFT, A.ORDER): Code.QUOTE_NOT_SENT,
}

VALIDITY = timedelta(days=30)
_NUMBER = re.compile(r"Q-([0-9]{4})-([0-9]{6,10})")
# Quote ids live in a 32-bit integer column: a larger sequence names no quote.
LAST_SEQUENCE = 2**31 - 1


def next_status(status: QuoteStatus, action: Action) -> QuoteStatus:
    """Return the status `action` leads to, or raise the code that says why it can't happen."""
    target = TRANSITIONS.get((status, action))
    if target is not None:
        return target
    code = _ENDED.get(status) or _REFUSED_WHILE_OPEN[(status, action)]
    raise RuleViolation.one(code)


def valid_until(on: date, window_closes: Iterable[date]) -> date:
    """Return a quote's last valid day: 30 days on, never past its subscriptions' windows."""
    return min([on + VALIDITY, *window_closes])


def quote_number(year: int, sequence: int) -> str:
    """Format the human-readable quote number, e.g. Q-2026-000123."""
    return f"Q-{year:04d}-{sequence:06d}"


def parse_quote_number(number: str) -> tuple[int, int] | None:
    """Return the year and sequence of a quote number, or None if it is not one."""
    match = _NUMBER.fullmatch(number)
    if match is None or int(match[2]) > LAST_SEQUENCE:
        return None
    return int(match[1]), int(match[2])
