"""Wiring of the channels into the app: routes for what is configured, the widget's CORS, the queue worker."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from agente_vendedor.agente.service import Generador
from agente_vendedor.canales import router
from agente_vendedor.canales.config import CanalesConfig
from agente_vendedor.canales.envio import Trabajador
from agente_vendedor.rag.runtime import Rag

WIDGET_API = "/canales/web/"


class Canales:
    """The channels of one app: the background worker runs only when WhatsApp or Telegram is configured."""

    def __init__(
        self, *, config: CanalesConfig, session_factory: sessionmaker[Session], rag: Rag | None, llm: Generador | None
    ) -> None:
        self.config = config
        self.trabajador = Trabajador(session_factory=session_factory, config=config, rag=rag, llm=llm)

    @property
    def activo(self) -> bool:
        """Whether a messaging channel (and so the outbound queue) is on."""
        return self.config.whatsapp_enabled or self.config.telegram_enabled

    def start(self) -> None:
        """Start the worker at app start-up; it first finishes what a previous run left pending."""
        if self.activo:
            self.trabajador.start()

    def stop(self) -> None:
        """Stop the worker at shutdown (queued work stays in the database)."""
        self.trabajador.stop()

    def despertar(self) -> None:
        """Process now instead of at the next interval."""
        self.trabajador.despertar()


class WidgetCORS:
    """CORS for the widget's API from `WIDGET_ORIGINS` (the shops' sites), apart from the staff API's CORS_ORIGINS.

    The Origin header is hidden from the app-wide CORS middleware on these paths so only this policy answers.
    """

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            self._sin_origen,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            allow_credentials=False,
            max_age=600,
        )

    async def _sin_origen(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in scope.get("headers", []) if k != b"origin"]
        await self.app({**scope, "headers": headers}, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(WIDGET_API):
            await self.cors(scope, receive, send)
            return
        await self.app(scope, receive, send)


def install(
    app: FastAPI, config: CanalesConfig, *, staff: list[Any], responses: dict[int | str, dict[str, Any]]
) -> None:
    """Mount what is configured; a channel that is off has no routes at all (404)."""
    if config.WIDGET_ENABLED:
        app.include_router(router.widget_files)
        app.include_router(router.web_router, responses=responses)
    if config.whatsapp_enabled:
        app.include_router(router.whatsapp_router, responses=responses)
    if config.telegram_enabled:
        app.include_router(router.telegram_router, responses=responses)
    if config.whatsapp_enabled or config.telegram_enabled:
        app.include_router(router.staff_router, responses=responses, dependencies=staff)
