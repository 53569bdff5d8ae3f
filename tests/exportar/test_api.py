"""Exports over HTTP, read back with csv, json and openpyxl and compared with the database."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from agente_vendedor.settings import Settings
from tests.exportar.data import (
    T0,
    TRICKY,
    add_clientes,
    add_productos,
    add_venta,
    cliente_csv_row,
    clientes_in_db,
    iso,
    neutralized,
    read_csv,
    read_xlsx,
    sheet_rows,
)

CLIENTE_HEADER = [
    "id",
    "nombre",
    "email",
    "telefono",
    "direccion",
    "fecha_registro",
    "activo",
    "fecha_ultima_compra",
]


def _files(settings: Settings) -> set[str]:
    folder = settings.EXPORT_DIRECTORY
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _last_export(client: TestClient) -> dict[str, object]:
    return client.get("/exportar/historial").json()[0]  # type: ignore[no-any-return]


def test_csv_round_trips_tricky_text_and_neutralises_formulas(
    client: TestClient, session: Session, settings: Settings
) -> None:
    add_clientes(session, TRICKY)
    before = _files(settings)
    response = client.get("/exportar/clientes")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="clientes_\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.csv"', response.headers["content-disposition"]
    )
    assert response.headers["x-total-count"] == str(len(TRICKY))
    rows = read_csv(response.content)
    assert rows[0] == CLIENTE_HEADER
    assert rows[1:] == [cliente_csv_row(c) for c in clientes_in_db(session)]
    nombres = [row[1] for row in rows[1:]]
    assert nombres[0] == 'José Núñez, "el Pepe"' and nombres[1] == "Línea uno\nLínea dos"
    assert nombres[2].startswith("'=HYPERLINK") and nombres[4] == "'-5" and nombres[6] == "'\tTabulado"
    assert not response.content.startswith(b"\xef\xbb\xbf")
    # The same bytes were written to EXPORT_DIRECTORY under the name the history gives, and nothing else.
    export = _last_export(client)
    assert export["estado"] == "ok" and export["filas"] == len(TRICKY) and export["bytes"] == len(response.content)
    assert _files(settings) - before == {export["archivo"]}
    assert (settings.EXPORT_DIRECTORY / str(export["archivo"])).read_bytes() == response.content


def test_csv_semicolon_and_bom_for_spanish_excel(client: TestClient, session: Session) -> None:
    add_clientes(session, ["Ángela Ibáñez; S.L.", "Begoña"])
    response = client.get("/exportar/clientes", params={"separador": ";", "bom": True})
    assert response.content.startswith("\ufeffid;nombre;".encode())
    rows = read_csv(response.content, separador=";")
    assert rows[1][1] == "Ángela Ibáñez; S.L."
    assert rows[1:] == [cliente_csv_row(c) for c in clientes_in_db(session)]
    assert _last_export(client)["filtros"] == {"separador": ";", "bom": True}


def test_json_keeps_text_verbatim_money_as_strings_and_iso_dates(client: TestClient, session: Session) -> None:
    add_clientes(session, TRICKY[:4])
    productos = add_productos(session)
    response = client.get("/exportar/clientes", params={"formato": "json"})
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].endswith('.json"')
    body = response.json()
    assert body == [
        {
            "id": c.id,
            "nombre": c.nombre,
            "email": c.email,
            "telefono": c.telefono,
            "direccion": c.direccion,
            "fecha_registro": iso(c.fecha_registro),
            "activo": c.activo,
            "fecha_ultima_compra": iso(c.fecha_ultima_compra),
        }
        for c in clientes_in_db(session)
    ]
    catalogo = client.get("/exportar/productos", params={"formato": "json"}).json()
    assert [p["precio"] for p in catalogo] == ["199.90", "0.50", "3.00", "99999999.99"]
    assert catalogo[1]["nombre"] == "=1+1" and catalogo[1]["descripcion"] == 'Dice "hola"\ny adiós'
    assert [p["id"] for p in catalogo] == [p.id for p in productos]
    assert client.get("/exportar/ventas", params={"formato": "json"}).json() == []


def test_ndjson_is_one_object_per_line(client: TestClient, session: Session) -> None:
    add_clientes(session, TRICKY)
    response = client.get("/exportar/clientes", params={"formato": "ndjson"})
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = response.content.decode().splitlines()
    assert len(lines) == len(TRICKY)
    assert [json.loads(line)["nombre"] for line in lines] == TRICKY


def test_excel_has_typed_cells_frozen_header_autofilter_and_neutralised_text(
    client: TestClient, session: Session
) -> None:
    add_clientes(session, TRICKY)
    productos = add_productos(session)
    response = client.get("/exportar/productos", params={"formato": "excel"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert response.headers["content-disposition"].endswith('.xlsx"')
    sheet = read_xlsx(response.content)
    rows = sheet_rows(sheet)
    assert rows[0][:3] == ["id", "sku", "nombre"] and rows[0][8] == "fecha_creacion (UTC)"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:J{len(productos) + 1}"
    assert [r[5] for r in rows[1:]] == [199.9, 0.5, 3.0, 99999999.99]
    assert sheet.cell(row=2, column=6).number_format == "#,##0.00"
    assert [r[2] for r in rows[1:]] == ["Guitarra clásica, cedro", "'=1+1", "Cuaderno A5", "'-Oferta-"]
    assert [r[6] for r in rows[1:]] == [5, 0, 100, 1] and [r[7] for r in rows[1:]] == [True, True, False, True]
    assert rows[2][3] == 'Dice "hola"\ny adiós' and rows[1][4] == "Música" and rows[4][4] is None
    fecha = rows[1][8]
    assert isinstance(fecha, datetime) and fecha.tzinfo is None
    expected = productos[0].fecha_creacion.astimezone(UTC).replace(tzinfo=None)
    assert abs(fecha - expected) < timedelta(milliseconds=1)

    clientes_sheet = read_xlsx(client.get("/exportar/clientes", params={"formato": "excel"}).content)
    db = clientes_in_db(session)
    got = sheet_rows(clientes_sheet)[1:]
    assert [r[1] for r in got] == [neutralized(c.nombre) for c in db]
    assert [r[0] for r in got] == [c.id for c in db]
    assert [r[5] for r in got] == [c.fecha_registro.astimezone(UTC).replace(tzinfo=None) for c in db]


def test_date_filters_include_both_boundaries_in_any_offset(client: TestClient, session: Session) -> None:
    # Registered at T0-60s, T0, T0+60s, T0+120s, T0+180s.
    nombres = ["Antes", "Justo desde", "Medio", "Justo hasta", "Después"]
    clientes = add_clientes(session, nombres, start=T0 - timedelta(seconds=60))
    desde, hasta = T0, T0 + timedelta(seconds=120)
    params = {"fecha_desde": desde.isoformat(), "fecha_hasta": hasta.isoformat()}
    rows = read_csv(client.get("/exportar/clientes", params=params).content)
    assert [r[1] for r in rows[1:]] == ["Justo desde", "Medio", "Justo hasta"]
    madrid = {
        "fecha_desde": desde.astimezone(datetime.fromisoformat("2026-01-01T00:00:00+02:00").tzinfo).isoformat(),
        "fecha_hasta": hasta.replace(tzinfo=None).isoformat(),  # naive = UTC
    }
    assert madrid["fecha_desde"].endswith("+02:00")
    assert [r[1] for r in read_csv(client.get("/exportar/clientes", params=madrid).content)[1:]] == [
        "Justo desde",
        "Medio",
        "Justo hasta",
    ]
    solo = {"fecha_desde": hasta.isoformat(), "fecha_hasta": hasta.isoformat()}
    assert [r[1] for r in read_csv(client.get("/exportar/clientes", params=solo).content)[1:]] == ["Justo hasta"]
    activos = read_csv(client.get("/exportar/clientes", params={"activo": True}).content)
    assert [int(r[0]) for r in activos[1:]] == [c.id for c in clientes if c.activo]
    export = _last_export(client)
    assert export["filtros"] == {"activo": True, "separador": ",", "bom": False}


def test_productos_filters_by_categoria_and_activo(client: TestClient, session: Session) -> None:
    add_productos(session)
    musica = read_csv(client.get("/exportar/productos", params={"categoria": "Música"}).content)
    assert [r[2] for r in musica[1:]] == ["Guitarra clásica, cedro", "'=1+1"]
    assert musica[1][5] == "199.90" and musica[2][5] == "0.50" and musica[1][7] == "true"
    inactivos = read_csv(client.get("/exportar/productos", params={"activo": False}).content)
    assert [r[2] for r in inactivos[1:]] == ["Cuaderno A5"]
    assert read_csv(client.get("/exportar/productos", params={"categoria": "Nada"}).content)[1:] == []


def test_ventas_carry_cliente_lines_and_total(client: TestClient, session: Session) -> None:
    ana, luis = add_clientes(session, ["Ana García", "=Luis"])
    v1 = add_venta(session, cliente=ana, fecha=T0, lineas=2)
    v2 = add_venta(session, cliente=luis, fecha=T0 + timedelta(hours=1), estado="pendiente", lineas=1)
    v3 = add_venta(session, cliente=None, fecha=T0 + timedelta(days=1), lineas=3)
    body = client.get("/exportar/ventas", params={"formato": "json"}).json()
    assert [v["id"] for v in body] == [v1.id, v2.id, v3.id]
    first = body[0]
    assert first["cliente_id"] == ana.id and first["cliente_nombre"] == "Ana García"
    assert first["cliente_email"] == ana.email and first["total"] == "59.70" and first["estado"] == "confirmada"
    assert first["fecha_venta"] == iso(T0)
    assert first["productos"] == json.loads(v1.productos_json or "")
    assert [line["cantidad"] for line in first["productos"]] == [1, 2]
    assert body[2]["cliente_id"] is None and body[2]["cliente_nombre"] is None

    rows = read_csv(client.get("/exportar/ventas").content)
    header = ["id", "fecha_venta", "cliente_id", "cliente_nombre", "cliente_email", "estado", "total", "productos"]
    assert rows[0] == header
    assert rows[2][3] == "'=Luis" and rows[2][6] == "19.90"
    assert json.loads(rows[2][7])[0]["nombre"] == "Producto 1, edición ñ"

    por_cliente = client.get("/exportar/ventas", params={"formato": "json", "cliente_id": luis.id}).json()
    assert [v["id"] for v in por_cliente] == [v2.id]
    pendientes = client.get("/exportar/ventas", params={"formato": "json", "estado": "pendiente"}).json()
    assert [v["id"] for v in pendientes] == [v2.id]
    rango = {"formato": "json", "fecha_desde": iso(T0), "fecha_hasta": iso(T0 + timedelta(hours=1))}
    assert [v["id"] for v in client.get("/exportar/ventas", params=rango).json()] == [v1.id, v2.id]

    sheet = read_xlsx(client.get("/exportar/ventas", params={"formato": "excel"}).content)
    xrows = sheet_rows(sheet)
    assert xrows[0][1] == "fecha_venta (UTC)" and xrows[1][6] == pytest.approx(59.70)
    assert xrows[1][3] == "Ana García" and json.loads(xrows[1][7]) == json.loads(v1.productos_json or "")


@pytest.mark.parametrize(
    ("params", "campo"),
    [
        ({"formato": "xml"}, "formato"),
        ({"fecha_desde": "2026-02-01T00:00:00Z", "fecha_hasta": "2026-01-31T23:59:59Z"}, "fecha_hasta"),
        ({"fecha_desde": "ayer"}, "fecha_desde"),
        ({"fecha_desde": "0001-01-01T00:00:00+05:00"}, "fecha_desde"),
        ({"fecha_hasta": "1800-01-01T00:00:00Z"}, "fecha_hasta"),
        ({"separador": "|"}, "separador"),
        ({"bom": "quizá"}, "bom"),
    ],
)
def test_invalid_parameters_are_422_in_spanish_and_write_nothing(
    client: TestClient, session: Session, settings: Settings, params: dict[str, str], campo: str
) -> None:
    add_clientes(session, ["Ana"])
    before = _files(settings)
    response = client.get("/exportar/clientes", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validacion"
    assert [e["campo"] for e in body["errores"]] == [campo]
    assert f"'{campo}'" in body["detail"]
    assert _files(settings) == before
    assert client.get("/exportar/historial").json() == []


def test_out_of_range_numbers_and_text_are_422_not_500(client: TestClient) -> None:
    for params in (
        {"cliente_id": 2**40},
        {"cliente_id": 0},
        {"cliente_id": "12abc"},
        {"estado": "x" * 51},
        {"estado": "con\x00nulo"},
    ):
        assert client.get("/exportar/ventas", params=params).status_code == 422, params
    assert client.get("/exportar/productos", params={"categoria": ""}).status_code == 422
    assert client.get("/exportar/historial", params={"limit": 10**6}).status_code == 422
    assert client.get("/exportar/historial", params={"skip": 10**12}).status_code == 422


def test_more_rows_than_max_export_records_is_422_and_writes_nothing(
    client: TestClient, session: Session, settings: Settings, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state.settings, "MAX_EXPORT_RECORDS", 3)
    clientes = add_clientes(session, ["Uno", "Dos", "Tres", "Cuatro", "Cinco"])
    before = _files(settings)
    for formato in ("csv", "json", "ndjson", "excel"):
        response = client.get("/exportar/clientes", params={"formato": formato})
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "demasiados_registros"
        assert "5 registros" in body["detail"] and "máximo es 3" in body["detail"]
        assert "acote los filtros" in body["detail"]
    assert _files(settings) == before
    assert client.get("/exportar/historial").json() == []
    narrower = {"fecha_hasta": iso(clientes[2].fecha_registro)}
    assert len(read_csv(client.get("/exportar/clientes", params=narrower).content)) == 4


def test_history_lists_exports_newest_first(client: TestClient, session: Session) -> None:
    add_clientes(session, ["Ana", "Luis"])
    add_productos(session)
    client.get("/exportar/clientes", params={"formato": "json", "activo": True})
    client.get("/exportar/productos", params={"formato": "excel", "categoria": "Música"})
    response = client.get("/exportar/historial")
    assert response.headers["x-total-count"] == "2"
    recientes = response.json()
    assert [(e["entidad"], e["formato"]) for e in recientes] == [("productos", "excel"), ("clientes", "json")]
    excel, json_export = recientes
    assert excel["usuario"] == client.get("/auth/me").json()["email"]
    assert excel["estado"] == "ok" and excel["mensaje"] is None
    assert excel["filtros"] == {"categoria": "Música"} and excel["filas"] == 2
    assert json_export["filtros"] == {"activo": True} and json_export["filas"] == 1
    assert excel["archivo"].endswith(".xlsx") and excel["bytes"] > 0 and excel["duracion_ms"] >= 0
    assert datetime.fromisoformat(excel["fecha"]) >= datetime.fromisoformat(json_export["fecha"])
    page = client.get("/exportar/historial", params={"skip": 1, "limit": 1}).json()
    assert [e["id"] for e in page] == [json_export["id"]]


def test_no_temp_files_are_left_behind(client: TestClient, session: Session, settings: Settings) -> None:
    add_clientes(session, TRICKY)
    for formato in ("csv", "json", "ndjson", "excel"):
        assert client.get("/exportar/clientes", params={"formato": formato}).status_code == 200
    leftovers = [p for p in Path(settings.EXPORT_DIRECTORY).iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_empty_exports_still_have_their_header(client: TestClient) -> None:
    header = "id;fecha_venta;cliente_id;cliente_nombre;cliente_email;estado;total;productos"
    csv_body = client.get("/exportar/ventas", params={"separador": ";"}).content.decode()
    assert csv_body.splitlines() == [header]
    assert client.get("/exportar/ventas", params={"formato": "json"}).json() == []
    assert client.get("/exportar/ventas", params={"formato": "ndjson"}).content == b""
    sheet = read_xlsx(client.get("/exportar/ventas", params={"formato": "excel"}).content)
    assert sheet_rows(sheet) == [["id", "fecha_venta (UTC)", *header.split(";")[2:]]]
    assert [e["filas"] for e in client.get("/exportar/historial").json()] == [0, 0, 0, 0]


def test_filter_values_are_data_not_sql(client: TestClient, session: Session) -> None:
    add_productos(session)
    marker = Path(f"/tmp/pwned-{uuid.uuid4().hex[:8]}")  # short: categoria holds 100 characters
    # Line breaks and dot-commands must stay inside the SQL string, also for the sqlite3 tool.
    dot_command = f"x'\n.shell touch {marker}\n.system touch {marker}\n;'"
    response = client.get("/exportar/productos", params={"categoria": dot_command})
    assert response.status_code == 200, response.json() and read_csv(response.content)[1:] == []
    assert not marker.exists()
    hostile = "Música' OR '1'='1"
    for formato in ("csv", "json", "excel"):
        response = client.get("/exportar/productos", params={"formato": formato, "categoria": hostile})
        assert response.status_code == 200
        assert response.headers["x-total-count"] == "0"
    assert read_csv(client.get("/exportar/productos", params={"categoria": hostile}).content)[1:] == []
    drop = "x'; DROP TABLE productos; --"
    assert client.get("/exportar/productos", params={"categoria": drop}).status_code == 200
    assert len(read_csv(client.get("/exportar/productos").content)) == 5
