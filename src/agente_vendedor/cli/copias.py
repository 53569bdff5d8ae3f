"""Backups: create one of the database, the Chroma folder and the exports, and restore one into empty targets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agente_vendedor import respaldo
from agente_vendedor.cli.common import console
from agente_vendedor.settings import get_settings


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def respaldar(
    destino: Annotated[Path, typer.Option(help="Carpeta donde se crea la copia (una subcarpeta por fecha)")] = Path(
        "backups"
    ),
) -> None:
    """Copia de seguridad de la base de datos, la carpeta de Chroma y las exportaciones, con sumas SHA-256."""
    try:
        result = respaldo.create_backup(settings=get_settings(), destination=destino)
    except respaldo.BackupError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(code=1) from exc
    manifest = result.manifest
    table = Table(title=f"Copia de seguridad en {result.folder}")
    table.add_column("Componente")
    table.add_column("Archivo")
    table.add_column("Tamaño", justify="right")
    table.add_column("SHA-256")
    for entry in manifest.files:
        table.add_row(respaldo.LABELS[entry.component], entry.name, _size(entry.size), entry.sha256[:16] + "…")
    for skipped in manifest.skipped:
        table.add_row(respaldo.LABELS[skipped.component], "[yellow]omitida[/yellow]", "—", skipped.reason)
    console.print(table)
    console.print(
        f"[green]Copia completada[/green] ({manifest.database}, revisión del esquema {manifest.schema_revision}). "
        f"Restaurar con: agente-vendedor restaurar {result.folder}"
    )


def restaurar(
    carpeta: Annotated[Path, typer.Argument(help="Carpeta de la copia (la que contiene manifest.json)")],
) -> None:
    """Restaura una copia verificada, solo en una base de datos y carpetas vacías."""
    try:
        result = respaldo.restore_backup(settings=get_settings(), source=carpeta)
    except respaldo.BackupError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(code=1) from exc
    restored = ", ".join(respaldo.LABELS[c] for c in result.restored)
    console.print(f"[green]Restaurado:[/green] {restored}")
    console.print(
        f"Revisión del esquema restaurada: {result.schema_revision} (el código espera {result.head_revision})"
    )
    if result.schema_revision != result.head_revision:
        console.print("[yellow]Ejecute `agente-vendedor migrar` (o `servir`, que migra al arrancar).[/yellow]")
