"""A `chroma run` server that stops: search and chat answer from the full-text half, /health says 503, nothing lost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agente_vendedor.main import create_app
from agente_vendedor.rag.runtime import Rag
from agente_vendedor.settings import Settings
from tests.factories import producto_data
from tests.procesos import ChromaPropio


def _until_nothing_pending(rag: Rag, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while rag.pending() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert rag.pending() == 0


@pytest.fixture
def chroma_propio(tmp_path: Path) -> Iterator[ChromaPropio]:
    """A private Chroma server this test stops and starts (same folder and port, as a restart would)."""
    server = ChromaPropio(tmp_path / "chroma-server")
    server.start()
    yield server
    server.stop()


def test_chroma_server_outage_degrades_to_lexical_and_the_index_catches_up(
    chroma_propio: ChromaPropio, settings: Settings, admin_headers: dict[str, str]
) -> None:
    remote = settings.model_copy(
        update={"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": chroma_propio.port, "OUTBOX_INTERVAL_SECONDS": 0.2}
    )
    app = create_app(remote)
    try:
        with TestClient(app, headers=admin_headers) as client:
            cafetera = client.post("/productos/", json=producto_data(nombre="Cafetera italiana de aluminio")).json()
            # The request indexes after its commit unless the periodic worker holds the processing lock at that
            # moment; then the worker takes the row in its next loop (`Rag._process_unless_busy`).
            _until_nothing_pending(app.state.rag)
            assert app.state.rag.index.count("productos") == 1
            session = app.state.rag.index.client._server._session  # chromadb's own httpx client
            assert session.timeout.read is not None and session.timeout.connect is not None  # never waits forever

            chroma_propio.stop()
            created = client.post("/productos/", json=producto_data(nombre="Desbrozadora de gasolina"))
            assert created.status_code == 201  # the write never waits for the index
            found = client.get("/productos/buscar", params={"q": "desbrozadora"})
            assert found.status_code == 200
            assert found.headers["X-Busqueda-Modo"] == "lexico"
            assert found.json()[0]["id"] == created.json()["id"]
            chat = client.post("/rag/query", json={"query": "¿tienen cafeteras?", "chat_id": "web-sin-chroma"})
            assert chat.status_code == 200 and "Cafetera italiana" in chat.json()["respuesta"]
            health = client.get("/health")
            assert health.status_code == 503
            assert health.json()["checks"]["chromadb"]["ok"] is False
            assert health.json()["checks"]["database"]["ok"] is True
            assert app.state.rag.pending() == 1 and app.state.rag.parked() == 0

            chroma_propio.start()
            # No write from here on: the periodic worker alone brings the index back in line.
            _until_nothing_pending(app.state.rag, seconds=120)
            assert client.get("/health").status_code == 200
            assert app.state.rag.index.count("productos") == 2
            again = client.get("/productos/buscar", params={"q": "cafetera"})
            assert "X-Busqueda-Modo" not in again.headers
            assert again.json()[0]["id"] == cafetera["id"]
    finally:
        from tests.conftest import _wipe

        _wipe(app)
        app.state.engine.dispose()
