"""HTTP routes of the channels: the widget's files and API, the WhatsApp and Telegram webhooks, the staff queue view."""

from __future__ import annotations

import json
from importlib import resources
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse

from agente_vendedor.agente.dependencies import LlmDep, limitar_rag
from agente_vendedor.agente.schemas import Canal
from agente_vendedor.canales import mensajeria, service, web
from agente_vendedor.canales.config import CanalesConfig
from agente_vendedor.canales.schemas import (
    MAX_ID,
    WIDGET_CHAT_ID_PATTERN,
    SalienteResponse,
    WidgetConfig,
    WidgetConversacion,
    WidgetMensajeCreate,
)
from agente_vendedor.core.db import SessionDep
from agente_vendedor.core.errors import AppError, error_responses
from agente_vendedor.core.params import Limit, Skip
from agente_vendedor.core.routing import DbRoute, PrefixedRouter, run_sync
from agente_vendedor.rag.dependencies import RagDep

# The demo page runs only our own files: no inline script or style, nothing from elsewhere.
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
STATIC_CACHE = "public, max-age=300"

widget_files = APIRouter(include_in_schema=False)
web_router = PrefixedRouter(prefix="/canales/web", tags=["canales"], route_class=DbRoute)
whatsapp_router = PrefixedRouter(prefix="/canales/whatsapp", tags=["canales"], route_class=DbRoute)
telegram_router = PrefixedRouter(prefix="/canales/telegram", tags=["canales"], route_class=DbRoute)
staff_router = PrefixedRouter(prefix="/canales", tags=["canales"], route_class=DbRoute)

UNAUTHORIZED = error_responses((401, "Firma o secreto no válidos"))
BAD_BODY = error_responses((400, "El cuerpo no es JSON válido"))


class FirmaNoValida(AppError):
    """The webhook's signature or secret does not match."""

    status_code = 401
    code = "firma_no_valida"


class CuerpoNoValido(AppError):
    """A webhook body that is not JSON."""

    status_code = 400
    code = "cuerpo_no_valido"


class VerificacionFallida(AppError):
    """The WhatsApp verification handshake with a wrong token."""

    status_code = 403
    code = "verificacion_fallida"


def _static(nombre: str) -> bytes:
    return resources.files("agente_vendedor.canales").joinpath("static", nombre).read_bytes()


def _config(request: Request) -> CanalesConfig:
    config: CanalesConfig = request.app.state.settings
    return config


# ---- widget files -----------------------------------------------------------------------------------------


@widget_files.get("/widget.js")
def widget_js() -> Response:
    """The widget: vanilla JavaScript, no build step, no CDN."""
    return Response(
        _static("widget.js"), media_type="text/javascript; charset=utf-8", headers={"Cache-Control": STATIC_CACHE}
    )


@widget_files.get("/widget.css")
def widget_css() -> Response:
    """The widget's styles (loaded into its shadow root)."""
    return Response(
        _static("widget.css"), media_type="text/css; charset=utf-8", headers={"Cache-Control": STATIC_CACHE}
    )


@widget_files.get("/widget/demo")
def widget_demo() -> HTMLResponse:
    """A demo shop page that embeds the widget with the one line a shop would paste."""
    return HTMLResponse(
        _static("demo.html"), headers={"Content-Security-Policy": DEMO_CSP, "Cache-Control": "no-store"}
    )


@widget_files.get("/widget/demo.css")
def widget_demo_css() -> Response:
    """The demo page's own styles."""
    return Response(_static("demo.css"), media_type="text/css; charset=utf-8", headers={"Cache-Control": STATIC_CACHE})


# ---- widget API --------------------------------------------------------------------------------------------

WidgetChatIdPath = Annotated[
    str, Path(min_length=24, max_length=104, pattern=WIDGET_CHAT_ID_PATTERN, description="Id del chat del widget")
]


@web_router.get("/config", response_model=WidgetConfig)
def widget_config(request: Request) -> WidgetConfig:
    """Horario de atención y si ahora hay alguien: fuera de horario el widget lo dice y acepta el mensaje igual."""
    return web.config(_config(request).horario)


@web_router.post(
    "/mensajes",
    response_model=WidgetConversacion,
    responses=error_responses((409, "El chat_id pertenece a otro canal"), (429, "Demasiadas consultas")),
    dependencies=[Depends(limitar_rag)],
)
def widget_mensaje(
    datos: WidgetMensajeCreate, session: SessionDep, rag: RagDep, llm: LlmDep, request: Request
) -> WidgetConversacion:
    """Mensaje de un visitante desde el widget; devuelve todos los mensajes posteriores a `despues` (incluida la
    respuesta), el carrito y las respuestas rápidas."""
    return web.enviar(
        session=session,
        rag=rag,
        llm=llm,
        chat_id=datos.chat_id,
        texto=datos.texto,
        despues=datos.despues,
        horario=_config(request).horario,
    )


