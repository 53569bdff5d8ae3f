"""A worker's memory at startup: optional heavy libraries stay unloaded; only a server process freezes its objects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

import agente_vendedor.main
from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings

SRC = Path(__file__).resolve().parents[1] / "src"
LAZY_MODULES = ("openai", "xlsxwriter", "redis")


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter with the project's sources first on the path and no Redis configured."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_importing_the_app_module_does_not_load_openai_xlsxwriter_or_redis() -> None:
    code = (
        "import json, sys\n"
        "import agente_vendedor.main\n"
        f"print(json.dumps({{name: name in sys.modules for name in {LAZY_MODULES!r}}}))\n"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == dict.fromkeys(LAZY_MODULES, False), f"módulos cargados al importar la app: {loaded}"


def test_settle_memory_freezes_the_startup_objects_of_the_process() -> None:
    code = (
        "import gc\n"
        "assert gc.get_freeze_count() == 0\n"
        "from agente_vendedor.core.memory import settle_memory\n"
        "settle_memory()\n"
        "print(gc.get_freeze_count())\n"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip().splitlines()[-1]) > 0


def test_create_app_is_not_marked_as_a_server_process(settings: Settings) -> None:
    app = create_app(settings)
    try:
        assert app.state.server_process is False
    finally:
        app.state.engine.dispose()


def test_app_factory_marks_its_app_as_the_server_process(monkeypatch: pytest.MonkeyPatch) -> None:
    dummy = SimpleNamespace(state=SimpleNamespace())
    calls: list[tuple[object, ...]] = []

    def fake_create_app(*args: object) -> SimpleNamespace:
        calls.append(args)
        return dummy

    monkeypatch.setattr(agente_vendedor.main, "create_app", fake_create_app)
    app = agente_vendedor.main.app_factory()

    assert app is cast(object, dummy)
    assert calls == [()]  # the environment's settings, as `uvicorn --factory` runs it
    assert dummy.state.server_process is True
