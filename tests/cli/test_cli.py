"""The `agente-vendedor` command: migrar, cargar-demo, a real first start with `servir`, and the old English names."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from typer.models import CommandInfo
from typer.testing import CliRunner

from agente_vendedor.cli import app as cli
from agente_vendedor.cli.usuarios import ensure_admin
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
    migrated = runner.invoke(cli, ["migrar"])
    assert migrated.exit_code == 0, migrated.output
    seeded = runner.invoke(cli, ["cargar-demo"])
    assert seeded.exit_code == 0, seeded.output
    assert "48 productos, 5 clientes" in seeded.output
    again = runner.invoke(cli, ["cargar-demo"])
    assert again.exit_code == 1
    assert "ya tiene productos" in again.output


def test_downgrade_command(cli_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["migrar"]).exit_code == 0
    result = runner.invoke(cli, ["revertir", "0001"])
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
    assert CliRunner().invoke(cli, ["migrar"]).exit_code == 0
    ensure_admin()
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
    ensure_admin()
    assert "No hay ningún administrador" not in capsys.readouterr().err


# Earlier English names → the Spanish commands that replaced them; scripts written for the old names keep working.
OLD_NAMES = {
    ("serve",): ("servir",),
    ("migrate",): ("migrar",),
    ("downgrade",): ("revertir",),
    ("seed-demo",): ("cargar-demo",),
    ("reindex",): ("reindexar",),
    ("backup",): ("respaldar",),
    ("restore",): ("restaurar",),
    ("telegram", "set-webhook"): ("telegram", "configurar-webhook"),
}


def _registered(path: tuple[str, ...]) -> CommandInfo:
    """How a command (`("telegram", "set-webhook")` for a subcommand) was registered with typer."""
    group = cli
    for name in path[:-1]:
        (info,) = [g for g in group.registered_groups if g.name == name]
        assert info.typer_instance is not None
        group = info.typer_instance
    (command,) = [c for c in group.registered_commands if c.name == path[-1]]
    return command


@pytest.mark.parametrize(("old", "new"), OLD_NAMES.items(), ids=[" ".join(old) for old in OLD_NAMES])
def test_an_old_command_name_is_a_hidden_alias_of_the_new_one(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    alias, command = _registered(old), _registered(new)
    assert alias.hidden and not command.hidden
    assert alias.callback is command.callback
    shown = CliRunner().invoke(cli, [*old, "--help"])
    assert shown.exit_code == 0, shown.output
    listed = CliRunner().invoke(cli, [*old[:-1], "--help"]).output
    assert f" {new[-1]} " in listed and f" {old[-1]} " not in listed


def test_old_command_names_still_run(cli_env: Path) -> None:
    runner = CliRunner()
    migrated = runner.invoke(cli, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    seeded = runner.invoke(cli, ["seed-demo"])
    assert seeded.exit_code == 0, seeded.output
    assert "48 productos, 5 clientes" in seeded.output
    reverted = runner.invoke(cli, ["downgrade", "0001"])
    assert reverted.exit_code == 0, reverted.output
    assert "revertida a 0001" in reverted.output
