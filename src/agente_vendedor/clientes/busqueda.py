"""Cliente search: the literal search of `clientes.service`, then typos and meaning (`rag.service`) if none."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agente_vendedor.clientes import service
from agente_vendedor.clientes.indice import INDICE_CLIENTES, clientes_fts, documento
from agente_vendedor.clientes.models import Cliente
from agente_vendedor.core.text import digits, fold
from agente_vendedor.rag import service as rag_service
from agente_vendedor.rag import text as rag_text
from agente_vendedor.rag.runtime import Rag

MIN_SIMILARITY_CLIENTES = 0.55  # names and e-mails: only a close vector counts


def search_clientes(*, session: Session, rag: Rag, q: str, limit: int = 20) -> list[rag_service.Resultado]:
    """Clientes by nombre, email, phone or address: literal matches first (exact ones on top), then typos and meaning.

    Fuzzy and semantic candidates are only added when the literal search finds nobody: looking for a person by a
    name that exists must not bring back look-alikes, but a misspelt name should still find them.
    """
    consulta = rag_text.analyze(q)
    literal_hits = service.search_ranked(session=session, q=q, limit=max(rag_service.POOL, limit))
    tiers = {c.id: tier for c, tier in literal_hits}
    rows: dict[int, Cliente] = {c.id: c for c, _ in literal_hits}
    fuzzy: list[int] = []
    semantic: list[int] = []
    if not literal_hits and consulta.has_words:
        fuzzy = rag_service.lexical_ranking(session, clientes_fts, consulta, [], Cliente, 20)
        hits = rag_service.vector_hits(session, rag, INDICE_CLIENTES.coleccion, q, 20, None)
        wanted = set(fuzzy) | {h.id for h in hits}
        rows.update({c.id: c for c in session.scalars(select(Cliente).where(Cliente.id.in_(wanted))).all()})
        semantic = rag_service.fresh(hits, rows, documento, MIN_SIMILARITY_CLIENTES)
        fuzzy = [i for i in fuzzy if i in rows]
    scores = rag_service.rrf([[c.id for c, _ in literal_hits], fuzzy, semantic])
    phone = digits(q)

    def exact(cliente: Cliente) -> bool:
        return (
            (cliente.email or "") == fold(q)
            or fold(cliente.nombre) == fold(q)
            or (len(phone) >= 5 and digits(cliente.telefono or "") == phone)
        )

    ranked = sorted(
        scores.items(),
        key=lambda pair: (not exact(rows[pair[0]]), tiers.get(pair[0], 5), -pair[1], pair[0]),
    )[:limit]
    return [
        rag_service.Resultado(item=rows[i], score=round(s + (rag_service.EXACT_BONUS if exact(rows[i]) else 0.0), 6))
        for i, s in ranked
    ]
