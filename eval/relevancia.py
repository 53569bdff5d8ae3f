"""Judged relevance of product search lists: recall and precision, with and without the relevance cut-off.

Usage (from the repository root):
    PYTHONPATH=src python eval/relevancia.py [--database-url URL] [--detalle]

Loads the corpus catalog of `eval/dialogos/` (the same evaluation shop as `eval/dialogos.py`) and runs every query of
`eval/dialogos/relevancia.json`, whose `relevantes` list every product a shop assistant would show for it. For each
mode it prints recall@1 and recall@5 (a relevant product first / in the first five), precision (the share of the
products shown that are relevant) and irrelevant products per 10 shown, over lists of up to `--limite` products.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from dialogos import HERE, Banco  # noqa: E402

from agente_vendedor.productos import busqueda  # noqa: E402
from agente_vendedor.rag import service as rag_service  # noqa: E402

MODOS: tuple[tuple[str, rag_service.Modo, bool], ...] = (
    ("híbrido con corte", "hibrido", True),
    ("híbrido sin corte", "hibrido", False),
    ("léxico con corte", "lexico", True),
)


def medir(
    banco: Banco,
    consultas: list[dict[str, Any]],
    limite: int,
    detalle: bool,
    modos: Sequence[tuple[str, rag_service.Modo, bool]] = MODOS,
) -> dict[str, dict[str, float]]:
    """Recall@1, recall@5, precision and irrelevant-per-10 for each mode (name, search mode, relevance cut-off)."""
    figuras: dict[str, dict[str, float]] = {}
    for nombre, modo, corte in modos:
        r1 = r5 = mostrados = relevantes_mostrados = 0
        fallos: list[str] = []
        with banco.rag.session_factory() as session:
            for c in consultas:
                resultados = busqueda.search_productos(
                    session=session, rag=banco.rag, q=c["q"], limit=limite, modo=modo, corte=corte
                )
                skus = [banco.sku[r.item.id] for r in resultados]
                relevantes = set(c["relevantes"])
                primero = next((i for i, sku in enumerate(skus, 1) if sku in relevantes), None)
                r1 += primero == 1
                r5 += primero is not None and primero <= 5
                mostrados += len(skus)
                relevantes_mostrados += sum(sku in relevantes for sku in skus)
                ruido = [sku for sku in skus if sku not in relevantes]
                if primero != 1 or ruido:
                    fallos.append(f"  {c['q']!r}: primera relevante en {primero}; ruido {ruido}")
        n = len(consultas)
        precision = relevantes_mostrados / mostrados if mostrados else 0.0
        figuras[nombre] = {
            "recall@1": r1 / n,
            "recall@5": r5 / n,
            "precision": precision,
            "irrelevantes por 10": 10 * (1 - precision),
            "productos mostrados": mostrados / n,
        }
        if detalle:
            print(f"\n-- {nombre}: consultas con fallo o ruido --")
            print("\n".join(fallos))
    return figuras


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="Base de datos vacía (por defecto, un SQLite temporal)")
    parser.add_argument("--detalle", action="store_true", help="Mostrar las consultas con fallo o ruido")
    parser.add_argument("--limite", type=int, default=10, help="Productos por lista (por defecto 10)")
    args = parser.parse_args()
    consultas = json.loads((HERE / "relevancia.json").read_text(encoding="utf-8"))["consultas"]
    banco = Banco(args.database_url)
    try:
        figuras = medir(banco, consultas, args.limite, args.detalle)
    finally:
        banco.close()
    print(f"\n{len(consultas)} consultas, {len(banco.sku)} productos, listas de hasta {args.limite}\n")
    print(f"{'modo':<20} {'recall@1':>9} {'recall@5':>9} {'precisión':>10} {'irrel./10':>10} {'media':>6}")
    for nombre, f in figuras.items():
        print(
            f"{nombre:<20} {f['recall@1']:>9.3f} {f['recall@5']:>9.3f} {f['precision']:>10.3f} "
            f"{f['irrelevantes por 10']:>10.2f} {f['productos mostrados']:>6.1f}"
        )


if __name__ == "__main__":
    main()
