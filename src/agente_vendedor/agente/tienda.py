"""The shop as the agent sees it: catalog facts, the cart, clientes and orders, all through the real services.

Both generators (the offline engine and the LLM's tools) act only through these functions, so what the
agent says and does is always what the database holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agente_vendedor.agente import informacion
from agente_vendedor.agente.informacion import InfoTienda
from agente_vendedor.agente.memoria import EstadoDialogo
from agente_vendedor.agente.models import Conversacion, DemandaInsatisfecha
from agente_vendedor.clientes import service as clientes_service
from agente_vendedor.clientes.models import Cliente
from agente_vendedor.clientes.schemas import ClienteCreate
from agente_vendedor.core.errors import AppError
from agente_vendedor.core.text import fold
from agente_vendedor.productos import busqueda as productos_busqueda
from agente_vendedor.productos import service as productos_service
from agente_vendedor.productos.models import Producto as Producto  # the agent's modules see products through here
from agente_vendedor.rag import service as rag_service
from agente_vendedor.rag import text as rag_text
from agente_vendedor.rag.outbox import savepoint as savepoint  # the agent's one way to nest a transaction
from agente_vendedor.rag.runtime import Rag
from agente_vendedor.ventas import service as ventas_service
from agente_vendedor.ventas.models import Venta as Venta
from agente_vendedor.ventas.schemas import MAX_CANTIDAD, VentaCreate

CENT = Decimal("0.01")
MAX_MOSTRADOS = 5
MODO_BUSQUEDA: rag_service.Modo = "hibrido"


@dataclass
class Contexto:
    """One turn: the database session, the retrieval runtime, the chat and its remembered state."""

    session: Session
    rag: Rag | None
    conversacion: Conversacion
    estado: EstadoDialogo
    consulta: str
    fuentes: dict[int, float | None] = field(default_factory=dict)
    venta_id: int | None = None
    leidos: set[int] = field(default_factory=set)  # products read fresh from the database in this turn

    def mencionar(self, producto_id: int, score: float | None = None) -> None:
        """Record a product the reply talks about (it becomes a `fuente`)."""
        if producto_id not in self.fuentes or self.fuentes[producto_id] is None:
            self.fuentes[producto_id] = score


@dataclass(frozen=True)
class Respuesta:
    """What a generator answers for one turn."""

    texto: str
    intencion: str
    generador: str = "offline"


@dataclass(frozen=True)
class LineaVista:
    """A cart line priced from the live catalog."""

    producto: Producto
    cantidad: int

    @property
    def subtotal(self) -> Decimal:
        """Line amount at today's price."""
        return (self.producto.precio * self.cantidad).quantize(CENT)


def euros(value: Decimal) -> str:
    """A price as the replies write it: `59.90 €`."""
    return f"{value.quantize(CENT)} €"


def productos_por_nombre(ctx: Contexto, nombres: set[str]) -> dict[str, Producto]:
    """Active products by exact name (the names a reply quotes between «»)."""
    if not nombres:
        return {}
    rows = ctx.session.scalars(select(Producto).where(Producto.nombre.in_(nombres), Producto.activo.is_(True)))
    return {p.nombre: p for p in rows}


def categorias(ctx: Contexto) -> list[str]:
    """The catalog's category names, for a reply that has no product to offer."""
    return [nombre for nombre, _ in productos_service.categories(session=ctx.session)]


def pedido(ctx: Contexto) -> Venta | None:
    """The order this chat already placed, if any."""
    return ctx.session.get(Venta, ctx.venta_id) if ctx.venta_id is not None else None


def producto_activo(ctx: Contexto, producto_id: int) -> Producto | None:
    """The live row of an active product: read from the database once per turn (prices and stock may have changed
    since the session loaded it), then from the session; an order placed in the turn reads them again."""
    recargar = producto_id not in ctx.leidos
    producto = ctx.session.get(Producto, producto_id, populate_existing=recargar)
    ctx.leidos.add(producto_id)
    return producto if producto is not None and producto.activo else None


