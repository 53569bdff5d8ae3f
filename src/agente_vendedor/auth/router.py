"""Routes: `/auth/token`, `/auth/me` and user management under `/usuarios/`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from agente_vendedor.auth import service
from agente_vendedor.auth.dependencies import AdminUser, CurrentUser
from agente_vendedor.auth.schemas import Token, UsuarioCreate, UsuarioResponse, UsuarioUpdate
from agente_vendedor.core.db import SessionDep
from agente_vendedor.core.errors import error_responses
from agente_vendedor.core.params import IdPath
from agente_vendedor.core.routing import DbRoute, PrefixedRouter
from agente_vendedor.core.security import create_access_token

auth_router = PrefixedRouter(prefix="/auth", tags=["autenticación"], route_class=DbRoute)
usuarios_router = PrefixedRouter(prefix="/usuarios", tags=["usuarios"], route_class=DbRoute)

UNAUTHORIZED = error_responses((401, "Credenciales o token no válidos"))
FORBIDDEN = error_responses((403, "Rol insuficiente"))


@auth_router.post(
    "/token", response_model=Token, responses=UNAUTHORIZED | error_responses((429, "Demasiados intentos"))
)
def login(request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Intercambia email (`username`) y contraseña por un token de acceso (botón Authorize de Swagger)."""
    settings = request.app.state.settings
    limiter = request.app.state.rate_limiter
    client_ip = request.client.host if request.client else "desconocido"
    limiter.hit(settings.RATE_LIMIT_LOGIN, "login-ip", client_ip)
    limiter.hit(settings.RATE_LIMIT_LOGIN, "login-usuario", form.username.strip().lower()[:200])
    usuario = service.authenticate(session=session, email=form.username, password=form.password)
    token = create_access_token(
        user_id=usuario.id,
        rol=usuario.rol,
        secret=settings.SECRET_KEY,
        expires_minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES,
    )
    return Token(access_token=token, expires_in=settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60)


@auth_router.get("/me", response_model=UsuarioResponse, responses=UNAUTHORIZED)
def me(usuario: CurrentUser, session: SessionDep) -> UsuarioResponse:
    """El usuario del token."""
    return UsuarioResponse.model_validate(service.get(session=session, usuario_id=usuario.id))


@usuarios_router.post(
    "/",
    response_model=UsuarioResponse,
    status_code=status.HTTP_201_CREATED,
    responses=UNAUTHORIZED | FORBIDDEN | error_responses((409, "Email ya registrado")),
)
def crear_usuario(datos: UsuarioCreate, session: SessionDep, _admin: AdminUser) -> UsuarioResponse:
    """Crea un usuario del personal (solo admin)."""
    return UsuarioResponse.model_validate(service.create(session=session, datos=datos))


@usuarios_router.get("/", response_model=list[UsuarioResponse], responses=UNAUTHORIZED | FORBIDDEN)
def listar_usuarios(session: SessionDep, _admin: AdminUser) -> list[UsuarioResponse]:
    """Lista los usuarios del personal (solo admin)."""
    return [UsuarioResponse.model_validate(u) for u in service.list_usuarios(session=session)]


@usuarios_router.patch(
    "/{usuario_id}",
    response_model=UsuarioResponse,
    responses=UNAUTHORIZED | FORBIDDEN | error_responses((404, "Usuario no encontrado"), (409, "Último admin")),
)
def actualizar_usuario(
    usuario_id: IdPath, datos: UsuarioUpdate, session: SessionDep, _admin: AdminUser
) -> UsuarioResponse:
    """Cambia rol, estado, nombre o contraseña; un usuario desactivado pierde el acceso al instante."""
    return UsuarioResponse.model_validate(service.update(session=session, usuario_id=usuario_id, datos=datos))
