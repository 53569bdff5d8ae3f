"""Orchestration of a chat turn (memory, generator, guard) and the staff operations on conversations."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agente_vendedor.agente import dialogo, guard, intents, tienda
from agente_vendedor.agente.exceptions import ConversacionDeOtroCanal, ConversacionNoEncontrada
from agente_vendedor.agente.intents import Intencion
from agente_vendedor.agente.memoria import EstadoDialogo
from agente_vendedor.agente.models import Conversacion, DemandaInsatisfecha, Mensaje
from agente_vendedor.agente.schemas import (
    Canal,
    CarritoAbandonado,
    CarritoResponse,
    ConversacionDetalle,
    ConversacionResumen,
    DemandaInsatisfechaResponse,
    DemandaItem,
    EstadoConversacion,
    Fuente,
    LineaCarritoResponse,
    MensajeResponse,
    RAGResponse,
)
from agente_vendedor.agente.tienda import Contexto, Respuesta
from agente_vendedor.core.db import utcnow, within
from agente_vendedor.core.metrics import CANAL_MENSAJES, LLM_CALLS, RAG_LATENCY
from agente_vendedor.core.text import fold
from agente_vendedor.productos.models import Producto
from agente_vendedor.rag.runtime import Rag

logger = structlog.stdlib.get_logger("agente_vendedor.agente")

HISTORIAL_LLM = 12

Entrega = Callable[[Session, Conversacion, Mensaje], str | None]
"""Delivers a staff reply on the conversation's channel (queues it); returns the message's `entrega` state."""

_ENTREGAS: dict[str, Entrega] = {}


def registrar_entrega(canal: str, entrega: Entrega) -> None:
    """Let a channel deliver the staff replies of its conversations (web and api customers read them by polling)."""
    _ENTREGAS[canal] = entrega


class Generador(Protocol):
    """A reply generator other than the offline engine (the LLM); it raises to hand the turn back."""

    def responder(self, ctx: Contexto, texto: str, historial: Sequence[Mensaje]) -> Respuesta:
        """Answer one message acting through `tienda`; any exception means "use the offline engine"."""
        ...


@dataclass(frozen=True)
class Turno:
    """What a turn produced, for the response."""

    respuesta: RAGResponse
    generador: str
    mensaje_id: int | None = None


def _bloquear(session: Session, chat_id: str, canal: str = Canal.API.value) -> Conversacion:
    """The chat's row, created on first use and locked for this transaction (writes first, as SQLite needs).

    A chat belongs to the channel it started on: another channel may not write into it (nor read its cart).
    """
    ahora = utcnow()
    touched = session.execute(
        update(Conversacion)
        .where(Conversacion.chat_id == chat_id)
        .values(fecha_actualizacion=ahora)
        .execution_options(synchronize_session=False)
    )
    if getattr(touched, "rowcount", 0) == 0:
        try:
            with tienda.savepoint(session):
                session.add(Conversacion(chat_id=chat_id, canal=canal, fecha_inicio=ahora, fecha_actualizacion=ahora))
                session.flush()
        except IntegrityError:
            # Another request created the chat at the same moment: take its row lock instead.
            session.execute(
                update(Conversacion)
                .where(Conversacion.chat_id == chat_id)
                .values(fecha_actualizacion=ahora)
                .execution_options(synchronize_session=False)
            )
    conversacion = session.scalars(
        select(Conversacion).where(Conversacion.chat_id == chat_id).execution_options(populate_existing=True)
    ).one()
    if conversacion.canal != canal:
        raise ConversacionDeOtroCanal()
    return conversacion


def abrir(*, session: Session, chat_id: str, canal: str) -> Conversacion:
    """The chat's row for a channel adapter, created if new and locked for this transaction."""
    return _bloquear(session, chat_id, canal)


