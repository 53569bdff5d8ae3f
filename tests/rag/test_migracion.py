"""Migration 0005 on a database that already has data, and back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, inspect, text

from agente_vendedor.core import migrate


def test_upgrade_fills_the_search_tables_and_queues_vectors_and_downgrade_removes_them(
    empty_database_factory: Any, backend: str
) -> None:
    url: str = empty_database_factory(backend)
    migrate.upgrade(url, "0002")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO productos (nombre, precio, stock, categoria, sku, activo) "
                    "VALUES ('Cafetera Italiana', 25, 3, 'Hogar', 'CAF-1', true)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO clientes (nombre, email, texto_busqueda, activo) "
                    "VALUES ('José Pérez', 'j@e.com', '', true)"
                )
            )
        migrate.upgrade(url, "0005")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT texto FROM productos_fts")).scalar_one() == (
                " cafetera italiana cafetera italiana hogar caf 1 "
            )
            assert "jose perez" in connection.execute(text("SELECT texto FROM clientes_fts")).scalar_one()
            queued = connection.execute(text("SELECT entidad, operacion FROM rag_outbox ORDER BY entidad")).all()
            assert [tuple(row) for row in queued] == [("cliente", "upsert"), ("producto", "upsert")]

        migrate.downgrade(url, "0002")
        tables = set(inspect(engine).get_table_names())
        assert not tables & {"rag_outbox", "productos_fts", "clientes_fts"}
        migrate.upgrade(url)
        assert {"rag_outbox", "productos_fts", "clientes_fts"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
