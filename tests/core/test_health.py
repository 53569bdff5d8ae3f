"""/health reports each dependency and answers 503 when one fails."""

from __future__ import annotations

from fastapi.testclient import TestClient

from agente_vendedor.core.config import Settings
from agente_vendedor.main import create_app


def test_healthy_service_reports_each_check(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert set(body["checks"]) == {"database", "disk_space", "chromadb"}
    assert all(check["ok"] for check in body["checks"].values())


def test_unreachable_database_is_503(settings: Settings) -> None:
    broken = settings.model_copy(update={"DATABASE_URL": "postgresql://nadie@127.0.0.1:1/inexistente"})
    app = create_app(broken)
    client = TestClient(app)  # no lifespan: the schema check would refuse to start
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["disk_space"]["ok"] is True


def test_low_disk_space_is_503(settings: Settings) -> None:
    greedy = settings.model_copy(update={"MIN_FREE_DISK_MB": 10**12})
    with TestClient(create_app(greedy)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert "MB libres" in response.json()["checks"]["disk_space"]["detail"]
