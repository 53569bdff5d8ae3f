"""Hybrid search primitives: the database's full-text ranking, the vector ranking, and their reciprocal rank fusion.

Generic over what is searched: each owner builds its search on them (`productos.busqueda`, `clientes.busqueda`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Table, case, func, literal_column, or_, select, text
from sqlalchemy.orm import Session

from agente_vendedor.rag import text as rag_text
from agente_vendedor.rag.index import IndiceIncompatible, VectorHit
from agente_vendedor.rag.runtime import Rag

logger = logging.getLogger("agente_vendedor.rag")

RRF_K = 60
POOL = 50  # candidates taken from each ranking before fusing
EXACT_BONUS = 1.0  # larger than any fused score: exact hits always come first
Modo = Literal["hibrido", "lexico", "vectorial"]
SOLO_LEXICA = "busqueda_solo_lexica"  # session.info flag: a search of this request lost its vector half
HEADER_SOLO_LEXICA = "X-Busqueda-Modo"


@dataclass(frozen=True)
class Resultado:
    """One search result: the live row and its fused score."""

    item: Any
    score: float


def lexical_ranking(
    session: Session,
    table: Table,
    consulta: rag_text.Consulta,
    filters: Sequence[ColumnElement[bool]],
    join: Any,
    n: int,
) -> list[int]:
    """Ids ranked by the database's own full-text search over character trigrams (typos, plurals, accents)."""
    terms = [t for t in consulta.all_terms if len(t) >= 2]
    if not terms:
        return []
    rowid = table.c.rowid
    if session.get_bind().dialect.name == "sqlite":
        match = _sqlite_match(session, table, terms, typed=set(consulta.terms))
        if not match:
            return []
        query = (
            select(rowid)
            .join(join, join.id == rowid)
            .where(text(f"{table.name} MATCH :m").bindparams(m=match), *filters)
            .order_by(text(f"bm25({table.name})"))
            .limit(n)
        )
    else:
        query = _postgres_query(session, table, terms, set(consulta.terms), filters, join, n)
        if query is None:
            return []
    return [int(i) for i in session.scalars(query).all()]


def _postgres_query(
    session: Session,
    table: Table,
    terms: Sequence[str],
    typed: set[str],
    filters: Sequence[ColumnElement[bool]],
    join: Any,
    n: int,
) -> Any:
    """PostgreSQL: `tsvector` with the `spanish` stemmer for words the catalog contains, pg_trgm pieces for typos.

    Both halves use GIN indexes (`tsv @@ query`, `texto LIKE '%piece%'`); rows are ranked by `ts_rank` plus the share
    of typo pieces they contain. Substring LIKEs for every word and `word_similarity` were tried first: they recheck
    long texts row by row and cost 40 ms to 0.7 s per search at 10k products.
    """
    tsv: Any = literal_column(f"{table.name}.tsv")
    texto = table.c.texto
    probe = text(f"SELECT 1 FROM {table.name} WHERE tsv @@ to_tsquery('spanish', :q) LIMIT 1")
    found: list[str] = []
    missing: list[str] = []
    for term in terms:
        if session.execute(probe, {"q": term}).first():
            found.append(term)
        elif len(term) >= 3 and term in typed:
            missing.append(term)
    if not found and not missing:
        return None
    conditions: list[ColumnElement[bool]] = []
    scores: list[Any] = []
    if found:
        tsquery = func.to_tsquery(literal_column("'spanish'"), " | ".join(found))
        conditions.append(tsv.op("@@")(tsquery))
        scores.append(func.ts_rank(tsv, tsquery))
    for term in missing:
        pieces = rag_text.typo_pieces(term)
        for piece in pieces:
            matches = texto.like(f"%{piece}%")
            conditions.append(matches)
            scores.append(case((matches, 0.1 / len(pieces)), else_=0.0))
    score: Any = sum(scores[1:], scores[0])
    rowid = table.c.rowid
    return (
        select(rowid)
        .join(join, join.id == rowid)
        .where(or_(*conditions), *filters)
        .order_by(score.desc(), rowid)
        .limit(n)
    )


def _sqlite_match(session: Session, table: Table, terms: Sequence[str], typed: set[str]) -> str:
    """Split the words into those the catalog contains (exact substring) and the rest (typos, matched by trigrams).

    Only words the customer typed can be typos; a synonym the catalog does not use is simply dropped (matching it by
    trigrams would pull in thousands of unrelated rows and cost tens of milliseconds).
    """
    found: list[str] = []
    missing: list[str] = []
    probe = text(f"SELECT 1 FROM {table.name} WHERE {table.name} MATCH :m LIMIT 1")
    for term in terms:
        stem = rag_text.singular(term)
        phrase = rag_text.fts5_phrase(stem if len(stem) >= 3 else f" {term} ")
        (found if session.execute(probe, {"m": phrase}).first() else missing).append(term)
    return rag_text.fts5_query(tuple(found), tuple(t for t in missing if len(t) >= 3 and t in typed))


def rrf(rankings: Sequence[Sequence[int]], weights: Sequence[float] | None = None) -> dict[int, float]:
    """Reciprocal rank fusion: each ranking adds `weight / (RRF_K + rank)` to an id's score."""
    scores: dict[int, float] = {}
    for position, ranking in enumerate(rankings):
        weight = weights[position] if weights else 1.0
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (RRF_K + rank)
    return scores


def fresh(hits: Sequence[VectorHit], rows: dict[int, Any], document: Any, min_similarity: float) -> list[int]:
    """Vector hits that still describe the live row (stale vectors wait for the outbox) and are close enough."""
    return [
        h.id
        for h in hits
        if h.similarity >= min_similarity and h.id in rows and h.huella == rag_text.fingerprint(document(rows[h.id]))
    ]


def vector_hits(
    session: Session, rag: Rag, collection: str, query: str, n: int, where: dict[str, Any] | None
) -> list[VectorHit]:
    """Nearest vectors; a model mismatch is reported, any other index failure degrades to lexical-only search.

    The degradation is recorded on the session so the route can tell the caller (`solo_lexica`).
    """
    if rag.vectors_paused():  # failed moments ago: don't make this request wait for it too
        session.info[SOLO_LEXICA] = True
        return []
    try:
        return rag.index.query(collection, rag.embedder.embed_query(query), n, where)
    except IndiceIncompatible:
        raise
    except Exception as exc:
        rag.mark_down()
        session.info[SOLO_LEXICA] = True
        logger.warning(
            "Búsqueda vectorial en '%s' no disponible: se responde solo con la búsqueda léxica (%s: %s)",
            collection,
            type(exc).__name__,
            str(exc)[:200],
        )
        return []


def solo_lexica(session: Session) -> bool:
    """True when a search in this session answered from the full-text half only (vector index or embedder down)."""
    return bool(session.info.get(SOLO_LEXICA, False))


def mark_response(session: Session, headers: Any) -> None:
    """Tell the caller the search was lexical-only: `X-Busqueda-Modo: lexico` (the body's shape stays the same)."""
    if solo_lexica(session):
        headers[HEADER_SOLO_LEXICA] = "lexico"
