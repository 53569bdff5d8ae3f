"""The offline dialogue engine: deterministic Spanish intents, slots and templates filled only with database facts.

Conventions the guard relies on: product names (and only they) go between «», prices as `59.90 €`, stock as
`N unidades disponibles` / `quedan N unidades`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from decimal import Decimal

from agente_vendedor.agente import informacion, intents, tienda
from agente_vendedor.agente.intents import Intencion
from agente_vendedor.agente.tienda import Contexto, Producto, Respuesta, euros
from agente_vendedor.core.text import fold

SALUDOS = (
    "¡Hola! Soy el asistente de la tienda. ¿Qué está buscando hoy?",
    "¡Buenas! Cuénteme qué necesita y le enseño lo que tenemos.",
    "¡Hola! Le ayudo a encontrar productos, ver precios y hacer su pedido. ¿Qué busca?",
)
DESPEDIDAS = (
    "¡Gracias por su visita! Aquí estaré si necesita algo más.",
    "¡Hasta pronto! Ha sido un placer atenderle.",
)
OPCIONES = (
    "Esto es lo que tenemos:",
    "He encontrado estas opciones:",
    "Le muestro lo que hay en el catálogo:",
)
RECHAZO = (
    "Lo siento, no puedo hacer eso: los precios y las promociones son los del catálogo, y no comparto datos de "
    "otros clientes ni información interna. ¿Le ayudo a encontrar algún producto?"
)
HUMANO = (
    "De acuerdo: he avisado a una persona del equipo y le atenderá en este mismo chat en cuanto sea posible. "
    "Su carrito y sus mensajes se conservan."
)
PEDIR_DATOS = "Para preparar el pedido, ¿me indica su nombre y su email? (el teléfono es opcional)"
AYUDA = (
    'No le he entendido bien. Puede preguntarme por un producto ("¿tienen cafeteras?"), pedir unidades '
    '("quiero dos del primero"), ver su carrito o confirmar el pedido.'
)


def _elegir(ctx: Contexto, opciones: Sequence[str], clave: str) -> str:
    """A template chosen with a per-chat seed: varied across chats and turns, reproducible in tests."""
    rng = random.Random(f"{ctx.conversacion.chat_id}:{ctx.estado.turno}:{clave}")
    return rng.choice(list(opciones))


def _stock_texto(producto: Producto) -> str:
    return f"{producto.stock} unidades disponibles" if producto.stock > 0 else "agotado"


def _linea_producto(n: int, producto: Producto) -> str:
    return f"{n}. «{producto.nombre}» — {euros(producto.precio)} ({_stock_texto(producto)})"


def _listar(ctx: Contexto, productos: Sequence[tuple[Producto, float | None]]) -> str:
    ctx.estado.mostrados = [p.id for p, _ in productos]
    for producto, score in productos:
        ctx.mencionar(producto.id, score)
    return "\n".join(_linea_producto(i, p) for i, (p, _) in enumerate(productos, start=1))


def _alternativas_texto(ctx: Contexto, producto: Producto) -> str:
    otros = tienda.alternativas(ctx, producto)
    if not otros:
        return ""
    for otro in otros:
        ctx.mencionar(otro.id)
    ctx.estado.mostrados = [o.id for o in otros]
    lista = "\n".join(_linea_producto(i, o) for i, o in enumerate(otros, start=1))
    return f"\nComo alternativa le puedo ofrecer:\n{lista}"


def carrito_texto(ctx: Contexto) -> str:
    """The cart with live prices and the total, or a note that it is empty."""
    vistas = tienda.lineas(ctx)
    if not vistas:
        return "Su carrito está vacío."
    filas = []
    for v in vistas:
        ctx.mencionar(v.producto.id)
        filas.append(f"- {v.cantidad} × «{v.producto.nombre}» a {euros(v.producto.precio)} = {euros(v.subtotal)}")
    return "Su carrito:\n" + "\n".join(filas) + f"\nTotal: {euros(tienda.total(vistas))}"


def _referido(ctx: Contexto, texto: str, *, en_carrito: bool = False) -> Producto | None:
    """The product a message points at: by position, "el otro", a superlative ("la más barata"), an attribute
    ("el de 750W", "la roja"), "ese", or the one discussed."""
    estado = ctx.estado
    candidatos = [linea.producto_id for linea in estado.carrito] if en_carrito else estado.mostrados
    pool = candidatos or estado.mostrados
    posicion = intents.ordinal(texto)
    if posicion is not None and candidatos:
        index = len(candidatos) - 1 if posicion == -1 else posicion - 1
        if 0 <= index < len(candidatos):
            return tienda.producto_activo(ctx, candidatos[index])
        return None
    if intents.el_otro(texto) and pool:
        otros = [i for i in pool if i != estado.foco]
        if len(otros) == 1 or (otros and estado.foco in pool):
            return tienda.producto_activo(ctx, otros[0])
        return None
    orden = intents.restricciones(texto).orden
    if orden is not None and len(pool) <= 1 and len(estado.recientes) > 1 and not en_carrito:
        pool = estado.recientes  # "la más barata de las dos" after asking about one and then the other
    if orden is not None and len(pool) > 1:
        return _superlativo(ctx, [p for p in (tienda.producto_activo(ctx, i) for i in pool) if p is not None], orden)
    rasgo = intents.atributo(texto)
    if rasgo:
        productos = [p for p in (tienda.producto_activo(ctx, i) for i in pool) if p is not None]
        elegidos = [p for p in productos if tienda.tiene_rasgo(p, rasgo)]
        if len(elegidos) == 1:
            return elegidos[0]
        return None  # "el de 750W" that is not on the list: the caller searches the catalog for it
    if estado.foco is not None and (not en_carrito or estado.cantidad_en_carrito(estado.foco)):
        return tienda.producto_activo(ctx, estado.foco)
    if len(pool) == 1:
        return tienda.producto_activo(ctx, pool[0])
    if en_carrito and estado.carrito:
        return tienda.producto_activo(ctx, estado.carrito[-1].producto_id)
    return None


def _superlativo(ctx: Contexto, productos: Sequence[Producto], orden: str) -> Producto | None:
    """The cheapest / dearest / biggest / smallest of the products in play."""
    if not productos:
        return None
    if orden.startswith("precio"):
        ordenados = sorted(productos, key=lambda p: (p.precio, p.id))
        return ordenados[0] if orden == "precio_asc" else ordenados[-1]
    medidas = [(tienda.magnitud(p), p) for p in productos]
    unidades = {m[0] for m, _ in medidas if m is not None}
    if len(unidades) != 1 or any(m is None for m, _ in medidas):
        ordenados = sorted(productos, key=lambda p: (p.precio, p.id))  # no common size: the dearer is the bigger
    else:
        ordenados = sorted(productos, key=lambda p: (tienda.magnitud(p) or ("", 0.0))[1])
    return ordenados[-1] if orden == "tamano_desc" else ordenados[0]


def _por_nombre_en(ctx: Contexto, palabras: str, ids: Sequence[int]) -> Producto | None:
    """The only product among `ids` whose name contains every given word (singular or plural); None if 0 or 2+."""
    words = [w.rstrip("s") for w in palabras.split() if len(w) > 2 or any(c.isdigit() for c in w)]
    if not words:
        return None
    encontrados = []
    for producto_id in ids:
        producto = tienda.producto_activo(ctx, producto_id)
        if producto is not None and (
            all(w in fold(producto.nombre) for w in words) or tienda.tiene_rasgo(producto, " ".join(words))
        ):
            encontrados.append(producto)
    if len(encontrados) > 1:
        # "cama perro talla m": the short words decide between look-alikes ("talla M" / "talla L").
        finos = [p for p in encontrados if tienda.tiene_rasgo(p, palabras)]
        encontrados = finos or encontrados
    return encontrados[0] if len(encontrados) == 1 else None


def _siguiente_paso(ctx: Contexto) -> str:
    """After the cart changes: ask for the customer's details, or show the summary to confirm."""
    estado = ctx.estado
    if not estado.carrito:
        estado.paso = None
        return ""
    if estado.cliente_id is None:
        estado.paso = "datos_cliente"
        return "\n" + PEDIR_DATOS
    estado.paso = "confirmacion"
    return '\n¿Confirma el pedido? Responda "sí, confirmo" para realizarlo, o dígame si quiere cambiar algo.'


