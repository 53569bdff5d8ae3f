"""Routes of the panel: thin handlers that call the same services as the API and render templates."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, cast

from fastapi import FastAPI, Query, Request
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from agente_vendedor.agente import supervision
from agente_vendedor.agente.router import ChatIdPath
from agente_vendedor.agente.schemas import EstadoConversacion, MensajeHumanoCreate
from agente_vendedor.auth import service as auth_service
from agente_vendedor.auth.exceptions import CredencialesInvalidas, UltimoAdmin, UsuarioDuplicado
from agente_vendedor.auth.schemas import UsuarioCreate, UsuarioUpdate
from agente_vendedor.clientes import busqueda as clientes_busqueda
from agente_vendedor.clientes import service as clientes_service
from agente_vendedor.clientes.exceptions import EmailDuplicado
from agente_vendedor.clientes.schemas import ClienteUpdate
from agente_vendedor.core.db import SessionDep, utcnow
from agente_vendedor.core.errors import AppError
from agente_vendedor.core.params import MAX_DB_INT, IdPath
from agente_vendedor.core.ratelimit import LimiteExcedido
from agente_vendedor.core.routing import PrefixedRouter
from agente_vendedor.exportar import service as exportar_service
from agente_vendedor.exportar.entidades import ENTIDADES
from agente_vendedor.exportar.router import export_response
from agente_vendedor.exportar.schemas import Entidad, Filtros
from agente_vendedor.panel import graficos, sesion
from agente_vendedor.panel.dependencies import (
    FormDep,
    PanelAdmin,
    PanelAdminPost,
    PanelPost,
    PanelStaff,
    PanelUsuario,
)
from agente_vendedor.panel.routing import LOGIN, PanelRoute
from agente_vendedor.panel.vistas import PAGINA, STATIC, campos, pagina_actual, render, texto, validar
from agente_vendedor.productos import busqueda as productos_busqueda
from agente_vendedor.productos import service as productos_service
from agente_vendedor.productos.exceptions import SkuDuplicado
from agente_vendedor.productos.importar import ImportacionInvalida, import_productos
from agente_vendedor.productos.schemas import ProductoCreate, ProductoUpdate
from agente_vendedor.rag.dependencies import RagDep
from agente_vendedor.ventas import service as ventas_service
from agente_vendedor.ventas.schemas import EstadoVenta, VentaResponse

router = PrefixedRouter(prefix="/panel", route_class=PanelRoute, include_in_schema=False)

Texto = Annotated[str | None, Query(max_length=200)]
PRODUCTO_CAMPOS = ("nombre", "descripcion", "precio", "stock", "categoria", "sku")
CLIENTE_CAMPOS = ("nombre", "email", "telefono", "direccion")
FORMATOS = {"csv": "CSV", "excel": "Excel (XLSX)", "json": "JSON", "ndjson": "NDJSON"}


def install(app: FastAPI) -> None:
    """Mount the panel's pages and its static files (htmx, CSS) on the app."""
    app.mount("/panel/static", StaticFiles(directory=STATIC), name="panel-static")
    app.include_router(router)


def _page(request: Request, yo: PanelUsuario, plantilla: str, status_code: int = 200, **contexto: Any) -> Response:
    return render(request, plantilla, {"yo": yo.usuario, "csrf": yo.csrf, **contexto}, status_code)


def _redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _fail(session: Session) -> None:
    """A handled domain error: nothing of this request may be committed."""
    session.rollback()


def _fecha(valor: str | None, nombre: str, errores: dict[str, str]) -> date | None:
    if not valor:
        return None
    try:
        return date.fromisoformat(valor)
    except ValueError:
        errores[nombre] = "debe ser una fecha válida (AAAA-MM-DD)"
        return None


# ---- entrar / salir -------------------------------------------------------------------------------------


def _siguiente(valor: str | None) -> str:
    """Only a path inside the panel: never an open redirect to another site."""
    if valor and valor.startswith("/panel/") and not valor.startswith("//") and "\\" not in valor:
        return valor
    return "/panel/"


