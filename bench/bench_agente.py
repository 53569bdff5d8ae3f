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
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent))

from latencia import CONSULTAS, percentile, synthetic_products  # noqa: E402  (sibling bench script)

from agente_vendedor.core import migrate  # noqa: E402
from agente_vendedor.core.config import Settings  # noqa: E402
from agente_vendedor.core.db import create_db_engine, create_session_factory  # noqa: E402
from agente_vendedor.demo.service import demo_data  # noqa: E402
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

    folder = Path(tempfile.mkdtemp(prefix="agente-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    migrate.upgrade(url)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=url,
        DATA_DIRECTORY=folder,
        CHROMA_PERSIST_DIRECTORY=folder / "chroma",
        EXPORT_DIRECTORY=folder / "exports",
        DEMO_DATA=False,
    )
    engine = create_db_engine(settings.sqlalchemy_url)
    demo = [
        {**p, "precio": Decimal(str(p["precio"])), "stock": 1_000_000, "activo": True} for p in demo_data()["productos"]
    ]
    rows = demo + synthetic_products(args.productos)
    with engine.begin() as connection:
        for i in range(0, len(rows), 5000):
            connection.execute(insert(Producto), rows[i : i + 5000])
    rag = Rag(settings, create_session_factory(engine))
    start = time.perf_counter()
    total = rag.reindex("producto")
    print(f"{total} productos indexados en {time.perf_counter() - start:.1f} s ({engine.dialect.name})")
    engine.dispose()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(
        os.environ,
        DATABASE_URL=url,
        DATA_DIRECTORY=str(folder),
        CHROMA_PERSIST_DIRECTORY=str(folder / "chroma"),
        EXPORT_DIRECTORY=str(folder / "exports"),
        DEMO_DATA="false",
        RATE_LIMIT_RAG="1000000/minute",
        OPENAI_API_KEY="",
        OPENAI_BASE_URL="",
    )
    command = [sys.executable, "-m", "uvicorn", "--factory", "agente_vendedor.main:app_factory"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, env=env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/health").status_code in (200, 503):
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
                if time.monotonic() > deadline:
                    raise SystemExit("el servidor no arrancó")
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
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
