"""Errors of the panel; the panel's route class renders them as pages."""

from __future__ import annotations

from agente_vendedor.core.errors import AppError, ForbiddenError


class SesionRequerida(AppError):
    """No valid panel session: the browser is sent to the login page."""

    status_code = 401
    code = "sesion_requerida"

    def __init__(self) -> None:
        super().__init__("Inicie sesión para usar el panel")


class CsrfInvalido(ForbiddenError):
    """A form arrived without the token of the current session."""

    code = "csrf_invalido"

    def __init__(self) -> None:
        super().__init__(
            "El formulario ha caducado o no viene de este panel (falta el token CSRF). Recargue la página e inténtelo"
            " de nuevo."
        )
