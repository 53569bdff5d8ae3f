"""usuarios: personal con rol y contraseña argon2

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-26 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agente_vendedor.core.db import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usuarios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=100), nullable=False),
        sa.Column("nombre", sa.String(length=100), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("rol", sa.String(length=20), nullable=False),
        sa.Column("activo", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("fecha_creacion", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("ultimo_acceso", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usuarios")),
    )
    op.create_index("idx_usuarios_email", "usuarios", ["email"], unique=True)


def downgrade() -> None:
    op.drop_index("idx_usuarios_email", table_name="usuarios")
    op.drop_table("usuarios")