def _login_page(request: Request, token: str, status_code: int = 200, **contexto: Any) -> Response:
    response = render(request, "entrar.html", {"csrf": token, **contexto}, status_code)
    secure = request.app.state.settings.ENVIRONMENT == "production"
    response.set_cookie(
        sesion.LOGIN_CSRF_COOKIE, token, httponly=True, secure=secure, samesite="strict", path="/panel/entrar"
    )
    return response


@router.get("/entrar")
def entrar_form(request: Request, siguiente: Texto = None) -> Response:
    """The login form."""
    token = request.cookies.get(sesion.LOGIN_CSRF_COOKIE) or sesion.nuevo_token()
    return _login_page(request, token, siguiente=_siguiente(siguiente))


@router.post("/entrar")
def entrar(request: Request, session: SessionDep, form: FormDep) -> Response:
    """Log in with e-mail and password: the same users, roles and rate limit as `POST /auth/token`."""
    settings = request.app.state.settings
    email = (texto(form, "email") or "").strip()
    siguiente = _siguiente(texto(form, "siguiente"))
    cookie_token = request.cookies.get(sesion.LOGIN_CSRF_COOKIE)
    if not sesion.mismo_token(cookie_token, texto(form, sesion.CSRF_FIELD)):
        return _login_page(
            request, sesion.nuevo_token(), 403, email=email, siguiente=siguiente,
            error="El formulario ha caducado. Vuelva a escribir sus datos.",
        )  # fmt: skip
    token = cookie_token or sesion.nuevo_token()
    limiter = request.app.state.rate_limiter
    ip = request.client.host if request.client else "desconocido"
    try:
        limiter.hit(settings.RATE_LIMIT_LOGIN, "login-ip", ip)
        limiter.hit(settings.RATE_LIMIT_LOGIN, "login-usuario", email.lower()[:200])
        usuario = auth_service.authenticate(session=session, email=email, password=texto(form, "password") or "")
    except (CredencialesInvalidas, LimiteExcedido) as exc:
        _fail(session)
        page = _login_page(request, token, exc.status_code, email=email, siguiente=siguiente, error=exc.message)
        page.headers.update(exc.headers if isinstance(exc, LimiteExcedido) and exc.headers else {})
        return page
    valor, _ = sesion.crear(
        user_id=usuario.id,
        password_hash=usuario.password_hash,
        secret=settings.SECRET_KEY,
        minutes=settings.PANEL_SESSION_MINUTES,
    )
    response = _redirect(siguiente)
    response.set_cookie(
        sesion.COOKIE,
        valor,
        max_age=settings.PANEL_SESSION_MINUTES * 60,
        httponly=True,
        secure=settings.ENVIRONMENT == "production",
        samesite="lax",
        path="/panel",
    )
    response.delete_cookie(sesion.LOGIN_CSRF_COOKIE, path="/panel/entrar")
    return response


@router.post("/salir")
def salir(_yo: PanelPost) -> Response:
    """Log out: the session cookie is deleted."""
    response = _redirect(LOGIN)
    response.delete_cookie(sesion.COOKIE, path="/panel")
    return response


# ---- inicio ---------------------------------------------------------------------------------------------


@router.get("/")
def inicio(request: Request, session: SessionDep, yo: PanelStaff) -> Response:
    """Today's and this month's figures, orders per day, top products, low stock, lost demand, chats waiting."""
    hoy = utcnow().date()
    desde_grafico = hoy - timedelta(days=29)
    dia = ventas_service.statistics(session=session, fecha_desde=hoy, fecha_hasta=hoy, top=1)
    mes = ventas_service.statistics(session=session, fecha_desde=hoy.replace(day=1), fecha_hasta=hoy, top=5)
    treinta = ventas_service.statistics(session=session, fecha_desde=desde_grafico, fecha_hasta=hoy, top=1)
    esperando, total_esperando = supervision.list_chats(
        session=session, estado=EstadoConversacion.REQUIERE_HUMANO, limit=10
    )
    demanda = supervision.demanda(
        session=session, fecha_desde=utcnow() - timedelta(days=30), abandono_horas=24, limit=5
    )
    return _page(
        request,
        yo,
        "inicio.html",
        hoy=dia,
        mes=mes,
        grafico=graficos.barras_por_dia(treinta.por_dia, desde=desde_grafico, hasta=hoy),
        bajo_stock=productos_service.low_stock(session=session, umbral=5, limit=10),
        demanda=demanda.items,
        esperando=esperando,
        total_esperando=total_esperando,
    )


