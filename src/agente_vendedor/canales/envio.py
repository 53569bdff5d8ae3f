"""Delivery of the outbound queue to the Graph API and the Bot API, with retries and backoff, and the worker thread."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from agente_vendedor.agente.models import Conversacion, Mensaje
from agente_vendedor.agente.schemas import Canal
from agente_vendedor.agente.service import Generador
from agente_vendedor.canales import service
from agente_vendedor.canales.config import CanalesConfig
from agente_vendedor.canales.models import CanalSaliente
from agente_vendedor.core.db import utcnow
from agente_vendedor.core.metrics import CANAL_FALLOS, CANAL_MENSAJES
from agente_vendedor.rag.runtime import Rag

logger = structlog.stdlib.get_logger("agente_vendedor.canales.envio")

WHATSAPP_FUERA_DE_VENTANA = {131047}  # "Re-engagement message": more than 24 h since the customer wrote
TRANSITORIOS = {401, 403, 408, 409, 425, 429}  # plus every 5xx: retried (a token fixed later still delivers)


@dataclass(frozen=True)
class Resultado:
    """What the channel's API said about one message."""

    ok: bool
    externo_id: str | None = None
    error: str | None = None
    definitivo: bool = False
    fuera_de_ventana: bool = False
    reintentar_en: float | None = None


def _post_json(url: str, body: dict[str, Any], headers: dict[str, str], timeout: float) -> tuple[int, Any, str]:
    """POST JSON; the status, the parsed body (or None) and the Retry-After header. Network errors raise OSError."""
    data = json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured https URL)
            raw, status, retry = response.read(), response.status, response.headers.get("Retry-After", "")
    except urllib.error.HTTPError as exc:
        raw, status, retry = exc.read(), exc.code, exc.headers.get("Retry-After", "") if exc.headers else ""
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, parsed, retry


def _segundos(valor: Any) -> float | None:
    try:
        segundos = float(valor)
    except (TypeError, ValueError):
        return None
    return segundos if 0 <= segundos <= 86_400 else None


def enviar_whatsapp(config: CanalesConfig, *, destino: str, cuenta: str | None, texto: str) -> Resultado:
    """`POST {WHATSAPP_API_URL}/{phone_number_id}/messages` with a text message."""
    phone_number_id = cuenta or config.WHATSAPP_PHONE_NUMBER_ID
    if not phone_number_id:
        return Resultado(False, error="sin phone_number_id para responder", definitivo=True)
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": destino,
        "type": "text",
        "text": {"preview_url": False, "body": texto},
    }
    url = f"{config.WHATSAPP_API_URL}/{phone_number_id}/messages"
    headers = {"Authorization": f"Bearer {config.WHATSAPP_TOKEN}"}
    status, data, retry = _post_json(url, body, headers, config.CANALES_HTTP_TIMEOUT_SEGUNDOS)
    if 200 <= status < 300:
        mensajes = data.get("messages") if isinstance(data, dict) else None
        wamid = (
            mensajes[0].get("id") if isinstance(mensajes, list) and mensajes and isinstance(mensajes[0], dict) else None
        )
        return Resultado(True, externo_id=str(wamid)[:255] if wamid else None)
    error = data.get("error") if isinstance(data, dict) else None
    codigo = error.get("code") if isinstance(error, dict) else None
    detalle = f"HTTP {status}" + (f" código {codigo}: {error.get('message', '')}" if isinstance(error, dict) else "")
    if codigo in WHATSAPP_FUERA_DE_VENTANA:
        return Resultado(False, error=detalle, definitivo=True, fuera_de_ventana=True)
    return Resultado(
        False, error=detalle, definitivo=not (status >= 500 or status in TRANSITORIOS), reintentar_en=_segundos(retry)
    )


def enviar_telegram(config: CanalesConfig, *, destino: str, texto: str) -> Resultado:
    """`POST {TELEGRAM_API_URL}/bot{token}/sendMessage`."""
    url = f"{config.TELEGRAM_API_URL}/bot{config.TELEGRAM_BOT_TOKEN}/sendMessage"
    status, data, retry = _post_json(url, {"chat_id": destino, "text": texto}, {}, config.CANALES_HTTP_TIMEOUT_SEGUNDOS)
    if 200 <= status < 300 and isinstance(data, dict) and data.get("ok") is True:
        resultado = data.get("result")
        message_id = resultado.get("message_id") if isinstance(resultado, dict) else None
        return Resultado(True, externo_id=str(message_id) if message_id is not None else None)
    descripcion = data.get("description", "") if isinstance(data, dict) else ""
    parametros = data.get("parameters") if isinstance(data, dict) else None
    espera = _segundos(parametros.get("retry_after")) if isinstance(parametros, dict) else None
    return Resultado(
        False,
        error=f"HTTP {status}: {descripcion}"[:500],
        definitivo=not (status >= 500 or status in TRANSITORIOS or 200 <= status < 300),
        reintentar_en=espera or _segundos(retry),
    )


