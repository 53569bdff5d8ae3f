"""Prometheus metrics (the spec's key metrics); multiprocess-safe when PROMETHEUS_MULTIPROC_DIR is set."""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from sqlalchemy import Engine, event
from starlette.types import Scope

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


class HttpSeries:
    """Count and time requests by route template (not the raw path, to keep labels bounded).

    The labelled series of each (method, route, status) are looked up once: `labels()` takes a lock and builds
    a key on every call, a dictionary lookup does not.
    """

    def __init__(self) -> None:
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        """Record one finished request (its route is in the scope once the router matched it)."""
        if scope["path"] == "/metrics":
            return
        route = scope.get("route")
        template = getattr(route, "path", None) or "sin_ruta"
        key = (scope["method"], template, status)
        children = self._series.get(key)
        if children is None:
            if len(self._series) > 10_000:  # unknown methods from clients could grow it: stay bounded
                self._series.clear()
            children = (HTTP_REQUESTS.labels(key[0], template, str(status)), HTTP_LATENCY.labels(key[0], template))
            self._series[key] = children
        children[0].inc()
        children[1].observe(seconds)


_DB_OPERATIONS = {verb: DB_QUERY.labels(verb) for verb in ("SELECT", "INSERT", "UPDATE", "DELETE", "OTHER")}


def instrument_engine(engine: Engine) -> None:
    """Time every statement the engine runs, labelled by its SQL verb."""

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        conn.info.setdefault("query_start", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _stop(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        started = conn.info["query_start"].pop()
        observe_query(statement.lstrip()[:6].upper(), time.perf_counter() - started)


def observe_query(verb: str, seconds: float) -> None:
    """Record one statement's duration under its SQL verb (`SELECT`, `INSERT`...; anything else is `OTHER`)."""
    _DB_OPERATIONS.get(verb, _DB_OPERATIONS["OTHER"]).observe(seconds)
