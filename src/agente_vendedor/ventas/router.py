"""HTTP routes of the Pedidos service: `/ventas` and a cliente's purchase history (threads: core/routing.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Header, Query, Response, status

from agente_vendedor.auth.dependencies import ActorDep
from agente_vendedor.core.db import SessionDep
from agente_vendedor.core.errors import error_responses
from agente_vendedor.core.params import MAX_DB_INT, IdPath, Limit, Skip
from agente_vendedor.core.routing import DbRoute, PrefixedRouter
from agente_vendedor.ventas import service
from agente_vendedor.ventas.schemas import (
    CambioEstado,
    ClienteTop,
    EstadisticasResponse,
    EstadoVenta,
    HistorialComprasResponse,
    ProductoTop,
    VentaCreate,
    VentaResponse,
    VentasPorDia,
)

router = PrefixedRouter(prefix="/ventas", tags=["ventas"], route_class=DbRoute)
clientes_router = PrefixedRouter(prefix="/clientes", tags=["clientes"], route_class=DbRoute)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Clave única del pedido: repetir la petición con la misma clave no crea otro pedido",
    ),
]
FechaDesde = Annotated[date | None, Query(description="Primer día incluido (UTC), AAAA-MM-DD")]
FechaHasta = Annotated[date | None, Query(description="Último día incluido (UTC), AAAA-MM-DD")]

NOT_FOUND = error_responses((404, "Venta no encontrada"))
CREATE_ERRORS = error_responses(
    (404, "Cliente o producto no encontrado"),
    (409, "Stock insuficiente, o Idempotency-Key reutilizada con otro pedido"),
)
STATE_ERRORS = error_responses((404, "Venta no encontrada"), (409, "Transición de estado no permitida"))


@router.post(
    "/",
    response_model=VentaResponse,
    status_code=status.HTTP_201_CREATED,
    responses=CREATE_ERRORS | {200: {"model": VentaResponse, "description": "Repetición idempotente"}},
)
def crear_venta(
    datos: VentaCreate, session: SessionDep, response: Response, usuario: ActorDep, clave: IdempotencyKey = None
) -> VentaResponse:
    """Crea un pedido con precios del catálogo y descuenta el stock de todas las líneas o de ninguna."""
    venta, creada = service.create(session=session, datos=datos, usuario=usuario, clave=clave)
    if not creada:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return VentaResponse.from_venta(venta)


@router.get("/", response_model=list[VentaResponse])
def listar_ventas(
    session: SessionDep,
    response: Response,
    cliente_id: Annotated[int | None, Query(ge=1, le=MAX_DB_INT)] = None,
    estado: EstadoVenta | None = None,
    fecha_desde: FechaDesde = None,
    fecha_hasta: FechaHasta = None,
    skip: Skip = 0,
    limit: Limit = 100,
) -> list[VentaResponse]:
    """Lista pedidos (los más recientes primero) con filtros; `X-Total-Count` lleva el total."""
    rows, total = service.list_ventas(
        session=session,
        skip=skip,
        limit=limit,
        cliente_id=cliente_id,
        estado=estado,
        fecha_desde=fecha_desde,
        fecha_hasta=fecha_hasta,
    )
    response.headers["X-Total-Count"] = str(total)
    return [VentaResponse.from_venta(row) for row in rows]


@router.get("/estadisticas", response_model=EstadisticasResponse)
def estadisticas_ventas(
    session: SessionDep,
    fecha_desde: FechaDesde = None,
    fecha_hasta: FechaHasta = None,
    top: Annotated[int, Query(ge=1, le=100, description="Tamaño de cada ranking")] = 10,
) -> EstadisticasResponse:
    """Pedidos e ingresos por día, productos y clientes más vendidos y ticket medio (sin cancelados)."""
    datos = service.statistics(session=session, fecha_desde=fecha_desde, fecha_hasta=fecha_hasta, top=top)
    return EstadisticasResponse(
        fecha_desde=fecha_desde,
        fecha_hasta=fecha_hasta,
        pedidos=datos.pedidos,
        ingresos=datos.ingresos,
        ticket_medio=datos.ticket_medio,
        por_dia=[VentasPorDia(**row) for row in datos.por_dia],
        top_productos_unidades=[ProductoTop(**row) for row in datos.top_productos_unidades],
        top_productos_ingresos=[ProductoTop(**row) for row in datos.top_productos_ingresos],
        top_clientes=[ClienteTop(**row) for row in datos.top_clientes],
    )


@router.get("/{venta_id}", response_model=VentaResponse, responses=NOT_FOUND)
def obtener_venta(venta_id: IdPath, session: SessionDep) -> VentaResponse:
    """Devuelve un pedido con sus líneas e historial de estados."""
    venta = service.get(session=session, venta_id=venta_id)
    return VentaResponse.from_venta(venta)


@router.patch("/{venta_id}/estado", response_model=VentaResponse, responses=STATE_ERRORS)
def cambiar_estado_venta(
    venta_id: IdPath, datos: CambioEstado, session: SessionDep, usuario: ActorDep
) -> VentaResponse:
    """Avanza el pedido (pendiente → confirmada → enviada → entregada) o lo cancela devolviendo el stock."""
    venta = service.change_state(session=session, venta_id=venta_id, estado=datos.estado, usuario=usuario)
    return VentaResponse.from_venta(venta)


@clientes_router.get(
    "/{cliente_id}/ventas",
    response_model=HistorialComprasResponse,
    responses=error_responses((404, "Cliente no encontrado")),
)
def historial_compras_cliente(cliente_id: IdPath, session: SessionDep) -> HistorialComprasResponse:
    """Historial de compras de un cliente con el total gastado (sin pedidos cancelados)."""
    historial = service.purchase_history(session=session, cliente_id=cliente_id)
    return HistorialComprasResponse(
        cliente_id=historial.cliente.id,
        nombre=historial.cliente.nombre,
        fecha_ultima_compra=historial.cliente.fecha_ultima_compra,
        total_pedidos=len(historial.ventas),
        total_gastado=historial.total_gastado,
        ventas=[VentaResponse.from_venta(v) for v in historial.ventas],
    )
