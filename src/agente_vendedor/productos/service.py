"""Catalog service: create, read, update and deactivate productos."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agente_vendedor.productos.exceptions import ProductoNoEncontrado, SkuDuplicado
from agente_vendedor.productos.indice import INDICE_PRODUCTOS
from agente_vendedor.productos.models import Producto
from agente_vendedor.productos.schemas import ProductoCreate, ProductoUpdate
from agente_vendedor.rag import outbox


def normalize_sku(sku: str | None) -> str | None:
    """SKUs are compared and stored in upper case."""
    return sku.upper() if sku else None


def _ensure_sku_free(session: Session, sku: str | None, *, except_id: int | None = None) -> None:
    if sku is None:
        return
    query = select(Producto.id).where(Producto.sku == sku)
    if except_id is not None:
        query = query.where(Producto.id != except_id)
    if session.scalar(query) is not None:
        raise SkuDuplicado(sku)


def _flush(session: Session, producto: Producto) -> None:
    """Flush, turning a lost race on the unique SKU index into the same 409 (the request rolls back)."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise SkuDuplicado(producto.sku or "") from exc


def create(*, session: Session, datos: ProductoCreate) -> Producto:
    """Add a product; its SKU, when given, must be unused."""
    values = datos.model_dump()
    values["sku"] = normalize_sku(values["sku"])
    _ensure_sku_free(session, values["sku"])
    producto = Producto(**values)
    session.add(producto)
    _flush(session, producto)
    outbox.record(session, INDICE_PRODUCTOS, producto)
    return producto


def get(*, session: Session, producto_id: int) -> Producto:
    """The product with that id, or `ProductoNoEncontrado`."""
    producto = session.get(Producto, producto_id)
    if producto is None:
        raise ProductoNoEncontrado(producto_id)
    return producto


def list_productos(
    *,
    session: Session,
    skip: int = 0,
    limit: int = 100,
    categoria: str | None = None,
    activo: bool | None = None,
    en_stock: bool | None = None,
) -> tuple[Sequence[Producto], int]:
    """A page of the catalog ordered by category and name, and the total that match."""
    query = select(Producto)
    if categoria is not None:
        query = query.where(func.lower(Producto.categoria) == categoria.strip().lower())
    if activo is not None:
        query = query.where(Producto.activo.is_(activo))
    if en_stock is not None:
        query = query.where(Producto.stock > 0 if en_stock else Producto.stock == 0)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Producto.categoria, Producto.nombre, Producto.id).offset(skip).limit(limit)
    ).all()
    return rows, total


def low_stock(*, session: Session, umbral: int = 5, limit: int = 10) -> Sequence[Producto]:
    """Active products with at most `umbral` units, fewest first."""
    query = (
        select(Producto)
        .where(Producto.activo.is_(True), Producto.stock <= umbral)
        .order_by(Producto.stock, Producto.nombre, Producto.id)
        .limit(limit)
    )
    return session.scalars(query).all()


def categories(*, session: Session) -> list[tuple[str, int]]:
    """Each category with its number of active products."""
    query = (
        select(Producto.categoria, func.count())
        .where(Producto.activo.is_(True), Producto.categoria.is_not(None))
        .group_by(Producto.categoria)
        .order_by(Producto.categoria)
    )
    return [(str(name), int(count)) for name, count in session.execute(query).all()]


def update(*, session: Session, producto_id: int, datos: ProductoUpdate) -> Producto:
    """Change only the fields that were sent."""
    producto = get(session=session, producto_id=producto_id)
    changes = datos.model_dump(exclude_unset=True)
    if "sku" in changes:
        changes["sku"] = normalize_sku(changes["sku"])
        _ensure_sku_free(session, changes["sku"], except_id=producto.id)
    for field, value in changes.items():
        setattr(producto, field, value)
    _flush(session, producto)
    outbox.record(session, INDICE_PRODUCTOS, producto)
    return producto


def deactivate(*, session: Session, producto_id: int) -> None:
    """Soft delete: the product leaves the catalog but stays in order history."""
    producto = get(session=session, producto_id=producto_id)
    producto.activo = False
    session.flush()
    outbox.record(session, INDICE_PRODUCTOS, producto)
