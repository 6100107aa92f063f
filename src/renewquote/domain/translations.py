"""The gettext catalogs of everything renewquote says to people: English in the code, French
in `renewquote/locale/fr/LC_MESSAGES/messages.po` (`pybabel extract/update/compile`, see
docs/portal.md). Messages live in three contexts: the portal's pages (none), the rules'
sentences (`rule`) and the words of the PDF, the mails and the link pages (`document`).

The catalogs are compiled when the project is installed; an install that skipped it still
gets its French, compiled in memory from the `.po` file at first use.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib.resources import files
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("en", "fr")
DOMAIN = "messages"


def NC_(context: str, message: str) -> str:
    """Mark `message` for extraction in `context`; translated where it is shown."""
    return message


@cache
def translations(language: str) -> gettext.NullTranslations:
    """Return the catalog of `language` (English is the code's own words)."""
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
