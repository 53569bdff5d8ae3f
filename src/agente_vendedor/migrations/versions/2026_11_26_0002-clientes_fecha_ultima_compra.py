"""clientes.fecha_ultima_compra y su índice (el ejemplo de la especificación)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 20:31:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agente_vendedor.core.db import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("clientes", sa.Column("fecha_ultima_compra", UTCDateTime(), nullable=True))
    op.create_index("idx_clientes_ultima_compra", "clientes", ["fecha_ultima_compra"])


def downgrade() -> None:
    op.drop_index("idx_clientes_ultima_compra", table_name="clientes")
    with op.batch_alter_table("clientes") as batch:
        batch.drop_column("fecha_ultima_compra")
