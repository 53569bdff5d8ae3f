"""Hybrid search: the database's full-text ranking fused with the vector ranking by reciprocal rank fusion."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, Table, case, func, literal_column, or_, select, text
from sqlalchemy.orm import Session

from agente_vendedor.clientes import service as clientes_service
from agente_vendedor.clientes.models import Cliente
from agente_vendedor.core.text import digits, fold
from agente_vendedor.productos.models import Producto
from agente_vendedor.rag import text as rag_text
from agente_vendedor.rag.index import IndiceIncompatible, VectorHit
from agente_vendedor.rag.models import clientes_fts, productos_fts
from agente_vendedor.rag.runtime import Rag, cliente_doc, producto_doc

logger = logging.getLogger("agente_vendedor.rag")

RRF_K = 60
POOL = 50  # candidates taken from each ranking before fusing
EXACT_BONUS = 1.0  # larger than any fused score: exact hits always come first
MIN_SIMILARITY_PRODUCTOS = 0.15
MIN_SIMILARITY_CLIENTES = 0.55  # names and e-mails: only a close vector counts
# The relevance cut-off, tuned once on eval/dialogos/relevancia.json (not per query): a list shows a product only
# if it answers at least CORTE_COBERTURA of what the best match answers; meaning-only matches (no word in common)
# count only when the words found little, and then only within CORTE_SIMILITUD of the closest meaning.
CORTE_COBERTURA = 0.85
COBERTURA_DEBIL = 0.6
CORTE_SIMILITUD = 0.06
# Swept 0.26-0.32 on the judged set (bench/RESULTS-agente.md): the highest floor with recall@5 >= 0.98.
MIN_SIMILARITY_SOLO_VECTOR = 0.27
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


def _rrf(rankings: Sequence[Sequence[int]], weights: Sequence[float] | None = None) -> dict[int, float]:
    scores: dict[int, float] = {}
    for position, ranking in enumerate(rankings):
        weight = weights[position] if weights else 1.0
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (RRF_K + rank)
    return scores


def _fresh(hits: Sequence[VectorHit], rows: dict[int, Any], document: Any, min_similarity: float) -> list[int]:
    """Vector hits that still describe the live row (stale vectors wait for the outbox) and are close enough."""
    return [
        h.id
        for h in hits
        if h.similarity >= min_similarity and h.id in rows and h.huella == rag_text.fingerprint(document(rows[h.id]))
    ]


def _vector_hits(
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


def search_productos(
    *,
    session: Session,
    rag: Rag,
    q: str,
    categoria: str | None = None,
    precio_max: Decimal | None = None,
    en_stock: bool | None = None,
    limit: int = 10,
    modo: Modo = "hibrido",
    corte: bool = True,
) -> list[Resultado]:
    """Products for a customer's words, best first; filters apply before ranking, precio and stock are live.

    With `corte` (the default) only plausible matches are returned (see `_plausibles`); `corte=False` gives the
    raw fused ranking, for the evaluation's comparison.
    """
    consulta = rag_text.analyze(q)
    filters: list[ColumnElement[bool]] = [Producto.activo.is_(True)]
    # Only inactive products are missing from the index, and only `categoria` is filtered inside Chroma: it is
    # selective, so cheap there, while a filter that keeps most of the catalog (precio, stock) makes Chroma's
    # pre-filtered HNSW search 5-10x slower than over-fetching and checking the live rows.
    where: dict[str, Any] | None = None
    if categoria is not None and categoria.strip():
        filters.append(func.lower(Producto.categoria) == categoria.strip().lower())
        where = {"categoria": fold(categoria)}
    if precio_max is not None:
        filters.append(Producto.precio <= precio_max)
    if en_stock is True:
        filters.append(Producto.stock > 0)
    elif en_stock is False:
        filters.append(Producto.stock == 0)
    overfetch = 3 if (precio_max is not None or en_stock is not None) else 1

    sku = q.strip().upper()
    exact_sku = set(session.scalars(select(Producto.id).where(Producto.sku == sku, *filters)).all()) if sku else set()
    if not consulta.has_words and not exact_sku:
        return []

    pool = max(POOL, limit * 2)
    lexical = [] if modo == "vectorial" else lexical_ranking(session, productos_fts, consulta, filters, Producto, pool)
    hits: list[VectorHit] = []
    if modo != "lexico" and consulta.has_words:
        hits = _vector_hits(session, rag, "productos", consulta.vector_text, pool * overfetch, where)

    ids = set(lexical) | {h.id for h in hits} | exact_sku
    if not ids:
        return []
    rows = {p.id: p for p in session.scalars(select(Producto).where(Producto.id.in_(ids), *filters)).all()}
    semantic = _fresh(hits, rows, producto_doc, MIN_SIMILARITY_PRODUCTOS)
    scores = _rrf([[i for i in lexical if i in rows], semantic])
    exact = set()
    for item_id, producto in rows.items():
        if item_id in exact_sku or fold(producto.nombre) == consulta.folded:
            scores[item_id] = scores.get(item_id, 0.0) + EXACT_BONUS
            exact.add(item_id)
    ranked = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
    if corte:
        similarity = {h.id: h.similarity for h in hits if h.id in rows}
        keep = set(_plausibles([i for i, _ in ranked[: limit * 3]], rows, consulta, similarity, exact))
        ranked = [pair for pair in ranked if pair[0] in keep]
    return [Resultado(item=rows[i], score=round(s, 6)) for i, s in ranked[:limit]]


def _plausibles(
    ids: Sequence[int],
    rows: dict[int, Producto],
    consulta: rag_text.Consulta,
    similarity: dict[int, float],
    exact: set[int],
) -> list[int]:
    """The relevance cut-off: drop the fused ranking's weak tail (a toolbox after the blenders)."""
    groups = rag_text.term_groups(consulta)
    cover = {
        i: rag_text.coverage(groups, rows[i].nombre, f"{rows[i].categoria or ''} {rows[i].descripcion or ''}")
        for i in ids
    }
    best = max(cover.values(), default=0.0)
    best_similarity = max((similarity[i] for i in ids if i in similarity), default=0.0)
    floor = max(MIN_SIMILARITY_SOLO_VECTOR, best_similarity - CORTE_SIMILITUD)
    keep = []
    for i in ids:
        if i in exact:
            keep.append(i)
        elif best < COBERTURA_DEBIL:
            # The words matched little ("juguete para mi perro" only by "perro"): meaning decides.
            if similarity.get(i, 0.0) >= floor:
                keep.append(i)
        elif cover[i] >= CORTE_COBERTURA * best:
            keep.append(i)
    if not keep and best > 0:
        # Vague words that match only a little ("regalo para un niño de 5 años"): the best of it, if its name
        # has one of the words (a word only in a description, "móvil" for a wifi bulb, is no answer).
        keep = [
            i
            for i in ids
            if cover[i] == best
            and (
                rag_text.coverage(groups[:1], rows[i].nombre, "") > 0  # the thing asked for, not a qualifier:
                or rag_text.coverage(groups, rows[i].categoria or "", "") > 0  # "patinetes eléctricos" is no drill
            )
        ]
    return keep


