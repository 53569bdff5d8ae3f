"""Channel tables: who writes from where, every inbound delivery (deduplicated) and the durable outbound queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agente_vendedor.core.db import Base, UTCDateTime, utcnow


class CanalContacto(Base):
    """A WhatsApp number or Telegram chat and the conversation it always continues (a returning customer)."""

    __tablename__ = "canal_contactos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canal: Mapped[str] = mapped_column(String(20), nullable=False)
    externo_id: Mapped[str] = mapped_column(String(64), nullable=False)
    chat_id: Mapped[str] = mapped_column(String(128), nullable=False)
    # The business number that received the messages (WhatsApp's phone_number_id): replies leave from it.
    cuenta: Mapped[str | None] = mapped_column(String(64), nullable=True)
    nombre: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The customer's last message: WhatsApp allows free text only within 24 hours of it.
    ultimo_entrante: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fecha_alta: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        Index("idx_canal_contactos_externo", "canal", "externo_id", unique=True),
        Index("idx_canal_contactos_chat", "chat_id", unique=True),
    )


class CanalEntrante(Base):
    """One delivery from a channel; the unique key (wamid, update_id) is written before any processing."""

    __tablename__ = "canal_entrantes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canal: Mapped[str] = mapped_column(String(20), nullable=False)
    clave: Mapped[str] = mapped_column(String(255), nullable=False)
    externo_id: Mapped[str] = mapped_column(String(64), nullable=False)
    cuenta: Mapped[str | None] = mapped_column(String(64), nullable=True)
    nombre: Mapped[str | None] = mapped_column(String(100), nullable=True)
    tipo: Mapped[str] = mapped_column(String(30), nullable=False)
    texto: Mapped[str | None] = mapped_column(Text, nullable=True)
    fecha_mensaje: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    estado: Mapped[str] = mapped_column(String(20), nullable=False, default="pendiente", server_default="pendiente")
    intentos: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    ultimo_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    fecha_recepcion: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    fecha_procesado: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("idx_canal_entrantes_clave", "canal", "clave", unique=True),
        Index("idx_canal_entrantes_estado", "estado", "id"),
    )


class CanalSaliente(Base):
    """A message to send on a channel; kept until the API accepts it, retried with backoff meanwhile."""

    __tablename__ = "canal_salientes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canal: Mapped[str] = mapped_column(String(20), nullable=False)
    destino: Mapped[str] = mapped_column(String(64), nullable=False)
    cuenta: Mapped[str | None] = mapped_column(String(64), nullable=True)
    conversacion_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversaciones.id", ondelete="SET NULL"), nullable=True
    )
    mensaje_id: Mapped[int | None] = mapped_column(ForeignKey("mensajes.id", ondelete="SET NULL"), nullable=True)
    texto: Mapped[str] = mapped_column(Text, nullable=False)
    estado: Mapped[str] = mapped_column(String(20), nullable=False, default="pendiente", server_default="pendiente")
    intentos: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    proximo_intento: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    ultimo_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    externo_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    fecha_creacion: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    fecha_envio: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("idx_canal_salientes_estado", "estado", "proximo_intento"),
        Index("idx_canal_salientes_destino", "canal", "destino", "id"),
    )
