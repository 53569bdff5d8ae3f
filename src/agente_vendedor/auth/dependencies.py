"""Who is calling: the bearer token's user, and role checks as dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from agente_vendedor.auth.cache import MISSING, TokensVerificados, UsuarioActual, UsuariosVigentes
from agente_vendedor.auth.exceptions import RolInsuficiente, TokenInvalido
from agente_vendedor.core.routing import run_sync

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


async def _usuario(request: Request, token: str | None) -> UsuarioActual:
    """The active user behind a valid, unexpired token, as the database has it now; 401 otherwise.

    The user comes from the worker's table checked against the shared `usuarios` version (see `auth.cache`):
    no database read per request, and a deactivation or a role change applies to the next request.
    Resolved once per request: a route with a role check and a `CurrentUser` parameter looks it up once.
    """
    state = request.scope.setdefault("state", {})
    known = state.get("usuario_actual")
    if known is not None:
        return known  # type: ignore[no-any-return]
    if not token:
        raise TokenInvalido()
    tokens: TokensVerificados = request.app.state.tokens
    data = tokens.decode(token)
    if data is None:
        raise TokenInvalido("El token no es válido o ha caducado")
    vigentes: UsuariosVigentes = request.app.state.usuarios
    usuario = vigentes.cached(data.user_id)
    if usuario is MISSING:
        usuario = await run_sync(vigentes.resolve, data.user_id)
    if usuario is None or not usuario.activo:
        raise TokenInvalido("El usuario del token no existe o está desactivado")
    state["usuario"] = usuario.email
    state["usuario_actual"] = usuario
    return usuario  # type: ignore[no-any-return]


async def get_current_user(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> UsuarioActual:
    """The active user behind a valid, unexpired token, as the database has it now; 401 otherwise."""
    return await _usuario(request, token)


CurrentUser = Annotated[UsuarioActual, Depends(get_current_user)]


def require_roles(*roles: str) -> Callable[..., Awaitable[UsuarioActual]]:
    """A dependency that lets through only users whose current role (the database's, not the token's) is in `roles`.

    One dependency (plus the OAuth2 scheme, which documents the security in OpenAPI) rather than a chain of
    three: each level of FastAPI's dependency solving costs tens of microseconds on every request.
    """

    async def dependency(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> UsuarioActual:
        usuario = await _usuario(request, token)
        if usuario.rol not in roles:
            raise RolInsuficiente(roles)
        return usuario

    return dependency


require_staff = require_roles("admin", "vendedor")
require_admin = require_roles("admin")
StaffUser = Annotated[UsuarioActual, Depends(require_staff)]
AdminUser = Annotated[UsuarioActual, Depends(require_admin)]


def actor(request: Request) -> str:
    """Who is acting, for audit trails: the authenticated e-mail, or `anonimo`."""
    return str(getattr(request.state, "usuario", "anonimo"))


async def get_actor(request: Request) -> str:
    """`actor` as a dependency: async because it does no I/O, so FastAPI does not hop to a thread for it."""
    return actor(request)


ActorDep = Annotated[str, Depends(get_actor)]
"""Who is acting (the authenticated e-mail), for audit trails: `estado_por`, `solicitado_por`, a chat reply."""
