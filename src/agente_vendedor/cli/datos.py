"""The database and its data: migrate, revert, the demo catalog, and product imports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from agente_vendedor.cli.common import console, db_session, migrate_database
from agente_vendedor.core import migrate
from agente_vendedor.demo import service as demo_service
from agente_vendedor.productos.importar import ImportacionInvalida, import_productos
from agente_vendedor.settings import get_settings


def migrar(
    revision: Annotated[str, typer.Option(help="Revisión destino (por defecto, la última)")] = "head",
) -> None:
    """Aplica las migraciones pendientes de la base de datos."""
    migrate_database(revision)


def revertir(revision: Annotated[str, typer.Argument(help="Revisión destino, p. ej. 0001 o base")]) -> None:
    """Revierte migraciones hasta la revisión indicada."""
    migrate.downgrade(get_settings().sqlalchemy_url, revision)
    console.print(f"[yellow]Base de datos revertida a {revision}[/yellow]")


def seed_demo(*, only_if_empty: bool) -> None:
    """Load the demo catalog; an existing catalog is left alone (quietly, or with exit code 1)."""
    with db_session() as session:
        if not demo_service.is_empty(session=session):
            if only_if_empty:
                console.print("El catálogo ya tiene productos: no se cargan datos de demostración.")
                return
            console.print("[yellow]El catálogo ya tiene productos: cargar-demo solo carga en bases vacías.[/yellow]")
            raise typer.Exit(code=1)
        result = demo_service.seed(session=session)
    console.print(
        f"[green]Datos de demostración cargados:[/green] {result.productos} productos, {result.clientes} clientes"
    )


def cargar_demo() -> None:
    """Carga el catálogo de demostración en una base de datos vacía."""
    migrate_database()
    seed_demo(only_if_empty=False)


def importar_productos(
    fichero: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV o XLSX")],
    simular: Annotated[bool, typer.Option(help="Solo validar e informar, sin escribir")] = False,
) -> None:
    """Importa productos desde CSV o XLSX (todo o nada), con barra de progreso."""
    migrate_database()
    try:
        with Progress(console=console) as progress, db_session() as session:
            task = progress.add_task("Importando productos", total=None)
            result = import_productos(
                session=session,
                data=fichero.read_bytes(),
                filename=fichero.name,
                simular=simular,
                progress=lambda n: progress.advance(task, n),
            )
            hechos = result.creados + result.actualizados
            progress.update(task, total=hechos, completed=hechos)
    except ImportacionInvalida as exc:
        console.print(f"[red]{exc.message}[/red]")
        for fila in (exc.extra or {}).get("errores", [])[:50]:
            console.print(f"  fila {fila['fila']}: {'; '.join(fila['errores'])}")
        raise typer.Exit(code=1) from exc
    verbo = "Se crearían" if simular else "Creados"
    console.print(
        f"[green]{verbo}: {result.creados}, actualizados: {result.actualizados}, sin cambios: {result.sin_cambios}"
        f" ({result.filas} filas)[/green]"
    )
