"""Deployment files, checked without a Docker engine: compose, Dockerfile and the app must agree."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
# Settings that other branches of this release add; the compose file may already set them.
SETTINGS_FROM_OTHER_BRANCHES = {"CHROMA_HOST", "CHROMA_PORT"}
_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?::(?P<op>[?-])(?P<arg>[^}]*))?\}")


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return data


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment, whether written as a mapping or as a list of NAME=value."""
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {name: str(value) for name, value in env.items()}


def _interpolate(value: str, provided: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`, failing like compose when a required one is unset."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if provided.get(name):
            return provided[name]
        if op == "?":
            raise LookupError(f"{name}: {arg}")
        return arg or ""

    return _INTERPOLATION.sub(replace, value)


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def _final_stage() -> list[tuple[str, str]]:
    instructions = _dockerfile()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def _console_script() -> str:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (name,) = pyproject["project"]["scripts"]
    assert pyproject["project"]["scripts"][name] == "agente_vendedor.cli:app"
    return str(name)


def _healthcheck_command() -> list[str]:
    (arguments,) = [args for keyword, args in _final_stage() if keyword == "HEALTHCHECK"]
    command = json.loads(arguments[arguments.index("CMD") + len("CMD") :].strip())
    assert isinstance(command, list)
    return [str(part) for part in command]


def _healthcheck_path() -> str:
    match = re.search(r"http://127\.0\.0\.1:8000(?P<path>/[\w/-]*)", " ".join(_healthcheck_command()))
    assert match, "el HEALTHCHECK debe consultar http://127.0.0.1:8000/<ruta>"
    return match["path"]


def _paths(app: FastAPI) -> set[str]:
    # Routers included with a prefix sit behind wrappers in app.routes; the OpenAPI paths list them all.
    return set(app.openapi()["paths"]) | {str(getattr(route, "path", "")) for route in app.routes}


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Paths the application serves (building it opens no database connection)."""
    folder = tmp_path_factory.mktemp("rutas")
    settings = Settings(_env_file=None, DATABASE_URL=f"sqlite:///{folder / 'rutas.db'}")
    app: FastAPI = create_app(settings)
    return _paths(app)


def test_compose_has_the_services_and_the_database_starts_first() -> None:
    services = _compose()["services"]
    assert {"app", "db", "redis", "chroma"} <= set(services)
    assert services["app"]["build"] == "."
    assert services["app"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["db"]["image"] == "postgres:15"
    assert services["redis"]["image"].startswith("redis:7")
    assert services["chroma"]["image"].startswith("chromadb/chroma")
    declared = set(_compose()["volumes"])
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source in declared, f"{name}: el volumen {source} no está declarado"
    assert any(v.startswith("postgres_data:") for v in services["db"]["volumes"])
    assert any(v.startswith("chroma_data:") for v in services["chroma"]["volumes"])


def test_app_environment_uses_only_known_settings_and_secrets_come_from_outside() -> None:
    env = _environment(_compose()["services"]["app"])
    unknown = set(env) - set(Settings.model_fields) - SETTINGS_FROM_OTHER_BRANCHES
    assert not unknown, f"variables que Settings no conoce: {sorted(unknown)}"
    expected = {"ENVIRONMENT", "DATABASE_URL", "REDIS_URL", "CHROMA_HOST", "CHROMA_PORT", "SECRET_KEY", "ADMIN_EMAIL"}
    assert expected | {"ADMIN_PASSWORD", "EXPORT_DIRECTORY", "MAX_EXPORT_RECORDS", "CORS_ORIGINS"} <= set(env)
    assert env["ENVIRONMENT"] == "production"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
    with pytest.raises(LookupError, match="SECRET_KEY"):
        _interpolate(env["SECRET_KEY"], {})


def test_app_environment_makes_valid_production_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    provided = {"SECRET_KEY": "s" * 48, "POSTGRES_PASSWORD": "clave-de-postgres"}
    env = {name: _interpolate(value, provided) for name, value in _environment(_compose()["services"]["app"]).items()}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    assert settings.ENVIRONMENT == "production"
    assert settings.sqlalchemy_url == "postgresql+psycopg://agente:clave-de-postgres@db:5432/agente_vendedor"
    assert settings.REDIS_URL == "redis://redis:6379/0"
    assert settings.cors_origins == []
    assert settings.DEMO_DATA is False
    db_env = _environment(_compose()["services"]["db"])
    assert (db_env["POSTGRES_USER"], db_env["POSTGRES_DB"]) == ("agente", "agente_vendedor")


def test_app_runs_the_console_script_with_two_workers() -> None:
    command = _compose()["services"]["app"]["command"]
    assert command[:2] == [_console_script(), "servir"]
    assert command[command.index("--workers") + 1] == "2"
    assert command[command.index("--host") + 1] == "0.0.0.0"


def test_dockerfile_builds_in_two_stages_and_runs_slim_as_non_root() -> None:
    instructions = _dockerfile()
    stages = [args for keyword, args in instructions if keyword == "FROM"]
    assert len(stages) >= 2
    final = _final_stage()
    base = final[0][1].split()[0]
    assert base.startswith("python:3.11-slim")
    users = [args for keyword, args in final if keyword == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    copies = [args for keyword, args in final if keyword == "COPY"]
    assert copies == ["--from=builder /opt/venv /opt/venv"], "la imagen final solo copia el entorno virtual"
    assert ("WORKDIR", "/app") in final
    assert ("EXPOSE", "8000") in final
    (volumes,) = [json.loads(args) for keyword, args in final if keyword == "VOLUME"]
    assert {"/app/data", "/app/exports"} <= set(volumes)
    assert "pip install ." in [args for keyword, args in instructions if keyword == "RUN"]


def test_dockerfile_cmd_is_the_console_script_serving_on_all_interfaces() -> None:
    (cmd,) = [json.loads(args) for keyword, args in _final_stage() if keyword == "CMD"]
    assert cmd == [_console_script(), "servir", "--host", "0.0.0.0", "--port", "8000"]


def test_healthcheck_uses_python_and_a_route_the_app_serves(routes: set[str]) -> None:
    command = _healthcheck_command()
    assert command[0] == "python" and "urllib.request" in command[-1]  # no curl in slim images
    path = _healthcheck_path()
    assert path in routes


def test_healthcheck_command_passes_against_a_running_server(live_url: str, routes: set[str]) -> None:
    path = _healthcheck_path()
    command = [sys.executable, *_healthcheck_command()[1:]]
    command[-1] = command[-1].replace("http://127.0.0.1:8000", live_url)
    completed = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert completed.returncode == 0, shlex.join(command) + "\n" + completed.stderr
    assert httpx.get(f"{live_url}{path}", timeout=10).status_code == 200


def test_dockerignore_keeps_secrets_and_data_out_of_the_image() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()}
    assert {".git", ".env", "data", "exports", "backups", ".venv"} <= ignored
