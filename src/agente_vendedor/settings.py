"""The service's settings: core's knobs and each feature's own, composed into the one object the app reads.

`core.config.Settings` holds the plumbing's knobs (database, search, LLM, security, limits); a feature with knobs of
its own declares them in its package (`canales.config.CanalesConfig`). The composition happens here, next to
`main.py` and `cli.py`, because `core/` never imports a feature package. The environment variables, the `.env` file
and the start-up validation are those of the parts: a bad value in any of them stops the service from starting.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from agente_vendedor.canales.config import CanalesConfig
from agente_vendedor.core import config as core_config


class Settings(core_config.Settings, CanalesConfig):
    """Every knob of the service, read once from the environment and an optional `.env` file."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
