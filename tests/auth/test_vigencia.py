"""The token's user is not read from the database on every request, yet a deactivation or a role change
applies to the very next request: in one worker, and in two instances that share Redis."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from agente_vendedor.auth.cache import TokensVerificados
from agente_vendedor.core.security import create_access_token
from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings
from tests.conftest import StaffMember
from tests.factories import cliente_data, producto_data

REDIS_URL = "redis://127.0.0.1:6379/15"


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine runs inside the block (and connection checkouts as 'CHECKOUT')."""
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()).lower())

    def on_checkout(*_args: Any) -> None:
        seen.append("CHECKOUT")

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine.pool, "checkout", on_checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine.pool, "checkout", on_checkout)


def _reads_usuarios(seen: list[str]) -> int:
    return sum(1 for statement in seen if "from usuarios" in statement)


def test_an_authenticated_read_does_not_read_the_user_again(
    app: FastAPI, client: TestClient, anon_client: TestClient, make_user: Callable[..., StaffMember]
) -> None:
    vendedor = make_user("vendedor")
    cliente = client.post("/clientes/", json=cliente_data()).json()
    url = f"/clientes/{cliente['id']}"
    assert anon_client.get(url, headers=vendedor.headers).status_code == 200
    with statements(app.state.engine) as seen:
        for _ in range(3):
            assert anon_client.get(url, headers=vendedor.headers).status_code == 200
    assert _reads_usuarios(seen) == 0, seen
    # One connection per request, for the cliente's row: read on the pooled connection by `core.dbapi`, which
    # no engine event sees; the user lookup would have gone through a session and shown here.
    assert seen == ["CHECKOUT"] * 3


def test_a_cached_catalog_page_touches_no_database_connection(app: FastAPI, client: TestClient) -> None:
    client.post("/productos/", json=producto_data())
    first = client.get("/productos/", params={"limit": 20})
    with statements(app.state.engine) as seen:
        again = client.get("/productos/", params={"limit": 20})
    assert seen == []
    assert again.json() == first.json()
    assert again.headers["X-Total-Count"] == first.headers["X-Total-Count"] == "1"
    assert again.headers["content-type"] == "application/json"


def test_deactivation_and_demotion_apply_to_the_next_request(
    app: FastAPI, client: TestClient, anon_client: TestClient, make_user: Callable[..., StaffMember]
) -> None:
    admin = make_user("admin")
    vendedor = make_user("vendedor")
    for _ in range(2):  # the second request is answered from the worker's table
        assert anon_client.get("/usuarios/", headers=admin.headers).status_code == 200
        assert anon_client.get("/clientes/", headers=vendedor.headers).status_code == 200

    assert client.patch(f"/usuarios/{admin.id}", json={"rol": "vendedor"}).status_code == 200
    assert anon_client.get("/usuarios/", headers=admin.headers).status_code == 403
    assert anon_client.get("/clientes/", headers=admin.headers).status_code == 200

    assert client.patch(f"/usuarios/{vendedor.id}", json={"activo": False}).status_code == 200
    assert anon_client.get("/clientes/", headers=vendedor.headers).status_code == 401
    assert client.patch(f"/usuarios/{vendedor.id}", json={"activo": True}).status_code == 200
    assert anon_client.get("/clientes/", headers=vendedor.headers).status_code == 200


def test_a_change_by_sql_through_the_app_sessions_applies_at_once(
    app: FastAPI, anon_client: TestClient, make_user: Callable[..., StaffMember]
) -> None:
    vendedor = make_user("vendedor")
    assert anon_client.get("/clientes/", headers=vendedor.headers).status_code == 200
    with app.state.session_factory.begin() as session:
        session.execute(text("UPDATE usuarios SET activo = :no WHERE id = :id"), {"no": False, "id": vendedor.id})
    assert anon_client.get("/clientes/", headers=vendedor.headers).status_code == 401