# ---- intents ---------------------------------------------------------------------------------------------


def _saludo(ctx: Contexto, texto: str) -> str:
    return _elegir(ctx, SALUDOS, "saludo")


def _despedida(ctx: Contexto, texto: str) -> str:
    extra = " Su carrito queda guardado en este chat." if ctx.estado.carrito else ""
    return _elegir(ctx, DESPEDIDAS, "despedida") + extra


def _humano(ctx: Contexto, texto: str) -> str:
    ctx.conversacion.requiere_humano = True
    if ctx.conversacion.estado == "activa":
        ctx.conversacion.estado = "requiere_humano"
    return HUMANO


def _rechazo(ctx: Contexto, texto: str) -> str:
    return RECHAZO


def _recordar(ctx: Contexto, producto_id: int) -> None:
    """Keep the last products talked about, for "me llevo las dos"."""
    recientes = [i for i in ctx.estado.recientes if i != producto_id] + [producto_id]
    ctx.estado.recientes = recientes[-5:]


def _describir(ctx: Contexto, producto: Producto, intencion: Intencion) -> str:
    ctx.mencionar(producto.id)
    ctx.estado.foco = producto.id
    _recordar(ctx, producto.id)
    if intencion == Intencion.PRECIO:
        texto = f"«{producto.nombre}» cuesta {euros(producto.precio)}"
        texto += f" y quedan {producto.stock} unidades." if producto.stock > 0 else ", pero ahora mismo está agotado."
    elif intencion == Intencion.STOCK:
        texto = (
            f"De «{producto.nombre}» quedan {producto.stock} unidades ({euros(producto.precio)} cada una)."
            if producto.stock > 0
            else f"«{producto.nombre}» está agotado en este momento."
        )
    else:
        texto = f"«{producto.nombre}»: {euros(producto.precio)}, {_stock_texto(producto)}."
        if producto.descripcion:
            texto += f" {producto.descripcion[:200]}"
    if producto.stock <= 0:
        tienda.registrar_demanda(ctx, "sin_stock", ctx.consulta, producto_id=producto.id)
        texto += _alternativas_texto(ctx, producto)
    else:
        texto += " ¿Quiere que se lo añada al carrito?"
        _ofrecer(ctx)
        ctx.estado.ofrecidos = [producto.id]
    return texto


def _ofrecer(ctx: Contexto) -> None:
    """Remember that a product was offered, so a plain "sí" adds it (unless the order awaits confirmation)."""
    if ctx.estado.paso in (None, "datos_cliente"):
        ctx.estado.paso = "ofrecido"


def _consultar(ctx: Contexto, texto: str, intencion: Intencion) -> str:
    """Searching, asking a price or the stock, or for a recommendation."""
    partes = intents.segmentos(texto)
    if len(partes) > 1 and intencion != Intencion.RECOMENDAR:
        varios = _varios(ctx, partes)
        if len(varios) > 1:
            return _ofrecer_varios(ctx, varios)
    palabras = _sin_envases(texto)
    limites = intents.restricciones(texto)
    en_lista = _por_nombre_en(ctx, palabras, ctx.estado.mostrados) if palabras else None
    if en_lista is not None and limites.orden is None:
        return _describir(ctx, en_lista, intencion)
    if intents.caracteristica(texto) and (ctx.estado.mostrados or ctx.estado.foco is not None):
        # "¿de qué color es?", "la más grande, ¿cuánto mide?": about a product in play, not a new search.
        producto = _referido(ctx, texto)
        otras = " ".join(w for w in palabras.split() if w not in intents.RASGOS)
        if producto is not None and not (otras and tienda.nombra_producto(ctx, otras) and en_lista is None):
            return _describir(ctx, producto, Intencion.BUSCAR)
    referencia = intents.ordinal(texto) is not None or intents.atributo(texto) or intents.el_otro(texto)
    if not palabras or referencia or (limites.orden and not palabras):
        producto = _referido(ctx, texto)
        if producto is not None and (not palabras or referencia):
            return _describir(ctx, producto, intencion)
    if not palabras:
        if intencion == Intencion.RECOMENDAR and ctx.estado.mostrados:
            return _recomendar(ctx, [(p, None) for p in _mostrados(ctx)])
        return "¿Qué producto le interesa? Dígame qué busca y le enseño opciones con precio y disponibilidad."
    encontrados = tienda.buscar(ctx, palabras)
    if not encontrados or tienda.solo_lo_mencionan([p for p, _ in encontrados], palabras):
        return _sin_producto(ctx, palabras)  # nothing, or only products that mention it ("apto para microondas")
    if limites.orden is not None and len(encontrados) > 1:
        elegido = _superlativo(ctx, [p for p, _ in encontrados], limites.orden)
        if elegido is not None:
            ctx.estado.mostrados = [p.id for p, _ in encontrados]
            for producto, score in encontrados:
                ctx.mencionar(producto.id, score)
            return _describir(ctx, elegido, Intencion.PRECIO if intencion == Intencion.BUSCAR else intencion)
    if intencion != Intencion.RECOMENDAR:
        ids = [p.id for p, _ in encontrados]
        elegido = encontrados[0][0] if len(encontrados) == 1 else _por_nombre_en(ctx, palabras, ids)
        if elegido is not None and (len(encontrados) == 1 or len(palabras.split()) > 1):
            ctx.estado.mostrados = [elegido.id]
            return _describir(ctx, elegido, intencion)
    if intencion == Intencion.RECOMENDAR:
        return _recomendar(ctx, [(p, s) for p, s in encontrados])
    if len(encontrados) == 1:
        producto, score = encontrados[0]
        ctx.estado.mostrados = [producto.id]
        ctx.mencionar(producto.id, score)
        return _describir(ctx, producto, intencion)
    return _opciones(ctx, encontrados)


