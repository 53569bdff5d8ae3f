"""`core.dbapi`: the same rows, types and errors as Core statements; reads give their connection back, writes are
part of the session's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import Integer, Table, bindparam, column, create_engine, func, select, table, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from agente_vendedor.clientes.models import Cliente
from agente_vendedor.core.dbapi import OneRow, Write, insert_of
from agente_vendedor.core.sqlite_gate import GatedConnection
from agente_vendedor.productos.models import Producto
from agente_vendedor.ventas.models import Venta

_TABLA = Cliente.__table__
_POR_ID = OneRow(select(_TABLA).where(_TABLA.c.id == bindparam("cliente_id")))


def _cliente(session: Session, **campos: object) -> int:
    cliente = Cliente(nombre="Ana Pérez", email="ana@example.com", telefono="+34 600 000 000", **campos)
    session.add(cliente)
    session.commit()
    return cliente.id


def _selects(operation: str = "SELECT") -> float:
    return REGISTRY.get_sample_value("db_query_duration_seconds_count", {"operation": operation}) or 0.0


_VENTAS: Table = Venta.__table__  # type: ignore[assignment]
_NUEVA_VENTA = insert_of(_VENTAS, ["cliente_id", "fecha_venta", "total", "estado"], returning="id")
_CAMBIAR_ESTADO = Write(
    update(_VENTAS)
    .where(_VENTAS.c.estado == bindparam("de"))
    .values(estado=bindparam("a", type_=_VENTAS.c.estado.type))
)


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


def test_on_postgresql_a_read_is_one_statement_in_autocommit_and_the_pool_gets_the_connection_as_it_was(
    database_url: str, backend: str
) -> None:
    """No BEGIN before it and no ROLLBACK when the connection goes back: two round trips fewer per read."""
    if backend != "postgresql":
        pytest.skip("pysqlite opens no transaction for a SELECT")
    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        # The transaction of a lone statement starts with it; after a BEGIN it started one round trip earlier.
        own = OneRow(select((func.now() == func.statement_timestamp()).label("own")))
        for _ in range(2):
            assert own.fetch(engine) == {"own": True}

        with engine.connect() as connection:  # the same (only) connection: back in transactional mode
            assert connection.connection.dbapi_connection.autocommit is False  # type: ignore[union-attr]
            for _ in range(2):  # BEGIN went first, as a session expects
                assert connection.execute(select(func.now() == func.statement_timestamp())).scalar_one() is False
    finally:
        engine.dispose()


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

        # A write in a session's transaction: the error ends the transaction, the session goes on with a new one.
        with Session(engine) as escritura:
            pid = escritura.execute(select(func.pg_backend_pid())).scalar_one()
            with create_engine(url).connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(DBAPIError) as raised:
                _NUEVA_VENTA.returning(escritura, _venta(None))
            assert raised.value.connection_invalidated
            escritura.rollback()
            venta_id = _NUEVA_VENTA.returning(escritura, _venta(None))
            assert escritura.get(Venta, venta_id) is not None  # on the new connection, in the new transaction
            escritura.rollback()  # leaves the shared test database as it was
    finally:
        engine.dispose()


def _venta(cliente_id: int | None, total: str = "59.90") -> dict[str, object]:
    cuando = datetime(2026, 12, 1, 9, 30, 0, 250000, tzinfo=UTC)
    return {"cliente_id": cliente_id, "fecha_venta": cuando, "total": Decimal(total), "estado": "pendiente"}


def test_a_write_is_part_of_the_sessions_transaction(app: FastAPI, session: Session) -> None:
    cliente_id = _cliente(session)
    factory = app.state.session_factory

    with factory() as deshecha:
        _NUEVA_VENTA.returning(deshecha, _venta(cliente_id))
        deshecha.rollback()
    with factory() as confirmada:
        venta_id = _NUEVA_VENTA.returning(confirmada, _venta(cliente_id, "12.34"))
        confirmada.commit()

    with factory() as lectura:
        ventas = lectura.scalars(select(Venta)).all()
    assert [(v.id, v.total, v.fecha_venta) for v in ventas] == [(venta_id, Decimal("12.34"), _venta(0)["fecha_venta"])]


def test_rowcount_and_the_metric_of_each_verb(app: FastAPI, session: Session) -> None:
    cliente_id = _cliente(session)
    inserts, updates = _selects("INSERT"), _selects("UPDATE")
    with app.state.session_factory() as escritura:
        _NUEVA_VENTA.returning(escritura, _venta(cliente_id))
        _NUEVA_VENTA.returning(escritura, _venta(cliente_id))
        assert _CAMBIAR_ESTADO.rowcount(escritura, {"de": "pendiente", "a": "confirmada"}) == 2
        assert _CAMBIAR_ESTADO.rowcount(escritura, {"de": "pendiente", "a": "cancelada"}) == 0
        escritura.commit()
    assert (_selects("INSERT"), _selects("UPDATE")) == (inserts + 2, updates + 2)


def test_a_refused_write_is_sqlalchemys_integrity_error_and_the_session_goes_on(app: FastAPI, session: Session) -> None:
    cliente_id = _cliente(session)
    with app.state.session_factory() as escritura:
        with pytest.raises(IntegrityError):
            _NUEVA_VENTA.returning(escritura, {**_venta(cliente_id), "estado": None})
        escritura.rollback()
        assert _NUEVA_VENTA.returning(escritura, _venta(cliente_id)) is not None
        escritura.commit()


def test_on_sqlite_a_write_takes_the_files_write_gate_until_commit(
    app: FastAPI, session: Session, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the write gate is SQLite's")
    cliente_id = _cliente(session)
    with app.state.session_factory() as escritura:
        _NUEVA_VENTA.returning(escritura, _venta(cliente_id))
        raw = escritura.connection().connection.dbapi_connection
        assert isinstance(raw, GatedConnection) and raw.holding
        assert raw.gate is not None and raw.gate.locked()
        escritura.commit()
        assert not raw.holding and not raw.gate.locked()


def test_python_side_onupdate_is_applied_as_core_would(app: FastAPI, session: Session) -> None:
    productos: Table = Producto.__table__  # type: ignore[assignment]
    cambiar_stock = Write(
        update(productos).where(productos.c.id == bindparam("pid")).values(stock=bindparam("stock", type_=Integer()))
    )
    producto = Producto(nombre="Taladro", precio=Decimal("59.90"), stock=5)
    session.add(producto)
    session.commit()
    antes = producto.fecha_actualizacion

    with app.state.session_factory() as escritura:
        assert cambiar_stock.rowcount(escritura, {"pid": producto.id, "stock": 3}) == 1
        escritura.commit()

    with app.state.session_factory() as lectura:
        stock, cambiado = lectura.execute(
            select(productos.c.stock, productos.c.fecha_actualizacion).where(productos.c.id == producto.id)
        ).one()
    assert stock == 3
    assert cambiado is not None and (antes is None or cambiado > antes)
