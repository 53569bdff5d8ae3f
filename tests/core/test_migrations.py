"""Alembic is the only way the schema is made: it goes up, down and up again, and matches the models."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from agente_vendedor.core import migrate
from agente_vendedor.core.config import normalize_database_url
from agente_vendedor.core.db import Base
from tests.conftest import BACKENDS


def _columns(url: str, table: str) -> set[str]:
    engine = create_engine(normalize_database_url(url))
    try:
        return {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def _indexes(url: str, table: str) -> set[str]:
    engine = create_engine(normalize_database_url(url))
    try:
        return {i["name"] for i in inspect(engine).get_indexes(table) if i["name"]}
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(normalize_database_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_upgrade_downgrade_upgrade(backend_name: str, empty_database_factory: Callable[[str], str]) -> None:
    url = empty_database_factory(backend_name)
    migrate.upgrade(url, "0001")
    assert {"clientes", "productos", "ventas"} <= _tables(url)
    assert "fecha_ultima_compra" not in _columns(url, "clientes")
    assert {"idx_clientes_email", "idx_clientes_nombre"} <= _indexes(url, "clientes")
    assert {"idx_ventas_cliente", "idx_ventas_fecha"} <= _indexes(url, "ventas")
    assert "idx_productos_categoria" in _indexes(url, "productos")

    migrate.upgrade(url, "0002")
    assert "fecha_ultima_compra" in _columns(url, "clientes")
    assert "idx_clientes_ultima_compra" in _indexes(url, "clientes")

    migrate.downgrade(url, "0001")
    assert "fecha_ultima_compra" not in _columns(url, "clientes")
    assert "idx_clientes_ultima_compra" not in _indexes(url, "clientes")

    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    assert _tables(url) == set()

    migrate.upgrade(url)
    assert {"clientes", "productos", "ventas"} <= _tables(url)


_FTS = re.compile(r"_fts(_(data|idx|content|docsize|config))?$")


def _not_fts_name(name: str | None, type_: str, _parent: object) -> bool:
    """Full-text tables are FTS5 virtual tables on SQLite (untyped, with shadow tables) and absent on PostgreSQL
    (a tsvector column does the job there): the search tests cover them, not this comparison."""
    return not (type_ == "table" and _FTS.search(name or ""))


def _not_fts_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return _not_fts_name(name, type_, None)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_models_match_the_migrated_schema(backend_name: str, empty_database_factory: Callable[[str], str]) -> None:
    url = empty_database_factory(backend_name)
    migrate.upgrade(url)
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "include_name": _not_fts_name, "include_object": _not_fts_object},
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
