"""One error family and the handlers that render every error as `{"detail", "code"}` in Spanish."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = structlog.stdlib.get_logger("agente_vendedor.errors")


class AppError(Exception):
    """A domain error with the HTTP status it maps to and a Spanish message for the user."""

    status_code: int = 400
    code: str = "error"
    headers: dict[str, str] | None = None
    extra: dict[str, Any] | None = None  # more fields for the body, e.g. a per-row report

    def __init__(self, message: str, *, status_code: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        if code is not None:
            self.code = code


class NotFoundError(AppError):
    """The requested resource does not exist."""

    status_code = 404
    code = "no_encontrado"


class ConflictError(AppError):
    """The request clashes with the current state (duplicates, stock, transitions)."""

    status_code = 409
    code = "conflicto"


class UnauthorizedError(AppError):
    """No valid credentials were presented."""

    status_code = 401
    code = "no_autenticado"
    headers = {"WWW-Authenticate": "Bearer"}


class ForbiddenError(AppError):
    """The user is known but their role does not allow this."""

    status_code = 403
    code = "prohibido"


class ErrorResponse(BaseModel):
    """Body of every error answer."""

    detail: str
    code: str


class ErrorCampo(BaseModel):
    """One invalid field of a request."""

    campo: str
    ubicacion: str
    mensaje: str


class ValidationErrorResponse(ErrorResponse):
    """Body of a 422 answer: a summary plus one entry per invalid field (none for a domain rule)."""

    errores: list[ErrorCampo] = []


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": ValidationErrorResponse, "description": "Datos de entrada no válidos"},
}

_MESSAGES: dict[str, str] = {
    "missing": "es obligatorio",
    "string_too_short": "debe tener al menos {min_length} caracteres",
    "string_too_long": "debe tener como máximo {max_length} caracteres",
    "string_type": "debe ser un texto",
    "string_pattern_mismatch": "tiene un formato no válido",
    "int_parsing": "debe ser un número entero",
    "int_type": "debe ser un número entero",
    "int_from_float": "debe ser un número entero",
    "float_parsing": "debe ser un número",
    "float_type": "debe ser un número",
    "bool_parsing": "debe ser verdadero o falso",
    "bool_type": "debe ser verdadero o falso",
    "decimal_parsing": "debe ser un número decimal",
    "decimal_type": "debe ser un número decimal",
    "decimal_max_places": "admite como máximo {decimal_places} decimales",
    "decimal_max_digits": "admite como máximo {max_digits} dígitos",
    "decimal_whole_digits": "admite como máximo {whole_digits} dígitos enteros",
    "finite_number": "debe ser un número finito",
    "greater_than": "debe ser mayor que {gt}",
    "greater_than_equal": "debe ser mayor o igual que {ge}",
    "less_than": "debe ser menor que {lt}",
    "less_than_equal": "debe ser menor o igual que {le}",
    "literal_error": "debe ser uno de: {expected}",
    "enum": "debe ser uno de: {expected}",
    "datetime_parsing": "debe ser una fecha y hora válida (ISO 8601)",
    "datetime_from_date_parsing": "debe ser una fecha y hora válida (ISO 8601)",
    "datetime_type": "debe ser una fecha y hora válida (ISO 8601)",
    "date_parsing": "debe ser una fecha válida (AAAA-MM-DD)",
    "date_from_datetime_parsing": "debe ser una fecha válida (AAAA-MM-DD)",
    "json_invalid": "el cuerpo no es un JSON válido",
    "json_type": "debe ser JSON",
    "dict_type": "debe ser un objeto JSON",
    "model_attributes_type": "debe ser un objeto JSON",
    "model_type": "debe ser un objeto JSON",
    "list_type": "debe ser una lista",
    "too_short": "debe tener al menos {min_length} elementos",
    "too_long": "debe tener como máximo {max_length} elementos",
    "extra_forbidden": "no es un campo permitido",
    "uuid_parsing": "debe ser un UUID válido",
    "string_unicode": "debe ser texto UTF-8 válido",
}


def _field_name(loc: Sequence[int | str]) -> tuple[str, str]:
    """Split pydantic's location into where (`body`, `query`...) and a readable field path."""
    where = str(loc[0]) if loc else "body"
    if len(loc) > 1 and isinstance(loc[1], int):  # a body that is not the expected JSON object at all
        return where, "cuerpo"
    path = ""
    for part in loc[1:]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return where, path or where


def _spanish_message(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        reason = ctx.get("error")
        return str(reason) if reason is not None else str(error.get("msg", "valor no válido"))
    if kind in ("too_short", "too_long") and ctx.get("field_type") not in ("List", "Tuple", "Set", "Dictionary"):
        kind = "string_" + kind  # length constraints on annotated text report as generic sequences
    template = _MESSAGES.get(kind)
    if template is None:
        return "valor no válido"
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "no puede estar vacío"
    if "expected" in ctx:  # pydantic joins the choices with an English "or"
        ctx = {**ctx, "expected": str(ctx["expected"]).replace(" or ", " o ")}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template


def validation_errors(errors: Sequence[Any]) -> list[ErrorCampo]:
    """Turn pydantic errors into Spanish per-field messages."""
    result = []
    for error in errors:
        where, field = _field_name(tuple(error.get("loc", ())))
        result.append(ErrorCampo(campo=field, ubicacion=where, mensaje=_spanish_message(error)))
    return result


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))


_HTTP_MESSAGES = {
    400: ("La petición no se pudo interpretar: el cuerpo debe ser JSON válido en UTF-8", "solicitud_invalida"),
    401: ("No autenticado", "no_autenticado"),
    403: ("No tiene permiso para esta operación", "prohibido"),
    404: ("Recurso no encontrado", "no_encontrado"),
    405: ("Método no permitido en esta ruta", "metodo_no_permitido"),
    413: ("La petición es demasiado grande", "peticion_demasiado_grande"),
    415: ("Tipo de contenido no soportado", "tipo_no_soportado"),
}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the same Spanish shape."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        body = {"detail": exc.message, "code": exc.code, **(exc.extra or {})}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errores = validation_errors(exc.errors())
        resumen = "; ".join(f"'{e.campo}' {e.mensaje}" for e in errores[:5])
        body = ValidationErrorResponse(detail=f"Datos no válidos: {resumen}", code="validacion", errores=errores)
        return JSONResponse(body.model_dump(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        default_message, code = _HTTP_MESSAGES.get(exc.status_code, ("Error en la solicitud", "error_http"))
        # Only the framework raises HTTPException (our code raises AppError): its English details become Spanish.
        return JSONResponse({"detail": default_message, "code": code}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = _request_id(request)
        # This handler runs outside the request-id middleware (Starlette calls it outermost): bind the id here.
        logger.exception("error_no_controlado", method=request.method, path=request.url.path, request_id=request_id)
        return JSONResponse(
            {
                "detail": f"Error interno del servidor. Referencia: {request_id}",
                "code": "error_interno",
                "request_id": request_id,
            },
            status_code=500,
            headers={"X-Request-ID": request_id},
        )


def error_responses(*documented: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the domain errors a route may answer with: `(status, description)` pairs."""
    return {status: {"model": ErrorResponse, "description": description} for status, description in documented}
