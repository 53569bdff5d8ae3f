"""The widget in a real browser: Playwright drives Debian's Chromium (/usr/bin/chromium; nothing is downloaded).

A visitor buys end to end, reloads and sees the history, receives a staff reply after a takeover; the widget works
by keyboard, on a phone-sized screen, under the demo page's CSP, and from a shop's site allowed by WIDGET_ORIGINS.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings
from agente_vendedor.ventas.models import Venta
from tests.canales.conftest import contar
from tests.conftest import StaffMember, _wipe
from tests.rag.conftest import reset_index, seed_catalog

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Set WIDGET_CAPTURA=docs/widget.png to refresh the README's screenshot from this test.
CAPTURA = os.environ.get("WIDGET_CAPTURA")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"No está {CHROMIUM}: `apt-get install -y chromium` (scripts/test.sh lo instala)")
    with sync_playwright() as playwright:
        navegador = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield navegador
        navegador.close()


@pytest.fixture(autouse=True)
def _clean_index(app: FastAPI) -> Iterator[None]:
    reset_index(app)
    yield
    reset_index(app)


def _puerto() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _servir(app: FastAPI) -> Iterator[str]:
    """Serve an app with a real uvicorn on loopback."""
    port = _puerto()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("el servidor de pruebas no arrancó")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def _tienda(pagina: dict[str, str]) -> Iterator[str]:
    """A shop's own website on another origin (another port); it serves `pagina["html"]`."""

    class Pagina(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            data = pagina["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pagina)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _errores(page: Page) -> list[str]:
    errores: list[str] = []

    def registrar(mensaje: ConsoleMessage) -> None:
        if mensaje.type == "error":
            errores.append(mensaje.text)

    page.on("console", registrar)
    page.on("pageerror", lambda exc: errores.append(str(exc)))
    return errores


def _escribir(page: Page, texto: str) -> None:
    entrada = page.get_by_label("Escriba su mensaje")
    entrada.fill(texto)
    entrada.press("Enter")
    expect(page.locator(".av-cliente .av-texto", has_text=texto).last).to_be_visible()


def _chat_id(page: Page) -> str:
    valor: str = page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('agente-vendedor:chat_id:'))"
        ".map(k => localStorage.getItem(k))[0]"
    )
    return valor


def test_visitor_buys_reloads_and_gets_a_staff_reply(
    browser: Browser, live_url: str, app: FastAPI, make_user: Callable[..., StaffMember], tmp_path: Path
) -> None:
    seed_catalog(app)
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    errores = _errores(page)
    page.goto(f"{live_url}/widget/demo")

    # Keyboard only: Tab reaches the launcher, Enter opens the chat with the focus in the text box.
    lanzador = page.get_by_role("button", name=re.compile("Abrir el chat"))
    page.keyboard.press("Tab")
    expect(lanzador).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Ferretería y Hogar")).to_be_visible()
    expect(page.get_by_label("Escriba su mensaje")).to_be_focused()
    expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")

    _escribir(page, "¿tienen taladros?")
    tarjeta = page.locator(".av-producto", has_text="Taladro percutor 750W").first
    expect(tarjeta).to_contain_text("59.90 €")
    expect(tarjeta).to_contain_text("12 disponibles")

    page.get_by_role("button", name="Quiero el primero").click()
    expect(page.locator(".av-total")).to_have_text("Total: 59.90 €")
    expect(page.get_by_role("region", name="Su carrito")).to_contain_text("1 × Taladro percutor 750W")

    _escribir(page, "Me llamo Ana García, ana.garcia@example.com")
    confirmar = page.get_by_role("button", name="Sí, confirmo")
    expect(confirmar).to_be_visible()
    page.screenshot(path=str(tmp_path / "widget.png"))
    if CAPTURA:
        shutil.copy(tmp_path / "widget.png", CAPTURA)
    confirmar.click()
    expect(page.get_by_role("log")).to_contain_text("¡Pedido realizado!")
    expect(page.locator(".av-carrito")).to_be_hidden()
    expect(page.locator(".av-opcion")).to_have_count(0)  # nothing left to choose
    assert contar(app, Venta) == 1

    # Reload: the same chat (localStorage), the whole history, each message once.
    chat_id = _chat_id(page)
    antes = page.locator(".av-mensaje").count()
    page.reload()
    page.get_by_role("button", name=re.compile("Abrir el chat")).click()
    expect(page.locator(".av-mensaje")).to_have_count(antes)
    expect(page.get_by_role("log")).to_contain_text("¿tienen taladros?")
    expect(page.get_by_role("log")).to_contain_text("¡Pedido realizado!")
    assert _chat_id(page) == chat_id

    # A person takes over and answers from the staff API: the widget shows it (polling), once.
    staff = make_user("vendedor").headers
    r = httpx.post(f"{live_url}/rag/chats/{chat_id}/mensajes", json={"texto": "Hola Ana, soy Marta"}, headers=staff)
    assert r.status_code == 201, r.text
    humano = page.locator(".av-humano")
    expect(humano).to_contain_text("Hola Ana, soy Marta", timeout=20_000)
    expect(humano).to_contain_text("Equipo de la tienda")
    _escribir(page, "gracias, Marta")
    page.get_by_role("button", name=re.compile("Cerrar el chat")).first.click()
    page.get_by_role("button", name=re.compile("Abrir el chat")).click()  # reopening polls again
    expect(page.locator(".av-cliente", has_text="gracias, Marta")).to_have_count(1)
    expect(humano).to_have_count(1)

    # Escape closes the dialog and gives the focus back to the launcher.
    page.get_by_label("Escriba su mensaje").press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.get_by_role("button", name=re.compile("Abrir el chat"))).to_be_focused()
    assert errores == []  # no CSP violation, no script error


