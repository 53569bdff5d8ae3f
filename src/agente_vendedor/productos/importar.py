"""Catalog import from CSV or XLSX: tolerant parsing, per-row validation, all-or-nothing upsert."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from agente_vendedor.core.errors import AppError, ErrorCampo, validation_errors
from agente_vendedor.core.progress import ProgressCallback
from agente_vendedor.core.text import fold
from agente_vendedor.productos.indice import INDICE_PRODUCTOS
from agente_vendedor.productos.models import Producto
from agente_vendedor.productos.schemas import ProductoCreate
from agente_vendedor.productos.service import normalize_sku
from agente_vendedor.rag import outbox

MAX_ROWS = 100_000
FIELDS = ("nombre", "descripcion", "precio", "stock", "categoria", "sku")
_ALIASES = {
    "nombre": "nombre", "name": "nombre", "producto": "nombre", "articulo": "nombre",
    "descripcion": "descripcion", "description": "descripcion", "detalle": "descripcion",
    "precio": "precio", "price": "precio", "pvp": "precio", "precio unitario": "precio",
    "stock": "stock", "existencias": "stock", "cantidad": "stock", "unidades": "stock", "inventario": "stock",
    "categoria": "categoria", "category": "categoria", "familia": "categoria",
    "sku": "sku", "referencia": "sku", "ref": "sku", "codigo": "sku", "code": "sku",
}  # fmt: skip
_MONEY_NOISE = re.compile(r"[€$\s]|eur", re.IGNORECASE)


class ImportacionInvalida(AppError):
    """The file cannot be imported; nothing was written."""

    status_code = 422
    code = "importacion_invalida"


class ErrorFila(BaseModel):
    """Why one row of the file was rejected (rows count from 2: row 1 is the header)."""

    fila: int
    errores: list[str]


class ResultadoImportacion(BaseModel):
    """What an import did, or would do with `simular=true`."""

    simulado: bool
    filas: int
    creados: int
    actualizados: int
    sin_cambios: int
    errores: list[ErrorFila] = []


class ImportacionErrorResponse(BaseModel):
    """422 body of an import: the per-row report, or pydantic's per-field errors for a malformed request."""

    detail: str
    code: str
    simulado: bool | None = None
    filas: int | None = None
    creados: int | None = None
    actualizados: int | None = None
    sin_cambios: int | None = None
    errores: list[ErrorFila | ErrorCampo] = []


