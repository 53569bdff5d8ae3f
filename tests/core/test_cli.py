"""The `agente-vendedor` command: migrate, seed-demo and a real first start with `serve`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from agente_vendedor.cli import app as cli
from agente_vendedor.settings import get_settings
from tests.conftest import BACKENDS
from tests.serving import serving as _serving


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Run CLI commands against a fresh SQLite file in a temp folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_migrate_then_seed_demo_loads_the_catalog_once(cli_env: Path) -> None:
    runner = CliRunner()
    migrated = runner.invoke(cli, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    seeded = runner.invoke(cli, ["seed-demo"])
    assert seeded.exit_code == 0, seeded.output
    assert "48 productos, 5 clientes" in seeded.output
    again = runner.invoke(cli, ["seed-demo"])
    assert again.exit_code == 1
    assert "ya tiene productos" in again.output


def test_downgrade_command(cli_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    result = runner.invoke(cli, ["downgrade", "0001"])
    assert result.exit_code == 0, result.output
    assert "0001" in result.output


ADMIN = {"ADMIN_EMAIL": "duena@tienda.example.com", "ADMIN_PASSWORD": "una-clave-larga-y-propia"}


def _login(base: str) -> dict[str, str]:
    form = {"username": ADMIN["ADMIN_EMAIL"], "password": ADMIN["ADMIN_PASSWORD"]}
    response = httpx.post(f"{base}/auth/token", data=form)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_first_start_migrates_loads_demo_and_serves_docs(tmp_path: Path) -> None:
    with _serving(tmp_path, **ADMIN) as base:
        productos = httpx.get(f"{base}/productos/", params={"limit": 500})
        assert int(productos.headers["X-Total-Count"]) >= 40
        assert len({p["categoria"] for p in productos.json()}) >= 5
        assert int(httpx.get(f"{base}/clientes/", headers=_login(base)).headers["X-Total-Count"]) == 5
        docs = httpx.get(f"{base}/docs")
        assert docs.status_code == 200
        assert "/static/swagger-ui-bundle.js" in docs.text  # served from the package, not a CDN
        assert httpx.get(f"{base}/static/swagger-ui-bundle.js").status_code == 200
        assert "server" not in httpx.get(f"{base}/health").headers
    assert (tmp_path / "data" / "agente_vendedor.db").exists()
    # A second start keeps the data and does not load the demo twice.
    with _serving(tmp_path) as base:
        assert httpx.get(f"{base}/productos/").headers["X-Total-Count"] == "48"


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_demo_data_false_starts_empty(
    backend_name: str, tmp_path: Path, empty_database_factory: Callable[[str], str]
) -> None:
    url = empty_database_factory(backend_name)
    with _serving(tmp_path, DATABASE_URL=url, DEMO_DATA="false", **ADMIN) as base:
        assert httpx.get(f"{base}/productos/").headers["X-Total-Count"] == "0"
        anonymous = httpx.post(f"{base}/clientes/", json={"nombre": "Ana", "email": "ana@example.com"})
        assert anonymous.status_code == 401
        created = httpx.post(
            f"{base}/clientes/", json={"nombre": "Ana", "email": "ana@example.com"}, headers=_login(base)
        )
        assert created.status_code == 201


def test_first_start_without_admin_says_how_to_create_one(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from agente_vendedor.cli import _ensure_admin

    assert CliRunner().invoke(cli, ["migrate"]).exit_code == 0
    _ensure_admin()
    assert "agente-vendedor crear-usuario" in capsys.readouterr().err
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["crear-usuario", "Jefa@Tienda.example.com", "--rol", "admin"],
        input="clave-muy-segura\nclave-muy-segura\n",
    )
    assert result.exit_code == 0, result.output
    assert "jefa@tienda.example.com (admin)" in result.output
    again = runner.invoke(cli, ["crear-usuario", "jefa@tienda.example.com", "--password", "otra-clave-segura"])
    assert again.exit_code == 1
    assert "Ya existe" in again.output
    weak = runner.invoke(cli, ["crear-usuario", "otro@tienda.example.com", "--password", "corta"])
    assert weak.exit_code == 2
    assert "password" in weak.output
    _ensure_admin()
    assert "No hay ningún administrador" not in capsys.readouterr().err
