"""The `ventas` table (orders), its lines, its state history and its idempotency keys."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Numeric, String, Text, func
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

    # One way only: `clientes` knows nothing of orders (ventas depends on clientes, never the reverse).
    cliente: Mapped[Cliente | None] = relationship(lazy="raise")
    lineas: Mapped[list[VentaLinea]] = relationship(
        back_populates="venta", lazy="raise", order_by=lambda: VentaLinea.producto_id
    )
    historial: Mapped[list[VentaHistorial]] = relationship(
        back_populates="venta", lazy="raise", order_by=lambda: (VentaHistorial.fecha, VentaHistorial.id)
    )

    __table_args__ = (
        Index("idx_ventas_cliente", "cliente_id"),
        Index("idx_ventas_fecha", "fecha_venta"),
        Index("idx_ventas_estado", "estado"),
    )


class VentaLinea(Base):
    """One line of an order, priced when it was sold; `productos_json` holds the same snapshot.

    The table exists so statistics (units and revenue per product) are plain SQL aggregates.
    """

    __tablename__ = "ventas_lineas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venta_id: Mapped[int] = mapped_column(ForeignKey("ventas.id", ondelete="CASCADE"), nullable=False)
    producto_id: Mapped[int] = mapped_column(ForeignKey("productos.id"), nullable=False)
    nombre: Mapped[str] = mapped_column(String(200), nullable=False)
    precio_unitario: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    cantidad: Mapped[int] = mapped_column(Integer, nullable=False)
    subtotal: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)

    venta: Mapped[Venta] = relationship(back_populates="lineas", lazy="raise")

    __table_args__ = (
        CheckConstraint("cantidad > 0", name="cantidad_positiva"),
        Index("idx_ventas_lineas_venta", "venta_id"),
        Index("idx_ventas_lineas_producto", "producto_id"),
    )


class VentaHistorial(Base):
    """One change of an order's state: who, when, from and to (`estado_anterior` is null at creation)."""

    __tablename__ = "ventas_historial"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venta_id: Mapped[int] = mapped_column(ForeignKey("ventas.id", ondelete="CASCADE"), nullable=False)
    estado_anterior: Mapped[str | None] = mapped_column(String(50), nullable=True)
    estado_nuevo: Mapped[str] = mapped_column(String(50), nullable=False)
    usuario: Mapped[str] = mapped_column(String(100), nullable=False)
    fecha: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, server_default=func.now())

    venta: Mapped[Venta] = relationship(back_populates="historial", lazy="raise")

    __table_args__ = (Index("idx_ventas_historial_venta", "venta_id"),)


class ClaveIdempotencia(Base):
    """An `Idempotency-Key` already used to create an order, with the hash of the request it came with."""

    __tablename__ = "ventas_idempotencia"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clave: Mapped[str] = mapped_column(String(200), nullable=False)
    hash_peticion: Mapped[str] = mapped_column(String(64), nullable=False)
    # Null only inside the creating transaction: the key is claimed first, the order is attached afterwards.
    venta_id: Mapped[int | None] = mapped_column(ForeignKey("ventas.id", ondelete="CASCADE"), nullable=True)
    fecha_creacion: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, server_default=func.now()
    )

    __table_args__ = (Index("idx_ventas_idempotencia_clave", "clave", unique=True),)
