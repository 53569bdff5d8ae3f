"""Streaming export of the chats' messages (CSV or JSON), read in keyset pages so memory stays flat.

The shared export machinery lives on another branch (`exportar`); until it is merged this small exporter
serves `GET /exportar/conversaciones`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agente_vendedor.agente.models import Conversacion, Mensaje

Formato = Literal["csv", "json"]
COLUMNAS = ["chat_id", "estado", "cliente_id", "mensaje_id", "fecha", "rol", "autor", "intencion", "generador", "texto"]
PAGINA = 1000


def _celda(value: Any) -> Any:
    """Neutralise spreadsheet formulas in text cells (`=`, `+`, `-`, `@` at the start)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _filas(
    factory: sessionmaker[Session], fecha_desde: datetime | None, fecha_hasta: datetime | None, limite: int
) -> Iterator[dict[str, Any]]:
    ultimo, enviados = 0, 0
    while enviados < limite:
        with factory() as session:
            query = (
                select(Mensaje, Conversacion)
                .join(Conversacion, Conversacion.id == Mensaje.conversacion_id)
                .where(Mensaje.id > ultimo)
                .order_by(Mensaje.id)
                .limit(min(PAGINA, limite - enviados))
            )
            if fecha_desde is not None:
                query = query.where(Mensaje.fecha >= fecha_desde)
            if fecha_hasta is not None:
                query = query.where(Mensaje.fecha <= fecha_hasta)
            rows = session.execute(query).all()
        if not rows:
            return
        for mensaje, conversacion in rows:
            yield {
                "chat_id": conversacion.chat_id,
                "estado": conversacion.estado,
                "cliente_id": conversacion.cliente_id,
                "mensaje_id": mensaje.id,
                "fecha": mensaje.fecha.isoformat(),
                "rol": mensaje.rol,
                "autor": mensaje.autor,
                "intencion": mensaje.intencion,
                "generador": mensaje.generador,
                "texto": mensaje.texto,
            }
        enviados += len(rows)
        ultimo = rows[-1][0].id


def stream(
    *,
    factory: sessionmaker[Session],
    formato: Formato,
    fecha_desde: datetime | None = None,
    fecha_hasta: datetime | None = None,
    limite: int = 50_000,
) -> Iterator[bytes]:
    """The messages of every chat in order, as CSV (UTF-8 with BOM, for spreadsheets) or a JSON array."""
    filas = _filas(factory, fecha_desde, fecha_hasta, limite)
    if formato == "json":
        yield b"["
        for n, fila in enumerate(filas):
            yield (b"," if n else b"") + json.dumps(fila, ensure_ascii=False).encode()
        yield b"]"
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNAS)
    buffer.write("\ufeff")
    writer.writeheader()
    for n, fila in enumerate(filas, start=1):
        writer.writerow({k: _celda(v) for k, v in fila.items()})
        if n % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
