"""Database engine, declarative base, column types and the per-request session."""

from __future__ import annotations

from collections.abc import AsyncIterator
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


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: commit when the handler succeeds, roll back on any error.

    Creating a session does no I/O, so it happens on the event loop. A `DbRoute` endpoint commits in its own
    pool thread as soon as it returns (`core.routing`); what is left here is a session that never touched the
    database (closed on the loop, no thread hop) or one still in a transaction, finished in a thread that
    does not wait for pool capacity (like FastAPI's own exits), so a busy pool cannot starve a commit.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_rollback_and_close, session, limiter=anyio.CapacityLimiter(1))
        raise
    if not session.in_transaction():
        session.close()
        return
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(_commit_and_close, session, limiter=anyio.CapacityLimiter(1))


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


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
"""The request's session; its exit (commit or rollback) runs before the response is sent."""


def within(column: Any, desde: Any | None, hasta: Any | None) -> list[ColumnElement[bool]]:
    """Conditions for `desde <= column <= hasta`, leaving out a bound that is not given."""
    conditions: list[ColumnElement[bool]] = []
    if desde is not None:
        conditions.append(column >= desde)
    if hasta is not None:
        conditions.append(column <= hasta)
    return conditions
