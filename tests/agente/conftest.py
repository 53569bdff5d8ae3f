"""Fixtures for the agent's tests: the demo catalog, a chat helper, and clean vector collections."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agente_vendedor.agente.models import Conversacion, DemandaInsatisfecha
from agente_vendedor.productos.models import Producto
from agente_vendedor.ventas.models import Venta
from tests.rag.conftest import reset_index, seed_catalog


@pytest.fixture(autouse=True)
def _clean_index(app: FastAPI) -> Iterator[None]:
    """Each test starts with empty vector collections, as the database is wiped."""
    reset_index(app)
    yield
    reset_index(app)


@pytest.fixture
def catalogo(anon_client: TestClient, app: FastAPI) -> dict[str, int]:
    """The 48-product demo catalog, indexed; SKU -> id."""
    return seed_catalog(app)


class Chat:
    """One shop visitor talking to the agent over HTTP."""

    def __init__(self, client: TestClient, chat_id: str) -> None:
        self.client = client
        self.chat_id = chat_id
        self.ultima: dict[str, Any] = {}

    def __call__(self, texto: str) -> dict[str, Any]:
        """Send a message and return the JSON answer (which must be a 200)."""
        response = self.client.post("/rag/query", json={"query": texto, "chat_id": self.chat_id})
        assert response.status_code == 200, response.text
        self.ultima = response.json()
        return self.ultima

    @property
    def texto(self) -> str:
        """The last reply's text."""
        return str(self.ultima.get("respuesta") or "")


def producto(app: FastAPI, nombre: str) -> Producto:
    """A product's live row by exact name."""
    session: Session
    with app.state.session_factory() as session:
        row = session.scalars(select(Producto).where(Producto.nombre == nombre)).one()
        session.expunge(row)
        return row


def ventas(app: FastAPI) -> list[Venta]:
    """Every order in the database."""
    with app.state.session_factory() as session:
        rows = list(session.scalars(select(Venta).order_by(Venta.id)).all())
        session.expunge_all()
        return rows


def demanda(app: FastAPI) -> list[DemandaInsatisfecha]:
    """Every unmet-demand row."""
    with app.state.session_factory() as session:
        rows = list(session.scalars(select(DemandaInsatisfecha).order_by(DemandaInsatisfecha.id)).all())
        session.expunge_all()
        return rows


def conversaciones(app: FastAPI) -> int:
    """How many chats exist."""
    with app.state.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Conversacion)) or 0)


def dinero(value: str) -> Decimal:
    """A JSON money string as Decimal."""
    return Decimal(value)
