"""CSV Exporter: one export from filters to a finished file, for the API, the panel and the CLI alike; the history.

`start` plans and counts an export and refuses it above the limit before anything is written; the export it
returns is then streamed (CSV, JSON, NDJSON over HTTP) or written to its file (any format). The pieces:
`entidades` (what can be exported and its query plan), `formatos` (row formats) and `archivos` (files, history).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from agente_vendedor.core.progress import ProgressCallback
from agente_vendedor.exportar import archivos, entidades
from agente_vendedor.exportar.exceptions import DemasiadosRegistros
from agente_vendedor.exportar.formatos import EXCEL_MAX_ROWS
from agente_vendedor.exportar.models import Exportacion
from agente_vendedor.exportar.schemas import Entidad, Filtros, Formato


def check_limit(*, total: int, maximo: int, formato: Formato) -> None:
    """Refuse exports above MAX_EXPORT_RECORDS (and above what one Excel sheet holds)."""
    limite = min(maximo, EXCEL_MAX_ROWS) if formato == "excel" else maximo
    if total > limite:
        raise DemasiadosRegistros(encontrados=total, maximo=limite, formato=formato)


@dataclass(frozen=True)
class EnCurso:
    """An export that passed its checks and has not been written yet: stream it or write it, once."""

    engine: Engine
    consulta: entidades.Consulta
    destino: Path
    usuario: str
    total: int

    @property
    def formato(self) -> Formato:
        """The output format."""
        return self.consulta.formato

    def stream(self) -> archivos.Flujo:
        """The bytes of a CSV/JSON/NDJSON export, written to `destino` as they are produced."""
        return archivos.Flujo(engine=self.engine, consulta=self.consulta, destino=self.destino, usuario=self.usuario)

    def write(self, on_rows: ProgressCallback | None = None) -> archivos.Resultado:
        """Write the whole export (any format) to `destino`, reporting rows as they are written."""
        return archivos.write_file(
            engine=self.engine, consulta=self.consulta, destino=self.destino, usuario=self.usuario, on_rows=on_rows
        )


def start(
    *,
    session: Session,
    engine: Engine,
    entidad: Entidad,
    filtros: Filtros,
    usuario: str,
    destino: Path,
    maximo: int,
) -> EnCurso:
    """Plan and count an export, and refuse it above `maximo`, before anything is written.

    The count's read transaction is rolled back before the long part, also when the export is refused:
    the rows are read on connections of their own, and SQLite writers would wait on a transaction left open.
    """
    try:
        consulta = entidades.build(entidad=entidad, filtros=filtros)
        total = entidades.count(session=session, consulta=consulta)
        check_limit(total=total, maximo=maximo, formato=filtros.formato)
    finally:
        session.rollback()
    return EnCurso(engine=engine, consulta=consulta, destino=destino, usuario=usuario, total=total)


def history(*, session: Session, skip: int = 0, limit: int = 100) -> tuple[Sequence[Exportacion], int]:
    """Past exports, newest first, and their total."""
    total = session.scalar(select(func.count()).select_from(Exportacion)) or 0
    rows = session.scalars(
        select(Exportacion).order_by(Exportacion.fecha.desc(), Exportacion.id.desc()).offset(skip).limit(limit)
    ).all()
    return rows, total
