"""Errors of the sales agent's staff endpoints."""

from __future__ import annotations

from agente_vendedor.core.errors import ConflictError, NotFoundError


class ConversacionNoEncontrada(NotFoundError):
    """No chat with this id."""

    code = "conversacion_no_encontrada"

    def __init__(self, chat_id: str) -> None:
        super().__init__(f"No existe la conversación '{chat_id}'")


class ConversacionDeOtroCanal(ConflictError):
    """The chat id belongs to a conversation held on another channel (no writing into someone's WhatsApp chat)."""

    code = "conversacion_de_otro_canal"

    def __init__(self) -> None:
        super().__init__("Ese 'chat_id' pertenece a otra conversación: use otro identificador de chat")
