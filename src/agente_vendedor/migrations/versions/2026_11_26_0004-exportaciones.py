"""exportaciones: historial de exportaciones

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agente_vendedor.core.db import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exportaciones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("usuario", sa.String(length=100), nullable=False),
        sa.Column("fecha", UTCDateTime(), nullable=False),
        sa.Column("entidad", sa.String(length=20), nullable=False),
        sa.Column("formato", sa.String(length=10), nullable=False),
        sa.Column("filtros_json", sa.Text(), nullable=False),
        sa.Column("filas", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("duracion_ms", sa.Integer(), nullable=False),
        sa.Column("estado", sa.String(length=10), nullable=False),
        sa.Column("mensaje", sa.Text(), nullable=True),
        sa.Column("archivo", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exportaciones")),
    )
    op.create_index("idx_exportaciones_fecha", "exportaciones", ["fecha"])


def downgrade() -> None:
    op.drop_index("idx_exportaciones_fecha", table_name="exportaciones")
    op.drop_table("exportaciones")
