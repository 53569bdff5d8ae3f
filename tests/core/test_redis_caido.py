"""Redis down: the catalog cache is bypassed and rate limits count per worker; no request fails, nothing stale."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings
from tests.factories import producto_data
from tests.procesos import RedisPropio


@pytest.fixture
def redis_propio() -> Iterator[RedisPropio]:
    """A private redis-server that this test may stop and start."""
    server = RedisPropio()
    server.start()
    yield server
    server.stop()


def _login(client: TestClient, user: str) -> int:
    return client.post("/auth/token", data={"username": user, "password": "incorrecta"}).status_code


def test_redis_outage_and_restart_without_errors_or_stale_reads(
    settings: Settings,
    admin_headers: dict[str, str],
    redis_propio: RedisPropio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    shared = settings.model_copy(update={"REDIS_URL": redis_propio.url, "RATE_LIMIT_LOGIN": "3/minute"})
    worker_a, worker_b = create_app(shared), create_app(shared)
    try:
        with TestClient(worker_a, headers=admin_headers) as a, TestClient(worker_b, headers=admin_headers) as b:
            producto = a.post("/productos/", json=producto_data(precio="10.00", stock=5)).json()
            url = f"/productos/{producto['id']}"
            assert b.get(url).json()["precio"] == "10.00"  # cached in Redis by worker b
            assert _login(a, "antes@tienda.example.com") == 401

            caplog.set_level(logging.WARNING)
            redis_propio.stop()
            # Reads and writes go on; a change made by one worker is seen by the other (cache bypassed, not stale).
            assert a.patch(url, json={"precio": "12.50"}).status_code == 200
            assert b.get(url).json()["precio"] == "12.50"
            assert b.get("/productos/").status_code == 200
            # Limits still hold per worker: 3 attempts, then 429 (never a 500).
            assert [_login(a, "caida@tienda.example.com") for _ in range(4)] == [401, 401, 401, 429]
            assert "Redis no responde" in caplog.text

            redis_propio.start()  # restarted empty, as after a crash
            assert a.patch(url, json={"precio": "15.00"}).status_code == 200
            # Back to the shared cache: every read answers and none is stale, whichever worker serves it.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "Redis vuelve a responder" not in caplog.text:
                assert b.get(url).json()["precio"] == "15.00"
                assert a.get(url).json()["precio"] == "15.00"
                time.sleep(0.2)
            assert "Redis vuelve a responder" in caplog.text
            assert b.get(url).json()["precio"] == "15.00"
            assert a.patch(url, json={"precio": "16.00"}).status_code == 200
            assert b.get(url).json()["precio"] == "16.00"
            # Shared counting again: the limit holds across both workers.
            user = "despues@tienda.example.com"
            assert [_login(a, user), _login(b, user), _login(a, user), _login(b, user)] == [401, 401, 401, 429]
    finally:
        from tests.conftest import _wipe

        _wipe(worker_a)
        for app in (worker_a, worker_b):
            app.state.engine.dispose()
