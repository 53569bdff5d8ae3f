"""The catalog cache never shows stale data after a committed change, in memory and in Redis."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text, update

from agente_vendedor.core.metrics import CATALOG_CACHE
from agente_vendedor.main import create_app
from agente_vendedor.productos.models import Producto
from agente_vendedor.settings import Settings
from tests.conftest import StaffMember
from tests.factories import producto_data

REDIS_URL = "redis://127.0.0.1:6379/15"


def _hits() -> float:
    return float(CATALOG_CACHE.labels("hit")._value.get())


def test_reads_are_cached_and_a_price_change_is_visible_at_once(client: TestClient, anon_client: TestClient) -> None:
    producto = client.post("/productos/", json=producto_data(precio="10.00")).json()
    url = f"/productos/{producto['id']}"
    assert anon_client.get(url).json()["precio"] == "10.00"
    hits = _hits()
    assert anon_client.get(url).json()["precio"] == "10.00"
    assert anon_client.get("/productos/").json()[0]["precio"] == "10.00"
    assert anon_client.get("/productos/").json()[0]["precio"] == "10.00"
    assert _hits() == hits + 2

    client.patch(url, json={"precio": "12.50"})
    assert anon_client.get(url).json()["precio"] == "12.50"
    assert anon_client.get("/productos/").json()[0]["precio"] == "12.50"
    client.delete(url)
    assert anon_client.get("/productos/", params={"activo": "true"}).json() == []


def test_stock_changed_by_sql_invalidates_too(app: FastAPI, client: TestClient, anon_client: TestClient) -> None:
    producto = client.post("/productos/", json=producto_data(stock=5)).json()
    url = f"/productos/{producto['id']}"
    assert anon_client.get(url).json()["stock"] == 5
    with app.state.session_factory.begin() as session:
        session.execute(update(Producto).where(Producto.id == producto["id"]).values(stock=Producto.stock - 2))
    assert anon_client.get(url).json()["stock"] == 3
    with app.state.session_factory.begin() as session:
        session.execute(text("UPDATE productos SET stock = 0 WHERE id = :id"), {"id": producto["id"]})
    assert anon_client.get(url).json()["stock"] == 0


def test_a_rolled_back_change_keeps_the_cache(app: FastAPI, client: TestClient, anon_client: TestClient) -> None:
    producto = client.post("/productos/", json=producto_data(stock=5)).json()
    url = f"/productos/{producto['id']}"
    anon_client.get(url)
    hits = _hits()
    with app.state.session_factory() as session:
        session.execute(update(Producto).values(stock=99))
        session.rollback()
    assert anon_client.get(url).json()["stock"] == 5
    assert _hits() == hits + 1


@pytest.fixture
def redis_workers(settings: Settings) -> tuple[FastAPI, FastAPI]:
    """Two app instances (as two workers) sharing the machine's real Redis."""
    shared = settings.model_copy(update={"REDIS_URL": REDIS_URL})
    return create_app(shared), create_app(shared)


def test_redis_cache_is_invalidated_for_every_worker(
    redis_workers: tuple[FastAPI, FastAPI], make_user: Callable[..., StaffMember]
) -> None:
    worker_a, worker_b = redis_workers
    admin = make_user("admin").headers
    with TestClient(worker_a) as a, TestClient(worker_b, headers=admin) as b:
        producto = b.post("/productos/", json=producto_data(precio="5.00")).json()
        url = f"/productos/{producto['id']}"
        assert a.get(url).json()["precio"] == "5.00"
        hits = _hits()
        assert b.get(url).json()["precio"] == "5.00"  # worker B reads what worker A cached
        assert _hits() == hits + 1
        b.patch(url, json={"precio": "6.00"})
        assert a.get(url).json()["precio"] == "6.00"
