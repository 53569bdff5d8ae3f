"""Many simultaneous writes over a real server: no request starves waiting for a thread to commit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.factories import cliente_data


def test_fifty_concurrent_creates_all_succeed(live_url: str, admin_headers: dict[str, str]) -> None:
    payloads = [cliente_data() for _ in range(50)]
    with httpx.Client(base_url=live_url, headers=admin_headers, timeout=60) as client:

        def create(payload: dict[str, object]) -> int:
            return client.post("/clientes/", json=payload).status_code

        with ThreadPoolExecutor(max_workers=50) as pool:
            codes = list(pool.map(create, payloads))
        assert codes == [201] * 50
        assert client.get("/clientes/").headers["X-Total-Count"] == "50"
