"""Latency of `GET /productos/buscar` over HTTP against a running server, and the time of a full reindex.

Usage (from the repository root):
    PYTHONPATH=src python bench/latencia.py --productos 10000 [--peticiones 500] [--database-url URL]

Fills a throw-away database with synthetic but realistic Spanish products (bulk insert), times
`Rag.reindex` (the code behind `agente-vendedor reindexar productos`: embeddings + Chroma + full-text table),
starts `uvicorn` in a separate process on loopback and measures sequential requests with a keep-alive client:
first every query once (embedding not cached yet, "frías"), then the same queries again ("cacheadas").
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
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from agente_vendedor.core import migrate
from agente_vendedor.core.db import create_db_engine, create_session_factory
from agente_vendedor.models import INDEXABLES
from agente_vendedor.productos.models import Producto
from agente_vendedor.rag.runtime import Rag
from agente_vendedor.settings import Settings

CATALOGO: dict[str, list[str]] = {
    "Herramientas": [
        "taladro percutor",
        "atornillador inalámbrico",
        "sierra circular",
        "lijadora orbital",
        "amoladora angular",
        "martillo de carpintero",
        "llave inglesa",
        "nivel láser",
        "cinta métrica",
        "juego de alicates",
        "destornillador de precisión",
        "caja de herramientas",
        "pistola de silicona",
        "escalera plegable",
    ],
    "Electrónica": [
        "teléfono móvil",
        "auriculares bluetooth",
        "altavoz portátil",
        "televisor LED",
        "cargador rápido",
        "cámara deportiva",
        "reloj inteligente",
        "tableta",
        "barra de sonido",
        "batería externa",
        "radio despertador",
    ],
    "Informática": [
        "ordenador portátil",
        "ratón inalámbrico",
        "teclado mecánico",
        "monitor",
        "impresora multifunción",
        "disco SSD",
        "memoria USB",
        "router wifi",
        "webcam",
        "alfombrilla gaming",
        "hub USB-C",
    ],
    "Hogar y cocina": [
        "cafetera espresso",
        "cafetera italiana",
        "freidora de aire",
        "batidora de vaso",
        "sartén antiadherente",
        "olla exprés",
        "robot aspirador",
        "microondas",
        "tostadora",
        "hervidor eléctrico",
        "plancha de vapor",
        "juego de cuchillos",
        "vajilla de porcelana",
        "frigorífico combi",
        "lavadora",
    ],
    "Ropa y calzado": [
        "zapatillas de running",
        "camiseta de algodón",
        "chaqueta impermeable",
        "pantalón vaquero",
        "botas de montaña",
        "jersey de lana",
        "sudadera con capucha",
        "calcetines",
        "gorra",
        "bañador",
        "vestido",
    ],
    "Deportes": [
        "bicicleta de montaña",
        "esterilla de yoga",
        "mancuernas",
        "balón de fútbol",
        "pala de pádel",
        "raqueta de tenis",
        "casco de ciclismo",
        "guantes de boxeo",
        "tienda de campaña",
        "saco de dormir",
    ],
    "Jardín": [
        "cortacésped eléctrico",
        "manguera extensible",
        "tijeras de podar",
        "barbacoa de gas",
        "maceta",
        "regadera",
        "desbrozadora",
        "hamaca",
        "sombrilla",
        "farol solar",
    ],
}
ADJETIVOS = [
    "compacto",
    "profesional",
    "inalámbrico",
    "plegable",
    "resistente",
    "ligero",
    "recargable",
    "negro",
    "blanco",
    "azul",
    "rojo",
    "gris",
    "de acero",
    "de aluminio",
    "premium",
    "básico",
    "ecológico",
    "silencioso",
    "doble",
]
MARCAS = ["Nortek", "Vulcano", "Iberia", "Andes", "Pampa", "Atlas", "Brisa", "Cóndor", "Delta", "Tajo", "Sol", "Orión"]
USOS = [
    "para el hogar",
    "para uso diario",
    "para exterior",
    "para profesionales",
    "para viajes",
    "para regalar",
    "con garantía de 3 años",
    "fácil de limpiar",
    "de bajo consumo",
    "con accesorios incluidos",
]
CONSULTAS = [
    "taladro",
    "cafetra",
    "atornilador",
    "celular",
    "parlante bluetooth",
    "computadora portatil",
    "playera negra",
    "tenis para correr",
    "algo para hacer agujeros en la pared",
    "freidora sin aceite",
    "auriculares inalambricos",
    "bici de montaña",
    "sarten",
    "olla a presion",
    "zapatillas azules",
    "chaqueta para la lluvia",
    "monitor gaming",
    "cortacesped",
    "manguera 30 m",
    "barbacoa",
    "regalo para un ciclista",
    "mochila",
    "router",
    "tele grande",
    "cafetera italiana Brisa",
    "aspiradora robot",
    "raqueta",
    "saco de dormir para la montaña",
    "lijadora",
    "hamaca",
]


def synthetic_products(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """`n` products named like a Spanish shop would name them."""
    rng = random.Random(seed)
    categorias = list(CATALOGO)
    rows = []
    for i in range(n):
        categoria = categorias[i % len(categorias)]
        base = rng.choice(CATALOGO[categoria])
        marca, adjetivo, uso = rng.choice(MARCAS), rng.choice(ADJETIVOS), rng.choice(USOS)
        nombre = f"{base.capitalize()} {adjetivo} {marca} {rng.choice(['S', 'M', 'X', 'Pro', 'Plus', 'Lite'])}{i % 97}"
        rows.append(
            {
                "nombre": nombre[:200],
                "descripcion": f"{base.capitalize()} {adjetivo} de la marca {marca}, {uso}.",
                "precio": Decimal(rng.randint(299, 99_999)) / 100,
                "stock": rng.choice([0, 1, 3, 5, 10, 25, 100]),
                "categoria": categoria,
                "sku": f"SYN-{i:07d}",
                "activo": True,
            }
        )
    return rows


def queries(k: int, seed: int = 11) -> list[dict[str, Any]]:
    """`k` request parameter sets: the fixed list, then variations with filters."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    while len(out) < k:
        q = rng.choice(CONSULTAS)
        variant = len(out) // len(CONSULTAS)
        params: dict[str, Any] = {"q": q if variant == 0 else f"{q} {rng.choice(ADJETIVOS)}", "limit": 10}
        if variant % 3 == 1:
            params["precio_max"] = "150.00"
        if variant % 4 == 2:
            params["en_stock"] = "true"
        out.append(params)
    return out


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def bench_settings(prefix: str, database_url: str | None) -> Settings:
    """Settings for a bench run: its own temp folder, an empty migrated database (SQLite there unless given)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    url = database_url or f"sqlite:///{folder / 'bench.db'}"
    migrate.upgrade(url)
    return Settings(
        _env_file=None,
        DATABASE_URL=url,
        DATA_DIRECTORY=folder,
        CHROMA_PERSIST_DIRECTORY=folder / "chroma",
        EXPORT_DIRECTORY=folder / "exports",
        DEMO_DATA=False,
    )


@contextmanager
def serving(settings: Settings, **env: str) -> Iterator[httpx.Client]:
    """uvicorn (one worker) on those settings in another process; a keep-alive client once /health answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = dict(
        os.environ,
        DATABASE_URL=settings.DATABASE_URL,
        DATA_DIRECTORY=str(settings.DATA_DIRECTORY),
        CHROMA_PERSIST_DIRECTORY=str(settings.CHROMA_PERSIST_DIRECTORY),
        EXPORT_DIRECTORY=str(settings.EXPORT_DIRECTORY),
        DEMO_DATA="false",
        **env,
    )
    command = [sys.executable, "-m", "uvicorn", "--factory", "agente_vendedor.main:app_factory"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, env=environment)
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
            yield client
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--productos", type=int, default=10_000)
    parser.add_argument("--peticiones", type=int, default=300, help="Consultas distintas (se envían dos veces)")
    parser.add_argument("--database-url", help="Base de datos vacía (por defecto, un SQLite temporal)")
    args = parser.parse_args()

    settings = bench_settings("rag-bench-", args.database_url)
    engine = create_db_engine(settings.sqlalchemy_url)
    rows = synthetic_products(args.productos)
    start = time.perf_counter()
    with engine.begin() as connection:
        for i in range(0, len(rows), 5000):
            connection.execute(insert(Producto), rows[i : i + 5000])
    print(f"{len(rows)} productos insertados en {time.perf_counter() - start:.1f} s ({engine.dialect.name})")

    rag = Rag(settings, create_session_factory(engine), entidades=INDEXABLES)
    rag.embedder.embed(["calentar"])  # model load is not part of the reindex figure
    start = time.perf_counter()
    total = rag.reindex("producto")
    reindex_s = time.perf_counter() - start
    print(f"reindex de {total} productos: {reindex_s:.1f} s ({total / reindex_s:.0f} productos/s)")
    engine.dispose()

    with serving(settings) as client:
        client.get("/productos/buscar", params={"q": "calentamiento"})  # loads the model in the server
        plan = queries(args.peticiones)
        for label in ("frías", "cacheadas"):
            times = []
            for params in plan:
                t0 = time.perf_counter()
                response = client.get("/productos/buscar", params=params)
                times.append((time.perf_counter() - t0) * 1000)
                response.raise_for_status()
            slowest = sorted(zip(times, plan, strict=True), key=lambda pair: -pair[0])[:3]
            print("  más lentas:", ", ".join(f"{p['q']!r} {t:.0f} ms" for t, p in slowest))
            print(
                f"{label:<10} n={len(times)} p50 {percentile(times, 50):.1f} ms  p95 {percentile(times, 95):.1f} ms"
                f"  p99 {percentile(times, 99):.1f} ms  media {statistics.fmean(times):.1f} ms"
            )
        sample = client.get("/productos/buscar", params={"q": "cafetra", "limit": 3}).json()
        print("ejemplo 'cafetra':", [r["nombre"] for r in sample])


if __name__ == "__main__":
    main()
