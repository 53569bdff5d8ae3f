"""Real concurrency over a live server: parallel chats and repeated confirmations racing on one chat."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from fastapi import FastAPI

from tests.agente.conftest import producto, ventas
from tests.rag.conftest import seed_catalog

TALADRO = "Taladro percutor 750W"


def _decir(http: httpx.Client, chat_id: str, texto: str) -> dict[str, Any]:
    response = http.post("/rag/query", json={"query": texto, "chat_id": chat_id})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _venta(base: str, n: int) -> int | None:
    with httpx.Client(base_url=base, timeout=60) as http:
        chat_id = f"paralelo-{n}"
        _decir(http, chat_id, "¿tienen el taladro percutor 750W?")
        _decir(http, chat_id, "quiero uno del primero")
        _decir(http, chat_id, f"Me llamo Cliente Paralelo, paralelo{n}@example.com")
        venta_id = _decir(http, chat_id, "sí, confirmo")["venta_id"]
        return int(venta_id) if venta_id is not None else None


def test_parallel_chats_each_get_their_own_order_and_stock_stays_exact(live_url: str, app: FastAPI) -> None:
    seed_catalog(app)
    with ThreadPoolExecutor(max_workers=6) as pool:
        resultados = list(pool.map(lambda n: _venta(live_url, n), range(6)))
    assert None not in resultados and len(set(resultados)) == 6
    assert len(ventas(app)) == 6
    assert producto(app, TALADRO).stock == 12 - 6


def test_concurrent_confirmations_of_one_chat_create_one_order(live_url: str, app: FastAPI) -> None:
    seed_catalog(app)
    with httpx.Client(base_url=live_url, timeout=60) as http:
        _decir(http, "carrera", "¿tienen el taladro percutor 750W?")
        _decir(http, "carrera", "quiero dos del primero")
        _decir(http, "carrera", "Me llamo Ana Carrera, ana.carrera@example.com")

    def confirmar(_: int) -> int | None:
        with httpx.Client(base_url=live_url, timeout=60) as http:
            venta_id = _decir(http, "carrera", "sí, confirmo")["venta_id"]
            return int(venta_id) if venta_id is not None else None

    with ThreadPoolExecutor(max_workers=5) as pool:
        resultados = list(pool.map(confirmar, range(5)))
    [venta] = ventas(app)
    assert set(resultados) == {venta.id}
    assert producto(app, TALADRO).stock == 10
