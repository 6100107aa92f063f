"""The portal's words (gettext: English in the templates, French in `renewquote/locale/fr`,
through `domain/translations.py`), and the language of a request."""

from __future__ import annotations

from starlette.requests import Request

from renewquote.api.problems import language_of
from renewquote.domain.translations import translations

__all__ = ["LANGUAGES", "LANGUAGE_COOKIE", "asked_language", "page_language", "translations"]

LANGUAGES = {"en": "English", "fr": "Français"}
LANGUAGE_COOKIE = "rq_lang"


def asked_language(request: Request) -> str | None:
    """The language the address asks for (`?lang=`, the switch on every page), if any."""
    asked = request.query_params.get("lang")
    return asked if asked in LANGUAGES else None


def page_language(request: Request, setting: str | None = None) -> str:
    """The language of a page: asked for in the address (`?lang=`), else the user's setting,
    else chosen before on this browser (a cookie), else the browser's `Accept-Language`."""
    asked = asked_language(request)
    if asked is not None:
        return asked
    if setting in LANGUAGES:
        return setting
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return language_of(request)
