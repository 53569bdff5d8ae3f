"""Cached catalog reads, invalidated after any committed change to `productos` (ORM or SQL)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import TextClause, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from agente_vendedor.core.cache import Cache
from agente_vendedor.core.metrics import CATALOG_CACHE
from agente_vendedor.productos.models import Producto

NAMESPACE = "catalogo"
_CHANGED = "catalogo_modificado"
_SQL_WRITE = re.compile(r"^\s*(update|insert\s+into|delete\s+from)\s+productos\b", re.IGNORECASE)


def _touches_productos(state: ORMExecuteState) -> bool:
    if state.is_update or state.is_delete or state.is_insert:
        mapper = state.bind_mapper
        if mapper is not None and mapper.class_ is Producto:
            return True
        table = getattr(state.statement, "table", None)
        return getattr(table, "name", None) == "productos"
    return isinstance(state.statement, TextClause) and bool(_SQL_WRITE.match(state.statement.text))


def install(factory: sessionmaker[Session], cache: Cache) -> None:
    """Watch every session of `factory`: any write to productos bumps the catalog version after COMMIT."""

    @event.listens_for(factory, "after_flush")
    def _flushed(session: Session, _context: Any) -> None:
        if any(isinstance(obj, Producto) for obj in (*session.new, *session.dirty, *session.deleted)):
            session.info[_CHANGED] = True

    @event.listens_for(factory, "do_orm_execute")
    def _executed(state: ORMExecuteState) -> None:
        if _touches_productos(state):
            state.session.info[_CHANGED] = True

    @event.listens_for(factory, "after_commit")
    def _committed(session: Session) -> None:
        if session.info.pop(_CHANGED, False):
            cache.bump(NAMESPACE)

    @event.listens_for(factory, "after_rollback")
    def _rolled_back(session: Session) -> None:
        session.info.pop(_CHANGED, None)


def cached(cache: Cache, key: str, ttl: int, produce: Callable[[], bytes]) -> bytes:
    """The bytes under `key` in the current catalog version, produced and stored on a miss."""
    full_key = f"{NAMESPACE}:v{cache.version(NAMESPACE)}:{key}"
    hit = cache.get(full_key)
    if hit is not None:
        CATALOG_CACHE.labels("hit").inc()
        return hit
    CATALOG_CACHE.labels("miss").inc()
    value = produce()
    cache.set(full_key, value, ttl)
    return value


def list_cached(
    *, session: Session, cache: Cache, ttl: int, skip: int, limit: int, categoria: str | None, activo: bool | None
) -> tuple[bytes, int]:
    """A catalog page as the response's JSON bytes plus the total, from the cache when fresh.

    A hit is sent as stored: no parsing, no model validation, no serialisation (the profile of a loaded
    server showed those were most of the cost of a cached page).
    """
    from agente_vendedor.productos import service
    from agente_vendedor.productos.schemas import ProductoResponse

    def produce() -> bytes:
        rows, total = service.list_productos(
            session=session, skip=skip, limit=limit, categoria=categoria, activo=activo
        )
        items = _page_adapter().dump_json([ProductoResponse.model_validate(r) for r in rows])
        return b"%d\n%b" % (total, items)

    categoria_key = categoria.strip().lower() if categoria else ""
    data = cached(cache, f"pagina:{skip}:{limit}:{categoria_key}:{activo}", ttl, produce)
    total, _, items = data.partition(b"\n")
    return items, int(total)


def get_cached(*, session: Session, cache: Cache, ttl: int, producto_id: int) -> bytes:
    """One product as the response's JSON bytes, from the cache when fresh (unknown ids raise, and are not cached)."""
    from agente_vendedor.productos import service
    from agente_vendedor.productos.schemas import ProductoResponse

    def produce() -> bytes:
        producto = service.get(session=session, producto_id=producto_id)
        return ProductoResponse.model_validate(producto).model_dump_json().encode()

    return cached(cache, f"producto:{producto_id}", ttl, produce)


@functools.cache
def _page_adapter() -> TypeAdapter[list[Any]]:
    from agente_vendedor.productos.schemas import ProductoResponse

    return TypeAdapter(list[ProductoResponse])
