"""Every panel route over HTTP (ASGI), on SQLite and PostgreSQL: sessions, roles, CSRF, validation, the same rules."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from agente_vendedor.auth.models import Usuario
from agente_vendedor.core.security import hash_password
from agente_vendedor.panel import sesion
from agente_vendedor.panel.router import router as panel_router
from agente_vendedor.productos.models import Producto
from tests.conftest import TEST_PASSWORD, StaffMember
from tests.factories import cliente_data, producto_data
from tests.panel.conftest import Panel, csrf_of, login
from tests.rag.conftest import seed_catalog

PAGES = [
    "/panel/",
    "/panel/productos",
    "/panel/productos/nuevo",
    "/panel/pedidos",
    "/panel/clientes",
    "/panel/conversaciones",
    "/panel/conversaciones/filas",
]
ADMIN_PAGES = ["/panel/productos/importar", "/panel/exportaciones", "/panel/usuarios"]
# Every state-changing form of the panel, with a body that would succeed if it carried the token.
POSTS: list[tuple[str, dict[str, str]]] = [
    ("/panel/salir", {}),
    ("/panel/productos/nuevo", {"nombre": "Sin token", "precio": "1.00", "stock": "1"}),
    ("/panel/productos/{producto}", {"nombre": "Sin token", "precio": "1.00", "stock": "1"}),
    ("/panel/productos/{producto}/desactivar", {}),
    ("/panel/pedidos/{venta}/estado", {"estado": "cancelada"}),
    ("/panel/clientes/{cliente}", {"nombre": "Sin token", "email": "sin.token@example.com"}),
    ("/panel/clientes/{cliente}/desactivar", {}),
    ("/panel/conversaciones/web-1/tomar", {}),
    ("/panel/conversaciones/web-1/devolver", {}),
    ("/panel/conversaciones/web-1/responder", {"texto": "hola"}),
    ("/panel/exportaciones", {"entidad": "clientes", "formato": "csv"}),
    ("/panel/usuarios", {"email": "nuevo@tienda.example.com", "password": "una-clave-muy-larga", "rol": "admin"}),
    ("/panel/usuarios/{usuario}", {"activo": "false"}),
]


def _datos(client: TestClient, admin: StaffMember) -> dict[str, Any]:
    """A product, a cliente, an order and a chat, created through the API."""
    producto = client.post("/productos/", json=producto_data(stock=10), headers=admin.headers).json()
    cliente = client.post("/clientes/", json=cliente_data(), headers=admin.headers).json()
    venta = client.post(
        "/ventas/",
        json={"cliente_id": cliente["id"], "productos": [{"producto_id": producto["id"], "cantidad": 3}]},
        headers=admin.headers,
    ).json()
    assert client.post("/rag/query", json={"query": "hola", "chat_id": "web-1"}).status_code == 200
    return {"producto": producto, "cliente": cliente, "venta": venta}


def _snapshot(client: TestClient, datos: dict[str, Any]) -> dict[str, Any]:
    """What the forms could change, as the API shows it."""
    return {
        "productos": client.get(f"/productos/{datos['producto']['id']}").json(),
        "venta": client.get(f"/ventas/{datos['venta']['id']}").json()["estado"],
        "cliente": client.get(f"/clientes/{datos['cliente']['id']}").json(),
        "chat": client.get("/rag/chats/web-1").json(),
        "usuarios": len(client.get("/usuarios/").json()),
    }


def _count(app: FastAPI, model: Any) -> int:
    with app.state.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# ---- sessions ---------------------------------------------------------------------------------------------


def test_every_panel_route_but_the_login_needs_a_session(app: FastAPI, anon_client: TestClient) -> None:
    # Panel routes are not in the OpenAPI document (so tests/auth/test_access.py does not see them): walk the panel
    # router's own table instead. A new panel route is closed unless it is added to `public_panel` on purpose.
    public_panel = {("GET", "/panel/entrar"), ("POST", "/panel/entrar")}
    checked = 0
    for route in panel_router.routes:
        path = str(getattr(route, "path", ""))
        assert path.startswith("/panel/")
        for method in sorted(getattr(route, "methods", set()) - {"HEAD"}):
            if (method, path) in public_panel:
                continue
            url = re.sub(r"\{[^}]+\}", "1", path)
            response = anon_client.request(method, url, data={"csrf_token": "x"}, follow_redirects=False)
            assert response.status_code == 303, f"{method} {path} responde {response.status_code} sin sesión"
            assert response.headers["location"].startswith("/panel/entrar?siguiente=")
            checked += 1
    assert checked >= 29
    fragment = anon_client.get("/panel/conversaciones/filas", headers={"HX-Request": "true"}, follow_redirects=False)
    assert fragment.status_code == 401 and fragment.headers["HX-Redirect"].startswith("/panel/entrar")
    login_page = anon_client.get("/panel/entrar")
    assert login_page.status_code == 200 and 'lang="es"' in login_page.text
    assert login_page.headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self';")
    assert re.search(r"<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=", login_page.text) is None


def test_login_sets_a_hardened_cookie_and_goes_back_where_the_user_was(
    app: FastAPI, make_user: Callable[..., StaffMember]
) -> None:
    user = make_user("vendedor")
    with TestClient(app, follow_redirects=False) as client:
        token = csrf_of(client.get("/panel/entrar").text)
        malo = client.post(
            "/panel/entrar", data={"email": user.email, "password": "mala-clave-123", "csrf_token": token}
        )
        assert malo.status_code == 401 and "Email o contraseña incorrectos" in malo.text
        assert sesion.COOKIE not in client.cookies
        ok = client.post(
            "/panel/entrar",
            data={
                "email": user.email.upper(),
                "password": TEST_PASSWORD,
                "csrf_token": token,
                "siguiente": "/panel/pedidos",
            },
        )
        assert ok.status_code == 303 and ok.headers["location"] == "/panel/pedidos"
        cookie = next(h for h in ok.headers.get_list("set-cookie") if h.startswith(sesion.COOKIE))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/panel" in cookie
        assert "Secure" not in cookie  # only in production (plain http in tests)
        assert client.get("/panel/pedidos").status_code == 200
        # Never an open redirect.
        client.cookies.clear()
        token = csrf_of(client.get("/panel/entrar").text)
        fuera = client.post(
            "/panel/entrar",
            data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token, "siguiente": "//evil.example"},
        )
        assert fuera.headers["location"] == "/panel/"


def test_the_cookie_is_secure_in_production(app: FastAPI, make_user: Callable[..., StaffMember]) -> None:
    user = make_user("admin")
    original = app.state.settings
    app.state.settings = original.model_copy(update={"ENVIRONMENT": "production"})
    try:
        with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
            token = csrf_of(client.get("/panel/entrar").text)
            ok = client.post(
                "/panel/entrar", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token}
            )
        cookie = next(h for h in ok.headers.get_list("set-cookie") if h.startswith(sesion.COOKIE))
        assert "Secure" in cookie
    finally:
        app.state.settings = original


def test_login_without_its_csrf_token_is_refused(app: FastAPI, make_user: Callable[..., StaffMember]) -> None:
    user = make_user("admin")
    with TestClient(app, follow_redirects=False) as client:
        client.get("/panel/entrar")
        sin_token = client.post("/panel/entrar", data={"email": user.email, "password": TEST_PASSWORD})
        otro_token = client.post(
            "/panel/entrar", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": "inventado"}
        )
        assert sin_token.status_code == otro_token.status_code == 403
        assert sesion.COOKIE not in client.cookies
        with app.state.session_factory() as session:
            assert session.scalar(select(Usuario.ultimo_acceso).where(Usuario.email == user.email)) is None


def test_login_shares_the_api_rate_limit(app: FastAPI, make_user: Callable[..., StaffMember]) -> None:
    user = make_user("admin")
    original = app.state.settings
    app.state.settings = original.model_copy(update={"RATE_LIMIT_LOGIN": "2/minute"})
    try:
        with TestClient(app, follow_redirects=False) as client:
            assert client.post("/auth/token", data={"username": user.email, "password": "mala"}).status_code == 401
            token = csrf_of(client.get("/panel/entrar").text)
            data = {"email": user.email, "password": "mala-clave-123", "csrf_token": token}
            assert client.post("/panel/entrar", data=data).status_code == 401
            tercero = client.post("/panel/entrar", data={**data, "password": TEST_PASSWORD})
            assert tercero.status_code == 429 and "Demasiadas peticiones" in tercero.text
            assert int(tercero.headers["Retry-After"]) >= 1
            assert sesion.COOKIE not in client.cookies
    finally:
        app.state.settings = original
        app.state.rate_limiter.reset()


def test_a_deactivated_user_loses_the_panel_at_once(
    app: FastAPI, panel_for: Callable[[str], Panel], client: TestClient
) -> None:
    vendedor = panel_for("vendedor")
    assert vendedor.client.get("/panel/productos").status_code == 200
    assert client.patch(f"/usuarios/{vendedor.user.id}", json={"activo": False}).status_code == 200
    response = vendedor.client.get("/panel/productos")
    assert response.status_code == 303 and response.headers["location"].startswith("/panel/entrar")


def test_a_new_password_ends_the_other_sessions(app: FastAPI, panel_for: Callable[[str], Panel]) -> None:
    vendedor = panel_for("vendedor")
    with app.state.session_factory.begin() as session:
        session.get(Usuario, vendedor.user.id).password_hash = hash_password("otra-clave-distinta")
    assert vendedor.client.get("/panel/").status_code == 303


def test_logout_deletes_the_cookie(panel: Panel) -> None:
    response = panel.post("/panel/salir")
    assert response.status_code == 303 and response.headers["location"] == "/panel/entrar"
    assert sesion.COOKIE not in panel.client.cookies
    assert panel.client.get("/panel/").status_code == 303


def test_panel_cookies_and_api_tokens_are_not_interchangeable(app: FastAPI, panel: Panel) -> None:
    cookie = panel.client.cookies[sesion.COOKIE]
    with TestClient(app) as client:
        assert client.get("/clientes/", headers={"Authorization": f"Bearer {cookie}"}).status_code == 401
        bearer = panel.user.headers["Authorization"].removeprefix("Bearer ")
        client.cookies.set(sesion.COOKIE, bearer, path="/panel")
        assert client.get("/panel/", follow_redirects=False).status_code == 303


# ---- roles and CSRF ---------------------------------------------------------------------------------------


def test_roles_match_the_api(panel_for: Callable[[str], Panel]) -> None:
    admin, vendedor = panel_for("admin"), panel_for("vendedor")
    for url in PAGES + ADMIN_PAGES:
        assert admin.client.get(url).status_code == 200, url
    for url in PAGES:
        assert vendedor.client.get(url).status_code == 200, url
    inicio = vendedor.client.get("/panel/").text
    assert "/panel/usuarios" not in inicio and "/panel/exportaciones" not in inicio
    for url in ADMIN_PAGES:
        prohibido = vendedor.client.get(url)
        assert prohibido.status_code == 403 and "requiere el rol admin" in prohibido.text, url
    csv_bytes = b"nombre;precio\nX;1\n"
    subida = vendedor.post("/panel/productos/importar", files={"archivo": ("a.csv", csv_bytes, "text/csv")})
    assert subida.status_code == 403
    assert vendedor.post("/panel/usuarios", {"email": "x@tienda.example.com"}).status_code == 403


@pytest.mark.parametrize(("url", "body"), POSTS, ids=[url for url, _ in POSTS])
def test_every_form_without_the_csrf_token_is_refused_and_writes_nothing(
    app: FastAPI, panel: Panel, client: TestClient, url: str, body: dict[str, str]
) -> None:
    datos = _datos(client, panel.user)
    target = url.format(
        producto=datos["producto"]["id"],
        venta=datos["venta"]["id"],
        cliente=datos["cliente"]["id"],
        usuario=panel.user.id,
    )
    before = _snapshot(client, datos)
    for token in (None, "otro-token", csrf_of(panel.client.get("/panel/entrar").text)):
        data = body if token is None else {**body, "csrf_token": token}
        response = panel.client.post(target, data=data)
        assert response.status_code == 403, (target, response.text)
        assert "token CSRF" in response.text
    with TestClient(app, follow_redirects=False) as anonimo:  # and without a session, the login page
        sin_sesion = anonimo.post(target, data={**body, "csrf_token": panel.csrf})
        assert sin_sesion.status_code == 303 and sin_sesion.headers["location"].startswith("/panel/entrar")
    after = _snapshot(client, datos)
    assert after == before
    assert _count(app, Producto) == 1
    assert sesion.COOKIE in panel.client.cookies  # not even logged out


def test_htmx_requests_may_carry_the_token_in_a_header(panel: Panel, client: TestClient) -> None:
    _datos(client, panel.user)
    response = panel.client.post("/panel/conversaciones/web-1/tomar", headers={"X-CSRF-Token": panel.csrf})
    assert response.status_code == 303
    assert client.get("/rag/chats/web-1").json()["estado"] == "atendido_por_humano"


def test_pages_carry_the_strict_csp_and_no_inline_code(panel: Panel, client: TestClient) -> None:
    datos = _datos(client, panel.user)
    urls = (
        PAGES
        + ADMIN_PAGES
        + [
            f"/panel/productos/{datos['producto']['id']}",
            f"/panel/pedidos/{datos['venta']['id']}",
            f"/panel/clientes/{datos['cliente']['id']}",
            "/panel/conversaciones/web-1",
        ]
    )
    for url in urls:
        response = panel.client.get(url)
        assert response.status_code == 200, url
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["Cache-Control"] == "no-store"
        assert re.search(r"<script(?![^>]*\bsrc=)", response.text) is None, url
        assert re.search(r"\sstyle=|\son[a-z]+=", response.text) is None, url
    assert panel.client.get("/panel/static/htmx.min.js").status_code == 200


# ---- productos --------------------------------------------------------------------------------------------


def test_create_a_product_with_the_api_messages_beside_each_field(app: FastAPI, panel: Panel) -> None:
    malo = panel.post("/panel/productos/nuevo", {"nombre": "X", "precio": "abc", "stock": "-1", "sku": "con espacio"})
    html = malo.text
    assert malo.status_code == 422
    assert "Nombre: debe tener al menos 2 caracteres" in html
    assert "Precio (€): debe ser un número decimal" in html
    assert "Stock (unidades): debe ser mayor o igual que 0" in html
    assert "SKU: tiene un formato no válido" in html
    assert 'value="con espacio"' in html  # what was typed stays in the form
    assert _count(app, Producto) == 0
    assert "Precio (€): es obligatorio" in panel.post("/panel/productos/nuevo", {"nombre": "Algo"}).text

    ok = panel.post("/panel/productos/nuevo", {"nombre": "Cafetera italiana", "precio": "24,9".replace(",", "."),
                                               "stock": "3", "sku": "caf-1"})  # fmt: skip
    assert ok.status_code == 303
    producto_id = int(ok.headers["location"].split("/")[-1].split("?")[0])
    assert panel.client.get(f"/productos/{producto_id}").json()["sku"] == "CAF-1"
    repetido = panel.post("/panel/productos/nuevo", {"nombre": "Otra", "precio": "1", "sku": "CAF-1"})
    assert repetido.status_code == 422 and "SKU: Ya existe un producto con el SKU CAF-1" in repetido.text
    assert _count(app, Producto) == 1


def test_edit_a_product_and_the_api_sees_the_new_price_at_once(panel: Panel, client: TestClient) -> None:
    producto = client.post("/productos/", json=producto_data(precio="10.00", descripcion="Vieja")).json()
    assert client.get(f"/productos/{producto['id']}").json()["precio"] == "10.00"  # now cached
    form = {"nombre": producto["nombre"], "precio": "12.50", "stock": "7", "categoria": "", "sku": producto["sku"]}
    response = panel.post(f"/panel/productos/{producto['id']}", form)
    assert response.status_code == 303
    after = client.get(f"/productos/{producto['id']}").json()
    assert (after["precio"], after["stock"], after["categoria"], after["descripcion"]) == ("12.50", 7, None, None)
    vacio = panel.post(f"/panel/productos/{producto['id']}", {**form, "precio": "", "nombre": ""})
    assert vacio.status_code == 422 and "Precio (€): es obligatorio" in vacio.text
    assert client.get(f"/productos/{producto['id']}").json()["nombre"] == producto["nombre"]
    assert panel.client.get("/panel/productos/999999").status_code == 404
    assert panel.client.get("/panel/productos/0").status_code == 422


def test_deactivate_a_product(panel: Panel, client: TestClient) -> None:
    producto = client.post("/productos/", json=producto_data()).json()
    assert panel.post(f"/panel/productos/{producto['id']}/desactivar").status_code == 303
    assert client.get(f"/productos/{producto['id']}").json()["activo"] is False
    assert producto["nombre"] not in panel.client.get("/panel/productos").text
    assert producto["nombre"] in panel.client.get("/panel/productos", params={"estado": "inactivos"}).text


def test_product_list_filters_search_and_pages(app: FastAPI, panel: Panel) -> None:
    seed_catalog(app)
    todos = panel.client.get("/panel/productos").text
    assert "48 productos" in todos and "Página 1 de 2" in todos
    segunda = panel.client.get("/panel/productos", params={"pagina": "2"}).text
    assert "Página 2 de 2" in segunda
    herramientas = panel.client.get("/panel/productos", params={"categoria": "Herramientas"}).text
    assert "Taladro percutor 750W" in herramientas and "Cafetera" not in herramientas
    agotados = panel.client.get("/panel/productos", params={"stock": "sin"}).text
    with app.state.session_factory() as session:
        sin_stock = session.scalars(select(Producto.nombre).where(Producto.stock == 0)).all()
    assert f"{len(sin_stock)} productos" in agotados and all(nombre in agotados for nombre in sin_stock)
    busqueda = panel.client.get("/panel/productos", params={"q": "cafetra"}).text  # a typo, like the API
    assert "búsqueda híbrida" in busqueda and "Cafetera" in busqueda
    assert panel.client.get("/panel/productos", params={"stock": "quizas"}).status_code == 422


def test_import_simulates_reports_bad_rows_and_writes_all_or_nothing(app: FastAPI, panel: Panel) -> None:
    bueno = b"nombre;precio;stock;sku\nSart\xc3\xa9n 28 cm;24,90;5;SAR-28\n"
    malo = bueno + b"Olla;barata;2;\n"

    def subir(data: bytes, simular: bool, nombre: str = "catalogo.csv") -> Any:
        form = {"simular": "on"} if simular else {}
        return panel.post("/panel/productos/importar", form, files={"archivo": (nombre, data, "text/csv")})

    rechazado = subir(malo, simular=False)
    assert rechazado.status_code == 422 and "1 fila(s) no válidas" in rechazado.text
    assert re.search(r'data-fila="3">.*precio: debe ser un número decimal', rechazado.text, re.S)
    assert _count(app, Producto) == 0
    simulado = subir(bueno, simular=True)
    assert simulado.status_code == 200 and "Simulación: no se ha escrito nada" in simulado.text
    assert _count(app, Producto) == 0
    hecho = subir(bueno, simular=False)
    assert hecho.status_code == 200 and "Importación hecha" in hecho.text and "1 nuevos" in hecho.text
    assert _count(app, Producto) == 1
    libro = openpyxl.Workbook()
    libro.active.append(["nombre", "precio"])
    libro.active.append(["Wok", 30])
    buffer = io.BytesIO()
    libro.save(buffer)
    assert "1 nuevos" in subir(buffer.getvalue(), simular=False, nombre="wok.xlsx").text
    sin_fichero = panel.post("/panel/productos/importar", {})
    assert sin_fichero.status_code == 422 and "Elija un fichero" in sin_fichero.text
    assert "no se puede leer" in subir(b"PK\x03\x04 roto", simular=True, nombre="x.xlsx").text


# ---- pedidos ----------------------------------------------------------------------------------------------


def test_orders_list_detail_and_state_changes_follow_the_service_rules(panel: Panel, client: TestClient) -> None:
    datos = _datos(client, panel.user)
    venta_id, producto_id = datos["venta"]["id"], datos["producto"]["id"]
    lista = panel.client.get("/panel/pedidos", params={"estado": "pendiente"}).text
    assert f'href="/panel/pedidos/{venta_id}"' in lista and "1 pedido." in lista
    assert "0 pedidos" in panel.client.get("/panel/pedidos", params={"estado": "entregada"}).text
    hoy = datetime.now(UTC).date().isoformat()
    assert "1 pedido." in panel.client.get("/panel/pedidos", params={"fecha_desde": hoy, "fecha_hasta": hoy}).text
    malas = panel.client.get("/panel/pedidos", params={"fecha_desde": "ayer", "cliente_id": "x"})
    assert malas.status_code == 422 and "Desde: debe ser una fecha válida" in malas.text
    assert panel.client.get("/panel/pedidos", params={"estado": "perdida"}).status_code == 422

    detalle = panel.client.get(f"/panel/pedidos/{venta_id}").text
    assert datos["producto"]["nombre"] in detalle and "Pasar a confirmada" in detalle and "Pasar a cancelada" in detalle
    assert client.get(f"/productos/{producto_id}").json()["stock"] == 7
    assert panel.post(f"/panel/pedidos/{venta_id}/estado", {"estado": "cancelada"}).status_code == 303
    assert client.get(f"/productos/{producto_id}").json()["stock"] == 10  # cancelling returned the stock
    historial = client.get(f"/ventas/{venta_id}").json()["historial"]
    assert historial[-1]["estado_nuevo"] == "cancelada" and historial[-1]["usuario"] == panel.user.email
    otra = panel.post(f"/panel/pedidos/{venta_id}/estado", {"estado": "enviada"})
    assert otra.status_code == 409 and "cancelada" in otra.text
    assert panel.post(f"/panel/pedidos/{venta_id}/estado", {"estado": "x"}).status_code == 422
    assert client.get(f"/productos/{producto_id}").json()["stock"] == 10
    assert panel.client.get("/panel/pedidos/424242").status_code == 404


# ---- clientes ---------------------------------------------------------------------------------------------


def test_clientes_search_detail_edit_and_deactivate(panel: Panel, client: TestClient) -> None:
    datos = _datos(client, panel.user)
    cliente = datos["cliente"]
    otro = client.post("/clientes/", json=cliente_data(nombre="José Pérez")).json()
    assert "José Pérez" in panel.client.get("/panel/clientes", params={"q": "jose"}).text
    detalle = panel.client.get(f"/panel/clientes/{cliente['id']}").text
    assert f'href="/panel/pedidos/{datos["venta"]["id"]}"' in detalle and "59,70 €" in detalle
    form = {"nombre": cliente["nombre"], "email": "nuevo@example.com", "telefono": "", "direccion": "Calle Sol 1"}
    assert panel.post(f"/panel/clientes/{cliente['id']}", form).status_code == 303
    after = client.get(f"/clientes/{cliente['id']}").json()
    assert (after["email"], after["telefono"], after["direccion"]) == ("nuevo@example.com", None, "Calle Sol 1")
    malo = panel.post(f"/panel/clientes/{cliente['id']}", {**form, "email": "no-es-email", "telefono": "abc"})
    assert malo.status_code == 422
    assert "Email: no es un correo electrónico válido" in malo.text
    assert "Teléfono: solo admite dígitos" in malo.text
    duplicado = panel.post(f"/panel/clientes/{cliente['id']}", {**form, "email": otro["email"]})
    assert duplicado.status_code == 422 and "Email: " in duplicado.text
    assert client.get(f"/clientes/{cliente['id']}").json()["email"] == "nuevo@example.com"
    assert panel.post(f"/panel/clientes/{cliente['id']}/desactivar").status_code == 303
    assert client.get(f"/clientes/{cliente['id']}").json()["activo"] is False
    assert cliente["nombre"] in panel.client.get("/panel/clientes", params={"estado": "inactivos"}).text
    assert panel.client.get("/panel/clientes/987654").status_code == 404


# ---- conversaciones ---------------------------------------------------------------------------------------


def test_chats_waiting_for_a_person_come_first_and_staff_can_take_over_and_reply(
    panel: Panel, client: TestClient
) -> None:
    client.post("/rag/query", json={"query": "quiero hablar con una persona", "chat_id": "web-espera"})
    client.post("/rag/query", json={"query": "hola <script>alert(1)</script>", "chat_id": "web-reciente"})
    filas = panel.client.get("/panel/conversaciones/filas").text
    assert filas.index('data-chat="web-espera"') < filas.index('data-chat="web-reciente"')
    assert "<html" not in filas  # a fragment for htmx
    assert panel.post("/panel/conversaciones/web-reciente/tomar").status_code == 303
    assert client.get("/rag/chats/web-reciente").json()["estado"] == "atendido_por_humano"
    respuesta = panel.post("/panel/conversaciones/web-reciente/responder", {"texto": "  Hola, soy Marta  "})
    assert respuesta.status_code == 303
    ultimo = client.get("/rag/chats/web-reciente").json()["historial"][-1]
    assert (ultimo["rol"], ultimo["texto"], ultimo["autor"]) == ("humano", "Hola, soy Marta", panel.user.email)
    mensajes = panel.client.get("/panel/conversaciones/web-reciente/mensajes").text
    assert "Hola, soy Marta" in mensajes and "<html" not in mensajes
    assert "hola &lt;script&gt;alert(1)&lt;/script&gt;" in mensajes and "<script>alert" not in mensajes
    vacio = panel.post("/panel/conversaciones/web-reciente/responder", {"texto": "   "})
    assert vacio.status_code == 422 and "Respuesta: no puede estar vacío" in vacio.text
    control = panel.post("/panel/conversaciones/web-reciente/responder", {"texto": "a\x00b"})
    assert control.status_code == 422
    assert panel.post("/panel/conversaciones/web-reciente/devolver").status_code == 303
    assert client.get("/rag/chats/web-reciente").json()["estado"] == "activa"
    assert panel.client.get("/panel/conversaciones/no-existe").status_code == 404
    assert panel.client.get("/panel/conversaciones/mal%20id").status_code == 422


# ---- inicio -----------------------------------------------------------------------------------------------


def test_home_figures_come_from_the_statistics_sql(panel: Panel, client: TestClient) -> None:
    datos = _datos(client, panel.user)
    segundo = client.post(
        "/ventas/",
        json={
            "cliente_id": datos["cliente"]["id"],
            "productos": [{"producto_id": datos["producto"]["id"], "cantidad": 1}],
        },
    ).json()
    client.patch(f"/ventas/{segundo['id']}/estado", json={"estado": "cancelada"})
    client.post("/productos/", json=producto_data(nombre="Casi agotado", stock=1))
    client.post("/rag/query", json={"query": "quiero hablar con una persona", "chat_id": "web-espera"})
    hoy = datetime.now(UTC).date().isoformat()
    api = client.get("/ventas/estadisticas", params={"fecha_desde": hoy, "fecha_hasta": hoy}).json()
    html = panel.client.get("/panel/").text
    assert f'data-cifra="pedidos-hoy">{api["pedidos"]}<' in html and api["pedidos"] == 1
    euros = f"{Decimal(api['ingresos']):.2f}".replace(".", ",") + " €"
    assert f'data-cifra="ingresos-hoy">{euros}<' in html
    assert "Casi agotado" in html and "web-espera" in html
    assert html.count('<rect class="barra"') == 30


# ---- exportaciones ----------------------------------------------------------------------------------------


def test_export_downloads_through_the_export_service_and_lists_the_history(panel: Panel, client: TestClient) -> None:
    _datos(client, panel.user)
    hoy = datetime.now(UTC).date().isoformat()
    excel = panel.post("/panel/exportaciones", {"entidad": "ventas", "formato": "excel", "fecha_desde": hoy,
                                                "fecha_hasta": hoy})  # fmt: skip
    assert excel.status_code == 200
    assert excel.headers["content-disposition"].endswith('.xlsx"')
    hoja = openpyxl.load_workbook(io.BytesIO(excel.content), read_only=True).worksheets[0]
    assert len(list(hoja.iter_rows(values_only=True))) == 2  # header + the day's order
    csv_resp = panel.post("/panel/exportaciones", {"entidad": "clientes", "formato": "csv"})
    assert csv_resp.content.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    historial = client.get("/exportar/historial").json()
    assert [h["entidad"] for h in historial][:2] == ["clientes", "ventas"]
    assert historial[0]["usuario"] == panel.user.email
    assert "clientes" in panel.client.get("/panel/exportaciones").text
    malo = panel.post("/panel/exportaciones", {"entidad": "ventas", "formato": "pdf", "fecha_desde": "ayer"})
    assert malo.status_code == 422
    assert "debe ser una fecha válida" in malo.text
    formato = panel.post("/panel/exportaciones", {"entidad": "ventas", "formato": "pdf"})
    assert formato.status_code == 422 and "Formato: debe ser uno de" in formato.text
    assert panel.post("/panel/exportaciones", {"entidad": "usuarios"}).status_code == 422
    invertidas = panel.post(
        "/panel/exportaciones", {"entidad": "ventas", "fecha_desde": hoy, "fecha_hasta": "2000-01-01"}
    )
    assert invertidas.status_code == 422
    assert len(client.get("/exportar/historial").json()) == 2


# ---- usuarios ---------------------------------------------------------------------------------------------


def test_admins_manage_users_with_the_api_rules(app: FastAPI, panel: Panel) -> None:
    corta = panel.post("/panel/usuarios", {"email": "nuevo@tienda.example.com", "password": "corta", "rol": "vendedor"})
    assert corta.status_code == 422
    assert "Contraseña (10 a 128 caracteres): debe tener al menos 10 caracteres" in corta.text
    assert "corta" not in corta.text.split("Nuevo usuario")[1].replace("debe tener", "")
    ok = panel.post(
        "/panel/usuarios", {"email": "Nuevo@Tienda.example.com", "password": "una-clave-larga", "rol": "vendedor"}
    )
    assert ok.status_code == 303
    repetido = panel.post("/panel/usuarios", {"email": "nuevo@tienda.example.com", "password": "una-clave-larga"})
    assert repetido.status_code == 422 and "Ya existe un usuario" in repetido.text
    with app.state.session_factory() as session:
        nuevo = session.scalars(select(Usuario).where(Usuario.email == "nuevo@tienda.example.com")).one()
    with TestClient(app, follow_redirects=False) as other:
        assert login(other, "nuevo@tienda.example.com", "una-clave-larga")
    assert panel.post(f"/panel/usuarios/{nuevo.id}", {"rol": "admin"}).status_code == 303
    assert panel.post(f"/panel/usuarios/{nuevo.id}", {"activo": "false"}).status_code == 303
    with app.state.session_factory() as session:
        usuario = session.get(Usuario, nuevo.id)
        assert usuario is not None and (usuario.rol, usuario.activo) == ("admin", False)
    ultimo = panel.post(f"/panel/usuarios/{panel.user.id}", {"rol": "vendedor"})
    assert ultimo.status_code == 409 and "último administrador" in ultimo.text
    assert panel.post(f"/panel/usuarios/{panel.user.id}", {"rol": "jefe"}).status_code == 422
    assert panel.post("/panel/usuarios/999999", {"activo": "false"}).status_code == 404