def test_a_rolled_back_change_does_not_apply(
    app: FastAPI, anon_client: TestClient, make_user: Callable[..., StaffMember]
) -> None:
    vendedor = make_user("vendedor")
    assert anon_client.get("/clientes/", headers=vendedor.headers).status_code == 200
    with app.state.session_factory() as session:
        session.execute(text("UPDATE usuarios SET activo = :no WHERE id = :id"), {"no": False, "id": vendedor.id})
        session.rollback()
    assert anon_client.get("/clientes/", headers=vendedor.headers).status_code == 200


def test_changes_outside_the_app_apply_after_auth_cache_seconds(
    settings: Settings, make_user: Callable[..., StaffMember]
) -> None:
    # A write that bypasses every app session (another program) is only bounded by AUTH_CACHE_SECONDS;
    # with 0 the worker reads the user on every request, as before the table existed.
    worker = create_app(settings.model_copy(update={"AUTH_CACHE_SECONDS": 0}))
    vendedor = make_user("vendedor")
    with TestClient(worker, headers=vendedor.headers) as http:
        assert http.get("/clientes/").status_code == 200
        with worker.state.engine.begin() as connection:
            connection.execute(text("UPDATE usuarios SET rol = 'admin' WHERE id = :id"), {"id": vendedor.id})
        assert http.get("/usuarios/").status_code == 200
    worker.state.engine.dispose()


@pytest.fixture
def redis_workers(settings: Settings) -> Iterator[tuple[FastAPI, FastAPI]]:
    """Two app instances (as two workers or two machines) sharing the local Redis."""
    shared = settings.model_copy(update={"REDIS_URL": REDIS_URL})
    workers = create_app(shared), create_app(shared)
    yield workers
    for worker in workers:
        worker.state.engine.dispose()


def test_a_change_in_one_instance_applies_at_once_in_the_other(
    redis_workers: tuple[FastAPI, FastAPI], make_user: Callable[..., StaffMember]
) -> None:
    worker_a, worker_b = redis_workers
    admin = make_user("admin").headers
    vendedor = make_user("vendedor")
    with TestClient(worker_a, headers=admin) as a, TestClient(worker_b, headers=vendedor.headers) as b:
        assert b.get("/clientes/").status_code == 200
        with statements(worker_b.state.engine) as seen:
            assert b.get("/clientes/").status_code == 200
            assert b.get("/usuarios/").status_code == 403
        assert _reads_usuarios(seen) == 0, "B answers from its own table while nothing changes"

        assert a.patch(f"/usuarios/{vendedor.id}", json={"rol": "admin"}).status_code == 200
        assert b.get("/usuarios/").status_code == 200

        assert a.patch(f"/usuarios/{vendedor.id}", json={"activo": False}).status_code == 200
        revoked = b.get("/clientes/")
        assert revoked.status_code == 401
        assert revoked.headers["WWW-Authenticate"] == "Bearer"


def test_a_verified_token_is_kept_only_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "clave-de-prueba-suficientemente-larga-para-hs256"
    tokens = TokensVerificados(secret)
    token = create_access_token(user_id=7, rol="vendedor", secret=secret, expires_minutes=1)
    data = tokens.decode(token)
    assert data is not None and (data.user_id, data.rol) == (7, "vendedor")
    assert tokens.decode(token) == data
    tampered = token[:-4] + ("BBBB" if token.endswith("AAAA") else "AAAA")
    assert tokens.decode(tampered) is None  # a different string is verified on its own, and fails
    later = time.time() + 120
    monkeypatch.setattr(time, "time", lambda: later)
    assert tokens.decode(token) is None


def test_with_redis_down_the_user_is_read_from_the_database(
    settings: Settings, make_user: Callable[..., StaffMember]
) -> None:
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    worker = create_app(settings.model_copy(update={"REDIS_URL": f"redis://127.0.0.1:{port}/0"}))
    vendedor = make_user("vendedor")
    with TestClient(worker, headers=vendedor.headers) as http:
        assert http.get("/clientes/").status_code == 200
        with worker.state.engine.begin() as connection:
            connection.execute(
                text("UPDATE usuarios SET activo = :no WHERE id = :id"), {"no": False, "id": vendedor.id}
            )
        assert http.get("/clientes/").status_code == 401
    worker.state.engine.dispose()
