"""The channel adapters' common core: contacts, deduplicated inbound deliveries, the outbound queue, staff replies.

Every channel talks to the same conversation service (`agente.service.query`): memory, cart, guard, takeover and
unmet demand behave the same on the web, WhatsApp and Telegram.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agente_vendedor.agente import service as agente_service
from agente_vendedor.agente import supervision, tienda
from agente_vendedor.agente.memoria import EstadoDialogo
from agente_vendedor.agente.models import Conversacion, Mensaje
from agente_vendedor.agente.schemas import Canal
from agente_vendedor.agente.service import Generador
from agente_vendedor.canales.models import CanalContacto, CanalEntrante, CanalSaliente
from agente_vendedor.clientes.models import Cliente
from agente_vendedor.core.db import utcnow
from agente_vendedor.core.text import digits
from agente_vendedor.rag.runtime import Rag

logger = structlog.stdlib.get_logger("agente_vendedor.canales")

MAX_TEXTO_ENTRANTE = 2000
MAX_TEXTO_SALIENTE = 4000  # WhatsApp and Telegram both cap a text message at 4096 characters
VENTANA_WHATSAPP = timedelta(hours=24)
MAX_INTENTOS_ENTRANTE = 5
PREFIJOS = {Canal.WHATSAPP.value: "wa", Canal.TELEGRAM.value: "tg"}

SOLO_TEXTO = (
    'Lo siento, solo puedo leer mensajes de texto. ¿Me escribe lo que necesita? Por ejemplo: "¿tienen taladros?"'
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def limpiar(texto: str, limite: int = MAX_TEXTO_ENTRANTE) -> str:
    """Channel text as the agent may store it: no control characters (NUL breaks PostgreSQL), bounded length."""
    return _CONTROL.sub("", texto).strip()[:limite]


@dataclass(frozen=True)
class Entrante:
    """One message a channel delivered, already validated by its adapter."""

    canal: str
    clave: str
    externo_id: str
    tipo: str  # texto, start (Telegram's /start) or the channel's own type for what we cannot read
    texto: str | None
    fecha_mensaje: datetime
    cuenta: str | None = None
    nombre: str | None = None


def recibir(*, session: Session, entrantes: Sequence[Entrante]) -> int:
    """Write each delivery under its unique key before any processing; a re-delivery is a no-op. New rows count."""
    if not entrantes:
        return 0
    ahora = utcnow()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    nuevos = 0
    for e in entrantes:
        statement = (
            insert(CanalEntrante)
            .values(
                canal=e.canal,
                clave=e.clave,
                externo_id=e.externo_id,
                cuenta=e.cuenta,
                nombre=e.nombre,
                tipo=e.tipo,
                texto=e.texto,
                fecha_mensaje=e.fecha_mensaje,
                estado="pendiente",
                intentos=0,
                fecha_recepcion=ahora,
            )
            .on_conflict_do_nothing(index_elements=["canal", "clave"])
            .returning(CanalEntrante.id)
        )
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT DO NOTHING.
        if session.execute(statement).first() is not None:
            nuevos += 1
    session.flush()
    return nuevos


def contacto_de(*, session: Session, canal: str, externo_id: str) -> CanalContacto | None:
    """The contact of a WhatsApp number or Telegram chat, if it wrote before."""
    return session.scalar(
        select(CanalContacto).where(CanalContacto.canal == canal, CanalContacto.externo_id == externo_id)
    )


def _contacto(session: Session, entrante: CanalEntrante) -> CanalContacto:
    """The sender's contact, created on first contact with its own unguessable chat id."""
    existente = contacto_de(session=session, canal=entrante.canal, externo_id=entrante.externo_id)
    if existente is not None:
        return existente
    nuevo = CanalContacto(
        canal=entrante.canal,
        externo_id=entrante.externo_id,
        chat_id=f"{PREFIJOS.get(entrante.canal, entrante.canal[:2])}-{secrets.token_hex(12)}",
        cuenta=entrante.cuenta,
        nombre=entrante.nombre,
        fecha_alta=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(nuevo)
            session.flush()
    except IntegrityError:
        # Another worker registered the same sender a moment ago: use its row.
        existente = contacto_de(session=session, canal=entrante.canal, externo_id=entrante.externo_id)
        if existente is None:
            raise
        return existente
    return nuevo


def _candidatos_por_telefono(session: Session, numero: str) -> list[Cliente]:
    """Active clientes whose phone is this number, written in full or without the country code."""
    finales = {numero} | {numero[-k:] for k in range(9, len(numero))}
    condiciones = [Cliente.texto_busqueda.like(f"%| {final}") for final in finales]
    return list(session.scalars(select(Cliente).where(Cliente.activo.is_(True), or_(*condiciones)).limit(3)).all())


def _reconocer(session: Session, conversacion: Conversacion, entrante: CanalEntrante) -> None:
    """A new WhatsApp conversation: remember the (Meta-verified) number and recognise a returning customer.

    The number alone is not enough, as an e-mail alone is not on the web: the phone on file may have been typed
    by anyone. The chat is linked only when exactly one active cliente has this number and the WhatsApp profile
    name matches the name on file; otherwise the agent asks for the details and today's e-mail rule applies.
    """
    estado = EstadoDialogo.load(conversacion.estado_json)
    numero = digits(entrante.externo_id)
    if estado.telefono is None and 7 <= len(numero) <= 15:
        estado.telefono = f"+{numero}"
    candidatos = _candidatos_por_telefono(session, numero) if len(numero) >= 9 else []
    if len(candidatos) == 1 and entrante.nombre and tienda.mismo_nombre(entrante.nombre, candidatos[0].nombre):
        cliente = candidatos[0]
        estado.cliente_id = cliente.id
        estado.nombre = cliente.nombre
        estado.email = cliente.email
        conversacion.cliente_id = cliente.id
        logger.info("cliente_reconocido_por_whatsapp", chat_id=conversacion.chat_id, cliente_id=cliente.id)
    conversacion.estado_json = estado.dump()
    session.flush()


def encolar(
    *,
    session: Session,
    contacto: CanalContacto,
    texto: str,
    conversacion_id: int | None = None,
    mensaje_id: int | None = None,
) -> int:
    """Queue a text for the contact (split at the channels' length limit); rows commit with the caller's work."""
    ahora = utcnow()
    partes = _partir(texto)
    for parte in partes:
        session.add(
            CanalSaliente(
                canal=contacto.canal,
                destino=contacto.externo_id,
                cuenta=contacto.cuenta,
                conversacion_id=conversacion_id,
                mensaje_id=mensaje_id,
                texto=parte,
                estado="pendiente",
                intentos=0,
                proximo_intento=ahora,
                fecha_creacion=ahora,
            )
        )
    session.flush()
    return len(partes)


def _partir(texto: str) -> list[str]:
    partes: list[str] = []
    resto = texto.strip() or "…"
    while len(resto) > MAX_TEXTO_SALIENTE:
        corte = resto.rfind("\n", 0, MAX_TEXTO_SALIENTE)
        corte = corte if corte > MAX_TEXTO_SALIENTE // 2 else MAX_TEXTO_SALIENTE
        partes.append(resto[:corte].rstrip())
        resto = resto[corte:].lstrip()
    partes.append(resto)
    return partes


def en_ventana(contacto: CanalContacto, ahora: datetime | None = None) -> bool:
    """Whether free text may be sent: always on Telegram; on WhatsApp within 24 h of the customer's last message."""
    if contacto.canal != Canal.WHATSAPP.value:
        return True
    if contacto.ultimo_entrante is None:
        return False
    return (ahora or utcnow()) - contacto.ultimo_entrante < VENTANA_WHATSAPP


def procesar(*, session: Session, rag: Rag | None, llm: Generador | None, entrante_id: int) -> bool:
    """Handle one stored delivery exactly once: claimed in the same transaction that answers it and queues the reply.

    A crash before the commit leaves it pending for the next pass; a concurrent worker finds it claimed.
    """
    ahora = utcnow()
    claimed = session.execute(
        update(CanalEntrante)
        .where(CanalEntrante.id == entrante_id, CanalEntrante.estado == "pendiente")
        .values(estado="procesado", fecha_procesado=ahora, intentos=CanalEntrante.intentos + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return False
    entrante = session.get(CanalEntrante, entrante_id, populate_existing=True)
    if entrante is None:  # pragma: no cover - the row was just updated in this transaction
        return False
    contacto = _contacto(session, entrante)
    recibido = min(entrante.fecha_mensaje, ahora)
    if contacto.ultimo_entrante is None or contacto.ultimo_entrante < recibido:
        contacto.ultimo_entrante = recibido
    if entrante.nombre:
        contacto.nombre = entrante.nombre
    if entrante.cuenta:
        contacto.cuenta = entrante.cuenta
    if entrante.tipo not in ("texto", "start") or not entrante.texto:
        encolar(session=session, contacto=contacto, texto=SOLO_TEXTO)
        return True
    conversacion = agente_service.abrir(session=session, chat_id=contacto.chat_id, canal=contacto.canal)
    if conversacion.canal == Canal.WHATSAPP.value and conversacion.mensajes_count == 0:
        _reconocer(session, conversacion, entrante)
    # Telegram's /start opens the chat: the agent greets as it would a "hola".
    texto = "Hola" if entrante.tipo == "start" else entrante.texto
    turno = agente_service.query(
        session=session, rag=rag, chat_id=contacto.chat_id, texto=texto, llm=llm, canal=contacto.canal
    )
    respuesta = turno.respuesta.respuesta
    if respuesta and turno.mensaje_id is not None:
        encolar(
            session=session,
            contacto=contacto,
            texto=respuesta,
            conversacion_id=conversacion.id,
            mensaje_id=turno.mensaje_id,
        )
        mensaje = session.get(Mensaje, turno.mensaje_id)
        if mensaje is not None:
            mensaje.entrega = "pendiente"
    session.flush()
    return True


def fallo_al_procesar(*, session: Session, entrante_id: int, error: str) -> None:
    """Count a failed attempt; after a few the delivery is parked as `error` (logged) instead of retried forever."""
    entrante = session.get(CanalEntrante, entrante_id)
    if entrante is None or entrante.estado != "pendiente":
        return
    entrante.intentos += 1
    entrante.ultimo_error = error[:500]
    if entrante.intentos >= MAX_INTENTOS_ENTRANTE:
        entrante.estado = "error"
    session.flush()


def pendientes_entrantes(*, session: Session, limite: int = 50) -> list[int]:
    """Ids of deliveries waiting to be handled, oldest first."""
    return list(
        session.scalars(
            select(CanalEntrante.id).where(CanalEntrante.estado == "pendiente").order_by(CanalEntrante.id).limit(limite)
        ).all()
    )


def entregar_respuesta_humana(session: Session, conversacion: Conversacion, mensaje: Mensaje) -> str | None:
    """The staff-reply hook: queue it for the customer's WhatsApp or Telegram; outside the 24 h window, hold it."""
    contacto = session.scalar(select(CanalContacto).where(CanalContacto.chat_id == conversacion.chat_id))
    if contacto is None:
        return None
    if not en_ventana(contacto):
        logger.warning("respuesta_fuera_de_ventana", chat_id=conversacion.chat_id, mensaje_id=mensaje.id)
        return "fuera_de_ventana"
    encolar(
        session=session, contacto=contacto, texto=mensaje.texto, conversacion_id=conversacion.id, mensaje_id=mensaje.id
    )
    return "pendiente"


for _canal in (Canal.WHATSAPP, Canal.TELEGRAM):
    supervision.registrar_entrega(_canal.value, entregar_respuesta_humana)


def salientes(
    *,
    session: Session,
    estado: str | None = None,
    canal: str | None = None,
    skip: int = 0,
    limit: int = 100,
) -> tuple[list[CanalSaliente], int]:
    """The outbound queue for staff (newest first): what is pending, sent, failed or held outside the window."""
    filters = []
    if estado is not None:
        filters.append(CanalSaliente.estado == estado)
    if canal is not None:
        filters.append(CanalSaliente.canal == canal)
    total = int(session.scalar(select(func.count()).select_from(CanalSaliente).where(*filters)) or 0)
    rows = session.scalars(
        select(CanalSaliente).where(*filters).order_by(CanalSaliente.id.desc()).offset(skip).limit(limit)
    ).all()
    return list(rows), total


def chat_id_de(*, session: Session, saliente: CanalSaliente) -> str | None:
    """The conversation a queued message belongs to."""
    if saliente.conversacion_id is None:
        contacto = contacto_de(session=session, canal=saliente.canal, externo_id=saliente.destino)
        return contacto.chat_id if contacto is not None else None
    return session.scalar(select(Conversacion.chat_id).where(Conversacion.id == saliente.conversacion_id))
