"""The panel's route class: domain errors, bad parameters and missing sessions become pages, not JSON."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import RedirectResponse, Response

from agente_vendedor.core.errors import AppError, validation_errors
from agente_vendedor.core.routing import DbRoute
from agente_vendedor.panel.exceptions import SesionRequerida
from agente_vendedor.panel.vistas import render, secure_page

LOGIN = "/panel/entrar"


def _to_login(request: Request) -> Response:
    siguiente = request.url.path if request.method == "GET" else "/panel/"
    destino = f"{LOGIN}?siguiente={quote(siguiente)}"
    if request.headers.get("HX-Request"):
        # htmx follows this header with a full page load instead of swapping the login page into a fragment.
        return Response(status_code=401, headers={"HX-Redirect": destino})
    return RedirectResponse(destino, status_code=303)


class PanelRoute(DbRoute):
    """A DbRoute whose errors render as panel pages (the session has already rolled back when they arrive)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler to turn errors into pages and give every answer the panel's CSP."""
        handler = super().get_route_handler()

        async def panel_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except SesionRequerida:
                return _to_login(request)
            except RequestValidationError as exc:
                errores = [f"{e.campo}: {e.mensaje}" for e in validation_errors(exc.errors())]
                return render(request, "error.html", {"titulo": "Datos no válidos", "errores": errores}, 422)
            except AppError as exc:
                page = render(
                    request, "error.html", {"titulo": exc.message, "errores": [], "codigo": exc.code}, exc.status_code
                )
                for name, value in (exc.headers or {}).items():
                    if name.lower() != "www-authenticate":
                        page.headers[name] = value
                return page
            secure_page(response)
            return response

        return panel_handler
