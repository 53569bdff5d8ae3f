"""Durable conversations: one row per chat, its messages, and the demand the shop could not serve."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from agente_vendedor.core.db import Base, UTCDateTime, utcnow


class Conversacion(Base):
    """A chat with a shop visitor; `estado_json` holds the dialogue state (cart, last shown products, step)."""

    __tablename__ = "conversaciones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), nullable=False)
    # Where the customer writes from (api, web, whatsapp, telegram); replies go back the same way.
    canal: Mapped[str] = mapped_column(String(20), nullable=False, default="api", server_default="api")
    estado: Mapped[str] = mapped_column(String(30), nullable=False, default="activa", server_default="activa")
    ia_activa: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())
    requiere_humano: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    cliente_id: Mapped[int | None] = mapped_column(ForeignKey("clientes.id"), nullable=True)
    ultima_venta_id: Mapped[int | None] = mapped_column(ForeignKey("ventas.id"), nullable=True)
    estado_json: Mapped[str] = mapped_column(Text, nullable=False, default="{}", server_default="{}")
    mensajes_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=false())
    fecha_inicio: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    fecha_actualizacion: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        Index("idx_conversaciones_chat_id", "chat_id", unique=True),
        Index("idx_conversaciones_actualizacion", "fecha_actualizacion"),
        Index("idx_conversaciones_cliente", "cliente_id"),
        Index("idx_conversaciones_canal", "canal", "fecha_actualizacion"),
    )


class Mensaje(Base):
    """One message of a chat: from the customer (`cliente`), the agent (`agente`) or a staff member (`humano`)."""

    __tablename__ = "mensajes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversacion_id: Mapped[int] = mapped_column(ForeignKey("conversaciones.id", ondelete="CASCADE"), nullable=False)
    rol: Mapped[str] = mapped_column(String(20), nullable=False)
    texto: Mapped[str] = mapped_column(Text, nullable=False)
    intencion: Mapped[str | None] = mapped_column(String(40), nullable=True)
    generador: Mapped[str | None] = mapped_column(String(20), nullable=True)
    autor: Mapped[str | None] = mapped_column(String(100), nullable=True)
    fuentes_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Delivery of a reply on a messaging channel (pendiente, enviado, fallido, fuera_de_ventana); null on web/api.
    entrega: Mapped[str | None] = mapped_column(String(20), nullable=True)
    fecha: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (Index("idx_mensajes_conversacion", "conversacion_id", "id"),)


class DemandaInsatisfecha(Base):
    """Something a customer asked for that the shop could not serve: a lost sale to look at."""

    __tablename__ = "demanda_insatisfecha"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversacion_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversaciones.id", ondelete="SET NULL"), nullable=True
    )
    tipo: Mapped[str] = mapped_column(String(30), nullable=False)
    consulta: Mapped[str] = mapped_column(String(500), nullable=False)
    producto_id: Mapped[int | None] = mapped_column(ForeignKey("productos.id"), nullable=True)
    cantidad: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fecha: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (Index("idx_demanda_fecha", "fecha"), Index("idx_demanda_tipo", "tipo"))
