"""`OPENTELEMETRY`: FastAPI's native OpenTelemetry stays off by default, even with a global provider configured."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# In a child process: a global tracer provider is process-wide and would leak into every other test.
SCRIPT = textwrap.dedent(
    """
    import sys
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)

    from fastapi.testclient import TestClient
    from agente_vendedor.main import create_app
    from agente_vendedor.settings import Settings

    folder = sys.argv[1]
    settings = Settings(
        DATABASE_URL=f"sqlite:///{folder}/otel.db", DATA_DIRECTORY=folder, OPENTELEMETRY=sys.argv[2] == "true"
    )
    client = TestClient(create_app(settings))
    assert client.get("/health/live").status_code == 200
    print(sorted({span.name for span in exporter.get_finished_spans()}))
    """
)


def _spans(folder: Path, enabled: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(folder), enabled], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(("enabled", "traced"), [("false", False), ("true", True)])
def test_requests_are_traced_only_when_enabled(tmp_path: Path, enabled: str, traced: bool) -> None:
    spans = _spans(tmp_path, enabled)
    assert (spans != "[]") is traced, spans
    if traced:
        assert "/health/live" in spans
