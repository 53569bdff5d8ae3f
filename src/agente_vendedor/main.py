"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from agente_vendedor import __version__
from agente_vendedor.clientes.router import router as clientes_router
from agente_vendedor.core import models as _models  # noqa: F401  (every mapper registered, e.g. Venta for Cliente)
from agente_vendedor.core.config import Settings, get_settings
from agente_vendedor.core.db import create_db_engine, create_session_factory
from agente_vendedor.core.errors import ERROR_RESPONSES, install_error_handlers
from agente_vendedor.core.health import router as health_router
from agente_vendedor.core.middleware import RequestIdMiddleware
from agente_vendedor.core.migrate import current_revision, head_revision
from agente_vendedor.productos.router import router as productos_router
from agente_vendedor.rag.runtime import Rag

logger = logging.getLogger("agente_vendedor")

DESCRIPTION = """
API del **Agente Vendedor Inteligente**: catálogo real, clientes, pedidos y exportaciones.

Todos los errores tienen la forma `{"detail": "<mensaje en español>", "code": "<código>"}`.
"""


class DatabaseNotMigrated(RuntimeError):
    """The database schema is behind the code."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for the given settings (the environment's by default)."""
    settings = settings or get_settings()
    engine = create_db_engine(settings.sqlalchemy_url, echo=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        expected = head_revision(settings.sqlalchemy_url)
        found = current_revision(engine)
        if found != expected:
            raise DatabaseNotMigrated(
                f"La base de datos está en la revisión {found!r} y el código espera {expected!r}: "
                "ejecute `agente-vendedor migrate` (o `agente-vendedor serve`, que migra al arrancar)"
            )
        if rag.pending():
            # Work a crash left between a commit and its index write: completed before serving.
            done = await anyio.to_thread.run_sync(rag.process_outbox_safely)
            logger.info("Índice de búsqueda: %s cambios pendientes completados al arrancar", done)
        yield
        engine.dispose()

    app = FastAPI(
        title="Agente Vendedor Inteligente",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        debug=False,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = create_session_factory(engine)
    rag = Rag(settings, app.state.session_factory)
    rag.install()
    app.state.rag = rag

    install_error_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials="*" not in settings.cors_origins,
        allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        expose_headers=["X-Total-Count", "X-Request-ID", "Content-Disposition"],
    )
    app.add_middleware(RequestIdMiddleware)

    app.include_router(health_router)
    app.include_router(clientes_router, responses=ERROR_RESPONSES)
    app.include_router(productos_router, responses=ERROR_RESPONSES)
    return app


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory agente_vendedor.main:app_factory`."""
    return create_app()
