"""The Jinja2 templates of mails and pages, shipped in the package; HTML is escaped."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

ENVIRONMENT = Environment(
    loader=PackageLoader("renewquote", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(name: str, values: dict[str, Any]) -> str:
    """Render the template `name` (under renewquote/templates) with these values."""
    return ENVIRONMENT.get_template(name).render(values)
