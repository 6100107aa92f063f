"""Everything renewquote says to people (the portal's pages, the rules' sentences, the PDF's,
the mails' and the link pages' words) is in the French catalog, translated, with the same
placeholders; and the catalog holds nothing the code no longer says."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "src/renewquote/locale/fr/LC_MESSAGES/messages.po"
# As babel.cfg says (the test reads the same sources `pybabel extract -k NC_:1c,2` does).
METHODS = [
    ("src/renewquote/web/**.py", "python"),
    ("src/renewquote/domain/messages.py", "python"),
    ("src/renewquote/services/**.py", "python"),
    ("src/renewquote/delivery/words.py", "python"),
    ("src/renewquote/templates/portal/**.html", "jinja2"),
]
KEYWORDS = {**DEFAULT_KEYWORDS, "NC_": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


Said = tuple[str | None, str]  # (context, English)


def said_by_the_pages() -> set[Said]:
    return {
        (context, message)
        for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT), method_map=METHODS, keywords=KEYWORDS
        )
        if isinstance(message, str)
    }


def french() -> dict[Said, tuple[str, bool]]:
    with CATALOG.open("rb") as source:
        catalog = read_po(source, locale="fr")
    return {
        (m.context, m.id): (m.string, m.fuzzy) for m in catalog if m.id and isinstance(m.id, str)
    }


def test_every_text_of_the_pages_has_its_french_translation() -> None:
    texts, catalog = said_by_the_pages(), french()
    assert len(texts) > 200
    assert {context for context, _ in texts} == {None, "rule", "document"}
    missing = sorted(t for t in texts if t not in catalog)
    assert not missing, f"run pybabel extract/update (see docs/portal.md): {missing}"
    untranslated = sorted(t for t in texts if not catalog[t][0] or catalog[t][1])
    assert not untranslated, f"translate in {CATALOG.name}: {untranslated}"


def test_translations_keep_every_placeholder() -> None:
    for (_context, text), (translated, _fuzzy) in french().items():
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(translated)), text


def test_the_catalog_holds_no_text_the_pages_no_longer_show() -> None:
    stale = sorted(set(french()) - said_by_the_pages())
    assert not stale, f"run pybabel update (see docs/portal.md): {stale}"
