"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
import fastapi_offline
import structlog
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig
from starlette.types import ASGIApp

import agente_vendedor.models  # noqa: F401  (every mapper must be known before the first query)
from agente_vendedor import __version__
from agente_vendedor.agente import llm as agente_llm
from agente_vendedor.agente.router import router as agente_router
from agente_vendedor.agente.router import staff_router as agente_staff_router
from agente_vendedor.auth import cache as auth_cache
from agente_vendedor.auth.dependencies import require_admin, require_staff
from agente_vendedor.auth.router import auth_router, usuarios_router
from agente_vendedor.canales import runtime as canales
from agente_vendedor.clientes.router import router as clientes_router
from agente_vendedor.core.cache import create_cache
from agente_vendedor.core.db import create_db_engine, create_session_factory
from agente_vendedor.core.errors import ERROR_RESPONSES, error_responses, install_error_handlers
from agente_vendedor.core.health import router as health_router
from agente_vendedor.core.logging import route_structlog_to_stdlib
from agente_vendedor.core.memory import settle_memory
from agente_vendedor.core.metrics import instrument_engine, render
from agente_vendedor.core.middleware import CrossOriginOnly, HttpMiddleware
from agente_vendedor.core.migrate import current_revision, head_revision
from agente_vendedor.core.ratelimit import RateLimiter
from agente_vendedor.exportar.router import router as exportar_router
from agente_vendedor.panel import router as panel
from agente_vendedor.productos import cache as catalog_cache
from agente_vendedor.productos.router import router as productos_router
from agente_vendedor.rag.runtime import Rag
from agente_vendedor.settings import Settings, get_settings
from agente_vendedor.ventas.router import clientes_router as ventas_clientes_router
from agente_vendedor.ventas.router import router as ventas_router

logger = logging.getLogger("agente_vendedor")

DESCRIPTION = """
API del **Agente Vendedor Inteligente**: catálogo real, clientes, pedidos y exportaciones.

Autenticación: pulse **Authorize** e introduzca el email y la contraseña de un usuario del personal
(`POST /auth/token`). El catálogo (`GET /productos/...`) y `/health` son públicos.

Todos los errores tienen la forma `{"detail": "<mensaje en español>", "code": "<código>"}`.
"""

# Swagger UI's files come from the fastapi-offline wheel, so /docs works without internet.
SWAGGER_STATIC = Path(fastapi_offline.__file__).parent / "static"
AUTH_ERRORS = error_responses((401, "Falta el token o no es válido"), (403, "Rol insuficiente"))
STAFF = [Depends(require_staff)]
ADMIN = [Depends(require_admin)]


OPENAPI_TAGS = [
    {"name": "autenticación", "description": "Token del personal (`POST /auth/token`)"},
    {"name": "usuarios", "description": "Usuarios del personal y sus roles"},
    {"name": "clientes", "description": "Clientes de la tienda"},
    {"name": "productos", "description": "Catálogo (lectura pública)"},
    {"name": "ventas", "description": "Pedidos"},
    {"name": "agente", "description": "Chat con el agente vendedor"},
    {"name": "exportar", "description": "Exportaciones a Excel y CSV"},
    {"name": "canales", "description": "Widget web, WhatsApp y Telegram"},
    {"name": "salud", "description": "Comprobaciones para orquestadores y monitorización"},
]
"""The sections of /docs in this order, whatever order the routers are tried in."""

NO_OPENTELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
"""FastAPI's native OpenTelemetry bridge, off unless `OPENTELEMETRY=true`: the access log and Prometheus cover the
same ground, and its per-request checks cost tens of µs even with no provider set up (`bench/RESULTS-http.md`)."""


class DatabaseNotMigrated(RuntimeError):
    """The database schema is behind the code."""


