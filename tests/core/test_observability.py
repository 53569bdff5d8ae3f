"""Logs are JSON lines with the request id and masked personal data; metrics count real requests."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from agente_vendedor.core.logging import configure_logging
from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings
from tests.serving import serving


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Route every log line into a buffer as the service would (JSON), then restore pytest's logging."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(stream=stream)
    yield stream
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    structlog.reset_defaults()


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_each_request_logs_one_json_line_with_its_request_id(
    log_stream: io.StringIO, settings: Settings, admin_headers: dict[str, str]
) -> None:
    app = create_app(settings)

    @app.get("/falla")
    def falla() -> None:
        raise ValueError("el cliente ana.garcia@example.com rompió algo")

    with TestClient(app, headers=admin_headers, raise_server_exceptions=False) as client:
        client.get("/clientes/buscar", params={"q": "ana"}, headers={"X-Request-ID": "req-123"})
        client.get("/falla", headers={"X-Request-ID": "req-500"})
    lines = _lines(log_stream)

    access = [line for line in lines if line.get("event") == "peticion" and line.get("request_id") == "req-123"]
    assert len(access) == 1
    line = access[0]
    assert (line["method"], line["path"], line["status"], line["level"]) == ("GET", "/clientes/buscar", 200, "info")
    assert isinstance(line["duration_ms"], float)
    assert str(line["timestamp"]).endswith("Z")
    assert str(line["usuario"]).endswith("@tienda.example.com")

    failure = [line for line in lines if line.get("request_id") == "req-500" and line.get("level") == "error"]
    assert failure, lines
    assert "ValueError" in str(failure[0]["exception"])
    assert "ana.garcia@example.com" not in log_stream.getvalue()
    assert "a***@example.com" in log_stream.getvalue()


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                values[tuple(sorted(sample.labels.items()))] = sample.value
    return values


def _value(text: str, name: str, **labels: str) -> float:
    return sum(v for k, v in _samples(text, name).items() if set(labels.items()) <= set(k))


def test_metrics_count_requests_by_route_and_time_queries(client: TestClient) -> None:
    before = client.get("/metrics").text
    for _ in range(3):
        client.get("/productos/424242")
    client.get("/productos/")
    after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    route = "/productos/{producto_id}"
    assert (
        _value(text, "http_requests_total", route=route, status="404")
        - _value(before, "http_requests_total", route=route, status="404")
        == 3
    )
    assert _value(text, "http_request_duration_seconds_count", route="/productos/") >= 1
    assert _value(text, "db_query_duration_seconds_count", operation="SELECT") > _value(
        before, "db_query_duration_seconds_count", operation="SELECT"
    )
    for name in ("rag_query_duration_seconds", "exportaciones_total", "llm_calls_total", "embedding_cache_total"):
        assert f"# HELP {name}" in text


def test_several_workers_share_one_metrics_view(tmp_path: Path) -> None:
    with serving(tmp_path, "--workers", "2", DEMO_DATA="false") as base:
        for _ in range(20):
            assert httpx.get(f"{base}/health/live").json() == {"status": "alive"}
        text = httpx.get(f"{base}/metrics").text
    assert _value(text, "http_requests_total", route="/health/live", status="200") == 20
    assert (tmp_path / "data" / "metrics").is_dir()
