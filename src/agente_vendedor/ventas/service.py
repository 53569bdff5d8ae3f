"""Pedidos service: orders with atomic stock reservation, idempotent creation, lifecycle and statistics."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Date,
    Table,
    bindparam,
    cast,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from agente_vendedor.clientes.exceptions import ClienteNoEncontrado
from agente_vendedor.clientes.models import Cliente
from agente_vendedor.core.db import utcnow
from agente_vendedor.core.dbapi import Write, insert_of
from agente_vendedor.productos import cache as catalogo
from agente_vendedor.productos.exceptions import ProductoNoEncontrado
from agente_vendedor.productos.models import Producto
from agente_vendedor.ventas.exceptions import (
    ClaveIdempotenciaReutilizada,
    ClienteInactivo,
    PedidoEnCurso,
    ProductoNoDisponible,
    StockInsuficiente,
    TotalDemasiadoAlto,
    TransicionNoPermitida,
    VentaNoEncontrada,
)
from agente_vendedor.ventas.models import ClaveIdempotencia, Venta, VentaHistorial, VentaLinea
from agente_vendedor.ventas.schemas import EstadoVenta, LineaPedido, VentaCreate, canonical_json

CENT = Decimal("0.01")
MAX_TOTAL = Decimal("99999999.99")  # Numeric(10, 2)

TRANSICIONES: dict[EstadoVenta, frozenset[EstadoVenta]] = {
    EstadoVenta.PENDIENTE: frozenset({EstadoVenta.CONFIRMADA, EstadoVenta.CANCELADA}),
    EstadoVenta.CONFIRMADA: frozenset({EstadoVenta.ENVIADA, EstadoVenta.CANCELADA}),
    EstadoVenta.ENVIADA: frozenset({EstadoVenta.ENTREGADA}),
    EstadoVenta.ENTREGADA: frozenset(),
    EstadoVenta.CANCELADA: frozenset(),
}


@dataclass(frozen=True)
class LineaVendida:
    """A line priced from the catalog at sale time."""

    producto_id: int
    nombre: str
    precio_unitario: Decimal
    cantidad: int

    @property
    def subtotal(self) -> Decimal:
        """Exact line amount."""
        return (self.precio_unitario * self.cantidad).quantize(CENT)

    def snapshot(self) -> dict[str, Any]:
        """The line as stored in `productos_json` (money as decimal strings)."""
        return {
            "producto_id": self.producto_id,
            "nombre": self.nombre,
            "precio_unitario": str(self.precio_unitario.quantize(CENT)),
            "cantidad": self.cantidad,
            "subtotal": str(self.subtotal),
        }


@dataclass(frozen=True)
class HistorialCompras:
    """A cliente with its orders (newest first) and what the non-cancelled ones add up to."""

    cliente: Cliente
    ventas: list[Venta]
    total_gastado: Decimal


def request_hash(datos: VentaCreate) -> str:
    """SHA-256 of the canonical request, to tell a retry from a different order under the same key."""
    return hashlib.sha256(datos.canonical().encode()).hexdigest()


def _with_history() -> Any:
    return selectinload(Venta.historial)


def get(*, session: Session, venta_id: int) -> Venta:
    """The order with its state history, or `VentaNoEncontrada`."""
    venta = session.scalar(select(Venta).where(Venta.id == venta_id).options(_with_history()))
    if venta is None:
        raise VentaNoEncontrada(venta_id)
    return venta


def _replay(session: Session, clave: str, peticion: str) -> Venta | None:
    """The order already created with this key, None if the key is new; 409 if the body differs."""
    registro = session.scalar(select(ClaveIdempotencia).where(ClaveIdempotencia.clave == clave))
    if registro is None:
        return None
    if registro.hash_peticion != peticion:
        raise ClaveIdempotenciaReutilizada()
    if registro.venta_id is None:
        raise PedidoEnCurso()
    return get(session=session, venta_id=registro.venta_id)


# Built once and run straight on the driver, in the request's transaction (`core.dbapi.Write`): through the session,
# each statement of an order cost about as much CPU as the rest of the order (`bench/RESULTS-http.md`). No session
# event sees them, so the write to `productos` tells the catalog cache itself (`productos.cache.marcar_escrito`).
_CLIENTES: Table = Cliente.__table__  # type: ignore[assignment]
_PRODUCTOS: Table = Producto.__table__  # type: ignore[assignment]
_TOCAR_CLIENTE = Write(
    update(_CLIENTES)
    .where(_CLIENTES.c.id == bindparam("cliente_id"), _CLIENTES.c.activo.is_(True))
    .values(fecha_ultima_compra=bindparam("cuando", type_=_CLIENTES.c.fecha_ultima_compra.type))
)
_RESERVAR = Write(
    update(_PRODUCTOS)
    .where(
        _PRODUCTOS.c.id == bindparam("producto_id"),
        _PRODUCTOS.c.activo.is_(True),
        _PRODUCTOS.c.stock >= bindparam("cantidad"),
    )
    .values(stock=_PRODUCTOS.c.stock - bindparam("cantidad"))
    .returning(_PRODUCTOS.c.nombre, _PRODUCTOS.c.precio)
)


def _touch_cliente(session: Session, cliente_id: int, cuando: datetime) -> None:
    """Record the purchase date on the cliente, which must exist and be active."""
    if _TOCAR_CLIENTE.rowcount(session, {"cliente_id": cliente_id, "cuando": cuando}) == 1:
        return
    if session.scalar(select(Cliente.id).where(Cliente.id == cliente_id)) is None:
        raise ClienteNoEncontrado(cliente_id)
    raise ClienteInactivo(cliente_id)


def _reserve(session: Session, linea: LineaPedido) -> LineaVendida:
    """Take the units from stock in one conditional UPDATE and read the price in the same statement."""
    row = _RESERVAR.row(session, {"producto_id": linea.producto_id, "cantidad": linea.cantidad})
    if row is not None:
        catalogo.marcar_escrito(session)
        return LineaVendida(linea.producto_id, row["nombre"], row["precio"], linea.cantidad)
    actual = session.execute(
        select(Producto.nombre, Producto.activo, Producto.stock).where(Producto.id == linea.producto_id)
    ).one_or_none()
    if actual is None:
        raise ProductoNoEncontrado(linea.producto_id)
    if not actual.activo:
        raise ProductoNoDisponible(linea.producto_id, actual.nombre)
    raise StockInsuficiente(linea.producto_id, actual.nombre, linea.cantidad, actual.stock)


_VENTAS: Table = Venta.__table__  # type: ignore[assignment]
_CLAVES: Table = ClaveIdempotencia.__table__  # type: ignore[assignment]
_LINEAS: Table = VentaLinea.__table__  # type: ignore[assignment]
_HISTORIAL: Table = VentaHistorial.__table__  # type: ignore[assignment]
_INSERTAR_CLAVE = insert(_CLAVES).returning(_CLAVES.c.id)
_ASIGNAR_CLAVE = (
    update(_CLAVES).where(_CLAVES.c.id == bindparam("clave_id")).values(venta_id=bindparam("nueva_venta_id"))
)
_INSERTAR_VENTA = insert_of(
    _VENTAS,
    ["cliente_id", "fecha_venta", "total", "estado", "productos_json", "metadatos_json"],
    returning="id",
)
_INSERTAR_LINEAS = insert_of(_LINEAS, ["venta_id", "producto_id", "nombre", "precio_unitario", "cantidad", "subtotal"])
_INSERTAR_HISTORIAL = insert_of(_HISTORIAL, ["venta_id", "estado_anterior", "estado_nuevo", "usuario", "fecha"])


def _claim(session: Session, clave: str, peticion: str) -> tuple[int | None, Venta | None]:
    """Claim the key for this order (its row id), or the order already created with it."""
    existente = _replay(session, clave, peticion)
    if existente is not None:
        return None, existente
    try:
        clave_id: int = session.execute(
            _INSERTAR_CLAVE, {"clave": clave, "hash_peticion": peticion, "fecha_creacion": utcnow()}
        ).scalar_one()
    except IntegrityError:
        # A concurrent request committed the same key first; nothing else was written yet,
        # so rolling back here loses no work and lets us read the winner's order.
        session.rollback()
        existente = _replay(session, clave, peticion)
        if existente is None:
            raise PedidoEnCurso() from None
        return None, existente
    return clave_id, None


def create(*, session: Session, datos: VentaCreate, usuario: str, clave: str | None = None) -> tuple[Venta, bool]:
    """Create an order, or return the one already made with this idempotency key; `True` when new.

    Writes come first (key claim, cliente, one conditional UPDATE per product in id order) so that
    SQLite takes its write lock before reading anything and PostgreSQL locks rows in a fixed order.
    Any failure raises and the request's transaction rolls everything back.

    The statements go straight to the driver in the session's transaction (`core.dbapi.Write`), not through the
    unit of work or the session's execute: those were more than half of an order's CPU (`bench/RESULTS-http.md`),
    all of it inside the serialized write section on SQLite. The order returned is built from the values written
    (detached, with its history loaded); nothing else in the session changes.
    """
    peticion = request_hash(datos)
    clave_id: int | None = None
    if clave is not None:
        clave_id, existente = _claim(session, clave, peticion)
        if existente is not None:
            return existente, False

    ahora = utcnow()
    _touch_cliente(session, datos.cliente_id, ahora)
    lineas = [_reserve(session, linea) for linea in datos.productos]
    total = sum((linea.subtotal for linea in lineas), Decimal("0.00"))
    if total > MAX_TOTAL:
        raise TotalDemasiadoAlto()

    valores = {
        "cliente_id": datos.cliente_id,
        "fecha_venta": ahora,
        "total": total,
        "estado": EstadoVenta.PENDIENTE.value,
        "productos_json": canonical_json([linea.snapshot() for linea in lineas]),
        "metadatos_json": canonical_json(datos.metadatos) if datos.metadatos is not None else None,
    }
    venta_id: int = _INSERTAR_VENTA.returning(session, valores)
    _INSERTAR_LINEAS.many(
        session,
        [
            {
                "venta_id": venta_id,
                "producto_id": linea.producto_id,
                "nombre": linea.nombre,
                "precio_unitario": linea.precio_unitario,
                "cantidad": linea.cantidad,
                "subtotal": linea.subtotal,
            }
            for linea in lineas
        ],
    )
    historia = {"venta_id": venta_id, "estado_anterior": None, "estado_nuevo": valores["estado"], "usuario": usuario}
    _INSERTAR_HISTORIAL.many(session, [{**historia, "fecha": ahora}])
    if clave_id is not None:
        session.execute(_ASIGNAR_CLAVE, {"clave_id": clave_id, "nueva_venta_id": venta_id})

    venta = Venta(id=venta_id, **valores)
    set_committed_value(venta, "historial", [VentaHistorial(**historia, fecha=ahora)])
    make_transient_to_detached(venta)
    return venta, True


def _date_range(column: Any, desde: date | None, hasta: date | None) -> list[ColumnElement[bool]]:
    """Conditions for UTC days `desde`..`hasta`, both included."""
    conditions: list[ColumnElement[bool]] = []
    if desde is not None:
        conditions.append(column >= datetime.combine(desde, time.min, UTC))
    if hasta is not None and hasta < date.max:
        conditions.append(column < datetime.combine(hasta + timedelta(days=1), time.min, UTC))
    return conditions


def list_ventas(
    *,
    session: Session,
    skip: int = 0,
    limit: int = 100,
    cliente_id: int | None = None,
    estado: EstadoVenta | None = None,
    fecha_desde: date | None = None,
    fecha_hasta: date | None = None,
) -> tuple[Sequence[Venta], int]:
    """A page of orders, newest first, and how many match the filters."""
    query = select(Venta).where(*_date_range(Venta.fecha_venta, fecha_desde, fecha_hasta))
    if cliente_id is not None:
        query = query.where(Venta.cliente_id == cliente_id)
    if estado is not None:
        query = query.where(Venta.estado == estado.value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.options(_with_history()).order_by(Venta.fecha_venta.desc(), Venta.id.desc()).offset(skip).limit(limit)
    ).all()
    return rows, total


def change_state(*, session: Session, venta_id: int, estado: EstadoVenta, usuario: str) -> Venta:
    """Move an order along its lifecycle; cancelling returns its units to stock."""
    venta = get(session=session, venta_id=venta_id)
    actual = EstadoVenta(venta.estado)
    if estado not in TRANSICIONES[actual]:
        raise TransicionNoPermitida(venta_id, actual.value, estado.value)
    # Conditional on the state we read: of two concurrent changes only one can win (no double refund).
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(Venta)
        .where(Venta.id == venta_id, Venta.estado == actual.value)
        .values(estado=estado.value)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        ahora_estado = session.scalar(select(Venta.estado).where(Venta.id == venta_id)) or actual.value
        raise TransicionNoPermitida(venta_id, ahora_estado, estado.value)
    if estado is EstadoVenta.CANCELADA:
        lineas = session.execute(
            select(VentaLinea.producto_id, VentaLinea.cantidad)
            .where(VentaLinea.venta_id == venta_id)
            .order_by(VentaLinea.producto_id)
        ).all()
        for producto_id, cantidad in lineas:
            session.execute(
                update(Producto)
                .where(Producto.id == producto_id)
                .values(stock=Producto.stock + cantidad)
                .execution_options(synchronize_session=False)
            )
    entrada = VentaHistorial(
        venta_id=venta_id, estado_anterior=actual.value, estado_nuevo=estado.value, usuario=usuario
    )
    session.add(entrada)
    session.flush()
    set_committed_value(venta, "estado", estado.value)
    set_committed_value(venta, "historial", [*venta.historial, entrada])
    return venta


def purchase_history(*, session: Session, cliente_id: int) -> HistorialCompras:
    """A cliente's orders loaded eagerly (three queries whatever their number), newest first."""
    cliente = session.scalar(select(Cliente).where(Cliente.id == cliente_id))
    if cliente is None:
        raise ClienteNoEncontrado(cliente_id)
    pedidos = session.scalars(
        select(Venta).where(Venta.cliente_id == cliente_id).options(selectinload(Venta.historial))
    ).all()
    ventas = sorted(pedidos, key=lambda v: (v.fecha_venta, v.id), reverse=True)
    gastado = sum((v.total for v in ventas if v.estado != EstadoVenta.CANCELADA.value), Decimal("0.00"))
    return HistorialCompras(cliente=cliente, ventas=ventas, total_gastado=gastado)


