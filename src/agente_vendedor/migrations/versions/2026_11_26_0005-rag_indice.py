"""rag: outbox del índice y tablas de texto completo (FTS5 trigram en SQLite; tsvector + pg_trgm en PostgreSQL)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agente_vendedor.core.db import UTCDateTime
from agente_vendedor.rag import text as rag_text

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rag_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entidad", sa.String(length=20), nullable=False),
        sa.Column("entidad_id", sa.Integer(), nullable=False),
        sa.Column("operacion", sa.String(length=10), nullable=False),
        sa.Column("fecha_creacion", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rag_outbox")),
    )
    op.create_index("idx_rag_outbox_entidad", "rag_outbox", ["entidad", "entidad_id"])

    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in ("productos_fts", "clientes_fts"):
            op.execute(f"CREATE VIRTUAL TABLE {table} USING fts5(texto, tokenize='trigram')")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table in ("productos_fts", "clientes_fts"):
            op.create_table(
                table,
                sa.Column("rowid", sa.Integer(), autoincrement=False, nullable=False),
                sa.Column("texto", sa.Text(), nullable=False),
                sa.PrimaryKeyConstraint("rowid", name=op.f(f"pk_{table}")),
            )
            op.execute(f"CREATE INDEX idx_{table}_trgm ON {table} USING gin (texto gin_trgm_ops)")
            # Words the catalog contains: Spanish stemming over the already accent-folded text, kept by PostgreSQL.
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN tsv tsvector "
                "GENERATED ALWAYS AS (to_tsvector('spanish', texto)) STORED"
            )
            op.execute(f"CREATE INDEX idx_{table}_tsv ON {table} USING gin (tsv)")

    # Existing rows: fill the full-text tables now and queue their vectors for the next start. The texts are those
    # of `productos.indice` and `clientes.indice` at this revision (a product's name counts twice).
    productos = bind.execute(sa.text("SELECT id, nombre, categoria, descripcion, sku FROM productos")).all()
    for row in productos:
        texto = rag_text.lexical_text(row.nombre, row.nombre, row.categoria, row.descripcion, row.sku)
        bind.execute(sa.text("INSERT INTO productos_fts (rowid, texto) VALUES (:i, :t)"), {"i": row.id, "t": texto})
    clientes = bind.execute(sa.text("SELECT id, nombre, email, telefono, direccion FROM clientes")).all()
    for row in clientes:
        texto = rag_text.lexical_text(row.nombre, row.email, row.telefono, row.direccion)
        bind.execute(sa.text("INSERT INTO clientes_fts (rowid, texto) VALUES (:i, :t)"), {"i": row.id, "t": texto})
    outbox = sa.table(
        "rag_outbox",
        sa.column("entidad", sa.String),
        sa.column("entidad_id", sa.Integer),
        sa.column("operacion", sa.String),
        sa.column("fecha_creacion", UTCDateTime()),
    )
    rows = [("producto", r.id) for r in productos] + [("cliente", r.id) for r in clientes]
    if rows:
        from agente_vendedor.core.db import utcnow

        now = utcnow()
        op.bulk_insert(
            outbox,
            [{"entidad": e, "entidad_id": i, "operacion": "upsert", "fecha_creacion": now} for e, i in rows],
        )


def downgrade() -> None:
    op.drop_table("clientes_fts")
    op.drop_table("productos_fts")
    op.drop_index("idx_rag_outbox_entidad", table_name="rag_outbox")
    op.drop_table("rag_outbox")
