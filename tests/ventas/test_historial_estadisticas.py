"""A cliente's purchase history without N+1 queries, and sales statistics computed by the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, update

from agente_vendedor.ventas.models import Venta
from tests.ventas.helpers import nuevo_cliente, nuevo_producto, pedido


@contextmanager
def count_statements(app: FastAPI) -> Iterator[list[str]]:
    """Collect every SQL statement the app sends while the block runs."""
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = app.state.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _history_queries(app: FastAPI, client: TestClient, cliente_id: int) -> int:
    with count_statements(app) as statements:
        assert client.get(f"/clientes/{cliente_id}/ventas").status_code == 200
    return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])


def test_purchase_history_with_totals_and_no_n_plus_one(client: TestClient, app: FastAPI) -> None:
    cliente = nuevo_cliente(client, nombre="Marta Ruiz")
    producto = nuevo_producto(client, precio="10.05", stock=500)
    first = client.post("/ventas/", json=pedido(cliente, (producto, 1))).json()
    one_order_queries = _history_queries(app, client, cliente)

    ids = [first["id"]] + [client.post("/ventas/", json=pedido(cliente, (producto, 2))).json()["id"] for _ in range(9)]
    client.patch(f"/ventas/{ids[1]}/estado", json={"estado": "cancelada"})
    for venta_id in ids[2:]:
        client.patch(f"/ventas/{venta_id}/estado", json={"estado": "confirmada"})

    assert _history_queries(app, client, cliente) == one_order_queries == 3  # the caller is not read again (auth.cache)
    body = client.get(f"/clientes/{cliente}/ventas").json()
    assert body["nombre"] == "Marta Ruiz"
    assert body["total_pedidos"] == 10
    assert body["total_gastado"] == "170.85"  # 10.05 + 8 x 20.10; the cancelled order does not count
    assert [v["id"] for v in body["ventas"]] == ids[::-1]
    assert body["ventas"][0]["historial"][-1]["estado_nuevo"] == "confirmada"
    assert body["fecha_ultima_compra"] is not None


def test_history_of_unknown_cliente_is_404_and_of_new_cliente_is_empty(client: TestClient) -> None:
    assert client.get("/clientes/999999/ventas").json()["code"] == "cliente_no_encontrado"
    cliente = nuevo_cliente(client)
    body = client.get(f"/clientes/{cliente}/ventas").json()
    assert (body["total_pedidos"], body["total_gastado"], body["ventas"]) == (0, "0.00", [])


def _move(app: FastAPI, venta_id: int, when: datetime) -> None:
    """Backdate an order (the API always stamps now)."""
    with app.state.session_factory.begin() as session:
        session.execute(update(Venta).where(Venta.id == venta_id).values(fecha_venta=when))


def test_statistics_per_day_top_products_clientes_and_ticket(client: TestClient, app: FastAPI) -> None:
    ana = nuevo_cliente(client, nombre="Ana")
    luis = nuevo_cliente(client, nombre="Luis")
    silla = nuevo_producto(client, nombre="Silla", precio="40.00", stock=100)
    mesa = nuevo_producto(client, nombre="Mesa", precio="150.00", stock=100)

    def order(cliente: int, *lines: tuple[int, int], when: datetime) -> int:
        venta_id = int(client.post("/ventas/", json=pedido(cliente, *lines)).json()["id"])
        _move(app, venta_id, when)
        return venta_id

    order(ana, (silla, 4), when=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))  # 160.00
    order(luis, (mesa, 1), (silla, 1), when=datetime(2026, 3, 1, 8, 0, tzinfo=UTC))  # 190.00
    order(ana, (mesa, 2), when=datetime(2026, 3, 2, 0, 15, tzinfo=UTC))  # 300.00
    cancelled = order(luis, (mesa, 10), when=datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    client.patch(f"/ventas/{cancelled}/estado", json={"estado": "cancelada"})
    order(luis, (silla, 1), when=datetime(2026, 4, 1, 12, 0, tzinfo=UTC))  # outside the period

    with count_statements(app) as statements:
        response = client.get("/ventas/estadisticas", params={"fecha_desde": "2026-03-01", "fecha_hasta": "2026-03-31"})
    assert response.status_code == 200, response.text
    # totals, per day, two product rankings, clientes (the caller's user is not read again): nothing row by row
    assert len(statements) == 5
    stats = response.json()
    assert stats["pedidos"] == 3
    assert stats["ingresos"] == "650.00"
    assert stats["ticket_medio"] == "216.67"
    assert stats["por_dia"] == [
        {"fecha": "2026-03-01", "pedidos": 2, "ingresos": "350.00"},
        {"fecha": "2026-03-02", "pedidos": 1, "ingresos": "300.00"},
    ]
    assert [(p["nombre"], p["unidades"], p["ingresos"]) for p in stats["top_productos_unidades"]] == [
        ("Silla", 5, "200.00"),
        ("Mesa", 3, "450.00"),
    ]
    assert [p["nombre"] for p in stats["top_productos_ingresos"]] == ["Mesa", "Silla"]
    assert [(c["nombre"], c["pedidos"], c["total"]) for c in stats["top_clientes"]] == [
        ("Ana", 2, "460.00"),
        ("Luis", 1, "190.00"),
    ]
    everything = client.get("/ventas/estadisticas").json()
    assert (everything["pedidos"], everything["ingresos"]) == (4, "690.00")
    empty = client.get("/ventas/estadisticas", params={"fecha_hasta": "2000-01-01"}).json()
    assert (empty["pedidos"], empty["ingresos"], empty["ticket_medio"], empty["por_dia"]) == (0, "0.00", "0.00", [])
    assert client.get("/ventas/estadisticas", params={"fecha_desde": "ayer"}).status_code == 422
