"""Staff views of the chats, human takeover, validation, rate limit and the lost-sales report."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings
from tests.agente.conftest import Chat, ventas
from tests.conftest import StaffMember


def test_takeover_silences_the_agent_but_keeps_the_messages(
    client: TestClient, anon_client: TestClient, catalogo: dict[str, int], app: FastAPI
) -> None:
    chat = Chat(anon_client, "takeover")
    chat("¿tienen taladros?")
    cambio = client.patch("/rag/chats/takeover", json={"ia_activa": False})
    assert cambio.status_code == 200 and cambio.json()["estado"] == "atendido_por_humano"
    silencio = chat("quiero dos del primero")
    assert silencio["respuesta"] is None and silencio["estado"] == "atendido_por_humano"
    assert silencio["carrito"] is None
    staff = client.post("/rag/chats/takeover/mensajes", json={"texto": "Hola, soy Marta. ¿Le ayudo?"})
    assert staff.status_code == 201 and staff.json()["rol"] == "humano"
    historial = client.get("/rag/chats/takeover").json()["historial"]
    assert [m["rol"] for m in historial] == ["cliente", "agente", "cliente", "humano"]
    assert historial[2]["texto"] == "quiero dos del primero"
    assert historial[3]["autor"].endswith("@tienda.example.com")
    assert client.patch("/rag/chats/takeover", json={"ia_activa": True}).json()["estado"] == "activa"
    assert chat("quiero dos del primero")["carrito"]["unidades"] == 2
    assert ventas(app) == []


def test_asking_for_a_person_flags_the_chat_for_staff(
    client: TestClient, anon_client: TestClient, catalogo: dict[str, int]
) -> None:
    respuesta = Chat(anon_client, "persona")("quiero hablar con una persona")
    assert respuesta["intencion"] == "hablar_con_humano" and respuesta["estado"] == "requiere_humano"
    Chat(anon_client, "otro")("hola")
    marcados = client.get("/rag/chats", params={"estado": "requiere_humano"})
    assert [c["chat_id"] for c in marcados.json()] == ["persona"]
    assert marcados.headers["X-Total-Count"] == "1"
    todos = client.get("/rag/chats").json()
    assert {c["chat_id"] for c in todos} == {"persona", "otro"}


def test_chats_filter_by_cliente_and_date(
    client: TestClient, anon_client: TestClient, catalogo: dict[str, int]
) -> None:
    chat = Chat(anon_client, "con-cliente")
    chat("¿tienen taladros?")
    chat("quiero uno del primero")
    chat("Me llamo Ana Gil, ana.gil@example.com")
    Chat(anon_client, "sin-cliente")("hola")
    cliente_id = client.get("/rag/chats/con-cliente").json()["cliente_id"]
    assert cliente_id is not None
    por_cliente = client.get("/rag/chats", params={"cliente_id": cliente_id}).json()
    assert [c["chat_id"] for c in por_cliente] == ["con-cliente"]
    futuro = client.get("/rag/chats", params={"fecha_desde": "2999-01-01T00:00:00Z"}).json()
    assert futuro == []


def test_the_detail_shows_the_cart_and_never_exists_for_unknown_chats(
    client: TestClient, anon_client: TestClient, catalogo: dict[str, int]
) -> None:
    chat = Chat(anon_client, "detalle")
    chat("¿tienen cafeteras?")
    chat("quiero dos de la primera")
    detalle = client.get("/rag/chats/detalle").json()
    assert detalle["carrito"]["unidades"] == 2 and detalle["mensajes"] == 4
    for metodo, ruta, cuerpo in (
        ("GET", "/rag/chats/no-existe", None),
        ("PATCH", "/rag/chats/no-existe", {"ia_activa": False}),
        ("POST", "/rag/chats/no-existe/mensajes", {"texto": "hola"}),
    ):
        respuesta = client.request(metodo, ruta, json=cuerpo)
        assert respuesta.status_code == 404 and respuesta.json()["code"] == "conversacion_no_encontrada"


def test_staff_routes_need_a_token_and_a_staff_role(
    anon_client: TestClient, make_user: Callable[..., StaffMember]
) -> None:
    for ruta in ("/rag/chats", "/rag/chats/x", "/rag/demanda-insatisfecha"):
        assert anon_client.get(ruta).status_code == 401


def test_malformed_queries_are_422(anon_client: TestClient) -> None:
    for cuerpo in (
        {"query": "", "chat_id": "a"},
        {"query": "x" * 2001, "chat_id": "a"},
        {"query": "hola", "chat_id": ""},
        {"query": "hola", "chat_id": "a" * 129},
        {"query": "hola", "chat_id": "con espacio"},
        {"query": "hola", "chat_id": "ñandú"},
        {"query": "hola"},
        {"query": "hola", "chat_id": "a", "extra": 1},
    ):
        respuesta = anon_client.post("/rag/query", json=cuerpo)
        assert respuesta.status_code == 422, cuerpo
        assert respuesta.json()["code"] == "validacion"


def test_control_characters_and_blank_messages_are_refused(
    anon_client: TestClient, client: TestClient, catalogo: dict[str, int]
) -> None:
    nul = anon_client.post("/rag/query", json={"query": "hola\x00\x07", "chat_id": "nul"})
    assert nul.status_code == 422
    assert nul.json()["errores"][0] == {
        "campo": "query",
        "ubicacion": "body",
        "mensaje": "contiene caracteres de control no permitidos",
    }
    blank = anon_client.post("/rag/query", json={"query": "   ", "chat_id": "nul"})
    assert blank.status_code == 422 and blank.json()["errores"][0]["mensaje"] == "no puede estar vacío"
    assert client.get("/rag/chats/nul").status_code == 404  # nothing was stored


def test_the_query_endpoint_is_rate_limited_per_address(settings: Settings, catalogo: dict[str, int]) -> None:
    app = create_app(settings.model_copy(update={"RATE_LIMIT_RAG": "2/minute"}))
    with TestClient(app) as cliente:
        codigos = [cliente.post("/rag/query", json={"query": "hola", "chat_id": "rl"}).status_code for _ in range(3)]
        assert codigos == [200, 200, 429]
        ultimo = cliente.post("/rag/query", json={"query": "hola", "chat_id": "rl"})
        assert ultimo.json()["code"] == "limite_excedido" and "Retry-After" in ultimo.headers


def test_unmet_demand_groups_lost_sales_and_lists_abandoned_carts(
    client: TestClient, anon_client: TestClient, catalogo: dict[str, int]
) -> None:
    uno, dos = Chat(anon_client, "d1"), Chat(anon_client, "d2")
    uno("¿tienen submarinos?")
    dos("¿tienen submarinos?")
    uno("quiero un medidor láser")
    dos("¿tienen taladros?")
    dos("quiero tres del primero")
    informe = client.get("/rag/demanda-insatisfecha", params={"abandono_horas": 0}).json()
    por_tipo = {(i["tipo"], i["producto"] or i["consulta"]): i for i in informe["items"]}
    assert por_tipo[("sin_producto", "¿tienen submarinos?")]["veces"] == 2
    assert por_tipo[("sin_stock", "Medidor láser 40 m")]["unidades"] == 1
    [carrito] = informe["carritos_abandonados"]
    assert carrito["chat_id"] == "d2" and carrito["unidades"] == 3 and carrito["total"] == "179.70"
    reciente = client.get("/rag/demanda-insatisfecha").json()
    assert reciente["carritos_abandonados"] == []


def test_conversations_export_through_the_export_machinery(
    client: TestClient, anon_client: TestClient, catalogo: dict[str, int]
) -> None:
    Chat(anon_client, "exp-1")("¿tienen taladros?")
    Chat(anon_client, "exp-2")('=HYPERLINK("http://x")')
    csv_resp = client.get("/exportar/conversaciones")
    assert csv_resp.status_code == 200 and csv_resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_resp.headers["content-disposition"]
    assert csv_resp.headers["X-Total-Count"] == "4"
    filas = list(csv.DictReader(io.StringIO(csv_resp.content.decode("utf-8-sig"))))
    assert [(f["chat_id"], f["rol"]) for f in filas] == [
        ("exp-1", "cliente"),
        ("exp-1", "agente"),
        ("exp-2", "cliente"),
        ("exp-2", "agente"),
    ]
    assert not filas[2]["texto"].startswith("=")  # neutralised for spreadsheets
    datos = client.get("/exportar/conversaciones", params={"formato": "json", "chat_id": "exp-1"}).json()
    assert [d["texto"] for d in datos][0] == "¿tienen taladros?" and len(datos) == 2
    vacio = client.get("/exportar/conversaciones", params={"formato": "json", "fecha_desde": "2999-01-01T00:00:00Z"})
    assert vacio.json() == []
    historial = client.get("/exportar/historial").json()
    assert historial[0]["entidad"] == "conversaciones"
    assert anon_client.get("/exportar/conversaciones").status_code == 401


def test_out_of_range_dates_are_422_not_500(client: TestClient) -> None:
    for ruta in ("/rag/chats", "/rag/demanda-insatisfecha"):
        respuesta = client.get(ruta, params={"fecha_desde": "0001-01-01T00:00:00+05:00"})
        assert respuesta.status_code == 422 and respuesta.json()["code"] == "validacion"