def _install_docs(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=SWAGGER_STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Agente Vendedor Inteligente — API",
            swagger_js_url="/static/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui.css",
            swagger_favicon_url="/static/favicon.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for the given settings (the environment's by default)."""
    settings = settings or get_settings()
    if not structlog.is_configured():
        route_structlog_to_stdlib()
    engine = create_db_engine(settings.sqlalchemy_url, echo=False)
    instrument_engine(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        expected = head_revision(settings.sqlalchemy_url)
        found = current_revision(engine)
        if found != expected:
            raise DatabaseNotMigrated(
                f"La base de datos está en la revisión {found!r} y el código espera {expected!r}: "
                "ejecute `agente-vendedor migrar` (o `agente-vendedor servir`, que migra al arrancar)"
            )
        # A worker (the first one, or uvicorn's replacement of a dead one) takes traffic only once the embedder is
        # loaded: otherwise its first searches and writes wait for the model, seconds on a busy machine.
        await anyio.to_thread.run_sync(rag.warm_up)
        if rag.pending():
            # Work a crash left between a commit and its index write: completed before serving.
            done = await anyio.to_thread.run_sync(rag.process_outbox_safely)
            logger.info("Índice de búsqueda: %s cambios pendientes completados al arrancar", done)
        rag.start_worker(settings.OUTBOX_INTERVAL_SECONDS)
        app.state.canales.start()
        if app.state.server_process:
            await anyio.to_thread.run_sync(rag.map_model)
            settle_memory()
        try:
            yield
        finally:
            app.state.canales.stop()
            rag.stop_worker()
            engine.dispose()

    app = FastAPI(
        title="Agente Vendedor Inteligente",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        debug=False,
        docs_url=None,
        redoc_url=None,
        telemetry=None if settings.OPENTELEMETRY else NO_OPENTELEMETRY,
        openapi_tags=OPENAPI_TAGS,
    )
    app.state.settings = settings
    app.state.server_process = False
    app.state.engine = engine
    app.state.session_factory = create_session_factory(engine)
    app.state.rate_limiter = RateLimiter(settings.REDIS_URL)
    app.state.cache = create_cache(settings.REDIS_URL, namespace=settings.sqlalchemy_url)
    catalog_cache.install(app.state.session_factory, app.state.cache)
    auth_cache.install(app.state.session_factory, app.state.cache)
    app.state.usuarios = auth_cache.UsuariosVigentes(
        app.state.session_factory, app.state.cache, max_age=settings.AUTH_CACHE_SECONDS
    )
    app.state.tokens = auth_cache.TokensVerificados(settings.SECRET_KEY)
    rag = Rag(settings, app.state.session_factory, entidades=agente_vendedor.models.INDEXABLES)
    rag.install()
    app.state.rag = rag
    app.state.agente_llm = agente_llm.crear(settings)
    app.state.canales = canales.Canales(
        config=settings, session_factory=app.state.session_factory, rag=rag, llm=app.state.agente_llm
    )

    install_error_handlers(app)

    def cors(inner: ASGIApp) -> ASGIApp:
        staff: ASGIApp = CORSMiddleware(
            inner,
            allow_origins=settings.cors_origins,
            allow_credentials="*" not in settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Total-Count", "X-Request-ID", "Content-Disposition", "Retry-After", "X-Busqueda-Modo"],
        )
        return canales.WidgetCORS(staff, origins=settings.WIDGET_ORIGINS) if settings.WIDGET_ENABLED else staff

    app.add_middleware(CrossOriginOnly, build=cors)
    app.add_middleware(
        HttpMiddleware,
        max_bytes=settings.MAX_BODY_BYTES,
        overrides={
            "/productos/importar": settings.MAX_IMPORT_BYTES,
            "/panel/productos/importar": settings.MAX_IMPORT_BYTES,
        },
    )

    # FastAPI tries the routers in this order on every request. A PrefixedRouter that is not the one declines at
    # once; the others (health, docs, metrics) try each of their routes: the probes and the busiest parts first.
    app.include_router(health_router)
    app.include_router(productos_router, responses=ERROR_RESPONSES)
    app.include_router(clientes_router, responses=ERROR_RESPONSES | AUTH_ERRORS, dependencies=STAFF)
    app.include_router(ventas_router, responses=ERROR_RESPONSES | AUTH_ERRORS, dependencies=STAFF)
    app.include_router(ventas_clientes_router, responses=ERROR_RESPONSES | AUTH_ERRORS, dependencies=STAFF)
    app.include_router(auth_router, responses=ERROR_RESPONSES)
    app.include_router(usuarios_router, responses=ERROR_RESPONSES)
    app.include_router(agente_router, responses=ERROR_RESPONSES)
    app.include_router(agente_staff_router, responses=ERROR_RESPONSES | AUTH_ERRORS, dependencies=STAFF)
    app.include_router(exportar_router, responses=ERROR_RESPONSES | AUTH_ERRORS, dependencies=ADMIN)
    panel.install(app)
    canales.install(app, settings, staff=STAFF, responses=ERROR_RESPONSES)
    _install_docs(app)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        """Prometheus exposition (aggregated over workers); holds no personal data."""
        body, content_type = render()
        return Response(body, media_type=content_type)

    return app


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory agente_vendedor.main:app_factory` (what `servir` runs)."""
    app = create_app()
    app.state.server_process = True  # the process is this app's alone: its startup objects can be frozen
    return app