@dataclass
class _Plan:
    create: list[dict[str, Any]] = field(default_factory=list)
    update: list[tuple[Producto, dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[ErrorFila] = field(default_factory=list)


def _header_map(header: list[Any]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for index, name in enumerate(header):
        canonical = _ALIASES.get(fold(str(name or "")).replace("_", " "))
        if canonical and canonical not in mapping.values():
            mapping[index] = canonical
    missing = [name for name in ("nombre", "precio") if name not in mapping.values()]
    if missing:
        raise ImportacionInvalida(
            f"Faltan columnas obligatorias: {', '.join(missing)}. Columnas esperadas: {', '.join(FIELDS)}"
        )
    return mapping


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportacionInvalida("El fichero CSV no está en UTF-8 ni en Windows-1252")


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_rows(data: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ImportacionInvalida("El fichero XLSX no se puede leer: ¿está dañado o es de otro formato?") from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()


def read_rows(data: bytes, filename: str) -> tuple[list[tuple[int, dict[str, Any]]], dict[int, str]]:
    """Rows as `(row number, {field: raw value})`, by file type; empty lines are skipped."""
    is_xlsx = filename.lower().endswith(".xlsx") or data[:2] == b"PK"
    rows = _xlsx_rows(data) if is_xlsx else _csv_rows(data)
    header = next(rows, None)
    if header is None:
        raise ImportacionInvalida("El fichero está vacío")
    mapping = _header_map(header)
    result: list[tuple[int, dict[str, Any]]] = []
    for number, row in enumerate(rows, start=2):
        values = {name: row[index] if index < len(row) else None for index, name in mapping.items()}
        if all(value is None or str(value).strip() == "" for value in values.values()):
            continue
        result.append((number, values))
        if len(result) > MAX_ROWS:
            raise ImportacionInvalida(f"El fichero supera el máximo de {MAX_ROWS} filas por importación")
    return result, mapping


def _money(value: Any) -> Any:
    """Accept 59.90, '59,90', '1.234,56 €' and '1,234.56'."""
    if value is None or isinstance(value, int | float | Decimal):
        return value
    text = _MONEY_NOISE.sub("", str(value))
    if "," in text and "." in text:
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        text = text.replace(thousands, "").replace(decimal_sep, ".")
    else:
        text = text.replace(",", ".")
    try:
        return Decimal(text)
    except InvalidOperation:
        return value


def _stock(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+([.,]0+)?\s*", value):
        return int(re.split(r"[.,]", value.strip())[0])
    return value


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or (isinstance(value, str) and value.strip() == ""):
            continue
        if name == "precio":
            value = _money(value)
        elif name == "stock":
            value = _stock(value)
        elif not isinstance(value, str):
            value = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        cleaned[name] = value
    return cleaned


def _plan(session: Session, rows: list[tuple[int, dict[str, Any]]]) -> _Plan:
    plan = _Plan()
    by_sku = {p.sku: p for p in session.scalars(select(Producto).where(Producto.sku.is_not(None)))}
    by_name: dict[str, Producto] = {}
    for producto in session.scalars(select(Producto).where(Producto.sku.is_(None))):
        by_name.setdefault(fold(producto.nombre), producto)
    seen: dict[str, int] = {}
    for number, raw in rows:
        values = _clean(raw)
        try:
            datos = ProductoCreate.model_validate({**values, "stock": values.get("stock", 0)})
        except ValidationError as exc:
            errores = [f"{e.campo}: {e.mensaje}" for e in validation_errors(exc.errors())]
            plan.errors.append(ErrorFila(fila=number, errores=errores))
            continue
        sku = normalize_sku(datos.sku)
        key = f"sku:{sku}" if sku else f"nombre:{fold(datos.nombre)}"
        if key in seen:
            plan.errors.append(ErrorFila(fila=number, errores=[f"repetido en el fichero (fila {seen[key]})"]))
            continue
        seen[key] = number
        existing = by_sku.get(sku) if sku else by_name.get(fold(datos.nombre))
        given = {name: getattr(datos, name) for name in values if name in FIELDS}
        if sku:
            given["sku"] = sku
        if existing is None:
            plan.create.append({**datos.model_dump(), "sku": sku})
            continue
        changes = {name: value for name, value in given.items() if getattr(existing, name) != value}
        if not existing.activo:
            changes["activo"] = True
        if changes:
            plan.update.append((existing, changes))
        else:
            plan.unchanged += 1
    return plan


def import_productos(
    *,
    session: Session,
    data: bytes,
    filename: str,
    simular: bool = False,
    progress: ProgressCallback | None = None,
) -> ResultadoImportacion:
    """Validate every row, then create or update products (by SKU, else by name) — all of them or none."""
    rows, _mapping = read_rows(data, filename)
    plan = _plan(session, rows)
    result = ResultadoImportacion(
        simulado=simular,
        filas=len(rows),
        creados=len(plan.create),
        actualizados=len(plan.update),
        sin_cambios=plan.unchanged,
        errores=plan.errors,
    )
    if plan.errors:
        error = ImportacionInvalida(
            f"{len(plan.errors)} fila(s) no válidas: no se ha importado nada. Corrija el fichero y vuelva a intentarlo."
        )
        error.extra = result.model_dump(mode="json")
        raise error
    if simular:
        return result
    created = [Producto(**values) for values in plan.create]
    session.add_all(created)
    for producto, changes in plan.update:
        for name, value in changes.items():
            setattr(producto, name, value)
    session.flush()
    # Search follows the catalog: full-text rows now, vectors from the outbox right after COMMIT.
    touched = [*created, *(producto for producto, _ in plan.update)]
    for index, producto in enumerate(touched, start=1):
        outbox.record(session, INDICE_PRODUCTOS, producto)
        if progress and index % 500 == 0:
            progress(500)
    if progress:
        progress(len(touched) % 500)
    return result
