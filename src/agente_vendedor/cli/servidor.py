"""`servir`: migrate, load the demo when asked, make sure there is an admin, and run the API under uvicorn."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from agente_vendedor.cli.common import console, migrate_database
from agente_vendedor.cli.datos import seed_demo
from agente_vendedor.cli.usuarios import ensure_admin
from agente_vendedor.core.logging import configure_logging
from agente_vendedor.settings import get_settings


def _prepare_multiprocess_metrics(folder: Path) -> None:
    """Workers write their metrics to files in `folder` so /metrics adds them up; stale files go first."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder.resolve())


def servir(
    host: Annotated[str, typer.Option(help="Interfaz de red")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Puerto TCP")] = 8000,
    workers: Annotated[int, typer.Option(help="Procesos de trabajo")] = 1,
    reload: Annotated[bool, typer.Option(help="Recargar al cambiar el código (desarrollo)")] = False,
) -> None:
    """Migra la base de datos, carga la demo si está vacía (DEMO_DATA) y arranca la API."""
    settings = get_settings()
    configure_logging(debug=settings.DEBUG)
    if workers > 1:
        _prepare_multiprocess_metrics(settings.DATA_DIRECTORY / "metrics")
    migrate_database()
    if settings.DEMO_DATA:
        seed_demo(only_if_empty=True)
    ensure_admin()
    if workers > 1 and not settings.CHROMA_HOST:
        console.print(
            "[yellow]Con varios procesos use un servidor Chroma (`chroma run`) y CHROMA_HOST/CHROMA_PORT: "
            "el índice embebido no admite escritores concurrentes.[/yellow]"
        )
    console.print(f"API en http://{host}:{port} — documentación en http://{host}:{port}/docs")
    uvicorn.run(
        "agente_vendedor.main:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        server_header=False,
        log_config=None,
        access_log=False,  # our own middleware logs each request as JSON with its request id
        proxy_headers=True,
        # A spawned worker imports this module before it can answer the supervisor's ping; on a loaded 2-core
        # machine that took over uvicorn's 5 s default, and every worker was killed and respawned forever.
        timeout_worker_healthcheck=30,
    )
