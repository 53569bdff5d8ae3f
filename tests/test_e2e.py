"""The spec's end-to-end flow over real HTTP: crear cliente → consultar productos → crear pedido → exportar."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import httpx

from tests.factories import cliente_data, producto_data


def test_flujo_venta_completo(live_url: str, admin_headers: dict[str, str]) -> None:
    with httpx.Client(base_url=live_url, headers=admin_headers, timeout=60) as staff:
        for nombre, precio in (("Taladro percutor 750W", "59.90"), ("Juego de brocas, 10 piezas", "12.35")):
            assert (
                staff.post("/productos/", json=producto_data(nombre=nombre, precio=precio, stock=10)).status_code == 201
            )
        cliente = staff.post("/clientes/", json=cliente_data(nombre='Ñandú "Pérez", José')).json()

    with httpx.Client(base_url=live_url, timeout=60) as visitante:  # the catalog is public
        catalogo = {p["nombre"]: p for p in visitante.get("/productos/").json()}
    taladro, brocas = catalogo["Taladro percutor 750W"], catalogo["Juego de brocas, 10 piezas"]

    with httpx.Client(base_url=live_url, headers=admin_headers, timeout=60) as staff:
        pedido = staff.post(
            "/ventas/",
            json={
                "cliente_id": cliente["id"],
                "productos": [
                    {"producto_id": taladro["id"], "cantidad": 2},
                    {"producto_id": brocas["id"], "cantidad": 1},
                ],
            },
        )
        assert pedido.status_code == 201, pedido.text
        venta = pedido.json()
        assert venta["total"] == "132.15"

        exported_csv = staff.get("/exportar/ventas", params={"formato": "csv", "cliente_id": cliente["id"]})
        assert exported_csv.status_code == 200
        assert "attachment" in exported_csv.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(exported_csv.content.decode("utf-8-sig"))))
        exported_json = staff.get("/exportar/ventas", params={"formato": "json", "cliente_id": cliente["id"]}).json()

    (row,) = rows
    assert int(row["id"]) == venta["id"]
    assert Decimal(row["total"]) == Decimal("132.15")
    assert row["cliente_nombre"] == 'Ñandú "Pérez", José'
    (item,) = exported_json
    lines = item["productos"] if isinstance(item["productos"], list) else json.loads(item["productos"])
    assert {(line["nombre"], line["cantidad"], line["subtotal"]) for line in lines} == {
        ("Taladro percutor 750W", 2, "119.80"),
        ("Juego de brocas, 10 piezas", 1, "12.35"),
    }
