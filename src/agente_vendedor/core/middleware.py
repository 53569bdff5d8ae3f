"""ASGI middleware: a request id on every request and response."""

from __future__ import annotations

import itertools
import json
import os
import re
import time

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agente_vendedor.core.logging import HotLogger

_access_log = HotLogger("agente_vendedor.http")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class _RequestIds:
    """32 hex characters: a random prefix per process and a counter (uuid4 costs a getrandom call per request)."""

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        """A new prefix, so a forked worker never repeats its parent's ids."""
        self._prefix = os.urandom(10).hex()
        self._counter = itertools.count(1)

    def new(self) -> str:
        """The next id."""
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFF:012x}"


_request_ids = _RequestIds()


class RequestIdMiddleware:
    """Accept a sane `X-Request-ID` or make one; bind it to every log line; log one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if incoming and _VALID_ID.match(incoming) else _request_ids.new()
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                if "x-request-id" not in headers:
                    headers.append("X-Request-ID", request_id)
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                _access_log.get().info(
                    "peticion",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    duration_ms=round((time.perf_counter() - start) * 1000, 2),
                    usuario=scope["state"].get("usuario"),
                )


_TOO_LARGE_BODY = json.dumps(
    {"detail": "La petición es demasiado grande", "code": "peticion_demasiado_grande"}, ensure_ascii=False
).encode()


class BodySizeLimitMiddleware:
    """Refuse bodies over `max_bytes` (per-path overrides allowed) with 413, by header or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int, overrides: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = overrides or {}

    def _limit(self, path: str) -> int:
        return next((size for prefix, size in self.overrides.items() if path.startswith(prefix)), self.max_bytes)

    async def _reject(self, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(_TOO_LARGE_BODY)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": _TOO_LARGE_BODY})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        declared = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                declared = int(value) if value.isdigit() else limit + 1
        if declared is not None:
            # The server enforces Content-Length, so the declared size is the real one.
            if declared > limit:
                await self._reject(send)
                return
            await self.app(scope, receive, send)
            return
        # Chunked body: read it up to the limit before the app sees it, then replay it.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._reject(send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    """Standard hardening headers; the docs page gets a CSP that lets Swagger UI run from our own files."""

    def __init__(self, app: ASGIApp, docs_paths: tuple[str, ...] = ("/docs", "/static/")) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"].startswith(self.docs_paths) else API_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Content-Security-Policy", csp)
            await send(message)

        await self.app(scope, receive, send_with_headers)
