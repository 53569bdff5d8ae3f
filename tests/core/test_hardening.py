"""Hostile input, rate limits, security headers and masked logs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from agente_vendedor.core.logging import MaskingFilter, mask
from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings
from tests.conftest import TEST_PASSWORD, StaffMember
from tests.factories import cliente_data

REDIS_URL = "redis://127.0.0.1:6379/15"


def _attempt(client: TestClient, username: str, password: str = "incorrecta") -> int:
    return client.post("/auth/token", data={"username": username, "password": password}).status_code


def test_login_is_limited_per_ip_with_retry_after(settings: Settings, make_user: Callable[..., StaffMember]) -> None:
    make_user("admin", email="limite@tienda.example.com")
    app = create_app(settings.model_copy(update={"RATE_LIMIT_LOGIN": "3/minute"}))
    with TestClient(app) as client:
        assert [_attempt(client, f"u{i}@tienda.example.com") for i in range(3)] == [401, 401, 401]
        blocked = client.post("/auth/token", data={"username": "limite@tienda.example.com", "password": TEST_PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "limite_excedido"
    assert "Demasiadas peticiones" in blocked.json()["detail"]
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60


def test_login_is_limited_per_username_across_ips(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"RATE_LIMIT_LOGIN": "2/minute"}))
    codes = []
    for i in range(3):
        with TestClient(app, client=(f"10.0.0.{i + 1}", 5000)) as client:
            codes.append(_attempt(client, "victima@tienda.example.com"))
    assert codes == [401, 401, 429]


@pytest.fixture
def redis_settings(settings: Settings) -> Iterator[Settings]:
    """Settings whose limiter counts in the machine's real Redis (db 15), cleaned before and after."""
    limited = settings.model_copy(update={"RATE_LIMIT_LOGIN": "2/minute", "REDIS_URL": REDIS_URL})
    create_app(limited).state.rate_limiter.reset()
    yield limited
    create_app(limited).state.rate_limiter.reset()


def test_redis_limits_are_shared_between_workers(redis_settings: Settings) -> None:
    worker_a, worker_b = create_app(redis_settings), create_app(redis_settings)
    user = f"{uuid.uuid4().hex}@tienda.example.com"
    with TestClient(worker_a) as a, TestClient(worker_b) as b:
        assert _attempt(a, user) == 401
        assert _attempt(b, user) == 401
        assert _attempt(a, user) == 429
        assert _attempt(b, user) == 429


def test_bodies_over_the_limit_are_413_and_write_nothing(settings: Settings, admin_headers: dict[str, str]) -> None:
    app = create_app(settings.model_copy(update={"MAX_BODY_BYTES": 2048}))
    with TestClient(app, headers=admin_headers) as client:
        big = cliente_data(direccion="x" * 400)
        big["nombre"] = "n" * 3000
        declared = client.post("/clientes/", json=big)
        assert declared.status_code == 413
        assert declared.json() == {"detail": "La petición es demasiado grande", "code": "peticion_demasiado_grande"}

        def chunks() -> Iterator[bytes]:
            yield b'{"nombre": "'
            for _ in range(10):
                yield b"y" * 500
            yield b'", "email": "chunk@example.com"}'

        streamed = client.post("/clientes/", content=chunks(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413
        assert client.get("/clientes/").headers["X-Total-Count"] == "0"


def test_security_headers(anon_client: TestClient) -> None:
    api = anon_client.get("/productos/")
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert api.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in api.headers["Content-Security-Policy"]
    docs = anon_client.get("/docs")
    assert "script-src 'self'" in docs.headers["Content-Security-Policy"]
    assert "cdn" not in docs.text.lower()


def test_hostile_strings_never_cause_a_server_error(client: TestClient) -> None:
    hostile = [
        "' OR '1'='1' --",
        "1; DROP TABLE productos; --",
        "<img src=x onerror=alert(1)>",
        "😀" * 50,
        "ñ" * 300,
        "\u202e\u200b",
    ]
    for text in hostile:
        for response in (
            client.get("/clientes/buscar", params={"q": text[:100]}),
            client.get("/productos/", params={"categoria": text[:100]}),
            client.post("/clientes/", json=cliente_data(nombre=text)),
            client.post("/productos/", json={"nombre": text, "precio": "1.00"}),
        ):
            assert response.status_code < 500, (text, response.status_code, response.text)
    assert client.get("/productos/").status_code == 200


def test_logs_mask_personal_data_and_secrets(caplog: pytest.LogCaptureFixture) -> None:
    line = "login ana.garcia@example.com tel +34 600 123 456 Bearer eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl password=hunter22"
    assert mask(line) == "login a***@example.com tel ***456 Bearer *** password=***"
    logger = logging.getLogger("agente_vendedor.prueba")
    records: list[logging.LogRecord] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Recorder()
    handler.addFilter(MaskingFilter())
    logger.addHandler(handler)
    try:
        logger.warning("cliente %s con token %s", "jose@example.com", "eyJa.eyJb.firma")
    finally:
        logger.removeHandler(handler)
    assert records[0].getMessage() == "cliente j***@example.com con token ***"