def set_webhook(config: CanalesConfig, url: str) -> tuple[bool, str]:
    """Tell Telegram where to deliver updates, with our secret token; (ok, what Telegram said)."""
    status, data, _ = _post_json(
        f"{config.TELEGRAM_API_URL}/bot{config.TELEGRAM_BOT_TOKEN}/setWebhook",
        {"url": url, "secret_token": config.TELEGRAM_WEBHOOK_SECRET, "allowed_updates": ["message"]},
        {},
        config.CANALES_HTTP_TIMEOUT_SEGUNDOS,
    )
    ok = 200 <= status < 300 and isinstance(data, dict) and data.get("ok") is True
    descripcion = str(data.get("description", "")) if isinstance(data, dict) else f"HTTP {status}"
    return ok, descripcion


def backoff(config: CanalesConfig, intentos: int) -> float:
    """Seconds before the next attempt: doubling from CANALES_REINTENTO_SEGUNDOS, capped."""
    return float(
        min(config.CANALES_REINTENTO_SEGUNDOS * (2 ** max(intentos - 1, 0)), config.CANALES_REINTENTO_MAX_SEGUNDOS)
    )


def _enviar(config: CanalesConfig, saliente: CanalSaliente) -> Resultado:
    try:
        if saliente.canal == Canal.WHATSAPP.value:
            if not config.whatsapp_enabled:
                return Resultado(False, error="WhatsApp no está configurado")
            return enviar_whatsapp(config, destino=saliente.destino, cuenta=saliente.cuenta, texto=saliente.texto)
        if saliente.canal == Canal.TELEGRAM.value:
            if not config.telegram_enabled:
                return Resultado(False, error="Telegram no está configurado")
            return enviar_telegram(config, destino=saliente.destino, texto=saliente.texto)
        return Resultado(False, error=f"canal desconocido {saliente.canal!r}", definitivo=True)
    except OSError as exc:  # connection refused, reset, timeout, DNS: the API is away, try again later
        return Resultado(False, error=f"{type(exc).__name__}: {exc}"[:500])


def _marcar(session: Session, saliente: CanalSaliente, estado: str) -> None:
    saliente.estado = estado
    if saliente.mensaje_id is not None:
        mensaje = session.get(Mensaje, saliente.mensaje_id)
        if mensaje is not None:
            mensaje.entrega = estado
    if estado in ("fallido", "fuera_de_ventana") and saliente.conversacion_id is not None:
        # Surface it: the chat shows up as needing a person in the staff list.
        conversacion = session.get(Conversacion, saliente.conversacion_id)
        if conversacion is not None and conversacion.ia_activa:
            conversacion.requiere_humano = True
            conversacion.estado = "requiere_humano"


def _lease(config: CanalesConfig) -> timedelta:
    return timedelta(seconds=max(60.0, 3 * config.CANALES_HTTP_TIMEOUT_SEGUNDOS))


def enviar_pendientes(
    *, session_factory: sessionmaker[Session], config: CanalesConfig, ahora: datetime | None = None, limite: int = 50
) -> int:
    """Send what is due, oldest first and one at a time per recipient (order kept); the number of rows handled."""
    ahora = ahora or utcnow()
    with session_factory() as session:
        ids = list(
            session.scalars(
                select(CanalSaliente.id)
                .where(*_cabeza_de_cola(), CanalSaliente.proximo_intento <= ahora)
                .order_by(CanalSaliente.id)
                .limit(limite)
            ).all()
        )
    hechos = 0
    for saliente_id in ids:
        if _enviar_uno(session_factory, config, saliente_id, ahora):
            hechos += 1
    return hechos


def _cabeza_de_cola() -> list[ColumnElement[bool]]:
    """Pending rows with no older pending row for the same recipient: only these may be sent now."""
    anterior = aliased(CanalSaliente)
    return [
        CanalSaliente.estado == "pendiente",
        ~exists().where(
            anterior.canal == CanalSaliente.canal,
            anterior.destino == CanalSaliente.destino,
            anterior.estado == "pendiente",
            anterior.id < CanalSaliente.id,
        ),
    ]


