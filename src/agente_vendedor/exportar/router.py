"""HTTP routes of the CSV Exporter: downloads and the export history."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import anyio
from fastapi import Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy.orm import Session

from agente_vendedor.auth.dependencies import ActorDep
from agente_vendedor.core.config import Settings
from agente_vendedor.core.db import SessionDep
from agente_vendedor.core.errors import error_responses
from agente_vendedor.core.params import Limit, Skip
from agente_vendedor.core.routing import DbRoute, PrefixedRouter
from agente_vendedor.exportar import service
from agente_vendedor.exportar.archivos import file_names
from agente_vendedor.exportar.entidades import ENTIDADES, Exportable
from agente_vendedor.exportar.formatos import MEDIA_TYPES
from agente_vendedor.exportar.schemas import Entidad, ExportacionResponse, Filtros

router = PrefixedRouter(prefix="/exportar", tags=["exportar"], route_class=DbRoute)

_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "El archivo exportado (CSV, JSON, NDJSON o XLSX) como descarga",
        "content": {media: {} for media in MEDIA_TYPES.values()},
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
    descarga, almacenado = file_names(entidad=entidad, formato=filtros.formato)
    exportacion = service.start(
        session=session,
        engine=request.app.state.engine,
        entidad=entidad,
        filtros=filtros,
        usuario=usuario,
        destino=settings.EXPORT_DIRECTORY / almacenado,
        maximo=settings.MAX_EXPORT_RECORDS,
    )
    headers = {"Content-Disposition": f'attachment; filename="{descarga}"', "X-Total-Count": str(exportacion.total)}
    media_type = MEDIA_TYPES[exportacion.formato]
    if exportacion.formato == "excel":
        # An .xlsx is only valid once complete: build it, then send it from disk.
        exportacion.write()
        return FileResponse(exportacion.destino, media_type=media_type, headers=headers)
    return StreamingResponse(_in_threadpool(iter(exportacion.stream())), media_type=media_type, headers=headers)


def _route(entidad: Entidad, exportable: Exportable[Any]) -> Callable[..., Response]:
    """`GET /exportar/{entidad}`, whose query parameters are the fields of the entity's filters model."""

    def exportar(request: Request, session: SessionDep, usuario: ActorDep, filtros: Filtros) -> Response:
        return export_response(request, session, usuario, entidad, filtros)

    exportar.__annotations__["filtros"] = Annotated[exportable.filtros, Query()]
    exportar.__name__ = exportar.__qualname__ = f"exportar_{entidad}"
    exportar.__doc__ = exportable.descripcion
    return exportar


for _entidad, _exportable in ENTIDADES.items():
    router.add_api_route(
        f"/{_entidad}", _route(_entidad, _exportable), methods=["GET"], responses=RESPONSES, response_class=Response
    )


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
