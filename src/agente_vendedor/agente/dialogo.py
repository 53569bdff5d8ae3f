"""The offline dialogue engine: deterministic Spanish intents, slots and templates filled only with database facts.

Conventions the guard relies on: product names (and only they) go between «», prices as `59.90 €`, stock as
`N unidades disponibles` / `quedan N unidades`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from agente_vendedor.agente import intents, tienda
from agente_vendedor.agente.intents import Intencion
from agente_vendedor.agente.tienda import Contexto, Respuesta, euros
from agente_vendedor.core.text import fold
from agente_vendedor.productos import service as productos_service
from agente_vendedor.productos.models import Producto

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
    """The product a message points at: by position, by attribute ("el de 750W"), "ese", or the one discussed."""
    estado = ctx.estado
    candidatos = [linea.producto_id for linea in estado.carrito] if en_carrito else estado.mostrados
    posicion = intents.ordinal(texto)
    if posicion is not None and candidatos:
        index = len(candidatos) - 1 if posicion == -1 else posicion - 1
        if 0 <= index < len(candidatos):
            return tienda.producto_activo(ctx, candidatos[index])
        return None
    rasgo = intents.atributo(texto)
    pool = candidatos or estado.mostrados
    if rasgo:
        for producto_id in pool:
            producto = tienda.producto_activo(ctx, producto_id)
            if producto is not None and all(w in fold(producto.nombre) for w in rasgo.split()):
                return producto
        return None  # "el de 750W" that is not on the list: the caller searches the catalog for it
    if estado.foco is not None and (not en_carrito or estado.cantidad_en_carrito(estado.foco)):
        return tienda.producto_activo(ctx, estado.foco)
    if len(pool) == 1:
        return tienda.producto_activo(ctx, pool[0])
    if en_carrito and estado.carrito:
        return tienda.producto_activo(ctx, estado.carrito[-1].producto_id)
    return None


def _por_nombre_en(ctx: Contexto, palabras: str, ids: Sequence[int]) -> Producto | None:
    """The only product among `ids` whose name contains every given word (singular or plural); None if 0 or 2+."""
    words = [w.rstrip("s") for w in palabras.split() if len(w) > 2]
    if not words:
        return None
    encontrados = []
    for producto_id in ids:
        producto = tienda.producto_activo(ctx, producto_id)
        if producto is not None and all(w in fold(producto.nombre) for w in words):
            encontrados.append(producto)
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


def _describir(ctx: Contexto, producto: Producto, intencion: Intencion) -> str:
    ctx.mencionar(producto.id)
    ctx.estado.foco = producto.id
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
    return texto


def _ofrecer(ctx: Contexto) -> None:
    """Remember that a product was offered, so a plain "sí" adds it (unless the order awaits confirmation)."""
    if ctx.estado.paso in (None, "datos_cliente"):
        ctx.estado.paso = "ofrecido"


def _consultar(ctx: Contexto, texto: str, intencion: Intencion) -> str:
    """Searching, asking a price or the stock, or for a recommendation."""
    palabras = intents.palabras_producto(texto)
    if not palabras or intents.ordinal(texto) is not None or intents.atributo(texto):
        producto = _referido(ctx, texto)
        if producto is not None and (not palabras or intents.ordinal(texto) is not None):
            return _describir(ctx, producto, intencion)
        if producto is not None and intents.atributo(texto):
            return _describir(ctx, producto, intencion)
    if not palabras:
        if intencion == Intencion.RECOMENDAR and ctx.estado.mostrados:
            return _recomendar(ctx, [(p, None) for p in _mostrados(ctx)])
        return "¿Qué producto le interesa? Dígame qué busca y le enseño opciones con precio y disponibilidad."
    encontrados = tienda.buscar(ctx, palabras)
    if not encontrados:
        tienda.registrar_demanda(ctx, "sin_producto", ctx.consulta)
        ctx.estado.mostrados = []
        respuesta = f'Lo siento, no tenemos "{palabras}" en el catálogo.'
        categorias = [nombre for nombre, _ in productos_service.categories(session=ctx.session)]
        if categorias:
            respuesta += " Trabajamos estas categorías: " + ", ".join(categorias) + ". ¿Le interesa alguna?"
        return respuesta
    if intencion in (Intencion.PRECIO, Intencion.STOCK):
        ids = [p.id for p, _ in encontrados]
        elegido = encontrados[0][0] if len(encontrados) == 1 else _por_nombre_en(ctx, palabras, ids)
        if elegido is not None:
            ctx.estado.mostrados = [elegido.id]
            return _describir(ctx, elegido, intencion)
    if intencion == Intencion.RECOMENDAR:
        return _recomendar(ctx, [(p, s) for p, s in encontrados])
    if len(encontrados) == 1:
        producto, score = encontrados[0]
        ctx.estado.mostrados = [producto.id]
        ctx.mencionar(producto.id, score)
        return _describir(ctx, producto, intencion)
    lista = _listar(ctx, encontrados)
    ctx.estado.foco = encontrados[0][0].id if len(encontrados) == 1 else None
    respuesta = f"{_elegir(ctx, OPCIONES, 'opciones')}\n{lista}"
    if all(p.stock <= 0 for p, _ in encontrados):
        tienda.registrar_demanda(ctx, "sin_stock", ctx.consulta, producto_id=encontrados[0][0].id)
        respuesta += "\nAhora mismo están agotados." + _alternativas_texto(ctx, encontrados[0][0])
    else:
        respuesta += '\n¿Cuál le interesa? Puede decirme, por ejemplo, "quiero dos del primero".'
    return respuesta


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
    palabras = intents.palabras_producto(texto)
    producto = None
    if intents.ordinal(texto) is not None or intents.atributo(texto) or not palabras:
        producto = _referido(ctx, texto)
    if producto is None and palabras:
        producto = _por_nombre_en(ctx, palabras, ctx.estado.mostrados)
        if producto is None:
            encontrados = tienda.buscar(ctx, palabras)
            if not encontrados:
                tienda.registrar_demanda(ctx, "sin_producto", ctx.consulta, cantidad=intents.cantidad(texto))
                return f'Lo siento, no tenemos "{palabras}" en el catálogo. ¿Busca algo parecido?'
            exacto = _por_nombre_en(ctx, palabras, [p.id for p, _ in encontrados])
            if len(encontrados) > 1 and exacto is None:
                lista = _listar(ctx, encontrados)
                if ctx.estado.paso is None:
                    ctx.estado.paso = "eligiendo"
                    ctx.estado.cantidad_pendiente = intents.cantidad(texto)
                return f'Tenemos varias opciones:\n{lista}\n¿Cuál de ellas quiere? (por ejemplo, "el primero")'
            producto = exacto or encontrados[0][0]
    if producto is None:
        return '¿Qué producto quiere añadir? Dígame el nombre o la posición en la lista ("el segundo").'
    cantidad = intents.cantidad(texto) or ctx.estado.cantidad_pendiente or 1
    ctx.estado.cantidad_pendiente = None
    return _poner(ctx, producto, cantidad, sumar=True)


def _poner(ctx: Contexto, producto: Producto, cantidad: int, *, sumar: bool) -> str:
    ctx.mencionar(producto.id)
    if producto.stock <= 0:
        tienda.registrar_demanda(ctx, "sin_stock", ctx.consulta, producto_id=producto.id, cantidad=cantidad)
        return f"Lo siento, «{producto.nombre}» está agotado." + _alternativas_texto(ctx, producto)
    resultado = tienda.poner_en_carrito(ctx, producto, cantidad, sumar=sumar)
    if not resultado.ok:
        tienda.registrar_demanda(ctx, "sin_stock", ctx.consulta, producto_id=producto.id, cantidad=cantidad)
        return (
            f"Lo siento, de «{producto.nombre}» solo quedan {producto.stock} unidades. "
            "¿Quiere esa cantidad u otra menor?"
        )
    unidades = ctx.estado.cantidad_en_carrito(producto.id)
    return f"Hecho: {unidades} × «{producto.nombre}» en su carrito.\n{carrito_texto(ctx)}{_siguiente_paso(ctx)}"


def _corregir(ctx: Contexto, texto: str) -> str:
    cantidad = intents.cantidad(texto) or 1
    producto = _referido(ctx, texto, en_carrito=True)
    if producto is None:
        return "¿De qué producto quiere cambiar la cantidad?"
    return _poner(ctx, producto, cantidad, sumar=False)


def _quitar(ctx: Contexto, texto: str) -> str:
    if not ctx.estado.carrito:
        return "Su carrito ya está vacío."
    palabras = intents.palabras_producto(texto)
    carrito_ids = [linea.producto_id for linea in ctx.estado.carrito]
    producto = _por_nombre_en(ctx, palabras, carrito_ids) if palabras else None
    producto = producto or _referido(ctx, texto, en_carrito=True)
    if producto is None or not ctx.estado.cantidad_en_carrito(producto.id):
        return "¿Qué producto quiere quitar del carrito?\n" + carrito_texto(ctx)
    ctx.estado.poner(producto.id, 0)
    ctx.estado.foco = None
    ctx.mencionar(producto.id)
    return f"He quitado «{producto.nombre}» del carrito.\n{carrito_texto(ctx)}{_siguiente_paso(ctx)}"


def _ver_carrito(ctx: Contexto, texto: str) -> str:
    return carrito_texto(ctx) + _siguiente_paso(ctx)


def _datos(ctx: Contexto, texto: str) -> str:
    datos = intents.contacto(texto)
    problema = tienda.registrar_cliente(ctx, datos.nombre, datos.email, datos.telefono)
    if problema == "falta_email":
        gracias = f"Gracias, {ctx.estado.nombre}. " if ctx.estado.nombre else "Gracias. "
        return gracias + "¿Me indica también su email? Lo necesitamos para el pedido."
    if problema == "falta_nombre":
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
    Intencion.DESCONOCIDA: _desconocida,
}


def responder(ctx: Contexto, texto: str) -> Respuesta:
    """Answer one customer message, updating the chat's state and the database through `tienda`."""
    intencion = intents.detectar(texto, esperando=ctx.estado.paso)
    if ctx.estado.paso in ("ofrecido", "eligiendo"):
        ctx.estado.paso = None  # an offer or a choice holds for one reply only
        if intencion != Intencion.AGREGAR:
            ctx.estado.cantidad_pendiente = None
    handler = HANDLERS.get(intencion)
    if handler is not None:
        respuesta = handler(ctx, texto)
    else:
        respuesta = _consultar(ctx, texto, intencion)
    return Respuesta(texto=respuesta, intencion=intencion.value)
