"""Where a loaded server spends its CPU: py-spy samples `servir` while wrk drives one endpoint.

    apt-get install -y wrk && pip install -e '.[bench]'     # py-spy comes with the bench extra
    python bench/perfil_http.py --endpoint clientes          # or live, productos, ventas
    python bench/perfil_http.py --endpoint clientes --flamegraph /tmp/clientes.svg

Prints, for the samples of the event loop and of the worker threads, the share of samples (inclusive) in
which each of our modules and each library of interest appears, and the hottest functions (inclusive).
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import bench_http

GROUPS = {
    "auth (token + usuario)": ("agente_vendedor/auth/",),
    "structlog / logging / máscara": ("structlog/", "logging/__init__", "agente_vendedor/core/logging.py"),
    "prometheus": ("prometheus_client/",),
    "middleware propio": ("agente_vendedor/core/middleware.py", "agente_vendedor/core/metrics.py"),
    "sqlalchemy": ("sqlalchemy/",),
    "sesión: commit/rollback/close": ("session.py:commit", "session.py:close", "session.py:rollback"),
    "pydantic": ("pydantic/", "pydantic_core"),
    "fastapi (dependencias, routing)": ("fastapi/",),
    "starlette": ("starlette/",),
    "anyio (hilos)": ("anyio/",),
    "jwt": ("jwt/",),
    "redis": ("redis/",),
    "uvicorn / httptools": ("uvicorn/",),
}


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", choices=["live", "clientes", "productos", "ventas"], default="clientes")
    parser.add_argument("--duracion", type=int, default=8)
    parser.add_argument("--conexiones", type=int, default=16)
    parser.add_argument("--hilos", type=int, default=2)
    parser.add_argument("--flamegraph", type=Path, help="Además, un SVG de py-spy")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--gil", action="store_true", help="Solo el hilo que tiene el GIL")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="perfil-http-"))
    with bench_http.servidor(folder / "srv", f"sqlite:///{folder / 'perfil.db'}") as server:
        clientes, productos = bench_http.seed(server, clientes=50, productos=8)
        urls = {
            "live": (f"{server.base}/health/live", {}, None),
            "clientes": (f"{server.base}/clientes/{clientes[0]}", server.cabeceras, None),
            "productos": (f"{server.base}/productos/?limit=20", {}, None),
            "ventas": (f"{server.base}/ventas/", {}, bench_http.ventas_script(folder, server, clientes, productos)),
        }
        url, headers, script = urls[args.endpoint]
        raw = folder / "perfil.txt"
        command = ["py-spy", "record", "--pid", str(server.proceso.pid), "--duration", str(args.duracion)]
        command += ["--rate", "200", "--format", "raw", "--output", str(raw), "--nonblocking"]
        if args.gil:
            command.insert(2, "--gil")
        spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        measured: list[bench_http.Medida] = []
        load = threading.Thread(
            target=lambda: measured.append(
                bench_http.wrk(args.endpoint, url, args=args, cabeceras=headers, script=script)
            )
        )
        load.start()
        spy.wait()
        load.join()
        if args.flamegraph:
            svg = [*command[:-4], "--output", str(args.flamegraph), "--nonblocking"]
            svg[svg.index("--duration") + 1] = str(min(args.duracion, 5))
            flame = subprocess.Popen(svg, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            bench_http.wrk(args.endpoint, url, args=args, cabeceras=headers, script=script)
            flame.wait()
    report(raw, measured[0], args.top)
    shutil.rmtree(folder, ignore_errors=True)


def report(raw: Path, medida: bench_http.Medida, top: int) -> None:
    """Aggregate py-spy's collapsed stacks by group and by function (inclusive shares)."""
    stacks: list[tuple[list[str], int]] = []
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if stack:
            stacks.append((stack.split(";"), int(samples)))
    total = sum(count for _, count in stacks)
    busy = [(frames, count) for frames, count in stacks if not _idle(frames[-1])]
    busy_total = sum(count for _, count in busy)
    print(f"{medida.nombre}: {medida.peticiones_s:,.0f} req/s, p50 {medida.p50_ms:.2f} ms, p99 {medida.p99_ms:.2f} ms")
    print(f"muestras: {total}, ocupadas (no esperando en select/cola/lock): {busy_total}\n")
    print("| Grupo | % de las muestras ocupadas (inclusivo) |\n|---|---|")
    for name, needles in GROUPS.items():
        hits = sum(count for frames, count in busy if any(n in f for f in frames for n in needles))
        print(f"| {name} | {hits / busy_total:.0%} |")
    functions: collections.Counter[str] = collections.Counter()
    for frames, count in busy:
        for frame in set(frames):
            functions[frame] += count
    print(f"\nFunciones más presentes (inclusivo, top {top}):")
    for frame, count in functions.most_common(top + 10)[10:]:  # the first ten are the process/thread/loop roots
        print(f"  {count / busy_total:5.0%}  {frame[:150]}")
    leaves: collections.Counter[str] = collections.Counter()
    for frames, count in busy:
        leaves[frames[-1]] += count
    print(f"\nFunciones con más tiempo propio (top {top}):")
    for frame, count in leaves.most_common(top):
        print(f"  {count / busy_total:5.0%}  {frame[:150]}")


def _idle(frame: str) -> bool:
    return any(
        word in frame for word in ("select (", "wait (", "_worker (", "poll (", "epoll", "sleep (", "get (queue")
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