def search_clientes(*, session: Session, rag: Rag, q: str, limit: int = 20) -> list[Resultado]:
    """Clientes by nombre, email, phone or address: literal matches first (exact ones on top), then typos and meaning.

    Fuzzy and semantic candidates are only added when the literal search finds nobody: looking for a person by a
    name that exists must not bring back look-alikes, but a misspelt name should still find them.
    """
    consulta = rag_text.analyze(q)
    literal_hits = clientes_service.search_ranked(session=session, q=q, limit=max(POOL, limit))
    tiers = {c.id: tier for c, tier in literal_hits}
    rows: dict[int, Cliente] = {c.id: c for c, _ in literal_hits}
    fuzzy: list[int] = []
    semantic: list[int] = []
    if not literal_hits and consulta.has_words:
        fuzzy = lexical_ranking(session, clientes_fts, consulta, [], Cliente, 20)
        hits = _vector_hits(session, rag, "clientes", q, 20, None)
        wanted = set(fuzzy) | {h.id for h in hits}
        rows.update({c.id: c for c in session.scalars(select(Cliente).where(Cliente.id.in_(wanted))).all()})
        semantic = _fresh(hits, rows, cliente_doc, MIN_SIMILARITY_CLIENTES)
        fuzzy = [i for i in fuzzy if i in rows]
    scores = _rrf([[c.id for c, _ in literal_hits], fuzzy, semantic])
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
    return [Resultado(item=rows[i], score=round(s + (EXACT_BONUS if exact(rows[i]) else 0.0), 6)) for i, s in ranked]
