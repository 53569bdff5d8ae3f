"""Soak test: `servir --workers 2` on PostgreSQL + Redis + a `chroma run` server, mixed load, faults injected.

Usage (from the repository root; only loopback traffic, bounded in time and in requests):
    python bench/soak.py [--duracion 300] [--hilos 6] [--resultados bench/RESULTS-fiabilidad.md]

It creates a throw-away PostgreSQL database on the local server, its own `redis-server` (a free port, never the
machine's shared one) and its own `chroma run`; seeds scarce products and clientes; then runs chats that buy, direct
orders racing for the scarce stock (some retried with the same Idempotency-Key), searches, product edits, one export
and one backup. Meanwhile: `kill -9` of one worker (uvicorn starts a replacement), a Redis restart (empty, as after
a crash) and a Chroma server stop/start. At the end it checks: no oversell, every 201 order present with the right
stock arithmetic, no duplicate for a retried key, zero 5xx outside the injected windows, the index converges to the
database (vectors = rows), and the backup taken under load restores into a new database consistently (and its
index rebuilds with `reindexar`). Prints a JSON report; exit status 1 if any check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_ADMIN = os.environ.get("SOAK_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ADMIN_EMAIL = "soak@tienda.example.com"
ADMIN_PASSWORD = "soak-contraseña-segura-1"
ESCASOS = 6  # scarce products the orders race for (their stock runs out around two thirds into the run)
NOMBRES = ["Lucía Pérez", "Ana García", "Jorge Martín", "Carmen Ruiz", "Pedro Sánchez", "Elena Gómez", "Luis Díaz"]
ORDINALES = ["primero", "segundo", "tercero"]
MAX_PETICIONES = 200_000  # hard bound besides the duration


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Any, timeout: float, what: str) -> float:
    """Poll `check()` until true; returns the seconds it took (raises after `timeout`)."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"{what}: sin respuesta tras {timeout:.0f} s")
        time.sleep(0.1)
    return time.monotonic() - start


