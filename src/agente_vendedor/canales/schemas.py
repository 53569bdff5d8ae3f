"""Bodies of the channel endpoints: the web widget's API and the staff view of the outbound queue."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from agente_vendedor.agente.schemas import CarritoResponse, EstadoConversacion
from agente_vendedor.core.schemas import CleanStr

# The widget makes its chat id from 128 random bits: it is the visitor's only key to the history.
WIDGET_CHAT_ID_PATTERN = r"^web-[A-Za-z0-9_-]{20,100}$"
WidgetChatId = Annotated[
    str, Field(min_length=24, max_length=104, pattern=WIDGET_CHAT_ID_PATTERN, examples=["web-4f2a9c0d1e2b3a4c5d6e7f80"])
]
MAX_ID = 2**53


class WidgetMensajeCreate(BaseModel):
    """A visitor's message from the widget; `despues` is the last message id the widget already shows."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"chat_id": "web-4f2a9c0d1e2b3a4c5d6e7f80", "texto": "¿Tienen taladros?", "despues": 0}]
        },
    )

    chat_id: WidgetChatId
    texto: Annotated[CleanStr, Field(min_length=1, max_length=2000)]
    despues: Annotated[int, Field(ge=0, le=MAX_ID)] = 0


class ProductoTarjeta(BaseModel):
    """A product card: name, live price and stock."""

    id: int
    nombre: str
    precio: Decimal
    stock: int


class MensajeWidget(BaseModel):
    """A message as the visitor sees it (staff names stay private: `humano` reads as the shop's team)."""

    id: int
    rol: Literal["cliente", "agente", "humano"]
    texto: str
    fecha: datetime
    productos: list[ProductoTarjeta] = []


class WidgetConversacion(BaseModel):
    """The messages after `despues`, the cart, who answers and the quick replies the agent offers now."""

    chat_id: str
    mensajes: list[MensajeWidget]
    ultimo_id: int
    carrito: CarritoResponse | None
    estado: EstadoConversacion
    opciones: list[str]
    abierto: bool


class WidgetConfig(BaseModel):
    """What the widget shows before the first message: business hours and whether a person is around now."""

    abierto: bool
    horario: str | None
    aviso: str | None


class SalienteResponse(BaseModel):
    """A message in the outbound queue (WhatsApp/Telegram) and how its delivery went."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    canal: str
    chat_id: str | None = None
    mensaje_id: int | None
    texto: str
    estado: str
    intentos: int
    proximo_intento: datetime
    ultimo_error: str | None
    fecha_creacion: datetime
    fecha_envio: datetime | None
