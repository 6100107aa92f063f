"""Conditions that callers bring to storage queries, and queries built once for each.

Access rules come from `services.access` as a `Condition`: a clause built once, with bound
parameters, and the values of those parameters for one caller. A query that takes one is built
once per condition (by its name) and per option, so that neither building nor SQLAlchemy's
cache key is paid again on every call; SQLAlchemy's compiled cache does the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, true

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Condition:
    """A SQL condition: `name` says which clause it is, `params` give its bound values."""

    name: str
    clause: ColumnElement[bool]
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


EVERYTHING = Condition("everything", true())


class Built:
    """Statements built once, by key (the names of the conditions and the options they use)."""

    def __init__(self) -> None:
        self._built: dict[Hashable, Any] = {}

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """Return the statement built for `key`, building it the first time."""
        found = self._built.get(key)
        if found is None:
            found = self._built[key] = build()
        return found