def _day(session: Session, column: Any) -> ColumnElement[date]:
    """The UTC calendar day of a timestamp column, in the current database's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    # SQLite stores UTC timestamps as ISO text; date() keeps the day part.
    return type_coerce(func.date(column), Date)


@dataclass(frozen=True)
class Estadisticas:
    """Aggregated figures of a period, all computed by the database."""

    pedidos: int
    ingresos: Decimal
    ticket_medio: Decimal
    por_dia: list[dict[str, Any]]
    top_productos_unidades: list[dict[str, Any]]
    top_productos_ingresos: list[dict[str, Any]]
    top_clientes: list[dict[str, Any]]


def statistics(
    *, session: Session, fecha_desde: date | None = None, fecha_hasta: date | None = None, top: int = 10
) -> Estadisticas:
    """Orders and revenue per day, top products and clientes, average ticket; cancelled orders excluded."""
    conditions = [
        Venta.estado != EstadoVenta.CANCELADA.value,
        *_date_range(Venta.fecha_venta, fecha_desde, fecha_hasta),
    ]

    pedidos, ingresos = session.execute(select(func.count(Venta.id), func.sum(Venta.total)).where(*conditions)).one()
    pedidos = int(pedidos or 0)
    ingresos = Decimal(ingresos or 0).quantize(CENT)
    ticket = (ingresos / pedidos).quantize(CENT) if pedidos else Decimal("0.00")

    dia = _day(session, Venta.fecha_venta).label("dia")
    por_dia = [
        {"fecha": row.dia, "pedidos": int(row.pedidos), "ingresos": Decimal(row.ingresos).quantize(CENT)}
        for row in session.execute(
            select(dia, func.count(Venta.id).label("pedidos"), func.sum(Venta.total).label("ingresos"))
            .where(*conditions)
            .group_by(dia)
            .order_by(dia)
        )
    ]

    unidades = func.sum(VentaLinea.cantidad).label("unidades")
    importe = func.sum(VentaLinea.subtotal).label("ingresos")
    por_producto = (
        select(VentaLinea.producto_id, Producto.nombre, unidades, importe)
        .join(Venta, Venta.id == VentaLinea.venta_id)
        .join(Producto, Producto.id == VentaLinea.producto_id)
        .where(*conditions)
        .group_by(VentaLinea.producto_id, Producto.nombre)
        .limit(top)
    )

    def productos(order: Any) -> list[dict[str, Any]]:
        return [
            {
                "producto_id": row.producto_id,
                "nombre": row.nombre,
                "unidades": int(row.unidades),
                "ingresos": Decimal(row.ingresos).quantize(CENT),
            }
            for row in session.execute(por_producto.order_by(order.desc(), VentaLinea.producto_id))
        ]

    gastado = func.sum(Venta.total).label("total")
    top_clientes = [
        {
            "cliente_id": row.cliente_id,
            "nombre": row.nombre,
            "pedidos": int(row.pedidos),
            "total": Decimal(row.total).quantize(CENT),
        }
        for row in session.execute(
            select(Venta.cliente_id, Cliente.nombre, func.count(Venta.id).label("pedidos"), gastado)
            .join(Cliente, Cliente.id == Venta.cliente_id)
            .where(*conditions)
            .group_by(Venta.cliente_id, Cliente.nombre)
            .order_by(gastado.desc(), Venta.cliente_id)
            .limit(top)
        )
    ]
    return Estadisticas(
        pedidos=pedidos,
        ingresos=ingresos,
        ticket_medio=ticket,
        por_dia=por_dia,
        top_productos_unidades=productos(unidades),
        top_productos_ingresos=productos(importe),
        top_clientes=top_clientes,
    )
