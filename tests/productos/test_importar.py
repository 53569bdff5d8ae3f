"""Catalog import: messy real-world CSV and XLSX, per-row errors, all or nothing."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from typer.testing import CliRunner

from agente_vendedor.cli import app as cli
from agente_vendedor.settings import get_settings
from tests.conftest import StaffMember

MESSY_CSV = (
    "Nombre;Descripción;PRECIO;Existencias;Categoría;Referencia\r\n"
    'Taladro percutor 750W;"Potente; con maletín";59,90 €;12;Herramientas;her-tal-750\r\n'
    ";;;;;\r\n"
    "Cafetera italiana;Para 6 tazas;1.234,56;3;Hogar y cocina;\r\n"
    'Camiseta "básica";Algodón;9.9;;Ropa;ROP-CAM\r\n'
)


def _upload(client: TestClient, content: bytes, name: str = "catalogo.csv", **params: str) -> object:
    return client.post("/productos/importar", params=params, files={"archivo": (name, content)})


def _catalog(client: TestClient) -> dict[str, dict[str, object]]:
    return {p["nombre"]: p for p in client.get("/productos/", params={"limit": 500}).json()}


def test_messy_windows_csv_is_imported(client: TestClient) -> None:
    response = _upload(client, MESSY_CSV.encode("cp1252"))
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    assert response.json() == {  # type: ignore[attr-defined]
        "simulado": False, "filas": 3, "creados": 3, "actualizados": 0, "sin_cambios": 0, "errores": [],
    }  # fmt: skip
    catalog = _catalog(client)
    taladro = catalog["Taladro percutor 750W"]
    assert (taladro["precio"], taladro["stock"], taladro["sku"]) == ("59.90", 12, "HER-TAL-750")
    assert taladro["descripcion"] == "Potente; con maletín"
    assert catalog["Cafetera italiana"]["precio"] == "1234.56"
    assert catalog["Cafetera italiana"]["sku"] is None
    assert catalog['Camiseta "básica"']["stock"] == 0


def test_reimport_updates_by_sku_or_name_and_counts_unchanged(client: TestClient) -> None:
    _upload(client, MESSY_CSV.encode("utf-8-sig"))
    again = _upload(client, MESSY_CSV.encode("utf-8-sig")).json()  # type: ignore[attr-defined]
    assert (again["creados"], again["actualizados"], again["sin_cambios"]) == (0, 0, 3)
    changed = MESSY_CSV.replace("59,90 €", "64,90").replace("1.234,56;3", "1.234,56;7")
    result = _upload(client, changed.encode()).json()  # type: ignore[attr-defined]
    assert (result["creados"], result["actualizados"], result["sin_cambios"]) == (0, 2, 1)
    catalog = _catalog(client)
    assert catalog["Taladro percutor 750W"]["precio"] == "64.90"
    assert catalog["Cafetera italiana"]["stock"] == 7
    assert len(catalog) == 3


def test_simulation_reports_without_writing(client: TestClient) -> None:
    result = _upload(client, MESSY_CSV.encode(), simular="true").json()  # type: ignore[attr-defined]
    assert result["simulado"] is True and result["creados"] == 3
    assert _catalog(client) == {}


def test_any_invalid_row_rejects_the_whole_file_with_row_numbers(client: TestClient) -> None:
    bad = (
        "nombre,precio,stock,sku\n"
        "Martillo,12.90,5,MAR-1\n"
        ",3.00,1,\n"
        "Sierra,-4,2,SIE-1\n"
        "Lima,2.50,diez,\n"
        "Otro martillo,10,1,mar-1\n"
    )
    response = _upload(client, bad.encode())
    assert response.status_code == 422  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["code"] == "importacion_invalida"
    assert "no se ha importado nada" in body["detail"]
    by_row = {e["fila"]: " ".join(e["errores"]) for e in body["errores"]}
    assert set(by_row) == {3, 4, 5, 6}
    assert "nombre" in by_row[3]
    assert "precio" in by_row[4] and "mayor o igual que 0" in by_row[4]
    assert "stock" in by_row[5]
    assert "repetido en el fichero (fila 2)" in by_row[6]
    assert _catalog(client) == {}


def test_xlsx_with_typed_cells(client: TestClient) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["SKU", "Nombre", "Precio", "Stock", "Categoria", "Descripcion"])
    sheet.append(["ELE-ALT-1", "Altavoz Bluetooth", 39.9, 25.0, "Electrónica", "Parlante portátil"])
    sheet.append([1234, "Cable USB-C", "4,50", 100, "Electrónica", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = _upload(client, buffer.getvalue(), name="catalogo.xlsx")
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    catalog = _catalog(client)
    assert (catalog["Altavoz Bluetooth"]["precio"], catalog["Altavoz Bluetooth"]["stock"]) == ("39.90", 25)
    assert (catalog["Cable USB-C"]["precio"], catalog["Cable USB-C"]["sku"]) == ("4.50", "1234")


def test_unreadable_files_are_clear_422s(client: TestClient) -> None:
    no_price = _upload(client, b"nombre;stock\nMartillo;3\n")
    assert no_price.status_code == 422  # type: ignore[attr-defined]
    assert "Faltan columnas obligatorias: precio" in no_price.json()["detail"]  # type: ignore[attr-defined]
    garbage = _upload(client, b"PK\x03\x04 esto no es un xlsx", name="x.xlsx")
    assert garbage.status_code == 422  # type: ignore[attr-defined]
    assert _upload(client, b"").status_code == 422  # type: ignore[attr-defined]
    assert client.post("/productos/importar").status_code == 422


def test_only_admins_import(anon_client: TestClient, make_user: Callable[..., StaffMember]) -> None:
    files = {"archivo": ("c.csv", MESSY_CSV.encode())}
    assert anon_client.post("/productos/importar", files=files).status_code == 401
    vendedor = make_user("vendedor").headers
    assert anon_client.post("/productos/importar", files=files, headers=vendedor).status_code == 403


def test_cli_import_with_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    fichero = tmp_path / "catalogo.csv"
    fichero.write_bytes(MESSY_CSV.encode("cp1252"))
    try:
        result = CliRunner().invoke(cli, ["importar", "productos", str(fichero)])
        assert result.exit_code == 0, result.output
        assert "Creados: 3" in result.output
        bad = tmp_path / "malo.csv"
        bad.write_text("nombre,precio\nX,1\n", encoding="utf-8")
        failed = CliRunner().invoke(cli, ["importar", "productos", str(bad)])
        assert failed.exit_code == 1
        assert "fila 2" in failed.output
    finally:
        get_settings.cache_clear()