def buscar(
    ctx: Contexto,
    texto: str,
    *,
    limit: int = MAX_MOSTRADOS,
    precio_max: Decimal | None = None,
    precio_min: Decimal | None = None,
) -> list[tuple[Producto, float]]:
    """Products whose words match (full-text, typos and synonyms included); nothing when nothing matches."""
    if not texto.strip():
        return []
    if ctx.rag is None:
        return []
    resultados = productos_busqueda.search_productos(
        session=ctx.session,
        rag=ctx.rag,
        q=texto,
        limit=limit if precio_min is None else limit * 4,
        precio_max=precio_max,
        modo=MODO_BUSQUEDA,
    )
    encontrados = [(r.item, r.score) for r in resultados]
    if precio_min is not None:
        encontrados = [(p, s) for p, s in encontrados if p.precio >= precio_min]
    return _afinar(encontrados[:limit], texto)


def _afinar(encontrados: list[tuple[Producto, float]], texto: str) -> list[tuple[Producto, float]]:
    """Among look-alikes, the words that tell their names apart decide: "bombillas de luz cálida" keeps the warm
    bulbs and drops the cold ones, "mochila azul" the red one. Words every name (or no name) has decide nothing;
    the products naming the most of the deciding words stay."""
    if len(encontrados) < 2:
        return encontrados
    palabras = rag_text.analyze(texto).terms
    nombres = [p for p, _ in encontrados]
    decisivas = [w for w in palabras if 0 < sum(tiene_rasgo(p, w) for p in nombres) < len(nombres)]
    if not decisivas:
        return encontrados
    puntos = [sum(tiene_rasgo(p, w) for w in decisivas) for p in nombres]
    mejor = max(puntos)
    return [par for par, n in zip(encontrados, puntos, strict=True) if n == mejor]


def raiz(word: str) -> str:
    """Gender and number folded away for matching adjectives: "roja"/"rojo"/"rojas" -> "roj"."""
    word = word.rstrip("s") if len(word) > 3 else word
    return word[:-1] if len(word) > 3 and word[-1] in "oae" else word


def tiene_rasgo(producto: Producto, rasgo: str) -> bool:
    """Every word of the attribute is in the product's name (colours in any gender, "9 w" as "9w")."""
    nombre = fold(producto.nombre)
    palabras = {raiz(w) for w in re.findall(r"[a-z0-9]+", nombre)} | set(re.findall(r"[a-z0-9]+", nombre))
    compacto = re.sub(r"(\d)\s+([a-z])", r"\1\2", nombre)
    palabras |= set(re.findall(r"[a-z0-9]+", compacto))

    def tiene(w: str) -> bool:
        if w in palabras or raiz(w) in palabras:
            return True
        # "la de 600" is the 600W one: a bare number matches the number of a measure.
        return w.isdigit() and any(re.fullmatch(rf"{w}[a-z]+", p) for p in palabras)

    return all(tiene(w) for w in rasgo.split())


def responde_a(producto: Producto, palabras: str) -> bool:
    """True when the product answers every one of these words (name, category or description)."""
    grupos = rag_text.term_groups(rag_text.analyze(palabras))
    if not grupos:
        return True
    return rag_text.coverage(grupos, producto.nombre, f"{producto.categoria or ''} {producto.descripcion or ''}") >= 0.5


def solo_lo_mencionan(productos: list[Producto], palabras: str) -> bool:
    """True when the thing asked for (the query's first word or its synonyms) appears in these products only as a
    use or a detail, never as what they are: "microondas" finds containers "aptos para microondas", "notebooks" a
    backpack "para portátil"; neither is a microwave or a laptop. Words found nowhere decide nothing here."""
    grupos = rag_text.term_groups(rag_text.analyze(palabras))
    if not grupos or not productos:
        return False
    cabeza = [grupos[0]]
    if any(rag_text.coverage(cabeza, p.nombre, "") == 1.0 for p in productos):
        return False
    if any(rag_text.coverage(cabeza, p.categoria or "", "") == 1.0 for p in productos):
        return False  # "¿qué tienen de papelería?"
    return any(rag_text.coverage(cabeza, p.nombre, p.descripcion or "") > 0 for p in productos)


def nombra_producto(ctx: Contexto, palabras: str) -> bool:
    """True when some product answers every one of these words (so they are not, say, a person's name)."""
    if not palabras.strip():
        return False
    grupos = rag_text.term_groups(rag_text.analyze(palabras))
    return any(
        rag_text.coverage(grupos, p.nombre, f"{p.categoria or ''} {p.descripcion or ''}") >= 0.99
        for p, _ in buscar(ctx, palabras)
    )


