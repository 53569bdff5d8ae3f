"""Errors of the sales agent's staff endpoints."""

from __future__ import annotations

from agente_vendedor.core.errors import NotFoundError


class ConversacionNoEncontrada(NotFoundError):
    """No chat with this id."""

    code = "conversacion_no_encontrada"

    def __init__(self, chat_id: str) -> None:
        super().__init__(f"No existe la conversación '{chat_id}'")
