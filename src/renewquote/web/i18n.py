"""The portal's words: gettext catalogs (English in the templates, French in
`renewquote/locale/fr`), and the language of a request.

The catalogs are compiled by `pybabel compile` when the project is installed (`scripts/run`,
`scripts/test`); an install that skipped it still gets its French, compiled in memory from the
`.po` file at first use.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib.resources import files
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import Request

from renewquote.api.problems import language_of

LANGUAGES = {"en": "English", "fr": "Français"}
LANGUAGE_COOKIE = "rq_lang"
DOMAIN = "messages"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """Return the catalog of `language` (English is the templates' own words)."""
    if language not in LANGUAGES or language == "en":
        return gettext.NullTranslations()
    folder = files("renewquote") / "locale" / language / "LC_MESSAGES"
    compiled = folder / f"{DOMAIN}.mo"
    if compiled.is_file():
        with compiled.open("rb") as source:
            return gettext.GNUTranslations(source)
    with (folder / f"{DOMAIN}.po").open("rb") as source:
        catalog = read_po(source, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


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
