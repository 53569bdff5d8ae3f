"""The long-lived retrieval objects of a process: embedder, vector index, and the outbox worker."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from agente_vendedor.core.config import Settings
from agente_vendedor.core.db import utcnow
from agente_vendedor.core.progress import ProgressCallback
from agente_vendedor.rag import text as rag_text
from agente_vendedor.rag.embeddings import (
    OPENAI_DIMENSIONS,
    USE_DIMENSION,
    USE_MODEL,
    CachedEmbedder,
    create_embedder,
    map_use_table,
    provider_name,
)
from agente_vendedor.rag.index import IndiceIncompatible, IndiceNoDisponible, VectorIndex, create_client
from agente_vendedor.rag.indexable import Indexable
from agente_vendedor.rag.models import IndiceOutbox
from agente_vendedor.rag.outbox import DEFER_FLAG, PENDING_FLAG

logger = logging.getLogger("agente_vendedor.rag")

REINDEX_CHUNK = 500
Clave = tuple[str, int]  # (entidad, entidad_id)


@dataclass(frozen=True)
class Reintento:
    """What `reindexar --reintentar` did: parked rows reactivated, rows done, reactivated rows failing again."""

    reactivadas: int
    procesadas: int
    fallidas: int


class Rag:
    """Created once per app; the embedder and Chroma client are opened on first use so start-up stays fast."""

    # A row whose entity fails on its own (the index and the embedder answer) waits 2, 4, 8... s (at most 5 min)
    # between attempts and is parked after the 8th failure, about 8 minutes after the first.
    max_intentos = 8
    espera_base = 2.0
    espera_max = 300.0
    # After the index or the embedder failed, requests leave it alone this long (search answers lexical-only, writes
    # leave their index work to the periodic worker) instead of each waiting for the same timeout.
    pausa_tras_caida = 10.0

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        *,
        entidades: Iterable[Indexable[Any]],
        embedder: Any = None,
    ) -> None:
        self.settings = settings
        # What is indexed, by outbox name ("producto"), handed over by the composition root (`agente_vendedor.models`).
        self.entidades: dict[str, Indexable[Any]] = {e.entidad: e for e in entidades}
        self.session_factory = session_factory
        self._embedder: CachedEmbedder | None = CachedEmbedder(embedder) if embedder is not None else None
        self._index: VectorIndex | None = None
        self._init_lock = threading.Lock()
        self._process_lock = threading.Lock()
        self._work_waiting = threading.Event()
        self._stop_worker = threading.Event()
        self._wake_worker = threading.Event()
        self._worker: threading.Thread | None = None
        self._down_until = 0.0

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

    def warm_up(self) -> None:
        """Load the embedder now (the model takes seconds on a busy machine); never raises.

        The offline model reads its weights on its first encoding, not when constructed: one short text is
        encoded here so the first customer's search does not wait for them. The index opens on first use.
        """
        try:
            embedder = self.embedder
            if provider_name(self.settings) == USE_MODEL:  # an API embedder is not called just to start
                embedder.embed(["hola"])
        except Exception:
            logger.warning(
                "No se pudo cargar el modelo de embeddings al arrancar; se reintentará al usarlo", exc_info=True
            )

    def map_model(self) -> None:
        """For a server process: read the offline model's token table from a file, row by row (`map_use_table`)."""
        if provider_name(self.settings) == USE_MODEL:
            map_use_table(self.settings.DATA_DIRECTORY / "modelos")

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

    def vectors_paused(self) -> bool:
        """True for a short while after the index or the embedder failed: requests don't wait for them again."""
        return time.monotonic() < self._down_until

    def mark_down(self) -> None:
        """Record that the index or the embedder just failed."""
        self._down_until = time.monotonic() + self.pausa_tras_caida

    def _after_commit(self, session: Session) -> None:
        # SQLAlchemy also emits `after_commit` when a SAVEPOINT is released. The data is not committed then, and
        # processing from another connection would wait on the write lock this session still holds (SQLite), so
        # the pending work stays flagged until the outermost commit.
        if session.in_nested_transaction():
            return
        diferir = session.info.pop(DEFER_FLAG, False)
        if session.info.pop(PENDING_FLAG, False) and not self.vectors_paused():
            if diferir and self._worker is not None:
                self._wake_worker.set()  # the reply does not wait for the embedding
            else:
                self._process_unless_busy()

    def _process_unless_busy(self) -> None:
        """Process the outbox now, unless another thread already is: that one loops again and takes our rows.

        Waiting for the lock here would hold this request's connection while the processor needs another one:
        with many concurrent writers the pool runs dry and every request times out.
        """
        self._work_waiting.set()
        while self._work_waiting.is_set():
            if not self._process_lock.acquire(blocking=False):
                return
            try:
                self._work_waiting.clear()
                self._process_safely_locked()
            finally:
                self._process_lock.release()

    def _process_safely_locked(self) -> None:
        try:
            self._process_locked()
        except IndiceNoDisponible as exc:
            self.mark_down()
            logger.warning("Índice de búsqueda no disponible; los cambios esperan en el outbox: %s", exc)
        except Exception:
            logger.exception("No se pudo actualizar el índice de búsqueda; se reintentará")

    def process_outbox_safely(self) -> int:
        """Process pending work; a failure is logged and the rows stay for the next attempt."""
        try:
            return self.process_outbox()
        except IndiceNoDisponible as exc:
            self.mark_down()
            logger.warning("Índice de búsqueda no disponible; los cambios esperan en el outbox: %s", exc)
            return 0
        except Exception:
            logger.exception("No se pudo actualizar el índice de búsqueda; se reintentará")
            return 0

    def start_worker(self, interval: float) -> None:
        """Process due rows every `interval` seconds: retries after a backoff, and the backlog of an index outage."""
        if self._worker is not None or interval <= 0:
            return
        self._stop_worker.clear()

        def run() -> None:
            while True:
                self._wake_worker.wait(interval)
                self._wake_worker.clear()
                if self._stop_worker.is_set():
                    return
                try:
                    if self._due():
                        self._process_unless_busy()
                except Exception:  # the database may be briefly unreachable: try again next tick
                    logger.warning("No se pudo consultar el outbox del índice", exc_info=True)

        self._worker = threading.Thread(target=run, name="rag-outbox", daemon=True)
        self._worker.start()

    def stop_worker(self) -> None:
        """Stop the periodic processor (app shutdown)."""
        self._stop_worker.set()
        self._wake_worker.set()
        if self._worker is not None:
            self._worker.join(timeout=10)
            self._worker = None

    def pending(self) -> int:
        """Rows waiting in the outbox (parked ones excluded)."""
        with self.session_factory() as session:
            query = select(func.count()).select_from(IndiceOutbox).where(IndiceOutbox.aparcada_en.is_(None))
            return int(session.scalar(query) or 0)

    def parked(self) -> int:
        """Rows that failed too many times and wait for `reindexar --reintentar`."""
        with self.session_factory() as session:
            query = select(func.count()).select_from(IndiceOutbox).where(IndiceOutbox.aparcada_en.is_not(None))
            return int(session.scalar(query) or 0)

    def _due(self) -> bool:
        with self.session_factory() as session:
            return session.scalar(select(IndiceOutbox.id).where(*_due_now()).limit(1)) is not None

    def process_outbox(self, batch: int = 500) -> int:
        """Bring the vectors of every queued entity in line with its current row; returns the rows done."""
        with self._process_lock:
            return self._process_locked(batch)

    def retry_parked(self) -> Reintento:
        """Give every parked row (and any waiting out a backoff) a fresh set of attempts and process the outbox now."""
        with self.session_factory() as session:
            failed = or_(IndiceOutbox.aparcada_en.is_not(None), IndiceOutbox.intentos > 0)
            ids = list(session.scalars(select(IndiceOutbox.id).where(failed)).all())
            if ids:
                session.execute(
                    update(IndiceOutbox)
                    .where(IndiceOutbox.id.in_(ids))
                    .values(aparcada_en=None, intentos=0, siguiente_intento=None)
                )
                session.commit()
        procesadas = self.process_outbox()
        with self.session_factory() as session:
            fallidas = session.scalar(select(func.count()).select_from(IndiceOutbox).where(IndiceOutbox.id.in_(ids)))
        return Reintento(reactivadas=len(ids), procesadas=procesadas, fallidas=int(fallidas or 0))

    def _process_locked(self, batch: int = 500) -> int:
        done = 0
        while True:
            with self.session_factory() as session:
                # Several API workers on PostgreSQL: each takes rows the others are not processing.
                pending = (
                    select(IndiceOutbox)
                    .where(*_due_now())
                    .order_by(IndiceOutbox.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
                rows = session.scalars(pending).all()
                if not rows:
                    return done
                failed = self._sync_rows(session, rows)
                ok = [r for r in rows if (r.entidad, r.entidad_id) not in failed]
                if ok:
                    session.execute(delete(IndiceOutbox).where(IndiceOutbox.id.in_([r.id for r in ok])))
                    self._drop_moot(session, ok)
                for row in rows:
                    error = failed.get((row.entidad, row.entidad_id))
                    if error is not None:
                        self._penalise(row, error)
                session.commit()
                done += len(ok)
                if ok:
                    self._down_until = 0.0  # the index and the embedder answer again

    def _drop_moot(self, session: Session, synced: Sequence[IndiceOutbox]) -> None:
        """Older rows of an entity that has just synced, waiting for a retry or parked, are moot: drop them.

        Only rows that already failed at least once qualify (their change was committed before this batch read the
        entity); rows another worker holds are skipped.
        """
        for entidad in self.entidades:
            newest: dict[int, int] = {}
            for r in synced:
                if r.entidad == entidad:
                    newest[r.entidad_id] = max(newest.get(r.entidad_id, 0), r.id)
            if not newest:
                continue
            candidates = session.scalars(
                select(IndiceOutbox)
                .where(
                    IndiceOutbox.entidad == entidad,
                    IndiceOutbox.entidad_id.in_(sorted(newest)),
                    IndiceOutbox.intentos > 0,
                )
                .with_for_update(skip_locked=True)
            ).all()
            moot = [c.id for c in candidates if c.id < newest[c.entidad_id]]
            if moot:
                session.execute(delete(IndiceOutbox).where(IndiceOutbox.id.in_(moot)))

    def _penalise(self, row: IndiceOutbox, error: str) -> None:
        """One more failed attempt: wait longer before the next, or park the row once out of attempts."""
        now = utcnow()
        row.intentos += 1
        row.ultimo_error = error[:1000]
        if row.intentos >= self.max_intentos:
            row.aparcada_en = now
            row.siguiente_intento = None
            logger.error(
                "Cambio del índice aparcado tras %s intentos (%s %s): %s",
                row.intentos,
                row.entidad,
                row.entidad_id,
                row.ultimo_error,
            )
        else:
            wait = min(self.espera_max, self.espera_base * 2 ** (row.intentos - 1))
            row.siguiente_intento = now + timedelta(seconds=wait)
            logger.warning(
                "Cambio del índice fallido (%s %s, intento %s); se reintenta en %.0f s: %s",
                row.entidad,
                row.entidad_id,
                row.intentos,
                wait,
                row.ultimo_error,
            )

    def _sync_rows(self, session: Session, rows: Sequence[IndiceOutbox]) -> dict[Clave, str]:
        """Sync the batch; when it fails, sync entity by entity and return the ones that fail on their own.

        If the index or the embedder itself is unreachable no entity is to blame: `IndiceNoDisponible` is raised and
        every row stays as it was (no attempt counted), to be processed once the service is back.
        """
        failed: dict[Clave, str] = {}
        for entidad in self.entidades:
            ids = sorted({r.entidad_id for r in rows if r.entidad == entidad})
            if not ids:
                continue
            try:
                self._sync(session, entidad, ids)
                continue
            except Exception as exc:
                self._check_available(exc)
            for entidad_id in ids:
                try:
                    self._sync(session, entidad, [entidad_id])
                except Exception as exc:
                    self._check_available(exc)
                    failed[(entidad, entidad_id)] = f"{type(exc).__name__}: {exc}"
        return failed

    def _check_available(self, cause: Exception) -> None:
        """Raise `IndiceNoDisponible` unless both the vector index and the embedder answer right now.

        A model mismatch is not a row's fault either: it is re-raised until `agente-vendedor reindexar` rebuilds.
        """
        if isinstance(cause, IndiceIncompatible):
            raise cause
        try:
            self.index.heartbeat()
            self.embedder.embed(["comprobación del servicio"])
        except Exception as exc:
            raise IndiceNoDisponible(f"{type(exc).__name__}: {exc}"[:300]) from cause

    def _sync(self, session: Session, entidad: str, ids: Sequence[int]) -> None:
        """The database is the source of truth: upsert what exists, delete what does not."""
        indexable = self.entidades[entidad]
        model: Any = indexable.modelo
        found = list(session.scalars(select(model).where(model.id.in_(ids))).all())
        con_vector = [row for row in found if indexable.con_vector(row)]
        self._upsert(indexable, con_vector)
        gone = sorted(set(ids) - {row.id for row in con_vector})
        self.index.delete(indexable.coleccion, gone)

    def _upsert(self, indexable: Indexable[Any], rows: Sequence[Any]) -> None:
        if not rows:
            return
        docs = [indexable.documento(r) for r in rows]
        metas = [indexable.metadata(r, rag_text.fingerprint(d)) for r, d in zip(rows, docs, strict=True)]
        vectors = self.embedder.embed(docs)
        self.index.upsert(indexable.coleccion, [r.id for r in rows], vectors, metas)

    # ---- rebuilding ------------------------------------------------------------------------------------

    def count_rows(self, entidad: str) -> int:
        """Rows that should have a vector (inactive products are never offered; every cliente is)."""
        indexable = self.entidades[entidad]
        query = select(func.count()).select_from(indexable.modelo).where(*indexable.con_vector_sql)
        with self.session_factory() as session:
            return int(session.scalar(query) or 0)

    def reindex(self, entidad: str, progress: ProgressCallback | None = None) -> int:
        """Rebuild the collection and the full-text table of one entity from the database."""
        indexable = self.entidades[entidad]
        model: Any = indexable.modelo
        fts = indexable.fts
        collection = indexable.coleccion
        with self._process_lock:
            with self.session_factory() as session:
                last_outbox = session.scalar(select(func.max(IndiceOutbox.id)).where(IndiceOutbox.entidad == entidad))
            self.index.reset(collection)
            total, last_id = 0, 0
            with self.session_factory() as session:
                session.execute(delete(fts))
                while True:
                    query = select(model).where(model.id > last_id).order_by(model.id).limit(REINDEX_CHUNK)
                    rows = list(session.scalars(query).all())
                    if not rows:
                        break
                    session.execute(insert(fts), [{"rowid": r.id, "texto": indexable.lexico(r)} for r in rows])
                    con_vector = [row for row in rows if indexable.con_vector(row)]
                    self._upsert(indexable, con_vector)
                    last_id = rows[-1].id
                    total += len(con_vector)
                    if progress is not None:
                        progress(len(con_vector))
                if last_outbox is not None:
                    session.execute(
                        delete(IndiceOutbox).where(IndiceOutbox.entidad == entidad, IndiceOutbox.id <= last_outbox)
                    )
                session.commit()
        return total

    def status(self) -> dict[str, tuple[int, int]]:
        """For each collection: (vectors in Chroma, rows in the database)."""
        return {
            e.coleccion: (self.index.count(e.coleccion), self.count_rows(e.entidad)) for e in self.entidades.values()
        }


def _due_now() -> list[Any]:
    """Outbox rows to process now: not parked, and past their backoff."""
    return [
        IndiceOutbox.aparcada_en.is_(None),
        or_(IndiceOutbox.siguiente_intento.is_(None), IndiceOutbox.siguiente_intento <= utcnow()),
    ]
