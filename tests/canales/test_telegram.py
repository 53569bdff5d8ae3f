"""Telegram: secret header, dedupe on update_id, /start, replies through the queue, takeover, configurar-webhook."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from agente_vendedor.canales.models import CanalEntrante
from agente_vendedor.cli import app as cli
from agente_vendedor.settings import get_settings
from tests.canales.conftest import (
    TG_SECRET,
    TG_TOKEN,
    FakeApi,
    contacto,
    contar,
    enviar_tg,
    esperar,
    mensajes,
    tg_update,
)
from tests.canales.test_whatsapp import _staff
from tests.rag.conftest import seed_catalog

CHAT = 555001


def _respuestas(fake: FakeApi, n: int) -> list[str]:
    return list(esperar(lambda: (t := fake.textos("/sendMessage")) and len(t) >= n and t, que=f"{n} respuestas"))


def test_wrong_or_missing_secret_is_401_and_stores_nothing(wa: TestClient, canales_app: FastAPI) -> None:
    for secreto in (None, "", "otro-secreto", TG_SECRET + "x", TG_SECRET[:-1]):
        r = enviar_tg(wa, tg_update("hola"), secreto=secreto)
        assert r.status_code == 401, secreto
    assert contar(canales_app, CanalEntrante) == 0


def test_start_and_text_are_answered_once_per_update(wa: TestClient, canales_app: FastAPI, fake_api: FakeApi) -> None:
    seed_catalog(canales_app)
    assert enviar_tg(wa, tg_update("/start", update_id=1)).status_code == 200
    saludo = _respuestas(fake_api, 1)[0]
    assert "Hola" in saludo or "Buenas" in saludo
    peticion = fake_api.enviados("/sendMessage")[0]
    assert peticion.path == f"/bot{TG_TOKEN}/sendMessage"
    assert peticion.body["chat_id"] == str(CHAT)
    update = tg_update("¿tienen taladros?", update_id=2)
    for _ in range(3):  # Telegram retries a delivery it thinks failed
        assert enviar_tg(wa, update).status_code == 200
    assert "Taladro percutor 750W" in _respuestas(fake_api, 2)[-1]
    canales_app.state.canales.trabajador.pasada()
    assert len(fake_api.enviados("/sendMessage")) == 2
    assert contar(canales_app, CanalEntrante) == 2
    staff = _staff(canales_app)
    chats = wa.get("/rag/chats", params={"canal": "telegram"}, headers=staff).json()
    assert len(chats) == 1 and chats[0]["canal"] == "telegram"


def test_staff_takeover_is_relayed_on_telegram(wa: TestClient, canales_app: FastAPI, fake_api: FakeApi) -> None:
    enviar_tg(wa, tg_update("hola"))
    _respuestas(fake_api, 1)
    chat_id = contacto(canales_app, str(CHAT)).chat_id
    r = wa.post(
        f"/rag/chats/{chat_id}/mensajes", json={"texto": "Soy Marta, de la tienda"}, headers=_staff(canales_app)
    )
    assert r.status_code == 201 and r.json()["entrega"] == "pendiente"
    assert _respuestas(fake_api, 2)[-1] == "Soy Marta, de la tienda"
    esperar(lambda: mensajes(canales_app, chat_id)[-1].entrega == "enviado", que="la entrega registrada")
    enviar_tg(wa, tg_update("vale, gracias"))
    esperar(lambda: len(mensajes(canales_app, chat_id)) == 4, que="el mensaje del cliente guardado")
    canales_app.state.canales.trabajador.pasada()
    assert len(fake_api.enviados("/sendMessage")) == 2  # a person attends: the agent does not answer


def test_non_text_groups_and_hostile_updates(wa: TestClient, canales_app: FastAPI, fake_api: FakeApi) -> None:
    assert enviar_tg(wa, tg_update(None)).status_code == 200  # a photo
    assert "solo puedo leer mensajes de texto" in _respuestas(fake_api, 1)[0]
    grupo = tg_update("hola")
    grupo["message"]["chat"]["type"] = "group"
    raros: list[object] = [
        grupo,
        {"update_id": "1", "message": {}},
        {"update_id": True, "message": tg_update("x")["message"]},
        {"update_id": 2**70, "message": tg_update("x")["message"]},
        {"update_id": 7, "edited_message": tg_update("x")["message"]},
        {"update_id": 8, "message": {"chat": {"id": "abc", "type": "private"}, "text": "x"}},
        {"update_id": 9, "message": {"chat": {"id": 1, "type": "private"}, "text": ["x"]}},
        [],
        None,
        "x",
    ]
    for payload in raros:
        assert enviar_tg(wa, payload).status_code == 200, payload
    for cuerpo in (b"{", b"\xff", b""):
        assert enviar_tg(wa, cuerpo).status_code == 400
    # Only the photo and the private chat with a list as text (a non-text message) were stored.
    assert contar(canales_app, CanalEntrante) == 2


def test_cli_set_webhook_calls_telegram_with_the_secret(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_api.reset()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TG_TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", TG_SECRET)
    monkeypatch.setenv("TELEGRAM_API_URL", fake_api.url)
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(
            cli, ["telegram", "configurar-webhook", "https://tienda.example.com/canales/telegram/webhook"]
        )
        assert r.exit_code == 0, r.output
        peticion = fake_api.enviados("/setWebhook")[0]
        assert peticion.path == f"/bot{TG_TOKEN}/setWebhook"
        assert peticion.body["url"] == "https://tienda.example.com/canales/telegram/webhook"
        assert peticion.body["secret_token"] == TG_SECRET
        fake_api.respuesta = lambda path, body: (400, {"ok": False, "description": "Bad Request: bad webhook"})
        r = CliRunner().invoke(cli, ["telegram", "configurar-webhook", "https://x.example.com/"])
        assert r.exit_code == 1 and "bad webhook" in r.output
        monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
        monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET")
        get_settings.cache_clear()
        r = CliRunner().invoke(cli, ["telegram", "configurar-webhook", "https://x.example.com/"])
        assert r.exit_code == 2
    finally:
        fake_api.reset()
        get_settings.cache_clear()
