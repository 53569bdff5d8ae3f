"""The demo catalog is valid shop data."""

from __future__ import annotations

from agente_vendedor.demo.service import demo_data
from agente_vendedor.productos.schemas import ProductoCreate


def test_demo_catalog_is_large_varied_and_valid() -> None:
    data = demo_data()
    productos = [ProductoCreate.model_validate(p) for p in data["productos"]]
    assert len(productos) >= 40
    assert len({p.categoria for p in productos}) >= 5
    assert len({p.sku for p in productos}) == len(productos)
    assert any(p.stock == 0 for p in productos), "some products are out of stock, as in a real shop"
