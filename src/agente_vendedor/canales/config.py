"""Settings of the customer channels (web widget, WhatsApp, Telegram); `agente_vendedor.settings` composes them."""

from __future__ import annotations

import json
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode

from agente_vendedor.canales.horario import Horario, parse_horario

WHATSAPP_VARS = ("WHATSAPP_VERIFY_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_TOKEN")
TELEGRAM_VARS = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET")


class CanalesConfig(BaseSettings):
    """Channel knobs; with none of a channel's secrets set, that channel is off and its routes answer 404."""

    WIDGET_ENABLED: bool = True
    WIDGET_ORIGINS: Annotated[list[str], NoDecode] = []
    HORARIO_ATENCION: str = ""
    ZONA_HORARIA: str = "Europe/Madrid"

    WHATSAPP_VERIFY_TOKEN: str | None = None
    WHATSAPP_APP_SECRET: str | None = None
    WHATSAPP_TOKEN: str | None = None
    WHATSAPP_PHONE_NUMBER_ID: str | None = None
    WHATSAPP_API_URL: str = "https://graph.facebook.com/v21.0"

    TELEGRAM_BOT_TOKEN: str | None = None
    TELEGRAM_WEBHOOK_SECRET: str | None = None
    TELEGRAM_API_URL: str = "https://api.telegram.org"

    CANALES_MAX_INTENTOS: int = Field(default=10, ge=1, le=100)
    CANALES_REINTENTO_SEGUNDOS: float = Field(default=5.0, gt=0, le=3600)
    CANALES_REINTENTO_MAX_SEGUNDOS: float = Field(default=900.0, gt=0, le=86_400)
    CANALES_INTERVALO_SEGUNDOS: float = Field(default=5.0, gt=0, le=3600)
    CANALES_HTTP_TIMEOUT_SEGUNDOS: float = Field(default=10.0, gt=0, le=120)

    @field_validator("WIDGET_ORIGINS", mode="before")
    @classmethod
    def _split_widget_origins(cls, value: object) -> object:
        """Comma-separated list or JSON list, as CORS_ORIGINS."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [origin.strip().rstrip("/") for origin in text.split(",") if origin.strip()]
        return value

    @field_validator("HORARIO_ATENCION")
    @classmethod
    def _valid_horario(cls, value: str) -> str:
        """Fail at start-up on a schedule that cannot be read."""
        parse_horario(value)
        return value

    @field_validator("ZONA_HORARIA")
    @classmethod
    def _valid_zone(cls, value: str) -> str:
        """An IANA zone such as Europe/Madrid."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"zona horaria desconocida {value!r} (p. ej. Europe/Madrid; instale tzdata)") from exc
        return value

    @field_validator("WHATSAPP_API_URL", "TELEGRAM_API_URL")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        """An http(s) base URL, kept without the trailing slash."""
        if not value.startswith(("https://", "http://")):
            raise ValueError("debe empezar por https:// (o http:// para un servidor local de pruebas)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _complete_channels(self) -> CanalesConfig:
        """A channel is either fully configured or off: half a configuration is a start-up error, not a 500 later."""
        for nombre, variables in (("WhatsApp", WHATSAPP_VARS), ("Telegram", TELEGRAM_VARS)):
            faltan = [v for v in variables if not getattr(self, v)]
            if 0 < len(faltan) < len(variables):
                raise ValueError(f"{nombre} está configurado a medias: faltan {', '.join(faltan)}")
        return self

    @property
    def whatsapp_enabled(self) -> bool:
        """WhatsApp is on when its verify token, app secret and access token are set."""
        return all(getattr(self, v) for v in WHATSAPP_VARS)

    @property
    def telegram_enabled(self) -> bool:
        """Telegram is on when its bot token and webhook secret are set."""
        return all(getattr(self, v) for v in TELEGRAM_VARS)

    @property
    def horario(self) -> Horario:
        """The business hours, parsed."""
        return parse_horario(self.HORARIO_ATENCION, ZoneInfo(self.ZONA_HORARIA))
