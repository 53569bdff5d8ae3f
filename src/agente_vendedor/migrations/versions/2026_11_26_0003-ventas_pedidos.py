"""ventas: líneas, historial de estados, claves de idempotencia e índice por estado

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agente_vendedor.core.db import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("idx_ventas_estado", "ventas", ["estado"])

    op.create_table(
        "ventas_lineas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venta_id", sa.Integer(), nullable=False),
        sa.Column("producto_id", sa.Integer(), nullable=False),
        sa.Column("nombre", sa.String(length=200), nullable=False),
        sa.Column("precio_unitario", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("cantidad", sa.Integer(), nullable=False),
        sa.Column("subtotal", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.CheckConstraint("cantidad > 0", name=op.f("ck_ventas_lineas_cantidad_positiva")),
        sa.ForeignKeyConstraint(
            ["venta_id"], ["ventas.id"], name=op.f("fk_ventas_lineas_venta_id_ventas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["producto_id"], ["productos.id"], name=op.f("fk_ventas_lineas_producto_id_productos")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ventas_lineas")),
    )
    op.create_index("idx_ventas_lineas_venta", "ventas_lineas", ["venta_id"])
    op.create_index("idx_ventas_lineas_producto", "ventas_lineas", ["producto_id"])

    op.create_table(
        "ventas_historial",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venta_id", sa.Integer(), nullable=False),
        sa.Column("estado_anterior", sa.String(length=50), nullable=True),
        sa.Column("estado_nuevo", sa.String(length=50), nullable=False),
        sa.Column("usuario", sa.String(length=100), nullable=False),
        sa.Column("fecha", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["venta_id"], ["ventas.id"], name=op.f("fk_ventas_historial_venta_id_ventas"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ventas_historial")),
    )
    op.create_index("idx_ventas_historial_venta", "ventas_historial", ["venta_id"])

    op.create_table(
        "ventas_idempotencia",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clave", sa.String(length=200), nullable=False),
        sa.Column("hash_peticion", sa.String(length=64), nullable=False),
        sa.Column("venta_id", sa.Integer(), nullable=True),
        sa.Column("fecha_creacion", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["venta_id"], ["ventas.id"], name=op.f("fk_ventas_idempotencia_venta_id_ventas"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ventas_idempotencia")),
    )
    op.create_index("idx_ventas_idempotencia_clave", "ventas_idempotencia", ["clave"], unique=True)


def downgrade() -> None:
    op.drop_index("idx_ventas_idempotencia_clave", table_name="ventas_idempotencia")
    op.drop_table("ventas_idempotencia")
    op.drop_index("idx_ventas_historial_venta", table_name="ventas_historial")
    op.drop_table("ventas_historial")
    op.drop_index("idx_ventas_lineas_producto", table_name="ventas_lineas")
    op.drop_index("idx_ventas_lineas_venta", table_name="ventas_lineas")
    op.drop_table("ventas_lineas")
    op.drop_index("idx_ventas_estado", table_name="ventas")
