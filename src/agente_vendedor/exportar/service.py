"""CSV Exporter: filtered rows streamed from the database into CSV, JSON/NDJSON or XLSX files.

Rows never become ORM objects: a Core `select()` formats every cell in SQL (dates, money, booleans and
formula-injection neutralisation) and is read in batches through a server-side cursor. Plain CSV is
written by the database side itself when it can: `COPY ... TO STDOUT` on PostgreSQL, the `sqlite3` tool
on SQLite (with `csv.writer` as the portable fallback). Each export is written to a temporary file in
`EXPORT_DIRECTORY`, fsynced and renamed when complete, and recorded in `exportaciones` with its outcome.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Literal

import xlsxwriter
from sqlalchemy import Engine, Numeric, Select, case, func, insert, literal_column, select, type_coerce
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from agente_vendedor.agente.models import Conversacion, Mensaje
from agente_vendedor.clientes.models import Cliente
from agente_vendedor.core.db import utcnow, within
from agente_vendedor.exportar.exceptions import DemasiadosRegistros
from agente_vendedor.exportar.models import Exportacion
from agente_vendedor.exportar.schemas import (
    Entidad,
    Filtros,
    FiltrosClientes,
    FiltrosConversaciones,
    FiltrosProductos,
    FiltrosVentas,
    Formato,
)
from agente_vendedor.exportar.sql import iso_utc, money_text, neutralize
from agente_vendedor.productos.models import Producto
from agente_vendedor.ventas.models import Venta

logger = logging.getLogger("agente_vendedor.exportar")

BATCH_ROWS = 5000
CHUNK_BYTES = 256 * 1024
EXCEL_MAX_ROWS = 1_048_575  # one sheet holds 1,048,576 rows, the header included

EXTENSIONES: dict[str, str] = {"csv": "csv", "json": "json", "ndjson": "ndjson", "excel": "xlsx"}
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "excel": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Tipo = Literal["entero", "texto", "dinero", "fecha", "booleano", "lineas"]
Progreso = Callable[[int], None]


@dataclass(frozen=True)
class Columna:
    """One exported column: its header, its kind and the SQL expression it reads."""

    nombre: str
    tipo: Tipo
    expr: ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True)
class Consulta:
    """What to export: entity, columns, source, filters and the format options."""

    entidad: Entidad
    columnas: tuple[Columna, ...]
    tabla: FromClause
    origen: FromClause
    condiciones: tuple[ColumnElement[bool], ...]
    orden: ColumnElement[Any] | QueryableAttribute[Any]
    filtros: Filtros

    @property
    def formato(self) -> Formato:
        """The requested output format."""
        return self.filtros.formato

    def filtros_dict(self) -> dict[str, Any]:
        """Filters and options (without the format) as JSON-ready values, for the history."""
        options = {"formato"} if self.formato == "csv" else {"formato", "separador", "bom"}
        return self.filtros.model_dump(mode="json", exclude_none=True, exclude=options)


@dataclass
class Resultado:
    """How an export ended."""

    archivo: Path
    filas: int = 0
    bytes: int = 0
    duracion_ms: int = 0
    error: str | None = None


@dataclass
class _Contador:
    """Exact rows written, plus progress reports (estimated while a native CSV writer runs)."""

    filas: int = 0
    avisadas: int = 0
    on_rows: Progreso | None = field(default=None, repr=False)

    def add(self, n: int) -> None:
        """`n` more rows were written."""
        self.filas += n
        self._report(self.filas)

    def estimate(self, chunk: bytes | bytearray) -> None:
        """Progress from raw CSV bytes: one row per line break (a field may hold more; `add` settles it)."""
        if self.on_rows is not None:
            self._report(self.avisadas + chunk.count(b"\n"))

    def _report(self, upto: int) -> None:
        if self.on_rows is not None and upto > self.avisadas:
            self.on_rows(upto - self.avisadas)
            self.avisadas = upto


def build(*, entidad: Entidad, filtros: Filtros) -> Consulta:
    """The query plan of one export: columns in a stable order, filters, oldest id first."""
    if entidad == "clientes":
        assert isinstance(filtros, FiltrosClientes)
        c = Cliente
        conds: list[ColumnElement[bool]] = within(c.fecha_registro, filtros.fecha_desde, filtros.fecha_hasta)
        if filtros.activo is not None:
            conds.append(c.activo == filtros.activo)
        columnas: tuple[Columna, ...] = (
            Columna("id", "entero", c.id),
            Columna("nombre", "texto", c.nombre),
            Columna("email", "texto", c.email),
            Columna("telefono", "texto", c.telefono),
            Columna("direccion", "texto", c.direccion),
            Columna("fecha_registro", "fecha", c.fecha_registro),
            Columna("activo", "booleano", c.activo),
            Columna("fecha_ultima_compra", "fecha", c.fecha_ultima_compra),
        )
        return Consulta(entidad, columnas, Cliente.__table__, Cliente.__table__, tuple(conds), c.id, filtros)
    if entidad == "productos":
        assert isinstance(filtros, FiltrosProductos)
        p = Producto
        conds = []
        if filtros.categoria is not None:
            conds.append(p.categoria == filtros.categoria)
        if filtros.activo is not None:
            conds.append(p.activo == filtros.activo)
        columnas = (
            Columna("id", "entero", p.id),
            Columna("sku", "texto", p.sku),
            Columna("nombre", "texto", p.nombre),
            Columna("descripcion", "texto", p.descripcion),
            Columna("categoria", "texto", p.categoria),
            Columna("precio", "dinero", p.precio),
            Columna("stock", "entero", p.stock),
            Columna("activo", "booleano", p.activo),
            Columna("fecha_creacion", "fecha", p.fecha_creacion),
            Columna("fecha_actualizacion", "fecha", p.fecha_actualizacion),
        )
        return Consulta(entidad, columnas, Producto.__table__, Producto.__table__, tuple(conds), p.id, filtros)
    if entidad == "conversaciones":
        return _conversaciones(filtros)
    assert isinstance(filtros, FiltrosVentas)
    v = Venta
    conds = within(v.fecha_venta, filtros.fecha_desde, filtros.fecha_hasta)
    if filtros.estado is not None:
        conds.append(v.estado == filtros.estado)
    if filtros.cliente_id is not None:
        conds.append(v.cliente_id == filtros.cliente_id)
    columnas = (
        Columna("id", "entero", v.id),
        Columna("fecha_venta", "fecha", v.fecha_venta),
        Columna("cliente_id", "entero", v.cliente_id),
        Columna("cliente_nombre", "texto", Cliente.nombre),
        Columna("cliente_email", "texto", Cliente.email),
        Columna("estado", "texto", v.estado),
        Columna("total", "dinero", v.total),
        Columna("productos", "lineas", v.productos_json),
    )
    origen = Venta.__table__.outerjoin(Cliente.__table__, Venta.cliente_id == Cliente.id)
    return Consulta(entidad, columnas, Venta.__table__, origen, tuple(conds), v.id, filtros)


def _conversaciones(filtros: Filtros) -> Consulta:
    """The agent's chats, one row per message with its chat; the dates apply to the message."""
    assert isinstance(filtros, FiltrosConversaciones)
    m, c = Mensaje, Conversacion
    conds: list[ColumnElement[bool]] = within(m.fecha, filtros.fecha_desde, filtros.fecha_hasta)
    if filtros.chat_id is not None:
        conds.append(c.chat_id == filtros.chat_id)
    if filtros.cliente_id is not None:
        conds.append(c.cliente_id == filtros.cliente_id)
    columnas = (
        Columna("mensaje_id", "entero", m.id),
        Columna("chat_id", "texto", c.chat_id),
        Columna("cliente_id", "entero", c.cliente_id),
        Columna("estado_chat", "texto", c.estado),
        Columna("fecha", "fecha", m.fecha),
        Columna("rol", "texto", m.rol),
        Columna("autor", "texto", m.autor),
        Columna("intencion", "texto", m.intencion),
        Columna("generador", "texto", m.generador),
        Columna("texto", "texto", m.texto),
    )
    # The filters reach the chat's columns, so the count runs over the join too.
    origen = Mensaje.__table__.join(Conversacion.__table__, Mensaje.conversacion_id == Conversacion.id)
    return Consulta("conversaciones", columnas, origen, origen, tuple(conds), m.id, filtros)


