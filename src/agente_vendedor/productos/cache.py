"""Cached catalog reads, invalidated after any committed change to `productos` (ORM or SQL)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.orm import Session, sessionmaker

from agente_vendedor.core.cache import Cache, bump_on_write, mark_written
from agente_vendedor.core.metrics import CATALOG_CACHE
from agente_vendedor.productos.models import Producto

NAMESPACE = "catalogo"


def install(factory: sessionmaker[Session], cache: Cache) -> None:
    """Watch every session of `factory`: any write to productos bumps the catalog version after COMMIT."""
    bump_on_write(factory, cache, model=Producto, namespace=NAMESPACE)


_HIT = CATALOG_CACHE.labels("hit")
_MISS = CATALOG_CACHE.labels("miss")


def marcar_escrito(session: Session) -> None:
    """This session changed `productos` by a path the session's events do not see: drop the cached catalog on commit."""
    mark_written(session, NAMESPACE)


def _full_key(version: int, key: str) -> str:
    return f"{NAMESPACE}:v{version}:{key}"


def cached(cache: Cache, key: str, ttl: int, produce: Callable[[], bytes]) -> bytes:
    """The bytes under `key` in the current catalog version, produced and stored on a miss."""
    full_key = _full_key(cache.version(NAMESPACE), key)
    hit = cache.get(full_key)
    if hit is not None:
        _HIT.inc()
        return hit
    _MISS.inc()
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

    data = cached(cache, _page_key(skip, limit, categoria, activo), ttl, produce)
    return _split(data)


def peek_page(
    *, cache: Cache, skip: int, limit: int, categoria: str | None, activo: bool | None
) -> tuple[bytes, int] | None:
    """A cached catalog page (JSON bytes, total) when fresh and in this process (no network, no waiting, so it may
    be asked on the event loop); None otherwise."""
    version = cache.known_version(NAMESPACE)
    if version is None:
        return None
    data = cache.peek(_full_key(version, _page_key(skip, limit, categoria, activo)))
    if data is None:
        return None
    _HIT.inc()
    return _split(data)


def _page_key(skip: int, limit: int, categoria: str | None, activo: bool | None) -> str:
    categoria_key = categoria.strip().lower() if categoria else ""
    return f"pagina:{skip}:{limit}:{categoria_key}:{activo}"


def _split(data: bytes) -> tuple[bytes, int]:
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
