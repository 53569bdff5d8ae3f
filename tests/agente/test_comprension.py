"""Reading a message as people write it: details without "me llamo", quantities, yes/no across dialects, references.

These phrasings are not taken from the conversation corpus (`eval/dialogos/`): the corpus measures, these pin the
rules that generalise.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from agente_vendedor.agente import intents
from agente_vendedor.agente.intents import Intencion


@pytest.fixture(autouse=True)
def _clean_index() -> None:
    """Pure text rules: no database or index to reset (overrides the package's autouse fixture)."""


@pytest.mark.parametrize(
    ("texto", "nombre", "email", "telefono"),
    [
        ("Lucía Gómez, lucia.gomez@correo.es", "Lucía Gómez", "lucia.gomez@correo.es", None),
        ("jose perez jose.p@mail.com 600 12 34 56", "Jose Perez", "jose.p@mail.com", "600 12 34 56"),
        ("mi correo es ana@x.org y soy Ana Ruiz", "Ana Ruiz", "ana@x.org", None),
        ("+54 9 11 2233 4455 / Marcos Díaz / marcos@d.com", "Marcos Díaz", "marcos@d.com", "+54 9 11 2233 4455"),
        ("a nombre de Pilar Soto, pilar@soto.cl", "Pilar Soto", "pilar@soto.cl", None),
    ],
)
def test_contact_details_in_any_order_with_or_without_a_cue(
    texto: str, nombre: str, email: str, telefono: str | None
) -> None:
    datos = intents.contacto(texto)
    assert (datos.nombre, datos.email, datos.telefono) == (nombre, email, telefono)


@pytest.mark.parametrize("texto", ["la del medio", "bueno gracias", "dale", "la roja", "por favor", "simon"])
def test_request_words_are_never_taken_for_a_name(texto: str) -> None:
    assert intents.nombre_suelto(texto) is None


@pytest.mark.parametrize(
    ("texto", "cantidad"),
    [
        ("ponme un par", 2),
        ("media docena", 6),
        ("dos docenas", 24),
        ("quiero 4", 4),
        ("la sartén de 24", None),  # a size, not how many
        ("el saco de 15 kilos", None),
        ("me la dejas en 30 y me la llevo", None),  # money, not units
        ("cinco de esas", 5),
        ("la más cara de las tres, dame una", 1),
    ],
)
def test_quantities_are_told_apart_from_sizes_and_money(texto: str, cantidad: int | None) -> None:
    assert intents.cantidad(texto) == cantidad


@pytest.mark.parametrize("texto", ["sip", "dale", "órale pues", "de una", "va", "claro que sí", "ya po", "sisas", "ok"])
def test_yes_across_dialects(texto: str) -> None:
    assert intents.afirmacion(texto) and not intents.negacion(texto)


@pytest.mark.parametrize(
    "texto", ["nop", "mejor no", "déjalo", "nada", "ni ahí", "nel", "ahorita lo pienso", "luego te confirmo"]
)
def test_no_and_putting_off_across_dialects(texto: str) -> None:
    assert intents.negacion(texto) and not intents.afirmacion(texto)


def test_a_deferral_to_the_summary_is_never_a_confirmation() -> None:
    assert intents.detectar("vale, déjame hablarlo con mi pareja", esperando="confirmacion") == Intencion.NEGAR
    assert intents.detectar("sí, confírmalo", esperando="confirmacion") == Intencion.CONFIRMAR


@pytest.mark.parametrize(
    ("texto", "esperado"),
    [
        ("kiero comprar 3 tazas", "quiero comprar 3 tazas"),
        ("q precio tiene xfa", "que precio tiene por favor"),
        ("siiii daleee", "si dale"),
        ("cuanto questa", "cuanto cuesta"),
    ],
)
def test_chat_spelling_is_read_as_the_words_it_stands_for(texto: str, esperado: str) -> None:
    assert intents.normalizar(texto) == esperado


def test_budgets_ranges_and_superlatives() -> None:
    assert intents.restricciones("algo que no pase de 25 euros").precio_max == Decimal("25")
    rango = intents.restricciones("entre 10 y 30")
    assert (rango.precio_min, rango.precio_max) == (Decimal("10"), Decimal("30"))
    assert intents.restricciones("¿cuál es la más económica?").orden == "precio_asc"
    assert intents.restricciones("el más grande").orden == "tamano_desc"
    assert intents.restricciones("la menos cara").orden == "precio_asc"


@pytest.mark.parametrize(
    ("texto", "intencion"),
    [
        ("¿a qué hora cierran hoy?", Intencion.INFO_TIENDA),
        ("¿aceptan tarjeta?", Intencion.INFO_TIENDA),
        ("¿me lo dejas en 20?", Intencion.REGATEO),
        ("¿qué sale más barato, el termo o la taza?", Intencion.COMPARAR),
        ("algo por menos de 15 euros", Intencion.PRESUPUESTO),
        ("necesito 3 linternas", Intencion.AGREGAR),
        ("necesito una linterna", Intencion.BUSCAR),  # a need without a number is a question first
        ("quiero una tetera, ¿cuál es la más barata?", Intencion.BUSCAR),
        ("agrégamela", Intencion.AGREGAR),
        ("quítale la tetera", Intencion.QUITAR),
    ],
)
def test_intents_beyond_the_scripted_phrasing(texto: str, intencion: Intencion) -> None:
    assert intents.detectar(texto) == intencion


def test_several_products_in_one_message_are_split_into_requests() -> None:
    assert intents.segmentos("2 termos, una tetera y tres tazas") == ["2 termos", "una tetera", "tres tazas"]
    assert intents.segmentos("deme 2 y una tetera") == ["deme 2", "una tetera"]


@pytest.mark.parametrize(
    ("texto", "esperando", "intencion"),
    [
        ("vale, 3 de las de 18V", None, Intencion.AGREGAR),  # a yes-word before the quantity
        ("bueno pues uno de esos", "eligiendo", Intencion.AGREGAR),
        ("no, cámbialo a 4", "confirmacion", Intencion.CORREGIR),  # the no is to the quantity, not the order
        ("cambia a 2", "datos_cliente", Intencion.CORREGIR),
        ("no, mejor no", "confirmacion", Intencion.NEGAR),
    ],
)
def test_yes_words_and_corrections_around_a_quantity(texto: str, esperando: str | None, intencion: Intencion) -> None:
    assert intents.detectar(texto, esperando=esperando) == intencion


def test_a_change_of_quantity_is_not_an_amount_of_money() -> None:
    assert intents.cantidad("cámbialo a 4") == 4
    assert intents.cantidad("me lo dejas a 40") is None


def test_qualifiers_after_a_comma_stay_with_their_product_and_a_list_heading_is_dropped() -> None:
    assert intents.segmentos("un taladro sin cable, de los de 18V") == ["un taladro sin cable de los de 18v"]
    assert intents.segmentos("un taladro sin cable, 18V") == ["un taladro sin cable 18v"]
    assert intents.segmentos("material: 2 martillos, una sierra y 3 mangueras") == [
        "2 martillos",
        "una sierra",
        "3 mangueras",
    ]


def test_how_many_words_are_not_product_words() -> None:
    assert intents.palabras_producto("dame las que queden") == ""
    assert intents.palabras_producto("oiga, disculpe, ¿tienen teteras?") == "teteras"
    assert intents.todas("dame las que queden")


def test_a_name_before_a_dash() -> None:
    assert intents.contacto("Laura Gil — laura@gil.es").nombre == "Laura Gil"
