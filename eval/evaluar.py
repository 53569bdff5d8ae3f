"""Spanish retrieval evaluation: recall@1, recall@5 and MRR for lexical-only, vector-only and hybrid search.

Usage (from the repository root):
    PYTHONPATH=src python eval/evaluar.py [--database-url URL] [--detalle]

Builds a throw-away database (SQLite by default; any migrated-to-head URL works, e.g. a PostgreSQL database),
loads the demo catalog plus `productos_extra.json` through the normal services, lets the outbox fill the Chroma
index in a temporary folder, then runs every query of `consultas.json` in the three modes. A query counts as found
at k when any of its relevant SKUs is in the first k results (recall@k); MRR uses the first relevant result.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from agente_vendedor.core import migrate
from agente_vendedor.core.db import create_db_engine, create_session_factory
from agente_vendedor.demo.service import demo_data
from agente_vendedor.models import INDEXABLES
from agente_vendedor.productos import busqueda
from agente_vendedor.productos import service as productos_service
from agente_vendedor.productos.schemas import ProductoCreate
from agente_vendedor.rag import service as rag_service
from agente_vendedor.rag import text as rag_text
from agente_vendedor.rag.runtime import Rag
from agente_vendedor.settings import Settings

HERE = Path(__file__).parent
MODOS: tuple[rag_service.Modo, ...] = ("lexico", "vectorial", "hibrido")


def load(rag: Rag) -> dict[int, str]:
    """Insert the evaluation catalog; returns id -> SKU."""
    extra = json.loads((HERE / "productos_extra.json").read_text(encoding="utf-8"))["productos"]
    skus: dict[int, str] = {}
    with rag.session_factory() as session:
        for item in demo_data()["productos"] + extra:
            producto = productos_service.create(session=session, datos=ProductoCreate.model_validate(item))
            skus[producto.id] = str(producto.sku)
        session.commit()
    return skus


def evaluate(rag: Rag, skus: dict[int, str], consultas: list[dict[str, Any]], detalle: bool) -> dict[str, Any]:
    """Run every query in every mode and compute the figures."""
    figures: dict[str, Any] = {}
    for modo in MODOS:
        r1 = r5 = rr = 0.0
        per_type: dict[str, list[float]] = {}
        fails = []
        with rag.session_factory() as session:
            for c in consultas:
                results = busqueda.search_productos(session=session, rag=rag, q=c["q"], limit=10, modo=modo)
                ranked = [skus[r.item.id] for r in results]
                first = next((i for i, sku in enumerate(ranked, 1) if sku in c["relevantes"]), None)
                hit1 = float(first == 1)
                hit5 = float(first is not None and first <= 5)
                r1, r5, rr = r1 + hit1, r5 + hit5, rr + (1.0 / first if first else 0.0)
                per_type.setdefault(c["tipo"], []).append(hit5)
                if first != 1:
                    fails.append((c["q"], first, ranked[:3]))
        n = len(consultas)
        figures[modo] = {
            "recall@1": r1 / n,
            "recall@5": r5 / n,
            "MRR": rr / n,
            "recall@5 por tipo": {t: sum(v) / len(v) for t, v in sorted(per_type.items())},
        }
        if detalle:
            print(f"\n-- {modo}: consultas sin acierto en primera posición --")
            for q, first, top in fails:
                print(f"  {q!r}: primera relevante en {first}; top3 {top}")
    return figures


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="Base de datos vacía (por defecto, un SQLite temporal)")
    parser.add_argument("--detalle", action="store_true", help="Mostrar las consultas falladas")
    parser.add_argument("--sin-sinonimos", action="store_true", help="Desactivar el mapa de sinónimos (ablación)")
    args = parser.parse_args()
    if args.sin_sinonimos:
        rag_text._synonym_lookup = lambda: {}  # type: ignore[assignment]

    folder = Path(tempfile.mkdtemp(prefix="rag-eval-"))
    url = args.database_url or f"sqlite:///{folder / 'eval.db'}"
    migrate.upgrade(url)
    settings = Settings(
        _env_file=None,
        DATABASE_URL=url,
        DATA_DIRECTORY=folder,
        CHROMA_PERSIST_DIRECTORY=folder / "chroma",
        DEMO_DATA=False,
    )
    engine = create_db_engine(settings.sqlalchemy_url)
    rag = Rag(settings, create_session_factory(engine), entidades=INDEXABLES)
    skus = load(rag)
    start = time.perf_counter()
    rag.process_outbox()
    print(f"{len(skus)} productos indexados en {time.perf_counter() - start:.2f} s ({engine.dialect.name})")
    consultas = json.loads((HERE / "consultas.json").read_text(encoding="utf-8"))["consultas"]
    figures = evaluate(rag, skus, consultas, args.detalle)
    print(f"\n{len(consultas)} consultas\n")
    print(f"{'modo':<10} {'recall@1':>9} {'recall@5':>9} {'MRR':>7}")
    for modo, f in figures.items():
        print(f"{modo:<10} {f['recall@1']:>9.3f} {f['recall@5']:>9.3f} {f['MRR']:>7.3f}")
    print("\nrecall@5 por tipo de consulta:")
    for modo, f in figures.items():
        print(f"  {modo:<10} " + ", ".join(f"{t} {v:.2f}" for t, v in f["recall@5 por tipo"].items()))
    engine.dispose()


if __name__ == "__main__":
    main()
