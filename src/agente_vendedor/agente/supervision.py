"""The staff's side of the conversations: list, read, take over, reply, and what customers could not get."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agente_vendedor.agente.exceptions import ConversacionNoEncontrada
from agente_vendedor.agente.memoria import EstadoDialogo
from agente_vendedor.agente.models import Conversacion, DemandaInsatisfecha, Mensaje
from agente_vendedor.agente.schemas import (
    Canal,
    CarritoAbandonado,
    ConversacionDetalle,
    ConversacionResumen,
    DemandaInsatisfechaResponse,
    DemandaItem,
    EstadoConversacion,
    MensajeResponse,
)
from agente_vendedor.agente.service import carrito, estado_de, guardar_mensaje
from agente_vendedor.core.db import utcnow, within
from agente_vendedor.core.text import fold
from agente_vendedor.productos.models import Producto

Entrega = Callable[[Session, Conversacion, Mensaje], str | None]
"""Delivers a staff reply on the conversation's channel (queues it); returns the message's `entrega` state."""

_ENTREGAS: dict[str, Entrega] = {}


def registrar_entrega(canal: str, entrega: Entrega) -> None:
    """Let a channel deliver the staff replies of its conversations (web and api customers read them by polling)."""
    _ENTREGAS[canal] = entrega


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
        estado=estado_de(conversacion),
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
    conversacion.estado = estado_de(conversacion).value
    conversacion.fecha_actualizacion = utcnow()
    session.flush()
    return conversacion


def add_staff_message(*, session: Session, chat_id: str, texto: str, autor: str) -> Mensaje:
    """A staff reply; writing in a chat takes it over, so the agent does not talk over the person."""
    conversacion = get(session=session, chat_id=chat_id)
    conversacion.ia_activa = False
    conversacion.estado = estado_de(conversacion).value
    conversacion.fecha_actualizacion = utcnow()
    mensaje = guardar_mensaje(session, conversacion, "humano", texto, autor=autor[:100])
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
