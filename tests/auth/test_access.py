"""Who may call what: every route is closed unless it is on the public list."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import StaffMember
from tests.factories import cliente_data, producto_data

# The only routes a visitor may call without a token. A new route is closed until it is added here on purpose.
PUBLIC = {
    ("GET", "/health"),
    ("GET", "/health/live"),
    ("POST", "/auth/token"),
    ("GET", "/productos/"),
    ("GET", "/productos/categorias"),
    ("GET", "/productos/buscar"),
    ("GET", "/productos/{producto_id}"),
    ("POST", "/rag/query"),
    # The web widget talks for shop visitors: its chat id (128 random bits) is the key to its own history only.
    ("GET", "/canales/web/config"),
    ("POST", "/canales/web/mensajes"),
    ("GET", "/canales/web/chats/{chat_id}"),
}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_non_public_route_answers_401_without_a_token(app: FastAPI, anon_client: TestClient) -> None:
    # The OpenAPI document is the app's own route table, with every router's prefix applied.
    checked = 0
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            if (method.upper(), path) in PUBLIC:
                continue
            response = anon_client.request(method.upper(), _concrete(path), json={})
            assert response.status_code == 401, f"{method.upper()} {path} responde {response.status_code} sin token"
            assert response.headers["WWW-Authenticate"] == "Bearer"
            checked += 1
    assert checked >= 10


def test_public_routes_answer_without_a_token(anon_client: TestClient) -> None:
    assert anon_client.get("/health").status_code == 200
    assert anon_client.get("/productos/").status_code == 200
    assert anon_client.get("/productos/categorias").status_code == 200
    assert anon_client.get("/openapi.json").status_code == 200
    assert anon_client.get("/docs").status_code == 200


def test_role_matrix(client: TestClient, anon_client: TestClient, make_user: Callable[..., StaffMember]) -> None:
    vendedor = make_user("vendedor").headers
    producto = anon_client.post("/productos/", json=producto_data(), headers=vendedor)
    assert producto.status_code == 201
    assert (
        anon_client.patch(f"/productos/{producto.json()['id']}", json={"stock": 3}, headers=vendedor).status_code == 200
    )
    assert anon_client.post("/productos/", json=producto_data()).status_code == 401

    cliente = anon_client.post("/clientes/", json=cliente_data(), headers=vendedor)
    assert cliente.status_code == 201
    assert anon_client.get("/clientes/buscar", params={"q": "cliente"}, headers=vendedor).status_code == 200
    assert anon_client.delete(f"/clientes/{cliente.json()['id']}", headers=vendedor).status_code == 204

    assert anon_client.get("/usuarios/", headers=vendedor).status_code == 403
    assert client.get("/usuarios/").status_code == 200
