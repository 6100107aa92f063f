"""Sentences for every rule code, in English and French, filled with the violation's details."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache

from babel.dates import format_date

LANGUAGES = ("en", "fr")

# Keyed by code, or by "code.detail" where one code has several distinct reasons.
MESSAGES: dict[str, dict[str, str]] = {
    "region_not_enabled": {
        "en": "Self-service quotes are not available in your country ({country}); "
        "please contact a partner to renew.",
        "fr": "Les devis en libre-service ne sont pas disponibles dans votre pays ({country}) ; "
        "contactez un partenaire pour renouveler.",
    },
    "not_renewable": {
        "en": "This subscription cannot be renewed on a quote now.",
        "fr": "Cet abonnement ne peut pas être renouvelé sur devis pour le moment.",
    },
    "not_renewable.window_not_open": {
        "en": "Renewal opens on {opens}, 90 days before the end date ({end_date}).",
        "fr": "Le renouvellement ouvre le {opens}, 90 jours avant la date de fin ({end_date}).",
    },
    "not_renewable.window_closed": {
        "en": "The renewal window closed on {closes}; the subscription ended on {end_date}.",
        "fr": "La période de renouvellement s'est terminée le {closes} ; "
        "l'abonnement a pris fin le {end_date}.",
    },
    "not_renewable.cancelled": {
        "en": "This subscription was cancelled and cannot be renewed.",
        "fr": "Cet abonnement a été résilié et ne peut pas être renouvelé.",
    },
    "not_renewable.already_renewed": {
        "en": "Already renewed for the next term (until {end_date}); "
        "the next renewal opens on {opens}.",
        "fr": "Déjà renouvelé pour la période suivante (jusqu'au {end_date}) ; "
        "le prochain renouvellement ouvre le {opens}.",
    },
    "mixed_quote_types": {
        "en": "Renewals cannot be combined with new-subscription or co-term lines on one quote.",
        "fr": "Les renouvellements ne peuvent pas être associés à de nouveaux abonnements "
        "ni à des regroupements sur un même devis.",
    },
    "mixed_customer": {
        "en": "Every subscription on a quote must belong to the same customer number (CSN).",
        "fr": "Tous les abonnements d'un devis doivent avoir le même numéro NSC client.",
    },
    "mixed_currency": {
        "en": "Every subscription on a quote must be in the same currency.",
        "fr": "Tous les abonnements d'un devis doivent être dans la même devise.",
    },
    "currency_change": {
        "en": "The currency cannot change: this subscription is billed in {currency}.",
        "fr": "La devise ne peut pas changer : cet abonnement est facturé en {currency}.",
    },
    "mixed_partner": {
        "en": "Every subscription on a quote must have the same reseller of record (partner CSN).",
        "fr": "Tous les abonnements d'un devis doivent avoir le même agent enregistré "
        "(numéro NSC du partenaire).",
    },
    "mixed_purchase_method": {
        "en": "A quote holds subscriptions of one purchase method only.",
        "fr": "Un devis ne contient que des abonnements d'une seule méthode d'achat.",
    },
    "seat_increase": {
        "en": "Seats cannot be added on a renewal: choose between 1 and {current} seats.",
        "fr": "Impossible d'ajouter des postes lors d'un renouvellement : "
        "choisissez entre 1 et {current} postes.",
    },
    "ineligible_offering": {
        "en": "Success plans and value-based (flex) buying options cannot be quoted "
        "in self-service.",
        "fr": "Les plans de réussite et les options d'achat basées sur la valeur "
        "ne peuvent pas faire l'objet d'un devis en libre-service.",
    },
    "new_credit_line": {
        "en": "Paying by invoice needs an existing line of credit; "
        "pay by card or PayPal, or contact a partner.",
        "fr": "Le paiement sur facture nécessite une ligne de crédit existante ; "
        "payez par carte ou PayPal, ou contactez un partenaire.",
    },
    "start_date_not_allowed": {
        "en": "Scheduled start dates are not possible: this line starts on {expected}.",
        "fr": "Les dates de début prévues ne sont pas possibles : cette ligne commence "
        "le {expected}.",
    },
    "address_locked": {
        "en": "The address of a sent quote cannot change; create a new quote instead.",
        "fr": "L'adresse d'un devis envoyé ne peut pas être modifiée ; créez un nouveau devis.",
    },
    "cancellation_not_self_service": {
        "en": "Only your partner or the vendor can cancel a quote.",
        "fr": "Seul votre partenaire ou l'éditeur peut annuler un devis.",
    },
    "too_many_recipients": {
        "en": "Too many quote recipients: at most {limit}.",
        "fr": "Trop de destinataires du devis : {limit} au maximum.",
    },
    "too_many_lines": {
        "en": "A quote holds at most {limit} subscriptions.",
        "fr": "Un devis contient au maximum {limit} abonnements.",
    },
    "quote_not_editable": {
        "en": "Only a draft quote can be changed; a sent quote is replaced by a new one.",
        "fr": "Seul un devis en brouillon peut être modifié ; un devis envoyé est remplacé "
        "par un nouveau devis.",
    },
    "quote_expired": {
        "en": "This quote expired on {expires_at}.",
        "fr": "Ce devis a expiré le {expires_at}.",
    },
    # For callers that cannot know the date (the lifecycle table refusing an action).
    "quote_expired.plain": {
        "en": "This quote has expired.",
        "fr": "Ce devis a expiré.",
    },
    "quote_superseded": {
        "en": "This quote was superseded by another order or quote.",
        "fr": "Ce devis a été remplacé par une autre commande ou un autre devis.",
    },
    "card_limit_exceeded": {
        "en": "Quotes above {limit} {currency} cannot be paid by card or PayPal.",
        "fr": "Les devis de plus de {limit} {currency} ne peuvent pas être payés par carte "
        "ou PayPal.",
    },
    "quote_not_sent": {
        "en": "The quote must be sent before it can be ordered.",
        "fr": "Le devis doit être envoyé avant de pouvoir être commandé.",
    },
    "quote_not_sent.replace": {
        "en": "Only a sent quote is replaced; a draft's address is changed by editing it.",
        "fr": "Seul un devis envoyé est remplacé ; l'adresse d'un brouillon se modifie "
        "directement.",
    },
    "quote_ordered": {
        "en": "This quote has already been ordered.",
        "fr": "Ce devis a déjà été commandé.",
    },
    "quote_cancelled": {
        "en": "This quote was cancelled.",
        "fr": "Ce devis a été annulé.",
    },
    "empty_quote": {
        "en": "A quote needs at least one line.",
        "fr": "Un devis doit contenir au moins une ligne.",
    },
    "duplicate_line": {
        "en": "A subscription appears more than once on the quote.",
        "fr": "Un abonnement figure plusieurs fois sur le devis.",
    },
    "coterm_mismatch": {
        "en": "End dates can only be aligned with an active subscription of the same term "
        "and payment method.",
        "fr": "Les dates de fin ne peuvent être alignées que sur un abonnement actif "
        "de même durée et de même mode de paiement.",
    },
    "price_not_found": {
        "en": "{offering} is not sold on {term} in {currency}.",
        "fr": "{offering} n'est pas vendu pour {term} en {currency}.",
    },
    "unknown_contact": {
        "en": "{email} is not a contact of the customer's company.",
        "fr": "{email} n'est pas un contact de l'entreprise du client.",
    },
    "invalid_input": {
        "en": "{field}: {problem}",
        "fr": "{field} : {problem}",
    },
    "payment_declined": {
        "en": "The payment was declined: {reason}",
        "fr": "Le paiement a été refusé : {reason}",
    },
    "not_found": {
        "en": "No such {thing}.",
        # French agrees with the noun: the words of `thing` carry their own article.
        "fr": "{thing} : introuvable.",
    },
    "unauthenticated": {
        "en": "Sign in first: {why}",
        "fr": "Connectez-vous d'abord : {why}",
    },
    "rate_limited": {
        "en": "Too many attempts; try again in {retry_after} seconds.",
        "fr": "Trop de tentatives ; réessayez dans {retry_after} secondes.",
    },
    "idempotency_key_reused": {
        "en": "This Idempotency-Key was already used with another request.",
        "fr": "Cette clé Idempotency-Key a déjà servi pour une autre requête.",
    },
    "idempotency_in_progress": {
        "en": "A request with this Idempotency-Key is still being processed; retry shortly.",
        "fr": "Une requête avec cette clé Idempotency-Key est encore en cours ; réessayez "
        "dans un instant.",
    },
    "malformed_json": {
        "en": "The request body is not valid JSON: {problem}",
        "fr": "Le corps de la requête n'est pas du JSON valide : {problem}",
    },
    "payload_too_large": {
        "en": "The request body is larger than {limit} bytes.",
        "fr": "Le corps de la requête dépasse {limit} octets.",
    },
    "headers_too_large": {
        "en": "The request's headers are larger than {limit} bytes.",
        "fr": "Les en-têtes de la requête dépassent {limit} octets.",
    },
    "not_quote_maker": {
        "en": "Only the party that made this quote can change it; you may view it, and buy it "
        "once it is sent.",
        "fr": "Seul l'auteur de ce devis peut le modifier ; vous pouvez le consulter, et le "
        "commander une fois envoyé.",
    },
    "webhook_url_not_allowed": {
        "en": "Webhooks cannot be sent to {url}: {why}.",
        "fr": "Les webhooks ne peuvent pas être envoyés à {url} : {why}.",
    },
    "forbidden": {
        "en": "You may see this but not do that: {why}",
        "fr": "Vous pouvez consulter ceci mais pas effectuer cette action : {why}",
    },
}


# Words a parameter stands for, in each language, where the sentence needs them translated.
WORDS: dict[str, dict[str, dict[str, str]]] = {
    "term": {
        "monthly": {"en": "a monthly term", "fr": "une durée mensuelle"},
        "annual": {"en": "an annual term", "fr": "une durée annuelle"},
        "3-year": {"en": "a 3-year term", "fr": "une durée de 3 ans"},
    },
    "thing": {
        "customer": {"en": "customer", "fr": "Client"},
        "subscription": {"en": "subscription", "fr": "Abonnement"},
        "quote": {"en": "quote", "fr": "Devis"},
        "user": {"en": "user", "fr": "Utilisateur"},
        "page": {"en": "page", "fr": "Page"},
        "webhook endpoint": {"en": "webhook endpoint", "fr": "Point de réception de webhooks"},
    },
}


def _shown(name: str, value: object, language: str) -> object:
    if isinstance(value, date):
        return _long_date(value, language)
    words = WORDS.get(name, {}).get(str(value))
    return value if words is None else words[language]


@cache
def _long_date(value: date, language: str) -> str:
    # Babel takes tens of microseconds a date; lists repeat the same few dates many times.
    return format_date(value, format="long", locale=language)


def render(code: str, detail: str | None, language: str, params: Mapping[str, object]) -> str:
    """Fill the sentence for `code` (and its `detail`) in `language`, English by default."""
    lang = language if language in LANGUAGES else "en"
    shown = {key: _shown(key, value, lang) for key, value in params.items()}
    # The most precise sentence whose parameters are all given: a sentence missing a detail
    # still says what rule was broken, in words rather than as a bare code.
    for key in (f"{code}.{detail}", code, f"{code}.plain"):
        templates = MESSAGES.get(key)
        if templates is None:
            continue
        try:
            return templates[lang].format_map(shown)
        except KeyError:
            continue
    return code
