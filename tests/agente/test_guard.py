"""The reply guard: names, prices and stock figures are checked against the live database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from agente_vendedor.agente import guard
from agente_vendedor.agente.memoria import EstadoDialogo
from agente_vendedor.agente.models import Conversacion
from agente_vendedor.agente.tienda import Contexto
from tests.agente.conftest import producto

TALADRO = "Taladro percutor 750W"


@pytest.fixture
def ctx(app: FastAPI, catalogo: dict[str, int]) -> Iterator[Contexto]:
    """A turn's context on a fresh chat."""
    session: Session
    with app.state.session_factory() as session:
        conversacion = Conversacion(chat_id="guard")
        session.add(conversacion)
        session.flush()
        yield Contexto(
            session=session, rag=app.state.rag, conversacion=conversacion, estado=EstadoDialogo(), consulta="x"
        )
        session.rollback()


def test_a_reply_with_real_names_prices_and_stock_passes(ctx: Contexto, app: FastAPI) -> None:
    taladro = producto(app, TALADRO)
    texto = f"«{TALADRO}» cuesta {taladro.precio} € y quedan {taladro.stock} unidades."
    assert guard.revisar(ctx, texto).ok
    assert taladro.id in ctx.fuentes


@pytest.mark.parametrize(
    "texto",
    [
        "«Taladro láser cuántico 9000»: 59.90 €",
        f"«{TALADRO}» cuesta 49.90 €",
        f"«{TALADRO}» cuesta 59,00 euros",
        f"«{TALADRO}»: 59.90 €, 99 unidades disponibles",
        f"De «{TALADRO}» quedan 3 unidades",
        f"«{TALADRO}» (stock: 1000)",
    ],
)
def test_invented_products_prices_or_stock_fail(ctx: Contexto, texto: str) -> None:
    assert not guard.revisar(ctx, texto).ok


def test_a_price_written_with_a_comma_is_understood(ctx: Contexto) -> None:
    assert guard.revisar(ctx, f"«{TALADRO}» cuesta 59,90 euros").ok


def test_cart_subtotals_and_total_are_allowed(ctx: Contexto, app: FastAPI) -> None:
    taladro = producto(app, TALADRO)
    cafetera = producto(app, "Cafetera italiana 6 tazas")
    ctx.estado.poner(taladro.id, 2)
    ctx.estado.poner(cafetera.id, 1)
    texto = f"2 × «{TALADRO}» = 119.80 €; 1 × «{cafetera.nombre}» = 22.50 €. Total: 142.30 €"
    assert guard.revisar(ctx, texto).ok
    assert not guard.revisar(ctx, "Total: 142.00 €").ok


def test_an_inactive_product_cannot_be_named(ctx: Contexto, app: FastAPI) -> None:
    taladro = ctx.session.get(type(producto(app, TALADRO)), producto(app, TALADRO).id)
    assert taladro is not None
    taladro.activo = False
    ctx.session.flush()
    assert not guard.revisar(ctx, f"«{TALADRO}»: 59.90 €").ok


def test_the_template_holds_only_database_facts(ctx: Contexto, app: FastAPI) -> None:
    taladro = producto(app, TALADRO)
    medidor = producto(app, "Medidor láser 40 m")
    ctx.mencionar(taladro.id)
    ctx.mencionar(medidor.id)
    texto = guard.plantilla(ctx)
    assert f"«{TALADRO}»: {taladro.precio} €, {taladro.stock} unidades disponibles" in texto
    assert f"«{medidor.nombre}»: {medidor.precio} €, agotado" in texto
    assert guard.revisar(ctx, texto).ok


def test_the_template_without_facts_offers_help(ctx: Contexto) -> None:
    texto = guard.plantilla(ctx)
    assert "€" not in texto and "«" not in texto
