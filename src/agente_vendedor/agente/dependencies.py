"""Request-level dependencies of the agent: the per-IP rate limit and the configured LLM generator."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agente_vendedor.agente.service import Generador


def limitar_rag(request: Request) -> None:
    """Count this query against the client address's budget (`RATE_LIMIT_RAG`); 429 once over it."""
    ip = request.client.host if request.client else "desconocido"
    request.app.state.rate_limiter.hit(request.app.state.settings.RATE_LIMIT_RAG, "rag", ip)


async def get_llm(request: Request) -> Generador | None:
    """The LLM generator when `OPENAI_API_KEY` or `OPENAI_BASE_URL` is set; None means the offline engine."""
    generador: Generador | None = getattr(request.app.state, "agente_llm", None)
    return generador


LlmDep = Annotated[Generador | None, Depends(get_llm)]
