"""The `agente-vendedor` command line: serve, migrate, seed-demo, exportar."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, Literal

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
def exportar(
    entidad: Annotated[Literal["clientes", "productos", "ventas"], typer.Argument(help="clientes, productos o ventas")],
    salida: Annotated[Path, typer.Option("--salida", "-o", help="Archivo destino (se escribe de forma atómica)")],
    formato: Annotated[
        Literal["csv", "json", "ndjson", "excel"], typer.Option(help="csv, json, ndjson o excel")
    ] = "csv",
    fecha_desde: Annotated[str | None, typer.Option(help="Desde (incluida), ISO 8601; sin zona = UTC")] = None,
    fecha_hasta: Annotated[str | None, typer.Option(help="Hasta (incluida), ISO 8601; sin zona = UTC")] = None,
    activo: Annotated[bool | None, typer.Option("--activo/--inactivo", help="Solo activos o solo inactivos")] = None,
    categoria: Annotated[str | None, typer.Option(help="productos: categoría exacta")] = None,
    estado: Annotated[str | None, typer.Option(help="ventas: estado exacto")] = None,
    cliente_id: Annotated[int | None, typer.Option(help="ventas: solo los pedidos de este cliente")] = None,
    separador: Annotated[str, typer.Option(help="CSV: ',' o ';'")] = ",",
    bom: Annotated[bool, typer.Option(help="CSV: BOM UTF-8 para Excel")] = False,
    sin_limite: Annotated[bool, typer.Option(help="Ignorar MAX_EXPORT_RECORDS")] = False,
) -> None:
    """Exporta clientes, productos o ventas a un archivo, con barra de progreso."""
    from pydantic import ValidationError
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from agente_vendedor.core.errors import AppError, validation_errors
    from agente_vendedor.exportar import service as export_service
    from agente_vendedor.exportar.schemas import FiltrosClientes, FiltrosProductos, FiltrosVentas

    models: dict[str, Any] = {"clientes": FiltrosClientes, "productos": FiltrosProductos, "ventas": FiltrosVentas}
    values: dict[str, Any] = {"formato": formato, "separador": separador, "bom": bom}
    given = {
        "fecha_desde": fecha_desde,
        "fecha_hasta": fecha_hasta,
        "activo": activo,
        "categoria": categoria,
        "estado": estado,
        "cliente_id": cliente_id,
    }
    for name, value in given.items():
        if value is None:
            continue
        if name not in models[entidad].model_fields:
            console.print(f"[red]La opción --{name.replace('_', '-')} no se aplica a {entidad}[/red]")
            raise typer.Exit(code=2)
        values[name] = value
    try:
        filtros = models[entidad].model_validate(values)
    except ValidationError as exc:
        for error in validation_errors(exc.errors()):
            console.print(f"[red]'{error.campo}' {error.mensaje}[/red]")
        raise typer.Exit(code=2) from exc

    settings = get_settings()
    engine = create_db_engine(settings.sqlalchemy_url)
    try:
        consulta = export_service.build(entidad=entidad, filtros=filtros)
        with create_session_factory(engine)() as session:
            total = export_service.count(session=session, consulta=consulta)
        maximo = 2**62 if sin_limite else settings.MAX_EXPORT_RECORDS
        export_service.check_limit(total=total, maximo=maximo, formato=filtros.formato)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(f"Exportando {entidad}", total=total)
            resultado = export_service.write_file(
                engine=engine,
                consulta=consulta,
                destino=salida,
                usuario="cli",
                on_rows=lambda n: progress.advance(task, n),
            )
    except AppError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(code=1) from exc
    finally:
        engine.dispose()
    console.print(
        f"[green]{resultado.filas} registros exportados[/green] a {salida} "
        f"({resultado.bytes} bytes, {resultado.duracion_ms / 1000:.2f} s)"
    )


if __name__ == "__main__":
    app()
