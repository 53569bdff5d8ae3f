"""Request and response bodies for clientes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from agente_vendedor.core.schemas import CleanStr, Email, PartialUpdate, Telefono

NombreCliente = Annotated[CleanStr, Field(min_length=2, max_length=100, examples=["Ana García"])]
Direccion = Annotated[CleanStr, Field(max_length=500, examples=["Calle Mayor 12, 28013 Madrid"])]


class ClienteCreate(BaseModel):
    """Data to register a cliente."""

    model_config = ConfigDict(extra="forbid")

    nombre: NombreCliente
    email: Email
    telefono: Telefono | None = None
    direccion: Direccion | None = None


class ClienteUpdate(PartialUpdate):
    """Partial update: only the fields sent change; `telefono`/`direccion` accept null to clear them."""

    NOT_NULL = ("nombre", "email", "activo")

    nombre: NombreCliente | None = None
    email: Email | None = None
    telefono: Telefono | None = None
    direccion: Direccion | None = None
    activo: bool | None = None


class ClienteResponse(BaseModel):
    """A cliente as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    nombre: str
    email: str | None
    telefono: str | None
    direccion: str | None
    fecha_registro: datetime
    activo: bool
    fecha_ultima_compra: datetime | None


class ClienteBusqueda(ClienteResponse):
    """A search result: the cliente plus its relevance (higher is better; exact hits score above 1)."""

    score: float
