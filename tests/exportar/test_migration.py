"""Migration 0004 creates `exportaciones` and its downgrade removes it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, inspect

from agente_vendedor.core import migrate


def _inspect(url: str, what: str, *args: str) -> Any:
    engine = create_engine(url)
    try:
        return getattr(inspect(engine), what)(*args)
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database_factory: object, backend: str) -> None:
    url: str = empty_database_factory(backend)  # type: ignore[operator]
    migrate.upgrade(url)
    assert "exportaciones" in _inspect(url, "get_table_names")
    migrate.downgrade(url, "0002")
    tables = _inspect(url, "get_table_names")
    assert "exportaciones" not in tables and "clientes" in tables
    migrate.upgrade(url)
    indexes = {ix["name"] for ix in _inspect(url, "get_indexes", "exportaciones")}
    assert indexes == {"idx_exportaciones_fecha"}
