"""HTTP routes of the catalog."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query, Request, Response, UploadFile, status
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from agente_vendedor.auth.dependencies import AdminUser, StaffUser
from agente_vendedor.core.db import SessionDep
from agente_vendedor.core.errors import error_responses
from agente_vendedor.core.params import IdPath, Limit, Skip
from agente_vendedor.core.routing import DbRoute, PrefixedRouter, run_sync
from agente_vendedor.productos import busqueda, service
from agente_vendedor.productos import cache as catalog_cache
from agente_vendedor.productos.importar import ImportacionErrorResponse, ResultadoImportacion, import_productos
from agente_vendedor.productos.schemas import ProductoBusqueda, ProductoCreate, ProductoResponse, ProductoUpdate
from agente_vendedor.rag import service as rag_service
from agente_vendedor.rag.dependencies import RagDep

router = PrefixedRouter(prefix="/productos", tags=["productos"], route_class=DbRoute)

NOT_FOUND = error_responses((404, "Producto no encontrado"))
CONFLICT = error_responses((409, "SKU ya registrado"))
# Reads of the catalog are public (shop visitors); every write needs a staff token.
STAFF_ONLY = error_responses((401, "Falta el token o no es válido"), (403, "Rol insuficiente"))


def _cache(request: Request) -> dict[str, Any]:
    return {"cache": request.app.state.cache, "ttl": request.app.state.settings.CACHE_TTL_SECONDS}


class CategoriaResumen(BaseModel):
    """A category and how many active products it has."""

    categoria: str
    productos: int


def _pagina(
    factory: sessionmaker[Session], skip: int, limit: int, categoria: str | None, activo: bool | None, cache: Any
) -> tuple[bytes, int]:
    """A catalog page through the cache, read in a short session of its own (a read: nothing to commit)."""
    with factory() as session:
        return catalog_cache.list_cached(
            session=session, skip=skip, limit=limit, categoria=categoria, activo=activo, **cache
        )


@router.get("/", response_model=list[ProductoResponse])
async def listar_productos(
    request: Request,
    skip: Skip = 0,
    limit: Limit = 100,
    categoria: Annotated[str | None, Query(max_length=100)] = None,
    activo: bool | None = None,
) -> Response:
    """Lista el catálogo con paginación y filtros (con caché); `X-Total-Count` lleva el total."""
    cache = request.app.state.cache
    # A hit this worker holds needs no I/O: answered on the event loop, no thread, no session, no database connection.
    hit = catalog_cache.peek_page(cache=cache, skip=skip, limit=limit, categoria=categoria, activo=activo)
    if hit is None:
        factory = request.app.state.session_factory
        hit = await run_sync(_pagina, factory, skip, limit, categoria, activo, _cache(request))
    body, total = hit
    # The cache holds the JSON of ProductoResponse items already: sent as is (the OpenAPI schema is response_model).
    return Response(body, media_type="application/json", headers={"X-Total-Count": str(total)})


@router.post("/", response_model=ProductoResponse, status_code=status.HTTP_201_CREATED, responses=CONFLICT | STAFF_ONLY)
def crear_producto(datos: ProductoCreate, session: SessionDep, _user: StaffUser) -> ProductoResponse:
    """Añade un producto al catálogo."""
    return ProductoResponse.model_validate(service.create(session=session, datos=datos))


@router.post(
    "/importar",
    response_model=ResultadoImportacion,
    responses=STAFF_ONLY
    | {422: {"model": ImportacionErrorResponse, "description": "Filas no válidas: no se importa nada"}},
)
def importar_productos(
    archivo: UploadFile,
    session: SessionDep,
    _admin: AdminUser,
    simular: Annotated[bool, Query(description="Solo validar e informar, sin escribir")] = False,
) -> ResultadoImportacion:
    """Importa un CSV (`;` o `,`, coma decimal) o XLSX: crea o actualiza por SKU (o nombre); todo o nada."""
    data = archivo.file.read()
    return import_productos(session=session, data=data, filename=archivo.filename or "", simular=simular)


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
    response: Response,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Lo que busca el cliente, como lo escribiría")],
    categoria: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    precio_max: Annotated[
        Decimal | None, Query(ge=0, le=Decimal("99999999.99"), max_digits=10, decimal_places=2)
    ] = None,
    en_stock: Annotated[bool | None, Query(description="true: solo con stock; false: solo agotados")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[ProductoBusqueda]:
    """Búsqueda híbrida (texto completo + semántica): tolera acentos, erratas, plurales y sinónimos regionales.

    Si el índice semántico no responde, contesta solo la búsqueda de texto completo y lo indica con la cabecera
    `X-Busqueda-Modo: lexico`.
    """
    results = busqueda.search_productos(
        session=session, rag=rag, q=q, categoria=categoria, precio_max=precio_max, en_stock=en_stock, limit=limit
    )
    rag_service.mark_response(session, response.headers)
    return [
        ProductoBusqueda.model_validate({**ProductoResponse.model_validate(r.item).model_dump(), "score": r.score})
        for r in results
    ]


@router.get("/{producto_id}", response_model=ProductoResponse, responses=NOT_FOUND)
def obtener_producto(request: Request, producto_id: IdPath, session: SessionDep) -> Response:
    """Devuelve un producto por id, con su precio y stock actuales (caché invalidada en cada cambio)."""
    body = catalog_cache.get_cached(session=session, producto_id=producto_id, **_cache(request))
    return Response(body, media_type="application/json")


@router.patch("/{producto_id}", response_model=ProductoResponse, responses=NOT_FOUND | CONFLICT | STAFF_ONLY)
def actualizar_producto(
    producto_id: IdPath, datos: ProductoUpdate, session: SessionDep, _user: StaffUser
) -> ProductoResponse:
    """Actualiza solo los campos enviados."""
    return ProductoResponse.model_validate(service.update(session=session, producto_id=producto_id, datos=datos))


@router.delete("/{producto_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND | STAFF_ONLY)
def desactivar_producto(producto_id: IdPath, session: SessionDep, _user: StaffUser) -> Response:
    """Baja lógica: el producto sale del catálogo pero sigue en el historial de ventas."""
    service.deactivate(session=session, producto_id=producto_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