def _sin_envases(texto: str) -> str:
    """The product words, without "bolsa"/"caja" when the message points at a product in play ("la bolsa chica")."""
    palabras = intents.palabras_producto(texto)
    apunta = (
        intents.referencia_demostrativa(texto)
        or intents.restricciones(texto).orden is not None
        or intents.ordinal(texto) is not None
    )
    if apunta:
        palabras = " ".join(w for w in palabras.split() if w not in intents.ENVASES)
    return palabras


def _varios(ctx: Contexto, partes: Sequence[str]) -> list[Producto]:
    """One product per part of "una mochila azul y un estuche", where the words pick one."""
    productos: list[Producto] = []
    for parte in _heredar(partes):
        palabras = _sin_envases(parte)
        encontrados = tienda.buscar(ctx, palabras) if palabras else []
        if not encontrados:
            continue
        elegido = _por_nombre_en(ctx, palabras, [p.id for p, _ in encontrados])
        orden = intents.restricciones(parte).orden
        if elegido is None and orden is not None:
            elegido = _superlativo(ctx, [p for p, _ in encontrados], orden)
        elegido = elegido or encontrados[0][0]
        if elegido.id not in {p.id for p in productos}:
            productos.append(elegido)
    return productos


def _ofrecer_varios(ctx: Contexto, productos: Sequence[Producto]) -> str:
    """The facts of several products asked for together, offered as a whole."""
    filas = "\n".join(_linea_producto(i, p) for i, p in enumerate(productos, start=1))
    ctx.estado.mostrados = [p.id for p in productos]
    for p in productos:
        ctx.mencionar(p.id)
        _recordar(ctx, p.id)
    disponibles = [p for p in productos if p.stock > 0]
    ctx.estado.foco = None
    respuesta = f"{_elegir(ctx, OPCIONES, 'opciones')}\n{filas}"
    if disponibles:
        ctx.estado.ofrecidos = [p.id for p in disponibles]
        _ofrecer(ctx)
        respuesta += "\n¿Se los añado al carrito? También puede elegir solo alguno."
    return respuesta


def _opciones(ctx: Contexto, encontrados: Sequence[tuple[Producto, float | None]]) -> str:
    """A numbered list of matches to choose from (and alternatives when none is in stock)."""
    lista = _listar(ctx, encontrados)
    ctx.estado.foco = None
    respuesta = f"{_elegir(ctx, OPCIONES, 'opciones')}\n{lista}"
    if all(p.stock <= 0 for p, _ in encontrados):
        tienda.registrar_demanda(ctx, "sin_stock", ctx.consulta, producto_id=encontrados[0][0].id)
        respuesta += "\nAhora mismo están agotados." + _alternativas_texto(ctx, encontrados[0][0])
    else:
        respuesta += '\n¿Cuál le interesa? Puede decirme, por ejemplo, "quiero dos del primero".'
    return respuesta


def _sin_producto(ctx: Contexto, palabras: str, cantidad: int | None = None) -> str:
    """The shop lacks it: say so, offer the nearest real products, and record the unmet demand."""
    tienda.registrar_demanda(ctx, "sin_producto", ctx.consulta, cantidad=cantidad)
    ctx.estado.mostrados = []
    respuesta = f'Lo siento, no tenemos "{palabras}" en el catálogo.'
    parecidos = tienda.parecidos(ctx, palabras)
    if parecidos:
        ctx.estado.mostrados = [p.id for p in parecidos]
        for p in parecidos:
            ctx.mencionar(p.id)
        lista = "\n".join(_linea_producto(i, p) for i, p in enumerate(parecidos, start=1))
        return f"{respuesta} Lo más parecido que tenemos:\n{lista}\n¿Le interesa alguno?"
    categorias = tienda.categorias(ctx)
    if categorias:
        respuesta += " Trabajamos estas categorías: " + ", ".join(categorias) + ". ¿Le interesa alguna?"
    return respuesta


def _presupuesto(ctx: Contexto, texto: str) -> str:
    """ "Algo por menos de 20 euros": products within the budget, from the words given or the list shown."""
    limites = intents.restricciones(texto)
    palabras = intents.palabras_producto(texto)
    encontrados: list[tuple[Producto, float | None]]
    if palabras:
        encontrados = list(tienda.buscar(ctx, palabras, precio_max=limites.precio_max, precio_min=limites.precio_min))
        if not encontrados and tienda.buscar(ctx, palabras):
            return _fuera_de_presupuesto(ctx, palabras, limites.precio_max)
    elif ctx.estado.mostrados:
        encontrados = [
            (p, None)
            for p in _mostrados(ctx)
            if (limites.precio_max is None or p.precio <= limites.precio_max)
            and (limites.precio_min is None or p.precio >= limites.precio_min)
        ]
        if not encontrados:
            encontrados = [
                (p, None) for p in tienda.por_precio(ctx, precio_max=limites.precio_max, precio_min=limites.precio_min)
            ]
    else:
        encontrados = [
            (p, None) for p in tienda.por_precio(ctx, precio_max=limites.precio_max, precio_min=limites.precio_min)
        ]
    if not encontrados:
        if palabras:
            return _sin_producto(ctx, palabras)
        return "Lo siento, no tengo productos en ese rango de precio ahora mismo. ¿Le busco algo concreto?"
    encontrados = sorted(encontrados, key=lambda pair: (pair[0].precio, pair[0].id))
    if len(encontrados) == 1:
        ctx.estado.mostrados = [encontrados[0][0].id]
        return _describir(ctx, encontrados[0][0], Intencion.BUSCAR)
    lista = _listar(ctx, encontrados)
    ctx.estado.foco = None
    return f"Dentro de ese precio tengo:\n{lista}\n¿Cuál le interesa?"


