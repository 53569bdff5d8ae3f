"""The real server fixture answers over TCP (other suites rely on it for concurrency tests)."""

from __future__ import annotations

import httpx


def test_live_server_serves_the_api(live_url: str) -> None:
    response = httpx.get(f"{live_url}/health", timeout=10)
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"
    assert response.headers["X-Request-ID"]
