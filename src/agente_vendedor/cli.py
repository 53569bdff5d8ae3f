"""The `agente-vendedor` command line: serve, migrate, seed-demo, reindex."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from agente_vendedor.core import migrate as migrations
from agente_vendedor.core.config import get_settings
from agente_vendedor.core.db import create_db_engine, create_session_factory
from agente_vendedor.demo import service as demo_service

app = typer.Typer(help="Agente Vendedor Inteligente: servidor y tareas de mantenimiento.", no_args_is_help=True)
console = Console(stderr=True)


def _migrate(revision: str = "head") -> None:
    settings = get_settings()
    migrations.upgrade(settings.sqlalchemy_url, revision)
    console.print(f"[green]Base de datos migrada a {revision}[/green] ({_safe_url(settings.sqlalchemy_url)})")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _seed(*, only_if_empty: bool) -> None:
    settings = get_settings()
    engine = create_db_engine(settings.sqlalchemy_url)
    try:
        with create_session_factory(engine).begin() as session:
            if only_if_empty and not demo_service.is_empty(session=session):
                console.print("El catálogo ya tiene productos: no se cargan datos de demostración.")
                return
            if not demo_service.is_empty(session=session):
                console.print("[yellow]El catálogo ya tiene productos: seed-demo solo carga en bases vacías.[/yellow]")
                raise typer.Exit(code=1)
            result = demo_service.seed(session=session)
        console.print(
            f"[green]Datos de demostración cargados:[/green] {result.productos} productos, {result.clientes} clientes"
        )
    finally:
        engine.dispose()


@app.command()
def migrate(
    revision: Annotated[str, typer.Option(help="Revisión destino (por defecto, la última)")] = "head",
) -> None:
    """Aplica las migraciones pendientes de la base de datos."""
    _migrate(revision)


@app.command()
def downgrade(revision: Annotated[str, typer.Argument(help="Revisión destino, p. ej. 0001 o base")]) -> None:
    """Revierte migraciones hasta la revisión indicada."""
    settings = get_settings()
    migrations.downgrade(settings.sqlalchemy_url, revision)
    console.print(f"[yellow]Base de datos revertida a {revision}[/yellow]")


@app.command("seed-demo")
def seed_demo() -> None:
    """Carga el catálogo de demostración en una base de datos vacía."""
    _migrate()
    _seed(only_if_empty=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interfaz de red")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Puerto TCP")] = 8000,
    workers: Annotated[int, typer.Option(help="Procesos de trabajo")] = 1,
    reload: Annotated[bool, typer.Option(help="Recargar al cambiar el código (desarrollo)")] = False,
) -> None:
    """Migra la base de datos, carga la demo si está vacía (DEMO_DATA) y arranca la API."""
    settings = get_settings()
    logging.basicConfig(level=logging.DEBUG if settings.DEBUG else logging.INFO)
    _migrate()
    if settings.DEMO_DATA:
        _seed(only_if_empty=True)
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
        proxy_headers=True,
    )


@app.command()
def reindex(
    entidad: Annotated[
        str | None, typer.Argument(help="productos o clientes (por defecto, ambos)", show_default=False)
    ] = None,
) -> None:
    """Reconstruye el índice de búsqueda (vectores y texto completo) desde la base de datos."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from agente_vendedor.rag.runtime import Rag

    targets = {"productos": "producto", "clientes": "cliente"}
    if entidad is not None and entidad not in targets:
        console.print(f"[red]Entidad desconocida {entidad!r}: use productos o clientes[/red]")
        raise typer.Exit(code=2)
    settings = get_settings()
    _migrate()
    engine = create_db_engine(settings.sqlalchemy_url)
    try:
        rag = Rag(settings, create_session_factory(engine))
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            for name, singular in targets.items():
                if entidad not in (None, name):
                    continue
                task = progress.add_task(f"Indexando {name}", total=rag.count_rows(singular))

                def advance(n: int, task: TaskID = task) -> None:
                    progress.advance(task, n)

                total = rag.reindex(singular, advance)
                progress.update(task, description=f"{name}: {total} indexados")
    finally:
        engine.dispose()
    console.print(f"[green]Índice reconstruido[/green] con el modelo {rag.model_name}")


if __name__ == "__main__":
    app()