def _fuera_de_presupuesto(ctx: Contexto, palabras: str, tope: Decimal | None) -> str:
    encontrados = tienda.buscar(ctx, palabras)
    mas_barato = min((p for p, _ in encontrados), key=lambda p: (p.precio, p.id))
    ctx.estado.mostrados = [mas_barato.id]
    ctx.estado.foco = mas_barato.id
    ctx.mencionar(mas_barato.id)
    _ofrecer(ctx)
    return (
        f"No tengo ninguno por ese precio. El más económico es «{mas_barato.nombre}»: {euros(mas_barato.precio)}, "
        f"{_stock_texto(mas_barato)}. ¿Quiere que se lo añada al carrito?"
    )


def _comparar(ctx: Contexto, texto: str) -> str:
    """ "¿Qué es más barato, X o Y?": both products' facts from the catalog and which one wins."""
    norm = intents.normalizar(texto)
    partes = [p for p in re.split(r"\bo\b|\bu\b|\bvs\b|\bversus\b|\by\b|,|\bcon\b", norm) if p.strip()]
    resultados = [
        (parte, tienda.buscar(ctx, pal) if (pal := intents.palabras_producto(parte)) else []) for parte in partes
    ]
    pool = [p.id for _, encontrados in resultados for p, _ in encontrados] + ctx.estado.mostrados
    productos: list[Producto] = []
    for parte, encontrados in resultados:
        producto = None
        palabras = intents.palabras_producto(parte)
        if encontrados:
            ids = [p.id for p, _ in encontrados]
            producto = _por_nombre_en(ctx, palabras, ids)
            orden = intents.restricciones(parte).orden
            if producto is None and orden is not None:
                producto = _superlativo(ctx, [p for p, _ in encontrados], orden)
            producto = producto or encontrados[0][0]
        elif intents.ordinal(parte) is not None:
            producto = _referido(ctx, parte)
        else:
            # "la L" after "la cama talla M": an attribute among the products just named.
            rasgo = " ".join(w for w in parte.split() if w not in intents.FILLER or len(w) <= 2)
            rasgo = " ".join(w for w in rasgo.split() if w not in {"el", "la", "los", "las", "de", "y", "que"})
            candidatos = [p for p in (tienda.producto_activo(ctx, i) for i in dict.fromkeys(pool)) if p is not None]
            elegidos = [p for p in candidatos if rasgo and tienda.tiene_rasgo(p, rasgo)]
            producto = elegidos[0] if len(elegidos) == 1 else None
        if producto is not None and producto.id not in {p.id for p in productos}:
            productos.append(producto)
    if len(productos) < 2:
        productos = _mostrados(ctx)[:5] if len(_mostrados(ctx)) >= 2 else productos
    if len(productos) < 2:
        return _consultar(ctx, texto, Intencion.PRECIO)
    orden = intents.restricciones(texto).orden or "precio_asc"
    ganador = _superlativo(ctx, productos, orden)
    ctx.estado.mostrados = [p.id for p in productos]
    for p in productos:
        ctx.mencionar(p.id)
    filas = "\n".join(_linea_producto(i, p) for i, p in enumerate(productos, start=1))
    criterio = {
        "precio_asc": "más económico",
        "precio_desc": "más caro",
        "tamano_desc": "más grande",
        "tamano_asc": "más pequeño",
    }[orden]
    respuesta = f"{filas}"
    if ganador is not None:
        ctx.estado.foco = ganador.id
        respuesta += f"\nEl {criterio} es «{ganador.nombre}»."
        if ganador.stock > 0:
            respuesta += " ¿Quiere que se lo añada al carrito?"
            _ofrecer(ctx)
    return respuesta


def _info_tienda(ctx: Contexto, texto: str) -> str:
    """Shop questions answered only from the owner's file; otherwise a person is asked to answer."""
    tema = intents.tema_tienda(texto) or ctx.estado.tema or ""
    ctx.estado.tema = tema or None
    info = tienda.info(ctx)
    respuesta = info.responder(tema) if info is not None else None
    if respuesta is not None:
        return f"{informacion.TITULOS[tema]}: {respuesta}"
    ctx.conversacion.requiere_humano = True
    if ctx.conversacion.estado == "activa":
        ctx.conversacion.estado = "requiere_humano"
    return (
        "Esa información no la tengo a mano; he avisado a una persona del equipo y le responderá en este chat. "
        "Mientras tanto, le ayudo con productos, precios y su pedido."
    )


def _regateo(ctx: Contexto, texto: str) -> str:
    """Haggling gets the catalog price, politely."""
    partes = intents.segmentos(texto)
    varios = _varios(ctx, partes) if len(partes) > 1 else []
    if len(varios) > 1:
        return (
            "Lo siento, no puedo hacer descuentos: los precios son los del catálogo, iguales para todos los clientes.\n"
            + _ofrecer_varios(ctx, varios)
        )
    palabras = intents.palabras_producto(texto)
    producto = _referido(ctx, texto)
    if palabras:
        encontrados = tienda.buscar(ctx, palabras)
        producto = _por_nombre_en(ctx, palabras, [p.id for p, _ in encontrados]) or producto
    if producto is None:
        return (
            "Lo siento, no puedo cambiar precios: son los del catálogo, iguales para todos los clientes. "
            "¿Le ayudo a encontrar algo dentro de su presupuesto?"
        )
    ctx.mencionar(producto.id)
    ctx.estado.foco = producto.id
    respuesta = (
        f"Entiendo, pero no puedo cambiar precios: «{producto.nombre}» cuesta {euros(producto.precio)}, "
        "el precio del catálogo, igual para todos los clientes."
    )
    if producto.stock > 0:
        _ofrecer(ctx)
        respuesta += " ¿Quiere que se lo añada al carrito a ese precio?"
    return respuesta


def _negar(ctx: Contexto, texto: str, paso: str | None) -> str:
    """A "no" to what was just offered or asked: nothing changes and the customer leads."""
    if paso == "confirmacion" and ctx.estado.carrito:
        ctx.estado.paso = None
        return "De acuerdo, no realizo el pedido. Su carrito se conserva: dígame si quiere cambiar algo o vaciarlo."
    ctx.estado.cantidad_pendiente = None
    return "De acuerdo. ¿Le ayudo con algo más?"


def _mostrados(ctx: Contexto) -> list[Producto]:
    return [p for p in (tienda.producto_activo(ctx, i) for i in ctx.estado.mostrados) if p is not None]


