"""The OpenAI-compatible provider: request shape checked offline, and the whole app against a local server."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from agente_vendedor.main import create_app
from agente_vendedor.rag.embeddings import CachedEmbedder, EmbeddingError, OpenAIEmbedder, create_embedder
from agente_vendedor.settings import Settings
from tests.factories import producto_data

DIM = 64


def fake_vector(text: str) -> list[float]:
    """A deterministic bag-of-trigrams vector: texts sharing words get close vectors."""
    vector = np.zeros(DIM)
    padded = f" {text.lower()} "
    for i in range(len(padded) - 2):
        bucket = int(hashlib.md5(padded[i : i + 3].encode()).hexdigest(), 16) % DIM
        vector[bucket] += 1.0
    return [float(x) for x in vector]


def embeddings_answer(body: dict[str, Any]) -> dict[str, Any]:
    """What an OpenAI-compatible server answers to POST /embeddings (items deliberately out of order)."""
    data = [{"object": "embedding", "index": i, "embedding": fake_vector(t)} for i, t in enumerate(body["input"])]
    return {
        "object": "list",
        "data": list(reversed(data)),
        "model": body["model"],
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }


def test_requests_carry_model_inputs_and_key() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=embeddings_answer(json.loads(request.content)))

    embedder = OpenAIEmbedder(
        "text-embedding-3-small",
        api_key="sk-prueba",
        base_url="https://api.example.test/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        dimension=DIM,
    )
    vectors = embedder.embed(["taladro  percutor", "cafetera"])

    assert vectors.shape == (2, DIM)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    expected = np.asarray(fake_vector("taladro percutor"))
    assert np.allclose(vectors[0], expected / np.linalg.norm(expected))  # order restored by `index`
    request = seen[0]
    assert request.url == "https://api.example.test/v1/embeddings"
    assert request.headers["authorization"] == "Bearer sk-prueba"
    body = json.loads(request.content)
    assert body == {
        "model": "text-embedding-3-small",
        "input": ["taladro percutor", "cafetera"],
        "encoding_format": "float",
    }
    assert embedder.name == "openai:text-embedding-3-small"


def test_server_errors_become_a_spanish_503() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(401, json={"error": {"message": "Incorrect API key", "type": "invalid_request_error"}})

    embedder = OpenAIEmbedder("m", http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    with pytest.raises(EmbeddingError) as error:
        embedder.embed(["hola"])
    assert error.value.status_code == 503
    assert error.value.message.startswith("El servicio de embeddings no respondió correctamente")


def test_unknown_dimension_is_learned_and_checked() -> None:
    sizes = iter([DIM, DIM + 1])

    def handler(request: httpx2.Request) -> httpx2.Response:
        size = next(sizes)
        body = json.loads(request.content)
        data = [{"object": "embedding", "index": i, "embedding": [1.0] * size} for i, _ in enumerate(body["input"])]
        return httpx2.Response(200, json={"object": "list", "data": data, "model": "m", "usage": None})

    embedder = OpenAIEmbedder("modelo-local", http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    assert embedder.dimension == DIM
    with pytest.raises(EmbeddingError):
        embedder.embed(["otra"])


def test_cache_is_keyed_by_model_and_normalised_text() -> None:
    calls: list[list[str]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        calls.append(body["input"])
        return httpx2.Response(200, json=embeddings_answer(body))

    client = httpx2.Client(transport=httpx2.MockTransport(handler))
    cached = CachedEmbedder(OpenAIEmbedder("m", http_client=client, dimension=DIM), maxsize=2)
    cached.embed_query("hola  mundo")
    cached.embed_query(" hola mundo ")
    assert calls == [["hola mundo"]]
    cached.embed_query("a")
    cached.embed_query("b")
    cached.embed_query("hola mundo")  # evicted by the LRU bound
    assert len(calls) == 4


class _Handler(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.requests.append(body)
        payload = json.dumps(embeddings_answer(body)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def local_openai_server() -> Iterator[str]:
    """A tiny OpenAI-compatible embeddings server on loopback (stands in for Ollama / vLLM / llama.cpp)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/v1"
    server.shutdown()
    server.server_close()


def test_the_app_runs_on_a_local_openai_compatible_server(
    local_openai_server: str, settings: Settings, tmp_path: Path, admin_headers: dict[str, str]
) -> None:
    local = settings.model_copy(
        update={
            "EMBEDDING_MODEL": "nomic-embed-text",
            "EMBEDDING_DIMENSION": DIM,
            "OPENAI_BASE_URL": local_openai_server,
            "CHROMA_PERSIST_DIRECTORY": tmp_path / "chroma",
        }
    )
    assert isinstance(create_embedder(local), OpenAIEmbedder)
    app = create_app(local)
    try:
        with TestClient(app, headers=admin_headers) as client:
            created = client.post("/productos/", json=producto_data(nombre="Cafetera italiana de aluminio")).json()
            client.post("/productos/", json=producto_data(nombre="Martillo de carpintero"))
            assert app.state.rag.index.count("productos") == 2
            response = client.get("/productos/buscar", params={"q": "cafetera italiana"})
            assert response.status_code == 200
            assert response.json()[0]["id"] == created["id"]
            assert any(r["model"] == "nomic-embed-text" for r in _Handler.requests)
    finally:
        from tests.conftest import _wipe

        _wipe(app)
        app.state.engine.dispose()
