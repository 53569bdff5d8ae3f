"""Health checks: each one reports its status, a detail and how long it took."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine, text

from agente_vendedor.core.config import Settings


class Check(BaseModel):
    """The outcome of one health check."""

    ok: bool
    detail: str
    ms: float


class HealthResponse(BaseModel):
    """`healthy` when every check passes."""

    status: Literal["healthy", "unhealthy"]
    checks: Annotated[dict[str, Check], Field(description="Una entrada por dependencia")]


def _timed(check: Callable[[], str]) -> Check:
    start = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as exc:  # a health check reports failures, it never raises
        detail, ok = f"{type(exc).__name__}: {exc}"[:300], False
    return Check(ok=ok, detail=detail, ms=round((time.perf_counter() - start) * 1000, 2))


def check_database(engine: Engine) -> Check:
    """The database answers a trivial query."""

    def run() -> str:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return f"{engine.dialect.name} responde"

    return _timed(run)


def check_disk_space(folders: list[Path], min_free_mb: int) -> Check:
    """Free space under the data and export folders stays above the threshold."""

    def run() -> str:
        reports = []
        for folder in folders:
            existing = folder.resolve()
            while not existing.exists():
                existing = existing.parent
            free_mb = shutil.disk_usage(existing).free // (1024 * 1024)
            if free_mb < min_free_mb:
                raise OSError(f"solo quedan {free_mb} MB libres en {folder} (mínimo {min_free_mb} MB)")
            reports.append(f"{folder}: {free_mb} MB libres")
        return "; ".join(reports)

    return _timed(run)


def check_chromadb(rag: Any) -> Check:
    """The vector index answers and matches the configured model; the counts show whether it lags the database.

    A lagging index, or rows parked after failing repeatedly, only degrade ranking (results are always read from
    the database), so they are reported in the detail rather than failing the check and taking the service out of
    rotation. An unreachable index fails the check (503) while search answers from the full-text half.
    """

    def run() -> str:
        status = rag.status()
        pending = rag.pending()
        parked = rag.parked()
        report = ", ".join(f"{name}: {vectors}/{rows}" for name, (vectors, rows) in status.items())
        report = f"{report} (vectores/filas); pendientes: {pending}; aparcados: {parked}"
        if parked:
            report += " (fallaron repetidamente: ejecute `agente-vendedor reindexar --reintentar`)"
        elif pending == 0 and any(vectors != rows for vectors, rows in status.values()):
            report += "; desfasado respecto a la base de datos: ejecute `agente-vendedor reindexar`"
        return report

    return _timed(run)


_LLM_CACHE_SECONDS = 30.0
_llm_last: dict[int, tuple[float, Check]] = {}


def check_llm(generator: Any) -> Check:
    """Offline (no LLM configured) is healthy; a configured OpenAI-compatible server must answer `models.list`.

    The answer is kept 30 s so frequent probes don't hammer a paid API.
    """
    if generator is None:
        return Check(ok=True, detail="no configurado: responde el motor de diálogo offline", ms=0.0)
    cached = _llm_last.get(id(generator))
    if cached is not None and time.monotonic() - cached[0] < _LLM_CACHE_SECONDS:
        return cached[1]

    def run() -> str:
        models = generator.client.with_options(timeout=3.0, max_retries=0).models.list()
        names = [model.id for model in models.data]
        configured = "disponible" if generator.model in names else "no aparece en la lista (puede ser un alias)"
        return f"responde ({len(names)} modelos; {generator.model}: {configured})"

    check = _timed(run)
    if not check.ok:
        check.detail = f"no responde, el agente usa el motor offline mientras tanto: {check.detail}"
    _llm_last[id(generator)] = (time.monotonic(), check)
    return check


def run_checks(engine: Engine, settings: Settings, rag: Any = None, llm: Any = None) -> HealthResponse:
    """Run every check and summarise them."""
    checks = {
        "database": check_database(engine),
        "disk_space": check_disk_space([settings.DATA_DIRECTORY, settings.EXPORT_DIRECTORY], settings.MIN_FREE_DISK_MB),
    }
    if rag is not None:
        checks["chromadb"] = check_chromadb(rag)
    checks["llm"] = check_llm(llm)
    healthy = all(check.ok for check in checks.values())
    return HealthResponse(status="healthy" if healthy else "unhealthy", checks=checks)


router = APIRouter(tags=["salud"])


class Liveness(BaseModel):
    """The process is up and serving."""

    status: Literal["alive"]


@router.get("/health/live", response_model=Liveness)
async def liveness() -> Liveness:
    """Comprobación barata para orquestadores: el proceso responde (no consulta dependencias)."""
    return Liveness(status="alive")


@router.get(
    "/health",
    response_model=HealthResponse,
    responses={503: {"model": HealthResponse, "description": "Alguna comprobación falla"}},
)
def health(request: Request) -> Any:
    """Estado del servicio y de sus dependencias; 503 si alguna falla."""
    state = request.app.state
    result = run_checks(state.engine, state.settings, getattr(state, "rag", None), getattr(state, "agente_llm", None))
    return JSONResponse(result.model_dump(), status_code=200 if result.status == "healthy" else 503)
