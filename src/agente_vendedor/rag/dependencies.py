"""FastAPI dependency giving routes the app's retrieval runtime."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agente_vendedor.rag.runtime import Rag


async def get_rag(request: Request) -> Rag:
    """The `Rag` created with the app."""
    rag: Rag = request.app.state.rag
    return rag


RagDep = Annotated[Rag, Depends(get_rag)]
