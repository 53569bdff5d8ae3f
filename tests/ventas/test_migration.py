"""Migration 0003 goes up, down to 0002 and up again on each backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, inspect

from agente_vendedor.core import migrate
from tests.conftest import BACKENDS

NEW_TABLES = {"ventas_lineas", "ventas_historial", "ventas_idempotencia"}


def _schema(url: str) -> tuple[set[str], set[str]]:
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        return set(inspector.get_table_names()), {ix["name"] or "" for ix in inspector.get_indexes("ventas")}
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_upgrade_downgrade_upgrade(backend_name: str, empty_database_factory: Callable[[str], str]) -> None:
    url = empty_database_factory(backend_name)
    migrate.upgrade(url)
    tables, indexes = _schema(url)
    assert tables >= NEW_TABLES
    assert "idx_ventas_estado" in indexes

    migrate.downgrade(url, "0002")
    tables, indexes = _schema(url)
    assert not tables & NEW_TABLES
    assert "idx_ventas_estado" not in indexes
    assert "ventas" in tables

    migrate.upgrade(url)
    tables, indexes = _schema(url)
    assert tables >= NEW_TABLES
    assert "idx_ventas_estado" in indexes
