"""The long-lived retrieval objects of a process: embedder, vector index, and the outbox worker."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from agente_vendedor.clientes.models import Cliente
from agente_vendedor.core.config import Settings
from agente_vendedor.core.text import fold
from agente_vendedor.productos.models import Producto
from agente_vendedor.rag import text as rag_text
from agente_vendedor.rag.embeddings import (
    OPENAI_DIMENSIONS,
    USE_DIMENSION,
    USE_MODEL,
    CachedEmbedder,
    create_embedder,
    provider_name,
)
from agente_vendedor.rag.index import COLLECTIONS, VectorIndex, create_client
from agente_vendedor.rag.models import IndiceOutbox, clientes_fts, productos_fts
from agente_vendedor.rag.outbox import PENDING_FLAG

logger = logging.getLogger("agente_vendedor.rag")

ENTIDADES = {"producto": "productos", "cliente": "clientes"}
REINDEX_CHUNK = 500
Progress = Callable[[int], None]


def producto_metadata(producto: Producto, huella: str) -> dict[str, str | int | float | bool]:
    """What Chroma stores next to a product's vector so filters can run inside the index."""
    return {
        "id": producto.id,
        "categoria": fold(producto.categoria or ""),
        "precio": float(producto.precio),
        "activo": bool(producto.activo),
        "en_stock": producto.stock > 0,
        "huella": huella,
    }


def cliente_metadata(cliente: Cliente, huella: str) -> dict[str, str | int | float | bool]:
    """What Chroma stores next to a cliente's vector."""
    return {"id": cliente.id, "activo": bool(cliente.activo), "huella": huella}


def producto_doc(producto: Producto) -> str:
    """The embedded text of a product."""
    return rag_text.producto_document(producto.nombre, producto.categoria, producto.descripcion)


def cliente_doc(cliente: Cliente) -> str:
    """The embedded text of a cliente."""
    return rag_text.cliente_document(cliente.nombre, cliente.email, cliente.direccion)


