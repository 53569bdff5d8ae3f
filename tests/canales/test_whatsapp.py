"""WhatsApp Cloud API: handshake, signatures, dedupe, a whole purchase, outages, the 24-hour rule and takeover,
against a real local fake of the Graph API."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from agente_vendedor.agente.models import Conversacion
from agente_vendedor.canales.models import CanalContacto, CanalEntrante, CanalSaliente
from agente_vendedor.clientes import service as clientes_service
from agente_vendedor.clientes.models import Cliente
from agente_vendedor.clientes.schemas import ClienteCreate
from agente_vendedor.core.db import utcnow
from tests.canales.conftest import (
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    WA_TOKEN,
    FakeApi,
    contacto,
    contar,
    enviar_wa,
    esperar,
    firmar,
    mensajes,
    salientes,
    wa_payload,
)
from tests.rag.conftest import seed_catalog

NUMERO = "34600111222"


def _respuestas(fake: FakeApi, n: int) -> list[str]:
    """Wait for n delivered WhatsApp texts and return them."""
    return list(esperar(lambda: (t := fake.textos()) and len(t) >= n and t, que=f"{n} respuestas enviadas"))


def test_verification_handshake(wa: TestClient) -> None:
    ok = wa.get(
        "/canales/whatsapp/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert ok.status_code == 200
    assert ok.text == "1158201444"
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "otro", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
    ):
        assert wa.get("/canales/whatsapp/webhook", params=params).status_code == 403


def test_bad_or_missing_signature_is_401_and_stores_nothing(wa: TestClient, canales_app: FastAPI) -> None:
    cuerpo = json.dumps(wa_payload("hola")).encode()
    otra = firmar(cuerpo, "otro-secreto")
    casos = [
        {"X-Hub-Signature-256": otra},
        {"X-Hub-Signature-256": firmar(b"otro cuerpo")},
        {"X-Hub-Signature-256": firmar(cuerpo).removeprefix("sha256=")},
        {"X-Hub-Signature-256": "sha256=zz"},
        {},
    ]
    for cabeceras in casos:
        r = wa.post(
            "/canales/whatsapp/webhook", content=cuerpo, headers={"Content-Type": "application/json", **cabeceras}
        )
        assert r.status_code == 401, cabeceras
        assert r.json()["code"] == "firma_no_valida"
    # Not even malformed JSON is looked at without a valid signature.
    assert (
        wa.post("/canales/whatsapp/webhook", content=b"{no es json", headers={"X-Hub-Signature-256": otra}).status_code
        == 401
    )
    assert contar(canales_app, CanalEntrante) == 0
    assert contar(canales_app, Conversacion) == 0


def test_duplicate_delivery_gets_one_reply(wa: TestClient, canales_app: FastAPI, fake_api: FakeApi) -> None:
    payload = wa_payload("hola", wamid="wamid.DUPLICADO1")
    primera = enviar_wa(wa, payload)
    assert primera.status_code == 200 and primera.json()["nuevos"] == 1
    for _ in range(3):  # Meta re-delivers
        r = enviar_wa(wa, payload)
        assert r.status_code == 200 and r.json()["nuevos"] == 0
    _respuestas(fake_api, 1)
    canales_app.state.canales.trabajador.pasada()  # nothing left to do
    assert len(fake_api.enviados("/messages")) == 1
    assert contar(canales_app, CanalEntrante) == 1
    chat = contacto(canales_app, NUMERO).chat_id
    assert [m.rol for m in mensajes(canales_app, chat)] == ["cliente", "agente"]


def test_whole_purchase_over_whatsapp_ends_in_one_order(
    wa: TestClient, canales_app: FastAPI, fake_api: FakeApi
) -> None:
    seed_catalog(canales_app)
    conversacion = [
        ("¿tienen taladros?", "Taladro percutor 750W"),
        ("quiero dos del primero", "119.80 €"),
        ("Me llamo Ana García, ana.garcia@example.com", "Confirma"),
        ("sí, confirmo", "Pedido realizado"),
    ]
    for n, (texto, esperado) in enumerate(conversacion, start=1):
        assert enviar_wa(wa, wa_payload(texto, wamid=f"wamid.COMPRA{n}")).status_code == 200
        respuestas = _respuestas(fake_api, n)
        assert esperado in respuestas[-1], respuestas[-1]
    # Meta re-sends the confirmation: still one order.
    enviar_wa(wa, wa_payload("sí, confirmo", wamid="wamid.COMPRA4"))
    canales_app.state.canales.trabajador.pasada()
    with canales_app.state.session_factory() as session:
        from agente_vendedor.ventas.models import Venta

        ventas = session.query(Venta).all()
        assert len(ventas) == 1
        assert str(ventas[0].total) == "119.80"
        cliente = session.get(Cliente, ventas[0].cliente_id)
        assert cliente is not None and cliente.email == "ana.garcia@example.com"
        assert cliente.telefono == f"+{NUMERO}"  # the verified number came with the chat
    peticion = fake_api.enviados("/messages")[0]
    assert peticion.path == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert peticion.headers["Authorization"] == f"Bearer {WA_TOKEN}"
    assert peticion.body["messaging_product"] == "whatsapp"
    assert peticion.body["to"] == NUMERO
    assert peticion.body["type"] == "text"
    assert len(fake_api.enviados("/messages")) == 4
    resumen = wa.get("/rag/chats", params={"canal": "whatsapp"}, headers=_staff(canales_app))
    assert resumen.status_code == 200
    assert [c["canal"] for c in resumen.json()] == ["whatsapp"]
    assert wa.get("/rag/chats", params={"canal": "telegram"}, headers=_staff(canales_app)).json() == []


def _staff(app: FastAPI) -> dict[str, str]:
    from agente_vendedor.auth.models import Usuario
    from agente_vendedor.core.security import create_access_token

    with app.state.session_factory.begin() as session:
        usuario = session.query(Usuario).filter_by(email="personal@tienda.example.com").one_or_none()
        if usuario is None:
            usuario = Usuario(email="personal@tienda.example.com", password_hash="x", rol="vendedor", activo=True)
            session.add(usuario)
            session.flush()
        user_id = usuario.id
    token = create_access_token(
        user_id=user_id, rol="vendedor", secret=app.state.settings.SECRET_KEY, expires_minutes=5
    )
    return {"Authorization": f"Bearer {token}"}


def test_graph_api_outage_loses_no_reply(wa: TestClient, canales_app: FastAPI, fake_api: FakeApi) -> None:
    fake_api.caida = True
    assert enviar_wa(wa, wa_payload("hola", wamid="wamid.CAIDA1")).status_code == 200
    esperar(lambda: len(fake_api.intentos("/messages")) >= 3, que="varios reintentos durante la caída")
    fila = salientes(canales_app)[0]
    assert fila.estado == "pendiente" and fila.intentos >= 2 and "503" in (fila.ultimo_error or "")
    metricas = wa.get("/metrics").text
    assert 'canal_envios_fallidos_total{canal="whatsapp",motivo="reintento"}' in metricas
    fake_api.caida = False
    esperar(lambda: fake_api.enviados("/messages"), que="la entrega tras volver la API")
    esperar(lambda: salientes(canales_app)[0].estado == "enviado", que="la fila marcada como enviada")
    assert len(fake_api.enviados("/messages")) == 1
    chat = contacto(canales_app, NUMERO).chat_id
    assert mensajes(canales_app, chat)[-1].entrega == "enviado"
    assert 'canal_mensajes_total{canal="whatsapp",direccion="saliente"}' in wa.get("/metrics").text


def test_replies_keep_their_order_through_an_outage(wa: TestClient, canales_app: FastAPI, fake_api: FakeApi) -> None:
    fake_api.caida = True
    for n, texto in enumerate(("hola", "¿tienen cafeteras?", "gracias"), start=1):
        enviar_wa(wa, wa_payload(texto, wamid=f"wamid.ORDEN{n}"))
    esperar(lambda: contar(canales_app, CanalSaliente) == 3, que="tres respuestas en cola")
    esperar(lambda: len(fake_api.intentos("/messages")) >= 2, que="reintentos")
    # Only the oldest is retried while the API is down: the others wait behind it.
    assert {p.body["text"]["body"] for p in fake_api.intentos("/messages")} == {salientes(canales_app)[0].texto}
    fake_api.caida = False
    _respuestas(fake_api, 3)
    assert fake_api.textos() == [f.texto for f in salientes(canales_app)]


def test_24_hour_window_staff_reply_is_held_and_surfaced(
    wa: TestClient, canales_app: FastAPI, fake_api: FakeApi
) -> None:
    enviar_wa(wa, wa_payload("hola", wamid="wamid.VENTANA1"))
    _respuestas(fake_api, 1)
    chat = contacto(canales_app, NUMERO).chat_id
    staff = _staff(canales_app)
    dentro = wa.post(f"/rag/chats/{chat}/mensajes", json={"texto": "Hola, soy Marta, de la tienda"}, headers=staff)
    assert dentro.status_code == 201 and dentro.json()["entrega"] == "pendiente"
    esperar(lambda: "Hola, soy Marta, de la tienda" in fake_api.textos(), que="la respuesta del personal")
    with canales_app.state.session_factory.begin() as session:
        session.execute(
            update(CanalContacto)
            .where(CanalContacto.externo_id == NUMERO)
            .values(ultimo_entrante=utcnow() - timedelta(hours=25))
        )
    fuera = wa.post(f"/rag/chats/{chat}/mensajes", json={"texto": "¿Sigue interesado?"}, headers=staff)
    assert fuera.status_code == 201
    assert fuera.json()["entrega"] == "fuera_de_ventana"
    canales_app.state.canales.trabajador.pasada()
    assert "¿Sigue interesado?" not in [p.body["text"]["body"] for p in fake_api.intentos("/messages")]
    historial = wa.get(f"/rag/chats/{chat}", headers=staff).json()["historial"]
    assert historial[-1]["texto"] == "¿Sigue interesado?" and historial[-1]["entrega"] == "fuera_de_ventana"
    assert historial[-2]["entrega"] == "enviado"
    # When the customer writes again the window reopens: the next staff reply goes out.
    enviar_wa(wa, wa_payload("sí, aquí estoy", wamid="wamid.VENTANA2"))

    def ventana_abierta() -> bool:
        ultimo = contacto(canales_app, NUMERO).ultimo_entrante
        return ultimo is not None and ultimo > utcnow() - timedelta(hours=1)

    esperar(ventana_abierta, que="ventana")
    de_nuevo = wa.post(f"/rag/chats/{chat}/mensajes", json={"texto": "Perfecto, le preparo el pedido"}, headers=staff)
    assert de_nuevo.json()["entrega"] == "pendiente"
    esperar(lambda: "Perfecto, le preparo el pedido" in fake_api.textos(), que="la respuesta tras reabrirse")


def test_a_queued_reply_that_outlives_the_window_is_not_sent(
    wa: TestClient, canales_app: FastAPI, fake_api: FakeApi
) -> None:
    fake_api.caida = True
    enviar_wa(wa, wa_payload("hola", wamid="wamid.CADUCA1"))
    esperar(lambda: fake_api.intentos("/messages"), que="un intento fallido")
    with canales_app.state.session_factory.begin() as session:
        session.execute(update(CanalContacto).values(ultimo_entrante=utcnow() - timedelta(hours=24, minutes=1)))
    fake_api.caida = False
    esperar(lambda: salientes(canales_app)[0].estado == "fuera_de_ventana", que="la respuesta retenida")
    assert fake_api.enviados("/messages") == []
    staff = _staff(canales_app)
    chats = wa.get("/rag/chats", params={"canal": "whatsapp"}, headers=staff).json()
    assert chats[0]["estado"] == "requiere_humano"  # surfaced to staff
    cola = wa.get("/canales/salientes", params={"estado": "fuera_de_ventana"}, headers=staff)
    assert cola.status_code == 200 and cola.headers["X-Total-Count"] == "1"
    assert cola.json()[0]["chat_id"] == chats[0]["chat_id"]


def test_graph_api_re_engagement_error_is_recorded_as_outside_the_window(
    wa: TestClient, canales_app: FastAPI, fake_api: FakeApi
) -> None:
    fake_api.respuesta = lambda path, body: (400, {"error": {"message": "Re-engagement message", "code": 131047}})
    enviar_wa(wa, wa_payload("hola", wamid="wamid.REENGAGE1"))
    esperar(lambda: salientes(canales_app) and salientes(canales_app)[0].estado == "fuera_de_ventana", que="131047")
    assert len(fake_api.intentos("/messages")) == 1  # a permanent refusal is not retried


def test_staff_takeover_is_relayed_on_whatsapp(wa: TestClient, canales_app: FastAPI, fake_api: FakeApi) -> None:
    enviar_wa(wa, wa_payload("quiero hablar con una persona", wamid="wamid.HUMANO1"))
    _respuestas(fake_api, 1)
    chat = contacto(canales_app, NUMERO).chat_id
    staff = _staff(canales_app)
    assert wa.patch(f"/rag/chats/{chat}", json={"ia_activa": False}, headers=staff).status_code == 200
    enviar_wa(wa, wa_payload("¿hay alguien?", wamid="wamid.HUMANO2"))
    esperar(lambda: len(mensajes(canales_app, chat)) == 3, que="el mensaje guardado")
    canales_app.state.canales.trabajador.pasada()
    assert len(fake_api.enviados("/messages")) == 1  # the agent stays silent while a person attends
    r = wa.post(f"/rag/chats/{chat}/mensajes", json={"texto": "Hola, soy Marta. ¿En qué le ayudo?"}, headers=staff)
    assert r.status_code == 201
    textos = _respuestas(fake_api, 2)
    assert textos[-1] == "Hola, soy Marta. ¿En qué le ayudo?"
    assert fake_api.enviados("/messages")[-1].body["to"] == NUMERO


def test_returning_customer_is_recognised_by_number_and_name(
    wa: TestClient, canales_app: FastAPI, fake_api: FakeApi
) -> None:
    with canales_app.state.session_factory.begin() as session:
        for nombre, email, telefono in (
            ("Ana García", "ana@example.com", "+34 600 111 222"),
            ("Pedro Ruiz", "pedro@example.com", "600 999 888"),
        ):
            datos = ClienteCreate(nombre=nombre, email=email, telefono=telefono)
            clientes_service.create(session=session, datos=datos)
    enviar_wa(wa, wa_payload("hola", numero="34600111222", nombre="Ana García", wamid="wamid.ID1"))
    # Same number on file, but WhatsApp's profile name does not match: not linked (anyone can type a phone).
    enviar_wa(wa, wa_payload("hola", numero="34600999888", nombre="Laura Gómez", wamid="wamid.ID2"))
    _respuestas(fake_api, 2)
    with canales_app.state.session_factory() as session:
        ana = session.query(Conversacion).filter_by(chat_id=contacto(canales_app, "34600111222").chat_id).one()
        otra = session.query(Conversacion).filter_by(chat_id=contacto(canales_app, "34600999888").chat_id).one()
        ana_id = session.query(Cliente.id).filter_by(email="ana@example.com").scalar()
        assert ana.cliente_id == ana_id
        assert otra.cliente_id is None
    # Writing again days later continues the same conversation (same chat, same customer).
    enviar_wa(wa, wa_payload("¿tienen cafeteras?", numero="34600111222", nombre="Ana García", wamid="wamid.ID3"))
    _respuestas(fake_api, 3)
    assert contar(canales_app, Conversacion) == 2
    assert contar(canales_app, CanalContacto) == 2


def test_non_text_messages_get_a_polite_reply_and_statuses_are_ignored(
    wa: TestClient, canales_app: FastAPI, fake_api: FakeApi
) -> None:
    assert enviar_wa(wa, wa_payload(None, tipo="image", wamid="wamid.IMG1")).status_code == 200
    assert "solo puedo leer mensajes de texto" in _respuestas(fake_api, 1)[0]
    statuses = {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"value": {"statuses": [{"id": "wamid.X", "status": "delivered"}]}}]}],
    }
    r = enviar_wa(wa, statuses)
    assert r.status_code == 200 and r.json()["nuevos"] == 0
    assert contar(canales_app, CanalEntrante) == 1


def test_hostile_payloads_never_give_a_500(wa: TestClient, canales_app: FastAPI, fake_api: FakeApi) -> None:
    raros: list[object] = [
        [],
        "texto",
        123,
        None,
        {"entry": "no es una lista"},
        {"entry": [1, None, "x", {"changes": {"value": 1}}]},
        {"entry": [{"changes": [{"value": {"messages": [1, None, {"id": 5}, {"id": "w", "from": "abc"}]}}]}]},
        {
            "entry": [
                {
                    "changes": [
                        {
                            "value": {
                                "metadata": {"phone_number_id": PHONE_NUMBER_ID},
                                "messages": [{"id": "wamid.T", "from": "34600", "type": "text", "text": {"body": 123}}],
                            }
                        }
                    ]
                }
            ]
        },
        {
            "entry": [
                {
                    "changes": [
                        {
                            "value": {
                                "metadata": {"phone_number_id": {"x": 1}},
                                "messages": [
                                    {
                                        "id": "wamid.N",
                                        "from": "34600111333",
                                        "type": "text",
                                        "text": {"body": "hola\u0000 con NUL"},
                                        "timestamp": "9" * 40,
                                    }
                                ],
                            }
                        }
                    ]
                }
            ]
        },
        {**wa_payload("hola", wamid="wamid.EXTRA"), "campo_nuevo": {"a": [1, 2]}},
        {
            "entry": [
                {
                    "changes": [
                        {
                            "value": {
                                "messages": [
                                    {"id": "x" * 300, "from": "34600111444", "type": "text", "text": {"body": "hola"}}
                                ]
                            }
                        }
                    ]
                }
            ]
        },
        json.loads("[" * 50 + "]" * 50),
    ]
    for payload in raros:
        r = enviar_wa(wa, payload)
        assert r.status_code == 200, (payload, r.text)
    for cuerpo in (b"{no es json", b"\xff\xfe", b"", b"[" * 100_000 + b"]" * 100_000):
        r = enviar_wa(wa, cuerpo)
        assert r.status_code in (400, 413), (cuerpo[:20], r.status_code, r.text)
    grande = b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    assert enviar_wa(wa, grande).status_code == 413
    # Two replies go out; the third has no business number to leave from (its metadata was garbage): failed, surfaced.
    esperar(
        lambda: sorted(f.estado for f in salientes(canales_app)) == ["enviado", "enviado", "fallido"],
        que="respuestas a los mensajes válidos",
    )
    with canales_app.state.session_factory() as session:
        textos = [e.texto for e in session.query(CanalEntrante).order_by(CanalEntrante.id)]
    assert "hola con NUL" in textos  # control characters removed, not a 500 from PostgreSQL
    assert contar(canales_app, CanalEntrante) == 3


def test_channels_off_answer_404(anon_client: TestClient) -> None:
    assert anon_client.get("/canales/whatsapp/webhook", params={"hub.mode": "subscribe"}).status_code == 404
    assert anon_client.post("/canales/whatsapp/webhook", json={}).status_code == 404
    assert anon_client.post("/canales/telegram/webhook", json={}).status_code == 404
    assert anon_client.get("/canales/salientes").status_code == 404
