"""Hot statements run straight on the DBAPI connection: SQLAlchemy compiles them, its execution layers are skipped.

A statement executed through a `Session` pays for the ORM's execute layer, Core's execution context, result
objects and events on every call: 100 to 250 µs of CPU each on the bench machine, while the driver's own
work for a one-row read or insert is a few tens of µs (`bench/RESULTS-http.md`). On the hottest paths
(`GET /clientes/{id}`, the writes of `POST /ventas/`) that was a fifth to a third of the request.

What stays the same as a Core statement:
- the SQL is SQLAlchemy's own compilation of the statement for the engine's dialect, and every value goes
  through its column type's bind and result processing (aware UTC datetimes, decimals and booleans on SQLite...);
- connections come from the engine's pool (pre-ping on PostgreSQL); a write uses the session's connection, so
  it is part of the request's transaction, and takes the SQLite write gate (`core.sqlite_gate`) as any write;
- every statement is timed in `db_query_duration_seconds`;
- a driver error becomes SQLAlchemy's `DBAPIError` subclass (`IntegrityError`, `OperationalError`...), so the
  error handlers answer as for any other query, and a lost connection is invalidated.

What they are for: a SELECT of one row that is a consistent snapshot by itself (`OneRow`, on its own pooled
connection), and INSERTs and UPDATEs with every value bound by name (`Write`, in the session's transaction). No
engine or session event sees them (`before_cursor_execute`, `do_orm_execute`): anything that watches a table through
events (the catalog cache watches `productos`) must keep using the session for that table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, Table, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert as CoreInsert
from sqlalchemy.sql.dml import Update as CoreUpdate

from agente_vendedor.core.metrics import observe_query
from agente_vendedor.core.sqlite_gate import before_write

_Processor = Callable[[Any], Any] | None
_VERBS = {Select: "SELECT", CoreInsert: "INSERT", CoreUpdate: "UPDATE"}


@dataclass(slots=True)
class _Plan:
    """A statement compiled for one dialect, with how to bind its parameters and process its columns."""

    sql: str
    verb: str
    positional: tuple[str, ...] | None
    binds: Mapping[str, _Processor]
    names: tuple[str, ...]
    types: tuple[Any, ...]
    defaults: Mapping[str, Callable[[], Any]]
    """Python-side `default=` / `onupdate=` of columns the statement sets without being given (as Core computes)."""
    processors: tuple[_Processor, ...] | None = None
    """Set from the first result's `cursor.description`: some drivers' types need its type codes (PG numerics)."""

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        if self.defaults:
            values = {**{name: produce() for name, produce in self.defaults.items() if name not in values}, **values}
        processed = {
            name: (processor(values[name]) if processor else values[name]) for name, processor in self.binds.items()
        }
        if self.positional is not None:
            return tuple(processed[name] for name in self.positional)
        return processed

    def rows(self, dialect: Dialect, cursor: Any, raw: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        processors = self.processors
        if processors is None:
            codes = [entry[1] for entry in cursor.description]
            processors = tuple(
                kind.dialect_impl(dialect).result_processor(dialect, code)
                for kind, code in zip(self.types, codes, strict=True)
            )
            self.processors = processors
        return [
            {
                name: (processor(value) if processor else value)
                for name, processor, value in zip(self.names, processors, row, strict=True)
            }
            for row in raw
        ]


def _name(column: Any) -> str:
    if not column.key:
        raise ValueError(f"Cada columna devuelta necesita un nombre (use .label()): {column}")
    return str(column.key)


def _default(column: Any, update: bool) -> Callable[[], Any]:
    default = column.onupdate if update else column.default
    if default.is_callable:
        return lambda: default.arg(None)  # SQLAlchemy wraps a no-argument function to take the execution context
    return lambda: default.arg


def _plan(statement: Select[Any] | CoreInsert | CoreUpdate, dialect: Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect)
    defaults = {
        **{column.key: _default(column, update=False) for column in compiled.insert_prefetch},
        **{column.key: _default(column, update=True) for column in compiled.update_prefetch},
    }
    binds = {name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()}
    columns = list(statement.exported_columns)
    return _Plan(
        sql=str(compiled),
        verb=_VERBS.get(type(statement), "OTHER"),
        positional=tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None,
        binds=binds,
        names=tuple(_name(column) for column in columns),
        types=tuple(column.type for column in columns),
        defaults=defaults,
    )


class _Compiled:
    """A statement and its plan for each dialect it has run on."""

    def __init__(self, statement: Select[Any] | CoreInsert | CoreUpdate) -> None:
        self._statement = statement
        self._plans: dict[Dialect, _Plan] = {}

    def plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect)
        if plan is None:
            plan = self._plans.setdefault(dialect, _plan(self._statement, dialect))
        return plan


@contextmanager
def _driver_errors(dialect: Dialect, connection: Any, sql: str, params: Any) -> Iterator[None]:
    """Driver errors as SQLAlchemy's (the same subclass a Core statement raises); a lost connection invalidated.

    `connection` is the pooled connection (`OneRow`) or the session's `Connection` (`Write`): both have
    `invalidate`, which takes the dead connection out of the pool (and, for a session's, ends its transaction).
    """
    try:
        yield
    except dialect.loaded_dbapi.Error as error:
        dbapi_connection = getattr(connection, "dbapi_connection", None) or connection.connection.dbapi_connection
        invalidated = dialect.is_disconnect(error, dbapi_connection, None)
        if invalidated:
            connection.invalidate(error)
        raise DBAPIError.instance(
            sql, params, error, dialect.loaded_dbapi.Error, connection_invalidated=invalidated, dialect=dialect
        ) from error


class OneRow(_Compiled):
    """A SELECT of at most one row (by key), run on a pooled connection of its own, outside any transaction."""

    def __init__(self, statement: Select[Any]) -> None:
        super().__init__(statement)

    def fetch(self, engine: Engine, **params: Any) -> dict[str, Any] | None:
        """The row as a dict keyed by column, or None; every bound parameter must be given by name."""
        plan = self.plan(engine.dialect)
        bound = plan.parameters(params)
        connection = engine.raw_connection()
        driver: Any = connection.dbapi_connection
        # psycopg opens a transaction before a statement (a BEGIN round trip) and the pool ends it when the
        # connection comes back (a ROLLBACK round trip). One SELECT is a transaction of its own in autocommit, as
        # consistent as inside BEGIN ... ROLLBACK, for half the round trips. pysqlite opens none for a SELECT.
        autocommit = engine.dialect.name == "postgresql" and not driver.autocommit
        restore_failed = False
        try:
            with _driver_errors(engine.dialect, connection, plan.sql, bound):
                if autocommit:
                    driver.autocommit = True
                try:
                    cursor = connection.cursor()
                    try:
                        started = time.perf_counter()
                        cursor.execute(plan.sql, bound)
                        raw = cursor.fetchone()
                        observe_query(plan.verb, time.perf_counter() - started)
                        rows = [] if raw is None else plan.rows(engine.dialect, cursor, [raw])
                    finally:
                        cursor.close()
                finally:
                    if autocommit:
                        try:
                            driver.autocommit = False  # as the pool's other users expect it
                        except engine.dialect.loaded_dbapi.Error:
                            restore_failed = True
        finally:
            if restore_failed and connection.dbapi_connection is not None:
                connection.invalidate()  # the pool never gets a connection left in autocommit
            connection.close()  # back to the pool, which rolls back whatever the driver opened
        return rows[0] if rows else None


class Write(_Compiled):
    """An INSERT or UPDATE run on the session's connection, in the request's transaction.

    Build it with every value as a named `bindparam` (`insert_of` does so for an INSERT). Columns it does not
    set get what Core would give them: their Python-side `default=` (INSERT) or `onupdate=` (UPDATE), computed on
    each call, or their server default.
    """

    def __init__(self, statement: CoreInsert | CoreUpdate) -> None:
        super().__init__(statement)

    def returning(self, session: Session, values: Mapping[str, Any]) -> Any:
        """Run once; the first RETURNING column of the first row (None when no row came back)."""
        row = self.row(session, values)
        return None if row is None else next(iter(row.values()))

    def row(self, session: Session, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """Run once; the first row of its RETURNING columns, keyed by name (None when no row came back)."""
        rows, _count = self._run(session, [values])
        return rows[0] if rows else None

    def rowcount(self, session: Session, values: Mapping[str, Any]) -> int:
        """Run once; how many rows it inserted or changed."""
        return self._run(session, [values])[1]

    def many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row, in one `executemany`."""
        if rows:
            self._run(session, rows)

    def _run(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        connection = session.connection()  # begins the session's transaction if it has not yet
        plan = self.plan(connection.dialect)
        bound = [plan.parameters(values) for values in rows]
        before_write(connection, None, plan.sql)  # SQLite: this process's writers queue here, not in busy sleeps
        with _driver_errors(connection.dialect, connection, plan.sql, bound):
            cursor = connection.connection.cursor()
            try:
                started = time.perf_counter()
                if len(bound) == 1:
                    cursor.execute(plan.sql, bound[0])
                else:
                    cursor.executemany(plan.sql, bound)  # type: ignore[arg-type]
                result = cursor.fetchall() if plan.names else []
                count = cursor.rowcount
                observe_query(plan.verb, time.perf_counter() - started)
                returned = plan.rows(connection.dialect, cursor, result) if result else []
            finally:
                cursor.close()
        return returned, count


def insert_of(table: Table, columns: Sequence[str], *, returning: str | None = None) -> Write:
    """A `Write` that inserts the named columns of `table` (each bound by its column name and type)."""
    statement = insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in columns})
    return Write(statement.returning(table.c[returning]) if returning else statement)
