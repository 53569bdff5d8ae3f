"""`exportar`: one entity to a file, through the same service as the API (limits, history, atomic file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from agente_vendedor.cli.common import console, db_engine
from agente_vendedor.core.db import create_session_factory
from agente_vendedor.core.errors import AppError, validation_errors
from agente_vendedor.exportar import service as export_service
from agente_vendedor.exportar.entidades import ENTIDADES
from agente_vendedor.exportar.schemas import Entidad, Formato
from agente_vendedor.settings import get_settings

SIN_LIMITE = 2**62
_NOMBRES = list(ENTIDADES)
_AYUDA_ENTIDAD = ", ".join(_NOMBRES[:-1]) + " o " + _NOMBRES[-1]


def exportar(
    entidad: Annotated[Entidad, typer.Argument(help=_AYUDA_ENTIDAD)],
    salida: Annotated[Path, typer.Option("--salida", "-o", help="Archivo destino (se escribe de forma atómica)")],
    formato: Annotated[Formato, typer.Option(help="csv, json, ndjson o excel")] = "csv",
    fecha_desde: Annotated[str | None, typer.Option(help="Desde (incluida), ISO 8601; sin zona = UTC")] = None,
    fecha_hasta: Annotated[str | None, typer.Option(help="Hasta (incluida), ISO 8601; sin zona = UTC")] = None,
    activo: Annotated[bool | None, typer.Option("--activo/--inactivo", help="Solo activos o solo inactivos")] = None,
    categoria: Annotated[str | None, typer.Option(help="productos: categoría exacta")] = None,
    estado: Annotated[str | None, typer.Option(help="ventas: estado exacto")] = None,
    cliente_id: Annotated[int | None, typer.Option(help="ventas y conversaciones: solo los de este cliente")] = None,
    separador: Annotated[str, typer.Option(help="CSV: ',' o ';'")] = ",",
    bom: Annotated[bool, typer.Option(help="CSV: BOM UTF-8 para Excel")] = False,
    sin_limite: Annotated[bool, typer.Option(help="Ignorar MAX_EXPORT_RECORDS")] = False,
) -> None:
    """Exporta clientes, productos, ventas o conversaciones a un archivo, con barra de progreso."""
    modelo = ENTIDADES[entidad].filtros
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
        if name not in modelo.model_fields:
            console.print(f"[red]La opción --{name.replace('_', '-')} no se aplica a {entidad}[/red]")
            raise typer.Exit(code=2)
        values[name] = value
    try:
        filtros = modelo.model_validate(values)
    except ValidationError as exc:
        for error in validation_errors(exc.errors()):
            console.print(f"[red]'{error.campo}' {error.mensaje}[/red]")
        raise typer.Exit(code=2) from exc

    settings = get_settings()
    try:
        with db_engine() as engine:
            with create_session_factory(engine)() as session:
                exportacion = export_service.start(
                    session=session,
                    engine=engine,
                    entidad=entidad,
                    filtros=filtros,
                    usuario="cli",
                    destino=salida,
                    maximo=SIN_LIMITE if sin_limite else settings.MAX_EXPORT_RECORDS,
                )
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, console=console, transient=True) as progress:
                task = progress.add_task(f"Exportando {entidad}", total=exportacion.total)
                resultado = exportacion.write(on_rows=lambda n: progress.advance(task, n))
    except AppError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(code=1) from exc
    console.print(
        f"[green]{resultado.filas} registros exportados[/green] a {salida} "
        f"({resultado.bytes} bytes, {resultado.duracion_ms / 1000:.2f} s)"
    )
