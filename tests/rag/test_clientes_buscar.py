"""`GET /clientes/buscar`: literal matches first, exact ones on top, typos found through trigrams and vectors."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import cliente_data


def nombres(client: TestClient, q: str) -> list[str]:
    response = client.get("/clientes/buscar", params={"q": q})
    assert response.status_code == 200, response.text
    return [c["nombre"] for c in response.json()]


def crear(client: TestClient, **datos: Any) -> dict[str, Any]:
    response = client.post("/clientes/", json=cliente_data(**datos))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_misspelt_names_still_find_the_cliente(client: TestClient) -> None:
    crear(client, nombre="Lucía González Fernández", direccion="Avenida de la Constitución 4, Sevilla")
    crear(client, nombre="Pedro Sánchez", direccion="Calle Mayor 1, Madrid")
    crear(client, nombre="Ana Ruiz", direccion="Gran Vía 20, Bilbao")

    assert nombres(client, "lucia gonzales")[0] == "Lucía González Fernández"
    assert nombres(client, "Sanches")[0] == "Pedro Sánchez"
    assert nombres(client, "sevila")[0] == "Lucía González Fernández"  # by address, with a typo


def test_exact_email_and_phone_come_first_with_score(client: TestClient) -> None:
    crear(client, nombre="Ana Ruiz", email="ana.ruiz@example.com", telefono="611 999 888")
    crear(client, nombre="Ana Ruiz Gómez", email="anaruiz@example.com", telefono="611 999 887")

    response = client.get("/clientes/buscar", params={"q": "ana.ruiz@example.com"}).json()
    assert response[0]["email"] == "ana.ruiz@example.com" and response[0]["score"] > 1
    assert nombres(client, "611999888")[0] == "Ana Ruiz"
    assert nombres(client, "ana ruiz")[0] == "Ana Ruiz"


def test_a_name_that_exists_does_not_bring_look_alikes(client: TestClient) -> None:
    crear(client, nombre="José Pérez")
    crear(client, nombre="Josefa Páez")
    assert nombres(client, "jose perez") == ["José Pérez"]


def test_updated_and_deactivated_clientes(client: TestClient) -> None:
    cliente = crear(client, nombre="Marta Villanueva")
    client.patch(f"/clientes/{cliente['id']}", json={"nombre": "Marta Villalobos"})
    assert nombres(client, "villalobos") == ["Marta Villalobos"]
    assert nombres(client, "vilanueva") != ["Marta Villanueva"]
    assert client.app.state.rag.index.count("clientes") == 1  # type: ignore[attr-defined]


def test_bounds(client: TestClient) -> None:
    assert client.get("/clientes/buscar", params={"q": "x" * 101}).status_code == 422
    assert client.get("/clientes/buscar", params={"q": "ana", "limit": 0}).status_code == 422
    assert client.get("/clientes/buscar", params={"q": "ana", "limit": 101}).status_code == 422