def _recomendar(ctx: Contexto, candidatos: Sequence[tuple[Producto, float | None]]) -> str:
    disponibles = [(p, s) for p, s in candidatos if p.stock > 0]
    if not disponibles:
        return _listar(ctx, list(candidatos)) + "\nLo siento, ahora mismo ninguno tiene stock."
    producto, score = disponibles[0]
    ctx.mencionar(producto.id, score)
    ctx.estado.mostrados = [p.id for p, _ in disponibles]
    ctx.estado.foco = producto.id
    respuesta = (
        f"Le recomiendo «{producto.nombre}»: {euros(producto.precio)}, {_stock_texto(producto)}. "
        "Es la opción disponible que mejor encaja con lo que busca. ¿Se lo añado al carrito?"
    )
    _ofrecer(ctx)
    return respuesta


def _agregar(ctx: Contexto, texto: str) -> str:
    """Put what the customer asks for in the cart: one product, or several named in one message."""
    cuantos = intents.todos_los_mostrados(texto)
    if cuantos is not None and not intents.palabras_producto(texto) and intents.restricciones(texto).orden is None:
        elegidos = _los_ultimos(ctx, cuantos)
        if elegidos:
            mensajes = [
                _poner(ctx, p, 1, sumar=False, final=False) if not ctx.estado.cantidad_en_carrito(p.id) else ""
                for p in elegidos
            ]
            return "\n".join(m for m in mensajes if m) + f"\n{carrito_texto(ctx)}{_siguiente_paso(ctx)}"
    if len(ctx.estado.ofrecidos) > 1 and not intents.palabras_producto(texto) and not _apunta(texto):
        ofrecidos = [p for p in (tienda.producto_activo(ctx, i) for i in ctx.estado.ofrecidos) if p is not None]
        ctx.estado.ofrecidos = []
        mensajes = [_poner(ctx, p, 1, sumar=False, final=False) for p in ofrecidos]
        return "\n".join(mensajes) + f"\n{carrito_texto(ctx)}{_siguiente_paso(ctx)}"
    partes = intents.segmentos(texto)
    if len(partes) == 1:
        return _agregar_uno(ctx, texto, final=True)
    # "me voy a México y necesito un transformador": a part that asks nothing and names nothing is context.
    partes = [p for p in partes if intents.pide(p) or tienda.buscar(ctx, _sin_envases(p))] or partes
    if len(partes) == 1:
        return _agregar_uno(ctx, partes[0], final=True)
    foco = tienda.producto_activo(ctx, ctx.estado.foco) if ctx.estado.foco is not None else None
    mensajes = [_agregar_uno(ctx, parte, final=False, varias=True) for parte in _heredar(partes, foco)]
    return "\n".join(m for m in mensajes if m) + f"\n{carrito_texto(ctx)}{_siguiente_paso(ctx)}"


def _los_ultimos(ctx: Contexto, cuantos: int) -> list[Producto]:
    """The products "las dos" / "los tres" mean: the list on screen if it has that many, else the last discussed."""
    ids = ctx.estado.mostrados if len(ctx.estado.mostrados) == cuantos else ctx.estado.recientes[-cuantos:]
    if len(ids) != cuantos:
        return []
    return [p for p in (tienda.producto_activo(ctx, i) for i in ids) if p is not None and p.stock > 0]


def _resolver(ctx: Contexto, texto: str, *, varias: bool = False) -> Producto | str:
    """The product a purchase request means, or the reply that asks or explains (a list, "no tenemos").

    Words come first: they may pick one of the products on screen ("la roja", "la de 600") or name another one
    ("y un collar rojo pequeño"); without words, the reference decides ("el segundo", "la más barata", "esa").
    """
    palabras = _sin_envases(texto)
    orden = intents.restricciones(texto).orden
    if (intents.ordinal(texto) is not None or intents.el_otro(texto)) and ctx.estado.mostrados:
        elegido = _referido(ctx, texto)  # "me quedo con la segunda, que mi perro es grande"
        if elegido is not None:
            return elegido
    if palabras:
        en_lista = _por_nombre_en(ctx, palabras, ctx.estado.mostrados) or _rasgo_en_lista(ctx, palabras)
        if en_lista is not None:
            return en_lista
        encontrados = tienda.buscar(ctx, palabras)
        if not encontrados:
            # One of several requests names its own product: "2 bolsas de piedritas" is never the product in focus.
            enfocado = _referido(ctx, texto) if not varias and (_apunta(texto) or _con_foco(ctx, texto)) else None
            if enfocado is not None:
                return enfocado  # "bueno venga, a 49 me la quedo": the words are not a product, "la" is
            return _sin_producto(ctx, palabras, intents.cantidad(texto))
        exacto = _por_nombre_en(ctx, palabras, [p.id for p, _ in encontrados])
        if exacto is None and orden is not None:
            exacto = _superlativo(ctx, [p for p, _ in encontrados], orden)
        if len(encontrados) > 1 and exacto is None:
            lista = _listar(ctx, encontrados)
            ctx.estado.foco = None
            if ctx.estado.paso in (None, "datos_cliente"):
                ctx.estado.paso = "eligiendo"
            ctx.estado.cantidad_pendiente = intents.cantidad(texto)
            return f'Tenemos varias opciones:\n{lista}\n¿Cuál de ellas quiere? (por ejemplo, "el primero")'
        elegido = exacto or encontrados[0][0]
        if exacto is None and not tienda.responde_a(elegido, palabras):
            # The only match answers part of the words ("zapatilla de 5 tomas" -> a size-5 ball): ask, don't add.
            ctx.estado.mostrados = [elegido.id]
            ctx.estado.cantidad_pendiente = intents.cantidad(texto)
            return _describir(ctx, elegido, Intencion.BUSCAR)
        return elegido
    producto = _referido(ctx, texto)
    if producto is None:
        if len(ctx.estado.mostrados) > 1:
            return '¿Cuál de las opciones quiere? Dígame el número o el nombre (por ejemplo, "el segundo").'
        return '¿Qué producto quiere añadir? Dígame el nombre o la posición en la lista ("el segundo").'
    return producto


def _heredar(partes: Sequence[str], foco: Producto | None = None) -> list[str]:
    """ "la mochila roja y la azul": a part made only of attributes takes the thing named before it, or the kind
    of product in focus ("quedan 3 mochilas azules" -> "dame esas y una roja")."""
    resultado: list[str] = []
    cabeza = (intents.palabras_producto(foco.nombre).split() or [""])[0] if foco is not None else ""
    for parte in partes:
        palabras = intents.palabras_producto(parte).split()
        if palabras and all(w in intents.COLORES or w.isdigit() or intents.solo_rasgo(w) for w in palabras) and cabeza:
            parte = f"{parte} {cabeza}"
        elif palabras:
            cabeza = palabras[0]
        resultado.append(parte)
    return resultado


