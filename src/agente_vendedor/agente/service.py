"""Orchestration of a customer's chat turn: memory, generator, guard; the staff side lives in `supervision`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agente_vendedor.agente import dialogo, guard, intents, tienda
from agente_vendedor.agente.exceptions import ConversacionDeOtroCanal
from agente_vendedor.agente.intents import Intencion
from agente_vendedor.agente.memoria import EstadoDialogo
from agente_vendedor.agente.models import Conversacion, Mensaje
from agente_vendedor.agente.schemas import (
    Canal,
    CarritoResponse,
    EstadoConversacion,
    Fuente,
    LineaCarritoResponse,
    RAGResponse,
)
from agente_vendedor.agente.tienda import Contexto, Respuesta
from agente_vendedor.core.db import utcnow
from agente_vendedor.core.metrics import CANAL_MENSAJES, LLM_CALLS, RAG_LATENCY
from agente_vendedor.productos.models import Producto
from agente_vendedor.rag import outbox
from agente_vendedor.rag.runtime import Rag

logger = structlog.stdlib.get_logger("agente_vendedor.agente")

HISTORIAL_LLM = 12


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


def guardar_mensaje(
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
    """Append a message to the chat's history (customer, agent or staff)."""
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


def estado_de(conversacion: Conversacion) -> EstadoConversacion:
    """The state a chat shows: taken over by a person, waiting for one, or handled by the agent."""
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
        outbox.defer(session)  # the customer registered in this turn is indexed after the reply, not before it
        conversacion = _bloquear(session, chat_id, canal)
        CANAL_MENSAJES.labels(canal, "entrante").inc()
        guardar_mensaje(session, conversacion, "cliente", texto)
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
        conversacion.estado = estado_de(conversacion).value
        fuentes = _fuentes(ctx)
        mensaje = guardar_mensaje(
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
                estado=estado_de(conversacion),
            ),
            generador,
            mensaje.id,
        )
