"""canales: canal de cada conversación, contactos, entregas entrantes sin duplicados y cola de salida duradera

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agente_vendedor.core.db import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversaciones") as batch:
        batch.add_column(sa.Column("canal", sa.String(length=20), server_default="api", nullable=False))
    op.create_index("idx_conversaciones_canal", "conversaciones", ["canal", "fecha_actualizacion"])
    with op.batch_alter_table("mensajes") as batch:
        batch.add_column(sa.Column("entrega", sa.String(length=20), nullable=True))

    op.create_table(
        "canal_contactos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("canal", sa.String(length=20), nullable=False),
        sa.Column("externo_id", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("cuenta", sa.String(length=64), nullable=True),
        sa.Column("nombre", sa.String(length=100), nullable=True),
        sa.Column("ultimo_entrante", UTCDateTime(), nullable=True),
        sa.Column("fecha_alta", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canal_contactos")),
    )
    op.create_index("idx_canal_contactos_externo", "canal_contactos", ["canal", "externo_id"], unique=True)
    op.create_index("idx_canal_contactos_chat", "canal_contactos", ["chat_id"], unique=True)

    op.create_table(
        "canal_entrantes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("canal", sa.String(length=20), nullable=False),
        sa.Column("clave", sa.String(length=255), nullable=False),
        sa.Column("externo_id", sa.String(length=64), nullable=False),
        sa.Column("cuenta", sa.String(length=64), nullable=True),
        sa.Column("nombre", sa.String(length=100), nullable=True),
        sa.Column("tipo", sa.String(length=30), nullable=False),
        sa.Column("texto", sa.Text(), nullable=True),
        sa.Column("fecha_mensaje", UTCDateTime(), nullable=False),
        sa.Column("estado", sa.String(length=20), server_default="pendiente", nullable=False),
        sa.Column("intentos", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ultimo_error", sa.String(length=500), nullable=True),
        sa.Column("fecha_recepcion", UTCDateTime(), nullable=False),
        sa.Column("fecha_procesado", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canal_entrantes")),
    )
    op.create_index("idx_canal_entrantes_clave", "canal_entrantes", ["canal", "clave"], unique=True)
    op.create_index("idx_canal_entrantes_estado", "canal_entrantes", ["estado", "id"])

    op.create_table(
        "canal_salientes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("canal", sa.String(length=20), nullable=False),
        sa.Column("destino", sa.String(length=64), nullable=False),
        sa.Column("cuenta", sa.String(length=64), nullable=True),
        sa.Column("conversacion_id", sa.Integer(), nullable=True),
        sa.Column("mensaje_id", sa.Integer(), nullable=True),
        sa.Column("texto", sa.Text(), nullable=False),
        sa.Column("estado", sa.String(length=20), server_default="pendiente", nullable=False),
        sa.Column("intentos", sa.Integer(), server_default="0", nullable=False),
        sa.Column("proximo_intento", UTCDateTime(), nullable=False),
        sa.Column("ultimo_error", sa.String(length=500), nullable=True),
        sa.Column("externo_id", sa.String(length=255), nullable=True),
        sa.Column("fecha_creacion", UTCDateTime(), nullable=False),
        sa.Column("fecha_envio", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversacion_id"],
            ["conversaciones.id"],
            name=op.f("fk_canal_salientes_conversacion_id_conversaciones"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["mensaje_id"], ["mensajes.id"], name=op.f("fk_canal_salientes_mensaje_id_mensajes"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canal_salientes")),
    )
    op.create_index("idx_canal_salientes_estado", "canal_salientes", ["estado", "proximo_intento"])
    op.create_index("idx_canal_salientes_destino", "canal_salientes", ["canal", "destino", "id"])


def downgrade() -> None:
    op.drop_index("idx_canal_salientes_destino", table_name="canal_salientes")
    op.drop_index("idx_canal_salientes_estado", table_name="canal_salientes")
    op.drop_table("canal_salientes")
    op.drop_index("idx_canal_entrantes_estado", table_name="canal_entrantes")
    op.drop_index("idx_canal_entrantes_clave", table_name="canal_entrantes")
    op.drop_table("canal_entrantes")
    op.drop_index("idx_canal_contactos_chat", table_name="canal_contactos")
    op.drop_index("idx_canal_contactos_externo", table_name="canal_contactos")
    op.drop_table("canal_contactos")
    with op.batch_alter_table("mensajes") as batch:
        batch.drop_column("entrega")
    op.drop_index("idx_conversaciones_canal", table_name="conversaciones")
    with op.batch_alter_table("conversaciones") as batch:
        batch.drop_column("canal")
