"""The domain imports no framework and none of our outer layers, and never touches a float."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import renewquote.domain

DOMAIN = Path(renewquote.domain.__file__).parent
MODULES = sorted(DOMAIN.glob("*.py"))

# What the domain may import: the standard library, Babel (money and dates in words),
# dateutil (months), and the domain itself. Anything else is refused, known or not.
ALLOWED_PACKAGES = ("babel", "dateutil", "renewquote.domain")


def allowed(name: str) -> bool:
    """Tell whether a module name is one the domain may import."""
    if name == "__future__" or name.split(".")[0] in sys.stdlib_module_names:
        return True
    return any(name == p or name.startswith(p + ".") for p in ALLOWED_PACKAGES)


def imported(tree: ast.AST, package: str = "renewquote.domain") -> list[str]:
    """Every module name a source imports, relative imports made absolute."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.append(module)
            # `from renewquote import storage` imports renewquote.storage.
            names += [f"{module}.{alias.name}" for alias in node.names]
    return names


def forbidden_imports(source: str) -> list[str]:
    # `from renewquote.domain import errors` names renewquote.domain.errors: checked by package.
    return [name for name in imported(ast.parse(source)) if not allowed(name)]


def floats(source: str) -> list[int]:
    """The lines that call float() or write a float literal."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "float"
        ) or (isinstance(node, ast.Constant) and isinstance(node.value, float)):
            lines.append(node.lineno)
    return lines


def test_the_domain_has_modules_to_check() -> None:
    names = {m.stem for m in MODULES}
    assert {"money", "eligibility", "grouping", "pricing", "promotions", "quoting"} <= names


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_a_domain_module_imports_no_framework_nor_outer_layer(module: Path) -> None:
    assert forbidden_imports(module.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_a_domain_module_never_uses_a_float(module: Path) -> None:
    assert floats(module.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "import sqlalchemy",
        "import sqlalchemy.orm as orm",
        "from fastapi import HTTPException",
        "from starlette.responses import Response",
        "import jinja2",
        "import httpx",
        "from renewquote.storage import repository",
        "from renewquote import storage",
        "from renewquote.services.renewals import renewal_groups",
        "from renewquote import api",
        "from renewquote.web import pages",
        "import renewquote.cli",
        "from ..storage import tables",
        "from .. import web",
        "def f():\n    import httpx",
        "import pydantic",
        "from renewquote import fields",
        "import orjson",
        "from renewquote.delivery.pdf import render_quote_pdf",
    ],
)
def test_the_import_check_catches_what_it_forbids(source: str) -> None:
    assert forbidden_imports(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "from decimal import Decimal",
        "from renewquote.domain.money import Money",
        "from .money import Money",
        "import babel.dates",
        "from dateutil.relativedelta import relativedelta",
    ],
)
def test_the_import_check_lets_the_standard_library_and_the_domain_through(source: str) -> None:
    assert forbidden_imports(source) == []


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("x = float('1.5')", [1]),
        ("x = 0.5", [1]),
        ("y = 1\nz = 2 * 1e3", [2]),
        ("from decimal import Decimal\nx = Decimal('0.5')", []),
        ("x = 'float(1)'", []),
    ],
)
def test_the_float_check_catches_calls_and_literals(source: str, lines: list[int]) -> None:
    assert floats(source) == lines
