"""Record index work inside the caller's transaction: the outbox row and the full-text copy commit with the data.

The index processes the outbox after the outermost commit only (see `Rag.install`), so callers may nest
`savepoint`s freely: work queued inside one that rolls back leaves with it; work queued inside one that is
released waits for the real commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from agente_vendedor.rag.indexable import Indexable, T
from agente_vendedor.rag.models import IndiceOutbox

PENDING_FLAG = "rag_pendiente"
DEFER_FLAG = "rag_diferir"
Operacion = Literal["upsert", "delete"]


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A SAVEPOINT inside the caller's transaction: rolled back if the block raises, released otherwise.

    Safe with the index hook: the outbox rows queued inside are processed after the outermost commit, never
    at the release (which would read them from another connection while this one holds the write lock).
    """
    with session.begin_nested():
        yield


def defer(session: Session) -> None:
    """Let the index work this transaction queues wait for the background processor instead of delaying the reply.

    For requests that never read their own writes back through the index: a chat turn that registers the
    customer does not search clientes by meaning. Without a running processor (CLI, tests) it changes nothing.
    """
    session.info[DEFER_FLAG] = True


def record(session: Session, indexable: Indexable[T], row: T, operacion: Operacion = "upsert") -> None:
    """Queue the row's vector update and refresh its full-text copy (call after `flush`, before commit)."""
    fts = indexable.fts
    entidad_id: int = getattr(row, "id")  # noqa: B009  (`Indexable` rows are mapped classes with an `id`)
    session.execute(delete(fts).where(fts.c.rowid == entidad_id))
    if operacion == "upsert":
        session.execute(insert(fts).values(rowid=entidad_id, texto=indexable.lexico(row)))
    session.add(IndiceOutbox(entidad=indexable.entidad, entidad_id=entidad_id, operacion=operacion))
    session.info[PENDING_FLAG] = True
