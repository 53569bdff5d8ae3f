"""Staff users: create one, and the first administrator at start-up."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from agente_vendedor.auth import service as auth_service
from agente_vendedor.auth.exceptions import UsuarioDuplicado
from agente_vendedor.auth.schemas import UsuarioCreate
from agente_vendedor.cli.common import console, db_session, migrate_database
from agente_vendedor.core.errors import validation_errors
from agente_vendedor.settings import get_settings


def ensure_admin() -> None:
    """Create the admin from ADMIN_EMAIL/ADMIN_PASSWORD when none exists; otherwise say how to make one."""
    settings = get_settings()
    with db_session() as session:
        if auth_service.has_admin(session=session):
            return
        if settings.ADMIN_EMAIL and settings.ADMIN_PASSWORD:
            datos = UsuarioCreate(email=settings.ADMIN_EMAIL, password=settings.ADMIN_PASSWORD, rol="admin")
            auth_service.create(session=session, datos=datos)
            console.print(f"[green]Administrador creado:[/green] {datos.email}")
            return
    console.print(
        "[yellow]No hay ningún administrador.[/yellow] Cree uno con "
        "`agente-vendedor crear-usuario EMAIL --rol admin` o arranque con ADMIN_EMAIL y ADMIN_PASSWORD."
    )


def crear_usuario(
    email: Annotated[str, typer.Argument(help="Email del usuario (será su nombre de acceso)")],
    rol: Annotated[str, typer.Option(help="admin o vendedor")] = "vendedor",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Contraseña (10+ caracteres)")
    ] = "",
) -> None:
    """Crea un usuario del personal; la contraseña se pide sin mostrarla si no se pasa."""
    migrate_database()
    try:
        datos = UsuarioCreate.model_validate({"email": email, "password": password, "rol": rol})
    except ValidationError as exc:
        for error in validation_errors(exc.errors()):
            console.print(f"[red]{error.campo}: {error.mensaje}[/red]")
        raise typer.Exit(code=2) from exc
    try:
        with db_session() as session:
            usuario = auth_service.create(session=session, datos=datos)
            console.print(f"[green]Usuario creado:[/green] {usuario.email} ({usuario.rol})")
    except UsuarioDuplicado as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(code=1) from exc