def _con_foco(ctx: Contexto, texto: str) -> bool:
    """ "Mola, me pillo dos": a purchase with a quantity while one product is in focus."""
    return ctx.estado.foco is not None and (intents.compra(texto) or intents.cantidad_explicita(texto))


def _rasgo_en_lista(ctx: Contexto, palabras: str) -> Producto | None:
    """ "Mejor la azul que a la niña le gusta más": the one product on screen that a word describes, when the other
    words name nothing in the catalog."""
    productos = _mostrados(ctx)
    if len(productos) < 2:
        return None
    words = palabras.split()
    puntos = {p.id: sum(tienda.tiene_rasgo(p, w) for w in words) for p in productos}
    mejor = max(puntos.values())
    elegidos = [p for p in productos if puntos[p.id] == mejor]
    if mejor == 0 or len(elegidos) != 1:
        return None
    resto = " ".join(w for w in words if not tienda.tiene_rasgo(elegidos[0], w))
    return elegidos[0] if not resto or not tienda.nombra_producto(ctx, resto) else None


def _apunta(texto: str) -> bool:
    """The message points at a product in play ("esa", "la segunda", "la más barata", "la roja", "el otro")."""
    return bool(
        intents.referencia_demostrativa(texto)
        or intents.ordinal(texto) is not None
        or intents.atributo(texto)
        or intents.el_otro(texto)
        or intents.restricciones(texto).orden
    )


def _agregar_uno(ctx: Contexto, texto: str, *, final: bool, varias: bool = False) -> str:
    resuelto = _resolver(ctx, texto, varias=varias)
    if isinstance(resuelto, str):
        return resuelto
    producto = resuelto
    en_carrito = ctx.estado.cantidad_en_carrito(producto.id)
    pendiente = ctx.estado.cantidad_pendiente
    ctx.estado.cantidad_pendiente = None
    if intents.todas(texto):
        return _poner(ctx, producto, producto.stock, sumar=False, final=final)
    if en_carrito and not intents.mas_unidades(texto):
        # "vale, esa" / "me pillo dos" about what is already in the cart: the quantity is the total wanted.
        cantidad = intents.cantidad(texto) if intents.cantidad_explicita(texto) else pendiente
        if cantidad is None:
            return _poner(ctx, producto, en_carrito, sumar=False, final=final)
        return _poner(ctx, producto, cantidad, sumar=False, final=final)
    cantidad = intents.cantidad(texto) or pendiente or 1
    return _poner(ctx, producto, cantidad, sumar=True, final=final)


def _poner(ctx: Contexto, producto: Producto, cantidad: int, *, sumar: bool, final: bool = True) -> str:
    ctx.mencionar(producto.id)
    ctx.estado.foco = producto.id
    _recordar(ctx, producto.id)
    if producto.stock <= 0:
        tienda.registrar_demanda(ctx, "sin_stock", ctx.consulta, producto_id=producto.id, cantidad=cantidad)
        return f"Lo siento, «{producto.nombre}» está agotado." + _alternativas_texto(ctx, producto)
    resultado = tienda.poner_en_carrito(ctx, producto, cantidad, sumar=sumar)
    if not resultado.ok:
        tienda.registrar_demanda(ctx, "sin_stock", ctx.consulta, producto_id=producto.id, cantidad=cantidad)
        ya = ctx.estado.cantidad_en_carrito(producto.id) if sumar else 0
        caben = max(producto.stock - ya, 0)
        if caben <= 0:
            return f"Ya tiene en el carrito todas las unidades que quedan de «{producto.nombre}» ({producto.stock})."
        ctx.estado.cantidad_pendiente = caben
        if ctx.estado.paso in (None, "datos_cliente", "ofrecido"):
            ctx.estado.paso = "sin_stock"
        return f"Lo siento, de «{producto.nombre}» solo quedan {producto.stock} unidades. ¿Quiere que le añada {caben}?"
    unidades = ctx.estado.cantidad_en_carrito(producto.id)
    hecho = f"Hecho: {unidades} × «{producto.nombre}» en su carrito."
    if not final:
        return hecho
    return f"{hecho}\n{carrito_texto(ctx)}{_siguiente_paso(ctx)}"


def _en_carrito(ctx: Contexto, texto: str) -> Producto | None:
    """The cart line a message names, by its words or their synonyms ("quita la juguera" -> the blender)."""
    palabras = intents.palabras_producto(texto)
    if not palabras:
        return None
    carrito_ids = [linea.producto_id for linea in ctx.estado.carrito]
    producto = _por_nombre_en(ctx, palabras, carrito_ids)
    if producto is None:
        en_carrito = [p for p, _ in tienda.buscar(ctx, palabras) if p.id in carrito_ids]
        producto = en_carrito[0] if len(en_carrito) == 1 else None
    return producto


def _corregir(ctx: Contexto, texto: str) -> str:
    producto = _en_carrito(ctx, texto) or _referido(ctx, texto, en_carrito=True)
    if producto is None:
        return "¿De qué producto quiere cambiar la cantidad?"
    cantidad = producto.stock if intents.todas(texto) else intents.cantidad(texto) or 1
    return _poner(ctx, producto, cantidad, sumar=False)


def _quitar(ctx: Contexto, texto: str) -> str:
    if not ctx.estado.carrito:
        return "Su carrito ya está vacío."
    producto = _en_carrito(ctx, texto) or _referido(ctx, texto, en_carrito=True)
    if producto is None or not ctx.estado.cantidad_en_carrito(producto.id):
        return "¿Qué producto quiere quitar del carrito?\n" + carrito_texto(ctx)
    ctx.estado.poner(producto.id, 0)
    ctx.estado.foco = None
    ctx.mencionar(producto.id)
    return f"He quitado «{producto.nombre}» del carrito.\n{carrito_texto(ctx)}{_siguiente_paso(ctx)}"


def _ver_carrito(ctx: Contexto, texto: str) -> str:
    return carrito_texto(ctx) + _siguiente_paso(ctx)


