"""The panel in a real browser: Playwright driving Debian's Chromium against the app served by uvicorn.

Never downloads a browser: `/usr/bin/chromium` comes from apt (scripts/test.sh installs it when missing). Any console
error in the browser (a CSP violation, a script error) fails the test.
Screenshots of every page go to docs/panel/ (written on the SQLite run; the PostgreSQL run checks the same pages).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import openpyxl
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, ConsoleMessage, FilePayload, Page, expect, sync_playwright
from sqlalchemy import func, select

from agente_vendedor.productos.models import Producto
from tests.conftest import TEST_PASSWORD, StaffMember
from tests.rag.conftest import seed_catalog

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "panel"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module; a missing browser fails (scripts/test.sh installs it), never skips."""
    if not CHROMIUM.exists():
        pytest.fail("falta /usr/bin/chromium: apt-get install chromium (scripts/test.sh lo instala)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def abrir(browser: Browser, live_url: str) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh browser context (own cookies); fail the test on any console error (CSP included)."""
    contexts = []
    errores: list[str] = []

    def make(*, ancho: int = 1280, alto: int = 800) -> Page:
        context = browser.new_context(base_url=live_url, viewport={"width": ancho, "height": alto}, locale="es-ES")
        contexts.append(context)
        page = context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            # The 4xx pages the tests provoke on purpose log "Failed to load resource"; anything else is a bug.
            if message.type == "error" and "Failed to load resource" not in message.text:
                errores.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: errores.append(str(exc)))
        page.on("dialog", lambda dialog: dialog.accept())
        return page

    yield make
    for context in contexts:
        context.close()
    assert errores == [], f"errores en la consola del navegador: {errores}"


def entrar(page: Page, user: StaffMember) -> None:
    """Log in through the form like a person would."""
    page.goto("/panel/entrar")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Contraseña").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Inicio")).to_be_visible()


def captura(page: Page, nombre: str, backend: str) -> None:
    """Save the page's screenshot for the README (once, from the SQLite run)."""
    if backend == "sqlite":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{nombre}.png"), full_page=True)


def rag(live_url: str, chat_id: str, texto: str) -> dict[str, object]:
    """A shop visitor's message to the agent over HTTP."""
    response = httpx.post(f"{live_url}/rag/query", json={"query": texto, "chat_id": chat_id}, timeout=30)
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()
    return data


def test_login_every_page_and_screenshots(
    abrir: Callable[..., Page], make_user: Callable[..., StaffMember], app: FastAPI, live_url: str, backend: str
) -> None:
    seed_catalog(app)
    admin = make_user("admin")
    venta_cliente = httpx.post(
        f"{live_url}/clientes/",
        headers=admin.headers,
        json={"nombre": "Ana García", "email": "ana@example.com", "telefono": "+34 600 111 222"},
    ).json()
    producto_id = httpx.get(f"{live_url}/productos/", params={"limit": 1}).json()[0]["id"]
    venta = httpx.post(
        f"{live_url}/ventas/",
        headers=admin.headers,
        json={"cliente_id": venta_cliente["id"], "productos": [{"producto_id": producto_id, "cantidad": 2}]},
    ).json()
    rag(live_url, "web-ana", "¿tienen taladros?")
    rag(live_url, "web-luis", "quiero hablar con una persona")
    rag(live_url, "web-pepe", "¿venden unicornios de peluche?")

    page = abrir()
    page.goto("/panel/productos")
    expect(page).to_have_url(re.compile(r"/panel/entrar\?siguiente=/panel/productos$"))
    captura(page, "entrar", backend)
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Contraseña").fill("no-es-la-clave")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("alert")).to_have_text("Email o contraseña incorrectos")
    page.get_by_label("Contraseña").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Productos", exact=True)).to_be_visible()  # back where it was going

    page.goto("/panel/")
    expect(page.locator('[data-cifra="pedidos-hoy"]')).to_have_text("1")
    captura(page, "inicio", backend)
    paginas = {
        "productos": ("/panel/productos", "Productos"),
        "producto": (f"/panel/productos/{producto_id}", None),
        "importar": ("/panel/productos/importar", "Importar productos (CSV o XLSX)"),
        "pedidos": ("/panel/pedidos", "Pedidos"),
        "pedido": (f"/panel/pedidos/{venta['id']}", f"Pedido {venta['id']} pendiente"),
        "clientes": ("/panel/clientes", "Clientes"),
        "cliente": (f"/panel/clientes/{venta_cliente['id']}", "Ana García"),
        "conversaciones": ("/panel/conversaciones", "Conversaciones"),
        "conversacion": ("/panel/conversaciones/web-ana", "Chat web-ana api"),  # the channel the chat came in on (#13),
        "exportaciones": ("/panel/exportaciones", "Exportaciones"),
        "usuarios": ("/panel/usuarios", "Usuarios del personal"),
    }
    for nombre, (url, titulo) in paginas.items():
        page.goto(url)
        if titulo:
            expect(page.get_by_role("heading", level=1)).to_have_text(titulo)
        captura(page, nombre, backend)
    movil = abrir(ancho=390, alto=844)
    entrar(movil, make_user("vendedor"))
    captura(movil, "inicio-movil", backend)
    page.get_by_role("button", name="Salir").click()
    expect(page).to_have_url(re.compile(r"/panel/entrar$"))
    page.goto("/panel/")
    expect(page).to_have_url(re.compile(r"/panel/entrar"))