def por_precio(
    ctx: Contexto, *, precio_max: Decimal | None, precio_min: Decimal | None, limit: int = MAX_MOSTRADOS
) -> list[Producto]:
    """In-stock products within a budget, the dearest that fits first (a budget question names no product)."""
    query = select(Producto).where(Producto.activo.is_(True), Producto.stock > 0)
    if precio_max is not None:
        query = query.where(Producto.precio <= precio_max)
    if precio_min is not None:
        query = query.where(Producto.precio >= precio_min)
    return list(ctx.session.scalars(query.order_by(Producto.precio.desc(), Producto.id).limit(limit)).all())


_MAGNITUD = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(l|litros?|ml|w|kg|g|gr|cm|mm|m|gb|tb|pulgadas|\"|tazas|piezas|v|mah|quemadores|bar)\b"
)


def magnitud(producto: Producto) -> tuple[str, float] | None:
    """The size a name states ("1,5 l", "600W", "20 kg"), with its unit, for "el más grande"."""
    match = _MAGNITUD.search(fold(producto.nombre))
    if not match:
        return None
    unidad = match.group(2).rstrip("s")
    valor = float(match.group(1).replace(",", "."))
    if unidad == "ml":
        unidad, valor = "l", valor / 1000
    return unidad, valor


def info(ctx: Contexto) -> InfoTienda | None:
    """The shop information file the owner configured (`TIENDA_INFO`), if any."""
    return informacion.cargar(ctx.rag.settings.TIENDA_INFO) if ctx.rag is not None else None


def parecidos(ctx: Contexto, texto: str, *, excluir: set[int] | None = None, limit: int = 3) -> list[Producto]:
    """In-stock products close in meaning (vector + text), for when the words found nothing available."""
    if ctx.rag is None or not texto.strip():
        return []
    excluir = excluir or set()
    resultados = productos_busqueda.search_productos(
        session=ctx.session, rag=ctx.rag, q=texto, en_stock=True, limit=limit + len(excluir), modo="hibrido"
    )
    return [r.item for r in resultados if r.item.id not in excluir][:limit]


def alternativas(ctx: Contexto, producto: Producto, *, limit: int = 3) -> list[Producto]:
    """In-stock products to offer instead of one that is sold out: same category first, closest price."""
    query = select(Producto).where(Producto.activo.is_(True), Producto.stock > 0, Producto.id != producto.id)
    if producto.categoria:
        query = query.where(Producto.categoria == producto.categoria)
    query = query.order_by(func.abs(Producto.precio - producto.precio), Producto.id).limit(limit)
    found = list(ctx.session.scalars(query).all())
    if not found:
        found = parecidos(ctx, producto.nombre, excluir={producto.id}, limit=limit)
    return found


def lineas(ctx: Contexto) -> list[LineaVista]:
    """The cart with live prices; products that left the catalog are dropped from it."""
    vistas: list[LineaVista] = []
    for linea in ctx.estado.carrito:
        producto = producto_activo(ctx, linea.producto_id)
        if producto is None:
            ctx.estado.poner(linea.producto_id, 0)
            continue
        vistas.append(LineaVista(producto, linea.cantidad))
    return vistas


def total(vistas: list[LineaVista]) -> Decimal:
    """What the cart adds up to."""
    return sum((v.subtotal for v in vistas), Decimal("0.00"))


@dataclass(frozen=True)
class Agregado:
    """Result of putting units in the cart: `ok`, or how many are available."""

    ok: bool
    disponible: int


def poner_en_carrito(ctx: Contexto, producto: Producto, cantidad: int, *, sumar: bool = True) -> Agregado:
    """Add (or set) units of a product, never beyond its live stock."""
    deseado = cantidad + (ctx.estado.cantidad_en_carrito(producto.id) if sumar else 0)
    if deseado > producto.stock or deseado > MAX_CANTIDAD:
        return Agregado(False, producto.stock)
    ctx.estado.poner(producto.id, deseado)
    ctx.estado.foco = producto.id
    return Agregado(True, producto.stock)


