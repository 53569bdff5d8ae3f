"""Domain errors of authentication and user management."""

from __future__ import annotations

from agente_vendedor.core.errors import ConflictError, ForbiddenError, NotFoundError, UnauthorizedError


class CredencialesInvalidas(UnauthorizedError):
    """Wrong e-mail or password (deliberately the same message for both)."""

    code = "credenciales_invalidas"

    def __init__(self) -> None:
        super().__init__("Email o contraseña incorrectos")


class TokenInvalido(UnauthorizedError):
    """Missing, expired, tampered or revoked token."""

    def __init__(self, message: str = "Se requiere un token de acceso válido (Authorization: Bearer ...)") -> None:
        super().__init__(message)


class RolInsuficiente(ForbiddenError):
    """The user's role does not allow the operation."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        super().__init__(f"Esta operación requiere el rol {' o '.join(roles)}")


class UsuarioNoEncontrado(NotFoundError):
    """No user has that id."""

    code = "usuario_no_encontrado"

    def __init__(self, usuario_id: int) -> None:
        super().__init__(f"No existe ningún usuario con id {usuario_id}")


class UsuarioDuplicado(ConflictError):
    """Another user already has that e-mail."""

    code = "usuario_duplicado"

    def __init__(self, email: str) -> None:
        super().__init__(f"Ya existe un usuario con el email {email}")


class UltimoAdmin(ConflictError):
    """The change would leave the shop without any active admin."""

    code = "ultimo_admin"

    def __init__(self) -> None:
        super().__init__("No se puede desactivar ni degradar al último administrador activo")
