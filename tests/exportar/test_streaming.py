"""Streaming behaviour: interrupted downloads, failures, the fast paths and concurrent exports."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from agente_vendedor.exportar import archivos, entidades, formatos
from agente_vendedor.exportar import router as export_router
from agente_vendedor.exportar.models import Exportacion
from agente_vendedor.exportar.schemas import FiltrosClientes
from agente_vendedor.settings import Settings
from tests.exportar.data import (
    TRICKY,
    add_clientes,
    bulk_clientes,
    cliente_csv_row,
    clientes_in_db,
    iso,
    neutralized,
    read_csv,
    read_xlsx,
    sheet_rows,
)

BOM = "\ufeff".encode()


def _history(session: Session) -> list[Exportacion]:
    session.expire_all()
    return list(session.scalars(select(Exportacion).order_by(Exportacion.id)))


def _leftovers(folder: Path, name: str) -> list[Path]:
    return [p for p in folder.iterdir() if name in p.name] if folder.exists() else []


def _flujo(app: FastAPI, settings: Settings, name: str, **filtros: Any) -> archivos.Flujo:
    consulta = entidades.build(entidad="clientes", filtros=FiltrosClientes(**filtros))
    destino = settings.EXPORT_DIRECTORY / name
    return archivos.Flujo(engine=app.state.engine, consulta=consulta, destino=destino, usuario="prueba")


def test_a_download_closed_midway_leaves_no_file_and_is_recorded_as_interrupted(
    app: FastAPI, session: Session, settings: Settings
) -> None:
    bulk_clientes(session, 4000)  # several chunks on every path (Python, sqlite3 tool, COPY)
    chunks = iter(_flujo(app, settings, "cortada.csv", bom=True))
    assert isinstance(chunks, Generator)
    assert next(chunks) == BOM
    assert len(next(chunks)) > 0
    chunks.close()  # what the server does when the client goes away
    assert _leftovers(settings.EXPORT_DIRECTORY, "cortada.csv") == []
    (registro,) = _history(session)
    assert registro.estado == "error" and registro.archivo is None
    assert registro.mensaje is not None and "interrumpida" in registro.mensaje
    # The database connection went back to the pool: another export still works.
    complete = b"".join(_flujo(app, settings, "entera.csv"))
    assert len(read_csv(complete)) == 4001


def test_the_http_stream_closes_the_export_when_the_client_disconnects(
    app: FastAPI, session: Session, settings: Settings
) -> None:
    bulk_clientes(session, 4000)
    flujo = _flujo(app, settings, "desconectada.csv", bom=True)

    async def first_chunk_then_disconnect() -> bytes:
        stream = export_router._in_threadpool(iter(flujo))
        assert isinstance(stream, AsyncGenerator)
        first: bytes = await stream.__anext__()
        await stream.aclose()  # Starlette drops the body iterator when the socket closes
        return first

    assert anyio.run(first_chunk_then_disconnect) == BOM
    assert _leftovers(settings.EXPORT_DIRECTORY, "desconectada.csv") == []
    (registro,) = _history(session)
    assert registro.estado == "error" and "interrumpida" in (registro.mensaje or "")


def test_a_failure_midway_removes_the_temp_file_and_records_the_error(
    app: FastAPI, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_clientes(session, ["Ana", "Luis"])

    def broken(*args: object) -> Iterator[bytes]:
        yield b"id,nombre\r\n"
        raise OSError("disco lleno")

    monkeypatch.setattr(formatos, "encoded", broken)
    chunks = iter(_flujo(app, settings, "rota.csv"))
    assert next(chunks) == b"id,nombre\r\n"
    with pytest.raises(OSError, match="disco lleno"):
        next(chunks)
    assert _leftovers(settings.EXPORT_DIRECTORY, "rota.csv") == []
    (registro,) = _history(session)
    assert registro.estado == "error" and registro.mensaje == "Error durante la exportación (OSError)"


def test_a_failed_excel_export_leaves_nothing_and_is_recorded(
    app: FastAPI, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_clientes(session, ["Ana"])

    def broken(engine: object, consulta: object, path: Path, contador: object) -> None:
        path.write_bytes(b"PK a medias")
        raise RuntimeError("fallo")

    monkeypatch.setattr(formatos, "write_xlsx", broken)
    consulta = entidades.build(entidad="clientes", filtros=FiltrosClientes(formato="excel"))
    destino = settings.EXPORT_DIRECTORY / "rota.xlsx"
    with pytest.raises(RuntimeError):
        archivos.write_excel(engine=app.state.engine, consulta=consulta, destino=destino, usuario="prueba")
    assert _leftovers(settings.EXPORT_DIRECTORY, "rota.xlsx") == []
    (registro,) = _history(session)
    assert registro.estado == "error" and registro.formato == "excel"


def test_python_and_native_csv_paths_write_the_same_data(
    app: FastAPI, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """SQLite's fast path is the sqlite3 tool, PostgreSQL's is COPY; the portable path must agree with both."""
    add_clientes(session, TRICKY * 3)
    expected = [cliente_csv_row(c) for c in clientes_in_db(session)]
    native = b"".join(_flujo(app, settings, "nativa.csv", separador=";"))
    assert read_csv(native, separador=";")[1:] == expected
    if backend == "postgresql":
        return  # CSV on PostgreSQL is always COPY
    monkeypatch.setattr(formatos, "sqlite_cli", lambda: None)
    portable = b"".join(_flujo(app, settings, "portable.csv", separador=";"))
    assert read_csv(portable, separador=";")[1:] == expected
    assert [r.filas for r in _history(session)] == [len(expected), len(expected)]


def test_copy_reports_the_exported_row_count(app: FastAPI, session: Session, settings: Settings) -> None:
    bulk_clientes(session, 1234)
    content = b"".join(_flujo(app, settings, "cuenta.csv"))
    assert len(read_csv(content)) == 1235
    assert [r.filas for r in _history(session)] == [1234]


def test_five_concurrent_exports_all_complete_and_correct(
    live_url: str, session: Session, settings: Settings, admin_headers: dict[str, str]
) -> None:
    add_clientes(session, TRICKY * 30)
    bulk_clientes(session, 3000)
    db = clientes_in_db(session)
    requests = [
        {"formato": "csv"},
        {"formato": "csv", "separador": ";", "bom": True},
        {"formato": "json"},
        {"formato": "ndjson"},
        {"formato": "excel"},
    ]

    def download(params: dict[str, Any]) -> httpx.Response:
        return httpx.get(f"{live_url}/exportar/clientes", params=params, headers=admin_headers, timeout=120)

    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(download, requests))

    assert [r.status_code for r in responses] == [200] * 5
    csv_rows = [cliente_csv_row(c) for c in db]
    assert read_csv(responses[0].content)[1:] == csv_rows
    assert read_csv(responses[1].content, separador=";")[1:] == csv_rows
    assert [item["id"] for item in responses[2].json()] == [c.id for c in db]
    assert [item["nombre"] for item in responses[2].json()] == [c.nombre for c in db]
    ndjson = [json.loads(line) for line in responses[3].content.decode().splitlines()]
    assert ndjson == responses[2].json()
    excel = sheet_rows(read_xlsx(responses[4].content))[1:]
    assert [r[1] for r in excel] == [neutralized(c.nombre) for c in db]
    assert [r[4] for r in excel] == [neutralized(c.direccion) for c in db]
    assert ndjson[-1]["fecha_registro"] == iso(db[-1].fecha_registro)

    history = _history(session)
    assert sorted(r.formato for r in history) == ["csv", "csv", "excel", "json", "ndjson"]
    assert all(r.estado == "ok" and r.filas == len(db) for r in history)
    stored = {r.archivo for r in history}
    assert len(stored) == 5
    by_format = {r.formato + str(i): r for i, r in enumerate(history)}
    for registro in by_format.values():
        path = settings.EXPORT_DIRECTORY / str(registro.archivo)
        assert path.stat().st_size == registro.bytes
    contents = {(settings.EXPORT_DIRECTORY / str(r.archivo)).read_bytes() for r in history}
    assert {r.content for r in responses} == contents


def test_a_real_client_that_disconnects_stops_the_export(
    live_url: str,
    session: Session,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    admin_headers: dict[str, str],
) -> None:
    """Over TCP: the server notices the closed socket, stops reading and records the export as interrupted."""
    produced: list[int] = []

    def endless(*args: object) -> Iterator[bytes]:
        for i in range(100_000):  # ~6 GB if nobody stopped it
            produced.append(i)
            time.sleep(0.001)
            yield b"x" * 65536

    monkeypatch.setattr(formatos, "encoded", endless)
    with httpx.stream("GET", f"{live_url}/exportar/clientes", headers=admin_headers, timeout=30) as response:
        assert response.status_code == 200
        assert next(response.iter_raw())
    deadline = time.monotonic() + 20
    while not _history(session) and time.monotonic() < deadline:
        time.sleep(0.05)
    (registro,) = _history(session)
    assert registro.estado == "error" and "interrumpida" in (registro.mensaje or "")
    assert len(produced) < 100_000
    assert [p for p in settings.EXPORT_DIRECTORY.iterdir() if p.name.startswith(".clientes")] == []


def test_progress_is_reported_while_a_large_export_runs(app: FastAPI, session: Session, settings: Settings) -> None:
    """The CLI's progress bar moves during native CSV exports too (COPY, sqlite3 tool), not only at the end."""
    bulk_clientes(session, 12_000)
    for formato in ("csv", "ndjson"):
        calls: list[int] = []
        consulta = entidades.build(entidad="clientes", filtros=FiltrosClientes(formato=formato))
        resultado = archivos.write_file(
            engine=app.state.engine,
            consulta=consulta,
            destino=settings.EXPORT_DIRECTORY / f"progreso.{formato}",
            usuario="prueba",
            on_rows=calls.append,
        )
        assert resultado.filas == 12_000 and resultado.error is None
        assert len(calls) > 1 and sum(calls) == 12_000, formato
