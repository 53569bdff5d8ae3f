"""A row that keeps failing is retried with backoff and parked, never blocking the rest; outages count no attempt."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from agente_vendedor.main import create_app
from agente_vendedor.rag.models import IndiceOutbox
from agente_vendedor.settings import Settings, get_settings
from tests.factories import producto_data
from tests.rag.test_embeddings_openai import DIM, embeddings_answer


class _Embeddings(BaseHTTPRequestHandler):
    """An OpenAI-compatible embeddings server that refuses texts with a poison word, or everything while `down`."""

    poison = "veneno"
    down = False
    hold: threading.Event | None = None  # while set to an unset event, texts with an e-mail (clientes) wait for it

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if _Embeddings.hold is not None and any("@" in text for text in body["input"]):
            _Embeddings.hold.wait(60)
        if _Embeddings.down:
            status, answer = 400, {"error": {"message": "modelo no cargado", "type": "invalid_request_error"}}
        elif any(_Embeddings.poison in text.lower() for text in body["input"]):
            status, answer = 400, {"error": {"message": "entrada rechazada", "type": "invalid_request_error"}}
        else:
            status, answer = 200, embeddings_answer(body)
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def embeddings_server() -> Iterator[str]:
    """The fake server on a free loopback port."""
    _Embeddings.down = False
    _Embeddings.poison = "veneno"
    _Embeddings.hold = None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadingHTTPServer(("127.0.0.1", port), _Embeddings)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}/v1"
    server.shutdown()
    server.server_close()


@pytest.fixture
def local_settings(embeddings_server: str, settings: Settings, tmp_path: Path) -> Settings:
    """The test settings with embeddings from the fake server and a private Chroma folder."""
    return settings.model_copy(
        update={
            "EMBEDDING_MODEL": "nomic-embed-text",
            "EMBEDDING_DIMENSION": DIM,
            "OPENAI_BASE_URL": embeddings_server,
            "CHROMA_PERSIST_DIRECTORY": tmp_path / "chroma",
            "OUTBOX_INTERVAL_SECONDS": 0.2,
        }
    )


@pytest.fixture
def local_app(local_settings: Settings) -> Iterator[FastAPI]:
    """An app on those settings; its tables are wiped afterwards."""
    app = create_app(local_settings)
    yield app
    from tests.conftest import _wipe

    _wipe(app)
    app.state.engine.dispose()


def _outbox(app: FastAPI) -> list[IndiceOutbox]:
    with app.state.session_factory() as session:
        return list(session.scalars(select(IndiceOutbox).order_by(IndiceOutbox.id)).all())


def test_a_poisoned_row_is_parked_and_the_rest_go_through(
    local_app: FastAPI, admin_headers: dict[str, str], local_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    rag = local_app.state.rag
    rag.espera_base = 0.0  # retry at once so the test sees every attempt without waiting
    rag.max_intentos = 3
    with TestClient(local_app, headers=admin_headers) as client:
        poisoned = client.post("/productos/", json=producto_data(nombre="Cafetera veneno"))
        assert poisoned.status_code == 201
        after = client.post("/productos/", json=producto_data(nombre="Martillo de carpintero"))
        assert after.status_code == 201

        assert rag.index.count("productos") == 1  # the row behind the failing one was not blocked
        (row,) = _outbox(local_app)
        assert row.entidad_id == poisoned.json()["id"]
        assert row.intentos == 3 and row.aparcada_en is not None
        assert row.ultimo_error is not None and "entrada rechazada" in row.ultimo_error
        # The product itself is sold and found: only its vector is missing.
        assert client.get("/productos/buscar", params={"q": "cafetera"}).json()[0]["id"] == poisoned.json()["id"]

        health = client.get("/health").json()["checks"]["chromadb"]
        assert health["ok"] is True
        assert "aparcados: 1" in health["detail"] and "reindexar --reintentar" in health["detail"]

        # Still poisoned: the CLI gives it fresh attempts, reports the failure and exits 1.
        for name in ("DATABASE_URL", "CHROMA_PERSIST_DIRECTORY", "DATA_DIRECTORY", "EXPORT_DIRECTORY"):
            monkeypatch.setenv(name, str(getattr(local_settings, name)))
        monkeypatch.setenv("EMBEDDING_MODEL", local_settings.EMBEDDING_MODEL)
        monkeypatch.setenv("EMBEDDING_DIMENSION", str(DIM))
        monkeypatch.setenv("OPENAI_BASE_URL", str(local_settings.OPENAI_BASE_URL))
        monkeypatch.setenv("DEMO_DATA", "false")
        get_settings.cache_clear()
        from agente_vendedor.cli import app as cli

        try:
            failing = CliRunner().invoke(cli, ["reindexar", "--reintentar"])
            assert failing.exit_code == 1, failing.output
            said = " ".join(failing.output.split())  # rich wraps long lines
            assert "reactivados: 1" in said and "vuelven a fallar: 1" in said

            _Embeddings.poison = "no-aparece-nunca"  # the cause is fixed (e.g. the provider accepts it now)
            fixed = CliRunner().invoke(cli, ["reindexar", "--reintentar"])
            assert fixed.exit_code == 0, fixed.output
            assert "Sin cambios pendientes de reintento" in " ".join(fixed.output.split())
            assert CliRunner().invoke(cli, ["reindexar", "productos", "--reintentar"]).exit_code == 2
        finally:
            get_settings.cache_clear()
        assert _outbox(local_app) == []
        assert rag.index.count("productos") == 2
        assert "aparcados: 0" in client.get("/health").json()["checks"]["chromadb"]["detail"]


def test_a_failing_row_waits_its_backoff_and_a_later_success_clears_it(
    local_app: FastAPI, admin_headers: dict[str, str]
) -> None:
    rag = local_app.state.rag
    rag.espera_base = 600.0
    with TestClient(local_app, headers=admin_headers) as client:
        created = client.post("/productos/", json=producto_data(nombre="Taladro veneno")).json()
        (row,) = _outbox(local_app)
        assert row.intentos == 1 and row.aparcada_en is None and row.siguiente_intento is not None
        assert rag.process_outbox() == 0  # not due yet: no second attempt
        assert _outbox(local_app)[0].intentos == 1

        # A later change of the same product that indexes fine makes the waiting row moot.
        client.patch(f"/productos/{created['id']}", json={"nombre": "Taladro percutor"})
        rag.max_intentos = 1
        client.post("/productos/", json=producto_data(nombre="Sierra veneno"))
        rows = _outbox(local_app)
        assert all(r.entidad_id != created["id"] for r in rows)
        assert rag.parked() == 1
        assert rag.index.count("productos") == 1


def test_an_outage_counts_no_attempt_search_degrades_and_the_worker_catches_up(
    local_app: FastAPI, admin_headers: dict[str, str]
) -> None:
    rag = local_app.state.rag
    rag.max_intentos = 1  # if the outage were blamed on the row it would be parked at once
    with TestClient(local_app, headers=admin_headers) as client:
        client.post("/productos/", json=producto_data(nombre="Cafetera italiana de aluminio"))
        _Embeddings.down = True
        created = client.post("/productos/", json=producto_data(nombre="Desbrozadora de gasolina"))
        assert created.status_code == 201
        (row,) = _outbox(local_app)
        assert row.intentos == 0 and row.aparcada_en is None

        found = client.get("/productos/buscar", params={"q": "desbrozadora"})
        assert found.status_code == 200
        assert found.headers["X-Busqueda-Modo"] == "lexico"
        assert found.json()[0]["id"] == created.json()["id"]
        chat = client.post("/rag/query", json={"query": "¿Tienen desbrozadoras?", "chat_id": "web-caida"})
        assert chat.status_code == 200

        _Embeddings.down = False
        # No commit happens from here on: the periodic worker alone must catch up.
        deadline = time.monotonic() + 60
        while _outbox(local_app) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _outbox(local_app) == []
        assert rag.index.count("productos") == 2
        healthy = client.get("/productos/buscar", params={"q": "desbrozadora"})
        assert "X-Busqueda-Modo" not in healthy.headers


def test_a_chat_turn_does_not_wait_for_the_new_customers_embedding(
    local_settings: Settings, admin_headers: dict[str, str]
) -> None:
    """The customer registered in a chat turn is indexed by the background processor, woken at once (its hourly
    tick alone would never come here); a staff write still indexes before its response (read-your-writes)."""
    app = create_app(local_settings.model_copy(update={"OUTBOX_INTERVAL_SECONDS": 3600}))
    _Embeddings.hold = threading.Event()
    try:
        with TestClient(app, headers=admin_headers) as client:
            respuesta = client.post(
                "/rag/query", json={"query": "Me llamo Elena Ruiz, elena.ruiz@example.com", "chat_id": "diferido"}
            )
            assert respuesta.status_code == 200
            # The embedding server holds every customer text: the reply came back without waiting for it.
            assert [r.entidad for r in _outbox(app)] == ["cliente"]
            _Embeddings.hold.set()
            deadline = time.monotonic() + 60
            while _outbox(app) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _outbox(app) == []
            assert app.state.rag.index.count("clientes") == 1

            creado = client.post("/clientes/", json={"nombre": "Pablo Gil", "email": "pablo.gil@example.com"})
            assert creado.status_code == 201
            assert _outbox(app) == []  # processed before the response
    finally:
        _Embeddings.hold.set()
        _Embeddings.hold = None
        from tests.conftest import _wipe

        _wipe(app)
        app.state.engine.dispose()
