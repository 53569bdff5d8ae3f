"""Migration 0008 (channels): existing chats become `api`, their messages survive a down and up again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, inspect, text

from agente_vendedor.core import migrate
from agente_vendedor.core.config import normalize_database_url
from tests.conftest import BACKENDS

NEW_TABLES = {"canal_contactos", "canal_entrantes", "canal_salientes"}


def _inspect(url: str) -> tuple[set[str], set[str], set[str]]:
    engine = create_engine(normalize_database_url(url))
    try:
        inspector = inspect(engine)
        tables = set(inspector.get_table_names())
        conversaciones = {c["name"] for c in inspector.get_columns("conversaciones")}
        mensajes = {c["name"] for c in inspector.get_columns("mensajes")}
        return tables, conversaciones, mensajes
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_chats_keep_their_messages_through_0008_down_and_up(
    backend_name: str, empty_database_factory: Callable[[str], str]
) -> None:
    url = empty_database_factory(backend_name)
    migrate.upgrade(url, "0007")
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
    migrate.upgrade(url, "0008")
    tables, conversaciones, mensajes = _inspect(url)
    assert tables >= NEW_TABLES and "canal" in conversaciones and "entrega" in mensajes
    with engine.begin() as connection:
        assert connection.execute(text("SELECT canal FROM conversaciones")).scalar_one() == "api"
        assert connection.execute(text("SELECT count(*) FROM mensajes")).scalar_one() == 1

    migrate.downgrade(url, "0007")
    tables, conversaciones, mensajes = _inspect(url)
    assert not tables & NEW_TABLES and "canal" not in conversaciones and "entrega" not in mensajes
    with engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM mensajes")).scalar_one() == 1

    migrate.upgrade(url)
    assert _inspect(url)[0] >= NEW_TABLES
    engine.dispose()