def count(*, session: Session, consulta: Consulta) -> int:
    """How many rows the export's filters match."""
    return session.scalar(select(func.count()).select_from(consulta.tabla).where(*consulta.condiciones)) or 0


def check_limit(*, total: int, maximo: int, formato: Formato) -> None:
    """Refuse exports above MAX_EXPORT_RECORDS (and above what one Excel sheet holds)."""
    limite = min(maximo, EXCEL_MAX_ROWS) if formato == "excel" else maximo
    if total > limite:
        raise DemasiadosRegistros(encontrados=total, maximo=limite, formato=formato)


def _cell(columna: Columna, formato: Formato) -> ColumnElement[Any] | QueryableAttribute[Any]:
    """The SQL expression of one cell for a format family."""
    expr, tipo = columna.expr, columna.tipo
    if tipo == "entero":
        return expr
    if tipo in ("texto", "lineas"):
        # JSON is for integrations and keeps the data verbatim; spreadsheets get neutralised text.
        return expr if formato in ("json", "ndjson") else neutralize(expr)
    if tipo == "dinero":
        return type_coerce(expr, Numeric(12, 2, asdecimal=False)) if formato == "excel" else money_text(expr)
    if tipo == "fecha":
        return expr if formato == "excel" else iso_utc(expr)
    if formato == "csv":
        return case((expr, literal_column("'true'")), else_=literal_column("'false'"))
    return expr


