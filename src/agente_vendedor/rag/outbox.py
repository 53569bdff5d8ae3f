"""Record index work inside the caller's transaction: the outbox row and the full-text copy commit with the data.

The index processes the outbox after the outermost commit only (see `Rag.install`), so callers may nest
`savepoint`s freely: work queued inside one that rolls back leaves with it; work queued inside one that is
released waits for the real commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal, Protocol

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from agente_vendedor.rag import text as rag_text
from agente_vendedor.rag.models import IndiceOutbox, clientes_fts, productos_fts

PENDING_FLAG = "rag_pendiente"
DEFER_FLAG = "rag_diferir"
Operacion = Literal["upsert", "delete"]


class _ProductoLike(Protocol):
    id: int
    nombre: str
    categoria: str | None
    descripcion: str | None
    sku: str | None


class _ClienteLike(Protocol):
    id: int
    nombre: str
    email: str | None
    telefono: str | None
    direccion: str | None


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


def record_producto(session: Session, producto: _ProductoLike, operacion: Operacion = "upsert") -> None:
    """Queue the product's vector update and refresh its full-text row (call after `flush`, before commit)."""
    session.execute(delete(productos_fts).where(productos_fts.c.rowid == producto.id))
    if operacion == "upsert":
        texto = rag_text.producto_lexical(producto.nombre, producto.categoria, producto.descripcion, producto.sku)
        session.execute(insert(productos_fts).values(rowid=producto.id, texto=texto))
    session.add(IndiceOutbox(entidad="producto", entidad_id=producto.id, operacion=operacion))
    session.info[PENDING_FLAG] = True


def record_cliente(session: Session, cliente: _ClienteLike, operacion: Operacion = "upsert") -> None:
    """Queue the cliente's vector update and refresh its full-text row (call after `flush`, before commit)."""
    session.execute(delete(clientes_fts).where(clientes_fts.c.rowid == cliente.id))
    if operacion == "upsert":
        texto = rag_text.cliente_lexical(cliente.nombre, cliente.email, cliente.telefono, cliente.direccion)
        session.execute(insert(clientes_fts).values(rowid=cliente.id, texto=texto))
    session.add(IndiceOutbox(entidad="cliente", entidad_id=cliente.id, operacion=operacion))
    session.info[PENDING_FLAG] = True
