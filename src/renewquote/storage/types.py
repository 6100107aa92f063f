"""Column types that give back exactly what went in on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Dialect, Numeric, Row, String
from sqlalchemy.types import TypeDecorator, TypeEngine

# A row of any number of columns, read by name.
AnyRow = Row[*tuple[Any, ...]]


class ExactDecimal(TypeDecorator[Decimal]):
    """A `Decimal` kept digit for digit: unconstrained NUMERIC on PostgreSQL, text on SQLite.

    SQLite has no decimal type and would round through a float; text keeps "1234.50" as is.
    """

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    # One processor function a value, not TypeDecorator's two layers of calls: a quote's
    # lines bind sixty amounts.
    def bind_processor(self, dialect: Dialect) -> Any:
        as_text = dialect.name == "sqlite"

        def process(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is not Decimal and not isinstance(value, Decimal):
                raise TypeError(f"money must be a Decimal, not {type(value).__name__}")
            return str(value) if as_text else value

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.name != "sqlite":
            return None  # psycopg gives NUMERIC back as Decimal already
        return _decimal_or_none

    # TypeDecorator's own hooks, for callers that use them rather than the processors above.
    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        return self.bind_processor(dialect)(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return _decimal_or_none(value)


def _decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


class _Members(dict[Any, Any]):
    """An enum's members by value; None reads as None, an unknown value fails as the enum does."""

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__({member.value: member for member in enum})
        self[None] = None
        self.enum = enum

    def __missing__(self, value: Any) -> Any:
        return self.enum(value)


class EnumText(TypeDecorator[Any]):
    """A `StrEnum` stored as its value; read back as the member, by one dictionary look-up.

    For selects (`type_coerce(column, EnumText(Term))`): the domain gets `Term.ANNUAL`, not
    "annual", at the cost of a C-level look-up per value (grouping reads 100,000 rows).
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum
        self._members = _Members(enum)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self.enum(value).value

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        # The dictionary's own item look-up, in C: no Python frame per value.
        return self._members.__getitem__