def test_a_new_price_reaches_the_chat_answer(
    abrir: Callable[..., Page], make_user: Callable[..., StaffMember], app: FastAPI, live_url: str
) -> None:
    seed_catalog(app)
    page = abrir()
    entrar(page, make_user("vendedor"))
    page.goto("/panel/productos")
    page.get_by_label("Buscar").fill("taladro percutor")
    page.get_by_role("button", name="Filtrar").click()
    page.get_by_role("link", name="Taladro percutor 750W").click()
    page.get_by_label("Precio (€)").fill("1234")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_role("status")).to_have_text("Cambios guardados.")
    expect(page.get_by_label("Precio (€)")).to_have_value("1234.00")

    respuesta = str(rag(live_url, "precio-nuevo", "¿tienen taladros?")["respuesta"])
    assert "«Taladro percutor 750W» — 1234.00 €" in respuesta
    assert "59.90" not in respuesta


def test_a_form_without_its_csrf_token_is_refused(
    abrir: Callable[..., Page], make_user: Callable[..., StaffMember], app: FastAPI
) -> None:
    ids = seed_catalog(app)
    page = abrir()
    entrar(page, make_user("admin"))
    producto_id = next(iter(ids.values()))
    page.goto(f"/panel/productos/{producto_id}")
    page.locator(f'form[action$="/{producto_id}"] input[name="csrf_token"]').evaluate("input => input.remove()")
    page.get_by_label("Precio (€)").fill("1.00")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("falta el token CSRF")
    with app.state.session_factory() as session:
        assert session.get(Producto, producto_id).precio != Decimal("1.00")


def test_take_over_a_chat_reply_and_see_new_messages_live(
    abrir: Callable[..., Page], make_user: Callable[..., StaffMember], app: FastAPI, live_url: str
) -> None:
    seed_catalog(app)
    page = abrir()
    entrar(page, make_user("vendedor"))
    page.goto("/panel/conversaciones")
    expect(page.get_by_text("Todavía no hay conversaciones.")).to_be_visible()
    rag(live_url, "web-marta", "quiero hablar con una persona")
    fila = page.locator('tr[data-chat="web-marta"]')
    expect(fila).to_contain_text("requiere humano", timeout=15_000)  # appears without reloading

    fila.get_by_role("link").click()
    page.get_by_role("button", name="Atender en persona").click()
    expect(page.locator("[data-estado]")).to_have_text("atendido por humano")
    page.get_by_label(re.compile("^Responder")).fill("Hola, soy Marta, de la tienda. ¿En qué le ayudo?")
    page.get_by_role("button", name="Enviar respuesta").click()
    historial = page.locator("#historial")
    expect(historial.locator(".mensaje.humano")).to_contain_text("Hola, soy Marta, de la tienda.")

    silencio = rag(live_url, "web-marta", "¿tienen cafeteras?")
    assert silencio["respuesta"] is None and silencio["estado"] == "atendido_por_humano"
    nuevo = historial.locator(".mensaje.cliente").last
    expect(nuevo).to_contain_text("¿tienen cafeteras?", timeout=15_000)  # the customer's new message, no reload
    api = httpx.get(f"{live_url}/rag/chats/web-marta", headers=make_user("admin").headers).json()
    assert [m["rol"] for m in api["historial"]][-2:] == ["humano", "cliente"]

    page.get_by_role("button", name="Devolver al agente").click()
    expect(page.locator("[data-estado]")).to_have_text("activa")


