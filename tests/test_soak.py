"""The reliability scenario of bench/soak.py in short: two workers on PostgreSQL + Redis + a Chroma server, faults."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, POSTGRES_ADMIN_URL

SOAK = Path(__file__).resolve().parents[1] / "bench" / "soak.py"


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="el escenario corre sobre PostgreSQL")
def test_short_soak_with_a_killed_worker_a_redis_restart_and_a_chroma_outage(tmp_path: Path) -> None:
    # 30 s of mixed load; every check is about state (no timing): the script exits 1 if any fails.
    env = dict(os.environ, SOAK_POSTGRES_URL=POSTGRES_ADMIN_URL)
    completed = subprocess.run(
        [sys.executable, str(SOAK), "--duracion", "30", "--hilos", "6"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=900,
        check=False,
    )
    assert completed.stdout, completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    checks = report["checks"]
    assert checks["sin_sobreventa_y_stock_cuadra"], checks
    assert checks["todo_201_presente"], checks
    assert checks["sin_duplicados_por_clave"], checks
    assert checks["cero_5xx_fuera_de_ventanas"], checks
    assert checks["indice_converge"], report["indice"]
    assert checks["backup_ok"] and checks["export_ok"], checks
    assert checks["restauracion_ok"] and checks["restauracion_consistente"] and checks["reindex_copia_ok"], checks
    # The faults really happened and the load really ran through them.
    assert set(report["fallos"]) == {"kill_worker", "redis_restart", "chroma_stop_start"}
    assert report["pedidos_201"] > 0 and report["pedidos_por_chat"] > 0 and report["rechazados_sin_stock"] >= 0
    assert completed.returncode == 0, completed.stderr[-3000:]
