"""Request and response bodies for orders (ventas)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agente_vendedor.core.params import MAX_DB_INT

if TYPE_CHECKING:
    from agente_vendedor.ventas.models import Venta

MAX_CANTIDAD = 1000
MAX_LINEAS = 100
MAX_METADATOS_BYTES = 10_240
MAX_METADATOS_NIVELES = 32

IdEntero = Annotated[int, Field(ge=1, le=MAX_DB_INT)]


class EstadoVenta(StrEnum):
    """The states of an order's lifecycle."""

    PENDIENTE = "pendiente"
    CONFIRMADA = "confirmada"
    ENVIADA = "enviada"
    ENTREGADA = "entregada"
    CANCELADA = "cancelada"


class LineaPedido(BaseModel):
    """One product and how many units of it."""

    model_config = ConfigDict(extra="forbid")

    producto_id: IdEntero
    cantidad: Annotated[int, Field(ge=1, le=MAX_CANTIDAD, examples=[2])]


def _depth(value: Any) -> int:
    """How deeply a JSON value nests (iterative, so hostile input cannot exhaust the stack)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            pending.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, level + 1) for child in item)
    return deepest


def canonical_json(value: Any) -> str:
    """Stable JSON text (sorted keys, no spaces, no NaN) used for storage and request hashing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class VentaCreate(BaseModel):
    """An order: who buys and which products; prices always come from the catalog."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "cliente_id": 1,
                    "productos": [{"producto_id": 3, "cantidad": 2}],
                    "metadatos": {"canal": "chat"},
                }
            ]
        },
    )

    cliente_id: IdEntero
    productos: Annotated[list[LineaPedido], Field(min_length=1, max_length=MAX_LINEAS)]
    metadatos: dict[str, Any] | None = None

    @field_validator("metadatos")
    @classmethod
    def _small_metadatos(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """Metadata is free-form JSON but bounded, so a caller cannot store megabytes per order."""
        if value is None:
            return None
        if _depth(value) > MAX_METADATOS_NIVELES:
            raise ValueError(f"no puede anidar más de {MAX_METADATOS_NIVELES} niveles")
        try:
            size = len(canonical_json(value).encode())
        except ValueError as exc:
            raise ValueError("debe ser JSON válido (texto UTF-8, sin NaN ni infinitos)") from exc
        if size > MAX_METADATOS_BYTES:
            raise ValueError(f"no puede ocupar más de {MAX_METADATOS_BYTES} bytes en JSON")
        return value

    @model_validator(mode="after")
    def _merge_lines(self) -> VentaCreate:
        """Lines of the same product become one line, ordered by product id (also the lock order)."""
        merged: dict[int, int] = {}
        for linea in self.productos:
            merged[linea.producto_id] = merged.get(linea.producto_id, 0) + linea.cantidad
        for producto_id, cantidad in merged.items():
            if cantidad > MAX_CANTIDAD:
                raise ValueError(f"la cantidad total del producto {producto_id} no puede superar {MAX_CANTIDAD}")
        self.productos = [LineaPedido(producto_id=pid, cantidad=merged[pid]) for pid in sorted(merged)]
        return self

    def canonical(self) -> str:
        """The request as canonical JSON: two bodies meaning the same order give the same text."""
        return canonical_json(self.model_dump(mode="json"))


class CambioEstado(BaseModel):
    """The new state of an order."""

    model_config = ConfigDict(extra="forbid")

    estado: EstadoVenta


class LineaVentaResponse(BaseModel):
    """A sold line as it was priced at sale time."""

    producto_id: int
    nombre: str
    precio_unitario: Decimal
    cantidad: int
    subtotal: Decimal


class HistorialEstadoResponse(BaseModel):
    """One recorded change of state."""

    model_config = ConfigDict(from_attributes=True)

    estado_anterior: EstadoVenta | None
    estado_nuevo: EstadoVenta
    usuario: str
    fecha: datetime


class VentaResponse(BaseModel):
    """An order as the API returns it; money is a decimal string such as "59.90"."""

    id: int
    cliente_id: int | None
    fecha_venta: datetime
    total: Decimal
    estado: EstadoVenta
    productos: list[LineaVentaResponse]
    metadatos: dict[str, Any] | None
    historial: list[HistorialEstadoResponse]

    @classmethod
    def from_venta(cls, venta: Venta) -> VentaResponse:
        """Build the response from an order whose history is loaded."""
        return cls(
            id=venta.id,
            cliente_id=venta.cliente_id,
            fecha_venta=venta.fecha_venta,
            total=venta.total,
            estado=EstadoVenta(venta.estado),
            productos=[LineaVentaResponse.model_validate(linea) for linea in json.loads(venta.productos_json or "[]")],
            metadatos=json.loads(venta.metadatos_json) if venta.metadatos_json else None,
            historial=[HistorialEstadoResponse.model_validate(h) for h in venta.historial],
        )


class HistorialComprasResponse(BaseModel):
    """A cliente's orders, newest first, with how much they add up to (cancelled orders excluded)."""

    cliente_id: int
    nombre: str
    fecha_ultima_compra: datetime | None
    total_pedidos: int
    total_gastado: Decimal
    ventas: list[VentaResponse]


class VentasPorDia(BaseModel):
    """Orders and revenue of one UTC day."""

    fecha: date
    pedidos: int
    ingresos: Decimal


class ProductoTop(BaseModel):
    """A product ranked by units or revenue."""

    producto_id: int
    nombre: str
    unidades: int
    ingresos: Decimal


class ClienteTop(BaseModel):
    """A cliente ranked by money spent."""

    cliente_id: int
    nombre: str
    pedidos: int
    total: Decimal


class EstadisticasResponse(BaseModel):
    """Sales figures of a period (UTC days, both ends included); cancelled orders are left out."""

    fecha_desde: date | None
    fecha_hasta: date | None
    pedidos: int
    ingresos: Decimal
    ticket_medio: Decimal
    por_dia: list[VentasPorDia]
    top_productos_unidades: list[ProductoTop]
    top_productos_ingresos: list[ProductoTop]
    top_clientes: list[ClienteTop]
