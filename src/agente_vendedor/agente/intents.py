"""Reading a customer's Spanish message: intent, quantities, product references and contact details."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from agente_vendedor.core.text import fold


class Intencion(StrEnum):
    """What the customer wants with one message."""

    SALUDO = "saludo"
    BUSCAR = "buscar_producto"
    PRECIO = "precio"
    STOCK = "stock"
    RECOMENDAR = "recomendar"
    AGREGAR = "agregar_al_carrito"
    CORREGIR = "corregir_cantidad"
    QUITAR = "quitar_del_carrito"
    VER_CARRITO = "ver_carrito"
    DATOS_CLIENTE = "datos_cliente"
    CONFIRMAR = "confirmar"
    CANCELAR = "cancelar"
    HUMANO = "hablar_con_humano"
    DESPEDIDA = "despedida"
    RECHAZO = "rechazo"
    DESCONOCIDA = "desconocida"
    ATENDIDO_POR_HUMANO = "atendido_por_humano"


NUMEROS = {
    "un": 1,
    "una": 1,
    "uno": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "once": 11,
    "doce": 12,
    "quince": 15,
    "veinte": 20,
    "par": 2,
}
ORDINALES = {
    "primero": 1,
    "primera": 1,
    "primer": 1,
    "segundo": 2,
    "segunda": 2,
    "tercero": 3,
    "tercera": 3,
    "tercer": 3,
    "cuarto": 4,
    "cuarta": 4,
    "quinto": 5,
    "quinta": 5,
}
UNIDADES = r"(?:kg|g|mm|cm|m|l|litros?|w|v|gb|tb|bar|tazas?|piezas?|pulgadas|quemadores|mah|hz|gr)"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_TELEFONO = re.compile(r"(?<![\w@])\+?\d[\d \-]{6,18}\d(?![\w@])")
_NOMBRE = re.compile(
    r"(?:me llamo|mi nombre es|soy|nombre:?)\s+([A-Za-zÁÉÍÓÚÜÑáéíóúüñ][A-Za-zÁÉÍÓÚÜÑáéíóúüñ' -]{1,60}?)"
    r"(?=\s*(?:[,.;]|\by\b|\bcon\b|\bmi\b|\bemail\b|\bcorreo\b|\btel|$))",
    re.IGNORECASE,
)

_HUMANO = re.compile(
    r"\b(hablar|habla|atienda|atiende|pasame|pasar|quiero)\b.*\b(persona|humano|humana|agente humano|operador|"
    r"operadora|encargado|encargada|dependiente|alguien real)\b|\bpersona real\b|\bun humano\b"
)
_RECHAZO = re.compile(
    r"descuento|rebaja|gratis|mas barato para mi|bajame el precio|baja el precio|cambia\w* (el|los) precio|"
    r"pon\w* (el|a) precio|precio a \d|al \d+ ?%|\d+ ?% de|ignora|olvida (tus|las) instrucciones|"
    r"instrucciones (del|de) sistema|system prompt|prompt|eres ahora|actua como|modo desarrollador|"
    r"datos de (otro|otros|los) cliente|(?<!mi )(email|correo|telefono|direccion|datos) (de|del) (?!contacto)[a-z]+|"
    r"lista de clientes|clientes (tienen|hay)|quien (ha )?compr|"
    r"pedidos de otr|base de datos|contrasena|password|token|\bsql\b|select .*from|drop table|delete from|insert into|"
    r"administrador"
)
_CONFIRMAR = re.compile(
    r"^(si|sip|vale|ok|okay|de acuerdo|correcto|adelante|perfecto|claro)\b|\bconfirm\w*|\bhaz el pedido|"
    r"\btramita\w*|\bfinaliza\w*|\bpagar\b|\bcompra(lo)?\b$"
)
_CANCELAR = re.compile(
    r"\bcancel\w*|\banula\w*|\bolvidalo\b|\bno quiero nada\b|\bvacia\w* (el )?carrito|\bya no quiero (nada|comprar)"
)
_QUITAR = re.compile(r"\b(quita|quitame|quitar|elimina|eliminar|saca|sacame|borra|borrar)\b|\bya no quiero\b")
_CORREGIR = re.compile(
    r"^(mejor|mas bien|que sean|cambialo a|cambia a|en vez de \w+,?)\s+(\d+|[a-z]+)\b|"
    r"\bmejor (\d+|[a-z]+)\b(?! que)"
)
_VER_CARRITO = re.compile(
    r"\bcarrito\b|\bque llevo\b|\bmi pedido\b|\bresumen\b|\bcesta\b|\bcuanto (es|seria) en total\b"
)
_AGREGAR = re.compile(
    r"\b(quiero|quisiera|anade|anademe|anadir|agrega|agregar|agregame|ponme|me llevo|llevo|comprar|compro|"
    r"dame|deme|me quedo con|reserva)\b"
)
_PRECIO = re.compile(r"\bprecio|\bcuanto (cuesta|cuestan|vale|valen|sale|salen)|\bcoste\b|\bcuesta\b")
_STOCK = re.compile(r"\bstock\b|\bdisponib|\bquedan\b|\bexistencias\b|\bunidades (hay|tienen|quedan)\b")
_RECOMENDAR = re.compile(r"\brecomi?end|\bsugier|\baconsej|\bcual (me )?(compro|elijo)|\bque me (ofreces|propones)")
_SALUDO = re.compile(r"^(hola|buenas|buenos dias|buenas tardes|buenas noches|hey|saludos)\b")
_DESPEDIDA = re.compile(r"\b(adios|hasta luego|hasta pronto|chao|nos vemos|eso es todo|nada mas)\b|^gracias\b")
_REFERENCIA = re.compile(r"\b(ese|esa|este|esta|eso|esos|esas|lo|la|el mismo|la misma)\b")

FILLER = frozenset(
    """hola buenas buenos dias tardes noches quiero quisiera queria busco buscaba necesito tienen tienes teneis hay
    venden vendeis me gustaria comprar compro dame deme ponme anade anademe agrega agregame llevo lleva precio
    precios cuanto cuesta cuestan vale valen sale salen stock disponible disponibles quedan existencias unidades
    unidad recomiendas recomienda recomiendame sugieres aconsejas algun alguna algunos algunas que cual cuales
    del de la el los las un una unos unas por favor gracias mas y o tambien otro otra favor sobre ver mirar
    tengo puedo podria podrias puede saber info informacion ese esa este esta eso esos esas es son para mi
    modelo modelos producto productos articulo articulos tienda catalogo opciones opcion tipo tipos barato
    baratos barata caro mejor bueno buena algo cosa cosas me lo le quita quitame quitar elimina eliminar saca
    sacame borra borrar cancela mejor sean sea cambia cambialo pon carrito cesta hazme haz reserva vez solo si sip
    vale ok claro perfecto adelante anadelo anademelo""".split()
)


@dataclass(frozen=True)
class Contacto:
    """Contact details found in a message."""

    nombre: str | None
    email: str | None
    telefono: str | None

    @property
    def vacio(self) -> bool:
        """True when the message held no contact detail."""
        return not (self.nombre or self.email or self.telefono)


def normalizar(texto: str) -> str:
    """Folded text with punctuation turned into spaces (keeps digits, letters and `%`)."""
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9%@.+ ]", " ", fold(texto))).replace(" .", " ").strip(" .")


def contacto(texto: str) -> Contacto:
    """Name, e-mail and phone written in a message, if any."""
    email_match = _EMAIL.search(texto)
    sin_email = _EMAIL.sub(" ", texto)
    tel_match = _TELEFONO.search(sin_email)
    nombre_match = _NOMBRE.search(sin_email)
    nombre = nombre_match.group(1).strip(" '-") if nombre_match else None
    if nombre is not None and len(nombre) < 2:
        nombre = None
    return Contacto(
        nombre=nombre.title() if nombre else None,
        email=email_match.group(0).lower() if email_match else None,
        telefono=re.sub(r"\s+", " ", tel_match.group(0)).strip() if tel_match else None,
    )


def cantidad(texto: str) -> int | None:
    """The quantity asked for: digits or Spanish words ("dos", "una docena"); None when none is given."""
    norm = normalizar(texto)
    if "media docena" in norm:
        return 6
    docenas = re.search(r"\b(\d+|un|una|dos|tres)\s+docenas?\b", norm)
    if docenas:
        word = docenas.group(1)
        return 12 * (int(word) if word.isdigit() else NUMEROS[word])
    for match in re.finditer(r"\b(\d{1,4})\b(?!\s*" + UNIDADES + r"\b)(?!\s*%)", norm):
        value = int(match.group(1))
        if value > 0 and not _ordinal_digit(norm, match.start()):
            return value
    words = norm.split()
    for word in words:
        if word in NUMEROS and word not in {"un", "una", "uno"}:
            return NUMEROS[word]
    if any(word in {"un", "una", "uno"} for word in words):
        return 1
    return None


def _ordinal_digit(norm: str, start: int) -> bool:
    """`el 2`, `numero 2`, `opcion 2` refer to a position in the list, not a quantity."""
    before = norm[:start].split()[-1:] if start else []
    return bool(before) and before[0] in {"el", "la", "numero", "opcion", "n", "no", "del", "nº"}


def ordinal(texto: str) -> int | None:
    """A position in the last list shown: "el segundo", "la primera", "el 2", "opción 3", "el último" (-1)."""
    norm = normalizar(texto)
    for word in norm.split():
        if word in ORDINALES:
            return ORDINALES[word]
        if word in {"ultimo", "ultima"}:
            return -1
    match = re.search(r"\b(?:el|la|del|numero|opcion)\s+(\d{1,2})\b(?!\s*" + UNIDADES + r"\b)", norm)
    return int(match.group(1)) if match else None


def referencia_demostrativa(texto: str) -> bool:
    """ "ese", "esa", "lo quiero": the product just discussed."""
    return bool(_REFERENCIA.search(normalizar(texto)))


def atributo(texto: str) -> str | None:
    """The distinguishing words of "el de 750W" / "la de 6 tazas"."""
    match = re.search(r"\b(?:el|la|los|las) de ([a-z0-9 ]{1,40})", normalizar(texto))
    if not match:
        return None
    words = [w for w in match.group(1).split() if w not in FILLER and w not in NUMEROS]
    return " ".join(words[:3]) or None


def palabras_producto(texto: str) -> str:
    """The words that name a product, without the request around them ("¿tienen taladros?" -> "taladros")."""
    norm = normalizar(_EMAIL.sub(" ", texto))
    words = [
        w
        for w in norm.split()
        if w not in FILLER and w not in NUMEROS and w not in ORDINALES and not re.fullmatch(r"\d{1,4}", w)
    ]
    return " ".join(words)


def detectar(texto: str, *, esperando: str | None = None) -> Intencion:
    """The intent of a message; `esperando` is the step the dialogue waits for (datos, confirmacion)."""
    norm = normalizar(texto)
    if not norm:
        return Intencion.DESCONOCIDA
    if _HUMANO.search(norm):
        return Intencion.HUMANO
    if _RECHAZO.search(norm):
        return Intencion.RECHAZO
    datos = contacto(texto)
    if datos.email or (datos.telefono and not _AGREGAR.search(norm)) or datos.nombre:
        return Intencion.DATOS_CLIENTE
    if _CANCELAR.search(norm):
        return Intencion.CANCELAR
    if esperando == "confirmacion" and _CONFIRMAR.search(norm) and not re.search(r"\bno\b", norm):
        return Intencion.CONFIRMAR
    if re.search(r"\bconfirm", norm):
        return Intencion.CONFIRMAR
    if esperando == "eligiendo" and (ordinal(texto) is not None or atributo(texto)) and not _PRECIO.search(norm):
        return Intencion.AGREGAR  # "el segundo" after "¿cuál de ellas quiere?"
    if esperando == "ofrecido" and _CONFIRMAR.search(norm) and not re.search(r"\bno\b", norm):
        return Intencion.AGREGAR  # "sí" to "¿se lo añado al carrito?"
    if _QUITAR.search(norm):
        return Intencion.QUITAR
    if _CORREGIR.search(norm) and cantidad(texto) is not None:
        return Intencion.CORREGIR
    if _VER_CARRITO.search(norm):
        return Intencion.VER_CARRITO
    if _AGREGAR.search(norm) and (cantidad(texto) is not None or ordinal(texto) is not None or _has_ref(texto)):
        return Intencion.AGREGAR
    if _PRECIO.search(norm):
        return Intencion.PRECIO
    if _STOCK.search(norm):
        return Intencion.STOCK
    if _RECOMENDAR.search(norm):
        return Intencion.RECOMENDAR
    if _AGREGAR.search(norm) and palabras_producto(texto):
        return Intencion.AGREGAR
    if _DESPEDIDA.search(norm):
        return Intencion.DESPEDIDA
    if _SALUDO.search(norm) and not palabras_producto(texto):
        return Intencion.SALUDO
    if palabras_producto(texto):
        return Intencion.BUSCAR
    if esperando == "confirmacion" and re.search(r"^no\b", norm):
        return Intencion.CANCELAR
    return Intencion.DESCONOCIDA


def _has_ref(texto: str) -> bool:
    return referencia_demostrativa(texto) or atributo(texto) is not None
