"""Product search: the hybrid ranking (`rag.service`) with the catalog's filters, exact hits and relevance cut-off."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from agente_vendedor.core.text import fold
from agente_vendedor.productos.indice import INDICE_PRODUCTOS, documento, productos_fts
from agente_vendedor.productos.models import Producto
from agente_vendedor.rag import service as rag_service
from agente_vendedor.rag import text as rag_text
from agente_vendedor.rag.index import VectorHit
from agente_vendedor.rag.runtime import Rag

MIN_SIMILARITY_PRODUCTOS = 0.15
# The relevance cut-off, tuned once on eval/dialogos/relevancia.json (not per query): a list shows a product only
# if it answers at least CORTE_COBERTURA of what the best match answers; meaning-only matches (no word in common)
# count only when the words found little, and then only within CORTE_SIMILITUD of the closest meaning.
CORTE_COBERTURA = 0.85
COBERTURA_DEBIL = 0.6
CORTE_SIMILITUD = 0.06
# Swept 0.26-0.32 on the judged set (bench/RESULTS-agente.md): the highest floor with recall@5 >= 0.98.
MIN_SIMILARITY_SOLO_VECTOR = 0.27


def search_productos(
    *,
    session: Session,
    rag: Rag,
    q: str,
    categoria: str | None = None,
    precio_max: Decimal | None = None,
    en_stock: bool | None = None,
    limit: int = 10,
    modo: rag_service.Modo = "hibrido",
    corte: bool = True,
) -> list[rag_service.Resultado]:
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

    pool = max(rag_service.POOL, limit * 2)
    lexical = (
        []
        if modo == "vectorial"
        else rag_service.lexical_ranking(session, productos_fts, consulta, filters, Producto, pool)
    )
    hits: list[VectorHit] = []
    if modo != "lexico" and consulta.has_words:
        hits = rag_service.vector_hits(
            session, rag, INDICE_PRODUCTOS.coleccion, consulta.vector_text, pool * overfetch, where
        )

    ids = set(lexical) | {h.id for h in hits} | exact_sku
    if not ids:
        return []
    rows = {p.id: p for p in session.scalars(select(Producto).where(Producto.id.in_(ids), *filters)).all()}
    semantic = rag_service.fresh(hits, rows, documento, MIN_SIMILARITY_PRODUCTOS)
    scores = rag_service.rrf([[i for i in lexical if i in rows], semantic])
    exact = set()
    for item_id, producto in rows.items():
        if item_id in exact_sku or fold(producto.nombre) == consulta.folded:
            scores[item_id] = scores.get(item_id, 0.0) + rag_service.EXACT_BONUS
            exact.add(item_id)
    ranked = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
    if corte:
        similarity = {h.id: h.similarity for h in hits if h.id in rows}
        keep = set(_plausibles([i for i, _ in ranked[: limit * 3]], rows, consulta, similarity, exact))
        ranked = [pair for pair in ranked if pair[0] in keep]
    return [rag_service.Resultado(item=rows[i], score=round(s, 6)) for i, s in ranked[:limit]]


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
