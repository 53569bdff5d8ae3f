"""Reading a customer's Spanish message: intent, quantities, product references and contact details."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher
from enum import StrEnum
from functools import lru_cache

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
    CAMBIAR = "cambiar_producto"
    COMPARAR = "comparar"
    PRESUPUESTO = "presupuesto"
    INFO_TIENDA = "info_tienda"
    REGATEO = "regateo"
    NEGAR = "negacion"
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
    "trece": 13,
    "catorce": 14,
    "dieciseis": 16,
    "dieciocho": 18,
    "veinte": 20,
    "treinta": 30,
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
UNIDADES = (
    r"(?:kg|g|mm|cm|m|ml|l|lt|litros?|w|v|gb|tb|bar|tazas?|piezas?|pulgadas|quemadores|mah|hz|gr|gramos|kilos?|watts?|"
    r"vatios?|metros?|cm)"
)
# Measures as people say them, as the catalog writes them ("15 kilos" -> "15 kg").
_MEDIDAS = {
    "kilos": "kg",
    "kilo": "kg",
    "kilogramos": "kg",
    "litros": "l",
    "litro": "l",
    "lts": "l",
    "lt": "l",
    "gramos": "g",
    "grs": "g",
    "watts": "w",
    "watt": "w",
    "vatios": "w",
    "metros": "m",
    "metro": "m",
    "centimetros": "cm",
    "mililitros": "ml",
}
_UNIDADES_CORTAS = frozenset("kg g l ml w v cm mm m gb tb mah".split())
# Packaging words next to a number count units, not products ("2 bolsas", "el saco de 15 kg", "3 cajas de lápices").
_ENVASES = r"(?:bolsas?|sacos?|cajas?|paquetes?|packs?|botes?|latas?|botellas?|unidades?|piezas?|juegos?|sets?)"
MONEDA = r"(?:€|eur|euros?|pesos?|lucas|luca|dolares|usd|mil|soles|\$)"

# How people write in chats, mapped to the words the rules know: abbreviations, phonetic spellings, dialect forms.
# A general lexicon of written Spanish, not phrasings of any test corpus.
CHAT = {
    "q": "que",
    "k": "que",
    "ke": "que",
    "qe": "que",
    "xq": "porque",
    "pq": "porque",
    "porq": "porque",
    "xk": "porque",
    "tb": "tambien",
    "tmb": "tambien",
    "tbn": "tambien",
    "tambn": "tambien",
    "pls": "por favor",
    "plis": "por favor",
    "plz": "por favor",
    "porfa": "por favor",
    "porfis": "por favor",
    "xfa": "por favor",
    "xfavor": "por favor",
    "porfavor": "por favor",
    "x": "por",
    "d": "de",
    "dnd": "donde",
    "kiero": "quiero",
    "qiero": "quiero",
    "kero": "quiero",
    "quero": "quiero",
    "kisiera": "quisiera",
    "ola": "hola",
    "holis": "hola",
    "grax": "gracias",
    "grs": "gracias",
    "grcs": "gracias",
    "gracia": "gracias",
    "sip": "si",
    "sipi": "si",
    "sep": "si",
    "sii": "si",
    "simon": "si",
    "sisi": "si si",
    "nop": "no",
    "nel": "no",
    "nones": "no",
    "oki": "ok",
    "okis": "ok",
    "okey": "ok",
    "oka": "ok",
    "okay": "ok",
    "okk": "ok",
    "okas": "ok",
    "tenes": "tienes",
    "queres": "quieres",
    "podes": "puedes",
    "bno": "bueno",
    "cel": "celular",
    "aki": "aqui",
    "toy": "estoy",
    "mxo": "mucho",
    "kuanto": "cuanto",
    "qnto": "cuanto",
    "cuant": "cuanto",
    "cuanto's": "cuanto",
    "ta": "esta",
    "pa": "para",
    "pal": "para el",
    "nomas": "nada mas",
    "dle": "dale",
    "dal": "dale",
    "vdd": "verdad",
    "msj": "mensaje",
    "tel": "telefono",
    "telf": "telefono",
    "cuanta": "cuanto",
    "kuesta": "cuesta",
    "questa": "cuesta",
    "cuesa": "cuesta",
    "kuestan": "cuestan",
    "questan": "cuestan",
    "nesesito": "necesito",
    "nececito": "necesito",
    "nesecito": "necesito",
    "ocupo": "necesito",
    "tiens": "tienes",
    "tieen": "tienen",
    "tinen": "tienen",
    "tenen": "tienen",
    "aver": "a ver",
    "weno": "bueno",
    "pekeno": "pequeno",
    "pekena": "pequena",
    "pequenito": "pequeno",
    "pequenita": "pequena",
    "chiquito": "chico",
    "chiquita": "chica",
    "grandecito": "grande",
    "buenass": "buenas",
    "wenas": "buenas",
    "buens": "buenas",
    "xd": "",
    "jaja": "",
    "jajaja": "",
    "jeje": "",
    "mmm": "",
    "emm": "",
    "este": "este",
}
# Words that say "yes" or "no" as answers, across Spain and Latin America.
AFIRMACIONES = frozenset(
    """si claro vale ok dale va sale orale listo perfecto correcto adelante obvio bueno genial exacto venga hecho
    seguro afirmativo confirmo confirmado confirma bacan chevere hagale hagamosle sipo ya porsupuesto buenisimo
    excelente joya barbaro copado bacano hagale sisas vamos dele""".split()
)
AFIRMACIONES_FRASES = (
    "de una",
    "por supuesto",
    "de acuerdo",
    "asi es",
    "me parece bien",
    "esta bien",
    "ta bien",
    "re bien",
    "ya po",
    "claro que si",
    "por favor",
    "me sirve",
    "eso es",
    "eso mismo",
    "me lo llevo",
    "me la llevo",
    "lo quiero",
    "la quiero",
    "los quiero",
    "las quiero",
    "lo compro",
    "la compro",
    "hazlo",
    "procede",
)
NEGACIONES = frozenset("no nada tampoco dejalo olvidalo paso nah".split())
NEGACIONES_FRASES = (
    "mejor no",
    "ni ahi",
    "ni loco",
    "para nada",
    "no gracias",
    "ahora no",
    "todavia no",
    "aun no",
    "por ahora no",
    "dejalo asi",
    "asi esta bien",
    "nada mas",
    "no por ahora",
    "no quiero",
    "ya no",
)
# Unmistakable refusals wherever they stand in the message ("ah bueno, entonces dejemos así").
NEGACIONES_DONDE_SEA = (
    "dejemos asi",
    "dejemoslo asi",
    "dejemoslo",
    "mejor no",
    "ni modo",
    "asi no me sirve",
    "no me sirve",
    "no me interesa",
    "ya no",
    "olvidalo",
    "dejalo asi",
    "no gracias",
    "por ahora no",
    "mejor despues",
    "ni ahi",
)
COLORES = frozenset(
    """rojo roja azul negro negra blanco blanca verde amarillo amarilla rosa gris morado morada naranja plateado
    plateada dorado dorada marron beige lila turquesa celeste""".split()
)
_PALABRAS_CLAVE = (
    "quiero",
    "quisiera",
    "cuesta",
    "cuestan",
    "cuanto",
    "precio",
    "tienen",
    "necesito",
    "carrito",
    "confirmo",
    "cancelar",
    "comprar",
    "gracias",
    "buenas",
    "disponible",
    "recomiendas",
    "barato",
    "barata",
    "llevo",
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_TELEFONO = re.compile(r"(?<![\w@])\+?\(?\d[\d \-().]{6,18}\d(?![\w@])")
_NOMBRE = re.compile(
    r"(?:me llamo|mi nombre es|mi nombre:|nombre:?|a nombre de|soy|habla)\s+"
    r"([A-Za-zÁÉÍÓÚÜÑáéíóúüñ][A-Za-zÁÉÍÓÚÜÑáéíóúüñ' -]{1,60}?)"
    r"(?=\s*(?:[,.;:\n]|\by\b|\bcon\b|\bmi\b|\bel\b|\bemail\b|\bcorreo\b|\bmail\b|\btel|\bcel|\bwhats|\bal\b|$))",
    re.IGNORECASE,
)
_NO_NOMBRE = frozenset(
    """mi correo email mail e es el la tel telefono celular cel whatsapp whats movil numero nombre datos aqui van mis
    son a de y con para por favor gracias ok dale si vale listo claro perfecto apunta anota este esta mi email:
    correo: contacto escribeme llamame al pedido envio direccion calle gmail hotmail hola buenas buenos dias tardes
    noches ya po bueno entonces pues ahi te paso paso dejo te le""".split()
)

_HUMANO = re.compile(
    r"\b(hablar|habla|atienda|atiende|pasame|pasar|quiero|comunicame|comunicar)\b.*\b(persona|humano|humana|"
    r"agente humano|operador|operadora|encargado|encargada|dependiente|alguien real|asesor|asesora|vendedor real)\b"
    r"|\bpersona real\b|\bun humano\b"
)
_RECHAZO = re.compile(
    r"cambia\w* (el|los) precio|pon\w* (el|a) precio|"
    r"ignora|olvida (tus|las) instrucciones|"
    r"instrucciones (del|de) sistema|system prompt|prompt|eres ahora|actua como|modo desarrollador|"
    r"datos de (otro|otros|los) cliente|(?<!mi )(?<!su )(email|correo|telefono|direccion|datos) (de|del) "
    r"(?!contacto|la tienda|ustedes|su tienda|vuestra|el local|la sucursal|envio|entrega|mi\b)[a-z]+|"
    r"lista de clientes|clientes (tienen|hay)|quien (ha )?compr|"
    r"pedidos de otr|base de datos|contrasena|password|token|\bsql\b|select .*from|drop table|delete from|insert into|"
    r"administrador"
)
_REGATEO = re.compile(
    r"descuento|\brebaj|\b(dame|damelo|damela|regalamelo|regalamela|me (lo|la) (das|regalas)) gratis|"
    r"\bgratis para mi|\bmas barato para mi|\bdejas? mas barat|\b(dejamel[oa]|dejal[oa]|dejemel[oa]) mas barat|"
    r"\bme (lo|la|los|las) (dejas|deja|das|da) (mas )?barat|\bmas barat\w* (si|para mi)\b|\bun precio mejor|"
    r"bajame|baja(me|rme)? el precio|me (lo|la|los|las) (dejas|deja|das|da|pones|puedes dejar) (en|a|por) \d|"
    r"(dejamelo|dejamela|dejalo|dejala) (en|a) \d|precio a \d|al \d+ ?%|\d+ ?% de|un precio especial|\bregate|"
    r"\bnegociar|\bnegociable|(te|le) (doy|ofrezco|pago) \d|ultimo precio|mejor precio|"
    r"\bhac\w* (un )?(precio|descuento|rebaj)|"
    r"me haces precio|promocion|oferta para mi|cupon|"
    r"\b(en|a|por) \d+ (me|se) (lo|la|los|las) (dejas|dejai|deja|das|dai|da|vendes|vende)\b|"
    r"\b(dejai|dai) (en|a) \d|\bme (lo|la|los|las) (dejai|dai)\b|\bme hacen descuento|\bhay descuento"
)
_CONFIRMAR = re.compile(r"\bconfirm\w*|\bhaz el pedido|\btramita\w*|\bfinaliza\w*|\bpagar\b|\bcompra(lo)?\b$")
_CANCELAR = re.compile(
    r"\bcancel\w*|\banula\w*|\bno quiero nada\b|\bvacia\w* (el |mi )?(carrito|cesta)|\bya no quiero (nada|comprar)|"
    r"\bborra (todo|el carrito)|\bquita(me)? todo|\bempezar de nuevo|\bolvida (todo|el pedido)"
)
_QUITAR = re.compile(
    r"\b(quita|quitame|quitale|quitar|quite|quitele|quiteme|elimina|eliminame|eliminar|elimine|saca|sacame|sacale|"
    r"saque|saquele|borra|borrame|borrar|borre|retira|retire)\b|"
    r"\bya no quiero\b|\bsin (el|la|los|las)\b|\bmenos (el|la|los|las)\b(?! \d)"
)
_CORREGIR = re.compile(
    r"^(?:no\s+|bueno\s+|mejor\s+no\s+)?(mejor|mas bien|que sean|cambialo a|cambia a|cambiala a|cambia(lo|la)? (a|por)|"
    r"cambie(lo|la)? (a|por)|deje(lo|la)? en|ponga(le)?|"
    r"en vez de \w+,?|pon(me|le)?|dejalo en|dejala en|solo)\s+(\d+|[a-z]+)\b|\bmejor (\d+|[a-z]+)\b(?! que)|"
    r"\bque sean (\d+|[a-z]+)\b|\bcambia\w* (la cantidad )?a (\d+|[a-z]+)\b"
)
_VER_CARRITO = re.compile(
    r"\bcarrito\b|\bque llevo\b|\bmi pedido\b|\bresumen\b|\bcesta\b|\bcuanto (es|seria|va|llevo|sale todo)"
    r"( en)? (total|todo)?\b|\btotal\b|\bque tengo\b|\bcuanto (te )?debo\b"
)
_AGREGAR = re.compile(
    r"\b(quiero|quisiera|queria|anade|anademe|anadir|agrega|agregar|agregame|agregale|ponme|pongame|me llevo|llevo|"
    r"me pones|me pone|pon|ponga|me vendes|me vende|"
    r"llevare|comprar|compro|comprare|dame|deme|dele|mandame|mandeme|enviame|me quedo con|reserva|reservame|"
    r"me regala|me regalas|regalame|me vende|me vendes|vendeme|echame|sumale|suma|agregue|anada|me pasas|"
    r"me das|me da|apartame|separame|encargo|encargar|pido|pedir|quiero pedir|me (lo|la|los|las) (quedo|llevo|pillo)|"
    r"me quedo|me pillo|pillo|(lo|la|los|las) compro|me (lo|la|los|las) mandas|"
    r"[a-z]+(mela|melo|melas|melos|sela|selo|selas|selos)|"
    r"(agrega|agregue|anade|anada|pon|ponga|aparta|aparte|separa|separe|reserva|reserve|guarda|guarde|suma|sume|"
    r"manda|mande|envia|envie|apunta|apunte)(la|lo|las|los)|agreguela|agreguelo|agreguelas|agreguelos)\b"
)
# "agrégala", "pásamelo", "apártemela": a verb with the product as pronoun (a reference, not a product word).
_ENCLITICO = re.compile(
    r"[a-z]+(mela|melo|melas|melos|sela|selo|selas|selos)|(agrega|agregue|anade|anada|pon|ponga|aparta|aparte|"
    r"separa|separe|reserva|reserve|guarda|guarde|suma|sume|manda|mande|envia|envie|apunta|apunte|quita|quite|saca|"
    r"saque|compra|compre|lleva|lleve)(la|lo|las|los)|agreguela|agreguelo|agreguelas|agreguelos"
)
# Purchase verbs that also just ask ("necesito una cafetera"): they buy only with an explicit quantity.
_NECESIDAD = re.compile(
    r"\b(necesito|necesitaria|busco|buscaba|ando buscando|estoy buscando|queria saber|me interesa)\b"
)
_PREGUNTA = re.compile(
    r"^(tienen|tienes|tiene|hay|venden|manejan)\b|"
    r"\b(cual|cuales|cuanto|cuanta|cuantos|cuantas|que tal|como es|como son|para que sirve)\b"
)
# Putting the decision off ("lo consulto con mi mujer", "ahorita le confirmo"): never a yes.
_APLAZAR = re.compile(
    r"\blo (consulto|pienso|miro|hablo|veo|reviso|medito)\b|\bme lo (pienso|pensare)\b|"
    r"\b(voy a|tengo que|dejame) (pensar|consultar|preguntar|ver|mirar|revisar|hablar)|"
    r"\bya (te|le|os|les) (digo|aviso|confirmo|escribo|contesto)\b|"
    r"\b(luego|despues|mas tarde|otro dia|manana|ahorita|en un rato|al rato)\b.*\b(confirmo|digo|escribo|aviso|vuelvo|"
    r"paso|decido|compro|hablamos)\b|\b(confirmo|digo|escribo|aviso|vuelvo|decido) (luego|despues|mas tarde|"
    r"otro dia|manana|en un rato|al rato)\b|\b(despues|luego|mas tarde) (veo|vemos|miro|decido|lo veo|te aviso)\b|"
    r"\bya me pasare\b|\bme pasare por\b|\blo pensare\b|\bpensarlo\b"
)
_PRECIO = re.compile(
    r"\bprecio|\bcuanto (cuesta|cuestan|vale|valen|sale|salen|es|son|esta|estan|cobran|cobras|seria)|\bcoste\b|"
    r"\bcuesta\b|\bcuestan\b|\ba como\b|\bque valor\b|\bvalor (de|del)\b|\bcuanto por\b|\ba cuanto\b"
)
_STOCK = re.compile(
    r"\bstock\b|\bdisponib|\bquedan\b|\bqueda\b|\bexistencias\b|\bunidades (hay|tienen|quedan)\b|"
    r"\bcuant[oa]s (hay|tienen|tenes|tienes|quedan|te quedan|les quedan)\b|\bhay en existencia"
)
_RECOMENDAR = re.compile(
    r"\brecomi?end|\bsugier|\baconsej|\bcual (me )?(compro|elijo|llevo)|\bque me (ofreces|propones)"
    r"|\bcual es (el|la) mejor|\bcual (es )?mejor\b|\bque me conviene"
)
_COMPARAR = re.compile(
    r"\b(diferencia|diferencias|comparar|compara|comparacion|versus|vs)\b|\bque (es|sale|esta) mas (barat|car)\w*"
    r"|\bcual (es|sale|esta) mas (barat|car|grande|potente)\w*.*\b(o|u)\b|\bmas (barat|car)\w* (el|la|entre)\b.*\bo\b"
)
_SALUDO = re.compile(r"^(hola|buenas|buenos dias|buenas tardes|buenas noches|hey|saludos|que tal|buen dia|ey)\b")
_DESPEDIDA = re.compile(
    r"\b(adios|hasta luego|hasta pronto|chao|chau|nos vemos|eso es todo|nada mas|bye|hasta manana)\b|^gracias\b"
    r"|^muchas gracias\b|^mil gracias\b"
)
_REFERENCIA = re.compile(
    r"\b(ese|esa|este|esta|eso|esos|esas|estos|estas|lo|la|los|las|el mismo|la misma|ese mismo|esa misma)\b"
)
_TODAS = re.compile(
    r"\b(las|los|lo) que (queden|quedan|haya|hay|tengas|tengan|tenga|tienes|tienen)\b|\btodas? las que\b|"
    r"\btodos? los que\b|\btodo (lo que|el stock)\b|\bel maximo\b|\blas disponibles\b|\blos disponibles\b"
)
_PRECIO_MAX = re.compile(
    r"\b(?:menos de|por debajo de|maximo|max|hasta|no mas de|que no pase de|que no supere|inferior a|no supere|"
    r"por menos de|debajo de|menor a|menor de|tope de?|presupuesto de|presupuesto es de|tengo)\s+(?:unos |los )?"
    r"(\d{1,7}(?:[.,]\d{1,2})?)"
)
_PRECIO_MIN = re.compile(
    r"\b(?:mas de|por encima de|minimo|superior a|arriba de|mayor a|mayor de)\s+(\d{1,7}(?:[.,]\d{1,2})?)"
)
_RANGO = re.compile(r"\bentre\s+(\d{1,7}(?:[.,]\d{1,2})?)\s+(?:y|a)\s+(\d{1,7}(?:[.,]\d{1,2})?)")
_SUPERLATIVO = re.compile(
    r"\b(?:(?:el|la|lo|los|las|uno|una)\s+)?(mas|menos)\s+(barat\w*|economic\w*|car[oa]s?|grande\w*|chic[oa]s?|"
    r"pequen\w*|potente\w*|capacidad|larg[oa]s?|cort[oa]s?|nuev[oa]s?|bueno|buena|mejor)\b"
    r"|\b(el|la|lo)\s+(mejor|peor)\s+precio\b|\b(barat[oa]s?|economic[oa]s?|grandes?|pequen[oa]s?|chic[oa]s?|"
    r"potentes?)\b"
)
_TEMAS = {
    "formas_pago": re.compile(
        r"\bformas? de pago|\bmetodos? de pago|\bpagar con\b|\bpuedo pagar|\baceptan\b|\btarjeta\b|\bbizum\b|"
        r"\btransferencia\b|\befectivo\b|\bpaypal\b|\bmercado ?pago\b|\bcuotas\b|\ba plazos\b|\bcomo (se )?paga|"
        r"\bcontra ?reembolso|\bcontra ?entrega|\bpago (contra|al recibir|en efectivo)|\bpagar al recibir"
    ),
    "horario": re.compile(
        r"\bhorario|\ba que hora|\bhasta que hora|\bque hora (abren|cierran)|\babren\b|\bcierran\b|"
        r"\b(esta|estan|estais) abiert|\babierto (hoy|los|el|manana)|"
        r"\bdias (abren|atienden)|\batienden (los|el|hoy)|\babris\b|\babre\b|\bcerrado|\bfestivos?\b|\bferiados?\b|"
        r"^y (el|los) (lunes|martes|miercoles|jueves|viernes|sabados?|domingos?)\b"
    ),
    "direccion": re.compile(
        r"\bdireccion\b|\bdonde (estan|queda|quedan|esta la tienda|los encuentro|se ubican)|\bubicacion|"
        r"\bubicados\b|\bdonde (es|esta) (la tienda|el local)|\btienda fisica|\blocal\b|\bsucursal"
    ),
    "envios": re.compile(
        r"\benvio|\benvian|\benvias|\bmandan\b|\bcuanto (se )?(demora|tarda|tardan|demoran)|\ben llegar\b|"
        r"\bdomicilio|\bdespach|\bentrega|\bgastos de envio|\bcuanto tarda|\brecog|"
        r"\bllega(n|ria)? (a|en|hasta)\b|\bhacen envios|\bmandar a\b|\bshipping|\bcourier"
    ),
    "devoluciones": re.compile(
        r"\bdevolu|\bdevolver|\bdevuelv|\bgarantia|\breembols|\bregresar|\bregreso\b|\bpuedo cambiar|"
        r"\bcambio de producto|\bcambiar (el|un) producto|"
        r"\bsi no me (gusta|sirve|queda)"
    ),
    "telefono": re.compile(
        r"\b(su|el|un) (telefono|numero) de (la tienda|contacto)|\bnumero de la tienda|\b(telefono|numero|whatsapp) "
        r"(para|de) (llamar|contacto|contactar|hablar)|\b(tienen|teneis|tenes|hay) (un )?(telefono|whatsapp|numero)\b|"
        r"\bcomo (los|las|les) (llamo|contacto)|\b(pasas|pasa|das|da|dejas|deja|tienen|teneis|tenes|hay)( un| el| su)? "
        r"(telefono|whatsapp|numero|celular)\b"
    ),
}

FILLER = frozenset(
    """hola buenas buenos dias tardes noches quiero quisiera queria busco buscaba buscando ando necesito tienen tienes
    teneis hay venden vendeis me gustaria comprar compro dame deme ponme anade anademe agrega agregame llevo lleva
    precio precios cuanto cuesta cuestan vale valen sale salen stock disponible disponibles quedan queda existencias
    unidades unidad dejas deja dejar dejarias recomiendas recomienda recomiendame sugieres aconsejas
    algun alguna algunos algunas que cual cuales
    del de la el los las un una unos unas por favor gracias mas y o tambien otro otra favor sobre ver mirar
    tengo puedo podria podrias puede saber info informacion ese esa este esta eso esos esas es son para mi
    modelo modelos producto productos articulo articulos tienda catalogo opciones opcion tipo tipos barato
    baratos barata baratas caro cara caros caras mejor bueno buena algo cosa cosas me lo le quita quitame quitar
    elimina eliminar saca sacame borra borrar cancela sean sea cambia cambialo pon carrito cesta hazme haz reserva
    vez solo si sip vale ok claro perfecto adelante anadelo anademelo dale va sale orale listo porfa hay tenes
    tendran tendras tendrian manejan manejas venden vendes consigo conseguir encuentro encontrar mostrar muestrame
    muestra ensename ensenar enseñame quiera quisieramos queremos necesitamos necesitaria regala regalas regalame
    mandame manda envia enviame pasame pasas das da dan vendes vende vendeme echame suma sumale agregale agregue
    anada apartame separame encargo encargar pido pedir pues bien entonces ahora ahorita al tiro che parce po
    weon wey guey amigo amiga senor senora senorita joven chido bacano bacan chevere genial super re muy
    bastante cuantos cuantas disponibilidad economico economica economicos economicas menos hasta entre maximo
    minimo euros euro pesos peso lucas luca dolares usd mil presupuesto comparar diferencia diferencias versus vs
    cual mejor peor grande grandes chico chica pequeno pequena potente vaya ya ok okay vos usted ustedes ustedes
    les nos te tu su sus aqui alli ahi hacer hago llevar llevarme comprarme necesitaria buscaria gustaria estoy
    estaba estamos interesa interesado interesada interesaria cuesten valga salga tal como esto estos estas
    oye oiga oigan disculpe disculpa disculpen perdon perdona perdone mira mire fijate gusta gustan encanta encantan
    todo toda todos todas nada mucho mucha muchos muchas poco poca pocos pocas cuanta cuanto cuantos verdad
    nuevo nueva tenga tengan tengas queden quedaran queden favorcito xfa pls gracias mil alguno en adios chao chau
    bye luego pronto hasta vemos saludos muchas descuento descuentos rebaja rebajas especial oferta dejarlo
    dejarla dejas a quedo pillo mismo misma mismos mismas lindo linda bonito bonita chulo chula padre chidos
    guapa guapo crack mero merito nomas porfis mola guay uy espera ojo oye mira docena docenas perdona perdon
    disculpa disculpe fa sirve sirven igual""".split()
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


@dataclass(frozen=True)
class Restricciones:
    """Price limits and superlatives a message asks for ("menos de 20", "la más barata")."""

    precio_max: Decimal | None = None
    precio_min: Decimal | None = None
    orden: str | None = None  # "precio_asc", "precio_desc", "tamano_desc", "tamano_asc"


@lru_cache(maxsize=16_384)
def _corregir_token(word: str) -> str:
    """Chat spellings and one-letter typos of the words the rules key on ("kiero", "questa", "nesesito")."""
    if word in CHAT:
        return CHAT[word]
    collapsed = re.sub(r"([a-z])\1{2,}", r"\1", word)
    if collapsed != word:
        word = collapsed
    if len(word) > 2 and word[-1] == word[-2] and word[-1] in "aeiou" and word[:-1] in _LEXICO:
        return word[:-1]
    if word in CHAT:
        return CHAT[word]
    if len(word) >= 5 and word not in _LEXICO and not word.isdigit():
        for clave in _PALABRAS_CLAVE:
            if word.startswith(clave) or clave.startswith(word):
                continue
            if abs(len(clave) - len(word)) <= 1 and clave[0] in (word[0], "c" if word[0] in "kq" else word[0]):
                if SequenceMatcher(None, word, clave).ratio() >= 0.83:
                    return clave
    return word


_LEXICO = FILLER | AFIRMACIONES | NEGACIONES | frozenset(_PALABRAS_CLAVE) | frozenset(CHAT.values())


@lru_cache(maxsize=4_096)
def normalizar(texto: str) -> str:
    """Folded text with punctuation turned into spaces and chat spellings mapped ("kiero 2 x fa" -> "quiero 2 por
    favor"); keeps digits, letters, `%`, `@` and `.` inside e-mails and decimals."""
    base = re.sub(r"[^a-z0-9%@.+ ]", " ", fold(_EMAIL.sub(lambda m: m.group(0).replace(" ", ""), texto)))
    base = re.sub(r"(?<!\d)\.|\.(?!\d|[a-z0-9]+@|[a-z]{2,}\b)", " ", base)
    words = [_corregir_token(w) for w in base.split()]
    words = [_MEDIDAS.get(w, w) if i and words[i - 1].isdigit() else w for i, w in enumerate(words)]
    return re.sub(r"\s+", " ", " ".join(w for w in words if w)).strip(" .")


def contacto(texto: str) -> Contacto:
    """Name, e-mail and phone written in a message, in any order, with or without "me llamo" / "soy"."""
    email_match = _EMAIL.search(texto)
    sin_email = _EMAIL.sub(" , ", texto)
    tel_match = _TELEFONO.search(sin_email)
    telefono = re.sub(r"\s+", " ", tel_match.group(0)).strip() if tel_match else None
    if telefono is not None and len(re.sub(r"\D", "", telefono)) < 7:
        telefono, tel_match = None, None
    nombre_match = _NOMBRE.search(sin_email)
    nombre = _limpiar_nombre(nombre_match.group(1)) if nombre_match else None
    if nombre is None and (email_match or tel_match):
        resto = _TELEFONO.sub(" , ", sin_email) if tel_match else sin_email
        for trozo in re.split(r"[,;:\n/|()]|\by\b|\s[-–—]\s", resto):
            candidato = nombre_suelto(trozo)
            if candidato:
                nombre = candidato
                break
    return Contacto(
        nombre=nombre,
        email=email_match.group(0).lower().strip(".") if email_match else None,
        telefono=telefono,
    )


def _limpiar_nombre(raw: str) -> str | None:
    words = [w for w in re.split(r"\s+", raw.strip(" '-")) if w]
    while words and fold(words[-1]) in _NO_NOMBRE:
        words.pop()
    nombre = " ".join(words)
    if len(nombre) < 2 or any(fold(w) in FILLER | AFIRMACIONES for w in words[:1]):
        return None
    return nombre.title() if nombre.islower() or nombre.isupper() else nombre


def nombre_suelto(texto: str) -> str | None:
    """A bare name ("Pedro Gómez", "ana ruiz"): 1-4 words of letters, none of them a request or shop word."""
    words = [w for w in re.split(r"[\s.!¡¿?]+", texto.strip()) if w]
    while words and fold(words[0]) in _NO_NOMBRE:
        words.pop(0)
    while words and fold(words[-1]) in _NO_NOMBRE:
        words.pop()
    if not 1 <= len(words) <= 4:
        return None
    for word in words:
        plain = fold(word)
        if not re.fullmatch(r"[a-z][a-z'-]*", plain) or len(plain) < 2:
            return None
        if plain in _LEXICO or plain in _NO_NOMBRE or plain in NUMEROS or plain in ORDINALES:
            return None
        if plain in COLORES and len(words) == 1:
            return None  # "roja" alone is a colour; "Rosa Peña" is a person
        if plain in CHAT or _corregir_token(plain) != plain:
            return None
    if len(words) == 1 and len(words[0]) < 3:
        return None
    nombre = " ".join(words)
    return nombre.title() if nombre.islower() or nombre.isupper() else nombre


def _sin_restricciones(norm: str) -> str:
    """The text without price limits and amounts of money (their numbers are not quantities)."""
    norm = re.sub(r"\b(cambi\w*) (?:a|en|por) (\d{1,4})\b", r"\1 \2", norm)  # "cambia a 2" is a quantity, not money
    norm = re.sub(r"\b(a|en|por) \d{1,7}(?=( (me|te|se|y me|si|o algo|euros?|pesos|lucas|dolares)\b|$))", " ", norm)
    norm = _RANGO.sub(" ", norm)
    norm = _PRECIO_MAX.sub(" ", norm)
    norm = _PRECIO_MIN.sub(" ", norm)
    return re.sub(r"\b\d{1,7}(?:[.,]\d{1,2})?\s*" + MONEDA + r"(?!\w)", " ", norm)


def cantidad(texto: str) -> int | None:
    """The quantity asked for: digits or Spanish words ("dos", "un par", "media docena"); None when none is given."""
    norm = _sin_restricciones(normalizar(_EMAIL.sub(" ", texto)))
    norm = _TELEFONO.sub(" ", norm)
    if "media docena" in norm:
        return 6
    docenas = re.search(r"\b(\d+|un|una|dos|tres)\s+docenas?\b", norm)
    if docenas:
        word = docenas.group(1)
        return 12 * (int(word) if word.isdigit() else NUMEROS[word])
    for match in re.finditer(
        r"(?<![\d.,])(?<!\bde )(?<!\btalla )(?<!\bmodelo )\b(\d{1,4})\b(?![.,]\d)(?!\s*" + UNIDADES + r"\b)(?!\s*%)",
        norm,
    ):
        value = int(match.group(1))
        if value > 0 and not _ordinal_digit(norm, match.start()):
            return value
    words = norm.split()
    for i, word in enumerate(words):
        if word in NUMEROS and word not in {"un", "una", "uno"}:
            if word == "par" and (i == 0 or words[i - 1] not in {"un", "una"}):
                continue
            if i and words[i - 1] in {"los", "las"} and any(w in {"un", "una", "uno"} for w in words):
                continue  # "la más barata de las dos, dame una"
            return NUMEROS[word]
    if any(word in {"un", "una", "uno"} for word in words):
        return 1
    return None


def cantidad_explicita(texto: str) -> bool:
    """A quantity stated on purpose ("3", "dos", "media docena"), not just the article "un"/"una"."""
    n = cantidad(texto)
    if n is None:
        return False
    return n > 1 or bool(re.search(r"(?<!\bde )\b1\b|\buno solo\b|\bsolo uno\b|\bsolo una\b", normalizar(texto)))


def mas_unidades(texto: str) -> bool:
    """ "otro", "uno más", "otros 2", "añade otra": more units on top of those in the cart."""
    return bool(re.search(r"\b(otro|otra|otros|otras|mas|adicional|adicionales|extra)\b", normalizar(texto)))


_CARACTERISTICA = re.compile(
    r"\bde que (color|colores|tamano|material|medida|medidas|marca|talla)\b|\bcuanto (mide|miden|pesa|pesan|dura|"
    r"duran)\b|\bque (tamano|medidas|capacidad|potencia|material|talla)\b|\bcomo (es|son)\b|\bque tal (es|son|esta)\b|"
    r"\bsirve para\b|\bcuant[oa]s \w+ (tiene|trae|lleva|es|son|caben|hace|incluye)\b|\bpara cuant[oa]s\b|"
    r"\bque (trae|incluye|lleva)\b|\bcaracteristicas\b|"
    r"\bes (bueno|buena|resistente|facil)\b"
)
ENVASES = frozenset("bolsa bolsas saco sacos caja cajas paquete paquetes pack packs bote botes lata latas".split())


RASGOS = frozenset(
    """color colores tamano medida medidas mide miden pesa pesan peso material capacidad potencia marca talla tiempo
    metros metro cm largo ancho alto dura duran bateria tintos tazas personas cabezales velocidades""".split()
)


def solo_rasgo(word: str) -> bool:
    """A word that describes rather than names: a colour, a size, "grande", "9w"."""
    return (
        word in COLORES
        or word
        in {"grande", "grandes", "pequeno", "pequena", "chico", "chica", "mediano", "mediana", "xl", "s", "m", "l"}
        or bool(re.fullmatch(r"\d+[a-z]{0,3}", word))
    )


def caracteristica(texto: str) -> bool:
    """A question about a product's features ("¿de qué color es?", "¿cuánto mide?", "¿qué tal es?")."""
    return bool(_CARACTERISTICA.search(normalizar(texto)))


def cambio(texto: str) -> bool:
    """ "mejor la azul", "cámbiala por la de 600", "en vez de esa, la otra": swap a product for another."""
    return bool(
        re.search(
            r"\b(mejor|cambia\w*|en vez|en lugar|prefiero|reemplaza\w*|sustituye\w*)\b",
            normalizar(texto),
        )
    )


def todas(texto: str) -> bool:
    """ "las que queden", "todas las que tengas": every unit in stock."""
    return bool(_TODAS.search(normalizar(texto)))


def _ordinal_digit(norm: str, start: int) -> bool:
    """`el 2`, `numero 2`, `opcion 2` refer to a position in the list, not a quantity."""
    before = norm[:start].split()[-1:] if start else []
    return bool(before) and before[0] in {"el", "la", "numero", "opcion", "n", "no", "del", "nº", "nro"}


def ordinal(texto: str) -> int | None:
    """A position in the last list shown: "el segundo", "la primera", "el 2", "opción 3", "el último" (-1)."""
    norm = normalizar(texto)
    for word in norm.split():
        if word in ORDINALES:
            return ORDINALES[word]
        if word in {"ultimo", "ultima"}:
            return -1
    match = re.search(r"\b(?:el|la|del|numero|opcion|nro)\s+(\d{1,2})\b(?!\s*" + UNIDADES + r"\b)", norm)
    return int(match.group(1)) if match else None


def referencia_demostrativa(texto: str) -> bool:
    """ "ese", "esa", "lo quiero", "agrégala": the product just discussed."""
    norm = normalizar(texto)
    return bool(_REFERENCIA.search(norm) or any(_ENCLITICO.fullmatch(w) for w in norm.split()))


def sin_contacto(texto: str) -> str:
    """The message without the customer's name, e-mail and phone (what is left is the request)."""
    limpio = _EMAIL.sub(" ", texto)
    limpio = _TELEFONO.sub(" ", limpio)
    limpio = _NOMBRE.sub(" ", limpio)
    limpio = re.sub(
        r"\b(mi (email|correo|mail|telefono|movil|cel|celular|whatsapp)( es)?|y mi|email:?|correo:?)\b",
        " ",
        limpio,
        flags=re.IGNORECASE,
    )
    return re.sub(r"\s+", " ", limpio).strip(" ,.;")


def pide(texto: str) -> bool:
    """A part of a message that asks for something: with an article, a number, a purchase or search verb."""
    norm = normalizar(texto)
    return bool(
        re.match(
            r"^(y\s+)?(tambien\s+)?(el|la|los|las|un|una|unos|unas|\d+|dos|tres|cuatro|cinco|media|otro|otra)\b", norm
        )
        or _AGREGAR.search(norm)
        or _NECESIDAD.search(norm)
        or cantidad_explicita(texto)
    )


def compra(texto: str) -> bool:
    """The message uses a purchase verb ("quiero", "agrégame", "me lo llevo")."""
    return bool(_AGREGAR.search(normalizar(texto)))


def aplaza(texto: str) -> bool:
    """The customer puts the decision off ("lo voy a pensar", "ahorita le confirmo")."""
    return bool(_APLAZAR.search(normalizar(texto)))


def el_otro(texto: str) -> bool:
    """ "el otro", "la otra": the other product of the last pair."""
    return bool(re.search(r"\b(el|la|lo) otr[oa]\b|\bmejor (el|la) otr[oa]\b", normalizar(texto)))


def atributo(texto: str) -> str | None:
    """The distinguishing words of "el de 750W" / "la de 6 tazas" / "la roja"."""
    norm = normalizar(texto)
    match = re.search(r"\b(?:el|la|los|las|uno|una) de ([a-z0-9 ]{1,40})", norm)
    words: list[str] = []
    if match:
        words = [w for w in match.group(1).split() if w not in FILLER and w not in NUMEROS]
    words += [w for w in norm.split() if w in COLORES and w not in words]
    return " ".join(words[:3]) or None


def restricciones(texto: str) -> Restricciones:
    """Price ceiling or range and the superlative asked for."""
    norm = normalizar(texto)
    maximo = minimo = None
    if rango := _RANGO.search(norm):
        a, b = sorted(Decimal(x.replace(",", ".")) for x in rango.groups())
        minimo, maximo = a, b
    else:
        if tope := _PRECIO_MAX.search(norm):
            maximo = Decimal(tope.group(1).replace(",", "."))
        if piso := _PRECIO_MIN.search(norm):
            minimo = Decimal(piso.group(1).replace(",", "."))
    orden = None
    if sup := _SUPERLATIVO.search(norm):
        grado, rasgo = sup.group(1), sup.group(2) or sup.group(4) or sup.group(5) or ""
        if rasgo.startswith(("barat", "economic")) or (grado == "menos" and rasgo.startswith("car")):
            orden = (
                "precio_asc" if not (grado == "menos" and rasgo.startswith(("barat", "economic"))) else "precio_desc"
            )
        elif rasgo.startswith("car") or rasgo == "peor":
            orden = "precio_desc"
        elif rasgo == "mejor" and sup.group(3):
            orden = "precio_asc"
        elif rasgo.startswith(("grande", "potente", "capacidad", "larg")):
            orden = "tamano_desc" if grado != "menos" else "tamano_asc"
        elif rasgo.startswith(("chic", "pequen", "cort")):
            orden = "tamano_asc" if grado != "menos" else "tamano_desc"
    return Restricciones(precio_max=maximo, precio_min=minimo, orden=orden)


def tema_tienda(texto: str) -> str | None:
    """The shop topic a question is about (horario, direccion, envios, devoluciones, formas_pago, telefono)."""
    norm = normalizar(texto)
    for tema, patron in _TEMAS.items():
        if patron.search(norm):
            return tema
    return None


_MULETILLAS = frozenset(
    {"ya", "vale", "ok", "okey", "bueno", "pues", "entonces", "si", "venga", "dale", "listo", "oye", "mira", "ah", "eh"}
)


def _sin_muletillas(norm: str) -> str:
    """The message without the yes-words and fillers: "ya, 5 de las de 9 watts" -> "5 de las de 9 watts"."""
    words = norm.split()
    i = 0
    while i < len(words) - 1 and words[i].strip(",.!") in _MULETILLAS:
        i += 1
    return " ".join(words[i:])


def afirmacion(texto: str) -> bool:
    """An answer that says yes ("sí", "dale", "de una", "órale", "ya po"), alone or leading the message."""
    norm = normalizar(texto)
    if not norm or negacion(texto):
        return False
    words = norm.split()
    if "gracias" in words and all(
        w in {"ok", "vale", "bueno", "listo", "ya", "gracias", "muchas", "mil"} for w in words
    ):
        return False  # "ok, gracias" closes the conversation; it does not accept an offer
    if words[0] in AFIRMACIONES and words[0] != "ya":
        return True
    if words[0] == "ya" and (
        len(words) == 1
        or words[1].isdigit()
        or words[1] in NUMEROS
        or words[1] in AFIRMACIONES
        or words[1] in {"po", "pues", "entonces", "bacan", "dale"}
        or _ENCLITICO.fullmatch(words[1])
    ):
        return True  # Chile: "ya" is yes ("ya, dos", "ya po", "ya, agrégala")
    if any(norm == f or norm.startswith(f + " ") for f in AFIRMACIONES_FRASES):
        return True
    cortesia = {"po", "pues", "gracias", "senor", "senora", "senorita", "amigo", "amiga", "entonces", "muchas", "mil"}
    return (
        len(words) <= 5
        and any(w in AFIRMACIONES and w != "ya" for w in words)
        and all(w in AFIRMACIONES or w in cortesia or w in NUMEROS for w in words)
    ) or (len(words) <= 2 and all(w in AFIRMACIONES or w in cortesia for w in words))


def negacion(texto: str) -> bool:
    """An answer that says no ("no", "mejor no", "déjalo", "nada", "ni ahí"), alone or leading the message."""
    norm = normalizar(texto)
    if not norm:
        return False
    words = norm.split()
    if _APLAZAR.search(norm):
        return True
    if any(norm == f or norm.startswith(f + " ") for f in NEGACIONES_FRASES):
        return True
    if any(f" {f} " in f" {norm} " for f in NEGACIONES_DONDE_SEA):
        return True
    return words[0] in NEGACIONES and (len(words) <= 4 or words[1] in {"gracias", "por", "quiero", "mejor"})


def palabras_producto(texto: str) -> str:
    """The words that name a product, without the request around them ("¿tienen taladros?" -> "taladros")."""
    norm = _sin_restricciones(normalizar(_EMAIL.sub(" ", texto)))
    norm = _TODAS.sub(" ", _TELEFONO.sub(" ", norm))  # "dame las que haya": how many, not what
    norm = re.sub(r"\b(media docena|docenas?)\b", " ", norm)
    norm = re.sub(r"\b(\d+|un|una|dos|tres|cuatro|cinco|seis|par|media docena)\s+" + _ENVASES + r"\b", r"\1", norm)
    norm = re.sub(r"\b(el|la|los|las|un|una)\s+" + _ENVASES + r"\s+de\s+(?=\d)", " ", norm)
    tokens = norm.split()
    words = []
    for i, w in enumerate(tokens):
        previo = tokens[i - 1] if i else ""
        siguiente = tokens[i + 1] if i + 1 < len(tokens) else ""
        if re.fullmatch(r"\d{1,4}", w):
            # "la de 600", "talla 5", "600 w": a number that describes the product, not how many.
            if siguiente in _UNIDADES_CORTAS:
                words.append(w + siguiente)
            elif previo in {"de", "talla", "modelo", "numero"} and i >= 2:
                words.append(w)
            continue
        if w in _UNIDADES_CORTAS and previo.isdigit():
            continue
        if (
            w not in FILLER
            and not _ENCLITICO.fullmatch(w)
            and w not in NUMEROS
            and w not in ORDINALES
            and w not in AFIRMACIONES
            and w not in NEGACIONES
        ):
            words.append(w)
    return " ".join(words)


_CALIFICATIVO = re.compile(r"^(?:de|del|con|para|pa|sin|en|color|talla|tamano|tipo|modelo)\b")


def _con_sus_calificativos(partes: list[str]) -> list[str]:
    """A part that only qualifies the one before it stays with it: "bombillas de rosca gorda, de luz cálida" is one
    product with two qualities, not two products; "2 cajas de colores, 5 cuadernos" stays two."""
    unidas: list[str] = []
    for parte in partes:
        medida = re.fullmatch(r"\d+(?:[.,]\d+)?\s?(?:w|v|l|ml|kg|g|cm|mm|m|gb)", parte)  # "lamparitas led, 9w"
        if unidas and (medida or (_CALIFICATIVO.match(parte) and not cantidad_explicita(parte))):
            unidas[-1] = f"{unidas[-1]} {parte}"
        else:
            unidas.append(parte)
    return unidas


def segmentos(texto: str) -> list[str]:
    """A message that asks for several products split into one request each ("2 bombillas y una mochila")."""
    partes = []
    cuerpo = _EMAIL.sub(" ", texto)
    encabezado, dos_puntos, lista = cuerpo.partition(":")
    if dos_puntos and re.search(r"[,;\n]|\by\b", lista) and not re.search(r"\d", encabezado):
        cuerpo = lista  # "lista de útiles: 2 cajas de colores, ...": the heading names no product
    for trozo in re.split(r"[,;+\n]", cuerpo):
        norm = normalizar(trozo)
        partes += [
            p.strip() for p in re.split(r"\by\b|\be\b|\bmas\b(?= \d| un| una| dos| tres)|\btambien\b|\bademas\b", norm)
        ]
    norm = normalizar(_EMAIL.sub(" ", texto))
    partes = _con_sus_calificativos([p for p in partes if p])
    # A part with product words, or with just a quantity ("deme 2 y una arena": 2 of the one in focus).
    utiles = [p for p in partes if palabras_producto(p) or cantidad_explicita(p) or todas(p)]
    con_producto = [p for p in utiles if palabras_producto(p)]
    return utiles if len(utiles) >= 2 and con_producto else [norm]


def todos_los_mostrados(texto: str) -> int | None:
    """ "me llevo las dos", "ambos", "los tres": how many of the products just discussed (None if not said)."""
    norm = normalizar(texto)
    if re.search(r"\b(ambos|ambas)\b", norm):
        return 2
    match = re.search(r"\b(?:los|las|todos los|todas las)\s+(dos|tres|cuatro|cinco)\b(?!\s+(?:de|del)\b)", norm)
    return NUMEROS[match.group(1)] if match else None


def detectar(texto: str, *, esperando: str | None = None) -> Intencion:
    """The intent of a message by rules; `esperando` is the step the dialogue waits for (datos, confirmacion)."""
    norm = normalizar(texto)
    if not norm:
        return Intencion.DESCONOCIDA
    if _HUMANO.search(norm):
        return Intencion.HUMANO
    if _RECHAZO.search(norm):
        return Intencion.RECHAZO
    if _REGATEO.search(norm):
        return Intencion.REGATEO
    if _APLAZAR.search(norm) and not _CONFIRMAR.search(norm.replace("confirmo luego", "")):
        return Intencion.NEGAR  # "bueno, lo pienso": not a search for "pienso"
    datos = contacto(texto)
    resto = palabras_producto(_EMAIL.sub(" ", texto)) if datos.email else ""
    if (datos.email or datos.nombre or (datos.telefono and not _AGREGAR.search(norm))) and not (
        resto and _AGREGAR.search(norm)
    ):
        return Intencion.DATOS_CLIENTE
    if _CANCELAR.search(norm):
        return Intencion.CANCELAR
    if esperando == "confirmacion" and (afirmacion(texto) or _CONFIRMAR.search(norm)) and not negacion(texto):
        return Intencion.CONFIRMAR
    if re.search(r"\bconfirm", norm) and not negacion(texto):
        return Intencion.CONFIRMAR
    if _CORREGIR.search(norm) and cantidad(texto) is not None and not _AGREGAR.search(norm):
        return Intencion.CORREGIR  # "no, cambie a 1": the no is to the quantity, not to the order
    if esperando in ("ofrecido", "eligiendo", "confirmacion", "sin_stock") and negacion(texto):
        return Intencion.NEGAR
    if (
        esperando == "eligiendo"
        and (ordinal(texto) is not None or atributo(texto) or _superlativo(texto))
        and not (_PRECIO.search(norm))
    ):
        return Intencion.AGREGAR  # "el segundo" after "¿cuál de ellas quiere?"
    if esperando in ("ofrecido", "sin_stock") and afirmacion(texto):
        return Intencion.AGREGAR  # "sí" to "¿se lo añado al carrito?"
    if tema_tienda(texto) and not (cantidad_explicita(texto) and _AGREGAR.search(norm)):
        return Intencion.INFO_TIENDA
    if _QUITAR.search(norm):
        return Intencion.QUITAR
    if _CORREGIR.search(norm) and (cantidad(texto) is not None or todas(texto)):
        return Intencion.CORREGIR
    if _COMPARAR.search(norm):
        return Intencion.COMPARAR
    if _VER_CARRITO.search(norm) and (not palabras_producto(texto) or re.search(r"\b(carrito|cesta)\b", norm)):
        return Intencion.VER_CARRITO
    compra = _AGREGAR.search(norm) or re.match(
        r"^(y\s+)?(tambien\s+|ademas\s+)?(\d+|un|uno|una|unos|unas|dos|tres|cuatro|cinco|seis|media docena)\b",
        _sin_muletillas(norm),
    )
    if not compra and len(segmentos(texto)) >= 2 and re.search(r"(^|\s)\d{1,3}\s+[a-z]", norm):
        compra = re.search(r"\d", norm)  # "lista de útiles: 2 cajas de colores, 5 cuadernos a4 y un estuche"
    explicita = cantidad_explicita(texto)
    # "quiero una cafetera, ¿cuál es la más barata?": the question comes first; the purchase waits for a yes.
    pregunta = not explicita and bool("?" in texto or _PREGUNTA.search(norm))
    if (
        compra
        and not pregunta
        and (cantidad(texto) is not None or ordinal(texto) is not None or _has_ref(texto) or todas(texto))
        and not _PRECIO.search(norm)
    ):
        return Intencion.AGREGAR
    if _NECESIDAD.search(norm) and explicita and palabras_producto(texto):
        return Intencion.AGREGAR  # "necesito 3 bombillas LED"
    if _PRECIO.search(norm):
        return Intencion.PRECIO
    if _STOCK.search(norm):
        return Intencion.STOCK
    if _RECOMENDAR.search(norm):
        return Intencion.RECOMENDAR
    r = restricciones(texto)
    if r.precio_max is not None or r.precio_min is not None:
        return Intencion.PRESUPUESTO
    if compra and palabras_producto(texto) and not pregunta:
        return Intencion.AGREGAR
    if _DESPEDIDA.search(norm) and not palabras_producto(texto):
        return Intencion.DESPEDIDA
    if _SALUDO.search(norm) and not palabras_producto(texto):
        return Intencion.SALUDO
    if palabras_producto(texto):
        return Intencion.BUSCAR
    if r.orden is not None:
        return Intencion.PRECIO
    if afirmacion(texto):
        return Intencion.CONFIRMAR if esperando == "confirmacion" else Intencion.DESCONOCIDA
    if negacion(texto):
        return Intencion.NEGAR
    if _DESPEDIDA.search(norm):
        return Intencion.DESPEDIDA
    if _SALUDO.search(norm):
        return Intencion.SALUDO
    return Intencion.DESCONOCIDA


def _superlativo(texto: str) -> bool:
    return restricciones(texto).orden is not None


def _has_ref(texto: str) -> bool:
    return referencia_demostrativa(texto) or atributo(texto) is not None or el_otro(texto) or _superlativo(texto)