class Proceso:
    """A child server we may stop and start again on the same port."""

    def __init__(self, command: list[str], probe: Any, name: str, env: dict[str, str] | None = None) -> None:
        self.command, self.probe, self.name, self.env = command, probe, name, env
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()

    def start(self, timeout: float = 90) -> float:
        """Start and wait until it answers; returns the seconds that took."""
        self.process = subprocess.Popen(self.command, stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        return wait_until(lambda: self._alive_or_fail() and self.probe(), timeout, self.name)

    def _alive_or_fail(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            self.log.seek(0)
            tail = self.log.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} terminó con código {self.process.returncode}:\n{tail}")
        return True

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self.process = None


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _redis_ok(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(port=port, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def workers_of(pid: int) -> list[int]:
    """The uvicorn worker processes under the `servir` process (multiprocessing children running `spawn_main`)."""
    found = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    for child in children:
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
        except OSError:
            continue
    return found


@dataclass
class Registro:
    """Every request's outcome, shared by the load threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    peticiones: Counter[str] = field(default_factory=Counter)
    errores: list[tuple[float, str, str]] = field(default_factory=list)  # (t, op, status or exception)
    duraciones: dict[str, list[float]] = field(default_factory=dict)  # op -> seconds of each answered request
    lentas: list[tuple[float, float, str]] = field(default_factory=list)  # the slowest: (seconds, started at, op)
    pedidos_201: dict[int, tuple[str, list[tuple[int, int]]]] = field(default_factory=dict)  # id -> key, lines
    claves: dict[str, set[int]] = field(default_factory=dict)  # idempotency key -> venta ids it returned
    chats_comprados: list[int] = field(default_factory=list)
    sin_stock: int = 0
    busquedas_lexicas: int = 0
    total: int = 0

    def ok(self, op: str) -> None:
        with self.lock:
            self.peticiones[op] += 1
            self.total += 1

    def error(self, t: float, op: str, detail: str) -> None:
        with self.lock:
            self.peticiones[op] += 1
            self.total += 1
            self.errores.append((t, op, detail))


class Carga:
    """The mixed load: one thread per role until the deadline or the request bound."""

    def __init__(self, base: str, token: str, escasos: list[int], otros: list[int], clientes: list[int]) -> None:
        self.base, self.token = base, token
        self.escasos, self.otros, self.clientes = escasos, otros, clientes
        self.registro = Registro()
        self.stop = threading.Event()
        self.t0 = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def _call(self, http: httpx.Client, op: str, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        start = time.monotonic()
        try:
            response = http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.registro.error(self.now(), op, type(exc).__name__)
            return None
        took = time.monotonic() - start
        with self.registro.lock:
            self.registro.duraciones.setdefault(op, []).append(took)
            self.registro.lentas.append((round(took, 2), round(start - self.t0, 1), op))
            self.registro.lentas = sorted(self.registro.lentas, reverse=True)[:8]
        if response.status_code >= 500:
            self.registro.error(self.now(), op, str(response.status_code))
        else:
            self.registro.ok(op)
        return response

    def _client(self, auth: bool = True) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        # Generous: on a shared 2-core machine a request can be slow; one that hangs still shows up as a ReadTimeout.
        return httpx.Client(base_url=self.base, headers=headers, timeout=120)

    def _running(self) -> bool:
        return not self.stop.is_set() and self.registro.total < MAX_PETICIONES

    def pedidos(self, seed: int) -> None:
        """Direct orders racing for the scarce stock; a failed or every 5th call is retried with the same key."""
        rnd = random.Random(seed)
        with self._client() as http:
            while self._running():
                key = uuid.uuid4().hex
                lineas = [(rnd.choice(self.escasos), rnd.randint(1, 3))]
                body = {
                    "cliente_id": rnd.choice(self.clientes),
                    "productos": [{"producto_id": p, "cantidad": c} for p, c in lineas],
                    "metadatos": {"soak_clave": key},
                }
                tries = 2 if rnd.random() < 0.2 else 1
                for attempt in range(4):
                    r = self._call(http, "pedido", "POST", "/ventas/", json=body, headers={"Idempotency-Key": key})
                    if r is not None and r.status_code in (200, 201):
                        venta = int(r.json()["id"])
                        with self.registro.lock:
                            self.registro.claves.setdefault(key, set()).add(venta)
                            if r.status_code == 201:
                                self.registro.pedidos_201[venta] = (key, lineas)
                        tries -= 1
                        if tries <= 0:
                            break
                    elif r is not None and r.status_code == 409:
                        with self.registro.lock:
                            self.registro.sin_stock += 1
                        break
                    elif r is not None and r.status_code < 500:
                        self.registro.error(self.now(), "pedido", f"{r.status_code} inesperado: {r.text[:200]}")
                        break
                    if attempt < 3 and (r is None or r.status_code >= 500):
                        time.sleep(0.2)

    def chats(self, seed: int) -> None:
        """Conversations that search, add to the cart, give their details and confirm (the offline engine)."""
        rnd = random.Random(seed)
        with self._client(auth=False) as http:
            n = 0
            while self._running():
                n += 1
                chat = f"soak-{seed}-{n}"
                pasos = [
                    "¿tienen cafeteras?",
                    f"quiero uno del {rnd.choice(ORDINALES)}",
                    f"Me llamo {rnd.choice(NOMBRES)}, soak{seed}x{n}@example.com",
                    "sí, confirmo",
                    "confirmo",  # a second confirmation must not create a second order
                ]
                comprado: int | None = None
                for texto in pasos:
                    r = self._call(http, "chat", "POST", "/rag/query", json={"query": texto, "chat_id": chat})
                    if r is None or r.status_code != 200:
                        break
                    if r.headers.get("X-Busqueda-Modo") == "lexico":
                        with self.registro.lock:
                            self.registro.busquedas_lexicas += 1
                    venta = r.json().get("venta_id")
                    if venta and comprado is None:
                        comprado = int(venta)
                        with self.registro.lock:
                            self.registro.chats_comprados.append(comprado)
                    elif venta and int(venta) != comprado:
                        with self.registro.lock:
                            self.registro.claves.setdefault(chat, set()).update({comprado or 0, int(venta)})
                time.sleep(rnd.random() * 0.05)

    def busquedas_y_ediciones(self, seed: int) -> None:
        """Searches (hybrid), catalog reads (cached) and product edits (price and description of non-scarce rows)."""
        rnd = random.Random(seed)
        consultas = ["cafetera", "taladro inalambrico", "lampara de mesa", "cafetra italiana", "mochila", "silla"]
        with self._client() as http:
            while self._running():
                roll = rnd.random()
                if roll < 0.5:
                    r = self._call(http, "busqueda", "GET", "/productos/buscar", params={"q": rnd.choice(consultas)})
                    if r is not None and r.headers.get("X-Busqueda-Modo") == "lexico":
                        with self.registro.lock:
                            self.registro.busquedas_lexicas += 1
                elif roll < 0.8:
                    self._call(http, "lectura", "GET", f"/productos/{rnd.choice(self.otros + self.escasos)}")
                else:
                    producto = rnd.choice(self.otros)
                    cambios = {
                        "precio": f"{rnd.randint(5, 200)}.{rnd.randint(0, 99):02d}",
                        "descripcion": uuid.uuid4().hex,
                    }
                    self._call(http, "edicion", "PATCH", f"/productos/{producto}", json=cambios)


def _sql(url: str, query: str, **params: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(query), params).all())
    finally:
        engine.dispose()


def _stock_arithmetic(url: str, iniciales: dict[int, int]) -> list[str]:
    """For every seeded product: initial stock - units in its order lines == stock now, and never below zero."""
    problems = []
    vendidas = dict(_sql(url, "SELECT producto_id, COALESCE(SUM(cantidad), 0) FROM ventas_lineas GROUP BY producto_id"))
    for producto_id, stock in _sql(url, "SELECT id, stock FROM productos"):
        if producto_id not in iniciales:
            continue
        if stock < 0:
            problems.append(f"producto {producto_id}: stock negativo {stock}")
        esperado = iniciales[producto_id] - int(vendidas.get(producto_id, 0))
        if stock != esperado:
            problems.append(f"producto {producto_id}: stock {stock}, esperado {esperado}")
    return problems


def run(duracion: float, hilos: int, resultados: Path | None) -> dict[str, Any]:
    """The whole scenario; returns the report (with `checks` and `ok`)."""
    stock_escaso = max(25, int(duracion * 0.5))
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    db_name = f"soak_{uuid.uuid4().hex[:10]}"
    restored_name = f"{db_name}_rest"
    admin_url = make_url(POSTGRES_ADMIN)
    db_url = admin_url.set(database=db_name).render_as_string(hide_password=False)
    restored_url = admin_url.set(database=restored_name).render_as_string(hide_password=False)
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{db_name}"'))
        connection.execute(text(f'CREATE DATABASE "{restored_name}"'))

    redis_port, chroma_port, api_port = free_port(), free_port(), free_port()
    redis = Proceso(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        lambda: _redis_ok(redis_port),
        "redis-server",
    )
    chroma_exe = Path(sys.executable).parent / "chroma"
    chroma = Proceso(
        [str(chroma_exe if chroma_exe.exists() else "chroma"), "run", "--path", str(work / "chroma-server")]
        + ["--host", "127.0.0.1", "--port", str(chroma_port)],
        lambda: _http_ok(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat"),
        "chroma run",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CHROMA_", "REDIS_"))}
    env.update(
        DATABASE_URL=db_url,
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        CHROMA_HOST="127.0.0.1",
        CHROMA_PORT=str(chroma_port),
        DATA_DIRECTORY=str(work / "data"),
        CHROMA_PERSIST_DIRECTORY=str(work / "data" / "chroma-no-usado"),
        EXPORT_DIRECTORY=str(work / "exports"),
        DEMO_DATA="false",
        ADMIN_EMAIL=ADMIN_EMAIL,
        ADMIN_PASSWORD=ADMIN_PASSWORD,
        RATE_LIMIT_RAG="100000/minute",
        RATE_LIMIT_LOGIN="1000/minute",
        OUTBOX_INTERVAL_SECONDS="1",
        ENVIRONMENT="development",
    )
    base = f"http://127.0.0.1:{api_port}"
    cli = [sys.executable, "-m", "agente_vendedor.cli"]
    api: Proceso = Proceso(
        [*cli, "servir", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "2"],
        lambda: _http_ok(f"{base}/health/live") and len(workers_of(api.process.pid if api.process else 0)) == 2,
        "agente-vendedor servir",
        env=env,
    )
    report: dict[str, Any] = {"duracion_s": duracion, "hilos": hilos}
    faults: dict[str, dict[str, float]] = {}
    checks: dict[str, Any] = {}
    try:
        redis.start()
        chroma.start()
        report["arranque_api_s"] = round(api.start(timeout=180), 1)

        with httpx.Client(base_url=base, timeout=30) as http:
            token = http.post("/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            escasos, otros, clientes, iniciales = [], [], [], {}
            nombres = ["Cafetera italiana", "Cafetera de goteo", "Cafetera exprés", "Molinillo de café"]
            for i in range(ESCASOS):
                body = {
                    "nombre": f"{nombres[i % len(nombres)]} serie {i}",
                    "descripcion": "Edición limitada",
                    "precio": "29.90",
                    "stock": stock_escaso,
                    "categoria": "Cocina",
                    "sku": f"SOAK-E{i:02d}",
                }
                created = http.post("/productos/", json=body, headers=headers).json()
                escasos.append(created["id"])
                iniciales[created["id"]] = stock_escaso
            extra = ["Taladro inalámbrico 18V", "Lámpara de mesa LED", "Mochila de senderismo", "Silla de oficina"]
            for i in range(24):
                body = {
                    "nombre": f"{extra[i % len(extra)]} modelo {i}",
                    "descripcion": "Catálogo de prueba",
                    "precio": "49.00",
                    "stock": 1000,
                    "categoria": "Varios",
                    "sku": f"SOAK-O{i:02d}",
                }
                created = http.post("/productos/", json=body, headers=headers).json()
                otros.append(created["id"])
                iniciales[created["id"]] = 1000
            for i in range(5):
                cliente = {"nombre": f"Comprador {i}", "email": f"comprador{i}@example.com"}
                clientes.append(http.post("/clientes/", json=cliente, headers=headers).json()["id"])

        carga = Carga(base, token["access_token"], escasos, otros, clientes)
        roles = [carga.pedidos, carga.chats, carga.busquedas_y_ediciones]
        threads = [threading.Thread(target=roles[i % len(roles)], args=(i,), daemon=True) for i in range(max(3, hilos))]
        for thread in threads:
            thread.start()

        def at(fraction: float) -> None:
            wait = carga.t0 + duracion * fraction - time.monotonic()
            if wait > 0:
                time.sleep(wait)

        assert api.process is not None
        # 1) kill -9 one worker; uvicorn's supervisor starts a replacement.
        at(0.15)
        victim = workers_of(api.process.pid)[0]
        t = carga.now()
        os.kill(victim, signal.SIGKILL)
        back = wait_until(
            lambda: len([w for w in workers_of(api.process.pid) if w != victim]) == 2, 120, "worker de reemplazo"
        )
        faults["kill_worker"] = {"inicio": t, "fin": carga.now() + 3, "recuperacion_s": back}
        # 2) a backup and an export under load.
        at(0.3)
        t = carga.now()
        backup = subprocess.run(
            [*cli, "respaldar", "--destino", str(work / "copias")], env=env, capture_output=True, text=True, check=False
        )
        report["backup_s"] = round(carga.now() - t, 2)
        checks["backup_ok"] = backup.returncode == 0
        if backup.returncode != 0:
            checks["backup_error"] = backup.stderr[-2000:]
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            t = carga.now()
            exported = http.get("/exportar/ventas", params={"formato": "csv"})
            report["export_s"] = round(carga.now() - t, 2)
            checks["export_ok"] = exported.status_code == 200
        # 3) Redis restarts empty.
        at(0.45)
        t = carga.now()
        redis.stop()
        time.sleep(min(3.0, duracion * 0.03))
        redis.start()
        faults["redis_restart"] = {"inicio": t, "fin": carga.now() + 5, "recuperacion_s": carga.now() - t}
        # 4) the Chroma server stops for a while and comes back.
        at(0.6)
        t = carga.now()
        chroma.stop()
        time.sleep(min(8.0, duracion * 0.06))
        chroma.start()
        t_back = carga.now()
        health_back = wait_until(
            lambda: httpx.get(f"{base}/health", timeout=10).json()["checks"]["chromadb"]["ok"], 120, "health chromadb"
        )
        faults["chroma_stop_start"] = {
            "inicio": t,
            "fin": carga.now() + 5,
            "caida_s": round(t_back - t, 2),
            "recuperacion_s": health_back,
        }
        at(1.0)
        carga.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        report["carga_s"] = round(carga.now(), 1)

        # ---- checks -------------------------------------------------------------------------------------
        registro = carga.registro
        sql_url = make_url(db_url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        convergence = wait_until(lambda: _converged(base), 180, "índice convergente")
        report["convergencia_indice_s"] = round(convergence, 1)
        health = httpx.get(f"{base}/health", timeout=10).json()["checks"]["chromadb"]
        checks["indice_converge"] = health["ok"] and "pendientes: 0" in health["detail"]
        report["indice"] = health["detail"]

        problems = _stock_arithmetic(sql_url, iniciales)
        checks["sin_sobreventa_y_stock_cuadra"] = not problems
        if problems:
            checks["problemas_stock"] = problems[:20]
        present = {row[0]: row[1] for row in _sql(sql_url, "SELECT id, metadatos_json FROM ventas")}
        lineas: dict[int, list[tuple[int, int]]] = {}
        for venta_id, producto_id, cantidad in _sql(
            sql_url, "SELECT venta_id, producto_id, cantidad FROM ventas_lineas ORDER BY id"
        ):
            lineas.setdefault(venta_id, []).append((producto_id, cantidad))
        missing = [v for v in registro.pedidos_201 if v not in present]
        wrong = [v for v, (_, ls) in registro.pedidos_201.items() if v in present and lineas.get(v) != ls]
        missing_chat = [v for v in registro.chats_comprados if v not in present]
        checks["todo_201_presente"] = not missing and not wrong and not missing_chat
        claves = Counter(
            json.loads(m).get("soak_clave") for m in present.values() if m and "soak_clave" in json.loads(m)
        )
        duplicated = [k for k, n in claves.items() if n > 1] + [k for k, v in registro.claves.items() if len(v) > 1]
        checks["sin_duplicados_por_clave"] = not duplicated
        windows = [(f["inicio"], f["fin"]) for f in faults.values()]
        outside = [e for e in registro.errores if not any(a <= e[0] <= b for a, b in windows)]
        checks["cero_5xx_fuera_de_ventanas"] = not outside
        if outside:
            checks["errores_fuera"] = outside[:20]
        by_phase: Counter[str] = Counter()
        detail: Counter[str] = Counter()
        for t_error, op, what in registro.errores:
            phase = next((name for name, f in faults.items() if f["inicio"] <= t_error <= f["fin"]), "fuera")
            by_phase[phase] += 1
            detail[f"{phase} / {op} / {what}"] += 1

        # ---- the backup taken under load restores into a new database, consistently ------------------------
        if checks["backup_ok"]:
            folder = next(p for p in (work / "copias").iterdir() if p.is_dir())
            renv = dict(
                env,
                DATABASE_URL=restored_url,
                EXPORT_DIRECTORY=str(work / "restaurado" / "exports"),
                DATA_DIRECTORY=str(work / "restaurado" / "data"),
                CHROMA_PERSIST_DIRECTORY=str(work / "restaurado" / "chroma"),
            )
            restored = subprocess.run([*cli, "restaurar", str(folder)], env=renv, capture_output=True, text=True)
            rurl = make_url(restored_url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
            checks["restauracion_ok"] = restored.returncode == 0
            if restored.returncode == 0:
                rproblems = _stock_arithmetic(rurl, iniciales)
                orphan = _sql(
                    rurl,
                    "SELECT count(*) FROM ventas v "
                    "WHERE NOT EXISTS (SELECT 1 FROM ventas_lineas l WHERE l.venta_id = v.id)",
                )[0][0]
                checks["restauracion_consistente"] = not rproblems and orphan == 0
                report["ventas_en_copia"] = _sql(rurl, "SELECT count(*) FROM ventas")[0][0]
                # Its index is rebuilt from the restored rows (the Chroma server's data are not in the backup).
                local = {k: v for k, v in renv.items() if k not in ("CHROMA_HOST", "CHROMA_PORT")}
                t = time.monotonic()
                reindexed = subprocess.run([*cli, "reindexar"], env=local, capture_output=True, text=True)
                report["reindex_copia_s"] = round(time.monotonic() - t, 1)
                checks["reindex_copia_ok"] = reindexed.returncode == 0 and _local_index_matches(local)
            else:
                checks["restauracion_error"] = restored.stderr[-2000:]

        report.update(
            peticiones=dict(registro.peticiones),
            peticiones_total=registro.total,
            pedidos_201=len(registro.pedidos_201),
            pedidos_por_chat=len(registro.chats_comprados),
            rechazados_sin_stock=registro.sin_stock,
            claves_reintentadas=sum(1 for v in registro.claves.values() if v),
            respuestas_solo_lexicas=registro.busquedas_lexicas,
            errores_por_fase=dict(by_phase),
            errores_detalle=dict(detail),
            mas_lentas=registro.lentas,
            latencia_ms={
                op: {
                    "p50": round(statistics.median(d) * 1000),
                    "p99": round(sorted(d)[int(len(d) * 0.99) - 1] * 1000),
                    "max": round(max(d) * 1000),
                }
                for op, d in registro.duraciones.items()
                if d
            },
            errores_total=len(registro.errores),
            fallos=faults,
        )
    finally:
        for proceso in (api, chroma, redis):
            try:
                proceso.stop()
            except Exception:  # noqa: BLE001 - clean-up must go on
                pass
        with admin.connect() as connection:
            for name in (db_name, restored_name):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(work, ignore_errors=True)
    report["checks"] = checks
    report["ok"] = all(v for k, v in checks.items() if isinstance(v, bool))
    if resultados is not None:
        _write_results(resultados, report)
    return report


def _converged(base: str) -> bool:
    """The health check says the index answers, nothing is pending and every collection has vectors = rows."""
    try:
        check = httpx.get(f"{base}/health", timeout=10).json()["checks"]["chromadb"]
    except (httpx.HTTPError, ValueError, KeyError):
        return False
    if not check["ok"] or "pendientes: 0" not in check["detail"]:
        return False
    counts = [part.split(": ")[1] for part in check["detail"].split(" (")[0].split(", ")]
    return all(v == r for v, r in (c.split("/") for c in counts))


def _local_index_matches(env: dict[str, str]) -> bool:
    from agente_vendedor.core.db import create_db_engine, create_session_factory
    from agente_vendedor.models import INDEXABLES
    from agente_vendedor.rag.runtime import Rag
    from agente_vendedor.settings import Settings

    valores: dict[str, Any] = {k: v for k, v in env.items() if k in Settings.model_fields}
    settings = Settings(_env_file=None, **valores)
    engine = create_db_engine(settings.sqlalchemy_url)
    try:
        status = Rag(settings, create_session_factory(engine), entidades=INDEXABLES).status()
    finally:
        engine.dispose()
    return all(vectors == rows for vectors, rows in status.values())


def _write_results(path: Path, report: dict[str, Any]) -> None:
    fallos = report.get("fallos", {})
    lines = [
        "# Fiabilidad bajo carga y fallos (bench/soak.py)",
        "",
        f"Fecha: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Máquina: 2 núcleos, 24 GiB, **compartida con",
        "las pruebas de otros cuatro ingenieros durante la medición** (latencias y peticiones varían por eso).",
        "",
        "Montaje: `agente-vendedor servir --workers 2` sobre PostgreSQL local (base desechable), `redis-server` propio",
        "(sin persistencia, otro puerto) y `chroma run` propio; todo en loopback. "
        f"Duración de la carga: {report.get('carga_s')} s, {report.get('hilos')} hilos.",
        "",
        "| fallo inyectado | instante (s) | recuperación |",
        "| --- | --- | --- |",
    ]
    if "kill_worker" in fallos:
        f = fallos["kill_worker"]
        lines.append(
            f"| `kill -9` de un worker | {f['inicio']:.1f} | uvicorn lanzó el proceso de reemplazo "
            f"{f['recuperacion_s']:.1f} s después |"
        )
    if "redis_restart" in fallos:
        f = fallos["redis_restart"]
        lines.append(
            f"| reinicio de Redis (vacío) | {f['inicio']:.1f} | respondía de nuevo {f['recuperacion_s']:.1f} s "
            "después de pararlo (3 s de parada deliberada) |"
        )
    if "chroma_stop_start" in fallos:
        f = fallos["chroma_stop_start"]
        lines.append(
            f"| parada del servidor Chroma | {f['inicio']:.1f} | caído {f['caida_s']:.1f} s; /health ok "
            f"{f['recuperacion_s']:.1f} s después de arrancarlo |"
        )
    lines += [
        "",
        f"Peticiones: {report.get('peticiones_total')} ({report.get('peticiones')}).",
        f"Pedidos 201: {report.get('pedidos_201')} directos + {report.get('pedidos_por_chat')} por chat; "
        f"{report.get('rechazados_sin_stock')} rechazados con 409 por falta de stock; "
        f"respuestas con `X-Busqueda-Modo: lexico`: {report.get('respuestas_solo_lexicas')}.",
        f"Errores (5xx o conexión cortada) por fase: {report.get('errores_por_fase')} "
        f"(total {report.get('errores_total')}); detalle fase / operación / error: {report.get('errores_detalle')}.",
        f"Latencia por operación (ms, toda la carga, fallos incluidos): {report.get('latencia_ms')}.",
        f"Las más lentas (segundos, instante de inicio, operación): {report.get('mas_lentas')}.",
        f"Backup bajo carga: {report.get('backup_s')} s; exportación de ventas: {report.get('export_s')} s; "
        f"ventas en la copia restaurada: {report.get('ventas_en_copia')}; reindex de la copia: "
        f"{report.get('reindex_copia_s')} s. Convergencia del índice tras la carga: "
        f"{report.get('convergencia_indice_s')} s ({report.get('indice')}).",
        "",
        "| comprobación | resultado |",
        "| --- | --- |",
    ]
    for name, value in report.get("checks", {}).items():
        if isinstance(value, bool):
            lines.append(f"| {name} | {'sí' if value else '**NO**'} |")
    lines += [
        "",
        f"Resultado global: {'correcto' if report.get('ok') else '**FALLOS**'}.",
        "",
        "Orden: `python bench/soak.py --duracion 300 --hilos 6 --resultados bench/RESULTS-fiabilidad.md`",
        "(imprime el informe JSON completo; sale con 1 si falla alguna comprobación). Las ventanas de fallo van del",
        "instante del fallo a 3-5 s después de recuperarse; un error fuera de ellas hace fallar la comprobación",
        "`cero_5xx_fuera_de_ventanas`. La versión corta (30 s, mismos fallos y comprobaciones) corre en la suite:",
        "`tests/test_soak.py`.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duracion", type=float, default=300.0, help="segundos de carga (máx. 900)")
    parser.add_argument("--hilos", type=int, default=6, help="hilos de carga (3 a 12)")
    parser.add_argument("--resultados", type=Path, default=None, help="escribir el resumen en este .md")
    args = parser.parse_args()
    duracion = min(max(args.duracion, 15.0), 900.0)
    report = run(duracion, min(max(args.hilos, 3), 12), args.resultados)
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
