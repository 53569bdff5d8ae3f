"""Files and history of an export: a temporary file, fsynced and renamed when complete, and one `exportaciones` row.

Each export is written to a temporary file next to its destination (in `EXPORT_DIRECTORY` for the API), fsynced
and renamed when complete, and recorded in `exportaciones` with its outcome, whether it succeeded, failed or was
interrupted by a client that went away.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine, insert

from agente_vendedor.core.db import utcnow
from agente_vendedor.core.params import MAX_DB_INT
from agente_vendedor.core.progress import ProgressCallback
from agente_vendedor.exportar import formatos
from agente_vendedor.exportar.entidades import Consulta
from agente_vendedor.exportar.models import Exportacion
from agente_vendedor.exportar.schemas import Entidad, Formato

logger = logging.getLogger("agente_vendedor.exportar")

INTERRUMPIDA = "Descarga interrumpida: el cliente cerró la conexión antes de terminar"


@dataclass
class Resultado:
    """How an export ended."""

    archivo: Path
    filas: int = 0
    bytes: int = 0
    duracion_ms: int = 0
    error: str | None = None


def file_names(*, entidad: Entidad, formato: Formato, when: datetime | None = None) -> tuple[str, str]:
    """The download name (`clientes_2026-11-26T10-00-00.csv`) and a unique stored name for EXPORT_DIRECTORY."""
    stamp = (when or utcnow()).strftime("%Y-%m-%dT%H-%M-%S")
    extension = formatos.EXTENSIONES[formato]
    return f"{entidad}_{stamp}.{extension}", f"{entidad}_{stamp}_{uuid.uuid4().hex[:8]}.{extension}"


class _Exportando:
    """Bookkeeping of one export: temp file, atomic rename on success, history row whatever happens."""

    def __init__(self, *, engine: Engine, consulta: Consulta, destino: Path, usuario: str) -> None:
        self.engine = engine
        self.consulta = consulta
        self.destino = destino
        self.usuario = usuario
        self.temporal = destino.with_name(f".{destino.name}.{uuid.uuid4().hex[:8]}.part")
        self.fecha = utcnow()
        self.inicio = time.perf_counter()
        self.resultado = Resultado(archivo=destino)

    def open(self) -> BinaryIO:
        """Create the folder and the temp file next to the final one (same filesystem: rename is atomic)."""
        self.destino.parent.mkdir(parents=True, exist_ok=True)
        return open(self.temporal, "wb")

    def commit(self) -> None:
        """Make the complete file durable, then give it its final name."""
        with open(self.temporal, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(self.temporal, self.destino)
        folder = os.open(self.destino.parent, os.O_RDONLY)
        try:
            os.fsync(folder)  # the rename itself survives a crash
        finally:
            os.close(folder)
        self.resultado.bytes = self.destino.stat().st_size

    def finish(self, error: str | None) -> Resultado:
        """Drop the temp file of a failed export and record the outcome in its own transaction."""
        resultado = self.resultado
        resultado.error = error
        resultado.duracion_ms = int((time.perf_counter() - self.inicio) * 1000)
        if error is not None:
            self.temporal.unlink(missing_ok=True)
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(Exportacion).values(
                        usuario=self.usuario[:100],
                        fecha=self.fecha,
                        entidad=self.consulta.entidad,
                        formato=self.consulta.formato,
                        filtros_json=json.dumps(self.consulta.filtros_dict(), ensure_ascii=False),
                        filas=resultado.filas,
                        bytes=resultado.bytes,
                        duracion_ms=min(resultado.duracion_ms, MAX_DB_INT),
                        estado="ok" if error is None else "error",
                        mensaje=error,
                        archivo=self.destino.name if error is None else None,
                    )
                )
        except Exception:  # the export's own outcome matters more than its history row
            logger.exception("No se pudo registrar la exportación %s", self.destino.name)
        return resultado


def _failure(exc: BaseException) -> str:
    logger.error("Exportación fallida: %r", exc, exc_info=exc)
    return f"Error durante la exportación ({type(exc).__name__})"


class Flujo:
    """A CSV/JSON/NDJSON export as an iterable of bytes that also writes `destino` (atomically, on success).

    Iterate it once; `resultado` holds the outcome afterwards. Closing the iterator early (a client that
    disconnects) removes the temp file and records the export as interrupted.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        consulta: Consulta,
        destino: Path,
        usuario: str,
        on_rows: ProgressCallback | None = None,
    ) -> None:
        self._tarea = _Exportando(engine=engine, consulta=consulta, destino=destino, usuario=usuario)
        self._contador = formatos.Contador(on_rows=on_rows)

    @property
    def resultado(self) -> Resultado:
        """Rows, bytes, duration and error of the export (final once iteration ended)."""
        return self._tarea.resultado

    def __iter__(self) -> Iterator[bytes]:
        tarea, contador = self._tarea, self._contador
        error: str | None = INTERRUMPIDA
        try:
            with tarea.open() as handle, closing(formatos.encoded(tarea.engine, tarea.consulta, contador)) as chunks:
                for chunk in chunks:
                    handle.write(chunk)
                    tarea.resultado.bytes += len(chunk)
                    yield chunk
            tarea.commit()
            error = None
        except GeneratorExit:
            raise
        except Exception as exc:
            error = _failure(exc)
            raise
        finally:
            tarea.resultado.filas = contador.filas
            tarea.finish(error)


def write_excel(
    *, engine: Engine, consulta: Consulta, destino: Path, usuario: str, on_rows: ProgressCallback | None = None
) -> Resultado:
    """Write an .xlsx to `destino` (atomically) and record it; an .xlsx is only valid once complete."""
    tarea = _Exportando(engine=engine, consulta=consulta, destino=destino, usuario=usuario)
    contador = formatos.Contador(on_rows=on_rows)
    error: str | None = "La exportación no terminó"
    try:
        tarea.destino.parent.mkdir(parents=True, exist_ok=True)
        formatos.write_xlsx(engine, consulta, tarea.temporal, contador)
        tarea.commit()
        error = None
    except Exception as exc:
        error = _failure(exc)
        raise
    finally:
        tarea.resultado.filas = contador.filas
        resultado = tarea.finish(error)
    return resultado


def write_file(
    *, engine: Engine, consulta: Consulta, destino: Path, usuario: str, on_rows: ProgressCallback | None = None
) -> Resultado:
    """Write any export format to `destino` (the CLI's path): nothing is held in memory."""
    if consulta.formato == "excel":
        return write_excel(engine=engine, consulta=consulta, destino=destino, usuario=usuario, on_rows=on_rows)
    flujo = Flujo(engine=engine, consulta=consulta, destino=destino, usuario=usuario, on_rows=on_rows)
    for _chunk in flujo:
        pass
    return flujo.resultado