def _guardar_mensaje(
    session: Session,
    conversacion: Conversacion,
    rol: str,
    texto: str,
    *,
    intencion: str | None = None,
    generador: str | None = None,
    autor: str | None = None,
    fuentes: Sequence[int] = (),
) -> Mensaje:
    mensaje = Mensaje(
        conversacion_id=conversacion.id,
        rol=rol,
        texto=texto,
        intencion=intencion,
        generador=generador,
        autor=autor,
        fuentes_json=json.dumps(list(fuentes)) if fuentes else None,
        fecha=utcnow(),
    )
    session.add(mensaje)
    conversacion.mensajes_count += 1
    return mensaje


def carrito(session: Session, estado: EstadoDialogo) -> CarritoResponse | None:
    """The cart at live prices, or None when empty."""
    if not estado.carrito:
        return None
    vistas = [
        tienda.LineaVista(producto, linea.cantidad)
        for linea in estado.carrito
        if (producto := session.get(Producto, linea.producto_id)) is not None and producto.activo
    ]
    if not vistas:
        return None
    return CarritoResponse(
        lineas=[
            LineaCarritoResponse(
                producto_id=v.producto.id,
                nombre=v.producto.nombre,
                precio_unitario=v.producto.precio,
                cantidad=v.cantidad,
                subtotal=v.subtotal,
            )
            for v in vistas
        ],
        unidades=sum(v.cantidad for v in vistas),
        total=tienda.total(vistas),
    )


def _fuentes(ctx: Contexto) -> list[Fuente]:
    fuentes = []
    for producto_id, score in ctx.fuentes.items():
        producto = tienda.producto_activo(ctx, producto_id)
        if producto is not None:
            fuentes.append(
                Fuente(
                    id=producto.id, nombre=producto.nombre, precio=producto.precio, stock=producto.stock, score=score
                )
            )
    return fuentes


def _estado(conversacion: Conversacion) -> EstadoConversacion:
    if not conversacion.ia_activa:
        return EstadoConversacion.ATENDIDO_POR_HUMANO
    if conversacion.requiere_humano:
        return EstadoConversacion.REQUIERE_HUMANO
    return EstadoConversacion.ACTIVA


def _generar(ctx: Contexto, texto: str, llm: Generador | None) -> Respuesta:
    """The LLM when configured, inside a savepoint so a failed attempt leaves no trace; else the offline engine.

    Refusals (discounts and haggling, other customers' data, injections) and requests for a person are policy, not
    conversation: the offline engine answers them even in LLM mode, so no prompt can talk the model round.
    """
    politica = intents.detectar(texto, esperando=ctx.estado.paso) in (
        Intencion.RECHAZO,
        Intencion.HUMANO,
        Intencion.REGATEO,
    )
    if llm is not None and not politica:
        historial = list(
            reversed(
                ctx.session.scalars(
                    select(Mensaje)
                    .where(Mensaje.conversacion_id == ctx.conversacion.id)
                    .order_by(Mensaje.id.desc())
                    .limit(HISTORIAL_LLM + 1)
                ).all()
            )
        )[:-1]
        antes = ctx.estado.dump()
        requiere = ctx.conversacion.requiere_humano
        try:
            with tienda.savepoint(ctx.session):
                return llm.responder(ctx, texto, historial)
        except Exception:
            logger.warning("llm_fallback", chat_id=ctx.conversacion.chat_id, exc_info=True)
            LLM_CALLS.labels("fallback").inc()
            ctx.estado = EstadoDialogo.load(antes)
            ctx.conversacion.requiere_humano = requiere
            ctx.fuentes.clear()
            ctx.venta_id = None
    return dialogo.responder(ctx, texto)


