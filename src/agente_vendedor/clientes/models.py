"""The `clientes` table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, func, true
from sqlalchemy.orm import Mapped, mapped_column

from agente_vendedor.core.db import Base, UTCDateTime, utcnow


class Cliente(Base):
    """A customer of the shop; deleting one only deactivates it."""

    __tablename__ = "clientes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nombre: Mapped[str] = mapped_column(String(100), nullable=False)
    email: Mapped[str | None] = mapped_column(String(100), nullable=True)
    telefono: Mapped[str | None] = mapped_column(String(20), nullable=True)
    direccion: Mapped[str | None] = mapped_column(Text, nullable=True)
    fecha_registro: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, server_default=func.now()
    )
    activo: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())
    fecha_ultima_compra: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Folded copy of nombre, email and phone digits: accent- and case-insensitive search on any database.
    texto_busqueda: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")

    __table_args__ = (
        Index("idx_clientes_email", "email", unique=True),
        Index("idx_clientes_nombre", "nombre"),
        Index("idx_clientes_ultima_compra", "fecha_ultima_compra"),
        Index("idx_clientes_fecha_registro", "fecha_registro"),
    )
