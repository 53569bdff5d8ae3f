"""Domain errors of the Cliente Manager."""

from __future__ import annotations

from agente_vendedor.core.errors import ConflictError, NotFoundError


class ClienteNoEncontrado(NotFoundError):
    """No cliente has that id."""

    code = "cliente_no_encontrado"

    def __init__(self, cliente_id: int) -> None:
        super().__init__(f"No existe ningún cliente con id {cliente_id}")


class EmailDuplicado(ConflictError):
    """Another cliente already uses that e-mail."""

    code = "email_duplicado"

    def __init__(self, email: str) -> None:
        super().__init__(f"Ya existe un cliente con el email {email}")
