"""HTTP routes of the catalog."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from agente_vendedor.core.db import get_session
from agente_vendedor.core.errors import error_responses
from agente_vendedor.core.params import IdPath, Limit, Skip
from agente_vendedor.productos import service
from agente_vendedor.productos.schemas import ProductoBusqueda, ProductoCreate, ProductoResponse, ProductoUpdate
from agente_vendedor.rag import service as rag_service
from agente_vendedor.rag.dependencies import RagDep

router = APIRouter(prefix="/productos", tags=["productos"])
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

NOT_FOUND = error_responses((404, "Producto no encontrado"))
CONFLICT = error_responses((409, "SKU ya registrado"))


class CategoriaResumen(BaseModel):
    """A category and how many active products it has."""

    categoria: str
    productos: int


@router.get("/", response_model=list[ProductoResponse])
def listar_productos(
    session: SessionDep,
    response: Response,
    skip: Skip = 0,
    limit: Limit = 100,
    categoria: Annotated[str | None, Query(max_length=100)] = None,
    activo: bool | None = None,
) -> list[ProductoResponse]:
    """Lista el catálogo con paginación y filtros; `X-Total-Count` lleva el total."""
    rows, total = service.list_productos(session=session, skip=skip, limit=limit, categoria=categoria, activo=activo)
    response.headers["X-Total-Count"] = str(total)
    return [ProductoResponse.model_validate(row) for row in rows]


@router.post("/", response_model=ProductoResponse, status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def crear_producto(datos: ProductoCreate, session: SessionDep) -> ProductoResponse:
    """Añade un producto al catálogo."""
    return ProductoResponse.model_validate(service.create(session=session, datos=datos))


@router.get("/categorias", response_model=list[CategoriaResumen])
def listar_categorias(session: SessionDep) -> list[CategoriaResumen]:
    """Categorías con productos activos y cuántos tiene cada una."""
    return [CategoriaResumen(categoria=c, productos=n) for c, n in service.categories(session=session)]


@router.get(
    "/buscar",
    response_model=list[ProductoBusqueda],
    responses=error_responses((503, "Índice de búsqueda incompatible con el modelo configurado")),
)
def buscar_productos(
    session: SessionDep,
    rag: RagDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Lo que busca el cliente, como lo escribiría")],
    categoria: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    precio_max: Annotated[
        Decimal | None, Query(ge=0, le=Decimal("99999999.99"), max_digits=10, decimal_places=2)
    ] = None,
    en_stock: Annotated[bool | None, Query(description="true: solo con stock; false: solo agotados")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[ProductoBusqueda]:
    """Búsqueda híbrida (texto completo + semántica): tolera acentos, erratas, plurales y sinónimos regionales."""
    results = rag_service.search_productos(
        session=session, rag=rag, q=q, categoria=categoria, precio_max=precio_max, en_stock=en_stock, limit=limit
    )
    return [
        ProductoBusqueda.model_validate({**ProductoResponse.model_validate(r.item).model_dump(), "score": r.score})
        for r in results
    ]


@router.get("/{producto_id}", response_model=ProductoResponse, responses=NOT_FOUND)
def obtener_producto(producto_id: IdPath, session: SessionDep) -> ProductoResponse:
    """Devuelve un producto por id, con su precio y stock actuales."""
    return ProductoResponse.model_validate(service.get(session=session, producto_id=producto_id))


@router.patch("/{producto_id}", response_model=ProductoResponse, responses=NOT_FOUND | CONFLICT)
def actualizar_producto(producto_id: IdPath, datos: ProductoUpdate, session: SessionDep) -> ProductoResponse:
    """Actualiza solo los campos enviados."""
    return ProductoResponse.model_validate(service.update(session=session, producto_id=producto_id, datos=datos))


@router.delete("/{producto_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def desactivar_producto(producto_id: IdPath, session: SessionDep) -> Response:
    """Baja lógica: el producto sale del catálogo pero sigue en el historial de ventas."""
    service.deactivate(session=session, producto_id=producto_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
