"""Order throughput of the running API: orders/second and p50/p95 latency with N concurrent clients.

Starts `agente-vendedor servir` in a subprocess (its own SQLite file unless `--database-url` is given),
creates clientes and productos over HTTP, then for each concurrency level fires `--orders` orders of
`--lines` lines from that many client threads, each with its own keep-alive connection.

    PYTHONPATH=src python bench/bench_pedidos.py --clients 1,4,16 --orders 400
    PYTHONPATH=src python bench/bench_pedidos.py --database-url postgresql://postgres@127.0.0.1:5432/agente_bench

The PostgreSQL database should be empty (the server migrates it) and is left with the bench data.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class Resultado:
    """Figures of one concurrency level."""

    clientes: int
    pedidos: int
    errores: int
    segundos: float
    latencias_ms: list[float]

    @property
    def por_segundo(self) -> float:
        """Successful orders per second of wall time."""
        return (self.pedidos - self.errores) / self.segundos

    def percentil(self, p: float) -> float:
        """Latency percentile in milliseconds."""
        datos = sorted(self.latencias_ms)
        return datos[min(len(datos) - 1, int(round(p / 100 * (len(datos) - 1))))]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


BENCH_ADMIN = ("bench@tienda.example.com", "clave-del-benchmark")
HEADERS: dict[str, str] = {}


def login(base: str) -> dict[str, str]:
    """A bearer token for the bench admin (created by `servir` from ADMIN_EMAIL/ADMIN_PASSWORD)."""
    response = httpx.post(f"{base}/auth/token", data={"username": BENCH_ADMIN[0], "password": BENCH_ADMIN[1]})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def start_server(database_url: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Run the real server (migrations included) and wait until /health answers."""
    port = _free_port()
    src = Path(__file__).resolve().parent.parent / "src"
    env = {
        **os.environ,
        "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "DATABASE_URL": database_url,
        "DEMO_DATA": "false",
        "ENVIRONMENT": "development",
        "DATA_DIRECTORY": str(folder / "data"),
        "CHROMA_PERSIST_DIRECTORY": str(folder / "data" / "chroma"),
        "EXPORT_DIRECTORY": str(folder / "exports"),
        "MIN_FREE_DISK_MB": "0",
        "ADMIN_EMAIL": BENCH_ADMIN[0],
        "ADMIN_PASSWORD": BENCH_ADMIN[1],
    }
    command = [sys.executable, "-m", "agente_vendedor.cli", "servir", "--host", "127.0.0.1", "--port", str(port)]
    log = (folder / "server.log").open("wb")  # a file, not a pipe: a full pipe would stall the server
    process = subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"el servidor terminó: {(folder / 'server.log').read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                HEADERS.update(login(base))
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("el servidor no arrancó en 60 s")


def seed(base: str, *, clientes: int, productos: int) -> tuple[list[int], list[int]]:
    """Create clientes and productos with stock that the bench cannot exhaust."""
    run = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as http:
        cliente_ids = [
            http.post(
                "/clientes/", json={"nombre": f"Cliente Bench {i}", "email": f"bench{i}.{run}@example.com"}
            ).json()["id"]
            for i in range(clientes)
        ]
        producto_ids = [
            http.post(
                "/productos/",
                json={"nombre": f"Producto Bench {i}", "precio": f"{5 + i}.95", "stock": 1_000_000_000},
            ).json()["id"]
            for i in range(productos)
        ]
    return cliente_ids, producto_ids


def run_level(
    base: str, *, concurrencia: int, pedidos: int, lineas: int, clientes: list[int], productos: list[int], clave: bool
) -> Resultado:
    """Fire `pedidos` orders from `concurrencia` threads and time each one."""
    rng = random.Random(concurrencia)
    bodies = [
        {
            "cliente_id": rng.choice(clientes),
            "productos": [{"producto_id": p, "cantidad": rng.randint(1, 3)} for p in rng.sample(productos, lineas)],
            "metadatos": {"canal": "bench"},
        }
        for _ in range(pedidos)
    ]
    chunks = [bodies[i::concurrencia] for i in range(concurrencia)]

    def worker(chunk: list[dict[str, object]]) -> tuple[list[float], int]:
        latencias: list[float] = []
        errores = 0
        with httpx.Client(base_url=base, headers=HEADERS, timeout=60) as http:
            for body in chunk:
                headers = {"Idempotency-Key": uuid.uuid4().hex} if clave else {}
                start = time.perf_counter()
                response = http.post("/ventas/", json=body, headers=headers)
                latencias.append((time.perf_counter() - start) * 1000)
                errores += response.status_code != 201
        return latencias, errores

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrencia) as pool:
        partes = list(pool.map(worker, chunks))
    segundos = time.perf_counter() - start
    return Resultado(
        clientes=concurrencia,
        pedidos=pedidos,
        errores=sum(e for _, e in partes),
        segundos=segundos,
        latencias_ms=[x for lat, _ in partes for x in lat],
    )


def main() -> None:
    """Parse arguments, start the server, seed, run every level and print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="Base de datos (por defecto, un SQLite temporal)")
    parser.add_argument("--clients", default="1,4,16", help="Niveles de concurrencia, separados por comas")
    parser.add_argument("--orders", type=int, default=400, help="Pedidos por nivel")
    parser.add_argument("--lines", type=int, default=2, help="Líneas por pedido")
    parser.add_argument("--products", type=int, default=20, help="Productos del catálogo (1 = todos compiten)")
    parser.add_argument("--no-idempotency-key", action="store_true", help="No enviar Idempotency-Key")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-pedidos-") as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
        process, base = start_server(url, folder)
        try:
            clientes, productos = seed(base, clientes=50, productos=max(args.products, args.lines))
            run_level(
                base, concurrencia=4, pedidos=40, lineas=args.lines, clientes=clientes, productos=productos, clave=True
            )  # warm-up
            backend = url.split(":", 1)[0]
            print(
                f"backend={backend} lines={args.lines} products={len(productos)} orders/level={args.orders} "
                f"idempotency_key={not args.no_idempotency_key} cpus={os.cpu_count()}"
            )
            print(f"{'clientes':>8} {'pedidos':>8} {'errores':>8} {'pedidos/s':>10} {'p50 ms':>8} {'p95 ms':>8}")
            for level in (int(x) for x in args.clients.split(",")):
                r = run_level(
                    base,
                    concurrencia=level,
                    pedidos=args.orders,
                    lineas=args.lines,
                    clientes=clientes,
                    productos=productos,
                    clave=not args.no_idempotency_key,
                )
                print(
                    f"{r.clientes:>8} {r.pedidos:>8} {r.errores:>8} {r.por_segundo:>10.1f} "
                    f"{r.percentil(50):>8.1f} {r.percentil(95):>8.1f}"
                )
        finally:
            process.terminate()
            process.wait(timeout=15)


if __name__ == "__main__":
    main()
