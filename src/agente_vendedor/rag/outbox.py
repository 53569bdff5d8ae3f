"""Record index work inside the caller's transaction: the outbox row and the full-text copy commit with the data."""

from __future__ import annotations

from typing import Literal, Protocol

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from agente_vendedor.rag import text as rag_text
from agente_vendedor.rag.models import IndiceOutbox, clientes_fts, productos_fts

PENDING_FLAG = "rag_pendiente"
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