def test_an_import_with_one_bad_row_shows_it_and_writes_nothing(
    abrir: Callable[..., Page], make_user: Callable[..., StaffMember], app: FastAPI
) -> None:
    page = abrir()
    entrar(page, make_user("admin"))
    page.goto("/panel/productos/importar")
    texto = io.StringIO()
    writer = csv.writer(texto, delimiter=";")
    writer.writerows(
        [["nombre", "precio", "stock", "sku"], ["Sartén 28 cm", "24,90", "5", "SAR-28"], ["Olla", "barata", "2", ""]]
    )
    archivo: FilePayload = {"name": "catalogo.csv", "mimeType": "text/csv", "buffer": texto.getvalue().encode()}
    page.get_by_label("Fichero").set_input_files(archivo)
    page.get_by_label("Solo simular").uncheck()
    page.get_by_role("button", name="Enviar").click()
    expect(page.get_by_role("alert")).to_contain_text("1 fila(s) no válidas: no se ha importado nada")
    expect(page.locator('tr[data-fila="3"]')).to_contain_text("precio: debe ser un número decimal")
    with app.state.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Producto)) == 0

    texto = io.StringIO()
    csv.writer(texto, delimiter=";").writerows([["nombre", "precio", "stock"], ["Sartén 28 cm", "24,90", "5"]])
    corregido: FilePayload = {**archivo, "buffer": texto.getvalue().encode()}
    page.get_by_label("Fichero").set_input_files(corregido)
    page.get_by_label("Solo simular").uncheck()
    page.get_by_role("button", name="Enviar").click()
    expect(page.get_by_role("heading", name="Importación hecha")).to_be_visible()
    with app.state.session_factory() as session:
        assert session.scalars(select(Producto.nombre)).all() == ["Sartén 28 cm"]


def test_export_xlsx_downloads_a_workbook_openpyxl_opens(
    abrir: Callable[..., Page], make_user: Callable[..., StaffMember], app: FastAPI, tmp_path: Path
) -> None:
    seed_catalog(app)
    page = abrir()
    entrar(page, make_user("admin"))
    page.goto("/panel/exportaciones")
    page.get_by_label("Qué exportar").select_option("productos")
    page.get_by_label("Formato").select_option("excel")
    with page.expect_download() as descarga:
        page.get_by_role("button", name="Descargar").click()
    destino = tmp_path / descarga.value.suggested_filename
    descarga.value.save_as(destino)
    assert destino.suffix == ".xlsx"
    hoja = openpyxl.load_workbook(destino, read_only=True).worksheets[0]
    filas = list(hoja.iter_rows(values_only=True))
    assert "nombre" in filas[0] and len(filas) == 1 + 48
    assert "Taladro percutor 750W" in {fila[filas[0].index("nombre")] for fila in filas[1:]}
    page.reload()
    expect(page.locator("table tbody tr").first).to_contain_text("productos")


def test_a_vendedor_cannot_reach_the_usuarios_page(
    abrir: Callable[..., Page], make_user: Callable[..., StaffMember]
) -> None:
    page = abrir()
    entrar(page, make_user("vendedor"))
    expect(page.get_by_role("link", name="Usuarios")).to_have_count(0)
    expect(page.get_by_role("link", name="Exportaciones")).to_have_count(0)
    respuesta = page.goto("/panel/usuarios")
    assert respuesta is not None and respuesta.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Esta operación requiere el rol admin")
