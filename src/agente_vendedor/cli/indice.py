"""`reindexar`: rebuild the search index from the database, or retry the changes it parked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from agente_vendedor.cli.common import console, db_engine, migrate_database
from agente_vendedor.core.db import create_session_factory
from agente_vendedor.settings import get_settings

if TYPE_CHECKING:
    from agente_vendedor.rag.runtime import Rag


def reindexar(
    entidad: Annotated[
        str | None, typer.Argument(help="productos o clientes (por defecto, ambos)", show_default=False)
    ] = None,
    reintentar: Annotated[
        bool,
        typer.Option(
            "--reintentar",
            help="No reconstruye: da otra oportunidad a los cambios aparcados tras fallar repetidamente (ver /health)",
        ),
    ] = False,
) -> None:
    """Reconstruye el índice de búsqueda (vectores y texto completo) desde la base de datos."""
    # Lazy: the search runtime loads numpy and the vector index client (about 0.25 s), which no other command needs.
    from agente_vendedor.models import INDEXABLES
    from agente_vendedor.rag.runtime import Rag

    objetivos = {e.coleccion: e.entidad for e in INDEXABLES}  # the CLI names them in plural
    if entidad is not None and entidad not in objetivos:
        console.print(f"[red]Entidad desconocida {entidad!r}: use productos o clientes[/red]")
        raise typer.Exit(code=2)
    if reintentar and entidad is not None:
        console.print("[red]--reintentar trata todos los cambios aparcados: no indique una entidad[/red]")
        raise typer.Exit(code=2)
    settings = get_settings()
    migrate_database()
    with db_engine() as engine:
        rag = Rag(settings, create_session_factory(engine), entidades=INDEXABLES)
        if reintentar:
            _retry_parked(rag)
            return
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            for name, singular in objetivos.items():
                if entidad not in (None, name):
                    continue
                task = progress.add_task(f"Indexando {name}", total=rag.count_rows(singular))

                def advance(n: int, task: TaskID = task) -> None:
                    progress.advance(task, n)

                total = rag.reindex(singular, advance)
                progress.update(task, description=f"{name}: {total} indexados")
    console.print(f"[green]Índice reconstruido[/green] con el modelo {rag.model_name}")


def _retry_parked(rag: Rag) -> None:
    """`reindexar --reintentar`: parked outbox rows get fresh attempts now; exit 1 if some fail again."""
    from agente_vendedor.rag.index import IndiceNoDisponible  # already loaded with the runtime

    try:
        result = rag.retry_parked()
    except IndiceNoDisponible as exc:
        console.print(f"[red]El índice de búsqueda no responde; los cambios siguen pendientes: {exc.message}[/red]")
        raise typer.Exit(code=1) from exc
    console.print(
        f"Cambios fallidos o aparcados reactivados: {result.reactivadas}; procesados ahora: {result.procesadas}; "
        f"vuelven a fallar: {result.fallidas}"
    )
    if result.fallidas:
        console.print(
            "[yellow]Algunos cambios siguen fallando: se reintentan con espera creciente y se aparcan de nuevo si no "
            "se resuelven; el error de cada uno está en rag_outbox.ultimo_error.[/yellow]"
        )
        raise typer.Exit(code=1)
    console.print("[green]Sin cambios pendientes de reintento.[/green]")