def statement(consulta: Consulta) -> Select[Any]:
    """The streaming SELECT of an export, with every cell already shaped for its format."""
    cells = [_cell(col, consulta.formato).label(col.nombre) for col in consulta.columnas]
    return select(*cells).select_from(consulta.origen).where(*consulta.condiciones).order_by(consulta.orden)


def file_names(*, entidad: Entidad, formato: Formato, when: datetime | None = None) -> tuple[str, str]:
    """The download name (`clientes_2026-11-26T10-00-00.csv`) and a unique stored name for EXPORT_DIRECTORY."""
    stamp = (when or utcnow()).strftime("%Y-%m-%dT%H-%M-%S")
    extension = EXTENSIONES[formato]
    return f"{entidad}_{stamp}.{extension}", f"{entidad}_{stamp}_{uuid.uuid4().hex[:8]}.{extension}"


# --- row sources -------------------------------------------------------------------------------------


def _batches(engine: Engine, stmt: Select[Any]) -> Iterator[Sequence[Any]]:
    """Rows in batches through a server-side cursor: memory stays flat whatever the row count."""
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(stmt)
        yield from result.partitions()


def _text_batches(engine: Engine, stmt: Select[Any]) -> Iterator[Sequence[Any]]:
    """Batches of already-formatted rows; on SQLite straight from the driver's cursor (no Row objects)."""
    if engine.dialect.name != "sqlite":
        yield from _batches(engine, stmt)
        return
    sql = stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}).string
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql)
            while batch := cursor.fetchmany(BATCH_ROWS):
                yield batch
        finally:
            cursor.close()


