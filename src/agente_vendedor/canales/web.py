"""The web widget's side of a conversation: send a message, read what came after a given id, quick replies."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from agente_vendedor.agente import service as agente_service
from agente_vendedor.agente import supervision
from agente_vendedor.agente.memoria import EstadoDialogo
from agente_vendedor.agente.models import Conversacion, Mensaje
from agente_vendedor.agente.schemas import Canal, EstadoConversacion
from agente_vendedor.agente.service import Generador
from agente_vendedor.canales.horario import Horario
from agente_vendedor.canales.schemas import MensajeWidget, ProductoTarjeta, WidgetConfig, WidgetConversacion
from agente_vendedor.productos.models import Producto
from agente_vendedor.rag.runtime import Rag

MAX_MENSAJES = 200
ORDINALES = ("primero", "segundo", "tercero", "cuarto", "quinto")


def config(horario: Horario) -> WidgetConfig:
    """Business hours and, outside them, the notice the widget shows (it still takes the message)."""
    abierto = horario.abierto()
    aviso = None
    if not abierto:
        aviso = (
            "Ahora mismo estamos fuera del horario de atención"
            + (f" ({horario.texto})" if horario.texto else "")
            + ". Puede escribirnos igualmente: el asistente le responde ya y una persona del equipo leerá su "
            "mensaje en cuanto abramos."
        )
    return WidgetConfig(abierto=abierto, horario=horario.texto or None, aviso=aviso)


def enviar(
    *,
    session: Session,
    rag: Rag | None,
    llm: Generador | None,
    chat_id: str,
    texto: str,
    despues: int,
    horario: Horario,
) -> WidgetConversacion:
    """The visitor's message through the same conversation service; back come every message after `despues`."""
    agente_service.query(session=session, rag=rag, chat_id=chat_id, texto=texto, llm=llm, canal=Canal.WEB.value)
    return conversacion(session=session, chat_id=chat_id, despues=despues, horario=horario)


def _productos(session: Session, mensajes: Sequence[Mensaje]) -> dict[int, ProductoTarjeta]:
    ids: set[int] = set()
    for mensaje in mensajes:
        ids.update(_fuentes(mensaje))
    if not ids:
        return {}
    filas = session.scalars(select(Producto).where(Producto.id.in_(ids), Producto.activo.is_(True))).all()
    return {p.id: ProductoTarjeta(id=p.id, nombre=p.nombre, precio=p.precio, stock=p.stock) for p in filas}


def _fuentes(mensaje: Mensaje) -> list[int]:
    if mensaje.rol != "agente" or not mensaje.fuentes_json:
        return []
    try:
        valores = json.loads(mensaje.fuentes_json)
    except ValueError:
        return []
    return [v for v in valores if isinstance(v, int)] if isinstance(valores, list) else []


def opciones(conversacion: Conversacion, estado: EstadoDialogo, ultima: Mensaje | None) -> list[str]:
    """Quick replies for the choice the agent just offered (none while a person attends the chat).

    "Quiero el primero"... only while the agent's last reply is the list it refers to.
    """
    if not conversacion.ia_activa:
        return []
    if estado.paso == "confirmacion":
        return ["Sí, confirmo", "Ver carrito", "Cancelar el pedido"]
    if estado.paso == "ofrecido":
        return ["Sí, añádalo", "Ver carrito"]
    mostrados = estado.mostrados[:3]
    if estado.paso in (None, "eligiendo") and len(mostrados) >= 2 and ultima is not None:
        if set(mostrados) <= set(_fuentes(ultima)):
            return [f"Quiero el {o}" for o in ORDINALES[: len(mostrados)]]
    return []


def conversacion(*, session: Session, chat_id: str, despues: int, horario: Horario) -> WidgetConversacion:
    """What the widget shows: the messages after `despues` (all of them on a reload), cart, state and options.

    Only web chats are readable here: an unknown id, or one from another channel, looks like a new empty chat.
    """
    abierto = horario.abierto()
    fila = session.scalar(
        select(Conversacion).where(Conversacion.chat_id == chat_id, Conversacion.canal == Canal.WEB.value)
    )
    if fila is None:
        return WidgetConversacion(
            chat_id=chat_id,
            mensajes=[],
            ultimo_id=despues,
            carrito=None,
            estado=EstadoConversacion.ACTIVA,
            opciones=[],
            abierto=abierto,
        )
    mensajes = session.scalars(
        select(Mensaje)
        .where(Mensaje.conversacion_id == fila.id, Mensaje.id > despues)
        .order_by(Mensaje.id)
        .limit(MAX_MENSAJES)
    ).all()
    productos = _productos(session, mensajes)
    vistas = [
        MensajeWidget(
            id=m.id,
            rol=m.rol if m.rol in ("cliente", "agente", "humano") else "agente",
            texto=m.texto,
            fecha=m.fecha,
            productos=[productos[i] for i in _fuentes(m) if i in productos],
        )
        for m in mensajes
    ]
    estado = EstadoDialogo.load(fila.estado_json)
    resumen = supervision.resumen(fila)
    ultima = session.scalar(
        select(Mensaje)
        .where(Mensaje.conversacion_id == fila.id, Mensaje.rol == "agente")
        .order_by(Mensaje.id.desc())
        .limit(1)
    )
    return WidgetConversacion(
        chat_id=chat_id,
        mensajes=vistas,
        ultimo_id=vistas[-1].id if vistas else despues,
        carrito=agente_service.carrito(session, estado),
        estado=resumen.estado,
        opciones=opciones(fila, estado, ultima),
        abierto=abierto,
    )
