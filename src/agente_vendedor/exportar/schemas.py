"""Query parameters of the exports and the history as the API returns it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from agente_vendedor.core.params import MAX_DB_INT
from agente_vendedor.core.schemas import CleanStr, FechaUTC

Entidad = Literal["clientes", "productos", "ventas", "conversaciones"]
Formato = Literal["csv", "json", "ndjson", "excel"]
Separador = Literal[",", ";"]


class OpcionesExportacion(BaseModel):
    """Format options shared by every export."""

    formato: Formato = Field("csv", description="csv, json (array), ndjson (un objeto por línea) o excel (.xlsx)")
    separador: Separador = Field(",", description="Separador CSV: ',' o ';' (Excel en configuración regional española)")
    bom: bool = Field(False, description="CSV: empieza con BOM UTF-8 para que Excel muestre bien los acentos")


class _RangoFechas(OpcionesExportacion):
    fecha_desde: FechaUTC | None = Field(None, description="Desde (incluida), ISO 8601; sin zona = UTC")
    fecha_hasta: FechaUTC | None = Field(None, description="Hasta (incluida), ISO 8601; sin zona = UTC")

    @field_validator("fecha_hasta")
    @classmethod
    def _not_before_desde(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        """`fecha_hasta` cannot be earlier than `fecha_desde`."""
        desde = info.data.get("fecha_desde")
        if value is not None and desde is not None and value < desde:
            raise ValueError("debe ser igual o posterior a 'fecha_desde'")
        return value


class FiltrosClientes(_RangoFechas):
    """Filters of `GET /exportar/clientes`; the dates apply to `fecha_registro`."""

    activo: bool | None = None


class FiltrosProductos(OpcionesExportacion):
    """Filters of `GET /exportar/productos`."""

    categoria: Annotated[CleanStr, Field(min_length=1, max_length=100)] | None = None
    activo: bool | None = None


class FiltrosVentas(_RangoFechas):
    """Filters of `GET /exportar/ventas`; the dates apply to `fecha_venta`."""

    estado: Annotated[CleanStr, Field(min_length=1, max_length=50)] | None = None
    cliente_id: Annotated[int, Field(ge=1, le=MAX_DB_INT)] | None = None


class FiltrosConversaciones(_RangoFechas):
    """Filters of `GET /exportar/conversaciones` (one row per message); the dates apply to the message."""

    chat_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]{1,128}$")] | None = None
    cliente_id: Annotated[int, Field(ge=1, le=MAX_DB_INT)] | None = None


Filtros = FiltrosClientes | FiltrosProductos | FiltrosVentas | FiltrosConversaciones


class ExportacionResponse(BaseModel):
    """One past export."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    usuario: str
    fecha: datetime
    entidad: str
    formato: str
    filtros: dict[str, Any]
    filas: int
    bytes: int
    duracion_ms: int
    estado: Literal["ok", "error"]
    mensaje: str | None
    archivo: str | None
