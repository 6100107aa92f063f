"""Every rule speaks English and French, with its details filled in (dates through Babel)."""

from __future__ import annotations

import string
from datetime import date
from decimal import Decimal

import pytest

from renewquote.domain.errors import Code, Kind, RuleViolation, Violation, kind_of, violation
from renewquote.domain.messages import LANGUAGES, MESSAGES, render
from renewquote.domain.translations import translations


@pytest.mark.parametrize("code", list(Code))
def test_every_code_has_an_english_and_a_french_message(code: Code) -> None:
    english = MESSAGES[code.value]
    french = translations("fr").pgettext("rule", english)
    assert french != english  # the French catalog has it


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_names_the_same_parameters_in_both_languages(key: str) -> None:
    def fields(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    english = MESSAGES[key]
    assert fields(english) == fields(translations("fr").pgettext("rule", english))


def test_every_message_belongs_to_a_code() -> None:
    known = {c.value for c in Code}
    assert {key.split(".")[0] for key in MESSAGES} <= known
    assert set(LANGUAGES) == {"en", "fr"}


def test_a_window_not_yet_open_shows_its_dates_in_each_language() -> None:
    v = violation(
        Code.NOT_RENEWABLE,
        "SUB-1",
        detail="window_not_open",
        opens=date(2026, 10, 2),
        end_date=date(2026, 12, 31),
    )
    assert v.message("en") == (
        "Renewal opens on October 2, 2026, 90 days before the end date (December 31, 2026)."
    )
    assert v.message("fr") == (
        "Le renouvellement ouvre le 2 octobre 2026, 90 jours avant la date de fin "
        "(31 décembre 2026)."
    )


def test_a_closed_window_shows_when_it_closed() -> None:
    v = violation(
        Code.NOT_RENEWABLE,
        detail="window_closed",
        closes=date(2027, 2, 14),
        end_date=date(2026, 12, 31),
    )
    assert v.message("en") == (
        "The renewal window closed on February 14, 2027; the subscription ended on "
        "December 31, 2026."
    )
    assert v.message("fr") == (
        "La période de renouvellement s'est terminée le 14 février 2027 ; "
        "l'abonnement a pris fin le 31 décembre 2026."
    )


def test_an_already_renewed_subscription_says_when_it_can_renew_next() -> None:
    v = violation(
        Code.NOT_RENEWABLE,
        detail="already_renewed",
        opens=date(2027, 10, 2),
        end_date=date(2027, 12, 31),
    )
    assert v.message("en") == (
        "Already renewed for the next term (until December 31, 2027); "
        "the next renewal opens on October 2, 2027."
    )


def test_a_cancelled_subscription_says_so_in_french() -> None:
    v = violation(Code.NOT_RENEWABLE, detail="cancelled")
    assert v.message("fr") == "Cet abonnement a été résilié et ne peut pas être renouvelé."


def test_a_seat_increase_names_the_current_seats() -> None:
    v = violation(Code.SEAT_INCREASE, "SUB-1", current=5, asked=6)
    assert v.message("en") == "Seats cannot be added on a renewal: choose between 1 and 5 seats."
    assert v.message("fr") == (
        "Impossible d'ajouter des postes lors d'un renouvellement : choisissez entre 1 et 5 postes."
    )


def test_a_scheduled_start_names_the_only_start_allowed() -> None:
    v = violation(Code.START_DATE_NOT_ALLOWED, expected=date(2027, 1, 1))
    assert v.message("en") == (
        "Scheduled start dates are not possible: this line starts on January 1, 2027."
    )
    assert v.message("fr") == (
        "Les dates de début prévues ne sont pas possibles : cette ligne commence le 1 janvier 2027."
    )


def test_region_not_enabled_names_the_country() -> None:
    v = violation(Code.REGION_NOT_ENABLED, country="BR")
    assert v.message("en") == (
        "Self-service quotes are not available in your country (BR); "
        "please contact a partner to renew."
    )


def test_card_limit_names_the_limit_and_currency_in_french() -> None:
    v = violation(Code.CARD_LIMIT_EXCEEDED, limit=Decimal("25000.00"), currency="USD")
    assert v.message("fr") == (
        "Les devis de plus de 25000.00 USD ne peuvent pas être payés par carte ou PayPal."
    )


def test_an_expired_quote_names_its_last_day() -> None:
    v = violation(Code.QUOTE_EXPIRED, expires_at=date(2026, 12, 15))
    assert v.message("en") == "This quote expired on December 15, 2026."
    assert v.message("fr") == "Ce devis a expiré le 15 décembre 2026."


def test_an_expired_quote_without_its_date_still_reads_as_a_sentence() -> None:
    v = violation(Code.QUOTE_EXPIRED)
    assert v.message("en") == "This quote has expired."
    assert v.message("fr") == "Ce devis a expiré."


def test_an_unknown_language_falls_back_to_english() -> None:
    assert violation(Code.EMPTY_QUOTE).message("de") == "A quote needs at least one line."


def test_an_unknown_detail_falls_back_to_the_code_s_sentence() -> None:
    v = violation(Code.NOT_RENEWABLE, detail="something_new")
    assert v.message("en") == "This subscription cannot be renewed on a quote now."


def test_a_detail_missing_its_parameters_falls_back_to_the_code_s_sentence() -> None:
    v = violation(Code.NOT_RENEWABLE, detail="window_not_open")
    assert v.message("en") == "This subscription cannot be renewed on a quote now."


def test_render_takes_codes_as_plain_text() -> None:
    assert render("too_many_lines", None, "fr", {"limit": 100}) == (
        "Un devis contient au maximum 100 abonnements."
    )


def test_a_refusal_needs_at_least_one_violation() -> None:
    with pytest.raises(ValueError):
        RuleViolation([])


def test_a_refusal_is_named_by_its_first_violation() -> None:
    error = RuleViolation([violation(Code.SEAT_INCREASE, current=1), Violation(Code.EMPTY_QUOTE)])
    assert error.code is Code.SEAT_INCREASE


def test_a_wrong_state_wins_over_a_broken_rule() -> None:
    error = RuleViolation([violation(Code.EMPTY_QUOTE), violation(Code.QUOTE_NOT_EDITABLE)])
    assert error.kind is Kind.STATE


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (Code.SEAT_INCREASE, Kind.RULE),
        (Code.QUOTE_EXPIRED, Kind.STATE),
        (Code.ADDRESS_LOCKED, Kind.STATE),
        (Code.NOT_FOUND, Kind.NOT_FOUND),
        (Code.FORBIDDEN, Kind.FORBIDDEN),
        (Code.CANCELLATION_NOT_SELF_SERVICE, Kind.FORBIDDEN),
        (Code.INVALID_INPUT, Kind.INVALID),
    ],
)
def test_each_code_is_a_rule_a_state_or_an_access_refusal(code: Code, kind: Kind) -> None:
    assert kind_of(code) is kind


