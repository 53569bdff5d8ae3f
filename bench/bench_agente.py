"""Turn latency of the offline sales agent (`POST /rag/query`) over HTTP with a large catalog.

Usage (from the repository root):
    PYTHONPATH=src python bench/bench_agente.py --productos 10000 --chats 40 [--database-url URL]

Fills a throw-away database with the 48 demo products plus `--productos` synthetic Spanish ones (bulk insert,
then `Rag.reindex` builds the full-text table and the vectors), starts `uvicorn` on loopback in another process
and plays `--chats` whole sales one after another with a keep-alive client: greeting, search, "quiero dos del
primero", a price question by position, a correction, the cart, the customer's details, the confirmation and a
free product question. Every turn is timed; p50/p95 are printed overall and per intent.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent))

from latencia import CONSULTAS, bench_settings, percentile, serving, synthetic_products  # noqa: E402  (sibling bench script)

from agente_vendedor.core.db import create_db_engine, create_session_factory  # noqa: E402
from agente_vendedor.demo.service import demo_data  # noqa: E402
from agente_vendedor.models import INDEXABLES  # noqa: E402
from agente_vendedor.productos.models import Producto  # noqa: E402
from agente_vendedor.rag.runtime import Rag  # noqa: E402


def guion(n: int, rng: random.Random) -> list[str]:
    """The customer's messages of one whole sale."""
    return [
        "Hola",
        "¿tienen el taladro percutor 750W?",
        "quiero dos del primero",
        "¿cuánto cuesta el segundo?",
        "mejor tres",
        "¿qué llevo en el carrito?",
        f"Me llamo Cliente Bench, bench{n}@example.com",
        "sí, confirmo",
        f"¿tienen {rng.choice(CONSULTAS)}?",
    ]


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--productos", type=int, default=10_000, help="Productos sintéticos además del demo")
    parser.add_argument("--chats", type=int, default=40, help="Ventas completas a simular")
    parser.add_argument("--database-url", help="Base de datos vacía (por defecto, un SQLite temporal)")
    args = parser.parse_args()

    settings = bench_settings("agente-bench-", args.database_url)
    engine = create_db_engine(settings.sqlalchemy_url)
    demo = [
        {**p, "precio": Decimal(str(p["precio"])), "stock": 1_000_000, "activo": True} for p in demo_data()["productos"]
    ]
    rows = demo + synthetic_products(args.productos)
    with engine.begin() as connection:
        for i in range(0, len(rows), 5000):
            connection.execute(insert(Producto), rows[i : i + 5000])
    rag = Rag(settings, create_session_factory(engine), entidades=INDEXABLES)
    start = time.perf_counter()
    total = rag.reindex("producto")
    print(f"{total} productos indexados en {time.perf_counter() - start:.1f} s ({engine.dialect.name})")
    engine.dispose()

    with serving(settings, RATE_LIMIT_RAG="1000000/minute", OPENAI_API_KEY="", OPENAI_BASE_URL="") as client:
        client.post("/rag/query", json={"query": "¿tienen algo?", "chat_id": "calentamiento"})
        rng = random.Random(5)
        tiempos: list[float] = []
        por_intencion: dict[str, list[float]] = defaultdict(list)
        ventas = 0
        for n in range(args.chats):
            for texto in guion(n, rng):
                t0 = time.perf_counter()
                response = client.post("/rag/query", json={"query": texto, "chat_id": f"bench-{n}"})
                ms = (time.perf_counter() - t0) * 1000
                response.raise_for_status()
                body = response.json()
                tiempos.append(ms)
                por_intencion[body["intencion"]].append(ms)
                ventas += texto == "sí, confirmo" and body["venta_id"] is not None
        print(
            f"turnos n={len(tiempos)} p50 {percentile(tiempos, 50):.1f} ms  p95 {percentile(tiempos, 95):.1f} ms"
            f"  p99 {percentile(tiempos, 99):.1f} ms  media {statistics.fmean(tiempos):.1f} ms"
            f"  ventas {ventas}/{args.chats}"
        )
        for intencion, valores in sorted(por_intencion.items()):
            print(
                f"  {intencion:<20} n={len(valores):<4} p50 {percentile(valores, 50):6.1f} ms"
                f"  p95 {percentile(valores, 95):6.1f} ms"
            )


if __name__ == "__main__":
    main()
