"""conversaciones: chats del agente, sus mensajes y la demanda insatisfecha

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agente_vendedor.core.db import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversaciones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("estado", sa.String(length=30), server_default="activa", nullable=False),
        sa.Column("ia_activa", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("requiere_humano", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("cliente_id", sa.Integer(), nullable=True),
        sa.Column("ultima_venta_id", sa.Integer(), nullable=True),
        sa.Column("estado_json", sa.Text(), server_default="{}", nullable=False),
        sa.Column("mensajes_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("fecha_inicio", UTCDateTime(), nullable=False),
        sa.Column("fecha_actualizacion", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["cliente_id"], ["clientes.id"], name=op.f("fk_conversaciones_cliente_id_clientes")),
        sa.ForeignKeyConstraint(
            ["ultima_venta_id"], ["ventas.id"], name=op.f("fk_conversaciones_ultima_venta_id_ventas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversaciones")),
    )
    op.create_index("idx_conversaciones_chat_id", "conversaciones", ["chat_id"], unique=True)
    op.create_index("idx_conversaciones_actualizacion", "conversaciones", ["fecha_actualizacion"])
    op.create_index("idx_conversaciones_cliente", "conversaciones", ["cliente_id"])
    op.create_table(
        "mensajes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversacion_id", sa.Integer(), nullable=False),
        sa.Column("rol", sa.String(length=20), nullable=False),
        sa.Column("texto", sa.Text(), nullable=False),
        sa.Column("intencion", sa.String(length=40), nullable=True),
        sa.Column("generador", sa.String(length=20), nullable=True),
        sa.Column("autor", sa.String(length=100), nullable=True),
        sa.Column("fuentes_json", sa.Text(), nullable=True),
        sa.Column("fecha", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversacion_id"],
            ["conversaciones.id"],
            name=op.f("fk_mensajes_conversacion_id_conversaciones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mensajes")),
    )
    op.create_index("idx_mensajes_conversacion", "mensajes", ["conversacion_id", "id"])
    op.create_table(
        "demanda_insatisfecha",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversacion_id", sa.Integer(), nullable=True),
        sa.Column("tipo", sa.String(length=30), nullable=False),
        sa.Column("consulta", sa.String(length=500), nullable=False),
        sa.Column("producto_id", sa.Integer(), nullable=True),
        sa.Column("cantidad", sa.Integer(), nullable=True),
        sa.Column("fecha", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversacion_id"],
            ["conversaciones.id"],
            name=op.f("fk_demanda_insatisfecha_conversacion_id_conversaciones"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["producto_id"], ["productos.id"], name=op.f("fk_demanda_insatisfecha_producto_id_productos")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demanda_insatisfecha")),
    )
    op.create_index("idx_demanda_fecha", "demanda_insatisfecha", ["fecha"])
    op.create_index("idx_demanda_tipo", "demanda_insatisfecha", ["tipo"])


def downgrade() -> None:
    op.drop_index("idx_demanda_tipo", table_name="demanda_insatisfecha")
    op.drop_index("idx_demanda_fecha", table_name="demanda_insatisfecha")
    op.drop_table("demanda_insatisfecha")
    op.drop_index("idx_mensajes_conversacion", table_name="mensajes")
    op.drop_table("mensajes")
    op.drop_index("idx_conversaciones_cliente", table_name="conversaciones")
    op.drop_index("idx_conversaciones_actualizacion", table_name="conversaciones")
    op.drop_index("idx_conversaciones_chat_id", table_name="conversaciones")
    op.drop_table("conversaciones")