def _enviar_uno(
    session_factory: sessionmaker[Session], config: CanalesConfig, saliente_id: int, ahora: datetime
) -> bool:
    # Claim with a lease, committed before the HTTP call, so no database lock is held while the API answers.
    with session_factory.begin() as session:
        claimed = session.execute(
            update(CanalSaliente)
            .where(
                CanalSaliente.id == saliente_id,
                CanalSaliente.estado == "pendiente",
                CanalSaliente.proximo_intento <= ahora,
            )
            .values(proximo_intento=ahora + _lease(config), intentos=CanalSaliente.intentos + 1)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return False
        saliente = session.get(CanalSaliente, saliente_id, populate_existing=True)
        assert saliente is not None
        contacto = service.contacto_de(session=session, canal=saliente.canal, externo_id=saliente.destino)
        if contacto is not None and not service.en_ventana(contacto, utcnow()):
            _marcar(session, saliente, "fuera_de_ventana")
            saliente.ultimo_error = "fuera de la ventana de 24 horas de WhatsApp: no se envía texto libre"
            CANAL_FALLOS.labels(saliente.canal, "fuera_de_ventana").inc()
            return True
        session.expunge(saliente)
    resultado = _enviar(config, saliente)
    with session_factory.begin() as session:
        fila = session.get(CanalSaliente, saliente_id)
        assert fila is not None
        if resultado.ok:
            _marcar(session, fila, "enviado")
            fila.fecha_envio = utcnow()
            fila.externo_id = resultado.externo_id
            fila.ultimo_error = None
            CANAL_MENSAJES.labels(fila.canal, "saliente").inc()
            return True
        fila.ultimo_error = (resultado.error or "error desconocido")[:500]
        if resultado.fuera_de_ventana:
            _marcar(session, fila, "fuera_de_ventana")
            CANAL_FALLOS.labels(fila.canal, "fuera_de_ventana").inc()
        elif resultado.definitivo or fila.intentos >= config.CANALES_MAX_INTENTOS:
            _marcar(session, fila, "fallido")
            CANAL_FALLOS.labels(fila.canal, "definitivo").inc()
            logger.error("envio_fallido", canal=fila.canal, saliente_id=fila.id, error=fila.ultimo_error)
        else:
            espera = max(backoff(config, fila.intentos), resultado.reintentar_en or 0.0)
            fila.proximo_intento = utcnow() + timedelta(seconds=espera)
            CANAL_FALLOS.labels(fila.canal, "reintento").inc()
            logger.warning(
                "envio_reintento", canal=fila.canal, saliente_id=fila.id, espera=espera, error=fila.ultimo_error
            )
    return True


def procesar_pendientes(
    *, session_factory: sessionmaker[Session], rag: Rag | None, llm: Generador | None, limite: int = 50
) -> int:
    """Answer the stored deliveries not yet handled; the number handled."""
    with session_factory() as session:
        ids = service.pendientes_entrantes(session=session, limite=limite)
    hechos = 0
    for entrante_id in ids:
        try:
            with session_factory.begin() as session:
                if service.procesar(session=session, rag=rag, llm=llm, entrante_id=entrante_id):
                    hechos += 1
        except Exception as exc:
            logger.exception("entrante_no_procesado", entrante_id=entrante_id)
            with session_factory.begin() as session:
                service.fallo_al_procesar(
                    session=session, entrante_id=entrante_id, error=f"{type(exc).__name__}: {exc}"
                )
    return hechos


def proximo(*, session_factory: sessionmaker[Session]) -> datetime | None:
    """When the next queued message is due, if any."""
    with session_factory() as session:
        # Rows waiting behind an older one do not count: they go when it goes (no busy loop during an outage).
        return session.scalar(
            select(CanalSaliente.proximo_intento)
            .where(*_cabeza_de_cola())
            .order_by(CanalSaliente.proximo_intento)
            .limit(1)
        )


class Trabajador:
    """A background thread that answers inbound deliveries and drains the outbound queue.

    Woken at once after each webhook; otherwise it looks every CANALES_INTERVALO_SEGUNDOS (other processes'
    work, retries that come due). Several processes may run one each: every row is claimed in the database.
    """

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        config: CanalesConfig,
        rag: Rag | None,
        llm: Generador | None,
    ) -> None:
        self.session_factory = session_factory
        self.config = config
        self.rag = rag
        self.llm = llm
        self._despertar = threading.Event()
        self._parar = threading.Event()
        self._hilo: threading.Thread | None = None

    def despertar(self) -> None:
        """Ask for a pass now (after a webhook stored something or a staff reply was queued)."""
        self._despertar.set()

    def pasada(self) -> int:
        """One pass: inbound first (it queues replies), then whatever is due outbound."""
        hechos = procesar_pendientes(session_factory=self.session_factory, rag=self.rag, llm=self.llm)
        hechos += enviar_pendientes(session_factory=self.session_factory, config=self.config)
        return hechos

    def _espera(self) -> float:
        intervalo = self.config.CANALES_INTERVALO_SEGUNDOS
        siguiente = proximo(session_factory=self.session_factory)
        if siguiente is None:
            return intervalo
        return min(intervalo, max((siguiente - utcnow()).total_seconds(), 0.01))

    def _bucle(self) -> None:
        while not self._parar.is_set():
            self._despertar.clear()
            try:
                hechos = self.pasada()
                espera = 0.0 if hechos else self._espera()
            except Exception:
                logger.exception("trabajador_canales")
                espera = self.config.CANALES_INTERVALO_SEGUNDOS
            if espera:
                self._despertar.wait(espera)

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if self._hilo is not None and self._hilo.is_alive():
            return
        self._parar.clear()
        self._hilo = threading.Thread(target=self._bucle, name="canales", daemon=True)
        self._hilo.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop after the current pass; what is left stays queued in the database for the next start."""
        self._parar.set()
        self._despertar.set()
        if self._hilo is not None:
            self._hilo.join(timeout)
            self._hilo = None
