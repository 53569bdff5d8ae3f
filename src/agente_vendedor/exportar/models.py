"""The `exportaciones` table: the history of every export."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agente_vendedor.core.db import Base, UTCDateTime, utcnow


class Exportacion(Base):
    """One export: who asked, what, with which filters, and how it ended."""

    __tablename__ = "exportaciones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    usuario: Mapped[str] = mapped_column(String(100), nullable=False)
    fecha: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    entidad: Mapped[str] = mapped_column(String(20), nullable=False)
    formato: Mapped[str] = mapped_column(String(10), nullable=False)
    filtros_json: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    filas: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    duracion_ms: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    estado: Mapped[str] = mapped_column(String(10), nullable=False)
    mensaje: Mapped[str | None] = mapped_column(Text, nullable=True)
    archivo: Mapped[str | None] = mapped_column(String(255), nullable=True)

    __table_args__ = (Index("idx_exportaciones_fecha", "fecha"),)
