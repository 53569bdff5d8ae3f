"""The index on a real `chroma run` server (the deployment with several API workers)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings
from tests.factories import producto_data


def _chroma_executable() -> str | None:
    beside_python = Path(sys.executable).parent / "chroma"
    return str(beside_python) if beside_python.exists() else shutil.which("chroma")


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """`chroma run` on a free loopback port, stopped at the end of the module."""
    executable = _chroma_executable()
    if executable is None:
        pytest.fail("No se encuentra el ejecutable `chroma` (se instala con el paquete chromadb)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    folder = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        [executable, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("`chroma run` no arrancó")
            time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_search_through_a_chroma_server(
    chroma_server: tuple[str, int], settings: Settings, admin_headers: dict[str, str]
) -> None:
    host, port = chroma_server
    remote = settings.model_copy(update={"CHROMA_HOST": host, "CHROMA_PORT": port})
    app = create_app(remote)
    try:
        with TestClient(app, headers=admin_headers) as client:
            for name in ("productos", "clientes"):
                app.state.rag.index.reset(name)
            created = client.post("/productos/", json=producto_data(nombre="Cafetera italiana de aluminio")).json()
            client.post("/productos/", json=producto_data(nombre="Martillo de carpintero"))
            assert type(app.state.rag.index.client).__name__ != "PersistentClient"
            assert app.state.rag.index.count("productos") == 2

            response = client.get("/productos/buscar", params={"q": "cafetera", "limit": 1})
            assert [r["id"] for r in response.json()] == [created["id"]]
            health = client.get("/health").json()["checks"]["chromadb"]
            assert health["ok"] and "productos: 2/2" in health["detail"]
    finally:
        from tests.conftest import _wipe

        _wipe(app)
        app.state.engine.dispose()
