"""Settings: the spec's variable names, safe production defaults."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from agente_vendedor.core.config import DEFAULT_SECRET_KEY
from agente_vendedor.settings import Settings


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def test_defaults_run_embedded_without_any_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "ENVIRONMENT", "OPENAI_API_KEY", "SECRET_KEY", "CORS_ORIGINS"):
        monkeypatch.delenv(name, raising=False)
    settings = _settings()
    assert settings.sqlalchemy_url == "sqlite:///./data/agente_vendedor.db"
    assert settings.OPENAI_API_KEY is None
    assert settings.MAX_EXPORT_RECORDS == 50_000
    assert "*" not in settings.cors_origins


def test_environment_variables_use_the_spec_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://user:pass@db:5432/agente")
    monkeypatch.setenv("MAX_EXPORT_RECORDS", "1000")
    monkeypatch.setenv("EXPORT_DIRECTORY", "/srv/exports")
    monkeypatch.setenv("CORS_ORIGINS", "https://tienda.example.com, https://admin.example.com")
    settings = _settings()
    assert settings.sqlalchemy_url == "postgresql+psycopg://user:pass@db:5432/agente"
    assert settings.MAX_EXPORT_RECORDS == 1000
    assert str(settings.EXPORT_DIRECTORY) == "/srv/exports"
    assert settings.cors_origins == ["https://tienda.example.com", "https://admin.example.com"]


def test_env_file_is_read(tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAX_EXPORT_RECORDS", raising=False)
    env = tmp_path / ".env"  # type: ignore[operator]
    env.write_text("MAX_EXPORT_RECORDS=123\nDEMO_DATA=false\n", encoding="utf-8")
    settings = Settings(_env_file=env)
    assert settings.MAX_EXPORT_RECORDS == 123
    assert settings.DEMO_DATA is False


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        _settings(ENVIRONMENT="production", SECRET_KEY=DEFAULT_SECRET_KEY)
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        _settings(ENVIRONMENT="production", SECRET_KEY="corta")
    ok = _settings(ENVIRONMENT="production", SECRET_KEY="x" * 40)
    assert ok.cors_origins == []


def test_production_refuses_open_cors() -> None:
    with pytest.raises(ValidationError, match="CORS_ORIGINS"):
        _settings(ENVIRONMENT="production", SECRET_KEY="x" * 40, CORS_ORIGINS="*")
