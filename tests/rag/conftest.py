"""Fixtures for retrieval tests: the Chroma collections are emptied after each test, like the database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from agente_vendedor.demo.service import demo_data
from agente_vendedor.productos import service as productos_service
from agente_vendedor.productos.schemas import ProductoCreate


def reset_index(app: FastAPI) -> None:
    """Drop every vector of the app's index."""
    for indexable in app.state.rag.entidades.values():
        app.state.rag.index.reset(indexable.coleccion)


@pytest.fixture(autouse=True)
def _clean_index(app: FastAPI) -> Iterator[None]:
    """Each test starts and ends with empty collections (the database is wiped by the shared fixtures)."""
    reset_index(app)
    yield
    reset_index(app)


def seed_catalog(app: FastAPI, items: list[dict[str, Any]] | None = None) -> dict[str, int]:
    """Insert products through the service in one transaction (the commit hook indexes them); SKU -> id."""
    items = demo_data()["productos"] if items is None else items
    ids: dict[str, int] = {}
    session: Session
    with app.state.session_factory() as session:
        for item in items:
            producto = productos_service.create(session=session, datos=ProductoCreate.model_validate(item))
            ids[str(producto.sku)] = producto.id
        session.commit()
    return ids


@pytest.fixture
def catalog(client: TestClient, app: FastAPI) -> dict[str, int]:
    """The demo catalog (48 products), indexed; SKU -> id."""
    return seed_catalog(app)
