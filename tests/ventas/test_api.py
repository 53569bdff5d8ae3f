"""Orders over HTTP: catalog prices, all-or-nothing stock, idempotency, lifecycle and history."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from fastapi.testclient import TestClient

from agente_vendedor.core.metrics import CATALOG_CACHE
from tests.conftest import StaffMember
from tests.ventas.helpers import nuevo_cliente, nuevo_producto, pedido, stock


def test_order_is_priced_from_the_catalog_and_takes_stock(client: TestClient) -> None:
    cliente = nuevo_cliente(client)
    taladro = nuevo_producto(client, nombre="Taladro", precio="59.90", stock=5)
    broca = nuevo_producto(client, nombre="Broca", precio="0.10", stock=100)

    response = client.post("/ventas/", json=pedido(cliente, (taladro, 2), (broca, 3), metadatos={"canal": "chat"}))

    assert response.status_code == 201, response.text
    venta = response.json()
    assert venta["total"] == "120.10"
    assert venta["estado"] == "pendiente"
    assert venta["productos"] == [
        {"producto_id": taladro, "nombre": "Taladro", "precio_unitario": "59.90", "cantidad": 2, "subtotal": "119.80"},
        {"producto_id": broca, "nombre": "Broca", "precio_unitario": "0.10", "cantidad": 3, "subtotal": "0.30"},
    ]
    assert venta["metadatos"] == {"canal": "chat"}
    admin_email = client.get("/auth/me").json()["email"]
    assert [(h["estado_anterior"], h["estado_nuevo"], h["usuario"]) for h in venta["historial"]] == [
        (None, "pendiente", admin_email)
    ]
    assert stock(client, taladro) == 3
    assert stock(client, broca) == 97
    assert client.get(f"/clientes/{cliente}").json()["fecha_ultima_compra"] is not None
    assert client.get(f"/ventas/{venta['id']}").json() == venta


def test_caller_cannot_set_prices_or_totals(client: TestClient) -> None:
    cliente = nuevo_cliente(client)
    producto = nuevo_producto(client, precio="10.00")
    body = pedido(cliente, (producto, 1))
    body["total"] = "0.01"
    assert client.post("/ventas/", json=body).status_code == 422
    body = pedido(cliente, (producto, 1))
    body["productos"][0]["precio_unitario"] = "0.01"
    assert client.post("/ventas/", json=body).status_code == 422
    assert stock(client, producto) == 10


def test_later_price_changes_do_not_rewrite_the_order(client: TestClient) -> None:
    cliente = nuevo_cliente(client)
    producto = nuevo_producto(client, nombre="Lámpara", precio="25.00")
    venta = client.post("/ventas/", json=pedido(cliente, (producto, 1))).json()
    client.patch(f"/productos/{producto}", json={"precio": "99.99", "nombre": "Lámpara nueva"})
    again = client.get(f"/ventas/{venta['id']}").json()
    assert again["total"] == "25.00"
    assert again["productos"][0]["precio_unitario"] == "25.00"
    assert again["productos"][0]["nombre"] == "Lámpara"


def test_duplicate_lines_are_merged(client: TestClient) -> None:
    cliente = nuevo_cliente(client)
    producto = nuevo_producto(client, precio="1.50", stock=10)
    venta = client.post("/ventas/", json=pedido(cliente, (producto, 2), (producto, 3))).json()
    assert [(line["producto_id"], line["cantidad"]) for line in venta["productos"]] == [(producto, 5)]
    assert venta["total"] == "7.50"
    assert stock(client, producto) == 5
    too_many = client.post("/ventas/", json=pedido(cliente, (producto, 600), (producto, 600)))
    assert too_many.status_code == 422


def test_all_or_nothing_when_the_third_line_lacks_stock(client: TestClient) -> None:
    cliente = nuevo_cliente(client)
    uno = nuevo_producto(client, stock=5)
    dos = nuevo_producto(client, stock=5)
    tres = nuevo_producto(client, nombre="Escaso", stock=1)

    response = client.post("/ventas/", json=pedido(cliente, (uno, 2), (dos, 2), (tres, 3)))

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Stock insuficiente para 'Escaso' (id {tres}): se pidieron 3 y hay 1 disponibles",
        "code": "stock_insuficiente",
    }
    assert [stock(client, p) for p in (uno, dos, tres)] == [5, 5, 1]
    assert client.get("/ventas/").headers["X-Total-Count"] == "0"
    assert client.get(f"/clientes/{cliente}").json()["fecha_ultima_compra"] is None


def test_unknown_or_inactive_cliente_and_producto(client: TestClient) -> None:
    cliente = nuevo_cliente(client)
    producto = nuevo_producto(client, stock=5)

    missing_cliente = client.post("/ventas/", json=pedido(999_999, (producto, 1)))
    assert missing_cliente.status_code == 404
    assert missing_cliente.json()["code"] == "cliente_no_encontrado"

    missing_producto = client.post("/ventas/", json=pedido(cliente, (producto, 1), (999_999, 1)))
    assert missing_producto.status_code == 404
    assert missing_producto.json()["detail"] == "No existe ningún producto con id 999999"

    retirado = nuevo_producto(client, nombre="Retirado", stock=5)
    client.delete(f"/productos/{retirado}")
    inactive_producto = client.post("/ventas/", json=pedido(cliente, (retirado, 1)))
    assert inactive_producto.status_code == 422
    assert inactive_producto.json()["code"] == "producto_no_disponible"

    baja = nuevo_cliente(client)
    client.delete(f"/clientes/{baja}")
    inactive_cliente = client.post("/ventas/", json=pedido(baja, (producto, 1)))
    assert inactive_cliente.status_code == 422
    assert inactive_cliente.json()["code"] == "cliente_inactivo"

    assert stock(client, producto) == 5
    assert client.get("/ventas/").headers["X-Total-Count"] == "0"


def test_inputs_are_bounded(client: TestClient) -> None:
    cliente = nuevo_cliente(client)
    producto = nuevo_producto(client, stock=5000)
    for cantidad in (0, -1, 1001, 10**12):
        assert client.post("/ventas/", json=pedido(cliente, (producto, cantidad))).status_code == 422, cantidad
    assert client.post("/ventas/", json=pedido(2**40, (producto, 1))).status_code == 422
    assert client.post("/ventas/", json=pedido(cliente, (2**40, 1))).status_code == 422
    assert client.post("/ventas/", json=pedido(cliente)).status_code == 422
    big = pedido(cliente, (producto, 1), metadatos={"nota": "x" * 20_000})
    assert client.post("/ventas/", json=big).status_code == 422
    body = f'{{"cliente_id": {cliente}, "productos": [{{"producto_id": {producto}, "cantidad": 1}}], "metadatos": '
    for metadatos in ('{"a": "\\ud800"}', '{"a": NaN}', '{"a": 1e400}', '{"a": ' + "[" * 500 + "]" * 500 + "}"):
        raw = client.post("/ventas/", content=body + metadatos + "}", headers={"Content-Type": "application/json"})
        assert raw.status_code == 422, metadatos
        assert raw.json()["errores"][0]["campo"] == "metadatos"
    assert client.get(f"/ventas/{2**40}").status_code == 422
    assert client.get("/ventas/", params={"cliente_id": 2**40}).status_code == 422
    bad_key = client.post("/ventas/", json=pedido(cliente, (producto, 1)), headers={"Idempotency-Key": "x" * 201})
    assert bad_key.status_code == 422
    assert stock(client, producto) == 5000


def test_a_total_beyond_the_money_column_is_refused(client: TestClient) -> None:
    cliente = nuevo_cliente(client)
    caro = nuevo_producto(client, precio="99999999.99", stock=5)
    response = client.post("/ventas/", json=pedido(cliente, (caro, 2)))
    assert response.status_code == 422
    assert response.json()["code"] == "total_demasiado_alto"
    assert stock(client, caro) == 5


def test_same_idempotency_key_and_body_returns_the_original_order(client: TestClient) -> None:
    cliente = nuevo_cliente(client)
    producto = nuevo_producto(client, stock=10)
    headers = {"Idempotency-Key": "pedido-abc-123"}

    first = client.post("/ventas/", json=pedido(cliente, (producto, 2)), headers=headers)
    # Same order written differently (split line, other key order) is the same request.
    retry = client.post(
        "/ventas/",
        json={"productos": [{"cantidad": 1, "producto_id": producto}] * 2, "cliente_id": cliente},
        headers=headers,
    )

    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert stock(client, producto) == 8
    assert client.get("/ventas/").headers["X-Total-Count"] == "1"


def test_same_idempotency_key_with_another_body_is_409(client: TestClient) -> None:
    cliente = nuevo_cliente(client)
    producto = nuevo_producto(client, stock=10)
    headers = {"Idempotency-Key": "clave-1"}
    assert client.post("/ventas/", json=pedido(cliente, (producto, 2)), headers=headers).status_code == 201
    other = client.post("/ventas/", json=pedido(cliente, (producto, 3)), headers=headers)
    assert other.status_code == 409
    assert other.json()["code"] == "idempotencia_conflicto"
    assert stock(client, producto) == 8
    assert client.post("/ventas/", json=pedido(cliente, (producto, 3)), headers={"Idempotency-Key": "clave-2"}).json()


def test_a_failed_order_does_not_burn_its_idempotency_key(client: TestClient) -> None:
    cliente = nuevo_cliente(client)
    producto = nuevo_producto(client, stock=1)
    headers = {"Idempotency-Key": "reintento"}
    assert client.post("/ventas/", json=pedido(cliente, (producto, 2)), headers=headers).status_code == 409
    client.patch(f"/productos/{producto}", json={"stock": 5})
    assert client.post("/ventas/", json=pedido(cliente, (producto, 2)), headers=headers).status_code == 201
    assert stock(client, producto) == 3


def test_lifecycle_records_every_change_and_refuses_other_transitions(client: TestClient) -> None:
    cliente = nuevo_cliente(client)
    producto = nuevo_producto(client, stock=10)
    venta_id = client.post("/ventas/", json=pedido(cliente, (producto, 4))).json()["id"]

    assert client.patch(f"/ventas/{venta_id}/estado", json={"estado": "enviada"}).status_code == 409
    for estado in ("confirmada", "enviada", "entregada"):
        response = client.patch(f"/ventas/{venta_id}/estado", json={"estado": estado})
        assert response.status_code == 200, response.text
        assert response.json()["estado"] == estado

    refused = client.patch(f"/ventas/{venta_id}/estado", json={"estado": "cancelada"})
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": f"La venta {venta_id} está 'entregada' y no puede pasar a 'cancelada'",
        "code": "transicion_no_permitida",
    }
    historial = client.get(f"/ventas/{venta_id}").json()["historial"]
    assert [(h["estado_anterior"], h["estado_nuevo"]) for h in historial] == [
        (None, "pendiente"),
        ("pendiente", "confirmada"),
        ("confirmada", "enviada"),
        ("enviada", "entregada"),
    ]
    assert {h["usuario"] for h in historial} == {client.get("/auth/me").json()["email"]}
    assert stock(client, producto) == 6
    assert client.patch(f"/ventas/{venta_id}/estado", json={"estado": "perdida"}).status_code == 422
    assert client.patch("/ventas/999999/estado", json={"estado": "confirmada"}).status_code == 404


def test_cancelling_returns_the_stock_once(client: TestClient) -> None:
    cliente = nuevo_cliente(client)
    uno = nuevo_producto(client, stock=10)
    dos = nuevo_producto(client, stock=10)
    venta_id = client.post("/ventas/", json=pedido(cliente, (uno, 3), (dos, 1))).json()["id"]
    client.patch(f"/ventas/{venta_id}/estado", json={"estado": "confirmada"})

    cancelled = client.patch(f"/ventas/{venta_id}/estado", json={"estado": "cancelada"})

    assert cancelled.status_code == 200
    assert cancelled.json()["historial"][-1]["estado_anterior"] == "confirmada"
    assert [stock(client, p) for p in (uno, dos)] == [10, 10]
    assert client.patch(f"/ventas/{venta_id}/estado", json={"estado": "cancelada"}).status_code == 409
    assert [stock(client, p) for p in (uno, dos)] == [10, 10]


def test_list_filters_and_pages(client: TestClient) -> None:
    ana = nuevo_cliente(client)
    luis = nuevo_cliente(client)
    producto = nuevo_producto(client, stock=100)
    ids = [client.post("/ventas/", json=pedido(c, (producto, 1))).json()["id"] for c in (ana, luis, ana, ana)]
    client.patch(f"/ventas/{ids[0]}/estado", json={"estado": "cancelada"})

    everything = client.get("/ventas/")
    assert everything.headers["X-Total-Count"] == "4"
    assert [v["id"] for v in everything.json()] == ids[::-1]
    by_ana = client.get("/ventas/", params={"cliente_id": ana, "limit": 2})
    assert by_ana.headers["X-Total-Count"] == "3"
    assert [v["id"] for v in by_ana.json()] == [ids[3], ids[2]]
    cancelled = client.get("/ventas/", params={"estado": "cancelada"})
    assert [v["id"] for v in cancelled.json()] == [ids[0]]
    today = everything.json()[0]["fecha_venta"][:10]
    assert client.get("/ventas/", params={"fecha_desde": today, "fecha_hasta": today}).headers["X-Total-Count"] == "4"
    assert client.get("/ventas/", params={"fecha_hasta": "2000-01-01"}).headers["X-Total-Count"] == "0"
    assert client.get("/ventas/", params={"fecha_hasta": "9999-12-31"}).headers["X-Total-Count"] == "4"
    assert client.get("/ventas/", params={"estado": "otro"}).status_code == 422
    missing = client.get("/ventas/999999")
    assert missing.status_code == 404
    assert missing.json()["code"] == "venta_no_encontrada"


def test_money_stays_exact(client: TestClient) -> None:
    cliente = nuevo_cliente(client)
    productos = [nuevo_producto(client, precio="0.10", stock=1000), nuevo_producto(client, precio="0.20", stock=1000)]
    venta = client.post("/ventas/", json=pedido(cliente, (productos[0], 3), (productos[1], 7))).json()
    assert venta["total"] == "1.70"
    assert Decimal(venta["total"]) == sum(Decimal(line["subtotal"]) for line in venta["productos"])


def test_the_history_records_who_acted(
    client: TestClient, anon_client: TestClient, make_user: Callable[..., StaffMember]
) -> None:
    cliente = nuevo_cliente(client)
    producto = nuevo_producto(client)
    vendedora = make_user("vendedor", email="ana.vendedora@tienda.example.com")
    venta = anon_client.post("/ventas/", json=pedido(cliente, (producto, 1)), headers=vendedora.headers).json()
    cambio = client.patch(f"/ventas/{venta['id']}/estado", json={"estado": "confirmada"}).json()
    admin_email = client.get("/auth/me").json()["email"]
    assert [h["usuario"] for h in cambio["historial"]] == ["ana.vendedora@tienda.example.com", admin_email]


def test_an_order_refreshes_the_cached_catalog_and_a_refused_one_does_not(
    client: TestClient, anon_client: TestClient
) -> None:
    cliente = nuevo_cliente(client)
    taladro = nuevo_producto(client, nombre="Taladro", precio="59.90", stock=5)
    url = f"/productos/{taladro}"
    assert anon_client.get(url).json()["stock"] == 5  # now in the catalog cache
    assert anon_client.get("/productos/").json()[0]["stock"] == 5

    assert client.post("/ventas/", json=pedido(cliente, (taladro, 2))).status_code == 201
    assert anon_client.get(url).json()["stock"] == 3
    assert anon_client.get("/productos/").json()[0]["stock"] == 3

    hits = CATALOG_CACHE.labels("hit")._value.get()
    assert client.post("/ventas/", json=pedido(cliente, (taladro, 9))).status_code == 409
    assert anon_client.get(url).json()["stock"] == 3
    assert CATALOG_CACHE.labels("hit")._value.get() == hits + 1  # the refused order left the cache as it was