# ---- productos ------------------------------------------------------------------------------------------


@router.get("/productos")
def productos(
    request: Request,
    session: SessionDep,
    rag: RagDep,
    yo: PanelStaff,
    q: Texto = None,
    categoria: Annotated[str | None, Query(max_length=100)] = None,
    stock: Annotated[str | None, Query(pattern="^(con|sin)?$")] = None,
    estado: Annotated[str | None, Query(pattern="^(activos|inactivos|todos)?$")] = None,
    pagina: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """The catalog: hybrid search, category and stock filters, pagination."""
    en_stock = {"con": True, "sin": False}.get(stock or "")
    categoria = categoria or None
    numero = pagina_actual(pagina)
    total: int
    if q and q.strip():
        resultados = productos_busqueda.search_productos(
            session=session, rag=rag, q=q, categoria=categoria, en_stock=en_stock, limit=50
        )
        filas = [r.item for r in resultados]
        total = len(filas)
        paginas = 1
    else:
        activo = {"inactivos": False, "todos": None}.get(estado or "", True)
        filas_db, total = productos_service.list_productos(
            session=session,
            skip=(numero - 1) * PAGINA,
            limit=PAGINA,
            categoria=categoria,
            activo=activo,
            en_stock=en_stock,
        )
        filas = list(filas_db)
        paginas = max(1, -(-total // PAGINA))
    filtros = {"q": q, "categoria": categoria, "stock": stock, "estado": estado}
    return _page(
        request,
        yo,
        "productos/lista.html",
        productos=filas,
        total=total,
        pagina=numero,
        paginas=paginas,
        filtros=filtros,
        categorias=productos_service.categories(session=session),
    )


@router.get("/productos/nuevo")
def producto_nuevo(request: Request, yo: PanelStaff) -> Response:
    """The empty product form."""
    return _page(request, yo, "productos/form.html", producto=None, valores={"stock": "0"}, errores={})


@router.post("/productos/nuevo")
def producto_crear(request: Request, session: SessionDep, yo: PanelPost, form: FormDep) -> Response:
    """Create a product with the API's validation; errors are shown beside each field."""
    valores = campos(form, PRODUCTO_CAMPOS)
    datos, errores = validar(ProductoCreate, {**valores, "activo": True})
    if datos is not None:
        try:
            producto = productos_service.create(session=session, datos=datos)
            return _redirect(f"/panel/productos/{producto.id}?guardado=1")
        except SkuDuplicado as exc:
            _fail(session)
            errores["sku"] = exc.message
    return _page(request, yo, "productos/form.html", 422, producto=None, valores=valores, errores=errores)


@router.get("/productos/importar")
def importar_form(request: Request, yo: PanelAdmin) -> Response:
    """The import form (CSV or XLSX), admins only as in the API."""
    return _page(request, yo, "productos/importar.html", resultado=None, error=None)


@router.post("/productos/importar")
def importar(request: Request, session: SessionDep, yo: PanelAdminPost, form: FormDep) -> Response:
    """Import a catalog file, or only simulate it; a file with bad rows writes nothing and lists them."""
    archivo = form.get("archivo")
    if not isinstance(archivo, UploadFile) or not archivo.filename:
        return _page(request, yo, "productos/importar.html", 422, resultado=None, error="Elija un fichero CSV o XLSX")
    simular = form.get("simular") == "on"
    try:
        resultado = import_productos(
            session=session, data=archivo.file.read(), filename=archivo.filename, simular=simular
        ).model_dump()
    except ImportacionInvalida as exc:
        _fail(session)
        return _page(request, yo, "productos/importar.html", 422, resultado=exc.extra, error=exc.message)
    return _page(request, yo, "productos/importar.html", resultado=resultado, error=None)


@router.get("/productos/{producto_id}")
def producto_editar(
    request: Request, session: SessionDep, yo: PanelStaff, producto_id: IdPath, guardado: Texto = None
) -> Response:
    """A product's edit form."""
    producto = productos_service.get(session=session, producto_id=producto_id)
    valores = {
        name: "" if getattr(producto, name) is None else str(getattr(producto, name)) for name in PRODUCTO_CAMPOS
    }
    return _page(
        request, yo, "productos/form.html", producto=producto, valores=valores, errores={}, guardado=bool(guardado)
    )


@router.post("/productos/{producto_id}")
def producto_guardar(
    request: Request, session: SessionDep, yo: PanelPost, form: FormDep, producto_id: IdPath
) -> Response:
    """Save the whole form: emptied optional fields are cleared, required ones must stay filled."""
    producto = productos_service.get(session=session, producto_id=producto_id)
    valores = campos(form, PRODUCTO_CAMPOS)
    errores = {name: "es obligatorio" for name in ("nombre", "precio", "stock") if name not in valores}
    cambios = {name: valores.get(name) for name in PRODUCTO_CAMPOS if name in valores or name not in errores}
    datos, errores_modelo = validar(ProductoUpdate, cambios)
    errores = {**errores_modelo, **errores}
    if datos is not None and not errores:
        try:
            productos_service.update(session=session, producto_id=producto_id, datos=datos)
            return _redirect(f"/panel/productos/{producto_id}?guardado=1")
        except SkuDuplicado as exc:
            _fail(session)
            errores["sku"] = exc.message
    return _page(request, yo, "productos/form.html", 422, producto=producto, valores=valores, errores=errores)


@router.post("/productos/{producto_id}/desactivar")
def producto_desactivar(session: SessionDep, _yo: PanelPost, producto_id: IdPath) -> Response:
    """Soft delete, as `DELETE /productos/{id}`."""
    productos_service.deactivate(session=session, producto_id=producto_id)
    return _redirect(f"/panel/productos/{producto_id}?guardado=1")


# ---- pedidos --------------------------------------------------------------------------------------------


@router.get("/pedidos")
def pedidos(
    request: Request,
    session: SessionDep,
    yo: PanelStaff,
    estado: EstadoVenta | None = None,
    fecha_desde: Texto = None,
    fecha_hasta: Texto = None,
    cliente_id: Annotated[str | None, Query(max_length=10)] = None,
    pagina: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """Orders, newest first, with the API's filters."""
    errores: dict[str, str] = {}
    desde = _fecha(fecha_desde, "fecha_desde", errores)
    hasta = _fecha(fecha_hasta, "fecha_hasta", errores)
    cliente = int(cliente_id) if cliente_id and cliente_id.isdigit() and 0 < int(cliente_id) <= MAX_DB_INT else None
    if cliente_id and cliente is None:
        errores["cliente_id"] = "debe ser un número entero mayor o igual que 1"
    numero = pagina_actual(pagina)
    filas, total = ventas_service.list_ventas(
        session=session,
        skip=(numero - 1) * PAGINA,
        limit=PAGINA,
        cliente_id=cliente,
        estado=estado,
        fecha_desde=desde,
        fecha_hasta=hasta,
    )
    filtros = {"estado": estado.value if estado else None, "fecha_desde": fecha_desde, "fecha_hasta": fecha_hasta,
               "cliente_id": cliente_id}  # fmt: skip
    return _page(
        request,
        yo,
        "pedidos/lista.html",
        422 if errores else 200,
        pedidos=filas,
        total=total,
        pagina=numero,
        paginas=max(1, -(-total // PAGINA)),
        filtros=filtros,
        errores=errores,
        estados=list(EstadoVenta),
    )


@router.get("/pedidos/{venta_id}")
def pedido(request: Request, session: SessionDep, yo: PanelStaff, venta_id: IdPath) -> Response:
    """An order with its lines, history and the state changes allowed from here."""
    venta = ventas_service.get(session=session, venta_id=venta_id)
    siguientes = sorted(ventas_service.TRANSICIONES[EstadoVenta(venta.estado)])
    return _page(request, yo, "pedidos/detalle.html", venta=VentaResponse.from_venta(venta), siguientes=siguientes)


@router.post("/pedidos/{venta_id}/estado")
def pedido_estado(session: SessionDep, yo: PanelPost, form: FormDep, venta_id: IdPath) -> Response:
    """Change an order's state with the service's rules (cancelling returns the stock)."""
    valor = texto(form, "estado") or ""
    if valor not in {e.value for e in EstadoVenta}:
        raise AppError(f"Estado no válido: {valor[:30]!r}", status_code=422, code="validacion")
    ventas_service.change_state(session=session, venta_id=venta_id, estado=EstadoVenta(valor), usuario=yo.usuario.email)
    return _redirect(f"/panel/pedidos/{venta_id}")


# ---- clientes -------------------------------------------------------------------------------------------


@router.get("/clientes")
def clientes(
    request: Request,
    session: SessionDep,
    rag: RagDep,
    yo: PanelStaff,
    q: Annotated[str | None, Query(max_length=100)] = None,
    estado: Annotated[str | None, Query(pattern="^(activos|inactivos|todos)?$")] = None,
    pagina: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """Clientes: the API's search (exact first, then typos and meaning), or the newest first."""
    numero = pagina_actual(pagina)
    if q and q.strip():
        filas = [r.item for r in clientes_busqueda.search_clientes(session=session, rag=rag, q=q, limit=50)]
        total, paginas = len(filas), 1
    else:
        activo = {"inactivos": False, "todos": None}.get(estado or "", True)
        filas_db, total = clientes_service.list_clientes(
            session=session, skip=(numero - 1) * PAGINA, limit=PAGINA, activo=activo
        )
        filas, paginas = list(filas_db), max(1, -(-total // PAGINA))
    return _page(
        request,
        yo,
        "clientes/lista.html",
        clientes=filas,
        total=total,
        pagina=numero,
        paginas=paginas,
        filtros={"q": q, "estado": estado},
    )


def _cliente_page(
    request: Request, session: Session, yo: PanelUsuario, cliente_id: int, status_code: int = 200, **contexto: Any
) -> Response:
    historial = ventas_service.purchase_history(session=session, cliente_id=cliente_id)
    cliente = historial.cliente
    valores = {name: getattr(cliente, name) or "" for name in CLIENTE_CAMPOS}
    contexto = {"valores": valores, "errores": {}, **contexto}
    return _page(request, yo, "clientes/detalle.html", status_code, cliente=cliente, historial=historial, **contexto)


@router.get("/clientes/{cliente_id}")
def cliente(
    request: Request, session: SessionDep, yo: PanelStaff, cliente_id: IdPath, guardado: Texto = None
) -> Response:
    """A cliente with their purchase history and the edit form."""
    return _cliente_page(request, session, yo, cliente_id, guardado=bool(guardado))


@router.post("/clientes/{cliente_id}")
def cliente_guardar(
    request: Request, session: SessionDep, yo: PanelPost, form: FormDep, cliente_id: IdPath
) -> Response:
    """Save a cliente with the API's validation; emptied phone or address are cleared."""
    clientes_service.get(session=session, cliente_id=cliente_id)
    valores = campos(form, CLIENTE_CAMPOS)
    errores = {name: "es obligatorio" for name in ("nombre", "email") if name not in valores}
    datos, errores_modelo = validar(ClienteUpdate, {name: valores.get(name) for name in CLIENTE_CAMPOS
                                                    if name in valores or name not in errores})  # fmt: skip
    errores = {**errores_modelo, **errores}
    if datos is not None and not errores:
        try:
            clientes_service.update(session=session, cliente_id=cliente_id, datos=datos)
            return _redirect(f"/panel/clientes/{cliente_id}?guardado=1")
        except EmailDuplicado as exc:
            _fail(session)
            errores["email"] = exc.message
    return _cliente_page(request, session, yo, cliente_id, 422, valores=valores, errores=errores)


@router.post("/clientes/{cliente_id}/desactivar")
def cliente_desactivar(session: SessionDep, _yo: PanelPost, cliente_id: IdPath) -> Response:
    """Soft delete, as `DELETE /clientes/{id}`."""
    clientes_service.deactivate(session=session, cliente_id=cliente_id)
    return _redirect(f"/panel/clientes/{cliente_id}?guardado=1")


# ---- conversaciones -------------------------------------------------------------------------------------


def _chats(session: Session) -> list[Any]:
    """Chats waiting for a person first, then the others by latest activity."""
    esperando, _ = supervision.list_chats(session=session, estado=EstadoConversacion.REQUIERE_HUMANO, limit=100)
    recientes, _ = supervision.list_chats(session=session, limit=100)
    vistos = {c.id for c in esperando}
    return [*esperando, *(c for c in recientes if c.id not in vistos)]


@router.get("/conversaciones")
def conversaciones(request: Request, session: SessionDep, yo: PanelStaff) -> Response:
    """The live list of chats (the list refreshes itself every few seconds)."""
    return _page(request, yo, "conversaciones/lista.html", chats=_chats(session))


@router.get("/conversaciones/filas")
def conversaciones_filas(request: Request, session: SessionDep, yo: PanelStaff) -> Response:
    """The rows of the chat list, for the page's periodic refresh."""
    return _page(request, yo, "conversaciones/_filas.html", chats=_chats(session))


@router.get("/conversaciones/{chat_id}")
def conversacion(
    request: Request, session: SessionDep, yo: PanelStaff, chat_id: ChatIdPath, error: Texto = None
) -> Response:
    """A chat's history and cart, with take over / give back and the reply box."""
    chat = supervision.detalle(session=session, chat_id=chat_id)
    canal = getattr(supervision.get(session=session, chat_id=chat_id), "canal", None)
    return _page(request, yo, "conversaciones/detalle.html", chat=chat, canal=canal, error=error)


@router.get("/conversaciones/{chat_id}/mensajes")
def conversacion_mensajes(request: Request, session: SessionDep, yo: PanelStaff, chat_id: ChatIdPath) -> Response:
    """The messages of a chat, for the page's periodic refresh: new customer messages appear without reloading."""
    chat = supervision.detalle(session=session, chat_id=chat_id)
    return _page(request, yo, "conversaciones/_mensajes.html", chat=chat)


@router.post("/conversaciones/{chat_id}/tomar")
def conversacion_tomar(session: SessionDep, _yo: PanelPost, chat_id: ChatIdPath) -> Response:
    """A person takes the chat: the agent stays silent."""
    supervision.set_ia(session=session, chat_id=chat_id, ia_activa=False)
    return _redirect(f"/panel/conversaciones/{chat_id}")


@router.post("/conversaciones/{chat_id}/devolver")
def conversacion_devolver(session: SessionDep, _yo: PanelPost, chat_id: ChatIdPath) -> Response:
    """Give the chat back to the agent."""
    supervision.set_ia(session=session, chat_id=chat_id, ia_activa=True)
    return _redirect(f"/panel/conversaciones/{chat_id}")


@router.post("/conversaciones/{chat_id}/responder")
def conversacion_responder(
    request: Request, session: SessionDep, yo: PanelPost, form: FormDep, chat_id: ChatIdPath
) -> Response:
    """A staff reply (which takes the chat over), validated like `POST /rag/chats/{chat_id}/mensajes`."""
    datos, errores = validar(MensajeHumanoCreate, {"texto": form.get("texto") or ""})
    if datos is None:
        chat = supervision.detalle(session=session, chat_id=chat_id)
        error = f"Respuesta: {errores.get('texto', 'no válida')}"
        return _page(request, yo, "conversaciones/detalle.html", 422, chat=chat, canal=None, error=error)
    supervision.add_staff_message(session=session, chat_id=chat_id, texto=datos.texto, autor=yo.usuario.email)
    return _redirect(f"/panel/conversaciones/{chat_id}")


# ---- exportaciones --------------------------------------------------------------------------------------


def _exportaciones_page(
    request: Request, session: Session, yo: PanelUsuario, status_code: int = 200, **contexto: Any
) -> Response:
    historial, _ = exportar_service.history(session=session, limit=50)
    contexto = {"valores": {"entidad": "ventas", "formato": "excel"}, "errores": {}, **contexto}
    return _page(
        request,
        yo,
        "exportaciones.html",
        status_code,
        historial=historial,
        entidades=list(ENTIDADES),
        formatos=FORMATOS,
        **contexto,
    )


@router.get("/exportaciones")
def exportaciones(request: Request, session: SessionDep, yo: PanelAdmin) -> Response:
    """Choose entity, format and dates; the export history below (admins only, as in the API)."""
    return _exportaciones_page(request, session, yo)


@router.post("/exportaciones")
def exportar(request: Request, session: SessionDep, yo: PanelAdminPost, form: FormDep) -> Response:
    """Download an export through the same code as `GET /exportar/{entidad}` (history, limits, file copy)."""
    valores = campos(form, ("entidad", "formato", "fecha_desde", "fecha_hasta"))
    entidad = valores.get("entidad", "")
    exportable = ENTIDADES.get(cast(Entidad, entidad))
    errores: dict[str, str] = {} if exportable else {"entidad": "debe ser uno de: " + ", ".join(ENTIDADES)}
    datos: dict[str, Any] = {"formato": valores.get("formato", "csv"), "bom": valores.get("formato") == "csv"}
    for nombre in ("fecha_desde", "fecha_hasta"):
        dia = _fecha(valores.get(nombre), nombre, errores)
        if dia is not None and exportable is not None and nombre in exportable.filtros.model_fields:
            # Whole days: `hasta` includes its last microsecond, as the form speaks in days.
            datos[nombre] = f"{dia.isoformat()}T23:59:59.999999Z" if nombre == "fecha_hasta" else dia.isoformat()
    if exportable is not None and not errores:
        filtros, errores = validar(exportable.filtros, datos)
        if filtros is not None:
            return export_response(request, session, yo.usuario.email, cast(Entidad, entidad), cast(Filtros, filtros))
    return _exportaciones_page(request, session, yo, 422, valores=valores, errores=errores)


# ---- usuarios -------------------------------------------------------------------------------------------


def _usuarios_page(
    request: Request, session: Session, yo: PanelUsuario, status_code: int = 200, **contexto: Any
) -> Response:
    contexto = {"valores": {"rol": "vendedor"}, "errores": {}, "error": None, **contexto}
    return _page(
        request, yo, "usuarios.html", status_code, usuarios=auth_service.list_usuarios(session=session), **contexto
    )


@router.get("/usuarios")
def usuarios(request: Request, session: SessionDep, yo: PanelAdmin) -> Response:
    """Staff users (admins only)."""
    return _usuarios_page(request, session, yo)


@router.post("/usuarios")
def usuario_crear(request: Request, session: SessionDep, yo: PanelAdminPost, form: FormDep) -> Response:
    """Create a staff user with the API's rules (password length, unique e-mail)."""
    valores = campos(form, ("email", "nombre", "rol", "password"))
    datos, errores = validar(UsuarioCreate, valores)
    if datos is not None:
        try:
            auth_service.create(session=session, datos=datos)
            return _redirect("/panel/usuarios")
        except UsuarioDuplicado as exc:
            _fail(session)
            errores["email"] = exc.message
    valores.pop("password", None)
    return _usuarios_page(request, session, yo, 422, valores=valores, errores=errores)


@router.post("/usuarios/{usuario_id}")
def usuario_cambiar(
    request: Request, session: SessionDep, yo: PanelAdminPost, form: FormDep, usuario_id: IdPath
) -> Response:
    """Change a user's role or state; the last active admin is protected, as in the API."""
    cambios: dict[str, Any] = campos(form, ("rol",))
    if (activo := texto(form, "activo")) is not None:
        cambios["activo"] = activo
    datos, errores = validar(UsuarioUpdate, cambios)
    if datos is None:
        error = "; ".join(f"{campo}: {mensaje}" for campo, mensaje in errores.items())
        return _usuarios_page(request, session, yo, 422, error=error)
    try:
        auth_service.update(session=session, usuario_id=usuario_id, datos=datos)
    except UltimoAdmin as exc:
        _fail(session)
        return _usuarios_page(request, session, yo, exc.status_code, error=exc.message)
    return _redirect("/panel/usuarios")
