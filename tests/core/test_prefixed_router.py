"""`PrefixedRouter` declines paths without its prefix early and changes no routing decision."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Match

from agente_vendedor.core.routing import PrefixedRouter
from agente_vendedor.main import create_app
from agente_vendedor.settings import Settings


def _app(**include: Any) -> FastAPI:
    router = PrefixedRouter(prefix="/clientes")

    @router.get("/")
    def listar() -> str:
        return "lista"

    @router.get("/{cliente_id}")
    def obtener(cliente_id: int) -> int:
        return cliente_id

    otros = PrefixedRouter(prefix="/otros")

    @otros.get("/clientes/{cliente_id}")
    def otro(cliente_id: int) -> str:
        return f"otro {cliente_id}"

    app = FastAPI()
    app.include_router(router, **include)
    app.include_router(otros, **include)
    return app


def test_routes_match_as_with_a_plain_router() -> None:
    client = TestClient(_app())
    assert client.get("/clientes/7").json() == 7
    assert client.get("/clientes/").json() == "lista"
    assert client.get("/otros/clientes/7").json() == "otro 7"  # the prefix inside another path: still routed
    assert client.get("/clientes", follow_redirects=False).status_code == 307  # the trailing-slash redirect
    assert client.post("/clientes/7").status_code == 405  # a partial match (wrong method) is kept
    assert client.get("/productos/7").status_code == 404


def test_an_extra_prefix_at_include_time_still_routes() -> None:
    client = TestClient(_app(prefix="/v1"))
    assert client.get("/v1/clientes/7").json() == 7
    assert client.get("/v1/otros/clientes/7").json() == "otro 7"
    assert client.get("/clientes/7").status_code == 404


def test_a_path_without_the_prefix_is_declined_before_any_route_is_tried() -> None:
    router = PrefixedRouter(prefix="/clientes")
    tried: list[str] = []

    @router.get("/{cliente_id}")
    def obtener(cliente_id: int) -> int:
        return cliente_id

    route = router.routes[0]
    original = route.matches

    def spy(scope: Any) -> Any:
        tried.append(scope["path"])
        return original(scope)

    route.matches = spy  # type: ignore[method-assign]
    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    assert client.get("/productos/1").status_code == 404
    assert tried == []
    assert client.get("/clientes/1").json() == 1
    assert tried  # the router's own paths do reach its routes


def test_a_prefix_with_a_parameter_is_matched_by_fastapi_as_usual() -> None:
    router = PrefixedRouter(prefix="/tiendas/{tienda}")

    @router.get("/clientes")
    def clientes(tienda: str) -> str:
        return tienda

    app = FastAPI()
    app.include_router(router)
    assert TestClient(app).get("/tiendas/centro/clientes").json() == "centro"
    assert router.matches({"type": "http", "path": "/otra", "root_path": ""})[0] == Match.NONE


def _chosen(app: FastAPI, method: str, path: str) -> object:
    """The endpoint FastAPI's routing picks for a request (None for no full match), without running it."""
    scope: dict[str, Any] = {"type": "http", "path": path, "root_path": "", "method": method, "headers": []}
    for route in app.router.routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            inner = getattr(route, "_match", None)
            return inner(scope)[2].endpoint if inner else getattr(route, "endpoint", route)
    return None


def test_the_service_routes_every_documented_request_as_without_the_shortcut(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each operation in /openapi.json (ids filled in) reaches the same endpoint with and without the early decline."""
    settings = Settings(DATABASE_URL=f"sqlite:///{tmp_path / 'rutas.db'}", DATA_DIRECTORY=tmp_path)
    app = create_app(settings)
    requests = [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]
    requests += [("GET", "/no-existe"), ("GET", "/panel/clientes"), ("GET", "/docs"), ("GET", "/metrics")]
    with_shortcut = [_chosen(app, method, path) for method, path in requests]
    monkeypatch.setattr(PrefixedRouter, "_literal_prefix", property(lambda self: False))
    without_shortcut = [_chosen(app, method, path) for method, path in requests]
    assert with_shortcut == without_shortcut
    assert len(requests) > 40
    assert sum(chosen is not None for chosen in with_shortcut) == len(requests) - 1  # only /no-existe is unrouted