def _csv_python(engine: Engine, consulta: Consulta, contador: _Contador) -> Iterator[bytes]:
    """The portable CSV path: `csv.writer` over batches of rows already formatted by SQL."""
    separador = consulta.filtros.separador
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separador, lineterminator="\r\n")
    writer.writerow([col.nombre for col in consulta.columnas])
    for partition in _text_batches(engine, statement(consulta)):
        writer.writerows(partition)
        contador.add(len(partition))
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _csv_postgres_copy(engine: Engine, consulta: Consulta, contador: _Contador) -> Iterator[bytes]:
    """PostgreSQL writes the CSV itself: `COPY (SELECT ...) TO STDOUT WITH (FORMAT csv, HEADER)`."""
    separador = consulta.filtros.separador
    with engine.connect() as connection:
        compiled = statement(consulta).compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
        sql = f"COPY ({compiled.string}) TO STDOUT WITH (FORMAT csv, HEADER true, DELIMITER '{separador}')"
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(sql, compiled.params) as copy:
                buffer = bytearray()
                for data in copy:
                    buffer += data
                    if len(buffer) >= CHUNK_BYTES:
                        contador.estimate(buffer)
                        yield bytes(buffer)
                        buffer.clear()
                if buffer:
                    yield bytes(buffer)
            contador.add(max(cursor.rowcount, 0))


@lru_cache(maxsize=1)
def sqlite_cli() -> str | None:
    """The `sqlite3` command-line tool, when installed and recent enough for `-safe` (3.37+)."""
    path = shutil.which("sqlite3")
    if path is None:
        return None
    try:
        probe = subprocess.run([path, "-safe", "-version"], capture_output=True, timeout=10, check=False)
    except OSError:
        return None
    return path if probe.returncode == 0 else None


