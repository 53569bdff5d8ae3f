"""The guard on every reply: each product named, price and stock figure must match the database.

Product names are written between «», prices as `59.90 €` (or `59,90 euros`), stock as
`N unidades disponibles` / `quedan N unidades` / `stock: N`. A reply that names an unknown product or quotes a
figure the database does not hold is replaced by a template built from the same facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from agente_vendedor.agente import tienda
from agente_vendedor.agente.tienda import Contexto, Producto, euros

_NOMBRE = re.compile(r"«([^»]{1,200})»")
_PRECIO = re.compile(r"(\d{1,9}(?:[.,]\d{1,2})?)\s*(?:€|eur\b|euros?\b)", re.IGNORECASE)
_STOCK = re.compile(
    r"(\d{1,9})\s+unidades?\s+(?:disponibles?|en stock|en existencias?)"
    r"|quedan\s+(\d{1,9})|stock:?\s+(?:de\s+)?(\d{1,9})",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Veredicto:
    """Whether a reply passed, and why not."""

    ok: bool
    motivo: str | None = None


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ".")).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _importes(texto: str) -> set[Decimal]:
    return {v for m in _PRECIO.finditer(texto) if (v := _decimal(m.group(1))) is not None}


def revisar(ctx: Contexto, texto: str) -> Veredicto:
    """Check a reply against the live database; products it names become `fuentes`."""
    nombres = [n.strip() for n in _NOMBRE.findall(texto)]
    productos: dict[int, Producto] = {}
    if nombres:
        por_nombre = tienda.productos_por_nombre(ctx, set(nombres))
        for nombre in nombres:
            if nombre not in por_nombre:
                return Veredicto(False, f"producto desconocido: {nombre}")
            productos[por_nombre[nombre].id] = por_nombre[nombre]
    for producto_id in ctx.fuentes:
        producto = tienda.producto_activo(ctx, producto_id)
        if producto is not None:
            productos[producto.id] = producto
    precios = {p.precio.quantize(Decimal("0.01")) for p in productos.values()}
    vistas = tienda.lineas(ctx)
    precios |= {v.subtotal for v in vistas} | {v.producto.precio for v in vistas}
    if vistas:
        precios.add(tienda.total(vistas))
    if (info := tienda.info(ctx)) is not None:
        # The owner's own figures (shipping cost, free-shipping threshold) are facts too.
        precios |= {v for texto_info in info.temas.values() for v in _importes(texto_info)}
    if (venta := tienda.pedido(ctx)) is not None:
        precios.add(venta.total.quantize(Decimal("0.01")))
    for match in _PRECIO.finditer(texto):
        valor = _decimal(match.group(1))
        if valor is None or valor not in precios:
            return Veredicto(False, f"precio no respaldado: {match.group(0)}")
    existencias = {p.stock for p in productos.values()}
    for match in _STOCK.finditer(texto):
        unidades = int(next(g for g in match.groups() if g is not None))
        if unidades not in existencias:
            return Veredicto(False, f"stock no respaldado: {match.group(0)}")
    for producto in productos.values():
        ctx.mencionar(producto.id)
    return Veredicto(True)


def plantilla(ctx: Contexto) -> str:
    """The grounded fallback: the facts of the products in play, and the cart, straight from the database."""
    partes = []
    productos = [p for p in (tienda.producto_activo(ctx, i) for i in ctx.fuentes) if p is not None]
    if productos:
        filas = [
            f"- «{p.nombre}»: {euros(p.precio)}, " + (f"{p.stock} unidades disponibles" if p.stock > 0 else "agotado")
            for p in productos[:5]
        ]
        partes.append("Estos son los datos actuales del catálogo:\n" + "\n".join(filas))
    vistas = tienda.lineas(ctx)
    if vistas:
        filas = [f"- {v.cantidad} × «{v.producto.nombre}» = {euros(v.subtotal)}" for v in vistas]
        partes.append("Su carrito:\n" + "\n".join(filas) + f"\nTotal: {euros(tienda.total(vistas))}")
    if ctx.venta_id is not None:
        partes.append(f"Su número de pedido es {ctx.venta_id}.")
    if not partes:
        return "¿En qué puedo ayudarle? Puedo buscar productos, darle precios y disponibilidad y tomar su pedido."
    return "\n".join(partes)
