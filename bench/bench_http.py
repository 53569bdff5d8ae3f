"""Per-request overhead of the API next to a bare FastAPI app, both driven by wrk in the same run.

    apt-get install -y wrk                 # Debian package `wrk` (the load generator)
    pip install -e '.[bench]'
    python bench/bench_http.py             # SQLite, one worker, then PostgreSQL + Redis with 1 and 2 workers
    python bench/bench_http.py --sin-postgres --rondas 1 --duracion 4

The baseline (`bench/http_baseline.py`) is a FastAPI app with an async hello and a sync one-row sqlite3 read
of the same `clientes` table, served by the same uvicorn (uvloop + httptools). Our server is
`agente-vendedor servir` (one worker, JSON access log to a file), with its search stack loaded before the load.
Each endpoint is measured right after its baseline, so both see the same machine load; every figure is
printed as a ratio to that baseline. `POST /ventas/` is checked for oversell afterwards (stock never below
zero, units sold equal to stock taken).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
SRC = Path(os.environ.get("BENCH_SRC", BENCH.parent / "src"))  # BENCH_SRC: measure another checkout's code
ADMIN = ("bench@tienda.example.com", "clave-del-benchmark-http")
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
STOCK_ESCASO = 100  # one product runs out during the POST /ventas/ load: the oversell check has something to check


@dataclass
class Medida:
    """One wrk run."""

    nombre: str
    peticiones_s: float
    p50_ms: float
    p99_ms: float
    no_2xx: int
    total: int
    cpu_ms: float = 0.0
    """Server CPU (user + system, every thread and worker) per request: less sensitive to the machine's load."""

    @property
    def correctas_s(self) -> float:
        """Requests per second that got a 2xx."""
        return self.peticiones_s * (self.total - self.no_2xx) / self.total if self.total else 0.0


