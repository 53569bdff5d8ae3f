"""The bare FastAPI baseline of `bench_http.py`: a hello world and a one-row sqlite3 read, nothing else.

Served by the same uvicorn (same loop and HTTP parser) as our server:
    BASELINE_DB=/path/bench.db python -m uvicorn http_baseline:app --no-access-log
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from fastapi import FastAPI, HTTPException

app = FastAPI()
_local = threading.local()


def _connection() -> sqlite3.Connection:
    connection: sqlite3.Connection | None = getattr(_local, "connection", None)
    if connection is None:
        connection = sqlite3.connect(os.environ["BASELINE_DB"], check_same_thread=False)
        connection.row_factory = sqlite3.Row
        _local.connection = connection
    return connection


@app.get("/hello")
async def hello() -> dict[str, str]:
    """The least a FastAPI endpoint can do: no thread pool, no I/O."""
    return {"status": "alive"}


@app.get("/fila/{cliente_id}")
def fila(cliente_id: int) -> dict[str, Any]:
    """One row of `clientes` by primary key, straight from sqlite3 (a sync def in the thread pool)."""
    row = _connection().execute("SELECT * FROM clientes WHERE id = ?", (cliente_id,)).fetchone()
    if row is None:
        raise HTTPException(404)
    return dict(row)