def test_one_builds_a_refusal_of_a_single_violation() -> None:
    error = RuleViolation.one(Code.CURRENCY_CHANGE, "S1", currency="EUR")
    (only,) = error.violations
    assert (only.code, only.subscription_ids, dict(only.params)) == (
        Code.CURRENCY_CHANGE,
        ("S1",),
        {"currency": "EUR"},
    )
    assert str(error) == "The currency cannot change: this subscription is billed in EUR."


@pytest.mark.parametrize(
    ("term", "english", "french"),
    [
        ("monthly", "on a monthly term", "pour une durée mensuelle"),
        ("annual", "on an annual term", "pour une durée annuelle"),
        ("3-year", "on a 3-year term", "pour une durée de 3 ans"),
    ],
)
def test_a_missing_price_names_its_term_grammatically(term: str, english: str, french: str):
    v = violation(Code.PRICE_NOT_FOUND, "SUB-1", offering="ACDLT", term=term, currency="EUR")
    assert v.message("en") == f"ACDLT is not sold {english} in EUR."
    assert v.message("fr") == f"ACDLT n'est pas vendu {french} en EUR."


@pytest.mark.parametrize(
    ("thing", "english", "french"),
    [
        ("customer", "No such customer.", "Client : introuvable."),
        ("subscription", "No such subscription.", "Abonnement : introuvable."),
        ("quote", "No such quote.", "Devis : introuvable."),
        ("user", "No such user.", "Utilisateur : introuvable."),
        ("page", "No such page.", "Page : introuvable."),
    ],
)
def test_what_was_not_found_is_named_in_the_message_s_language(
    thing: str, english: str, french: str
):
    v = violation(Code.NOT_FOUND, thing=thing)
    assert (v.message("en"), v.message("fr")) == (english, french)


def test_sentences_filled_once_still_follow_each_value_as_written():
    # Kept per process by their parameters: equal values written apart are told apart.
    first = render("card_limit_exceeded", None, "en", {"limit": Decimal("5000"), "currency": "EUR"})
    other = render(
        "card_limit_exceeded", None, "en", {"limit": Decimal("5000.00"), "currency": "EUR"}
    )
    assert "5000 EUR" in first and "5000.00 EUR" in other
    # A parameter that cannot be part of a key is put into words each time.
    listed = render("card_limit_exceeded", None, "en", {"limit": [1], "currency": "EUR"})
    assert "[1] EUR" in listed
