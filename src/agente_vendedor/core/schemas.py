"""Reusable pydantic field types with Spanish validation messages."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Self

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from agente_vendedor.core.text import has_control_chars


def _clean_text(value: object) -> object:
    """Strip surrounding spaces and refuse control characters (NUL breaks PostgreSQL)."""
    if isinstance(value, str):
        if has_control_chars(value):
            raise ValueError("contiene caracteres de control no permitidos")
        return value.strip()
    return value


def _valid_email(value: str) -> str:
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError("no es un correo electrónico válido") from exc
    return result.normalized.lower()


def _valid_phone(value: str) -> str:
    allowed = set("0123456789 +-()")
    if not set(value) <= allowed:
        raise ValueError("solo admite dígitos, espacios, '+', '-' y paréntesis")
    if not 7 <= len(value) <= 20:
        raise ValueError("debe tener entre 7 y 20 caracteres")
    if sum(ch.isdigit() for ch in value) < 7:
        raise ValueError("debe contener al menos 7 dígitos")
    return value


CleanStr = Annotated[str, BeforeValidator(_clean_text)]
"""A text stripped of surrounding spaces and free of control characters."""

Email = Annotated[
    str,
    BeforeValidator(_clean_text),
    Field(max_length=100, json_schema_extra={"format": "email"}, examples=["ana.garcia@example.com"]),
    AfterValidator(_valid_email),
]
"""An e-mail address, validated and stored in lower case so uniqueness ignores case."""

Telefono = Annotated[
    str,
    BeforeValidator(_clean_text),
    Field(max_length=20, examples=["+34 600 123 456"]),
    AfterValidator(_valid_phone),
]
"""A phone number: digits, spaces, `+`, `-`, parentheses; 7 to 20 characters."""


def _two_decimals(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


Dinero = Annotated[
    Decimal, Field(ge=0, max_digits=10, decimal_places=2, examples=["59.90"]), AfterValidator(_two_decimals)
]
"""An amount of money: non-negative, at most 2 decimals, fits `Numeric(10, 2)`."""


class PartialUpdate(BaseModel):
    """Base of PATCH bodies: only the fields sent change, and those in `NOT_NULL` may change but never be null."""

    model_config = ConfigDict(extra="forbid")
    NOT_NULL: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _required_not_null(self) -> Self:
        """Refuse an explicit null for a required column, naming it."""
        for field in self.NOT_NULL:
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"'{field}' no puede ser nulo")
        return self


_MIN_FECHA = datetime(1900, 1, 1, tzinfo=UTC)
_MAX_FECHA = datetime(9999, 12, 30, tzinfo=UTC)


def _utc(value: datetime) -> datetime:
    """Naive datetimes are UTC; every date must fall between 1900 and 9999 once in UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError("está fuera del rango admitido (1900-9999)") from exc
    if not _MIN_FECHA <= value <= _MAX_FECHA:
        raise ValueError("está fuera del rango admitido (1900-9999)")
    return value


FechaUTC = Annotated[datetime, AfterValidator(_utc), Field(examples=["2026-11-26T00:00:00Z"])]
