"""Who is using the panel: the session cookie's user, checked against the database on every request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from agente_vendedor.auth.exceptions import RolInsuficiente
from agente_vendedor.auth.models import Usuario
from agente_vendedor.core.db import SessionDep
from agente_vendedor.panel import sesion
from agente_vendedor.panel.exceptions import CsrfInvalido, SesionRequerida


@dataclass(frozen=True)
class PanelUsuario:
    """The logged-in staff member and the CSRF token of their session."""

    usuario: Usuario
    csrf: str


def get_panel_user(request: Request, session: SessionDep) -> PanelUsuario:
    """The active user of a valid session cookie whose password has not changed since; else `SesionRequerida`."""
    datos = sesion.leer(request.cookies.get(sesion.COOKIE), secret=request.app.state.settings.SECRET_KEY)
    if datos is None:
        raise SesionRequerida()
    # Read from the database on every request: a deactivated user or a changed role takes effect at once.
    usuario = session.get(Usuario, datos.user_id)
    if usuario is None or not usuario.activo or sesion.huella(usuario.password_hash) != datos.huella:
        raise SesionRequerida()
    request.state.usuario = usuario.email
    return PanelUsuario(usuario=usuario, csrf=datos.csrf)


def panel_roles(*roles: str) -> Callable[[PanelUsuario], PanelUsuario]:
    """A dependency that lets through only panel users whose current role is in `roles`."""

    def dependency(actual: Annotated[PanelUsuario, Depends(get_panel_user)]) -> PanelUsuario:
        if actual.usuario.rol not in roles:
            raise RolInsuficiente(roles)
        return actual

    return dependency


PanelStaff = Annotated[PanelUsuario, Depends(panel_roles("admin", "vendedor"))]
PanelAdmin = Annotated[PanelUsuario, Depends(panel_roles("admin"))]


async def read_form(request: Request) -> FormData:
    """The request's form (urlencoded or multipart), parsed on the event loop."""
    return await request.form(max_files=1, max_fields=100)


FormDep = Annotated[FormData, Depends(read_form)]


def check_csrf(request: Request, form: FormDep, actual: PanelStaff) -> PanelUsuario:
    """Refuse a state-changing request whose form field or `X-CSRF-Token` header lacks the session's token."""
    recibido = form.get(sesion.CSRF_FIELD) or request.headers.get(sesion.CSRF_HEADER)
    if not sesion.mismo_token(actual.csrf, recibido if isinstance(recibido, str) else None):
        raise CsrfInvalido()
    return actual


PanelPost = Annotated[PanelUsuario, Depends(check_csrf)]
"""A staff member posting a form of this session (role and CSRF checked)."""


def check_csrf_admin(actual: PanelPost) -> PanelUsuario:
    """Like `PanelPost`, for admins only."""
    if actual.usuario.rol != "admin":
        raise RolInsuficiente(("admin",))
    return actual


PanelAdminPost = Annotated[PanelUsuario, Depends(check_csrf_admin)]