def _sqlite_file(engine: Engine) -> str | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def _csv_sqlite_cli(
    engine: Engine, consulta: Consulta, contador: _Contador, cli: str, database: str
) -> Iterator[bytes]:
    """SQLite's own CSV writer (the `sqlite3` tool), fed the same SELECT: about 3x faster than Python's.

    Count and rows run in one read transaction, so the reported row count matches the file. The SQL gets
    its parameters as literals (SQLAlchemy's literal rendering: dates, integers, booleans and quoted text).
    """
    literal = {"literal_binds": True}
    sql_count = select(func.count()).select_from(consulta.tabla).where(*consulta.condiciones)
    count_sql = sql_count.compile(dialect=engine.dialect, compile_kwargs=literal)
    rows_sql = statement(consulta).compile(dialect=engine.dialect, compile_kwargs=literal)
    separador = consulta.filtros.separador
    script = (
        ".bail on\n.timeout 10000\n.mode csv\n"
        f'.separator "{separador}" "\\r\\n"\n'
        f".headers off\nBEGIN;\n{count_sql};\n{rows_sql};\nCOMMIT;\n"
    )
    # The tool prints no header for an empty result: write it here, like csv.writer and COPY do.
    header = separador.join(col.nombre for col in consulta.columnas) + "\r\n"
    process = subprocess.Popen(
        [cli, "-safe", "-batch", database],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    try:
        process.stdin.write(script.encode("utf-8"))
        process.stdin.close()
        out = process.stdout.fileno()
        with suppress(ImportError, AttributeError, OSError):  # a bigger pipe: fewer, larger reads (Linux only)
            import fcntl

            fcntl.fcntl(out, fcntl.F_SETPIPE_SZ, CHUNK_BYTES)
        first = b""
        while b"\n" not in first:
            data = os.read(out, CHUNK_BYTES)
            if not data:
                break
            first += data
        count_line, _, rest = first.partition(b"\r\n")
        if not count_line.strip().isdigit():
            raise RuntimeError(f"sqlite3: {process.stderr.read().decode('utf-8', 'replace').strip()}")
        # The tool flushes every 4 KB: gather reads into large chunks, or each 4 KB would cost a
        # thread hop and a socket write.
        buffer = bytearray(header.encode("utf-8") + rest)
        while data := os.read(out, CHUNK_BYTES):
            buffer += data
            if len(buffer) >= CHUNK_BYTES:
                contador.estimate(buffer)
                yield bytes(buffer)
                buffer.clear()
        if buffer:
            yield bytes(buffer)
        if process.wait() != 0:
            raise RuntimeError(f"sqlite3: {process.stderr.read().decode('utf-8', 'replace').strip()}")
        contador.add(int(count_line))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def _json_rows(engine: Engine, consulta: Consulta, contador: _Contador) -> Iterator[list[str]]:
    """Each batch as a list of JSON objects (one per row); money stays a string, dates ISO 8601 UTC."""
    nombres = [col.nombre for col in consulta.columnas]
    lineas = [i for i, col in enumerate(consulta.columnas) if col.tipo == "lineas"]
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for partition in _batches(engine, statement(consulta)):
        objects = []
        for row in partition:
            values = list(row)
            for i in lineas:
                values[i] = _parse_lineas(values[i])
            objects.append(dumps(dict(zip(nombres, values, strict=True))))
        contador.add(len(partition))
        yield objects


def _parse_lineas(text: str | None) -> Any:
    """The order lines as JSON; text that is not valid JSON is kept as it is stored."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _json_array(engine: Engine, consulta: Consulta, contador: _Contador) -> Iterator[bytes]:
    first = True
    yield b"["
    for objects in _json_rows(engine, consulta, contador):
        if not objects:
            continue
        prefix = "\n" if first else ",\n"
        first = False
        yield (prefix + ",\n".join(objects)).encode("utf-8")
    yield b"]\n" if first else b"\n]\n"


def _ndjson(engine: Engine, consulta: Consulta, contador: _Contador) -> Iterator[bytes]:
    for objects in _json_rows(engine, consulta, contador):
        if objects:
            yield ("\n".join(objects) + "\n").encode("utf-8")


def _encoded(engine: Engine, consulta: Consulta, contador: _Contador) -> Generator[bytes]:
    """The bytes of a text-format export, in chunks."""
    formato = consulta.formato
    if formato == "csv":
        if consulta.filtros.bom:
            yield "\ufeff".encode()
        database, cli = _sqlite_file(engine), sqlite_cli()
        if engine.dialect.name == "postgresql":
            yield from _csv_postgres_copy(engine, consulta, contador)
        elif database is not None and cli is not None:
            yield from _csv_sqlite_cli(engine, consulta, contador, cli, database)
        else:
            yield from _csv_python(engine, consulta, contador)
    elif formato == "json":
        yield from _json_array(engine, consulta, contador)
    elif formato == "ndjson":
        yield from _ndjson(engine, consulta, contador)
    else:
        raise ValueError(f"formato sin flujo de texto: {formato}")


# --- files and history ---------------------------------------------------------------------------------


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
                        duracion_ms=min(resultado.duracion_ms, 2_147_483_647),
                        estado="ok" if error is None else "error",
                        mensaje=error,
                        archivo=self.destino.name if error is None else None,
                    )
                )
        except Exception:  # the export's own outcome matters more than its history row
            logger.exception("No se pudo registrar la exportación %s", self.destino.name)
        return resultado


INTERRUMPIDA = "Descarga interrumpida: el cliente cerró la conexión antes de terminar"


def _failure(exc: BaseException) -> str:
    logger.error("Exportación fallida: %r", exc, exc_info=exc)
    return f"Error durante la exportación ({type(exc).__name__})"


class Flujo:
    """A CSV/JSON/NDJSON export as an iterable of bytes that also writes `destino` (atomically, on success).

    Iterate it once; `resultado` holds the outcome afterwards. Closing the iterator early (a client that
    disconnects) removes the temp file and records the export as interrupted.
    """

    def __init__(
        self, *, engine: Engine, consulta: Consulta, destino: Path, usuario: str, on_rows: Progreso | None = None
    ) -> None:
        self._tarea = _Exportando(engine=engine, consulta=consulta, destino=destino, usuario=usuario)
        self._contador = _Contador(on_rows=on_rows)

    @property
    def resultado(self) -> Resultado:
        """Rows, bytes, duration and error of the export (final once iteration ended)."""
        return self._tarea.resultado

    def __iter__(self) -> Iterator[bytes]:
        tarea, contador = self._tarea, self._contador
        error: str | None = INTERRUMPIDA
        try:
            with tarea.open() as handle, closing(_encoded(tarea.engine, tarea.consulta, contador)) as chunks:
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
    *, engine: Engine, consulta: Consulta, destino: Path, usuario: str, on_rows: Progreso | None = None
) -> Resultado:
    """Write an .xlsx (constant memory): typed cells, money and date formats, frozen header, autofilter."""
    tarea = _Exportando(engine=engine, consulta=consulta, destino=destino, usuario=usuario)
    contador = _Contador(on_rows=on_rows)
    error: str | None = "La exportación no terminó"
    try:
        tarea.destino.parent.mkdir(parents=True, exist_ok=True)
        _write_xlsx(engine, consulta, tarea.temporal, contador)
        tarea.commit()
        error = None
    except Exception as exc:
        error = _failure(exc)
        raise
    finally:
        tarea.resultado.filas = contador.filas
        resultado = tarea.finish(error)
    return resultado


def _write_xlsx(engine: Engine, consulta: Consulta, path: Path, contador: _Contador) -> None:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": str(path.parent)})
    try:
        sheet = workbook.add_worksheet(consulta.entidad)
        header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        money = workbook.add_format({"num_format": "#,##0.00"})
        date = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        writers: list[Callable[[int, int, Any], Any]] = []
        for index, col in enumerate(consulta.columnas):
            # Excel has no time zones: timestamps are written in UTC without offset, as the header says.
            title = f"{col.nombre} (UTC)" if col.tipo == "fecha" else col.nombre
            sheet.write_string(0, index, title, header)
            width = {"fecha": 20, "dinero": 12, "entero": 10, "booleano": 8}.get(col.tipo, 24)
            sheet.set_column(index, index, max(width, len(title) + 2))
            writers.append(_xlsx_writer(sheet, col.tipo, money, date))
        sheet.freeze_panes(1, 0)
        row_number = 0
        for partition in _batches(engine, statement(consulta)):
            for row in partition:
                row_number += 1
                for index, value in enumerate(row):
                    if value is not None:
                        writers[index](row_number, index, value)
            contador.add(len(partition))
        sheet.autofilter(0, 0, row_number, len(consulta.columnas) - 1)
    finally:
        workbook.close()


def _xlsx_writer(sheet: Any, tipo: Tipo, money: Any, date: Any) -> Callable[[int, int, Any], Any]:
    if tipo == "entero":
        return sheet.write_number  # type: ignore[no-any-return]
    if tipo == "dinero":
        return lambda r, c, v: sheet.write_number(r, c, v, money)
    if tipo == "fecha":
        return lambda r, c, v: sheet.write_datetime(r, c, v.replace(tzinfo=None), date)
    if tipo == "booleano":
        return lambda r, c, v: sheet.write_boolean(r, c, bool(v))
    # write_string never turns text into a formula; the SQL already neutralised risky prefixes.
    return sheet.write_string  # type: ignore[no-any-return]


def write_file(
    *, engine: Engine, consulta: Consulta, destino: Path, usuario: str, on_rows: Progreso | None = None
) -> Resultado:
    """Write any export format to `destino` (the CLI's path): nothing is held in memory."""
    if consulta.formato == "excel":
        return write_excel(engine=engine, consulta=consulta, destino=destino, usuario=usuario, on_rows=on_rows)
    flujo = Flujo(engine=engine, consulta=consulta, destino=destino, usuario=usuario, on_rows=on_rows)
    for _chunk in flujo:
        pass
    return flujo.resultado


def history(*, session: Session, skip: int = 0, limit: int = 100) -> tuple[Sequence[Exportacion], int]:
    """Past exports, newest first, and their total."""
    total = session.scalar(select(func.count()).select_from(Exportacion)) or 0
    rows = session.scalars(
        select(Exportacion).order_by(Exportacion.fecha.desc(), Exportacion.id.desc()).offset(skip).limit(limit)
    ).all()
    return rows, total
