"""/health reports each dependency and answers 503 when one fails."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings


def test_healthy_service_reports_each_check(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert set(body["checks"]) == {"database", "disk_space", "chromadb", "llm"}
    assert body["checks"]["llm"]["detail"].startswith("no configurado")
    assert all(check["ok"] for check in body["checks"].values())


def test_unreachable_database_is_503(settings: Settings) -> None:
    broken = settings.model_copy(update={"DATABASE_URL": "postgresql://nadie@127.0.0.1:1/inexistente"})
    app = create_app(broken)
    client = TestClient(app)  # no lifespan: the schema check would refuse to start
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["disk_space"]["ok"] is True


def test_low_disk_space_is_503(settings: Settings) -> None:
    greedy = settings.model_copy(update={"MIN_FREE_DISK_MB": 10**12})
    with TestClient(create_app(greedy)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert "MB libres" in response.json()["checks"]["disk_space"]["detail"]


@pytest.fixture
def models_server() -> Iterator[str]:
    """A loopback server answering the OpenAI `GET /v1/models` call, as a local LLM server would."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            body = json.dumps(
                {"object": "list", "data": [{"id": "modelo-local", "object": "model", "created": 0, "owned_by": "yo"}]}
            ).encode()
            self.send_response(200 if self.path == "/v1/models" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_configured_llm_server_is_checked(settings: Settings, models_server: str) -> None:
    local = settings.model_copy(update={"OPENAI_BASE_URL": models_server, "LLM_MODEL": "modelo-local"})
    with TestClient(create_app(local)) as client:
        response = client.get("/health")
    assert response.status_code == 200
    llm = response.json()["checks"]["llm"]
    assert llm["ok"] and llm["detail"] == "responde (1 modelos; modelo-local: disponible)"


def test_an_unreachable_llm_server_is_503_but_named(settings: Settings) -> None:
    gone = settings.model_copy(update={"OPENAI_BASE_URL": "http://127.0.0.1:1/v1"})
    with TestClient(create_app(gone)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    llm = response.json()["checks"]["llm"]
    assert not llm["ok"] and llm["detail"].startswith("no responde, el agente usa el motor offline")
