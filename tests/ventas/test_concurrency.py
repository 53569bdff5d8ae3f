"""Real concurrent HTTP requests against a running server: stock never oversold, retries never double-charge."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.ventas.helpers import nuevo_cliente, nuevo_producto, pedido, stock

AUTH: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _staff_token(admin_headers: dict[str, str]) -> None:
    """Every request of this module is made by an authenticated admin."""
    AUTH.clear()
    AUTH.update(admin_headers)


def _fire(live_url: str, requests: list[tuple[str, str, dict[str, Any], dict[str, str]]]) -> list[httpx.Response]:
    """Send every request at once, one thread and one connection each."""

    def send(item: tuple[str, str, dict[str, Any], dict[str, str]]) -> httpx.Response:
        method, path, body, headers = item
        with httpx.Client(base_url=live_url, headers=AUTH, timeout=60) as http:
            return http.request(method, path, json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))


def test_fifty_concurrent_orders_for_ten_units_sell_exactly_ten(live_url: str) -> None:
    with httpx.Client(base_url=live_url, headers=AUTH, timeout=30) as http:
        clientes = [nuevo_cliente(http) for _ in range(5)]
        producto = nuevo_producto(http, nombre="Edición limitada", stock=10, precio="12.34")

    responses = _fire(live_url, [("POST", "/ventas/", pedido(clientes[i % 5], (producto, 1)), {}) for i in range(50)])

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 10, 409: 40}, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"stock_insuficiente"}
    with httpx.Client(base_url=live_url, headers=AUTH, timeout=30) as http:
        assert stock(http, producto) == 0
        ventas = http.get("/ventas/", params={"limit": 500})
        assert ventas.headers["X-Total-Count"] == "10"
        assert {v["total"] for v in ventas.json()} == {"12.34"}
        stats = http.get("/ventas/estadisticas").json()
        assert (stats["pedidos"], stats["ingresos"]) == (10, "123.40")


def test_concurrent_multi_line_orders_never_oversell_any_product(live_url: str) -> None:
    with httpx.Client(base_url=live_url, headers=AUTH, timeout=30) as http:
        cliente = nuevo_cliente(http)
        a = nuevo_producto(http, stock=7)
        b = nuevo_producto(http, stock=100)
    # Lines in both orders so that, without a fixed lock order, PostgreSQL could deadlock.
    bodies = [pedido(cliente, (a, 1), (b, 3)) if i % 2 else pedido(cliente, (b, 3), (a, 1)) for i in range(30)]

    responses = _fire(live_url, [("POST", "/ventas/", body, {}) for body in bodies])

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 7, 409: 23}, [r.text for r in responses if r.status_code not in (201, 409)]
    with httpx.Client(base_url=live_url, headers=AUTH, timeout=30) as http:
        assert (stock(http, a), stock(http, b)) == (0, 100 - 7 * 3)


def test_concurrent_retries_of_one_idempotent_order_create_one_order(live_url: str) -> None:
    with httpx.Client(base_url=live_url, headers=AUTH, timeout=30) as http:
        cliente = nuevo_cliente(http)
        producto = nuevo_producto(http, stock=100)
    body = pedido(cliente, (producto, 3))

    responses = _fire(live_url, [("POST", "/ventas/", body, {"Idempotency-Key": "una-sola-vez"})] * 20)

    assert {r.status_code for r in responses} <= {200, 201}, [r.text for r in responses]
    assert sum(r.status_code == 201 for r in responses) == 1
    assert len({r.json()["id"] for r in responses}) == 1
    with httpx.Client(base_url=live_url, headers=AUTH, timeout=30) as http:
        assert http.get("/ventas/").headers["X-Total-Count"] == "1"
        assert stock(http, producto) == 97


def test_concurrent_cancellations_return_the_stock_once(live_url: str) -> None:
    with httpx.Client(base_url=live_url, headers=AUTH, timeout=30) as http:
        cliente = nuevo_cliente(http)
        producto = nuevo_producto(http, stock=10)
        venta_id = http.post("/ventas/", json=pedido(cliente, (producto, 4))).json()["id"]

    responses = _fire(live_url, [("PATCH", f"/ventas/{venta_id}/estado", {"estado": "cancelada"}, {})] * 10)

    assert Counter(r.status_code for r in responses) == {200: 1, 409: 9}, [r.text for r in responses]
    with httpx.Client(base_url=live_url, headers=AUTH, timeout=30) as http:
        assert stock(http, producto) == 10
        historial = http.get(f"/ventas/{venta_id}").json()["historial"]
        assert [h["estado_nuevo"] for h in historial] == ["pendiente", "cancelada"]