@dataclass
class Servidor:
    """A running server process."""

    proceso: subprocess.Popen[bytes]
    base: str
    carpeta: Path
    cabeceras: dict[str, str] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(text)
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live children (the uvicorn workers)."""
    total = 0.0
    for process in _tree(pid):
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _tree(pid: int) -> list[int]:
    pids, pending = [], [pid]
    while pending:
        current = pending.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            pending.extend(int(child) for child in task.read_text().split())
    return pids


def wrk(
    nombre: str,
    url: str,
    *,
    args: argparse.Namespace,
    cabeceras: dict[str, str] | None = None,
    script: Path | None = None,
    pid: int | None = None,
) -> Medida:
    """Run wrk once and parse req/s, p50, p99 and the non-2xx count (and the server's CPU per request)."""
    command = ["wrk", f"-t{args.hilos}", f"-c{args.conexiones}", f"-d{args.duracion}s", "--latency"]
    for name, value in (cabeceras or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    cpu_before = cpu_seconds(pid) if pid else 0.0
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    cpu = cpu_seconds(pid) - cpu_before if pid else 0.0
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    if errors:
        print(f"    wrk {nombre}: {errors.group(0)}")
    return Medida(nombre, rate, p50, p99, int(bad.group(1)) if bad else 0, total, 1000 * cpu / max(total, 1))


def _wait(process: subprocess.Popen[bytes], base: str, path: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"el servidor terminó:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{base}{path}", timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"el servidor no arrancó en 120 s:\n{log.read_text(errors='replace')[-3000:]}")


@contextmanager
def baseline(db: Path) -> Iterator[Servidor]:
    """The bare FastAPI app on its own port, reading the given SQLite file."""
    port = _free_port()
    log = db.parent / "baseline.log"
    command = [sys.executable, "-m", "uvicorn", "http_baseline:app", "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=BENCH, env={**os.environ, "BASELINE_DB": str(db)}, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(process, base, "/hello", log)
        yield Servidor(process, base, db.parent)
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def servidor(folder: Path, database_url: str, *, workers: int = 1, **env: str) -> Iterator[Servidor]:
    """`agente-vendedor servir` (migrates, creates the bench admin) with its JSON log in a file; logged in."""
    port = _free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"server-{port}.log"  # a file, not a pipe: a full pipe would stall the server
    environment = {
        **os.environ,
        "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "DATABASE_URL": database_url,
        "DEMO_DATA": "false",
        "ENVIRONMENT": "development",
        "DATA_DIRECTORY": str(folder / "data"),
        "CHROMA_PERSIST_DIRECTORY": str(folder / "data" / "chroma"),
        "EXPORT_DIRECTORY": str(folder / "exports"),
        "MIN_FREE_DISK_MB": "0",
        "ADMIN_EMAIL": ADMIN[0],
        "ADMIN_PASSWORD": ADMIN[1],
        "RATE_LIMIT_LOGIN": "1000/minute",
        **env,
    }
    command = [sys.executable, "-m", "agente_vendedor.cli", "servir", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=environment, cwd=folder, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(process, base, "/health/live", log)
        token = httpx.post(f"{base}/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}, timeout=30)
        token.raise_for_status()
        yield Servidor(process, base, folder, {"Authorization": f"Bearer {token.json()['access_token']}"})
    finally:
        process.terminate()
        process.wait(timeout=60)


def seed(server: Servidor, *, clientes: int, productos: int) -> tuple[list[int], list[int]]:
    """Clientes and productos through the API (so the search index has them); the last product has little stock."""
    with httpx.Client(base_url=server.base, headers=server.cabeceras, timeout=60) as http:
        cliente_ids = []
        for i in range(clientes):
            response = http.post(
                "/clientes/",
                json={
                    "nombre": f"Cliente Bench {i}",
                    "email": f"bench{i}@example.com",
                    "telefono": f"+34 600 000 {i:03d}",
                },
            )
            response.raise_for_status()
            cliente_ids.append(response.json()["id"])
        producto_ids = []
        for i in range(productos):
            stock = STOCK_ESCASO if i == productos - 1 else 1_000_000
            body = {
                "nombre": f"Taladro Bench {i}",
                "precio": f"{5 + i}.95",
                "stock": stock,
                "categoria": "Herramientas",
            }
            response = http.post("/productos/", json=body)
            response.raise_for_status()
            producto_ids.append(response.json()["id"])
        # The search stack (embeddings model, Chroma) is loaded before measuring, as in a real worker.
        http.get("/productos/buscar", params={"q": "taladro"}).raise_for_status()
    return cliente_ids, producto_ids


def ventas_script(folder: Path, server: Servidor, clientes: list[int], productos: list[int]) -> Path:
    """A wrk Lua script that posts one-line orders spread over every product (one of them runs out)."""
    auth = server.cabeceras["Authorization"]
    lua = f"""
local clientes = {{{",".join(map(str, clientes))}}}
local productos = {{{",".join(map(str, productos))}}}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "{auth}"
request = function()
  local c = clientes[math.random(#clientes)]
  local p = productos[math.random(#productos)]
  local body = '{{"cliente_id":' .. c .. ',"productos":[{{"producto_id":' .. p .. ',"cantidad":1}}]}}'
  return wrk.format(nil, "/ventas/", nil, body)
end
"""
    path = folder / "ventas.lua"
    path.write_text(lua)
    return path


def oversell_check(server: Servidor, productos: list[int]) -> str:
    """Stock never below zero and, per product, units sold equal to the stock taken."""
    time.sleep(3)  # wrk stops with orders in flight: let them finish before counting
    with httpx.Client(base_url=server.base, headers=server.cabeceras, timeout=60) as http:
        stats = http.get("/ventas/estadisticas", params={"top": 100}).json()
        vendidos = {p["producto_id"]: int(p["unidades"]) for p in stats["top_productos_unidades"]}
        problems = []
        for i, producto_id in enumerate(productos):
            stock = http.get(f"/productos/{producto_id}").json()["stock"]
            initial = STOCK_ESCASO if i == len(productos) - 1 else 1_000_000
            if stock < 0 or initial - stock != vendidos.get(producto_id, 0):
                problems.append(f"producto {producto_id}: stock {stock}, vendidas {vendidos.get(producto_id, 0)}")
    escaso = productos[-1]
    return "; ".join(problems) or f"sin sobreventa (el producto escaso {escaso} vendió {vendidos.get(escaso, 0)})"


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory in MB of the process and its children (the uvicorn workers)."""
    pids = _tree(pid)
    workers = pids[1:] or pids  # with --workers N the parent only supervises
    rss = peak = 0.0
    for worker in workers:
        status = Path(f"/proc/{worker}/status").read_text()
        rss = max(rss, int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)  # type: ignore[union-attr]
        peak = max(peak, int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024)  # type: ignore[union-attr]
    return rss, peak


def _fila(m: Medida, base: Medida | None) -> str:
    figures = f"| {m.nombre} | {m.correctas_s:,.0f} | {m.p50_ms:.2f} | {m.p99_ms:.2f} | {m.cpu_ms:.2f} |"
    if base is None:
        return f"{figures} | | | {m.no_2xx} |"
    return (
        f"{figures} {m.correctas_s / base.correctas_s:.0%} de {base.nombre} | "
        f"{m.p50_ms / base.p50_ms:.1f}x / {m.p99_ms / base.p99_ms:.1f}x | {m.cpu_ms / base.cpu_ms:.1f}x | {m.no_2xx} |"
    )


CABECERA = (
    "| Endpoint | req/s (2xx) | p50 ms | p99 ms | CPU ms/pet. | req/s vs base | p50 / p99 vs base | CPU vs base "
    "| no 2xx |\n|---|---|---|---|---|---|---|---|---|"
)


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def sqlite_run(args: argparse.Namespace, folder: Path) -> None:
    """One worker on SQLite against the bare baseline, `--rondas` times."""
    db = folder / "bench.db"
    with servidor(folder / "sqlite", f"sqlite:///{db}") as server:
        clientes, productos = seed(server, clientes=args.clientes, productos=args.productos)
        script = ventas_script(folder, server, clientes, productos)
        cliente = f"{server.base}/clientes/{clientes[len(clientes) // 2]}"
        with baseline(db) as base:
            for ronda in range(1, args.rondas + 1):
                print(f"\n### SQLite, 1 worker — ronda {ronda} (carga antes: {_loadavg()})\n")
                ours, theirs = server.proceso.pid, base.proceso.pid
                hello = wrk("hello (base)", f"{base.base}/hello", args=args, pid=theirs)
                live = wrk("GET /health/live", f"{server.base}/health/live", args=args, pid=ours)
                row = wrk(
                    "fila sqlite3 (base)", f"{base.base}/fila/{clientes[len(clientes) // 2]}", args=args, pid=theirs
                )
                cli = wrk("GET /clientes/{id} (JWT)", cliente, args=args, cabeceras=server.cabeceras, pid=ours)
                prod = wrk("GET /productos/?limit=20", f"{server.base}/productos/?limit=20", args=args, pid=ours)
                row2 = wrk("fila sqlite3 (base)", f"{base.base}/fila/{clientes[0]}", args=args, pid=theirs)
                ventas = wrk("POST /ventas/", f"{server.base}/ventas/", args=args, script=script, pid=ours)
                print(CABECERA)
                for line in (
                    _fila(hello, None),
                    _fila(live, hello),
                    _fila(row, None),
                    _fila(cli, row),
                    _fila(prod, row),
                    _fila(row2, None),
                    _fila(ventas, row2),
                ):
                    print(line)
                print(f"\nPOST /ventas/: {ventas.total - ventas.no_2xx} pedidos creados, {ventas.no_2xx} rechazados")
                rss, peak = rss_mb(server.proceso.pid)
                print(f"Memoria del worker (con la búsqueda cargada): {rss:.0f} MB RSS, pico {peak:.0f} MB")
                print(f"Carga después: {_loadavg()}")
        print(f"Comprobación: {oversell_check(server, productos)}")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A throw-away PostgreSQL database, dropped afterwards."""
    import psycopg

    name = f"bench_http_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_run(args: argparse.Namespace, folder: Path) -> None:
    """PostgreSQL + Redis: the same endpoints with `servir --workers 1` and `--workers 2`; the scaling factor."""
    with postgres_database() as url:
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        results: dict[int, list[Medida]] = {}
        for workers in (1, 2):
            env = {"REDIS_URL": REDIS_URL}
            with servidor(folder / f"pg{workers}", url, workers=workers, **env) as server:
                if workers == 1:
                    clientes, productos = seed(server, clientes=args.clientes, productos=args.productos)
                else:
                    with httpx.Client(base_url=server.base, headers=server.cabeceras, timeout=60) as http:
                        for _ in range(4):  # load the search stack in both workers
                            http.get("/productos/buscar", params={"q": "taladro"}).raise_for_status()
                script = ventas_script(folder, server, clientes, productos)
                print(f"\n### PostgreSQL + Redis, {workers} worker(s) (carga antes: {_loadavg()})\n")
                pid = server.proceso.pid
                results[workers] = [
                    wrk("GET /health/live", f"{server.base}/health/live", args=args, pid=pid),
                    wrk(
                        "GET /clientes/{id} (JWT)",
                        f"{server.base}/clientes/{clientes[0]}",
                        args=args,
                        cabeceras=server.cabeceras,
                        pid=pid,
                    ),
                    wrk("GET /productos/?limit=20", f"{server.base}/productos/?limit=20", args=args, pid=pid),
                    wrk("POST /ventas/", f"{server.base}/ventas/", args=args, script=script, pid=pid),
                ]
                print(CABECERA)
                for medida in results[workers]:
                    print(_fila(medida, None))
                rss, peak = rss_mb(server.proceso.pid)
                print(f"\nMemoria por worker (máximo): {rss:.0f} MB RSS, pico {peak:.0f} MB")
                print(f"Comprobación: {oversell_check(server, productos)}")
        print("\n### Escalado de 1 a 2 workers (PostgreSQL + Redis)\n")
        print("| Endpoint | 1 worker | 2 workers | factor |\n|---|---|---|---|")
        for one, two in zip(results[1], results[2], strict=True):
            factor = two.correctas_s / one.correctas_s
            print(f"| {one.nombre} | {one.correctas_s:,.0f} | {two.correctas_s:,.0f} | {factor:.2f}x |")


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duracion", type=int, default=8, help="Segundos de cada medida de wrk")
    parser.add_argument("--conexiones", type=int, default=16)
    parser.add_argument("--hilos", type=int, default=2)
    parser.add_argument("--rondas", type=int, default=2, help="Veces que se repite la serie SQLite")
    parser.add_argument("--clientes", type=int, default=50)
    parser.add_argument("--productos", type=int, default=8)
    parser.add_argument("--sin-postgres", action="store_true", help="Solo la parte SQLite")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("Falta wrk: `apt-get install -y wrk` (paquete de Debian)")
    print(f"# bench_http — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    versions = f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    print(f"{platform.node()}: {os.cpu_count()} núcleos, {versions}")
    print(f"wrk -t{args.hilos} -c{args.conexiones} -d{args.duracion}s; carga media al empezar: {_loadavg()}")
    folder = Path(tempfile.mkdtemp(prefix="bench-http-"))
    try:
        sqlite_run(args, folder)
        if not args.sin_postgres:
            postgres_run(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
