"""Request and response bodies of the sales agent."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from agente_vendedor.core.schemas import CleanStr

CHAT_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"

ChatId = Annotated[str, Field(min_length=1, max_length=128, pattern=CHAT_ID_PATTERN, examples=["web-4f2a9c"])]


class EstadoConversacion(StrEnum):
    """Who is answering a chat."""

    ACTIVA = "activa"
    REQUIERE_HUMANO = "requiere_humano"
    ATENDIDO_POR_HUMANO = "atendido_por_humano"


class Canal(StrEnum):
    """Where a conversation happens: the public API, the web widget, WhatsApp or Telegram."""

    API = "api"
    WEB = "web"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"


class RAGQueryRequest(BaseModel):
    """A shop visitor's message in a chat."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"query": "¿Tienen taladros?", "chat_id": "web-4f2a9c"}]},
    )

    # Same rule as every text of the API: surrounding spaces stripped, control characters (NUL...) refused with 422.
    query: Annotated[CleanStr, Field(min_length=1, max_length=2000)]
    chat_id: ChatId


class Fuente(BaseModel):
    """A catalog product the reply is grounded on, with its live price and stock."""

    tipo: Literal["producto"] = "producto"
    id: int
    nombre: str
    precio: Decimal
    stock: int
    score: float | None = None


class LineaCarritoResponse(BaseModel):
    """One cart line at today's price."""

    producto_id: int
    nombre: str
    precio_unitario: Decimal
    cantidad: int
    subtotal: Decimal


class CarritoResponse(BaseModel):
    """The chat's cart."""

    lineas: list[LineaCarritoResponse]
    unidades: int
    total: Decimal


class RAGResponse(BaseModel):
    """The agent's answer; `respuesta` is null while a person attends the chat."""

    respuesta: str | None
    chat_id: str
    intencion: str | None
    fuentes: list[Fuente]
    carrito: CarritoResponse | None
    venta_id: int | None
    estado: EstadoConversacion


class MensajeResponse(BaseModel):
    """One stored message."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    rol: str
    texto: str
    intencion: str | None
    generador: str | None
    autor: str | None
    entrega: str | None = None
    fecha: datetime


class ConversacionResumen(BaseModel):
    """A chat as the staff list shows it."""

    model_config = ConfigDict(from_attributes=True)

    chat_id: str
    canal: Canal = Canal.API
    estado: EstadoConversacion
    ia_activa: bool
    requiere_humano: bool
    cliente_id: int | None
    ultima_venta_id: int | None
    mensajes: int
    fecha_inicio: datetime
    fecha_actualizacion: datetime


class ConversacionDetalle(ConversacionResumen):
    """A chat with its history and current cart."""

    historial: list[MensajeResponse]
    carrito: CarritoResponse | None


class ConversacionUpdate(BaseModel):
    """Switch the agent off (a person takes over) or back on."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"ia_activa": False}]})

    ia_activa: bool


class MensajeHumanoCreate(BaseModel):
    """A staff member's reply in a chat."""

    model_config = ConfigDict(extra="forbid")

    texto: Annotated[CleanStr, Field(min_length=1, max_length=4000)]


class DemandaItem(BaseModel):
    """A request the shop could not serve, grouped."""

    tipo: str
    consulta: str | None
    producto_id: int | None
    producto: str | None
    veces: int
    unidades: int
    ultima_fecha: datetime


class CarritoAbandonado(BaseModel):
    """A chat whose cart was left without an order."""

    chat_id: str
    fecha_actualizacion: datetime
    unidades: int
    total: Decimal


class DemandaInsatisfechaResponse(BaseModel):
    """The shop's lost sales: things not found, sold out, carts cancelled or abandoned."""

    items: list[DemandaItem]
    carritos_abandonados: list[CarritoAbandonado]
