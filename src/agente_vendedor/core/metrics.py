"""Prometheus metrics (the spec's key metrics); multiprocess-safe when PROMETHEUS_MULTIPROC_DIR is set."""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from sqlalchemy import Engine, event
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter("http_requests_total", "Peticiones HTTP por ruta y estado", ["method", "route", "status"])
HTTP_LATENCY = Histogram("http_request_duration_seconds", "Duración de las peticiones HTTP", ["method", "route"])
DB_QUERY = Histogram(
    "db_query_duration_seconds",
    "Duración de las consultas a la base de datos",
    ["operation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
RAG_LATENCY = Histogram("rag_query_duration_seconds", "Latencia de una consulta al agente (RAG)")
EXPORTS = Counter(
    "exportaciones_total", "Exportaciones por entidad, formato y resultado", ["entidad", "formato", "resultado"]
)
EXPORT_DURATION = Histogram("exportacion_duration_seconds", "Duración de las exportaciones", ["entidad", "formato"])
EMBEDDING_CACHE = Counter("embedding_cache_total", "Consultas a la caché de embeddings", ["resultado"])
LLM_CALLS = Counter("llm_calls_total", "Llamadas al LLM por resultado (ok, error, fallback)", ["resultado"])
CATALOG_CACHE = Counter("catalog_cache_total", "Consultas a la caché del catálogo", ["resultado"])
CANAL_MENSAJES = Counter(
    "canal_mensajes_total", "Mensajes por canal (api, web, whatsapp, telegram)", ["canal", "direccion"]
)
CANAL_FALLOS = Counter("canal_envios_fallidos_total", "Envíos a WhatsApp/Telegram que fallaron", ["canal", "motivo"])


def render() -> tuple[bytes, str]:
    """The exposition text: aggregated over every worker in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Count and time every request by its route template (not the raw path, to keep labels bounded)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/metrics":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "sin_ruta"
            counter, histogram = self._children(scope["method"], template, status)
            counter.inc()
            histogram.observe(time.perf_counter() - start)

    def _children(self, method: str, template: str, status: int) -> tuple[Any, Any]:
        """The labelled series of a (method, route, status), looked up once (route templates keep the set bounded)."""
        key = (method, template, status)
        children = self._series.get(key)
        if children is None:
            if len(self._series) > 10_000:  # unknown methods from clients could grow it: stay bounded
                self._series.clear()
            children = (HTTP_REQUESTS.labels(method, template, str(status)), HTTP_LATENCY.labels(method, template))
            self._series[key] = children
        return children


def instrument_engine(engine: Engine) -> None:
    """Time every statement the engine runs, labelled by its SQL verb."""

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        conn.info.setdefault("query_start", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _stop(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        started = conn.info["query_start"].pop()
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "OTHER"
        operation = verb if verb in {"SELECT", "INSERT", "UPDATE", "DELETE"} else "OTHER"
        DB_QUERY.labels(operation).observe(time.perf_counter() - started)
