"""HTTP routes of the Cliente Manager."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status

from agente_vendedor.clientes import busqueda, service
from agente_vendedor.clientes.schemas import ClienteBusqueda, ClienteCreate, ClienteResponse, ClienteUpdate
from agente_vendedor.core.db import SessionDep
from agente_vendedor.core.errors import error_responses
from agente_vendedor.core.params import IdPath, Limit, Skip
from agente_vendedor.core.routing import DbRoute, PrefixedRouter
from agente_vendedor.rag import service as rag_service
from agente_vendedor.rag.dependencies import RagDep

router = PrefixedRouter(prefix="/clientes", tags=["clientes"], route_class=DbRoute)

NOT_FOUND = error_responses((404, "Cliente no encontrado"))
CONFLICT = error_responses((409, "Email ya registrado"))


@router.get("/", response_model=list[ClienteResponse])
def listar_clientes(
    session: SessionDep, response: Response, skip: Skip = 0, limit: Limit = 100, activo: bool | None = None
) -> list[ClienteResponse]:
    """Lista clientes con paginación (los más recientes primero); `X-Total-Count` lleva el total."""
    rows, total = service.list_clientes(session=session, skip=skip, limit=limit, activo=activo)
    response.headers["X-Total-Count"] = str(total)
    return [ClienteResponse.model_validate(row) for row in rows]


@router.post("/", response_model=ClienteResponse, status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def crear_cliente(datos: ClienteCreate, session: SessionDep) -> ClienteResponse:
    """Crea un cliente nuevo; el email no puede repetirse."""
    return ClienteResponse.model_validate(service.create(session=session, datos=datos))


@router.get("/buscar", response_model=list[ClienteBusqueda])
def buscar_clientes(
    session: SessionDep,
    rag: RagDep,
    response: Response,
    q: Annotated[str, Query(min_length=1, max_length=100, description="Nombre, email, teléfono o dirección")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[ClienteBusqueda]:
    """Búsqueda por nombre, email o teléfono sin distinguir acentos ni mayúsculas; con erratas, búsqueda aproximada."""
    results = busqueda.search_clientes(session=session, rag=rag, q=q, limit=limit)
    rag_service.mark_response(session, response.headers)
    return [
        ClienteBusqueda.model_validate({**ClienteResponse.model_validate(r.item).model_dump(), "score": r.score})
        for r in results
    ]


@router.get("/{cliente_id}", response_model=ClienteResponse, responses=NOT_FOUND)
def obtener_cliente(cliente_id: IdPath, request: Request) -> ClienteResponse:
    """Devuelve un cliente por id."""
    return ClienteResponse.model_validate(service.ficha(engine=request.app.state.engine, cliente_id=cliente_id))


@router.patch("/{cliente_id}", response_model=ClienteResponse, responses=NOT_FOUND | CONFLICT)
def actualizar_cliente(cliente_id: IdPath, datos: ClienteUpdate, session: SessionDep) -> ClienteResponse:
    """Actualiza solo los campos enviados, con las mismas validaciones que al crear."""
    return ClienteResponse.model_validate(service.update(session=session, cliente_id=cliente_id, datos=datos))


@router.delete("/{cliente_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def desactivar_cliente(cliente_id: IdPath, session: SessionDep) -> Response:
    """Baja lógica: el cliente queda con `activo=false` y conserva su historial."""
    service.deactivate(session=session, cliente_id=cliente_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