@web_router.get("/chats/{chat_id}", response_model=WidgetConversacion)
def widget_conversacion(
    chat_id: WidgetChatIdPath,
    session: SessionDep,
    request: Request,
    despues: Annotated[int, Query(ge=0, le=MAX_ID, description="Último id de mensaje que ya muestra el widget")] = 0,
) -> WidgetConversacion:
    """Los mensajes de un chat del widget posteriores a `despues` (0: todo el historial): recarga y sondeo."""
    return web.conversacion(session=session, chat_id=chat_id, despues=despues, horario=_config(request).horario)


# ---- WhatsApp ---------------------------------------------------------------------------------------------


def _leer_json(cuerpo: bytes) -> Any:
    try:
        return json.loads(cuerpo)
    except (ValueError, RecursionError) as exc:
        raise CuerpoNoValido("El cuerpo no es un JSON válido") from exc


def _trabajador_despierta(request: Request) -> None:
    canales = getattr(request.app.state, "canales", None)
    if canales is not None:
        canales.despertar()


@whatsapp_router.get(
    "/webhook", response_class=PlainTextResponse, responses=error_responses((403, "Token de verificación no válido"))
)
def whatsapp_verificar(
    request: Request,
    modo: Annotated[str | None, Query(alias="hub.mode", max_length=32)] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token", max_length=512)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=128, pattern=r"^[A-Za-z0-9_-]+$")] = None,
) -> PlainTextResponse:
    """Verificación del webhook de Meta: con `hub.mode=subscribe` y el token correcto devuelve `hub.challenge`."""
    esperado = _config(request).WHATSAPP_VERIFY_TOKEN or ""
    if modo != "subscribe" or not challenge or not mensajeria.secreto_valido(esperado=esperado, recibido=token):
        raise VerificacionFallida("Verificación del webhook rechazada")
    return PlainTextResponse(challenge)


@whatsapp_router.post("/webhook", responses=UNAUTHORIZED | BAD_BODY)
async def whatsapp_webhook(
    request: Request, session: SessionDep, background: BackgroundTasks
) -> dict[str, Literal[True] | int]:
    """Entregas de WhatsApp Cloud API: firma `X-Hub-Signature-256` comprobada antes de leer nada; cada mensaje se
    guarda una sola vez (por su `wamid`) y se responde en segundo plano."""
    config = _config(request)
    cuerpo = await request.body()
    if not mensajeria.firma_valida(
        secreto=config.WHATSAPP_APP_SECRET or "", cuerpo=cuerpo, cabecera=request.headers.get("x-hub-signature-256")
    ):
        raise FirmaNoValida("Firma X-Hub-Signature-256 ausente o no válida")
    entrantes = mensajeria.whatsapp(_leer_json(cuerpo), cuenta=config.WHATSAPP_PHONE_NUMBER_ID)
    nuevos = await run_sync(service.recibir, session=session, entrantes=entrantes)
    if nuevos:
        background.add_task(_trabajador_despierta, request)  # runs after the commit and the response
    return {"ok": True, "nuevos": nuevos}


# ---- Telegram ---------------------------------------------------------------------------------------------


@telegram_router.post("/webhook", responses=UNAUTHORIZED | BAD_BODY)
async def telegram_webhook(
    request: Request, session: SessionDep, background: BackgroundTasks
) -> dict[str, Literal[True] | int]:
    """Actualizaciones del bot de Telegram: `X-Telegram-Bot-Api-Secret-Token` comprobado; cada `update_id` se
    guarda una sola vez y se responde en segundo plano."""
    config = _config(request)
    if not mensajeria.secreto_valido(
        esperado=config.TELEGRAM_WEBHOOK_SECRET or "", recibido=request.headers.get("x-telegram-bot-api-secret-token")
    ):
        raise FirmaNoValida("Cabecera X-Telegram-Bot-Api-Secret-Token ausente o no válida")
    entrantes = mensajeria.telegram(_leer_json(await request.body()))
    nuevos = await run_sync(service.recibir, session=session, entrantes=entrantes)
    if nuevos:
        background.add_task(_trabajador_despierta, request)
    return {"ok": True, "nuevos": nuevos}


# ---- staff ------------------------------------------------------------------------------------------------

EstadoSaliente = Literal["pendiente", "enviado", "fallido", "fuera_de_ventana"]


@staff_router.get("/salientes", response_model=list[SalienteResponse])
def listar_salientes(
    session: SessionDep,
    response: Response,
    estado: EstadoSaliente | None = None,
    canal: Literal[Canal.WHATSAPP, Canal.TELEGRAM] | None = None,
    skip: Skip = 0,
    limit: Limit = 100,
) -> list[SalienteResponse]:
    """Cola de salida de WhatsApp y Telegram, más recientes primero: lo pendiente, lo enviado, lo que falló y lo
    retenido fuera de la ventana de 24 horas de WhatsApp. `X-Total-Count` lleva el total."""
    rows, total = service.salientes(
        session=session, estado=estado, canal=canal.value if canal else None, skip=skip, limit=limit
    )
    response.headers["X-Total-Count"] = str(total)
    return [
        SalienteResponse.model_validate(row).model_copy(
            update={"chat_id": service.chat_id_de(session=session, saliente=row)}
        )
        for row in rows
    ]
