"""One error shape everywhere, in Spanish, and no stack trace ever reaches a client."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings


def test_unknown_route_and_method_answer_in_spanish(client: TestClient) -> None:
    assert client.get("/no-existe").json() == {"detail": "Recurso no encontrado", "code": "no_encontrado"}
    response = client.put("/clientes/")
    assert response.status_code == 405
    assert response.json()["code"] == "metodo_no_permitido"


def test_malformed_json_is_422_not_500(client: TestClient) -> None:
    response = client.post("/clientes/", content=b"{no es json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["code"] == "validacion"
    invalid_utf8 = client.post(
        "/clientes/", content=b'{"nombre": "\xff\xfe"}', headers={"Content-Type": "application/json"}
    )
    assert invalid_utf8.status_code == 400
    assert invalid_utf8.json()["code"] == "solicitud_invalida"


def test_unexpected_error_is_a_logged_500_with_request_id(settings: Settings, caplog: object) -> None:
    app: FastAPI = create_app(settings)

    @app.get("/explota")
    def explota() -> None:
        raise RuntimeError("secreto interno que no debe salir")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/explota", headers={"X-Request-ID": "prueba-123"})
    assert response.status_code == 500
    body = response.json()
    assert body == {
        "detail": "Error interno del servidor. Referencia: prueba-123",
        "code": "error_interno",
        "request_id": "prueba-123",
    }
    assert "secreto" not in response.text
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == "prueba-123"]  # type: ignore[attr-defined]
    assert logged and logged[0].levelname == "ERROR" and logged[0].exc_info


def test_request_id_is_generated_or_echoed(client: TestClient) -> None:
    generated = client.get("/health").headers["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/health", headers={"X-Request-ID": "abc-1"}).headers["X-Request-ID"] == "abc-1"
    hostile = client.get("/health", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"]
    assert hostile != "<script>"


def test_cors_allows_configured_origins_only(client: TestClient) -> None:
    allowed = client.options(
        "/clientes/", headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"}
    )
    assert allowed.headers.get("access-control-allow-origin") == "http://localhost:3000"
    denied = client.options(
        "/clientes/", headers={"Origin": "https://malicioso.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in denied.headers


def test_every_answer_varies_with_origin_and_only_cross_origin_ones_get_cors_headers(client: TestClient) -> None:
    same_origin = client.get("/productos/")
    assert same_origin.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in same_origin.headers

    cross_origin = client.get("/productos/", headers={"Origin": "http://localhost:3000"})
    assert cross_origin.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert cross_origin.headers["access-control-expose-headers"]
    assert [v.strip() for v in cross_origin.headers["vary"].split(",")].count("Origin") == 1

    unknown = client.get("/productos/", headers={"Origin": "https://malicioso.example"})
    assert unknown.status_code == 200 and "access-control-allow-origin" not in unknown.headers
    assert unknown.headers["vary"] == "Origin"


def test_a_vary_header_set_by_the_app_keeps_its_values() -> None:
    from starlette.responses import PlainTextResponse

    from agente_vendedor.core.middleware import HttpMiddleware

    async def app(scope: Any, receive: Any, send: Any) -> None:
        response = PlainTextResponse("hola", headers={"Vary": "Accept-Language"})
        await response(scope, receive, send)

    answer = TestClient(HttpMiddleware(app, max_bytes=1000)).get("/")
    assert answer.headers["vary"] == "Accept-Language, Origin"
