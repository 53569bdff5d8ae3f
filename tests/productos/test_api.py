"""The catalog over HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import producto_data


def _total(client: TestClient, **params: str) -> int:
    return int(client.get("/productos/", params=params).headers["X-Total-Count"])


def test_create_keeps_money_exact_and_normalises_sku(client: TestClient) -> None:
    response = client.post("/productos/", json=producto_data(nombre=" Taladro 750W ", precio="59.9", sku="her-tal-750"))
    assert response.status_code == 201
    body = response.json()
    assert body["nombre"] == "Taladro 750W"
    assert body["precio"] == "59.90"
    assert body["sku"] == "HER-TAL-750"
    stored = client.get(f"/productos/{body['id']}").json()
    assert Decimal(stored["precio"]) == Decimal("59.90")


def test_price_and_stock_rules_are_422_in_spanish(client: TestClient) -> None:
    cases: list[tuple[dict[str, Any], str, str | None]] = [
        ({"precio": "-1"}, "precio", "debe ser mayor o igual que 0"),
        ({"precio": "10.999"}, "precio", "admite como máximo 2 decimales"),
        ({"precio": "abc"}, "precio", "debe ser un número decimal"),
        ({"precio": "NaN"}, "precio", None),
        ({"precio": "100000000.00"}, "precio", None),
        ({"stock": -3}, "stock", "debe ser mayor o igual que 0"),
        ({"stock": 2.5}, "stock", "debe ser un número entero"),
        ({"nombre": "X"}, "nombre", "debe tener al menos 2 caracteres"),
        ({"sku": "con espacios"}, "sku", "tiene un formato no válido"),
    ]
    for override, field, message in cases:
        response = client.post("/productos/", json=producto_data(**override))
        assert response.status_code == 422, override
        errores = response.json()["errores"]
        assert errores[0]["campo"] == field, override
        if message:
            assert errores[0]["mensaje"] == message, override
    assert _total(client) == 0


def test_duplicate_sku_is_409_whatever_the_case(client: TestClient) -> None:
    client.post("/productos/", json=producto_data(sku="ABC-1"))
    response = client.post("/productos/", json=producto_data(sku="abc-1"))
    assert response.status_code == 409
    assert response.json() == {"detail": "Ya existe un producto con el SKU ABC-1", "code": "sku_duplicado"}
    assert _total(client) == 1
    no_sku = [client.post("/productos/", json=producto_data(sku=None)).status_code for _ in range(2)]
    assert no_sku == [201, 201]


def test_list_filters_by_category_and_state_with_total(client: TestClient) -> None:
    client.post("/productos/", json=producto_data(nombre="Taladro", categoria="Herramientas"))
    client.post("/productos/", json=producto_data(nombre="Martillo", categoria="Herramientas"))
    sarten = client.post("/productos/", json=producto_data(nombre="Sartén", categoria="Hogar")).json()
    client.delete(f"/productos/{sarten['id']}")

    herramientas = client.get("/productos/", params={"categoria": "herramientas"})
    assert [p["nombre"] for p in herramientas.json()] == ["Martillo", "Taladro"]
    assert herramientas.headers["X-Total-Count"] == "2"
    assert _total(client, activo="false") == 1
    assert _total(client, activo="true") == 2
    assert [p["nombre"] for p in client.get("/productos/", params={"limit": 1, "skip": 1}).json()] == ["Taladro"]
    assert client.get("/productos/categorias").json() == [{"categoria": "Herramientas", "productos": 2}]


def test_patch_updates_price_and_stock_only(client: TestClient) -> None:
    created = client.post("/productos/", json=producto_data(precio="10.00", stock=5)).json()
    response = client.patch(f"/productos/{created['id']}", json={"precio": "12.50", "stock": 0})
    assert response.status_code == 200
    body = response.json()
    assert (body["precio"], body["stock"], body["nombre"]) == ("12.50", 0, created["nombre"])
    assert client.patch(f"/productos/{created['id']}", json={"precio": None}).status_code == 422
    assert client.patch(f"/productos/{created['id']}", json={"stock": -1}).status_code == 422
    assert client.get(f"/productos/{created['id']}").json()["precio"] == "12.50"


def test_patch_sku_conflict_and_clear(client: TestClient) -> None:
    first = client.post("/productos/", json=producto_data(sku="UNO")).json()
    client.post("/productos/", json=producto_data(sku="DOS"))
    assert client.patch(f"/productos/{first['id']}", json={"sku": "dos"}).status_code == 409
    assert client.patch(f"/productos/{first['id']}", json={"sku": None}).json()["sku"] is None


def test_delete_is_soft(client: TestClient) -> None:
    created = client.post("/productos/", json=producto_data()).json()
    assert client.delete(f"/productos/{created['id']}").status_code == 204
    assert client.get(f"/productos/{created['id']}").json()["activo"] is False


def test_unknown_product_is_404(client: TestClient) -> None:
    assert client.get("/productos/4242").json() == {
        "detail": "No existe ningún producto con id 4242",
        "code": "producto_no_encontrado",
    }
    assert client.patch("/productos/4242", json={"stock": 1}).status_code == 404
    assert client.delete("/productos/4242").status_code == 404
    assert client.get("/productos/0").status_code == 422
