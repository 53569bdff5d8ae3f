"""One-statement reads straight on a pooled DBAPI connection: no ORM session, no Core execution layers.

A read of one row through a `Session` (begin, connection checkout, Core's execution context and result
objects, commit, close) cost 250 µs of CPU on the bench machine; the same statement, compiled once per
dialect and run on a connection of the same pool, costs about 25 µs (`bench/RESULTS-http.md`). On the
hottest staff reads (`GET /clientes/{id}`) that difference was a fifth of the request.

What stays the same as a Core read:
- the SQL is SQLAlchemy's own compilation of the statement for the engine's dialect, with its bound
  parameters and every column's result processing (aware UTC datetimes, booleans on SQLite...);
- the connection comes from the engine's pool (pre-ping on PostgreSQL) and goes back to it, reset;
- the statement is timed in `db_query_duration_seconds`, like every other;
- a driver error becomes SQLAlchemy's `DBAPIError` subclass (so the error handlers answer as for any other
  query), and a lost connection is invalidated.

What it is for: a single SELECT that is a consistent snapshot by itself. Anything that writes, or needs
several statements in one transaction, uses the request's session.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

from agente_vendedor.core.metrics import observe_query

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Plan:
    """A statement compiled for one dialect, with how to bind its parameters and process its columns."""

    sql: str
    positional: tuple[str, ...] | None
    binds: Mapping[str, _Processor]
    names: tuple[str, ...]
    processors: tuple[_Processor, ...]

    def parameters(self, values: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        processed = {
            name: (processor(values[name]) if processor else values[name]) for name, processor in self.binds.items()
        }
        if self.positional is not None:
            return tuple(processed[name] for name in self.positional)
        return processed

    def row(self, raw: Sequence[Any]) -> dict[str, Any]:
        return {
            name: (processor(value) if processor else value)
            for name, processor, value in zip(self.names, self.processors, raw, strict=True)
        }


def _name(column: Any) -> str:
    if not column.key:
        raise ValueError(f"Cada columna leída necesita un nombre (use .label()): {column}")
    return str(column.key)


def _plan(statement: Select[Any], dialect: Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect)
    binds = {name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()}
    columns = list(statement.selected_columns)
    return _Plan(
        sql=str(compiled),
        positional=tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None,
        binds=binds,
        names=tuple(_name(column) for column in columns),
        processors=tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns),
    )


class OneRow:
    """A SELECT of at most one row (by key), compiled once per dialect and run on a pooled DBAPI connection."""

    def __init__(self, statement: Select[Any]) -> None:
        self._statement = statement
        self._plans: dict[Dialect, _Plan] = {}

    def fetch(self, engine: Engine, **params: Any) -> dict[str, Any] | None:
        """The row as a dict keyed by column, or None; every bound parameter must be given by name."""
        plan = self._plans.get(engine.dialect)
        if plan is None:
            plan = self._plans.setdefault(engine.dialect, _plan(self._statement, engine.dialect))
        bound = plan.parameters(params)
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                started = time.perf_counter()
                cursor.execute(plan.sql, bound)
                raw = cursor.fetchone()
                observe_query("SELECT", time.perf_counter() - started)
            finally:
                cursor.close()
        except engine.dialect.loaded_dbapi.Error as error:
            invalidated = engine.dialect.is_disconnect(error, connection.dbapi_connection, None)
            if invalidated:
                connection.invalidate(error)
            raise DBAPIError.instance(
                plan.sql,
                bound,
                error,
                engine.dialect.loaded_dbapi.Error,
                connection_invalidated=invalidated,
                dialect=engine.dialect,
            ) from error
        finally:
            connection.close()  # back to the pool, which rolls back whatever the driver opened
        return None if raw is None else plan.row(raw)
