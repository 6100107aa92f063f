"""The quote lifecycle: one table of transitions, validity, and quote numbers."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewquote.domain.errors import Code, Kind, RuleViolation
from renewquote.domain.lifecycle import (
    OPEN_STATUSES,
    Action,
    QuoteStatus,
    next_status,
    parse_quote_number,
    quote_number,
    valid_until,
)

S, A = QuoteStatus, Action

ALLOWED = [
    (S.DRAFT, A.EDIT, S.DRAFT),
    (S.DRAFT, A.SEND, S.SENT),
    (S.DRAFT, A.CANCEL, S.CANCELLED),
    (S.DRAFT, A.EXPIRE, S.EXPIRED),
    (S.DRAFT, A.SUPERSEDE, S.SUPERSEDED),
    (S.SENT, A.ORDER, S.ORDERED),
    (S.SENT, A.CANCEL, S.CANCELLED),
    (S.SENT, A.EXPIRE, S.EXPIRED),
    (S.SENT, A.SUPERSEDE, S.SUPERSEDED),
]

ENDED = {
    S.ORDERED: Code.QUOTE_ORDERED,
    S.EXPIRED: Code.QUOTE_EXPIRED,
    S.CANCELLED: Code.QUOTE_CANCELLED,
    S.SUPERSEDED: Code.QUOTE_SUPERSEDED,
}
REFUSED = [
    (S.DRAFT, A.ORDER, Code.QUOTE_NOT_SENT),
    (S.SENT, A.EDIT, Code.QUOTE_NOT_EDITABLE),
    (S.SENT, A.SEND, Code.QUOTE_NOT_EDITABLE),
    *[(status, action, code) for status, code in ENDED.items() for action in Action],
]


@pytest.mark.parametrize(("status", "action", "target"), ALLOWED)
def test_an_allowed_transition_leads_to_its_status(
    status: QuoteStatus, action: Action, target: QuoteStatus
) -> None:
    assert next_status(status, action) is target


@pytest.mark.parametrize(("status", "action", "code"), REFUSED)
def test_a_refused_transition_says_why(status: QuoteStatus, action: Action, code: Code) -> None:
    with pytest.raises(RuleViolation) as caught:
        next_status(status, action)
    assert caught.value.code is code
    assert caught.value.kind is Kind.STATE


def test_every_status_and_action_is_either_allowed_or_refused() -> None:
    table = {(s, a) for s, a, _ in ALLOWED} | {(s, a) for s, a, _ in REFUSED}
    assert table == {(s, a) for s in QuoteStatus for a in Action}
    assert len(ALLOWED) + len(REFUSED) == len(QuoteStatus) * len(Action)


def test_a_sent_quote_is_not_edited_but_replaced() -> None:
    with pytest.raises(RuleViolation) as caught:
        next_status(S.SENT, A.EDIT)
    assert caught.value.code is Code.QUOTE_NOT_EDITABLE


def test_an_expired_quote_cannot_be_ordered() -> None:
    with pytest.raises(RuleViolation) as caught:
        next_status(S.EXPIRED, A.ORDER)
    assert caught.value.code is Code.QUOTE_EXPIRED


def test_a_superseded_quote_cannot_be_ordered() -> None:
    with pytest.raises(RuleViolation) as caught:
        next_status(S.SUPERSEDED, A.ORDER)
    assert caught.value.code is Code.QUOTE_SUPERSEDED


def test_a_draft_must_be_sent_before_it_is_ordered() -> None:
    with pytest.raises(RuleViolation) as caught:
        next_status(S.DRAFT, A.ORDER)
    assert caught.value.code is Code.QUOTE_NOT_SENT


def test_only_drafts_and_sent_quotes_are_open() -> None:
    assert frozenset({S.DRAFT, S.SENT}) == OPEN_STATUSES


@pytest.mark.parametrize(("status", "code"), list(ENDED.items()))
def test_a_refusal_of_an_ended_quote_reads_as_a_sentence(status: QuoteStatus, code: Code) -> None:
    with pytest.raises(RuleViolation) as caught:
        next_status(status, A.ORDER)
    for language in ("en", "fr"):
        message = caught.value.violations[0].message(language)
        assert message != code.value
        assert "{" not in message
        assert message.endswith(".")


def test_a_quote_is_valid_30_days_from_the_day_it_is_sent() -> None:
    assert valid_until(date(2026, 11, 15), []) == date(2026, 12, 15)
    assert valid_until(date(2027, 1, 31), []) == date(2027, 3, 2)


def test_a_quote_is_never_valid_past_the_earliest_window_close() -> None:
    closes = [date(2026, 12, 10), date(2026, 12, 4), date(2027, 1, 1)]
    assert valid_until(date(2026, 11, 15), closes) == date(2026, 12, 4)


def test_a_window_closing_after_30_days_does_not_extend_the_quote() -> None:
    assert valid_until(date(2026, 11, 15), [date(2027, 2, 14)]) == date(2026, 12, 15)


def test_a_window_closing_on_the_thirtieth_day_gives_the_same_last_day() -> None:
    assert valid_until(date(2026, 11, 15), [date(2026, 12, 15)]) == date(2026, 12, 15)


def test_quote_numbers_are_human_readable() -> None:
    assert quote_number(2026, 123) == "Q-2026-000123"
    assert quote_number(2026, 1234567) == "Q-2026-1234567"


def test_a_quote_number_reads_back_as_its_year_and_sequence() -> None:
    assert parse_quote_number("Q-2026-000123") == (2026, 123)


@pytest.mark.parametrize(
    "text",
    [
        "Q-26-000123",
        "Q-2026-123",
        "X-2026-000123",
        "Q-2026-000123x",
        "q-2026-000123",
        " Q-2026-000123",
        "Q-2026-000123\n",
        "",
    ],
)
def test_what_is_not_a_quote_number_reads_as_none(text: str) -> None:
    assert parse_quote_number(text) is None


@given(year=st.integers(1, 9999), sequence=st.integers(0, 10**9))
def test_a_quote_number_round_trips(year: int, sequence: int) -> None:
    assert parse_quote_number(quote_number(year, sequence)) == (year, sequence)