def query(
    *,
    session: Session,
    rag: Rag | None,
    chat_id: str,
    texto: str,
    llm: Generador | None = None,
    canal: str = Canal.API.value,
) -> Turno:
    """One customer message: stored, answered (unless a person attends the chat), checked, remembered."""
    with RAG_LATENCY.time():
        conversacion = _bloquear(session, chat_id, canal)
        CANAL_MENSAJES.labels(canal, "entrante").inc()
        _guardar_mensaje(session, conversacion, "cliente", texto)
        session.flush()
        estado = EstadoDialogo.load(conversacion.estado_json)
        if not conversacion.ia_activa:
            session.flush()
            return Turno(
                RAGResponse(
                    respuesta=None,
                    chat_id=chat_id,
                    intencion=Intencion.ATENDIDO_POR_HUMANO.value,
                    fuentes=[],
                    carrito=carrito(session, estado),
                    venta_id=None,
                    estado=EstadoConversacion.ATENDIDO_POR_HUMANO,
                ),
                "humano",
            )
        estado.turno += 1
        ctx = Contexto(session=session, rag=rag, conversacion=conversacion, estado=estado, consulta=texto)
        respuesta = _generar(ctx, texto, llm)
        veredicto = guard.revisar(ctx, respuesta.texto)
        texto_final, generador = respuesta.texto, respuesta.generador
        if not veredicto.ok:
            logger.warning("respuesta_rechazada_por_guard", chat_id=chat_id, motivo=veredicto.motivo)
            texto_final, generador = guard.plantilla(ctx), "plantilla"
        conversacion.estado_json = ctx.estado.dump()
        conversacion.estado = _estado(conversacion).value
        fuentes = _fuentes(ctx)
        mensaje = _guardar_mensaje(
            session,
            conversacion,
            "agente",
            texto_final,
            intencion=respuesta.intencion,
            generador=generador,
            fuentes=[f.id for f in fuentes],
        )
        session.flush()
        return Turno(
            RAGResponse(
                respuesta=texto_final,
                chat_id=chat_id,
                intencion=respuesta.intencion,
                fuentes=fuentes,
                carrito=carrito(session, ctx.estado),
                venta_id=ctx.venta_id,
                estado=_estado(conversacion),
            ),
            generador,
            mensaje.id,
        )


# ---- staff -----------------------------------------------------------------------------------------------


def get(*, session: Session, chat_id: str) -> Conversacion:
    """A chat by its id, or `ConversacionNoEncontrada`."""
    conversacion = session.scalar(select(Conversacion).where(Conversacion.chat_id == chat_id))
    if conversacion is None:
        raise ConversacionNoEncontrada(chat_id)
    return conversacion


def resumen(conversacion: Conversacion) -> ConversacionResumen:
    """The list view of a chat."""
    return ConversacionResumen(
        chat_id=conversacion.chat_id,
        canal=Canal(conversacion.canal),
        estado=_estado(conversacion),
        ia_activa=conversacion.ia_activa,
        requiere_humano=conversacion.requiere_humano,
        cliente_id=conversacion.cliente_id,
        ultima_venta_id=conversacion.ultima_venta_id,
        mensajes=conversacion.mensajes_count,
        fecha_inicio=conversacion.fecha_inicio,
        fecha_actualizacion=conversacion.fecha_actualizacion,
    )


def list_chats(
    *,
    session: Session,
    fecha_desde: datetime | None = None,
    fecha_hasta: datetime | None = None,
    estado: EstadoConversacion | None = None,
    cliente_id: int | None = None,
    canal: Canal | None = None,
    skip: int = 0,
    limit: int = 100,
) -> tuple[list[Conversacion], int]:
    """Chats with recent activity first, filtered by last activity date, state, cliente and channel; with the total."""
    filters: list[Any] = within(Conversacion.fecha_actualizacion, fecha_desde, fecha_hasta)
    if estado is not None:
        filters.append(Conversacion.estado == estado.value)
    if cliente_id is not None:
        filters.append(Conversacion.cliente_id == cliente_id)
    if canal is not None:
        filters.append(Conversacion.canal == canal.value)
    total = int(session.scalar(select(func.count()).select_from(Conversacion).where(*filters)) or 0)
    rows = session.scalars(
        select(Conversacion)
        .where(*filters)
        .order_by(Conversacion.fecha_actualizacion.desc(), Conversacion.id.desc())
        .offset(skip)
        .limit(limit)
    ).all()
    return list(rows), total


