"""`agente-vendedor exportar` writes the file atomically and records the export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from agente_vendedor.cli import app as cli_app
from agente_vendedor.settings import get_settings
from tests.exportar.data import (
    TRICKY,
    add_clientes,
    add_productos,
    cliente_csv_row,
    clientes_in_db,
    read_csv,
    read_xlsx,
)

runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI reads its settings from the environment: point it at the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MAX_EXPORT_RECORDS", "50000")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_exports_csv_with_filters(cli_env: None, session: Session, tmp_path: Path) -> None:
    add_clientes(session, TRICKY)
    salida = tmp_path / "sub" / "clientes.csv"
    result = runner.invoke(cli_app, ["exportar", "clientes", "--salida", str(salida), "--bom", "--activo"])
    assert result.exit_code == 0, result.output
    assert "registros exportados" in result.output
    expected = [cliente_csv_row(c) for c in clientes_in_db(session) if c.activo]
    assert read_csv(salida.read_bytes())[1:] == expected
    assert salida.read_bytes().startswith(b"\xef\xbb\xbf")
    assert [p.name for p in salida.parent.iterdir()] == ["clientes.csv"]


def test_cli_exports_excel_and_json(cli_env: None, session: Session, tmp_path: Path) -> None:
    add_productos(session)
    xlsx = tmp_path / "productos.xlsx"
    result = runner.invoke(cli_app, ["exportar", "productos", "--formato", "excel", "-o", str(xlsx)])
    assert result.exit_code == 0, result.output
    assert read_xlsx(xlsx.read_bytes()).max_row == 5
    salida = tmp_path / "musica.json"
    result = runner.invoke(
        cli_app, ["exportar", "productos", "--formato", "json", "-o", str(salida), "--categoria", "Música"]
    )
    assert result.exit_code == 0, result.output
    assert [p["precio"] for p in json.loads(salida.read_text(encoding="utf-8"))] == ["199.90", "0.50"]


def test_cli_rejects_bad_options_in_spanish(cli_env: None, session: Session, tmp_path: Path) -> None:
    salida = tmp_path / "x.csv"
    wrong = runner.invoke(cli_app, ["exportar", "clientes", "-o", str(salida), "--categoria", "Música"])
    assert wrong.exit_code == 2 and "no se aplica a clientes" in wrong.output
    dates = ["--fecha-desde", "2026-02-01", "--fecha-hasta", "2026-01-01"]
    backwards = runner.invoke(cli_app, ["exportar", "ventas", "-o", str(salida), *dates])
    assert backwards.exit_code == 2 and "'fecha_hasta' debe ser igual o posterior" in backwards.output
    assert not salida.exists()


def test_cli_honours_max_export_records(
    cli_env: None, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_clientes(session, ["Ana", "Luis", "Eva"])
    monkeypatch.setenv("MAX_EXPORT_RECORDS", "2")
    get_settings.cache_clear()
    salida = tmp_path / "x.csv"
    refused = runner.invoke(cli_app, ["exportar", "clientes", "-o", str(salida)])
    assert refused.exit_code == 1 and "3 registros" in refused.output and not salida.exists()
    forced = runner.invoke(cli_app, ["exportar", "clientes", "-o", str(salida), "--sin-limite"])
    assert forced.exit_code == 0 and len(read_csv(salida.read_bytes())) == 4
