"""HTTP routes of the CSV Exporter: downloads and the export history."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy.orm import Session

from agente_vendedor.auth.dependencies import ActorDep
from agente_vendedor.core.config import Settings
from agente_vendedor.core.db import SessionDep
from agente_vendedor.core.errors import error_responses
from agente_vendedor.core.params import Limit, Skip
from agente_vendedor.core.routing import DbRoute
from agente_vendedor.exportar import service
from agente_vendedor.exportar.schemas import (
    Entidad,
    ExportacionResponse,
    Filtros,
    FiltrosClientes,
    FiltrosConversaciones,
    FiltrosProductos,
    FiltrosVentas,
)

router = APIRouter(prefix="/exportar", tags=["exportar"], route_class=DbRoute)

_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "El archivo exportado (CSV, JSON, NDJSON o XLSX) como descarga",
        "content": {media: {} for media in service.MEDIA_TYPES.values()},
    }
}
RESPONSES: dict[int | str, dict[str, Any]] = _FILE | error_responses(
    (422, "Filtros no válidos, o más registros que MAX_EXPORT_RECORDS")
)


async def _in_threadpool(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Pull a blocking iterator from worker threads and always close it, also when the client goes away."""
    try:
        while True:
            chunk = await anyio.to_thread.run_sync(next, chunks, None)
            if chunk is None:
                break
            yield chunk
    finally:
        # A cancelled download must still run the iterator's cleanup (temp file, history) off the event loop.
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_close, chunks)


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


def export_response(request: Request, session: Session, usuario: str, entidad: Entidad, filtros: Filtros) -> Response:
    """Count (and refuse above the limit) before writing anything, then stream or serve the file."""
    settings: Settings = request.app.state.settings
    consulta = service.build(entidad=entidad, filtros=filtros)
    total = service.count(session=session, consulta=consulta)
    service.check_limit(total=total, maximo=settings.MAX_EXPORT_RECORDS, formato=filtros.formato)
    session.rollback()  # release the read transaction before the long part (SQLite writers wait on it)
    descarga, almacenado = service.file_names(entidad=entidad, formato=filtros.formato)
    destino = settings.EXPORT_DIRECTORY / almacenado
    headers = {"Content-Disposition": f'attachment; filename="{descarga}"', "X-Total-Count": str(total)}
    media_type = service.MEDIA_TYPES[filtros.formato]
    engine = request.app.state.engine
    if filtros.formato == "excel":
        # An .xlsx is only valid once complete: build it, then send it from disk.
        service.write_excel(engine=engine, consulta=consulta, destino=destino, usuario=usuario)
        return FileResponse(destino, media_type=media_type, headers=headers)
    flujo = service.Flujo(engine=engine, consulta=consulta, destino=destino, usuario=usuario)
    return StreamingResponse(_in_threadpool(iter(flujo)), media_type=media_type, headers=headers)


@router.get("/clientes", responses=RESPONSES, response_class=Response)
def exportar_clientes(
    request: Request, session: SessionDep, usuario: ActorDep, filtros: Annotated[FiltrosClientes, Query()]
) -> Response:
    """Exporta clientes (filtros: `fecha_desde`/`fecha_hasta` sobre `fecha_registro`, `activo`)."""
    return export_response(request, session, usuario, "clientes", filtros)


@router.get("/productos", responses=RESPONSES, response_class=Response)
def exportar_productos(
    request: Request, session: SessionDep, usuario: ActorDep, filtros: Annotated[FiltrosProductos, Query()]
) -> Response:
    """Exporta el catálogo (filtros: `categoria`, `activo`)."""
    return export_response(request, session, usuario, "productos", filtros)


@router.get("/ventas", responses=RESPONSES, response_class=Response)
def exportar_ventas(
    request: Request, session: SessionDep, usuario: ActorDep, filtros: Annotated[FiltrosVentas, Query()]
) -> Response:
    """Exporta pedidos con su cliente y sus líneas (filtros: fechas sobre `fecha_venta`, `estado`, `cliente_id`)."""
    return export_response(request, session, usuario, "ventas", filtros)


@router.get("/conversaciones", responses=RESPONSES, response_class=Response)
def exportar_conversaciones(
    request: Request, session: SessionDep, usuario: ActorDep, filtros: Annotated[FiltrosConversaciones, Query()]
) -> Response:
    """Exporta los chats del agente, un mensaje por fila (filtros: fechas del mensaje, `chat_id`, `cliente_id`)."""
    return export_response(request, session, usuario, "conversaciones", filtros)


@router.get("/historial", response_model=list[ExportacionResponse])
def historial(session: SessionDep, response: Response, skip: Skip = 0, limit: Limit = 100) -> list[ExportacionResponse]:
    """Exportaciones anteriores, las más recientes primero: quién, cuándo, filtros, filas, bytes, duración y estado."""
    rows, total = service.history(session=session, skip=skip, limit=limit)
    response.headers["X-Total-Count"] = str(total)
    return [
        ExportacionResponse.model_validate(
            {
                "id": row.id,
                "usuario": row.usuario,
                "fecha": row.fecha,
                "entidad": row.entidad,
                "formato": row.formato,
                "filtros": json.loads(row.filtros_json or "{}"),
                "filas": row.filas,
                "bytes": row.bytes,
                "duracion_ms": row.duracion_ms,
                "estado": row.estado,
                "mensaje": row.mensaje,
                "archivo": row.archivo,
            }
        )
        for row in rows
    ]
