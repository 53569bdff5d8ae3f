"""Server-rendered SVG charts: the geometry is computed here, the template only draws rectangles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

ANCHO = 600
ALTO = 160
MARGEN = 20


@dataclass(frozen=True)
class Barra:
    """One day's bar: position, size and the label a screen reader and the tooltip give."""

    x: float
    y: float
    ancho: float
    alto: float
    etiqueta: str
    dia: str


@dataclass(frozen=True)
class Grafico:
    """A bar chart of orders per day."""

    barras: list[Barra]
    maximo: int
    ancho: int = ANCHO
    alto: int = ALTO
    base: int = ALTO - MARGEN


def barras_por_dia(por_dia: list[dict[str, Any]], *, desde: date, hasta: date) -> Grafico:
    """Orders per UTC day from `desde` to `hasta` (days without orders show as empty bars)."""
    pedidos = {fila["fecha"]: int(fila["pedidos"]) for fila in por_dia}
    dias = [desde + timedelta(days=n) for n in range((hasta - desde).days + 1)]
    maximo = max([pedidos.get(d, 0) for d in dias] + [1])
    paso = ANCHO / len(dias)
    util = ALTO - 2 * MARGEN
    barras = []
    for indice, dia in enumerate(dias):
        valor = pedidos.get(dia, 0)
        alto = round(util * valor / maximo, 1)
        barras.append(
            Barra(
                x=round(indice * paso + 1, 1),
                y=round(ALTO - MARGEN - alto, 1),
                ancho=round(paso - 2, 1),
                alto=alto,
                etiqueta=f"{dia.strftime('%d/%m')}: {valor} pedido{'s' if valor != 1 else ''}",
                dia=dia.strftime("%d"),
            )
        )
    return Grafico(barras=barras, maximo=maximo)
