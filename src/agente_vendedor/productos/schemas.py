"""Request and response bodies for productos."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from agente_vendedor.core.schemas import CleanStr, Dinero, PartialUpdate

NombreProducto = Annotated[CleanStr, Field(min_length=2, max_length=200, examples=["Taladro percutor 750W"])]
Descripcion = Annotated[CleanStr, Field(max_length=5000)]
Categoria = Annotated[CleanStr, Field(min_length=1, max_length=100, examples=["Herramientas"])]
Sku = Annotated[CleanStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$", examples=["HER-TAL-750"])]
Stock = Annotated[int, Field(ge=0, le=1_000_000_000, examples=[12])]


class ProductoCreate(BaseModel):
    """Data to add a product to the catalog."""

    model_config = ConfigDict(extra="forbid")

    nombre: NombreProducto
    descripcion: Descripcion | None = None
    precio: Dinero
    stock: Stock = 0
    categoria: Categoria | None = None
    sku: Sku | None = None
    activo: bool = True


class ProductoUpdate(PartialUpdate):
    """Partial update: only the fields sent change."""

    NOT_NULL = ("nombre", "precio", "stock", "activo")

    nombre: NombreProducto | None = None
    descripcion: Descripcion | None = None
    precio: Dinero | None = None
    stock: Stock | None = None
    categoria: Categoria | None = None
    sku: Sku | None = None
    activo: bool | None = None


class ProductoResponse(BaseModel):
    """A product as the API returns it; `precio` is a decimal string such as "59.90"."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    nombre: str
    descripcion: str | None
    precio: Decimal
    stock: int
    categoria: str | None
    sku: str | None
    activo: bool
    fecha_creacion: datetime
    fecha_actualizacion: datetime


class ProductoBusqueda(ProductoResponse):
    """A search result: the live product plus its relevance (higher is better; exact hits score above 1)."""

    score: float
