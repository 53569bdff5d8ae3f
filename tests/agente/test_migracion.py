"""Migration 0007 (conversations) goes up with data, down and up again on each backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, inspect, text

from agente_vendedor.core import migrate
from agente_vendedor.core.config import normalize_database_url
from tests.conftest import BACKENDS

NEW_TABLES = {"conversaciones", "mensajes", "demanda_insatisfecha"}


def _tables(url: str) -> set[str]:
    engine = create_engine(normalize_database_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_upgrade_with_chats_downgrade_and_upgrade_again(
    backend_name: str, empty_database_factory: Callable[[str], str]
) -> None:
    url = empty_database_factory(backend_name)
    migrate.upgrade(url)
    assert _tables(url) >= NEW_TABLES
    engine = create_engine(normalize_database_url(url))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO conversaciones (chat_id, fecha_inicio, fecha_actualizacion) "
                "VALUES ('web-1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO mensajes (conversacion_id, rol, texto, fecha) "
                "SELECT id, 'cliente', 'hola', CURRENT_TIMESTAMP FROM conversaciones"
            )
        )
        connection.execute(
            text(
                "INSERT INTO demanda_insatisfecha (conversacion_id, tipo, consulta, fecha) "
                "SELECT id, 'sin_producto', 'submarinos', CURRENT_TIMESTAMP FROM conversaciones"
            )
        )
        estado = connection.execute(text("SELECT estado, ia_activa, requiere_humano FROM conversaciones")).one()
        assert (estado[0], bool(estado[1]), bool(estado[2])) == ("activa", True, False)
    engine.dispose()

    migrate.downgrade(url, "0006")
    tables = _tables(url)
    assert not tables & NEW_TABLES
    assert {"usuarios", "ventas", "clientes"} <= tables

    migrate.upgrade(url)
    assert _tables(url) >= NEW_TABLES
