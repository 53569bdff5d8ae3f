"""The shop's own facts (opening hours, address, shipping, returns, payment) from the file the owner edits.

`TIENDA_INFO` points to a YAML or JSON document such as `docs/tienda.example.yaml`. The agent answers shop questions
only from it; a topic the file does not cover is never guessed: the chat is flagged for a person instead.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger("agente_vendedor.agente")

TEMAS = ("horario", "direccion", "telefono", "envios", "devoluciones", "formas_pago")
TITULOS = {
    "horario": "Horario",
    "direccion": "Dirección",
    "telefono": "Teléfono",
    "envios": "Envíos",
    "devoluciones": "Devoluciones",
    "formas_pago": "Formas de pago",
}


@dataclass(frozen=True)
class InfoTienda:
    """What the owner wrote about the shop, topic by topic."""

    nombre: str | None
    temas: dict[str, str]

    def responder(self, tema: str) -> str | None:
        """The owner's text for a topic, or None when the file does not cover it."""
        return self.temas.get(tema)


_cache: dict[Path, tuple[float, InfoTienda | None]] = {}


def _texto(valor: Any) -> str | None:
    if valor is None:
        return None
    if isinstance(valor, list):
        return "; ".join(str(v) for v in valor if v is not None) or None
    if isinstance(valor, dict):
        return "; ".join(f"{k}: {v}" for k, v in valor.items()) or None
    return str(valor).strip() or None


def cargar(path: Path | None) -> InfoTienda | None:
    """The shop information at `path` (re-read when the file changes); None when unset, missing or unreadable."""
    if path is None:
        return None
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    cached = _cache.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    info: InfoTienda | None
    try:
        raw = path.read_text(encoding="utf-8")
        data = json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
        if not isinstance(data, dict):
            raise ValueError("el documento debe ser un objeto con un texto por tema")
        temas = {tema: texto for tema in TEMAS if (texto := _texto(data.get(tema))) is not None}
        info = InfoTienda(nombre=_texto(data.get("nombre")), temas=temas)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        logger.error("No se pudo leer TIENDA_INFO %s: %s", path, exc)
        info = None
    _cache[path] = (mtime, info)
    return info