def _datos(ctx: Contexto, texto: str, datos: intents.Contacto | None = None) -> str:
    datos = datos or intents.contacto(texto)
    problema = tienda.registrar_cliente(ctx, datos.nombre, datos.email, datos.telefono)
    if problema == "falta_email":
        gracias = f"Gracias, {ctx.estado.nombre}. " if ctx.estado.nombre else "Gracias. "
        if ctx.estado.paso is None and ctx.estado.carrito:
            ctx.estado.paso = "datos_cliente"
        return gracias + "¿Me indica también su email? Lo necesitamos para el pedido."
    if problema == "falta_nombre":
        if ctx.estado.paso is None and ctx.estado.carrito:
            ctx.estado.paso = "datos_cliente"
        return "Gracias. ¿Me indica también su nombre?"
    if problema == "datos_invalidos":
        return "No he podido registrar esos datos. ¿Puede revisar el nombre y el email?"
    if problema == "identidad_no_verificada":
        return (
            "Ese email ya figura en nuestra tienda con otros datos. Por seguridad, una persona del equipo "
            "confirmará su identidad y terminará el pedido con usted en este chat. Su carrito se conserva."
        )
    saludo = "Gracias, ya tengo sus datos."
    if not ctx.estado.carrito:
        ofrecidos = [p for p in (tienda.producto_activo(ctx, i) for i in ctx.estado.ofrecidos) if p is not None]
        if ofrecidos:
            # Details given in answer to "¿se lo añado?" mean "yes, I'm buying": the offer goes in the cart and the
            # order's summary, with its total, waits for a yes. Nothing is ordered without that yes.
            cantidad = ctx.estado.cantidad_pendiente if len(ofrecidos) == 1 else None
            ctx.estado.ofrecidos = []
            ctx.estado.cantidad_pendiente = None
            mensajes = [_poner(ctx, p, cantidad or 1, sumar=False, final=False) for p in ofrecidos]
            if ctx.estado.carrito:
                return "\n".join([saludo, *mensajes, _resumen(ctx)])
            return "\n".join([saludo, *mensajes])
        ctx.estado.paso = None
        return saludo + " ¿Qué le gustaría comprar?"
    return f"{saludo}\n{_resumen(ctx)}"


def _resumen(ctx: Contexto) -> str:
    estado = ctx.estado
    contacto = ", ".join(x for x in (estado.nombre, estado.email, estado.telefono) if x)
    cabecera = f"Resumen del pedido para {contacto}:" if contacto else "Resumen del pedido:"
    return f"{cabecera}\n{carrito_texto(ctx)}{_siguiente_paso(ctx)}"


def _confirmar(ctx: Contexto, texto: str) -> str:
    estado = ctx.estado
    if not estado.carrito:
        if estado.ultima_venta_id is not None:
            ctx.venta_id = estado.ultima_venta_id
            return f"Su pedido número {estado.ultima_venta_id} ya está registrado; no he creado otro. ¿Algo más?"
        return "Su carrito está vacío: dígame qué producto quiere y se lo preparo."
    if estado.cliente_id is None:
        estado.paso = "datos_cliente"
        return PEDIR_DATOS
    if estado.paso != "confirmacion":
        return _resumen(ctx)
    venta, problema = tienda.confirmar_pedido(ctx)
    if venta is None:
        estado.paso = None
        return f"No he podido realizar el pedido: {problema}\n{carrito_texto(ctx)}"
    return (
        f"¡Pedido realizado! Su número de pedido es {venta.id}. Total: {euros(venta.total)}. "
        "Le avisaremos cuando salga. ¡Gracias por su compra!"
    )


def _cancelar(ctx: Contexto, texto: str) -> str:
    estado = ctx.estado
    if not estado.carrito:
        estado.paso = None
        return "No hay nada que cancelar. ¿Le ayudo con algo más?"
    for linea in estado.carrito:
        tienda.registrar_demanda(
            ctx, "carrito_cancelado", ctx.consulta, producto_id=linea.producto_id, cantidad=linea.cantidad
        )
    estado.vaciar()
    return "De acuerdo, he vaciado su carrito y no se ha realizado ningún pedido. ¿Le ayudo con algo más?"


def _desconocida(ctx: Contexto, texto: str) -> str:
    if ctx.estado.paso == "datos_cliente":
        return PEDIR_DATOS
    return AYUDA


def _interpretar(ctx: Contexto, texto: str, paso: str | None) -> tuple[Intencion, intents.Contacto]:
    """The intent in the light of the dialogue: a bare name while details are pending, a follow-up question about
    the shop, a swap of a product in the cart, a "sí, esa" to the product in focus."""
    intencion = intents.detectar(texto, esperando=paso)
    datos = intents.contacto(texto)
    estado = ctx.estado
    dudosa = intencion in (Intencion.BUSCAR, Intencion.DESCONOCIDA)
    if datos.vacio and dudosa and estado.cliente_id is None and (nombre := intents.nombre_suelto(texto)):
        pendiente = paso == "datos_cliente" or bool(estado.carrito) or bool(estado.email)
        # Without a pending order, only a name written as one ("Marta Gil Soler") counts: not "la tira trae control?".
        escrito_como_nombre = (
            "?" not in texto and len(nombre.split()) >= 2 and all(w[:1].isupper() for w in texto.split())
        )
        if (pendiente or escrito_como_nombre) and not tienda.nombra_producto(ctx, intents.palabras_producto(texto)):
            return Intencion.DATOS_CLIENTE, intents.Contacto(nombre, None, None)
    if estado.tema and (dudosa or intencion in (Intencion.PRECIO, Intencion.RECHAZO)) and _seguimiento(ctx, texto):
        return Intencion.INFO_TIENDA, datos
    if intencion == Intencion.BUSCAR and re.search(r"\bgracias\b", intents.normalizar(texto)):
        if not tienda.nombra_producto(ctx, intents.palabras_producto(texto)):
            return Intencion.DESPEDIDA, datos  # "bueno gracias, qué pena": a goodbye, not a product
    if intencion == Intencion.CAMBIAR or (
        estado.carrito
        and intents.cambio(texto)
        and intencion
        in (Intencion.CORREGIR, Intencion.AGREGAR, Intencion.BUSCAR, Intencion.PRECIO, Intencion.DESCONOCIDA)
        and _nombra_otro(texto)
    ):
        carrito_ids = [linea.producto_id for linea in estado.carrito]
        if intents.cantidad_explicita(texto) and _por_nombre_en(ctx, intents.palabras_producto(texto), carrito_ids):
            return Intencion.CORREGIR, datos  # "mejor que sean 8 cuadernos": the cuadernos already in the cart
        return Intencion.CAMBIAR, datos
    if intencion == Intencion.NEGAR and _nombra_otro(texto) and not intents.todas(texto) and not intents.aplaza(texto):
        # "no, mejor la negra": not a refusal but a different choice.
        if estado.carrito and intents.cambio(texto):
            return Intencion.CAMBIAR, datos
        if intents.compra(texto):
            return Intencion.AGREGAR, datos
        return Intencion.BUSCAR, datos
    if (
        paso == "ofrecido"
        and intencion in (Intencion.DESCONOCIDA, Intencion.BUSCAR)
        and intents.referencia_demostrativa(texto)
        and not intents.palabras_producto(texto)
    ):
        return Intencion.AGREGAR, datos  # "esa" / "ese mismo" to "¿se lo añado?"
    if intencion == Intencion.DESCONOCIDA and intents.afirmacion(texto):
        if estado.ofrecidos or estado.foco is not None or len(estado.mostrados) == 1:
            return Intencion.AGREGAR, datos
        if estado.carrito and estado.cliente_id is not None:
            return Intencion.CONFIRMAR, datos
    return intencion, datos


