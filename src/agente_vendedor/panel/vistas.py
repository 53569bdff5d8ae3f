"""Rendering for the panel: templates, the page CSP, form validation with per-field messages, small formatters."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from agente_vendedor.core.errors import validation_errors
from agente_vendedor.panel import sesion

HERE = Path(__file__).parent
STATIC = HERE / "static"
# Only our own files: no inline script or style anywhere in the panel (htmx is told not to inject its style).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
PAGINA = 25

M = TypeVar("M", bound=BaseModel)


def dinero(valor: Decimal | int | float | None) -> str:
    """Money the Spanish way: `1.234,50 €`."""
    if valor is None:
        return "—"
    texto = f"{Decimal(valor):,.2f}"
    return texto.replace(",", "\x00").replace(".", ",").replace("\x00", ".") + " €"


def fecha(valor: datetime | None, con_hora: bool = True) -> str:
    """A UTC timestamp as `dd/mm/aaaa hh:mm`."""
    if valor is None:
        return "—"
    return valor.strftime("%d/%m/%Y %H:%M" if con_hora else "%d/%m/%Y")


templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["dinero"] = dinero
templates.env.filters["fecha"] = fecha
templates.env.globals["CSRF_FIELD"] = sesion.CSRF_FIELD
templates.env.globals["urlencode"] = lambda params: urlencode({k: v for k, v in params.items() if v not in (None, "")})


def render(
    request: Request, plantilla: str, contexto: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """Render a panel template with the page's CSP."""
    response = templates.TemplateResponse(request, plantilla, contexto or {}, status_code=status_code)
    secure_page(response)
    return response


def secure_page(response: Response) -> None:
    """The panel's CSP, and no caching of pages that hold personal data."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers.setdefault("Cache-Control", "no-store")


def texto(form: FormData, nombre: str) -> str | None:
    """A text field of the form, stripped; None when absent or empty."""
    valor = form.get(nombre)
    if not isinstance(valor, str) or not valor.strip():
        return None
    return valor


def campos(form: FormData, nombres: tuple[str, ...]) -> dict[str, Any]:
    """The named text fields that were filled in (an empty field counts as not given)."""
    return {nombre: valor for nombre in nombres if (valor := texto(form, nombre)) is not None}


def validar(modelo: type[M], datos: dict[str, Any]) -> tuple[M | None, dict[str, str]]:
    """Validate with the API's schema; on failure, the API's Spanish message for each field."""
    try:
        return modelo.model_validate(datos), {}
    except ValidationError as exc:
        errores: dict[str, str] = {}
        for error in validation_errors(exc.errors()):
            errores.setdefault(error.campo.split(".")[0], error.mensaje)
        return None, errores


def pagina_actual(valor: str | None) -> int:
    """A 1-based page number from the query string; anything odd is page 1."""
    if valor and valor.isdigit():
        return max(1, min(int(valor), 100_000))
    return 1
