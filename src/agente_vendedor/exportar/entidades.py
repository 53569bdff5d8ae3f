"""What can be exported: the one table from entity to its filters schema and its query plan.

The router (one route per entry), the CLI (`agente-vendedor exportar ENTIDAD`), the panel and the service all
read `ENTIDADES`; a new exportable entity is one plan function and one row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, get_args

from sqlalchemy import func, select
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from agente_vendedor.agente.models import Conversacion, Mensaje
from agente_vendedor.clientes.models import Cliente
from agente_vendedor.core.db import within
from agente_vendedor.exportar.schemas import (
    Entidad,
    Filtros,
    FiltrosClientes,
    FiltrosConversaciones,
    FiltrosProductos,
    FiltrosVentas,
    Formato,
    OpcionesExportacion,
)
from agente_vendedor.productos.models import Producto
from agente_vendedor.ventas.models import Venta

Tipo = Literal["entero", "texto", "dinero", "fecha", "booleano", "lineas"]


@dataclass(frozen=True)
class Columna:
    """One exported column: its header, its kind and the SQL expression it reads."""

    nombre: str
    tipo: Tipo
    expr: ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True)
class Plan:
    """The SQL side of an export: columns in a stable order, the table counted, the rows read, filters and order."""

    columnas: tuple[Columna, ...]
    tabla: FromClause
    origen: FromClause
    condiciones: tuple[ColumnElement[bool], ...]
    orden: ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True)
class Consulta:
    """What to export: entity, filters and format options, and the query plan they make."""

    entidad: Entidad
    filtros: Filtros
    plan: Plan

    @property
    def formato(self) -> Formato:
        """The requested output format."""
        return self.filtros.formato

    def filtros_dict(self) -> dict[str, Any]:
        """Filters and options (without the format) as JSON-ready values, for the history."""
        options = {"formato"} if self.formato == "csv" else {"formato", "separador", "bom"}
        return self.filtros.model_dump(mode="json", exclude_none=True, exclude=options)


F = TypeVar("F", bound=OpcionesExportacion)


@dataclass(frozen=True)
class Exportable(Generic[F]):
    """One exportable entity: the query parameters it accepts, the plan they make, and its description (Spanish)."""

    filtros: type[F]
    plan: Callable[[F], Plan]
    descripcion: str


def _clientes(filtros: FiltrosClientes) -> Plan:
    """Customers; the dates apply to `fecha_registro`."""
    c = Cliente
    conds: list[ColumnElement[bool]] = within(c.fecha_registro, filtros.fecha_desde, filtros.fecha_hasta)
    if filtros.activo is not None:
        conds.append(c.activo == filtros.activo)
    columnas = (
        Columna("id", "entero", c.id),
        Columna("nombre", "texto", c.nombre),
        Columna("email", "texto", c.email),
        Columna("telefono", "texto", c.telefono),
        Columna("direccion", "texto", c.direccion),
        Columna("fecha_registro", "fecha", c.fecha_registro),
        Columna("activo", "booleano", c.activo),
        Columna("fecha_ultima_compra", "fecha", c.fecha_ultima_compra),
    )
    return Plan(columnas, Cliente.__table__, Cliente.__table__, tuple(conds), c.id)


def _productos(filtros: FiltrosProductos) -> Plan:
    """The catalog."""
    p = Producto
    conds: list[ColumnElement[bool]] = []
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
    return Plan(columnas, Producto.__table__, Producto.__table__, tuple(conds), p.id)


def _ventas(filtros: FiltrosVentas) -> Plan:
    """Orders with their customer's name and e-mail and their lines; the dates apply to `fecha_venta`."""
    v = Venta
    conds: list[ColumnElement[bool]] = within(v.fecha_venta, filtros.fecha_desde, filtros.fecha_hasta)
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
    return Plan(columnas, Venta.__table__, origen, tuple(conds), v.id)


def _conversaciones(filtros: FiltrosConversaciones) -> Plan:
    """The agent's chats, one row per message with its chat; the dates apply to the message."""
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
    return Plan(columnas, origen, origen, tuple(conds), m.id)


ENTIDADES: dict[Entidad, Exportable[Any]] = {
    "clientes": Exportable(
        FiltrosClientes,
        _clientes,
        "Exporta clientes (filtros: `fecha_desde`/`fecha_hasta` sobre `fecha_registro`, `activo`).",
    ),
    "productos": Exportable(FiltrosProductos, _productos, "Exporta el catálogo (filtros: `categoria`, `activo`)."),
    "ventas": Exportable(
        FiltrosVentas,
        _ventas,
        "Exporta pedidos con su cliente y sus líneas (filtros: fechas sobre `fecha_venta`, `estado`, `cliente_id`).",
    ),
    "conversaciones": Exportable(
        FiltrosConversaciones,
        _conversaciones,
        "Exporta los chats del agente, un mensaje por fila (filtros: fechas del mensaje, `chat_id`, `cliente_id`).",
    ),
}
if set(ENTIDADES) != set(get_args(Entidad)):  # pragma: no cover - a programming error, caught at import
    raise RuntimeError("ENTIDADES y el tipo Entidad no coinciden")


def build(*, entidad: Entidad, filtros: Filtros) -> Consulta:
    """The query plan of one export: columns in a stable order, filters, oldest id first."""
    exportable = ENTIDADES[entidad]
    if not isinstance(filtros, exportable.filtros):
        raise TypeError(f"{entidad} se filtra con {exportable.filtros.__name__}, no con {type(filtros).__name__}")
    return Consulta(entidad=entidad, filtros=filtros, plan=exportable.plan(filtros))


def count(*, session: Session, consulta: Consulta) -> int:
    """How many rows the export's filters match."""
    plan = consulta.plan
    return session.scalar(select(func.count()).select_from(plan.tabla).where(*plan.condiciones)) or 0
