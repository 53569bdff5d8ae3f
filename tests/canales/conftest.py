"""Fixtures for the channels: a local fake of the Graph API and the Bot API (real HTTP on loopback), an app with
WhatsApp and Telegram on, signed webhook deliveries, and a bounded wait for conditions (never a timing assertion)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agente_vendedor.agente.models import Conversacion, Mensaje
from agente_vendedor.canales.models import CanalContacto, CanalSaliente
from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings
from tests.conftest import _wipe
from tests.rag.conftest import reset_index

APP_SECRET = "secreto-de-la-app-de-pruebas"
VERIFY_TOKEN = "token-de-verificacion-de-pruebas"
WA_TOKEN = "EAAG-token-de-pruebas"
TG_TOKEN = "123456:token-del-bot"
TG_SECRET = "secreto-del-webhook-de-pruebas"
PHONE_NUMBER_ID = "1098765432"


@dataclass
class Peticion:
    """One request the fake API received."""

    path: str
    headers: dict[str, str]
    body: Any
    status: int


@dataclass
class FakeApi:
    """A small HTTP server playing the Graph API and the Bot API: it records every request and can be 'down'."""

    peticiones: list[Peticion] = field(default_factory=list)
    caida: bool = False
    respuesta: Callable[[str, Any], tuple[int, Any]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def reset(self) -> None:
        """Forget requests and come back up."""
        with self.lock:
            self.peticiones.clear()
            self.caida = False
            self.respuesta = None

    def responder(self, path: str, body: Any) -> tuple[int, Any]:
        """What the real API would answer."""
        if self.caida:
            return 503, {"error": {"message": "Service temporarily unavailable", "code": 2}}
        if self.respuesta is not None:
            return self.respuesta(path, body)
        n = next(self._ids)
        if path.endswith("/messages"):
            return 200, {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.SALIENTE{n}"}]}
        if path.endswith("/sendMessage"):
            return 200, {"ok": True, "result": {"message_id": n}}
        if path.endswith("/setWebhook"):
            return 200, {"ok": True, "result": True, "description": "Webhook was set"}
        return 404, {"error": "no existe"}

    def enviados(self, sufijo: str) -> list[Peticion]:
        """Requests to a path ending in `sufijo` that the fake accepted (2xx)."""
        with self.lock:
            return [p for p in self.peticiones if p.path.endswith(sufijo) and 200 <= p.status < 300]

    def intentos(self, sufijo: str) -> list[Peticion]:
        """Every request to a path ending in `sufijo`, accepted or not."""
        with self.lock:
            return [p for p in self.peticiones if p.path.endswith(sufijo)]

    def textos(self, sufijo: str = "/messages") -> list[str]:
        """The texts delivered (WhatsApp `text.body` or Telegram `text`)."""
        salida = []
        for p in self.enviados(sufijo):
            salida.append(p.body["text"]["body"] if sufijo == "/messages" else p.body["text"])
        return salida


def _handler(fake: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            with fake.lock:
                status, respuesta = fake.responder(self.path, body)
                fake.peticiones.append(Peticion(self.path, dict(self.headers.items()), body, status))
            data = json.dumps(respuesta).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="session")
def fake_api() -> Iterator[FakeApi]:
    """The fake APIs on a free loopback port."""
    fake = FakeApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def canales_settings(settings: Settings, fake_url: str, **extra: Any) -> Settings:
    """The test settings with WhatsApp and Telegram on, pointed at the fake, with short retry delays."""
    valores: dict[str, Any] = {
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_TOKEN": WA_TOKEN,
        "WHATSAPP_API_URL": fake_url + "/v21.0",
        "TELEGRAM_BOT_TOKEN": TG_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
        "TELEGRAM_API_URL": fake_url,
        "CANALES_REINTENTO_SEGUNDOS": 0.05,
        "CANALES_REINTENTO_MAX_SEGUNDOS": 0.2,
        "CANALES_MAX_INTENTOS": 100,
        "CANALES_INTERVALO_SEGUNDOS": 0.2,
        "CANALES_HTTP_TIMEOUT_SEGUNDOS": 5,
    }
    valores.update(extra)
    datos = settings.model_dump()
    datos.update(valores)
    return Settings(_env_file=None, **datos)


@pytest.fixture(scope="session")
def canales_app(settings: Settings, fake_api: FakeApi, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """An app with every channel on (own vector index folder), one per backend."""
    chroma = tmp_path_factory.mktemp("chroma-canales")
    return create_app(canales_settings(settings, fake_api.url, CHROMA_PERSIST_DIRECTORY=chroma))


@pytest.fixture
def wa(canales_app: FastAPI, fake_api: FakeApi) -> Iterator[TestClient]:
    """A client of the channels app (its lifespan runs the queue worker); database and fake reset afterwards."""
    fake_api.reset()
    reset_index(canales_app)
    with TestClient(canales_app) as client:
        yield client
    fake_api.reset()
    reset_index(canales_app)
    _wipe(canales_app)


def firmar(cuerpo: bytes, secreto: str = APP_SECRET) -> str:
    """The X-Hub-Signature-256 header Meta would send."""
    return "sha256=" + hmac.new(secreto.encode(), cuerpo, hashlib.sha256).hexdigest()


_wamids = itertools.count(1)


def wa_payload(
    texto: str | None = "hola",
    *,
    numero: str = "34600111222",
    nombre: str = "Ana García",
    wamid: str | None = None,
    tipo: str = "text",
    timestamp: int | None = None,
) -> dict[str, Any]:
    """A WhatsApp Cloud API delivery with one customer message."""
    mensaje: dict[str, Any] = {
        "from": numero,
        "id": wamid or f"wamid.ENTRANTE{next(_wamids)}",
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "type": tipo,
    }
    if tipo == "text":
        mensaje["text"] = {"body": texto}
    elif tipo == "image":
        mensaje["image"] = {"id": "IMG1", "mime_type": "image/jpeg"}
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "34911000000", "phone_number_id": PHONE_NUMBER_ID},
                            "contacts": [{"profile": {"name": nombre}, "wa_id": numero}],
                            "messages": [mensaje],
                        },
                    }
                ],
            }
        ],
    }


def enviar_wa(client: TestClient, payload: Any, *, firma: str | None = None) -> Any:
    """POST a delivery signed as Meta signs it (or with the given signature header)."""
    cuerpo = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": firma or firmar(cuerpo)}
    return client.post("/canales/whatsapp/webhook", content=cuerpo, headers=headers)


_updates = itertools.count(1000)


def tg_update(texto: str | None = "hola", *, chat_id: int = 555001, update_id: int | None = None) -> dict[str, Any]:
    """A Telegram update with a private message."""
    mensaje: dict[str, Any] = {
        "message_id": 1,
        "from": {"id": chat_id, "is_bot": False, "first_name": "Luis"},
        "chat": {"id": chat_id, "type": "private", "first_name": "Luis"},
        "date": int(time.time()),
    }
    if texto is not None:
        mensaje["text"] = texto
    else:
        mensaje["photo"] = [{"file_id": "F1", "width": 10, "height": 10}]
    return {"update_id": update_id if update_id is not None else next(_updates), "message": mensaje}


def enviar_tg(client: TestClient, payload: Any, *, secreto: str | None = TG_SECRET) -> Any:
    """POST an update as Telegram does (with the secret header unless None)."""
    headers = {"Content-Type": "application/json"}
    if secreto is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secreto
    cuerpo = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post("/canales/telegram/webhook", content=cuerpo, headers=headers)


def esperar(condicion: Callable[[], Any], *, timeout: float = 30.0, que: str = "la condición") -> Any:
    """Poll until the condition holds (bounded): the worker runs in the background, tests never sleep-and-assert."""
    limite = time.monotonic() + timeout
    while True:
        valor = condicion()
        if valor:
            return valor
        if time.monotonic() > limite:
            raise AssertionError(f"no se cumplió {que} en {timeout} s")
        time.sleep(0.05)


def contar(app: FastAPI, modelo: type[Any], *condiciones: Any) -> int:
    """Rows of a table (optionally filtered)."""
    with app.state.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(modelo).where(*condiciones)) or 0)


def salientes(app: FastAPI) -> list[CanalSaliente]:
    """The outbound queue, oldest first."""
    with app.state.session_factory() as session:
        rows = list(session.scalars(select(CanalSaliente).order_by(CanalSaliente.id)).all())
        session.expunge_all()
        return rows


def contacto(app: FastAPI, externo_id: str) -> CanalContacto:
    """A sender's contact row."""
    session: Session
    with app.state.session_factory() as session:
        row = session.scalars(select(CanalContacto).where(CanalContacto.externo_id == externo_id)).one()
        session.expunge(row)
        return row


def mensajes(app: FastAPI, chat_id: str) -> list[Mensaje]:
    """A conversation's messages in order."""
    with app.state.session_factory() as session:
        rows = list(
            session.scalars(
                select(Mensaje).join(Conversacion).where(Conversacion.chat_id == chat_id).order_by(Mensaje.id)
            ).all()
        )
        session.expunge_all()
        return rows
