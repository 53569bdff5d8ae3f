"""Who is calling: the bearer token's user, and role checks as dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from agente_vendedor.auth.cache import MISSING, TokensVerificados, UsuarioActual, UsuariosVigentes
from agente_vendedor.auth.exceptions import RolInsuficiente, TokenInvalido
from agente_vendedor.core.routing import run_sync


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


class UsuarioConRol(OAuth2PasswordBearer):
    """The bearer token's active user, and a check of their current role (the database's, not the token's).

    One dependency that is also the OpenAPI security scheme (every instance is the same `OAuth2PasswordBearer`
    scheme, so /docs has one Authorize button), instead of a role check depending on the scheme: each level of
    FastAPI's dependency solving costs tens of microseconds on every request (`bench/RESULTS-http.md`).
    """

    def __init__(self, *roles: str) -> None:
        super().__init__(tokenUrl="/auth/token", scheme_name="OAuth2PasswordBearer", auto_error=False)
        self.roles = roles

    async def __call__(self, request: Request) -> UsuarioActual:  # type: ignore[override]
        """The user, or 401 (no valid token, user gone or deactivated) or 403 (role not among `roles`)."""
        usuario = await _usuario(request, await super().__call__(request))
        if self.roles and usuario.rol not in self.roles:
            raise RolInsuficiente(self.roles)
        return usuario


get_current_user = UsuarioConRol()
"""Any active user of the staff, whatever their role."""
require_staff = UsuarioConRol("admin", "vendedor")
require_admin = UsuarioConRol("admin")
CurrentUser = Annotated[UsuarioActual, Depends(get_current_user)]
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