class Rag:
    """Created once per app; the embedder and Chroma client are opened on first use so start-up stays fast."""

    def __init__(self, settings: Settings, session_factory: sessionmaker[Session], *, embedder: Any = None) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self._embedder: CachedEmbedder | None = CachedEmbedder(embedder) if embedder is not None else None
        self._index: VectorIndex | None = None
        self._init_lock = threading.Lock()
        self._process_lock = threading.Lock()

    @property
    def model_name(self) -> str:
        """The configured model as the index records it."""
        return self._embedder.name if self._embedder is not None else provider_name(self.settings)

    def _dimension(self) -> int:
        if self.model_name == USE_MODEL:
            return USE_DIMENSION
        known = self.settings.EMBEDDING_DIMENSION or OPENAI_DIMENSIONS.get(self.model_name.removeprefix("openai:"))
        return known or self.embedder.dimension

    @property
    def embedder(self) -> CachedEmbedder:
        """The process's embedder, loaded on first use."""
        with self._init_lock:
            if self._embedder is None:
                self._embedder = CachedEmbedder(create_embedder(self.settings))
            return self._embedder

    @property
    def index(self) -> VectorIndex:
        """The vector index, opened on first use."""
        if self._index is None:
            dimension = self._dimension()
            with self._init_lock:
                if self._index is None:
                    self._index = VectorIndex(create_client(self.settings), model=self.model_name, dimension=dimension)
        return self._index

    # ---- keeping the index in step with the database -------------------------------------------------

    def install(self) -> None:
        """Process the outbox right after every commit that queued index work (never inside the transaction)."""
        from sqlalchemy import event

        event.listen(self.session_factory, "after_commit", self._after_commit)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(PENDING_FLAG, False):
            self.process_outbox_safely()

    def process_outbox_safely(self) -> int:
        """Process pending work; a failure is logged and the rows stay for the next attempt."""
        try:
            return self.process_outbox()
        except Exception:
            logger.exception("No se pudo actualizar el índice de búsqueda; se reintentará")
            return 0

    def pending(self) -> int:
        """Rows waiting in the outbox."""
        with self.session_factory() as session:
            return int(session.scalar(select(func.count()).select_from(IndiceOutbox)) or 0)

    def process_outbox(self, batch: int = 500) -> int:
        """Bring the vectors of every queued entity in line with its current row; returns the rows done."""
        done = 0
        with self._process_lock:
            while True:
                with self.session_factory() as session:
                    # Several API workers on PostgreSQL: each takes rows the others are not processing.
                    pending = (
                        select(IndiceOutbox).order_by(IndiceOutbox.id).limit(batch).with_for_update(skip_locked=True)
                    )
                    rows = session.scalars(pending).all()
                    if not rows:
                        return done
                    for entidad in ENTIDADES:
                        ids = sorted({r.entidad_id for r in rows if r.entidad == entidad})
                        if ids:
                            self._sync(session, entidad, ids)
                    session.execute(delete(IndiceOutbox).where(IndiceOutbox.id.in_([r.id for r in rows])))
                    session.commit()
                    done += len(rows)

    def _sync(self, session: Session, entidad: str, ids: Sequence[int]) -> None:
        """The database is the source of truth: upsert what exists, delete what does not."""
        model: type[Producto] | type[Cliente] = Producto if entidad == "producto" else Cliente
        found = cast(list[Producto | Cliente], list(session.scalars(select(model).where(model.id.in_(ids))).all()))
        indexable = [row for row in found if _indexable(row)]
        self._upsert(entidad, indexable)
        gone = sorted(set(ids) - {row.id for row in indexable})
        self.index.delete(ENTIDADES[entidad], gone)

    def _upsert(self, entidad: str, rows: Sequence[Producto | Cliente]) -> None:
        if not rows:
            return
        if entidad == "producto":
            docs = [producto_doc(r) for r in rows if isinstance(r, Producto)]
            metas = [
                producto_metadata(r, rag_text.fingerprint(d))
                for r, d in zip(rows, docs, strict=True)
                if isinstance(r, Producto)
            ]
        else:
            docs = [cliente_doc(r) for r in rows if isinstance(r, Cliente)]
            metas = [
                cliente_metadata(r, rag_text.fingerprint(d))
                for r, d in zip(rows, docs, strict=True)
                if isinstance(r, Cliente)
            ]
        vectors = self.embedder.embed(docs)
        self.index.upsert(ENTIDADES[entidad], [r.id for r in rows], vectors, metas)

    # ---- rebuilding ------------------------------------------------------------------------------------

    def count_rows(self, entidad: str) -> int:
        """Rows that should have a vector: active products (inactive ones are never offered), every cliente."""
        query = (
            select(func.count()).select_from(Producto).where(Producto.activo.is_(True))
            if entidad == "producto"
            else select(func.count()).select_from(Cliente)
        )
        with self.session_factory() as session:
            return int(session.scalar(query) or 0)

    def reindex(self, entidad: str, progress: Progress | None = None) -> int:
        """Rebuild the collection and the full-text table of one entity from the database."""
        model: type[Producto] | type[Cliente] = Producto if entidad == "producto" else Cliente
        fts = productos_fts if entidad == "producto" else clientes_fts
        collection = ENTIDADES[entidad]
        with self._process_lock:
            with self.session_factory() as session:
                last_outbox = session.scalar(select(func.max(IndiceOutbox.id)).where(IndiceOutbox.entidad == entidad))
            self.index.reset(collection)
            total, last_id = 0, 0
            with self.session_factory() as session:
                session.execute(delete(fts))
                while True:
                    query = select(model).where(model.id > last_id).order_by(model.id).limit(REINDEX_CHUNK)
                    rows = cast(list[Producto | Cliente], list(session.scalars(query).all()))
                    if not rows:
                        break
                    session.execute(insert(fts), [{"rowid": r.id, "texto": _lexical(r)} for r in rows])
                    indexable = [row for row in rows if _indexable(row)]
                    self._upsert(entidad, indexable)
                    last_id = rows[-1].id
                    total += len(indexable)
                    if progress is not None:
                        progress(len(indexable))
                if last_outbox is not None:
                    session.execute(
                        delete(IndiceOutbox).where(IndiceOutbox.entidad == entidad, IndiceOutbox.id <= last_outbox)
                    )
                session.commit()
        return total

    def status(self) -> dict[str, tuple[int, int]]:
        """For each collection: (vectors in Chroma, rows in the database)."""
        return {
            name: (self.index.count(name), self.count_rows(entidad))
            for entidad, name in ENTIDADES.items()
            if name in COLLECTIONS
        }


def _indexable(row: Producto | Cliente) -> bool:
    """Inactive products get no vector: search never offers them. Clientes stay (the literal search lists them)."""
    return row.activo if isinstance(row, Producto) else True


def _lexical(row: Producto | Cliente) -> str:
    if isinstance(row, Producto):
        return rag_text.producto_lexical(row.nombre, row.categoria, row.descripcion, row.sku)
    return rag_text.cliente_lexical(row.nombre, row.email, row.telefono, row.direccion)
