"""Load the bundled demo catalog and clientes into an empty database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agente_vendedor.clientes import service as clientes_service
from agente_vendedor.clientes.schemas import ClienteCreate
from agente_vendedor.productos import service as productos_service
from agente_vendedor.productos.models import Producto
from agente_vendedor.productos.schemas import ProductoCreate


@dataclass(frozen=True)
class SeedResult:
    """What a seeding run wrote."""

    productos: int
    clientes: int


def demo_data() -> dict[str, Any]:
    """The bundled demo data (48 products in 7 categories, 5 clientes)."""
    text = resources.files("agente_vendedor.demo").joinpath("catalogo.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def is_empty(*, session: Session) -> bool:
    """True when the catalog has no products at all."""
    return (session.scalar(select(func.count()).select_from(Producto)) or 0) == 0


def seed(*, session: Session) -> SeedResult:
    """Insert the demo data through the same services the API uses (validation included)."""
    data = demo_data()
    for item in data["productos"]:
        productos_service.create(session=session, datos=ProductoCreate.model_validate(item))
    for item in data["clientes"]:
        clientes_service.create(session=session, datos=ClienteCreate.model_validate(item))
    return SeedResult(productos=len(data["productos"]), clientes=len(data["clientes"]))
