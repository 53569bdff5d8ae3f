"""`core.reads.OneRow`: the same row, types and errors as a Core read, on a pooled connection it gives back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import bindparam, column, create_engine, func, select, table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from agente_vendedor.clientes.models import Cliente
from agente_vendedor.core.reads import OneRow

_TABLA = Cliente.__table__
_POR_ID = OneRow(select(_TABLA).where(_TABLA.c.id == bindparam("cliente_id")))


def _cliente(session: Session, **campos: object) -> int:
    cliente = Cliente(nombre="Ana Pérez", email="ana@example.com", telefono="+34 600 000 000", **campos)
    session.add(cliente)
    session.commit()
    return cliente.id


def _selects() -> float:
    return REGISTRY.get_sample_value("db_query_duration_seconds_count", {"operation": "SELECT"}) or 0.0


def test_the_row_is_what_a_core_read_returns_with_the_same_types(app: FastAPI, session: Session) -> None:
    compra = datetime(2026, 11, 30, 18, 45, 12, 345678, tzinfo=UTC)
    cliente_id = _cliente(session, fecha_ultima_compra=compra, activo=False)
    engine = app.state.engine

    row = _POR_ID.fetch(engine, cliente_id=cliente_id)

    with engine.connect() as connection:
        core = connection.execute(select(_TABLA).where(_TABLA.c.id == cliente_id)).one()._asdict()
    assert row == core
    assert row is not None
    assert row["fecha_ultima_compra"] == compra and row["fecha_ultima_compra"].tzinfo is not None
    assert row["fecha_registro"].tzinfo is not None
    assert row["activo"] is False


def test_a_missing_row_is_none(app: FastAPI) -> None:
    assert _POR_ID.fetch(app.state.engine, cliente_id=987_654) is None


def test_every_read_is_timed_and_gives_its_connection_back(app: FastAPI, session: Session) -> None:
    cliente_id = _cliente(session)
    engine = app.state.engine
    checked_out = engine.pool.checkedout()
    count = _selects()

    for _ in range(3):
        assert _POR_ID.fetch(engine, cliente_id=cliente_id) is not None

    assert _selects() == count + 3
    assert engine.pool.checkedout() == checked_out


def test_a_driver_error_is_sqlalchemys_and_the_connection_goes_back(app: FastAPI) -> None:
    engine = app.state.engine
    checked_out = engine.pool.checkedout()
    missing = OneRow(select(column("id")).select_from(table("no_existe")).where(text("id = 1")))

    with pytest.raises(DBAPIError) as raised:
        missing.fetch(engine)

    assert "no_existe" in str(raised.value)
    assert engine.pool.checkedout() == checked_out
    assert _POR_ID.fetch(engine, cliente_id=1) is None  # the pool still serves


def test_a_lost_connection_is_invalidated_and_replaced(database_url: str, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("a server can only drop the connection on PostgreSQL")
    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, pool_size=1, max_overflow=0)  # no pre-ping: the dead connection is handed out
    try:
        backend_pid = OneRow(select(func.pg_backend_pid().label("pid")))
        first = backend_pid.fetch(engine)
        assert first is not None
        with create_engine(url).connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first["pid"]})

        with pytest.raises(DBAPIError) as raised:
            backend_pid.fetch(engine)

        assert raised.value.connection_invalidated
        again = backend_pid.fetch(engine)
        assert again is not None and again["pid"] != first["pid"]
    finally:
        engine.dispose()
