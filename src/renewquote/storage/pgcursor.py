"""psycopg's cursor, with a result's columns described only when someone reads them.

SQLAlchemy asks every cursor for its `description` after each statement, but reads it only the
first time a statement runs: later runs take the result's shape from the statement's cached
metadata and only check that the description is not None. psycopg builds a `Column` (name
decoded, type looked up) for every column each time it is asked, 13 % of the instructions of
a one-row, eight-column read (callgrind, the token check of every request). This cursor answers
a sequence that builds psycopg's own `Column` objects when one is first read, so SQLAlchemy gets
what psycopg would have given it, and nothing is built when nothing is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import psycopg
from psycopg.adapt import AdaptersMap
from psycopg.pq import ExecStatus
from psycopg.pq.abc import PGresult

# Statuses of a result that has rows, as psycopg's own `description` tells them.
_WITH_ROWS = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)


class Cursor(psycopg.Cursor[Any]):
    """psycopg's client-side cursor; its `description` builds its columns on first use."""

    @property
    def description(self) -> Sequence[psycopg.Column] | None:  # type: ignore[override]
        """The columns of the current result (None if it has no rows), built when read."""
        result = self.pgresult
        if result and (result.nfields or result.status in _WITH_ROWS):
            return _Columns(_Described(result, self._encoding, self.adapters))
        return None


class _Described:
    """What psycopg's `Column` reads of its cursor, kept from the moment the result came: the
    cursor may run another statement before the columns are built."""

    __slots__ = ("_encoding", "adapters", "pgresult")

    def __init__(self, pgresult: PGresult, encoding: str, adapters: AdaptersMap) -> None:
        self.pgresult = pgresult
        self._encoding = encoding
        self.adapters = adapters


class _Columns(Sequence[psycopg.Column]):
    """The columns of one result: psycopg's `Column` objects, built on the first read."""

    __slots__ = ("_columns", "_of")

    def __init__(self, of: _Described) -> None:
        self._of = of
        self._columns: list[psycopg.Column] | None = None

    def __len__(self) -> int:
        return int(self._of.pgresult.nfields)

    @overload
    def __getitem__(self, index: int) -> psycopg.Column: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[psycopg.Column]: ...
    def __getitem__(self, index: int | slice) -> psycopg.Column | Sequence[psycopg.Column]:
        if self._columns is None:
            of: Any = self._of  # read as psycopg reads a cursor: pgresult, _encoding, adapters
            self._columns = [psycopg.Column(of, i) for i in range(len(self))]
        return self._columns[index]
