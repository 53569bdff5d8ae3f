"""The web widget's API and files over HTTP: messages, history after an id, quick replies, CORS, CSP, hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agente_vendedor.canales.horario import parse_horario
from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings
from tests.conftest import _wipe
from tests.rag.conftest import reset_index, seed_catalog

CHAT = "web-" + "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"


@pytest.fixture(autouse=True)
def _clean_index(app: FastAPI) -> Iterator[None]:
    reset_index(app)
    yield
    reset_index(app)


def _enviar(client: TestClient, texto: str, despues: int = 0, chat_id: str = CHAT) -> dict:  # type: ignore[type-arg]
    r = client.post("/canales/web/mensajes", json={"chat_id": chat_id, "texto": texto, "despues": despues})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_widget_conversation_with_cards_cart_options_and_history(anon_client: TestClient, app: FastAPI) -> None:
    seed_catalog(app)
    vacio = anon_client.get(f"/canales/web/chats/{CHAT}").json()
    assert vacio["mensajes"] == [] and vacio["carrito"] is None

    uno = _enviar(anon_client, "¿tienen taladros?")
    assert [m["rol"] for m in uno["mensajes"]] == ["cliente", "agente"]
    tarjetas = uno["mensajes"][1]["productos"]
    assert {"nombre": "Taladro percutor 750W", "precio": "59.90", "stock": 12} in [
        {k: t[k] for k in ("nombre", "precio", "stock")} for t in tarjetas
    ]
    assert uno["opciones"][:2] == ["Quiero el primero", "Quiero el segundo"]

    dos = _enviar(anon_client, uno["opciones"][0], despues=uno["ultimo_id"])
    assert [m["rol"] for m in dos["mensajes"]] == ["cliente", "agente"]  # only what is new
    assert dos["carrito"]["total"] == "59.90" and dos["carrito"]["lineas"][0]["cantidad"] == 1

    tres = _enviar(anon_client, "Me llamo Ana García, ana.garcia@example.com", despues=dos["ultimo_id"])
    assert tres["opciones"] == ["Sí, confirmo", "Ver carrito", "Cancelar el pedido"]
    cuatro = _enviar(anon_client, "Sí, confirmo", despues=tres["ultimo_id"])
    assert "Pedido realizado" in cuatro["mensajes"][-1]["texto"]
    assert cuatro["carrito"] is None

    historial = anon_client.get(f"/canales/web/chats/{CHAT}").json()
    assert len(historial["mensajes"]) == 8
    assert historial["ultimo_id"] == cuatro["ultimo_id"]
    assert (
        anon_client.get(f"/canales/web/chats/{CHAT}", params={"despues": cuatro["ultimo_id"]}).json()["mensajes"] == []
    )


def test_staff_reply_reaches_the_widget_once_and_without_the_staff_email(
    anon_client: TestClient, client: TestClient
) -> None:
    primero = _enviar(anon_client, "hola")
    assert client.patch(f"/rag/chats/{CHAT}", json={"ia_activa": False}).status_code == 200
    r = client.post(f"/rag/chats/{CHAT}/mensajes", json={"texto": "Hola, soy Marta"})
    assert r.status_code == 201 and r.json()["entrega"] is None  # the web reads it by polling
    nuevos = anon_client.get(f"/canales/web/chats/{CHAT}", params={"despues": primero["ultimo_id"]}).json()
    assert [(m["rol"], m["texto"]) for m in nuevos["mensajes"]] == [("humano", "Hola, soy Marta")]
    assert "autor" not in nuevos["mensajes"][0]
    assert nuevos["estado"] == "atendido_por_humano" and nuevos["opciones"] == []
    despues = anon_client.get(f"/canales/web/chats/{CHAT}", params={"despues": nuevos["ultimo_id"]}).json()
    assert despues["mensajes"] == []


def test_channels_do_not_mix(anon_client: TestClient) -> None:
    api_chat = "web-" + "f" * 32
    assert anon_client.post("/rag/query", json={"query": "hola", "chat_id": api_chat}).status_code == 200
    # A chat begun on the API is neither writable nor readable from the widget, and the other way round.
    r = anon_client.post("/canales/web/mensajes", json={"chat_id": api_chat, "texto": "hola"})
    assert r.status_code == 409 and r.json()["code"] == "conversacion_de_otro_canal"
    assert anon_client.get(f"/canales/web/chats/{api_chat}").json()["mensajes"] == []
    _enviar(anon_client, "hola")
    assert anon_client.post("/rag/query", json={"query": "hola", "chat_id": CHAT}).status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"chat_id": "web-corto", "texto": "hola"},
        {"chat_id": "wa-" + "a" * 30, "texto": "hola"},
        {"chat_id": CHAT, "texto": ""},
        {"chat_id": CHAT, "texto": "a\x00b"},
        {"chat_id": CHAT, "texto": "x" * 2001},
        {"chat_id": CHAT, "texto": "hola", "despues": -1},
        {"chat_id": CHAT, "texto": "hola", "otro": 1},
        {"chat_id": CHAT, "texto": 5},
    ],
)
def test_bad_widget_input_is_422_naming_the_field(anon_client: TestClient, body: dict) -> None:  # type: ignore[type-arg]
    r = anon_client.post("/canales/web/mensajes", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errores"]


def test_widget_files_are_small_and_the_demo_page_runs_under_a_strict_csp(anon_client: TestClient) -> None:
    js = anon_client.get("/widget.js")
    css = anon_client.get("/widget.css")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert len(js.content) + len(css.content) < 30 * 1024
    demo = anon_client.get("/widget/demo")
    assert demo.status_code == 200
    csp = demo.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert '<script src="/widget.js"' in demo.text and "<script>" not in demo.text and "style=" not in demo.text


def test_widget_cors_follows_widget_origins(settings: Settings, app: FastAPI) -> None:
    tienda = "https://mitienda.example.com"
    datos = settings.model_dump() | {"WIDGET_ORIGINS": tienda}
    propia = create_app(Settings(_env_file=None, **datos))
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    with TestClient(propia) as client:
        ok = client.options("/canales/web/mensajes", headers={"Origin": tienda, **preflight})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == tienda
        otra = client.options("/canales/web/mensajes", headers={"Origin": "https://otra.example.com", **preflight})
        assert otra.status_code == 400 and "access-control-allow-origin" not in otra.headers
        r = client.get(f"/canales/web/chats/{CHAT}", headers={"Origin": tienda})
        assert r.headers["access-control-allow-origin"] == tienda
        r = client.get(f"/canales/web/chats/{CHAT}", headers={"Origin": "https://otra.example.com"})
        assert "access-control-allow-origin" not in r.headers
        # The staff API keeps its own CORS policy: the shop's site is not let in there.
        r = client.get("/rag/chats", headers={"Origin": tienda})
        assert "access-control-allow-origin" not in r.headers
    _wipe(propia)


def test_business_hours() -> None:
    horario = parse_horario("lun-vie 09:00-14:00,16:00-20:00; sab 10:00-14:00", UTC)
    lunes = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday
    assert horario.abierto(lunes.replace(hour=9)) and horario.abierto(lunes.replace(hour=19, minute=59))
    assert not horario.abierto(lunes.replace(hour=15)) and not horario.abierto(lunes.replace(hour=20))
    sabado, domingo = datetime(2026, 12, 5, 11, tzinfo=UTC), datetime(2026, 12, 6, 11, tzinfo=UTC)
    assert horario.abierto(sabado) and not horario.abierto(domingo)
    assert parse_horario("", UTC).abierto(lunes) and not parse_horario("cerrado", UTC).abierto(lunes)
    for malo in ("lunes a viernes", "lun 9-14", "xyz 09:00-10:00", "lun 14:00-09:00", "lun 25:00-26:00"):
        with pytest.raises(ValueError):
            parse_horario(malo)


def test_outside_hours_the_widget_says_so_and_still_answers(settings: Settings) -> None:
    datos = settings.model_dump() | {"HORARIO_ATENCION": "cerrado"}
    cerrada = create_app(Settings(_env_file=None, **datos))
    with TestClient(cerrada) as client:
        config = client.get("/canales/web/config").json()
        assert config["abierto"] is False and "fuera del horario" in config["aviso"]
        respuesta = _enviar(client, "hola")
        assert respuesta["abierto"] is False and respuesta["mensajes"][-1]["rol"] == "agente"
    _wipe(cerrada)


def test_half_configured_channels_refuse_to_start() -> None:
    with pytest.raises(ValueError, match="WhatsApp está configurado a medias"):
        Settings(_env_file=None, WHATSAPP_TOKEN="x")
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        Settings(_env_file=None, TELEGRAM_BOT_TOKEN="x")


def test_metrics_count_messages_per_channel(anon_client: TestClient) -> None:
    _enviar(anon_client, "hola")
    anon_client.post("/rag/query", json={"query": "hola", "chat_id": "api-1"})
    metricas = anon_client.get("/metrics").text
    assert 'canal_mensajes_total{canal="web",direccion="entrante"}' in metricas
    assert 'canal_mensajes_total{canal="api",direccion="entrante"}' in metricas
