"""The hot statements of quote creation, compiled once and run on SQLite's own cursor.

On SQLite a statement costs no round trip, so SQLAlchemy's execution layer (an execution
context, events, a result object: 30-100 µs a statement) is most of what a small statement
costs. A `Prepared` statement is still built and compiled by SQLAlchemy, once per dialect and
shape, and its parameters and rows go through the column types' own bind and result
processors, so what is stored and read back is what `Connection.execute` would store and read;
driver errors are wrapped as SQLAlchemy wraps them. Other databases (and a connection outside a
transaction) go through `Connection.execute` unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # (parameter name, bind processor, expanding?) in placeholder order.
    binds: tuple[tuple[str, _Processor, bool], ...]
    # (column position, result processor) of the columns that have one.
    results: tuple[tuple[int, Callable[[Any], Any]], ...]
    # The SQL for each count of values of the expanding parameters ("IN" lists).
    expanded: dict[tuple[int, ...], str]

    def sql_for(self, params: Mapping[str, Any]) -> str:
        if not self.expanded and "__[POSTCOMPILE_" not in self.sql:
            return self.sql
        counts = tuple(len(params[name]) for name, _, expanding in self.binds if expanding)
        sql = self.expanded.get(counts)
        if sql is None:
            sql = self.sql
            for (name, _, _), count in zip([b for b in self.binds if b[2]], counts, strict=True):
                # An empty list matches nothing, as SQLAlchemy renders it.
                marks = ", ".join("?" * count) if count else "SELECT 1 WHERE 1 != 1"
                sql = sql.replace(f"__[POSTCOMPILE_{name}]", marks)
            self.expanded[counts] = sql
        return sql


class Prepared:
    """A Core statement run on the driver's cursor where that is the same as running it."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[Any, ...], _Compiled] = {}

    def all(self, conn: Connection, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """Return every row (as tuples on SQLite, `Row`s elsewhere)."""
        if not _direct(conn):
            return conn.execute(self.statement, params).all()
        compiled = self._compile(conn.dialect, params.keys())
        values = _values(compiled, params)
        cursor = _run(conn, compiled.sql_for(params), values, many=False)
        rows: list[Any] = cursor.fetchall()
        cursor.close()
        if compiled.results:
            return [_processed(row, compiled.results) for row in rows]
        return rows

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Sequence[Any] | None:
        """Return the first row, or None."""
        rows = self.all(conn, params)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Run the statement (an INSERT ... RETURNING one column) and return its single value."""
        if not _direct(conn):
            return conn.execute(self.statement, params).scalar_one()
        row = self.first(conn, params)
        if row is None:
            raise ValueError("no row returned")
        return row[0]

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> None:
        """Run the statement once."""
        if not _direct(conn):
            conn.execute(self.statement, params)
            return
        compiled = self._compile(conn.dialect, params.keys())
        _run(conn, compiled.sql_for(params), _values(compiled, params), many=False).close()

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once for each of `rows` (which all have the same keys)."""
        if not rows:
            return
        if not _direct(conn):
            conn.execute(self.statement, list(rows))
            return
        compiled = self._compile(conn.dialect, rows[0].keys())
        if any(expanding for _, _, expanding in compiled.binds):
            raise ValueError("executemany takes no expanding parameters")
        values = [[p(r[k]) if p else r[k] for k, p, _ in compiled.binds] for r in rows]
        _run(conn, compiled.sql, values, many=True).close()

    def _compile(self, dialect: Dialect, keys: Any) -> _Compiled:
        key = (dialect, *keys)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = _compile(self.statement, dialect, list(keys))
        return found


def _direct(conn: Connection) -> bool:
    # qmark: SQLite. Outside a transaction SQLAlchemy would first begin one (our BEGIN event).
    return conn.dialect.paramstyle == "qmark" and conn.in_transaction()


def _compile(statement: Executable, dialect: Dialect, keys: list[str]) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=keys)  # type: ignore[attr-defined]
    assert isinstance(compiled, SQLCompiler)
    if compiled.positiontup is None or compiled.insert_prefetch or compiled.update_prefetch:
        # Python-side column defaults, or named parameters: not for this path.
        raise ValueError(f"statement cannot run on the driver: {compiled.string}")
    binds = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        binds.append((name, processor, bool(bind.expanding)))
    results = []
    for position, column in enumerate(statement.exported_columns):  # type: ignore[attr-defined]
        processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if processor is not None:
            results.append((position, processor))
    return _Compiled(compiled.string, tuple(binds), tuple(results), {})


def _values(compiled: _Compiled, params: Mapping[str, Any]) -> list[Any]:
    values: list[Any] = []
    for name, processor, expanding in compiled.binds:
        value = params[name]
        if expanding:
            values.extend(processor(v) for v in value) if processor else values.extend(value)
        else:
            values.append(processor(value) if processor else value)
    return values


def _run(conn: Connection, sql: str, values: Any, *, many: bool) -> Any:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(sql, values)
        else:
            cursor.execute(sql, values)
    except conn.dialect.loaded_dbapi.Error as error:
        cursor.close()
        raise DBAPIError.instance(
            sql, values, error, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from error
    return cursor


def _processed(row: Sequence[Any], results: tuple[tuple[int, Callable[[Any], Any]], ...]) -> Any:
    out = list(row)
    for position, processor in results:
        out[position] = processor(out[position])
    return tuple(out)
