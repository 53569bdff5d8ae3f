"""Who is calling: the bearer token's user, and role checks as dependencies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from agente_vendedor.auth.exceptions import RolInsuficiente, TokenInvalido
from agente_vendedor.auth.models import Usuario
from agente_vendedor.core.db import SessionDep
from agente_vendedor.core.security import decode_access_token

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def get_current_user(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Usuario:
    """The active user behind a valid, unexpired token; 401 otherwise."""
    if not token:
        raise TokenInvalido()
    data = decode_access_token(token, secret=request.app.state.settings.SECRET_KEY)
    if data is None:
        raise TokenInvalido("El token no es válido o ha caducado")
    usuario = session.get(Usuario, data.user_id)
    if usuario is None or not usuario.activo:
        raise TokenInvalido("El usuario del token no existe o está desactivado")
    request.state.usuario = usuario.email
    return usuario


CurrentUser = Annotated[Usuario, Depends(get_current_user)]


def require_roles(*roles: str) -> Callable[[Usuario], Usuario]:
    """A dependency that lets through only users whose current role (read from the database) is in `roles`."""

    def dependency(usuario: CurrentUser) -> Usuario:
        if usuario.rol not in roles:
            raise RolInsuficiente(roles)
        return usuario

    return dependency


require_staff = require_roles("admin", "vendedor")
require_admin = require_roles("admin")
StaffUser = Annotated[Usuario, Depends(require_staff)]
AdminUser = Annotated[Usuario, Depends(require_admin)]


def actor(request: Request) -> str:
    """Who is acting, for audit trails: the authenticated e-mail, or `anonimo`."""
    return str(getattr(request.state, "usuario", "anonimo"))
