"""rag: reintentos del outbox (intentos, siguiente intento, último error) y filas aparcadas

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agente_vendedor.core.db import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rag_outbox") as batch:
        batch.add_column(sa.Column("intentos", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("siguiente_intento", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("ultimo_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("aparcada_en", UTCDateTime(), nullable=True))
    op.create_index("idx_rag_outbox_aparcada", "rag_outbox", ["aparcada_en"])


def downgrade() -> None:
    op.drop_index("idx_rag_outbox_aparcada", table_name="rag_outbox")
    with op.batch_alter_table("rag_outbox") as batch:
        batch.drop_column("aparcada_en")
        batch.drop_column("ultimo_error")
        batch.drop_column("siguiente_intento")
        batch.drop_column("intentos")
