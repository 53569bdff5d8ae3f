"""Request and response bodies for tokens and users."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from agente_vendedor.core.schemas import CleanStr, Email, PartialUpdate

Rol = Literal["admin", "vendedor"]
Password = Annotated[str, Field(min_length=10, max_length=128, description="Entre 10 y 128 caracteres")]


class Token(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Segundos de validez")


class UsuarioCreate(BaseModel):
    """Data to create a staff user."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    rol: Rol = "vendedor"
    nombre: Annotated[CleanStr, Field(min_length=2, max_length=100)] | None = None


class UsuarioUpdate(PartialUpdate):
    """Partial update of a user."""

    NOT_NULL = ("password", "rol", "activo")

    password: Password | None = None
    rol: Rol | None = None
    activo: bool | None = None
    nombre: Annotated[CleanStr, Field(min_length=2, max_length=100)] | None = None


class UsuarioResponse(BaseModel):
    """A user as the API shows it (never the hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    nombre: str | None
    rol: Rol
    activo: bool
    fecha_creacion: datetime
    ultimo_acceso: datetime | None
