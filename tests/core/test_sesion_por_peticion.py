"""The request's session is finished by its `DbRoute`: committed on success, rolled back on any error, closed always."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from agente_vendedor.canales.config import TELEGRAM_VARS, WHATSAPP_VARS
from agente_vendedor.core.db import SessionDep, create_db_engine, create_session_factory, get_session
from agente_vendedor.core.routing import DbRoute, PrefixedRouter
from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings


def _routes(router: Any) -> Iterator[Any]:
    for route in router.routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            yield from _routes(original)
        else:
            yield route


def _calls(dependant: Any) -> Iterator[Any]:
    if dependant is None:  # a mount or a plain Starlette route
        return
    yield dependant.call
    for child in dependant.dependencies:
        yield from _calls(child)


def test_every_route_of_the_service_that_uses_a_session_finishes_it(tmp_path: Path) -> None:
    every_channel: dict[str, Any] = dict.fromkeys((*WHATSAPP_VARS, *TELEGRAM_VARS), "x" * 32)
    settings = Settings.model_validate(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'rutas.db'}", "DATA_DIRECTORY": tmp_path, **every_channel}
    )
    assert settings.whatsapp_enabled and settings.telegram_enabled and settings.WIDGET_ENABLED
    app = create_app(settings)
    with_session = [route for route in _routes(app.router) if get_session in _calls(getattr(route, "dependant", None))]
    assert len(with_session) > 30
    assert [route.path for route in with_session if not isinstance(route, DbRoute)] == []


class Roto(Exception):
    """The endpoint fails after writing."""


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'sesiones.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notas (texto TEXT NOT NULL)"))
    yield engine
    engine.dispose()


def _lee_sesion(session: SessionDep) -> int:
    """A dependency that reads through the request's session before the endpoint's parameters are validated."""
    return int(session.execute(text("SELECT count(*) FROM notas")).scalar_one())


@pytest.fixture
def client(engine: Engine) -> TestClient:
    router = PrefixedRouter(prefix="/notas", route_class=DbRoute)

    @router.post("/")
    def crear(texto: str, session: SessionDep) -> str:
        session.execute(text("INSERT INTO notas VALUES (:t)"), {"t": texto})
        return texto

    @router.post("/roto")
    def roto(texto: str, session: SessionDep) -> str:
        session.execute(text("INSERT INTO notas VALUES (:t)"), {"t": texto})
        raise Roto()

    @router.post("/async")
    async def crear_async(texto: str, session: SessionDep) -> str:
        session.execute(text("INSERT INTO notas VALUES (:t)"), {"t": texto})
        return texto

    @router.post("/async-roto")
    async def roto_async(texto: str, session: SessionDep) -> str:
        session.execute(text("INSERT INTO notas VALUES (:t)"), {"t": texto})
        raise Roto()

    @router.get("/contar")
    def contar(antes: Annotated[int, Depends(_lee_sesion)], limite: Annotated[int, Query(ge=1)]) -> int:
        return antes

    app = FastAPI()
    app.state.session_factory = create_session_factory(engine)
    app.include_router(router)
    return TestClient(app, raise_server_exceptions=False)


def _textos(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.execute(text("SELECT texto FROM notas ORDER BY texto")).scalars())


def test_success_commits_and_errors_roll_back_sync_and_async(client: TestClient, engine: Engine) -> None:
    assert client.post("/notas/", params={"texto": "a"}).status_code == 200
    assert client.post("/notas/async", params={"texto": "b"}).status_code == 200
    assert client.post("/notas/roto", params={"texto": "x"}).status_code == 500
    assert client.post("/notas/async-roto", params={"texto": "y"}).status_code == 500
    assert _textos(engine) == ["a", "b"]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_session_a_dependency_used_is_finished_when_validation_fails(client: TestClient, engine: Engine) -> None:
    assert client.get("/notas/contar", params={"limite": 0}).status_code == 422  # after the dependency read
    assert client.get("/notas/contar", params={"limite": 1}).json() == 0
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