def _seguimiento(ctx: Contexto, texto: str) -> bool:
    """ "¿y los domingos?", "¿y a partir de cuánto es gratis?": a short follow-up that names no product."""
    norm = intents.normalizar(texto)
    corta = norm.startswith("y ") or len(norm.split()) <= 6
    palabras = intents.palabras_producto(texto)
    return corta and (not palabras or not tienda.buscar(ctx, palabras))


def _nombra_otro(texto: str) -> bool:
    """The message points at a product (by words, position, attribute or "el otro"), not just a quantity."""
    return bool(
        intents.palabras_producto(texto)
        or intents.ordinal(texto) is not None
        or intents.atributo(texto)
        or intents.el_otro(texto)
        or intents.restricciones(texto).orden
    )


def _cambiar(ctx: Contexto, texto: str) -> str:
    """ "Mejor la azul": the product in focus (or the last added) leaves the cart and the new one takes its place."""
    estado = ctx.estado
    viejo_id = estado.foco if estado.foco is not None and estado.cantidad_en_carrito(estado.foco) else None
    viejo_id = viejo_id if viejo_id is not None else estado.carrito[-1].producto_id
    unidades = estado.cantidad_en_carrito(viejo_id)
    texto_nuevo = re.sub(r"\b(mejor|cambia\w*|en vez de|en lugar de|prefiero|por)\b", " ", intents.normalizar(texto))
    # "mejor la roja" after the blue backpack: the red one of the same kind.
    texto_nuevo = _heredar([texto_nuevo], tienda.producto_activo(ctx, viejo_id))[0]
    resuelto = _resolver(ctx, texto_nuevo)
    if isinstance(resuelto, str):
        return resuelto
    if resuelto.id == viejo_id:
        return _corregir(ctx, texto) if intents.cantidad_explicita(texto) else carrito_texto(ctx) + _siguiente_paso(ctx)
    cantidad = intents.cantidad(texto) if intents.cantidad_explicita(texto) else unidades
    viejo = tienda.producto_activo(ctx, viejo_id)
    estado.poner(viejo_id, 0)
    respuesta = _poner(ctx, resuelto, cantidad or 1, sumar=True)
    if not estado.cantidad_en_carrito(resuelto.id):
        estado.poner(viejo_id, unidades)  # the new one could not be added: keep what they had
        return respuesta
    quitado = f"He quitado «{viejo.nombre}». " if viejo is not None else ""
    return quitado + respuesta


HANDLERS: dict[Intencion, Callable[[Contexto, str], str]] = {
    Intencion.SALUDO: _saludo,
    Intencion.DESPEDIDA: _despedida,
    Intencion.HUMANO: _humano,
    Intencion.RECHAZO: _rechazo,
    Intencion.AGREGAR: _agregar,
    Intencion.CORREGIR: _corregir,
    Intencion.QUITAR: _quitar,
    Intencion.VER_CARRITO: _ver_carrito,
    Intencion.DATOS_CLIENTE: _datos,
    Intencion.CONFIRMAR: _confirmar,
    Intencion.CANCELAR: _cancelar,
    Intencion.COMPARAR: _comparar,
    Intencion.PRESUPUESTO: _presupuesto,
    Intencion.INFO_TIENDA: _info_tienda,
    Intencion.REGATEO: _regateo,
    Intencion.CAMBIAR: _cambiar,
    Intencion.DESCONOCIDA: _desconocida,
}


ACCIONES = frozenset(
    {
        Intencion.AGREGAR,
        Intencion.QUITAR,
        Intencion.CORREGIR,
        Intencion.CAMBIAR,
        Intencion.CANCELAR,
        Intencion.VER_CARRITO,
        Intencion.DATOS_CLIENTE,
    }
)


def responder(ctx: Contexto, texto: str) -> Respuesta:
    """Answer one customer message, updating the chat's state and the database through `tienda`.

    A message with several sentences that each ask for something ("quita la plancha. pon mejor la sandwichera") is
    answered sentence by sentence, in order.
    """
    frases = [f for f in re.split(r"(?<=[.!?;])\s+", texto.strip()) if intents.normalizar(f)]
    if len(frases) > 1:
        acciones = [intents.detectar(f, esperando=ctx.estado.paso) for f in frases]
        utiles = [
            f for f, a in zip(frases, acciones, strict=True) if a not in (Intencion.SALUDO, Intencion.DESCONOCIDA)
        ]
        hay_accion = any(a in ACCIONES for a in acciones)
        if len(utiles) > 1 and hay_accion and Intencion.DATOS_CLIENTE not in acciones:
            # "¿es de acero? lo quiero": the question is answered, then the purchase is made.
            respuestas = [_responder_una(ctx, f) for f in utiles]
            return Respuesta(texto="\n".join(r.texto for r in respuestas), intencion=respuestas[-1].intencion)
    return _responder_una(ctx, texto)


def _responder_una(ctx: Contexto, texto: str) -> Respuesta:
    paso = ctx.estado.paso
    intencion, datos = _interpretar(ctx, texto, paso)
    if paso in ("ofrecido", "eligiendo", "sin_stock"):
        ctx.estado.paso = None  # an offer or a choice holds for one reply only
        if intencion != Intencion.AGREGAR:
            ctx.estado.cantidad_pendiente = None
    if intencion == Intencion.DATOS_CLIENTE:
        respuesta = _datos(ctx, texto, datos)
    else:
        if not datos.vacio and intencion not in (Intencion.RECHAZO, Intencion.HUMANO):
            # Details given along with a request ("soy Ana, ana@x.com; quiero una cafetera"): keep them, and read
            # the rest as the request.
            tienda.registrar_cliente(ctx, datos.nombre, datos.email, datos.telefono)
            texto = intents.sin_contacto(texto) or texto
        if intencion == Intencion.NEGAR:
            respuesta = _negar(ctx, texto, paso)
        elif (handler := HANDLERS.get(intencion)) is not None:
            respuesta = handler(ctx, texto)
        else:
            respuesta = _consultar(ctx, texto, intencion)
    return Respuesta(texto=respuesta, intencion=intencion.value)
