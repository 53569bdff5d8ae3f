"""inicial: clientes, productos y ventas

Revision ID: 0001
Revises:
Create Date: 2026-11-26 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agente_vendedor.core.db import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clientes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nombre", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=100), nullable=True),
        sa.Column("telefono", sa.String(length=20), nullable=True),
        sa.Column("direccion", sa.Text(), nullable=True),
        sa.Column("fecha_registro", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("activo", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("texto_busqueda", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clientes")),
    )
    op.create_index("idx_clientes_email", "clientes", ["email"], unique=True)
    op.create_index("idx_clientes_nombre", "clientes", ["nombre"])
    op.create_index("idx_clientes_fecha_registro", "clientes", ["fecha_registro"])

    op.create_table(
        "productos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nombre", sa.String(length=200), nullable=False),
        sa.Column("descripcion", sa.Text(), nullable=True),
        sa.Column("precio", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("stock", sa.Integer(), server_default="0", nullable=False),
        sa.Column("categoria", sa.String(length=100), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("activo", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("fecha_creacion", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("fecha_actualizacion", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("precio >= 0", name=op.f("ck_productos_precio_no_negativo")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_productos_stock_no_negativo")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_productos")),
    )
    op.create_index("idx_productos_categoria", "productos", ["categoria"])
    op.create_index("idx_productos_sku", "productos", ["sku"], unique=True)
    op.create_index("idx_productos_nombre", "productos", ["nombre"])

    op.create_table(
        "ventas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cliente_id", sa.Integer(), nullable=True),
        sa.Column("fecha_venta", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("total", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("estado", sa.String(length=50), server_default="pendiente", nullable=False),
        sa.Column("productos_json", sa.Text(), nullable=True),
        sa.Column("metadatos_json", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["cliente_id"], ["clientes.id"], name=op.f("fk_ventas_cliente_id_clientes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ventas")),
    )
    op.create_index("idx_ventas_cliente", "ventas", ["cliente_id"])
    op.create_index("idx_ventas_fecha", "ventas", ["fecha_venta"])


def downgrade() -> None:
    op.drop_index("idx_ventas_fecha", table_name="ventas")
    op.drop_index("idx_ventas_cliente", table_name="ventas")
    op.drop_table("ventas")
    op.drop_index("idx_productos_nombre", table_name="productos")
    op.drop_index("idx_productos_sku", table_name="productos")
    op.drop_index("idx_productos_categoria", table_name="productos")
    op.drop_table("productos")
    op.drop_index("idx_clientes_fecha_registro", table_name="clientes")
    op.drop_index("idx_clientes_nombre", table_name="clientes")
    op.drop_index("idx_clientes_email", table_name="clientes")
    op.drop_table("clientes")