def cliente_por_email(ctx: Contexto, email: str) -> Cliente | None:
    """An active cliente with this e-mail (case-insensitive)."""
    return ctx.session.scalar(
        select(Cliente).where(func.lower(Cliente.email) == email.lower(), Cliente.activo.is_(True))
    )


def mismo_nombre(dado: str, registrado: str) -> bool:
    """True when every word of the shorter name appears in the other (accents and case ignored): "José Pérez"
    matches "José Pérez Gómez"; "Pepe Ruiz" does not match "Laura Gómez"."""
    a, b = set(fold(dado).split()), set(fold(registrado).split())
    return bool(a and b) and (a <= b or b <= a)


def registrar_cliente(ctx: Contexto, nombre: str | None, email: str | None, telefono: str | None) -> str | None:
    """Link the chat to the cliente with this e-mail, or register a new one; a Spanish problem text otherwise."""
    estado = ctx.estado
    estado.nombre = nombre or estado.nombre
    estado.email = email or estado.email
    estado.telefono = telefono or estado.telefono
    if not estado.email:
        return "falta_email"
    if not estado.nombre:
        return "falta_nombre"
    existente = cliente_por_email(ctx, estado.email)
    if existente is not None:
        # An e-mail alone proves nothing: anyone could type a known customer's address and order in their name.
        # Link only when the name given matches the one on file; otherwise a person from the shop verifies.
        if not mismo_nombre(estado.nombre, existente.nombre):
            ctx.conversacion.requiere_humano = True
            return "identidad_no_verificada"
        _vincular(ctx, existente.id)
        return None
    try:
        datos = ClienteCreate(nombre=estado.nombre, email=estado.email, telefono=estado.telefono)
    except ValidationError:
        return "datos_invalidos"
    try:
        # The e-mail check runs before any write, so a refusal leaves nothing to roll back.
        cliente = clientes_service.create(session=ctx.session, datos=datos)
    except AppError:
        return "datos_invalidos"
    _vincular(ctx, cliente.id)
    return None


def _vincular(ctx: Contexto, cliente_id: int) -> None:
    ctx.estado.cliente_id = cliente_id
    ctx.conversacion.cliente_id = cliente_id


def confirmar_pedido(ctx: Contexto) -> tuple[Venta | None, str | None]:
    """Place the order through the Pedidos service; the key makes a repeated confirmation replay the same order."""
    estado = ctx.estado
    vistas = lineas(ctx)
    if not vistas or estado.cliente_id is None:
        return None, "sin_datos"
    datos = VentaCreate(
        cliente_id=estado.cliente_id,
        productos=[{"producto_id": v.producto.id, "cantidad": v.cantidad} for v in vistas],
        metadatos={"canal": "chat", "chat_id": ctx.conversacion.chat_id},
    )
    clave = f"agente:{ctx.conversacion.id}:{estado.version_carrito}"
    try:
        # A savepoint: a refused order (stock sold meanwhile) leaves the chat's own writes intact.
        with savepoint(ctx.session):
            venta, _creada = ventas_service.create(
                session=ctx.session, datos=datos, usuario=f"agente:{ctx.conversacion.chat_id}"[:100], clave=clave
            )
    except AppError as exc:
        return None, exc.message
    finally:
        ctx.leidos.clear()  # stock changed (or a refused order rolled back): read the products again
    estado.ultima_venta_id = venta.id
    ctx.conversacion.ultima_venta_id = venta.id
    ctx.venta_id = venta.id
    estado.vaciar()
    return venta, None


def registrar_demanda(
    ctx: Contexto, tipo: str, consulta: str, *, producto_id: int | None = None, cantidad: int | None = None
) -> None:
    """Remember a request the shop could not serve (no product, out of stock, cancelled cart)."""
    ctx.session.add(
        DemandaInsatisfecha(
            conversacion_id=ctx.conversacion.id,
            tipo=tipo,
            consulta=consulta[:500],
            producto_id=producto_id,
            cantidad=cantidad,
        )
    )


def ficha(producto: Producto) -> dict[str, Any]:
    """A product's facts for a tool result or a template (price as text, live stock)."""
    return {
        "id": producto.id,
        "nombre": producto.nombre,
        "precio": str(producto.precio.quantize(CENT)),
        "stock": producto.stock,
        "categoria": producto.categoria,
        "descripcion": (producto.descripcion or "")[:300],
    }
