"""Benchmark of the exports: our CSV/XLSX over HTTP against the spec's pandas approach, same run, same data.

Usage (from the repository root, with the project on the path and pandas installed: `pip install -e .[bench]`):

    PYTHONPATH=src python bench/bench_exportar.py                      # 10k, 100k, 1M clientes
    PYTHONPATH=src python bench/bench_exportar.py --sizes 10000 --xlsx-sizes 10000

For each size it fills a SQLite file with N synthetic clientes (raw `sqlite3.executemany`), then measures:
  (a) `GET /exportar/clientes?formato=csv` against a freshly started uvicorn server (one server per
      measurement, so its peak RSS, VmHWM from /proc, belongs to that export alone);
  (b) `formato=excel` the same way, for the sizes in --xlsx-sizes;
  (c) the spec's CSV Exporter: query all rows, `pandas.DataFrame(...).to_csv`, in a subprocess that reports
      its own peak RSS; and, as floors, a bare `sqlite3` cursor + `csv.writer` loop and the `sqlite3`
      command-line tool's CSV mode (no formatting, no neutralisation, no HTTP).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = "id, nombre, email, telefono, direccion, fecha_registro, activo, fecha_ultima_compra"
NOMBRES = ["José", "María", "Ángela", "Iñigo", "Lucía", "Raúl", "Begoña", "Óscar", "Nuria", "Ramón"]
APELLIDOS = ["Pérez", "Núñez", "García", "Muñoz", "López", "Martín", "Sánchez", "Gómez", "Díaz", "Ibáñez"]
CALLES = ["Calle Mayor", "Avenida de la Constitución", "Plaza España", "Calle Alcalá", "Paseo del Prado"]


@dataclass
class Medida:
    """One measured run."""

    nombre: str
    filas: int
    segundos: float
    rss_mb: float
    bytes: int = 0


def fill_database(path: Path, n: int) -> None:
    """A migrated SQLite file holding n synthetic clientes (some with commas, quotes and formula-like text)."""
    if path.exists():
        path.unlink()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "PYTHONPATH": str(ROOT / "src")}
    subprocess.run([sys.executable, "-m", "agente_vendedor.cli", "migrar"], check=True, env=env, capture_output=True)
    rng = random.Random(42)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")

    def rows() -> object:
        for i in range(1, n + 1):
            nombre = f"{rng.choice(NOMBRES)} {rng.choice(APELLIDOS)} {i}"
            if i % 1000 == 0:
                nombre = f'=HYPERLINK("http://x", "{i}")'  # formula injection attempt
            direccion = f'{rng.choice(CALLES)} {i % 300}, 2{i % 10}0{i % 7}3 Madrid, "portal {i % 9}"'
            fecha = (start + timedelta(seconds=i * 17)).strftime("%Y-%m-%d %H:%M:%S.%f")
            ultima = None if i % 3 else (start + timedelta(days=200, seconds=i)).strftime("%Y-%m-%d %H:%M:%S.%f")
            telefono = f"+34 6{i % 100:02d} {i % 1000:03d} {i % 997:03d}"
            yield (i, nombre, f"cliente{i}@example.com", telefono, direccion, fecha, i % 10 != 0, ultima, "")

    con.executemany(
        "INSERT INTO clientes (id, nombre, email, telefono, direccion, fecha_registro, activo,"
        " fecha_ultima_compra, texto_busqueda) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows(),  # type: ignore[arg-type]
    )
    con.commit()
    con.close()


BENCH_SECRET = "clave-secreta-del-benchmark-de-exportacion-0123456789"


def _admin_headers(database_url: str) -> dict[str, str]:
    """An admin in the bench database and a token signed with the secret the bench server runs with."""
    from sqlalchemy import select

    from agente_vendedor.auth.models import Usuario
    from agente_vendedor.core.db import create_db_engine, create_session_factory
    from agente_vendedor.core.security import create_access_token, hash_password

    engine = create_db_engine(database_url)
    try:
        with create_session_factory(engine).begin() as session:
            usuario = session.scalar(select(Usuario).where(Usuario.email == "bench@tienda.example.com"))
            if usuario is None:
                usuario = Usuario(
                    email="bench@tienda.example.com", password_hash=hash_password("bench-clave-larga"), rol="admin"
                )
                session.add(usuario)
                session.flush()
            user_id = usuario.id
    finally:
        engine.dispose()
    token = create_access_token(user_id=user_id, rol="admin", secret=BENCH_SECRET, expires_minutes=120)
    return {"Authorization": f"Bearer {token}"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_http(
    db: Path | str, exports: Path, n: int, formato: str, *, no_tool: bool = False, label: str = ""
) -> tuple[Medida, float]:
    """Start a fresh server, download one export, return the timing and the server's peak RSS (and idle RSS).

    `no_tool` hides the `sqlite3` tool from the server (empty PATH): CSV then takes the pure-Python path.
    """
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db if isinstance(db, str) else f"sqlite:///{db}",
        "DEMO_DATA": "false",
        "EXPORT_DIRECTORY": str(exports),
        "MAX_EXPORT_RECORDS": str(max(n, 1)),
        "PYTHONPATH": str(ROOT / "src"),
        "SECRET_KEY": BENCH_SECRET,
    }
    headers = _admin_headers(env["DATABASE_URL"])
    if no_tool:
        env["PATH"] = ""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "agente_vendedor.main:app_factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    server = subprocess.Popen(command, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health/live", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("el servidor no arrancó")
            time.sleep(0.1)
        idle = _vm_hwm_mb(server.pid)
        size = 0
        began = time.perf_counter()
        with httpx.stream(
            "GET", f"{url}/exportar/clientes", params={"formato": formato}, headers=headers, timeout=600
        ) as response:
            response.raise_for_status()
            for chunk in response.iter_raw(1 << 20):
                size += len(chunk)
        elapsed = time.perf_counter() - began
        peak = _vm_hwm_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    name = f"API {formato} (HTTP{', sin sqlite3' if no_tool else ''}{label})"
    return Medida(name, n, elapsed, peak, size), idle


PANDAS_BASELINE = textwrap.dedent(
    """
    import resource, sqlite3, sys, time
    import pandas as pd
    db, out, columns = sys.argv[1], sys.argv[2], sys.argv[3]
    began = time.perf_counter()
    con = sqlite3.connect(db)
    rows = con.execute(f"SELECT {columns} FROM clientes ORDER BY id").fetchall()  # the spec: query all rows
    df = pd.DataFrame(rows, columns=[c.strip() for c in columns.split(",")])
    df.to_csv(out, index=False)
    elapsed = time.perf_counter() - began
    print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    """
)

CSV_LOOP = textwrap.dedent(
    """
    import csv, resource, sqlite3, sys, time
    db, out, columns = sys.argv[1], sys.argv[2], sys.argv[3]
    began = time.perf_counter()
    con = sqlite3.connect(db)
    cursor = con.execute(f"SELECT {columns} FROM clientes ORDER BY id")
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        while batch := cursor.fetchmany(5000):
            writer.writerows(batch)
    elapsed = time.perf_counter() - began
    print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    """
)


SQLITE_TOOL = textwrap.dedent(
    """
    import resource, subprocess, sys, time
    db, out, columns = sys.argv[1], sys.argv[2], sys.argv[3]
    began = time.perf_counter()
    with open(out, "wb") as handle:
        sql = f"SELECT {columns} FROM clientes ORDER BY id"
        subprocess.run(["sqlite3", "-csv", "-header", db, sql], stdout=handle, check=True)
    elapsed = time.perf_counter() - began
    print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    """
)


def measure_script(name: str, script: str, db: Path, out: Path, n: int) -> Medida:
    """Run a baseline in its own process; it reports its own time (imports excluded) and peak RSS."""
    result = subprocess.run(
        [sys.executable, "-c", script, str(db), str(out), COLUMNS], check=True, capture_output=True, text=True
    )
    elapsed, rss = (float(x) for x in result.stdout.split())
    size = out.stat().st_size
    out.unlink()
    return Medida(name, n, elapsed, rss, size)


def copy_to_postgres(db: Path, admin_url: str, n: int) -> str:
    """A fresh, migrated PostgreSQL database holding the same clientes as the SQLite file; returns its URL."""
    import psycopg

    name = f"bench_exportar_{n}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT / "src")}
    subprocess.run([sys.executable, "-m", "agente_vendedor.cli", "migrar"], check=True, env=env, capture_output=True)
    source = sqlite3.connect(db)
    columns = "id, nombre, email, telefono, direccion, fecha_registro, activo, fecha_ultima_compra, texto_busqueda"
    with psycopg.connect(url) as target, target.cursor() as cursor:
        with cursor.copy(f"COPY clientes ({columns}) FROM STDIN") as copy:
            for row in source.execute(f"SELECT {columns} FROM clientes"):
                fecha, ultima = row[5], row[7]
                copy.write_row((*row[:5], f"{fecha}+00", bool(row[6]), f"{ultima}+00" if ultima else None, row[8]))
        target.execute("ANALYZE clientes")
    source.close()
    return url


def drop_postgres(admin_url: str, url: str) -> None:
    """Remove a benchmark database."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> None:
    """Fill, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--xlsx-sizes", default="10000,100000")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-exportar"))
    parser.add_argument("--keep", action="store_true", help="keep the databases and files")
    parser.add_argument("--python-csv", action="store_true", help="also measure CSV without the sqlite3 tool")
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        help="also measure CSV over HTTP from PostgreSQL (COPY), e.g. "
        "postgresql://postgres@127.0.0.1:5432/postgres; a throwaway database is created and dropped",
    )
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",") if x]
    xlsx_sizes = {int(x) for x in args.xlsx_sizes.split(",") if x}
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPU, Python {sys.version.split()[0]}")
    header = f"| {'medida':<32} | {'filas':>9} | {'s':>7} | {'filas/s':>10} | {'RSS pico MB':>11} | {'MB':>7} |"
    header += " vs pandas |"
    for n in sizes:
        db = args.workdir / f"clientes_{n}.db"
        exports = args.workdir / f"exports_{n}"
        began = time.perf_counter()
        fill_database(db, n)
        print(f"\n## {n} clientes (relleno en {time.perf_counter() - began:.1f} s)\n")
        pandas = measure_script("pandas DataFrame.to_csv", PANDAS_BASELINE, db, args.workdir / "pandas.csv", n)
        loop = measure_script("sqlite3 + csv.writer", CSV_LOOP, db, args.workdir / "loop.csv", n)
        medidas = [pandas, loop]
        if shutil.which("sqlite3"):
            tool = measure_script("sqlite3 -csv (sin formato)", SQLITE_TOOL, db, args.workdir / "tool.csv", n)
            medidas.append(tool)
        csv_http, idle = measure_http(db, exports, n, "csv")
        medidas.append(csv_http)
        if args.python_csv:
            medidas.append(measure_http(db, exports, n, "csv", no_tool=True)[0])
        if n in xlsx_sizes:
            medidas.append(measure_http(db, exports, n, "excel")[0])
        if args.postgres:
            url = copy_to_postgres(db, args.postgres, n)
            try:
                medidas.append(measure_http(url, exports, n, "csv", label=", PostgreSQL")[0])
            finally:
                drop_postgres(args.postgres, url)
        print(header)
        print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
        for m in medidas:
            ratio = pandas.segundos / m.segundos if m.segundos else float("nan")
            print(
                f"| {m.nombre:<32} | {m.filas:>9} | {m.segundos:>7.2f} | {m.filas / m.segundos:>10,.0f} |"
                f" {m.rss_mb:>11.0f} | {m.bytes / 1e6:>7.1f} | {ratio:>8.2f}x |"
            )
        print(f"\nServidor en reposo (antes de exportar): {idle:.0f} MB de RSS pico.")
        if not args.keep:
            db.unlink()
            for suffix in ("-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            shutil.rmtree(exports, ignore_errors=True)


if __name__ == "__main__":
    main()
