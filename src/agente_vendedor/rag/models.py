"""The index outbox and the lexical (full-text) tables the search reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Integer, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from agente_vendedor.core.db import Base, UTCDateTime, utcnow


class IndiceOutbox(Base):
    """Pending index work, written in the same transaction as the row it refers to."""

    __tablename__ = "rag_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entidad: Mapped[str] = mapped_column(String(20), nullable=False)
    entidad_id: Mapped[int] = mapped_column(Integer, nullable=False)
    operacion: Mapped[str] = mapped_column(String(10), nullable=False)
    fecha_creacion: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # A row whose entity keeps failing is retried with backoff, then parked with its error so it never
    # blocks the rows behind it (`agente-vendedor reindexar --reintentar` gives parked rows another chance).
    intentos: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    siguiente_intento: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ultimo_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    aparcada_en: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("idx_rag_outbox_entidad", "entidad", "entidad_id"),
        Index("idx_rag_outbox_aparcada", "aparcada_en"),
    )


# Full-text copies of the searchable text (accent-folded). On SQLite they are FTS5 virtual tables with the
# trigram tokenizer (created by migration 0005); on PostgreSQL plain tables with a pg_trgm GIN index. They are
# declared here so every tool that walks the metadata (tests wiping tables, for one) sees them; `rowid` is the
# id of the producto/cliente because that is the only key an FTS5 table has.
productos_fts = Table(
    "productos_fts",
    Base.metadata,
    Column("rowid", Integer, primary_key=True, autoincrement=False),
    Column("texto", Text, nullable=False),
)

clientes_fts = Table(
    "clientes_fts",
    Base.metadata,
    Column("rowid", Integer, primary_key=True, autoincrement=False),
    Column("texto", Text, nullable=False),
)
