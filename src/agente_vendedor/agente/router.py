"""HTTP routes of the sales agent: the public chat endpoint and the staff views of conversations."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Response, status

from agente_vendedor.agente import service, supervision
from agente_vendedor.agente.dependencies import LlmDep, limitar_rag
from agente_vendedor.agente.schemas import (
    CHAT_ID_PATTERN,
    Canal,
    ConversacionDetalle,
    ConversacionResumen,
    ConversacionUpdate,
    DemandaInsatisfechaResponse,
    EstadoConversacion,
    MensajeHumanoCreate,
    MensajeResponse,
    RAGQueryRequest,
    RAGResponse,
)
from agente_vendedor.auth.dependencies import ActorDep
from agente_vendedor.core.db import SessionDep
from agente_vendedor.core.errors import error_responses
from agente_vendedor.core.params import Limit, Skip
from agente_vendedor.core.routing import DbRoute, PrefixedRouter
from agente_vendedor.core.schemas import FechaUTC
from agente_vendedor.rag import service as rag_service
from agente_vendedor.rag.dependencies import RagDep

router = PrefixedRouter(prefix="/rag", tags=["agente"], route_class=DbRoute)
staff_router = PrefixedRouter(prefix="/rag", tags=["agente"], route_class=DbRoute)

ChatIdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=CHAT_ID_PATTERN, description="Id del chat")]
NOT_FOUND = error_responses((404, "Conversación no encontrada"))
RATE_LIMITED = error_responses(
    (409, "El chat_id pertenece a una conversación de otro canal"), (429, "Demasiadas consultas desde esta dirección")
)


@router.post("/query", response_model=RAGResponse, responses=RATE_LIMITED, dependencies=[Depends(limitar_rag)])
def consultar_agente(
    datos: RAGQueryRequest, session: SessionDep, rag: RagDep, llm: LlmDep, response: Response
) -> RAGResponse:
    """Habla con el agente vendedor: busca en el catálogo real, arma el carrito, toma los datos y hace el pedido.

    Público (visitantes de la tienda). La memoria de cada `chat_id` es duradera. Si una persona del equipo
    atiende el chat, el mensaje se guarda y la respuesta llega con `respuesta: null` y
    `estado: "atendido_por_humano"`.
    """
    respuesta = service.query(session=session, rag=rag, chat_id=datos.chat_id, texto=datos.query, llm=llm).respuesta
    rag_service.mark_response(session, response.headers)  # X-Busqueda-Modo: lexico while the vector index is down
    return respuesta


@staff_router.get("/chats", response_model=list[ConversacionResumen])
def listar_chats(
    session: SessionDep,
    response: Response,
    fecha_desde: Annotated[FechaUTC | None, Query(description="Última actividad desde (ISO 8601)")] = None,
    fecha_hasta: Annotated[FechaUTC | None, Query(description="Última actividad hasta (ISO 8601)")] = None,
    estado: EstadoConversacion | None = None,
    cliente_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    canal: Annotated[Canal | None, Query(description="Canal: api, web, whatsapp o telegram")] = None,
    skip: Skip = 0,
    limit: Limit = 100,
) -> list[ConversacionResumen]:
    """Conversaciones con actividad más reciente primero; `X-Total-Count` lleva el total."""
    rows, total = supervision.list_chats(
        session=session,
        fecha_desde=fecha_desde,
        fecha_hasta=fecha_hasta,
        estado=estado,
        cliente_id=cliente_id,
        canal=canal,
        skip=skip,
        limit=limit,
    )
    response.headers["X-Total-Count"] = str(total)
    return [supervision.resumen(row) for row in rows]


@staff_router.get("/chats/{chat_id}", response_model=ConversacionDetalle, responses=NOT_FOUND)
def ver_chat(chat_id: ChatIdPath, session: SessionDep) -> ConversacionDetalle:
    """El historial completo de una conversación y su carrito actual."""
    return supervision.detalle(session=session, chat_id=chat_id)


@staff_router.patch("/chats/{chat_id}", response_model=ConversacionResumen, responses=NOT_FOUND)
def cambiar_chat(chat_id: ChatIdPath, datos: ConversacionUpdate, session: SessionDep) -> ConversacionResumen:
    """`{"ia_activa": false}`: una persona toma el chat y el agente calla; `true` se lo devuelve al agente."""
    return supervision.resumen(supervision.set_ia(session=session, chat_id=chat_id, ia_activa=datos.ia_activa))


@staff_router.post(
    "/chats/{chat_id}/mensajes",
    response_model=MensajeResponse,
    status_code=status.HTTP_201_CREATED,
    responses=NOT_FOUND,
)
def responder_chat(
    chat_id: ChatIdPath, datos: MensajeHumanoCreate, session: SessionDep, autor: ActorDep
) -> MensajeResponse:
    """Respuesta de una persona del equipo; escribir en el chat lo toma (el agente deja de responder).

    En WhatsApp y Telegram la respuesta se envía al cliente por su canal (`entrega`: `pendiente`, luego `enviado`
    o `fallido`); en WhatsApp, fuera de la ventana de 24 horas no se envía y queda `fuera_de_ventana`.
    """
    mensaje = supervision.add_staff_message(session=session, chat_id=chat_id, texto=datos.texto, autor=autor)
    return MensajeResponse.model_validate(mensaje)


@staff_router.get("/demanda-insatisfecha", response_model=DemandaInsatisfechaResponse)
def demanda_insatisfecha(
    session: SessionDep,
    fecha_desde: Annotated[FechaUTC | None, Query(description="Desde (ISO 8601)")] = None,
    fecha_hasta: Annotated[FechaUTC | None, Query(description="Hasta (ISO 8601)")] = None,
    abandono_horas: Annotated[int, Query(ge=0, le=24 * 365, description="Horas sin actividad de un carrito")] = 24,
    limit: Limit = 100,
) -> DemandaInsatisfechaResponse:
    """Ventas perdidas: productos que no tenemos, agotados, carritos cancelados y carritos abandonados."""
    return supervision.demanda(
        session=session,
        fecha_desde=fecha_desde,
        fecha_hasta=fecha_hasta,
        abandono_horas=abandono_horas,
        limit=limit,
    )
