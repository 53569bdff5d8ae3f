"""The ChromaDB vector index: one collection per indexed entity (`Indexable.coleccion`), tied to one embedding model."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from agente_vendedor.core.config import Settings
from agente_vendedor.core.errors import AppError

T = TypeVar("T")
UPSERT_BATCH = 1000
CHROMA_CONNECT_TIMEOUT_SECONDS = 3.0
CHROMA_HTTP_TIMEOUT_SECONDS = 30.0  # an upsert of UPSERT_BATCH vectors on a busy server stays well below it


class IndiceIncompatible(AppError):
    """The collection was built with another embedding model or dimension."""

    status_code = 503
    code = "indice_incompatible"


class IndiceNoDisponible(AppError):
    """ChromaDB cannot be reached or answered with an error."""

    status_code = 503
    code = "indice_no_disponible"


@dataclass(frozen=True)
class VectorHit:
    """One nearest neighbour: the entity id, its cosine similarity and the fingerprint stored with it."""

    id: int
    similarity: float
    huella: str


def create_client(settings: Settings) -> Any:
    """Embedded `PersistentClient` by default; a `chroma run` server when `CHROMA_HOST` is set. Telemetry off."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.CHROMA_HOST:
        client = chromadb.HttpClient(host=settings.CHROMA_HOST, port=settings.CHROMA_PORT, settings=chroma_settings)
        _bound_http_timeout(client)
        return client
    settings.CHROMA_PERSIST_DIRECTORY.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.CHROMA_PERSIST_DIRECTORY), settings=chroma_settings)


def _bound_http_timeout(client: Any) -> None:
    """chromadb's HTTP client waits forever by default; bound it so a stalled server never hangs a request.

    A server that is stopping or starting can accept a connection and not answer: without a timeout the write whose
    commit triggered the index update (or the search) would wait for it indefinitely. The session is chromadb's own
    `httpx.Client`, shared by every client of the same host and port.
    """
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(CHROMA_HTTP_TIMEOUT_SECONDS, connect=CHROMA_CONNECT_TIMEOUT_SECONDS)


class VectorIndex:
    """Thin wrapper over Chroma that never lets Chroma embed anything itself (its default model downloads)."""

    def __init__(self, client: Any, *, model: str, dimension: int) -> None:
        self.client = client
        self.model = model
        self.dimension = dimension
        self._collections: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _open(self, nombre: str) -> Any:
        metadata = {"modelo": self.model, "dimension": self.dimension}
        collection = self.client.get_or_create_collection(
            name=nombre,
            embedding_function=None,
            metadata=metadata,
            configuration={"hnsw": {"space": "cosine"}},
        )
        found = collection.metadata or {}
        if found.get("modelo") != self.model or found.get("dimension") != self.dimension:
            raise IndiceIncompatible(
                f"El índice '{nombre}' se creó con el modelo {found.get('modelo')!r} "
                f"({found.get('dimension')} dimensiones) y la configuración usa {self.model!r} "
                f"({self.dimension} dimensiones): ejecute `agente-vendedor reindexar` para reconstruirlo"
            )
        return collection

    def collection(self, nombre: str) -> Any:
        """The collection, opened once and checked against the configured model."""
        with self._lock:
            if nombre not in self._collections:
                self._collections[nombre] = self._open(nombre)
            return self._collections[nombre]

    def _with_collection(self, nombre: str, action: Callable[[Any], T]) -> T:
        """Run `action` on the collection; if another process rebuilt it (reindex), reopen it once and retry."""
        from chromadb.errors import NotFoundError

        try:
            return action(self.collection(nombre))
        except NotFoundError:
            with self._lock:
                self._collections.pop(nombre, None)
            return action(self.collection(nombre))

    def upsert(
        self,
        nombre: str,
        ids: Sequence[int],
        vectors: np.ndarray[Any, Any],
        metadatas: Sequence[Mapping[str, str | int | float | bool]],
    ) -> None:
        """Insert or replace vectors in batches."""
        for start in range(0, len(ids), UPSERT_BATCH):
            end = start + UPSERT_BATCH

            def write(collection: Any, start: int = start, end: int = end) -> None:
                collection.upsert(
                    ids=[str(i) for i in ids[start:end]],
                    embeddings=vectors[start:end],
                    metadatas=[dict(m) for m in metadatas[start:end]],
                )

            self._with_collection(nombre, write)

    def delete(self, nombre: str, ids: Sequence[int]) -> None:
        """Remove vectors (missing ids are ignored)."""
        if ids:
            self._with_collection(nombre, lambda c: c.delete(ids=[str(i) for i in ids]))

    def query(
        self, nombre: str, vector: np.ndarray[Any, Any], n: int, where: dict[str, Any] | None = None
    ) -> list[VectorHit]:
        """The `n` nearest vectors passing the metadata filter, most similar first."""
        result = self._with_collection(
            nombre,
            lambda c: c.query(
                query_embeddings=[vector], n_results=n, where=where or None, include=["distances", "metadatas"]
            ),
        )
        ids = result["ids"][0]
        distances = result["distances"][0] if result["distances"] else [1.0] * len(ids)
        metadatas = result["metadatas"][0] if result["metadatas"] else [{}] * len(ids)
        return [
            VectorHit(id=int(i), similarity=1.0 - float(d), huella=str((m or {}).get("huella", "")))
            for i, d, m in zip(ids, distances, metadatas, strict=True)
        ]

    def heartbeat(self) -> None:
        """Raise unless the Chroma client (embedded or server) answers."""
        self.client.heartbeat()

    def count(self, nombre: str) -> int:
        """How many vectors the collection holds."""
        return int(self._with_collection(nombre, lambda c: c.count()))

    def reset(self, nombre: str) -> None:
        """Drop and recreate a collection for the configured model (used by reindex)."""
        with self._lock:
            self._collections.pop(nombre, None)
            try:
                self.client.delete_collection(nombre)
            except Exception:  # noqa: BLE001 - Chroma raises different errors for a missing collection
                pass
        self.collection(nombre)
