"""Builders shared by the ventas tests: real clientes and productos created over HTTP."""

from __future__ import annotations

from typing import Any, TypeAlias

import httpx
import httpx2

from tests.factories import cliente_data, producto_data

# A live server's `httpx.Client` or the in-process `TestClient` (an `httpx2.Client`): the same calls on both.
HttpClient: TypeAlias = httpx.Client | httpx2.Client


def nuevo_cliente(client: HttpClient, base: str = "", **overrides: Any) -> int:
    """Create a cliente and return its id."""
    response = client.post(f"{base}/clientes/", json=cliente_data(**overrides))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def nuevo_producto(client: HttpClient, base: str = "", **overrides: Any) -> int:
    """Create a product and return its id."""
    response = client.post(f"{base}/productos/", json=producto_data(**overrides))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def stock(client: HttpClient, producto_id: int, base: str = "") -> int:
    """The current stock of a product."""
    return int(client.get(f"{base}/productos/{producto_id}").json()["stock"])


def pedido(cliente_id: int, *lineas: tuple[int, int], **extra: Any) -> dict[str, Any]:
    """A VentaCreate body from (producto_id, cantidad) pairs."""
    return {
        "cliente_id": cliente_id,
        "productos": [{"producto_id": p, "cantidad": c} for p, c in lineas],
        **extra,
    }