def test_phone_screen_gets_a_full_screen_chat(browser: Browser, live_url: str, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errores = _errores(page)
    page.goto(f"{live_url}/widget/demo")
    page.get_by_role("button", name=re.compile("Abrir el chat")).tap()
    panel = page.get_by_role("dialog")
    expect(panel).to_be_visible()
    caja = panel.bounding_box()
    assert caja is not None and caja["width"] == 375 and caja["height"] == 667
    _escribir(page, "hola")
    expect(page.locator(".av-agente")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "movil.png"))
    context.close()
    assert errores == []


def test_shop_site_on_another_origin_outside_business_hours(browser: Browser, settings: Settings) -> None:
    pagina: dict[str, str] = {"html": ""}
    with _tienda(pagina) as tienda, _tienda(pagina) as otra_tienda:
        datos = settings.model_dump() | {"WIDGET_ORIGINS": tienda, "HORARIO_ATENCION": "cerrado"}
        propia = create_app(Settings(_env_file=None, **datos))
        with _servir(propia) as api:
            pagina["html"] = (
                '<!doctype html><html lang="es"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
                "<title>Mi tienda</title></head>"
                f'<body><h1>Mi tienda</h1><script src="{api}/widget.js" data-titulo="Mi tienda" '
                'data-color="#ffd400" defer></script></body></html>'
            )
            page = browser.new_page()
            errores = _errores(page)
            page.goto(tienda)
            page.get_by_role("button", name=re.compile("Abrir el chat")).click()
            expect(page.get_by_role("status")).to_contain_text("fuera del horario de atención")
            _escribir(page, "hola")
            expect(page.locator(".av-agente")).to_have_count(1)  # answered all the same
            # A light brand colour gets dark text on it (contrast).
            assert page.locator(".av-cabecera").evaluate("e => getComputedStyle(e).color") == "rgb(17, 17, 17)"
            page.close()
            assert errores == []
            # The same page on an origin not in WIDGET_ORIGINS: the browser withholds the answers (CORS).
            page = browser.new_page()
            page.goto(otra_tienda)
            page.get_by_role("button", name=re.compile("Abrir el chat")).click()
            page.get_by_label("Escriba su mensaje").fill("hola")
            page.get_by_label("Escriba su mensaje").press("Enter")
            expect(page.get_by_role("alert")).to_contain_text("No se pudo enviar")
            page.close()
        _wipe(propia)
