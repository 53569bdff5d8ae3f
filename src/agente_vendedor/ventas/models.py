"""The `ventas` table (orders)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agente_vendedor.core.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from agente_vendedor.clientes.models import Cliente


class Venta(Base):
    """A sales order with a snapshot of its lines and its total."""

    __tablename__ = "ventas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cliente_id: Mapped[int | None] = mapped_column(ForeignKey("clientes.id"), nullable=True)
    fecha_venta: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, server_default=func.now()
    )
    total: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False, default=Decimal("0.00"))
    estado: Mapped[str] = mapped_column(String(50), nullable=False, default="pendiente", server_default="pendiente")
    productos_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    metadatos_json: Mapped[str | None] = mapped_column(Text, nullable=True)

    cliente: Mapped[Cliente | None] = relationship(back_populates="pedidos", lazy="raise")

    __table_args__ = (
        Index("idx_ventas_cliente", "cliente_id"),
        Index("idx_ventas_fecha", "fecha_venta"),
    )
