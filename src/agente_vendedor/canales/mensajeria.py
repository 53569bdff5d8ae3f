"""WhatsApp Cloud API and Telegram Bot API webhooks: authenticity checks and lenient parsing of what they deliver.

Payloads come from outside: anything of the wrong type or shape is skipped, never trusted, never a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Any

from agente_vendedor.agente.schemas import Canal
from agente_vendedor.canales.service import Entrante, limpiar
from agente_vendedor.core.db import utcnow

_CLAVE = re.compile(r"^[A-Za-z0-9_.:=+/-]{1,255}$")
_NUMERO = re.compile(r"^\d{5,20}$")
_CUENTA = re.compile(r"^\d{1,64}$")
MAX_TELEGRAM_ID = 2**63


def firma_valida(*, secreto: str, cuerpo: bytes, cabecera: str | None) -> bool:
    """`X-Hub-Signature-256` is `sha256=` + hex HMAC-SHA256 of the raw body with the app secret (constant time)."""
    if not cabecera:
        return False
    esperada = "sha256=" + hmac.new(secreto.encode(), cuerpo, hashlib.sha256).hexdigest()
    return hmac.compare_digest(esperada.encode(), cabecera.strip().encode("latin-1", "replace"))


def secreto_valido(*, esperado: str, recibido: str | None) -> bool:
    """Compare a shared secret header in constant time."""
    if not recibido:
        return False
    return hmac.compare_digest(esperado.encode(), recibido.encode("latin-1", "replace"))


def _dicts(valor: Any) -> list[dict[str, Any]]:
    return [v for v in valor if isinstance(v, dict)] if isinstance(valor, list) else []


def _texto(valor: Any, limite: int = 100) -> str | None:
    if not isinstance(valor, str):
        return None
    limpio = limpiar(valor, limite)
    return limpio or None


def _fecha(valor: Any) -> datetime:
    """A Unix timestamp (int or digit string) within sane bounds; otherwise the time of receipt."""
    if isinstance(valor, str) and valor.isdigit() and len(valor) <= 12:
        valor = int(valor)
    if isinstance(valor, int) and not isinstance(valor, bool) and 0 < valor < 32_503_680_000:
        return datetime.fromtimestamp(valor, UTC)
    return utcnow()


def whatsapp(datos: Any, *, cuenta: str | None = None) -> list[Entrante]:
    """The customer messages in `entry[].changes[].value.messages[]` (statuses ignored); only for `cuenta` if set."""
    entrantes: list[Entrante] = []
    if not isinstance(datos, dict):
        return entrantes
    for entry in _dicts(datos.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            metadata = value.get("metadata")
            phone_number_id = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            phone_number_id = str(phone_number_id) if isinstance(phone_number_id, str | int) else None
            if phone_number_id is not None and not _CUENTA.match(phone_number_id):
                phone_number_id = None
            if cuenta and phone_number_id != cuenta:
                continue
            nombres: dict[str, str] = {}
            for contacto in _dicts(value.get("contacts")):
                perfil = contacto.get("profile")
                nombre = _texto(perfil.get("name")) if isinstance(perfil, dict) else None
                wa_id = contacto.get("wa_id")
                if isinstance(wa_id, str) and nombre:
                    nombres[wa_id] = nombre
            for mensaje in _dicts(value.get("messages")):
                wamid, remitente, tipo = mensaje.get("id"), mensaje.get("from"), mensaje.get("type")
                if not (isinstance(wamid, str) and _CLAVE.match(wamid)):
                    continue
                if not (isinstance(remitente, str) and _NUMERO.match(remitente)):
                    continue
                tipo = tipo if isinstance(tipo, str) and tipo.isalnum() else "desconocido"
                cuerpo = mensaje.get("text")
                texto = _texto(cuerpo.get("body"), 2000) if tipo == "text" and isinstance(cuerpo, dict) else None
                entrantes.append(
                    Entrante(
                        canal=Canal.WHATSAPP.value,
                        clave=wamid,
                        externo_id=remitente,
                        tipo="texto" if texto else tipo[:30],
                        texto=texto,
                        fecha_mensaje=_fecha(mensaje.get("timestamp")),
                        cuenta=phone_number_id,
                        nombre=nombres.get(remitente),
                    )
                )
    return entrantes


def telegram(datos: Any) -> list[Entrante]:
    """A private chat's `message` in a Telegram update: text, `/start`, or something we cannot read."""
    if not isinstance(datos, dict):
        return []
    update_id, mensaje = datos.get("update_id"), datos.get("message")
    if not (isinstance(update_id, int) and not isinstance(update_id, bool) and 0 <= update_id < MAX_TELEGRAM_ID):
        return []
    if not isinstance(mensaje, dict):
        return []
    chat = mensaje.get("chat")
    if not isinstance(chat, dict) or chat.get("type") != "private":
        return []  # groups and channels are not customer conversations
    chat_id = chat.get("id")
    if not (isinstance(chat_id, int) and not isinstance(chat_id, bool) and abs(chat_id) < MAX_TELEGRAM_ID):
        return []
    remitente = mensaje.get("from")
    nombre = None
    if isinstance(remitente, dict):
        partes = [p for p in (_texto(remitente.get("first_name")), _texto(remitente.get("last_name"))) if p]
        nombre = " ".join(partes)[:100] or None
    texto = _texto(mensaje.get("text"), 2000)
    if texto is not None and (texto == "/start" or texto.startswith("/start ")):
        tipo = "start"
    elif texto is not None:
        tipo = "texto"
    else:
        tipo = next(
            (k for k in ("photo", "voice", "audio", "document", "sticker", "video", "location") if k in mensaje), "otro"
        )
    return [
        Entrante(
            canal=Canal.TELEGRAM.value,
            clave=str(update_id),
            externo_id=str(chat_id),
            tipo=tipo,
            texto=texto,
            fecha_mensaje=_fecha(mensaje.get("date")),
            nombre=nombre,
        )
    ]