def detalle(*, session: Session, chat_id: str) -> ConversacionDetalle:
    """A chat with its full history and cart."""
    conversacion = get(session=session, chat_id=chat_id)
    mensajes = session.scalars(
        select(Mensaje).where(Mensaje.conversacion_id == conversacion.id).order_by(Mensaje.id)
    ).all()
    return ConversacionDetalle(
        **resumen(conversacion).model_dump(),
        historial=[MensajeResponse.model_validate(m) for m in mensajes],
        carrito=carrito(session, EstadoDialogo.load(conversacion.estado_json)),
    )


def set_ia(*, session: Session, chat_id: str, ia_activa: bool) -> Conversacion:
    """Take a chat over (`False`: the agent stays silent) or give it back to the agent."""
    conversacion = get(session=session, chat_id=chat_id)
    conversacion.ia_activa = ia_activa
    if ia_activa:
        conversacion.requiere_humano = False
    conversacion.estado = _estado(conversacion).value
    conversacion.fecha_actualizacion = utcnow()
    session.flush()
    return conversacion


def add_staff_message(*, session: Session, chat_id: str, texto: str, autor: str) -> Mensaje:
    """A staff reply; writing in a chat takes it over, so the agent does not talk over the person."""
    conversacion = get(session=session, chat_id=chat_id)
    conversacion.ia_activa = False
    conversacion.estado = _estado(conversacion).value
    conversacion.fecha_actualizacion = utcnow()
    mensaje = _guardar_mensaje(session, conversacion, "humano", texto, autor=autor[:100])
    session.flush()
    entrega = _ENTREGAS.get(conversacion.canal)
    if entrega is not None:
        # Same transaction as the message: the reply is queued for the customer's channel if and only if it is stored.
        mensaje.entrega = entrega(session, conversacion, mensaje)
        session.flush()
    return mensaje


def demanda(
    *,
    session: Session,
    fecha_desde: datetime | None = None,
    fecha_hasta: datetime | None = None,
    abandono_horas: int = 24,
    limit: int = 100,
) -> DemandaInsatisfechaResponse:
    """What customers asked for and could not get, most frequent first, plus carts left without an order."""
    filters: list[Any] = within(DemandaInsatisfecha.fecha, fecha_desde, fecha_hasta)
    rows = session.execute(
        select(DemandaInsatisfecha, Producto.nombre)
        .outerjoin(Producto, Producto.id == DemandaInsatisfecha.producto_id)
        .where(*filters)
        .order_by(DemandaInsatisfecha.id.desc())
        .limit(50_000)
    ).all()
    grupos: dict[tuple[str, str | int | None], DemandaItem] = {}
    for fila, nombre in rows:
        clave: tuple[str, str | int | None] = (
            fila.tipo,
            fila.producto_id if fila.producto_id is not None else fold(fila.consulta),
        )
        item = grupos.get(clave)
        if item is None:
            grupos[clave] = DemandaItem(
                tipo=fila.tipo,
                consulta=fila.consulta if fila.producto_id is None else None,
                producto_id=fila.producto_id,
                producto=nombre,
                veces=1,
                unidades=fila.cantidad or 0,
                ultima_fecha=fila.fecha,
            )
        else:
            item.veces += 1
            item.unidades += fila.cantidad or 0
            item.ultima_fecha = max(item.ultima_fecha, fila.fecha)
    items = sorted(grupos.values(), key=lambda i: (-i.veces, -i.unidades, i.tipo))[:limit]
    limite = utcnow() - timedelta(hours=abandono_horas)
    conversaciones = session.scalars(
        select(Conversacion)
        .where(Conversacion.fecha_actualizacion <= limite, Conversacion.estado_json.like('%"producto_id"%'))
        .order_by(Conversacion.fecha_actualizacion.desc())
        .limit(limit)
    ).all()
    abandonados = []
    for conversacion in conversaciones:
        cesta = carrito(session, EstadoDialogo.load(conversacion.estado_json))
        if cesta is not None:
            abandonados.append(
                CarritoAbandonado(
                    chat_id=conversacion.chat_id,
                    fecha_actualizacion=conversacion.fecha_actualizacion,
                    unidades=cesta.unidades,
                    total=cesta.total,
                )
            )
    return DemandaInsatisfechaResponse(items=items, carritos_abandonados=abandonados)
