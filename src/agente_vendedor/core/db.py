"""Database engine, declarative base, column types and the per-request session."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy import ColumnElement, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from agente_vendedor.core.sqlite_gate import GatedConnection, before_write, gate_for

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose constraint names are stable across databases."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps, also on SQLite (which stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store every timestamp in UTC; naive values are taken as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC datetimes whatever the backend."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


SQLITE_BUSY_SECONDS = 10.0
"""How long a write waits for another one to finish before failing with "database is locked"."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
    cursor.close()


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite file so a first start just works."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for SQLite (file created with its folder, WAL, FKs on) or PostgreSQL."""
    if make_url(url).get_backend_name() == "sqlite":
        ensure_sqlite_folder(url)
        database = make_url(url).database or ""
        in_memory = database in ("", ":memory:")
        # One connection per busy request thread, kept (a file database): an overflow connection is closed on
        # return, and reopening it (connect + four PRAGMAs) showed up in the profile of a loaded server.
        # An in-memory database lives in one connection per thread (SQLAlchemy's SingletonThreadPool).
        pool_args: dict[str, Any] = {} if in_memory else {"pool_size": 20, "max_overflow": 40}
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS, "factory": GatedConnection},
            **pool_args,
        )
        gate = None if in_memory else gate_for(str(Path(database).resolve()))

        def _connected(dbapi_connection: Any, record: Any) -> None:
            _sqlite_pragmas(dbapi_connection, record)
            if isinstance(dbapi_connection, GatedConnection):
                dbapi_connection.gate = gate
                dbapi_connection.wait_seconds = SQLITE_BUSY_SECONDS

        event.listen(engine, "connect", _connected)
        event.listen(engine, "before_cursor_execute", before_write)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit, so responses can be built from them."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


OPEN_SESSIONS = "sesiones_abiertas"
"""Key of the request's `scope["state"]` under which `get_session` leaves its session for the route to finish."""


async def get_session(request: Request) -> Session:
    """The request's session (one transaction per request); the route finishes it (`core.routing.DbRoute`).

    Creating a session does no I/O, so it happens on the event loop. It is not a `yield` dependency: FastAPI's
    exit stack, shielded context manager and per-request generator bookkeeping were about 7 % of the CPU of a
    short authenticated read, measured in process (`bench/RESULTS-http.md`). Every route that uses it is a
    `DbRoute` (a test walks the app to prove it), which commits when the handler succeeds and rolls back on any
    error, before the response is sent, as the `yield` dependency did.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    request.scope.setdefault("state", {}).setdefault(OPEN_SESSIONS, []).append(session)
    return session


async def finish_sessions(scope: MutableMapping[str, Any], *, commit: bool) -> None:
    """Commit (or roll back) and close the sessions `get_session` opened for this request.

    A session that never touched the database, or that its endpoint already committed in its own thread, is
    closed on the loop (no I/O); one still in a transaction is finished in a thread that does not wait for pool
    capacity (like FastAPI's own exits), shielded from cancellation, so a busy pool cannot starve a commit.
    """
    sessions: list[Session] = scope.get("state", {}).pop(OPEN_SESSIONS, None) or []
    for session in sessions:
        if not session.in_transaction():
            session.close()
            continue
        finish = _commit_and_close if commit else _rollback_and_close
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(finish, session, limiter=anyio.CapacityLimiter(1))


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
"""The request's session, for `DbRoute` routes: committed or rolled back before the response is sent."""


def within(column: Any, desde: Any | None, hasta: Any | None) -> list[ColumnElement[bool]]:
    """Conditions for `desde <= column <= hasta`, leaving out a bound that is not given."""
    conditions: list[ColumnElement[bool]] = []
    if desde is not None:
        conditions.append(column >= desde)
    if hasta is not None:
        conditions.append(column <= hasta)
    return conditions
