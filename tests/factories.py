"""Small builders of valid request bodies; tests override only what they care about."""

from __future__ import annotations

import itertools
from typing import Any

_seq = itertools.count(1)


def cliente_data(**overrides: Any) -> dict[str, Any]:
    """A valid ClienteCreate body with a unique e-mail."""
    n = next(_seq)
    data: dict[str, Any] = {
        "nombre": f"Cliente Prueba {n}",
        "email": f"cliente{n}@example.com",
        "telefono": "+34 600 000 000",
        "direccion": "Calle Falsa 123",
    }
    data.update(overrides)
    return data


def producto_data(**overrides: Any) -> dict[str, Any]:
    """A valid ProductoCreate body with a unique SKU."""
    n = next(_seq)
    data: dict[str, Any] = {
        "nombre": f"Producto de prueba {n}",
        "descripcion": "Descripción de prueba",
        "precio": "19.90",
        "stock": 10,
        "categoria": "Pruebas",
        "sku": f"TEST-{n:05d}",
    }
    data.update(overrides)
    return data
