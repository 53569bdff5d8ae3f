"""The index outbox (the full-text tables are declared by each indexed entity's owner, see `rag.indexable`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, text
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
